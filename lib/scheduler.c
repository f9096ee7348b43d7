/* SPDX-License-Identifier: ISC */
/*
 * The per-account schedulers of `run` (libuv fs-poll's pattern: a one-shot
 * timer re-armed on completion, state changes logged rather than every
 * tick). Each account is IDLE (its timer armed), RUNNING (a refresh in the
 * engine), or STOPPED (needs authorization; resumed by a new grant).
 */
#include <sys/queue.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "grant.h"
#include "hook.h"
#include "log.h"
#include "scheduler.h"
#include "secrets.h"
#include "filter.h"
#include "sha256.h"
#include "store.h"
#include "sync.h"
#include "util.h"

#define START_JITTER_MS 1000   /* spread of the refreshes at start */
#define JITTER_MAX_MS 60000    /* spread of the regular refreshes */
#define BACKOFF_BASE_MAX 60    /* seconds, first retry at most */
#define BACKOFF_CAP_MAX 3600   /* seconds, longest retry delay */

enum acct_state { A_IDLE, A_RUNNING, A_STOPPED };

struct acct {
	struct sched *s;
	uv_timer_t timer;
	struct cfg_account cfg;
	enum acct_state state;
	int failures;
	int removed;	      /* drop once the running refresh ends */
	int dirty;	      /* settings changed while running */
	char grant[2 * SHA256_LEN + 1]; /* hash of the tokens when stopped */
	int warned_days;      /* last refresh-token warning threshold */
	int last;	      /* enum account_state of the last result, or -1 */
	int64_t next_at;
	LIST_ENTRY(acct) entry;
};

struct sched {
	uv_loop_t *loop;
	struct sync_engine *engine;
	struct store *store;
	struct secrets *secrets;
	struct hook *hook;
	sched_change_cb changed;
	void *arg;
	LIST_HEAD(, acct) accts;
};

static void on_timer(uv_timer_t *);
static int grant_changed(struct acct *);

struct sched *
sched_new(uv_loop_t *loop, struct sync_engine *e, struct store *st,
    struct secrets *sec, struct hook *hook, sched_change_cb changed,
    void *arg)
{
	struct sched *s = xcalloc(1, sizeof(*s));

	s->hook = hook;
	s->loop = loop;
	s->engine = e;
	s->store = st;
	s->secrets = sec;
	s->changed = changed;
	s->arg = arg;
	LIST_INIT(&s->accts);
	return s;
}

static void
on_acct_close(uv_handle_t *h)
{
	free(container_of((uv_timer_t *)h, struct acct, timer));
}

static void
acct_drop(struct acct *a)
{
	LIST_REMOVE(a, entry);
	cfg_account_clear(&a->cfg);
	UV_OK(uv_timer_stop(&a->timer));
	uv_close((uv_handle_t *)&a->timer, on_acct_close);
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	while (!LIST_EMPTY(&s->accts))
		acct_drop(LIST_FIRST(&s->accts));
	free(s);
}

static struct acct *
find(struct sched *s, const char *name)
{
	struct acct *a;

	LIST_FOREACH(a, &s->accts, entry)
		if (strcmp(a->cfg.name, name) == 0)
			return a;
	return NULL;
}

/* Arm the timer to refresh in 'ms' and record when in the mirror. */
static void
arm(struct acct *a, int64_t ms)
{
	char err[ERRLEN];

	if (ms < 0)
		ms = 0;
	a->state = A_IDLE;
	a->next_at = now_unix() + (ms + 999) / 1000;
	UV_OK(uv_timer_start(&a->timer, on_timer, clock_timer_ms(ms), 0));
	if (store_account_next(a->s->store, a->cfg.name, a->next_at, err,
		sizeof(err)) == -1)
		log_warnx("%s: %s", a->cfg.name, err);
}

/* Spread regular refreshes by up to 5% of the interval, at most 60 s. */
static int64_t
jitter_ms(int64_t cache)
{
	int64_t span = cache * 1000 / 20;

	if (span > JITTER_MAX_MS)
		span = JITTER_MAX_MS;
	return span > 0 ? (int64_t)rand_below((uint64_t)span) : 0;
}

/*
 * Exponential backoff from a quarter of the interval (at most a minute),
 * capped by the interval and an hour.
 */
static int64_t
backoff_ms(const struct acct *a)
{
	int64_t base = a->cfg.cache / 4, cap = a->cfg.cache;

	if (base > BACKOFF_BASE_MAX)
		base = BACKOFF_BASE_MAX;
	if (base < 1)
		base = 1;
	if (cap > BACKOFF_CAP_MAX)
		cap = BACKOFF_CAP_MAX;
	return sync_backoff_ms(base * 1000, cap * 1000, a->failures - 1);
}

/* Warn 30, 7 and 1 days before the refresh token expires. */
static void
check_expiry(struct acct *a)
{
	static const int thresholds[] = {1, 7, 30};
	struct store_account row;
	int64_t left;
	size_t i;
	char *w;

	if (store_account_get(a->s->store, a->cfg.name, &row, NULL, 0) != 0)
		return;
	if (row.refresh_expires_at != STORE_NULL) {
		left = row.refresh_expires_at - now_unix();
		for (i = 0; i < nitems(thresholds); i++) {
			if (left > (int64_t)thresholds[i] * 86400)
				continue;
			if (a->warned_days > thresholds[i]) {
				a->warned_days = thresholds[i];
				w = grant_warning(a->cfg.name,
				    row.refresh_expires_at, now_unix());
				log_warnx("%s: the %s", a->cfg.name, w);
				free(w);
			}
			break;
		}
		if (left > GRANT_WARN_DAYS * 86400)
			a->warned_days = INT_MAX; /* renewed */
	}
	store_account_clear(&row);
}

static void
on_synced(const struct sync_result *r, void *arg)
{
	struct acct *a = arg;

	if (a->last != (int)r->state) {
		if (r->ok && a->last != -1)
			log_info("%s: refreshing again after %d failures",
			    a->cfg.name, a->failures);
		a->last = (int)r->state;
	}
	if (a->removed) {
		acct_drop(a);
		return;
	}
	check_expiry(a);
	if (r->ok) {
		a->failures = 0;
		if (sync_report(r, a->s->hook))
			hook_kick(a->s->hook);
		arm(a, a->dirty ? 0 : a->cfg.cache * 1000 + jitter_ms(a->cfg.cache));
	} else if (r->state == ACCOUNT_NEEDS_AUTH) {
		/*
		 * Stopped until `auth` writes a new grant: one other than the
		 * tokens this refresh ended with, which may already be there
		 * if `auth` ran while the refresh was failing.
		 */
		a->state = A_STOPPED;
		snprintf(a->grant, sizeof(a->grant), "%s", r->grant);
		if (grant_changed(a))
			arm(a, 0);
	} else {
		a->failures++;
		arm(a, a->dirty ? 0 : backoff_ms(a));
	}
	a->dirty = 0;
	if (a->s->changed != NULL)
		a->s->changed(a->s->arg);
}

/*
 * True when the secrets file holds another grant than the one the account
 * stopped with (every grant or refresh issues a new access token).
 */
static int
grant_changed(struct acct *a)
{
	struct tokens t;
	char grant[2 * SHA256_LEN + 1];
	int changed;

	if (secrets_get(a->s->secrets, a->cfg.name, &t, NULL, 0) != 0)
		return 0;
	sha256_hex(t.access_token, strlen(t.access_token), grant);
	tokens_clear(&t);
	changed = strcmp(grant, a->grant) != 0;
	if (changed) {
		log_info("%s: new authorization found; resuming", a->cfg.name);
		a->failures = 0;
	}
	return changed;
}

static void
start(struct acct *a)
{
	if (sync_account(a->s->engine, &a->cfg, on_synced, a) == -1) {
		arm(a, 1000); /* the engine still has it: look again soon */
		return;
	}
	a->state = A_RUNNING;
	if (a->s->changed != NULL)
		a->s->changed(a->s->arg);
}

static void
on_timer(uv_timer_t *t)
{
	start(container_of(t, struct acct, timer));
}

static int
same_settings(const struct cfg_account *x, const struct cfg_account *y)
{
	size_t i;

	if (x->nvideos != y->nvideos)
		return 0;
	for (i = 0; i < x->nvideos; i++)
		if (strcmp(x->videos[i].id, y->videos[i].id) != 0 ||
		    strcmp(x->videos[i].url, y->videos[i].url) != 0)
			return 0;
	return x->has_before == y->has_before &&
	    (!x->has_before || x->before_ms == y->before_ms) &&
	    x->start == y->start && x->quantity == y->quantity &&
	    x->cache == y->cache && filter_equal(x->filter, y->filter);
}

void
sched_configure(struct sched *s, const struct cfg *cfg)
{
	struct store_account row;
	struct acct *a, *next;
	int64_t now = now_unix(), due;
	size_t i;

	for (a = LIST_FIRST(&s->accts); a != NULL; a = next) {
		next = LIST_NEXT(a, entry);
		if (cfg_account(cfg, a->cfg.name) == NULL) {
			log_info("%s: no longer configured; its rows stay",
			    a->cfg.name);
			if (a->state == A_RUNNING)
				a->removed = 1;
			else
				acct_drop(a);
		}
	}
	for (i = 0; i < cfg->naccounts; i++) {
		const struct cfg_account *c = &cfg->accounts[i];

		a = find(s, c->name);
		if (a != NULL) {
			a->removed = 0; /* back before its refresh ended */
			if (same_settings(&a->cfg, c))
				continue;
			cfg_account_clear(&a->cfg);
			cfg_account_copy(&a->cfg, c);
			log_info("%s: settings changed; refreshing soon",
			    c->name);
			if (a->state == A_RUNNING)
				a->dirty = 1;
			else
				arm(a, (int64_t)rand_below(START_JITTER_MS));
			continue;
		}
		a = xcalloc(1, sizeof(*a));
		a->s = s;
		cfg_account_copy(&a->cfg, c);
		a->warned_days = INT_MAX;
		a->last = -1;
		UV_OK(uv_timer_init(s->loop, &a->timer));
		LIST_INSERT_HEAD(&s->accts, a, entry);
		due = 0;
		if (store_account_get(s->store, c->name, &row, NULL, 0) == 0) {
			if (row.next_sync_at != STORE_NULL &&
			    row.next_sync_at > now &&
			    row.last_success_at != STORE_NULL)
				due = (row.next_sync_at - now) * 1000;
			store_account_clear(&row);
		}
		arm(a, due + (int64_t)rand_below(START_JITTER_MS));
	}
}

void
sched_refresh_all(struct sched *s)
{
	struct acct *a;

	LIST_FOREACH(a, &s->accts, entry)
		if (a->state != A_RUNNING) {
			UV_OK(uv_timer_stop(&a->timer));
			start(a);
		}
}

void
sched_secrets_changed(struct sched *s)
{
	struct acct *a;

	LIST_FOREACH(a, &s->accts, entry)
		if (a->state == A_STOPPED && grant_changed(a))
			start(a);
}

void
sched_summary(const struct sched *s, struct sched_summary *sum)
{
	const struct acct *a;

	memset(sum, 0, sizeof(*sum));
	LIST_FOREACH(a, &s->accts, entry) {
		sum->accounts++;
		if (a->state == A_RUNNING)
			sum->running++;
		if (a->last == ACCOUNT_OK)
			sum->ok++;
		else if (a->last == ACCOUNT_NEEDS_AUTH || a->state == A_STOPPED)
			sum->needs_auth++;
		else if (a->last == ACCOUNT_ERROR)
			sum->error++;
		if (a->state == A_IDLE &&
		    (sum->next_at == 0 || a->next_at < sum->next_at))
			sum->next_at = a->next_at;
	}
}
