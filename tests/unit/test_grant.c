/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/grant.c, the OAuth client: each test runs a real loop
 * with lib/http.c against a one-shot canned HTTP server on 127.0.0.1 (a
 * free port), a secrets file in a scratch folder, and checks what was
 * posted, what came back and what the secrets file holds afterwards. Every
 * test ends with uv_loop_close() == 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "config.h"
#include "grant.h"
#include "http.h"
#include "secrets.h"
#include "util.h"
#include "unit.h"

#define ACCT "brand"
#define REQ_MAX 16384

/* The canned server: answers every request with 'reply', then closes. */
struct server {
	uv_tcp_t tcp;
	int port;
	const char *reply; /* a whole HTTP response */
	char request[REQ_MAX]; /* the last request received */
	size_t reqlen;
	int requests;
};

struct sconn {
	uv_tcp_t tcp;
	uv_write_t wr;
	struct server *srv;
	char buf[REQ_MAX];
	size_t len;
	int answered;
};

struct fx {
	uv_loop_t loop;
	struct server srv;
	struct http *http;
	struct secrets *secrets;
	struct cfg cfg;
	struct grant_opts go;
	char *dir;
	/* The callback's copy of the result. */
	int ncalls;
	struct grant_result res;
};

static void
on_sconn_close(uv_handle_t *h)
{
	free(container_of((uv_tcp_t *)h, struct sconn, tcp));
}

static void
on_swritten(uv_write_t *w, int status)
{
	struct sconn *c = container_of(w, struct sconn, wr);

	(void)status;
	uv_close((uv_handle_t *)&c->tcp, on_sconn_close);
}

static void
on_salloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct sconn *c = container_of((uv_tcp_t *)h, struct sconn, tcp);

	(void)hint;
	*b = uv_buf_init(c->buf + c->len,
	    (unsigned int)(sizeof(c->buf) - 1 - c->len));
}

/* A whole request: its head and Content-Length bytes of body. */
static int
complete(const char *buf, size_t len)
{
	const char *end = strstr(buf, "\r\n\r\n"), *cl;
	long n = 0;

	if (end == NULL)
		return 0;
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < end)
		n = strtol(cl + 17, NULL, 10);
	return (size_t)(end + 4 - buf) + (size_t)n <= len;
}

static void
on_sread(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct sconn *c = container_of((uv_tcp_t *)s, struct sconn, tcp);
	uv_buf_t out;

	(void)b;
	if (c->answered)
		return;
	if (n < 0) {
		uv_close((uv_handle_t *)&c->tcp, on_sconn_close);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (!complete(c->buf, c->len))
		return;
	c->answered = 1;
	memcpy(c->srv->request, c->buf, c->len + 1);
	c->srv->reqlen = c->len;
	c->srv->requests++;
	uv_read_stop(s);
	out = uv_buf_init((char *)(uintptr_t)c->srv->reply,
	    (unsigned int)strlen(c->srv->reply));
	assert_int_equal(uv_write(&c->wr, s, &out, 1, on_swritten), 0);
}

static void
on_sconnect(uv_stream_t *server, int status)
{
	struct server *srv = container_of((uv_tcp_t *)server, struct server,
	    tcp);
	struct sconn *c;

	assert_int_equal(status, 0);
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	assert_int_equal(uv_tcp_init(server->loop, &c->tcp), 0);
	assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
	assert_int_equal(uv_read_start((uv_stream_t *)&c->tcp, on_salloc,
			     on_sread),
	    0);
}

static void
server_start(uv_loop_t *loop, struct server *srv)
{
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int len = sizeof(got);

	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
	assert_int_equal(uv_tcp_init(loop, &srv->tcp), 0);
	assert_int_equal(uv_tcp_bind(&srv->tcp, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&srv->tcp, 8, on_sconnect),
	    0);
	assert_int_equal(uv_tcp_getsockname(&srv->tcp,
			     (struct sockaddr *)&got, &len),
	    0);
	srv->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
}

/* An HTTP response with a JSON body (the body decides, as at TikTok). */
static char *
response(int status, const char *extra_headers, const char *body)
{
	return xasprintf("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
	    status, strlen(body), extra_headers, body);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct http_opts ho;
	char err[ERRLEN], *path;

	assert_int_equal(uv_loop_init(&f->loop), 0);
	server_start(&f->loop, &f->srv);
	memset(&ho, 0, sizeof(ho));
	ho.allow_http = 1;
	ho.max_transfers = 2;
	f->http = http_new(&f->loop, &ho, err, sizeof(err));
	assert_non_null(f->http);
	f->dir = tmp_dir("grant");
	path = path_join(f->dir, "secrets.db");
	f->secrets = secrets_open(path, err, sizeof(err));
	free(path);
	assert_non_null(f->secrets);
	f->cfg.client_key = xstrdup("awkey");
	f->cfg.client_secret = xstrdup("s3cret");
	f->cfg.redirect_uri = xstrdup("http://127.0.0.1:8723/callback/");
	f->cfg.api_url = xasprintf("http://127.0.0.1:%d", f->srv.port);
	f->go.http = f->http;
	f->go.cfg = &f->cfg;
	f->go.secrets = f->secrets;
	f->go.timeout_ms = 10000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tokens_clear(&f->res.tok);
	http_free(f->http);
	uv_close((uv_handle_t *)&f->srv.tcp, NULL);
	(void)uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	secrets_close(f->secrets);
	free(f->cfg.client_key);
	free(f->cfg.client_secret);
	free(f->cfg.redirect_uri);
	free(f->cfg.api_url);
	free((char *)(uintptr_t)f->srv.reply);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void
on_grant(struct grant_result *res, void *arg)
{
	struct fx *f = arg;

	f->ncalls++;
	tokens_clear(&f->res.tok);
	f->res = *res;
	memset(&res->tok, 0, sizeof(res->tok)); /* taken */
}

/* Run until the callback has been called. */
static void
wait_result(struct fx *f, struct grant_call *g)
{
	assert_non_null(g);
	while (f->ncalls == 0)
		(void)uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->ncalls, 1);
}

static void
serve(struct fx *f, int status, const char *headers, const char *body)
{
	free((char *)(uintptr_t)f->srv.reply);
	f->srv.reply = response(status, headers, body);
}

/* The grant an earlier `auth` saved. */
static void
saved_grant(struct fx *f, struct tokens *t, const char *refresh)
{
	char err[ERRLEN];

	memset(t, 0, sizeof(*t));
	t->open_id = xstrdup("open-1");
	t->scope = xstrdup("user.info.basic,video.list");
	t->access_token = xstrdup("act.old");
	t->refresh_token = xstrdup(refresh);
	t->access_expires_at = 1000;
	t->refresh_expires_at = 2000;
	t->issued_at = 500;
	assert_int_equal(secrets_put(f->secrets, ACCT, t, err, sizeof(err)),
	    0);
}

static void
stored_is(struct fx *f, const char *access, const char *refresh,
    const char *open_id, const char *scope)
{
	struct tokens t;
	char err[ERRLEN];

	assert_int_equal(secrets_get(f->secrets, ACCT, &t, err, sizeof(err)),
	    0);
	assert_string_equal(t.access_token, access);
	assert_string_equal(t.refresh_token, refresh);
	assert_string_equal(t.open_id, open_id);
	assert_string_equal(t.scope, scope);
	tokens_clear(&t);
}

static const char TOKENS_NO_IDS[] =
    "{\"access_token\":\"act.new\",\"expires_in\":86400,"
    "\"refresh_token\":\"rft.new\",\"refresh_expires_in\":31536000,"
    "\"token_type\":\"Bearer\"}";

/* A refresh posts the refresh token and saves the rotated pair first. */
static void
test_refresh_saves_and_carries(void **state)
{
	struct fx *f = *state;
	struct tokens cur;
	char err[ERRLEN];
	int64_t before = now_unix();

	saved_grant(f, &cur, "rft.old");
	serve(f, 200, "", TOKENS_NO_IDS);
	wait_result(f, grant_refresh(&f->go, ACCT, &cur, on_grant, f, err,
			   sizeof(err)));
	assert_int_equal(f->res.outcome, GRANT_OK);
	assert_true(strstr(f->srv.request, "POST /v2/oauth/token/ ") ==
	    f->srv.request);
	assert_non_null(strstr(f->srv.request,
	    "application/x-www-form-urlencoded"));
	assert_non_null(strstr(f->srv.request,
	    "\r\n\r\nclient_key=awkey&client_secret=s3cret&grant_type="
	    "refresh_token&refresh_token=rft.old"));
	/* open_id and scope were left out of the answer: the grant's. */
	assert_string_equal(f->res.tok.open_id, "open-1");
	assert_string_equal(f->res.tok.refresh_token, "rft.new");
	assert_true(f->res.tok.access_expires_at >= before + 86400);
	stored_is(f, "act.new", "rft.new", "open-1",
	    "user.info.basic,video.list");
	tokens_clear(&cur);
}

/* `auth` saved another grant during the refresh: it wins, and comes back. */
static void
test_refresh_superseded(void **state)
{
	struct fx *f = *state;
	struct tokens cur, newer;
	char err[ERRLEN];

	saved_grant(f, &cur, "rft.old");
	saved_grant(f, &newer, "rft.auth"); /* replaces it */
	serve(f, 200, "", TOKENS_NO_IDS);
	wait_result(f, grant_refresh(&f->go, ACCT, &cur, on_grant, f, err,
			   sizeof(err)));
	assert_int_equal(f->res.outcome, GRANT_SUPERSEDED);
	assert_string_equal(f->res.tok.refresh_token, "rft.auth");
	stored_is(f, "act.old", "rft.auth", "open-1",
	    "user.info.basic,video.list");
	tokens_clear(&cur);
	tokens_clear(&newer);
}

/* What each kind of answer means to the caller; nothing is saved. */
static void
test_refresh_outcomes(void **state)
{
	static const struct {
		int status;
		const char *headers, *body;
		enum grant_outcome want;
		const char *oerr;
		long retry_after;
	} cases[] = {
	    {200, "", "{\"error\":\"invalid_grant\",\"error_description\":"
		      "\"Refresh token is invalid or expired.\"}",
		GRANT_REJECTED, "invalid_grant", -1},
	    {200, "", "{\"error\":\"server_error\"}", GRANT_RETRY,
		"server_error", -1},
	    {503, "Retry-After: 7\r\n",
		"{\"error\":\"temporarily_unavailable\"}", GRANT_RETRY, "",
		7},
	    {200, "", "<html>not json</html>", GRANT_RETRY, "", -1},
	    {200, "", "{\"access_token\":\"\",\"expires_in\":1,"
		      "\"refresh_token\":\"x\",\"refresh_expires_in\":1}",
		GRANT_RETRY, "", -1},
	};
	struct fx *f = *state;
	struct tokens cur;
	char err[ERRLEN];
	size_t i;

	saved_grant(f, &cur, "rft.old");
	for (i = 0; i < nitems(cases); i++) {
		f->ncalls = 0;
		serve(f, cases[i].status, cases[i].headers, cases[i].body);
		wait_result(f, grant_refresh(&f->go, ACCT, &cur, on_grant, f,
				   err, sizeof(err)));
		if (f->res.outcome != cases[i].want)
			fail_msg("case %zu: outcome %d, want %d (%s)", i,
			    f->res.outcome, cases[i].want, f->res.err);
		assert_string_equal(f->res.oerr, cases[i].oerr);
		assert_int_equal(f->res.status, cases[i].status);
		assert_int_equal(f->res.retry_after, cases[i].retry_after);
		assert_true(f->res.err[0] != '\0');
		assert_null(f->res.tok.access_token);
		stored_is(f, "act.old", "rft.old", "open-1",
		    "user.info.basic,video.list");
	}
	tokens_clear(&cur);
}

/* No server: worth retrying, no HTTP status. */
static void
test_refresh_no_answer(void **state)
{
	struct fx *f = *state;
	struct tokens cur;
	char err[ERRLEN];

	saved_grant(f, &cur, "rft.old");
	free(f->cfg.api_url);
	f->cfg.api_url = xstrdup("http://127.0.0.1:1"); /* nothing listens */
	wait_result(f, grant_refresh(&f->go, ACCT, &cur, on_grant, f, err,
			   sizeof(err)));
	assert_int_equal(f->res.outcome, GRANT_RETRY);
	assert_int_equal(f->res.status, 0);
	assert_true(f->res.err[0] != '\0');
	tokens_clear(&cur);
}

/* The code exchange posts code and verifier and saves the new grant. */
static void
test_exchange(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN];

	serve(f, 200, "",
	    "{\"access_token\":\"act.1\",\"expires_in\":86400,"
	    "\"refresh_token\":\"rft.1\",\"refresh_expires_in\":31536000,"
	    "\"open_id\":\"open-9\",\"scope\":\"user.info.basic,video.list\"}");
	wait_result(f, grant_exchange(&f->go, ACCT, "c0de/+", "v3rifier",
			   on_grant, f, err, sizeof(err)));
	assert_int_equal(f->res.outcome, GRANT_OK);
	assert_non_null(strstr(f->srv.request,
	    "\r\n\r\nclient_key=awkey&client_secret=s3cret&code=c0de%2F%2B"
	    "&grant_type=authorization_code&redirect_uri=http%3A%2F%2F"
	    "127.0.0.1%3A8723%2Fcallback%2F&code_verifier=v3rifier"));
	stored_is(f, "act.1", "rft.1", "open-9", "user.info.basic,video.list");
}

static void
test_revoke(void **state)
{
	static const struct {
		int status;
		const char *body;
		enum grant_outcome want;
	} cases[] = {
	    {200, "{}", GRANT_OK},
	    {200, "", GRANT_OK},
	    {200, "{\"error\":\"invalid_request\",\"error_description\":"
		  "\"token revoked\"}", GRANT_REJECTED},
	    {200, "{\"error\":\"invalid_client\"}", GRANT_FAILED},
	    {502, "<html>bad gateway</html>", GRANT_RETRY},
	};
	struct fx *f = *state;
	char err[ERRLEN];
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		f->ncalls = 0;
		serve(f, cases[i].status, "", cases[i].body);
		wait_result(f, grant_revoke(&f->go, "act.x", on_grant, f, err,
				   sizeof(err)));
		if (f->res.outcome != cases[i].want)
			fail_msg("case %zu: outcome %d, want %d (%s)", i,
			    f->res.outcome, cases[i].want, f->res.err);
		assert_true(strstr(f->srv.request, "POST /v2/oauth/revoke/ ") ==
		    f->srv.request);
		assert_non_null(strstr(f->srv.request,
		    "\r\n\r\nclient_key=awkey&client_secret=s3cret"
		    "&token=act.x"));
	}
}

/* A cancelled call never calls back and leaves nothing behind. */
static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct grant_call *g;
	struct tokens cur;
	char err[ERRLEN];

	saved_grant(f, &cur, "rft.old");
	serve(f, 200, "", TOKENS_NO_IDS);
	g = grant_refresh(&f->go, ACCT, &cur, on_grant, f, err, sizeof(err));
	assert_non_null(g);
	grant_cancel(g);
	grant_cancel(NULL);
	(void)uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->ncalls, 0);
	stored_is(f, "act.old", "rft.old", "open-1",
	    "user.info.basic,video.list");
	tokens_clear(&cur);
}

/* The one text of the expiry warning: status, the log and the metric. */
static void
test_warning(void **state)
{
	static const struct {
		int64_t left;
		const char *want; /* NULL: no warning */
	} cases[] = {
	    {31 * 86400, NULL},
	    {30 * 86400, "expires in 30 days"},
	    {6 * 86400 + 3600, "expires in 6 days"},
	    {86400 + 43199, "expires in 1 day ("}, /* never "1 days" */
	    {86400, "expires in 1 day ("},
	    {86399, "expires in 24 hours"},
	    {3600, "expires in 1 hour ("},
	    {1, "expires in 1 hour ("},
	    {0, "expired at 2023-11-14T22:13:20Z; run: tiktok-mirror auth "
		"brand"},
	};
	const int64_t now = 1700000000;
	size_t i;
	char *w;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		w = grant_warning(ACCT, now + cases[i].left, now);
		if (cases[i].want == NULL) {
			assert_null(w);
			continue;
		}
		if (w == NULL || strstr(w, cases[i].want) == NULL)
			fail_msg("left %lld: \"%s\", want \"%s\"",
			    (long long)cases[i].left, w ? w : "(null)",
			    cases[i].want);
		if (cases[i].left > 0 &&
		    strstr(w, "); run: tiktok-mirror auth brand") == NULL)
			fail_msg("\"%s\" does not say what to run", w);
		free(w);
	}
	assert_null(grant_warning(ACCT, INT64_MIN, now));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_refresh_saves_and_carries),
	    T(test_refresh_superseded),
	    T(test_refresh_outcomes),
	    T(test_refresh_no_answer),
	    T(test_exchange),
	    T(test_revoke),
	    T(test_cancel),
	    cmocka_unit_test(test_warning),
	};
#undef T

	return cmocka_run_group_tests_name("grant", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
