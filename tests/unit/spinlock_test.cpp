// The ticket spinlock (common/spinlock.hpp) from several threads: mutual exclusion, try_lock.
#include "common/spinlock.hpp"

#include <doctest/doctest.h>
#include <thread>
#include <vector>

using namespace tessera;

TEST_CASE("spinlock: try_lock fails while held, succeeds once released") {
    Spinlock l;
    CHECK_FALSE(l.is_locked());
    CHECK(l.try_lock());
    CHECK(l.is_locked());
    CHECK_FALSE(l.try_lock());
    l.unlock();
    CHECK_FALSE(l.is_locked());
    {
        LockGuard g(l);
        CHECK(l.is_locked());
    }
    CHECK(l.try_lock());
    l.unlock();
}

TEST_CASE("spinlock: threads: a non-atomic counter under the lock loses no increment") {
    Spinlock l;
    u64 counter = 0; // plain: only the lock protects it
    u32 inside = 0;  // how many threads are in the critical section (must stay <= 1)
    bool overlap = false;
    constexpr int kThreads = 3, kRounds = 5000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kRounds; ++i) {
                LockGuard g(l);
                if (++inside != 1) overlap = true;
                ++counter;
                --inside;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK_FALSE(overlap);
    CHECK(counter == u64{kThreads} * kRounds);
    CHECK_FALSE(l.is_locked());
}
