/* SPDX-License-Identifier: MIT */
/*
 * The k-way merge of a trace's (group, LP) streams (hvlog/trace/merge.h).
 *
 * The index pass (hvlog_trace_fill_order) reads and walks every buffer, so
 * corrupt input fails before the first item. The streams then read their
 * buffers again through windows: each buffer's header is re-read and must
 * still say what the index saw, and each entry's Size is checked again as
 * the stream steps over it (the file may have changed between the passes;
 * a window holds only part of a buffer, so the walker's whole-buffer check
 * cannot be reused). A buffer that fails is reported, never skipped in
 * silence.
 *
 * A compressed group file (zframe.c) cannot be read through windows: its
 * buffers are zstd frames. Each of its streams holds one whole buffer
 * instead (more than the window budget when there are many streams: one
 * buffer per stream is the least a frame can be read into), decompressed
 * when the stream reaches it; the same checks then run on it.
 *
 * The streams sit in a binary heap ordered by (clock domain, time, stream
 * number): O(log k) per entry, and ties go to the lower stream number
 * (groups in metadata order, LPs ascending), as the linear scan decode
 * used before did.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/trace/index.h"
#include "hvlog/trace/merge.h"
#include "trace/trace_internal.h"

#define WINDOW_MIN 1024u /* a window holds an entry header; it grows for a larger entry */
#define WINDOW_MAX (256u << 10)
#define ENTRY_MAX_STEP 65536u /* a 16-bit Size rounded up to 8 */

enum merge_mode {
    MODE_RAW,      /* one time basis: TimeStamps compare as they are */
    MODE_UNIX,     /* several bases, all anchored: Unix ns */
    MODE_SEPARATE, /* several bases, not all anchored: one basis after another */
};

struct group_state {
    struct hvlog_trace_index index; /* WHOLE: corrupt input fails before any item */
    const struct hvlog_trace_group *group;
    struct hvlog_trace_cursor *cursor; /* the index's, for its descriptor: one per group file */
    struct hvlog_trace_clock clock;
    uint32_t stride;
    uint32_t host; /* which of the traces (hvlog_trace_merge_open_hosts) */
};

struct lane {
    struct group_state *gs;
    uint32_t lp;
    const struct hvlog_trace_slot *slots; /* this LP's run of the group's index */
    uint64_t slot_count, next_slot;
    /* The buffer being read, and the cursor of the file holding it (a
     * rotated recording's chunk: hvlog__trace_cursor_part) with its index there. */
    const struct hvlog_trace_slot *slot;
    struct hvlog_trace_cursor *cursor;
    uint64_t local_index;
    uint64_t base;        /* its file offset */
    uint32_t offset, end; /* next entry, NextBufferOffset: from the buffer start */
    uint64_t given;       /* entries handed out of it */
    uint32_t pending_lost;
    bool loaded;
    /* The window: bytes [wstart, wstart + wlen) of the buffer. */
    uint8_t *win;
    uint32_t cap, wstart, wlen;
    /* The next entry, when has_next. */
    bool has_next;
    struct hv_eventlog_entry_header h;
    uint32_t step;
    uint32_t domain;
    uint64_t key;
    uint64_t last_time;
    bool have_last;
};

struct queued {
    struct hvlog_trace_item item;
    char message[HVLOG_EXPORT_MESSAGE_MAX];
};

/* A heap slot carries its lane's sort key, so that sifting compares
 * without loading the lanes. */
struct heap_slot {
    uint64_t key;
    uint32_t domain, lane;
};

struct hvlog_trace_merge {
    struct group_state *groups; /* HVLOG_TRACE_MAX_GROUPS per trace: never moved */
    uint32_t group_count, host_count;
    struct lane *lanes;
    uint32_t lane_count;
    struct heap_slot *heap;
    uint32_t heap_len;
    enum merge_mode mode;
    struct queued *queue;
    size_t q_head, q_len, q_cap;
    struct lane *advance; /* the lane whose entry was handed out last */
    bool have_domain;
    uint32_t domain;
    char message[HVLOG_EXPORT_MESSAGE_MAX]; /* of the DROPPED item handed out */
};

/* ---- the heap ---- */

static inline bool slot_before(const struct heap_slot *x, const struct heap_slot *y)
{
    if (x->domain != y->domain)
        return x->domain < y->domain;
    if (x->key != y->key)
        return x->key < y->key;
    return x->lane < y->lane;
}

static void heap_push(struct hvlog_trace_merge *m, uint32_t lane)
{
    uint32_t i = m->heap_len++;
    struct heap_slot v = {m->lanes[lane].key, m->lanes[lane].domain, lane};

    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!slot_before(&v, &m->heap[parent]))
            break;
        m->heap[i] = m->heap[parent];
        i = parent;
    }
    m->heap[i] = v;
}

/* Restore the heap from its root down (after the top lane moved on and
 * heap[0] took its new key). */
static inline void heap_sift_down(struct hvlog_trace_merge *m)
{
    struct heap_slot v = m->heap[0];
    uint32_t i = 0, n = m->heap_len;

    for (;;) {
        uint32_t c = 2 * i + 1;

        if (c >= n)
            break;
        if (c + 1 < n && slot_before(&m->heap[c + 1], &m->heap[c]))
            c++;
        if (!slot_before(&m->heap[c], &v))
            break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    m->heap[i] = v;
}

static void heap_pop(struct hvlog_trace_merge *m)
{
    m->heap[0] = m->heap[--m->heap_len];
    heap_sift_down(m);
}

/* ---- items queued while a stream moves past buffers ---- */

static struct queued *queue_add(struct hvlog_trace_merge *m, const struct lane *l,
                                enum hvlog_trace_item_kind kind)
{
    struct queued *q;

    if (m->q_head + m->q_len == m->q_cap) {
        if (m->q_head > 0) {
            memmove(m->queue, m->queue + m->q_head, m->q_len * sizeof(*m->queue));
            m->q_head = 0;
        } else {
            size_t cap = m->q_cap ? m->q_cap * 2 : 8;
            struct queued *more = realloc(m->queue, cap * sizeof(*more));
            if (!more)
                return NULL;
            m->queue = more;
            m->q_cap = cap;
        }
    }
    q = &m->queue[m->q_head + m->q_len++];
    memset(&q->item, 0, sizeof q->item);
    q->message[0] = '\0';
    q->item.kind = kind;
    q->item.group = l->gs->group;
    q->item.clock = &l->gs->clock;
    q->item.lp = l->lp;
    q->item.host = l->gs->host;
    return q;
}

/* The rest of the lane's buffer is not shown: say so, with its loss. */
static bool drop_buffer(struct hvlog_trace_merge *m, struct lane *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool drop_buffer(struct hvlog_trace_merge *m, struct lane *l, const char *fmt, ...)
{
    struct queued *q = queue_add(m, l, HVLOG_TRACE_ITEM_DROPPED);
    char why[256];
    va_list ap;

    l->loaded = false;
    if (!q)
        return false;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    q->item.file_index = l->slot->file_index;
    q->item.entries = l->slot->entries > l->given ? l->slot->entries - l->given : 0;
    /* Its EventsLost is given with its first entry: lost only if none was. */
    q->item.lost = l->pending_lost;
    l->pending_lost = 0;
    snprintf(q->message, sizeof q->message, "%s: buffer %llu: %s",
             hvlog_trace_cursor_file(l->cursor), (unsigned long long)l->local_index, why);
    return true;
}

/* ---- one stream ---- */

/* Read bytes [offset, offset + need) of the lane's buffer into its window. */
static __attribute__((noinline)) int window_fill(struct lane *l, uint32_t need)
{
    uint32_t len;
    size_t got = 0;
    int e;

    if (hvlog__export_trace_cursor_compressed(l->cursor))
        return EIO; /* the whole buffer is in the window: nothing lies beyond it */
    if (need > l->cap) {
        uint8_t *more = realloc(l->win, need);
        if (!more)
            return ENOMEM;
        l->win = more;
        l->cap = need;
    }
    len = l->end - l->offset < l->cap ? l->end - l->offset : l->cap;
    e = hvlog__export_pread_all(hvlog__export_trace_cursor_fd(l->cursor), l->win, len, l->base + l->offset,
                         &got);
    if (e != 0)
        return e;
    if (got < len)
        return EIO; /* the file shrank since it was indexed */
    l->wstart = l->offset;
    l->wlen = len;
    return 0;
}

/* Bytes [offset, offset + need) of the lane's buffer in its window: almost
 * always there already, so the check is inline and the read is not. */
static inline int window_hold(struct lane *l, uint32_t need)
{
    if (l->offset >= l->wstart && l->offset + need <= l->wstart + l->wlen)
        return 0;
    return window_fill(l, need);
}

/* The next buffer of the lane, its header read again and checked against
 * the index. False at the end of the stream. */
static bool lane_load(struct hvlog_trace_merge *m, struct lane *l, bool *nomem)
{
    while (l->next_slot < l->slot_count) {
        const struct hvlog_trace_slot *s = &l->slots[l->next_slot++];
        struct hvlog_trace_cursor *c;
        uint8_t head[HV_EVENTLOG_BUFFER_HEADER_SIZE];
        struct hv_eventlog_buffer_header h;
        uint64_t next;
        uint32_t lp;
        size_t got = 0;
        int e;

        l->slot = s;
        l->given = 0;
        l->pending_lost = s->events_lost; /* the index's: reported even if the re-read fails */
        l->cursor = l->gs->cursor;
        l->local_index = s->file_index;
        c = hvlog__trace_cursor_part(l->gs->cursor, s->file_index, &l->local_index);
        if (!c || !hvlog__export_trace_buffer_offset(c, l->local_index, &l->base)) {
            *nomem |= !drop_buffer(m, l, "no longer in the file");
            continue;
        }
        l->cursor = c;
        if (hvlog__export_trace_cursor_compressed(c)) {
            char why[160];

            /* The whole buffer, decompressed into the window (which is a
             * buffer long: see hvlog_trace_merge_open). */
            if (hvlog__export_trace_buffer_load(c, l->local_index, l->win, why, sizeof why) != 0) {
                *nomem |= !drop_buffer(m, l, "cannot be read again: %s", why);
                continue;
            }
            memcpy(head, l->win, sizeof head);
            got = sizeof head;
            e = 0;
        } else {
            e = hvlog__export_pread_all(hvlog__export_trace_cursor_fd(c), head, sizeof head, l->base, &got);
        }
        if (e != 0 || got < sizeof head) {
            *nomem |= !drop_buffer(m, l, "cannot be read again: %s",
                                   e ? strerror(e) : "the file is shorter than when indexed");
            continue;
        }
        hv_eventlog_buffer_header_load(&h, head);
        next = h.next_buffer_offset;
        lp = h.logical_processor;
        if (l->gs->group->convention == HVLOG_ABI_CURRENT) {
            struct hv_eventlog_buffer_header_current hc;
            hv_eventlog_buffer_header_current_load(&hc, head);
            lp = hc.logical_processor;
            next += HV_EVENTLOG_BUFFER_HEADER_SIZE;
        }
        if (lp != s->lp || h.time_stamp != s->time_stamp || h.buffer_index != s->buffer_index ||
            h.events_lost != s->events_lost || next < HV_EVENTLOG_BUFFER_HEADER_SIZE ||
            next > l->gs->stride) {
            *nomem |= !drop_buffer(m, l, "its header changed since it was indexed (the file changed)");
            continue;
        }
        l->offset = HV_EVENTLOG_BUFFER_HEADER_SIZE;
        l->end = (uint32_t)next;
        l->wstart = 0;
        l->wlen = hvlog__export_trace_cursor_compressed(c) ? l->gs->stride : 0;
        l->loaded = true;
        return true;
    }
    l->loaded = false;
    return false;
}

static inline void lane_key(const struct hvlog_trace_merge *m, struct lane *l)
{
    int64_t ns = 0;

    switch (m->mode) {
    case MODE_RAW:
        l->domain = 0;
        l->key = l->h.time_stamp;
        break;
    case MODE_UNIX:
        l->domain = 0;
        l->key = hvlog_trace_clock_to_unix(&l->gs->clock, l->h.time_stamp, 1000000000u, &ns)
                     ? (uint64_t)ns
                     : 0;
        break;
    case MODE_SEPARATE:
        l->domain = l->gs->group->time_basis;
        l->key = l->h.time_stamp;
        break;
    }
}

/*
 * Move the lane to its next entry: through the rest of its buffer, then
 * the buffers after it. A buffer without entries but with losses queues
 * its LOST item on the way; a buffer that fails queues a DROPPED one.
 * False only when out of memory.
 */
static bool lane_fill(struct hvlog_trace_merge *m, struct lane *l)
{
    bool nomem = false;

    l->has_next = false;
    for (;;) {
        uint32_t size, step;
        int e;

        if (!l->loaded || l->offset >= l->end) {
            if (l->loaded && l->pending_lost) {
                /* A buffer with losses and no (more) entries: its gap lies
                 * at the LP's time (§7.4). */
                struct queued *q = queue_add(m, l, HVLOG_TRACE_ITEM_LOST);
                if (!q)
                    return false;
                q->item.lost = l->pending_lost;
                q->item.after = q->item.before = l->have_last ? l->last_time : 0;
                q->item.have_after = l->have_last;
                l->pending_lost = 0;
            }
            if (!lane_load(m, l, &nomem))
                return !nomem;
            if (nomem)
                return false;
            continue;
        }
        if (l->end - l->offset < HV_EVENTLOG_ENTRY_HEADER_SIZE ||
            (e = window_hold(l, HV_EVENTLOG_ENTRY_HEADER_SIZE)) != 0) {
            if (!drop_buffer(m, l, "entry at byte %u: %s", l->offset,
                             l->end - l->offset < HV_EVENTLOG_ENTRY_HEADER_SIZE
                                 ? "changed since it was indexed"
                                 : strerror(e)))
                return false;
            continue;
        }
        size = hvlog_load_le16(l->win + (l->offset - l->wstart) + 4);
        /* As the walker steps (D10: current Sizes round up to 8). */
        step = l->gs->group->convention == HVLOG_ABI_CURRENT ? (size + 7u) & ~7u : size;
        if (size < HV_EVENTLOG_ENTRY_HEADER_SIZE || step % 8u != 0 || step > l->end - l->offset) {
            if (!drop_buffer(m, l, "entry at byte %u changed since it was indexed", l->offset))
                return false;
            continue;
        }
        if ((e = window_hold(l, step)) != 0) {
            if (!drop_buffer(m, l, "entry at byte %u: %s", l->offset, strerror(e)))
                return false;
            continue;
        }
        hv_eventlog_entry_header_load(&l->h, l->win + (l->offset - l->wstart));
        l->step = step;
        l->has_next = true;
        lane_key(m, l);
        return true;
    }
}

/*
 * lane_fill's common case inline: the next entry of the same buffer, whole
 * in the window already. False when anything else is needed (a new buffer,
 * a window read, a check that fails): lane_fill then does it all.
 */
static inline bool lane_step_fast(const struct hvlog_trace_merge *m, struct lane *l)
{
    uint32_t size, step;
    const uint8_t *at;

    if (!l->loaded || l->offset >= l->end || l->end - l->offset < HV_EVENTLOG_ENTRY_HEADER_SIZE ||
        l->offset < l->wstart || l->offset + HV_EVENTLOG_ENTRY_HEADER_SIZE > l->wstart + l->wlen)
        return false;
    at = l->win + (l->offset - l->wstart);
    size = hvlog_load_le16(at + 4);
    step = l->gs->group->convention == HVLOG_ABI_CURRENT ? (size + 7u) & ~7u : size;
    if (size < HV_EVENTLOG_ENTRY_HEADER_SIZE || step % 8u != 0 || step > l->end - l->offset ||
        l->offset + step > l->wstart + l->wlen)
        return false;
    hv_eventlog_entry_header_load(&l->h, at);
    l->step = step;
    l->has_next = true;
    lane_key(m, l);
    return true;
}

/* ---- opening ---- */

static void report_to(void *arg, const char *message)
{
    const struct hvlog_trace_merge_options *o = arg;

    if (o->report)
        o->report(o->report_arg, message);
}

static enum hvlog_export_status add_group(struct hvlog_trace_merge *m,
                                          const struct hvlog_trace_reader *r,
                                          const struct hvlog_trace_group *g,
                                          const struct hvlog_trace_merge_options *o, uint32_t host,
                                          int64_t offset_ns, struct hvlog_export_error *err)
{
    struct group_state *gs = &m->groups[m->group_count++];
    enum hvlog_export_status st;

    gs->group = g;
    gs->host = host;
    gs->stride = g->buffer_pages * HV_PAGE_SIZE;
    hvlog_trace_clock_init(&gs->clock, hvlog_trace_reader_meta(r), g, o->tsc_frequency_hz);
    if (offset_ns)
        hvlog_trace_clock_shift(&gs->clock, offset_ns);
    st = hvlog_trace_index_open(r, g->type, false, o->skip_corrupt, report_to, (void *)o, &gs->index,
                                err);
    gs->cursor = gs->index.cursor;
    if (st != HVLOG_EXPORT_OK)
        return st;
    /* One lane per LP run of the index. */
    for (uint64_t i = 0, j; i < gs->index.count; i = j) {
        struct lane *more, *l;

        j = hvlog_trace_index_run_end(&gs->index, i);
        if (m->lane_count == UINT32_MAX ||
            !(more = realloc(m->lanes, ((size_t)m->lane_count + 1) * sizeof(*more))))
            return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        m->lanes = more;
        l = &m->lanes[m->lane_count++];
        memset(l, 0, sizeof(*l));
        l->gs = gs;
        l->lp = gs->index.slots[i].lp;
        l->slots = gs->index.slots + i;
        l->slot_count = j - i;
    }
    return HVLOG_EXPORT_OK;
}

static void choose_mode(struct hvlog_trace_merge *m)
{
    bool one_basis = true, all_anchored = true;

    for (uint32_t i = 0; i < m->group_count; i++) {
        one_basis &= m->groups[i].group->time_basis == m->groups[0].group->time_basis;
        all_anchored &= m->groups[i].clock.anchored;
    }
    /* Several traces: each has its own boot, so their raw times never
     * compare; hvlog_trace_merge_open_hosts made sure every one is anchored. */
    m->mode = one_basis && m->host_count == 1 ? MODE_RAW : all_anchored ? MODE_UNIX : MODE_SEPARATE;
}

enum hvlog_export_status hvlog_trace_merge_open(const struct hvlog_trace_reader *r,
                                               const struct hvlog_trace_merge_options *o,
                                               struct hvlog_trace_merge **out,
                                               struct hvlog_export_error *err)
{
    return hvlog_trace_merge_open_hosts(&r, NULL, 1, o, out, err);
}

enum hvlog_export_status hvlog_trace_merge_open_hosts(const struct hvlog_trace_reader *const *readers,
                                                     const int64_t *offset_ns, uint32_t count,
                                                     const struct hvlog_trace_merge_options *o,
                                                     struct hvlog_trace_merge **out,
                                                     struct hvlog_export_error *err)
{
    static const struct hvlog_trace_merge_options defaults;
    struct hvlog_trace_merge *m;
    enum hvlog_export_status st = HVLOG_EXPORT_OK;
    size_t budget, cap;

    if (!readers || !out || count == 0 || count > HVLOG_TRACE_MERGE_MAX_HOSTS)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace, too many, or no merge to fill");
    *out = NULL;
    if (!o)
        o = &defaults;
    for (uint32_t h = 0; h < count; h++) {
        const struct hvlog_trace_meta *meta = readers[h] ? hvlog_trace_reader_meta(readers[h]) : NULL;
        enum hvlog_export_status need;

        if (!meta)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace");
        /* Several traces: each host booted on its own, so raw times never
         * compare; only Unix time puts them on one timeline. */
        if (count > 1 &&
            (need = hvlog_trace_need_wall_clock(readers[h], o->types, o->tsc_frequency_hz, err)) !=
                HVLOG_EXPORT_OK)
            return need;
        for (uint32_t t = 0; t < 32; t++) {
            if ((o->types & (1u << t)) && !hvlog_trace_meta_group(meta, t))
                return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no %s group in the trace",
                                   hvlog_trace_reader_path(readers[h]),
                                   hvlog_trace_group_short(t) ? hvlog_trace_group_short(t) : "such");
        }
    }
    m = calloc(1, sizeof(*m));
    if (!m || !(m->groups = calloc((size_t)count * HVLOG_TRACE_MAX_GROUPS, sizeof(*m->groups)))) {
        free(m);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    m->host_count = count;
    for (uint32_t h = 0; h < count && st == HVLOG_EXPORT_OK; h++) {
        const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(readers[h]);

        for (uint32_t gi = 0; gi < meta->group_count && st == HVLOG_EXPORT_OK; gi++) {
            if (!o->types || (o->types & (1u << meta->groups[gi].type)))
                st = add_group(m, readers[h], &meta->groups[gi], o, h, offset_ns ? offset_ns[h] : 0,
                               err);
        }
    }
    if (st == HVLOG_EXPORT_OK && m->lane_count &&
        !(m->heap = malloc((size_t)m->lane_count * sizeof(*m->heap))))
        st = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    if (st != HVLOG_EXPORT_OK) {
        hvlog_trace_merge_close(m);
        return st;
    }
    choose_mode(m);
    budget = o->budget ? o->budget : HVLOG_TRACE_MERGE_BUDGET;
    cap = m->lane_count ? budget / m->lane_count : WINDOW_MAX;
    cap = cap < WINDOW_MIN ? WINDOW_MIN : cap > WINDOW_MAX ? WINDOW_MAX : cap & ~(size_t)(WINDOW_MIN - 1);
    for (uint32_t i = 0; i < m->lane_count; i++) {
        struct lane *l = &m->lanes[i];

        l->cap = (uint32_t)(cap < l->gs->stride ? cap : l->gs->stride);
        if (hvlog__export_trace_cursor_compressed(l->gs->cursor))
            l->cap = l->gs->stride; /* a frame decompresses whole */
        l->win = malloc(l->cap);
        if (!l->win || !lane_fill(m, l)) {
            hvlog_trace_merge_close(m);
            return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        }
        if (l->has_next)
            heap_push(m, i);
    }
    *out = m;
    return HVLOG_EXPORT_OK;
}

void hvlog_trace_merge_close(struct hvlog_trace_merge *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->lane_count; i++)
        free(m->lanes[i].win);
    for (uint32_t i = 0; i < m->group_count; i++)
        hvlog_trace_index_close(&m->groups[i].index);
    free(m->groups);
    free(m->lanes);
    free(m->heap);
    free(m->queue);
    free(m);
}

uint32_t hvlog_trace_merge_streams(const struct hvlog_trace_merge *m)
{
    return m ? m->lane_count : 0;
}

bool hvlog_trace_merge_one_clock(const struct hvlog_trace_merge *m)
{
    return m && m->mode != MODE_SEPARATE;
}

const struct hvlog_trace_clock *hvlog_trace_merge_clock(const struct hvlog_trace_merge *m,
                                                       uint32_t type)
{
    for (uint32_t i = 0; m && i < m->group_count; i++) {
        if (m->groups[i].group->type == type && m->groups[i].host == 0)
            return &m->groups[i].clock;
    }
    return NULL;
}

/* ---- the merge ---- */

enum hvlog_export_status hvlog_trace_merge_next(struct hvlog_trace_merge *m,
                                               struct hvlog_trace_item *item,
                                               struct hvlog_export_error *err)
{
    struct lane *l;

    if (!m || !item)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no merge or no item to fill");
    if (m->advance) {
        /* The lane handed out last is still the heap's top: move it on and
         * sift it down once (not a pop and a push per entry). */
        struct lane *a = m->advance;

        m->advance = NULL;
        a->offset += a->step;
        a->given++;
        if (!lane_step_fast(m, a) && !lane_fill(m, a))
            return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        if (a->has_next) {
            m->heap[0].key = a->key;
            m->heap[0].domain = a->domain;
            heap_sift_down(m);
        }
        else
            heap_pop(m);
    }
    if (m->q_len) {
        struct queued *q = &m->queue[m->q_head++];

        m->q_len--;
        *item = q->item;
        if (q->item.kind == HVLOG_TRACE_ITEM_DROPPED) {
            memcpy(m->message, q->message, sizeof m->message);
            item->message = m->message;
        }
        if (m->q_len == 0)
            m->q_head = 0;
        return HVLOG_EXPORT_OK;
    }
    if (m->heap_len == 0)
        return HVLOG_EXPORT_END;
    l = &m->lanes[m->heap[0].lane];
    /* Only the fields of the item's kind are set (merge.h): no memset of
     * the whole item per entry. */
    item->group = l->gs->group;
    item->clock = &l->gs->clock;
    item->lp = l->lp;
    item->host = l->gs->host;
    if (m->mode == MODE_SEPARATE && (!m->have_domain || m->domain != l->domain)) {
        bool first = !m->have_domain;

        m->have_domain = true;
        m->domain = l->domain;
        if (!first) {
            item->kind = HVLOG_TRACE_ITEM_CLOCK;
            return HVLOG_EXPORT_OK;
        }
    }
    if (l->pending_lost) {
        memset(item, 0, sizeof(*item));
        item->group = l->gs->group;
        item->clock = &l->gs->clock;
        item->lp = l->lp;
        item->host = l->gs->host;
        item->kind = HVLOG_TRACE_ITEM_LOST;
        item->lost = l->pending_lost;
        item->before = l->h.time_stamp;
        item->after = l->have_last ? l->last_time : l->h.time_stamp;
        item->have_after = l->have_last;
        l->pending_lost = 0;
        return HVLOG_EXPORT_OK;
    }
    item->kind = HVLOG_TRACE_ITEM_ENTRY; /* the lane stays on top until the next call */
    item->entry = (struct hvlog_entry){
        .log_type = l->gs->group->type,
        .buffer_index = l->slot->buffer_index,
        .logical_processor = l->lp,
        .offset = l->offset,
        .entry_type = l->h.type,
        .size = l->h.size,
        .context = l->h.context,
        .time_stamp = l->h.time_stamp,
        .payload = l->win + (l->offset - l->wstart) + HV_EVENTLOG_ENTRY_HEADER_SIZE,
        .payload_len = (uint32_t)l->h.size - HV_EVENTLOG_ENTRY_HEADER_SIZE, /* never padding */
    };
    item->back = l->have_last && l->h.time_stamp < l->last_time;
    item->back_from = l->last_time;
    l->last_time = l->h.time_stamp;
    l->have_last = true;
    m->advance = l;
    return HVLOG_EXPORT_OK;
}
