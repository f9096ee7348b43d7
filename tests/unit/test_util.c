/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/util.c (number parsing, ids, capped buffers, URL
 * escaping, paths, atomic writes, ISO 8601 times) and for the escaping
 * helpers of lib/log.c that stand between untrusted text and the log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "unit.h"

/* parse_i64() over a whole C string. */
static int
p64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	return parse_i64(s, strlen(s), min, max, out);
}

static void
test_parse_i64_values(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(p64("0", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == 0);
	assert_int_equal(p64("42", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == 42);
	assert_int_equal(p64("-1", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == -1);
	assert_int_equal(p64("-0", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == 0);
	assert_int_equal(p64("007", 0, 10, &v), 0);
	assert_true(v == 7);
	assert_int_equal(p64("9223372036854775807", INT64_MIN, INT64_MAX, &v),
	    0);
	assert_true(v == INT64_MAX);
	assert_int_equal(p64("-9223372036854775808", INT64_MIN, INT64_MAX,
			     &v),
	    0);
	assert_true(v == INT64_MIN);
	assert_int_equal(p64("9223372036854775806", INT64_MIN, INT64_MAX, &v),
	    0);
	assert_true(v == INT64_MAX - 1);
	assert_int_equal(p64("-9223372036854775807", INT64_MIN, INT64_MAX,
			     &v),
	    0);
	assert_true(v == INT64_MIN + 1);
	/* Only the first 'len' bytes count. */
	assert_int_equal(parse_i64("123abc", 3, 0, 1000, &v), 0);
	assert_true(v == 123);
}

static void
test_parse_i64_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "-",
	    "+1",
	    " 1",
	    "1 ",
	    "1a",
	    "0x10",
	    "1.0",
	    "1e3",
	    "--1",
	    "9223372036854775808",	/* INT64_MAX + 1 */
	    "-9223372036854775809", /* INT64_MIN - 1 */
	    "18446744073709551615", /* UINT64_MAX */
	    "18446744073709551616",
	    "99999999999999999999",
	    "-99999999999999999999",
	    "123456789012345678901234567890",
	};
	int64_t v = 77;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		if (p64(bad[i], INT64_MIN, INT64_MAX, &v) != -1)
			fail_msg("parse_i64 accepted \"%s\"", bad[i]);
		assert_true(v == 77); /* untouched */
	}
	/* An embedded NUL is not a digit. */
	assert_int_equal(parse_i64("1\0" "2", 3, 0, 100, &v), -1);
	assert_int_equal(parse_i64("12", 0, 0, 100, &v), -1);
	assert_true(v == 77);
}

static void
test_parse_i64_bounds(void **state)
{
	int64_t v = 77;

	(void)state;
	assert_int_equal(p64("60", 60, 86400, &v), 0);
	assert_true(v == 60);
	assert_int_equal(p64("86400", 60, 86400, &v), 0);
	assert_true(v == 86400);
	v = 77;
	assert_int_equal(p64("59", 60, 86400, &v), -1);
	assert_int_equal(p64("86401", 60, 86400, &v), -1);
	assert_int_equal(p64("-1", 0, INT64_MAX, &v), -1);
	assert_int_equal(p64("-9223372036854775808", INT64_MIN + 1, 0, &v),
	    -1);
	assert_int_equal(p64("9223372036854775807", 0, INT64_MAX - 1, &v),
	    -1);
	assert_true(v == 77);
	assert_int_equal(p64("-5", -5, -5, &v), 0);
	assert_true(v == -5);
}

static void
test_valid_id(void **state)
{
	static const char *const good[] = {
	    "0",
	    "7",
	    "7080213458555737986",
	    "12345678901234567890", /* 20 digits */
	};
	static const char *const bad[] = {
	    "",
	    "../1",
	    "12a",
	    "123456789012345678901", /* 21 digits */
	    "-1",
	    "+1",
	    " 1",
	    "1 ",
	    "1/2",
	    "1.jpg",
	    "\xd9\xa1", /* ARABIC-INDIC DIGIT ONE */
	};
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++)
		if (!valid_id(good[i], strlen(good[i])))
			fail_msg("valid_id refused \"%s\"", good[i]);
	for (i = 0; i < nitems(bad); i++)
		if (valid_id(bad[i], strlen(bad[i])))
			fail_msg("valid_id accepted \"%s\"", bad[i]);
	assert_false(valid_id("12\0" "3", 4));
	assert_true(valid_id("123x", 3));
}

static void
test_buf_cap(void **state)
{
	struct buf b;
	char *p;
	size_t len;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_add(&b, "hello", 5), 0);
	assert_int_equal(buf_addstr(&b, "world"), 0); /* exactly the cap */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	/* Over the cap: refused, buffer unchanged. */
	assert_int_equal(buf_add(&b, "!", 1), -1);
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	assert_int_equal(buf_add(&b, "", 0), 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_printf(&b, "%s-%03d", "ab", 7), 0);
	assert_string_equal(b.data, "ab-007");
	assert_int_equal(buf_printf(&b, "%s", "12345"), -1);
	assert_string_equal(b.data, "ab-007");
	p = buf_take(&b, &len);
	assert_string_equal(p, "ab-007");
	assert_int_equal(len, 6);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 10); /* the cap survives */
	free(p);
	/* A big write in one go is refused whole, not cut. */
	assert_int_equal(buf_add(&b, "0123456789A", 11), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_buf_unbounded(void **state)
{
	struct buf b;
	char *p;
	size_t len, i;

	(void)state;
	buf_init(&b, 0);
	/* Taking an empty buffer gives "", never NULL. */
	p = buf_take(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_add(&b, "x", 1), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[100000], '\0');
	assert_int_equal(strlen(b.data), 100000);
	/* Binary data with NUL bytes keeps its length. */
	buf_reset(&b);
	assert_int_equal(buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	buf_free(&b);
	assert_null(b.data);
	buf_free(&b); /* twice is fine */
}

static void
test_url_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"ABCXYZabcxyz0189-._~", "ABCXYZabcxyz0189-._~"},
	    {" ", "%20"},
	    {"a b+c", "a%20b%2Bc"},
	    {"user.info.basic,video.list", "user.info.basic%2Cvideo.list"},
	    {"http://127.0.0.1:8723/callback/",
		"http%3A%2F%2F127.0.0.1%3A8723%2Fcallback%2F"},
	    {"a&b=c?d#e%f", "a%26b%3Dc%3Fd%23e%25f"},
	    {"\xc3\xa9", "%C3%A9"},
	    {"\x01\x7f\xff", "%01%7F%FF"},
	    {"*!'()", "%2A%21%27%28%29"},
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		s = url_escape(cases[i].in);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

static void
test_url_unescape(void **state)
{
	static const struct {
		const char *in;
		int form;
		const char *out; /* NULL: refused */
	} cases[] = {
	    {"", 0, ""},
	    {"plain", 0, "plain"},
	    {"a%20b", 0, "a b"},
	    {"abc%2A%21", 0, "abc*!"},
	    {"abc%2a%21", 1, "abc*!"},
	    {"a+b", 1, "a b"},
	    {"a+b", 0, "a+b"},
	    {"%2B", 1, "+"},
	    {"%C3%A9", 0, "\xc3\xa9"},
	    {"%ff", 0, "\xff"},
	    {"100%", 0, NULL},
	    {"%2", 0, NULL},
	    {"%", 0, NULL},
	    {"%zz", 0, NULL},
	    {"%g1", 0, NULL},
	    {"%1g", 0, NULL},
	    {"% 1", 0, NULL},
	    {"%-1", 0, NULL},
	    {"%00", 0, NULL},
	    {"a%00b", 1, NULL},
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		s = url_unescape(cases[i].in, strlen(cases[i].in),
		    cases[i].form);
		if (cases[i].out == NULL) {
			if (s != NULL)
				fail_msg("url_unescape(\"%s\") gave \"%s\"",
				    cases[i].in, s);
		} else {
			if (s == NULL)
				fail_msg("url_unescape(\"%s\") failed",
				    cases[i].in);
			assert_string_equal(s, cases[i].out);
		}
		free(s);
	}
	/* Only 'len' bytes are read: an escape cut by the length is bad. */
	s = url_unescape("ab%41", 3, 0);
	assert_null(s);
	s = url_unescape("ab%41", 2, 0);
	assert_string_equal(s, "ab");
	free(s);
	/* A raw NUL inside the range is refused too. */
	assert_null(url_unescape("a\0b", 3, 0));
}

static void
test_url_round_trip(void **state)
{
	char all[256], *e, *d;
	int i;

	(void)state;
	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	e = url_escape(all);
	assert_int_equal(strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				   "opqrstuvwxyz0123456789-._~%"),
	    strlen(e));
	d = url_unescape(e, strlen(e), 0);
	assert_non_null(d);
	assert_string_equal(d, all);
	free(d);
	d = url_unescape(e, strlen(e), 1); /* no '+' in the escaped form */
	assert_string_equal(d, all);
	free(d);
	free(e);
}

static void
test_path_join(void **state)
{
	static const struct {
		const char *dir, *rel, *out;
	} cases[] = {
	    {"/var/lib/tm", "mirror.db", "/var/lib/tm/mirror.db"},
	    {"/var/lib/tm/", "mirror.db", "/var/lib/tm/mirror.db"},
	    {"etc", "covers/brand", "etc/covers/brand"},
	    {"/var/lib/tm", "/abs/x.db", "/abs/x.db"},
	    {"", "mirror.db", "mirror.db"},
	    {NULL, "mirror.db", "mirror.db"},
	    {"/", "x", "/x"},
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		s = path_join(cases[i].dir, cases[i].rel);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

static void
test_path_dirname(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"/etc/tiktok-mirror/tiktok-mirror.yaml", "/etc/tiktok-mirror"},
	    {"a/b", "a"},
	    {"a/b/c", "a/b"},
	    {"name.yaml", "."},
	    {"/name.yaml", "/"},
	    {"./x", "."},
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		s = path_dirname(cases[i].in);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

static void
test_write_file_atomic(void **state)
{
	char err[ERRLEN], *dir, *path, *data, *bad, *theirs, *guess;
	struct stat st1, st2;
	size_t len;
	mode_t old;

	(void)state;
	old = umask(022);
	dir = tmp_dir("util");
	path = path_join(dir, "metrics.prom");

	assert_int_equal(write_file_atomic(path, "one\n", 4, 0640, err,
			     sizeof(err)),
	    0);
	data = slurp(path, &len);
	assert_int_equal(len, 4);
	assert_string_equal(data, "one\n");
	free(data);
	assert_int_equal(mode_of(path), 0640);

	/* Replacing: new bytes, new mode, and no temporary file left. */
	assert_int_equal(write_file_atomic(path, "two\0bytes", 9, 0600, err,
			     sizeof(err)),
	    0);
	data = slurp(path, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(data, "two\0bytes", 9);
	free(data);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(count_entries(dir), 1);

	/* The mode is exact whatever the umask. */
	umask(077);
	assert_int_equal(write_file_atomic(path, "", 0, 0644, err,
			     sizeof(err)),
	    0);
	umask(022);
	assert_int_equal(mode_of(path), 0644);
	data = slurp(path, &len);
	assert_int_equal(len, 0);
	free(data);

	/*
	 * Another user who can write the folder pre-creates the name the
	 * temporary file used to get, FILE.tmp.<pid> (here as a hard link to
	 * a file of theirs): it is never opened, so their file keeps its
	 * bytes and the published file is ours, not their inode.
	 */
	theirs = path_join(dir, "theirs");
	spew(theirs, "theirs", 6, 0666);
	guess = xasprintf("%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(link(theirs, guess), 0);
	assert_int_equal(write_file_atomic(path, "mine", 4, 0644, err,
			     sizeof(err)),
	    0);
	data = slurp(theirs, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(data, "theirs", 6);
	free(data);
	assert_int_equal(stat(theirs, &st1), 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st1.st_ino != st2.st_ino);
	assert_true(st1.st_nlink == 2);
	assert_int_equal(unlink(guess), 0);
	assert_int_equal(unlink(theirs), 0);
	free(guess);
	free(theirs);
	/* The temporary names: FILE.tmp.<16 hex digits>, nothing else. */
	assert_true(util_is_tmp_name("1.jpg.tmp.0123456789abcdef"));
	assert_false(util_is_tmp_name("1.jpg.tmp.0123456789abcde"));
	assert_false(util_is_tmp_name("1.jpg.tmp.0123456789abcdeg"));
	assert_false(util_is_tmp_name(".tmp.0123456789abcdef"));
	assert_false(util_is_tmp_name("notes.txt"));

	/* A missing folder fails with a message naming the path. */
	bad = path_join(dir, "no/such/folder/x");
	err[0] = '\0';
	assert_int_equal(write_file_atomic(bad, "x", 1, 0644, err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no/such/folder/x"));
	assert_int_equal(count_entries(dir), 1);
	free(bad);

	free(path);
	rm_rf(dir);
	umask(old);
}

static void
test_mkdir_p(void **state)
{
	char err[ERRLEN], *dir, *deep, *file;
	struct stat st;

	(void)state;
	dir = tmp_dir("util");
	deep = path_join(dir, "a/b/c");
	assert_int_equal(mkdir_p(deep, 0750, err, sizeof(err)), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(mkdir_p(deep, 0750, err, sizeof(err)), 0); /* again */
	/* A file in the way is an error naming it. */
	file = path_join(dir, "a/file");
	spew(file, "x", 1, 0644);
	free(deep);
	deep = path_join(dir, "a/file/d");
	assert_int_equal(mkdir_p(deep, 0750, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a/file"));
	free(file);
	free(deep);
	rm_rf(dir);
}

static void
test_fmt_iso8601(void **state)
{
	static const struct {
		int64_t t;
		const char *s;
	} cases[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {1748736000, "2025-06-01T00:00:00Z"},
	    {1748779200, "2025-06-01T12:00:00Z"},
	    {1709251199, "2024-02-29T23:59:59Z"},
	    {1646883959, "2022-03-10T03:45:59Z"},
	    {-1, "1969-12-31T23:59:59Z"},
	    {4102444800, "2100-01-01T00:00:00Z"},
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		fmt_iso8601(cases[i].t, out, sizeof(out));
		assert_string_equal(out, cases[i].s);
	}
	/* A time gmtime cannot express still gives a terminated string. */
	memset(out, 'x', sizeof(out));
	fmt_iso8601(INT64_MAX, out, sizeof(out));
	assert_non_null(memchr(out, '\0', sizeof(out)));
	assert_true(strlen(out) > 0);
}

static void
test_rand(void **state)
{
	unsigned char a[32], b[32];
	int seen[7] = {0}, i;
	uint64_t r;

	(void)state;
	assert_int_equal(rand_bytes(a, sizeof(a)), 0);
	assert_int_equal(rand_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	for (i = 0; i < 2000; i++) {
		r = rand_below(7);
		assert_true(r < 7);
		seen[r]++;
	}
	for (i = 0; i < 7; i++)
		assert_true(seen[i] > 0);
	assert_true(rand_below(1) == 0);
}

/* log_escape() over a whole C string into a buffer of 'outlen'. */
static const char *
esc(const char *s, size_t outlen)
{
	static char out[512];

	assert_true(outlen <= sizeof(out));
	memset(out, 'Z', sizeof(out));
	return log_escape(s, strlen(s), out, outlen);
}

static void
test_log_escape_bytes(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"hello, world", "hello, world"},
	    {"line\nbreak", "line\\x0abreak"},
	    {"\r\t\x1b[31m", "\\x0d\\x09\\x1b[31m"},
	    {"del\x7f", "del\\x7f"},
	    {"back\\slash", "back\\x5cslash"},
	    /* Valid UTF-8 passes through. */
	    {"caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80",
		"caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80"},
	    /* Invalid UTF-8 is escaped byte by byte. */
	    {"\xff\xfe", "\\xff\\xfe"},
	    {"a\xc3", "a\\xc3"},		  /* truncated sequence */
	    {"\xc3(", "\\xc3("},		  /* bad continuation */
	    {"\xc0\xaf", "\\xc0\\xaf"},		  /* overlong '/' */
	    {"\xe0\x80\xaf", "\\xe0\\x80\\xaf"},  /* overlong, 3 bytes */
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"},  /* UTF-16 surrogate */
	    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* > U+10FFFF */
	    {"\x80", "\\x80"},			  /* lone continuation */
	    /* What a terminal acts on: C1 controls, bidi overrides. */
	    {"a\xc2\x9b" "31m", "a\\xc2\\x9b" "31m"}, /* U+009B CSI */
	    {"\xc2\x85\xc2\xa0", "\\xc2\\x85\xc2\xa0"}, /* NEL; NBSP stays */
	    {"x\xe2\x80\xaey", "x\\xe2\\x80\\xaey"}, /* U+202E RLO */
	    {"\xe2\x81\xa6i\xe2\x81\xa9", "\\xe2\\x81\\xa6i\\xe2\\x81\\xa9"},
	    {"\xe2\x80\x8f\xd8\x9c", "\\xe2\\x80\\x8f\\xd8\\x9c"}, /* RLM, ALM */
	    {"\xe2\x80\x94", "\xe2\x80\x94"},	  /* an em dash stays */
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++)
		assert_string_equal(esc(cases[i].in, 256), cases[i].out);
	/* A NUL inside the given length is escaped, not a terminator. */
	assert_string_equal(log_escape("a\0b", 3, out, sizeof(out)),
	    "a\\x00b");
	/* Only 'len' bytes are read. */
	assert_string_equal(log_escape("abcdef", 3, out, sizeof(out)), "abc");
}

static void
test_log_escape_cut(void **state)
{
	char out[16];
	const char *r;
	size_t i, n;

	(void)state;
	/* Text that fits is never cut, up to outlen - 1 bytes. */
	assert_string_equal(esc("abcde", 8), "abcde");
	assert_string_equal(esc("abcdefg", 8), "abcdefg");
	assert_string_equal(esc("\n", 5), "\\x0a");
	/* Longer text is cut to outlen - 1 bytes ending in "...". */
	assert_string_equal(esc("abcdefgh", 8), "abcd...");
	assert_string_equal(esc("abcdefghijklmnopqrstuvwxyz", 8), "abcd...");
	r = esc("0123456789012345678901234567890123456789", 16);
	assert_int_equal(strlen(r), 15);
	assert_string_equal(r, "012345678901...");
	/* An escape is never cut in half. */
	r = esc("abc\n\n\n\n\n", 12);
	assert_string_equal(r, "abc\\x0a...");
	/* Nor is a UTF-8 sequence. */
	r = esc("\xe6\x9d\xb1\xe6\x9d\xb1\xe6\x9d\xb1\xe6\x9d\xb1", 10);
	assert_string_equal(r, "\xe6\x9d\xb1\xe6\x9d\xb1...");
	/* Every size, every input: terminated, bounded, valid. */
	for (n = 1; n <= sizeof(out); n++) {
		for (i = 0; i < 3; i++) {
			static const char *const in[] = {
			    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
			    "a\nb\nc\nd\ne\nf\n",
			    "plain ascii text that is long",
			};

			memset(out, 'Z', sizeof(out));
			log_escape(in[i], strlen(in[i]), out, n);
			assert_true(strlen(out) < n);
		}
	}
	/* Tiny buffers: nothing is written past them. */
	memset(out, 'Z', sizeof(out));
	log_escape("abcdef", 6, out, 1);
	assert_string_equal(out, "");
	assert_int_equal(out[1], 'Z');
	memset(out, 'Z', sizeof(out));
	log_escape("abcdef", 6, out, 0);
	assert_int_equal(out[0], 'Z');
}

static void
test_log_url(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-0037/49b5.image"
	     "?x-expires=1657851434&x-signature=FjrS%2B%3D",
		"https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-0037/49b5.image"},
	    {"https://open.tiktokapis.com/v2/video/list/?fields=id,title",
		"https://open.tiktokapis.com/v2/video/list/"},
	    {"http://127.0.0.1:8723/callback/#code=secret",
		"http://127.0.0.1:8723/callback/"},
	    {"https://example.com/plain", "https://example.com/plain"},
	    {"https://example.com/a\nb?token=x", "https://example.com/a\\x0ab"},
	    {"?only=query", ""},
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		log_url(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
		assert_null(strstr(out, "signature"));
	}
	/* Cut like log_escape, still without the query. */
	log_url("https://example.com/a-long-path?sig=1", out, 16);
	assert_string_equal(out, "https://exam...");
}

/* --- one decoder, one reader, one writer (issue 18) ---------------------- */

static void
test_hex_value(void **state)
{
	(void)state;
	assert_int_equal(hex_value('0'), 0);
	assert_int_equal(hex_value('9'), 9);
	assert_int_equal(hex_value('a'), 10);
	assert_int_equal(hex_value('F'), 15);
	assert_int_equal(hex_value('g'), -1);
	assert_int_equal(hex_value('\0'), -1);
	assert_int_equal(hex_value(0xe9), -1);
}

static void
test_utf8_decode(void **state)
{
	static const struct {
		const char *s;
		int32_t cp;  /* -1: ill-formed */
		size_t len;  /* bytes taken (of the maximal subpart) */
	} cases[] = {
	    {"A", 'A', 1},
	    {"\xc3\xa9", 0xe9, 2},
	    {"\xe2\x82\xac", 0x20ac, 3},
	    {"\xf0\x9f\x98\x80", 0x1f600, 4},
	    {"\xf4\x8f\xbf\xbf", 0x10ffff, 4},
	    {"\xc0\xaf", -1, 1},	    /* overlong lead */
	    {"\xe0\x80\xaf", -1, 1},	    /* overlong: E0 80 */
	    {"\xed\xa0\x80", -1, 1},	    /* a surrogate */
	    {"\xf4\x90\x80\x80", -1, 1},    /* beyond U+10FFFF */
	    {"\xf5\x80", -1, 1},	    /* no such lead */
	    {"\x80", -1, 1},		    /* a lone continuation */
	    {"\xe2\x82", -1, 2},	    /* cut short: one U+FFFD for both */
	    {"\xf0\x9f\x98" "A", -1, 3},    /* cut by a character */
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		int32_t cp = utf8_decode((const unsigned char *)cases[i].s,
		    strlen(cases[i].s), &len);

		if (cp != cases[i].cp || len != cases[i].len)
			fail_msg("case %zu: %" PRId32 "/%zu, want %" PRId32
				 "/%zu",
			    i, cp, len, cases[i].cp, cases[i].len);
	}
	/* Never past n, even when the bytes there would continue it. */
	assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 1,
			     &len),
	    -1);
	assert_int_equal(len, 1);
}

static void
test_read_file(void **state)
{
	char *dir = tmp_dir("util"), *path, *data = NULL;
	struct stat st;
	size_t len;
	int fd;

	(void)state;
	path = path_join(dir, "f");
	spew(path, "secret\n", 7, 0600);
	assert_int_equal(read_file(path, 0, 7, &data, &len, &st), 0);
	assert_int_equal(len, 7);
	assert_string_equal(data, "secret\n");
	assert_int_equal(st.st_mode & 0777, 0600);
	free(data);
	errno = 0;
	assert_int_equal(read_file(path, 0, 6, &data, &len, NULL), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(read_file(dir, 0, 100, &data, &len, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(file_error(EINVAL), "not a regular file");
	free(path);
	path = path_join(dir, "none");
	assert_int_equal(read_file(path, 0, 100, &data, &len, NULL), -1);
	assert_int_equal(errno, ENOENT);
	free(path);
	path = path_join(dir, "f");
	/* An empty file is an empty string. */
	spew(path, "", 0, 0600);
	assert_int_equal(read_file(path, 0, 100, &data, &len, NULL), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);

	/* write_all, then read back through an open descriptor. */
	fd = open(path, O_RDWR | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "0123456789", 10), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(read_fd(fd, 10, &data, &len, NULL), 0);
	assert_string_equal(data, "0123456789");
	free(data);
	close(fd);
	free(path);

	/*
	 * Relative to a folder's descriptor: a symbolic link is refused with
	 * O_NOFOLLOW, and a FIFO is refused at once instead of waiting for a
	 * writer (O_NONBLOCK).
	 */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read_file_at(fd, "f", O_NOFOLLOW, 10, &data, &len,
			     NULL),
	    0);
	assert_int_equal(len, 10);
	assert_string_equal(data, "0123456789");
	free(data);
	assert_int_equal(symlinkat("f", fd, "link"), 0);
	assert_int_equal(read_file_at(fd, "link", 0, 10, &data, &len, NULL), 0);
	free(data);
	assert_int_equal(read_file_at(fd, "link", O_NOFOLLOW, 10, &data, &len,
			     NULL),
	    -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(mkfifoat(fd, "fifo", 0600), 0);
	assert_int_equal(read_file_at(fd, "fifo", O_NOFOLLOW, 10, &data, &len,
			     NULL),
	    -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
	rm_rf(dir);
}

/* Display width: wide CJK and emoji, zero-width marks and joins. */
static void
test_utf8_width(void **state)
{
	static const struct {
		const char *s;
		size_t width;
	} cases[] = {
	    {"", 0},
	    {"abc", 3},
	    {"\xe4\xbd\xa0\xe5\xa5\xbd", 4},		 /* 你好 */
	    {"\xf0\x9f\x8e\xac", 2},			 /* 🎬 */
	    {"e\xcc\x81", 1},				 /* e + combining acute */
	    {"\xef\xbd\x86", 2},				 /* fullwidth f */
	    {"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9", 2}, /* ZWJ */
	    {"\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 2},	 /* flag FR */
	    {"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 2},	 /* thumbs + tone */
	    {"\xff", 1},					 /* invalid byte */
	};
	size_t i, w, n;

	(void)state;
	for (i = 0; i < nitems(cases); i++)
		if (utf8_width(cases[i].s) != cases[i].width)
			fail_msg("case %zu: width %zu, want %zu", i,
			    utf8_width(cases[i].s), cases[i].width);
	/* 你好世界 in 5 columns: two characters, never half of one. */
	n = utf8_cut_width("\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96"
			   "\xe7\x95\x8c",
	    5, &w);
	assert_int_equal(n, 6);
	assert_int_equal(w, 4);
	n = utf8_cut_width("ab\xf0\x9f\x8e\xac", 3, &w);
	assert_int_equal(n, 2);
	n = utf8_cut_width("ab\xf0\x9f\x8e\xac", 4, &w);
	assert_int_equal(n, 6);
	assert_int_equal(w, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_i64_values),
	    cmocka_unit_test(test_parse_i64_rejects),
	    cmocka_unit_test(test_parse_i64_bounds),
	    cmocka_unit_test(test_valid_id),
	    cmocka_unit_test(test_buf_cap),
	    cmocka_unit_test(test_buf_unbounded),
	    cmocka_unit_test(test_url_escape),
	    cmocka_unit_test(test_url_unescape),
	    cmocka_unit_test(test_url_round_trip),
	    cmocka_unit_test(test_path_join),
	    cmocka_unit_test(test_path_dirname),
	    cmocka_unit_test(test_write_file_atomic),
	    cmocka_unit_test(test_mkdir_p),
	    cmocka_unit_test(test_fmt_iso8601),
	    cmocka_unit_test(test_rand),
	    cmocka_unit_test(test_log_escape_bytes),
	    cmocka_unit_test(test_log_escape_cut),
	    cmocka_unit_test(test_log_url),
	    cmocka_unit_test(test_hex_value),
	    cmocka_unit_test(test_utf8_decode),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_utf8_width),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL) == 0 ? 0
									     : 1;
}
