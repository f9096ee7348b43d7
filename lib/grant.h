/* SPDX-License-Identifier: ISC */
/*
 * The OAuth client (tiktok-api.md §1): the code exchange of `auth`, the
 * token refresh of the engine and of `revoke`, and the revocation. Each is
 * one form POST to the token or revoke endpoint over lib/http.c, its
 * answer decoded by lib/oauth.c (which stays pure), and for the exchange
 * and the refresh the new tokens written to the secrets file durably
 * before the caller is told, because TikTok rotates refresh tokens: the
 * old one no longer works (tiktok-api.md §5.1).
 *
 * A refresh is saved with rotate semantics: only over the grant it came
 * from. When `auth` wrote another grant meanwhile, that one is kept and
 * handed back (GRANT_SUPERSEDED). Rules about the grant itself (which user
 * it is for, which scopes it has) belong here too, so that every path that
 * obtains tokens applies them.
 */
#ifndef GRANT_H
#define GRANT_H

#include <stdint.h>

#include "secrets.h"
#include "util.h"

struct cfg;
struct http;
struct grant_call;

struct grant_opts {
	struct http *http;
	const struct cfg *cfg;	 /* api_url, client key and secret,
				    redirect_uri */
	struct secrets *secrets; /* where exchange and refresh save */
	long timeout_ms;	 /* each request's total; 0: lib/http.c's */
	/*
	 * Exchange: hand the new grant back unsaved (GRANT_OK, in 'tok'),
	 * for `auth` to check whose it is first; grant_save() saves it.
	 */
	int hold;
};

enum grant_outcome {
	GRANT_OK,	  /* done; exchange, refresh: 'tok' is saved */
	GRANT_SUPERSEDED, /* refresh: another grant was saved meanwhile and
			     is kept; it is in 'tok' */
	GRANT_REJECTED,	  /* refused for good (an OAuth error such as
			     invalid_grant, in 'oerr'): authorize again */
	GRANT_RETRY,	  /* may work later: no answer, HTTP 5xx, a garbled
			     answer, a transient OAuth error */
	GRANT_FAILED,	  /* will not work by retrying: TLS, a refused
			     redirect, the secrets file */
	GRANT_INCOMPLETE, /* exchange: the grant lacks a scope the mirror
			     needs (unticked on the consent page; 'err'
			     names it); nothing was saved */
};

struct grant_result {
	enum grant_outcome outcome;
	struct tokens tok; /* OK, SUPERSEDED: the tokens now in the secrets
			      file; the callback may take them (and zero the
			      struct), else they are wiped after it */
	long status;	   /* HTTP status, 0 when no answer arrived */
	int unanswered;	   /* no whole answer arrived (timeout, reset, cut
			      body): TikTok may have acted on the request */
	long retry_after;  /* seconds, -1 when not given */
	char oerr[64];	   /* the OAuth error code, "" when none */
	char err[ERRLEN];  /* what went wrong, for a message */
};

/* Called once, from the loop, unless the call was cancelled. */
typedef void (*grant_done_cb)(struct grant_result *, void *arg);

/*
 * Exchange an authorization code (with its PKCE verifier) for a grant and
 * save it for 'account', replacing any grant it had.
 */
struct grant_call *grant_exchange(const struct grant_opts *,
    const char *account, const char *code, const char *verifier,
    grant_done_cb, void *arg, char *err, size_t errlen);
/*
 * Refresh the grant 'cur' of 'account' (as read from the secrets file) and
 * save the new pair over it. open_id and scope carry over from 'cur' when
 * TikTok leaves them out of the answer.
 */
struct grant_call *grant_refresh(const struct grant_opts *,
    const char *account, const struct tokens *cur, grant_done_cb,
    void *arg, char *err, size_t errlen);
/*
 * Revoke the grant of 'access_token' at TikTok. GRANT_REJECTED is an OAuth
 * error about the token (most likely revoked already; invalid_client is
 * GRANT_FAILED: our app's credentials are wrong). Nothing is saved.
 */
struct grant_call *grant_revoke(const struct grant_opts *,
    const char *access_token, grant_done_cb, void *arg, char *err,
    size_t errlen);

/*
 * Save a grant that grant_exchange() held for 'account', replacing any
 * grant it had. With 'replaces' (an open_id), the account's mirror, which
 * holds that user's videos, may from now on mirror the grant's user
 * (`auth --replace-account`). Returns 0 or -1 with 'err'.
 */
int grant_save(const struct grant_opts *, const char *account,
    const struct tokens *, const char *replaces, char *err, size_t errlen);

/*
 * Each call returns a handle valid until its callback returns, or NULL
 * with 'err' (the request could not be started). grant_cancel() stops a
 * call without calling back; NULL-safe.
 */
void grant_cancel(struct grant_call *);

/*
 * The warning of a grant whose refresh token expires at 'expires_at'
 * (INT64_MIN: unknown): "authorization expires in 6 days (2027-01-02T03:04:
 * 05Z); run: tiktok-mirror auth NAME", "... in 5 hours ...", "authorization
 * expired at ...", or NULL when that is more than GRANT_WARN_DAYS away.
 * `status`, the log (at 30, 7 and 1 days) and the metric
 * tiktok_mirror_refresh_token_warning say it alike. The caller frees.
 */
#define GRANT_WARN_DAYS 30
char *grant_warning(const char *account, int64_t expires_at, int64_t now);

#endif
