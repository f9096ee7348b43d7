/* SPDX-License-Identifier: ISC */
/* The database lock: see lock.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

/* The pid written in the lock file open on 'fd', or 0. */
static pid_t
read_pid(int fd)
{
	char buf[32];
	ssize_t n;
	int64_t pid;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_i64(buf, strlen(buf), 1, INT32_MAX, &pid) == -1)
		return 0;
	return (pid_t)pid;
}

int
lock_holder(const char *database, pid_t *holder)
{
	char *path;
	int fd, rc = 0;

	*holder = 0;
	path = xasprintf("%s.lock", database);
	/* Read-only: a reader (the site's group) may look, never create. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	free(path);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		(void)flock(fd, LOCK_UN);
	else if (errno == EWOULDBLOCK) {
		rc = 1;
		*holder = read_pid(fd);
	} else
		rc = -1;
	close(fd);
	return rc;
}

int
lock_take(const char *database, pid_t *holder, char *err, size_t errlen)
{
	char *path, buf[32];
	ssize_t n;
	struct timespec pause = {0, 1000000}; /* 1 ms */
	int fd, tries;

	*holder = 0;
	path = xasprintf("%s.lock", database);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	/*
	 * lock_holder() may hold a shared lock for a moment: try a few times
	 * before reporting a holder.
	 */
	for (tries = 0; flock(fd, LOCK_EX | LOCK_NB) == -1 && tries < 20;
	     tries++)
		nanosleep(&pause, NULL);
	if (tries == 20) {
		*holder = read_pid(fd);
		errf(err, errlen, "%s is in use by another tiktok-mirror%s",
		    database, *holder ? "" : " process");
		close(fd);
		free(path);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}
