/* SPDX-License-Identifier: MIT */
/* The protobuf wire writer (src/export/pb_write.h): varints at every size
 * boundary, tags, length-delimited and nested fields whose lengths are
 * computed before writing, buffering across flushes, sticky sink errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "export/pb_write.h"

struct mem_sink {
    uint8_t data[8192];
    size_t len;
    int calls;
    int fail_on_call; /* 1-based; 0 = never */
};

static int mem_write(void *arg, const uint8_t *bytes, size_t len)
{
    struct mem_sink *m = arg;

    m->calls++;
    if (m->fail_on_call && m->calls >= m->fail_on_call)
        return EIO;
    assert_true(m->len + len <= sizeof m->data);
    memcpy(m->data + m->len, bytes, len);
    m->len += len;
    return 0;
}

static void varints_have_the_right_bytes_at_every_size_boundary(void **state)
{
    static const struct {
        uint64_t v;
        size_t len;
        uint8_t bytes[PB_VARINT_MAX_BYTES];
    } rows[] = {
        {0, 1, {0x00}},
        {1, 1, {0x01}},
        {127, 1, {0x7F}},
        {128, 2, {0x80, 0x01}},
        {150, 2, {0x96, 0x01}},
        {300, 2, {0xAC, 0x02}},
        {16383, 2, {0xFF, 0x7F}},
        {16384, 3, {0x80, 0x80, 0x01}},
        {UINT32_MAX, 5, {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}},
        {(uint64_t)1 << 35, 6, {0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
        {((uint64_t)1 << 56) - 1, 8, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}},
        {(uint64_t)1 << 56, 9, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
        {(uint64_t)1 << 63, 10, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
        {UINT64_MAX, 10, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t out[PB_VARINT_MAX_BYTES];

        memset(out, 0xAA, sizeof out);
        assert_int_equal(pb_varint_size(rows[i].v), rows[i].len);
        assert_int_equal(pb_encode_varint(out, rows[i].v), rows[i].len);
        assert_memory_equal(out, rows[i].bytes, rows[i].len);
    }
}

static void tags_take_one_byte_up_to_field_15_then_more(void **state)
{
    (void)state;
    assert_int_equal(pb_tag_size(1), 1);
    assert_int_equal(pb_tag_size(15), 1);
    assert_int_equal(pb_tag_size(16), 2);
    assert_int_equal(pb_tag_size(60), 2);   /* TracePacket.track_descriptor */
    assert_int_equal(pb_tag_size(98), 2);   /* TracePacket.machine_id */
    assert_int_equal(pb_tag_size(2047), 2);
    assert_int_equal(pb_tag_size(2048), 3);
    assert_int_equal(pb_varint_field_size(1, 150), 3);
    assert_int_equal(pb_len_field_size(2, 7), 9);
    assert_int_equal(pb_len_field_size(2, 200), 1 + 2 + 200);
}

/* The encoding guide's examples: field 1 = 150 is 08 96 01; field 2 =
 * "testing" is 12 07 + the text; a message holding the first as field 3
 * is 1a 03 08 96 01. */
static void fields_encode_as_the_protobuf_encoding_guide_shows(void **state)
{
    static const uint8_t want[] = {0x08, 0x96, 0x01, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g',
                                   0x1A, 0x03, 0x08, 0x96, 0x01, 0x20, 0x00};
    struct mem_sink m = {.len = 0};
    struct pb_writer w;
    size_t inner = pb_varint_field_size(1, 150);

    (void)state;
    assert_int_equal(hvlog__pb_writer_init(&w, mem_write, &m, 64), 0);
    pb_put_varint_field(&w, 1, 150);
    pb_put_bytes_field(&w, 2, "testing", 7);
    pb_put_len_header(&w, 3, inner);
    pb_put_varint_field(&w, 1, 150);
    pb_put_varint_field(&w, 4, 0); /* a zero is written, not omitted */
    assert_int_equal(w.bytes, sizeof want);
    assert_int_equal(hvlog__pb_writer_finish(&w), 0);
    assert_int_equal(m.len, sizeof want);
    assert_memory_equal(m.data, want, sizeof want);
}

/* Read one varint from @p; the test's own decoder. */
static uint64_t read_varint(const uint8_t **p)
{
    uint64_t v = 0;
    unsigned shift = 0;

    do {
        v |= (uint64_t)(**p & 0x7F) << shift;
        shift += 7;
    } while (*(*p)++ & 0x80);
    return v;
}

/*
 * Three levels, the innermost 200 bytes long, so each length needs two
 * bytes: every length is computed from the sizes below it before the first
 * byte goes out, and decoding the result finds each length exactly
 * covering its content and the whole ending where the sizes said.
 */
static void nested_lengths_are_computed_first_and_cover_their_content(void **state)
{
    struct mem_sink m = {.len = 0};
    struct pb_writer w;
    char text[200];
    size_t leaf = pb_len_field_size(2, sizeof text) + pb_varint_field_size(1, UINT64_MAX);
    size_t middle = pb_len_field_size(4, leaf) + pb_varint_field_size(9, 3);
    size_t total = pb_len_field_size(60, middle);
    const uint8_t *p, *end;

    (void)state;
    memset(text, 'x', sizeof text);
    assert_int_equal(hvlog__pb_writer_init(&w, mem_write, &m, 64), 0); /* several flushes */
    pb_put_len_header(&w, 60, middle);
    pb_put_len_header(&w, 4, leaf);
    pb_put_varint_field(&w, 1, UINT64_MAX);
    pb_put_bytes_field(&w, 2, text, sizeof text);
    pb_put_varint_field(&w, 9, 3);
    assert_int_equal(w.bytes, total);
    assert_int_equal(hvlog__pb_writer_finish(&w), 0);
    assert_true(m.calls > 1);
    assert_int_equal(m.len, total);

    p = m.data;
    end = m.data + m.len;
    assert_int_equal(read_varint(&p), 60u << 3 | PB_WIRE_LEN);
    assert_int_equal(read_varint(&p), middle);
    assert_ptr_equal(p + middle, end);
    assert_int_equal(read_varint(&p), 4u << 3 | PB_WIRE_LEN);
    assert_int_equal(read_varint(&p), leaf);
    assert_ptr_equal(p + leaf + pb_varint_field_size(9, 3), end);
    assert_int_equal(read_varint(&p), 1u << 3 | PB_WIRE_VARINT);
    assert_int_equal(read_varint(&p), UINT64_MAX);
    assert_int_equal(read_varint(&p), 2u << 3 | PB_WIRE_LEN);
    assert_int_equal(read_varint(&p), sizeof text);
    assert_memory_equal(p, text, sizeof text);
    p += sizeof text;
    assert_int_equal(read_varint(&p), 9u << 3 | PB_WIRE_VARINT);
    assert_int_equal(read_varint(&p), 3);
    assert_ptr_equal(p, end);
}

/* Varints straddling the buffer's end come out whole and in order. */
static void output_is_the_same_whatever_the_buffer_size(void **state)
{
    struct mem_sink small = {.len = 0}, big = {.len = 0};
    struct pb_writer a, b;

    (void)state;
    assert_int_equal(hvlog__pb_writer_init(&a, mem_write, &small, 1), 0); /* raised to 64 */
    assert_int_equal(hvlog__pb_writer_init(&b, mem_write, &big, 1 << 16), 0);
    for (uint64_t i = 0; i < 300; i++) {
        uint64_t v = i * 0x0123456789ABCDEFull;

        pb_put_varint_field(&a, (uint32_t)(i % 200) + 1, v);
        pb_put_varint_field(&b, (uint32_t)(i % 200) + 1, v);
    }
    assert_int_equal(a.bytes, b.bytes);
    assert_int_equal(hvlog__pb_writer_finish(&a), 0);
    assert_int_equal(hvlog__pb_writer_finish(&b), 0);
    assert_true(small.calls > 10);
    assert_int_equal(big.calls, 1);
    assert_int_equal(small.len, big.len);
    assert_memory_equal(small.data, big.data, big.len);
}

static void a_failing_sink_sticks_and_is_reported_once_finished(void **state)
{
    struct mem_sink m = {.len = 0, .fail_on_call = 2};
    struct pb_writer w;
    char block[100];

    (void)state;
    memset(block, 'y', sizeof block);
    assert_int_equal(hvlog__pb_writer_init(&w, mem_write, &m, 64), 0);
    for (int i = 0; i < 10; i++)
        pb_put_bytes_field(&w, 1, block, sizeof block);
    assert_int_equal(w.error, EIO);
    assert_int_equal(m.calls, 2); /* nothing more is offered once it failed */
    assert_int_equal(hvlog__pb_writer_finish(&w), EIO);
    assert_int_equal(m.calls, 2);
    assert_int_equal(m.len, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(varints_have_the_right_bytes_at_every_size_boundary),
        cmocka_unit_test(tags_take_one_byte_up_to_field_15_then_more),
        cmocka_unit_test(fields_encode_as_the_protobuf_encoding_guide_shows),
        cmocka_unit_test(nested_lengths_are_computed_first_and_cover_their_content),
        cmocka_unit_test(output_is_the_same_whatever_the_buffer_size),
        cmocka_unit_test(a_failing_sink_sticks_and_is_reported_once_finished),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
