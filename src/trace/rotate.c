/* SPDX-License-Identifier: MIT */
/*
 * Rotating recordings (hvlog/trace/rotate.h, docs/trace-format.md section
 * 1.1): a trace directory of chunks, each an ordinary crash-safe recording
 * made by the trace writer, and a manifest, rotation.json.
 *
 *   start    check the size, write rotation.json in the staged parent,
 *            rename the parent into place, start chunk 0
 *   append   would the buffer take the chunk past max_bytes? commit it,
 *            start the next, then rotate out the oldest while more than
 *            keep chunks exist; append to the current chunk
 *   commit   commit the last chunk, rewrite rotation.json with the
 *            closing part
 *
 * Rotating a chunk out: its counts are added to the manifest's
 * "rotated_out", the manifest is replaced (written beside, fsync'ed,
 * renamed over: a reader sees the old or the new one), and only then is
 * the chunk's directory deleted. A crash between the two leaves a chunk
 * that the manifest already counts; readers skip chunks below
 * "first_chunk", so no buffer is ever counted twice or not at all.
 *
 * The size bound: a chunk's data files plus twice its closing metadata at
 * its largest (every counter at UINT64_MAX, measured once at start): the
 * commit writes the closing metadata beside the opening one before it
 * renames it over, so for a moment the chunk holds both. A chunk never
 * exceeds max_bytes, at any moment, whatever its counters become.
 *
 * The rotation's thread: a chunk's commit (its files and metadata
 * fsync'ed, the metadata renamed) and the rotating out of the oldest (the
 * manifest replaced, fsync'ed, the chunk deleted) take tens of
 * milliseconds, on a loaded disk more; on the recording's thread they
 * stalled the recorder long enough for the hypervisor's buffers to fill
 * and events to be lost (docs/cli.md "Bounded output"). So the recording
 * thread only starts the next chunk and hands the full one to a worker
 * thread, which commits it and rotates out what is beyond the keep
 * count; appends go on into the new chunk meanwhile. Two chunks at most
 * are being finished (ROT_FINISHING): at a rollover with two queued the
 * recorder waits for the worker first, so a worker that falls behind
 * slows the recorder and never grows memory or disk (at most keep + 2
 * chunks exist; the new one starts before the oldest goes). Every
 * guarantee stays the
 * worker's: the finished chunk stays locked by its writer until its
 * commit, the manifest counts a chunk before it is deleted, the parent's
 * lock is held by the rotation for the whole recording. A worker failure
 * becomes the writer's sticky failure, seen at the next append (an
 * atomic flag, tested on each) or at the latest at the commit, which
 * waits for the worker before the last chunk and the closing manifest.
 * Shared state and who touches it: the job queue under the mutex;
 * first_kept, out and the manifest the worker's while a job is pending,
 * the recorder's once it waited for every job (commit); ring slots of
 * chunks being rotated out are read by the worker, the recorder writes
 * only the current chunk's slot, which the worker merged (rotated out)
 * before the recorder could reuse it (ring_len, next_chunk).
 *
 * Counting: the writer walks each buffer it takes (hvlog_buffer_walk, no
 * callback) for its LP, entries and EventsLost, as the client that
 * released it did; the trace writer's API takes bytes only, and every
 * recorder (sim, kvm, a real root) gets rotation through it unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/trace_internal.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/json.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"
#include "hvlog/trace/walk.h"

/* One log type's counts in one chunk (or rotated out): the total, and per
 * LP below HVLOG_TRACE_ROTATION_MAX_LPS, indexed by LP. */
struct rot_type {
    struct hvlog_trace_rotation_counts total;
    struct hvlog_trace_rotation_counts *lp;
    uint32_t lp_len;
};

struct rot_chunk {
    struct rot_type t[HVLOG_TRACE_MAX_GROUPS];
};

/* Full chunks being finished by the rotation's thread at most (the top of
 * the file): two absorb one slow commit (a loaded disk's fsync) without
 * stalling the recorder, and bound what exists to keep + 2 chunks. */
#define ROT_FINISHING 2u

struct trace_rotation {
    char *path;                 /* the parent directory, TRACE */
    unsigned flags;             /* the writer's create flags */
    uint64_t max_bytes;
    uint32_t keep;              /* 0: keep every chunk */
    unsigned file_mode;
    long long uid, gid;
    int dir_fd;                 /* TRACE, for the manifest's rename */
    struct hvlog_trace_meta opening; /* every chunk's metadata; owns command_line */
    uint64_t reserve;           /* a chunk's closing metadata at its largest */
    struct hvlog_trace_writer *chunk; /* the chunk being written, or NULL */
    uint64_t chunk_bytes;       /* data bytes in it */
    uint64_t current;           /* its number */
    uint64_t first_kept;        /* chunks below were rotated out */
    struct rot_chunk *ring;     /* chunks first_kept..current at [n % ring_len] */
    uint32_t ring_len;
    struct rot_chunk out;       /* rotated out, summed */
    uint64_t buffers[HVLOG_TRACE_MAX_GROUPS]; /* the whole recording's */
    struct hvlog_export_error failure; /* sticky, as the writer's */
    /* The rotation's thread (top of the file). */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool sync_ready;            /* lock and cond initialised */
    pthread_t worker;
    bool worker_started;
    bool stop;                  /* under lock: finish the job, then exit */
    struct {                    /* under lock: jobs[head..head+pending), oldest first */
        struct hvlog_trace_writer *w;  /* the full chunk, committed by the worker */
        struct hvlog_trace_meta closing; /* its closing metadata (shallow) */
        uint64_t current;              /* the chunk being written meanwhile */
    } jobs[ROT_FINISHING];
    uint32_t head, pending;
    struct hvlog_export_error worker_failure; /* under lock; the first only */
    atomic_bool worker_failed;
};

/* The one place a chunk's writer flags come from: the rotating writer's
 * own (a flag that changes how files are written applies to every chunk),
 * less FORCE, which is about replacing the parent and every chunk name is
 * new, plus no sweep (the parent was swept when it was created). */
static unsigned chunk_flags(unsigned flags)
{
    return (flags & ~HVLOG_TRACE_FORCE) | TRACE_WRITER_NO_SWEEP;
}

void hvlog_trace_chunk_name(uint64_t index, char *buf, size_t size)
{
    snprintf(buf, size, HVLOG_TRACE_CHUNK_PREFIX "%06" PRIu64, index);
}

static enum hvlog_export_status stuck(const struct trace_rotation *r, struct hvlog_export_error *err)
{
    if (err)
        *err = r->failure;
    return r->failure.status;
}

/* ---- counting ---- */

static void rot_type_clear(struct rot_type *t)
{
    memset(&t->total, 0, sizeof t->total);
    if (t->lp)
        memset(t->lp, 0, (size_t)t->lp_len * sizeof(*t->lp));
}

static void rot_chunk_free(struct rot_chunk *c)
{
    for (uint32_t i = 0; i < HVLOG_TRACE_MAX_GROUPS; i++)
        free(c->t[i].lp);
    memset(c, 0, sizeof(*c));
}

/* Room for LP @lp in @t (zeroed); false when out of memory. */
static bool rot_type_reserve(struct rot_type *t, uint32_t lp)
{
    struct hvlog_trace_rotation_counts *more;
    uint32_t len;

    if (lp < t->lp_len)
        return true;
    len = t->lp_len * 2 > lp + 1 ? t->lp_len * 2 : lp + 1;
    if (len > HVLOG_TRACE_ROTATION_MAX_LPS)
        len = HVLOG_TRACE_ROTATION_MAX_LPS;
    more = realloc(t->lp, (size_t)len * sizeof(*more));
    if (!more)
        return false;
    memset(more + t->lp_len, 0, (size_t)(len - t->lp_len) * sizeof(*more));
    t->lp = more;
    t->lp_len = len;
    return true;
}

static void counts_add(struct hvlog_trace_rotation_counts *to,
                       const struct hvlog_trace_rotation_counts *c)
{
    to->buffers += c->buffers;
    to->entries += c->entries;
    to->events_lost += c->events_lost;
}

/* One buffer of @type into @c; false when out of memory. */
static bool count_buffer(struct rot_chunk *c, uint32_t type, uint32_t lp,
                         const struct hvlog_trace_rotation_counts *one)
{
    struct rot_type *t = &c->t[type];

    counts_add(&t->total, one);
    if (lp >= HVLOG_TRACE_ROTATION_MAX_LPS) /* in the type's total only */
        return true;
    if (!rot_type_reserve(t, lp))
        return false;
    counts_add(&t->lp[lp], one);
    return true;
}

/* @from's counts into @to (the rotated-out sum); false when out of memory. */
static bool merge_chunk(struct rot_chunk *to, const struct rot_chunk *from)
{
    for (uint32_t type = 0; type < HVLOG_TRACE_MAX_GROUPS; type++) {
        const struct rot_type *f = &from->t[type];

        counts_add(&to->t[type].total, &f->total);
        for (uint32_t lp = f->lp_len; lp-- > 0;) {
            if (f->lp[lp].buffers == 0)
                continue;
            if (!rot_type_reserve(&to->t[type], lp))
                return false;
            counts_add(&to->t[type].lp[lp], &f->lp[lp]);
        }
    }
    return true;
}

/* ---- the manifest ---- */

static void json_counts(struct hvlog_json_writer *w, const struct hvlog_trace_rotation_counts *c)
{
    hvlog_json_member_u64(w, "buffers", c->buffers);
    hvlog_json_member_u64(w, "entries", c->entries);
    hvlog_json_member_u64(w, "events_lost", c->events_lost);
}

/* rotation.json to @fd; @closing (NULL while recording) adds the closing
 * part: the client's statistics and the host section's per-LP truths. */
static enum hvlog_export_status manifest_write(const struct trace_rotation *r, int fd,
                                              const struct hvlog_trace_meta *closing,
                                              struct hvlog_export_error *err)
{
    struct hvlog__trace_fd_sink sink = {fd, 0};
    struct hvlog_json_writer *w = hvlog_json_writer_create(hvlog__trace_fd_sink_write, &sink, HVLOG_JSON_PRETTY);
    enum hvlog_export_status status;

    if (!w)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "format", HVLOG_TRACE_ROTATION_FORMAT);
    hvlog_json_member_u64(w, "version", HVLOG_TRACE_ROTATION_VERSION);
    hvlog_json_member_u64(w, "max_size", r->max_bytes);
    hvlog_json_member_u64(w, "rotate", r->keep);
    hvlog_json_member_u64(w, "first_chunk", r->first_kept);
    hvlog_json_key(w, "rotated_out");
    hvlog_json_array_begin(w);
    for (uint32_t type = 0; type < HVLOG_TRACE_MAX_GROUPS; type++) {
        const struct rot_type *t = &r->out.t[type];
        const char *name = hvlog_eventlog_type_name(type);

        if (t->total.buffers == 0)
            continue;
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "type", type);
        hvlog_json_member_string(w, "name", name ? name : "");
        json_counts(w, &t->total);
        hvlog_json_key(w, "lps");
        hvlog_json_array_begin(w);
        for (uint32_t lp = 0; lp < t->lp_len; lp++) {
            if (t->lp[lp].buffers == 0)
                continue;
            hvlog_json_object_begin(w);
            hvlog_json_member_u64(w, "lp", lp);
            json_counts(w, &t->lp[lp]);
            hvlog_json_object_end(w);
        }
        hvlog_json_array_end(w);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    if (closing) {
        hvlog_json_key(w, "closing");
        hvlog_json_object_begin(w);
        hvlog__trace_json_closing_counters(w, closing);
        hvlog_json_object_end(w);
        if (closing->lp_count > 0 && closing->lps) {
            /* The simulator's truths for the whole recording (the host
             * section a plain recording has in hvlog-trace.json). */
            hvlog_json_key(w, "host");
            hvlog_json_object_begin(w);
            hvlog__trace_json_lp_counts(w, closing->lps, closing->lp_count);
            hvlog_json_object_end(w);
        }
    }
    hvlog_json_object_end(w);
    status = hvlog_json_writer_close(w);
    if (status == HVLOG_EXPORT_IO)
        return hvlog__export_fail(err, status, "%s/%s: write failed: %s", r->path,
                           HVLOG_TRACE_ROTATION_FILE, strerror(sink.error ? sink.error : EIO));
    if (status != HVLOG_EXPORT_OK)
        return hvlog__export_fail(err, status, "%s/%s: could not be formatted", r->path,
                           HVLOG_TRACE_ROTATION_FILE);
    return HVLOG_EXPORT_OK;
}

static int apply_access(const struct trace_rotation *r, int fd)
{
    if (fchmod(fd, (mode_t)r->file_mode) != 0)
        return errno;
    if ((r->uid >= 0 || r->gid >= 0) &&
        fchown(fd, r->uid >= 0 ? (uid_t)r->uid : (uid_t)-1, r->gid >= 0 ? (gid_t)r->gid : (gid_t)-1) != 0)
        return errno;
    return 0;
}

/* Replace rotation.json in @dir_fd: written beside under the closing
 * temporary pattern hvlog_trace_sweep_stale knows, fsync'ed, renamed over
 * (atomic), the directory fsync'ed. */
static enum hvlog_export_status manifest_replace(struct trace_rotation *r, int dir_fd,
                                                const struct hvlog_trace_meta *closing,
                                                struct hvlog_export_error *err)
{
    enum hvlog_export_status status = HVLOG_EXPORT_OK;
    char tmp[64];
    int fd, e;

    snprintf(tmp, sizeof tmp, "." HVLOG_TRACE_ROTATION_FILE ".tmp-%ld-0-0", (long)getpid());
    (void)unlinkat(dir_fd, tmp, 0); /* ours, from an earlier try: the PID is ours */
    fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    e = fd < 0 ? errno : apply_access(r, fd);
    if (e != 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", r->path, HVLOG_TRACE_ROTATION_FILE,
                             strerror(e));
    if (status == HVLOG_EXPORT_OK)
        status = manifest_write(r, fd, closing, err);
    if (fd >= 0) {
        e = hvlog__export_close_synced(fd);
        if (status == HVLOG_EXPORT_OK && e != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", r->path,
                                 HVLOG_TRACE_ROTATION_FILE, strerror(e));
    }
    if (status == HVLOG_EXPORT_OK &&
        renameat(dir_fd, tmp, dir_fd, HVLOG_TRACE_ROTATION_FILE) != 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s/%s: %s", r->path, HVLOG_TRACE_ROTATION_FILE,
                             strerror(errno));
    if (status != HVLOG_EXPORT_OK) {
        if (fd >= 0)
            (void)unlinkat(dir_fd, tmp, 0);
        return status;
    }
    (void)fsync(dir_fd);
    return HVLOG_EXPORT_OK;
}

/* ---- chunks ---- */

/* The metadata bytes a chunk may hold: its closing metadata at its
 * largest (the opening document with every counter the commit fills at
 * UINT64_MAX), twice (see the top of the file). */
static enum hvlog_export_status measure_reserve(struct trace_rotation *r,
                                                struct hvlog_export_error *err)
{
    struct hvlog_trace_meta m = r->opening;
    enum hvlog_export_status status;
    struct stat st;
    char tmp[64];
    int fd;

    /* Written in the staged parent (ours, removed on failure) under
     * hvlog_trace_sweep_stale's pattern, and unlinked at once. */
    snprintf(tmp, sizeof tmp, ".measure.tmp-%ld-0-0", (long)getpid());
    (void)unlinkat(r->dir_fd, tmp, 0);
    fd = openat(r->dir_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", r->path, strerror(errno));
    m.closed = true;
    memset(&m.stats, 0xff, sizeof m.stats);
    for (uint32_t i = 0; i < m.group_count; i++) {
        m.groups[i].buffers_written = UINT64_MAX;
        m.groups[i].buffers_written_known = true;
        /* As the chunk's writer will say it (trace_writer.c as_written). */
        if (r->flags & HVLOG_TRACE_COMPRESS)
            m.groups[i].compression = HVLOG_TRACE_COMPRESSION_ZSTD;
    }
    status = hvlog__export_meta_write(fd, &m, err);
    if (status == HVLOG_EXPORT_OK && fstat(fd, &st) != 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", r->path, strerror(errno));
    if (status == HVLOG_EXPORT_OK) /* the opening and the closing metadata, at commit */
        r->reserve = 2 * (uint64_t)st.st_size;
    close(fd);
    (void)unlinkat(r->dir_fd, tmp, 0);
    return status;
}

static enum hvlog_export_status chunk_start(struct trace_rotation *r, struct hvlog_export_error *err)
{
    char name[32], *path;
    enum hvlog_export_status status;
    struct hvlog_trace_writer *w = NULL;
    struct rot_chunk *c = &r->ring[r->current % r->ring_len];

    hvlog_trace_chunk_name(r->current, name, sizeof name);
    path = hvlog__export_join(r->path, name);
    if (!path)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    status = hvlog_trace_writer_create(path, chunk_flags(r->flags), &w, err);
    free(path);
    if (status == HVLOG_EXPORT_OK)
        status = hvlog_trace_writer_access(w, r->file_mode, r->uid, r->gid, err);
    if (status != HVLOG_EXPORT_OK) {
        hvlog_trace_writer_abort(w);
        return status;
    }
    status = hvlog_trace_writer_start(w, &r->opening, err); /* frees w on failure */
    if (status != HVLOG_EXPORT_OK)
        return status;
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++)
        rot_type_clear(&c->t[t]);
    r->chunk = w;
    r->chunk_bytes = 0;
    return HVLOG_EXPORT_OK;
}

/* Commit the current chunk: the opening metadata with the chunk's own
 * closing statistics (the delivery counters, messages and longest ready
 * list, are the whole recording's: the manifest has them). */
static struct hvlog_trace_meta chunk_closing(const struct trace_rotation *r)
{
    const struct rot_chunk *c = &r->ring[r->current % r->ring_len];
    struct hvlog_trace_meta m = r->opening;

    m.closed = true;
    memset(&m.stats, 0, sizeof m.stats);
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        m.stats.buffers += c->t[t].total.buffers;
        m.stats.entries += c->t[t].total.entries;
        m.stats.events_lost += c->t[t].total.events_lost;
    }
    return m;
}

static enum hvlog_export_status chunk_commit(struct trace_rotation *r, struct hvlog_export_error *err)
{
    struct hvlog_trace_meta m = chunk_closing(r);
    struct hvlog_trace_writer *w = r->chunk;

    r->chunk = NULL;
    return hvlog_trace_writer_commit(w, &m, err); /* frees w in every case */
}

/* Rotate the oldest kept chunk out: count it in the manifest first, then
 * delete it. */
static enum hvlog_export_status rotate_out_oldest(struct trace_rotation *r,
                                                 struct hvlog_export_error *err)
{
    struct rot_chunk *oldest = &r->ring[r->first_kept % r->ring_len];
    char name[32], *path;
    enum hvlog_export_status status;

    if (!merge_chunk(&r->out, oldest))
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    hvlog_trace_chunk_name(r->first_kept, name, sizeof name);
    r->first_kept++;
    status = manifest_replace(r, r->dir_fd, NULL, err);
    if (status != HVLOG_EXPORT_OK)
        return status;
    path = hvlog__export_join(r->path, name);
    if (!path)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    /* A chunk holds plain files only (trace.h). If the removal fails the
     * chunk stays, already counted rotated out: readers skip it. */
    hvlog__export_remove_dir(path);
    free(path);
    return HVLOG_EXPORT_OK;
}

/* ---- the rotation's thread ---- */

/* The worker's part of a rollover: commit the full chunk, then rotate out
 * the oldest while more than keep chunks exist. */
static enum hvlog_export_status finish_chunk(struct trace_rotation *r, struct hvlog_trace_writer *w,
                                             const struct hvlog_trace_meta *closing,
                                             uint64_t current, struct hvlog_export_error *err)
{
    enum hvlog_export_status status = hvlog_trace_writer_commit(w, closing, err); /* frees w */

    while (status == HVLOG_EXPORT_OK && r->keep && current - r->first_kept + 1 > r->keep)
        status = rotate_out_oldest(r, err);
    return status;
}

static void *worker_main(void *arg)
{
    struct trace_rotation *r = arg;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        struct hvlog_export_error e = {HVLOG_EXPORT_OK, ""};
        struct hvlog_trace_meta closing;
        struct hvlog_trace_writer *w;
        uint64_t current;
        bool failed;

        while (r->pending == 0 && !r->stop)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->pending == 0) /* stopping, and nothing left to finish */
            break;
        w = r->jobs[r->head].w;
        closing = r->jobs[r->head].closing;
        current = r->jobs[r->head].current;
        failed = r->worker_failure.status != HVLOG_EXPORT_OK;
        pthread_mutex_unlock(&r->lock);
        /* A job queued before the recorder saw a failure: its chunk is
         * committed (whole, finished) but nothing more is rotated out, and
         * only the first failure is reported. */
        if (failed)
            (void)hvlog_trace_writer_commit(w, &closing, NULL);
        else
            (void)finish_chunk(r, w, &closing, current, &e);
        pthread_mutex_lock(&r->lock);
        if (e.status != HVLOG_EXPORT_OK && r->worker_failure.status == HVLOG_EXPORT_OK) {
            r->worker_failure = e;
            atomic_store_explicit(&r->worker_failed, true, memory_order_release);
        }
        r->jobs[r->head].w = NULL;
        r->head = (r->head + 1) % ROT_FINISHING;
        r->pending--;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Wait until the worker has at most @most jobs left; its failure, if any,
 * becomes the writer's sticky failure (once: r->failure keeps the first). */
static void wait_worker(struct trace_rotation *r, uint32_t most)
{
    if (!r->worker_started)
        return;
    pthread_mutex_lock(&r->lock);
    while (r->pending > most)
        pthread_cond_wait(&r->cond, &r->lock);
    if (r->worker_failure.status != HVLOG_EXPORT_OK && r->failure.status == HVLOG_EXPORT_OK)
        r->failure = r->worker_failure;
    pthread_mutex_unlock(&r->lock);
}

/* The worker's failure, without waiting for it, into r->failure. */
static void poll_worker(struct trace_rotation *r)
{
    if (!atomic_load_explicit(&r->worker_failed, memory_order_acquire))
        return;
    pthread_mutex_lock(&r->lock);
    if (r->failure.status == HVLOG_EXPORT_OK)
        r->failure = r->worker_failure;
    pthread_mutex_unlock(&r->lock);
}

static enum hvlog_export_status start_worker(struct trace_rotation *r, struct hvlog_export_error *err)
{
    sigset_t all, old;
    int e;

    /* The worker takes no signal: the recorder's loop sees them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&r->worker, NULL, worker_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot start the rotation's thread: %s",
                           r->path, strerror(e));
    r->worker_started = true;
    return HVLOG_EXPORT_OK;
}

static void stop_worker(struct trace_rotation *r)
{
    if (!r->worker_started)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->worker, NULL); /* it finishes a pending job first */
    r->worker_started = false;
}

static enum hvlog_export_status next_chunk(struct trace_rotation *r, struct hvlog_export_error *err)
{
    struct hvlog_trace_meta closing;
    struct hvlog_trace_writer *full;
    enum hvlog_export_status status;

    /* ROT_FINISHING chunks at most being finished: wait for room. The
     * job finished last rotated out the chunk whose ring slot chunk_start
     * reuses (ring_len). */
    wait_worker(r, ROT_FINISHING - 1);
    if (r->failure.status != HVLOG_EXPORT_OK)
        return stuck(r, err);
    closing = chunk_closing(r);
    full = r->chunk;
    r->chunk = NULL;
    r->current++;
    /* The new chunk starts before the full one is finished and the oldest
     * goes: a crash in between leaves one chunk more, never one less than
     * asked. */
    status = chunk_start(r, err);
    if (status != HVLOG_EXPORT_OK) {
        /* Nothing will be appended any more: the full chunk is finished
         * here, and kept (not rotated out). */
        (void)hvlog_trace_writer_commit(full, &closing, NULL);
        return status;
    }
    pthread_mutex_lock(&r->lock);
    {
        uint32_t tail = (r->head + r->pending) % ROT_FINISHING;

        r->jobs[tail].w = full;
        r->jobs[tail].closing = closing;
        r->jobs[tail].current = r->current;
        r->pending++;
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return HVLOG_EXPORT_OK;
}

/* ---- the internal API (trace_writer.c) ---- */

enum hvlog_export_status hvlog__trace_rotation_create(const char *path, unsigned flags, uint64_t max_bytes,
                                               uint32_t keep, struct trace_rotation **out,
                                               struct hvlog_export_error *err)
{
    struct trace_rotation *r;

    *out = NULL;
    if (max_bytes == 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: a chunk size of 0 bytes", path);
    if (keep > UINT32_MAX - ROT_FINISHING) /* ring_len below must not wrap */
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: %u chunks to keep is too many", path, keep);
    r = calloc(1, sizeof(*r));
    if (!r || !(r->path = hvlog__export_strdup(path))) {
        free(r);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    /* Chunks first_kept..current: at most keep + ROT_FINISHING at once (the
     * new one starts before the oldest goes, and the worker may be that
     * far behind); chunk_start reuses the slot of chunk current - ring_len,
     * rotated out by the job that had to finish before it (next_chunk).
     * With keep 0 nothing is rotated out: the recorder computes a full
     * chunk's closing counts before it reuses the one slot. */
    r->ring_len = keep ? keep + ROT_FINISHING : 1;
    r->ring = calloc(r->ring_len, sizeof(*r->ring));
    if (!r->ring) {
        free(r->path);
        free(r);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r->ring);
        free(r->path);
        free(r);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    if (pthread_cond_init(&r->cond, NULL) != 0) {
        pthread_mutex_destroy(&r->lock);
        free(r->ring);
        free(r->path);
        free(r);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    r->sync_ready = true;
    atomic_init(&r->worker_failed, false);
    r->flags = flags;
    r->max_bytes = max_bytes;
    r->keep = keep;
    r->dir_fd = -1;
    r->uid = r->gid = -1;
    *out = r;
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog__trace_rotation_start(struct trace_rotation *r,
                                              struct export_staged_dir *parent, unsigned file_mode,
                                              long long uid, long long gid,
                                              const struct hvlog_trace_meta *meta,
                                              struct hvlog_export_error *err)
{
    enum hvlog_export_status status;
    uint64_t largest = 0;

    if (!meta)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no metadata", r->path);
    if (meta->records_count)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "%s: a records file (the diaglog's) cannot be rotated", r->path);
    r->file_mode = file_mode;
    r->uid = uid;
    r->gid = gid;
    r->opening = *meta;
    r->opening.command_line = NULL;
    r->opening.lps = NULL; /* the per-LP truths go to the manifest, at the end */
    r->opening.lp_count = 0;
    r->opening.closed = false;
    if (meta->command_line && !(r->opening.command_line = hvlog__export_strdup(meta->command_line)))
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    r->dir_fd = open(parent->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dir_fd < 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", r->path, strerror(errno));
    /* The parent is locked for the whole recording, as a trace directory
     * is (trace_writer.c): between one chunk's commit and the next one's
     * start no chunk holds its lock, and --force must still see a live
     * recorder (being_recorded). Released when the descriptor closes. */
    if (flock(r->dir_fd, LOCK_EX | LOCK_NB) != 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot lock it: %s", r->path, strerror(errno));
    status = measure_reserve(r, err);
    for (uint32_t i = 0; i < meta->group_count; i++) {
        uint64_t bytes = (uint64_t)meta->groups[i].buffer_pages * HV_PAGE_SIZE;

        if ((r->flags & HVLOG_TRACE_COMPRESS) && bytes <= UINT32_MAX) /* as append charges it */
            bytes = hvlog__export_zframe_bound((uint32_t)bytes);
        if (bytes > largest)
            largest = bytes;
    }
    if (status == HVLOG_EXPORT_OK && r->max_bytes < r->reserve + largest)
        status = hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                             "%s: chunks of at most %" PRIu64 " bytes cannot hold one %" PRIu64
                             "-byte buffer and the %" PRIu64 " bytes of a chunk's metadata: at least %" PRIu64
                             " bytes",
                             r->path, r->max_bytes, largest, r->reserve, r->reserve + largest);
    if (status == HVLOG_EXPORT_OK)
        status = start_worker(r, err); /* before anything appears: a failure leaves nothing */
    if (status != HVLOG_EXPORT_OK)
        return status;
    /* The manifest first, in the staged parent: the rotated trace appears
     * under its name with it, then chunk 0 beside it. */
    status = manifest_replace(r, r->dir_fd, NULL, err);
    if (status != HVLOG_EXPORT_OK)
        return status;
    status = hvlog__export_staged_dir_commit(parent, err); /* aborts the directory itself on failure */
    if (status != HVLOG_EXPORT_OK)
        return status;
    status = chunk_start(r, err);
    if (status != HVLOG_EXPORT_OK) {
        /* Nothing was recorded: take the parent away again, so that a
         * failed start leaves nothing (the manifest is its only file). */
        (void)unlinkat(r->dir_fd, HVLOG_TRACE_ROTATION_FILE, 0);
        (void)rmdir(r->path);
    }
    return status;
}

enum hvlog_export_status hvlog__trace_rotation_append(struct trace_rotation *r, uint32_t type,
                                               const uint8_t *bytes, size_t len,
                                               struct hvlog_export_error *err)
{
    const struct hvlog_walk_expect any = HVLOG_WALK_EXPECT_ANY;
    const struct hvlog_trace_group *g;
    struct hvlog_buffer_summary s;
    struct hvlog_trace_rotation_counts one = {1, 0, 0};
    uint32_t lp = UINT32_MAX;
    enum hvlog_export_status status;
    /* What the buffer may take on disk: a compressed unit is counted at
     * its largest (prefix and zstd's bound), so a chunk stays within
     * max_bytes even for incompressible buffers; compressed chunks then
     * hold as many buffers as plain ones and are smaller on disk. */
    uint64_t charge = (r->flags & HVLOG_TRACE_COMPRESS) && len <= UINT32_MAX
                          ? (uint64_t)hvlog__export_zframe_bound((uint32_t)len)
                          : (uint64_t)len;

    poll_worker(r);
    if (r->failure.status != HVLOG_EXPORT_OK)
        return stuck(r, err);
    if (!r->chunk)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: the rotation has not started", r->path);
    g = type < HVLOG_TRACE_MAX_GROUPS ? hvlog_trace_meta_group(&r->opening, type) : NULL;
    if (!g)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "%s: buffers of log type %u, which the metadata does not describe",
                           r->path, type);
    if (r->chunk_bytes > 0 && r->chunk_bytes + charge + r->reserve > r->max_bytes) {
        status = next_chunk(r, &r->failure);
        if (status != HVLOG_EXPORT_OK)
            return stuck(r, err);
    }
    status = hvlog_trace_writer_append(r->chunk, type, bytes, len, &r->failure);
    if (status != HVLOG_EXPORT_OK)
        return stuck(r, err);
    /* The client checked the buffer before releasing it; one that fails
     * here is counted in its type's total only. */
    if (hvlog_buffer_walk(bytes, len, g->convention, &any, &s, NULL, NULL) == HVLOG_WALK_OK) {
        lp = s.logical_processor;
        one.entries = s.entries;
        one.events_lost = s.events_lost;
    }
    if (!count_buffer(&r->ring[r->current % r->ring_len], type, lp, &one)) {
        hvlog__export_fail(&r->failure, HVLOG_EXPORT_NOMEM, "out of memory");
        return stuck(r, err);
    }
    r->chunk_bytes += charge;
    r->buffers[type]++;
    return HVLOG_EXPORT_OK;
}

uint64_t hvlog__trace_rotation_buffers(const struct trace_rotation *r, uint32_t type)
{
    return r && type < HVLOG_TRACE_MAX_GROUPS ? r->buffers[type] : 0;
}

enum hvlog_export_status hvlog__trace_rotation_flush(struct trace_rotation *r,
                                              struct hvlog_export_error *err)
{
    if (r->failure.status != HVLOG_EXPORT_OK)
        return stuck(r, err);
    /* A full chunk is the rotation thread's to commit, which writes it all. */
    return r->chunk ? hvlog_trace_writer_flush(r->chunk, err) : HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog__trace_rotation_commit(struct trace_rotation *r,
                                               const struct hvlog_trace_meta *meta,
                                               struct hvlog_export_error *err)
{
    enum hvlog_export_status status;

    /* The worker's chunk first: the manifest's rotated-out part and
     * first_chunk are final only then. */
    wait_worker(r, 0);
    if (r->failure.status != HVLOG_EXPORT_OK)
        return stuck(r, err);
    if (!r->chunk || !meta)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: the rotation has not started", r->path);
    if (meta->lp_count > 0 && !meta->lps)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "trace metadata: lp_count without lps");
    status = chunk_commit(r, err);
    if (status == HVLOG_EXPORT_OK)
        status = manifest_replace(r, r->dir_fd, meta, err);
    return status;
}

void hvlog__trace_rotation_destroy(struct trace_rotation *r)
{
    if (!r)
        return;
    stop_worker(r); /* a chunk it was finishing is finished */
    hvlog_trace_writer_abort(r->chunk); /* a started chunk stays, whole */
    if (r->dir_fd >= 0)
        close(r->dir_fd);
    for (uint32_t i = 0; i < r->ring_len; i++)
        rot_chunk_free(&r->ring[i]);
    rot_chunk_free(&r->out);
    free(r->ring);
    free(r->opening.command_line);
    free(r->path);
    if (r->sync_ready) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
    }
    free(r);
}

/* ---- reading ---- */

bool hvlog_trace_is_rotated(const char *path)
{
    char *manifest = path ? hvlog__export_join(path, HVLOG_TRACE_ROTATION_FILE) : NULL;
    struct stat st;
    bool yes = manifest && stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
               lstat(manifest, &st) == 0 && S_ISREG(st.st_mode);

    free(manifest);
    return yes;
}

void hvlog_trace_rotation_release(struct hvlog_trace_rotation *rot)
{
    if (!rot)
        return;
    for (uint32_t i = 0; i < HVLOG_TRACE_MAX_GROUPS; i++)
        free(rot->types[i].lps);
    free(rot->lps);
    free(rot->chunks);
    memset(rot, 0, sizeof(*rot));
}

struct rot_parse {
    struct hvlog_export_error *err;
    const char *file; /* TRACE/rotation.json, for messages */
};

static enum hvlog_export_status bad(const struct rot_parse *p, const char *key, const char *what)
{
    return hvlog__export_fail(p->err, HVLOG_EXPORT_BAD_META, "%s: %s: %s", p->file, key, what);
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        enum hvlog_export_status try_ = (x);                                                       \
        if (try_ != HVLOG_EXPORT_OK)                                                               \
            return try_;                                                                           \
    } while (0)

static enum hvlog_export_status get_u64(const struct rot_parse *p, const json_t *obj,
                                        const char *key, bool required, uint64_t max, uint64_t *out)
{
    const json_t *n = json_object_get(obj, key);
    uint64_t v;

    if (!n)
        return required ? bad(p, key, "missing") : HVLOG_EXPORT_OK;
    if (!hvlog__export_json_u64(n, &v))
        return bad(p, key, "not an unsigned 64-bit integer");
    if (v > max)
        return bad(p, key, "out of range");
    *out = v;
    return HVLOG_EXPORT_OK;
}

static enum hvlog_export_status get_counts(const struct rot_parse *p, const json_t *obj,
                                           struct hvlog_trace_rotation_counts *c)
{
    TRY(get_u64(p, obj, "buffers", true, UINT64_MAX, &c->buffers));
    TRY(get_u64(p, obj, "entries", true, UINT64_MAX, &c->entries));
    return get_u64(p, obj, "events_lost", true, UINT64_MAX, &c->events_lost);
}

static enum hvlog_export_status parse_rotated_out(const struct rot_parse *p, const json_t *arr,
                                                  struct hvlog_trace_rotation *rot)
{
    if (!json_is_array(arr))
        return bad(p, "rotated_out", "not an array");
    if (json_array_size(arr) > HVLOG_TRACE_MAX_GROUPS)
        return bad(p, "rotated_out", "more log types than there are");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *n = json_array_get(arr, i), *lps;
        struct hvlog_trace_rotation_type *t = &rot->types[rot->type_count];
        uint64_t type = 0;

        if (!json_is_object(n))
            return bad(p, "rotated_out[]", "not an object");
        TRY(get_u64(p, n, "type", true, HVLOG_TRACE_MAX_GROUPS - 1, &type));
        for (uint32_t j = 0; j < rot->type_count; j++) {
            if (rot->types[j].type == type)
                return bad(p, "rotated_out[].type", "repeated");
        }
        t->type = (uint32_t)type;
        rot->type_count++;
        TRY(get_counts(p, n, &t->total));
        lps = json_object_get(n, "lps");
        if (!json_is_array(lps))
            return bad(p, "rotated_out[].lps", "missing or not an array");
        if (json_array_size(lps) > HVLOG_TRACE_ROTATION_MAX_LPS)
            return bad(p, "rotated_out[].lps", "more LPs than a rotation counts");
        t->lps = calloc(json_array_size(lps) + 1, sizeof(*t->lps));
        if (!t->lps)
            return hvlog__export_fail(p->err, HVLOG_EXPORT_NOMEM, "out of memory");
        for (size_t k = 0; k < json_array_size(lps); k++) {
            const json_t *l = json_array_get(lps, k);
            uint64_t lp = 0;

            if (!json_is_object(l))
                return bad(p, "rotated_out[].lps[]", "not an object");
            TRY(get_u64(p, l, "lp", true, HVLOG_TRACE_ROTATION_MAX_LPS - 1, &lp));
            if (t->lp_count && lp <= t->lps[t->lp_count - 1].lp)
                return bad(p, "rotated_out[].lps[].lp", "not in ascending order");
            t->lps[t->lp_count].lp = (uint32_t)lp;
            TRY(get_counts(p, l, &t->lps[t->lp_count].counts));
            t->lp_count++;
        }
    }
    return HVLOG_EXPORT_OK;
}

static enum hvlog_export_status parse_closing(const struct rot_parse *p, const json_t *root,
                                              struct hvlog_trace_rotation *rot)
{
    const json_t *c = json_object_get(root, "closing"), *host, *lps;

    if (!c)
        return HVLOG_EXPORT_OK;
    if (!json_is_object(c))
        return bad(p, "closing", "not an object");
    rot->closed = true;
#define READ_CLOSING(field) TRY(get_u64(p, c, #field, false, UINT64_MAX, &rot->stats.field));
    HVLOG_TRACE_CLOSING_COUNTERS(READ_CLOSING)
#undef READ_CLOSING
    host = json_object_get(root, "host");
    if (!host)
        return HVLOG_EXPORT_OK;
    lps = json_object_get(host, "lp_counts");
    if (!json_is_object(host) || !json_is_array(lps))
        return bad(p, "host.lp_counts", "missing or not an array");
    /* From a text below 16 MiB: fewer than 2^32 elements. */
    rot->lps = calloc(json_array_size(lps) + 1, sizeof(*rot->lps));
    if (!rot->lps)
        return hvlog__export_fail(p->err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (uint32_t i = 0; i < json_array_size(lps); i++) {
        const json_t *n = json_array_get(lps, i);
        struct hvlog_trace_lp *lp = &rot->lps[i];
        uint64_t v = i;

        if (!json_is_object(n))
            return bad(p, "host.lp_counts[]", "not an object");
        TRY(get_u64(p, n, "lp", false, UINT32_MAX, &v));
        lp->lp = (uint32_t)v;
#define READ_LP_COUNTER(field) TRY(get_u64(p, n, #field, false, UINT64_MAX, &lp->field));
        HVLOG_TRACE_LP_COUNTERS(READ_LP_COUNTER)
#undef READ_LP_COUNTER
        rot->lp_count = i + 1;
    }
    return HVLOG_EXPORT_OK;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The chunks in @dir numbered first_chunk or more, ascending. */
static enum hvlog_export_status list_chunks(const char *dir, struct hvlog_trace_rotation *rot,
                                            struct hvlog_export_error *err)
{
    static const char prefix[] = HVLOG_TRACE_CHUNK_PREFIX;
    DIR *d = opendir(dir);
    const struct dirent *de;
    size_t cap = 0;

    if (!d)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        char canonical[32];
        struct stat st;
        uint64_t index;
        char *end;

        if (strncmp(de->d_name, prefix, sizeof prefix - 1) != 0)
            continue;
        errno = 0;
        index = strtoull(de->d_name + sizeof prefix - 1, &end, 10);
        hvlog_trace_chunk_name(index, canonical, sizeof canonical);
        /* Exactly the name the writer gives: no sign, spaces or other zeros. */
        if (errno || *end || strcmp(canonical, de->d_name) != 0 || index < rot->first_chunk ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (rot->chunk_count == cap) {
            uint64_t *more = realloc(rot->chunks, (cap ? cap * 2 : 16) * sizeof(*more));
            if (!more) {
                closedir(d);
                return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
            }
            rot->chunks = more;
            cap = cap ? cap * 2 : 16;
        }
        rot->chunks[rot->chunk_count++] = index;
    }
    closedir(d);
    if (rot->chunk_count > 1)
        qsort(rot->chunks, (size_t)rot->chunk_count, sizeof(*rot->chunks), compare_u64);
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_rotation_read(const char *dir, struct hvlog_trace_rotation *out,
                                                  struct hvlog_export_error *err)
{
    char *file = NULL, *text = NULL, why[160];
    struct rot_parse p = {err, NULL};
    enum hvlog_export_status status = HVLOG_EXPORT_OK;
    json_t *root = NULL;
    struct stat st;
    size_t got = 0;
    uint64_t v = 0;
    int fd = -1, e;

    if (!out)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no rotation to fill");
    memset(out, 0, sizeof(*out));
    if (!dir || !(file = hvlog__export_join(dir, HVLOG_TRACE_ROTATION_FILE)))
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    p.file = file;
    fd = hvlog__export_open_regular(file, &st);
    if (fd < 0)
        status = hvlog__export_fail(err, fd == -2 ? HVLOG_EXPORT_NOT_TRACE : HVLOG_EXPORT_IO, "%s: %s",
                             file, fd == -2 ? "not a regular file" : strerror(errno));
    /* Sized by the bytes present, never by a claim: as hvlog-trace.json. */
    else if (st.st_size > (off_t)HVLOG_TRACE_META_MAX_BYTES)
        status = hvlog__export_fail(err, HVLOG_EXPORT_BAD_META, "%s: larger than %u bytes", file,
                             HVLOG_TRACE_META_MAX_BYTES);
    else if (!(text = malloc((size_t)st.st_size + 1)))
        status = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    else if ((e = hvlog__export_pread_all(fd, text, (size_t)st.st_size, 0, &got)) != 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", file, strerror(e));
    if (fd >= 0)
        close(fd);
    if (status == HVLOG_EXPORT_OK &&
        hvlog__export_json_read(text, got, &root, why, sizeof why) != HVLOG_EXPORT_OK)
        status = hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "%s: not JSON (%s)", file, why);
    if (status == HVLOG_EXPORT_OK && !json_is_object(root))
        status = hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "%s: not an object", file);
    if (status == HVLOG_EXPORT_OK) {
        const json_t *n = json_object_get(root, "format");
        if (!json_is_string(n) || strcmp(json_string_value(n), HVLOG_TRACE_ROTATION_FORMAT) != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "%s: not an hvlog rotation manifest",
                                 file);
    }
    if (status == HVLOG_EXPORT_OK) {
        status = get_u64(&p, root, "version", true, UINT32_MAX, &v);
        if (status == HVLOG_EXPORT_OK && (v == 0 || v > HVLOG_TRACE_ROTATION_VERSION))
            status = hvlog__export_fail(err, HVLOG_EXPORT_VERSION,
                                 "%s: version %" PRIu64 ", this hvlog reads 1..%u", file, v,
                                 HVLOG_TRACE_ROTATION_VERSION);
    }
    if (status == HVLOG_EXPORT_OK)
        status = get_u64(&p, root, "max_size", true, UINT64_MAX, &out->max_bytes);
    if (status == HVLOG_EXPORT_OK) {
        v = 0;
        status = get_u64(&p, root, "rotate", false, UINT32_MAX, &v);
        out->keep = (uint32_t)v;
    }
    if (status == HVLOG_EXPORT_OK)
        status = get_u64(&p, root, "first_chunk", true, UINT64_MAX, &out->first_chunk);
    if (status == HVLOG_EXPORT_OK)
        status = parse_rotated_out(&p, json_object_get(root, "rotated_out"), out);
    if (status == HVLOG_EXPORT_OK)
        status = parse_closing(&p, root, out);
    if (status == HVLOG_EXPORT_OK)
        status = list_chunks(dir, out, err);
    json_decref(root);
    free(text);
    free(file);
    return status;
}

enum hvlog_export_status hvlog__trace_rotation_open(const char *path, struct hvlog_trace_reader **out,
                                                   struct hvlog_export_error *err)
{
    struct trace_part *parts = NULL;
    struct hvlog_trace_rotation rot;
    enum hvlog_export_status status;
    uint32_t opened = 0;

    *out = NULL;
    status = hvlog_trace_rotation_read(path, &rot, err);
    if (status == HVLOG_EXPORT_OK && rot.chunk_count == 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE,
                                    "%s: a rotated recording with no chunk kept; 'hvlog info %s' says "
                                    "what was rotated out",
                                    path, path);
    else if (status == HVLOG_EXPORT_OK && rot.chunk_count > HVLOG_TRACE_ROTATION_MAX_CHUNKS)
        status = hvlog__export_fail(err, HVLOG_EXPORT_UNSUPPORTED,
                                    "%s: %" PRIu64 " kept chunks; this hvlog reads at most %u together",
                                    path, rot.chunk_count, HVLOG_TRACE_ROTATION_MAX_CHUNKS);
    else if (status == HVLOG_EXPORT_OK && !(parts = calloc(rot.chunk_count, sizeof(*parts))))
        status = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (; status == HVLOG_EXPORT_OK && parts && opened < rot.chunk_count; opened++) {
        struct hvlog_export_error inner = {HVLOG_EXPORT_OK, ""};
        char name[32], *dir;
        struct stat st;

        hvlog_trace_chunk_name(rot.chunks[opened], name, sizeof name);
        parts[opened].chunk = rot.chunks[opened];
        if (!(dir = hvlog__export_join(path, name))) {
            status = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
            break;
        }
        /* A chunk is a trace directory, never a rotation of its own. */
        status = hvlog_trace_is_rotated(dir) ? hvlog__export_fail(&inner, HVLOG_EXPORT_NOT_TRACE,
                                                                   "%s: not an hvlog trace", dir)
                                             : hvlog_trace_open(dir, &parts[opened].reader, &inner);
        /* Listed, then gone: a recorder still writing rotated it out. */
        if (status != HVLOG_EXPORT_OK && stat(dir, &st) != 0)
            hvlog__export_fail(err, status, "%s: rotated out while it was being read (the recording goes on); "
                               "read it again", dir);
        else if (status != HVLOG_EXPORT_OK)
            hvlog__export_fail(err, status, "%s", inner.message);
        free(dir);
        if (status != HVLOG_EXPORT_OK)
            break;
    }
    if (status != HVLOG_EXPORT_OK || !parts) {
        for (uint32_t i = 0; parts && i < opened; i++)
            hvlog_trace_close(parts[i].reader);
        free(parts);
        hvlog_trace_rotation_release(&rot);
        return status != HVLOG_EXPORT_OK ? status : HVLOG_EXPORT_NOMEM;
    }
    return hvlog__trace_reader_join(path, path, parts, (uint32_t)rot.chunk_count, &rot, out, err);
}
