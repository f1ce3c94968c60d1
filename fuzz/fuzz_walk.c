/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the buffer walker: arbitrary bytes as a buffer, in
 * both header conventions. It must never read outside the bytes, never
 * loop, and when it accepts a buffer, the entries it hands out must tile
 * [72, NextBufferOffset) exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvlog/trace/walk.h"
#include "hvlog/hvlog.h"

struct tally {
    uint32_t next_offset;
    uint32_t count;
};

static bool check_entry(void *arg, const struct hvlog_entry *e)
{
    struct tally *t = arg;

    if (e->offset != t->next_offset || e->payload_len + 16 != e->size) {
        fprintf(stderr, "fuzz_walk: entries do not tile the data, or payload is not Size - 16\n");
        abort();
    }
    t->next_offset = e->offset + ((e->size + 7u) & ~7u); /* D10: the step rounds Size up */
    t->count++;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly @size bytes, so ASan sees any read past the end. */
    uint8_t *bytes = malloc(size ? size : 1);

    if (!bytes)
        return 0;
    memcpy(bytes, data, size);
    hvlog_header_convention_guess(bytes, size);
    for (int conv = HVLOG_ABI_2013; conv <= HVLOG_ABI_CURRENT; conv++) {
        struct hvlog_buffer_summary s;
        struct tally t = {HV_EVENTLOG_BUFFER_HEADER_SIZE, 0};

        if (hvlog_buffer_walk(bytes, size, (enum hvlog_abi_profile)conv, NULL, &s,
                              check_entry, &t) == HVLOG_WALK_OK &&
            t.next_offset != s.data_end) {
            fprintf(stderr, "fuzz_walk: walk stopped at %u, data ends at %u\n", t.next_offset,
                    s.data_end);
            abort();
        }
    }
    free(bytes);
    return 0;
}
