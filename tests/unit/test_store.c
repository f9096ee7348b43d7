/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/store.c, the mirror database of design.md. Every test
 * works on a fresh file in a scratch folder and checks what a consumer
 * would see through its own read connection: the schema, the rows, and
 * when they were written. A trigger installed through that connection
 * counts every row write, so "a row is written only when one of its
 * values changed" is checked directly, not inferred.
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

#include "api.h"
#include "store.h"
#include "util.h"
#include "unit.h"

#define ACCT "brand"
#define T0 1700000000 /* the first refresh */

static sqlite3_pcache_methods2 pages_real; /* see pages_install() */
static int pages_fail;

struct fx {
	char *dir;
	char *path;
	struct store *s;
	sqlite3 *raw; /* a consumer's connection (read-write for triggers) */
	mode_t umask;
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char err[ERRLEN];

	f->umask = umask(022);
	f->dir = tmp_dir("store");
	f->path = path_join(f->dir, "mirror.db");
	f->s = store_open_ex(f->path, 0, NULL, err, sizeof(err));
	if (f->s == NULL)
		fail_msg("store_open_ex: %s", err);
	assert_int_equal(store_account_ensure(f->s, ACCT, err, sizeof(err)),
	    0);
	assert_int_equal(sqlite3_open_v2(f->path, &f->raw,
			     SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	sqlite3_busy_timeout(f->raw, 5000);
	*state = f;
	return 0;
}

/* For tests that open the database themselves. */
static int
setup_bare(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->umask = umask(022);
	f->dir = tmp_dir("store");
	f->path = path_join(f->dir, "mirror.db");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	pages_fail = 0; /* a failed test may leave it set */
	if (f->raw != NULL)
		sqlite3_close(f->raw);
	store_close(f->s);
	umask(f->umask);
	free(f->path);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
			     NULL),
	    SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* One integer from a query (STORE_NULL for NULL); the query must match. */
static int64_t
qint(sqlite3 *db, const char *fmt, ...);

static int64_t
qint(sqlite3 *db, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	char *sql;
	int64_t v;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("no row: %s", sql);
	v = sqlite3_column_type(st, 0) == SQLITE_NULL
	    ? STORE_NULL
	    : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return v;
}

/* One text value (a new string, or NULL for NULL). */
static char *
qtext(sqlite3 *db, const char *fmt, ...);

static char *
qtext(sqlite3 *db, const char *fmt, ...)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	va_list ap;
	char *sql, *v;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("no row: %s", sql);
	t = sqlite3_column_text(st, 0);
	v = t == NULL ? NULL : xstrdup((const char *)t);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return v;
}

/* A column of one video row of ACCT. */
static int64_t
vint(struct fx *f, const char *id, const char *col)
{
	return qint(f->raw,
	    "SELECT %s FROM videos WHERE account = '" ACCT "' AND id = %Q",
	    col, id);
}

static void
vtext_is(struct fx *f, const char *id, const char *col, const char *want)
{
	char *v = qtext(f->raw,
	    "SELECT %s FROM videos WHERE account = '" ACCT "' AND id = %Q",
	    col, id);

	if (want == NULL) {
		if (v != NULL)
			fail_msg("%s.%s is \"%s\", want NULL", id, col, v);
	} else {
		if (v == NULL)
			fail_msg("%s.%s is NULL, want \"%s\"", id, col, want);
		assert_string_equal(v, want);
	}
	free(v);
}

static int64_t
nrows(struct fx *f)
{
	return qint(f->raw, "SELECT count(*) FROM videos");
}

/* Count every INSERT and UPDATE on videos from now on. */
static void
count_writes(struct fx *f)
{
	raw_exec(f->raw,
	    "CREATE TABLE IF NOT EXISTS t_writes (n INTEGER);"
	    "DELETE FROM t_writes; INSERT INTO t_writes VALUES (0);"
	    "CREATE TRIGGER IF NOT EXISTS t_upd AFTER UPDATE ON videos"
	    " BEGIN UPDATE t_writes SET n = n + 1; END;"
	    "CREATE TRIGGER IF NOT EXISTS t_ins AFTER INSERT ON videos"
	    " BEGIN UPDATE t_writes SET n = n + 1; END;");
}

static int64_t
writes(struct fx *f)
{
	int64_t n = qint(f->raw, "SELECT n FROM t_writes");

	raw_exec(f->raw, "UPDATE t_writes SET n = 0");
	return n;
}

/* A complete video as TikTok would list it. */
static void
video_make(struct video *v, const char *id, int64_t created, int64_t likes)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->created_at = created;
	v->title = xasprintf("title %s", id);
	v->description = xasprintf("description of %s", id);
	v->cover_url = xasprintf("https://p16-sign.tiktokcdn.com/obj/%s.image"
				 "?x-expires=1&x-signature=s1",
	    id);
	v->share_url = xasprintf("https://www.tiktok.com/@u/video/%s", id);
	v->embed_link = xasprintf(
	    "https://www.tiktok.com/static/profile-video?id=%s", id);
	v->embed_html = xasprintf("<blockquote cite=\"%s\"></blockquote>", id);
	v->duration = 15;
	v->width = 1080;
	v->height = 1920;
	v->total_likes = likes;
	v->total_comments = 2;
	v->total_shares = 3;
	v->total_views = 5000000000LL; /* above 2^32 */
}

/* The cover URL's path, as lib/sync.c stages it. */
static char *
src_of(const char *id)
{
	return xasprintf("/obj/%s.image", id);
}

static void
stage(struct fx *f, const char *acct, int64_t seq, int64_t pos,
    const struct video *v)
{
	char err[ERRLEN], *src = src_of(v->id);

	if (store_stage_add(f->s, acct, seq, pos, v, src, err, sizeof(err)) !=
	    0)
		fail_msg("stage_add %s: %s", v->id, err);
	free(src);
}

/*
 * Stage ids[0..n) (created_at 1000 * (n - i), likes 'likes') as the whole
 * listing, kept positions 1..n.
 */
static void
stage_all(struct fx *f, const char *const *ids, int n, int64_t likes)
{
	struct video v;
	char err[ERRLEN];
	int i;

	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	for (i = 0; i < n; i++) {
		video_make(&v, ids[i], 1000 * (int64_t)(n - i), likes);
		stage(f, ACCT, i + 1, i + 1, &v);
		video_clear(&v);
	}
}

static int
apply_at(struct fx *f, const char *acct, int64_t now, int deletions,
    struct store_counts *c, char *err, size_t errlen)
{
	struct store_apply a;

	memset(&a, 0, sizeof(a));
	a.now = now;
	a.next_sync_at = now + 3600;
	a.token_expires_at = now + 86400;
	a.refresh_expires_at = now + 31536000;
	a.apply_deletions = deletions;
	return store_apply(f->s, acct, &a, c, err, errlen);
}

/* Whether the sweep would keep cover file 'rel' of 'account'. */
static int
cover_used(struct fx *f, const char *account, const char *rel)
{
	struct store_names *used;
	char err[256];
	int rc;

	used = store_covers_used(f->s, account, err, sizeof(err));
	if (used == NULL)
		fail_msg("store_covers_used: %s", err);
	rc = store_names_has(used, rel);
	store_names_free(used);
	return rc;
}

static void
apply_ok(struct fx *f, int64_t now, int deletions, struct store_counts *c)
{
	char err[ERRLEN];

	if (apply_at(f, ACCT, now, deletions, c, err, sizeof(err)) != 0)
		fail_msg("store_apply: %s", err);
}

static void
counts_are(const struct store_counts *c, int64_t new, int64_t updated,
    int64_t unchanged, int64_t deleted, int64_t restored)
{
	if (c->new != new || c->updated != updated ||
	    c->unchanged != unchanged || c->deleted != deleted ||
	    c->restored != restored)
		fail_msg("counts new %lld updated %lld unchanged %lld deleted "
			 "%lld restored %lld; want %lld %lld %lld %lld %lld",
		    (long long)c->new, (long long)c->updated,
		    (long long)c->unchanged, (long long)c->deleted,
		    (long long)c->restored, (long long)new, (long long)updated,
		    (long long)unchanged, (long long)deleted,
		    (long long)restored);
}

static const char *const IDS3[] = {"7300000000000000003",
    "7300000000000000002", "7300000000000000001"};

/* --- opening ---------------------------------------------------------- */

static void
test_open_creates(void **state)
{
	struct fx *f = *state;
	struct store *s;
	char err[ERRLEN], *wal, *p2;
	sqlite3 *db;

	/*
	 * 0644 less the umask, as the covers and the metrics file: the
	 * units' UMask=0027 lets the group read the mirror; 077 keeps it
	 * private.
	 */
	umask(077);
	s = store_open_ex(f->path, 0, NULL, err, sizeof(err));
	umask(022);
	if (s == NULL)
		fail_msg("%s", err);
	assert_int_equal(mode_of(f->path), 0600);
	assert_int_equal(store_account_ensure(s, ACCT, err, sizeof(err)), 0);
	store_close(s);
	/* The WAL stays after the writer is gone, with the same mode. */
	wal = xasprintf("%s-wal", f->path);
	assert_int_equal(access(wal, F_OK), 0);
	assert_int_equal(mode_of(wal), 0600);
	free(wal);
	/* A permissive umask never lets others write it. */
	p2 = path_join(f->dir, "second.db");
	umask(0);
	s = store_open_ex(p2, 0, NULL, err, sizeof(err));
	umask(022);
	assert_non_null(s);
	assert_int_equal(mode_of(p2), 0644);
	store_close(s);
	free(p2);
	p2 = path_join(f->dir, "third.db");
	umask(027);
	s = store_open_ex(p2, 0, NULL, err, sizeof(err));
	umask(022);
	assert_non_null(s);
	assert_int_equal(mode_of(p2), 0640);
	store_close(s);
	free(p2);

	db = raw_open(f->path);
	assert_true(qint(db, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	{
		char *jm = qtext(db, "PRAGMA journal_mode");

		assert_string_equal(jm, "wal");
		free(jm);
	}
	assert_true(qint(db, "SELECT count(*) FROM accounts WHERE name = "
			     "'brand' AND state = 'needs_auth'") == 1);
	sqlite3_close(db);
	/* Opening again keeps the data and the version. */
	s = store_open_ex(f->path, 0, NULL, err, sizeof(err));
	assert_non_null(s);
	store_close(s);
	db = raw_open(f->path);
	assert_true(qint(db, "SELECT count(*) FROM accounts") == 1);
	sqlite3_close(db);
}

struct col {
	const char *name, *type;
	int notnull;
	const char *dflt;
	int pk;
};

static void
check_columns(sqlite3 *db, const char *table, const struct col *want,
    size_t n)
{
	sqlite3_stmt *st;
	const char *dflt;
	char *sql;
	size_t i = 0;

	sql = sqlite3_mprintf("PRAGMA table_info(%s)", table);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_free(sql);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (i >= n)
			fail_msg("%s: extra column %s", table,
			    (const char *)sqlite3_column_text(st, 1));
		assert_string_equal(sqlite3_column_text(st, 1), want[i].name);
		assert_string_equal(sqlite3_column_text(st, 2), want[i].type);
		if (sqlite3_column_int(st, 3) != want[i].notnull)
			fail_msg("%s.%s: notnull %d", table, want[i].name,
			    sqlite3_column_int(st, 3));
		dflt = (const char *)sqlite3_column_text(st, 4);
		if (want[i].dflt == NULL)
			assert_null(dflt);
		else
			assert_string_equal(dflt, want[i].dflt);
		if (sqlite3_column_int(st, 5) != want[i].pk)
			fail_msg("%s.%s: pk %d", table, want[i].name,
			    sqlite3_column_int(st, 5));
		i++;
	}
	sqlite3_finalize(st);
	assert_int_equal(i, n);
}

static void
test_schema(void **state)
{
	/* Exactly the columns of design.md, in order. */
	static const struct col accounts[] = {
	    {"name", "TEXT", 0, NULL, 1},
	    {"open_id", "TEXT", 0, NULL, 0},
	    {"display_name", "TEXT", 0, NULL, 0},
	    {"state", "TEXT", 1, NULL, 0},
	    {"last_attempt_at", "INTEGER", 0, NULL, 0},
	    {"last_success_at", "INTEGER", 0, NULL, 0},
	    {"next_sync_at", "INTEGER", 0, NULL, 0},
	    {"last_error", "TEXT", 0, NULL, 0},
	    {"token_expires_at", "INTEGER", 0, NULL, 0},
	    {"refresh_expires_at", "INTEGER", 0, NULL, 0},
	    /* Extension (issue 7): the cached avatar, relative to covers. */
	    {"avatar", "TEXT", 0, NULL, 0},
	};
	static const struct col videos[] = {
	    {"account", "TEXT", 1, NULL, 1},
	    {"id", "TEXT", 1, NULL, 2},
	    {"position", "INTEGER", 0, NULL, 0},
	    {"title", "TEXT", 1, "''", 0},
	    {"description", "TEXT", 1, "''", 0},
	    {"duration", "INTEGER", 0, NULL, 0},
	    {"width", "INTEGER", 0, NULL, 0},
	    {"height", "INTEGER", 0, NULL, 0},
	    {"cover", "TEXT", 0, NULL, 0},
	    {"embed_link", "TEXT", 0, NULL, 0},
	    {"embed_html", "TEXT", 0, NULL, 0},
	    {"share_url", "TEXT", 0, NULL, 0},
	    {"created_at", "INTEGER", 1, NULL, 0},
	    {"total_shares", "INTEGER", 0, NULL, 0},
	    {"total_likes", "INTEGER", 0, NULL, 0},
	    {"total_comments", "INTEGER", 0, NULL, 0},
	    {"total_views", "INTEGER", 0, NULL, 0},
	    {"first_seen_at", "INTEGER", 1, NULL, 0},
	    {"updated_at", "INTEGER", 1, NULL, 0},
	    {"deleted_at", "INTEGER", 0, NULL, 0},
	};
	struct fx *f = *state;

	check_columns(f->raw, "accounts", accounts, nitems(accounts));
	check_columns(f->raw, "videos", videos, nitems(videos));
	/* videos.account references accounts(name). */
	assert_true(qint(f->raw, "SELECT count(*) FROM"
				 " pragma_foreign_key_list('videos')"
				 " WHERE \"table\" = 'accounts'"
				 " AND \"from\" = 'account'"
				 " AND \"to\" = 'name'") == 1);
	/* Nothing staged is visible to consumers. */
	assert_true(qint(f->raw, "SELECT count(*) FROM sqlite_master"
				 " WHERE name IN ('stage', 'cand')") == 0);
	assert_true(qint(f->raw, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
}

static void
test_open_ro_missing(void **state)
{
	struct fx *f = *state;
	struct store *s;
	char err[ERRLEN];

	err[0] = '\0';
	s = store_open_ro(f->path, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, "tiktok-mirror sync"));
	assert_non_null(strstr(err, f->path));
	/* A reader never creates the file. */
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(count_entries(f->dir), 0);
}

static void
test_open_ro_reads(void **state)
{
	struct fx *f = *state;
	struct store *ro;
	struct store_account a;
	char err[ERRLEN];

	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0, 0, NULL);
	store_close(f->s);
	f->s = NULL;
	/* With the daemon stopped, a reader still sees everything. */
	ro = store_open_ro(f->path, err, sizeof(err));
	if (ro == NULL)
		fail_msg("%s", err);
	assert_int_equal(store_account_get(ro, ACCT, &a, err, sizeof(err)),
	    0);
	assert_int_equal(a.state, ACCOUNT_OK);
	assert_true(a.videos == 3);
	store_account_clear(&a);
	/* It cannot write. */
	assert_int_equal(store_account_ensure(ro, "other", err, sizeof(err)),
	    -1);
	store_close(ro);
}

static void
test_open_refuses(void **state)
{
	struct fx *f = *state;
	struct store *s;
	char err[ERRLEN], *foreign, *empty, *damaged, *mode;
	sqlite3 *db;
	int perm;

	/* A newer schema is refused, by writers and readers alike. */
	s = store_open_ex(f->path, 0, NULL, err, sizeof(err));
	assert_non_null(s);
	store_close(s);
	db = raw_open(f->path);
	raw_exec(db, "PRAGMA user_version = 3");
	sqlite3_close(db);
	/* ...before anything in it changes: not even the journal mode. */
	db = raw_open(f->path);
	mode = qtext(db, "PRAGMA journal_mode=DELETE");
	assert_string_equal(mode, "delete");
	free(mode);
	sqlite3_close(db);
	err[0] = '\0';
	perm = 0;
	assert_null(store_open_ex(f->path, 0, &perm, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(perm, 1);
	db = raw_open(f->path);
	mode = qtext(db, "PRAGMA journal_mode");
	assert_string_equal(mode, "delete");
	free(mode);
	sqlite3_close(db);
	err[0] = '\0';
	assert_null(store_open_ro(f->path, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	db = raw_open(f->path);
	assert_true(qint(db, "PRAGMA user_version") == 3);
	sqlite3_close(db);

	/* Somebody else's database is left alone. */
	foreign = path_join(f->dir, "foreign.db");
	assert_int_equal(sqlite3_open_v2(foreign, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	    SQLITE_OK);
	raw_exec(db, "CREATE TABLE notes (x); INSERT INTO notes VALUES (1);");
	sqlite3_close(db);
	err[0] = '\0';
	assert_null(store_open_ex(foreign, 0, &perm, err, sizeof(err)));
	assert_non_null(strstr(err, "not a tiktok-mirror database"));
	assert_int_equal(perm, 1);
	db = raw_open(foreign);
	assert_true(qint(db, "SELECT count(*) FROM sqlite_master") == 1);
	sqlite3_close(db);
	free(foreign);

	/* A reader does not create the schema in an empty file. */
	empty = path_join(f->dir, "empty.db");
	spew(empty, "", 0, 0640);
	err[0] = '\0';
	assert_null(store_open_ro(empty, err, sizeof(err)));
	assert_non_null(strstr(err, "tiktok-mirror sync"));
	free(empty);

	/* Not a database at all: a person must look (no retry cures it). */
	damaged = path_join(f->dir, "damaged.db");
	spew(damaged, "this is not an SQLite database, not even close.....", 50,
	    0640);
	err[0] = '\0';
	perm = 0;
	assert_null(store_open_ex(damaged, STORE_QUICK_CHECK, &perm, err,
	    sizeof(err)));
	assert_int_equal(perm, 1);
	assert_true(err[0] != '\0');
	free(damaged);
}

/* --- the refresh cycle -------------------------------------------------- */

static void
test_apply_new(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	char *iso;

	count_writes(f);
	stage_all(f, IDS3, 3, 10);
	/* Staged rows are invisible until applied. */
	assert_true(nrows(f) == 0);
	apply_ok(f, T0, 0, &c);
	counts_are(&c, 3, 0, 0, 0, 0);
	assert_true(writes(f) == 3);
	assert_true(nrows(f) == 3);

	assert_true(vint(f, IDS3[0], "position") == 1);
	assert_true(vint(f, IDS3[1], "position") == 2);
	assert_true(vint(f, IDS3[2], "position") == 3);
	vtext_is(f, IDS3[0], "title", "title 7300000000000000003");
	vtext_is(f, IDS3[0], "description",
	    "description of 7300000000000000003");
	vtext_is(f, IDS3[0], "share_url",
	    "https://www.tiktok.com/@u/video/7300000000000000003");
	vtext_is(f, IDS3[0], "embed_link",
	    "https://www.tiktok.com/static/profile-video?id="
	    "7300000000000000003");
	vtext_is(f, IDS3[0], "embed_html",
	    "<blockquote cite=\"7300000000000000003\"></blockquote>");
	vtext_is(f, IDS3[0], "cover", NULL); /* no cover decided yet */
	assert_true(vint(f, IDS3[0], "created_at") == 3000);
	assert_true(vint(f, IDS3[0], "duration") == 15);
	assert_true(vint(f, IDS3[0], "width") == 1080);
	assert_true(vint(f, IDS3[0], "height") == 1920);
	assert_true(vint(f, IDS3[0], "total_likes") == 10);
	assert_true(vint(f, IDS3[0], "total_comments") == 2);
	assert_true(vint(f, IDS3[0], "total_shares") == 3);
	assert_true(vint(f, IDS3[0], "total_views") == 5000000000LL);
	assert_true(vint(f, IDS3[0], "first_seen_at") == T0);
	assert_true(vint(f, IDS3[0], "updated_at") == T0);
	assert_true(vint(f, IDS3[0], "deleted_at") == STORE_NULL);
	/* Ids are text, never numbers. */
	assert_true(qint(f->raw, "SELECT count(*) FROM videos"
				 " WHERE typeof(id) = 'text'") == 3);
	/* The ISO 8601 view. */
	iso = qtext(f->raw, "SELECT created_at_iso FROM videos_iso"
			    " WHERE id = '7300000000000000003'");
	assert_string_equal(iso, "1970-01-01T00:50:00Z");
	free(iso);

	/* The accounts row says the refresh succeeded. */
	assert_true(qint(f->raw, "SELECT count(*) FROM accounts WHERE"
				 " name = 'brand' AND state = 'ok'"
				 " AND last_error IS NULL") == 1);
	assert_true(qint(f->raw, "SELECT last_success_at FROM accounts") ==
	    T0);
	assert_true(qint(f->raw, "SELECT next_sync_at FROM accounts") ==
	    T0 + 3600);
	assert_true(qint(f->raw, "SELECT token_expires_at FROM accounts") ==
	    T0 + 86400);
	assert_true(qint(f->raw, "SELECT refresh_expires_at FROM accounts") ==
	    T0 + 31536000);
}

static void
test_apply_identical_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store_counts c;

	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0, 0, &c);
	count_writes(f);
	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0 + 3600, 0, &c);
	counts_are(&c, 0, 0, 3, 0, 0);
	assert_true(writes(f) == 0);
	assert_true(qint(f->raw, "SELECT count(*) FROM videos"
				 " WHERE updated_at = %d",
			T0) == 3);
	/* The refresh itself is still recorded. */
	assert_true(qint(f->raw, "SELECT last_success_at FROM accounts") ==
	    T0 + 3600);
}

static void
test_apply_change_bumps(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];
	int i;

	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0, 0, &c);
	count_writes(f);
	/* One video got a like. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		video_make(&v, IDS3[i], 1000 * (3 - i), i == 1 ? 11 : 10);
		stage(f, ACCT, i + 1, i + 1, &v);
		video_clear(&v);
	}
	apply_ok(f, T0 + 60, 0, &c);
	counts_are(&c, 0, 1, 2, 0, 0);
	assert_true(writes(f) == 1);
	assert_true(vint(f, IDS3[1], "total_likes") == 11);
	assert_true(vint(f, IDS3[1], "updated_at") == T0 + 60);
	assert_true(vint(f, IDS3[1], "first_seen_at") == T0);
	assert_true(vint(f, IDS3[0], "updated_at") == T0);
	assert_true(vint(f, IDS3[2], "updated_at") == T0);

	/* A new title, description or URL is a change too. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		video_make(&v, IDS3[i], 1000 * (3 - i), i == 1 ? 11 : 10);
		if (i == 2) {
			free(v.title);
			v.title = xstrdup("");
		}
		stage(f, ACCT, i + 1, i + 1, &v);
		video_clear(&v);
	}
	apply_ok(f, T0 + 120, 0, &c);
	counts_are(&c, 0, 1, 2, 0, 0);
	vtext_is(f, IDS3[2], "title", "");
	assert_true(vint(f, IDS3[2], "updated_at") == T0 + 120);
	assert_true(vint(f, IDS3[1], "updated_at") == T0 + 60);
}

static void
test_position_only(void **state)
{
	static const char *const reordered[] = {"7300000000000000001",
	    "7300000000000000003", "7300000000000000002"};
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];
	int i;

	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0, 0, &c);
	count_writes(f);
	/* The same videos with the same values at other places. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		int64_t created = vint(f, reordered[i], "created_at");

		video_make(&v, reordered[i], created, 10);
		stage(f, ACCT, i + 1, i + 1, &v);
		video_clear(&v);
	}
	apply_ok(f, T0 + 60, 0, &c);
	counts_are(&c, 0, 0, 3, 0, 0);
	assert_true(vint(f, reordered[0], "position") == 1);
	assert_true(vint(f, reordered[1], "position") == 2);
	assert_true(vint(f, reordered[2], "position") == 3);
	/* position is listing state: updated_at does not move. */
	assert_true(qint(f->raw, "SELECT count(*) FROM videos"
				 " WHERE updated_at = %d",
			T0) == 3);
	/* Only the rows whose position changed were written (all three). */
	assert_true(writes(f) == 3);
}

static void
test_fall_out_of_slice(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];
	int i;

	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0, 0, &c);
	count_writes(f);
	/*
	 * A new video arrives on top (quantity 3): the oldest is still
	 * listed, but no longer kept, and comes with other values.
	 */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "7300000000000000004", 4000, 1);
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	for (i = 0; i < 3; i++) {
		video_make(&v, IDS3[i], 1000 * (3 - i), i == 2 ? 99 : 10);
		stage(f, ACCT, i + 2, i < 2 ? i + 2 : STORE_NULL, &v);
		video_clear(&v);
	}
	apply_ok(f, T0 + 60, 0, &c);
	counts_are(&c, 1, 0, 2, 0, 0);
	assert_true(nrows(f) == 4);
	assert_true(vint(f, "7300000000000000004", "position") == 1);
	assert_true(vint(f, IDS3[0], "position") == 2);
	assert_true(vint(f, IDS3[1], "position") == 3);
	/* The row stays, with position NULL and its values untouched. */
	assert_true(vint(f, IDS3[2], "position") == STORE_NULL);
	assert_true(vint(f, IDS3[2], "total_likes") == 10);
	assert_true(vint(f, IDS3[2], "updated_at") == T0);
	assert_true(vint(f, IDS3[2], "deleted_at") == STORE_NULL);
	vtext_is(f, IDS3[2], "title", "title 7300000000000000001");

	/* A row not listed at all this time loses its position too. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "7300000000000000004", 4000, 1);
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	apply_ok(f, T0 + 120, 0, &c);
	counts_are(&c, 0, 0, 1, 0, 0);
	assert_true(vint(f, IDS3[0], "position") == STORE_NULL);
	assert_true(vint(f, IDS3[1], "position") == STORE_NULL);
	assert_true(qint(f->raw, "SELECT count(*) FROM videos"
				 " WHERE deleted_at IS NULL") == 4);
}

static void
test_absent_fields_keep(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];

	stage_all(f, IDS3, 1, 10);
	apply_ok(f, T0, 0, &c);
	count_writes(f);
	/* TikTok left every optional field out this time. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	memset(&v, 0, sizeof(v));
	snprintf(v.id, sizeof(v.id), "%s", IDS3[0]);
	v.created_at = 1000;
	v.duration = v.width = v.height = API_ABSENT;
	v.total_likes = v.total_comments = v.total_shares = v.total_views = API_ABSENT;
	assert_int_equal(store_stage_add(f->s, ACCT, 1, 1, &v, NULL, err,
			     sizeof(err)),
	    0);
	apply_ok(f, T0 + 60, 0, &c);
	counts_are(&c, 0, 0, 1, 0, 0);
	assert_true(writes(f) == 0);
	vtext_is(f, IDS3[0], "title", "title 7300000000000000003");
	vtext_is(f, IDS3[0], "description",
	    "description of 7300000000000000003");
	vtext_is(f, IDS3[0], "share_url",
	    "https://www.tiktok.com/@u/video/7300000000000000003");
	assert_true(vint(f, IDS3[0], "total_likes") == 10);
	assert_true(vint(f, IDS3[0], "total_views") == 5000000000LL);
	assert_true(vint(f, IDS3[0], "width") == 1080);
	assert_true(vint(f, IDS3[0], "updated_at") == T0);

	/* A new video without them gets '' for text, NULL for numbers. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	snprintf(v.id, sizeof(v.id), "42");
	v.created_at = 2000;
	assert_int_equal(store_stage_add(f->s, ACCT, 1, 1, &v, NULL, err,
			     sizeof(err)),
	    0);
	apply_ok(f, T0 + 120, 0, &c);
	counts_are(&c, 1, 0, 0, 0, 0);
	vtext_is(f, "42", "title", "");
	vtext_is(f, "42", "description", "");
	vtext_is(f, "42", "share_url", NULL);
	assert_true(vint(f, "42", "total_likes") == STORE_NULL);
	assert_true(vint(f, "42", "duration") == STORE_NULL);
}

static void
test_listed_twice(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];

	/* A video that shows up on two pages keeps its first place. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "5", 500, 1);
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	video_make(&v, "4", 400, 1);
	stage(f, ACCT, 2, 2, &v);
	video_clear(&v);
	video_make(&v, "5", 500, 7);
	/* The repeat is reported, so the caller does not count it. */
	assert_int_equal(store_stage_add(f->s, ACCT, 3, 3, &v, NULL, err,
			     sizeof(err)),
	    1);
	video_clear(&v);
	apply_ok(f, T0, 0, &c);
	counts_are(&c, 2, 0, 0, 0, 0);
	assert_true(vint(f, "5", "position") == 1);
	assert_true(vint(f, "5", "total_likes") == 1);
	assert_true(nrows(f) == 2);
}

static void
test_stage_begin_discards(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	char err[ERRLEN];

	stage_all(f, IDS3, 3, 10);
	/* A refresh that starts over drops what an aborted one staged. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	apply_ok(f, T0, 0, &c);
	counts_are(&c, 0, 0, 0, 0, 0);
	assert_true(nrows(f) == 0);
	/* After an apply, the stage is empty again. */
	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0 + 1, 0, &c);
	counts_are(&c, 3, 0, 0, 0, 0);
	apply_ok(f, T0 + 2, 0, &c);
	counts_are(&c, 0, 0, 0, 0, 0);
}

/* --- deletions ---------------------------------------------------------- */

static void
test_deletion_cycle(void **state)
{
	static const char *const ids[] = {"400", "300", "200", "100"};
	static const char *const without[] = {"400", "300", "100"};
	struct fx *f = *state;
	struct store_counts c;
	struct store_account a;
	char got[API_PAGE_MAX][21], err[ERRLEN];
	int64_t live;
	int i;

	stage_all(f, ids, 4, 10); /* created 4000, 3000, 2000, 1000 */
	apply_ok(f, T0, 0, &c);
	counts_are(&c, 4, 0, 0, 0, 0);

	/* "200" is gone from the listing. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		struct video v;

		video_make(&v, without[i], vint(f, without[i], "created_at"),
		    10);
		stage(f, ACCT, i + 1, i + 1, &v);
		video_clear(&v);
	}
	assert_int_equal(store_stage_candidates(f->s, ACCT, 0, STORE_NULL,
			     0, &live, err, sizeof(err)),
	    1);
	assert_true(live == 4);
	assert_int_equal(store_candidates_next(f->s, ACCT, got, API_PAGE_MAX,
			     err, sizeof(err)),
	    1);
	assert_string_equal(got[0], "200");
	/* Taken: asking again gives nothing more. */
	assert_int_equal(store_candidates_next(f->s, ACCT, got, API_PAGE_MAX,
			     err, sizeof(err)),
	    0);
	/* video/query did not return it. */
	assert_int_equal(store_candidates_missing(f->s, ACCT, err,
			     sizeof(err)),
	    1);
	count_writes(f);
	apply_ok(f, T0 + 60, 1, &c);
	counts_are(&c, 0, 0, 3, 1, 0);
	/* Marked, never removed; values kept; out of the listing. */
	assert_true(nrows(f) == 4);
	assert_true(vint(f, "200", "deleted_at") == T0 + 60);
	assert_true(vint(f, "200", "position") == STORE_NULL);
	assert_true(vint(f, "200", "total_likes") == 10);
	assert_true(vint(f, "200", "updated_at") == T0);
	vtext_is(f, "200", "title", "title 200");
	assert_true(vint(f, "100", "position") == 3);
	assert_true(writes(f) == 2); /* "200" marked, "100" moved up */
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_true(a.videos == 3);
	store_account_clear(&a);

	/* It comes back: restored, live, in the listing again. */
	stage_all(f, ids, 4, 10);
	assert_int_equal(store_stage_candidates(f->s, ACCT, 0, STORE_NULL,
			     0, &live, err, sizeof(err)),
	    0);
	assert_true(live == 3);
	apply_ok(f, T0 + 120, 1, &c);
	counts_are(&c, 0, 0, 3, 0, 1);
	assert_true(vint(f, "200", "deleted_at") == STORE_NULL);
	assert_true(vint(f, "200", "position") == 3);
	assert_true(vint(f, "100", "position") == 4);
	assert_true(vint(f, "200", "first_seen_at") == T0);
}

/*
 * A page cache that fails on demand: while 'pages_fail' is set every page
 * fetch finds nothing and may make nothing, so the next statement that
 * reads a table fails with SQLITE_NOMEM in sqlite3_step() (a statement
 * prepared before still prepares). Installed by main() before SQLite
 * starts; otherwise SQLite's own.
 */
static sqlite3_pcache_page *
pages_fetch(sqlite3_pcache *c, unsigned key, int create)
{
	return pages_fail ? NULL : pages_real.xFetch(c, key, create);
}

static void
pages_install(void)
{
	sqlite3_pcache_methods2 m;

	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &pages_real) !=
	    SQLITE_OK)
		abort();
	m = pages_real;
	m.xFetch = pages_fetch;
	if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &m) != SQLITE_OK)
		abort();
}

/* A read error while taking candidates is an error, not "no more". */
static void
test_candidates_read_error(void **state)
{
	static const char *const ids[] = {"400", "300", "200", "100"};
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char got[API_PAGE_MAX][21], err[ERRLEN];
	int64_t live;

	stage_all(f, ids, 4, 10);
	apply_ok(f, T0, 0, &c);
	/* "300" and "100" are gone from the listing: two candidates. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "400", 4000, 10);
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	video_make(&v, "200", 2000, 10);
	stage(f, ACCT, 2, 2, &v);
	video_clear(&v);
	assert_int_equal(store_stage_candidates(f->s, ACCT, 0, STORE_NULL,
			     0, &live, err, sizeof(err)),
	    2);
	assert_int_equal(store_candidates_next(f->s, ACCT, got, 1, err,
			     sizeof(err)),
	    1);
	assert_string_equal(got[0], "100");

	err[0] = '\0';
	pages_fail = 1;
	assert_int_equal(store_candidates_next(f->s, ACCT, got, API_PAGE_MAX,
			     err, sizeof(err)),
	    -1);
	pages_fail = 0;
	assert_non_null(strstr(err, "mirror.db: read: "));
	/* Nothing was taken by the failed call. */
	assert_int_equal(store_candidates_next(f->s, ACCT, got, API_PAGE_MAX,
			     err, sizeof(err)),
	    1);
	assert_string_equal(got[0], "300");
}

/* The archive cursor: none, one, and a read error that says so. */
static void
test_archive_cursor(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct store_apply a;
	char err[ERRLEN];
	int64_t cur = 0;

	assert_int_equal(store_archive_cursor(f->s, ACCT, "", &cur, err,
			     sizeof(err)),
	    0);
	assert_true(cur == -1); /* never rotated */
	stage_all(f, IDS3, 3, 10);
	memset(&a, 0, sizeof(a));
	a.now = T0;
	a.archive_cursor = 1234000;
	if (store_apply(f->s, ACCT, &a, &c, err, sizeof(err)) != 0)
		fail_msg("store_apply: %s", err);
	assert_int_equal(store_archive_cursor(f->s, ACCT, "", &cur, err,
			     sizeof(err)),
	    0);
	assert_true(cur == 1234000);
	/* Under other filters than those of the last whole listing: none. */
	assert_int_equal(store_archive_cursor(f->s, ACCT, "d1", &cur, err,
			     sizeof(err)),
	    0);
	assert_true(cur == -1);
	a.filter_digest = "d1";
	if (store_apply(f->s, ACCT, &a, &c, err, sizeof(err)) != 0)
		fail_msg("store_apply: %s", err);
	assert_int_equal(store_archive_cursor(f->s, ACCT, "d1", &cur, err,
			     sizeof(err)),
	    0);
	assert_true(cur == 1234000);
	assert_int_equal(store_archive_cursor(f->s, ACCT, "", &cur, err,
			     sizeof(err)),
	    0);
	assert_true(cur == -1);
	a.filter_digest = NULL;

	/* Before, an error here read as "never rotated": a full listing. */
	err[0] = '\0';
	pages_fail = 1;
	assert_int_equal(store_archive_cursor(f->s, ACCT, "", &cur, err,
			     sizeof(err)),
	    -1);
	pages_fail = 0;
	assert_non_null(strstr(err, "mirror.db: read: "));
	assert_int_equal(store_archive_cursor(f->s, ACCT, "d1", &cur, err,
			     sizeof(err)),
	    0);
	assert_true(cur == 1234000);
}

static void
test_deletion_guarded(void **state)
{
	static const char *const ids[] = {"400", "300", "200", "100"};
	struct fx *f = *state;
	struct store_counts c;
	char got[API_PAGE_MAX][21], err[ERRLEN];
	int64_t live;
	int n;

	stage_all(f, ids, 4, 10);
	apply_ok(f, T0, 0, &c);

	/* An empty listing: all four are candidates. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	assert_int_equal(store_stage_candidates(f->s, ACCT, 0, STORE_NULL,
			     0, &live, err, sizeof(err)),
	    4);
	/* Paged two at a time, in a stable order. */
	n = store_candidates_next(f->s, ACCT, got, 2, err, sizeof(err));
	assert_int_equal(n, 2);
	assert_string_equal(got[0], "100");
	assert_string_equal(got[1], "200");
	/* video/query still returns "100": not deleted. */
	assert_int_equal(store_candidate_found(f->s, ACCT, "100", err,
			     sizeof(err)),
	    0);
	assert_int_equal(store_candidates_missing(f->s, ACCT, err,
			     sizeof(err)),
	    1);
	/* A refused refresh (deletions not applied) deletes nothing. */
	apply_ok(f, T0 + 60, 0, &c);
	assert_true(c.deleted == 0);
	assert_true(qint(f->raw, "SELECT count(*) FROM videos"
				 " WHERE deleted_at IS NOT NULL") == 0);

	/* A range limits the candidates: created_at in [2000, 4000). */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	assert_int_equal(store_stage_candidates(f->s, ACCT, 2000, 4000, 0, &live,
			     err, sizeof(err)),
	    2);
	assert_true(live == 2);
	n = store_candidates_next(f->s, ACCT, got, API_PAGE_MAX, err,
	    sizeof(err));
	assert_int_equal(n, 2);
	assert_string_equal(got[0], "200");
	assert_string_equal(got[1], "300");
	apply_ok(f, T0 + 120, 1, &c);
	assert_true(c.deleted == 2);
	assert_true(vint(f, "100", "deleted_at") == STORE_NULL);
	assert_true(vint(f, "400", "deleted_at") == STORE_NULL);
	assert_true(vint(f, "200", "deleted_at") == T0 + 120);
	assert_true(vint(f, "300", "deleted_at") == T0 + 120);
	/* Deleted rows are no candidates any more. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	assert_int_equal(store_stage_candidates(f->s, ACCT, 0, STORE_NULL,
			     0, &live, err, sizeof(err)),
	    2);
	assert_true(live == 2);
}

/* --- covers ------------------------------------------------------------- */

static void
test_covers(void **state)
{
	struct fx *f = *state;
	struct store_cover_item it[8];
	struct store_counts c;
	struct video v;
	char err[ERRLEN];
	int n, i;

	/* Two kept videos and one listed but not kept. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "3", 2000, 1);
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	video_make(&v, "2", 1000, 1);
	stage(f, ACCT, 2, 2, &v);
	video_clear(&v);
	video_make(&v, "1", 500, 1);
	stage(f, ACCT, 3, STORE_NULL, &v);
	video_clear(&v);
	n = store_stage_covers(f->s, ACCT, 1, NULL, it, 8, err, sizeof(err));
	assert_int_equal(n, 2);
	assert_string_equal(it[0].id, "3");
	assert_string_equal(it[0].url, "https://p16-sign.tiktokcdn.com/obj/"
				       "3.image?x-expires=1&x-signature=s1");
	assert_null(it[0].cover);
	assert_int_equal(it[0].same_src, 0);
	assert_string_equal(it[1].id, "2");
	for (i = 0; i < n; i++)
		store_cover_item_clear(&it[i]);
	/* Paging by id and max. */
	n = store_stage_covers(f->s, ACCT, 1, "3", it, 8, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(it[0].id, "2");
	store_cover_item_clear(&it[0]);
	n = store_stage_covers(f->s, ACCT, 1, NULL, it, 1, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(it[0].id, "3");
	store_cover_item_clear(&it[0]);

	/* "3" got a file, "2" had none usable (NONE). */
	assert_int_equal(store_stage_set_cover(f->s, ACCT, "3", "brand/3.jpg",
			     err, sizeof(err)),
	    0);
	assert_int_equal(store_stage_set_cover(f->s, ACCT, "2", NULL, err,
			     sizeof(err)),
	    0);
	/* Decided covers are not offered again in pass 1. */
	assert_int_equal(store_stage_covers(f->s, ACCT, 1, NULL, it, 8, err,
			     sizeof(err)),
	    0);
	apply_ok(f, T0, 0, &c);
	vtext_is(f, "3", "cover", "brand/3.jpg");
	vtext_is(f, "2", "cover", NULL);
	assert_true(cover_used(f, ACCT, "brand/3.jpg"));
	assert_false(cover_used(f, ACCT, "brand/2.jpg"));
	assert_false(cover_used(f, "other", "brand/3.jpg"));

	/* Next refresh: same URL path with a new signature. */
	stage_all(f, (const char *const[]){"3", "2"}, 2, 1);
	n = store_stage_covers(f->s, ACCT, 1, NULL, it, 8, err, sizeof(err));
	assert_int_equal(n, 2);
	assert_string_equal(it[0].id, "3");
	assert_string_equal(it[0].cover, "brand/3.jpg");
	assert_int_equal(it[0].same_src, 1);
	assert_string_equal(it[1].id, "2");
	assert_null(it[1].cover);
	assert_int_equal(it[1].same_src, 0);
	for (i = 0; i < n; i++)
		store_cover_item_clear(&it[i]);
	/* Left undecided (PENDING): the row keeps its cover. */
	count_writes(f);
	apply_ok(f, T0 + 60, 0, &c);
	counts_are(&c, 0, 0, 2, 0, 0);
	assert_true(writes(f) == 0);
	vtext_is(f, "3", "cover", "brand/3.jpg");

	/* The cover moved to another path: not the same source. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "3", 2000, 1);
	assert_int_equal(store_stage_add(f->s, ACCT, 1, 1, &v, "/obj/new.image",
			     err, sizeof(err)),
	    0);
	video_clear(&v);
	n = store_stage_covers(f->s, ACCT, 1, NULL, it, 8, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_int_equal(it[0].same_src, 0);
	assert_string_equal(it[0].cover, "brand/3.jpg");
	store_cover_item_clear(&it[0]);
	/* A new file (NEW) replaces the name and is a change. */
	assert_int_equal(store_stage_set_cover(f->s, ACCT, "3", "brand/3.png",
			     err, sizeof(err)),
	    0);
	apply_ok(f, T0 + 120, 0, &c);
	counts_are(&c, 0, 1, 0, 0, 0);
	vtext_is(f, "3", "cover", "brand/3.png");
	assert_true(vint(f, "3", "updated_at") == T0 + 120);
	/* ... and its source is remembered. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "3", 2000, 1);
	assert_int_equal(store_stage_add(f->s, ACCT, 1, 1, &v, "/obj/new.image",
			     err, sizeof(err)),
	    0);
	video_clear(&v);
	n = store_stage_covers(f->s, ACCT, 1, NULL, it, 8, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_int_equal(it[0].same_src, 1);
	store_cover_item_clear(&it[0]);
	/* NONE clears the cover (the file is then unclaimed). */
	assert_int_equal(store_stage_set_cover(f->s, ACCT, "3", NULL, err,
			     sizeof(err)),
	    0);
	assert_int_equal(qint(f->raw, "SELECT count(*) FROM cover_sources"
				 " WHERE id = '3'"),
	    1);
	apply_ok(f, T0 + 180, 0, &c);
	vtext_is(f, "3", "cover", NULL);
	assert_false(cover_used(f, ACCT, "brand/3.png"));
	/* ... and so is its source: the next file is fetched afresh. */
	assert_int_equal(qint(f->raw, "SELECT count(*) FROM cover_sources"
				 " WHERE id = '3'"),
	    0);
}

static void
test_cover_requery(void **state)
{
	struct fx *f = *state;
	struct store_cover_item it[4];
	char ids[API_PAGE_MAX][21], err[ERRLEN];
	struct store_counts c;
	int n;

	stage_all(f, IDS3, 3, 10);
	/* The signed URL of the second one had expired (HTTP 403). */
	assert_int_equal(store_stage_expired(f->s, ACCT, IDS3[1], err,
			     sizeof(err)),
	    0);
	n = store_stage_covers(f->s, ACCT, 1, NULL, it, 4, err, sizeof(err));
	assert_int_equal(n, 2); /* no longer pending */
	store_cover_item_clear(&it[0]);
	store_cover_item_clear(&it[1]);
	n = store_stage_expired_next(f->s, ACCT, ids, API_PAGE_MAX, err,
	    sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], IDS3[1]);
	assert_int_equal(store_stage_expired_next(f->s, ACCT, ids,
			     API_PAGE_MAX, err, sizeof(err)),
	    0);
	/* video/query gave a fresh URL: pass 2 offers it. */
	assert_int_equal(store_stage_covers(f->s, ACCT, 2, NULL, it, 4, err,
			     sizeof(err)),
	    0);
	assert_int_equal(store_stage_set_url(f->s, ACCT, IDS3[1],
			     "https://p16-sign.tiktokcdn.com/obj/x?sig=fresh",
			     err, sizeof(err)),
	    0);
	n = store_stage_covers(f->s, ACCT, 2, NULL, it, 4, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(it[0].id, IDS3[1]);
	assert_string_equal(it[0].url,
	    "https://p16-sign.tiktokcdn.com/obj/x?sig=fresh");
	store_cover_item_clear(&it[0]);
	assert_int_equal(store_stage_set_cover(f->s, ACCT, IDS3[1],
			     "brand/7300000000000000002.webp", err,
			     sizeof(err)),
	    0);
	apply_ok(f, T0, 0, &c);
	vtext_is(f, IDS3[1], "cover", "brand/7300000000000000002.webp");
	vtext_is(f, IDS3[0], "cover", NULL);
}

/* --- reading ------------------------------------------------------------ */

struct seen {
	char ids[16][21];
	int64_t pos[16];
	int n;
	int stop_after; /* 0: never */
};

static int
on_video(const struct store_video *v, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	assert_string_equal(v->account, ACCT);
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", v->id);
	s->pos[s->n] = v->position;
	s->n++;
	assert_true(v->deleted_at == STORE_NULL);
	return s->stop_after != 0 && s->n >= s->stop_after ? -1 : 0;
}

static void
seen_is(const struct seen *s, const char *const *want, int n)
{
	int i;

	if (s->n != n)
		fail_msg("%d videos, want %d", s->n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(s->ids[i], want[i]);
}

static void
query(struct fx *f, int listing, int64_t before_ms, int64_t start,
    int64_t quantity, struct seen *s)
{
	struct store_query q = {listing, before_ms, start, quantity, NULL};
	char err[ERRLEN];
	int stop = s->stop_after;

	memset(s, 0, sizeof(*s));
	s->stop_after = stop;
	if (store_videos(f->s, ACCT, &q, on_video, s, err, sizeof(err)) != 0)
		fail_msg("store_videos: %s", err);
}

static void
test_videos_query(void **state)
{
	static const char *const ids[] = {"5", "4", "3", "2", "1"};
	struct fx *f = *state;
	struct store_counts c;
	struct seen s = {0};
	struct video v;
	char err[ERRLEN];
	int i;

	/* Five videos (created 5000..1000); kept: 4, 3, 2 (start 2, qty 3). */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		video_make(&v, ids[i], 1000 * (5 - i), 1);
		stage(f, ACCT, i + 1, i >= 1 && i <= 3 ? i : STORE_NULL, &v);
		video_clear(&v);
	}
	apply_ok(f, T0, 0, &c);
	counts_are(&c, 3, 0, 0, 0, 0);
	/* The configured listing, in position order. */
	query(f, 1, STORE_NULL, 1, -1, &s);
	seen_is(&s, (const char *const[]){"4", "3", "2"}, 3);
	assert_true(s.pos[0] == 1 && s.pos[1] == 2 && s.pos[2] == 3);

	/* Another listing fills the rest: 5 and 1 too. */
	stage_all(f, ids, 5, 1);
	apply_ok(f, T0 + 60, 0, &c);
	counts_are(&c, 2, 0, 3, 0, 0);
	/* The query mode: newest first, before (exclusive), start, qty. */
	query(f, 0, STORE_NULL, 1, -1, &s);
	seen_is(&s, ids, 5);
	query(f, 0, 4000 * 1000LL, 1, -1, &s);
	seen_is(&s, (const char *const[]){"3", "2", "1"}, 3);
	query(f, 0, 4000 * 1000LL + 1, 1, -1, &s);
	seen_is(&s, (const char *const[]){"4", "3", "2", "1"}, 4);
	query(f, 0, STORE_NULL, 2, 2, &s);
	seen_is(&s, (const char *const[]){"4", "3"}, 2);
	query(f, 0, 4000 * 1000LL, 3, 20, &s);
	seen_is(&s, (const char *const[]){"1"}, 1);
	query(f, 0, STORE_NULL, 6, 20, &s);
	assert_int_equal(s.n, 0);
	query(f, 0, STORE_NULL, 1, 0, &s);
	assert_int_equal(s.n, 0);

	/* A callback that says stop is not called again. */
	s.stop_after = 2;
	query(f, 0, STORE_NULL, 1, -1, &s);
	assert_int_equal(s.n, 2);
	s.stop_after = 0;

	/* Deleted videos are in neither mode. */
	raw_exec(f->raw, "UPDATE videos SET deleted_at = 1, position = NULL"
			 " WHERE id = '3'");
	query(f, 0, STORE_NULL, 1, -1, &s);
	seen_is(&s, (const char *const[]){"5", "4", "2", "1"}, 4);
	query(f, 1, STORE_NULL, 1, -1, &s);
	seen_is(&s, (const char *const[]){"5", "4", "2", "1"}, 4);
}

static int
on_account(const struct store_account *a, void *arg)
{
	struct seen *s = arg;

	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", a->name);
	s->pos[s->n] = a->videos;
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after ? -1 : 0;
}

static void
test_accounts(void **state)
{
	struct fx *f = *state;
	struct store_account a;
	struct store_counts c;
	struct seen s;
	struct store_apply ap;
	char err[ERRLEN];

	assert_int_equal(store_account_get(f->s, "nobody", &a, err,
			     sizeof(err)),
	    1);
	assert_null(a.name);
	assert_int_equal(store_account_ensure(f->s, "zeta", err, sizeof(err)),
	    0);
	assert_int_equal(store_account_ensure(f->s, "alpha", err, sizeof(err)),
	    0);
	assert_int_equal(store_account_ensure(f->s, ACCT, err, sizeof(err)),
	    0); /* again: no change */
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_string_equal(a.name, ACCT);
	assert_int_equal(a.state, ACCOUNT_NEEDS_AUTH);
	assert_null(a.open_id);
	assert_null(a.last_error);
	assert_true(a.last_attempt_at == STORE_NULL);
	assert_true(a.last_success_at == STORE_NULL);
	assert_true(a.token_expires_at == STORE_NULL);
	assert_true(a.videos == 0);
	store_account_clear(&a);

	/* An attempt, then a failure with its message and retry time. */
	assert_int_equal(store_account_attempt(f->s, ACCT, T0, err,
			     sizeof(err)),
	    0);
	assert_int_equal(store_account_fail(f->s, ACCT, ACCOUNT_ERROR,
			     "video/list: HTTP 500", T0 + 120, err,
			     sizeof(err)),
	    0);
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_int_equal(a.state, ACCOUNT_ERROR);
	assert_string_equal(a.last_error, "video/list: HTTP 500");
	assert_true(a.last_attempt_at == T0);
	assert_true(a.next_sync_at == T0 + 120);
	store_account_clear(&a);
	/* The database holds the state's name; a name it does not know
	 * (a hand edit) reads as an error. */
	assert_true(qint(f->raw, "SELECT count(*) FROM accounts WHERE"
				 " name = 'brand' AND state = 'error'") == 1);
	raw_exec(f->raw, "UPDATE accounts SET state = 'bogus'");
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_int_equal(a.state, ACCOUNT_ERROR);
	assert_string_equal(store_state_name(a.state), "error");
	assert_string_equal(store_state_name(ACCOUNT_OK), "ok");
	assert_string_equal(store_state_name(ACCOUNT_NEEDS_AUTH), "needs_auth");
	store_account_clear(&a);
	/* Without a retry time the previous one stays. */
	assert_int_equal(store_account_fail(f->s, ACCT, ACCOUNT_NEEDS_AUTH,
			     "brand: refresh token rejected (invalid_grant);"
			     " run: tiktok-mirror auth brand",
			     STORE_NULL, err, sizeof(err)),
	    0);
	assert_true(qint(f->raw, "SELECT next_sync_at FROM accounts"
				 " WHERE name = 'brand'") == T0 + 120);
	assert_true(qint(f->raw, "SELECT count(*) FROM accounts WHERE"
				 " name = 'brand' AND state = 'needs_auth'"
				 " AND last_error LIKE '%%tiktok-mirror auth"
				 " brand'") == 1);
	/* Token expiry times. */
	assert_int_equal(store_account_tokens(f->s, ACCT, T0 + 86400,
			     T0 + 31536000, err, sizeof(err)),
	    0);
	assert_true(qint(f->raw, "SELECT token_expires_at FROM accounts"
				 " WHERE name = 'brand'") == T0 + 86400);
	assert_true(qint(f->raw, "SELECT refresh_expires_at FROM accounts"
				 " WHERE name = 'brand'") == T0 + 31536000);
	/* The tokens themselves never reach the mirror. */
	assert_true(qint(f->raw, "SELECT count(*) FROM pragma_table_info("
				 "'accounts') WHERE name LIKE '%%token'") == 0);

	/* A good refresh: ok, error cleared, profile filled in. */
	stage_all(f, IDS3, 2, 1);
	memset(&ap, 0, sizeof(ap));
	ap.now = T0 + 200;
	ap.open_id = "723f24d7";
	ap.display_name = "Tik Toker";
	ap.next_sync_at = T0 + 3800;
	ap.token_expires_at = T0 + 86400;
	ap.refresh_expires_at = T0 + 31536000;
	assert_int_equal(store_apply(f->s, ACCT, &ap, &c, err, sizeof(err)),
	    0);
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_int_equal(a.state, ACCOUNT_OK);
	assert_null(a.last_error);
	assert_string_equal(a.open_id, "723f24d7");
	assert_string_equal(a.display_name, "Tik Toker");
	assert_true(a.last_success_at == T0 + 200);
	assert_true(a.next_sync_at == T0 + 3800);
	assert_true(a.videos == 2);
	store_account_clear(&a);
	/* NULL profile values keep what is stored. */
	stage_all(f, IDS3, 2, 1);
	ap.open_id = ap.display_name = NULL;
	assert_int_equal(store_apply(f->s, ACCT, &ap, &c, err, sizeof(err)),
	    0);
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_string_equal(a.display_name, "Tik Toker");
	store_account_clear(&a);

	/* Every account in name order, with its live videos. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_accounts_each(f->s, on_account, &s, err,
			     sizeof(err)),
	    0);
	seen_is(&s, (const char *const[]){"alpha", "brand", "zeta"}, 3);
	assert_true(s.pos[0] == 0 && s.pos[1] == 2 && s.pos[2] == 0);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(store_accounts_each(f->s, on_account, &s, err,
			     sizeof(err)),
	    0);
	assert_int_equal(s.n, 1);
}

static void
test_accounts_apart(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];

	assert_int_equal(store_account_ensure(f->s, "other", err, sizeof(err)),
	    0);
	/* Both accounts have the same video id (a shared test clip). */
	stage_all(f, IDS3, 3, 10);
	assert_int_equal(store_stage_begin(f->s, "other", err, sizeof(err)),
	    0);
	video_make(&v, IDS3[0], 3000, 77);
	stage(f, "other", 1, 1, &v);
	video_clear(&v);
	apply_ok(f, T0, 0, &c);
	counts_are(&c, 3, 0, 0, 0, 0);
	/* "other" is still only staged. */
	assert_true(qint(f->raw, "SELECT count(*) FROM videos"
				 " WHERE account = 'other'") == 0);
	assert_int_equal(apply_at(f, "other", T0 + 1, 0, &c, err,
			     sizeof(err)),
	    0);
	counts_are(&c, 1, 0, 0, 0, 0);
	assert_true(qint(f->raw, "SELECT total_likes FROM videos"
				 " WHERE account = 'other'") == 77);
	/* brand's refresh does not touch other's positions. */
	stage_all(f, IDS3 + 1, 2, 10);
	apply_ok(f, T0 + 60, 0, &c);
	assert_true(qint(f->raw, "SELECT position FROM videos"
				 " WHERE account = 'other'") == 1);
	assert_true(vint(f, IDS3[0], "position") == STORE_NULL);
}

/* store_videos(): the one row of 'id', compared with 'want' field by field. */
struct every {
	const struct video *want;
	int rows;
};

static int
on_every(const struct store_video *sv, void *arg)
{
	struct every *e = arg;
	const struct video *v = e->want;

	e->rows++;
	assert_string_equal(sv->id, v->id);
#define SAME_text(a, b) assert_string_equal(a, b);
#define SAME_int(a, b) assert_true(a == b);
#define SAME(n, key, kind)                                                     \
	VF_BY_TYPE(SAME_, kind)(sv->n, v->VF_API_NAME(n, kind))
	VIDEO_FIELDS(SAME)
	return 0;
}

/*
 * Every field of video_fields.h goes from TikTok's struct video through the
 * stage into the mirror and back out of store_videos() unchanged, and a
 * change of every one is named in the change log, in column order.
 */
static void
test_every_field(void **state)
{
	struct fx *f = *state;
	struct store_query q;
	struct store_counts c;
	struct every e;
	struct video v;
	char err[ERRLEN], *fields, *t;
	const char *rel;
	int round;

	memset(&q, 0, sizeof(q));
	q.listing = 1;
	video_make(&v, "77", 5000, 10);
	/* A field video_make() does not know yet gets a value too. */
#define FILL_text(n) v.n = v.n != NULL ? v.n : xstrdup(#n);
#define FILL_int(n)
#define FILL(n, key, kind) VF_BY_TYPE(FILL_, kind)(VF_API_NAME(n, kind))
	VIDEO_FIELDS(FILL)
	for (round = 0; round < 2; round++) {
		if (round == 1) {
#define BUMP_text(n) t = xasprintf("%s+", v.n), free(v.n), v.n = t;
#define BUMP_int(n) v.n++;
#define BUMP(n, key, kind) VF_BY_TYPE(BUMP_, kind)(VF_API_NAME(n, kind))
			VIDEO_FIELDS(BUMP)
		}
		rel = round ? "brand/77.png" : "brand/77.jpg";
		assert_int_equal(store_stage_begin(f->s, ACCT, err,
				     sizeof(err)), 0);
		stage(f, ACCT, 1, 1, &v);
		assert_int_equal(store_stage_set_cover(f->s, ACCT, "77", rel,
				     err, sizeof(err)), 0);
		apply_ok(f, T0 + round, 0, &c);
		counts_are(&c, round == 0, round == 1, 0, 0, 0);
		/* The mirror holds the cover's file, not its URL. */
		free(v.cover_url);
		v.cover_url = xstrdup(rel);
		memset(&e, 0, sizeof(e));
		e.want = &v;
		assert_int_equal(store_videos(f->s, ACCT, &q, on_every, &e, err,
				     sizeof(err)), 0);
		assert_int_equal(e.rows, 1);
	}
	fields = qtext(f->raw, "SELECT fields FROM changes WHERE"
			       " kind = 'updated' AND id = '77'");
	assert_string_equal(fields, "title,description,duration,width,height,"
				    "cover,embed_link,embed_html,share_url,"
				    "created_at,total_shares,total_likes,"
				    "total_comments,total_views");
	free(fields);
	video_clear(&v);
}

/* --- history, change log, search, snapshot ------------------------------- */

static void
test_runs_and_changes(void **state)
{
	struct fx *f = *state;
	struct store_account a;
	struct store_counts c;
	struct store_apply ap;
	struct video v;
	char err[ERRLEN], *fields;
	int64_t run;
	int i;

	/* A successful refresh with its run row and change log. */
	run = store_run_begin(f->s, ACCT, T0, err, sizeof(err));
	assert_true(run > 0);
	stage_all(f, IDS3, 3, 10);
	memset(&ap, 0, sizeof(ap));
	ap.now = T0 + 5;
	ap.next_sync_at = T0 + 3600;
	ap.token_expires_at = ap.refresh_expires_at = STORE_NULL;
	ap.run_id = run;
	assert_int_equal(store_apply(f->s, ACCT, &ap, &c, err, sizeof(err)),
	    0);
	assert_int_equal(store_run_end(f->s, run, T0 + 6, ACCOUNT_OK, 4, &c, NULL,
			     err, sizeof(err)),
	    0);
	assert_true(qint(f->raw, "SELECT count(*) FROM sync_runs WHERE"
				 " id = %lld AND account = 'brand'"
				 " AND started_at = %d AND finished_at = %d"
				 " AND outcome = 'ok' AND requests = 4"
				 " AND new = 3 AND updated = 0 AND deleted = 0"
				 " AND error IS NULL",
			(long long)run, T0, T0 + 6) == 1);
	assert_true(qint(f->raw, "SELECT count(*) FROM changes WHERE"
				 " run_id = %lld AND kind = 'new'",
			(long long)run) == 3);
	/* Engagement history: a first point for every new video. */
	assert_true(qint(f->raw, "SELECT count(*) FROM video_stats"
				 " WHERE observed_at = %d AND total_likes = 10"
				 " AND total_views = 5000000000",
			T0 + 5) == 3);

	/* Two failed refreshes, then the account shows two failures. */
	for (i = 0; i < 2; i++) {
		run = store_run_begin(f->s, ACCT, T0 + 100 + i, err,
		    sizeof(err));
		assert_true(run > 0);
		assert_int_equal(store_run_end(f->s, run, T0 + 101 + i,
				     ACCOUNT_ERROR, 1, NULL, "video/list: HTTP 500",
				     err, sizeof(err)),
		    0);
	}
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_true(a.failures == 2);
	store_account_clear(&a);
	assert_true(qint(f->raw, "SELECT count(*) FROM sync_runs WHERE"
				 " outcome = 'error' AND new IS NULL"
				 " AND error = 'video/list: HTTP 500'") == 2);

	/* One like more on one video: an 'updated' change naming the field,
	 * one history point, and the failures are over. */
	run = store_run_begin(f->s, ACCT, T0 + 200, err, sizeof(err));
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		video_make(&v, IDS3[i], 1000 * (3 - i), i == 0 ? 11 : 10);
		stage(f, ACCT, i + 1, i + 1, &v);
		video_clear(&v);
	}
	ap.now = T0 + 205;
	ap.run_id = run;
	assert_int_equal(store_apply(f->s, ACCT, &ap, &c, err, sizeof(err)),
	    0);
	counts_are(&c, 0, 1, 2, 0, 0);
	assert_int_equal(store_run_end(f->s, run, T0 + 206, ACCOUNT_OK, 2, &c, NULL,
			     err, sizeof(err)),
	    0);
	fields = qtext(f->raw,
	    "SELECT fields FROM changes WHERE run_id = %lld"
	    " AND kind = 'updated' AND id = %Q",
	    (long long)run, IDS3[0]);
	assert_string_equal(fields, "total_likes");
	free(fields);
	assert_true(qint(f->raw, "SELECT count(*) FROM changes"
				 " WHERE run_id = %lld",
			(long long)run) == 1);
	assert_true(qint(f->raw, "SELECT count(*) FROM video_stats"
				 " WHERE observed_at = %d",
			T0 + 205) == 1);
	assert_int_equal(store_account_get(f->s, ACCT, &a, err, sizeof(err)),
	    0);
	assert_true(a.failures == 0);
	store_account_clear(&a);
}

/* Number of live videos whose search index matches 'q'. */
static int64_t
search(struct fx *f, const char *q)
{
	return qint(f->raw,
	    "SELECT count(*) FROM videos_fts s JOIN videos v"
	    " ON v.rowid = s.rowid WHERE videos_fts MATCH %Q"
	    " AND v.deleted_at IS NULL",
	    q);
}

static void
test_search_index(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];

	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "2", 2000, 1);
	free(v.title);
	v.title = xstrdup("Cooking pasta at home");
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	video_make(&v, "1", 1000, 1);
	free(v.description);
	v.description = xstrdup("Caf\xc3\xa9 tour in T\xc5\x8dky\xc5\x8d");
	stage(f, ACCT, 2, 2, &v);
	video_clear(&v);
	apply_ok(f, T0, 0, &c);
	assert_true(search(f, "cooking") == 1);
	assert_true(search(f, "pasta") == 1);
	assert_true(search(f, "cafe") == 1);	/* diacritics folded */
	assert_true(search(f, "tokyo") == 1);
	assert_true(search(f, "nothing") == 0);
	/* A new title replaces the old words. */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "2", 2000, 1);
	free(v.title);
	v.title = xstrdup("Baking bread");
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	video_make(&v, "1", 1000, 1);
	free(v.description);
	v.description = xstrdup("Caf\xc3\xa9 tour in T\xc5\x8dky\xc5\x8d");
	stage(f, ACCT, 2, 2, &v);
	video_clear(&v);
	apply_ok(f, T0 + 60, 0, &c);
	counts_are(&c, 0, 1, 1, 0, 0);
	assert_true(search(f, "cooking") == 0);
	assert_true(search(f, "bread") == 1);
	assert_true(qint(f->raw, "SELECT count(*) FROM videos_fts") == 2);
}

static void
test_snapshot(void **state)
{
	struct fx *f = *state;
	struct store *ro;
	char err[ERRLEN], *snap, *side, *jm, *bad;
	sqlite3 *db;

	stage_all(f, IDS3, 3, 10);
	apply_ok(f, T0, 0, NULL);
	snap = path_join(f->dir, "snapshot.db");
	if (store_snapshot(f->s, snap, err, sizeof(err)) != 0)
		fail_msg("store_snapshot: %s", err);
	/* A self-contained file: no WAL, no -shm needed beside it. */
	side = xasprintf("%s-wal", snap);
	assert_int_equal(access(side, F_OK), -1);
	free(side);
	side = xasprintf("%s-shm", snap);
	assert_int_equal(access(side, F_OK), -1);
	free(side);
	assert_int_equal(sqlite3_open_v2(snap, &db, SQLITE_OPEN_READONLY,
			     NULL),
	    SQLITE_OK);
	jm = qtext(db, "PRAGMA journal_mode");
	assert_string_equal(jm, "delete");
	free(jm);
	assert_true(qint(db, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	assert_true(qint(db, "SELECT count(*) FROM videos WHERE account ="
			     " 'brand' AND deleted_at IS NULL") == 3);
	assert_true(qint(db, "SELECT total_views FROM videos WHERE id = %Q",
			IDS3[0]) == 5000000000LL);
	sqlite3_close(db);

	/* Replaced atomically, also from a read-only store. */
	stage_all(f, IDS3, 2, 10);
	apply_ok(f, T0 + 60, 0, NULL);
	ro = store_open_ro(f->path, err, sizeof(err));
	assert_non_null(ro);
	if (store_snapshot(ro, snap, err, sizeof(err)) != 0)
		fail_msg("store_snapshot (read-only): %s", err);
	store_close(ro);
	db = raw_open(snap);
	assert_true(qint(db, "SELECT count(*) FROM videos"
			     " WHERE position IS NOT NULL") == 2);
	sqlite3_close(db);
	/* Nothing but the mirror, its WAL files and the snapshot. */
	assert_true(count_entries(f->dir) <= 4);

	/* A folder that does not exist: an error, nothing left behind. */
	bad = path_join(f->dir, "missing/snapshot.db");
	err[0] = '\0';
	assert_int_equal(store_snapshot(f->s, bad, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	free(bad);
	free(snap);
}

static void
test_retention(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN];
	int64_t now = T0 + 200 * 86400, old_day = (T0 / 86400 + 10) * 86400;
	int64_t run_old, run_new;

	/* Three points on one old day, two on a recent one. */
	raw_exec(f->raw, "DELETE FROM video_stats");
	{
		char *sql = sqlite3_mprintf(
		    "INSERT INTO video_stats VALUES"
		    " ('brand', '1', %lld, 1, 1, 1, 1),"
		    " ('brand', '1', %lld, 2, 2, 2, 2),"
		    " ('brand', '1', %lld, 3, 3, 3, 3),"
		    " ('brand', '1', %lld, 4, 4, 4, 4),"
		    " ('brand', '1', %lld, 5, 5, 5, 5);",
		    (long long)old_day + 100, (long long)old_day + 200,
		    (long long)old_day + 300, (long long)now - 3600,
		    (long long)now - 60);

		raw_exec(f->raw, sql);
		sqlite3_free(sql);
	}
	run_old = store_run_begin(f->s, ACCT, now - 91 * 86400, err,
	    sizeof(err));
	run_new = store_run_begin(f->s, ACCT, now - 89 * 86400, err,
	    sizeof(err));
	assert_true(run_old > 0 && run_new > run_old);
	{
		char *sql = sqlite3_mprintf(
		    "INSERT INTO changes VALUES (%lld, 'brand', '1', 'new',"
		    " NULL), (%lld, 'brand', '1', 'updated', 'title');",
		    (long long)run_old, (long long)run_new);

		raw_exec(f->raw, sql);
		sqlite3_free(sql);
	}
	assert_int_equal(store_retention(f->s, now, err, sizeof(err)), 0);
	/* The old day keeps its last point; recent points all stay. */
	assert_true(qint(f->raw, "SELECT count(*) FROM video_stats") == 3);
	assert_true(qint(f->raw, "SELECT total_views FROM video_stats"
				 " WHERE observed_at < %lld",
			(long long)now - 86400) == 3);
	/* Runs older than 90 days go, with their changes. */
	assert_true(qint(f->raw, "SELECT count(*) FROM sync_runs") == 1);
	assert_true(qint(f->raw, "SELECT count(*) FROM changes") == 1);
	assert_true(qint(f->raw, "SELECT run_id FROM changes") == run_new);
	/* Idempotent. */
	assert_int_equal(store_retention(f->s, now, err, sizeof(err)), 0);
	assert_true(qint(f->raw, "SELECT count(*) FROM video_stats") == 3);
	/*
	 * Later passes look only at the points that aged past the limit
	 * since the last one: 31 days on, the two recent points (one UTC
	 * day) are thinned to the later one.
	 */
	assert_int_equal(store_retention(f->s, now + 31 * 86400, err,
			     sizeof(err)), 0);
	assert_true(qint(f->raw, "SELECT count(*) FROM video_stats") ==
	    ((now - 3600) / 86400 == (now - 60) / 86400 ? 2 : 3));
	assert_true(qint(f->raw, "SELECT max(total_views) FROM video_stats")
	    == 5);
}

/* --- failures ----------------------------------------------------------- */

/* Every visible value of the videos table, as one string. */
static char *
snapshot(struct fx *f)
{
	return qtext(f->raw,
	    "SELECT group_concat(v, '|') FROM (SELECT account || ',' || id"
	    " || ',' || ifnull(position, '-') || ',' || title || ','"
	    " || ifnull(total_likes, '-') || ',' || ifnull(cover, '-')"
	    " || ',' || updated_at || ',' || ifnull(deleted_at, '-') AS v"
	    " FROM videos ORDER BY account, id)");
}

static void
test_apply_failure_rolls_back(void **state)
{
	static const char *const ids[] = {"400", "300", "200", "100"};
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN], *before, *after, *acct;
	int64_t live;
	int i;

	stage_all(f, ids, 4, 10);
	apply_ok(f, T0, 0, &c);
	before = snapshot(f);
	acct = qtext(f->raw, "SELECT state || last_success_at FROM accounts");

	/*
	 * A refresh that changes, adds, moves and deletes, and fails at its
	 * very last statement (the accounts row).
	 */
	assert_int_equal(store_stage_begin(f->s, ACCT, err, sizeof(err)), 0);
	video_make(&v, "500", 5000, 1);
	stage(f, ACCT, 1, 1, &v);
	video_clear(&v);
	for (i = 0; i < 2; i++) {
		video_make(&v, ids[i], 1000 * (4 - i), 99);
		stage(f, ACCT, i + 2, i + 2, &v);
		video_clear(&v);
	}
	assert_int_equal(store_stage_set_cover(f->s, ACCT, "400",
			     "brand/400.jpg", err, sizeof(err)),
	    0);
	assert_int_equal(store_stage_candidates(f->s, ACCT, 0, STORE_NULL,
			     0, &live, err, sizeof(err)),
	    2);
	{
		char got[API_PAGE_MAX][21];

		assert_int_equal(store_candidates_next(f->s, ACCT, got,
				     API_PAGE_MAX, err, sizeof(err)),
		    2);
	}
	raw_exec(f->raw, "CREATE TRIGGER t_fail BEFORE UPDATE ON accounts"
			 " BEGIN SELECT RAISE(FAIL, 'injected failure'); END;");
	err[0] = '\0';
	assert_int_equal(apply_at(f, ACCT, T0 + 60, 1, &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "injected failure"));
	/* Nothing of it is visible: same rows, same values, same times. */
	after = snapshot(f);
	assert_string_equal(after, before);
	free(after);
	after = qtext(f->raw, "SELECT state || last_success_at FROM accounts");
	assert_string_equal(after, acct);
	free(after);
	assert_false(cover_used(f, ACCT, "brand/400.jpg"));

	/* The same failure in the middle, on the first new row. */
	raw_exec(f->raw, "DROP TRIGGER t_fail;"
			 "CREATE TRIGGER t_fail BEFORE INSERT ON videos"
			 " BEGIN SELECT RAISE(ABORT, 'no insert'); END;");
	assert_int_equal(apply_at(f, ACCT, T0 + 60, 1, &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no insert"));
	after = snapshot(f);
	assert_string_equal(after, before);
	free(after);

	/* Once the fault is gone, the staged refresh applies whole. */
	raw_exec(f->raw, "DROP TRIGGER t_fail");
	apply_ok(f, T0 + 60, 1, &c);
	counts_are(&c, 1, 2, 0, 2, 0);
	assert_true(vint(f, "500", "position") == 1);
	assert_true(vint(f, "400", "total_likes") == 99);
	vtext_is(f, "400", "cover", "brand/400.jpg");
	assert_true(vint(f, "200", "deleted_at") == T0 + 60);
	assert_true(qint(f->raw, "SELECT last_success_at FROM accounts") ==
	    T0 + 60);
	free(before);
	free(acct);
}

static void
test_apply_unknown_account(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	struct video v;
	char err[ERRLEN];

	/* Videos of an account without an accounts row are refused. */
	assert_int_equal(store_stage_begin(f->s, "ghost", err, sizeof(err)),
	    0);
	video_make(&v, "1", 1000, 1);
	stage(f, "ghost", 1, 1, &v);
	video_clear(&v);
	err[0] = '\0';
	assert_int_equal(apply_at(f, "ghost", T0, 0, &c, err, sizeof(err)),
	    -1);
	assert_true(err[0] != '\0');
	assert_true(nrows(f) == 0);
	store_checkpoint(f->s);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TB(fn) cmocka_unit_test_setup_teardown(fn, setup_bare, teardown)
	const struct CMUnitTest tests[] = {
	    TB(test_open_creates),
	    T(test_schema),
	    TB(test_open_ro_missing),
	    T(test_open_ro_reads),
	    TB(test_open_refuses),
	    T(test_apply_new),
	    T(test_apply_identical_writes_nothing),
	    T(test_apply_change_bumps),
	    T(test_position_only),
	    T(test_fall_out_of_slice),
	    T(test_absent_fields_keep),
	    T(test_every_field),
	    T(test_listed_twice),
	    T(test_stage_begin_discards),
	    T(test_deletion_cycle),
	    T(test_deletion_guarded),
	    T(test_candidates_read_error),
	    T(test_archive_cursor),
	    T(test_covers),
	    T(test_cover_requery),
	    T(test_videos_query),
	    T(test_accounts),
	    T(test_accounts_apart),
	    T(test_runs_and_changes),
	    T(test_search_index),
	    T(test_snapshot),
	    T(test_retention),
	    T(test_apply_failure_rolls_back),
	    T(test_apply_unknown_account),
	};
#undef T
#undef TB

	pages_install();
	return cmocka_run_group_tests_name("store", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
