/* SPDX-License-Identifier: ISC */
/* The engine `sync` and `run` share: see mirror.c. */
#ifndef MIRROR_H
#define MIRROR_H

#include <uv.h>

#include "config.h"
#include "store.h"
#include "sync.h"

struct mirror {
	uv_loop_t loop;
	int loop_ok;
	int lockfd;
	struct store *store;
	struct secrets *secrets;
	struct http *http;
	struct sync_engine *engine;
};

/* Lock, open and wire everything; prints errors. Returns 0 or EXIT_*. */
int mirror_open(struct mirror *, const struct cfg *, int force);
/*
 * The same, with the engine's force, dry_run and progress options taken
 * from 'so' (everything else in it is filled in here).
 */
int mirror_open_with(struct mirror *, const struct cfg *,
    const struct sync_opts *so);
/* Tear down in order and close the loop. Returns 0, or -1 on a leak. */
int mirror_close(struct mirror *);

#endif
