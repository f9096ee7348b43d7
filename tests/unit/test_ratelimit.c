/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/ratelimit.c. TikTok counts requests per endpoint in a
 * sliding one-minute window, so the property that matters is: whatever
 * the demand, no 60 s window ever holds more requests than the limit, and
 * under steady demand the limiter still uses most of it. The tests drive
 * ratelimit_reserve() with simulated clocks and check every send time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "util.h"

#define WINDOW_MS 60000

/*
 * The most send times (sorted, in ms) that fall in any half-open window
 * [t, t + 60 s). The busiest window always starts at a send time.
 */
static int64_t
max_in_window(const int64_t *t, size_t n)
{
	size_t i, j = 0;
	int64_t best = 0;

	for (i = 0; i < n; i++) {
		if (j < i)
			j = i;
		while (j < n && t[j] < t[i] + WINDOW_MS)
			j++;
		if ((int64_t)(j - i) > best)
			best = (int64_t)(j - i);
	}
	return best;
}

static void
check_sorted(const int64_t *t, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		assert_true(t[i] >= t[i - 1]);
}

/*
 * 'workers' callers that each reserve a slot, wait for it, send, and come
 * back for the next one 'think' ms later, for 'minutes' simulated minutes
 * starting at 'start' ms. Returns the send times (sorted) and their count.
 */
static int64_t *
simulate(int64_t limit, int workers, int64_t think, int minutes,
    int64_t start, size_t *np)
{
	struct ratelimit rl;
	int64_t *next, *t, end = start + (int64_t)minutes * WINDOW_MS, w;
	size_t n = 0, cap = 1024;
	int i, k;

	ratelimit_init(&rl, limit);
	next = xcalloc((size_t)workers, sizeof(*next));
	t = xreallocarray(NULL, cap, sizeof(*t));
	for (i = 0; i < workers; i++)
		next[i] = start;
	for (;;) {
		/* The worker whose turn comes first reserves next. */
		k = 0;
		for (i = 1; i < workers; i++)
			if (next[i] < next[k])
				k = i;
		if (next[k] >= end)
			break;
		w = ratelimit_reserve(&rl, next[k]);
		assert_true(w >= 0);
		if (n == cap) {
			cap *= 2;
			t = xreallocarray(t, cap, sizeof(*t));
		}
		t[n++] = next[k] + w;
		next[k] += w + think;
	}
	free(next);
	*np = n;
	return t;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
check_limit(int64_t limit, int workers, int64_t think, int minutes)
{
	int64_t *t, most, start = 1700000000000LL, span;
	size_t n;
	double per_min;

	t = simulate(limit, workers, think, minutes, start, &n);
	qsort(t, n, sizeof(*t), cmp_i64);
	check_sorted(t, n);
	most = max_in_window(t, n);
	if (most > limit)
		fail_msg("limit %lld, %d workers: %lld requests in one 60 s "
			 "window",
		    (long long)limit, workers, (long long)most);
	/* Long-run rate, measured after the first minute's burst. */
	span = (int64_t)(minutes - 1) * WINDOW_MS;
	{
		size_t i, late = 0;

		for (i = 0; i < n; i++)
			if (t[i] >= start + WINDOW_MS &&
			    t[i] < start + WINDOW_MS + span)
				late++;
		per_min = (double)late * WINDOW_MS / (double)span;
	}
	if (per_min < 0.85 * (double)limit)
		fail_msg("limit %lld, %d workers: only %.1f requests a minute",
		    (long long)limit, workers, per_min);
	free(t);
}

static void
test_steady_600(void **state)
{
	(void)state;
	check_limit(600, 1, 0, 10);
	check_limit(600, 4, 0, 10);
	check_limit(600, 64, 3, 10);
}

static void
test_steady_60(void **state)
{
	(void)state;
	check_limit(60, 1, 0, 20);
	check_limit(60, 4, 0, 20);
}

static void
test_steady_10(void **state)
{
	(void)state;
	check_limit(10, 1, 0, 60);
	check_limit(10, 4, 0, 60);
}

static void
test_steady_small(void **state)
{
	(void)state;
	check_limit(1, 1, 0, 60);
	check_limit(7, 2, 0, 60);
	check_limit(9, 3, 0, 60);
	check_limit(11, 3, 0, 60);
	check_limit(999, 4, 0, 10);
}

static void
test_steady_100000(void **state)
{
	(void)state;
	check_limit(100000, 4, 0, 5);
	check_limit(100000, 64, 0, 5);
	check_limit(54321, 16, 0, 5);
}

/*
 * Bursty demand: everything at once after long idle periods and in the
 * middle of steady traffic. The burst allowance must never let a window
 * exceed the limit.
 */
static void
test_bursts(void **state)
{
	static const int64_t limits[] = {10, 60, 600, 100000};
	struct ratelimit rl;
	int64_t *t, now, w, limit;
	size_t n, cap, li;
	int round, i;

	(void)state;
	for (li = 0; li < nitems(limits); li++) {
		limit = limits[li];
		ratelimit_init(&rl, limit);
		cap = (size_t)limit * 40 + 16;
		t = xreallocarray(NULL, cap, sizeof(*t));
		n = 0;
		now = 1000;
		for (round = 0; round < 6; round++) {
			/* A burst of demand: 1.5 limits queued at once. */
			for (i = 0; i < limit + limit / 2; i++) {
				w = ratelimit_reserve(&rl, now);
				assert_true(w >= 0);
				t[n++] = now + w;
			}
			/* Idle for a varying while after the queue drains. */
			now = t[n - 1] + 1 + round * 17000;
		}
		qsort(t, n, sizeof(*t), cmp_i64);
		if (max_in_window(t, n) > limit)
			fail_msg("limit %lld: %lld requests in one window "
				 "after bursts",
			    (long long)limit, (long long)max_in_window(t, n));
		free(t);
	}
}

static void
test_first_requests_go_at_once(void **state)
{
	struct ratelimit rl;
	int i;

	(void)state;
	/* An idle limiter lets a small burst through without waiting. */
	ratelimit_init(&rl, 600);
	for (i = 0; i < 10; i++)
		assert_true(ratelimit_reserve(&rl, 5000) == 0);
	assert_true(rl.waits == 0);
	/* ... and spaces the rest out. */
	ratelimit_init(&rl, 10);
	assert_true(ratelimit_reserve(&rl, 5000) == 0);
	for (i = 0; i < 5; i++)
		(void)ratelimit_reserve(&rl, 5000);
	assert_true(ratelimit_reserve(&rl, 5000) > 0);
	assert_true(rl.waits > 0);
}

static void
test_penalize(void **state)
{
	static const int64_t limits[] = {10, 60, 600, 100000};
	struct ratelimit rl;
	int64_t now = 1700000000000LL, w, first;
	size_t li;
	int i;

	(void)state;
	for (li = 0; li < nitems(limits); li++) {
		ratelimit_init(&rl, limits[li]);
		(void)ratelimit_reserve(&rl, now);
		/* A 429 at 'now' with a 30 s back-off. */
		ratelimit_penalize(&rl, now, 30000);
		w = ratelimit_reserve(&rl, now);
		assert_true(now + w >= now + 30000);
		first = now + w;
		/* Every later reservation is past it too. */
		for (i = 0; i < 50; i++) {
			w = ratelimit_reserve(&rl, now + 1000);
			assert_true(now + 1000 + w >= first);
		}
		/* Asking later does not get around it. */
		ratelimit_init(&rl, limits[li]);
		ratelimit_penalize(&rl, now, 5000);
		w = ratelimit_reserve(&rl, now + 4000);
		assert_true(now + 4000 + w >= now + 5000);
		/* Once the delay is over, requests flow again. */
		ratelimit_init(&rl, limits[li]);
		ratelimit_penalize(&rl, now, 5000);
		assert_true(ratelimit_reserve(&rl, now + 5000) == 0);
	}
	/* A penalty never pulls an already later slot earlier. */
	ratelimit_init(&rl, 10);
	ratelimit_penalize(&rl, now, 120000);
	ratelimit_penalize(&rl, now, 1000);
	w = ratelimit_reserve(&rl, now);
	assert_true(w >= 120000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_steady_600),
	    cmocka_unit_test(test_steady_60),
	    cmocka_unit_test(test_steady_10),
	    cmocka_unit_test(test_steady_small),
	    cmocka_unit_test(test_steady_100000),
	    cmocka_unit_test(test_bursts),
	    cmocka_unit_test(test_first_requests_go_at_once),
	    cmocka_unit_test(test_penalize),
	};

	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
