/* SPDX-License-Identifier: ISC */
/*
 * The cover cache. Every file operation goes through a descriptor of the
 * account's folder, opened with O_NOFOLLOW from a descriptor of the covers
 * root opened the same way, so a planted symlink can never make us write
 * or delete outside it. Temporary files are O_EXCL and named
 * ".tmp-<id>-<16 random hex digits>"; covers_sweep() removes the ones a
 * crash left behind, and never a name we would not have written.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "covers.h"
#include "log.h"
#include "util.h"

const char *
covers_sniff(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "jpg";
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "png";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0)
		return "webp";
	return NULL;
}

int
covers_dir_at(int at, const char *name, const char *shown, int create,
    char *err, size_t errlen)
{
	int fd, saved;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create) {
		/* The umask decides who may read it, as for every file. */
		if (mkdirat(at, name, 0755) == -1 && errno != EEXIST) {
			saved = errno;
			errf(err, errlen, "%s: cannot create folder: %s", shown,
			    strerror(errno));
			errno = saved;
			return -1;
		}
		fd = openat(at, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1) {
		saved = errno;
		if (errno == ELOOP || errno == ENOTDIR)
			errf(err, errlen,
			    "%s is a symbolic link or not a folder; "
			    "tiktok-mirror never follows one: make it a real "
			    "folder (or point the configuration at the folder "
			    "it links to)",
			    shown);
		else
			errf(err, errlen, "%s: %s", shown, strerror(errno));
		errno = saved;
	}
	return fd;
}

int
covers_root(const char *root, int create, char *err, size_t errlen)
{
	char *parent;
	int fd;

	fd = covers_dir_at(AT_FDCWD, root, root, 0, err, errlen);
	if (fd == -1 && errno == ENOENT && create) {
		parent = path_dirname(root);
		if (mkdir_p(parent, 0755, err, errlen) == -1) {
			free(parent);
			return -1;
		}
		free(parent);
		fd = covers_dir_at(AT_FDCWD, root, root, 1, err, errlen);
	}
	return fd;
}

int
covers_dir(const char *root, const char *account, int create, char *err,
    size_t errlen)
{
	char *shown;
	int rfd, fd, saved;

	if ((rfd = covers_root(root, create, err, errlen)) == -1)
		return -1;
	shown = path_join(root, account);
	fd = covers_dir_at(rfd, account, shown, create, err, errlen);
	saved = errno;
	free(shown);
	close(rfd);
	errno = saved;
	return fd;
}

/* A name covers_tmp_open() makes: ".tmp-<id or avatar>-<hex digits>". */
static int
is_tmp_name(const char *name)
{
	const char *p, *dash;
	size_t i;

	if (strncmp(name, COVERS_TMP_PREFIX, strlen(COVERS_TMP_PREFIX)) != 0)
		return 0;
	p = name + strlen(COVERS_TMP_PREFIX);
	dash = strrchr(p, '-');
	if (dash == NULL ||
	    (!valid_id(p, (size_t)(dash - p)) &&
		((size_t)(dash - p) != strlen(COVERS_AVATAR) ||
		    strncmp(p, COVERS_AVATAR, strlen(COVERS_AVATAR)) != 0)))
		return 0;
	/* 16 random hex digits; older versions wrote a decimal serial. */
	for (i = 1; dash[i] != '\0'; i++)
		if (!((dash[i] >= '0' && dash[i] <= '9') ||
			(dash[i] >= 'a' && dash[i] <= 'f')))
			return 0;
	return i > 1 && i <= 17;
}

int
covers_is_ours(const char *name)
{
	static const char *const exts[] = {"jpg", "png", "webp"};
	const char *dot = strrchr(name, '.');
	char *cover;
	size_t i;
	int ours;

	if (is_tmp_name(name))
		return 1;
	/* write_file_atomic()'s temporary file for a cover (export). */
	if (util_is_tmp_name(name)) {
		cover = xstrndup(name, (size_t)(strstr(name, UTIL_TMP_INFIX) -
						name));
		ours = !util_is_tmp_name(cover) && covers_is_ours(cover);
		free(cover);
		return ours;
	}
	if (dot == NULL || dot == name ||
	    (!valid_id(name, (size_t)(dot - name)) &&
		((size_t)(dot - name) != strlen(COVERS_AVATAR) ||
		    strncmp(name, COVERS_AVATAR, strlen(COVERS_AVATAR)) != 0)))
		return 0;
	for (i = 0; i < nitems(exts); i++)
		if (strcmp(dot + 1, exts[i]) == 0)
			return 1;
	return 0;
}

/*
 * 64 random bits for a temporary name. They are drawn eight names at a
 * time: a getrandom() call per cover was one syscall in ten of a sync.
 * Names stay as unpredictable to whoever else can write the folder.
 */
static uint64_t
tmp_random(void)
{
	static uint64_t pool[8];
	static size_t left;

	if (left == 0) {
		if (rand_bytes(pool, sizeof(pool)) == -1)
			fatalx("getrandom failed");
		left = nitems(pool);
	}
	return pool[--left];
}

char *
covers_tmp_name(const char *id)
{
	return xasprintf(COVERS_TMP_PREFIX "%s-%016llx", id,
	    (unsigned long long)tmp_random());
}

int
covers_tmp_open(int dfd, const char *id, char **tmpname, char *err,
    size_t errlen)
{
	char *name = NULL;
	int fd, tries;

	*tmpname = NULL;
	if (!valid_id(id, strlen(id)) && strcmp(id, COVERS_AVATAR) != 0)
		return errf(err, errlen, "refusing cover name for id %s", id);
	/*
	 * An unpredictable name, created with O_EXCL: whoever else can
	 * write the folder can neither guess it in advance nor own the file.
	 * The umask decides who may read it, as for every file of the mirror;
	 * only the owner writes.
	 */
	for (tries = 0; tries < 16; tries++) {
		free(name);
		name = covers_tmp_name(id);
		fd = openat(dfd, name,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd != -1) {
			*tmpname = name;
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	errf(err, errlen, "cover %s: temporary file %s: %s", id,
	    name ? name : "", strerror(errno));
	free(name);
	return -1;
}

int
covers_commit(int dfd, int fd, const char *account, const char *id,
    const char *tmpname, const unsigned char *head, size_t size, char **rel,
    char *err, size_t errlen)
{
	const char *ext;
	char *final = NULL;
	int rc = -1;

	*rel = NULL;
	ext = covers_sniff(head, size < 16 ? size : 16);
	if (size == 0)
		errf(err, errlen, "cover %s: empty response", id);
	else if (size > COVERS_MAX_BYTES)
		errf(err, errlen, "cover %s: larger than %d bytes", id,
		    COVERS_MAX_BYTES);
	else if (ext == NULL)
		errf(err, errlen, "cover %s: not a JPEG, PNG or WebP image",
		    id);
	else {
		final = xasprintf("%s.%s", id, ext);
		if (renameat(dfd, tmpname, dfd, final) == -1)
			errf(err, errlen, "cover %s: rename: %s", id,
			    strerror(errno));
		else {
			*rel = xasprintf("%s/%s", account, final);
			rc = 0;
		}
	}
	close(fd);
	if (rc == -1)
		(void)unlinkat(dfd, tmpname, 0);
	free(final);
	return rc;
}

void
covers_discard(int dfd, int fd, const char *tmpname)
{
	if (fd != -1)
		close(fd);
	(void)unlinkat(dfd, tmpname, 0);
}

int
covers_exists(const char *root, const char *rel)
{
	struct stat st;
	char *path;
	int ok;

	if (strstr(rel, "..") != NULL)
		return 0;
	path = path_join(root, rel);
	ok = lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	free(path);
	return ok;
}

int
covers_exists_at(int dfd, const char *account, const char *rel)
{
	struct stat st;
	size_t n = strlen(account);
	const char *name;

	/* Only a file of this folder: "<account>/<name>", nothing deeper. */
	if (strncmp(rel, account, n) != 0 || rel[n] != '/')
		return 0;
	name = rel + n + 1;
	if (strchr(name, '/') != NULL || strcmp(name, "..") == 0 ||
	    strcmp(name, ".") == 0)
		return 0;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > 0;
}

int
covers_sync(int dfd)
{
	/* One syncfs for every cover of the refresh (design.md allows it). */
	return syncfs(dfd);
}

int
covers_sweep(const char *root, const char *account,
    int (*keep)(const char *rel, void *arg), void *arg, char *err,
    size_t errlen)
{
	int dfd, removed;

	dfd = covers_dir(root, account, 0, err, errlen);
	if (dfd == -1)
		return errno == ENOENT ? 0 : -1;
	removed = covers_sweep_fd(dfd, account, keep, arg, err, errlen);
	close(dfd);
	return removed;
}

int
covers_sweep_fd(int dfd, const char *account,
    int (*keep)(const char *rel, void *arg), void *arg, char *err,
    size_t errlen)
{
	struct dirent *de;
	DIR *d;
	char *rel;
	int fd, removed = 0;

	/* fdopendir() takes the descriptor it is given: give it a copy. */
	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return errf(err, errlen, "%s: %s", account, strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		/* Only what we wrote: never a .gitkeep, README or user's file. */
		if (!covers_is_ours(de->d_name))
			continue;
		rel = xasprintf("%s/%s", account, de->d_name);
		if (is_tmp_name(de->d_name) || util_is_tmp_name(de->d_name) ||
		    !keep(rel, arg)) {
			if (unlinkat(dfd, de->d_name, 0) == 0)
				removed++;
		}
		free(rel);
	}
	closedir(d);
	return removed;
}
