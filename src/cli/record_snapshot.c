/* SPDX-License-Identifier: MIT */
/*
 * The flight recorder: `hvlog record -o DIR --snapshot [--snapshot-size SIZE]`
 * (issue 17 item 5; docs/cli.md "Flight recorder", docs/trace-format.md
 * section 2 "snapshot").
 *
 * Every buffer the root releases goes, whole, to a ring in memory instead
 * of a trace file:
 *
 *     oldest                                   newest
 *     slot[head] -> slot[head+1] -> ... -> slot[head+count-1]   (mod cap)
 *     held_bytes = sum of their lengths <= ring_bytes (SIZE)
 *
 * A buffer that would take held_bytes past SIZE first drops the oldest
 * ones; each dropped buffer is counted as overwritten, per log type and LP
 * (buffers, entries, EventsLost), so every released buffer is in the ring
 * or counted: for each (type, LP) at any time,
 *
 *     released = in the ring + overwritten            (buffers, entries, lost)
 *
 * A snapshot is the ring at one instant written as a complete format-2
 * trace, DIR/snapshot-NNN (NNN = 001, 002, ...): SIGUSR1 (`hvlog snapshot
 * PID`) asks for one, and the end of the recording takes the last one. It
 * is written by the trace writer's all-or-nothing path (create, append...,
 * commit: a temporary directory renamed into place), so a snapshot is
 * either whole or absent. Its metadata's "snapshot" member holds the
 * counts above per (type, LP) as of that instant; its host section holds
 * the simulator's truths read at that instant (the final ones for the
 * stop snapshot), so for the last snapshot, per LP:
 *
 *     logged = entries in it + overwritten_entries + host lost
 *
 * Not stalling the recording: the snapshot is written by a writer thread
 * from a detached view of the ring. The ring's buffers are immutable once
 * kept and reference counted: taking a snapshot copies the slot pointers
 * (one pointer per buffer) and takes a reference on each; the ring goes on
 * dropping and keeping buffers meanwhile, and a dropped buffer's memory is
 * freed by whoever lets go of it last. So the ring itself never holds more
 * than SIZE, and while a snapshot is being written the memory is at most
 * 2 x SIZE (the snapshot's buffers, and a ring that refilled). Requests
 * that come while a snapshot is being written are merged into one, taken
 * when the writer is free.
 *
 * Threads and locks: the main thread (the client's: keep, tick, finish)
 * owns the ring and the counters. The writer thread owns the job it was
 * handed. s->lock guards job, busy, quit, the outcome (started, done,
 * done_ok, done_error, report_due) and the control file's writes; the
 * writer waits on s->cond for a job, the main thread on it for the writer
 * to be free. A buffer's refs is atomic (see snap_release). Lock order:
 * s->lock, then the control file's flock (ctl_write); nothing else nests.
 *
 * The control file, DIR/hvlog-snapshot.ctl, is how `hvlog snapshot PID`
 * finds the recording (it is among PID's open files) and learns when its
 * snapshot is committed: fixed-length text, rewritten in place under
 * flock(LOCK_EX), read under LOCK_SH (cmd_snapshot.c parses it).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/record_snapshot.h"
#include "cli/sim_root.h"
#include "hvlog/hvlog.h"
#include "hvlog/trace/rotate.h"

/* One kept buffer. Immutable after snap_keep fills it; refs counts the
 * ring's hold (1) and each snapshot job holding it. */
struct snap_buf {
    atomic_uint refs;
    uint32_t type, lp, entries, events_lost;
    size_t len;
    uint8_t bytes[];
};

/* Per (type, LP): released = in the ring + overwritten. Main thread only. */
struct snap_acct {
    uint64_t ring_buffers, ring_entries, ring_lost;
    uint64_t over_buffers, over_entries, over_lost;
};

/* LPs are accounted up to this many rows per type; a header naming a
 * higher LP (a root's bad buffer) is counted on the last row. */
#define SNAP_MAX_LP_ROWS 65536u

struct snap_job {
    uint64_t sequence;
    struct snap_buf **bufs; /* oldest first; one reference each */
    size_t count;
    struct hvlog_trace_meta meta; /* owns command_line, lps and snapshot.rows */
};

struct record_snapshot {
    /* Set by open and start, read-only afterwards (both threads read them). */
    char *dir;
    bool dir_created, force, quiet, compress;
    unsigned file_mode;
    long long uid, gid;
    uint64_t ring_bytes;
    int ctl_fd;
    struct sigaction old_usr1;
    struct hvlog_trace_meta meta; /* opening metadata; owns command_line */
    struct hvlog_sim *sim;
    uint32_t lps;
    struct hvlog_client *client;

    /* Main thread only. */
    struct snap_buf **slot;
    size_t cap, head, count;
    uint64_t held_bytes;
    struct snap_buf *spare; /* a dropped buffer's memory, for the next keep */
    struct snap_acct *acct[HVLOG_TYPE_COUNT];
    uint32_t acct_rows[HVLOG_TYPE_COUNT];
    uint64_t next_sequence;
    bool pending, oom_warned;

    /* Guarded by lock. */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct snap_job *job; /* handed to the writer; NULL when none */
    bool busy, quit;
    uint64_t started, done; /* last sequence started and finished */
    bool done_ok, report_due;
    char done_error[HVLOG_EXPORT_MESSAGE_MAX];
};

/* SIGUSR1: a snapshot is asked for. Set by the handler (any thread),
 * taken by record_snapshot_tick. */
static volatile sig_atomic_t snapshot_asked;

static void on_snapshot_signal(int sig)
{
    (void)sig;
    snapshot_asked = 1;
}

bool record_snapshot_parse_size(const char *text, uint64_t *bytes)
{
    return cli_size("record", "--snapshot-size", text, 4096, RECORD_SNAPSHOT_MAX_BYTES, bytes);
}

bool record_snapshot_check(const struct record_snapshot_options *o, const char *out, bool real_root)
{
    if (o->ring_bytes && !o->enabled) {
        cli_error("record: --snapshot-size needs --snapshot");
        return false;
    }
    if (!o->enabled)
        return true;
    if (!out) {
        cli_error("record: --snapshot needs the snapshot directory (-o DIR)");
        return false;
    }
    if (real_root) {
        cli_error("record: --snapshot records from the simulated host or --from kvm, not a real "
                  "root's device yet");
        return false;
    }
    return true;
}

/* The trace-writer flags of every snapshot, computed here only (a writer
 * flag such as compression plugs in here). */
static unsigned snapshot_writer_flags(const struct record_snapshot *s)
{
    return (s->force ? HVLOG_TRACE_FORCE : 0u) | (s->compress ? HVLOG_TRACE_COMPRESS : 0u);
}

/* ---- the control file ---- */

/* The control file's text, always the same length (rewritten in place):
 * "hvlog-snapshot 1", the PID, the last snapshot started and the last one
 * finished with its outcome. Called with s->lock held. */
static void ctl_write(struct record_snapshot *s)
{
    char text[160];
    int n = snprintf(text, sizeof text,
                     "hvlog-snapshot 1\npid %20ld\nstarted %20" PRIu64 "\ndone %20" PRIu64 " %s\n",
                     (long)getpid(), s->started, s->done,
                     s->done == 0 ? "none  " : s->done_ok ? "ok    " : "failed");

    if (s->ctl_fd < 0 || n <= 0 || (size_t)n >= sizeof text)
        return;
    /* Best effort: a failure here only makes `hvlog snapshot` time out. */
    if (flock(s->ctl_fd, LOCK_EX) == 0) {
        ssize_t put = pwrite(s->ctl_fd, text, (size_t)n, 0);

        (void)put;
        (void)flock(s->ctl_fd, LOCK_UN);
    }
}

/* "NAME VALUE\n" at *@p: VALUE into @out, *@p past the line. */
static bool ctl_field(const char **p, const char *name, uint64_t *out)
{
    size_t len = strlen(name);
    char *end;

    if (strncmp(*p, name, len) != 0 || (*p)[len] != ' ')
        return false;
    *p += len + 1;
    while (**p == ' ')
        (*p)++;
    if (**p < '0' || **p > '9')
        return false;
    errno = 0;
    *out = strtoull(*p, &end, 10);
    if (errno)
        return false;
    *p = end;
    return true;
}

bool record_snapshot_ctl_read(int fd, struct record_snapshot_ctl *st)
{
    char text[256];
    const char *p = text;
    uint64_t pid = 0;
    ssize_t n;
    size_t word;

    if (flock(fd, LOCK_SH) != 0)
        return false;
    n = pread(fd, text, sizeof text - 1, 0);
    (void)flock(fd, LOCK_UN);
    if (n <= 0)
        return false;
    text[n] = '\0';
    if (strncmp(p, "hvlog-snapshot 1\n", 17) != 0)
        return false;
    p += 17;
    if (!ctl_field(&p, "pid", &pid) || *p++ != '\n' || pid == 0 || pid > INT32_MAX ||
        !ctl_field(&p, "started", &st->started) || *p++ != '\n' ||
        !ctl_field(&p, "done", &st->done) || *p++ != ' ')
        return false;
    word = strcspn(p, " \n");
    if (word == 0 || word >= sizeof st->outcome)
        return false;
    memcpy(st->outcome, p, word);
    st->outcome[word] = '\0';
    st->pid = (long)pid;
    return true;
}

/* Create the control file @path, exclusively: one left by a recording that
 * died is replaced; one whose recording lives is refused (two recorders
 * would number their snapshots over each other). */
static int ctl_create(const char *path, unsigned mode)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        struct record_snapshot_ctl st;
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        bool live;

        if (fd >= 0 || errno != EEXIST)
            return fd;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        live = fd >= 0 && record_snapshot_ctl_read(fd, &st) && st.pid > 0 &&
               st.pid != (long)getpid() && (kill((pid_t)st.pid, 0) == 0 || errno == EPERM);
        if (fd >= 0)
            close(fd);
        if (live) {
            errno = EBUSY;
            return -1;
        }
        (void)unlink(path); /* stale: its recording is gone */
    }
    errno = EEXIST;
    return -1;
}

/* ---- buffers ---- */

/* Let go of one reference to @b. acq_rel: the last holder frees it (or, on
 * the main thread, keeps it as the spare) after every other holder's reads
 * of its bytes, which their release orders before. Returns whether the
 * caller was the last holder (and now owns @b's memory). */
static bool snap_release(struct snap_buf *b)
{
    return atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1;
}

static struct snap_acct *acct_row(struct record_snapshot *s, uint32_t type, uint32_t lp)
{
    if (type >= HVLOG_TYPE_COUNT)
        return NULL;
    if (lp >= SNAP_MAX_LP_ROWS)
        lp = SNAP_MAX_LP_ROWS - 1;
    if (lp >= s->acct_rows[type]) {
        struct snap_acct *grown;
        uint32_t want = s->acct_rows[type] ? s->acct_rows[type] : 16;

        while (want <= lp)
            want *= 2;
        if (want > SNAP_MAX_LP_ROWS)
            want = SNAP_MAX_LP_ROWS;
        grown = realloc(s->acct[type], (size_t)want * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + s->acct_rows[type], 0, (size_t)(want - s->acct_rows[type]) * sizeof *grown);
        s->acct[type] = grown;
        s->acct_rows[type] = want;
    }
    return &s->acct[type][lp];
}

/* Drop the oldest buffer of the ring: counted as overwritten. */
static void ring_drop_oldest(struct record_snapshot *s)
{
    struct snap_buf *b = s->slot[s->head];
    struct snap_acct *a = acct_row(s, b->type, b->lp); /* exists: made when kept */

    s->slot[s->head] = NULL;
    s->head = (s->head + 1) % s->cap;
    s->count--;
    s->held_bytes -= b->len;
    if (a) {
        a->ring_buffers--;
        a->ring_entries -= b->entries;
        a->ring_lost -= b->events_lost;
        a->over_buffers++;
        a->over_entries += b->entries;
        a->over_lost += b->events_lost;
    }
    if (!snap_release(b))
        return; /* a snapshot still holds it: the writer frees it */
    if (!s->spare)
        s->spare = b;
    else
        free(b);
}

/* Room for one more slot pointer (the ring's slots grow to what SIZE holds). */
static bool ring_grow(struct record_snapshot *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct snap_buf **slot;

    if (s->count < s->cap)
        return true;
    slot = calloc(cap, sizeof(struct snap_buf *));
    if (!slot)
        return false;
    for (size_t i = 0; s->cap && i < s->count; i++) /* no slots yet: nothing to move */
        slot[i] = s->slot[(s->head + i) % s->cap];
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
    s->head = 0;
    return true;
}

void record_snapshot_buffer(struct record_snapshot *s, const struct hvlog_buffer_summary *sum,
                            const uint8_t *bytes, size_t len)
{
    struct snap_acct *a;
    struct snap_buf *b;

    if (!s)
        return;
    a = acct_row(s, sum->type, sum->logical_processor);
    if (!a) {
        /* A type the trace has no group for (the client never passes one),
         * or no memory for a counter row: neither kept nor counted. */
        if (!s->oom_warned)
            cli_error("record: a buffer of type %" PRIu32 " LP %" PRIu32 " could not be kept or "
                      "counted by the snapshot ring", sum->type, sum->logical_processor);
        s->oom_warned = true;
        return;
    }
    /* Make room: the ring never holds more than SIZE (open checked that
     * one buffer fits). */
    while (s->count > 0 && s->held_bytes + len > s->ring_bytes)
        ring_drop_oldest(s);
    b = s->spare && s->spare->len == len ? s->spare : NULL;
    if (b) {
        s->spare = NULL;
    } else {
        free(s->spare);
        s->spare = NULL;
        b = malloc(sizeof *b + len);
    }
    if (!b || !ring_grow(s)) {
        /* No memory: the buffer is dropped at once, and counted so. */
        free(b);
        if (!s->oom_warned)
            cli_error("record: out of memory for the snapshot ring: buffers are counted as "
                      "overwritten");
        s->oom_warned = true;
        a->over_buffers++;
        a->over_entries += sum->entries;
        a->over_lost += sum->events_lost;
        return;
    }
    atomic_init(&b->refs, 1);
    b->type = sum->type;
    b->lp = sum->logical_processor;
    b->entries = sum->entries;
    b->events_lost = sum->events_lost;
    b->len = len;
    memcpy(b->bytes, bytes, len);
    s->slot[(s->head + s->count) % s->cap] = b;
    s->count++;
    s->held_bytes += len;
    a->ring_buffers++;
    a->ring_entries += sum->entries;
    a->ring_lost += sum->events_lost;
}

/* ---- snapshots ---- */

static void job_free(struct snap_job *job)
{
    if (!job)
        return;
    for (size_t i = 0; i < job->count; i++) {
        if (snap_release(job->bufs[i]))
            free(job->bufs[i]);
    }
    free(job->bufs);
    hvlog_trace_meta_release(&job->meta);
    free(job);
}

/* The job of a snapshot of the ring now (main thread). @final: the
 * closing metadata's host rows and statistics; NULL: read them now. */
static struct snap_job *job_make(struct record_snapshot *s, const char *reason,
                                 const struct hvlog_trace_meta *final)
{
    struct snap_job *job = calloc(1, sizeof *job);
    struct hvlog_trace_snapshot *sn;
    uint32_t rows = 0;

    if (!job)
        return NULL;
    job->meta = s->meta;
    job->meta.command_line = NULL;
    job->meta.lps = NULL;
    job->meta.lp_count = 0;
    job->meta.closed = false;
    job->sequence = s->next_sequence;
    if (s->meta.command_line && !(job->meta.command_line = strdup(s->meta.command_line)))
        goto fail;
    job->bufs = malloc((s->count ? s->count : 1) * sizeof(struct snap_buf *));
    if (!job->bufs)
        goto fail;
    for (size_t i = 0; i < s->count; i++) {
        struct snap_buf *b = s->slot[(s->head + i) % s->cap];

        /* relaxed: the main thread holds the ring's reference; the job is
         * published to the writer under s->lock. */
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        job->bufs[job->count++] = b;
    }
    /* The host's truths: final, or read now (a moving point). */
    {
        uint32_t n = final ? final->lp_count : s->lps;

        if (n && !(job->meta.lps = calloc(n, sizeof *job->meta.lps)))
            goto fail;
        if (final && n)
            memcpy(job->meta.lps, final->lps, n * sizeof *job->meta.lps);
        else if (n && s->sim)
            sim_root_lp_counts(s->sim, n, job->meta.lps);
        job->meta.lp_count = n;
    }
    if (final) {
        job->meta.stats = final->stats;
    } else if (s->client) {
        struct hvlog_client_stats cs[2];

        hvlog_client_stats(s->client, HvEventLogTypeLocalDiagnostics, &cs[0]);
        hvlog_client_stats(s->client, HvEventLogTypeGlobalSystemEvents, &cs[1]);
        job->meta.stats.messages = cs[0].messages + cs[1].messages;
        job->meta.stats.longest_chain = cs[0].longest_chain > cs[1].longest_chain
                                            ? cs[0].longest_chain : cs[1].longest_chain;
        job->meta.stats.corrupt = cs[0].corrupt + cs[1].corrupt;
    }
    /* The snapshot member: a row per (type, LP) that released a buffer. */
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        for (uint32_t lp = 0; lp < s->acct_rows[t]; lp++)
            rows += s->acct[t][lp].ring_buffers + s->acct[t][lp].over_buffers != 0;
    }
    sn = &job->meta.snapshot;
    job->meta.snapshot_present = true;
    sn->sequence = job->sequence;
    sn->ring_bytes = s->ring_bytes;
    snprintf(sn->reason, sizeof sn->reason, "%s", reason);
    if (rows && !(sn->rows = calloc(rows, sizeof *sn->rows)))
        goto fail;
    /* The closing statistics describe the snapshot's own buffers (readers
     * check stats.buffers against the files). */
    job->meta.stats.buffers = job->count;
    job->meta.stats.entries = 0;
    job->meta.stats.events_lost = 0;
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        for (uint32_t lp = 0; lp < s->acct_rows[t]; lp++) {
            const struct snap_acct *a = &s->acct[t][lp];

            if (a->ring_buffers + a->over_buffers == 0)
                continue;
            sn->rows[sn->row_count++] = (struct hvlog_trace_snapshot_lp){
                .type = t, .lp = lp, .buffers = a->ring_buffers, .entries = a->ring_entries,
                .events_lost = a->ring_lost, .overwritten_buffers = a->over_buffers,
                .overwritten_entries = a->over_entries, .overwritten_events_lost = a->over_lost};
            job->meta.stats.entries += a->ring_entries;
            job->meta.stats.events_lost += a->ring_lost;
        }
    }
    return job;
fail:
    job_free(job);
    return NULL;
}

/* DIR/snapshot-NNN. */
static void snapshot_path(const struct record_snapshot *s, uint64_t sequence, char *out, size_t len)
{
    snprintf(out, len, "%s/snapshot-%03" PRIu64, s->dir, sequence);
}

/* Write @job as a complete trace (writer thread). */
static bool job_write(const struct record_snapshot *s, const struct snap_job *job,
                      struct hvlog_export_error *err)
{
    struct hvlog_trace_writer *w = NULL;
    char path[4096];

    snapshot_path(s, job->sequence, path, sizeof path);
    if (hvlog_trace_writer_create(path, snapshot_writer_flags(s), &w, err) != HVLOG_EXPORT_OK ||
        hvlog_trace_writer_access(w, s->file_mode, s->uid, s->gid, err) != HVLOG_EXPORT_OK) {
        hvlog_trace_writer_abort(w);
        return false;
    }
    for (size_t i = 0; i < job->count; i++) {
        const struct snap_buf *b = job->bufs[i];

        if (hvlog_trace_writer_append(w, b->type, b->bytes, b->len, err) != HVLOG_EXPORT_OK) {
            hvlog_trace_writer_abort(w); /* nothing appears under path */
            return false;
        }
    }
    return hvlog_trace_writer_commit(w, &job->meta, err) == HVLOG_EXPORT_OK;
}

static void *writer_main(void *arg)
{
    struct record_snapshot *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct snap_job *job;
        struct hvlog_export_error err = {HVLOG_EXPORT_OK, ""};
        bool ok;

        while (!s->job && !s->quit)
            pthread_cond_wait(&s->cond, &s->lock);
        if (!s->job)
            break;
        job = s->job;
        pthread_mutex_unlock(&s->lock);
        ok = job_write(s, job, &err);
        pthread_mutex_lock(&s->lock);
        s->job = NULL;
        s->busy = false;
        s->done = job->sequence;
        s->done_ok = ok;
        snprintf(s->done_error, sizeof s->done_error, "%s", ok ? "" : err.message);
        s->report_due = true;
        ctl_write(s);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        job_free(job); /* outside the lock: may free many buffers */
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Say how the last snapshot went, once (main thread, s->lock held). */
static void report_locked(struct record_snapshot *s)
{
    char path[4096];

    if (!s->report_due)
        return;
    s->report_due = false;
    snapshot_path(s, s->done, path, sizeof path);
    if (!s->done_ok)
        cli_error("record: snapshot %" PRIu64 " not written: %s", s->done, s->done_error);
    else if (!s->quiet)
        fprintf(stderr, "hvlog: record: snapshot written to %s\n", path);
}

/* Hand a snapshot of the ring now to the writer, which is free (main
 * thread). False after one line when the job could not be made. */
static bool launch(struct record_snapshot *s, const char *reason,
                   const struct hvlog_trace_meta *final)
{
    struct snap_job *job = job_make(s, reason, final);

    if (!job) {
        cli_error("record: out of memory for snapshot %" PRIu64, s->next_sequence);
        return false;
    }
    s->next_sequence++;
    pthread_mutex_lock(&s->lock);
    s->job = job;
    s->busy = true;
    s->started = job->sequence;
    ctl_write(s);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return true;
}

void record_snapshot_tick(struct record_snapshot *s)
{
    bool busy;

    if (!s || !s->thread_started)
        return;
    if (snapshot_asked) {
        snapshot_asked = 0;
        s->pending = true; /* several asks while one is written: one more snapshot */
    }
    pthread_mutex_lock(&s->lock);
    report_locked(s);
    busy = s->busy;
    pthread_mutex_unlock(&s->lock);
    if (s->pending && !busy) {
        s->pending = false;
        (void)launch(s, "request", NULL);
    }
}

static void wait_free(struct record_snapshot *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->busy)
        pthread_cond_wait(&s->cond, &s->lock);
    report_locked(s);
    pthread_mutex_unlock(&s->lock);
}

bool record_snapshot_finish(struct record_snapshot *s, const struct hvlog_trace_meta *meta)
{
    bool ok;

    if (!s || !s->thread_started)
        return false;
    wait_free(s);
    /* A request not yet served is served by this last snapshot. */
    snapshot_asked = 0;
    s->pending = false;
    if (!launch(s, "stop", meta))
        return false;
    pthread_mutex_lock(&s->lock);
    while (s->busy)
        pthread_cond_wait(&s->cond, &s->lock);
    ok = s->done_ok;
    report_locked(s);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* ---- setup and teardown ---- */

struct record_snapshot *record_snapshot_open(const char *dir, const struct record_snapshot_options *o,
                                             uint64_t buffer_bytes, bool force, bool quiet,
                                             unsigned file_mode, long long uid, long long gid)
{
    struct record_snapshot *s;
    struct sigaction sa;
    struct stat st;
    char path[4096];
    unsigned mode = file_mode ? file_mode : HVLOG_TRACE_FILE_MODE;
    unsigned dir_mode = mode | ((mode & 0444u) >> 2); /* x wherever r, as the trace writer */
    uint64_t ring = o->ring_bytes ? o->ring_bytes : RECORD_SNAPSHOT_DEFAULT_BYTES;

    if (ring < buffer_bytes) {
        cli_error("record: --snapshot-size %" PRIu64 " cannot hold one %" PRIu64
                  "-byte buffer (raise it or lower --pages)", ring, buffer_bytes);
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, RECORD_SNAPSHOT_CONTROL) >= sizeof path) {
        cli_error("record: %s: path too long", dir);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        cli_error("record: out of memory");
        return NULL;
    }
    s->ctl_fd = -1;
    s->force = force;
    s->compress = o->compress;
    s->quiet = quiet;
    s->file_mode = mode;
    s->uid = uid;
    s->gid = gid;
    s->ring_bytes = ring;
    s->next_sequence = 1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (mkdir(dir, dir_mode) == 0) {
        s->dir_created = true;
        /* Exactly the mode asked, whatever the umask; the owner sudo names. */
        if (chmod(dir, dir_mode) != 0 ||
            (uid >= 0 && chown(dir, (uid_t)uid, (gid_t)gid) != 0)) {
            cli_error("record: %s: %s", dir, strerror(errno));
            record_snapshot_destroy(s);
            return NULL;
        }
    } else if (errno != EEXIST) {
        cli_error("record: %s: %s", dir, strerror(errno));
        record_snapshot_destroy(s);
        return NULL;
    } else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !force) {
        cli_error("record: %s exists (--force adds snapshots to a snapshot directory, replacing "
                  "those of the same number)", dir);
        record_snapshot_destroy(s);
        return NULL;
    } else {
        char meta_path[4096];

        snprintf(meta_path, sizeof meta_path, "%s/%s", dir, HVLOG_TRACE_META_FILE);
        if (access(meta_path, F_OK) == 0 || hvlog_trace_is_rotated(dir)) {
            cli_error("record: %s is a trace, not a snapshot directory", dir);
            record_snapshot_destroy(s);
            return NULL;
        }
    }
    /* Caught before the control file exists: whoever finds it may signal. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_snapshot_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    snapshot_asked = 0;
    sigaction(SIGUSR1, &sa, &s->old_usr1);
    s->ctl_fd = ctl_create(path, mode);
    if (s->ctl_fd < 0 && errno == EBUSY) {
        cli_error("record: %s: a live hvlog record --snapshot writes %s", path, dir);
        record_snapshot_destroy(s);
        return NULL;
    }
    if (s->ctl_fd < 0 || fchmod(s->ctl_fd, mode) != 0 ||
        (uid >= 0 && fchown(s->ctl_fd, (uid_t)uid, (gid_t)gid) != 0)) {
        cli_error("record: %s: %s", path, strerror(errno));
        record_snapshot_destroy(s);
        return NULL;
    }
    ctl_write(s); /* no thread yet */
    return s;
}

bool record_snapshot_start(struct record_snapshot *s, const struct hvlog_trace_meta *meta,
                           struct hvlog_sim *sim, uint32_t lps, struct hvlog_client *client)
{
    sigset_t all, old;
    int e;

    s->meta = *meta;
    s->meta.command_line = meta->command_line ? strdup(meta->command_line) : NULL;
    s->meta.lps = NULL;
    s->meta.lp_count = 0;
    s->meta.snapshot_present = false;
    memset(&s->meta.snapshot, 0, sizeof s->meta.snapshot);
    s->sim = sim;
    s->lps = lps;
    s->client = client;
    /* The writer takes no signal: the main thread's loop sees them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&s->thread, NULL, writer_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        cli_error("record: cannot start the snapshot writer: %s", strerror(e));
        return false;
    }
    s->thread_started = true;
    return true;
}

void record_snapshot_destroy(struct record_snapshot *s)
{

    if (!s)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->lock);
        s->quit = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL); /* a job in hand is finished first */
        job_free(s->job);              /* handed but never taken: none in practice */
    }
    for (size_t i = 0; i < s->count; i++) {
        struct snap_buf *b = s->slot[(s->head + i) % s->cap];

        if (snap_release(b))
            free(b);
    }
    free(s->slot);
    free(s->spare);
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++)
        free(s->acct[t]);
    if (s->ctl_fd >= 0) {
        struct sigaction ign;
        char path[4096];

        snprintf(path, sizeof path, "%s/%s", s->dir, RECORD_SNAPSHOT_CONTROL);
        (void)unlink(path); /* a waiter still reads the last state through its own fd */
        close(s->ctl_fd);
        /* SIGUSR1 stays ignored, not default: a late `hvlog snapshot` must
         * not kill a recording that already wrote everything. */
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGUSR1, &ign, NULL);
    }
    if (s->dir_created && s->next_sequence == 1)
        (void)rmdir(s->dir); /* nothing was written: nothing is left */
    free(s->meta.command_line);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s);
}
