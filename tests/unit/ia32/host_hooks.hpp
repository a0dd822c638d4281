// What tests/unit/ia32/host_hooks.cpp fakes of the ia32 image, and the knobs tests turn.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch::fake {

// switcher_pde() on the host: a fixed value the tests recognise in slot 1023 of a shadow root.
inline constexpr u32 kSwitcherPde = 0x00abc003u;

// shadow_page_real(i) = kShadowRealBase + i * 4096: low, 32-bit, and above the fake RAM of the
// tests (tests/unit/ia32/machine.hpp) so shadow and guest real addresses never meet.
inline constexpr u32 kShadowRealBase = 0x0400'0000u;

// The shadow pool page with this fake real address (nullptr when it is not one).
u32* shadow_page_at(u32 real);

// The fake TSC: arch::timebase() returns it (and does not advance it by itself).
extern u64 tsc;

// The flat descriptors of the fake real GDT (arch::gdt_descriptor) at their indices.
inline constexpr u64 kFlatCode0 = 0x00cf9b000000ffffull, kFlatData0 = 0x00cf93000000ffffull,
                     kFlatCode1 = 0x00cfbb000000ffffull, kFlatData1 = 0x00cfb3000000ffffull,
                     kFlatCode3 = 0x00cffb000000ffffull, kFlatData3 = 0x00cff3000000ffffull;

} // namespace tessera::arch::fake
