/* SPDX-License-Identifier: MIT */
/*
 * The streaming JSON writer (hvlog/trace/json.h).
 *
 * State: a stack of open containers, one level per '[' or '{', each with
 * its element count and, for objects, whether a key is waiting for its
 * value. The rule every primitive follows:
 *
 *     before_value()  -- check a value may come here, write the separator
 *     <the value's bytes>
 *     after_value()   -- count it
 *
 * Output goes to a 64 KiB buffer, flushed to the sink when nearly full and
 * at close. Integers are formatted by hand (no printf on the hot path: the
 * Perfetto export writes millions of them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"
#include "hvlog/trace/json.h"

#define OUT_CAP ((size_t)64 * 1024)
#define OUT_SLACK 64u /* room for one number or escape without a check */

struct level {
    bool object;
    bool key_pending; /* object: a key was written, its value is due */
    uint64_t count;   /* values (arrays) or members (objects) so far */
};

struct hvlog_json_writer {
    hvlog_json_sink_fn sink;
    void *arg;
    bool pretty;
    enum hvlog_export_status status;
    int sink_error; /* what the sink returned when it failed: an errno value for the file sinks */
    uint32_t depth;
    bool top_done; /* the document's one top-level value is complete */
    struct level stack[HVLOG_JSON_MAX_DEPTH];
    uint64_t flushed;
    size_t used;
    char out[OUT_CAP];
};

int hvlog_json_sink_file(void *arg, const char *bytes, size_t len)
{
    errno = 0;
    if (fwrite(bytes, 1, len, (FILE *)arg) == len)
        return 0;
    return errno ? errno : EIO;
}

struct hvlog_json_writer *hvlog_json_writer_create(hvlog_json_sink_fn sink, void *arg,
                                                   unsigned flags)
{
    struct hvlog_json_writer *w;

    if (!sink)
        return NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->sink = sink;
    w->arg = arg;
    w->pretty = (flags & HVLOG_JSON_PRETTY) != 0;
    w->status = HVLOG_EXPORT_OK;
    return w;
}

static void flush(struct hvlog_json_writer *w)
{
    if (w->used == 0)
        return;
    if (w->status == HVLOG_EXPORT_OK && (w->sink_error = w->sink(w->arg, w->out, w->used)) != 0)
        w->status = HVLOG_EXPORT_IO;
    w->flushed += w->used;
    w->used = 0;
}

/* Make room for @n more bytes (n <= OUT_CAP). */
static inline void reserve(struct hvlog_json_writer *w, size_t n)
{
    if (OUT_CAP - w->used < n)
        flush(w);
}

static void put(struct hvlog_json_writer *w, const char *s, size_t n)
{
    while (n > 0) {
        size_t room;

        reserve(w, 1);
        room = OUT_CAP - w->used;
        if (room > n)
            room = n;
        memcpy(w->out + w->used, s, room);
        w->used += room;
        s += room;
        n -= room;
    }
}

static inline void put_char(struct hvlog_json_writer *w, char c)
{
    reserve(w, 1);
    w->out[w->used++] = c;
}

static void newline_indent(struct hvlog_json_writer *w, uint32_t depth)
{
    put_char(w, '\n');
    for (uint32_t i = 0; i < depth; i++)
        put(w, "  ", 2);
}

static bool fail(struct hvlog_json_writer *w)
{
    if (w->status == HVLOG_EXPORT_OK)
        w->status = HVLOG_EXPORT_INVALID;
    return false;
}

/* Check that a value may come next and write what separates it. */
static bool before_value(struct hvlog_json_writer *w)
{
    struct level *l;

    if (w->status != HVLOG_EXPORT_OK)
        return false;
    if (w->depth == 0)
        return w->top_done ? fail(w) : true;
    l = &w->stack[w->depth - 1];
    if (l->object)
        return l->key_pending ? true : fail(w);
    if (l->count > 0)
        put_char(w, ',');
    if (w->pretty)
        newline_indent(w, w->depth);
    return true;
}

static void after_value(struct hvlog_json_writer *w)
{
    struct level *l;

    if (w->depth == 0) {
        w->top_done = true;
        return;
    }
    l = &w->stack[w->depth - 1];
    l->count++;
    l->key_pending = false;
}

static void open_container(struct hvlog_json_writer *w, bool object)
{
    if (!before_value(w))
        return;
    if (w->depth == HVLOG_JSON_MAX_DEPTH) {
        fail(w);
        return;
    }
    put_char(w, object ? '{' : '[');
    w->stack[w->depth].object = object;
    w->stack[w->depth].key_pending = false;
    w->stack[w->depth].count = 0;
    w->depth++;
}

static void close_container(struct hvlog_json_writer *w, bool object)
{
    struct level *l;

    if (w->status != HVLOG_EXPORT_OK)
        return;
    if (w->depth == 0) {
        fail(w);
        return;
    }
    l = &w->stack[w->depth - 1];
    if (l->object != object || l->key_pending) {
        fail(w);
        return;
    }
    w->depth--;
    if (w->pretty && l->count > 0)
        newline_indent(w, w->depth);
    put_char(w, object ? '}' : ']');
    after_value(w);
}

void hvlog_json_object_begin(struct hvlog_json_writer *w)
{
    open_container(w, true);
}

void hvlog_json_object_end(struct hvlog_json_writer *w)
{
    close_container(w, true);
}

void hvlog_json_array_begin(struct hvlog_json_writer *w)
{
    open_container(w, false);
}

void hvlog_json_array_end(struct hvlog_json_writer *w)
{
    close_container(w, false);
}

static const char hex_digits[] = "0123456789abcdef";

/*
 * The one JSON string encoder (issue 12: decode's line encoder and this
 * writer used to be two that had to agree byte for byte). RFC 8259:
 * '"' and '\\' escaped, control characters as the short forms or \u00XX,
 * well-formed UTF-8 copied, any other byte as U+FFFD.
 */
char *hvlog_json_escape(char *out, const char *str, size_t len)
{
    static const char short_form[0x20] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    };
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        /* The common case: printable ASCII, copied a byte at a time (the
         * strings are short: a memcpy call per run cost more). */
        if (s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') {
            *out++ = (char)s[i++];
            continue;
        }
        if (s[i] == '"' || s[i] == '\\') {
            *out++ = '\\';
            *out++ = (char)s[i++];
        } else if (s[i] < 0x20) {
            *out++ = '\\';
            if (short_form[s[i]]) {
                *out++ = short_form[s[i]];
            } else {
                *out++ = 'u';
                *out++ = '0';
                *out++ = '0';
                *out++ = hex_digits[s[i] >> 4];
                *out++ = hex_digits[s[i] & 0xF];
            }
            i++;
        } else {
            size_t n = hvlog__export_utf8_len(s + i, len - i);

            if (n == 0) {
                /* Not UTF-8: one replacement character per bad byte. */
                static const char fffd[6] = {'\\', 'u', 'f', 'f', 'f', 'd'};
                memcpy(out, fffd, sizeof fffd);
                out += sizeof fffd;
                i++;
            } else {
                memcpy(out, s + i, n);
                out += n;
                i += n;
            }
        }
    }
    return out;
}

#define ESCAPE_CHUNK 1024u /* input bytes escaped per reserve: 6 x this fits OUT_CAP */

static void put_escaped(struct hvlog_json_writer *w, const char *str, size_t len)
{
    put_char(w, '"');
    while (len > 0) {
        size_t n = len < ESCAPE_CHUNK ? len : ESCAPE_CHUNK;

        /* Never split a UTF-8 sequence (at most 3 continuation bytes). */
        for (int k = 0; k < 3 && n < len && n > 1 && ((unsigned char)str[n] & 0xC0) == 0x80; k++)
            n--;
        reserve(w, 6 * n);
        w->used = (size_t)(hvlog_json_escape(w->out + w->used, str, n) - w->out);
        str += n;
        len -= n;
    }
    put_char(w, '"');
}

void hvlog_json_key(struct hvlog_json_writer *w, const char *key)
{
    struct level *l;

    if (w->status != HVLOG_EXPORT_OK)
        return;
    if (w->depth == 0 || !key) {
        fail(w);
        return;
    }
    l = &w->stack[w->depth - 1];
    if (!l->object || l->key_pending) {
        fail(w);
        return;
    }
    if (l->count > 0)
        put_char(w, ',');
    if (w->pretty)
        newline_indent(w, w->depth);
    put_escaped(w, key, strlen(key));
    if (w->pretty)
        put(w, ": ", 2);
    else
        put_char(w, ':');
    l->key_pending = true;
}

void hvlog_json_string_len(struct hvlog_json_writer *w, const char *s, size_t len)
{
    if (!s) {
        hvlog_json_null(w);
        return;
    }
    if (!before_value(w))
        return;
    put_escaped(w, s, len);
    after_value(w);
}

void hvlog_json_string(struct hvlog_json_writer *w, const char *s)
{
    hvlog_json_string_len(w, s, s ? strlen(s) : 0);
}

/* Decimal digits of @v at @end (backwards); returns the first digit. */
static char *format_u64(char *end, uint64_t v)
{
    char *p = end;

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void hvlog_json_u64(struct hvlog_json_writer *w, uint64_t value)
{
    if (!before_value(w))
        return;
    reserve(w, 20);
    w->used = (size_t)(hvlog_json_put_u64(w->out + w->used, value) - w->out);
    after_value(w);
}

void hvlog_json_i64(struct hvlog_json_writer *w, int64_t value)
{
    char tmp[24];
    char *p;
    /* The magnitude in unsigned arithmetic: -INT64_MIN does not fit an int64. */
    uint64_t mag = value < 0 ? 0u - (uint64_t)value : (uint64_t)value;

    if (!before_value(w))
        return;
    p = format_u64(tmp + sizeof tmp, mag);
    if (value < 0)
        *--p = '-';
    put(w, p, (size_t)(tmp + sizeof tmp - p));
    after_value(w);
}

void hvlog_json_decimal(struct hvlog_json_writer *w, uint64_t value, unsigned decimals)
{
    char tmp[48];
    char *end = tmp + sizeof tmp;
    char *p = end;

    if (decimals > 19) {
        if (before_value(w))
            fail(w);
        return;
    }
    if (!before_value(w))
        return;
    if (decimals > 0) {
        for (unsigned i = 0; i < decimals; i++) {
            *--p = (char)('0' + value % 10);
            value /= 10;
        }
        *--p = '.';
    }
    p = format_u64(p, value);
    put(w, p, (size_t)(end - p));
    after_value(w);
}

void hvlog_json_hex(struct hvlog_json_writer *w, uint64_t value)
{
    char *p;

    if (!before_value(w))
        return;
    reserve(w, 20);
    p = w->out + w->used;
    *p++ = '"';
    *p++ = '0';
    *p++ = 'x';
    p = hvlog_json_put_hex(p, value);
    *p++ = '"';
    w->used = (size_t)(p - w->out);
    after_value(w);
}

void hvlog_json_hex_bytes(struct hvlog_json_writer *w, const uint8_t *bytes, size_t len)
{
    if (!before_value(w))
        return;
    put_char(w, '"');
    while (len > 0) {
        size_t n = len < OUT_CAP / 4 ? len : OUT_CAP / 4;

        reserve(w, 2 * n);
        w->used = (size_t)(hvlog_json_put_hex_bytes(w->out + w->used, bytes, n) - w->out);
        bytes += n;
        len -= n;
    }
    put_char(w, '"');
    after_value(w);
}

void hvlog_json_bool(struct hvlog_json_writer *w, bool value)
{
    if (!before_value(w))
        return;
    if (value)
        put(w, "true", 4);
    else
        put(w, "false", 5);
    after_value(w);
}

void hvlog_json_null(struct hvlog_json_writer *w)
{
    if (!before_value(w))
        return;
    put(w, "null", 4);
    after_value(w);
}

void hvlog_json_member_string(struct hvlog_json_writer *w, const char *key, const char *s)
{
    hvlog_json_key(w, key);
    hvlog_json_string(w, s);
}

void hvlog_json_member_u64(struct hvlog_json_writer *w, const char *key, uint64_t value)
{
    hvlog_json_key(w, key);
    hvlog_json_u64(w, value);
}

void hvlog_json_member_hex(struct hvlog_json_writer *w, const char *key, uint64_t value)
{
    hvlog_json_key(w, key);
    hvlog_json_hex(w, value);
}

bool hvlog_json_writer_ok(const struct hvlog_json_writer *w)
{
    return w && w->status == HVLOG_EXPORT_OK;
}

uint64_t hvlog_json_writer_bytes(const struct hvlog_json_writer *w)
{
    return w ? w->flushed + w->used : 0;
}

int hvlog_json_writer_sink_error(const struct hvlog_json_writer *w)
{
    if (!w || w->status != HVLOG_EXPORT_IO)
        return 0;
    return w->sink_error > 0 ? w->sink_error : EIO;
}

enum hvlog_export_status hvlog_json_writer_close(struct hvlog_json_writer *w)
{
    enum hvlog_export_status status;
    int e;

    if (!w)
        return HVLOG_EXPORT_INVALID;
    if (w->status == HVLOG_EXPORT_OK && w->pretty && w->top_done)
        put_char(w, '\n');
    flush(w);
    status = w->status;
    if (status == HVLOG_EXPORT_OK && (w->depth != 0 || !w->top_done))
        status = HVLOG_EXPORT_INVALID;
    e = hvlog_json_writer_sink_error(w);
    free(w);
    if (status == HVLOG_EXPORT_IO)
        errno = e; /* after free(), which may change errno */
    return status;
}
