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

#include "db.h"
#include "secrets.h"
#include "util.h"

struct secrets {
	struct db *db;
};

static const char SCHEMA[] =
    "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS tokens ("
    " account TEXT PRIMARY KEY, open_id TEXT, scope TEXT,"
    " access_token TEXT NOT NULL, access_expires_at INTEGER NOT NULL,"
    " refresh_token TEXT NOT NULL, refresh_expires_at INTEGER NOT NULL,"
    " issued_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pending ("
    " account TEXT PRIMARY KEY, state TEXT NOT NULL,"
    " verifier TEXT NOT NULL, created_at INTEGER NOT NULL);"
    /* `auth NAME --replace-account`: this grant may replace that user. */
    "CREATE TABLE IF NOT EXISTS replace_account ("
    " account TEXT PRIMARY KEY, old_open_id TEXT NOT NULL,"
    " new_open_id TEXT NOT NULL);";

struct secrets *
secrets_open(const char *path, char *err, size_t errlen)
{
	struct secrets *s;
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		errf(err, errlen, "%s: cannot open the secrets file: %s", path,
		    strerror(errno));
		return NULL;
	}
	rc = fstat(fd, &st);
	close(fd);
	if (rc == -1 || !S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if ((st.st_mode & 077) != 0) {
		errf(err, errlen,
		    "%s: secrets file is accessible by group or others "
		    "(mode %04o); run: chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	if ((s->db = db_open(path, 0, 5000, err, errlen)) == NULL ||
	    db_script(s->db, SCHEMA, err, errlen) == -1) {
		secrets_close(s);
		return NULL;
	}
	return s;
}

void
secrets_close(struct secrets *s)
{
	if (s == NULL)
		return;
	db_close(s->db);
	free(s);
}

int
secrets_get(struct secrets *s, const char *account, struct tokens *t,
    char *err, size_t errlen)
{
	int rc;

	memset(t, 0, sizeof(*t));
	rc = db_get(s->db, err, errlen,
	    "SELECT open_id, scope, access_token, access_expires_at,"
	    " refresh_token, refresh_expires_at, issued_at"
	    " FROM tokens WHERE account = ?",
	    "s", account, "sssisii", &t->open_id, &t->scope, &t->access_token,
	    &t->access_expires_at, &t->refresh_token, &t->refresh_expires_at,
	    &t->issued_at);
	if (rc != 1)
		return rc == 0 ? 1 : -1;
	if (t->access_token == NULL || t->refresh_token == NULL) {
		tokens_clear(t);
		return errf(err, errlen, "%s: damaged token row for %s",
		    s->db->path, account);
	}
	return 0;
}

int
secrets_put(struct secrets *s, const char *account, const struct tokens *t,
    char *err, size_t errlen)
{
	/* A new grant is no longer the one a replacement was allowed for. */
	if (db_exec(s->db, err, errlen, NULL,
		"DELETE FROM replace_account WHERE account = ?", "s",
		account) == -1)
		return -1;
	return db_exec(s->db, err, errlen, NULL,
	    "INSERT OR REPLACE INTO tokens (account, open_id, scope,"
	    " access_token, access_expires_at, refresh_token,"
	    " refresh_expires_at, issued_at) VALUES (?,?,?,?,?,?,?,?)",
	    "ssssisii", account, t->open_id ? t->open_id : "",
	    t->scope ? t->scope : "", t->access_token, t->access_expires_at,
	    t->refresh_token, t->refresh_expires_at, t->issued_at);
}

int
secrets_allow_replace(struct secrets *s, const char *account,
    const char *old_open_id, const char *new_open_id, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "INSERT OR REPLACE INTO replace_account (account, old_open_id,"
	    " new_open_id) VALUES (?,?,?)",
	    "sss", account, old_open_id, new_open_id);
}

int
secrets_replace_allowed(struct secrets *s, const char *account,
    const char *old_open_id, const char *new_open_id)
{
	char err[ERRLEN];
	int64_t n = 0;

	(void)db_get(s->db, err, sizeof(err),
	    "SELECT count(*) FROM replace_account WHERE account = ?"
	    " AND old_open_id = ? AND new_open_id = ?",
	    "sss", account, old_open_id, new_open_id, "i", &n);
	return n > 0;
}

int
secrets_rotate(struct secrets *s, const char *account, const struct tokens *t,
    const char *old_refresh, char *err, size_t errlen)
{
	int64_t n;

	if (db_exec(s->db, err, errlen, &n,
		"UPDATE tokens SET open_id = ?, scope = ?, access_token = ?,"
		" access_expires_at = ?, refresh_token = ?,"
		" refresh_expires_at = ?, issued_at = ?"
		" WHERE account = ? AND refresh_token = ?",
		"sssisiiss", t->open_id ? t->open_id : "",
		t->scope ? t->scope : "", t->access_token, t->access_expires_at,
		t->refresh_token, t->refresh_expires_at, t->issued_at, account,
		old_refresh) == -1)
		return -1;
	return n == 1 ? 0 : 1;
}

int
secrets_delete(struct secrets *s, const char *account, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "DELETE FROM tokens WHERE account = ?", "s", account);
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
	return db_exec(s->db, err, errlen, NULL,
	    "INSERT OR REPLACE INTO pending (account, state, verifier,"
	    " created_at) VALUES (?,?,?,?)",
	    "sssi", account, state, verifier, now_unix());
}

int
secrets_pending_get(struct secrets *s, const char *account,
    struct pending_auth *p, char *err, size_t errlen)
{
	int rc;

	memset(p, 0, sizeof(*p));
	rc = db_get(s->db, err, errlen,
	    "SELECT state, verifier, created_at FROM pending"
	    " WHERE account = ? AND created_at > ?",
	    "si", account, now_unix() - SECRETS_PENDING_TTL, "ssi", &p->state,
	    &p->verifier, &p->created_at);
	if (rc != 1)
		return rc == 0 ? 1 : -1;
	if (p->state == NULL || p->verifier == NULL) {
		pending_clear(p);
		return 1;
	}
	return 0;
}

int
secrets_pending_delete(struct secrets *s, const char *account, char *err,
    size_t errlen)
{
	return db_exec(s->db, err, errlen, NULL,
	    "DELETE FROM pending WHERE account = ?", "s", account);
}

void
pending_clear(struct pending_auth *p)
{
	free(p->state);
	free(p->verifier);
	memset(p, 0, sizeof(*p));
}
