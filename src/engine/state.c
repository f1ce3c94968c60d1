/* SPDX-License-Identifier: MIT */
/*
 * The buffer state machine (spec §6) and the free list (§7.2).
 *
 *              Create (T1)
 *                  |
 *   (gone) <-T2- STANDBY <-------------- T11 Unmap ---------------+
 *                  |  ^                                           |
 *           T3 Map |  | T4 Unmap                                  |
 *                  v  |                                           |
 *                 FREE <-------------- T10 Release ------------ READY
 *                  |                                              ^
 *   T5 an event    |                       T8 threshold reached   |
 *   needs a buffer v                       T9 flush of the list   |
 *                IN_USE --- T6 full / T7 flush ------------->  COMPLETE
 *                  ^                                              |
 *                  +------ TX_RECYCLE (current profile only) -----+
 *
 * TX_RECYCLE: a Circular-mode group with no Free buffer reuses its scope's
 * oldest Complete buffer (§11.1), and the SystemDiagnostics ring reuses the
 * next buffer of the ring whatever it holds (§11.6). The ring's buffers
 * come into being Free (TX_RING_CREATE); it never uses T2-T4 (Map and
 * Unmap only change what the root can see) nor T8-T11 (no messages).
 *
 * Every change of a buffer's state goes through hvlog__buffer_transition(), which
 * checks the transition against the table below, updates the engine's copy
 * and publishes the header's BufferState with a release store, after the
 * caller has written every other header field the new state makes valid
 * (§6.3: the root reads BufferState with acquire). Called with the group
 * lock held.
 */
#include <string.h>

#include "engine/engine_internal.h"

#define GONE 0xFFFFFFFFu /* "no buffer": before T1, after T2 */

static const struct {
    enum hvlog_transition t;
    uint32_t from, to;
} transitions[] = {
    {T1_CREATE, GONE, HvEventLogBufferStateStandby},
    {T2_DELETE, HvEventLogBufferStateStandby, GONE},
    {T3_MAP, HvEventLogBufferStateStandby, HvEventLogBufferStateFree},
    {T4_UNMAP_FREE, HvEventLogBufferStateFree, HvEventLogBufferStateStandby},
    {T5_TAKE, HvEventLogBufferStateFree, HvEventLogBufferStateInUse},
    {T6_FULL, HvEventLogBufferStateInUse, HvEventLogBufferStateComplete},
    {T7_FLUSH, HvEventLogBufferStateInUse, HvEventLogBufferStateComplete},
    {T8_THRESHOLD, HvEventLogBufferStateComplete, HvEventLogBufferStateReady},
    {T9_FLUSH_LIST, HvEventLogBufferStateComplete, HvEventLogBufferStateReady},
    {T10_RELEASE, HvEventLogBufferStateReady, HvEventLogBufferStateFree},
    {T11_UNMAP_READY, HvEventLogBufferStateReady, HvEventLogBufferStateStandby},
    /* §12.1 release_from_complete (D13): the buffer leaves its pending list. */
    {TX_RELEASE_COMPLETE, HvEventLogBufferStateComplete, HvEventLogBufferStateFree},
    /* §11.1 Circular mode, §11.6 the SystemDiagnostics ring. */
    {TX_RECYCLE, HvEventLogBufferStateComplete, HvEventLogBufferStateInUse},
    {TX_RING_CREATE, GONE, HvEventLogBufferStateFree},
};

static int transition_row(enum hvlog_transition t)
{
    for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++) {
        if (transitions[i].t == t)
            return (int)i;
    }
    return -1;
}

bool hvlog__transition_is_legal(uint32_t from, uint32_t to, enum hvlog_transition t)
{
    int row = transition_row(t);
    return row >= 0 && transitions[row].from == from && transitions[row].to == to;
}

/*
 * Is a Flush of a buffer in @state a no-op (§5.9 step 3, §6.2)? Only under
 * the default Flush: with flush_index = vp the index names a VP, with
 * flush_scope = type every InUse buffer and pending list of the type is
 * flushed (D1, D18). Never for the SystemDiagnostics ring, which the root
 * does not manage (§11.6: OPERATION_DENIED): it is created by
 * TX_RING_CREATE, before g->ring is set, and never returns to Free.
 */
static bool flush_view_idle(struct hvlog_group *g, enum hvlog_transition t, uint32_t state)
{
    const struct hvlog_profile *p = &engine_of_group(g)->config.profile;

    if (t == TX_RING_CREATE || g->ring || p->flush_index != HVLOG_FLUSH_INDEX_BUFFER ||
        p->flush_scope != HVLOG_FLUSH_SCOPE_BUFFER)
        return false;
    return state == HvEventLogBufferStateStandby || state == HvEventLogBufferStateFree ||
           state == HvEventLogBufferStateReady;
}

void hvlog__buffer_transition(struct hvlog_group *g, uint32_t index, enum hvlog_transition t)
{
    struct hvlog_buffer *b = &g->buffers[index];
    int row = transition_row(t);
    uint32_t from = b->exists ? b->state : GONE;

    /* Handlers check states before calling; a mismatch is an engine bug:
     * warn once, stop recording into the group, leave the buffer as it is. */
    if (HVLOG_BUG_ON(g, row < 0 || transitions[row].from != from, "illegal buffer transition"))
        return;
    /* The flush view (engine_internal.h, hvlog__flush_is_noop): 0 before
     * the state changes, so that a root which reads the new BufferState
     * (acquire) and then flushes never finds it 1 for an InUse or Complete
     * buffer; 1 again only once the new state is stored. */
    __atomic_store_n(&g->flush_idle[index], 0, __ATOMIC_RELAXED);
    if (transitions[row].to == GONE) {
        b->exists = false;
        return;
    }
    b->exists = true;
    b->state = transitions[row].to;
    __atomic_store_n((uint32_t *)(b->pages.hva + HVLOG_HDR_BUFFER_STATE), b->state,
                     __ATOMIC_RELEASE);
    if (flush_view_idle(g, t, b->state))
        __atomic_store_n(&g->flush_idle[index], 1, __ATOMIC_RELEASE);
}

/*
 * §5.3 effects: zeroed pages, header initialized, state Standby (T1).
 * §11.4: in the current profile BufferSize excludes the header,
 * NextBufferOffset counts from its end and there is no Alignment byte.
 */
void hvlog__buffer_header_init(struct hvlog_group *g, uint32_t index)
{
    struct hvlog_buffer *b = &g->buffers[index];
    struct hv_eventlog_buffer_header h = {
        .buffer_size = group_header_buffer_size(g),
        .buffer_index = index,
        .alignment = g->current ? 0 : HV_EVENTLOG_ENTRY_ALIGNMENT, /* DEC-HDRFIELDS */
        .logger_id = (uint16_t)g->type,                            /* DEC-HDRFIELDS */
        .buffer_state = HvEventLogBufferStateStandby,
        .next_buffer_offset = HV_EVENTLOG_BUFFER_HEADER_SIZE - group_data_start(g),
        .type = g->type,
        .next_buffer_index = HV_EVENTLOG_BUFFER_INDEX_NONE,
    };

    memset(b->pages.hva, 0, (size_t)b->pages.count * HV_PAGE_SIZE);
    hv_eventlog_buffer_header_store(b->pages.hva, &h);
}

/*
 * The header fields a buffer gets when an LP takes it (T5, TX_RECYCLE),
 * written before the state is published (§6.3). The ring keeps its
 * NextBufferIndex (the ring order), and its data area must read zero past
 * the valid entries, because the diaglog reader stops at the first entry
 * of Type 0 (§11.6, D10). Clearing up to 2 MiB here would run under the
 * group lock and the global scope's lock on the logging path, so the take
 * clears one entry header and hvlog__ring_zero_ahead() (log.c) the rest, as the
 * buffer fills. Its TimeStamp is the buffer's generation and must grow
 * strictly.
 */
void hvlog__buffer_header_take(struct hvlog_engine *e, struct hvlog_group *g, uint32_t index, uint32_t lp,
                        uint32_t events_lost)
{
    uint8_t *hdr = g->buffers[index].pages.hva;
    uint64_t now = e->ops.ref_time_100ns(e->config.ctx); /* DEC-HDRTIME */

    if (g->ring) {
        struct hvlog_buffer *b = &g->buffers[index];
        /* The ring is current-profile only: offsets count from the data area. */
        uint32_t old_next = hvlog_load_le32(hdr + HVLOG_HDR_NEXT_BUFFER_OFFSET);

        now = now > g->last_stamp ? now : g->last_stamp + 1;
        g->last_stamp = now;
        /* What the last generation may have left: its entries, and what an
         * earlier one left that it did not get round to clearing. */
        if (b->ring_zeroed >= b->ring_stale || b->ring_stale < old_next)
            b->ring_stale = old_next;
        b->ring_zeroed = 0;
        hvlog__ring_zero_ahead(b, hdr + HV_EVENTLOG_BUFFER_HEADER_SIZE, 0);
    } else {
        hvlog_store_le32(hdr + offsetof(struct hv_eventlog_buffer_header, next_buffer_index),
                         NONE);
    }
    hvlog_store_le32(hdr + HVLOG_HDR_NEXT_BUFFER_OFFSET,
                     HV_EVENTLOG_BUFFER_HEADER_SIZE - group_data_start(g));
    hvlog_store_le64(hdr + offsetof(struct hv_eventlog_buffer_header, time_stamp), now);
    hvlog_store_le32(hdr + offsetof(struct hv_eventlog_buffer_header, events_lost), events_lost);
    if (g->current) {
        /* §11.4: a u16 LP, and the n-th buffer this LP took is numbered n. */
        hvlog_store_le16(hdr + offsetof(struct hv_eventlog_buffer_header_current,
                                        logical_processor),
                         (uint16_t)lp);
        hvlog_store_le32(hdr + offsetof(struct hv_eventlog_buffer_header_current,
                                        lp_sequence_number),
                         ++g->lp_sequence[lp]);
    } else {
        hvlog_store_le8(hdr + offsetof(struct hv_eventlog_buffer_header, logical_processor),
                        (uint8_t)lp);
    }
}

/* ---- the free list: FIFO, Map and Release append, T5 takes (DEC-SELECT) ---- */

void hvlog__free_list_append(struct hvlog_group *g, uint32_t index)
{
    g->buffers[index].next = NONE;
    if (g->free_tail == NONE)
        g->free_head = index;
    else
        g->buffers[g->free_tail].next = index;
    g->free_tail = index;
    __atomic_store_n(&g->free_count, g->free_count + 1, __ATOMIC_RELAXED);
}

bool hvlog__free_list_remove(struct hvlog_group *g, uint32_t index)
{
    uint32_t prev = NONE;

    for (uint32_t i = g->free_head; i != NONE; prev = i, i = g->buffers[i].next) {
        if (i != index)
            continue;
        if (prev == NONE)
            g->free_head = g->buffers[i].next;
        else
            g->buffers[prev].next = g->buffers[i].next;
        if (g->free_tail == i)
            g->free_tail = prev;
        g->buffers[i].next = NONE;
        __atomic_store_n(&g->free_count, g->free_count - 1, __ATOMIC_RELAXED);
        return true;
    }
    return false;
}

/*
 * §7.2 DEC-SELECT: the global class takes the head. A local scope takes the
 * first buffer (from the head) created for its LP's domain or with no
 * domain; failing that the head, unless local_strict_domain forbids it.
 * Returns the index removed from the list, or NONE.
 */
uint32_t hvlog__free_list_take(struct hvlog_engine *e, struct hvlog_group *g, uint32_t lp)
{
    uint32_t pick = NONE;

    if (g->free_head == NONE)
        return NONE;
    if (!g->local) {
        pick = g->free_head;
    } else {
        uint32_t domain = e->ops.lp_domain ? e->ops.lp_domain(e->config.ctx, lp) : 0;
        for (uint32_t i = g->free_head; i != NONE; i = g->buffers[i].next) {
            if (!g->buffers[i].domain_valid || g->buffers[i].domain == domain) {
                pick = i;
                break;
            }
        }
        if (pick == NONE && !e->config.profile.local_strict_domain)
            pick = g->free_head;
    }
    if (pick != NONE)
        hvlog__free_list_remove(g, pick);
    return pick;
}
