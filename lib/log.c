/* SPDX-License-Identifier: ISC */
/*
 * Logging to stderr, one line per message. When stderr is journald's
 * stream ($JOURNAL_STREAM names its device and inode, as systemd.exec(5)
 * says to check) each line starts with an sd-daemon priority prefix so
 * journald keeps the level; on a terminal or in a file each line starts
 * with an ISO 8601 time and a level word. A variable inherited by a child
 * whose stderr goes elsewhere (a pipe, a file) therefore changes nothing.
 * Messages are written with one write(2) so lines from different processes
 * do not interleave.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX 2048

static int log_level = LOG_NORMAL;
static int log_journal;

static const struct {
	const char *prefix;
	const char *word;
} levels[] = {
	{"<3>", "error"},
	{"<4>", "warning"},
	{"<6>", "info"},
	{"<7>", "debug"},
};

enum { LV_ERR, LV_WARN, LV_INFO, LV_DEBUG };

/* Whether $JOURNAL_STREAM ("DEVICE:INODE", decimal) is stderr. */
static int
journal_stream(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (v == NULL || sscanf(v, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    v[n] != '\0' || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int verbosity)
{
	log_level = verbosity;
	log_journal = journal_stream();
}

int
log_verbosity(void)
{
	return log_level;
}

static void vlog(int, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

/* 'bare': no time and level word (the journal's prefix stays). */
static void
vlog(int lv, int bare, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], when[32];
	struct tm tm;
	time_t t;
	int saved = errno, n;
	size_t len;

	if (log_journal) {
		n = snprintf(line, sizeof(line), "%s", levels[lv].prefix);
	} else if (bare) {
		n = 0;
		line[0] = '\0';
	} else {
		t = (time_t)now_unix(); /* the test clock seam too */
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = snprintf(line, sizeof(line), "%s %s: ", when,
		    levels[lv].word);
	}
	len = n < 0 ? 0 : (size_t)n;
	if (len < sizeof(line)) {
		n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		if (n > 0)
			len += (size_t)n;
	}
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
	errno = saved;
}

#define LOGFN(name, lv, min, bare)                                             \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
                                                                               \
		if (log_level < (min))                                         \
			return;                                                \
		va_start(ap, fmt);                                             \
		vlog(lv, bare, fmt, ap);                                       \
		va_end(ap);                                                    \
	}

LOGFN(log_err, LV_ERR, LOG_QUIET, 0)
LOGFN(log_warnx, LV_WARN, LOG_NORMAL, 0)
LOGFN(log_info, LV_INFO, LOG_NORMAL, 0)
LOGFN(log_debug, LV_DEBUG, LOG_VERBOSE, 0)
LOGFN(log_bare, LV_ERR, LOG_QUIET, 1)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LV_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * True for a code point a terminal or a viewer acts on instead of showing:
 * a C0 control, DEL, a C1 control (U+0080..U+009F; U+009B is a CSI that
 * can retitle or clear a terminal) or a bidirectional override, embedding,
 * isolate or mark, which can make text read as something else.
 */
static int
unsafe_cp(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x61c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* Bytes of s to copy as they are, or 0 when s[0] must become \\xNN. */
static size_t
esc_seq(const unsigned char *s, size_t n)
{
	size_t seq = log_plain_seq((const char *)s, n);

	if (seq == 1 && s[0] == '\\')
		return 0;
	return seq;
}

size_t
log_plain_seq(const char *p, size_t n)
{
	size_t seq;
	int32_t cp = utf8_decode((const unsigned char *)p, n, &seq);

	/* -1, invalid UTF-8, is no character either. */
	return cp < 0 || unsafe_cp(cp) ? 0 : seq;
}

char *
log_escape(const char *s, size_t len, char *out, size_t outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, seq, need = 0, room;

	if (outlen == 0)
		return out;
	/* Keep room for "..." only when the escaped text does not fit. */
	while (i < len && need < outlen) {
		seq = esc_seq(u + i, len - i);
		need += seq == 0 ? 4 : seq;
		i += seq == 0 ? 1 : seq;
	}
	room = need < outlen ? 1 : 4;
	i = 0;
	while (i < len) {
		seq = esc_seq(u + i, len - i);
		if (seq == 0) {
			if (o + 4 + room > outlen)
				break;
			snprintf(out + o, outlen - o, "\\x%02x", u[i]);
			o += 4;
			i++;
			continue;
		}
		if (o + seq + room > outlen)
			break;
		memcpy(out + o, u + i, seq);
		o += seq;
		i += seq;
	}
	if (i < len && outlen >= 4) {
		if (o + 4 > outlen)
			o = outlen - 4;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

char *
log_url(const char *url, char *out, size_t outlen)
{
	size_t n = strcspn(url, "?#");

	return log_escape(url, n, out, outlen);
}
