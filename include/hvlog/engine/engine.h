/* SPDX-License-Identifier: MIT */
/*
 * The hvlog engine: the hypervisor side of event logging (spec §3, §5-§8).
 *
 * A hypervisor embeds an engine per machine: it fills a struct of host
 * callbacks (memory, overlays, guest memory, messages, clocks), creates the
 * engine with a configuration (LP count, root partition, ABI profile and
 * knobs), forwards the root's hypercalls 0x0060-0x0068 to
 * hvlog_engine_hypercall(), logs events with hvlog_log() (hvlog/engine/log.h)
 * and tells the engine when a message slot was consumed.
 *
 * The engine holds no global state: any number of engines may coexist.
 */
#ifndef HVLOG_ENGINE_ENGINE_H
#define HVLOG_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/layout.h"
#include "hvlog/abi/profile.h"
#include "hvlog/abi/status.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

struct hvlog_engine;

/* ---- host interface -------------------------------------------------------- */

/* A run of pages the host gave the engine for one buffer (or bookkeeping). */
struct hvlog_pages {
    uint8_t *hva;     /* host address of page 0; the run is contiguous to the engine */
    uint64_t handle;  /* the host's own token, given back on free/map/unmap */
    uint32_t count;   /* pages */
    uint32_t domain;  /* proximity domain the pages came from */
};

/* Result of a guest-memory access for a memory-convention hypercall (§3.4). */
enum hvlog_gpa_result {
    HVLOG_GPA_OK = 0,
    HVLOG_GPA_OUT_OF_RANGE = 1, /* outside the partition's GPA space: INVALID_ALIGNMENT */
    HVLOG_GPA_FAULT = 2,        /* mapped without the access, or an overlay: memory intercept (Q-GPA) */
};

/* What the host did with a posted message (§8.3, §8.5). */
enum hvlog_post_result {
    HVLOG_POST_QUEUED = 0,    /* in the SINT's FIFO; the host calls hvlog_engine_message_delivered() */
    HVLOG_POST_DELIVERED = 1, /* copied into the slot already: the message buffer is free again */
    HVLOG_POST_REFUSED = 2,   /* could not be queued now (VP ineligible, injected fault): retried later */
};

/*
 * The callbacks, grouped by cost. ctx is passed back unchanged. Unless a
 * callback says otherwise it is called with an engine lock held and must not
 * call back into the engine. docs/embedding.md says which may sleep and which
 * run with interrupts off.
 */
struct hvlog_host_ops {
    /* sizeof(struct hvlog_host_ops) as the host was built: the version of
     * this table. hvlog_engine_init() refuses any other value. */
    uint32_t size;

    /* -- hot: called on the logging path, no locks held (local class) -- */

    /* Partition reference time, 100 ns units since hypervisor start (§4.4).
     * Required. Must be non-decreasing on each LP. */
    uint64_t (*ref_time_100ns)(void *ctx);
    /* The TSC of the calling LP, for groups with TimeBasis Tsc.
     * NULL: the engine stamps TSC-basis entries with ref_time_100ns. */
    uint64_t (*tsc)(void *ctx);

    /* -- slow: hypercalls and buffer switches -- */

    /* Take @count pages from the root's pool (§5.1, §5.3, DEC-POOL). @domain is
     * the requested proximity domain; @strict = the pages must come from it,
     * else any domain will do. Pages need not be zeroed. Returns 0 and fills
     * @out, or non-zero when the pool cannot supply them. Required. */
    int (*pages_alloc)(void *ctx, uint32_t domain, bool strict, uint32_t count,
                       struct hvlog_pages *out);
    /* Give pages back to the pool they came from. Required. */
    void (*pages_free)(void *ctx, const struct hvlog_pages *pages);

    /* Map a buffer's pages read-only into the root's GPA space as overlay
     * pages (§5.5, DEC-MAPGPA) and write their GPA page numbers to
     * @gpa_pages[0..count-1]. Returns 0, or non-zero when the mapping cannot
     * be built (the call fails with INSUFFICIENT_MEMORY). NULL: GPA = the
     * pages' host address >> 12, nothing mapped. */
    int (*overlay_map)(void *ctx, const struct hvlog_pages *pages, uint64_t *gpa_pages);
    /* Revoke an overlay made by overlay_map. NULL when overlay_map is NULL. */
    void (*overlay_unmap)(void *ctx, const struct hvlog_pages *pages);

    /* Guest memory of a partition, for memory-convention calls. gpa_probe
     * tells whether [gpa, gpa+len) can be read (@write false) or written;
     * gpa_read/gpa_write copy. Required for memory-convention calls; NULL
     * makes every memory-convention call fail with INVALID_ALIGNMENT. */
    enum hvlog_gpa_result (*gpa_probe)(void *ctx, uint64_t partition_id, uint64_t gpa,
                                       uint32_t len, bool write);
    enum hvlog_gpa_result (*gpa_read)(void *ctx, uint64_t partition_id, uint64_t gpa, void *dst,
                                      uint32_t len);
    enum hvlog_gpa_result (*gpa_write)(void *ctx, uint64_t partition_id, uint64_t gpa,
                                       const void *src, uint32_t len);

    /* Queue @msg to SINT0 of root VP @vp_index (§8.3 step 5, §8.5). The
     * engine owns @msg until delivery; the host may keep the pointer. When
     * the host answers QUEUED it keeps @token too, and gives it back to
     * hvlog_engine_message_delivered() once it copied @msg into a slot: the
     * token names this message, not just its group, so a delivery that
     * arrives after the group was finalized and initialized again cannot
     * free the new group's message. Required. */
    enum hvlog_post_result (*post_message)(void *ctx, uint32_t vp_index, const struct hv_message *msg,
                                           uint64_t token);
    /* DEC-FINMSG: withdraw a message still queued (not yet copied into a
     * slot) when its group is finalized. NULL: the host never keeps @msg. */
    void (*withdraw_message)(void *ctx, uint32_t vp_index, const struct hv_message *msg);

    /* §8.4: may root VP @vp_index receive messages now (SCONTROL and SIMP
     * enabled)? NULL: every VP below root_vp_count is eligible. */
    bool (*vp_eligible)(void *ctx, uint32_t vp_index);
    /* §8.4 DEC-TARGET: the root VP bound to LP @lp. NULL: VP n = LP n. */
    uint32_t (*lp_root_vp)(void *ctx, uint32_t lp);
    /* §7.2: the proximity domain of LP @lp. NULL: domain 0 for all. */
    uint32_t (*lp_domain)(void *ctx, uint32_t lp);
    /* DEC-PROX: is @domain a proximity domain the host knows? NULL: only 0. */
    bool (*domain_known)(void *ctx, uint32_t domain);

    /* Q-CONC: run @fn(@arg) as if on LP @lp, at a moment when no hvlog_log()
     * call of that LP is in progress, and return when it has run (an IPI in
     * a hypervisor; a mailbox the LP thread polls in the simulator). Used by
     * Flush to take an InUse buffer away from its LP. NULL: the embedder
     * promises that hypercalls never run concurrently with logging, and the
     * engine calls @fn directly. Called with no engine lock held. */
    void (*run_on_lp)(void *ctx, uint32_t lp, void (*fn)(void *arg), void *arg);

    /* -- lifetime and diagnostics -- */

    /* Memory for the engine's own structures, for hvlog_engine_create()
     * only: @bytes (hvlog_engine_size()), aligned to HVLOG_ENGINE_ALIGN.
     * Called once, with no lock held; may sleep. NULL (with mem_free NULL):
     * hvlog_engine_create() is refused, and the host gives the engine
     * memory of its own through hvlog_engine_init(). */
    void *(*mem_alloc)(void *ctx, size_t bytes);
    /* Give back what mem_alloc returned; from hvlog_engine_destroy(). */
    void (*mem_free)(void *ctx, void *memory);
    /* A waiter on an engine spinlock has spun long (thousands of pauses).
     * Any context, engine locks may be held, interrupts may be off: must
     * not sleep or call the engine. A threaded simulation yields the CPU
     * here, since a lock holder can be descheduled. NULL: pause only, as a
     * hypervisor wants (its lock holders are never descheduled). */
    void (*relax)(void *ctx);
    /* HVLOG_BUG_ON (Linux's RB_WARN_ON): an engine invariant failed for
     * group @type. The engine marks the group broken, stops recording into
     * it and counts it (hvlog_group_info.bugs); this is called once per
     * group, with the group lock held, in any context: it must not sleep
     * or call the engine. @what is a static string. NULL: only counted. */
    void (*warn)(void *ctx, uint32_t type, const char *what);
};

/* ---- configuration: profile and knobs (spec §12.1) ------------------------ */

enum hvlog_flush_index { HVLOG_FLUSH_INDEX_BUFFER = 0, HVLOG_FLUSH_INDEX_VP = 1 };   /* D1 */
enum hvlog_flush_scope { HVLOG_FLUSH_SCOPE_BUFFER = 0, HVLOG_FLUSH_SCOPE_TYPE = 1 }; /* D18 */

struct hvlog_profile {
    enum hvlog_abi_profile abi; /* hvlog/abi/profile.h; docs/engine.md compares the two */
    enum hvlog_flush_index flush_index;
    enum hvlog_flush_scope flush_scope;
    hv_status_t unmap_state_status; /* D14: ACCESS_DENIED (default) or OPERATION_DENIED */
    bool release_from_complete;     /* D13 */
    bool threshold_zero;            /* D22 */
    bool local_strict_domain;       /* DEC-SELECT */
};

/**
 * hvlog_profile_preset - profile @abi with every knob at that profile's
 * preset (spec §12.1). The presets differ in one knob: the current profile
 * turns release_from_complete on (D13), because the Linux root driver's STOP
 * releases Complete buffers and, were that refused, its DESTROY could never
 * unmap them and the group would stay initialized for good (docs/engine.md).
 * Hosts start from this and change knobs afterwards. An @abi that is not a
 * profile gives the 2013 preset with that @abi, which create refuses.
 */
HVLOG_API struct hvlog_profile hvlog_profile_preset(enum hvlog_abi_profile abi);

/* hvlog_profile_preset(HVLOG_ABI_2013): the spec's defaults. */
HVLOG_API struct hvlog_profile hvlog_profile_default(void);

struct hvlog_engine_config {
    /* sizeof(struct hvlog_engine_config) as the host was built: the version
     * of this struct. Any other value is refused. */
    uint32_t size;
    uint32_t lp_count;          /* logical processors, 1..HVLOG_MAX_LPS */
    uint32_t root_vp_count;     /* root VPs (usually lp_count) */
    uint64_t root_partition_id; /* the only caller the nine calls accept */
    struct hvlog_profile profile;
    const struct hvlog_host_ops *ops; /* must outlive the engine */
    void *ctx;
};

/* 2,048: the most LPs a current Hyper-V host has (issue 16); the current
 * header's LogicalProcessor is a u16 (§11.4). The engine's memory grows
 * with lp_count (hvlog_engine_size(); docs/engine.md gives the bytes per
 * LP); nothing in it is sized by this constant. */
#define HVLOG_MAX_LPS 2048u
/* The alignment of an engine's memory (a cache line: the logging scopes
 * are laid out one per line). */
#define HVLOG_ENGINE_ALIGN 64u

/**
 * hvlog_engine_size - bytes of memory an engine of @config takes for its own
 * structures (the buffers come from pages_alloc). Returns 0 for a bad
 * configuration. Any context; allocates nothing.
 */
HVLOG_API size_t hvlog_engine_size(const struct hvlog_engine_config *config);

/**
 * hvlog_engine_init - make an engine with no group initialized in @memory,
 * which the host provides: @bytes >= hvlog_engine_size(@config), aligned to
 * HVLOG_ENGINE_ALIGN, and untouched by the host until hvlog_engine_destroy()
 * returns. @config is copied; @config->ops must stay valid until destroy.
 * Returns 0 and the engine in @out, or -1 for a bad configuration (wrong
 * size field, NULL required callback, LP count out of range) or memory too
 * small or misaligned. Any context that may touch @bytes of memory.
 */
HVLOG_API int hvlog_engine_init(const struct hvlog_engine_config *config, void *memory,
                                size_t bytes, struct hvlog_engine **out);

/**
 * hvlog_engine_create - hvlog_engine_init() in memory from the host's
 * mem_alloc hook. Returns -1 also when the host has no mem_alloc or it
 * returns NULL. May sleep (mem_alloc may).
 */
HVLOG_API int hvlog_engine_create(const struct hvlog_engine_config *config,
                                  struct hvlog_engine **out);

/**
 * hvlog_engine_destroy - end the engine. Buffers still created go back to
 * the pool (overlays revoked first); memory from hvlog_engine_create() goes
 * back through mem_free, memory given to hvlog_engine_init() is the host's
 * again. No other call may be in progress.
 */
HVLOG_API void hvlog_engine_destroy(struct hvlog_engine *engine);

/* ---- hypercalls ----------------------------------------------------------- */

/* Who issues a hypercall. */
struct hvlog_caller {
    uint64_t partition_id;
    uint32_t vp_index;
};

/* What the dispatcher concluded (Q-GPA). */
enum hvlog_hypercall_outcome {
    HVLOG_HYPERCALL_DONE = 0,      /* *rax holds the result value */
    HVLOG_HYPERCALL_GPA_FAULT = 1, /* raise a memory intercept for @fault_gpa; *rax untouched */
};

/* Registers of one hypercall (x64 names; x86 callers pass the joined pairs). */
struct hvlog_hypercall {
    uint64_t rcx;       /* input value */
    uint64_t rdx;       /* input GPA, or fast input bytes 0..7 */
    uint64_t r8;        /* output GPA, or fast input bytes 8..15 */
    uint64_t rax;       /* out: result value */
    uint64_t fault_gpa; /* out: with HVLOG_HYPERCALL_GPA_FAULT */
};

/**
 * hvlog_engine_hypercall - execute one hypercall atomically (§3.5, DEC-ATOM).
 * Any code other than 0x0060-0x0068 gives HV_STATUS_INVALID_HYPERCALL_CODE.
 * A failing call changes no state and writes no output.
 * Context: any thread; calls serialize on the engine's group locks and use
 * run_on_lp for cross-LP work, so they may run beside logging on every LP.
 */
HVLOG_API enum hvlog_hypercall_outcome hvlog_engine_hypercall(struct hvlog_engine *engine,
                                                              const struct hvlog_caller *caller,
                                                              struct hvlog_hypercall *call);

/**
 * hvlog_engine_message_delivered - the host copied the message it was given
 * with @token (post_message) into a SIM slot: that group's message buffer is
 * free (§8.5), and the next due list is delivered. A token that names no
 * message still queued - its group was finalized meanwhile, and perhaps
 * initialized again - changes nothing. Any thread, no engine lock held.
 */
HVLOG_API void hvlog_engine_message_delivered(struct hvlog_engine *engine, uint64_t token);

/**
 * hvlog_engine_kick - retry notifications that found no eligible VP or were
 * refused (§8.4): call when a VP becomes eligible. Any thread.
 */
HVLOG_API void hvlog_engine_kick(struct hvlog_engine *engine);

/* ---- queries for tests and tools -------------------------------------------- */

struct hvlog_buffer_info {
    bool exists;
    uint32_t state;        /* enum hv_eventlog_buffer_state */
    uint32_t owner_lp;     /* InUse/Complete local buffers; else UINT32_MAX */
    uint32_t domain;       /* creation proximity domain */
    bool domain_valid;     /* created with ProximityInfoValid */
    struct hvlog_pages pages;
    struct hv_eventlog_buffer_header header; /* the 72 bytes read with the 2013 layout */
    struct hv_eventlog_buffer_header_current header_current; /* the same bytes, §11.4 layout */
    bool root_mapped;      /* the root has it mapped (for SystemDiagnostics: Map ran) */
};

/**
 * hvlog_engine_buffer_info - the engine's view of buffer (@type, @index).
 * Returns 0, or -1 when @type is out of range (a missing buffer gives
 * exists = false). Takes the group lock; any thread.
 */
HVLOG_API int hvlog_engine_buffer_info(struct hvlog_engine *engine, uint32_t type, uint32_t index,
                                       struct hvlog_buffer_info *out);

struct hvlog_group_info {
    bool initialized;
    bool local;                 /* local class (per-LP scopes) */
    uint32_t maximum_buffer_count;
    uint32_t buffer_pages;
    uint32_t threshold;
    uint32_t time_basis;
    uint32_t mode;
    uint64_t system_time;       /* from Initialize */
    uint64_t ref_time_at_init;  /* reference time when Initialize ran */
    uint64_t source_mask;
    uint32_t buffers_created;
    uint32_t free_count;
    bool message_busy;          /* the group's message buffer is queued */
    uint32_t due_lists;         /* lists waiting for the message buffer or a VP */
    bool broken;                /* HVLOG_BUG_ON fired: nothing is recorded into it */
    uint32_t bugs;              /* HVLOG_BUG_ON hits, over the engine's lifetime */
};

/** hvlog_engine_group_info - group state of @type; -1 for a bad type. Any thread. */
HVLOG_API int hvlog_engine_group_info(struct hvlog_engine *engine, uint32_t type,
                                      struct hvlog_group_info *out);

/* Per-scope counters (scope = an LP for local types, 0 for the global one). */
struct hvlog_scope_stats {
    uint64_t events_lost_no_buffer;  /* §7.4: no Free buffer */
    uint64_t events_lost_too_large;  /* §7.3 step 2: larger than any buffer */
    uint64_t events_lost_nested;     /* interrupted another hvlog_log() of the type on its LP
                                        (log.h); for a global type, all LPs' */
    uint64_t buffers_completed;
    uint64_t notifications;          /* ready lists delivered from this scope */
    uint64_t events_overwritten;     /* entries of Complete buffers reused by Circular mode
                                        or the SystemDiagnostics ring (not in EventsLost) */
    uint32_t lost_pending;           /* goes into EventsLost of the next buffer */
    uint32_t pending_count;          /* Complete buffers waiting on its list */
    uint32_t active_index;           /* InUse buffer, or HV_EVENTLOG_BUFFER_INDEX_NONE */
};

/**
 * hvlog_engine_scope_stats - counters of @scope of @type. Exact when no
 * logging runs on that scope; otherwise a recent value. Returns -1 for a bad
 * type or scope. Any thread.
 */
HVLOG_API int hvlog_engine_scope_stats(struct hvlog_engine *engine, uint32_t type, uint32_t scope,
                                       struct hvlog_scope_stats *out);

/* ---- SystemDiagnostics (type 2, current profile, spec §11.6, D24) --------- */

/**
 * hvlog_engine_system_diag_start - create the hypervisor-owned
 * SystemDiagnostics ring: @buffer_count buffers (1..512) of @buffer_pages
 * pages (1..512), taken from the pool (domain 0, any domain will do), all
 * Free, chained in a ring through NextBufferIndex (i -> i+1, last -> 0),
 * with source mask @source_mask. From then on hvlog_log() for type 2 fills
 * them in rotation, with no messages, overwriting the oldest; the root may
 * only Map and Unmap them (every other call on type 2 is OPERATION_DENIED,
 * Initialize INVALID_PARAMETER). Call once, before the root runs.
 * Returns 0; -1 under the 2013 profile, when called twice, for a bad
 * geometry, or when the pool cannot supply the pages (nothing is kept).
 */
HVLOG_API int hvlog_engine_system_diag_start(struct hvlog_engine *engine, uint32_t buffer_count,
                                             uint32_t buffer_pages, uint64_t source_mask);

/**
 * hvlog_engine_system_diag_geometry - what HvGetSystemProperty(28,
 * DiagnosticsLogBuffers) answers on a real hypervisor: the ring's buffer
 * count and pages per buffer. Returns 0, or -1 when no ring was started.
 */
HVLOG_API int hvlog_engine_system_diag_geometry(struct hvlog_engine *engine,
                                                uint32_t *buffer_count, uint32_t *buffer_pages);

/**
 * hvlog_engine_check - verify that the engine's lists, states, headers and
 * scopes agree (src/engine/check.c lists the invariants). For tests, fuzzers
 * and debugging; must not run while any LP is logging.
 * Returns 0, or -1 with a one-line reason in @why.
 */
HVLOG_API int hvlog_engine_check(struct hvlog_engine *engine, char *why, size_t why_size);

/** hvlog_engine_lp_count - the configured LP count. */
HVLOG_API uint32_t hvlog_engine_lp_count(const struct hvlog_engine *engine);

HVLOG_END_DECLS

#endif /* HVLOG_ENGINE_ENGINE_H */
