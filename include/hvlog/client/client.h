/* SPDX-License-Identifier: MIT */
/*
 * The root-side client: what a root partition's driver does with the
 * event-log hypercalls (spec §9), as a library.
 *
 * It reaches the hypervisor only as a root driver would: hypercalls with
 * real input values (fast registers, or input blocks in its own pages), the
 * read-only view of mapped buffers, and the SynIC message page of its VPs.
 * The caller binds those to a hypervisor through struct hvlog_root_ops (the
 * simulated host in hvlog; real hardware in a port).
 *
 * Nothing read from the hypervisor is trusted: ready lists are walked with
 * index, cycle and repeat checks, each buffer is checked (header and every
 * entry) before anything is handed out, and a corrupt buffer is reported
 * and skipped. A Ready buffer is read in place in the read-only view: it
 * is stable until the root releases it (spec §6.3), so nothing is copied
 * (only a buffer whose pages are scattered in the view is, into one span).
 *
 * It speaks either ABI profile (spec §11), chosen at create time: the 2013
 * input layouts and header convention, or the current ones, encoded as
 * today's Linux root driver does (research real-clients.md §1.1):
 *
 *   call         2013                        current
 *   Initialize   memory, 32 bytes            memory, 28 bytes packed (Type u16,
 *                                            Mode u16, BufferSizeInBytes, SystemTime @20)
 *   Create       fast, 16                    fast, 16
 *   Map          memory, {Type, Index} 8     memory, {Type, Index, PartitionId SELF} 16
 *   Unmap        fast, 8                     fast, 16: PartitionId SELF in R8
 *   SetSources   fast, 16                    memory, 544 (GroupCount 0, flags = mask)
 *   Release, Flush, Delete, Finalize         fast, 8 in both
 *
 * and it reads buffer headers with the profile's convention (D9, §11.4).
 *
 * Threads: one client is used by one thread at a time.
 */
#ifndef HVLOG_CLIENT_CLIENT_H
#define HVLOG_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/calls.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/root.h"
#include "hvlog/abi/status.h"
#include "hvlog/trace/walk.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

struct hvlog_client;

struct hvlog_client_config {
    const struct hvlog_root_ops *ops;
    void *ctx;
    /* The hypervisor's ABI profile (0 = HVLOG_ABI_2013): how every
     * call is encoded and how buffer headers read. It must be the one the
     * hypervisor runs; nothing in the ABI lets a root find out. */
    enum hvlog_abi_profile abi;
    /* On INSUFFICIENT_MEMORY: deposit what the call needs and retry, at
     * most this many times per call (default 3 when 0). */
    uint32_t deposit_retries;
    /* Where the client's memory comes from (its state, one 2 MiB copy
     * buffer, and one page list per mapped buffer), called with @ctx from
     * create/init, add_buffer/prepare (may sleep) and given back from
     * remove_buffer/conclude/destroy. hvlog_client_create: both NULL =
     * calloc/free. hvlog_client_init: both required. */
    void *(*mem_alloc)(void *ctx, size_t bytes);
    void (*mem_free)(void *ctx, void *memory);
};

/**
 * hvlog_client_create - a client over @config->ops (hosted: with no
 * mem_alloc/mem_free it takes memory from calloc/free). Returns 0, or -1
 * for a bad config or no memory.
 */
HVLOG_API int hvlog_client_create(const struct hvlog_client_config *config,
                                  struct hvlog_client **out);
/**
 * hvlog_client_init - the same with the memory hooks required: the entry
 * a freestanding root (no libc: the KVM host's guest root) calls. The
 * client code it links needs nothing but memcpy/memset/memmove/memcmp
 * (tests/client/check-client-freestanding.sh).
 */
HVLOG_API int hvlog_client_init(const struct hvlog_client_config *config,
                                struct hvlog_client **out);
HVLOG_API void hvlog_client_destroy(struct hvlog_client *client);

/* A group as the root wants it (§9 Prepare). */
struct hvlog_group_params {
    uint32_t type;
    uint32_t buffer_count;  /* MaximumBufferCount */
    uint32_t buffer_pages;  /* sent as pages (2013) or pages x 4096 bytes (current) */
    uint32_t threshold;
    uint32_t time_basis;    /* HV_EVENTLOG_ENTRY_TIME_BASIS; QPC (2) is current only */
    uint64_t system_time;   /* 100 ns wall clock; the decoders' anchor */
    uint32_t create_count;  /* buffers created and mapped now (0 = all) */
    uint32_t mode;          /* §11.1 enum hv_eventlog_mode: Regular (0) or Circular
                             * (1); current profile only, the 2013 layout has no Mode */
};

/**
 * hvlog_client_prepare - Initialize the group, create buffers 0..n-1
 * spread round-robin over the proximity domains (local types; global ones
 * take any domain), map each. On failure everything done is undone (unmap,
 * delete, finalize) and the failing call's status is returned. A
 * non-Regular @mode under the 2013 profile, or a @mode or @buffer_pages
 * that do not fit the current layout's fields, is INVALID_PARAMETER before
 * any call is issued.
 */
HVLOG_API hv_status_t hvlog_client_prepare(struct hvlog_client *client,
                                           const struct hvlog_group_params *params);

/** hvlog_client_set_sources - enable (mask != 0) or disable (0) logging. */
HVLOG_API hv_status_t hvlog_client_set_sources(struct hvlog_client *client, uint32_t type,
                                               uint64_t mask);

/** Add one buffer while logging (Create + Map); @domain UINT32_MAX = no preference. */
HVLOG_API hv_status_t hvlog_client_add_buffer(struct hvlog_client *client, uint32_t type,
                                              uint32_t index, uint32_t domain);
/** Remove one buffer (Unmap + Delete): it must be Free or Ready. */
HVLOG_API hv_status_t hvlog_client_remove_buffer(struct hvlog_client *client, uint32_t type,
                                                 uint32_t index);

/** Flush buffer @index of @type from root VP @vp. */
HVLOG_API hv_status_t hvlog_client_flush(struct hvlog_client *client, uint32_t vp, uint32_t type,
                                         uint32_t index);
/** Flush every mapped buffer whose header says InUse (as the Linux driver
 * does) or Complete (a list below its threshold whose LP has no InUse
 * buffer left is delivered only by a Flush naming one of its buffers). */
HVLOG_API void hvlog_client_flush_all(struct hvlog_client *client, uint32_t type);

/* What the client hands out while draining. Every member may be NULL. */
struct hvlog_client_sink {
    /* A ready-list message was taken from @vp's slot. */
    void (*message)(void *arg, uint32_t vp, uint32_t type, uint32_t first_index);
    /* A Ready buffer, checked, before it is released: the bytes exactly as
     * the hypervisor wrote them. @bytes is the read-only view itself (or
     * the client's copy of a buffer scattered in it), valid only until the
     * callback returns: keep a copy, not the pointer. */
    void (*buffer)(void *arg, const struct hvlog_buffer_summary *summary, const uint8_t *bytes,
                   size_t len);
    /* Each entry of that buffer, in order; false stops this buffer's walk. */
    bool (*entry)(void *arg, const struct hvlog_entry *entry);
    /* A buffer or chain link that failed its checks: reported, skipped. */
    void (*corrupt)(void *arg, uint32_t type, uint32_t index, const char *reason);
};

/* One message taken out of a SIM slot (hvlog_client_message_take). */
struct hvlog_root_message {
    struct hv_message_header header;
    /* The event-log payload (§8.4), read from the slot's payload bytes: it
     * means something only when header.message_type is
     * HvMessageTypeEventLogBufferComplete and header.payload_size is at
     * least HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE. */
    struct hv_eventlog_message_payload payload;
    bool pending; /* MessagePending was set: more wait, EOM is due */
};

/**
 * hvlog_client_message_take - the root handler's first steps (§8.5) on
 * SINT0's slot of root VP @vp, through @ops->message_page: when the slot
 * holds a message, copy it out into *@msg, clear its MessageType, then
 * read MessageFlags (the SynIC may set MessagePending until the slot is
 * empty) and return true. False, *@msg untouched, when the slot is empty
 * or the VP has no SIM page. The slot's two shared fields are accessed
 * atomically (MessageType acquire, then the clear and the flags sequentially
 * consistent), as the SynIC writes the slot while the root reads it.
 * Once the message is acted on, hvlog_client_message_done writes EOM.
 * The one copy of this protocol: hvlog_client_poll and `hvlog script`'s
 * msg both use it. Context: the thread that owns root VP @vp.
 */
HVLOG_API bool hvlog_client_message_take(const struct hvlog_root_ops *ops, void *ctx, uint32_t vp,
                                         struct hvlog_root_message *msg);
/**
 * hvlog_client_message_done - the handler's last step (§8.5): write EOM
 * of root VP @vp when @msg had MessagePending, so the SynIC copies the
 * next queued message into the slot. Nothing otherwise.
 */
HVLOG_API void hvlog_client_message_done(const struct hvlog_root_ops *ops, void *ctx, uint32_t vp,
                                         const struct hvlog_root_message *msg);

/**
 * hvlog_client_poll - take the ready messages waiting in SINT0 of root VP
 * @vp (§8.5 root handler: copy the message, clear the slot, act, EOM when
 * MessagePending), walk each ready list, hand buffers and entries to
 * @sink, and release every buffer of the list. Returns the number of
 * messages handled.
 */
HVLOG_API uint32_t hvlog_client_poll(struct hvlog_client *client, uint32_t vp,
                                     const struct hvlog_client_sink *sink, void *arg);

/**
 * hvlog_client_conclude - §9 Conclude: disable sources, flush what is
 * InUse, drain every VP until no mapped buffer is Ready or Complete (or
 * nothing moves any more), then unmap and delete every buffer and finalize.
 * Returns the first failing status, SUCCESS otherwise.
 */
HVLOG_API hv_status_t hvlog_client_conclude(struct hvlog_client *client, uint32_t type,
                                            const struct hvlog_client_sink *sink, void *arg);

struct hvlog_client_stats {
    uint64_t messages;
    uint64_t buffers;          /* Ready buffers read */
    uint64_t entries;
    uint64_t bytes;            /* buffer bytes read (whole buffers) */
    uint64_t data_bytes;       /* [72, NextBufferOffset) bytes read */
    uint64_t events_lost;      /* sum of EventsLost of buffers read */
    uint64_t corrupt;          /* buffers or links rejected */
    uint64_t release_failures;
    uint64_t deposits;         /* pages deposited on INSUFFICIENT_MEMORY */
    uint32_t longest_chain;
};
HVLOG_API void hvlog_client_stats(const struct hvlog_client *client, uint32_t type,
                                  struct hvlog_client_stats *out);

/**
 * hvlog_client_init_reference_time - the partition reference counter the
 * client read (root ops read_reference_time) just before it issued the
 * Initialize of group @type, in 100 ns units, to *@out (may be NULL). With
 * the SystemTime passed to that Initialize it places reference time on the
 * wall clock; it stays known after Finalize, until the next prepare. False
 * when no Initialize of @type succeeded or the ops cannot read the counter.
 */
HVLOG_API bool hvlog_client_init_reference_time(const struct hvlog_client *client, uint32_t type,
                                                uint64_t *out);

/** The GPA page numbers Map returned for (@type, @index), or NULL if not mapped. */
HVLOG_API const uint64_t *hvlog_client_buffer_pages(const struct hvlog_client *client,
                                                    uint32_t type, uint32_t index,
                                                    uint32_t *count);

/**
 * hvlog_client_call - issue one of the nine calls from root VP @vp in the
 * canonical convention of the client's profile (the calls.h row): fast
 * calls carry @input in RDX and R8 (@len <= 16), memory calls copy it to
 * the input page (@len <= 4096). @input must be laid out for that profile.
 * For Map, @out (may be NULL) receives up to @out_len output bytes.
 * Returns the status, or INVALID_PARAMETER (nothing issued) for an unknown
 * code or a @len the convention cannot carry.
 */
HVLOG_API hv_status_t hvlog_client_call(struct hvlog_client *client, uint32_t vp, uint16_t code,
                                        const void *input, uint32_t len, void *out,
                                        uint32_t out_len);

HVLOG_END_DECLS

#endif /* HVLOG_CLIENT_CLIENT_H */
