/* SPDX-License-Identifier: MIT */
/*
 * A minimal root driver for the sim tests: the nine calls with real input
 * values (fast registers, or input/output blocks in the root's scratch
 * pages), the GPA pages Map returns, and the §8.5 message handler
 * sequence. Only what a root can touch: hypercalls, its RAM, the
 * read-only view, its SIM page and MSRs. (The real root client is the
 * client layer; these tests must not depend on it.)
 */
#ifndef HVLOG_TESTS_SIM_ROOT_H
#define HVLOG_TESTS_SIM_ROOT_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"

/* A status helper's answer when the call raised a memory intercept. */
#define ROOT_INTERCEPT 0xFFFFu

struct sim_root {
    struct hvlog_sim *sim;
    uint32_t vp;                                   /* calls are issued from this root VP */
    uint32_t pages[HVLOG_TYPE_COUNT];              /* BufferPages of each initialized group */
    uint64_t gpa[HVLOG_TYPE_COUNT][HV_EVENTLOG_MAX_BUFFER_COUNT]; /* page 0's GPA, 0 = unmapped */
};

/* A message taken out of a slot. */
struct root_msg {
    uint32_t message_type;
    uint8_t payload_size;
    bool pending;      /* MessagePending was set: EOM was written */
    uint64_t sender;
    uint32_t type;     /* payload: EventLogType */
    uint32_t index;    /* payload: first buffer of the Ready list */
};

void root_attach(struct sim_root *r, struct hvlog_sim *sim);
/* Fast call {Type, Index} (+ R8); returns the status or ROOT_INTERCEPT. */
hv_status_t root_fast(struct sim_root *r, uint16_t code, uint32_t type, uint32_t index, uint64_t r8);
hv_status_t root_init(struct sim_root *r, uint32_t type, uint32_t count, uint32_t pages,
                      uint32_t threshold, uint32_t basis);
hv_status_t root_create(struct sim_root *r, uint32_t type, uint32_t index, uint32_t domain,
                        uint32_t flags);
/* Map, input at scratch page 0, output at scratch page 1 (or at @out_gpa
 * when not 0); records the GPA pages and checks they are consecutive. */
hv_status_t root_map_at(struct sim_root *r, uint32_t type, uint32_t index, uint64_t in_gpa,
                        uint64_t out_gpa);
hv_status_t root_map(struct sim_root *r, uint32_t type, uint32_t index);
hv_status_t root_unmap(struct sim_root *r, uint32_t type, uint32_t index);
hv_status_t root_sources(struct sim_root *r, uint32_t type, uint64_t mask);
/* Create + map @count buffers 0..count-1, spread over the domains. */
void root_prepare(struct sim_root *r, uint32_t type, uint32_t count, uint32_t pages,
                  uint32_t threshold);
/* The buffer as the root sees it (read-only view), NULL when unmapped. */
const uint8_t *root_buffer(struct sim_root *r, uint32_t type, uint32_t index);
uint32_t root_state(struct sim_root *r, uint32_t type, uint32_t index);

/* §8.5 handler: take the message in VP @vp's SINT0 slot, if any: copy it,
 * clear MessageType, write EOM if MessagePending. */
bool root_take_message(struct hvlog_sim *sim, uint32_t vp, struct root_msg *out);

/* Called for each buffer of a Ready list (header decoded), then for each
 * of its entries; either may be NULL. */
struct root_reader {
    void (*on_buffer)(void *ctx, uint32_t type, const struct hv_eventlog_buffer_header *h);
    void (*on_entry)(void *ctx, uint32_t type, const struct hv_eventlog_buffer_header *h,
                     const struct hv_eventlog_entry_header *e, const uint8_t *data);
    void *ctx;
};

/* §8.6: walk the Ready list of @type from @first through the read-only
 * view, checking every header and entry (index range, no repeats, state
 * Ready, entries inside [72, NextBufferOffset), sizes >= 16 and multiples
 * of 8), then release every buffer. Returns the buffers walked. */
uint32_t root_consume_list(struct sim_root *r, uint32_t type, uint32_t first,
                           const struct root_reader *reader);
/* Take the message of every VP's slot, if any, and consume its list.
 * Returns the messages taken. */
uint32_t root_drain(struct sim_root *r, const struct root_reader *reader);

/* The seed a stress test runs with: HVLOG_SIM_SEED from the environment
 * (any base strtoull reads), else @fallback. Tests print it first. */
uint64_t root_seed(uint64_t fallback);

/* Run @fn(@p) in a forked child; returns the signal that ended it, or 0.
 * The child dies of the default action (no sanitizer report), so a test
 * can check that a store through the read-only view faults. Call it with
 * no LP threads running. */
int root_child_signal(void (*fn)(const volatile uint8_t *), const volatile uint8_t *p);
/* For root_child_signal: one store, one load. */
void root_store_one(const volatile uint8_t *p);
void root_load_one(const volatile uint8_t *p);

#endif /* HVLOG_TESTS_SIM_ROOT_H */
