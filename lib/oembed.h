/* SPDX-License-Identifier: ISC */
/*
 * TikTok's public oEmbed endpoint, for curated accounts (design.md,
 * "Curated accounts (no TikTok app)"): the video URLs users copy, the
 * request URL, and the decoding of an answer. Pure functions over bytes,
 * so they can be unit-tested and fuzzed; lib/sync.c sends the requests.
 *
 * oEmbed needs no token. Its error bodies are not documented, so an answer
 * is judged by its HTTP status: a 4xx (but 408 and 429) means TikTok
 * refuses that video (private, deleted, region-blocked); a 5xx, a timeout
 * or a 200 whose body is not a video object is a failure of the refresh.
 */
#ifndef OEMBED_H
#define OEMBED_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

#define OEMBED_DEFAULT_URL "https://www.tiktok.com/oembed"

/*
 * The video id in a TikTok video URL as users copy it from the app or the
 * browser: http(s)://(www.|m.)tiktok.com/@USER/video/ID, or the older
 * m.tiktok.com/v/ID.html, with or without a trailing slash, query string
 * or fragment. Returns 0 with the id (1-20 digits that fit in 64 bits) in
 * 'id', or -1 with 'err' saying what to write instead (a bare id, a short
 * vm.tiktok.com link, another site).
 */
int oembed_video_id(const char *url, char id[21], char *err, size_t errlen);

/*
 * The creation time TikTok puts in a video id: its top 32 bits are the
 * unix second. The id must have passed oembed_video_id().
 */
int64_t oembed_id_time(const char *id);

/*
 * The request for 'video_url' at endpoint 'base' (app.oembed_url):
 * BASE?url=URL with the URL percent-encoded and without its query string
 * or fragment (tracking parameters say nothing about the video). The
 * caller frees.
 */
char *oembed_request_url(const char *base, const char *video_url);

/* Outcome classes of an oEmbed answer, by HTTP status alone. */
enum oembed_status {
	OEMBED_OK = 0,	   /* 200: decode the body */
	OEMBED_REFUSED,	   /* 4xx but 408/429: the video is not available */
	OEMBED_RATE,	   /* 429 */
	OEMBED_TRANSIENT,  /* 5xx, 408 */
	OEMBED_BAD,	   /* anything else (1xx, 2xx other than 200, 3xx) */
};

enum oembed_status oembed_status(long http_status);

/* A decoded answer. Strings are NULL when absent. */
struct oembed {
	char *title;
	char *author_name;
	char *html;
	char *thumbnail_url;
};

/*
 * Decode an oEmbed answer for video 'id': an object with "type": "video"
 * and an "html" string; title, author_name and thumbnail_url are optional
 * strings within API_TEXT_MAX / API_URL_MAX, and an "embed_product_id", when
 * present, must be 'id'. Returns 0 and fills 'o' (free with oembed_clear()),
 * or -1 with 'err' (then 'o' holds nothing).
 */
int oembed_parse(const struct api_body *, const char *id, struct oembed *o,
    char *err, size_t errlen);
void oembed_clear(struct oembed *);

/* The player URL design.md gives a curated video's embed_link. */
char *oembed_embed_link(const char *id);

#endif
