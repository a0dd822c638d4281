#include "common/llan_pools.hpp"

namespace tessera::llan {

u16 RxPools::alloc_slot() {
    if (free_ != kNone) {
        const u16 s = free_;
        free_ = next_[s];
        return s;
    }
    return fresh_ < kMaxRxBuffers ? static_cast<u16>(fresh_++) : kNone;
}

bool RxPools::add(u64 desc) {
    const u32 size = desc_length(desc);
    usize i = 0;
    while (i < pools_ && pool_[i].size < size) ++i;
    if (i == pools_ || pool_[i].size != size) {
        if (pools_ == kMaxRxPools || held_ == kMaxRxBuffers) return false;
        for (usize j = pools_; j > i; --j) pool_[j] = pool_[j - 1];
        pool_[i] = Pool{size, kNone, 0};
        ++pools_;
    }
    const u16 s = alloc_slot();
    if (s == kNone) return false;
    desc_[s] = desc;
    next_[s] = pool_[i].top;
    pool_[i].top = s;
    ++pool_[i].held;
    ++held_;
    return true;
}

bool RxPools::take(u64 need, u64& desc) {
    for (usize i = 0; i < pools_; ++i) {
        Pool& p = pool_[i];
        if (p.size < need || p.held == 0) continue;
        const u16 s = p.top;
        p.top = next_[s];
        --p.held;
        --held_;
        desc = desc_[s];
        next_[s] = free_;
        free_ = s;
        if (p.held == 0) { // an empty pool gives its place back (sizes can change with the MTU)
            for (usize j = i; j + 1 < pools_; ++j) pool_[j] = pool_[j + 1];
            --pools_;
        }
        return true;
    }
    return false;
}

void RxPools::clear() {
    pools_ = 0;
    free_ = kNone;
    fresh_ = 0;
    held_ = 0;
}

} // namespace tessera::llan
