/* SPDX-License-Identifier: MIT */
/*
 * Logging one event: the hypervisor's hot path (spec §7.3, DEC-LOG).
 *
 * hvlog_log() is static inline so every call site sees it. For a local type
 * (LocalDiagnostics) with an InUse buffer that has room, it writes the entry
 * into the buffer and publishes it with one release store of NextBufferOffset:
 * no lock, no locked read-modify-write, no fence. A type whose sources are
 * all disabled costs one load and one branch. Everything else (taking a Free
 * buffer, completing a full one, notifying, counting a loss, the global
 * class) is out of line in src/engine/log.c, whose head describes the
 * concurrency protocol (Q-CONC).
 *
 * Contract: for a given LP, hvlog_log() is called by the code running on
 * that LP; different LPs call it concurrently.
 *
 * Interrupts and nesting. An interrupt (NMI, machine check, an exception in
 * the caller's own code) may land inside hvlog_log() on an LP and call
 * hvlog_log() again on the same LP. Per LP and type, the engine keeps a
 * nesting guard, set for the whole call (the slow path and its locks
 * included): a call that finds it set - one that interrupted another
 * hvlog_log() of the same type on the same LP - records nothing, returns
 * HVLOG_LOG_LOST and is counted by a cause of its own
 * (hvlog_scope_stats.events_lost_nested), and in EventsLost of that scope's
 * next buffer (§7.4), so read + EventsLost == logged still holds. It never
 * waits: waiting could spin forever on a lock the interrupted call holds.
 * An interrupt that logs another type on the same LP is recorded as usual.
 * An interrupt that lands between the guard's check and its being set sees
 * it clear, and runs to completion before the interrupted call reads any of
 * the scope's state, so it is recorded, earlier. What the guard needs from
 * the embedder: an interrupt handler runs to completion before the code it
 * interrupted resumes (no migration of the interrupted context to another
 * LP mid-call), which is how interrupts work.
 */
#ifndef HVLOG_ENGINE_LOG_H
#define HVLOG_ENGINE_LOG_H

#include <stdint.h>
#include <string.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/le.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hvlog's logging path publishes header fields with native stores: little-endian hosts only"
#endif

#define HVLOG_CACHE_LINE 64

/* Header fields the engine publishes with atomic stores (§6.3). */
#define HVLOG_HDR_NEXT_BUFFER_OFFSET offsetof(struct hv_eventlog_buffer_header, next_buffer_offset)
#define HVLOG_HDR_BUFFER_STATE offsetof(struct hv_eventlog_buffer_header, buffer_state)

/*
 * ---- internal: the layout hvlog_log() inlines --------------------------------
 *
 * Everything named hvlog__* below, and the fields of struct hvlog_logger and
 * struct hvlog_log_type, are the engine's, shown here only so that
 * hvlog_log() can be inlined at every call site. They are not part of the
 * API: callers use hvlog_log() and hvlog_engine_logger() and nothing else,
 * and these may change in any release.
 *
 * One logging scope: an LP of a local type, or the whole machine for a
 * global type. The first four fields are the hot path's; the owner (the LP,
 * or whoever holds the global scope's lock) is their only writer.
 */
struct hvlog__scope {
    /* Where entries are counted from: the InUse buffer's header in the 2013
     * profile, the end of the header in the current one (§11.4), so that
     * @offset is always the header's NextBufferOffset. NULL: no buffer. */
    uint8_t *buffer;
    union {
        struct {
            uint32_t offset; /* NextBufferOffset; 0 when no buffer */
            /* The nesting guard of this LP and type (the contract above):
             * 1 while an hvlog_log() of this type runs on this LP; for a
             * global type it is in the LP's placeholder. Only this LP
             * touches it. Beside @offset so that the hot path's last store
             * writes both: @offset, and the guard back to 0. */
            uint32_t in_log;
        };
        uint64_t offset_and_guard; /* little-endian: @offset is the low half */
    };
    uint32_t end;    /* bytes from @buffer to the buffer's end; 0 when no buffer */
    uint32_t lp;     /* this scope's LP (0 for global) */
    uint32_t active_index; /* InUse buffer index or NONE; also written under the group lock */
    /* Single-writer counters (the owner); others read them relaxed. */
    uint32_t lost_pending;          /* into EventsLost of the next InUse buffer (§7.4) */
    uint32_t lock;                  /* global scope only: the scope spinlock */
    uint64_t lost_no_buffer;
    uint64_t lost_too_large;
    uint64_t overwritten; /* entries of reused Complete buffers (Circular, the ring) */
    /* Second cache line, off the hot path. */
    /* Calls lost to nesting (nested contexts add to it atomically; read
     * relaxed): a local scope's on its LP; a global type's real scope's on
     * every LP (its placeholders' stay 0), so a take reads one counter. */
    uint64_t lost_nested __attribute__((aligned(HVLOG_CACHE_LINE)));
    /* The real scope: lost_nested already put into an EventsLost (owner). */
    uint64_t lost_nested_taken;
} __attribute__((aligned(HVLOG_CACHE_LINE)));

/* One event-log type as the logging path sees it. */
struct hvlog_log_type {
    uint64_t source_mask; /* §5.7; atomic: released by SetSources, acquired here */
    uint32_t local;       /* 1 = local class (a scope per LP), 0 = global */
    /* Where the header's NextBufferOffset lies, from a scope's @buffer:
     * +48 in the 2013 profile, 48 - 72 in the current one. */
    int32_t next_offset_at;
    uint64_t (*entry_clock)(void *ctx); /* per the group's TimeBasis */
    /* [lp_count], indexed by LP. Local class: each LP's scope. Global class:
     * scopes[0] is the machine's scope, and every entry the hot path reads
     * is a placeholder whose end and offset stay 0 (see hvlog_log). */
    struct hvlog__scope *scopes;
};

/* The hot part of an engine; hvlog_engine_logger() returns it. */
struct hvlog_logger {
    struct hvlog_log_type types[HVLOG_TYPE_COUNT];
    void *ctx; /* the host's */
};

enum hvlog_log_result {
    HVLOG_LOG_RECORDED = 0, /* the entry is in an InUse buffer */
    HVLOG_LOG_DROPPED = 1,  /* the type is not initialized or its sources are off: not a loss */
    HVLOG_LOG_LOST = 2,     /* no Free buffer, larger than any buffer, or nested: counted (§7.4) */
};

struct hvlog_engine;

/** hvlog_engine_logger - the logging view of @engine; valid until destroy. */
HVLOG_API struct hvlog_logger *hvlog_engine_logger(struct hvlog_engine *engine);

/* Internal, out of line: everything but "room in the active local buffer".
 * Called by hvlog_log() only. */
HVLOG_API enum hvlog_log_result hvlog__log_slow(struct hvlog_logger *logger, uint32_t lp,
                                               uint32_t type, uint16_t entry_type,
                                               uint32_t context, const void *payload,
                                               uint32_t payload_len);
HVLOG_API void hvlog__log_complete_full(struct hvlog_logger *logger, uint32_t lp, uint32_t type);
/* Internal, out of line: a call that interrupted another on its LP. */
HVLOG_API enum hvlog_log_result hvlog__log_nested(struct hvlog_logger *logger, uint32_t lp,
                                                 uint32_t type);

/* §4.5: header + data, rounded up to 8; computed in 64 bits so no length wraps. */
static inline uint64_t hvlog_entry_size(uint32_t payload_len)
{
    return ((uint64_t)payload_len + HV_EVENTLOG_ENTRY_HEADER_SIZE + 7u) & ~(uint64_t)7u;
}

/* §7.3 step 5: the 16-byte header, the payload, zero padding (DEC-PAD). */
static inline void hvlog_entry_write(uint8_t *entry, uint32_t size, uint16_t entry_type,
                                     uint32_t context, uint64_t time_stamp, const void *payload,
                                     uint32_t payload_len)
{
    hvlog_store_le32(entry, context);
    hvlog_store_le16(entry + 4, (uint16_t)size);
    hvlog_store_le16(entry + 6, entry_type);
    hvlog_store_le64(entry + 8, time_stamp);
    if (payload_len) {
        /* Zero the last qword first: it holds the padding, and the payload
         * copy overwrites whatever of it is data. */
        hvlog_store_le64(entry + size - 8, 0);
        memcpy(entry + HV_EVENTLOG_ENTRY_HEADER_SIZE, payload, payload_len);
    }
}

/**
 * hvlog_log - record one event (§7.3).
 * @logger: hvlog_engine_logger(engine).
 * @lp: the calling LP (< lp_count). @type: HV_EVENTLOG_TYPE (< HVLOG_TYPE_COUNT).
 * @source_bits: the event's source bit(s); recorded only if the group's
 *   source mask has one of them.
 * @entry_type, @context: entry header fields. @payload/@payload_len: data.
 * Returns what happened. Context: on LP @lp, see the contract above.
 */
static inline enum hvlog_log_result hvlog_log(struct hvlog_logger *logger, uint32_t lp,
                                              uint32_t type, uint64_t source_bits,
                                              uint16_t entry_type, uint32_t context,
                                              const void *payload, uint32_t payload_len)
{
    struct hvlog_log_type *t = &logger->types[type];
    struct hvlog__scope *s;
    enum hvlog_log_result r = HVLOG_LOG_RECORDED;
    uint64_t size;

    /* Acquire pairs with SetSources' release: a non-zero mask implies the
     * group's Initialize is visible. A plain load on x86. */
    if ((__atomic_load_n(&t->source_mask, __ATOMIC_ACQUIRE) & source_bits) == 0)
        return HVLOG_LOG_DROPPED;
    /* A global type's scopes[] are placeholders with end = offset = 0,
     * so it always takes the slow path, where its real scope and lock
     * are; the local test costs no branch of its own. */
    s = &t->scopes[lp];
    /* The nesting guard (head comment): set before any of the scope is
     * read, cleared after the last of it is written. Only this LP reads or
     * writes it, so plain accesses do; the signal fences stop the compiler
     * from moving the scope's accesses across them, and an interrupt on
     * this LP sees the program order. */
    if (s->in_log)
        return hvlog__log_nested(logger, lp, type);
    s->in_log = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    size = hvlog_entry_size(payload_len);
    /* No active buffer: end = offset = 0, so this test fails too. An
     * entry over the UINT16 Size limit goes to the slow path to be
     * counted lost (§7.3 step 2); with a constant length, as at most
     * call sites, that test folds away. */
    if (size <= (uint64_t)(s->end - s->offset) && size <= HV_EVENTLOG_MAX_ENTRY_SIZE) {
        /* The clock first: nothing needs to live across the call but
         * the scope pointer, so the fields are loaded once, after it. */
        uint64_t now = t->entry_clock(logger->ctx);
        uint8_t *buffer = s->buffer;
        uint32_t off = s->offset, end = s->end;

        hvlog_entry_write(buffer + off, (uint32_t)size, entry_type, context, now, payload,
                          payload_len);
        off += (uint32_t)size;
        /* §6.3: publish the entry; the root reads NextBufferOffset with acquire. */
        __atomic_store_n((uint32_t *)(buffer + t->next_offset_at), off, __ATOMIC_RELEASE);
        if (end - off >= HV_EVENTLOG_ENTRY_HEADER_SIZE) {
            /* The common end: the scope's offset, and the guard cleared,
             * in one store - after the publication, so that a call that
             * interrupts us from here on appends after our entry. */
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            s->offset_and_guard = off;
            return HVLOG_LOG_RECORDED;
        }
        /* §7.3 step 6: no room for even an empty entry: complete now. */
        s->offset = off;
        hvlog__log_complete_full(logger, lp, type);
    } else {
        r = hvlog__log_slow(logger, lp, type, entry_type, context, payload, payload_len);
    }
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    s->in_log = 0;
    return r;
}

HVLOG_END_DECLS

#endif /* HVLOG_ENGINE_LOG_H */
