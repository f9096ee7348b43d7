/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/json.c.
 *
 * - Golden fixtures: every tests/fixtures/json/NAME.json is parsed and
 *   walked through the public API into a canonical dump, compared with
 *   NAME.expected. TM_UPDATE_GOLDEN=1 rewrites the .expected files instead
 *   (review the diff before keeping it).
 * - JSONTestSuite, read in place from $TM_SHARED/third_party/JSONTestSuite
 *   (or ../shared): every y_ file accepted, every n_ file rejected, every
 *   i_ file as written down in tests/fixtures/json/jsontestsuite_i.txt.
 * - One test per function for its errors and bounds, limits, and a
 *   deterministic mutation run over the fixtures.
 *
 * Every document is handed over in a buffer of exactly its size, without a
 * NUL terminator, so AddressSanitizer and valgrind see any over-read. Run
 * from the top of the source tree (make test does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

#define FIXTURES "tests/fixtures/json"
#define SUITE_SUBDIR "third_party/JSONTestSuite/test_parsing"

/* Buffer calls must not fail in these tests. */
#define OUT(call) assert_int_equal((call), 0)

/* A copy of s[0..len) in an allocation of exactly len bytes, no NUL. */
static char *
exact_copy(const void *s, size_t len)
{
	char *p;

	if (len == 0)
		return NULL; /* json_parse() takes (NULL, 0) */
	p = malloc(len);
	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

/* Read a whole file into an exact-size buffer; -1 when it is missing. */
static int
fixture_read(const char *path, char **out, size_t *lenp)
{
	struct buf b;
	char chunk[8192];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		OUT(buf_add(&b, chunk, n));
	assert_false(ferror(f));
	fclose(f);
	*lenp = b.len;
	*out = exact_copy(b.data, b.len);
	buf_free(&b);
	return 0;
}

static void
write_file(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in folder 'dir' ending in 'suffix', sorted; NULL when no folder. */
static char **
list_dir(const char *dir, const char *suffix, size_t *np)
{
	DIR *d;
	struct dirent *e;
	char **v;
	size_t n = 0, len, slen = strlen(suffix);

	if ((d = opendir(dir)) == NULL)
		return NULL;
	v = xreallocarray(NULL, 1, sizeof(*v));
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_names);
	*np = n;
	return v;
}

static void
free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A strict UTF-8 decoder, written independently of lib/json.c: the code
 * point at s (NUL-terminated) in *cp and its length, or 0 when the bytes
 * are not well-formed (overlong, surrogate, above U+10FFFF, truncated).
 */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n, i;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		v = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/*
 * The canonical dump of a document: one line per token, indented by depth.
 * Strings are quoted with printable ASCII as is, '"' and '\' escaped, and
 * every other code point as \u{hex}; a byte that is not well-formed UTF-8
 * (which json_string() must never produce) shows as \xNN and is counted.
 */
struct dump {
	struct buf out;
	int bad_utf8;
};

static void
dump_quoted(struct dump *d, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	OUT(buf_add(&d->out, "\"", 1));
	while (*p != '\0') {
		if ((n = utf8_next(p, &cp)) == 0) {
			OUT(buf_printf(&d->out, "\\x%02x", *p));
			d->bad_utf8++;
			p++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			OUT(buf_printf(&d->out, "\\%c", (int)cp));
		else if (cp >= 0x20 && cp < 0x7f)
			OUT(buf_add(&d->out, p, 1));
		else
			OUT(buf_printf(&d->out, "\\u{%" PRIx32 "}", cp));
		p += n;
	}
	OUT(buf_add(&d->out, "\"", 1));
}

static void
dump_indent(struct dump *d, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		OUT(buf_add(&d->out, "  ", 2));
}

/* Decode string token 'tok', checking json_streq() and the maxlen bound. */
static char *
dump_string(const struct json *j, int tok)
{
	char *s, *t = NULL, err[ERRLEN];
	size_t len;

	assert_int_equal(json_string(j, tok, SIZE_MAX, &s, NULL, 0), 0);
	len = strlen(s);
	assert_true(json_streq(j, tok, s));
	/* Exactly at the limit passes, one byte under it fails. */
	assert_int_equal(json_string(j, tok, len, &t, err, sizeof(err)), 0);
	assert_string_equal(s, t);
	free(t);
	if (len > 0) {
		t = NULL;
		assert_int_equal(
		    json_string(j, tok, len - 1, &t, err, sizeof(err)), -1);
		assert_null(t);
		assert_non_null(strstr(err, "longer than"));
	}
	return s;
}

static void
dump_value(struct dump *d, const struct json *j, int tok, int depth)
{
	enum json_type type = json_type(j, tok);
	int64_t v;
	const char *raw;
	char *s;
	size_t len;
	int b, c, n, next, obj;

	dump_indent(d, depth);
	switch (type) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		obj = type == JSON_OBJECT;
		OUT(buf_printf(&d->out, "%s %d\n", obj ? "object" : "array",
		    json_count(j, tok)));
		n = 0;
		next = tok + 1;
		for (c = json_first(j, tok); c != -1; c = json_next(j, tok, c)) {
			assert_int_equal(c, next); /* no token left out */
			n++;
			if (obj) {
				assert_int_equal(json_type(j, c), JSON_STRING);
				s = dump_string(j, c);
				dump_indent(d, depth + 1);
				OUT(buf_addstr(&d->out, "key "));
				dump_quoted(d, s);
				if (json_get(j, tok, s) != c + 1)
					OUT(buf_addstr(&d->out, " (shadowed)"));
				OUT(buf_addstr(&d->out, "\n"));
				free(s);
				dump_value(d, j, c + 1, depth + 2);
				assert_int_equal(json_skip(j, c),
				    json_skip(j, c + 1));
				/* A value is not a member of the object. */
				assert_int_equal(json_next(j, tok, c + 1), -1);
			} else
				dump_value(d, j, c, depth + 1);
			next = json_skip(j, c);
		}
		assert_int_equal(n, json_count(j, tok));
		assert_int_equal(json_skip(j, tok), next);
		return;
	case JSON_STRING:
		s = dump_string(j, tok);
		OUT(buf_addstr(&d->out, "string "));
		dump_quoted(d, s);
		OUT(buf_addstr(&d->out, "\n"));
		free(s);
		break;
	case JSON_NUMBER:
		raw = json_raw(j, tok, &len);
		assert_non_null(raw);
		OUT(buf_printf(&d->out, "number %.*s", (int)len, raw));
		if (json_int(j, tok, INT64_MIN, INT64_MAX, &v) == 0)
			OUT(buf_printf(&d->out, " int=%" PRId64 "\n", v));
		else if (memchr(raw, '.', len) || memchr(raw, 'e', len) ||
		    memchr(raw, 'E', len))
			OUT(buf_addstr(&d->out, " int=none\n"));
		else
			OUT(buf_addstr(&d->out, " int=range\n"));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		assert_int_equal(json_bool(j, tok, &b), 0);
		assert_int_equal(b, type == JSON_TRUE);
		OUT(buf_addstr(&d->out, b ? "true\n" : "false\n"));
		break;
	case JSON_NULL:
		assert_int_equal(json_bool(j, tok, &b), -1);
		OUT(buf_addstr(&d->out, "null\n"));
		break;
	default:
		fail_msg("token %d has no type", tok);
	}
	/* Leaves have no children and a one-token subtree. */
	assert_int_equal(json_count(j, tok), 0);
	assert_int_equal(json_first(j, tok), -1);
	assert_int_equal(json_skip(j, tok), tok + 1);
}

/* Parse text[0..len) and dump it, or its error, into d. Returns 0 or -1. */
static int
dump_doc(struct dump *d, const char *text, size_t len)
{
	struct json j;
	char err[ERRLEN];

	if (json_parse(&j, text, len, err, sizeof(err)) == -1) {
		OUT(buf_printf(&d->out, "error: %s\n", err));
		/* Every message names the byte offset. */
		assert_non_null(strstr(err, "at byte "));
		assert_null(j.tok);
		assert_int_equal(j.ntok, 0);
		json_free(&j);
		return -1;
	}
	OUT(buf_printf(&d->out, "ok %d tokens\n", j.ntok));
	dump_value(d, &j, 0, 0);
	assert_int_equal(json_skip(&j, 0), j.ntok);
	json_free(&j);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Golden fixtures */

static void
test_golden(void **state)
{
	char **names, path[4096], *text, *want;
	size_t n, i, len, wlen;
	struct dump d;
	int update = getenv("TM_UPDATE_GOLDEN") != NULL, failed = 0;

	(void)state;
	names = list_dir(FIXTURES, ".json", &n);
	if (names == NULL)
		fail_msg("no folder %s (run from the top of the tree)",
		    FIXTURES);
	assert_true(n >= 10);
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", FIXTURES, names[i]);
		assert_int_equal(fixture_read(path, &text, &len), 0);
		buf_init(&d.out, 0);
		d.bad_utf8 = 0;
		(void)dump_doc(&d, text, len);
		assert_int_equal(d.bad_utf8, 0);
		free(text);

		(void)snprintf(path, sizeof(path), "%s/%.*s.expected",
		    FIXTURES, (int)(strlen(names[i]) - 5), names[i]);
		if (update) {
			write_file(path, d.out.data, d.out.len);
		} else if (fixture_read(path, &want, &wlen) == -1) {
			print_error("%s: missing\n", path);
			failed++;
		} else {
			if (wlen != d.out.len ||
			    memcmp(want, d.out.data, wlen) != 0) {
				print_error("%s differs; got:\n%s", path,
				    d.out.data);
				failed++;
			}
			free(want);
		}
		buf_free(&d.out);
	}
	free_names(names, n);
	assert_int_equal(failed, 0);
}

/* ---------------------------------------------------------------------- */
/* JSONTestSuite */

struct expect {
	char name[256];
	int accept;
	int seen;
};

/* Load tests/fixtures/json/jsontestsuite_i.txt: "NAME accept|reject # why". */
static struct expect *
load_i_expectations(size_t *np)
{
	struct expect *v = NULL;
	char *text, *line, *save = NULL, name[256], verdict[16];
	size_t len, n = 0;

	assert_int_equal(
	    fixture_read(FIXTURES "/jsontestsuite_i.txt", &text, &len), 0);
	text = xreallocarray(text, len + 1, 1);
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "%255s %15s", name, verdict) != 2)
			fail_msg("jsontestsuite_i.txt: bad line: %s", line);
		if (strcmp(verdict, "accept") != 0 &&
		    strcmp(verdict, "reject") != 0)
			fail_msg("jsontestsuite_i.txt: bad verdict: %s", line);
		v = xreallocarray(v, n + 1, sizeof(*v));
		memcpy(v[n].name, name, sizeof(name));
		v[n].accept = strcmp(verdict, "accept") == 0;
		v[n].seen = 0;
		n++;
	}
	free(text);
	*np = n;
	return v;
}

static void
test_jsontestsuite(void **state)
{
	const char *shared = getenv("TM_SHARED");
	char dir[4096], path[4096 + 256], **names, *text;
	struct expect *ex;
	struct dump d;
	size_t n, nex, i, k, len;
	int ok, failed = 0, ny = 0, nn = 0, nia = 0, nir = 0;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/%s",
	    shared != NULL && *shared != '\0' ? shared : "../shared",
	    SUITE_SUBDIR);
	if ((names = list_dir(dir, ".json", &n)) == NULL) {
		print_message("note: no JSONTestSuite at %s; skipped\n", dir);
		skip();
	}
	ex = load_i_expectations(&nex);
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		assert_int_equal(fixture_read(path, &text, &len), 0);
		buf_init(&d.out, 0);
		d.bad_utf8 = 0;
		ok = dump_doc(&d, text, len) == 0;
		assert_int_equal(d.bad_utf8, 0);
		free(text);
		switch (names[i][0]) {
		case 'y':
			ny++;
			if (!ok) {
				print_error("%s: rejected: %s", names[i],
				    d.out.data);
				failed++;
			}
			break;
		case 'n':
			nn++;
			if (ok) {
				print_error("%s: accepted\n", names[i]);
				failed++;
			}
			break;
		case 'i':
			for (k = 0; k < nex; k++)
				if (strcmp(ex[k].name, names[i]) == 0)
					break;
			if (k == nex) {
				print_error("%s: not in jsontestsuite_i.txt "
					    "(we %s it)\n",
				    names[i], ok ? "accept" : "reject");
				failed++;
				break;
			}
			ex[k].seen = 1;
			if (ok)
				nia++;
			else
				nir++;
			if (ok != ex[k].accept) {
				print_error("%s: jsontestsuite_i.txt says %s, "
					    "we %s\n",
				    names[i], ex[k].accept ? "accept" : "reject",
				    ok ? "accept" : "reject");
				failed++;
			}
			break;
		}
		buf_free(&d.out);
	}
	for (k = 0; k < nex; k++)
		if (!ex[k].seen) {
			print_error("jsontestsuite_i.txt: %s is not in the "
				    "suite\n",
			    ex[k].name);
			failed++;
		}
	print_message("JSONTestSuite: %d y_ accepted, %d n_ rejected, "
		      "%d i_ (%d accepted, %d rejected)\n",
	    ny, nn, nia + nir, nia, nir);
	free(ex);
	free_names(names, n);
	assert_true(ny > 0 && nn > 0 && nia + nir > 0);
	assert_int_equal(failed, 0);
}

/* ---------------------------------------------------------------------- */
/* json_parse */

struct doc {
	struct json j;
	char *text;
	char err[ERRLEN];
};

static int
doc_parse_len(struct doc *d, const char *s, size_t len)
{
	d->text = exact_copy(s, len);
	d->err[0] = '\0';
	return json_parse(&d->j, d->text, len, d->err, sizeof(d->err));
}

static int
doc_parse(struct doc *d, const char *s)
{
	return doc_parse_len(d, s, strlen(s));
}

static void
doc_free(struct doc *d)
{
	json_free(&d->j);
	free(d->text);
	d->text = NULL;
}

static void
expect_error_len(const char *s, size_t len, const char *msg)
{
	struct doc d;

	if (doc_parse_len(&d, s, len) != -1)
		fail_msg("accepted: %.*s", (int)len, s);
	assert_string_equal(d.err, msg);
	assert_null(d.j.tok);
	assert_int_equal(d.j.ntok, 0);
	doc_free(&d);
}

static void
expect_error(const char *s, const char *msg)
{
	expect_error_len(s, strlen(s), msg);
}

static void
expect_ok(const char *s, int ntok)
{
	struct doc d;

	if (doc_parse(&d, s) != 0)
		fail_msg("rejected: %s: %s", s, d.err);
	assert_int_equal(d.j.ntok, ntok);
	assert_int_equal(json_skip(&d.j, 0), ntok);
	doc_free(&d);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	expect_error("", "empty document: no value before the end at byte 0");
	expect_error(" \t\r\n",
	    "empty document: no value before the end at byte 4");
	/* jsmn takes this one even in strict mode. */
	expect_error("{\"a\":\"b\":1}",
	    "unexpected ':' at byte 8: expected ',' or '}'");
	expect_error("{} x", "unexpected 'x' after the value at byte 3");
	expect_error("[1] [2]", "unexpected '[' after the value at byte 4");
	expect_error("1 2", "unexpected '2' after the value at byte 2");
	expect_error("\"a\"\"b\"", "unexpected '\"' after the value at byte 3");
	expect_error("[1,]", "unexpected ']' at byte 3: expected a value");
	expect_error("[,1]", "unexpected ',' at byte 1: expected a value");
	expect_error("{\"a\":1,}",
	    "unexpected '}' at byte 7: expected a string key");
	expect_error("{a:1}", "unexpected 'a' at byte 1: expected a string key");
	expect_error("{1:1}", "unexpected '1' at byte 1: expected a string key");
	expect_error("{\"a\" 1}", "expected ':' after the key at byte 5");
	expect_error("{\"a\"}", "expected ':' after the key at byte 4");
	expect_error("{\"a\":}", "unexpected '}' at byte 5: expected a value");
	expect_error("[1 2]", "unexpected '2' at byte 3: expected ',' or ']'");
	expect_error("[1}", "unexpected '}' at byte 2: expected ',' or ']'");
	expect_error("{\"a\":1]",
	    "unexpected ']' at byte 6: expected ',' or '}'");
	expect_error("]", "unexpected ']' at byte 0: expected a value");
	expect_error("[", "unexpected end of the document at byte 1: "
			  "expected a value");
	expect_error("[1", "unexpected end of the document at byte 2: "
			   "expected ',' or ']'");
	expect_error("{", "unexpected end of the document at byte 1: "
			  "expected a key");
	expect_error("{\"a\":", "unexpected end of the document at byte 5: "
				"expected a value");
	expect_error("[01]", "invalid number at byte 1: leading zero");
	expect_error("-01", "invalid number at byte 0: leading zero");
	expect_error("-", "invalid number at byte 0: no digit after '-'");
	expect_error("-a", "invalid number at byte 0: no digit after '-'");
	expect_error("+1", "unexpected '+' at byte 0: expected a value");
	expect_error(".5", "unexpected '.' at byte 0: expected a value");
	expect_error("1.", "invalid number at byte 0: no digit after '.'");
	expect_error("[1.e1]", "invalid number at byte 1: no digit after '.'");
	expect_error("1e", "invalid number at byte 0: no digit in the exponent");
	expect_error("1e+",
	    "invalid number at byte 0: no digit in the exponent");
	expect_error("0x10", "unexpected 'x' after the value at byte 1");
	expect_error("1.5.2", "unexpected '.' after the value at byte 3");
	expect_error("Infinity", "unexpected 'I' at byte 0: expected a value");
	expect_error("NaN", "unexpected 'N' at byte 0: expected a value");
	expect_error("tru", "invalid literal at byte 0 (expected true)");
	expect_error("[nul]", "invalid literal at byte 1 (expected null)");
	expect_error("True", "unexpected 'T' at byte 0: expected a value");
	expect_error("truex", "unexpected 'x' after the value at byte 4");
	expect_error("[falsey]",
	    "unexpected 'y' at byte 6: expected ',' or ']'");
	expect_error("'a'", "unexpected ''' at byte 0: expected a value");
	expect_error("\"a\x01\"",
	    "control character 0x01 in a string at byte 2");
	expect_error("\"a\nb\"",
	    "control character 0x0a in a string at byte 2");
	expect_error("\"\\x\"", "invalid escape in a string at byte 1");
	expect_error("\"\\'\"", "invalid escape in a string at byte 1");
	expect_error("\"\\U0041\"", "invalid escape in a string at byte 1");
	expect_error("\"\\u12\"",
	    "\\u not followed by four hex digits at byte 1");
	expect_error("\"\\u12g4\"",
	    "\\u not followed by four hex digits at byte 1");
	expect_error("\"\\u123", "\\u not followed by four hex digits at byte 1");
	expect_error("\"abc", "unterminated string (opened at byte 0) at byte 4");
	expect_error("[\"a\\\"]",
	    "unterminated string (opened at byte 1) at byte 6");
	expect_error("\"\\", "unterminated string (opened at byte 0) at byte 2");
	/* Only the four RFC 8259 white-space bytes. */
	expect_error("\f1", "unexpected byte 0x0c at byte 0: expected a value");
	expect_error("\v1", "unexpected byte 0x0b at byte 0: expected a value");
	expect_error("\xc2\xa0"
		     "1",
	    "unexpected byte 0xc2 at byte 0: expected a value");
	/* A byte order mark is not white space (RFC 8259 §8.1). */
	expect_error("\xef\xbb\xbf{}",
	    "unexpected byte 0xef at byte 0: expected a value");
	/* Comments are not JSON. */
	expect_error("[1] // c", "unexpected '/' after the value at byte 4");
	expect_error("/* c */ 1", "unexpected '/' at byte 0: expected a value");
	/* A NUL anywhere: after the value, inside a string, as the value. */
	expect_error_len("{}\0", 3, "unexpected byte 0x00 after the value at "
				    "byte 2");
	expect_error_len("\"a\0b\"", 5,
	    "control character 0x00 in a string at byte 2");
	expect_error_len("\0", 1,
	    "unexpected byte 0x00 at byte 0: expected a value");
	expect_error_len("[1,\0]", 5,
	    "unexpected byte 0x00 at byte 3: expected a value");
}

static void
test_parse_ok(void **state)
{
	struct doc d;
	char err[ERRLEN];
	struct json j;

	(void)state;
	/* Top-level scalars (RFC 8259; jsmn's strict mode refuses these). */
	expect_ok("1", 1);
	expect_ok("-0", 1);
	expect_ok("0.5e-3", 1);
	expect_ok("true", 1);
	expect_ok("false", 1);
	expect_ok("null", 1);
	expect_ok("\"\"", 1);
	expect_ok(" \t\r\n\"x\" \t\r\n", 1);
	expect_ok("{}", 1);
	expect_ok("[]", 1);
	expect_ok("[ ]", 1);
	expect_ok("{ }", 1);
	expect_ok("[[[]]]", 3);
	expect_ok("{\"a\":1}", 3);
	expect_ok("{\"a\":{\"b\":[1,2,{}]},\"c\":\"d\"}", 10);
	expect_ok(" [ 1 , \"a\" , { \"k\" : null } , [ ] , true ] ", 8);
	/* Raw bytes that are not UTF-8 are fine inside strings. */
	expect_ok("\"\xff\xfe\xc0\xaf\xed\xa0\x80\"", 1);

	/* The error buffer is optional. */
	assert_int_equal(json_parse(&j, "x", 1, NULL, 0), -1);
	json_free(&j);
	assert_int_equal(json_parse(&j, "[1]", 3, NULL, 0), 0);
	json_free(&j);
	/* A short error buffer is cut, not overrun. */
	assert_int_equal(json_parse(&j, "[1,]", 4, err, 8), -1);
	assert_string_equal(err, "unexpec");
	json_free(&j);

	/* The text needs no NUL: only len bytes are read. */
	assert_int_equal(doc_parse_len(&d, "[12]xyz", 4), 0);
	assert_int_equal(d.j.ntok, 2);
	doc_free(&d);
	assert_int_equal(doc_parse_len(&d, "123456", 3), 0);
	{
		int64_t v;

		assert_int_equal(json_int(&d.j, 0, 0, 1000, &v), 0);
		assert_int_equal(v, 123);
	}
	doc_free(&d);
	assert_int_equal(json_parse(&j, NULL, 0, err, sizeof(err)), -1);
	json_free(&j);
	assert_int_equal(json_parse(&j, NULL, 5, err, sizeof(err)), -1);
	json_free(&j);
}

static void
test_free_twice(void **state)
{
	struct json j;

	(void)state;
	memset(&j, 0, sizeof(j));
	json_free(&j);
	json_free(NULL);
	assert_int_equal(json_parse(&j, "[1,2]", 5, NULL, 0), 0);
	json_free(&j);
	assert_null(j.tok);
	assert_int_equal(j.ntok, 0);
	json_free(&j); /* twice is fine */
	/* Accessors on a freed document see no tokens. */
	assert_int_equal(json_type(&j, 0), JSON_NONE);
	assert_int_equal(json_skip(&j, 0), 0);
	assert_int_equal(json_first(&j, 0), -1);
}

/* n arrays nested around "x", optionally with objects: {"k":[{"k":... */
static char *
nested(int n, int objects, size_t *lenp)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		OUT(buf_addstr(&b, objects && i % 2 ? "{\"k\":" : "["));
	OUT(buf_addstr(&b, "\"x\""));
	for (i = n - 1; i >= 0; i--)
		OUT(buf_addstr(&b, objects && i % 2 ? "}" : "]"));
	*lenp = b.len;
	return buf_take(&b, NULL);
}

static void
test_depth(void **state)
{
	struct doc d;
	char *s, msg[128];
	size_t len;
	int i, tok;

	(void)state;
	s = nested(JSON_MAX_DEPTH, 0, &len);
	assert_int_equal(doc_parse_len(&d, s, len), 0);
	assert_int_equal(d.j.ntok, JSON_MAX_DEPTH + 1);
	for (tok = 0, i = 0; i < JSON_MAX_DEPTH; i++)
		tok = json_first(&d.j, tok);
	assert_true(json_streq(&d.j, tok, "x"));
	doc_free(&d);
	free(s);

	s = nested(JSON_MAX_DEPTH + 1, 0, &len);
	(void)snprintf(msg, sizeof(msg), "nesting deeper than %d at byte %d",
	    JSON_MAX_DEPTH, JSON_MAX_DEPTH);
	expect_error_len(s, len, msg);
	free(s);

	/* Objects count too: 64 levels pass, 65 do not. */
	s = nested(JSON_MAX_DEPTH, 1, &len);
	assert_int_equal(doc_parse_len(&d, s, len), 0);
	doc_free(&d);
	free(s);
	s = nested(JSON_MAX_DEPTH + 1, 1, &len);
	assert_int_equal(doc_parse_len(&d, s, len), -1);
	assert_non_null(strstr(d.err, "nesting deeper than 64 at byte "));
	doc_free(&d);
	free(s);

	/* Far too deep: refused early, no recursion to overflow. */
	s = malloc(1000000);
	assert_non_null(s);
	memset(s, '[', 1000000);
	expect_error_len(s, 1000000, msg);
	free(s);
}

static void
test_token_limit(void **state)
{
	struct buf b;
	struct doc d;
	char msg[128];
	int i;

	(void)state;
	/* A root array with JSON_MAX_TOKENS - 1 elements: exactly the limit. */
	buf_init(&b, 0);
	OUT(buf_add(&b, "[", 1));
	for (i = 0; i < JSON_MAX_TOKENS - 1; i++)
		OUT(buf_add(&b, i ? ",0" : "0", i ? 2 : 1));
	OUT(buf_add(&b, "]", 1));
	assert_int_equal(doc_parse_len(&d, b.data, b.len), 0);
	assert_int_equal(d.j.ntok, JSON_MAX_TOKENS);
	assert_int_equal(json_count(&d.j, 0), JSON_MAX_TOKENS - 1);
	assert_int_equal(json_skip(&d.j, 1), 2);
	assert_int_equal(json_skip(&d.j, 0), JSON_MAX_TOKENS);
	doc_free(&d);

	/* One more element is refused where it starts. */
	b.len--;
	OUT(buf_add(&b, ",0]", 3));
	(void)snprintf(msg, sizeof(msg), "more than %d tokens at byte %zu",
	    JSON_MAX_TOKENS, b.len - 2);
	expect_error_len(b.data, b.len, msg);
	buf_free(&b);

	/* Keys count as tokens. */
	buf_init(&b, 0);
	OUT(buf_add(&b, "{", 1));
	for (i = 0; i < JSON_MAX_TOKENS / 2; i++)
		OUT(buf_printf(&b, "%s\"%d\":0", i ? "," : "", i));
	OUT(buf_add(&b, "}", 1));
	assert_int_equal(doc_parse_len(&d, b.data, b.len), -1);
	assert_non_null(strstr(d.err, "more than 1000000 tokens at byte "));
	doc_free(&d);
	buf_free(&b);
}

/* ---------------------------------------------------------------------- */
/* Accessors */

static void
test_type_count_skip(void **state)
{
	struct doc d;
	int big = 1 << 30;

	(void)state;
	/* 0 {, 1 "a", 2 [, 3 1, 4 {}, 5 "s", 6 "b", 7 {, 8 "c", 9 true,
	 * 10 "d", 11 false, 12 "e", 13 null */
	assert_int_equal(doc_parse(&d, "{\"a\":[1,{},\"s\"],\"b\":{\"c\":true},"
				       "\"d\":false,\"e\":null}"),
	    0);
	assert_int_equal(d.j.ntok, 14);
	assert_int_equal(json_type(&d.j, 0), JSON_OBJECT);
	assert_int_equal(json_type(&d.j, 1), JSON_STRING);
	assert_int_equal(json_type(&d.j, 2), JSON_ARRAY);
	assert_int_equal(json_type(&d.j, 3), JSON_NUMBER);
	assert_int_equal(json_type(&d.j, 4), JSON_OBJECT);
	assert_int_equal(json_type(&d.j, 5), JSON_STRING);
	assert_int_equal(json_type(&d.j, 9), JSON_TRUE);
	assert_int_equal(json_type(&d.j, 11), JSON_FALSE);
	assert_int_equal(json_type(&d.j, 13), JSON_NULL);
	assert_int_equal(json_type(&d.j, -1), JSON_NONE);
	assert_int_equal(json_type(&d.j, 14), JSON_NONE);
	assert_int_equal(json_type(&d.j, big), JSON_NONE);
	assert_int_equal(json_type(NULL, 0), JSON_NONE);

	assert_int_equal(json_count(&d.j, 0), 4);
	assert_int_equal(json_count(&d.j, 2), 3);
	assert_int_equal(json_count(&d.j, 4), 0);
	assert_int_equal(json_count(&d.j, 1), 0); /* a key holds one value */
	assert_int_equal(json_count(&d.j, 3), 0);
	assert_int_equal(json_count(&d.j, -1), 0);
	assert_int_equal(json_count(&d.j, 14), 0);
	assert_int_equal(json_count(NULL, 0), 0);

	assert_int_equal(json_skip(&d.j, 0), 14);
	assert_int_equal(json_skip(&d.j, 1), 6); /* key "a" and its value */
	assert_int_equal(json_skip(&d.j, 2), 6);
	assert_int_equal(json_skip(&d.j, 3), 4);
	assert_int_equal(json_skip(&d.j, 4), 5);
	assert_int_equal(json_skip(&d.j, 5), 6);
	assert_int_equal(json_skip(&d.j, 6), 10);
	assert_int_equal(json_skip(&d.j, 8), 10);
	assert_int_equal(json_skip(&d.j, 12), 14);
	assert_int_equal(json_skip(&d.j, 13), 14);
	assert_int_equal(json_skip(&d.j, -1), 14);
	assert_int_equal(json_skip(&d.j, 14), 14);
	assert_int_equal(json_skip(&d.j, big), 14);
	assert_int_equal(json_skip(NULL, 0), 0);

	/* Iteration: keys of objects, elements of arrays. */
	assert_int_equal(json_first(&d.j, 0), 1);
	assert_int_equal(json_next(&d.j, 0, 1), 6);
	assert_int_equal(json_next(&d.j, 0, 6), 10);
	assert_int_equal(json_next(&d.j, 0, 10), 12);
	assert_int_equal(json_next(&d.j, 0, 12), -1);
	assert_int_equal(json_first(&d.j, 2), 3);
	assert_int_equal(json_next(&d.j, 2, 3), 4);
	assert_int_equal(json_next(&d.j, 2, 4), 5);
	assert_int_equal(json_next(&d.j, 2, 5), -1);
	assert_int_equal(json_first(&d.j, 4), -1); /* empty */
	assert_int_equal(json_first(&d.j, 1), -1); /* a key */
	assert_int_equal(json_first(&d.j, 3), -1);
	assert_int_equal(json_first(&d.j, -1), -1);
	assert_int_equal(json_first(&d.j, 14), -1);
	/* A token that is not a child of the container. */
	assert_int_equal(json_next(&d.j, 0, 2), -1); /* a value */
	assert_int_equal(json_next(&d.j, 0, 3), -1); /* a grandchild */
	assert_int_equal(json_next(&d.j, 2, 1), -1);
	assert_int_equal(json_next(&d.j, 6, 8), -1); /* key of 7, not 6 */
	assert_int_equal(json_next(&d.j, 7, 8), -1); /* its last member */
	assert_int_equal(json_next(&d.j, 3, 4), -1); /* not a container */
	assert_int_equal(json_next(&d.j, 0, -1), -1);
	assert_int_equal(json_next(&d.j, 0, 14), -1);
	assert_int_equal(json_next(&d.j, -1, 1), -1);
	assert_int_equal(json_next(&d.j, big, 1), -1);
	assert_int_equal(json_next(NULL, 0, 1), -1);
	doc_free(&d);
}

static void
test_get(void **state)
{
	struct doc d;

	(void)state;
	/* 0 {, 1 "a", 2 1, 3 "b", 4 2, 5 "\u0061", 6 3, 7 "c", 8 {, 9 "a",
	 * 10 4, 11 "", 12 5, 13 "n\u0000", 14 6 */
	assert_int_equal(doc_parse(&d, "{\"a\":1,\"b\":2,\"\\u0061\":3,"
				       "\"c\":{\"a\":4},\"\":5,\"n\\u0000\":6}"),
	    0);
	/* Duplicates: the last one wins, compared after decoding. */
	assert_int_equal(json_get(&d.j, 0, "a"), 6);
	assert_int_equal(json_get(&d.j, 0, "b"), 4);
	assert_int_equal(json_get(&d.j, 0, "c"), 8);
	assert_int_equal(json_get(&d.j, 8, "a"), 10);
	assert_int_equal(json_get(&d.j, 0, ""), 12);
	/* \u0000 is dropped when decoding, in keys too. */
	assert_int_equal(json_get(&d.j, 0, "n"), 14);
	assert_int_equal(json_get(&d.j, 0, "A"), -1);
	assert_int_equal(json_get(&d.j, 0, "ab"), -1);
	assert_int_equal(json_get(&d.j, 0, "x"), -1);
	assert_int_equal(json_get(&d.j, 0, NULL), -1);
	/* Not an object: a value, a key, nothing. */
	assert_int_equal(json_get(&d.j, 2, "a"), -1);
	assert_int_equal(json_get(&d.j, 1, "a"), -1);
	assert_int_equal(json_get(&d.j, -1, "a"), -1);
	assert_int_equal(json_get(&d.j, 15, "a"), -1);
	assert_int_equal(json_get(NULL, 0, "a"), -1);
	doc_free(&d);

	/* An array holding strings is not an object either. */
	assert_int_equal(doc_parse(&d, "[\"a\",\"b\"]"), 0);
	assert_int_equal(json_get(&d.j, 0, "a"), -1);
	doc_free(&d);
}

/* json_members(): what json_get() finds, for several keys in one pass. */
static void
test_members(void **state)
{
	static const char *const keys[] = {"c", "a", "x", "", "n", "b"};
	struct doc d;
	int v[6];

	(void)state;
	/* The document of test_get(). */
	assert_int_equal(doc_parse(&d, "{\"a\":1,\"b\":2,\"\\u0061\":3,"
				       "\"c\":{\"a\":4},\"\":5,\"n\\u0000\":6}"),
	    0);
	assert_int_equal(json_members(&d.j, 0, keys, 6, v), 0);
	assert_int_equal(v[0], 8);
	assert_int_equal(v[1], 6); /* the last "a" wins */
	assert_int_equal(v[2], -1);
	assert_int_equal(v[3], 12);
	assert_int_equal(v[4], 14);
	assert_int_equal(v[5], 4);
	/* Not an object: every value -1. */
	v[0] = v[1] = 0;
	assert_int_equal(json_members(&d.j, 2, keys, 2, v), -1);
	assert_int_equal(v[0], -1);
	assert_int_equal(v[1], -1);
	doc_free(&d);
}

static void
test_streq(void **state)
{
	struct doc d;

	(void)state;
	assert_int_equal(doc_parse(&d, "[\"abc\",\"\",\"a\\u00e9\\n\\/\","
				       "\"\\ud83d\\ude00\",\"\\ud83d\",\"\xff\","
				       "1,\"a\\u0000b\"]"),
	    0);
	assert_true(json_streq(&d.j, 1, "abc"));
	assert_false(json_streq(&d.j, 1, "ab"));
	assert_false(json_streq(&d.j, 1, "abcd"));
	assert_false(json_streq(&d.j, 1, ""));
	assert_false(json_streq(&d.j, 1, "ABC"));
	assert_true(json_streq(&d.j, 2, ""));
	assert_false(json_streq(&d.j, 2, "a"));
	assert_true(json_streq(&d.j, 3, "a\xc3\xa9\n/"));
	assert_false(json_streq(&d.j, 3, "a\xc3\xa9\n"));
	assert_false(json_streq(&d.j, 3, "a\xc3"));
	assert_false(json_streq(&d.j, 3, "a\\u00e9\\n\\/"));
	assert_true(json_streq(&d.j, 4, "\xf0\x9f\x98\x80"));
	assert_false(json_streq(&d.j, 4, "\xf0\x9f\x98"));
	assert_true(json_streq(&d.j, 5, "\xef\xbf\xbd"));
	assert_true(json_streq(&d.j, 6, "\xef\xbf\xbd"));
	assert_false(json_streq(&d.j, 6, "\xff"));
	assert_false(json_streq(&d.j, 7, "1")); /* a number */
	assert_true(json_streq(&d.j, 8, "ab"));
	assert_false(json_streq(&d.j, 0, ""));
	assert_false(json_streq(&d.j, -1, ""));
	assert_false(json_streq(&d.j, 9, ""));
	assert_false(json_streq(&d.j, 1, NULL));
	assert_false(json_streq(NULL, 1, "abc"));
	doc_free(&d);
}

/* Decode the only string of document s; compare with want[0..wlen). */
static void
expect_decoded(const char *s, const char *want, size_t wlen)
{
	struct doc d;
	char *out = NULL;

	if (doc_parse(&d, s) != 0)
		fail_msg("rejected: %s: %s", s, d.err);
	assert_int_equal(json_string(&d.j, 0, SIZE_MAX, &out, d.err,
			     sizeof(d.err)),
	    0);
	if (strlen(out) != wlen || memcmp(out, want, wlen) != 0)
		fail_msg("%s decoded wrong", s);
	assert_true(json_streq(&d.j, 0, want));
	free(out);
	doc_free(&d);
}

#define EXPECT_STRING(s, want) expect_decoded((s), (want), sizeof(want) - 1)

static void
test_string_decode(void **state)
{
	(void)state;
	EXPECT_STRING("\"\"", "");
	EXPECT_STRING("\"plain ascii\"", "plain ascii");
	EXPECT_STRING("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
	    "\" \\ / \b \f \n \r \t");
	EXPECT_STRING("\"\\u0041\\u00e9\\u00E9\\u4e2d\\uffff\"",
	    "A\xc3\xa9\xc3\xa9\xe4\xb8\xad\xef\xbf\xbf");
	EXPECT_STRING("\"\\u007f\\u0080\\u07ff\\u0800\"",
	    "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80");
	EXPECT_STRING("\"\\u0001\\u001f\"", "\x01\x1f");
	/* Surrogate pairs join, in either hex case. */
	EXPECT_STRING("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
	EXPECT_STRING("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80");
	EXPECT_STRING("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80");
	EXPECT_STRING("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
	/* Lone surrogates: U+FFFD each, and what follows is kept. */
	EXPECT_STRING("\"\\ud83d\"", "\xef\xbf\xbd");
	EXPECT_STRING("\"\\ude00\"", "\xef\xbf\xbd");
	EXPECT_STRING("\"x\\ud83dy\"", "x\xef\xbf\xbdy");
	EXPECT_STRING("\"\\ud83d\\u0041\"", "\xef\xbf\xbd"
					    "A");
	EXPECT_STRING("\"\\ud83d\\n\"", "\xef\xbf\xbd\n");
	EXPECT_STRING("\"\\ude00\\ud83d\"", "\xef\xbf\xbd\xef\xbf\xbd");
	EXPECT_STRING("\"\\ud83d\\ud83d\\ude00\"",
	    "\xef\xbf\xbd\xf0\x9f\x98\x80");
	EXPECT_STRING("\"\\ud83d\\\\ude00\"", "\xef\xbf\xbd\\ude00");
	/* NUL is dropped. */
	EXPECT_STRING("\"a\\u0000b\"", "ab");
	EXPECT_STRING("\"\\u0000\"", "");
	/* Raw UTF-8 passes; CJK, emoji. */
	EXPECT_STRING("\"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\"",
	    "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80");
	/* Invalid raw UTF-8: one U+FFFD per maximal subpart. */
	EXPECT_STRING("\"a\xff"
		      "b\"",
	    "a\xef\xbf\xbd"
	    "b");
	EXPECT_STRING("\"\x80\"", "\xef\xbf\xbd");
	EXPECT_STRING("\"\xc0\xaf\"", "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
	EXPECT_STRING("\"\xe0\x80\xaf\"",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
	EXPECT_STRING("\"\xed\xa0\x80\"",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* U+D800 */
	EXPECT_STRING("\"\xf4\x90\x80\x80\"",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd"); /* above U+10FFFF */
	EXPECT_STRING("\"\xe4\xb8\"", "\xef\xbf\xbd"); /* truncated */
	EXPECT_STRING("\"\xe4\xb8x\"", "\xef\xbf\xbdx");
	EXPECT_STRING("\"\xf0\x9f\x98\"", "\xef\xbf\xbd");
	EXPECT_STRING("\"\xf0\x9f\x98\xe4\xb8\xad\"", "\xef\xbf\xbd\xe4\xb8\xad");
	EXPECT_STRING("\"\xfc\x83\xbf\xbf\xbf\xbf\"",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd");
	/* Edges of the valid ranges pass unchanged. */
	EXPECT_STRING("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
		      "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"",
	    "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
	    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
}

static void
test_string_bounds(void **state)
{
	struct doc d;
	char *out, *keep = (char *)(uintptr_t)1;

	(void)state;
	assert_int_equal(doc_parse(&d, "[\"abcde\",\"\\u00e9\\u00e9\",\"\","
				       "\"\xff\xff\",7,{\"k\":1}]"),
	    0);
	/* maxlen counts decoded bytes: exactly at the limit passes. */
	assert_int_equal(json_string(&d.j, 1, 5, &out, d.err, sizeof(d.err)),
	    0);
	assert_string_equal(out, "abcde");
	free(out);
	out = keep;
	assert_int_equal(json_string(&d.j, 1, 4, &out, d.err, sizeof(d.err)),
	    -1);
	assert_ptr_equal(out, keep); /* untouched */
	assert_string_equal(d.err, "string longer than 4 bytes (opened at byte 1)");
	/* "\u00e9\u00e9" is 12 bytes of text but 4 decoded. */
	assert_int_equal(json_string(&d.j, 2, 4, &out, NULL, 0), 0);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9");
	free(out);
	assert_int_equal(json_string(&d.j, 2, 3, &out, NULL, 0), -1);
	/* The empty string fits in 0. */
	assert_int_equal(json_string(&d.j, 3, 0, &out, NULL, 0), 0);
	assert_string_equal(out, "");
	free(out);
	/* Two invalid bytes grow to 6 bytes of U+FFFD. */
	assert_int_equal(json_string(&d.j, 4, 6, &out, NULL, 0), 0);
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
	free(out);
	assert_int_equal(json_string(&d.j, 4, 5, &out, NULL, 0), -1);
	assert_int_equal(json_string(&d.j, 4, 2, &out, NULL, 0), -1);
	/* Not a string. */
	out = keep;
	assert_int_equal(json_string(&d.j, 5, 100, &out, d.err, sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "expected a string, got a number");
	assert_int_equal(json_string(&d.j, 6, 100, &out, d.err, sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "expected a string, got an object");
	assert_int_equal(json_string(&d.j, 0, 100, &out, d.err, sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "expected a string, got an array");
	assert_int_equal(json_string(&d.j, -1, 100, &out, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "expected a string, got no value");
	assert_int_equal(json_string(&d.j, 99, 100, &out, NULL, 0), -1);
	assert_ptr_equal(out, keep);
	/* An object key decodes like any string. */
	assert_int_equal(json_string(&d.j, 7, 1, &out, NULL, 0), 0);
	assert_string_equal(out, "k");
	free(out);
	doc_free(&d);
}

static void
test_int(void **state)
{
	struct doc d;
	int64_t v;

	(void)state;
	/*
	 * 1 0, 2 -0, 3 42, 4 -42, 5 INT64_MAX, 6 INT64_MIN, 7 2^63,
	 * 8 -2^63-1, 9 1.0, 10 1e2, 11 1E2, 12 -0.0, 13 "1", 14 true,
	 * 15 null, 16 10^29
	 */
	assert_int_equal(doc_parse(&d, "[0,-0,42,-42,9223372036854775807,"
				       "-9223372036854775808,"
				       "9223372036854775808,"
				       "-9223372036854775809,"
				       "1.0,1e2,1E2,-0.0,\"1\",true,null,"
				       "100000000000000000000000000000]"),
	    0);
	assert_int_equal(json_int(&d.j, 1, INT64_MIN, INT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	v = 5;
	assert_int_equal(json_int(&d.j, 2, INT64_MIN, INT64_MAX, &v), 0);
	assert_int_equal(v, 0); /* -0 is 0 */
	assert_int_equal(json_int(&d.j, 2, 0, 0, &v), 0);
	assert_int_equal(json_int(&d.j, 3, 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(json_int(&d.j, 3, 42, 42, &v), 0);
	assert_int_equal(json_int(&d.j, 4, -42, 0, &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(json_int(&d.j, 5, INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(json_int(&d.j, 6, INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	/* Range: one outside either bound fails, *out untouched. */
	v = 7;
	assert_int_equal(json_int(&d.j, 3, 0, 41, &v), -1);
	assert_int_equal(json_int(&d.j, 3, 43, 100, &v), -1);
	assert_int_equal(json_int(&d.j, 4, 0, INT64_MAX, &v), -1);
	/* 2^63 and -2^63-1 overflow int64. */
	assert_int_equal(json_int(&d.j, 7, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 8, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 16, INT64_MIN, INT64_MAX, &v), -1);
	/* Fractions and exponents are not integers, even when whole. */
	assert_int_equal(json_int(&d.j, 9, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 10, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 11, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 12, INT64_MIN, INT64_MAX, &v), -1);
	/* Other types. */
	assert_int_equal(json_int(&d.j, 13, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 14, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 15, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 0, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, -1, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(json_int(&d.j, 18, INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(v, 7);
	doc_free(&d);
}

static void
test_bool(void **state)
{
	struct doc d;
	int b;

	(void)state;
	assert_int_equal(doc_parse(&d, "[true,false,null,0,1,\"true\"]"), 0);
	b = 5;
	assert_int_equal(json_bool(&d.j, 1, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_bool(&d.j, 2, &b), 0);
	assert_int_equal(b, 0);
	b = 5;
	assert_int_equal(json_bool(&d.j, 3, &b), -1);
	assert_int_equal(json_bool(&d.j, 4, &b), -1);
	assert_int_equal(json_bool(&d.j, 5, &b), -1);
	assert_int_equal(json_bool(&d.j, 6, &b), -1);
	assert_int_equal(json_bool(&d.j, 0, &b), -1);
	assert_int_equal(json_bool(&d.j, -1, &b), -1);
	assert_int_equal(json_bool(&d.j, 7, &b), -1);
	assert_int_equal(b, 5);
	doc_free(&d);
}

static void
test_raw(void **state)
{
	struct doc d;
	const char *r;
	size_t len;

	(void)state;
	assert_int_equal(doc_parse(&d, "{\"k\\n\":-1.5e3,\"s\":\"\"}"), 0);
	r = json_raw(&d.j, 1, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(r, "k\\n", 3);
	r = json_raw(&d.j, 2, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(r, "-1.5e3", 6);
	r = json_raw(&d.j, 4, &len);
	assert_non_null(r);
	assert_int_equal(len, 0);
	r = json_raw(&d.j, 0, &len);
	assert_int_equal(len, d.j.len);
	assert_null(json_raw(&d.j, -1, &len));
	assert_null(json_raw(&d.j, 5, &len));
	doc_free(&d);
}

static void
test_get_string(void **state)
{
	struct doc d;
	char *out, *keep = (char *)(uintptr_t)1;

	(void)state;
	assert_int_equal(doc_parse(&d, "{\"id\":\"7080213458555737986\","
				       "\"title\":\"caf\\u00e9\",\"n\":null,"
				       "\"num\":5,\"o\":{}}"),
	    0);
	assert_int_equal(json_get_string(&d.j, 0, "id", 20, &out, d.err,
			     sizeof(d.err)),
	    0);
	assert_string_equal(out, "7080213458555737986");
	free(out);
	assert_int_equal(json_get_string(&d.j, 0, "title", 5, &out, d.err,
			     sizeof(d.err)),
	    0);
	assert_string_equal(out, "caf\xc3\xa9");
	free(out);
	/* Missing or null: 1, *out untouched. */
	out = keep;
	assert_int_equal(json_get_string(&d.j, 0, "missing", 10, &out, d.err,
			     sizeof(d.err)),
	    1);
	assert_int_equal(json_get_string(&d.j, 0, "n", 10, &out, d.err,
			     sizeof(d.err)),
	    1);
	assert_ptr_equal(out, keep);
	/* Wrong type, too long, not an object: -1 naming the key. */
	assert_int_equal(json_get_string(&d.j, 0, "num", 10, &out, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "num: expected a string, got a number");
	assert_int_equal(json_get_string(&d.j, 0, "o", 10, &out, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "o: expected a string, got an object");
	assert_int_equal(json_get_string(&d.j, 0, "title", 4, &out, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err,
	    "title: string longer than 4 bytes (opened at byte 36)");
	assert_int_equal(json_get_string(&d.j, 2, "id", 10, &out, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "id: looked up in a string, not an object");
	assert_int_equal(json_get_string(&d.j, -1, "id", 10, &out, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "id: looked up in no value, not an object");
	assert_ptr_equal(out, keep);
	doc_free(&d);
}

static void
test_get_int(void **state)
{
	struct doc d;
	int64_t v;

	(void)state;
	assert_int_equal(doc_parse(&d, "{\"create_time\":1646883959,"
				       "\"cursor\":1646883959000,\"n\":null,"
				       "\"s\":\"5\",\"f\":1.5,\"neg\":-1,"
				       "\"big\":123456789012345678901234567890"
				       "123456789}"),
	    0);
	assert_int_equal(json_get_int(&d.j, 0, "create_time", 0, INT64_MAX,
			     &v, d.err, sizeof(d.err)),
	    0);
	assert_int_equal(v, 1646883959);
	assert_int_equal(json_get_int(&d.j, 0, "cursor", 0, INT64_MAX, &v,
			     d.err, sizeof(d.err)),
	    0);
	assert_true(v == INT64_C(1646883959000));
	v = 7;
	assert_int_equal(json_get_int(&d.j, 0, "missing", 0, 10, &v, d.err,
			     sizeof(d.err)),
	    1);
	assert_int_equal(json_get_int(&d.j, 0, "n", 0, 10, &v, d.err,
			     sizeof(d.err)),
	    1);
	assert_int_equal(json_get_int(&d.j, 0, "s", 0, 10, &v, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "s: expected an integer, got a string");
	assert_int_equal(json_get_int(&d.j, 0, "f", 0, 10, &v, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "f: 1.5 is not an integer in [0, 10]");
	assert_int_equal(json_get_int(&d.j, 0, "neg", 0, 10, &v, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "neg: -1 is not an integer in [0, 10]");
	assert_int_equal(json_get_int(&d.j, 0, "cursor", 0, INT32_MAX, &v,
			     d.err, sizeof(d.err)),
	    -1);
	assert_string_equal(d.err,
	    "cursor: 1646883959000 is not an integer in [0, 2147483647]");
	/* Long numbers are cut in the message. */
	assert_int_equal(json_get_int(&d.j, 0, "big", INT64_MIN, INT64_MAX,
			     &v, d.err, sizeof(d.err)),
	    -1);
	assert_string_equal(d.err,
	    "big: 12345678901234567890123456789012... is not an integer in "
	    "[-9223372036854775808, 9223372036854775807]");
	assert_int_equal(json_get_int(&d.j, 1, "x", 0, 10, &v, d.err,
			     sizeof(d.err)),
	    -1);
	assert_string_equal(d.err, "x: looked up in a string, not an object");
	assert_int_equal(v, 7);
	doc_free(&d);
}

/* ---------------------------------------------------------------------- */
/* json_quote */

static void
expect_quote(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	OUT(json_quote(&b, in));
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void
test_quote(void **state)
{
	struct buf b;
	struct doc d;
	char in[256], *out;
	int i;

	(void)state;
	expect_quote("", "\"\"");
	expect_quote("plain / text", "\"plain / text\"");
	expect_quote("\"q\" \\b\\", "\"\\\"q\\\" \\\\b\\\\\"");
	expect_quote("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	expect_quote("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
	expect_quote("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"");
	/* Not UTF-8 would not be JSON: U+FFFD instead. */
	expect_quote("a\xff"
		     "b\xc0\xaf\xe4\xb8",
	    "\"a\xef\xbf\xbd"
	    "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_quote("<\xe2\x80\xa8>", "\"<\xe2\x80\xa8>\"");

	/* Appends; on a full buffer fails and leaves it as it was. */
	buf_init(&b, 10);
	OUT(buf_addstr(&b, "x="));
	OUT(json_quote(&b, "abcdef"));
	assert_string_equal(b.data, "x=\"abcdef\"");
	assert_int_equal(json_quote(&b, ""), -1);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "x=\"abcdef\"");
	b.max = 14;
	assert_int_equal(json_quote(&b, "\n\n"), -1);
	assert_string_equal(b.data, "x=\"abcdef\"");
	buf_free(&b);

	/* Every byte 1..127 survives quote, parse and decode. */
	for (i = 1; i < 128; i++)
		in[i - 1] = (char)i;
	memcpy(in + 127, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 10);
	buf_init(&b, 0);
	OUT(json_quote(&b, in));
	assert_int_equal(doc_parse_len(&d, b.data, b.len), 0);
	assert_int_equal(json_string(&d.j, 0, SIZE_MAX, &out, NULL, 0), 0);
	assert_string_equal(out, in);
	assert_true(json_streq(&d.j, 0, in));
	free(out);
	doc_free(&d);
	buf_free(&b);
}

/* ---------------------------------------------------------------------- */
/* Robustness */

/*
 * A TikTok-sized page: json_get and iteration over many members stay fast
 * (each json_next() is a galloping search, not a walk of the subtree).
 */
static void
test_large(void **state)
{
	struct buf b;
	struct doc d;
	int i, n = 20000, data, videos, v, count = 0;
	int64_t total = 0, x;

	(void)state;
	buf_init(&b, 0);
	OUT(buf_addstr(&b, "{\"data\":{\"videos\":["));
	for (i = 0; i < n; i++)
		OUT(buf_printf(&b,
		    "%s{\"id\":\"%d\",\"title\":\"t\\u00e9 %d\","
		    "\"like_count\":%d,\"x\":[[1],{\"y\":[]}]}",
		    i ? "," : "", 7000000 + i, i, i));
	OUT(buf_addstr(&b, "],\"cursor\":1,\"has_more\":false},"
			   "\"error\":{\"code\":\"ok\"}}"));
	assert_int_equal(doc_parse_len(&d, b.data, b.len), 0);
	assert_int_equal(json_get(&d.j, 0, "error"), d.j.ntok - 3);
	data = json_get(&d.j, 0, "data");
	videos = json_get(&d.j, data, "videos");
	assert_int_equal(json_count(&d.j, videos), n);
	for (v = json_first(&d.j, videos); v != -1;
	     v = json_next(&d.j, videos, v)) {
		assert_int_equal(json_get_int(&d.j, v, "like_count", 0,
				     INT32_MAX, &x, NULL, 0),
		    0);
		total += x;
		count++;
	}
	assert_int_equal(count, n);
	assert_true(total == (int64_t)n * (n - 1) / 2);
	doc_free(&d);
	buf_free(&b);
}

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64: deterministic, so a failure repeats. */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Mutate the fixtures and well-formed snippets byte by byte and check that
 * every result either parses into a tree the walker accepts (with valid
 * UTF-8 in every decoded string) or fails with an error naming a byte.
 */
static void
test_mutations(void **state)
{
	static const char alphabet[] = "{}[]\":,\\/u0123456789abefnrtlsE+-. "
				       "\t\n\x01\x7f\x80\xbf\xc0\xed\xf0\xff";
	static const char *snippets[] = {
	    "{\"a\":[1,2,{\"b\":null}],\"c\":\"\\ud83d\\ude00\"}",
	    "[\"\\u00e9\\\"\\\\\",-0.5e+10,true,false,{}]",
	    "{\"\":{\"\":{\"\":[[[[\"x\"]]]]}}}",
	};
	const char *iters_env = getenv("TM_JSON_MUTATIONS");
	char **names, path[4096], *seed[32], *m;
	size_t seedlen[32], nseed = 0, n, i, len, pos;
	long iters = iters_env != NULL ? atol(iters_env) : 20000, it;
	uint64_t r = 0x9e3779b97f4a7c15ULL;
	struct dump d;
	int k, nm, accepted = 0;

	(void)state;
	for (i = 0; i < nitems(snippets); i++) {
		seedlen[nseed] = strlen(snippets[i]);
		seed[nseed++] = exact_copy(snippets[i], strlen(snippets[i]));
	}
	names = list_dir(FIXTURES, ".json", &n);
	assert_non_null(names);
	for (i = 0; i < n && nseed < nitems(seed); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", FIXTURES, names[i]);
		assert_int_equal(fixture_read(path, &seed[nseed], &seedlen[nseed]),
		    0);
		if (seedlen[nseed] > 0 && seedlen[nseed] < 8192)
			nseed++;
		else
			free(seed[nseed]);
	}
	free_names(names, n);

	for (it = 0; it < iters; it++) {
		i = rnd(&r) % nseed;
		len = seedlen[i];
		m = xmalloc(len + 8);
		memcpy(m, seed[i], len);
		nm = 1 + (int)(rnd(&r) % 4);
		for (k = 0; k < nm; k++) {
			pos = len > 0 ? rnd(&r) % len : 0;
			switch (rnd(&r) % 4) {
			case 0: /* replace a byte */
				if (len > 0)
					m[pos] = alphabet[rnd(&r) %
					    (sizeof(alphabet) - 1)];
				break;
			case 1: /* delete a byte */
				if (len > 0) {
					memmove(m + pos, m + pos + 1,
					    len - pos - 1);
					len--;
				}
				break;
			case 2: /* truncate */
				len = pos;
				break;
			default: /* insert a byte, within the slack */
				if (len < seedlen[i] + 8) {
					memmove(m + pos + 1, m + pos, len - pos);
					m[pos] = alphabet[rnd(&r) %
					    (sizeof(alphabet) - 1)];
					len++;
				}
				break;
			}
		}
		/* Hand over an exact-size copy. */
		{
			char *x = exact_copy(m, len);

			buf_init(&d.out, 0);
			d.bad_utf8 = 0;
			if (dump_doc(&d, x, len) == 0)
				accepted++;
			assert_int_equal(d.bad_utf8, 0);
			buf_free(&d.out);
			free(x);
		}
		free(m);
	}
	for (i = 0; i < nseed; i++)
		free(seed[i]);
	print_message("mutations: %ld runs, %d still valid JSON\n", iters,
	    accepted);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_free_twice),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_token_limit),
	    cmocka_unit_test(test_type_count_skip),
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_members),
	    cmocka_unit_test(test_streq),
	    cmocka_unit_test(test_string_decode),
	    cmocka_unit_test(test_string_bounds),
	    cmocka_unit_test(test_int),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_get_string),
	    cmocka_unit_test(test_get_int),
	    cmocka_unit_test(test_quote),
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_jsontestsuite),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
