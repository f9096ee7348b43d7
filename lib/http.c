/* SPDX-License-Identifier: ISC */
/*
 * HTTP on one libcurl multi handle driven by a libuv loop.
 *
 * The bridge is curl's docs/examples/multi-uv.c with the gaps listed in
 * reference/c-style-anchors.md §6 closed:
 *  1. a negative poll status (libuv saw POLLERR and stopped the handle) is
 *     passed on as CURL_CSELECT_ERR, so curl tears the connection down;
 *  2. curl_multi_info_read() is drained after every socket action;
 *  3. every CURLMcode and libuv return value is checked;
 *  4. handles are embedded and reached with container_of(), never a cast;
 *  5. CURL_POLL_REMOVE stops the poll handle synchronously, because curl
 *     may close the fd right after and the next socket() may reuse the
 *     number; the stopped watcher is kept for the connection's next
 *     transfer and closed when curl closes the socket (our
 *     CURLOPT_CLOSESOCKETFUNCTION), so a kept-alive connection costs no
 *     watcher set-up per request;
 *  6. the socket callback may run inside curl_multi_cleanup(), so the
 *     engine stays alive until its own handles are closed;
 *  7. the timer is closed, and memory is released in close callbacks only;
 *  8. every transfer carries its own bounds (connect, total, low speed,
 *     size), protocol allowlist, error buffer and private pointer;
 *  9. one CURLM per engine, so connections and DNS answers are shared.
 *
 * Admission: at most 'max_transfers' easy handles are in the multi handle at
 * once; the rest wait in a FIFO and are added from a zero-delay libuv timer
 * (the 'admit' timer), or by drain() as soon as finished transfers free
 * their slots, before their owners are told, so the server is never idle
 * while we handle its answers. curl's per-transfer clocks start only when a
 * transfer really runs, and 'done' is always called from the loop. A
 * waiting transfer holds only its copied request (URL, header list, body):
 * its easy handle (about 5.4 KiB in libcurl 7.88) is taken when it is
 * admitted, so hundreds of queued cover downloads cost little memory. Easy
 * handles are reset and reused, up to 'max_transfers' of them.
 *
 * Size cap: CURLOPT_MAXFILESIZE_LARGE stops a body whose Content-Length is
 * over the cap, but libcurl 7.88 does not stop a chunked body at that limit
 * (reference/reliability-notes.md §0.6), so the write callback refuses the
 * first byte over the cap too.
 *
 * TLS: peer and host verification stay at libcurl's defaults (on). An extra
 * CA file is added to the system's trust, not substituted for it: http_new()
 * builds one PEM bundle in memory (system bundle, then ca_file) and every
 * transfer gets it through CURLOPT_CAINFO_BLOB.
 *
 * Logging: URLs are logged through log_url(), which drops the query string
 * (tokens and CDN signatures live there); request headers are never logged.
 *
 * libcurl's global state: http_new() calls curl_global_init() and the last
 * close callback of http_free() calls curl_global_cleanup(); libcurl counts
 * these calls, so nothing else in the program needs to.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"
#include "log.h"
#include "util.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define HTTP_USER_AGENT "tiktok-mirror/" VERSION
#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_TIMEOUT_MS 60000L
#define HTTP_LOW_SPEED_LIMIT 1L	 /* bytes per second ... */
#define HTTP_LOW_SPEED_TIME 30L	 /* ... averaged over this many seconds */
#define HTTP_MAX_REDIRS 5L
#define HTTP_RETRY_AFTER_MAX 3600 /* seconds */
#define HTTP_CA_MAX (16 * 1024 * 1024) /* combined CA bundle */
#define HTTP_LOGURL 256
/*
 * Idle connections kept beyond max_transfers, so that the API host and
 * the cover CDN each keep theirs (libcurl's default, 4 per easy handle in
 * the multi, would shrink the cache whenever few transfers run).
 */
#define HTTP_SPARE_CONNS 4

/* Where Debian, Fedora and Alpine keep the system trust as one PEM file. */
static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
};

/*
 * One socket curl asked us to watch: watched while a transfer uses it,
 * stopped between transfers. Freed in its close callback.
 */
struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http *h;
	LIST_ENTRY(sock) entry; /* h->socks, until the poll is closed */
};

enum xfer_state {
	XFER_QUEUED,   /* h->queue */
	XFER_RUNNING,  /* h->running, in the multi handle */
	XFER_FINISHED, /* h->finished, out of the multi, owner not told yet */
	XFER_DONE,     /* in its 'done' callback */
};

struct http_xfer {
	struct http *h;
	TAILQ_ENTRY(http_xfer) entry; /* h->queue, running or finished */
	enum xfer_state state;
	CURL *easy;		    /* made when admitted (xfer_prepare()) */
	struct curl_slist *headers; /* owned; curl does not copy it */
	int post;
	int https;	  /* the request URL's scheme is https */
	CURLU *u;	  /* the parsed URL curl uses (CURLOPT_CURLU) */
	char *postbody;	  /* owned; curl reads it until xfer_free() */
	size_t postlen;
	long timeout_ms;  /* total, from admission */
	http_done_cb done;
	void *arg;

	int fd;		  /* >= 0: body goes here */
	struct buf body;  /* otherwise here, capped at max_body */
	size_t max_body;
	size_t nbytes;	  /* body bytes accepted so far */
	unsigned char head[HTTP_HEAD]; /* the first of them */
	int too_large;	  /* the write callback refused bytes over the cap */
	int write_errno;  /* write(2) to 'fd' failed with this */
	long retry_after; /* from the last response's header, or -1 */
	enum http_result res; /* XFER_FINISHED: the outcome ... */
	long status;	      /* ... and the HTTP status, 0 when none */

	char errbuf[CURL_ERROR_SIZE];	/* CURLOPT_ERRORBUFFER */
	char msg[CURL_ERROR_SIZE + 64]; /* http_response.error */
};

TAILQ_HEAD(xfer_list, http_xfer);

struct http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer; /* curl's CURLMOPT_TIMERFUNCTION timer */
	uv_timer_t admit; /* zero-delay: move queued transfers into the multi */
	LIST_HEAD(, sock) socks;
	struct xfer_list queue;	  /* waiting, FIFO */
	struct xfer_list running; /* in the multi handle */
	struct xfer_list finished; /* to be delivered by drain() */
	int draining;		   /* drain() is running */
	int nqueued;
	int nrunning;
	CURL **spare; /* reset easy handles for the next transfers */
	int nspare;

	int max_transfers;
	int allow_http;
	long connect_timeout_ms;
	long test_timeout_ms; /* http_opts.test_timeout_ms, or 0 */
	char *ca;	/* combined PEM bundle, or NULL for curl's default */
	size_t calen;

	int closing;  /* http_free() has run */
	int nhandles; /* libuv handles still to be closed */
};

static int on_curl_socket(CURL *, curl_socket_t, int, void *, void *);
static int on_close_socket(void *, curl_socket_t);
static int on_curl_timer(CURLM *, long, void *);
static void on_poll(uv_poll_t *, int, int);
static void on_timer(uv_timer_t *);
static void on_admit(uv_timer_t *);
static void on_sock_close(uv_handle_t *);
static void on_timer_close(uv_handle_t *);
static void on_admit_close(uv_handle_t *);
static size_t on_write(char *, size_t, size_t, void *);
static size_t on_header(char *, size_t, size_t, void *);
static void schedule_admit(struct http *);
static int xfer_prepare(struct http_xfer *);
static void xfer_unlink(struct http_xfer *);
static void xfer_free(struct http_xfer *);

/*
 * Build the trust bundle: the first readable system bundle, then ca_file.
 * curl takes one CA source per transfer and CURLOPT_CAINFO_BLOB overrides
 * CURLOPT_CAINFO, so "add to the system's trust" means concatenating.
 */
static int
load_ca(struct http *h, const char *ca_file, char *err, size_t errlen)
{
	struct buf b;
	char *sys = NULL, *extra = NULL;
	size_t i, syslen = 0, extralen;
	int rc = -1;

	for (i = 0; i < nitems(system_bundles) && sys == NULL; i++)
		if (read_file(system_bundles[i], 0, HTTP_CA_MAX, &sys, &syslen,
			NULL) == -1)
			sys = NULL;
	if (sys == NULL)
		log_debug("http: no system CA bundle; trusting %s only",
		    ca_file);
	buf_init(&b, HTTP_CA_MAX);
	if (read_file(ca_file, 0, HTTP_CA_MAX, &extra, &extralen, NULL) ==
	    -1) {
		if (errno == EFBIG)
			goto toobig;
		errf(err, errlen, "ca_file %s: %s", ca_file,
		    file_error(errno));
		goto out;
	}
	if (strstr(extra, "-----BEGIN CERTIFICATE-----") == NULL) {
		errf(err, errlen, "ca_file %s: no PEM certificate", ca_file);
		goto out;
	}
	if (buf_add(&b, sys != NULL ? sys : "", syslen) == -1 ||
	    buf_add(&b, "\n", 1) == -1 || buf_add(&b, extra, extralen) == -1)
		goto toobig;
	h->ca = buf_take(&b, &h->calen);
	rc = 0;
	goto out;
toobig:
	errf(err, errlen, "ca_file %s: CA bundle over %d bytes", ca_file,
	    HTTP_CA_MAX);
out:
	buf_free(&b);
	free(sys);
	free(extra);
	return rc;
}

/*
 * Release what http_new() made besides the multi and libuv handles: once
 * every libuv handle of 'h' is closed, or when http_new() fails.
 */
static void
http_destroy(struct http *h)
{
	free(h->spare);
	free(h->ca);
	free(h);
	curl_global_cleanup();
}

struct http *
http_new(uv_loop_t *loop, const struct http_opts *opts, char *err,
    size_t errlen)
{
	struct http *h;
	CURLMcode mc = CURLM_OK;
	CURLcode rc;

	if (opts->max_transfers < 1) {
		errf(err, errlen, "http: max_transfers must be at least 1");
		return NULL;
	}
	if (opts->connect_timeout_ms < 0) {
		errf(err, errlen, "http: negative connect timeout");
		return NULL;
	}
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		errf(err, errlen, "curl_global_init: %s",
		    curl_easy_strerror(rc));
		return NULL;
	}

	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	LIST_INIT(&h->socks);
	TAILQ_INIT(&h->queue);
	TAILQ_INIT(&h->running);
	TAILQ_INIT(&h->finished);
	h->max_transfers = opts->max_transfers;
	h->spare = xcalloc((size_t)h->max_transfers, sizeof(*h->spare));
	h->allow_http = opts->allow_http != 0;
	h->connect_timeout_ms = opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms :
	    HTTP_CONNECT_TIMEOUT_MS;
	if (opts->test_timeout_ms > 0)
		h->test_timeout_ms = opts->test_timeout_ms < HTTP_TIMEOUT_MS ?
		    opts->test_timeout_ms : HTTP_TIMEOUT_MS;
	if (h->test_timeout_ms > 0 &&
	    h->connect_timeout_ms > h->test_timeout_ms)
		h->connect_timeout_ms = h->test_timeout_ms;
	if (opts->ca_file != NULL && load_ca(h, opts->ca_file, err, errlen) ==
	    -1)
		goto fail;

	if ((h->multi = curl_multi_init()) == NULL) {
		errf(err, errlen, "curl_multi_init failed");
		goto fail;
	}
	if ((mc = curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION,
		 on_curl_socket)) != CURLM_OK ||
	    (mc = curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h)) !=
		CURLM_OK ||
	    (mc = curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION,
		 on_curl_timer)) != CURLM_OK ||
	    (mc = curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h)) !=
		CURLM_OK ||
	    (mc = curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
		 (long)h->max_transfers + HTTP_SPARE_CONNS)) != CURLM_OK) {
		errf(err, errlen, "curl_multi_setopt: %s",
		    curl_multi_strerror(mc));
		goto fail;
	}

	/* Last: once they exist, h is freed only from their close callbacks. */
	UV_OK(uv_timer_init(loop, &h->timer));
	UV_OK(uv_timer_init(loop, &h->admit));
	return h;

fail:
	if (h->multi != NULL)
		(void)curl_multi_cleanup(h->multi);
	http_destroy(h);
	return NULL;
}

static void
http_unref(struct http *h)
{
	if (--h->nhandles == 0)
		http_destroy(h);
}

static void
on_timer_close(uv_handle_t *hd)
{
	http_unref(container_of((uv_timer_t *)hd, struct http, timer));
}

static void
on_admit_close(uv_handle_t *hd)
{
	http_unref(container_of((uv_timer_t *)hd, struct http, admit));
}

/* Stop watching a socket now and free it from its close callback. */
static void
sock_close(struct sock *sk)
{
	int r;

	if ((r = uv_poll_stop(&sk->poll)) != 0)
		log_warnx("http: uv_poll_stop: %s", uv_strerror(r));
	LIST_REMOVE(sk, entry);
	uv_close((uv_handle_t *)&sk->poll, on_sock_close);
}

static void
on_sock_close(uv_handle_t *hd)
{
	free(container_of((uv_poll_t *)hd, struct sock, poll));
}

void
http_free(struct http *h)
{
	struct http_xfer *x;
	struct sock *sk;
	CURLMcode mc;

	if (h == NULL || h->closing)
		return;
	h->closing = 1;

	/* (a) Every transfer out of the multi handle, without callbacks. */
	while ((x = TAILQ_FIRST(&h->queue)) != NULL ||
	    (x = TAILQ_FIRST(&h->running)) != NULL ||
	    (x = TAILQ_FIRST(&h->finished)) != NULL) {
		xfer_unlink(x);
		xfer_free(x);
	}
	while (h->nspare > 0)
		curl_easy_cleanup(h->spare[--h->nspare]);

	/*
	 * (b) Close the cached connections. This may call on_curl_socket()
	 * and on_curl_timer(), which is why the timer is still open here.
	 */
	if ((mc = curl_multi_cleanup(h->multi)) != CURLM_OK)
		log_warnx("http: curl_multi_cleanup: %s",
		    curl_multi_strerror(mc));
	h->multi = NULL;

	/* (c) Any socket curl did not say goodbye to, then the timers. */
	while ((sk = LIST_FIRST(&h->socks)) != NULL)
		sock_close(sk);
	h->nhandles = 2;
	uv_close((uv_handle_t *)&h->timer, on_timer_close);
	uv_close((uv_handle_t *)&h->admit, on_admit_close);
}

int
http_pending(const struct http *h)
{
	return h->nqueued + h->nrunning;
}

int
http_running(const struct http *h)
{
	return h->nrunning;
}

static struct sock *
sock_find(struct http *h, curl_socket_t s)
{
	struct sock *sk;

	LIST_FOREACH(sk, &h->socks, entry)
		if (sk->fd == s)
			return sk;
	return NULL;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the connection is gone; so is its watcher. */
static int
on_close_socket(void *arg, curl_socket_t s)
{
	struct sock *sk;

	if ((sk = sock_find(arg, s)) != NULL)
		sock_close(sk);
	return close(s);
}

/*
 * CURLMOPT_SOCKETFUNCTION: curl tells us which sockets to watch for what.
 * Returning -1 makes curl fail every transfer, so it is kept for the cases
 * where we cannot watch the socket at all.
 */
static int
on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct http *h = userp;
	struct sock *sk = socketp;
	CURLMcode mc;
	int events = 0, r;

	(void)easy;
	switch (what) {
	case CURL_POLL_IN:
	case CURL_POLL_OUT:
	case CURL_POLL_INOUT:
		if (sk == NULL) {
			/*
			 * curl forgets its socketp at CURL_POLL_REMOVE: a
			 * kept-alive connection's next transfer finds its
			 * watcher by fd. One kept for an fd number that curl
			 * closed behind our back (its resolver's) is stopped,
			 * and serves the socket that now has the number.
			 */
			if ((sk = sock_find(h, s)) == NULL) {
				sk = xcalloc(1, sizeof(*sk));
				sk->fd = s;
				sk->h = h;
				r = uv_poll_init_socket(h->loop, &sk->poll, s);
				if (r != 0) {
					log_warnx("http: uv_poll_init_socket: "
						  "%s",
					    uv_strerror(r));
					free(sk);
					return -1;
				}
				LIST_INSERT_HEAD(&h->socks, sk, entry);
			}
			if ((mc = curl_multi_assign(h->multi, s, sk)) !=
			    CURLM_OK) {
				log_warnx("http: curl_multi_assign: %s",
				    curl_multi_strerror(mc));
				sock_close(sk);
				return -1;
			}
		}
		if (what != CURL_POLL_IN)
			events |= UV_WRITABLE;
		if (what != CURL_POLL_OUT)
			events |= UV_READABLE;
		/* On an active handle this only changes the event mask. */
		if ((r = uv_poll_start(&sk->poll, events, on_poll)) != 0) {
			log_warnx("http: uv_poll_start: %s", uv_strerror(r));
			return -1;
		}
		return 0;
	case CURL_POLL_REMOVE:
		/*
		 * Stop now, not later: curl may close the fd when we return
		 * and the next socket() may get the same number (libuv >=
		 * 1.41 handles that only for a stopped handle). The watcher
		 * stays for the connection's next transfer; on_close_socket()
		 * frees it.
		 */
		if (sk == NULL)
			sk = sock_find(h, s);
		if (sk != NULL && (r = uv_poll_stop(&sk->poll)) != 0)
			log_warnx("http: uv_poll_stop: %s", uv_strerror(r));
		return 0;
	default:
		log_warnx("http: unknown curl socket action %d", what);
		return -1;
	}
}

/*
 * CURLMOPT_TIMERFUNCTION: one one-shot timer. A timeout of 0 means "as
 * soon as possible, but not from inside this callback": 1 ms keeps libuv
 * from running it in the same timer pass, so curl can never spin the loop.
 */
static int
on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	if (timeout_ms < 0) {
		UV_OK(uv_timer_stop(&h->timer));
		return 0;
	}
	if (timeout_ms == 0)
		timeout_ms = 1;
	UV_OK(uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0));
	return 0;
}

static enum http_result
result_of(struct http_xfer *x, CURLcode rc)
{
	if (x->too_large)
		return HTTP_E_TOO_LARGE;
	if (x->write_errno != 0)
		return HTTP_E_WRITE;
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_E_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return HTTP_E_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_OBSOLETE51: /* was CURLE_PEER_FAILED_VERIFICATION */
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return HTTP_E_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_E_TOO_LARGE;
	case CURLE_UNSUPPORTED_PROTOCOL: /* also a refused redirect */
	case CURLE_TOO_MANY_REDIRECTS:
		return HTTP_E_PROTOCOL;
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2_STREAM:
		return HTTP_E_RECV;
	default:
		return HTTP_E_OTHER;
	}
}

/* For the debug log, by enum http_result. */
static const char *const result_names[] = {
	[HTTP_OK] = "ok",
	[HTTP_E_TIMEOUT] = "timeout",
	[HTTP_E_CONNECT] = "connect",
	[HTTP_E_TLS] = "tls",
	[HTTP_E_TOO_LARGE] = "too large",
	[HTTP_E_PROTOCOL] = "protocol",
	[HTTP_E_RECV] = "recv",
	[HTTP_E_WRITE] = "write",
	[HTTP_E_OTHER] = "error",
};

/*
 * Describe a failure. curl's error buffer is more precise than
 * curl_easy_strerror(), but if it ever shows a '?' it might quote a query
 * string, so then the generic text is used.
 */
static void
describe(struct http_xfer *x, enum http_result res, CURLcode rc)
{
	const char *text;

	if (res == HTTP_OK)
		x->msg[0] = '\0';
	else if (x->too_large)
		(void)snprintf(x->msg, sizeof(x->msg),
		    "response body over the %zu-byte limit", x->max_body);
	else if (x->write_errno != 0)
		(void)snprintf(x->msg, sizeof(x->msg), "writing the body: %s",
		    strerror(x->write_errno));
	else if (res == HTTP_E_TOO_LARGE)
		(void)snprintf(x->msg, sizeof(x->msg),
		    "response body over the %zu-byte limit (Content-Length)",
		    x->max_body);
	else {
		text = x->errbuf;
		if (text[0] == '\0' || strchr(text, '?') != NULL)
			text = curl_easy_strerror(rc);
		(void)snprintf(x->msg, sizeof(x->msg), "%s (curl error %d)",
		    text, (int)rc);
	}
}

/* The transfer's URL for a debug line (log_url()). */
static const char *
xfer_url(const struct http_xfer *x, char *out, size_t outlen)
{
	char *url = NULL;

	if (curl_url_get(x->u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		return "(URL)";
	(void)log_url(url, out, outlen);
	curl_free(url);
	return out;
}

/* Hand the outcome to the owner, then free the transfer. */
static void
deliver(struct http_xfer *x)
{
	struct http_response resp;
	char safe[HTTP_LOGURL];

	memset(&resp, 0, sizeof(resp));
	resp.result = x->res;
	resp.status = x->status;
	if (x->fd >= 0)
		resp.body = NULL;
	else
		resp.body = x->body.data != NULL ? x->body.data : "";
	resp.len = x->nbytes;
	resp.head = x->head;
	resp.retry_after = x->retry_after;
	resp.error = x->msg;
	if (log_verbosity() >= LOG_VERBOSE)
		log_debug("http: %s %s: %s, status %ld, %zu bytes%s%s",
		    x->post ? "POST" : "GET",
		    xfer_url(x, safe, sizeof(safe)),
		    result_names[x->res], x->status, x->nbytes,
		    x->res == HTTP_OK ? "" : ": ", x->msg);
	x->state = XFER_DONE;
	x->done(&resp, x->arg);
	xfer_free(x);
}

/* The transfer is over: it waits in h->finished for drain() to report. */
static void
finish(struct http *h, struct http_xfer *x, enum http_result res,
    long status)
{
	x->res = res;
	x->status = status;
	x->state = XFER_FINISHED;
	TAILQ_INSERT_TAIL(&h->finished, x, entry);
}

/* A CURLMSG_DONE: take the easy handle out of the multi. */
static void
complete(struct http *h, CURL *easy, CURLcode rc)
{
	struct http_xfer *x;
	enum http_result res;
	char *priv = NULL;
	long status = 0;

	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
	    priv == NULL)
		fatalx("http: finished transfer without its private pointer");
	x = (struct http_xfer *)(void *)priv;
	if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	xfer_unlink(x);
	res = result_of(x, rc);
	describe(x, res, rc);
	finish(h, x, res, status);
}

/*
 * Move queued transfers into the multi handle while there is room, and
 * start them at once: curl_multi_add_handle() asks for a 0 ms timeout,
 * which on_curl_timer() must turn into 1 ms, and a kept-alive connection
 * would then idle for that millisecond before every request. Whatever
 * finishes meanwhile is left for drain().
 */
static void
start_queued(struct http *h)
{
	struct http_xfer *x;
	CURLMcode mc;
	int added = 0, running;

	while (!h->closing && h->nrunning < h->max_transfers &&
	    (x = TAILQ_FIRST(&h->queue)) != NULL) {
		TAILQ_REMOVE(&h->queue, x, entry);
		h->nqueued--;
		if (xfer_prepare(x) == -1) {
			finish(h, x, HTTP_E_OTHER, 0);
			continue;
		}
		if ((mc = curl_multi_add_handle(h->multi, x->easy)) !=
		    CURLM_OK) {
			(void)snprintf(x->msg, sizeof(x->msg),
			    "curl_multi_add_handle: %s",
			    curl_multi_strerror(mc));
			finish(h, x, HTTP_E_OTHER, 0);
			continue;
		}
		x->state = XFER_RUNNING;
		TAILQ_INSERT_TAIL(&h->running, x, entry);
		h->nrunning++;
		added = 1;
	}
	if (added && (mc = curl_multi_socket_action(h->multi,
			  CURL_SOCKET_TIMEOUT, 0, &running)) != CURLM_OK)
		log_warnx("http: curl_multi_socket_action: %s",
		    curl_multi_strerror(mc));
}

/*
 * Report every finished transfer. The slots they free are filled from the
 * queue before their owners are told, so that the server works on the next
 * requests while the answers are handled. A 'done' callback may call
 * http_start(), http_cancel() or even http_free(); 'h' itself stays valid
 * until its close callbacks run, so checking h->closing after each one is
 * safe. Not reentered: a nested call leaves the work to the outer one.
 */
static void
drain(struct http *h)
{
	struct http_xfer *x;
	CURLMsg *m;
	int left;

	if (h->draining)
		return;
	h->draining = 1;
	for (;;) {
		/* 'm' dies with curl_multi_remove_handle(): complete() gets
		 * copies. */
		while (!h->closing &&
		    (m = curl_multi_info_read(h->multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE)
				complete(h, m->easy_handle, m->data.result);
		if (h->closing || TAILQ_EMPTY(&h->finished))
			break;
		start_queued(h);
		while (!h->closing && (x = TAILQ_FIRST(&h->finished)) != NULL) {
			TAILQ_REMOVE(&h->finished, x, entry);
			deliver(x);
		}
	}
	h->draining = 0;
	schedule_admit(h);
}

static void
socket_action(struct http *h, curl_socket_t s, int flags)
{
	CURLMcode mc;
	int running;

	mc = curl_multi_socket_action(h->multi, s, flags, &running);
	/* BAD_SOCKET: curl already dropped that socket; nothing to do. */
	if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET)
		log_warnx("http: curl_multi_socket_action: %s",
		    curl_multi_strerror(mc));
	drain(h);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *sk = container_of(p, struct sock, poll);
	int flags = 0;

	if (status < 0) {
		/*
		 * libuv saw POLLERR and stopped the handle: tell curl, which
		 * finds the socket's own error. libuv reports every POLLERR as
		 * UV_EBADF, so its text ("bad file descriptor") is not said.
		 */
		log_debug("http: socket error on fd %d (POLLERR)", (int)sk->fd);
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	socket_action(sk->h, sk->fd, flags);
}

static void
on_timer(uv_timer_t *t)
{
	socket_action(container_of(t, struct http, timer), CURL_SOCKET_TIMEOUT,
	    0);
}

static void
schedule_admit(struct http *h)
{
	if (h->closing || TAILQ_EMPTY(&h->queue) ||
	    h->nrunning >= h->max_transfers ||
	    uv_is_active((uv_handle_t *)&h->admit))
		return;
	UV_OK(uv_timer_start(&h->admit, on_admit, 0, 0));
}

/* Transfers queued from 'done' callbacks or http_start(), on the loop. */
static void
on_admit(uv_timer_t *t)
{
	struct http *h = container_of(t, struct http, admit);

	start_queued(h);
	drain(h);
}

/*
 * CURLOPT_WRITEFUNCTION. Returning less than given makes curl stop with
 * CURLE_WRITE_ERROR; the flags say why.
 */
static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * n;

	if (len > x->max_body - x->nbytes) {
		x->too_large = 1;
		return 0;
	}
	if (x->fd >= 0) {
		if (write_all(x->fd, p, len) == -1) {
			x->write_errno = errno;
			return 0;
		}
	} else if (buf_add(&x->body, p, len) == -1) {
		x->too_large = 1;
		return 0;
	}
	if (x->nbytes < sizeof(x->head))
		memcpy(x->head + x->nbytes, p,
		    len < sizeof(x->head) - x->nbytes
			? len
			: sizeof(x->head) - x->nbytes);
	x->nbytes += len;
	return len;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds. Returns
 * seconds from now clamped to [0, HTTP_RETRY_AFTER_MAX], or -1 when the
 * value is neither. curl_getdate() reads the three HTTP-date forms.
 */
static long
parse_retry_after(const char *s, size_t len)
{
	char date[64];
	long secs = 0;
	int64_t delta;
	time_t t;
	size_t i;

	while (len > 0 && is_ows(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_ows(s[len - 1]))
		len--;
	if (len == 0)
		return -1;
	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		if (secs < HTTP_RETRY_AFTER_MAX)
			secs = secs * 10 + (s[i] - '0');
	if (i == len)
		return secs > HTTP_RETRY_AFTER_MAX ? HTTP_RETRY_AFTER_MAX :
						     secs;
	/* An HTTP-date has a letter first and is about 29 bytes long. */
	if (len >= sizeof(date) || !((s[0] >= 'A' && s[0] <= 'Z') ||
					(s[0] >= 'a' && s[0] <= 'z')))
		return -1;
	memcpy(date, s, len);
	date[len] = '\0';
	if ((t = curl_getdate(date, NULL)) == -1)
		return -1;
	delta = (int64_t)t - now_unix();
	if (delta < 0)
		return 0;
	if (delta > HTTP_RETRY_AFTER_MAX)
		return HTTP_RETRY_AFTER_MAX;
	return (long)delta;
}

/*
 * CURLOPT_HEADERFUNCTION: one header line at a time, for every response
 * (redirects and 1xx included). A status line starts a new response, so it
 * forgets the previous one's Retry-After.
 */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	static const char name[] = "Retry-After:";
	struct http_xfer *x = arg;
	size_t len = size * n;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
		x->retry_after = -1;
	else if (len >= sizeof(name) - 1 &&
	    strncasecmp(p, name, sizeof(name) - 1) == 0)
		x->retry_after = parse_retry_after(p + sizeof(name) - 1,
		    len - (sizeof(name) - 1));
	return len;
}

/*
 * Parse the URL and check its scheme: https, or http too when allowed.
 * Sets *https. Returns the parsed URL, which the transfer hands to curl
 * (CURLOPT_CURLU: curl does not parse it again), or NULL with 'err'.
 */
static CURLU *
check_url(const struct http *h, const char *url, int *https, char *err,
    size_t errlen)
{
	char safe[HTTP_LOGURL];
	char *scheme = NULL;
	CURLUcode uc;
	CURLU *u;

	if ((u = curl_url()) == NULL)
		fatalx("out of memory parsing a URL");
	if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) !=
		CURLUE_OK) {
		errf(err, errlen, "bad URL %s: %s",
		    log_url(url, safe, sizeof(safe)), curl_url_strerror(uc));
		goto out;
	}
	if (strcasecmp(scheme, "https") == 0)
		*https = 1;
	else if (h->allow_http && strcasecmp(scheme, "http") == 0)
		*https = 0;
	else {
		errf(err, errlen, "URL %s: scheme %s is not allowed (%s)",
		    log_url(url, safe, sizeof(safe)), scheme,
		    h->allow_http ? "http or https only" : "https only");
		goto out;
	}
	curl_free(scheme);
	return u;
out:
	curl_free(scheme);
	curl_url_cleanup(u);
	return NULL;
}

static struct curl_slist *
slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(l, s)) == NULL)
		fatalx("out of memory building request headers");
	return n;
}

/*
 * Copy the request's headers into the transfer's list, with "Expect:" added
 * to a POST that does not set it (no "Expect: 100-continue" round trip for
 * larger bodies).
 */
static void
xfer_headers(struct http_xfer *x, const struct http_request *req)
{
	const char *const *hp;
	int has_expect = 0;

	if (req->headers != NULL)
		for (hp = req->headers; *hp != NULL; hp++) {
			x->headers = slist_add(x->headers, *hp);
			if (strncasecmp(*hp, "Expect:", 7) == 0)
				has_expect = 1;
		}
	if (req->method == HTTP_POST && !has_expect)
		x->headers = slist_add(x->headers, "Expect:");
}

/* Set every option of a new transfer. Returns the first failure. */
static CURLcode
xfer_setup(struct http_xfer *x)
{
	struct http *h = x->h;
	CURL *e = x->easy;
	CURLcode rc = CURLE_OK;
	struct curl_blob ca;
	long total, slow;
	int https = x->https;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = curl_easy_setopt(e, opt, val);                    \
	} while (0)

	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
	SET(CURLOPT_CLOSESOCKETDATA, h);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CURLU, x->u);
	SET(CURLOPT_PROTOCOLS_STR, h->allow_http ? "http,https" : "https");
	/* Never follow a redirect from https down to http. */
	SET(CURLOPT_REDIR_PROTOCOLS_STR,
	    h->allow_http && !https ? "http,https" : "https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, HTTP_MAX_REDIRS);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (h->ca != NULL) {
		/* NOCOPY: the bundle lives as long as the engine. */
		ca.data = h->ca;
		ca.len = h->calen;
		ca.flags = CURL_BLOB_NOCOPY;
		SET(CURLOPT_CAINFO_BLOB, &ca);
	}
	total = x->timeout_ms;
	slow = HTTP_LOW_SPEED_TIME;
	if (h->test_timeout_ms > 0) {
		if (total > h->test_timeout_ms)
			total = h->test_timeout_ms;
		if (slow > (h->test_timeout_ms + 999) / 1000)
			slow = (h->test_timeout_ms + 999) / 1000;
	}
	SET(CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, total);
	SET(CURLOPT_LOW_SPEED_LIMIT, HTTP_LOW_SPEED_LIMIT);
	SET(CURLOPT_LOW_SPEED_TIME, slow);
	if (x->max_body <= (size_t)INT64_MAX)
		SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, HTTP_USER_AGENT);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);

	if (x->post) {
		SET(CURLOPT_POST, 1L);
		/* Our copy, alive until xfer_free(): curl need not copy it. */
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->postlen);
		SET(CURLOPT_POSTFIELDS, x->postbody);
	} else
		SET(CURLOPT_HTTPGET, 1L);
	if (x->headers != NULL)
		SET(CURLOPT_HTTPHEADER, x->headers);
#undef SET
	return rc;
}

struct http_xfer *
http_start(struct http *h, const struct http_request *req, http_done_cb done,
    void *arg, char *err, size_t errlen)
{
	struct http_xfer *x;
	const char *const *hp;
	CURLU *u;
	int https = 1;

	if (h->closing) {
		errf(err, errlen, "http: shutting down");
		return NULL;
	}
	if (req->url == NULL || done == NULL ||
	    (req->method != HTTP_GET && req->method != HTTP_POST) ||
	    (req->body == NULL && req->bodylen > 0)) {
		errf(err, errlen, "http: invalid request");
		return NULL;
	}
	if (req->headers != NULL)
		for (hp = req->headers; *hp != NULL; hp++)
			if (strpbrk(*hp, "\r\n") != NULL ||
			    strchr(*hp, ':') == NULL) {
				errf(err, errlen,
				    "http: malformed request header");
				return NULL;
			}
	if ((u = check_url(h, req->url, &https, err, errlen)) == NULL)
		return NULL;

	x = xcalloc(1, sizeof(*x));
	x->h = h;
	x->post = req->method == HTTP_POST;
	x->done = done;
	x->arg = arg;
	x->fd = req->fd;
	x->max_body = req->max_body > 0 ? req->max_body : HTTP_BODY_MAX;
	buf_init(&x->body, x->max_body);
	x->retry_after = -1;
	/* Copies: the easy handle is made at admission (xfer_prepare()). */
	x->https = https;
	x->u = u;
	x->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : HTTP_TIMEOUT_MS;
	if (x->post) {
		x->postlen = req->body != NULL ? req->bodylen : 0;
		x->postbody = xmalloc(x->postlen + 1);
		if (x->postlen > 0)
			memcpy(x->postbody, req->body, x->postlen);
		x->postbody[x->postlen] = '\0';
	}
	xfer_headers(x, req);
	x->state = XFER_QUEUED;
	TAILQ_INSERT_TAIL(&h->queue, x, entry);
	h->nqueued++;
	schedule_admit(h);
	return x;
}

/*
 * Make the easy handle of a transfer that is being admitted. Returns 0, or
 * -1 with x->msg set (the caller delivers HTTP_E_OTHER).
 */
static int
xfer_prepare(struct http_xfer *x)
{
	CURLcode rc;

	if (x->h->nspare > 0)
		x->easy = x->h->spare[--x->h->nspare];
	else if ((x->easy = curl_easy_init()) == NULL) {
		(void)snprintf(x->msg, sizeof(x->msg),
		    "curl_easy_init failed");
		return -1;
	}
	if ((rc = xfer_setup(x)) != CURLE_OK) {
		(void)snprintf(x->msg, sizeof(x->msg),
		    "curl_easy_setopt: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

static void
xfer_free(struct http_xfer *x)
{
	struct http *h = x->h;

	if (x->easy != NULL && !h->closing && h->nspare < h->max_transfers) {
		/* Out of the multi handle by now: keep it for the next. */
		curl_easy_reset(x->easy);
		h->spare[h->nspare++] = x->easy;
	} else if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_url_cleanup(x->u);
	curl_slist_free_all(x->headers);
	buf_free(&x->body);
	free(x->postbody);
	free(x);
}

/*
 * Take a transfer out of the list its state names, and a running one out of
 * the multi handle too.
 */
static void
xfer_unlink(struct http_xfer *x)
{
	struct http *h = x->h;
	CURLMcode mc;

	switch (x->state) {
	case XFER_QUEUED:
		TAILQ_REMOVE(&h->queue, x, entry);
		h->nqueued--;
		break;
	case XFER_RUNNING:
		if ((mc = curl_multi_remove_handle(h->multi, x->easy)) !=
		    CURLM_OK)
			log_warnx("http: curl_multi_remove_handle: %s",
			    curl_multi_strerror(mc));
		TAILQ_REMOVE(&h->running, x, entry);
		h->nrunning--;
		break;
	case XFER_FINISHED:
		TAILQ_REMOVE(&h->finished, x, entry);
		break;
	case XFER_DONE:
		break;
	}
}

void
http_cancel(struct http_xfer *x)
{
	char safe[HTTP_LOGURL];

	if (x == NULL)
		return;
	/* From inside its own 'done': freed when that returns. */
	if (x->state == XFER_DONE)
		return;
	xfer_unlink(x);
	/* A running one leaves a slot free. */
	schedule_admit(x->h);
	if (log_verbosity() >= LOG_VERBOSE)
		log_debug("http: %s %s: cancelled", x->post ? "POST" : "GET",
		    xfer_url(x, safe, sizeof(safe)));
	xfer_free(x);
}
