/* SPDX-License-Identifier: MIT */
/*
 * Child workloads: which events the LPs log (spec §4.8; issue #5 part 1).
 *
 * A workload draws rows of the ABI's entry-type catalogue
 * (HV_EVENTLOG_ENTRY_TYPE_TABLE, read through hvlog_entry_type_at): what a
 * hypervisor running child partitions records most - hypercalls, MSR, CR,
 * I/O-port and CPUID intercepts, context switches, profiler samples - for
 * LocalDiagnostics, and partition create/delete for GlobalSystemEvents.
 * If local_sources selects none of those, any catalogue row of a selected
 * group will do. SystemDiagnostics records (the ring, §11.6) have no rows:
 * they are the sim's own HVLOG_SIM_DIAG_ENTRY_TYPE (hvlog/sim/sim.h).
 *
 * An entry's payload is one little-endian u64 per parameter name of its
 * row (hvlog's choice, docs/engine.md), with values a guest could have
 * produced, then the extra bytes hvlog_sim_extra_byte(Context, k).
 *
 * Randomness: one splitmix64 stream per LP, seeded from the sim's seed and
 * the LP index, so that a lock-step run is reproducible exactly.
 */
#include <string.h>

#include "sim/sim_internal.h"

/* What a parameter's value looks like, by its catalogue name. */
enum sim_param {
    PARAM_RANDOM = 0, /* any u64: values, offsets, counts */
    PARAM_RIP,
    PARAM_MSR,
    PARAM_CR,
    PARAM_PORT,
    PARAM_EAX,
    PARAM_ECX,
    PARAM_PARTITION,
    PARAM_THREAD,
    PARAM_INPUT_VALUE,
    PARAM_STATUS,
    PARAM_VECTOR,
};

static const struct {
    const char *name;
    enum sim_param kind;
} param_names[] = {
    {"rip", PARAM_RIP},
    {"msr_index", PARAM_MSR},
    {"cr", PARAM_CR},
    {"port", PARAM_PORT},
    {"eax", PARAM_EAX},
    {"ecx", PARAM_ECX},
    {"partition_id", PARAM_PARTITION},
    {"thread_id", PARAM_THREAD},
    {"input_value", PARAM_INPUT_VALUE},
    {"status", PARAM_STATUS},
    {"vector", PARAM_VECTOR},
};

/* The mix a child workload produces (issue #5). */
static const uint16_t local_mix[] = {
    HV_TR_HC_HYPERCALL,     HV_TR_IM_MSR_READ,     HV_TR_IM_MSR_WRITE,
    HV_TR_IM_CR_READ,       HV_TR_IM_CR_WRITE,     HV_TR_IM_CPUID,
    HV_TR_IM_IO_PORT_READ,  HV_TR_IM_IO_PORT_WRITE, HV_TR_SCH_CONTEXT_SWITCH,
    HV_TR_SCH_PROFILER_SAMPLE,
};
static const uint16_t global_mix[] = {HV_EVENTLOG_PARTITION_CREATED, HV_EVENTLOG_PARTITION_DELETED};

/* Plausible values. */
static const uint32_t msrs[] = {0x10,       0x1B,       0x3A,       0x174,      0x175,
                                0x176,      0x277,      0xC0000080, 0xC0000081, 0xC0000082,
                                0xC0000100, 0x40000000, 0x40000001, 0x40000083};
static const uint16_t ports[] = {0x20, 0x21, 0x60, 0x64, 0x70, 0x71, 0x3F8, 0xCF8, 0xCFC};
static const uint32_t cpuid_leaves[] = {0x0,        0x1,        0x7,        0xB,       0xD,
                                        0x80000000, 0x80000001, 0x40000000, 0x40000001, 0x40000003};
static const uint16_t call_codes[] = {0x0002, 0x0003, 0x0008, 0x0013, 0x005C, 0x005D};
static const uint8_t crs[] = {0, 3, 4, 8};

#define PICK(table, r) ((table)[(r) % (sizeof(table) / sizeof((table)[0]))])
#define COUNT_OF(table) (sizeof(table) / sizeof((table)[0]))

/* ---- randomness ---- */

uint64_t hvlog__sim_rng_next(uint64_t *state)
{
    /* splitmix64 (Steele, Lea, Flood 2014): one add and a mix per draw. */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t hvlog__sim_rng_seed(uint64_t seed, uint32_t lp)
{
    uint64_t s = seed ^ ((uint64_t)(lp + 1) * 0xD1B54A32D192ED03ull);

    return hvlog__sim_rng_next(&s);
}

/* ---- the plan ---- */

static void row_parse(struct sim_row *row, const struct hvlog_entry_type_info *info)
{
    const char *p = info->params;

    memset(row, 0, sizeof(*row));
    row->info = info;
    while (*p && row->param_count < SIM_MAX_PARAMS) {
        size_t len = strcspn(p, ",");
        uint8_t kind = PARAM_RANDOM;

        for (size_t i = 0; i < COUNT_OF(param_names); i++) {
            if (strlen(param_names[i].name) == len && strncmp(p, param_names[i].name, len) == 0)
                kind = (uint8_t)param_names[i].kind;
        }
        row->param_kind[row->param_count++] = kind;
        p += len;
        if (*p == ',')
            p++;
    }
}

static bool in_mix(const uint16_t *mix, size_t n, uint16_t entry_type)
{
    for (size_t i = 0; i < n; i++) {
        if (mix[i] == entry_type)
            return true;
    }
    return false;
}

/* Rows of @log_type whose group is in @sources (0 = any); from @mix only,
 * or (mix NULL) any row with a group. */
static uint32_t rows_collect(struct sim_row *out, uint32_t cap, uint32_t log_type, uint64_t sources,
                             const uint16_t *mix, size_t mix_count)
{
    const struct hvlog_entry_type_info *info;
    uint32_t n = 0;

    for (size_t i = 0; (info = hvlog_entry_type_at(i)) != NULL && n < cap; i++) {
        if (info->log_type != log_type || info->group == 0)
            continue;
        if (sources && (info->group & sources) == 0)
            continue;
        if (mix && !in_mix(mix, mix_count, info->entry_type))
            continue;
        row_parse(&out[n++], info);
    }
    return n;
}

int hvlog__sim_plan_make(struct sim_plan *plan, const struct hvlog_sim_workload *w)
{
    memset(plan, 0, sizeof(*plan));
    plan->end_ns = UINT64_MAX; /* hvlog_sim_start sets the deadline of a duration */
    if (!w || w->payload_min > w->payload_max || w->payload_max > HVLOG_SIM_MAX_EXTRA ||
        w->global_per_mille > 1000 || w->system_per_mille > 1000 - w->global_per_mille)
        return -1;
    plan->w = *w;
    plan->local_count = rows_collect(plan->local, SIM_MAX_ROWS, HvEventLogTypeLocalDiagnostics,
                                     w->local_sources, local_mix, COUNT_OF(local_mix));
    if (plan->local_count == 0)
        plan->local_count = rows_collect(plan->local, SIM_MAX_ROWS, HvEventLogTypeLocalDiagnostics,
                                         w->local_sources, NULL, 0);
    plan->global_count = rows_collect(plan->global, COUNT_OF(plan->global),
                                      HvEventLogTypeGlobalSystemEvents, 0, global_mix,
                                      COUNT_OF(global_mix));
    if (plan->local_count == 0 && w->global_per_mille + w->system_per_mille < 1000)
        return -1;
    if (plan->global_count == 0 && w->global_per_mille > 0)
        return -1;
    return 0;
}

/* ---- one event ---- */

static uint64_t param_value(uint8_t kind, uint64_t r, uint32_t lp, uint32_t children)
{
    switch (kind) {
    case PARAM_RIP:
        return 0xFFFFF80000000000ull | ((r & 0xFFFFFFull) << 2); /* kernel text, 4-aligned */
    case PARAM_MSR:
        return PICK(msrs, r);
    case PARAM_CR:
        return PICK(crs, r);
    case PARAM_PORT:
        return PICK(ports, r);
    case PARAM_EAX:
        return PICK(cpuid_leaves, r);
    case PARAM_ECX:
        return r % 4;
    case PARAM_PARTITION:
        return children ? HVLOG_SIM_FIRST_CHILD_ID + r % children : HVLOG_SIM_ROOT_ID;
    case PARAM_THREAD:
        return lp; /* the child's VP on this LP */
    case PARAM_INPUT_VALUE:
        return PICK(call_codes, r) | ((r >> 32) & 1u ? 0x10000u : 0u); /* fast bit at random */
    case PARAM_STATUS:
        return 0; /* HV_STATUS_SUCCESS */
    case PARAM_VECTOR:
        return HV_SINT_VECTOR_MIN + r % (256u - HV_SINT_VECTOR_MIN);
    default:
        return r;
    }
}

void hvlog__sim_event_make(const struct sim_plan *plan, uint64_t *rng, uint32_t lp, uint32_t children,
                           const uint64_t *logged, struct sim_event *ev, uint32_t *context,
                           uint8_t *payload)
{
    const struct hvlog_sim_workload *w = &plan->w;
    const struct sim_row *row = NULL;
    uint32_t extra = w->payload_min, off;
    uint64_t r = hvlog__sim_rng_next(rng);

    /* [0, global) global, [global, global + system) the ring, the rest
     * local: with system_per_mille 0 the draws are those of before. */
    if ((r % 1000) < w->global_per_mille) {
        row = &plan->global[(r >> 10) % plan->global_count];
        ev->type = HvEventLogTypeGlobalSystemEvents;
    } else if ((r % 1000) < w->global_per_mille + w->system_per_mille || plan->local_count == 0) {
        ev->type = HvEventLogTypeSystemDiagnostics;
    } else {
        row = &plan->local[(r >> 10) % plan->local_count];
        ev->type = HvEventLogTypeLocalDiagnostics;
    }
    /* Context: this LP's sequence number for the type; a reader sees a gap
     * of exactly the events lost in between. */
    *context = (uint32_t)logged[ev->type];

    if (row) {
        ev->sources = row->info->group;
        ev->entry_type = row->info->entry_type;
        for (uint32_t i = 0; i < row->param_count; i++)
            hvlog_store_le64(payload + (size_t)i * 8,
                             param_value(row->param_kind[i], hvlog__sim_rng_next(rng), lp, children));
        off = (uint32_t)row->param_count * 8u;
    } else {
        ev->sources = HVLOG_SIM_DIAG_SOURCES;
        ev->entry_type = HVLOG_SIM_DIAG_ENTRY_TYPE;
        hvlog_store_le64(payload, lp); /* sim.h: the record names its LP */
        off = 8u;
    }
    if (w->payload_max > w->payload_min)
        extra += (uint32_t)(hvlog__sim_rng_next(rng) % ((uint64_t)w->payload_max - w->payload_min + 1));
    for (uint32_t k = 0; k < extra; k++)
        payload[off + k] = hvlog_sim_extra_byte(*context, k);
    ev->payload_len = off + extra;
}
