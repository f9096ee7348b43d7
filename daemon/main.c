/* SPDX-License-Identifier: ISC */
/*
 * tiktok-mirror: keep a local, always-readable mirror of TikTok accounts'
 * videos. This file parses the global options and hands over to a command;
 * the ctx_*() and out_*() helpers the commands share live here too.
 */
#include <ctype.h>
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

/*
 * The commands, their synopsis (after "tiktok-mirror "; one line per form,
 * a line that starts with a space continues the form above), a one-line
 * summary for the overview, and the help that `COMMAND --help` and
 * `help COMMAND` print. One table, so the overview, the per-command help
 * and the usage errors never disagree.
 */
static const struct command {
	const char *name;
	int (*fn)(struct ctx *, int, char **);
	const char *synopsis;
	const char *summary;
	const char *help;
} commands[] = {
    {"run", cmd_run, "run", "the daemon, in the foreground (systemd "
     "Type=notify)",
	"Refresh every configured account on its cache interval until\n"
	"SIGTERM or SIGINT. SIGHUP re-reads the configuration (a bad file is\n"
	"reported and the old one kept); SIGUSR1 refreshes every account now.\n"
	"Only one process may write a mirror: a second run or a sync exits 1\n"
	"naming the running pid.\n"},
    {"sync", cmd_sync, "sync [--force] [--dry-run] [NAME...]",
	"refresh the named (default: all) accounts once, then exit",
	"options:\n"
	"  --force             apply a refresh that would mark more than half\n"
	"                      of an account's videos deleted\n"
	"  --dry-run           report what would change; write nothing\n"},
    {"auth", cmd_auth,
	"auth NAME [--redirect-url URL | --code CODE] [--replace-account]",
	"authorize an account with OAuth (PKCE)",
	"Print the authorize URL and, when redirect_uri is a loopback\n"
	"address, wait there for the browser. A pending authorization can\n"
	"be finished later, from any shell:\n"
	"  --redirect-url URL  the address the browser was sent to\n"
	"  --code CODE         the code from that address, as the address\n"
	"                      bar shows it or decoded; quote it ('...')\n"
	"A grant for another TikTok user than the one the account mirrors\n"
	"is refused; for the same person under a new client key:\n"
	"  --replace-account   accept that user for the account\n"},
    {"revoke", cmd_revoke, "revoke NAME",
	"revoke the grant at TikTok, delete the local tokens",
	"The account then shows needs_auth; its videos stay. Stop the daemon\n"
	"first: revoke writes the mirror.\n"},
    {"forget", cmd_forget, "forget NAME --yes",
	"remove an unconfigured account from the mirror",
	"Delete the rows, history, runs, change log, covers, avatar and\n"
	"tokens of an account that is no longer in the configuration.\n"
	"  --yes               really do it\n"},
    {"status", cmd_status, "status [--json]",
	"the mirror, its daemon, and each account's state",
	"Print the mirror read and the daemon holding it, then per account:\n"
	"state, videos, last success, next refresh, token expiry, failures,\n"
	"warnings, and the accounts in the mirror that are no longer\n"
	"configured. Exits 1 unless every account is healthy.\n"
	"  --json              {\"mirror\": ..., \"accounts\": [...], ...}\n"},
    {"videos", cmd_videos,
	"videos NAME [--before DATE] [--start N] [--quantity N|all]\n"
	" [--limit N] [--date-format FMT] [--json | --tsv | --table]\n"
	"videos NAME --history ID [--json | --tsv | --table]",
	"the My Videos query, answered from the mirror",
	"Without query options, the account's configured listing.\n"
	"  --before DATE       only videos created before DATE (YYYY-MM-DD or\n"
	"                      an RFC 3339 time)\n"
	"  --start N           the first video to show, 1-based\n"
	"  --quantity N|all    how many videos to show\n"
	"  --limit N           cut titles and descriptions at N characters\n"
	"  --date-format FMT   strftime(3) format for dates, in UTC\n"
	"  --json, --tsv, --table\n"
	"                      the output format (default: a table on a\n"
	"                      terminal, TSV elsewhere); one of them\n"
	"  --history ID        a video's engagement history\n"},
    {"export", cmd_export,
	"export --out DIR [--format json|ndjson|csv|atom[,...]] [--link]\n"
	" [--base-url URL] [--csv-raw] [NAME...]\n"
	"export --format sqlite --out FILE",
	"data files and covers for static site generators",
	"  --out DIR           write DIR/<account>.<format>, DIR/accounts.json\n"
	"                      and DIR/covers/\n"
	"  --format LIST       comma-separated formats (default json); sqlite\n"
	"                      writes a consistent snapshot of the mirror to\n"
	"                      FILE\n"
	"  --link              hard-link the covers instead of copying them\n"
	"  --base-url URL      where the export is published, for absolute\n"
	"                      links in the Atom feed\n"
	"  --csv-raw           CSV cells exactly as stored (by default a cell\n"
	"                      that starts with = + - @ TAB or CR gets a\n"
	"                      leading ', so a spreadsheet does not run it)\n"},
    {"check", cmd_check, "check", "validate the configuration and exit",
	"Load the configuration as the daemon does; exit 2 on any error,\n"
	"reported as FILE:LINE:COLUMN: message.\n"},
    {"help", NULL, "help [COMMAND]", "this help, or a command's",
	NULL},
};

static const char GLOBAL_OPTIONS[] =
    "global options (before or after the command):\n"
    "  -c, --config FILE   the configuration; default $TIKTOK_MIRROR_CONFIG,\n"
    "                      else $XDG_CONFIG_HOME/tiktok-mirror/"
    "tiktok-mirror.yaml\n"
    "                      (~/.config/...) when it exists, else\n"
    "                      " CFG_DEFAULT_PATH "\n"
    "  -v, --verbose       also log debug lines\n"
    "  -q, --quiet         log errors only\n"
    "  -h, --help          this help; COMMAND --help: that command's\n"
    "  -V, --version       the version\n";

static const char EXIT_STATUS[] =
    "Exit status: 0 success, 1 a command or an account's sync failed,\n"
    "2 usage or configuration error.\n";

static const struct command *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(commands); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * The synopsis lines of 'cmd': each form after 'form', each continuation
 * after 'cont'.
 */
static void
print_synopsis(FILE *f, const struct command *cmd, const char *form,
    const char *cont)
{
	const char *p = cmd->synopsis;
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, "\n");
		if (*p == ' ')
			fprintf(f, "%s%.*s\n", cont, (int)n - 1, p + 1);
		else
			fprintf(f, "%s%.*s\n", form, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void
print_overview(void)
{
	const struct command *cmd;
	size_t i, n;

	fputs("usage: tiktok-mirror [-c FILE] [-v | -q] COMMAND [ARGS]\n\n"
	      "commands:\n",
	    stdout);
	for (i = 0; i < nitems(commands); i++) {
		cmd = &commands[i];
		n = strcspn(cmd->synopsis, "\n");
		if (n < 20 && cmd->synopsis[n] == '\0')
			printf("  %-20s%s\n", cmd->synopsis, cmd->summary);
		else {
			print_synopsis(stdout, cmd, "  ", "      ");
			printf("  %-20s%s\n", "", cmd->summary);
		}
	}
	printf("\n%s\n%sRun 'tiktok-mirror help COMMAND' for a command's "
	       "options.\n",
	    GLOBAL_OPTIONS, EXIT_STATUS);
}

/* `COMMAND --help`; the overview for no command, or `help` itself. */
static void
print_help(const struct command *cmd)
{
	if (cmd == NULL || cmd->fn == NULL) {
		print_overview();
		return;
	}
	fputs("usage:\n", stdout);
	print_synopsis(stdout, cmd, "  tiktok-mirror [-c FILE] [-v | -q] ",
	    "      ");
	printf("\n%c%s.\n", toupper((unsigned char)cmd->summary[0]),
	    cmd->summary + 1);
	if (cmd->help != NULL)
		printf("\n%s", cmd->help);
	printf("\n%s\n%s", GLOBAL_OPTIONS, EXIT_STATUS);
}

int
ctx_usage(const char *name)
{
	const struct command *cmd = command_find(name);

	if (cmd == NULL)
		return usage_error("unknown command '%s'", name);
	fputs("usage:\n", stderr);
	print_synopsis(stderr, cmd, "  tiktok-mirror ", "      ");
	fprintf(stderr, "run 'tiktok-mirror help %s' for its options\n",
	    name);
	return EXIT_USAGE;
}

/* `help [COMMAND]`. */
static int
cmd_help(int argc, char **argv)
{
	const struct command *cmd = NULL;

	if (argc > 2)
		return usage_error("usage: help [COMMAND]");
	if (argc == 2 && (cmd = command_find(argv[1])) == NULL)
		return usage_error("unknown command '%s'", argv[1]);
	print_help(cmd);
	return EXIT_OK;
}

int
ctx_start(struct ctx *c, int argc, char **argv, const struct ctx_opt *opts,
    int nargs)
{
	static const struct option global[] = {CTX_LONGOPTS};
	struct option longopts[CTX_OPTS_MAX + nitems(global) + 1];
	char shortopts[CTX_OPTS_MAX + sizeof(CTX_SHORTOPTS)];
	size_t i, n, len = 0;
	int ch, rc;

	memset(longopts, 0, sizeof(longopts));
	for (n = 0; opts != NULL && opts[n].name != NULL; n++) {
		if (n == CTX_OPTS_MAX)
			fatalx("internal error: %s has too many options",
			    argv[0]);
		longopts[n].name = opts[n].name;
		longopts[n].has_arg = opts[n].arg ? required_argument
						  : no_argument;
		/* Past any character: the index of a long-only option. */
		longopts[n].val = opts[n].letter ? opts[n].letter
						 : 256 + (int)n;
		if (opts[n].letter)
			shortopts[len++] = (char)opts[n].letter;
	}
	memcpy(longopts + n, global, sizeof(global));
	memcpy(shortopts + len, CTX_SHORTOPTS, sizeof(CTX_SHORTOPTS));
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		for (i = 0; i < n && longopts[i].val != ch; i++)
			;
		if (i == n) {
			if ((rc = ctx_option(c, ch, optarg, argv[0])) !=
			    CTX_GO_ON)
				return rc;
		} else if (opts[i].arg != NULL)
			*opts[i].arg = optarg;
		else
			*opts[i].flag = 1;
	}
	if (nargs != CTX_ANY && argc - optind != nargs)
		return ctx_usage(argv[0]);
	return CTX_GO_ON;
}

int
ctx_option(struct ctx *c, int ch, const char *arg, const char *name)
{
	switch (ch) {
	case 'c':
		c->config_path = arg;
		return CTX_GO_ON;
	case 'v':
	case 'q':
		c->verbosity |= ch == 'v' ? CTX_VERBOSE : CTX_QUIET;
		if (c->verbosity == (CTX_VERBOSE | CTX_QUIET))
			return usage_error("-v and -q contradict each other; "
					   "give one of them");
		log_init(ch == 'v' ? LOG_VERBOSE : LOG_QUIET);
		return CTX_GO_ON;
	case 'h':
		print_help(name != NULL ? command_find(name) : NULL);
		return EXIT_OK;
	default:
		/* getopt has said what was wrong. */
		return name != NULL ? ctx_usage(name)
				    : usage_error("see the options below");
	}
}

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

int
ctx_load(struct ctx *c, int flags)
{
	char err[ERRLEN];

	if (c->loaded)
		return 0;
	if (c->config_path == NULL)
		c->config_path = c->found = cfg_find();
	if (cfg_load_as(&c->cfg, c->config_path, flags, &c->test, err,
		sizeof(err)) == -1) {
		/* FILE:LINE:COLUMN: at the start, for editors and CI. */
		log_bare("%s", err);
		return EXIT_USAGE;
	}
	c->loaded = 1;
	return 0;
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

int
ctx_accounts(struct ctx *c, int n, char **names)
{
	int i;

	for (i = 0; i < n; i++)
		if (ctx_account(c, names[i]) == NULL)
			return -1;
	return 0;
}

int
ctx_named(int n, char **names, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return n == 0;
}

void
out_add(struct buf *b, const char *s)
{
	if (buf_addstr(b, s) == -1)
		fatalx("output too large");
}

int
out_flush(struct buf *b)
{
	int rc = 0;

	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		rc = -1;
	buf_reset(b);
	return rc;
}

/*
 * The test-only environment knobs (README, "Tests"), read here once and
 * passed into lib/ as options; an invalid value is ignored, as if unset.
 */
static void
test_knobs(struct ctx *c)
{
	const char *s;
	int64_t v;

	if ((s = getenv("TIKTOK_MIRROR_TEST_MIN_CACHE")) != NULL &&
	    parse_i64(s, strlen(s), 1, 59, &v) == 0)
		c->test.min_cache = v;
	if ((s = getenv("TIKTOK_MIRROR_TEST_TIMEOUT_MS")) != NULL &&
	    parse_i64(s, strlen(s), 100, 60000, &v) == 0)
		c->test.timeout_ms = (long)v;
	(void)clock_compress(getenv("TIKTOK_MIRROR_TEST_CLOCK"));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CTX_LONGOPTS,
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const struct command *cmd;
	struct ctx c;
	int ch, rc;

	memset(&c, 0, sizeof(c));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	log_init(LOG_NORMAL);
	test_knobs(&c);
	while ((ch = getopt_long(argc, argv, "+" CTX_SHORTOPTS "V", longopts,
		    NULL)) != -1) {
		if (ch == 'V') {
			printf("tiktok-mirror %s\n", VERSION);
			return EXIT_OK;
		}
		if ((rc = ctx_option(&c, ch, optarg, NULL)) != CTX_GO_ON)
			return rc;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return usage_error("no command given");
	if ((cmd = command_find(argv[0])) == NULL)
		return usage_error("unknown command '%s'", argv[0]);
	if (cmd->fn == NULL)
		return cmd_help(argc, argv);
	optind = 0; /* GNU getopt: start over, forget "+" */
	rc = cmd->fn(&c, argc, argv);
	if (c.loaded)
		cfg_free(&c.cfg);
	free(c.found);
	return rc;
}
