/* SPDX-License-Identifier: ISC */
/*
 * A per-endpoint request limiter for the whole app. TikTok counts requests
 * per endpoint in a one-minute sliding window (tiktok-api.md §4); a generic
 * cell-rate limiter that allows a burst of 10% of the limit and spreads the
 * remaining 90% evenly never puts more than the limit in any 60 s window.
 * Callers reserve a slot and wait until it comes; a 429 pushes every later
 * slot back.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	int64_t interval_us; /* time between requests at the steady rate */
	int64_t burst_us;    /* how far ahead of the steady rate we may run */
	int64_t tat_us;	     /* theoretical arrival time of the next request */
	int64_t waits;	     /* requests that had to wait */
};

/* 'per_minute' > 0 requests per minute. */
void ratelimit_init(struct ratelimit *, int64_t per_minute);
/* Reserve a request slot; returns how many ms to wait before sending. */
int64_t ratelimit_reserve(struct ratelimit *, int64_t now_ms);
/* The server said slow down: nothing is sent before now + 'delay_ms'. */
void ratelimit_penalize(struct ratelimit *, int64_t now_ms, int64_t delay_ms);

#endif
