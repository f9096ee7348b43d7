/* SPDX-License-Identifier: ISC */
/*
 * The secrets file. It is created 0600 before SQLite opens it (SQLite gives
 * its journal the same mode), refused when group or others can read it, and
 * written with synchronous=FULL in rollback-journal mode so that a commit is
 * on disk when secrets_put() returns and a file watch on the database file
 * itself sees every change.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "secrets.h"
#include "util.h"

struct secrets {
	sqlite3 *db;
	char *path;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS tokens ("
    " account TEXT PRIMARY KEY, open_id TEXT, scope TEXT,"
    " access_token TEXT NOT NULL, access_expires_at INTEGER NOT NULL,"
    " refresh_token TEXT NOT NULL, refresh_expires_at INTEGER NOT NULL,"
    " issued_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pending ("
    " account TEXT PRIMARY KEY, state TEXT NOT NULL,"
    " verifier TEXT NOT NULL, created_at INTEGER NOT NULL);";

static int
sqlerr(struct secrets *s, char *err, size_t errlen, const char *what)
{
	return errf(err, errlen, "%s: %s: %s", s->path, what,
	    sqlite3_errmsg(s->db));
}

struct secrets *
secrets_open(const char *path, char *err, size_t errlen)
{
	struct secrets *s;
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		errf(err, errlen, "%s: cannot open the secrets file: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	close(fd);
	if ((st.st_mode & 077) != 0) {
		errf(err, errlen,
		    "%s: secrets file is accessible by group or others "
		    "(mode %04o); run: chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE,
		NULL) != SQLITE_OK) {
		sqlerr(s, err, errlen, "open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db,
		"PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;", NULL,
		NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
		sqlerr(s, err, errlen, "set up");
		goto fail;
	}
	return s;
fail:
	secrets_close(s);
	return NULL;
}

void
secrets_close(struct secrets *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static char *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? NULL : xstrdup((const char *)t);
}

/* Run one statement with text and integer bindings given as "s" / "i". */
static int
exec_bind(struct secrets *s, const char *sql, const char *types,
    const void *const *vals, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int i, rc = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlerr(s, err, errlen, "prepare");
		goto out;
	}
	for (i = 0; types[i] != '\0'; i++) {
		if (types[i] == 's')
			sqlite3_bind_text(st, i + 1, vals[i], -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, i + 1,
			    *(const int64_t *)vals[i]);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlerr(s, err, errlen, "write");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
secrets_get(struct secrets *s, const char *account, struct tokens *t,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	memset(t, 0, sizeof(*t));
	if (sqlite3_prepare_v2(s->db,
		"SELECT open_id, scope, access_token, access_expires_at,"
		" refresh_token, refresh_expires_at, issued_at"
		" FROM tokens WHERE account = ?",
		-1, &st, NULL) != SQLITE_OK) {
		sqlerr(s, err, errlen, "prepare");
		goto out;
	}
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 1;
		goto out;
	}
	if (step != SQLITE_ROW) {
		sqlerr(s, err, errlen, "read");
		goto out;
	}
	t->open_id = col_str(st, 0);
	t->scope = col_str(st, 1);
	t->access_token = col_str(st, 2);
	t->access_expires_at = sqlite3_column_int64(st, 3);
	t->refresh_token = col_str(st, 4);
	t->refresh_expires_at = sqlite3_column_int64(st, 5);
	t->issued_at = sqlite3_column_int64(st, 6);
	if (t->access_token == NULL || t->refresh_token == NULL) {
		tokens_clear(t);
		errf(err, errlen, "%s: damaged token row for %s", s->path,
		    account);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
secrets_put(struct secrets *s, const char *account, const struct tokens *t,
    char *err, size_t errlen)
{
	const void *vals[] = {account, t->open_id ? t->open_id : "",
	    t->scope ? t->scope : "", t->access_token, &t->access_expires_at,
	    t->refresh_token, &t->refresh_expires_at, &t->issued_at};

	return exec_bind(s,
	    "INSERT OR REPLACE INTO tokens (account, open_id, scope,"
	    " access_token, access_expires_at, refresh_token,"
	    " refresh_expires_at, issued_at) VALUES (?,?,?,?,?,?,?,?)",
	    "ssssisii", vals, err, errlen);
}

int
secrets_rotate(struct secrets *s, const char *account, const struct tokens *t,
    const char *old_refresh, char *err, size_t errlen)
{
	const void *vals[] = {t->open_id ? t->open_id : "",
	    t->scope ? t->scope : "", t->access_token, &t->access_expires_at,
	    t->refresh_token, &t->refresh_expires_at, &t->issued_at, account,
	    old_refresh};

	if (exec_bind(s,
		"UPDATE tokens SET open_id = ?, scope = ?, access_token = ?,"
		" access_expires_at = ?, refresh_token = ?,"
		" refresh_expires_at = ?, issued_at = ?"
		" WHERE account = ? AND refresh_token = ?",
		"sssisiiss", vals, err, errlen) == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
secrets_delete(struct secrets *s, const char *account, char *err,
    size_t errlen)
{
	const void *vals[] = {account};

	return exec_bind(s, "DELETE FROM tokens WHERE account = ?", "s", vals,
	    err, errlen);
}

void
tokens_clear(struct tokens *t)
{
	if (t->access_token != NULL)
		explicit_bzero(t->access_token, strlen(t->access_token));
	if (t->refresh_token != NULL)
		explicit_bzero(t->refresh_token, strlen(t->refresh_token));
	free(t->open_id);
	free(t->scope);
	free(t->access_token);
	free(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

int
secrets_pending_put(struct secrets *s, const char *account, const char *state,
    const char *verifier, char *err, size_t errlen)
{
	int64_t now = now_unix();
	const void *vals[] = {account, state, verifier, &now};

	return exec_bind(s,
	    "INSERT OR REPLACE INTO pending (account, state, verifier,"
	    " created_at) VALUES (?,?,?,?)",
	    "sssi", vals, err, errlen);
}

int
secrets_pending_get(struct secrets *s, const char *account,
    struct pending_auth *p, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(s->db,
		"SELECT state, verifier, created_at FROM pending"
		" WHERE account = ? AND created_at > ?",
		-1, &st, NULL) != SQLITE_OK) {
		sqlerr(s, err, errlen, "prepare");
		goto out;
	}
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_unix() - SECRETS_PENDING_TTL);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 1;
		goto out;
	}
	if (step != SQLITE_ROW) {
		sqlerr(s, err, errlen, "read");
		goto out;
	}
	p->state = col_str(st, 0);
	p->verifier = col_str(st, 1);
	p->created_at = sqlite3_column_int64(st, 2);
	rc = p->state && p->verifier ? 0 : 1;
	if (rc == 1)
		pending_clear(p);
out:
	sqlite3_finalize(st);
	return rc;
}

int
secrets_pending_delete(struct secrets *s, const char *account, char *err,
    size_t errlen)
{
	const void *vals[] = {account};

	return exec_bind(s, "DELETE FROM pending WHERE account = ?", "s",
	    vals, err, errlen);
}

void
pending_clear(struct pending_auth *p)
{
	free(p->state);
	free(p->verifier);
	memset(p, 0, sizeof(*p));
}
