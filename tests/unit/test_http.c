/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/http.c, on a real libuv loop against the emulator's
 * raw HTTP behaviours (tests/emulator.py, /_emu/raw/...).
 *
 * The group setup starts `python3 tests/emulator.py --ready-file F --dir D`
 * and waits for F ({"http": port, "https": port, "ca": path, "pid": pid});
 * the group teardown stops it. The emulator also dies with this process
 * (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.
 *
 * Every test runs its own loop and ends with http_free(), uv_run() and
 * uv_loop_close() == 0: no libuv handle may leak. Run from the top of the
 * source tree (make test does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "http.h"
#include "log.h"
#include "util.h"

#define EMULATOR "tests/emulator.py"
#define READY_WAIT_MS 15000
#define HOST "127.0.0.1"

static struct {
	pid_t pid;	/* our child */
	pid_t emu_pid;	/* as the ready file says */
	int http_port;
	int https_port;
	char ca[1024];
	char dir[64];	/* scratch folder, removed at the end */
} emu = {-1, -1, 0, 0, "", ""};

/* What one 'done' call reported. */
struct got {
	int ncalls;
	enum http_result result;
	long status;
	int body_null;
	char *body;
	size_t len;
	unsigned char head[HTTP_HEAD]; /* http_response.head */
	long retry_after;
	char error[512];
	uint64_t t_done; /* uv_hrtime() */
	struct http *h;	 /* for callbacks that act on the engine */
	int running;	 /* http_running() seen inside 'done' */
	int free_in_done;
};

static double
secs_since(uint64_t t0)
{
	return (double)(uv_hrtime() - t0) / 1e9;
}

/* ---- The emulator ---------------------------------------------------- */

/* The number after "key": in a flat JSON object, or -1. */
static long
json_num(const char *js, const char *key)
{
	char pat[64];
	const char *p;

	(void)snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((p = strstr(js, pat)) == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p++ != ':')
		return -1;
	return strtol(p, NULL, 10);
}

/* The string after "key": (no escapes expected), copied to out. */
static int
json_str(const char *js, const char *key, char *out, size_t outlen)
{
	char pat[64];
	const char *p, *q;

	(void)snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((p = strstr(js, pat)) == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p++ != '"' || (q = strchr(p, '"')) == NULL ||
	    (size_t)(q - p) >= outlen)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

static char *
slurp(const char *path, size_t *lenp)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(&b, chunk, (size_t)n) == -1)
			break;
	close(fd);
	return buf_take(&b, lenp);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
emu_stop(void)
{
	int i, status;

	if (emu.emu_pid > 0 && emu.emu_pid != emu.pid)
		(void)kill(emu.emu_pid, SIGTERM);
	if (emu.pid <= 0)
		return;
	(void)kill(emu.pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(emu.pid, &status, WNOHANG) != 0)
			goto out;
		sleep_ms(50);
	}
	(void)kill(emu.pid, SIGKILL);
	(void)waitpid(emu.pid, &status, 0);
out:
	emu.pid = emu.emu_pid = -1;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
emu_log_dump(void)
{
	char path[128], *log;

	(void)snprintf(path, sizeof(path), "%s/emulator.log", emu.dir);
	if ((log = slurp(path, NULL)) != NULL) {
		fprintf(stderr, "--- emulator log ---\n%s\n---\n", log);
		free(log);
	}
}

static int
group_setup(void **state)
{
	char ready[128], emudir[128], logpath[128], *js;
	pid_t parent = getpid();
	uint64_t t0;
	int fd, status;

	(void)state;
	if (access(EMULATOR, R_OK) == -1) {
		fprintf(stderr, "%s: %s (run from the source tree)\n",
		    EMULATOR, strerror(errno));
		return -1;
	}
	(void)snprintf(emu.dir, sizeof(emu.dir), "/tmp/test_http.XXXXXX");
	if (mkdtemp(emu.dir) == NULL)
		return -1;
	(void)snprintf(ready, sizeof(ready), "%s/ready.json", emu.dir);
	(void)snprintf(emudir, sizeof(emudir), "%s/emu", emu.dir);
	(void)snprintf(logpath, sizeof(logpath), "%s/emulator.log", emu.dir);
	if (mkdir(emudir, 0700) == -1)
		return -1;

	if ((emu.pid = fork()) == -1)
		return -1;
	if (emu.pid == 0) {
		/* Die with the test, even if it crashes. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
		    -1) {
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execlp("python3", "python3", EMULATOR, "--ready-file", ready,
		    "--dir", emudir, (char *)NULL);
		_exit(127);
	}

	t0 = uv_hrtime();
	while (secs_since(t0) * 1000 < READY_WAIT_MS) {
		if (waitpid(emu.pid, &status, WNOHANG) == emu.pid) {
			fprintf(stderr, "emulator exited early (status %d)\n",
			    status);
			emu.pid = -1;
			emu_log_dump();
			return -1;
		}
		if ((js = slurp(ready, NULL)) != NULL) {
			emu.http_port = (int)json_num(js, "http");
			emu.https_port = (int)json_num(js, "https");
			emu.emu_pid = (pid_t)json_num(js, "pid");
			if (json_str(js, "ca", emu.ca, sizeof(emu.ca)) == -1)
				emu.ca[0] = '\0';
			free(js);
			if (emu.http_port > 0 && emu.https_port > 0 &&
			    emu.ca[0] != '\0')
				return 0;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "emulator not ready after %d ms\n", READY_WAIT_MS);
	emu_log_dump();
	emu_stop();
	return -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	emu_stop();
	if (emu.dir[0] != '\0')
		(void)nftw(emu.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- Helpers ----------------------------------------------------------- */

static void
url(char *out, size_t outlen, int https, const char *path)
{
	(void)snprintf(out, outlen, "%s://" HOST ":%d%s",
	    https ? "https" : "http", https ? emu.https_port : emu.http_port,
	    path);
}

static struct http_opts
opts(int allow_http, int with_ca, int max)
{
	struct http_opts o;

	memset(&o, 0, sizeof(o));
	o.allow_http = allow_http;
	o.ca_file = with_ca ? emu.ca : NULL;
	o.max_transfers = max;
	return o;
}

static struct http_request
get(const char *u)
{
	struct http_request r;

	memset(&r, 0, sizeof(r));
	r.method = HTTP_GET;
	r.url = u;
	r.fd = -1;
	return r;
}

static void
on_done(const struct http_response *r, void *arg)
{
	struct got *g = arg;

	g->ncalls++;
	g->result = r->result;
	g->status = r->status;
	g->body_null = r->body == NULL;
	free(g->body);
	g->body = NULL;
	if (r->body != NULL) {
		assert_int_equal(r->body[r->len], '\0');
		g->body = xstrndup(r->body, r->len);
	}
	g->len = r->len;
	assert_non_null(r->head);
	memcpy(g->head, r->head, r->len < HTTP_HEAD ? r->len : HTTP_HEAD);
	if (r->body != NULL)
		assert_memory_equal(r->head, r->body,
		    r->len < HTTP_HEAD ? r->len : HTTP_HEAD);
	g->retry_after = r->retry_after;
	assert_non_null(r->error);
	if (r->result == HTTP_OK)
		assert_string_equal(r->error, "");
	else
		assert_true(r->error[0] != '\0');
	(void)snprintf(g->error, sizeof(g->error), "%s", r->error);
	g->t_done = uv_hrtime();
	if (g->h != NULL)
		g->running = http_running(g->h);
	if (g->free_in_done)
		http_free(g->h);
}

/* The emulator's byte pattern: byte i is i mod 256. */
static void
assert_pattern(const char *data, size_t len)
{
	size_t i;

	assert_non_null(data);
	for (i = 0; i < len; i++)
		if ((unsigned char)data[i] != (unsigned char)(i % 256))
			fail_msg("byte %zu is %u, want %u", i,
			    (unsigned char)data[i], (unsigned)(i % 256));
}

static void
got_free(struct got *g)
{
	free(g->body);
	memset(g, 0, sizeof(*g));
}

static void
count_active(uv_handle_t *hd, void *arg)
{
	if (uv_is_active(hd))
		(*(int *)arg)++;
}

/* Active (not merely open) handles on the loop. */
static int
active_handles(uv_loop_t *loop)
{
	int n = 0;

	uv_walk(loop, count_active, &n);
	return n;
}

/* http_free(), run the close callbacks, and prove nothing leaked. */
static void
finish(uv_loop_t *loop, struct http *h)
{
	http_free(h);
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

/*
 * One transfer on a fresh loop and engine, run to the end. Also checks
 * that 'done' is not called from http_start() and that an idle engine
 * leaves no active handle behind.
 */
static void
fetch(const struct http_opts *o, const struct http_request *rq, struct got *g)
{
	uv_loop_t loop;
	struct http *h;
	char err[ERRLEN];

	assert_int_equal(uv_loop_init(&loop), 0);
	h = http_new(&loop, o, err, sizeof(err));
	if (h == NULL)
		fail_msg("http_new: %s", err);
	if (http_start(h, rq, on_done, g, err, sizeof(err)) == NULL)
		fail_msg("http_start: %s", err);
	assert_int_equal(g->ncalls, 0);
	assert_int_equal(http_pending(h), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(g->ncalls, 1);
	assert_int_equal(http_pending(h), 0);
	assert_int_equal(active_handles(&loop), 0);
	finish(&loop, h);
}

static void
fetch_url(int allow_http, int with_ca, const char *u, size_t max_body,
    struct got *g)
{
	struct http_opts o = opts(allow_http, with_ca, 4);
	struct http_request rq = get(u);

	rq.max_body = max_body;
	fetch(&o, &rq, g);
}

/* ---- Tests ------------------------------------------------------------- */

static void
test_get_http(void **state)
{
	struct got g = {0};
	char u[256];

	(void)state;
	url(u, sizeof(u), 0, "/_emu/raw/hello");
	fetch_url(1, 0, u, 0, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.len, 5);
	assert_string_equal(g.body, "hello");
	assert_int_equal(g.retry_after, -1);
	got_free(&g);
}

static void
test_get_https(void **state)
{
	struct got g = {0};
	char u[256];

	(void)state;
	url(u, sizeof(u), 1, "/_emu/raw/hello");
	fetch_url(0, 1, u, 0, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.len, 5);
	assert_string_equal(g.body, "hello");
	got_free(&g);
}

/* Open file descriptors of this process. */
static int
count_fds(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	assert_non_null(dir = opendir("/proc/self/fd"));
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/*
 * Several requests on one engine, one after the other: all succeed, the
 * engine is idle in between (no active handle), the kept-alive connection
 * is reused (the number of open fds does not grow), and http_free() closes
 * it (valgrind 3.19 does not report leaked fds, so count them).
 */
static void
test_sequential_reuse(void **state)
{
	struct http_opts o = opts(0, 1, 1);
	struct http_request rq;
	struct got g[4];
	uv_loop_t loop;
	struct http *h;
	char u[256], err[ERRLEN];
	int fds_base, fds0, fds1 = -1;
	size_t i;

	(void)state;
	memset(g, 0, sizeof(g));
	url(u, sizeof(u), 1, "/_emu/raw/hello");
	rq = get(u);
	fds_base = count_fds();
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_non_null(h = http_new(&loop, &o, err, sizeof(err)));
	fds0 = count_fds();
	for (i = 0; i < nitems(g); i++) {
		assert_non_null(http_start(h, &rq, on_done, &g[i], err,
		    sizeof(err)));
		assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
		assert_int_equal(g[i].ncalls, 1);
		assert_int_equal(g[i].result, HTTP_OK);
		assert_int_equal(g[i].status, 200);
		assert_string_equal(g[i].body, "hello");
		/* Idle between requests: no timer or poll left active. */
		assert_int_equal(active_handles(&loop), 0);
		if (i == 0)
			fds1 = count_fds();
		else
			assert_int_equal(count_fds(), fds1);
	}
	assert_int_equal(fds1, fds0 + 1); /* the one kept-alive connection */
	finish(&loop, h);
	assert_int_equal(count_fds(), fds_base);
	for (i = 0; i < nitems(g); i++)
		got_free(&g[i]);
}

static void
test_https_to_http_port(void **state)
{
	struct http_opts o = opts(0, 1, 1);
	struct http_request rq;
	struct got g = {0};
	char u[256];

	(void)state;
	(void)snprintf(u, sizeof(u), "https://" HOST ":%d/_emu/raw/hello",
	    emu.http_port);
	rq = get(u);
	o.connect_timeout_ms = 2000;
	rq.timeout_ms = 3000;
	fetch(&o, &rq, &g);
	assert_true(g.result == HTTP_E_TLS || g.result == HTTP_E_TIMEOUT);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.len, 0);
	got_free(&g);
}

static void
test_untrusted_cert(void **state)
{
	struct got g = {0};
	char u[256];

	(void)state;
	url(u, sizeof(u), 1, "/_emu/raw/hello");
	fetch_url(0, 0, u, 0, &g);
	assert_int_equal(g.result, HTTP_E_TLS);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.len, 0);
	got_free(&g);
}

static void
test_refused_at_start(void **state)
{
	struct http_opts o = opts(0, 1, 1);
	struct http_request rq;
	struct got g = {0};
	static const char *const bad_hdr[] = {"X-A: 1\r\nX-B: 2", NULL};
	uv_loop_t loop;
	struct http *h;
	char u[256], err[ERRLEN];

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_non_null(h = http_new(&loop, &o, err, sizeof(err)));

	url(u, sizeof(u), 0, "/_emu/raw/hello?token=SECRET");
	rq = get(u);
	err[0] = '\0';
	assert_null(http_start(h, &rq, on_done, &g, err, sizeof(err)));
	assert_non_null(strstr(err, "https only"));
	assert_null(strstr(err, "SECRET"));

	rq = get("ftp://" HOST "/x");
	assert_null(http_start(h, &rq, on_done, &g, err, sizeof(err)));
	rq = get("file:///etc/passwd");
	assert_null(http_start(h, &rq, on_done, &g, err, sizeof(err)));
	rq = get("not a url");
	assert_null(http_start(h, &rq, on_done, &g, err, sizeof(err)));

	url(u, sizeof(u), 1, "/_emu/raw/hello");
	rq = get(u);
	rq.headers = bad_hdr;
	assert_null(http_start(h, &rq, on_done, &g, err, sizeof(err)));

	assert_int_equal(http_pending(h), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(g.ncalls, 0);
	finish(&loop, h);
}

static void
test_new_errors(void **state)
{
	struct http_opts o = opts(0, 0, 0);
	char path[128], err[ERRLEN];
	uv_loop_t loop;
	int fd;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_null(http_new(&loop, &o, err, sizeof(err)));
	o.max_transfers = 1;
	o.ca_file = "/nonexistent/ca.pem";
	err[0] = '\0';
	assert_null(http_new(&loop, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	(void)snprintf(path, sizeof(path), "%s/notpem", emu.dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, "junk\n", 5), 5);
	close(fd);
	o.ca_file = path;
	assert_null(http_new(&loop, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "no PEM"));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_redirects(void **state)
{
	struct got g = {0};
	char target[256], *esc, path[512], u[768];
	int allow;

	(void)state;
	/* https -> http: refused, even when plain http is allowed. */
	url(target, sizeof(target), 0, "/_emu/raw/hello");
	esc = url_escape(target);
	(void)snprintf(path, sizeof(path), "/_emu/raw/redirect?to=%s", esc);
	free(esc);
	url(u, sizeof(u), 1, path);
	for (allow = 0; allow <= 1; allow++) {
		fetch_url(allow, 1, u, 0, &g);
		assert_int_equal(g.result, HTTP_E_PROTOCOL);
		assert_int_equal(g.status, 302);
		assert_null(strstr(g.error, "?"));
		got_free(&g);
	}

	/* https -> https is followed. */
	url(target, sizeof(target), 1, "/_emu/raw/hello");
	esc = url_escape(target);
	(void)snprintf(path, sizeof(path), "/_emu/raw/redirect?to=%s", esc);
	free(esc);
	url(u, sizeof(u), 1, path);
	fetch_url(0, 1, u, 0, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "hello");
	got_free(&g);
}

static void
test_size_cap(void **state)
{
	static const char *const kinds[] = {"bytes", "chunked"};
	struct got g = {0};
	char path[128], u[256];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(kinds); i++) {
		/* One byte over the cap. */
		(void)snprintf(path, sizeof(path), "/_emu/raw/%s?n=1001",
		    kinds[i]);
		url(u, sizeof(u), 0, path);
		fetch_url(1, 0, u, 1000, &g);
		assert_int_equal(g.result, HTTP_E_TOO_LARGE);
		assert_int_equal(g.status, 200);
		assert_true(g.len <= 1000);
		assert_non_null(strstr(g.error, "1000"));
		got_free(&g);

		/* Far over it, over https. */
		(void)snprintf(path, sizeof(path), "/_emu/raw/%s?n=300000",
		    kinds[i]);
		url(u, sizeof(u), 1, path);
		fetch_url(0, 1, u, 100000, &g);
		assert_int_equal(g.result, HTTP_E_TOO_LARGE);
		assert_true(g.len <= 100000);
		got_free(&g);

		/* Exactly at the cap. */
		(void)snprintf(path, sizeof(path), "/_emu/raw/%s?n=1000",
		    kinds[i]);
		url(u, sizeof(u), 0, path);
		fetch_url(1, 0, u, 1000, &g);
		assert_int_equal(g.result, HTTP_OK);
		assert_int_equal(g.status, 200);
		assert_int_equal(g.len, 1000);
		assert_pattern(g.body, g.len);
		got_free(&g);
	}
}

static void
test_truncated_and_drop(void **state)
{
	struct got g = {0};
	char u[256];

	(void)state;
	url(u, sizeof(u), 0, "/_emu/raw/length?claim=1000&send=500");
	fetch_url(1, 0, u, 0, &g);
	assert_int_equal(g.result, HTTP_E_RECV);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.len, 500);
	assert_pattern(g.body, g.len);
	got_free(&g);

	url(u, sizeof(u), 0, "/_emu/raw/drop");
	fetch_url(1, 0, u, 0, &g);
	assert_int_equal(g.result, HTTP_E_RECV);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.len, 0);
	got_free(&g);
}

static void
test_connect_refused(void **state)
{
	struct got g = {0};

	(void)state;
	fetch_url(1, 0, "http://" HOST ":1/", 0, &g);
	assert_int_equal(g.result, HTTP_E_CONNECT);
	assert_int_equal(g.status, 0);
	got_free(&g);
}

static void
test_hang_timeout(void **state)
{
	struct http_opts o = opts(1, 0, 1);
	struct http_request rq;
	struct got g = {0};
	uint64_t t0;
	double dt;
	char u[256];

	(void)state;
	url(u, sizeof(u), 0, "/_emu/raw/hang");
	rq = get(u);
	rq.timeout_ms = 1000;
	t0 = uv_hrtime();
	fetch(&o, &rq, &g);
	dt = secs_since(t0);
	assert_int_equal(g.result, HTTP_E_TIMEOUT);
	assert_int_equal(g.len, 0);
	assert_true(dt >= 0.9 && dt < 2.5);
	got_free(&g);
}

static void
status_case(const char *code, const char *retry_after, long want_status,
    long lo, long hi)
{
	struct got g = {0};
	char path[256], u[512], *esc;

	if (retry_after != NULL) {
		esc = url_escape(retry_after);
		(void)snprintf(path, sizeof(path),
		    "/_emu/raw/status?code=%s&retry_after=%s", code, esc);
		free(esc);
	} else
		(void)snprintf(path, sizeof(path), "/_emu/raw/status?code=%s",
		    code);
	url(u, sizeof(u), 0, path);
	fetch_url(1, 0, u, 0, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, want_status);
	if (g.retry_after < lo || g.retry_after > hi)
		fail_msg("Retry-After %s: got %ld, want [%ld, %ld]",
		    retry_after ? retry_after : "(none)", g.retry_after, lo,
		    hi);
	got_free(&g);
}

static void
http_date(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	(void)strftime(out, outlen, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
test_retry_after(void **state)
{
	char date[64];

	(void)state;
	status_case("429", "7", 429, 7, 7);
	status_case("503", "0", 503, 0, 0);
	status_case("429", "99999", 429, 3600, 3600);
	status_case("429", "99999999999999999999999", 429, 3600, 3600);
	http_date(time(NULL) + 120, date, sizeof(date));
	status_case("503", date, 503, 115, 120);
	http_date(time(NULL) + 86400, date, sizeof(date));
	status_case("503", date, 503, 3600, 3600);
	http_date(time(NULL) - 3600, date, sizeof(date));
	status_case("503", date, 503, 0, 0);
	status_case("429", "soon", 429, -1, -1);
	status_case("429", "-5", 429, -1, -1);
	status_case("429", "", 429, -1, -1);
	status_case("429", NULL, 429, -1, -1);
	status_case("200", NULL, 200, -1, -1);
}

static void
test_post_echo(void **state)
{
	static const char *const hdrs[] = {
		"Content-Type: application/json",
		"X-Test-Header: tm-value-1",
		NULL,
	};
	static const char body[] = "{\"cursor\":123,\"max_count\":20}";
	struct http_opts o = opts(0, 1, 1);
	struct http_request rq;
	struct got g = {0};
	char u[256], *copy;

	(void)state;
	url(u, sizeof(u), 1, "/_emu/raw/echo");
	rq = get(u);
	rq.method = HTTP_POST;
	rq.headers = hdrs;
	/* The request is copied: overwrite our copy once started. */
	copy = xstrdup(body);
	rq.body = copy;
	rq.bodylen = strlen(copy);
	{
		uv_loop_t loop;
		struct http *h;
		char err[ERRLEN];

		assert_int_equal(uv_loop_init(&loop), 0);
		assert_non_null(h = http_new(&loop, &o, err, sizeof(err)));
		assert_non_null(http_start(h, &rq, on_done, &g, err,
		    sizeof(err)));
		memset(copy, 'x', strlen(copy));
		assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
		finish(&loop, h);
	}
	free(copy);
	assert_int_equal(g.ncalls, 1);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 200);
	assert_non_null(strstr(g.body, "POST"));
	assert_non_null(strstr(g.body, "X-Test-Header"));
	assert_non_null(strstr(g.body, "tm-value-1"));
	assert_non_null(strstr(g.body, "application/json"));
	assert_non_null(strstr(g.body, "tiktok-mirror/"));
	/* The body, possibly JSON-escaped: look for its escaped form. */
	assert_true(strstr(g.body, body) != NULL ||
	    strstr(g.body, "{\\\"cursor\\\":123,\\\"max_count\\\":20}") !=
		NULL);
	got_free(&g);
}

static void
test_fd_mode(void **state)
{
	struct http_opts o = opts(1, 0, 1);
	struct http_request rq;
	struct got mem = {0}, g = {0};
	char path[128], u[256], *data;
	size_t len;
	int fd;

	(void)state;
	url(u, sizeof(u), 0, "/_emu/raw/bytes?n=200000");
	fetch_url(1, 0, u, 0, &mem);
	assert_int_equal(mem.result, HTTP_OK);
	assert_int_equal(mem.len, 200000);
	assert_pattern(mem.body, mem.len);

	(void)snprintf(path, sizeof(path), "%s/body.XXXXXX", emu.dir);
	assert_true((fd = mkstemp(path)) >= 0);
	rq = get(u);
	rq.fd = fd;
	fetch(&o, &rq, &g);
	close(fd);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 200);
	assert_true(g.body_null);
	assert_int_equal(g.len, 200000);
	/* The first bytes come along, for checking the file's type. */
	assert_pattern((const char *)g.head, HTTP_HEAD);
	assert_non_null(data = slurp(path, &len));
	assert_int_equal(len, 200000);
	assert_pattern(data, len);
	free(data);
	got_free(&g);
	got_free(&mem);

	/* Over the cap, chunked, into the file. */
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	url(u, sizeof(u), 0, "/_emu/raw/chunked?n=300000");
	rq = get(u);
	rq.fd = fd;
	rq.max_body = 100000;
	fetch(&o, &rq, &g);
	close(fd);
	assert_int_equal(g.result, HTTP_E_TOO_LARGE);
	assert_true(g.len <= 100000);
	got_free(&g);

	/* A full disk. */
	assert_true((fd = open("/dev/full", O_WRONLY)) >= 0);
	url(u, sizeof(u), 0, "/_emu/raw/bytes?n=1000");
	rq = get(u);
	rq.fd = fd;
	fetch(&o, &rq, &g);
	close(fd);
	assert_int_equal(g.result, HTTP_E_WRITE);
	assert_int_equal(g.len, 0);
	assert_non_null(strstr(g.error, strerror(ENOSPC)));
	got_free(&g);
}

/* ---- Concurrency, cancel, shutdown -------------------------------------- */

#define NCONC 10

struct sampler {
	uv_prepare_t prep;
	struct http *h;
	int max_running;
	int max_pending;
};

static void
on_prepare(uv_prepare_t *p)
{
	struct sampler *s = container_of(p, struct sampler, prep);
	int r = http_running(s->h), n = http_pending(s->h);

	if (r > s->max_running)
		s->max_running = r;
	if (n > s->max_pending)
		s->max_pending = n;
	if (n == 0)
		uv_close((uv_handle_t *)p, NULL);
}

static void
test_concurrency(void **state)
{
	struct http_opts o = opts(1, 0, 2);
	struct http_request rq;
	struct got g[NCONC];
	struct sampler s;
	uv_loop_t loop;
	uint64_t t0;
	double dt;
	char u[256], err[ERRLEN];
	int i;

	(void)state;
	memset(g, 0, sizeof(g));
	memset(&s, 0, sizeof(s));
	url(u, sizeof(u), 0, "/_emu/raw/drip?n=8&rate=20");
	rq = get(u);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_non_null(s.h = http_new(&loop, &o, err, sizeof(err)));
	assert_int_equal(uv_prepare_init(&loop, &s.prep), 0);
	assert_int_equal(uv_prepare_start(&s.prep, on_prepare), 0);
	t0 = uv_hrtime();
	for (i = 0; i < NCONC; i++) {
		g[i].h = s.h;
		assert_non_null(http_start(s.h, &rq, on_done, &g[i], err,
		    sizeof(err)));
	}
	assert_int_equal(http_pending(s.h), NCONC);
	assert_int_equal(http_running(s.h), 0); /* admitted from the loop */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	dt = secs_since(t0);
	for (i = 0; i < NCONC; i++) {
		assert_int_equal(g[i].ncalls, 1);
		assert_int_equal(g[i].result, HTTP_OK);
		assert_int_equal(g[i].status, 200);
		assert_int_equal(g[i].len, 8);
		assert_true(g[i].running <= 2);
	}
	assert_int_equal(s.max_running, 2);
	assert_int_equal(s.max_pending, NCONC);
	/* Five waves of a drip that takes 0.3 s (4 writes, 0.1 s apart). */
	if (dt < 1.2)
		fail_msg("10 transfers at 2 at a time took only %.2f s", dt);
	/* FIFO: the first two finish before the last two. */
	assert_true(g[0].t_done < g[NCONC - 1].t_done);
	assert_true(g[1].t_done < g[NCONC - 2].t_done);
	finish(&loop, s.h);
	for (i = 0; i < NCONC; i++)
		got_free(&g[i]);
}

struct canceller {
	uv_timer_t timer;
	struct http *h;
	struct http_xfer *victim;
	int running_seen;
	int pending_seen;
	int free_engine;
};

static void
on_cancel_timer(uv_timer_t *t)
{
	struct canceller *c = container_of(t, struct canceller, timer);

	c->running_seen = http_running(c->h);
	c->pending_seen = http_pending(c->h);
	if (c->free_engine)
		http_free(c->h);
	else
		http_cancel(c->victim);
	uv_close((uv_handle_t *)t, NULL);
}

static void
test_cancel(void **state)
{
	struct http_opts o = opts(1, 0, 1);
	struct http_request hang, hello;
	struct got a = {0}, b = {0}, c = {0};
	struct canceller k;
	struct http_xfer *xb;
	uv_loop_t loop;
	uint64_t t0;
	char u1[256], u2[256], err[ERRLEN];

	(void)state;
	memset(&k, 0, sizeof(k));
	url(u1, sizeof(u1), 0, "/_emu/raw/hang");
	url(u2, sizeof(u2), 0, "/_emu/raw/hello");
	hang = get(u1);
	hang.timeout_ms = 10000;
	hello = get(u2);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_non_null(k.h = http_new(&loop, &o, err, sizeof(err)));
	t0 = uv_hrtime();
	assert_non_null(k.victim = http_start(k.h, &hang, on_done, &a, err,
	    sizeof(err)));
	assert_non_null(xb = http_start(k.h, &hello, on_done, &b, err,
	    sizeof(err)));
	assert_non_null(http_start(k.h, &hello, on_done, &c, err,
	    sizeof(err)));
	/* B is queued behind A: cancel it before it ever runs. */
	http_cancel(xb);
	assert_int_equal(http_pending(k.h), 2);
	/* Cancel A while it runs; C then takes its place. */
	assert_int_equal(uv_timer_init(&loop, &k.timer), 0);
	assert_int_equal(uv_timer_start(&k.timer, on_cancel_timer, 300, 0),
	    0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(k.running_seen, 1);
	assert_int_equal(k.pending_seen, 2);
	assert_int_equal(a.ncalls, 0);
	assert_int_equal(b.ncalls, 0);
	assert_int_equal(c.ncalls, 1);
	assert_int_equal(c.result, HTTP_OK);
	assert_string_equal(c.body, "hello");
	assert_true(secs_since(t0) < 3.0);
	assert_int_equal(http_pending(k.h), 0);
	finish(&loop, k.h);
	got_free(&c);
}

static void
test_free_in_flight(void **state)
{
	struct http_opts o = opts(1, 1, 2);
	struct http_request hang, hello;
	struct got g[5];
	struct canceller k;
	uv_loop_t loop;
	uint64_t t0;
	char u1[256], u2[256], err[ERRLEN];
	size_t i;

	(void)state;
	memset(g, 0, sizeof(g));
	memset(&k, 0, sizeof(k));
	k.free_engine = 1;
	url(u1, sizeof(u1), 0, "/_emu/raw/hang");
	url(u2, sizeof(u2), 1, "/_emu/raw/hang");
	hang = get(u1);
	hello = get(u2); /* https too, so a TLS connection is torn down */
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_non_null(k.h = http_new(&loop, &o, err, sizeof(err)));
	t0 = uv_hrtime();
	for (i = 0; i < nitems(g); i++)
		assert_non_null(http_start(k.h, i % 2 ? &hello : &hang,
		    on_done, &g[i], err, sizeof(err)));
	assert_int_equal(uv_timer_init(&loop, &k.timer), 0);
	assert_int_equal(uv_timer_start(&k.timer, on_cancel_timer, 300, 0),
	    0);
	/* http_free() runs from the timer; then the loop must drain. */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(k.running_seen, 2);
	assert_int_equal(k.pending_seen, 5);
	for (i = 0; i < nitems(g); i++)
		assert_int_equal(g[i].ncalls, 0);
	assert_true(secs_since(t0) < 3.0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_free_from_done(void **state)
{
	struct http_opts o = opts(1, 0, 1);
	struct http_request rq;
	struct got a = {0}, b = {0};
	uv_loop_t loop;
	struct http *h;
	char u[256], err[ERRLEN];

	(void)state;
	url(u, sizeof(u), 0, "/_emu/raw/hello");
	rq = get(u);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_non_null(h = http_new(&loop, &o, err, sizeof(err)));
	a.h = h;
	a.free_in_done = 1;
	assert_non_null(http_start(h, &rq, on_done, &a, err, sizeof(err)));
	assert_non_null(http_start(h, &rq, on_done, &b, err, sizeof(err)));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(a.ncalls, 1);
	assert_int_equal(a.result, HTTP_OK);
	assert_int_equal(b.ncalls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	got_free(&a);
}

/* Debug logs name the URL without its query, and never a header. */
static void
test_logs_without_secrets(void **state)
{
	static const char *const hdrs[] = {
		"Authorization: Bearer act.CANARY-HEADER", NULL};
	struct http_opts o = opts(1, 1, 2);
	struct http_request rq;
	struct got g = {0};
	char logpath[128], u[512], target[256], path[384], *esc, *log;
	int fd, saved;

	(void)state;
	(void)snprintf(logpath, sizeof(logpath), "%s/log.txt", emu.dir);
	assert_true((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC,
			 0600)) >= 0);
	assert_true((saved = dup(STDERR_FILENO)) >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	log_init(LOG_VERBOSE);

	url(u, sizeof(u), 0,
	    "/_emu/raw/status?code=429&retry_after=1&access_token=CANARY-Q1");
	rq = get(u);
	rq.headers = hdrs;
	fetch(&o, &rq, &g);
	got_free(&g);

	url(target, sizeof(target), 0, "/_emu/raw/hello?sig=CANARY-Q2");
	esc = url_escape(target);
	(void)snprintf(path, sizeof(path),
	    "/_emu/raw/redirect?token=CANARY-Q3&to=%s", esc);
	free(esc);
	url(u, sizeof(u), 1, path);
	rq = get(u);
	fetch(&o, &rq, &g);
	assert_int_equal(g.result, HTTP_E_PROTOCOL);
	assert_null(strstr(g.error, "CANARY"));
	got_free(&g);

	log_init(LOG_NORMAL);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_non_null(log = slurp(logpath, NULL));
	assert_non_null(strstr(log, "http: GET http://"));
	assert_non_null(strstr(log, "/_emu/raw/status"));
	if (strstr(log, "CANARY") != NULL)
		fail_msg("secret in the log:\n%s", log);
	assert_null(strstr(log, "Authorization"));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_http),
		cmocka_unit_test(test_get_https),
		cmocka_unit_test(test_sequential_reuse),
		cmocka_unit_test(test_https_to_http_port),
		cmocka_unit_test(test_untrusted_cert),
		cmocka_unit_test(test_refused_at_start),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_truncated_and_drop),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_hang_timeout),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_post_echo),
		cmocka_unit_test(test_fd_mode),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_in_flight),
		cmocka_unit_test(test_free_from_done),
		cmocka_unit_test(test_logs_without_secrets),
	};
	int rc;

	/* A hung loop must not hang the suite. */
	alarm(120);
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	return rc;
}
