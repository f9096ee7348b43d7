/* SPDX-License-Identifier: ISC */
/*
 * `auth NAME [--redirect-url URL | --code CODE]`: authorize an account with
 * OAuth and PKCE (tiktok-api.md §1). Without options it prints the
 * authorize URL, keeps the state and verifier in the secrets file, and,
 * when redirect_uri is a loopback address, listens there for the browser's
 * redirect. A redirect whose state does not match (compared in constant
 * time) is answered 400 and ignored: its code is never exchanged, and an
 * ?error= without the pending state cancels nothing, so no other web page
 * can end the flow. At most AUTH_MAX_CONNS connections are open at once
 * (a new one closes the oldest), each closed after AUTH_IDLE_MS without a
 * request; once the grant is stored every connection is closed and the
 * command exits. --redirect-url or --code complete a pending
 * flow later, from another process. `auth` writes only the secrets file; a
 * running daemon picks the new grant up from there.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "api.h"
#include "daemon.h"
#include "grant.h"
#include "http.h"
#include "log.h"
#include "mirror.h"
#include "oauth.h"
#include "secrets.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

#define AUTH_WAIT_MS (10 * 60 * 1000) /* how long to wait for a redirect */
#define REQ_MAX 8192		      /* longest redirect request we read */
#define AUTH_IDLE_MS (10 * 1000)      /* a connection without a request */
#define AUTH_MAX_CONNS 16	      /* open at once; a new one ends the oldest */

struct conn;
TAILQ_HEAD(connlist, conn);

struct authflow {
	struct mirror m; /* the loop, the secrets file, the HTTP engine */
	struct ctx *c;
	const char *name;
	char state[OAUTH_STATE_LEN + 1];
	char verifier[OAUTH_VERIFIER_LEN + 1];
	char *path; /* redirect_uri's path, which the browser comes back to */
	uv_tcp_t server;
	uv_timer_t timeout;
	int listening;
	int replace;	   /* --replace-account */
	struct tokens tok; /* the new grant, until it is checked and saved */
	struct connlist conns; /* open browser connections, oldest first */
	int nconns;
	int rc;
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t idle;
	uv_write_t wr;
	TAILQ_ENTRY(conn) entry;
	struct authflow *af;
	char buf[REQ_MAX];
	size_t len;
	char *reply;
	int answered;
	int closing; /* handles still to close before the free */
};

static void exchange(struct authflow *, const char *code);
static void user_info(struct authflow *);

static void
on_conn_close(uv_handle_t *h)
{
	struct conn *cn = h->data;

	if (--cn->closing > 0)
		return;
	free(cn->reply);
	free(cn);
}

/* Close the connection now (a write in flight is cancelled). */
static void
conn_close(struct conn *cn)
{
	if (cn->closing)
		return;
	cn->closing = 2;
	TAILQ_REMOVE(&cn->af->conns, cn, entry);
	cn->af->nconns--;
	uv_close((uv_handle_t *)&cn->idle, on_conn_close);
	uv_close((uv_handle_t *)&cn->tcp, on_conn_close);
}

/*
 * Close every connection, but let one being answered finish its reply
 * unless 'all' (then the command is done and nothing may keep it).
 */
static void
close_conns(struct authflow *af, int all)
{
	struct conn *cn, *next;

	for (cn = TAILQ_FIRST(&af->conns); cn != NULL; cn = next) {
		next = TAILQ_NEXT(cn, entry);
		if (all || !cn->answered)
			conn_close(cn);
	}
}

/* Stop listening and waiting; the loop then ends with the exchange. */
static void
stop_listening(struct authflow *af)
{
	if (!af->listening)
		return;
	af->listening = 0;
	uv_close((uv_handle_t *)&af->server, NULL);
	uv_close((uv_handle_t *)&af->timeout, NULL);
	close_conns(af, 0);
}

/* The OAuth client's options for this flow. */
static void
grant_opts_of(struct authflow *af, struct grant_opts *go)
{
	memset(go, 0, sizeof(*go));
	go->http = af->m.http;
	go->cfg = &af->c->cfg;
	go->secrets = af->m.secrets;
}

/*
 * After a failed exchange: what is known about the pending authorization.
 * The exchange never removes it, so while it lasts the same authorize URL
 * gives a fresh code that completes it; say so instead of "start again".
 */
static void
pending_hint(struct authflow *af)
{
	struct pending_auth p;
	char challenge[65], when[32], *url;

	if (secrets_pending_get(af->m.secrets, af->name, &p, NULL, 0) != 0) {
		log_err("%s: no pending authorization is left; start again "
			"with: tiktok-mirror auth %s",
		    af->name, af->name);
		return;
	}
	if (strcmp(p.state, af->state) != 0) {
		log_err("%s: another `auth %s` started a new authorization "
			"meanwhile; finish that one",
		    af->name, af->name);
		pending_clear(&p);
		return;
	}
	sha256_hex(p.verifier, strlen(p.verifier), challenge);
	url = oauth_authorize_url(&af->c->cfg, p.state, challenge);
	fmt_iso8601(p.created_at + SECRETS_PENDING_TTL, when, sizeof(when));
	log_err("%s: the pending authorization is still valid until %s: open"
		" this URL again for a new code and pass it with --code "
		"'CODE' or --redirect-url 'URL' (or start over with: "
		"tiktok-mirror auth %s):\n\n  %s\n",
	    af->name, when, af->name, url);
	free(url);
	pending_clear(&p);
}

/* Why TikTok may have refused a code, from its OAuth error. */
static const char *
code_refusal_hint(const char *oerr, const char *err)
{
	if (strcmp(oerr, "invalid_grant") == 0)
		return "a code works once, and only for a few minutes";
	if (strstr(err, "erifier") != NULL || strstr(err, "hallenge") != NULL)
		return "the code comes from another `auth` run than the "
		       "pending one (each run has its own PKCE verifier)";
	if (strstr(err, "edirect") != NULL)
		return "app.redirect_uri is not the one the code was issued "
		       "for";
	if (strcmp(oerr, "invalid_client") == 0)
		return "check app.client_key and the client secret";
	return NULL;
}

static void
on_grant(struct grant_result *res, void *arg)
{
	struct authflow *af = arg;
	const char *hint;

	if (res->outcome == GRANT_INCOMPLETE) {
		/* Unticked on the consent page: say so now, not at sync. */
		log_err("%s: %s; nothing was saved. Run tiktok-mirror auth %s "
			"again and leave user.info.basic and video.list ticked "
			"on TikTok's consent page; if they are not offered, "
			"enable them for the app in TikTok's developer portal",
		    af->name, res->err, af->name);
		return;
	}
	if (res->outcome != GRANT_OK) {
		hint = res->oerr[0] != '\0'
		    ? code_refusal_hint(res->oerr, res->err)
		    : NULL;
		if (res->unanswered)
			/* Unknown whether TikTok used the code. */
			log_err("%s: the token request failed: %s; TikTok may "
				"or may not have accepted the code",
			    af->name, res->err);
		else if (res->outcome == GRANT_FAILED)
			log_err("%s: %s", af->name, res->err);
		else
			log_err("%s: TikTok refused the authorization code "
				"(HTTP %ld): %s%s%s",
			    af->name, res->status, res->err, hint ? "; " : "",
			    hint ? hint : "");
		pending_hint(af);
		return;
	}
	/* Whose grant is it? Saved only once that is checked. */
	tokens_clear(&af->tok);
	af->tok = res->tok;
	memset(&res->tok, 0, sizeof(res->tok));
	user_info(af);
}

/*
 * Who the account's mirror belongs to: the mirror's accounts row, else the
 * grant in the secrets file. New strings (NULL when unknown).
 */
static void
mirrored_identity(struct authflow *af, char **open_id, char **name)
{
	struct store_account a;
	struct tokens old;
	struct store *st;
	char err[ERRLEN];

	*open_id = *name = NULL;
	if (access(af->c->cfg.database, F_OK) == 0 &&
	    (st = store_open_ro(af->c->cfg.database, err, sizeof(err))) !=
		NULL) {
		if (store_account_get(st, af->name, &a, err, sizeof(err)) ==
		    0) {
			if (a.open_id != NULL && a.open_id[0] != '\0') {
				*open_id = xstrdup(a.open_id);
				if (a.display_name != NULL)
					*name = xstrdup(a.display_name);
			}
			store_account_clear(&a);
		}
		store_close(st);
	}
	if (*open_id == NULL &&
	    secrets_get(af->m.secrets, af->name, &old, NULL, 0) == 0) {
		if (old.open_id != NULL && old.open_id[0] != '\0')
			*open_id = xstrdup(old.open_id);
		tokens_clear(&old);
	}
}

/*
 * The new grant is for TikTok user 'open_id' ('name' when known): save it,
 * unless the account's mirror holds another user's videos (design.md,
 * "Identity"). A browser logged in to another TikTok account, or a
 * production client key after the sandbox one (open_id is per user and
 * app), gives such a grant; it is refused, naming both, unless
 * --replace-account asked for exactly that.
 */
static void
grant_finish(struct authflow *af, const char *open_id, const char *name)
{
	struct grant_opts go;
	char *old_id, *old_name, err[ERRLEN];
	const char *who = name && name[0] ? name : "(name unknown)", *was;
	int other; /* the mirror holds another TikTok user's videos */

	mirrored_identity(af, &old_id, &old_name);
	was = old_name && old_name[0] ? old_name : "(name unknown)";
	other = old_id != NULL && strcmp(old_id, open_id) != 0;
	if (other && !af->replace) {
		log_err("%s: this authorization is for TikTok user \"%s\" "
			"(open_id %s), but %s mirrors \"%s\" (open_id %s); "
			"nothing was saved or changed.\n"
			"  To authorize \"%s\", log the browser in to it and run"
			" tiktok-mirror auth %s again.\n"
			"  To mirror \"%s\", add it to the config under a new "
			"account name and run tiktok-mirror auth NEWNAME.\n"
			"  To start %s over, take it out of the config, run "
			"tiktok-mirror forget %s --yes, and add it back.\n"
			"  If it is the same person under a new client key "
			"(sandbox to production), run: tiktok-mirror auth %s "
			"--replace-account",
		    af->name, who, open_id, af->name, was, old_id, was,
		    af->name, who, af->name, af->name, af->name);
		goto out;
	}
	if (af->tok.open_id == NULL || af->tok.open_id[0] == '\0') {
		free(af->tok.open_id);
		af->tok.open_id = xstrdup(open_id);
	}
	grant_opts_of(af, &go);
	if (grant_save(&go, af->name, &af->tok, other ? old_id : NULL, err,
		sizeof(err)) == -1) {
		log_err("%s: %s", af->name, err);
		goto out;
	}
	(void)secrets_pending_delete(af->m.secrets, af->name, NULL, 0);
	if (other)
		printf("%s: authorized for TikTok user \"%s\" (open_id %s), "
		       "replacing \"%s\" (open_id %s) as asked; the next sync "
		       "mirrors it\n",
		    af->name, who, open_id, was, old_id);
	else
		printf("%s: authorized for TikTok user \"%s\" (open_id %s); "
		       "the next sync mirrors it\n",
		    af->name, who, open_id);
	fflush(stdout);
	af->rc = EXIT_OK;
out:
	/* Done: nothing a browser left open may keep the command alive. */
	close_conns(af, 1);
	free(old_id);
	free(old_name);
}

static void
on_user_info(const struct http_response *r, void *arg)
{
	struct authflow *af = arg;
	struct api_body b;
	char *open_id = NULL, *name = NULL, err[ERRLEN] = "";

	if (r->result == HTTP_OK) {
		api_body_parse(&b, r->body, r->len);
		if (api_status(r->status, &b, err, sizeof(err)) == API_OK)
			(void)api_parse_user(&b, &open_id, &name, NULL, err,
			    sizeof(err));
		api_body_free(&b);
	} else {
		snprintf(err, sizeof(err), "%s", r->error);
	}
	if (open_id == NULL || open_id[0] == '\0') {
		free(open_id);
		open_id = af->tok.open_id && af->tok.open_id[0]
		    ? xstrdup(af->tok.open_id)
		    : NULL;
		log_warnx("%s: user/info: %s; checking the account by the "
			  "token's open_id",
		    af->name, err[0] ? err : "no open_id");
	}
	if (open_id == NULL)
		log_err("%s: TikTok named no open_id for this grant; nothing "
			"was saved; run tiktok-mirror auth %s again",
		    af->name, af->name);
	else
		grant_finish(af, open_id, name);
	free(open_id);
	free(name);
}

/* Ask user/info who the new grant is for (and the display name). */
static void
user_info(struct authflow *af)
{
	const struct cfg *cfg = &af->c->cfg;
	struct http_request req;
	char *auth, *url, err[ERRLEN];
	const char *hdrs[2];

	url = xasprintf("%s%s?fields=open_id,display_name", cfg->api_url,
	    API_USER_INFO);
	auth = xasprintf("Authorization: Bearer %s", af->tok.access_token);
	hdrs[0] = auth;
	hdrs[1] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = url;
	req.headers = hdrs;
	req.fd = -1;
	if (http_start(af->m.http, &req, on_user_info, af, err, sizeof(err)) ==
	    NULL) {
		log_warnx("%s: user/info: %s", af->name, err);
		if (af->tok.open_id != NULL && af->tok.open_id[0] != '\0')
			grant_finish(af, af->tok.open_id, NULL);
	}
	explicit_bzero(auth, strlen(auth));
	free(auth);
	free(url);
}

static void
exchange(struct authflow *af, const char *code)
{
	struct grant_opts go;
	char err[ERRLEN];

	grant_opts_of(af, &go);
	go.hold = 1; /* saved once grant_finish() checked whose it is */
	if (grant_exchange(&go, af->name, code, af->verifier, on_grant, af,
		err, sizeof(err)) == NULL)
		log_err("%s: %s", af->name, err);
}

static void
on_written(uv_write_t *w, int status)
{
	struct conn *cn = container_of(w, struct conn, wr);

	(void)status;
	conn_close(cn);
}

/* Answer the browser and close the connection. */
static void
reply(struct conn *cn, int status, const char *text)
{
	uv_buf_t b;

	cn->answered = 1;
	UV_OK(uv_read_stop((uv_stream_t *)&cn->tcp));
	cn->reply = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
			      "charset=utf-8\r\nContent-Length: %zu\r\n"
			      "Connection: close\r\n\r\n%s",
	    status, status == 200 ? "OK" : status == 404 ? "Not Found"
							 : "Bad Request",
	    strlen(text), text);
	b = uv_buf_init(cn->reply, (unsigned int)strlen(cn->reply));
	if (uv_write(&cn->wr, (uv_stream_t *)&cn->tcp, &b, 1, on_written) != 0)
		conn_close(cn);
}

/* A whole request head arrived: check it and maybe exchange the code. */
static void
handle_request(struct conn *cn)
{
	struct authflow *af = cn->af;
	char *sp, *target, *code = NULL, *state = NULL, err[ERRLEN];
	size_t plen = strlen(af->path);
	int rc;

	if (strncmp(cn->buf, "GET ", 4) != 0) {
		reply(cn, 400, "expected a GET request\n");
		return;
	}
	target = cn->buf + 4;
	sp = strchr(target, ' ');
	if (sp == NULL) {
		reply(cn, 400, "malformed request\n");
		return;
	}
	*sp = '\0';
	if (strncmp(target, af->path, plen) != 0 ||
	    (target[plen] != '\0' && target[plen] != '?')) {
		reply(cn, 404, "not the redirect path\n");
		return;
	}
	rc = oauth_parse_redirect(target, &code, &state, err, sizeof(err));
	if (rc == 1 && oauth_state_equal(state, af->state)) {
		reply(cn, 400, "Authorization failed; see the terminal.\n");
		log_err("%s: %s; start again with: tiktok-mirror auth %s",
		    af->name, err, af->name);
		free(state);
		stop_listening(af);
		return;
	}
	if (rc == 1) {
		/* Any web page can send the browser here: not our flow's. */
		reply(cn, 400, "The state does not match this authorization."
			       "\n");
		log_warnx("%s: ignored an error redirect without the pending "
			  "state",
		    af->name);
		free(state);
		return;
	}
	if (rc == -1) {
		reply(cn, 400, "No authorization code in this request.\n");
		return;
	}
	if (!oauth_state_equal(state, af->state)) {
		/* Never exchange a code we did not ask for (CSRF). */
		reply(cn, 400, "The state does not match this authorization."
			       "\n");
		log_warnx("%s: ignored a redirect with a foreign state",
		    af->name);
	} else {
		reply(cn, 200, "tiktok-mirror: authorized. You can close this "
			       "window.\n");
		stop_listening(af);
		exchange(af, code);
	}
	explicit_bzero(code, strlen(code));
	free(code);
	free(state);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *cn = h->data;

	(void)hint;
	*b = uv_buf_init(cn->buf + cn->len,
	    (unsigned int)(sizeof(cn->buf) - 1 - cn->len));
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *cn = s->data;

	(void)b;
	if (cn->answered || cn->closing)
		return;
	if (n < 0) {
		conn_close(cn);
		return;
	}
	cn->len += (size_t)n;
	cn->buf[cn->len] = '\0';
	if (strstr(cn->buf, "\r\n\r\n") != NULL ||
	    strstr(cn->buf, "\n\n") != NULL) {
		cn->buf[strcspn(cn->buf, "\r\n")] = '\0';
		handle_request(cn);
	} else if (cn->len >= sizeof(cn->buf) - 1) {
		reply(cn, 400, "request too large\n");
	}
}

/* A connection that sent no whole request in time: close it. */
static void
on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct authflow *af = container_of((uv_tcp_t *)server, struct authflow,
	    server);
	struct conn *cn;

	if (status < 0 || !af->listening)
		return;
	/* Bounded: a new connection ends the oldest one. */
	if (af->nconns >= AUTH_MAX_CONNS)
		conn_close(TAILQ_FIRST(&af->conns));
	cn = xcalloc(1, sizeof(*cn));
	cn->af = af;
	cn->tcp.data = cn->idle.data = cn;
	UV_OK(uv_tcp_init(&af->m.loop, &cn->tcp));
	UV_OK(uv_timer_init(&af->m.loop, &cn->idle));
	TAILQ_INSERT_TAIL(&af->conns, cn, entry);
	af->nconns++;
	UV_OK(uv_timer_start(&cn->idle, on_idle, AUTH_IDLE_MS, 0));
	if (uv_accept(server, (uv_stream_t *)&cn->tcp) != 0 ||
	    uv_read_start((uv_stream_t *)&cn->tcp, on_alloc, on_read) != 0)
		conn_close(cn);
}

static void
on_timeout(uv_timer_t *t)
{
	struct authflow *af = container_of(t, struct authflow, timeout);

	log_err("%s: no redirect arrived within %d minutes; finish later with:"
		" tiktok-mirror auth %s --redirect-url URL",
	    af->name, AUTH_WAIT_MS / 60000, af->name);
	stop_listening(af);
}

/*
 * Split an http://HOST:PORT/PATH redirect URI. Returns 0 with a loopback
 * host, else -1 (then the user completes with --redirect-url).
 */
static int
loopback_uri(const char *uri, char *host, size_t hostlen, int *port,
    char **path)
{
	const char *p, *colon, *slash;
	int64_t v;

	if (strncmp(uri, "http://", 7) != 0)
		return -1;
	p = uri + 7;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if (p[0] == '[') {
		const char *end = memchr(p, ']', (size_t)(slash - p));

		if (end == NULL || end[1] != ':')
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(end - p - 1), p + 1);
		colon = end + 1;
	} else {
		if (colon == NULL)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(colon - p), p);
	}
	if (parse_i64(colon + 1, (size_t)(slash - colon - 1), 1, 65535, &v) ==
	    -1)
		return -1;
	*port = (int)v;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, hostlen, "127.0.0.1");
	if (strncmp(host, "127.", 4) != 0 && strcmp(host, "::1") != 0)
		return -1;
	*path = xstrndup(*slash ? slash : "/", *slash ? strcspn(slash, "?#")
						      : 1);
	return 0;
}

static int
listen_redirect(struct authflow *af)
{
	struct sockaddr_storage sa;
	char host[64];
	int port, r;

	if (loopback_uri(af->c->cfg.redirect_uri, host, sizeof(host), &port,
		&af->path) == -1)
		return -1;
	if (strchr(host, ':') != NULL)
		r = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa);
	else
		r = uv_ip4_addr(host, port, (struct sockaddr_in *)&sa);
	UV_OK(uv_tcp_init(&af->m.loop, &af->server));
	if (r == 0)
		r = uv_tcp_bind(&af->server, (struct sockaddr *)&sa, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&af->server, 8, on_connection);
	if (r != 0) {
		uv_close((uv_handle_t *)&af->server, NULL);
		log_err("cannot listen on %s:%d for the redirect: %s; finish "
			"with: tiktok-mirror auth %s --redirect-url URL",
		    host, port, uv_strerror(r), af->name);
		return 1;
	}
	UV_OK(uv_timer_init(&af->m.loop, &af->timeout));
	UV_OK(uv_timer_start(&af->timeout, on_timeout, AUTH_WAIT_MS, 0));
	af->listening = 1;
	return 0;
}

/*
 * --redirect-url or --code: the pending authorization's state and verifier
 * into 'af', and the code to exchange into *code (the caller frees it).
 * Returns 0 or the exit status.
 */
static int
pending_code(struct authflow *af, const char *redirect, const char *given,
    char **code)
{
	struct pending_auth p;
	char err[ERRLEN], *state = NULL;
	int rc;

	rc = secrets_pending_get(af->m.secrets, af->name, &p, err,
	    sizeof(err));
	if (rc != 0) {
		log_err("%s: %s; start with: tiktok-mirror auth %s", af->name,
		    rc == 1 ? "no pending authorization (or it expired)" : err,
		    af->name);
		return EXIT_FAIL;
	}
	snprintf(af->state, sizeof(af->state), "%s", p.state);
	snprintf(af->verifier, sizeof(af->verifier), "%s", p.verifier);
	pending_clear(&p);
	if (given != NULL) {
		if (oauth_code_decode(given, code, err, sizeof(err)) == -1) {
			log_err("%s: --code: %s", af->name, err);
			return EXIT_USAGE;
		}
		return 0;
	}
	rc = EXIT_FAIL;
	if (oauth_parse_redirect(redirect, code, &state, err, sizeof(err)) != 0)
		log_err("%s: %s", af->name, err);
	else if (!oauth_state_equal(state, af->state))
		log_err("%s: the redirect's state does not match the pending "
			"authorization; start again with: tiktok-mirror auth %s",
		    af->name, af->name);
	else
		rc = 0;
	free(state);
	return rc;
}

int
cmd_auth(struct ctx *c, int argc, char **argv)
{
	struct authflow af;
	const struct cfg_account *acct;
	const char *redirect = NULL, *code = NULL;
	char challenge[65], err[ERRLEN], *url, *rcode = NULL;
	int rc, replace = 0;
	const struct ctx_opt opts[] = {
		{"redirect-url", 0, NULL, &redirect},
		{"code", 0, NULL, &code},
		{"replace-account", 0, &replace, NULL},
		{NULL, 0, NULL, NULL},
	};

	if ((rc = ctx_start(c, argc, argv, opts, CTX_ANY)) != CTX_GO_ON)
		return rc;
	if (redirect && code)
		return usage_error("--redirect-url and --code contradict each "
				   "other; give one of them");
	if (optind + 1 != argc)
		return ctx_usage(argv[0]);
	if ((rc = ctx_load(c, 0)) != 0)
		return rc;
	if ((acct = ctx_account(c, argv[optind])) == NULL)
		return EXIT_USAGE;
	if (CFG_CURATED(acct)) {
		/* oEmbed needs no token: there is nothing to authorize. */
		printf("%s lists its videos (videos:) and is mirrored through "
		       "TikTok's public oEmbed, which needs no authorization;"
		       " run: tiktok-mirror sync %s\n",
		    acct->name, acct->name);
		return EXIT_OK;
	}
	memset(&af, 0, sizeof(af));
	TAILQ_INIT(&af.conns);
	af.c = c;
	af.name = argv[optind];
	af.replace = replace;
	af.rc = EXIT_FAIL;
	if ((rc = mirror_open_tool(&af.m, &c->cfg, NULL, 1)) != 0)
		return rc;
	if (redirect != NULL || code != NULL) {
		/* Complete a pending flow. */
		if ((rc = pending_code(&af, redirect, code, &rcode)) != 0)
			goto out;
		exchange(&af, rcode);
	} else {
		oauth_state(af.state);
		oauth_pkce(af.verifier, challenge);
		if (secrets_pending_put(af.m.secrets, af.name, af.state,
			af.verifier, err, sizeof(err)) == -1) {
			log_err("%s", err);
			rc = EXIT_FAIL;
			goto out;
		}
		url = oauth_authorize_url(&c->cfg, af.state, challenge);
		printf("To authorize %s, open this URL in a browser logged in "
		       "to the TikTok account:\n\n  %s\n\n",
		    af.name, url);
		free(url);
		rc = listen_redirect(&af);
		if (rc == -1) {
			printf("Then copy the address the browser was sent to "
			       "and run:\n  tiktok-mirror auth %s "
			       "--redirect-url 'URL'\n",
			    af.name);
			af.rc = EXIT_OK;
		} else if (rc == 0) {
			printf("Waiting for the redirect to %s ...\n",
			    c->cfg.redirect_uri);
		}
		fflush(stdout);
	}
	uv_run(&af.m.loop, UV_RUN_DEFAULT);
	rc = af.rc;
out:
	if (rcode != NULL)
		explicit_bzero(rcode, strlen(rcode));
	free(rcode);
	free(af.path);
	explicit_bzero(af.verifier, sizeof(af.verifier));
	tokens_clear(&af.tok);
	(void)mirror_close(&af.m);
	return rc;
}
