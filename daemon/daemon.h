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
 * ones, and hand every option the command does not know to ctx_option().
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
/* For a command without options of its own: the global ones, as above. */
int ctx_options(struct ctx *, int argc, char **argv);
/* Print command 'name''s usage as an error; returns EXIT_USAGE. */
int ctx_usage(const char *name);

/* Load the configuration; prints the error. Returns 0 or EXIT_USAGE. */
int ctx_load(struct ctx *);
/* The same for commands that only read the mirror (no client secret). */
int ctx_load_reader(struct ctx *);
/* The configured account 'name', or NULL after printing an error. */
const struct cfg_account *ctx_account(struct ctx *, const char *name);
/* Print "tiktok-mirror: <msg>" and a usage hint; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_auth(struct ctx *, int argc, char **argv);
int cmd_check(struct ctx *, int argc, char **argv);
int cmd_export(struct ctx *, int argc, char **argv);
int cmd_run(struct ctx *, int argc, char **argv);
int cmd_status(struct ctx *, int argc, char **argv);
int cmd_sync(struct ctx *, int argc, char **argv);
int cmd_videos(struct ctx *, int argc, char **argv);
int cmd_revoke(struct ctx *, int argc, char **argv);
int cmd_forget(struct ctx *, int argc, char **argv);

enum out_format { OUT_TABLE, OUT_TSV, OUT_JSON };
/* `videos NAME --history ID` (cmd_history.c). Returns an exit status. */
int videos_history(struct ctx *, const char *account, const char *id,
    enum out_format);

#endif
