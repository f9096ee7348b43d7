/* SPDX-License-Identifier: ISC */
/*
 * Real TikTok response bodies, decoded as the daemon decodes them. The
 * samples (documentation examples, public captures of the real API, and a
 * few constructed where no verbatim body was published; each with its
 * source in NAME.src.txt) are read in place from
 * $TM_SHARED/third_party/tiktok-samples (else ../shared/...), never
 * copied; without that folder the tests are skipped with a note, as the
 * JSONTestSuite test is.
 *
 * Each sample gets what a user would get from it: the tokens, the user,
 * the videos, or the exact class of the error (token, scope, rate, refused
 * request, server, unusable). Invalid JSON (the doc examples with trailing
 * commas) and the legacy v1 shapes are refused with a message that says
 * so. Every sample in the folder must be named here, so a new one cannot
 * be left undecoded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "oauth.h"
#include "secrets.h"
#include "unit.h"
#include "util.h"

#define SAMPLES_SUBDIR "third_party/tiktok-samples"
#define NOW 1764000000 /* the issue time given to the token decoder */

static char samples[4096];

/* The folder, or a skip with a note when it is absent. */
static int
have_samples(void)
{
	const char *shared = getenv("TM_SHARED");
	char readme[4096 + 16];

	(void)snprintf(samples, sizeof(samples), "%s/%s",
	    shared != NULL && *shared != '\0' ? shared : "../shared",
	    SAMPLES_SUBDIR);
	(void)snprintf(readme, sizeof(readme), "%s/README.md", samples);
	if (access(readme, R_OK) != 0) {
		print_message("note: no TikTok samples at %s; skipped\n",
		    samples);
		return 0;
	}
	return 1;
}

#define NEED_SAMPLES()                                                         \
	do {                                                                   \
		if (!have_samples())                                           \
			skip();                                                \
	} while (0)

/* The body of sample 'name' (NUL-terminated; the caller frees). */
static char *
sample(const char *name, size_t *len)
{
	char path[4096 + 256], *text;

	(void)snprintf(path, sizeof(path), "%s/%s", samples, name);
	text = slurp(path, len);
	if (text == NULL)
		fail_msg("cannot read sample %s", path);
	return text;
}

/* The HTTP status the body came with, from "# http_status: N" in .src.txt. */
static long
sample_status(const char *name)
{
	char src[512], *text, *p;
	const char *dot = strrchr(name, '.');
	size_t len;
	long st;

	(void)snprintf(src, sizeof(src), "%.*s.src.txt", (int)(dot - name),
	    name);
	text = sample(src, &len);
	p = strstr(text, "# http_status: ");
	assert_non_null(p);
	st = strtol(p + strlen("# http_status: "), NULL, 10);
	free(text);
	return st;
}

/* api_status() of a data-endpoint sample, with its recorded HTTP status. */
static enum api_status
data_status(const char *name, char *err, size_t errlen)
{
	struct api_body b;
	enum api_status st;
	size_t len;
	char *text = sample(name, &len);

	err[0] = '\0';
	api_body_parse(&b, text, len);
	st = api_status(sample_status(name), &b, err, errlen);
	api_body_free(&b);
	free(text);
	return st;
}

/* oauth_parse_token() of a token-endpoint sample. */
static int
token(const char *name, struct tokens *t, char *oerr, size_t oerrlen,
    char *err, size_t errlen)
{
	size_t len;
	char *text = sample(name, &len);
	int rc;

	assert_int_equal(sample_status(name), 200);
	err[0] = '\0';
	rc = oauth_parse_token(text, len, NOW, t, oerr, oerrlen, err, errlen);
	free(text);
	return rc;
}

/* api_parse_videos() of a video/list or video/query sample. */
static int
videos(const char *name, struct api_page *p, char *err, size_t errlen)
{
	struct api_body b;
	size_t len;
	char *text = sample(name, &len);
	int rc;

	api_body_parse(&b, text, len);
	rc = api_parse_videos(&b, p, err, errlen);
	if (rc == 0) {
		char serr[ERRLEN];

		assert_int_equal(api_status(sample_status(name), &b, serr,
				     sizeof(serr)),
		    API_OK);
	}
	api_body_free(&b);
	free(text);
	return rc;
}

/* ---------------------------------------------------------------------- */

/* Every sample body in the folder is one this file decodes. */
static const char *const known[] = {
    "error__access_token_invalid__doc_bare_error_object.json",
    "error__access_token_invalid__doc_enveloped_constructed.json",
    "error__http200_nonok__content_posting_constructed.json",
    "error__invalid_params__real_research_api_2024.json",
    "error__rate_limit_exceeded__429_constructed.json",
    "oauth_revoke__error__doc_malformed.json",
    "oauth_revoke__ok__braces.json",
    "oauth_revoke__ok__doc_empty.txt",
    "oauth_token__authcode_error__doc_redirect_uri.json",
    "oauth_token__authcode_ok__doc_current.json",
    "oauth_token__authcode_ok__doc_older_realistic_tokens.json",
    "oauth_token__authcode_ok__real_sandbox_2026.json",
    "oauth_token__legacy_v1_refresh__real_2022_redacted.json",
    "oauth_token__legacy_v1_shape__doc_display_get_started.json",
    "oauth_token__refresh_error__doc_malformed.json",
    "oauth_token__refresh_ok__doc_older.json",
    "oauth_token__refresh_ok__real_sandbox_2026.json",
    "user_info__error__scope_not_authorized__real_truncated.txt",
    "user_info__error__scope_not_authorized__reconstructed.json",
    "user_info__ok__doc_apiref.json",
    "user_info__ok__doc_get_started.json",
    "user_info__ok__real_sandbox_2026.json",
    "video_list__ok__doc_apiref.json",
    "video_list__ok__doc_apiref__trailing_comma_removed.json",
    "video_list__ok__doc_get_started.json",
    "video_list__ok__doc_get_started__made_valid.json",
    "video_list__ok__doc_get_started__made_valid_plus_create_time.json",
    "video_list__ok__empty__real_sandbox_2026.json",
    "video_query__ok__doc_apiref.json",
    "video_query__ok__doc_get_started.json",
    "video_query__ok__doc_get_started__made_valid.json",
    "video_query__ok__unknown_id__real_sandbox_2026.json",
};

static void
test_every_sample_known(void **state)
{
	struct dirent *de;
	DIR *d;
	size_t i, len;
	int bodies = 0, unknown = 0;

	(void)state;
	NEED_SAMPLES();
	d = opendir(samples);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0 ||
		    (len > 8 && strcmp(de->d_name + len - 8, ".src.txt") == 0))
			continue;
		bodies++;
		for (i = 0; i < nitems(known); i++)
			if (strcmp(known[i], de->d_name) == 0)
				break;
		if (i == nitems(known)) {
			print_error("sample %s is not decoded by "
				    "test_samples.c\n",
			    de->d_name);
			unknown++;
		}
	}
	closedir(d);
	assert_int_equal(unknown, 0);
	assert_int_equal(bodies, (int)nitems(known));
}

/* Token endpoint */

static void
test_token_ok(void **state)
{
	struct tokens t;
	char oerr[64], err[ERRLEN], missing[64];

	(void)state;
	NEED_SAMPLES();
	assert_int_equal(token("oauth_token__authcode_ok__doc_current.json",
			     &t, oerr, sizeof(oerr), err, sizeof(err)),
	    0);
	assert_string_equal(t.access_token,
	    "act.example12345Example12345Example");
	assert_string_equal(t.refresh_token,
	    "rft.example12345Example12345Example");
	assert_string_equal(t.open_id, "afd97af1-b87b-48b9-ac98-410aghda5344");
	assert_string_equal(t.scope, "user.info.basic,video.list");
	assert_int_equal(t.issued_at, NOW);
	assert_int_equal(t.access_expires_at, NOW + 86400);
	assert_int_equal(t.refresh_expires_at, NOW + 31536000);
	assert_int_equal(oauth_scope_missing(t.scope, missing,
			     sizeof(missing)),
	    0);
	assert_string_equal(missing, "");
	tokens_clear(&t);
}

static void
test_token_bang_tokens(void **state)
{
	static const char *const names[] = {
	    "oauth_token__authcode_ok__doc_older_realistic_tokens.json",
	    "oauth_token__refresh_ok__doc_older.json",
	};
	struct tokens t;
	char oerr[64], err[ERRLEN];
	size_t i;

	(void)state;
	NEED_SAMPLES();
	/* Real tokens end in '!' and digits: kept byte for byte. */
	for (i = 0; i < nitems(names); i++) {
		assert_int_equal(token(names[i], &t, oerr, sizeof(oerr), err,
				     sizeof(err)),
		    0);
		assert_string_equal(t.access_token,
		    "act.9db86c59fab331b4f8b4c516ae66a960Nn4RYBnDsdkVlzDowUoDG4"
		    "Gwt7TW!5259");
		assert_string_equal(t.refresh_token,
		    "rft.e10a897yu15f821ab5f08stuart1fc9f245qgUitnFeEvbWq4ZBoem"
		    "E36DKZABC!5294");
		assert_int_equal(t.refresh_expires_at, NOW + 31536000);
		tokens_clear(&t);
	}
}

static void
test_token_real_sandbox(void **state)
{
	struct tokens t;
	char oerr[64], err[ERRLEN], missing[64];

	(void)state;
	NEED_SAMPLES();
	/* A real grant with only user.info.basic: video.list is missing. */
	assert_int_equal(
	    token("oauth_token__authcode_ok__real_sandbox_2026.json", &t,
		oerr, sizeof(oerr), err, sizeof(err)),
	    0);
	assert_string_equal(t.scope, "user.info.basic");
	assert_string_equal(t.open_id, "<REDACTED>");
	assert_int_equal(t.access_expires_at, NOW + 86400);
	assert_int_equal(oauth_scope_missing(t.scope, missing,
			     sizeof(missing)),
	    1);
	assert_string_equal(missing, "video.list");
	tokens_clear(&t);

	/* The real refresh 20 s later: the refresh lifetime counts down. */
	assert_int_equal(
	    token("oauth_token__refresh_ok__real_sandbox_2026.json", &t, oerr,
		sizeof(oerr), err, sizeof(err)),
	    0);
	assert_int_equal(t.refresh_expires_at, NOW + 31535980);
	assert_int_equal(t.access_expires_at, NOW + 86400);
	tokens_clear(&t);
}

static void
test_token_errors(void **state)
{
	struct tokens t;
	char oerr[64], err[ERRLEN];

	(void)state;
	NEED_SAMPLES();
	/* OAuth errors come with HTTP 200: the body decides. */
	assert_int_equal(
	    token("oauth_token__authcode_error__doc_redirect_uri.json", &t,
		oerr, sizeof(oerr), err, sizeof(err)),
	    1);
	assert_string_equal(oerr, "invalid_request");
	assert_non_null(strstr(err, "Redirect_uri is not matched"));
	assert_null(t.access_token);
	assert_int_equal(
	    token("oauth_token__refresh_error__doc_malformed.json", &t, oerr,
		sizeof(oerr), err, sizeof(err)),
	    1);
	assert_string_equal(oerr, "invalid_request");
	assert_non_null(strstr(err, "The request parameters are malformed."));
}

static void
test_token_legacy_v1(void **state)
{
	static const char *const names[] = {
	    "oauth_token__legacy_v1_shape__doc_display_get_started.json",
	    "oauth_token__legacy_v1_refresh__real_2022_redacted.json",
	};
	struct tokens t;
	char oerr[64], err[ERRLEN];
	size_t i;

	(void)state;
	NEED_SAMPLES();
	/* Refused, and the message says what it is and what to check. */
	for (i = 0; i < nitems(names); i++) {
		assert_int_equal(token(names[i], &t, oerr, sizeof(oerr), err,
				     sizeof(err)),
		    -1);
		assert_null(t.access_token);
		assert_null(t.refresh_token);
		assert_string_equal(oerr, "");
		assert_non_null(strstr(err, "legacy v1"));
		assert_non_null(strstr(err, "app.api_url"));
	}
}

/* Revoke endpoint */

static void
test_revoke(void **state)
{
	static const char *const ok[] = {
	    "oauth_revoke__ok__braces.json",
	    "oauth_revoke__ok__doc_empty.txt",
	};
	char oerr[64], err[ERRLEN], *text;
	size_t i, len;

	(void)state;
	NEED_SAMPLES();
	for (i = 0; i < nitems(ok); i++) {
		text = sample(ok[i], &len);
		assert_int_equal(oauth_parse_revoke(sample_status(ok[i]), text,
				     len, oerr, sizeof(oerr), err, sizeof(err)),
		    0);
		free(text);
	}
	text = sample("oauth_revoke__error__doc_malformed.json", &len);
	assert_int_equal(oauth_parse_revoke(200, text, len, oerr, sizeof(oerr),
			     err, sizeof(err)),
	    1);
	assert_string_equal(oerr, "invalid_request");
	assert_non_null(strstr(err, "malformed"));
	free(text);
}

/* user/info */

static void
user(const char *name, char **open_id, char **display, char **avatar)
{
	struct api_body b;
	char err[ERRLEN], *text;
	size_t len;

	text = sample(name, &len);
	api_body_parse(&b, text, len);
	assert_int_equal(api_status(sample_status(name), &b, err, sizeof(err)),
	    API_OK);
	assert_int_equal(api_parse_user(&b, open_id, display, avatar, err,
			     sizeof(err)),
	    0);
	api_body_free(&b);
	free(text);
}

static void
test_user_info(void **state)
{
	char *open_id, *display, *avatar;

	(void)state;
	NEED_SAMPLES();
	/* Only the requested fields come back: no display_name here. */
	user("user_info__ok__doc_apiref.json", &open_id, &display, &avatar);
	assert_string_equal(open_id, "723f24d7-e717-40f8-a2b6-cb8464cd23b4");
	assert_null(display);
	assert_string_equal(avatar,
	    "https://p19-sign.tiktokcdn-us.com/tos-avt-0068-tx/"
	    "b17f0e4b3a4f4a50993cf72cda8b88b8~c5_168x168.jpeg");
	free(open_id);
	free(avatar);
	user("user_info__ok__doc_get_started.json", &open_id, &display,
	    &avatar);
	assert_string_equal(open_id, "723f24d7-e717-40f8-a2b6-cb8464cd23b4");
	assert_string_equal(display, "Tik Toker");
	free(open_id);
	free(display);
	free(avatar);
	user("user_info__ok__real_sandbox_2026.json", &open_id, &display,
	    &avatar);
	assert_string_equal(open_id, "<REDACTED>");
	assert_string_equal(display, "<REDACTED>");
	/* Not a URL (redacted): decoded as sent; the fetch fails alone. */
	assert_string_equal(avatar, "<REDACTED>");
	free(open_id);
	free(display);
	free(avatar);
}

/* Data-endpoint errors */

static void
test_data_errors(void **state)
{
	static const struct {
		const char *name;
		enum api_status want;
		const char *in_err;
	} cases[] = {
	    /* The doc's bare error struct and the real envelope alike. */
	    {"error__access_token_invalid__doc_bare_error_object.json",
		API_TOKEN, "access_token_invalid"},
	    {"error__access_token_invalid__doc_enveloped_constructed.json",
		API_TOKEN, "access_token_invalid"},
	    /* No "data" member in real error bodies (HTTP 401). */
	    {"user_info__error__scope_not_authorized__reconstructed.json",
		API_SCOPE, "scope_not_authorized"},
	    /* As pasted (cut by a logger): not JSON, a 401, so a token
	     * problem is assumed: one refresh, then the request again. */
	    {"user_info__error__scope_not_authorized__real_truncated.txt",
		API_TOKEN, "not JSON"},
	    {"error__rate_limit_exceeded__429_constructed.json", API_RATE,
		"rate_limit_exceeded"},
	    /* Deterministic: the same request gets the same answer. */
	    {"error__invalid_params__real_research_api_2024.json",
		API_REFUSED, "invalid_params: Invalid count or cursor"},
	    {"error__http200_nonok__content_posting_constructed.json",
		API_REFUSED, "spam_risk_too_many_posts"},
	    /* Doc examples with trailing commas or "...": invalid JSON. */
	    {"video_list__ok__doc_apiref.json", API_BAD, "not JSON"},
	    {"video_list__ok__doc_get_started.json", API_BAD, "not JSON"},
	    {"video_query__ok__doc_get_started.json", API_BAD, "not JSON"},
	    /* A v1 body where a v2 data answer belongs. */
	    {"oauth_token__legacy_v1_shape__doc_display_get_started.json",
		API_BAD, "legacy v1"},
	};
	char err[ERRLEN];
	size_t i;
	enum api_status st;

	(void)state;
	NEED_SAMPLES();
	for (i = 0; i < nitems(cases); i++) {
		st = data_status(cases[i].name, err, sizeof(err));
		if (st != cases[i].want || strstr(err, cases[i].in_err) == NULL)
			fail_msg("%s: class %d (want %d), \"%s\" (want \"%s\")",
			    cases[i].name, (int)st, (int)cases[i].want, err,
			    cases[i].in_err);
	}
}

/* video/list and video/query */

static void
test_video_list(void **state)
{
	struct api_page p;
	char err[ERRLEN];
	const struct video *v;

	(void)state;
	NEED_SAMPLES();
	assert_int_equal(videos("video_list__ok__doc_get_started__made_valid_"
				"plus_create_time.json",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.nvideos, 2);
	assert_int_equal(p.skipped, 0);
	assert_int_equal(p.cursor, 1646883959000);
	assert_true(p.has_more);
	v = &p.videos[0];
	assert_string_equal(v->id, "7080213458555737986");
	assert_int_equal(v->created_at, 1648490656);
	/* TikTok ids carry the creation second in their top 32 bits. */
	assert_int_equal(v->created_at, 7080213458555737986ULL >> 32);
	assert_string_equal(v->title, "video 1");
	assert_string_equal(v->description, "Test video 1");
	assert_int_equal(v->duration, 2);
	assert_true(strncmp(v->cover_url,
			"https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-0037/"
			"49b5eb2713004dfa429eab84566e~tplv-noop.image?"
			"x-expires=1657851434&x-signature=",
			109) == 0);
	assert_string_equal(v->share_url,
	    "https://www.tiktok.com/@user_id/video/7080213458555737986?"
	    "utm_campaign=tt4d_open_api&utm_source=awbx37vxswqcvsf6");
	assert_string_equal(v->embed_link,
	    "https://www.tiktok.com/static/profile-video?id="
	    "7080213458555737986&hide_author=1&utm_campaign=tt4d_open_api&"
	    "utm_source=awbx37vxswqcvsf6");
	/* Not requested by that doc call: absent, so the mirror keeps its. */
	assert_null(v->embed_html);
	assert_true(v->width == API_ABSENT && v->height == API_ABSENT &&
		    v->total_views == API_ABSENT && v->total_likes == API_ABSENT);
	assert_string_equal(p.videos[1].id, "7080217258545735586");
	assert_int_equal(p.videos[1].created_at, 1648491541);
	assert_int_equal(p.videos[1].duration, 3);
	api_page_clear(&p);
}

static void
test_video_list_no_create_time(void **state)
{
	struct api_page p;
	char err[ERRLEN];

	(void)state;
	NEED_SAMPLES();
	/*
	 * The doc calls did not ask for create_time (the daemon always
	 * does): such items cannot be placed, so they are skipped, but their
	 * ids count as returned (never judged missing).
	 */
	assert_int_equal(videos("video_list__ok__doc_get_started__made_valid."
				"json",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.nvideos, 0);
	assert_int_equal(p.skipped, 2);
	assert_int_equal(p.nskipped_ids, 2);
	assert_string_equal(p.skipped_ids[0], "7080213458555737986");
	assert_string_equal(p.skipped_ids[1], "7080217258545735586");
	api_page_clear(&p);
	assert_int_equal(videos("video_list__ok__doc_apiref__trailing_comma_"
				"removed.json",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.nvideos, 0);
	assert_int_equal(p.nskipped_ids, 1);
	assert_string_equal(p.skipped_ids[0], "12345123451234512345");
	assert_int_equal(p.cursor, 1643332803000);
	assert_false(p.has_more);
	api_page_clear(&p);
}

static void
test_video_list_invalid_json(void **state)
{
	static const char *const names[] = {
	    "video_list__ok__doc_apiref.json",
	    "video_list__ok__doc_get_started.json",
	    "video_query__ok__doc_get_started.json",
	};
	struct api_page p;
	char err[ERRLEN];
	size_t i;

	(void)state;
	NEED_SAMPLES();
	for (i = 0; i < nitems(names); i++) {
		err[0] = '\0';
		assert_int_equal(videos(names[i], &p, err, sizeof(err)), -1);
		assert_int_equal(p.nvideos, 0);
		assert_true(err[0] != '\0');
	}
}

static void
test_video_empty(void **state)
{
	static const char *const names[] = {
	    "video_list__ok__empty__real_sandbox_2026.json",
	    "video_query__ok__unknown_id__real_sandbox_2026.json",
	};
	struct api_page p;
	char err[ERRLEN];
	size_t i;

	(void)state;
	NEED_SAMPLES();
	for (i = 0; i < nitems(names); i++) {
		assert_int_equal(videos(names[i], &p, err, sizeof(err)), 0);
		assert_int_equal(p.nvideos, 0);
		assert_int_equal(p.skipped, 0);
		assert_int_equal(p.cursor, 0);
		assert_false(p.has_more);
		api_page_clear(&p);
	}
}

static void
test_video_query(void **state)
{
	struct api_page p;
	char err[ERRLEN];

	(void)state;
	NEED_SAMPLES();
	/* Ids and titles only: both returned, so neither is missing. */
	assert_int_equal(videos("video_query__ok__doc_apiref.json", &p, err,
			     sizeof(err)),
	    0);
	assert_int_equal(p.nvideos, 0);
	assert_int_equal(p.nskipped_ids, 2);
	assert_string_equal(p.skipped_ids[0], "1234123412345678567");
	assert_string_equal(p.skipped_ids[1], "1010102020203030303");
	assert_false(p.has_more);
	api_page_clear(&p);
	assert_int_equal(videos("video_query__ok__doc_get_started__made_valid."
				"json",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.nskipped_ids, 2);
	assert_string_equal(p.skipped_ids[0], "7077642457847994444");
	assert_string_equal(p.skipped_ids[1], "7080217258529732386");
	api_page_clear(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_sample_known),
	    cmocka_unit_test(test_token_ok),
	    cmocka_unit_test(test_token_bang_tokens),
	    cmocka_unit_test(test_token_real_sandbox),
	    cmocka_unit_test(test_token_errors),
	    cmocka_unit_test(test_token_legacy_v1),
	    cmocka_unit_test(test_revoke),
	    cmocka_unit_test(test_user_info),
	    cmocka_unit_test(test_data_errors),
	    cmocka_unit_test(test_video_list),
	    cmocka_unit_test(test_video_list_no_create_time),
	    cmocka_unit_test(test_video_list_invalid_json),
	    cmocka_unit_test(test_video_empty),
	    cmocka_unit_test(test_video_query),
	};

	log_init(LOG_QUIET);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
