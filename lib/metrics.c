/* SPDX-License-Identifier: ISC */
/*
 * Prometheus text exposition format 0.0.4: "# HELP", "# TYPE", then one
 * sample per line. Account names are [A-Za-z0-9_-], so labels need no
 * escaping. Times are unix seconds, as Prometheus' *_timestamp_seconds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "grant.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

static const struct {
	const char *name, *type, *help;
} M[] = {
	{"tiktok_mirror_videos", "gauge", "Live videos in the mirror."},
	{"tiktok_mirror_last_success_timestamp_seconds", "gauge",
	    "When the last refresh succeeded."},
	{"tiktok_mirror_consecutive_failures", "gauge",
	    "Failed refreshes since the last success."},
	{"tiktok_mirror_token_expiry_timestamp_seconds", "gauge",
	    "When the access token expires."},
	{"tiktok_mirror_refresh_token_expiry_timestamp_seconds", "gauge",
	    "When the authorization (refresh token) expires."},
	{"tiktok_mirror_refresh_token_warning", "gauge",
	    "1 when the authorization expires within 30 days: run auth."},
	{"tiktok_mirror_account_state", "gauge",
	    "1 for the account's state (ok, error, needs_auth)."},
	{"tiktok_mirror_requests_total", "counter",
	    "Requests made for the account since the process started."},
	{"tiktok_mirror_rate_limit_waits_total", "counter",
	    "Requests that waited for the shared rate limiter."},
};

/* The samples of each metric of M[]. */
struct gather {
	struct buf b[nitems(M)];
	int64_t now;
	const struct metrics_counters *c;
};

static void
add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char line[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		fatalx("internal error: metrics line too long");
	if (buf_add(b, line, (size_t)n) == -1)
		fatalx("metrics: output too large");
}

static int
on_account(const struct store_account *a, void *arg)
{
	struct gather *g = arg;
	static const enum account_state states[] = {ACCOUNT_OK, ACCOUNT_ERROR,
	    ACCOUNT_NEEDS_AUTH};
	const char *state = store_state_name(a->state), *lost = NULL;
	int64_t failures = a->failures;
	size_t i;

	/* A failure the database could not record outranks its row. */
	for (i = 0; g->c != NULL && g->c->lost != NULL && i < g->c->n; i++)
		if (strcmp(g->c->names[i], a->name) == 0)
			lost = g->c->lost[i];
	if (lost != NULL) {
		state = lost;
		failures++;
	}
	add(&g->b[0], "tiktok_mirror_videos{account=\"%s\"} %lld\n", a->name,
	    (long long)a->videos);
	if (a->last_success_at != STORE_NULL)
		add(&g->b[1], "%s{account=\"%s\"} %lld\n", M[1].name, a->name,
		    (long long)a->last_success_at);
	add(&g->b[2], "%s{account=\"%s\"} %lld\n", M[2].name, a->name,
	    (long long)failures);
	if (a->token_expires_at != STORE_NULL)
		add(&g->b[3], "%s{account=\"%s\"} %lld\n", M[3].name, a->name,
		    (long long)a->token_expires_at);
	if (a->refresh_expires_at != STORE_NULL) {
		add(&g->b[4], "%s{account=\"%s\"} %lld\n", M[4].name, a->name,
		    (long long)a->refresh_expires_at);
		add(&g->b[5], "%s{account=\"%s\"} %d\n", M[5].name, a->name,
		    a->refresh_expires_at - g->now <= GRANT_WARN_DAYS * 86400);
	}
	for (i = 0; i < nitems(states); i++)
		add(&g->b[6], "%s{account=\"%s\",state=\"%s\"} %d\n", M[6].name,
		    a->name, store_state_name(states[i]),
		    strcmp(state, store_state_name(states[i])) == 0);
	return 0;
}

int
metrics_write(const char *path, struct store *st,
    const struct metrics_counters *c, int64_t now, char *err, size_t errlen)
{
	struct gather g;
	struct buf out;
	size_t i;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	g.now = now;
	g.c = c;
	for (i = 0; i < nitems(g.b); i++)
		buf_init(&g.b[i], 0);
	buf_init(&out, 0);
	if (store_accounts_each(st, on_account, &g, err, errlen) == -1)
		goto out;
	for (i = 0; c != NULL && i < c->n; i++)
		add(&g.b[7], "%s{account=\"%s\"} %lld\n", M[7].name,
		    c->names[i], (long long)c->requests[i]);
	for (i = 0; c != NULL && i < c->nendpoints; i++)
		add(&g.b[8], "%s{endpoint=\"%s\"} %lld\n", M[8].name,
		    c->endpoints[i], (long long)c->waits[i]);
	for (i = 0; i < nitems(M); i++) {
		add(&out, "# HELP %s %s\n# TYPE %s %s\n", M[i].name, M[i].help,
		    M[i].name, M[i].type);
		if (g.b[i].len > 0 && buf_add(&out, g.b[i].data, g.b[i].len) ==
			-1)
			fatalx("metrics: output too large");
	}
	/* Readable by the same users as the mirror: 0644 less the umask. */
	rc = write_file_atomic(path, out.data, out.len, umask_mode(0644), err,
	    errlen);
out:
	for (i = 0; i < nitems(g.b); i++)
		buf_free(&g.b[i]);
	buf_free(&out);
	return rc;
}
