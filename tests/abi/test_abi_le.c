/* SPDX-License-Identifier: MIT */
/*
 * hvlog/abi/le.h: every guest-visible multi-byte field is little-endian
 * (spec, "Conventions" before §1) and may sit at any byte address (the
 * packed current Initialize block puts a u64 at offset 20, §11.1). The
 * expected values below are written out byte by byte, so a big-endian or
 * alignment-dependent implementation fails them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hvlog/abi/le.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define GUARD 0xCC

/* Values with every byte distinct and the top bit of the top byte set, so a
 * sign-extension or byte-swap mistake shows. */
static const uint64_t samples64[] = {
    0x0000000000000000ull, 0xFFFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0x0000000000000001ull,
    0x0102030405060708ull, 0xF1E2D3C4B5A69788ull, 0x00000000FFFFFFFFull, 0xFFFFFFFF00000000ull,
    0x8070605040302010ull, 0x7FFFFFFFFFFFFFFFull,
};

/* A tiny deterministic generator for bulk round trips. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* ---- exact byte order ---------------------------------------------------- */

static void load_le16_reads_low_byte_first(void **state)
{
    (void)state;
    const uint8_t b[] = {0x34, 0x12, 0xFF, 0x80};
    assert_int_equal(hvlog_load_le16(b), 0x1234);
    /* top bit set: no sign extension through int promotion */
    assert_int_equal(hvlog_load_le16(b + 2), 0x80FF);
}

static void load_le32_reads_low_byte_first(void **state)
{
    (void)state;
    const uint8_t b[] = {0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x80};
    assert_int_equal(hvlog_load_le32(b), 0x12345678u);
    assert_int_equal(hvlog_load_le32(b + 4), 0x80000000u);
}

static void load_le64_reads_low_byte_first(void **state)
{
    (void)state;
    const uint8_t b[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_int_equal(hvlog_load_le64(b), 0x8877665544332211ull);
}

static void load_le8_reads_one_byte(void **state)
{
    (void)state;
    const uint8_t b[] = {0xAB, 0xCD};
    assert_int_equal(hvlog_load_le8(b), 0xAB);
    assert_int_equal(hvlog_load_le8(b + 1), 0xCD);
}

static void store_le16_writes_low_byte_first(void **state)
{
    (void)state;
    uint8_t b[2];
    hvlog_store_le16(b, 0xBEEF);
    assert_int_equal(b[0], 0xEF);
    assert_int_equal(b[1], 0xBE);
}

static void store_le32_writes_low_byte_first(void **state)
{
    (void)state;
    uint8_t b[4];
    const uint8_t want[] = {0xD4, 0xC3, 0xB2, 0xA1};
    hvlog_store_le32(b, 0xA1B2C3D4u);
    assert_memory_equal(b, want, sizeof want);
}

static void store_le64_writes_low_byte_first(void **state)
{
    (void)state;
    uint8_t b[8];
    const uint8_t want[] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
    hvlog_store_le64(b, 0x0102030405060708ull);
    assert_memory_equal(b, want, sizeof want);
}

/* ---- unaligned addresses ------------------------------------------------- */

/* The same literal bytes placed at every offset 0..7 of a buffer must load
 * as the same value: the helpers may not assume natural alignment. */
static void loads_give_the_same_value_at_every_unaligned_offset(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x88, 0x97, 0xA6, 0xB5, 0xC4, 0xD3, 0xE2, 0xF1};

    for (size_t off = 0; off < 8; off++) {
        uint8_t buf[24];
        memset(buf, GUARD, sizeof buf);
        memcpy(buf + off, bytes, sizeof bytes);
        assert_int_equal(hvlog_load_le8(buf + off), 0x88);
        assert_int_equal(hvlog_load_le16(buf + off), 0x9788);
        assert_int_equal(hvlog_load_le32(buf + off), 0xB5A69788u);
        assert_int_equal(hvlog_load_le64(buf + off), 0xF1E2D3C4B5A69788ull);
    }
}

/* A store at offset off writes exactly its width's bytes there, in order,
 * and touches nothing on either side. */
static void stores_write_exact_bytes_at_every_unaligned_offset_and_nothing_else(void **state)
{
    (void)state;
    const uint8_t want[] = {0x88, 0x97, 0xA6, 0xB5, 0xC4, 0xD3, 0xE2, 0xF1};
    static const unsigned widths[] = {1, 2, 4, 8};

    for (size_t w = 0; w < ARRAY_LEN(widths); w++) {
        for (size_t off = 0; off < 8; off++) {
            uint8_t buf[24];
            memset(buf, GUARD, sizeof buf);
            switch (widths[w]) {
            case 1:
                hvlog_store_le8(buf + off, 0x88);
                break;
            case 2:
                hvlog_store_le16(buf + off, 0x9788);
                break;
            case 4:
                hvlog_store_le32(buf + off, 0xB5A69788u);
                break;
            default:
                hvlog_store_le64(buf + off, 0xF1E2D3C4B5A69788ull);
                break;
            }
            for (size_t i = 0; i < sizeof buf; i++) {
                uint8_t expect = (i >= off && i < off + widths[w]) ? want[i - off] : GUARD;
                if (buf[i] != expect)
                    fail_msg("width %u offset %zu: byte %zu is 0x%02X, want 0x%02X", widths[w], off,
                             i, buf[i], expect);
            }
        }
    }
}

/* ---- round trips --------------------------------------------------------- */

static void every_width_round_trips_at_every_offset(void **state)
{
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15ull;

    for (size_t n = 0; n < ARRAY_LEN(samples64) + 200; n++) {
        uint64_t v = n < ARRAY_LEN(samples64) ? samples64[n] : next_random(&seed);
        for (size_t off = 0; off < 8; off++) {
            uint8_t buf[24];
            memset(buf, GUARD, sizeof buf);
            hvlog_store_le8(buf + off, (uint8_t)v);
            assert_int_equal(hvlog_load_le8(buf + off), (uint8_t)v);
            hvlog_store_le16(buf + off, (uint16_t)v);
            assert_int_equal(hvlog_load_le16(buf + off), (uint16_t)v);
            hvlog_store_le32(buf + off, (uint32_t)v);
            assert_int_equal(hvlog_load_le32(buf + off), (uint32_t)v);
            hvlog_store_le64(buf + off, v);
            assert_int_equal(hvlog_load_le64(buf + off), v);
            /* the 64-bit store wrote the value's bytes low to high */
            for (unsigned i = 0; i < 8; i++)
                assert_int_equal(buf[off + i], (uint8_t)(v >> (8 * i)));
        }
    }
}

/* Bytes -> value -> bytes reproduces the original bytes for any content. */
static void bytes_survive_a_load_then_store(void **state)
{
    (void)state;
    uint64_t seed = 0x0123456789ABCDEFull;

    for (int n = 0; n < 200; n++) {
        uint8_t src[16], dst[16];
        uint64_t a = next_random(&seed), b = next_random(&seed);
        for (unsigned i = 0; i < 8; i++) {
            src[i] = (uint8_t)(a >> (8 * i));
            src[8 + i] = (uint8_t)(b >> (8 * i));
        }
        for (size_t off = 0; off < 8; off++) {
            memset(dst, GUARD, sizeof dst);
            hvlog_store_le64(dst + off, hvlog_load_le64(src + off));
            assert_memory_equal(dst + off, src + off, 8);
            memset(dst, GUARD, sizeof dst);
            hvlog_store_le32(dst + off, hvlog_load_le32(src + off));
            assert_memory_equal(dst + off, src + off, 4);
            memset(dst, GUARD, sizeof dst);
            hvlog_store_le16(dst + off, hvlog_load_le16(src + off));
            assert_memory_equal(dst + off, src + off, 2);
        }
    }
}

/* A wider load over bytes written by narrower stores composes them in
 * little-endian order: two u32 stores make one u64. */
static void narrow_stores_compose_into_a_wide_little_endian_load(void **state)
{
    (void)state;
    uint8_t buf[11];
    hvlog_store_le32(buf + 3, 0x44332211u);
    hvlog_store_le16(buf + 7, 0x6655);
    hvlog_store_le8(buf + 9, 0x77);
    hvlog_store_le8(buf + 10, 0x88);
    assert_int_equal(hvlog_load_le64(buf + 3), 0x8877665544332211ull);
    assert_int_equal(hvlog_load_le32(buf + 7), 0x88776655u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_le16_reads_low_byte_first),
        cmocka_unit_test(load_le32_reads_low_byte_first),
        cmocka_unit_test(load_le64_reads_low_byte_first),
        cmocka_unit_test(load_le8_reads_one_byte),
        cmocka_unit_test(store_le16_writes_low_byte_first),
        cmocka_unit_test(store_le32_writes_low_byte_first),
        cmocka_unit_test(store_le64_writes_low_byte_first),
        cmocka_unit_test(loads_give_the_same_value_at_every_unaligned_offset),
        cmocka_unit_test(stores_write_exact_bytes_at_every_unaligned_offset_and_nothing_else),
        cmocka_unit_test(every_width_round_trips_at_every_offset),
        cmocka_unit_test(bytes_survive_a_load_then_store),
        cmocka_unit_test(narrow_stores_compose_into_a_wide_little_endian_load),
    };
    return cmocka_run_group_tests_name("abi_le", tests, NULL, NULL);
}
