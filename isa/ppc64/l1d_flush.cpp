#include "isa/ppc64/l1d_flush.hpp"

#include "common/log.hpp"

namespace tessera::arch {
namespace {

constexpr u64 kDefaultL1d = 64 * KiB; // POWER8
constexpr u64 kBlock = 8 * 128;       // one pass of the vectors' loop: eight 128-byte lines
// What the displacement flush loads: never written, so every load replaces a line with one the
// hypervisor has nothing in.
alignas(kBlock) u8 displacement_area[kDefaultL1d];

// Lock: none. Written by the boot CPU before the secondaries start; read-only afterwards.
L1dFlush flush_kind = L1dFlush::Displacement;
u64 flush_bytes = kDefaultL1d;

} // namespace

void set_l1d_flush(L1dFlush how, u64 l1d_bytes) {
    if (l1d_bytes == 0) l1d_bytes = kDefaultL1d;
    if (l1d_bytes > sizeof(displacement_area)) {
        log("ppc64: L1D of %llu KiB: the displacement flush covers %zu KiB\n",
            static_cast<unsigned long long>(l1d_bytes / KiB), sizeof(displacement_area) / KiB);
        l1d_bytes = sizeof(displacement_area);
    }
    flush_kind = how;
    flush_bytes = l1d_bytes < kBlock ? kBlock : l1d_bytes;
}

// The vectors' numbers for the kinds are the enum's.
static_assert(static_cast<u64>(L1dFlush::None) == PCPU_FLUSH_NONE &&
              static_cast<u64>(L1dFlush::Ori30) == PCPU_FLUSH_ORI30 &&
              static_cast<u64>(L1dFlush::Trig2) == PCPU_FLUSH_TRIG2 &&
              static_cast<u64>(L1dFlush::Displacement) == PCPU_FLUSH_DISPLACEMENT);

void load_l1d_flush(Pcpu& pcpu) {
    pcpu.l1d_flush = static_cast<u64>(flush_kind);
    pcpu.l1d_area = reinterpret_cast<uptr>(displacement_area);
    pcpu.l1d_blocks = flush_bytes / kBlock;
}

} // namespace tessera::arch
