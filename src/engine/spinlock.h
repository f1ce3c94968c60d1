/* SPDX-License-Identifier: MIT */
/*
 * The engine's lock: test-and-test-and-set on a 32-bit word.
 *
 * A hypervisor cannot sleep on the logging path, and every critical section
 * of the engine is short (list surgery, a header store or a few), so a
 * spinlock is the right primitive. Acquire on lock, release on unlock. While
 * waiting it only reads the word (no cache-line ping-pong), pauses, and
 * after a long wait calls the host's relax hook (hvlog_host_ops.relax).
 *
 * Not interrupt-safe by itself: an interrupt that logs on an LP that holds
 * one of these locks would spin on it forever. hvlog_log()'s per-LP nesting
 * guard (log.h) is what keeps a nested log call away from the locks its
 * LP may hold.
 */
#ifndef HVLOG_ENGINE_SPINLOCK_H
#define HVLOG_ENGINE_SPINLOCK_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define hvlog_cpu_relax() __builtin_ia32_pause()
#else
#define hvlog_cpu_relax() ((void)0)
#endif

struct hvlog_engine;

/* Out of line: the contended case. @e gives the relax hook. */
void hvlog__spin_wait(const struct hvlog_engine *e, uint32_t *lock);

static inline void hvlog__spin_lock(const struct hvlog_engine *e, uint32_t *lock)
{
    /* Uncontended: one exchange. */
    if (__atomic_exchange_n(lock, 1u, __ATOMIC_ACQUIRE) == 0)
        return;
    hvlog__spin_wait(e, lock);
}

static inline void hvlog__spin_unlock(uint32_t *lock)
{
    __atomic_store_n(lock, 0u, __ATOMIC_RELEASE);
}

#endif /* HVLOG_ENGINE_SPINLOCK_H */
