/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --max-size SIZE [--rotate N]` (issue 17 item 5): a
 * recording cut into chunks of at most SIZE bytes, the last N kept
 * (hvlog/trace/rotate.h does the work, inside the trace writer; this file
 * is the options). Threads: the recording's.
 */
#ifndef HVLOG_CLI_RECORD_ROTATE_H
#define HVLOG_CLI_RECORD_ROTATE_H

#include <stdbool.h>
#include <stdint.h>

struct hvlog_trace_writer;
struct hvlog_export_error;

struct record_rotate_options {
    uint64_t max_bytes; /* --max-size; 0: not given */
    uint64_t keep;      /* --rotate; 0: not given (every chunk kept) */
};

/** record_rotate_option - --max-size (@rotate false) or --rotate (true)
 * from @arg; one line on stderr and false when it is not valid. */
bool record_rotate_option(struct record_rotate_options *o, bool rotate, const char *arg);

/**
 * record_rotate_check - the combinations refused before anything starts,
 * one line on stderr each: --rotate without --max-size, --max-size
 * without -o @out (--relayd only), or with --diaglog (@diaglog: a records
 * file is not rotated).
 */
bool record_rotate_check(const struct record_rotate_options *o, const char *out, bool diaglog);

/** record_rotate_apply - make @w (just created) rotate, when asked;
 * true when nothing was asked or it worked. */
bool record_rotate_apply(const struct record_rotate_options *o, struct hvlog_trace_writer *w,
                         struct hvlog_export_error *err);

#endif /* HVLOG_CLI_RECORD_ROTATE_H */
