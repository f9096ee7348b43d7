/* SPDX-License-Identifier: ISC */
/*
 * Output helpers for the reading commands: JSON members, TSV fields, times.
 * Integer values equal to STORE_NULL print as null (JSON) or empty (TSV).
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "video_fields.h"

struct buf;
struct store_video;

/* ,"key":"value" (or null); 'first' suppresses the comma. */
void out_json_str(struct buf *, int first, const char *key, const char *v);
void out_json_int(struct buf *, int first, const char *key, int64_t v);
/* A TSV field with \t, \n, \r and \\ escaped; NULL as empty. */
void out_tsv_str(FILE *, int first, const char *v);
void out_tsv_int(FILE *, int first, int64_t v);
/* ISO 8601 UTC, or "-" for STORE_NULL. */
const char *out_time(int64_t t, char *buf, size_t len);
/* Write the buffer to stdout; returns 0 or -1 (e.g. a closed pipe). */
int out_flush(struct buf *);
/* A new copy of 's' cut after 'n' characters (n < 0: all), never inside a
 * UTF-8 sequence; NULL stays NULL. The caller frees it. */
char *out_cut(const char *s, int64_t n);

/*
 * A video as the reading commands show it (`videos --json`, export): the
 * videos columns in table order with created_at_iso after created_at.
 * out_video_values() fills vals[OUT_VIDEO_NKEYS], in the order of
 * out_video_keys[]; 'iso' (at least 32 bytes) holds created_at_iso.
 */
#define OUT_COL(n, key, kind) OUT_COL_##n, VF_IF_TIME(kind, OUT_COL_##n##_iso,)
enum {
	OUT_COL_account,
	OUT_COL_id,
	OUT_COL_position,
	VIDEO_FIELDS(OUT_COL)
	OUT_COL_first_seen_at,
	OUT_COL_updated_at,
	OUT_COL_deleted_at,
	OUT_VIDEO_NKEYS
};
extern const char *const out_video_keys[OUT_VIDEO_NKEYS];

struct out_value {
	const char *str; /* text, or NULL for null when !is_num */
	int64_t num;	 /* a number, STORE_NULL for null */
	int is_num;
};

void out_video_values(const struct store_video *, char *iso, size_t isolen,
    struct out_value *vals);
/*
 * Append the video as one JSON object ({...}, no newline). 'formatted', when
 * not NULL, adds created_at_formatted after created_at_iso.
 */
void out_video_json(struct buf *, const struct store_video *,
    const char *formatted);

#endif
