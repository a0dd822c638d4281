#include "isa/ppc64/l1d_flush.hpp"

#include "common/log.hpp"
#include "isa/ppc64/spr.hpp"

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

void init_speculation(const FwFeatures& fw, u64 l1d_bytes) {
    const u32 pvr = static_cast<u32>(mfspr<Spr::PVR>());
    const CpuCharacteristics cc = cpu_characteristics(pvr, fw);
    set_cpu_characteristics(cc);
    log("ppc64: PVR %#x, %s; guests' CPU characteristics %#llx, behaviours %#llx\n", pvr,
        fw.present ? "firmware fw-features" : "no firmware fw-features",
        static_cast<unsigned long long>(cc.character),
        static_cast<unsigned long long>(cc.behaviour));

    if (l1d_bytes == 0) l1d_bytes = kDefaultL1d;
    if (l1d_bytes > sizeof(displacement_area)) {
        log("ppc64: L1D of %llu KiB: the displacement flush covers %zu KiB\n",
            static_cast<unsigned long long>(l1d_bytes / KiB), sizeof(displacement_area) / KiB);
        l1d_bytes = sizeof(displacement_area);
    }
    flush_kind = hv_l1d_flush(fw);
    flush_bytes = l1d_bytes < kBlock ? kBlock : l1d_bytes;
    load_l1d_flush(this_pcpu()); // the secondaries take it in cpu_init
    static constexpr const char* kNames[] = {"none", "ori 30,30,0", "TRIG2",
                                             "displacement (loads)"};
    log("ppc64: L1D flush before each guest entry: %s, L1D %llu KiB\n",
        kNames[static_cast<usize>(flush_kind)], static_cast<unsigned long long>(flush_bytes / KiB));
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
