/* SPDX-License-Identifier: MIT */
#include "engine/engine_internal.h"

/*
 * The contended case. Waiters read the word (no writes while it is held)
 * and back off exponentially between attempts: the holder then keeps the
 * lock's cache line for several critical sections in a row instead of
 * losing it to the other core after each one, which is what makes a
 * contended lock expensive.
 */
void hvlog__spin_wait(const struct hvlog_engine *e, uint32_t *lock)
{
    unsigned backoff = 4, waited = 0;

    for (;;) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED) != 0) {
            for (unsigned i = 0; i < backoff; i++)
                hvlog_cpu_relax();
            if (backoff < 1024)
                backoff <<= 1;
            /* In a hypervisor the holder cannot be descheduled and relax is
             * NULL; in a threaded simulation it can, so after a while the
             * host gives the CPU away rather than burn the holder's slice. */
            if (++waited > 4096) {
                if (e->ops.relax)
                    e->ops.relax(e->config.ctx);
                waited = 0;
            }
        }
        if (__atomic_exchange_n(lock, 1u, __ATOMIC_ACQUIRE) == 0)
            return;
    }
}
