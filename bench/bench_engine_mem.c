/* SPDX-License-Identifier: MIT */
/*
 * bench_engine_mem: the engine's own memory against its LP count (issue
 * 16): hvlog_engine_size() for a range of lp_count, and the bytes each LP
 * adds. Buffer pages come from the host's pool and are not counted: they
 * are sized by the groups (at most 512 buffers each, spec §2.3), not by
 * the LPs. No timing; one line per LP count, then the slope.
 */
#include <inttypes.h>
#include <stdio.h>

#include "hvlog/engine/engine.h"

static uint64_t no_time(void *ctx)
{
    (void)ctx;
    return 0;
}

static int no_pages(void *ctx, uint32_t domain, bool strict, uint32_t count,
                    struct hvlog_pages *out)
{
    (void)ctx, (void)domain, (void)strict, (void)count, (void)out;
    return -1;
}

static void no_free(void *ctx, const struct hvlog_pages *pages)
{
    (void)ctx, (void)pages;
}

static enum hvlog_post_result no_post(void *ctx, uint32_t vp, const struct hv_message *msg,
                                      uint64_t token)
{
    (void)ctx, (void)vp, (void)msg, (void)token;
    return HVLOG_POST_REFUSED;
}

int main(void)
{
    static const uint32_t counts[] = {1, 2, 64, 256, 512, 1024, 2048};
    struct hvlog_host_ops ops = {
        .size = sizeof ops,
        .ref_time_100ns = no_time,
        .pages_alloc = no_pages,
        .pages_free = no_free,
        .post_message = no_post,
    };
    struct hvlog_engine_config c = {
        .size = sizeof c, .root_vp_count = 1, .root_partition_id = 1, .ops = &ops,
        .profile = hvlog_profile_preset(HVLOG_ABI_CURRENT),
    };
    size_t first = 0, last = 0;

    printf("lps engine_bytes\n");
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        size_t bytes;

        c.lp_count = counts[i];
        bytes = hvlog_engine_size(&c);
        if (bytes == 0) {
            fprintf(stderr, "bench_engine_mem: lp_count %u refused\n", counts[i]);
            return 1;
        }
        if (i == 0)
            first = bytes;
        last = bytes;
        printf("%u %zu\n", counts[i], bytes);
    }
    printf("per_lp %.1f\n", (double)(last - first) / (counts[sizeof counts / sizeof counts[0] - 1] - 1));
    return 0;
}
