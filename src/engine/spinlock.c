/* SPDX-License-Identifier: MIT */
#include <sched.h>

#include "engine/spinlock.h"

void hvlog_spin_wait(uint32_t *lock)
{
    for (unsigned spins = 0;; spins++) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED) != 0) {
            hvlog_cpu_relax();
            /* In a hypervisor the holder cannot be descheduled; in the
             * simulator (threads on a shared machine) it can, so after a
             * while give the CPU away rather than burn the holder's slice. */
            if (++spins > 256) {
                sched_yield();
                spins = 0;
            }
        }
        if (__atomic_exchange_n(lock, 1u, __ATOMIC_ACQUIRE) == 0)
            return;
    }
}
