/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/secrets.c: the secrets file is created 0600 and a
 * file others can read is refused with the command that fixes it; tokens
 * and pending authorizations round-trip, survive a reopen, and pending
 * ones expire after SECRETS_PENDING_TTL (aged through a raw sqlite3
 * connection, as a clock that moved on would).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "secrets.h"
#include "util.h"
#include "unit.h"

struct fx {
	char *dir;
	char *path;
	mode_t umask;
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->umask = umask(022);
	f->dir = tmp_dir("secrets");
	f->path = path_join(f->dir, "secrets.db");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	umask(f->umask);
	free(f->path);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Run one SQL statement on the file through a separate connection. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
			     NULL),
	    SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static void
test_created_0600(void **state)
{
	struct fx *f = *state;
	struct secrets *s;
	char err[ERRLEN];

	/* Even under a permissive umask. */
	umask(0);
	s = secrets_open(f->path, err, sizeof(err));
	umask(022);
	if (s == NULL)
		fail_msg("%s", err);
	assert_int_equal(mode_of(f->path), 0600);
	secrets_close(s);
	/* Reopening keeps it 0600. */
	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(mode_of(f->path), 0600);
	secrets_close(s);
}

static void
test_refuses_readable(void **state)
{
	static const mode_t modes[] = {0644, 0640, 0604, 0660, 0606, 0610};
	struct fx *f = *state;
	struct secrets *s;
	char err[ERRLEN];
	size_t i;

	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	secrets_close(s);
	for (i = 0; i < nitems(modes); i++) {
		assert_int_equal(chmod(f->path, modes[i]), 0);
		err[0] = '\0';
		s = secrets_open(f->path, err, sizeof(err));
		if (s != NULL)
			fail_msg("mode %04o accepted", (unsigned)modes[i]);
		/* The message says what to run, and names the file. */
		assert_non_null(strstr(err, "chmod 600"));
		assert_non_null(strstr(err, f->path));
		/* Nothing was changed behind the user's back. */
		assert_int_equal(mode_of(f->path), modes[i]);
	}
	assert_int_equal(chmod(f->path, 0600), 0);
	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	secrets_close(s);
}

static void
test_refuses_symlink_and_dir(void **state)
{
	struct fx *f = *state;
	struct secrets *s;
	char err[ERRLEN], *target, *link;

	target = path_join(f->dir, "elsewhere");
	link = path_join(f->dir, "link.db");
	assert_int_equal(symlink(target, link), 0);
	s = secrets_open(link, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, link));
	/* The link was not followed to create its target. */
	assert_int_equal(access(target, F_OK), -1);
	free(target);
	free(link);
	s = secrets_open(f->dir, err, sizeof(err));
	assert_null(s);
}

static void
fill(struct tokens *t, const char *suffix, int64_t base)
{
	memset(t, 0, sizeof(*t));
	t->open_id = xasprintf("open-%s", suffix);
	t->scope = xstrdup("user.info.basic,video.list");
	t->access_token = xasprintf("act.%s", suffix);
	t->refresh_token = xasprintf("rft.%s", suffix);
	t->issued_at = base;
	t->access_expires_at = base + 86400;
	t->refresh_expires_at = base + 31536000;
}

static void
test_tokens_round_trip(void **state)
{
	struct fx *f = *state;
	struct secrets *s;
	struct tokens in, out, in2;
	char err[ERRLEN];

	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(secrets_get(s, "brand", &out, err, sizeof(err)), 1);
	assert_null(out.access_token);

	fill(&in, "one", 1700000000);
	assert_int_equal(secrets_put(s, "brand", &in, err, sizeof(err)), 0);
	assert_int_equal(secrets_get(s, "brand", &out, err, sizeof(err)), 0);
	assert_string_equal(out.open_id, "open-one");
	assert_string_equal(out.scope, "user.info.basic,video.list");
	assert_string_equal(out.access_token, "act.one");
	assert_string_equal(out.refresh_token, "rft.one");
	assert_true(out.issued_at == 1700000000);
	assert_true(out.access_expires_at == 1700000000 + 86400);
	assert_true(out.refresh_expires_at == 1700000000 + 31536000);
	tokens_clear(&out);

	/* A rotated pair replaces the old one; other accounts are apart. */
	fill(&in2, "two", 1700003600);
	assert_int_equal(secrets_put(s, "brand", &in2, err, sizeof(err)), 0);
	assert_int_equal(secrets_put(s, "other", &in, err, sizeof(err)), 0);
	assert_int_equal(secrets_get(s, "brand", &out, err, sizeof(err)), 0);
	assert_string_equal(out.refresh_token, "rft.two");
	assert_true(out.issued_at == 1700003600);
	tokens_clear(&out);
	assert_int_equal(secrets_get(s, "other", &out, err, sizeof(err)), 0);
	assert_string_equal(out.refresh_token, "rft.one");
	tokens_clear(&out);
	secrets_close(s);

	/* Durable: another process (a reopen) sees the last pair. */
	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(secrets_get(s, "brand", &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_token, "act.two");
	tokens_clear(&out);

	/* Delete forgets only that account; deleting twice is fine. */
	assert_int_equal(secrets_delete(s, "brand", err, sizeof(err)), 0);
	assert_int_equal(secrets_delete(s, "brand", err, sizeof(err)), 0);
	assert_int_equal(secrets_get(s, "brand", &out, err, sizeof(err)), 1);
	assert_int_equal(secrets_get(s, "other", &out, err, sizeof(err)), 0);
	tokens_clear(&out);

	/* Missing open_id and scope are stored as empty text. */
	tokens_clear(&in2);
	fill(&in2, "three", 5);
	free(in2.open_id);
	free(in2.scope);
	in2.open_id = in2.scope = NULL;
	assert_int_equal(secrets_put(s, "bare", &in2, err, sizeof(err)), 0);
	assert_int_equal(secrets_get(s, "bare", &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_token, "act.three");
	assert_true(out.open_id == NULL || out.open_id[0] == '\0');
	tokens_clear(&out);
	secrets_close(s);
	tokens_clear(&in);
	tokens_clear(&in2);
}

static void
test_pending(void **state)
{
	struct fx *f = *state;
	struct secrets *s;
	struct pending_auth p;
	char err[ERRLEN];
	int64_t before = now_unix();

	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(secrets_pending_get(s, "brand", &p, err, sizeof(err)),
	    1);
	assert_null(p.state);

	assert_int_equal(secrets_pending_put(s, "brand", "st4te", "verifier-1",
			     err, sizeof(err)),
	    0);
	assert_int_equal(secrets_pending_get(s, "brand", &p, err, sizeof(err)),
	    0);
	assert_string_equal(p.state, "st4te");
	assert_string_equal(p.verifier, "verifier-1");
	assert_true(p.created_at >= before && p.created_at <= now_unix());
	pending_clear(&p);
	assert_null(p.state);

	/* A new authorization replaces the pending one. */
	assert_int_equal(secrets_pending_put(s, "brand", "s2", "v2", err,
			     sizeof(err)),
	    0);
	assert_int_equal(secrets_pending_get(s, "brand", &p, err, sizeof(err)),
	    0);
	assert_string_equal(p.state, "s2");
	assert_string_equal(p.verifier, "v2");
	pending_clear(&p);
	assert_int_equal(secrets_pending_get(s, "other", &p, err, sizeof(err)),
	    1);

	/* Another process (auth --code later) sees it. */
	secrets_close(s);
	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(secrets_pending_get(s, "brand", &p, err, sizeof(err)),
	    0);
	pending_clear(&p);

	assert_int_equal(secrets_pending_delete(s, "brand", err, sizeof(err)),
	    0);
	assert_int_equal(secrets_pending_get(s, "brand", &p, err, sizeof(err)),
	    1);
	assert_int_equal(secrets_pending_delete(s, "brand", err, sizeof(err)),
	    0);
	secrets_close(s);
}

static void
test_pending_expiry(void **state)
{
	struct fx *f = *state;
	struct secrets *s;
	struct pending_auth p;
	char err[ERRLEN], sql[256];

	s = secrets_open(f->path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(secrets_pending_put(s, "young", "s1", "v1", err,
			     sizeof(err)),
	    0);
	assert_int_equal(secrets_pending_put(s, "old", "s2", "v2", err,
			     sizeof(err)),
	    0);
	/* Age the rows as if the clock had moved on. */
	snprintf(sql, sizeof(sql),
	    "UPDATE pending SET created_at = created_at - %d"
	    " WHERE account = 'young';"
	    "UPDATE pending SET created_at = created_at - %d"
	    " WHERE account = 'old';",
	    SECRETS_PENDING_TTL - 60, SECRETS_PENDING_TTL + 1);
	raw_exec(f->path, sql);
	assert_int_equal(secrets_pending_get(s, "young", &p, err, sizeof(err)),
	    0);
	assert_string_equal(p.verifier, "v1");
	pending_clear(&p);
	assert_int_equal(secrets_pending_get(s, "old", &p, err, sizeof(err)),
	    1);
	assert_null(p.state);
	assert_null(p.verifier);
	/* A fresh put makes it usable again. */
	assert_int_equal(secrets_pending_put(s, "old", "s3", "v3", err,
			     sizeof(err)),
	    0);
	assert_int_equal(secrets_pending_get(s, "old", &p, err, sizeof(err)),
	    0);
	assert_string_equal(p.state, "s3");
	pending_clear(&p);
	secrets_close(s);
}

static void
test_not_a_database(void **state)
{
	struct fx *f = *state;
	struct secrets *s;
	char err[ERRLEN];

	spew(f->path, "this is not sqlite, just some text\n", 35, 0600);
	err[0] = '\0';
	s = secrets_open(f->path, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, f->path));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_created_0600, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_readable, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_symlink_and_dir,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tokens_round_trip, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_expiry, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_database, setup,
		teardown),
	};

	return cmocka_run_group_tests_name("secrets", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
