/* SPDX-License-Identifier: ISC */
/*
 * Moderation filters: hide by id, include and exclude by term (filter.h).
 *
 * Case folding works on the text's UTF-8 bytes: ASCII letters, and the
 * two-byte letters whose lower case is also two bytes (Latin-1, Latin
 * Extended-A, Greek, Cyrillic, Armenian), so a folded copy has the same
 * length and a match's offsets are the original's. Terms are folded once,
 * when added; a video's title and description once per check, into one
 * copy. Hide ids are kept sorted and found by binary search, so ranking a
 * large archive against a long hide list stays cheap.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "sha256.h"
#include "util.h"

struct filter {
	char **terms[FILTER_NLISTS];
	size_t n[FILTER_NLISTS];
};

struct filter *
filter_new(void)
{
	return xcalloc(1, sizeof(struct filter));
}

void
filter_free(struct filter *f)
{
	size_t l, i;

	if (f == NULL)
		return;
	for (l = 0; l < FILTER_NLISTS; l++) {
		for (i = 0; i < f->n[l]; i++)
			free(f->terms[l][i]);
		free(f->terms[l]);
	}
	free(f);
}

struct filter *
filter_dup(const struct filter *f)
{
	struct filter *d;
	size_t l, i;

	if (f == NULL)
		return NULL;
	d = filter_new();
	for (l = 0; l < FILTER_NLISTS; l++) {
		if (f->n[l] == 0)
			continue;
		d->terms[l] = xreallocarray(NULL, f->n[l], sizeof(char *));
		for (i = 0; i < f->n[l]; i++)
			d->terms[l][i] = xstrdup(f->terms[l][i]);
		d->n[l] = f->n[l];
	}
	return d;
}

size_t
filter_count(const struct filter *f, enum filter_list list)
{
	return f == NULL ? 0 : f->n[list];
}

int
filter_empty(const struct filter *f)
{
	return filter_count(f, FILTER_HIDE) == 0 &&
	    filter_count(f, FILTER_INCLUDE) == 0 &&
	    filter_count(f, FILTER_EXCLUDE) == 0;
}

int
filter_equal(const struct filter *a, const struct filter *b)
{
	size_t l, i;

	for (l = 0; l < FILTER_NLISTS; l++) {
		if (filter_count(a, l) != filter_count(b, l))
			return 0;
		for (i = 0; i < filter_count(a, l); i++)
			if (strcmp(a->terms[l][i], b->terms[l][i]) != 0)
				return 0;
	}
	return 1;
}

void
filter_digest(const struct filter *f, char out[FILTER_DIGEST_LEN + 1])
{
	struct buf b;
	size_t l, i;

	out[0] = '\0';
	if (filter_empty(f))
		return;
	buf_init(&b, 0);
	for (l = 0; l < FILTER_NLISTS; l++)
		for (i = 0; i < f->n[l]; i++)
			if (buf_printf(&b, "%zu:%s\n", l, f->terms[l][i]) == -1)
				break; /* unbounded buffer: cannot happen */
	sha256_hex(b.data, b.len, out);
	buf_free(&b);
}

/* The lower case of a code point below U+0800, or the code point itself. */
static uint32_t
fold_cp(uint32_t c)
{
	if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
	    (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
	    (c >= 0x410 && c <= 0x42F))
		return c + 0x20;
	if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) ||
	    (c >= 0x14A && c <= 0x177))
		return c | 1; /* even upper, odd lower */
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
		return (c & 1) ? c + 1 : c; /* odd upper, even lower */
	if (c >= 0x400 && c <= 0x40F)
		return c + 0x50;
	if (c >= 0x531 && c <= 0x556)
		return c + 0x30;
	switch (c) {
	case 0x178: /* Ÿ */
		return 0xFF;
	case 0x386: /* Ά */
		return 0x3AC;
	case 0x388: /* Έ Ή Ί */
	case 0x389:
	case 0x38A:
		return c + 37;
	case 0x38C: /* Ό */
		return 0x3CC;
	case 0x38E: /* Ύ Ώ */
	case 0x38F:
		return c + 63;
	case 0x3C2: /* final sigma matches sigma */
		return 0x3C3;
	}
	return c;
}

void
filter_fold(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	uint32_t c;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] >= 'A' && p[i] <= 'Z') {
			p[i] = (unsigned char)(p[i] + 0x20);
			continue;
		}
		/* Two-byte sequences only: C2..DF then a continuation byte. */
		if (p[i] < 0xC2 || p[i] > 0xDF || i + 1 >= len ||
		    (p[i + 1] & 0xC0) != 0x80)
			continue;
		c = ((uint32_t)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
		c = fold_cp(c);
		p[i] = (unsigned char)(0xC0 | (c >> 6));
		p[i + 1] = (unsigned char)(0x80 | (c & 0x3F));
		i++;
	}
}

/*
 * True when code point 'c' continues a hashtag: letters, digits, '_' and
 * the letters, marks and ideographs of other scripts. Spaces,
 * punctuation, symbols and emoji end it.
 */
static int
tag_char(uint32_t c)
{
	if (c < 0x80)
		return isalnum((int)c) || c == '_';
	if (c < 0xC0) /* Latin-1 punctuation and symbols, but ª µ º */
		return c == 0xAA || c == 0xB5 || c == 0xBA;
	if (c == 0xD7 || c == 0xF7) /* × ÷ */
		return 0;
	if (c < 0x2000)
		return 1;
	if (c >= 0x3040 && c < 0xD800) /* kana, CJK, Hangul */
		return 1;
	if (c >= 0xF900 && c < 0xFE00) /* compatibility ideographs */
		return 1;
	return c >= 0xFF10 && c <= 0xFFDC && !(c > 0xFF19 && c < 0xFF21) &&
	    !(c > 0xFF3A && c < 0xFF41) && !(c > 0xFF5A && c < 0xFF66);
}

/* True when folded 'term' occurs in folded text t[0..len). */
static int
term_in(const char *term, const char *t, size_t len)
{
	size_t m = strlen(term), off = 0, n;
	const char *p;
	int32_t c;

	while (off < len && (p = memmem(t + off, len - off, term, m)) != NULL) {
		size_t end = (size_t)(p - t) + m;

		if (term[0] != '#' || end == len)
			return 1;
		/* An ill-formed sequence (-1) ends the hashtag, as U+FFFD. */
		c = utf8_decode((const unsigned char *)t + end, len - end, &n);
		if (!tag_char(c < 0 ? 0xFFFD : (uint32_t)c))
			return 1;
		off = (size_t)(p - t) + 1;
	}
	return 0;
}

/* A folded copy of the text, or NULL for none. */
static char *
folded(const char *s, size_t *len)
{
	char *c;

	*len = s != NULL ? strlen(s) : 0;
	if (*len == 0)
		return NULL;
	c = xstrndup(s, *len);
	filter_fold(c, *len);
	return c;
}

/* The first term of 'list' found in the title or description, or NULL. */
static const char *
first_match(const struct filter *f, enum filter_list list, const char *t,
    size_t tlen, const char *d, size_t dlen)
{
	size_t i;

	for (i = 0; i < f->n[list]; i++)
		if ((t != NULL && term_in(f->terms[list][i], t, tlen)) ||
		    (d != NULL && term_in(f->terms[list][i], d, dlen)))
			return f->terms[list][i];
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum filter_verdict
filter_check(const struct filter *f, const char *id, const char *title,
    const char *description, const char **term)
{
	enum filter_verdict v = FILTER_KEEP;
	const char *hit;
	char *t, *d;
	size_t tlen, dlen;

	if (f == NULL)
		return FILTER_KEEP;
	if (id != NULL && f->n[FILTER_HIDE] > 0 &&
	    bsearch(&id, f->terms[FILTER_HIDE], f->n[FILTER_HIDE],
		sizeof(char *), cmp_str) != NULL)
		return FILTER_HIDDEN;
	if (f->n[FILTER_INCLUDE] == 0 && f->n[FILTER_EXCLUDE] == 0)
		return FILTER_KEEP;
	t = folded(title, &tlen);
	d = folded(description, &dlen);
	if (f->n[FILTER_INCLUDE] > 0 &&
	    first_match(f, FILTER_INCLUDE, t, tlen, d, dlen) == NULL)
		v = FILTER_NOT_INCLUDED;
	else if ((hit = first_match(f, FILTER_EXCLUDE, t, tlen, d, dlen)) !=
	    NULL) {
		v = FILTER_EXCLUDED;
		if (term != NULL)
			*term = hit;
	}
	free(t);
	free(d);
	return v;
}

const char *
filter_verdict_str(enum filter_verdict v)
{
	switch (v) {
	case FILTER_HIDDEN:
		return "hidden by id";
	case FILTER_NOT_INCLUDED:
		return "no include term";
	case FILTER_EXCLUDED:
		return "excluded";
	default:
		return "kept";
	}
}

/* Check a term of include or exclude. */
static int
check_term(const char *s, size_t len, char *err, size_t errlen)
{
	size_t i, spaces = 0;

	if (len == 0)
		return errf(err, errlen, "a term must not be empty");
	if (len > FILTER_TERM_MAX)
		return errf(err, errlen, "a term must be at most %d bytes",
		    FILTER_TERM_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7F)
			return errf(err, errlen,
			    "a term must not contain control characters");
		if (c == ' ')
			spaces++;
		if (s[0] == '#' && i > 0 && (c == ' ' || c == '#'))
			return errf(err, errlen,
			    "a hashtag term is one word after '#', without "
			    "spaces or another '#'; write \"#one\", \"#two\" "
			    "as two terms");
	}
	if (spaces == len)
		return errf(err, errlen, "a term must not be only spaces");
	if (s[0] == '#' && len == 1)
		return errf(err, errlen,
		    "a hashtag term needs a word after '#', e.g. \"#recipe\"");
	return 0;
}

int
filter_add(struct filter *f, enum filter_list list, const char *s,
    size_t len, char *err, size_t errlen)
{
	char *t;
	size_t i;

	if (list == FILTER_HIDE) {
		if (!valid_id(s, len))
			return errf(err, errlen,
			    "an entry must be a video id, 1 to 20 digits (the "
			    "number at the end of the video's URL)");
	} else if (check_term(s, len, err, errlen) == -1) {
		return -1;
	}
	if (f->n[list] == FILTER_TERMS_MAX)
		return errf(err, errlen, "at most %d terms are supported",
		    FILTER_TERMS_MAX);
	t = xstrndup(s, len);
	if (list != FILTER_HIDE)
		filter_fold(t, len);
	f->terms[list] = xreallocarray(f->terms[list], f->n[list] + 1,
	    sizeof(char *));
	i = f->n[list]++;
	if (list == FILTER_HIDE) /* kept sorted for bsearch() */
		for (; i > 0 && strcmp(f->terms[list][i - 1], t) > 0; i--)
			f->terms[list][i] = f->terms[list][i - 1];
	f->terms[list][i] = t;
	return 0;
}
