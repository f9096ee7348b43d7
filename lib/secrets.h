/* SPDX-License-Identifier: ISC */
/*
 * The secrets file: OAuth tokens and pending authorizations, in an SQLite
 * file of its own (mode 0600, never inside the mirror consumers read).
 * Every write is durable when it returns (synchronous=FULL), because TikTok
 * rotates refresh tokens: a new pair must be on disk before it is used.
 */
#ifndef SECRETS_H
#define SECRETS_H

#include <stdint.h>
#include <stddef.h>

struct secrets;

struct tokens {
	char *open_id;
	char *scope;
	char *access_token;
	int64_t access_expires_at; /* unix seconds */
	char *refresh_token;
	int64_t refresh_expires_at;
	int64_t issued_at; /* when this pair was received */
};

struct pending_auth {
	char *state;
	char *verifier;
	int64_t created_at;
};

/* How long a pending authorization (state + PKCE verifier) stays usable. */
#define SECRETS_PENDING_TTL (30 * 60)

/*
 * Open (creating with mode 0600) the secrets file. Refuses a file that is
 * readable or writable by group or others. Returns NULL with 'err'.
 */
struct secrets *secrets_open(const char *path, char *err, size_t errlen);
void secrets_close(struct secrets *);

/* Returns 0 and fills 't' (free with tokens_clear()), 1 when none, -1. */
int secrets_get(struct secrets *, const char *account, struct tokens *t,
    char *err, size_t errlen);
/* Store 't' for 'account' durably. Returns 0 or -1. */
int secrets_put(struct secrets *, const char *account, const struct tokens *t,
    char *err, size_t errlen);
/*
 * `auth NAME --replace-account`: the mirror of 'account', which holds the
 * videos of TikTok user 'old_open_id', may from now on mirror
 * 'new_open_id' (the same person under a new client key, or a deliberate
 * change). secrets_put() of a later grant withdraws it. Returns 0 or -1.
 */
int secrets_allow_replace(struct secrets *, const char *account,
    const char *old_open_id, const char *new_open_id, char *err,
    size_t errlen);
/* 1 when that replacement was allowed, else 0. */
int secrets_replace_allowed(struct secrets *, const char *account,
    const char *old_open_id, const char *new_open_id);
/*
 * Store a rotated pair durably, but only over the grant it came from
 * (stored refresh token 'old_refresh'). Returns 0; 1 when another grant
 * was written meanwhile (`auth`), which is kept; -1 on error.
 */
int secrets_rotate(struct secrets *, const char *account,
    const struct tokens *t, const char *old_refresh, char *err,
    size_t errlen);
/* Forget the tokens of 'account'. Returns 0 or -1. */
int secrets_delete(struct secrets *, const char *account, char *err,
    size_t errlen);
void tokens_clear(struct tokens *);

/* Pending authorizations, keyed by account; expired ones are ignored. */
int secrets_pending_put(struct secrets *, const char *account,
    const char *state, const char *verifier, char *err, size_t errlen);
int secrets_pending_get(struct secrets *, const char *account,
    struct pending_auth *p, char *err, size_t errlen);
int secrets_pending_delete(struct secrets *, const char *account, char *err,
    size_t errlen);
void pending_clear(struct pending_auth *);

#endif
