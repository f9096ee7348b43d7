/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/api.c: how a data-endpoint response is classified
 * (tiktok-api.md §0, §3), how video/list and video/query pages decode
 * (§2.2, §2.3) with every item and value checked, and the exact request
 * bodies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "util.h"

#define OK_ENVELOPE                                                            \
	"\"error\":{\"code\":\"ok\",\"message\":\"\","                        \
	"\"log_id\":\"20220829194722CBE87ED59D524E727021\"}"

/* api_status() over a C string, with the message in 'err'. */
static enum api_status
status(long http, const char *body, char *err, size_t errlen)
{
	struct api_body b;
	enum api_status st;

	err[0] = '\0';
	api_body_parse(&b, body, strlen(body));
	st = api_status(http, &b, err, errlen);
	api_body_free(&b);
	return st;
}

static void
test_status_ok(void **state)
{
	char err[ERRLEN];

	(void)state;
	assert_int_equal(status(200, "{\"data\":{\"videos\":[]}," OK_ENVELOPE
				     "}",
			     err, sizeof(err)),
	    API_OK);
	/* "ok" needs HTTP 200; an ok envelope with 400 is not success. */
	assert_int_equal(status(400, "{\"data\":{}," OK_ENVELOPE "}", err,
			     sizeof(err)),
	    API_BAD);
	assert_non_null(strstr(err, "HTTP 400"));
}

static void
test_status_errors(void **state)
{
	static const struct {
		long http;
		const char *code;
		enum api_status want;
	} cases[] = {
	    {401, "access_token_invalid", API_TOKEN},
	    {200, "access_token_invalid", API_TOKEN},
	    {429, "rate_limit_exceeded", API_RATE},
	    {200, "rate_limit_exceeded", API_RATE},
	    {500, "internal_error", API_TRANSIENT},
	    {200, "internal_error", API_TRANSIENT},
	    {503, "whatever", API_TRANSIENT},
	    {403, "scope_not_authorized", API_SCOPE},
	    {401, "scope_permission_missed", API_SCOPE},
	    /* Deterministic: sending it again gets the same answer. */
	    {400, "invalid_params", API_REFUSED},
	    {200, "invalid_params", API_REFUSED},
	    {404, "not_found", API_REFUSED},
	    {200, "spam_risk_too_many_posts", API_REFUSED},
	    {401, "something_new", API_TOKEN},
	};
	char body[512], err[ERRLEN], want[128];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		snprintf(body, sizeof(body),
		    "{\"data\":{},\"error\":{\"code\":\"%s\",\"message\":"
		    "\"Something went wrong.\",\"log_id\":\"LOG%zu\"}}",
		    cases[i].code, i);
		if (status(cases[i].http, body, err, sizeof(err)) !=
		    cases[i].want)
			fail_msg("HTTP %ld %s: got %d, want %d", cases[i].http,
			    cases[i].code,
			    (int)status(cases[i].http, body, err, sizeof(err)),
			    (int)cases[i].want);
		/* The message names status, code, text and log_id. */
		snprintf(want, sizeof(want), "HTTP %ld", cases[i].http);
		assert_non_null(strstr(err, want));
		assert_non_null(strstr(err, cases[i].code));
		assert_non_null(strstr(err, "Something went wrong."));
		snprintf(want, sizeof(want), "LOG%zu", i);
		assert_non_null(strstr(err, want));
	}
}

static void
test_status_not_json(void **state)
{
	char err[ERRLEN];

	(void)state;
	/* Gateways answer HTML or nothing: the HTTP status decides. */
	assert_int_equal(status(502, "<html><body>Bad Gateway</body></html>",
			     err, sizeof(err)),
	    API_TRANSIENT);
	assert_non_null(strstr(err, "502"));
	assert_int_equal(status(500, "", err, sizeof(err)), API_TRANSIENT);
	assert_int_equal(status(504, "{\"data\":", err, sizeof(err)),
	    API_TRANSIENT);
	assert_int_equal(status(429, "Too Many Requests", err, sizeof(err)),
	    API_RATE);
	assert_non_null(strstr(err, "429"));
	assert_int_equal(status(429, "", err, sizeof(err)), API_RATE);
	assert_int_equal(status(401, "Unauthorized", err, sizeof(err)),
	    API_TOKEN);
	assert_int_equal(status(200, "<html>", err, sizeof(err)), API_BAD);
	assert_non_null(strstr(err, "not JSON"));
	assert_int_equal(status(404, "", err, sizeof(err)), API_BAD);
	assert_int_equal(status(200, "[1,2]", err, sizeof(err)), API_BAD);
	/* Valid JSON that is no object says so (err was uninitialized). */
	assert_non_null(strstr(err, "not an object"));
	assert_int_equal(status(200, "\"ok\"", err, sizeof(err)), API_BAD);
}

static void
test_status_wrong_envelope(void **state)
{
	static const char *const bad[] = {
	    "{}",
	    "{\"data\":{\"videos\":[]}}",
	    "{\"data\":{},\"error\":\"ok\"}",
	    "{\"data\":{},\"error\":{}}",
	    "{\"data\":{},\"error\":{\"code\":0}}",
	    "{\"data\":{},\"error\":{\"code\":null}}",
	    "{\"data\":{},\"error\":[\"ok\"]}",
	    /* legacy v1 shape (§0) */
	    "{\"data\":{\"error_code\":0},\"message\":\"success\"}",
	};
	char err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		if (status(200, bad[i], err, sizeof(err)) != API_BAD)
			fail_msg("not API_BAD: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(status(200, "{\"data\":{}}", err, sizeof(err)),
	    API_BAD);
	assert_non_null(strstr(err, "envelope"));
	/* Any code but "ok" (case matters) is an error TikTok sent. */
	assert_int_equal(status(200,
			     "{\"data\":{},\"error\":{\"code\":\"OK\"}}",
			     err, sizeof(err)),
	    API_REFUSED);
	/* The legacy v1 shape says what it is. */
	assert_int_equal(status(200,
			     "{\"data\":{\"error_code\":0},\"message\":"
			     "\"success\"}",
			     err, sizeof(err)),
	    API_BAD);
	assert_non_null(strstr(err, "legacy v1"));
	/* Without an envelope, 5xx is still transient and 429 still rate. */
	assert_int_equal(status(500, "{}", err, sizeof(err)), API_TRANSIENT);
	assert_int_equal(status(429, "{}", err, sizeof(err)), API_RATE);
}

static void
test_status_escapes(void **state)
{
	char err[ERRLEN];

	(void)state;
	assert_int_equal(status(400,
			     "{\"error\":{\"code\":\"bad\\u001b[31m\","
			     "\"message\":\"line\\none\\u0000\","
			     "\"log_id\":\"x\\ny\"}}",
			     err, sizeof(err)),
	    API_REFUSED);
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, '\x1b'));
	assert_non_null(strstr(err, "bad\\x1b[31m"));
	assert_non_null(strstr(err, "line\\x0aone"));
}

/* api_parse_videos() over 'len' bytes. */
static int
parse_n(const char *body, size_t len, struct api_page *p, char *err,
    size_t errlen)
{
	struct api_body b;
	int rc;

	err[0] = '\0';
	api_body_parse(&b, body, len);
	rc = api_parse_videos(&b, p, err, errlen);
	api_body_free(&b);
	return rc;
}

/* api_parse_videos() over a C string. */
static int
parse(const char *body, struct api_page *p, char *err, size_t errlen)
{
	return parse_n(body, strlen(body), p, err, errlen);
}

static const char PAGE[] =
    "{\"data\":{\"videos\":["
    "{\"id\":\"7080213458555737986\",\"create_time\":1646883959,"
    "\"title\":\"video 1\",\"video_description\":\"Test video 1 "
    "\\ud83d\\ude00 #fyp\",\"duration\":2,\"height\":1280,\"width\":720,"
    "\"like_count\":1024,\"comment_count\":12,\"share_count\":3,"
    "\"view_count\":123456789012,"
    "\"cover_image_url\":\"https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-"
    "0037/49b5~tplv-noop.image?x-expires=1657851434\\u0026x-signature="
    "FjrS%2B%3D\","
    "\"share_url\":\"https://www.tiktok.com/@user_id/video/"
    "7080213458555737986?utm_campaign=tt4d_open_api\","
    "\"embed_html\":\"\\u003cblockquote class=\\\"tiktok-embed\\\" "
    "cite=\\\"https:\\/\\/www.tiktok.com\\/@u\\/video\\/1\\\"\\u003e"
    "\\u003c\\/blockquote\\u003e\","
    "\"embed_link\":\"https://www.tiktok.com/static/profile-video?id="
    "7080213458555737986&hide_author=1\",\"is_aigc\":false},"
    "{\"id\":\"7077642457847991554\",\"create_time\":1646283000,"
    "\"title\":\"\\u6771\\u4eac\\u306e\\u591c \\u2728\","
    "\"unknown_future_field\":{\"nested\":[1,2,{\"deeper\":null}]}},"
    "{\"id\":\"7070000000000000001\",\"create_time\":1646000000,"
    "\"title\":null,\"height\":null,\"width\":null}"
    "],\"cursor\":1646000000000,\"has_more\":true}," OK_ENVELOPE "}";

static void
test_videos_page(void **state)
{
	struct api_page p;
	struct video *v;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse(PAGE, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nvideos, 3);
	assert_int_equal(p.skipped, 0);
	assert_true(p.cursor == 1646000000000);
	assert_int_equal(p.has_more, 1);

	v = &p.videos[0];
	assert_string_equal(v->id, "7080213458555737986");
	assert_true(v->created_at == 1646883959);
	assert_string_equal(v->title, "video 1");
	assert_string_equal(v->description,
	    "Test video 1 \xf0\x9f\x98\x80 #fyp");
	assert_true(v->duration == 2);
	assert_true(v->height == 1280);
	assert_true(v->width == 720);
	assert_true(v->total_likes == 1024);
	assert_true(v->total_comments == 12);
	assert_true(v->total_shares == 3);
	assert_true(v->total_views == 123456789012LL);
	assert_string_equal(v->cover_url,
	    "https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-0037/49b5~tplv-"
	    "noop.image?x-expires=1657851434&x-signature=FjrS%2B%3D");
	assert_string_equal(v->share_url,
	    "https://www.tiktok.com/@user_id/video/7080213458555737986"
	    "?utm_campaign=tt4d_open_api");
	assert_string_equal(v->embed_html,
	    "<blockquote class=\"tiktok-embed\" "
	    "cite=\"https://www.tiktok.com/@u/video/1\"></blockquote>");
	assert_string_equal(v->embed_link,
	    "https://www.tiktok.com/static/profile-video?id="
	    "7080213458555737986&hide_author=1");

	/* Fields TikTok did not send stay absent: NULL, API_ABSENT. */
	v = &p.videos[1];
	assert_string_equal(v->id, "7077642457847991554");
	assert_string_equal(v->title,
	    "\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xae\xe5\xa4\x9c \xe2\x9c\xa8");
	assert_null(v->description);
	assert_null(v->cover_url);
	assert_null(v->share_url);
	assert_null(v->embed_link);
	assert_null(v->embed_html);
	assert_true(v->duration == API_ABSENT);
	assert_true(v->width == API_ABSENT);
	assert_true(v->height == API_ABSENT);
	assert_true(v->total_likes == API_ABSENT);
	assert_true(v->total_comments == API_ABSENT);
	assert_true(v->total_shares == API_ABSENT);
	assert_true(v->total_views == API_ABSENT);

	/* null is the same as absent. */
	v = &p.videos[2];
	assert_null(v->title);
	assert_true(v->width == API_ABSENT);
	assert_true(v->height == API_ABSENT);
	api_page_clear(&p);
	assert_int_equal(p.nvideos, 0);
}

static void
test_videos_bad_ids(void **state)
{
	struct api_page p;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse("{\"data\":{\"videos\":["
			       "{\"id\":\"../1\",\"create_time\":1},"
			       "{\"id\":\"12a\",\"create_time\":1},"
			       "{\"id\":\"123456789012345678901\","
			       "\"create_time\":1},"
			       "{\"id\":\"\",\"create_time\":1},"
			       "{\"id\":\"1/../../etc/passwd\","
			       "\"create_time\":1},"
			       "{\"id\":\"1\\u0000\",\"create_time\":1},"
			       "{\"id\":\"\\u0031\",\"create_time\":1},"
			       "{\"id\":7080213458555737986,"
			       "\"create_time\":1},"
			       "{\"id\":null,\"create_time\":1},"
			       "{\"create_time\":1},"
			       "{\"id\":\"12345678901234567890\","
			       "\"create_time\":2},"
			       "{\"id\":\"0\",\"create_time\":3}"
			       "],\"has_more\":false}," OK_ENVELOPE "}",
			     &p, err, sizeof(err)),
	    0);
	/*
	 * Decoding drops NUL, but "1\u0000" is not 1-20 digits as sent:
	 * skipped, never taken for the id "1". So is an escaped digit.
	 */
	assert_int_equal(p.skipped, 10);
	assert_int_equal(p.nvideos, 2);
	assert_string_equal(p.videos[0].id, "12345678901234567890");
	assert_true(p.videos[0].created_at == 2);
	assert_string_equal(p.videos[1].id, "0");
	api_page_clear(&p);
}

static void
test_videos_skipped_items(void **state)
{
	static const char *const items[] = {
	    /* create_time missing or wrong */
	    "{\"id\":\"1\"}",
	    "{\"id\":\"1\",\"create_time\":null}",
	    "{\"id\":\"1\",\"create_time\":\"1646883959\"}",
	    "{\"id\":\"1\",\"create_time\":-1}",
	    "{\"id\":\"1\",\"create_time\":1.5}",
	    "{\"id\":\"1\",\"create_time\":99999999999999999999}",
	    /* not an object */
	    "7",
	    "\"7080213458555737986\"",
	    "null",
	    "[]",
	};
	struct api_page p;
	char body[1024], err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(items); i++) {
		snprintf(body, sizeof(body),
		    "{\"data\":{\"videos\":[%s,{\"id\":\"42\","
		    "\"create_time\":100}],\"cursor\":5,\"has_more\":true},"
		    "%s}",
		    items[i], OK_ENVELOPE);
		if (parse(body, &p, err, sizeof(err)) != 0)
			fail_msg("page refused for item %s: %s", items[i], err);
		if (p.skipped != 1 || p.nvideos != 1)
			fail_msg("item %s: %d skipped, %d kept", items[i],
			    p.skipped, p.nvideos);
		/* The good item beside it is intact. */
		assert_string_equal(p.videos[0].id, "42");
		assert_true(p.videos[0].created_at == 100);
		/* A skipped item with a valid id is still named. */
		if (i < 6) {
			assert_int_equal(p.nskipped_ids, 1);
			assert_string_equal(p.skipped_ids[0], "1");
		} else
			assert_int_equal(p.nskipped_ids, 0);
		api_page_clear(&p);
	}
}

/*
 * Any other member of the wrong type or beyond its bound is left absent:
 * the video is kept (TikTok still has it), and the mirror keeps the value
 * it had for that field.
 */
static void
test_videos_bad_fields(void **state)
{
	static const struct {
		const char *member;
		size_t off; /* which field must be absent */
		int text;
	} cases[] = {
#define F(m) offsetof(struct video, m)
	    {"\"title\":5", F(title), 1},
	    {"\"video_description\":[]", F(description), 1},
	    {"\"cover_image_url\":{}", F(cover_url), 1},
	    {"\"share_url\":true", F(share_url), 1},
	    {"\"embed_html\":7", F(embed_html), 1},
	    {"\"embed_link\":false", F(embed_link), 1},
	    {"\"like_count\":\"12\"", F(total_likes), 0},
	    {"\"view_count\":1e3", F(total_views), 0},
	    {"\"duration\":-2", F(duration), 0},
	    {"\"width\":2147483648", F(width), 0},
	    {"\"height\":1.5", F(height), 0},
	    {"\"comment_count\":-1", F(total_comments), 0},
	    {"\"share_count\":99999999999999999999999999999999", F(total_shares),
		0},
	    {"\"like_count\":9223372036854775808", F(total_likes), 0},
#undef F
	};
	struct api_page p;
	char body[1024], err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		const char *base;

		snprintf(body, sizeof(body),
		    "{\"data\":{\"videos\":[{\"id\":\"1\",\"create_time\":1,"
		    "\"title\":\"t\",\"like_count\":3,%s}],\"has_more\":false},"
		    "%s}",
		    cases[i].member, OK_ENVELOPE);
		if (parse(body, &p, err, sizeof(err)) != 0)
			fail_msg("page refused for %s: %s", cases[i].member,
			    err);
		if (p.skipped != 0 || p.nvideos != 1)
			fail_msg("%s: %d skipped, %d kept", cases[i].member,
			    p.skipped, p.nvideos);
		assert_string_equal(p.videos[0].id, "1");
		base = (const char *)&p.videos[0];
		if (cases[i].text)
			assert_null(*(char *const *)(base + cases[i].off));
		else
			assert_true(*(const int64_t *)(base + cases[i].off) ==
			    API_ABSENT);
		api_page_clear(&p);
	}
	/* A title over API_TEXT_MAX is refused, the rest of the video kept. */
	{
		struct buf b;

		buf_init(&b, 0);
		assert_int_equal(buf_addstr(&b, "{\"data\":{\"videos\":[{"
						"\"id\":\"9\",\"create_time\":1,"
						"\"like_count\":5,\"title\":\""),
		    0);
		for (i = 0; i < API_TEXT_MAX + 1; i++)
			assert_int_equal(buf_add(&b, "x", 1), 0);
		assert_int_equal(buf_addstr(&b, "\"}]}," OK_ENVELOPE "}"), 0);
		assert_int_equal(parse_n(b.data, b.len, &p, err, sizeof(err)),
		    0);
		assert_int_equal(p.nvideos, 1);
		assert_null(p.videos[0].title);
		assert_true(p.videos[0].total_likes == 5);
		api_page_clear(&p);
		buf_free(&b);
	}
}

static void
test_videos_big_counts(void **state)
{
	struct api_page p;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse("{\"data\":{\"videos\":[{\"id\":\"1\","
			       "\"create_time\":1,"
			       "\"view_count\":5000000000,"
			       "\"like_count\":2147483648,"
			       "\"comment_count\":4294967296,"
			       "\"share_count\":9223372036854775807,"
			       "\"duration\":2147483647,\"width\":0}]},"
			       OK_ENVELOPE "}",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.nvideos, 1);
	assert_true(p.videos[0].total_views == 5000000000LL);
	assert_true(p.videos[0].total_likes == 2147483648LL);
	assert_true(p.videos[0].total_comments == 4294967296LL);
	assert_true(p.videos[0].total_shares == INT64_MAX);
	assert_true(p.videos[0].duration == INT32_MAX);
	assert_true(p.videos[0].width == 0);
	/* No has_more and no cursor: the last page. */
	assert_int_equal(p.has_more, 0);
	assert_true(p.cursor == 0);
	api_page_clear(&p);
}

static void
test_videos_paging(void **state)
{
	struct api_page p;
	char err[ERRLEN];

	(void)state;
	/* An empty account, as captured from the sandbox (§2.2). */
	assert_int_equal(parse("{\"data\":{\"cursor\":0,\"has_more\":false,"
			       "\"videos\":[]}," OK_ENVELOPE "}",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.nvideos, 0);
	assert_int_equal(p.has_more, 0);
	api_page_clear(&p);
	/* A short page with has_more is normal. */
	assert_int_equal(parse("{\"data\":{\"cursor\":1768238408337,"
			       "\"has_more\":true,\"videos\":[]},"
			       OK_ENVELOPE "}",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.has_more, 1);
	assert_true(p.cursor == 1768238408337LL);
	api_page_clear(&p);
	/* null members mean absent. */
	assert_int_equal(parse("{\"data\":{\"cursor\":null,\"has_more\":null,"
			       "\"videos\":null}}",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.nvideos, 0);
	assert_int_equal(p.has_more, 0);
	assert_true(p.cursor == 0);
	api_page_clear(&p);
}

static void
test_videos_rejected(void **state)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{}",
	    "{\"data\":null}",
	    "{\"data\":[]}",
	    "{\"data\":{\"videos\":{}}}",
	    "{\"data\":{\"videos\":\"x\"}}",
	    "{\"data\":{\"videos\":5}}",
	    "{\"data\":{\"videos\":[],\"cursor\":\"5\"}}",
	    "{\"data\":{\"videos\":[],\"cursor\":-5}}",
	    "{\"data\":{\"videos\":[],\"cursor\":1.5}}",
	    "{\"data\":{\"videos\":[],\"has_more\":\"true\"}}",
	    "{\"data\":{\"videos\":[],\"has_more\":1}}",
	    "{\"data\":{\"videos\":[{\"id\":\"1\",\"create_time\":1}]",
	};
	struct api_page p;
	char err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		if (parse(bad[i], &p, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_int_equal(p.nvideos, 0);
	}
	assert_int_equal(parse("{\"data\":{\"videos\":{\"id\":\"1\"}}}", &p,
			     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not an array"));
}

/* A page of 'n' valid videos. */
static char *
page_of(int n)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	assert_int_equal(buf_addstr(&b, "{\"data\":{\"videos\":["), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b,
				     "%s{\"id\":\"%d\",\"create_time\":%d,"
				     "\"title\":\"t%d\"}",
				     i ? "," : "", 1000 + i, 5000 - i, i),
		    0);
	assert_int_equal(buf_addstr(&b, "],\"has_more\":true,\"cursor\":1}," OK_ENVELOPE
					"}"),
	    0);
	return buf_take(&b, NULL);
}

static void
test_videos_page_size(void **state)
{
	struct api_page p;
	char err[ERRLEN], *body;
	int i;

	(void)state;
	body = page_of(API_PAGE_MAX);
	assert_int_equal(parse(body, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nvideos, API_PAGE_MAX);
	for (i = 0; i < API_PAGE_MAX; i++)
		assert_true(p.videos[i].created_at == 5000 - i);
	assert_string_equal(p.videos[19].id, "1019");
	assert_string_equal(p.videos[19].title, "t19");
	api_page_clear(&p);
	free(body);
	/* More than 20 is refused whole: TikTok never sends that. */
	body = page_of(API_PAGE_MAX + 1);
	assert_int_equal(parse(body, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "21"));
	assert_int_equal(p.nvideos, 0);
	free(body);
}

/* api_parse_user() over a C string. */
static int
user_avatar(const char *body, char **open_id, char **name, char **avatar,
    char *err, size_t errlen)
{
	struct api_body b;
	int rc;

	api_body_parse(&b, body, strlen(body));
	rc = api_parse_user(&b, open_id, name, avatar, err, errlen);
	api_body_free(&b);
	return rc;
}

static int
user(const char *body, char **open_id, char **name, char *err, size_t errlen)
{
	return user_avatar(body, open_id, name, NULL, err, errlen);
}

static void
test_parse_user(void **state)
{
	static const char ok[] =
	    "{\"data\":{\"user\":{\"avatar_url\":\"https://p19-sign.tiktokcdn-"
	    "us.com/x.jpeg\",\"open_id\":\"723f24d7-e717-40f8-a2b6-"
	    "cb8464cd23b4\",\"union_id\":\"c9c6\",\"display_name\":\"Tik "
	    "Toker\"}}," OK_ENVELOPE "}";
	char *open_id, *name, *avatar, err[ERRLEN];
	const char *body;

	(void)state;
	assert_int_equal(user(ok, &open_id, &name, err, sizeof(err)), 0);
	assert_string_equal(open_id, "723f24d7-e717-40f8-a2b6-cb8464cd23b4");
	assert_string_equal(name, "Tik Toker");
	free(open_id);
	free(name);
	assert_int_equal(user("{\"data\":{\"user\":{}}}", &open_id, &name,
			     err, sizeof(err)),
	    0);
	assert_null(open_id);
	assert_null(name);
	assert_int_equal(user("{\"data\":{}}", &open_id, &name, err,
			     sizeof(err)),
	    -1);
	assert_int_equal(user("{\"data\":{\"user\":{\"open_id\":1}}}",
			     &open_id, &name, err, sizeof(err)),
	    -1);
	assert_null(open_id);
	assert_null(name);
	/* The avatar, when asked for; a wrong type fails the whole answer. */
	assert_int_equal(user_avatar(ok, &open_id, &name, &avatar, err,
			     sizeof(err)),
	    0);
	assert_string_equal(avatar,
	    "https://p19-sign.tiktokcdn-us.com/x.jpeg");
	free(open_id);
	free(name);
	free(avatar);
	body = "{\"data\":{\"user\":{\"open_id\":\"o\",\"display_name\":"
	       "\"n\",\"avatar_url\":7}}}";
	assert_int_equal(user_avatar(body, &open_id, &name, &avatar, err,
			     sizeof(err)),
	    -1);
	assert_null(open_id);
	assert_null(name);
	assert_null(avatar);
	body = "{\"data\":{\"user\":{\"open_id\":\"o\"}}}";
	assert_int_equal(user_avatar(body, &open_id, &name, &avatar, err,
			     sizeof(err)),
	    0);
	assert_null(avatar);
	free(open_id);
}

static void
test_bodies(void **state)
{
	const char ids[][21] = {"7080213458555737986", "7077642457847991554",
	    "1"};
	char *s;

	(void)state;
	s = api_list_body(0, 20);
	assert_string_equal(s, "{\"max_count\":20}");
	free(s);
	s = api_list_body(1646883959000LL, 20);
	assert_string_equal(s, "{\"cursor\":1646883959000,\"max_count\":20}");
	free(s);
	s = api_list_body(1748736000000LL, 7);
	assert_string_equal(s, "{\"cursor\":1748736000000,\"max_count\":7}");
	free(s);
	s = api_query_body(ids, 3);
	assert_string_equal(s,
	    "{\"filters\":{\"video_ids\":[\"7080213458555737986\","
	    "\"7077642457847991554\",\"1\"]}}");
	free(s);
	s = api_query_body(ids, 1);
	assert_string_equal(s,
	    "{\"filters\":{\"video_ids\":[\"7080213458555737986\"]}}");
	free(s);
	s = api_query_body(ids, 0);
	assert_string_equal(s, "{\"filters\":{\"video_ids\":[]}}");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_ok),
	    cmocka_unit_test(test_status_errors),
	    cmocka_unit_test(test_status_not_json),
	    cmocka_unit_test(test_status_wrong_envelope),
	    cmocka_unit_test(test_status_escapes),
	    cmocka_unit_test(test_videos_page),
	    cmocka_unit_test(test_videos_bad_ids),
	    cmocka_unit_test(test_videos_skipped_items),
	    cmocka_unit_test(test_videos_bad_fields),
	    cmocka_unit_test(test_videos_big_counts),
	    cmocka_unit_test(test_videos_paging),
	    cmocka_unit_test(test_videos_rejected),
	    cmocka_unit_test(test_videos_page_size),
	    cmocka_unit_test(test_parse_user),
	    cmocka_unit_test(test_bodies),
	};

	/* Skipped items are logged; keep the test output readable. */
	log_init(LOG_QUIET);
	return cmocka_run_group_tests_name("api", tests, NULL, NULL) == 0 ? 0
									    : 1;
}
