/* SPDX-License-Identifier: ISC */
/* Output helpers for the reading commands. */
#include <stdio.h>

#include "log.h"
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

void
out_add(struct buf *b, const char *s)
{
	if (buf_addstr(b, s) == -1)
		fatalx("output too large");
}
