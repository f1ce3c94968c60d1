/* SPDX-License-Identifier: MIT */
/* The streaming JSON writer and the strict metadata reader, each output
 * parsed back with jansson (the reference parser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "export/json_parse.h"
#include "hvlog/export/json.h"

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

/* ---- the reader ---- */

static void the_reader_takes_what_the_writer_wrote(void **state)
{
    static const char text[] =
        " {\"s\": \"a\\u00e9\\ud834\\udd1e\\n\", \"n\": 18446744073709551615, \"neg\": -1,"
        " \"f\": 1.5e3, \"t\": true, \"list\": [1, {\"k\": null}], \"e\": {}} ";
    struct jp_doc doc;
    const struct jp_node *root, *n;
    uint64_t v;
    (void)state;

    assert_true(jp_parse(&doc, text, sizeof text - 1));
    root = jp_root(&doc);
    assert_int_equal(root->kind, JP_OBJECT);
    assert_int_equal(root->count, 7);
    n = jp_member(&doc, root, "s");
    assert_string_equal(n->text, "a\xC3\xA9\xF0\x9D\x84\x9E\n");
    assert_true(jp_u64(jp_member(&doc, root, "n"), &v));
    assert_true(v == UINT64_MAX);
    assert_false(jp_u64(jp_member(&doc, root, "neg"), &v));
    assert_false(jp_u64(jp_member(&doc, root, "f"), &v));
    assert_int_equal(jp_member(&doc, root, "t")->kind, JP_TRUE);
    n = jp_member(&doc, root, "list");
    assert_int_equal(n->count, 2);
    assert_int_equal(jp_next(&doc, jp_first(&doc, n))->kind, JP_OBJECT);
    assert_null(jp_member(&doc, root, "missing"));
    jp_doc_free(&doc);
}

static void malformed_json_is_refused_with_a_position(void **state)
{
    static const char *const bad[] = {
        "", "{", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[01]", "[1.]", "[-]", "[1e]", "\"\\x\"",
        "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"", "\"a\nb\"", "\"\xC0\xAF\"",
        "tru", "nul", "{} x", "[\"unterminated]", "{1:2}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct jp_doc doc;
        bool ok = jp_parse(&doc, bad[i], strlen(bad[i]));
        if (ok)
            print_error("accepted: <%s>\n", bad[i]);
        assert_false(ok);
        assert_non_null(strstr(doc.error, "line 1, column"));
        jp_doc_free(&doc);
    }
    {
        struct jp_doc doc;
        assert_false(jp_parse(&doc, "{\n  \"a\": x}", 11));
        assert_string_equal(doc.error, "line 2, column 8: bad number");
        jp_doc_free(&doc);
    }
    {
        struct jp_doc doc;
        assert_false(jp_u64(NULL, &(uint64_t){0}));
        assert_true(jp_parse(&doc, "[18446744073709551616]", 22));
        assert_false(jp_u64(jp_first(&doc, jp_root(&doc)), &(uint64_t){0}));
        jp_doc_free(&doc);
    }
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
        cmocka_unit_test(malformed_json_is_refused_with_a_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
