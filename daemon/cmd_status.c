/* SPDX-License-Identifier: ISC */
/*
 * `status [--json]`: per configured account, its state, live videos, last
 * success, next refresh, token and refresh-token expiry and last error,
 * read from the mirror alone. Exits 0 when every account is healthy, 1
 * when one is in error or needs authorization.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "output.h"
#include "store.h"
#include "util.h"

static void
print_json(struct buf *b, const struct store_account *a, int first)
{
	if (buf_addstr(b, first ? "\n  {" : ",\n  {") == -1)
		fatalx("output too large");
	out_json_str(b, 1, "name", a->name);
	out_json_str(b, 0, "open_id", a->open_id);
	out_json_str(b, 0, "display_name", a->display_name);
	out_json_str(b, 0, "state", a->state);
	out_json_int(b, 0, "last_attempt_at", a->last_attempt_at);
	out_json_int(b, 0, "last_success_at", a->last_success_at);
	out_json_int(b, 0, "next_sync_at", a->next_sync_at);
	out_json_str(b, 0, "last_error", a->last_error);
	out_json_int(b, 0, "token_expires_at", a->token_expires_at);
	out_json_int(b, 0, "refresh_expires_at", a->refresh_expires_at);
	out_json_int(b, 0, "videos", a->videos);
	if (buf_addstr(b, "}") == -1)
		fatalx("output too large");
}

static void
print_row(const struct store_account *a)
{
	char t1[32], t2[32], t3[32], t4[32], esc[512];

	printf("%-16s %-10s %7lld  %-20s  %-20s  %-20s  %-20s  %s\n", a->name,
	    a->state, (long long)a->videos,
	    out_time(a->last_success_at, t1, sizeof(t1)),
	    out_time(a->next_sync_at, t2, sizeof(t2)),
	    out_time(a->token_expires_at, t3, sizeof(t3)),
	    out_time(a->refresh_expires_at, t4, sizeof(t4)),
	    a->last_error ? log_escape(a->last_error, strlen(a->last_error),
				esc, sizeof(esc))
			  : "");
}

int
cmd_status(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct store_account a;
	struct store *st = NULL;
	struct buf b;
	char err[ERRLEN];
	size_t i;
	int ch, json = 0, rc, unhealthy = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			return usage_error("usage: status [--json]");
		json = 1;
	}
	if (optind != argc)
		return usage_error("usage: status [--json]");
	if ((rc = ctx_load(c)) != 0)
		return rc;
	if (access(c->cfg.database, F_OK) == 0) {
		st = store_open_ro(c->cfg.database, err, sizeof(err));
		if (st == NULL) {
			log_err("%s", err);
			return EXIT_FAIL;
		}
	}
	buf_init(&b, 0);
	if (json && buf_addstr(&b, "{\"accounts\": [") == -1)
		fatalx("output too large");
	if (!json)
		printf("%-16s %-10s %7s  %-20s  %-20s  %-20s  %-20s  %s\n",
		    "NAME", "STATE", "VIDEOS", "LAST SUCCESS", "NEXT REFRESH",
		    "TOKEN EXPIRES", "REFRESH EXPIRES", "LAST ERROR");
	for (i = 0; i < c->cfg.naccounts; i++) {
		const char *name = c->cfg.accounts[i].name;

		rc = st ? store_account_get(st, name, &a, err, sizeof(err)) : 1;
		if (rc == -1) {
			log_err("%s", err);
			store_close(st);
			buf_free(&b);
			return EXIT_FAIL;
		}
		if (rc == 1) {
			memset(&a, 0, sizeof(a));
			a.name = xstrdup(name);
			a.state = xstrdup("needs_auth");
			a.last_error = xasprintf("never synced; run: "
						 "tiktok-mirror auth %s",
			    name);
			a.last_attempt_at = a.last_success_at = STORE_NULL;
			a.next_sync_at = a.token_expires_at = STORE_NULL;
			a.refresh_expires_at = STORE_NULL;
		}
		if (strcmp(a.state, "ok") != 0)
			unhealthy = 1;
		if (json)
			print_json(&b, &a, i == 0);
		else
			print_row(&a);
		store_account_clear(&a);
	}
	if (json) {
		if (buf_addstr(&b, "\n]}\n") == -1)
			fatalx("output too large");
		(void)out_flush(&b);
	}
	buf_free(&b);
	store_close(st);
	return unhealthy ? EXIT_FAIL : EXIT_OK;
}
