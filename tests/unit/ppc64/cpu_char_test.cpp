// The guest's speculation facts from the machine's PVR and its firmware's fw-features.
#include "isa/ppc64/cpu_char.hpp"

#include <doctest/doctest.h>
#include <initializer_list>

using namespace tessera;
using namespace tessera::arch;

namespace {
constexpr u32 kPower8 = 0x004d0200; // QEMU's powernv8
constexpr u32 kPower8e = 0x004b0201;
constexpr u32 kPower9 = 0x004e1202;
constexpr u64 kDefaults =
    cpu_behav::kFavourSecurity | cpu_behav::kL1dFlushPr | cpu_behav::kBndsChkSpecBar;
constexpr u64 kNoEntryNoUaccess = cpu_behav::kNoL1dFlushEntry | cpu_behav::kNoL1dFlushUaccess;
} // namespace

TEST_CASE("cpu characteristics: POWER8 without fw-features needs no entry or uaccess flush") {
    for (u32 pvr : {kPower8, kPower8e, 0x004c0100u, 0x003f0201u, 0x004a0201u}) {
        CAPTURE(pvr);
        const CpuCharacteristics c = cpu_characteristics(pvr, FwFeatures{});
        CHECK(c.character == 0);
        CHECK(c.behaviour == (kDefaults | kNoEntryNoUaccess));
    }
}

TEST_CASE("cpu characteristics: POWER9 and unknown processors keep every default flush") {
    for (u32 pvr : {kPower9, 0x00800100u, 0u}) {
        CAPTURE(pvr);
        const CpuCharacteristics c = cpu_characteristics(pvr, FwFeatures{});
        CHECK(c.character == 0);
        CHECK(c.behaviour == kDefaults);
    }
}

TEST_CASE("cpu characteristics: the firmware's enabled and disabled features") {
    FwFeatures fw;
    fw.present = true;
    fw.set(FwFeature::L1dFlushOri30, FwState::Enabled);
    fw.set(FwFeature::SpecBarOri31, FwState::Enabled);
    fw.set(FwFeature::L1dThreadSplit, FwState::Disabled); // disabled: not a characteristic
    fw.set(FwFeature::NeedsSpecBarrierBounds, FwState::Disabled);
    fw.set(FwFeature::NoNeedL1dFlushPr1To0, FwState::Enabled);
    fw.set(FwFeature::NoNeedStoreDrain, FwState::Enabled);
    fw.set(FwFeature::NeedsCountCacheFlush, FwState::Enabled);
    const CpuCharacteristics c = cpu_characteristics(kPower9, fw);
    CHECK(c.character == (cpu_char::kL1dFlushOri30 | cpu_char::kSpecBarOri31));
    CHECK(c.behaviour ==
          (cpu_behav::kFavourSecurity | cpu_behav::kL1dFlushPr | cpu_behav::kNoL1dFlushEntry |
           cpu_behav::kNoStfBarrier | cpu_behav::kFlushCountCache));

    FwFeatures relaxed;
    relaxed.set(FwFeature::FavorSecurity, FwState::Disabled);
    relaxed.set(FwFeature::NeedsL1dFlushPr0To1, FwState::Disabled);
    CHECK(cpu_characteristics(kPower9, relaxed).behaviour == cpu_behav::kBndsChkSpecBar);
    // Enabled "needs" and disabled "no-need" features change nothing against the defaults.
    FwFeatures needs;
    needs.set(FwFeature::FavorSecurity, FwState::Enabled);
    needs.set(FwFeature::NeedsL1dFlushPr0To1, FwState::Enabled);
    needs.set(FwFeature::NoNeedL1dFlushUaccess, FwState::Disabled);
    CHECK(cpu_characteristics(kPower9, needs).behaviour == kDefaults);
    // The processor's own rule is not undone by a firmware that leaves the features out.
    CHECK(cpu_characteristics(kPower8, needs).behaviour == (kDefaults | kNoEntryNoUaccess));
}

TEST_CASE("cpu characteristics: fw-features node names") {
    FwFeature f{};
    CHECK(fw_feature_by_name("inst-l1d-flush-trig2", f));
    CHECK(f == FwFeature::L1dFlushTrig2);
    CHECK(fw_feature_by_name("no-need-l1d-flush-kernel-on-user-access", f));
    CHECK(f == FwFeature::NoNeedL1dFlushUaccess);
    CHECK(fw_feature_by_name("fw-count-cache-flush-bcctr2,0,0", f));
    CHECK(f == FwFeature::CountCacheFlushBcctr2);
    CHECK_FALSE(fw_feature_by_name("inst-l1d-flush-trig", f)); // a prefix is not the name
    CHECK_FALSE(fw_feature_by_name("inst-l1d-flush-trig22", f));
    CHECK_FALSE(fw_feature_by_name("", f));
    CHECK_FALSE(fw_feature_by_name("tm-suspend-mode", f));
}

TEST_CASE("the hypervisor's L1D flush before a guest: the chip's cheapest, unless not needed") {
    FwFeatures fw;
    CHECK(hv_l1d_flush(fw) == L1dFlush::Displacement); // QEMU: no fw-features
    fw.set(FwFeature::L1dFlushTrig2, FwState::Enabled);
    CHECK(hv_l1d_flush(fw) == L1dFlush::Trig2);
    fw.set(FwFeature::L1dFlushOri30, FwState::Enabled);
    CHECK(hv_l1d_flush(fw) == L1dFlush::Ori30);
    fw.set(FwFeature::NeedsL1dFlushHv1To0, FwState::Enabled);
    CHECK(hv_l1d_flush(fw) == L1dFlush::Ori30);
    fw.set(FwFeature::NeedsL1dFlushHv1To0, FwState::Disabled);
    CHECK(hv_l1d_flush(fw) == L1dFlush::None);
    FwFeatures relaxed;
    relaxed.set(FwFeature::FavorSecurity, FwState::Disabled);
    CHECK(hv_l1d_flush(relaxed) == L1dFlush::None);
    FwFeature f{};
    CHECK(fw_feature_by_name("needs-l1d-flush-msr-hv-1-to-0", f));
    CHECK(f == FwFeature::NeedsL1dFlushHv1To0);
}
