/* SPDX-License-Identifier: ISC */
/*
 * One scheduler per account for `run`: a one-shot timer re-armed when a
 * refresh finishes, so one account never refreshes twice at once. Due
 * accounts refresh at start; afterwards every `cache` seconds with a little
 * jitter; failures back off exponentially with full jitter, capped, and
 * recover by themselves; an account that needs authorization stops until
 * the secrets file shows a new grant.
 */
#ifndef SCHEDULER_H
#define SCHEDULER_H

#include <uv.h>

struct cfg;
struct hook;
struct secrets;
struct store;
struct sync_engine;
struct sched;

struct sched_summary {
	int accounts, ok, error, needs_auth, running;
	int64_t next_at; /* earliest next refresh (unix seconds), or 0 */
};

/* Called after any account's state changed (for STATUS= lines). */
typedef void (*sched_change_cb)(void *arg);

/* 'hook' (may be NULL) runs after refreshes that changed rows. */
struct sched *sched_new(uv_loop_t *, struct sync_engine *, struct store *,
    struct secrets *, struct hook *, sched_change_cb, void *arg);
/* Stop every timer; memory goes in close callbacks. NULL-safe. */
void sched_free(struct sched *);

/*
 * Take the accounts of 'cfg': start new ones, stop removed ones (their rows
 * stay), and refresh changed ones soon. Call once at start and on reload.
 */
void sched_configure(struct sched *, const struct cfg *);

/* SIGUSR1: refresh every account that is not refreshing now. */
void sched_refresh_all(struct sched *);

/* The secrets file changed: resume accounts that have a new grant. */
void sched_secrets_changed(struct sched *);

void sched_summary(const struct sched *, struct sched_summary *);

#endif
