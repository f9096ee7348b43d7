/* SPDX-License-Identifier: ISC */
/*
 * A video as the reading commands and export write it: JSON (`videos
 * --json`, export's .json and .ndjson), TSV (`videos --tsv`, `videos
 * --history`), CSV (RFC 4180) and an Atom feed (RFC 4287). Pure functions
 * appending to a struct buf, so that the escaping is unit-tested; output
 * too large for memory is fatal, as in xmalloc. An integer equal to
 * STORE_NULL is null in JSON and empty in TSV and CSV.
 */
#ifndef RENDER_H
#define RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "video_fields.h"

struct buf;

/* ,"key":"value" (or null); 'first' leaves out the comma. */
void render_json_str(struct buf *, int first, const char *key, const char *v);
void render_json_int(struct buf *, int first, const char *key, int64_t v);
/*
 * A TSV field with \t, \n, \r and \\ escaped, and every other control (C0,
 * DEL, C1), bidi override or mark and invalid byte as \xNN; NULL as empty;
 * 'first' leaves out the tab.
 */
void render_tsv_str(struct buf *, int first, const char *v);
void render_tsv_int(struct buf *, int first, int64_t v);
/*
 * One CSV field: quoted, quotes doubled, when it holds , " CR or LF. Unless
 * 'raw', text that starts with = + - @ TAB or CR gets a leading ' so that a
 * spreadsheet shows it instead of running it as a formula (OWASP's CSV
 * injection advice).
 */
void render_csv_field(struct buf *, const char *s, int raw);
/*
 * 's' as XML character data ('attr': an attribute value in double quotes).
 * What XML 1.0 cannot carry (control characters, invalid UTF-8) becomes
 * U+FFFD; CR, and in attributes TAB and LF, become character references.
 */
void render_xml_text(struct buf *, const char *s, int attr);

/*
 * A new copy of 's' cut after 'n' characters (n < 0: all), never inside a
 * UTF-8 sequence; NULL stays NULL. The caller frees it.
 */
char *render_cut(const char *s, int64_t n);

/*
 * The columns of a video: the videos table's, in its order, with
 * <name>_iso after each time (video_fields.h). RENDER_COL_<name> is a
 * column's index in render_cols[] and in render_values()'s output.
 */
#define RENDER_COL(n, key, kind)                                              \
	RENDER_COL_##n, VF_IF_TIME(kind, RENDER_COL_##n##_iso, )
enum {
	RENDER_COL_account,
	RENDER_COL_id,
	RENDER_COL_position,
	VIDEO_FIELDS(RENDER_COL)
	RENDER_COL_first_seen_at,
	RENDER_COL_updated_at,
	RENDER_COL_deleted_at,
	RENDER_NCOLS
};
extern const char *const render_cols[RENDER_NCOLS];

struct render_value {
	const char *str; /* text, or NULL for null when !is_num */
	int64_t num;	 /* a number, STORE_NULL for null */
	int is_num;
};

/*
 * Fill vals[RENDER_NCOLS] with the video's columns; 'iso' (at least 32
 * bytes) holds the text of created_at_iso.
 */
void render_values(const struct store_video *, char *iso, size_t isolen,
    struct render_value *vals);
/*
 * The video as one JSON object ({...}, no newline). 'formatted', when not
 * NULL, adds created_at_formatted after created_at_iso.
 */
void render_video_json(struct buf *, const struct store_video *,
    const char *formatted);
/* A member ,"key":value; an object {...} of n members keys[i]: vals[i]. */
void render_json_value(struct buf *, int first, const char *key,
    const struct render_value *);
void render_json_values(struct buf *, const char *const *keys,
    const struct render_value *vals, size_t n);
/* A TSV line of n names, or of n values. */
void render_tsv_names(struct buf *, const char *const *names, size_t n);
void render_tsv_values(struct buf *, const struct render_value *vals,
    size_t n);

/* A video of an export file, with what export knows of its cover. */
struct render_item {
	const struct store_video *v; /* v->cover relative to the export */
	const char *cover_type;	     /* media type; NULL: no cover */
	long long cover_size;	     /* bytes */
};

/* export's data files: a JSON array, one object per line, CSV. */
void render_json(struct buf *, const struct render_item *, size_t n);
void render_ndjson(struct buf *, const struct render_item *, size_t n);
void render_csv(struct buf *, const struct render_item *, size_t n, int raw);

/* What an Atom feed says of its account. */
struct render_feed {
	const char *account;
	const char *title; /* the feed's title and author: the display name */
	/* Where the export is published, without a trailing '/', or NULL:
	 * then cover links stay relative to the feed and it has no self or
	 * alternate link. */
	const char *base_url;
};

/*
 * The feed (RFC 4287): feed id "tag:tiktok-mirror,2025:<account>", entry
 * id "tag:tiktok-mirror,2025:<account>/<video id>"; the feed's updated is
 * its newest entry's, so an unchanged mirror gives an unchanged feed. With
 * a base URL every link is absolute, and the feed links to itself
 * (rel="self", <base>/<account>.atom) and to the site (rel="alternate",
 * <base>/). An entry links to the video only through an https share_url;
 * without one it carries its title as content (RFC 4287 4.1.2).
 */
void render_atom(struct buf *, const struct render_feed *,
    const struct render_item *, size_t n);

#endif
