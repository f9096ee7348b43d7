/* SPDX-License-Identifier: ISC */
/*
 * The SQLite helper (db.h): the statement cache, the binding mini-language,
 * stepping that never mistakes an error for the last row, and the
 * transaction calls, for the two modules that own an SQLite file.
 */
#include <stdarg.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "db.h"
#include "util.h"

struct db *
db_open(const char *path, int flags, int busy_ms, char *err, size_t errlen)
{
	struct db *d = xcalloc(1, sizeof(*d));

	d->path = xstrdup(path);
	/*
	 * No allocation statistics: they take a global mutex on every
	 * allocation. SQLite takes this only before it starts (the first
	 * open); afterwards the call fails and changes nothing.
	 */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* A connection is used by the loop's thread only: no mutex. */
	if (sqlite3_open_v2(path, &d->sql,
		((flags & DB_READONLY) ? SQLITE_OPEN_READONLY
				       : SQLITE_OPEN_READWRITE) |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		db_err(d, err, errlen, "open");
		db_close(d);
		return NULL;
	}
	sqlite3_busy_timeout(d->sql, busy_ms);
	return d;
}

void
db_close(struct db *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < d->ncache; i++)
		sqlite3_finalize(d->cache[i].st);
	if (d->sql != NULL)
		sqlite3_close(d->sql);
	free(d->path);
	free(d);
}

int
db_err(struct db *d, char *err, size_t errlen, const char *what)
{
	return errf(err, errlen, "%s: %s: %s", d->path, what,
	    d->sql != NULL ? sqlite3_errmsg(d->sql) : "out of memory");
}

/*
 * 'copy': text is copied (SQLITE_TRANSIENT) for a statement the caller
 * steps later; db_exec() and db_get() release theirs before they return,
 * while the caller's strings still exist, so SQLite reads them in place.
 */
static sqlite3_stmt *
vprep(struct db *d, char *err, size_t errlen, const char *sql,
    const char *types, int copy, va_list *ap)
{
	sqlite3_stmt *st = NULL;
	int64_t v;
	int i, slot = -1;

	for (i = 0; i < d->ncache; i++)
		if (d->cache[i].sql == sql && !d->cache[i].busy) {
			slot = i;
			st = d->cache[i].st;
			break;
		}
	if (st == NULL) {
		if (sqlite3_prepare_v3(d->sql, sql, -1,
			SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
			db_err(d, err, errlen, "prepare");
			sqlite3_finalize(st);
			return NULL;
		}
		if (d->ncache < DB_CACHE) {
			slot = d->ncache++;
			d->cache[slot].sql = sql;
			d->cache[slot].st = st;
		}
	}
	if (slot >= 0)
		d->cache[slot].busy = 1;
	for (i = 0; types[i] != '\0'; i++) {
		if (types[i] == 's') {
			/* A NULL string binds NULL (SQLite's own rule). */
			sqlite3_bind_text(st, i + 1, va_arg(*ap, const char *),
			    -1, copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
			continue;
		}
		v = va_arg(*ap, int64_t);
		if (v == DB_NULL)
			sqlite3_bind_null(st, i + 1);
		else
			sqlite3_bind_int64(st, i + 1, v);
	}
	return st;
}

sqlite3_stmt *
db_prep(struct db *d, char *err, size_t errlen, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = vprep(d, err, errlen, sql, types, 1, &ap);
	va_end(ap);
	return st;
}

void
db_release(struct db *d, sqlite3_stmt *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < d->ncache; i++)
		if (d->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			d->cache[i].busy = 0;
			return;
		}
	sqlite3_finalize(st);
}

int
db_step(struct db *d, sqlite3_stmt *st, char *err, size_t errlen)
{
	if (st == NULL)
		return -1;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		return db_err(d, err, errlen, "read");
	}
}

static void
vrow(sqlite3_stmt *st, const char *types, va_list *ap)
{
	int i;

	for (i = 0; types[i] != '\0'; i++)
		if (types[i] == 's')
			*va_arg(*ap, char **) = db_col_str(st, i);
		else if (types[i] == 't')
			*va_arg(*ap, const char **) = db_col_text(st, i);
		else
			*va_arg(*ap, int64_t *) = db_col_int(st, i);
}

void
db_row(sqlite3_stmt *st, const char *types, ...)
{
	va_list ap;

	va_start(ap, types);
	vrow(st, types, &ap);
	va_end(ap);
}

int
db_exec(struct db *d, char *err, size_t errlen, int64_t *changes,
    const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	st = vprep(d, err, errlen, sql, types, 0, &ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW
	    ? 0
	    : db_err(d, err, errlen, "write");
	db_release(d, st);
	if (rc == 0 && changes != NULL)
		*changes = sqlite3_changes(d->sql);
	return rc;
}

int
db_get(struct db *d, char *err, size_t errlen, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	st = vprep(d, err, errlen, sql, types, 0, &ap);
	if ((rc = db_step(d, st, err, errlen)) == 1)
		vrow(st, va_arg(ap, const char *), &ap);
	va_end(ap);
	db_release(d, st);
	return rc;
}

int
db_script(struct db *d, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(d->sql, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(d, err, errlen, "exec");
	return 0;
}

int
db_begin(struct db *d, int immediate, char *err, size_t errlen)
{
	return db_script(d, immediate ? "BEGIN IMMEDIATE" : "BEGIN", err,
	    errlen);
}

int
db_commit(struct db *d, char *err, size_t errlen)
{
	return db_script(d, "COMMIT", err, errlen);
}

int
db_rollback(struct db *d)
{
	if (!sqlite3_get_autocommit(d->sql))
		(void)sqlite3_exec(d->sql, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
db_in_transaction(struct db *d)
{
	return !sqlite3_get_autocommit(d->sql);
}

char *
db_col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? NULL : xstrdup((const char *)t);
}

int64_t
db_col_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return DB_NULL;
	return sqlite3_column_int64(st, i);
}

const char *
db_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}
