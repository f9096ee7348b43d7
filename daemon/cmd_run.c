/* SPDX-License-Identifier: ISC */
/*
 * `run`: the daemon, in the foreground for systemd (Type=notify). One loop:
 * the per-account schedulers, signals (SIGTERM/SIGINT stop, SIGHUP reload,
 * SIGUSR1 refresh now), a watch on the secrets file so `auth` takes effect
 * without a restart, and the watchdog ping. READY=1 is sent once the
 * configuration, the database and the timers are up. When nothing is due
 * the process sleeps in epoll: no polling.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "hook.h"
#include "http.h"
#include "log.h"
#include "mirror.h"
#include "scheduler.h"
#include "sdnotify.h"
#include "util.h"

#define SECRETS_SETTLE_MS 200 /* let a burst of writes finish */

struct daemon {
	struct ctx *c;
	struct mirror m;
	struct sched *sched;
	struct hook *hook;
	uv_signal_t sig[4];
	uv_timer_t watchdog;
	int watchdog_on;
	uv_fs_event_t watch;
	int watch_on;
	uv_timer_t settle;
	char status[256];
	int stopping;
};

static const int SIGNALS[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

static void
notify(const char *msg)
{
	int rc = sdnotify(msg);

	if (rc < 0)
		log_debug("sd_notify: %s", strerror(-rc));
}

/* Send STATUS= when the one-line summary changed. */
static void
on_change(void *arg)
{
	struct daemon *d = arg;
	struct sched_summary s;
	char line[256], msg[300];

	sched_summary(d->sched, &s);
	snprintf(line, sizeof(line),
	    "%d account%s: %d ok, %d failing, %d need auth, %d refreshing",
	    s.accounts, s.accounts == 1 ? "" : "s", s.ok, s.error,
	    s.needs_auth, s.running);
	if (strcmp(line, d->status) == 0)
		return;
	snprintf(d->status, sizeof(d->status), "%s", line);
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	notify(msg);
}

static void
on_watchdog(uv_timer_t *t)
{
	(void)t;
	notify("WATCHDOG=1");
}

static void
on_settle(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, settle);

	sched_secrets_changed(d->sched);
}

static void
on_secrets(uv_fs_event_t *w, const char *name, int events, int status)
{
	struct daemon *d = container_of(w, struct daemon, watch);

	(void)name;
	(void)events;
	if (status < 0)
		return;
	/*
	 * At most SECRETS_SETTLE_MS after the first write of a burst, not
	 * after the last: the daemon's own token rotations write the file
	 * too, and restarting the timer on each of them could put off
	 * resuming an account that `auth` renewed for as long as they go on.
	 * A write after the check fires another event, so none is missed.
	 */
	if (!uv_is_active((uv_handle_t *)&d->settle))
		UV_OK(uv_timer_start(&d->settle, on_settle, SECRETS_SETTLE_MS,
		    0));
}

static int
same_paths(const struct cfg *a, const struct cfg *b)
{
	return strcmp(a->database, b->database) == 0 &&
	    strcmp(a->secrets, b->secrets) == 0 &&
	    strcmp(a->covers, b->covers) == 0;
}

static void
reload(struct daemon *d)
{
	struct cfg next, old;
	char err[ERRLEN];

	notify("RELOADING=1");
	if (cfg_load_as(&next, d->c->config_path, 0, &d->c->test, err,
		sizeof(err)) == -1) {
		log_err("reload failed, keeping the running configuration: %s",
		    err);
		notify("READY=1");
		return;
	}
	if (!same_paths(&next, &d->c->cfg)) {
		log_err("reload: database, secrets and covers cannot change "
			"while running; restart the service to use new paths");
		cfg_free(&next);
		notify("READY=1");
		return;
	}
	if (next.concurrency != d->c->cfg.concurrency)
		log_warnx("reload: app.concurrency takes effect at the next "
			  "restart");
	hook_set_command(d->hook, next.on_change);
	old = d->c->cfg;
	d->c->cfg = next;
	sync_set_cfg(d->m.engine, &d->c->cfg);
	sched_configure(d->sched, &d->c->cfg);
	cfg_free(&old);
	log_info("configuration reloaded: %zu accounts", d->c->cfg.naccounts);
	notify("READY=1");
	on_change(d);
}

/* Begin a graceful stop: cancel everything; the loop then runs dry. */
static void
stop(struct daemon *d)
{
	size_t i;

	if (d->stopping)
		return;
	d->stopping = 1;
	notify("STOPPING=1");
	log_info("stopping");
	for (i = 0; i < nitems(d->sig); i++)
		uv_close((uv_handle_t *)&d->sig[i], NULL);
	if (d->watchdog_on)
		uv_close((uv_handle_t *)&d->watchdog, NULL);
	if (d->watch_on)
		uv_close((uv_handle_t *)&d->watch, NULL);
	uv_close((uv_handle_t *)&d->settle, NULL);
	sched_free(d->sched);
	d->sched = NULL;
	hook_free(d->hook);
	d->hook = NULL;
	sync_free(d->m.engine);
	d->m.engine = NULL;
	http_free(d->m.http);
	d->m.http = NULL;
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	switch (signum) {
	case SIGHUP:
		reload(d);
		break;
	case SIGUSR1:
		log_info("refreshing every account now (SIGUSR1)");
		sched_refresh_all(d->sched);
		break;
	default:
		stop(d);
	}
}

int
cmd_run(struct ctx *c, int argc, char **argv)
{
	struct daemon d;
	uint64_t usec;
	size_t i;
	int rc, r;

	if ((rc = ctx_start(c, argc, argv, NULL, 0)) != CTX_GO_ON)
		return rc;
	if ((rc = ctx_load(c, 0)) != 0)
		return rc;
	memset(&d, 0, sizeof(d));
	d.c = c;
	if ((rc = mirror_open(&d.m, &c->cfg, "run", NULL)) != 0)
		return rc;
	d.hook = hook_new(&d.m.loop, c->cfg.on_change);
	d.sched = sched_new(&d.m.loop, d.m.engine, d.m.store, d.m.secrets,
	    d.hook, on_change, &d);
	for (i = 0; i < nitems(d.sig); i++) {
		/* Its one failure is running out of descriptors. */
		if ((r = uv_signal_init(&d.m.loop, &d.sig[i])) != 0)
			fatalx("cannot handle signals: %s", uv_strerror(r));
		d.sig[i].data = &d;
		UV_OK(uv_signal_start(&d.sig[i], on_signal, SIGNALS[i]));
	}
	UV_OK(uv_timer_init(&d.m.loop, &d.settle));
	UV_OK(uv_fs_event_init(&d.m.loop, &d.watch));
	r = uv_fs_event_start(&d.watch, on_secrets, c->cfg.secrets, 0);
	if (r == 0)
		d.watch_on = 1;
	else {
		uv_close((uv_handle_t *)&d.watch, NULL);
		log_warnx("cannot watch %s (%s): after `auth`, send SIGHUP or "
			  "restart",
		    c->cfg.secrets, uv_strerror(r));
	}
	if (sdnotify_watchdog(&usec)) {
		UV_OK(uv_timer_init(&d.m.loop, &d.watchdog));
		UV_OK(uv_timer_start(&d.watchdog, on_watchdog, usec / 2000,
		    usec / 2000));
		d.watchdog_on = 1;
	}
	sched_configure(d.sched, &c->cfg);
	log_info("running: %zu account%s, mirror %s", c->cfg.naccounts,
	    c->cfg.naccounts == 1 ? "" : "s", c->cfg.database);
	notify("READY=1");
	on_change(&d);
	uv_run(&d.m.loop, UV_RUN_DEFAULT);
	return mirror_close(&d.m) == -1 ? EXIT_FAIL : EXIT_OK;
}
