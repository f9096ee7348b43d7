/* SPDX-License-Identifier: ISC */
/*
 * Helpers shared by the unit tests that touch the file system: a scratch
 * folder under $TMPDIR (or /tmp) made with mkdtemp() and removed with
 * everything in it, and whole-file read and write. Include after
 * <cmocka.h>; every helper fails the running test instead of returning an
 * error.
 */
#ifndef UNIT_H
#define UNIT_H

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* A new empty folder "<tmp>/tm-<tag>-XXXXXX"; rm_rf() frees it. */
static inline char *
tmp_dir(const char *tag)
{
	const char *t = getenv("TMPDIR");
	char *dir;

	dir = xasprintf("%s/tm-%s-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp", tag);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static inline int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove 'dir' and everything below it (never following links). */
static inline void
rm_rf(char *dir)
{
	if (dir == NULL)
		return;
	(void)chmod(dir, 0700);
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

/* The whole of 'path' (NUL-terminated) and its length, or NULL. */
static inline char *
slurp(const char *path, size_t *lenp)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_add(&b, chunk, (size_t)n), 0);
	assert_int_equal(n, 0);
	close(fd);
	return buf_take(&b, lenp);
}

/* Create or replace 'path' with data[0..len) and exactly 'mode'. */
static inline void
spew(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	assert_true(unlink(path) == 0 || errno == ENOENT);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* The permission bits of 'path' (not following a final link). */
static inline mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Number of entries (besides . and ..) in folder 'dir'. */
static inline int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

#endif
