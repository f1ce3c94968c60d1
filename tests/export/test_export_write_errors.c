/* SPDX-License-Identifier: MIT */
/*
 * "write failed" says why (issue 13): the JSON writer keeps what its sink
 * returned when it failed, hands it out while open, and leaves it in errno
 * when closed, so the Perfetto export and the trace metadata can print
 * "OUT: write failed: No space left on device".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/trace/json.h"

/* A sink that takes @room bytes, then fails with ENOSPC. */
struct full_sink {
    size_t room;
};

static int full_sink(void *arg, const char *bytes, size_t len)
{
    struct full_sink *s = arg;
    (void)bytes;
    if (len > s->room)
        return ENOSPC;
    s->room -= len;
    return 0;
}

static void a_sink_error_is_kept_and_left_in_errno_by_close(void **state)
{
    struct full_sink sink = {.room = 100};
    struct hvlog_json_writer *w = hvlog_json_writer_create(full_sink, &sink, 0);
    char big[300];

    (void)state;
    assert_non_null(w);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hvlog_json_array_begin(w);
    assert_int_equal(hvlog_json_writer_sink_error(w), 0);
    for (int i = 0; i < 400; i++) /* > 64 KiB: the writer flushes on the way */
        hvlog_json_string(w, big);
    assert_false(hvlog_json_writer_ok(w));
    assert_int_equal(hvlog_json_writer_sink_error(w), ENOSPC);
    hvlog_json_array_end(w);
    errno = 0;
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_IO);
    assert_int_equal(errno, ENOSPC);
}

static void the_failure_of_the_last_flush_is_left_in_errno_too(void **state)
{
    struct full_sink sink = {.room = 3};
    struct hvlog_json_writer *w = hvlog_json_writer_create(full_sink, &sink, 0);

    (void)state;
    hvlog_json_string(w, "more than three bytes");
    assert_true(hvlog_json_writer_ok(w)); /* buffered: nothing written yet */
    errno = 0;
    assert_int_equal(hvlog_json_writer_close(w), HVLOG_EXPORT_IO);
    assert_int_equal(errno, ENOSPC);
}

static void the_file_sink_returns_the_errno_of_fwrite(void **state)
{
    FILE *f = fopen("/dev/full", "w");

    (void)state;
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    assert_int_equal(hvlog_json_sink_file(f, "x", 1), ENOSPC);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_sink_error_is_kept_and_left_in_errno_by_close),
        cmocka_unit_test(the_failure_of_the_last_flush_is_left_in_errno_too),
        cmocka_unit_test(the_file_sink_returns_the_errno_of_fwrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
