/* SPDX-License-Identifier: ISC */
/*
 * The SQLite helper under lib/store.c and lib/secrets.c: open, prepare with
 * bindings, step, transactions and one error message format. It has no SQL
 * text of its own beyond BEGIN, COMMIT and ROLLBACK; the statements and
 * the schema stay with the module that owns the file.
 *
 * Errors read "PATH: WHAT: SQLite's message", so a message names the file.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define DB_NULL INT64_MIN /* an integer bound or read as SQL NULL */
#define DB_CACHE 96	  /* prepared statements kept, by SQL address */

struct db {
	sqlite3 *sql;
	char *path;
	/*
	 * Statements are prepared once and reused: every SQL text given to
	 * db_prep() is a string literal, so its address identifies it. A
	 * statement in use that is asked for again is prepared afresh and
	 * finalized by db_release().
	 */
	struct {
		const char *sql;
		sqlite3_stmt *st;
		int busy;
	} cache[DB_CACHE];
	int ncache;
};

#define DB_READONLY 0x1 /* db_open() flag: read-only */

/*
 * Open the existing file 'path' (the owner creates it with the mode it
 * wants first), with a busy timeout of 'busy_ms'. Returns NULL with 'err'.
 * Free with db_close(), which finalizes every statement.
 */
struct db *db_open(const char *path, int flags, int busy_ms, char *err,
    size_t errlen);
void db_close(struct db *);

/* Fill 'err' with "PATH: WHAT: SQLite's last message"; returns -1. */
int db_err(struct db *, char *err, size_t errlen, const char *what);

/*
 * Prepare 'sql' (a string literal) and bind the arguments described by
 * 'types': 's' a const char * (NULL binds NULL, text is copied), 'i' an
 * int64_t (DB_NULL binds NULL). Returns the statement, to be given back
 * with db_release(), or NULL with 'err'.
 */
sqlite3_stmt *db_prep(struct db *, char *err, size_t errlen, const char *sql,
    const char *types, ...);
/* Done with a statement from db_prep(): reset for reuse, or finalize. */
void db_release(struct db *, sqlite3_stmt *);

/*
 * One step of a statement from db_prep() ('st' may be NULL, a failed
 * db_prep(): then -1, 'err' as it left it). Returns 1 with a row, 0 when
 * there are no more, -1 with 'err' on error: never an error as the end.
 */
int db_step(struct db *, sqlite3_stmt *, char *err, size_t errlen);
/*
 * Read the current row's columns, from the first, into the pointers that
 * follow 'types': 's' a char ** (db_col_str()), 't' a const char **
 * (db_col_text(): borrowed until the statement steps or is released), 'i'
 * an int64_t * (db_col_int()).
 */
void db_row(sqlite3_stmt *, const char *types, ...);
/*
 * Prepare, bind (as db_prep(), except that text is read in place: the
 * statement is released before this returns), step to completion and
 * release. *changes (may be NULL) gets the number of rows changed.
 * Returns 0 or -1.
 */
int db_exec(struct db *, char *err, size_t errlen, int64_t *changes,
    const char *sql, const char *types, ...);
/*
 * The first row of 'sql', bound as db_exec() from the arguments 'types'
 * describes, then read as db_row() into the pointers after the string of
 * their types that follows them ('s' and 'i' only: the statement is
 * released). Returns 1 with the row, 0 when there is none (nothing
 * written), -1 with 'err'.
 */
int db_get(struct db *, char *err, size_t errlen, const char *sql,
    const char *types, ...);
/* Run several ';'-separated statements without bindings (schema). */
int db_script(struct db *, const char *sql, char *err, size_t errlen);

/*
 * Transactions. db_begin() starts one (with 'immediate', BEGIN IMMEDIATE:
 * the write lock is taken now, so the transaction cannot fail later for
 * want of it). db_rollback() undoes the open one, if any: call it after
 * any failure inside, including a failed db_commit() (after SQLITE_FULL or
 * SQLITE_IOERR SQLite may have undone only one statement).
 */
int db_begin(struct db *, int immediate, char *err, size_t errlen);
int db_commit(struct db *, char *err, size_t errlen);
/* Returns -1, for the failure path it ends. */
int db_rollback(struct db *);
/* True while a transaction is open. */
int db_in_transaction(struct db *);

/* Column readers: a new string or NULL; the integer or DB_NULL; borrowed. */
char *db_col_str(sqlite3_stmt *, int);
int64_t db_col_int(sqlite3_stmt *, int);
const char *db_col_text(sqlite3_stmt *, int);

#endif
