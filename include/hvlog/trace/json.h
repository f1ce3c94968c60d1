/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer: documents of any size in constant memory.
 *
 * The writer keeps the nesting (at most HVLOG_JSON_MAX_DEPTH levels), puts
 * the commas and colons, escapes strings (RFC 8259: quote, backslash and
 * every control character; invalid UTF-8 becomes U+FFFD, so the output is
 * always valid UTF-8) and prints integers without going through doubles.
 * Output is buffered and handed to a sink in large pieces.
 *
 * Errors are sticky: after a misuse (a value where a key is due, an end
 * without a begin, too deep) or a failing sink, every call does nothing and
 * hvlog_json_writer_close() reports the first problem. So callers write a
 * whole document without checking each call.
 *
 * Threads: one writer is used by one thread at a time.
 */
#ifndef HVLOG_TRACE_JSON_H
#define HVLOG_TRACE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"
#include "hvlog/trace/common.h"

HVLOG_BEGIN_DECLS

#define HVLOG_JSON_MAX_DEPTH 64u

/* Flags of hvlog_json_writer_create. */
#define HVLOG_JSON_PRETTY 0x1u /* newlines and two-space indentation */

/* Receives output; returns 0 on success, anything else is an I/O error. */
typedef int (*hvlog_json_sink_fn)(void *arg, const char *bytes, size_t len);

/** hvlog_json_sink_file - a sink writing to the FILE * passed as @arg. */
HVLOG_API int hvlog_json_sink_file(void *arg, const char *bytes, size_t len);

struct hvlog_json_writer;

/**
 * hvlog_json_writer_create - a writer sending its output to @sink(@arg).
 * @flags: 0 or HVLOG_JSON_PRETTY. Returns NULL when out of memory or
 * @sink is NULL.
 */
HVLOG_API struct hvlog_json_writer *hvlog_json_writer_create(hvlog_json_sink_fn sink, void *arg,
                                                             unsigned flags);

/**
 * hvlog_json_writer_close - flush and free @w. Returns HVLOG_EXPORT_OK when
 * exactly one complete value was written and the sink took every byte;
 * HVLOG_EXPORT_IO when the sink failed, with errno set to
 * hvlog_json_writer_sink_error's value; HVLOG_EXPORT_INVALID after a misuse
 * or for an unfinished document. @w may be NULL (INVALID).
 */
HVLOG_API enum hvlog_export_status hvlog_json_writer_close(struct hvlog_json_writer *w);

/** hvlog_json_writer_ok - false once an error has stuck. */
HVLOG_API bool hvlog_json_writer_ok(const struct hvlog_json_writer *w);

/**
 * hvlog_json_writer_sink_error - once the sink has failed, what it returned
 * when that is a positive errno value (the file sinks return one; a sink
 * should), else EIO; 0 while the sink has not failed. For the reason in a
 * "write failed" message.
 */
HVLOG_API int hvlog_json_writer_sink_error(const struct hvlog_json_writer *w);

/** hvlog_json_writer_bytes - bytes produced so far (flushed or buffered). */
HVLOG_API uint64_t hvlog_json_writer_bytes(const struct hvlog_json_writer *w);

HVLOG_API void hvlog_json_object_begin(struct hvlog_json_writer *w);
HVLOG_API void hvlog_json_object_end(struct hvlog_json_writer *w);
HVLOG_API void hvlog_json_array_begin(struct hvlog_json_writer *w);
HVLOG_API void hvlog_json_array_end(struct hvlog_json_writer *w);

/** hvlog_json_key - the next member's name; only inside an object, before its value. */
HVLOG_API void hvlog_json_key(struct hvlog_json_writer *w, const char *key);

/** hvlog_json_string - a string value, escaped; NULL writes null. */
HVLOG_API void hvlog_json_string(struct hvlog_json_writer *w, const char *s);
/** hvlog_json_string_len - @len bytes of @s (may hold NUL bytes: written as \u0000). */
HVLOG_API void hvlog_json_string_len(struct hvlog_json_writer *w, const char *s, size_t len);
/** hvlog_json_hex - the string "0x..." of @value in lower-case hex, no leading zeros. */
HVLOG_API void hvlog_json_hex(struct hvlog_json_writer *w, uint64_t value);
/** hvlog_json_hex_bytes - @len bytes as one string of lower-case hex digit pairs. */
HVLOG_API void hvlog_json_hex_bytes(struct hvlog_json_writer *w, const uint8_t *bytes, size_t len);

HVLOG_API void hvlog_json_u64(struct hvlog_json_writer *w, uint64_t value);
HVLOG_API void hvlog_json_i64(struct hvlog_json_writer *w, int64_t value);
/**
 * hvlog_json_decimal - the number @value / 10^@decimals printed exactly
 * with @decimals (0..19) digits after the point, by integer arithmetic:
 * (12345, 1) -> 1234.5; (7, 3) -> 0.007. Used for microsecond timestamps.
 */
HVLOG_API void hvlog_json_decimal(struct hvlog_json_writer *w, uint64_t value, unsigned decimals);
HVLOG_API void hvlog_json_bool(struct hvlog_json_writer *w, bool value);
HVLOG_API void hvlog_json_null(struct hvlog_json_writer *w);

/* Members in one call: hvlog_json_key then the value. */
HVLOG_API void hvlog_json_member_string(struct hvlog_json_writer *w, const char *key,
                                        const char *s);
HVLOG_API void hvlog_json_member_u64(struct hvlog_json_writer *w, const char *key, uint64_t value);
HVLOG_API void hvlog_json_member_hex(struct hvlog_json_writer *w, const char *key, uint64_t value);

/*
 * The encoder under the writer, for code that formats JSON lines into its
 * own memory (hvlog decode --json): the same bytes the writer writes.
 * Each returns the end of what it wrote; the caller guarantees the room.
 */
/** hvlog_json_escape - @len bytes of @s as a string body (no quotes): at most 6 x @len bytes. */
HVLOG_API char *hvlog_json_escape(char *out, const char *s, size_t len);
/* The number formatters are inline: decode calls them several times per
 * line, and a call each was a quarter of its time. */

/** hvlog_json_put_u64 - @v in decimal: at most 20 bytes. */
static inline char *hvlog_json_put_u64(char *out, uint64_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    static const uint64_t pow10[20] = {
        1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
        10000000000u, 100000000000u, 1000000000000u, 10000000000000u, 100000000000000u,
        1000000000000000u, 10000000000000000u, 100000000000000000u, 1000000000000000000u,
        10000000000000000000u};
    unsigned n = 1;
    char *p;

    while (n < 20 && v >= pow10[n]) /* digits by comparison: no division per digit */
        n++;
    p = out + n;
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = pairs[i + 1];
        *--p = pairs[i];
    }
    if (v >= 10) {
        *--p = pairs[v * 2 + 1];
        *--p = pairs[v * 2];
    } else {
        *--p = (char)('0' + v);
    }
    return out + n;
}

/** hvlog_json_put_hex - @v in lower-case hex, no "0x", no leading zeros: at most 16 bytes. */
static inline char *hvlog_json_put_hex(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    unsigned n = (unsigned)(64 - __builtin_clzll(v | 1) + 3) / 4;

    for (unsigned i = n; i > 0; i--) {
        out[i - 1] = digits[v & 0xF];
        v >>= 4;
    }
    return out + n;
}

/** hvlog_json_put_hex_bytes - @len bytes as lower-case hex pairs: 2 x @len bytes. */
static inline char *hvlog_json_put_hex_bytes(char *out, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        *out++ = digits[bytes[i] >> 4];
        *out++ = digits[bytes[i] & 0xF];
    }
    return out;
}

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_JSON_H */
