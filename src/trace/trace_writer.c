/* SPDX-License-Identifier: MIT */
/*
 * The trace writer (hvlog/trace/trace.h): a staged directory (staging.c)
 * holding one data file per group and hvlog-trace.json. Buffers are
 * appended exactly as given: the writer is the one place where the root's
 * bytes reach the disk, and it does not reinterpret them.
 *
 * Two lifetimes (docs/trace-format.md section 1):
 *
 *   all or nothing   create, append..., commit: the metadata is written
 *                    last and the directory renamed into place complete.
 *   recording        create, start, append..., commit: start writes the
 *                    metadata (geometry, anchors) and empty group files and
 *                    renames the directory into place at once, holding an
 *                    exclusive flock(2) on it; buffers are then appended
 *                    whole under the final name; commit adds the closing
 *                    statistics by writing a new hvlog-trace.json beside
 *                    the old one and renaming it over (atomic: a reader
 *                    sees the opening or the closing metadata, never a
 *                    mix), and only then drops the lock. A crash at any
 *                    moment leaves a readable trace: whole buffers, perhaps
 *                    one torn last buffer that readers leave out, and no
 *                    closing statistics, which with no lock held reads as
 *                    "died" (hvlog_trace_dir_state). A recorder keeps what
 *                    it has (STYLE habit 20).
 *
 * Errors stick: after a failed write the files no longer hold whole
 * buffers, so every later append and the commit fail too. A recording cuts
 * its file back to the last whole buffer first, so what it leaves decodes.
 *
 * Compressed (HVLOG_TRACE_COMPRESS): each buffer is turned into one unit
 * (zframe.c: an 84-byte prefix and one zstd frame) and the unit is written
 * with the same single write as a plain buffer, so the crash rules are the
 * same: a unit reaches the file whole or is cut off (or left torn, for the
 * readers to leave out). Records files are written plain. The compressing
 * and the unit's write happen on a worker thread (zworker.c), off the
 * appender's (the recorder's drain) path: append queues a copy, in release
 * order; start, commit and abort wait for the queue to be written first
 * (abort of a writer not started drops it), and a failure of the worker's
 * write becomes the writer's sticky failure at the next append or commit.
 *
 * A recording (a started writer) writes its plain buffers on that worker
 * too: a write() that the page cache holds up (another program's I/O, the
 * kernel's write-back) would otherwise hold up the drain, and the
 * hypervisor's buffers fill meanwhile. The copy costs the appender a
 * memcpy of the buffer; flat out the recorder records as much as with
 * the write on its own thread, and with a dd writing the same disk it lost
 * 0.03 % instead of 0.4 to 3 % (bench/RESULTS.md, "Recording end to end").
 * A crash loses what was queued, at most the worker's queue (zworker.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/trace_internal.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"

struct hvlog_trace_writer {
    struct export_staged_dir dir;
    struct hvlog_export_error failure; /* status OK until something fails */
    int fd[HVLOG_TRACE_MAX_GROUPS];
    uint32_t buffer_bytes[HVLOG_TRACE_MAX_GROUPS];
    uint64_t buffers[HVLOG_TRACE_MAX_GROUPS];
    uint64_t file_bytes[HVLOG_TRACE_MAX_GROUPS]; /* where the next buffer (or unit) goes */
    struct export_zenc *zenc; /* HVLOG_TRACE_COMPRESS; NULL: buffers written as they are */
    /* The worker (zworker.c), from the first append of a compressed writer
     * or a recording on; it alone then writes the group files and their
     * file_bytes. NULL if it could not start: the appender compresses and
     * writes, as it did before. */
    struct trace_zworker *zw;
    bool zw_tried;
    unsigned file_mode;  /* exact permissions of every file; directories add x */
    long long uid, gid;  /* owner to give the files, -1: the creator's */
    /* A recording (after start): the trace directory under its final
     * name, flock'ed LOCK_EX until commit or abort; groups it described. */
    bool started;
    int dir_fd;
    char *path;
    bool described[HVLOG_TRACE_MAX_GROUPS];
    /* The records file (SystemDiagnostics, trace.h): one, of type 2. */
    int rec_fd;
    uint64_t records, record_bytes;
    bool rec_described;
    /* hvlog_trace_writer_rotate: the directory is a rotated recording's
     * parent and rotate.c writes the chunks (with these create flags). */
    unsigned flags;
    struct trace_rotation *rotation;
};

static enum hvlog_export_status stuck(const struct hvlog_trace_writer *w,
                                      struct hvlog_export_error *err)
{
    if (err)
        *err = w->failure;
    return w->failure.status;
}

/* Directories: an x bit wherever the file mode has r. */
static mode_t dir_mode(unsigned file_mode)
{
    return (mode_t)(file_mode | ((file_mode & 0444u) >> 2));
}

/* The writer's permissions and owner on the open file @fd; an errno or 0. */
static int apply_access(const struct hvlog_trace_writer *w, int fd, mode_t mode)
{
    if (fchmod(fd, mode) != 0)
        return errno;
    if ((w->uid >= 0 || w->gid >= 0) &&
        fchown(fd, w->uid >= 0 ? (uid_t)w->uid : (uid_t)-1, w->gid >= 0 ? (gid_t)w->gid : (gid_t)-1) != 0)
        return errno;
    return 0;
}

static int apply_dir_access(const struct hvlog_trace_writer *w, const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

    if (fd < 0)
        return errno;
    e = apply_access(w, fd, dir_mode(w->file_mode));
    close(fd);
    return e;
}

/* Does a live recorder hold @dir's lock (hvlog_trace_writer_start), or,
 * for a rotated recording (rotate.c), one of its chunks'? Then --force
 * must not move it aside under the recorder's feet. */
static bool being_recorded(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    bool locked;
    DIR *d;
    const struct dirent *de;

    if (fd < 0)
        return false;
    locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (locked || !hvlog_trace_is_rotated(dir) || !(d = fdopendir(fd))) {
        close(fd);
        return locked;
    }
    while (!locked && (de = readdir(d)) != NULL) {
        int chunk;

        if (strncmp(de->d_name, HVLOG_TRACE_CHUNK_PREFIX, strlen(HVLOG_TRACE_CHUNK_PREFIX)) != 0)
            continue;
        chunk = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (chunk < 0)
            continue;
        locked = flock(chunk, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        close(chunk);
    }
    closedir(d); /* closes fd */
    return locked;
}

enum hvlog_export_status hvlog_trace_writer_create(const char *dir, unsigned flags,
                                                  struct hvlog_trace_writer **out,
                                                  struct hvlog_export_error *err)
{
    struct hvlog_trace_writer *w;
    enum hvlog_export_status status;
    int e;

    if (!dir || !out)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace directory given");
    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++)
        w->fd[t] = -1;
    w->dir_fd = -1;
    w->rec_fd = -1;
    w->file_mode = HVLOG_TRACE_FILE_MODE;
    w->uid = w->gid = -1;
    w->flags = flags;
    /* Temporary names of writers that died (SIGKILL, power loss) would
     * otherwise stay forever: sweep them before adding one (issue 13 A7).
     * Not for each chunk of a rotation (rotate.c): its parent was swept
     * when it was created, and a sweep per chunk would read every kept
     * chunk again each time. */
    if (!(flags & TRACE_WRITER_NO_SWEEP))
        (void)hvlog_trace_sweep_stale(dir);
    if ((flags & HVLOG_TRACE_FORCE) && being_recorded(dir)) {
        free(w);
        return hvlog__export_fail(err, HVLOG_EXPORT_EXISTS,
                           "%s: a live hvlog record is writing it; not replacing it", dir);
    }
    status = hvlog__export_staged_dir_begin(&w->dir, dir, (flags & HVLOG_TRACE_FORCE) != 0,
                                     HVLOG_TRACE_META_FILE, err);
    if (status != HVLOG_EXPORT_OK) {
        free(w);
        return status;
    }
    w->path = hvlog__export_strdup(dir);
    e = w->path ? apply_dir_access(w, w->dir.tmp) : ENOMEM;
    if (e == 0 && (flags & HVLOG_TRACE_COMPRESS) && !(w->zenc = hvlog__export_zenc_create(EXPORT_ZFRAME_LEVEL)))
        e = ENOMEM;
    if (e != 0) {
        status = hvlog__export_fail(err, e == ENOMEM ? HVLOG_EXPORT_NOMEM : HVLOG_EXPORT_IO, "%s: %s",
                             dir, strerror(e));
        hvlog_trace_writer_abort(w);
        return status;
    }
    *out = w;
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_writer_access(struct hvlog_trace_writer *w, unsigned file_mode,
                                                  long long uid, long long gid,
                                                  struct hvlog_export_error *err)
{
    int e;

    if (!w || w->started || file_mode > 07777u)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer, already started, or a bad mode");
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        if (w->fd[t] >= 0)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: files already created", w->path);
    }
    w->file_mode = file_mode ? file_mode : HVLOG_TRACE_FILE_MODE;
    w->uid = uid;
    w->gid = gid;
    e = apply_dir_access(w, w->dir.tmp);
    if (e != 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", w->path, strerror(e));
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_writer_rotate(struct hvlog_trace_writer *w, uint64_t max_bytes,
                                                  uint32_t keep, struct hvlog_export_error *err)
{
    if (!w || w->started || w->rotation || w->records)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer, already started or rotating");
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        if (w->fd[t] >= 0)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: files already created", w->path);
    }
    return hvlog__trace_rotation_create(w->path, w->flags, max_bytes, keep, &w->rotation, err);
}

/* Create @name in the staged directory with the writer's access. */
static int create_file(const struct hvlog_trace_writer *w, const char *name,
                       struct hvlog_export_error *err)
{
    int fd = hvlog__export_create_file(w->dir.tmp, name, err), e;

    if (fd < 0)
        return -1;
    e = apply_access(w, fd, (mode_t)w->file_mode);
    if (e != 0) {
        hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->path, name, strerror(e));
        close(fd);
        return -1;
    }
    return fd;
}

/* The data file of @type as this writer names it (".zst" when compressing). */
static const char *group_file(const struct hvlog_trace_writer *w, uint32_t type)
{
    return w->zenc ? hvlog_trace_group_file_compressed(type) : hvlog_trace_group_file(type);
}

static enum hvlog_export_status open_group(struct hvlog_trace_writer *w, uint32_t type,
                                           struct hvlog_export_error *err)
{
    if (w->started) /* start created every described group's file */
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "%s: buffers of log type %u, which the metadata does not describe",
                           w->path, type);
    w->fd[type] = create_file(w, group_file(w, type), err);
    return w->fd[type] < 0 ? HVLOG_EXPORT_IO : HVLOG_EXPORT_OK;
}

/*
 * The compression worker's sink (zworker.c): one unit of @type written
 * whole, on the worker's thread. The appender queued it after opening the
 * file and leaves fd and file_bytes of a compressed writer to the worker
 * until the queue is drained. @started: the buffer was appended to a
 * recording, whose file is cut back to its last whole unit on failure.
 */
static void write_unit(void *ctx, uint32_t type, bool started, const uint8_t *unit, size_t unit_len,
                       struct hvlog_export_error *err)
{
    struct hvlog_trace_writer *w = ctx;
    int e = hvlog__export_write_all(w->fd[type], unit, unit_len);

    if (e != 0) {
        if (started && ftruncate(w->fd[type], (off_t)w->file_bytes[type]) != 0) {
            /* nothing more to do: the torn tail is the readers' to leave out */
        }
        hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: write failed: %s", w->path, group_file(w, type),
                    strerror(e));
        return;
    }
    if (started)
        hvlog__export_start_writeback(w->fd[type], w->file_bytes[type], unit_len);
    w->file_bytes[type] += unit_len;
}

/* Wait until the worker has written every queued unit; its failure sticks. */
static enum hvlog_export_status drain_worker(struct hvlog_trace_writer *w,
                                             struct hvlog_export_error *err)
{
    if (w->failure.status != HVLOG_EXPORT_OK)
        return stuck(w, err);
    if (w->zw && hvlog__trace_zworker_drain(w->zw, &w->failure) != HVLOG_EXPORT_OK)
        return stuck(w, err);
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_writer_append(struct hvlog_trace_writer *w, uint32_t type,
                                                  const uint8_t *bytes, size_t len,
                                                  struct hvlog_export_error *err)
{
    const uint8_t *unit = bytes;
    size_t unit_len = len;
    int e;

    if (!w || !bytes)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer or no buffer");
    if (w->failure.status != HVLOG_EXPORT_OK)
        return stuck(w, err);
    if (w->rotation)
        return hvlog__trace_rotation_append(w->rotation, type, bytes, len, err);
    if (type >= HVLOG_TRACE_MAX_GROUPS)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "log type %u has no trace file", type);
    if (len < HV_PAGE_SIZE || len % HV_PAGE_SIZE != 0 ||
        len > (size_t)HV_EVENTLOG_MAX_BUFFER_PAGES * HV_PAGE_SIZE)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "a buffer of %zu bytes: not 1..512 whole pages", len);
    if (w->buffer_bytes[type] != 0 && w->buffer_bytes[type] != len)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "a buffer of %zu bytes in a group of %u-byte buffers", len,
                           w->buffer_bytes[type]);
    if (w->fd[type] < 0 && open_group(w, type, &w->failure) != HVLOG_EXPORT_OK)
        return stuck(w, err);
    if ((w->zenc || w->started) && !w->zw_tried) {
        w->zw_tried = true;
        w->zw = hvlog__trace_zworker_create(w->zenc, write_unit, w);
    }
    if (w->zw) {
        /* Queued in release order; a failure here is the worker's first
         * (its write's), and sticks, or a copy that could not be made. */
        if (hvlog__trace_zworker_push(w->zw, type, w->started, bytes, len, &w->failure) != HVLOG_EXPORT_OK)
            return stuck(w, err);
        w->buffer_bytes[type] = (uint32_t)len;
        w->buffers[type]++;
        return HVLOG_EXPORT_OK;
    }
    if (w->zenc) {
        e = hvlog__export_zenc_unit(w->zenc, bytes, len, &unit, &unit_len);
        if (e != 0) /* nothing was written: the file is still whole */
            return hvlog__export_fail(err, e == ENOMEM ? HVLOG_EXPORT_NOMEM : HVLOG_EXPORT_IO,
                               "%s/%s: cannot compress a buffer: %s", w->path, group_file(w, type),
                               strerror(e));
    }
    e = hvlog__export_write_all(w->fd[type], unit, unit_len);
    if (e != 0) {
        /* A recording keeps its whole buffers: cut the partial one off (if
         * that fails too, readers still leave a torn last buffer out). */
        if (w->started && ftruncate(w->fd[type], (off_t)w->file_bytes[type]) != 0) {
            /* nothing more to do: the torn tail is the readers' to leave out */
        }
        hvlog__export_fail(&w->failure, HVLOG_EXPORT_IO, "%s/%s: write failed: %s", w->path,
                    group_file(w, type), strerror(e));
        return stuck(w, err);
    }
    if (w->started) /* start the write-out now, so a power loss keeps more */
        hvlog__export_start_writeback(w->fd[type], w->file_bytes[type], unit_len);
    w->buffer_bytes[type] = (uint32_t)len;
    w->buffers[type]++;
    w->file_bytes[type] += unit_len;
    return HVLOG_EXPORT_OK;
}

static enum hvlog_export_status open_records(struct hvlog_trace_writer *w, uint32_t type,
                                             struct hvlog_export_error *err)
{
    if (w->started) /* start created the described records file */
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "%s: records of log type %u, which the metadata does not describe",
                           w->path, type);
    w->rec_fd = create_file(w, hvlog_trace_records_file(type), err);
    return w->rec_fd < 0 ? HVLOG_EXPORT_IO : HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_writer_append_record(struct hvlog_trace_writer *w,
                                                         uint32_t type, const uint8_t *bytes,
                                                         size_t len,
                                                         struct hvlog_export_error *err)
{
    int e;

    if (!w || !bytes)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer or no record");
    if (w->failure.status != HVLOG_EXPORT_OK)
        return stuck(w, err);
    if (!hvlog_trace_records_file(type) || w->rotation)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "log type %u has no records file%s", type,
                           w->rotation ? " in a rotated recording" : "");
    /* §4.5: the header, Size (u16 at 4) equal to what is given. */
    if (len < HV_EVENTLOG_ENTRY_HEADER_SIZE || len > UINT16_MAX ||
        hvlog_load_le16(bytes + 4) != len)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "a record of %zu bytes whose header does not say so", len);
    if (w->rec_fd < 0 && open_records(w, type, &w->failure) != HVLOG_EXPORT_OK)
        return stuck(w, err);
    e = hvlog__export_write_all(w->rec_fd, bytes, len);
    if (e != 0) {
        if (w->started) /* whole records only: cut the partial one off */
            (void)ftruncate(w->rec_fd, (off_t)w->record_bytes);
        hvlog__export_fail(&w->failure, HVLOG_EXPORT_IO, "%s/%s: write failed: %s", w->path,
                    hvlog_trace_records_file(type), strerror(e));
        return stuck(w, err);
    }
    w->records++;
    w->record_bytes += len;
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_writer_flush(struct hvlog_trace_writer *w,
                                                 struct hvlog_export_error *err)
{
    if (!w)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer");
    if (w->rotation)
        return hvlog__trace_rotation_flush(w->rotation, err);
    return drain_worker(w, err);
}

uint64_t hvlog_trace_writer_buffers(const struct hvlog_trace_writer *w, uint32_t type)
{
    if (w && w->rotation)
        return hvlog__trace_rotation_buffers(w->rotation, type);
    return w && type < HVLOG_TRACE_MAX_GROUPS ? w->buffers[type] : 0;
}

/* Does @meta describe what was written? Checked before anything is renamed. */
static enum hvlog_export_status check_meta(const struct hvlog_trace_writer *w,
                                           const struct hvlog_trace_meta *meta,
                                           struct hvlog_export_error *err)
{
    if (!meta || meta->group_count > HVLOG_TRACE_MAX_GROUPS)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: no metadata or too many groups");
    if (meta->lp_count > 0 && !meta->lps)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: lp_count without lps");
    for (uint32_t i = 0; i < meta->group_count; i++) {
        const struct hvlog_trace_group *g = &meta->groups[i];

        if (g->type >= HVLOG_TRACE_MAX_GROUPS || hvlog_trace_meta_group(meta, g->type) != g)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                               "trace metadata: group %u: bad or repeated type %u", i, g->type);
        if (g->buffer_pages < HV_EVENTLOG_MIN_BUFFER_PAGES ||
            g->buffer_pages > HV_EVENTLOG_MAX_BUFFER_PAGES ||
            (w->buffer_bytes[g->type] != 0 &&
             (uint64_t)g->buffer_pages * HV_PAGE_SIZE != w->buffer_bytes[g->type]))
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                               "trace metadata: group %u: buffer_pages %u does not match the "
                               "%u-byte buffers written",
                               g->type, g->buffer_pages, w->buffer_bytes[g->type]);
        if (g->convention != HVLOG_ABI_2013 && g->convention != HVLOG_ABI_CURRENT)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: group %u: bad convention",
                               g->type);
        if (g->time_basis > HvEventLogEntryTimeMaximumCurrent)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: group %u: bad time basis",
                               g->type);
        if (w->started && !w->described[g->type])
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                               "trace metadata: group %u was not in the metadata the recording "
                               "started with",
                               g->type);
    }
    if (meta->records_count > HVLOG_TRACE_MAX_RECORDS ||
        (meta->records_count == 1 && !hvlog_trace_records_file(meta->records[0].type)))
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: a bad records file");
    if (w->records != 0 && meta->records_count == 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "trace metadata: records were written but nothing describes them");
    if (w->started && meta->records_count && !w->rec_described)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "trace metadata: a records file the recording did not start with");
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        if (w->buffers[t] != 0 && !hvlog_trace_meta_group(meta, t))
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                               "trace metadata: buffers of type %u were written but no group "
                               "describes them",
                               t);
    }
    return HVLOG_EXPORT_OK;
}

static void close_files(struct hvlog_trace_writer *w)
{
    if (w->rec_fd >= 0)
        close(w->rec_fd);
    w->rec_fd = -1;
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        if (w->fd[t] >= 0)
            close(w->fd[t]);
        w->fd[t] = -1;
    }
}

/* fsync and close every group file (a recording's stay open until commit). */
static enum hvlog_export_status sync_files(struct hvlog_trace_writer *w,
                                           struct hvlog_export_error *err)
{
    enum hvlog_export_status status = HVLOG_EXPORT_OK;

    if (w->rec_fd >= 0) {
        int e = hvlog__export_close_synced(w->rec_fd);

        w->rec_fd = -1;
        if (e != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->path,
                                 hvlog_trace_records_file(HvEventLogTypeSystemDiagnostics),
                                 strerror(e));
    }
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        int e;

        if (w->fd[t] < 0)
            continue;
        e = hvlog__export_close_synced(w->fd[t]);
        w->fd[t] = -1;
        if (e != 0 && status == HVLOG_EXPORT_OK)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->path, group_file(w, t),
                                 strerror(e));
    }
    return status;
}

/* @meta as written: the opening (no closing statistics) or the closing
 * metadata with what the writer itself knows, the buffers per group. */
static struct hvlog_trace_meta as_written(const struct hvlog_trace_writer *w,
                                          const struct hvlog_trace_meta *meta, bool closing)
{
    struct hvlog_trace_meta m = *meta; /* shallow: lps and command_line stay the caller's */

    m.closed = closing;
    for (uint32_t i = 0; i < m.group_count; i++) {
        m.groups[i].buffers_written = w->buffers[m.groups[i].type];
        m.groups[i].buffers_written_known = closing;
        m.groups[i].compression = w->zenc ? HVLOG_TRACE_COMPRESSION_ZSTD : HVLOG_TRACE_COMPRESSION_NONE;
    }
    for (uint32_t i = 0; i < m.records_count && i < HVLOG_TRACE_MAX_RECORDS; i++) {
        snprintf(m.records[i].file, sizeof m.records[i].file, "%s",
                 hvlog_trace_records_file(m.records[i].type));
        m.records[i].records_written = w->records;
        m.records[i].records_written_known = closing;
    }
    return m;
}

/* hvlog__export_meta_write, its message naming the trace ("T/hvlog-trace.json: ..."). */
static enum hvlog_export_status meta_write_named(const struct hvlog_trace_writer *w, int fd,
                                                 const struct hvlog_trace_meta *meta,
                                                 struct hvlog_export_error *err)
{
    struct hvlog_export_error inner = {HVLOG_EXPORT_OK, ""};
    enum hvlog_export_status status = hvlog__export_meta_write(fd, meta, &inner);

    if (status != HVLOG_EXPORT_OK)
        hvlog__export_fail(err, status, "%s/%s", w->path, inner.message);
    return status;
}

/* hvlog-trace.json from @meta into the staged directory, synced. */
static enum hvlog_export_status write_meta_file(struct hvlog_trace_writer *w,
                                                const struct hvlog_trace_meta *meta,
                                                struct hvlog_export_error *err)
{
    enum hvlog_export_status status;
    int fd = create_file(w, HVLOG_TRACE_META_FILE, err), e;

    if (fd < 0)
        return HVLOG_EXPORT_IO;
    status = meta_write_named(w, fd, meta, err);
    e = hvlog__export_close_synced(fd);
    if (status == HVLOG_EXPORT_OK && e != 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->path, HVLOG_TRACE_META_FILE,
                             strerror(e));
    return status;
}

enum hvlog_export_status hvlog_trace_writer_start(struct hvlog_trace_writer *w,
                                                 const struct hvlog_trace_meta *meta,
                                                 struct hvlog_export_error *err)
{
    struct hvlog_trace_meta opening;
    enum hvlog_export_status status;

    if (!w || w->started)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer, or a recording already started");
    if (w->failure.status != HVLOG_EXPORT_OK)
        return stuck(w, err);
    /* Buffers appended before start are in the files before the rename. */
    status = drain_worker(w, err);
    if (status != HVLOG_EXPORT_OK)
        return status;
    if (w->rotation) {
        /* rotate.c: the staged directory becomes the chunks' parent. */
        status = hvlog__trace_rotation_start(w->rotation, &w->dir, w->file_mode, w->uid, w->gid, meta, err);
        if (status != HVLOG_EXPORT_OK) {
            hvlog_trace_writer_abort(w);
            return status;
        }
        w->started = true;
        return HVLOG_EXPORT_OK;
    }
    status = check_meta(w, meta, err);
    for (uint32_t i = 0; status == HVLOG_EXPORT_OK && i < meta->group_count; i++) {
        uint32_t type = meta->groups[i].type;

        w->described[type] = true;
        if (w->fd[type] < 0)
            status = open_group(w, type, err);
    }
    if (status == HVLOG_EXPORT_OK && meta->records_count) {
        w->rec_described = true;
        if (w->rec_fd < 0)
            status = open_records(w, meta->records[0].type, err);
    }
    opening = as_written(w, meta, false);
    if (status == HVLOG_EXPORT_OK)
        status = write_meta_file(w, &opening, err);
    if (status == HVLOG_EXPORT_OK) {
        /* Locked before it gets its name: no reader ever sees the
         * recording unlocked and without closing statistics ("died"). */
        w->dir_fd = open(w->dir.tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w->dir_fd < 0 || flock(w->dir_fd, LOCK_EX | LOCK_NB) != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot lock the trace: %s", w->path,
                                 strerror(errno));
    }
    if (status != HVLOG_EXPORT_OK) {
        hvlog_trace_writer_abort(w);
        return status;
    }
    status = hvlog__export_staged_dir_commit(&w->dir, err); /* aborts the directory itself on failure */
    if (status != HVLOG_EXPORT_OK) {
        hvlog__trace_zworker_destroy(w->zw, false); /* drained above: nothing queued */
        close_files(w);
        close(w->dir_fd);
        w->dir_fd = -1;
        hvlog__export_zenc_free(w->zenc);
        free(w->path);
        free(w);
        return status;
    }
    w->started = true;
    return HVLOG_EXPORT_OK;
}

/* A recording's commit: the closing metadata replaces the opening one by a
 * rename inside the locked directory; then the lock goes. */
static enum hvlog_export_status commit_recording(struct hvlog_trace_writer *w,
                                                 const struct hvlog_trace_meta *meta,
                                                 struct hvlog_export_error *err)
{
    struct hvlog_trace_meta closing = as_written(w, meta, true);
    enum hvlog_export_status status = check_meta(w, meta, err);
    char tmp[64];
    int fd = -1, e;

    /* hvlog_trace_sweep_stale's pattern, should this process die here. */
    snprintf(tmp, sizeof tmp, "." HVLOG_TRACE_META_FILE ".tmp-%ld-0-0", (long)getpid());
    if (status == HVLOG_EXPORT_OK)
        status = sync_files(w, err);
    if (status == HVLOG_EXPORT_OK) {
        (void)unlinkat(w->dir_fd, tmp, 0); /* ours, from an earlier try: the PID is ours */
        fd = openat(w->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        e = fd < 0 ? errno : apply_access(w, fd, (mode_t)w->file_mode);
        if (e != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->path, HVLOG_TRACE_META_FILE,
                                 strerror(e));
    }
    if (status == HVLOG_EXPORT_OK)
        status = meta_write_named(w, fd, &closing, err);
    if (fd >= 0) {
        e = hvlog__export_close_synced(fd);
        if (status == HVLOG_EXPORT_OK && e != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->path,
                                 HVLOG_TRACE_META_FILE, strerror(e));
    }
    if (status == HVLOG_EXPORT_OK && renameat(w->dir_fd, tmp, w->dir_fd, HVLOG_TRACE_META_FILE) != 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", w->path, HVLOG_TRACE_META_FILE,
                             strerror(errno));
    if (status != HVLOG_EXPORT_OK) {
        if (fd >= 0)
            (void)unlinkat(w->dir_fd, tmp, 0); /* nothing hidden is left behind */
        hvlog_trace_writer_abort(w);
        return status;
    }
    (void)fsync(w->dir_fd);
    close(w->dir_fd); /* drops the lock: closing statistics are on disk first */
    hvlog__trace_zworker_destroy(w->zw, false); /* drained by the caller: nothing queued */
    hvlog__export_zenc_free(w->zenc);
    free(w->path);
    free(w);
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_writer_commit(struct hvlog_trace_writer *w,
                                                  const struct hvlog_trace_meta *meta,
                                                  struct hvlog_export_error *err)
{
    struct hvlog_trace_meta closing;
    enum hvlog_export_status status;

    if (!w)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer");
    /* Every queued buffer written first: the closing statistics count
     * them, and a failure of their writes fails the commit. */
    status = w->failure.status != HVLOG_EXPORT_OK ? stuck(w, err) : drain_worker(w, err);
    if (status != HVLOG_EXPORT_OK) {
        hvlog_trace_writer_abort(w);
        return status;
    }
    if (w->rotation && w->started) {
        status = hvlog__trace_rotation_commit(w->rotation, meta, err);
        hvlog_trace_writer_abort(w); /* frees: the chunks are committed, or stay whole */
        return status;
    }
    if (w->rotation) {
        hvlog_trace_writer_abort(w);
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "a rotated trace is a recording: start it");
    }
    if (w->started)
        return commit_recording(w, meta, err);
    status = check_meta(w, meta, err);
    /* A group with no buffers still gets its (empty) file. */
    for (uint32_t i = 0; status == HVLOG_EXPORT_OK && i < meta->group_count; i++) {
        if (w->fd[meta->groups[i].type] < 0)
            status = open_group(w, meta->groups[i].type, err);
    }
    if (status == HVLOG_EXPORT_OK && meta->records_count && w->rec_fd < 0)
        status = open_records(w, meta->records[0].type, err);
    if (status == HVLOG_EXPORT_OK)
        status = sync_files(w, err);
    if (status == HVLOG_EXPORT_OK) {
        closing = as_written(w, meta, true);
        status = write_meta_file(w, &closing, err);
    }
    if (status != HVLOG_EXPORT_OK) {
        hvlog_trace_writer_abort(w);
        return status;
    }
    status = hvlog__export_staged_dir_commit(&w->dir, err); /* aborts the directory itself on failure */
    hvlog__trace_zworker_destroy(w->zw, false); /* drained above: nothing queued */
    hvlog__export_zenc_free(w->zenc);
    free(w->path);
    free(w);
    return status;
}

void hvlog_trace_writer_abort(struct hvlog_trace_writer *w)
{
    if (!w)
        return;
    /* A recording keeps what it has: the worker writes what is queued
     * (whole units) before the files close; anything else is removed. */
    hvlog__trace_zworker_destroy(w->zw, w->started);
    close_files(w);
    hvlog__trace_rotation_destroy(w->rotation); /* a started chunk stays, whole */
    if (w->started) {
        /* The trace stays: every whole buffer, the opening metadata. */
        if (w->dir_fd >= 0)
            close(w->dir_fd);
    } else {
        if (w->dir_fd >= 0)
            close(w->dir_fd);
        hvlog__export_staged_dir_abort(&w->dir);
    }
    hvlog__export_zenc_free(w->zenc);
    free(w->path);
    free(w);
}

/* ---- stale temporary names ---- */

/* Does @p read "PID-N-HEX" (the tail of staging.c's unique_name)? */
static bool stale_tail(const char *p, long *pid)
{
    char *end;

    if (*p < '1' || *p > '9')
        return false;
    *pid = strtol(p, &end, 10);
    if (*end != '-' || *pid <= 0)
        return false;
    p = end + 1;
    if (*p < '0' || *p > '9')
        return false;
    (void)strtoul(p, &end, 10);
    if (*end != '-' || end[1] == '\0')
        return false;
    for (p = end + 1; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    }
    return true;
}

/* Does @name read ".NAME.KIND-PID-N-HEX" with KIND tmp or old, the names
 * staging.c gives its temporaries? Its PID in *@pid. */
static bool stale_pattern(const char *name, long *pid)
{
    if (name[0] != '.')
        return false;
    for (const char *p = name + 2; (p = strchr(p, '.')) != NULL; p++) {
        if ((strncmp(p, ".tmp-", 5) == 0 || strncmp(p, ".old-", 5) == 0) && stale_tail(p + 5, pid))
            return true;
    }
    return false;
}

/*
 * Remove from @dir what dead processes left under hvlog's temporary names.
 * Inside a trace (@inside_trace) only the closing metadata's temporary
 * (".hvlog-trace.json.tmp-PID-0-0", commit_recording) is looked at: a
 * recorder killed while it wrote it leaves it in the finished directory.
 * Subdirectories of a plain @dir that are traces are looked into once;
 * a rotated recording's directory (@depth 0 only) is swept as a plain
 * directory, its chunks looked into as traces.
 */
static unsigned sweep_dir(const char *dir, bool inside_trace, unsigned depth)
{
    static const char closing_tmp[] = "." HVLOG_TRACE_META_FILE ".tmp-";
    unsigned removed = 0;
    const struct dirent *de;
    DIR *d = opendir(dir);

    while (d && (de = readdir(d)) != NULL) {
        struct stat st;
        long pid = 0;
        char *victim;

        if (inside_trace && strncmp(de->d_name, closing_tmp, sizeof closing_tmp - 1) != 0)
            continue;
        if (!inside_trace && de->d_name[0] != '.' && strcmp(de->d_name, "..") != 0) {
            /* A trace beside it: look inside for a dead recorder's closing. */
            char *sub = hvlog__export_join(dir, de->d_name);
            char *meta = sub ? hvlog__export_join(sub, HVLOG_TRACE_META_FILE) : NULL;

            if (meta && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) && lstat(meta, &st) == 0)
                removed += sweep_dir(sub, true, depth + 1);
            else if (sub && depth == 0 && hvlog_trace_is_rotated(sub))
                /* A rotated recording (rotate.c): a chunk's or the
                 * manifest's temporaries, and inside its chunks. */
                removed += sweep_dir(sub, false, 1);
            free(meta);
            free(sub);
            continue;
        }
        /* kill(pid, 0): ESRCH only when no such process exists; a live
         * PID (even another user's: EPERM) keeps its name. */
        if (!stale_pattern(de->d_name, &pid) || pid == (long)getpid() ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        victim = hvlog__export_join(dir, de->d_name);
        if (!victim)
            break;
        if (lstat(victim, &st) == 0) {
            if (S_ISDIR(st.st_mode) && !inside_trace)
                hvlog__export_remove_dir(victim);
            else if (!S_ISDIR(st.st_mode))
                (void)unlink(victim);
            removed += lstat(victim, &st) != 0;
        }
        free(victim);
    }
    if (d)
        closedir(d);
    return removed;
}

unsigned hvlog_trace_sweep_stale(const char *path)
{
    size_t len = path ? strlen(path) : 0;
    char *parent, *base, *slash;
    unsigned removed = 0;

    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len == 0 || !(parent = malloc(len + 3)))
        return 0;
    memcpy(parent, path, len);
    parent[len] = '\0';
    slash = strrchr(parent, '/');
    if (slash) {
        base = slash + 1;
        *slash = '\0';
        if (slash == parent) { /* "/x": the parent is "/" */
            memmove(parent + 2, base, strlen(base) + 1);
            parent[0] = '/';
            parent[1] = '\0';
            base = parent + 2;
        }
    } else {
        memmove(parent + 2, parent, len + 1);
        parent[0] = '.';
        parent[1] = '\0';
        base = parent + 2;
    }
    if (*base)
        removed = sweep_dir(parent, false, 0);
    free(parent);
    return removed;
}
