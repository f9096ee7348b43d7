/* SPDX-License-Identifier: ISC */
/*
 * The mirror database. One connection, WAL with a persistent -wal/-shm so
 * read-only consumers keep working while the daemon is stopped, the file
 * created 0644 less the umask like every file of the mirror (SQLite gives
 * -wal and -shm the same mode; the units' UMask=0027 lets the service's
 * group read it). A refresh is staged in TEMP tables, private to this
 * connection and invisible to readers, and applied by store_apply() in one
 * BEGIN IMMEDIATE transaction that is rolled back on any error (after
 * SQLITE_FULL or SQLITE_IOERR SQLite may have undone only one statement).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "api.h"
#include "db.h"
#include "filter.h"
#include "store.h"
#include "util.h"

#define STORE_BUSY_MS 10000		       /* writer's busy timeout */
/* cover_sources key of the account's avatar (video ids are digits). */
#define STORE_AVATAR_KEY "avatar"
#define STORE_WAL_TRUNCATE (4 * 1024 * 1024) /* WAL size worth truncating */

struct store {
	struct db *db;
	int permanent; /* the last open failure needs a person, not a retry */
	/* video_stats is thinned below this (0: not yet by this process) */
	int64_t thinned;
	/* What tm_keep() judges by while a statement runs (NULL: keep). */
	const struct filter *filter;
};

/* Unix seconds 'x' as an ISO 8601 date (UTC), for the views. */
#define ISO8601(x) "strftime('%Y-%m-%dT%H:%M:%SZ', " x ", 'unixepoch')"

static const char SCHEMA_V1[] =
    "CREATE TABLE accounts ("
    "  name               TEXT PRIMARY KEY,"
    "  open_id            TEXT,"
    "  display_name       TEXT,"
    "  state              TEXT NOT NULL,"
    "  last_attempt_at    INTEGER,"
    "  last_success_at    INTEGER,"
    "  next_sync_at       INTEGER,"
    "  last_error         TEXT,"
    "  token_expires_at   INTEGER,"
    "  refresh_expires_at INTEGER"
    ");"
    "CREATE TABLE videos ("
    "  account        TEXT NOT NULL REFERENCES accounts(name),"
    "  id             TEXT NOT NULL,"
    "  position       INTEGER,"
    "  title          TEXT NOT NULL DEFAULT '',"
    "  description    TEXT NOT NULL DEFAULT '',"
    "  duration       INTEGER,"
    "  width          INTEGER,"
    "  height         INTEGER,"
    "  cover          TEXT,"
    "  embed_link     TEXT,"
    "  embed_html     TEXT,"
    "  share_url      TEXT,"
    "  created_at     INTEGER NOT NULL,"
    "  total_shares   INTEGER,"
    "  total_likes    INTEGER,"
    "  total_comments INTEGER,"
    "  total_views    INTEGER,"
    "  first_seen_at  INTEGER NOT NULL,"
    "  updated_at     INTEGER NOT NULL,"
    "  deleted_at     INTEGER,"
    "  PRIMARY KEY (account, id)"
    ");"
    "CREATE INDEX videos_listing ON videos (account, position);"
    "CREATE INDEX videos_created ON videos (account, created_at);"
    /* Where each cover file came from: the URL path without its signed
     * query, so a new cover is noticed. Internal; consumers ignore it. */
    "CREATE TABLE cover_sources ("
    "  account TEXT NOT NULL,"
    "  id      TEXT NOT NULL,"
    "  src     TEXT NOT NULL,"
    "  PRIMARY KEY (account, id)"
    ");"
    "CREATE VIEW videos_iso AS SELECT *,"
    "  " ISO8601("created_at") " AS created_at_iso,"
    "  " ISO8601("updated_at") " AS updated_at_iso,"
    "  " ISO8601("deleted_at") " AS deleted_at_iso"
    "  FROM videos;"
    "PRAGMA user_version = 1;";

/*
 * The URL 'x' without query parameters whose name starts with "utm_" (any
 * case), everything else kept in order: the fragment, other parameters, and
 * the URL itself when it has no query. Empty parameters ("&&") are dropped
 * and a query left empty loses its '?'. Built-in SQL only: a recursive CTE
 * in a correlated subquery splits the query string at '&', evaluated only
 * for the rows a reader selects. NULL stays NULL.
 */
#define CLEAN_URL(x)                                                           \
	"(WITH RECURSIVE"                                                     \
	" u(main, frag) AS (SELECT CASE WHEN instr(" x ", '#') > 0"           \
	"   THEN substr(" x ", 1, instr(" x ", '#') - 1) ELSE " x " END,"     \
	"   CASE WHEN instr(" x ", '#') > 0"                                  \
	"   THEN substr(" x ", instr(" x ", '#')) ELSE '' END),"              \
	" q(rest, kept) AS (SELECT substr(main, instr(main, '?') + 1) || '&',"\
	"   '' FROM u WHERE instr(main, '?') > 0"                             \
	"  UNION ALL SELECT substr(rest, instr(rest, '&') + 1), kept ||"      \
	"   CASE WHEN instr(rest, '&') = 1"                                   \
	"    OR lower(substr(rest, 1, 4)) = 'utm_' THEN ''"                   \
	"   ELSE '&' || substr(rest, 1, instr(rest, '&') - 1) END"            \
	"   FROM q WHERE rest != '')"                                         \
	" SELECT coalesce((SELECT substr(main, 1, instr(main, '?') - 1) ||"   \
	"   CASE WHEN kept = '' THEN '' ELSE '?' || substr(kept, 2) END ||"   \
	"   frag FROM q, u WHERE rest = ''), " x "))"

/*
 * Additions to schema version 1 that consumers and the health surface use.
 * They only add objects (design.md: "more tables may be added; these
 * columns stay"), so they are created, when missing, at every writable
 * open and need no version bump. A change that alters existing columns
 * would raise user_version and migrate in one transaction.
 */
static const char SCHEMA_EXT[] =
    /* The My Videos listing of every account, with ISO 8601 dates. */
    "CREATE VIEW IF NOT EXISTS my_videos AS SELECT v.*,"
    "  " ISO8601("v.created_at") " AS created_at_iso,"
    "  " ISO8601("v.updated_at") " AS updated_at_iso"
    "  FROM videos v WHERE v.deleted_at IS NULL AND v.position IS NOT NULL"
    "  ORDER BY v.account, v.position;"
    /* Engagement history: a row only when a count changed. */
    "CREATE TABLE IF NOT EXISTS video_stats ("
    "  account TEXT NOT NULL, id TEXT NOT NULL,"
    "  observed_at INTEGER NOT NULL, total_views INTEGER,"
    "  total_likes INTEGER, total_comments INTEGER, total_shares INTEGER,"
    "  PRIMARY KEY (account, id, observed_at));"
    /* Every refresh attempt, and what each one changed. */
    "CREATE TABLE IF NOT EXISTS sync_runs ("
    "  id INTEGER PRIMARY KEY, account TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL, finished_at INTEGER, outcome TEXT,"
    "  requests INTEGER, new INTEGER, updated INTEGER, deleted INTEGER,"
    "  error TEXT);"
    "CREATE INDEX IF NOT EXISTS sync_runs_account"
    "  ON sync_runs (account, started_at);"
    /* Failures since the last success (ACCOUNT_COLS, after every
     * refresh): a range from the newest run back, not a scan of all. */
    "CREATE INDEX IF NOT EXISTS sync_runs_account_id"
    "  ON sync_runs (account, id);"
    "CREATE TABLE IF NOT EXISTS changes ("
    "  run_id INTEGER, account TEXT NOT NULL, id TEXT NOT NULL,"
    "  kind TEXT NOT NULL," /* new | updated | deleted | restored */
    "  fields TEXT);"
    "CREATE INDEX IF NOT EXISTS changes_run ON changes (run_id);"
    /* Links without TikTok's utm_* tracking parameters, in plain SQL so
     * that every reader (sqlite3, Datasette, Python) can query it. */
    "CREATE VIEW IF NOT EXISTS videos_clean AS SELECT v.*,"
    "  " CLEAN_URL("v.share_url") " AS share_url_clean,"
    "  " CLEAN_URL("v.embed_link") " AS embed_link_clean"
    "  FROM videos v;"
    /* Where each account's archive rotation goes on (internal). */
    "CREATE TABLE IF NOT EXISTS archive ("
    "  account TEXT PRIMARY KEY, cursor INTEGER NOT NULL);"
    /* The filters (filter_digest()) the archive's rows were listed
     * under (internal): other filters mean a whole new listing. */
    "CREATE TABLE IF NOT EXISTS listing_filters ("
    "  account TEXT PRIMARY KEY, digest TEXT NOT NULL);"
    /* Curated videos oEmbed refused at the account's last refresh, and
     * since when (internal): refused again at the next one, they are
     * treated as deleted. */
    "CREATE TABLE IF NOT EXISTS oembed_refusals ("
    "  account TEXT NOT NULL, id TEXT NOT NULL, since INTEGER NOT NULL,"
    "  PRIMARY KEY (account, id));";

/*
 * Schema version 2: full-text search where sqlite-utils and Datasette look
 * for it, an FTS5 table whose content= is videos, keyed by the videos
 * rowid (their `search` joins videos.rowid = videos_fts.rowid), kept
 * exact by triggers as sqlite-utils' enable_fts(create_triggers=True)
 * makes them. It replaces version 1's videos_fts over video_keys: one
 * index, not two. The mirror never runs VACUUM (which may renumber the
 * rowids of a table without INTEGER PRIMARY KEY); the snapshot export
 * rebuilds the index in its copy. Applied in one transaction at start.
 */
static const char SCHEMA_V2[] =
    "DROP TRIGGER IF EXISTS videos_fts_insert;"
    "DROP TRIGGER IF EXISTS videos_fts_update;"
    "DROP TRIGGER IF EXISTS videos_fts_delete;"
    "DROP TABLE IF EXISTS videos_fts;"
    "DROP TABLE IF EXISTS video_keys;"
    "CREATE VIRTUAL TABLE videos_fts USING fts5("
    "  title, description, content=[videos],"
    "  tokenize = 'unicode61 remove_diacritics 2');"
    "CREATE TRIGGER videos_ai AFTER INSERT ON videos BEGIN"
    "  INSERT INTO videos_fts (rowid, title, description)"
    "   VALUES (new.rowid, new.title, new.description);"
    " END;"
    "CREATE TRIGGER videos_ad AFTER DELETE ON videos BEGIN"
    "  INSERT INTO videos_fts (videos_fts, rowid, title, description)"
    "   VALUES ('delete', old.rowid, old.title, old.description);"
    " END;"
    /* Only a changed title or description touches the index. */
    "CREATE TRIGGER videos_au AFTER UPDATE OF title, description ON videos"
    " WHEN old.title IS NOT new.title"
    "  OR old.description IS NOT new.description BEGIN"
    "  INSERT INTO videos_fts (videos_fts, rowid, title, description)"
    "   VALUES ('delete', old.rowid, old.title, old.description);"
    "  INSERT INTO videos_fts (rowid, title, description)"
    "   VALUES (new.rowid, new.title, new.description);"
    " END;"
    "INSERT INTO videos_fts (videos_fts) VALUES ('rebuild');"
    "PRAGMA user_version = 2;";

/* What a refresh decided about a staged video's cover. */
enum cover_state {
	COVER_PENDING = 0,   /* not decided: keep the row's cover */
	COVER_NEW = 1,	     /* stage.cover names a new file */
	COVER_NONE = 2,	     /* no usable cover: NULL */
	COVER_EXPIRED = 3,   /* signed URL expired: ask video/query */
	COVER_REQUERIED = 4, /* fresh URL from video/query: fetch again */
	COVER_GONE = 5,	     /* video/query did not return it: keep */
};

/*
 * The staging table holds each field as TikTok sent it (NULL: absent), in
 * the columns of struct video: the cover as its signed URL, cover_url.
 */
#define STAGE_SQL_text "TEXT"
#define STAGE_SQL_int "INTEGER"
#define STAGE_DECL(n, key, kind)                                               \
	", " VF_STR(VF_API_NAME(n, kind)) " " VF_BY_TYPE(STAGE_SQL_, kind)   \
	    VF_IF_TIME(kind, " NOT NULL")
#define STAGE_NAME(n, key, kind) ", " VF_STR(VF_API_NAME(n, kind))
#define STAGE_MARK(n, key, kind) ",?"
#define STAGE_BIND_text "s"
#define STAGE_BIND_int "i"
#define STAGE_BIND(n, key, kind) VF_BY_TYPE(STAGE_BIND_, kind)
#define STAGE_ARG(n, key, kind) , v->VF_API_NAME(n, kind)

static const char TEMP_TABLES[] =
    "CREATE TEMP TABLE IF NOT EXISTS stage ("
    "  account TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  position INTEGER" VIDEO_FIELDS(STAGE_DECL) ", cover_src TEXT,"
    "  cover_state INTEGER NOT NULL DEFAULT 0," /* enum cover_state */
    "  cover TEXT,"
    "  PRIMARY KEY (account, id));"
    /*
     * The few staged rows the kept slice leaves out (listed before 'start'
     * or filtered): the apply looks them up, and counts the kept rows,
     * from the indexes alone, without reading any wide staged row.
     */
    "CREATE INDEX IF NOT EXISTS temp.stage_unkept ON stage (account, id)"
    "  WHERE position IS NULL;"
    /* Curated videos oEmbed refused in this refresh. */
    "CREATE TEMP TABLE IF NOT EXISTS refused ("
    "  account TEXT NOT NULL, id TEXT NOT NULL,"
    "  PRIMARY KEY (account, id));"
    "CREATE TEMP TABLE IF NOT EXISTS cand ("
    "  account TEXT NOT NULL, id TEXT NOT NULL,"
    "  checked INTEGER NOT NULL DEFAULT 0,"
    "  found INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (account, id));"
    /*
     * The apply's change detection, filled in one pass over the staged
     * rows and the stored ones: only the kept rows the upsert must write
     * (new, changed, deleted, or moved in the listing), with what the
     * change log and history need, so that nothing else re-reads the
     * staged and stored rows. Emptied at each apply (inside its
     * transaction: one account at a time).
     */
    "CREATE TEMP TABLE IF NOT EXISTS diff ("
    "  id TEXT PRIMARY KEY, is_new INTEGER NOT NULL,"
    "  was_deleted INTEGER NOT NULL,"
    "  fields TEXT," /* changed fields, "title,total_views"; NULL: none */
    "  counts INTEGER NOT NULL," /* a count differs, or new */
    "  total_views INTEGER, total_likes INTEGER, total_comments INTEGER,"
    "  total_shares INTEGER);";

/*
 * tm_keep(id, title, description): 1 when the account's filters keep the
 * video, judged by the filter of the statement running (s->filter). Only
 * this connection's own statements can call it (SQLITE_DIRECTONLY): it
 * is never part of the schema, so every other reader works without it.
 */
static void
sql_keep(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct store *s = sqlite3_user_data(ctx);

	(void)argc;
	sqlite3_result_int(ctx,
	    filter_check(s->filter, (const char *)sqlite3_value_text(argv[0]),
		(const char *)sqlite3_value_text(argv[1]),
		(const char *)sqlite3_value_text(argv[2]),
		NULL) == FILTER_KEEP);
}

static int
add_functions(struct store *s, char *err, size_t errlen)
{
	if (sqlite3_create_function(s->db->sql, "tm_keep", 3,
		SQLITE_UTF8 | SQLITE_DIRECTONLY, s, sql_keep, NULL,
		NULL) != SQLITE_OK)
		return db_err(s->db, err, errlen, "tm_keep");
	return 0;
}

/*
 * The schema version, or -1 with 'err'. A newer one than this program
 * knows is refused: only a newer tiktok-mirror can read it.
 */
static int64_t
schema_version(struct store *s, char *err, size_t errlen)
{
	int64_t v;

	if (db_get(s->db, err, errlen, "PRAGMA user_version", "", "i", &v) != 1)
		return -1;
	if (v > STORE_SCHEMA_VERSION) {
		s->permanent = 1;
		return errf(err, errlen,
		    "%s: schema version %lld is newer than this tiktok-mirror"
		    " understands (%d); install a newer tiktok-mirror",
		    s->db->path, (long long)v, STORE_SCHEMA_VERSION);
	}
	return v;
}

/*
 * Bring the schema from version 'v' to this program's, with the additions
 * that are missing, in one transaction: all of it or nothing.
 */
static int
migrate(struct store *s, int64_t v, char *err, size_t errlen)
{
	int64_t n;

	/* Version 0: a new file, or one with tables that are not ours. */
	if (v == 0 &&
	    (db_get(s->db, err, errlen, "SELECT count(*) FROM sqlite_master",
		 "", "i", &n) != 1 || n != 0)) {
		s->permanent = 1;
		return errf(err, errlen,
		    "%s: exists but is not a tiktok-mirror database",
		    s->db->path);
	}
	if (db_begin(s->db, 1, err, errlen) == -1)
		return -1;
	/* 0 -> 1 -> 2. */
	if ((v == 0 && db_script(s->db, SCHEMA_V1, err, errlen) == -1) ||
	    (v < 2 && db_script(s->db, SCHEMA_V2, err, errlen) == -1))
		return db_rollback(s->db);
	/* The cached avatar: a column added to accounts (NULL until then). */
	if (db_get(s->db, err, errlen,
		"SELECT count(*) FROM pragma_table_info('accounts')"
		" WHERE name = 'avatar'",
		"", "i", &n) != 1 ||
	    (n == 0 &&
		db_script(s->db, "ALTER TABLE accounts ADD COLUMN avatar TEXT",
		    err, errlen) == -1) ||
	    db_script(s->db, SCHEMA_EXT, err, errlen) == -1 ||
	    db_commit(s->db, err, errlen) == -1)
		return db_rollback(s->db);
	return 0;
}

/* SQLite results that no restart can cure: the file is bad or read-only. */
static int
permanent_code(int code)
{
	switch (code & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
	case SQLITE_AUTH:
		return 1;
	}
	return 0;
}

/*
 * PRAGMA quick_check: 0 when the file is sound, else -1 with 'err' saying
 * what SQLite found and what to do.
 */
static int
quick_check(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char found[200];
	int rc;

	st = db_prep(s->db, NULL, 0, "PRAGMA quick_check(1)", "");
	if (st == NULL)
		return db_err(s->db, err, errlen, "quick_check");
	/* Its verdict, or why it could not give one. */
	rc = db_step(s->db, st, NULL, 0);
	snprintf(found, sizeof(found), "%s",
	    rc == 1 ? db_col_text(st, 0) : sqlite3_errmsg(s->db->sql));
	db_release(s->db, st);
	if (rc == 1 && strcmp(found, "ok") == 0)
		return 0;
	s->permanent = 1;
	return errf(err, errlen,
	    "%s: the mirror database is damaged (quick_check: %s); stop "
	    "tiktok-mirror, keep a copy of the file, then restore it from a "
	    "backup or recover it: sqlite3 %s .recover | sqlite3 recovered.db,"
	    " and put recovered.db in its place",
	    s->db->path, found, s->db->path);
}

struct store *
store_open_ex(const char *path, int flags, int *permanent, char *err,
    size_t errlen)
{
	struct store *s;
	int fd, one = 1, code;
	int64_t v;

	if (permanent != NULL)
		*permanent = 0;
	/*
	 * Create the file ourselves, so that SQLite finds it. Its mode is
	 * 0644 less the umask, as for the covers and the metrics file, so
	 * they are all readable by the same users (the units' UMask=0027:
	 * the service's group) and written by the owner only; SQLite gives
	 * -wal and -shm the mode of the database. An existing file keeps
	 * the mode its owner chose.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
	    0644);
	if (fd == -1) {
		if (permanent != NULL)
			*permanent = errno == EACCES || errno == EPERM ||
			    errno == EROFS || errno == ELOOP;
		errf(err, errlen, "%s: cannot open the mirror database: %s",
		    path, strerror(errno));
		return NULL;
	}
	close(fd);
	s = xcalloc(1, sizeof(*s));
	if ((s->db = db_open(path, 0, STORE_BUSY_MS, err, errlen)) == NULL ||
	    add_functions(s, err, errlen) == -1)
		goto fail;
	/*
	 * Refuse a newer schema before anything is changed in the file (not
	 * even its journal mode): the newer tiktok-mirror that wrote it
	 * must find it as it left it.
	 */
	if ((v = schema_version(s, err, errlen)) == -1)
		goto fail;
	if ((flags & STORE_QUICK_CHECK) && quick_check(s, err, errlen) == -1)
		goto fail;
	if (db_script(s->db,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		" PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864;"
		" PRAGMA temp_store=FILE; PRAGMA temp.journal_mode=MEMORY;"
		" PRAGMA temp.cache_size=-256;",
		err, errlen) == -1)
		goto fail;
	(void)sqlite3_file_control(s->db->sql, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &one);
	if (migrate(s, v, err, errlen) == -1 ||
	    db_script(s->db, TEMP_TABLES, err, errlen) == -1)
		goto fail;
	return s;
fail:
	code = s->db != NULL ? sqlite3_extended_errcode(s->db->sql) : SQLITE_OK;
	if (permanent != NULL)
		*permanent = s->permanent || permanent_code(code);
	store_close(s);
	return NULL;
}

struct store *
store_open_ro(const char *path, char *err, size_t errlen)
{
	struct store *s;
	int64_t v;

	if (access(path, F_OK) == -1) {
		errf(err, errlen,
		    "%s: no mirror yet; run: tiktok-mirror sync", path);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	if ((s->db = db_open(path, DB_READONLY, 5000, err, errlen)) == NULL ||
	    add_functions(s, err, errlen) == -1 ||
	    (v = schema_version(s, err, errlen)) == -1)
		goto fail;
	/* A reader reads version 1 as it is, until the writer migrates. */
	if (v == 0) {
		errf(err, errlen,
		    "%s: not a tiktok-mirror database (yet); run: "
		    "tiktok-mirror sync",
		    path);
		goto fail;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	db_close(s->db);
	free(s);
}

/* Indexed by enum account_state: the names the database holds. */
static const char *const STATE_NAMES[ACCOUNT_NSTATES] = {"ok",
    "needs_auth", "error"};

const char *
store_state_name(enum account_state st)
{
	return (unsigned)st < ACCOUNT_NSTATES ? STATE_NAMES[st] : "error";
}

static enum account_state
state_of(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < ACCOUNT_NSTATES; i++)
		if (strcmp(name, STATE_NAMES[i]) == 0)
			return (enum account_state)i;
	return ACCOUNT_ERROR;
}

int
store_account_ensure(struct store *s, const char *name, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "INSERT OR IGNORE INTO accounts (name, state)"
	    " VALUES (?, 'needs_auth')",
	    "s", name);
}

#define ACCOUNT_COLS                                                           \
	"a.name, a.open_id, a.display_name, a.state, a.last_error,"          \
	" a.last_attempt_at, a.last_success_at, a.next_sync_at,"             \
	" a.token_expires_at, a.refresh_expires_at,"                         \
	" (SELECT count(*) FROM videos v WHERE v.account = a.name"           \
	"   AND v.deleted_at IS NULL),"                                      \
	" (SELECT count(*) FROM sync_runs r WHERE r.account = a.name"        \
	"   AND r.outcome != 'ok' AND r.id > coalesce((SELECT o.id"          \
	"   FROM sync_runs o WHERE o.account = a.name"                       \
	"   AND o.outcome = 'ok' ORDER BY o.id DESC LIMIT 1), 0)), a.avatar,"  \
	" (SELECT CASE WHEN r.finished_at IS NULL THEN r.error END"          \
	"   FROM sync_runs r WHERE r.account = a.name"                       \
	"   ORDER BY r.id DESC LIMIT 1)"

static void
account_row(sqlite3_stmt *st, struct store_account *a)
{
	const char *state;

	db_row(st, "ssstsiiiiiiiss", &a->name, &a->open_id, &a->display_name,
	    &state, &a->last_error, &a->last_attempt_at, &a->last_success_at,
	    &a->next_sync_at, &a->token_expires_at, &a->refresh_expires_at,
	    &a->videos, &a->failures, &a->avatar, &a->activity);
	a->state = state_of(state);
}

int
store_account_get(struct store *s, const char *name, struct store_account *a,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	memset(a, 0, sizeof(*a));
	st = db_prep(s->db, err, errlen,
	    "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.name = ?", "s",
	    name);
	if ((rc = db_step(s->db, st, err, errlen)) == 1)
		account_row(st, a);
	db_release(s->db, st);
	return rc == -1 ? -1 : !rc;
}

void
store_account_clear(struct store_account *a)
{
	free(a->name);
	free(a->open_id);
	free(a->display_name);
	free(a->last_error);
	free(a->avatar);
	free(a->activity);
	memset(a, 0, sizeof(*a));
}

int
store_accounts_each(struct store *s,
    int (*cb)(const struct store_account *, void *), void *arg, char *err,
    size_t errlen)
{
	struct store_account a;
	sqlite3_stmt *st;
	int rc, stop = 0;

	st = db_prep(s->db, err, errlen,
	    "SELECT " ACCOUNT_COLS " FROM accounts a ORDER BY a.name", "");
	while (!stop && (rc = db_step(s->db, st, err, errlen)) == 1) {
		account_row(st, &a);
		stop = cb(&a, arg) == -1;
		store_account_clear(&a);
	}
	db_release(s->db, st);
	return rc == -1 ? -1 : 0;
}

int
store_account_attempt(struct store *s, const char *name, int64_t now,
    char *err, size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE accounts SET last_attempt_at = ? WHERE name = ?", "is",
	    now, name);
}

int
store_account_fail(struct store *s, const char *name,
    enum account_state state, const char *error, int64_t next_sync_at,
    char *err, size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE accounts SET state = ?, last_error = ?,"
	    " next_sync_at = coalesce(?, next_sync_at) WHERE name = ?",
	    "ssis", store_state_name(state), error, next_sync_at, name);
}

int
store_account_next(struct store *s, const char *name, int64_t at, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE accounts SET next_sync_at = ?1 WHERE name = ?2"
	    " AND next_sync_at IS NOT ?1",
	    "is", at, name);
}

int
store_account_tokens(struct store *s, const char *name,
    int64_t token_expires_at, int64_t refresh_expires_at, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE accounts SET token_expires_at = ?,"
	    " refresh_expires_at = ? WHERE name = ?"
	    " AND (token_expires_at IS NOT ?1"
	    "      OR refresh_expires_at IS NOT ?2)",
	    "iis", token_expires_at, refresh_expires_at, name);
}

int
store_stage_begin(struct store *s, const char *account, char *err,
    size_t errlen)
{
	if (db_exec(s->db, err, errlen, NULL,
		"DELETE FROM stage WHERE account = ?", "s", account) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"DELETE FROM refused WHERE account = ?", "s", account) == -1)
		return -1;
	return db_exec(s->db, err, errlen, NULL,
	    "DELETE FROM cand WHERE account = ?", "s", account);
}

int
store_begin(struct store *s, char *err, size_t errlen)
{
	return db_in_transaction(s->db) ? 0 : db_begin(s->db, 0, err, errlen);
}

int
store_commit(struct store *s, char *err, size_t errlen)
{
	return db_in_transaction(s->db) ? db_commit(s->db, err, errlen) : 0;
}

int
store_stage_add(struct store *s, const char *account, int64_t seq,
    int64_t position, const struct video *v, const char *cover_src,
    char *err, size_t errlen)
{
	int64_t n;

	if (db_exec(s->db, err, errlen, &n,
		"INSERT OR IGNORE INTO stage (account, id, seq, position"
		VIDEO_FIELDS(STAGE_NAME) ", cover_src) VALUES (?,?,?,?"
		VIDEO_FIELDS(STAGE_MARK) ",?)",
		"ssii" VIDEO_FIELDS(STAGE_BIND) "s", account, v->id, seq,
		position VIDEO_FIELDS(STAGE_ARG), cover_src) == -1)
		return -1;
	/* Already staged by this refresh: the first place stands. */
	return n == 0 ? 1 : 0;
}

int
store_stage_covers(struct store *s, const char *account, int pass,
    const char *after, struct store_cover_item *items, int max, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	const char *id;
	int64_t same;
	int n = 0, rc = 0;

	st = db_prep(s->db, err, errlen,
	    "SELECT s.id, s.cover_url, v.cover,"
	    " c.src IS NOT NULL AND c.src = s.cover_src"
	    " FROM stage s"
	    " LEFT JOIN videos v ON v.account = s.account AND v.id = s.id"
	    " LEFT JOIN cover_sources c ON c.account = s.account"
	    "   AND c.id = s.id"
	    /* Ids are digits: ':' sorts after each of them. A range the
	     * index can seek, where "?2 IS NULL OR ..." read every row
	     * above 'after' again at each page: n²/32 steps an account. */
	    " WHERE s.account = ?1 AND s.id < coalesce(?2, ':')"
	    " AND s.position IS NOT NULL"
	    " AND s.cover_state = ?3 ORDER BY s.id DESC LIMIT ?4",
	    "ssii", account, after,
	    (int64_t)(pass == 1 ? COVER_PENDING : COVER_REQUERIED),
	    (int64_t)max);
	while (n < max && (rc = db_step(s->db, st, err, errlen)) == 1) {
		struct store_cover_item *it = &items[n++];

		memset(it, 0, sizeof(*it));
		db_row(st, "tssi", &id, &it->url, &it->cover, &same);
		snprintf(it->id, sizeof(it->id), "%s", id ? id : "");
		it->same_src = same == 1;
	}
	db_release(s->db, st);
	if (rc == -1) {
		while (n > 0)
			store_cover_item_clear(&items[--n]);
		return -1;
	}
	return n;
}

void
store_cover_item_clear(struct store_cover_item *it)
{
	free(it->url);
	free(it->cover);
	memset(it, 0, sizeof(*it));
}

/*
 * Take up to 'max' ids: 'select' (?1 account, ?2 'from', ?3 max) picks
 * them, 'update' (?1 account, ?2 id, ?3 'to') marks each one taken.
 * Returns the count, or -1.
 */
static int
take_ids(struct store *s, const char *account, const char *select,
    const char *update, int64_t from, int64_t to, char (*ids)[21], int max,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *id;
	int n = 0, i, rc = 0;

	st = db_prep(s->db, err, errlen, select, "sii", account, from,
	    (int64_t)max);
	while (n < max && (rc = db_step(s->db, st, err, errlen)) == 1) {
		id = db_col_text(st, 0);
		snprintf(ids[n++], 21, "%s", id ? id : "");
	}
	db_release(s->db, st);
	if (rc == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (db_exec(s->db, err, errlen, NULL, update, "ssi", account,
			ids[i], to) == -1)
			return -1;
	return n;
}

int
store_stage_expired(struct store *s, const char *account, const char *id,
    char *err, size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE stage SET cover_state = ? WHERE account = ? AND id = ?",
	    "iss", (int64_t)COVER_EXPIRED, account, id);
}

int
store_stage_expired_next(struct store *s, const char *account,
    char (*ids)[21], int max, char *err, size_t errlen)
{
	return take_ids(s, account,
	    "SELECT id FROM stage WHERE account = ?1 AND cover_state = ?2"
	    " ORDER BY id DESC LIMIT ?3",
	    "UPDATE stage SET cover_state = ?3 WHERE account = ?1 AND id = ?2",
	    COVER_EXPIRED, COVER_GONE, ids, max, err, errlen);
}

int
store_stage_set_cover(struct store *s, const char *account, const char *id,
    const char *rel, char *err, size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE stage SET cover_state = ?, cover = ?"
	    " WHERE account = ? AND id = ?",
	    "isss", (int64_t)(rel ? COVER_NEW : COVER_NONE), rel, account,
	    id);
}

int
store_stage_set_url(struct store *s, const char *account, const char *id,
    const char *url, char *err, size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE stage SET cover_url = ?, cover_state = ?"
	    " WHERE account = ? AND id = ?",
	    "siss", url, (int64_t)COVER_REQUERIED, account, id);
}

int
store_stage_candidates(struct store *s, const char *account, int64_t lo,
    int64_t hi, int more, int64_t *live, char *err, size_t errlen)
{
	int64_t n;

	if (hi == STORE_NULL)
		hi = INT64_MAX;
	if (db_get(s->db, err, errlen,
		"SELECT count(*) FROM videos WHERE account = ?"
		" AND deleted_at IS NULL AND created_at >= ? AND created_at < ?",
		"sii", account, lo, hi, "i", &n) != 1)
		return -1;
	*live = more ? *live + n : n;
	if (!more && db_exec(s->db, err, errlen, NULL,
			 "DELETE FROM cand WHERE account = ?", "s",
			 account) == -1)
		return -1;
	if (db_exec(s->db, err, errlen, NULL,
		"INSERT OR IGNORE INTO cand (account, id)"
		" SELECT account, id"
		" FROM videos v WHERE account = ?1 AND deleted_at IS NULL"
		" AND created_at >= ?2 AND created_at < ?3"
		" AND NOT EXISTS (SELECT 1 FROM stage s"
		"   WHERE s.account = v.account AND s.id = v.id)",
		"sii", account, lo, hi) == -1)
		return -1;
	return (int)sqlite3_changes(s->db->sql);
}

int
store_candidates_next(struct store *s, const char *account, char (*ids)[21],
    int max, char *err, size_t errlen)
{
	return take_ids(s, account,
	    "SELECT id FROM cand WHERE account = ?1 AND checked = ?2"
	    " ORDER BY id LIMIT ?3",
	    "UPDATE cand SET checked = ?3 WHERE account = ?1 AND id = ?2", 0, 1,
	    ids, max, err, errlen);
}

int
store_candidate_found(struct store *s, const char *account, const char *id,
    char *err, size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE cand SET found = 1 WHERE account = ? AND id = ?", "ss",
	    account, id);
}

int
store_candidates_missing(struct store *s, const char *account, char *err,
    size_t errlen)
{
	int64_t n;

	if (db_get(s->db, err, errlen,
		"SELECT count(*) FROM cand WHERE account = ? AND checked = 1"
		" AND found = 0",
		"s", account, "i", &n) != 1)
		return -1;
	return (int)n;
}

int
store_stage_refused(struct store *s, const char *account, const char *id,
    char *err, size_t errlen)
{
	int64_t before, live;

	if (db_exec(s->db, err, errlen, NULL,
		"INSERT OR IGNORE INTO refused (account, id) VALUES (?, ?)",
		"ss", account, id) == -1)
		return -1;
	if (db_get(s->db, err, errlen,
		"SELECT EXISTS (SELECT 1 FROM oembed_refusals"
		"  WHERE account = ?1 AND id = ?2),"
		" EXISTS (SELECT 1 FROM videos WHERE account = ?1 AND id = ?2"
		"  AND deleted_at IS NULL)",
		"ss", account, id, "ii", &before, &live) == -1)
		return -1;
	if (!before)
		return 0;
	if (!live)
		return 2;
	/* A confirmed disappearance, as video/query's would be. */
	if (db_exec(s->db, err, errlen, NULL,
		"INSERT OR REPLACE INTO cand (account, id, checked, found)"
		" VALUES (?, ?, 1, 0)",
		"ss", account, id) == -1)
		return -1;
	return 1;
}

int
store_curated_live(struct store *s, const char *account, int64_t *live,
    char *err, size_t errlen)
{
	if (db_get(s->db, err, errlen,
		"SELECT count(*) FROM videos WHERE account = ?1"
		" AND deleted_at IS NULL AND (id IN (SELECT id FROM stage"
		"  WHERE account = ?1) OR id IN (SELECT id FROM refused"
		"  WHERE account = ?1))",
		"s", account, "i", live) != 1)
		return -1;
	return 0;
}

/*
 * The values a staged row would give the video: what TikTok sent, or what
 * the mirror has when TikTok left a field out (nothing is ever blanked).
 */
#define STAGED_TEXT(n) "coalesce(s." #n ", v." #n ", '')"
#define STAGED_HTML(n) "coalesce(s." #n ", v." #n ")"
#define STAGED_URL STAGED_HTML
#define STAGED_COVER(n)                                                        \
	"CASE s.cover_state WHEN 1 THEN s.cover WHEN 2 THEN NULL"             \
	" ELSE v.cover END"
#define STAGED_TIME(n) "s." #n
#define STAGED_INT STAGED_HTML
#define STAGED_COUNT STAGED_HTML
#define STAGED_VALUE(n, key, kind) ", " STAGED_##kind(n) " AS " #n
#define STAGED_VALUES                                                          \
	"s.account AS account, s.id AS id, s.position AS position"            \
	VIDEO_FIELDS(STAGED_VALUE)

#define VIDEO_COL(n, key, kind) ", " #n
#define VIDEO_COLS "account, id, position" VIDEO_FIELDS(VIDEO_COL)

/* True (in the upsert) when a video's own values differ. */
#define FIELD_DIFFERS(n, key, kind) " OR " #n " IS NOT excluded." #n
#define FIELDS_DIFFER "(false" VIDEO_FIELDS(FIELD_DIFFERS) ")"

/*
 * A staged row's values (their STAGED_ expressions over s and v) against
 * the stored row (v), in one join of the stage to the videos.
 */
#define STAGED_DIFFERS_1(n, key, kind)                                         \
	" OR " STAGED_##kind(n) " IS NOT v." #n
#define STAGED_DIFFERS "(false" VIDEO_FIELDS(STAGED_DIFFERS_1) ")"

/* The names of the fields that differ, "title,total_views". */
#define CHANGED_FIELD(n, key, kind)                                            \
	" || CASE WHEN " STAGED_##kind(n) " IS NOT v." #n " THEN '" #n        \
	",' ELSE '' END"
#define CHANGED_FIELDS "rtrim(''" VIDEO_FIELDS(CHANGED_FIELD) ", ',')"

/* The upsert's assignments of every field. */
#define SET_FIELD(n, key, kind) ", " #n " = excluded." #n

/* The kept staged rows (s) and their stored rows (v, NULL when new). */
#define STAGED_JOIN                                                            \
	" FROM stage s LEFT JOIN videos v"                                    \
	" ON v.account = s.account AND v.id = s.id"                           \
	" WHERE s.account = ?1 AND s.position IS NOT NULL"

#define COUNTS_DIFFER                                                          \
	"(" STAGED_COUNT(total_views) " IS NOT v.total_views"                 \
	" OR " STAGED_COUNT(total_likes) " IS NOT v.total_likes"              \
	" OR " STAGED_COUNT(total_comments) " IS NOT v.total_comments"        \
	" OR " STAGED_COUNT(total_shares) " IS NOT v.total_shares)"

/*
 * Positions under the archive rotation: the rank of each live video among
 * the mirror's (newest first), since this refresh listed only the head and
 * one window of the archive. Videos listed before 'start' or left out by
 * the filters (staged without a position), and mirrored rows the filters
 * leave out (tm_keep(), s->filter), are not ranked. Only rows whose
 * position changes are written.
 */
static int
rotate_positions(struct store *s, const char *account,
    const struct store_apply *a, char *err, size_t errlen)
{
	/* Without filters every row is kept: no row's text is read. */
	int64_t keep_all = filter_empty(a->filter);
	int rc = -1;

	s->filter = a->filter;
	/* The ranking reads each row's position too: only the rows whose
	 * position changes are looked up again, by rowid. */
	if (db_exec(s->db, err, errlen, NULL,
		"UPDATE videos SET position = r.pos FROM (SELECT rid, pos FROM"
		" (SELECT rid, cur,"
		"  CASE WHEN ?2 < 0 OR rn <= ?2 THEN rn END AS pos FROM ("
		"   SELECT rowid AS rid, position AS cur, row_number() OVER"
		"    (ORDER BY created_at DESC, id DESC) AS rn"
		"   FROM videos WHERE account = ?1 AND deleted_at IS NULL"
		"   AND (?3 IS NULL OR created_at * 1000 < ?3)"
		"   AND id NOT IN (SELECT id FROM stage WHERE account = ?1"
		"    AND position IS NULL)"
		"   AND (?4 OR tm_keep(id, title, description))))"
		" WHERE cur IS NOT pos) AS r"
		" WHERE videos.rowid = r.rid",
		"siii", account, a->quantity, a->before_ms, keep_all) == -1)
		goto out;
	/* Listed before 'start', filtered, or no longer live: not in the
	 * slice. */
	rc = db_exec(s->db, err, errlen, NULL,
	    "UPDATE videos SET position = NULL WHERE account = ?1"
	    " AND position IS NOT NULL AND (deleted_at IS NOT NULL"
	    " OR id IN (SELECT id FROM stage WHERE account = ?1"
	    "  AND position IS NULL)"
	    " OR NOT (?2 OR tm_keep(id, title, description)))",
	    "si", account, keep_all);
out:
	s->filter = NULL;
	return rc;
}

int
store_archive_cursor(struct store *s, const char *account,
    const char *digest, int64_t *cursor, char *err, size_t errlen)
{
	*cursor = -1;
	if (db_get(s->db, err, errlen,
		"SELECT cursor FROM archive WHERE account = ?1"
		" AND coalesce((SELECT digest FROM listing_filters"
		"  WHERE account = ?1), '') = ?2",
		"ss", account, digest, "i", cursor) == -1)
		return -1;
	return 0;
}

static int
apply_tx(struct store *s, const char *account, const struct store_apply *a,
    struct store_counts *c, char *err, size_t errlen)
{
	int64_t run = a->run_id ? a->run_id : STORE_NULL, n, kept;

	if (a->apply_deletions) {
		if (db_exec(s->db, err, errlen, &c->deleted,
			"INSERT INTO changes (run_id, account, id, kind)"
			" SELECT ?3, account, id, 'deleted' FROM videos"
			" WHERE account = ?1 AND deleted_at IS NULL"
			" AND id IN (SELECT id FROM cand WHERE account = ?1"
			"   AND checked = 1 AND found = 0)",
			"sii", account, a->now, run) == -1 ||
		    db_exec(s->db, err, errlen, NULL,
			"UPDATE videos SET deleted_at = ?2, position = NULL"
			" WHERE account = ?1 AND deleted_at IS NULL"
			" AND id IN (SELECT id FROM cand WHERE account = ?1"
			"   AND checked = 1 AND found = 0)",
			"si", account, a->now) == -1)
			return -1;
	}
	/*
	 * One pass over the kept staged rows and their stored rows finds
	 * what the upsert must write; everything below reads that.
	 */
	if (db_script(s->db, "DELETE FROM diff", err, errlen) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"INSERT INTO diff (id, is_new, was_deleted, fields, counts,"
		" total_views, total_likes, total_comments, total_shares)"
		" SELECT s.id, v.id IS NULL, v.deleted_at IS NOT NULL,"
		" CASE WHEN v.id IS NOT NULL AND " STAGED_DIFFERS
		"  THEN " CHANGED_FIELDS " END,"
		" v.id IS NULL OR " COUNTS_DIFFER ", "
		STAGED_COUNT(total_views) ", " STAGED_COUNT(total_likes) ", "
		STAGED_COUNT(total_comments) ", " STAGED_COUNT(total_shares)
		STAGED_JOIN " AND (v.id IS NULL OR v.deleted_at IS NOT NULL"
		" OR " STAGED_DIFFERS
		" OR (NOT ?2 AND v.position IS NOT s.position))",
		"si", account, (int64_t)a->rotating) == -1)
		return -1;
	/* The change log and history, from what the upsert is about to do. */
	if (db_exec(s->db, err, errlen, &c->new,
		"INSERT INTO changes (run_id, account, id, kind)"
		" SELECT ?2, ?1, id, 'new' FROM diff WHERE is_new",
		"si", account, run) == -1 ||
	    db_exec(s->db, err, errlen, &c->updated,
		"INSERT INTO changes (run_id, account, id, kind, fields)"
		" SELECT ?2, ?1, id, 'updated', fields FROM diff"
		" WHERE fields IS NOT NULL",
		"si", account, run) == -1 ||
	    db_exec(s->db, err, errlen, &c->restored,
		"INSERT INTO changes (run_id, account, id, kind)"
		" SELECT ?2, ?1, id, 'restored' FROM diff WHERE was_deleted",
		"si", account, run) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"INSERT OR IGNORE INTO video_stats (account, id, observed_at,"
		" total_views, total_likes, total_comments, total_shares)"
		" SELECT ?1, id, ?2, total_views, total_likes,"
		" total_comments, total_shares FROM diff WHERE counts",
		"si", account, a->now) == -1)
		return -1;
	/* Kept rows, and those the upsert writes: the rest stay as they are. */
	if (db_get(s->db, err, errlen,
		"SELECT (SELECT count(*) FROM stage WHERE account = ?1)"
		"  - (SELECT count(*) FROM stage WHERE account = ?1"
		"  AND position IS NULL),"
		" (SELECT count(*) FROM diff WHERE is_new OR was_deleted"
		"  OR fields IS NOT NULL)",
		"s", account, "ii", &kept, &n) != 1)
		return -1;
	c->unchanged = kept - n;
	if (db_exec(s->db, err, errlen, NULL,
		"INSERT INTO videos (" VIDEO_COLS
		", first_seen_at, updated_at, deleted_at)"
		" SELECT x.*, ?2, ?2, NULL FROM (SELECT " STAGED_VALUES
		"  FROM diff d JOIN stage s ON s.account = ?1 AND s.id = d.id"
		"  LEFT JOIN videos v ON v.account = s.account"
		"  AND v.id = s.id) AS x WHERE true"
		" ON CONFLICT (account, id) DO UPDATE SET"
		" position = CASE WHEN ?3 THEN position"
		"   ELSE excluded.position END" VIDEO_FIELDS(SET_FIELD)
		", deleted_at = NULL,"
		" updated_at = CASE WHEN " FIELDS_DIFFER
		" THEN excluded.updated_at ELSE updated_at END"
		" WHERE " FIELDS_DIFFER
		" OR (NOT ?3 AND position IS NOT excluded.position)"
		" OR deleted_at IS NOT NULL",
		"sii", account, a->now, (int64_t)a->rotating) == -1)
		return -1;
	/* A deleted video listed again outside the kept slice is alive. */
	if (db_exec(s->db, err, errlen, &n,
		"UPDATE videos SET deleted_at = NULL WHERE account = ?1"
		" AND deleted_at IS NOT NULL AND id IN (SELECT id FROM stage"
		"  WHERE account = ?1 AND position IS NULL)",
		"s", account) == -1)
		return -1;
	c->restored += n;
	if (a->rotating) {
		if (rotate_positions(s, account, a, err, errlen) == -1)
			return -1;
	} else {
		/*
		 * Rows that fell out of the slice keep their values. Every kept
		 * row now has its listed position, so there are some only when
		 * more rows than the kept ones have a position (an index-only
		 * count, against a lookup per row).
		 */
		if (db_get(s->db, err, errlen,
			"SELECT count(*) FROM videos WHERE account = ?"
			" AND position IS NOT NULL",
			"s", account, "i", &n) != 1 ||
		    (n != kept &&
			db_exec(s->db, err, errlen, NULL,
			    "UPDATE videos SET position = NULL"
			    " WHERE account = ?1 AND position IS NOT NULL"
			    " AND NOT EXISTS (SELECT 1 FROM stage s"
			    " WHERE s.account = ?1 AND s.id = videos.id"
			    " AND s.position IS NOT NULL)",
			    "s", account) == -1))
			return -1;
	}
	if (a->archive_cursor >= 0) {
		if (db_exec(s->db, err, errlen, NULL,
			"INSERT OR REPLACE INTO archive (account, cursor)"
			" VALUES (?, ?)",
			"si", account, a->archive_cursor) == -1 ||
		    db_exec(s->db, err, errlen, NULL,
			"INSERT OR REPLACE INTO listing_filters"
			" (account, digest) VALUES (?, ?)",
			"ss", account,
			a->filter_digest ? a->filter_digest : "") == -1)
			return -1;
	}
	/* The refusals of this refresh replace the last one's. */
	if (db_exec(s->db, err, errlen, NULL,
		"DELETE FROM oembed_refusals WHERE account = ?1 AND id NOT IN"
		" (SELECT id FROM refused WHERE account = ?1)",
		"s", account) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"INSERT OR IGNORE INTO oembed_refusals (account, id, since)"
		" SELECT account, id, ?2 FROM refused WHERE account = ?1",
		"si", account, a->now) == -1)
		return -1;
	if (db_exec(s->db, err, errlen, NULL,
		"INSERT OR REPLACE INTO cover_sources (account, id, src)"
		" SELECT account, id, cover_src FROM stage"
		" WHERE account = ? AND cover_state = 1"
		" AND cover_src IS NOT NULL",
		"s", account) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		/*
		 * A cover can only have gone with a row that changed: the
		 * diff's rows first (CROSS JOIN), where SQLite chose to read
		 * every row of the account.
		 */
		"DELETE FROM cover_sources WHERE account = ?1 AND id IN"
		" (SELECT d.id FROM diff d CROSS JOIN videos v"
		"  ON v.account = ?1 AND v.id = d.id WHERE v.cover IS NULL)",
		"s", account) == -1)
		return -1;
	if (a->avatar != NULL &&
	    db_exec(s->db, err, errlen, NULL,
		"INSERT OR REPLACE INTO cover_sources (account, id, src)"
		" VALUES (?, '" STORE_AVATAR_KEY "', ?)",
		"ss", account, a->avatar_src ? a->avatar_src : "") == -1)
		return -1;
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE accounts SET state = 'ok', last_error = NULL,"
	    " last_success_at = ?2, next_sync_at = ?3,"
	    " open_id = coalesce(?4, open_id),"
	    " display_name = coalesce(?5, display_name),"
	    " token_expires_at = ?6, refresh_expires_at = ?7,"
	    " avatar = coalesce(?8, avatar)"
	    " WHERE name = ?1",
	    "siissiis", account, a->now, a->next_sync_at, a->open_id,
	    a->display_name, a->token_expires_at, a->refresh_expires_at,
	    a->avatar);
}

/* Report the change log rows past 'after' (a dry run's, before rollback). */
static int
report_changes(struct store *s, int64_t after, const struct store_apply *a,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prep(s->db, err, errlen,
	    "SELECT id, kind, fields FROM changes WHERE rowid > ?"
	    " ORDER BY rowid",
	    "i", after);
	while ((rc = db_step(s->db, st, err, errlen)) == 1)
		a->change(db_col_text(st, 0), db_col_text(st, 1),
		    db_col_text(st, 2), a->change_arg);
	db_release(s->db, st);
	return rc == -1 ? -1 : 0;
}

int
store_apply(struct store *s, const char *account, const struct store_apply *a,
    struct store_counts *out, char *err, size_t errlen)
{
	struct store_counts c = {0};
	int64_t mark = 0;

	if (db_begin(s->db, 1, err, errlen) == -1)
		return -1;
	if (a->dry_run) {
		/*
		 * Everything below happens as for real, then ROLLBACK. The
		 * accounts row a new account would get is made here too, so
		 * that nothing outside this transaction is written.
		 */
		if (db_get(s->db, err, errlen,
			"SELECT coalesce(max(rowid), 0) FROM changes", "", "i",
			&mark) != 1 ||
		    store_account_ensure(s, account, err, errlen) == -1 ||
		    apply_tx(s, account, a, &c, err, errlen) == -1 ||
		    (a->change != NULL &&
			report_changes(s, mark, a, err, errlen) == -1))
			return db_rollback(s->db);
		if (db_script(s->db, "ROLLBACK", err, errlen) == -1)
			return -1;
	} else if (apply_tx(s, account, a, &c, err, errlen) == -1 ||
	    db_commit(s->db, err, errlen) == -1) {
		return db_rollback(s->db);
	}
	if (out != NULL)
		*out = c;
	(void)store_stage_begin(s, account, NULL, 0);
	return 0;
}

int64_t
store_run_begin(struct store *s, const char *account, int64_t now, char *err,
    size_t errlen)
{
	if (db_exec(s->db, err, errlen, NULL,
		"INSERT INTO sync_runs (account, started_at) VALUES (?, ?)",
		"si", account, now) == -1)
		return -1;
	return sqlite3_last_insert_rowid(s->db->sql);
}

int
store_run_note(struct store *s, int64_t run, const char *note, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE sync_runs SET error = ?2 WHERE id = ?1"
	    " AND finished_at IS NULL",
	    "is", run, note);
}

int
store_run_end(struct store *s, int64_t run, int64_t now,
    enum account_state outcome, int64_t requests,
    const struct store_counts *c, const char *error, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE sync_runs SET finished_at = ?2, outcome = ?3,"
	    " requests = ?4, new = ?5, updated = ?6, deleted = ?7, error = ?8"
	    " WHERE id = ?1",
	    "iisiiiis", run, now, store_state_name(outcome), requests,
	    c ? c->new : STORE_NULL,
	    c ? c->updated + c->restored : STORE_NULL,
	    c ? c->deleted : STORE_NULL, error);
}

int
store_retention(struct store *s, int64_t now, char *err, size_t errlen)
{
	int64_t full = now - STORE_STATS_FULL_DAYS * 86400;
	int64_t runs = now - STORE_RUNS_DAYS * 86400;
	/*
	 * Points are only ever added at the present, so what an earlier pass
	 * thinned stays thinned: after the first pass of this process, look
	 * only at the points that have aged past the limit since (and the
	 * day before, which the last limit may have cut in two) rather than
	 * at the whole history every day.
	 */
	int64_t from = s->thinned > 86400 ? s->thinned - 86400 : 0;

	if (db_begin(s->db, 1, err, errlen) == -1)
		return -1;
	/* Older points: keep the last one of each UTC day per video. */
	if (db_exec(s->db, err, errlen, NULL,
		"DELETE FROM video_stats WHERE observed_at < ?1"
		" AND observed_at >= ?2"
		" AND EXISTS (SELECT 1 FROM video_stats b"
		"  WHERE b.account = video_stats.account"
		"  AND b.id = video_stats.id"
		"  AND b.observed_at > video_stats.observed_at"
		"  AND b.observed_at / 86400 = video_stats.observed_at / 86400)",
		"ii", full, from) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"DELETE FROM changes WHERE run_id IN (SELECT id FROM sync_runs"
		" WHERE started_at < ?1)",
		"i", runs) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"DELETE FROM sync_runs WHERE started_at < ?1", "i",
		runs) == -1 ||
	    db_commit(s->db, err, errlen) == -1)
		return db_rollback(s->db);
	if (full > s->thinned)
		s->thinned = full;
	return 0;
}

int
store_unlisted_covers(struct store *s, const char *account,
    int (*cb)(const char *id, const char *cover, void *), void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	/* Live rows this refresh did not list (out of the kept slice). */
	st = db_prep(s->db, err, errlen,
	    "SELECT v.id, v.cover FROM videos v WHERE v.account = ?1"
	    " AND v.deleted_at IS NULL AND v.cover IS NOT NULL"
	    " AND NOT EXISTS (SELECT 1 FROM stage g WHERE g.account = ?1"
	    " AND g.id = v.id) ORDER BY v.id",
	    "s", account);
	while (!stop && (rc = db_step(s->db, st, err, errlen)) == 1)
		stop = cb(db_col_text(st, 0), db_col_text(st, 1), arg) != 0;
	db_release(s->db, st);
	return !stop && rc == -1 ? -1 : 0;
}

int
store_video_cover(struct store *s, const char *account, const char *id,
    const char *rel, char *err, size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "UPDATE videos SET cover = ?3 WHERE account = ?1 AND id = ?2",
	    "sss", account, id, rel);
}

struct store_names {
	char **v;
	size_t n;
};

static int
names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct store_names *
store_covers_used(struct store *s, const char *account, char *err,
    size_t errlen)
{
	struct store_names *names;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	st = db_prep(s->db, err, errlen,
	    "SELECT cover FROM videos WHERE account = ?1"
	    " AND cover IS NOT NULL"
	    " UNION ALL SELECT avatar FROM accounts WHERE name = ?1"
	    " AND avatar IS NOT NULL",
	    "s", account);
	names = xcalloc(1, sizeof(*names));
	while ((rc = db_step(s->db, st, err, errlen)) == 1) {
		if (names->n == cap) {
			cap = cap ? 2 * cap : 64;
			names->v = xreallocarray(names->v, cap,
			    sizeof(*names->v));
		}
		names->v[names->n++] = db_col_str(st, 0);
	}
	db_release(s->db, st);
	if (rc == -1) {
		store_names_free(names);
		return NULL;
	}
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), names_cmp);
	return names;
}

int
store_names_has(const struct store_names *names, const char *name)
{
	return names->n > 0 && bsearch(&name, names->v, names->n,
				  sizeof(*names->v), names_cmp) != NULL;
}

void
store_names_free(struct store_names *names)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	free(names);
}

int
store_avatar(struct store *s, const char *account, char **rel, char **src,
    char *err, size_t errlen)
{
	*rel = *src = NULL;
	if (db_get(s->db, err, errlen,
		"SELECT a.avatar, c.src FROM accounts a"
		" LEFT JOIN cover_sources c"
		" ON c.account = a.name AND c.id = '" STORE_AVATAR_KEY "'"
		" WHERE a.name = ?",
		"s", account, "ss", rel, src) == -1)
		return -1;
	return 0;
}

int
store_history(struct store *s, const char *account, const char *id,
    int (*cb)(const struct store_stat *, void *), void *arg, char *err,
    size_t errlen)
{
	struct store_stat p;
	sqlite3_stmt *st;
	int rc, n = 0, stop = 0;
	int64_t known;

	st = db_prep(s->db, err, errlen,
	    "SELECT account, id, observed_at, total_views, total_likes,"
	    " total_comments, total_shares FROM video_stats"
	    " WHERE account = ? AND id = ? ORDER BY observed_at",
	    "ss", account, id);
	while (!stop && (rc = db_step(s->db, st, err, errlen)) == 1) {
		db_row(st, "ttiiiii", &p.account, &p.id, &p.observed_at,
		    &p.total_views, &p.total_likes, &p.total_comments,
		    &p.total_shares);
		n++;
		stop = cb(&p, arg) == -1;
	}
	db_release(s->db, st);
	if (rc == -1)
		return -1;
	if (n > 0)
		return 0;
	if (db_get(s->db, err, errlen,
		"SELECT count(*) FROM videos WHERE account = ? AND id = ?",
		"ss", account, id, "i", &known) != 1)
		return -1;
	return known > 0 ? 0 : 1;
}

int
store_forget(struct store *s, const char *account,
    struct store_forgotten *out, char *err, size_t errlen)
{
	struct store_forgotten f;

	memset(&f, 0, sizeof(f));
	if (db_begin(s->db, 1, err, errlen) == -1)
		return -1;
	/* Videos first: their delete trigger clears the search index. */
	if (db_exec(s->db, err, errlen, &f.videos,
		"DELETE FROM videos WHERE account = ?", "s", account) == -1 ||
	    db_exec(s->db, err, errlen, &f.stats,
		"DELETE FROM video_stats WHERE account = ?", "s",
		account) == -1 ||
	    db_exec(s->db, err, errlen, &f.changes,
		"DELETE FROM changes WHERE account = ?", "s", account) == -1 ||
	    db_exec(s->db, err, errlen, &f.runs,
		"DELETE FROM sync_runs WHERE account = ?", "s", account) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"DELETE FROM cover_sources WHERE account = ?", "s",
		account) == -1 ||
	    db_exec(s->db, err, errlen, NULL,
		"DELETE FROM oembed_refusals WHERE account = ?", "s",
		account) == -1 ||
	    db_exec(s->db, err, errlen, &f.accounts,
		"DELETE FROM accounts WHERE name = ?", "s", account) == -1 ||
	    db_commit(s->db, err, errlen) == -1)
		return db_rollback(s->db);
	if (out != NULL)
		*out = f;
	return 0;
}

int
store_videos(struct store *s, const char *account, const struct store_query *q,
    int (*cb)(const struct store_video *, void *), void *arg, char *err,
    size_t errlen)
{
	struct store_video v;
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (q->listing)
		st = db_prep(s->db, err, errlen,
		    "SELECT " VIDEO_COLS ", first_seen_at, updated_at,"
		    " deleted_at FROM videos WHERE account = ?"
		    " AND deleted_at IS NULL AND position IS NOT NULL"
		    " ORDER BY position",
		    "s", account);
	else
		st = db_prep(s->db, err, errlen,
		    "SELECT " VIDEO_COLS ", first_seen_at, updated_at,"
		    " deleted_at FROM videos WHERE account = ?"
		    " AND deleted_at IS NULL AND created_at * 1000 < ?"
		    " AND tm_keep(id, title, description)"
		    " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
		    "siii", account,
		    q->before_ms == STORE_NULL ? INT64_MAX : q->before_ms,
		    q->quantity, q->start - 1);
	s->filter = q->filter;
	while (!stop && (rc = db_step(s->db, st, err, errlen)) == 1) {
#define ROW_TYPE_text "t"
#define ROW_TYPE_int "i"
#define ROW_TYPE(n, key, kind) VF_BY_TYPE(ROW_TYPE_, kind)
#define ROW_MEMBER(n, key, kind) , &v.n
		db_row(st, "tti" VIDEO_FIELDS(ROW_TYPE) "iii", &v.account, &v.id,
		    &v.position VIDEO_FIELDS(ROW_MEMBER), &v.first_seen_at,
		    &v.updated_at, &v.deleted_at);
		stop = cb(&v, arg) == -1;
	}
	s->filter = NULL;
	db_release(s->db, st);
	return rc == -1 ? -1 : 0;
}

static size_t
str_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* Point *dst at a copy of itself made at *p, and move *p past it. */
static void
str_move(const char **dst, char **p)
{
	size_t n = str_size(*dst);

	if (n == 0)
		return;
	memcpy(*p, *dst, n);
	*dst = *p;
	*p += n;
}

struct store_video *
store_video_dup(const struct store_video *v)
{
	struct store_video *c;
	size_t len = str_size(v->account) + str_size(v->id);
	char *p;

#define DUP_SIZE_text(n) len += str_size(v->n);
#define DUP_SIZE_int(n)
#define DUP_SIZE(n, key, kind) VF_BY_TYPE(DUP_SIZE_, kind)(n)
	VIDEO_FIELDS(DUP_SIZE)
	c = xmalloc(sizeof(*c) + len);
	*c = *v;
	p = (char *)(c + 1);
	str_move(&c->account, &p);
	str_move(&c->id, &p);
#define DUP_MOVE_text(n) str_move(&c->n, &p);
#define DUP_MOVE_int(n)
#define DUP_MOVE(n, key, kind) VF_BY_TYPE(DUP_MOVE_, kind)(n)
	VIDEO_FIELDS(DUP_MOVE)
	return c;
}

void
store_checkpoint(struct store *s)
{
	struct stat st;
	char *wal;

	/*
	 * A passive checkpoint after each refresh; when readers kept the WAL
	 * from being reset and it grew, try to truncate it, without waiting
	 * for them (busy timeout 0): the next refresh tries again.
	 */
	(void)sqlite3_wal_checkpoint_v2(s->db->sql, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	wal = xasprintf("%s-wal", s->db->path);
	if (stat(wal, &st) == 0 && st.st_size > STORE_WAL_TRUNCATE) {
		sqlite3_busy_timeout(s->db->sql, 0);
		(void)sqlite3_wal_checkpoint_v2(s->db->sql, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_busy_timeout(s->db->sql, STORE_BUSY_MS);
	}
	free(wal);
}

int
store_snapshot(struct store *s, const char *path, char *err, size_t errlen)
{
	struct db *copy = NULL;
	static const char *const side[] = {"-journal", "-wal", "-shm"};
	char *tmp, *dir, *mode = NULL;
	size_t i;
	int fd = -1, rc = -1;

	/* VACUUM INTO refuses an existing non-empty file: start clean. */
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	dir = path_dirname(path);
	(void)unlink(tmp);
	if (db_exec(s->db, NULL, 0, NULL, "VACUUM INTO ?", "s", tmp) == -1) {
		errf(err, errlen, "%s: cannot copy %s into it: %s", tmp,
		    s->db->path, sqlite3_errmsg(s->db->sql));
		goto out;
	}
	/* A copy of a WAL database may say WAL; readers need no -shm. */
	if ((copy = db_open(tmp, 0, 0, err, errlen)) == NULL)
		goto out;
	if (db_get(copy, NULL, 0, "PRAGMA journal_mode=DELETE", "", "s",
		&mode) != 1 ||
	    mode == NULL || strcmp(mode, "delete") != 0) {
		errf(err, errlen, "%s: cannot leave WAL mode: %s", tmp,
		    sqlite3_errmsg(copy->sql));
		goto out;
	}
	/* VACUUM may renumber the videos rowids the search index uses. */
	if (db_script(copy,
		"INSERT INTO videos_fts (videos_fts) VALUES ('rebuild')", NULL,
		0) == -1) {
		errf(err, errlen, "%s: cannot rebuild the search index: %s",
		    tmp, sqlite3_errmsg(copy->sql));
		goto out;
	}
	/* Every statement is finalized first: the close cannot fail. */
	db_close(copy);
	copy = NULL;
	/* VACUUM INTO does not sync its output. */
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || fsync(fd) == -1) {
		errf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) == -1) {
		errf(err, errlen, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	(void)fsync_dir(dir);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	db_close(copy);
	free(mode);
	if (rc == -1) {
		(void)unlink(tmp);
		for (i = 0; i < nitems(side); i++) {
			char *p = xasprintf("%s%s", tmp, side[i]);

			(void)unlink(p);
			free(p);
		}
	}
	free(tmp);
	free(dir);
	return rc;
}
