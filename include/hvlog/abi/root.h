/* SPDX-License-Identifier: MIT */
/*
 * What a root partition's driver can touch of the hypervisor: the
 * interface between a root-side client (client layer) and whatever runs it
 * (the simulated host, or a port to real hardware). An interface only: the
 * simulated host fills one (hvlog_sim_root_ops), the client consumes it.
 */
#ifndef HVLOG_ABI_ROOT_H
#define HVLOG_ABI_ROOT_H

#include <stdint.h>

/* How a root driver reaches the hypervisor. */
struct hvlog_root_ops {
    /* Issue a hypercall from root VP @vp; returns RAX. Required. */
    uint64_t (*hypercall)(void *ctx, uint32_t vp, uint64_t rcx, uint64_t rdx, uint64_t r8);
    /* Page @index (0: input blocks, 1: output blocks) of the root's own RAM:
     * returns its GPA and a writable pointer. Required. */
    uint64_t (*scratch_page)(void *ctx, uint32_t index, uint8_t **hva);
    /* The root's read-only view of [gpa, gpa + len), or NULL. Required. */
    const uint8_t *(*view)(void *ctx, uint64_t gpa, uint32_t len);
    /* The SIM page of root VP @vp (writable: the root clears MessageType),
     * or NULL when its SynIC is off. Required for polling. */
    uint8_t *(*message_page)(void *ctx, uint32_t vp);
    /* Write the EOM register of root VP @vp. Required for polling. */
    void (*eom)(void *ctx, uint32_t vp);
    /* HvDepositMemory: @pages more pages into the pool of @domain. NULL: the
     * client does not retry INSUFFICIENT_MEMORY. */
    int (*deposit)(void *ctx, uint32_t domain, uint32_t pages);
    /* The partition reference counter as root VP @vp reads it (the
     * HV_X64_MSR_TIME_REF_COUNT MSR, 0x40000020): 100 ns units, the clock
     * of header TimeStamps and reference-basis entries (spec §4.4, §4.5).
     * The client reads it just before each Initialize, so that the trace
     * can pair the SystemTime the root passed with a reference time the
     * root itself saw. NULL: unknown; the client records no anchor. */
    uint64_t (*read_reference_time)(void *ctx, uint32_t vp);
    uint32_t vp_count;     /* root VPs (and so LPs) */
    uint32_t domain_count; /* proximity domains; buffers are spread over them */
};

#endif /* HVLOG_ABI_ROOT_H */
