/* SPDX-License-Identifier: MIT */
/*
 * Buffered stdout for the commands that print a line per entry (decode):
 * lines are formatted by hand into one 256 KiB buffer and written with
 * fwrite when it fills (printf per field was most of the decode time,
 * issue 6 "Speed"). Nothing else writes to stdout while one is in use.
 */
#ifndef HVLOG_CLI_OUT_H
#define HVLOG_CLI_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUT_BUFFER_BYTES (256u << 10)

struct out_buffer {
    char *bytes; /* OUT_BUFFER_BYTES */
    size_t len;
    bool failed; /* a write to stdout fell short */
};

void out_flush(struct out_buffer *o);
void out_put(struct out_buffer *o, const char *s, size_t n);
void out_str(struct out_buffer *o, const char *s);
void out_u64(struct out_buffer *o, uint64_t v);
/* "0x" and lower-case hex without leading zeros, as printf's "0x%" PRIx64. */
void out_hex(struct out_buffer *o, uint64_t v);
/* Room for @n more bytes at the end (n <= OUT_BUFFER_BYTES): write through
 * the pointer, then set o->len to the end. */
char *out_reserve(struct out_buffer *o, size_t n);
/* @v as signed seconds of @unit_hz units with the unit's decimals
 * (10^7: seven); into @buf (at least 48 bytes), returns the length. */
size_t out_fmt_seconds(char *buf, int64_t v, uint64_t unit_hz, bool plus);

#endif /* HVLOG_CLI_OUT_H */
