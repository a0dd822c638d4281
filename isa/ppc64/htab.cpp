#include "isa/ppc64/htab.hpp"

#include "common/rt/string.hpp"
#include <tessera/hot.hpp>

namespace tessera::arch {

bool Htab::init(void* host, RealAddr real, u32 shift, u32 lpid, TlbHook tlb) {
    reset();
    if (shift < kMinShift || shift > kMaxShift || host == nullptr || tlb.fn == nullptr)
        return false;
    if (!is_aligned(reinterpret_cast<uptr>(host), 8) || !real.is_aligned(u64{1} << shift))
        return false;
    rt::mem_set(host, 0, static_cast<usize>(u64{1} << shift));
    htab_detail::pte_sync();
    base_ = static_cast<u8*>(host);
    real_ = real;
    shift_ = shift;
    lpid_ = lpid;
    tlb_ = tlb;
    return true;
}

void Htab::reset() {
    base_ = nullptr;
    real_ = RealAddr(0);
    shift_ = 0;
    lpid_ = 0;
    tlb_ = {};
}

Hpte Htab::vrma_entry(u64 page, RealAddr real) {
    // AVPN = VA >> 23 with VA = VSID || 40-bit offset (65 bits: computed without forming VA).
    const u64 avpn = (kVrmaVsid << (kSegmentShift1T - 23)) | (page << (kPage16M.actual_shift - 23));
    Hpte e;
    e.v = hpte::kSegment1T | ((avpn << hpte::kAvpnShift) & hpte::kAvpn) | hpte::kBolted |
          hpte::kLarge | hpte::kValid;
    // PP=00 key 0: read/write for the guest's real-mode accesses; coherent, R and C preset.
    e.r = (real.value() & hpte::kRpn & ~kPage16M.lp_mask()) | kPage16M.lp_bits() | hpte::kRef |
          hpte::kChange | hpte::kM;
    return e;
}

u64 Htab::vrma_group(u64 page) const {
    return hash_1t(kVrmaVsid, page << kPage16M.actual_shift, kPage16M.base_shift) & group_mask();
}

bool Htab::map_vrma(const LogicalMap& memory, u32 chunks) {
    static_assert(kChunkShift == 24, "the VRMA maps one chunk per 16M page");
    if (!ready() || chunks == 0 || chunks > memory.chunk_count()) return false;
    // Pages 0..chunks-1 hash to distinct groups (page XOR constant, < group_count()).
    if (chunks > group_count()) return false;
    Guard g(*this);
    for (u32 i = 0; i < chunks; ++i) {
        if (load((vrma_group(i) << 3) + kVrmaSlot).valid()) return false;
        if (!memory.translate(LogicalAddr(u64{i} << kChunkShift), kChunkSize)) return false;
    }
    for (u32 i = 0; i < chunks; ++i) {
        const RealAddr real = *memory.translate(LogicalAddr(u64{i} << kChunkShift), kChunkSize);
        store_new((vrma_group(i) << 3) + kVrmaSlot, vrma_entry(i, real));
    }
    return true;
}

} // namespace tessera::arch
