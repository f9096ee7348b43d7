/* SPDX-License-Identifier: ISC */
/*
 * `revoke NAME`: revoke the account's grant at TikTok (tiktok-api.md §1.6,
 * POST /v2/oauth/revoke/ with the access token, refreshed first when it
 * expired, as TikTok refuses expired ones), then delete the local tokens
 * and mark the account needs_auth ("revoked; run: tiktok-mirror auth
 * NAME"). The mirrored rows stay.
 *
 * `forget NAME --yes`: remove an account that is no longer configured from
 * the mirror: its accounts row, videos, history, sync runs, change log,
 * covers and avatar, and its local tokens.
 *
 * Both take the database lock like `sync`: revoke may refresh a token,
 * which only the lock holder may do (TikTok rotates refresh tokens), and
 * both write the mirror, whose only writer is the lock holder. With a
 * daemon running they exit 1 and say to stop it first.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "covers.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "mirror.h"
#include "oauth.h"
#include "secrets.h"
#include "store.h"
#include "util.h"

#define REVOKE_TIMEOUT_MS 30000

/* One request's answer. */
struct reply {
	int done;
	enum http_result result;
	long status;
	char *body;
	size_t len;
	char error[ERRLEN];
};

static void
on_reply(const struct http_response *r, void *arg)
{
	struct reply *rp = arg;

	rp->done = 1;
	rp->result = r->result;
	rp->status = r->status;
	snprintf(rp->error, sizeof(rp->error), "%s", r->error);
	if (r->body != NULL) {
		rp->body = xstrndup(r->body, r->len);
		rp->len = r->len;
	}
}

static void
reply_clear(struct reply *rp)
{
	if (rp->body != NULL)
		explicit_bzero(rp->body, rp->len);
	free(rp->body);
	memset(rp, 0, sizeof(*rp));
}

/* POST the form 'body' (wiped and freed) to the OAuth endpoint 'path'. */
static int
post_form(struct mirror *t, const struct cfg *cfg, const char *path,
    char *body, struct reply *rp)
{
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
	    "Cache-Control: no-cache", NULL};
	struct http_request req;
	char *url;

	memset(rp, 0, sizeof(*rp));
	url = xasprintf("%s%s", cfg->api_url, path);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.headers = hdrs;
	req.body = body;
	req.bodylen = strlen(body);
	req.timeout_ms = REVOKE_TIMEOUT_MS;
	req.fd = -1;
	if (http_start(t->http, &req, on_reply, rp, rp->error,
		sizeof(rp->error)) == NULL)
		rp->done = 1;
	else
		while (!rp->done)
			(void)uv_run(&t->loop, UV_RUN_ONCE);
	explicit_bzero(body, strlen(body));
	free(body);
	free(url);
	if (rp->result != HTTP_OK || rp->body == NULL) {
		if (rp->error[0] == '\0')
			snprintf(rp->error, sizeof(rp->error), "no answer");
		return -1;
	}
	return 0;
}

/*
 * Refresh an expired access token, saving the new pair before it is used.
 * Returns 0, 1 when TikTok no longer accepts the grant, or -1.
 */
static int
refresh(struct mirror *t, const struct cfg *cfg, const char *name,
    struct tokens *tok)
{
	struct reply rp;
	struct tokens nt;
	char oerr[64], err[ERRLEN];
	int rc;

	if (post_form(t, cfg, OAUTH_TOKEN_PATH,
		oauth_refresh_body(cfg, tok->refresh_token), &rp) == -1) {
		log_err("%s: token refresh failed: %s; try again later",
		    name, rp.error);
		reply_clear(&rp);
		return -1;
	}
	rc = oauth_parse_token(rp.body, rp.len, now_unix(), &nt, oerr,
	    sizeof(oerr), err, sizeof(err));
	reply_clear(&rp);
	if (rc == 1 && oauth_error_is_fatal(oerr))
		return 1;
	if (rc != 0) {
		log_err("%s: token refresh failed: %s; try again later", name,
		    err);
		return -1;
	}
	if (nt.open_id == NULL || nt.open_id[0] == '\0') {
		free(nt.open_id);
		nt.open_id = tok->open_id ? xstrdup(tok->open_id) : NULL;
	}
	if (nt.scope == NULL || nt.scope[0] == '\0') {
		free(nt.scope);
		nt.scope = tok->scope ? xstrdup(tok->scope) : NULL;
	}
	/* Durable before use: the old refresh token no longer works. */
	if (secrets_put(t->secrets, name, &nt, err, sizeof(err)) == -1) {
		log_err("%s: cannot save the refreshed tokens: %s", name, err);
		tokens_clear(&nt);
		return -1;
	}
	tokens_clear(tok);
	*tok = nt;
	return 0;
}

/* True when 'name' could be an account name (it also names a folder). */
static int
valid_name(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= CFG_NAME_MAX &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_-") == n;
}

int
cmd_revoke(struct ctx *c, int argc, char **argv)
{
	static const char USE[] = "usage: revoke NAME";
	struct tokens tok;
	struct reply rp;
	struct mirror t;
	const char *name;
	char err[ERRLEN], oerr[64], *why = NULL;
	int rc, got, configured, ch;

	memset(&tok, 0, sizeof(tok));
	while ((ch = getopt(argc, argv, "")) != -1)
		return usage_error("%s", USE);
	if (optind + 1 != argc)
		return usage_error("%s", USE);
	name = argv[optind];
	if ((rc = ctx_load(c)) != 0)
		return rc;
	if (!valid_name(name))
		return usage_error("'%s' is not an account name", name);
	configured = cfg_account(&c->cfg, name) != NULL;
	if ((rc = mirror_open_tool(&t, &c->cfg, "revoke", 1)) != 0)
		return rc;
	got = secrets_get(t.secrets, name, &tok, err, sizeof(err));
	if (got == -1) {
		log_err("%s", err);
		rc = EXIT_FAIL;
		goto out;
	}
	if (got == 1) {
		if (!configured) {
			rc = EXIT_USAGE;
			(void)ctx_account(c, name);
		} else {
			printf("%s: no tokens to revoke (not authorized)\n",
			    name);
		}
		goto out;
	}
	rc = EXIT_FAIL;
	/* TikTok refuses an expired access token: refresh it first. */
	if (tok.access_expires_at <= now_unix() + 60) {
		if (tok.refresh_expires_at <= now_unix()) {
			why = xstrdup("the authorization had already expired");
		} else {
			got = refresh(&t, &c->cfg, name, &tok);
			if (got == -1)
				goto out;
			if (got == 1)
				why = xstrdup("TikTok no longer accepted the "
					      "grant (already revoked?)");
		}
	}
	if (why == NULL) {
		if (post_form(&t, &c->cfg, OAUTH_REVOKE_PATH,
			oauth_revoke_body(&c->cfg, tok.access_token),
			&rp) == -1) {
			log_err("%s: revoke request failed: %s; nothing was "
				"changed, try again",
			    name, rp.error);
			reply_clear(&rp);
			goto out;
		}
		got = oauth_parse_revoke(rp.status, rp.body, rp.len, oerr,
		    sizeof(oerr), err, sizeof(err));
		reply_clear(&rp);
		if (got == -1 ||
		    (got == 1 && strcmp(oerr, "invalid_client") == 0)) {
			log_err("%s: TikTok did not revoke the grant: %s; "
				"nothing was changed, try again",
			    name, err);
			goto out;
		}
		if (got == 1)
			why = xasprintf("TikTok refused the token (%s): it was "
					"probably revoked already",
			    err);
	}
	if (secrets_delete(t.secrets, name, err, sizeof(err)) == -1 ||
	    secrets_pending_delete(t.secrets, name, err, sizeof(err)) == -1) {
		log_err("%s: %s", name, err);
		goto out;
	}
	if (configured) {
		char *state = xasprintf("revoked; run: tiktok-mirror auth %s",
		    name);

		if (store_account_ensure(t.store, name, err, sizeof(err)) ==
			-1 ||
		    store_account_fail(t.store, name, ACCOUNT_NEEDS_AUTH, state,
			STORE_NULL, err, sizeof(err)) == -1 ||
		    store_account_tokens(t.store, name, STORE_NULL, STORE_NULL,
			err, sizeof(err)) == -1) {
			free(state);
			log_err("%s: %s", name, err);
			goto out;
		}
		free(state);
	}
	if (why != NULL)
		printf("%s: %s; the local tokens were deleted\n", name, why);
	else
		printf("%s: the grant was revoked at TikTok and the local "
		       "tokens deleted\n",
		    name);
	printf("%s: the mirrored videos stay; to mirror it again, run: "
	       "tiktok-mirror auth %s\n",
	    name, name);
	rc = EXIT_OK;
out:
	free(why);
	tokens_clear(&tok);
	(void)mirror_close(&t);
	return rc;
}

static int
keep_none(const char *rel, void *arg)
{
	(void)rel;
	(void)arg;
	return 0;
}

int
cmd_forget(struct ctx *c, int argc, char **argv)
{
	static const char USE[] = "usage: forget NAME --yes";
	static const struct option longopts[] = {
		{"yes", no_argument, NULL, 'y'},
		{NULL, 0, NULL, 0},
	};
	struct store_forgotten f;
	struct tokens tok;
	struct mirror t;
	const char *name;
	char err[ERRLEN], *dir;
	int ch, yes = 0, rc, files, tokens = 0, had_dir;

	while ((ch = getopt_long(argc, argv, "y", longopts, NULL)) != -1) {
		if (ch != 'y')
			return usage_error("%s", USE);
		yes = 1;
	}
	if (optind + 1 != argc)
		return usage_error("%s", USE);
	name = argv[optind];
	if ((rc = ctx_load(c)) != 0)
		return rc;
	if (!valid_name(name))
		return usage_error("'%s' is not an account name", name);
	if (cfg_account(&c->cfg, name) != NULL) {
		log_err("%s is still configured in %s; remove it from "
			"'accounts:' (and reload the daemon) first, then run: "
			"tiktok-mirror forget %s --yes",
		    name, c->config_path, name);
		return EXIT_USAGE;
	}
	if (!yes) {
		log_err("forget deletes every row of %s from the mirror (videos, "
			"history, sync runs, change log), its covers and its "
			"local tokens, for good; to do it, run: tiktok-mirror "
			"forget %s --yes",
		    name, name);
		return EXIT_USAGE;
	}
	if ((rc = mirror_open_tool(&t, &c->cfg, "forget", 0)) != 0)
		return rc;
	rc = EXIT_FAIL;
	dir = path_join(c->cfg.covers, name);
	had_dir = access(dir, F_OK) == 0;
	if (secrets_get(t.secrets, name, &tok, NULL, 0) == 0) {
		tokens = 1;
		tokens_clear(&tok);
	}
	if (store_forget(t.store, name, &f, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}
	if (f.accounts + f.videos + f.stats + f.runs + f.changes == 0 &&
	    !had_dir && !tokens) {
		log_err("no account named '%s' in the mirror %s", name,
		    c->cfg.database);
		rc = EXIT_USAGE;
		goto out;
	}
	/* The rows are gone; now the files no row names any more. */
	files = covers_sweep(c->cfg.covers, name, keep_none, NULL, err,
	    sizeof(err));
	if (files == -1 || (had_dir && rmdir(dir) == -1 && errno != ENOENT)) {
		log_err("%s: %s", name,
		    files == -1 ? err : strerror(errno));
		goto out;
	}
	if (tokens &&
	    (secrets_delete(t.secrets, name, err, sizeof(err)) == -1 ||
		secrets_pending_delete(t.secrets, name, err, sizeof(err)) ==
		    -1)) {
		log_err("%s: %s", name, err);
		goto out;
	}
	printf("%s: forgotten: %lld videos, %lld history points, %lld sync "
	       "runs, %lld changes, %d files",
	    name, (long long)f.videos, (long long)f.stats, (long long)f.runs,
	    (long long)f.changes, files);
	if (tokens)
		printf("; its local tokens were deleted (the grant at TikTok "
		       "was not revoked: revoke it in the TikTok app)");
	printf("\n");
	rc = EXIT_OK;
out:
	free(dir);
	(void)mirror_close(&t);
	return rc;
}
