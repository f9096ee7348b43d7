/* SPDX-License-Identifier: ISC */
/*
 * SHA-256 (FIPS 180-4), for the PKCE code challenge: TikTok wants the
 * lowercase hex of SHA-256(code_verifier), not RFC 7636's base64url.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>

#define SHA256_LEN 32

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lowercase hex of SHA-256(data) into out[65] (NUL-terminated). */
void sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1]);

#endif
