/* SPDX-License-Identifier: MIT */
/*
 * `hvlog script [FILE|-]`: drive a fresh simulated host by hand, one command
 * per line, one output line per command (docs/script.md is the grammar).
 * The host runs in lock-step mode, so a script is exactly reproducible.
 *
 * --abi picks the ABI profile (spec §11) of the host's engine and of the
 * layouts the verbs build: the 2013 blocks, or the current ones (packed
 * Initialize with mode=, Map/Unmap with partition=, the 544-byte
 * SetSources) in the current column's conventions of hvlog/abi/calls.h.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "hvlog/abi/calls.h"
#include "hvlog/client/client.h"
#include "hvlog/trace/walk.h"
#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"

#define MAX_ARGS 32
/* The longest script line, newline excluded (docs/script.md): far above
 * the longest useful one (in= of a whole page is 8,194 characters), and a
 * bound on what one line of a hostile file makes the reader hold. */
#define SCRIPT_LINE_MAX_BYTES 65536u
/* What one `log` line may offer: count x (16 + bytes), 4 GiB (docs/script.md). */
#define SCRIPT_LOG_MAX_BYTES (4ull << 30)

struct script {
    struct hvlog_sim *sim;
    struct hvlog_root_ops ops; /* the root's side of sim (ctx: sim), for msg */
    uint32_t lps, children;
    enum hvlog_abi_profile abi; /* the layouts the verbs build; the engine's profile */
    /* GPA page numbers Map returned, per type and index (what the root learned). */
    uint64_t *pages[HVLOG_TYPE_COUNT][HV_EVENTLOG_MAX_BUFFER_COUNT];
    uint32_t page_count[HVLOG_TYPE_COUNT][HV_EVENTLOG_MAX_BUFFER_COUNT];
    uint32_t seq[HVLOG_TYPE_COUNT]; /* context counter for `log` */
};

/* key=value arguments of one line, plus bare words (fast, mem). */
struct args {
    int n;
    char *key[MAX_ARGS];
    char *value[MAX_ARGS]; /* NULL for a bare word */
    bool used[MAX_ARGS];
};

/* One error per line; the line's output is "error: REASON". */
struct line_error {
    char text[256];
    bool set;
};

static void fail(struct line_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct line_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err->set)
        return;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
    err->set = true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 0);
    return errno == 0 && *end == '\0';
}

static int find(struct args *a, const char *key)
{
    for (int i = 0; i < a->n; i++) {
        if (strcmp(a->key[i], key) == 0) {
            a->used[i] = true;
            return i;
        }
    }
    return -1;
}

static bool has_word(struct args *a, const char *word)
{
    int i = find(a, word);
    return i >= 0 && a->value[i] == NULL;
}

/* A number argument: required unless @def_ok, then @def when absent. */
static uint64_t num(struct args *a, const char *key, bool required, uint64_t def, uint64_t max,
                    struct line_error *err)
{
    int i = find(a, key);
    uint64_t v;

    if (i < 0) {
        if (required)
            fail(err, "missing %s=", key);
        return def;
    }
    if (!parse_u64(a->value[i], &v)) {
        fail(err, "%s=%s is not a number", key, a->value[i] ? a->value[i] : "");
        return def;
    }
    if (v > max) {
        fail(err, "%s=%s is out of range (max %" PRIu64 ")", key, a->value[i], max);
        return def;
    }
    return v;
}

static void check_unused(struct args *a, struct line_error *err)
{
    for (int i = 0; i < a->n; i++) {
        if (!a->used[i])
            fail(err, "unknown argument '%s'", a->key[i]);
    }
}

/* ---- hypercalls as the script issues them ---- */

struct call_opts {
    bool fast, mem;
    uint64_t partition;
    uint32_t vp;
    bool has_control, has_in, has_ingpa, has_outgpa;
    uint64_t control, ingpa, outgpa;
    uint8_t in[HV_PAGE_SIZE];
    uint32_t in_len;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void parse_call_opts(struct script *sc, struct args *a, struct call_opts *o,
                            struct line_error *err)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->fast = has_word(a, "fast");
    o->mem = has_word(a, "mem");
    if (o->fast && o->mem)
        fail(err, "fast and mem together");
    o->partition = HVLOG_SIM_ROOT_ID;
    if ((i = find(a, "as")) >= 0) {
        if (a->value[i] && strcmp(a->value[i], "root") == 0)
            o->partition = HVLOG_SIM_ROOT_ID;
        else if (a->value[i] && strcmp(a->value[i], "child") == 0 && sc->children > 0)
            o->partition = HVLOG_SIM_FIRST_CHILD_ID;
        else
            fail(err, "as= takes root or child (and child needs --children >= 1)");
    }
    o->vp = (uint32_t)num(a, "vp", false, 0, sc->lps - 1, err);
    if ((i = find(a, "control")) >= 0) {
        o->has_control = parse_u64(a->value[i], &o->control);
        if (!o->has_control)
            fail(err, "control= is not a number");
    }
    if ((i = find(a, "ingpa")) >= 0 && !(o->has_ingpa = parse_u64(a->value[i], &o->ingpa)))
        fail(err, "ingpa= is not a number");
    if ((i = find(a, "outgpa")) >= 0 && !(o->has_outgpa = parse_u64(a->value[i], &o->outgpa)))
        fail(err, "outgpa= is not a number");
    if ((i = find(a, "in")) >= 0) {
        const char *h = a->value[i] ? a->value[i] : "";
        size_t len = strlen(h);

        if (strncmp(h, "0x", 2) == 0)
            h += 2, len -= 2;
        if (len % 2 || len / 2 > sizeof o->in) {
            fail(err, "in= needs an even number of hex digits (at most %zu bytes)", sizeof o->in);
            return;
        }
        for (size_t k = 0; k < len / 2; k++) {
            int hi = hexval(h[2 * k]), lo = hexval(h[2 * k + 1]);
            if (hi < 0 || lo < 0) {
                fail(err, "in= is not hex");
                return;
            }
            o->in[k] = (uint8_t)(hi << 4 | lo);
        }
        o->in_len = (uint32_t)(len / 2);
        o->has_in = true;
    }
}

static void print_status(uint64_t rax)
{
    char name[HVLOG_STATUS_NAME_MAX];

    if (rax == HVLOG_SIM_INTERCEPT) {
        printf("intercept");
        return;
    }
    printf("%s", hvlog_status_format(hv_hypercall_result_status(rax), name, sizeof name));
}

/* Issue @code with @input (the profile's layout, @len bytes) honouring the
 * options; the canonical convention is the profile's column of calls.h. */
static uint64_t issue(struct script *sc, uint16_t code, const uint8_t *input, uint32_t len,
                      const struct call_opts *o)
{
    const struct hvlog_call_info *info = hvlog_call_info(code);
    enum hvlog_call_convention canonical =
        sc->abi == HVLOG_ABI_CURRENT ? info->convention_current : info->convention_2013;
    bool fast = o->fast || (!o->mem && canonical == HVLOG_CALL_FAST);
    const uint8_t *bytes = o->has_in ? o->in : input;
    uint32_t n = o->has_in ? o->in_len : len;
    uint64_t rcx = o->has_control ? o->control : (code | (fast ? HV_HYPERCALL_FAST_BIT : 0));
    uint64_t rdx, r8;

    if (fast) {
        hvlog_fast_pack(bytes, n > 16 ? 16 : n, &rdx, &r8);
    } else {
        uint8_t *in_page, *out_page;
        uint64_t in_gpa = hvlog_sim_root_page(sc->sim, 0, &in_page);
        uint64_t out_gpa = hvlog_sim_root_page(sc->sim, 1, &out_page);

        memset(in_page, 0, HV_PAGE_SIZE);
        memcpy(in_page, bytes, n);
        memset(out_page, 0, HV_PAGE_SIZE);
        rdx = o->has_ingpa ? o->ingpa : in_gpa;
        r8 = o->has_outgpa ? o->outgpa : out_gpa;
    }
    return hvlog_sim_hypercall(sc->sim, o->partition, o->vp, rcx, rdx, r8);
}

/* ---- the commands ---- */

static const char *state_name(uint32_t state)
{
    const char *n = hvlog_buffer_state_name(state);
    return n ? n : "unknown";
}

/* The root's read-only view of a mapped buffer, or NULL. */
static const uint8_t *buffer_view(struct script *sc, uint32_t type, uint32_t index)
{
    if (type >= HVLOG_TYPE_COUNT || index >= HV_EVENTLOG_MAX_BUFFER_COUNT || !sc->pages[type][index])
        return NULL;
    /* The sim maps a buffer's pages at consecutive GPAs; check that rather
     * than assume it, and read through the view as one range. */
    for (uint32_t k = 1; k < sc->page_count[type][index]; k++) {
        if (sc->pages[type][index][k] != sc->pages[type][index][0] + k)
            return NULL;
    }
    return hvlog_sim_root_view(sc->sim, sc->pages[type][index][0] << HV_PAGE_SHIFT,
                               sc->page_count[type][index] * HV_PAGE_SIZE);
}

static void forget_pages(struct script *sc, uint32_t type, uint32_t index)
{
    free(sc->pages[type][index]);
    sc->pages[type][index] = NULL;
    sc->page_count[type][index] = 0;
}

/*
 * A field only one profile's layout has (mode= on init, partition= on map
 * and unmap): under the other profile it is a script error, not silently
 * dropped, so a script never says more than the bytes it sends. Returns
 * the argument's position, or -1 when absent or refused.
 */
static int current_only(struct script *sc, struct args *a, const char *key, const char *what,
                        struct line_error *err)
{
    int i = find(a, key);

    if (i >= 0 && sc->abi != HVLOG_ABI_CURRENT) {
        fail(err, "%s= needs --abi current (the 2013 %s)", key, what);
        return -1;
    }
    return i;
}

/* §11.1 Mode: regular, circular, or a number (to probe Mode >= 2). */
static uint16_t parse_mode(struct script *sc, struct args *a, struct line_error *err)
{
    int i = current_only(sc, a, "mode", "Initialize has no Mode field", err);
    uint64_t v;

    if (i < 0)
        return HvEventLogModeRegular;
    if (a->value[i] && strcmp(a->value[i], "regular") == 0)
        return HvEventLogModeRegular;
    if (a->value[i] && strcmp(a->value[i], "circular") == 0)
        return HvEventLogModeCircular;
    if (!parse_u64(a->value[i], &v) || v > UINT16_MAX) {
        fail(err, "mode= takes regular, circular or a number up to 65535");
        return 0;
    }
    return (uint16_t)v;
}

/* §11.2 PartitionId: self (HV_PARTITION_ID_SELF, the default), root (the
 * root's own id), or any number (to probe INVALID_PARTITION_ID). */
static uint64_t parse_partition(struct script *sc, struct args *a, struct line_error *err)
{
    int i = current_only(sc, a, "partition", "Map and Unmap inputs have no PartitionId", err);
    uint64_t v;

    if (i < 0 || (a->value[i] && strcmp(a->value[i], "self") == 0))
        return HV_PARTITION_ID_SELF;
    if (a->value[i] && strcmp(a->value[i], "root") == 0)
        return HVLOG_SIM_ROOT_ID;
    if (!parse_u64(a->value[i], &v)) {
        fail(err, "partition= takes self, root or a number");
        return HV_PARTITION_ID_SELF;
    }
    return v;
}

/* Initialize, 2013 (§5.1, DEC-INITLAYOUT: 32 bytes, SystemTime @24) or
 * current (§11.1: 28 bytes packed, BufferSizeInBytes = pages x 4096). */
static uint32_t init_input(struct script *sc, uint32_t type, struct args *a, bool need, uint8_t *in,
                           struct line_error *err)
{
    uint32_t count = (uint32_t)num(a, "count", need, 0, UINT32_MAX, err);
    uint64_t pages = num(a, "pages", need, 0, UINT32_MAX, err);
    uint32_t threshold = (uint32_t)num(a, "threshold", need, 0, UINT32_MAX, err);
    uint32_t basis = (uint32_t)num(a, "basis", need, 0, UINT32_MAX, err);
    uint64_t time = num(a, "time", false, 0, UINT64_MAX, err);
    uint16_t mode = parse_mode(sc, a, err);

    if (sc->abi == HVLOG_ABI_CURRENT) {
        struct hv_input_initialize_eventlog_buffer_group_current r = {
            .type = (uint16_t)type, .mode = mode, .maximum_buffer_count = count,
            .buffer_size_bytes = (uint32_t)(pages * HV_PAGE_SIZE), .threshold = threshold,
            .time_basis = basis, .system_time = time};

        if (type > UINT16_MAX)
            fail(err, "type=%" PRIu32 " does not fit the current layout's u16 Type", type);
        if (pages > UINT32_MAX / HV_PAGE_SIZE)
            fail(err, "pages=%" PRIu64 " does not fit BufferSizeInBytes (u32)", pages);
        hv_input_initialize_eventlog_buffer_group_current_store(in, &r);
        return hv_input_initialize_eventlog_buffer_group_current_WIRE_SIZE;
    } else {
        struct hv_input_initialize_eventlog_buffer_group r = {
            .type = type, .maximum_buffer_count = count, .buffer_pages = (uint32_t)pages,
            .threshold = threshold, .time_basis = basis, .system_time = time};

        hv_input_initialize_eventlog_buffer_group_store(in, &r);
        return 32;
    }
}

struct verb;
typedef void verb_fn(struct script *sc, const struct verb *v, struct args *a, struct line_error *err);

/* One row per script command (docs/script.md), like the engine's dispatch
 * table: the name, its handler, and for the nine hypercall verbs the call
 * they issue. */
struct verb {
    const char *name;
    verb_fn *run;
    uint16_t code; /* HvCall* for a hypercall verb, 0 for the others */
};

static void cmd_hypercall(struct script *sc, const struct verb *verb, struct args *a,
                          struct line_error *err)
{
    struct call_opts o;
    uint8_t in[HV_INPUT_SET_SOURCES_CURRENT_SIZE] = {0};
    uint32_t len = 8, type, index = 0;
    uint16_t code = verb->code;
    bool need;
    uint64_t rax;

    /* in= replaces the computed input for every call, so the fields that
     * would build it are then optional; those given are still checked. */
    parse_call_opts(sc, a, &o, err);
    need = !o.has_in;
    type = (uint32_t)num(a, "type", need, 0, UINT32_MAX, err);
    hvlog_store_le32(in, type);
    switch (code) {
    case HvCallHvInitializeEventLogBufferGroup:
        len = init_input(sc, type, a, need, in, err);
        break;
    case HvCallHvFinalizeEventLogBufferGroup:
        break;
    case HvCallHvSetEventLogGroupSources:
        /* 2013: {Type, Pad, EnableFlags} (§5.7). Current: the 544-byte block
         * with GroupCount 0 and ConfigurationFlags = the mask (§11.3); the
         * same 16 bytes, then zeros. */
        hvlog_store_le64(in + 8, num(a, "mask", need, 0, UINT64_MAX, err));
        len = sc->abi == HVLOG_ABI_CURRENT ? HV_INPUT_SET_SOURCES_CURRENT_SIZE : 16;
        break;
    default: /* the six {Type, BufferIndex, ...} calls */
        index = (uint32_t)num(a, "index", need, 0, UINT32_MAX, err);
        hvlog_store_le32(in + 4, index);
        if (code == HvCallHvCreateEventLogBuffer) {
            int d = find(a, "domain");
            uint32_t flags = (uint32_t)num(a, "proxflags", false, 0, UINT32_MAX, err);
            if (d >= 0) {
                hvlog_store_le32(in + 8, (uint32_t)num(a, "domain", true, 0, UINT32_MAX, err));
                if (find(a, "proxflags") < 0)
                    flags = HV_PROXIMITY_FLAG_VALID;
            }
            hvlog_store_le32(in + 12, flags);
            len = 16;
        }
        if (code == HvCallHvMapEventLogBuffer || code == HvCallHvUnmapEventLogBuffer) {
            uint64_t partition = parse_partition(sc, a, err);
            if (sc->abi == HVLOG_ABI_CURRENT) { /* §11.2 */
                hvlog_store_le64(in + 8, partition);
                len = 16;
            }
        }
        break;
    }
    check_unused(a, err);
    if (err->set)
        return;
    if (o.has_in) {
        /* What the engine was told is in the bytes sent (Type @0 and
         * BufferIndex @4 in every layout of Map and Unmap; zero padded). */
        type = hvlog_load_le32(o.in);
        index = hvlog_load_le32(o.in + 4);
    }
    rax = issue(sc, code, in, len, &o);
    print_status(rax);
    if (code == HvCallHvMapEventLogBuffer && rax != HVLOG_SIM_INTERCEPT &&
        hv_hypercall_result_status(rax) == HV_STATUS_SUCCESS && type < HVLOG_TYPE_COUNT &&
        index < HV_EVENTLOG_MAX_BUFFER_COUNT) {
        /* The output page holds GpaPages[]; the buffer header (through the
         * view) says how many pages a buffer has. */
        uint8_t *out;
        uint64_t out_gpa = hvlog_sim_root_page(sc->sim, 1, &out);
        uint64_t base = o.has_outgpa ? o.outgpa : out_gpa;
        const uint8_t *outv = hvlog_sim_root_view(sc->sim, base, 8);
        const uint8_t *hdr = outv ? hvlog_sim_root_view(sc->sim, hvlog_load_le64(outv) << 12, 72) : NULL;
        /* BufferSize is the whole buffer in 2013, the data area now (D9). */
        uint32_t size = hdr ? hvlog_load_le32(hdr) : 0;
        uint32_t pages = (sc->abi == HVLOG_ABI_CURRENT ? size + HV_EVENTLOG_BUFFER_HEADER_SIZE
                                                            : size) / HV_PAGE_SIZE;
        const uint8_t *list = pages ? hvlog_sim_root_view(sc->sim, base, pages * 8) : NULL;

        forget_pages(sc, type, index);
        if (list && (sc->pages[type][index] = malloc(pages * sizeof(uint64_t))) != NULL) {
            sc->page_count[type][index] = pages;
            printf(" pages=");
            for (uint32_t k = 0; k < pages; k++) {
                sc->pages[type][index][k] = hvlog_load_le64(list + (size_t)k * 8);
                printf("%s0x%" PRIx64, k ? "," : "", sc->pages[type][index][k]);
            }
        }
    }
    if (code == HvCallHvUnmapEventLogBuffer && rax != HVLOG_SIM_INTERCEPT &&
        hv_hypercall_result_status(rax) == HV_STATUS_SUCCESS && type < HVLOG_TYPE_COUNT &&
        index < HV_EVENTLOG_MAX_BUFFER_COUNT)
        forget_pages(sc, type, index);
    printf("\n");
}

static void cmd_log(struct script *sc, const struct verb *verb, struct args *a,
                    struct line_error *err)
{
    uint32_t lp = (uint32_t)num(a, "lp", true, 0, sc->lps - 1, err);
    uint32_t type = (uint32_t)num(a, "type", true, 0, HVLOG_TYPE_COUNT - 1, err);
    uint64_t count = num(a, "count", true, 0, 100000000, err);
    uint64_t sources = num(a, "sources", false, UINT64_MAX, UINT64_MAX, err);
    uint16_t entry = (uint16_t)num(a, "entry", false, 0x1A, 0xFFFF, err);
    int ci = find(a, "context");
    uint32_t context = (uint32_t)num(a, "context", false, 0, UINT32_MAX, err);
    uint32_t bytes = (uint32_t)num(a, "bytes", false, 16, 1u << 20, err);
    uint64_t recorded = 0, lost = 0, dropped = 0;
    uint8_t *payload;

    (void)verb;

    check_unused(a, err);
    /* A bound on one line's work (issue 13, A10): every event may be
     * copied whole (a Circular group records forever), so what a line may
     * offer is capped, not only the count. */
    if (!err->set && count * (HV_EVENTLOG_ENTRY_HEADER_SIZE + (uint64_t)bytes) > SCRIPT_LOG_MAX_BYTES)
        fail(err, "count=%" PRIu64 " events of %" PRIu64 " bytes is more than the %llu GiB one log line may offer",
             count, HV_EVENTLOG_ENTRY_HEADER_SIZE + (uint64_t)bytes,
             (unsigned long long)(SCRIPT_LOG_MAX_BYTES >> 30));
    if (err->set)
        return;
    payload = malloc(bytes ? bytes : 1);
    if (!payload) {
        fail(err, "out of memory");
        return;
    }
    /* Filled once: the bytes 0, 1, 2, ... (docs/script.md); filling them
     * per event cost more than logging it. */
    for (uint32_t k = 0; k < bytes; k++)
        payload[k] = (uint8_t)k;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t ctx = ci >= 0 ? context : sc->seq[type]++;
        switch (hvlog_sim_log(sc->sim, lp, type, sources, entry, ctx, payload, bytes)) {
        case HVLOG_LOG_RECORDED: recorded++; break;
        case HVLOG_LOG_LOST: lost++; break;
        case HVLOG_LOG_DROPPED: dropped++; break;
        }
    }
    free(payload);
    printf("recorded=%" PRIu64 " lost=%" PRIu64 " dropped=%" PRIu64 "\n", recorded, lost, dropped);
}

static void cmd_msg(struct script *sc, const struct verb *verb, struct args *a,
                    struct line_error *err)
{
    uint32_t vp = (uint32_t)num(a, "vp", true, 0, sc->lps - 1, err);
    struct hvlog_root_message m;

    (void)verb;
    check_unused(a, err);
    if (err->set)
        return;
    /* §8.5 as a root driver does it, through the root's ops: the client's
     * one copy of the protocol. EOM right away: the script acts by printing. */
    if (!hvlog_client_message_take(&sc->ops, sc->sim, vp, &m)) {
        printf("empty\n");
        return;
    }
    hvlog_client_message_done(&sc->ops, sc->sim, vp, &m);
    if (m.header.message_type != HvMessageTypeEventLogBufferComplete)
        printf("message=0x%08" PRIx32 " pending=%u\n", m.header.message_type, (unsigned)m.pending);
    else
        printf("type=%" PRIu32 " index=%" PRIu32 " pending=%u\n", m.payload.event_log_type,
               m.payload.buffer_index, (unsigned)m.pending);
}

static void type_index(struct script *sc, struct args *a, uint32_t *type, uint32_t *index,
                       struct line_error *err)
{
    (void)sc;
    *type = (uint32_t)num(a, "type", true, 0, HVLOG_TYPE_COUNT - 1, err);
    *index = (uint32_t)num(a, "index", true, 0, HV_EVENTLOG_MAX_BUFFER_COUNT - 1, err);
    check_unused(a, err);
}

/* The header fields as the profile's layout reads them (§4.4, or §11.4:
 * BufferSize the data area, NextBufferOffset from the end of the header,
 * LogicalProcessor u16, LpSequenceNumber @60 printed as seq=). */
static void cmd_header(struct script *sc, const struct verb *verb, struct args *a,
                       struct line_error *err)
{
    uint32_t type, index, next;
    const uint8_t *v;

    (void)verb;

    type_index(sc, a, &type, &index, err);
    if (err->set)
        return;
    if (!(v = buffer_view(sc, type, index))) {
        printf("not-mapped\n");
        return;
    }
    if (sc->abi == HVLOG_ABI_CURRENT) {
        struct hv_eventlog_buffer_header_current h;

        hv_eventlog_buffer_header_current_load(&h, v);
        printf("state=%s size=%" PRIu32 " index=%" PRIu32 " lost=%" PRIu32 " lp=%u offset=%" PRIu32,
               state_name(h.buffer_state), h.buffer_size, h.buffer_index, h.events_lost,
               (unsigned)h.logical_processor, h.next_buffer_offset);
        next = h.next_buffer_index;
    } else {
        struct hv_eventlog_buffer_header h;

        hv_eventlog_buffer_header_load(&h, v);
        printf("state=%s size=%" PRIu32 " index=%" PRIu32 " lost=%" PRIu32 " lp=%u offset=%" PRIu32,
               state_name(h.buffer_state), h.buffer_size, h.buffer_index, h.events_lost,
               (unsigned)h.logical_processor, h.next_buffer_offset);
        next = h.next_buffer_index;
    }
    if (next == HV_EVENTLOG_BUFFER_INDEX_NONE)
        printf(" next=none");
    else
        printf(" next=%" PRIu32, next);
    if (sc->abi == HVLOG_ABI_CURRENT)
        printf(" seq=%" PRIu32, hvlog_load_le32(v + offsetof(struct hv_eventlog_buffer_header_current,
                                                             lp_sequence_number)));
    printf("\n");
}

static void cmd_chain(struct script *sc, const struct verb *verb, struct args *a,
                      struct line_error *err)
{
    uint32_t type, index;
    bool seen[HV_EVENTLOG_MAX_BUFFER_COUNT] = {false};

    (void)verb;

    type_index(sc, a, &type, &index, err);
    if (err->set)
        return;
    for (uint32_t i = index, n = 0; i != HV_EVENTLOG_BUFFER_INDEX_NONE; n++) {
        const uint8_t *v = i < HV_EVENTLOG_MAX_BUFFER_COUNT ? buffer_view(sc, type, i) : NULL;

        printf("%s%" PRIu32, n ? "," : "", i);
        if (!v) {
            printf(" (not mapped)");
            break;
        }
        if (seen[i]) {
            printf(" (loop)");
            break;
        }
        seen[i] = true;
        i = hvlog_load_le32(v + offsetof(struct hv_eventlog_buffer_header, next_buffer_index));
    }
    printf("\n");
}

static bool count_entries(void *arg, const struct hvlog_entry *e)
{
    uint64_t *c = arg;
    c[0]++;
    c[1] += e->size;
    return true;
}

static void cmd_entries(struct script *sc, const struct verb *verb, struct args *a,
                        struct line_error *err)
{
    uint32_t type, index;
    const uint8_t *v;
    uint64_t counts[2] = {0, 0};
    enum hvlog_walk_error werr;

    (void)verb;

    type_index(sc, a, &type, &index, err);
    if (err->set)
        return;
    if (!(v = buffer_view(sc, type, index))) {
        printf("not-mapped\n");
        return;
    }
    werr = hvlog_buffer_walk(v, (size_t)sc->page_count[type][index] * HV_PAGE_SIZE,
                             sc->abi == HVLOG_ABI_CURRENT ? HVLOG_ABI_CURRENT
                                                               : HVLOG_ABI_2013,
                             NULL, NULL, count_entries, counts);
    if (werr != HVLOG_WALK_OK)
        printf("corrupt: %s\n", hvlog_walk_error_text(werr));
    else
        printf("count=%" PRIu64 " bytes=%" PRIu64 "\n", counts[0], counts[1]);
}

/* Write through the root's view in a child process: the overlay is read-only,
 * so the child must die of SIGSEGV (or SIGBUS). */
static void cmd_poke(struct script *sc, const struct verb *verb, struct args *a,
                     struct line_error *err)
{
    uint32_t type, index;
    const uint8_t *v;
    pid_t pid;
    int status;

    (void)verb;

    type_index(sc, a, &type, &index, err);
    if (err->set)
        return;
    if (!(v = buffer_view(sc, type, index))) {
        printf("not-mapped\n");
        return;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        *(volatile uint8_t *)v = 0x5A; /* NOLINT: the point is to try */
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        fail(err, "cannot fork to try the write");
        return;
    }
    printf("%s\n", WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS)
                       ? "fault"
                       : "no-fault");
}

static void cmd_pool(struct script *sc, const struct verb *verb, struct args *a,
                     struct line_error *err)
{
    uint32_t domain = (uint32_t)num(a, "domain", false, 0,
                                    hvlog_sim_domain_count(sc->sim) - 1, err);
    uint32_t pages = 0;

    if (strcmp(verb->name, "deposit") == 0)
        pages = (uint32_t)num(a, "pages", true, 0, UINT32_MAX, err);
    check_unused(a, err);
    if (err->set)
        return;
    if (pages && hvlog_sim_deposit(sc->sim, domain, pages) != 0) {
        fail(err, "deposit of %" PRIu32 " pages failed: the root has no such free RAM", pages);
        return;
    }
    printf("free=%" PRIu32 "\n", hvlog_sim_pool_free(sc->sim, domain));
}

static void cmd_fail(struct script *sc, const struct verb *verb, struct args *a,
                     struct line_error *err)
{
    enum hvlog_sim_fault fault = HVLOG_SIM_FAULT_ALLOC;
    uint64_t after = num(a, "after", true, 0, UINT32_MAX, err);

    (void)verb;

    if (has_word(a, "alloc"))
        fault = HVLOG_SIM_FAULT_ALLOC;
    else if (has_word(a, "map"))
        fault = HVLOG_SIM_FAULT_MAP;
    else if (has_word(a, "post"))
        fault = HVLOG_SIM_FAULT_POST;
    else
        fail(err, "fail takes alloc, map or post");
    check_unused(a, err);
    if (err->set)
        return;
    hvlog_sim_fail_after(sc->sim, fault, (uint32_t)after);
    printf("ok\n");
}

/* Split a line into a verb and key=value words. Returns the verb or NULL. */
static char *tokenize(char *line, struct args *a, struct line_error *err)
{
    char *verb = NULL, *save = NULL;

    memset(a, 0, sizeof(*a));
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        char *eq;
        if (!verb) {
            verb = tok;
            continue;
        }
        if (a->n == MAX_ARGS) {
            fail(err, "too many arguments");
            return verb;
        }
        eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        a->key[a->n] = tok;
        a->value[a->n] = eq ? eq + 1 : NULL;
        a->n++;
    }
    return verb;
}

static const struct verb verbs[] = {
    {"init", cmd_hypercall, HvCallHvInitializeEventLogBufferGroup},
    {"finalize", cmd_hypercall, HvCallHvFinalizeEventLogBufferGroup},
    {"create", cmd_hypercall, HvCallHvCreateEventLogBuffer},
    {"delete", cmd_hypercall, HvCallHvDeleteEventLogBuffer},
    {"map", cmd_hypercall, HvCallHvMapEventLogBuffer},
    {"unmap", cmd_hypercall, HvCallHvUnmapEventLogBuffer},
    {"release", cmd_hypercall, HvCallHvReleaseEventLogBuffer},
    {"flush", cmd_hypercall, HvCallHvFlushEventLogBuffer},
    {"sources", cmd_hypercall, HvCallHvSetEventLogGroupSources},
    {"log", cmd_log, 0},
    {"msg", cmd_msg, 0},
    {"header", cmd_header, 0},
    {"chain", cmd_chain, 0},
    {"entries", cmd_entries, 0},
    {"poke", cmd_poke, 0},
    {"pool", cmd_pool, 0},
    {"deposit", cmd_pool, 0},
    {"fail", cmd_fail, 0},
};

static bool run_line(struct script *sc, char *line)
{
    struct line_error err = {{0}, false};
    struct args a;
    char *hash = strchr(line, '#');
    const struct verb *v = NULL;
    char *name;

    if (hash)
        *hash = '\0';
    name = tokenize(line, &a, &err);
    if (!name)
        return true; /* blank or comment */
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0] && !v; k++) {
        if (strcmp(name, verbs[k].name) == 0)
            v = &verbs[k];
    }
    if (v)
        v->run(sc, v, &a, &err);
    else
        fail(&err, "unknown command '%s'", name);
    if (err.set) {
        printf("error: %s\n", err.text);
        return false;
    }
    return true;
}

enum line_read { LINE_OK, LINE_TOO_LONG, LINE_EOF };

/*
 * Read one line of @in into @line (SCRIPT_LINE_MAX_BYTES + 1 bytes): its
 * bytes without the newline, NUL-terminated, *@len of them, NUL bytes
 * included (the caller refuses those). A longer line is read to its end
 * and dropped, so memory stays one line's worth however long the input.
 */
static enum line_read read_line(FILE *in, char *line, size_t *len)
{
    size_t n = 0;
    bool any = false, too_long = false;
    int c;

    while ((c = getc(in)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (n < SCRIPT_LINE_MAX_BYTES)
            line[n++] = (char)c;
        else
            too_long = true;
    }
    line[n] = '\0';
    *len = n;
    if (!any)
        return LINE_EOF;
    return too_long ? LINE_TOO_LONG : LINE_OK;
}

static int parse_option(const char *value, uint32_t min, uint32_t max, const char *name, uint32_t *out)
{
    uint64_t v;

    if (!parse_u64(value, &v) || v < min || v > max) {
        cli_error("script: --%s must be a number from %" PRIu32 " to %" PRIu32, name, min, max);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* The row of @longopts whose value is @opt. */
static size_t opt_index(const struct option *longopts, int opt)
{
    size_t i = 0;

    while (longopts[i].name && longopts[i].val != opt)
        i++;
    return i;
}

int cli_cmd_script(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"abi", required_argument, NULL, 'A'},      {"lps", required_argument, NULL, 'l'},
        {"domains", required_argument, NULL, 'D'},  {"pool-pages", required_argument, NULL, 'p'},
        {"children", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
    };
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct script sc;
    const char *path = NULL;
    enum hvlog_abi_profile abi = HVLOG_ABI_2013;
    char *line;
    size_t len;
    FILE *in;
    int opt, status = CLI_EXIT_OK;
    unsigned line_no = 0;

    cfg.lps = 2;
    cfg.domains = 1;
    cfg.children = 1;
    cfg.pool_pages = 4096;
    cfg.lockstep = true;
    while ((opt = cli_getopt("script", argc, argv, "", longopts)) != -1) {
        uint32_t *target = NULL;
        uint32_t min = 0, max = 0;

        switch (opt) {
        case 'A':
            if (strcmp(optarg, "2013") == 0) {
                abi = HVLOG_ABI_2013;
            } else if (strcmp(optarg, "current") == 0) {
                abi = HVLOG_ABI_CURRENT;
            } else {
                cli_error("script: --abi takes 2013 or current, not '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            continue;
        case 'l': target = &cfg.lps, min = 1, max = 64; break;
        case 'D': target = &cfg.domains, min = 1, max = 8; break;
        case 'p': target = &cfg.pool_pages, min = 0, max = 1u << 20; break;
        case 'c': target = &cfg.children, min = 0, max = 16; break;
        default: return CLI_EXIT_USAGE; /* cli_getopt said why */
        }
        if (parse_option(optarg, min, max, longopts[opt_index(longopts, opt)].name, target) != 0)
            return CLI_EXIT_USAGE;
    }
    if (argc - optind > 1) {
        cli_error("script: one script at a time ('%s' and '%s')", argv[optind], argv[optind + 1]);
        return CLI_EXIT_USAGE;
    }
    path = optind < argc ? argv[optind] : NULL;
    if (!path || strcmp(path, "-") == 0) {
        in = stdin;
    } else if (!(in = fopen(path, "r"))) {
        cli_error("script: cannot open '%s': %s", path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    line = malloc(SCRIPT_LINE_MAX_BYTES + 1);
    if (!line) {
        cli_error("script: out of memory");
        if (in != stdin)
            fclose(in);
        return CLI_EXIT_FAILURE;
    }
    /* The root partition's pool and RAM grow with the pool asked for. */
    cfg.root_ram_pages = cfg.pool_pages + 1024;
    cfg.profile = hvlog_profile_preset(abi);
    memset(&sc, 0, sizeof sc);
    sc.abi = abi;
    sc.lps = cfg.lps;
    sc.children = cfg.children;
    if (hvlog_sim_create(&cfg, &sc.sim) != 0) {
        cli_error("script: cannot create the simulated host (%" PRIu32 " LPs, %" PRIu32 " domains)",
                  cfg.lps, cfg.domains);
        if (in != stdin)
            fclose(in);
        free(line);
        return CLI_EXIT_FAILURE;
    }
    hvlog_sim_root_ops(sc.sim, &sc.ops);
    for (uint32_t vp = 0; vp < cfg.lps; vp++)
        hvlog_sim_synic_enable(sc.sim, vp, 0x40);
    for (;;) {
        enum line_read r = read_line(in, line, &len);

        if (r == LINE_EOF)
            break;
        line_no++;
        if (r == LINE_TOO_LONG) {
            printf("error: line %u is longer than %u bytes\n", line_no, SCRIPT_LINE_MAX_BYTES);
            status = CLI_EXIT_FAILURE;
        } else if (memchr(line, '\0', len)) {
            /* A NUL would end the line early for every string function
             * below; the line is refused whole, the next one still runs. */
            printf("error: line %u holds a NUL byte\n", line_no);
            status = CLI_EXIT_FAILURE;
        } else if (!run_line(&sc, line)) {
            status = CLI_EXIT_FAILURE;
        }
        fflush(stdout);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++)
            free(sc.pages[t][i]);
    }
    hvlog_sim_destroy(sc.sim);
    return status;
}
