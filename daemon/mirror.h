/* SPDX-License-Identifier: ISC */
/* What the commands that write the mirror open: see mirror.c. */
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
	struct sync_engine *engine; /* sync and run only */
};

/*
 * For `run`: lock, check (PRAGMA quick_check), open and wire everything;
 * prints errors. Returns 0, EXIT_FAIL, or EXIT_PERMANENT when the mirror
 * cannot be used until a person acts.
 */
int mirror_open(struct mirror *, const struct cfg *, int force);
/*
 * The same, with the engine's force, dry_run and progress options taken
 * from 'so' (everything else in it is filled in here).
 */
int mirror_open_with(struct mirror *, const struct cfg *,
    const struct sync_opts *so);
/*
 * For revoke and forget: the lock ('what' names the command, for the lock
 * file and the message when another process holds it), the mirror and the secrets file, and with 'with_http' an HTTP
 * engine for one transfer; no sync engine. Returns 0 or EXIT_FAIL.
 */
int mirror_open_tool(struct mirror *, const struct cfg *, const char *what,
    int with_http);
/*
 * Create the user's state folder (cfg->state_user) before a first write,
 * as the user unit's StateDirectory= would. Prints errors; returns 0 or -1.
 */
int mirror_state_dir(const struct cfg *);
/* Tear down in order and close the loop. Returns 0, or -1 on a leak. */
int mirror_close(struct mirror *);

#endif
