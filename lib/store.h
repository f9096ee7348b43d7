/* SPDX-License-Identifier: ISC */
/*
 * The mirror database (design.md, "The mirror database", schema version 1).
 * The daemon is its only writer. A refresh stages what it lists in
 * connection-private TEMP tables as pages arrive, so memory stays bounded,
 * then store_apply() changes the account's visible rows in one
 * transaction. Nothing outside lib/store.c speaks SQL to the mirror (its
 * SQLite helper, lib/db.c, has no SQL text of its own).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "video_fields.h"

#define STORE_SCHEMA_VERSION 2
#define STORE_NULL INT64_MIN /* an integer column that is NULL */

struct store;
struct video;
struct filter;

#define STORE_QUICK_CHECK 1 /* store_open_ex: PRAGMA quick_check first */
/*
 * Open the mirror for writing, creating it (mode 0644 less the umask) with
 * the schema, WAL kept persistent so readers work while the daemon is
 * stopped. A schema newer than this program is refused before anything in
 * the file changes. 'flags': STORE_QUICK_CHECK or 0. Returns NULL with
 * 'err'; *permanent (when not NULL) then says whether only a person can
 * cure it (a newer schema, a damaged, foreign or read-only file) rather
 * than a retry.
 */
struct store *store_open_ex(const char *path, int flags, int *permanent,
    char *err, size_t errlen);
/* Open an existing mirror read-only, as consumers do. */
struct store *store_open_ro(const char *path, char *err, size_t errlen);
void store_close(struct store *);

/*
 * An account's state. accounts.state and sync_runs.outcome hold its name;
 * an unknown name in the database reads as ACCOUNT_ERROR.
 */
enum account_state {
	ACCOUNT_OK,
	ACCOUNT_NEEDS_AUTH,
	ACCOUNT_ERROR,
	ACCOUNT_NSTATES
};

/* "ok", "needs_auth" or "error". */
const char *store_state_name(enum account_state);

struct store_account {
	char *name;
	char *open_id;
	char *display_name;
	enum account_state state;
	char *last_error;
	int64_t last_attempt_at, last_success_at, next_sync_at;
	int64_t token_expires_at, refresh_expires_at; /* STORE_NULL if NULL */
	int64_t videos;				       /* live videos */
	int64_t failures; /* failed refreshes since the last success */
	char *avatar;	  /* cached avatar, relative to the covers folder */
	/* What a refresh in progress is waiting for (its run's note), or NULL */
	char *activity;
};

/* Make sure an accounts row exists (state 'needs_auth' when new). */
int store_account_ensure(struct store *, const char *name, char *err,
    size_t errlen);
/* Returns 0 and fills 'a' (free with store_account_clear()), 1 if absent. */
int store_account_get(struct store *, const char *name, struct store_account *a,
    char *err, size_t errlen);
void store_account_clear(struct store_account *);
/* Call 'cb' for every accounts row in name order; stops if cb returns -1. */
int store_accounts_each(struct store *,
    int (*cb)(const struct store_account *, void *), void *arg, char *err,
    size_t errlen);

/* Record the start of a refresh attempt. */
int store_account_attempt(struct store *, const char *name, int64_t now,
    char *err, size_t errlen);
/* A failed refresh: state, last_error and when to try again. */
int store_account_fail(struct store *, const char *name,
    enum account_state state,
    const char *error, int64_t next_sync_at, char *err, size_t errlen);
/* When the next refresh is planned. */
int store_account_next(struct store *, const char *name, int64_t at,
    char *err, size_t errlen);
/* Token expiry times (never the tokens themselves). */
int store_account_tokens(struct store *, const char *name,
    int64_t token_expires_at, int64_t refresh_expires_at, char *err,
    size_t errlen);

/* Start staging a refresh of 'account' (drops anything staged before). */
int store_stage_begin(struct store *, const char *account, char *err,
    size_t errlen);
/*
 * A transaction around many writes made at once, such as one page's staged
 * videos, or around many reads that should see one state: store_begin()
 * opens one unless one is open, store_commit() commits the open one (if
 * any). Returns 0 or -1.
 */
int store_begin(struct store *, char *err, size_t errlen);
int store_commit(struct store *, char *err, size_t errlen);
/*
 * Stage one listed video: 'seq' is its place in the listing, 'position' its
 * place in the kept slice or STORE_NULL when it is listed but not kept,
 * 'cover_src' the cover URL without its signed query. A video listed twice
 * keeps its first place: returns 1 for it (nothing staged), else 0 or -1.
 */
int store_stage_add(struct store *, const char *account, int64_t seq,
    int64_t position, const struct video *v, const char *cover_src,
    char *err, size_t errlen);

/* A kept, staged video whose cover may need fetching. */
struct store_cover_item {
	char id[21];
	char *url;	/* signed cover URL from this refresh, or NULL */
	char *cover;	/* the row's current cover, or NULL */
	int same_src;	/* the current cover came from the same URL path */
};

/*
 * Up to 'max' kept staged videos with an id below 'after' (NULL: from the
 * first), highest id first (TikTok's ids grow with time: newest first),
 * into 'items' (free each with store_cover_item_clear()): in pass 1 those
 * not decided yet, in pass 2 those with a fresh URL from video/query.
 * Paging by id walks the stage's own key, so the stage needs no second
 * index to keep up on every insert and delete. Returns the count or -1.
 */
int store_stage_covers(struct store *, const char *account, int pass,
    const char *after, struct store_cover_item *items, int max, char *err,
    size_t errlen);
void store_cover_item_clear(struct store_cover_item *);
/*
 * Call 'cb' with the id and cover of each live video of 'account' that has
 * a cover but is not staged (this refresh did not list it): the repair of
 * covers whose file went missing. A non-zero return from 'cb' stops.
 * Returns 0 or -1.
 */
int store_unlisted_covers(struct store *, const char *account,
    int (*cb)(const char *id, const char *cover, void *), void *arg,
    char *err, size_t errlen);
/* Set the cover file of one video (its file fetched again). 0 or -1. */
int store_video_cover(struct store *, const char *account, const char *id,
    const char *rel, char *err, size_t errlen);

/* The outcome for one cover: a new file (rel) or, with rel NULL, none. */
int store_stage_set_cover(struct store *, const char *account, const char *id,
    const char *rel, char *err, size_t errlen);
/* The cover URL of a staged video expired (HTTP 403). */
int store_stage_expired(struct store *, const char *account, const char *id,
    char *err, size_t errlen);
/* Up to 'max' staged videos whose cover URL expired (taken). Count or -1. */
int store_stage_expired_next(struct store *, const char *account,
    char (*ids)[21], int max, char *err, size_t errlen);
/* A fresh signed cover URL for a staged video (from video/query). */
int store_stage_set_url(struct store *, const char *account, const char *id,
    const char *url, char *err, size_t errlen);

/*
 * Deletion candidates: live videos with created_at in [lo, hi) (hi may be
 * STORE_NULL for no bound) that this listing did not return. Fills a
 * private table (emptied first unless 'more' is set, so several ranges
 * add up) and returns the number of candidates added, with the number of
 * live videos in the range added to *live; -1 on error.
 */
int store_stage_candidates(struct store *, const char *account, int64_t lo,
    int64_t hi, int more, int64_t *live, char *err, size_t errlen);

/*
 * Where the account's archive window starts next (0: after the head), or
 * -1 while the whole listing was never read at once (no rotation yet) or
 * last read under other filters than 'digest' (filter_digest(); "" for
 * none), so that a changed filter reads the whole listing again; in
 * *cursor. Returns 0, or -1 with 'err' when the mirror cannot say.
 */
int store_archive_cursor(struct store *, const char *account,
    const char *digest, int64_t *cursor, char *err, size_t errlen);
/* Up to 'max' unchecked candidates (marked checked). Returns count or -1. */
int store_candidates_next(struct store *, const char *account,
    char (*ids)[21], int max, char *err, size_t errlen);
/* video/query still returned 'id': it is not deleted. */
int store_candidate_found(struct store *, const char *account, const char *id,
    char *err, size_t errlen);
/* Checked candidates video/query did not return. Returns count or -1. */
int store_candidates_missing(struct store *, const char *account, char *err,
    size_t errlen);

/*
 * Curated accounts: oEmbed refused video 'id' in this refresh. Returns 0
 * the first time in a row, 1 when the last refresh was refused it too and
 * the video is live in the mirror (it is then a confirmed deletion
 * candidate, like one video/query no longer returns), 2 when refused again
 * but not live (already deleted, or never mirrored), -1 on error.
 * store_apply() keeps this refresh's refusals for the next one.
 */
int store_stage_refused(struct store *, const char *account, const char *id,
    char *err, size_t errlen);
/* Live videos of a curated account that this refresh listed (staged or
 * refused): the range the over-half deletion guard counts. */
int store_curated_live(struct store *, const char *account, int64_t *live,
    char *err, size_t errlen);

struct store_apply {
	int64_t now;
	const char *open_id;	  /* NULL keeps the stored value */
	const char *display_name; /* NULL keeps the stored value */
	int64_t next_sync_at;
	int64_t token_expires_at, refresh_expires_at;
	int apply_deletions; /* mark missing candidates deleted */
	int64_t run_id;	     /* sync_runs row the changes belong to, or 0 */
	/*
	 * Archive rotation (a listing too long to re-read every refresh):
	 * positions are recomputed from the mirror's live rows (newest
	 * first, at most 'quantity', -1 for all; created before 'before_ms'
	 * unless STORE_NULL) instead of taken from the listing. With
	 * 'archive_cursor' >= 0 the next refresh may rotate, and its archive
	 * window starts there (0: just after the head); -1 leaves it as is.
	 */
	int rotating;
	int64_t quantity, before_ms, archive_cursor;
	/* The account's filters (borrowed; NULL: none): rows they leave out
	 * get no position. 'filter_digest' is recorded with the archive
	 * cursor (filter_digest(); NULL or "" for none). */
	const struct filter *filter;
	const char *filter_digest;
	/* A new cached avatar file and the URL path it came from; NULL keeps
	 * the stored one. */
	const char *avatar, *avatar_src;
	/*
	 * Dry run: compute everything inside the transaction, report each
	 * change to 'change' (may be NULL; kind is new, updated, deleted or
	 * restored, fields a comma list or NULL), then roll back, so the
	 * mirror is left exactly as it was.
	 */
	int dry_run;
	void (*change)(const char *id, const char *kind, const char *fields,
	    void *arg);
	void *change_arg;
};

struct store_counts {
	int64_t new, updated, deleted, restored, unchanged;
};

/*
 * Apply the staged refresh in one transaction: new and changed rows (a row
 * is written only when a value changed), positions, deletions, and the
 * accounts row (state 'ok'). On any error everything is rolled back.
 */
int store_apply(struct store *, const char *account,
    const struct store_apply *, struct store_counts *out, char *err,
    size_t errlen);

/*
 * Record the start of a refresh in sync_runs; returns its id (> 0), or -1.
 */
int64_t store_run_begin(struct store *, const char *account, int64_t now,
    char *err, size_t errlen);
/*
 * Note what a refresh in progress is waiting for in its sync_runs row
 * (`status` shows it until the run ends). Returns 0 or -1.
 */
int store_run_note(struct store *, int64_t run, const char *note, char *err,
    size_t errlen);
/* Record how the refresh 'run' ended. */
int store_run_end(struct store *, int64_t run, int64_t now,
    enum account_state outcome, int64_t requests, const struct store_counts *,
    const char *error, char *err, size_t errlen);

/*
 * Retention (README, "Retention"): engagement history older than
 * STORE_STATS_FULL_DAYS keeps one point per video per UTC day; sync runs
 * and their change log are kept STORE_RUNS_DAYS days.
 */
#define STORE_STATS_FULL_DAYS 30
#define STORE_RUNS_DAYS 90
int store_retention(struct store *, int64_t now, char *err, size_t errlen);

/*
 * The cover files that rows of 'account' name (its videos' covers and its
 * avatar, as "account/file"), read in one query for covers_sweep() rather
 * than looked up file by file. NULL with 'err' on failure; the caller frees
 * it with store_names_free() (NULL-safe).
 */
struct store_names;
struct store_names *store_covers_used(struct store *, const char *account,
    char *err, size_t errlen);
/* True when 'name' is one of 'names'. */
int store_names_has(const struct store_names *, const char *name);
void store_names_free(struct store_names *);

/*
 * The account's cached avatar (relative to the covers folder) and the URL
 * path it came from, new strings or NULL. Returns 0 or -1.
 */
int store_avatar(struct store *, const char *account, char **rel,
    char **src, char *err, size_t errlen);

/* One point of a video's engagement history (video_stats). */
struct store_stat {
	const char *account, *id;
	int64_t observed_at;
	int64_t total_views, total_likes, total_comments, total_shares;
};

/*
 * The history of video 'id' of 'account', oldest first. Returns 0, 1 when
 * the mirror has neither history nor a row for that video, or -1.
 */
int store_history(struct store *, const char *account, const char *id,
    int (*cb)(const struct store_stat *, void *), void *arg, char *err,
    size_t errlen);

/* What store_forget() removed. */
struct store_forgotten {
	int64_t accounts, videos, stats, runs, changes;
};

/*
 * Remove every row of 'account' in one transaction: the accounts row, its
 * videos (and their search index entries), history, sync runs, change log
 * and cover sources. Returns 0 or -1.
 */
int store_forget(struct store *, const char *account,
    struct store_forgotten *out, char *err, size_t errlen);

/* A row of the videos table, borrowed for the duration of a callback. */
#define STORE_MEMBER_text(n) const char *n;
#define STORE_MEMBER_int(n) int64_t n; /* STORE_NULL for NULL */
#define STORE_MEMBER(n, key, kind) VF_BY_TYPE(STORE_MEMBER_, kind)(n)
struct store_video {
	const char *account, *id;
	int64_t position;
	VIDEO_FIELDS(STORE_MEMBER) /* video_fields.h, in column order */
	int64_t first_seen_at, updated_at, deleted_at;
};

/* A copy of 'v' in one allocation, its strings included; free() it. */
struct store_video *store_video_dup(const struct store_video *v);

/*
 * The My Videos query. With 'listing' set: the configured listing, live
 * videos in position order. Otherwise live videos newest first, created
 * before 'before_ms' (STORE_NULL: no bound), from the 'start'-th (1-based),
 * at most 'quantity' (-1: all).
 */
struct store_query {
	int listing;
	int64_t before_ms;
	int64_t start;
	int64_t quantity;
	/* Without 'listing': leave out what these filters hide (borrowed;
	 * NULL for none). */
	const struct filter *filter;
};

int store_videos(struct store *, const char *account,
    const struct store_query *, int (*cb)(const struct store_video *, void *),
    void *arg, char *err, size_t errlen);

/* Checkpoint the WAL after refreshes so readers cannot grow it forever. */
void store_checkpoint(struct store *);

/*
 * Write a consistent copy of the mirror to 'path' for readers that cannot
 * share its WAL: VACUUM INTO a temporary file in the same folder, out of WAL
 * mode (journal_mode DELETE, so it needs no -shm), fsynced, then renamed
 * into place. Works on a read-only store. Returns 0 or -1 with 'err'.
 */
int store_snapshot(struct store *, const char *path, char *err,
    size_t errlen);

#endif
