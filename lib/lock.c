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

/*
 * Who is written in the lock file open on 'fd': "PID ROLE\n" (an older
 * tiktok-mirror wrote "PID\n"); pid 0 and role "" when unknown.
 */
static void
read_holder(int fd, struct lock_holder *h)
{
	char buf[64], *sp;
	ssize_t n;
	int64_t pid;

	memset(h, 0, sizeof(*h));
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	sp = strchr(buf, ' ');
	if (sp != NULL) {
		*sp++ = '\0';
		snprintf(h->role, sizeof(h->role), "%.*s",
		    (int)strspn(sp, "abcdefghijklmnopqrstuvwxyz"), sp);
	}
	if (parse_i64(buf, strlen(buf), 1, INT32_MAX, &pid) == 0)
		h->pid = (pid_t)pid;
}

int
lock_holder(const char *database, pid_t *holder)
{
	struct lock_holder h;
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
		read_holder(fd, &h);
		*holder = h.pid;
	} else
		rc = -1;
	close(fd);
	return rc;
}

int
lock_take(const char *database, const char *role, struct lock_holder *holder,
    char *err, size_t errlen)
{
	char *path, buf[64];
	ssize_t n;
	struct timespec pause = {0, 1000000}; /* 1 ms */
	int fd, tries;

	memset(holder, 0, sizeof(*holder));
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
		read_holder(fd, holder);
		errf(err, errlen, "%s is in use by another tiktok-mirror%s",
		    database, holder->pid ? "" : " process");
		close(fd);
		free(path);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(), role);
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}
