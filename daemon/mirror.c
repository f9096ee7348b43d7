/* SPDX-License-Identifier: ISC */
/*
 * What the commands that write the mirror share: taking the database lock,
 * opening the mirror, the secrets file and the HTTP engine on one loop
 * (`sync` and `run` also the sync engine), and tearing them down so that
 * uv_loop_close() finds no handle left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "http.h"
#include "lock.h"
#include "log.h"
#include "mirror.h"
#include "secrets.h"
#include "util.h"

int
mirror_open(struct mirror *m, const struct cfg *cfg, int force)
{
	struct sync_opts so;

	memset(&so, 0, sizeof(so));
	so.force = force;
	return mirror_open_with(m, cfg, &so);
}

int
mirror_state_dir(const struct cfg *cfg)
{
	char err[ERRLEN];

	/* The user unit's StateDirectoryMode=0700. */
	if (cfg->state_user && mkdir_p(cfg->state_dir, 0700, err,
				   sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

/*
 * The loop, the lock, the mirror and the secrets file. 'what' names the
 * command for the message when a daemon holds the lock (NULL: sync, run).
 */
static int
open_files(struct mirror *m, const struct cfg *cfg, const char *what)
{
	char err[ERRLEN];
	pid_t holder;

	memset(m, 0, sizeof(*m));
	m->lockfd = -1;
	if (uv_loop_init(&m->loop) != 0) {
		log_err("cannot start the event loop");
		return -1;
	}
	m->loop_ok = 1;
	if (mirror_state_dir(cfg) == -1)
		return -1;
	m->lockfd = lock_take(cfg->database, &holder, err, sizeof(err));
	if (m->lockfd == -1) {
		if (holder == 0)
			log_err("%s", err);
		else if (what == NULL)
			log_err("%s (pid %ld); to refresh now, ask it: "
				"kill -USR1 %ld",
			    err, (long)holder, (long)holder);
		else
			log_err("%s (pid %ld); %s writes the mirror, which only "
				"one process may do: stop the daemon, run %s "
				"again, then start the daemon",
			    err, (long)holder, what, what);
		return -1;
	}
	if ((m->store = store_open(cfg->database, err, sizeof(err))) == NULL ||
	    (m->secrets = secrets_open(cfg->secrets, err, sizeof(err))) ==
		NULL) {
		log_err("%s", err);
		return -1;
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
mirror_open_with(struct mirror *m, const struct cfg *cfg,
    const struct sync_opts *opts)
{
	struct sync_opts so;
	char err[ERRLEN];

	if (open_files(m, cfg, NULL) == -1)
		goto fail;
	if (mkdir_p(cfg->covers, 0750, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto fail;
	}
	if (open_http(m, cfg, (int)cfg->concurrency) == -1)
		goto fail;
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
	return EXIT_FAIL;
}

int
mirror_open_tool(struct mirror *m, const struct cfg *cfg, const char *what,
    int with_http)
{
	if (open_files(m, cfg, what) == -1 ||
	    (with_http && open_http(m, cfg, 1) == -1)) {
		mirror_close(m);
		return EXIT_FAIL;
	}
	return 0;
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
