/* SPDX-License-Identifier: MIT */
/*
 * The consumer's drain, measured on a recorded trace: one process per
 * measurement, driven by bench/run.
 * Usage: bench_drain TRACE PASSES [--copy] [--write FILE] [--no-entries]
 *
 * A root drains a Ready buffer in three steps (src/client/client.c,
 * drain_list, spec §8.6): check it in place in the read-only view (header
 * and every entry, with the walker: a Ready buffer is stable until
 * released, §6.3), walk it again handing each decoded entry to the sink,
 * release it. This program does the same to every buffer of TRACE's group
 * files, with the public walker (hvlog/trace/walk.h) and a null entry
 * callback behind the client's counting one:
 *
 *   view   the group files mapped read-only and faulted in before timing
 *          (MAP_POPULATE): the page-cache pages stand for the root's view
 *          of the buffers the hypervisor filled
 *   copy   --copy only: memcpy, a page at a time, into one buffer-sized
 *          copy, then the rest on the copy (what the client did before
 *          issue 17; bench/record-speed's README section gives the gain)
 *   check  hvlog_buffer_walk(..., NULL): BufferSize, NextBufferOffset,
 *          Type, BufferState Ready, every entry's Size (in the group's
 *          header convention); BufferIndex below MaximumBufferCount
 *   decode hvlog_buffer_walk(..., count_entry): every entry decoded into a
 *          struct hvlog_entry, counted, handed to a callback that does
 *          nothing
 *   write  --write FILE only: write() of the whole buffer to FILE, as
 *          `hvlog record`'s sink does (each pass rewrites FILE from its
 *          start, so a file on tmpfs stays the trace's size)
 *
 * --no-entries leaves the decode step out: `hvlog record`'s sink takes no
 * entries (check, write: its whole path but the hypercalls and the disk).
 *
 * The Release hypercall is left out (a file has no hypervisor): one
 * dispatch per buffer, about 20 ns against the tens of microseconds a
 * 64 KiB buffer takes to walk (bench/RESULTS.md, "Flush dispatch").
 *
 * The same bytes are read PASSES times (bench/run picks PASSES so a run
 * lasts long enough to time; a trace larger than the caches is read from
 * memory each pass). Prints one line of key=value pairs: passes, buffers,
 * entries, bytes (whole buffers), data_bytes (entries only), events_lost,
 * corrupt, wall_ns and cpu_ns (thread CPU time), all totals over the passes.
 * Under callgrind, bench/run counts drain_pass() only (--toggle-collect).
 */

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hvlog/trace/walk.h"
#include "hvlog/trace/trace.h"
#include "hvlog/hvlog.h"

/* One group file, mapped: the "view" of its buffers. */
struct view {
    const struct hvlog_trace_group *group;
    const uint8_t *bytes;
    size_t len;
    size_t buffer_bytes;
};

/* What the client counts while draining (struct hvlog_client_stats). */
struct drain_stats {
    uint64_t buffers, entries, bytes, data_bytes, events_lost, corrupt, write_errors;
};

/* The sink's entry callback: nothing. Called through a pointer, as the
 * client calls sink->entry. */
static bool null_entry(void *arg, const struct hvlog_entry *entry)
{
    (void)arg, (void)entry;
    return true;
}

struct entry_count {
    bool (*entry)(void *arg, const struct hvlog_entry *entry);
    uint64_t entries;
};

/* The client's per-entry wrapper: count, then the sink. */
static bool count_entry(void *p, const struct hvlog_entry *e)
{
    struct entry_count *ec = p;
    ec->entries++;
    return ec->entry(NULL, e);
}

/* One pass over every buffer of every group. Not inlined: callgrind
 * toggles on it. */
static __attribute__((noinline)) void drain_pass(const struct view *views, size_t nviews,
                                                 uint8_t *copy, int out, bool entries,
                                                 struct drain_stats *st)
{
    if (out >= 0 && lseek(out, 0, SEEK_SET) != 0)
        st->write_errors++;
    for (size_t v = 0; v < nviews; v++) {
        const struct view *w = &views[v];
        const struct hvlog_trace_group *g = w->group;
        /* Ready, as the client expects of a buffer on a ready list; the
         * SystemDiagnostics ring (type 2, current profile) has no ready
         * lists, its buffers are read in whatever state they are. */
        uint32_t state =
            g->type == HvEventLogTypeSystemDiagnostics ? UINT32_MAX : HvEventLogBufferStateReady;
        struct hvlog_walk_expect expect = {g->type, UINT32_MAX, state, (uint32_t)w->buffer_bytes};

        for (size_t at = 0; at + w->buffer_bytes <= w->len; at += w->buffer_bytes) {
            struct hvlog_buffer_summary s;
            struct entry_count ec = {null_entry, 0};
            const uint8_t *bytes = w->bytes + at;

            if (copy) {
                for (size_t k = 0; k < w->buffer_bytes; k += HV_PAGE_SIZE)
                    memcpy(copy + k, bytes + k, HV_PAGE_SIZE);
                bytes = copy;
            }
            if (hvlog_buffer_walk(bytes, w->buffer_bytes, g->convention, &expect, &s, NULL,
                                  NULL) != HVLOG_WALK_OK ||
                (g->buffer_count && s.buffer_index >= g->buffer_count)) {
                st->corrupt++;
                continue;
            }
            if (out >= 0 && write(out, bytes, w->buffer_bytes) != (ssize_t)w->buffer_bytes)
                st->write_errors++;
            if (entries)
                hvlog_buffer_walk(bytes, w->buffer_bytes, g->convention, &expect, NULL,
                                  count_entry, &ec);
            st->buffers++;
            st->entries += entries ? ec.entries : s.entries;
            st->bytes += w->buffer_bytes;
            st->data_bytes += s.data_end - HV_EVENTLOG_BUFFER_HEADER_SIZE;
            st->events_lost += s.events_lost;
        }
    }
}

static double now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Map TRACE/<group file> read-only, pages faulted in. Returns 0 or -1. */
static int view_open(const char *trace, const struct hvlog_trace_group *g, struct view *out)
{
    char path[4096];
    struct stat sb;
    int fd;

    out->group = g;
    out->buffer_bytes = (size_t)g->buffer_pages * HV_PAGE_SIZE;
    out->bytes = NULL;
    out->len = 0;
    snprintf(path, sizeof path, "%s/%s", trace, g->file);
    fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        perror(path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    out->len = (size_t)sb.st_size;
    if (out->len > 0) {
        void *p = mmap(NULL, out->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p == MAP_FAILED) {
            perror(path);
            close(fd);
            return -1;
        }
        out->bytes = p;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    struct hvlog_trace_reader *reader = NULL;
    struct hvlog_export_error err = {0};
    struct view views[HVLOG_TRACE_MAX_GROUPS];
    struct drain_stats st = {0};
    const struct hvlog_trace_meta *meta;
    size_t nviews = 0, copy_bytes = 0;
    uint8_t *copy = NULL;
    bool want_copy = false, entries = true;
    const char *write_to = NULL;
    int out = -1;
    unsigned long passes;
    double wall0, cpu0, wall, cpu;

    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--copy") == 0)
            want_copy = true;
        else if (strcmp(argv[i], "--no-entries") == 0)
            entries = false;
        else if (strcmp(argv[i], "--write") == 0 && i + 1 < argc)
            write_to = argv[++i];
        else
            argc = 0; /* usage */
    }
    if (argc < 3 || (passes = strtoul(argv[2], NULL, 10)) == 0) {
        fprintf(stderr, "usage: bench_drain TRACE PASSES [--copy] [--write FILE] [--no-entries]\n");
        return 2;
    }
    if (hvlog_trace_open(argv[1], &reader, &err) != HVLOG_EXPORT_OK) {
        fprintf(stderr, "bench_drain: %s\n", err.message);
        return 1;
    }
    if (hvlog_trace_reader_is_raw(reader)) {
        fprintf(stderr, "bench_drain: %s: give a trace directory\n", argv[1]);
        hvlog_trace_close(reader);
        return 1;
    }
    meta = hvlog_trace_reader_meta(reader);
    for (uint32_t i = 0; i < meta->group_count; i++) {
        if (view_open(argv[1], &meta->groups[i], &views[nviews]) != 0) {
            hvlog_trace_close(reader);
            return 1;
        }
        if (views[nviews].buffer_bytes > copy_bytes)
            copy_bytes = views[nviews].buffer_bytes;
        nviews++;
    }
    if (want_copy) {
        copy = aligned_alloc(HV_PAGE_SIZE, copy_bytes ? copy_bytes : HV_PAGE_SIZE);
        if (!copy) {
            fprintf(stderr, "bench_drain: out of memory\n");
            hvlog_trace_close(reader);
            return 1;
        }
        memset(copy, 0, copy_bytes); /* fault the copy in before timing */
    }
    if (write_to && (out = open(write_to, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
        perror(write_to);
        free(copy);
        hvlog_trace_close(reader);
        return 1;
    }

    wall0 = now_ns(CLOCK_MONOTONIC);
    cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    for (unsigned long p = 0; p < passes; p++)
        drain_pass(views, nviews, copy, out, entries, &st);
    cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    wall = now_ns(CLOCK_MONOTONIC) - wall0;

    printf("passes=%lu buffers=%llu entries=%llu bytes=%llu data_bytes=%llu events_lost=%llu "
           "corrupt=%llu wall_ns=%.0f cpu_ns=%.0f\n",
           passes, (unsigned long long)st.buffers, (unsigned long long)st.entries,
           (unsigned long long)st.bytes, (unsigned long long)st.data_bytes,
           (unsigned long long)st.events_lost, (unsigned long long)st.corrupt, wall, cpu);
    if (st.write_errors)
        fprintf(stderr, "bench_drain: %llu writes failed\n", (unsigned long long)st.write_errors);
    if (out >= 0)
        close(out);
    free(copy);
    for (size_t v = 0; v < nviews; v++)
        if (views[v].bytes)
            munmap((void *)views[v].bytes, views[v].len);
    hvlog_trace_close(reader);
    return 0;
}
