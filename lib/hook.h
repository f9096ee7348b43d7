/* SPDX-License-Identifier: ISC */
/*
 * The on_change hook (design.md, "Consumers"): after a refresh that changed
 * rows, run the configured command through /bin/sh -c with
 * TIKTOK_MIRROR_ACCOUNTS (space-separated names) and TIKTOK_MIRROR_NEW,
 * TIKTOK_MIRROR_UPDATED, TIKTOK_MIRROR_DELETED and TIKTOK_MIRROR_RUN_IDS
 * (space-separated sync_runs ids) in its environment. Never
 * two at once: changes while it runs coalesce into one more run. Its output
 * goes to the log; its failure is logged, never fatal.
 */
#ifndef HOOK_H
#define HOOK_H

#include <stdint.h>

#include <uv.h>

struct hook;

/* A hook for 'command' (copied; NULL: none for now) on 'loop'. */
struct hook *hook_new(uv_loop_t *loop, const char *command);
/* Replace the command (reload); NULL disables the hook. */
void hook_set_command(struct hook *, const char *command);
/*
 * Record that a refresh of 'account' changed rows; 'run_id' is its
 * sync_runs row (0: none), passed on in TIKTOK_MIRROR_RUN_IDS.
 */
void hook_note(struct hook *, const char *account, int64_t run_id,
    int64_t new, int64_t updated, int64_t deleted);
/* Run the command now if something was noted and it is not running. */
void hook_kick(struct hook *);
/*
 * Stop: a pending run is dropped, a running command is left to finish on
 * its own (it is not ours to kill), and the handles are closed. NULL-safe.
 */
void hook_free(struct hook *);

#endif
