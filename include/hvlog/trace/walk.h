/* SPDX-License-Identifier: MIT */
/*
 * Reading event-log buffers safely: the buffer walker and entry decoder.
 *
 * Pure functions over bytes: no hypercalls, no state. The root client uses
 * them on Ready buffers in place in the read-only view; the trace tools use
 * them on buffers read back from files. Nothing in a buffer is trusted:
 * every size and offset is checked (in 32/64-bit arithmetic, so no 16-bit
 * Size can wrap) before anything is read, and checked again on the load a
 * walk uses, so bytes that change under a walk cannot take it out of the
 * buffer or make it loop.
 */
#ifndef HVLOG_TRACE_WALK_H
#define HVLOG_TRACE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/layout.h"
#include "hvlog/abi/profile.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* One buffer's header, normalized to the 2013 meaning whatever the convention. */
struct hvlog_buffer_summary {
    enum hvlog_abi_profile convention;
    uint32_t type;
    uint32_t buffer_index;
    uint32_t buffer_bytes;   /* whole buffer, header included */
    uint32_t data_end;       /* NextBufferOffset from the buffer start */
    uint32_t events_lost;
    uint32_t state;
    uint32_t next_buffer_index;
    uint32_t logical_processor;
    uint32_t lp_sequence_number; /* current convention only; 0 otherwise */
    uint64_t time_stamp;     /* when the buffer went InUse, 100 ns */
    /* Entries in the buffer: set by hvlog_buffer_walk once every entry
     * passed its check (the one count of them, whatever the callback);
     * 0 from hvlog_buffer_summarize, which reads the header only. */
    uint32_t entries;
};

/* One entry, decoded. payload points into the walked bytes. */
struct hvlog_entry {
    uint32_t log_type;
    uint32_t buffer_index;
    uint32_t logical_processor;
    uint32_t offset;        /* from the buffer start */
    uint16_t entry_type;
    uint16_t size;          /* as written: header + data (+ padding: always in 2013,
                             * optional in the current convention, D10) */
    uint32_t context;
    uint64_t time_stamp;    /* in the group's time basis */
    const uint8_t *payload; /* size - 16 bytes: what Size covers, never padding it leaves out */
    uint32_t payload_len;
};

/* Why a buffer was rejected. */
enum hvlog_walk_error {
    HVLOG_WALK_OK = 0,
    HVLOG_WALK_SHORT,          /* fewer bytes than the header, or than BufferSize */
    HVLOG_WALK_BAD_SIZE,       /* BufferSize not a page multiple in 1..512 pages */
    HVLOG_WALK_BAD_OFFSET,     /* NextBufferOffset outside [header, BufferSize] */
    HVLOG_WALK_BAD_TYPE,       /* Type is not the one expected */
    HVLOG_WALK_BAD_INDEX,      /* BufferIndex is not the one expected */
    HVLOG_WALK_BAD_STATE,      /* BufferState is not the one expected */
    HVLOG_WALK_BAD_ENTRY_SIZE, /* an entry smaller than 16, not a multiple of 8, or past the end */
    HVLOG_WALK_SIZE_MISMATCH,  /* BufferSize is valid but not the expected buffer_bytes */
};

/** hvlog_walk_error_text - one line of English for @err. */
HVLOG_API const char *hvlog_walk_error_text(enum hvlog_walk_error err);

/* What the caller expects of a buffer; UINT32_MAX in a field = anything. */
struct hvlog_walk_expect {
    uint32_t type;
    uint32_t buffer_index;
    uint32_t state;
    uint32_t buffer_bytes;
};
#define HVLOG_WALK_EXPECT_ANY {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX}

/**
 * hvlog_buffer_summarize - read and check a buffer's header.
 * @bytes/@len: the buffer (at least its header): in the view, copied, or read from a file.
 * @convention: how to read BufferSize and NextBufferOffset.
 * Returns HVLOG_WALK_OK and fills @out, or the first problem found.
 */
HVLOG_API enum hvlog_walk_error hvlog_buffer_summarize(const uint8_t *bytes, size_t len,
                                                       enum hvlog_abi_profile convention,
                                                       const struct hvlog_walk_expect *expect,
                                                       struct hvlog_buffer_summary *out);

/**
 * hvlog_header_convention_guess - tell the 2013 and current conventions
 * apart from the bytes (D9): in 2013 BufferSize is a page multiple and
 * NextBufferOffset >= 72; in the current one BufferSize + 72 is. Returns
 * the convention, or -1 when the header fits neither.
 */
HVLOG_API int hvlog_header_convention_guess(const uint8_t *bytes, size_t len);

/* Called once per entry; return false to stop the walk. */
typedef bool (*hvlog_entry_fn)(void *arg, const struct hvlog_entry *entry);

/**
 * hvlog_buffer_walk - check a buffer and hand each entry of
 * [header, NextBufferOffset) to @fn, in order. The whole buffer is checked
 * before the first callback, so a corrupt buffer yields no entries at all.
 * Returns HVLOG_WALK_OK, or the first problem found. @summary (may be NULL)
 * receives the header.
 */
HVLOG_API enum hvlog_walk_error hvlog_buffer_walk(const uint8_t *bytes, size_t len,
                                                  enum hvlog_abi_profile convention,
                                                  const struct hvlog_walk_expect *expect,
                                                  struct hvlog_buffer_summary *summary,
                                                  hvlog_entry_fn fn, void *arg);

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_WALK_H */
