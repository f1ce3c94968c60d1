/* SPDX-License-Identifier: MIT */
/*
 * The trace writer (hvlog/export/trace.h): a staged directory (staging.c)
 * holding one data file per group and, written last, hvlog-trace.json.
 * Buffers are appended exactly as given: the writer is the one place where
 * the root's bytes reach the disk, and it does not reinterpret them.
 *
 * Errors stick: after a failed write the files no longer hold whole
 * buffers, so every later append and the commit fail too; the caller
 * aborts.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/export_internal.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/export/trace.h"

struct hvlog_trace_writer {
    struct export_staged_dir dir;
    struct hvlog_export_error failure; /* status OK until something fails */
    int fd[HVLOG_TRACE_MAX_GROUPS];
    uint32_t buffer_bytes[HVLOG_TRACE_MAX_GROUPS];
    uint64_t buffers[HVLOG_TRACE_MAX_GROUPS];
};

static enum hvlog_export_status stuck(const struct hvlog_trace_writer *w,
                                      struct hvlog_export_error *err)
{
    if (err)
        *err = w->failure;
    return w->failure.status;
}

enum hvlog_export_status hvlog_trace_writer_create(const char *dir, unsigned flags,
                                                  struct hvlog_trace_writer **out,
                                                  struct hvlog_export_error *err)
{
    struct hvlog_trace_writer *w;
    enum hvlog_export_status status;

    if (!dir || !out)
        return export_fail(err, HVLOG_EXPORT_INVALID, "no trace directory given");
    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++)
        w->fd[t] = -1;
    status = export_staged_dir_begin(&w->dir, dir, (flags & HVLOG_TRACE_FORCE) != 0,
                                     HVLOG_TRACE_META_FILE, err);
    if (status != HVLOG_EXPORT_OK) {
        free(w);
        return status;
    }
    *out = w;
    return HVLOG_EXPORT_OK;
}

static enum hvlog_export_status open_group(struct hvlog_trace_writer *w, uint32_t type,
                                           struct hvlog_export_error *err)
{
    w->fd[type] = export_create_file(w->dir.tmp, hvlog_trace_group_file(type), err);
    return w->fd[type] < 0 ? HVLOG_EXPORT_IO : HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_writer_append(struct hvlog_trace_writer *w, uint32_t type,
                                                  const uint8_t *bytes, size_t len,
                                                  struct hvlog_export_error *err)
{
    int e;

    if (!w || !bytes)
        return export_fail(err, HVLOG_EXPORT_INVALID, "no writer or no buffer");
    if (w->failure.status != HVLOG_EXPORT_OK)
        return stuck(w, err);
    if (type >= HVLOG_TRACE_MAX_GROUPS)
        return export_fail(err, HVLOG_EXPORT_INVALID, "log type %u has no trace file", type);
    if (len < HV_PAGE_SIZE || len % HV_PAGE_SIZE != 0 ||
        len > (size_t)HV_EVENTLOG_MAX_BUFFER_PAGES * HV_PAGE_SIZE)
        return export_fail(err, HVLOG_EXPORT_INVALID,
                           "a buffer of %zu bytes: not 1..512 whole pages", len);
    if (w->buffer_bytes[type] != 0 && w->buffer_bytes[type] != len)
        return export_fail(err, HVLOG_EXPORT_INVALID,
                           "a buffer of %zu bytes in a group of %u-byte buffers", len,
                           w->buffer_bytes[type]);
    if (w->fd[type] < 0 && open_group(w, type, &w->failure) != HVLOG_EXPORT_OK)
        return stuck(w, err);
    e = export_write_all(w->fd[type], bytes, len);
    if (e != 0) {
        export_fail(&w->failure, HVLOG_EXPORT_IO, "%s/%s: %s", w->dir.final,
                    hvlog_trace_group_file(type), strerror(e));
        return stuck(w, err);
    }
    w->buffer_bytes[type] = (uint32_t)len;
    w->buffers[type]++;
    return HVLOG_EXPORT_OK;
}

uint64_t hvlog_trace_writer_buffers(const struct hvlog_trace_writer *w, uint32_t type)
{
    return w && type < HVLOG_TRACE_MAX_GROUPS ? w->buffers[type] : 0;
}

/* Does @meta describe what was written? Checked before anything is renamed. */
static enum hvlog_export_status check_meta(const struct hvlog_trace_writer *w,
                                           const struct hvlog_trace_meta *meta,
                                           struct hvlog_export_error *err)
{
    if (!meta || meta->group_count > HVLOG_TRACE_MAX_GROUPS)
        return export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: no metadata or too many groups");
    if (meta->lp_count > 0 && !meta->lps)
        return export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: lp_count without lps");
    for (uint32_t i = 0; i < meta->group_count; i++) {
        const struct hvlog_trace_group *g = &meta->groups[i];

        if (g->type >= HVLOG_TRACE_MAX_GROUPS || hvlog_trace_meta_group(meta, g->type) != g)
            return export_fail(err, HVLOG_EXPORT_INVALID,
                               "trace metadata: group %u: bad or repeated type %u", i, g->type);
        if (g->buffer_pages < HV_EVENTLOG_MIN_BUFFER_PAGES ||
            g->buffer_pages > HV_EVENTLOG_MAX_BUFFER_PAGES ||
            (w->buffer_bytes[g->type] != 0 &&
             (uint64_t)g->buffer_pages * HV_PAGE_SIZE != w->buffer_bytes[g->type]))
            return export_fail(err, HVLOG_EXPORT_INVALID,
                               "trace metadata: group %u: buffer_pages %u does not match the "
                               "%u-byte buffers written",
                               g->type, g->buffer_pages, w->buffer_bytes[g->type]);
        if (g->convention != HVLOG_ABI_2013 && g->convention != HVLOG_ABI_CURRENT)
            return export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: group %u: bad convention",
                               g->type);
        if (g->time_basis > HvEventLogEntryTimeMaximumCurrent)
            return export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: group %u: bad time basis",
                               g->type);
    }
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        if (w->buffers[t] != 0 && !hvlog_trace_meta_group(meta, t))
            return export_fail(err, HVLOG_EXPORT_INVALID,
                               "trace metadata: buffers of type %u were written but no group "
                               "describes them",
                               t);
    }
    return HVLOG_EXPORT_OK;
}

static void close_files(struct hvlog_trace_writer *w)
{
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        if (w->fd[t] >= 0)
            close(w->fd[t]);
        w->fd[t] = -1;
    }
}

enum hvlog_export_status hvlog_trace_writer_commit(struct hvlog_trace_writer *w,
                                                  const struct hvlog_trace_meta *meta,
                                                  struct hvlog_export_error *err)
{
    enum hvlog_export_status status;
    int e;

    if (!w)
        return export_fail(err, HVLOG_EXPORT_INVALID, "no writer");
    if (w->failure.status != HVLOG_EXPORT_OK) {
        status = stuck(w, err);
        hvlog_trace_writer_abort(w);
        return status;
    }
    status = check_meta(w, meta, err);
    /* A group with no buffers still gets its (empty) file. */
    for (uint32_t i = 0; status == HVLOG_EXPORT_OK && i < meta->group_count; i++) {
        if (w->fd[meta->groups[i].type] < 0)
            status = open_group(w, meta->groups[i].type, err);
    }
    for (uint32_t t = 0; status == HVLOG_EXPORT_OK && t < HVLOG_TRACE_MAX_GROUPS; t++) {
        if (w->fd[t] < 0)
            continue;
        e = export_close_synced(w->fd[t]);
        w->fd[t] = -1;
        if (e != 0)
            status = export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->dir.final,
                                 hvlog_trace_group_file(t), strerror(e));
    }
    if (status == HVLOG_EXPORT_OK) {
        int fd = export_create_file(w->dir.tmp, HVLOG_TRACE_META_FILE, err);
        if (fd < 0) {
            status = HVLOG_EXPORT_IO;
        } else {
            status = export_meta_write(fd, meta, err);
            e = export_close_synced(fd);
            if (status == HVLOG_EXPORT_OK && e != 0)
                status = export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->dir.final,
                                     HVLOG_TRACE_META_FILE, strerror(e));
        }
    }
    if (status != HVLOG_EXPORT_OK) {
        hvlog_trace_writer_abort(w);
        return status;
    }
    status = export_staged_dir_commit(&w->dir, err); /* aborts the directory itself on failure */
    free(w);
    return status;
}

void hvlog_trace_writer_abort(struct hvlog_trace_writer *w)
{
    if (!w)
        return;
    close_files(w);
    export_staged_dir_abort(&w->dir);
    free(w);
}
