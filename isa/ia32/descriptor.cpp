#include "isa/ia32/descriptor.hpp"

namespace tessera::arch::desc {

u32 base(u64 d) {
    return static_cast<u32>(((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24));
}

u32 limit_bytes(u64 d) {
    const u32 raw = static_cast<u32>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    const bool pages = (d >> 55) & 1; // G
    return pages ? (raw << 12) | 0xfff : raw;
}

u64 install(u64 guest) {
    if (!is_segment(guest)) return 0;
    u64 d = guest | (u64{kAccessed} << 40);
    if (dpl(d) == 0) d |= u64{1} << (40 + kDplShift);
    d &= ~(u64{1} << 53); // L
    return d;
}

} // namespace tessera::arch::desc
