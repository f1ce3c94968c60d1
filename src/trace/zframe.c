/* SPDX-License-Identifier: MIT */
/*
 * Compressed group files (HVLOG_TRACE_COMPRESS, docs/trace-format.md
 * section 1): each released buffer becomes one *unit* appended to the file,
 *
 *   offset  size  field
 *        0     4  0x184D2A5E  a zstd skippable frame's magic (RFC 8878 §3.1.2)
 *        4     4  76          the skippable frame's user-data size
 *        8     4  N           the length of the zstd frame that follows
 *       12    72  a copy of the buffer's 72-byte header (spec §4.4)
 *       84     N  one zstd frame: the whole buffer, its content size in the
 *                 frame header, a content checksum
 *
 * all little-endian. The file is therefore a valid zstd stream (`zstd -d`
 * skips the skippable frames and writes the raw buffers, which hvlog reads
 * as a raw buffer file), and a reader finds buffer i without decompressing
 * buffers 0..i-1: it steps from prefix to prefix, 12 bytes read per buffer,
 * and builds a table of where each frame starts. The header copy lets the
 * exporters' header-only index (trace_reader.c, read_header) read 72 bytes
 * instead of decompressing the buffer, as it does in a plain file; a
 * reader that decompresses a buffer checks that the copy is its header,
 * so a copy that lies is that buffer's corruption. A frame that does not
 * decompress to exactly one buffer is that buffer's corruption only: the
 * next unit is found by the prefix, as a lying buffer header is skipped by
 * position in a plain file. Only a damaged prefix loses the rest of the
 * file, which the reader then reports.
 *
 * Untrusted input sizes nothing by its own claims (STYLE habit 19): N must
 * be at most ZSTD_compressBound(buffer bytes), the frame must say exactly
 * the group's buffer size, and it is decompressed in one shot into the
 * cursor's one buffer (ZSTD_decompressDCtx needs no window of its own), so
 * a frame claiming gigabytes allocates nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "trace/trace_internal.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"

/* The nibble E of the skippable range 0x184D2A50..5F is hvlog's choice:
 * zstd gives the 16 values no meaning. */
#define ZFRAME_MAGIC 0x184D2A5Eu
#define ZFRAME_USER_BYTES (4u + HV_EVENTLOG_BUFFER_HEADER_SIZE)

_Static_assert(EXPORT_ZFRAME_PREFIX == 8u + ZFRAME_USER_BYTES,
               "prefix: magic, size, frame length, the header's copy");
_Static_assert(EXPORT_ZFRAME_HEADER_AT + HV_EVENTLOG_BUFFER_HEADER_SIZE == EXPORT_ZFRAME_PREFIX,
               "the header's copy ends the prefix");

size_t hvlog__export_zframe_bound(uint32_t buffer_bytes)
{
    return EXPORT_ZFRAME_PREFIX + ZSTD_compressBound(buffer_bytes);
}

/* ---- writing ---- */

struct export_zenc {
    ZSTD_CCtx *cctx;
    uint8_t *out;
    size_t cap;
};

struct export_zenc *hvlog__export_zenc_create(int level)
{
    struct export_zenc *z = calloc(1, sizeof(*z));

    if (!z)
        return NULL;
    z->cctx = ZSTD_createCCtx();
    /* The checksum finds a damaged frame whose blocks still parse; the
     * content size lets a reader check the frame before decompressing. */
    if (!z->cctx || ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_contentSizeFlag, 1))) {
        hvlog__export_zenc_free(z);
        return NULL;
    }
    return z;
}

void hvlog__export_zenc_free(struct export_zenc *z)
{
    if (!z)
        return;
    ZSTD_freeCCtx(z->cctx);
    free(z->out);
    free(z);
}

int hvlog__export_zenc_unit(struct export_zenc *z, const uint8_t *bytes, size_t len, const uint8_t **unit,
                     size_t *unit_len)
{
    size_t need = hvlog__export_zframe_bound((uint32_t)len), n;

    if (need > z->cap) {
        uint8_t *more = realloc(z->out, need);

        if (!more)
            return ENOMEM;
        z->out = more;
        z->cap = need;
    }
    /* One frame per buffer, nothing carried over: every frame decompresses
     * on its own (random access, and a damaged one costs one buffer). */
    n = ZSTD_compress2(z->cctx, z->out + EXPORT_ZFRAME_PREFIX, z->cap - EXPORT_ZFRAME_PREFIX, bytes,
                       len);
    if (ZSTD_isError(n))
        return EIO; /* cannot happen with a bound-sized output */
    hvlog_store_le32(z->out, ZFRAME_MAGIC);
    hvlog_store_le32(z->out + 4, ZFRAME_USER_BYTES);
    hvlog_store_le32(z->out + 8, (uint32_t)n);
    memcpy(z->out + EXPORT_ZFRAME_HEADER_AT, bytes, HV_EVENTLOG_BUFFER_HEADER_SIZE);
    *unit = z->out;
    *unit_len = EXPORT_ZFRAME_PREFIX + n;
    return 0;
}

/* ---- reading ---- */

enum hvlog_export_status hvlog__export_zframe_scan(int fd, uint64_t file_size, uint32_t buffer_bytes,
                                            struct export_zframe **table, uint64_t *count,
                                            uint64_t *end, bool *damaged, char *why, size_t why_size)
{
    const uint64_t most = ZSTD_compressBound(buffer_bytes);
    struct export_zframe *t = NULL;
    uint64_t off = 0, n = 0, cap = 0;

    *damaged = false;
    why[0] = '\0';
    while (file_size - off >= EXPORT_ZFRAME_PREFIX) {
        uint8_t p[EXPORT_ZFRAME_HEADER_AT]; /* the header's copy is read with the frame */
        size_t got = 0;
        uint32_t len;
        int e = hvlog__export_pread_all(fd, p, sizeof p, off, &got);

        if (e != 0 || got != sizeof p) {
            free(t);
            snprintf(why, why_size, "%s", e ? strerror(e) : "the file shrank while it was read");
            return HVLOG_EXPORT_IO;
        }
        len = hvlog_load_le32(p + 8);
        if (hvlog_load_le32(p) != ZFRAME_MAGIC || hvlog_load_le32(p + 4) != ZFRAME_USER_BYTES ||
            len == 0 || len > most) {
            *damaged = true;
            snprintf(why, why_size, "byte %llu is not the start of an hvlog zstd frame",
                     (unsigned long long)off);
            break;
        }
        if (file_size - off - EXPORT_ZFRAME_PREFIX < len)
            break; /* a torn last unit: the caller says what that means */
        if (n == cap) {
            /* Grown as frames are found, never sized by the file's length. */
            struct export_zframe *more;

            cap = cap ? cap * 2 : 256;
            more = cap <= SIZE_MAX / sizeof(*more) ? realloc(t, (size_t)cap * sizeof(*more)) : NULL;
            if (!more) {
                free(t);
                snprintf(why, why_size, "out of memory");
                return HVLOG_EXPORT_NOMEM;
            }
            t = more;
        }
        t[n].offset = off + EXPORT_ZFRAME_PREFIX;
        t[n].size = len;
        n++;
        off += EXPORT_ZFRAME_PREFIX + len;
    }
    *table = t;
    *count = n;
    *end = off;
    return HVLOG_EXPORT_OK;
}

struct export_zdec {
    ZSTD_DCtx *dctx;
};

struct export_zdec *hvlog__export_zdec_create(void)
{
    struct export_zdec *z = calloc(1, sizeof(*z));

    if (z && !(z->dctx = ZSTD_createDCtx())) {
        free(z);
        z = NULL;
    }
    return z;
}

void hvlog__export_zdec_free(struct export_zdec *z)
{
    if (!z)
        return;
    ZSTD_freeDCtx(z->dctx);
    free(z);
}

bool hvlog__export_zdec_buffer(struct export_zdec *z, const uint8_t *frame, size_t size, uint8_t *dst,
                        uint32_t buffer_bytes, char *why, size_t why_size)
{
    unsigned long long says = ZSTD_getFrameContentSize(frame, size);
    size_t n;

    /* The frame header's claim is checked before anything is decompressed. */
    if (says == ZSTD_CONTENTSIZE_ERROR) {
        snprintf(why, why_size, "not a zstd frame");
        return false;
    }
    if (says == ZSTD_CONTENTSIZE_UNKNOWN) {
        snprintf(why, why_size, "its zstd frame does not say its size");
        return false;
    }
    if (says != buffer_bytes) {
        snprintf(why, why_size, "its zstd frame says %llu bytes, but the group's buffers are %u bytes",
                 says, buffer_bytes);
        return false;
    }
    n = ZSTD_findFrameCompressedSize(frame, size);
    if (ZSTD_isError(n) || n != size) {
        snprintf(why, why_size, "its zstd frame is not %zu bytes long, as its prefix says (%s)", size,
                 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "it ends before");
        return false;
    }
    n = ZSTD_decompressDCtx(z->dctx, dst, buffer_bytes, frame, size);
    if (ZSTD_isError(n) || n != buffer_bytes) {
        snprintf(why, why_size, "its zstd frame does not decompress to the buffer (%s)",
                 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short");
        return false;
    }
    return true;
}
