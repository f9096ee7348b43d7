/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/config.c.
 *
 * Golden fixtures: tests/fixtures/config/NAME.yaml is loaded and the result
 * compared with NAME.expected, which holds either the canonical dump of the
 * loaded struct cfg (every field, one per line) or the exact error message.
 * The fixture folder appears as @DIR@ in both, so the files do not depend
 * on where the tree lives. Most fixtures are loaded in place; those whose
 * file mode matters are copied into a temporary folder and chmod-ed there.
 * Run from the top of the tree. TM_UPDATE_GOLDEN=1 rewrites the .expected
 * files from the current results (review the diff before committing).
 *
 * Then come the cases that are easier to build at run time: cfg_parse_before
 * itself, limits (file size, account count), secret-file trimming, modes,
 * a configuration named without a folder, and the etc/ example.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "filter.h"
#include "util.h"

#define FIXTURES "tests/fixtures/config"
#define EXAMPLE "etc/tiktok-mirror.yaml"
#define STATE "/run/tm-state:/var/lib/tm-other"

struct golden {
	const char *name; /* NAME.expected, and NAME.yaml unless 'yaml' */
	const char *yaml;
	mode_t mode;	   /* 0: load in place; else a copy with this mode */
	const char *state; /* $STATE_DIRECTORY, or NULL for unset */
};

static struct golden golden[] = {
    /* valid configurations */
    {"minimal", NULL, 0, NULL},
    {"minimal-state", "minimal", 0, STATE},
    {"minimal-state-empty", "minimal", 0, ""},
    {"full", NULL, 0, NULL},
    {"full-state", "full", 0, STATE},
    {"unnamed", NULL, 0, NULL},
    {"unnamed_empty", NULL, 0, NULL},
    {"paths", NULL, 0, NULL},
    {"before", NULL, 0, NULL},
    {"flow", NULL, 0, NULL},
    {"document", NULL, 0, NULL},
    {"quoted_all", NULL, 0, NULL},
    {"name_max", NULL, 0, NULL},
    {"inline_secret", NULL, 0600, NULL},
    {"inline_secret-0400", "inline_secret", 0400, NULL},
    /* the file as a whole */
    {"inline_secret-0644", "inline_secret", 0644, NULL},
    {"inline_secret-0640", "inline_secret", 0640, NULL},
    {"inline_secret-0620", "inline_secret", 0620, NULL},
    {"empty", NULL, 0, NULL},
    {"comments_only", NULL, 0, NULL},
    {"null_document", NULL, 0, NULL},
    {"not_mapping", NULL, 0, NULL},
    {"syntax", NULL, 0, NULL},
    {"syntax_quote", NULL, 0, NULL},
    {"syntax_tab", NULL, 0, NULL},
    {"invalid_utf8", NULL, 0, NULL},
    {"multi_doc", NULL, 0, NULL},
    {"anchor", NULL, 0, NULL},
    {"alias", NULL, 0, NULL},
    {"merge", NULL, 0, NULL},
    {"tag", NULL, 0, NULL},
    {"tag_mapping", NULL, 0, NULL},
    {"long_scalar", NULL, 0, NULL},
    {"long_key", NULL, 0, NULL},
    {"deep", NULL, 0, NULL},
    {"deep_top", NULL, 0, NULL},
    {"nul", NULL, 0, NULL},
    {"control", NULL, 0, NULL},
    /* unknown keys at depth 0, 1 and 2 */
    {"unknown_top", NULL, 0, NULL},
    {"unknown_top_app_key", NULL, 0, NULL},
    {"unknown_top_account_key", NULL, 0, NULL},
    {"unknown_app", NULL, 0, NULL},
    {"unknown_account", NULL, 0, NULL},
    /* wrong types */
    {"type_mapping", NULL, 0, NULL},
    {"type_list", NULL, 0, NULL},
    {"type_app_scalar", NULL, 0, NULL},
    {"type_app_null", NULL, 0, NULL},
    {"type_accounts_mapping", NULL, 0, NULL},
    {"type_account_scalar", NULL, 0, NULL},
    {"type_account_list", NULL, 0, NULL},
    {"type_key", NULL, 0, NULL},
    {"type_int_mapping", NULL, 0, NULL},
    {"quoted_int", NULL, 0, NULL},
    {"null_value", NULL, 0, NULL},
    {"null_tilde", NULL, 0, NULL},
    {"empty_string", NULL, 0, NULL},
    {"float", NULL, 0, NULL},
    /* out of range */
    {"rate_limit_0", NULL, 0, NULL},
    {"rate_limit_huge", NULL, 0, NULL},
    {"concurrency_65", NULL, 0, NULL},
    {"concurrency_0", NULL, 0, NULL},
    {"start_0", NULL, 0, NULL},
    {"start_octal", NULL, 0, NULL},
    {"start_big", NULL, 0, NULL},
    {"quantity_0", NULL, 0, NULL},
    {"quantity_many", NULL, 0, NULL},
    {"quantity_negative", NULL, 0, NULL},
    {"quantity_big", NULL, 0, NULL},
    {"quantity_quoted", NULL, 0, NULL},
    {"cache_59", NULL, 0, NULL},
    {"cache_big", NULL, 0, NULL},
    /* duplicates */
    {"dup_top", NULL, 0, NULL},
    {"dup_app", NULL, 0, NULL},
    {"dup_account", NULL, 0, NULL},
    {"dup_name", NULL, 0, NULL},
    /* before */
    {"before_feb30", NULL, 0, NULL},
    {"before_feb29", NULL, 0, NULL},
    {"before_format", NULL, 0, NULL},
    {"before_no_offset", NULL, 0, NULL},
    {"before_hour24", NULL, 0, NULL},
    {"before_leap_second", NULL, 0, NULL},
    {"before_offset_bad", NULL, 0, NULL},
    {"before_number", NULL, 0, NULL},
    /* names */
    {"name_space", NULL, 0, NULL},
    {"name_long", NULL, 0, NULL},
    {"name_empty", NULL, 0, NULL},
    {"name_missing", NULL, 0, NULL},
    /* required keys */
    {"missing_app", NULL, 0, NULL},
    {"missing_accounts", NULL, 0, NULL},
    {"missing_client_key", NULL, 0, NULL},
    {"missing_secret", NULL, 0, NULL},
    {"missing_redirect", NULL, 0, NULL},
    {"accounts_empty", NULL, 0, NULL},
    {"accounts_null", NULL, 0, NULL},
    {"both_secrets", NULL, 0, NULL},
    /* files the configuration names */
    {"secret_file_missing", NULL, 0, NULL},
    {"secret_file_empty", NULL, 0, NULL},
    {"secret_file_dir", NULL, 0, NULL},
    {"ca_file_missing", NULL, 0, NULL},
    /* URLs */
    {"api_url_scheme", NULL, 0, NULL},
    {"api_url_query", NULL, 0, NULL},
    {"api_url_nohost", NULL, 0, NULL},
    {"auth_url_fragment", NULL, 0, NULL},
    {"redirect_relative", NULL, 0, NULL},
    {"redirect_userinfo", NULL, 0, NULL},
    {"redirect_space", NULL, 0, NULL},
    /* moderation: hide, include, exclude */
    {"filters", NULL, 0, NULL},
    {"filter_hide_bad", NULL, 0, NULL},
    {"filter_term_empty", NULL, 0, NULL},
    {"filter_term_list", NULL, 0, NULL},
    {"filter_term_null", NULL, 0, NULL},
    {"filter_not_list", NULL, 0, NULL},
    {"filter_hashtag_space", NULL, 0, NULL},
    {"filter_mapping", NULL, 0, NULL},
    /* curated accounts (videos:) */
    {"curated", NULL, 0, NULL},
    {"curated_only", NULL, 0, NULL},
    {"curated_bare_id", NULL, 0, NULL},
    {"curated_short_link", NULL, 0, NULL},
    {"curated_twice", NULL, 0, NULL},
    {"curated_empty", NULL, 0, NULL},
    {"curated_null", NULL, 0, NULL},
    {"curated_mapping", NULL, 0, NULL},
    {"curated_quantity", NULL, 0, NULL},
    {"curated_before", NULL, 0, NULL},
    {"curated_start", NULL, 0, NULL},
    {"curated_mixed_no_app", NULL, 0, NULL},
    {"curated_mixed_no_key", NULL, 0, NULL},
    {"oembed_url_query", NULL, 0, NULL},
    {"oembed_rate_limit_0", NULL, 0, NULL},
};

/* Files in the fixture folder that are not configurations. */
static const char *const support_files[] = {"client_secret", "empty_secret",
    "extra-ca.pem", "example.expected"};

static char *
read_text(const char *path, size_t *lenp)
{
	char *data = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			data = xreallocarray(data, cap, 1);
		}
		n = read(fd, data + len, cap - len - 1);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	data[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return data;
}

static void
write_text(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	/* Replace, so that a file left read-only by an earlier step is fine. */
	assert_true(unlink(path) == 0 || errno == ENOENT);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static char *
tmp_dir(void)
{
	const char *t = getenv("TMPDIR");
	char *dir;

	dir = xasprintf("%s/tm-config-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
rm_rf(char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

/* A copy of 's' with every 'from' replaced by 'to'. */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	size_t nfrom = strlen(from), nto = strlen(to), n = 0;
	const char *p, *q;
	char *out, *o;

	for (p = s; (q = strstr(p, from)) != NULL; p = q + nfrom)
		n++;
	out = xmalloc(strlen(s) + n * nto + 1);
	o = out;
	for (p = s; (q = strstr(p, from)) != NULL; p = q + nfrom) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, nto);
		o += nto;
	}
	memcpy(o, p, strlen(p) + 1);
	return out;
}

/* A string field: "-" for NULL, control characters and \ escaped. */
static void
put_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s: ", key);
	if (s == NULL) {
		fputs("-\n", f);
		return;
	}
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\\')
			fputs("\\\\", f);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('\n', f);
}

/* The canonical dump: every field of the struct, one per line. */
static char *
dump(const struct cfg *cfg)
{
	const struct cfg_account *a;
	char *out = NULL, when[32];
	size_t len = 0, i, j;
	struct tm tm;
	time_t t;
	FILE *f;

	f = open_memstream(&out, &len);
	assert_non_null(f);
	put_str(f, "path", cfg->path);
	put_str(f, "dir", cfg->dir);
	put_str(f, "database", cfg->database);
	put_str(f, "secrets", cfg->secrets);
	put_str(f, "covers", cfg->covers);
	put_str(f, "client_key", cfg->client_key);
	put_str(f, "client_secret", cfg->client_secret);
	put_str(f, "redirect_uri", cfg->redirect_uri);
	put_str(f, "api_url", cfg->api_url);
	put_str(f, "auth_url", cfg->auth_url);
	put_str(f, "ca_file", cfg->ca_file);
	fprintf(f, "rate_limit: %lld\n", (long long)cfg->rate_limit);
	fprintf(f, "concurrency: %lld\n", (long long)cfg->concurrency);
	put_str(f, "oembed_url", cfg->oembed_url);
	fprintf(f, "oembed_rate_limit: %lld\n",
	    (long long)cfg->oembed_rate_limit);
	put_str(f, "on_change", cfg->on_change);
	put_str(f, "metrics", cfg->metrics);
	fprintf(f, "accounts: %zu\n", cfg->naccounts);
	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		fprintf(f, "accounts[%zu].name: %s\n", i, a->name);
		if (a->has_before) {
			t = (time_t)(a->before_ms / 1000);
			assert_non_null(gmtime_r(&t, &tm));
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
			fprintf(f, "accounts[%zu].before: %lld (%s.%03dZ)\n",
			    i, (long long)a->before_ms, when,
			    (int)(a->before_ms % 1000));
		} else
			fprintf(f, "accounts[%zu].before: -\n", i);
		fprintf(f, "accounts[%zu].start: %lld\n", i,
		    (long long)a->start);
		if (a->quantity == CFG_QUANTITY_ALL)
			fprintf(f, "accounts[%zu].quantity: all\n", i);
		else
			fprintf(f, "accounts[%zu].quantity: %lld\n", i,
			    (long long)a->quantity);
		fprintf(f, "accounts[%zu].cache: %lld\n", i,
		    (long long)a->cache);
		if (a->filter != NULL)
			fprintf(f, "accounts[%zu].filter: hide %zu, include "
				   "%zu, exclude %zu\n",
			    i, filter_count(a->filter, FILTER_HIDE),
			    filter_count(a->filter, FILTER_INCLUDE),
			    filter_count(a->filter, FILTER_EXCLUDE));
		for (j = 0; j < a->nvideos; j++)
			fprintf(f, "accounts[%zu].videos[%zu]: %s %s\n", i, j,
			    a->videos[j].id, a->videos[j].url);
	}
	assert_int_equal(fclose(f), 0);
	return out;
}

static void
assert_zeroed(const struct cfg *cfg)
{
	static const struct cfg zero;

	assert_memory_equal(cfg, &zero, sizeof(zero));
}

/*
 * Load 'path' and return the dump or the error message (with a newline),
 * with 'dir' shown as @DIR@. On failure the struct must be left empty.
 */
static char *
load_result(const char *path, const char *dir)
{
	char err[ERRLEN], *raw, *out;
	struct cfg cfg;

	memset(err, 0, sizeof(err));
	if (cfg_load(&cfg, path, err, sizeof(err)) == 0) {
		raw = dump(&cfg);
		cfg_free(&cfg);
		assert_zeroed(&cfg);
	} else {
		assert_zeroed(&cfg);
		assert_true(err[0] != '\0');
		raw = xasprintf("%s\n", err);
	}
	out = replace_all(raw, dir, "@DIR@");
	free(raw);
	return out;
}

static void
check_golden(const char *name, const char *actual)
{
	char *path, *want;
	const char *update = getenv("TM_UPDATE_GOLDEN");

	path = xasprintf("%s/%s.expected", FIXTURES, name);
	if (update != NULL && strcmp(update, "1") == 0)
		write_text(path, actual, strlen(actual), 0644);
	want = read_text(path, NULL);
	if (want == NULL)
		fail_msg("%s: %s (TM_UPDATE_GOLDEN=1 creates it)", path,
		    strerror(errno));
	assert_string_equal(actual, want);
	free(want);
	free(path);
}

static int
setup_env(void **state)
{
	static const char *const vars[] = {"STATE_DIRECTORY",
	    "CREDENTIALS_DIRECTORY", "XDG_CONFIG_HOME", "XDG_STATE_HOME",
	    "TIKTOK_MIRROR_CONFIG"};
	size_t i;

	(void)state;
	for (i = 0; i < nitems(vars); i++)
		assert_int_equal(unsetenv(vars[i]), 0);
	/*
	 * git checks the fixture secrets out 0644, and a client_secret_file
	 * that others can read is refused.
	 */
	assert_int_equal(chmod(FIXTURES "/client_secret", 0600), 0);
	assert_int_equal(chmod(FIXTURES "/empty_secret", 0600), 0);
	return 0;
}

static void
test_golden(void **state)
{
	const struct golden *g = *state;
	const char *yaml = g->yaml != NULL ? g->yaml : g->name;
	char *src, *path, *dir = NULL, *data, *actual;
	size_t len;

	if (g->state != NULL)
		assert_int_equal(setenv("STATE_DIRECTORY", g->state, 1), 0);
	src = xasprintf("%s/%s.yaml", FIXTURES, yaml);
	if (g->mode == 0) {
		actual = load_result(src, FIXTURES);
	} else {
		dir = tmp_dir();
		data = read_text(src, &len);
		assert_non_null(data);
		path = xasprintf("%s/%s.yaml", dir, yaml);
		write_text(path, data, len, g->mode);
		actual = load_result(path, dir);
		free(data);
		free(path);
		rm_rf(dir);
	}
	check_golden(g->name, actual);
	free(actual);
	free(src);
	assert_int_equal(unsetenv("STATE_DIRECTORY"), 0);
}

/* Every file in the fixture folder belongs to a golden case. */
static void
test_fixtures_used(void **state)
{
	const struct dirent *de;
	char name[NAME_MAX + 1], unused[NAME_MAX + 1], *dot;
	size_t i;
	int used;
	DIR *d;

	(void)state;
	unused[0] = '\0';
	d = opendir(FIXTURES);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		used = 0;
		for (i = 0; i < nitems(support_files); i++)
			if (strcmp(de->d_name, support_files[i]) == 0)
				used = 1;
		snprintf(name, sizeof(name), "%s", de->d_name);
		dot = strrchr(name, '.');
		if (dot != NULL && strcmp(dot, ".yaml") == 0) {
			*dot = '\0';
			for (i = 0; i < nitems(golden); i++)
				if (strcmp(golden[i].yaml != NULL
						   ? golden[i].yaml
						   : golden[i].name,
					name) == 0)
					used = 1;
		} else if (dot != NULL && strcmp(dot, ".expected") == 0) {
			*dot = '\0';
			for (i = 0; i < nitems(golden); i++)
				if (strcmp(golden[i].name, name) == 0)
					used = 1;
		}
		if (!used)
			snprintf(unused, sizeof(unused), "%s", de->d_name);
	}
	closedir(d);
	if (unused[0] != '\0')
		fail_msg("%s/%s belongs to no test case", FIXTURES, unused);
}

/*
 * The installed example loads as it stands once its client_secret_file
 * exists: copy it beside a secret (the only line that changes) with the
 * mode `make install` gives it.
 */
static void
test_example(void **state)
{
	static const char from[] = "client_secret_file: "
				   "/etc/tiktok-mirror/client_secret\n";
	static const char to[] = "client_secret_file: client_secret\n";
	char *dir, *text, *edited, *path, *secret, *actual;
	size_t i;

	(void)state;
	text = read_text(EXAMPLE, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, from));
	edited = replace_all(text, from, to);
	dir = tmp_dir();
	path = xasprintf("%s/tiktok-mirror.yaml", dir);
	secret = xasprintf("%s/client_secret", dir);
	write_text(path, edited, strlen(edited), 0640);
	write_text(secret, "example-secret\n", 15, 0600);
	actual = load_result(path, dir);
	check_golden("example", actual);

	/* Every key is documented, even those commented out. */
	static const char *const keys[] = {"database:", "secrets:", "covers:",
	    "app:", "client_key:", "client_secret:", "client_secret_file:",
	    "redirect_uri:", "api_url:", "auth_url:", "ca_file:",
	    "rate_limit:", "concurrency:", "on_change:", "metrics:",
	    "accounts:", "name:", "before:", "start:", "quantity:", "cache:"};
	for (i = 0; i < nitems(keys); i++)
		if (strstr(text, keys[i]) == NULL)
			fail_msg("%s does not document %s", EXAMPLE, keys[i]);

	free(actual);
	free(secret);
	free(path);
	free(edited);
	free(text);
	rm_rf(dir);
}

static void
test_parse_before(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {
	    {"1970-01-01", 0},
	    {"2025-06-01", 1748736000000},
	    {"2025-06-01T00:00:00Z", 1748736000000},
	    {"2025-06-01t00:00:00z", 1748736000000},
	    {"2025-06-01 00:00:00Z", 1748736000000},
	    {"2025-06-01T02:00:00+02:00", 1748736000000},
	    {"2025-05-31T22:00:00-02:00", 1748736000000},
	    {"2025-06-01T00:00:00-00:00", 1748736000000},
	    {"2025-06-01T00:00:00.1Z", 1748736000100},
	    {"2025-06-01T00:00:00.12Z", 1748736000120},
	    {"2025-06-01T00:00:00.123999Z", 1748736000123},
	    {"2024-02-29", 1709164800000},
	    {"2000-02-29", 951782400000},
	    {"2023-12-31T23:59:59Z", 1704067199000},
	    {"9999-12-31T23:59:59.999Z", 253402300799999},
	};
	static const char *const bad[] = {"", "2025", "2025-6-1",
	    "2025-06-1", "2025/06/01", "2025-00-01", "2025-13-01",
	    "2025-01-00", "2025-01-32", "2025-02-29", "2025-02-30",
	    "1900-02-29", "2025-04-31", "2025-06-01T", "2025-06-01T12:00Z",
	    "2025-06-01T12:00:00", "2025-06-01T24:00:00Z",
	    "2025-06-01T12:60:00Z", "2025-06-01T12:00:60Z",
	    "2025-06-01T12:00:00.Z", "2025-06-01T12:00:00+02",
	    "2025-06-01T12:00:00+0200", "2025-06-01T12:00:00+24:00",
	    "2025-06-01T12:00:00+02:60", "2025-06-01T12:00:00Zjunk",
	    "2025-06-01x", "2025-06-01 ", " 2025-06-01", "1969-12-31",
	    "1970-01-01T00:00:00+00:01", "+2025-06-01", "20250601",
	    "2025-06-01T12:00:00 Z", "0000-01-01"};
	int64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++) {
		ms = -1;
		if (cfg_parse_before(good[i].s, &ms) != 0)
			fail_msg("rejected %s", good[i].s);
		if (ms != good[i].ms)
			fail_msg("%s: %lld, want %lld", good[i].s,
			    (long long)ms, (long long)good[i].ms);
	}
	for (i = 0; i < nitems(bad); i++) {
		ms = 42;
		if (cfg_parse_before(bad[i], &ms) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ms, 42);
	}
}

static void
test_cfg_free(void **state)
{
	struct cfg cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg_free(&cfg);
	cfg_free(&cfg);
	cfg_free(NULL);
	assert_zeroed(&cfg);
}

static void
test_account_lookup(void **state)
{
	const struct cfg_account *a;
	char err[ERRLEN];
	struct cfg cfg;

	(void)state;
	assert_int_equal(cfg_load(&cfg, FIXTURES "/full.yaml", err,
			     sizeof(err)),
	    0);
	a = cfg_account(&cfg, "Second_account-2");
	assert_non_null(a);
	assert_ptr_equal(a, &cfg.accounts[1]);
	assert_int_equal(a->start, 100000);
	assert_non_null(cfg_account(&cfg, "x"));
	assert_null(cfg_account(&cfg, "Brand"));
	assert_null(cfg_account(&cfg, ""));
	assert_null(cfg_account(&cfg, "TikTok"));
	cfg_free(&cfg);

	assert_int_equal(cfg_load(&cfg, FIXTURES "/unnamed.yaml", err,
			     sizeof(err)),
	    0);
	assert_non_null(cfg_account(&cfg, "TikTok"));
	cfg_free(&cfg);
}

/* Errors that have no position, and the error buffer's edge cases. */
static void
test_unreadable(void **state)
{
	char err[ERRLEN], small[12];
	struct cfg cfg;

	(void)state;
	assert_int_equal(cfg_load(&cfg, FIXTURES "/nonexistent.yaml", err,
			     sizeof(err)),
	    -1);
	assert_string_equal(err, FIXTURES "/nonexistent.yaml: cannot read: "
					  "No such file or directory");
	assert_zeroed(&cfg);

	assert_int_equal(cfg_load(&cfg, FIXTURES, err, sizeof(err)), -1);
	assert_string_equal(err, FIXTURES ": cannot read: not a regular "
					  "file");
	assert_zeroed(&cfg);

	/* A short buffer is cut, no buffer at all is fine. */
	assert_int_equal(cfg_load(&cfg, FIXTURES "/cache_59.yaml", small,
			     sizeof(small)),
	    -1);
	assert_string_equal(small, "tests/fixtu");
	assert_int_equal(
	    cfg_load(&cfg, FIXTURES "/cache_59.yaml", NULL, 0), -1);
	assert_zeroed(&cfg);
}

/*
 * The test-only knobs arrive as options from the front door: lib/ never
 * reads them from the environment itself.
 */
static void
test_test_options(void **state)
{
	static const char f[] = FIXTURES "/cache_59.yaml";
	struct cfg_test t = {.min_cache = 30, .timeout_ms = 500};
	struct cfg cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(setenv("TIKTOK_MIRROR_TEST_MIN_CACHE", "1", 1), 0);
	assert_int_equal(cfg_load_as(&cfg, f, CFG_READER, NULL, err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "from 60 to"));
	assert_int_equal(unsetenv("TIKTOK_MIRROR_TEST_MIN_CACHE"), 0);
	if (cfg_load_as(&cfg, f, CFG_READER, &t, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.accounts[0].cache, 59);
	assert_int_equal(cfg.test.timeout_ms, 500);
	cfg_free(&cfg);
	t.min_cache = 60; /* never above the real minimum */
	t.timeout_ms = 0;
	assert_int_equal(cfg_load_as(&cfg, f, CFG_READER, &t, err,
			     sizeof(err)),
	    -1);
}

static void
test_too_large(void **state)
{
	static const char head[] = "app: {client_key: k, client_secret_file: s, "
				   "redirect_uri: 'http://h/'}\naccounts: [{}]\n";
	const size_t max = 1024 * 1024;
	char err[ERRLEN], *dir, *path, *secret, *data, *want;
	struct cfg cfg;
	size_t i;

	(void)state;
	dir = tmp_dir();
	path = xasprintf("%s/big.yaml", dir);
	secret = xasprintf("%s/s", dir);
	write_text(secret, "x", 1, 0600);

	/* A valid file padded with comments to exactly 1 MiB still loads. */
	data = xmalloc(max + 1);
	memcpy(data, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < max + 1; i++)
		data[i] = i % 64 == 63 ? '\n' : '#';
	data[max - 1] = '\n';
	write_text(path, data, max, 0644);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	cfg_free(&cfg);

	/* One byte more is refused before parsing. */
	write_text(path, data, max + 1, 0644);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	want = xasprintf("%s: larger than 1048576 bytes; is it the right "
			 "file?",
	    path);
	assert_string_equal(err, want);
	assert_zeroed(&cfg);
	free(want);
	free(data);
	free(secret);
	free(path);
	rm_rf(dir);
}

/* CFG_MAX_ACCOUNTS accounts load; one more is an error at the extra one. */
static void
test_max_accounts(void **state)
{
	char err[ERRLEN], *dir, *path, *text, *want;
	struct cfg cfg;
	FILE *f;
	size_t len, i;

	(void)state;
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	fputs("app:\n  client_key: k\n  client_secret: s\n"
	      "  redirect_uri: http://h/\naccounts:\n",
	    f);
	for (i = 0; i < CFG_MAX_ACCOUNTS; i++)
		fprintf(f, "  - name: a%zu\n", i);
	assert_int_equal(fclose(f), 0);
	dir = tmp_dir();
	path = xasprintf("%s/many.yaml", dir);
	write_text(path, text, len, 0600);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.naccounts, CFG_MAX_ACCOUNTS);
	assert_string_equal(cfg.accounts[CFG_MAX_ACCOUNTS - 1].name, "a999");
	assert_non_null(cfg_account(&cfg, "a500"));
	cfg_free(&cfg);

	f = fopen(path, "a");
	assert_non_null(f);
	fputs("  - name: extra\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	want = xasprintf("%s:1006:5: too many accounts; at most 1000 are "
			 "supported",
	    path);
	assert_string_equal(err, want);
	assert_zeroed(&cfg);
	free(want);
	free(path);
	free(text);
	rm_rf(dir);
}

/* client_secret_file: one newline (LF or CRLF) is trimmed, no more. */
static void
test_secret_file(void **state)
{
	static const struct {
		const char *content;
		size_t len;
		const char *secret; /* NULL: an error */
	} cases[] = {
	    {"abc", 3, "abc"},
	    {"abc\n", 4, "abc"},
	    {"abc\r\n", 5, "abc"},
	    {" a b ", 5, " a b "},
	    {"abc\n\n", 5, NULL},
	    {"a\nb\n", 4, NULL},
	    {"a\tb", 3, NULL},
	    {"a\0b", 3, NULL},
	    {"", 0, NULL},
	    {"\r\n", 2, NULL},
	};
	static const char conf[] = "app:\n  client_key: k\n"
				   "  client_secret_file: secret\n"
				   "  redirect_uri: http://h/\n"
				   "accounts: [{}]\n";
	char err[ERRLEN], *dir, *path, *secret, *big;
	struct cfg cfg;
	size_t i;

	(void)state;
	dir = tmp_dir();
	path = xasprintf("%s/c.yaml", dir);
	secret = xasprintf("%s/secret", dir);
	write_text(path, conf, sizeof(conf) - 1, 0644);
	for (i = 0; i < nitems(cases); i++) {
		write_text(secret, cases[i].content, cases[i].len, 0600);
		if (cases[i].secret != NULL) {
			if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
				fail_msg("case %zu: %s", i, err);
			assert_string_equal(cfg.client_secret,
			    cases[i].secret);
			cfg_free(&cfg);
		} else {
			if (cfg_load(&cfg, path, err, sizeof(err)) != -1)
				fail_msg("case %zu accepted", i);
			assert_non_null(strstr(err, ":3:23: client_secret_"
						    "file "));
			assert_zeroed(&cfg);
		}
	}

	/* 4096 bytes are fine, 4097 are not. */
	big = xmalloc(4097);
	memset(big, 's', 4097);
	write_text(secret, big, 4096, 0600);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(strlen(cfg.client_secret), 4096);
	cfg_free(&cfg);
	write_text(secret, big, 4097, 0600);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is larger than 4096 bytes"));

	/* Unreadable: only meaningful when not running as root. */
	if (geteuid() != 0) {
		write_text(secret, "abc", 3, 0);
		assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "Permission denied"));
	}
	free(big);
	free(secret);
	free(path);
	rm_rf(dir);
}

/* An inline client_secret: any group or other bit is refused. */
static void
test_inline_modes(void **state)
{
	static const struct {
		mode_t mode;
		int ok;
	} cases[] = {
	    {0600, 1}, {0400, 1}, {0700, 1}, {0640, 0}, {0604, 0},
	    {0660, 0}, {0644, 0}, {0620, 0}, {0602, 0}, {0610, 0},
	};
	static const char conf[] = "app:\n  client_key: k\n"
				   "  client_secret: s3cret\n"
				   "  redirect_uri: http://h/\n"
				   "accounts: [{}]\n";
	char err[ERRLEN], *dir, *path;
	struct cfg cfg;
	size_t i;

	(void)state;
	dir = tmp_dir();
	path = xasprintf("%s/c.yaml", dir);
	for (i = 0; i < nitems(cases); i++) {
		write_text(path, conf, sizeof(conf) - 1, cases[i].mode);
		if (cases[i].ok) {
			if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
				fail_msg("mode %04o: %s",
				    (unsigned)cases[i].mode, err);
			assert_string_equal(cfg.client_secret, "s3cret");
			cfg_free(&cfg);
		} else {
			if (cfg_load(&cfg, path, err, sizeof(err)) != -1)
				fail_msg("mode %04o accepted",
				    (unsigned)cases[i].mode);
			assert_non_null(strstr(err, ":3:3: the file contains "
						    "client_secret but is "));
			assert_non_null(strstr(err, "; chmod 600 "));
			assert_zeroed(&cfg);
		}
	}
	free(path);
	rm_rf(dir);
}

/* A configuration named without a folder: paths are relative to ".". */
static void
test_bare_name(void **state)
{
	static const char conf[] = "app:\n  client_key: k\n"
				   "  client_secret_file: secret\n"
				   "  redirect_uri: http://h/\n"
				   "accounts: [{name: a}]\n"
				   "covers: pics\n";
	char err[ERRLEN], cwd[PATH_MAX], *dir, *path, *secret;
	struct cfg cfg;
	int rc;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	dir = tmp_dir();
	path = xasprintf("%s/tiktok-mirror.yaml", dir);
	secret = xasprintf("%s/secret", dir);
	write_text(path, conf, sizeof(conf) - 1, 0640);
	write_text(secret, "abc\n", 4, 0600);
	assert_int_equal(chdir(dir), 0);
	rc = cfg_load(&cfg, "tiktok-mirror.yaml", err, sizeof(err));
	assert_int_equal(chdir(cwd), 0);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.path, "tiktok-mirror.yaml");
	assert_string_equal(cfg.dir, ".");
	assert_string_equal(cfg.database, "./mirror.db");
	assert_string_equal(cfg.covers, "./pics");
	assert_string_equal(cfg.client_secret, "abc");
	cfg_free(&cfg);
	free(secret);
	free(path);
	rm_rf(dir);
}

/* The in-memory entry point (the fuzz harness's) gives the same results. */
static void
test_load_mem(void **state)
{
	static const char conf[] = "app:\n  client_key: k\n"
				   "  client_secret: s\n"
				   "  redirect_uri: http://h/\n"
				   "accounts:\n  - {name: a, cache: 59}\n";
	char err[ERRLEN];
	struct cfg cfg;
	size_t n;

	(void)state;
	assert_int_equal(cfg_load_mem(&cfg, "/x/c.yaml", conf,
			     sizeof(conf) - 1, 0600, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "/x/c.yaml:6:22: cache must be a number of "
				 "seconds from 60 to 31536000");
	assert_zeroed(&cfg);

	/* Every prefix of a valid file: an error or a load, never a crash. */
	for (n = 0; n < sizeof(conf) - 1; n++) {
		if (cfg_load_mem(&cfg, "/x/c.yaml", conf, n, 0600, err,
			sizeof(err)) == 0)
			cfg_free(&cfg);
		assert_zeroed(&cfg);
	}
}

/* The filters of fixtures/config/filters.yaml, and a copy of them. */
static void
test_filters_loaded(void **state)
{
	struct cfg cfg;
	struct cfg_account copy;
	const struct cfg_account *a;
	char err[512];
	const char *term = NULL;

	(void)state;
	assert_int_equal(cfg_load(&cfg, FIXTURES "/filters.yaml", err,
			     sizeof(err)),
	    0);
	a = cfg_account(&cfg, "kitchen");
	assert_non_null(a);
	assert_int_equal(filter_check(a->filter, "42", "#recipe", NULL, NULL),
	    FILTER_HIDDEN);
	assert_int_equal(filter_check(a->filter, "1", "CRÈME brûlée", NULL,
			     NULL),
	    FILTER_KEEP);
	assert_int_equal(filter_check(a->filter, "1", "#recipe #AD", NULL,
			     &term),
	    FILTER_EXCLUDED);
	assert_string_equal(term, "#ad");
	assert_int_equal(filter_check(a->filter, "1", "#adventure", NULL,
			     NULL),
	    FILTER_NOT_INCLUDED);
	cfg_account_copy(&copy, a);
	assert_true(copy.filter != a->filter);
	assert_true(filter_equal(copy.filter, a->filter));
	assert_null(cfg_account(&cfg, "none")->filter);
	assert_true(filter_equal(cfg_account(&cfg, "plain")->filter, NULL));
	cfg_free(&cfg);
	/* The copy lives on after the configuration is gone. */
	assert_int_equal(filter_check(copy.filter, "7301234567890123456", NULL,
			     NULL, NULL),
	    FILTER_HIDDEN);
	cfg_account_clear(&copy);
	assert_null(copy.filter);
}

/* client_secret_file that others may read or write is refused. */
static void
test_secret_file_modes(void **state)
{
	static const struct {
		mode_t mode;
		const char *error; /* NULL: loads */
	} cases[] = {
	    {0600, NULL},
	    {0400, NULL},
	    {0640, NULL},
	    {0660, NULL},
	    {0644, "is readable by others (mode 0644); chmod o-rwx "},
	    {0604, "is readable by others (mode 0604)"},
	    {0602, "is writable by others (mode 0602)"},
	};
	static const char conf[] = "app:\n  client_key: k\n"
				   "  client_secret_file: secret\n"
				   "  redirect_uri: http://h/\n"
				   "accounts: [{}]\n";
	char err[ERRLEN], *dir, *path, *secret;
	struct cfg cfg;
	size_t i;

	(void)state;
	dir = tmp_dir();
	path = xasprintf("%s/c.yaml", dir);
	secret = xasprintf("%s/secret", dir);
	write_text(path, conf, sizeof(conf) - 1, 0644);
	for (i = 0; i < nitems(cases); i++) {
		write_text(secret, "s3cret\n", 7, cases[i].mode);
		if (cases[i].error == NULL) {
			if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
				fail_msg("mode %o: %s", cases[i].mode, err);
			assert_string_equal(cfg.client_secret, "s3cret");
			cfg_free(&cfg);
			continue;
		}
		assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
		assert_non_null(strstr(err, ":3:23: client_secret_file "));
		if (strstr(err, cases[i].error) == NULL)
			fail_msg("mode %o: %s", cases[i].mode, err);
		assert_null(strstr(err, "s3cret"));
		/* A reader never reads the secret, so it does not mind. */
		assert_int_equal(cfg_load_as(&cfg, path, CFG_READER, NULL, err,
				     sizeof(err)),
		    0);
		cfg_free(&cfg);
	}
	free(secret);
	free(path);
	rm_rf(dir);
}

/* $CREDENTIALS_DIRECTORY and $STATE_DIRECTORY in paths, nothing else. */
static void
test_path_variables(void **state)
{
	static const char head[] = "app:\n  client_key: k\n"
				   "  client_secret_file: ";
	static const char tail[] = "\n  redirect_uri: http://h/\n"
				   "accounts: [{}]\n";
	char err[ERRLEN], *dir, *path, *creds, *secret, *text, *want;
	struct cfg cfg;

	(void)state;
	dir = tmp_dir();
	path = xasprintf("%s/c.yaml", dir);
	creds = xasprintf("%s/creds", dir);
	assert_int_equal(mkdir(creds, 0700), 0);
	secret = xasprintf("%s/client_secret", creds);
	write_text(secret, "from-credstore\n", 15, 0400);

	/* systemd's LoadCredential=, as the example config recommends. */
	text = xasprintf("database: ${STATE_DIRECTORY}/m.db\n"
			 "%s$CREDENTIALS_DIRECTORY/client_secret%s",
	    head, tail);
	write_text(path, text, strlen(text), 0644);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
	assert_int_equal(setenv("STATE_DIRECTORY", "/srv/st:/srv/other", 1),
	    0);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.client_secret, "from-credstore");
	assert_string_equal(cfg.database, "/srv/st/m.db");
	assert_string_equal(cfg.secrets, "/srv/st/secrets.db");
	cfg_free(&cfg);

	/* Not set: an error at the value, saying what sets it. */
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	want = xasprintf("%s:4:23: client_secret_file uses "
			 "$CREDENTIALS_DIRECTORY, which is not set; ",
	    path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("%s", err);
	assert_non_null(strstr(err, "LoadCredential="));
	free(want);
	/* ... except for a reader, which never reads the secret. */
	assert_int_equal(cfg_load_as(&cfg, path, CFG_READER, NULL, err,
			     sizeof(err)),
	    0);
	assert_null(cfg.client_secret);
	cfg_free(&cfg);
	/* The mirror's path is needed by everyone. */
	assert_int_equal(unsetenv("STATE_DIRECTORY"), 0);
	assert_int_equal(cfg_load_as(&cfg, path, CFG_READER, NULL, err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, ":1:11: database uses $STATE_DIRECTORY, "
				    "which is not set"));
	free(text);

	/* Any other variable is refused, not taken literally. */
	text = xasprintf("%s$HOME/client_secret%s", head, tail);
	write_text(path, text, strlen(text), 0644);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3:23: client_secret_file: only "
				    "$CREDENTIALS_DIRECTORY and "
				    "$STATE_DIRECTORY are expanded"));
	assert_non_null(strstr(err, "$HOME"));
	free(text);
	text = xasprintf("%s${CREDENTIALS_DIRECTORYX}/s%s", head, tail);
	write_text(path, text, strlen(text), 0644);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only $CREDENTIALS_DIRECTORY"));
	free(text);

	/* A '$' that starts no name is an ordinary character. */
	free(secret);
	secret = xasprintf("%s/a$1", dir);
	write_text(secret, "dollar\n", 7, 0600);
	text = xasprintf("%sa$1%s", head, tail);
	write_text(path, text, strlen(text), 0644);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.client_secret, "dollar");
	cfg_free(&cfg);
	free(text);
	free(secret);
	free(creds);
	free(path);
	rm_rf(dir);
}

/*
 * The user's own config: found by itself under $XDG_CONFIG_HOME (or
 * ~/.config), its state under $XDG_STATE_HOME (or ~/.local/state) as the
 * user unit's StateDirectory=; $STATE_DIRECTORY wins; $TIKTOK_MIRROR_CONFIG
 * wins over the lookup; any other config keeps its files beside it.
 */
static void
test_user_config(void **state)
{
	static const char conf[] = "app:\n  client_key: k\n"
				   "  client_secret: s\n"
				   "  redirect_uri: http://h/\n"
				   "accounts: [{}]\n";
	char err[ERRLEN], *dir, *xdg, *path, *found, *want, *home;
	struct cfg cfg;

	(void)state;
	dir = tmp_dir();
	xdg = xasprintf("%s/config", dir);
	path = xasprintf("%s/tiktok-mirror/tiktok-mirror.yaml", xdg);

	/* Nothing there yet: the system config. */
	assert_int_equal(setenv("XDG_CONFIG_HOME", xdg, 1), 0);
	found = cfg_find();
	assert_string_equal(found, CFG_DEFAULT_PATH);
	free(found);

	assert_int_equal(mkdir(xdg, 0700), 0);
	want = xasprintf("%s/tiktok-mirror", xdg);
	assert_int_equal(mkdir(want, 0700), 0);
	free(want);
	write_text(path, conf, sizeof(conf) - 1, 0600);
	found = cfg_find();
	assert_string_equal(found, path);
	free(found);
	assert_int_equal(setenv("TIKTOK_MIRROR_CONFIG", "/elsewhere.yaml", 1),
	    0);
	found = cfg_find();
	assert_string_equal(found, "/elsewhere.yaml");
	free(found);
	assert_int_equal(unsetenv("TIKTOK_MIRROR_CONFIG"), 0);

	/* Its state: $XDG_STATE_HOME/tiktok-mirror, created by writers. */
	assert_int_equal(setenv("XDG_STATE_HOME", "/xdg/state", 1), 0);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.state_dir, "/xdg/state/tiktok-mirror");
	assert_int_equal(cfg.state_user, 1);
	assert_string_equal(cfg.database, "/xdg/state/tiktok-mirror/mirror.db");
	assert_string_equal(cfg.secrets,
	    "/xdg/state/tiktok-mirror/secrets.db");
	assert_string_equal(cfg.covers, "/xdg/state/tiktok-mirror/covers");
	cfg_free(&cfg);

	/* A relative $XDG_STATE_HOME is ignored (XDG): ~/.local/state. */
	home = xstrdup(getenv("HOME") != NULL ? getenv("HOME") : "");
	assert_int_equal(setenv("XDG_STATE_HOME", "rel", 1), 0);
	assert_int_equal(setenv("HOME", "/home/u", 1), 0);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.database,
	    "/home/u/.local/state/tiktok-mirror/mirror.db");
	cfg_free(&cfg);

	/* Under the user unit: $STATE_DIRECTORY, which systemd made. */
	assert_int_equal(setenv("STATE_DIRECTORY", "/run/u/state", 1), 0);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.database, "/run/u/state/mirror.db");
	assert_int_equal(cfg.state_user, 0);
	cfg_free(&cfg);
	assert_int_equal(unsetenv("STATE_DIRECTORY"), 0);

	/* ~/.config when $XDG_CONFIG_HOME is not set. */
	assert_int_equal(unsetenv("XDG_CONFIG_HOME"), 0);
	assert_int_equal(setenv("HOME", dir, 1), 0);
	assert_int_equal(rename(xdg, want = xasprintf("%s/.config", dir)),
	    0);
	free(want);
	free(path);
	path = xasprintf("%s/.config/tiktok-mirror/tiktok-mirror.yaml", dir);
	found = cfg_find();
	assert_string_equal(found, path);
	free(found);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	want = xasprintf("%s/.local/state/tiktok-mirror/mirror.db", dir);
	assert_string_equal(cfg.database, want);
	free(want);
	cfg_free(&cfg);

	/* The same file under another name: still the user's config. */
	free(path);
	path = xasprintf("%s/.config/tiktok-mirror/../tiktok-mirror/"
			 "tiktok-mirror.yaml",
	    dir);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.state_user, 1);
	cfg_free(&cfg);

	/* Any other file: beside it. */
	free(path);
	path = xasprintf("%s/other.yaml", dir);
	write_text(path, conf, sizeof(conf) - 1, 0600);
	if (cfg_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	want = xasprintf("%s/mirror.db", dir);
	assert_string_equal(cfg.database, want);
	assert_int_equal(cfg.state_user, 0);
	free(want);
	cfg_free(&cfg);

	if (home[0] != '\0')
		assert_int_equal(setenv("HOME", home, 1), 0);
	else
		assert_int_equal(unsetenv("HOME"), 0);
	assert_int_equal(unsetenv("XDG_STATE_HOME"), 0);
	free(home);
	free(path);
	free(xdg);
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
	    cmocka_unit_test_setup(test_fixtures_used, setup_env),
	    cmocka_unit_test_setup(test_example, setup_env),
	    cmocka_unit_test_setup(test_filters_loaded, setup_env),
	    cmocka_unit_test_setup(test_parse_before, setup_env),
	    cmocka_unit_test_setup(test_cfg_free, setup_env),
	    cmocka_unit_test_setup(test_account_lookup, setup_env),
	    cmocka_unit_test_setup(test_unreadable, setup_env),
	    cmocka_unit_test_setup(test_too_large, setup_env),
	    cmocka_unit_test_setup(test_test_options, setup_env),
	    cmocka_unit_test_setup(test_max_accounts, setup_env),
	    cmocka_unit_test_setup(test_secret_file, setup_env),
	    cmocka_unit_test_setup(test_secret_file_modes, setup_env),
	    cmocka_unit_test_setup(test_path_variables, setup_env),
	    cmocka_unit_test_setup(test_user_config, setup_env),
	    cmocka_unit_test_setup(test_inline_modes, setup_env),
	    cmocka_unit_test_setup(test_bare_name, setup_env),
	    cmocka_unit_test_setup(test_load_mem, setup_env),
	};
	struct CMUnitTest *g;
	size_t i;
	int failed;

	g = xcalloc(nitems(golden), sizeof(*g));
	for (i = 0; i < nitems(golden); i++) {
		g[i].name = golden[i].name;
		g[i].test_func = test_golden;
		g[i].setup_func = setup_env;
		g[i].initial_state = &golden[i];
	}
	failed = cmocka_run_group_tests_name("config", unit, NULL, NULL);
	failed += _cmocka_run_group_tests("config golden", g, nitems(golden),
	    NULL, NULL);
	free(g);
	return failed == 0 ? 0 : 1;
}
