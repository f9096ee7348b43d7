/* SPDX-License-Identifier: ISC */
/*
 * Shared by the libFuzzer harnesses: checks that abort with a message, so
 * a broken invariant is a crash libFuzzer records, and a UTF-8 validator
 * for decoded text.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			    __LINE__, #cond);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

/* The shortest UTF-8 encoding of 'cp' (at most U+10FFFF) into b[0..4). */
static inline size_t
fuzz_utf8_encode(uint32_t cp, unsigned char *b)
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * True when s[0..n) is well-formed UTF-8 and holds no NUL. Written apart
 * from lib/util.c's decoder (Unicode Table 3-7's byte ranges) on purpose,
 * so that it checks the library instead of repeating it: each sequence is
 * decoded leniently by its bit pattern (a lead byte 0xxxxxxx, 110xxxxx,
 * 1110xxxx or 11110xxx, then that many 10xxxxxx bytes), then accepted only
 * when the code point is a Unicode scalar value (no surrogate, at most
 * U+10FFFF) whose shortest encoding is exactly those bytes (no overlong).
 */
static inline int
fuzz_utf8_ok(const unsigned char *s, size_t n)
{
	unsigned char enc[4];
	uint32_t cp;
	size_t i = 0, k, ones, len;

	while (i < n) {
		/* The leading 1 bits: 0 for ASCII, else the length. */
		for (ones = 0; ones < 8 && ((s[i] << ones) & 0x80); ones++)
			;
		len = ones == 0 ? 1 : ones;
		if (s[i] == 0 || ones == 1 || ones > 4 || n - i < len)
			return 0;
		cp = s[i] & (0xffu >> (ones + 1));
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    fuzz_utf8_encode(cp, enc) != len ||
		    memcmp(enc, s + i, len) != 0)
			return 0;
		i += len;
	}
	return 1;
}

#endif
