// The receive buffers an l-lan adapter's guest posted (H_ADD_LOGICAL_LAN_BUFFER), held by the
// hypervisor in pools by buffer size: ibmveth posts 256 x 512 B, 512 x 2 KiB and 256 x 64 KiB
// buffers by default (up to 1,536 with every pool on), more than the 4 KiB buffer-list page could
// describe. Each pool is a stack of descriptors threaded through one fixed array; pools are kept
// sorted by size, so a frame takes the smallest buffer that holds it.
// Owned by its adapter (the run loop's CPU today).
#pragma once

#include <tessera/types.hpp>

namespace tessera::llan {

inline constexpr usize kMaxRxBuffers = 2048; // per adapter; ibmveth posts at most 1,536
inline constexpr usize kMaxRxPools = 8;      // distinct buffer sizes; ibmveth has 5

// A buffer descriptor (a register value; PAPR "Buffer Descriptor"): control in bits 63..56,
// length in 55..32, IOBA in 31..0.
inline constexpr u64 kDescValid = u64{0x80} << 56;
constexpr u32 desc_length(u64 d) {
    return static_cast<u32>(d >> 32) & 0xff'ffff;
}
constexpr u32 desc_ioba(u64 d) {
    return static_cast<u32>(d);
}

class RxPools {
  public:
    // False when kMaxRxBuffers buffers are held or a new size would need a ninth pool.
    bool add(u64 desc);
    // The smallest held buffer of at least `need` bytes, removed from its pool; false if none.
    bool take(u64 need, u64& desc);
    void clear();
    usize count() const { return held_; }
    usize pool_count() const { return pools_; }
    u32 pool_size(usize i) const { return i < pools_ ? pool_[i].size : 0; }
    usize pool_held(usize i) const { return i < pools_ ? pool_[i].held : 0; }

  private:
    static constexpr u16 kNone = 0xffff;
    static_assert(kMaxRxBuffers < kNone);
    struct Pool {
        u32 size = 0;
        u16 top = kNone; // the stack's first slot
        usize held = 0;
    };
    u16 alloc_slot();

    Pool pool_[kMaxRxPools] = {};
    usize pools_ = 0;
    u64 desc_[kMaxRxBuffers] = {};
    u16 next_[kMaxRxBuffers] = {};
    u16 free_ = kNone; // freed slots
    usize fresh_ = 0;  // slots >= fresh_ were never used
    usize held_ = 0;
};

} // namespace tessera::llan
