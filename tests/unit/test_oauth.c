/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/sha256.c (FIPS 180-4 vectors, padding boundaries)
 * and lib/oauth.c (PKCE, the authorize URL, token request bodies, token
 * responses and the redirect that brings the code back), following
 * tiktok-api.md §1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "oauth.h"
#include "secrets.h"
#include "sha256.h"
#include "util.h"

static char key[] = "awkey123";
static char secret[] = "s&cret=";
static char redirect[] = "http://127.0.0.1:8723/callback/";
static char auth_url[] = "https://www.tiktok.com/v2/auth/authorize/";
static char auth_url_q[] = "https://auth.example/authorize?lang=en";

static void
make_cfg(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->client_key = key;
	c->client_secret = secret;
	c->redirect_uri = redirect;
	c->auth_url = auth_url;
}

static void
hex_of(const void *data, size_t len, const char *want)
{
	char hex[2 * SHA256_LEN + 1];

	sha256_hex(data, len, hex);
	assert_string_equal(hex, want);
}

/* SHA-256 of n copies of 'a', as sha256sum(1) prints them. */
static void
test_sha256_vectors(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} a_runs[] = {
	    {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
	    {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
	    {57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
	    {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
	    {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
	    {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
	    {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
	    {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
	    {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
	};
	char a[128];
	size_t i;

	(void)state;
	/* FIPS 180-2 appendix B and the usual companions. */
	hex_of("", 0,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	    112,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	/* Padding boundaries: 55/56/57, 63/64/65 and two-block tails. */
	memset(a, 'a', sizeof(a));
	for (i = 0; i < nitems(a_runs); i++)
		hex_of(a, a_runs[i].n, a_runs[i].hex);
}

static void
test_sha256_million(void **state)
{
	unsigned char d[SHA256_LEN];
	static const unsigned char want[SHA256_LEN] = {0xcd, 0xc7, 0x6e, 0x5c,
	    0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e,
	    0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d,
	    0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
	char *m;

	(void)state;
	m = xmalloc(1000000);
	memset(m, 'a', 1000000);
	sha256(m, 1000000, d);
	assert_memory_equal(d, want, sizeof(want));
	hex_of(m, 1000000,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(m);
}

static void
test_pkce(void **state)
{
	char v[OAUTH_VERIFIER_LEN + 1], c[65], v2[OAUTH_VERIFIER_LEN + 1];
	char c2[65], want[65];
	int round;

	(void)state;
	/* TikTok wants hex, not RFC 7636's base64url: the RFC's example
	 * verifier must give hex, never "E9Melhoa2OwvFrEMTJguCHaoeK1t...". */
	hex_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 43,
	    "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3");
	for (round = 0; round < 50; round++) {
		oauth_pkce(v, c);
		assert_int_equal(strlen(v), OAUTH_VERIFIER_LEN);
		assert_true(strlen(v) >= 43 && strlen(v) <= 128);
		assert_int_equal(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "abcdefghijklmnopqrstuvwxyz"
					   "0123456789-._~"),
		    OAUTH_VERIFIER_LEN);
		assert_int_equal(strlen(c), 64);
		assert_int_equal(strspn(c, "0123456789abcdef"), 64);
		sha256_hex(v, strlen(v), want);
		assert_string_equal(c, want);
	}
	oauth_pkce(v2, c2);
	assert_string_not_equal(v, v2);
	assert_string_not_equal(c, c2);
}

static void
test_state(void **state)
{
	char s1[OAUTH_STATE_LEN + 1], s2[OAUTH_STATE_LEN + 1];

	(void)state;
	oauth_state(s1);
	oauth_state(s2);
	assert_int_equal(strlen(s1), OAUTH_STATE_LEN);
	assert_int_equal(strspn(s1, "0123456789abcdef"), OAUTH_STATE_LEN);
	assert_string_not_equal(s1, s2);
	/* oauth_state_equal: the same state only, whole. */
	assert_true(oauth_state_equal(s1, s1));
	memcpy(s2, s1, sizeof(s2));
	assert_true(oauth_state_equal(s1, s2));
	s2[OAUTH_STATE_LEN - 1] ^= 1;
	assert_false(oauth_state_equal(s1, s2));
	assert_false(oauth_state_equal(s1, ""));
	assert_false(oauth_state_equal(s1, NULL));
	s2[OAUTH_STATE_LEN - 1] = '\0';
	assert_false(oauth_state_equal(s2, s2)); /* too short */
}

/* The decoded value of query parameter 'k' in 'url' (new), or NULL. */
static char *
param(const char *url, const char *k)
{
	const char *q = strchr(url, '?'), *p, *end;
	size_t klen = strlen(k);

	assert_non_null(q);
	for (p = q + 1; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "&");
		if ((size_t)(end - p) > klen && strncmp(p, k, klen) == 0 &&
		    p[klen] == '=')
			return url_unescape(p + klen + 1,
			    (size_t)(end - p) - klen - 1, 1);
	}
	return NULL;
}

static void
expect_param(const char *url, const char *k, const char *want)
{
	char *v = param(url, k);

	if (v == NULL)
		fail_msg("no %s in %s", k, url);
	assert_string_equal(v, want);
	free(v);
}

static void
test_authorize_url(void **state)
{
	struct cfg c;
	const char *pre;
	char *url, *scope;

	(void)state;
	make_cfg(&c);
	url = oauth_authorize_url(&c, "st4te", "0123abcd");
	assert_string_equal(url,
	    "https://www.tiktok.com/v2/auth/authorize/"
	    "?client_key=awkey123"
	    "&scope=user.info.basic%2Cvideo.list"
	    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8723%2Fcallback%2F"
	    "&state=st4te&response_type=code&code_challenge=0123abcd"
	    "&code_challenge_method=S256");
	/* Decoded, every parameter is what TikTok expects (§1.1). */
	expect_param(url, "client_key", "awkey123");
	expect_param(url, "redirect_uri", redirect);
	expect_param(url, "state", "st4te");
	expect_param(url, "response_type", "code");
	expect_param(url, "code_challenge", "0123abcd");
	expect_param(url, "code_challenge_method", "S256");
	scope = param(url, "scope");
	assert_non_null(scope);
	assert_non_null(strstr(scope, "user.info.basic"));
	assert_non_null(strstr(scope, "video.list"));
	assert_null(strchr(scope, ' '));
	free(scope);
	assert_null(strstr(url, "client_id"));
	assert_null(strstr(url, secret));
	free(url);

	/* An auth_url that already has a query gets '&', not a second '?'. */
	c.auth_url = auth_url_q;
	url = oauth_authorize_url(&c, "s", "c");
	pre = "https://auth.example/authorize?lang=en&client_key=awkey123&";
	assert_true(strncmp(url, pre, strlen(pre)) == 0);
	assert_null(strchr(strchr(url, '?') + 1, '?'));
	free(url);
}

static void
test_form_bodies(void **state)
{
	struct cfg c;
	char *b;

	(void)state;
	make_cfg(&c);
	/* The code is URL-decoded before it gets here; the body encodes it
	 * again (§1.2). */
	b = oauth_code_body(&c, "abc*!", "ver-._~X");
	assert_string_equal(b,
	    "client_key=awkey123&client_secret=s%26cret%3D&code=abc%2A%21"
	    "&grant_type=authorization_code"
	    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8723%2Fcallback%2F"
	    "&code_verifier=ver-._~X");
	free(b);
	b = oauth_refresh_body(&c, "rft.a+b/c");
	assert_string_equal(b,
	    "client_key=awkey123&client_secret=s%26cret%3D"
	    "&grant_type=refresh_token&refresh_token=rft.a%2Bb%2Fc");
	free(b);
	b = oauth_revoke_body(&c, "act.x y");
	assert_string_equal(b,
	    "client_key=awkey123&client_secret=s%26cret%3D&token=act.x%20y");
	free(b);
}

/* oauth_parse_token() over a C string. */
static int
parse_token(const char *body, struct tokens *t, char *oerr, size_t oerrlen,
    char *err, size_t errlen)
{
	return oauth_parse_token(body, strlen(body), 1700000000, t, oerr,
	    oerrlen, err, errlen);
}

static void
test_parse_token_ok(void **state)
{
	static const char body[] =
	    "{\"access_token\": \"act.example12345Example12345Example\","
	    " \"expires_in\": 86400,"
	    " \"open_id\": \"afd97af1-b87b-48b9-ac98-410aghda5344\","
	    " \"refresh_expires_in\": 31536000,"
	    " \"refresh_token\": \"rft.example12345Example12345Example\","
	    " \"scope\": \"user.info.basic,video.list\","
	    " \"token_type\": \"Bearer\", \"future\": {\"x\": [1]}}";
	struct tokens t;
	char oerr[64], err[ERRLEN];

	(void)state;
	assert_int_equal(parse_token(body, &t, oerr, sizeof(oerr), err,
			     sizeof(err)),
	    0);
	assert_string_equal(oerr, "");
	assert_string_equal(t.access_token,
	    "act.example12345Example12345Example");
	assert_string_equal(t.refresh_token,
	    "rft.example12345Example12345Example");
	assert_string_equal(t.open_id, "afd97af1-b87b-48b9-ac98-410aghda5344");
	assert_string_equal(t.scope, "user.info.basic,video.list");
	/* Real expiry: issue time plus lifetime. */
	assert_true(t.issued_at == 1700000000);
	assert_true(t.access_expires_at == 1700000000 + 86400);
	assert_true(t.refresh_expires_at == 1700000000 + 31536000);
	tokens_clear(&t);
	assert_null(t.access_token);

	/* open_id and scope are optional; "error": "" is no error. */
	assert_int_equal(parse_token("{\"access_token\":\"act.1\","
				     "\"refresh_token\":\"rft.1\","
				     "\"expires_in\":7200,"
				     "\"refresh_expires_in\":100,"
				     "\"error\":\"\"}",
			     &t, oerr, sizeof(oerr), err, sizeof(err)),
	    0);
	assert_null(t.open_id);
	assert_null(t.scope);
	assert_true(t.access_expires_at == 1700000000 + 7200);
	assert_true(t.refresh_expires_at == 1700000000 + 100);
	tokens_clear(&t);
}

static void
test_parse_token_oauth_error(void **state)
{
	struct tokens t;
	char oerr[64], err[ERRLEN];

	(void)state;
	/* TikTok answers OAuth errors with HTTP 200 (§1.5): the body decides. */
	assert_int_equal(parse_token("{\"error\": \"invalid_grant\","
				     " \"error_description\": \"Refresh token"
				     " is invalid or expired.\","
				     " \"log_id\": \"2022062218543701011\"}",
			     &t, oerr, sizeof(oerr), err, sizeof(err)),
	    1);
	assert_string_equal(oerr, "invalid_grant");
	assert_non_null(strstr(err, "invalid_grant"));
	assert_non_null(strstr(err, "Refresh token is invalid or expired."));
	assert_null(t.access_token);
	assert_true(oauth_error_is_fatal(oerr));

	assert_int_equal(parse_token("{\"error\":\"temporarily_unavailable\"}",
			     &t, oerr, sizeof(oerr), err, sizeof(err)),
	    1);
	assert_string_equal(oerr, "temporarily_unavailable");
	assert_non_null(strstr(err, "no description"));
	assert_false(oauth_error_is_fatal(oerr));
	assert_false(oauth_error_is_fatal("server_error"));
	assert_true(oauth_error_is_fatal("invalid_client"));
	/* A code TikTok may add later is not taken as the grant's end. */
	assert_false(oauth_error_is_fatal("some_new_error"));
	assert_false(oauth_error_is_fatal(""));
	assert_true(oauth_error_is_client("invalid_client"));
	assert_false(oauth_error_is_client("invalid_grant"));

	/* An error wins over tokens in the same body. */
	assert_int_equal(parse_token("{\"error\":\"invalid_request\","
				     "\"access_token\":\"act.1\","
				     "\"refresh_token\":\"rft.1\","
				     "\"expires_in\":1,"
				     "\"refresh_expires_in\":1}",
			     &t, oerr, sizeof(oerr), err, sizeof(err)),
	    1);
	assert_null(t.access_token);

	/* Hostile text is escaped before it reaches a message. */
	assert_int_equal(parse_token("{\"error\":\"bad\\nline\","
				     "\"error_description\":\"x\\u001b[2Jy\"}",
			     &t, oerr, sizeof(oerr), err, sizeof(err)),
	    1);
	assert_null(strchr(oerr, '\n'));
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, '\x1b'));
	assert_non_null(strstr(err, "\\x1b"));
}

static void
test_parse_token_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "<html>502 Bad Gateway</html>",
	    "[]",
	    "\"act.1\"",
	    "{\"access_token\":\"act.1\"",
	    /* missing fields */
	    "{}",
	    "{\"refresh_token\":\"rft.1\",\"expires_in\":1,"
	    "\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"expires_in\":1,"
	    "\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":1}",
	    "{\"access_token\":null,\"refresh_token\":\"rft.1\","
	    "\"expires_in\":1,\"refresh_expires_in\":1}",
	    /* wrong types and values */
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":\"86400\",\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":0,\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":-5,\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":1.5,\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":99999999999,\"refresh_expires_in\":1}",
	    "{\"access_token\":42,\"refresh_token\":\"rft.1\","
	    "\"expires_in\":1,\"refresh_expires_in\":1}",
	    "{\"access_token\":\"\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":1,\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"\","
	    "\"expires_in\":1,\"refresh_expires_in\":1}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":1,\"refresh_expires_in\":1,\"open_id\":7}",
	    "{\"access_token\":\"act.1\",\"refresh_token\":\"rft.1\","
	    "\"expires_in\":1,\"refresh_expires_in\":1,\"scope\":[]}",
	    /* an "error" that is not a string is no OAuth error */
	    "{\"error\":{\"code\":\"x\"}}",
	};
	struct tokens t;
	char oerr[64], err[ERRLEN];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		rc = parse_token(bad[i], &t, oerr, sizeof(oerr), err,
		    sizeof(err));
		if (rc != -1)
			fail_msg("accepted (%d): %s", rc, bad[i]);
		assert_true(err[0] != '\0');
		assert_null(t.access_token);
		assert_null(t.refresh_token);
		assert_null(t.open_id);
		assert_null(t.scope);
	}
	/* A message that says what is missing. */
	assert_int_equal(parse_token("{\"access_token\":\"act.1\","
				     "\"expires_in\":1,"
				     "\"refresh_expires_in\":1}",
			     &t, oerr, sizeof(oerr), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "refresh_token"));
}

/* oauth_parse_redirect() expecting success with 'code' and 'state'. */
static void
redirect_ok(const char *s, const char *code, const char *st)
{
	char *c = NULL, *t = NULL, err[ERRLEN];

	if (oauth_parse_redirect(s, &c, &t, err, sizeof(err)) != 0)
		fail_msg("refused %s: %s", s, err);
	assert_string_equal(c, code);
	assert_string_equal(t, st);
	free(c);
	free(t);
}

static int
revoke(long status, const char *body, char *oerr, char *err)
{
	return oauth_parse_revoke(status, body, strlen(body), oerr, 64, err,
	    ERRLEN);
}

/* Revoke: an empty body or {} is success; OAuth errors come with 200. */
static void
test_parse_revoke(void **state)
{
	char oerr[64], err[ERRLEN];

	(void)state;
	assert_int_equal(revoke(200, "", oerr, err), 0);
	assert_int_equal(revoke(200, " \r\n", oerr, err), 0);
	assert_int_equal(revoke(200, "{}", oerr, err), 0);
	assert_int_equal(revoke(200, "{\"error\":\"\"}", oerr, err), 0);
	assert_int_equal(revoke(200,
			     "{\"error\":\"invalid_request\","
			     "\"error_description\":\"The access token is "
			     "invalid or expired.\"}",
			     oerr, err),
	    1);
	assert_string_equal(oerr, "invalid_request");
	assert_non_null(strstr(err, "expired"));
	assert_int_equal(revoke(400, "{\"error\":\"invalid_client\"}", oerr,
			     err),
	    1);
	assert_string_equal(oerr, "invalid_client");
	/* Not an answer: a 5xx, HTML, an empty 5xx body, JSON not object. */
	assert_int_equal(revoke(502, "<html>bad gateway</html>", oerr, err),
	    -1);
	assert_int_equal(revoke(503, "", oerr, err), -1);
	assert_int_equal(revoke(500, "{}", oerr, err), -1);
	assert_int_equal(revoke(200, "[1]", oerr, err), -1);
	assert_string_equal(oerr, "");
}

static void
test_parse_redirect(void **state)
{
	(void)state;
	redirect_ok("http://127.0.0.1:8723/callback/?code=abc%2A%21"
		    "&scopes=user.info.basic%2Cvideo.list&state=st4te",
	    "abc*!", "st4te");
	redirect_ok("/callback/?state=s1&code=C0DE", "C0DE", "s1");
	redirect_ok("code=C0DE&state=s1", "C0DE", "s1");
	redirect_ok("?code=C0DE&state=s1", "C0DE", "s1");
	/* Form decoding: '+' is a space, %2B a plus. */
	redirect_ok("code=a+b%2Bc&state=x", "a b+c", "x");
	/* The fragment is not part of the query. */
	redirect_ok("https://h/cb?code=c&state=s#frag", "c", "s");
	/* Keys match whole: "xcode" is not "code". */
	redirect_ok("xcode=1&code=2&state=s&mystate=t", "2", "s");
	/* Empty parameters around are fine. */
	redirect_ok("&&code=c&&state=s&", "c", "s");
}

static void
test_parse_redirect_errors(void **state)
{
	static const char *const bad[] = {
	    "",
	    "http://127.0.0.1:8723/callback/",
	    "code=abc",		/* no state */
	    "state=s",		/* no code */
	    "code=&state=s",	/* empty code */
	    "code&state=s",	/* no '=' */
	    "code=%zz&state=s", /* malformed escape */
	    "code=ab%2&state=s",
	    "code=%00&state=s", /* NUL */
	    "code=c&state=%",
	};
	char *c, *t, err[ERRLEN];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		c = t = (char *)1;
		err[0] = '\0';
		rc = oauth_parse_redirect(bad[i], &c, &t, err, sizeof(err));
		if (rc != -1)
			fail_msg("accepted (%d): \"%s\"", rc, bad[i]);
		assert_null(c);
		assert_null(t);
		assert_true(err[0] != '\0');
	}
	/* The user said no: an OAuth error, with TikTok's words. */
	rc = oauth_parse_redirect("http://127.0.0.1:8723/callback/?error="
				  "access_denied&error_description=The+user+"
				  "denied+the+request&state=s",
	    &c, &t, err, sizeof(err));
	assert_int_equal(rc, 1);
	assert_null(c);
	/* The state comes back, so the listener acts only on its own. */
	assert_non_null(t);
	assert_string_equal(t, "s");
	free(t);
	assert_non_null(strstr(err, "access_denied"));
	assert_non_null(strstr(err, "The user denied the request"));
	rc = oauth_parse_redirect("error=invalid_scope%0A&code=c&state=s", &c,
	    &t, err, sizeof(err));
	assert_int_equal(rc, 1);
	assert_null(c);
	free(t);
	assert_non_null(strstr(err, "invalid_scope\\x0a"));
	/* Without a state: none comes back. */
	rc = oauth_parse_redirect("/callback/?error=access_denied", &c, &t,
	    err, sizeof(err));
	assert_int_equal(rc, 1);
	assert_null(t);
}

static void
test_code_decode(void **state)
{
	static const struct {
		const char *in, *want;
	} ok[] = {
	    /* As the address bar shows a real code, and decoded. */
	    {"Xy-Z_09abc%2A1%214608.va", "Xy-Z_09abc*1!4608.va"},
	    {"Xy-Z_09abc*1!4608.va", "Xy-Z_09abc*1!4608.va"},
	    {"abc%2a1%21", "abc*1!"},
	    /* Pasted with a newline or spaces around it. */
	    {"  abc*1!5888\n", "abc*1!5888"},
	    /* '+' is not form text here: it stays. */
	    {"a+b", "a+b"},
	};
	static const char *const bad[] = {
	    "", "   ", "abc%2", "abc%zz", "abc%00",
	    "code=abc&state=x", "?code=abc", "http://127.0.0.1:1/cb/?code=a",
	};
	char err[ERRLEN], *code;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(ok); i++) {
		assert_int_equal(oauth_code_decode(ok[i].in, &code, err,
				     sizeof(err)),
		    0);
		assert_string_equal(code, ok[i].want);
		free(code);
	}
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		if (oauth_code_decode(bad[i], &code, err, sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_null(code);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(oauth_code_decode("a=b", &code, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--redirect-url"));
}

static void
test_scope_missing(void **state)
{
	char m[64];

	(void)state;
	assert_int_equal(oauth_scope_missing("user.info.basic,video.list", m,
			     sizeof(m)),
	    0);
	assert_string_equal(m, "");
	assert_int_equal(oauth_scope_missing("video.list,user.info.profile,"
					     "user.info.basic",
			     m, sizeof(m)),
	    0);
	assert_int_equal(oauth_scope_missing("user.info.basic", m, sizeof(m)),
	    1);
	assert_string_equal(m, "video.list");
	assert_int_equal(oauth_scope_missing("video.list", m, sizeof(m)), 1);
	assert_string_equal(m, "user.info.basic");
	assert_int_equal(oauth_scope_missing("", m, sizeof(m)), 2);
	assert_string_equal(m, "user.info.basic,video.list");
	assert_int_equal(oauth_scope_missing(NULL, m, sizeof(m)), 2);
	/* A prefix is not the scope. */
	assert_int_equal(oauth_scope_missing("video.lis,user.info.basic2", m,
			     sizeof(m)),
	    2);
	assert_int_equal(oauth_scope_missing("user.info.basic, video.list", m,
			     sizeof(m)),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_sha256_million),
	    cmocka_unit_test(test_pkce),
	    cmocka_unit_test(test_state),
	    cmocka_unit_test(test_authorize_url),
	    cmocka_unit_test(test_form_bodies),
	    cmocka_unit_test(test_parse_token_ok),
	    cmocka_unit_test(test_parse_token_oauth_error),
	    cmocka_unit_test(test_parse_token_malformed),
	    cmocka_unit_test(test_parse_revoke),
	    cmocka_unit_test(test_parse_redirect),
	    cmocka_unit_test(test_parse_redirect_errors),
	    cmocka_unit_test(test_code_decode),
	    cmocka_unit_test(test_scope_missing),
	};

	return cmocka_run_group_tests_name("oauth", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
