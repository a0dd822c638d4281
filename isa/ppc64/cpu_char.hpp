// What H_GET_CPU_CHARACTERISTICS tells a guest about the machine's speculation behaviour, so that
// its kernel picks the mitigations a kernel running natively on this machine would pick: no
// fewer, and none the processor does not need.
//
// The facts come from two places, as Linux's powernv platform takes them:
// - the host firmware's /ibm,opal/fw-features/<name> nodes (skiboot passes on what hostboot
//   knows about the chip), each with an "enabled" or a "disabled" property;
// - the processor: POWER7 and POWER8 are not affected by the issue the L1D flushes on kernel
//   entry and around user accesses address (CVE-2020-4788, a POWER9 one). Linux on bare metal
//   clears those two for them whatever the firmware says (arch/powerpc/platforms/powernv/setup.c).
// Without fw-features (QEMU's powernv has none) everything else keeps the defaults a pseries
// kernel assumes: favour security, flush L1D on return to user, bounds-check barrier.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

// H_GET_CPU_CHARACTERISTICS' two words (PAPR; IBM bit 0 is the most significant).
namespace cpu_char {
inline constexpr u64 kSpecBarOri31 = u64{1} << 63;
inline constexpr u64 kBcctrlSerialised = u64{1} << 62;
inline constexpr u64 kL1dFlushOri30 = u64{1} << 61;
inline constexpr u64 kL1dFlushTrig2 = u64{1} << 60;
inline constexpr u64 kL1dThreadPriv = u64{1} << 59;
inline constexpr u64 kCountCacheDisabled = u64{1} << 56;
inline constexpr u64 kBcctrFlushAssist = u64{1} << 54;
} // namespace cpu_char
namespace cpu_behav {
inline constexpr u64 kFavourSecurity = u64{1} << 63;
inline constexpr u64 kL1dFlushPr = u64{1} << 62;
inline constexpr u64 kBndsChkSpecBar = u64{1} << 61;
inline constexpr u64 kFlushCountCache = u64{1} << 58;
inline constexpr u64 kNoL1dFlushEntry = u64{1} << 56;
inline constexpr u64 kNoL1dFlushUaccess = u64{1} << 55;
inline constexpr u64 kNoStfBarrier = u64{1} << 54;
} // namespace cpu_behav

struct CpuCharacteristics {
    u64 character = 0;
    u64 behaviour = 0;
};

// One firmware feature: absent from the tree, or present and enabled or disabled.
enum class FwState : u8 { Absent, Enabled, Disabled };

enum class FwFeature : u8 {
    SpecBarOri31,           // inst-spec-barrier-ori31,31,0
    BcctrlSerialized,       // fw-bcctrl-serialized
    L1dFlushOri30,          // inst-l1d-flush-ori30,30,0
    L1dFlushTrig2,          // inst-l1d-flush-trig2
    L1dThreadSplit,         // fw-l1d-thread-split
    CountCacheDisabled,     // fw-count-cache-disabled
    CountCacheFlushBcctr2,  // fw-count-cache-flush-bcctr2,0,0
    FavorSecurity,          // speculation-policy-favor-security
    NeedsL1dFlushPr0To1,    // needs-l1d-flush-msr-pr-0-to-1
    NeedsL1dFlushHv1To0,    // needs-l1d-flush-msr-hv-1-to-0
    NeedsSpecBarrierBounds, // needs-spec-barrier-for-bound-checks
    NeedsCountCacheFlush,   // needs-count-cache-flush-on-context-switch
    NoNeedL1dFlushPr1To0,   // no-need-l1d-flush-msr-pr-1-to-0
    NoNeedL1dFlushUaccess,  // no-need-l1d-flush-kernel-on-user-access
    NoNeedStoreDrain,       // no-need-store-drain-on-priv-state-switch
    Count
};

struct FwFeatures {
    FwState state[static_cast<usize>(FwFeature::Count)] = {};
    bool present = false; // the firmware has a fw-features node at all
    FwState operator[](FwFeature f) const { return state[static_cast<usize>(f)]; }
    void set(FwFeature f, FwState s) { state[static_cast<usize>(f)] = s; }
};

// The feature a fw-features child node names; false for a name this table does not know.
bool fw_feature_by_name(const char* name, FwFeature& out);

// The processor version of this machine (PVR) and its firmware's features.
CpuCharacteristics cpu_characteristics(u32 pvr, const FwFeatures& fw);

// How the hypervisor empties the L1D before a guest runs, so that a guest cannot read what the
// hypervisor (and through it other LPARs) left there by speculation (Meltdown, CVE-2017-5754, which
// POWER7-POWER9 have): KVM-HV's HRFI_TO_GUEST, Linux's return to user. Needed unless the firmware
// says it is not (favour security or needs-l1d-flush-msr-hv-1-to-0 disabled); then the cheapest
// way the chip has: `ori 30,30,0`, a TRIG2 write, else loads that displace every L1D line.
enum class L1dFlush : u8 { None, Ori30, Trig2, Displacement };
L1dFlush hv_l1d_flush(const FwFeatures& fw);

// What H_GET_CPU_CHARACTERISTICS answers. Written once by the boot CPU before any LPAR runs
// (plat/powernv/main.cpp), read-only afterwards; until then the pseries defaults above.
void set_cpu_characteristics(const CpuCharacteristics& c);
const CpuCharacteristics& current_cpu_characteristics();

} // namespace tessera::arch
