/* SPDX-License-Identifier: ISC */
/*
 * `export --out DIR [--format json|ndjson|csv|atom[,...]] [--link]
 * [--base-url URL] [NAME...]`: data files and covers for static site
 * generators (design.md, "Consumers"). For each named account (default:
 * every configured one) it writes DIR/<account>.json (.ndjson, .csv,
 * .atom): the live videos of the configured listing in position order, the
 * same objects as `videos NAME --json` except that `cover` is relative to
 * DIR ("covers/<account>/<id>.<ext>"), places the covers in
 * DIR/covers/<account>/, and writes DIR/accounts.json: each exported
 * account's name, display name and avatar (a file beside its covers).
 *
 * What a web server can publish as it is: every file the export writes is
 * mode 0644, and the covers are the export's own copies, so an edit in
 * the site never reaches the mirror. --link makes them hard links to the
 * mirror's files instead (no second copy for a big mirror; they keep the
 * mirror's mode and are the mirror's files), copies where a link is
 * refused (another file system, fs.protected_hardlinks).
 *
 * Nothing changes that need not: a file is replaced (temporary file, fsync,
 * rename) only when its bytes would differ (and, for covers, when it should
 * be a copy and is a link, or the other way round), so a second export of
 * an unchanged mirror modifies no file, and hugo, rsync or git see no
 * change. Covers are placed before the data files that name them and
 * covers no longer named are removed after, so a site built at any moment
 * finds every cover its data names. Each account's rows come from one query,
 * so they are one consistent state of the mirror; the export needs no lock
 * and runs beside the daemon.
 *
 * The files' bytes come from lib/render.c (JSON, NDJSON, CSV, Atom); this
 * command chooses the rows and places the files and covers. With
 * --base-url, the URL the export is published at, the Atom feeds' links
 * are absolute and each feed names itself and the site (render_atom()).
 * CSV cells that start with = + - @ TAB or CR get a leading ' (a spreadsheet
 * would run them as formulas) unless --csv-raw.
 *
 * The export never touches the mirror: DIR, DIR/covers and each account
 * folder are opened O_NOFOLLOW and every link, rename and unlink is made
 * relative to those descriptors; a DIR whose covers folder is, or is
 * inside, the mirror's covers folder (by dev/ino) is refused; the sweep
 * removes only names the program writes (covers_is_ours()).
 *
 * `export --format sqlite --out FILE`: a consistent snapshot of the whole
 * mirror for readers that cannot share its WAL (store_snapshot()).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "covers.h"
#include "daemon.h"
#include "log.h"
#include "mirror.h"
#include "render.h"
#include "store.h"
#include "util.h"

#define FMT_JSON 0x01
#define FMT_NDJSON 0x02
#define FMT_CSV 0x04
#define FMT_ATOM 0x08
#define FMT_SQLITE 0x10

/* A folder format's name is its files' extension: DIR/<account>.<name>. */
static const struct {
	const char *name;
	unsigned bit;
} FORMATS[] = {
	{"json", FMT_JSON},
	{"ndjson", FMT_NDJSON},
	{"csv", FMT_CSV},
	{"atom", FMT_ATOM},
	{"sqlite", FMT_SQLITE},
};

/* The mirror keeps covers of at most COVERS_MAX_BYTES; copy no more. */
#define EXPORT_COVER_MAX (COVERS_MAX_BYTES + 1)
/* Every file the export writes: a web server outside the group reads it. */
#define EXPORT_MODE 0644

/* A videos row; v's strings are in 'copy', with v.cover the exported one. */
struct row {
	struct store_video v;
	struct store_video *copy; /* store_video_dup() of the row */
	const char *src; /* the cover, relative to the mirror's covers folder */
	char *cover; /* the cover, relative to DIR; NULL when there is none */
	const char *type; /* the cover's media type */
	long long size;	  /* the cover's size in bytes */
};

struct export {
	const struct cfg *cfg;
	const char *out;
	char *covers; /* DIR/covers */
	unsigned formats;
	int link;	      /* --link: covers are hard links to the mirror's */
	int csv_raw; /* --csv-raw: cells exactly as stored, formulas and all */
	/*
	 * DIR, DIR/covers and (per account) DIR/covers/<account> and the
	 * mirror's <covers>/<account>, all opened O_DIRECTORY|O_NOFOLLOW:
	 * every link, rename and unlink is relative to them, so no symlink
	 * planted in the export can send a change anywhere else.
	 */
	int outfd, coversfd, accfd, srcfd;
	const char *base_url; /* --base-url, without trailing '/'; or NULL */
	struct buf accounts;  /* accounts.json, as it is built */
	struct row *rows;
	size_t nrows, cap;
	/* Names (not paths) of the covers the current account keeps. */
	char **names;
	size_t nnames;
	/* What happened, for the summary line. */
	long long written, kept, linked, copied, removed;
};

static int
on_row(const struct store_video *v, void *arg)
{
	struct export *ex = arg;
	struct row *r;

	if (ex->nrows == ex->cap) {
		ex->cap = ex->cap ? ex->cap * 2 : 64;
		ex->rows = xreallocarray(ex->rows, ex->cap, sizeof(*ex->rows));
	}
	r = &ex->rows[ex->nrows++];
	memset(r, 0, sizeof(*r));
	r->copy = store_video_dup(v);
	r->v = *r->copy;
	r->src = r->copy->cover;
	r->v.cover = NULL; /* set once the cover is in place */
	return 0;
}

static void
rows_clear(struct export *ex)
{
	struct row *r;
	size_t i;

	for (i = 0; i < ex->nrows; i++) {
		r = &ex->rows[i];
		free(r->copy);
		free(r->cover);
	}
	ex->nrows = 0;
	for (i = 0; i < ex->nnames; i++)
		free(ex->names[i]);
	free(ex->names);
	ex->names = NULL;
	ex->nnames = 0;
}

/*
 * The media type of a cover named as the mirror names them,
 * "<account>/<digits>.<jpg|png|webp>" (or "<account>/avatar.<ext>"), or
 * NULL for any other name (which is then never used as a path).
 */
static const char *
cover_type(const char *account, const char *rel)
{
	size_t n = strlen(account), d;
	const char *name, *dot;

	if (strncmp(rel, account, n) != 0 || rel[n] != '/')
		return NULL;
	name = rel + n + 1;
	dot = strchr(name, '.');
	if (dot == NULL)
		return NULL;
	d = (size_t)(dot - name);
	if (!valid_id(name, d) && !(d == sizeof(COVERS_AVATAR) - 1 &&
				      memcmp(name, COVERS_AVATAR, d) == 0))
		return NULL;
	if (strcmp(dot, ".jpg") == 0)
		return "image/jpeg";
	if (strcmp(dot, ".png") == 0)
		return "image/png";
	if (strcmp(dot, ".webp") == 0)
		return "image/webp";
	return NULL;
}

/* True when 'name' in 'dfd' is a regular file holding exactly data[0..len). */
static int
same_bytes(int dfd, const char *name, const void *data, size_t len)
{
	char *have;
	size_t n;
	int same;

	/* A longer file is refused unread (EFBIG), a link is not followed. */
	if (read_file_at(dfd, name, O_NOFOLLOW, len, &have, &n, NULL) == -1)
		return 0;
	same = n == len && memcmp(have, data, len) == 0;
	free(have);
	return same;
}

/*
 * A file of the export's own that is kept as it is still gets
 * EXPORT_MODE (an older export may have left it 0640), without a rewrite.
 */
static void
own_mode(int dfd, const char *name)
{
	struct stat st;
	int fd;

	/* Through a descriptor: never the mode of a symlink's target. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) != EXPORT_MODE)
		(void)fchmod(fd, EXPORT_MODE);
	close(fd);
}

/* Write 'b' to DIR/name unless that file already holds exactly its bytes. */
static int
put_file(struct export *ex, const char *name, const struct buf *b, char *err,
    size_t errlen)
{
	char *path = path_join(ex->out, name);
	int rc = 0;

	if (same_bytes(ex->outfd, name, b->data, b->len)) {
		own_mode(ex->outfd, name);
		ex->kept++;
	} else if ((rc = write_file_atomic_at(ex->outfd, name, path, b->data,
			b->len, EXPORT_MODE, err, errlen)) == 0)
		ex->written++;
	free(path);
	return rc;
}

/*
 * Place DIR/covers/<rel>, the mirror's cover (or avatar) 'rel', and set
 * *size to its size. By default it is the export's own copy (mode 0644):
 * left alone when it holds the same bytes, rewritten when they differ or
 * when it is a hard link to the mirror's file (left by --link). With
 * --link it is a hard link to the mirror's file: left alone when it
 * already is that file, made one when it is a copy (even of the same
 * bytes), and a copy where the link is refused (an existing copy of the
 * same bytes then stays as it is). Returns 0, 1 when the mirror has no
 * such file (any more), or -1 with 'err'.
 */
static int
place_cover(struct export *ex, const char *rel, long long *size, char *err,
    size_t errlen)
{
	struct stat sst, dst;
	char *data = NULL, *src, *to, *tmp = NULL, *id;
	size_t len = 0;
	const char *base;
	int rc = -1, have, equal = 0;

	src = path_join(ex->cfg->covers, rel);
	to = path_join(ex->covers, rel);
	base = strrchr(rel, '/') + 1;
	if (ex->srcfd == -1 ||
	    fstatat(ex->srcfd, base, &sst, AT_SYMLINK_NOFOLLOW) == -1) {
		if (ex->srcfd == -1 || errno == ENOENT || errno == ENOTDIR) {
			rc = 1;
			goto out;
		}
		errf(err, errlen, "%s: cannot read the mirror's cover: %s", src,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(sst.st_mode)) {
		rc = 1;
		goto out;
	}
	*size = (long long)sst.st_size;
	have = fstatat(ex->accfd, base, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(dst.st_mode);
	if (have && dst.st_dev == sst.st_dev && dst.st_ino == sst.st_ino) {
		if (ex->link) {
			ex->kept++;
			rc = 0;
			goto out;
		}
		/* The mirror's own file: replace it with a copy below. */
	} else if (have) {
		if (read_file_at(ex->srcfd, base, O_NOFOLLOW, EXPORT_COVER_MAX,
			&data, &len, NULL) == -1)
			goto read_failed;
		equal = same_bytes(ex->accfd, base, data, len);
		if (equal && !ex->link) {
			own_mode(ex->accfd, base);
			ex->kept++;
			rc = 0;
			goto out;
		}
	}
	if (ex->link) {
		id = xstrndup(base, strcspn(base, "."));
		tmp = covers_tmp_name(id);
		free(id);
		if (linkat(ex->srcfd, base, ex->accfd, tmp, 0) == 0) {
			if (renameat(ex->accfd, tmp, ex->accfd, base) == -1) {
				errf(err, errlen, "%s: rename: %s", to,
				    strerror(errno));
				(void)unlinkat(ex->accfd, tmp, 0);
				goto out;
			}
			/* rename() leaves both names when they were one file. */
			(void)unlinkat(ex->accfd, tmp, 0);
			ex->linked++;
			rc = 0;
			goto out;
		}
		if (errno == ENOENT) {
			rc = 1;
			goto out;
		}
		if (errno != EXDEV && errno != EPERM && errno != EMLINK &&
		    errno != EOPNOTSUPP) {
			errf(err, errlen, "%s: cannot link %s there: %s", to,
			    src, strerror(errno));
			goto out;
		}
		/* Another file system, or links refused: a copy, and the
		 * copy already there when it holds the same bytes. */
		if (equal) {
			ex->kept++;
			rc = 0;
			goto out;
		}
	}
	/* Never through a symbolic link, at most a cover's size. */
	if (data == NULL && read_file_at(ex->srcfd, base, O_NOFOLLOW,
				EXPORT_COVER_MAX, &data, &len, NULL) == -1)
		goto read_failed;
	if (write_file_atomic_at(ex->accfd, base, to, data, len, EXPORT_MODE,
		err, errlen) == -1)
		goto out;
	*size = (long long)len;
	ex->copied++;
	rc = 0;
	goto out;
read_failed:
	if (errno == ENOENT)
		rc = 1;
	else
		errf(err, errlen, "%s: cannot read the mirror's cover: %s", src,
		    file_error(errno));
out:
	free(data);
	free(src);
	free(to);
	free(tmp);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* covers_sweep(): keep what this export names. */
static int
keep_cover(const char *rel, void *arg)
{
	struct export *ex = arg;
	const char *base = strrchr(rel, '/');

	base = base ? base + 1 : rel;
	return ex->nnames > 0 && bsearch(&base, ex->names, ex->nnames,
				     sizeof(*ex->names), name_cmp) != NULL;
}

/* Whether the folders open on 'a' and 'b' are one and the same. */
static int
same_dir(int a, int b)
{
	struct stat sa, sb;

	return a != -1 && b != -1 && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Open DIR/covers/<account> (made when 'create') as ex->accfd. It must not
 * be the mirror's own folder for the account (a bind mount, say): the
 * sweep would delete covers TikTok no longer serves. Returns 0, 1 when it
 * does not exist and 'create' is not set, or -1 with 'err'.
 */
static int
open_account_dir(struct export *ex, const char *account, int create,
    char *err, size_t errlen)
{
	char *shown;

	if (ex->accfd != -1)
		return 0;
	shown = path_join(ex->covers, account);
	ex->accfd = covers_dir_at(ex->coversfd, account, shown, create, err,
	    errlen);
	free(shown);
	if (ex->accfd == -1)
		return !create && errno == ENOENT ? 1 : -1;
	if (same_dir(ex->accfd, ex->srcfd))
		return errf(err, errlen,
		    "%s/%s is the mirror's own covers folder for %s; an export"
		    " there would delete covers TikTok no longer serves: "
		    "choose another --out",
		    ex->covers, account, account);
	return 0;
}

/*
 * Place every cover of the rows, and the avatar 'avatar' (relative to the
 * mirror's covers folder, or NULL); a file the mirror lacks is left out.
 * *avatar_out gets the avatar's name relative to DIR, or NULL.
 */
static int
place_covers(struct export *ex, const char *account, const char *avatar,
    char **avatar_out, char *err, size_t errlen)
{
	char esc[128];
	struct row *r;
	long long size;
	size_t i;
	int placed;

	*avatar_out = NULL;
	ex->names = xcalloc(ex->nrows + 2, sizeof(*ex->names));
	/* The account's folder is made (and opened) before its first cover. */
	if (avatar != NULL && cover_type(account, avatar) != NULL) {
		if (open_account_dir(ex, account, 1, err, errlen) == -1)
			return -1;
		placed = place_cover(ex, avatar, &size, err, errlen);
		if (placed == -1)
			return -1;
		if (placed == 0) {
			*avatar_out = xasprintf("covers/%s", avatar);
			ex->names[ex->nnames++] =
			    xstrdup(strrchr(avatar, '/') + 1);
		}
	}
	for (i = 0; i < ex->nrows; i++) {
		r = &ex->rows[i];
		if (r->src == NULL)
			continue;
		r->type = cover_type(account, r->src);
		if (r->type == NULL) {
			log_warnx("%s: video %s: cover '%s' is not a name the "
				  "mirror makes; left out",
			    account, r->v.id,
			    log_escape(r->src, strlen(r->src), esc,
				sizeof(esc)));
			continue;
		}
		if (open_account_dir(ex, account, 1, err, errlen) == -1)
			return -1;
		placed = place_cover(ex, r->src, &r->size, err, errlen);
		if (placed == -1)
			return -1;
		if (placed == 1) {
			log_warnx("%s: video %s: cover %s is missing from the "
				  "mirror; left out (the next refresh fetches "
				  "it again)",
			    account, r->v.id, r->src);
			continue;
		}
		r->cover = xasprintf("covers/%s", r->src);
		r->v.cover = r->cover;
		ex->names[ex->nnames++] = xstrdup(strrchr(r->src, '/') + 1);
	}
	qsort(ex->names, ex->nnames, sizeof(*ex->names), name_cmp);
	if (ex->accfd != -1)
		(void)covers_sync(ex->accfd);
	return 0;
}

/* Export one account: rows, covers, data files, then the cover sweep. */
static int
export_account(struct export *ex, struct store *st, const char *account)
{
	struct store_account a;
	struct store_query q;
	struct render_item *items = NULL;
	struct render_feed feed;
	struct buf b;
	char err[ERRLEN], *name, *avatar = NULL;
	size_t i;
	int rc = -1, have_a = 0, n;

	memset(&q, 0, sizeof(q));
	q.listing = 1;
	feed.account = feed.title = account;
	buf_init(&b, 0);
	if (store_videos(st, account, &q, on_row, ex, err, sizeof(err)) == -1)
		goto fail;
	n = store_account_get(st, account, &a, err, sizeof(err));
	if (n == -1)
		goto fail;
	have_a = n == 0;
	if (have_a && a.display_name != NULL && a.display_name[0] != '\0')
		feed.title = a.display_name;
	feed.base_url = ex->base_url;
	/* The mirror's folder for the account; none yet: no covers. */
	ex->srcfd = covers_dir(ex->cfg->covers, account, 0, err, sizeof(err));
	if (ex->srcfd == -1 && errno != ENOENT)
		goto fail;
	if (place_covers(ex, account, have_a ? a.avatar : NULL, &avatar, err,
		sizeof(err)) == -1)
		goto fail;
	items = xcalloc(ex->nrows + 1, sizeof(*items));
	for (i = 0; i < ex->nrows; i++) {
		items[i].v = &ex->rows[i].v;
		items[i].cover_type = ex->rows[i].type;
		items[i].cover_size = ex->rows[i].size;
	}
	for (i = 0; i < nitems(FORMATS); i++) {
		/* Never FMT_SQLITE here: it goes alone (export_sqlite()). */
		if (!(ex->formats & FORMATS[i].bit))
			continue;
		buf_reset(&b);
		if (FORMATS[i].bit == FMT_JSON)
			render_json(&b, items, ex->nrows);
		else if (FORMATS[i].bit == FMT_NDJSON)
			render_ndjson(&b, items, ex->nrows);
		else if (FORMATS[i].bit == FMT_CSV)
			render_csv(&b, items, ex->nrows, ex->csv_raw);
		else
			render_atom(&b, &feed, items, ex->nrows);
		name = xasprintf("%s.%s", account, FORMATS[i].name);
		n = put_file(ex, name, &b, err, sizeof(err));
		free(name);
		if (n == -1)
			goto fail;
	}
	n = open_account_dir(ex, account, 0, err, sizeof(err));
	if (n == -1)
		goto fail;
	if (n == 0) {
		n = covers_sweep_fd(ex->accfd, account, keep_cover, ex, err,
		    sizeof(err));
		if (n == -1)
			goto fail;
		ex->removed += n;
	}
	/* accounts.json: what a site shows above the account's videos. */
	out_add(&ex->accounts, ex->accounts.len > 1 ? ",\n  {" : "\n  {");
	render_json_str(&ex->accounts, 1, "name", account);
	render_json_str(&ex->accounts, 0, "display_name",
	    have_a ? a.display_name : NULL);
	render_json_str(&ex->accounts, 0, "avatar", avatar);
	render_json_int(&ex->accounts, 0, "videos", (int64_t)ex->nrows);
	out_add(&ex->accounts, "}");
	rc = 0;
	goto out;
fail:
	log_err("%s: export failed: %s", account, err);
out:
	free(avatar);
	if (have_a)
		store_account_clear(&a);
	if (ex->accfd != -1)
		close(ex->accfd);
	if (ex->srcfd != -1)
		close(ex->srcfd);
	ex->accfd = ex->srcfd = -1;
	rows_clear(ex);
	free(items);
	buf_free(&b);
	return rc;
}

/*
 * Whether the folder open on 'fd' is the folder 'root' (dev/ino: a name
 * compares nothing) or inside it, walking up ".." to "/". Returns 1, 0, or
 * -1 with errno.
 */
static int
inside(int fd, const struct stat *root)
{
	struct stat st, up;
	int cur, parent, depth, rc = -1;

	if ((cur = dup(fd)) == -1)
		return -1;
	for (depth = 0; depth < 4096; depth++) {
		if (fstat(cur, &st) == -1)
			break;
		if (st.st_dev == root->st_dev && st.st_ino == root->st_ino) {
			rc = 1;
			break;
		}
		parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent == -1)
			break;
		if (fstat(parent, &up) == -1) {
			close(parent);
			break;
		}
		close(cur);
		cur = parent;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino) {
			rc = 0; /* "/": its ".." is itself */
			break;
		}
	}
	close(cur);
	return rc;
}

/*
 * Open DIR and DIR/covers (made if missing) with O_NOFOLLOW. Returns 0; 1
 * with 'err' when DIR/covers is, or is inside, the mirror's covers folder
 * (its sweep would delete covers that TikTok no longer serves, lost for
 * good); -1 with 'err' on other failures.
 */
static int
open_out(struct export *ex, char *err, size_t errlen)
{
	struct stat root;
	int have_root, in;

	/* Compared by device and inode: whatever names lead there. */
	have_root = stat(ex->cfg->covers, &root) == 0 && S_ISDIR(root.st_mode);
	ex->outfd = covers_dir_at(AT_FDCWD, ex->out, ex->out, 0, err, errlen);
	if (ex->outfd == -1)
		return -1;
	in = have_root ? inside(ex->outfd, &root) : 0;
	if (in == 0) {
		ex->coversfd = covers_dir_at(ex->outfd, "covers", ex->covers, 1,
		    err, errlen);
		if (ex->coversfd == -1)
			return -1;
		in = have_root ? inside(ex->coversfd, &root) : 0;
	}
	if (in == -1)
		return errf(err, errlen, "%s: %s", ex->out, strerror(errno));
	if (in == 1) {
		errf(err, errlen,
		    "%s is, or is inside, the mirror's covers folder %s; an "
		    "export there would delete covers TikTok no longer serves:"
		    " choose another --out",
		    ex->coversfd == -1 ? ex->out : ex->covers, ex->cfg->covers);
		return 1;
	}
	return 0;
}

static int
parse_formats(const char *arg, unsigned *formats)
{
	const char *p = arg;
	size_t n, i;

	while (*p != '\0') {
		n = strcspn(p, ",");
		for (i = 0; i < nitems(FORMATS); i++)
			if (strlen(FORMATS[i].name) == n &&
			    strncmp(p, FORMATS[i].name, n) == 0)
				break;
		if (i == nitems(FORMATS))
			return -1;
		*formats |= FORMATS[i].bit;
		p += n;
		p += *p == ',';
	}
	return 0;
}

/*
 * An absolute http(s) URL with a host and no query, fragment, user
 * information, space or control character: where the export is published,
 * the base of the feeds' links. Returns 0 or -1.
 */
static int
check_base_url(const char *u)
{
	const char *host;
	size_t i;

	if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		host = u + 7;
	else
		return -1;
	if (host[0] == '\0' || host[0] == '/' ||
	    strcspn(host, "/") > strcspn(host, "@"))
		return -1;
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f ||
		    u[i] == '?' || u[i] == '#' || u[i] == '"' || u[i] == '<' ||
		    u[i] == '>' || u[i] == '\\')
			return -1;
	return 0;
}

static int
export_sqlite(struct ctx *c, const char *file)
{
	struct store *st;
	struct stat sb;
	char err[ERRLEN];
	int rc;

	if (stat(file, &sb) == 0 && S_ISDIR(sb.st_mode))
		return usage_error("--format sqlite writes one file; %s is a "
				   "folder (give a file name, e.g. "
				   "%s/mirror.db)",
		    file, file);
	if ((st = mirror_open_ro(&c->cfg)) == NULL)
		return EXIT_FAIL;
	rc = store_snapshot(st, file, err, sizeof(err));
	store_close(st);
	if (rc == -1) {
		log_err("export: %s; check that its folder exists and is "
			"writable, and the free space",
		    err);
		return EXIT_FAIL;
	}
	log_info("export: %s: a snapshot of %s", file, c->cfg.database);
	return EXIT_OK;
}

int
cmd_export(struct ctx *c, int argc, char **argv)
{
	struct export ex;
	struct store *st = NULL;
	const char *base_url = NULL;
	char err[ERRLEN], *trimmed = NULL;
	size_t i;
	int ch, rc, failed = 0;
	/* Not ctx_start(): --format adds up over repeats. */
	const struct option longopts[] = {
		{"out", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"link", no_argument, &ex.link, 1},
		{"base-url", required_argument, NULL, 'b'},
		{"csv-raw", no_argument, &ex.csv_raw, 1},
		CTX_LONGOPTS,
		{NULL, 0, NULL, 0},
	};

	memset(&ex, 0, sizeof(ex));
	ex.outfd = ex.coversfd = ex.accfd = ex.srcfd = -1;
	while ((ch = getopt_long(argc, argv, CTX_SHORTOPTS, longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'o':
			ex.out = optarg;
			break;
		case 'f':
			if (parse_formats(optarg, &ex.formats) == -1)
				return usage_error("unknown --format '%s'; "
						   "the formats are json, "
						   "ndjson, csv, atom and "
						   "sqlite",
				    optarg);
			break;
		case 0: /* --link, --csv-raw: getopt set the flag */
			break;
		case 'b':
			base_url = optarg;
			break;
		default:
			if ((rc = ctx_option(c, ch, optarg, argv[0])) !=
			    CTX_GO_ON)
				return rc;
		}
	}
	if (base_url != NULL && check_base_url(base_url) == -1)
		return usage_error("--base-url takes the https:// (or http://) "
				   "address the export is published at, e.g. "
				   "https://example.com/tiktok/");
	if (ex.out == NULL || ex.out[0] == '\0') {
		usage_error("export needs --out");
		return ctx_usage(argv[0]);
	}
	if (ex.formats == 0)
		ex.formats = FMT_JSON;
	if ((ex.formats & FMT_SQLITE) && ex.formats != FMT_SQLITE)
		return usage_error("--format sqlite goes alone: it writes one "
				   "file, not a folder");
	if ((ex.formats & FMT_SQLITE) && (ex.link || base_url != NULL))
		return usage_error("--link and --base-url are for the folder "
				   "formats, not --format sqlite");
	if ((ex.formats & FMT_SQLITE) && optind != argc)
		return usage_error("--format sqlite copies the whole mirror; "
				   "it takes no account names");
	if ((rc = ctx_load(c, CFG_READER)) != 0)
		return rc;
	if (ctx_accounts(c, argc - optind, argv + optind) == -1)
		return EXIT_USAGE;
	if (ex.formats == FMT_SQLITE)
		return export_sqlite(c, ex.out);

	ex.cfg = &c->cfg;
	if (base_url != NULL) {
		ex.base_url = trimmed = xstrndup(base_url, strlen(base_url));
		while (strlen(trimmed) > 0 && trimmed[strlen(trimmed) - 1] == '/')
			trimmed[strlen(trimmed) - 1] = '\0';
	}
	buf_init(&ex.accounts, 0);
	out_add(&ex.accounts, "[");
	/* Folders the export makes are 0755 whatever the caller's umask:
	 * a web server outside the mirror's group must get through them. */
	umask(022);
	ex.covers = path_join(ex.out, "covers");
	rc = -1;
	if (mkdir_p(ex.out, 0755, err, sizeof(err)) == -1 ||
	    (rc = open_out(&ex, err, sizeof(err))) != 0) {
		log_err("export: %s", err);
		/* 1: a DIR in the mirror's covers folder, a usage error. */
		rc = rc == 1 ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	if ((st = mirror_open_ro(&c->cfg)) == NULL) {
		rc = EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < c->cfg.naccounts; i++) {
		const char *name = c->cfg.accounts[i].name;

		if (ctx_named(argc - optind, argv + optind, name) &&
		    export_account(&ex, st, name) == -1)
			failed++;
	}
	store_close(st);
	out_add(&ex.accounts, ex.accounts.len > 1 ? "\n]\n" : "]\n");
	if (put_file(&ex, "accounts.json", &ex.accounts, err, sizeof(err)) ==
	    -1) {
		log_err("export: %s", err);
		failed++;
	}
	log_info("export: %s: %lld files written, %lld unchanged, %lld covers "
		 "linked, %lld copied, %lld removed",
	    ex.out, ex.written, ex.kept, ex.linked, ex.copied, ex.removed);
	rc = failed ? EXIT_FAIL : EXIT_OK;
out:
	if (ex.outfd != -1)
		close(ex.outfd);
	if (ex.coversfd != -1)
		close(ex.coversfd);
	free(ex.rows);
	free(ex.covers);
	free(trimmed);
	buf_free(&ex.accounts);
	return rc;
}
