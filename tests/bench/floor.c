/* SPDX-License-Identifier: ISC */
/*
 * The benchmark's floor: replay a list of HTTP requests with a fixed
 * number of parallel transfers on one libcurl multi handle, and keep
 * nothing. The bench (tests/bench/bench.py) writes the list: the same
 * user/info, video/list pages (by cursor) and cover URLs that one initial
 * sync makes, so that the sync's wall time can be set against the time the
 * requests alone take. No JSON is parsed, no file or row is written.
 *
 *   floor [-c CONCURRENCY] LISTFILE
 *
 * LISTFILE has one request per line, four tab-separated fields:
 *
 *   METHOD  URL  BEARER-TOKEN|-  JSON-BODY|-
 *
 * Each of the CONCURRENCY easy handles is reused for the next request
 * (keep-alive, as the daemon's connection cache does). Prints one JSON
 * object: requests, failures (transport errors or HTTP status >= 400),
 * bytes received and wall seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define FLOOR_MAX_CONC 64

struct req {
	char *method, *url, *token, *body;
};

struct slot {
	CURL *easy;
	struct curl_slist *hdrs;
	size_t bytes;
	int busy;
};

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;

	(void)p;
	s->bytes += size * n;
	return size * n;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Split the file in place into requests; returns their number or -1. */
static long
load(char *text, struct req **out)
{
	struct req *r = NULL;
	long n = 0, cap = 0;
	char *line, *next, *f[4];
	int i;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		f[0] = line;
		for (i = 1; i < 4; i++) {
			f[i] = strchr(f[i - 1], '\t');
			if (f[i] == NULL)
				return -1;
			*f[i]++ = '\0';
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			r = realloc(r, (size_t)cap * sizeof(*r));
			if (r == NULL)
				return -1;
		}
		r[n].method = f[0];
		r[n].url = f[1];
		r[n].token = strcmp(f[2], "-") == 0 ? NULL : f[2];
		r[n].body = strcmp(f[3], "-") == 0 ? NULL : f[3];
		n++;
	}
	*out = r;
	return n;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				break;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

static void
start(CURLM *m, struct slot *s, const struct req *r)
{
	char auth[1024];

	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	curl_easy_setopt(s->easy, CURLOPT_URL, r->url);
	if (r->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    r->token);
		s->hdrs = curl_slist_append(s->hdrs, auth);
	}
	if (strcmp(r->method, "POST") == 0) {
		s->hdrs = curl_slist_append(s->hdrs,
		    "Content-Type: application/json");
		s->hdrs = curl_slist_append(s->hdrs, "Expect:");
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS,
		    r->body != NULL ? r->body : "");
	} else {
		s->hdrs = curl_slist_append(s->hdrs,
		    "Accept: image/webp, image/jpeg, image/png");
		curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
	s->busy = 1;
	curl_multi_add_handle(m, s->easy);
}

int
main(int argc, char **argv)
{
	struct slot slots[FLOOR_MAX_CONC];
	struct req *reqs = NULL;
	long nreq, next = 0, done = 0, failures = 0, status;
	size_t bytes = 0;
	int conc = 4, ch, i, running, left;
	char *text;
	double t0, t1;
	CURLMsg *msg;
	CURLM *m;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			goto usage;
		conc = (int)strtol(optarg, NULL, 10);
		if (conc < 1 || conc > FLOOR_MAX_CONC)
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	if ((text = slurp(argv[optind])) == NULL) {
		fprintf(stderr, "floor: %s: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	if ((nreq = load(text, &reqs)) < 0) {
		fprintf(stderr, "floor: %s: bad request list\n",
		    argv[optind]);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conc + 4);
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < conc; i++) {
		slots[i].easy = curl_easy_init();
		curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
		curl_easy_setopt(slots[i].easy, CURLOPT_WRITEFUNCTION,
		    on_write);
		curl_easy_setopt(slots[i].easy, CURLOPT_WRITEDATA, &slots[i]);
		curl_easy_setopt(slots[i].easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(slots[i].easy, CURLOPT_USERAGENT,
		    "tiktok-mirror-bench-floor");
	}

	t0 = now_s();
	for (i = 0; i < conc && next < nreq; i++)
		start(m, &slots[i], &reqs[next++]);
	while (done < nreq) {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct slot *s = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&s);
			status = 0;
			curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_RESPONSE_CODE, &status);
			if (msg->data.result != CURLE_OK || status >= 400)
				failures++;
			curl_multi_remove_handle(m, s->easy);
			s->busy = 0;
			done++;
			if (next < nreq)
				start(m, s, &reqs[next++]);
		}
		if (done < nreq)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	t1 = now_s();

	for (i = 0; i < conc; i++) {
		bytes += slots[i].bytes;
		curl_slist_free_all(slots[i].hdrs);
		curl_easy_cleanup(slots[i].easy);
	}
	curl_multi_cleanup(m);
	curl_global_cleanup();
	printf("{\"requests\": %ld, \"failures\": %ld, \"bytes\": %zu, "
	       "\"wall_s\": %.6f}\n",
	    nreq, failures, bytes, t1 - t0);
	free(reqs);
	free(text);
	return failures > 0 ? 1 : 0;

usage:
	fprintf(stderr, "usage: floor [-c CONCURRENCY] LISTFILE\n");
	return 2;
}
