// regs (2 vcpus, ppc64): the registers a guest owns survive being switched out, and do not leak
// to the other vcpu. Each vcpu fills all 64 VSX registers (FP + VMX), FPSCR, VSCR, TAR and DSCR
// with its own pattern, lets the other vcpu and the other LPARs run for many time slices, sleeps
// (H_CEDE) a few times, and reads them back.
#include "lpar.hpp"

using namespace lpar;
using namespace lpar::isa;

extern "C" void vsx_load_all(const u8* area);
extern "C" void vsx_store_all(u8* area);

namespace {

constexpr usize kArea = 64 * 16 + 32;
constexpr int kSprTar = 815, kSprDscr = 17;

alignas(16) u8 wanted[2][kArea];
alignas(16) u8 got[2][kArea];
volatile u32 loaded[2];

void fill_pattern(unsigned vcpu, u8* area) {
    for (usize i = 0; i < 1024; ++i) area[i] = static_cast<u8>(i * 7 + vcpu * 101 + 1);
    u64 fpscr = vcpu == 0 ? 1 : 2; // rounding mode: toward zero / toward +infinity
    for (usize i = 0; i < 8; ++i) area[1024 + i] = static_cast<u8>(fpscr >> (8 * i));
    for (usize i = 1032; i < kArea; ++i) area[i] = 0;
    // VSCR is the vector's last word: little-endian lvx/stvx put it in bytes 0..3. SAT (its
    // least significant bit) differs between the vcpus.
    area[1040] = vcpu == 0 ? 0 : 1;
}

bool same(const u8* a, const u8* b, usize from, usize to, usize& first) {
    for (usize i = from; i < to; ++i)
        if (a[i] != b[i]) {
            first = i;
            return false;
        }
    return true;
}

} // namespace

void lpar_main(const Boot& b) {
    const unsigned me = b.vcpu;
    if (me > 1) return;
    if (me == 0) note("regs: FP/VMX/VSX and owned SPRs across vcpu switches");
    mtmsrd(mfmsr() | msr::kFp | msr::kVec | msr::kVsx);
    fill_pattern(me, wanted[me]);
    vsx_load_all(wanted[me]);
    const u64 tar = 0x7a7a0000 + me * 4, dscr = me == 0 ? 0x5 : 0x7;
    mtspr<kSprTar>(tar);
    mtspr<kSprDscr>(dscr);
    loaded[me] = 1;
    // Both vcpus hold their patterns now; keep the CPU busy for ~30 time slices so that the
    // hypervisor switches between this vcpu, its sibling and the other LPARs many times.
    bool both = spin_until([] { return loaded[0] && loaded[1]; }, 10000);
    Deadline d = Deadline::ms(300);
    while (!d.expired()) {
    }
    // Then sleep a moment, 20 times: with several physical CPUs a vcpu that wakes goes back to
    // the CPU that still holds its registers (isa/ppc64/run.cpp), which must be exactly as it
    // left them (a save that used vs0 and vs32 as scratch once broke strchr in Linux).
    for (int i = 0; i < 20; ++i) idle(ticks_per_ms());
    vsx_store_all(got[me]);
    const u64 tar_now = mfspr<kSprTar>(), dscr_now = mfspr<kSprDscr>();
    usize first = 0;
    check(both, "vcpu %u: both vcpus held their patterns at the same time", me);
    bool vsr = same(got[me], wanted[me], 0, 1024, first);
    check(vsr,
          Detail("first difference at byte %zu: %#x, want %#x", first, got[me][first],
                 wanted[me][first]),
          "vcpu %u: all 64 VSX registers (FP + VMX) survived the switches", me);
    check(same(got[me], wanted[me], 1024, 1032, first), "vcpu %u: FPSCR survived", me);
    check(same(got[me], wanted[me], 1040, 1056, first), "vcpu %u: VSCR survived", me);
    check_eq(tar_now, tar, "vcpu %u: TAR survived", me);
    check_eq(dscr_now, dscr, "vcpu %u: DSCR survived", me);
}
