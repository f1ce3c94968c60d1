/* SPDX-License-Identifier: MIT */
/*
 * How the root client reads a Ready buffer (issue 17, "Speed"): in place in
 * the read-only view, with no copy, whenever the view holds the buffer in
 * one span; copied into one span only when its pages are scattered in the
 * view. And what reading in place must not lose: a lying header or entry
 * is still caught before the sink sees a byte (and the buffer is still
 * released), and bytes a misbehaving hypervisor changes between the check
 * and the entry walk (spec §6.3 forbids it) cannot make the walk read out
 * of the buffer or loop.
 *
 * The simulated host is wrapped in root ops of the test's own, whose view
 * serves the sim's view as it is, page by page only, from scattered
 * snapshots, or from one mutable snapshot per buffer that the test may
 * falsify. Lockstep, LP 0, the 2013 profile; 2-page buffers, threshold 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/client/client.h"
#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define HC HV_TR_GROUP_HC
#define PAGE HV_PAGE_SIZE
#define PAGES 2u
#define BUFFERS 8u
#define EVENTS 600u /* 32-byte entries: 253 fill a 2-page buffer, so 2 Ready + 1 InUse */
#define SLOTS 32u

enum view_mode {
    VIEW_AS_IS,      /* the sim's view: GPA-contiguous pages in one call */
    VIEW_PAGE_ONLY,  /* one page per call, adjacent (the span is found page by page) */
    VIEW_SCATTERED,  /* one page per call, each from a snapshot two pages from the last */
    VIEW_SNAPSHOT,   /* a whole buffer from one mutable snapshot (the test's to falsify) */
};

struct wrap {
    struct hvlog_sim *sim;
    struct hvlog_root_ops inner;
    enum view_mode mode;
    uint8_t *shadow; /* SLOTS x 2 pages (scattered), or one buffer (snapshot) */
    uint32_t next_slot;
    void (*lie)(uint8_t *buffer); /* applied to each snapshot, or NULL */
    uint32_t lies;                /* snapshots falsified */
};

static uint64_t w_hypercall(void *ctx, uint32_t vp, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    struct wrap *w = ctx;
    return w->inner.hypercall(w->sim, vp, rcx, rdx, r8);
}

static uint64_t w_scratch(void *ctx, uint32_t index, uint8_t **hva)
{
    struct wrap *w = ctx;
    return w->inner.scratch_page(w->sim, index, hva);
}

static uint8_t *w_message_page(void *ctx, uint32_t vp)
{
    struct wrap *w = ctx;
    return w->inner.message_page(w->sim, vp);
}

static void w_eom(void *ctx, uint32_t vp)
{
    struct wrap *w = ctx;
    w->inner.eom(w->sim, vp);
}

static int w_deposit(void *ctx, uint32_t domain, uint32_t pages)
{
    struct wrap *w = ctx;
    return w->inner.deposit(w->sim, domain, pages);
}

static const uint8_t *w_view(void *ctx, uint64_t gpa, uint32_t len)
{
    struct wrap *w = ctx;
    const uint8_t *p = w->inner.view(w->sim, gpa, len);
    uint8_t *slot;

    if (!p)
        return NULL;
    switch (w->mode) {
    case VIEW_AS_IS:
        return p;
    case VIEW_PAGE_ONLY:
        return len > PAGE ? NULL : p;
    case VIEW_SCATTERED:
        if (len > PAGE)
            return NULL;
        slot = w->shadow + (size_t)(w->next_slot++ % SLOTS) * 2 * PAGE;
        memcpy(slot, p, len);
        return slot;
    case VIEW_SNAPSHOT:
        if (len <= PAGE) /* a header's state (flush, conclude): as it is */
            return p;
        memcpy(w->shadow, p, len);
        if (w->lie) {
            w->lie(w->shadow);
            w->lies++;
        }
        return w->shadow;
    }
    return NULL;
}

/* What the sink saw. */
struct seen {
    struct wrap *wrap;
    struct hvlog_client *client;
    uint64_t buffers, entries, corrupt;
    uint64_t in_place;       /* bytes == the sim's own view of the buffer */
    uint64_t same_bytes;     /* every page equal to the sim's view of it */
    uint64_t out_of_buffer;  /* an entry reaching past the buffer handed out */
    uint64_t bad_payload;
    uint32_t checked;        /* entries the client's check counted in this buffer */
    uint32_t walked;         /* entries handed out for this buffer */
    const uint8_t *bytes;
    size_t len;
    void (*tamper)(uint8_t *buffer); /* NULL, or applied to the snapshot... */
    bool tamper_in_walk;             /* ...after the first entry, else before the walk */
};

static void on_buffer(void *arg, const struct hvlog_buffer_summary *sum, const uint8_t *bytes,
                      size_t len)
{
    struct seen *s = arg;
    uint32_t count = 0;
    const uint64_t *pages = hvlog_client_buffer_pages(s->client, LOCAL, sum->buffer_index, &count);
    bool same = pages && count == PAGES && len == (size_t)PAGES * PAGE;

    s->buffers++;
    s->checked = sum->entries;
    s->walked = 0;
    s->bytes = bytes;
    s->len = len;
    for (uint32_t k = 0; same && k < count; k++) {
        const uint8_t *page = s->wrap->inner.view(s->wrap->sim, pages[k] << HV_PAGE_SHIFT, PAGE);
        same = page && memcmp(page, bytes + (size_t)k * PAGE, PAGE) == 0;
    }
    s->same_bytes += same;
    if (pages && bytes == s->wrap->inner.view(s->wrap->sim, pages[0] << HV_PAGE_SHIFT, PAGE))
        s->in_place++;
    if (s->tamper) {
        assert_ptr_equal(bytes, s->wrap->shadow); /* in place in the (snapshot) view */
        if (!s->tamper_in_walk)
            s->tamper(s->wrap->shadow);
    }
}

static bool on_entry(void *arg, const struct hvlog_entry *e)
{
    struct seen *s = arg;

    s->entries++;
    if ((uint64_t)e->offset + HV_EVENTLOG_ENTRY_HEADER_SIZE + e->payload_len > s->len ||
        e->payload != s->bytes + e->offset + HV_EVENTLOG_ENTRY_HEADER_SIZE)
        s->out_of_buffer++;
    else if (e->payload_len != 16 || hvlog_load_le32(e->payload) != e->context)
        s->bad_payload++;
    if (s->tamper && s->tamper_in_walk && s->walked == 0)
        s->tamper(s->wrap->shadow);
    /* A walk that went wrong would go on for ever: stop it past the count. */
    return ++s->walked <= s->checked;
}

static void on_corrupt(void *arg, uint32_t type, uint32_t index, const char *why)
{
    (void)type, (void)index, (void)why;
    ((struct seen *)arg)->corrupt++;
}

static const struct hvlog_client_sink sink = {NULL, on_buffer, on_entry, on_corrupt};

struct world {
    struct wrap wrap;
    struct hvlog_root_ops ops;
    struct hvlog_client *client;
};

static void world_up(struct world *w, enum view_mode mode)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_client_config cc;
    struct hvlog_group_params p = {.type = LOCAL, .buffer_count = BUFFERS, .buffer_pages = PAGES,
                                   .threshold = 1, .system_time = 0x01DB000000000000ull};

    memset(w, 0, sizeof *w);
    cfg.lps = 1;
    cfg.lockstep = true;
    cfg.pool_pages = 512;
    assert_int_equal(hvlog_sim_create(&cfg, &w->wrap.sim), 0);
    assert_int_not_equal(hvlog_sim_synic_enable(w->wrap.sim, 0, 0x40), 0);
    hvlog_sim_root_ops(w->wrap.sim, &w->wrap.inner);
    w->wrap.mode = mode;
    w->wrap.shadow = calloc(SLOTS * 2, PAGE);
    assert_non_null(w->wrap.shadow);
    w->ops = w->wrap.inner;
    w->ops.hypercall = w_hypercall;
    w->ops.scratch_page = w_scratch;
    w->ops.view = w_view;
    w->ops.message_page = w_message_page;
    w->ops.eom = w_eom;
    w->ops.deposit = w_deposit;
    w->ops.read_reference_time = NULL;
    cc = (struct hvlog_client_config){.ops = &w->ops, .ctx = &w->wrap, .abi = HVLOG_ABI_2013};
    assert_int_equal(hvlog_client_create(&cc, &w->client), 0);
    assert_int_equal(hvlog_client_prepare(w->client, &p), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_set_sources(w->client, LOCAL, ~0ull), HV_STATUS_SUCCESS);
}

static void world_down(struct world *w)
{
    hvlog_client_destroy(w->client);
    hvlog_sim_destroy(w->wrap.sim);
    free(w->wrap.shadow);
}

/* EVENTS 32-byte entries on LP 0 (payload: u32 context, then zeros), every
 * Ready list read as it comes, then §9 Conclude: 3 buffers in all. */
static void log_and_drain(struct world *w, struct seen *s)
{
    uint8_t payload[16] = {0};
    struct hvlog_client_stats st;

    s->wrap = &w->wrap;
    s->client = w->client;
    for (uint32_t seq = 0; seq < EVENTS; seq++) {
        hvlog_store_le32(payload, seq);
        assert_int_equal(hvlog_sim_log(w->wrap.sim, 0, LOCAL, HC, 0x1A, seq, payload, 16),
                         HVLOG_LOG_RECORDED);
        hvlog_client_poll(w->client, 0, &sink, s);
    }
    assert_int_equal(hvlog_client_conclude(w->client, LOCAL, &sink, s), HV_STATUS_SUCCESS);
    hvlog_client_stats(w->client, LOCAL, &st);
    /* Rejected or not, every buffer of every list went back (§8.6). */
    assert_int_equal(st.release_failures, 0);
    assert_int_equal(st.corrupt, s->corrupt);
    assert_int_equal(st.buffers, s->buffers);
}

static void expect_every_entry(const struct seen *s)
{
    assert_int_equal(s->buffers, 3);
    assert_int_equal(s->entries, EVENTS);
    assert_int_equal(s->same_bytes, 3);
    assert_int_equal(s->corrupt + s->out_of_buffer + s->bad_payload, 0);
}

/* ---- where the bytes come from ---- */

static void ready_buffer_is_handed_out_in_place_from_the_view(void **state)
{
    struct world w;
    struct seen s = {0};

    (void)state;
    world_up(&w, VIEW_AS_IS);
    log_and_drain(&w, &s);
    expect_every_entry(&s);
    assert_int_equal(s.in_place, 3);
    world_down(&w);
}

static void view_of_one_page_per_call_is_still_read_in_place(void **state)
{
    struct world w;
    struct seen s = {0};

    (void)state;
    world_up(&w, VIEW_PAGE_ONLY);
    log_and_drain(&w, &s);
    expect_every_entry(&s);
    assert_int_equal(s.in_place, 3);
    world_down(&w);
}

static void pages_scattered_in_the_view_are_copied_into_one_span(void **state)
{
    struct world w;
    struct seen s = {0};

    (void)state;
    world_up(&w, VIEW_SCATTERED);
    log_and_drain(&w, &s);
    expect_every_entry(&s);
    assert_int_equal(s.in_place, 0);
    /* The span is the client's own: not one of the view's snapshots. */
    assert_true(s.bytes < w.wrap.shadow || s.bytes >= w.wrap.shadow + (size_t)SLOTS * 2 * PAGE);
    world_down(&w);
}

/* ---- a lying buffer, read in place, is still caught ---- */

static void set_header(uint8_t *b, void (*edit)(struct hv_eventlog_buffer_header *))
{
    struct hv_eventlog_buffer_header h;

    hv_eventlog_buffer_header_load(&h, b);
    edit(&h);
    hv_eventlog_buffer_header_store(b, &h);
}

static void state_free(struct hv_eventlog_buffer_header *h) { h->buffer_state = HvEventLogBufferStateFree; }
static void index_other(struct hv_eventlog_buffer_header *h) { h->buffer_index ^= 1; }
static void type_other(struct hv_eventlog_buffer_header *h) { h->type = HvEventLogTypeGlobalSystemEvents; }
static void size_other(struct hv_eventlog_buffer_header *h) { h->buffer_size = PAGE; }
static void size_huge(struct hv_eventlog_buffer_header *h) { h->buffer_size = 513u * PAGE; }
static void offset_past(struct hv_eventlog_buffer_header *h) { h->next_buffer_offset = PAGES * PAGE + 8; }
static void offset_in_header(struct hv_eventlog_buffer_header *h) { h->next_buffer_offset = 40; }

static void lie_state(uint8_t *b) { set_header(b, state_free); }
static void lie_index(uint8_t *b) { set_header(b, index_other); }
static void lie_type(uint8_t *b) { set_header(b, type_other); }
static void lie_size(uint8_t *b) { set_header(b, size_other); }
static void lie_size_huge(uint8_t *b) { set_header(b, size_huge); }
static void lie_offset(uint8_t *b) { set_header(b, offset_past); }
static void lie_offset_low(uint8_t *b) { set_header(b, offset_in_header); }
/* Entry Size (u16 at 4 in the entry header, §4.5) of the second entry. */
static void lie_entry_zero(uint8_t *b) { hvlog_store_le16(b + 72 + 32 + 4, 0); }
static void lie_entry_short(uint8_t *b) { hvlog_store_le16(b + 72 + 32 + 4, 8); }
static void lie_entry_odd(uint8_t *b) { hvlog_store_le16(b + 72 + 32 + 4, 36); }
static void lie_entry_past(uint8_t *b) { hvlog_store_le16(b + 72 + 32 + 4, 0xFFF8); }

static void lying_buffer_read_in_place_is_rejected_and_released(void **state)
{
    static void (*const lies[])(uint8_t *) = {
        lie_state, lie_index, lie_type, lie_size, lie_size_huge, lie_offset, lie_offset_low,
        lie_entry_zero, lie_entry_short, lie_entry_odd, lie_entry_past,
    };

    (void)state;
    for (size_t k = 0; k < sizeof lies / sizeof lies[0]; k++) {
        struct world w;
        struct seen s = {0};

        world_up(&w, VIEW_SNAPSHOT);
        w.wrap.lie = lies[k];
        log_and_drain(&w, &s);
        if (s.corrupt != 3 || w.wrap.lies != 3)
            fail_msg("lie %zu: %u snapshots falsified, %u rejected", k, (unsigned)w.wrap.lies,
                     (unsigned)s.corrupt);
        /* Nothing of a rejected buffer reaches the sink. */
        assert_int_equal(s.buffers + s.entries, 0);
        world_down(&w);
    }
}

/* ---- bytes changed under the walk (§6.3 broken) stay inside it ---- */

static void second_entry_size_zero(uint8_t *b) { hvlog_store_le16(b + 72 + 32 + 4, 0); }
static void second_entry_past_the_end(uint8_t *b) { hvlog_store_le16(b + 72 + 32 + 4, 0xFFF8); }
static void second_entry_short(uint8_t *b) { hvlog_store_le16(b + 72 + 32 + 4, 8); }

/*
 * Changed after the client's check, before the entry walk: the walk checks
 * the whole buffer again first, so none of its entries is handed out.
 * Changed during the walk, after the first entry: the walk stops there,
 * where a walk that trusted its first check would hand out an entry of
 * Size 0 again and again, or one reaching past the buffer.
 */
static void bytes_changed_after_the_check_cannot_take_the_walk_out(void **state)
{
    static void (*const tampers[])(uint8_t *) = {second_entry_size_zero,
                                                 second_entry_past_the_end, second_entry_short};

    (void)state;
    for (size_t k = 0; k < 2 * (sizeof tampers / sizeof tampers[0]); k++) {
        struct world w;
        struct seen s = {.tamper = tampers[k / 2], .tamper_in_walk = k % 2 == 1};

        world_up(&w, VIEW_SNAPSHOT);
        log_and_drain(&w, &s);
        assert_int_equal(s.buffers, 3);
        assert_int_equal(s.corrupt + s.out_of_buffer + s.bad_payload, 0);
        if (s.entries != (s.tamper_in_walk ? 3u : 0u))
            fail_msg("case %zu: %u entries handed out", k, (unsigned)s.entries);
        world_down(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ready_buffer_is_handed_out_in_place_from_the_view),
        cmocka_unit_test(view_of_one_page_per_call_is_still_read_in_place),
        cmocka_unit_test(pages_scattered_in_the_view_are_copied_into_one_span),
        cmocka_unit_test(lying_buffer_read_in_place_is_rejected_and_released),
        cmocka_unit_test(bytes_changed_after_the_check_cannot_take_the_walk_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
