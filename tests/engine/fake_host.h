/* SPDX-License-Identifier: MIT */
/*
 * A small deterministic host for engine tests: a page pool per domain with
 * exact accounting, flat guest memory per partition, a message FIFO per root
 * VP, a step clock, fault injection, and helpers that issue hypercalls the
 * way a root would (real input values, fast registers or input pages).
 *
 * Single-threaded unless a test installs its own run_on_lp.
 *
 * Both ABI profiles (spec §11, §12.1 abi_profile). Every suite runs once per
 * profile: HVLOG_TEST_ABI=current in the environment (tests/engine/
 * CMakeLists.txt registers each executable twice) makes fake_profile_default()
 * - and so every fake_host_init(..., NULL) - use the current profile. The
 * call helpers then encode each call in the layout of the engine's profile
 * (fake_encode), and the header helpers know where NextBufferOffset counts
 * from and what BufferSize holds (§4.4 vs §11.4, D9).
 */
#ifndef HVLOG_TESTS_FAKE_HOST_H
#define HVLOG_TESTS_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/engine/engine.h"
#include "hvlog/engine/log.h"
#include "hvlog/hvlog.h"

#define FAKE_ROOT_ID 1ull
#define FAKE_CHILD_ID 2ull
#define FAKE_MAX_DOMAINS 4u
#define FAKE_MAX_VPS 16u
#define FAKE_QUEUE_DEPTH 64u
#define FAKE_GUEST_PAGES 16u /* GPA space of each partition: 16 pages */

/* Well-known GPAs inside the root's space. */
#define FAKE_IN_GPA 0x1000ull  /* input page */
#define FAKE_OUT_GPA 0x2000ull /* output page */
#define FAKE_RO_GPA 0x3000ull  /* readable, not writable: a write faults */
#define FAKE_NOACCESS_GPA 0x4000ull /* unreadable: any access faults */

struct fake_host {
    struct hvlog_engine *engine;
    enum hvlog_abi_profile abi; /* the engine's profile */
    struct hvlog_logger *logger;
    struct hvlog_host_ops ops;

    /* pool: pages available per domain; page allocations outstanding */
    uint32_t domains;
    int64_t pool_free[FAKE_MAX_DOMAINS];
    uint32_t allocs_outstanding;
    int fail_alloc_after;   /* fail the k-th next allocation (1 = next); 0 = never */
    int fail_overlay_after; /* likewise for overlay_map */
    int refuse_post_after;  /* likewise for post_message */
    int fail_write_after;   /* likewise for gpa_write, after its own probe passed */
    uint32_t overlays_mapped;

    /* guest memory, flat per partition */
    uint8_t root_mem[FAKE_GUEST_PAGES * 4096];
    uint8_t child_mem[FAKE_GUEST_PAGES * 4096];

    /* messages: FIFO per VP of posted message pointers; copies as delivered */
    const struct hv_message *queue[FAKE_MAX_VPS][FAKE_QUEUE_DEPTH];
    uint64_t queue_token[FAKE_MAX_VPS][FAKE_QUEUE_DEPTH]; /* post_message's tokens */
    uint32_t queue_len[FAKE_MAX_VPS];
    bool vp_ineligible[FAKE_MAX_VPS];
    bool deliver_immediately; /* post answers DELIVERED (copied into a slot) */
    uint32_t posts;
    uint32_t withdrawals;

    uint64_t now;   /* reference time; advances by 1 on every read */
    /* Called (once, then cleared) from the next clock read: the clock is
     * read inside hvlog_log(), so this stands for an interrupt landing there. */
    void (*on_clock)(struct fake_host *h);
    enum hvlog_log_result nested_result; /* what the test's interrupt got */
    /* warn hook (HVLOG_BUG_ON): calls, and the last one's arguments */
    uint32_t warnings, last_warning_type;
    const char *last_warning;
    uint32_t lp_domain[HVLOG_MAX_LPS > 64 ? 64 : HVLOG_MAX_LPS];
};

/* The profile the suites run under: HVLOG_TEST_ABI=current or 2013 (unset:
 * 2013). Anything else aborts, so a typo cannot silently test 2013 twice. */
enum hvlog_abi_profile fake_test_abi(void);
/* hvlog_profile_preset(fake_test_abi()): what a test that tunes knobs
 * starts from (under the current profile, release_from_complete is on). */
struct hvlog_profile fake_profile_default(void);
/* Name of a profile for messages: "2013" or "current". */
const char *fake_abi_name(enum hvlog_abi_profile abi);

/* Create @h with an engine of @lps LPs (root VPs = LPs), @domains domains,
 * @pool_pages pages per domain, and @profile (NULL = fake_profile_default()).
 * Limits of the fake: messages reach VPs < FAKE_MAX_VPS only (a higher VP is
 * ineligible, so §8.4 falls back to VP 0); LPs >= 64 are in domain 0.
 * Returns 0. */
int fake_host_init(struct fake_host *h, uint32_t lps, uint32_t domains, int64_t pool_pages,
                   const struct hvlog_profile *profile);
void fake_host_fini(struct fake_host *h);

/* Pool pages in use (allocated and not freed), all domains. */
int64_t fake_pool_used(const struct fake_host *h);

/* -- hypercalls as a root would issue them -- */

/* Raw: returns the HV_STATUS from RAX; *outcome (if not NULL) gets the outcome. */
hv_status_t fake_call(struct fake_host *h, uint64_t partition, uint32_t vp, uint64_t rcx,
                      uint64_t rdx, uint64_t r8, enum hvlog_hypercall_outcome *outcome);
/* Fast call of @code with @len input bytes, as the root on VP 0. */
hv_status_t fake_fast(struct fake_host *h, uint16_t code, const void *input, uint32_t len);
/* Memory call: input copied to FAKE_IN_GPA; output at FAKE_OUT_GPA. */
hv_status_t fake_mem(struct fake_host *h, uint16_t code, const void *input, uint32_t len);

/*
 * The input of @code in the layout of profile @abi (a host's h->abi), from the 2013 words @w
 * (the §5 input as little-endian u32s, as the status tables write them).
 * Returns the input length; @bytes must hold FAKE_INPUT_MAX. The 2013
 * profile copies the words. The current one (§11) rewrites:
 *   Init (§11.1): bytes 0..3 as given (Type u16 + Mode u16: a 2013 Type < 2^16
 *     is Mode 0), Count, BufferSizeInBytes = Pages x 4096 (u32, wraps),
 *     Threshold, TimeBasis, SystemTime (w[6], w[7]) @20, and the 2013 padding
 *     word w[5] in the ignored bytes 28..31 of the padded 32-byte block;
 *   Map, Unmap (§11.2): Type, Index, then PartitionId = HV_PARTITION_ID_SELF;
 *   SetSources (§11.3): the 16 bytes as given (padding = GroupCount, mask =
 *     ConfigurationFlags), then two zeroed group configurations: 544 bytes.
 * Every other call is the same in both profiles.
 */
#define FAKE_INPUT_MAX 544u
uint32_t fake_encode(enum hvlog_abi_profile abi, uint16_t code, const uint32_t w[8],
                     uint8_t *bytes);
/* The input length of @code in profile @abi (fake_encode's return value). */
uint32_t fake_input_len(enum hvlog_abi_profile abi, uint16_t code);
/* The profile's canonical convention for @code (the ABI call table, D23):
 * true = memory form. SetSources is memory in the current profile. */
bool fake_canonical_memory(const struct fake_host *h, uint16_t code);
/* @code with the 2013 words @w, encoded by fake_encode and issued in the
 * profile's canonical form, as the root on VP 0. */
hv_status_t fake_issue(struct fake_host *h, uint16_t code, const uint32_t w[8]);

/* The nine calls in the canonical form of the engine's profile, as the root on VP 0. */
hv_status_t fake_init(struct fake_host *h, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint32_t basis);
/* Current profile (§11.1): Initialize with a Mode (HvEventLogModeRegular /
 * Circular). Under the 2013 profile Mode lands in the high half of Type, which
 * is the truthful answer (INVALID_PARAMETER) for a Mode != 0. */
hv_status_t fake_init_mode(struct fake_host *h, uint32_t type, uint32_t mode, uint32_t count,
                           uint32_t pages, uint32_t threshold, uint32_t basis);
hv_status_t fake_finalize(struct fake_host *h, uint32_t type);
hv_status_t fake_create(struct fake_host *h, uint32_t type, uint32_t index, uint32_t prox_id,
                        uint32_t prox_flags);
hv_status_t fake_delete(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_map(struct fake_host *h, uint32_t type, uint32_t index, uint64_t *gpa_pages);
hv_status_t fake_unmap(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_sources(struct fake_host *h, uint32_t type, uint64_t mask);
hv_status_t fake_release(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_flush(struct fake_host *h, uint32_t type, uint32_t index);
hv_status_t fake_flush_from(struct fake_host *h, uint32_t vp, uint32_t type, uint32_t index);

/* Every source a legacy mask can name in both profiles: all bits but bit 0,
 * which the current SetSources reads as the "extended" flag (§11.3, D5). */
#define FAKE_ALL_SOURCES (~0ull & ~1ull)

/* Init + create + map buffers 0..count-1 + enable @mask: a ready group. */
void fake_setup_group(struct fake_host *h, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint64_t mask);

/* Log one event with a payload of @len bytes of a pattern derived from @seq. */
enum hvlog_log_result fake_log(struct fake_host *h, uint32_t lp, uint32_t type, uint32_t len,
                               uint32_t seq);

/* -- messages -- */

/* Take the oldest message queued to @vp (copying it, as SynIC does) and tell
 * the engine its buffer is free. Returns false when none. */
bool fake_take_message(struct fake_host *h, uint32_t vp, uint32_t *type, uint32_t *index);
/* The first half of fake_take_message: copy the oldest message queued to
 * @vp and its token, as SynIC copies it into the slot, without telling the
 * engine yet (a delivery in flight). Returns false when none. */
bool fake_copy_message(struct fake_host *h, uint32_t vp, struct hv_message *copy, uint64_t *token);
/* Messages queued to @vp. */
uint32_t fake_queued(const struct fake_host *h, uint32_t vp);

/* -- buffers -- */

uint32_t fake_state(struct fake_host *h, uint32_t type, uint32_t index); /* 0xFF: none */
/* The 72 header bytes read with the 2013 layout (§4.4), whatever the profile. */
struct hv_eventlog_buffer_header fake_header(struct fake_host *h, uint32_t type, uint32_t index);
/* The same bytes read with the current layout (§11.4). */
struct hv_eventlog_buffer_header_current fake_header_current(struct fake_host *h, uint32_t type,
                                                             uint32_t index);

/* -- the header conventions of the two profiles (§4.4 vs §11.4, D9) -- */

static inline bool fake_current(const struct fake_host *h)
{
    return h->abi == HVLOG_ABI_CURRENT;
}
/* Where NextBufferOffset counts from: the buffer start (2013, §4.4) or the
 * end of the 72-byte header (current, §11.4). */
static inline uint32_t fake_offset_base(const struct fake_host *h)
{
    return fake_current(h) ? HV_EVENTLOG_BUFFER_HEADER_SIZE : 0;
}
/* The NextBufferOffset a header holds once @data_bytes bytes of entries are
 * written: 72 + n in the 2013 profile, n in the current one. */
static inline uint32_t fake_next_offset(const struct fake_host *h, uint32_t data_bytes)
{
    return HV_EVENTLOG_BUFFER_HEADER_SIZE - fake_offset_base(h) + data_bytes;
}
/* Bytes of entries a header says were written. */
static inline uint32_t fake_data_bytes(const struct fake_host *h,
                                       const struct hv_eventlog_buffer_header *hd)
{
    return hd->next_buffer_offset + fake_offset_base(h) - HV_EVENTLOG_BUFFER_HEADER_SIZE;
}
/* The BufferSize field of a @pages-page buffer: the whole buffer (2013) or
 * its data area, total - 72 (current). */
static inline uint32_t fake_buffer_size_field(const struct fake_host *h, uint32_t pages)
{
    return pages * HV_PAGE_SIZE - fake_offset_base(h);
}
/* LogicalProcessor: u8 @40 (2013) or u16 @40 (current, no Alignment byte). */
uint32_t fake_header_lp(struct fake_host *h, uint32_t type, uint32_t index);
/* Walk a Ready chain from @first: fills @indices (max @max); returns the count,
 * or -1 if it loops or leaves range. */
int fake_chain(struct fake_host *h, uint32_t type, uint32_t first, uint32_t *indices, int max);

/* -- a snapshot of everything observable, for "a failing call changes nothing" -- */

struct fake_snapshot {
    struct hvlog_group_info group[HVLOG_TYPE_COUNT];
    struct hvlog_buffer_info buffer[HVLOG_TYPE_COUNT][HV_EVENTLOG_MAX_BUFFER_COUNT];
    int64_t pool_free[FAKE_MAX_DOMAINS];
    uint32_t queue_len[FAKE_MAX_VPS];
    uint32_t overlays_mapped;
    uint8_t out_page[4096];
};
void fake_snapshot(struct fake_host *h, struct fake_snapshot *s);
/* 0 when equal, else a line number-ish code naming the first difference. */
int fake_snapshot_diff(const struct fake_snapshot *a, const struct fake_snapshot *b);

/* The control value of a simple call. */
static inline uint64_t fake_rcx(uint16_t code, bool fast)
{
    return code | (fast ? HV_HYPERCALL_FAST_BIT : 0);
}

#endif /* HVLOG_TESTS_FAKE_HOST_H */
