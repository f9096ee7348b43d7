/* SPDX-License-Identifier: ISC */
/*
 * `videos NAME [--before DATE] [--start N] [--quantity N|all] [--limit N]
 * [--date-format FMT] [--json | --tsv | --table]`: the My Videos query, answered from
 * the mirror alone. Without query options it prints the account's
 * configured listing in position order; --before/--start/--quantity query
 * the mirror's live videos differently (the others keep the configured
 * values). JSON: an array of objects keyed by the videos columns plus
 * created_at_iso. Otherwise a table on a terminal, TSV elsewhere.
 *
 * `videos NAME --history ID`: a video's engagement history from the
 * video_stats table, oldest first: one point per change of a count (older
 * than 30 days thinned to one per UTC day). JSON: an array of objects keyed
 * by the video_stats columns plus observed_at_iso; otherwise a table on a
 * terminal, TSV with a header row elsewhere, like the rest of `videos`.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "mirror.h"
#include "render.h"
#include "store.h"
#include "util.h"

enum out_format { OUT_TABLE, OUT_TSV, OUT_JSON };

/* The output of the videos or of a video's history. */
struct vout {
	enum out_format fmt;
	int64_t limit; /* characters of title/description; -1: all */
	const char *date_format;
	struct buf b;
	size_t when_width; /* the CREATED column, in display columns */
	int n;	    /* items so far */
	int failed; /* writing stdout failed (a closed pipe) */
};

/* After an item: write out a full buffer. Returns 0, or -1 to stop. */
static int
item_done(struct vout *o)
{
	if (o->b.len > 65536 && out_flush(&o->b) == -1)
		o->failed = 1;
	o->n++;
	return o->failed ? -1 : 0;
}

/* After the last item: end a JSON array, write it all. The exit status. */
static int
finish(struct vout *o)
{
	if (o->fmt == OUT_JSON)
		out_add(&o->b, o->n ? "\n]\n" : "]\n");
	if (out_flush(&o->b) == -1 || fflush(stdout) == EOF)
		o->failed = 1;
	buf_free(&o->b);
	return o->failed ? EXIT_FAIL : EXIT_OK;
}

/* The user's --date-format is a strftime format by design. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
date_str(const struct vout *o, int64_t t, char *b, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (o->date_format == NULL || gmtime_r(&tt, &tm) == NULL ||
	    strftime(b, len, o->date_format, &tm) == 0)
		fmt_iso8601(t, b, len);
}
#pragma GCC diagnostic pop

/* Table columns, in terminal columns (display width, not bytes). */
#define TABLE_ID 20
#define TABLE_TITLE 48

/*
 * 's' padded with spaces to 'width' display columns ('right': aligned),
 * then the two spaces before the next column.
 */
static void
table_cell(struct buf *b, const char *s, size_t width, int right)
{
	size_t w = utf8_width(s), pad = w < width ? width - w : 0;

	/* As wide as a --date-format makes the dates: no fixed bound. */
	if (buf_printf(b, "%*s%s%*s  ", right ? (int)pad : 0, "", s,
		right ? 0 : (int)pad, "") == -1)
		fatalx("output too large");
}

/*
 * One table line. TikTok titles are full of emoji and CJK, so the title is
 * cut and padded by display width (utf8_width), after escaping, so that
 * every column after it lines up.
 */
static void
table_row(struct vout *o, const char *pos, const char *id, const char *when,
    const char *views, const char *title, const char *cover)
{
	char esc[2048];
	size_t cut;

	log_escape(title, strlen(title), esc, sizeof(esc));
	cut = utf8_cut_width(esc, TABLE_TITLE, NULL);
	esc[cut] = '\0';
	table_cell(&o->b, pos, 4, 1);
	table_cell(&o->b, id, TABLE_ID, 0);
	table_cell(&o->b, when, o->when_width, 0);
	table_cell(&o->b, views, 12, 1);
	table_cell(&o->b, esc, TABLE_TITLE, 0);
	/* The last column, unpadded. */
	out_add(&o->b, cover);
	out_add(&o->b, "\n");
}

static int
on_video(const struct store_video *v, void *arg)
{
	struct vout *o = arg;
	char *title = render_cut(v->title, o->limit);
	char *desc = render_cut(v->description, o->limit);
	struct render_value vals[RENDER_NCOLS + 1];
	struct store_video w = *v;
	char iso[64], when[128];

	/* The same values as export writes, cut by --limit. */
	w.title = title;
	w.description = desc;
	date_str(o, v->created_at, when, sizeof(when));
	if (o->fmt == OUT_JSON) {
		out_add(&o->b, o->n ? ",\n  " : "\n  ");
		render_video_json(&o->b, &w,
		    o->date_format != NULL ? when : NULL);
	} else if (o->fmt == OUT_TSV) {
		render_values(&w, iso, sizeof(iso), vals);
		/* --date-format: a column of its own, last, named as in JSON. */
		vals[RENDER_NCOLS].str = when;
		vals[RENDER_NCOLS].is_num = 0;
		render_tsv_values(&o->b, vals,
		    RENDER_NCOLS + (o->date_format != NULL));
	} else {
		char views[32];

		snprintf(iso, sizeof(iso), "%lld", (long long)v->position);
		/* Unknown (a curated account's: oEmbed has no counts), not 0. */
		if (v->total_views == STORE_NULL)
			snprintf(views, sizeof(views), "-");
		else
			snprintf(views, sizeof(views), "%lld",
			    (long long)v->total_views);
		table_row(o, v->position == STORE_NULL ? "-" : iso, v->id,
		    when, views, title, v->cover ? v->cover : "-");
	}
	free(title);
	free(desc);
	return item_done(o);
}

static const char *const HISTORY_COLS[] = {"account", "id", "observed_at",
    "observed_at_iso", "total_views", "total_likes", "total_comments",
    "total_shares"};

static void
table_int(int64_t v)
{
	if (v == STORE_NULL)
		printf("  %12s", "-");
	else
		printf("  %12lld", (long long)v);
}

static int
on_point(const struct store_stat *p, void *arg)
{
	struct vout *o = arg;
	char iso[32];
	/* In the order of HISTORY_COLS. */
	const struct render_value v[] = {{.str = p->account}, {.str = p->id},
	    {.num = p->observed_at, .is_num = 1}, {.str = iso},
	    {.num = p->total_views, .is_num = 1},
	    {.num = p->total_likes, .is_num = 1},
	    {.num = p->total_comments, .is_num = 1},
	    {.num = p->total_shares, .is_num = 1}};

	fmt_iso8601(p->observed_at, iso, sizeof(iso));
	if (o->fmt == OUT_JSON) {
		out_add(&o->b, o->n ? ",\n  " : "\n  ");
		render_json_values(&o->b, HISTORY_COLS, v, nitems(v));
	} else if (o->fmt == OUT_TSV) {
		render_tsv_values(&o->b, v, nitems(v));
	} else {
		printf("%-20s", iso);
		table_int(p->total_views);
		table_int(p->total_likes);
		table_int(p->total_comments);
		table_int(p->total_shares);
		fputc('\n', stdout);
	}
	return item_done(o);
}

/* `videos NAME --history ID`, in the format o->fmt. */
static int
print_history(struct ctx *c, const char *account, const char *id,
    struct vout *o)
{
	struct store *st;
	char err[ERRLEN], esc[64];
	int rc;

	if (!valid_id(id, strlen(id)))
		return usage_error("--history takes a video id (1-20 digits), "
				   "not '%s'",
		    log_escape(id, strlen(id), esc, sizeof(esc)));
	if ((st = mirror_open_ro(&c->cfg)) == NULL)
		return EXIT_FAIL;
	buf_init(&o->b, 0);
	if (o->fmt == OUT_JSON)
		out_add(&o->b, "[");
	if (o->fmt == OUT_TSV)
		render_tsv_names(&o->b, HISTORY_COLS, nitems(HISTORY_COLS));
	if (o->fmt == OUT_TABLE)
		printf("%-20s  %12s  %12s  %12s  %12s\n", "OBSERVED", "VIEWS",
		    "LIKES", "COMMENTS", "SHARES");
	rc = store_history(st, account, id, on_point, o, err, sizeof(err));
	store_close(st);
	if (rc == 1) {
		fflush(stdout);
		log_err("%s: no video %s in the mirror; list them with: "
			"tiktok-mirror videos %s",
		    account, id, account);
	} else if (rc == -1)
		log_err("%s", err);
	if (rc != 0) {
		buf_free(&o->b);
		return EXIT_FAIL;
	}
	return finish(o);
}

int
cmd_videos(struct ctx *c, int argc, char **argv)
{
	const struct cfg_account *acct;
	struct store_query q;
	struct store *st;
	struct vout o;
	const char *before = NULL, *start = NULL, *quantity = NULL;
	const char *limit = NULL, *history = NULL;
	const char *names[RENDER_NCOLS + 1];
	char err[ERRLEN], sample[128];
	size_t i;
	int rc, query, json = 0, tsv = 0, table = 0;
	const struct ctx_opt opts[] = {
		{"before", 0, NULL, &before},
		{"start", 0, NULL, &start},
		{"quantity", 0, NULL, &quantity},
		{"limit", 0, NULL, &limit},
		{"date-format", 0, NULL, &o.date_format},
		{"json", 0, &json, NULL},
		{"tsv", 0, &tsv, NULL},
		{"table", 0, &table, NULL},
		{"history", 0, NULL, &history},
		{NULL, 0, NULL, NULL},
	};

	/*
	 * A reader never writes a socket: when `| head` closes the pipe
	 * early, end quietly as cat and sqlite3 do (SIGPIPE), not with an
	 * error about stdout.
	 */
	signal(SIGPIPE, SIG_DFL);
	memset(&o, 0, sizeof(o));
	o.limit = -1;
	memset(&q, 0, sizeof(q));
	q.before_ms = STORE_NULL;
	q.start = -1;
	if ((rc = ctx_start(c, argc, argv, opts, CTX_ANY)) != CTX_GO_ON)
		return rc;
	if (before != NULL && cfg_parse_before(before, &q.before_ms) == -1)
		return usage_error("--before takes YYYY-MM-DD or an RFC 3339 "
				   "time");
	if (start != NULL &&
	    parse_i64(start, strlen(start), 1, INT32_MAX, &q.start) == -1)
		return usage_error("--start takes a positive number");
	if (quantity != NULL && strcmp(quantity, "all") == 0)
		q.quantity = -1;
	else if (quantity != NULL && parse_i64(quantity, strlen(quantity), 1,
					 INT32_MAX, &q.quantity) == -1)
		return usage_error("--quantity takes a positive number or "
				   "\"all\"");
	if (limit != NULL &&
	    parse_i64(limit, strlen(limit), 0, INT32_MAX, &o.limit) == -1)
		return usage_error("--limit takes a number of characters");
	if (json + tsv + table > 1)
		return usage_error("--json, --tsv and --table contradict each "
				   "other; give one of them");
	/* By default a table on a terminal, TSV elsewhere. */
	if (json)
		o.fmt = OUT_JSON;
	else if (tsv || (!table && !isatty(STDOUT_FILENO)))
		o.fmt = OUT_TSV;
	else
		o.fmt = OUT_TABLE;
	query = before != NULL || start != NULL || quantity != NULL;
	if (optind + 1 != argc)
		return ctx_usage(argv[0]);
	if ((rc = ctx_load(c, CFG_READER)) != 0)
		return rc;
	acct = ctx_account(c, argv[optind]);
	if (acct == NULL)
		return EXIT_USAGE;
	if (history != NULL) {
		if (query)
			return usage_error("--history takes no --before, "
					   "--start or --quantity");
		return print_history(c, acct->name, history, &o);
	}
	q.listing = !query;
	if (query) {
		if (q.before_ms == STORE_NULL && acct->has_before)
			q.before_ms = acct->before_ms;
		if (q.start == -1)
			q.start = acct->start;
		if (q.quantity == 0)
			q.quantity = acct->quantity;
		/* The account's hide, include and exclude still apply. */
		q.filter = acct->filter;
	}
	if ((st = mirror_open_ro(&c->cfg)) == NULL)
		return EXIT_FAIL;
	buf_init(&o.b, 0);
	if (o.fmt == OUT_JSON)
		out_add(&o.b, "[");
	if (o.fmt == OUT_TSV) {
		for (i = 0; i < RENDER_NCOLS; i++)
			names[i] = render_cols[i];
		names[RENDER_NCOLS] = "created_at_formatted";
		render_tsv_names(&o.b, names,
		    RENDER_NCOLS + (o.date_format != NULL));
	}
	if (o.fmt == OUT_TABLE) {
		/* A sample as wide as the format's dates usually are. */
		date_str(&o, 1758931199, sample, sizeof(sample));
		o.when_width = utf8_width(sample);
		if (o.when_width < 7)
			o.when_width = 7;
		table_row(&o, "POS", "ID", "CREATED", "VIEWS", "TITLE",
		    "COVER");
	}
	rc = store_videos(st, acct->name, &q, on_video, &o, err, sizeof(err));
	store_close(st);
	if (rc == -1) {
		log_err("%s", err);
		buf_free(&o.b);
		return EXIT_FAIL;
	}
	return finish(&o);
}
