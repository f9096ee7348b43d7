/* SPDX-License-Identifier: ISC */
/*
 * sd_notify without libsystemd, after systemd's self-contained example: a
 * path or an abstract name ("@..."), connect with the exact address length
 * (so an abstract name has no trailing NULs), one non-blocking datagram so
 * a full queue can never stall the loop.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"
#include "util.h"

int
sdnotify(const char *msg)
{
	struct sockaddr_un sa;
	const char *path = getenv("NOTIFY_SOCKET");
	size_t plen, mlen = strlen(msg);
	ssize_t n;
	int fd, saved;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;
	plen = strlen(path);
	if (plen >= sizeof(sa.sun_path))
		return -E2BIG;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa,
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen)) ==
	    -1) {
		saved = errno;
		close(fd);
		return -saved;
	}
	n = write(fd, msg, mlen);
	saved = errno;
	close(fd);
	if (n == -1)
		return -saved;
	return (size_t)n == mlen ? 1 : -EPROTO;
}

int
sdnotify_watchdog(uint64_t *usec)
{
	const char *s = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	int64_t v, pid;

	if (s == NULL || parse_i64(s, strlen(s), 1, INT64_MAX, &v) == -1)
		return 0;
	if (p != NULL && (parse_i64(p, strlen(p), 1, INT32_MAX, &pid) == -1 ||
			     pid != (int64_t)getpid()))
		return 0;
	*usec = (uint64_t)v;
	return 1;
}
