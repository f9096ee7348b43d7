/* SPDX-License-Identifier: ISC */
/*
 * `sync [--force] [--dry-run] [NAME...]`: refresh the named accounts
 * (default: all) concurrently on one loop, once, then exit 0 when every one
 * succeeded. On a terminal, stderr shows one updating progress line (the
 * step, pages, covers of each account); elsewhere sync stays quiet but for
 * the log. --dry-run reports what a sync would change and download and
 * writes nothing to the mirror or the covers folder; a token refresh it
 * needs is still saved to the secrets file, and it says so.
 * `check`: validate the configuration.
 */
#include <sys/ioctl.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "hook.h"
#include "log.h"
#include "mirror.h"
#include "util.h"

#define PROGRESS_MS 100	 /* least time between two redraws */
#define PROGRESS_TEXT 96 /* one account's part of the line */

/* One account's part of the progress line. */
struct shown {
	char name[CFG_NAME_MAX + 1];
	char text[PROGRESS_TEXT];
	enum sync_step step; /* drawn at once when it changes */
	int done;
};

struct sync_run {
	uv_loop_t *loop;
	int pending;
	int failed;
	int dry_run;
	struct hook *hook;
	/* The progress line (a terminal on stderr only). */
	int tty;
	int drawn; /* something is on the line */
	uint64_t last_draw;
	struct shown *shown;
	size_t nshown;
};

static void
progress_clear(struct sync_run *sr)
{
	if (sr->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		sr->drawn = 0;
	}
}

/* Redraw the line: every running account's part, cut to the width. */
static void
progress_draw(struct sync_run *sr, int force)
{
	struct winsize ws;
	char line[1024];
	size_t i, len = 0, width = 80;
	uint64_t now = uv_now(sr->loop);
	int n;

	if (!sr->tty || (!force && sr->drawn &&
			    now - sr->last_draw < PROGRESS_MS))
		return;
	sr->last_draw = now;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	if (width > sizeof(line))
		width = sizeof(line);
	line[0] = '\0';
	for (i = 0; i < sr->nshown; i++) {
		if (sr->shown[i].done || sr->shown[i].text[0] == '\0')
			continue;
		n = snprintf(line + len, sizeof(line) - len, "%s%s",
		    len ? "  |  " : "", sr->shown[i].text);
		if (n < 0 || (size_t)n >= sizeof(line) - len)
			break;
		len += (size_t)n;
	}
	/* Leave the last column free so the terminal never wraps. */
	if (len >= width)
		len = width - 1;
	fprintf(stderr, "\r\033[K%.*s", (int)len, line);
	fflush(stderr);
	sr->drawn = len > 0;
}

static struct shown *
shown_get(struct sync_run *sr, const char *name)
{
	size_t i;

	for (i = 0; i < sr->nshown; i++)
		if (strcmp(sr->shown[i].name, name) == 0)
			return &sr->shown[i];
	sr->shown = xreallocarray(sr->shown, sr->nshown + 1,
	    sizeof(*sr->shown));
	memset(&sr->shown[sr->nshown], 0, sizeof(*sr->shown));
	snprintf(sr->shown[sr->nshown].name,
	    sizeof(sr->shown[sr->nshown].name), "%s", name);
	return &sr->shown[sr->nshown++];
}

static void
on_progress(const struct sync_progress *p, void *arg)
{
	struct sync_run *sr = arg;
	struct shown *s = shown_get(sr, p->account);
	int changed = s->step != p->step;

	s->step = p->step;
	if (p->wait_until_ms > 0) {
		/* Within a step: TikTok's rate window, waited out. */
		snprintf(s->text, sizeof(s->text),
		    "%s: rate limited by TikTok, waiting %llds for its "
		    "one-minute window",
		    p->account,
		    (long long)((p->wait_until_ms - now_ms() + 999) / 1000));
		changed = 1;
	} else if (p->step == SYNC_LIST)
		snprintf(s->text, sizeof(s->text),
		    "%s: listing, page %lld, %lld videos", p->account,
		    (long long)p->pages + 1, (long long)p->videos);
	else if (p->step == SYNC_OEMBED)
		snprintf(s->text, sizeof(s->text),
		    "%s: asking oEmbed, %lld videos", p->account,
		    (long long)p->videos);
	else if (p->step == SYNC_QUERY)
		snprintf(s->text, sizeof(s->text),
		    "%s: %lld videos, checking deletions", p->account,
		    (long long)p->videos);
	else if (p->step == SYNC_COVERS)
		snprintf(s->text, sizeof(s->text),
		    "%s: %lld videos, covers: %lld %s%s", p->account,
		    (long long)p->videos, (long long)p->covers,
		    sr->dry_run ? "to fetch" : "fetched",
		    p->covers_active > 0 ? " ..." : "");
	else if (p->step == SYNC_TOKEN)
		snprintf(s->text, sizeof(s->text), "%s: refreshing the token",
		    p->account);
	else
		snprintf(s->text, sizeof(s->text), "%s: %s", p->account,
		    p->step == SYNC_APPLY  ? "saving"
		    : p->step == SYNC_USER ? "reading the profile"
					   : sync_step_name(p->step));
	progress_draw(sr, changed);
}

/* What a dry run found, on stdout: the counts, then each change. */
static void
print_dry(const struct sync_result *r)
{
	const struct store_counts *c = &r->counts;
	const char *p, *nl;
	int64_t shown = 0;

	printf("%s: would add %lld, update %lld, restore %lld and mark %lld "
	       "deleted of %lld videos listed; would download %lld cover%s%s\n",
	    r->account, (long long)c->new, (long long)c->updated,
	    (long long)c->restored, (long long)c->deleted, (long long)r->videos,
	    (long long)r->covers, r->covers == 1 ? "" : "s",
	    r->avatar ? " and the avatar" : "");
	if (r->hidden > 0)
		printf("%s: hide, include and exclude leave out %lld listed "
		       "video%s\n",
		    r->account, (long long)r->hidden,
		    r->hidden == 1 ? "" : "s");
	for (p = r->changes; p != NULL && *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		printf("  %.*s\n", (int)(nl - p), p);
		shown++;
	}
	if (shown < r->nchanges)
		printf("  ... and %lld more\n", (long long)(r->nchanges - shown));
	if (r->refreshed)
		printf("%s: the access token was refreshed; the new tokens were "
		       "saved to the secrets file (TikTok rotates them)\n",
		    r->account);
	fflush(stdout);
}

static void
on_synced(const struct sync_result *r, void *arg)
{
	struct sync_run *sr = arg;

	sr->pending--;
	shown_get(sr, r->account)->done = 1;
	progress_clear(sr);
	if (!r->ok) {
		sr->failed++;
		if (sr->dry_run && r->refreshed)
			printf("%s: the access token was refreshed; the new "
			       "tokens were saved to the secrets file\n",
			    r->account);
	} else if (sr->dry_run) {
		print_dry(r);
	} else {
		(void)sync_report(r, sr->hook);
	}
	if (sr->pending > 0) {
		progress_draw(sr, 1);
		return;
	}
	/* One on_change run for the whole sync, once every account is done. */
	hook_kick(sr->hook);
}

int
cmd_sync(struct ctx *c, int argc, char **argv)
{
	struct sync_run sr;
	struct sync_opts so;
	struct mirror m;
	const struct ctx_opt opts[] = {
		{"force", 'f', &so.force, NULL},
		{"dry-run", 'n', &so.dry_run, NULL},
		{NULL, 0, NULL, NULL},
	};
	size_t i;
	int rc;

	memset(&sr, 0, sizeof(sr));
	memset(&so, 0, sizeof(so));
	if ((rc = ctx_start(c, argc, argv, opts, CTX_ANY)) != CTX_GO_ON)
		return rc;
	if ((rc = ctx_load(c, 0)) != 0)
		return rc;
	if (ctx_accounts(c, argc - optind, argv + optind) == -1)
		return EXIT_USAGE;
	sr.dry_run = so.dry_run;
	sr.tty = isatty(STDERR_FILENO) && log_verbosity() >= LOG_NORMAL;
	if (sr.tty) {
		so.progress = on_progress;
		so.progress_arg = &sr;
	}
	if ((rc = mirror_open(&m, &c->cfg, "sync", &so)) != 0)
		return rc;
	sr.loop = &m.loop;
	/* A dry run changes nothing, so there is nothing to tell on_change. */
	sr.hook = hook_new(&m.loop, so.dry_run ? NULL : c->cfg.on_change);
	for (i = 0; i < c->cfg.naccounts; i++) {
		const struct cfg_account *a = &c->cfg.accounts[i];

		if (!ctx_named(argc - optind, argv + optind, a->name) ||
		    sync_busy(m.engine, a->name))
			continue;
		if (sync_account(m.engine, a, on_synced, &sr) == 0)
			sr.pending++;
	}
	if (so.dry_run)
		printf("dry run: nothing is written to the mirror or the covers "
		       "folder\n");
	uv_run(&m.loop, UV_RUN_DEFAULT);
	progress_clear(&sr);
	hook_free(sr.hook);
	free(sr.shown);
	if (mirror_close(&m) == -1)
		return EXIT_FAIL;
	return sr.failed > 0 ? EXIT_FAIL : EXIT_OK;
}

int
cmd_check(struct ctx *c, int argc, char **argv)
{
	int rc;

	if ((rc = ctx_start(c, argc, argv, NULL, 0)) != CTX_GO_ON)
		return rc;
	if ((rc = ctx_load(c, 0)) != 0)
		return rc;
	printf("%s: configuration OK, %zu account%s\n", c->config_path,
	    c->cfg.naccounts, c->cfg.naccounts == 1 ? "" : "s");
	return EXIT_OK;
}
