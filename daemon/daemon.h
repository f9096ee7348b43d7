/* SPDX-License-Identifier: ISC */
/*
 * The tiktok-mirror program: argument parsing and one function per
 * command, thin over lib/.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include "config.h"

/* Exit statuses (design.md, "Commands"). */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* a command or an account's sync failed; lock held */
#define EXIT_USAGE 2 /* usage or configuration error */
/*
 * `run` only: the mirror cannot be used until a person acts (a newer
 * schema, a damaged, foreign or read-only database). The units'
 * RestartPreventExitStatus= lists it, so systemd does not retry forever.
 */
#define EXIT_PERMANENT 3

struct ctx {
	const char *config_path; /* -c FILE, else cfg_find() once loaded */
	char *found;		 /* what cfg_find() returned, owned */
	struct cfg cfg;
	int loaded;
	int verbosity; /* CTX_VERBOSE | CTX_QUIET as given, to refuse both */
	struct cfg_test test; /* the test-only knobs, read once by main() */
};

#define CTX_VERBOSE 1
#define CTX_QUIET 2

/*
 * The options every command takes, before or after its name: put
 * CTX_SHORTOPTS in a command's short options and CTX_LONGOPTS in its long
 * ones, and hand every option the command does not know to ctx_option()
 * (ctx_start() does all that for a table of options).
 */
#define CTX_SHORTOPTS "c:hqv"
#define CTX_LONGOPTS                                                           \
	{"config", required_argument, NULL, 'c'},                              \
	    {"help", no_argument, NULL, 'h'},                                  \
	    {"verbose", no_argument, NULL, 'v'},                               \
	    {"quiet", no_argument, NULL, 'q'}
#define CTX_GO_ON -1
/*
 * Handle option 'ch' (argument 'arg') of command 'name' (NULL: before the
 * command): returns CTX_GO_ON when it was a global option, else the exit
 * status to return at once (EXIT_OK once --help has printed the command's
 * help on stdout; EXIT_USAGE for an unknown option or -v with -q).
 */
int ctx_option(struct ctx *, int ch, const char *arg, const char *name);

/*
 * One option of a command's own, in a table that ends with a NULL name:
 * --name (and, for a flag, -letter when not 0) sets *flag to 1 or, with
 * 'arg', takes an argument, which *arg then points to (the last one given).
 */
struct ctx_opt {
	const char *name;
	int letter;
	int *flag;
	const char **arg;
};
#define CTX_OPTS_MAX 16 /* the most options a command has */
#define CTX_ANY -1	/* ctx_start()'s nargs: any number of arguments */
/*
 * Parse command argv[0]'s options: its own, 'opts' (or NULL), and the
 * global ones (ctx_option()); then check that 'nargs' arguments follow
 * (CTX_ANY: any number). Returns CTX_GO_ON with optind at the first
 * argument, else the exit status to return at once.
 */
int ctx_start(struct ctx *, int argc, char **argv, const struct ctx_opt *opts,
    int nargs);
/* Print command 'name''s usage as an error; returns EXIT_USAGE. */
int ctx_usage(const char *name);

/*
 * Load the configuration with cfg_load_as()'s 'flags' (CFG_READER for
 * the commands that only read the mirror: no client secret); prints the
 * error. Returns 0 or EXIT_USAGE.
 */
int ctx_load(struct ctx *, int flags);
/* The configured account 'name', or NULL after printing an error. */
const struct cfg_account *ctx_account(struct ctx *, const char *name);
/* Whether names[0..n) all name configured accounts: 0, or -1 as above. */
int ctx_accounts(struct ctx *, int n, char **names);
/* Whether account 'name' is one of names[0..n) (none named: every one). */
int ctx_named(int n, char **names, const char *name);
/* Print "tiktok-mirror: <msg>" and a usage hint; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The reading commands' output, built in a buffer (the formats are
 * lib/render.h's): out_add() appends 's' (past the buffer's cap the
 * command dies); out_flush() writes the buffer to stdout and empties it,
 * returning 0 or -1 (e.g. a closed pipe).
 */
struct buf;
void out_add(struct buf *, const char *s);
int out_flush(struct buf *);

int cmd_auth(struct ctx *, int argc, char **argv);
int cmd_check(struct ctx *, int argc, char **argv);
int cmd_export(struct ctx *, int argc, char **argv);
int cmd_run(struct ctx *, int argc, char **argv);
int cmd_status(struct ctx *, int argc, char **argv);
int cmd_sync(struct ctx *, int argc, char **argv);
int cmd_videos(struct ctx *, int argc, char **argv);
int cmd_revoke(struct ctx *, int argc, char **argv);
int cmd_forget(struct ctx *, int argc, char **argv);

#endif
