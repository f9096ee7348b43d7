/* SPDX-License-Identifier: ISC */
/*
 * The YAML configuration (design.md, "Configuration"). The file is read
 * once through one descriptor (at most CFG_FILE_MAX bytes) and walked with
 * libyaml's event parser by a small recursive-descent reader that knows the
 * exact shape of the file: a mapping of top-level keys, an "app" mapping and
 * an "accounts" list of mappings. Anything else is an error at the event
 * where it starts, so the reader never descends into a structure it does
 * not expect and nesting is bounded by the shape itself.
 *
 * Hostile input is expected (reliability-notes.md §6): anchors and aliases
 * are refused (no billion laughs), and so are tags, a second document,
 * scalars over CFG_SCALAR_MAX bytes and NUL characters. Exactly one event
 * is held at a time and deleted before the next is read; the parser is
 * deleted on every path.
 *
 * Errors are "PATH:LINE:COLUMN: message" with LINE and COLUMN 1-based at the
 * offending key or value (libyaml's marks are 0-based), or "PATH: message"
 * when there is no position. Content errors come first, in file order; then
 * the checks that look at the file system (the config's own mode when it
 * holds client_secret, client_secret_file, ca_file).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include "config.h"
#include "filter.h"
#include "log.h"
#include "oembed.h"
#include "util.h"

#define CFG_FILE_MAX (1024 * 1024) /* the configuration file */
#define CFG_SCALAR_MAX 4096	   /* any one key or value */
#define CFG_SECRET_MAX 4096	   /* client_secret_file */

#define START_MAX 100000
#define QUANTITY_MAX 1000000
#define CACHE_MIN 60
#define CACHE_MAX 31536000 /* a year */
#define CONCURRENCY_MAX 64

#define DEFAULT_QUANTITY 20
#define DEFAULT_CACHE 3600
#define DEFAULT_RATE_LIMIT 600
/*
 * oEmbed is public and unauthenticated: ask it far more gently than the
 * Display API's 600 per minute (README, "No TikTok app yet?").
 */
#define DEFAULT_OEMBED_RATE_LIMIT 120
#define DEFAULT_CONCURRENCY 4
#define DEFAULT_API_URL "https://open.tiktokapis.com"
#define DEFAULT_AUTH_URL "https://www.tiktok.com/v2/auth/authorize/"
#define DEFAULT_NAME "TikTok"

#define EMPTY_MSG                                                              \
	"no settings in the file; it needs app: (client_key, "                 \
	"client_secret_file, redirect_uri) and accounts:"

/* The "!!" tag handle's prefix (YAML 1.1). */
#define YAML_TAG "tag:yaml.org,2002:"

/* Echoed keys and values are escaped and cut to this size. */
#define ECHO_MAX 68

/*
 * The keys of each mapping (style.md 14, "one fact, one table"), in the
 * order "expected one of" lists them. Each line is X(INDEX, name, reader,
 * options): the reader reads the key's value into the struct being filled
 * (a struct cfg, or the struct cfg_account of an account), and the options
 * are the members of struct key it uses.
 */
#define TOP_KEYS(X)                                                            \
	X(T_DATABASE, "database", get_path, CFG(database))                     \
	X(T_SECRETS, "secrets", get_path, CFG(secrets))                        \
	X(T_COVERS, "covers", get_path, CFG(covers))                           \
	X(T_APP, "app", parse_app)                                             \
	X(T_ON_CHANGE, "on_change", get_string, CFG(on_change),                \
	    .flags = S_CMD)                                                    \
	X(T_METRICS, "metrics", get_path, CFG(metrics))                        \
	X(T_ACCOUNTS, "accounts", parse_accounts)

#define BASE_URL "an http:// or https:// URL without query or fragment, e.g. "
#define PER_MINUTE "a positive integer (requests per minute)"

#define APP_KEYS(X)                                                            \
	X(A_CLIENT_KEY, "client_key", get_string, CFG(client_key))             \
	X(A_CLIENT_SECRET, "client_secret", get_string, CFG(client_secret))    \
	/* kept in the loader: finish() reads the file */                      \
	X(A_CLIENT_SECRET_FILE, "client_secret_file", get_path,                \
	    .off = offsetof(struct loader, secret_file),                       \
	    .flags = P_LENIENT | P_LOADER)                                     \
	X(A_REDIRECT_URI, "redirect_uri", get_url, CFG(redirect_uri),          \
	    .flags = U_QUERY,                                                  \
	    .what = "an absolute http:// or https:// URL: the redirect URI "   \
		    "registered for your TikTok app")                          \
	X(A_API_URL, "api_url", get_url, CFG(api_url), .flags = U_BASE,        \
	    .what = BASE_URL DEFAULT_API_URL)                                  \
	X(A_AUTH_URL, "auth_url", get_url, CFG(auth_url), .flags = U_QUERY,    \
	    .what = "an http:// or https:// URL without fragment, "            \
		    "e.g. " DEFAULT_AUTH_URL)                                  \
	X(A_CA_FILE, "ca_file", get_path, CFG(ca_file), .flags = P_LENIENT)    \
	X(A_RATE_LIMIT, "rate_limit", get_int, CFG(rate_limit), .min = 1,      \
	    .max = INT64_MAX, .what = PER_MINUTE)                              \
	X(A_CONCURRENCY, "concurrency", get_int, CFG(concurrency), .min = 1,   \
	    .max = CONCURRENCY_MAX, .what = "an integer from 1 to 64")         \
	X(A_OEMBED_URL, "oembed_url", get_url, CFG(oembed_url),                \
	    .flags = U_BASE, .what = BASE_URL OEMBED_DEFAULT_URL)              \
	X(A_OEMBED_RATE_LIMIT, "oembed_rate_limit", get_int,                   \
	    CFG(oembed_rate_limit), .min = 1, .max = INT64_MAX,                \
	    .what = PER_MINUTE)

#define ACCOUNT_KEYS(X)                                                        \
	X(C_NAME, "name", get_name)                                            \
	X(C_BEFORE, "before", get_before)                                      \
	X(C_START, "start", get_int, ACCOUNT(start), .min = 1,                 \
	    .max = START_MAX, .what = "an integer from 1 to 100000")           \
	X(C_QUANTITY, "quantity", get_int, ACCOUNT(quantity), .flags = I_ALL,  \
	    .min = 1, .max = QUANTITY_MAX,                                     \
	    .what = "a positive integer or \"all\"")                           \
	X(C_CACHE, "cache", get_int, ACCOUNT(cache), .flags = I_CACHE,         \
	    .max = CACHE_MAX,                                                  \
	    .what = "a number of seconds from 60 to 31536000")                 \
	X(C_HIDE, "hide", get_terms, .flags = FILTER_HIDE)                     \
	X(C_INCLUDE, "include", get_terms, .flags = FILTER_INCLUDE)            \
	X(C_EXCLUDE, "exclude", get_terms, .flags = FILTER_EXCLUDE)            \
	X(C_VIDEOS, "videos", get_videos)

/* A table's index names, and its rows: the reader, then its options. */
#define KEY_INDEX(i, ...) i,
#define KEY_ROW(i, name_, ...) [i] = {.name = name_, .get = __VA_ARGS__},
#define CFG(m) .off = offsetof(struct cfg, m)
#define ACCOUNT(m) .off = offsetof(struct cfg_account, m)

enum { TOP_KEYS(KEY_INDEX) NTOP };
enum { APP_KEYS(KEY_INDEX) NAPP };
enum { ACCOUNT_KEYS(KEY_INDEX) NACCOUNT };

struct loader;

/*
 * One key of a mapping: its name, and the function that reads its value
 * into 'base', the struct being filled. What the reader uses of the rest:
 * 'off', the member of base the value goes into; its flags; bounds; and
 * 'what', which completes "KEY must be ...".
 */
struct key {
	const char *name;
	int (*get)(struct loader *, const struct key *, void *base);
	size_t off;
	int flags;
	int64_t min, max;
	const char *what;
};

/* The member of 'base' that key 'k' fills. */
#define FIELD(base, k, type) ((type *)(void *)((char *)(base) + (k)->off))

/* A key of a mapping: whether it was given, where, and where its value is. */
struct seen {
	int set;
	yaml_mark_t key;
	yaml_mark_t val;
};

/* Per account, while loading: where it starts and where its name is. */
struct acct_info {
	yaml_mark_t start;
	yaml_mark_t name;
};

struct loader {
	int reader;	   /* CFG_READER: no client secret needed */
	int64_t min_cache; /* shortest cache allowed, seconds */
	yaml_parser_t parser;
	int parser_ok;
	yaml_event_t ev; /* the current event, when have_ev */
	int have_ev;
	yaml_mark_t vmark; /* where the last value read starts */

	const char *path;
	const char *data;
	size_t len;
	mode_t mode;
	char *err;
	size_t errlen;

	struct cfg *cfg;
	yaml_mark_t root;
	struct seen top[NTOP];
	struct seen app[NAPP];
	char *secret_file; /* resolved client_secret_file */
	int unexpanded;	   /* a path this command does not read kept its $ */
	struct acct_info *info;
	size_t cap;
};

static int fail(struct loader *, const yaml_mark_t *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m == NULL)
		return errf(ld->err, ld->errlen, "%s: %s", ld->path, msg);
	return errf(ld->err, ld->errlen, "%s:%zu:%zu: %s", ld->path,
	    m->line + 1, m->column + 1, msg);
}

/* Escape and cut untrusted text for a message. */
static const char *
echo(const void *s, size_t len, char out[ECHO_MAX])
{
	return log_escape(s, len, out, ECHO_MAX);
}

/* The 0-based line and column (in characters) of byte 'off' of the input. */
static void
offset_mark(const struct loader *ld, size_t off, yaml_mark_t *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->index = off;
	for (i = 0; i < off && i < ld->len; i++) {
		if (ld->data[i] == '\n') {
			m->line++;
			m->column = 0;
		} else if (((unsigned char)ld->data[i] & 0xc0) != 0x80)
			m->column++;
	}
}

/* Report the error libyaml's parser stopped at. */
static int
syntax_error(struct loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem != NULL ? p->problem : "parse error";
	yaml_mark_t m;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail(ld, NULL, "out of memory while parsing");
	case YAML_READER_ERROR:
		offset_mark(ld, p->problem_offset, &m);
		if (p->problem_value != -1)
			return fail(ld, &m, "invalid text: %s (byte 0x%02x); "
			    "the file must be UTF-8", problem,
			    (unsigned)p->problem_value & 0xff);
		return fail(ld, &m, "invalid text: %s; the file must be UTF-8",
		    problem);
	default:
		if (p->context != NULL)
			return fail(ld, &p->problem_mark,
			    "invalid YAML: %s (%s at line %zu, column %zu)",
			    problem, p->context, p->context_mark.line + 1,
			    p->context_mark.column + 1);
		return fail(ld, &p->problem_mark, "invalid YAML: %s", problem);
	}
}

/*
 * Read the next event into ld->ev, deleting the previous one, and refuse
 * what this loader never accepts anywhere: aliases, anchors, tags, NUL
 * characters and over-long scalars.
 */
static int
next(struct loader *ld)
{
	yaml_event_t *ev = &ld->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char e[ECHO_MAX];
	size_t n;

	if (ld->have_ev) {
		yaml_event_delete(ev);
		ld->have_ev = 0;
	}
	if (!yaml_parser_parse(&ld->parser, ev))
		return syntax_error(ld);
	ld->have_ev = 1;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		anchor = ev->data.alias.anchor;
		return fail(ld, &ev->start_mark,
		    "aliases (*%s) are not supported; write the value out",
		    echo(anchor, strlen((const char *)anchor), e));
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor != NULL)
		return fail(ld, &ev->start_mark,
		    "anchors (&%s) are not supported; write the value out",
		    echo(anchor, strlen((const char *)anchor), e));
	if (tag != NULL) {
		/* Show "!!int" as written, not "tag:yaml.org,2002:int". */
		n = strlen((const char *)tag);
		if (n > sizeof(YAML_TAG) - 1 &&
		    memcmp(tag, YAML_TAG, sizeof(YAML_TAG) - 1) == 0)
			return fail(ld, &ev->start_mark,
			    "tags (!!%s) are not supported; remove the tag",
			    echo(tag + sizeof(YAML_TAG) - 1,
				n - (sizeof(YAML_TAG) - 1), e));
		return fail(ld, &ev->start_mark,
		    "tags (%s) are not supported; remove the tag",
		    echo(tag, n, e));
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		if (ev->data.scalar.length > CFG_SCALAR_MAX)
			return fail(ld, &ev->start_mark,
			    "value is longer than %d bytes", CFG_SCALAR_MAX);
		if (memchr(ev->data.scalar.value, '\0',
			ev->data.scalar.length) != NULL)
			return fail(ld, &ev->start_mark,
			    "value contains a NUL character");
	}
	return 0;
}

/* True for a plain empty scalar, "~" or null: a key without a value. */
static int
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return ev->data.scalar.length == 0 || strcmp(v, "~") == 0 ||
	    strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0;
}

/* What an event starts, for "must be X, not Y" messages. */
static const char *
kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	default:
		return is_null(ev) ? "an empty value" : "a single value";
	}
}

/*
 * Read a value that must be a non-null scalar. 'what' completes "KEY must
 * be ..." for a mapping or a list.
 */
static int
get_scalar(struct loader *ld, const char *key, const char *what)
{
	const yaml_event_t *ev = &ld->ev;

	if (next(ld) == -1)
		return -1;
	ld->vmark = ev->start_mark;
	if (ev->type != YAML_SCALAR_EVENT)
		return fail(ld, &ev->start_mark, "%s must be %s, not %s", key,
		    what, kind(ev));
	if (is_null(ev))
		return fail(ld, &ev->start_mark,
		    "%s has no value; give %s, or remove the line", key, what);
	return 0;
}

/* The flags of struct key, each reader's own. */
#define S_CMD 1	    /* get_string: a shell command (tabs, newlines) */
#define P_LENIENT 1 /* get_path: a file CFG_READER does not read */
#define P_LOADER 2  /* get_path: 'off' is into the struct loader */
#define U_QUERY 1   /* get_url: a query string is allowed */
#define U_BASE 2    /* get_url: trailing slashes are removed */
#define I_ALL 1	    /* get_int: "all" (CFG_QUANTITY_ALL) too */
#define I_CACHE 2   /* get_int: the minimum is the loader's min_cache */

/* A non-empty string without control characters, copied into *out. */
static int
get_text(struct loader *ld, const char *key, const char *what, int flags,
    char **out)
{
	const unsigned char *v;
	size_t len, i;

	if (get_scalar(ld, key, what) == -1)
		return -1;
	v = ld->ev.data.scalar.value;
	len = ld->ev.data.scalar.length;
	if (len == 0)
		return fail(ld, &ld->vmark, "%s must not be empty", key);
	for (i = 0; i < len; i++) {
		if ((flags & S_CMD) && (v[i] == '\t' || v[i] == '\n'))
			continue;
		if (v[i] < 0x20 || v[i] == 0x7f)
			return fail(ld, &ld->vmark,
			    "%s must not contain control characters", key);
	}
	*out = xstrndup((const char *)v, len);
	return 0;
}

static int
get_string(struct loader *ld, const struct key *k, void *base)
{
	return get_text(ld, k->name,
	    (k->flags & S_CMD) ? "a shell command" : "a string", k->flags,
	    FIELD(base, k, char *));
}

/*
 * The variables a path may use (design.md, "Configuration"): systemd's
 * folders for LoadCredential= and StateDirectory=, each with the unit
 * setting that sets it. No other variable is expanded, so a path means the
 * same thing in a shell and in the unit.
 */
static const struct {
	const char *name, *setting;
} path_vars[] = {{"CREDENTIALS_DIRECTORY", "LoadCredential="},
    {"STATE_DIRECTORY", "StateDirectory="}};

/*
 * Expand $NAME and ${NAME} of path_vars[] in 's' into a new string in
 * *out. A '$' that starts any other name is an error (it would otherwise
 * be taken literally, which nobody means). A variable that is not set is
 * an error too, except where 'lenient' (a file this command never reads):
 * then *out is 's' unexpanded.
 */
static int
expand_path(struct loader *ld, const char *key, const char *s, int lenient,
    char **out)
{
	struct buf b;
	const char *p, *val, *name;
	char echoed[ECHO_MAX];
	size_t i, n = 0, skip;
	int braced;

	buf_init(&b, CFG_SCALAR_MAX * 4);
	for (p = s; *p != '\0'; p++) {
		if (*p != '$') {
			if (buf_add(&b, p, 1) == -1)
				goto toolong;
			continue;
		}
		braced = p[1] == '{';
		for (i = 0; i < nitems(path_vars); i++) {
			n = strlen(path_vars[i].name);
			if (strncmp(p + 1 + braced, path_vars[i].name, n) != 0)
				continue;
			if (braced ? p[1 + n + 1] == '}'
				   : !isalnum((unsigned char)p[1 + n]) &&
					p[1 + n] != '_')
				break;
		}
		if (i == nitems(path_vars)) {
			if (!braced && !isalpha((unsigned char)p[1]) &&
			    p[1] != '_') {
				/* A lone '$' is just a character. */
				if (buf_add(&b, p, 1) == -1)
					goto toolong;
				continue;
			}
			buf_free(&b);
			return fail(ld, &ld->vmark,
			    "%s: only $CREDENTIALS_DIRECTORY and "
			    "$STATE_DIRECTORY are expanded in paths; write "
			    "the folder out instead of %s", key,
			    echo(p, strcspn(p, "/"), echoed));
		}
		name = path_vars[i].name;
		skip = n + (braced ? 2 : 0);
		val = getenv(name);
		/* systemd may list several folders, colon-separated. */
		if (val == NULL || val[0] == '\0' || val[0] == ':') {
			buf_free(&b);
			if (lenient) {
				ld->unexpanded = 1;
				*out = xstrdup(s);
				return 0;
			}
			return fail(ld, &ld->vmark,
			    "%s uses $%s, which is not set; systemd sets it "
			    "for the service (%s), so outside it set it "
			    "yourself, e.g. %s=/etc/tiktok-mirror", key, name,
			    path_vars[i].setting, name);
		}
		if (buf_add(&b, val, strcspn(val, ":")) == -1)
			goto toolong;
		p += skip;
	}
	*out = b.data; /* never empty, always NUL-terminated */
	return 0;
toolong:
	buf_free(&b);
	return fail(ld, &ld->vmark, "%s is too long once expanded", key);
}

/*
 * A path, variables expanded (see expand_path), resolved against the config
 * file's folder.
 */
static int
get_path(struct loader *ld, const struct key *k, void *base)
{
	char *s, *e = NULL;

	if (get_text(ld, k->name, "a path", 0, &s) == -1)
		return -1;
	if (expand_path(ld, k->name, s, (k->flags & P_LENIENT) && ld->reader,
		&e) == -1) {
		free(s);
		return -1;
	}
	if (k->flags & P_LOADER)
		base = ld;
	*FIELD(base, k, char *) = path_join(ld->cfg->dir, e);
	free(e);
	free(s);
	return 0;
}

/*
 * An absolute http:// or https:// URL with a host, without spaces, user
 * information or fragment. The scheme is lowercased.
 */
static int
check_url(char *u, int flags)
{
	size_t n, host, len, i;

	if (strncasecmp(u, "https://", 8) == 0)
		n = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		n = 7;
	else
		return -1;
	for (i = 0; i < n - 3; i++)
		u[i] = (char)tolower((unsigned char)u[i]);
	host = strcspn(u + n, "/?#");
	if (host == 0 || memchr(u + n, '@', host) != NULL)
		return -1;
	if (strchr(u, '#') != NULL)
		return -1;
	if (!(flags & U_QUERY) && strchr(u, '?') != NULL)
		return -1;
	len = strlen(u);
	for (i = 0; i < len; i++)
		if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
			return -1;
	if (flags & U_BASE)
		while (len > n + host && u[len - 1] == '/')
			u[--len] = '\0';
	return 0;
}

static int
get_url(struct loader *ld, const struct key *k, void *base)
{
	char *s;

	if (get_text(ld, k->name, "a URL", 0, &s) == -1)
		return -1;
	if (check_url(s, k->flags) == -1) {
		free(s);
		return fail(ld, &ld->vmark, "%s must be %s", k->name, k->what);
	}
	*FIELD(base, k, char *) = s;
	return 0;
}

/* A plain decimal integer without leading zeros, written without quotes. */
static int
get_int(struct loader *ld, const struct key *k, void *base)
{
	const yaml_event_t *ev = &ld->ev;
	const char *v;
	int64_t min = (k->flags & I_CACHE) ? ld->min_cache : k->min;
	int64_t max = (k->flags & I_ALL) ? INT64_MAX : k->max, n;
	size_t len;

	if (get_scalar(ld, k->name, k->what) == -1)
		return -1;
	v = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;
	if ((k->flags & I_ALL) && strcmp(v, "all") == 0) {
		*FIELD(base, k, int64_t) = CFG_QUANTITY_ALL;
		return 0;
	}
	if ((len > 1 && v[0] == '0') ||
	    (len > 2 && v[0] == '-' && v[1] == '0') ||
	    parse_i64(v, len, min, max, &n) == -1)
		return fail(ld, &ld->vmark, "%s must be %s", k->name, k->what);
	/* Past max only with I_ALL: say how to ask for everything. */
	if (n > k->max)
		return fail(ld, &ld->vmark,
		    "%s must be at most %lld; use \"all\" for the whole "
		    "account", k->name, (long long)k->max);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(ld, &ld->vmark,
		    "%s must be %s, written without quotes", k->name, k->what);
	*FIELD(base, k, int64_t) = n;
	return 0;
}

int
cfg_valid_name(const char *s, size_t len)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789_-";
	size_t i;

	if (len < 1 || len > CFG_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(ok, s[i]) == NULL)
			return 0;
	return 1;
}

/* The name of the account 'base', which must differ from the others'. */
static int
get_name(struct loader *ld, const struct key *k, void *base)
{
	struct cfg *cfg = ld->cfg;
	struct cfg_account *a = base;
	size_t idx = (size_t)(a - cfg->accounts), len, i;
	const char *v;

	if (get_scalar(ld, k->name, "a name") == -1)
		return -1;
	v = (const char *)ld->ev.data.scalar.value;
	len = ld->ev.data.scalar.length;
	if (!cfg_valid_name(v, len))
		return fail(ld, &ld->vmark,
		    "name must be 1 to %d letters, digits, '_' or '-'",
		    CFG_NAME_MAX);
	for (i = 0; i < idx; i++)
		if (strcmp(cfg->accounts[i].name, v) == 0)
			return fail(ld, &ld->vmark,
			    "duplicate account name '%s' (first at line %zu); "
			    "every account needs its own name", v,
			    ld->info[i].name.line + 1);
	memcpy(a->name, v, len + 1);
	ld->info[idx].name = ld->vmark;
	return 0;
}

static int
get_before(struct loader *ld, const struct key *k, void *base)
{
	struct cfg_account *a = base;

	if (get_scalar(ld, k->name, "a date") == -1)
		return -1;
	if (cfg_parse_before((const char *)ld->ev.data.scalar.value,
		&a->before_ms) == -1)
		return fail(ld, &ld->vmark,
		    "before must be a real date (YYYY-MM-DD) or an RFC 3339 "
		    "time with offset, e.g. 2025-06-01 or "
		    "2025-06-01T12:00:00+02:00");
	a->has_before = 1;
	return 0;
}

/*
 * Read the start of the list that 'key' holds, a list of 'what' (e.g.
 * "accounts"), or fail at its value: 'todo' completes "KEY has no value;
 * ...". Then next_entry() walks the entries.
 */
static int
start_list(struct loader *ld, const char *key, const char *what,
    const char *todo)
{
	const yaml_event_t *ev = &ld->ev;

	if (next(ld) == -1)
		return -1;
	ld->vmark = ev->start_mark;
	if (is_null(ev))
		return fail(ld, &ld->vmark, "%s has no value; %s", key, todo);
	if (ev->type != YAML_SEQUENCE_START_EVENT)
		return fail(ld, &ld->vmark,
		    "%s must be a list of %s, each starting with '- ', not %s",
		    key, what, kind(ev));
	return 0;
}

/*
 * Read the next entry of a list: 1 with its first event current and
 * ld->vmark at it, 0 at the end of the list, -1 on error.
 */
static int
next_entry(struct loader *ld)
{
	if (next(ld) == -1)
		return -1;
	ld->vmark = ld->ev.start_mark;
	return ld->ev.type != YAML_SEQUENCE_END_EVENT;
}

/*
 * A moderation list (hide, include or exclude: k->flags): a list of
 * strings, each checked by filter_add() and reported at its own position.
 */
static int
get_terms(struct loader *ld, const struct key *k, void *base)
{
	static const char *const example[FILTER_NLISTS] = {
	    "[\"7301234567890123456\"]", "[\"#recipe\", \"pasta\"]",
	    "[\"#ad\"]"};
	struct cfg_account *a = base;
	const yaml_event_t *ev = &ld->ev;
	const char *key = k->name;
	enum filter_list list = k->flags;
	char why[ERRLEN];
	int r;

	if (next(ld) == -1)
		return -1;
	ld->vmark = ev->start_mark;
	if (ev->type != YAML_SEQUENCE_START_EVENT)
		return fail(ld, &ld->vmark,
		    "%s must be a list, e.g. %s: %s, not %s", key, key,
		    example[list], kind(ev));
	if (a->filter == NULL)
		a->filter = filter_new();
	while ((r = next_entry(ld)) == 1) {
		if (ev->type != YAML_SCALAR_EVENT || is_null(ev))
			return fail(ld, &ev->start_mark,
			    "%s: every entry must be %s in quotes, e.g. %s: "
			    "%s, not %s", key,
			    list == FILTER_HIDE ? "a video id" : "a term", key,
			    example[list], kind(ev));
		if (filter_add(a->filter, list,
			(const char *)ev->data.scalar.value,
			ev->data.scalar.length, why, sizeof(why)) == -1)
			return fail(ld, &ev->start_mark, "%s: %s", key, why);
	}
	return r;
}

/*
 * videos: a curated account's list of TikTok video addresses, in the order
 * the page shows them, each video once.
 */
static int
get_videos(struct loader *ld, const struct key *k, void *base)
{
	struct cfg_account *a = base;
	const yaml_event_t *ev = &ld->ev;
	yaml_mark_t list;
	size_t lines[CFG_VIDEOS_MAX]; /* where each video is listed */
	size_t cap = 0, i;
	char id[21], why[ERRLEN];
	int r;

	if (start_list(ld, k->name, "video addresses",
		"list the addresses of the videos to mirror, each on its own "
		"line starting with '- '") == -1)
		return -1;
	list = ld->vmark;
	while ((r = next_entry(ld)) == 1) {
		if (ev->type != YAML_SCALAR_EVENT || is_null(ev))
			return fail(ld, &ld->vmark,
			    "a video must be its address, e.g. "
			    "https://www.tiktok.com/@USER/video/ID, not %s",
			    kind(ev));
		if (a->nvideos == CFG_VIDEOS_MAX)
			return fail(ld, &ld->vmark,
			    "too many videos; an account lists at most %d",
			    CFG_VIDEOS_MAX);
		if (oembed_video_id((const char *)ev->data.scalar.value, id,
			why, sizeof(why)) == -1)
			return fail(ld, &ld->vmark, "%s", why);
		for (i = 0; i < a->nvideos; i++)
			if (strcmp(a->videos[i].id, id) == 0)
				return fail(ld, &ld->vmark,
				    "video %s is listed twice (first at line "
				    "%zu); keep one", id, lines[i] + 1);
		if (a->nvideos == cap) {
			cap = cap ? cap * 2 : 8;
			a->videos = xreallocarray(a->videos, cap,
			    sizeof(*a->videos));
		}
		memcpy(a->videos[a->nvideos].id, id, sizeof(id));
		a->videos[a->nvideos].url = xstrndup(
		    (const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
		lines[a->nvideos++] = ld->vmark.line;
	}
	if (r == -1)
		return -1;
	if (a->nvideos == 0)
		return fail(ld, &list,
		    "videos must list at least one video address (- "
		    "https://www.tiktok.com/@USER/video/ID)");
	return 0;
}

static int parse_app(struct loader *, const struct key *, void *);
static int parse_accounts(struct loader *, const struct key *, void *);

static const struct key top_keys[] = {TOP_KEYS(KEY_ROW)};
static const struct key app_keys[] = {APP_KEYS(KEY_ROW)};
static const struct key account_keys[] = {ACCOUNT_KEYS(KEY_ROW)};

static void
join_keys(const struct key *keys, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < n && o < outlen; i++) {
		w = snprintf(out + o, outlen - o, "%s%s", i ? ", " : "",
		    keys[i].name);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static int
find_key(const struct key *keys, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, s, len) == 0)
			return (int)i;
	return -1;
}

/*
 * Read the next key of the mapping being walked. Returns 1 with its index
 * in 'keys', 0 at the end of the mapping, or -1 on error: a key that is not
 * a scalar, an unknown key (where names the mapping: "", " in app") or one
 * seen before.
 */
static int
next_key(struct loader *ld, const struct key *keys, size_t nkeys,
    struct seen *seen, const char *where, size_t *idx)
{
	const yaml_event_t *ev = &ld->ev;
	const char *k;
	char e[ECHO_MAX], list[256];
	size_t len;
	int i;

	if (next(ld) == -1)
		return -1;
	if (ev->type == YAML_MAPPING_END_EVENT)
		return 0;
	if (ev->type != YAML_SCALAR_EVENT)
		return fail(ld, &ev->start_mark,
		    "a key must be a word such as name:, not %s", kind(ev));
	k = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;
	i = find_key(keys, nkeys, k, len);
	if (i == -1) {
		echo(k, len, e);
		if (keys == top_keys && find_key(app_keys, NAPP, k, len) != -1)
			return fail(ld, &ev->start_mark,
			    "unknown key '%s'; it belongs under app:", e);
		if (keys == top_keys &&
		    find_key(account_keys, NACCOUNT, k, len) != -1)
			return fail(ld, &ev->start_mark,
			    "unknown key '%s'; it belongs to an account "
			    "under accounts:", e);
		join_keys(keys, nkeys, list, sizeof(list));
		return fail(ld, &ev->start_mark,
		    "unknown key '%s'%s; expected one of: %s", e, where, list);
	}
	if (seen[i].set)
		return fail(ld, &ev->start_mark,
		    "duplicate key '%s'%s (first at line %zu); keep one",
		    keys[i].name, where, seen[i].key.line + 1);
	seen[i].set = 1;
	seen[i].key = ev->start_mark;
	*idx = (size_t)i;
	return 1;
}

/*
 * Read the mapping that starts at the current event, each key's value with
 * its reader into 'base'. 'what' says what the mapping is ("app must be a
 * mapping of keys such as ..."), for when the event starts something else;
 * 'where' names it in messages about its keys ("", " in app").
 */
static int
parse_keys(struct loader *ld, const char *what, const struct key *keys,
    size_t nkeys, struct seen *seen, const char *where, void *base)
{
	size_t k;
	int r;

	if (ld->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ld, &ld->ev.start_mark, "%s, not %s", what,
		    kind(&ld->ev));
	while ((r = next_key(ld, keys, nkeys, seen, where, &k)) == 1) {
		if (keys[k].get(ld, &keys[k], base) == -1)
			return -1;
		seen[k].val = ld->vmark;
	}
	return r;
}

/*
 * A curated account mirrors exactly the videos it lists: the listing keys
 * of an account with a grant do not apply. Reports the first one given.
 */
static int
check_curated(struct loader *ld, const struct seen *seen)
{
	static const int listing[] = {C_BEFORE, C_START, C_QUANTITY};
	int k = -1;
	size_t i;

	for (i = 0; i < nitems(listing); i++)
		if (seen[listing[i]].set &&
		    (k == -1 || seen[listing[i]].key.index < seen[k].key.index))
			k = listing[i];
	if (k == -1)
		return 0;
	return fail(ld, &seen[k].key,
	    "%s does not apply to an account with videos:, which mirrors "
	    "exactly the videos it lists, in their order; remove %s",
	    account_keys[k].name, account_keys[k].name);
}

/* One entry of accounts:, which starts at the current event. */
static int
parse_account(struct loader *ld, struct cfg_account *a)
{
	struct seen seen[NACCOUNT];

	memset(seen, 0, sizeof(seen));
	if (parse_keys(ld,
		"an account must be a mapping of keys such as name: and cache:",
		account_keys, NACCOUNT, seen, " in this account", a) == -1)
		return -1;
	return seen[C_VIDEOS].set ? check_curated(ld, seen) : 0;
}

static int
parse_accounts(struct loader *ld, const struct key *k, void *base)
{
	struct cfg *cfg = base;
	const yaml_event_t *ev = &ld->ev;
	struct cfg_account *a;
	yaml_mark_t list;
	size_t i;
	int r;

	if (start_list(ld, k->name, "accounts",
		"add at least one account (- name: NAME)") == -1)
		return -1;
	list = ld->vmark;
	while ((r = next_entry(ld)) == 1) {
		if (cfg->naccounts == CFG_MAX_ACCOUNTS)
			return fail(ld, &ev->start_mark,
			    "too many accounts; at most %d are supported",
			    CFG_MAX_ACCOUNTS);
		if (cfg->naccounts == ld->cap) {
			ld->cap = ld->cap ? ld->cap * 2 : 4;
			cfg->accounts = xreallocarray(cfg->accounts, ld->cap,
			    sizeof(*cfg->accounts));
			ld->info = xreallocarray(ld->info, ld->cap,
			    sizeof(*ld->info));
		}
		a = &cfg->accounts[cfg->naccounts];
		memset(a, 0, sizeof(*a));
		a->start = 1;
		a->quantity = DEFAULT_QUANTITY;
		a->cache = DEFAULT_CACHE;
		ld->info[cfg->naccounts] =
		    (struct acct_info){.start = ev->start_mark};
		cfg->naccounts++;
		if (parse_account(ld, a) == -1)
			return -1;
	}
	if (r == -1)
		return -1;
	if (cfg->naccounts == 0)
		return fail(ld, &list,
		    "accounts must list at least one account (- name: NAME)");
	/* An account has a name once name: is read (never empty). */
	if (cfg->naccounts == 1 && cfg->accounts[0].name[0] == '\0') {
		memcpy(cfg->accounts[0].name, DEFAULT_NAME,
		    sizeof(DEFAULT_NAME));
		return 0;
	}
	for (i = 0; i < cfg->naccounts; i++)
		if (cfg->accounts[i].name[0] == '\0')
			return fail(ld, &ld->info[i].start,
			    "this account has no name; with several accounts "
			    "every one needs name:");
	return 0;
}

static int
parse_app(struct loader *ld, const struct key *k, void *base)
{
	const yaml_mark_t *second;
	struct seen *s = ld->app;

	(void)k;
	if (next(ld) == -1 ||
	    parse_keys(ld,
		"app must be a mapping of keys such as client_key: and "
		"redirect_uri:",
		app_keys, NAPP, s, " in app", base) == -1)
		return -1;
	if (s[A_CLIENT_SECRET].set && s[A_CLIENT_SECRET_FILE].set) {
		/* Point at whichever of the two comes second. */
		second = &s[A_CLIENT_SECRET].key;
		if (s[A_CLIENT_SECRET_FILE].key.index > second->index)
			second = &s[A_CLIENT_SECRET_FILE].key;
		return fail(ld, second,
		    "app has both client_secret and client_secret_file; "
		    "keep one");
	}
	return 0;
}

/*
 * The TikTok app's credentials, required unless every account is curated
 * (mirrored through oEmbed, which needs no app).
 */
static int
check_app(struct loader *ld)
{
	const yaml_mark_t *at = &ld->top[T_APP].key;
	const struct seen *s = ld->app;
	size_t i;

	for (i = 0; i < ld->cfg->naccounts; i++)
		if (!CFG_CURATED(&ld->cfg->accounts[i]))
			break;
	if (i == ld->cfg->naccounts)
		return 0;
	if (!ld->top[T_APP].set)
		return fail(ld, &ld->root,
		    "missing key 'app'; add app: with client_key, "
		    "client_secret_file and redirect_uri (or give every "
		    "account a videos: list, which needs no TikTok app)");
	if (!s[A_CLIENT_KEY].set)
		return fail(ld, at,
		    "missing key 'client_key' in app; add the client key of "
		    "your TikTok app");
	if (!s[A_CLIENT_SECRET].set && !s[A_CLIENT_SECRET_FILE].set)
		return fail(ld, at,
		    "missing client secret in app; add client_secret_file: "
		    "FILE (or client_secret:)");
	if (!s[A_REDIRECT_URI].set)
		return fail(ld, at,
		    "missing key 'redirect_uri' in app; add the redirect URI "
		    "registered for your TikTok app");
	return 0;
}

/* The top-level mapping, which starts at the current event. */
static int
parse_top(struct loader *ld)
{
	if (parse_keys(ld,
		"the file must be a mapping of keys such as app: and accounts:",
		top_keys, NTOP, ld->top, "", ld->cfg) == -1)
		return -1;
	if (!ld->top[T_ACCOUNTS].set)
		return fail(ld, &ld->root,
		    "missing key 'accounts'; add accounts: with at least one "
		    "account (- name: NAME)");
	return check_app(ld);
}

static int
parse_stream(struct loader *ld)
{
	const yaml_event_t *ev = &ld->ev;

	if (next(ld) == -1) /* STREAM-START */
		return -1;
	if (next(ld) == -1)
		return -1;
	if (ev->type == YAML_STREAM_END_EVENT)
		return fail(ld, NULL, EMPTY_MSG);
	if (next(ld) == -1) /* the root node */
		return -1;
	if (is_null(ev))
		return fail(ld, NULL, EMPTY_MSG);
	ld->root = ev->start_mark;
	if (parse_top(ld) == -1)
		return -1;
	if (next(ld) == -1) /* DOCUMENT-END */
		return -1;
	if (next(ld) == -1)
		return -1;
	if (ev->type != YAML_STREAM_END_EVENT)
		return fail(ld, &ev->start_mark,
		    "a second YAML document is not allowed; keep one");
	return 0;
}

/*
 * Read client_secret_file: one line, its newline trimmed, no control
 * characters, not empty.
 */
static int
load_secret_file(struct loader *ld)
{
	const yaml_mark_t *at = &ld->app[A_CLIENT_SECRET_FILE].val;
	const char *f = ld->secret_file;
	struct stat st;
	char *data;
	size_t len, i;

	if (read_file(f, 0, CFG_SECRET_MAX, &data, &len, &st) == -1) {
		if (errno == EFBIG)
			return fail(ld, at,
			    "client_secret_file %s is larger than %d bytes; "
			    "it must hold only the client secret", f,
			    CFG_SECRET_MAX);
		return fail(ld, at, "cannot read client_secret_file %s: %s", f,
		    file_error(errno));
	}
	/*
	 * Like an inline secret in a readable config: a secret every local
	 * user can read is no secret. The group may read it (the service's
	 * group, chmod 640).
	 */
	if ((st.st_mode & 0006) != 0) {
		explicit_bzero(data, len);
		free(data);
		return fail(ld, at,
		    "client_secret_file %s is %s by others (mode %04o); "
		    "chmod o-rwx %s (0640 with the service's group, or 0600)",
		    f, (st.st_mode & 0004) ? "readable" : "writable",
		    (unsigned)(st.st_mode & 07777), f);
	}
	if (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (len > 0 && data[len - 1] == '\r')
		data[--len] = '\0';
	for (i = 0; i < len; i++)
		if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f)
			break;
	if (len == 0 || i < len) {
		explicit_bzero(data, len);
		free(data);
		if (len == 0)
			return fail(ld, at,
			    "client_secret_file %s is empty; put the client "
			    "secret of your TikTok app in it", f);
		return fail(ld, at,
		    "client_secret_file %s must hold the secret on one line, "
		    "without control characters", f);
	}
	ld->cfg->client_secret = data;
	return 0;
}

/* Whether 'a' and 'b' name the same existing file. */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (a == NULL || b == NULL || stat(a, &sa) == -1 || stat(b, &sb) == -1)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * A path under an XDG folder: $VAR/tiktok-mirror<rest>, else
 * $HOME/<dflt>/tiktok-mirror<rest> (the XDG rule: only absolute values
 * count), else NULL. The caller frees.
 */
static char *
xdg_path(const char *var, const char *dflt, const char *rest)
{
	const char *x = getenv(var), *home = getenv("HOME");

	if (x != NULL && x[0] == '/')
		return xasprintf("%s/tiktok-mirror%s", x, rest);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/%s/tiktok-mirror%s", home, dflt, rest);
	return NULL;
}

/* The user's config: $XDG_CONFIG_HOME/tiktok-mirror/tiktok-mirror.yaml. */
static char *
user_config(void)
{
	return xdg_path("XDG_CONFIG_HOME", ".config", "/tiktok-mirror.yaml");
}

char *
cfg_find(void)
{
	const char *env = getenv("TIKTOK_MIRROR_CONFIG");
	char *user;

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	user = user_config();
	if (user != NULL && access(user, F_OK) == 0)
		return user;
	free(user);
	return xstrdup(CFG_DEFAULT_PATH);
}

/*
 * The folder that holds the mirror, the secrets and the covers by default
 * (design.md, "Configuration"): the state folder the units pass as
 * $STATE_DIRECTORY, so that a command from a shell finds the mirror the
 * daemon writes: /var/lib/tiktok-mirror for the system config,
 * $XDG_STATE_HOME/tiktok-mirror (~/.local/state/...) for the user's own.
 * Any other config keeps its files beside it. Sets cfg->state_dir to a new
 * string, and cfg->state_user when it is the user's folder (created on
 * first write, as systemd would).
 */
static void
default_state(struct cfg *cfg)
{
	const char *state = getenv("STATE_DIRECTORY");
	char *user;

	/* systemd may pass several folders, colon-separated: use the first. */
	if (state != NULL && state[0] != '\0' && state[0] != ':') {
		cfg->state_dir = xstrndup(state, strcspn(state, ":"));
		return;
	}
	if (same_file(cfg->path, CFG_DEFAULT_PATH)) {
		cfg->state_dir = xstrdup(CFG_STATE_DIR);
		return;
	}
	user = user_config();
	if (same_file(cfg->path, user)) {
		cfg->state_dir = xdg_path("XDG_STATE_HOME", ".local/state", "");
		cfg->state_user = cfg->state_dir != NULL;
	}
	free(user);
	if (cfg->state_dir == NULL)
		cfg->state_dir = xstrdup(cfg->dir);
}

/* Defaults, then the checks that look at the file system. */
static int
finish(struct loader *ld)
{
	struct cfg *cfg = ld->cfg;
	const char *what;
	struct stat st;
	int fd, e;

	if (cfg->api_url == NULL)
		cfg->api_url = xstrdup(DEFAULT_API_URL);
	if (cfg->auth_url == NULL)
		cfg->auth_url = xstrdup(DEFAULT_AUTH_URL);
	if (cfg->oembed_url == NULL)
		cfg->oembed_url = xstrdup(OEMBED_DEFAULT_URL);

	default_state(cfg);
	if (cfg->database == NULL)
		cfg->database = path_join(cfg->state_dir, "mirror.db");
	if (cfg->secrets == NULL)
		cfg->secrets = path_join(cfg->state_dir, "secrets.db");
	if (cfg->covers == NULL)
		cfg->covers = path_join(cfg->state_dir, "covers");

	/* An inline secret: the file must be like an ssh private key. */
	if (cfg->client_secret != NULL && (ld->mode & 077) != 0) {
		what = (ld->mode & 044)	  ? "readable"
		    : (ld->mode & 022) ? "writable"
				       : "accessible";
		return fail(ld, &ld->app[A_CLIENT_SECRET].key,
		    "the file contains client_secret but is %s by "
		    "group/others (mode %04o); chmod 600 %s or use "
		    "client_secret_file", what, (unsigned)(ld->mode & 07777),
		    ld->path);
	}
	/*
	 * on_change runs commands as the daemon's user: whoever may write
	 * the file could make it run theirs.
	 */
	if (cfg->on_change != NULL && (ld->mode & 022) != 0)
		return fail(ld, &ld->top[T_ON_CHANGE].key,
		    "the file sets on_change (a command run as this user) but "
		    "is writable by %s (mode %04o); chmod go-w %s",
		    (ld->mode & 002) ? "others" : "its group",
		    (unsigned)(ld->mode & 07777), ld->path);
	if (ld->secret_file != NULL && !ld->reader &&
	    load_secret_file(ld) == -1)
		return -1;
	if (cfg->ca_file != NULL && !(ld->reader && ld->unexpanded)) {
		fd = open(cfg->ca_file,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
			e = fd == -1 ? errno : EINVAL;
			if (fd != -1)
				close(fd);
			return fail(ld, &ld->app[A_CA_FILE].val,
			    "cannot read ca_file %s: %s", cfg->ca_file,
			    file_error(e));
		}
		close(fd);
	}
	return 0;
}

static int
load_mem(struct cfg *cfg, const char *path, const char *data, size_t len,
    mode_t mode, int flags, const struct cfg_test *test, char *err,
    size_t errlen)
{
	struct loader ld = {
		.reader = (flags & CFG_READER) != 0,
		.min_cache = CACHE_MIN,
		.path = path,
		.data = data,
		.len = len,
		.mode = mode,
		.err = err,
		.errlen = errlen,
		.cfg = cfg,
	};
	int rc = -1;

	if (test != NULL && test->min_cache > 0 && test->min_cache < CACHE_MIN)
		ld.min_cache = test->min_cache;
	memset(cfg, 0, sizeof(*cfg));
	cfg->path = xstrdup(path);
	cfg->dir = path_dirname(path);
	cfg->rate_limit = DEFAULT_RATE_LIMIT;
	cfg->concurrency = DEFAULT_CONCURRENCY;
	cfg->oembed_rate_limit = DEFAULT_OEMBED_RATE_LIMIT;

	if (!yaml_parser_initialize(&ld.parser)) {
		errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	ld.parser_ok = 1;
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)data,
	    len);
	if (parse_stream(&ld) == -1 || finish(&ld) == -1)
		goto out;
	rc = 0;
out:
	if (ld.have_ev)
		yaml_event_delete(&ld.ev);
	if (ld.parser_ok)
		yaml_parser_delete(&ld.parser);
	free(ld.secret_file);
	free(ld.info);
	if (rc == -1)
		cfg_free(cfg);
	return rc;
}

int
cfg_load_mem(struct cfg *cfg, const char *path, const char *data,
    size_t len, mode_t mode, char *err, size_t errlen)
{
	return load_mem(cfg, path, data, len, mode, 0, NULL, err, errlen);
}

int
cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen)
{
	return cfg_load_as(cfg, path, 0, NULL, err, errlen);
}

int
cfg_load_as(struct cfg *cfg, const char *path, int flags,
    const struct cfg_test *test, char *err, size_t errlen)
{
	struct stat st;
	char *data;
	size_t len;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (read_file(path, 0, CFG_FILE_MAX, &data, &len, &st) == -1) {
		if (errno == EFBIG)
			return errf(err, errlen,
			    "%s: larger than %d bytes; is it the right file?",
			    path, CFG_FILE_MAX);
		return errf(err, errlen, "%s: cannot read: %s", path,
		    file_error(errno));
	}
	rc = load_mem(cfg, path, data, len, st.st_mode, flags, test, err,
	    errlen);
	if (rc == 0 && test != NULL)
		cfg->test = *test;
	explicit_bzero(data, len);
	free(data);
	return rc;
}

void
cfg_free(struct cfg *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->state_dir);
	free(cfg->database);
	free(cfg->secrets);
	free(cfg->covers);
	free(cfg->client_key);
	if (cfg->client_secret != NULL) {
		explicit_bzero(cfg->client_secret, strlen(cfg->client_secret));
		free(cfg->client_secret);
	}
	free(cfg->redirect_uri);
	free(cfg->api_url);
	free(cfg->auth_url);
	free(cfg->ca_file);
	free(cfg->oembed_url);
	free(cfg->on_change);
	free(cfg->metrics);
	for (i = 0; i < cfg->naccounts; i++)
		cfg_account_clear(&cfg->accounts[i]);
	free(cfg->accounts);
	memset(cfg, 0, sizeof(*cfg));
}

const struct cfg_account *
cfg_account(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i].name, name) == 0)
			return &cfg->accounts[i];
	return NULL;
}

void
cfg_account_copy(struct cfg_account *dst, const struct cfg_account *src)
{
	size_t i;

	*dst = *src;
	dst->filter = filter_dup(src->filter);
	if (src->nvideos == 0)
		return;
	dst->videos = xreallocarray(NULL, src->nvideos, sizeof(*dst->videos));
	for (i = 0; i < src->nvideos; i++) {
		memcpy(dst->videos[i].id, src->videos[i].id,
		    sizeof(dst->videos[i].id));
		dst->videos[i].url = xstrdup(src->videos[i].url);
	}
}

void
cfg_account_clear(struct cfg_account *a)
{
	size_t i;

	filter_free(a->filter);
	a->filter = NULL;
	for (i = 0; i < a->nvideos; i++)
		free(a->videos[i].url);
	free(a->videos);
	a->videos = NULL;
	a->nvideos = 0;
}

/* Parse exactly 'n' ASCII digits. */
static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * RFC 3339 section 5.6: full-date ["T" full-time], where full-time is
 * HH:MM:SS[.frac](Z|+HH:MM|-HH:MM). 't', 'z' and a space for 'T' are
 * accepted (RFC 3339 notes them); leap seconds (:60) are not. Fractions
 * below a millisecond are dropped.
 */
int
cfg_parse_before(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0, oh, om, i;
	const char *p;
	struct tm tm;
	int64_t t;

	if (digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return -1;
	p = s + 10;
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		if (digits(p, 2, &h) == -1 || p[2] != ':' ||
		    digits(p + 3, 2, &mi) == -1 || p[5] != ':' ||
		    digits(p + 6, 2, &sec) == -1)
			return -1;
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
		p += 8;
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				return -1;
			for (i = 0; *p >= '0' && *p <= '9'; i++, p++)
				if (i < 3)
					frac = frac * 10 + (*p - '0');
			for (; i < 3; i++)
				frac *= 10;
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			if (digits(p + 1, 2, &oh) == -1 || p[3] != ':' ||
			    digits(p + 4, 2, &om) == -1 || oh > 23 || om > 59)
				return -1;
			off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
			p += 6;
		} else
			return -1;
		if (*p != '\0')
			return -1;
	}
	/* timegm() only adds up: the fields were checked above. */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm) - (int64_t)off * 60;
	if (t < 0)
		return -1;
	*ms = t * 1000 + frac;
	return 0;
}
