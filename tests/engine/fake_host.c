/* SPDX-License-Identifier: MIT */
#include "fake_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fake_host *host_of(void *ctx)
{
    return ctx;
}

static uint64_t fh_ref_time(void *ctx)
{
    struct fake_host *h = host_of(ctx);

    /* The clock is read inside hvlog_log(): where a test's "interrupt" lands. */
    if (h->on_clock) {
        void (*fn)(struct fake_host *) = h->on_clock;
        h->on_clock = NULL; /* once */
        fn(h);
    }
    return ++h->now;
}

static bool take_fault(int *after)
{
    if (*after <= 0)
        return false;
    return --*after == 0;
}

static int fh_pages_alloc(void *ctx, uint32_t domain, bool strict, uint32_t count,
                          struct hvlog_pages *out)
{
    struct fake_host *h = host_of(ctx);
    uint32_t d = domain < h->domains ? domain : 0;
    void *mem;

    if (take_fault(&h->fail_alloc_after))
        return -1;
    if (h->pool_free[d] < count) {
        if (strict)
            return -1;
        for (d = 0; d < h->domains && h->pool_free[d] < count; d++)
            ;
        if (d == h->domains)
            return -1;
    }
    mem = aligned_alloc(4096, (size_t)count * 4096);
    if (!mem)
        return -1;
    memset(mem, 0xA5, (size_t)count * 4096); /* not zeroed: the engine must zero */
    h->pool_free[d] -= count;
    h->allocs_outstanding++;
    out->hva = mem;
    out->handle = (uint64_t)(uintptr_t)mem;
    out->count = count;
    out->domain = d;
    return 0;
}

static void fh_pages_free(void *ctx, const struct hvlog_pages *p)
{
    struct fake_host *h = host_of(ctx);

    h->pool_free[p->domain] += p->count;
    h->allocs_outstanding--;
    free(p->hva);
}

static int fh_overlay_map(void *ctx, const struct hvlog_pages *p, uint64_t *gpa_pages)
{
    struct fake_host *h = host_of(ctx);

    if (take_fault(&h->fail_overlay_after))
        return -1;
    /* Overlay GPAs above the fake guest memory, by host address. */
    for (uint32_t i = 0; i < p->count; i++)
        gpa_pages[i] = 0x100000ull + ((uint64_t)(uintptr_t)p->hva >> 12) + i;
    h->overlays_mapped++;
    return 0;
}

static void fh_overlay_unmap(void *ctx, const struct hvlog_pages *p)
{
    (void)p;
    host_of(ctx)->overlays_mapped--;
}

static uint8_t *guest_mem(struct fake_host *h, uint64_t partition)
{
    if (partition == FAKE_ROOT_ID)
        return h->root_mem;
    if (partition == FAKE_CHILD_ID)
        return h->child_mem;
    return NULL;
}

static enum hvlog_gpa_result fh_gpa_probe(void *ctx, uint64_t partition, uint64_t gpa, uint32_t len,
                                          bool write)
{
    struct fake_host *h = host_of(ctx);
    uint64_t size = (uint64_t)FAKE_GUEST_PAGES * 4096;

    if (!guest_mem(h, partition) || gpa >= size || len > size - gpa)
        return HVLOG_GPA_OUT_OF_RANGE;
    for (uint64_t page = gpa >> 12; page <= (gpa + (len ? len - 1 : 0)) >> 12; page++) {
        if (page == (FAKE_NOACCESS_GPA >> 12) || (write && page == (FAKE_RO_GPA >> 12)))
            return HVLOG_GPA_FAULT;
    }
    return HVLOG_GPA_OK;
}

static enum hvlog_gpa_result fh_gpa_read(void *ctx, uint64_t partition, uint64_t gpa, void *dst,
                                         uint32_t len)
{
    enum hvlog_gpa_result r = fh_gpa_probe(ctx, partition, gpa, len, false);

    if (r == HVLOG_GPA_OK)
        memcpy(dst, guest_mem(host_of(ctx), partition) + gpa, len);
    return r;
}

static enum hvlog_gpa_result fh_gpa_write(void *ctx, uint64_t partition, uint64_t gpa,
                                          const void *src, uint32_t len)
{
    enum hvlog_gpa_result r = fh_gpa_probe(ctx, partition, gpa, len, true);

    /* The page went away between the engine's probe and its write. */
    if (r == HVLOG_GPA_OK && take_fault(&host_of(ctx)->fail_write_after))
        return HVLOG_GPA_FAULT;
    if (r == HVLOG_GPA_OK)
        memcpy(guest_mem(host_of(ctx), partition) + gpa, src, len);
    return r;
}

static enum hvlog_post_result fh_post(void *ctx, uint32_t vp, const struct hv_message *msg,
                                     uint64_t token)
{
    struct fake_host *h = host_of(ctx);

    if (take_fault(&h->refuse_post_after))
        return HVLOG_POST_REFUSED;
    if (vp >= FAKE_MAX_VPS || h->queue_len[vp] == FAKE_QUEUE_DEPTH)
        return HVLOG_POST_REFUSED;
    h->posts++;
    h->queue_token[vp][h->queue_len[vp]] = token;
    h->queue[vp][h->queue_len[vp]++] = msg;
    return HVLOG_POST_QUEUED;
}

static void fh_withdraw(void *ctx, uint32_t vp, const struct hv_message *msg)
{
    struct fake_host *h = host_of(ctx);

    for (uint32_t i = 0; i < h->queue_len[vp]; i++) {
        if (h->queue[vp][i] != msg)
            continue;
        memmove(&h->queue[vp][i], &h->queue[vp][i + 1],
                (h->queue_len[vp] - i - 1) * sizeof(h->queue[vp][0]));
        memmove(&h->queue_token[vp][i], &h->queue_token[vp][i + 1],
                (h->queue_len[vp] - i - 1) * sizeof(h->queue_token[vp][0]));
        h->queue_len[vp]--;
        h->withdrawals++;
        return;
    }
}

static void *fh_mem_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return malloc(bytes);
}

static void fh_mem_free(void *ctx, void *memory)
{
    (void)ctx;
    free(memory);
}

static void fh_warn(void *ctx, uint32_t type, const char *what)
{
    struct fake_host *h = host_of(ctx);

    h->warnings++;
    h->last_warning_type = type;
    h->last_warning = what;
}

static bool fh_vp_eligible(void *ctx, uint32_t vp)
{
    return vp < FAKE_MAX_VPS && !host_of(ctx)->vp_ineligible[vp];
}

static uint32_t fh_lp_domain(void *ctx, uint32_t lp)
{
    return lp < 64 ? host_of(ctx)->lp_domain[lp] : 0;
}

static bool fh_domain_known(void *ctx, uint32_t domain)
{
    return domain < host_of(ctx)->domains;
}

enum hvlog_abi_profile fake_test_abi(void)
{
    const char *v = getenv("HVLOG_TEST_ABI");

    if (!v || !*v || strcmp(v, "2013") == 0)
        return HVLOG_ABI_2013;
    if (strcmp(v, "current") == 0)
        return HVLOG_ABI_CURRENT;
    fprintf(stderr, "HVLOG_TEST_ABI=%s: expected 2013 or current\n", v);
    abort();
}

struct hvlog_profile fake_profile_default(void)
{
    return hvlog_profile_preset(fake_test_abi());
}

const char *fake_abi_name(enum hvlog_abi_profile abi)
{
    return abi == HVLOG_ABI_CURRENT ? "current" : "2013";
}

int fake_host_init(struct fake_host *h, uint32_t lps, uint32_t domains, int64_t pool_pages,
                   const struct hvlog_profile *profile)
{
    struct hvlog_engine_config cfg;

    memset(h, 0, sizeof(*h));
    h->domains = domains ? domains : 1;
    for (uint32_t d = 0; d < h->domains; d++)
        h->pool_free[d] = pool_pages;
    for (uint32_t lp = 0; lp < 64; lp++)
        h->lp_domain[lp] = lp % h->domains;
    h->ops = (struct hvlog_host_ops){
        .ref_time_100ns = fh_ref_time,
        .pages_alloc = fh_pages_alloc,
        .pages_free = fh_pages_free,
        .size = sizeof(struct hvlog_host_ops),
        .mem_alloc = fh_mem_alloc,
        .mem_free = fh_mem_free,
        .warn = fh_warn,
        .overlay_map = fh_overlay_map,
        .overlay_unmap = fh_overlay_unmap,
        .gpa_probe = fh_gpa_probe,
        .gpa_read = fh_gpa_read,
        .gpa_write = fh_gpa_write,
        .post_message = fh_post,
        .withdraw_message = fh_withdraw,
        .vp_eligible = fh_vp_eligible,
        .lp_domain = fh_lp_domain,
        .domain_known = fh_domain_known,
    };
    cfg = (struct hvlog_engine_config){
        .size = sizeof(struct hvlog_engine_config),
        .lp_count = lps,
        .root_vp_count = lps,
        .root_partition_id = FAKE_ROOT_ID,
        .profile = profile ? *profile : fake_profile_default(),
        .ops = &h->ops,
        .ctx = h,
    };
    h->abi = cfg.profile.abi;
    if (hvlog_engine_create(&cfg, &h->engine) != 0)
        return -1;
    h->logger = hvlog_engine_logger(h->engine);
    return 0;
}

void fake_host_fini(struct fake_host *h)
{
    hvlog_engine_destroy(h->engine);
    h->engine = NULL;
}

int64_t fake_pool_used(const struct fake_host *h)
{
    return (int64_t)h->allocs_outstanding;
}

hv_status_t fake_call(struct fake_host *h, uint64_t partition, uint32_t vp, uint64_t rcx,
                      uint64_t rdx, uint64_t r8, enum hvlog_hypercall_outcome *outcome)
{
    struct hvlog_caller caller = {.partition_id = partition, .vp_index = vp};
    struct hvlog_hypercall call = {.rcx = rcx, .rdx = rdx, .r8 = r8, .rax = 0xDEADBEEFull};
    enum hvlog_hypercall_outcome o = hvlog_engine_hypercall(h->engine, &caller, &call);

    if (outcome)
        *outcome = o;
    if (o != HVLOG_HYPERCALL_DONE)
        return 0xFFFF;
    return hv_hypercall_result_status(call.rax);
}

hv_status_t fake_fast(struct fake_host *h, uint16_t code, const void *input, uint32_t len)
{
    uint64_t rdx, r8;

    hvlog_fast_pack(input, len, &rdx, &r8);
    return fake_call(h, FAKE_ROOT_ID, 0, fake_rcx(code, true), rdx, r8, NULL);
}

hv_status_t fake_mem(struct fake_host *h, uint16_t code, const void *input, uint32_t len)
{
    memcpy(h->root_mem + FAKE_IN_GPA, input, len);
    return fake_call(h, FAKE_ROOT_ID, 0, fake_rcx(code, false), FAKE_IN_GPA, FAKE_OUT_GPA, NULL);
}

uint32_t fake_encode(enum hvlog_abi_profile abi, uint16_t code, const uint32_t w[8],
                     uint8_t *bytes)
{
    const struct hvlog_call_info *info = hvlog_call_info(code);
    uint32_t len = info ? info->input_bytes_2013 : 16;

    memset(bytes, 0, FAKE_INPUT_MAX);
    if (abi != HVLOG_ABI_CURRENT) {
        for (uint32_t i = 0; i < len / 4; i++)
            hvlog_store_le32(bytes + 4 * i, w[i]);
        return len;
    }
    switch (code) {
    case HvCallHvInitializeEventLogBufferGroup: /* §11.1, 28 bytes packed, read as 32 */
        hvlog_store_le32(bytes + 0, w[0]); /* Type u16 @0, Mode u16 @2 */
        hvlog_store_le32(bytes + 4, w[1]);
        hvlog_store_le32(bytes + 8, w[2] * HV_PAGE_SIZE);
        hvlog_store_le32(bytes + 12, w[3]);
        hvlog_store_le32(bytes + 16, w[4]);
        hvlog_store_le64(bytes + 20, w[6] | ((uint64_t)w[7] << 32));
        hvlog_store_le32(bytes + 28, w[5]); /* ignored padding of the 32-byte block */
        return 32;
    case HvCallHvMapEventLogBuffer: /* §11.2 */
    case HvCallHvUnmapEventLogBuffer:
        hvlog_store_le32(bytes + 0, w[0]);
        hvlog_store_le32(bytes + 4, w[1]);
        hvlog_store_le64(bytes + 8, HV_PARTITION_ID_SELF);
        return 16;
    case HvCallHvSetEventLogGroupSources: /* §11.3: the legacy head, no group configs */
        for (uint32_t i = 0; i < 4; i++)
            hvlog_store_le32(bytes + 4 * i, w[i]);
        return HV_INPUT_SET_SOURCES_CURRENT_SIZE;
    default:
        for (uint32_t i = 0; i < len / 4; i++)
            hvlog_store_le32(bytes + 4 * i, w[i]);
        return len;
    }
}

uint32_t fake_input_len(enum hvlog_abi_profile abi, uint16_t code)
{
    static const uint32_t zero[8];
    uint8_t bytes[FAKE_INPUT_MAX];

    return fake_encode(abi, code, zero, bytes);
}

bool fake_canonical_memory(const struct fake_host *h, uint16_t code)
{
    const struct hvlog_call_info *info = hvlog_call_info(code);

    if (!info)
        return false;
    return (fake_current(h) ? info->convention_current : info->convention_2013) ==
           HVLOG_CALL_MEMORY;
}

hv_status_t fake_issue(struct fake_host *h, uint16_t code, const uint32_t w[8])
{
    uint8_t bytes[FAKE_INPUT_MAX];
    uint32_t len = fake_encode(h->abi, code, w, bytes);

    if (fake_canonical_memory(h, code))
        return fake_mem(h, code, bytes, len);
    /* Fast: Unmap is 16 bytes in the current profile (R8 = PartitionId). */
    return fake_fast(h, code, bytes, len);
}

hv_status_t fake_init_mode(struct fake_host *h, uint32_t type, uint32_t mode, uint32_t count,
                           uint32_t pages, uint32_t threshold, uint32_t basis)
{
    const uint32_t w[8] = {type | mode << 16, count, pages, threshold, basis, 0,
                           0x00000000u, 0x01D90000u};

    return fake_issue(h, HvCallHvInitializeEventLogBufferGroup, w);
}

hv_status_t fake_init(struct fake_host *h, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint32_t basis)
{
    return fake_init_mode(h, type, HvEventLogModeRegular, count, pages, threshold, basis);
}

static hv_status_t type_index(struct fake_host *h, uint16_t code, uint32_t type, uint32_t index)
{
    const uint32_t w[8] = {type, index};

    return fake_issue(h, code, w);
}

hv_status_t fake_finalize(struct fake_host *h, uint32_t type)
{
    return type_index(h, HvCallHvFinalizeEventLogBufferGroup, type, 0);
}

hv_status_t fake_create(struct fake_host *h, uint32_t type, uint32_t index, uint32_t prox_id,
                        uint32_t prox_flags)
{
    const uint32_t w[8] = {type, index, prox_id, prox_flags};

    return fake_issue(h, HvCallHvCreateEventLogBuffer, w);
}

hv_status_t fake_delete(struct fake_host *h, uint32_t type, uint32_t index)
{
    return type_index(h, HvCallHvDeleteEventLogBuffer, type, index);
}

hv_status_t fake_map(struct fake_host *h, uint32_t type, uint32_t index, uint64_t *gpa_pages)
{
    struct hvlog_buffer_info info;
    hv_status_t st = type_index(h, HvCallHvMapEventLogBuffer, type, index);

    if (st == HV_STATUS_SUCCESS && gpa_pages) {
        hvlog_engine_buffer_info(h->engine, type, index, &info);
        for (uint32_t i = 0; i < info.pages.count; i++)
            gpa_pages[i] = hvlog_load_le64(h->root_mem + FAKE_OUT_GPA + i * 8);
    }
    return st;
}

hv_status_t fake_unmap(struct fake_host *h, uint32_t type, uint32_t index)
{
    return type_index(h, HvCallHvUnmapEventLogBuffer, type, index);
}

hv_status_t fake_sources(struct fake_host *h, uint32_t type, uint64_t mask)
{
    const uint32_t w[8] = {type, 0, (uint32_t)mask, (uint32_t)(mask >> 32)};

    return fake_issue(h, HvCallHvSetEventLogGroupSources, w);
}

hv_status_t fake_release(struct fake_host *h, uint32_t type, uint32_t index)
{
    return type_index(h, HvCallHvReleaseEventLogBuffer, type, index);
}

hv_status_t fake_flush(struct fake_host *h, uint32_t type, uint32_t index)
{
    return type_index(h, HvCallHvFlushEventLogBuffer, type, index);
}

hv_status_t fake_flush_from(struct fake_host *h, uint32_t vp, uint32_t type, uint32_t index)
{
    const uint32_t w[8] = {type, index};
    uint8_t bytes[FAKE_INPUT_MAX];
    uint64_t rdx, r8;

    hvlog_fast_pack(bytes, fake_encode(h->abi, HvCallHvFlushEventLogBuffer, w, bytes), &rdx, &r8);
    return fake_call(h, FAKE_ROOT_ID, vp, fake_rcx(HvCallHvFlushEventLogBuffer, true), rdx, r8,
                     NULL);
}

void fake_setup_group(struct fake_host *h, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint64_t mask)
{
    fake_init(h, type, count, pages, threshold, 0);
    for (uint32_t i = 0; i < count; i++) {
        fake_create(h, type, i, 0, 0);
        fake_map(h, type, i, NULL);
    }
    fake_sources(h, type, mask);
}

enum hvlog_log_result fake_log(struct fake_host *h, uint32_t lp, uint32_t type, uint32_t len,
                               uint32_t seq)
{
    uint8_t payload[65536];

    for (uint32_t i = 0; i < len && i < sizeof payload; i++)
        payload[i] = (uint8_t)(seq * 31 + i);
    return hvlog_log(h->logger, lp, type, ~0ull, 0x1A, seq, payload, len);
}

bool fake_copy_message(struct fake_host *h, uint32_t vp, struct hv_message *copy, uint64_t *token)
{
    if (vp >= FAKE_MAX_VPS || h->queue_len[vp] == 0)
        return false;
    memcpy(copy, h->queue[vp][0], sizeof *copy);
    *token = h->queue_token[vp][0];
    memmove(&h->queue[vp][0], &h->queue[vp][1], (h->queue_len[vp] - 1) * sizeof(h->queue[vp][0]));
    memmove(&h->queue_token[vp][0], &h->queue_token[vp][1],
            (h->queue_len[vp] - 1) * sizeof(h->queue_token[vp][0]));
    h->queue_len[vp]--;
    return true;
}

bool fake_take_message(struct fake_host *h, uint32_t vp, uint32_t *type, uint32_t *index)
{
    struct hv_message copy;
    struct hv_message_header hdr;
    struct hv_eventlog_message_payload pl;
    uint64_t token;

    if (!fake_copy_message(h, vp, &copy, &token))
        return false;
    hv_message_header_load(&hdr, &copy);
    hv_eventlog_message_payload_load(&pl, (const uint8_t *)&copy + HV_MESSAGE_HEADER_SIZE);
    if (type)
        *type = pl.event_log_type;
    if (index)
        *index = pl.buffer_index;
    hvlog_engine_message_delivered(h->engine, token);
    return hdr.message_type == HvMessageTypeEventLogBufferComplete;
}

uint32_t fake_queued(const struct fake_host *h, uint32_t vp)
{
    return vp < FAKE_MAX_VPS ? h->queue_len[vp] : 0;
}

uint32_t fake_state(struct fake_host *h, uint32_t type, uint32_t index)
{
    struct hvlog_buffer_info info;

    hvlog_engine_buffer_info(h->engine, type, index, &info);
    return info.exists ? info.state : 0xFF;
}

struct hv_eventlog_buffer_header fake_header(struct fake_host *h, uint32_t type, uint32_t index)
{
    struct hvlog_buffer_info info;

    hvlog_engine_buffer_info(h->engine, type, index, &info);
    return info.header;
}

struct hv_eventlog_buffer_header_current fake_header_current(struct fake_host *h, uint32_t type,
                                                             uint32_t index)
{
    struct hvlog_buffer_info info;

    hvlog_engine_buffer_info(h->engine, type, index, &info);
    return info.header_current;
}

uint32_t fake_header_lp(struct fake_host *h, uint32_t type, uint32_t index)
{
    return fake_current(h) ? fake_header_current(h, type, index).logical_processor
                           : fake_header(h, type, index).logical_processor;
}

int fake_chain(struct fake_host *h, uint32_t type, uint32_t first, uint32_t *indices, int max)
{
    int n = 0;

    for (uint32_t i = first; i != HV_EVENTLOG_BUFFER_INDEX_NONE;) {
        if (n == max || i >= HV_EVENTLOG_MAX_BUFFER_COUNT)
            return -1;
        for (int k = 0; k < n; k++) {
            if (indices[k] == i)
                return -1;
        }
        indices[n++] = i;
        i = fake_header(h, type, i).next_buffer_index;
    }
    return n;
}

void fake_snapshot(struct fake_host *h, struct fake_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++)
        hvlog_engine_group_info(h->engine, t, &s->group[t]);
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++)
            hvlog_engine_buffer_info(h->engine, t, i, &s->buffer[t][i]);
    }
    memcpy(s->pool_free, h->pool_free, sizeof s->pool_free);
    memcpy(s->queue_len, h->queue_len, sizeof s->queue_len);
    s->overlays_mapped = h->overlays_mapped;
    memcpy(s->out_page, h->root_mem + FAKE_OUT_GPA, sizeof s->out_page);
}

int fake_snapshot_diff(const struct fake_snapshot *a, const struct fake_snapshot *b)
{
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        if (memcmp(&a->group[t], &b->group[t], sizeof a->group[t]) != 0)
            return 100 + (int)t;
    }
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++) {
            const struct hvlog_buffer_info *x = &a->buffer[t][i], *y = &b->buffer[t][i];
            if (x->exists != y->exists || x->state != y->state || x->owner_lp != y->owner_lp ||
                x->root_mapped != y->root_mapped ||
                memcmp(&x->header, &y->header, sizeof x->header) != 0)
                return 1000 + (int)(t * 1000 + i);
        }
    }
    if (memcmp(a->pool_free, b->pool_free, sizeof a->pool_free) != 0)
        return 2;
    if (memcmp(a->queue_len, b->queue_len, sizeof a->queue_len) != 0)
        return 3;
    if (a->overlays_mapped != b->overlays_mapped)
        return 4;
    if (memcmp(a->out_page, b->out_page, sizeof a->out_page) != 0)
        return 5;
    return 0;
}
