/* SPDX-License-Identifier: MIT */
/*
 * A small deterministic host for engine tests: a page pool per domain with
 * exact accounting, flat guest memory per partition, a message FIFO per root
 * VP, a step clock, fault injection, and helpers that issue hypercalls the
 * way a root would (real input values, fast registers or input pages).
 *
 * Single-threaded unless a test installs its own run_on_lp.
 */
#ifndef HVLOG_TESTS_FAKE_HOST_H
#define HVLOG_TESTS_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/engine/engine.h"
#include "hvlog/engine/log.h"
#include "hvlog/hvlog.h"

#define FAKE_ROOT_ID 1ull
#define FAKE_CHILD_ID 2ull
#define FAKE_MAX_DOMAINS 4u
#define FAKE_MAX_VPS 16u
#define FAKE_QUEUE_DEPTH 64u
#define FAKE_GUEST_PAGES 16u /* GPA space of each partition: 16 pages */

/* Well-known GPAs inside the root's space. */
#define FAKE_IN_GPA 0x1000ull  /* input page */
#define FAKE_OUT_GPA 0x2000ull /* output page */
#define FAKE_RO_GPA 0x3000ull  /* readable, not writable: a write faults */
#define FAKE_NOACCESS_GPA 0x4000ull /* unreadable: any access faults */

struct fake_host {
    struct hvlog_engine *engine;
    struct hvlog_logger *logger;
    struct hvlog_host_ops ops;

    /* pool: pages available per domain; page allocations outstanding */
    uint32_t domains;
    int64_t pool_free[FAKE_MAX_DOMAINS];
    uint32_t allocs_outstanding;
    int fail_alloc_after;   /* fail the k-th next allocation (1 = next); 0 = never */
    int fail_overlay_after; /* likewise for overlay_map */
    int refuse_post_after;  /* likewise for post_message */
    uint32_t overlays_mapped;

    /* guest memory, flat per partition */
    uint8_t root_mem[FAKE_GUEST_PAGES * 4096];
    uint8_t child_mem[FAKE_GUEST_PAGES * 4096];

    /* messages: FIFO per VP of posted message pointers; copies as delivered */
    const struct hv_message *queue[FAKE_MAX_VPS][FAKE_QUEUE_DEPTH];
    uint32_t queue_len[FAKE_MAX_VPS];
    bool vp_ineligible[FAKE_MAX_VPS];
    bool deliver_immediately; /* post answers DELIVERED (copied into a slot) */
    uint32_t posts;
    uint32_t withdrawals;

    uint64_t now;   /* reference time; advances by 1 on every read */
    uint32_t lp_domain[HVLOG_MAX_LPS > 64 ? 64 : HVLOG_MAX_LPS];
};

/* Create @h with an engine of @lps LPs (root VPs = LPs), @domains domains,
 * @pool_pages pages per domain, and @profile (NULL = default). Returns 0. */
int fake_host_init(struct fake_host *h, uint32_t lps, uint32_t domains, int64_t pool_pages,
                   const struct hvlog_profile *profile);
void fake_host_fini(struct fake_host *h);

/* Pool pages in use (allocated and not freed), all domains. */
int64_t fake_pool_used(const struct fake_host *h);

/* -- hypercalls as a root would issue them -- */

/* Raw: returns the HV_STATUS from RAX; *outcome (if not NULL) gets the outcome. */
hv_status_t fake_call(struct fake_host *h, uint64_t partition, uint32_t vp, uint64_t rcx,
                      uint64_t rdx, uint64_t r8, enum hvlog_hypercall_outcome *outcome);
/* Fast call of @code with @len input bytes, as the root on VP 0. */
hv_status_t fake_fast(struct fake_host *h, uint16_t code, const void *input, uint32_t len);
/* Memory call: input copied to FAKE_IN_GPA; output at FAKE_OUT_GPA. */
hv_status_t fake_mem(struct fake_host *h, uint16_t code, const void *input, uint32_t len);

/* The nine calls in their canonical 2013 form, as the root on VP 0. */
hv_status_t fake_init(struct fake_host *h, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint32_t basis);
hv_status_t fake_finalize(struct fake_host *h, uint32_t type);
hv_status_t fake_create(struct fake_host *h, uint32_t type, uint32_t index, uint32_t prox_id,
                        uint32_t prox_flags);
hv_status_t fake_delete(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_map(struct fake_host *h, uint32_t type, uint32_t index, uint64_t *gpa_pages);
hv_status_t fake_unmap(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_sources(struct fake_host *h, uint32_t type, uint64_t mask);
hv_status_t fake_release(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_flush(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_flush_from(struct fake_host *h, uint32_t vp, uint32_t type, uint32_t index);

/* Init + create + map buffers 0..count-1 + enable @mask: a ready group. */
void fake_setup_group(struct fake_host *h, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint64_t mask);

/* Log one event with a payload of @len bytes of a pattern derived from @seq. */
enum hvlog_log_result fake_log(struct fake_host *h, uint32_t lp, uint32_t type, uint32_t len,
                               uint32_t seq);

/* -- messages -- */

/* Take the oldest message queued to @vp (copying it, as SynIC does) and tell
 * the engine its buffer is free. Returns false when none. */
bool fake_take_message(struct fake_host *h, uint32_t vp, uint32_t *type, uint32_t *index);
/* Messages queued to @vp. */
uint32_t fake_queued(const struct fake_host *h, uint32_t vp);

/* -- buffers -- */

uint32_t fake_state(struct fake_host *h, uint32_t type, uint32_t index); /* 0xFF: none */
struct hv_eventlog_buffer_header fake_header(struct fake_host *h, uint32_t type, uint32_t index);
/* Walk a Ready chain from @first: fills @indices (max @max); returns the count,
 * or -1 if it loops or leaves range. */
int fake_chain(struct fake_host *h, uint32_t type, uint32_t first, uint32_t *indices, int max);

/* -- a snapshot of everything observable, for "a failing call changes nothing" -- */

struct fake_snapshot {
    struct hvlog_group_info group[HVLOG_TYPE_COUNT];
    struct hvlog_buffer_info buffer[2][HV_EVENTLOG_MAX_BUFFER_COUNT];
    int64_t pool_free[FAKE_MAX_DOMAINS];
    uint32_t queue_len[FAKE_MAX_VPS];
    uint32_t overlays_mapped;
    uint8_t out_page[4096];
};
void fake_snapshot(struct fake_host *h, struct fake_snapshot *s);
/* 0 when equal, else a line number-ish code naming the first difference. */
int fake_snapshot_diff(const struct fake_snapshot *a, const struct fake_snapshot *b);

/* The control value of a simple call. */
static inline uint64_t fake_rcx(uint16_t code, bool fast)
{
    return code | (fast ? HV_HYPERCALL_FAST_BIT : 0);
}

#endif /* HVLOG_TESTS_FAKE_HOST_H */
