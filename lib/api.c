/* SPDX-License-Identifier: ISC */
/*
 * TikTok Display API v2 responses. Data endpoints answer
 * {"data": {...}, "error": {"code", "message", "log_id"}} with real HTTP
 * statuses (tiktok-api.md §0, §3); success is error.code == "ok". Every
 * value is checked for type and bounds here, because jsmn is no validator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "log.h"
#include "util.h"

void
api_body_parse(struct api_body *b, const char *body, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->is_json = json_parse(&b->j, body, len, b->jerr,
			 sizeof(b->jerr)) == 0;
}

void
api_body_free(struct api_body *b)
{
	json_free(&b->j);
}

/*
 * The deprecated v1 shape, {"data": {..., "error_code": N}, "message"}
 * (tiktok-api.md §0), which some TikTok pages still print.
 */
static int
legacy_v1(const struct json *j)
{
	int data = json_get(j, 0, "data");

	return json_type(j, data) == JSON_OBJECT &&
	    json_get(j, data, "error_code") != -1 &&
	    json_get(j, 0, "error") == -1;
}

enum api_status
api_status(long http_status, const struct api_body *b, char *err,
    size_t errlen)
{
	const struct json *j = &b->j;
	char *code = NULL, *msg = NULL, *log_id = NULL, esc[128];
	char ecode[96], emsg[256];
	enum api_status rc;
	int e;

	if (!b->is_json || json_type(j, 0) != JSON_OBJECT) {
		if (http_status == 429) {
			errf(err, errlen, "HTTP 429 (rate limited)");
			return API_RATE;
		}
		if (http_status >= 500) {
			errf(err, errlen, "HTTP %ld from the server",
			    http_status);
			return API_TRANSIENT;
		}
		if (!b->is_json)
			errf(err, errlen,
			    "HTTP %ld with a body that is not JSON (%s)",
			    http_status, b->jerr);
		else
			errf(err, errlen,
			    "HTTP %ld with a JSON body that is not an object",
			    http_status);
		return http_status == 401 ? API_TOKEN : API_BAD;
	}
	e = json_get(j, 0, "error");
	/* The doc's error example is the struct alone, not enveloped. */
	if (e == -1 && json_type(j, json_get(j, 0, "code")) == JSON_STRING)
		e = 0;
	if (json_type(j, e) == JSON_OBJECT) {
		(void)json_get_string(j, e, "code", 64, &code, NULL, 0);
		(void)json_get_string(j, e, "message", 512, &msg, NULL, 0);
		(void)json_get_string(j, e, "log_id", 64, &log_id, NULL, 0);
	}
	log_escape(code ? code : "", code ? strlen(code) : 0, ecode,
	    sizeof(ecode));
	log_escape(msg ? msg : "", msg ? strlen(msg) : 0, emsg, sizeof(emsg));
	if (http_status == 200 && code != NULL && strcmp(code, "ok") == 0)
		rc = API_OK;
	else if (http_status == 429 ||
	    (code && strcmp(code, "rate_limit_exceeded") == 0))
		rc = API_RATE;
	else if (code && strcmp(code, "access_token_invalid") == 0)
		rc = API_TOKEN;
	else if (code && (strcmp(code, "scope_not_authorized") == 0 ||
			     strcmp(code, "scope_permission_missed") == 0))
		rc = API_SCOPE;
	else if (http_status >= 500 ||
	    (code && strcmp(code, "internal_error") == 0))
		rc = API_TRANSIENT;
	else if (http_status == 401)
		rc = API_TOKEN;
	else if (code != NULL && strcmp(code, "ok") != 0 &&
	    ((http_status >= 400 && http_status < 500) || http_status == 200))
		rc = API_REFUSED;
	else
		rc = API_BAD;
	if (rc != API_OK) {
		if (code == NULL && legacy_v1(j))
			errf(err, errlen,
			    "HTTP %ld with a legacy v1 body (data.error_code, "
			    "\"message\"), not TikTok's v2 API; check that "
			    "app.api_url is https://open.tiktokapis.com",
			    http_status);
		else if (code != NULL)
			errf(err, errlen, "HTTP %ld, %s: %s (log_id %s)",
			    http_status, ecode, emsg,
			    log_id ? log_escape(log_id, strlen(log_id), esc,
					 sizeof(esc))
				   : "none");
		else
			errf(err, errlen,
			    "HTTP %ld without a TikTok error envelope",
			    http_status);
	}
	free(code);
	free(msg);
	free(log_id);
	return rc;
}

void
video_clear(struct video *v)
{
#define FREE_text(n) free(v->n);
#define FREE_int(n)
#define FREE(n, key, kind) VF_BY_TYPE(FREE_, kind)(VF_API_NAME(n, kind))
	VIDEO_FIELDS(FREE)
	memset(v, 0, sizeof(*v));
}

void
api_page_clear(struct api_page *p)
{
	int i;

	for (i = 0; i < p->nvideos; i++)
		video_clear(&p->videos[i]);
	memset(p, 0, sizeof(*p));
}

/*
 * Optional members. One that is absent or null gives NULL (API_ABSENT);
 * so does one of the wrong type or beyond its bound, with a warning: the
 * video itself is still there, so it is kept, and the mirror keeps the
 * value it had for that field (design.md, "Failures": nothing is blanked).
 */
static void
opt_string(const struct json *j, int val, const char *id, const char *key,
    size_t max, char **out)
{
	char err[ERRLEN];

	*out = NULL;
	if (json_member_string(j, val, key, max, out, err, sizeof(err)) == -1)
		log_warnx("video %s: ignoring %s", id, err);
}

static void
opt_int(const struct json *j, int val, const char *id, const char *key,
    int64_t max, int64_t *out)
{
	char err[ERRLEN];

	*out = API_ABSENT;
	if (json_member_int(j, val, key, 0, max, out, err, sizeof(err)) ==
	    -1) {
		*out = API_ABSENT;
		log_warnx("video %s: ignoring %s", id, err);
	}
}

/* A video's members: "id", then video_fields.h's keys, in its order. */
#define FIELD_KEY(n, key, kind) key,
static const char *const video_keys[] = {"id", VIDEO_FIELDS(FIELD_KEY)};
#define FIELD_AT(n, key, kind) AT_##n,
enum { AT_id, VIDEO_FIELDS(FIELD_AT) AT_COUNT };

/*
 * Decode one video object; returns 0, or -1 when the item must be skipped
 * (no valid id or create_time). A skipped item with a valid id leaves it
 * in v->id, and v->created_at is then -1.
 */
static int
parse_video(const struct json *j, int t, struct video *v, char *err,
    size_t errlen)
{
	const char *raw;
	size_t rawlen = 0;
	int idt, val[AT_COUNT];
	char *id = NULL;

	memset(v, 0, sizeof(*v));
	/* One pass over the members finds them all (a lookup per key read
	 * every member again: a sixth of an unchanged refresh's CPU). */
	if (json_members(j, t, video_keys, AT_COUNT, val) == -1)
		return errf(err, errlen, "a video is not an object");
	idt = val[AT_id];
	if (json_string(j, idt, 32, &id, err, errlen) == -1)
		return errf(err, errlen, "a video has no string id");
	/*
	 * The id as sent must be the digits: decoding drops \u0000, so
	 * "1\u0000" would otherwise pass as "1" (design.md, "Ids").
	 */
	raw = json_raw(j, idt, &rawlen);
	if (!valid_id(id, strlen(id)) || raw == NULL ||
	    !valid_id(raw, rawlen)) {
		char esc[80];

		/* The text as sent: "1\u0000" must not read as "1". */
		errf(err, errlen, "video id \"%s\" is not 1-20 digits",
		    raw != NULL ? log_escape(raw, rawlen, esc, sizeof(esc))
				: log_escape(id, strlen(id), esc, sizeof(esc)));
		free(id);
		return -1;
	}
	memcpy(v->id, id, strlen(id) + 1);
	free(id);
	/* json_member_int() says nothing about a member that is absent. */
	snprintf(err, errlen, "create_time: missing");
	if (json_member_int(j, val[AT_created_at], "create_time", 0,
		INT64_MAX / 1000, &v->created_at, err, errlen) != 0) {
		char e2[ERRLEN];

		snprintf(e2, sizeof(e2), "%s", err);
		v->created_at = -1;
		return errf(err, errlen, "video %s: no valid create_time (%s)",
		    v->id, e2);
	}
	/* What each kind is, from video_fields.h; the time was read above. */
#define PARSE_TEXT(n, key, at)                                                 \
	opt_string(j, val[at], v->id, key, API_TEXT_MAX, &v->n);
#define PARSE_HTML PARSE_TEXT
#define PARSE_URL(n, key, at)                                                  \
	opt_string(j, val[at], v->id, key, API_URL_MAX, &v->n);
#define PARSE_COVER PARSE_URL
#define PARSE_TIME(n, key, at)
#define PARSE_INT(n, key, at) opt_int(j, val[at], v->id, key, INT32_MAX, &v->n);
#define PARSE_COUNT(n, key, at)                                                \
	opt_int(j, val[at], v->id, key, INT64_MAX, &v->n);
#define PARSE(n, key, kind) PARSE_##kind(VF_API_NAME(n, kind), key, AT_##n)
	VIDEO_FIELDS(PARSE)
	return 0;
}

int
api_parse_videos(const struct api_body *b, struct api_page *page, char *err,
    size_t errlen)
{
	const struct json *j = &b->j;
	char verr[ERRLEN];
	int data, arr, t, more, rc = -1;

	memset(page, 0, sizeof(*page));
	if (!b->is_json) {
		errf(err, errlen, "%s", b->jerr);
		goto out;
	}
	data = json_get(j, 0, "data");
	if (json_type(j, data) != JSON_OBJECT) {
		errf(err, errlen, "response has no \"data\" object");
		goto out;
	}
	arr = json_get(j, data, "videos");
	if (arr != -1 && json_type(j, arr) != JSON_ARRAY &&
	    json_type(j, arr) != JSON_NULL) {
		errf(err, errlen, "data.videos is not an array");
		goto out;
	}
	if (json_count(j, arr) > API_PAGE_MAX) {
		errf(err, errlen, "page has %d videos, more than %d",
		    json_count(j, arr), API_PAGE_MAX);
		goto out;
	}
	for (t = json_first(j, arr); t != -1; t = json_next(j, arr, t)) {
		struct video *v = &page->videos[page->nvideos];

		if (parse_video(j, t, v, verr, sizeof(verr)) == -1) {
			log_warnx("skipping a video: %s", verr);
			page->skipped++;
			if (v->id[0] != '\0')
				memcpy(page->skipped_ids[page->nskipped_ids++],
				    v->id, sizeof(v->id));
			memset(v, 0, sizeof(*v));
			continue;
		}
		page->nvideos++;
	}
	if (json_get_int(j, data, "cursor", 0, INT64_MAX, &page->cursor, err,
		errlen) == -1)
		goto out;
	more = json_get(j, data, "has_more");
	if (more != -1 && json_type(j, more) != JSON_NULL &&
	    json_bool(j, more, &page->has_more) == -1) {
		errf(err, errlen, "data.has_more is not a boolean");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		api_page_clear(page);
	return rc;
}

int
api_parse_user(const struct api_body *b, char **open_id,
    char **display_name, char **avatar_url, char *err, size_t errlen)
{
	const struct json *j = &b->j;
	int data, user;

	*open_id = *display_name = NULL;
	if (avatar_url != NULL)
		*avatar_url = NULL;
	if (!b->is_json)
		return errf(err, errlen, "%s", b->jerr);
	data = json_get(j, 0, "data");
	user = json_get(j, data, "user");
	if (json_type(j, user) != JSON_OBJECT)
		return errf(err, errlen, "response has no data.user object");
	if (json_get_string(j, user, "open_id", 256, open_id, err,
		errlen) == -1 ||
	    json_get_string(j, user, "display_name", 4096, display_name, err,
		errlen) == -1 ||
	    (avatar_url != NULL &&
		json_get_string(j, user, "avatar_url", API_URL_MAX, avatar_url,
		    err, errlen) == -1)) {
		free(*open_id);
		free(*display_name);
		*open_id = *display_name = NULL;
		return -1;
	}
	return 0;
}

char *
api_list_body(int64_t cursor_ms, int max_count)
{
	if (cursor_ms > 0)
		return xasprintf("{\"cursor\":%lld,\"max_count\":%d}",
		    (long long)cursor_ms, max_count);
	return xasprintf("{\"max_count\":%d}", max_count);
}

char *
api_query_body(const char (*ids)[21], int n)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	if (buf_addstr(&b, "{\"filters\":{\"video_ids\":[") == -1)
		fatalx("api_query_body");
	for (i = 0; i < n; i++)
		if (buf_printf(&b, "%s\"%s\"", i ? "," : "", ids[i]) == -1)
			fatalx("api_query_body");
	if (buf_addstr(&b, "]}}") == -1)
		fatalx("api_query_body");
	return buf_take(&b, NULL);
}
