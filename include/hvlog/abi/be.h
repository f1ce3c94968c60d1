/* SPDX-License-Identifier: MIT */
/*
 * Big-endian loads and stores, for network protocols.
 *
 * The hypervisor's bytes are little-endian (hvlog/abi/le.h); the LTTng relay
 * protocol that hvlog's live layer speaks is big-endian ("network order") and
 * packed. These helpers are the only way hvlog reads or writes such bytes.
 * They assemble byte by byte, so they hold on any host and make no alignment
 * assumption; compilers turn each into one load or store plus a byte swap.
 */
#ifndef HVLOG_ABI_BE_H
#define HVLOG_ABI_BE_H

#include <stdint.h>

static inline uint16_t hvlog_load_be16(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(((uint16_t)b[0] << 8) | b[1]);
}

static inline uint32_t hvlog_load_be32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static inline uint64_t hvlog_load_be64(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return ((uint64_t)hvlog_load_be32(b) << 32) | hvlog_load_be32(b + 4);
}

static inline void hvlog_store_be16(void *p, uint16_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static inline void hvlog_store_be32(void *p, uint32_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static inline void hvlog_store_be64(void *p, uint64_t v)
{
    uint8_t *b = (uint8_t *)p;
    hvlog_store_be32(b, (uint32_t)(v >> 32));
    hvlog_store_be32(b + 4, (uint32_t)v);
}

#endif /* HVLOG_ABI_BE_H */
