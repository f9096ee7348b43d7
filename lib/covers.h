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
 * Create <root>/<account>/ when needed and open a new temporary file there
 * for video 'id' (digits) or COVERS_AVATAR. Returns the fd and sets *tmpname (a new string, the name
 * inside the account folder), or -1 with 'err'.
 */
int covers_tmp_open(const char *root, const char *account, const char *id,
    char **tmpname, char *err, size_t errlen);

/*
 * Check the finished temporary file and rename it to
 * <id>.<ext>. Closes 'fd' in every case and removes the temporary file on
 * failure. Returns 0 and sets *rel ("account/id.ext", a new string), or -1
 * with 'err' (e.g. "not an image").
 */
int covers_commit(int fd, const char *root, const char *account,
    const char *id, const char *tmpname, char **rel, char *err,
    size_t errlen);

/* Close and remove a temporary file that will not be committed. */
void covers_discard(int fd, const char *root, const char *account,
    const char *tmpname);

/* True when the cover 'rel' (as stored in videos.cover) is a file. */
int covers_exists(const char *root, const char *rel);

/*
 * Make the account's new covers and their renames durable: one syncfs(2)
 * per refresh, before the transaction that names them commits. Returns 0
 * or -1 (then the refresh must not commit).
 */
int covers_sync(const char *root, const char *account);

/*
 * Remove files in <root>/<account>/ that 'keep' does not claim (it gets the
 * name relative to the covers folder, "account/file"), and temporary files
 * left by a crash. Returns the number removed, or -1 with 'err'.
 */
int covers_sweep(const char *root, const char *account,
    int (*keep)(const char *rel, void *arg), void *arg, char *err,
    size_t errlen);

#endif
