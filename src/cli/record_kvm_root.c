/* SPDX-License-Identifier: MIT */
/* `hvlog record --from kvm`'s root as a real guest: see record_kvm_root.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/record_kvm_root.h"
#include "hvlog/trace/walk.h"
#if HVLOG_HAVE_KVM
#include "hvlog/kvm/kvm.h"
#endif

#if HVLOG_HAVE_KVM

/* At most this many bytes wait for the recording thread; the VMM's thread
 * (and so the guest) waits beyond it rather than grow memory without end. */
#define QUEUE_LIMIT (64u << 20)

struct queued {
    struct queued *next;
    uint32_t type, index;
    size_t len;
    uint8_t bytes[];
};

struct record_kvm_root {
    struct hvlog_kvm_root *root;
    enum hvlog_abi_profile abi;
    pthread_mutex_t lock;
    pthread_cond_t room;
    struct queued *head, **tail; /* under @lock */
    size_t queued_bytes;         /* under @lock */
    bool draining;               /* under @lock: nobody takes from the queue any more */
    bool dropped;                /* under @lock: a buffer was lost for lack of memory */
    /* What the VMM's own check made of the guest's buffers, per type: the
     * recording thread's (poll, stats). Its counts, not the guest's, say
     * what reached the trace (the guest is not trusted). */
    struct {
        uint64_t buffers, bytes, entries, events_lost; /* accepted */
        uint64_t rejected;                             /* refused: corrupt */
    } taken[2];
};

/* The root VM's thread: copy the guest's buffer into the queue. */
static void on_guest_buffer(void *arg, uint32_t type, uint32_t index, const uint8_t *bytes,
                            size_t len)
{
    struct record_kvm_root *g = arg;
    struct queued *q = malloc(sizeof *q + len);

    pthread_mutex_lock(&g->lock);
    if (!q) {
        g->dropped = true;
        pthread_mutex_unlock(&g->lock);
        return;
    }
    q->next = NULL;
    q->type = type;
    q->index = index;
    q->len = len;
    memcpy(q->bytes, bytes, len);
    while (g->queued_bytes > QUEUE_LIMIT && !g->draining)
        pthread_cond_wait(&g->room, &g->lock);
    *g->tail = q;
    g->tail = &q->next;
    g->queued_bytes += len;
    pthread_mutex_unlock(&g->lock);
}

uint32_t record_kvm_root_ram_pages(void)
{
    return HVLOG_KVM_ROOT_RAM_PAGES;
}

bool record_kvm_root_start(struct hvlog_sim *sim, enum hvlog_abi_profile abi,
                           const struct record_kvm_root_group groups[2],
                           struct record_kvm_root **out, char *why, size_t why_size)
{
    struct record_kvm_root *g = calloc(1, sizeof *g);
    struct hvlog_kvm_root_config rc;
    const char *hook;

    *out = NULL;
    if (!g) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    g->abi = abi;
    g->tail = &g->head;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->room, NULL);
    memset(&rc, 0, sizeof rc);
    rc.abi = abi;
    for (uint32_t t = 0; t < 2; t++) {
        const struct hvlog_group_params *p = &groups[t].params;

        rc.groups[t] = (struct hvlog_kvm_root_group){
            .enabled = groups[t].enabled, .buffers = p->buffer_count, .pages = p->buffer_pages,
            .threshold = p->threshold, .time_basis = p->time_basis, .mode = p->mode,
            .system_time = p->system_time, .sources = groups[t].sources};
    }
    rc.buffer = on_guest_buffer;
    rc.arg = g;
    /* Test hook (tests/cli/record_kvm.sh): the guest names its Nth buffer
     * by a wrong index, which the check in record_kvm_root_poll refuses. */
    hook = getenv("HVLOG_TEST_KVM_ROOT_MISNAME");
    if (hook && *hook)
        rc.misname_buffer = (uint32_t)strtoul(hook, NULL, 10);
    /* Test hook: the guest loops without an exit at stop, which gives up
     * on it after this many ms (the stop deadline) and fails. */
    hook = getenv("HVLOG_TEST_KVM_ROOT_SPIN_MS");
    if (hook && *hook) {
        rc.spin_at_stop = true;
        rc.stop_deadline_ms = (uint32_t)strtoul(hook, NULL, 10);
    }
    if (hvlog_kvm_root_start(sim, &rc, &g->root, why, why_size) != 0) {
        record_kvm_root_destroy(g);
        return false;
    }
    *out = g;
    return true;
}

uint32_t record_kvm_root_poll(struct record_kvm_root *g, const struct hvlog_client_sink *sink,
                              void *arg)
{
    struct queued *list;
    uint32_t n = 0;

    pthread_mutex_lock(&g->lock);
    list = g->head;
    g->head = NULL;
    g->tail = &g->head;
    g->queued_bytes = 0;
    pthread_cond_broadcast(&g->room);
    pthread_mutex_unlock(&g->lock);
    while (list) {
        struct queued *q = list;
        struct hvlog_walk_expect expect = {q->type, q->index, HvEventLogBufferStateReady,
                                           (uint32_t)q->len};
        struct hvlog_buffer_summary s;
        enum hvlog_walk_error err;

        list = q->next;
        /* The guest checked it; the VMM does not trust the guest. */
        err = q->len > UINT32_MAX ? HVLOG_WALK_SHORT
                                  : hvlog_buffer_walk(q->bytes, q->len, g->abi, &expect, &s, NULL,
                                                      NULL);
        /* q->type < 2: the VMM's ring check refuses any other. */
        if (err != HVLOG_WALK_OK) {
            g->taken[q->type].rejected++;
            if (sink && sink->corrupt)
                sink->corrupt(arg, q->type, q->index, hvlog_walk_error_text(err));
        } else {
            g->taken[q->type].buffers++;
            g->taken[q->type].bytes += q->len;
            g->taken[q->type].entries += s.entries;
            g->taken[q->type].events_lost += s.events_lost;
            if (sink && sink->buffer)
                sink->buffer(arg, &s, q->bytes, q->len);
        }
        free(q);
        n++;
    }
    return n;
}

bool record_kvm_root_stop(struct record_kvm_root *g, const struct hvlog_client_sink *sink,
                          void *arg, char *why, size_t why_size)
{
    bool ok;

    /* The guest concludes while the VMM's thread may wait for room: let
     * it through (the queue is taken below, after the join). */
    pthread_mutex_lock(&g->lock);
    g->draining = true;
    pthread_cond_broadcast(&g->room);
    pthread_mutex_unlock(&g->lock);
    ok = hvlog_kvm_root_stop(g->root, why, why_size) == 0;
    record_kvm_root_poll(g, sink, arg);
    if (ok && g->dropped) {
        snprintf(why, why_size, "out of memory: a buffer from the guest root was lost");
        ok = false;
    }
    return ok;
}

void record_kvm_root_stats(const struct record_kvm_root *g, uint32_t type,
                           struct hvlog_client_stats *out)
{
    struct hvlog_kvm_root_result r;

    memset(out, 0, sizeof *out);
    if (type >= 2)
        return;
    hvlog_kvm_root_result(g->root, type, &r);
    /* Only the guest knows its messages, chains and Release failures; what
     * reached the trace is the VMM's count. A buffer the guest's client
     * refused or the VMM's check refused is corrupt either way. */
    out->messages = r.messages;
    out->buffers = g->taken[type].buffers;
    out->entries = g->taken[type].entries;
    out->bytes = g->taken[type].bytes;
    out->events_lost = g->taken[type].events_lost;
    out->corrupt = r.corrupt + g->taken[type].rejected;
    out->release_failures = r.release_failures;
    out->longest_chain = r.longest_chain;
}

bool record_kvm_root_reference_time(const struct record_kvm_root *g, uint32_t type,
                                    uint64_t *out)
{
    struct hvlog_kvm_root_result r;

    hvlog_kvm_root_result(g->root, type, &r);
    if (r.reference_time_known && out)
        *out = r.reference_time_at_init;
    return r.reference_time_known;
}

void record_kvm_root_destroy(struct record_kvm_root *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->draining = true;
    pthread_cond_broadcast(&g->room);
    pthread_mutex_unlock(&g->lock);
    hvlog_kvm_root_destroy(g->root);
    record_kvm_root_poll(g, NULL, NULL); /* frees what is left */
    pthread_cond_destroy(&g->room);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

#else /* !HVLOG_HAVE_KVM */

uint32_t record_kvm_root_ram_pages(void)
{
    return 0;
}

bool record_kvm_root_start(struct hvlog_sim *sim, enum hvlog_abi_profile abi,
                           const struct record_kvm_root_group groups[2],
                           struct record_kvm_root **out, char *why, size_t why_size)
{
    (void)sim;
    (void)abi;
    (void)groups;
    *out = NULL;
    snprintf(why, why_size, "this hvlog was built without the KVM host");
    return false;
}

uint32_t record_kvm_root_poll(struct record_kvm_root *g, const struct hvlog_client_sink *sink,
                              void *arg)
{
    (void)g;
    (void)sink;
    (void)arg;
    return 0;
}

bool record_kvm_root_stop(struct record_kvm_root *g, const struct hvlog_client_sink *sink,
                          void *arg, char *why, size_t why_size)
{
    (void)g;
    (void)sink;
    (void)arg;
    snprintf(why, why_size, "this hvlog was built without the KVM host");
    return false;
}

void record_kvm_root_stats(const struct record_kvm_root *g, uint32_t type,
                           struct hvlog_client_stats *out)
{
    (void)g;
    (void)type;
    memset(out, 0, sizeof *out);
}

bool record_kvm_root_reference_time(const struct record_kvm_root *g, uint32_t type,
                                    uint64_t *out)
{
    (void)g;
    (void)type;
    (void)out;
    return false;
}

void record_kvm_root_destroy(struct record_kvm_root *g)
{
    (void)g;
}

#endif
