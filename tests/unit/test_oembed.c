/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/oembed.c: the video addresses users copy (and the
 * ones that cannot work, with what to write instead), the request URL,
 * classification by HTTP status, and the decoding of oEmbed answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oembed.h"
#include "util.h"

/* A real oEmbed answer's shape (www.tiktok.com, scout2015's example). */
#define ANSWER                                                                 \
	"{\"version\":\"1.0\",\"type\":\"video\","                            \
	"\"title\":\"Scramble up ur name & I\\u2019ll try to guess it"        \
	"\\ud83d\\ude0d #foryoupage\","                                       \
	"\"author_url\":\"https://www.tiktok.com/@scout2015\","               \
	"\"author_name\":\"Scout, Suki & Stella\","                           \
	"\"width\":\"100%\",\"height\":\"100%\","                             \
	"\"html\":\"<blockquote class=\\\"tiktok-embed\\\" cite=\\\""         \
	"https://www.tiktok.com/@scout2015/video/6718335390845095173\\\" "    \
	"data-video-id=\\\"6718335390845095173\\\"> <section></section> "     \
	"</blockquote> <script async src=\\\"https://www.tiktok.com/"         \
	"embed.js\\\"></script>\","                                           \
	"\"thumbnail_width\":720,\"thumbnail_height\":1280,"                  \
	"\"thumbnail_url\":\"https://p16-sign-va.tiktokcdn.com/obj/"          \
	"tos-maliva-p-0068/abc~tplv-tiktokx-origin.image?x-expires="          \
	"1701705600&x-signature=Zm9v%3D\","                                   \
	"\"provider_url\":\"https://www.tiktok.com\","                        \
	"\"provider_name\":\"TikTok\",\"author_unique_id\":\"scout2015\","    \
	"\"embed_product_id\":\"6718335390845095173\","                       \
	"\"embed_type\":\"video\"}"

#define ID "6718335390845095173"

static int
parse(const char *body, const char *id, struct oembed *o, char *err,
    size_t errlen)
{
	struct api_body b;
	int rc;

	api_body_parse(&b, body, strlen(body));
	rc = oembed_parse(&b, id, o, err, errlen);
	api_body_free(&b);
	return rc;
}

static void
test_video_id_forms(void **state)
{
	static const char *const good[] = {
	    "https://www.tiktok.com/@scout2015/video/" ID,
	    "https://www.tiktok.com/@scout2015/video/" ID "/",
	    "https://www.tiktok.com/@scout2015/video/" ID
	    "?is_from_webapp=1&sender_device=pc",
	    "https://www.tiktok.com/@scout2015/video/" ID "/?lang=en#top",
	    "HTTPS://WWW.TikTok.com/@scout2015/video/" ID,
	    "http://www.tiktok.com/@scout2015/video/" ID,
	    "https://tiktok.com/@scout2015/video/" ID,
	    "https://m.tiktok.com/@scout2015/video/" ID,
	    "https://m.tiktok.com/v/" ID ".html",
	    "https://m.tiktok.com/v/" ID ".html?u_code=x",
	    "https://www.tiktok.com/@user.name_1/video/" ID,
	};
	char id[21], err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++) {
		memset(id, 'x', sizeof(id));
		if (oembed_video_id(good[i], id, err, sizeof(err)) != 0)
			fail_msg("%s: %s", good[i], err);
		assert_string_equal(id, ID);
	}
	/* The largest id that fits in 64 bits, and a 1-digit one. */
	assert_int_equal(oembed_video_id("https://www.tiktok.com/@u/video/"
					 "18446744073709551615",
			     id, err, sizeof(err)),
	    0);
	assert_string_equal(id, "18446744073709551615");
	assert_int_equal(oembed_video_id("https://www.tiktok.com/@u/video/7",
			     id, err, sizeof(err)),
	    0);
	assert_string_equal(id, "7");
}

static void
test_video_id_refused(void **state)
{
	static const struct {
		const char *url, *says;
	} bad[] = {
	    {ID, "bare video id is not enough"},
	    {"vm.tiktok.com/ZMabc/", "not a TikTok video address"},
	    {"https://vm.tiktok.com/ZMabc123/", "short share link"},
	    {"https://www.tiktok.com/t/ZTabc/", "short share link"},
	    {"https://www.youtube.com/watch?v=" ID, "host must be"},
	    {"https://www.tiktok.com.evil.example/@u/video/" ID, "host must"},
	    {"https://www.tiktok.com/@scout2015", "not the address of one"},
	    {"https://www.tiktok.com/@scout2015/photo/" ID, "not the address"},
	    {"https://www.tiktok.com/@scout2015/video/", "not the address"},
	    {"https://www.tiktok.com/@/video/" ID, "not the address"},
	    {"https://www.tiktok.com/@u/video/12a4", "1 to 20 digits"},
	    {"https://www.tiktok.com/@u/video/123456789012345678901",
		"1 to 20 digits"},
	    {"https://www.tiktok.com/@u/video/18446744073709551616",
		"1 to 20 digits"},
	    {"https://www.tiktok.com/@u/video/" ID "//", "1 to 20 digits"},
	    {"https://www.tiktok.com/@u/video/ " ID, "spaces"},
	    {"ftp://www.tiktok.com/@u/video/" ID, "not a TikTok video"},
	    {"", "not a TikTok video"},
	};
	char id[21], err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		if (oembed_video_id(bad[i].url, id, err, sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i].url);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].url, err,
			    bad[i].says);
		/* Every message shows the form to write. */
		assert_non_null(strstr(err, "https://www.tiktok.com/@USER/"
					    "video/"));
	}
}

static void
test_id_time(void **state)
{
	(void)state;
	/* 6718335390845095173 >> 32 = 1564234353 (2019-07-27). */
	assert_int_equal(oembed_id_time(ID), 1564234353);
	assert_int_equal(oembed_id_time("18446744073709551615"), 4294967295);
	assert_int_equal(oembed_id_time("7"), 0);
}

static void
test_request_url(void **state)
{
	char *u;

	(void)state;
	u = oembed_request_url(OEMBED_DEFAULT_URL,
	    "https://www.tiktok.com/@scout2015/video/" ID "?lang=en&x=1#t");
	assert_string_equal(u, "https://www.tiktok.com/oembed?url=https%3A%2F"
			       "%2Fwww.tiktok.com%2F%40scout2015%2Fvideo%2F" ID);
	free(u);
}

static void
test_status_classes(void **state)
{
	(void)state;
	assert_int_equal(oembed_status(200), OEMBED_OK);
	assert_int_equal(oembed_status(400), OEMBED_REFUSED);
	assert_int_equal(oembed_status(403), OEMBED_REFUSED);
	assert_int_equal(oembed_status(404), OEMBED_REFUSED);
	assert_int_equal(oembed_status(410), OEMBED_REFUSED);
	assert_int_equal(oembed_status(451), OEMBED_REFUSED);
	assert_int_equal(oembed_status(408), OEMBED_TRANSIENT);
	assert_int_equal(oembed_status(429), OEMBED_RATE);
	assert_int_equal(oembed_status(500), OEMBED_TRANSIENT);
	assert_int_equal(oembed_status(503), OEMBED_TRANSIENT);
	assert_int_equal(oembed_status(204), OEMBED_BAD);
	assert_int_equal(oembed_status(302), OEMBED_BAD);
}

static void
test_parse_answer(void **state)
{
	struct oembed o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse(ANSWER, ID, &o, err, sizeof(err)), 0);
	assert_string_equal(o.title, "Scramble up ur name & I\xe2\x80\x99ll "
				     "try to guess it\xf0\x9f\x98\x8d "
				     "#foryoupage");
	assert_string_equal(o.author_name, "Scout, Suki & Stella");
	assert_non_null(strstr(o.html, "<blockquote class=\"tiktok-embed\""));
	assert_non_null(strstr(o.html, "data-video-id=\"" ID "\""));
	assert_string_equal(o.thumbnail_url,
	    "https://p16-sign-va.tiktokcdn.com/obj/tos-maliva-p-0068/abc~"
	    "tplv-tiktokx-origin.image?x-expires=1701705600&x-signature="
	    "Zm9v%3D");
	oembed_clear(&o);
	oembed_clear(&o); /* cleared twice is harmless */

	/* Only type and html are needed; the rest may be absent or null. */
	assert_int_equal(parse("{\"type\":\"video\",\"html\":\"<b>x</b>\","
			       "\"title\":null}",
			     ID, &o, err, sizeof(err)),
	    0);
	assert_null(o.title);
	assert_null(o.author_name);
	assert_null(o.thumbnail_url);
	assert_string_equal(o.html, "<b>x</b>");
	oembed_clear(&o);
}

static void
test_parse_not_video(void **state)
{
	static const struct {
		const char *body, *says;
	} bad[] = {
	    {"", "not JSON"},
	    {"<html>Access Denied</html>", "not JSON"},
	    {"{\"type\":\"video\",\"html\":\"x\"", "not JSON"},
	    {"[]", "not a JSON object"},
	    {"{\"code\":400,\"message\":\"Something went wrong\"}",
		"not a video object"},
	    {"{\"type\":\"photo\",\"html\":\"x\"}", "not a video object"},
	    {"{\"type\":1,\"html\":\"x\"}", "type"},
	    {"{\"type\":\"video\"}", "no embed html"},
	    {"{\"type\":\"video\",\"html\":\"\"}", "no embed html"},
	    {"{\"type\":\"video\",\"html\":[\"x\"]}", "html"},
	    {"{\"type\":\"video\",\"html\":\"x\",\"title\":5}", "title"},
	    {"{\"type\":\"video\",\"html\":\"x\",\"thumbnail_url\":{}}",
		"thumbnail_url"},
	    {"{\"type\":\"video\",\"html\":\"x\","
	     "\"embed_product_id\":\"7301234567890123456\"}",
		"another video"},
	};
	struct oembed o;
	char err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		memset(&o, 0, sizeof(o));
		if (parse(bad[i].body, ID, &o, err, sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i].body);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].body, err,
			    bad[i].says);
		assert_null(o.html);
		assert_null(o.title);
	}
}

static void
test_embed_link(void **state)
{
	char *s;

	(void)state;
	s = oembed_embed_link(ID);
	assert_string_equal(s, "https://www.tiktok.com/player/v1/" ID);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_video_id_forms),
	    cmocka_unit_test(test_video_id_refused),
	    cmocka_unit_test(test_id_time),
	    cmocka_unit_test(test_request_url),
	    cmocka_unit_test(test_status_classes),
	    cmocka_unit_test(test_parse_answer),
	    cmocka_unit_test(test_parse_not_video),
	    cmocka_unit_test(test_embed_link),
	};

	log_init(LOG_QUIET);
	return cmocka_run_group_tests_name("oembed", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
