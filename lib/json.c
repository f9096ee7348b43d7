/* SPDX-License-Identifier: ISC */
/*
 * JSON decoding in three steps, each linear in the size of the text:
 *
 * 1. validate() checks the raw bytes against the RFC 8259 grammar (§2
 *    structure and white space, §6 numbers, §7 strings), limits the nesting
 *    to JSON_MAX_DEPTH and counts the tokens jsmn will make. It is our own
 *    code because jsmn is not a validator: even with JSMN_STRICT it takes
 *    {"a":"b":1} (upstream issues #52, #158, #217, #247).
 * 2. jsmn tokenizes the text into exactly that many tokens, allocated once.
 *    It runs in its default (non-strict) mode: strict mode refuses a number
 *    or literal that ends the text ("1" gives JSMN_ERROR_PART), and after
 *    step 1 strictness has nothing left to catch. JSMN_PARENT_LINKS keeps
 *    jsmn linear (without it every ',' and closing bracket scans back over
 *    the tokens) and gives each token its parent.
 * 3. check_tree() proves jsmn's tree matches the text: every token's type
 *    agrees with its first byte, spans nest and do not overlap, object
 *    members are string keys each holding one value, and every 'size' and
 *    'parent' is what the text says. The accessors rely on exactly these
 *    facts, so a jsmn bug becomes a parse error, never an over-read.
 *
 * Strings are decoded on demand. Raw bytes that are not valid UTF-8 are
 * accepted by the validator and become U+FFFD when decoded, like lone
 * surrogate escapes, so decoded text is always valid UTF-8.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "json.h"
#include "util.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const unsigned char replacement[3] = {0xef, 0xbf, 0xbd};

/*
 * RFC 8259 §7's two-character escapes, in pairs: the letter after the
 * backslash, then the byte it stands for.
 */
static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

/* The text as unsigned bytes. */
#define UTEXT(j) ((const unsigned char *)(j)->text)

static int
is_ws(unsigned char c)
{
	/* RFC 8259 §2: space, horizontal tab, line feed, carriage return. */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The value of four hex digits at s[0..4), or -1. */
static long
hex4(const unsigned char *s)
{
	long v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		if ((d = hex_value(s[i])) == -1)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * The other half of c's pair in escapes[]: side 0 finds an escape letter
 * and gives its byte, side 1 finds a byte and gives its letter. -1 when
 * there is none.
 */
static int
escape_pair(unsigned char c, size_t side)
{
	size_t i;

	for (i = side; i < sizeof(escapes) - 1; i += 2)
		if ((unsigned char)escapes[i] == c)
			return (unsigned char)escapes[i ^ 1];
	return -1;
}

static size_t
skip_ws(const unsigned char *s, size_t len, size_t i)
{
	while (i < len && is_ws(s[i]))
		i++;
	return i;
}

/* Name byte 'c' for an error message: 'x' when printable, else 0xNN. */
static const char *
byte_name(unsigned char c, char *buf, size_t len)
{
	if (c > 0x20 && c < 0x7f)
		(void)snprintf(buf, len, "'%c'", c);
	else
		(void)snprintf(buf, len, "byte 0x%02x", c);
	return buf;
}

/*
 * Printable ASCII other than '"' and '\\': string bytes as they are, which
 * the decoders and json_quote() copy unchanged (in a validated string,
 * every byte below 0x80 but '\\').
 */
static int
is_ascii_text(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * The length of the run of is_ascii_text() bytes at s[0..n), tested eight
 * at a time: a byte >= 0x80 sets its top bit in x, a byte < 0x20 in
 * (x - 0x20..) & ~x, and a '"' or '\\' in the zero-byte test of x XOR
 * that byte. A borrow can only flag bytes above a flagged one, so no
 * flag means no such byte; the byte that ends the run is found one at a
 * time.
 */
static size_t
ascii_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, top = ones << 7;
	uint64_t x, q, b;
	size_t i = 0;

	for (; n - i >= 8; i += 8) {
		memcpy(&x, s + i, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		if ((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
			((b - ones) & ~b)) & top)
			break;
	}
	while (i < n && is_ascii_text(s[i]))
		i++;
	return i;
}

/*
 * RFC 8259 §7: the string whose quote is at s[i]. Unescaped characters must
 * be >= 0x20; the only escapes are \" \\ \/ \b \f \n \r \t and \u with four
 * hex digits. Bytes >= 0x80 are left to the decoder. Sets *endp just past
 * the closing quote.
 */
static int
scan_string(const unsigned char *s, size_t len, size_t i, size_t *endp,
    char *err, size_t errlen)
{
	size_t start = i;
	unsigned char c;

	for (i++; i < len; i++) {
		if ((i += ascii_run(s + i, len - i)) == len)
			break;
		c = s[i];
		if (c == '"') {
			*endp = i + 1;
			return 0;
		}
		if (c < 0x20)
			return errf(err, errlen,
			    "control character 0x%02x in a string at byte %zu",
			    c, i);
		if (c != '\\')
			continue;
		if (i + 1 == len)
			break;
		if (s[++i] == 'u') {
			if (len - i < 5 || hex4(s + i + 1) == -1)
				return errf(err, errlen,
				    "\\u not followed by four hex digits at "
				    "byte %zu",
				    i - 1);
			i += 4;
		} else if (escape_pair(s[i], 0) == -1)
			return errf(err, errlen,
			    "invalid escape in a string at byte %zu", i - 1);
	}
	return errf(err, errlen,
	    "unterminated string (opened at byte %zu) at byte %zu", start,
	    len);
}

/*
 * RFC 8259 §6: number = [ minus ] int [ frac ] [ exp ], int = zero /
 * ( digit1-9 *DIGIT ), frac = "." 1*DIGIT, exp = ("e"/"E") ["-"/"+"]
 * 1*DIGIT. Whatever follows is checked by the caller.
 */
static int
scan_number(const unsigned char *s, size_t len, size_t i, size_t *endp,
    char *err, size_t errlen)
{
	size_t start = i;

	if (s[i] == '-')
		i++;
	if (i == len || !is_digit(s[i]))
		return errf(err, errlen,
		    "invalid number at byte %zu: no digit after '-'", start);
	if (s[i] == '0') {
		i++;
		if (i < len && is_digit(s[i]))
			return errf(err, errlen,
			    "invalid number at byte %zu: leading zero", start);
	} else {
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && s[i] == '.') {
		i++;
		if (i == len || !is_digit(s[i]))
			return errf(err, errlen,
			    "invalid number at byte %zu: no digit after '.'",
			    start);
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len || !is_digit(s[i]))
			return errf(err, errlen,
			    "invalid number at byte %zu: no digit in the "
			    "exponent",
			    start);
		while (i < len && is_digit(s[i]))
			i++;
	}
	*endp = i;
	return 0;
}

/*
 * Check s[0..len) against the RFC 8259 grammar: one value with optional
 * white space around it, nesting at most JSON_MAX_DEPTH. Iterative, so the
 * C stack does not grow with the input. On success *ntokp is the number of
 * tokens jsmn will produce: one per value and one per object key.
 */
static int
validate(const unsigned char *s, size_t len, int *ntokp, char *err,
    size_t errlen)
{
	enum { V_VALUE, V_KEY, V_AFTER } state = V_VALUE;
	unsigned char close[JSON_MAX_DEPTH]; /* the bracket each level wants */
	int depth = 0, ntok = 0;
	size_t i, end = 0;
	char name[16];

	i = skip_ws(s, len, 0);
	if (i == len)
		return errf(err, errlen,
		    "empty document: no value before the end at byte %zu", len);
	for (;;) {
		switch (state) {
		case V_VALUE:
			if (i == len)
				return errf(err, errlen,
				    "unexpected end of the document at byte "
				    "%zu: expected a value",
				    len);
			if (ntok == JSON_MAX_TOKENS)
				return errf(err, errlen,
				    "more than %d tokens at byte %zu",
				    JSON_MAX_TOKENS, i);
			ntok++;
			switch (s[i]) {
			case '{':
			case '[':
				if (depth == JSON_MAX_DEPTH)
					return errf(err, errlen,
					    "nesting deeper than %d at byte "
					    "%zu",
					    JSON_MAX_DEPTH, i);
				close[depth++] = s[i] == '{' ? '}' : ']';
				i = skip_ws(s, len, i + 1);
				if (i < len && s[i] == close[depth - 1]) {
					depth--;
					i++;
					state = V_AFTER;
				} else if (close[depth - 1] == '}')
					state = V_KEY;
				break;
			case '"':
				if (scan_string(s, len, i, &i, err, errlen) ==
				    -1)
					return -1;
				state = V_AFTER;
				break;
			case 't':
			case 'f':
			case 'n': {
				const char *word;
				size_t n;

				if (s[i] == 't')
					word = "true";
				else if (s[i] == 'f')
					word = "false";
				else
					word = "null";
				n = strlen(word);

				if (len - i < n || memcmp(s + i, word, n) != 0)
					return errf(err, errlen,
					    "invalid literal at byte %zu "
					    "(expected %s)",
					    i, word);
				i += n;
				state = V_AFTER;
				break;
			}
			default:
				if (s[i] != '-' && !is_digit(s[i]))
					return errf(err, errlen,
					    "unexpected %s at byte %zu: "
					    "expected a value",
					    byte_name(s[i], name, sizeof(name)),
					    i);
				if (scan_number(s, len, i, &end, err, errlen) ==
				    -1)
					return -1;
				i = end;
				state = V_AFTER;
				break;
			}
			break;
		case V_KEY:
			if (i == len)
				return errf(err, errlen,
				    "unexpected end of the document at byte "
				    "%zu: expected a key",
				    len);
			if (s[i] != '"')
				return errf(err, errlen,
				    "unexpected %s at byte %zu: expected a "
				    "string key",
				    byte_name(s[i], name, sizeof(name)), i);
			if (ntok == JSON_MAX_TOKENS)
				return errf(err, errlen,
				    "more than %d tokens at byte %zu",
				    JSON_MAX_TOKENS, i);
			ntok++;
			if (scan_string(s, len, i, &i, err, errlen) == -1)
				return -1;
			i = skip_ws(s, len, i);
			if (i == len || s[i] != ':')
				return errf(err, errlen,
				    "expected ':' after the key at byte %zu",
				    i);
			i = skip_ws(s, len, i + 1);
			state = V_VALUE;
			break;
		case V_AFTER:
			i = skip_ws(s, len, i);
			if (depth == 0) {
				if (i != len)
					return errf(err, errlen,
					    "unexpected %s after the value at "
					    "byte %zu",
					    byte_name(s[i], name, sizeof(name)),
					    i);
				*ntokp = ntok;
				return 0;
			}
			if (i == len)
				return errf(err, errlen,
				    "unexpected end of the document at byte "
				    "%zu: expected ',' or '%c'",
				    len, close[depth - 1]);
			if (s[i] == ',') {
				i = skip_ws(s, len, i + 1);
				state = close[depth - 1] == '}' ? V_KEY
								: V_VALUE;
			} else if (s[i] == close[depth - 1]) {
				depth--;
				i++;
			} else
				return errf(err, errlen,
				    "unexpected %s at byte %zu: expected ',' "
				    "or '%c'",
				    byte_name(s[i], name, sizeof(name)), i,
				    close[depth - 1]);
			break;
		}
	}
}

/*
 * Check jsmn's tokens t[0..n) against the validated text s[0..len). Walking
 * the tokens in order with a stack of open containers and keys, every token
 * must be the child its 'parent' names, start no earlier than where the
 * previous one ended and end inside its container. The text of a token is
 * [a, b): the brackets of a container, the quotes of a string. Returns 0,
 * or -1 when jsmn built something other than what the text says.
 */
static int
check_tree(const jsmntok_t *t, int n, const unsigned char *s, size_t len)
{
	struct {
		int tok;
		int left; /* children still to come */
	} st[2 * JSON_MAX_DEPTH + 2];
	int sp = 0, i, parent, cont, ptype;
	size_t floor = 0, a, b;
	unsigned char open;

	if (n < 1)
		return -1;
	for (i = 0; i < n; i++) {
		const jsmntok_t *k = &t[i];

		while (sp > 0 && st[sp - 1].left == 0) {
			const jsmntok_t *f = &t[st[--sp].tok];

			if (f->type != JSMN_STRING)
				floor = (size_t)f->end;
		}
		if (i > 0 && sp == 0)
			return -1; /* a second top-level value */
		parent = sp > 0 ? st[sp - 1].tok : -1;
		if (k->parent != parent)
			return -1;
		ptype = parent >= 0 ? (int)t[parent].type : JSMN_UNDEFINED;
		/* The innermost container: the parent, or a key's object. */
		cont = ptype == JSMN_STRING ? t[parent].parent : parent;

		if (k->start < 0 || k->end < k->start)
			return -1;
		a = (size_t)k->start;
		b = (size_t)k->end;
		if (k->type == JSMN_STRING) {
			if (a == 0)
				return -1;
			a--;
			b++;
		}
		if (a < floor || b > len || b <= a)
			return -1;
		if (cont >= 0 && b >= (size_t)t[cont].end)
			return -1;
		if (k->size < 0 || (k->size > 0 && sp == (int)nitems(st)))
			return -1;

		switch (k->type) {
		case JSMN_OBJECT:
		case JSMN_ARRAY:
			if (ptype == JSMN_OBJECT || b - a < 2)
				return -1;
			open = k->type == JSMN_OBJECT ? '{' : '[';
			if (s[a] != open || s[b - 1] != open + 2)
				return -1; /* '{' + 2 is '}', '[' + 2 is ']' */
			floor = k->size > 0 ? a + 1 : b;
			break;
		case JSMN_STRING:
			if (s[a] != '"' || s[b - 1] != '"')
				return -1;
			if (k->size != (ptype == JSMN_OBJECT ? 1 : 0))
				return -1;
			floor = b;
			break;
		case JSMN_PRIMITIVE:
			if (ptype == JSMN_OBJECT || k->size != 0)
				return -1;
			if (s[a] != '-' && !is_digit(s[a]) && s[a] != 't' &&
			    s[a] != 'f' && s[a] != 'n')
				return -1;
			floor = b;
			break;
		default:
			return -1;
		}
		if (sp > 0)
			st[sp - 1].left--;
		if (k->size > 0) {
			st[sp].tok = i;
			st[sp].left = k->size;
			sp++;
		}
	}
	while (sp > 0 && st[sp - 1].left == 0)
		sp--;
	return sp == 0 ? 0 : -1;
}

int
json_parse(struct json *j, const char *text, size_t len, char *err,
    size_t errlen)
{
	jsmn_parser p;
	jsmntok_t *t;
	int ntok = 0, r;

	j->text = text;
	j->len = len;
	j->tok = NULL;
	j->ntok = 0;
	if (text == NULL && len > 0)
		return errf(err, errlen, "no document text at byte 0");
	/* jsmn keeps offsets in ints. */
	if (len > INT_MAX)
		return errf(err, errlen,
		    "document too large (%zu bytes) at byte %d", len, INT_MAX);
	if (validate((const unsigned char *)text, len, &ntok, err, errlen) ==
	    -1)
		return -1;

	/* The validator counted the tokens, so one allocation is enough. */
	t = xreallocarray(NULL, (size_t)ntok, sizeof(*t));
	jsmn_init(&p);
	r = jsmn_parse(&p, text, len, t, (unsigned int)ntok);
	if (r != ntok ||
	    check_tree(t, ntok, (const unsigned char *)text, len) == -1) {
		free(t);
		return errf(err, errlen,
		    "internal error: jsmn disagrees with the validator "
		    "(result %d, %d tokens expected) at byte 0",
		    r, ntok);
	}
	j->tok = t;
	j->ntok = ntok;
	return 0;
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->tok);
	j->tok = NULL;
	j->ntok = 0;
}

/* Token 'i' when it exists, else NULL. */
static const jsmntok_t *
tok_at(const struct json *j, int i)
{
	if (j == NULL || j->tok == NULL || i < 0 || i >= j->ntok)
		return NULL;
	return (const jsmntok_t *)j->tok + i;
}

static int
is_container(const jsmntok_t *k)
{
	return k != NULL && (k->type == JSMN_OBJECT || k->type == JSMN_ARRAY);
}

enum json_type
json_type(const struct json *j, int tok)
{
	const jsmntok_t *k;

	if ((k = tok_at(j, tok)) == NULL)
		return JSON_NONE;
	switch (k->type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		switch (j->text[k->start]) {
		case 't':
			return JSON_TRUE;
		case 'f':
			return JSON_FALSE;
		case 'n':
			return JSON_NULL;
		default:
			return JSON_NUMBER;
		}
	default:
		return JSON_NONE;
	}
}

int
json_count(const struct json *j, int tok)
{
	const jsmntok_t *k = tok_at(j, tok);

	/* check_tree() proved 'size' is the number of children. */
	return is_container(k) ? k->size : 0;
}

int
json_skip(const struct json *j, int tok)
{
	const jsmntok_t *t, *k;
	int n, lo, hi, mid, step;

	if (j == NULL)
		return 0;
	n = j->ntok;
	if ((k = tok_at(j, tok)) == NULL)
		return n;
	t = j->tok;
	/* A key's subtree is its value's. */
	if (k->type == JSMN_STRING && k->parent >= 0 &&
	    t[k->parent].type == JSMN_OBJECT) {
		if (++tok >= n)
			return n;
		k = &t[tok];
	}
	/*
	 * Starts increase strictly and the subtree is exactly the tokens
	 * starting before k->end (check_tree()), so gallop then bisect for
	 * the first token at or after it: O(log) of the subtree's size.
	 */
	lo = tok; /* t[lo] is inside the subtree */
	step = 1;
	for (;;) {
		hi = step < n - lo ? lo + step : n;
		if (hi == n || t[hi].start >= k->end)
			break;
		lo = hi;
		if (step < INT_MAX / 2)
			step *= 2;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (t[mid].start >= k->end)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

int
json_first(const struct json *j, int container)
{
	const jsmntok_t *k = tok_at(j, container);

	if (!is_container(k) || k->size == 0)
		return -1;
	return container + 1;
}

int
json_next(const struct json *j, int container, int tok)
{
	const jsmntok_t *c, *k;
	int n;

	c = tok_at(j, container);
	k = tok_at(j, tok);
	if (!is_container(c) || k == NULL || k->parent != container)
		return -1;
	n = json_skip(j, tok);
	if ((k = tok_at(j, n)) == NULL || k->parent != container)
		return -1;
	return n;
}

/*
 * Decode one UTF-8 sequence at s[0..n) (n > 0, s[0] >= 0x80) into u and
 * return the bytes used. A sequence that is not well-formed (Unicode Table
 * 3-7: no overlongs, no surrogates, nothing above U+10FFFF) becomes one
 * U+FFFD per maximal subpart, the substitution the Unicode Standard (§3.9)
 * recommends.
 */
static size_t
decode_utf8(const unsigned char *s, size_t n, unsigned char *u, size_t *ulen)
{
	size_t k;

	if (utf8_decode(s, n, &k) >= 0) {
		memcpy(u, s, k);
		*ulen = k;
	} else {
		memcpy(u, replacement, sizeof(replacement));
		*ulen = sizeof(replacement);
	}
	return k;
}

static size_t
put_utf8(unsigned char *u, long cp)
{
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode one escape or raw UTF-8 sequence of string content s[0..n) (n > 0,
 * s[0] is '\\' or >= 0x80) into u (4 bytes) and return the bytes used.
 * Surrogate pairs are joined; a lone surrogate becomes U+FFFD; \u0000 gives
 * nothing. Input the validator would not pass also becomes U+FFFD, so this
 * never reads outside s[0..n).
 */
static size_t
decode_unit(const unsigned char *s, size_t n, unsigned char *u, size_t *ulen)
{
	long cp, lo;

	if (s[0] != '\\')
		return decode_utf8(s, n, u, ulen);
	*ulen = 1;
	if (n < 2)
		goto bad;
	if ((cp = escape_pair(s[1], 0)) != -1) {
		u[0] = (unsigned char)cp;
		return 2;
	}
	if (s[1] == 'u') {
		if (n < 6 || (cp = hex4(s + 2)) == -1)
			goto bad;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			/* RFC 8259 §7: a pair is \uD800-DBFF, \uDC00-DFFF. */
			if (n >= 12 && s[6] == '\\' && s[7] == 'u' &&
			    (lo = hex4(s + 8)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				*ulen = put_utf8(u, cp);
				return 12;
			}
			cp = 0xfffd;
		} else if (cp >= 0xdc00 && cp <= 0xdfff)
			cp = 0xfffd;
		*ulen = cp == 0 ? 0 : put_utf8(u, cp);
		return 6;
	}
bad:
	memcpy(u, replacement, sizeof(replacement));
	*ulen = sizeof(replacement);
	return 1;
}

int
json_streq(const struct json *j, int tok, const char *str)
{
	const jsmntok_t *k = tok_at(j, tok);
	const unsigned char *s, *q = (const unsigned char *)str;
	unsigned char u[4];
	size_t i, n, ulen, used, m;

	if (k == NULL || k->type != JSMN_STRING || str == NULL)
		return 0;
	s = UTEXT(j) + k->start;
	n = (size_t)(k->end - k->start);
	for (i = 0; i < n;) {
		if (is_ascii_text(s[i])) {
			/* *q is NUL at the end of str, never equal to s[i]. */
			if (*q != s[i])
				return 0;
			q++;
			i++;
			continue;
		}
		used = decode_unit(s + i, n - i, u, &ulen);
		/* Decoded bytes are never NUL, so the NUL of str stops this. */
		for (m = 0; m < ulen; m++)
			if (q[m] != u[m])
				return 0;
		q += ulen;
		i += used;
	}
	return *q == '\0';
}

int
json_members(const struct json *j, int obj, const char *const *keys,
    int nkeys, int *vals)
{
	const jsmntok_t *k = tok_at(j, obj);
	int i, m, n, next = 0;

	for (n = 0; n < nkeys; n++)
		vals[n] = -1;
	if (k == NULL || k->type != JSMN_OBJECT)
		return -1;
	/*
	 * Every member is looked at: with duplicate keys the last one wins.
	 * Each is tried first against the key after the last one found, so
	 * members in the order of 'keys' cost one comparison each.
	 */
	for (i = json_first(j, obj); i != -1; i = json_next(j, obj, i))
		for (m = 0; m < nkeys; m++) {
			n = (next + m) % nkeys;
			if (json_streq(j, i, keys[n])) {
				vals[n] = i + 1;
				next = n + 1;
				break;
			}
		}
	return 0;
}

int
json_get(const struct json *j, int obj, const char *key)
{
	int v;

	(void)json_members(j, obj, &key, 1, &v);
	return v;
}

/* "an object", "a string" ... for error messages, by enum json_type. */
static const char *const type_names[] = {
	[JSON_NONE] = "no value",
	[JSON_OBJECT] = "an object",
	[JSON_ARRAY] = "an array",
	[JSON_STRING] = "a string",
	[JSON_NUMBER] = "a number",
	[JSON_TRUE] = "true",
	[JSON_FALSE] = "false",
	[JSON_NULL] = "null",
};

int
json_string(const struct json *j, int tok, size_t maxlen, char **out,
    char *err, size_t errlen)
{
	const jsmntok_t *k = tok_at(j, tok);
	const unsigned char *s;
	unsigned char u[4];
	char *d;
	size_t i, n, run, ulen, used, len = 0, cap;

	if (k == NULL || k->type != JSMN_STRING)
		return errf(err, errlen, "expected a string, got %s",
		    type_names[json_type(j, tok)]);
	s = UTEXT(j) + k->start;
	n = (size_t)(k->end - k->start);
	/*
	 * Decoding only shrinks the text, except that one invalid byte grows
	 * into the three of U+FFFD; the buffer grows for that rare case.
	 */
	cap = (n < maxlen ? n : maxlen) + 1;
	d = xmalloc(cap);
	for (i = 0; i < n; i += used) {
		if ((run = ascii_run(s + i, n - i)) > 0) {
			used = run;
			ulen = run;
		} else
			used = decode_unit(s + i, n - i, u, &ulen);
		if (ulen > maxlen - len) {
			free(d);
			return errf(err, errlen,
			    "string longer than %zu bytes (opened at byte %d)",
			    maxlen, k->start - 1);
		}
		if (ulen >= cap - len) {
			while (ulen >= cap - len)
				cap *= 2;
			d = xreallocarray(d, cap, 1);
		}
		memcpy(d + len, run > 0 ? (const void *)(s + i) : (void *)u,
		    ulen);
		len += ulen;
	}
	d[len] = '\0';
	*out = d;
	return 0;
}

/* True when number token 'k' has a fraction or an exponent. */
static int
has_fraction(const struct json *j, const jsmntok_t *k)
{
	int i;

	for (i = k->start; i < k->end; i++)
		if (j->text[i] == '.' || j->text[i] == 'e' ||
		    j->text[i] == 'E')
			return 1;
	return 0;
}

int
json_int(const struct json *j, int tok, int64_t min, int64_t max,
    int64_t *out)
{
	const jsmntok_t *k = tok_at(j, tok);

	if (json_type(j, tok) != JSON_NUMBER || has_fraction(j, k))
		return -1;
	/* Range and overflow: parse_i64 takes "-0" as 0. */
	return parse_i64(j->text + k->start, (size_t)(k->end - k->start), min,
	    max, out);
}

int
json_bool(const struct json *j, int tok, int *out)
{
	switch (json_type(j, tok)) {
	case JSON_TRUE:
		*out = 1;
		return 0;
	case JSON_FALSE:
		*out = 0;
		return 0;
	default:
		return -1;
	}
}

const char *
json_raw(const struct json *j, int tok, size_t *lenp)
{
	const jsmntok_t *k = tok_at(j, tok);

	if (k == NULL)
		return NULL;
	*lenp = (size_t)(k->end - k->start);
	return j->text + k->start;
}

int
json_get_string(const struct json *j, int obj, const char *key,
    size_t maxlen, char **out, char *err, size_t errlen)
{
	if (json_type(j, obj) != JSON_OBJECT)
		return errf(err, errlen, "%s: looked up in %s, not an object",
		    key, type_names[json_type(j, obj)]);
	return json_member_string(j, json_get(j, obj, key), key, maxlen, out,
	    err, errlen);
}

int
json_member_string(const struct json *j, int v, const char *key,
    size_t maxlen, char **out, char *err, size_t errlen)
{
	char msg[128];

	if (v == -1 || json_type(j, v) == JSON_NULL)
		return 1;
	if (json_string(j, v, maxlen, out, msg, sizeof(msg)) == -1)
		return errf(err, errlen, "%s: %s", key, msg);
	return 0;
}

int
json_get_int(const struct json *j, int obj, const char *key, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen)
{
	if (json_type(j, obj) != JSON_OBJECT)
		return errf(err, errlen, "%s: looked up in %s, not an object",
		    key, type_names[json_type(j, obj)]);
	return json_member_int(j, json_get(j, obj, key), key, min, max, out,
	    err, errlen);
}

int
json_member_int(const struct json *j, int v, const char *key, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen)
{
	enum json_type t;
	const char *raw;
	size_t len = 0;

	t = json_type(j, v);
	if (v == -1 || t == JSON_NULL)
		return 1;
	if (t != JSON_NUMBER)
		return errf(err, errlen, "%s: expected an integer, got %s", key,
		    type_names[t]);
	if (json_int(j, v, min, max, out) == -1) {
		/* The text is a validated number: safe to print, but cut. */
		if ((raw = json_raw(j, v, &len)) == NULL)
			raw = "";
		return errf(err, errlen,
		    "%s: %.*s%s is not an integer in [%" PRId64 ", %" PRId64
		    "]",
		    key, len > 32 ? 32 : (int)len, raw, len > 32 ? "..." : "",
		    min, max);
	}
	return 0;
}

int
json_quote(struct buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char u[4];
	size_t old = b->len, run, used, ulen;
	char esc[8];
	int letter;

	if (buf_add(b, "\"", 1) == -1)
		goto fail;
	while (*s != '\0') {
		for (run = 0; is_ascii_text(s[run]); run++)
			;
		if (run > 0) {
			if (buf_add(b, s, run) == -1)
				goto fail;
			s += run;
			continue;
		}
		if (*s >= 0x80) {
			/* Invalid UTF-8 would make invalid JSON: U+FFFD. */
			used = decode_utf8(s, strnlen((const char *)s, 4), u,
			    &ulen);
			if (buf_add(b, u, ulen) == -1)
				goto fail;
			s += used;
			continue;
		}
		/* Here *s is '"', '\\' or a control character. */
		if ((letter = escape_pair(*s, 1)) != -1)
			(void)snprintf(esc, sizeof(esc), "\\%c", letter);
		else
			(void)snprintf(esc, sizeof(esc), "\\u%04x", *s);
		if (buf_add(b, esc, strlen(esc)) == -1)
			goto fail;
		s++;
	}
	if (buf_add(b, "\"", 1) == -1)
		goto fail;
	return 0;
fail:
	/* Leave the buffer as it was. */
	b->len = old;
	if (b->data != NULL)
		b->data[old] = '\0';
	return -1;
}
