/* SPDX-License-Identifier: ISC */
/*
 * Generic cell-rate algorithm: each request advances a theoretical arrival
 * time by one interval; a request may go once it is at most 'burst' ahead
 * of that time. With interval = 60 s / (0.9 limit) and burst = 0.1 limit
 * intervals, any 60 s window holds at most 0.1 limit + 0.9 limit requests.
 */
#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *rl, int64_t per_minute)
{
	int64_t steady = per_minute - per_minute / 10;

	if (steady < 1)
		steady = 1;
	/*
	 * Round the interval up: rounded down, 'steady' intervals fall short
	 * of 60 s (by 60 ms at 90000 a minute) and a window after a burst
	 * would hold more than the limit.
	 */
	rl->interval_us = (60 * 1000000LL + steady - 1) / steady;
	rl->burst_us = (per_minute / 10) * rl->interval_us;
	rl->tat_us = 0;
	rl->waits = 0;
}

int64_t
ratelimit_reserve(struct ratelimit *rl, int64_t now_ms)
{
	int64_t now = now_ms * 1000, at;

	if (rl->tat_us < now)
		rl->tat_us = now;
	at = rl->tat_us - rl->burst_us;
	if (at < now)
		at = now;
	rl->tat_us += rl->interval_us;
	if (at > now) {
		rl->waits++;
		return (at - now + 999) / 1000;
	}
	return 0;
}

void
ratelimit_penalize(struct ratelimit *rl, int64_t now_ms, int64_t delay_ms)
{
	int64_t until = (now_ms + delay_ms) * 1000 + rl->burst_us;

	if (rl->tat_us < until)
		rl->tat_us = until;
}
