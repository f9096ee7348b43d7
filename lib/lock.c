/* SPDX-License-Identifier: ISC */
/* The database lock: see lock.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

int
lock_take(const char *database, pid_t *holder, char *err, size_t errlen)
{
	char *path, buf[32];
	ssize_t n;
	int64_t pid;
	int fd;

	*holder = 0;
	path = xasprintf("%s.lock", database);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (parse_i64(buf, strlen(buf), 1, INT32_MAX, &pid) ==
			    0)
				*holder = (pid_t)pid;
		}
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
