/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the buffer walker: arbitrary bytes as a buffer, in
 * both header conventions, walked once with no expectation and once with a
 * random one. It must never read outside the bytes, never loop, and:
 *   - when it accepts a buffer, the entries it hands out tile
 *     [72, NextBufferOffset) exactly;
 *   - an expectation changes the verdict exactly as the check order of
 *     hvlog_buffer_summarize says (size, BufferSize match, length, offset,
 *     Type, BufferIndex, BufferState), recomputed here from the raw header
 *     bytes; a buffer accepted under an expectation yields the same
 *     entries as without one (issue 13: the type/index/state checks were
 *     never reached when the harness passed no expectation).
 *
 * Input: when at least 17 bytes long, byte 0 picks, two bits per field
 * (type, index, state, buffer_bytes), how the expectation is made: 0 = any,
 * 1 = the buffer's own value (a match), 2 = the value from bytes 1..16,
 * 3 = the buffer's own value XOR 1 (a near miss). The buffer follows.
 * Shorter inputs are a buffer walked with no expectation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvlog/trace/walk.h"
#include "hvlog/hvlog.h"

/* Raw header offsets, read here independently of the walker (§4.4). */
enum { OFF_SIZE = 0, OFF_INDEX = 4, OFF_STATE = 44, OFF_NEXT = 48, OFF_TYPE = 52 };

struct tally {
    uint32_t next_offset;
    uint32_t count;
};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_walk: %s\n", what);
    abort();
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool check_entry(void *arg, const struct hvlog_entry *e)
{
    struct tally *t = arg;

    if (e->offset != t->next_offset || e->payload_len + 16 != e->size)
        die("entries do not tile the data, or payload is not Size - 16");
    t->next_offset = e->offset + ((e->size + 7u) & ~7u); /* D10: the step rounds Size up */
    t->count++;
    return true;
}

static uint32_t pick(unsigned how, uint32_t own, uint32_t given)
{
    switch (how & 3u) {
    case 0:
        return UINT32_MAX;
    case 1:
        return own;
    case 2:
        return given;
    default:
        return own ^ 1u;
    }
}

/* What hvlog_buffer_summarize must answer under @x, knowing its answer
 * without expectation (@plain) and the raw header. */
static enum hvlog_walk_error predict(enum hvlog_walk_error plain, const uint8_t *b, size_t len,
                                     enum hvlog_abi_profile conv,
                                     const struct hvlog_walk_expect *x)
{
    uint64_t size;

    if (plain == HVLOG_WALK_BAD_SIZE || len < HV_EVENTLOG_BUFFER_HEADER_SIZE)
        return plain;
    size = (uint64_t)le32(b + OFF_SIZE) + (conv == HVLOG_ABI_CURRENT ? 72u : 0u);
    if (x->buffer_bytes != UINT32_MAX && size != x->buffer_bytes)
        return HVLOG_WALK_SIZE_MISMATCH;
    if (plain == HVLOG_WALK_SHORT || plain == HVLOG_WALK_BAD_OFFSET)
        return plain;
    if (x->type != UINT32_MAX && le32(b + OFF_TYPE) != x->type)
        return HVLOG_WALK_BAD_TYPE;
    if (x->buffer_index != UINT32_MAX && le32(b + OFF_INDEX) != x->buffer_index)
        return HVLOG_WALK_BAD_INDEX;
    if (x->state != UINT32_MAX && le32(b + OFF_STATE) != x->state)
        return HVLOG_WALK_BAD_STATE;
    return plain; /* OK, or an entry the header checks do not see */
}

static enum hvlog_walk_error walk(const uint8_t *bytes, size_t size, enum hvlog_abi_profile conv,
                                  const struct hvlog_walk_expect *x,
                                  struct hvlog_buffer_summary *s, struct tally *t)
{
    enum hvlog_walk_error err;

    memset(s, 0, sizeof *s);
    t->next_offset = HV_EVENTLOG_BUFFER_HEADER_SIZE;
    t->count = 0;
    err = hvlog_buffer_walk(bytes, size, conv, x, s, check_entry, t);
    if (err == HVLOG_WALK_OK && t->next_offset != s->data_end) {
        fprintf(stderr, "fuzz_walk: walk stopped at %u, data ends at %u\n", t->next_offset,
                s->data_end);
        abort();
    }
    if (err != HVLOG_WALK_OK && t->count != 0)
        die("a rejected buffer yielded entries");
    if (hvlog_buffer_summarize(bytes, size, conv, x, NULL) != err && err != HVLOG_WALK_BAD_ENTRY_SIZE)
        die("summarize and walk disagree");
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t how = 0;
    uint32_t given[4] = {0, 0, 0, 0};
    uint8_t *bytes;

    if (size >= 17) {
        how = data[0];
        for (int i = 0; i < 4; i++)
            given[i] = le32(data + 1 + 4 * i);
        data += 17;
        size -= 17;
    }
    /* A copy of exactly @size bytes, so ASan sees any read past the end. */
    bytes = malloc(size ? size : 1);
    if (!bytes)
        return 0;
    memcpy(bytes, data, size);
    hvlog_header_convention_guess(bytes, size);
    for (int conv = HVLOG_ABI_2013; conv <= HVLOG_ABI_CURRENT; conv++) {
        enum hvlog_abi_profile c = (enum hvlog_abi_profile)conv;
        struct hvlog_buffer_summary s0, s1;
        struct tally t0, t1;
        struct hvlog_walk_expect x;
        enum hvlog_walk_error plain, got, want;
        uint32_t own_size = 0;

        plain = walk(bytes, size, c, NULL, &s0, &t0);
        if (how == 0)
            continue;
        if (size >= HV_EVENTLOG_BUFFER_HEADER_SIZE)
            own_size = le32(bytes + OFF_SIZE) + (c == HVLOG_ABI_CURRENT ? 72u : 0u);
        x.type = pick(how, size >= 56 ? le32(bytes + OFF_TYPE) : 0, given[0]);
        x.buffer_index = pick(how >> 2, size >= 8 ? le32(bytes + OFF_INDEX) : 0, given[1]);
        x.state = pick(how >> 4, size >= 48 ? le32(bytes + OFF_STATE) : 0, given[2]);
        x.buffer_bytes = pick(how >> 6, own_size, given[3]);
        got = walk(bytes, size, c, &x, &s1, &t1);
        want = predict(plain, bytes, size, c, &x);
        if (got != want) {
            fprintf(stderr, "fuzz_walk: expectation gave %s, the check order says %s\n",
                    hvlog_walk_error_text(got), hvlog_walk_error_text(want));
            abort();
        }
        if (got == HVLOG_WALK_OK &&
            (t1.count != t0.count || memcmp(&s0, &s1, sizeof s0) != 0))
            die("an expectation that matches changed the entries or the summary");
    }
    free(bytes);
    return 0;
}
