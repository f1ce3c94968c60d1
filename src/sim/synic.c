/* SPDX-License-Identifier: MIT */
/*
 * The SynIC of each root VP, as far as the ready notification needs it
 * (spec §8.4, §8.5, §4.7; [P-SIM] [P-SINT] [P-SIMP] [P-SCONTROL] [P-EOM]).
 *
 * Per VP: SCONTROL, SIMP, SIEFP, SINT0..15 and one FIFO of waiting
 * messages per SINT. The engine posts to SINT0 (post_message, called with
 * an engine lock held); the root reads the SIM page, clears the slot and
 * writes EOM (hvlog_sim_wrmsr, no engine lock held).
 *
 *   post_message   slot empty, FIFO empty  -> copy into the slot, DELIVERED
 *                  otherwise               -> FIFO (the engine's pointer, no
 *                                             copy), MessagePending in the
 *                                             slot, QUEUED
 *                  VP ineligible, FIFO full,
 *                  injected fault          -> REFUSED (retried on kick)
 *   EOM            slot empty, FIFO not    -> copy the head into the slot,
 *                                             then tell the engine its
 *                                             message buffer is free
 *
 * The slot is shared with the root without a lock, as on hardware, through
 * two atomic fields (hvlog_sim_sim_page() gives the root's side):
 *   MessageType   the SynIC fills the slot, then release-stores it; the
 *                 root acquire-loads it, copies, and stores 0 (seq_cst);
 *   MessageFlags  the SynIC sets MessagePending (seq_cst) and re-reads
 *                 MessageType; the root, after clearing MessageType, loads
 *                 MessageFlags (seq_cst) and writes EOM if pending.
 * Store-then-load on both sides (Dekker): either the SynIC sees the slot
 * empty and delivers, or the root sees MessagePending and writes EOM, so a
 * queued message never waits for nobody.
 *
 * Where the spec is silent: the SIM page is a page of the root's fixed RAM
 * (not a separate overlay), zeroed when SIMP enables it; a SINT write with
 * a vector below 16 raises #GP even when masked (the §8.5 text has no
 * exception); SIEFP is stored and never used (no event flags are signalled).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

#define SIMP_BITS (HV_SIMP_GPA_MASK | HV_SIMP_ENABLE)
#define SINT_BITS (HV_SINT_VECTOR_MASK | HV_SINT_MASKED | HV_SINT_AUTO_EOI)
#define SVERSION_VALUE 1u /* [P-SynicMsrs]: version 1 */

/* Engine types to notify after a pump, at most one per SINT. */
struct sim_delivered {
    uint64_t token[HV_SYNIC_SINT_COUNT];
    uint32_t count;
};

static bool eligible_locked(const struct sim_vp *v)
{
    return (v->scontrol & HV_SCONTROL_ENABLE) && (v->simp & HV_SIMP_ENABLE);
}

static uint8_t *sim_page_locked(struct hvlog_sim *sim, const struct sim_vp *v)
{
    if (!(v->simp & HV_SIMP_ENABLE))
        return NULL;
    return hvlog__sim_rw_of_gpa(&sim->memory, v->simp & HV_SIMP_GPA_MASK);
}

/* ---- slots ---- */

static uint32_t *slot_type(uint8_t *slot)
{
    return (uint32_t *)(void *)slot; /* slots are 256-aligned */
}

static bool slot_empty(uint8_t *slot)
{
    return __atomic_load_n(slot_type(slot), __ATOMIC_SEQ_CST) == 0;
}

static void slot_set_pending(uint8_t *slot)
{
    __atomic_fetch_or(slot + 5, (uint8_t)HV_MESSAGE_FLAG_PENDING, __ATOMIC_SEQ_CST);
}

/*
 * §8.5: copy a message into an empty slot - the header and PayloadSize
 * bytes of payload only, so older bytes may remain past them - and raise
 * the SINT's interrupt unless it is masked. @more: others still wait.
 */
static void slot_fill(struct hvlog_sim *sim, struct sim_vp *v, uint32_t sint, uint8_t *slot,
                      const struct hv_message *msg, bool more)
{
    const uint8_t *src = (const uint8_t *)msg;
    uint8_t size = hvlog_load_le8(src + 4);
    uint8_t flags = (uint8_t)(hvlog_load_le8(src + 5) & ~HV_MESSAGE_FLAG_PENDING);

    if (size > HV_MESSAGE_PAYLOAD_BYTES)
        size = HV_MESSAGE_PAYLOAD_BYTES;
    memcpy(slot + HV_MESSAGE_HEADER_SIZE, src + HV_MESSAGE_HEADER_SIZE, size);
    hvlog_store_le8(slot + 4, size);
    memcpy(slot + 6, src + 6, 10); /* Reserved, Sender */
    if (more)
        flags |= HV_MESSAGE_FLAG_PENDING;
    __atomic_store_n(slot + 5, flags, __ATOMIC_SEQ_CST);
    /* Last: the root acquires MessageType, then reads the rest. */
    __atomic_store_n(slot_type(slot), hvlog_load_le32(src), __ATOMIC_RELEASE);
    if (!(v->sint[sint] & HV_SINT_MASKED)) {
        v->interrupts[sint]++;
        /* The host's interrupt controller: under the VP lock, so edges
         * reach it in the order the slot saw them. */
        if (v->hook)
            v->hook(v->hook_ctx, (uint32_t)(v - sim->vps), sint,
                    (uint8_t)(v->sint[sint] & HV_SINT_VECTOR_MASK), msg);
    }
}

/* ---- FIFOs ---- */

static void fifo_push(struct sim_fifo *f, const struct hv_message *msg, uint64_t token)
{
    /* The engine's token, for hvlog_engine_message_delivered(). */
    f->q[(f->head + f->len) % SIM_FIFO_DEPTH] = (struct sim_queued){.msg = msg, .token = token};
    f->len++;
}

static struct sim_queued fifo_pop(struct sim_fifo *f)
{
    struct sim_queued q = f->q[f->head];

    f->head = (f->head + 1) % SIM_FIFO_DEPTH;
    f->len--;
    return q;
}

/* EOM and enabling: each SINT whose slot is empty takes its FIFO's head. */
static void pump_locked(struct hvlog_sim *sim, struct sim_vp *v, struct sim_delivered *out)
{
    uint8_t *page = sim_page_locked(sim, v);

    if (!page || !eligible_locked(v))
        return;
    for (uint32_t sint = 0; sint < HV_SYNIC_SINT_COUNT; sint++) {
        struct sim_fifo *f = &v->fifo[sint];
        uint8_t *slot = page + (size_t)sint * HV_MESSAGE_SIZE;

        if (f->len && slot_empty(slot)) {
            struct sim_queued q = fifo_pop(f);
            slot_fill(sim, v, sint, slot, q.msg, f->len > 0);
            out->token[out->count++] = q.token;
        }
    }
}

/* After the VP lock is released: the copied messages' buffers are free. */
static void notify_delivered(struct hvlog_sim *sim, const struct sim_delivered *d)
{
    for (uint32_t i = 0; i < d->count; i++)
        hvlog_engine_message_delivered(sim->engine, d->token[i]);
}

/* ---- host callbacks (engine lock held: never call the engine) ---- */

enum hvlog_post_result hvlog__sim_post_message(void *ctx, uint32_t vp_index, const struct hv_message *msg,
                                               uint64_t token)
{
    struct hvlog_sim *sim = sim_of(ctx);
    enum hvlog_post_result r = HVLOG_POST_REFUSED;
    struct sim_vp *v;
    uint8_t *page;

    if (vp_index >= sim->config.lps || hvlog__sim_fault_hit(sim, HVLOG_SIM_FAULT_POST)) {
        __atomic_store_n(&sim->retry_owed, 1, __ATOMIC_RELAXED);
        return HVLOG_POST_REFUSED;
    }
    v = &sim->vps[vp_index];
    pthread_mutex_lock(&v->lock);
    page = sim_page_locked(sim, v);
    /* A VP whose SynIC or SIM is off cannot take messages (§8.4). */
    if (page && eligible_locked(v)) {
        struct sim_fifo *f = &v->fifo[HV_EVENTLOG_SINT];
        uint8_t *slot = page + (size_t)HV_EVENTLOG_SINT * HV_MESSAGE_SIZE;

        if (f->len == 0 && slot_empty(slot)) {
            slot_fill(sim, v, HV_EVENTLOG_SINT, slot, msg, false);
            r = HVLOG_POST_DELIVERED;
        } else if (f->len < SIM_FIFO_DEPTH) {
            fifo_push(f, msg, token);
            slot_set_pending(slot);
            /* Dekker with the root (head comment): it may have emptied the
             * slot before it could see MessagePending. Ours is next only
             * if nothing older waits; older messages have their EOM due. */
            if (f->len == 1 && slot_empty(slot)) {
                fifo_pop(f);
                slot_fill(sim, v, HV_EVENTLOG_SINT, slot, msg, false);
                r = HVLOG_POST_DELIVERED;
            } else {
                r = HVLOG_POST_QUEUED;
            }
        }
    }
    pthread_mutex_unlock(&v->lock);
    if (r == HVLOG_POST_REFUSED)
        __atomic_store_n(&sim->retry_owed, 1, __ATOMIC_RELAXED);
    return r;
}

/* DEC-FINMSG: the message leaves whichever FIFO holds it. */
void hvlog__sim_withdraw_message(void *ctx, uint32_t vp_index, const struct hv_message *msg)
{
    struct hvlog_sim *sim = sim_of(ctx);
    struct sim_vp *v;

    if (vp_index >= sim->config.lps)
        return;
    v = &sim->vps[vp_index];
    pthread_mutex_lock(&v->lock);
    for (uint32_t sint = 0; sint < HV_SYNIC_SINT_COUNT; sint++) {
        struct sim_fifo *f = &v->fifo[sint];
        uint32_t kept = 0, len = f->len;

        /* Rebuild the FIFO in order without @msg. */
        for (uint32_t i = 0; i < len; i++) {
            struct sim_queued q = f->q[(f->head + i) % SIM_FIFO_DEPTH];
            if (q.msg != msg)
                f->q[(f->head + kept++) % SIM_FIFO_DEPTH] = q;
        }
        f->len = kept;
    }
    pthread_mutex_unlock(&v->lock);
}

bool hvlog__sim_vp_eligible(void *ctx, uint32_t vp_index)
{
    struct hvlog_sim *sim = sim_of(ctx);
    bool eligible;

    if (vp_index >= sim->config.lps)
        return false;
    pthread_mutex_lock(&sim->vps[vp_index].lock);
    eligible = eligible_locked(&sim->vps[vp_index]);
    pthread_mutex_unlock(&sim->vps[vp_index].lock);
    return eligible;
}

/* ---- lifetime ---- */

int hvlog__sim_synic_init(struct hvlog_sim *sim)
{
    uint32_t n = sim->config.lps;

    sim->vps = aligned_alloc(SIM_CACHE_LINE, sizeof(struct sim_vp) * n);
    if (!sim->vps)
        return -1;
    memset(sim->vps, 0, sizeof(struct sim_vp) * n);
    for (uint32_t i = 0; i < n; i++) {
        struct sim_vp *v = &sim->vps[i];

        pthread_mutex_init(&v->lock, NULL); /* default attributes: cannot fail */
        for (uint32_t s = 0; s < HV_SYNIC_SINT_COUNT; s++)
            v->sint[s] = HV_SINT_RESET_VALUE; /* §8.5: masked at reset */
    }
    return 0;
}

void hvlog__sim_synic_fini(struct hvlog_sim *sim)
{
    if (!sim->vps)
        return;
    for (uint32_t i = 0; i < sim->config.lps; i++)
        pthread_mutex_destroy(&sim->vps[i].lock);
    free(sim->vps);
    sim->vps = NULL;
}

uint64_t hvlog__sim_synic_default_simp(const struct hvlog_sim *sim, uint32_t vp)
{
    (void)sim;
    /* Domain 0's fixed RAM, after page 0 and the scratch pages. */
    return (1ull + HVLOG_SIM_ROOT_SCRATCH_PAGES + vp) * SIM_PAGE;
}

void hvlog__sim_synic_pump_all(struct hvlog_sim *sim)
{
    for (uint32_t i = 0; i < sim->config.lps; i++) {
        struct sim_delivered d = {.count = 0};

        pthread_mutex_lock(&sim->vps[i].lock);
        pump_locked(sim, &sim->vps[i], &d);
        pthread_mutex_unlock(&sim->vps[i].lock);
        notify_delivered(sim, &d);
    }
}

/* ---- MSRs ---- */

/* One MSR write under the VP lock; -1 = #GP, nothing changed. */
static int wrmsr_locked(struct hvlog_sim *sim, struct sim_vp *v, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        v->scontrol = value & HV_SCONTROL_ENABLE;
        return 0;
    case HV_X64_MSR_SIMP:
        if (value & HV_SIMP_ENABLE) {
            uint64_t gpa = value & HV_SIMP_GPA_MASK;

            if (!hvlog__sim_fixed_ram(&sim->memory, gpa, SIM_PAGE))
                return -1;
            /* §8.5: a SIM page appears zeroed. */
            if (!(v->simp & HV_SIMP_ENABLE) || (v->simp & HV_SIMP_GPA_MASK) != gpa)
                memset(hvlog__sim_rw_of_gpa(&sim->memory, gpa), 0, SIM_PAGE);
        }
        v->simp = value & SIMP_BITS;
        return 0;
    case HV_X64_MSR_SIEFP:
        v->siefp = value & SIMP_BITS;
        return 0;
    case HV_X64_MSR_EOM: /* the pump after every write is its effect */
        return 0;
    default:
        if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) {
            if ((value & HV_SINT_VECTOR_MASK) < HV_SINT_VECTOR_MIN)
                return -1;
            v->sint[msr - HV_X64_MSR_SINT0] = value & SINT_BITS;
            return 0;
        }
        return -1; /* unknown, or SVERSION (read-only) */
    }
}

int hvlog_sim_wrmsr(struct hvlog_sim *sim, uint32_t vp, uint32_t msr, uint64_t value)
{
    struct sim_delivered d = {.count = 0};
    struct sim_vp *v;
    bool became_eligible = false;
    int rc;

    if (vp >= sim->config.lps)
        return -1;
    v = &sim->vps[vp];
    pthread_mutex_lock(&v->lock);
    {
        bool was = eligible_locked(v);

        rc = wrmsr_locked(sim, v, msr, value);
        if (rc == 0) {
            became_eligible = !was && eligible_locked(v);
            pump_locked(sim, v, &d);
        }
    }
    pthread_mutex_unlock(&v->lock);
    /* No lock held: the engine may post again from these calls. */
    notify_delivered(sim, &d);
    if (became_eligible)
        hvlog_engine_kick(sim->engine); /* §8.4: retry what found no VP */
    else
        hvlog__sim_retry_if_owed(sim);
    return rc;
}

int hvlog_sim_rdmsr(struct hvlog_sim *sim, uint32_t vp, uint32_t msr, uint64_t *value)
{
    struct sim_vp *v;
    int rc = 0;

    if (vp >= sim->config.lps || !value)
        return -1;
    v = &sim->vps[vp];
    pthread_mutex_lock(&v->lock);
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        *value = v->scontrol;
        break;
    case HV_X64_MSR_SVERSION:
        *value = SVERSION_VALUE;
        break;
    case HV_X64_MSR_SIEFP:
        *value = v->siefp;
        break;
    case HV_X64_MSR_SIMP:
        *value = v->simp;
        break;
    case HV_X64_MSR_EOM:
        *value = 0; /* write-only trigger */
        break;
    default:
        if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15)
            *value = v->sint[msr - HV_X64_MSR_SINT0];
        else
            rc = -1;
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}

uint64_t hvlog_sim_synic_enable(struct hvlog_sim *sim, uint32_t vp, uint8_t vector)
{
    uint64_t gpa = hvlog__sim_synic_default_simp(sim, vp);

    if (vp >= sim->config.lps ||
        hvlog_sim_wrmsr(sim, vp, HV_X64_MSR_SIMP, gpa | HV_SIMP_ENABLE) != 0 ||
        hvlog_sim_wrmsr(sim, vp, HV_X64_MSR_SINT0 + HV_EVENTLOG_SINT, vector) != 0 ||
        hvlog_sim_wrmsr(sim, vp, HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE) != 0)
        return 0;
    return gpa;
}

uint8_t *hvlog_sim_sim_page(struct hvlog_sim *sim, uint32_t vp)
{
    uint8_t *page;

    if (vp >= sim->config.lps)
        return NULL;
    pthread_mutex_lock(&sim->vps[vp].lock);
    page = sim_page_locked(sim, &sim->vps[vp]);
    pthread_mutex_unlock(&sim->vps[vp].lock);
    return page;
}

uint64_t hvlog_sim_sint_interrupts(struct hvlog_sim *sim, uint32_t vp)
{
    uint64_t n;

    if (vp >= sim->config.lps)
        return 0;
    pthread_mutex_lock(&sim->vps[vp].lock);
    n = sim->vps[vp].interrupts[HV_EVENTLOG_SINT];
    pthread_mutex_unlock(&sim->vps[vp].lock);
    return n;
}

int hvlog_sim_set_sint_hook(struct hvlog_sim *sim, uint32_t vp, hvlog_sim_sint_hook fn, void *ctx)
{
    if (vp >= sim->config.lps)
        return -1;
    pthread_mutex_lock(&sim->vps[vp].lock);
    sim->vps[vp].hook = fn;
    sim->vps[vp].hook_ctx = ctx;
    pthread_mutex_unlock(&sim->vps[vp].lock);
    return 0;
}
