/* SPDX-License-Identifier: MIT */
/* Buffered stdout (cli/out.h). Numbers go through the JSON encoder's
 * formatters (hvlog/trace/json.h): one way to print a number. */
#include <stdio.h>
#include <string.h>

#include "cli/out.h"
#include "hvlog/trace/json.h"

void out_flush(struct out_buffer *o)
{
    if (o->len && fwrite(o->bytes, 1, o->len, stdout) != o->len)
        o->failed = true;
    o->len = 0;
}

void out_put(struct out_buffer *o, const char *s, size_t n)
{
    if (n > OUT_BUFFER_BYTES - o->len) {
        out_flush(o);
        if (n > OUT_BUFFER_BYTES) {
            if (fwrite(s, 1, n, stdout) != n)
                o->failed = true;
            return;
        }
    }
    memcpy(o->bytes + o->len, s, n);
    o->len += n;
}

void out_str(struct out_buffer *o, const char *s)
{
    out_put(o, s, strlen(s));
}

char *out_reserve(struct out_buffer *o, size_t n)
{
    if (n > OUT_BUFFER_BYTES - o->len)
        out_flush(o);
    return o->bytes + o->len;
}

void out_u64(struct out_buffer *o, uint64_t v)
{
    char *p = out_reserve(o, 20);
    o->len = (size_t)(hvlog_json_put_u64(p, v) - o->bytes);
}

void out_hex(struct out_buffer *o, uint64_t v)
{
    char *p = out_reserve(o, 18);
    *p++ = '0';
    *p++ = 'x';
    o->len = (size_t)(hvlog_json_put_hex(p, v) - o->bytes);
}

size_t out_fmt_seconds(char *buf, int64_t v, uint64_t unit_hz, bool plus)
{
    uint64_t mag = v < 0 ? 0u - (uint64_t)v : (uint64_t)v, frac;
    size_t n = 0, digits = 0;
    char *p;

    for (uint64_t u = unit_hz; u > 1; u /= 10)
        digits++;
    if (v < 0)
        buf[n++] = '-';
    else if (plus)
        buf[n++] = '+';
    frac = mag % unit_hz;
    p = hvlog_json_put_u64(buf + n, mag / unit_hz);
    n = (size_t)(p - buf);
    buf[n++] = '.';
    for (size_t i = digits; i > 0; i--) {
        buf[n + i - 1] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return n + digits;
}
