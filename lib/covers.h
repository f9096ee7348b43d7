/* SPDX-License-Identifier: ISC */
/*
 * The cover cache: <covers>/<account>/<video id>.<jpg|png|webp>. A cover is
 * downloaded into a temporary file in the same folder, checked (an image by
 * its magic bytes, at most 10 MiB) and renamed into place; covers_sync()
 * makes a refresh's covers durable before its rows commit. Names
 * come only from a validated account name and a digits-only id, never from
 * anything else the server sent; the extension comes from the magic bytes.
 */
#ifndef COVERS_H
#define COVERS_H

#include <stddef.h>

#define COVERS_MAX_BYTES (10 * 1024 * 1024)
#define COVERS_TMP_PREFIX ".tmp-"
/* The account's avatar is <root>/<account>/avatar.<ext>: pass this as id. */
#define COVERS_AVATAR "avatar"

/* "jpg", "png" or "webp" from the first bytes of an image, else NULL. */
const char *covers_sniff(const unsigned char *p, size_t n);

/*
 * Open the folder 'name' inside the folder 'at' (AT_FDCWD: a path) as a
 * directory fd, never through a symbolic link (then the message says so),
 * creating it (0755 less the umask) when 'create' is set. 'shown' names it
 * in messages. Returns the fd, or -1 with 'err' (errno kept).
 */
int covers_dir_at(int at, const char *name, const char *shown, int create,
    char *err, size_t errlen);

/*
 * Open the covers folder 'root' as a directory fd (O_NOFOLLOW: a symbolic
 * link there is refused with a message saying so), creating it and its
 * parents when 'create' is set. Returns the fd, or -1 with 'err'.
 */
int covers_root(const char *root, int create, char *err, size_t errlen);

/*
 * Open <root>/<account>/ as a directory fd, neither component through a
 * symbolic link, creating them (mode 0755 less the umask) when 'create' is
 * set. Every call below works inside such a descriptor, so one open serves
 * a whole refresh. Returns the fd, or -1 with 'err' (errno is ENOENT when
 * the folder does not exist and 'create' is not set).
 */
int covers_dir(const char *root, const char *account, int create, char *err,
    size_t errlen);

/*
 * True when 'name' (inside an account folder) is one the program writes:
 * <digits>.{jpg,png,webp}, avatar.{jpg,png,webp} or a temporary file of
 * covers_tmp_open(). Sweeps remove nothing else.
 */
int covers_is_ours(const char *name);

/* A new temporary name for 'id' (see covers_tmp_open); the caller frees. */
char *covers_tmp_name(const char *id);

/*
 * Open a new temporary file in the account folder 'dfd' for video 'id'
 * (digits) or COVERS_AVATAR. Returns the fd and sets *tmpname (a new string,
 * the name inside the folder), or -1 with 'err'.
 */
int covers_tmp_open(int dfd, const char *id, char **tmpname, char *err,
    size_t errlen);

/*
 * The download into 'fd' is complete: 'size' bytes, the first min(size, 16)
 * of them in 'head'. Check them and rename the temporary file
 * to <id>.<ext>. Closes 'fd' in every case and removes the temporary file
 * on failure. Returns 0 and sets *rel ("account/id.ext", a new string), or
 * -1 with 'err' (e.g. "not an image").
 */
int covers_commit(int dfd, int fd, const char *account, const char *id,
    const char *tmpname, const unsigned char *head, size_t size, char **rel,
    char *err, size_t errlen);

/* Close (when >= 0) and remove a temporary file that will not be committed. */
void covers_discard(int dfd, int fd, const char *tmpname);

/* True when the cover 'rel' (as stored in videos.cover) is a file. */
int covers_exists(const char *root, const char *rel);
/*
 * The same for a cover of 'account', whose folder 'dfd' is open: one
 * lookup in it rather than a walk from the root, for each row of a
 * refresh. A 'rel' outside that folder reads as missing.
 */
int covers_exists_at(int dfd, const char *account, const char *rel);

/*
 * Make the new covers in the account folder 'dfd' and their renames
 * durable: one syncfs(2) per refresh, before the transaction that names
 * them commits. Returns 0 or -1 (then the refresh must not commit).
 */
int covers_sync(int dfd);

/*
 * Remove files in <root>/<account>/ whose names are ours (covers_is_ours)
 * and that 'keep' does not claim (it gets the
 * name relative to the covers folder, "account/file"), and temporary files
 * left by a crash. Returns the number removed, or -1 with 'err'.
 */
int covers_sweep(const char *root, const char *account,
    int (*keep)(const char *rel, void *arg), void *arg, char *err,
    size_t errlen);
/* The same in the account folder open on 'dfd' (left open). */
int covers_sweep_fd(int dfd, const char *account,
    int (*keep)(const char *rel, void *arg), void *arg, char *err,
    size_t errlen);

#endif
