/* SPDX-License-Identifier: MIT */
/*
 * A write-only protocol-buffers encoder (wire format: varints, tags,
 * length-delimited fields), enough for Perfetto's trace format
 * (src/export/perfetto_proto.c). It needs no library and no schema: the
 * caller names fields by number.
 *
 * Nested messages are written with their length first, so the caller
 * computes every length BEFORE writing (the *_size helpers below, bottom
 * up), never patching a length afterwards: the output is a pure stream,
 * and a length that was reserved too short cannot happen. The sizes are
 * exact: pb_len_field_size(f, n) is what pb_put_len_header(f, n) plus n
 * payload bytes produce.
 *
 * Output is buffered and handed to a sink in large pieces. Errors are
 * sticky: after a failing sink every call does nothing, and
 * hvlog__pb_writer_finish() reports the first error.
 *
 * Threads: one writer is used by one thread at a time.
 */
#ifndef HVLOG_EXPORT_PB_WRITE_H
#define HVLOG_EXPORT_PB_WRITE_H

#include <stddef.h>
#include <stdint.h>

/* Wire types (protobuf encoding). Only these two are written. */
#define PB_WIRE_VARINT 0u
#define PB_WIRE_LEN 2u

#define PB_VARINT_MAX_BYTES 10u /* a uint64 in 7-bit groups */

/* Receives output; returns 0 on success, else an errno value (sticky). */
typedef int (*pb_sink_fn)(void *arg, const uint8_t *bytes, size_t len);

struct pb_writer {
    pb_sink_fn sink;
    void *arg;
    uint8_t *buf;
    size_t used, cap;
    uint64_t bytes; /* produced so far, flushed or buffered */
    int error;      /* the first sink error; 0 = none */
};

/** hvlog__pb_writer_init - a writer sending to @sink(@arg) in pieces of @cap bytes
 * (at least 64). Returns 0, or ENOMEM with @w unusable (finish it anyway). */
int hvlog__pb_writer_init(struct pb_writer *w, pb_sink_fn sink, void *arg, size_t cap);
/** hvlog__pb_writer_finish - flush and free; returns the first error (0 = every byte delivered). */
int hvlog__pb_writer_finish(struct pb_writer *w);

/** pb_varint_size - bytes of @v as a varint (1..10). */
static inline size_t pb_varint_size(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/** pb_tag_size - bytes of the key of field @field (any wire type). */
static inline size_t pb_tag_size(uint32_t field)
{
    return pb_varint_size((uint64_t)field << 3);
}

/** pb_varint_field_size - bytes of field @field holding varint @v. */
static inline size_t pb_varint_field_size(uint32_t field, uint64_t v)
{
    return pb_tag_size(field) + pb_varint_size(v);
}

/** pb_len_field_size - bytes of field @field holding @len payload bytes
 * (a string, bytes, or a nested message of size @len). */
static inline size_t pb_len_field_size(uint32_t field, size_t len)
{
    return pb_tag_size(field) + pb_varint_size(len) + len;
}

/** pb_encode_varint - @v as a varint into @out; returns its length. */
static inline size_t pb_encode_varint(uint8_t out[PB_VARINT_MAX_BYTES], uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/** hvlog__pb_put_raw - @len bytes as they are. */
void hvlog__pb_put_raw(struct pb_writer *w, const void *bytes, size_t len);
/** hvlog__pb_put_varint_slow - pb_put_varint when the buffer may be full or broken. */
void hvlog__pb_put_varint_slow(struct pb_writer *w, uint64_t v);

/* The hot path (several varints per exported event) is inline: encode in
 * place when ten bytes are free, else go through hvlog__pb_put_raw. */
static inline void pb_put_varint(struct pb_writer *w, uint64_t v)
{
    if (w->error == 0 && w->cap - w->used >= PB_VARINT_MAX_BYTES) {
        size_t n = pb_encode_varint(w->buf + w->used, v);

        w->used += n;
        w->bytes += n;
        return;
    }
    hvlog__pb_put_varint_slow(w, v);
}

/** pb_put_varint_field - field @field, wire type varint, value @v. */
static inline void pb_put_varint_field(struct pb_writer *w, uint32_t field, uint64_t v)
{
    pb_put_varint(w, (uint64_t)field << 3 | PB_WIRE_VARINT);
    pb_put_varint(w, v);
}

/** pb_put_len_header - the key and length of field @field whose @len
 * payload bytes the caller writes next (a nested message's fields). */
static inline void pb_put_len_header(struct pb_writer *w, uint32_t field, size_t len)
{
    pb_put_varint(w, (uint64_t)field << 3 | PB_WIRE_LEN);
    pb_put_varint(w, len);
}

/** pb_put_bytes_field - field @field holding the @len bytes at @bytes. */
static inline void pb_put_bytes_field(struct pb_writer *w, uint32_t field, const void *bytes,
                                      size_t len)
{
    pb_put_len_header(w, field, len);
    hvlog__pb_put_raw(w, bytes, len);
}

#endif /* HVLOG_EXPORT_PB_WRITE_H */
