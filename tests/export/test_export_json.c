/* SPDX-License-Identifier: MIT */
/* The streaming JSON writer, each output parsed back with jansson (the
 * reference parser), and the strict reader the metadata goes through
 * (hvlog__export_json_read: jansson, with u64 integers). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "export/export_internal.h"
#include "hvlog/trace/json.h"
#include "hvlog/trace/trace.h"

/* A memory sink: the whole document in one string. */
struct mem {
    char *text;
    size_t len;
    int fail_after; /* calls before the sink fails; < 0 never */
};

static int mem_sink(void *arg, const char *bytes, size_t len)
{
    struct mem *m = arg;
    char *grown;

    if (m->fail_after == 0)
        return -1;
    if (m->fail_after > 0)
        m->fail_after--;
    grown = realloc(m->text, m->len + len + 1);
    if (!grown)
        return -1;
    m->text = grown;
    memcpy(m->text + m->len, bytes, len);
    m->len += len;
    m->text[m->len] = '\0';
    return 0;
}

static struct hvlog_json_writer *mem_writer(struct mem *m, unsigned flags)
{
    memset(m, 0, sizeof(*m));
    m->fail_after = -1;
    return hvlog_json_writer_create(mem_sink, m, flags);
}

static json_t *parse_back(const struct mem *m)
{
    json_error_t error;
    json_t *root = json_loadb(m->text, m->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
                              &error);

    if (!root)
        print_error("jansson: %s at %d: <%s>\n", error.text, error.position, m->text);
    assert_non_null(root);
    return root;
}

static void nesting_and_separators_make_valid_json(void **state)
{
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, 0);
    json_t *root, *arr;
    (void)state;

    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "a", "x");
    hvlog_json_key(w, "list");
    hvlog_json_array_begin(w);
    hvlog_json_u64(w, 1);
    hvlog_json_i64(w, -2);
    hvlog_json_bool(w, true);
    hvlog_json_null(w);
    hvlog_json_array_begin(w);
    hvlog_json_array_end(w);
    hvlog_json_object_begin(w);
    hvlog_json_object_end(w);
    hvlog_json_array_end(w);
    hvlog_json_member_u64(w, "n", 3);
    hvlog_json_object_end(w);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_OK);
    assert_string_equal(m.text, "{\"a\":\"x\",\"list\":[1,-2,true,null,[],{}],\"n\":3}");
    root = parse_back(&m);
    arr = json_object_get(root, "list");
    assert_int_equal(json_array_size(arr), 6);
    json_decref(root);
    free(m.text);
}

static void pretty_output_parses_the_same(void **state)
{
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, HVLOG_JSON_PRETTY);
    json_t *root;
    (void)state;

    hvlog_json_object_begin(w);
    hvlog_json_key(w, "groups");
    hvlog_json_array_begin(w);
    hvlog_json_object_begin(w);
    hvlog_json_member_u64(w, "type", 1);
    hvlog_json_object_end(w);
    hvlog_json_array_end(w);
    hvlog_json_key(w, "empty");
    hvlog_json_array_begin(w);
    hvlog_json_array_end(w);
    hvlog_json_object_end(w);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_OK);
    assert_string_equal(m.text, "{\n  \"groups\": [\n    {\n      \"type\": 1\n    }\n  ],\n"
                                "  \"empty\": []\n}\n");
    root = parse_back(&m);
    json_decref(root);
    free(m.text);
}

static void every_control_character_quote_and_backslash_is_escaped(void **state)
{
    char all[0x20 + 3];
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, 0);
    json_t *root;
    (void)state;

    for (int i = 0; i < 0x20; i++)
        all[i] = (char)i;
    all[0x20] = '"';
    all[0x21] = '\\';
    all[0x22] = '/';
    hvlog_json_string_len(w, all, sizeof all);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_OK);
    assert_non_null(strstr(m.text, "\\u0000\\u0001"));
    assert_non_null(strstr(m.text, "\\b\\t\\n\\u000b\\f\\r"));
    assert_non_null(strstr(m.text, "\\u001f\\\"\\\\/\""));
    root = parse_back(&m);
    assert_int_equal(json_string_length(root), sizeof all);
    assert_memory_equal(json_string_value(root), all, sizeof all);
    json_decref(root);
    free(m.text);
}

static void valid_utf8_passes_and_invalid_bytes_become_replacement_characters(void **state)
{
    /* é (2 bytes), € (3), 𝄞 (4); then a lone continuation byte, an
     * overlong '/', a surrogate (ED A0 80), a truncated sequence, and F5. */
    static const char good[] = "\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E";
    static const char bad[] = "\x80|\xC0\xAF|\xED\xA0\x80|\xE2\x82|\xF5";
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, 0);
    json_t *root;
    (void)state;

    hvlog_json_array_begin(w);
    hvlog_json_string(w, good);
    hvlog_json_string(w, bad);
    hvlog_json_array_end(w);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_OK);
    root = parse_back(&m);
    assert_string_equal(json_string_value(json_array_get(root, 0)), good);
    assert_string_equal(json_string_value(json_array_get(root, 1)),
                        "\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
                        "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD");
    json_decref(root);
    free(m.text);
}

static void numbers_are_exact_integers_and_decimals(void **state)
{
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, 0);
    (void)state;

    hvlog_json_array_begin(w);
    hvlog_json_u64(w, UINT64_MAX);
    hvlog_json_i64(w, INT64_MIN);
    hvlog_json_u64(w, 0);
    hvlog_json_decimal(w, 12345, 1);
    hvlog_json_decimal(w, 7, 3);
    hvlog_json_decimal(w, 0, 1);
    hvlog_json_decimal(w, UINT64_MAX, 1);
    hvlog_json_decimal(w, 42, 0);
    hvlog_json_hex(w, 0);
    hvlog_json_hex(w, 0xFFFFF80012345678ull);
    hvlog_json_hex_bytes(w, (const uint8_t *)"\x01\xAB", 2);
    hvlog_json_array_end(w);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_OK);
    assert_string_equal(m.text, "[18446744073709551615,-9223372036854775808,0,1234.5,0.007,0.0,"
                                "1844674407370955161.5,42,\"0x0\",\"0xfffff80012345678\",\"01ab\"]");
    /* jansson stops at INT64_MAX, so the text is the check here. */
    free(m.text);
}

static void misuse_sticks_and_close_reports_it(void **state)
{
    struct mem m;
    struct hvlog_json_writer *w;
    (void)state;

    /* A value where a key is due. */
    w = mem_writer(&m, 0);
    hvlog_json_object_begin(w);
    hvlog_json_u64(w, 1);
    assert_false(hvlog_json_writer_ok(w));
    hvlog_json_object_end(w);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_INVALID);
    free(m.text);
    /* A key in an array, a mismatched end, two top-level values, an unfinished document. */
    w = mem_writer(&m, 0);
    hvlog_json_array_begin(w);
    hvlog_json_key(w, "k");
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_INVALID);
    free(m.text);
    w = mem_writer(&m, 0);
    hvlog_json_array_begin(w);
    hvlog_json_object_end(w);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_INVALID);
    free(m.text);
    w = mem_writer(&m, 0);
    hvlog_json_u64(w, 1);
    hvlog_json_u64(w, 2);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_INVALID);
    free(m.text);
    w = mem_writer(&m, 0);
    hvlog_json_object_begin(w);
    hvlog_json_key(w, "k");
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_INVALID);
    free(m.text);
    assert_int_equal(hvlog_json_writer_close(NULL), HVLOG_EXPORT_INVALID);
}

static void nesting_deeper_than_the_limit_is_refused(void **state)
{
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, 0);
    (void)state;

    for (unsigned i = 0; i < HVLOG_JSON_MAX_DEPTH; i++)
        hvlog_json_array_begin(w);
    assert_true(hvlog_json_writer_ok(w));
    hvlog_json_array_begin(w);
    assert_false(hvlog_json_writer_ok(w));
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_INVALID);
    free(m.text);
}

static void a_failing_sink_is_an_io_error(void **state)
{
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, 0);
    (void)state;

    m.fail_after = 1;
    hvlog_json_array_begin(w);
    /* Enough to flush the 64 KiB buffer twice. */
    for (int i = 0; i < 40000; i++)
        hvlog_json_string(w, "0123456789");
    hvlog_json_array_end(w);
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_IO);
    free(m.text);
}

static void a_large_document_streams_and_parses_back(void **state)
{
    uint64_t bytes;
    struct mem m;
    struct hvlog_json_writer *w = mem_writer(&m, 0);
    json_t *root;
    (void)state;

    hvlog_json_array_begin(w);
    for (uint64_t i = 0; i < 100000; i++) {
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "i", i);
        hvlog_json_key(w, "ts");
        hvlog_json_decimal(w, i * 7, 1);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    bytes = hvlog_json_writer_bytes(w);
    assert_true(m.len > 0 && m.len < bytes); /* flushed in pieces, the last one at close */
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_OK);
    assert_int_equal(m.len, bytes);
    root = parse_back(&m);
    assert_int_equal(json_array_size(root), 100000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(root, 99999), "i")), 99999);
    assert_true(json_real_value(json_object_get(json_array_get(root, 3), "ts")) == 2.1);
    json_decref(root);
    free(m.text);
}

/* ---- the reader (hvlog__export_json_read: jansson, strict, u64 integers) ---- */

static json_t *read_ok(const char *text)
{
    char why[256];
    json_t *root = NULL;
    enum hvlog_export_status st = hvlog__export_json_read(text, strlen(text), &root, why, sizeof why);

    if (st != HVLOG_EXPORT_OK)
        print_error("refused <%s>: %s\n", text, why);
    assert_int_equal(st, HVLOG_EXPORT_OK);
    assert_non_null(root);
    return root;
}

static void the_reader_takes_what_the_writer_wrote(void **state)
{
    static const char text[] =
        " {\"s\": \"a\\u00e9\\ud834\\udd1e\\n\", \"n\": 18446744073709551615, \"neg\": -1,"
        " \"f\": 1.5e3, \"t\": true, \"list\": [1, {\"k\": null}], \"e\": {}} ";
    json_t *root = read_ok(text);
    uint64_t v;
    (void)state;

    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), 7);
    assert_string_equal(json_string_value(json_object_get(root, "s")),
                        "a\xC3\xA9\xF0\x9D\x84\x9E\n");
    assert_true(hvlog__export_json_u64(json_object_get(root, "n"), &v));
    assert_true(v == UINT64_MAX);
    assert_false(hvlog__export_json_u64(json_object_get(root, "neg"), &v));
    assert_false(hvlog__export_json_u64(json_object_get(root, "f"), &v));
    assert_true(json_is_true(json_object_get(root, "t")));
    assert_int_equal(json_array_size(json_object_get(root, "list")), 2);
    assert_true(json_is_object(json_array_get(json_object_get(root, "list"), 1)));
    assert_null(json_object_get(root, "missing"));
    assert_false(hvlog__export_json_u64(NULL, &v));
    json_decref(root);
}

/* Every plain integer of 0..UINT64_MAX reads back exact; a sign, a fraction,
 * an exponent or a value past UINT64_MAX is a number but no u64, wherever it
 * stands, and the rewrite behind it never touches a string. */
static void u64_integers_read_back_exact_and_nothing_else_is_one(void **state)
{
    static const struct {
        const char *text;
        bool is_u64;
        uint64_t value;
    } rows[] = {
        {"0", true, 0},
        {"9223372036854775807", true, INT64_MAX},
        {"9223372036854775808", true, (uint64_t)INT64_MAX + 1},
        {"12345678901234567890", true, 12345678901234567890ull},
        {"18446744073709551615", true, UINT64_MAX},
        {"18446744073709551616", false, 0},
        {"999999999999999999999999999999999999999999999999", false, 0},
        {"-0", false, 0},
        {"-1", false, 0},
        {"-9223372036854775808", false, 0},
        {"-18446744073709551615", false, 0},
        {"1.0", false, 0},
        {"1e3", false, 0},
        {"18446744073709551615.0", false, 0},
        {"\"18446744073709551615\"", false, 0},
        {"\"-1\"", false, 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[128];
        json_t *root, *member;
        uint64_t v = 0;

        /* The value inside an array, inside an object, after a string that
         * looks like a number and holds an escaped quote. */
        snprintf(text, sizeof text, "{\"x\\\" 1\": \"-2 \\\" 18446744073709551615\", \"a\": [%s]}",
                 rows[i].text);
        root = read_ok(text);
        assert_string_equal(json_string_value(json_object_get(root, "x\" 1")),
                            "-2 \" 18446744073709551615");
        member = json_array_get(json_object_get(root, "a"), 0);
        assert_non_null(member);
        if (hvlog__export_json_u64(member, &v) != rows[i].is_u64 || v != rows[i].value)
            print_error("row %zu <%s>: read %" PRIu64 "\n", i, rows[i].text, v);
        assert_int_equal(hvlog__export_json_u64(member, &v), rows[i].is_u64);
        assert_true(v == rows[i].value);
        json_decref(root);
    }
}

static void malformed_json_is_refused_with_a_position(void **state)
{
    static const char *const bad[] = {
        "", "{", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[01]", "[1.]", "[-]", "[1e]", "\"\\x\"",
        "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"", "\"a\nb\"", "\"\xC0\xAF\"",
        "\"\xED\xA0\x80\"", "tru", "nul", "{} x", "[\"unterminated]", "{1:2}", "[-01]",
        "[18446744073709551615 1]", "[-0 x]", "{\"a\":1,\"a\":2}", "[1] \xFF",
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256] = "";
        json_t *root = (json_t *)&root; /* must come back NULL */
        enum hvlog_export_status st =
            hvlog__export_json_read(bad[i], strlen(bad[i]), &root, why, sizeof why);

        if (st == HVLOG_EXPORT_OK)
            print_error("accepted: <%s>\n", bad[i]);
        assert_int_equal(st, HVLOG_EXPORT_INVALID);
        assert_null(root);
        assert_non_null(strstr(why, "line 1, column"));
    }
}

/* The position is the start of the token jansson stopped at, in the
 * caller's bytes, and the token is quoted as the caller wrote it, even
 * where the reader rewrote a number before jansson saw it. */
static void errors_name_the_callers_line_column_and_token(void **state)
{
    static const struct {
        const char *text;
        const char *why;
    } rows[] = {
        {"not json", "line 1, column 1: invalid token near 'not'"},
        {"{\n  \"a\": x}", "line 2, column 8: invalid token near 'x'"},
        {"{\"a\":1,\"a\":2}", "line 1, column 8: duplicate object key near '\"a\"'"},
        {"{} x", "line 1, column 4: end of file expected near 'x'"},
        {"[-5, 18446744073709551615 7]", "line 1, column 27: ']' expected near '7'"},
        {"{\"a\" 18446744073709551615}",
         "line 1, column 6: ':' expected near '18446744073709551615'"},
        {"{\"a\" -1}", "line 1, column 6: ':' expected near '-1'"},
        {"[1,\n -0,\n 2,]", "line 3, column 4: unexpected token near ']'"},
        /* A5: the token is the metadata's bytes, bound for a terminal
         * (fuzz_decode's finding: a raw 0x01 reached stderr). */
        {"{} \x01", "line 1, column 4: end of file expected near '\\x01'"},
        {"{} \x1b]0;X\x07", "line 1, column 4: end of file expected near '\\x1b'"},
        {"{} \xc2\x9b" "2J", "line 1, column 4: end of file expected near '\\u009b'"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char why[256] = "";
        json_t *root;

        assert_int_equal(
            hvlog__export_json_read(rows[i].text, strlen(rows[i].text), &root, why, sizeof why),
            HVLOG_EXPORT_INVALID);
        if (strcmp(why, rows[i].why) != 0)
            print_error("row %zu: <%s>\n", i, why);
        assert_string_equal(why, rows[i].why);
    }
}

/* 33 nested containers are the most: the limit the hand-written reader had. */
static void nesting_deeper_than_32_levels_is_refused(void **state)
{
    char text[2 * 40 + 1];
    char why[256];
    json_t *root;
    (void)state;

    for (size_t depth = 33; depth <= 34; depth++) {
        memset(text, '[', depth);
        memset(text + depth, ']', depth);
        text[2 * depth] = '\0';
        if (depth == 33) {
            json_decref(read_ok(text));
        } else {
            assert_int_equal(hvlog__export_json_read(text, 2 * depth, &root, why, sizeof why),
                             HVLOG_EXPORT_INVALID);
            assert_string_equal(why, "nested deeper than 32 levels");
        }
    }
}

/* Through the metadata reader: a seed past INT64_MAX round-trips (the
 * writer writes it as a plain decimal), a duplicate member is refused. */
static void metadata_u64_members_take_the_full_range_and_duplicates_are_refused(void **state)
{
    static const char big[] =
        "{\"format\":\"hvlog-trace\",\"version\":1,\"host\":{\"seed\":18446744073709551615},"
        "\"groups\":[{\"type\":1,\"file\":\"x\",\"header_convention\":\"2013\",\"buffer_pages\":1,"
        "\"system_time\":9223372036854775808,\"sources\":\"0xffffffffffffffff\"}],"
        "\"lps\":[{\"lp\":0,\"logged\":18446744073709551615,\"lost\":0}]}";
    static const char twice[] =
        "{\"format\":\"hvlog-trace\",\"version\":1,\"version\":1,\"groups\":[{\"type\":1,"
        "\"file\":\"x\",\"header_convention\":\"2013\",\"buffer_pages\":1}]}";
    static const char negative_zero[] =
        "{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,"
        "\"file\":\"x\",\"header_convention\":\"2013\",\"buffer_pages\":1,\"threshold\":-0}]}";
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    (void)state;

    assert_int_equal(hvlog_trace_meta_parse(big, sizeof big - 1, &meta, &err), HVLOG_EXPORT_OK);
    assert_true(meta.host.seed == UINT64_MAX);
    assert_true(meta.groups[0].system_time == (uint64_t)INT64_MAX + 1);
    assert_true(meta.groups[0].sources == UINT64_MAX);
    assert_true(meta.lps[0].logged == UINT64_MAX);
    hvlog_trace_meta_release(&meta);

    assert_int_equal(hvlog_trace_meta_parse(twice, sizeof twice - 1, &meta, &err),
                     HVLOG_EXPORT_NOT_TRACE);
    assert_string_equal(err.message, "not an hvlog trace: not JSON (line 1, column 37: "
                                     "duplicate object key near '\"version\"')");
    hvlog_trace_meta_release(&meta);

    assert_int_equal(hvlog_trace_meta_parse(negative_zero, sizeof negative_zero - 1, &meta, &err),
                     HVLOG_EXPORT_BAD_META);
    assert_string_equal(err.message, "groups[0].threshold: not an unsigned 64-bit integer");
    hvlog_trace_meta_release(&meta);
}

/* Issue 13, A5: the one escaping of trace-derived text for a terminal. */
static void trace_text_is_escaped_for_a_terminal(void **state)
{
    /* ESC ] 0 ; X BEL, a backslash, C1 CSI (U+009B), then UTF-8 e-acute. */
    static const char in[] = "\x1b]0;X\x07 a\\b \xc2\x9b\xc3\xa9";
    char out[4 * sizeof in + 1];
    size_t n;
    (void)state;

    n = hvlog_escape_text(out, in, sizeof in - 1);
    assert_string_equal(out, "\\x1b]0;X\\x07 a\\\\b \\u009b\xc3\xa9");
    assert_int_equal(n, strlen(out));
    assert_true(n <= 4 * (sizeof in - 1));
    assert_int_equal(hvlog_escape_text(out, "", 0), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nesting_and_separators_make_valid_json),
        cmocka_unit_test(pretty_output_parses_the_same),
        cmocka_unit_test(every_control_character_quote_and_backslash_is_escaped),
        cmocka_unit_test(valid_utf8_passes_and_invalid_bytes_become_replacement_characters),
        cmocka_unit_test(numbers_are_exact_integers_and_decimals),
        cmocka_unit_test(misuse_sticks_and_close_reports_it),
        cmocka_unit_test(nesting_deeper_than_the_limit_is_refused),
        cmocka_unit_test(a_failing_sink_is_an_io_error),
        cmocka_unit_test(a_large_document_streams_and_parses_back),
        cmocka_unit_test(the_reader_takes_what_the_writer_wrote),
        cmocka_unit_test(u64_integers_read_back_exact_and_nothing_else_is_one),
        cmocka_unit_test(malformed_json_is_refused_with_a_position),
        cmocka_unit_test(errors_name_the_callers_line_column_and_token),
        cmocka_unit_test(nesting_deeper_than_32_levels_is_refused),
        cmocka_unit_test(metadata_u64_members_take_the_full_range_and_duplicates_are_refused),
        cmocka_unit_test(trace_text_is_escaped_for_a_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
