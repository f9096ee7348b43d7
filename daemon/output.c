/* SPDX-License-Identifier: ISC */
/* Output helpers for the reading commands. */
#include <stdio.h>

#include "output.h"
#include "util.h"

int
out_flush(struct buf *b)
{
	int rc = 0;

	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		rc = -1;
	buf_reset(b);
	return rc;
}
