/* SPDX-License-Identifier: MIT */
/*
 * Machine memory, the root's views of it, the page pool and overlays
 * (spec §5.3, §5.5, §3.4, DEC-MAPGPA, DEC-POOL, Q-GPA; issue #5 part 1).
 *
 * One memfd holds the whole machine and is mapped twice:
 *
 *   rw  PROT_READ|PROT_WRITE  the hypervisor's view: engine buffers, the
 *                             root's writable RAM pointers, children's RAM
 *   ro  PROT_READ/PROT_NONE   the root's GPA space [0, root_frames): readable
 *                             where the root may read, PROT_NONE elsewhere;
 *                             never PROT_WRITE, so a store always faults
 *
 * GPA = SPA for the root (DEC-MAPGPA), so a root GPA is an offset into
 * both views, and Map returns the buffer's machine frames as GPA pages.
 *
 * Frame kinds (one bit per root frame in each of three bitmaps):
 *
 *   deposited used overlay   kind                     root access
 *       0      0     0       RAM (fixed or deposit)   read, write
 *       1      0     0       free pool frame          none
 *       1      1     0       engine page, not mapped  none
 *       1      1     1       overlay page (mapped)    read only
 *
 * Fixed RAM (the bottom root_ram_pages of each region) is never deposited,
 * so the scratch and SIM pages in it need no lock. Everything else - the
 * bitmaps, the pool counters and the ro protections - is guarded by the
 * memory lock, a leaf (sim_internal.h): it is taken under the engine's
 * group lock (pages_alloc, overlay_map, gpa_* of a hypercall) and never
 * held while calling anything else.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/sim_internal.h"

/* 16 GiB of machine: the memfd is sparse, but the views are reserved. */
#define SIM_MAX_FRAMES (1ull << 22)
/* Pages the engine gets are filled with this: it must zero what it uses. */
#define SIM_POISON 0xA5

enum frame_access { ACCESS_NONE = 0, ACCESS_READ = 1, ACCESS_RW = 2 };

/* ---- bitmaps ---- */

static bool bit_get(const uint64_t *map, uint64_t i)
{
    return (map[i >> 6] >> (i & 63)) & 1u;
}

static void bits_put(uint64_t *map, uint64_t first, uint64_t n, bool on)
{
    for (uint64_t i = first; i < first + n; i++) {
        if (on)
            map[i >> 6] |= 1ull << (i & 63);
        else
            map[i >> 6] &= ~(1ull << (i & 63));
    }
}

static bool frame_free(const struct sim_memory *m, uint64_t f)
{
    return bit_get(m->deposited, f) && !bit_get(m->used, f);
}

static enum frame_access root_access(const struct sim_memory *m, uint64_t f)
{
    if (!bit_get(m->deposited, f))
        return ACCESS_RW;
    return bit_get(m->overlay, f) ? ACCESS_READ : ACCESS_NONE;
}

/* Bring the ro view's protections of [first, first + n) in line with the
 * frames' kinds, one mprotect per run of equal protection. Memory lock held. */
static int view_sync(struct sim_memory *m, uint64_t first, uint64_t n)
{
    int rc = 0;

    for (uint64_t f = first; f < first + n;) {
        int prot = root_access(m, f) == ACCESS_NONE ? PROT_NONE : PROT_READ;
        uint64_t end = f + 1;

        while (end < first + n &&
               (root_access(m, end) == ACCESS_NONE ? PROT_NONE : PROT_READ) == prot)
            end++;
        if (mprotect(m->ro + f * SIM_PAGE, (end - f) * SIM_PAGE, prot) != 0)
            rc = -1;
        f = end;
    }
    return rc;
}

/* ---- layout ---- */

uint64_t hvlog__sim_region_base(const struct sim_memory *m, uint32_t d)
{
    return (uint64_t)d * m->region_frames;
}

bool hvlog__sim_fixed_ram(const struct sim_memory *m, uint64_t gpa, uint64_t len)
{
    uint64_t f = gpa / SIM_PAGE, last;

    if (len == 0 || gpa >= m->root_frames * SIM_PAGE || len > m->root_frames * SIM_PAGE - gpa)
        return false;
    last = (gpa + len - 1) / SIM_PAGE;
    /* A range in fixed RAM lies inside one region's fixed part. */
    return f / m->region_frames == last / m->region_frames &&
           last % m->region_frames < m->fixed_frames;
}

uint8_t *hvlog__sim_rw_of_gpa(const struct sim_memory *m, uint64_t gpa)
{
    return m->rw + gpa;
}

int hvlog__sim_memory_init(struct sim_memory *m, const struct hvlog_sim_config *c)
{
    uint64_t words;

    memset(m, 0, sizeof(*m));
    m->fd = -1;
    /* First, so that hvlog__sim_memory_fini() can always destroy it. */
    if (pthread_mutex_init(&m->lock, NULL) != 0)
        return -1;
    m->domains = c->domains;
    m->fixed_frames = c->root_ram_pages;
    m->deposit_frames = c->deposit_frames ? c->deposit_frames : 2 * c->pool_pages;
    m->children = c->children;
    m->scatter = c->scatter_pages;
    m->scatter_rng = hvlog__sim_rng_seed(c->seed, UINT32_MAX);
    if ((uint64_t)m->fixed_frames + m->deposit_frames > SIM_MAX_FRAMES)
        return -1;
    m->region_frames = m->fixed_frames + m->deposit_frames;
    m->root_frames = (uint64_t)m->domains * m->region_frames;
    m->child_base = m->root_frames;
    m->total_frames = m->root_frames + (uint64_t)m->children * HVLOG_SIM_CHILD_RAM_PAGES;
    if (m->total_frames > SIM_MAX_FRAMES || c->pool_pages > m->deposit_frames)
        return -1;

    m->fd = memfd_create("hvlog-sim", MFD_CLOEXEC);
    if (m->fd < 0 || ftruncate(m->fd, (off_t)(m->total_frames * SIM_PAGE)) != 0)
        return -1;
    m->rw = mmap(NULL, m->total_frames * SIM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (m->rw == MAP_FAILED) {
        m->rw = NULL;
        return -1;
    }
    /* Every frame starts as root RAM: readable. */
    m->ro = mmap(NULL, m->root_frames * SIM_PAGE, PROT_READ, MAP_SHARED, m->fd, 0);
    if (m->ro == MAP_FAILED) {
        m->ro = NULL;
        return -1;
    }
    words = (m->root_frames + 63) / 64;
    m->deposited = calloc(words, sizeof(uint64_t));
    m->used = calloc(words, sizeof(uint64_t));
    m->overlay = calloc(words, sizeof(uint64_t));
    m->pool_deposited = calloc(m->domains, sizeof(uint32_t));
    m->pool_used = calloc(m->domains, sizeof(uint32_t));
    m->alloc_of_frame = calloc(m->root_frames, sizeof(struct sim_alloc *));
    if (!m->deposited || !m->used || !m->overlay || !m->pool_deposited || !m->pool_used ||
        !m->alloc_of_frame)
        return -1;
    return 0;
}

/* Also undoes a partial hvlog__sim_memory_init (whose first step is the mutex). */
void hvlog__sim_memory_fini(struct sim_memory *m)
{
    if (m->ro)
        munmap(m->ro, m->root_frames * SIM_PAGE);
    if (m->rw)
        munmap(m->rw, m->total_frames * SIM_PAGE);
    if (m->fd >= 0)
        close(m->fd);
    free(m->deposited);
    free(m->used);
    free(m->overlay);
    free(m->pool_deposited);
    free(m->pool_used);
    free(m->alloc_of_frame);
    pthread_mutex_destroy(&m->lock);
    memset(m, 0, sizeof(*m));
    m->fd = -1;
}

/* ---- the pool: deposit, withdraw (HvDepositMemory / HvWithdrawMemory) ---- */

int hvlog_sim_deposit(struct hvlog_sim *sim, uint32_t domain, uint32_t pages)
{
    struct sim_memory *m = &sim->memory;
    uint64_t lo, hi, avail;
    int rc = -1;

    if (domain >= m->domains)
        return -1;
    lo = hvlog__sim_region_base(m, domain) + m->fixed_frames;
    hi = hvlog__sim_region_base(m, domain) + m->region_frames;
    pthread_mutex_lock(&m->lock);
    avail = m->deposit_frames - m->pool_deposited[domain];
    if (pages <= avail) {
        /* Lowest frames first: deposits stay contiguous, so runs for
         * multi-page buffers exist (the engine needs contiguous hva). */
        uint32_t left = pages;
        for (uint64_t f = lo; f < hi && left; f++) {
            if (!bit_get(m->deposited, f)) {
                bits_put(m->deposited, f, 1, true);
                left--;
            }
        }
        m->pool_deposited[domain] += pages;
        /* The root's view loses the frames. On failure the bits stand: the
         * view only shows more than the root may read, never less. */
        view_sync(m, lo, hi - lo);
        rc = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int hvlog_sim_withdraw(struct hvlog_sim *sim, uint32_t domain, uint32_t pages)
{
    struct sim_memory *m = &sim->memory;
    uint64_t lo, hi;
    int rc = -1;

    if (domain >= m->domains)
        return -1;
    lo = hvlog__sim_region_base(m, domain) + m->fixed_frames;
    hi = hvlog__sim_region_base(m, domain) + m->region_frames;
    pthread_mutex_lock(&m->lock);
    if (pages <= m->pool_deposited[domain] - m->pool_used[domain]) {
        /* Highest free frames first, keeping the low runs for allocation. */
        uint32_t left = pages;
        for (uint64_t f = hi; f > lo && left; f--) {
            if (frame_free(m, f - 1)) {
                /* Scrubbed: the root never sees what the hypervisor left. */
                memset(m->rw + (f - 1) * SIM_PAGE, 0, SIM_PAGE);
                bits_put(m->deposited, f - 1, 1, false);
                left--;
            }
        }
        m->pool_deposited[domain] -= pages;
        view_sync(m, lo, hi - lo);
        rc = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

uint32_t hvlog_sim_pool_free(struct hvlog_sim *sim, uint32_t domain)
{
    struct sim_memory *m = &sim->memory;
    uint32_t n;

    if (domain >= m->domains)
        return 0;
    pthread_mutex_lock(&m->lock);
    n = m->pool_deposited[domain] - m->pool_used[domain];
    pthread_mutex_unlock(&m->lock);
    return n;
}

uint32_t hvlog_sim_domain_count(const struct hvlog_sim *sim)
{
    return sim->memory.domains;
}

/* First fit: the lowest run of @count free pool frames of domain @d. */
static uint64_t find_run(const struct sim_memory *m, uint32_t d, uint32_t count)
{
    uint64_t lo = hvlog__sim_region_base(m, d) + m->fixed_frames;
    uint64_t hi = hvlog__sim_region_base(m, d) + m->region_frames;
    uint64_t run = 0;

    for (uint64_t f = lo; f < hi;) {
        /* Skip whole words with no free frame. */
        if ((f & 63) == 0 && f + 64 <= hi && (m->deposited[f >> 6] & ~m->used[f >> 6]) == 0) {
            run = 0;
            f += 64;
            continue;
        }
        if (frame_free(m, f)) {
            if (++run == count)
                return f + 1 - count;
        } else {
            run = 0;
        }
        f++;
    }
    return UINT64_MAX;
}

/*
 * One allocation handed to the engine (hvlog_pages.handle is its first
 * frame, the key of sim_memory.alloc_of_frame):
 * its machine frames, in page order, and the hypervisor's address of them.
 * §5.3 asks only for BufferPages pages of the pool, and §5.5 returns one
 * GPA page number per page: nothing makes them consecutive. A run of
 * adjacent frames is used as it is (@hva points into the rw view); other
 * frames get an alias, a private mapping of the memfd frame by frame, so
 * the engine still sees one range (as a hypervisor maps scattered pages
 * into its own address space, and as the Linux driver vmaps the page list
 * Map returns, research/real-clients.md §1.1).
 */
struct sim_alloc {
    uint8_t *hva;       /* the engine's contiguous view */
    uint8_t *alias;     /* NULL for a run (hva is in rw) */
    uint32_t count;
    uint32_t domain;
    uint64_t frame[];   /* [count], page k of the allocation */
};

/* Scatter: @count free frames of domain @d in a seeded random order (no
 * two pages adjacent unless the draw says so); else the lowest free
 * frames. Returns whether the domain has that many. Memory lock held. */
static bool pick_frames(struct sim_memory *m, uint32_t d, uint32_t count, bool scatter,
                        uint64_t *frame)
{
    uint64_t lo = hvlog__sim_region_base(m, d) + m->fixed_frames;
    uint64_t hi = hvlog__sim_region_base(m, d) + m->region_frames;
    uint32_t n = 0;

    if (m->pool_deposited[d] - m->pool_used[d] < count)
        return false;
    if (!scatter) {
        for (uint64_t f = lo; f < hi && n < count; f++) {
            if (frame_free(m, f))
                frame[n++] = f;
        }
        return n == count;
    }
    /* Draw without replacement: a free frame not drawn yet, by rejection
     * (the pool has at least @count free frames, so this ends). */
    while (n < count) {
        uint64_t f = lo + hvlog__sim_rng_next(&m->scatter_rng) % (hi - lo);
        bool taken = !frame_free(m, f);

        for (uint32_t k = 0; k < n && !taken; k++)
            taken = frame[k] == f;
        if (!taken)
            frame[n++] = f;
    }
    return true;
}

static bool frames_are_run(const struct sim_alloc *a)
{
    for (uint32_t k = 1; k < a->count; k++) {
        if (a->frame[k] != a->frame[0] + k)
            return false;
    }
    return true;
}

/* The alias of scattered frames; 0 or -1 (nothing left mapped). */
static int alias_build(struct sim_memory *m, struct sim_alloc *a)
{
    void *base = mmap(NULL, (size_t)a->count * SIM_PAGE, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (base == MAP_FAILED || base == NULL)
        return -1;
    for (uint32_t k = 0; k < a->count; k++) {
        void *at = (uint8_t *)base + (size_t)k * SIM_PAGE;

        if (mmap(at, SIM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m->fd,
                 (off_t)(a->frame[k] * SIM_PAGE)) == MAP_FAILED) {
            munmap(base, (size_t)a->count * SIM_PAGE);
            return -1;
        }
    }
    a->alias = base;
    a->hva = base;
    return 0;
}

static void frames_put(const struct sim_alloc *a, uint64_t *map, bool on)
{
    for (uint32_t k = 0; k < a->count; k++)
        bits_put(map, a->frame[k], 1, on);
}

/* The ro view of the allocation's frames, one mprotect for a run. */
static int frames_sync(struct sim_memory *m, const struct sim_alloc *a)
{
    int rc = 0;

    if (!a->alias)
        return view_sync(m, a->frame[0], a->count);
    for (uint32_t k = 0; k < a->count; k++)
        rc |= view_sync(m, a->frame[k], 1);
    return rc;
}

/*
 * pages_alloc: @count pages of domain @domain (strict), or of any domain,
 * the requested one first (§4.3, DEC-POOL). Unless the sim scatters
 * (hvlog_sim_config.scatter_pages), the lowest run of adjacent free frames;
 * failing that, any free frames of the domain: a fragmented pool that
 * holds the pages can supply them (§5.3's INSUFFICIENT_MEMORY is "the pool
 * cannot supply BufferPages pages", not "no run"). Not zeroed: poisoned,
 * so an engine that forgets to zero is caught.
 */
int hvlog__sim_pages_alloc(void *ctx, uint32_t domain, bool strict, uint32_t count,
                           struct hvlog_pages *out)
{
    struct hvlog_sim *sim = sim_of(ctx);
    struct sim_memory *m = &sim->memory;
    struct sim_alloc *a;
    bool found = false;
    uint32_t d = 0;

    if (count == 0 || hvlog__sim_fault_hit(sim, HVLOG_SIM_FAULT_ALLOC))
        return -1;
    if (strict && domain >= m->domains)
        return -1;
    a = malloc(sizeof(*a) + (size_t)count * sizeof(a->frame[0]));
    if (!a)
        return -1;
    pthread_mutex_lock(&m->lock);
    for (uint32_t i = 0; !found && i <= m->domains; i++) {
        /* i == 0: the requested domain; then the others unless strict. */
        if (i == 0 ? domain >= m->domains : strict || i - 1 == domain)
            continue;
        d = i == 0 ? domain : i - 1;
        if (!m->scatter) {
            uint64_t first = find_run(m, d, count);

            if (first != UINT64_MAX) {
                for (uint32_t k = 0; k < count; k++)
                    a->frame[k] = first + k;
                found = true;
                continue;
            }
        }
        found = pick_frames(m, d, count, m->scatter && count > 1, a->frame);
    }
    if (found) {
        a->count = count;
        a->domain = d;
        a->alias = NULL;
        frames_put(a, m->used, true);
        m->pool_used[d] += count;
    }
    pthread_mutex_unlock(&m->lock);
    if (!found) {
        free(a);
        return -1;
    }
    if (frames_are_run(a)) {
        a->hva = m->rw + a->frame[0] * SIM_PAGE;
    } else if (alias_build(m, a) != 0) {
        pthread_mutex_lock(&m->lock);
        frames_put(a, m->used, false);
        m->pool_used[d] -= count;
        pthread_mutex_unlock(&m->lock);
        free(a);
        return -1;
    }
    pthread_mutex_lock(&m->lock);
    m->alloc_of_frame[a->frame[0]] = a;
    pthread_mutex_unlock(&m->lock);
    /* The frames are the engine's now: fill them outside the lock. */
    memset(a->hva, SIM_POISON, (size_t)count * SIM_PAGE);
    out->hva = a->hva;
    out->handle = a->frame[0]; /* the key of alloc_of_frame */
    out->count = count;
    out->domain = d;
    return 0;
}

/* The allocation @pages names. Memory lock held. */
static struct sim_alloc *alloc_of(const struct sim_memory *m, const struct hvlog_pages *pages)
{
    return m->alloc_of_frame[pages->handle];
}

uint64_t hvlog__sim_pages_frame(struct hvlog_sim *sim, const struct hvlog_pages *pages, uint32_t k)
{
    struct sim_memory *m = &sim->memory;
    uint64_t f;

    pthread_mutex_lock(&m->lock);
    f = alloc_of(m, pages)->frame[k];
    pthread_mutex_unlock(&m->lock);
    return f;
}

void hvlog__sim_pages_free(void *ctx, const struct hvlog_pages *pages)
{
    struct sim_memory *m = &sim_of(ctx)->memory;
    struct sim_alloc *a;

    pthread_mutex_lock(&m->lock);
    a = alloc_of(m, pages);
    m->alloc_of_frame[pages->handle] = NULL;
    /* The engine unmaps before it frees; should an overlay remain, the
     * root loses it here rather than reading a recycled page. */
    frames_put(a, m->overlay, false);
    frames_put(a, m->used, false);
    m->pool_used[a->domain] -= a->count;
    frames_sync(m, a);
    pthread_mutex_unlock(&m->lock);
    if (a->alias)
        munmap(a->alias, (size_t)a->count * SIM_PAGE);
    free(a);
}

/* ---- overlays (§5.5, §5.6) ---- */

int hvlog__sim_overlay_map(void *ctx, const struct hvlog_pages *pages, uint64_t *gpa_pages)
{
    struct hvlog_sim *sim = sim_of(ctx);
    struct sim_memory *m = &sim->memory;
    const struct sim_alloc *a;
    int rc;

    if (hvlog__sim_fault_hit(sim, HVLOG_SIM_FAULT_MAP))
        return -1;
    pthread_mutex_lock(&m->lock);
    a = alloc_of(m, pages);
    frames_put(a, m->overlay, true);
    rc = frames_sync(m, a);
    if (rc != 0) { /* no mapping without the view: undo */
        frames_put(a, m->overlay, false);
        frames_sync(m, a);
    }
    pthread_mutex_unlock(&m->lock);
    if (rc != 0)
        return -1;
    /* DEC-MAPGPA: identity, GPA page = machine frame, page by page. The
     * allocation stays until pages_free, which the engine cannot call
     * while this call holds its group lock. */
    for (uint32_t k = 0; k < a->count; k++)
        gpa_pages[k] = a->frame[k];
    return 0;
}

void hvlog__sim_overlay_unmap(void *ctx, const struct hvlog_pages *pages)
{
    struct sim_memory *m = &sim_of(ctx)->memory;
    const struct sim_alloc *a;

    pthread_mutex_lock(&m->lock);
    a = alloc_of(m, pages);
    frames_put(a, m->overlay, false);
    frames_sync(m, a);
    pthread_mutex_unlock(&m->lock);
}

/* ---- guest memory by GPA (§3.4, Q-GPA) ---- */

/* Can @partition access [gpa, gpa + len)? On OK, *hva is the rw address.
 * Memory lock held (root frames change kind). */
static enum hvlog_gpa_result probe_locked(const struct sim_memory *m, uint64_t partition,
                                          uint64_t gpa, uint32_t len, bool write, uint8_t **hva)
{
    uint64_t n = len ? len : 1;

    if (partition == HVLOG_SIM_ROOT_ID) {
        uint64_t size = m->root_frames * SIM_PAGE;

        if (gpa >= size || n > size - gpa)
            return HVLOG_GPA_OUT_OF_RANGE;
        for (uint64_t f = gpa / SIM_PAGE; f <= (gpa + n - 1) / SIM_PAGE; f++) {
            enum frame_access a = root_access(m, f);
            if (a == ACCESS_NONE || (write && a != ACCESS_RW))
                return HVLOG_GPA_FAULT; /* a pool page, or a write to an overlay */
        }
        *hva = m->rw + gpa;
        return HVLOG_GPA_OK;
    }
    if (partition >= HVLOG_SIM_FIRST_CHILD_ID &&
        partition - HVLOG_SIM_FIRST_CHILD_ID < m->children) {
        uint64_t size = (uint64_t)HVLOG_SIM_CHILD_RAM_PAGES * SIM_PAGE;
        uint64_t child = partition - HVLOG_SIM_FIRST_CHILD_ID;

        if (gpa >= size || n > size - gpa)
            return HVLOG_GPA_OUT_OF_RANGE;
        *hva = m->rw + (m->child_base + child * HVLOG_SIM_CHILD_RAM_PAGES) * SIM_PAGE + gpa;
        return HVLOG_GPA_OK;
    }
    return HVLOG_GPA_OUT_OF_RANGE; /* no such partition: no GPA space */
}

enum hvlog_gpa_result hvlog__sim_gpa_probe(void *ctx, uint64_t partition_id, uint64_t gpa, uint32_t len,
                                           bool write)
{
    struct sim_memory *m = &sim_of(ctx)->memory;
    enum hvlog_gpa_result r;
    uint8_t *hva;

    pthread_mutex_lock(&m->lock);
    r = probe_locked(m, partition_id, gpa, len, write, &hva);
    pthread_mutex_unlock(&m->lock);
    return r;
}

enum hvlog_gpa_result hvlog__sim_gpa_read(void *ctx, uint64_t partition_id, uint64_t gpa, void *dst,
                                          uint32_t len)
{
    struct sim_memory *m = &sim_of(ctx)->memory;
    enum hvlog_gpa_result r;
    uint8_t *hva;

    pthread_mutex_lock(&m->lock);
    r = probe_locked(m, partition_id, gpa, len, false, &hva);
    if (r == HVLOG_GPA_OK && len)
        memcpy(dst, hva, len);
    pthread_mutex_unlock(&m->lock);
    return r;
}

enum hvlog_gpa_result hvlog__sim_gpa_write(void *ctx, uint64_t partition_id, uint64_t gpa,
                                           const void *src, uint32_t len)
{
    struct sim_memory *m = &sim_of(ctx)->memory;
    enum hvlog_gpa_result r;
    uint8_t *hva;

    pthread_mutex_lock(&m->lock);
    r = probe_locked(m, partition_id, gpa, len, true, &hva);
    if (r == HVLOG_GPA_OK && len)
        memcpy(hva, src, len);
    pthread_mutex_unlock(&m->lock);
    return r;
}

/* The guest's own accesses: a fault is a memory intercept (Q-GPA). */
enum hvlog_gpa_result hvlog_sim_gpa_read(struct hvlog_sim *sim, uint64_t partition_id,
                                         uint64_t gpa, void *dst, uint32_t len)
{
    enum hvlog_gpa_result r = hvlog__sim_gpa_read(sim, partition_id, gpa, dst, len);

    if (r == HVLOG_GPA_FAULT)
        hvlog__sim_count_intercept(sim);
    return r;
}

enum hvlog_gpa_result hvlog_sim_gpa_write(struct hvlog_sim *sim, uint64_t partition_id,
                                          uint64_t gpa, const void *src, uint32_t len)
{
    enum hvlog_gpa_result r = hvlog__sim_gpa_write(sim, partition_id, gpa, src, len);

    if (r == HVLOG_GPA_FAULT)
        hvlog__sim_count_intercept(sim);
    return r;
}

/* ---- the root's pointers ---- */

uint64_t hvlog_sim_root_page(struct hvlog_sim *sim, uint32_t index, uint8_t **hva)
{
    /* Domain 0's fixed RAM: page 0 is left unused (GPA 0 reads as "none"
     * to many drivers), then the scratch pages. */
    uint64_t gpa = (1ull + index) * SIM_PAGE;

    if (index >= HVLOG_SIM_ROOT_SCRATCH_PAGES)
        return 0;
    if (hva)
        *hva = hvlog__sim_rw_of_gpa(&sim->memory, gpa);
    return gpa;
}

const uint8_t *hvlog_sim_root_view(struct hvlog_sim *sim, uint64_t gpa, uint32_t len)
{
    struct sim_memory *m = &sim->memory;
    const uint8_t *p = NULL;
    uint8_t *hva;

    pthread_mutex_lock(&m->lock);
    if (probe_locked(m, HVLOG_SIM_ROOT_ID, gpa, len, false, &hva) == HVLOG_GPA_OK)
        p = m->ro + gpa;
    pthread_mutex_unlock(&m->lock);
    return p;
}

/* ---- the root's GPA space for a VMM (sim.h) ---- */

uint8_t *hvlog_sim_root_memory(struct hvlog_sim *sim, uint64_t *bytes, uint64_t *fixed_bytes)
{
    if (bytes)
        *bytes = sim->memory.root_frames * SIM_PAGE;
    if (fixed_bytes)
        *fixed_bytes = (uint64_t)sim->memory.fixed_frames * SIM_PAGE;
    return sim->memory.rw;
}

uint64_t hvlog_sim_root_access_run(struct hvlog_sim *sim, uint64_t gpa,
                                   enum hvlog_sim_root_access *access)
{
    struct sim_memory *m = &sim->memory;
    uint64_t f = gpa / SIM_PAGE, end;
    enum frame_access a;

    if (f >= m->root_frames)
        return 0;
    pthread_mutex_lock(&m->lock);
    a = root_access(m, f);
    for (end = f + 1; end < m->root_frames && root_access(m, end) == a; end++)
        ;
    pthread_mutex_unlock(&m->lock);
    *access = a == ACCESS_RW     ? HVLOG_SIM_ROOT_RW
              : a == ACCESS_READ ? HVLOG_SIM_ROOT_READ
                                 : HVLOG_SIM_ROOT_NONE;
    return end * SIM_PAGE - gpa;
}
