/* SPDX-License-Identifier: MIT */
/*
 * The engine's private structures, shared by its files:
 *   engine.c   create/destroy, queries
 *   dispatch.c the hypercall dispatcher (generic checks, table of nine rows)
 *   calls.c    the nine handlers (§5)
 *   state.c    the buffer state machine (§6), header stores
 *   log.c      the logging slow path and the concurrency protocol (§7, Q-CONC)
 *   notify.c   pending lists, the message buffer, delivery (§8)
 *
 * Lock order (outermost first):
 *   1. a global scope's lock      (struct hvlog__scope.lock, global class only)
 *   2. the group lock             (struct hvlog_group.lock)
 * run_on_lp() is called with neither held. Host callbacks are called with
 * the group lock held unless their doc says otherwise.
 */
#ifndef HVLOG_ENGINE_ENGINE_INTERNAL_H
#define HVLOG_ENGINE_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/spinlock.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/engine/engine.h"
#include "hvlog/engine/log.h"

#define NONE HV_EVENTLOG_BUFFER_INDEX_NONE

/* One buffer index of a group. Guarded by the group lock. */
struct hvlog_buffer {
    bool exists;         /* created and not deleted */
    bool domain_valid;   /* Create's ProximityInfoValid */
    bool domain_strict;  /* Valid and not Preferred: pages from that domain only */
    uint32_t state;      /* enum hv_eventlog_buffer_state; the header mirrors it */
    uint32_t domain;     /* Create's proximity domain id */
    uint32_t owner;      /* scope that filled it (InUse, Complete, Ready), else NONE */
    bool root_mapped;    /* SystemDiagnostics ring only: mapped by the root (§11.6) */
    /* SystemDiagnostics ring only, the lazy zeroing of a reused buffer
     * (log.c, hvlog__ring_zero_ahead): data-area bytes in [ring_zeroed,
     * ring_stale) may hold an earlier generation's entries; from
     * ring_stale on the data area is zero. Written by the global scope's
     * owner while the buffer is InUse, under the group lock at a take. */
    uint32_t ring_zeroed, ring_stale;
    uint32_t next;       /* link on the free list or a pending list, else NONE */
    struct hvlog_pages pages;
};

/* A scope's list of Complete buffers (§8.1). Guarded by the group lock. */
struct hvlog_pending {
    uint32_t head, tail, count;
    bool due;              /* queued on the group's due FIFO (§8.3 step 1) */
    bool due_by_flush;     /* made due by a Flush (T9) rather than the threshold (T8) */
    uint32_t due_vp;       /* the VP whose action made it due (DEC-TARGET) */
    uint64_t buffers_completed;
    uint64_t notifications;
};

/* One event-log type's buffer group (§1, §5.1). */
struct hvlog_group {
    uint32_t lock; /* the group lock: everything below, and buffer states */

    uint32_t type;
    bool initialized;
    bool local;            /* class: a scope per LP (§7.1) */
    uint32_t scope_count;  /* lp_count when local, 1 when global */
    uint32_t maximum_buffer_count;
    uint32_t buffer_pages;
    uint32_t buffer_bytes;
    uint32_t threshold;
    uint32_t time_basis;
    uint32_t mode;         /* enum hv_eventlog_mode (§11.1); Regular in the 2013 profile */
    bool current;          /* the current-ABI profile: §11.4 header layout */
    /* SystemDiagnostics (§11.6): a hypervisor-owned ring the root only maps;
     * buffers are taken in index order, ring_next is the next to fill. */
    bool ring;
    uint32_t ring_next;
    uint64_t last_stamp;   /* the ring's last header TimeStamp (kept increasing) */
    uint32_t *lp_sequence; /* [lp_count]: buffers taken per LP (§11.4 LpSequenceNumber) */
    uint64_t system_time;
    uint64_t ref_time_at_init;
    struct hvlog_pages bookkeeping; /* DEC-POOL: one page while initialized */

    uint32_t buffers_created;
    uint32_t free_head, free_tail; /* FIFO free list (DEC-SELECT) */
    uint32_t free_count;           /* also read relaxed without the lock (log.c) */

    struct hvlog_pending *pending; /* [scope_count] */
    /* The real scopes, [scope_count]: the logger's scopes[] for a local
     * type; for a global type the one past the LPs' placeholders. */
    struct hvlog__scope *scopes;

    /* §8.3: the group's one message buffer and the FIFO of due scopes. */
    struct hv_message message;
    uint32_t message_state; /* enum message_state */
    uint32_t message_vp;    /* QUEUED: the VP it went to; BUILT: the preferred VP */
    /* The message's identity for the host (post_message's token): the
     * generation, one more for each message built over the engine's
     * lifetime (never reset, Finalize and Initialize included), above the
     * type in the low bits. hvlog_engine_message_delivered() frees the
     * message buffer only for the token it is queued with. */
    uint64_t message_token;
    uint32_t *due_fifo;            /* [scope_count] ring of scope indices */
    uint32_t due_head, due_count;

    /* Map's output block, built under the group lock (§5.5 GpaPages[]). */
    uint64_t map_output[HV_EVENTLOG_MAX_BUFFER_PAGES];

    /* HVLOG_BUG_ON: an invariant failed; the source mask is 0 and stays so. */
    bool broken;
    uint32_t bugs;

    struct hvlog_buffer buffers[HV_EVENTLOG_MAX_BUFFER_COUNT];

    /*
     * The flush view (issue 15, the idle Flush): flush_idle[i] is 1 only
     * while buffer i exists in Standby, Free or Ready in a group the root
     * manages, under the profile's default Flush (flush_index = buffer,
     * flush_scope = buffer); else 0. Then a Flush naming it is §5.9 step 3,
     * "nothing happens", and hvlog__flush_is_noop() answers it from this
     * byte alone, without the group lock. Written only by
     * hvlog__buffer_transition() (group lock held), conservatively: 0
     * before the state leaves Standby/Free/Ready, 1 only after it entered
     * one. Read lock-free (acquire).
     */
    uint8_t flush_idle[HV_EVENTLOG_MAX_BUFFER_COUNT];
};

struct hvlog_engine {
    struct hvlog_logger logger; /* first: the hot view; container of the logger */
    struct hvlog_engine_config config;
    struct hvlog_host_ops ops;
    void *allocated; /* hvlog_engine_create()'s memory, for mem_free; NULL after init */
    struct hvlog_group groups[HVLOG_TYPE_COUNT];
};

static inline struct hvlog_engine *engine_of_group(struct hvlog_group *g)
{
    return (struct hvlog_engine *)(void *)((char *)(g - g->type) -
                                           offsetof(struct hvlog_engine, groups));
}

/*
 * STYLE habit 18, Linux's RB_WARN_ON: a broken invariant is reported once
 * through the host's warn hook, the group is marked broken and stops
 * recording (its source mask goes to 0, and SetSources refuses to raise
 * it), and every hit is counted. Never an abort: the engine runs inside the
 * observed system. Evaluates to @cond. Group lock held.
 */
void hvlog__bug(struct hvlog_group *g, const char *what);
#define HVLOG_BUG_ON(g, cond, what) \
    (__builtin_expect(!!(cond), 0) ? (hvlog__bug((g), (what)), 1) : 0)

/* post_message's token: generation << 2 | type (HVLOG_TYPE_COUNT <= 4). */
#define MESSAGE_TOKEN_TYPE_BITS 2u
_Static_assert(HVLOG_TYPE_COUNT <= (1u << MESSAGE_TOKEN_TYPE_BITS), "the type fits the token's low bits");

static inline struct hvlog_engine *engine_of_logger(struct hvlog_logger *logger)
{
    return (struct hvlog_engine *)logger; /* logger is the first member */
}

static inline struct hvlog__scope *group_scope(struct hvlog_engine *e, struct hvlog_group *g,
                                              uint32_t scope)
{
    (void)e;
    return &g->scopes[scope];
}

/* state.c: the one place buffers change state (§6.1). */
enum hvlog_transition {
    T1_CREATE = 1, T2_DELETE, T3_MAP, T4_UNMAP_FREE, T5_TAKE, T6_FULL, T7_FLUSH,
    T8_THRESHOLD, T9_FLUSH_LIST, T10_RELEASE, T11_UNMAP_READY,
    /* Knob-only transitions (§12.1): */
    TX_RELEASE_COMPLETE, /* release_from_complete: Complete -> Free */
    /* Current profile (§11.1, §11.6): */
    TX_RECYCLE,          /* Circular mode or the ring reuses a Complete buffer: -> InUse */
    TX_RING_CREATE,      /* the SystemDiagnostics ring's buffers exist Free from the start */
};
void hvlog__buffer_transition(struct hvlog_group *g, uint32_t index, enum hvlog_transition t);
bool hvlog__transition_is_legal(uint32_t from, uint32_t to, enum hvlog_transition t);
void hvlog__buffer_header_init(struct hvlog_group *g, uint32_t index);

/* Free list (group lock held). */
void hvlog__free_list_append(struct hvlog_group *g, uint32_t index);
bool hvlog__free_list_remove(struct hvlog_group *g, uint32_t index);
uint32_t hvlog__free_list_take(struct hvlog_engine *e, struct hvlog_group *g, uint32_t lp);

/* notify.c (group lock held). The group's one message buffer (§8.3):
 *   FREE    nothing outstanding;
 *   BUILT   a list was made Ready and its message built, but no VP took it
 *           (none eligible, or the host refused): hvlog_engine_kick() posts
 *           it again; to the root this is a message queued, not delivered;
 *   QUEUED  the host holds it until hvlog_engine_message_delivered(). */
enum message_state { MSG_FREE = 0, MSG_BUILT = 1, MSG_QUEUED = 2 };
void hvlog__pending_append(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope, uint32_t index,
                    uint32_t vp);
bool hvlog__pending_remove(struct hvlog_group *g, uint32_t index);
void hvlog__pending_make_due(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope, uint32_t vp,
                      bool by_flush);
void hvlog__notify_withdraw(struct hvlog_engine *e, struct hvlog_group *g);
void hvlog__notify_serve(struct hvlog_engine *e, struct hvlog_group *g);
uint32_t hvlog__scope_vp(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope);

/* log.c: completing the active buffer of a scope (T6/T7); scope owner
 * context, group lock NOT held (it is taken inside). */
void hvlog__scope_complete_active(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope,
                           enum hvlog_transition t, uint32_t vp, bool notify_now);
/* Flush helpers (log.c): run the flush of a scope's active buffer in the
 * scope owner's context (run_on_lp or the global lock). */
void hvlog__flush_scope_active(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope,
                        uint32_t index, uint32_t vp);

/*
 * The lock-free "nothing to flush" check (issue 15): is a Flush whose
 * input block is @type, @index a successful no-op, §5.9 step 3? Only for
 * the default Flush (the view stays 0 otherwise) and only after the
 * dispatcher's steps 1-4 passed; step 5 needs no test here, as a type above
 * the profile's maximum has no group the root could initialize, so its
 * view is all 0. A false answer says nothing: the caller takes the group
 * lock and decides as before.
 *
 * Why this is safe against concurrent logging and hypercalls (spec Q-CONC:
 * every hypercall is atomic with respect to logging; §5.9; §6.1). The view
 * byte changes only inside the group lock's critical sections that change
 * the buffer's state, and conservatively (state.c): it is 1 at an instant
 * only if the buffer exists in Standby, Free or Ready at that instant, in
 * the order of those critical sections. So the Flush is linearized at its
 * load: seeing 1, it ran at an instant where §6.2's legality table says
 * "no-op, SUCCESS", exactly what the locked path would have answered had
 * it taken the lock there. A log call that races it (T5 taking this Free
 * buffer) is then ordered after the Flush, as a locked Flush that won the
 * lock would order it, and its entries go into a buffer that a later Flush
 * or fill completes: nothing is lost or left behind that a Flush had to
 * move. And a root that saw BufferState InUse or Complete in the header
 * (acquire, §6.3) sees the byte 0, because the byte went to 0 before that
 * release store of the state (state.c): the root's stop path, which flushes
 * every buffer it sees InUse ([MAR-TRACE], §5.9), never skips one.
 */
static inline bool hvlog__flush_is_noop(struct hvlog_engine *e, uint32_t type, uint32_t index)
{
    return type < HVLOG_TYPE_COUNT && index < HV_EVENTLOG_MAX_BUFFER_COUNT &&
           __atomic_load_n(&e->groups[type].flush_idle[index], __ATOMIC_ACQUIRE) != 0;
}

/* calls.c */
struct hvlog_call_ctx {
    struct hvlog_engine *engine;
    const struct hvlog_caller *caller;
    const uint8_t *input; /* the call's input block (fast: the 16 register bytes) */
    uint32_t input_len;
    uint64_t input_gpa, output_gpa;
    bool fast;
    enum hvlog_hypercall_outcome outcome; /* a handler's own GPA checks may fault */
    uint64_t fault_gpa;
};
typedef hv_status_t (*hvlog_handler_fn)(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_initialize(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_finalize(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_create(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_delete(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_map(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_unmap(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_sources(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_release(struct hvlog_call_ctx *c);
hv_status_t hvlog__call_flush(struct hvlog_call_ctx *c);

uint32_t hvlog__profile_type_maximum(const struct hvlog_engine *e);

/* §11.4 vs §4.4: where NextBufferOffset counts from, and BufferSize. */
static inline uint32_t group_data_start(const struct hvlog_group *g)
{
    return g->current ? HV_EVENTLOG_BUFFER_HEADER_SIZE : 0;
}
static inline uint32_t group_header_buffer_size(const struct hvlog_group *g)
{
    return g->buffer_bytes - group_data_start(g);
}

/* Can the root see buffer @b? A mapped buffer leaves Standby (§6.1), but
 * the SystemDiagnostics ring is in service unmapped, so it keeps a flag. */
static inline bool buffer_root_mapped(const struct hvlog_group *g, const struct hvlog_buffer *b)
{
    return g->ring ? b->root_mapped : b->state != HvEventLogBufferStateStandby;
}

/* state.c: the header fields a buffer gets when it goes InUse (T5, TX_RECYCLE). */
void hvlog__buffer_header_take(struct hvlog_engine *e, struct hvlog_group *g, uint32_t index, uint32_t lp,
                        uint32_t events_lost);
/* log.c: the ring's and Circular mode's take of a Complete buffer. */
uint64_t hvlog__buffer_count_entries(const struct hvlog_group *g, uint32_t index);
/* log.c: the ring's lazy zeroing, before NextBufferOffset = @next is published. */
void hvlog__ring_zero_ahead(struct hvlog_buffer *b, uint8_t *data, uint32_t next);

#endif /* HVLOG_ENGINE_ENGINE_INTERNAL_H */
