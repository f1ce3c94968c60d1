/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the trace reader and every exporter: arbitrary
 * bytes as a raw buffer file, or as a trace directory (metadata text, a NUL,
 * then the data file). Whatever the bytes, the reader and the exporters
 * must not crash, hang or leak, and:
 *   - an export that fails leaves nothing behind (no output, no temporary);
 *   - an export that succeeds wrote every entry of every buffer the reader
 *     accepts (skip_corrupt: corrupt buffers are left out and counted).
 *
 * Input: byte 0 selects the mode (bit 0: 0 = raw file, 1 = directory;
 * bit 1: also export), the rest is the content. Files live in a private
 * directory under /dev/shm (or $TMPDIR) that each run empties.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, lstat: the libFuzzer build has no project flags */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvlog/export/ctf.h"
#include "hvlog/export/perfetto.h"
#include "hvlog/trace/trace.h"
#include "../tests/export/synth.h" /* synth_rmtree, synth_dir_entries */

static char work[256];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_trace: %s\n", what);
    abort();
}

static void write_file(const char *path, const uint8_t *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(bytes, 1, len, f) != len || fclose(f) != 0)
        die("cannot write the input file");
}

static void cleanup(void)
{
    synth_rmtree(work);
}

static void setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

    if (work[0])
        return;
    snprintf(work, sizeof work, "%s/hvlog-fuzz-trace-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(work))
        die("cannot create a work directory");
    atexit(cleanup);
}

static bool count_entry(void *arg, const struct hvlog_entry *e)
{
    (void)e;
    (*(uint64_t *)arg)++;
    return true;
}

/* Entries of the buffers the reader accepts, over every group. */
static uint64_t readable_entries(const struct hvlog_trace_reader *r)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(r);
    uint64_t entries = 0;

    for (uint32_t i = 0; i < meta->group_count; i++) {
        struct hvlog_trace_cursor *c;
        struct hvlog_trace_buffer b;
        enum hvlog_export_status st;

        if (hvlog_trace_cursor_open(r, meta->groups[i].type, &c, NULL) != HVLOG_EXPORT_OK)
            continue;
        do {
            uint64_t n = 0;
            st = hvlog_trace_cursor_next(c, &b, count_entry, &n, NULL);
            if (st == HVLOG_EXPORT_OK)
                entries += n;
            else if (n != 0)
                die("entries delivered from a rejected buffer");
        } while (st == HVLOG_EXPORT_OK || st == HVLOG_EXPORT_CORRUPT ||
                 st == HVLOG_EXPORT_TRUNCATED);
        hvlog_trace_cursor_close(c);
    }
    return entries;
}

static bool all_groups_open(const struct hvlog_trace_reader *r)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(r);

    for (uint32_t i = 0; i < meta->group_count; i++) {
        struct hvlog_trace_cursor *c;
        if (hvlog_trace_cursor_open(r, meta->groups[i].type, &c, NULL) != HVLOG_EXPORT_OK)
            return false;
        hvlog_trace_cursor_close(c);
    }
    return true;
}

static void export_both(const struct hvlog_trace_reader *r, uint64_t entries)
{
    struct hvlog_export_options opt = {.skip_corrupt = true};
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    char out[300];
    int before = synth_dir_entries(work);
    bool complete = all_groups_open(r);

    snprintf(out, sizeof out, "%s/out.ctf", work);
    if (hvlog_export_ctf(r, out, &opt, &sum, &err) == HVLOG_EXPORT_OK) {
        if (complete && sum.events != entries)
            die("the CTF export lost or invented entries");
        synth_rmtree(out);
    } else if (synth_dir_entries(work) != before) {
        die("a failed CTF export left something behind");
    }
    snprintf(out, sizeof out, "%s/out.json", work);
    if (hvlog_export_perfetto(r, out, &opt, &sum, &err) == HVLOG_EXPORT_OK) {
        if (complete && sum.events != entries)
            die("the Perfetto export lost or invented entries");
        unlink(out);
    } else if (synth_dir_entries(work) != before) {
        die("a failed Perfetto export left something behind");
    }
    snprintf(out, sizeof out, "%s/out.pftrace", work);
    if (hvlog_export_perfetto_proto(r, out, &opt, &sum, &err) == HVLOG_EXPORT_OK) {
        if (complete && sum.events != entries)
            die("the Perfetto protobuf export lost or invented entries");
        unlink(out);
    } else if (synth_dir_entries(work) != before) {
        die("a failed Perfetto protobuf export left something behind");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hvlog_trace_reader *r = NULL;
    char path[300];
    uint8_t mode;

    if (size < 1)
        return 0;
    setup();
    mode = data[0];
    data++;
    size--;
    if (mode & 1) {
        /* A directory: metadata text, a NUL, then the data of every group file. */
        const uint8_t *nul = memchr(data, 0, size);
        size_t meta_len = nul ? (size_t)(nul - data) : size;
        const uint8_t *rest = nul ? nul + 1 : data + size;
        size_t rest_len = (size_t)(data + size - rest);
        struct hvlog_trace_meta meta;

        hvlog_trace_meta_parse((const char *)data, meta_len, &meta, NULL);
        hvlog_trace_meta_release(&meta);
        snprintf(path, sizeof path, "%s/t", work);
        if (mkdir(path, 0777) != 0)
            die("cannot create the trace directory");
        snprintf(path, sizeof path, "%s/t/hvlog-trace.json", work);
        write_file(path, data, meta_len);
        snprintf(path, sizeof path, "%s/t/local.buffers", work);
        write_file(path, rest, rest_len);
        snprintf(path, sizeof path, "%s/t/global.buffers", work);
        write_file(path, rest, rest_len);
        snprintf(path, sizeof path, "%s/t", work);
    } else {
        snprintf(path, sizeof path, "%s/raw", work);
        write_file(path, data, size);
    }
    if (hvlog_trace_open(path, &r, NULL) == HVLOG_EXPORT_OK) {
        uint64_t entries = readable_entries(r);
        if (mode & 2)
            export_both(r, entries);
        hvlog_trace_close(r);
    }
    synth_rmtree(path);
    if (synth_dir_entries(work) != 0)
        die("files left in the work directory");
    return 0;
}
