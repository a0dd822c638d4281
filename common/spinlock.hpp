// A ticket spinlock for hypervisor context on several physical CPUs: CPUs get the lock in the
// order they asked for it (no CPU starves while another keeps re-taking it, as the boot CPU's
// polling loop does). Freestanding: only the compiler's __atomic builtins (lwarx/stwcx. on
// ppc64, lock xadd on ia32); hosted, the same code is exercised by threads in the unit tests.
//
// Not recursive. Callers keep external interrupts off while they hold it (hypervisor context
// always does), so an interrupt handler never spins on a lock its own CPU holds.
#pragma once

#include <tessera/types.hpp>

#if !defined(TESSERA_FREESTANDING)
#include <sched.h> // host tests: a waiting thread yields (threads may outnumber the host's CPUs)
#endif

namespace tessera {

class Spinlock {
  public:
    constexpr Spinlock() = default;
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    void lock() {
        const u32 ticket = __atomic_fetch_add(&next_, 1, __ATOMIC_RELAXED);
        while (__atomic_load_n(&serving_, __ATOMIC_ACQUIRE) != ticket) {
#if !defined(TESSERA_FREESTANDING)
            sched_yield();
#endif
        }
    }
    bool try_lock() {
        u32 serving = __atomic_load_n(&serving_, __ATOMIC_RELAXED);
        u32 expected = serving;
        return __atomic_compare_exchange_n(&next_, &expected, serving + 1, false, __ATOMIC_ACQUIRE,
                                           __ATOMIC_RELAXED);
    }
    void unlock() {
        __atomic_store_n(&serving_, __atomic_load_n(&serving_, __ATOMIC_RELAXED) + 1,
                         __ATOMIC_RELEASE);
    }
    // True while some CPU holds it (or waits for it); for assertions only.
    bool is_locked() const {
        return __atomic_load_n(&next_, __ATOMIC_RELAXED) !=
               __atomic_load_n(&serving_, __ATOMIC_RELAXED);
    }

  private:
    u32 next_ = 0;    // the next ticket to hand out
    u32 serving_ = 0; // the ticket that holds the lock
};

// Holds a lock for a scope.
class LockGuard {
  public:
    explicit LockGuard(Spinlock& l) : lock_(l) { lock_.lock(); }
    ~LockGuard() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

  private:
    Spinlock& lock_;
};

} // namespace tessera
