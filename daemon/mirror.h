/* SPDX-License-Identifier: ISC */
/* What the commands open: see mirror.c. */
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
 * For `run` and `sync` ('role'): lock, open and wire everything, the sync
 * engine with the force, dry_run and progress options of 'so' (or none;
 * everything else in it is filled in here); prints errors. Returns 0 or
 * EXIT_FAIL; `run` also checks the database (PRAGMA quick_check) and
 * returns EXIT_PERMANENT when the mirror cannot be used until a person
 * acts.
 */
int mirror_open(struct mirror *, const struct cfg *, const char *role,
    const struct sync_opts *so);
/*
 * For revoke and forget: the lock ('what' names the command, for the lock
 * file and the message when another process holds it), the mirror and the
 * secrets file, and with 'with_http' an HTTP engine for one transfer; no
 * sync engine. For auth, which runs beside the daemon ('what' NULL): only
 * the loop, the secrets file and the HTTP engine. Returns 0 or EXIT_FAIL.
 */
int mirror_open_tool(struct mirror *, const struct cfg *, const char *what,
    int with_http);
/* For the commands that only read: the mirror, or NULL after an error. */
struct store *mirror_open_ro(const struct cfg *);
/* Tear down in order and close the loop. Returns 0, or -1 on a leak. */
int mirror_close(struct mirror *);

#endif
