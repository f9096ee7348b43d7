/* SPDX-License-Identifier: ISC */
/*
 * JSON decoding on jsmn. jsmn tokenizes but does not validate (even in
 * strict mode it takes {"a":"b":1}), so json_parse() first checks the whole
 * text against the RFC 8259 grammar with a depth limit, then tokenizes it;
 * the accessors below check every type and bound themselves. Tokens are
 * offsets into the caller's text, which must outlive the struct json.
 *
 * Token indices are ints: 0 is the root value; -1 means "none".
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64	   /* deeper documents are rejected */
#define JSON_MAX_TOKENS 1000000 /* more tokens are rejected */

enum json_type {
	JSON_NONE = 0, /* not a token (index -1 or out of range) */
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

struct json {
	const char *text; /* borrowed */
	size_t len;
	void *tok; /* jsmntok_t[ntok], owned */
	int ntok;
};

/*
 * Validate and tokenize text[0..len) (no NUL needed). A document is exactly
 * one JSON value with optional surrounding white space. Returns 0, or -1 with
 * 'err' saying what is wrong and at which byte offset. json_free() is safe
 * after either.
 */
int json_parse(struct json *, const char *text, size_t len, char *err,
    size_t errlen);
void json_free(struct json *);

enum json_type json_type(const struct json *, int tok);

/* Number of members of an object or elements of an array, else 0. */
int json_count(const struct json *, int tok);

/*
 * The token after the whole subtree of 'tok' (its next sibling when 'tok'
 * is a member), or j->ntok at the end of the document or when 'tok' is not
 * a token. The subtree of an object key includes its value.
 */
int json_skip(const struct json *, int tok);

/*
 * Iterate the elements of an array: json_first(j, arr) gives the first
 * element or -1; json_next(j, arr, el) the next one or -1.
 * For objects, the same calls iterate over member *keys*; the value of key k
 * is k + 1.
 */
int json_first(const struct json *, int container);
int json_next(const struct json *, int container, int tok);

/*
 * The value of member 'key' of object 'obj', or -1 when 'obj' is not an
 * object or has no such member. With duplicate keys, the last one wins.
 * Keys are compared after decoding escapes.
 */
int json_get(const struct json *, int obj, const char *key);
/*
 * json_get() of 'nkeys' keys in one pass over the members, for the cost of
 * one lookup: vals[i] gets the value of keys[i], or -1. Returns -1 (every
 * vals[i] -1) when 'obj' is not an object, else 0.
 */
int json_members(const struct json *, int obj, const char *const *keys,
    int nkeys, int *vals);

/* True when string token 'tok' decodes to exactly 's'. */
int json_streq(const struct json *, int tok, const char *s);

/*
 * Decode string token 'tok' into a new NUL-terminated UTF-8 string in *out:
 * every escape decoded, surrogate pairs joined, a lone surrogate as U+FFFD,
 * NUL (\u0000) dropped, invalid UTF-8 in the raw text replaced by U+FFFD.
 * Fails (-1, *out untouched) when 'tok' is not a string or the decoded
 * length would exceed 'maxlen' bytes. The caller frees *out.
 */
int json_string(const struct json *, int tok, size_t maxlen, char **out,
    char *err, size_t errlen);

/*
 * Decode a number token that is an integer (no fraction, no exponent) in
 * [min, max] into *out. Returns 0 or -1.
 */
int json_int(const struct json *, int tok, int64_t min, int64_t max,
    int64_t *out);

/* A true/false token into *out (1/0). Returns 0 or -1. */
int json_bool(const struct json *, int tok, int *out);

/*
 * The raw text of token 'tok' (a string without its quotes, escapes not
 * decoded; a number as written) and its length in *lenp, or NULL when 'tok'
 * is not a token. Points into the caller's text; not NUL-terminated.
 */
const char *json_raw(const struct json *, int tok, size_t *lenp);

/*
 * Convenience for object members: json_get() then json_string()/json_int().
 * A missing or null member returns 1 and leaves *out untouched; a member of
 * the wrong type or out of range, or an 'obj' that is not an object, returns
 * -1 with 'err' naming the key.
 */
int json_get_string(const struct json *, int obj, const char *key,
    size_t maxlen, char **out, char *err, size_t errlen);
int json_get_int(const struct json *, int obj, const char *key, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen);
/* The same for the value 'v' json_members() found (-1: no such member). */
int json_member_string(const struct json *, int v, const char *key,
    size_t maxlen, char **out, char *err, size_t errlen);
int json_member_int(const struct json *, int v, const char *key, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen);

/*
 * Append 's' to 'b' as a JSON string literal (with quotes), escaping '"',
 * '\\' and control characters. For output (videos --json, export).
 */
struct buf;
int json_quote(struct buf *b, const char *s)
    __attribute__((warn_unused_result));

#endif
