/* SPDX-License-Identifier: MIT */
/*
 * The nine event-log hypercalls (spec §5). The dispatcher has already done
 * the generic checks (§3.5 steps 1-5: encoding, placement, root caller,
 * Type in range). Each handler checks its §5 table in the order written,
 * under the group lock, and changes state only after the last check, so a
 * failing call changes nothing (STYLE habit 5).
 */
#include <string.h>

#include "engine/engine_internal.h"

static struct hvlog_group *group_of(struct hvlog_call_ctx *c, uint32_t type)
{
    return &c->engine->groups[type];
}

static bool buffer_exists(const struct hvlog_group *g, uint32_t index)
{
    return index < g->maximum_buffer_count && g->buffers[index].exists;
}

/*
 * Is the group one the root manages? Not initialized, or the hypervisor's
 * own SystemDiagnostics ring (§11.6: the root only maps and unmaps it):
 * either way the calls that manage a group answer OPERATION_DENIED.
 */
static bool group_managed_by_root(const struct hvlog_group *g)
{
    return g->initialized && !g->ring;
}

/*
 * §11.2: Map and Unmap name the partition whose GPA space the buffer is
 * (un)mapped in; only the root itself can be named, as SELF or by its id.
 * The 2013 input stops at 8 bytes, so that profile never looks further.
 */
static bool partition_acceptable(const struct hvlog_call_ctx *c)
{
    struct hv_input_eventlog_buffer_partition in;

    if (c->engine->config.profile.abi != HVLOG_ABI_CURRENT)
        return true;
    hv_input_eventlog_buffer_partition_load(&in, c->input);
    return in.partition_id == HV_PARTITION_ID_SELF ||
           in.partition_id == c->engine->config.root_partition_id;
}

/*
 * The rows Delete, Map, Unmap and Release share, first in each table
 * (§5.4-§5.6, §5.8, DEC-UNMAP): the group is initialized, else
 * OPERATION_DENIED; the buffer exists, else @missing (INVALID_PARAMETER,
 * or OPERATION_DENIED for Release). @mapping marks Map and Unmap: their
 * PartitionId is checked first (§11.2, right after the Type row: input
 * before state), and they may name the SystemDiagnostics ring (§11.6),
 * which every other call finds OPERATION_DENIED. Reads the {Type,
 * BufferIndex} input and takes the group lock, which the caller releases
 * whatever the result.
 */
static hv_status_t lock_existing_buffer(struct hvlog_call_ctx *c, struct hv_input_eventlog_buffer *in,
                                        struct hvlog_group **g, hv_status_t missing, bool mapping)
{
    hv_input_eventlog_buffer_load(in, c->input);
    *g = group_of(c, in->type);
    hvlog__spin_lock(c->engine, &(*g)->lock);
    if (mapping && !partition_acceptable(c))
        return HV_STATUS_INVALID_PARTITION_ID;
    if (!(*g)->initialized || ((*g)->ring && !mapping))
        return HV_STATUS_OPERATION_DENIED;
    if (!buffer_exists(*g, in->buffer_index))
        return missing;
    return HV_STATUS_SUCCESS;
}

/* ---- 0x0060 HvInitializeEventLogBufferGroup (§5.1) ---- */

static uint64_t clock_ref(struct hvlog_engine *e)
{
    return e->ops.ref_time_100ns(e->config.ctx);
}

/*
 * The Initialize input in either layout, as the rows of §5.1 read it. The
 * 2013 block has BufferPages and SystemTime @24; the current one (§11.1,
 * 28 bytes packed) has a u16 Type, a Mode and BufferSizeInBytes, SystemTime
 * @20, and bytes 28..31 of the padded block are ignored.
 */
struct init_request {
    uint32_t type, mode, maximum_buffer_count, buffer_pages, threshold, time_basis;
    uint64_t system_time;
};

static hv_status_t init_request_load(const struct hvlog_call_ctx *c, struct init_request *r)
{
    const struct hvlog_profile *prof = &c->engine->config.profile;
    uint32_t basis_max = HvEventLogEntryTimeMaximum2013;

    if (prof->abi == HVLOG_ABI_CURRENT) {
        struct hv_input_initialize_eventlog_buffer_group_current in;

        hv_input_initialize_eventlog_buffer_group_current_load(&in, c->input);
        *r = (struct init_request){in.type, in.mode, in.maximum_buffer_count, 0, in.threshold,
                                   in.time_basis, in.system_time};
        /* §11.6: SystemDiagnostics is the hypervisor's; no root initializes it. */
        if (r->type == HvEventLogTypeSystemDiagnostics)
            return HV_STATUS_INVALID_PARAMETER;
        if (r->mode > HvEventLogModeMaximum)
            return HV_STATUS_INVALID_PARAMETER;
        /* §11.1 [DEC]: a multiple of 4096 in 4096..2 MiB. */
        if (in.buffer_size_bytes % HV_PAGE_SIZE != 0)
            return HV_STATUS_INVALID_PARAMETER;
        r->buffer_pages = in.buffer_size_bytes / HV_PAGE_SIZE;
        basis_max = HvEventLogEntryTimeMaximumCurrent; /* §11.5: QPC */
    } else {
        struct hv_input_initialize_eventlog_buffer_group in;

        hv_input_initialize_eventlog_buffer_group_load(&in, c->input);
        *r = (struct init_request){in.type, HvEventLogModeRegular, in.maximum_buffer_count,
                                   in.buffer_pages, in.threshold, in.time_basis, in.system_time};
    }
    if (r->maximum_buffer_count < HV_EVENTLOG_MIN_BUFFER_COUNT ||
        r->maximum_buffer_count > HV_EVENTLOG_MAX_BUFFER_COUNT)
        return HV_STATUS_INVALID_PARAMETER;
    if (r->buffer_pages < HV_EVENTLOG_MIN_BUFFER_PAGES ||
        r->buffer_pages > HV_EVENTLOG_MAX_BUFFER_PAGES)
        return HV_STATUS_INVALID_PARAMETER;
    /* DEC-THRESH: 1..MaximumBufferCount; D22 threshold_zero also takes 0. */
    if ((r->threshold == 0 && !prof->threshold_zero) || r->threshold > r->maximum_buffer_count)
        return HV_STATUS_INVALID_PARAMETER;
    if (r->time_basis > basis_max)
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

hv_status_t hvlog__call_initialize(struct hvlog_call_ctx *c)
{
    struct hvlog_engine *e = c->engine;
    struct init_request in;
    struct hvlog_log_type *t;
    struct hvlog_group *g;
    hv_status_t status = init_request_load(c, &in);
    struct hvlog_pages page;

    if (status != HV_STATUS_SUCCESS)
        return status;
    g = group_of(c, in.type);
    t = &e->logger.types[in.type];

    hvlog__spin_lock(e, &g->lock);
    if (g->initialized) {
        status = HV_STATUS_OBJECT_IN_USE;
    } else if (e->ops.pages_alloc(e->config.ctx, 0, false, 1, &page) != 0) {
        status = HV_STATUS_INSUFFICIENT_MEMORY; /* DEC-POOL: one bookkeeping page */
    } else {
        g->bookkeeping = page;
        g->initialized = true;
        g->maximum_buffer_count = in.maximum_buffer_count;
        g->buffer_pages = in.buffer_pages;
        __atomic_store_n(&g->buffer_bytes, in.buffer_pages * HV_PAGE_SIZE, __ATOMIC_RELAXED);
        g->threshold = in.threshold;
        g->time_basis = in.time_basis;
        __atomic_store_n(&g->mode, in.mode, __ATOMIC_RELAXED); /* read unlocked in log.c */
        g->system_time = in.system_time;
        memset(g->lp_sequence, 0, sizeof(*g->lp_sequence) * e->config.lp_count);
        g->ref_time_at_init = clock_ref(e);
        g->buffers_created = 0;
        g->free_head = g->free_tail = NONE;
        __atomic_store_n(&g->free_count, 0, __ATOMIC_RELAXED);
        for (uint32_t s = 0; s < g->scope_count; s++) {
            struct hvlog__scope *scope = group_scope(e, g, s);
            memset(&g->pending[s], 0, sizeof(g->pending[s]));
            g->pending[s].head = g->pending[s].tail = NONE;
            __atomic_store_n(&scope->lost_pending, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&scope->lost_no_buffer, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&scope->lost_too_large, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&scope->overwritten, 0, __ATOMIC_RELAXED);
            /* The nesting guard's count (log.h). No call of this type
             * runs now: its source mask is 0 until SetSources. */
            __atomic_store_n(&scope->lost_nested, 0, __ATOMIC_RELAXED);
            scope->lost_nested_taken = 0;
        }
        g->message_state = MSG_FREE;
        g->due_head = g->due_count = 0;
        /* Entries follow the group's TimeBasis; without a TSC callback the
         * TSC basis falls back to reference time (hvlog_host_ops.tsc). QPC
         * (§11.5) is reference time: on Hyper-V a partition's QPC runs off
         * the reference time at 10 MHz. */
        t->entry_clock = in.time_basis == HvEventLogEntryTimeTsc && e->ops.tsc
                             ? e->ops.tsc
                             : e->ops.ref_time_100ns;
        /* Source mask stays 0: logging is disabled until SetSources. */
    }
    hvlog__spin_unlock(&g->lock);
    return status;
}

/* ---- 0x0061 HvFinalizeEventLogBufferGroup (§5.2) ---- */

hv_status_t hvlog__call_finalize(struct hvlog_call_ctx *c)
{
    struct hvlog_engine *e = c->engine;
    uint32_t type = hvlog_load_le32(c->input);
    struct hvlog_group *g = group_of(c, type);
    hv_status_t status = HV_STATUS_SUCCESS;

    hvlog__spin_lock(e, &g->lock);
    if (!group_managed_by_root(g))
        status = HV_STATUS_OPERATION_DENIED;
    else if (__atomic_load_n(&e->logger.types[type].source_mask, __ATOMIC_RELAXED) != 0)
        status = HV_STATUS_OPERATION_DENIED;
    else if (g->buffers_created != 0)
        status = HV_STATUS_OPERATION_DENIED; /* D15: the function page's reading */
    else {
        hvlog__notify_withdraw(e, g); /* DEC-FINMSG */
        e->ops.pages_free(e->config.ctx, &g->bookkeeping);
        memset(&g->bookkeeping, 0, sizeof(g->bookkeeping));
        g->initialized = false;
    }
    hvlog__spin_unlock(&g->lock);
    return status;
}

/* ---- 0x0062 HvCreateEventLogBuffer (§5.3) ---- */

hv_status_t hvlog__call_create(struct hvlog_call_ctx *c)
{
    struct hvlog_engine *e = c->engine;
    struct hv_input_create_eventlog_buffer in;
    struct hvlog_group *g;
    hv_status_t status = HV_STATUS_SUCCESS;
    bool valid, preferred;

    hv_input_create_eventlog_buffer_load(&in, c->input);
    g = group_of(c, in.type);
    valid = (in.proximity_flags & HV_PROXIMITY_FLAG_VALID) != 0;
    preferred = (in.proximity_flags & HV_PROXIMITY_FLAG_PREFERRED) != 0;

    hvlog__spin_lock(e, &g->lock);
    if (!group_managed_by_root(g)) {
        status = HV_STATUS_OPERATION_DENIED;
    } else if ((in.proximity_flags & HV_PROXIMITY_FLAGS_RESERVED) != 0 ||
               (valid && !(e->ops.domain_known ? e->ops.domain_known(e->config.ctx, in.proximity_id)
                                               : in.proximity_id == 0))) {
        status = HV_STATUS_INVALID_PARAMETER; /* DEC-PROX */
    } else if (in.buffer_index >= g->maximum_buffer_count || g->buffers[in.buffer_index].exists) {
        status = HV_STATUS_INVALID_PARAMETER;
    } else {
        struct hvlog_buffer *b = &g->buffers[in.buffer_index];
        struct hvlog_pages pages;
        /* Valid and not Preferred: that domain only; otherwise any domain,
         * the named one first (§4.3). */
        bool strict = valid && !preferred;

        if (e->ops.pages_alloc(e->config.ctx, valid ? in.proximity_id : 0, strict,
                               g->buffer_pages, &pages) != 0) {
            status = HV_STATUS_INSUFFICIENT_MEMORY;
        } else {
            memset(b, 0, sizeof(*b));
            b->pages = pages;
            b->domain = valid ? in.proximity_id : 0;
            b->domain_valid = valid;
            b->domain_strict = strict;
            b->owner = NONE;
            b->next = NONE;
            hvlog__buffer_header_init(g, in.buffer_index);
            hvlog__buffer_transition(g, in.buffer_index, T1_CREATE);
            g->buffers_created++;
        }
    }
    hvlog__spin_unlock(&g->lock);
    return status;
}

/* ---- 0x0063 HvDeleteEventLogBuffer (§5.4) ---- */

hv_status_t hvlog__call_delete(struct hvlog_call_ctx *c)
{
    struct hvlog_engine *e = c->engine;
    struct hv_input_eventlog_buffer in;
    struct hvlog_group *g;
    hv_status_t status = lock_existing_buffer(c, &in, &g, HV_STATUS_INVALID_PARAMETER, false);

    if (status == HV_STATUS_SUCCESS &&
        g->buffers[in.buffer_index].state != HvEventLogBufferStateStandby)
        status = HV_STATUS_OPERATION_DENIED; /* mapped */
    if (status == HV_STATUS_SUCCESS) {
        struct hvlog_buffer *b = &g->buffers[in.buffer_index];
        struct hvlog_pages pages = b->pages;

        hvlog__buffer_transition(g, in.buffer_index, T2_DELETE);
        memset(b, 0, sizeof(*b));
        g->buffers_created--;
        e->ops.pages_free(e->config.ctx, &pages);
    }
    hvlog__spin_unlock(&g->lock);
    return status;
}

/* ---- 0x0064 HvMapEventLogBuffer (§5.5) ---- */

/*
 * The one place a handler's output reaches the guest (§3.4): Map's
 * GpaPages[], written whole before the call changes any state, so that a
 * failure here leaves nothing to undo but what the caller built for it. A
 * write that fails is reported as the probe would have reported it: an
 * intercept for a fault, INVALID_ALIGNMENT for an address out of range.
 */
static hv_status_t call_output_write(struct hvlog_call_ctx *c, uint64_t gpa, const void *bytes,
                                     uint32_t len)
{
    struct hvlog_engine *e = c->engine;
    enum hvlog_gpa_result r = e->ops.gpa_write(e->config.ctx, c->caller->partition_id, gpa, bytes,
                                               len);

    if (r == HVLOG_GPA_OK)
        return HV_STATUS_SUCCESS;
    if (r == HVLOG_GPA_FAULT) {
        c->outcome = HVLOG_HYPERCALL_GPA_FAULT;
        c->fault_gpa = gpa;
    }
    return HV_STATUS_INVALID_ALIGNMENT;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

hv_status_t hvlog__call_map(struct hvlog_call_ctx *c)
{
    struct hvlog_engine *e = c->engine;
    struct hv_input_eventlog_buffer in;
    struct hvlog_group *g;
    hv_status_t status = lock_existing_buffer(c, &in, &g, HV_STATUS_INVALID_PARAMETER, true);

    if (status == HV_STATUS_SUCCESS) {
        struct hvlog_buffer *b = &g->buffers[in.buffer_index];
        uint32_t out_len = g->buffer_pages * HV_MAP_OUTPUT_ENTRY_SIZE;
        uint64_t out_gpa = c->output_gpa;
        enum hvlog_gpa_result r;

        /* §5.5: the output's size is known now; it may not cross a page or
         * overlap the input, and it must be writable (probed before any change). */
        if ((out_gpa & (HV_PAGE_SIZE - 1)) + out_len > HV_PAGE_SIZE ||
            ranges_overlap(c->input_gpa, c->input_len, out_gpa, out_len)) {
            status = HV_STATUS_INVALID_ALIGNMENT;
        } else if ((r = e->ops.gpa_probe(e->config.ctx, c->caller->partition_id, out_gpa, out_len,
                                         true)) != HVLOG_GPA_OK) {
            if (r == HVLOG_GPA_FAULT) {
                c->outcome = HVLOG_HYPERCALL_GPA_FAULT;
                c->fault_gpa = out_gpa;
            }
            status = HV_STATUS_INVALID_ALIGNMENT;
        } else if (buffer_root_mapped(g, b)) {
            status = HV_STATUS_OPERATION_DENIED; /* already mapped */
        } else {
            /* The group's scratch, not the stack: up to 4 KiB, and the
             * group lock is held (a hypervisor's stack is small). */
            uint64_t *gpa_pages = g->map_output;
            uint8_t *out = (uint8_t *)gpa_pages;

            if (e->ops.overlay_map) {
                if (e->ops.overlay_map(e->config.ctx, &b->pages, gpa_pages) != 0)
                    status = HV_STATUS_INSUFFICIENT_MEMORY;
            } else {
                for (uint32_t i = 0; i < g->buffer_pages; i++)
                    gpa_pages[i] = ((uint64_t)(uintptr_t)b->pages.hva >> HV_PAGE_SHIFT) + i;
            }
            if (status == HV_STATUS_SUCCESS) {
                /* gpa_pages becomes the output block in place: §5.5
                 * GpaPages[] (entry i is read before it is rewritten). */
                for (uint32_t i = 0; i < g->buffer_pages; i++)
                    hvlog_store_le64(out + (size_t)i * 8, gpa_pages[i]);
                status = call_output_write(c, out_gpa, out, out_len);
                /* The write failed although the probe passed (the host
                 * changed the root's memory meanwhile): the overlay goes
                 * again and nothing changed (STYLE habit 5). */
                if (status != HV_STATUS_SUCCESS && e->ops.overlay_unmap)
                    e->ops.overlay_unmap(e->config.ctx, &b->pages);
            }
            /* Only now, with the output in the guest, does the state change. */
            if (status == HV_STATUS_SUCCESS) {
                if (g->ring) { /* §11.6: the ring is in service already */
                    b->root_mapped = true;
                } else {
                    hvlog__buffer_transition(g, in.buffer_index, T3_MAP);
                    hvlog__free_list_append(g, in.buffer_index);
                }
            }
        }
    }
    hvlog__spin_unlock(&g->lock);
    return status;
}

/* ---- 0x0065 HvUnmapEventLogBuffer (§5.6, DEC-UNMAP, D14) ---- */

hv_status_t hvlog__call_unmap(struct hvlog_call_ctx *c)
{
    struct hvlog_engine *e = c->engine;
    struct hv_input_eventlog_buffer in;
    struct hvlog_group *g;
    hv_status_t status = lock_existing_buffer(c, &in, &g, HV_STATUS_INVALID_PARAMETER, true);

    if (status == HV_STATUS_SUCCESS) {
        struct hvlog_buffer *b = &g->buffers[in.buffer_index];

        if (g->ring) {
            /* §11.6: the ring keeps filling it; only the root's view goes. */
            if (b->root_mapped)
                b->root_mapped = false;
            else
                status = e->config.profile.unmap_state_status;
        } else if (b->state == HvEventLogBufferStateFree) {
            hvlog__free_list_remove(g, in.buffer_index);
            hvlog__buffer_transition(g, in.buffer_index, T4_UNMAP_FREE);
        } else if (b->state == HvEventLogBufferStateReady) {
            /* Q-UNMAPREADY: no list is re-linked. */
            b->owner = NONE;
            hvlog__buffer_transition(g, in.buffer_index, T11_UNMAP_READY);
        } else {
            status = e->config.profile.unmap_state_status;
        }
        if (status == HV_STATUS_SUCCESS && e->ops.overlay_unmap)
            e->ops.overlay_unmap(e->config.ctx, &b->pages);
    }
    hvlog__spin_unlock(&g->lock);
    return status;
}

/* ---- 0x0066 HvSetEventLogGroupSources (§5.7, DEC-SRC) ---- */

/* Run as an LP by SetSources: it is between two events. */
static void lp_quiesced(void *arg)
{
    (void)arg;
}

hv_status_t hvlog__call_sources(struct hvlog_call_ctx *c)
{
    struct hv_input_set_eventlog_group_sources in;
    struct hvlog_group *g;
    hv_status_t status = HV_STATUS_SUCCESS;
    uint64_t disabled = 0; /* source bits this call turns off */

    hv_input_set_eventlog_group_sources_load(&in, c->input);
    if (c->engine->config.profile.abi == HVLOG_ABI_CURRENT) {
        /* §11.3: the 544-byte block; only its legacy form (no event groups,
         * "extended" bit clear) is implemented, and then the mask is the
         * configuration flags - the 2013 layout's EnableFlags @8 (D5). */
        struct hv_input_set_eventlog_group_sources_current cur;

        hv_input_set_eventlog_group_sources_current_load(&cur, c->input);
        if (cur.group_count != 0 || (cur.configuration_flags & HV_EVENTLOG_EXTENDED_TRACE_FLAG) != 0)
            return HV_STATUS_INVALID_PARAMETER;
    }
    g = group_of(c, in.type);
    hvlog__spin_lock(c->engine, &g->lock);
    if (!group_managed_by_root(g))
        status = HV_STATUS_OPERATION_DENIED;
    else if (g->broken && in.enable_flags != 0)
        status = HV_STATUS_OPERATION_DENIED; /* HVLOG_BUG_ON: it records nothing more */
    else /* release: pairs with hvlog_log()'s acquire load (log.c) */
        disabled = __atomic_exchange_n(&c->engine->logger.types[in.type].source_mask,
                                       in.enable_flags, __ATOMIC_RELEASE) & ~in.enable_flags;
    hvlog__spin_unlock(&g->lock);
    /* Q-CONC: an LP may have loaded the old mask and not yet recorded (or
     * taken a buffer for) its event. Disabling returns only once every LP
     * is between two events, so nothing it disabled is recorded after it
     * returns (§5.7) - a root that then flushes what it sees InUse, as
     * [MAR-TRACE]'s stop path does, finds everything. */
    if (disabled && c->engine->ops.run_on_lp) {
        for (uint32_t lp = 0; lp < c->engine->config.lp_count; lp++)
            c->engine->ops.run_on_lp(c->engine->config.ctx, lp, lp_quiesced, NULL);
    }
    return status;
}

/* ---- 0x0067 HvReleaseEventLogBuffer (§5.8, D13) ---- */

hv_status_t hvlog__call_release(struct hvlog_call_ctx *c)
{
    struct hv_input_eventlog_buffer in;
    struct hvlog_group *g;
    hv_status_t status = lock_existing_buffer(c, &in, &g, HV_STATUS_OPERATION_DENIED, false);

    if (status == HV_STATUS_SUCCESS) {
        struct hvlog_buffer *b = &g->buffers[in.buffer_index];
        enum hvlog_transition t = T10_RELEASE;

        if (b->state == HvEventLogBufferStateReady) {
            t = T10_RELEASE; /* §5.8 */
        } else if (b->state == HvEventLogBufferStateComplete &&
                   c->engine->config.profile.release_from_complete) {
            t = TX_RELEASE_COMPLETE; /* D13: it leaves its pending list first */
            hvlog__pending_remove(g, in.buffer_index);
        } else {
            status = HV_STATUS_OPERATION_DENIED;
        }
        if (status == HV_STATUS_SUCCESS) {
            hvlog_store_le32(b->pages.hva +
                                 offsetof(struct hv_eventlog_buffer_header, next_buffer_index),
                             NONE);
            b->owner = NONE;
            hvlog__buffer_transition(g, in.buffer_index, t);
            hvlog__free_list_append(g, in.buffer_index);
        }
    }
    hvlog__spin_unlock(&g->lock);
    return status;
}

/* ---- 0x0068 HvFlushEventLogBuffer (§5.9, DEC-FLUSH, D1, D18) ---- */

/* Flush one scope: its InUse buffer (as the owner), then its pending list. */
static void flush_scope(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope, uint32_t vp)
{
    uint32_t active;

    hvlog__spin_lock(e, &g->lock);
    active = __atomic_load_n(&group_scope(e, g, scope)->active_index, __ATOMIC_RELAXED);
    hvlog__spin_unlock(&g->lock);
    if (active != NONE)
        hvlog__flush_scope_active(e, g, scope, active, vp);
    hvlog__spin_lock(e, &g->lock);
    hvlog__pending_make_due(e, g, scope, vp, true);
    hvlog__spin_unlock(&g->lock);
}

hv_status_t hvlog__call_flush(struct hvlog_call_ctx *c)
{
    struct hvlog_engine *e = c->engine;
    const struct hvlog_profile *prof = &e->config.profile;
    struct hv_input_eventlog_buffer in;
    struct hvlog_group *g;
    uint32_t vp = c->caller->vp_index;
    uint32_t state = HvEventLogBufferStateStandby, owner = NONE, lp = NONE;

    hv_input_eventlog_buffer_load(&in, c->input);
    /* §5.9 step 3 without the lock (the memory form; the dispatcher answers
     * the fast form before it gets here): engine_internal.h argues it. */
    if (hvlog__flush_is_noop(e, in.type, in.buffer_index))
        return HV_STATUS_SUCCESS;
    g = group_of(c, in.type);
    hvlog__spin_lock(e, &g->lock);
    if (!group_managed_by_root(g)) {
        hvlog__spin_unlock(&g->lock);
        return HV_STATUS_OPERATION_DENIED;
    }
    if (prof->flush_index == HVLOG_FLUSH_INDEX_VP) {
        /* D1: the field names a VP; flush the LP bound to it. */
        for (uint32_t i = 0; i < e->config.lp_count && lp == NONE; i++) {
            if (hvlog__scope_vp(e, g, i) == in.buffer_index)
                lp = i;
        }
        if (lp == NONE) {
            hvlog__spin_unlock(&g->lock);
            return HV_STATUS_INVALID_PARAMETER;
        }
    } else if (!buffer_exists(g, in.buffer_index)) {
        hvlog__spin_unlock(&g->lock);
        return HV_STATUS_INVALID_PARAMETER; /* DEC-FLUSH */
    } else {
        state = g->buffers[in.buffer_index].state;
        owner = g->buffers[in.buffer_index].owner;
    }
    hvlog__spin_unlock(&g->lock);

    /* Validation is over: from here on the call succeeds. */
    if (prof->flush_scope == HVLOG_FLUSH_SCOPE_TYPE) {
        for (uint32_t s = 0; s < g->scope_count; s++)
            flush_scope(e, g, s, vp);
    } else if (prof->flush_index == HVLOG_FLUSH_INDEX_VP) {
        flush_scope(e, g, g->local ? lp : 0, vp);
    } else if (state == HvEventLogBufferStateInUse) {
        /* §5.9 step 1 and 2, as the owner: T7, then the list is notified. */
        hvlog__flush_scope_active(e, g, owner, in.buffer_index, vp);
        hvlog__spin_lock(e, &g->lock);
        /* It may have filled meanwhile (T6): notify its list all the same. */
        if (g->buffers[in.buffer_index].exists &&
            g->buffers[in.buffer_index].state == HvEventLogBufferStateComplete)
            hvlog__pending_make_due(e, g, g->buffers[in.buffer_index].owner, vp, true);
        hvlog__spin_unlock(&g->lock);
    } else if (state == HvEventLogBufferStateComplete) {
        hvlog__spin_lock(e, &g->lock);
        if (g->buffers[in.buffer_index].state == HvEventLogBufferStateComplete)
            hvlog__pending_make_due(e, g, g->buffers[in.buffer_index].owner, vp, true);
        hvlog__spin_unlock(&g->lock);
    }
    /* §5.9 step 3: Free, Ready, Standby - nothing to do. */
    return HV_STATUS_SUCCESS;
}
