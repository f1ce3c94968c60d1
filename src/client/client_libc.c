/* SPDX-License-Identifier: MIT */
/*
 * The hosted entry of the root client (hvlog/client/client.h): calloc and
 * free as its memory when the caller gives no hooks. Kept out of client.c,
 * which builds freestanding for the KVM host's guest root (issue 15).
 */
#include <stdlib.h>

#include "hvlog/client/client.h"

static void *libc_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return calloc(1, bytes);
}

static void libc_free(void *ctx, void *memory)
{
    (void)ctx;
    free(memory);
}

int hvlog_client_create(const struct hvlog_client_config *config, struct hvlog_client **out)
{
    struct hvlog_client_config c;

    if (!config)
        return -1;
    c = *config;
    if (!c.mem_alloc && !c.mem_free) {
        c.mem_alloc = libc_alloc;
        c.mem_free = libc_free;
    }
    return hvlog_client_init(&c, out);
}
