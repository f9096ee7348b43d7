/* SPDX-License-Identifier: ISC */
/*
 * `videos NAME [--before DATE] [--start N] [--quantity N|all] [--limit N]
 * [--date-format FMT] [--json | --tsv | --table]`: the My Videos query, answered from
 * the mirror alone. Without query options it prints the account's
 * configured listing in position order; --before/--start/--quantity query
 * the mirror's live videos differently (the others keep the configured
 * values). JSON: an array of objects keyed by the videos columns plus
 * created_at_iso. Otherwise a table on a terminal, TSV elsewhere.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "output.h"
#include "render.h"
#include "store.h"
#include "util.h"

enum format { FMT_TABLE, FMT_TSV, FMT_JSON };

struct vout {
	enum format fmt;
	int64_t limit; /* characters of title/description; -1: all */
	const char *date_format;
	struct buf b;
	size_t when_width; /* the CREATED column, in display columns */
	int n;
	int failed;
};

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

/* 's' padded with spaces to 'width' display columns ('right': aligned). */
static void
table_cell(struct buf *b, const char *s, size_t width, int right)
{
	size_t w = utf8_width(s), pad = w < width ? width - w : 0;
	static const char spaces[] = "                                        "
				     "                                        ";

	if (right && buf_add(b, spaces, pad) == -1)
		fatalx("output too large");
	if (buf_addstr(b, s) == -1)
		fatalx("output too large");
	if (!right && buf_add(b, spaces, pad) == -1)
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
	table_cell(&o->b, "", 2, 0);
	table_cell(&o->b, id, TABLE_ID, 0);
	table_cell(&o->b, "", 2, 0);
	table_cell(&o->b, when, o->when_width, 0);
	table_cell(&o->b, "", 2, 0);
	table_cell(&o->b, views, 12, 1);
	table_cell(&o->b, "", 2, 0);
	table_cell(&o->b, esc, TABLE_TITLE, 0);
	table_cell(&o->b, "", 2, 0);
	table_cell(&o->b, cover, 0, 0);
	if (buf_addstr(&o->b, "\n") == -1)
		fatalx("output too large");
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
	if (o->fmt == FMT_JSON) {
		if (buf_addstr(&o->b, o->n ? ",\n  " : "\n  ") == -1)
			fatalx("output too large");
		render_video_json(&o->b, &w,
		    o->date_format != NULL ? when : NULL);
	} else if (o->fmt == FMT_TSV) {
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
	if (o->b.len > 65536 && out_flush(&o->b) == -1)
		o->failed = 1;
	o->n++;
	return o->failed ? -1 : 0;
}

int
cmd_videos(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"before", required_argument, NULL, 'b'},
		{"start", required_argument, NULL, 's'},
		{"quantity", required_argument, NULL, 'n'},
		{"limit", required_argument, NULL, 'l'},
		{"date-format", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"tsv", no_argument, NULL, 't'},
		{"table", no_argument, NULL, 'T'},
		{"history", required_argument, NULL, 'H'},
		CTX_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const struct cfg_account *acct;
	struct store_query q;
	struct store *st;
	struct vout o;
	const char *history = NULL;
	const char *names[RENDER_NCOLS + 1];
	char err[ERRLEN], sample[128];
	size_t i;
	enum format f;
	int ch, rc, query = 0, fmt_given = 0;

	/*
	 * A reader never writes a socket: when `| head` closes the pipe
	 * early, end quietly as cat and sqlite3 do (SIGPIPE), not with an
	 * error about stdout.
	 */
	signal(SIGPIPE, SIG_DFL);
	memset(&o, 0, sizeof(o));
	o.fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_TSV;
	o.limit = -1;
	memset(&q, 0, sizeof(q));
	q.before_ms = STORE_NULL;
	q.start = -1;
	q.quantity = 0;
	while ((ch = getopt_long(argc, argv, CTX_SHORTOPTS, longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'b':
			if (cfg_parse_before(optarg, &q.before_ms) == -1)
				return usage_error("--before takes YYYY-MM-DD or"
						   " an RFC 3339 time");
			query = 1;
			break;
		case 's':
			if (parse_i64(optarg, strlen(optarg), 1, INT32_MAX,
				&q.start) == -1)
				return usage_error("--start takes a positive "
						   "number");
			query = 1;
			break;
		case 'n':
			if (strcmp(optarg, "all") == 0)
				q.quantity = -1;
			else if (parse_i64(optarg, strlen(optarg), 1, INT32_MAX,
				     &q.quantity) == -1)
				return usage_error("--quantity takes a positive "
						   "number or \"all\"");
			query = 1;
			break;
		case 'l':
			if (parse_i64(optarg, strlen(optarg), 0, INT32_MAX,
				&o.limit) == -1)
				return usage_error("--limit takes a number of "
						   "characters");
			break;
		case 'd':
			o.date_format = optarg;
			break;
		case 'j':
		case 't':
		case 'T':
			f = ch == 'j' ? FMT_JSON : ch == 't' ? FMT_TSV : FMT_TABLE;
			if (fmt_given && o.fmt != f)
				return usage_error("--json, --tsv and --table "
						   "contradict each other; "
						   "give one of them");
			o.fmt = f;
			fmt_given = 1;
			break;
		case 'H':
			history = optarg;
			break;
		default:
			if ((rc = ctx_option(c, ch, optarg, argv[0])) !=
			    CTX_GO_ON)
				return rc;
		}
	}
	if (optind + 1 != argc)
		return ctx_usage(argv[0]);
	if ((rc = ctx_load_reader(c)) != 0)
		return rc;
	acct = ctx_account(c, argv[optind]);
	if (acct == NULL)
		return EXIT_USAGE;
	if (history != NULL) {
		if (query)
			return usage_error("--history takes no --before, "
					   "--start or --quantity");
		return videos_history(c, acct->name, history,
		    o.fmt == FMT_JSON	 ? OUT_JSON
			: o.fmt == FMT_TSV ? OUT_TSV
					   : OUT_TABLE);
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
	st = store_open_ro(c->cfg.database, err, sizeof(err));
	if (st == NULL) {
		log_err("%s", err);
		return EXIT_FAIL;
	}
	buf_init(&o.b, 0);
	if (o.fmt == FMT_JSON && buf_addstr(&o.b, "[") == -1)
		fatalx("output too large");
	if (o.fmt == FMT_TSV) {
		for (i = 0; i < RENDER_NCOLS; i++)
			names[i] = render_cols[i];
		names[RENDER_NCOLS] = "created_at_formatted";
		render_tsv_names(&o.b, names,
		    RENDER_NCOLS + (o.date_format != NULL));
	}
	if (o.fmt == FMT_TABLE) {
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
	if (o.fmt == FMT_JSON && buf_addstr(&o.b, o.n ? "\n]\n" : "]\n") == -1)
		fatalx("output too large");
	if (out_flush(&o.b) == -1 || fflush(stdout) == EOF)
		o.failed = 1;
	buf_free(&o.b);
	return o.failed ? EXIT_FAIL : EXIT_OK;
}
