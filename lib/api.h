/* SPDX-License-Identifier: ISC */
/*
 * TikTok Display API v2: request bodies and response decoding
 * (tiktok-api.md §0, §2, §3). Pure functions over bytes, so they can be
 * unit-tested and fuzzed; lib/sync.c sends the requests.
 */
#ifndef API_H
#define API_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "video_fields.h"

#define API_PAGE_MAX 20	     /* video/list max_count, video/query ids */
#define API_TEXT_MAX 65536   /* longest title/description/embed kept */
#define API_URL_MAX 8192     /* longest URL kept */

#define API_USER_INFO "/v2/user/info/"
#define API_VIDEO_LIST "/v2/video/list/"
#define API_VIDEO_QUERY "/v2/video/query/"
#define API_USER_FIELDS "open_id,display_name,avatar_url"
/* The fields= query: "id" and every key of video_fields.h. */
#define API_FIELD_KEY(n, key, kind) "," key
#define API_VIDEO_FIELDS "id" VIDEO_FIELDS(API_FIELD_KEY)

/* An integer field TikTok did not send is API_ABSENT (stored as NULL). */
#define API_ABSENT INT64_MIN

/*
 * One video as TikTok sent it: id, then the fields of video_fields.h with
 * the cover as its signed URL (cover_url). Text is NULL and an integer
 * API_ABSENT when absent, so a refresh keeps what the mirror had.
 */
#define API_MEMBER_text(n) char *n;
#define API_MEMBER_int(n) int64_t n;
#define API_MEMBER(n, key, kind)                                              \
	VF_BY_TYPE(API_MEMBER_, kind)(VF_API_NAME(n, kind))

struct video {
	char id[21]; /* 1-20 ASCII digits */
	VIDEO_FIELDS(API_MEMBER)
};

struct api_page {
	struct video videos[API_PAGE_MAX];
	int nvideos;
	int skipped;	/* items dropped for a bad id or create_time */
	/*
	 * The ids of skipped items whose id was valid (their create_time was
	 * not): TikTok still returned them, so they are not missing.
	 */
	char skipped_ids[API_PAGE_MAX][21];
	int nskipped_ids;
	int64_t cursor; /* ms; 0 when absent */
	int has_more;
};

/* Outcome classes of a data-endpoint response. */
enum api_status {
	API_OK = 0,
	API_TOKEN,     /* access_token_invalid: refresh, then retry once */
	API_SCOPE,     /* scope_not_authorized / scope_permission_missed */
	API_RATE,      /* rate_limit_exceeded or HTTP 429 */
	API_TRANSIENT, /* 5xx, internal_error, transport failures */
	API_BAD,       /* a response we cannot use (shape, JSON, 4xx) */
	/*
	 * TikTok refused the request itself: a 4xx other than 401/429, or
	 * an HTTP 200, carrying an error code (invalid_params, ...). The
	 * same request would get the same answer, so it is not retried.
	 */
	API_REFUSED,
};

/*
 * A response body, parsed once for api_status() and the decoder. It
 * borrows the body, which must outlive it.
 */
struct api_body {
	struct json j;
	int is_json;	/* else 'jerr' says why not */
	char jerr[128];
};

void api_body_parse(struct api_body *, const char *body, size_t len);
void api_body_free(struct api_body *);

/*
 * Classify a response by HTTP status and TikTok's error envelope. 'err'
 * receives "code: message (log_id ...)" for anything but API_OK. Real
 * error bodies carry no "data" member; the error struct alone (as the
 * error-handling doc prints it) is read like the envelope. A legacy v1
 * body ({"data": {..., "error_code"}, "message"}) is API_BAD, said so.
 */
enum api_status api_status(long http_status, const struct api_body *,
    char *err, size_t errlen);

/*
 * Decode a video/list or video/query response body into 'page' (free with
 * api_page_clear()). Items with an invalid id or create_time are skipped,
 * logged and counted; any other member of the wrong type or beyond its
 * bound (e.g. a title over API_TEXT_MAX) is logged and left absent, so the
 * video is kept and the mirror keeps that field's value. Returns 0 or -1
 * (the page is then empty).
 */
int api_parse_videos(const struct api_body *, struct api_page *page,
    char *err, size_t errlen);
void api_page_clear(struct api_page *);
void video_clear(struct video *);

/*
 * Decode user/info: open_id, display_name and, when 'avatar_url' is not
 * NULL, avatar_url (new strings, each NULL when absent).
 */
int api_parse_user(const struct api_body *, char **open_id,
    char **display_name, char **avatar_url, char *err, size_t errlen);

/* JSON bodies for video/list and video/query. The caller frees. */
char *api_list_body(int64_t cursor_ms, int max_count);
char *api_query_body(const char (*ids)[21], int n);

#endif
