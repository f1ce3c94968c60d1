/* SPDX-License-Identifier: MIT */
/*
 * The logging path's slow half, and the concurrency protocol (Q-CONC).
 *
 * == Who owns what ==
 *
 * A scope is an LP of a local type, or the machine for a global type
 * (struct hvlog__scope in hvlog/engine/log.h). Its hot fields (buffer,
 * offset, end) and its single-writer counters are written only by the
 * scope's *owner*:
 *   - local scope n: code running on LP n, i.e. hvlog_log() calls for LP n,
 *     and functions the host runs "as LP n" through run_on_lp();
 *   - global scope: whoever holds the scope's spinlock.
 * The owner needs no lock to append to its InUse buffer: that is the
 * lock-free hot path (hvlog_log, inline). Everything else about buffers -
 * states, the free list, pending lists, the message buffer - is guarded by
 * the group lock (engine_internal.h gives the lock order).
 *
 * == The protocol between an LP's logging and the root's hypercalls ==
 *
 *   Root call          what it touches            how it synchronizes
 *   ---------------    -----------------------    --------------------------------
 *   Map, Release       a Standby/Ready buffer,    group lock; the LP takes Free
 *                      the free list              buffers under the same lock (T5)
 *   Unmap, Delete      a Free/Ready/Standby buf   group lock; an InUse buffer is
 *                                                 refused, so never the LP's
 *   Flush of Complete  a pending list             group lock; the LP appends to
 *                                                 its list under the same lock
 *   Flush of InUse     the scope's hot fields     local: run_on_lp(owner) - the
 *                                                 flush runs as the owner, between
 *                                                 two hvlog_log() calls; global:
 *                                                 the scope spinlock
 *   SetSources         the source mask            release store; hvlog_log()
 *                                                 loads it with acquire; turning
 *                                                 bits off then run_on_lp()s
 *                                                 every LP, so no event under
 *                                                 the old mask is still running
 *
 * run_on_lp() is the host's promise of mutual exclusion with that LP's
 * logging, with happens-before both ways (an IPI in a hypervisor; in the
 * simulator, a mailbox polled between events by the one worker thread that
 * owns the LP and runs it among others, guarded by a mutex: src/sim/lp.c).
 * So the local hot path has no lock, no locked instruction and no fence:
 * on x86 its only ordering cost is that the NextBufferOffset store is a
 * release store, which is a plain store.
 *
 * == Memory orders ==
 *
 *   header NextBufferOffset   release store by the owner after the entry bytes;
 *                             the root reads it with acquire, so every byte
 *                             below it is complete (§6.3)
 *   header BufferState        release store in hvlog__buffer_transition(), after the
 *                             other header fields of the new state (§6.3)
 *   type source_mask          release store by SetSources (after Initialize's
 *                             stores); acquire load on the hot path
 *   group free_count, mode    relaxed: a hint read without the lock to count a
 *                             loss cheaply; a wrong guess only costs the lock
 *   scope lost counters       relaxed: single writer (the owner); readers
 *                             (stats) want a recent value, not an order
 *   spinlocks                 acquire on lock, release on unlock
 */
#include <string.h>

#include "engine/engine_internal.h"

/* §7.4, Q-LOSTSAT: one more lost event for the scope's next buffer, saturating. */
static void scope_count_lost(struct hvlog__scope *s, uint64_t *cause)
{
    uint32_t lost = __atomic_load_n(&s->lost_pending, __ATOMIC_RELAXED);

    if (lost != HV_EVENTLOG_MAX_LOST_EVENTS)
        __atomic_store_n(&s->lost_pending, lost + 1, __ATOMIC_RELAXED);
    __atomic_store_n(cause, __atomic_load_n(cause, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static void scope_clear_hot(struct hvlog__scope *s)
{
    s->buffer = NULL;
    s->offset = 0;
    s->end = 0;
}

/*
 * T6/T7: the owner's InUse buffer becomes Complete and joins the scope's
 * pending list (§8.1), which may make the list due. Owner context.
 */
void hvlog__scope_complete_active(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope,
                           enum hvlog_transition t, uint32_t vp, bool notify_now)
{
    struct hvlog__scope *s = group_scope(e, g, scope);
    uint32_t index;

    hvlog__spin_lock(e, &g->lock);
    index = s->active_index;
    if (index != NONE) {
        hvlog__buffer_transition(g, index, t);
        __atomic_store_n(&s->active_index, NONE, __ATOMIC_RELAXED);
        if (!g->ring) { /* §11.6: the ring has no lists and sends no messages */
            hvlog__pending_append(e, g, scope, index, vp);
            if (notify_now) /* §5.9 step 2: a flush notifies whatever the threshold */
                hvlog__pending_make_due(e, g, scope, vp, true);
        }
    }
    hvlog__spin_unlock(&g->lock);
    scope_clear_hot(s);
}

/*
 * Entries in a Complete buffer about to be reused (Circular mode, the ring).
 * The engine wrote them itself, so their Size fields are trusted.
 */
uint64_t hvlog__buffer_count_entries(const struct hvlog_group *g, uint32_t index)
{
    const uint8_t *hdr = g->buffers[index].pages.hva;
    const uint8_t *data = hdr + group_data_start(g);
    uint32_t end = hvlog_load_le32(hdr + HVLOG_HDR_NEXT_BUFFER_OFFSET);
    uint32_t off = HV_EVENTLOG_BUFFER_HEADER_SIZE - group_data_start(g);
    uint64_t n = 0;

    while (off < end) {
        uint16_t size = hvlog_load_le16(data + off + 4);
        if (size < HV_EVENTLOG_ENTRY_HEADER_SIZE)
            break; /* cannot happen: hvlog_entry_write() never writes one */
        off += size;
        n++;
    }
    return n;
}

/*
 * §11.6, the SystemDiagnostics ring: a reused buffer's data area reads zero
 * past its valid entries, cleared lazily. Called by the buffer's writer
 * once the entries below @next (NextBufferOffset, from the data area) are
 * written and before @next is published, it clears what an earlier
 * generation left in [@next, 2 x @next + 16). So a reader that follows
 * NextBufferOffset always finds an empty entry header (Type 0) right past
 * the last valid entry, every byte from there to 2 x NextBufferOffset + 16
 * reads zero, and from half full on the whole rest does. Each event clears
 * at most twice its own size (the take clears 16 bytes), where clearing the
 * whole buffer at the take cost up to 2 MiB under two spinlocks.
 */
void hvlog__ring_zero_ahead(struct hvlog_buffer *b, uint8_t *data, uint32_t next)
{
    uint64_t target = 2ull * next + HV_EVENTLOG_ENTRY_HEADER_SIZE;
    uint32_t to = target < b->ring_stale ? (uint32_t)target : b->ring_stale;
    /* Below @next are this generation's entries: never clear them. */
    uint32_t from = b->ring_zeroed > next ? b->ring_zeroed : next;

    if (from < to)
        memset(data + from, 0, to - from);
    if (to > b->ring_zeroed)
        b->ring_zeroed = to;
}

/*
 * Which buffer the scope takes next (group lock held), or NONE:
 *   - the SystemDiagnostics ring: the next buffer of the ring, whatever it
 *     holds (§11.6);
 *   - otherwise a Free buffer (§7.2, T5);
 *   - failing that, in Circular mode, the scope's oldest Complete buffer
 *     (§11.1), which leaves its pending list.
 * *@reuse tells whether the pick was Complete (TX_RECYCLE) rather than Free.
 */
static uint32_t scope_pick_buffer(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope,
                                  uint32_t lp, bool *reuse)
{
    uint32_t index;

    *reuse = false;
    if (g->ring) {
        index = g->ring_next;
        g->ring_next = (index + 1) % g->maximum_buffer_count;
        *reuse = g->buffers[index].state == HvEventLogBufferStateComplete;
        return index;
    }
    index = hvlog__free_list_take(e, g, lp);
    if (index == NONE && g->mode == HvEventLogModeCircular) {
        index = g->pending[scope].head;
        if (index != NONE) {
            hvlog__pending_remove(g, index);
            *reuse = true;
        }
    }
    return index;
}

/*
 * The nesting guard's losses (log.h) not yet in an EventsLost. Owner
 * context; the counter is added to by nested calls, read relaxed here. One
 * load: a global type's nested calls, on whatever LP, all count into its
 * one real scope (hvlog__log_nested), so a global take does not walk the
 * LPs.
 */
static uint64_t scope_nested_untaken(struct hvlog__scope *s)
{
    return __atomic_load_n(&s->lost_nested, __ATOMIC_RELAXED) - s->lost_nested_taken;
}

enum hvlog_log_result hvlog__log_nested(struct hvlog_logger *logger, uint32_t lp, uint32_t type)
{
    struct hvlog_engine *e = engine_of_logger(logger);
    struct hvlog_group *g = &e->groups[type];
    /* The scope the loss belongs to: this LP's, or the global one (class
     * and scopes are fixed at engine creation: no lock needed to find it).
     * An atomic add, not a load and a store: nested calls of a global type
     * on several LPs add to one counter, and on one LP a nested call can
     * itself be interrupted by another (an NMI inside an interrupt
     * handler), which a load-add-store would let lose a count. It takes no
     * lock, so it is safe in any context (x86: one locked add). */
    struct hvlog__scope *s = group_scope(e, g, g->local ? lp : 0);

    __atomic_fetch_add(&s->lost_nested, 1, __ATOMIC_RELAXED);
    return HVLOG_LOG_LOST;
}

/*
 * T5 (or TX_RECYCLE): take a buffer for the scope (§7.2, §7.3 step 4).
 * Owner context. Returns the scope's new @buffer, or NULL (the loss
 * counted) when there is none.
 */
static uint8_t *scope_take_buffer(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope,
                              uint32_t lp)
{
    struct hvlog__scope *s = group_scope(e, g, scope);
    struct hvlog_buffer *b;
    uint32_t index;
    bool reuse;

    /* The common loss case (every buffer busy) is decided without the lock;
     * only Regular groups can lose for want of a Free buffer. (mode is
     * rewritten by a re-Initialize; ring is set once, before logging.) */
    if (__atomic_load_n(&g->free_count, __ATOMIC_RELAXED) == 0 && !g->ring &&
        __atomic_load_n(&g->mode, __ATOMIC_RELAXED) == HvEventLogModeRegular) {
        scope_count_lost(s, &s->lost_no_buffer);
        return NULL;
    }
    hvlog__spin_lock(e, &g->lock);
    index = scope_pick_buffer(e, g, scope, lp, &reuse);
    if (index == NONE) {
        hvlog__spin_unlock(&g->lock);
        scope_count_lost(s, &s->lost_no_buffer);
        return NULL;
    }
    b = &g->buffers[index];
    if (reuse)
        __atomic_store_n(&s->overwritten, s->overwritten + hvlog__buffer_count_entries(g, index),
                         __ATOMIC_RELAXED);
    /* Every field the take makes valid, then the state (release, in
     * buffer_transition). EventsLost (§7.4) takes the losses counted since
     * the last buffer, those to nesting included, saturating (Q-LOSTSAT). */
    {
        uint64_t nested = scope_nested_untaken(s);
        uint64_t lost = __atomic_load_n(&s->lost_pending, __ATOMIC_RELAXED) + nested;

        s->lost_nested_taken += nested;
        hvlog__buffer_header_take(e, g, index, g->local ? lp : 0,
                                  lost > HV_EVENTLOG_MAX_LOST_EVENTS ? HV_EVENTLOG_MAX_LOST_EVENTS
                                                                     : (uint32_t)lost);
    }
    __atomic_store_n(&s->lost_pending, 0, __ATOMIC_RELAXED);
    b->owner = scope;
    hvlog__buffer_transition(g, index, reuse ? TX_RECYCLE : T5_TAKE);
    __atomic_store_n(&s->active_index, index, __ATOMIC_RELAXED);
    s->buffer = b->pages.hva + group_data_start(g);
    s->offset = HV_EVENTLOG_BUFFER_HEADER_SIZE - group_data_start(g);
    s->end = g->buffer_bytes - group_data_start(g);
    hvlog__spin_unlock(&g->lock);
    return s->buffer;
}

/* §7.3 steps 2-6 for the scope's owner. */
static enum hvlog_log_result scope_log(struct hvlog_engine *e, struct hvlog_group *g,
                                       uint32_t scope, uint32_t lp, uint16_t entry_type,
                                       uint32_t context, const void *payload, uint32_t payload_len)
{
    struct hvlog__scope *s = group_scope(e, g, scope);
    uint64_t size = hvlog_entry_size(payload_len);
    uint32_t buffer_bytes = __atomic_load_n(&g->buffer_bytes, __ATOMIC_RELAXED);
    uint32_t vp = hvlog__scope_vp(e, g, lp);
    int32_t next_offset_at = e->logger.types[g->type].next_offset_at;
    uint8_t *buffer;

    /* Step 2: an entry no buffer can hold is lost, and counted as such. */
    if (size > HV_EVENTLOG_MAX_ENTRY_SIZE || size > buffer_bytes - HV_EVENTLOG_BUFFER_HEADER_SIZE) {
        scope_count_lost(s, &s->lost_too_large);
        return HVLOG_LOG_LOST;
    }
    /* Step 3: the active buffer cannot hold it: complete it (T6). */
    if (s->buffer && size > (uint64_t)(s->end - s->offset))
        hvlog__scope_complete_active(e, g, scope, T6_FULL, vp, false);
    /* Step 4: no active buffer: take a Free one, or lose the event. */
    buffer = s->buffer ? s->buffer : scope_take_buffer(e, g, scope, lp);
    if (!buffer)
        return HVLOG_LOG_LOST;
    /* Step 5. */
    hvlog_entry_write(buffer + s->offset, (uint32_t)size, entry_type, context,
                      e->logger.types[g->type].entry_clock(e->config.ctx), payload, payload_len);
    s->offset += (uint32_t)size;
    if (g->ring)
        hvlog__ring_zero_ahead(&g->buffers[s->active_index], buffer, s->offset);
    __atomic_store_n((uint32_t *)(buffer + next_offset_at), s->offset, __ATOMIC_RELEASE);
    /* Step 6. */
    if (s->end - s->offset < HV_EVENTLOG_ENTRY_HEADER_SIZE)
        hvlog__scope_complete_active(e, g, scope, T6_FULL, vp, false);
    return HVLOG_LOG_RECORDED;
}

enum hvlog_log_result hvlog__log_slow(struct hvlog_logger *logger, uint32_t lp, uint32_t type,
                                     uint16_t entry_type, uint32_t context, const void *payload,
                                     uint32_t payload_len)
{
    struct hvlog_engine *e = engine_of_logger(logger);
    struct hvlog_group *g = &e->groups[type];
    struct hvlog__scope *global;
    enum hvlog_log_result r = HVLOG_LOG_RECORDED;
    uint64_t size;

    if (logger->types[type].local)
        return scope_log(e, g, lp, lp, entry_type, context, payload, payload_len);

    /* Global class: one scope for the machine, owned under its spinlock.
     * The common case (room in the InUse buffer) is written here, the same
     * way as the local hot path, so the lock is held as briefly as possible;
     * the time stamp is taken under the lock so entries stay in time order. */
    global = group_scope(e, g, 0);
    size = hvlog_entry_size(payload_len);
    hvlog__spin_lock(e, &global->lock);
    if (size <= (uint64_t)(global->end - global->offset) && size <= HV_EVENTLOG_MAX_ENTRY_SIZE) {
        uint32_t off = global->offset;
        hvlog_entry_write(global->buffer + off, (uint32_t)size, entry_type, context,
                          logger->types[type].entry_clock(logger->ctx), payload, payload_len);
        off += (uint32_t)size;
        global->offset = off;
        if (g->ring)
            hvlog__ring_zero_ahead(&g->buffers[global->active_index], global->buffer, off);
        __atomic_store_n((uint32_t *)(global->buffer + logger->types[type].next_offset_at), off,
                         __ATOMIC_RELEASE);
        if (global->end - off < HV_EVENTLOG_ENTRY_HEADER_SIZE)
            hvlog__scope_complete_active(e, g, 0, T6_FULL, hvlog__scope_vp(e, g, lp), false);
    } else {
        r = scope_log(e, g, 0, lp, entry_type, context, payload, payload_len);
    }
    hvlog__spin_unlock(&global->lock);
    return r;
}

void hvlog__log_complete_full(struct hvlog_logger *logger, uint32_t lp, uint32_t type)
{
    struct hvlog_engine *e = engine_of_logger(logger);
    struct hvlog_group *g = &e->groups[type];

    hvlog__scope_complete_active(e, g, lp, T6_FULL, hvlog__scope_vp(e, g, lp), false);
}

/* ---- Flush of an InUse buffer: run as the scope's owner ---- */

struct flush_request {
    struct hvlog_engine *engine;
    struct hvlog_group *group;
    uint32_t scope, index, vp;
};

static void flush_as_owner(void *arg)
{
    struct flush_request *r = arg;
    struct hvlog__scope *s = group_scope(r->engine, r->group, r->scope);

    /* The buffer may have filled (T6) since the caller looked; then it is
     * Complete on this scope's list and the caller notifies that list. */
    if (s->buffer && s->active_index == r->index)
        hvlog__scope_complete_active(r->engine, r->group, r->scope, T7_FLUSH, r->vp, true);
}

/* §5.9 step 1 for (scope, index); no lock held on entry. */
void hvlog__flush_scope_active(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope,
                        uint32_t index, uint32_t vp)
{
    struct flush_request r = {e, g, scope, index, vp};

    if (!g->local) {
        struct hvlog__scope *global = group_scope(e, g, 0);
        hvlog__spin_lock(e, &global->lock);
        flush_as_owner(&r);
        hvlog__spin_unlock(&global->lock);
    } else if (e->ops.run_on_lp) {
        e->ops.run_on_lp(e->config.ctx, scope, flush_as_owner, &r);
    } else {
        flush_as_owner(&r);
    }
}
