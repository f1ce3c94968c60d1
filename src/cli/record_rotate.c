/* SPDX-License-Identifier: MIT */
/* `hvlog record --max-size SIZE [--rotate N]`: the options (record_rotate.h). */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/record_rotate.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"

bool record_rotate_option(struct record_rotate_options *o, bool rotate, const char *arg)
{
    /* The smallest size that can work depends on --pages and the
     * metadata: the writer's start refuses a smaller one, naming both. */
    if (rotate)
        /* no more than a reader takes as one trace (rotate.h) */
        return cli_number("record", "--rotate", arg, 1, HVLOG_TRACE_ROTATION_MAX_CHUNKS, &o->keep);
    return cli_size("record", "--max-size", arg, 1, UINT64_C(1) << 40, &o->max_bytes);
}

bool record_rotate_check(const struct record_rotate_options *o, const char *out, bool diaglog)
{
    if (o->keep && !o->max_bytes) {
        cli_error("record: --rotate N keeps the last N chunks of --max-size SIZE: it needs "
                  "--max-size");
        return false;
    }
    if (!o->max_bytes)
        return true;
    if (!out) {
        cli_error("record: --max-size bounds the trace directory's chunks: it needs -o DIR");
        return false;
    }
    if (diaglog) {
        /* The diaglog's records file has no buffers to cut at. */
        cli_error("record: --max-size does not rotate the diaglog's records: not with --diaglog");
        return false;
    }
    return true;
}

bool record_rotate_apply(const struct record_rotate_options *o, struct hvlog_trace_writer *w,
                         struct hvlog_export_error *err)
{
    return !o->max_bytes || hvlog_trace_writer_rotate(w, o->max_bytes, (uint32_t)o->keep, err) ==
                                HVLOG_EXPORT_OK;
}
