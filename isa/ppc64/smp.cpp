// Per-CPU areas and stacks of the secondary CPUs, and nap.
#include "isa/ppc64/smp.hpp"

#include "isa/ppc64/pcpu.hpp"
#include "isa/ppc64/spr.hpp"

extern "C" void ppc64_nap();

namespace tessera::arch {
namespace {

constexpr usize kStackSize = 64 * KiB;
constexpr u64 kPeceExternal = u64{1} << 14;    // LPCR[PECE] bit 49: external interrupts wake
constexpr u64 kPeceDecrementer = u64{1} << 13; // LPCR[PECE] bit 50: the decrementer wakes

PcpuBlock blocks[kMaxCpus - 1]; // secondaries 1..kMaxCpus-1
alignas(16) u8 stacks[kMaxCpus - 1][kStackSize];

} // namespace

extern "C" {
SecondaryBoot ppc64_secondary_boot;
}

bool prepare_secondary(u32 index) {
    if (index == 0 || index >= kMaxCpus) return false;
    PcpuBlock& b = blocks[index - 1];
    b.stack_guard = ppc64_pcpu_block0.stack_guard;
    ppc64_secondary_boot.r13 = reinterpret_cast<uptr>(&b.pcpu);
    ppc64_secondary_boot.sp = reinterpret_cast<uptr>(stacks[index - 1] + kStackSize);
    sync();
    return true;
}

void nap(u64 timeout_ticks) {
    u64 lpcr_value = (mfspr<Spr::LPCR>() & ~(lpcr::MER | (u64{0x1f} << 12))) | kPeceExternal;
    if (timeout_ticks != 0) {
        // A positive DEC also withdraws a decrementer interrupt left pending (level-triggered).
        mtspr<Spr::DEC>(timeout_ticks > 0x7fffffff ? 0x7fffffff : timeout_ticks);
        lpcr_value |= kPeceDecrementer;
    }
    mtspr<Spr::LPCR>(lpcr_value);
    isync();
    ppc64_nap();
}

} // namespace tessera::arch
