/* SPDX-License-Identifier: ISC */
/*
 * Moderation of an account's listing (design.md, "Moderation"): hide
 * videos by id, keep only videos with one of the include terms, leave out
 * videos with one of the exclude terms. Pure: no I/O, no SQL, no clock;
 * the sync engine asks it about each listed video, the store asks it
 * (through an SQL function) about each mirrored row it ranks.
 *
 * A term that starts with '#' matches a whole hashtag: "#ad" is in "#ad",
 * "#AD!" and "#ad #x", not in "#adventure". Any other term matches text.
 * Both look in the title and the description, case-insensitively: ASCII,
 * Latin-1, Latin Extended-A, Greek and Cyrillic letters are folded (the
 * case pairs whose UTF-8 forms have the same length, so no allocation
 * beyond one copy of the text); other scripts match as written.
 */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>

#define FILTER_TERMS_MAX 1000 /* per list */
#define FILTER_TERM_MAX 256   /* bytes in one term */

enum filter_list { FILTER_HIDE, FILTER_INCLUDE, FILTER_EXCLUDE, FILTER_NLISTS };

/* Why a video is left out; FILTER_KEEP when it is not. */
enum filter_verdict {
	FILTER_KEEP = 0,
	FILTER_HIDDEN,	     /* its id is in hide */
	FILTER_NOT_INCLUDED, /* include is set and no term matches */
	FILTER_EXCLUDED,     /* an exclude term matches */
};

struct filter;

/* A new empty filter, which keeps every video. Never NULL. */
struct filter *filter_new(void);
/* A deep copy (NULL for NULL). The caller frees it with filter_free(). */
struct filter *filter_dup(const struct filter *);
void filter_free(struct filter *); /* NULL-safe */
/* True when both keep exactly the same videos' terms (NULL is empty). */
int filter_equal(const struct filter *, const struct filter *);
/* True when 'f' is NULL or has no term in any list. */
int filter_empty(const struct filter *f);

/*
 * A fingerprint of the terms, to notice between runs that they changed:
 * the hex SHA-256 of every list, or "" when 'f' is empty or NULL.
 */
#define FILTER_DIGEST_LEN 64
void filter_digest(const struct filter *f, char out[FILTER_DIGEST_LEN + 1]);

/*
 * Add term s[0..len) to 'list'. A hide term must be a TikTok id (1 to 20
 * digits); an include or exclude term must be non-empty, not only spaces,
 * without control characters, at most FILTER_TERM_MAX bytes, and a hashtag
 * ("#word") has no space or '#' after its first character. Returns 0, or
 * -1 with what is wrong (without the term itself) in 'err'.
 */
int filter_add(struct filter *, enum filter_list list, const char *s,
    size_t len, char *err, size_t errlen);
/* The number of terms in 'list' (0 for a NULL filter). */
size_t filter_count(const struct filter *, enum filter_list list);

/*
 * Judge one video. 'title' and 'description' may be NULL (no text). When
 * the verdict is FILTER_EXCLUDED and 'term' is not NULL, *term is the
 * exclude term that matched (borrowed from the filter). A NULL filter
 * keeps everything.
 */
enum filter_verdict filter_check(const struct filter *, const char *id,
    const char *title, const char *description, const char **term);

/* A short phrase for a verdict ("hidden by id", ...), for messages. */
const char *filter_verdict_str(enum filter_verdict);

/*
 * Fold s[0..len) in place to lower case (the letters listed above); the
 * length never changes. Exposed for the unit tests.
 */
void filter_fold(char *s, size_t len);

#endif
