/* SPDX-License-Identifier: ISC */
/*
 * Output helpers for the reading commands; the formats themselves are
 * lib/render.h's.
 */
#ifndef OUTPUT_H
#define OUTPUT_H

struct buf;

/* Write the buffer to stdout; returns 0 or -1 (e.g. a closed pipe). */
int out_flush(struct buf *);
/* Append 's' to the buffer; past its cap the command dies. */
void out_add(struct buf *, const char *s);

#endif
