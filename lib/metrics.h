/* SPDX-License-Identifier: ISC */
/*
 * The Prometheus text-format metrics file (config key `metrics`), rewritten
 * atomically after each refresh so node_exporter's textfile collector, or
 * anything else, can read a whole file at any time.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Per-process counters the mirror database does not hold. */
struct metrics_counters {
	const char *const *names; /* accounts with request totals */
	const int64_t *requests;
	/*
	 * Per name, NULL or the failed state ("error", "needs_auth") the
	 * database could not record: shown instead of the row's state, and
	 * counted as one more failure.
	 */
	const char *const *lost;
	size_t n;
	const char *const *endpoints; /* rate-limited endpoints */
	const int64_t *waits;	      /* requests that waited for the limiter */
	size_t nendpoints;
};

/*
 * Write the metrics of every account in 'store' and the counters to
 * 'path'. Returns 0 or -1 with 'err'.
 */
int metrics_write(const char *path, struct store *,
    const struct metrics_counters *, int64_t now, char *err, size_t errlen);

#endif
