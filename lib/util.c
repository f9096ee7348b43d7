/* SPDX-License-Identifier: ISC */
/*
 * Small helpers shared by every module. Allocation failures are fatal here
 * so that no other code needs an out-of-memory branch.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	p = malloc(size);
	if (p == NULL)
		fatalx("out of memory allocating %zu bytes", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	p = calloc(n, size);
	if (p == NULL)
		fatalx("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if (n > SIZE_MAX / size)
		fatalx("allocation overflow: %zu x %zu bytes", n, size);
	p = realloc(old, n * size);
	if (p == NULL)
		fatalx("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t len)
{
	char *p;

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) == -1)
		fatalx("out of memory formatting a string");
	va_end(ap);
	return p;
}

int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	size_t want;

	if (n > SIZE_MAX - b->len - 1)
		return -1;
	if (b->max != 0 && b->len + n > b->max)
		return -1;
	want = b->len + n + 1;
	if (want > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < want)
			cap *= 2;
		b->data = xreallocarray(b->data, cap, 1);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatalx("out of memory formatting a string");
	rc = buf_add(b, s, (size_t)n);
	free(s);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

char *
buf_take(struct buf *b, size_t *lenp)
{
	char *p;

	if (b->data == NULL && buf_add(b, "", 0) == -1)
		fatalx("buf_take: empty buffer over its cap");
	p = b->data;
	if (lenp != NULL)
		*lenp = b->len;
	buf_init(b, b->max);
	return p;
}

int
parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v = 0, limit;
	size_t i = 0;
	int neg = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len || len - i > 19)
		return -1;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (limit - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg) {
		int64_t r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN
							  : -(int64_t)v;
		if (r < min || r > max)
			return -1;
		*out = r;
	} else {
		if ((int64_t)v < min || (int64_t)v > max)
			return -1;
		*out = (int64_t)v;
	}
	return 0;
}

int
valid_id(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 20)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * The test-only clock seam (README, "Tests"), set by the program's front
 * door from $TIKTOK_MIRROR_TEST_CLOCK="REAL:SIM:SCALE": the wall clock reads
 * SIM ms at real time REAL ms and runs SCALE times faster, and scheduling
 * delays shrink by the same factor (clock_timer_ms), while transfer
 * timeouts stay real: time compressed for the daemon's logic, not for its
 * sockets. Process-wide, like the log: every module reads time here.
 */
static struct {
	int on;
	int64_t real0, sim0, scale;
} clk;

static int64_t
real_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatalx("clock_gettime failed");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
clock_compress(const char *spec)
{
	long long r, v, k;
	int n = 0;

	clk.on = 0;
	if (spec == NULL)
		return 0;
	if (sscanf(spec, "%lld:%lld:%lld%n", &r, &v, &k, &n) != 3 ||
	    spec[n] != '\0' || k < 1 || k > 10000000)
		return -1;
	clk.on = 1;
	clk.real0 = r;
	clk.sim0 = v;
	clk.scale = k;
	return 0;
}

int64_t
now_ms(void)
{
	if (!clk.on)
		return real_ms();
	return clk.sim0 + (real_ms() - clk.real0) * clk.scale;
}

int64_t
now_unix(void)
{
	return now_ms() / 1000;
}

uint64_t
clock_timer_ms(int64_t ms)
{
	if (ms <= 0)
		return 0;
	if (!clk.on)
		return (uint64_t)ms;
	return (uint64_t)((ms + clk.scale - 1) / clk.scale);
}

int
rand_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

uint64_t
rand_below(uint64_t n)
{
	uint64_t r, lim;

	if (n <= 1)
		return 0;
	lim = UINT64_MAX - UINT64_MAX % n;
	do {
		if (rand_bytes(&r, sizeof(r)) == -1)
			fatalx("getrandom failed");
	} while (r >= lim);
	return r % n;
}

void
fmt_iso8601(int64_t t, char *out, size_t outlen)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, outlen, "%lld", (long long)t);
}

int
mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char *p, *s;
	int rc = -1;

	p = xstrdup(path);
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST) {
			errf(err, errlen, "%s: cannot create folder: %s", p,
			    strerror(errno));
			goto out;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

int
fsync_dir(const char *path)
{
	int fd, rc, saved;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

char *
path_join(const char *dir, const char *rel)
{
	size_t n;

	if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
		return xstrdup(rel);
	n = strlen(dir);
	if (n > 0 && dir[n - 1] == '/')
		return xasprintf("%s%s", dir, rel);
	return xasprintf("%s/%s", dir, rel);
}

char *
path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char *dir = path_dirname(path);
	const char *base = strrchr(path, '/');
	int dfd, rc;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		rc = errf(err, errlen, "%s: %s", path, strerror(errno));
		free(dir);
		return rc;
	}
	rc = write_file_atomic_at(dfd, base != NULL ? base + 1 : path, path,
	    data, len, mode, err, errlen);
	close(dfd);
	free(dir);
	return rc;
}

int
write_file_atomic_at(int dfd, const char *name, const char *shown,
    const void *data, size_t len, mode_t mode, char *err, size_t errlen)
{
	char *tmp = NULL;
	int fd = -1, rc = -1, tries;
	uint64_t r;

	/*
	 * An unpredictable name, created with O_EXCL: in a shared (sticky)
	 * folder another user could otherwise create FILE.tmp.<pid> first
	 * and own the file we publish.
	 */
	for (tries = 0; tries < 16 && fd == -1; tries++) {
		if (rand_bytes(&r, sizeof(r)) == -1) {
			errf(err, errlen, "%s: getrandom: %s", shown,
			    strerror(errno));
			goto out;
		}
		free(tmp);
		tmp = xasprintf("%s" UTIL_TMP_INFIX "%016llx", name,
		    (unsigned long long)r);
		fd = openat(dfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		errf(err, errlen, "%s%s: %s", shown, UTIL_TMP_INFIX,
		    strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (write_all(fd, data, len) == -1) {
		errf(err, errlen, "%s: write: %s", shown, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		errf(err, errlen, "%s: %s", shown, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		errf(err, errlen, "%s: close: %s", shown, strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) == -1) {
		errf(err, errlen, "%s: rename: %s", shown, strerror(errno));
		goto out;
	}
	(void)fsync(dfd);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (rc == -1 && tmp != NULL)
		(void)unlinkat(dfd, tmp, 0);
	free(tmp);
	return rc;
}

mode_t
umask_mode(mode_t mode)
{
	mode_t m = umask(0);

	(void)umask(m);
	return mode & ~m;
}

int
util_is_tmp_name(const char *name)
{
	const char *p = strstr(name, UTIL_TMP_INFIX);
	size_t i;

	if (p == NULL || p == name)
		return 0;
	p += strlen(UTIL_TMP_INFIX);
	for (i = 0; p[i] != '\0'; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
			(p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return i == 16;
}

char *
url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	char *out, *o;

	out = o = xmalloc(strlen(s) * 3 + 1);
	for (; *u != '\0'; u++) {
		if ((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
		    (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' ||
		    *u == '_' || *u == '~') {
			*o++ = (char)*u;
		} else {
			*o++ = '%';
			*o++ = hex[*u >> 4];
			*o++ = hex[*u & 15];
		}
	}
	*o = '\0';
	return out;
}

int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int32_t
utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, k;
	int32_t cp;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		/* The second byte's range excludes overlongs and surrogates. */
		need = 2;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		/* ... and overlongs and code points beyond U+10FFFF. */
		need = 3;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return -1;
	k = 1;
	if (k < n && s[k] >= lo && s[k] <= hi) {
		cp = cp << 6 | (s[k] & 0x3f);
		k++;
		while (k <= need && k < n && s[k] >= 0x80 && s[k] <= 0xbf) {
			cp = cp << 6 | (s[k] & 0x3f);
			k++;
		}
	}
	*len = k;
	return k == need + 1 ? cp : -1;
}

int
read_fd(int fd, size_t max, char **datap, size_t *lenp, struct stat *st)
{
	struct stat sb;
	char *data;
	size_t len = 0, cap;
	ssize_t n;

	if (st == NULL)
		st = &sb;
	if (fstat(fd, st) == -1)
		return -1;
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (st->st_size > (off_t)max) {
		errno = EFBIG;
		return -1;
	}
	/* One byte more than the file holds, to see it end. */
	cap = (size_t)st->st_size + 1;
	data = xmalloc(cap);
	while (len < cap) {
		n = read(fd, data + len, cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == cap) {
		/* It grew while we read it. */
		errno = len > max ? EFBIG : EAGAIN;
		goto fail;
	}
	data[len] = '\0';
	*datap = data;
	*lenp = len;
	return 0;
fail:
	explicit_bzero(data, len);
	free(data);
	return -1;
}

int
read_file(const char *path, int oflags, size_t max, char **datap,
    size_t *lenp, struct stat *st)
{
	return read_file_at(AT_FDCWD, path, oflags, max, datap, lenp, st);
}

int
read_file_at(int dirfd, const char *name, int oflags, size_t max,
    char **datap, size_t *lenp, struct stat *st)
{
	int fd, rc, saved;

	/*
	 * O_NONBLOCK: opening a FIFO would otherwise wait for a writer,
	 * hanging every command; read_fd() then refuses it (not a regular
	 * file), and a regular file ignores the flag.
	 */
	fd = openat(dirfd, name,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | oflags);
	if (fd == -1)
		return -1;
	rc = read_fd(fd, max, datap, lenp, st);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

const char *
file_error(int e)
{
	if (e == EINVAL)
		return "not a regular file";
	if (e == EAGAIN)
		return "it changed while being read; try again";
	return strerror(e);
}

int
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, c, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

char *
url_unescape(const char *s, size_t len, int form)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	out = o = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3)
				goto bad;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && form) {
			*o++ = ' ';
		} else if (s[i] == '\0') {
			goto bad;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/*
 * Terminal display width (issue 14: `videos --table` aligns TikTok titles,
 * which are full of emoji and CJK). A code point is 0 columns wide when it
 * combines with the one before (combining marks, zero-width joiners and
 * spaces, variation selectors, emoji modifiers and tags), 2 when it is
 * East Asian Wide or Fullwidth (UAX #11) or an emoji shown as a picture
 * by default (UTS #51, Emoji_Presentation), else 1: what wcwidth() gives
 * in a UTF-8 locale, without depending on the locale. Two more rules make
 * emoji sequences one picture, as terminals draw them: a code point after
 * a zero-width joiner adds nothing, and a pair of regional indicators (a
 * flag) is 2 columns.
 */
struct range {
	uint32_t lo, hi;
};

static const struct range zero_width[] = {{0x0300, 0x036f},
    {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x05bf, 0x05bf}, {0x05c1, 0x05c2},
    {0x05c4, 0x05c5}, {0x05c7, 0x05c7}, {0x0610, 0x061a}, {0x064b, 0x065f},
    {0x0670, 0x0670}, {0x06d6, 0x06dc}, {0x06df, 0x06e4}, {0x06e7, 0x06e8},
    {0x06ea, 0x06ed}, {0x0900, 0x0902}, {0x093a, 0x093a}, {0x093c, 0x093c},
    {0x0941, 0x0948}, {0x094d, 0x094d}, {0x0951, 0x0957}, {0x0962, 0x0963},
    {0x0981, 0x0981}, {0x09bc, 0x09bc}, {0x09c1, 0x09c4}, {0x09cd, 0x09cd},
    {0x0e31, 0x0e31}, {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e}, {0x0eb1, 0x0eb1},
    {0x0eb4, 0x0ebc}, {0x0ec8, 0x0ece}, {0x1160, 0x11ff}, {0x1ab0, 0x1aff},
    {0x1dc0, 0x1dff}, {0x200b, 0x200f}, {0x202a, 0x202e}, {0x2060, 0x2064},
    {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff},
    {0x1f3fb, 0x1f3ff}, {0xe0000, 0xe007f}, {0xe0100, 0xe01ef}};

static const struct range wide[] = {{0x1100, 0x115f}, {0x231a, 0x231b},
    {0x2329, 0x232a}, {0x23e9, 0x23ec}, {0x23f0, 0x23f0}, {0x23f3, 0x23f3},
    {0x25fd, 0x25fe}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267f, 0x267f},
    {0x2693, 0x2693}, {0x26a1, 0x26a1}, {0x26aa, 0x26ab}, {0x26bd, 0x26be},
    {0x26c4, 0x26c5}, {0x26ce, 0x26ce}, {0x26d4, 0x26d4}, {0x26ea, 0x26ea},
    {0x26f2, 0x26f3}, {0x26f5, 0x26f5}, {0x26fa, 0x26fa}, {0x26fd, 0x26fd},
    {0x2705, 0x2705}, {0x270a, 0x270b}, {0x2728, 0x2728}, {0x274c, 0x274c},
    {0x274e, 0x274e}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
    {0x27b0, 0x27b0}, {0x27bf, 0x27bf}, {0x2b1b, 0x2b1c}, {0x2b50, 0x2b50},
    {0x2b55, 0x2b55}, {0x2e80, 0x303e}, {0x3041, 0x33ff}, {0x3400, 0x4dbf},
    {0x4e00, 0x9fff}, {0xa000, 0xa4cf}, {0xa960, 0xa97f}, {0xac00, 0xd7a3},
    {0xf900, 0xfaff}, {0xfe10, 0xfe19}, {0xfe30, 0xfe6f}, {0xff00, 0xff60},
    {0xffe0, 0xffe6}, {0x16fe0, 0x16fe4}, {0x17000, 0x18cff},
    {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
    {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f251},
    {0x1f300, 0x1f320}, {0x1f32d, 0x1f335}, {0x1f337, 0x1f37c},
    {0x1f37e, 0x1f393}, {0x1f3a0, 0x1f3ca}, {0x1f3cf, 0x1f3d3},
    {0x1f3e0, 0x1f3f0}, {0x1f3f4, 0x1f3f4}, {0x1f3f8, 0x1f43e},
    {0x1f440, 0x1f440}, {0x1f442, 0x1f4fc}, {0x1f4ff, 0x1f53d},
    {0x1f54b, 0x1f54e}, {0x1f550, 0x1f567}, {0x1f57a, 0x1f57a},
    {0x1f595, 0x1f596}, {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f},
    {0x1f680, 0x1f6c5}, {0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2},
    {0x1f6d5, 0x1f6d7}, {0x1f6dc, 0x1f6df}, {0x1f6eb, 0x1f6ec},
    {0x1f6f4, 0x1f6fc}, {0x1f7e0, 0x1f7eb}, {0x1f7f0, 0x1f7f0},
    {0x1f90c, 0x1f93a}, {0x1f93c, 0x1f945}, {0x1f947, 0x1f9ff},
    {0x1fa70, 0x1faff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd}};

static int
in_ranges(uint32_t cp, const struct range *r, size_t n)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp > r[mid].hi)
			lo = mid + 1;
		else if (cp < r[mid].lo)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

#define ZWJ 0x200d
#define IS_REGIONAL(cp) ((cp) >= 0x1f1e6 && (cp) <= 0x1f1ff)

/*
 * The width of the next character of s[0..n), given the code point
 * before it ('prev', 0 at the start), and its length in *len (at least 1:
 * an invalid byte counts as one column, as it is shown escaped or as a
 * replacement character).
 */
static int
char_width(const char *s, size_t n, uint32_t *prev, size_t *len)
{
	int32_t c;
	uint32_t cp;
	int w;

	c = utf8_decode((const unsigned char *)s, n, len);
	if (c == -1) {
		*prev = 0;
		return 1; /* shown as one U+FFFD */
	}
	cp = (uint32_t)c;
	if (*prev == ZWJ && cp != ZWJ)
		w = 0; /* joined into the picture before it */
	else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		w = 0;
	else if (cp == ZWJ || in_ranges(cp, zero_width, nitems(zero_width)))
		w = 0;
	else if (IS_REGIONAL(cp))
		w = IS_REGIONAL(*prev) ? 0 : 2; /* a flag is a pair */
	else
		w = in_ranges(cp, wide, nitems(wide)) ? 2 : 1;
	/* A flag's second half starts no new pair. */
	*prev = IS_REGIONAL(cp) && IS_REGIONAL(*prev) ? 0 : cp;
	return w;
}

size_t
utf8_width(const char *s)
{
	size_t n = strlen(s), i = 0, len, w = 0;
	uint32_t prev = 0;

	while (i < n) {
		w += (size_t)char_width(s + i, n - i, &prev, &len);
		i += len;
	}
	return w;
}

size_t
utf8_cut_width(const char *s, size_t max, size_t *width)
{
	size_t n = strlen(s), i = 0, len, w = 0;
	uint32_t prev = 0;
	int cw;

	while (i < n) {
		cw = char_width(s + i, n - i, &prev, &len);
		if (w + (size_t)cw > max)
			break;
		w += (size_t)cw;
		i += len;
	}
	if (width != NULL)
		*width = w;
	return i;
}

void
uv_ok(int r, const char *call, const char *file, int line)
{
	if (r != 0)
		fatalx("internal error: %s:%d: %s: %s", file, line, call,
		    uv_strerror(r));
}
