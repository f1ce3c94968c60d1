/* SPDX-License-Identifier: MIT */
/*
 * The engine's consistency check, for tests and fuzzers: every structure
 * agrees with every other. It takes each group lock in turn and must not
 * run while logging is in progress (it reads the scopes' hot fields).
 *
 *  - a buffer's state is one of the five; the header's BufferState equals it;
 *  - the free list holds exactly the Free buffers, once each, no cycle, and
 *    free_count is its length;
 *  - the pending lists hold exactly the Complete buffers, each on the list
 *    of its owner scope, once, in a list whose count is its length;
 *  - the InUse buffers are exactly the scopes' active buffers, and a scope's
 *    hot fields describe its active buffer;
 *  - due lists are non-empty pending lists, each due once;
 *  - an uninitialized group has no buffers;
 *  - the SystemDiagnostics ring has no list at all, and only its active
 *    buffer is InUse;
 *  - the flush view (hvlog__flush_is_noop) is 1 exactly for the buffers a
 *    Flush would leave alone (§5.9 step 3).
 * In the current profile the scope counts from the end of the header (§11.4).
 */
#include <stdarg.h>
#include <string.h>

#include "engine/engine_internal.h"

/*
 * The reason, formatted without libc (the engine is freestanding): @fmt's
 * only conversion is %u (a uint32_t). Truncated to fit, always terminated.
 */
static void why_format(char *why, size_t why_size, const char *fmt, ...)
{
    size_t n = 0;
    va_list ap;

    if (!why || why_size == 0)
        return;
    va_start(ap, fmt);
    for (const char *p = fmt; *p && n + 1 < why_size; p++) {
        char digits[10];
        int d = 0;
        uint32_t v;

        if (p[0] != '%' || p[1] != 'u') {
            why[n++] = *p;
            continue;
        }
        p++;
        v = va_arg(ap, uint32_t);
        do {
            digits[d++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (d > 0 && n + 1 < why_size)
            why[n++] = digits[--d];
    }
    va_end(ap);
    why[n] = '\0';
}

#define FAIL(...)                                    \
    do {                                             \
        why_format(why, why_size, __VA_ARGS__);      \
        return -1;                                   \
    } while (0)

static int check_group(struct hvlog_engine *e, struct hvlog_group *g, char *why, size_t why_size)
{
    uint8_t seen[HV_EVENTLOG_MAX_BUFFER_COUNT];
    uint32_t n, created = 0;

    memset(seen, 0, sizeof seen);
    /* The flush view (engine_internal.h): 1 exactly for the buffers whose
     * Flush is §5.9 step 3, under the default Flush, in a group the root
     * manages. */
    for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
        const struct hvlog_buffer *b = &g->buffers[i];
        bool idle = g->initialized && !g->ring && b->exists &&
                    e->config.profile.flush_index == HVLOG_FLUSH_INDEX_BUFFER &&
                    e->config.profile.flush_scope == HVLOG_FLUSH_SCOPE_BUFFER &&
                    (b->state == HvEventLogBufferStateStandby ||
                     b->state == HvEventLogBufferStateFree ||
                     b->state == HvEventLogBufferStateReady);

        if (__atomic_load_n(&g->flush_idle[i], __ATOMIC_RELAXED) != idle)
            FAIL("type %u: buffer %u: flush view %u, state says %u", g->type, i,
                 (uint32_t)g->flush_idle[i], (uint32_t)idle);
    }
    if (!g->initialized) {
        for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
            if (g->buffers[i].exists)
                FAIL("type %u: buffer %u exists in an uninitialized group", g->type, i);
        }
        return 0;
    }
    for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
        const struct hvlog_buffer *b = &g->buffers[i];
        uint32_t hdr_state;

        if (!b->exists)
            continue;
        created++;
        if (i >= g->maximum_buffer_count)
            FAIL("type %u: buffer %u beyond the maximum %u", g->type, i, g->maximum_buffer_count);
        if (b->state > HvEventLogBufferStateReady)
            FAIL("type %u: buffer %u in state %u", g->type, i, b->state);
        hdr_state = hvlog_load_le32(b->pages.hva + HVLOG_HDR_BUFFER_STATE);
        if (hdr_state != b->state)
            FAIL("type %u: buffer %u header says %u, engine %u", g->type, i, hdr_state, b->state);
        if (b->pages.count != g->buffer_pages)
            FAIL("type %u: buffer %u has %u pages", g->type, i, b->pages.count);
    }
    if (created != g->buffers_created)
        FAIL("type %u: %u buffers exist, count says %u", g->type, created, g->buffers_created);

    /* Free list. */
    n = 0;
    for (uint32_t i = g->free_head; i != NONE; i = g->buffers[i].next) {
        if (i >= HV_EVENTLOG_MAX_BUFFER_COUNT || seen[i])
            FAIL("type %u: free list loops or leaves range at %u", g->type, i);
        seen[i] = 1;
        if (!g->buffers[i].exists || g->buffers[i].state != HvEventLogBufferStateFree)
            FAIL("type %u: buffer %u on the free list is not Free", g->type, i);
        if (g->buffers[i].next == NONE && g->free_tail != i)
            FAIL("type %u: free tail %u is not the last %u", g->type, g->free_tail, i);
        n++;
    }
    if (n != g->free_count)
        FAIL("type %u: free list has %u, free_count %u", g->type, n, g->free_count);

    /* Pending lists and scopes. */
    for (uint32_t s = 0; s < g->scope_count; s++) {
        const struct hvlog_pending *p = &g->pending[s];
        const struct hvlog__scope *sc = group_scope(e, g, s);

        n = 0;
        for (uint32_t i = p->head; i != NONE; i = g->buffers[i].next) {
            if (i >= HV_EVENTLOG_MAX_BUFFER_COUNT || seen[i])
                FAIL("type %u: pending list %u loops or shares buffer %u", g->type, s, i);
            seen[i] = 2;
            if (!g->buffers[i].exists || g->buffers[i].state != HvEventLogBufferStateComplete ||
                g->buffers[i].owner != s)
                FAIL("type %u: buffer %u on pending list %u is not its Complete buffer", g->type, i, s);
            n++;
        }
        if (n != p->count)
            FAIL("type %u: pending list %u has %u, count %u", g->type, s, n, p->count);
        if (sc->active_index != NONE) {
            uint32_t i = sc->active_index;
            if (i >= HV_EVENTLOG_MAX_BUFFER_COUNT || !g->buffers[i].exists ||
                g->buffers[i].state != HvEventLogBufferStateInUse || g->buffers[i].owner != s)
                FAIL("type %u: scope %u's active buffer %u is not InUse by it", g->type, s, i);
            if (sc->buffer != g->buffers[i].pages.hva + group_data_start(g) ||
                sc->end != g->buffer_bytes - group_data_start(g) ||
                sc->offset < HV_EVENTLOG_BUFFER_HEADER_SIZE - group_data_start(g) ||
                sc->offset > sc->end)
                FAIL("type %u: scope %u's hot fields disagree with buffer %u", g->type, s, i);
            if (hvlog_load_le32(g->buffers[i].pages.hva + HVLOG_HDR_NEXT_BUFFER_OFFSET) !=
                sc->offset)
                FAIL("type %u: buffer %u NextBufferOffset != scope offset", g->type, i);
            seen[i] = 3;
        } else if (sc->buffer || sc->offset || sc->end) {
            FAIL("type %u: scope %u has hot fields but no active buffer", g->type, s);
        }
    }
    for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
        const struct hvlog_buffer *b = &g->buffers[i];
        if (!b->exists)
            continue;
        if (g->ring) { /* §11.6: no lists; never Standby or Ready */
            if (b->state == HvEventLogBufferStateStandby || b->state == HvEventLogBufferStateReady ||
                (b->state == HvEventLogBufferStateInUse && seen[i] != 3))
                FAIL("type %u: ring buffer %u in state %u", g->type, i, b->state);
            continue;
        }
        if (b->root_mapped)
            FAIL("type %u: buffer %u has the ring's mapped flag", g->type, i);
        if ((b->state == HvEventLogBufferStateFree && seen[i] != 1) ||
            (b->state == HvEventLogBufferStateComplete && seen[i] != 2) ||
            (b->state == HvEventLogBufferStateInUse && seen[i] != 3))
            FAIL("type %u: buffer %u (state %u) is on no list that holds its state", g->type, i,
                 b->state);
    }
    /* A global type's hot-path placeholders never leave zero (log.h). */
    if (!g->local) {
        for (uint32_t lp = 0; lp < e->config.lp_count; lp++) {
            const struct hvlog__scope *ph = &e->logger.types[g->type].scopes[lp];
            if (ph->buffer || ph->offset || ph->end)
                FAIL("type %u: hot-path placeholder of LP %u is not empty", g->type, lp);
            if (__atomic_load_n(&ph->lost_nested, __ATOMIC_RELAXED) != 0)
                FAIL("type %u: nested losses counted in LP %u's placeholder", g->type, lp);
        }
    }
    /* Due FIFO: each due scope once; every due scope queued. */
    if (g->due_count > g->scope_count)
        FAIL("type %u: %u due lists for %u scopes", g->type, g->due_count, g->scope_count);
    n = 0;
    for (uint32_t s = 0; s < g->scope_count; s++)
        n += g->pending[s].due;
    if (n != g->due_count)
        FAIL("type %u: %u scopes due, FIFO holds %u", g->type, n, g->due_count);
    for (uint32_t k = 0; k < g->due_count; k++) {
        uint32_t s = g->due_fifo[(g->due_head + k) % g->scope_count];
        if (s >= g->scope_count || !g->pending[s].due)
            FAIL("type %u: due FIFO entry %u (scope %u) is not due", g->type, k, s);
        for (uint32_t j = k + 1; j < g->due_count; j++) {
            if (g->due_fifo[(g->due_head + j) % g->scope_count] == s)
                FAIL("type %u: scope %u due twice", g->type, s);
        }
    }
    return 0;
}

int hvlog_engine_check(struct hvlog_engine *e, char *why, size_t why_size)
{
    for (uint32_t type = 0; type < HVLOG_TYPE_COUNT; type++) {
        struct hvlog_group *g = &e->groups[type];
        int r;

        hvlog__spin_lock(e, &g->lock);
        r = check_group(e, g, why, why_size);
        hvlog__spin_unlock(&g->lock);
        if (r)
            return r;
    }
    return 0;
}
