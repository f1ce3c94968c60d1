/* SPDX-License-Identifier: MIT */
/*
 * The worker of a compressed trace writer (HVLOG_TRACE_COMPRESS,
 * docs/trace-format.md section 1), and of a recording's plain one, whose
 * units are the buffers as they are (zenc NULL; trace_writer.c's head
 * comment says why a recording writes on a worker). Compressing a buffer
 * costs far more than writing it, and the thread that appends is the
 * recorder's drain thread:
 * while it compresses, the hypervisor's buffers fill and events are lost
 * (bench/TRACE-RESULTS.md, "Compression"). So the appender only copies the
 * buffer into a bounded queue and goes back to draining; one worker thread
 * compresses the copies and hands each unit to the writer's sink, in the
 * order they were queued.
 *
 * One worker, not one per CPU: readers index a group file's buffers by
 * position, so units must reach the file in release order, and a single
 * consumer keeps that order with no reordering stage. Flat out on a
 * 2-CPU host the worker is the bottleneck (bench/TRACE-RESULTS.md,
 * "Compression on a worker thread"); where CPUs are free, more workers
 * writing in sequence order would lift it.
 *
 * A full queue makes the appender wait: compressing inline instead would
 * need a second ordering point (its unit may not pass the worker's), and
 * on a host whose CPUs the recording already uses it would only take the
 * worker's time. Waiting is what the appender did before, compressing.
 *
 * Memory: at most QUEUE_SLOTS copies and QUEUE_BYTES of them queued (one
 * buffer whatever its size), plus the worker's compression context and
 * output. A slot keeps its copy's memory for the next buffer (the usual
 * case: every buffer of a recording is the same size) only up to
 * QUEUE_BYTES / QUEUE_SLOTS; a larger copy is freed once written, so the
 * slots never hold more than QUEUE_BYTES between them beyond what is
 * queued.
 *
 * Errors: the sink's first failure is kept; the worker then drops what is
 * queued (the file must not get a hole in its release order) and every
 * later push and drain returns that failure, which the writer makes its
 * sticky failure. A crash loses what was queued and not yet written, as it
 * loses what the hypervisor's buffers held: at most the queue's slots.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"

#define QUEUE_BYTES (16u << 20)
#define QUEUE_SLOTS 256u
#define SLOT_KEEP (QUEUE_BYTES / QUEUE_SLOTS)

struct zslot {
    uint8_t *bytes;
    size_t cap, len;
    uint32_t type;
    bool started;
};

struct trace_zworker {
    pthread_mutex_t lock;
    pthread_cond_t queued;  /* a slot was filled, or stop was set */
    pthread_cond_t written; /* a slot was freed (the worker is done with it) */
    pthread_t thread;
    struct zslot slot[QUEUE_SLOTS];
    uint32_t head, count; /* oldest queued slot; queued slots (incl. the one being written) */
    size_t queued_bytes;  /* of the queued slots' copies */
    bool stop;          /* no more pushes: finish (or drop) and exit */
    bool drop;          /* with stop: drop what is queued instead of writing it */
    struct hvlog_export_error failure; /* the sink's first failure; OK until then */
    struct export_zenc *zenc;          /* the writer's, used by the worker alone */
    trace_zworker_sink sink;
    void *ctx;
};

static void *worker_main(void *arg)
{
    struct trace_zworker *z = arg;

    pthread_mutex_lock(&z->lock);
    for (;;) {
        struct zslot *s;
        struct hvlog_export_error err = {HVLOG_EXPORT_OK, ""};
        bool skip;

        while (z->count == 0 && !z->stop)
            pthread_cond_wait(&z->queued, &z->lock);
        if (z->count == 0)
            break; /* stopped, and everything queued is written */
        s = &z->slot[z->head];
        skip = z->failure.status != HVLOG_EXPORT_OK || z->drop;
        pthread_mutex_unlock(&z->lock);
        /* The slot is the worker's until count drops: the appender only
         * fills slots outside head..head+count. */
        if (!skip) {
            const uint8_t *unit;
            size_t unit_len;
            int e = 0;

            unit = s->bytes;
            unit_len = s->len;
            if (z->zenc)
                e = hvlog__export_zenc_unit(z->zenc, s->bytes, s->len, &unit, &unit_len);

            if (e != 0)
                hvlog__export_fail(&err, e == ENOMEM ? HVLOG_EXPORT_NOMEM : HVLOG_EXPORT_IO,
                            "cannot compress a buffer: %s", strerror(e));
            else
                z->sink(z->ctx, s->type, s->started, unit, unit_len, &err);
        }
        if (s->cap > SLOT_KEEP) {
            free(s->bytes);
            s->bytes = NULL;
            s->cap = 0;
        }
        pthread_mutex_lock(&z->lock);
        if (err.status != HVLOG_EXPORT_OK && z->failure.status == HVLOG_EXPORT_OK)
            z->failure = err;
        z->queued_bytes -= s->len;
        z->head = (z->head + 1) % QUEUE_SLOTS;
        z->count--;
        pthread_cond_broadcast(&z->written);
    }
    pthread_mutex_unlock(&z->lock);
    return NULL;
}

struct trace_zworker *hvlog__trace_zworker_create(struct export_zenc *zenc, trace_zworker_sink sink,
                                           void *ctx)
{
    struct trace_zworker *z = calloc(1, sizeof(*z));
    sigset_t all, old;
    int e;

    if (!z)
        return NULL;
    z->failure.status = HVLOG_EXPORT_OK;
    z->zenc = zenc;
    z->sink = sink;
    z->ctx = ctx;
    if (pthread_mutex_init(&z->lock, NULL) != 0) {
        free(z);
        return NULL;
    }
    if (pthread_cond_init(&z->queued, NULL) != 0) {
        pthread_mutex_destroy(&z->lock);
        free(z);
        return NULL;
    }
    if (pthread_cond_init(&z->written, NULL) != 0) {
        pthread_cond_destroy(&z->queued);
        pthread_mutex_destroy(&z->lock);
        free(z);
        return NULL;
    }
    /* Signals stay with the recorder's threads (its SIGINT handler ends a
     * recording by interrupting their waits, not the worker's). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&z->thread, NULL, worker_main, z);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        pthread_cond_destroy(&z->written);
        pthread_cond_destroy(&z->queued);
        pthread_mutex_destroy(&z->lock);
        free(z);
        return NULL;
    }
    return z;
}

enum hvlog_export_status hvlog__trace_zworker_push(struct trace_zworker *z, uint32_t type, bool started,
                                            const uint8_t *bytes, size_t len,
                                            struct hvlog_export_error *err)
{
    struct zslot *s;
    enum hvlog_export_status status;

    pthread_mutex_lock(&z->lock);
    while ((z->count == QUEUE_SLOTS || (z->count > 0 && z->queued_bytes + len > QUEUE_BYTES)) &&
           z->failure.status == HVLOG_EXPORT_OK)
        pthread_cond_wait(&z->written, &z->lock);
    status = z->failure.status;
    if (status != HVLOG_EXPORT_OK) {
        if (err)
            *err = z->failure;
        pthread_mutex_unlock(&z->lock);
        return status;
    }
    s = &z->slot[(z->head + z->count) % QUEUE_SLOTS];
    pthread_mutex_unlock(&z->lock);
    /* A free slot is the appender's alone: the worker reads only queued
     * ones, so the copy needs no lock. */
    if (s->cap < len) {
        uint8_t *more = realloc(s->bytes, len);

        if (!more) /* nothing queued: the file is still whole */
            return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        s->bytes = more;
        s->cap = len;
    }
    memcpy(s->bytes, bytes, len);
    s->len = len;
    s->type = type;
    s->started = started;
    pthread_mutex_lock(&z->lock);
    z->count++;
    z->queued_bytes += len;
    pthread_cond_signal(&z->queued);
    pthread_mutex_unlock(&z->lock);
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog__trace_zworker_drain(struct trace_zworker *z,
                                             struct hvlog_export_error *err)
{
    enum hvlog_export_status status;

    pthread_mutex_lock(&z->lock);
    while (z->count != 0)
        pthread_cond_wait(&z->written, &z->lock);
    status = z->failure.status;
    if (status != HVLOG_EXPORT_OK && err)
        *err = z->failure;
    pthread_mutex_unlock(&z->lock);
    return status;
}

void hvlog__trace_zworker_destroy(struct trace_zworker *z, bool write_queued)
{
    if (!z)
        return;
    pthread_mutex_lock(&z->lock);
    z->stop = true;
    z->drop = !write_queued;
    pthread_cond_signal(&z->queued);
    pthread_mutex_unlock(&z->lock);
    pthread_join(z->thread, NULL);
    for (uint32_t i = 0; i < QUEUE_SLOTS; i++)
        free(z->slot[i].bytes);
    pthread_cond_destroy(&z->written);
    pthread_cond_destroy(&z->queued);
    pthread_mutex_destroy(&z->lock);
    free(z);
}
