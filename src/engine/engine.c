/* SPDX-License-Identifier: MIT */
/* Engine lifetime, host notifications and queries (hvlog/engine/engine.h). */
#include <string.h>

#include "engine/engine_internal.h"

struct hvlog_profile hvlog_profile_preset(enum hvlog_abi_profile abi)
{
    struct hvlog_profile p = {
        .abi = abi,
        .flush_index = HVLOG_FLUSH_INDEX_BUFFER,
        .flush_scope = HVLOG_FLUSH_SCOPE_BUFFER,
        .unmap_state_status = HV_STATUS_ACCESS_DENIED,
        /* §12.1, D13: on under the current profile. The Linux driver's STOP
         * releases what its mapped headers say Complete, and flushes only
         * InUse buffers; with Release of Complete refused, a list below the
         * threshold never becomes Ready, DESTROY's Unmap is refused, and the
         * next Initialize finds the group still initialized. */
        .release_from_complete = abi == HVLOG_ABI_CURRENT,
    };
    return p;
}

struct hvlog_profile hvlog_profile_default(void)
{
    return hvlog_profile_preset(HVLOG_ABI_2013);
}

/* §4.2: GlobalSystemEvents is global; LocalDiagnostics is local. */
static bool type_is_local(uint32_t type)
{
    return type == HvEventLogTypeLocalDiagnostics;
}

static bool config_valid(const struct hvlog_engine_config *c)
{
    const struct hvlog_host_ops *o;

    if (!c || c->size != sizeof(*c))
        return false; /* another version of the struct: its fields are not ours */
    o = c->ops;
    if (!o || o->size != sizeof(*o))
        return false;
    if (!o->ref_time_100ns || !o->pages_alloc || !o->pages_free || !o->post_message)
        return false;
    if (c->lp_count == 0 || c->lp_count > HVLOG_MAX_LPS || c->root_vp_count == 0)
        return false;
    /* Guest memory comes as a set: all three or none. */
    if (!o->gpa_probe != !o->gpa_read || !o->gpa_read != !o->gpa_write)
        return false;
    if (!o->overlay_map != !o->overlay_unmap || !o->mem_alloc != !o->mem_free)
        return false;
    if (c->profile.unmap_state_status != HV_STATUS_ACCESS_DENIED &&
        c->profile.unmap_state_status != HV_STATUS_OPERATION_DENIED)
        return false;
    return c->profile.abi == HVLOG_ABI_2013 || c->profile.abi == HVLOG_ABI_CURRENT;
}

/*
 * The engine's memory, one block: the engine, then per type its scopes
 * (a cache line each), pending lists, due FIFO and LP sequence numbers.
 * layout() computes every offset; with @base it also hands out the arrays.
 */
static size_t align_up(size_t n)
{
    return (n + HVLOG_ENGINE_ALIGN - 1) & ~(size_t)(HVLOG_ENGINE_ALIGN - 1);
}

static size_t layout(const struct hvlog_engine_config *config, struct hvlog_engine *base)
{
    size_t at = align_up(sizeof(struct hvlog_engine));

    for (uint32_t type = 0; type < HVLOG_TYPE_COUNT; type++) {
        bool local = type_is_local(type);
        uint32_t scopes = local ? config->lp_count : config->lp_count + 1;
        uint32_t scope_count = local ? config->lp_count : 1;
        size_t scopes_at = at, pending_at, fifo_at, seq_at;

        at = align_up(at + sizeof(struct hvlog__scope) * scopes);
        pending_at = at;
        at = align_up(at + sizeof(struct hvlog_pending) * scope_count);
        fifo_at = at;
        at = align_up(at + sizeof(uint32_t) * scope_count);
        seq_at = at;
        at = align_up(at + sizeof(uint32_t) * config->lp_count);
        if (base) {
            char *mem = (char *)base;
            base->logger.types[type].scopes = (struct hvlog__scope *)(void *)(mem + scopes_at);
            base->groups[type].pending = (struct hvlog_pending *)(void *)(mem + pending_at);
            base->groups[type].due_fifo = (uint32_t *)(void *)(mem + fifo_at);
            base->groups[type].lp_sequence = (uint32_t *)(void *)(mem + seq_at);
        }
    }
    return at;
}

size_t hvlog_engine_size(const struct hvlog_engine_config *config)
{
    return config_valid(config) ? layout(config, NULL) : 0;
}

int hvlog_engine_init(const struct hvlog_engine_config *config, void *memory, size_t bytes,
                      struct hvlog_engine **out)
{
    struct hvlog_engine *e = memory;

    if (!out || !memory || !config_valid(config) || bytes < layout(config, NULL) ||
        ((uintptr_t)memory & (HVLOG_ENGINE_ALIGN - 1)) != 0)
        return -1;
    memset(e, 0, layout(config, NULL)); /* every list empty, every counter 0 */
    layout(config, e);
    e->config = *config;
    e->ops = *config->ops;
    e->logger.ctx = config->ctx;

    for (uint32_t type = 0; type < HVLOG_TYPE_COUNT; type++) {
        struct hvlog_group *g = &e->groups[type];
        struct hvlog_log_type *t = &e->logger.types[type];

        g->type = type;
        g->local = type_is_local(type);
        g->current = config->profile.abi == HVLOG_ABI_CURRENT;
        g->scope_count = g->local ? config->lp_count : 1;
        g->free_head = g->free_tail = NONE;
        t->local = g->local;
        t->entry_clock = e->ops.ref_time_100ns;
        t->next_offset_at = (int32_t)HVLOG_HDR_NEXT_BUFFER_OFFSET - (int32_t)group_data_start(g);
        /* Global: lp_count placeholders for the hot path, then the scope. */
        g->scopes = g->local ? t->scopes : t->scopes + config->lp_count;
        for (uint32_t s = 0; s < g->scope_count; s++) {
            g->scopes[s].lp = g->local ? s : 0;
            g->scopes[s].active_index = NONE;
            g->pending[s].head = g->pending[s].tail = NONE;
        }
    }
    *out = e;
    return 0;
}

int hvlog_engine_create(const struct hvlog_engine_config *config, struct hvlog_engine **out)
{
    size_t bytes = hvlog_engine_size(config);
    char *raw, *aligned;

    if (bytes == 0 || !out || !config->ops->mem_alloc)
        return -1;
    /* Over-allocate and align here, so the hook needs no alignment of its own. */
    raw = config->ops->mem_alloc(config->ctx, bytes + HVLOG_ENGINE_ALIGN);
    if (!raw)
        return -1;
    aligned = raw + ((HVLOG_ENGINE_ALIGN - (uintptr_t)raw % HVLOG_ENGINE_ALIGN) % HVLOG_ENGINE_ALIGN);
    if (hvlog_engine_init(config, aligned, bytes, out) != 0) {
        config->ops->mem_free(config->ctx, raw);
        return -1;
    }
    (*out)->allocated = raw;
    return 0;
}

void hvlog_engine_destroy(struct hvlog_engine *e)
{
    if (!e)
        return;
    for (uint32_t type = 0; type < HVLOG_TYPE_COUNT; type++) {
        struct hvlog_group *g = &e->groups[type];

        for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
            struct hvlog_buffer *b = &g->buffers[i];
            if (!b->exists)
                continue;
            if (buffer_root_mapped(g, b) && e->ops.overlay_unmap)
                e->ops.overlay_unmap(e->config.ctx, &b->pages);
            e->ops.pages_free(e->config.ctx, &b->pages);
        }
        if (g->initialized && !g->ring) {
            hvlog__notify_withdraw(e, g);
            e->ops.pages_free(e->config.ctx, &g->bookkeeping);
        }
    }
    if (e->allocated)
        e->ops.mem_free(e->config.ctx, e->allocated);
}

void hvlog__bug(struct hvlog_group *g, const char *what)
{
    struct hvlog_engine *e = engine_of_group(g);

    g->bugs++;
    if (g->broken)
        return; /* warned once already */
    g->broken = true;
    /* Stop recording: the hot path sees the mask with acquire (log.h). */
    __atomic_store_n(&e->logger.types[g->type].source_mask, 0, __ATOMIC_RELEASE);
    if (e->ops.warn)
        e->ops.warn(e->config.ctx, g->type, what);
}

/* §11.6: the hypervisor's own SystemDiagnostics ring. */
int hvlog_engine_system_diag_start(struct hvlog_engine *e, uint32_t buffer_count,
                                   uint32_t buffer_pages, uint64_t source_mask)
{
    struct hvlog_group *g = &e->groups[HvEventLogTypeSystemDiagnostics];
    struct hvlog_log_type *t = &e->logger.types[HvEventLogTypeSystemDiagnostics];
    int r = 0;

    if (buffer_count < HV_EVENTLOG_MIN_BUFFER_COUNT || buffer_count > HV_EVENTLOG_MAX_BUFFER_COUNT ||
        buffer_pages < HV_EVENTLOG_MIN_BUFFER_PAGES || buffer_pages > HV_EVENTLOG_MAX_BUFFER_PAGES)
        return -1;
    hvlog__spin_lock(e, &g->lock);
    if (!g->current || g->initialized) {
        r = -1;
    } else {
        g->maximum_buffer_count = buffer_count;
        g->buffer_pages = buffer_pages;
        g->buffer_bytes = buffer_pages * HV_PAGE_SIZE;
        g->threshold = buffer_count;
        g->time_basis = HvEventLogEntryTimeReference;
        g->mode = HvEventLogModeCircular;
        g->ref_time_at_init = e->ops.ref_time_100ns(e->config.ctx);
        for (uint32_t i = 0; i < buffer_count && r == 0; i++) {
            struct hvlog_buffer *b = &g->buffers[i];

            if (e->ops.pages_alloc(e->config.ctx, 0, false, buffer_pages, &b->pages) != 0) {
                r = -1;
                break;
            }
            b->owner = NONE;
            b->next = NONE;
            hvlog__buffer_header_init(g, i);
            hvlog_store_le32(b->pages.hva +
                                 offsetof(struct hv_eventlog_buffer_header, next_buffer_index),
                             (i + 1) % buffer_count); /* the ring order (§11.6) */
            hvlog__buffer_transition(g, i, TX_RING_CREATE); /* in service from the start */
            g->buffers_created++;
        }
        if (r != 0) { /* give back what was taken: nothing is kept */
            for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
                if (g->buffers[i].exists)
                    e->ops.pages_free(e->config.ctx, &g->buffers[i].pages);
                memset(&g->buffers[i], 0, sizeof(g->buffers[i]));
            }
            g->buffers_created = 0;
        } else {
            g->ring = true;
            g->ring_next = 0;
            g->initialized = true;
            __atomic_store_n(&t->source_mask, source_mask, __ATOMIC_RELEASE);
        }
    }
    hvlog__spin_unlock(&g->lock);
    return r;
}

int hvlog_engine_system_diag_geometry(struct hvlog_engine *e, uint32_t *buffer_count,
                                      uint32_t *buffer_pages)
{
    struct hvlog_group *g = &e->groups[HvEventLogTypeSystemDiagnostics];
    int r = -1;

    hvlog__spin_lock(e, &g->lock);
    if (g->ring) {
        *buffer_count = g->maximum_buffer_count;
        *buffer_pages = g->buffer_pages;
        r = 0;
    }
    hvlog__spin_unlock(&g->lock);
    return r;
}

struct hvlog_logger *hvlog_engine_logger(struct hvlog_engine *e)
{
    return &e->logger;
}

uint32_t hvlog_engine_lp_count(const struct hvlog_engine *e)
{
    return e->config.lp_count;
}

void hvlog_engine_message_delivered(struct hvlog_engine *e, uint64_t token)
{
    uint32_t type = (uint32_t)(token & ((1u << MESSAGE_TOKEN_TYPE_BITS) - 1));
    struct hvlog_group *g;

    if (type >= HVLOG_TYPE_COUNT)
        return;
    g = &e->groups[type];
    hvlog__spin_lock(e, &g->lock);
    /* Only the message queued now: a token of a message withdrawn by
     * Finalize (DEC-FINMSG) whose copy was already under way names an
     * older generation, and must not free the one a new Initialize queued. */
    if (g->message_state == MSG_QUEUED && g->message_token == token) {
        g->message_state = MSG_FREE;
        hvlog__notify_serve(e, g);
    }
    hvlog__spin_unlock(&g->lock);
}

void hvlog_engine_kick(struct hvlog_engine *e)
{
    for (uint32_t type = 0; type < HVLOG_TYPE_COUNT; type++) {
        struct hvlog_group *g = &e->groups[type];

        hvlog__spin_lock(e, &g->lock);
        if (g->initialized)
            hvlog__notify_serve(e, g);
        hvlog__spin_unlock(&g->lock);
    }
}

int hvlog_engine_buffer_info(struct hvlog_engine *e, uint32_t type, uint32_t index,
                             struct hvlog_buffer_info *out)
{
    struct hvlog_group *g;

    if (type >= HVLOG_TYPE_COUNT || !out)
        return -1;
    memset(out, 0, sizeof(*out));
    out->owner_lp = UINT32_MAX;
    if (index >= HV_EVENTLOG_MAX_BUFFER_COUNT)
        return 0;
    g = &e->groups[type];
    hvlog__spin_lock(e, &g->lock);
    if (g->buffers[index].exists) {
        const struct hvlog_buffer *b = &g->buffers[index];
        out->exists = true;
        out->state = b->state;
        if (g->local && b->owner != NONE && b->state != HvEventLogBufferStateFree &&
            b->state != HvEventLogBufferStateStandby)
            out->owner_lp = b->owner;
        out->domain = b->domain;
        out->domain_valid = b->domain_valid;
        out->pages = b->pages;
        /* The LP may be appending (InUse): NextBufferOffset is read with
         * acquire; under the group lock the rest of the header is stable. */
        uint8_t hdr[HV_EVENTLOG_BUFFER_HEADER_SIZE];
        memcpy(hdr, b->pages.hva, HVLOG_HDR_NEXT_BUFFER_OFFSET);
        hvlog_store_le32(hdr + HVLOG_HDR_NEXT_BUFFER_OFFSET,
                         __atomic_load_n((uint32_t *)(b->pages.hva + HVLOG_HDR_NEXT_BUFFER_OFFSET),
                                         __ATOMIC_ACQUIRE));
        memcpy(hdr + HVLOG_HDR_NEXT_BUFFER_OFFSET + 4, b->pages.hva + HVLOG_HDR_NEXT_BUFFER_OFFSET + 4,
               sizeof(hdr) - HVLOG_HDR_NEXT_BUFFER_OFFSET - 4);
        hv_eventlog_buffer_header_load(&out->header, hdr);
        hv_eventlog_buffer_header_current_load(&out->header_current, hdr);
        out->root_mapped = buffer_root_mapped(g, b);
    }
    hvlog__spin_unlock(&g->lock);
    return 0;
}

int hvlog_engine_group_info(struct hvlog_engine *e, uint32_t type, struct hvlog_group_info *out)
{
    struct hvlog_group *g;

    if (type >= HVLOG_TYPE_COUNT || !out)
        return -1;
    g = &e->groups[type];
    memset(out, 0, sizeof(*out));
    hvlog__spin_lock(e, &g->lock);
    out->initialized = g->initialized;
    out->local = g->local;
    if (g->initialized) {
        out->maximum_buffer_count = g->maximum_buffer_count;
        out->buffer_pages = g->buffer_pages;
        out->threshold = g->threshold;
        out->time_basis = g->time_basis;
        out->mode = g->mode;
        out->system_time = g->system_time;
        out->ref_time_at_init = g->ref_time_at_init;
        out->buffers_created = g->buffers_created;
        out->free_count = g->free_count;
        out->message_busy = g->message_state != MSG_FREE;
        out->due_lists = g->due_count;
    }
    out->broken = g->broken;
    out->bugs = g->bugs;
    out->source_mask = __atomic_load_n(&e->logger.types[type].source_mask, __ATOMIC_RELAXED);
    hvlog__spin_unlock(&g->lock);
    return 0;
}

int hvlog_engine_scope_stats(struct hvlog_engine *e, uint32_t type, uint32_t scope,
                             struct hvlog_scope_stats *out)
{
    struct hvlog_group *g;
    struct hvlog__scope *s;

    if (type >= HVLOG_TYPE_COUNT || !out)
        return -1;
    g = &e->groups[type];
    if (scope >= g->scope_count)
        return -1;
    s = group_scope(e, g, scope);
    memset(out, 0, sizeof(*out));
    hvlog__spin_lock(e, &g->lock);
    out->events_lost_no_buffer = __atomic_load_n(&s->lost_no_buffer, __ATOMIC_RELAXED);
    out->events_lost_too_large = __atomic_load_n(&s->lost_too_large, __ATOMIC_RELAXED);
    out->events_lost_nested = __atomic_load_n(&s->lost_nested, __ATOMIC_RELAXED);
    out->events_overwritten = __atomic_load_n(&s->overwritten, __ATOMIC_RELAXED);
    out->lost_pending = __atomic_load_n(&s->lost_pending, __ATOMIC_RELAXED);
    out->buffers_completed = g->pending[scope].buffers_completed;
    out->notifications = g->pending[scope].notifications;
    out->pending_count = g->pending[scope].count;
    out->active_index = __atomic_load_n(&s->active_index, __ATOMIC_RELAXED);
    hvlog__spin_unlock(&g->lock);
    return 0;
}
