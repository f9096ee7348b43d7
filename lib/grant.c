/* SPDX-License-Identifier: ISC */
/*
 * The OAuth client (grant.h): one form POST, its answer classified into
 * what the caller can do about it, and the tokens saved before anyone uses
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "grant.h"
#include "http.h"
#include "oauth.h"
#include "secrets.h"
#include "util.h"

enum grant_op { OP_EXCHANGE, OP_REFRESH, OP_REVOKE };

struct grant_call {
	enum grant_op op;
	struct http_xfer *xfer;
	struct secrets *secrets;
	char *account;
	/* Refresh: the grant it came from, for the merge and the rotation. */
	char *old_refresh, *old_open_id, *old_scope;
	int hold; /* exchange: hand back unsaved */
	grant_done_cb done;
	void *arg;
};

static void
call_free(struct grant_call *g)
{
	if (g->old_refresh != NULL)
		explicit_bzero(g->old_refresh, strlen(g->old_refresh));
	free(g->old_refresh);
	free(g->old_open_id);
	free(g->old_scope);
	free(g->account);
	free(g);
}

static void on_done(const struct http_response *, void *);

/* POST the form 'body' (wiped and freed here) to 'path'. */
static struct grant_call *
post(const struct grant_opts *o, enum grant_op op, const char *path,
    char *body, grant_done_cb done, void *arg, char *err, size_t errlen)
{
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
	    "Cache-Control: no-cache", NULL};
	struct http_request req;
	struct grant_call *g;
	char *url;

	g = xcalloc(1, sizeof(*g));
	g->op = op;
	g->secrets = o->secrets;
	g->done = done;
	g->arg = arg;
	url = xasprintf("%s%s", o->cfg->api_url, path);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.headers = hdrs;
	req.body = body;
	req.bodylen = strlen(body);
	req.timeout_ms = o->timeout_ms;
	req.fd = -1;
	g->xfer = http_start(o->http, &req, on_done, g, err, errlen);
	explicit_bzero(body, strlen(body));
	free(body);
	free(url);
	if (g->xfer == NULL) {
		call_free(g);
		return NULL;
	}
	return g;
}

struct grant_call *
grant_exchange(const struct grant_opts *o, const char *account,
    const char *code, const char *verifier, grant_done_cb done, void *arg,
    char *err, size_t errlen)
{
	struct grant_call *g;

	g = post(o, OP_EXCHANGE, OAUTH_TOKEN_PATH,
	    oauth_code_body(o->cfg, code, verifier), done, arg, err, errlen);
	if (g != NULL) {
		g->account = xstrdup(account);
		g->hold = o->hold;
	}
	return g;
}

int
grant_save(const struct grant_opts *o, const char *account,
    const struct tokens *t, const char *replaces, char *err, size_t errlen)
{
	char e2[ERRLEN];

	if (secrets_put(o->secrets, account, t, e2, sizeof(e2)) == -1 ||
	    (replaces != NULL &&
		secrets_allow_replace(o->secrets, account, replaces,
		    t->open_id ? t->open_id : "", e2, sizeof(e2)) == -1))
		return errf(err, errlen, "cannot save the new tokens: %s", e2);
	return 0;
}

struct grant_call *
grant_refresh(const struct grant_opts *o, const char *account,
    const struct tokens *cur, grant_done_cb done, void *arg, char *err,
    size_t errlen)
{
	struct grant_call *g;

	g = post(o, OP_REFRESH, OAUTH_TOKEN_PATH,
	    oauth_refresh_body(o->cfg, cur->refresh_token), done, arg, err,
	    errlen);
	if (g != NULL) {
		g->account = xstrdup(account);
		g->old_refresh = xstrdup(cur->refresh_token);
		g->old_open_id = cur->open_id ? xstrdup(cur->open_id) : NULL;
		g->old_scope = cur->scope ? xstrdup(cur->scope) : NULL;
	}
	return g;
}

struct grant_call *
grant_revoke(const struct grant_opts *o, const char *access_token,
    grant_done_cb done, void *arg, char *err, size_t errlen)
{
	return post(o, OP_REVOKE, OAUTH_REVOKE_PATH,
	    oauth_revoke_body(o->cfg, access_token), done, arg, err, errlen);
}

void
grant_cancel(struct grant_call *g)
{
	if (g == NULL)
		return;
	http_cancel(g->xfer);
	call_free(g);
}

/* An empty value in the answer: the grant's own (TikTok may leave it out). */
static void
carry(char **v, const char *old)
{
	if (*v != NULL && (*v)[0] != '\0')
		return;
	free(*v);
	*v = old != NULL ? xstrdup(old) : NULL;
}

/* Save what a token answer brought: OK, SUPERSEDED or FAILED. */
static void
save(struct grant_call *g, struct grant_result *res)
{
	char err[ERRLEN];
	int rc;

	if (g->op == OP_EXCHANGE) {
		rc = secrets_put(g->secrets, g->account, &res->tok, err,
		    sizeof(err));
	} else {
		carry(&res->tok.open_id, g->old_open_id);
		carry(&res->tok.scope, g->old_scope);
		rc = secrets_rotate(g->secrets, g->account, &res->tok,
		    g->old_refresh, err, sizeof(err));
	}
	if (rc == -1) {
		tokens_clear(&res->tok);
		res->outcome = GRANT_FAILED;
		(void)errf(res->err, sizeof(res->err),
		    "cannot save the new tokens: %s", err);
		return;
	}
	if (rc == 1) {
		/* `auth` saved another grant meanwhile: it wins. */
		tokens_clear(&res->tok);
		if (secrets_get(g->secrets, g->account, &res->tok, err,
			sizeof(err)) != 0) {
			res->outcome = GRANT_FAILED;
			(void)errf(res->err, sizeof(res->err),
			    "cannot read the new grant: %s", err);
			return;
		}
		res->outcome = GRANT_SUPERSEDED;
		return;
	}
	res->outcome = GRANT_OK;
}

/* Classify a complete answer of the token or revoke endpoint. */
static void
answer(struct grant_call *g, const struct http_response *r,
    struct grant_result *res)
{
	char err[ERRLEN], missing[64];
	int rc;

	if (g->op == OP_REVOKE) {
		rc = oauth_parse_revoke(r->status, r->body, r->len, res->oerr,
		    sizeof(res->oerr), err, sizeof(err));
		if (rc == 1 && strcmp(res->oerr, "invalid_client") == 0)
			res->outcome = GRANT_FAILED;
		else
			res->outcome = rc == 0 ? GRANT_OK
			    : rc == 1	       ? GRANT_REJECTED
					       : GRANT_RETRY;
		snprintf(res->err, sizeof(res->err), "%s", rc ? err : "");
		return;
	}
	/* OAuth errors come with HTTP 200: the body decides, below 500. */
	if (r->status >= 500) {
		res->outcome = GRANT_RETRY;
		snprintf(res->err, sizeof(res->err),
		    "token endpoint answered HTTP %ld", r->status);
		return;
	}
	rc = oauth_parse_token(r->body, r->len, now_unix(), &res->tok,
	    res->oerr, sizeof(res->oerr), err, sizeof(err));
	if (rc == 1) {
		res->outcome = oauth_error_is_fatal(res->oerr) ? GRANT_REJECTED
							       : GRANT_RETRY;
		snprintf(res->err, sizeof(res->err), "%s", err);
		return;
	}
	if (rc == -1) {
		res->outcome = GRANT_RETRY;
		(void)errf(res->err, sizeof(res->err), "HTTP %ld: %s",
		    r->status, err);
		return;
	}
	/*
	 * The consent page lets the user untick scopes; the token's scope
	 * lists what was granted (tiktok-api.md, corrections). A grant
	 * without the two the mirror needs is not saved.
	 */
	if (g->op == OP_EXCHANGE &&
	    oauth_scope_missing(res->tok.scope, missing, sizeof(missing)) > 0) {
		(void)errf(res->err, sizeof(res->err),
		    "the authorization lacks the scope %s (granted: %s)",
		    missing,
		    res->tok.scope && res->tok.scope[0] ? res->tok.scope
							: "none");
		tokens_clear(&res->tok);
		res->outcome = GRANT_INCOMPLETE;
		return;
	}
	if (g->op == OP_EXCHANGE && g->hold) {
		res->outcome = GRANT_OK;
		return;
	}
	save(g, res);
}

static void
on_done(const struct http_response *r, void *arg)
{
	struct grant_call *g = arg;
	struct grant_result res;

	memset(&res, 0, sizeof(res));
	res.status = r->status;
	res.retry_after = r->retry_after;
	if (r->result != HTTP_OK) {
		res.unanswered = 1;
		/* TLS and refused redirects do not mend by themselves. */
		res.outcome = r->result == HTTP_E_TLS ||
			r->result == HTTP_E_PROTOCOL
		    ? GRANT_FAILED
		    : GRANT_RETRY;
		snprintf(res.err, sizeof(res.err), "%s", r->error);
	} else
		answer(g, r, &res);
	g->done(&res, g->arg);
	tokens_clear(&res.tok);
	call_free(g);
}

char *
grant_warning(const char *account, int64_t expires_at, int64_t now)
{
	const char *unit;
	char when[32];
	int64_t left, n;

	if (expires_at == INT64_MIN ||
	    (left = expires_at - now) > GRANT_WARN_DAYS * 86400)
		return NULL;
	fmt_iso8601(expires_at, when, sizeof(when));
	if (left <= 0)
		return xasprintf("authorization expired at %s; run: "
				 "tiktok-mirror auth %s",
		    when, account);
	/* Rounded, never "0 days": up to the hour, to the nearest day. */
	if (left < 86400) {
		n = (left + 3599) / 3600;
		unit = "hour";
	} else {
		n = (left + 43200) / 86400;
		unit = "day";
	}
	return xasprintf("authorization expires in %lld %s%s (%s); run: "
			 "tiktok-mirror auth %s",
	    (long long)n, unit, n == 1 ? "" : "s", when, account);
}
