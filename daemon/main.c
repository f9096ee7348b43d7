/* SPDX-License-Identifier: ISC */
/*
 * tiktok-mirror: keep a local, always-readable mirror of TikTok accounts'
 * videos. This file parses the global options and hands over to a command.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "util.h"

static const char USAGE[] =
    "usage: tiktok-mirror [-c FILE] [-v | -q] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run                 the daemon, in the foreground (systemd "
    "Type=notify)\n"
    "  sync [--force] [--dry-run] [NAME...]\n"
    "                      refresh the named (default: all) accounts once;\n"
    "                      --dry-run: report what would change, write "
    "nothing\n"
    "  auth NAME [--redirect-url URL | --code CODE]\n"
    "                      authorize an account with OAuth (PKCE)\n"
    "  revoke NAME         revoke the grant at TikTok, delete the local "
    "tokens\n"
    "  forget NAME --yes   remove an unconfigured account from the mirror\n"
    "  status [--json]     state, videos, last success, next refresh, "
    "token expiry,\n"
    "                      failures, warnings (exit 1 unless all healthy)\n"
    "  videos NAME [--before DATE] [--start N] [--quantity N|all]\n"
    "         [--limit N] [--date-format FMT] [--json | --tsv | --table]\n"
    "                      the My Videos query, answered from the mirror\n"
    "  videos NAME --history ID [--json | --tsv | --table]\n"
    "                      a video's engagement history\n"
    "  export --out DIR [--format json|ndjson|csv|atom[,...]] [NAME...]\n"
    "                      data files and covers for static site "
    "generators\n"
    "  export --format sqlite --out FILE\n"
    "                      a consistent snapshot of the mirror\n"
    "  check               validate the configuration and exit\n"
    "\n"
    "options:\n"
    "  -c FILE             configuration file (default $TIKTOK_MIRROR_CONFIG"
    ",\n"
    "                      else " CFG_DEFAULT_PATH ")\n"
    "  -v                  also log debug lines\n"
    "  -q                  log errors only\n"
    "  -h, --help          this help\n"
    "  -V, --version       the version\n"
    "\n"
    "Exit status: 0 success, 1 a command or an account's sync failed,\n"
    "2 usage or configuration error.\n";

int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tiktok-mirror: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nrun 'tiktok-mirror --help' for usage\n", stderr);
	return EXIT_USAGE;
}

static int
load(struct ctx *c, int flags)
{
	char err[ERRLEN];

	if (c->loaded)
		return 0;
	if (cfg_load_as(&c->cfg, c->config_path, flags, err, sizeof(err)) ==
	    -1) {
		log_err("%s", err);
		return EXIT_USAGE;
	}
	c->loaded = 1;
	return 0;
}

int
ctx_load(struct ctx *c)
{
	return load(c, 0);
}

int
ctx_load_reader(struct ctx *c)
{
	return load(c, CFG_READER);
}

const struct cfg_account *
ctx_account(struct ctx *c, const char *name)
{
	const struct cfg_account *a = cfg_account(&c->cfg, name);
	char esc[80];

	if (a == NULL)
		log_err("no account named '%s' in %s; the accounts are listed "
			"under 'accounts:'",
		    log_escape(name, strlen(name), esc, sizeof(esc)),
		    c->config_path);
	return a;
}

static const struct {
	const char *name;
	int (*fn)(struct ctx *, int, char **);
} commands[] = {
	{"auth", cmd_auth},
	{"check", cmd_check},
	{"export", cmd_export},
	{"forget", cmd_forget},
	{"revoke", cmd_revoke},
	{"run", cmd_run},
	{"status", cmd_status},
	{"sync", cmd_sync},
	{"videos", cmd_videos},
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct ctx c;
	const char *env;
	size_t i;
	int ch, verbosity = LOG_NORMAL, rc;

	memset(&c, 0, sizeof(c));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	env = getenv("TIKTOK_MIRROR_CONFIG");
	c.config_path = env != NULL && env[0] != '\0' ? env : CFG_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "+c:hqvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.config_path = optarg;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return EXIT_OK;
		case 'q':
			verbosity = LOG_QUIET;
			break;
		case 'v':
			verbosity = LOG_VERBOSE;
			break;
		case 'V':
			printf("tiktok-mirror %s\n", VERSION);
			return EXIT_OK;
		default:
			fputs("run 'tiktok-mirror --help' for usage\n", stderr);
			return EXIT_USAGE;
		}
	}
	log_init(verbosity);
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return usage_error("no command given");
	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		optind = 0; /* GNU getopt: start over, forget "+" */
		rc = commands[i].fn(&c, argc, argv);
		if (c.loaded)
			cfg_free(&c.cfg);
		return rc;
	}
	return usage_error("unknown command '%s'", argv[0]);
}
