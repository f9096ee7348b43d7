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
