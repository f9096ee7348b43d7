/* SPDX-License-Identifier: ISC */
/*
 * Output helpers for the reading commands: JSON members, TSV fields, times.
 * Integer values equal to STORE_NULL print as null (JSON) or empty (TSV).
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdint.h>
#include <stdio.h>

struct buf;

/* ,"key":"value" (or null); 'first' suppresses the comma. */
void out_json_str(struct buf *, int first, const char *key, const char *v);
void out_json_int(struct buf *, int first, const char *key, int64_t v);
/* A TSV field with \t, \n, \r and \\ escaped; NULL as empty. */
void out_tsv_str(FILE *, int first, const char *v);
void out_tsv_int(FILE *, int first, int64_t v);
/* ISO 8601 UTC, or "-" for STORE_NULL. */
const char *out_time(int64_t t, char *buf, size_t len);
/* Write the buffer to stdout; returns 0 or -1 (e.g. a closed pipe). */
int out_flush(struct buf *);

#endif
