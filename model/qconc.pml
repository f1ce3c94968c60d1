/*
 * model/qconc.pml - the protocol between one LP's logging and the root's
 * hypercalls (Q-CONC, the comment at the top of src/engine/log.c; spec §5,
 * §6, §7.3, §7.4, §8.1-§8.3; issue 13 item 3).
 *
 * What stands for what (one local-class scope = one LP, Regular mode, the
 * 2013 profile's defaults):
 *
 *   process / inline         C function (file)
 *   ----------------------   ------------------------------------------------
 *   proctype LP()            the code running on the LP: hvlog_log() ->
 *                            scope_log() (src/engine/log.c), and the
 *                            functions the host runs "as the LP" between two
 *                            events (run_on_lp: the simulator's mailbox,
 *                            src/sim/lp.c)
 *   inline log_event         scope_log, §7.3 steps 1 and 4-6 (log.c)
 *   inline take              scope_take_buffer + free_list_take +
 *                            buffer_header_take (log.c, src/engine/state.c)
 *   inline count_lost        scope_count_lost (log.c)
 *   inline complete          scope_complete_active (log.c): T6/T7
 *   inline flush_as_owner    flush_as_owner (log.c)
 *   inline pending_append    pending_append (src/engine/notify.c)
 *   inline make_due          pending_make_due (notify.c)
 *   inline serve             notify_serve (notify.c): chain, T8/T9, message
 *   proctype Root()          the root's hypercalls and its reader:
 *     Flush                  call_flush + flush_scope_active (calls.c, log.c)
 *     Release                call_release (calls.c): T10
 *     Unmap                  call_unmap (calls.c): T4 Free, T11 Ready
 *     Map                    call_map (calls.c): T3
 *     SetSources(0)          call_sources (calls.c), with its run_on_lp
 *                            quiescence of every LP
 *     receive                the host's copy of the message and
 *                            hvlog_engine_message_delivered (engine.c),
 *                            then hvlog_client_poll -> drain_list
 *                            (src/client/client.c): read the chain, release
 *     peek                   a root reading an InUse buffer under §6.3:
 *                            acquire BufferState, acquire NextBufferOffset,
 *                            everything below it must be written
 *
 * Labelled steps in LP: lp_mask (acquire load of the source mask),
 * lp_write (the entry bytes, §7.3 step 5), lp_publish (the release store of
 * NextBufferOffset). In take: the header fields, then BufferState
 * (buffer_transition's release store) - two steps, so that a peeking root
 * can fall between them.
 *
 * The group lock is glock; a critical section that no lock-free reader can
 * observe half-done is one atomic step guarded by glock == 0 (the same
 * interleavings as lock; ...; unlock). Entry contents are event ids; a take
 * clears the entry slots (0 = "not this generation's entry": stale bytes of
 * an older generation are just as wrong to a reader).
 *
 * Properties (assertions, checked in every reachable state where they apply):
 *   Q1 no entry is duplicated: the root reads each event id at most once,
 *      and only one that was written (fate INBUF);
 *   Q2 no entry is lost: at the end every event is READ, LOST (and then
 *      counted: the LOST fates equal the EventsLost the root read plus the
 *      scope's pending count), or DROPPED by a disabled source mask; while
 *      running, every event is read, counted lost, dropped, or still in a
 *      buffer (fate INBUF);
 *   Q3 no buffer is on two chains: after every critical section the free
 *      list, the pending list, the scope's active buffer, the message's
 *      NextBufferIndex chain and the root's held set are disjoint, acyclic,
 *      their counts right, and each agrees with the buffer's state;
 *   Q4 a buffer the root sees as Ready never changes: every store to a
 *      buffer's header or entries checks the state it needs (Free for a
 *      take, Complete for the NextBufferIndex link, InUse for an entry) and
 *      that the root does not hold the buffer (from the message until its
 *      Release or Unmap);
 *   Q5 §6.3: below a published NextBufferOffset every entry is written;
 *   Q6 §5.7: no entry is recorded after SetSources(0) returned.
 * Spin also reports invalid end states (a process stuck for ever); the
 * runner adds a non-progress-cycle search (no run loops for ever).
 *
 * Left out: entries of different sizes (every entry takes one slot, so §7.3
 * steps 2-3 never apply; step 6 completes a full buffer), Delete/Create and
 * Initialize/Finalize (they need no buffer in service), Circular mode and
 * the ring (TX_RECYCLE), the global class's spinlock, release_from_complete,
 * and an Unmap of a Ready buffer the root
 * has not read (Q-UNMAPREADY drops its entries by the root's choice, which
 * Q2 would count as a loss): here the root unmaps only what it has read.
 *
 * Injected bugs (model/check bugs expects spin to report each):
 *   -DBUG_PUBLISH_EARLY   NextBufferOffset published before the entry bytes
 *                         (the release order dropped)
 *   -DBUG_STATE_FIRST     a take publishes BufferState InUse before the
 *                         header fields
 *   -DBUG_DOUBLE_APPEND   a flush completes the buffer the root named even
 *                         when the LP completed it already (appended twice)
 *   -DBUG_NO_RUN_ON_LP    Flush completes the InUse buffer from the root's
 *                         context, beside the LP's append
 *   -DBUG_NO_QUIESCE      SetSources(0) returns without run_on_lp
 *   -DBUG_LOST_UNCARRIED  a take resets the scope's lost count without
 *                         writing it into EventsLost
 *   -DBUG_FLUSH_VIEW_STALE the lock-free flush view still says "nothing to
 *                         flush" for an InUse buffer (not cleared at a take)
 */

#ifndef NB
#define NB 3            /* buffers */
#endif
#ifndef CAP
#define CAP 2           /* entries per buffer */
#endif
#ifndef NEV
#define NEV 4           /* events the LP logs */
#endif
#ifndef THRESH
#define THRESH 2        /* the group's Threshold */
#endif
#ifndef MAXOPS
#define MAXOPS 3        /* root hypercalls before its stop sequence */
#endif

#if CAP != 2
#error "take() clears two entry slots: CAP is 2"
#endif

#define NONE 255
/* enum hv_eventlog_buffer_state */
#define STANDBY 1
#define FREE 2
#define INUSE 3
#define COMPLETE 4
#define READY 5
/* an event's fate */
#define F_NONE 0
#define F_INBUF 1
#define F_READ 2
#define F_LOST 3
#define F_DROPPED 4
/* run_on_lp requests */
#define NOREQ 0
#define REQ_FLUSH 1
#define REQ_QUIESCE 2

/* ---- the group, guarded by glock ---- */
bit  glock;
byte state[NB];
byte next[NB];          /* free-list / pending-list link */
byte free_head = NONE, free_tail = NONE, free_count;
byte pend_head = NONE, pend_tail = NONE, pend_count;
bit  pend_due, pend_by_flush;
byte act_idx = NONE;     /* scope active_index */
bit  msg_queued;        /* message_state QUEUED */
byte inbox = NONE;      /* the queued message's BufferIndex */
/* ---- the buffers' shared pages: the header and entries ---- */
byte hn[NB];            /* NextBufferOffset, in entries */
byte hlost[NB];         /* EventsLost */
byte nbi[NB];           /* NextBufferIndex */
byte ent[NB * CAP];     /* entry k of buffer b: event id, 0 = not written */
/* ---- the scope: hot fields owned by the LP, the lost count ---- */
byte s_buf = NONE;      /* scope->buffer (NONE = NULL) */
byte s_off;             /* scope->offset, in entries */
byte lost_pending;      /* scope->lost_pending */
bit  mask = 1;          /* the type's source mask, non-zero = enabled */
/* ---- run_on_lp mailbox ---- */
byte mailbox = NOREQ;
byte req_idx;
/* ---- the root's view and the ledger ---- */
bit  held[NB];          /* the root holds it as Ready (received, not released) */
bit  counted[NB];       /* model only: the root has added its EventsLost */
byte fate[NEV + 1];
byte lost_read;         /* sum of EventsLost the root read */
bit  sources_returned;
bit  lp_done, root_done;

hidden byte ck_i, ck_b, ck_n;
hidden byte ck_cnt[NB];

/* Q3: every buffer on at most one chain, the chains agree with the states. */
inline walk_next(start)
{
    ck_b = start; ck_n = 0;
    do
    :: ck_b != NONE ->
        assert(ck_n < NB);          /* acyclic */
        ck_cnt[ck_b]++;
        ck_n++;
        ck_b = next[ck_b]
    :: else -> break
    od
}

inline walk_nbi(start)
{
    ck_b = start; ck_n = 0;
    do
    :: ck_b != NONE ->
        assert(ck_n < NB);          /* acyclic */
        ck_cnt[ck_b]++;
        ck_n++;
        ck_b = nbi[ck_b]
    :: else -> break
    od
}

inline check_chains()
{
    d_step {
        ck_i = 0;
        do :: ck_i < NB -> ck_cnt[ck_i] = 0; ck_i++ :: else -> break od;
        walk_next(free_head);
        assert(ck_n == free_count);
        ck_i = 0;
        do
        :: ck_i < NB ->
            assert((state[ck_i] == FREE) == (ck_cnt[ck_i] == 1));
            ck_i++
        :: else -> break
        od;
        walk_next(pend_head);
        assert(ck_n == pend_count);
        walk_nbi(inbox);
        if :: act_idx != NONE -> ck_cnt[act_idx]++ :: else -> skip fi;
        ck_i = 0;
        do
        :: ck_i < NB ->
            if :: held[ck_i] -> ck_cnt[ck_i]++ :: else -> skip fi;
            assert(ck_cnt[ck_i] <= 1);
            assert(ck_cnt[ck_i] == 1 || state[ck_i] == STANDBY);
            assert((state[ck_i] == INUSE) == (act_idx == ck_i));
            assert(state[ck_i] != READY || ck_cnt[ck_i] == 1);
            ck_i++
        :: else -> break
        od;
        /* Q2 while running: the LOST fates equal the counts that carry
         * them - read, pending on the scope, or in the EventsLost of a
         * buffer the root has not read yet. */
        ck_i = 1; ck_n = 0;
        do
        :: ck_i <= NEV ->
            if :: fate[ck_i] == F_LOST -> ck_n++ :: else -> skip fi;
            ck_i++
        :: else -> break
        od;
        ck_b = lost_read + lost_pending;
        ck_i = 0;
        do
        :: ck_i < NB ->
            if
            :: state[ck_i] >= INUSE && !counted[ck_i] -> ck_b = ck_b + hlost[ck_i]
            :: else -> skip
            fi;
            ck_i++
        :: else -> break
        od;
        assert(ck_n == ck_b);
        ck_i = 0; ck_b = 0; ck_n = 0
    }
}

inline free_append(b)
{
    next[b] = NONE;
    if
    :: free_tail == NONE -> free_head = b
    :: else -> next[free_tail] = b
    fi;
    free_tail = b;
    free_count++
}

/* free_list_remove (state.c) of a buffer known to be on the list. */
inline free_remove(b)
{
    if
    :: free_head == b ->
        free_head = next[b];
        if :: free_tail == b -> free_tail = NONE :: else -> skip fi
    :: else ->
        fr = free_head;
        do
        :: next[fr] == b -> break
        :: else -> fr = next[fr]
        od;
        next[fr] = next[b];
        if :: free_tail == b -> free_tail = fr :: else -> skip fi
    fi;
    next[b] = NONE;
    free_count--
}

/* notify_serve for the one scope: chain, Ready, the message (§8.3). */
inline serve()
{
    if
    :: !msg_queued && pend_due ->
        pend_due = 0;
        if
        :: pend_count > 0 ->
            sv = pend_head;
            do
            :: sv != NONE ->
                assert(!held[sv]);                          /* Q4 */
                nbi[sv] = next[sv];
                next[sv] = NONE;
                assert(state[sv] == COMPLETE);
                state[sv] = READY;                          /* T8 / T9 */
                sv = nbi[sv]
            :: else -> break
            od;
            inbox = pend_head;
            pend_head = NONE; pend_tail = NONE; pend_count = 0;
            pend_by_flush = 0;
            msg_queued = 1
        :: else -> skip
        fi
    :: else -> skip
    fi
}

inline make_due(by_flush)
{
    if
    :: pend_count > 0 ->
        pend_due = 1;
        pend_by_flush = pend_by_flush | by_flush;
        serve()
    :: else -> skip
    fi
}

inline pending_append(b)
{
    next[b] = NONE;
    if
    :: pend_tail == NONE -> pend_head = b
    :: else -> next[pend_tail] = b
    fi;
    pend_tail = b;
    pend_count++;
    if :: pend_count >= THRESH -> make_due(0) :: else -> skip fi
}

/* scope_complete_active: T6 (notify_now 0) or T7 (1); the owner's context. */
inline complete(notify_now)
{
    atomic {
        glock == 0 -> glock = 1;
        if
        :: act_idx != NONE ->
            cb = act_idx;
            assert(state[cb] == INUSE);
            state[cb] = COMPLETE;
            act_idx = NONE;
            pending_append(cb);
            if :: notify_now -> make_due(1) :: else -> skip fi
        :: else -> skip
        fi;
        check_chains();
        glock = 0
    };
    s_buf = NONE;
    s_off = 0
}

inline flush_as_owner(b)
{
#ifdef BUG_DOUBLE_APPEND
    /* completes the named buffer, whatever became of it */
    atomic {
        glock == 0 -> glock = 1;
        if
        :: state[b] == INUSE || state[b] == COMPLETE ->
            if :: act_idx == b -> act_idx = NONE :: else -> skip fi;
            state[b] = COMPLETE;
            pending_append(b);
            make_due(1)
        :: else -> skip
        fi;
        check_chains();
        glock = 0
    };
    if :: s_buf == b -> s_buf = NONE; s_off = 0 :: else -> skip fi
#else
    if
    :: s_buf != NONE && act_idx == b -> complete(1)
    :: else -> skip
    fi
#endif
}

inline count_lost(id)
{
    atomic {
        lost_pending++;
        fate[id] = F_LOST
    }
}

/* scope_take_buffer: T5, or the event is lost (§7.2, §7.4). */
inline take(id)
{
    if
    :: free_count == 0 ->               /* the relaxed hint, no lock */
        count_lost(id)
    :: else ->
        atomic { glock == 0 -> glock = 1 };
        if
        :: free_head == NONE ->
            glock = 0;
            count_lost(id)
        :: else ->
            tb = free_head;
            assert(state[tb] == FREE);          /* Q4: never a Ready buffer */
#ifdef BUG_STATE_FIRST
            state[tb] = INUSE;
#endif
            atomic {                    /* buffer_header_take */
                free_remove(tb);
                assert(!held[tb]);                              /* Q4 */
                hn[tb] = 0;
                ent[tb * CAP] = 0; ent[tb * CAP + 1] = 0;
                nbi[tb] = NONE;
#ifdef BUG_LOST_UNCARRIED
                hlost[tb] = 0;
#else
                hlost[tb] = lost_pending;
#endif
                lost_pending = 0;
                counted[tb] = 0
            };
            atomic {                    /* buffer_transition: release store */
#ifndef BUG_STATE_FIRST
                state[tb] = INUSE;
#endif
                act_idx = tb;
                s_buf = tb;
                s_off = 0;
                check_chains();
                glock = 0
            }
        fi
    fi
}

/* scope_log for event id. */
inline log_event(id)
{
    /* lp_mask: the acquire load of the source mask */
    if
    :: mask == 0 -> fate[id] = F_DROPPED
    :: else ->
        if :: s_buf == NONE -> take(id) :: else -> skip fi;
        if
        :: s_buf != NONE ->
            wb = s_buf;                 /* the buffer pointer, in a register */
            wo = s_off;
#ifdef BUG_PUBLISH_EARLY
            hn[wb] = wo + 1;
#endif
            /* lp_write: the entry bytes (§7.3 step 5) */
            atomic {
                assert(state[wb] == INUSE && !held[wb]);        /* Q4 */
                assert(!sources_returned);                      /* Q6 */
                ent[wb * CAP + wo] = id;
                fate[id] = F_INBUF
            };
            s_off = wo + 1;
            /* lp_publish: the release store of NextBufferOffset */
            atomic {
                assert(state[wb] == INUSE && !held[wb]);        /* Q4 */
                hn[wb] = wo + 1
            };
            if :: s_off == CAP -> complete(0) :: else -> skip fi   /* §7.3 step 6 */
        :: else -> skip
        fi
    fi
}

proctype LP()
{
    byte ev = 1, wb, wo, tb, cb, sv, fr;

    do
    :: mailbox != NOREQ ->
        /* run_on_lp: between two events */
        if
        :: mailbox == REQ_FLUSH -> flush_as_owner(req_idx)
        :: else -> skip                 /* lp_quiesced */
        fi;
        mailbox = NOREQ
    :: ev <= NEV -> log_event(ev); ev++
    :: ev == NEV + 1 -> lp_done = 1; ev++
    :: root_done && mailbox == NOREQ -> break
    od
}

inline run_on_lp(kind, idx)
{
    atomic { req_idx = idx; mailbox = kind };
    mailbox == NOREQ
}

/* call_flush of buffer fb (§5.9): Flush of an InUse buffer runs as the owner.
 * Its first look is hvlog__flush_is_noop (src/engine/engine_internal.h):
 * the flush view, read without the lock. The C keeps that byte 1 only while
 * the state is Standby, Free or Ready (0 before BufferState leaves them, 1
 * after it entered one); here it is read as state[] itself, without glock,
 * which allows every interleaving the C allows (and a few more: a read
 * between a take's two steps). Anything else takes the lock and looks
 * again, as call_flush does. */
inline flush(fb)
{
    st = state[fb];
    if
#ifdef BUG_FLUSH_VIEW_STALE
    :: st == STANDBY || st == FREE || st == READY || st == INUSE -> st = 0 /* not cleared at a take */
#else
    :: st == STANDBY || st == FREE || st == READY -> st = 0      /* §5.9 step 3, no lock */
#endif
    :: else -> atomic { glock == 0 -> st = state[fb] }
    fi;
    if
    :: st == INUSE ->
#ifdef BUG_NO_RUN_ON_LP
        /* the flush_as_owner body run from the root, beside the LP */
        if
        :: act_idx == fb ->
            atomic {
                glock == 0 -> glock = 1;
                if
                :: act_idx == fb ->
                    state[fb] = COMPLETE; act_idx = NONE;
                    pending_append(fb); make_due(1)
                :: else -> skip
                fi;
                check_chains();
                glock = 0
            };
            s_buf = NONE; s_off = 0
        :: else -> skip
        fi;
#else
        run_on_lp(REQ_FLUSH, fb);
#endif
        atomic {
            glock == 0 -> glock = 1;
            if :: state[fb] == COMPLETE -> make_due(1) :: else -> skip fi;
            check_chains();
            glock = 0
        }
    :: st == COMPLETE ->
        atomic {
            glock == 0 -> glock = 1;
            if :: state[fb] == COMPLETE -> make_due(1) :: else -> skip fi;
            check_chains();
            glock = 0
        }
    :: else -> skip                     /* §5.9 step 3 */
    fi
}

inline set_sources_off()
{
    atomic { glock == 0 -> mask = 0 };
#ifndef BUG_NO_QUIESCE
    run_on_lp(REQ_QUIESCE, 0);
#endif
    sources_returned = 1
}

/* The host copies the message, the engine hears it delivered, the root
 * reads the chain (every buffer Ready and stable), then releases each
 * buffer or unmaps it. */
inline receive()
{
    atomic {
        glock == 0 && inbox != NONE -> glock = 1;
        rb = inbox;
        do
        :: rb != NONE -> held[rb] = 1; rb = nbi[rb]
        :: else -> break
        od;
        inbox = NONE;
        msg_queued = 0;                 /* hvlog_engine_message_delivered */
        serve();
        check_chains();
        glock = 0
    };
    rb = 0;
    do
    :: rb < NB ->
        if
        :: held[rb] ->
            atomic {                    /* drain_list: walk one Ready buffer */
                assert(state[rb] == READY);
                ri = 0;
                do
                :: ri < hn[rb] ->
                    re = ent[rb * CAP + ri];
                    assert(re >= 1 && re <= NEV && fate[re] == F_INBUF);   /* Q1 */
                    fate[re] = F_READ;
                    ri++
                :: else -> break
                od;
                lost_read = lost_read + hlost[rb];
                counted[rb] = 1;
                ri = 0; re = 0
            };
            atomic {
                glock == 0 -> glock = 1;
                held[rb] = 0;
                nbi[rb] = NONE;
                if
                :: true ->              /* Release: T10 */
                    state[rb] = FREE;
                    free_append(rb)
                :: true ->              /* Unmap: T11 */
                    state[rb] = STANDBY
                fi;
                check_chains();
                glock = 0
            }
        :: else -> skip
        fi;
        rb++
    :: else -> break
    od
}

/* §6.3: a root reading an InUse buffer. */
inline peek(pb)
{
    pe = state[pb];                     /* acquire BufferState */
    if
    :: pe == INUSE ->
        pm = hn[pb];                    /* acquire NextBufferOffset */
        atomic {
            ri = 0;
            do
            :: ri < pm -> assert(ent[pb * CAP + ri] != 0); ri++        /* Q5 */
            :: else -> break
            od;
            ri = 0
        }
    :: else -> skip
    fi;
    pe = 0; pm = 0
}

proctype Root()
{
    byte ops, b, st, rb, ri, re, pe, pm, sv, fr;

    do
    :: inbox != NONE -> receive()
    :: ops < MAXOPS ->
        ops++;
        select(b : 0 .. NB - 1);
        if
        :: flush(b)
        :: atomic {                     /* Unmap of a Free buffer: T4 */
               glock == 0 -> glock = 1;
               if
               :: state[b] == FREE -> free_remove(b); state[b] = STANDBY
               :: else -> skip
               fi;
               check_chains();
               glock = 0
           }
        :: atomic {                     /* Map: T3 */
               glock == 0 -> glock = 1;
               if
               :: state[b] == STANDBY -> state[b] = FREE; free_append(b)
               :: else -> skip
               fi;
               check_chains();
               glock = 0
           }
        :: peek(b)
        :: !sources_returned -> set_sources_off()
        fi;
        b = 0
    :: ops == MAXOPS -> break
    od;
    /* The stop sequence ([MAR-TRACE], hvlog_client_conclude): disable,
     * wait for the LP to finish, flush everything, drain. */
    if :: !sources_returned -> set_sources_off() :: else -> skip fi;
    lp_done;
    b = 0;
    do
    :: b < NB -> flush(b); b++
    :: else -> break
    od;
    do
    :: inbox != NONE -> receive()
    :: else -> break
    od;
    /* Q2 at the end: nothing is left in a buffer; the loss is all counted. */
    atomic {
        assert(act_idx == NONE && pend_count == 0 && !msg_queued);
        ri = 1; re = 0;
        do
        :: ri <= NEV ->
            assert(fate[ri] == F_READ || fate[ri] == F_LOST || fate[ri] == F_DROPPED);
            if :: fate[ri] == F_LOST -> re++ :: else -> skip fi;
            ri++
        :: else -> break
        od;
        assert(re == lost_read + lost_pending);
        root_done = 1
    }
}

init
{
    byte i = 0;

    atomic {
        /* Created and mapped: every buffer Free, on the free list (T1, T3). */
        do
        :: i < NB ->
            state[i] = FREE; nbi[i] = NONE; free_append(i); i++
        :: else -> break
        od;
        run LP();
        run Root()
    }
}
