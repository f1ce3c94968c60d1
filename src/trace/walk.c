/* SPDX-License-Identifier: MIT */
/*
 * The buffer walker (hvlog/trace/walk.h): checks a buffer's header and
 * entries and hands out decoded entries. All arithmetic is 32/64-bit on
 * values already bounded, so no Size or offset can wrap.
 */
#include <string.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/walk.h"

const char *hvlog_walk_error_text(enum hvlog_walk_error err)
{
    switch (err) {
    case HVLOG_WALK_OK:
        return "ok";
    case HVLOG_WALK_SHORT:
        return "buffer shorter than its header or its BufferSize";
    case HVLOG_WALK_BAD_SIZE:
        return "BufferSize is not 1..512 pages";
    case HVLOG_WALK_BAD_OFFSET:
        return "NextBufferOffset outside the buffer's data area";
    case HVLOG_WALK_BAD_TYPE:
        return "Type is not the expected event-log type";
    case HVLOG_WALK_BAD_INDEX:
        return "BufferIndex is not the expected index";
    case HVLOG_WALK_BAD_STATE:
        return "BufferState is not the expected state";
    case HVLOG_WALK_BAD_ENTRY_SIZE:
        return "an entry's Size is below 16, not a multiple of 8, or runs past the data";
    case HVLOG_WALK_SIZE_MISMATCH:
        return "BufferSize is a valid size but not this group's buffer size";
    }
    return "unknown walk error";
}

static bool page_multiple_in_range(uint64_t bytes)
{
    return bytes % HV_PAGE_SIZE == 0 && bytes >= HV_PAGE_SIZE &&
           bytes <= (uint64_t)HV_EVENTLOG_MAX_BUFFER_PAGES * HV_PAGE_SIZE;
}

int hvlog_header_convention_guess(const uint8_t *bytes, size_t len)
{
    uint64_t size, next;

    if (len < HV_EVENTLOG_BUFFER_HEADER_SIZE)
        return -1;
    size = hvlog_load_le32(bytes);
    next = hvlog_load_le32(bytes + offsetof(struct hv_eventlog_buffer_header, next_buffer_offset));
    /* 2013: the whole buffer, offsets from its start (>= 72). Current: the
     * data area, offsets from the end of the header. A 2013 size is never
     * a current one (page multiple vs page multiple - 72). */
    if (page_multiple_in_range(size) && next >= HV_EVENTLOG_BUFFER_HEADER_SIZE && next <= size)
        return HVLOG_ABI_2013;
    if (page_multiple_in_range(size + HV_EVENTLOG_BUFFER_HEADER_SIZE) && next <= size)
        return HVLOG_ABI_CURRENT;
    return -1;
}

enum hvlog_walk_error hvlog_buffer_summarize(const uint8_t *bytes, size_t len,
                                             enum hvlog_abi_profile convention,
                                             const struct hvlog_walk_expect *expect,
                                             struct hvlog_buffer_summary *out)
{
    static const struct hvlog_walk_expect any = HVLOG_WALK_EXPECT_ANY;
    struct hvlog_buffer_summary s;
    uint64_t size, next;

    if (!expect)
        expect = &any;
    if (len < HV_EVENTLOG_BUFFER_HEADER_SIZE)
        return HVLOG_WALK_SHORT;
    memset(&s, 0, sizeof s);
    s.convention = convention;
    size = hvlog_load_le32(bytes);
    next = hvlog_load_le32(bytes + offsetof(struct hv_eventlog_buffer_header, next_buffer_offset));
    {
        /* Both conventions place the same fields at the same offsets but
         * for LogicalProcessor (u8 in 2013, u16 now) and Reserved3, which
         * is LpSequenceNumber now (D9, §11.4). */
        struct hv_eventlog_buffer_header h;
        hv_eventlog_buffer_header_load(&h, bytes);
        s.logical_processor = h.logical_processor;
        s.type = h.type;
        s.buffer_index = h.buffer_index;
        s.events_lost = h.events_lost;
        s.state = h.buffer_state;
        s.next_buffer_index = h.next_buffer_index;
        s.time_stamp = h.time_stamp;
    }
    if (convention == HVLOG_ABI_CURRENT) {
        struct hv_eventlog_buffer_header_current h;
        hv_eventlog_buffer_header_current_load(&h, bytes);
        size += HV_EVENTLOG_BUFFER_HEADER_SIZE;
        next += HV_EVENTLOG_BUFFER_HEADER_SIZE;
        s.logical_processor = h.logical_processor;
        s.lp_sequence_number = h.lp_sequence_number;
    }
    if (!page_multiple_in_range(size))
        return HVLOG_WALK_BAD_SIZE;
    if (expect->buffer_bytes != UINT32_MAX && size != expect->buffer_bytes)
        return HVLOG_WALK_SIZE_MISMATCH;
    if (len < size)
        return HVLOG_WALK_SHORT;
    if (next < HV_EVENTLOG_BUFFER_HEADER_SIZE || next > size)
        return HVLOG_WALK_BAD_OFFSET;
    if (expect->type != UINT32_MAX && s.type != expect->type)
        return HVLOG_WALK_BAD_TYPE;
    if (expect->buffer_index != UINT32_MAX && s.buffer_index != expect->buffer_index)
        return HVLOG_WALK_BAD_INDEX;
    if (expect->state != UINT32_MAX && s.state != expect->state)
        return HVLOG_WALK_BAD_STATE;
    s.buffer_bytes = (uint32_t)size;
    s.data_end = (uint32_t)next;
    if (out)
        *out = s;
    return HVLOG_WALK_OK;
}

/*
 * How far an entry of @size reaches, or 0 when the size is invalid.
 * §4.5: in the 2013 convention Size covers header, data and padding and is
 * a multiple of 8. D10: the current headers' readers round Size up to 8.
 * Computed in 32 bits: a 16-bit Size near 65535 cannot wrap to 0 here.
 */
static uint32_t entry_step(enum hvlog_abi_profile convention, uint32_t size)
{
    if (size < HV_EVENTLOG_ENTRY_HEADER_SIZE)
        return 0;
    if (convention == HVLOG_ABI_CURRENT)
        return (size + 7u) & ~7u;
    return size % HV_EVENTLOG_ENTRY_ALIGNMENT == 0 ? size : 0;
}

static enum hvlog_walk_error check_entries(const uint8_t *bytes, uint32_t end,
                                           enum hvlog_abi_profile convention, uint32_t *count)
{
    *count = 0;
    for (uint32_t off = HV_EVENTLOG_BUFFER_HEADER_SIZE; off < end; ++*count) {
        uint32_t step;

        if (end - off < HV_EVENTLOG_ENTRY_HEADER_SIZE)
            return HVLOG_WALK_BAD_ENTRY_SIZE;
        step = entry_step(convention, hvlog_load_le16(bytes + off + 4));
        if (step == 0 || step > end - off)
            return HVLOG_WALK_BAD_ENTRY_SIZE;
        off += step;
    }
    return HVLOG_WALK_OK;
}

enum hvlog_walk_error hvlog_buffer_walk(const uint8_t *bytes, size_t len,
                                        enum hvlog_abi_profile convention,
                                        const struct hvlog_walk_expect *expect,
                                        struct hvlog_buffer_summary *summary, hvlog_entry_fn fn,
                                        void *arg)
{
    struct hvlog_buffer_summary s;
    enum hvlog_walk_error err = hvlog_buffer_summarize(bytes, len, convention, expect, &s);

    if (err != HVLOG_WALK_OK)
        return err;
    /* Check everything first: a corrupt buffer yields no entries at all. */
    err = check_entries(bytes, s.data_end, convention, &s.entries);
    if (err != HVLOG_WALK_OK)
        s.entries = 0;
    if (summary)
        *summary = s;
    if (err != HVLOG_WALK_OK || !fn)
        return err;
    for (uint32_t off = HV_EVENTLOG_BUFFER_HEADER_SIZE; off < s.data_end;) {
        struct hv_eventlog_entry_header h;
        struct hvlog_entry e;
        uint32_t step;

        if (s.data_end - off < HV_EVENTLOG_ENTRY_HEADER_SIZE) /* only if the bytes changed */
            break;
        hv_eventlog_entry_header_load(&h, bytes + off);
        /* Checked above, and checked again on the one load used here: the
         * root client walks a Ready buffer in place (§6.3: stable until
         * released), and a hypervisor that wrote it meanwhile must not
         * make this loop spin or read past the data. */
        step = entry_step(convention, h.size);
        if (step == 0 || step > s.data_end - off)
            break;
        e.log_type = s.type;
        e.buffer_index = s.buffer_index;
        e.logical_processor = s.logical_processor;
        e.offset = off;
        e.entry_type = h.type;
        e.size = h.size;
        e.context = h.context;
        e.time_stamp = h.time_stamp;
        e.payload = bytes + off + HV_EVENTLOG_ENTRY_HEADER_SIZE;
        /* Size - 16, never the rounded step: D10 lets a current-convention
         * Size leave the padding out, and padding is not data (issue 12,
         * bug 1: the exports read it as a parameter). */
        e.payload_len = (uint32_t)h.size - HV_EVENTLOG_ENTRY_HEADER_SIZE;
        if (!fn(arg, &e))
            break;
        off += step;
    }
    return HVLOG_WALK_OK;
}
