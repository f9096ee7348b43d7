/* SPDX-License-Identifier: ISC */
/*
 * The refresh engine shared by `sync` and `run`: refresh one account's
 * token when needed, list its videos page by page into the staging tables,
 * confirm deletions through video/query, fetch the covers and avatar it
 * lacks, and apply everything in one transaction (design.md, "Behaviour
 * that users rely on"). Every account refreshes concurrently on one libuv
 * loop within app.concurrency transfers and the shared per-endpoint rate
 * limit.
 */
#ifndef SYNC_H
#define SYNC_H

#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "store.h"

struct hook;
struct http;
struct secrets;
struct sync_engine;
struct sync_progress;

struct sync_opts {
	uv_loop_t *loop;
	const struct cfg *cfg; /* must outlive the engine's jobs */
	struct store *store;
	struct secrets *secrets;
	struct http *http;
	int force; /* apply a refresh that would delete over half */
	/*
	 * Dry run: list, confirm deletions and decide covers as usual, but
	 * download nothing and write nothing to the mirror, the covers folder
	 * or the metrics file; store_apply() computes the counts inside a
	 * transaction it rolls back. Tokens may still be refreshed, and are
	 * then saved to the secrets file (TikTok rotates refresh tokens).
	 */
	int dry_run;
	/* Called as a refresh moves on (may be NULL). */
	void (*progress)(const struct sync_progress *, void *arg);
	void *progress_arg;
};

/*
 * The steps of a refresh, in order (sync.c's opening comment says what
 * each does). A token refresh may also interrupt any API step and return
 * to it.
 */
enum sync_step {
	SYNC_START,  /* the job exists; nothing sent yet */
	SYNC_TOKEN,  /* refreshing the access token */
	SYNC_USER,   /* user/info */
	SYNC_LIST,   /* video/list pages */
	SYNC_OEMBED, /* a curated account: oEmbed, one listed video at a time */
	SYNC_QUERY,  /* video/query confirms deletions */
	SYNC_COVERS, /* cover downloads (and video/query for fresh URLs) */
	SYNC_AVATAR, /* the avatar download */
	SYNC_APPLY,  /* the transaction and the cover sweep */
};

/* The step's name, "start" ... "apply". */
const char *sync_step_name(enum sync_step);

/* Where a refresh is, for a progress display. */
struct sync_progress {
	const char *account;
	enum sync_step step;
	int64_t pages;	  /* video/list pages received */
	int64_t videos;	  /* kept videos listed so far */
	int64_t covers;	  /* covers downloaded (dry run: to download) */
	int64_t covers_active; /* downloads in flight */
	/* "wait": rate limited by TikTok until then (clock_now_ms() time) */
	int64_t wait_until_ms;
};

struct sync_result {
	const char *account;
	int ok;
	enum account_state state;
	const char *error; /* NULL when ok */
	struct store_counts counts;
	int64_t requests; /* API, token and cover requests made */
	int64_t covers;	  /* covers downloaded */
	int64_t cover_failures;
	int64_t videos; /* kept videos listed */
	int64_t hidden; /* listed videos the filters left out */
	int64_t run_id; /* its sync_runs row (0 if none) */
	/* SHA-256 hex of the access token the refresh ended with ("" if
	 * none): a different one in the secrets file is a newer grant. */
	char grant[65];
	int refreshed;	/* the access token was refreshed (and saved) */
	int avatar;	/* the avatar was downloaded (dry run: would be) */
	/* Dry run: one line per change, "kind id [fields]", and per video
	 * the filters leave out, "hidden id (why)"; or NULL. */
	const char *changes;
	int64_t nchanges; /* lines, some of which may have been left out */
};

/* Called once per sync_account(), from the loop, when the refresh ends. */
typedef void (*sync_done_cb)(const struct sync_result *, void *arg);

struct sync_engine *sync_new(const struct sync_opts *);
/*
 * Cancel every refresh (their callbacks are not called; nothing is
 * applied) and free the engine once the loop has closed its handles.
 * NULL-safe.
 */
void sync_free(struct sync_engine *);

/*
 * Start refreshing 'acct' (copied). Returns 0, or -1 when that account is
 * already refreshing.
 */
int sync_account(struct sync_engine *, const struct cfg_account *acct,
    sync_done_cb done, void *arg);

/*
 * Use 'cfg' from now on (a reloaded configuration with the same paths).
 * Refreshes in flight take its values from their next step; nothing keeps
 * a pointer into the old one, which the caller may then free.
 */
void sync_set_cfg(struct sync_engine *, const struct cfg *cfg);

/* True while 'name' is refreshing. */
int sync_busy(const struct sync_engine *, const char *name);

/*
 * A retry delay with jitter: 'base_ms' doubled 'n' times, at most 'cap_ms',
 * and of that bound a random half to all. Requests within a refresh and
 * the scheduler's refreshes after a failure back off alike.
 */
int64_t sync_backoff_ms(int64_t base_ms, int64_t cap_ms, int n);

/*
 * After a refresh that succeeded: its line in the log ("NAME: N videos (a
 * new, b updated, c deleted), d covers fetched, e requests", and how many
 * the filters left out) and, when it changed rows, a note for the
 * on_change hook 'h' (NULL: none). Returns 1 when something was noted (the
 * caller runs the hook when it wants), else 0. `sync` and `run` report
 * alike through this.
 */
int sync_report(const struct sync_result *, struct hook *h);

#endif
