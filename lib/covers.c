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

/* Open (creating) <root>/<account>/ as a directory fd. */
static int
account_dir(const char *root, const char *account, int create, char *err,
    size_t errlen)
{
	char *path;
	int fd;

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
	if (fd == -1)
		errf(err, errlen, "%s: %s", path, strerror(errno));
	free(path);
	return fd;
}

int
covers_tmp_open(const char *root, const char *account, const char *id,
    char **tmpname, char *err, size_t errlen)
{
	unsigned int r;
	char *name;
	int dfd, fd;

	if (!valid_id(id, strlen(id)) && strcmp(id, COVERS_AVATAR) != 0)
		return errf(err, errlen, "refusing cover name for id %s", id);
	dfd = account_dir(root, account, 1, err, errlen);
	if (dfd == -1)
		return -1;
	r = (unsigned int)rand_below(1u << 31);
	name = xasprintf(COVERS_TMP_PREFIX "%s-%08x", id, r);
	fd = openat(dfd, name,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd == -1) {
		errf(err, errlen, "%s/%s/%s: %s", root, account, name,
		    strerror(errno));
		free(name);
		close(dfd);
		return -1;
	}
	/* Readable by the service's group whatever the umask. */
	(void)fchmod(fd, 0640);
	close(dfd);
	*tmpname = name;
	return fd;
}

int
covers_commit(int fd, const char *root, const char *account, const char *id,
    const char *tmpname, char **rel, char *err, size_t errlen)
{
	unsigned char head[16];
	const char *ext;
	char *final = NULL;
	struct stat st;
	ssize_t n;
	int dfd = -1, rc = -1;

	*rel = NULL;
	if (fstat(fd, &st) == -1) {
		errf(err, errlen, "cover %s: %s", id, strerror(errno));
		goto out;
	}
	if (st.st_size == 0) {
		errf(err, errlen, "cover %s: empty response", id);
		goto out;
	}
	if (st.st_size > COVERS_MAX_BYTES) {
		errf(err, errlen, "cover %s: larger than %d bytes", id,
		    COVERS_MAX_BYTES);
		goto out;
	}
	n = pread(fd, head, sizeof(head), 0);
	ext = n > 0 ? covers_sniff(head, (size_t)n) : NULL;
	if (ext == NULL) {
		errf(err, errlen, "cover %s: not a JPEG, PNG or WebP image",
		    id);
		goto out;
	}
	dfd = account_dir(root, account, 0, err, errlen);
	if (dfd == -1)
		goto out;
	final = xasprintf("%s.%s", id, ext);
	if (renameat(dfd, tmpname, dfd, final) == -1) {
		errf(err, errlen, "cover %s: rename: %s", id, strerror(errno));
		goto out;
	}
	*rel = xasprintf("%s/%s", account, final);
	rc = 0;
out:
	close(fd);
	if (rc == -1) {
		if (dfd == -1)
			dfd = account_dir(root, account, 0, NULL, 0);
		if (dfd != -1)
			(void)unlinkat(dfd, tmpname, 0);
	}
	if (dfd != -1)
		close(dfd);
	free(final);
	return rc;
}

void
covers_discard(int fd, const char *root, const char *account,
    const char *tmpname)
{
	int dfd;

	if (fd != -1)
		close(fd);
	dfd = account_dir(root, account, 0, NULL, 0);
	if (dfd != -1) {
		(void)unlinkat(dfd, tmpname, 0);
		close(dfd);
	}
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
covers_sync(const char *root, const char *account)
{
	int dfd, rc;

	dfd = account_dir(root, account, 0, NULL, 0);
	if (dfd == -1)
		return errno == ENOENT ? 0 : -1;
	/* One syncfs for every cover of the refresh (design.md allows it). */
	rc = syncfs(dfd);
	close(dfd);
	return rc;
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

	dfd = account_dir(root, account, 0, err, errlen);
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
