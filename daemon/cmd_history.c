/* SPDX-License-Identifier: ISC */
/*
 * `videos NAME --history ID`: a video's engagement history from the
 * video_stats table, oldest first: one point per change of a count (older
 * than 30 days thinned to one per UTC day). JSON: an array of objects keyed
 * by the video_stats columns plus observed_at_iso; otherwise a table on a
 * terminal, TSV with a header row elsewhere, like the rest of `videos`.
 */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "output.h"
#include "render.h"
#include "store.h"
#include "util.h"

static const char *const HISTORY_COLS[] = {"account", "id", "observed_at",
    "observed_at_iso", "total_views", "total_likes", "total_comments",
    "total_shares"};

struct hout {
	enum out_format fmt;
	struct buf b;
	int n;
	int failed;
};

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
	struct hout *o = arg;
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
		if (buf_addstr(&o->b, o->n ? ",\n  " : "\n  ") == -1)
			fatalx("output too large");
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
	if (o->b.len > 65536 && out_flush(&o->b) == -1)
		o->failed = 1;
	o->n++;
	return o->failed ? -1 : 0;
}

int
videos_history(struct ctx *c, const char *account, const char *id,
    enum out_format fmt)
{
	struct store *st;
	struct hout o;
	char err[ERRLEN], esc[64];
	int rc;

	if (!valid_id(id, strlen(id)))
		return usage_error("--history takes a video id (1-20 digits), "
				   "not '%s'",
		    log_escape(id, strlen(id), esc, sizeof(esc)));
	st = store_open_ro(c->cfg.database, err, sizeof(err));
	if (st == NULL) {
		log_err("%s", err);
		return EXIT_FAIL;
	}
	memset(&o, 0, sizeof(o));
	o.fmt = fmt;
	buf_init(&o.b, 0);
	if (fmt == OUT_JSON && buf_addstr(&o.b, "[") == -1)
		fatalx("output too large");
	if (fmt == OUT_TSV)
		render_tsv_names(&o.b, HISTORY_COLS, nitems(HISTORY_COLS));
	if (fmt == OUT_TABLE)
		printf("%-20s  %12s  %12s  %12s  %12s\n", "OBSERVED", "VIEWS",
		    "LIKES", "COMMENTS", "SHARES");
	rc = store_history(st, account, id, on_point, &o, err, sizeof(err));
	store_close(st);
	if (rc == -1) {
		log_err("%s", err);
		buf_free(&o.b);
		return EXIT_FAIL;
	}
	if (rc == 1) {
		fflush(stdout);
		log_err("%s: no video %s in the mirror; list them with: "
			"tiktok-mirror videos %s",
		    account, id, account);
		buf_free(&o.b);
		return EXIT_FAIL;
	}
	if (fmt == OUT_JSON && buf_addstr(&o.b, o.n ? "\n]\n" : "]\n") == -1)
		fatalx("output too large");
	if (out_flush(&o.b) == -1 || fflush(stdout) == EOF)
		o.failed = 1;
	buf_free(&o.b);
	return o.failed ? EXIT_FAIL : EXIT_OK;
}
