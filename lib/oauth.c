/* SPDX-License-Identifier: ISC */
/*
 * TikTok OAuth v2. TikTok names the client "client_key", separates scopes
 * with commas, and wants the PKCE challenge as lowercase hex of SHA-256
 * (not base64url): tiktok-api.md §1.1, gotchas 5 and 14.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "oauth.h"
#include "sha256.h"
#include "util.h"

void
oauth_pkce(char verifier[OAUTH_VERIFIER_LEN + 1], char challenge[65])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789-._~";
	int i;

	for (i = 0; i < OAUTH_VERIFIER_LEN; i++)
		verifier[i] = alphabet[rand_below(sizeof(alphabet) - 1)];
	verifier[OAUTH_VERIFIER_LEN] = '\0';
	sha256_hex(verifier, OAUTH_VERIFIER_LEN, challenge);
}

void
oauth_state(char state[OAUTH_STATE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < OAUTH_STATE_LEN; i++)
		state[i] = hex[rand_below(16)];
	state[OAUTH_STATE_LEN] = '\0';
}

char *
oauth_authorize_url(const struct cfg *cfg, const char *state,
    const char *challenge)
{
	char *key = url_escape(cfg->client_key);
	char *scope = url_escape(OAUTH_SCOPES);
	char *redir = url_escape(cfg->redirect_uri);
	char *url;

	url = xasprintf("%s%sclient_key=%s&scope=%s&redirect_uri=%s"
			"&state=%s&response_type=code&code_challenge=%s"
			"&code_challenge_method=S256",
	    cfg->auth_url, strchr(cfg->auth_url, '?') ? "&" : "?", key, scope,
	    redir, state, challenge);
	free(key);
	free(scope);
	free(redir);
	return url;
}

/* "client_key=..&client_secret=.." then the given pairs, form-encoded. */
static char *
form(const struct cfg *cfg, const char *const *kv)
{
	struct buf b;
	char *k, *v;
	int i;

	buf_init(&b, 0);
	k = url_escape(cfg->client_key);
	v = url_escape(cfg->client_secret);
	if (buf_printf(&b, "client_key=%s&client_secret=%s", k, v) == -1)
		fatalx("form");
	free(k);
	free(v);
	for (i = 0; kv[i] != NULL; i += 2) {
		v = url_escape(kv[i + 1]);
		if (buf_printf(&b, "&%s=%s", kv[i], v) == -1)
			fatalx("form");
		free(v);
	}
	return buf_take(&b, NULL);
}

char *
oauth_code_body(const struct cfg *cfg, const char *code, const char *verifier)
{
	const char *kv[] = {"code", code, "grant_type", "authorization_code",
	    "redirect_uri", cfg->redirect_uri, "code_verifier", verifier, NULL};

	return form(cfg, kv);
}

char *
oauth_refresh_body(const struct cfg *cfg, const char *refresh_token)
{
	const char *kv[] = {"grant_type", "refresh_token", "refresh_token",
	    refresh_token, NULL};

	return form(cfg, kv);
}

char *
oauth_revoke_body(const struct cfg *cfg, const char *access_token)
{
	const char *kv[] = {"token", access_token, NULL};

	return form(cfg, kv);
}

int
oauth_error_is_fatal(const char *oerr)
{
	/*
	 * The errors of RFC 6749 §5.2 that TikTok lists (tiktok-api.md §1.5)
	 * and that sending the same request again cannot cure. server_error,
	 * temporarily_unavailable and any code TikTok may add are transient:
	 * a refresh that meets one backs off and tries again, and never
	 * costs the authorization (design.md, "Auth failures").
	 */
	static const char *const permanent[] = {"invalid_grant",
	    "invalid_request", "invalid_client", "unauthorized_client",
	    "unsupported_grant_type", "invalid_scope", "access_denied"};
	size_t i;

	for (i = 0; i < nitems(permanent); i++)
		if (strcmp(oerr, permanent[i]) == 0)
			return 1;
	return 0;
}

int
oauth_error_is_client(const char *oerr)
{
	return strcmp(oerr, "invalid_client") == 0 ||
	    strcmp(oerr, "unauthorized_client") == 0;
}

/*
 * An OAuth error body ({"error", "error_description"}, tiktok-api.md
 * §1.5): returns 1 with the code in 'oerr' and the text in 'err', else 0.
 */
static int
oauth_error(const struct json *j, char *oerr, size_t oerrlen, char *err,
    size_t errlen)
{
	char *e = NULL, *desc = NULL, esc[256], esc2[64];
	int found = 0;

	if (json_get_string(j, 0, "error", 64, &e, NULL, 0) == 0 &&
	    e[0] != '\0') {
		(void)json_get_string(j, 0, "error_description", 512, &desc,
		    NULL, 0);
		log_escape(e, strlen(e), esc2, sizeof(esc2));
		snprintf(oerr, oerrlen, "%s", esc2);
		errf(err, errlen, "%s: %s", esc2,
		    desc ? log_escape(desc, strlen(desc), esc, sizeof(esc))
			 : "no description");
		found = 1;
	}
	free(e);
	free(desc);
	return found;
}

int
oauth_parse_token(const char *body, size_t len, int64_t now, struct tokens *t,
    char *oerr, size_t oerrlen, char *err, size_t errlen)
{
	struct json j = {0};
	int64_t expires_in = -1, refresh_in = -1;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (oerrlen > 0)
		oerr[0] = '\0';
	if (json_parse(&j, body, len, err, errlen) == -1)
		goto out;
	if (json_type(&j, 0) != JSON_OBJECT) {
		errf(err, errlen, "token response is not a JSON object");
		goto out;
	}
	if (oauth_error(&j, oerr, oerrlen, err, errlen)) {
		rc = 1;
		goto out;
	}
	/*
	 * The v1 shape that the Display API "Get Started" page still prints
	 * ({"data": {"access_token", ..., "error_code"}, "message"}): never
	 * what the v2 endpoint sends, so not misread as one (tiktok-api.md
	 * §0).
	 */
	if (json_get(&j, 0, "access_token") == -1 &&
	    json_type(&j, json_get(&j, 0, "data")) == JSON_OBJECT) {
		errf(err, errlen,
		    "a legacy v1 token response (data.access_token, "
		    "\"message\"), not TikTok's OAuth v2; check that "
		    "app.api_url is https://open.tiktokapis.com");
		goto out;
	}
	if (json_get_string(&j, 0, "access_token", 4096, &t->access_token,
		err, errlen) != 0 ||
	    json_get_string(&j, 0, "refresh_token", 4096, &t->refresh_token,
		err, errlen) != 0 ||
	    json_get_int(&j, 0, "expires_in", 1, INT32_MAX, &expires_in, err,
		errlen) != 0 ||
	    json_get_int(&j, 0, "refresh_expires_in", 1, INT32_MAX,
		&refresh_in, err, errlen) != 0 ||
	    json_get_string(&j, 0, "open_id", 256, &t->open_id, err,
		errlen) == -1 ||
	    json_get_string(&j, 0, "scope", 1024, &t->scope, err,
		errlen) == -1) {
		if (t->access_token == NULL || t->refresh_token == NULL ||
		    expires_in < 0 || refresh_in < 0)
			errf(err, errlen,
			    "token response lacks access_token, refresh_token,"
			    " expires_in or refresh_expires_in");
		tokens_clear(t);
		goto out;
	}
	if (t->access_token[0] == '\0' || t->refresh_token[0] == '\0') {
		errf(err, errlen, "token response has an empty token");
		tokens_clear(t);
		goto out;
	}
	t->issued_at = now;
	t->access_expires_at = now + expires_in;
	t->refresh_expires_at = now + refresh_in;
	rc = 0;
out:
	json_free(&j);
	return rc;
}

int
oauth_parse_revoke(long status, const char *body, size_t len, char *oerr,
    size_t oerrlen, char *err, size_t errlen)
{
	struct json j = {0};
	size_t i;
	int rc = -1;

	if (oerrlen > 0)
		oerr[0] = '\0';
	for (i = 0; i < len && strchr(" \t\r\n", body[i]) != NULL; i++)
		;
	/* Success is an empty body (older documentation) or {}. */
	if (i == len && status == 200)
		return 0;
	if (json_parse(&j, body, len, err, errlen) == -1 ||
	    json_type(&j, 0) != JSON_OBJECT) {
		errf(err, errlen, "HTTP %ld and no OAuth answer", status);
		goto out;
	}
	if (oauth_error(&j, oerr, oerrlen, err, errlen)) {
		rc = 1;
		goto out;
	}
	if (status != 200) {
		errf(err, errlen, "HTTP %ld", status);
		goto out;
	}
	rc = 0;
out:
	json_free(&j);
	return rc;
}

/* Find 'key' in a query string; returns a new decoded value or NULL. */
static char *
query_get(const char *q, const char *key, int *bad)
{
	size_t klen = strlen(key), n;
	const char *p = q, *amp;
	char *v;

	while (*p != '\0') {
		amp = strchr(p, '&');
		n = amp ? (size_t)(amp - p) : strlen(p);
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			v = url_unescape(p + klen + 1, n - klen - 1, 1);
			if (v == NULL)
				*bad = 1;
			return v;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return NULL;
}

/*
 * What to do about an error TikTok's consent page sent back. A scope the
 * app is not approved for fails the whole consent with invalid_scope
 * (tiktok-api.md §3, corrections); a sandbox admits only its target users.
 */
static const char *
redirect_hint(const char *e)
{
	if (strcmp(e, "invalid_scope") == 0)
		return "; the app is not approved for " OAUTH_SCOPES ": in "
		       "TikTok's developer portal add the Login Kit product "
		       "(scope user.info.basic) and the Display API product "
		       "(scope video.list) to the app, or to its sandbox "
		       "before review, then run auth again";
	if (strcmp(e, "non_sandbox_target") == 0)
		return "; the TikTok account in the browser is not a target "
		       "user of the app's sandbox: add it under Sandbox "
		       "settings, Target users, in TikTok's developer portal";
	if (strcmp(e, "access_denied") == 0)
		return "; the consent was declined in the browser";
	return "";
}

int
oauth_state_equal(const char *a, const char *b)
{
	unsigned char diff = 0;
	size_t i;

	if (a == NULL || b == NULL || strlen(a) != OAUTH_STATE_LEN ||
	    strlen(b) != OAUTH_STATE_LEN)
		return 0;
	/* Every byte, whatever differs first: no timing oracle. */
	for (i = 0; i < OAUTH_STATE_LEN; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

int
oauth_parse_redirect(const char *s, char **code, char **state, char *err,
    size_t errlen)
{
	const char *q = strchr(s, '?');
	char *query, *e, *desc, esc[256], esc2[64];
	int bad = 0, rc = -1;

	*code = *state = NULL;
	query = xstrndup(q ? q + 1 : s, strcspn(q ? q + 1 : s, "#"));
	e = query_get(query, "error", &bad);
	if (e != NULL && e[0] != '\0') {
		/* The caller acts on an error only when the state is its own. */
		*state = query_get(query, "state", &bad);
		desc = query_get(query, "error_description", &bad);
		errf(err, errlen, "authorization failed: %s: %s%s",
		    log_escape(e, strlen(e), esc2, sizeof(esc2)),
		    desc ? log_escape(desc, strlen(desc), esc, sizeof(esc))
			 : "no description",
		    redirect_hint(e));
		free(desc);
		rc = 1;
		goto out;
	}
	*code = query_get(query, "code", &bad);
	*state = query_get(query, "state", &bad);
	if (bad || *code == NULL || (*code)[0] == '\0' || *state == NULL) {
		errf(err, errlen,
		    "the redirect URL has no valid code and state parameters");
		free(*code);
		free(*state);
		*code = *state = NULL;
		goto out;
	}
	rc = 0;
out:
	free(e);
	free(query);
	return rc;
}

int
oauth_scope_missing(const char *granted, char *missing, size_t len)
{
	const char *want = OAUTH_SCOPES, *p, *g;
	size_t n, glen;
	int nmissing = 0, found;

	if (len > 0)
		missing[0] = '\0';
	for (p = want; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		found = 0;
		/* TikTok separates scopes with commas; tolerate spaces too. */
		for (g = granted ? granted : ""; *g != '\0' && !found;
		     g += glen + (g[glen] != '\0')) {
			g += strspn(g, " ");
			glen = strcspn(g, ", ");
			found = glen == n && strncmp(g, p, n) == 0;
		}
		if (!found) {
			size_t used = strlen(missing);

			if (used < len)
				snprintf(missing + used, len - used, "%s%.*s",
				    nmissing ? "," : "", (int)n, p);
			nmissing++;
		}
	}
	return nmissing;
}

int
oauth_code_decode(const char *in, char **code, char *err, size_t errlen)
{
	size_t len;

	*code = NULL;
	in += strspn(in, " \t\r\n");
	len = strlen(in);
	while (len > 0 && strchr(" \t\r\n", in[len - 1]) != NULL)
		len--;
	if (len == 0)
		return errf(err, errlen, "the code is empty");
	/* A whole redirect (or its query) pasted where the code goes. */
	if (memchr(in, '&', len) != NULL || memchr(in, '=', len) != NULL ||
	    memchr(in, '?', len) != NULL)
		return errf(err, errlen,
		    "this is not a bare code (it has '&', '=' or '?'); pass "
		    "the whole address with --redirect-url 'URL'");
	/*
	 * TikTok's codes hold '*' and '!' (tiktok-api.md, corrections), so
	 * the address bar shows them as %2A and %21. A real code never holds
	 * '%' itself: decode exactly once when there is an escape. '+' stays
	 * '+', as a code is not form text.
	 */
	if (memchr(in, '%', len) == NULL) {
		*code = xstrndup(in, len);
		return 0;
	}
	*code = url_unescape(in, len, 0);
	if (*code == NULL)
		return errf(err, errlen,
		    "the code has a malformed %%-escape; copy it again from "
		    "the address bar (quoted: --code '...')");
	return 0;
}
