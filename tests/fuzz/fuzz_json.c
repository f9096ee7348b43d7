/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for lib/json.c: json_parse() on the raw input (no NUL
 * terminator, so an over-read is caught), then a walk over the whole tree
 * through every accessor, checking what json.h promises: counts match the
 * iteration, json_skip() moves forward and ends the document, json_get()
 * finds the last of duplicate keys, decoded strings are valid UTF-8 that
 * json_quote() turns back into JSON decoding to the same text, numbers
 * obey their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "log.h"
#include "util.h"

static void
check_string(const struct json *j, int t)
{
	struct json j2 = {0};
	struct buf b;
	char *s = NULL, *s2 = NULL, err[128];
	size_t len, rawlen;
	int rc;

	CHECK(json_raw(j, t, &rawlen) != NULL);
	if (json_string(j, t, 1 << 20, &s, err, sizeof(err)) == -1)
		return;
	len = strlen(s);
	CHECK(len <= 3 * rawlen);
	CHECK(fuzz_utf8_ok((const unsigned char *)s, len));
	CHECK(json_streq(j, t, s));
	/* A small cap fails cleanly or gives the same text. */
	rc = json_string(j, t, len / 2, &s2, err, sizeof(err));
	CHECK(rc == -1 || len == 0 || len / 2 >= len);
	if (rc == 0)
		free(s2);
	s2 = NULL;
	/* Round trip through json_quote(). */
	buf_init(&b, 0);
	CHECK(json_quote(&b, s) == 0);
	CHECK(json_parse(&j2, b.data, b.len, err, sizeof(err)) == 0);
	CHECK(json_type(&j2, 0) == JSON_STRING);
	CHECK(json_string(&j2, 0, 1 << 20, &s2, err, sizeof(err)) == 0);
	CHECK(strcmp(s, s2) == 0);
	json_free(&j2);
	buf_free(&b);
	free(s2);
	free(s);
}

static void
check_number(const struct json *j, int t)
{
	int64_t v;
	size_t n;
	const char *raw = json_raw(j, t, &n);

	CHECK(raw != NULL && n > 0);
	if (json_int(j, t, INT64_MIN, INT64_MAX, &v) == 0) {
		CHECK(json_int(j, t, v, v, &v) == 0);
		if (v < INT64_MAX)
			CHECK(json_int(j, t, v + 1, INT64_MAX, &v) == -1);
		CHECK(memchr(raw, '.', n) == NULL);
	}
	(void)json_int(j, t, 0, 100, &v);
}

/* Member 'key' of object 'obj' through the lookup accessors. */
static void
check_member(const struct json *j, int obj, int key)
{
	char *k, *s = NULL;
	int64_t v;
	int found;

	if (json_string(j, key, 1 << 20, &k, NULL, 0) == -1)
		return;
	/* With duplicate keys the last one wins. */
	found = json_get(j, obj, k);
	CHECK(found != -1 && found >= key + 1);
	(void)json_get_int(j, obj, k, 0, INT64_MAX, &v, NULL, 0);
	if (json_get_string(j, obj, k, 4096, &s, NULL, 0) == 0)
		free(s);
	free(k);
}

static void
walk(const struct json *j, int t, int depth)
{
	enum json_type ty = json_type(j, t);
	int c, n = 0, next, b;

	CHECK(ty != JSON_NONE);
	CHECK(depth <= JSON_MAX_DEPTH);
	next = json_skip(j, t);
	CHECK(next > t && next <= j->ntok);
	switch (ty) {
	case JSON_OBJECT:
		for (c = json_first(j, t); c != -1; c = json_next(j, t, c)) {
			n++;
			CHECK(json_type(j, c) == JSON_STRING);
			check_string(j, c);
			check_member(j, t, c);
			walk(j, c + 1, depth + 1);
			CHECK(json_skip(j, c) == json_skip(j, c + 1));
		}
		CHECK(n == json_count(j, t));
		CHECK(json_get(j, t, "\x01no such key") == -1 ||
		    json_count(j, t) > 0);
		break;
	case JSON_ARRAY:
		for (c = json_first(j, t); c != -1; c = json_next(j, t, c)) {
			n++;
			walk(j, c, depth + 1);
		}
		CHECK(n == json_count(j, t));
		CHECK(json_get(j, t, "data") == -1);
		break;
	case JSON_STRING:
		CHECK(json_count(j, t) == 0);
		check_string(j, t);
		break;
	case JSON_NUMBER:
		check_number(j, t);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		CHECK(json_bool(j, t, &b) == 0 && b == (ty == JSON_TRUE));
		break;
	case JSON_NULL:
		CHECK(json_bool(j, t, &b) == -1);
		break;
	default:
		CHECK(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json j = {0};
	char err[256];

	log_init(LOG_QUIET);
	if (json_parse(&j, (const char *)data, size, err, sizeof(err)) == 0) {
		CHECK(j.ntok >= 1);
		walk(&j, 0, 0);
		CHECK(json_skip(&j, 0) == j.ntok);
		CHECK(json_type(&j, j.ntok) == JSON_NONE);
		CHECK(json_type(&j, -1) == JSON_NONE);
	} else
		CHECK(strstr(err, "byte") != NULL);
	json_free(&j);
	return 0;
}
