/*
 * model/synic.pml - the ready notification's hand-over: the engine's one
 * message buffer per group, the SynIC's FIFO and SIM slot, MessagePending,
 * EOM, and a Finalize that withdraws a queued message (spec §8.3-§8.5,
 * DEC-MSGBUF, DEC-FINMSG; issue 13 item 3).
 *
 * What stands for what (one VP, SINT0 only; VP eligibility is not modelled,
 * every post finds an eligible VP):
 *
 *   process / inline        C function (file)
 *   ---------------------   -------------------------------------------------
 *   proctype Group(g)       the engine side of group g: a pending list made
 *                           due (pending_make_due, src/engine/notify.c) and,
 *                           for group 0, the root VP that issues Finalize
 *                           then Initialize (call_finalize, call_initialize,
 *                           src/engine/calls.c)
 *   inline serve            notify_serve + build_message (notify.c)
 *   inline post_built       post_built (notify.c) calling
 *   inline post_message       hvlog__sim_post_message (src/sim/synic.c)
 *   inline slot_fill        slot_fill (synic.c)
 *   inline finalize         call_finalize -> notify_withdraw (notify.c) ->
 *                           hvlog__sim_withdraw_message (synic.c)
 *   inline delivered        hvlog_engine_message_delivered (src/engine/engine.c)
 *   inline kick             hvlog__sim_retry_if_owed -> hvlog_engine_kick (sim.c, engine.c)
 *   proctype Root()         the root's SINT0 handler, hvlog_client_poll
 *                           (src/client/client.c), and its EOM write,
 *                           hvlog_sim_wrmsr(EOM) -> pump_locked ->
 *                           notify_delivered (synic.c)
 *
 * Labelled steps (the places the interleavings matter):
 *   post_push:      fifo_push + slot_set_pending (synic.c, hvlog__sim_post_message)
 *   post_recheck:   the Dekker re-read of MessageType after MessagePending
 *   fill_body:      slot_fill's payload copy and MessageFlags store
 *   fill_type:      slot_fill's release store of MessageType (last)
 *   root_copy:      client.c: acquire-load MessageType, copy the message
 *   root_clear:     client.c: store MessageType = 0 (seq_cst)
 *   root_flags:     client.c: load MessageFlags (seq_cst) - EOM if pending
 *   eom_pump:       synic.c pump_locked: pop the FIFO head into the slot
 *   eom_delivered:  synic.c notify_delivered, after the VP lock is dropped:
 *                   the window in which another VP may Finalize and
 *                   re-Initialize the group
 *
 * Locks: glock[g] is the group lock (struct hvlog_group.lock), vplock the
 * VP mutex (struct sim_vp.lock); order glock -> vplock, as in the C. The
 * slot is shared lock-free between the SynIC and the root, as on hardware.
 * Spin's interleaving semantics is sequentially consistent: that is what
 * the seq_cst accesses of the Dekker give; the release/acquire pair on
 * MessageType is modelled by the order of fill_body before fill_type.
 *
 * A notification is identified by its serial: the n-th message group g
 * ever built carries serial n (bit n-1 of the masks below).
 *
 * Properties (assertions; spin also reports any invalid end state, i.e. a
 * message left in the FIFO with nobody to move it):
 *   P1 no notification is received twice;
 *   P2 a received notification was not withdrawn, and was built;
 *   P3 at the end every notification built was received or withdrawn
 *      (nothing lost), and nothing is left queued.
 *
 * The generation question (issue 13 item 3). The host reports a copy by
 * type alone: hvlog_engine_message_delivered(type). If group 0 is
 * finalized and initialized again between eom_pump and eom_delivered, and
 * the new group has posted a message that is queued, the stale report
 * frees the *new* message buffer while the host still holds it; the next
 * due list is then built into the same buffer and posted again.
 *   default        the fix: the FIFO entry carries the group's generation
 *                  (bumped by Initialize) and delivered(type, generation)
 *                  ignores a stale one;
 *   -DCURRENT_C    today's C: delivered(type) - spin finds the counterexample.
 *   -DGEN_PER_MESSAGE  the fix with the generation bumped by every message
 *                  built instead of every Initialize (also proven).
 *
 * Injected bugs (model/check bugs expects spin to report each):
 *   -DBUG_FILL_BUSY_SLOT   post/pump copy into the slot without checking that
 *                          it is empty (overwrites an unread message)
 *   -DBUG_NO_RECHECK       post_message sets MessagePending but does not
 *                          re-read the slot (the Dekker's second half)
 *   -DBUG_ROOT_FLAGS_FIRST the root reads MessageFlags before clearing
 *                          MessageType
 *   -DBUG_NO_WITHDRAW      Finalize frees the message buffer without taking
 *                          the queued message out of the FIFO
 */

#ifndef N0
#define N0 2            /* lists made due in group 0 before Finalize */
#endif
#ifndef N0B
#define N0B 2           /* ... and after the re-Initialize */
#endif
#ifndef N1
#define N1 1            /* lists made due in group 1 */
#endif
#define G 2             /* groups (event-log types) */
#define DEPTH 2         /* SINT FIFO depth (SIM_FIFO_DEPTH is 16 in C) */

/* enum message_state (engine_internal.h) */
#define MSG_FREE 0
#define MSG_BUILT 1
#define MSG_QUEUED 2
/* enum hvlog_post_result */
#define POST_QUEUED 0
#define POST_DELIVERED 1
#define POST_REFUSED 2

/* ---- engine: per group, guarded by glock[g] ---- */
bit  glock[G];
bit  initialized[G];
byte due[G];            /* due lists waiting for the message buffer (FIFO length) */
byte msg_state[G];
byte msg_serial[G];     /* the content of g->message: which notification */
byte msg_gen[G];        /* the generation the fix stamps on it */
byte gen[G];            /* the group's current generation */
byte serial[G];         /* notifications built so far */

/* ---- SynIC of the one VP, guarded by vplock (except the slot) ---- */
bit  vplock;
byte fifo_g[DEPTH];     /* sim_queued.type: which group's message buffer */
byte fifo_gen[DEPTH];   /* the fix: the generation it was posted with */
byte fifo_head;
byte fifo_len;
bit  retry_owed;        /* sim->retry_owed */
/* the SIM slot: MessageType (0 empty, else group + 1), payload, flags */
byte slot_type;
byte slot_serial;
bit  slot_pending;      /* MessageFlags.MessagePending */

/* ---- what happened, for the properties ---- */
byte received[G];       /* bit n-1: serial n reached the root */
byte withdrawn[G];      /* bit n-1: serial n was withdrawn by Finalize */
byte groups_done;

inline lock(l)   { atomic { l == 0 -> l = 1 } }
inline unlock(l) { l = 0 }

/* slot_fill: the payload and flags first, MessageType last (release). */
inline slot_fill(from_g, more)
{
    atomic { slot_serial = msg_serial[from_g]; slot_pending = more };   /* fill_body */
    slot_type = from_g + 1                                              /* fill_type */
}

inline fifo_push(pg, pgen)
{
    fifo_g[(fifo_head + fifo_len) % DEPTH] = pg;
    fifo_gen[(fifo_head + fifo_len) % DEPTH] = pgen;
    fifo_len++
}

inline fifo_pop(qg, qgen)
{
    qg = fifo_g[fifo_head];
    qgen = fifo_gen[fifo_head];
    fifo_head = (fifo_head + 1) % DEPTH;
    fifo_len--
}

#ifdef BUG_FILL_BUSY_SLOT
#define SLOT_FREE true
#else
#define SLOT_FREE (slot_type == 0)
#endif

/* hvlog__sim_post_message, called with glock[pg] held. */
inline post_message(pg, res)
{
    lock(vplock);
    if
    :: fifo_len == 0 && SLOT_FREE ->
        slot_fill(pg, 0);
        res = POST_DELIVERED
    :: else ->
        if
        :: fifo_len < DEPTH ->
            atomic { fifo_push(pg, msg_gen[pg]); slot_pending = 1 };     /* post_push */
            /* post_recheck */
#ifdef BUG_NO_RECHECK
            res = POST_QUEUED
#else
            if
            :: fifo_len == 1 && slot_type == 0 ->
                fifo_pop(tg, tgen);
                slot_fill(pg, 0);
                res = POST_DELIVERED
            :: else ->
                res = POST_QUEUED
            fi
#endif
        :: else ->
            res = POST_REFUSED
        fi
    fi;
    unlock(vplock);
    if
    :: res == POST_REFUSED -> retry_owed = 1
    :: else -> skip
    fi
}

/* post_built (notify.c), glock[pg] held. */
inline post_built(pg)
{
    post_message(pg, res);
    if
    :: res == POST_QUEUED -> msg_state[pg] = MSG_QUEUED
    :: res == POST_DELIVERED -> msg_state[pg] = MSG_FREE
    :: else -> skip
    fi
}

/* notify_serve + build_message (notify.c), glock[sg] held. */
inline serve(sg)
{
    do
    :: true ->
        if
        :: msg_state[sg] == MSG_BUILT -> post_built(sg)
        :: else -> skip
        fi;
        if
        :: msg_state[sg] != MSG_FREE || due[sg] == 0 -> break
        :: else ->
            atomic {
                due[sg]--;
                serial[sg]++;
                assert(serial[sg] <= 8);
                msg_serial[sg] = serial[sg];
#ifdef GEN_PER_MESSAGE
                gen[sg]++;
#endif
                msg_gen[sg] = gen[sg];
                msg_state[sg] = MSG_BUILT
            }
        fi
    od
}

/* hvlog_engine_message_delivered(type[, generation]); no lock held on entry. */
inline delivered(dg, dgen)
{
    lock(glock[dg]);
#ifndef CURRENT_C
    if
    :: dgen != gen[dg] -> skip      /* the fix: a stale report changes nothing */
    :: else ->
#endif
        if
        :: msg_state[dg] == MSG_QUEUED -> msg_state[dg] = MSG_FREE
        :: else -> skip
        fi;
        serve(dg)
#ifndef CURRENT_C
    fi
#endif
    ;
    unlock(glock[dg])
}

/* hvlog_engine_kick: every initialized group gets a serve. */
inline kick()
{
    kg = 0;
    do
    :: kg < G ->
        lock(glock[kg]);
        if
        :: initialized[kg] -> serve(kg)
        :: else -> skip
        fi;
        unlock(glock[kg]);
        kg++
    :: else -> break
    od
}

/* call_finalize -> notify_withdraw -> hvlog__sim_withdraw_message, glock[fg] held. */
inline finalize(fg)
{
    if
    :: msg_state[fg] == MSG_QUEUED ->
#ifndef BUG_NO_WITHDRAW
        lock(vplock);
        atomic {
            /* rebuild the FIFO in order without group fg's entries */
            wi = 0; wk = 0; wn = fifo_len;
            do
            :: wi < wn ->
                tg = fifo_g[(fifo_head + wi) % DEPTH];
                tgen = fifo_gen[(fifo_head + wi) % DEPTH];
                if
                :: tg != fg ->
                    fifo_g[(fifo_head + wk) % DEPTH] = tg;
                    fifo_gen[(fifo_head + wk) % DEPTH] = tgen;
                    wk++
                :: else ->
                    /* taken out before any copy: this notification is withdrawn */
                    withdrawn[fg] = withdrawn[fg] | (1 << (msg_serial[fg] - 1))
                fi;
                wi++
            :: else -> break
            od;
            fifo_len = wk;
            wi = 0; wk = 0; wn = 0; tg = 0; tgen = 0
        };
        unlock(vplock)
#else
        skip
#endif
    :: msg_state[fg] == MSG_BUILT ->
        /* never reached the host */
        withdrawn[fg] = withdrawn[fg] | (1 << (msg_serial[fg] - 1))
    :: else -> skip
    fi;
    msg_state[fg] = MSG_FREE;
    due[fg] = 0;
    initialized[fg] = 0
}

/* A list of group g made due (pending_make_due) under the group lock. */
inline make_due(g)
{
    lock(glock[g]);
    due[g]++;
    serve(g);
    unlock(glock[g])
}

proctype Group(byte g; byte n; byte nb)
{
    byte i, res, tg, tgen, wi, wk, wn;

    i = 0;
    do
    :: i < n -> make_due(g); i++
    :: else -> break
    od;
    if
    :: nb > 0 ->
        /* Finalize needs the group without buffers, hence without due
         * lists; its message may still be queued or in flight. */
        atomic { glock[g] == 0 && due[g] == 0 -> glock[g] = 1 };
        finalize(g);
        unlock(glock[g]);
        /* call_initialize: a new life for the group */
        lock(glock[g]);
        atomic {
            initialized[g] = 1;
#ifndef GEN_PER_MESSAGE
            gen[g]++;
#endif
        };
        unlock(glock[g]);
        i = 0;
        do
        :: i < nb -> make_due(g); i++
        :: else -> break
        od
    :: else -> skip
    fi;
    groups_done++
}

proctype Root()
{
    byte t, s, p, qg, qgen, kg, res, tg, tgen;
    bool have;

    do
    :: slot_type != 0 ->
        /* hvlog_client_poll */
root_copy:
        atomic { t = slot_type; s = slot_serial };
#ifdef BUG_ROOT_FLAGS_FIRST
root_flags:
        p = slot_pending;
root_clear:
        slot_type = 0;
#else
root_clear:
        slot_type = 0;
root_flags:
        p = slot_pending;
#endif
        atomic {
            t = t - 1;
            assert(s >= 1 && s <= serial[t]);                      /* P2: built */
            assert((received[t] & (1 << (s - 1))) == 0);            /* P1 */
            assert((withdrawn[t] & (1 << (s - 1))) == 0);           /* P2 */
            received[t] = received[t] | (1 << (s - 1))
        };
        if
        :: p ->
            /* hvlog_sim_wrmsr(EOM): pump_locked, then notify_delivered */
            have = 0;
            lock(vplock);
eom_pump:
            if
            :: fifo_len > 0 && SLOT_FREE ->
                fifo_pop(qg, qgen);
                slot_fill(qg, fifo_len > 0);
                have = 1
            :: else -> skip
            fi;
            unlock(vplock);
eom_delivered:
            if
            :: have -> delivered(qg, qgen)
            :: else -> skip
            fi;
            if
            :: retry_owed -> retry_owed = 0; kick()
            :: else -> skip
            fi
        :: else -> skip
        fi
    :: retry_owed ->
        /* the host's periodic retry (hvlog_sim_poll) */
        retry_owed = 0;
        kick()
    :: groups_done == G && slot_type == 0 && fifo_len == 0 &&
       msg_state[0] == MSG_FREE && msg_state[1] == MSG_FREE && due[0] == 0 && due[1] == 0 ->
        break
    od;
    /* P3: everything built was received or withdrawn. */
    t = 0;
    do
    :: t < G ->
        assert((received[t] | withdrawn[t]) == (1 << serial[t]) - 1);
        assert((received[t] & withdrawn[t]) == 0);
        t++
    :: else -> break
    od
}

init
{
    atomic {
        initialized[0] = 1;
        initialized[1] = 1;
        run Root();
        run Group(0, N0, N0B);
        run Group(1, N1, 0)
    }
}
