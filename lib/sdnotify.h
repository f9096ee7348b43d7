/* SPDX-License-Identifier: ISC */
/*
 * The sd_notify protocol without libsystemd (sd_notify(3)): one datagram of
 * KEY=VALUE lines to the AF_UNIX socket named by $NOTIFY_SOCKET.
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <stdint.h>

/*
 * Send 'msg' (e.g. "READY=1\nSTATUS=3 accounts"). Returns 1 when sent, 0
 * when $NOTIFY_SOCKET is unset (not under systemd), or -errno.
 */
int sdnotify(const char *msg);

/*
 * The watchdog interval from $WATCHDOG_USEC when it is meant for this
 * process ($WATCHDOG_PID unset or ours). Returns 1 and sets *usec, else 0.
 */
int sdnotify_watchdog(uint64_t *usec);

#endif
