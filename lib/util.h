/* SPDX-License-Identifier: ISC */
/*
 * Small helpers shared by every module: allocation that never returns NULL,
 * a size-capped growable buffer, the error-buffer idiom, strict number
 * parsing, the wall clock and a few file-system helpers.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#define ERRLEN 512

/*
 * libuv calls that cannot fail on a live loop with valid arguments
 * (uv_timer_init, uv_timer_start with a callback, uv_timer_stop,
 * uv_tcp_init, uv_pipe_init, uv_fs_event_init, uv_signal_start, ...) go
 * through UV_OK(): a failure there is a bug, fatal like running out of
 * memory. Every other libuv call is checked where it is made.
 */
#define UV_OK(call) uv_ok((call), #call, __FILE__, __LINE__)
void uv_ok(int r, const char *call, const char *file, int line);

/* Allocation: out of memory is fatal, so these never return NULL. */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Format a message into 'err' (which may be NULL) and return -1, so that an
 * error path reads: return errf(err, errlen, "...", ...);
 */
int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A growable byte buffer with a hard cap ('max' bytes, 0 for none). The data
 * is always NUL-terminated. buf_add() returns -1 without changing the buffer
 * when the cap would be exceeded.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *, size_t max);
int buf_add(struct buf *, const void *, size_t)
    __attribute__((warn_unused_result));
int buf_addstr(struct buf *, const char *)
    __attribute__((warn_unused_result));
int buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));
void buf_reset(struct buf *);
void buf_free(struct buf *);
/* Take ownership of the data (never NULL); the buffer is left empty. */
char *buf_take(struct buf *, size_t *lenp);

/*
 * Parse the whole of s[0..len) as a decimal integer in [min, max]. No sign
 * other than a leading '-', no spaces, no leading '+'. Returns 0 or -1.
 */
int parse_i64(const char *s, size_t len, int64_t min, int64_t max,
    int64_t *out);

/* True when s[0..len) is 1 to 20 ASCII digits: a TikTok id. */
int valid_id(const char *s, size_t len);

/*
 * The wall clock in unix seconds and milliseconds. Every module reads time
 * through these, so tests have one seam to move it.
 */
int64_t now_unix(void);
int64_t now_ms(void);
/*
 * The real timer delay for waiting 'ms' of wall-clock time: 'ms' itself,
 * except under the test-only compressed clock.
 */
uint64_t clock_timer_ms(int64_t ms);
/*
 * Tests only: compress time from now on ("REAL:SIM:SCALE", README,
 * "Tests"; the front door passes $TIKTOK_MIRROR_TEST_CLOCK). NULL turns
 * it off. Returns 0, or -1 for a malformed spec (then it is off).
 */
int clock_compress(const char *spec);

/* A uniformly distributed random number in [0, n) (n > 0), from getrandom. */
uint64_t rand_below(uint64_t n);
/* Fill 'buf' with 'len' random bytes from the kernel. Returns 0 or -1. */
int rand_bytes(void *buf, size_t len);

/* Format a unix time as ISO 8601 UTC ("2025-06-01T12:00:00Z"). */
void fmt_iso8601(int64_t t, char *out, size_t outlen);

/*
 * Percent-encode 's' for a URL query or form body: RFC 3986 unreserved
 * characters stay, everything else becomes %XX. Returns a new string.
 */
char *url_escape(const char *s);
/*
 * Decode %XX escapes (and '+' as space when 'form' is set) of s[0..len)
 * into a new string. Returns NULL when an escape is malformed or decodes to
 * NUL.
 */
char *url_unescape(const char *s, size_t len, int form);

/* The value of hex digit 'c' (either case), or -1. */
int hex_value(int c);

/*
 * Decode the UTF-8 sequence at s[0..n) (n > 0). Returns its code point,
 * with *len the bytes it takes; or -1 for an ill-formed sequence
 * (overlong, a surrogate, beyond U+10FFFF, cut short), with *len the
 * bytes of its maximal subpart (at least 1), which Unicode recommends to
 * replace with one U+FFFD.
 */
int32_t utf8_decode(const unsigned char *s, size_t n, size_t *len);

/*
 * Read the whole regular file open on 'fd', at most 'max' bytes, into one
 * buffer sized from fstat() (no reallocation leaves a copy of a secret
 * behind; the buffer is wiped on failure). Returns 0 with the data
 * (NUL-terminated; the caller frees), its length and the file's status
 * (st may be NULL); -1 with errno: EINVAL when not a regular file, EFBIG
 * when over 'max', EAGAIN when it grew while being read.
 */
int read_fd(int fd, size_t max, char **datap, size_t *lenp, struct stat *st);
/*
 * The same for 'path', opened with O_RDONLY | O_CLOEXEC | O_NONBLOCK (a
 * FIFO never blocks the open; it is then refused) | 'oflags'.
 */
int read_file(const char *path, int oflags, size_t max, char **datap,
    size_t *lenp, struct stat *st);
/* The same for 'name' in the folder open on 'dirfd' (or AT_FDCWD). */
int read_file_at(int dirfd, const char *name, int oflags, size_t max,
    char **datap, size_t *lenp, struct stat *st);
/* What read_fd()'s errno means, for a message. */
const char *file_error(int e);
/* Write all of p[0..len) to 'fd', across short writes and EINTR. 0 or -1. */
int write_all(int fd, const void *p, size_t len);

/* mkdir -p with 'mode' for the directories it creates. Returns 0 or -1. */
int mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);
/* fsync the directory at 'path'. Returns 0 or -1 (errno set). */
int fsync_dir(const char *path);
/* Join a directory and a relative path; an absolute 'rel' is returned as is. */
char *path_join(const char *dir, const char *rel);
/* The folder that holds 'path' (a new string; "." for a bare name). */
char *path_dirname(const char *path);

/* The temporary files of write_file_atomic(): FILE.tmp.<16 hex digits>. */
#define UTIL_TMP_INFIX ".tmp."

/*
 * Write 'len' bytes to a temporary file beside 'path' (an unpredictable
 * name created with O_EXCL, so no other user can own it), fsync it, rename it
 * into place and fsync the folder, so readers see the old or the new file.
 */
int write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode, char *err, size_t errlen);
/*
 * The same inside the folder open on 'dfd': every step (the temporary
 * file, the rename, the fsync) relative to it, never through a symbolic
 * link at 'name'. 'shown' names the file in messages.
 */
int write_file_atomic_at(int dfd, const char *name, const char *shown,
    const void *data, size_t len, mode_t mode, char *err, size_t errlen);

/*
 * Terminal columns of the UTF-8 text 's': 2 for wide (CJK) characters and
 * emoji, 0 for combining marks and what joins an emoji sequence, 1 else.
 */
size_t utf8_width(const char *s);
/*
 * How many bytes of 's' fit in 'max' columns, never cutting a sequence;
 * their width in *width when it is not NULL.
 */
size_t utf8_cut_width(const char *s, size_t max, size_t *width);

/* 'mode' less the process's umask: the mode a new file or folder gets. */
mode_t umask_mode(mode_t mode);

/* True when 'name' is a temporary name of write_file_atomic(). */
int util_is_tmp_name(const char *name);

#endif
