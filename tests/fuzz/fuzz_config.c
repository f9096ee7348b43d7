/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the YAML configuration loader: cfg_load_mem() on
 * the raw input (libyaml is not instrumented; our loader is). The file is
 * taken to live in tests/fixtures/config (the harness runs from the top of
 * the tree), so relative client_secret_file and ca_file names reach real
 * files there. Alternates between a 0600 and a 0644 file, so both sides of
 * the inline client_secret rule are reached. Checks: success gives a whole
 * configuration, failure one message "PATH:" or "PATH:LINE:COLUMN:" with
 * nothing left to free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"
#include "log.h"
#include "util.h"

#define FUZZ_PATH "tests/fixtures/config/fuzz.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg cfg;
	char err[1024];
	size_t i;
	mode_t mode = size > 0 && (data[0] & 1) ? 0644 : 0600;

	log_init(LOG_QUIET);
	err[0] = '\0';
	if (cfg_load_mem(&cfg, FUZZ_PATH, (const char *)data, size, mode, err,
		sizeof(err)) == 0) {
		CHECK(cfg.client_key != NULL && cfg.client_secret != NULL);
		CHECK(cfg.redirect_uri != NULL && cfg.api_url != NULL);
		CHECK(cfg.auth_url != NULL);
		CHECK(cfg.database != NULL && cfg.secrets != NULL);
		CHECK(cfg.covers != NULL);
		CHECK(cfg.naccounts >= 1 && cfg.naccounts <= CFG_MAX_ACCOUNTS);
		CHECK(cfg.rate_limit >= 1);
		CHECK(cfg.concurrency >= 1 && cfg.concurrency <= 64);
		for (i = 0; i < cfg.naccounts; i++) {
			const struct cfg_account *a = &cfg.accounts[i];
			size_t n = strlen(a->name), k;

			CHECK(n >= 1 && n <= CFG_NAME_MAX);
			for (k = 0; k < n; k++)
				CHECK(strchr("abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789_-",
					  a->name[k]) != NULL);
			CHECK(a->start >= 1);
			CHECK(a->quantity >= 1 ||
			    a->quantity == CFG_QUANTITY_ALL);
			CHECK(cfg_account(&cfg, a->name) == a);
		}
		cfg_free(&cfg);
	} else {
		CHECK(strncmp(err, FUZZ_PATH ":", strlen(FUZZ_PATH) + 1) == 0);
		CHECK(strlen(err) < sizeof(err));
		/* Untrusted text reaches the message escaped. */
		for (i = 0; err[i] != '\0'; i++)
			CHECK((unsigned char)err[i] >= 0x20);
	}
	return 0;
}
