/* SPDX-License-Identifier: MIT */
/*
 * Pending lists and the ready notification (spec §8).
 *
 * Each scope (an LP of a local type, the machine for a global one) has a
 * pending list of Complete buffers in completion order (§8.1). A list
 * becomes *due* when its count reaches the threshold or when a Flush names
 * one of its buffers (§8.2). Due lists wait, FIFO, for the group's single
 * message buffer (§8.3 step 1, DEC-MSGBUF); while waiting they keep
 * growing. Serving a due list chains it through NextBufferIndex, makes every
 * buffer Ready, and only then hands the message to the host, so no root can
 * see a message before its buffers are Ready.
 *
 * Everything here runs with the group lock held.
 */
#include <string.h>

#include "engine/engine_internal.h"

void hvlog__pending_append(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope, uint32_t index,
                    uint32_t vp)
{
    struct hvlog_pending *p = &g->pending[scope];

    g->buffers[index].next = NONE;
    if (p->tail == NONE)
        p->head = index;
    else
        g->buffers[p->tail].next = index;
    p->tail = index;
    p->count++;
    p->buffers_completed++;
    /* §8.2: checked after every append; threshold_zero (D22) notifies each. */
    if (p->count >= g->threshold)
        hvlog__pending_make_due(e, g, scope, vp, false);
}

/* release_from_complete (D13): a Complete buffer leaves its list. */
bool hvlog__pending_remove(struct hvlog_group *g, uint32_t index)
{
    uint32_t scope = g->buffers[index].owner;
    struct hvlog_pending *p;
    uint32_t prev = NONE;

    if (scope >= g->scope_count)
        return false;
    p = &g->pending[scope];
    for (uint32_t i = p->head; i != NONE; prev = i, i = g->buffers[i].next) {
        if (i != index)
            continue;
        if (prev == NONE)
            p->head = g->buffers[i].next;
        else
            g->buffers[prev].next = g->buffers[i].next;
        if (p->tail == i)
            p->tail = prev;
        g->buffers[i].next = NONE;
        p->count--;
        return true;
    }
    return false;
}

void hvlog__pending_make_due(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope, uint32_t vp,
                      bool by_flush)
{
    struct hvlog_pending *p = &g->pending[scope];

    if (p->count == 0)
        return;
    if (!p->due) {
        p->due = true;
        p->due_vp = vp;
        p->due_by_flush = false;
        g->due_fifo[(g->due_head + g->due_count) % g->scope_count] = scope;
        g->due_count++;
    }
    p->due_by_flush |= by_flush;
    hvlog__notify_serve(e, g);
}

static bool vp_eligible(struct hvlog_engine *e, uint32_t vp)
{
    if (vp >= e->config.root_vp_count)
        return false;
    return e->ops.vp_eligible ? e->ops.vp_eligible(e->config.ctx, vp) : true;
}

uint32_t hvlog__scope_vp(struct hvlog_engine *e, struct hvlog_group *g, uint32_t scope)
{
    (void)g;
    return e->ops.lp_root_vp ? e->ops.lp_root_vp(e->config.ctx, scope) : scope;
}

/* §8.4 DEC-TARGET: the preferred VP if eligible, else the lowest eligible. */
static uint32_t choose_vp(struct hvlog_engine *e, uint32_t preferred)
{
    if (vp_eligible(e, preferred))
        return preferred;
    for (uint32_t vp = 0; vp < e->config.root_vp_count; vp++) {
        if (vp_eligible(e, vp))
            return vp;
    }
    return NONE;
}

/* §4.7 with DEC-MSGHDR: PayloadSize 8, Sender 0, the rest of the payload 0. */
static void build_message(struct hvlog_group *g, uint32_t first_index)
{
    struct hv_message_header h = {
        .message_type = HvMessageTypeEventLogBufferComplete,
        .payload_size = HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE,
    };
    struct hv_eventlog_message_payload pl = {.event_log_type = g->type, .buffer_index = first_index};
    uint8_t *bytes = (uint8_t *)&g->message;

    memset(&g->message, 0, sizeof(g->message));
    /* A new message, a new token: the generation counts on from the last
     * (it is never reset), so no earlier message's token can match. */
    g->message_token = ((g->message_token >> MESSAGE_TOKEN_TYPE_BITS) + 1) << MESSAGE_TOKEN_TYPE_BITS |
                       g->type;
    hv_message_header_store(bytes, &h);
    hv_eventlog_message_payload_store(bytes + HV_MESSAGE_HEADER_SIZE, &pl);
}

/* BUILT -> QUEUED (or FREE when delivered at once); stays BUILT if no VP takes it. */
static void post_built(struct hvlog_engine *e, struct hvlog_group *g)
{
    uint32_t vp = choose_vp(e, g->message_vp);

    if (vp == NONE)
        return;
    switch (e->ops.post_message(e->config.ctx, vp, &g->message, g->message_token)) {
    case HVLOG_POST_QUEUED:
        g->message_state = MSG_QUEUED;
        g->message_vp = vp;
        break;
    case HVLOG_POST_DELIVERED:
        g->message_state = MSG_FREE;
        break;
    case HVLOG_POST_REFUSED:
        break;
    }
}

void hvlog__notify_serve(struct hvlog_engine *e, struct hvlog_group *g)
{
    for (;;) {
        struct hvlog_pending *p;
        uint32_t scope;

        if (g->message_state == MSG_BUILT)
            post_built(e, g);
        if (g->message_state != MSG_FREE || g->due_count == 0)
            return;

        scope = g->due_fifo[g->due_head];
        g->due_head = (g->due_head + 1) % g->scope_count;
        g->due_count--;
        p = &g->pending[scope];
        p->due = false;
        if (p->count == 0)
            continue; /* emptied meanwhile (release_from_complete) */

        /* §8.3 steps 2-4: chain in list order, all Ready, list emptied. */
        for (uint32_t i = p->head, next; i != NONE; i = next) {
            next = g->buffers[i].next;
            hvlog_store_le32(g->buffers[i].pages.hva +
                                 offsetof(struct hv_eventlog_buffer_header, next_buffer_index),
                             next);
            g->buffers[i].next = NONE;
            hvlog__buffer_transition(g, i, p->due_by_flush ? T9_FLUSH_LIST : T8_THRESHOLD);
        }
        build_message(g, p->head);
        p->head = p->tail = NONE;
        p->count = 0;
        p->notifications++;

        /* §8.3 step 5, §8.4: a local list goes to its LP's VP, a global one
         * to the VP whose action made it due. Posted at the top of the loop:
         * one attempt per call; a refusal waits for hvlog_engine_kick(). */
        g->message_state = MSG_BUILT;
        g->message_vp = g->local ? hvlog__scope_vp(e, g, scope) : p->due_vp;
    }
}

/* DEC-FINMSG: Finalize withdraws a notification the host still holds. */
void hvlog__notify_withdraw(struct hvlog_engine *e, struct hvlog_group *g)
{
    if (g->message_state == MSG_QUEUED && e->ops.withdraw_message)
        e->ops.withdraw_message(e->config.ctx, g->message_vp, &g->message);
    g->message_state = MSG_FREE;
    g->due_count = 0;
    g->due_head = 0;
}
