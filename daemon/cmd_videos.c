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

static int
on_video(const struct store_video *v, void *arg)
{
	struct vout *o = arg;
	char *title = render_cut(v->title, o->limit);
	char *desc = render_cut(v->description, o->limit);
	struct render_value vals[RENDER_NCOLS];
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
		vals[RENDER_COL_created_at_iso].str = when;
		render_tsv_values(&o->b, vals, RENDER_NCOLS);
	} else {
		char *t = render_cut(title, 48), esc[256];

		printf("%4s  %-20s  %-20s  %12lld  %-48s  %s\n",
		    v->position == STORE_NULL ? "-"
					      : (snprintf(iso, sizeof(iso),
						     "%lld",
						     (long long)v->position),
						    iso),
		    v->id, when,
		    (long long)(v->total_views == STORE_NULL ? 0
							     : v->total_views),
		    log_escape(t, strlen(t), esc, sizeof(esc)),
		    v->cover ? v->cover : "-");
		free(t);
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
	char err[ERRLEN];
	enum format f;
	int ch, rc, query = 0, fmt_given = 0;

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
	if (o.fmt == FMT_TSV)
		render_tsv_names(&o.b, render_cols, RENDER_NCOLS);
	if (o.fmt == FMT_TABLE)
		printf("%4s  %-20s  %-20s  %12s  %-48s  %s\n", "POS", "ID",
		    "CREATED", "VIEWS", "TITLE", "COVER");
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
