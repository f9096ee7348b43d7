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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "covers.h"
#include "daemon.h"
#include "grant.h"
#include "log.h"
#include "mirror.h"
#include "secrets.h"
#include "store.h"
#include "util.h"

#define REVOKE_TIMEOUT_MS 30000

/* A grant call's outcome; its tokens are ours. */
struct wait {
	int done;
	struct grant_result res;
};

static void
on_grant(struct grant_result *res, void *arg)
{
	struct wait *w = arg;

	w->done = 1;
	w->res = *res;
	memset(&res->tok, 0, sizeof(res->tok));
}

/* Run the loop until the call 'g' (NULL: it did not start) has answered. */
static void
wait_grant(struct mirror *t, struct grant_call *g, struct wait *w)
{
	if (g == NULL) {
		w->res.outcome = GRANT_FAILED;
		return;
	}
	while (!w->done)
		(void)uv_run(&t->loop, UV_RUN_ONCE);
}

/* covers_sweep() for forget: no file is kept. */
static int
keep_none(const char *rel, void *arg)
{
	(void)rel;
	(void)arg;
	return 0;
}

/*
 * revoke's and forget's start: the options 'opts', one NAME (configured or
 * no longer), the configuration. Returns CTX_GO_ON with *name, else the
 * exit status to return at once.
 */
static int
tool_start(struct ctx *c, int argc, char **argv, const struct ctx_opt *opts,
    const char **name)
{
	int rc;

	if ((rc = ctx_start(c, argc, argv, opts, 1)) != CTX_GO_ON)
		return rc;
	*name = argv[optind];
	if ((rc = ctx_load(c, 0)) != 0)
		return rc;
	if (!cfg_valid_name(*name, strlen(*name)))
		return usage_error("'%s' is not an account name", *name);
	return CTX_GO_ON;
}

/* Delete the account's tokens and any pending authorization. 0 or -1. */
static int
delete_tokens(struct mirror *t, const char *name)
{
	char err[ERRLEN];

	if (secrets_delete(t->secrets, name, err, sizeof(err)) == -1 ||
	    secrets_pending_delete(t->secrets, name, err, sizeof(err)) == -1) {
		log_err("%s: %s", name, err);
		return -1;
	}
	return 0;
}

int
cmd_revoke(struct ctx *c, int argc, char **argv)
{
	struct grant_opts go;
	struct tokens tok;
	struct wait w;
	struct mirror t;
	const char *name;
	char err[ERRLEN], *why = NULL;
	int rc, got, configured;

	memset(&tok, 0, sizeof(tok));
	if ((rc = tool_start(c, argc, argv, NULL, &name)) != CTX_GO_ON)
		return rc;
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
	if (c->cfg.client_key == NULL) {
		/* Every account is curated now: no app to revoke with. */
		log_err("%s: revoking its grant needs the TikTok app it was "
			"given to, and the configuration has no app: any more;"
			" add app: (client_key, client_secret_file, "
			"redirect_uri) back, then run: tiktok-mirror revoke %s",
		    name, name);
		rc = EXIT_USAGE;
		goto out;
	}
	rc = EXIT_FAIL;
	memset(&go, 0, sizeof(go));
	go.http = t.http;
	go.cfg = &c->cfg;
	go.secrets = t.secrets;
	go.timeout_ms = REVOKE_TIMEOUT_MS;
	/* TikTok refuses an expired access token: refresh it first. */
	if (tok.access_expires_at <= now_unix() + 60) {
		if (tok.refresh_expires_at <= now_unix()) {
			why = xstrdup("the authorization had already expired");
		} else {
			memset(&w, 0, sizeof(w));
			wait_grant(&t, grant_refresh(&go, name, &tok, on_grant,
					   &w, w.res.err, sizeof(w.res.err)),
			    &w);
			if (w.res.outcome == GRANT_OK ||
			    w.res.outcome == GRANT_SUPERSEDED) {
				tokens_clear(&tok);
				tok = w.res.tok;
			} else if (w.res.outcome == GRANT_REJECTED) {
				why = xstrdup("TikTok no longer accepted the "
					      "grant (already revoked?)");
			} else {
				log_err("%s: token refresh failed: %s; try "
					"again later",
				    name, w.res.err);
				goto out;
			}
		}
	}
	if (why == NULL) {
		memset(&w, 0, sizeof(w));
		wait_grant(&t, grant_revoke(&go, tok.access_token, on_grant,
				   &w, w.res.err, sizeof(w.res.err)),
		    &w);
		if (w.res.outcome == GRANT_REJECTED)
			why = xasprintf("TikTok refused the token (%s): it was "
					"probably revoked already",
			    w.res.err);
		else if (w.res.outcome != GRANT_OK) {
			log_err("%s: TikTok did not revoke the grant: %s; "
				"nothing was changed, try again",
			    name, w.res.err);
			goto out;
		}
	}
	if (delete_tokens(&t, name) == -1)
		goto out;
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

int
cmd_forget(struct ctx *c, int argc, char **argv)
{
	struct store_forgotten f;
	struct tokens tok;
	struct mirror t;
	const char *name;
	char err[ERRLEN], *dir;
	int yes = 0, rc, files, tokens = 0, had_dir;
	const struct ctx_opt opts[] = {
		{"yes", 'y', &yes, NULL},
		{NULL, 0, NULL, NULL},
	};

	if ((rc = tool_start(c, argc, argv, opts, &name)) != CTX_GO_ON)
		return rc;
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
	/*
	 * Neither in the mirror nor in the secrets file: not an account of
	 * ours, whatever folder has its name (a user's folder beside the
	 * covers is theirs).
	 */
	if (f.accounts + f.videos + f.stats + f.runs + f.changes == 0 &&
	    !tokens) {
		log_err("no account named '%s' in the mirror %s or the secrets "
			"file %s; nothing was changed",
		    name, c->cfg.database, c->cfg.secrets);
		rc = EXIT_USAGE;
		goto out;
	}
	/* The rows are gone; now the files no row names any more. */
	files = covers_sweep(c->cfg.covers, name, keep_none, NULL, err,
	    sizeof(err));
	/* A folder that still holds files we did not write stays. */
	if (files == -1 || (had_dir && rmdir(dir) == -1 && errno != ENOENT &&
				 errno != ENOTEMPTY && errno != EEXIST)) {
		log_err("%s: %s", name,
		    files == -1 ? err : strerror(errno));
		goto out;
	}
	if (tokens && delete_tokens(&t, name) == -1)
		goto out;
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
