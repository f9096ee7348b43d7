/* SPDX-License-Identifier: ISC */
/*
 * One writer per mirror: `run` and `sync` hold an exclusive flock(2) on
 * "<database>.lock" for as long as they live, with their pid and command
 * inside so the next one can say who holds it. The kernel drops the lock when the
 * process dies, however it dies.
 */
#ifndef LOCK_H
#define LOCK_H

#include <stddef.h>
#include <sys/types.h>

/* Who holds the lock: pid 0 when unknown; role "" from an older version. */
struct lock_holder {
	pid_t pid;
	char role[16]; /* the command that holds it: "run", "sync", ... */
};

/*
 * Take the lock for 'database' as the command 'role' ("run", "sync",
 * ...: written beside the pid, so the next one can say who holds it and
 * what to do). Returns the lock fd (keep it open), or -1 with 'err' and
 * *holder filled in as far as it is known.
 */
int lock_take(const char *database, const char *role,
    struct lock_holder *holder, char *err, size_t errlen);

/*
 * Whether a process holds the lock of 'database', without taking it:
 * returns 1 (with *holder its pid, or 0 when unknown), 0 when nobody does
 * (or there is no lock file), -1 when the lock file cannot be opened.
 */
int lock_holder(const char *database, pid_t *holder);

#endif
