// Fixed-capacity byte FIFO. Overflow policy: the newest bytes are dropped (what is queued is
// never overwritten) and every dropped byte is counted, so a reader sees a gap-free prefix of
// what was pushed. Not thread-safe: the owner serialises access.
#pragma once

#include <tessera/types.hpp>

namespace tessera::lib {

template <usize N>
class Ring {
    static_assert(N > 0, "a ring needs room for at least one byte");

  public:
    constexpr Ring() = default;

    static constexpr usize capacity() { return N; }
    constexpr usize size() const { return count_; }
    constexpr usize free() const { return N - count_; }
    constexpr bool empty() const { return count_ == 0; }
    constexpr bool full() const { return count_ == N; }
    // Bytes refused because the ring was full, since construction or the last clear().
    constexpr u64 dropped() const { return dropped_; }

    // Queues one byte; false (and counted as dropped) when full.
    constexpr bool push(u8 byte) {
        if (full()) {
            ++dropped_;
            return false;
        }
        buf_[index(count_)] = byte;
        ++count_;
        return true;
    }

    // Queues as many of `n` bytes as fit, in order; the rest are dropped and counted.
    // Returns how many were queued.
    constexpr usize push(const u8* bytes, usize n) {
        usize room = free();
        usize take = n < room ? n : room;
        for (usize i = 0; i < take; ++i) buf_[index(count_ + i)] = bytes[i];
        count_ += take;
        dropped_ += n - take;
        return take;
    }

    // Removes the oldest byte; false when empty (`out` untouched).
    constexpr bool pop(u8& out) {
        if (empty()) return false;
        out = buf_[head_];
        head_ = index(1);
        --count_;
        return true;
    }

    // Removes up to `max` of the oldest bytes into `out`; returns how many.
    constexpr usize pop(u8* out, usize max) {
        usize take = max < count_ ? max : count_;
        for (usize i = 0; i < take; ++i) out[i] = buf_[index(i)];
        head_ = index(take);
        count_ -= take;
        return take;
    }

    // Reads the byte `at` positions from the oldest without removing it; false when absent.
    constexpr bool peek(u8& out, usize at = 0) const {
        if (at >= count_) return false;
        out = buf_[index(at)];
        return true;
    }

    constexpr void clear() {
        head_ = 0;
        count_ = 0;
        dropped_ = 0;
    }

  private:
    // Physical slot of logical position `i` counted from the oldest byte (i <= N).
    constexpr usize index(usize i) const {
        usize p = head_ + i;
        return p >= N ? p - N : p;
    }

    u8 buf_[N] = {};
    usize head_ = 0;  // slot of the oldest byte
    usize count_ = 0; // bytes queued
    u64 dropped_ = 0;
};

} // namespace tessera::lib
