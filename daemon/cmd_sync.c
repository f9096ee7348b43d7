/* SPDX-License-Identifier: ISC */
/*
 * `sync [--force] [NAME...]`: refresh the named accounts (default: all)
 * concurrently on one loop, once, then exit 0 when every one succeeded.
 * `check`: validate the configuration.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "hook.h"
#include "log.h"
#include "mirror.h"
#include "util.h"

struct sync_run {
	int pending;
	int failed;
	struct hook *hook;
};

static void
on_synced(const struct sync_result *r, void *arg)
{
	struct sync_run *sr = arg;
	const struct store_counts *c = &r->counts;

	sr->pending--;
	if (!r->ok) {
		sr->failed++;
		if (sr->pending == 0)
			hook_kick(sr->hook);
		return;
	}
	log_info("%s: %lld videos (%lld new, %lld updated, %lld deleted), "
		 "%lld covers fetched, %lld requests",
	    r->account, (long long)r->videos, (long long)c->new,
	    (long long)c->updated, (long long)c->deleted, (long long)r->covers,
	    (long long)r->requests);
	if (c->new + c->updated + c->deleted + c->restored > 0)
		hook_note(sr->hook, r->account, c->new, c->updated + c->restored,
		    c->deleted);
	/* One on_change run for the whole sync, once every account is done. */
	if (sr->pending == 0)
		hook_kick(sr->hook);
}

int
cmd_sync(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct sync_run sr = {0, 0, NULL};
	struct mirror m;
	size_t i;
	int ch, force = 0, rc, k;

	while ((ch = getopt_long(argc, argv, "f", longopts, NULL)) != -1) {
		if (ch != 'f')
			return usage_error("usage: sync [--force] [NAME...]");
		force = 1;
	}
	if ((rc = ctx_load(c)) != 0)
		return rc;
	for (k = optind; k < argc; k++)
		if (ctx_account(c, argv[k]) == NULL)
			return EXIT_USAGE;
	if ((rc = mirror_open(&m, &c->cfg, force)) != 0)
		return rc;
	sr.hook = hook_new(&m.loop, c->cfg.on_change);
	for (i = 0; i < c->cfg.naccounts; i++) {
		const struct cfg_account *a = &c->cfg.accounts[i];
		int named = optind == argc;

		for (k = optind; k < argc && !named; k++)
			named = strcmp(argv[k], a->name) == 0;
		if (!named || sync_busy(m.engine, a->name))
			continue;
		if (sync_account(m.engine, a, on_synced, &sr) == 0)
			sr.pending++;
	}
	uv_run(&m.loop, UV_RUN_DEFAULT);
	hook_free(sr.hook);
	if (mirror_close(&m) == -1)
		return EXIT_FAIL;
	return sr.failed > 0 ? EXIT_FAIL : EXIT_OK;
}

int
cmd_check(struct ctx *c, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_error("usage: check");
	if ((rc = ctx_load(c)) != 0)
		return rc;
	printf("%s: configuration OK, %zu account%s\n", c->config_path,
	    c->cfg.naccounts, c->cfg.naccounts == 1 ? "" : "s");
	return EXIT_OK;
}
