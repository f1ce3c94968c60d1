/* SPDX-License-Identifier: MIT */
/*
 * Little-endian loads and stores for guest-visible bytes.
 *
 * Every byte a guest can see (hypercall input and output blocks, buffer and
 * entry headers, SynIC messages) is little-endian by the spec (§ conventions).
 * These helpers are the only way hvlog reads or writes such bytes: no
 * bitfields, no casts of byte pointers to structures, no host-endian loads.
 * They make no alignment assumption; on a little-endian host each is a
 * single move.
 */
#ifndef HVLOG_ABI_LE_H
#define HVLOG_ABI_LE_H

#include <stdint.h>
#include <string.h>

static inline uint8_t hvlog_load_le8(const void *p)
{
    return *(const uint8_t *)p;
}

static inline void hvlog_store_le8(void *p, uint8_t v)
{
    *(uint8_t *)p = v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

/* On a little-endian host the bytes are already in order: a memcpy of the
 * width, which every compiler turns into one (unaligned-safe) move. */
#define HVLOG_LE_ACCESSORS(bits)                                        \
    static inline uint##bits##_t hvlog_load_le##bits(const void *p)     \
    {                                                                   \
        uint##bits##_t v;                                               \
        memcpy(&v, p, sizeof v);                                        \
        return v;                                                       \
    }                                                                   \
    static inline void hvlog_store_le##bits(void *p, uint##bits##_t v)  \
    {                                                                   \
        memcpy(p, &v, sizeof v);                                        \
    }
HVLOG_LE_ACCESSORS(16)
HVLOG_LE_ACCESSORS(32)
HVLOG_LE_ACCESSORS(64)
#undef HVLOG_LE_ACCESSORS

#else /* any other byte order: assemble byte by byte */

static inline uint16_t hvlog_load_le16(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(b[0] | (uint16_t)(b[1] << 8));
}

static inline uint32_t hvlog_load_le32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}

static inline uint64_t hvlog_load_le64(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint64_t)hvlog_load_le32(b) | ((uint64_t)hvlog_load_le32(b + 4) << 32);
}

static inline void hvlog_store_le16(void *p, uint16_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void hvlog_store_le32(void *p, uint32_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static inline void hvlog_store_le64(void *p, uint64_t v)
{
    uint8_t *b = (uint8_t *)p;
    hvlog_store_le32(b, (uint32_t)v);
    hvlog_store_le32(b + 4, (uint32_t)(v >> 32));
}

#endif

#endif /* HVLOG_ABI_LE_H */
