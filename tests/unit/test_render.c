/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/render.c: the bytes `videos` and `export` write for a
 * video in JSON, NDJSON, TSV, CSV and Atom, above all their escaping of
 * awkward text (quotes, separators, line breaks, control characters,
 * invalid UTF-8) and their columns, which come from video_fields.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "render.h"
#include "store.h"
#include "util.h"

/* True when the buffer ends with 's'. */
static int
ends_with(const struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return b->len >= n && memcmp(b->data + b->len - n, s, n) == 0;
}

/* A complete row as the mirror holds it. */
static struct store_video
video(void)
{
	struct store_video v;

	memset(&v, 0, sizeof(v));
	v.account = "brand";
	v.id = "7300000000000000001";
	v.position = 1;
	v.title = "Hello";
	v.description = "first line\nsecond";
	v.duration = 15;
	v.width = 1080;
	v.height = 1920;
	v.cover = "covers/brand/7300000000000000001.jpg";
	v.embed_link = "https://www.tiktok.com/embed/1";
	v.embed_html = NULL;
	v.share_url = "https://www.tiktok.com/@u/video/1?a=1&b=2";
	v.created_at = 1700000000;
	v.total_shares = 3;
	v.total_likes = 4;
	v.total_comments = STORE_NULL;
	v.total_views = 5000000000LL;
	v.first_seen_at = 1700000100;
	v.updated_at = 1700000200;
	v.deleted_at = STORE_NULL;
	return v;
}

static void
test_columns(void **state)
{
	struct store_video v = video();
	struct render_value vals[RENDER_NCOLS];
	char iso[32];

	(void)state;
	/* The videos table's columns in its order, created_at_iso after
	 * created_at: what `videos --tsv`, --json and export have shown. */
	assert_int_equal(RENDER_NCOLS, 21);
	assert_string_equal(render_cols[0], "account");
	assert_string_equal(render_cols[3], "title");
	assert_string_equal(render_cols[8], "cover");
	assert_string_equal(render_cols[RENDER_COL_created_at], "created_at");
	assert_int_equal(RENDER_COL_created_at_iso, 13);
	assert_string_equal(render_cols[13], "created_at_iso");
	assert_string_equal(render_cols[17], "total_views");
	assert_string_equal(render_cols[20], "deleted_at");
	render_values(&v, iso, sizeof(iso), vals);
	assert_string_equal(vals[RENDER_COL_created_at_iso].str,
	    "2023-11-14T22:13:20Z");
	assert_true(vals[RENDER_COL_total_views].is_num);
	assert_true(vals[RENDER_COL_total_views].num == 5000000000LL);
	assert_false(vals[RENDER_COL_embed_html].is_num);
	assert_null(vals[RENDER_COL_embed_html].str);
}

static void
test_json_escaping(void **state)
{
	struct store_video v = video();
	struct buf b;
	struct json j;
	char err[128], *s = NULL;

	(void)state;
	v.title = "quote \" backslash \\ tab \t nul-free \x01 \xf0\x9f\x98\x80";
	buf_init(&b, 0);
	render_video_json(&b, &v, "14/11/2023");
	/* Valid JSON that gives back exactly the text. */
	assert_int_equal(json_parse(&j, b.data, b.len, err, sizeof(err)), 0);
	assert_int_equal(json_get_string(&j, 0, "title", 1024, &s, err,
			     sizeof(err)),
	    0);
	assert_string_equal(s, v.title);
	free(s);
	json_free(&j);
	assert_non_null(strstr(b.data, "\"embed_html\":null,"));
	assert_non_null(strstr(b.data, "\"total_comments\":null,"));
	assert_non_null(strstr(b.data, "\"total_views\":5000000000,"));
	assert_non_null(strstr(b.data,
	    "\"created_at_iso\":\"2023-11-14T22:13:20Z\","
	    "\"created_at_formatted\":\"14/11/2023\",\"total_shares\":3"));
	assert_int_equal(b.data[0], '{');
	assert_int_equal(b.data[b.len - 1], '}');
	buf_free(&b);
}

static void
test_json_files(void **state)
{
	struct store_video v = video(), w = video();
	struct render_item items[2];
	struct buf b;

	(void)state;
	memset(items, 0, sizeof(items));
	w.id = "7300000000000000002";
	items[0].v = &v;
	items[1].v = &w;
	buf_init(&b, 0);
	render_json(&b, items, 0);
	assert_string_equal(b.data, "[]\n");
	buf_reset(&b);
	render_json(&b, items, 2);
	assert_true(strncmp(b.data, "[\n  {\"account\":\"brand\",", 23) == 0);
	assert_non_null(strstr(b.data, "},\n  {\"account\""));
	assert_true(ends_with(&b, "}\n]\n"));
	buf_reset(&b);
	/* NDJSON: one object per line, a line break inside text escaped. */
	render_ndjson(&b, items, 2);
	assert_non_null(strstr(b.data, "\"first line\\nsecond\""));
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_non_null(memchr(b.data, '\n', b.len));
	assert_true(strchr(b.data, '\n') ==
	    strstr(b.data, "}\n{\"account\"") + 1);
	buf_free(&b);
}

static void
test_tsv(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	render_tsv_str(&b, 1, "a\tb\nc\rd\\e");
	assert_string_equal(b.data, "a\\tb\\nc\\rd\\\\e");
	render_tsv_str(&b, 0, NULL);
	render_tsv_int(&b, 0, STORE_NULL);
	render_tsv_int(&b, 0, -7);
	render_tsv_str(&b, 0, "\xc3\xa9");
	assert_string_equal(b.data, "a\\tb\\nc\\rd\\\\e\t\t\t-7\t\xc3\xa9");
	/* A title cannot drive the terminal: C0, DEL, C1, bidi as \xNN. */
	buf_reset(&b);
	render_tsv_str(&b, 1, "\x1b]0;t\x07\x7f\xc2\x9b" "1m\xe2\x80\xaex\xe2\x81\xa6"
			      "\xe2\x80\x94");
	assert_string_equal(b.data, "\\x1b]0;t\\x07\\x7f\\xc2\\x9b" "1m"
				    "\\xe2\\x80\\xaex\\xe2\\x81\\xa6\xe2\x80\x94");
	buf_reset(&b);
	render_tsv_names(&b, render_cols, RENDER_NCOLS);
	assert_true(strncmp(b.data, "account\tid\tposition\ttitle\t", 26) ==
	    0);
	assert_true(
	    ends_with(&b, "\tfirst_seen_at\tupdated_at\tdeleted_at\n"));
	buf_free(&b);
}

/* Lines of other columns (`videos --history`): text, numbers, nulls. */
static void
test_values(void **state)
{
	static const char *const keys[] = {"s", "n", "z", "t"};
	const struct render_value v[] = {{.str = "a\tb"},
	    {.num = 5, .is_num = 1}, {.num = STORE_NULL, .is_num = 1},
	    {.str = NULL}};
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	render_tsv_names(&b, keys, 4);
	render_tsv_values(&b, v, 4);
	assert_string_equal(b.data, "s\tn\tz\tt\na\\tb\t5\t\t\n");
	buf_reset(&b);
	render_json_values(&b, keys, v, 4);
	assert_string_equal(b.data,
	    "{\"s\":\"a\\tb\",\"n\":5,\"z\":null,\"t\":null}");
	buf_free(&b);
}

static void
test_csv(void **state)
{
	struct store_video v = video();
	struct render_item it;
	struct buf b;
	const char *row;

	(void)state;
	buf_init(&b, 0);
	render_csv_field(&b, "plain", 0);
	render_csv_field(&b, "|a,b|", 0);
	render_csv_field(&b, "|say \"hi\"|", 0);
	render_csv_field(&b, "|l1\r\nl2|", 0);
	render_csv_field(&b, "", 0);
	assert_string_equal(b.data, "plain\"|a,b|\"\"|say \"\"hi\"\"|\""
				    "\"|l1\r\nl2|\"");
	/* What a spreadsheet would run as a formula gets a leading '. */
	buf_reset(&b);
	render_csv_field(&b, "=1+1", 0);
	render_csv_field(&b, "+1|", 0);
	render_csv_field(&b, "-2|", 0);
	render_csv_field(&b, "@SUM(A1)|", 0);
	render_csv_field(&b, "\tx|", 0);
	render_csv_field(&b, "\rx|", 0);
	render_csv_field(&b, "=a,b|", 0);
	render_csv_field(&b, "a=b|", 0);
	assert_string_equal(b.data, "'=1+1'+1|'-2|'@SUM(A1)|'\tx|\"'\rx|\""
				    "\"'=a,b|\"a=b|");
	buf_reset(&b);
	render_csv_field(&b, "=1+1", 1);
	assert_string_equal(b.data, "=1+1");
	buf_reset(&b);
	memset(&it, 0, sizeof(it));
	v.title = "a, \"b\"";
	it.v = &v;
	render_csv(&b, &it, 1, 0);
	/* The header, then the row; CRLF line ends (RFC 4180). */
	assert_true(strncmp(b.data, "account,id,position,title,", 26) == 0);
	row = strstr(b.data, "\r\n") + 2;
	assert_true(strncmp(row,
			"brand,7300000000000000001,1,\"a, \"\"b\"\"\","
			"\"first line\nsecond\",15,1080,1920,",
			strlen("brand,7300000000000000001,1,\"a, \"\"b\"\"\","
			       "\"first line\nsecond\",15,1080,1920,")) == 0);
	/* NULLs are empty; the share URL's & needs no quoting. */
	assert_non_null(strstr(row, ",,https://www.tiktok.com/@u/video/1?"
				    "a=1&b=2,1700000000,2023-11-14T22:13:20Z,"
				    "3,4,,5000000000,1700000100,1700000200,"
				    "\r\n"));
	buf_free(&b);
}

static void
test_xml_text(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	render_xml_text(&b, "<a & \"b\">\r\n\t", 0);
	assert_string_equal(b.data, "&lt;a &amp; \"b\"&gt;&#13;\n\t");
	buf_reset(&b);
	render_xml_text(&b, "\"x\"\n\t", 1);
	assert_string_equal(b.data, "&quot;x&quot;&#10;&#9;");
	buf_reset(&b);
	/* Control characters, invalid UTF-8 (a lone continuation byte, an
	 * overlong form, a surrogate, a cut sequence) and U+FFFE become
	 * U+FFFD; valid multibyte text stays. */
	render_xml_text(&b,
	    "\x01|\x80|\xc0\xaf|\xed\xa0\x80|\xef\xbf\xbe|\xe2\x82\xac|"
	    "\xe2\x82",
	    0);
	assert_string_equal(b.data,
	    "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd|\xe2\x82\xac|"
	    "\xef\xbf\xbd\xef\xbf\xbd");
	buf_free(&b);
}

static void
test_atom(void **state)
{
	struct store_video v = video(), w = video();
	struct render_item items[2];
	struct render_feed f;
	struct buf b;
	const char *head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			   "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
			   "  <id>tag:tiktok-mirror,2025:brand</id>\n"
			   "  <title>Brand &amp; Co</title>\n"
			   "  <updated>2023-11-14T22:18:20Z</updated>\n"
			   "  <author>\n"
			   "    <name>Brand &amp; Co</name>\n";

	(void)state;
	memset(items, 0, sizeof(items));
	v.updated_at = 1700000300;
	items[0].v = &v;
	items[0].cover_type = "image/jpeg";
	items[0].cover_size = 1234;
	/* No title: the description's first line; no cover. */
	w.id = "7300000000000000002";
	w.title = "";
	w.description = "Line <one> & more\nline two";
	w.cover = NULL;
	w.share_url = "https://x/?a=1&b=\"2\"";
	items[1].v = &w;
	memset(&f, 0, sizeof(f));
	f.account = "brand";
	f.title = "Brand & Co";
	buf_init(&b, 0);
	render_atom(&b, &f, items, 2);
	/* The feed's updated is its newest entry's. */
	assert_true(strncmp(b.data, head, strlen(head)) == 0);
	assert_non_null(strstr(b.data,
	    "    <id>tag:tiktok-mirror,2025:brand/7300000000000000001</id>\n"
	    "    <title>Hello</title>\n"));
	assert_non_null(strstr(b.data,
	    "<link rel=\"enclosure\" type=\"image/jpeg\" length=\"1234\" "
	    "href=\"covers/brand/7300000000000000001.jpg\"/>"));
	assert_non_null(strstr(b.data,
	    "    <title>Line &lt;one&gt; &amp; more</title>\n"));
	assert_non_null(strstr(b.data,
	    "href=\"https://x/?a=1&amp;b=&quot;2&quot;\"/>"));
	/* One enclosure: the second entry has no cover. */
	assert_true(strstr(strstr(b.data, "enclosure") + 1, "enclosure") ==
	    NULL);
	assert_true(ends_with(&b, "</feed>\n"));
	/* Only https links: not javascript:, data: or http:. */
	w.share_url = "javascript:alert(1)";
	v.share_url = "http://www.tiktok.com/@u/video/1";
	buf_reset(&b);
	render_atom(&b, &f, items, 2);
	assert_null(strstr(b.data, "rel=\"alternate\""));
	buf_free(&b);
}

/* --base-url: absolute links, self and alternate; content without an
 * https share_url. */
static void
test_atom_base_url(void **state)
{
	struct store_video v = video(), w = video();
	struct render_item items[2];
	struct render_feed f;
	struct buf b;
	const char *e2;

	(void)state;
	memset(items, 0, sizeof(items));
	items[0].v = &v;
	items[0].cover_type = "image/jpeg";
	items[0].cover_size = 1234;
	w.id = "7300000000000000002";
	w.title = "<b>no link</b>";
	w.share_url = "javascript:alert(1)";
	w.cover = NULL;
	items[1].v = &w;
	memset(&f, 0, sizeof(f));
	f.account = "brand";
	f.title = "Brand";
	f.base_url = "https://example.com/t&v";
	buf_init(&b, 0);
	render_atom(&b, &f, items, 2);
	assert_non_null(strstr(b.data,
	    "  <id>tag:tiktok-mirror,2025:brand</id>\n"
	    "  <link rel=\"self\" type=\"application/atom+xml\" "
	    "href=\"https://example.com/t&amp;v/brand.atom\"/>\n"
	    "  <link rel=\"alternate\" type=\"text/html\" "
	    "href=\"https://example.com/t&amp;v/\"/>\n"
	    "  <title>Brand</title>\n"));
	assert_non_null(strstr(b.data,
	    "href=\"https://example.com/t&amp;v/covers/brand/"
	    "7300000000000000001.jpg\"/>"));
	/* The first entry links to TikTok and has no content (below). */
	e2 = strstr(b.data, "7300000000000000002</id>");
	assert_non_null(e2);
	/* ...the second gets no javascript: link, but its title as content. */
	assert_null(strstr(b.data, "javascript:"));
	assert_non_null(strstr(e2,
	    "    <content type=\"text\">&lt;b&gt;no link&lt;/b&gt;</content>\n"
	    "  </entry>\n"));
	assert_true(strstr(b.data, "<content") > e2);
	buf_free(&b);
}

static void
test_cut(void **state)
{
	char *s;

	(void)state;
	assert_null(render_cut(NULL, 3));
	s = render_cut("h\xc3\xa9llo", 2);
	assert_string_equal(s, "h\xc3\xa9");
	free(s);
	s = render_cut("abc", -1);
	assert_string_equal(s, "abc");
	free(s);
	s = render_cut("abc", 0);
	assert_string_equal(s, "");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_columns),
	    cmocka_unit_test(test_json_escaping),
	    cmocka_unit_test(test_json_files),
	    cmocka_unit_test(test_tsv),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_csv),
	    cmocka_unit_test(test_xml_text),
	    cmocka_unit_test(test_atom),
	    cmocka_unit_test(test_atom_base_url),
	    cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
