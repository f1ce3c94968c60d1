/* SPDX-License-Identifier: MIT */
/*
 * hvlog/abi/layout.h: every structure the guest sees, byte for byte.
 *
 * Each test fills a structure with distinct field values, stores it, and
 * compares the bytes with an image built here from the spec's table
 * (offset, size) - §4.3-§4.7, §5.1-§5.7, §11.1-§11.4 - not from the header's
 * field lists. It then loads that independent image back and expects the
 * original structure. A guard area past the block catches stores that write
 * beyond the spec's size (the packed 28-byte current Initialize, §11.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/le.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define GUARD 0xA5
#define GUARD_BYTES 16
#define MAX_BLOCK 96

/* One row of a spec table: a field at byte @offset, @size bytes wide. */
struct spec_field {
    size_t offset;
    unsigned size;
    uint64_t value;
};

/* The spec image of a structure: every field little-endian at its offset.
 * The rows must cover each byte of the block exactly once (the spec tables
 * leave no gaps: padding and reserved fields are rows too). */
static void build_image(uint8_t *img, size_t block, const struct spec_field *rows, size_t n)
{
    unsigned covered[MAX_BLOCK] = {0};

    assert_true(block <= MAX_BLOCK);
    memset(img, GUARD, block + GUARD_BYTES);
    for (size_t r = 0; r < n; r++) {
        assert_true(rows[r].offset + rows[r].size <= block);
        for (unsigned i = 0; i < rows[r].size; i++) {
            img[rows[r].offset + i] = (uint8_t)(rows[r].value >> (8 * i));
            covered[rows[r].offset + i]++;
        }
    }
    for (size_t i = 0; i < block; i++) {
        if (covered[i] != 1)
            fail_msg("spec table of the test covers byte %zu %u times", i, covered[i]);
    }
}

static void expect_image(const char *what, const uint8_t *got, const uint8_t *want, size_t block)
{
    for (size_t i = 0; i < block + GUARD_BYTES; i++) {
        if (got[i] != want[i])
            fail_msg("%s: byte %zu is 0x%02X, want 0x%02X%s", what, i, got[i], want[i],
                     i >= block ? " (written past the end of the block)" : "");
    }
}

/* store(obj) == spec image, and load(spec image) == obj. The structures
 * checked this way have no padding (layout.h asserts their sizes), so a
 * whole-object comparison is exact. */
#define EXPECT_SPEC_LAYOUT(T, obj, rows, block)                              \
    do {                                                                     \
        uint8_t got_[MAX_BLOCK + GUARD_BYTES];                               \
        uint8_t want_[MAX_BLOCK + GUARD_BYTES];                              \
        struct T back_;                                                      \
        _Static_assert(sizeof(struct T) == (block), #T " has no padding");   \
        build_image(want_, (block), (rows), ARRAY_LEN(rows));                \
        memset(got_, GUARD, sizeof got_);                                    \
        T##_store(got_, &(obj));                                             \
        expect_image(#T, got_, want_, (block));                              \
        memset(&back_, 0, sizeof back_);                                     \
        T##_load(&back_, want_);                                             \
        assert_memory_equal(&back_, &(obj), sizeof back_);                   \
    } while (0)

static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* Any bytes -> load -> store -> the same bytes, and nothing past the block:
 * the codec neither drops nor invents a byte. */
#define EXPECT_BYTES_ROUND_TRIP(T, block)                                     \
    do {                                                                      \
        uint64_t seed_ = 0x9E3779B97F4A7C15ull ^ (block);                     \
        for (int n_ = 0; n_ < 64; n_++) {                                     \
            uint8_t src_[MAX_BLOCK], dst_[MAX_BLOCK + GUARD_BYTES];           \
            struct T t_;                                                      \
            for (size_t i_ = 0; i_ < (block); i_++)                           \
                src_[i_] = (uint8_t)next_random(&seed_);                      \
            T##_load(&t_, src_);                                              \
            memset(dst_, GUARD, sizeof dst_);                                 \
            T##_store(dst_, &t_);                                             \
            assert_memory_equal(dst_, src_, (block));                         \
            for (size_t i_ = (block); i_ < (block) + GUARD_BYTES; i_++)       \
                assert_int_equal(dst_[i_], GUARD);                            \
        }                                                                     \
    } while (0)

/* ---- §4.3 HV_PROXIMITY_DOMAIN_INFO ---------------------------------------- */

static void proximity_domain_info_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_proximity_domain_info p = {.id = 0x11223344u, .flags = 0x80000001u};
    const struct spec_field rows[] = {{0, 4, p.id}, {4, 4, p.flags}};
    EXPECT_SPEC_LAYOUT(hv_proximity_domain_info, p, rows, 8);
}

/* §4.3: as a 64-bit register value the info is Id | (Flags << 32). */
static void proximity_domain_info_reads_as_id_or_flags_shifted_32(void **state)
{
    (void)state;
    const struct hv_proximity_domain_info p = {.id = 7, .flags = HV_PROXIMITY_FLAG_VALID};
    uint8_t b[8];
    hv_proximity_domain_info_store(b, &p);
    assert_int_equal(hvlog_load_le64(b), 0x8000000000000007ull);
    /* the flag constants are the spec's bits 0, 31 and 30:1 */
    assert_int_equal(HV_PROXIMITY_FLAG_PREFERRED, 0x00000001u);
    assert_int_equal(HV_PROXIMITY_FLAG_VALID, 0x80000000u);
    assert_int_equal(HV_PROXIMITY_FLAGS_RESERVED, 0x7FFFFFFEu);
}

/* ---- §4.4 HV_EVENTLOG_BUFFER_HEADER (2013) --------------------------------- */

static const struct hv_eventlog_buffer_header header_2013 = {
    .buffer_size = 0x00200000u,
    .buffer_index = 0x000001FEu,
    .events_lost = 0x0A0B0C0Du,
    .reference_counter = 0x13141516u,
    .time_stamp = 0x0123456789ABCDEFull,
    .reserved1 = 0x2122232425262728ull,
    .reserved2 = 0x3132333435363738ull,
    .logical_processor = 0x41,
    .alignment = 0x08,
    .logger_id = 0x4344,
    .buffer_state = 0x51525354u,
    .next_buffer_offset = 0x61626364u,
    .type = 0x71727374u,
    .next_buffer_index = 0x81828384u,
    .reserved3 = 0x91929394u,
    .reserved4 = 0xB1B2B3B4B5B6B7B8ull,
};

static void buffer_header_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    const struct hv_eventlog_buffer_header *h = &header_2013;
    const struct spec_field rows[] = {
        {0, 4, h->buffer_size},        {4, 4, h->buffer_index},
        {8, 4, h->events_lost},        {12, 4, h->reference_counter},
        {16, 8, h->time_stamp},        {24, 8, h->reserved1},
        {32, 8, h->reserved2},         {40, 1, h->logical_processor},
        {41, 1, h->alignment},         {42, 2, h->logger_id},
        {44, 4, h->buffer_state},      {48, 4, h->next_buffer_offset},
        {52, 4, h->type},              {56, 4, h->next_buffer_index},
        {60, 4, h->reserved3},         {64, 8, h->reserved4},
    };
    EXPECT_SPEC_LAYOUT(hv_eventlog_buffer_header, header_2013, rows, 72);
}

/* §4.4 spot checks written as literal bytes, for readers of a failure. */
static void buffer_header_state_and_chain_bytes_are_little_endian_at_44_to_59(void **state)
{
    (void)state;
    struct hv_eventlog_buffer_header h = {0};
    uint8_t b[72];
    h.buffer_state = HvEventLogBufferStateReady;
    h.next_buffer_offset = HV_EVENTLOG_BUFFER_HEADER_SIZE;
    h.type = HvEventLogTypeLocalDiagnostics;
    h.next_buffer_index = HV_EVENTLOG_BUFFER_INDEX_NONE;
    h.logical_processor = 3;
    h.alignment = 8;
    h.logger_id = 1;
    hv_eventlog_buffer_header_store(b, &h);

    const uint8_t want_40_60[] = {3, 8, 1, 0,              /* LP, Alignment, LoggerId */
                                  4, 0, 0, 0,              /* BufferState Ready */
                                  72, 0, 0, 0,             /* NextBufferOffset */
                                  1, 0, 0, 0,              /* Type */
                                  0xFF, 0xFF, 0xFF, 0xFF}; /* NextBufferIndex NONE */
    assert_memory_equal(b + 40, want_40_60, sizeof want_40_60);
}

static void buffer_header_bytes_round_trip(void **state)
{
    (void)state;
    EXPECT_BYTES_ROUND_TRIP(hv_eventlog_buffer_header, 72);
}

/* ---- §11.4 / D9 the current header over the same 72 bytes ----------------- */

static void current_buffer_header_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_eventlog_buffer_header_current h = {
        .buffer_size = 0x001FFFB8u,
        .buffer_index = 0x02030405u,
        .events_lost = 0x0A0B0C0Du,
        .reference_counter = 0x13141516u,
        .time_stamp = 0x0123456789ABCDEFull,
        .reserved1 = 0x2122232425262728ull,
        .reserved2 = 0x3132333435363738ull,
        .logical_processor = 0x4142,
        .logger_id = 0x4344,
        .buffer_state = 0x51525354u,
        .next_buffer_offset = 0x61626364u,
        .type = 0x71727374u,
        .next_buffer_index = 0x81828384u,
        .lp_sequence_number = 0x91929394u,
        .reserved4 = 0xB1B2B3B4B5B6B7B8ull,
    };
    const struct spec_field rows[] = {
        {0, 4, h.buffer_size},        {4, 4, h.buffer_index},      {8, 4, h.events_lost},
        {12, 4, h.reference_counter}, {16, 8, h.time_stamp},       {24, 8, h.reserved1},
        {32, 8, h.reserved2},         {40, 2, h.logical_processor}, {42, 2, h.logger_id},
        {44, 4, h.buffer_state},      {48, 4, h.next_buffer_offset}, {52, 4, h.type},
        {56, 4, h.next_buffer_index}, {60, 4, h.lp_sequence_number}, {64, 8, h.reserved4},
    };
    EXPECT_SPEC_LAYOUT(hv_eventlog_buffer_header_current, h, rows, 72);
}

/* §11.4: LogicalProcessor is a u16 at 40 (no Alignment byte) and bytes 60..63
 * are LpSequenceNumber; the 2013 view of the same bytes sees LP u8 + Alignment
 * u8 and Reserved3. */
static void current_header_reads_u16_lp_at_40_and_lp_sequence_number_at_60(void **state)
{
    (void)state;
    uint8_t b[72] = {0};
    b[40] = 0x02; /* LP 0x0102 = 258, more than a u8 can hold */
    b[41] = 0x01;
    b[42] = 0x34;
    b[43] = 0x12;
    b[60] = 0x78;
    b[61] = 0x56;
    b[62] = 0x34;
    b[63] = 0x12;

    struct hv_eventlog_buffer_header_current cur;
    hv_eventlog_buffer_header_current_load(&cur, b);
    assert_int_equal(cur.logical_processor, 0x0102);
    assert_int_equal(cur.logger_id, 0x1234);
    assert_int_equal(cur.lp_sequence_number, 0x12345678u);

    struct hv_eventlog_buffer_header old;
    hv_eventlog_buffer_header_load(&old, b);
    assert_int_equal(old.logical_processor, 0x02);
    assert_int_equal(old.alignment, 0x01);
    assert_int_equal(old.logger_id, 0x1234);
    assert_int_equal(old.reserved3, 0x12345678u);
}

static void current_buffer_header_bytes_round_trip(void **state)
{
    (void)state;
    EXPECT_BYTES_ROUND_TRIP(hv_eventlog_buffer_header_current, 72);
}

/* ---- §4.5 entry header, §4.6 payload, §4.7 message ------------------------- */

static void entry_header_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_eventlog_entry_header e = {
        .context = 0xC0C1C2C3u, .size = 0x0118, .type = 0x0027,
        .time_stamp = 0x8877665544332211ull};
    const struct spec_field rows[] = {
        {0, 4, e.context}, {4, 2, e.size}, {6, 2, e.type}, {8, 8, e.time_stamp}};
    EXPECT_SPEC_LAYOUT(hv_eventlog_entry_header, e, rows, 16);
    EXPECT_BYTES_ROUND_TRIP(hv_eventlog_entry_header, 16);
}

static void message_payload_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_eventlog_message_payload p = {.event_log_type = 0x01020304u,
                                                         .buffer_index = 0x05060708u};
    const struct spec_field rows[] = {{0, 4, p.event_log_type}, {4, 4, p.buffer_index}};
    EXPECT_SPEC_LAYOUT(hv_eventlog_message_payload, p, rows, 8);
}

static void message_header_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_message_header m = {.message_type = 0x80000040u,
                                               .payload_size = 0x08,
                                               .message_flags = 0x01,
                                               .reserved = 0x0607,
                                               .sender = 0x1011121314151617ull};
    /* D11: struct order, PayloadSize @4, Flags @5, Reserved @6..7 */
    const struct spec_field rows[] = {{0, 4, m.message_type},
                                      {4, 1, m.payload_size},
                                      {5, 1, m.message_flags},
                                      {6, 2, m.reserved},
                                      {8, 8, m.sender}};
    EXPECT_SPEC_LAYOUT(hv_message_header, m, rows, 16);
    EXPECT_BYTES_ROUND_TRIP(hv_message_header, 16);
}

/* §4.7: the notification as it appears in a 256-byte SIM slot. */
static void ready_notification_message_has_the_spec_bytes(void **state)
{
    (void)state;
    uint8_t slot[HV_MESSAGE_SIZE];
    const struct hv_message_header h = {.message_type = HvMessageTypeEventLogBufferComplete,
                                        .payload_size = HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE};
    const struct hv_eventlog_message_payload p = {.event_log_type = 1, .buffer_index = 0x1FF};

    memset(slot, 0, sizeof slot);
    hv_message_header_store(slot, &h);
    hv_eventlog_message_payload_store(slot + offsetof(struct hv_message, payload), &p);

    const uint8_t want[24] = {0x40, 0x00, 0x00, 0x80, /* MessageType */
                              0x08, 0x00, 0x00, 0x00, /* PayloadSize, Flags, Reserved */
                              0, 0, 0, 0, 0, 0, 0, 0, /* Sender */
                              0x01, 0, 0, 0,          /* Payload.EventLogType */
                              0xFF, 0x01, 0, 0};      /* Payload.BufferIndex */
    assert_memory_equal(slot, want, sizeof want);
    for (size_t i = sizeof want; i < sizeof slot; i++)
        assert_int_equal(slot[i], 0);
}

static void message_and_sim_page_sizes_match_the_spec(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct hv_message), 256);
    assert_int_equal(sizeof(struct hv_message_header), 16);
    assert_int_equal(offsetof(struct hv_message, payload), 16);
    assert_int_equal(sizeof(((struct hv_message *)0)->payload), 240);
    assert_int_equal(HV_MESSAGE_SIZE, 256);
    assert_int_equal(HV_MESSAGE_HEADER_SIZE, 16);
    assert_int_equal(HV_MESSAGE_PAYLOAD_BYTES, 240);
    assert_int_equal(HV_MESSAGE_PAYLOAD_QWORDS, 30);
    assert_int_equal(HV_MESSAGE_FLAG_PENDING, 0x01);
    assert_int_equal(HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE, 8);
    /* §4.7 / §2.3: 16 slots of 256 bytes fill the 4096-byte SIM page */
    assert_int_equal(HV_SYNIC_SINT_COUNT, 16);
    assert_int_equal(HV_SYNIC_MESSAGE_PAGE_SIZE, 4096);
}

/* ---- §5.1 / §11.1 Initialize ------------------------------------------------ */

static void initialize_2013_fields_sit_at_spec_offsets_with_system_time_at_24(void **state)
{
    (void)state;
    static const struct hv_input_initialize_eventlog_buffer_group in = {
        .type = 0x01020304u,
        .maximum_buffer_count = 0x11121314u,
        .buffer_pages = 0x21222324u,
        .threshold = 0x31323334u,
        .time_basis = 0x41424344u,
        .padding = 0x51525354u,
        .system_time = 0x6162636465666768ull,
    };
    const struct spec_field rows[] = {
        {0, 4, in.type},       {4, 4, in.maximum_buffer_count}, {8, 4, in.buffer_pages},
        {12, 4, in.threshold}, {16, 4, in.time_basis},          {20, 4, in.padding},
        {24, 8, in.system_time}};
    EXPECT_SPEC_LAYOUT(hv_input_initialize_eventlog_buffer_group, in, rows, 32);
    EXPECT_BYTES_ROUND_TRIP(hv_input_initialize_eventlog_buffer_group, 32);
}

/* §11.1: 28 packed bytes, Type u16 @0, Mode u16 @2 and SystemTime @20; the
 * host struct has its own order (and tail padding), so fields are compared
 * one by one, and bytes 28.. must stay untouched. */
static void initialize_current_is_28_packed_bytes_with_system_time_at_20(void **state)
{
    (void)state;
    struct hv_input_initialize_eventlog_buffer_group_current in, back;
    uint8_t got[MAX_BLOCK + GUARD_BYTES], want[MAX_BLOCK + GUARD_BYTES];

    memset(&in, 0, sizeof in);
    in.type = 0x0102;
    in.mode = 0x0304;
    in.maximum_buffer_count = 0x11121314u;
    in.buffer_size_bytes = 0x21222324u;
    in.threshold = 0x31323334u;
    in.time_basis = 0x41424344u;
    in.system_time = 0x6162636465666768ull;
    const struct spec_field rows[] = {
        {0, 2, in.type},       {2, 2, in.mode},        {4, 4, in.maximum_buffer_count},
        {8, 4, in.buffer_size_bytes}, {12, 4, in.threshold}, {16, 4, in.time_basis},
        {20, 8, in.system_time}};

    build_image(want, 28, rows, ARRAY_LEN(rows));
    memset(got, GUARD, sizeof got);
    hv_input_initialize_eventlog_buffer_group_current_store(got, &in);
    expect_image("initialize_current", got, want, 28);

    const uint8_t systime_bytes[8] = {0x68, 0x67, 0x66, 0x65, 0x64, 0x63, 0x62, 0x61};
    assert_memory_equal(got + 20, systime_bytes, 8);

    memset(&back, 0, sizeof back);
    hv_input_initialize_eventlog_buffer_group_current_load(&back, want);
    assert_int_equal(back.type, in.type);
    assert_int_equal(back.mode, in.mode);
    assert_int_equal(back.maximum_buffer_count, in.maximum_buffer_count);
    assert_int_equal(back.buffer_size_bytes, in.buffer_size_bytes);
    assert_int_equal(back.threshold, in.threshold);
    assert_int_equal(back.time_basis, in.time_basis);
    assert_int_equal(back.system_time, in.system_time);

    assert_int_equal(hv_input_initialize_eventlog_buffer_group_current_WIRE_SIZE, 28);
}

static void initialize_current_bytes_round_trip(void **state)
{
    (void)state;
    EXPECT_BYTES_ROUND_TRIP(hv_input_initialize_eventlog_buffer_group_current, 28);
}

/* ---- §5.2-§5.9 fast inputs, §11.2 partition variant ------------------------- */

static void finalize_input_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_input_finalize_eventlog_buffer_group in = {.type = 0x01020304u,
                                                                      .padding = 0x05060708u};
    const struct spec_field rows[] = {{0, 4, in.type}, {4, 4, in.padding}};
    EXPECT_SPEC_LAYOUT(hv_input_finalize_eventlog_buffer_group, in, rows, 8);
}

static void create_input_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_input_create_eventlog_buffer in = {.type = 0x01020304u,
                                                              .buffer_index = 0x05060708u,
                                                              .proximity_id = 0x090A0B0Cu,
                                                              .proximity_flags = 0x800D0E0Fu};
    const struct spec_field rows[] = {
        {0, 4, in.type}, {4, 4, in.buffer_index}, {8, 4, in.proximity_id},
        {12, 4, in.proximity_flags}};
    EXPECT_SPEC_LAYOUT(hv_input_create_eventlog_buffer, in, rows, 16);

    /* bytes 8..15 are an HV_PROXIMITY_DOMAIN_INFO (§5.3 -> §4.3) */
    uint8_t b[16];
    struct hv_proximity_domain_info p;
    hv_input_create_eventlog_buffer_store(b, &in);
    hv_proximity_domain_info_load(&p, b + 8);
    assert_int_equal(p.id, in.proximity_id);
    assert_int_equal(p.flags, in.proximity_flags);
}

static void type_and_index_input_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_input_eventlog_buffer in = {.type = 0x01020304u,
                                                       .buffer_index = 0x05060708u};
    const struct spec_field rows[] = {{0, 4, in.type}, {4, 4, in.buffer_index}};
    EXPECT_SPEC_LAYOUT(hv_input_eventlog_buffer, in, rows, 8);
}

static void partition_input_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_input_eventlog_buffer_partition in = {
        .type = 0x01020304u, .buffer_index = 0x05060708u, .partition_id = HV_PARTITION_ID_SELF};
    const struct spec_field rows[] = {
        {0, 4, in.type}, {4, 4, in.buffer_index}, {8, 8, in.partition_id}};
    EXPECT_SPEC_LAYOUT(hv_input_eventlog_buffer_partition, in, rows, 16);

    static const struct hv_input_eventlog_buffer_partition in2 = {
        .type = 0x01020304u, .buffer_index = 0x05060708u, .partition_id = 0x1112131415161718ull};
    const struct spec_field rows2[] = {
        {0, 4, in2.type}, {4, 4, in2.buffer_index}, {8, 8, in2.partition_id}};
    EXPECT_SPEC_LAYOUT(hv_input_eventlog_buffer_partition, in2, rows2, 16);
}

static void set_sources_input_fields_sit_at_spec_offsets(void **state)
{
    (void)state;
    static const struct hv_input_set_eventlog_group_sources in = {
        .type = 0x01020304u, .padding = 0x05060708u, .enable_flags = 0x8000000100000001ull};
    const struct spec_field rows[] = {{0, 4, in.type}, {4, 4, in.padding}, {8, 8, in.enable_flags}};
    EXPECT_SPEC_LAYOUT(hv_input_set_eventlog_group_sources, in, rows, 16);
}

/* §11.3: Type @0, GroupCount @4, ConfigurationFlags @8, Groups[2] @16 of 264
 * bytes each (GroupId u32, pad 2, EventCount u16, EventId[256]) = 544. */
static void current_set_sources_head_and_group_config_match_the_spec(void **state)
{
    (void)state;
    static const struct hv_input_set_eventlog_group_sources_current in = {
        .type = 0x01020304u, .group_count = 0x05060708u,
        .configuration_flags = 0x1112131415161718ull};
    const struct spec_field rows[] = {
        {0, 4, in.type}, {4, 4, in.group_count}, {8, 8, in.configuration_flags}};
    EXPECT_SPEC_LAYOUT(hv_input_set_eventlog_group_sources_current, in, rows, 16);

    assert_int_equal(sizeof(struct hv_eventlog_group_config), 264);
    assert_int_equal(offsetof(struct hv_eventlog_group_config, group_id), 0);
    assert_int_equal(offsetof(struct hv_eventlog_group_config, padding), 4);
    assert_int_equal(offsetof(struct hv_eventlog_group_config, event_count), 6);
    assert_int_equal(offsetof(struct hv_eventlog_group_config, event_id), 8);
    assert_int_equal(sizeof(((struct hv_eventlog_group_config *)0)->event_id), 256);
    assert_int_equal(HV_EVENTLOG_GROUP_CONFIG_SIZE, 264);
    assert_int_equal(HV_EVENTLOG_GROUP_EVENT_IDS, 256);
    assert_int_equal(HV_EVENTLOG_SET_SOURCES_GROUPS, 2);
    assert_int_equal(HV_INPUT_SET_SOURCES_CURRENT_SIZE, 544);
    assert_int_equal(16 + 2 * sizeof(struct hv_eventlog_group_config), 544);
    /* D5: bit 0 of ConfigurationFlags marks the extended form */
    assert_int_equal(HV_EVENTLOG_EXTENDED_TRACE_FLAG, 0x1);
}

static void fast_and_small_inputs_round_trip_as_bytes(void **state)
{
    (void)state;
    EXPECT_BYTES_ROUND_TRIP(hv_proximity_domain_info, 8);
    EXPECT_BYTES_ROUND_TRIP(hv_eventlog_message_payload, 8);
    EXPECT_BYTES_ROUND_TRIP(hv_input_finalize_eventlog_buffer_group, 8);
    EXPECT_BYTES_ROUND_TRIP(hv_input_create_eventlog_buffer, 16);
    EXPECT_BYTES_ROUND_TRIP(hv_input_eventlog_buffer, 8);
    EXPECT_BYTES_ROUND_TRIP(hv_input_eventlog_buffer_partition, 16);
    EXPECT_BYTES_ROUND_TRIP(hv_input_set_eventlog_group_sources, 16);
    EXPECT_BYTES_ROUND_TRIP(hv_input_set_eventlog_group_sources_current, 16);
}

/* ---- sizes and limits (§2.3, §4, §5, §11) ------------------------------------ */

static void every_structure_has_the_spec_size(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct hv_proximity_domain_info), 8);
    assert_int_equal(sizeof(struct hv_eventlog_buffer_header), 72);
    assert_int_equal(sizeof(struct hv_eventlog_buffer_header_current), 72);
    assert_int_equal(sizeof(struct hv_eventlog_entry_header), 16);
    assert_int_equal(sizeof(struct hv_eventlog_message_payload), 8);
    assert_int_equal(sizeof(struct hv_message), 256);
    assert_int_equal(sizeof(struct hv_input_initialize_eventlog_buffer_group), 32);
    assert_int_equal(sizeof(struct hv_input_finalize_eventlog_buffer_group), 8);
    assert_int_equal(sizeof(struct hv_input_create_eventlog_buffer), 16);
    assert_int_equal(sizeof(struct hv_input_eventlog_buffer), 8);
    assert_int_equal(sizeof(struct hv_input_eventlog_buffer_partition), 16);
    assert_int_equal(sizeof(struct hv_input_set_eventlog_group_sources), 16);
    assert_int_equal(sizeof(struct hv_input_set_eventlog_group_sources_current), 16);
    assert_int_equal(HV_EVENTLOG_BUFFER_HEADER_SIZE, 72);
    assert_int_equal(HV_EVENTLOG_ENTRY_HEADER_SIZE, 16);
}

static void limits_match_the_spec_table(void **state)
{
    (void)state;
    assert_int_equal(HV_PAGE_SIZE, 4096);
    assert_int_equal(HV_PAGE_SHIFT, 12);
    assert_int_equal(1u << HV_PAGE_SHIFT, HV_PAGE_SIZE);
    assert_int_equal(HV_EVENTLOG_MIN_BUFFER_PAGES, 1);
    assert_int_equal(HV_EVENTLOG_MAX_BUFFER_PAGES, 512);
    assert_int_equal(HV_EVENTLOG_MIN_BUFFER_COUNT, 1);
    assert_int_equal(HV_EVENTLOG_MAX_BUFFER_COUNT, 512);
    assert_int_equal(HV_EVENTLOG_ENTRY_ALIGNMENT, 8);
    assert_int_equal(HV_EVENTLOG_MAX_ENTRY_SIZE, 65528);
    assert_int_equal(HV_EVENTLOG_MAX_ENTRY_SIZE % HV_EVENTLOG_ENTRY_ALIGNMENT, 0);
    assert_true(HV_EVENTLOG_MAX_ENTRY_SIZE + HV_EVENTLOG_ENTRY_ALIGNMENT > 0xFFFF);
    assert_int_equal(HV_EVENTLOG_SOURCE_MASK_BITS, 64);
    assert_int_equal(HV_EVENTLOG_MAX_LOST_EVENTS, 0xFFFFFFFFu);
    /* §4.4: the first entry at 72 is 8-aligned */
    assert_int_equal(HV_EVENTLOG_BUFFER_HEADER_SIZE % HV_EVENTLOG_ENTRY_ALIGNMENT, 0);
    /* §5.5: the map output is BufferPages x 8 bytes, at most one page */
    assert_int_equal(HV_MAP_OUTPUT_ENTRY_SIZE, 8);
    assert_int_equal(HV_MAP_OUTPUT_MAX_SIZE, 4096);
    /* §2.2 special values */
    assert_int_equal(HV_EVENTLOG_BUFFER_INDEX_NONE, 0xFFFFFFFFu);
    assert_int_equal(HV_PARTITION_ID_INVALID, 0);
    assert_int_equal(HV_PARTITION_ID_SELF, 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(HV_ANY_VP, 0xFFFFFFFFu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proximity_domain_info_fields_sit_at_spec_offsets),
        cmocka_unit_test(proximity_domain_info_reads_as_id_or_flags_shifted_32),
        cmocka_unit_test(buffer_header_fields_sit_at_spec_offsets),
        cmocka_unit_test(buffer_header_state_and_chain_bytes_are_little_endian_at_44_to_59),
        cmocka_unit_test(buffer_header_bytes_round_trip),
        cmocka_unit_test(current_buffer_header_fields_sit_at_spec_offsets),
        cmocka_unit_test(current_header_reads_u16_lp_at_40_and_lp_sequence_number_at_60),
        cmocka_unit_test(current_buffer_header_bytes_round_trip),
        cmocka_unit_test(entry_header_fields_sit_at_spec_offsets),
        cmocka_unit_test(message_payload_fields_sit_at_spec_offsets),
        cmocka_unit_test(message_header_fields_sit_at_spec_offsets),
        cmocka_unit_test(ready_notification_message_has_the_spec_bytes),
        cmocka_unit_test(message_and_sim_page_sizes_match_the_spec),
        cmocka_unit_test(initialize_2013_fields_sit_at_spec_offsets_with_system_time_at_24),
        cmocka_unit_test(initialize_current_is_28_packed_bytes_with_system_time_at_20),
        cmocka_unit_test(initialize_current_bytes_round_trip),
        cmocka_unit_test(finalize_input_fields_sit_at_spec_offsets),
        cmocka_unit_test(create_input_fields_sit_at_spec_offsets),
        cmocka_unit_test(type_and_index_input_fields_sit_at_spec_offsets),
        cmocka_unit_test(partition_input_fields_sit_at_spec_offsets),
        cmocka_unit_test(set_sources_input_fields_sit_at_spec_offsets),
        cmocka_unit_test(current_set_sources_head_and_group_config_match_the_spec),
        cmocka_unit_test(fast_and_small_inputs_round_trip_as_bytes),
        cmocka_unit_test(every_structure_has_the_spec_size),
        cmocka_unit_test(limits_match_the_spec_table),
    };
    return cmocka_run_group_tests_name("abi_layout", tests, NULL, NULL);
}
