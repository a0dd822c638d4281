// POWER8 special-purpose registers and the bits of MSR and LPCR that Tessera uses.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

enum class Spr : u32 {
    XER = 1,
    DSCR_USER = 3,
    AMR = 13,
    CTRL_READ = 136,
    CTRL_WRITE = 152,
    FSCR = 153,
    UAMOR = 157,
    PSPB = 159,
    SIER = 768,
    MMCRA = 770,
    PMC1 = 771,
    PMC2 = 772,
    PMC3 = 773,
    PMC4 = 774,
    PMC5 = 775,
    PMC6 = 776,
    MMCR0 = 779,
    SIAR = 780,
    SDAR = 781,
    MMCR1 = 782,
    MMCR2 = 785,
    EBBHR = 804,
    EBBRR = 805,
    BESCR = 806,
    TAR = 815,
    DSCR = 17,
    DSISR = 18,
    DAR = 19,
    DEC = 22,
    SDR1 = 25,
    SRR0 = 26,
    SRR1 = 27,
    SPRG0 = 272,
    SPRG1 = 273,
    SPRG2 = 274,
    SPRG3 = 275,
    HSPRG0 = 304,
    HSPRG1 = 305,
    HDSISR = 306,
    HDAR = 307,
    HDEC = 310,
    HRMOR = 313,
    HSRR0 = 314,
    HSRR1 = 315,
    LPCR = 318,
    LPIDR = 319,
    HEIR = 339,
    PIR = 1023,
};

template <Spr S>
inline u64 mfspr() {
    u64 v;
    asm volatile("mfspr %0, %1" : "=r"(v) : "i"(static_cast<u32>(S)));
    return v;
}

template <Spr S>
inline void mtspr(u64 v) {
    asm volatile("mtspr %0, %1" ::"i"(static_cast<u32>(S)), "r"(v) : "memory");
}

inline void isync() {
    asm volatile("isync" ::: "memory");
}
inline void sync() {
    asm volatile("sync" ::: "memory");
}

namespace msr {
inline constexpr u64 SF = u64{1} << 63; // 64-bit mode
inline constexpr u64 HV = u64{1} << 60; // hypervisor state
inline constexpr u64 EE = u64{1} << 15; // external (and decrementer) interrupts enabled
inline constexpr u64 PR = u64{1} << 14; // problem state (user mode)
inline constexpr u64 FP = u64{1} << 13;
inline constexpr u64 ME = u64{1} << 12; // machine checks enabled
inline constexpr u64 IR = u64{1} << 5;  // instruction relocation
inline constexpr u64 DR = u64{1} << 4;  // data relocation
inline constexpr u64 RI = u64{1} << 1;  // recoverable interrupt
inline constexpr u64 LE = u64{1} << 0;  // little-endian
} // namespace msr

namespace lpcr {
inline constexpr u64 VPM0 = u64{1} << 63;   // guest real mode translates through the VRMA
inline constexpr u64 VPM1 = u64{1} << 62;   // guest virtual-mode storage faults go to the HV
inline constexpr u64 DPFD_4 = u64{4} << 52; // default prefetch depth
inline constexpr u32 VRMASD_SHIFT = 47;     // VRMA segment descriptor (L||LP)
inline constexpr u64 ILE = u64{1} << 25;    // guest interrupts little-endian
inline constexpr u64 AIL = u64{3} << 23;    // alternate interrupt location (unused: 0)
inline constexpr u64 ONL = u64{1} << 18;    // the thread is online (PURR counts)
inline constexpr u64 MER = u64{1} << 11;    // mediated external request
inline constexpr u64 LPES0 = u64{1} << 3;   // 0: external interrupts go to the hypervisor
inline constexpr u64 LPES1 = u64{1} << 2;
inline constexpr u64 HDICE = u64{1} << 0; // hypervisor decrementer interrupts enabled
} // namespace lpcr

// Interrupt vectors (real-mode offsets) that reach the hypervisor.
enum Vector : u64 {
    kSystemReset = 0x100,
    kMachineCheck = 0x200,
    kDataStorage = 0x300,
    kInstStorage = 0x400,
    kExternal = 0x500,
    kAlignment = 0x600,
    kProgram = 0x700,
    kDecrementer = 0x900,
    kHvDecrementer = 0x980,
    kSystemCall = 0xC00,
    kHvDataStorage = 0xE00,
    kHvInstStorage = 0xE20,
    kHvEmulation = 0xE40,
    kHvMaintenance = 0xE60,
    kHvDoorbell = 0xE80,
    kHvVirtualization = 0xEA0,
};

} // namespace tessera::arch
