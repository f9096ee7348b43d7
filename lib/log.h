/* SPDX-License-Identifier: ISC */
/*
 * Logging to stderr. Under systemd ($JOURNAL_STREAM naming stderr) every
 * line carries an sd-daemon priority prefix ("<3>" ...); otherwise an ISO
 * 8601 time and a level word. The one global state of lib/ lives here.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#define LOG_QUIET -1 /* errors only */
#define LOG_NORMAL 0
#define LOG_VERBOSE 1 /* debug lines too */

void log_init(int verbosity);
int log_verbosity(void);

/* Errors, warnings, information and debug lines. errno is preserved. */
void log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * An error line as it is, without time and level word (still with the
 * journal's "<3>"): a configuration error, which must start with
 * FILE:LINE:COLUMN: for editors and CI annotators to parse it.
 */
void log_bare(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log an error and exit(1). For broken invariants and start-up only. */
void fatalx(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copy untrusted text into 'out' for logging: control bytes and invalid
 * UTF-8 become \xNN, and the result is cut at 'outlen' - 1 bytes with "..."
 * when longer. Returns 'out'.
 */
char *log_escape(const char *s, size_t len, char *out, size_t outlen);
/*
 * How many bytes at 's' (of 'n') are one character safe to show as it is:
 * 0 for a C0 control, DEL, a C1 control, a bidirectional override or mark,
 * or invalid UTF-8 (then write s[0] as \xNN and go on with s + 1).
 */
size_t log_plain_seq(const char *s, size_t n);

/*
 * Copy a URL without its query string or fragment (signatures and tokens
 * live there) into 'out'. Returns 'out'.
 */
char *log_url(const char *url, char *out, size_t outlen);

#endif
