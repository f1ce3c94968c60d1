/* SPDX-License-Identifier: MIT */
/*
 * Wire-structure machinery: one field table per structure generates the
 * compile-time layout checks and the little-endian load/store pair.
 *
 * A field table is a macro FIELDS(X, T) expanding to rows
 * X(T, field, offset, bits). From it:
 *   HVLOG_WIRE_CHECK_LAYOUT(T, FIELDS, size)
 *       for a naturally aligned structure: every host field sits at the
 *       spec's offset with the spec's width, and sizeof is the spec's size;
 *   HVLOG_WIRE_CHECK_PACKED(T, FIELDS, size)
 *       for a packed wire layout no host struct can mirror: every row lies
 *       inside the block and the widths add up to the block size;
 *   HVLOG_WIRE_CODEC(T, FIELDS)
 *       defines T_load(out, bytes) and T_store(bytes, in), which read and
 *       write the bytes through hvlog_load_le* / hvlog_store_le* only;
 *   HVLOG_WIRE_CODEC_BE(T, FIELDS)
 *       the same pair through hvlog_load_be* / hvlog_store_be*, for the
 *       big-endian network protocols of the live layer (lttng-relayd).
 */
#ifndef HVLOG_ABI_WIRE_H
#define HVLOG_ABI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/be.h"
#include "hvlog/abi/le.h"

#define HVLOG_WIRE_ASSERT_FIELD_(T, field, off, bits)                             \
    _Static_assert(offsetof(struct T, field) == (off), #T "." #field " offset");  \
    _Static_assert(sizeof(((struct T *)0)->field) * 8 == (bits), #T "." #field " width");

#define HVLOG_WIRE_CHECK_LAYOUT(T, FIELDS, size)                   \
    _Static_assert(sizeof(struct T) == (size), #T " size");        \
    FIELDS(HVLOG_WIRE_ASSERT_FIELD_, T)

#define HVLOG_WIRE_INSIDE_(T, field, off, bits) \
    _Static_assert((off) + (bits) / 8 <= T##_WIRE_SIZE, #T "." #field " inside the block");
#define HVLOG_WIRE_WIDTH_(T, field, off, bits) +(bits) / 8

#define HVLOG_WIRE_CHECK_PACKED(T, FIELDS, size)                                       \
    enum { T##_WIRE_SIZE = (size) };                                                   \
    FIELDS(HVLOG_WIRE_INSIDE_, T)                                                      \
    _Static_assert(0 FIELDS(HVLOG_WIRE_WIDTH_, T) == (size), #T " rows tile the block");

#define HVLOG_WIRE_LOAD_FIELD_(T, field, off, bits) \
    out->field = hvlog_load_le##bits((const uint8_t *)bytes + (off));
#define HVLOG_WIRE_STORE_FIELD_(T, field, off, bits) \
    hvlog_store_le##bits((uint8_t *)bytes + (off), in->field);

#define HVLOG_WIRE_CODEC(T, FIELDS)                                  \
    static inline void T##_load(struct T *out, const void *bytes)    \
    {                                                                \
        FIELDS(HVLOG_WIRE_LOAD_FIELD_, T)                            \
    }                                                                \
    static inline void T##_store(void *bytes, const struct T *in)    \
    {                                                                \
        FIELDS(HVLOG_WIRE_STORE_FIELD_, T)                           \
    }

#define HVLOG_WIRE_LOAD_FIELD_BE_(T, field, off, bits) \
    out->field = hvlog_load_be##bits((const uint8_t *)bytes + (off));
#define HVLOG_WIRE_STORE_FIELD_BE_(T, field, off, bits) \
    hvlog_store_be##bits((uint8_t *)bytes + (off), in->field);

#define HVLOG_WIRE_CODEC_BE(T, FIELDS)                               \
    static inline void T##_load(struct T *out, const void *bytes)    \
    {                                                                \
        FIELDS(HVLOG_WIRE_LOAD_FIELD_BE_, T)                         \
    }                                                                \
    static inline void T##_store(void *bytes, const struct T *in)    \
    {                                                                \
        FIELDS(HVLOG_WIRE_STORE_FIELD_BE_, T)                        \
    }

#endif /* HVLOG_ABI_WIRE_H */
