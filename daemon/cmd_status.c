/* SPDX-License-Identifier: ISC */
/*
 * `status [--json]`: which mirror was read (so a shell and the daemon can
 * be seen to agree), whether a daemon holds it, then per configured
 * account its state, live videos, last
 * success, next refresh, token and refresh-token expiry, failed refreshes
 * in a row, a warning when the authorization expires within 30 days, and
 * the last error, read from the mirror alone. A table (times relative to
 * now) unless --json, which prints {"accounts": [...]}: one object per
 * account with the accounts columns, videos, failures and warning (null
 * when none). Accounts still in the mirror but no longer configured are
 * listed after them (they are not refreshed; `forget` removes them). A
 * mirror whose last attempt is older than twice the account's cache is
 * flagged stale (the daemon is stopped, stuck, or could not record its
 * refreshes, e.g. on a full disk): "stale": true and a warning. Exits 0
 * when every account is healthy, 1 when one is in error, needs
 * authorization or is stale. A curated account (videos:) has no grant:
 * its token columns are null, and the table says none is needed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "grant.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "mirror.h"
#include "render.h"
#include "store.h"
#include "util.h"


/*
 * The stale warning, or NULL: the last attempt (by `run` or `sync`) is
 * older than twice 'cache'. A row that never saw an attempt is not stale
 * (never synced says so already). The caller frees.
 */
static char *
stale_warning(const struct store_account *a, int64_t cache, int64_t now)
{
	char when[32];

	if (a->last_attempt_at == STORE_NULL ||
	    now - a->last_attempt_at <= 2 * cache)
		return NULL;
	fmt_iso8601(a->last_attempt_at, when, sizeof(when));
	return xasprintf("stale: the last refresh attempt was at %s, more "
			 "than twice the cache (%llds) ago; is the daemon "
			 "running? (systemctl status tiktok-mirror; "
			 "journalctl -u tiktok-mirror)",
	    when, (long long)cache);
}

static void
print_json(struct buf *b, const struct store_account *a, const char *warning,
    int stale, int first)
{
	out_add(b, first ? "\n  {" : ",\n  {");
	render_json_str(b, 1, "name", a->name);
	render_json_str(b, 0, "open_id", a->open_id);
	render_json_str(b, 0, "display_name", a->display_name);
	render_json_str(b, 0, "state", store_state_name(a->state));
	render_json_int(b, 0, "last_attempt_at", a->last_attempt_at);
	render_json_int(b, 0, "last_success_at", a->last_success_at);
	render_json_int(b, 0, "next_sync_at", a->next_sync_at);
	render_json_str(b, 0, "last_error", a->last_error);
	render_json_int(b, 0, "token_expires_at", a->token_expires_at);
	render_json_int(b, 0, "refresh_expires_at", a->refresh_expires_at);
	render_json_str(b, 0, "avatar", a->avatar);
	render_json_int(b, 0, "videos", a->videos);
	render_json_int(b, 0, "failures", a->failures);
	out_add(b, stale ? ",\"stale\":true" : ",\"stale\":false");
	render_json_str(b, 0, "warning", warning);
	render_json_str(b, 0, "activity", a->activity);
	out_add(b, "}");
}

/* "in 5m", "3h ago", "-": a time relative to 'now', for the table. */
static const char *
rel_time(int64_t t, int64_t now, char *b, size_t len)
{
	static const struct {
		int64_t secs;
		const char *unit;
	} units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
	int64_t d;
	size_t i;

	if (t == STORE_NULL) {
		snprintf(b, len, "-");
		return b;
	}
	d = t > now ? t - now : now - t;
	for (i = 0; i < nitems(units) - 1 && d < units[i].secs; i++)
		;
	/* Rounded, as the warning is: 5 days 23 hours is "6d". */
	d = (d + units[i].secs / 2) / units[i].secs;
	if (t > now)
		snprintf(b, len, "in %lld%s", (long long)d, units[i].unit);
	else
		snprintf(b, len, "%lld%s ago", (long long)d, units[i].unit);
	return b;
}

static void
print_row(const struct store_account *a, int curated, const char *warning,
    int width, int64_t now)
{
	char t1[32], t2[32], t3[32], t4[32], esc[512];

	/* A curated account has no grant: no token times to show. */
	printf("%-*s  %-10s  %6lld  %-12s  %-12s  %-8s  %-13s  %lld\n", width,
	    a->name, store_state_name(a->state), (long long)a->videos,
	    rel_time(a->last_success_at, now, t1, sizeof(t1)),
	    rel_time(a->next_sync_at, now, t2, sizeof(t2)),
	    curated ? "-" : rel_time(a->token_expires_at, now, t3, sizeof(t3)),
	    curated ? "not needed"
		    : rel_time(a->refresh_expires_at, now, t4, sizeof(t4)),
	    (long long)a->failures);
	if (a->last_error != NULL)
		printf("%-*s  error: %s\n", width, "",
		    log_escape(a->last_error, strlen(a->last_error), esc,
			sizeof(esc)));
	if (warning != NULL)
		printf("%-*s  warning: %s\n", width, "", warning);
	if (a->activity != NULL)
		printf("%-*s  now: %s\n", width, "",
		    log_escape(a->activity, strlen(a->activity), esc,
			sizeof(esc)));
}

/* The accounts rows that the configuration no longer names. */
struct unconfigured {
	const struct cfg *cfg;
	char **names;
	size_t n;
};

static int
on_account(const struct store_account *a, void *arg)
{
	struct unconfigured *u = arg;

	if (cfg_account(u->cfg, a->name) != NULL)
		return 0;
	u->names = xreallocarray(u->names, u->n + 1, sizeof(*u->names));
	u->names[u->n++] = xstrdup(a->name);
	return 0;
}

/* The head of the table: the mirror read and its daemon. */
static void
print_head(const struct ctx *c, int exists, int held, pid_t pid)
{
	printf("mirror: %s%s\n", c->cfg.database,
	    exists ? "" : " (not created yet: no sync has run)");
	printf("config: %s\n", c->config_path);
	if (held == 1 && pid > 0)
		printf("daemon: running, pid %ld\n", (long)pid);
	else if (held == 1)
		printf("daemon: a tiktok-mirror process holds the mirror\n");
	else if (held == 0)
		printf("daemon: not running\n");
	else
		printf("daemon: unknown (cannot open %s.lock)\n",
		    c->cfg.database);
	putchar('\n');
}

int
cmd_status(struct ctx *c, int argc, char **argv)
{
	struct store_account a;
	struct unconfigured u;
	struct store *st = NULL;
	pid_t pid;
	struct buf b;
	char err[ERRLEN], *warning, *stale, *both;
	int64_t now = now_unix();
	size_t i;
	int json = 0, rc, unhealthy = 0, width = 7, held, exists;
	const struct ctx_opt opts[] = {
		{"json", 0, &json, NULL},
		{NULL, 0, NULL, NULL},
	};

	if ((rc = ctx_start(c, argc, argv, opts, 0)) != CTX_GO_ON)
		return rc;
	if ((rc = ctx_load(c, CFG_READER)) != 0)
		return rc;
	signal(SIGPIPE, SIG_DFL); /* `| head`: end quietly (see videos) */
	memset(&u, 0, sizeof(u));
	u.cfg = &c->cfg;
	exists = access(c->cfg.database, F_OK) == 0;
	if (exists) {
		if ((st = mirror_open_ro(&c->cfg)) == NULL)
			return EXIT_FAIL;
		if (store_accounts_each(st, on_account, &u, err,
			sizeof(err)) == -1) {
			log_err("%s", err);
			rc = EXIT_FAIL;
			goto out;
		}
	}
	held = lock_holder(c->cfg.database, &pid);
	for (i = 0; i < c->cfg.naccounts; i++)
		if ((int)strlen(c->cfg.accounts[i].name) > width)
			width = (int)strlen(c->cfg.accounts[i].name);
	buf_init(&b, 0);
	if (json) {
		out_add(&b, "{");
		render_json_str(&b, 1, "mirror", c->cfg.database);
		render_json_str(&b, 0, "config", c->config_path);
		render_json_int(&b, 0, "daemon_pid",
		    held == 1 && pid > 0 ? pid : STORE_NULL);
		out_add(&b, ",\"accounts\": [");
	} else {
		print_head(c, exists, held, pid);
		printf("%-*s  %-10s  %6s  %-12s  %-12s  %-8s  %-13s  %s\n",
		    width, "ACCOUNT", "STATE", "VIDEOS", "LAST SUCCESS",
		    "NEXT REFRESH", "TOKEN", "AUTHORIZATION", "FAILURES");
	}
	for (i = 0; i < c->cfg.naccounts; i++) {
		const char *name = c->cfg.accounts[i].name;
		int curated = CFG_CURATED(&c->cfg.accounts[i]);

		rc = st ? store_account_get(st, name, &a, err, sizeof(err)) : 1;
		if (rc == -1) {
			log_err("%s", err);
			buf_free(&b);
			rc = EXIT_FAIL;
			goto out;
		}
		if (rc == 1) {
			memset(&a, 0, sizeof(a));
			a.name = xstrdup(name);
			/* A curated account needs no grant, only a sync. */
			a.state = curated ? ACCOUNT_ERROR : ACCOUNT_NEEDS_AUTH;
			a.last_error = xasprintf("never synced; run: "
						 "tiktok-mirror %s %s",
			    curated ? "sync" : "auth", name);
			a.last_attempt_at = a.last_success_at = STORE_NULL;
			a.next_sync_at = a.token_expires_at = STORE_NULL;
			a.refresh_expires_at = STORE_NULL;
		}
		stale = stale_warning(&a, c->cfg.accounts[i].cache, now);
		if (a.state != ACCOUNT_OK || stale != NULL)
			unhealthy = 1;
		warning = curated ? NULL
				  : grant_warning(a.name, a.refresh_expires_at, now);
		if (stale != NULL && warning != NULL) {
			both = xasprintf("%s; %s", stale, warning);
			free(warning);
			warning = both;
		} else if (stale != NULL)
			warning = xstrdup(stale);
		if (json)
			print_json(&b, &a, warning, stale != NULL, i == 0);
		else
			print_row(&a, curated, warning, width, now);
		free(stale);
		free(warning);
		store_account_clear(&a);
	}
	if (json) {
		out_add(&b, "\n], \"unconfigured\": [");
		for (i = 0; i < u.n; i++) {
			if ((i > 0 && buf_addstr(&b, ", ") == -1) ||
			    json_quote(&b, u.names[i]) == -1)
				fatalx("output too large");
		}
		out_add(&b, "]}\n");
		(void)out_flush(&b);
	} else if (u.n > 0) {
		printf("\nin the mirror but not configured (kept, not "
		       "refreshed; remove with: tiktok-mirror forget NAME "
		       "--yes):\n");
		for (i = 0; i < u.n; i++)
			printf("  %s\n", u.names[i]);
	}
	buf_free(&b);
	rc = unhealthy ? EXIT_FAIL : EXIT_OK;
out:
	for (i = 0; i < u.n; i++)
		free(u.names[i]);
	free(u.names);
	store_close(st);
	return rc;
}
