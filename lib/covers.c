/* SPDX-License-Identifier: ISC */
/*
 * The cover cache. Every file operation goes through a descriptor of the
 * account's folder with O_NOFOLLOW, so a planted symlink can never make us
 * write outside it. Temporary files are O_EXCL and named ".tmp-<id>-<rand>";
 * covers_sweep() removes the ones a crash left behind.
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
covers_dir(const char *root, const char *account, int create, char *err,
    size_t errlen)
{
	char *path;
	int fd, saved;

	path = path_join(root, account);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create) {
		if (mkdir_p(path, 0750, err, errlen) == -1) {
			free(path);
			return -1;
		}
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd == -1) {
		saved = errno;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		errno = saved;
	}
	free(path);
	return fd;
}

/* Whether the umask takes a bit of 0640 away, asked once. */
static int
umask_narrows(void)
{
	static int narrows = -1;
	mode_t m;

	if (narrows == -1) {
		m = umask(0);
		(void)umask(m);
		narrows = (m & 0640) != 0;
	}
	return narrows;
}

int
covers_tmp_open(int dfd, const char *id, char **tmpname, char *err,
    size_t errlen)
{
	static unsigned int serial;
	char *name;
	int fd, tries;

	*tmpname = NULL;
	if (!valid_id(id, strlen(id)) && strcmp(id, COVERS_AVATAR) != 0)
		return errf(err, errlen, "refusing cover name for id %s", id);
	/* Only this process writes here (the mirror's lock): a serial
	 * number is unique but for what a crash left, which is skipped. */
	for (tries = 0; tries < 100; tries++) {
		name = xasprintf(COVERS_TMP_PREFIX "%s-%u", id, serial++);
		fd = openat(dfd, name,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (fd != -1) {
			/* Readable by the service's group whatever the umask. */
			if (umask_narrows())
				(void)fchmod(fd, 0640);
			*tmpname = name;
			return fd;
		}
		if (errno != EEXIST)
			break;
		free(name);
		name = NULL;
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
	struct dirent *de;
	DIR *d;
	char *rel;
	int dfd, removed = 0;

	dfd = covers_dir(root, account, 0, err, errlen);
	if (dfd == -1)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return errf(err, errlen, "%s/%s: %s", root, account,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		rel = xasprintf("%s/%s", account, de->d_name);
		if (strncmp(de->d_name, COVERS_TMP_PREFIX,
			strlen(COVERS_TMP_PREFIX)) == 0 ||
		    !keep(rel, arg)) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				removed++;
		}
		free(rel);
	}
	closedir(d);
	return removed;
}
