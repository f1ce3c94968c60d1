/* SPDX-License-Identifier: MIT */
#include "sim_root.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

void root_attach(struct sim_root *r, struct hvlog_sim *sim)
{
    memset(r, 0, sizeof(*r));
    r->sim = sim;
}

static hv_status_t status_of(uint64_t rax)
{
    return rax == HVLOG_SIM_INTERCEPT ? ROOT_INTERCEPT : hv_hypercall_result_status(rax);
}

hv_status_t root_fast(struct sim_root *r, uint16_t code, uint32_t type, uint32_t index, uint64_t r8)
{
    return status_of(hvlog_sim_hypercall(r->sim, HVLOG_SIM_ROOT_ID, r->vp,
                                         code | HV_HYPERCALL_FAST_BIT,
                                         ((uint64_t)index << 32) | type, r8));
}

hv_status_t root_init(struct sim_root *r, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint32_t basis)
{
    struct hv_input_initialize_eventlog_buffer_group in = {
        .type = type, .maximum_buffer_count = count, .buffer_pages = pages,
        .threshold = threshold, .time_basis = basis, .system_time = 0x01D0000000000000ull};
    uint8_t *page;
    uint64_t gpa = hvlog_sim_root_page(r->sim, 0, &page);
    hv_status_t s;

    hv_input_initialize_eventlog_buffer_group_store(page, &in);
    s = status_of(hvlog_sim_hypercall(r->sim, HVLOG_SIM_ROOT_ID, r->vp,
                                      HvCallHvInitializeEventLogBufferGroup, gpa, 0));
    if (s == HV_STATUS_SUCCESS)
        r->pages[type] = pages;
    return s;
}

hv_status_t root_create(struct sim_root *r, uint32_t type, uint32_t index, uint32_t domain,
                        uint32_t flags)
{
    return root_fast(r, HvCallHvCreateEventLogBuffer, type, index, ((uint64_t)flags << 32) | domain);
}

hv_status_t root_map_at(struct sim_root *r, uint32_t type, uint32_t index, uint64_t in_gpa,
                        uint64_t out_gpa)
{
    uint8_t *in, *out;
    uint64_t in_default = hvlog_sim_root_page(r->sim, 0, &in);
    uint64_t out_default = hvlog_sim_root_page(r->sim, 1, &out);
    hv_status_t s;

    if (!in_gpa) {
        in_gpa = in_default;
        hvlog_store_le32(in, type);
        hvlog_store_le32(in + 4, index);
    }
    if (!out_gpa)
        out_gpa = out_default;
    s = status_of(hvlog_sim_hypercall(r->sim, HVLOG_SIM_ROOT_ID, r->vp, HvCallHvMapEventLogBuffer,
                                      in_gpa, out_gpa));
    if (s == HV_STATUS_SUCCESS && out_gpa == out_default) {
        uint64_t first = hvlog_load_le64(out);
        /* DEC-MAPGPA: identity, and the engine's pages are one run. */
        for (uint32_t i = 1; i < r->pages[type]; i++)
            assert_int_equal(hvlog_load_le64(out + 8 * i), first + i);
        r->gpa[type][index] = first << HV_PAGE_SHIFT;
    }
    return s;
}

hv_status_t root_map(struct sim_root *r, uint32_t type, uint32_t index)
{
    return root_map_at(r, type, index, 0, 0);
}

hv_status_t root_unmap(struct sim_root *r, uint32_t type, uint32_t index)
{
    hv_status_t s = root_fast(r, HvCallHvUnmapEventLogBuffer, type, index, 0);

    if (s == HV_STATUS_SUCCESS)
        r->gpa[type][index] = 0;
    return s;
}

hv_status_t root_sources(struct sim_root *r, uint32_t type, uint64_t mask)
{
    return root_fast(r, HvCallHvSetEventLogGroupSources, type, 0, mask);
}

void root_prepare(struct sim_root *r, uint32_t type, uint32_t count, uint32_t pages,
                  uint32_t threshold)
{
    uint32_t domains = hvlog_sim_domain_count(r->sim);

    assert_int_equal(root_init(r, type, count, pages, threshold, HvEventLogEntryTimeReference), 0);
    for (uint32_t i = 0; i < count; i++) {
        /* §9: spread over the domains, as a preference. */
        assert_int_equal(root_create(r, type, i, i % domains,
                                     HV_PROXIMITY_FLAG_VALID | HV_PROXIMITY_FLAG_PREFERRED), 0);
        assert_int_equal(root_map(r, type, i), 0);
    }
}

const uint8_t *root_buffer(struct sim_root *r, uint32_t type, uint32_t index)
{
    if (!r->gpa[type][index])
        return NULL;
    return hvlog_sim_root_view(r->sim, r->gpa[type][index], r->pages[type] * HV_PAGE_SIZE);
}

uint32_t root_state(struct sim_root *r, uint32_t type, uint32_t index)
{
    const uint8_t *b = root_buffer(r, type, index);

    assert_non_null(b);
    return __atomic_load_n((const uint32_t *)(const void *)(b + HVLOG_HDR_BUFFER_STATE),
                           __ATOMIC_ACQUIRE);
}

bool root_take_message(struct hvlog_sim *sim, uint32_t vp, struct root_msg *out)
{
    uint8_t *slot = hvlog_sim_sim_page(sim, vp);
    uint32_t *type_field;

    if (!slot)
        return false;
    slot += HV_EVENTLOG_SINT * HV_MESSAGE_SIZE;
    type_field = (uint32_t *)(void *)slot;
    out->message_type = __atomic_load_n(type_field, __ATOMIC_ACQUIRE);
    if (out->message_type == HvMessageTypeNone)
        return false;
    out->payload_size = hvlog_load_le8(slot + 4);
    out->sender = hvlog_load_le64(slot + 8);
    out->type = hvlog_load_le32(slot + 16);
    out->index = hvlog_load_le32(slot + 20);
    /* §8.5: clear the slot, then test MessagePending, then EOM. */
    __atomic_store_n(type_field, HvMessageTypeNone, __ATOMIC_SEQ_CST);
    out->pending = (__atomic_load_n(slot + 5, __ATOMIC_SEQ_CST) & HV_MESSAGE_FLAG_PENDING) != 0;
    if (out->pending)
        assert_int_equal(hvlog_sim_wrmsr(sim, vp, HV_X64_MSR_EOM, 0), 0);
    return true;
}

uint32_t root_consume_list(struct sim_root *r, uint32_t type, uint32_t first,
                           const struct root_reader *reader)
{
    bool seen[HV_EVENTLOG_MAX_BUFFER_COUNT] = {false};
    uint32_t chain[HV_EVENTLOG_MAX_BUFFER_COUNT], n = 0;
    uint32_t size = r->pages[type] * HV_PAGE_SIZE;

    for (uint32_t i = first; i != HV_EVENTLOG_BUFFER_INDEX_NONE;) {
        const uint8_t *b;
        struct hv_eventlog_buffer_header h;

        assert_true(i < HV_EVENTLOG_MAX_BUFFER_COUNT);
        assert_false(seen[i]); /* a chain never repeats a buffer */
        seen[i] = true;
        b = root_buffer(r, type, i);
        assert_non_null(b);
        hv_eventlog_buffer_header_load(&h, b);
        assert_int_equal(h.buffer_state, HvEventLogBufferStateReady);
        assert_int_equal(h.buffer_index, i);
        assert_int_equal(h.type, type);
        assert_int_equal(h.buffer_size, size);
        assert_true(h.next_buffer_offset >= HV_EVENTLOG_BUFFER_HEADER_SIZE);
        assert_true(h.next_buffer_offset <= size);
        if (reader && reader->on_buffer)
            reader->on_buffer(reader->ctx, type, &h);
        for (uint32_t off = HV_EVENTLOG_BUFFER_HEADER_SIZE; off < h.next_buffer_offset;) {
            struct hv_eventlog_entry_header e;

            hv_eventlog_entry_header_load(&e, b + off);
            assert_true(e.size >= HV_EVENTLOG_ENTRY_HEADER_SIZE);
            assert_int_equal(e.size % 8, 0);
            assert_true(off + e.size <= h.next_buffer_offset);
            if (reader && reader->on_entry)
                reader->on_entry(reader->ctx, type, &h, &e, b + off + HV_EVENTLOG_ENTRY_HEADER_SIZE);
            off += e.size;
        }
        chain[n++] = i;
        /* Read NextBufferIndex before releasing: Release resets it. */
        i = h.next_buffer_index;
    }
    for (uint32_t k = 0; k < n; k++)
        assert_int_equal(root_fast(r, HvCallHvReleaseEventLogBuffer, type, chain[k], 0), 0);
    return n;
}

uint32_t root_drain(struct sim_root *r, const struct root_reader *reader)
{
    uint32_t taken = 0;

    for (uint32_t vp = 0; vp < hvlog_sim_lp_count(r->sim); vp++) {
        struct root_msg m;

        if (root_take_message(r->sim, vp, &m)) {
            assert_int_equal(m.message_type, HvMessageTypeEventLogBufferComplete);
            assert_int_equal(m.payload_size, 8);
            root_consume_list(r, m.type, m.index, reader);
            taken++;
        }
    }
    return taken;
}

int root_child_signal(void (*fn)(const volatile uint8_t *), const volatile uint8_t *p)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL; /* no sanitizer report: just die of it */
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        fn(p);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

void root_store_one(const volatile uint8_t *p)
{
    *(volatile uint8_t *)(uintptr_t)p = 0x5A;
}

static volatile uint8_t root_sink;

void root_load_one(const volatile uint8_t *p)
{
    root_sink = *p;
}

uint64_t root_seed(uint64_t fallback)
{
    const char *env = getenv("HVLOG_SIM_SEED");

    return env ? strtoull(env, NULL, 0) : fallback;
}
