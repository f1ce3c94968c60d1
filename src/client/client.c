/* SPDX-License-Identifier: MIT */
/*
 * The root-side client (hvlog/client/client.h): spec §9's procedures over
 * the hypercall ABI. Per type it remembers what it created and the page
 * numbers Map returned; everything else it reads from the hypervisor, and
 * checks.
 *
 * The profile (2013 or current, spec §11) is decided in three places only:
 * which convention a call takes (hvlog_client_call, from the calls.h row),
 * how each input is laid out (the *_input builders below, one per layout
 * family), and which header convention ready buffers are read with.
 */
#include <string.h> /* memcpy and memset only: this file builds freestanding (client.h) */

#include "hvlog/abi/calls.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/hypercall.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/synic.h"
#include "hvlog/client/client.h"

#define TYPES HVLOG_TYPE_COUNT
#define NONE HV_EVENTLOG_BUFFER_INDEX_NONE

struct client_buffer {
    bool created;
    uint32_t domain;     /* UINT32_MAX: none */
    uint64_t *gpa_pages; /* [buffer_pages] from Map, or NULL when not mapped */
};

struct client_group {
    bool initialized;
    struct hvlog_group_params params;
    struct client_buffer buffers[HV_EVENTLOG_MAX_BUFFER_COUNT];
    struct hvlog_client_stats stats;
    /* The reference counter the root read just before Initialize (root
     * ops read_reference_time): the trace's anchor, paired with
     * params.system_time. Nothing the hypervisor noted comes back. */
    uint64_t ref_time_at_init;
    bool ref_time_known;
};

struct hvlog_client {
    struct hvlog_root_ops ops;
    void *ctx;
    uint32_t deposit_retries;
    enum hvlog_abi_profile abi;
    enum hvlog_abi_profile convention; /* D9: how the hypervisor writes headers */
    struct client_group groups[TYPES];
    uint8_t *copy; /* a buffer whose pages are scattered in the view, in one span (2 MiB) */
    void *(*mem_alloc)(void *ctx, size_t bytes);
    void (*mem_free)(void *ctx, void *memory);
};

static void *client_alloc(struct hvlog_client *c, size_t bytes)
{
    void *p = c->mem_alloc(c->ctx, bytes);

    if (p)
        memset(p, 0, bytes);
    return p;
}

int hvlog_client_init(const struct hvlog_client_config *config, struct hvlog_client **out)
{
    struct hvlog_client *c;

    if (!config || !out || !config->ops || !config->ops->hypercall || !config->ops->scratch_page ||
        !config->ops->view || config->ops->vp_count == 0 || !config->mem_alloc ||
        !config->mem_free || (config->abi != HVLOG_ABI_2013 && config->abi != HVLOG_ABI_CURRENT))
        return -1;
    c = config->mem_alloc(config->ctx, sizeof(*c));
    if (!c)
        return -1;
    memset(c, 0, sizeof(*c));
    c->ops = *config->ops;
    c->ctx = config->ctx;
    c->mem_alloc = config->mem_alloc;
    c->mem_free = config->mem_free;
    /* Not zeroed: every byte read from it was copied in first. */
    c->copy = c->mem_alloc(c->ctx, (size_t)HV_EVENTLOG_MAX_BUFFER_PAGES * HV_PAGE_SIZE);
    if (!c->copy) {
        config->mem_free(config->ctx, c);
        return -1;
    }
    c->deposit_retries = config->deposit_retries ? config->deposit_retries : 3;
    c->abi = config->abi;
    c->convention = config->abi;
    *out = c;
    return 0;
}

void hvlog_client_destroy(struct hvlog_client *c)
{
    if (!c)
        return;
    for (uint32_t t = 0; t < TYPES; t++) {
        for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
            if (c->groups[t].buffers[i].gpa_pages)
                c->mem_free(c->ctx, c->groups[t].buffers[i].gpa_pages);
        }
    }
    c->mem_free(c->ctx, c->copy);
    c->mem_free(c->ctx, c);
}

/* ---- issuing calls ---- */

hv_status_t hvlog_client_call(struct hvlog_client *c, uint32_t vp, uint16_t code, const void *input,
                              uint32_t len, void *out, uint32_t out_len)
{
    const struct hvlog_call_info *info = hvlog_call_info(code);
    uint64_t rax;

    if (!info)
        return HV_STATUS_INVALID_PARAMETER;
    /* D23: the row's convention for the profile; the control word is the
     * bare call code (plus Fast), as every real client sends it. */
    if ((c->abi == HVLOG_ABI_CURRENT ? info->convention_current : info->convention_2013) ==
        HVLOG_CALL_FAST) {
        uint64_t rdx, r8;
        if (!hvlog_fast_pack(input, len, &rdx, &r8))
            return HV_STATUS_INVALID_PARAMETER;
        rax = c->ops.hypercall(c->ctx, vp, code | HV_HYPERCALL_FAST_BIT, rdx, r8);
    } else {
        uint8_t *in_page, *out_page = NULL;
        uint64_t in_gpa, out_gpa = 0;

        if (len > HV_PAGE_SIZE)
            return HV_STATUS_INVALID_PARAMETER;
        in_gpa = c->ops.scratch_page(c->ctx, 0, &in_page);
        /* Output GPA 0 for a call without output, as the Linux driver
         * issues Initialize and SetSources (research §1.1). */
        if (info->has_output)
            out_gpa = c->ops.scratch_page(c->ctx, 1, &out_page);
        memcpy(in_page, input, len);
        rax = c->ops.hypercall(c->ctx, vp, code, in_gpa, out_gpa);
        if (out_page && out && out_len)
            memcpy(out, out_page, out_len > HV_PAGE_SIZE ? HV_PAGE_SIZE : out_len);
    }
    return hv_hypercall_result_status(rax);
}

/* Retry a call that ran out of pool pages after depositing @pages in @domain. */
static hv_status_t call_with_deposit(struct hvlog_client *c, struct client_group *g, uint16_t code,
                                     const void *input, uint32_t len, void *out, uint32_t out_len,
                                     uint32_t domain, uint32_t pages)
{
    hv_status_t st = hvlog_client_call(c, 0, code, input, len, out, out_len);

    for (uint32_t tries = 0; st == HV_STATUS_INSUFFICIENT_MEMORY && c->ops.deposit && pages &&
                             tries < c->deposit_retries;
         tries++) {
        if (c->ops.deposit(c->ctx, domain, pages) != 0)
            break;
        if (g)
            g->stats.deposits += pages;
        st = hvlog_client_call(c, 0, code, input, len, out, out_len);
    }
    return st;
}

/*
 * The {Type, BufferIndex} input of Delete, Map, Unmap, Release and Flush
 * (§5.4-§5.9) in @in[16]; returns its length. In the current profile Map
 * and Unmap add PartitionId (§11.2, D4), and the root names itself as
 * HV_PARTITION_ID_SELF, as the Linux driver does (research §1.1).
 */
static uint32_t buffer_input(const struct hvlog_client *c, uint16_t code, uint32_t type,
                             uint32_t index, uint8_t in[16])
{
    if (c->abi == HVLOG_ABI_CURRENT &&
        (code == HvCallHvMapEventLogBuffer || code == HvCallHvUnmapEventLogBuffer)) {
        struct hv_input_eventlog_buffer_partition b = {
            .type = type, .buffer_index = index, .partition_id = HV_PARTITION_ID_SELF};
        hv_input_eventlog_buffer_partition_store(in, &b);
        return 16;
    } else {
        struct hv_input_eventlog_buffer b = {.type = type, .buffer_index = index};
        hv_input_eventlog_buffer_store(in, &b);
        return 8;
    }
}

static hv_status_t type_index_call(struct hvlog_client *c, uint32_t vp, uint16_t code,
                                   uint32_t type, uint32_t index)
{
    uint8_t in[16];
    uint32_t len = buffer_input(c, code, type, index, in);

    return hvlog_client_call(c, vp, code, in, len, NULL, 0);
}

static struct client_group *group_of(struct hvlog_client *c, uint32_t type)
{
    return type < TYPES ? &c->groups[type] : NULL;
}

/* ---- buffers ---- */

static hv_status_t map_buffer(struct hvlog_client *c, struct client_group *g, uint32_t index)
{
    struct client_buffer *b = &g->buffers[index];
    uint32_t pages = g->params.buffer_pages;
    uint8_t in[16], out[HV_MAP_OUTPUT_MAX_SIZE];
    uint32_t len = buffer_input(c, HvCallHvMapEventLogBuffer, g->params.type, index, in);
    hv_status_t st;

    /* DEC-POOL: Map takes no pool pages, so a deposit would not help it. */
    st = call_with_deposit(c, g, HvCallHvMapEventLogBuffer, in, len, out, pages * 8u, 0, 0);
    if (st != HV_STATUS_SUCCESS)
        return st;
    b->gpa_pages = client_alloc(c, (size_t)pages * sizeof(uint64_t));
    if (!b->gpa_pages) {
        type_index_call(c, 0, HvCallHvUnmapEventLogBuffer, g->params.type, index);
        return HV_STATUS_INSUFFICIENT_MEMORY;
    }
    for (uint32_t k = 0; k < pages; k++)
        b->gpa_pages[k] = hvlog_load_le64(out + (size_t)k * 8);
    return HV_STATUS_SUCCESS;
}

hv_status_t hvlog_client_add_buffer(struct hvlog_client *c, uint32_t type, uint32_t index,
                                    uint32_t domain)
{
    struct client_group *g = group_of(c, type);
    struct hv_input_create_eventlog_buffer req = {.type = type, .buffer_index = index};
    uint8_t in[16];
    hv_status_t st;

    if (!g || !g->initialized || index >= g->params.buffer_count)
        return HV_STATUS_INVALID_PARAMETER;
    if (domain != UINT32_MAX) {
        req.proximity_id = domain;
        req.proximity_flags = HV_PROXIMITY_FLAG_VALID | HV_PROXIMITY_FLAG_PREFERRED;
    }
    hv_input_create_eventlog_buffer_store(in, &req);
    st = call_with_deposit(c, g, HvCallHvCreateEventLogBuffer, in, sizeof in, NULL, 0,
                           domain == UINT32_MAX ? 0 : domain, g->params.buffer_pages);
    if (st != HV_STATUS_SUCCESS)
        return st;
    g->buffers[index].created = true;
    g->buffers[index].domain = domain;
    st = map_buffer(c, g, index);
    if (st != HV_STATUS_SUCCESS) {
        type_index_call(c, 0, HvCallHvDeleteEventLogBuffer, type, index);
        g->buffers[index].created = false;
    }
    return st;
}

hv_status_t hvlog_client_remove_buffer(struct hvlog_client *c, uint32_t type, uint32_t index)
{
    struct client_group *g = group_of(c, type);
    struct client_buffer *b;
    hv_status_t st;

    if (!g || index >= HV_EVENTLOG_MAX_BUFFER_COUNT || !g->buffers[index].created)
        return HV_STATUS_INVALID_PARAMETER;
    b = &g->buffers[index];
    if (b->gpa_pages) {
        st = type_index_call(c, 0, HvCallHvUnmapEventLogBuffer, type, index);
        if (st != HV_STATUS_SUCCESS)
            return st;
        c->mem_free(c->ctx, b->gpa_pages);
        b->gpa_pages = NULL;
    }
    st = type_index_call(c, 0, HvCallHvDeleteEventLogBuffer, type, index);
    if (st == HV_STATUS_SUCCESS)
        b->created = false;
    return st;
}

/* ---- prepare / sources / flush ---- */

static hv_status_t finalize(struct hvlog_client *c, struct client_group *g)
{
    uint8_t in[8] = {0};
    hv_status_t st;

    hvlog_store_le32(in, g->params.type);
    st = hvlog_client_call(c, 0, HvCallHvFinalizeEventLogBufferGroup, in, sizeof in, NULL, 0);
    if (st == HV_STATUS_SUCCESS)
        g->initialized = false;
    return st;
}

static void unwind(struct hvlog_client *c, struct client_group *g)
{
    for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
        if (g->buffers[i].created)
            hvlog_client_remove_buffer(c, g->params.type, i);
    }
    finalize(c, g);
}

/*
 * The Initialize input for the profile in @in[32]; returns its length, or 0
 * when @p cannot be said in that layout. 2013: 32 bytes, BufferPages,
 * SystemTime @24 (DEC-INITLAYOUT). Current: 28 bytes packed, Type u16, Mode
 * u16, BufferSizeInBytes = pages x 4096, SystemTime @20 (§11.1, D2, D3);
 * like the Linux driver, nothing past byte 28 is written.
 */
static uint32_t initialize_input(const struct hvlog_client *c, const struct hvlog_group_params *p,
                                 uint8_t in[32])
{
    if (c->abi == HVLOG_ABI_CURRENT) {
        struct hv_input_initialize_eventlog_buffer_group_current req;

        if (p->mode > UINT16_MAX || p->buffer_pages > UINT32_MAX / HV_PAGE_SIZE)
            return 0;
        req = (struct hv_input_initialize_eventlog_buffer_group_current){
            .type = (uint16_t)p->type, /* group_of() took only 0..2 */
            .mode = (uint16_t)p->mode,
            .maximum_buffer_count = p->buffer_count,
            .buffer_size_bytes = p->buffer_pages * HV_PAGE_SIZE,
            .threshold = p->threshold,
            .time_basis = p->time_basis,
            .system_time = p->system_time,
        };
        hv_input_initialize_eventlog_buffer_group_current_store(in, &req);
        return hv_input_initialize_eventlog_buffer_group_current_WIRE_SIZE;
    } else {
        struct hv_input_initialize_eventlog_buffer_group req = {
            .type = p->type,
            .maximum_buffer_count = p->buffer_count,
            .buffer_pages = p->buffer_pages,
            .threshold = p->threshold,
            .time_basis = p->time_basis,
            .system_time = p->system_time,
        };
        /* The 2013 block has no Mode: a Circular group cannot be asked for. */
        if (p->mode != HvEventLogModeRegular)
            return 0;
        hv_input_initialize_eventlog_buffer_group_store(in, &req);
        return 32;
    }
}

hv_status_t hvlog_client_prepare(struct hvlog_client *c, const struct hvlog_group_params *p)
{
    struct client_group *g = group_of(c, p ? p->type : UINT32_MAX);
    uint32_t create, len;
    uint8_t in[32];
    hv_status_t st;

    if (!g || g->initialized)
        return g ? HV_STATUS_OBJECT_IN_USE : HV_STATUS_INVALID_PARAMETER;
    len = initialize_input(c, p, in);
    if (len == 0)
        return HV_STATUS_INVALID_PARAMETER;
    memset(&g->stats, 0, sizeof g->stats);
    /* Read as close to the caller's SystemTime as the root can: right
     * before the call that hands SystemTime to the hypervisor (§5.1). */
    g->ref_time_known = c->ops.read_reference_time != NULL;
    g->ref_time_at_init = g->ref_time_known ? c->ops.read_reference_time(c->ctx, 0) : 0;
    st = call_with_deposit(c, g, HvCallHvInitializeEventLogBufferGroup, in, len, NULL, 0, 0, 1);
    if (st != HV_STATUS_SUCCESS) {
        g->ref_time_known = false;
        return st;
    }
    memset(&g->buffers, 0, sizeof g->buffers);
    g->initialized = true;
    g->params = *p;
    create = p->create_count ? p->create_count : p->buffer_count;
    if (create > p->buffer_count)
        create = p->buffer_count;
    for (uint32_t i = 0; i < create; i++) {
        /* §9 Prepare step 3: local buffers spread over the domains; a global
         * group's buffers come from any domain. */
        uint32_t domain = p->type == HvEventLogTypeLocalDiagnostics && c->ops.domain_count > 1
                              ? i % c->ops.domain_count
                              : UINT32_MAX;
        st = hvlog_client_add_buffer(c, p->type, i, domain);
        if (st != HV_STATUS_SUCCESS) {
            unwind(c, g);
            return st;
        }
    }
    return HV_STATUS_SUCCESS;
}

/*
 * 2013: {Type, Pad, EnableFlags}, 16 bytes, fast. Current: the 544-byte
 * block, zeroed, with GroupCount 0 and ConfigurationFlags = @mask (the
 * legacy form, §11.3, D5), memory. The mask is sent as given: a mask with
 * bit 0 (the "extended" flag) is the hypervisor's to refuse, as it does
 * the Linux driver's.
 */
hv_status_t hvlog_client_set_sources(struct hvlog_client *c, uint32_t type, uint64_t mask)
{
    uint8_t in[HV_INPUT_SET_SOURCES_CURRENT_SIZE] = {0};
    uint32_t len;

    if (c->abi == HVLOG_ABI_CURRENT) {
        struct hv_input_set_eventlog_group_sources_current req = {
            .type = type, .group_count = 0, .configuration_flags = mask};
        hv_input_set_eventlog_group_sources_current_store(in, &req);
        len = HV_INPUT_SET_SOURCES_CURRENT_SIZE;
    } else {
        struct hv_input_set_eventlog_group_sources req = {.type = type, .enable_flags = mask};
        hv_input_set_eventlog_group_sources_store(in, &req);
        len = 16;
    }
    return hvlog_client_call(c, 0, HvCallHvSetEventLogGroupSources, in, len, NULL, 0);
}

hv_status_t hvlog_client_flush(struct hvlog_client *c, uint32_t vp, uint32_t type, uint32_t index)
{
    return type_index_call(c, vp, HvCallHvFlushEventLogBuffer, type, index);
}

/* BufferState of a mapped buffer, read through the view (acquire: §6.3). */
static uint32_t view_state(struct hvlog_client *c, const struct client_buffer *b)
{
    const uint8_t *hdr = c->ops.view(c->ctx, b->gpa_pages[0] << HV_PAGE_SHIFT, HV_PAGE_SIZE);
    if (!hdr)
        return UINT32_MAX;
    return __atomic_load_n(
        (const uint32_t *)(hdr + offsetof(struct hv_eventlog_buffer_header, buffer_state)),
        __ATOMIC_ACQUIRE);
}

void hvlog_client_flush_all(struct hvlog_client *c, uint32_t type)
{
    struct client_group *g = group_of(c, type);

    if (!g || !g->initialized)
        return;
    /* InUse buffers, and Complete ones too: a list below its threshold
     * whose LP has no InUse buffer any more is only delivered by a Flush
     * naming one of its buffers (§5.9 step 2). */
    for (uint32_t i = 0; i < g->params.buffer_count; i++) {
        const struct client_buffer *b = &g->buffers[i];
        uint32_t state = b->gpa_pages ? view_state(c, b) : HvEventLogBufferStateFree;
        if (state == HvEventLogBufferStateInUse || state == HvEventLogBufferStateComplete)
            hvlog_client_flush(c, 0, type, i);
    }
}

/* ---- draining ---- */

/*
 * Buffer @index's bytes for checking and writing, read in place: a Ready
 * buffer is under the root's exclusive control until it releases it, and
 * every field is stable (§6.3; §6.1: only the root's Release, T10, or
 * Unmap, T11, leave Ready; §8.6: the root reads the list, then releases).
 * So the checks, the sink's write() and the entry walk all read the view
 * itself, with no copy in between (issue 17, "Speed").
 *
 * The view is one span when the buffer's pages are contiguous in the
 * root's GPA space (one view call) or, failing that, when the view of
 * each page lands right after the previous one. Otherwise (pages
 * scattered in the view) they are copied into c->copy, page by page, to
 * give the walker one span. Returns the bytes and sets *@len, or NULL
 * when a page cannot be read through the view.
 */
static const uint8_t *buffer_bytes(struct hvlog_client *c, const struct client_group *g,
                                   uint32_t index, size_t *len)
{
    const struct client_buffer *b = &g->buffers[index];
    uint32_t pages = g->params.buffer_pages, k;
    const uint8_t *base;

    *len = (size_t)pages * HV_PAGE_SIZE;
    for (k = 1; k < pages && b->gpa_pages[k] == b->gpa_pages[0] + k; k++)
        ;
    if (k == pages) {
        /* prepare() took buffer_pages <= 512 (BufferSize fits 32 bits). */
        base = c->ops.view(c->ctx, b->gpa_pages[0] << HV_PAGE_SHIFT, (uint32_t)*len);
        if (base)
            return base;
    }
    base = c->ops.view(c->ctx, b->gpa_pages[0] << HV_PAGE_SHIFT, HV_PAGE_SIZE);
    if (!base)
        return NULL;
    for (k = 1; k < pages; k++) {
        const uint8_t *page = c->ops.view(c->ctx, b->gpa_pages[k] << HV_PAGE_SHIFT, HV_PAGE_SIZE);

        if (!page)
            return NULL;
        if (base != c->copy && page == base + (size_t)k * HV_PAGE_SIZE)
            continue; /* still one span of the view */
        if (base != c->copy) { /* the span breaks here: copy what it held */
            memcpy(c->copy, base, (size_t)k * HV_PAGE_SIZE);
            base = c->copy;
        }
        memcpy(c->copy + (size_t)k * HV_PAGE_SIZE, page, HV_PAGE_SIZE);
    }
    return base;
}

struct entry_sink {
    const struct hvlog_client_sink *sink;
    void *arg;
};

static bool forward_entry(void *p, const struct hvlog_entry *e)
{
    const struct entry_sink *es = p;

    return es->sink->entry(es->arg, e);
}

static void report(struct client_group *g, const struct hvlog_client_sink *sink, void *arg,
                   uint32_t index, const char *why)
{
    g->stats.corrupt++;
    if (sink && sink->corrupt)
        sink->corrupt(arg, g->params.type, index, why);
}

/* §8.6: walk the list from @first, read each buffer, release them all. */
static void drain_list(struct hvlog_client *c, struct client_group *g, uint32_t first,
                       const struct hvlog_client_sink *sink, void *arg)
{
    bool seen[HV_EVENTLOG_MAX_BUFFER_COUNT] = {false};
    uint32_t chain[HV_EVENTLOG_MAX_BUFFER_COUNT], n = 0;

    for (uint32_t i = first; i != NONE;) {
        struct hvlog_walk_expect expect = {g->params.type, i, HvEventLogBufferStateReady,
                                           g->params.buffer_pages * HV_PAGE_SIZE};
        struct hvlog_buffer_summary s;
        struct entry_sink ec = {sink, arg};
        enum hvlog_walk_error err;
        const uint8_t *bytes;
        size_t len;

        if (i >= g->params.buffer_count || !g->buffers[i].gpa_pages) {
            report(g, sink, arg, i, "ready list names a buffer that is not mapped");
            break;
        }
        if (seen[i]) {
            report(g, sink, arg, i, "ready list loops back to a buffer already read");
            break;
        }
        seen[i] = true;
        chain[n++] = i;
        bytes = buffer_bytes(c, g, i, &len);
        if (!bytes) {
            report(g, sink, arg, i, "buffer pages not readable through the view");
            break;
        }
        /* Checked where it lies (buffer_bytes: a Ready buffer is stable
         * until released, §6.3), header and every entry, before the sink
         * sees a byte. Should a hypervisor break §6.3 and write meanwhile,
         * nothing here reads past the span: the walker loads each bound
         * once where it uses it, and the ready list's links are checked
         * above (range, repeats) whatever they say. */
        err = hvlog_buffer_walk(bytes, len, c->convention, &expect, &s, NULL, NULL);
        if (err != HVLOG_WALK_OK) {
            report(g, sink, arg, i, hvlog_walk_error_text(err));
            i = hvlog_load_le32(bytes + offsetof(struct hv_eventlog_buffer_header,
                                                 next_buffer_index));
            continue;
        }
        if (sink && sink->buffer)
            sink->buffer(arg, &s, bytes, len);
        /* The check above counted the entries; a second walk only hands
         * them to a sink that asked for them. */
        if (sink && sink->entry)
            hvlog_buffer_walk(bytes, len, c->convention, &expect, NULL, forward_entry, &ec);
        g->stats.buffers++;
        g->stats.entries += s.entries;
        g->stats.bytes += len;
        g->stats.data_bytes += s.data_end - HV_EVENTLOG_BUFFER_HEADER_SIZE;
        g->stats.events_lost += s.events_lost;
        i = s.next_buffer_index;
    }
    if (n > g->stats.longest_chain)
        g->stats.longest_chain = n;
    /* Release after the walk: NextBufferIndex was read before (Windows
     * root order); buffers of one list may be released in any order. */
    for (uint32_t k = 0; k < n; k++) {
        if (type_index_call(c, 0, HvCallHvReleaseEventLogBuffer, g->params.type, chain[k]) !=
            HV_STATUS_SUCCESS)
            g->stats.release_failures++;
    }
}

bool hvlog_client_message_take(const struct hvlog_root_ops *ops, void *ctx, uint32_t vp,
                               struct hvlog_root_message *msg)
{
    uint8_t *slot = ops && ops->message_page ? ops->message_page(ctx, vp) : NULL;
    uint8_t bytes[HV_MESSAGE_SIZE];

    if (!slot)
        return false;
    slot += (size_t)HV_EVENTLOG_SINT * HV_MESSAGE_SIZE;
    /* §8.5 root handler: MessageType acquire (0 = empty; the rest of the
     * slot is then complete), copy everything but MessageFlags, clear
     * MessageType, and only then read MessageFlags: the SynIC sets
     * MessagePending while the slot is full, so a flag read earlier could
     * miss a message queued meanwhile and never write EOM. */
    if (__atomic_load_n((const uint32_t *)slot, __ATOMIC_ACQUIRE) == HvMessageTypeNone)
        return false;
    memcpy(bytes, slot, 5);
    memcpy(bytes + 6, slot + 6, sizeof bytes - 6);
    __atomic_store_n((uint32_t *)slot, HvMessageTypeNone, __ATOMIC_SEQ_CST);
    bytes[5] = __atomic_load_n(slot + 5, __ATOMIC_SEQ_CST);
    hv_message_header_load(&msg->header, bytes);
    hv_eventlog_message_payload_load(&msg->payload, bytes + HV_MESSAGE_HEADER_SIZE);
    msg->pending = (msg->header.message_flags & HV_MESSAGE_FLAG_PENDING) != 0;
    return true;
}

void hvlog_client_message_done(const struct hvlog_root_ops *ops, void *ctx, uint32_t vp,
                               const struct hvlog_root_message *msg)
{
    if (msg->pending && ops && ops->eom)
        ops->eom(ctx, vp);
}

uint32_t hvlog_client_poll(struct hvlog_client *c, uint32_t vp,
                           const struct hvlog_client_sink *sink, void *arg)
{
    struct hvlog_root_message m;
    uint32_t handled = 0;

    if (!c->ops.message_page || !c->ops.eom)
        return 0;
    while (hvlog_client_message_take(&c->ops, c->ctx, vp, &m)) {
        struct client_group *g;

        handled++;
        if (m.header.message_type == HvMessageTypeEventLogBufferComplete &&
            m.header.payload_size >= HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE &&
            (g = group_of(c, m.payload.event_log_type)) != NULL && g->initialized) {
            g->stats.messages++;
            if (sink && sink->message)
                sink->message(arg, vp, m.payload.event_log_type, m.payload.buffer_index);
            drain_list(c, g, m.payload.buffer_index, sink, arg);
        }
        /* Then EOM if more wait: the SynIC copies the next one in. */
        hvlog_client_message_done(&c->ops, c->ctx, vp, &m);
    }
    return handled;
}

hv_status_t hvlog_client_conclude(struct hvlog_client *c, uint32_t type,
                                  const struct hvlog_client_sink *sink, void *arg)
{
    struct client_group *g = group_of(c, type);
    hv_status_t first_error = HV_STATUS_SUCCESS, st;

    if (!g || !g->initialized)
        return HV_STATUS_OPERATION_DENIED;
    /* 1-3: disable, flush what is InUse, drain until nothing is left in
     * flight or nothing moves (a message that never comes must not hang). */
    st = hvlog_client_set_sources(c, type, 0);
    if (st != HV_STATUS_SUCCESS)
        first_error = st;
    for (int round = 0; round < 8; round++) {
        uint32_t in_flight = 0, handled = 0;

        hvlog_client_flush_all(c, type);
        for (uint32_t vp = 0; vp < c->ops.vp_count; vp++)
            handled += hvlog_client_poll(c, vp, sink, arg);
        for (uint32_t i = 0; i < g->params.buffer_count; i++) {
            const struct client_buffer *b = &g->buffers[i];
            uint32_t state = b->gpa_pages ? view_state(c, b) : HvEventLogBufferStateFree;
            in_flight += state == HvEventLogBufferStateInUse ||
                         state == HvEventLogBufferStateComplete ||
                         state == HvEventLogBufferStateReady;
        }
        if (in_flight == 0 || (handled == 0 && round > 0))
            break;
    }
    /* 4-6: unmap, delete, finalize. */
    for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
        if (!g->buffers[i].created)
            continue;
        st = hvlog_client_remove_buffer(c, type, i);
        if (st != HV_STATUS_SUCCESS && first_error == HV_STATUS_SUCCESS)
            first_error = st;
    }
    st = finalize(c, g);
    if (st != HV_STATUS_SUCCESS && first_error == HV_STATUS_SUCCESS)
        first_error = st;
    return first_error;
}

bool hvlog_client_init_reference_time(const struct hvlog_client *c, uint32_t type, uint64_t *out)
{
    if (!c || type >= TYPES || !c->groups[type].ref_time_known)
        return false;
    if (out)
        *out = c->groups[type].ref_time_at_init;
    return true;
}

void hvlog_client_stats(const struct hvlog_client *c, uint32_t type, struct hvlog_client_stats *out)
{
    if (type < TYPES)
        *out = c->groups[type].stats;
    else
        memset(out, 0, sizeof(*out));
}

const uint64_t *hvlog_client_buffer_pages(const struct hvlog_client *c, uint32_t type,
                                          uint32_t index, uint32_t *count)
{
    if (type >= TYPES || index >= HV_EVENTLOG_MAX_BUFFER_COUNT || !c->groups[type].buffers[index].gpa_pages)
        return NULL;
    if (count)
        *count = c->groups[type].params.buffer_pages;
    return c->groups[type].buffers[index].gpa_pages;
}
