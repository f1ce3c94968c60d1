/* SPDX-License-Identifier: MIT */
/*
 * The guest root (issue 15 item 2): the root partition as a real guest,
 * built from hvlog's own root client. This program runs alone on VP 0 of
 * the root VM the VMM builds (src/kvm/root_vm.c), 64-bit long mode,
 * identity-mapped, no libc: it links the freestanding client
 * objects (src/CMakeLists.txt hvlog_client_freestanding) and nothing else.
 * The memory map and the control page are in src/kvm/guest_root_abi.h.
 *
 * Its hvlog_root_ops are what a root driver has on hardware:
 *   hypercall      `call` into the hypercall page the VMM wrote, with
 *                  RCX = control, RDX = input GPA (or fast input), R8 =
 *                  output GPA (or fast input), as Linux's hv_do_hypercall;
 *   scratch_page   two pages of its RAM named by the VMM, by GPA;
 *   view           a mapped buffer's GPA, identity-mapped: the VMM gives
 *                  overlay pages as read-only memory (a store exits, §5.5);
 *   message_page   the SIM page it enabled through SIMP (wrmsr), VP 0 only:
 *                  only VP 0's SynIC is on, so every ready message comes to
 *                  it (§8.4 DEC-TARGET: the lowest eligible VP);
 *   eom            wrmsr HV_X64_MSR_EOM;
 *   reference time rdmsr HV_X64_MSR_TIME_REF_COUNT.
 * The MSRs are filtered by the VMM, which forwards them to the simulated
 * SynIC.
 *
 * Interrupts (§8.5): the program loads a GDT and an IDT of its own (a
 * 64-bit interrupt gate for ROOT_SINT0_VECTOR, the vector it programs into
 * SINT0, and one for #GP), then runs with IF set. The VMM injects SINT0's
 * vector as a real interrupt when the sim puts a message in the slot
 * (src/kvm/root_synic.c). The handler only counts its entry (in the control
 * page, ROOT_CTL_INTERRUPTS) and returns: the client is not reentrant, so
 * the §8.5 handler sequence (copy the message, clear MessageType, check
 * MessagePending, EOM) runs in the main loop's hvlog_client_poll, which a
 * new count starts. The loop waits with `sti; hlt`, atomic with its check
 * of the count and the stop word (taken with IF clear), so an interrupt
 * after the check ends the HLT instead of being missed. No local APIC is
 * used, so there is nothing to EOI but the SynIC's EOM.
 *
 * Each released buffer's bytes go to the VMM through the byte ring and the
 * doorbell port (guest_root_abi.h); the VMM writes them into the trace.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/abi/synic.h"
#include "hvlog/client/client.h"
#include "kvm/guest_root_abi.h"

/* The entry: a stack, then C; HLT for good if main ever returns. */
__asm__(".section .text.start, \"ax\"\n"
        ".globl _start\n"
        "_start:\n"
        "    movq $" "0x1120000" ", %rsp\n"
        "    call guest_main\n"
        "1:  hlt\n"
        "    jmp 1b\n"
        ".previous\n");
_Static_assert(ROOT_STACK_TOP == 0x1120000u, "keep _start's stack top in step");

/*
 * The interrupt entries. SINT0: save what the C ABI lets a call clobber,
 * clear DF (memmove may be inside `std; rep movsb`), call guest_sint, and
 * iretq (which restores RFLAGS). On entry RSP = 16n - 40, so after nine
 * pushes it is 16-aligned at the call, as the ABI wants. #GP: RIP is above
 * the error code; guest_gp reports it and never returns. The program is
 * built with -mno-red-zone, so the pushes touch nothing of the code they
 * interrupt.
 */
__asm__(".text\n"
        ".globl guest_sint_entry\n"
        "guest_sint_entry:\n"
        "    pushq %rax\n    pushq %rcx\n    pushq %rdx\n    pushq %rsi\n    pushq %rdi\n"
        "    pushq %r8\n    pushq %r9\n    pushq %r10\n    pushq %r11\n"
        "    cld\n"
        "    call guest_sint\n"
        "    popq %r11\n    popq %r10\n    popq %r9\n    popq %r8\n    popq %rdi\n"
        "    popq %rsi\n    popq %rdx\n    popq %rcx\n    popq %rax\n"
        "    iretq\n"
        ".globl guest_gp_entry\n"
        "guest_gp_entry:\n"
        "    movq 8(%rsp), %rdi\n"
        "    cld\n"
        "    call guest_gp\n"
        "2:  cli\n    hlt\n    jmp 2b\n"
        ".previous\n");

void guest_main(void);
void guest_sint(void);
void guest_gp(uint64_t rip);
extern const char guest_sint_entry[], guest_gp_entry[];

/* ---- the four memory functions the compiler and the client may call ----
 * (declared by <string.h>, with glibc's reserved parameter names; defined
 * here, as nothing else is linked) */
/* NOLINTBEGIN(readability-inconsistent-declaration-parameter-name) */

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;

    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;

    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    /* Overlapping, destination above: copy backwards. */
    d += n - 1;
    s += n - 1;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory", "cc");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}
/* NOLINTEND(readability-inconsistent-declaration-parameter-name) */

/* ---- the hardware ---- */

static uint8_t *gpa_ptr(uint64_t gpa)
{
    /* Identity-mapped: a GPA is the address (the cast is the point). */
    return (uint8_t *)(uintptr_t)gpa; /* NOLINT(performance-no-int-to-ptr) */
}

static uint64_t ctl_get(uint32_t off)
{
    return __atomic_load_n((const uint64_t *)gpa_ptr(ROOT_CTL_GPA + off), __ATOMIC_ACQUIRE);
}

static void ctl_put(uint32_t off, uint64_t value)
{
    __atomic_store_n((uint64_t *)gpa_ptr(ROOT_CTL_GPA + off), value, __ATOMIC_RELEASE);
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static void doorbell(uint8_t why)
{
    __asm__ volatile("outb %0, %1" : : "a"(why), "i"(ROOT_PORT_DOORBELL) : "memory");
}

static void halt(void)
{
    __asm__ volatile("hlt" : : : "memory");
}

static void cli(void)
{
    __asm__ volatile("cli" : : : "memory");
}

static void sti(void)
{
    __asm__ volatile("sti" : : : "memory");
}

/* A guest that never exits again (ROOT_CTL_SPIN_AT_STOP): no HLT, no
 * PAUSE, no port or MSR, nothing the VMM would see. */
static void spin(void)
{
    for (;;)
        __asm__ volatile("" : : : "memory");
}

/* STI's one-instruction shadow makes the pair atomic: an interrupt that is
 * due once IF is set ends the HLT rather than landing before it. */
static void sti_hlt(void)
{
    __asm__ volatile("sti\n\thlt" : : : "memory");
}

/* ---- descriptor tables ---- */

struct pseudo_descriptor {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* Null, 64-bit code (selector 8), data (16): the selectors the VMM loaded;
 * interrupt delivery reads CS from here and iretq reads CS and SS. */
static const uint64_t gdt[3] __attribute__((aligned(8))) = {0, 0x00AF9A000000FFFFull,
                                                            0x00CF92000000FFFFull};
/* Vectors 0..ROOT_SINT0_VECTOR: 16 bytes each. An absent gate is a #NP,
 * then a double fault, then a shutdown: the VMM reports a triple fault. */
static uint64_t idt[ROOT_SINT0_VECTOR + 1][2] __attribute__((aligned(16)));

static void idt_gate(uint32_t vector, const char *entry)
{
    uint64_t off = (uint64_t)(uintptr_t)entry;

    /* Offset 15:0, selector 8, IST 0, type 0xE (64-bit interrupt gate:
     * IF cleared on entry), present, DPL 0, offset 31:16; offset 63:32. */
    idt[vector][0] = (off & 0xFFFFu) | 8ull << 16 | 0x8Eull << 40 | ((off >> 16) & 0xFFFFu) << 48;
    idt[vector][1] = off >> 32;
}

static void load_tables(void)
{
    struct pseudo_descriptor gdtr = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    struct pseudo_descriptor idtr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};

    idt_gate(13, guest_gp_entry);
    idt_gate(ROOT_SINT0_VECTOR, guest_sint_entry);
    __asm__ volatile("lgdt %0\n\tlidt %1" : : "m"(gdtr), "m"(idtr) : "memory");
}

/* ---- the root ops ---- */

struct guest {
    uint8_t *heap_next, *heap_end;
    uint64_t root_bytes;
    uint8_t *sim_page;
};

static uint64_t op_hypercall(void *ctx, uint32_t vp, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    register uint64_t out_gpa __asm__("r8") = r8;
    uint64_t rax;

    (void)ctx;
    (void)vp; /* one vCPU: every call is VP 0's */
    __asm__ volatile("call *%[page]"
                     : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(out_gpa)
                     : [page] "r"(gpa_ptr(ROOT_HCPAGE_GPA))
                     : "cc", "memory", "r9", "r10", "r11");
    return rax;
}

static uint64_t op_scratch(void *ctx, uint32_t index, uint8_t **hva)
{
    uint64_t gpa = ctl_get(index ? ROOT_CTL_SCRATCH1 : ROOT_CTL_SCRATCH0);

    (void)ctx;
    *hva = gpa_ptr(gpa);
    return gpa;
}

static const uint8_t *op_view(void *ctx, uint64_t gpa, uint32_t len)
{
    const struct guest *g = ctx;

    if (gpa == 0 || gpa >= g->root_bytes || len > g->root_bytes - gpa)
        return NULL;
    return gpa_ptr(gpa);
}

static uint8_t *op_message_page(void *ctx, uint32_t vp)
{
    const struct guest *g = ctx;

    return vp == 0 ? g->sim_page : NULL;
}

static void op_eom(void *ctx, uint32_t vp)
{
    (void)ctx;
    if (vp == 0)
        wrmsr(HV_X64_MSR_EOM, 0);
}

static uint64_t op_reference_time(void *ctx, uint32_t vp)
{
    (void)ctx;
    (void)vp;
    return rdmsr(0x40000020u); /* HV_X64_MSR_TIME_REF_COUNT */
}

/* A bump heap: the client allocates at create and per mapped buffer, and
 * this program prepares once, so what is freed is not reused. */
static void *heap_alloc(void *ctx, size_t bytes)
{
    struct guest *g = ctx;
    uint8_t *p = g->heap_next;

    bytes = (bytes + 15u) & ~(size_t)15u;
    if (bytes > (size_t)(g->heap_end - p))
        return NULL;
    g->heap_next = p + bytes;
    return p;
}

static void heap_free(void *ctx, void *memory)
{
    (void)ctx;
    (void)memory;
}

/* ---- the channel to the VMM ---- */

static void ring_flush(void)
{
    if (ctl_get(ROOT_CTL_RING_USED) != 0)
        doorbell(ROOT_BELL_RECORDS); /* the VMM consumes and sets it back to 0 */
}

static void keep_buffer(void *arg, const struct hvlog_buffer_summary *s, const uint8_t *bytes,
                        size_t len)
{
    static uint64_t handed; /* buffers handed over so far */
    uint64_t need = ROOT_RECORD_HEADER + ((len + 15u) & ~(size_t)15u), used;
    uint32_t index = s->buffer_index;
    uint8_t *rec;

    (void)arg;
    if (need > ROOT_RING_BYTES)
        return; /* cannot be: a buffer is at most 2 MiB */
    if (ctl_get(ROOT_CTL_RING_USED) + need > ROOT_RING_BYTES)
        ring_flush();
    used = ctl_get(ROOT_CTL_RING_USED);
    rec = gpa_ptr(ROOT_RING_GPA + used);
    hvlog_store_le32(rec, s->type);
    if (++handed == ctl_get(ROOT_CTL_MISNAME))
        index ^= 0x8000u; /* not the header's BufferIndex: the VMM must refuse it */
    hvlog_store_le32(rec + 4, index);
    hvlog_store_le32(rec + 8, (uint32_t)len);
    hvlog_store_le32(rec + 12, 0);
    memcpy(rec + ROOT_RECORD_HEADER, bytes, len);
    ctl_put(ROOT_CTL_RING_USED, used + need);
}

static const struct hvlog_client_sink sink = {NULL, keep_buffer, NULL, NULL};

/* ---- the program ---- */

static void fail(uint32_t step, uint64_t status)
{
    cli();
    ctl_put(ROOT_CTL_STATUS, status ? status : 1);
    ctl_put(ROOT_CTL_STEP, step);
    doorbell(ROOT_BELL_DONE);
    for (;;)
        halt();
}

/* The SINT0 handler (guest_sint_entry): count the entry; the main loop
 * drains (head comment). The only writer of ROOT_CTL_INTERRUPTS. */
void guest_sint(void)
{
    ctl_put(ROOT_CTL_INTERRUPTS, ctl_get(ROOT_CTL_INTERRUPTS) + 1);
}

/* #GP (a refused MSR access, say): report the RIP and stop. */
void guest_gp(uint64_t rip)
{
    fail(ROOT_STEP_FAULT, rip);
}

static uint32_t group_off(uint32_t type)
{
    return ROOT_CTL_GROUP + ROOT_CTL_GROUP_BYTES * type;
}

static void results(struct hvlog_client *client, uint32_t type)
{
    uint32_t r = ROOT_CTL_RESULT + ROOT_CTL_RESULT_BYTES * type;
    struct hvlog_client_stats s;
    uint64_t ref = 0;

    hvlog_client_stats(client, type, &s);
    ctl_put(r + ROOT_CTL_R_REF_KNOWN, hvlog_client_init_reference_time(client, type, &ref));
    ctl_put(r + ROOT_CTL_R_REF_TIME, ref);
    ctl_put(r + ROOT_CTL_R_MESSAGES, s.messages);
    ctl_put(r + ROOT_CTL_R_BUFFERS, s.buffers);
    ctl_put(r + ROOT_CTL_R_ENTRIES, s.entries);
    ctl_put(r + ROOT_CTL_R_EVENTS_LOST, s.events_lost);
    ctl_put(r + ROOT_CTL_R_CORRUPT, s.corrupt);
    ctl_put(r + ROOT_CTL_R_LONGEST_CHAIN, s.longest_chain);
    ctl_put(r + ROOT_CTL_R_RELEASE_FAILURES, s.release_failures);
    ctl_put(r + ROOT_CTL_R_BYTES, s.bytes);
}

/* §5.5: a mapped buffer is read-only to the root. Store into the unused
 * last byte of LocalDiagnostics buffer 0's header page; the VMM refuses it
 * (the page is a read-only slot), and the byte reads back as before. */
static void poke_mapped_buffer(const struct hvlog_client *client)
{
    uint32_t count = 0;
    const uint64_t *pages =
        hvlog_client_buffer_pages(client, HvEventLogTypeLocalDiagnostics, 0, &count);
    volatile uint8_t *p;
    uint8_t before;

    if (!pages || count == 0)
        return;
    p = gpa_ptr((pages[0] << 12) + 4095u);
    before = *p;
    *p = (uint8_t)(before ^ 0x5Au);
    ctl_put(ROOT_CTL_POKE_SAME, *p == before);
}

void guest_main(void)
{
    /* LocalDiagnostics first, as `hvlog record` prepares them (its
     * SystemTime/reference-time pair stays a pair). */
    static const uint32_t order[2] = {HvEventLogTypeLocalDiagnostics,
                                      HvEventLogTypeGlobalSystemEvents};
    static struct guest g;
    struct hvlog_root_ops ops;
    struct hvlog_client_config cc;
    struct hvlog_client *client;
    hv_status_t st;

    if (ctl_get(ROOT_CTL_MAGIC) != ROOT_MAGIC)
        fail(ROOT_STEP_MAGIC, 1);
    load_tables();
    sti();
    g.heap_next = gpa_ptr(ROOT_HEAP_GPA);
    g.heap_end = gpa_ptr(ROOT_HEAP_GPA + ROOT_HEAP_BYTES);
    g.root_bytes = ctl_get(ROOT_CTL_ROOT_BYTES);
    /* §8.5: the SynIC of VP 0, as a root driver enables it: the SIM page,
     * SINT0's vector (unmasked), then SCONTROL. Read SIMP back. */
    wrmsr(HV_X64_MSR_SIMP, ROOT_SIMP_GPA | HV_SIMP_ENABLE);
    wrmsr(HV_X64_MSR_SINT0, ROOT_SINT0_VECTOR);
    wrmsr(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
    if ((rdmsr(HV_X64_MSR_SIMP) & HV_SIMP_GPA_MASK) != ROOT_SIMP_GPA)
        fail(ROOT_STEP_SYNIC, 1);
    g.sim_page = gpa_ptr(ROOT_SIMP_GPA);
    if (ctl_get(ROOT_CTL_BAD_MSR))
        (void)rdmsr(ROOT_UNDEFINED_MSR); /* #GP: guest_gp ends the program */

    ops = (struct hvlog_root_ops){
        .hypercall = op_hypercall,
        .scratch_page = op_scratch,
        .view = op_view,
        .message_page = op_message_page,
        .eom = op_eom,
        .deposit = NULL, /* the VMM sized the pool: no retries */
        .read_reference_time = op_reference_time,
        .vp_count = (uint32_t)ctl_get(ROOT_CTL_VPS),
        .domain_count = (uint32_t)ctl_get(ROOT_CTL_DOMAINS),
    };
    cc = (struct hvlog_client_config){.ops = &ops, .ctx = &g,
                                      .abi = (enum hvlog_abi_profile)ctl_get(ROOT_CTL_ABI),
                                      .mem_alloc = heap_alloc, .mem_free = heap_free};
    if (hvlog_client_init(&cc, &client) != 0)
        fail(ROOT_STEP_CLIENT, 1);

    for (uint32_t k = 0; k < 2; k++) {
        uint32_t t = order[k], o = group_off(t);
        struct hvlog_group_params p;

        if (!ctl_get(o + ROOT_CTL_G_ENABLED))
            continue;
        p = (struct hvlog_group_params){
            .type = t,
            .buffer_count = (uint32_t)ctl_get(o + ROOT_CTL_G_BUFFERS),
            .buffer_pages = (uint32_t)ctl_get(o + ROOT_CTL_G_PAGES),
            .threshold = (uint32_t)ctl_get(o + ROOT_CTL_G_THRESHOLD),
            .time_basis = (uint32_t)ctl_get(o + ROOT_CTL_G_BASIS),
            .system_time = ctl_get(o + ROOT_CTL_G_SYSTEM_TIME),
            .create_count = 0,
            .mode = (uint32_t)ctl_get(o + ROOT_CTL_G_MODE),
        };
        st = hvlog_client_prepare(client, &p);
        if (st != HV_STATUS_SUCCESS)
            fail(ROOT_STEP_PREPARE, st);
        results(client, t);
    }
    for (uint32_t k = 0; k < 2; k++) {
        uint32_t t = order[k], o = group_off(t);

        if (!ctl_get(o + ROOT_CTL_G_ENABLED))
            continue;
        st = hvlog_client_set_sources(client, t, ctl_get(o + ROOT_CTL_G_SOURCES));
        if (st != HV_STATUS_SUCCESS)
            fail(ROOT_STEP_SOURCES, st);
    }
    if (ctl_get(ROOT_CTL_POKE))
        poke_mapped_buffer(client);
    doorbell(ROOT_BELL_PREPARED);

    /* The root's loop: sleep until SINT0's handler ran (or the VMM woke
     * it to stop), then drain what is ready and hand it over. The count is
     * read before the drain: an interrupt during it starts one more round,
     * and as the SynIC fills the slot before it interrupts, nothing is
     * left in the slot unseen. */
    for (uint64_t seen = 0, rounds = 0;;) {
        uint64_t now;

        cli();
        if (ctl_get(ROOT_CTL_STOP)) {
            sti();
            if (ctl_get(ROOT_CTL_SPIN_AT_STOP))
                spin();
            break;
        }
        now = ctl_get(ROOT_CTL_INTERRUPTS);
        if (now == seen) {
            sti_hlt();
            continue;
        }
        sti();
        seen = now;
        (void)hvlog_client_poll(client, 0, &sink, NULL);
        ring_flush();
        ctl_put(ROOT_CTL_POLLS, ++rounds);
    }

    /* §9 Conclude, each group, draining into the ring as it goes. */
    for (uint32_t k = 0; k < 2; k++) {
        uint32_t t = order[k];

        if (!ctl_get(group_off(t) + ROOT_CTL_G_ENABLED))
            continue;
        st = hvlog_client_conclude(client, t, &sink, NULL);
        ring_flush();
        results(client, t);
        if (st != HV_STATUS_SUCCESS)
            fail(ROOT_STEP_CONCLUDE, st);
    }
    /* No interrupt after this: the counts the VMM reads are final. */
    cli();
    doorbell(ROOT_BELL_DONE);
    for (;;)
        halt();
}
