/* SPDX-License-Identifier: MIT */
/* The protobuf wire-format writer (pb_write.h): buffered, sticky errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/pb_write.h"

int hvlog__pb_writer_init(struct pb_writer *w, pb_sink_fn sink, void *arg, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->sink = sink;
    w->arg = arg;
    w->cap = cap < 64 ? 64 : cap;
    w->buf = malloc(w->cap);
    if (!w->buf)
        w->error = ENOMEM;
    return w->error;
}

static void flush(struct pb_writer *w)
{
    if (w->error == 0 && w->used > 0) {
        int e = w->sink(w->arg, w->buf, w->used);
        if (e != 0)
            w->error = e;
    }
    w->used = 0;
}

int hvlog__pb_writer_finish(struct pb_writer *w)
{
    flush(w);
    free(w->buf);
    w->buf = NULL;
    w->cap = 0;
    return w->error;
}

void hvlog__pb_put_raw(struct pb_writer *w, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;

    if (w->error != 0)
        return;
    w->bytes += len;
    while (len > 0) {
        size_t n;

        if (w->used == w->cap) {
            flush(w);
            if (w->error != 0)
                return;
        }
        n = w->cap - w->used < len ? w->cap - w->used : len;
        memcpy(w->buf + w->used, p, n);
        w->used += n;
        p += n;
        len -= n;
    }
}

void hvlog__pb_put_varint_slow(struct pb_writer *w, uint64_t v)
{
    uint8_t tmp[PB_VARINT_MAX_BYTES];

    hvlog__pb_put_raw(w, tmp, pb_encode_varint(tmp, v));
}
