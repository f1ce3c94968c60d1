/* SPDX-License-Identifier: MIT */
/*
 * The simulated host: hvlog's embedded default hypervisor (issue #5).
 *
 * It implements the engine's host interface with a machine that has
 *   - machine memory backed by a memfd, split into NUMA domains; GPA = SPA
 *     for the root (DEC-MAPGPA); the root's RAM at the bottom, each
 *     domain's remaining frames free for deposits;
 *   - a root partition (ID HVLOG_SIM_ROOT_ID) and child partitions, each
 *     with VPs; root VP n is bound to LP n (§8.4);
 *   - the root's page pool per domain, filled by deposits (HvDepositMemory)
 *     from its RAM; the engine takes bookkeeping and buffer pages from it;
 *   - a read-only view of machine memory for the root: mapped buffers are
 *     overlay pages the root can read and cannot write (a store faults);
 *   - a SynIC per root VP (SCONTROL, SIMP, SINTx, EOM, a FIFO per SINT);
 *   - LPs multiplexed over worker threads, running child workloads that
 *     log entries of the §4.8 catalogue, or a lock-step mode where the
 *     caller steps them;
 *   - a seed, an injectable clock, and fault injection.
 *
 * The root's GPA space (machine page = GPA >> 12), one region per domain d:
 *
 *   region d  [ fixed RAM: root_ram_pages | deposit frames: deposit_frames ]
 *              ^ domain 0 only: page 0 unused, then the scratch pages
 *                (hvlog_sim_root_page), then one SIM page per VP
 *                (hvlog_sim_synic_enable)
 *
 *   frame kind                    root read          root write   engine
 *   fixed RAM                     yes                yes          -
 *   deposit frame, not deposited  yes (root RAM)     yes          -
 *   pool frame (deposited)        no: FAULT, NULL    no: FAULT    pages_alloc
 *   buffer page, overlay-mapped   yes (read-only)    no: FAULT    its buffer
 *
 * "read": hvlog_sim_root_view() and guest reads by GPA; "write": guest
 * writes by GPA (the root's writable pointers are hvlog_sim_root_page()
 * and hvlog_sim_sim_page()). The view itself is never writable: a store
 * through it is SIGSEGV on every frame, and pool frames are PROT_NONE in
 * it. Children have a GPA space of their own: HVLOG_SIM_CHILD_RAM_PAGES
 * pages of RAM at GPA 0, read/write.
 *
 * Layer: sim uses engine and abi only. The root client (client layer)
 * reaches the sim through the plain functions below, or through the
 * struct hvlog_root_ops that hvlog_sim_root_ops() fills.
 */
#ifndef HVLOG_SIM_SIM_H
#define HVLOG_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/root.h"
#include "hvlog/engine/engine.h"
#include "hvlog/engine/log.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

struct hvlog_sim;

#define HVLOG_SIM_ROOT_ID 1ull        /* the root partition's id */
#define HVLOG_SIM_FIRST_CHILD_ID 2ull /* children are 2, 3, ... */
#define HVLOG_SIM_CHILD_RAM_PAGES 16u /* each child's RAM, at GPA 0 */

/* LPs: 2,048, the most a current Hyper-V host has (the current header's
 * LogicalProcessor is 16 bits, §11.4); under the 2013 profile at most 256,
 * since its header names the LP in 8 bits (§4.4) and LPs 256 and above
 * could not be told apart: create refuses more. */
#define HVLOG_SIM_MAX_LPS 2048u
#define HVLOG_SIM_MAX_LPS_2013 256u
#define HVLOG_SIM_MAX_THREADS 256u
#define HVLOG_SIM_MAX_DOMAINS 8u
#define HVLOG_SIM_MAX_CHILDREN 64u

/*
 * A workload: which events the LPs produce and how fast. All zero is
 * valid: every LP logs flat out until stopped, LocalDiagnostics only, no
 * extra payload.
 *
 * Each event is one row of the §4.8 catalogue (hvlog/abi/catalog.h):
 * hypercalls, MSR/CR/IO/CPUID intercepts, context switches and profiler
 * samples for LocalDiagnostics; partition create/delete for
 * GlobalSystemEvents. The entry's source bits are the row's group, its
 * Context the LP's sequence number of events of that type (the LP's
 * hvlog_sim_lp_counts.logged[type] before the event, so a reader sees a
 * gap of exactly the lost events), its payload one little-endian u64 per
 * parameter name of the row followed by the extra bytes
 * hvlog_sim_extra_byte(Context, 0..n-1).
 *
 * SystemDiagnostics records (type 2, the hypervisor's own ring, §11.6) have
 * no catalogue rows: a record is entry Type HVLOG_SIM_DIAG_ENTRY_TYPE with
 * source bits HVLOG_SIM_DIAG_SOURCES, Context as above (the LP's count of
 * type-2 events), and a payload of one little-endian u64, the LP index,
 * followed by the extra bytes. They are recorded only when the sim runs the
 * ring (hvlog_sim_config.system_diag_buffers); otherwise they are dropped.
 */
struct hvlog_sim_workload {
    uint64_t events_per_lp;     /* stop after this many events per LP (0 = until stopped) */
    uint32_t rate_per_lp;       /* events per second per LP, 0 = flat out */
    uint32_t payload_min;       /* payload bytes beyond the catalogue parameters... */
    uint32_t payload_max;       /* ...chosen uniformly in [min, max]; max <= HVLOG_SIM_MAX_EXTRA */
    uint64_t local_sources;     /* LocalDiagnostics source bits to draw from (0 = all groups) */
    uint32_t global_per_mille;  /* share of events that are GlobalSystemEvents, in 1/1000 */
    uint32_t system_per_mille;  /* share that are SystemDiagnostics records; with
                                 * global_per_mille at most 1000 */
    uint64_t duration_ns;       /* each LP stops logging this long after
                                 * hvlog_sim_start (0 = until stopped), whoever
                                 * drains the buffers meanwhile */
};
#define HVLOG_SIM_MAX_EXTRA 65536u /* extra payload bytes; above ~65500 an entry is too large (§7.3) */

/* A SystemDiagnostics record's entry Type: non-zero (a diaglog reader stops
 * at Type 0), group 0x1D "hypervisor" in the high byte as diagnostic types
 * carry it (research §2.6); the low byte is the sim's. */
#define HVLOG_SIM_DIAG_ENTRY_TYPE 0x1D01u
#define HVLOG_SIM_DIAG_SOURCES 0x1ull /* the ring's source mask is all ones */

/** hvlog_sim_extra_byte - byte @k of the extra payload of an entry with
 * @context: never zero, so a reader can tell it from the zero padding. */
static inline uint8_t hvlog_sim_extra_byte(uint32_t context, uint32_t k)
{
    return (uint8_t)(0x80u | ((context * 13u + k) & 0x7Fu));
}

struct hvlog_sim_config {
    uint32_t lps;             /* logical processors (= root VPs), 1..HVLOG_SIM_MAX_LPS */
    uint32_t domains;         /* NUMA domains, LPs spread round-robin, 1..HVLOG_SIM_MAX_DOMAINS */
    uint32_t children;        /* child partitions, each with one VP per LP, 0..HVLOG_SIM_MAX_CHILDREN */
    uint32_t root_ram_pages;  /* the root's fixed RAM per domain (never deposited);
                               * domain 0 needs 1 + HVLOG_SIM_ROOT_SCRATCH_PAGES + lps */
    uint32_t deposit_frames;  /* frames per domain the root may deposit; 0 = 2 x pool_pages */
    uint32_t pool_pages;      /* pages deposited into the pool per domain at start */
    uint64_t seed;            /* all randomness; printed by tests on failure */
    bool lockstep;            /* no workers: hvlog_sim_step() runs LPs in the caller */
    struct hvlog_profile profile;
    /* The hypervisor's SystemDiagnostics ring (§11.6), started at create
     * with every source enabled: this many buffers (0 = no ring) of
     * system_diag_pages pages, taken from domain 0's pool after the
     * deposit. Current profile only (create fails otherwise). The root
     * learns the geometry with HvGetSystemProperty (below). */
    uint32_t system_diag_buffers;
    uint32_t system_diag_pages;
    /* Scatter every multi-page allocation: its frames are drawn from the
     * domain at random (seeded), so Map returns GPA pages that are not
     * consecutive (§5.5 gives one page number per page, DEC-MAPGPA), as a
     * fragmented pool on a real host does. Off: the lowest run of adjacent
     * frames, and scattered frames only when the pool has no such run. */
    bool scatter_pages;
    /* Injectable clock: reference time in 100 ns; NULL = CLOCK_MONOTONIC
     * since the sim started. Must be non-decreasing, and callable from
     * every worker thread at once. With an injected clock the TSC (entries of a
     * TSC-basis group) is the same clock, so a lock-step run is exact. */
    uint64_t (*clock)(void *clock_ctx);
    void *clock_ctx;
    /* Worker threads hvlog_sim_start() runs the LPs on (src/sim/lp.c): 0 =
     * one per online CPU; at most HVLOG_SIM_MAX_THREADS, and never more
     * than lps. Worker w owns LPs w, w + threads, ... */
    uint32_t threads;
};

/** hvlog_sim_config_default - 2 LPs, 1 domain, 1 child, 128 RAM pages,
 * 4096 pool pages (8192 frames), seed 1, threads, the default profile. */
HVLOG_API struct hvlog_sim_config hvlog_sim_config_default(void);

/**
 * hvlog_sim_create - build the machine and its engine, and deposit
 * @config->pool_pages per domain. Returns 0 or -1 (bad configuration, or
 * the memory could not be set up). Any thread.
 */
HVLOG_API int hvlog_sim_create(const struct hvlog_sim_config *config, struct hvlog_sim **out);
/** hvlog_sim_destroy - stop the workers and free everything (the engine
 * first: buffers it still holds go back to the pool). NULL is a no-op. */
HVLOG_API void hvlog_sim_destroy(struct hvlog_sim *sim);

/** hvlog_sim_engine - the engine the sim hosts, for queries and tests
 * (hvlog_engine_buffer_info, _scope_stats, _check). Valid until destroy. */
HVLOG_API struct hvlog_engine *hvlog_sim_engine(struct hvlog_sim *sim);
/** hvlog_sim_seed - the configured seed, to print on failure. */
HVLOG_API uint64_t hvlog_sim_seed(const struct hvlog_sim *sim);
/** hvlog_sim_lp_count - LPs, which is also the number of root VPs. */
HVLOG_API uint32_t hvlog_sim_lp_count(const struct hvlog_sim *sim);

/* ---- the root partition's side: what a root driver can touch ---- */

/**
 * hvlog_sim_hypercall - issue a hypercall as (partition, vp) with the given
 * registers. Returns the result value (RAX). A memory intercept (a GPA the
 * caller may not access) is reported as result HVLOG_SIM_INTERCEPT and
 * counted; the caller sees no status, as on real hardware it would see a
 * fault. A caller that cannot exist gets the sim's own answer:
 * HV_STATUS_INVALID_PARTITION_ID for an unknown partition,
 * HV_STATUS_INVALID_VP_INDEX for vp >= lps. Any thread.
 *
 * Besides the nine event-log calls (the engine's), the sim answers one
 * hypervisor-wide call a root driver needs first: HvGetSystemProperty
 * (code HVLOG_SIM_CALL_GET_SYSTEM_PROPERTY), memory form only, for
 * property HVLOG_SIM_PROPERTY_DIAG_LOG_BUFFERS (research §1.2): input
 * {PropertyId u32 @0, reserved u32 @4} at RDX, output {buffer count u32 @0,
 * pages per buffer u32 @4} at R8 - the SystemDiagnostics ring's geometry,
 * 0 and 0 without a ring. Checks in the engine's order (§3.5): the fast
 * bit or any reserved, rep or variable-header bit -> INVALID_HYPERCALL_INPUT;
 * a block not 8-aligned or outside the GPA space -> INVALID_ALIGNMENT; a
 * block the caller cannot read (input) or write (output) -> intercept;
 * not the root -> ACCESS_DENIED; another property -> INVALID_PARAMETER.
 */
#define HVLOG_SIM_CALL_GET_SYSTEM_PROPERTY 0x007Bu
/*
 * The second: HvCallLogHypervisorSystemConfig (code 0x00F8), which the
 * Linux diaglog driver issues once after mapping the ring (research §1.2:
 * memory form, no input, no output; "write one header record into the
 * log"; the driver ignores a failure). The sim answers as it answers
 * GetSystemProperty: any bit above the call code -> INVALID_HYPERCALL_INPUT;
 * not the root -> ACCESS_DENIED; no SystemDiagnostics ring ->
 * INVALID_PARAMETER (our choice: the spec and the sources are silent);
 * else it writes ONE configuration record into the ring, as the calling
 * VP's LP, and succeeds (the input and output GPAs are not read).
 *
 * The record is hvlog-defined (the real one's payload is not public):
 * entry Type HVLOG_SIM_CONFIG_ENTRY_TYPE, Context 0, and a payload of
 * HVLOG_SIM_CONFIG_PAYLOAD_BYTES little-endian fields:
 *   u32 @0  record version (1)
 *   u32 @4  ABI profile of the engine (0 = 2013, 1 = current)
 *   u32 @8  LPs            u32 @12 proximity domains
 *   u32 @16 ring buffers   u32 @20 pages per ring buffer
 *   char @24[16] the hvlog version, NUL-padded
 */
#define HVLOG_SIM_CALL_LOG_SYSTEM_CONFIG 0x00F8u
#define HVLOG_SIM_CONFIG_ENTRY_TYPE 0x1D02u /* group 0x1D "hypervisor", as 0x1D01 */
#define HVLOG_SIM_CONFIG_PAYLOAD_BYTES 40u
#define HVLOG_SIM_CONFIG_RECORD_VERSION 1u
#define HVLOG_SIM_PROPERTY_DIAG_LOG_BUFFERS 28u
#define HVLOG_SIM_INTERCEPT 0xFFFFFFFFFFFFFFFFull
HVLOG_API uint64_t hvlog_sim_hypercall(struct hvlog_sim *sim, uint64_t partition_id,
                                       uint32_t vp_index, uint64_t rcx, uint64_t rdx, uint64_t r8);

/**
 * hvlog_sim_root_page - a root RAM page the root driver may use for
 * hypercall input/output blocks: its GPA and a writable pointer.
 * @index: 0..HVLOG_SIM_ROOT_SCRATCH_PAGES-1. Returns the GPA (never 0),
 * or 0 for a bad index.
 */
#define HVLOG_SIM_ROOT_SCRATCH_PAGES 4u
HVLOG_API uint64_t hvlog_sim_root_page(struct hvlog_sim *sim, uint32_t index, uint8_t **hva);

/**
 * hvlog_sim_root_view - the root's read-only view of [gpa, gpa+len): a
 * pointer into a PROT_READ mapping, valid while the sim lives. A store
 * through it faults (SIGSEGV). Returns NULL for a range the root cannot
 * read (outside its GPA space, or pool pages not mapped as an overlay).
 * The answer is a snapshot: once a buffer is unmapped its pages become
 * PROT_NONE in the view, and a read through an old pointer faults too.
 */
HVLOG_API const uint8_t *hvlog_sim_root_view(struct hvlog_sim *sim, uint64_t gpa, uint32_t len);

/**
 * hvlog_sim_gpa_read / hvlog_sim_gpa_write - a guest access by GPA, as the
 * guest's own loads and stores would be checked (the table above): root
 * RAM and a child's RAM read and write; an overlay page reads, and a write
 * to it is refused as a memory intercept (HVLOG_GPA_FAULT, counted in
 * hvlog_sim_intercepts); pool pages fault both ways. Nothing is copied
 * unless the whole range is accessible. Any thread.
 */
HVLOG_API enum hvlog_gpa_result hvlog_sim_gpa_read(struct hvlog_sim *sim, uint64_t partition_id,
                                                   uint64_t gpa, void *dst, uint32_t len);
HVLOG_API enum hvlog_gpa_result hvlog_sim_gpa_write(struct hvlog_sim *sim, uint64_t partition_id,
                                                    uint64_t gpa, const void *src, uint32_t len);

/* Pool: HvDepositMemory / HvWithdrawMemory, in pages, per domain. Deposit
 * moves root RAM frames (deposit frames not yet deposited) into the pool;
 * withdraw moves free pool frames back, zeroed. Both return 0, or -1 and
 * change nothing when the domain does not have that many. Any thread. */
HVLOG_API int hvlog_sim_deposit(struct hvlog_sim *sim, uint32_t domain, uint32_t pages);
HVLOG_API int hvlog_sim_withdraw(struct hvlog_sim *sim, uint32_t domain, uint32_t pages);
/** Pool pages of @domain not given to the engine (0 for a bad domain). */
HVLOG_API uint32_t hvlog_sim_pool_free(struct hvlog_sim *sim, uint32_t domain);
/** The configured NUMA domains (proximity domain ids 0..count-1). */
HVLOG_API uint32_t hvlog_sim_domain_count(const struct hvlog_sim *sim);

/* ---- SynIC of the root's VPs (§8.5) ---- */

/** Write/read a SynIC MSR of root VP @vp (SCONTROL, SVERSION (read-only),
 * SIEFP, SIMP, EOM (write-only, reads 0), SINT0..15). Returns 0, or -1 for
 * #GP: unknown MSR, bad VP, SINT vector < 16, SIMP enabled at a GPA that
 * is not the root's fixed RAM, a write to SVERSION. Not to be called under
 * an engine lock (EOM and enabling notify the engine). Any thread. */
HVLOG_API int hvlog_sim_wrmsr(struct hvlog_sim *sim, uint32_t vp, uint32_t msr, uint64_t value);
HVLOG_API int hvlog_sim_rdmsr(struct hvlog_sim *sim, uint32_t vp, uint32_t msr, uint64_t *value);
/** hvlog_sim_synic_enable - what a root driver does at start on VP @vp:
 * SIMP at a root RAM page, SINT0 unmasked with @vector, SCONTROL enabled.
 * Returns the SIM page's GPA, or 0 on failure. */
HVLOG_API uint64_t hvlog_sim_synic_enable(struct hvlog_sim *sim, uint32_t vp, uint8_t vector);
/**
 * hvlog_sim_sim_page - the SIM page of VP @vp as the root sees it
 * (writable: the root clears MessageType after copying a message out), or
 * NULL when disabled. Slot n is at n * 256.
 *
 * The SynIC writes a slot while the root reads it, so both sides use
 * atomics on two fields, as on hardware (§8.5 handler sequence):
 *   1. load MessageType (u32 @0) with acquire; 0 = empty. The header and
 *      PayloadSize bytes of payload are then complete;
 *   2. copy the message out (every byte but MessageFlags, which the SynIC
 *      may set meanwhile); store MessageType = 0 (seq_cst);
 *   3. load MessageFlags (u8 @5) (seq_cst); if MessagePending, write EOM.
 * The SynIC sets MessagePending and then re-reads MessageType (seq_cst),
 * so between them no message is left waiting.
 */
HVLOG_API uint8_t *hvlog_sim_sim_page(struct hvlog_sim *sim, uint32_t vp);
/** Interrupts raised on VP @vp's SINT0 so far (edges, for tests). */
HVLOG_API uint64_t hvlog_sim_sint_interrupts(struct hvlog_sim *sim, uint32_t vp);

/**
 * hvlog_sim_sint_hook - what the host that runs root VP @vp learns each
 * time the SynIC raises an interrupt on one of its SINTs (§8.5: right
 * after copying @msg into the empty slot of @sint, unless the SINT is
 * masked): the SINT's @vector, for the host to inject into the VP. A host
 * that runs the root in a real VM injects it (src/kvm/root_synic.c); the
 * sim itself has no interrupt controller.
 *
 * Context: any thread that delivers a message (a hypercall's, an LP's,
 * the EOM writer's), with VP @vp's SynIC lock held (a leaf lock,
 * sim_internal.h): the hook must not call the sim or the engine; it
 * records and wakes. @msg is valid during the call only.
 */
typedef void (*hvlog_sim_sint_hook)(void *ctx, uint32_t vp, uint32_t sint, uint8_t vector,
                                    const struct hv_message *msg);
/** hvlog_sim_set_sint_hook - install @fn (NULL removes it) with @ctx for
 * root VP @vp; one hook per VP, replacing the last. Returns 0, or -1 for a
 * bad VP. Any thread; interrupts raised before it was set are not replayed
 * (hvlog_sim_sint_interrupts counts them). */
HVLOG_API int hvlog_sim_set_sint_hook(struct hvlog_sim *sim, uint32_t vp, hvlog_sim_sint_hook fn,
                                      void *ctx);

/**
 * hvlog_sim_poll - the hypervisor's deferred work, now: retry notifications
 * that a VP refused (an injected fault, a SIM disabled meanwhile) and copy
 * queued messages into empty slots. Workers do it between passes and
 * EOM does it; in lock-step mode hvlog_sim_step() does it, and a test may
 * call it to choose the moment. Any thread, no engine lock held.
 */
HVLOG_API void hvlog_sim_poll(struct hvlog_sim *sim);

/* ---- logical processors ---- */

/** Start the worker threads that run the LPs with @workload. Returns -1 in lock-step mode, when
 * threads were started and not yet stopped, for a bad workload
 * (payload_min > payload_max, payload_max > HVLOG_SIM_MAX_EXTRA,
 * global_per_mille + system_per_mille > 1000, no catalogue row in
 * local_sources when some events are local), or when a
 * thread cannot start; else 0. Call start and stop from one controlling
 * thread. */
HVLOG_API int hvlog_sim_start(struct hvlog_sim *sim, const struct hvlog_sim_workload *workload);
/** Ask the workers to stop and join them. No-op when none run. */
HVLOG_API void hvlog_sim_stop(struct hvlog_sim *sim);
/** True while any LP still runs its workload. */
HVLOG_API bool hvlog_sim_running(struct hvlog_sim *sim);

/**
 * hvlog_sim_step - LP @lp logs @count workload events now, in the calling
 * thread, each under that LP's mailbox lock (so a concurrent run_on_lp
 * waits), then does hvlog_sim_poll()'s work. Does nothing for a bad
 * workload or LP, or while that LP's worker runs it. Same seed, same calls,
 * same clock: same bytes.
 */
HVLOG_API void hvlog_sim_step(struct hvlog_sim *sim, uint32_t lp, uint32_t count,
                              const struct hvlog_sim_workload *workload);

/**
 * hvlog_sim_log - LP @lp logs one event now, in the calling thread, under
 * that LP's mailbox lock; counted in hvlog_sim_lp_counts. Returns the
 * engine's result; HVLOG_LOG_DROPPED without logging for a bad LP or type,
 * or while that LP's worker runs it.
 */
HVLOG_API enum hvlog_log_result hvlog_sim_log(struct hvlog_sim *sim, uint32_t lp, uint32_t type,
                                              uint64_t sources, uint16_t entry_type,
                                              uint32_t context, const void *payload,
                                              uint32_t payload_len);

/* What the LPs produced, per LP and type (the producer's own count). */
struct hvlog_sim_lp_counts {
    uint64_t logged[HVLOG_TYPE_COUNT];   /* calls to hvlog_log with sources enabled */
    uint64_t recorded[HVLOG_TYPE_COUNT];
    uint64_t lost[HVLOG_TYPE_COUNT];
    uint64_t dropped[HVLOG_TYPE_COUNT];  /* type disabled: not a loss */
};
/** Counts of LP @lp (zeros for a bad LP): each a recent value while the LP
 * runs, exact once it stopped. Any thread. */
HVLOG_API void hvlog_sim_lp_counts(struct hvlog_sim *sim, uint32_t lp,
                                   struct hvlog_sim_lp_counts *out);

/* ---- fault injection ---- */

enum hvlog_sim_fault {
    HVLOG_SIM_FAULT_ALLOC = 0,  /* page allocation from the pool */
    HVLOG_SIM_FAULT_MAP = 1,    /* building an overlay mapping */
    HVLOG_SIM_FAULT_POST = 2,   /* posting a message (refused; retried by hvlog_sim_poll) */
};
#define HVLOG_SIM_FAULT_KINDS 3u
/** hvlog_sim_fail_after - the @k-th next operation of that kind fails
 * (1 = the next one), once; 0 disarms. Any thread. */
HVLOG_API void hvlog_sim_fail_after(struct hvlog_sim *sim, enum hvlog_sim_fault fault, uint32_t k);

/**
 * hvlog_sim_root_ops - the root partition's side of @sim as the interface
 * a root-side client consumes (hvlog/abi/root.h): hypercalls from root VPs,
 * scratch pages 0 and 1 of root RAM, the read-only view, SIM pages, EOM and
 * deposits. Pass @sim as the ops' ctx. (src/sim/root_ops.c)
 */
HVLOG_API void hvlog_sim_root_ops(struct hvlog_sim *sim, struct hvlog_root_ops *ops);

/** Memory intercepts raised so far (Q-GPA), for tests. */
HVLOG_API uint64_t hvlog_sim_intercepts(struct hvlog_sim *sim);

/* ---- the root's GPA space, for a VMM whose root is a real guest ---- */

/*
 * A VMM that runs the root partition as a real VM (src/kvm/root_vm.c) maps
 * the root's GPA space into it from the machine's one mapping: GPA g of the
 * root is byte g of hvlog_sim_root_memory() (DEC-MAPGPA, GPA = SPA), and
 * each page is given to the guest as hvlog_sim_root_access_run() says:
 * RW (root RAM) as ordinary memory, READ (an overlay: a mapped buffer) as
 * read-only memory, whose writes the VMM reports with hvlog_sim_gpa_write
 * (the §5.5 intercept), NONE (pool pages) not at all. Overlays change at
 * Map and Unmap (and at Finalize, which unmaps), so the VMM asks again
 * after each hypercall.
 */
enum hvlog_sim_root_access {
    HVLOG_SIM_ROOT_NONE = 0,
    HVLOG_SIM_ROOT_READ = 1,
    HVLOG_SIM_ROOT_RW = 2,
};
/** The machine's writable mapping (the root's GPA g at + g), the size of
 * the root's GPA space in bytes (*@bytes) and of domain 0's fixed RAM, from
 * GPA 0 (*@fixed_bytes: never deposited, so a guest's own pages may live
 * there). Either may be NULL. Valid while @sim lives. */
HVLOG_API uint8_t *hvlog_sim_root_memory(struct hvlog_sim *sim, uint64_t *bytes,
                                         uint64_t *fixed_bytes);
/** The root's access to the page at @gpa in *@access, and how many bytes
 * from @gpa (page-aligned) have that same access: a snapshot. 0 when @gpa
 * is outside the root's GPA space. Any thread. */
HVLOG_API uint64_t hvlog_sim_root_access_run(struct hvlog_sim *sim, uint64_t gpa,
                                             enum hvlog_sim_root_access *access);

HVLOG_END_DECLS

#endif /* HVLOG_SIM_SIM_H */
