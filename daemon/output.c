/* SPDX-License-Identifier: ISC */
/* Output helpers for the reading commands. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "output.h"
#include "store.h"
#include "util.h"

void
out_json_str(struct buf *b, int first, const char *key, const char *v)
{
	if (buf_printf(b, "%s\"%s\":", first ? "" : ",", key) == -1 ||
	    (v == NULL ? buf_addstr(b, "null") : json_quote(b, v)) == -1)
		fatalx("output too large");
}

void
out_json_int(struct buf *b, int first, const char *key, int64_t v)
{
	int rc;

	if (v == STORE_NULL)
		rc = buf_printf(b, "%s\"%s\":null", first ? "" : ",", key);
	else
		rc = buf_printf(b, "%s\"%s\":%lld", first ? "" : ",", key,
		    (long long)v);
	if (rc == -1)
		fatalx("output too large");
}

void
out_tsv_str(FILE *f, int first, const char *v)
{
	if (!first)
		fputc('\t', f);
	for (; v != NULL && *v != '\0'; v++) {
		switch (*v) {
		case '\t':
			fputs("\\t", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		default:
			fputc(*v, f);
		}
	}
}

void
out_tsv_int(FILE *f, int first, int64_t v)
{
	if (!first)
		fputc('\t', f);
	if (v != STORE_NULL)
		fprintf(f, "%lld", (long long)v);
}

const char *
out_time(int64_t t, char *b, size_t len)
{
	if (t == STORE_NULL)
		snprintf(b, len, "-");
	else
		fmt_iso8601(t, b, len);
	return b;
}

int
out_flush(struct buf *b)
{
	int rc = 0;

	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		rc = -1;
	buf_reset(b);
	return rc;
}

char *
out_cut(const char *s, int64_t n)
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

#define OUT_KEY(n, key, kind) #n, VF_IF_TIME(kind, #n "_iso",)
const char *const out_video_keys[OUT_VIDEO_NKEYS] = {"account", "id",
    "position", VIDEO_FIELDS(OUT_KEY) "first_seen_at", "updated_at",
    "deleted_at"};

static void
set_text(struct out_value *o, const char *s)
{
	o->str = s;
	o->num = STORE_NULL;
	o->is_num = 0;
}

static void
set_int(struct out_value *o, int64_t n)
{
	o->str = NULL;
	o->num = n;
	o->is_num = 1;
}

void
out_video_values(const struct store_video *v, char *iso, size_t isolen,
    struct out_value *o)
{
	set_text(&o[OUT_COL_account], v->account);
	set_text(&o[OUT_COL_id], v->id);
	set_int(&o[OUT_COL_position], v->position);
#define OUT_SET(n, key, kind)                                                  \
	VF_BY_TYPE(set_, kind)(&o[OUT_COL_##n], v->n);                        \
	VF_IF_TIME(kind, fmt_iso8601(v->n, iso, isolen);                      \
	    set_text(&o[OUT_COL_##n##_iso], iso);)
	VIDEO_FIELDS(OUT_SET)
	set_int(&o[OUT_COL_first_seen_at], v->first_seen_at);
	set_int(&o[OUT_COL_updated_at], v->updated_at);
	set_int(&o[OUT_COL_deleted_at], v->deleted_at);
}

void
out_video_json(struct buf *b, const struct store_video *v,
    const char *formatted)
{
	struct out_value vals[OUT_VIDEO_NKEYS];
	char iso[64];
	size_t i;

	out_video_values(v, iso, sizeof(iso), vals);
	if (buf_addstr(b, "{") == -1)
		fatalx("output too large");
	for (i = 0; i < OUT_VIDEO_NKEYS; i++) {
		if (vals[i].is_num)
			out_json_int(b, i == 0, out_video_keys[i], vals[i].num);
		else
			out_json_str(b, i == 0, out_video_keys[i], vals[i].str);
		if (i == OUT_COL_created_at_iso && formatted != NULL)
			out_json_str(b, 0, "created_at_formatted", formatted);
	}
	if (buf_addstr(b, "}") == -1)
		fatalx("output too large");
}
