/* SPDX-License-Identifier: ISC */
/*
 * What the commands that write the mirror share: taking the database lock,
 * opening the mirror, the secrets file and the HTTP engine on one loop
 * (`sync` and `run` also the sync engine), and tearing them down so that
 * uv_loop_close() finds no handle left. `auth` opens the same without the
 * lock and the mirror; the reading commands only the mirror, read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "covers.h"
#include "daemon.h"
#include "http.h"
#include "lock.h"
#include "log.h"
#include "mirror.h"
#include "secrets.h"
#include "util.h"

/* Say who holds the lock and what to do, for the command 'role'. */
static void
lock_held(const char *err, const struct lock_holder *h, const char *role)
{
	int writer = strcmp(role, "run") == 0 || strcmp(role, "sync") == 0;

	if (h->pid == 0)
		log_err("%s", err);
	else if (strcmp(h->role, "run") != 0 && (writer || h->role[0] != '\0'))
		/*
		 * A one-shot sync (or revoke, forget; or, without a role,
		 * whatever an older version was): SIGUSR1 would kill it, so
		 * never suggest it.
		 */
		log_err("%s (pid %ld%s%s); wait for it to finish, then run "
			"this again",
		    err, (long)h->pid, h->role[0] ? ", tiktok-mirror " : "",
		    h->role);
	else if (writer)
		log_err("%s (pid %ld, the daemon); to refresh now, ask it: "
			"kill -USR1 %ld",
		    err, (long)h->pid, (long)h->pid);
	else
		log_err("%s (pid %ld); %s writes the mirror, which "
			"only one process may do: stop the daemon, run %s "
			"again, then start the daemon",
		    err, (long)h->pid, role, role);
}

/*
 * The loop, the secrets file, the lock (taken as the command 'role') and
 * the mirror (opened with the store_open_ex() 'flags'); without a 'role',
 * no lock and no mirror. Returns 0, -1, or EXIT_PERMANENT when the mirror
 * cannot be used until a person acts.
 */
static int
open_files(struct mirror *m, const struct cfg *cfg, const char *role,
    int flags)
{
	struct lock_holder holder;
	char err[ERRLEN];
	int permanent;

	memset(m, 0, sizeof(*m));
	m->lockfd = -1;
	if (uv_loop_init(&m->loop) != 0) {
		log_err("cannot start the event loop");
		return -1;
	}
	m->loop_ok = 1;
	/*
	 * The user's state folder (cfg->state_user), made before a first
	 * write as the user unit's StateDirectory= would, mode 0700 as its
	 * StateDirectoryMode=.
	 */
	if (cfg->state_user &&
	    mkdir_p(cfg->state_dir, 0700, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	if ((m->secrets = secrets_open(cfg->secrets, err, sizeof(err))) ==
	    NULL) {
		log_err("%s", err);
		return -1;
	}
	/* auth runs beside the daemon: it writes only the secrets file. */
	if (role == NULL)
		return 0;
	m->lockfd = lock_take(cfg->database, role, &holder, err, sizeof(err));
	if (m->lockfd == -1) {
		lock_held(err, &holder, role);
		return -1;
	}
	m->store = store_open_ex(cfg->database, flags, &permanent, err,
	    sizeof(err));
	if (m->store == NULL) {
		log_err("%s", err);
		return permanent ? EXIT_PERMANENT : -1;
	}
	return 0;
}

/* The HTTP engine on the mirror's loop, 'transfers' at once. */
static int
open_http(struct mirror *m, const struct cfg *cfg, int transfers)
{
	struct http_opts ho;
	char err[ERRLEN];

	memset(&ho, 0, sizeof(ho));
	ho.ca_file = cfg->ca_file;
	ho.allow_http = strncmp(cfg->api_url, "http://", 7) == 0 ||
	    strncmp(cfg->oembed_url, "http://", 7) == 0;
	ho.max_transfers = transfers;
	ho.test_timeout_ms = cfg->test.timeout_ms;
	if ((m->http = http_new(&m->loop, &ho, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

int
mirror_open(struct mirror *m, const struct cfg *cfg, const char *role,
    const struct sync_opts *opts)
{
	struct sync_opts so;
	char err[ERRLEN];
	int fd, rc, run = strcmp(role, "run") == 0;

	if ((rc = open_files(m, cfg, role, run ? STORE_QUICK_CHECK : 0)) != 0)
		goto fail;
	/* Made as the umask says; a symbolic link there is refused. */
	if ((fd = covers_root(cfg->covers, 1, err, sizeof(err))) == -1) {
		log_err("%s", err);
		goto fail;
	}
	close(fd);
	if (open_http(m, cfg, (int)cfg->concurrency) == -1)
		goto fail;
	memset(&so, 0, sizeof(so));
	if (opts != NULL)
		so = *opts;
	so.loop = &m->loop;
	so.cfg = cfg;
	so.store = m->store;
	so.secrets = m->secrets;
	so.http = m->http;
	m->engine = sync_new(&so);
	return 0;
fail:
	mirror_close(m);
	/* For `sync`, a failure like any other (exit status 1). */
	return run && rc == EXIT_PERMANENT ? EXIT_PERMANENT : EXIT_FAIL;
}

int
mirror_open_tool(struct mirror *m, const struct cfg *cfg, const char *what,
    int with_http)
{
	if (open_files(m, cfg, what, 0) != 0 ||
	    (with_http && open_http(m, cfg, 1) == -1)) {
		mirror_close(m);
		return EXIT_FAIL;
	}
	return 0;
}

struct store *
mirror_open_ro(const struct cfg *cfg)
{
	struct store *st;
	char err[ERRLEN];

	if ((st = store_open_ro(cfg->database, err, sizeof(err))) == NULL)
		log_err("%s", err);
	return st;
}

int
mirror_close(struct mirror *m)
{
	int rc = 0;

	sync_free(m->engine);
	m->engine = NULL;
	http_free(m->http);
	m->http = NULL;
	if (m->loop_ok) {
		uv_run(&m->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&m->loop) != 0) {
			log_err("internal error: event loop handles left open");
			rc = -1;
		}
		m->loop_ok = 0;
	}
	secrets_close(m->secrets);
	m->secrets = NULL;
	store_close(m->store);
	m->store = NULL;
	if (m->lockfd != -1)
		close(m->lockfd);
	m->lockfd = -1;
	return rc;
}
