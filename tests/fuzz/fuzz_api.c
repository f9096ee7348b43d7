/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the response decoders of lib/api.c, lib/oembed.c
 * and lib/oauth.c, on the raw input (no NUL terminator): api_status()
 * under several HTTP statuses, api_parse_videos(), api_parse_user(),
 * oembed_parse(), oembed_video_id() (on the input as a string) and
 * oauth_parse_token(). Checks what the mirror relies on: every video kept
 * has an id of 1-20 ASCII digits (the only thing that names a cover file),
 * a create_time >= 0, counts absent or >= 0, text absent or valid UTF-8
 * within its cap; a token is only accepted complete and never alongside
 * an OAuth error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fuzz_common.h"
#include "log.h"
#include "oauth.h"
#include "oembed.h"
#include "secrets.h"
#include "util.h"

static void
check_text(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	CHECK(n <= max);
	CHECK(fuzz_utf8_ok((const unsigned char *)s, n));
}

static void
check_id(const char *id)
{
	size_t n = strlen(id), i;

	CHECK(n >= 1 && n <= 20);
	for (i = 0; i < n; i++)
		CHECK(id[i] >= '0' && id[i] <= '9');
}

static void
check_count(int64_t v, int64_t max)
{
	CHECK(v == API_ABSENT || (v >= 0 && v <= max));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 400, 401, 429, 500, 503};
	const char *body = (const char *)data;
	struct api_page p;
	struct tokens t;
	char err[ERRLEN], oerr[64];
	char *open_id, *name, *url, vid[21];
	struct oembed o;
	struct api_body b;
	size_t i;
	int k, rc;

	log_init(LOG_QUIET);
	api_body_parse(&b, body, size);
	for (i = 0; i < nitems(statuses); i++) {
		err[0] = '\0';
		rc = (int)api_status(statuses[i], &b, err, sizeof(err));
		CHECK(rc >= API_OK && rc <= API_REFUSED);
		if (rc != API_OK)
			CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
		if (statuses[i] != 200)
			CHECK(rc != API_OK);
	}

	if (api_parse_videos(&b, &p, err, sizeof(err)) == 0) {
		CHECK(p.nvideos >= 0 && p.nvideos <= API_PAGE_MAX);
		CHECK(p.nvideos + p.skipped <= API_PAGE_MAX);
		CHECK(p.nskipped_ids >= 0 && p.nskipped_ids <= p.skipped);
		CHECK(p.cursor >= 0);
		CHECK(p.has_more == 0 || p.has_more == 1);
		for (k = 0; k < p.nvideos; k++) {
			const struct video *v = &p.videos[k];

			check_id(v->id);
			CHECK(v->created_at >= 0 &&
			    v->created_at <= INT64_MAX / 1000);
			check_text(v->title, API_TEXT_MAX);
			check_text(v->description, API_TEXT_MAX);
			check_text(v->embed_html, API_TEXT_MAX);
			check_text(v->cover_url, API_URL_MAX);
			check_text(v->share_url, API_URL_MAX);
			check_text(v->embed_link, API_URL_MAX);
			check_count(v->duration, INT32_MAX);
			check_count(v->width, INT32_MAX);
			check_count(v->height, INT32_MAX);
			check_count(v->total_likes, INT64_MAX);
			check_count(v->total_comments, INT64_MAX);
			check_count(v->total_shares, INT64_MAX);
			check_count(v->total_views, INT64_MAX);
		}
		for (k = 0; k < p.nskipped_ids; k++)
			check_id(p.skipped_ids[k]);
		api_page_clear(&p);
		CHECK(p.nvideos == 0);
	} else {
		CHECK(p.nvideos == 0 && err[0] != '\0');
	}

	if (api_parse_user(&b, &open_id, &name, NULL, err, sizeof(err)) ==
	    0) {
		check_text(open_id, 256);
		check_text(name, 4096);
		free(open_id);
		free(name);
	} else
		CHECK(open_id == NULL && name == NULL);

	if (oembed_parse(&b, "6718335390845095173", &o, err, sizeof(err)) ==
	    0) {
		CHECK(o.html != NULL && o.html[0] != '\0');
		check_text(o.html, API_TEXT_MAX);
		check_text(o.title, API_TEXT_MAX);
		check_text(o.author_name, API_TEXT_MAX);
		check_text(o.thumbnail_url, API_URL_MAX);
		oembed_clear(&o);
	} else
		CHECK(o.html == NULL && err[0] != '\0');
	api_body_free(&b);
	/* A video address names a cover file through its id alone. */
	url = xstrndup(body, size);
	if (oembed_video_id(url, vid, err, sizeof(err)) == 0)
		check_id(vid);
	free(url);

	rc = oauth_parse_token(body, size, 1700000000, &t, oerr, sizeof(oerr),
	    err, sizeof(err));
	if (rc == 0) {
		CHECK(t.access_token != NULL && t.access_token[0] != '\0');
		CHECK(t.refresh_token != NULL && t.refresh_token[0] != '\0');
		CHECK(t.access_expires_at > 1700000000);
		CHECK(t.refresh_expires_at > 1700000000);
		CHECK(oerr[0] == '\0');
		check_text(t.access_token, 4096);
		check_text(t.refresh_token, 4096);
		check_text(t.open_id, 256);
		check_text(t.scope, 1024);
	} else if (rc == 1) {
		CHECK(oerr[0] != '\0');
		CHECK(t.access_token == NULL && t.refresh_token == NULL);
	} else {
		CHECK(rc == -1);
		CHECK(t.access_token == NULL && t.refresh_token == NULL);
	}
	tokens_clear(&t);
	return 0;
}
