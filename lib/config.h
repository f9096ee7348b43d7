/* SPDX-License-Identifier: ISC */
/*
 * The YAML configuration (design.md, "Configuration"). cfg_load() reads the
 * whole file with libyaml, checks every key, type and range, resolves paths
 * and defaults, and either fills a complete struct cfg or fails with one
 * message "FILE:LINE:COLUMN: what is wrong; what to do". Nothing is ever
 * half-configured.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define CFG_NAME_MAX 64	      /* [A-Za-z0-9_-]{1,64} */
#define CFG_MAX_ACCOUNTS 1000 /* more accounts are a config error */
#define CFG_QUANTITY_ALL -1   /* quantity: all */
#ifndef CFG_DEFAULT_PATH
#define CFG_DEFAULT_PATH "/etc/tiktok-mirror/tiktok-mirror.yaml"
#endif
/* The system config's state folder: StateDirectory=tiktok-mirror. */
#ifndef CFG_STATE_DIR
#define CFG_STATE_DIR "/var/lib/tiktok-mirror"
#endif
#define CFG_VIDEOS_MAX 1000   /* videos listed by one curated account */

/* One video of a curated account's videos: list. */
struct cfg_video {
	char id[21]; /* from the URL: 1-20 digits */
	char *url;   /* as listed */
};

struct filter;

struct cfg_account {
	char name[CFG_NAME_MAX + 1];
	int has_before;	   /* 0: no "before" filter */
	int64_t before_ms; /* exclusive upper bound on create_time*1000 */
	int64_t start;	   /* 1-based, default 1 */
	int64_t quantity;  /* default 20; CFG_QUANTITY_ALL for "all" */
	int64_t cache;	   /* seconds, default 3600, >= 60 */
	/* hide, include and exclude (filter.h); NULL when none is set.
	 * Owned: copy an account with cfg_account_copy(). */
	struct filter *filter;
	/*
	 * A curated account (design.md, "Curated accounts"): the videos it
	 * lists, in order, mirrored through oEmbed without a grant. NULL and
	 * 0 for an account with a grant. Owned, like the filter: copy an
	 * account with cfg_account_copy().
	 */
	struct cfg_video *videos;
	size_t nvideos;
};

/*
 * Options for tests only (README, "Tests"), not in the file: the program's
 * front door reads them from the environment once and passes them in.
 * Zero when unset.
 */
struct cfg_test {
	int64_t min_cache; /* $TIKTOK_MIRROR_TEST_MIN_CACHE: cache may go down
			      to this many seconds (1..59) */
	long timeout_ms;   /* $TIKTOK_MIRROR_TEST_TIMEOUT_MS: cap on every
			      transfer's timeouts (100..60000) */
};

/* True for a curated account (videos: instead of a grant). */
#define CFG_CURATED(a) ((a)->nvideos > 0)

struct cfg {
	char *path; /* as given */
	char *dir;  /* the folder that holds the config file */
	/*
	 * Where database, secrets and covers go by default: $STATE_DIRECTORY,
	 * else CFG_STATE_DIR for the system config, else
	 * $XDG_STATE_HOME/tiktok-mirror for the user's config (state_user:
	 * create it before writing), else 'dir'.
	 */
	char *state_dir;
	int state_user;

	/* Resolved paths: absolute, or relative to the cwd as given. */
	char *database; /* default state_dir/mirror.db */
	char *secrets;	/* default .../secrets.db */
	char *covers;	/* default .../covers */

	/* NULL when every account is curated (then none is required). */
	char *client_key;
	char *client_secret; /* inline, or read from client_secret_file */
	char *redirect_uri;
	char *api_url;	/* default https://open.tiktokapis.com, no trailing / */
	char *auth_url; /* default https://www.tiktok.com/v2/auth/authorize/ */
	char *oembed_url; /* default https://www.tiktok.com/oembed, no trailing / */
	char *ca_file;	/* NULL when not set */
	int64_t rate_limit;  /* requests per minute per endpoint, default 600 */
	int64_t concurrency; /* parallel transfers, default 4, 1..64 */
	/* oEmbed requests per minute, shared by all curated accounts */
	int64_t oembed_rate_limit;

	char *on_change; /* NULL when not set */
	char *metrics;	 /* NULL when not set; resolved path */

	struct cfg_account *accounts;
	size_t naccounts;

	struct cfg_test test; /* as passed to cfg_load_as() */
};

/*
 * Load and validate 'path'. 'cfg' is overwritten, so it must not hold a
 * loaded configuration (load a reload into a second struct, then swap). On
 * success returns 0 and fills 'cfg' (free it with cfg_free()). On failure
 * returns -1, leaves nothing to free, and puts "PATH:LINE:COLUMN: message"
 * (or "PATH: message" when there is no position, e.g. the file cannot be
 * read) into 'err'. LINE and COLUMN are 1-based and point at the offending
 * key or value.
 */
int cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen);
/*
 * The same for a file already read into data[0..len) (the fuzz harness):
 * 'path' names it in messages and anchors relative paths, and 'mode' stands
 * for its permission bits (an inline client_secret needs mode & 077 == 0).
 * client_secret_file and ca_file are still read from disk.
 */
int cfg_load_mem(struct cfg *cfg, const char *path, const char *data,
    size_t len, mode_t mode, char *err, size_t errlen);
/*
 * The same with 'flags': CFG_READER loads everything but the client
 * secret file (client_secret stays NULL), for commands that only read the
 * mirror, so a site builder needs no access to the secret. 'test' (may be
 * NULL) holds the test-only options, kept in cfg->test.
 */
#define CFG_READER 1
int cfg_load_as(struct cfg *cfg, const char *path, int flags,
    const struct cfg_test *test, char *err, size_t errlen);
void cfg_free(struct cfg *cfg);

/*
 * The configuration file to read when none is named with -c:
 * $TIKTOK_MIRROR_CONFIG, else the user's
 * $XDG_CONFIG_HOME/tiktok-mirror/tiktok-mirror.yaml (~/.config/...) when it
 * exists, else CFG_DEFAULT_PATH. Returns a new string.
 */
char *cfg_find(void);

/* True when s[0..len) is a valid account name ([A-Za-z0-9_-]{1,64}). */
int cfg_valid_name(const char *s, size_t len);
/* The account named 'name', or NULL. */
const struct cfg_account *cfg_account(const struct cfg *, const char *name);

/*
 * Copy an account, its filter included, into 'dst' (which must hold
 * nothing to free); cfg_account_clear() frees what the copy owns.
 */
void cfg_account_copy(struct cfg_account *dst, const struct cfg_account *src);
void cfg_account_clear(struct cfg_account *);

/*
 * Parse a "before" value: YYYY-MM-DD (00:00:00 UTC that day) or an RFC 3339
 * time with offset. Returns 0 and the time in unix milliseconds, or -1.
 */
int cfg_parse_before(const char *s, int64_t *ms);

#endif
