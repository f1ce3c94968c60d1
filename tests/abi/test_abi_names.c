/* SPDX-License-Identifier: MIT */
/*
 * src/abi/names.c and the tables behind it: statuses (§2.4), the nine calls
 * (§2.1, §3.6, §11, D23), the event-log enumerations (§2.2), message types,
 * enable flags and the entry-type catalogue (§4.8).
 *
 * The expected rows are typed in from the spec, so a wrong value or name in
 * an X-macro table fails here rather than being compared with itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hvlog/abi/calls.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/status.h"
#include "hvlog/version.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- HV_STATUS (§2.4) -------------------------------------------------------- */

struct expected_status {
    unsigned enum_value; /* the enumerator, to check it against the spec value */
    uint16_t value;
    const char *name;
};

/* §2.4, every named row; 0x0010 and 0x0015 carry the [HDK] names (D20). */
static const struct expected_status spec_statuses[] = {
    {HV_STATUS_SUCCESS, 0x0000, "HV_STATUS_SUCCESS"},
    {HV_STATUS_INVALID_HYPERCALL_CODE, 0x0002, "HV_STATUS_INVALID_HYPERCALL_CODE"},
    {HV_STATUS_INVALID_HYPERCALL_INPUT, 0x0003, "HV_STATUS_INVALID_HYPERCALL_INPUT"},
    {HV_STATUS_INVALID_ALIGNMENT, 0x0004, "HV_STATUS_INVALID_ALIGNMENT"},
    {HV_STATUS_INVALID_PARAMETER, 0x0005, "HV_STATUS_INVALID_PARAMETER"},
    {HV_STATUS_ACCESS_DENIED, 0x0006, "HV_STATUS_ACCESS_DENIED"},
    {HV_STATUS_INVALID_PARTITION_STATE, 0x0007, "HV_STATUS_INVALID_PARTITION_STATE"},
    {HV_STATUS_OPERATION_DENIED, 0x0008, "HV_STATUS_OPERATION_DENIED"},
    {HV_STATUS_UNKNOWN_PROPERTY, 0x0009, "HV_STATUS_UNKNOWN_PROPERTY"},
    {HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE, 0x000A, "HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE"},
    {HV_STATUS_INSUFFICIENT_MEMORY, 0x000B, "HV_STATUS_INSUFFICIENT_MEMORY"},
    {HV_STATUS_PARTITION_TOO_DEEP, 0x000C, "HV_STATUS_PARTITION_TOO_DEEP"},
    {HV_STATUS_INVALID_PARTITION_ID, 0x000D, "HV_STATUS_INVALID_PARTITION_ID"},
    {HV_STATUS_INVALID_VP_INDEX, 0x000E, "HV_STATUS_INVALID_VP_INDEX"},
    {HV_STATUS_NOT_FOUND, 0x0010, "HV_STATUS_NOT_FOUND"},
    {HV_STATUS_INVALID_PORT_ID, 0x0011, "HV_STATUS_INVALID_PORT_ID"},
    {HV_STATUS_INVALID_CONNECTION_ID, 0x0012, "HV_STATUS_INVALID_CONNECTION_ID"},
    {HV_STATUS_INSUFFICIENT_BUFFERS, 0x0013, "HV_STATUS_INSUFFICIENT_BUFFERS"},
    {HV_STATUS_NOT_ACKNOWLEDGED, 0x0014, "HV_STATUS_NOT_ACKNOWLEDGED"},
    {HV_STATUS_INVALID_VP_STATE, 0x0015, "HV_STATUS_INVALID_VP_STATE"},
    {HV_STATUS_ACKNOWLEDGED, 0x0016, "HV_STATUS_ACKNOWLEDGED"},
    {HV_STATUS_INVALID_SAVE_RESTORE_STATE, 0x0017, "HV_STATUS_INVALID_SAVE_RESTORE_STATE"},
    {HV_STATUS_INVALID_SYNIC_STATE, 0x0018, "HV_STATUS_INVALID_SYNIC_STATE"},
    {HV_STATUS_OBJECT_IN_USE, 0x0019, "HV_STATUS_OBJECT_IN_USE"},
    {HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO, 0x001A, "HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO"},
    {HV_STATUS_NO_DATA, 0x001B, "HV_STATUS_NO_DATA"},
    {HV_STATUS_INACTIVE, 0x001C, "HV_STATUS_INACTIVE"},
    {HV_STATUS_NO_RESOURCES, 0x001D, "HV_STATUS_NO_RESOURCES"},
    {HV_STATUS_FEATURE_UNAVAILABLE, 0x001E, "HV_STATUS_FEATURE_UNAVAILABLE"},
    {HV_STATUS_PARTIAL_PACKET, 0x001F, "HV_STATUS_PARTIAL_PACKET"},
};

/* The rows of the header's own table, to check that every one is served. */
struct table_status {
    uint16_t value;
    const char *name;
    const char *text;
};
static const struct table_status table_statuses[] = {
#define ROW(name, value, text) {(value), #name, (text)},
    HV_STATUS_TABLE(ROW)
#undef ROW
};

static void every_spec_status_has_its_spec_value_and_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(spec_statuses); i++) {
        const struct expected_status *s = &spec_statuses[i];
        assert_int_equal(s->enum_value, s->value);
        const char *name = hvlog_status_name(s->value);
        if (!name || strcmp(name, s->name) != 0)
            fail_msg("status 0x%04X: name %s, want %s", s->value, name ? name : "(null)",
                     s->name);
    }
}

/*
 * The texts are hvlog's own one-line meanings, so there is no spec column
 * to type them in from; what can be checked without comparing the table
 * with itself: every status of the spec (the list above, typed from §2.4)
 * has one; no two statuses share one (a row copied and not edited); each
 * fits in a one-line message (no newline, no final period, short); and the
 * two rows the 2013 spec reserves (D20) say so. Name lookups, the buffer
 * size and the formatter are checked for every row of the table.
 */
static void every_status_has_its_own_one_line_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(spec_statuses); i++) {
        const char *text = hvlog_status_text(spec_statuses[i].value);

        if (!text || strlen(text) == 0 || strlen(text) > 60 || strchr(text, '\n') ||
            text[strlen(text) - 1] == '.')
            fail_msg("status 0x%04X: text \"%s\" is not one short line", spec_statuses[i].value,
                     text ? text : "(null)");
        for (size_t j = 0; j < i; j++) {
            const char *other = hvlog_status_text(spec_statuses[j].value);
            if (other && strcmp(text, other) == 0)
                fail_msg("statuses 0x%04X and 0x%04X share the text \"%s\"",
                         spec_statuses[j].value, spec_statuses[i].value, text);
        }
    }
    assert_non_null(strstr(hvlog_status_text(0x0010), "reserved in 2013"));
    assert_non_null(strstr(hvlog_status_text(0x0015), "reserved in 2013"));
    assert_null(strstr(hvlog_status_text(0x0006), "reserved"));
    for (size_t i = 0; i < ARRAY_LEN(table_statuses); i++) {
        const struct table_status *s = &table_statuses[i];
        const char *name = hvlog_status_name(s->value);
        char buf[HVLOG_STATUS_NAME_MAX];

        assert_non_null(name);
        assert_string_equal(name, s->name);
        assert_true(strncmp(name, "HV_STATUS_", 10) == 0);
        /* the longest name fits the documented buffer size */
        assert_true(strlen(name) < HVLOG_STATUS_NAME_MAX);
        assert_string_equal(hvlog_status_format(s->value, buf, sizeof buf), s->name);
    }
}

/* §2.4 leaves 0x0001 and 0x000F reserved: no name, hex instead. */
static void reserved_statuses_have_no_name_and_print_as_hex(void **state)
{
    (void)state;
    char buf[HVLOG_STATUS_NAME_MAX];

    assert_null(hvlog_status_name(0x0001));
    assert_null(hvlog_status_text(0x0001));
    assert_string_equal(hvlog_status_format(0x0001, buf, sizeof buf), "HV_STATUS_0x0001");
    assert_null(hvlog_status_name(0x000F));
    assert_string_equal(hvlog_status_format(0x000F, buf, sizeof buf), "HV_STATUS_0x000F");
    assert_string_equal(hvlog_status_format(0x0020, buf, sizeof buf), "HV_STATUS_0x0020");
    assert_string_equal(hvlog_status_format(0xABCD, buf, sizeof buf), "HV_STATUS_0xABCD");
    assert_string_equal(hvlog_status_format(0xFFFF, buf, sizeof buf), "HV_STATUS_0xFFFF");
}

/* All 65536 values: format never fails, returns @buf, and prints the name
 * when there is one and four upper-case hex digits otherwise; name and
 * text are either both present or both absent. */
static void every_16_bit_status_formats_as_its_name_or_as_hex(void **state)
{
    (void)state;
    size_t named = 0;

    for (uint32_t v = 0; v <= 0xFFFF; v++) {
        char buf[HVLOG_STATUS_NAME_MAX];
        char hex[32];
        const char *name = hvlog_status_name((hv_status_t)v);
        const char *text = hvlog_status_text((hv_status_t)v);
        const char *out;

        memset(buf, 0x7F, sizeof buf);
        out = hvlog_status_format((hv_status_t)v, buf, sizeof buf);
        assert_ptr_equal(out, buf);
        assert_non_null(memchr(buf, '\0', sizeof buf));
        assert_true((name == NULL) == (text == NULL));
        if (name) {
            named++;
            assert_string_equal(buf, name);
        } else {
            snprintf(hex, sizeof hex, "HV_STATUS_0x%04X", (unsigned)v);
            if (strcmp(buf, hex) != 0)
                fail_msg("0x%04X formats as \"%s\", want \"%s\"", v, buf, hex);
        }
    }
    /* exactly the table's rows are named, no more */
    assert_int_equal(named, ARRAY_LEN(table_statuses));
}

static void status_format_truncates_safely_into_a_short_buffer(void **state)
{
    (void)state;
    char buf[8];

    memset(buf, 'x', sizeof buf);
    assert_ptr_equal(hvlog_status_format(HV_STATUS_ACCESS_DENIED, buf, 8), buf);
    assert_string_equal(buf, "HV_STAT");
    assert_ptr_equal(hvlog_status_format(0x0001, buf, 8), buf);
    assert_string_equal(buf, "HV_STAT");
    /* size 0: nothing may be written */
    memset(buf, 'x', sizeof buf);
    assert_ptr_equal(hvlog_status_format(0x0001, buf, 0), buf);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 'x');
}

/* ---- the nine calls (§2.1, §3.6, §5, §11, D23) ----------------------------- */

struct expected_call {
    uint16_t code;
    const char *name;
    enum hvlog_call_convention conv_2013;
    enum hvlog_call_convention conv_current;
    uint16_t in_2013;
    uint16_t in_current;
    bool has_output;
};

/* 2013: §2.1 conventions, input sizes from §5.1-§5.9 (Init 32 bytes per
 * DEC-INITLAYOUT). Current: §11.1 Init 28, §11.2 Map/Unmap 16 with
 * PartitionId, §11.3 SetSources memory 544 (D5); D23 keeps Unmap fast. */
static const struct expected_call spec_calls[] = {
    {0x0060, "HvInitializeEventLogBufferGroup", HVLOG_CALL_MEMORY, HVLOG_CALL_MEMORY, 32, 28,
     false},
    {0x0061, "HvFinalizeEventLogBufferGroup", HVLOG_CALL_FAST, HVLOG_CALL_FAST, 8, 8, false},
    {0x0062, "HvCreateEventLogBuffer", HVLOG_CALL_FAST, HVLOG_CALL_FAST, 16, 16, false},
    {0x0063, "HvDeleteEventLogBuffer", HVLOG_CALL_FAST, HVLOG_CALL_FAST, 8, 8, false},
    {0x0064, "HvMapEventLogBuffer", HVLOG_CALL_MEMORY, HVLOG_CALL_MEMORY, 8, 16, true},
    {0x0065, "HvUnmapEventLogBuffer", HVLOG_CALL_FAST, HVLOG_CALL_FAST, 8, 16, false},
    {0x0066, "HvSetEventLogGroupSources", HVLOG_CALL_FAST, HVLOG_CALL_MEMORY, 16, 544, false},
    {0x0067, "HvReleaseEventLogBuffer", HVLOG_CALL_FAST, HVLOG_CALL_FAST, 8, 8, false},
    {0x0068, "HvFlushEventLogBuffer", HVLOG_CALL_FAST, HVLOG_CALL_FAST, 8, 8, false},
};

static void each_of_the_nine_call_codes_has_its_spec_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(spec_calls); i++) {
        const struct expected_call *e = &spec_calls[i];
        const struct hvlog_call_info *c = hvlog_call_info(e->code);

        if (!c)
            fail_msg("call 0x%04X has no row", e->code);
        assert_int_equal(c->code, e->code);
        assert_string_equal(c->name, e->name);
        assert_string_equal(hvlog_call_name(e->code), e->name);
        assert_int_equal(c->convention_2013, e->conv_2013);
        assert_int_equal(c->convention_current, e->conv_current);
        assert_int_equal(c->input_bytes_2013, e->in_2013);
        assert_int_equal(c->input_bytes_current, e->in_current);
        assert_int_equal(c->has_output, e->has_output);
        assert_non_null(c->short_name);
        assert_true(strlen(c->short_name) > 0);
        /* rows come in code order */
        assert_ptr_equal(hvlog_call_info_at(i), c);
    }
    assert_null(hvlog_call_info_at(ARRAY_LEN(spec_calls)));
    assert_null(hvlog_call_info_at((size_t)-1));
    assert_int_equal(HV_EVENTLOG_CALL_COUNT, 9);
    assert_int_equal(HV_EVENTLOG_CALL_FIRST, 0x0060);
    assert_int_equal(HV_EVENTLOG_CALL_LAST, 0x0068);
}

static void call_enumerators_carry_the_spec_codes(void **state)
{
    (void)state;
    assert_int_equal(HvCallHvInitializeEventLogBufferGroup, 0x0060);
    assert_int_equal(HvCallHvFinalizeEventLogBufferGroup, 0x0061);
    assert_int_equal(HvCallHvCreateEventLogBuffer, 0x0062);
    assert_int_equal(HvCallHvDeleteEventLogBuffer, 0x0063);
    assert_int_equal(HvCallHvMapEventLogBuffer, 0x0064);
    assert_int_equal(HvCallHvUnmapEventLogBuffer, 0x0065);
    assert_int_equal(HvCallHvSetEventLogGroupSources, 0x0066);
    assert_int_equal(HvCallHvReleaseEventLogBuffer, 0x0067);
    assert_int_equal(HvCallHvFlushEventLogBuffer, 0x0068);
}

static void codes_outside_0x60_to_0x68_have_no_row(void **state)
{
    (void)state;
    const uint32_t others[] = {0x0000, 0x0048, 0x005F, 0x0069, 0x00FF, 0xFFFF,
                               0x10060, 0x10068, 0xFFFF0060u, 0xFFFFFFFFu};
    for (size_t i = 0; i < ARRAY_LEN(others); i++) {
        if (hvlog_call_info(others[i]) != NULL)
            fail_msg("code 0x%X has a row", others[i]);
        assert_null(hvlog_call_name(others[i]));
    }
    /* and within 16 bits, exactly the nine codes have one */
    unsigned rows = 0;
    for (uint32_t code = 0; code <= 0xFFFF; code++)
        rows += hvlog_call_info(code) != NULL;
    assert_int_equal(rows, 9);
}

/* §3.3: a fast call carries at most 16 input bytes; only Map has output
 * (§5.5); the sizes agree with the structures of layout.h. */
static void call_rows_agree_with_the_fast_limit_and_the_layouts(void **state)
{
    (void)state;
    const char *seen[9] = {0};

    for (size_t i = 0; i < 9; i++) {
        const struct hvlog_call_info *c = hvlog_call_info_at(i);
        assert_non_null(c);
        if (c->convention_2013 == HVLOG_CALL_FAST)
            assert_true(c->input_bytes_2013 <= 16);
        if (c->convention_current == HVLOG_CALL_FAST)
            assert_true(c->input_bytes_current <= 16);
        assert_int_equal(c->has_output, c->code == 0x0064);
        /* short names are unique: the CLI uses them as verbs */
        for (size_t j = 0; j < i; j++)
            assert_true(strcmp(seen[j], c->short_name) != 0);
        seen[i] = c->short_name;
    }
    assert_int_equal(hvlog_call_info(0x60)->input_bytes_2013,
                     sizeof(struct hv_input_initialize_eventlog_buffer_group));
    assert_int_equal(hvlog_call_info(0x60)->input_bytes_current,
                     hv_input_initialize_eventlog_buffer_group_current_WIRE_SIZE);
    assert_int_equal(hvlog_call_info(0x61)->input_bytes_2013,
                     sizeof(struct hv_input_finalize_eventlog_buffer_group));
    assert_int_equal(hvlog_call_info(0x62)->input_bytes_2013,
                     sizeof(struct hv_input_create_eventlog_buffer));
    assert_int_equal(hvlog_call_info(0x64)->input_bytes_2013,
                     sizeof(struct hv_input_eventlog_buffer));
    assert_int_equal(hvlog_call_info(0x64)->input_bytes_current,
                     sizeof(struct hv_input_eventlog_buffer_partition));
    assert_int_equal(hvlog_call_info(0x65)->input_bytes_current,
                     sizeof(struct hv_input_eventlog_buffer_partition));
    assert_int_equal(hvlog_call_info(0x66)->input_bytes_2013,
                     sizeof(struct hv_input_set_eventlog_group_sources));
    assert_int_equal(hvlog_call_info(0x66)->input_bytes_current,
                     HV_INPUT_SET_SOURCES_CURRENT_SIZE);
}

static void call_conventions_have_names(void **state)
{
    (void)state;
    assert_string_equal(hvlog_call_convention_name(HVLOG_CALL_FAST), "fast");
    assert_string_equal(hvlog_call_convention_name(HVLOG_CALL_MEMORY), "memory");
    assert_string_equal(hvlog_call_convention_name((enum hvlog_call_convention)0), "unknown");
    assert_string_equal(hvlog_call_convention_name((enum hvlog_call_convention)77), "unknown");
}

/* ---- enumerations (§2.2) --------------------------------------------------- */

static void eventlog_types_have_spec_values_and_names(void **state)
{
    (void)state;
    assert_int_equal(HvEventLogTypeGlobalSystemEvents, 0);
    assert_int_equal(HvEventLogTypeLocalDiagnostics, 1);
    assert_int_equal(HvEventLogTypeSystemDiagnostics, 2);
    assert_int_equal(HvEventLogTypeMaximum2013, 1);
    assert_int_equal(HvEventLogTypeMaximumCurrent, 2);
    assert_string_equal(hvlog_eventlog_type_name(0), "GlobalSystemEvents");
    assert_string_equal(hvlog_eventlog_type_name(1), "LocalDiagnostics");
    assert_string_equal(hvlog_eventlog_type_name(2), "SystemDiagnostics");
    assert_null(hvlog_eventlog_type_name(3));
    assert_null(hvlog_eventlog_type_name(0x100));
    assert_null(hvlog_eventlog_type_name(0xFFFFFFFFu));
}

static void buffer_states_have_spec_values_and_names(void **state)
{
    (void)state;
    static const char *const names[] = {"Standby", "Free", "InUse", "Complete", "Ready"};
    assert_int_equal(HvEventLogBufferStateStandby, 0);
    assert_int_equal(HvEventLogBufferStateFree, 1);
    assert_int_equal(HvEventLogBufferStateInUse, 2);
    assert_int_equal(HvEventLogBufferStateComplete, 3);
    assert_int_equal(HvEventLogBufferStateReady, 4);
    for (uint32_t s = 0; s < ARRAY_LEN(names); s++) {
        const char *n = hvlog_buffer_state_name(s);
        assert_non_null(n);
        assert_string_equal(n, names[s]);
    }
    assert_null(hvlog_buffer_state_name(5));
    assert_null(hvlog_buffer_state_name(0xFFFFFFFFu));
}

static void time_bases_and_modes_have_spec_values_and_names(void **state)
{
    (void)state;
    assert_int_equal(HvEventLogEntryTimeReference, 0);
    assert_int_equal(HvEventLogEntryTimeTsc, 1);
    assert_int_equal(HvEventLogEntryTimeQpc, 2);
    assert_int_equal(HvEventLogEntryTimeMaximum2013, 1);
    assert_int_equal(HvEventLogEntryTimeMaximumCurrent, 2);
    assert_string_equal(hvlog_time_basis_name(0), "Reference");
    assert_string_equal(hvlog_time_basis_name(1), "Tsc");
    assert_string_equal(hvlog_time_basis_name(2), "Qpc");
    assert_null(hvlog_time_basis_name(3)); /* MAX is a bound, not a basis */
    assert_null(hvlog_time_basis_name(0xFFFFFFFFu));

    assert_int_equal(HvEventLogModeRegular, 0);
    assert_int_equal(HvEventLogModeCircular, 1);
    assert_int_equal(HvEventLogModeMaximum, 1);
    assert_string_equal(hvlog_eventlog_mode_name(0), "Regular");
    assert_string_equal(hvlog_eventlog_mode_name(1), "Circular");
    assert_null(hvlog_eventlog_mode_name(2));
    assert_null(hvlog_eventlog_mode_name(0xFFFFFFFFu));
}

static void message_types_have_spec_values_and_names(void **state)
{
    (void)state;
    assert_int_equal(HvMessageTypeNone, 0x00000000u);
    assert_int_equal(HvMessageTypeEventLogBufferComplete, 0x80000040u);
    assert_true((HvMessageTypeEventLogBufferComplete & HV_MESSAGE_TYPE_HYPERVISOR_MASK) != 0);
    assert_string_equal(hvlog_message_type_name(0), "None");
    assert_string_equal(hvlog_message_type_name(0x80000040u), "EventLogBufferComplete");
    assert_null(hvlog_message_type_name(0x80000041u));
    assert_null(hvlog_message_type_name(0x00000040u));
    assert_null(hvlog_message_type_name(0xFFFFFFFFu));
}

/* ---- enable flags (§4.8, D7) ----------------------------------------------- */

static void enable_flags_of_2013_have_spec_values(void **state)
{
    (void)state;
    assert_int_equal(HV_EVENTLOG_ENABLE_DIAG_ADMIN, 0x0000000000000001ull);
    assert_int_equal(HV_EVENTLOG_ENABLE_DIAG_PERF_GENERAL, 0x0000000100000000ull);
    assert_int_equal(HV_EVENTLOG_ENABLE_SYSTEM_SUCCESS, 0x0000000000000001ull);
    assert_int_equal(HV_EVENTLOG_ENABLE_SYSTEM_FAILURE, 0x0000000000000002ull);
    assert_int_equal(HV_EVENTLOG_ENABLE_PARTITION, 0x4);
    assert_int_equal(HV_EVENTLOG_ENABLE_TEST, 0x8000000000000000ull);
    assert_int_equal(HV_TR_GROUP_BM, 0x100);
    assert_int_equal(HV_TR_GROUP_HC, 0x400);
    assert_int_equal(HV_TR_GROUP_IM, 0x800);
    assert_int_equal(HV_TR_GROUP_PROFILER, 0x8000000);
    assert_int_equal(HV_TR_GROUP_USCH, 0x10000000);
    assert_int_equal(HV_TR_GROUP_GENERIC, 0x20000000);
}

/* §4.8 retail groups: one bit each, BM = bit 8 up to GENERIC = bit 29, in order. */
static void retail_trace_groups_are_consecutive_single_bits(void **state)
{
    (void)state;
    static const char *const retail[] = {
        "bm", "dm", "hc", "im", "ic", "ob", "pt", "vp", "synic", "synic-ti", "am-gva",
        "am", "val", "vm", "sch", "th", "ti", "ke", "mm", "profiler", "usch", "generic"};
    for (size_t i = 0; i < ARRAY_LEN(retail); i++) {
        const struct hvlog_enable_flag_info *f = hvlog_enable_flag_find(1, retail[i]);
        if (!f)
            fail_msg("no LocalDiagnostics flag \"%s\"", retail[i]);
        assert_int_equal(f->value, 1ull << (8 + i));
        assert_true(strncmp(f->name, "HV_TR_GROUP_", 12) == 0);
    }
}

static void enable_flags_are_found_by_short_and_spec_name_case_insensitively(void **state)
{
    (void)state;
    const struct hvlog_enable_flag_info *f;

    f = hvlog_enable_flag_find(1, "admin");
    assert_non_null(f);
    assert_string_equal(f->name, "HV_EVENTLOG_ENABLE_DIAG_ADMIN");
    assert_int_equal(f->value, 0x1);
    assert_int_equal(f->log_type, 1);
    assert_ptr_equal(hvlog_enable_flag_find(1, "HV_EVENTLOG_ENABLE_DIAG_ADMIN"), f);
    assert_ptr_equal(hvlog_enable_flag_find(1, "ADMIN"), f);
    assert_ptr_equal(hvlog_enable_flag_find(1, "hv_eventlog_enable_diag_admin"), f);

    f = hvlog_enable_flag_find(1, "perf-general");
    assert_non_null(f);
    assert_int_equal(f->value, 0x0000000100000000ull);
    assert_ptr_equal(hvlog_enable_flag_find(1, "HV_EVENTLOG_ENABLE_DIAG_PERF_GENERAL"), f);

    f = hvlog_enable_flag_find(0, "success");
    assert_non_null(f);
    assert_string_equal(f->name, "HV_EVENTLOG_ENABLE_SYSTEM_SUCCESS");
    assert_int_equal(f->value, 0x1);
    f = hvlog_enable_flag_find(0, "Failure");
    assert_non_null(f);
    assert_int_equal(f->value, 0x2);

    f = hvlog_enable_flag_find(1, "Hv_Tr_Group_Hc");
    assert_non_null(f);
    assert_int_equal(f->value, 0x400);
    assert_ptr_equal(hvlog_enable_flag_find(1, "HC"), f);
}

/* The same short name means different bits in different log types (§4.8),
 * so a lookup never crosses log types; unknown names give NULL. */
static void enable_flag_lookup_is_per_log_type_and_null_for_unknown(void **state)
{
    (void)state;
    assert_null(hvlog_enable_flag_find(0, "admin"));
    assert_null(hvlog_enable_flag_find(1, "success"));
    assert_null(hvlog_enable_flag_find(0, "hc"));
    assert_null(hvlog_enable_flag_find(2, "admin"));
    assert_null(hvlog_enable_flag_find(1, "nosuchflag"));
    assert_null(hvlog_enable_flag_find(1, ""));
    assert_null(hvlog_enable_flag_find(1, "HV_TR_GROUP_"));
    assert_null(hvlog_enable_flag_find(1, "hcx"));
    assert_null(hvlog_enable_flag_find(1, NULL));
}

static void every_enable_flag_row_is_found_by_both_its_names(void **state)
{
    (void)state;
    const struct hvlog_enable_flag_info *f;
    size_t n = 0;

    for (size_t i = 0; (f = hvlog_enable_flag_at(i)) != NULL; i++, n++) {
        assert_non_null(f->name);
        assert_non_null(f->short_name);
        assert_true(f->value != 0);
        assert_true(f->log_type <= HvEventLogTypeMaximum2013);
        assert_ptr_equal(hvlog_enable_flag_find(f->log_type, f->name), f);
        assert_ptr_equal(hvlog_enable_flag_find(f->log_type, f->short_name), f);
    }
    assert_int_equal(n, 28);
}

/* ---- entry-type catalogue (§4.8) ------------------------------------------- */

struct expected_entry {
    uint32_t log_type;
    uint16_t entry_type;
    const char *name;
    uint64_t group;
};

/* §4.8 spot rows: one per listed group, plus the GlobalSystemEvents types. */
static const struct expected_entry spec_entries[] = {
    {1, 0x001A, "HV_TR_HC_HYPERCALL", 0x400},
    {1, 0x0020, "HV_TR_IM_GUEST_EXCEPTION", 0x800},
    {1, 0x0027, "HV_TR_IM_CPUID", 0x800},
    {1, 0x0037, "HV_TR_IM_REFLECTED_EXCEPTION", 0x800},
    {1, 0x0040, "HV_TR_OB_CREATE_PARTITION", 0x2000},
    {1, 0x0041, "HV_TR_OB_DELETE_PARTITION", 0x2000},
    {1, 0x0046, "HV_TR_PT_REFERENCE_TIME", 0x4000},
    {1, 0x004B, "HV_TR_VP_CREATE_VP", 0x8000},
    {1, 0x004C, "HV_TR_VP_DELETE_VP", 0x8000},
    {1, 0x0070, "HV_TR_AM_GVA_GROW_VIRTUAL_TLB", 0x40000},
    {1, 0x0071, "HV_TR_AM_GVA_SHRINK_VIRTUAL_TLB", 0x40000},
    {1, 0x0072, "HV_TR_AM_GVA_FLUSH_VIRTUAL_TLB", 0x40000},
    {1, 0x00B0, "HV_TR_SCH_CONTEXT_SWITCH", 0x400000},
    {1, 0x00E0, "HV_TR_KE_OVERRUN", 0x2000000},
    {1, 0x00E3, "HV_TR_KE_OVERRUN500_PARAMS", 0x2000000},
    {1, 0x00F0, "HV_TR_SCH_PROFILER_SAMPLE", 0x8000000},
    {1, 0x00F1, "HV_TR_PROFILER_HV_MODULE", 0x8000000},
    {0, 0x4101, "HV_EVENTLOG_PARTITION_CREATED", 0x4},
    {0, 0x4102, "HV_EVENTLOG_PARTITION_DELETED", 0x4},
    {0, 0x2103, "HV_EVENTLOG_PARTITION_CREATION_FAILED", 0x4},
    {0, 0x4001, "HV_EVENTLOG_ADMIN_TEST", 0x8000000000000000ull},
};

static void catalogue_rows_are_found_by_log_type_and_entry_type(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(spec_entries); i++) {
        const struct expected_entry *e = &spec_entries[i];
        const struct hvlog_entry_type_info *r = hvlog_entry_type_info(e->log_type, e->entry_type);
        if (!r)
            fail_msg("(%u, 0x%04X) %s not found", e->log_type, e->entry_type, e->name);
        assert_string_equal(r->name, e->name);
        assert_int_equal(r->log_type, e->log_type);
        assert_int_equal(r->entry_type, e->entry_type);
        assert_int_equal(r->group, e->group);
    }
    const struct hvlog_entry_type_info *cpuid = hvlog_entry_type_info(1, 0x0027);
    assert_non_null(cpuid);
    assert_string_equal(cpuid->params, "rip,eax,ecx");
    assert_int_equal(HV_TR_IM_CPUID, 0x0027);
}

/* §4.8 lists every Interrupt Manager type 0x20..0x37, all HV_TR_IM_*. */
static void interrupt_manager_types_0x20_to_0x37_are_all_catalogued(void **state)
{
    (void)state;
    for (uint16_t t = 0x20; t <= 0x37; t++) {
        const struct hvlog_entry_type_info *r = hvlog_entry_type_info(1, t);
        if (!r)
            fail_msg("IM entry type 0x%02X missing", t);
        assert_true(strncmp(r->name, "HV_TR_IM_", 9) == 0);
        assert_int_equal(r->group, HV_TR_GROUP_IM);
    }
}

/* An entry type means something only within its log type (§4.8). */
static void unknown_entry_types_and_wrong_log_types_give_null(void **state)
{
    (void)state;
    assert_null(hvlog_entry_type_info(0, 0x0027));
    assert_null(hvlog_entry_type_info(1, 0x4101));
    assert_null(hvlog_entry_type_info(2, 0x0027));
    assert_null(hvlog_entry_type_info(1, 0x0000));
    assert_null(hvlog_entry_type_info(1, 0x001B));
    assert_null(hvlog_entry_type_info(1, 0x0038));
    assert_null(hvlog_entry_type_info(1, 0xFFFF));
    assert_null(hvlog_entry_type_info(0xFFFFFFFFu, 0x0027));
}

static void catalogue_names_are_found_with_or_without_prefix_in_any_case(void **state)
{
    (void)state;
    const struct hvlog_entry_type_info *cpuid = hvlog_entry_type_info(1, 0x0027);
    const struct hvlog_entry_type_info *created = hvlog_entry_type_info(0, 0x4101);
    assert_non_null(cpuid);
    assert_non_null(created);

    assert_ptr_equal(hvlog_entry_type_find("HV_TR_IM_CPUID"), cpuid);
    assert_ptr_equal(hvlog_entry_type_find("hv_tr_im_cpuid"), cpuid);
    assert_ptr_equal(hvlog_entry_type_find("IM_CPUID"), cpuid);
    assert_ptr_equal(hvlog_entry_type_find("im_Cpuid"), cpuid);
    assert_ptr_equal(hvlog_entry_type_find("HV_EVENTLOG_PARTITION_CREATED"), created);
    assert_ptr_equal(hvlog_entry_type_find("partition_created"), created);
    assert_ptr_equal(hvlog_entry_type_find("Hv_EventLog_Partition_Created"), created);
    /* The words after the group, when only one row ends with them. */
    assert_ptr_equal(hvlog_entry_type_find("CPUID"), cpuid);
    assert_ptr_equal(hvlog_entry_type_find("cpuid"), cpuid);
    assert_ptr_equal(hvlog_entry_type_find("created"), created);
}

static void unknown_catalogue_names_give_null(void **state)
{
    (void)state;
    assert_null(hvlog_entry_type_find(NULL));
    assert_null(hvlog_entry_type_find(""));
    assert_null(hvlog_entry_type_find("HV_TR_"));
    assert_null(hvlog_entry_type_find("HV_EVENTLOG_"));
    assert_null(hvlog_entry_type_find("HV_TR_IM_NOSUCH"));
    assert_null(hvlog_entry_type_find("WRITE"));  /* MSR_WRITE, CR_WRITE, ...: ambiguous */
    assert_null(hvlog_entry_type_find("_CPUID")); /* not whole words */
    assert_null(hvlog_entry_type_find("PUID"));
    assert_null(hvlog_entry_type_find("HV_TR_IM_CPUIDX"));
    assert_null(hvlog_entry_type_find("IM_CPUI"));
}

/* Every row: unique (log type, entry type) key and unique name, so both
 * lookups return that very row; the parameter list is present. */
static void every_catalogue_row_is_found_by_key_and_by_name(void **state)
{
    (void)state;
    const struct hvlog_entry_type_info *r;
    size_t n = 0;

    for (size_t i = 0; (r = hvlog_entry_type_at(i)) != NULL; i++, n++) {
        char lower[64];
        const char *bare = r->name;
        size_t k;

        assert_non_null(r->params);
        assert_true(r->log_type <= HvEventLogTypeMaximum2013);
        assert_ptr_equal(hvlog_entry_type_info(r->log_type, r->entry_type), r);
        assert_ptr_equal(hvlog_entry_type_find(r->name), r);
        if (strncmp(bare, "HV_TR_", 6) == 0)
            bare += 6;
        else if (strncmp(bare, "HV_EVENTLOG_", 12) == 0)
            bare += 12;
        else
            fail_msg("%s has neither prefix", r->name);
        for (k = 0; bare[k] && k + 1 < sizeof lower; k++)
            lower[k] = (char)(bare[k] >= 'A' && bare[k] <= 'Z' ? bare[k] - 'A' + 'a' : bare[k]);
        lower[k] = '\0';
        if (hvlog_entry_type_find(lower) != r)
            fail_msg("\"%s\" does not find %s", lower, r->name);
    }
    assert_int_equal(n, 44);
    assert_null(hvlog_entry_type_at(n));
}

static void library_version_matches_the_header(void **state)
{
    (void)state;
    assert_string_equal(hvlog_version(), HVLOG_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_spec_status_has_its_spec_value_and_name),
        cmocka_unit_test(every_status_has_its_own_one_line_text),
        cmocka_unit_test(reserved_statuses_have_no_name_and_print_as_hex),
        cmocka_unit_test(every_16_bit_status_formats_as_its_name_or_as_hex),
        cmocka_unit_test(status_format_truncates_safely_into_a_short_buffer),
        cmocka_unit_test(each_of_the_nine_call_codes_has_its_spec_row),
        cmocka_unit_test(call_enumerators_carry_the_spec_codes),
        cmocka_unit_test(codes_outside_0x60_to_0x68_have_no_row),
        cmocka_unit_test(call_rows_agree_with_the_fast_limit_and_the_layouts),
        cmocka_unit_test(call_conventions_have_names),
        cmocka_unit_test(eventlog_types_have_spec_values_and_names),
        cmocka_unit_test(buffer_states_have_spec_values_and_names),
        cmocka_unit_test(time_bases_and_modes_have_spec_values_and_names),
        cmocka_unit_test(message_types_have_spec_values_and_names),
        cmocka_unit_test(enable_flags_of_2013_have_spec_values),
        cmocka_unit_test(retail_trace_groups_are_consecutive_single_bits),
        cmocka_unit_test(enable_flags_are_found_by_short_and_spec_name_case_insensitively),
        cmocka_unit_test(enable_flag_lookup_is_per_log_type_and_null_for_unknown),
        cmocka_unit_test(every_enable_flag_row_is_found_by_both_its_names),
        cmocka_unit_test(catalogue_rows_are_found_by_log_type_and_entry_type),
        cmocka_unit_test(interrupt_manager_types_0x20_to_0x37_are_all_catalogued),
        cmocka_unit_test(unknown_entry_types_and_wrong_log_types_give_null),
        cmocka_unit_test(catalogue_names_are_found_with_or_without_prefix_in_any_case),
        cmocka_unit_test(unknown_catalogue_names_give_null),
        cmocka_unit_test(every_catalogue_row_is_found_by_key_and_by_name),
        cmocka_unit_test(library_version_matches_the_header),
    };
    return cmocka_run_group_tests_name("abi_names", tests, NULL, NULL);
}
