/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the OAuth redirect and URL helpers:
 * oauth_parse_redirect() on the input as a C string, url_unescape() (URL
 * and form flavours) on the raw bytes (no NUL terminator), and the log
 * helpers that print untrusted URLs and text: log_url() never keeps a
 * query string or fragment, log_escape() gives printable, valid UTF-8
 * within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "log.h"
#include "oauth.h"
#include "util.h"

static void
check_escaped(const char *s, size_t outlen)
{
	size_t n = strlen(s), i;

	CHECK(n < outlen);
	CHECK(fuzz_utf8_ok((const unsigned char *)s, n));
	for (i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *code, *state, *u, err[512], out[64], big[1024];
	int form, rc;

	log_init(LOG_QUIET);
	for (form = 0; form <= 1; form++) {
		u = url_unescape((const char *)data, size, form);
		if (u != NULL) {
			CHECK(strlen(u) <= size);
			if (!form)
				CHECK(memchr(data, '%', size) != NULL ||
				    memcmp(u, data, size) == 0);
			free(u);
		}
	}

	/* The rest wants a C string. */
	s = malloc(size + 1);
	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	rc = oauth_parse_redirect(s, &code, &state, err, sizeof(err));
	if (rc == 0) {
		CHECK(code != NULL && code[0] != '\0' && state != NULL);
		free(code);
		free(state);
	} else {
		CHECK(rc == 1 || rc == -1);
		CHECK(code == NULL && (rc == 1 || state == NULL));
		free(state);
		CHECK(err[0] != '\0');
		check_escaped(err, sizeof(err));
	}
	log_url(s, out, sizeof(out));
	check_escaped(out, sizeof(out));
	CHECK(strchr(out, '?') == NULL && strchr(out, '#') == NULL);
	log_escape((const char *)data, size, out, sizeof(out));
	check_escaped(out, sizeof(out));
	log_escape((const char *)data, size, big, sizeof(big));
	check_escaped(big, sizeof(big));
	free(s);
	return 0;
}
