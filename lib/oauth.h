/* SPDX-License-Identifier: ISC */
/*
 * TikTok OAuth v2 (tiktok-api.md §1): the authorize URL with state and
 * PKCE, the token request bodies, the token response, and the redirect
 * that carries the code back. Pure functions; lib/grant.c sends the
 * requests and saves what they bring.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "secrets.h"

#define OAUTH_TOKEN_PATH "/v2/oauth/token/"
#define OAUTH_REVOKE_PATH "/v2/oauth/revoke/"
#define OAUTH_SCOPES "user.info.basic,video.list"
#define OAUTH_VERIFIER_LEN 64
#define OAUTH_STATE_LEN 32

struct cfg;

/*
 * A new PKCE pair: a 64-character verifier from [A-Za-z0-9-._~] and its
 * challenge, the lowercase hex of SHA-256(verifier) as TikTok wants it.
 */
void oauth_pkce(char verifier[OAUTH_VERIFIER_LEN + 1], char challenge[65]);
/* A random state value (hex). */
void oauth_state(char state[OAUTH_STATE_LEN + 1]);

/* The authorize URL to open in a browser. The caller frees. */
char *oauth_authorize_url(const struct cfg *, const char *state,
    const char *challenge);

/* Form bodies for the token and revoke endpoints. The caller frees. */
char *oauth_code_body(const struct cfg *, const char *code,
    const char *verifier);
char *oauth_refresh_body(const struct cfg *, const char *refresh_token);
char *oauth_revoke_body(const struct cfg *, const char *access_token);

/*
 * Decode a token endpoint response. OAuth errors come back with HTTP 200
 * and an "error" member (tiktok-api.md §1.5), so the body decides.
 * Returns 0 and fills 't' (issue time 'now'); 1 for an OAuth error, with
 * its code in 'oerr' (e.g. "invalid_grant") and text in 'err'; -1 for a
 * response that is not a token response.
 */
int oauth_parse_token(const char *body, size_t len, int64_t now,
    struct tokens *t, char *oerr, size_t oerrlen, char *err, size_t errlen);

/*
 * Decode a revoke endpoint response (tiktok-api.md §1.6): 0 when the grant
 * was revoked (HTTP 200 with an empty body or {}); 1 for an OAuth error,
 * its code in 'oerr' and text in 'err'; -1 for anything else (a 5xx, a
 * body that is no OAuth answer), with 'err'.
 */
int oauth_parse_revoke(long status, const char *body, size_t len,
    char *oerr, size_t oerrlen, char *err, size_t errlen);

/*
 * Take the redirect TikTok sent the browser to: a full URL, a path with a
 * query, or a bare query string. Returns 0 with the URL-decoded 'code' and
 * 'state' (new strings); 1 when it carries an OAuth error (the text in
 * 'err', and 'state' set when the URL has one: act on the error only when
 * it is the pending state); -1 when it is malformed.
 */
int oauth_parse_redirect(const char *s, char **code, char **state, char *err,
    size_t errlen);

/*
 * True when 'a' and 'b' are both OAUTH_STATE_LEN long and equal, compared
 * in constant time.
 */
int oauth_state_equal(const char *a, const char *b);

/*
 * Which of the scopes tiktok-mirror needs (OAUTH_SCOPES) the comma list
 * 'granted' lacks: their number, and their names (comma-separated) in
 * 'missing'. The consent page lets a user untick scopes, and the token's
 * "scope" lists what was granted (tiktok-api.md, corrections).
 */
int oauth_scope_missing(const char *granted, char *missing, size_t len);

/*
 * The authorization code as `auth --code` got it: as the browser's address
 * bar shows it (percent-encoded) or decoded. Returns 0 with a new string
 * in *code, decoded once; -1 with 'err' for an empty or malformed one.
 */
int oauth_code_decode(const char *in, char **code, char *err, size_t errlen);

/*
 * True when a token response error is permanent: sending the request again
 * gets the same answer. Unknown codes are not (they may be new transient
 * ones).
 */
int oauth_error_is_fatal(const char *oerr);
/* True when it is the app's client key or secret that TikTok refused. */
int oauth_error_is_client(const char *oerr);

#endif
