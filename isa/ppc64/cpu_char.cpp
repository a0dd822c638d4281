#include "isa/ppc64/cpu_char.hpp"

#include "common/rt/string.hpp"

namespace tessera::arch {
namespace {

struct Named {
    const char* name;
    FwFeature feature;
};
constexpr Named kNames[] = {
    {"inst-spec-barrier-ori31,31,0", FwFeature::SpecBarOri31},
    {"fw-bcctrl-serialized", FwFeature::BcctrlSerialized},
    {"inst-l1d-flush-ori30,30,0", FwFeature::L1dFlushOri30},
    {"inst-l1d-flush-trig2", FwFeature::L1dFlushTrig2},
    {"fw-l1d-thread-split", FwFeature::L1dThreadSplit},
    {"fw-count-cache-disabled", FwFeature::CountCacheDisabled},
    {"fw-count-cache-flush-bcctr2,0,0", FwFeature::CountCacheFlushBcctr2},
    {"speculation-policy-favor-security", FwFeature::FavorSecurity},
    {"needs-l1d-flush-msr-pr-0-to-1", FwFeature::NeedsL1dFlushPr0To1},
    {"needs-l1d-flush-msr-hv-1-to-0", FwFeature::NeedsL1dFlushHv1To0},
    {"needs-spec-barrier-for-bound-checks", FwFeature::NeedsSpecBarrierBounds},
    {"needs-count-cache-flush-on-context-switch", FwFeature::NeedsCountCacheFlush},
    {"no-need-l1d-flush-msr-pr-1-to-0", FwFeature::NoNeedL1dFlushPr1To0},
    {"no-need-l1d-flush-kernel-on-user-access", FwFeature::NoNeedL1dFlushUaccess},
    {"no-need-store-drain-on-priv-state-switch", FwFeature::NoNeedStoreDrain},
};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<usize>(FwFeature::Count));

// PVR versions (the upper 16 bits) of the processors that need neither L1D flush on kernel
// entry nor around user accesses: POWER7, POWER7+, POWER8E, POWER8NVL, POWER8.
bool before_power9(u32 pvr) {
    const u32 version = pvr >> 16;
    return version == 0x003f || version == 0x004a || version == 0x004b || version == 0x004c ||
           version == 0x004d;
}

constexpr CpuCharacteristics kDefaults{0, cpu_behav::kFavourSecurity | cpu_behav::kL1dFlushPr |
                                              cpu_behav::kBndsChkSpecBar};

// Lock: none. Written by the boot CPU before the secondaries start; read-only afterwards.
CpuCharacteristics current = kDefaults;

} // namespace

bool fw_feature_by_name(const char* name, FwFeature& out) {
    for (const Named& n : kNames) {
        if (rt::str_compare(n.name, name) == 0) {
            out = n.feature;
            return true;
        }
    }
    return false;
}

CpuCharacteristics cpu_characteristics(u32 pvr, const FwFeatures& fw) {
    using F = FwFeature;
    auto enabled = [&](F f) { return fw[f] == FwState::Enabled; };
    auto disabled = [&](F f) { return fw[f] == FwState::Disabled; };
    CpuCharacteristics c = kDefaults;
    // Instructions and facilities the chip has (present only when the firmware says so).
    if (enabled(F::SpecBarOri31)) c.character |= cpu_char::kSpecBarOri31;
    if (enabled(F::BcctrlSerialized)) c.character |= cpu_char::kBcctrlSerialised;
    if (enabled(F::L1dFlushOri30)) c.character |= cpu_char::kL1dFlushOri30;
    if (enabled(F::L1dFlushTrig2)) c.character |= cpu_char::kL1dFlushTrig2;
    if (enabled(F::L1dThreadSplit)) c.character |= cpu_char::kL1dThreadPriv;
    if (enabled(F::CountCacheDisabled)) c.character |= cpu_char::kCountCacheDisabled;
    if (enabled(F::CountCacheFlushBcctr2)) c.character |= cpu_char::kBcctrFlushAssist;
    // Mitigations the guest needs: on unless the firmware says they are not needed.
    if (disabled(F::FavorSecurity)) c.behaviour &= ~cpu_behav::kFavourSecurity;
    if (disabled(F::NeedsL1dFlushPr0To1)) c.behaviour &= ~cpu_behav::kL1dFlushPr;
    if (disabled(F::NeedsSpecBarrierBounds)) c.behaviour &= ~cpu_behav::kBndsChkSpecBar;
    if (enabled(F::NeedsCountCacheFlush)) c.behaviour |= cpu_behav::kFlushCountCache;
    if (enabled(F::NoNeedL1dFlushPr1To0) || before_power9(pvr))
        c.behaviour |= cpu_behav::kNoL1dFlushEntry;
    if (enabled(F::NoNeedL1dFlushUaccess) || before_power9(pvr))
        c.behaviour |= cpu_behav::kNoL1dFlushUaccess;
    if (enabled(F::NoNeedStoreDrain)) c.behaviour |= cpu_behav::kNoStfBarrier;
    return c;
}

L1dFlush hv_l1d_flush(const FwFeatures& fw) {
    if (fw[FwFeature::FavorSecurity] == FwState::Disabled ||
        fw[FwFeature::NeedsL1dFlushHv1To0] == FwState::Disabled)
        return L1dFlush::None;
    if (fw[FwFeature::L1dFlushOri30] == FwState::Enabled) return L1dFlush::Ori30;
    if (fw[FwFeature::L1dFlushTrig2] == FwState::Enabled) return L1dFlush::Trig2;
    return L1dFlush::Displacement;
}

void set_cpu_characteristics(const CpuCharacteristics& c) {
    current = c;
}

const CpuCharacteristics& current_cpu_characteristics() {
    return current;
}

} // namespace tessera::arch
