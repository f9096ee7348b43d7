/* SPDX-License-Identifier: ISC */
/*
 * HTTP on one libcurl multi handle driven by a libuv loop (curl's multi-uv
 * design with its known gaps closed). Every transfer is bounded in time
 * (connect, total, and a low-speed floor) and in size (the cap is enforced
 * in the write callback, because libcurl 7.88 does not stop a chunked body
 * at CURLOPT_MAXFILESIZE). Only https is allowed, for requests and
 * redirects alike, unless the http is created with allow_http (tests point
 * api_url at a plain-http emulator). TLS verification is always on.
 *
 * At most 'max_transfers' transfers run at once; further ones wait in a
 * FIFO inside this module, and their time limits start only when they run.
 *
 * Nothing outside lib/http.c includes <curl/curl.h>.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include <uv.h>

#define HTTP_BODY_MAX (4 * 1024 * 1024) /* default size cap */
#define HTTP_HEAD 16			/* body bytes kept in http_response.head */

struct http;
struct http_xfer;

struct http_opts {
	const char *ca_file;	   /* extra CA bundle (added to the system's), or NULL */
	int allow_http;		   /* also allow plain http (api_url is http) */
	int max_transfers;	   /* concurrent transfers, >= 1 */
	long connect_timeout_ms;   /* 0: 10 s */
	/*
	 * Tests only (0: off): cap every transfer's connect and total
	 * timeouts and its low-speed window at this many ms, so a test
	 * watches a hung server and the retries in seconds.
	 */
	long test_timeout_ms;
};

enum http_method { HTTP_GET, HTTP_POST };

struct http_request {
	enum http_method method;
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value", copied */
	const char *body;	    /* POST body, copied; may be NULL */
	size_t bodylen;
	size_t max_body;  /* size cap in bytes; 0: HTTP_BODY_MAX */
	long timeout_ms;  /* total, from when the transfer starts; 0: 60 s */
	int fd;		  /* -1: body in memory; >= 0: written to this
			     blocking fd instead (0 is an fd: set -1) */
};

enum http_result {
	HTTP_OK = 0,	   /* a complete response arrived (any status) */
	HTTP_E_TIMEOUT,	   /* connect, total or low-speed timeout */
	HTTP_E_CONNECT,	   /* refused, unreachable, DNS */
	HTTP_E_TLS,	   /* certificate or handshake failure */
	HTTP_E_TOO_LARGE,  /* body over the cap */
	HTTP_E_PROTOCOL,   /* refused scheme or redirect (e.g. https->http) */
	HTTP_E_RECV,	   /* connection dropped, truncated body */
	HTTP_E_WRITE,	   /* writing to 'fd' failed (disk full) */
	HTTP_E_OTHER,
};

struct http_response {
	enum http_result result;
	long status;		/* HTTP status, 0 when none arrived */
	const char *body;	/* NUL-terminated; NULL when written to fd */
	size_t len;		/* bytes of body received (memory or fd) */
	const unsigned char *head; /* its first min(len, HTTP_HEAD) bytes */
	long retry_after;	/* Retry-After in seconds clamped to [0, 3600], or -1 */
	const char *error;	/* human text for result != HTTP_OK, else "" */
};

/*
 * 'done' is called exactly once per transfer that was not cancelled, from
 * the loop, never from inside http_start(). The response and its body are
 * valid only during the call.
 */
typedef void (*http_done_cb)(const struct http_response *, void *arg);

/*
 * Create the process's HTTP engine on 'loop'. Returns NULL with 'err'
 * (max_transfers < 1, an unreadable ca_file or one without a PEM
 * certificate). Each engine holds one curl_global_init() reference, dropped
 * when http_free()'s close callbacks have run; libcurl counts them, so the
 * program needs no curl_global_cleanup() of its own.
 */
struct http *http_new(uv_loop_t *loop, const struct http_opts *, char *err,
    size_t errlen);

/*
 * Cancel every transfer (their callbacks are not called), clean up the
 * multi handle and close the libuv handles. The memory is released from
 * close callbacks: run the loop afterwards until it has no more handles.
 * NULL-safe.
 */
void http_free(struct http *);

/*
 * Queue a transfer. Everything in 'req' is copied. Returns a handle valid
 * until 'done' runs or http_cancel() is called, or NULL with 'err' (e.g. a
 * URL whose scheme is not allowed).
 */
struct http_xfer *http_start(struct http *, const struct http_request *req,
    http_done_cb done, void *arg, char *err, size_t errlen);

/* Stop a transfer; its 'done' is never called. */
void http_cancel(struct http_xfer *);

/* Number of transfers running or queued. */
int http_pending(const struct http *);

/* Number of transfers running (at most max_transfers). */
int http_running(const struct http *);

#endif
