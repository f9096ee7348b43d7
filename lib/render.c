/* SPDX-License-Identifier: ISC */
/*
 * A video as the reading commands and export write it. Every format takes
 * its columns from render_values(), which video_fields.h builds, so a new
 * field shows in all of them at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "render.h"
#include "util.h"

#define RENDER_TAG "tag:tiktok-mirror,2025:"

static void
add(struct buf *b, const char *s)
{
	if (buf_addstr(b, s) == -1)
		fatalx("output too large");
}

static void
addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
addf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(small))
		fatalx("internal error: output line too long");
	add(b, small);
}

static void
add_bytes(struct buf *b, const void *p, size_t n)
{
	if (buf_add(b, p, n) == -1)
		fatalx("output too large");
}

void
render_json_str(struct buf *b, int first, const char *key, const char *v)
{
	addf(b, "%s\"%s\":", first ? "" : ",", key);
	if (v == NULL)
		add(b, "null");
	else if (json_quote(b, v) == -1)
		fatalx("output too large");
}

void
render_json_int(struct buf *b, int first, const char *key, int64_t v)
{
	if (v == STORE_NULL)
		addf(b, "%s\"%s\":null", first ? "" : ",", key);
	else
		addf(b, "%s\"%s\":%lld", first ? "" : ",", key, (long long)v);
}

void
render_tsv_str(struct buf *b, int first, const char *v)
{
	size_t n = v != NULL ? strlen(v) : 0, seq;

	if (!first)
		add(b, "\t");
	while (n > 0) {
		seq = 1;
		if (*v == '\t' || *v == '\n' || *v == '\r' || *v == '\\')
			add(b, *v == '\t' ? "\\t" : *v == '\n' ? "\\n"
			    : *v == '\r' ? "\\r" : "\\\\");
		else if ((seq = log_plain_seq(v, n)) == 0) {
			/*
			 * Every other control (C0, DEL, C1), bidi override or
			 * invalid byte as \xNN: a title must not be able to
			 * drive the terminal that shows it.
			 */
			addf(b, "\\x%02x", (unsigned char)*v);
			seq = 1;
		} else
			add_bytes(b, v, seq);
		v += seq;
		n -= seq;
	}
}

void
render_tsv_int(struct buf *b, int first, int64_t v)
{
	if (!first)
		add(b, "\t");
	if (v != STORE_NULL)
		addf(b, "%lld", (long long)v);
}

void
render_csv_field(struct buf *b, const char *s, int raw)
{
	int neutral = !raw && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	size_t n;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		add(b, neutral ? "'" : "");
		add(b, s);
		return;
	}
	add(b, neutral ? "\"'" : "\"");
	while (*s != '\0') {
		n = strcspn(s, "\"");
		add_bytes(b, s, n);
		s += n;
		if (*s == '"') {
			add(b, "\"\"");
			s++;
		}
	}
	add(b, "\"");
}

void
render_xml_text(struct buf *b, const char *s, int attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	long c;

	while (p != NULL && *p != '\0') {
		c = utf8_decode(p, strnlen((const char *)p, 4), &n);
		if (c == -1)
			n = 1; /* one U+FFFD per byte that is no character */
		if (c == '&')
			add(b, "&amp;");
		else if (c == '<')
			add(b, "&lt;");
		else if (c == '>')
			add(b, "&gt;");
		else if (c == '"' && attr)
			add(b, "&quot;");
		else if (c == '\r' || (attr && (c == '\n' || c == '\t')))
			addf(b, "&#%ld;", c);
		else if (c == -1 || (c < 0x20 && c != '\t' && c != '\n') ||
		    c == 0xfffe || c == 0xffff)
			add(b, "\xef\xbf\xbd");
		else
			add_bytes(b, p, n);
		p += n;
	}
}

char *
render_cut(const char *s, int64_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (s == NULL)
		return NULL;
	while (p[i] != '\0' && n > 0) {
		i++;
		while ((p[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return xstrndup(s, n < 0 ? strlen(s) : i);
}

#define RENDER_NAME(n, key, kind) #n, VF_IF_TIME(kind, #n "_iso", )
const char *const render_cols[RENDER_NCOLS] = {"account", "id", "position",
    VIDEO_FIELDS(RENDER_NAME) "first_seen_at", "updated_at", "deleted_at"};

static void
set_text(struct render_value *o, const char *s)
{
	o->str = s;
	o->num = STORE_NULL;
	o->is_num = 0;
}

static void
set_int(struct render_value *o, int64_t n)
{
	o->str = NULL;
	o->num = n;
	o->is_num = 1;
}

void
render_values(const struct store_video *v, char *iso, size_t isolen,
    struct render_value *o)
{
	set_text(&o[RENDER_COL_account], v->account);
	set_text(&o[RENDER_COL_id], v->id);
	set_int(&o[RENDER_COL_position], v->position);
#define RENDER_SET(n, key, kind)                                              \
	VF_BY_TYPE(set_, kind)(&o[RENDER_COL_##n], v->n);                     \
	VF_IF_TIME(kind, fmt_iso8601(v->n, iso, isolen);                      \
	    set_text(&o[RENDER_COL_##n##_iso], iso);)
	VIDEO_FIELDS(RENDER_SET)
	set_int(&o[RENDER_COL_first_seen_at], v->first_seen_at);
	set_int(&o[RENDER_COL_updated_at], v->updated_at);
	set_int(&o[RENDER_COL_deleted_at], v->deleted_at);
}

void
render_video_json(struct buf *b, const struct store_video *v,
    const char *formatted)
{
	struct render_value vals[RENDER_NCOLS];
	char iso[64];
	size_t i;

	render_values(v, iso, sizeof(iso), vals);
	add(b, "{");
	for (i = 0; i < RENDER_NCOLS; i++) {
		render_json_value(b, i == 0, render_cols[i], &vals[i]);
		if (i == RENDER_COL_created_at_iso && formatted != NULL)
			render_json_str(b, 0, "created_at_formatted",
			    formatted);
	}
	add(b, "}");
}

void
render_json_value(struct buf *b, int first, const char *key,
    const struct render_value *v)
{
	if (v->is_num)
		render_json_int(b, first, key, v->num);
	else
		render_json_str(b, first, key, v->str);
}

void
render_json_values(struct buf *b, const char *const *keys,
    const struct render_value *vals, size_t n)
{
	size_t i;

	add(b, "{");
	for (i = 0; i < n; i++)
		render_json_value(b, i == 0, keys[i], &vals[i]);
	add(b, "}");
}

void
render_tsv_names(struct buf *b, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		render_tsv_str(b, i == 0, names[i]);
	add(b, "\n");
}

void
render_tsv_values(struct buf *b, const struct render_value *vals, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (vals[i].is_num)
			render_tsv_int(b, i == 0, vals[i].num);
		else
			render_tsv_str(b, i == 0, vals[i].str);
	}
	add(b, "\n");
}

void
render_json(struct buf *b, const struct render_item *items, size_t n)
{
	size_t i;

	add(b, "[");
	for (i = 0; i < n; i++) {
		add(b, i ? ",\n  " : "\n  ");
		render_video_json(b, items[i].v, NULL);
	}
	add(b, n ? "\n]\n" : "]\n");
}

void
render_ndjson(struct buf *b, const struct render_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		render_video_json(b, items[i].v, NULL);
		add(b, "\n");
	}
}

void
render_csv(struct buf *b, const struct render_item *items, size_t n, int raw)
{
	struct render_value vals[RENDER_NCOLS];
	char iso[64];
	size_t i, k;

	for (k = 0; k < RENDER_NCOLS; k++) {
		add(b, k ? "," : "");
		render_csv_field(b, render_cols[k], 1);
	}
	add(b, "\r\n");
	for (i = 0; i < n; i++) {
		render_values(items[i].v, iso, sizeof(iso), vals);
		for (k = 0; k < RENDER_NCOLS; k++) {
			add(b, k ? "," : "");
			if (vals[k].is_num && vals[k].num != STORE_NULL)
				addf(b, "%lld", (long long)vals[k].num);
			else if (!vals[k].is_num && vals[k].str != NULL)
				render_csv_field(b, vals[k].str, raw);
		}
		add(b, "\r\n");
	}
}

static void
xml_element(struct buf *b, const char *indent, const char *name,
    const char *text)
{
	addf(b, "%s<%s>", indent, name);
	render_xml_text(b, text, 0);
	addf(b, "</%s>\n", name);
}

/* An entry's title: the video's, else its description's first line. */
static char *
entry_title(const struct store_video *v)
{
	const char *d = v->description ? v->description : "";
	char *line, *t;

	if (v->title != NULL && v->title[0] != '\0')
		return xstrdup(v->title);
	line = xstrndup(d, strcspn(d, "\r\n"));
	if (line[0] == '\0') {
		free(line);
		return xasprintf("Video %s", v->id);
	}
	t = render_cut(line, 100);
	free(line);
	return t;
}

/* One <entry> of the feed. */
static void
atom_entry(struct buf *b, const struct render_feed *f,
    const struct render_item *it)
{
	const struct store_video *v = it->v;
	const char *account = f->account;
	char when[64], *title;
	int alternate;

	add(b, "  <entry>\n");
	addf(b, "    <id>" RENDER_TAG "%s/%s</id>\n", account, v->id);
	title = entry_title(v);
	xml_element(b, "    ", "title", title);
	fmt_iso8601(v->updated_at, when, sizeof(when));
	addf(b, "    <updated>%s</updated>\n", when);
	fmt_iso8601(v->created_at, when, sizeof(when));
	addf(b, "    <published>%s</published>\n", when);
	alternate = v->share_url != NULL &&
	    strncmp(v->share_url, "https://", 8) == 0;
	if (alternate) {
		add(b, "    <link rel=\"alternate\" type=\"text/html\" "
		       "href=\"");
		render_xml_text(b, v->share_url, 1);
		add(b, "\"/>\n");
	}
	if (v->cover != NULL && it->cover_type != NULL) {
		addf(b, "    <link rel=\"enclosure\" type=\"%s\" "
			"length=\"%lld\" href=\"",
		    it->cover_type, it->cover_size);
		if (f->base_url != NULL) {
			render_xml_text(b, f->base_url, 1);
			add(b, "/");
		}
		render_xml_text(b, v->cover, 1);
		add(b, "\"/>\n");
	}
	if (v->description != NULL && v->description[0] != '\0')
		xml_element(b, "    ", "summary", v->description);
	/* RFC 4287 4.1.2: an entry without an alternate link has content. */
	if (!alternate) {
		add(b, "    <content type=\"text\">");
		render_xml_text(b, title, 0);
		add(b, "</content>\n");
	}
	add(b, "  </entry>\n");
	free(title);
}

void
render_atom(struct buf *b, const struct render_feed *f,
    const struct render_item *items, size_t n)
{
	char when[64];
	int64_t newest = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (items[i].v->updated_at > newest)
			newest = items[i].v->updated_at;
	add(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	       "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
	addf(b, "  <id>" RENDER_TAG "%s</id>\n", f->account);
	if (f->base_url != NULL) {
		add(b, "  <link rel=\"self\" type=\"application/atom+xml\" "
		       "href=\"");
		render_xml_text(b, f->base_url, 1);
		addf(b, "/%s.atom\"/>\n", f->account);
		add(b, "  <link rel=\"alternate\" type=\"text/html\" href=\"");
		render_xml_text(b, f->base_url, 1);
		add(b, "/\"/>\n");
	}
	xml_element(b, "  ", "title", f->title);
	fmt_iso8601(newest, when, sizeof(when));
	addf(b, "  <updated>%s</updated>\n", when);
	add(b, "  <author>\n");
	xml_element(b, "    ", "name", f->title);
	add(b, "  </author>\n");
	add(b, "  <generator version=\"" VERSION "\">tiktok-mirror"
	       "</generator>\n");
	for (i = 0; i < n; i++)
		atom_entry(b, f, &items[i]);
	add(b, "</feed>\n");
}
