/* SPDX-License-Identifier: ISC */
/*
 * The refresh engine. One job per account refresh walks these steps (enum
 * sync_step; job_enter() is the one door between them, logging each
 * transition), each driven by HTTP completions on the loop:
 *
 *   start    the accounts and sync_runs rows of the attempt
 *   token    refresh the access token ahead of expiry; a rotated refresh
 *            token is written durably before it is used (tiktok-api.md
 *            §5.1). An API step answered access_token_invalid refreshes
 *            once, then returns to that step
 *   user     user/info for open_id, display_name and the avatar's URL
 *   list     video/list pages (newest first, cursor in ms, at most 20),
 *            staged in the database as they arrive; paging stops once
 *            start - 1 + quantity videos are in hand or has_more is false
 *            (struct listing)
 *   query    live videos in the listed range that the listing did not
 *            return are confirmed missing through video/query
 *   covers   the covers this refresh lacks, several at once; an expired
 *            signed URL (403) gets a fresh one from video/query
 *            (struct cover_pass)
 *   avatar   the account's avatar, when it is new or missing
 *   apply    one transaction, then cover files no row names are removed
 *
 * A step with nothing to do (no token due, no candidate, no avatar to
 * fetch) is not entered. The covers half stays here: it calls job_fail()
 * and api_call(), and the engine calls it.
 *
 * A curated account (design.md, "Curated accounts") has no token, user or
 * list steps: its refresh asks oEmbed about each listed video in turn
 * (oembed), stages the answers in list order, treats a video refused on
 * two refreshes in a row as a confirmed deletion (the same guard applies),
 * then goes on with covers and apply like any other.
 *
 * API calls of one job are sequential; retries back off exponentially with
 * full jitter, and every data endpoint shares one rate limiter for the app.
 * Any failure leaves the mirrored rows as they were.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <fcntl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "covers.h"
#include "filter.h"
#include "grant.h"
#include "hook.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "oauth.h"
#include "oembed.h"
#include "ratelimit.h"
#include "secrets.h"
#include "sha256.h"
#include "sync.h"
#include "util.h"

#define MAX_ATTEMPTS 4		/* tries per API request within a refresh */
#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 30000
/*
 * TikTok counts calls per endpoint in a sliding one-minute window and
 * answers 429 without Retry-After (tiktok-api.md §4): such a 429 waits the
 * window out, for every account's calls to that endpoint, at most
 * RATE_WINDOWS_MAX times per request (another tool on the same client key
 * may hold the quota).
 */
#define RATE_WINDOW_MS 60000
#define RATE_WINDOWS_MAX 3
#define MAX_EMPTY_PAGES 50	/* has_more with nothing, in a row */
#define COVER_BATCH 16
#define API_TIMEOUT_MS 60000
#define COVER_TIMEOUT_MS 120000
#define TOKEN_LIFE_MIN 60 /* s: an access token that may be refreshed again */
#define REFRESH_MARGIN_MAX 3600 /* seconds before expiry to refresh */
/*
 * The archive rotation (README, "Rate budget"): a listing longer than
 * ROTATE_HEAD_PAGES pages re-reads those newest pages every refresh, then
 * ROTATE_WINDOW_PAGES pages of the deeper archive, going on where the
 * previous refresh stopped and wrapping at the end.
 */
#define ROTATE_HEAD_PAGES 10
#define ROTATE_WINDOW_PAGES 10
#define DRY_CHANGES_MAX (256 * 1024) /* bytes of a dry run's change list */

enum endpoint { EP_TOKEN, EP_USER, EP_LIST, EP_QUERY, EP_OEMBED, EP_COUNT };

/* Under api_url; oEmbed's URL is app.oembed_url with the video's. */
static const char *const ep_path[EP_COUNT] = {
	NULL, /* EP_TOKEN: lib/grant.c sends it (token_send()) */
	API_USER_INFO "?fields=" API_USER_FIELDS,
	API_VIDEO_LIST "?fields=" API_VIDEO_FIELDS,
	API_VIDEO_QUERY "?fields=" API_VIDEO_FIELDS,
	NULL,
};

/* How messages name the endpoints (no query: it only lists fields). */
static const char *const ep_name[EP_COUNT] = {
	"token refresh", "user/info", "video/list", "video/query", "oEmbed",
};

struct job;
typedef void (*job_fn)(struct job *);

/* A successful answer, as its handler gets it. */
struct reply {
	const struct http_response *r;
	const struct api_body *body;
	struct api_page page;	     /* video/list and video/query, decoded */
};
typedef void (*job_resp_fn)(struct job *, const struct reply *);

/* One API request of a job, kept so that it can be retried. */
struct api_call {
	enum endpoint ep;
	char *body;
	job_resp_fn ok;
	int attempts;
	int rate_waits; /* one-minute windows waited out for this call */
};

/* One image download: a cover, a repaired cover or the avatar. */
struct dl {
	struct job *job;
	struct http_xfer *xfer;
	int fd;
	char *tmpname;
	char id[21];  /* the video's id, or COVERS_AVATAR */
	int keep_old; /* the row has a cover file to fall back on */
	LIST_ENTRY(dl) entry;
};

/* The listing: video/list pages, and the deletions they imply. */
struct listing {
	/* 'seq' counts the videos staged, 'listed' those the filters keep
	 * (the listing 'start' counts in), 'hidden' the rest. */
	int64_t cursor, seq, kept, listed, hidden;
	int64_t min_created; /* oldest created_at listed in order */
	int64_t repeats;     /* videos listed again (pinned, cursor) */
	char filter_digest[FILTER_DIGEST_LEN + 1]; /* filter_digest() */
	int64_t pages; /* video/list pages received */
	int exhausted, empty_pages;
	/* Archive rotation: the head, then one window of the archive. */
	int rotating, window_pages, quota_reached;
	int64_t head_lo;      /* oldest created_at listed in the head */
	int64_t window_ms;    /* the window starts below this cursor */
	int64_t next_archive; /* where the next window starts (0: head) */
	/* Deletions. */
	int64_t live;
	int apply_deletions;
	/* A curated account: the next listed video to ask oEmbed about. */
	size_t vnext;
};

/* The covers and the avatar: what to fetch and what is in flight. */
struct cover_pass {
	int pass;
	char after[21]; /* the last id offered ("": none yet) */
	struct store_cover_item batch[COVER_BATCH];
	int nbatch, ibatch, batch_eof, done;
	int requeried; /* covers sent to video/query for a fresh URL */
	int expired;   /* some staged cover URL expired: look for them */
	/* Outcomes not yet written to the stage: one transaction for
	 * COVER_BATCH of them, not one per cover. 'rel' NULL: no cover. */
	struct {
		char id[21];
		char *rel;
	} staged[COVER_BATCH];
	int nstaged;
	LIST_HEAD(, dl) dls;
	int ndl;
	int dfd; /* the account's covers folder, open from the first look */
	int dir_missing; /* the folder was not there at the first look */
	int wrote;	 /* a file was written into it: syncfs at apply */
	/* The avatar: its signed URL from user/info, the URL path it came
	 * from, and its new file (relative to the covers folder), if any. */
	char *avatar_url, *avatar_src, *avatar_rel;
	/*
	 * Repair: covers of rows this refresh did not list (out of the kept
	 * slice, still live) whose file is missing or empty, fetched again
	 * through video/query, one at a time, at most API_PAGE_MAX a refresh.
	 */
	struct {
		char id[21];
		char *cover; /* the row's cover, relative to the covers folder */
		char *url;   /* a fresh signed URL, NULL until video/query */
	} repair[API_PAGE_MAX];
	int nrepair, irepair;
};

struct job {
	struct sync_engine *e;
	struct cfg_account acct;
	sync_done_cb done;
	void *arg;
	uv_timer_t timer; /* rate-limit waits and retry backoff */
	struct http_xfer *xfer;
	struct grant_call *grant; /* the token refresh in flight */
	struct api_call call;
	struct api_call saved; /* a call waiting for a token refresh */
	job_fn after_token;
	int finished;

	struct tokens tok;
	int refreshed; /* the access token was refreshed in this job */
	/* Why a refresh of this job got no answer ("" when none did). */
	char token_unconfirmed[128];
	char *open_id, *display_name;

	enum sync_step step;
	enum sync_step resume; /* the step a token refresh interrupted */
	struct listing list;
	struct cover_pass cov;
	int64_t wait_until; /* the rate window waited for (progress) */
	struct buf changes; /* dry run: the change list */

	int64_t run_id; /* sync_runs row, 0 when it could not be written */
	struct sync_result res;
	char error[ERRLEN];
	LIST_ENTRY(job) entry;
};

struct sync_engine {
	struct sync_opts o;
	struct ratelimit rl[EP_COUNT];
	int64_t rate_limit; /* what the limiters were sized for */
	int64_t oembed_rate_limit;
	int64_t retention_day; /* UTC day of the last retention pass */
	LIST_HEAD(, job) jobs;
	/* Per account since start: requests made (metrics) and whether its
	 * covers folder was swept. */
	char **names;
	int64_t *requests;
	int *swept;
	/*
	 * Per name: the failed state the database could not record (disk
	 * full, I/O error), else NULL. The metrics file shows it instead of
	 * the stale row, so a monitor never reads "ok" after a failure.
	 */
	const char **lost;
	size_t nnames;
};

static void step_user(struct job *);
static void list_next(struct job *);
static void list_start(struct job *);
static int query_range(struct job *, char *, size_t);
static int rotate(struct job *);
static void list_done(struct job *);
static void query_next(struct job *);
static void covers_start(struct job *, int pass);
static void covers_pump(struct job *);
static void requery_next(struct job *);
static void apply(struct job *);
static void repair_step(struct job *);
static void api_send(struct job *);
static void token_send(struct job *);
static void avatar_step(struct job *);

/* In the order of enum sync_step. */
static const char *const STEP_NAMES[] = {"start", "token", "user", "list",
    "oembed", "query", "covers", "avatar", "apply"};

const char *
sync_step_name(enum sync_step step)
{
	return (unsigned)step < nitems(STEP_NAMES) ? STEP_NAMES[step] : "?";
}

/*
 * The one door between steps (OpenSMTPD's mta_enter_state()): log the
 * transition and tell the progress display where the job is. Entering the
 * step the job is in only reports progress, as each page or batch does.
 */
static void
job_enter(struct job *j, enum sync_step step)
{
	const struct sync_progress p = {
		.account = j->acct.name,
		.step = step,
		.pages = j->list.pages,
		.videos = j->list.kept,
		.covers = j->res.covers,
		.covers_active = j->cov.ndl,
		.wait_until_ms = j->wait_until,
	};

	if (step != j->step)
		log_debug("%s: %s -> %s", j->acct.name, sync_step_name(j->step),
		    sync_step_name(step));
	j->step = step;
	if (j->e->o.progress != NULL)
		j->e->o.progress(&p, j->e->o.progress_arg);
}

/* Size the limiters: oEmbed has its own, gentler rate (lib/config.c). */
static void
limits_init(struct sync_engine *e, const struct cfg *cfg)
{
	int i;

	e->rate_limit = cfg->rate_limit;
	e->oembed_rate_limit = cfg->oembed_rate_limit;
	for (i = 0; i < EP_COUNT; i++)
		ratelimit_init(&e->rl[i], i == EP_OEMBED ? cfg->oembed_rate_limit
							 : cfg->rate_limit);
}

struct sync_engine *
sync_new(const struct sync_opts *o)
{
	struct sync_engine *e = xcalloc(1, sizeof(*e));

	e->o = *o;
	limits_init(e, o->cfg);
	LIST_INIT(&e->jobs);
	return e;
}

void
sync_set_cfg(struct sync_engine *e, const struct cfg *cfg)
{
	if (cfg->rate_limit != e->rate_limit ||
	    cfg->oembed_rate_limit != e->oembed_rate_limit)
		limits_init(e, cfg);
	e->o.cfg = cfg;
}

int
sync_busy(const struct sync_engine *e, const char *name)
{
	struct job *j;

	LIST_FOREACH(j, &e->jobs, entry)
		if (strcmp(j->acct.name, name) == 0)
			return 1;
	return 0;
}

static void
on_job_close(uv_handle_t *h)
{
	free(container_of((uv_timer_t *)h, struct job, timer));
}

/* Stop everything the job has in flight and release what it owns. */
static void
job_release(struct job *j)
{
	struct dl *d;
	int i;

	grant_cancel(j->grant);
	j->grant = NULL;
	if (j->xfer != NULL) {
		http_cancel(j->xfer);
		j->xfer = NULL;
	}
	while ((d = LIST_FIRST(&j->cov.dls)) != NULL) {
		LIST_REMOVE(d, entry);
		http_cancel(d->xfer);
		covers_discard(j->cov.dfd, d->fd, d->tmpname);
		free(d->tmpname);
		free(d);
	}
	for (i = j->cov.ibatch; i < j->cov.nbatch; i++)
		store_cover_item_clear(&j->cov.batch[i]);
	j->cov.nbatch = j->cov.ibatch = 0;
	for (i = 0; i < j->cov.nstaged; i++)
		free(j->cov.staged[i].rel);
	j->cov.nstaged = 0;
	free(j->call.body);
	free(j->saved.body);
	j->call.body = j->saved.body = NULL;
	for (i = 0; i < j->cov.nrepair; i++) {
		free(j->cov.repair[i].cover);
		free(j->cov.repair[i].url);
	}
	j->cov.nrepair = 0;
	if (j->cov.dfd != -1)
		close(j->cov.dfd);
	j->cov.dfd = -1;
	free(j->cov.avatar_url);
	free(j->cov.avatar_src);
	free(j->cov.avatar_rel);
	j->cov.avatar_url = j->cov.avatar_src = j->cov.avatar_rel = NULL;
	buf_free(&j->changes);
	tokens_clear(&j->tok);
	free(j->open_id);
	free(j->display_name);
	j->open_id = j->display_name = NULL;
	cfg_account_clear(&j->acct);
	LIST_REMOVE(j, entry);
	UV_OK(uv_timer_stop(&j->timer));
	uv_close((uv_handle_t *)&j->timer, on_job_close);
}

void
sync_free(struct sync_engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	while (!LIST_EMPTY(&e->jobs))
		job_release(LIST_FIRST(&e->jobs));
	for (i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->names);
	free(e->requests);
	free(e->swept);
	free(e->lost);
	free(e);
}

/* The index of 'name' in the engine's per-account counters, made if new. */
static size_t
acct_slot(struct sync_engine *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nnames; i++)
		if (strcmp(e->names[i], name) == 0)
			return i;
	e->names = xreallocarray(e->names, i + 1, sizeof(*e->names));
	e->requests = xreallocarray(e->requests, i + 1, sizeof(*e->requests));
	e->swept = xreallocarray(e->swept, i + 1, sizeof(*e->swept));
	e->lost = xreallocarray(e->lost, i + 1, sizeof(*e->lost));
	e->names[i] = xstrdup(name);
	e->requests[i] = 0;
	e->swept[i] = 0;
	e->lost[i] = NULL;
	e->nnames++;
	return i;
}

/* Count the job's requests and rewrite the metrics file, if any. */
static void
write_metrics(struct sync_engine *e, const struct sync_result *r)
{
	/* From EP_USER on, in the order of enum endpoint. */
	static const char *const eps[] = {"user_info", "video_list",
	    "video_query", "oembed"};
	struct metrics_counters mc;
	int64_t waits[nitems(eps)];
	char err[ERRLEN];
	size_t i;

	i = acct_slot(e, r->account);
	e->requests[i] += r->requests;
	if (r->ok)
		e->lost[i] = NULL; /* the database says "ok" again */
	if (e->o.cfg->metrics == NULL)
		return;
	memset(&mc, 0, sizeof(mc));
	mc.names = (const char *const *)e->names;
	mc.requests = e->requests;
	mc.lost = e->lost;
	mc.n = e->nnames;
	for (i = 0; i < nitems(eps); i++)
		waits[i] = e->rl[EP_USER + i].waits;
	mc.endpoints = eps;
	mc.waits = waits;
	mc.nendpoints = nitems(eps);
	if (metrics_write(e->o.cfg->metrics, e->o.store, &mc, now_unix(), err,
		sizeof(err)) == -1)
		log_warnx("metrics: %s", err);
}

/* End the job: report, then release. */
static void
job_finish(struct job *j)
{
	struct sync_result res;
	char err[ERRLEN];

	if (j->finished)
		return;
	j->finished = 1;
	res = j->res;
	res.account = j->acct.name;
	if (!res.ok)
		res.error = j->error;
	res.run_id = j->run_id;
	if (j->tok.access_token != NULL)
		sha256_hex(j->tok.access_token, strlen(j->tok.access_token),
		    res.grant);
	res.changes = j->changes.len > 0 ? j->changes.data : NULL;
	if (j->run_id > 0 &&
	    store_run_end(j->e->o.store, j->run_id, now_unix(), res.state,
		res.requests, res.ok ? &res.counts : NULL, res.error, err,
		sizeof(err)) == -1)
		log_warnx("%s: %s", j->acct.name, err);
	if (!j->e->o.dry_run)
		write_metrics(j->e, &res);
	/* The callback may look at the result; release afterwards. */
	if (j->done != NULL)
		j->done(&res, j->arg);
	job_release(j);
}

/* Fail the refresh: the account keeps its rows and gets 'state'. */
static void job_fail_as(struct job *, enum account_state, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* The common failure: state 'error', to be tried again later. */
#define job_fail(j, ...) job_fail_as(j, ACCOUNT_ERROR, __VA_ARGS__)

static void
job_fail_as(struct job *j, enum account_state state, const char *fmt, ...)
{
	char err[ERRLEN];
	va_list ap;
	size_t i;

	if (j->finished)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(j->error, sizeof(j->error), fmt, ap);
	va_end(ap);
	j->res.ok = 0;
	j->res.state = state;
	if (!j->e->o.dry_run) {
		i = acct_slot(j->e, j->acct.name);
		j->e->lost[i] = NULL;
		if (store_account_fail(j->e->o.store, j->acct.name, state,
			j->error, STORE_NULL, err, sizeof(err)) == -1) {
			/* Kept in memory for the metrics and STATUS=. */
			j->e->lost[i] = store_state_name(state);
			log_err("%s: cannot record the failure in the mirror: %s",
			    j->acct.name, err);
		}
	}
	if (state == ACCOUNT_NEEDS_AUTH)
		log_err("%s: %s", j->acct.name, j->error);
	else
		log_warnx("%s: %s", j->acct.name, j->error);
	job_finish(j);
}

/* Fail until a new authorization: 'fmt' says why, the log what to run. */
static void job_fail_auth(struct job *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
job_fail_auth(struct job *j, const char *fmt, ...)
{
	char why[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	job_fail_as(j, ACCOUNT_NEEDS_AUTH, "%s; run: tiktok-mirror auth %s",
	    why, j->acct.name);
}

int64_t
sync_backoff_ms(int64_t base_ms, int64_t cap_ms, int n)
{
	int64_t bound = base_ms;

	while (n-- > 0 && bound < cap_ms)
		bound *= 2;
	if (bound > cap_ms)
		bound = cap_ms;
	return bound / 2 + (int64_t)rand_below((uint64_t)bound / 2 + 1);
}

static void
on_api_timer(uv_timer_t *t)
{
	api_send(container_of(t, struct job, timer));
}

/* Send the current call after 'delay_ms' and any rate-limit wait. */
static void
api_schedule(struct job *j, int64_t delay_ms)
{
	struct sync_engine *e = j->e;
	int64_t now = now_ms();

	if (j->call.ep != EP_TOKEN)
		delay_ms += ratelimit_reserve(&e->rl[j->call.ep],
		    now + delay_ms);
	if (delay_ms > 0) {
		/*
		 * From now, not from when the loop last woke: a long turn
		 * (an apply, a batch of answers) would cut a Retry-After or
		 * a rate-limit wait short.
		 */
		uv_update_time(e->o.loop);
		UV_OK(uv_timer_start(&j->timer, on_api_timer,
		    clock_timer_ms(delay_ms), 0));
	} else
		api_send(j);
}

static void
api_call(struct job *j, enum endpoint ep, char *body, job_resp_fn ok)
{
	free(j->call.body);
	j->call = (struct api_call){.ep = ep, .body = body, .ok = ok};
	api_schedule(j, 0);
}

/*
 * Retry the current call, or fail the job once it has been tried enough;
 * 'fmt' says why.
 */
static void api_retry(struct job *, long, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
api_retry(struct job *j, long retry_after, const char *fmt, ...)
{
	char why[ERRLEN + 64];
	va_list ap;
	int64_t delay;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (++j->call.attempts >= MAX_ATTEMPTS) {
		job_fail(j, "%s (after %d attempts)", why, j->call.attempts);
		return;
	}
	delay = sync_backoff_ms(BACKOFF_BASE_MS, BACKOFF_CAP_MS,
	    j->call.attempts - 1);
	if (retry_after >= 0 && retry_after * 1000 > delay)
		delay = retry_after * 1000;
	log_debug("%s: %s; retrying in %lld ms", j->acct.name, why,
	    (long long)delay);
	api_schedule(j, delay);
}

static void start_refresh(struct job *, job_fn);

/*
 * A 429 without Retry-After: nothing goes to that endpoint, from any
 * account, until TikTok's one-minute window has passed; the wait is in
 * the log, the progress line and `status` (the run's note). After
 * RATE_WINDOWS_MAX windows the refresh fails, saying why.
 */
static void
rate_wait(struct job *j, const char *why)
{
	struct sync_engine *e = j->e;
	char until[32], note[ERRLEN];
	int64_t now = now_ms();

	if (++j->call.rate_waits > RATE_WINDOWS_MAX) {
		job_fail(j,
		    "%s: still rate limited after waiting out %d of TikTok's "
		    "one-minute windows (%s); another program using the same "
		    "client key may be spending the quota; trying again at the "
		    "next refresh",
		    ep_name[j->call.ep], RATE_WINDOWS_MAX, why);
		return;
	}
	ratelimit_penalize(&e->rl[j->call.ep], now, RATE_WINDOW_MS);
	fmt_iso8601((now + RATE_WINDOW_MS + 999) / 1000, until, sizeof(until));
	snprintf(note, sizeof(note),
	    "%s rate limited by TikTok (HTTP 429): waiting until %s for its "
	    "one-minute window (%d of %d)",
	    ep_name[j->call.ep], until, j->call.rate_waits, RATE_WINDOWS_MAX);
	log_info("%s: %s", j->acct.name, note);
	if (!e->o.dry_run && j->run_id > 0 &&
	    store_run_note(e->o.store, j->run_id, note, NULL, 0) == -1)
		log_warnx("%s: cannot note the wait in the mirror",
		    j->acct.name);
	j->wait_until = now + RATE_WINDOW_MS;
	job_enter(j, j->step);
	j->wait_until = 0;
	api_schedule(j, 0);
}

static void
resume_saved(struct job *j)
{
	free(j->call.body);
	j->call = j->saved;
	memset(&j->saved, 0, sizeof(j->saved));
	job_enter(j, j->resume);
	api_schedule(j, 0);
}

static void
on_api_done(const struct http_response *r, void *arg)
{
	struct job *j = arg;
	const char *what = ep_name[j->call.ep];
	struct api_body b;
	struct reply a = {.r = r, .body = &b};
	char err[ERRLEN];
	enum api_status st;

	j->xfer = NULL;
	if (r->result != HTTP_OK) {
		if (r->result == HTTP_E_TLS || r->result == HTTP_E_PROTOCOL)
			job_fail(j, "%s: %s", what, r->error);
		else
			api_retry(j, -1, "%s: %s", what, r->error);
		return;
	}
	api_body_parse(&b, r->body, r->len);
	if (j->call.ep == EP_OEMBED) {
		/* Judged by the HTTP status alone (lib/oembed.h). */
		j->call.ok(j, &a);
		api_body_free(&b);
		return;
	}
	st = api_status(r->status, &b, err, sizeof(err));
	/* video/list and video/query answer a page of videos. */
	if (st == API_OK &&
	    (j->call.ep == EP_LIST || j->call.ep == EP_QUERY) &&
	    api_parse_videos(&b, &a.page, err, sizeof(err)) == -1)
		api_retry(j, -1, "%s: %s", what, err);
	else if (st == API_OK)
		j->call.ok(j, &a);
	api_page_clear(&a.page);
	api_body_free(&b);
	switch (st) {
	case API_OK:
		return;
	case API_TOKEN:
		/*
		 * Refresh once, then send the same request again. Once more
		 * only when the token in use has since expired by its own
		 * lifetime (a refresh that outlived it: a long listing on a
		 * slow link, or compressed time); a token rejected before its
		 * time is not refreshed twice. Tokens that live under a minute
		 * never count as outlived, so this cannot spin.
		 */
		if (j->refreshed &&
		    (now_unix() < j->tok.access_expires_at ||
			j->tok.access_expires_at - j->tok.issued_at <
			    TOKEN_LIFE_MIN)) {
			job_fail(j, "%s: %s", what, err);
			return;
		}
		j->saved = j->call;
		memset(&j->call, 0, sizeof(j->call));
		start_refresh(j, resume_saved);
		return;
	case API_SCOPE:
		job_fail_auth(j, "the authorization lacks a scope");
		return;
	case API_REFUSED:
		/*
		 * invalid_params, or a 200 carrying an error code: the same
		 * request gets the same answer, so it is not sent again.
		 */
		job_fail(j, "%s: TikTok refused the request: %s", what, err);
		return;
	case API_RATE:
		if (r->retry_after < 0) {
			rate_wait(j, err);
			return;
		}
		ratelimit_penalize(&j->e->rl[j->call.ep], now_ms(),
		    r->retry_after * 1000);
		/* FALLTHROUGH */
	case API_TRANSIENT:
	case API_BAD:
		api_retry(j, r->retry_after, "%s: %s", what, err);
		return;
	}
}

/*
 * Before a token refresh is sent again: the secrets file may hold a newer
 * grant than the one this job read (`auth` wrote one), and that is the
 * one to send. The stored pair is never older than ours: only the lock
 * holder refreshes, and it writes a rotated pair before using it.
 */
static void
token_reread(struct job *j)
{
	struct tokens t;
	char err[ERRLEN];

	if (secrets_get(j->e->o.secrets, j->acct.name, &t, err,
		sizeof(err)) != 0)
		return;
	if (strcmp(t.refresh_token, j->tok.refresh_token) == 0) {
		tokens_clear(&t);
		return;
	}
	log_info("%s: the secrets file holds a newer grant; the retried "
		 "token refresh uses it",
	    j->acct.name);
	tokens_clear(&j->tok);
	j->tok = t;
	j->token_unconfirmed[0] = '\0';
}

static void
api_send(struct job *j)
{
	const struct cfg *cfg = j->e->o.cfg;
	const char *hdrs[4];
	struct http_request req = {
		.method = j->call.body != NULL ? HTTP_POST : HTTP_GET,
		.headers = hdrs,
		.body = j->call.body,
		.bodylen = j->call.body != NULL ? strlen(j->call.body) : 0,
		.timeout_ms = API_TIMEOUT_MS,
		.fd = -1,
	};
	char *auth = NULL, *url, err[ERRLEN];
	int n = 0;

	if (j->call.ep == EP_TOKEN) {
		if (j->call.attempts > 0)
			token_reread(j);
		token_send(j);
		return;
	}
	if (j->call.ep == EP_OEMBED) {
		url = oembed_request_url(cfg->oembed_url,
		    j->acct.videos[j->list.vnext].url);
		hdrs[n++] = "Accept: application/json"; /* no token: public */
	} else {
		url = xasprintf("%s%s", cfg->api_url, ep_path[j->call.ep]);
		auth = xasprintf("Authorization: Bearer %s",
		    j->tok.access_token);
		hdrs[n++] = auth;
		if (req.body != NULL)
			hdrs[n++] = "Content-Type: application/json";
	}
	hdrs[n] = NULL;
	req.url = url;
	j->res.requests++;
	j->xfer = http_start(j->e->o.http, &req, on_api_done, j, err,
	    sizeof(err));
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(url);
	if (j->xfer == NULL)
		job_fail(j, "%s: %s", ep_name[j->call.ep], err);
}

/* Tokens. */

static void
save_token_expiry(struct job *j)
{
	char err[ERRLEN];

	/* A dry run leaves the accounts row alone; the next sync writes it. */
	if (j->e->o.dry_run)
		return;
	if (store_account_tokens(j->e->o.store, j->acct.name,
		j->tok.access_expires_at, j->tok.refresh_expires_at, err,
		sizeof(err)) == -1)
		log_warnx("%s: %s", j->acct.name, err);
}

static void
on_grant(struct grant_result *res, void *arg)
{
	struct job *j = arg;

	j->grant = NULL;
	switch (res->outcome) {
	case GRANT_OK:
	case GRANT_SUPERSEDED:
		tokens_clear(&j->tok);
		j->tok = res->tok;
		memset(&res->tok, 0, sizeof(res->tok));
		if (res->outcome == GRANT_SUPERSEDED)
			log_info("%s: a new authorization arrived during a "
				 "token refresh; using it",
			    j->acct.name);
		else {
			j->res.refreshed = 1;
			log_debug("%s: access token refreshed", j->acct.name);
		}
		save_token_expiry(j);
		j->after_token(j);
		return;
	case GRANT_REJECTED:
		if (oauth_error_is_client(res->oerr)) {
			/* A new authorization would not help. */
			job_fail(j,
			    "token refresh: TikTok refused the app's client key"
			    " or secret (%s); check app.client_key and the "
			    "client secret",
			    res->err);
		} else if (j->token_unconfirmed[0] != '\0') {
			job_fail_auth(j,
			    "refresh token rejected (%s) after an earlier "
			    "refresh got no answer (%s): TikTok most likely "
			    "rotated the refresh token then, and the new one "
			    "never arrived, so this authorization cannot be "
			    "used any more",
			    res->oerr, j->token_unconfirmed);
		} else {
			job_fail_auth(j, "refresh token rejected (%s)",
			    res->oerr);
		}
		return;
	case GRANT_RETRY:
		/*
		 * No answer (a timeout, a reset): TikTok may have rotated the
		 * refresh token already (tiktok-api.md §5.1).
		 */
		if (res->unanswered)
			snprintf(j->token_unconfirmed,
			    sizeof(j->token_unconfirmed), "%.120s", res->err);
		api_retry(j, res->retry_after, "token refresh: %s", res->err);
		return;
	case GRANT_FAILED:
	case GRANT_INCOMPLETE: /* an exchange's, never a refresh's */
		job_fail(j, "token refresh: %s", res->err);
		return;
	}
}

/* The token call of api_send(): lib/grant.c posts, decodes and saves. */
static void
token_send(struct job *j)
{
	const struct grant_opts go = {
		.http = j->e->o.http,
		.cfg = j->e->o.cfg,
		.secrets = j->e->o.secrets,
		.timeout_ms = API_TIMEOUT_MS,
	};
	char err[ERRLEN];

	j->res.requests++;
	j->grant = grant_refresh(&go, j->acct.name, &j->tok, on_grant, j, err,
	    sizeof(err));
	if (j->grant == NULL)
		job_fail(j, "token refresh: %s", err);
}

static void
start_refresh(struct job *j, job_fn then)
{
	j->resume = j->step;
	job_enter(j, SYNC_TOKEN);
	j->refreshed = 1;
	j->after_token = then;
	api_call(j, EP_TOKEN, NULL, NULL);
}

static void
step_token(struct job *j)
{
	char err[ERRLEN], when[32];
	int64_t now = now_unix(), margin;
	int rc;

	rc = secrets_get(j->e->o.secrets, j->acct.name, &j->tok, err,
	    sizeof(err));
	if (rc == 1) {
		job_fail_auth(j, "not authorized yet");
		return;
	}
	if (rc == -1) {
		job_fail(j, "%s", err);
		return;
	}
	save_token_expiry(j);
	if (j->tok.refresh_expires_at <= now) {
		fmt_iso8601(j->tok.refresh_expires_at, when, sizeof(when));
		job_fail_auth(j, "refresh token expired at %s", when);
		return;
	}
	/* Refresh ahead of expiry, by a margin that scales with lifetime. */
	margin = (j->tok.access_expires_at - j->tok.issued_at) / 10;
	if (margin > REFRESH_MARGIN_MAX)
		margin = REFRESH_MARGIN_MAX;
	if (margin < 0)
		margin = 0;
	if (j->tok.access_expires_at - margin <= now)
		start_refresh(j, step_user);
	else
		step_user(j);
}

/* user/info */

/*
 * An account's mirror belongs to one TikTok user (design.md, "Identity"):
 * open_id, which TikTok issues per user and per app. A grant for another
 * user (a browser logged in to another account at `auth`, or a production
 * client key after the sandbox one) is refused at every refresh before
 * anything is listed, so nothing is deleted, blanked or mixed, unless
 * `auth NAME --replace-account` allowed exactly that change. Returns 0 to
 * go on, -1 when the job failed.
 */
static int
check_identity(struct job *j, const char *open_id, const char *name)
{
	struct store_account a;
	char err[ERRLEN], was[96], now_[96];
	int rc;

	if (open_id == NULL || open_id[0] == '\0')
		return 0;
	rc = store_account_get(j->e->o.store, j->acct.name, &a, err,
	    sizeof(err));
	if (rc == -1) {
		job_fail(j, "%s", err);
		return -1;
	}
	if (rc == 1 || a.open_id == NULL || a.open_id[0] == '\0' ||
	    strcmp(a.open_id, open_id) == 0) {
		if (rc == 0)
			store_account_clear(&a);
		return 0;
	}
	snprintf(was, sizeof(was), "%s", a.display_name && a.display_name[0]
		? a.display_name : "(name unknown)");
	snprintf(now_, sizeof(now_), "%s", name && name[0] ? name
							   : "(name unknown)");
	if (secrets_replace_allowed(j->e->o.secrets, j->acct.name, a.open_id,
		open_id)) {
		log_warnx("%s: now mirrors TikTok user \"%s\" (open_id %s) "
			  "instead of \"%s\" (open_id %s), as auth "
			  "--replace-account allowed",
		    j->acct.name, now_, open_id, was, a.open_id);
		store_account_clear(&a);
		return 0;
	}
	job_fail_as(j, ACCOUNT_NEEDS_AUTH,
	    "the grant is for another TikTok user, \"%s\" (open_id %s), not "
	    "\"%s\" (open_id %s) whose videos this mirror holds; nothing was "
	    "changed. Run tiktok-mirror auth %s logged in to \"%s\"; mirror "
	    "\"%s\" under a new account name; the same person under a new "
	    "client key: auth %s --replace-account",
	    now_, open_id, was, a.open_id, j->acct.name, was, now_,
	    j->acct.name);
	store_account_clear(&a);
	return -1;
}

static void
on_user(struct job *j, const struct reply *a)
{
	char *open_id, *name, *avatar, err[ERRLEN];

	if (api_parse_user(a->body, &open_id, &name, &avatar, err,
		sizeof(err)) == -1) {
		api_retry(j, -1, "user/info: %s", err);
		return;
	}
	/* The job's now: released with it if the identity check fails. */
	free(j->open_id);
	free(j->display_name);
	free(j->cov.avatar_url);
	j->open_id = open_id;
	j->display_name = name;
	j->cov.avatar_url = avatar;
	if (check_identity(j, open_id, name) == 0)
		list_start(j);
}

static void
step_user(struct job *j)
{
	job_enter(j, SYNC_USER);
	api_call(j, EP_USER, NULL, on_user);
}

/* video/list */

/* The cover URL's path, without scheme, host and signed query. */
static char *
url_path(const char *url)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? strchr(p + 3, '/') : url;
	if (p == NULL)
		return xstrdup("/");
	return xstrndup(p, strcspn(p, "?#"));
}

static int
stage_video(struct job *j, const struct video *v, int64_t seq,
    int64_t position, char *err, size_t errlen)
{
	char *src = v->cover_url ? url_path(v->cover_url) : NULL;
	int rc;

	rc = store_stage_add(j->e->o.store, j->acct.name, seq, position, v,
	    src, err, errlen);
	free(src);
	return rc;
}

/*
 * Count a video the filters leave out ('fv', by 'term' when an exclude
 * term matched); a dry run lists it, and why.
 */
static void
filter_report(struct job *j, const char *id, enum filter_verdict fv,
    const char *term)
{
	char esc[FILTER_TERM_MAX * 4 + 8];

	j->list.hidden++;
	if (!j->e->o.dry_run)
		return;
	j->res.nchanges++;
	if (term != NULL)
		log_escape(term, strlen(term), esc, sizeof(esc));
	if (buf_printf(&j->changes, "hidden %s (%s%s%s%s)\n", id,
		filter_verdict_str(fv), term ? " by \"" : "", term ? esc : "",
		term ? "\"" : "") == -1)
		return; /* counted; the list says some are left out */
}

/* True when the account's filters keep 'v'; else reported as above. */
static int
filter_keeps(struct job *j, const struct video *v)
{
	const char *term = NULL;
	enum filter_verdict fv;

	fv = filter_check(j->acct.filter, v->id, v->title, v->description,
	    &term);
	if (fv != FILTER_KEEP)
		filter_report(j, v->id, fv, term);
	return fv == FILTER_KEEP;
}

/*
 * Stage a page's videos in one transaction; sets *full once the kept
 * slice is complete. Returns 0, or -1 with 'err'.
 *
 * A video may come twice in one listing: TikTok's web lists put pinned
 * videos first and repeat them at their place, and a cursor may be
 * inclusive (tiktok-api.md, corrections). It is kept once, at its first
 * occurrence; a repeat takes no place, so positions stay 1..N and
 * 'quantity' counts distinct videos. A video that a newer one follows on
 * the page (a pinned one) is out of the listing's order: it does not move
 * the listed range down to its time, so an old pinned video never widens
 * the range in which deletions are judged.
 */
static int
stage_page(struct job *j, const struct api_page *p, int *full, char *err,
    size_t errlen)
{
	struct store *st = j->e->o.store;
	int64_t newer[API_PAGE_MAX]; /* newest created_at after each item */
	int i, rc = 0;

	for (i = p->nvideos - 1; i >= 0; i--)
		newer[i] = i == p->nvideos - 1 ? INT64_MIN
		    : p->videos[i + 1].created_at > newer[i + 1]
		    ? p->videos[i + 1].created_at
		    : newer[i + 1];
	if (store_begin(st, err, errlen) == -1)
		return -1;
	for (i = 0; i < p->nvideos && !*full && rc == 0; i++) {
		const struct video *v = &p->videos[i];
		int64_t pos = STORE_NULL;
		const char *term = NULL;
		enum filter_verdict fv;
		int keep;

		/* Kept when created_at * 1000 < before (exclusive). */
		if (j->acct.has_before &&
		    v->created_at * 1000 >= j->acct.before_ms)
			continue;
		/*
		 * hide, include and exclude come before start and quantity
		 * (design.md, "Moderation"): a video they leave out is
		 * staged without a position, so it is seen (not deleted)
		 * but neither counted nor kept, and its row, if any, loses
		 * its position.
		 */
		fv = filter_check(j->acct.filter, v->id, v->title,
		    v->description, &term);
		keep = fv == FILTER_KEEP;
		/* Under rotation positions are ranked at apply: keep all. */
		if (keep &&
		    (j->list.rotating || j->list.listed + 1 >= j->acct.start))
			pos = j->list.kept + 1;
		rc = stage_video(j, v, j->list.seq + 1, pos, err, errlen);
		if (rc == 1) {
			j->list.repeats++;
			rc = 0;
			continue;
		}
		j->list.seq++;
		if (!keep)
			filter_report(j, v->id, fv, term);
		else if (!j->list.rotating)
			j->list.listed++;
		if (pos != STORE_NULL)
			j->list.kept++;
		if (v->created_at >= newer[i] &&
		    v->created_at < j->list.min_created)
			j->list.min_created = v->created_at;
		if (!j->list.rotating && j->acct.quantity != CFG_QUANTITY_ALL &&
		    j->list.kept >= j->acct.quantity)
			*full = 1;
	}
	if (store_commit(st, rc == 0 ? err : NULL, errlen) == -1)
		rc = -1;
	return rc;
}

static void
on_list(struct job *j, const struct reply *a)
{
	const struct api_page *p = &a->page;
	char err[ERRLEN];
	int full = 0, go;

	j->list.pages++;
	/* Nothing usable on a page that had items: a wrong shape, not an
	 * empty account (it would take every video out of the listing). */
	if (p->nvideos == 0 && p->skipped > 0) {
		api_retry(j, -1, "video/list: no usable video on the page");
		return;
	}
	if (stage_page(j, p, &full, err, sizeof(err)) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (!full && !p->has_more)
		j->list.exhausted = 1;
	j->list.quota_reached = full;
	if (full || !p->has_more) {
		list_done(j);
		return;
	}
	if (p->cursor <= 0 ||
	    (j->list.cursor > 0 && p->cursor >= j->list.cursor)) {
		job_fail(j,
		    "video/list: the cursor did not decrease (%lld after %lld);"
		    " will try again later",
		    (long long)p->cursor, (long long)j->list.cursor);
		return;
	}
	j->list.empty_pages = p->nvideos == 0 ? j->list.empty_pages + 1 : 0;
	if (j->list.empty_pages > MAX_EMPTY_PAGES) {
		job_fail(j, "video/list: %d empty pages in a row",
		    j->list.empty_pages);
		return;
	}
	j->list.cursor = p->cursor;
	if ((go = rotate(j)) == 1)
		list_next(j);
	else if (go == 0)
		list_done(j);
}

/*
 * After a page with more to come: decide whether to go on. Returns 1 to
 * list the next page (possibly jumping to the archive window), 0 when this
 * refresh has listed enough, -1 when the job failed.
 */
static int
rotate(struct job *j)
{
	char err[ERRLEN];
	int64_t arch;

	if (!j->list.rotating) {
		/*
		 * A short slice is found in the head, unless filters leave
		 * out many videos: then the slice may lie deep in the
		 * listing, and the rotation bounds each refresh's pages.
		 */
		if (j->list.pages < ROTATE_HEAD_PAGES ||
		    (j->acct.quantity != CFG_QUANTITY_ALL &&
			j->acct.start - 1 + j->acct.quantity <=
			    ROTATE_HEAD_PAGES * API_PAGE_MAX &&
			filter_empty(j->acct.filter)))
			return 1;
		/* Until one listing read everything (under these filters),
		 * read everything. */
		if (store_archive_cursor(j->e->o.store, j->acct.name,
			j->list.filter_digest, &arch, err, sizeof(err)) == -1) {
			job_fail(j, "%s", err);
			return -1;
		}
		if (arch < 0)
			return 1;
		/* The head is done; go on with the archive window. */
		j->list.rotating = 1;
		j->list.head_lo = j->list.min_created;
		if (arch > 0 && arch < j->list.cursor)
			j->list.cursor = arch;
		j->list.window_ms = j->list.cursor;
		j->list.min_created = INT64_MAX;
		return 1;
	}
	if (++j->list.window_pages < ROTATE_WINDOW_PAGES)
		return 1;
	j->list.next_archive = j->list.cursor;
	return 0;
}

/* The listing of this refresh is complete: on to deletions. */
static void
list_done(struct job *j)
{
	char err[ERRLEN];

	j->res.videos = j->list.kept;
	j->res.hidden = j->list.hidden;
	if (query_range(j, err, sizeof(err)) == -1)
		job_fail(j, "%s", err);
	else
		query_next(j);
}

static void
list_next(struct job *j)
{
	job_enter(j, SYNC_LIST);
	api_call(j, EP_LIST, api_list_body(j->list.cursor, API_PAGE_MAX),
	    on_list);
}

/* Curated accounts: one oEmbed request per listed video, in list order. */

static void curated_next(struct job *);

/*
 * Stage listed video 'cv' from its oEmbed answer (whose strings it takes)
 * at the next position; seq is its place in the list. What oEmbed does not
 * give is absent: NULL in a new row, kept in one mirrored before.
 */
static int
curated_stage(struct job *j, const struct cfg_video *cv, struct oembed *o,
    char *err, size_t errlen)
{
	struct video v;
	int rc;

	memset(&v, 0, sizeof(v));
	/* Every number absent: oEmbed gives none but the id's time. */
#define CURATED_ABSENT_text(n)
#define CURATED_ABSENT_int(n) v.n = API_ABSENT;
#define CURATED_ABSENT(n, key, kind)                                           \
	VF_BY_TYPE(CURATED_ABSENT_, kind)(VF_API_NAME(n, kind))
	VIDEO_FIELDS(CURATED_ABSENT)
#undef CURATED_ABSENT
#undef CURATED_ABSENT_int
#undef CURATED_ABSENT_text
	memcpy(v.id, cv->id, sizeof(v.id));
	v.created_at = oembed_id_time(cv->id);
	v.title = o->title;
	v.description = xstrdup("");
	v.cover_url = o->thumbnail_url;
	v.share_url = xstrdup(cv->url);
	v.embed_link = oembed_embed_link(cv->id);
	v.embed_html = o->html;
	o->title = o->thumbnail_url = o->html = NULL;
	j->list.seq = (int64_t)j->list.vnext + 1;
	/* include and exclude judge the caption oEmbed gave as its title. */
	rc = stage_video(j, &v, j->list.seq,
	    filter_keeps(j, &v) ? ++j->list.kept : STORE_NULL, err, errlen);
	if (rc == 1)
		rc = 0; /* listed twice: config.c refuses that */
	video_clear(&v);
	return rc;
}

/* oEmbed refused the video: twice in a row, it is deleted. */
static void
curated_refused(struct job *j, const struct cfg_video *cv, long status)
{
	char err[ERRLEN];
	int again;

	again = store_stage_refused(j->e->o.store, j->acct.name, cv->id, err,
	    sizeof(err));
	if (again == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (again == 0)
		log_warnx("%s: video %s: oEmbed refused it (HTTP %ld: private,"
			  " deleted or blocked); it leaves the listing, and is"
			  " marked deleted if refused at the next refresh too",
		    j->acct.name, cv->id, status);
	else if (again == 1)
		log_warnx("%s: video %s: oEmbed refused it again (HTTP %ld);"
			  " marking it deleted",
		    j->acct.name, cv->id, status);
	else
		log_debug("%s: video %s: still refused (HTTP %ld)",
		    j->acct.name, cv->id, status);
	if (j->e->o.dry_run && again != 2) {
		j->res.nchanges++;
		if (buf_printf(&j->changes, "refused %s HTTP %ld%s\n", cv->id,
			status, again ? ", again"
				      : ", first time: out of the listing"
					" until it answers") == -1)
			log_debug("%s: dry run change list full", j->acct.name);
	}
	j->list.vnext++;
	curated_next(j);
}

static void
on_oembed(struct job *j, const struct reply *a)
{
	const struct http_response *r = a->r;
	const struct cfg_video *cv = &j->acct.videos[j->list.vnext];
	struct oembed o;
	char err[ERRLEN], why[64];
	int rc;

	switch (oembed_status(r->status)) {
	case OEMBED_OK:
		break;
	case OEMBED_REFUSED:
		curated_refused(j, cv, r->status);
		return;
	case OEMBED_RATE:
		/* As for the Display API: a window waited out, or Retry-After. */
		if (r->retry_after < 0) {
			snprintf(why, sizeof(why), "video %s: HTTP 429", cv->id);
			rate_wait(j, why);
			return;
		}
		ratelimit_penalize(&j->e->rl[EP_OEMBED], now_ms(),
		    r->retry_after * 1000);
		/* FALLTHROUGH */
	case OEMBED_TRANSIENT:
	case OEMBED_BAD:
		api_retry(j, r->retry_after, "oEmbed, video %s: HTTP %ld",
		    cv->id, r->status);
		return;
	}
	if (oembed_parse(a->body, cv->id, &o, err, sizeof(err)) == -1) {
		api_retry(j, -1, "oEmbed, video %s: %s", cv->id, err);
		return;
	}
	/* The account is named after the author of its first video. */
	if (j->display_name == NULL) {
		j->display_name = o.author_name;
		o.author_name = NULL;
	}
	rc = curated_stage(j, cv, &o, err, sizeof(err));
	oembed_clear(&o);
	if (rc == -1) {
		job_fail(j, "%s", err);
		return;
	}
	j->list.pages++;
	j->list.vnext++;
	curated_next(j);
}

/*
 * True when 'hide' names listed video 'cv': it is not even asked about, and
 * its row, if any, leaves the listing. Counted (and listed by a dry run).
 */
static int
curated_hidden(struct job *j, const struct cfg_video *cv)
{
	if (filter_check(j->acct.filter, cv->id, NULL, NULL, NULL) !=
	    FILTER_HIDDEN)
		return 0;
	filter_report(j, cv->id, FILTER_HIDDEN, NULL);
	return 1;
}

static void
curated_next(struct job *j)
{
	while (j->list.vnext < j->acct.nvideos &&
	    curated_hidden(j, &j->acct.videos[j->list.vnext]))
		j->list.vnext++;
	if (j->list.vnext < j->acct.nvideos) {
		job_enter(j, SYNC_OEMBED);
		api_call(j, EP_OEMBED, NULL, on_oembed);
	} else
		list_done(j);
}

/* Stage this refresh's listing: video/list pages, or oEmbed's answers. */
static void
list_start(struct job *j)
{
	char err[ERRLEN];

	if (store_stage_begin(j->e->o.store, j->acct.name, err,
		sizeof(err)) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	j->list.cursor = j->acct.has_before ? j->acct.before_ms : 0;
	if (CFG_CURATED(&j->acct))
		curated_next(j);
	else
		list_next(j);
}

/* Deletions: video/query confirms what the listing no longer returns. */

static void
on_query(struct job *j, const struct reply *a)
{
	const struct api_page *p = &a->page;
	char err[ERRLEN];
	int i;

	/* A video still returned, even one we cannot use, is not deleted. */
	for (i = 0; i < p->nvideos + p->nskipped_ids; i++)
		if (store_candidate_found(j->e->o.store, j->acct.name,
			i < p->nvideos ? p->videos[i].id
				       : p->skipped_ids[i - p->nvideos],
			err, sizeof(err)) == -1) {
			job_fail(j, "%s", err);
			return;
		}
	query_next(j);
}

/*
 * The deletion candidates: live rows in the listed range that this
 * listing did not return. Returns 0, or -1 with 'err'.
 */
static int
query_range(struct job *j, char *err, size_t errlen)
{
	struct store *st = j->e->o.store;
	int64_t lo, hi;

	/* A curated account's listed range is the whole list. */
	if (CFG_CURATED(&j->acct))
		return store_curated_live(st, j->acct.name, &j->list.live, err,
		    errlen);
	/*
	 * The listed range: everything older than 'before' down to the
	 * oldest video seen, or to the beginning when paging ran out. Videos
	 * in the oldest second are left out: the listing may have stopped
	 * inside it.
	 */
	hi = j->acct.has_before ? (j->acct.before_ms + 999) / 1000 : STORE_NULL;
	if (j->list.rotating) {
		/* Two ranges: the head, and the archive window. */
		if (store_stage_candidates(st, j->acct.name,
			j->list.head_lo + 1, hi, 0, &j->list.live, err,
			errlen) == -1)
			return -1;
		hi = j->list.window_ms / 1000;
		lo = j->list.exhausted ? 0
		    : j->list.min_created == INT64_MAX ? hi
						  : j->list.min_created + 1;
	} else {
		/* Nothing listed in order (only pinned): an empty range. */
		lo = j->list.exhausted ? 0
		    : j->list.min_created == INT64_MAX ? INT64_MAX
						       : j->list.min_created + 1;
	}
	if (store_stage_candidates(st, j->acct.name, lo, hi, j->list.rotating,
		&j->list.live, err, errlen) == -1)
		return -1;
	return 0;
}

static void
query_next(struct job *j)
{
	struct store *st = j->e->o.store;
	char ids[API_PAGE_MAX][21], err[ERRLEN];
	int n, missing;

	n = store_candidates_next(st, j->acct.name, ids, API_PAGE_MAX, err,
	    sizeof(err));
	if (n == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (n > 0) {
		job_enter(j, SYNC_QUERY);
		api_call(j, EP_QUERY, api_query_body(ids, n), on_query);
		return;
	}
	missing = store_candidates_missing(st, j->acct.name, err, sizeof(err));
	if (missing == -1) {
		job_fail(j, "%s", err);
		return;
	}
	/* The over-half guard (design.md, "Deletions"). */
	if (missing > 0 && j->list.live >= 4 &&
	    (int64_t)missing * 2 > j->list.live && !j->e->o.force) {
		job_fail(j,
		    "refusing to mark %d of %lld live videos deleted; if they"
		    " are really gone, run: tiktok-mirror sync --force %s",
		    missing, (long long)j->list.live, j->acct.name);
		return;
	}
	j->list.apply_deletions = missing > 0;
	covers_start(j, 1);
}

/* Covers. */

static void
dl_free(struct dl *d)
{
	LIST_REMOVE(d, entry);
	d->job->cov.ndl--;
	free(d->tmpname);
	free(d);
}

/* The account's covers folder, opened (and made) for the job's first file. */
static int
job_dir(struct job *j, char *err, size_t errlen)
{
	if (j->cov.dfd == -1)
		j->cov.dfd = covers_dir(j->e->o.cfg->covers, j->acct.name, 1,
		    err, errlen);
	return j->cov.dfd;
}

/*
 * The row's cover file 'rel' is there. The folder is opened at the first
 * look, not made (a dry run makes nothing). One that cannot be opened
 * holds no cover we can use: the first download makes it, or says why it
 * cannot.
 */
static int
cover_present(struct job *j, const char *rel)
{
	char err[ERRLEN];

	if (j->cov.dfd == -1 && !j->cov.dir_missing) {
		j->cov.dfd = covers_dir(j->e->o.cfg->covers, j->acct.name, 0,
		    err, sizeof(err));
		j->cov.dir_missing = j->cov.dfd == -1;
	}
	return j->cov.dfd != -1 &&
	    covers_exists_at(j->cov.dfd, j->acct.name, rel);
}

/*
 * Start downloading image 'name' (a video id or COVERS_AVATAR) from 'url'
 * into a temporary file in the account's covers folder; 'done' gets the
 * dl. Returns 0; -1 when the job failed (no folder, no file); 1 with 'err'
 * when the transfer could not start (nothing is left of it).
 */
static int
dl_start(struct job *j, const char *name, const char *url, int keep_old,
    http_done_cb done, char *err, size_t errlen)
{
	static const char *const hdrs[] = {
	    "Accept: image/webp, image/jpeg, image/png", NULL};
	struct http_request req = {
		.method = HTTP_GET,
		.url = url,
		.headers = hdrs,
		.max_body = COVERS_MAX_BYTES,
		.timeout_ms = COVER_TIMEOUT_MS,
	};
	struct dl *d = xcalloc(1, sizeof(*d));

	if (job_dir(j, err, errlen) == -1 ||
	    (d->fd = covers_tmp_open(j->cov.dfd, name, &d->tmpname, err,
		 errlen)) == -1) {
		free(d);
		job_fail(j, "cannot write covers: %s", err);
		return -1;
	}
	j->cov.wrote = 1;
	d->job = j;
	d->keep_old = keep_old;
	snprintf(d->id, sizeof(d->id), "%s", name);
	LIST_INSERT_HEAD(&j->cov.dls, d, entry);
	j->cov.ndl++;
	j->res.requests++;
	req.fd = d->fd;
	d->xfer = http_start(j->e->o.http, &req, done, d, err, errlen);
	if (d->xfer != NULL)
		return 0;
	covers_discard(j->cov.dfd, d->fd, d->tmpname);
	dl_free(d);
	return 1;
}

/*
 * The end of download 'd', which this frees: 0 when TikTok served it, its
 * file committed and named in *rel (a new string), or *rel NULL when that
 * failed (logged: not an image, ...); -1 when the answer was no 200 (the
 * file discarded; the caller says why).
 */
static int
dl_end(struct dl *d, const struct http_response *r, char **rel)
{
	struct job *j = d->job;
	char err[ERRLEN];
	int served = r->result == HTTP_OK && r->status == 200;

	*rel = NULL;
	if (!served)
		covers_discard(j->cov.dfd, d->fd, d->tmpname);
	else if (covers_commit(j->cov.dfd, d->fd, j->acct.name, d->id,
		     d->tmpname, r->head, r->len, rel, err, sizeof(err)) == -1)
		log_warnx("%s: %s", j->acct.name, err);
	dl_free(d);
	return served ? 0 : -1;
}

/* Write the cover outcomes held in the job to the stage. */
static int
stage_flush(struct job *j)
{
	struct store *st = j->e->o.store;
	char err[ERRLEN];
	int i, rc;

	if (j->cov.nstaged == 0)
		return 0;
	rc = store_begin(st, err, sizeof(err));
	for (i = 0; rc == 0 && i < j->cov.nstaged; i++)
		rc = store_stage_set_cover(st, j->acct.name,
		    j->cov.staged[i].id, j->cov.staged[i].rel, err,
		    sizeof(err));
	if (store_commit(st, rc == 0 ? err : NULL, sizeof(err)) == -1)
		rc = -1;
	for (i = 0; i < j->cov.nstaged; i++)
		free(j->cov.staged[i].rel);
	j->cov.nstaged = 0;
	if (rc == -1)
		job_fail(j, "%s", err);
	return rc;
}

/* The outcome for cover 'id': its new file 'rel' (taken), or NULL. */
static int
stage_cover(struct job *j, const char *id, char *rel)
{
	memcpy(j->cov.staged[j->cov.nstaged].id, id,
	    sizeof(j->cov.staged[0].id));
	j->cov.staged[j->cov.nstaged++].rel = rel;
	return j->cov.nstaged == COVER_BATCH ? stage_flush(j) : 0;
}

/* A cover could not be had: keep the old file if there is one. */
static int
cover_failed(struct job *j, const char *id, int keep_old)
{
	j->res.cover_failures++;
	return keep_old ? 0 : stage_cover(j, id, NULL);
}

static void
on_dl_done(const struct http_response *r, void *arg)
{
	struct dl *d = arg;
	struct job *j = d->job;
	char err[ERRLEN], id[21], *rel;
	int keep_old = d->keep_old, rc;

	/* Out of the job first (dl_end): a failure below releases the job. */
	memcpy(id, d->id, sizeof(id));
	if (dl_end(d, r, &rel) == 0) {
		if (rel != NULL) {
			j->res.covers++;
			rc = stage_cover(j, id, rel);
		} else
			rc = cover_failed(j, id, keep_old);
		if (rc == 0) {
			job_enter(j, j->step);
			covers_pump(j);
		}
		return;
	}
	if (r->result == HTTP_E_WRITE) {
		job_fail(j, "cannot write covers: %s", r->error);
		return;
	}
	if (r->result == HTTP_OK && r->status == 403 && j->cov.pass == 1 &&
	    !CFG_CURATED(&j->acct)) {
		/* The signed URL expired: ask video/query for a fresh one. */
		j->cov.expired = 1;
		if (store_stage_expired(j->e->o.store, j->acct.name, id, err,
			sizeof(err)) == -1) {
			job_fail(j, "%s", err);
			return;
		}
	} else {
		if (r->result == HTTP_OK)
			log_warnx("%s: cover %s: HTTP %ld", j->acct.name, id,
			    r->status);
		else
			log_warnx("%s: cover %s: %s", j->acct.name, id,
			    r->error);
		if (cover_failed(j, id, keep_old) == -1)
			return;
	}
	covers_pump(j);
}

/* Fetch cover 'it'; one whose download cannot even start has failed. */
static void
cover_get(struct job *j, const struct store_cover_item *it, int keep_old)
{
	char err[ERRLEN], esc[128];

	if (dl_start(j, it->id, it->url, keep_old, on_dl_done, err,
		sizeof(err)) != 1)
		return;
	log_warnx("%s: cover %s (%s): %s", j->acct.name, it->id,
	    log_url(it->url, esc, sizeof(esc)), err);
	(void)cover_failed(j, it->id, keep_old);
}

/*
 * A dry run counts the cover it would fetch instead. A row that has no
 * cover would get one: stage a name so the change is counted (the
 * transaction that would write it is rolled back).
 */
static int
dry_cover(struct job *j, const struct store_cover_item *it)
{
	j->res.covers++;
	if (it->cover != NULL)
		return 0;
	return stage_cover(j, it->id, xasprintf("%s/%s", j->acct.name,
					  it->id));
}

static void
covers_start(struct job *j, int pass)
{
	j->cov.pass = pass;
	j->cov.after[0] = '\0';
	j->cov.nbatch = j->cov.ibatch = 0;
	j->cov.batch_eof = 0;
	j->cov.done = 0;
	job_enter(j, SYNC_COVERS);
	covers_pump(j);
}

static void
covers_pump(struct job *j)
{
	const struct cfg *cfg = j->e->o.cfg;
	char err[ERRLEN];
	int n, have;

	while (!j->finished && j->cov.ndl < cfg->concurrency) {
		struct store_cover_item *it;

		if (j->cov.ibatch == j->cov.nbatch) {
			j->cov.nbatch = j->cov.ibatch = 0;
			if (j->cov.batch_eof)
				break;
			n = store_stage_covers(j->e->o.store, j->acct.name,
			    j->cov.pass, j->cov.after[0] ? j->cov.after : NULL,
			    j->cov.batch, COVER_BATCH, err, sizeof(err));
			if (n == -1) {
				job_fail(j, "%s", err);
				return;
			}
			if (n < COVER_BATCH)
				j->cov.batch_eof = 1;
			if (n == 0)
				break;
			j->cov.nbatch = n;
			memcpy(j->cov.after, j->cov.batch[n - 1].id,
			    sizeof(j->cov.after));
		}
		it = &j->cov.batch[j->cov.ibatch++];
		have = it->cover != NULL && cover_present(j, it->cover);
		/* Fetch when the cover is new, changed or missing on disk. */
		if (it->url != NULL &&
		    (j->cov.pass == 2 || !have || !it->same_src)) {
			if (j->e->o.dry_run) {
				if (dry_cover(j, it) == -1) {
					store_cover_item_clear(it);
					return;
				}
			} else {
				cover_get(j, it, have);
			}
		}
		store_cover_item_clear(it);
	}
	if (j->finished || j->cov.ndl > 0 || j->cov.ibatch < j->cov.nbatch ||
	    !j->cov.batch_eof || j->cov.done)
		return;
	j->cov.done = 1;
	if (stage_flush(j) == -1)
		return;
	if (j->cov.pass == 1)
		requery_next(j);
	else
		avatar_step(j);
}

/* Fresh signed URLs for covers whose URL expired during this refresh. */
static void
on_requery(struct job *j, const struct reply *a)
{
	const struct video *v = a->page.videos;
	char err[ERRLEN];
	int i;

	for (i = 0; i < a->page.nvideos; i++)
		if (v[i].cover_url != NULL &&
		    store_stage_set_url(j->e->o.store, j->acct.name, v[i].id,
			v[i].cover_url, err, sizeof(err)) == -1) {
			job_fail(j, "%s", err);
			return;
		}
	requery_next(j);
}

static void
requery_next(struct job *j)
{
	char ids[API_PAGE_MAX][21], err[ERRLEN];
	int n = 0;

	/* Finding none reads every staged row of the account: only ask
	 * when a URL expired, until a short page says there are no more. */
	if (j->cov.expired)
		n = store_stage_expired_next(j->e->o.store, j->acct.name, ids,
		    API_PAGE_MAX, err, sizeof(err));
	if (n == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (n < API_PAGE_MAX)
		j->cov.expired = 0;
	if (n > 0) {
		j->cov.requeried += n;
		api_call(j, EP_QUERY, api_query_body(ids, n), on_requery);
		return;
	}
	if (j->cov.pass == 1 && j->cov.requeried > 0)
		covers_start(j, 2);
	else
		avatar_step(j);
}

/*
 * The avatar, cached like a cover as <covers>/<account>/avatar.<ext>: fetched
 * when the account has none, its file is missing, or its URL path changed.
 * A failure is logged and keeps the old one; it never fails the refresh.
 */
static void
on_avatar_done(const struct http_response *r, void *arg)
{
	struct dl *d = arg;
	struct job *j = d->job;
	char *rel;

	if (dl_end(d, r, &rel) == -1) {
		if (r->result == HTTP_OK)
			log_warnx("%s: avatar: HTTP %ld", j->acct.name,
			    r->status);
		else
			log_warnx("%s: avatar: %s", j->acct.name, r->error);
	} else if (rel != NULL) {
		j->cov.avatar_rel = rel;
		j->res.avatar = 1;
	}
	repair_step(j);
}

static void
avatar_step(struct job *j)
{
	const struct cfg *cfg = j->e->o.cfg;
	char err[ERRLEN], *rel = NULL, *src = NULL;
	int fetch;

	if (j->cov.avatar_url == NULL) {
		repair_step(j);
		return;
	}
	free(j->cov.avatar_src);
	j->cov.avatar_src = url_path(j->cov.avatar_url);
	if (store_avatar(j->e->o.store, j->acct.name, &rel, &src, err,
		sizeof(err)) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	fetch = rel == NULL || src == NULL ||
	    strcmp(src, j->cov.avatar_src) != 0 ||
	    !covers_exists(cfg->covers, rel);
	free(rel);
	free(src);
	if (!fetch || j->e->o.dry_run) {
		j->res.avatar = fetch;
		repair_step(j);
		return;
	}
	job_enter(j, SYNC_AVATAR);
	if (dl_start(j, COVERS_AVATAR, j->cov.avatar_url, 0, on_avatar_done,
		err, sizeof(err)) == 1) {
		log_warnx("%s: avatar: %s", j->acct.name, err);
		repair_step(j);
	}
}

/* Repair. */

/* store_unlisted_covers(): note a row whose cover file is missing or empty. */
static int
on_unlisted(const char *id, const char *cover, void *arg)
{
	struct job *j = arg;
	struct cover_pass *c = &j->cov;

	if (c->nrepair == API_PAGE_MAX)
		return 1;
	if (!valid_id(id, strlen(id)) ||
	    covers_exists_at(c->dfd, j->acct.name, cover))
		return 0;
	snprintf(c->repair[c->nrepair].id, sizeof(c->repair[0].id), "%s", id);
	c->repair[c->nrepair].cover = xstrdup(cover);
	c->repair[c->nrepair].url = NULL;
	c->nrepair++;
	return 0;
}

static void repair_next(struct job *);

static void
on_repair_done(const struct http_response *r, void *arg)
{
	struct dl *d = arg;
	struct job *j = d->job;
	struct cover_pass *c = &j->cov;
	const char *id = c->repair[c->irepair].id;
	char err[ERRLEN], *rel;

	if (dl_end(d, r, &rel) == -1)
		log_warnx("%s: cover %s: %s", j->acct.name, id,
		    r->result == HTTP_OK ? "not served" : r->error);
	else if (rel != NULL) {
		j->res.covers++;
		/* Another format: the row names the new file, once that file
		 * is durable. */
		if (strcmp(rel, c->repair[c->irepair].cover) != 0) {
			if (covers_sync(c->dfd) == -1)
				log_warnx("%s: cover %s: cannot sync the "
					  "covers folder",
				    j->acct.name, id);
			else if (store_video_cover(j->e->o.store, j->acct.name,
				     id, rel, err, sizeof(err)) == -1)
				log_warnx("%s: cover %s: %s", j->acct.name, id,
				    err);
		}
		free(rel);
	}
	c->irepair++;
	repair_next(j);
}

/* Fetch the next repaired cover that video/query gave a URL for. */
static void
repair_next(struct job *j)
{
	struct cover_pass *c = &j->cov;
	char err[ERRLEN];

	for (; c->irepair < c->nrepair; c->irepair++) {
		if (c->repair[c->irepair].url == NULL)
			continue;
		if (dl_start(j, c->repair[c->irepair].id,
			c->repair[c->irepair].url, 0, on_repair_done, err,
			sizeof(err)) != 1)
			return; /* started, or the job failed */
		log_warnx("%s: cover %s: %s", j->acct.name,
		    c->repair[c->irepair].id, err);
	}
	apply(j);
}

static void
on_repair_query(struct job *j, const struct reply *a)
{
	const struct video *v = a->page.videos;
	struct cover_pass *c = &j->cov;
	int i, k;

	for (i = 0; i < a->page.nvideos; i++)
		for (k = 0; k < c->nrepair; k++)
			if (v[i].cover_url != NULL && c->repair[k].url == NULL &&
			    strcmp(v[i].id, c->repair[k].id) == 0)
				c->repair[k].url = xstrdup(v[i].cover_url);
	c->irepair = 0;
	repair_next(j);
}

/*
 * Rows out of this refresh's listing keep their covers on disk; when one
 * went missing or empty (deleted by hand, a disk fault), fetch it again
 * while TikTok still serves the video. Deleted videos' covers cannot come
 * back: nothing else may ever delete them.
 */
static void
repair_step(struct job *j)
{
	struct cover_pass *c = &j->cov;
	char ids[API_PAGE_MAX][21], err[ERRLEN];
	int i;

	if (j->e->o.dry_run) {
		apply(j);
		return;
	}
	if (job_dir(j, err, sizeof(err)) == -1 ||
	    store_unlisted_covers(j->e->o.store, j->acct.name, on_unlisted, j,
		err, sizeof(err)) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (c->nrepair == 0) {
		apply(j);
		return;
	}
	job_enter(j, SYNC_COVERS);
	log_info("%s: fetching %d missing covers of videos out of the listing",
	    j->acct.name, c->nrepair);
	for (i = 0; i < c->nrepair; i++)
		memcpy(ids[i], c->repair[i].id, sizeof(ids[i]));
	api_call(j, EP_QUERY, api_query_body(ids, c->nrepair),
	    on_repair_query);
}

/* Apply. */

/* covers_sweep(): keep the files the account's rows name. */
static int
sweep_keep(const char *rel, void *arg)
{
	return store_names_has(arg, rel);
}

/* True the first time an account is seen by this engine. */
static int
first_sweep(struct sync_engine *e, const char *name)
{
	size_t i = acct_slot(e, name);

	if (e->swept[i])
		return 0;
	e->swept[i] = 1;
	return 1;
}

/* A dry run's change list: "kind id [fields]" lines. */
static void
on_dry_change(const char *id, const char *kind, const char *fields, void *arg)
{
	struct job *j = arg;

	j->res.nchanges++;
	if (buf_printf(&j->changes, "%s %s%s%s\n", kind, id,
		fields && fields[0] ? " " : "", fields ? fields : "") == -1)
		return; /* the count goes on; the caller says some are left out */
}

/* What store_apply() needs of the job's refresh. */
static void
apply_args(struct job *j, struct store_apply *a)
{
	memset(a, 0, sizeof(*a));
	a->now = now_unix();
	a->open_id = j->open_id;
	a->display_name = j->display_name;
	a->next_sync_at = a->now + j->acct.cache;
	/* A curated account has no grant: its token columns stay NULL. */
	a->token_expires_at = CFG_CURATED(&j->acct) ? STORE_NULL
						    : j->tok.access_expires_at;
	a->refresh_expires_at = CFG_CURATED(&j->acct)
	    ? STORE_NULL
	    : j->tok.refresh_expires_at;
	a->apply_deletions = j->list.apply_deletions;
	a->run_id = j->run_id;
	a->rotating = j->list.rotating;
	a->quantity = j->acct.quantity;
	a->before_ms = j->acct.has_before ? j->acct.before_ms : STORE_NULL;
	/* A whole long listing read: later refreshes may rotate. */
	a->archive_cursor = j->list.rotating ? j->list.next_archive
	    : (j->list.exhausted || j->list.quota_reached) &&
		j->list.pages > ROTATE_HEAD_PAGES ? 0 : -1;
	a->avatar = j->cov.avatar_rel;
	a->avatar_src = j->cov.avatar_src;
	a->filter = j->acct.filter;
	a->filter_digest = j->list.filter_digest;
	/* A dry run: the same transaction, rolled back, listing changes. */
	a->dry_run = j->e->o.dry_run;
	a->change = a->dry_run ? on_dry_change : NULL;
	a->change_arg = j;
}

/*
 * After a refresh's transaction: the retention pass once a day, a WAL
 * checkpoint, and the sweep of cover files no row names.
 */
static void
apply_tidy(struct job *j, int64_t now)
{
	struct sync_engine *e = j->e;
	struct store_names *used;
	char err[ERRLEN];
	int removed;

	if (now / 86400 != e->retention_day) {
		e->retention_day = now / 86400;
		if (store_retention(e->o.store, now, err, sizeof(err)) == -1)
			log_warnx("retention: %s", err);
	}
	store_checkpoint(e->o.store);
	if (j->res.covers > 0 || j->res.avatar ||
	    j->res.counts.deleted > 0 || first_sweep(e, j->acct.name)) {
		/* The names in use, read at once; none: delete nothing. */
		used = store_covers_used(e->o.store, j->acct.name, err,
		    sizeof(err));
		removed = used == NULL ? -1
				       : covers_sweep(e->o.cfg->covers,
					     j->acct.name, sweep_keep, used,
					     err, sizeof(err));
		store_names_free(used);
		if (removed == -1)
			log_warnx("%s: %s", j->acct.name, err);
		else if (removed > 0)
			log_debug("%s: removed %d unused cover files",
			    j->acct.name, removed);
	}
}

static void
apply(struct job *j)
{
	const struct cfg *cfg = j->e->o.cfg;
	struct store_apply a;
	char err[ERRLEN];

	job_enter(j, SYNC_APPLY);
	/* Nothing to make durable when this refresh wrote no file (a dry
	 * run writes none). */
	if (j->cov.wrote && covers_sync(j->cov.dfd) == -1) {
		job_fail(j, "cannot sync the covers folder %s/%s",
		    cfg->covers, j->acct.name);
		return;
	}
	apply_args(j, &a);
	if (store_apply(j->e->o.store, j->acct.name, &a, &j->res.counts, err,
		sizeof(err)) == -1) {
		job_fail(j, "%s%s", err, a.dry_run ? ""
		    : "; the previous data is unchanged");
		return;
	}
	if (!a.dry_run)
		apply_tidy(j, a.now);
	j->res.ok = 1;
	j->res.state = ACCOUNT_OK;
	job_finish(j);
}

/* Start the job from the loop, so 'done' never runs inside sync_account(). */
static void
on_job_start(uv_timer_t *t)
{
	struct job *j = container_of(t, struct job, timer);
	struct store *st = j->e->o.store;
	char err[ERRLEN];

	/* A dry run writes no accounts row, attempt time or sync_runs row. */
	if (!j->e->o.dry_run) {
		if (store_account_ensure(st, j->acct.name, err,
			sizeof(err)) == -1 ||
		    store_account_attempt(st, j->acct.name, now_unix(), err,
			sizeof(err)) == -1) {
			job_fail(j, "%s", err);
			return;
		}
		j->run_id = store_run_begin(st, j->acct.name, now_unix(), err,
		    sizeof(err));
		if (j->run_id < 0) {
			log_warnx("%s: %s", j->acct.name, err);
			j->run_id = 0;
		}
	}
	if (CFG_CURATED(&j->acct))
		list_start(j);
	else
		step_token(j);
}

int
sync_account(struct sync_engine *e, const struct cfg_account *acct,
    sync_done_cb done, void *arg)
{
	struct job *j;

	if (sync_busy(e, acct->name))
		return -1;
	j = xcalloc(1, sizeof(*j));
	j->e = e;
	cfg_account_copy(&j->acct, acct);
	filter_digest(j->acct.filter, j->list.filter_digest);
	j->done = done;
	j->arg = arg;
	j->cov.dfd = -1;
	j->list.min_created = INT64_MAX;
	buf_init(&j->changes, DRY_CHANGES_MAX);
	LIST_INIT(&j->cov.dls);
	UV_OK(uv_timer_init(e->o.loop, &j->timer));
	LIST_INSERT_HEAD(&e->jobs, j, entry);
	UV_OK(uv_timer_start(&j->timer, on_job_start, 0, 0));
	return 0;
}

int
sync_report(const struct sync_result *r, struct hook *h)
{
	const struct store_counts *c = &r->counts;
	char hidden[64] = "";

	if (r->hidden > 0)
		snprintf(hidden, sizeof(hidden),
		    "; %lld left out by the filters", (long long)r->hidden);
	/* "listed": that refresh's listing, not the account's total. */
	log_info("%s: %lld listed (%lld new, %lld updated, %lld deleted), "
		 "%lld covers fetched, %lld requests%s",
	    r->account, (long long)r->videos, (long long)c->new,
	    (long long)c->updated, (long long)c->deleted, (long long)r->covers,
	    (long long)r->requests, hidden);
	if (h == NULL || c->new + c->updated + c->deleted + c->restored == 0)
		return 0;
	hook_note(h, r->account, r->run_id, c->new, c->updated + c->restored,
	    c->deleted);
	return 1;
}
