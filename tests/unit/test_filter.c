/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/filter.c: hashtags as whole words, text terms as
 * case-insensitive substrings (ASCII and the folded two-byte scripts),
 * hide by id, the order of the verdicts, term validation, copies and
 * equality.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

/* A filter from NULL-terminated lists of terms (any may be NULL). */
static struct filter *
make(const char *const *hide, const char *const *inc, const char *const *exc)
{
	const char *const *lists[FILTER_NLISTS] = {hide, inc, exc};
	struct filter *f = filter_new();
	char err[256];
	int l;

	for (l = 0; l < FILTER_NLISTS; l++)
		for (; lists[l] != NULL && *lists[l] != NULL; lists[l]++)
			assert_int_equal(filter_add(f, l, *lists[l],
					     strlen(*lists[l]), err,
					     sizeof(err)),
			    0);
	return f;
}

static enum filter_verdict
check(const struct filter *f, const char *title, const char *desc)
{
	return filter_check(f, "1", title, desc, NULL);
}

static void
test_hashtag_whole_word(void **state)
{
	static const char *const exc[] = {"#ad", NULL};
	struct filter *f = make(NULL, NULL, exc);

	(void)state;
	assert_int_equal(check(f, "#ad", NULL), FILTER_EXCLUDED);
	assert_int_equal(check(f, "new #ad here", NULL), FILTER_EXCLUDED);
	assert_int_equal(check(f, "#AD!", NULL), FILTER_EXCLUDED);
	assert_int_equal(check(f, "#Ad,#x", NULL), FILTER_EXCLUDED);
	assert_int_equal(check(f, "#ad\xf0\x9f\x94\xa5", NULL), /* 🔥 */
	    FILTER_EXCLUDED);
	assert_int_equal(check(f, "x", "see #ad"), FILTER_EXCLUDED);
	/* Not a whole hashtag. */
	assert_int_equal(check(f, "#adventure", NULL), FILTER_KEEP);
	assert_int_equal(check(f, "#ad_free", NULL), FILTER_KEEP);
	assert_int_equal(check(f, "#ad2", NULL), FILTER_KEEP);
	assert_int_equal(check(f, "#ad\xc3\xa9", NULL), FILTER_KEEP); /* é */
	assert_int_equal(check(f, "ad", "bad ads"), FILTER_KEEP);
	/* A later occurrence is whole even when the first is not. */
	assert_int_equal(check(f, "#adventure then #ad", NULL),
	    FILTER_EXCLUDED);
	assert_int_equal(check(f, NULL, NULL), FILTER_KEEP);
	assert_int_equal(check(f, "", ""), FILTER_KEEP);
	filter_free(f);
}

static void
test_text_substring(void **state)
{
	static const char *const inc[] = {"pasta", NULL};
	struct filter *f = make(NULL, inc, NULL);

	(void)state;
	assert_int_equal(check(f, "PASTA night", NULL), FILTER_KEEP);
	assert_int_equal(check(f, "Antipasta", NULL), FILTER_KEEP);
	assert_int_equal(check(f, "x", "#PastaLover"), FILTER_KEEP);
	assert_int_equal(check(f, "pizza", "risotto"), FILTER_NOT_INCLUDED);
	assert_int_equal(check(f, NULL, NULL), FILTER_NOT_INCLUDED);
	/* Title and description are searched apart. */
	assert_int_equal(check(f, "pas", "ta"), FILTER_NOT_INCLUDED);
	filter_free(f);
}

static void
test_unicode_folding(void **state)
{
	/* "CRÈME", "ΣΟΥΠΑ", "БОРЩ", "#ŻUREK" as written by a user. */
	static const char *const inc[] = {"CR\xc3\x88ME",
	    "\xce\xa3\xce\x9f\xce\xa5\xce\xa0\xce\x91", "\xd0\x91\xd0\x9e\xd0\xa0\xd0\xa9",
	    "#\xc5\xbbUREK", NULL};
	struct filter *f = make(NULL, inc, NULL);
	char s[] = "\xc3\x80\xc3\x89 \xc4\x80 \xce\xa3\xcf\x82 \xd0\x81\xd0\xaf Q";

	(void)state;
	/* crème brûlée */
	assert_int_equal(check(f, "cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e", NULL),
	    FILTER_KEEP);
	/* σουπα */
	assert_int_equal(check(f, "\xcf\x83\xce\xbf\xcf\x85\xcf\x80\xce\xb1",
			     NULL),
	    FILTER_KEEP);
	/* борщ */
	assert_int_equal(check(f, NULL, "\xd0\xb1\xd0\xbe\xd1\x80\xd1\x89"),
	    FILTER_KEEP);
	/* #żurek, and not #żureki */
	assert_int_equal(check(f, "#\xc5\xbcurek", NULL), FILTER_KEEP);
	assert_int_equal(check(f, "#\xc5\xbcureki", NULL),
	    FILTER_NOT_INCLUDED);
	assert_int_equal(check(f, "creme", NULL), FILTER_NOT_INCLUDED);
	/* The fold keeps every length: ÀÉ Ā Σς ЁЯ Q -> àé ā σσ ёя q. */
	filter_fold(s, strlen(s));
	assert_string_equal(s,
	    "\xc3\xa0\xc3\xa9 \xc4\x81 \xcf\x83\xcf\x83 \xd1\x91\xd1\x8f q");
	filter_free(f);
}

static void
test_hide_by_id(void **state)
{
	static const char *const hide[] = {"7301234567890123456", "5", "42",
	    NULL};
	struct filter *f = make(hide, NULL, NULL);

	(void)state;
	assert_int_equal(filter_check(f, "7301234567890123456", "t", "d", NULL),
	    FILTER_HIDDEN);
	assert_int_equal(filter_check(f, "42", NULL, NULL, NULL),
	    FILTER_HIDDEN);
	assert_int_equal(filter_check(f, "5", NULL, NULL, NULL),
	    FILTER_HIDDEN);
	assert_int_equal(filter_check(f, "4", NULL, NULL, NULL), FILTER_KEEP);
	assert_int_equal(filter_check(f, "730123456789012345", NULL, NULL,
			     NULL),
	    FILTER_KEEP);
	assert_int_equal(filter_count(f, FILTER_HIDE), 3);
	filter_free(f);
}

static void
test_verdict_order(void **state)
{
	static const char *const hide[] = {"9", NULL};
	static const char *const inc[] = {"#recipe", "pasta", NULL};
	static const char *const exc[] = {"#ad", "sponsored", NULL};
	struct filter *f = make(hide, inc, exc);
	const char *term = NULL;

	(void)state;
	assert_int_equal(filter_check(f, "9", "#recipe", NULL, NULL),
	    FILTER_HIDDEN);
	assert_int_equal(filter_check(f, "1", "#recipe #ad", NULL, &term),
	    FILTER_EXCLUDED);
	assert_string_equal(term, "#ad");
	assert_int_equal(filter_check(f, "1", "Pasta", "SPONSORED", &term),
	    FILTER_EXCLUDED);
	assert_string_equal(term, "sponsored");
	assert_int_equal(filter_check(f, "1", "#Recipe", "#adventure", NULL),
	    FILTER_KEEP);
	assert_int_equal(filter_check(f, "1", "#recipes", NULL, NULL),
	    FILTER_NOT_INCLUDED);
	assert_int_equal(filter_check(NULL, "9", "#ad", NULL, NULL),
	    FILTER_KEEP);
	assert_string_equal(filter_verdict_str(FILTER_HIDDEN), "hidden by id");
	filter_free(f);
}

static void
test_bad_terms(void **state)
{
	static const struct {
		int list;
		const char *s;
		const char *msg;
	} bad[] = {
	    {FILTER_HIDE, "", "1 to 20 digits"},
	    {FILTER_HIDE, "73x", "1 to 20 digits"},
	    {FILTER_HIDE, "123456789012345678901", "1 to 20 digits"},
	    {FILTER_HIDE, "-1", "1 to 20 digits"},
	    {FILTER_INCLUDE, "", "must not be empty"},
	    {FILTER_INCLUDE, "   ", "only spaces"},
	    {FILTER_EXCLUDE, "#", "needs a word"},
	    {FILTER_EXCLUDE, "#a b", "one word"},
	    {FILTER_EXCLUDE, "#a#b", "one word"},
	    {FILTER_EXCLUDE, "a\tb", "control characters"},
	};
	struct filter *f = filter_new();
	char err[256], big[FILTER_TERM_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(filter_add(f, bad[i].list, bad[i].s,
				     strlen(bad[i].s), err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, bad[i].msg));
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(filter_add(f, FILTER_INCLUDE, big, strlen(big), err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "at most"));
	assert_true(filter_empty(f));
	/* Good ones: a phrase with spaces, a number-like text. */
	assert_int_equal(filter_add(f, FILTER_INCLUDE, "olive oil", 9, err,
			     sizeof(err)),
	    0);
	assert_int_equal(filter_add(f, FILTER_INCLUDE, "2025", 4, err,
			     sizeof(err)),
	    0);
	assert_false(filter_empty(f));
	filter_free(f);
}

static void
test_terms_bounded(void **state)
{
	struct filter *f = filter_new();
	char err[256], id[24];
	int i;

	(void)state;
	for (i = 0; i < FILTER_TERMS_MAX; i++) {
		int n = snprintf(id, sizeof(id), "%d", FILTER_TERMS_MAX - i);

		assert_int_equal(filter_add(f, FILTER_HIDE, id, (size_t)n, err,
				     sizeof(err)),
		    0);
	}
	assert_int_equal(filter_add(f, FILTER_HIDE, "1", 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "at most"));
	/* Added in reverse order, found by binary search all the same. */
	for (i = 1; i <= FILTER_TERMS_MAX; i += 97) {
		snprintf(id, sizeof(id), "%d", i);
		assert_int_equal(filter_check(f, id, NULL, NULL, NULL),
		    FILTER_HIDDEN);
	}
	assert_int_equal(filter_check(f, "0", NULL, NULL, NULL), FILTER_KEEP);
	filter_free(f);
}

static void
test_dup_and_equal(void **state)
{
	static const char *const hide[] = {"3", "1", NULL};
	static const char *const inc[] = {"#Recipe", NULL};
	static const char *const inc2[] = {"#recipe", NULL};
	static const char *const exc[] = {"#ad", NULL};
	struct filter *a = make(hide, inc, exc), *b, *c, *e;

	(void)state;
	b = filter_dup(a);
	assert_true(filter_equal(a, b));
	c = make(hide, inc2, exc); /* folded alike */
	assert_true(filter_equal(a, c));
	filter_free(c);
	c = make(hide, inc, NULL);
	assert_false(filter_equal(a, c));
	e = filter_new();
	assert_true(filter_equal(e, NULL));
	assert_true(filter_equal(NULL, NULL));
	assert_false(filter_equal(a, NULL));
	assert_null(filter_dup(NULL));
	filter_free(a);
	/* The copy owns its terms. */
	assert_int_equal(filter_check(b, "1", NULL, NULL, NULL),
	    FILTER_HIDDEN);
	assert_int_equal(filter_check(b, "2", "#RECIPE", NULL, NULL),
	    FILTER_KEEP);
	filter_free(b);
	filter_free(c);
	filter_free(e);
	filter_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hashtag_whole_word),
	    cmocka_unit_test(test_text_substring),
	    cmocka_unit_test(test_unicode_folding),
	    cmocka_unit_test(test_hide_by_id),
	    cmocka_unit_test(test_verdict_order),
	    cmocka_unit_test(test_bad_terms),
	    cmocka_unit_test(test_terms_bounded),
	    cmocka_unit_test(test_dup_and_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
