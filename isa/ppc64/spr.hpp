// POWER8 special-purpose registers and the bits of MSR and LPCR that Tessera uses.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

enum class Spr : u32 {
    XER = 1,
    DSCR_USER = 3,
    // The privileged number of AMR (Linux's SPRN_AMR). 13 is its problem-state alias, which
    // QEMU 7.2 keeps apart: mfspr 13 does not read what mtspr 13 wrote.
    AMR = 29,
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
    PVR = 287,   // processor version (read-only)
    IAMR = 61,   // instruction authority mask (masked by AMOR for guest writes)
    DPDES = 176, // directed privileged doorbell state (HFSCR[MSGP])
    HFSCR = 190, // hypervisor facility status and control
    AMOR = 349,  // which AMR/IAMR/UAMOR bits a guest may change
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
inline constexpr u64 AIL = u64{3} << 23;    // alternate interrupt location (the field)
inline constexpr u64 AIL_3 = u64{3} << 23;  // AIL = 3: relocation-on at 0xc000000000004000
inline constexpr u64 ONL = u64{1} << 18;    // the thread is online (PURR counts)
inline constexpr u64 MER = u64{1} << 11;    // mediated external request
inline constexpr u64 LPES0 = u64{1} << 3;   // 0: external interrupts go to the hypervisor
inline constexpr u64 LPES1 = u64{1} << 2;
inline constexpr u64 HDICE = u64{1} << 0; // hypervisor decrementer interrupts enabled
} // namespace lpcr

// HFSCR (and FSCR) facility bits; the top byte of HFSCR is the cause of the last Hypervisor
// Facility Unavailable interrupt (a bit number from this list).
namespace hfscr {
inline constexpr u64 FP = u64{1} << 0;
inline constexpr u64 VECVSX = u64{1} << 1;
inline constexpr u64 DSCR = u64{1} << 2;
inline constexpr u64 PM = u64{1} << 3; // performance monitor SPRs
inline constexpr u64 BHRB = u64{1} << 4;
inline constexpr u64 TM = u64{1} << 5;
inline constexpr u64 EBB = u64{1} << 7;
inline constexpr u64 TAR = u64{1} << 8;
inline constexpr u64 MSGP = u64{1} << 10; // msgsndp, msgclrp, DPDES
inline constexpr u32 CAUSE_SHIFT = 56;
} // namespace hfscr

// SRR1 bits 42:47 (IBM numbering) of a Program interrupt: why it happened.
namespace srr1 {
inline constexpr u64 kIllegal = u64{1} << 19;    // SRR1[44]: illegal instruction
inline constexpr u64 kPrivileged = u64{1} << 18; // SRR1[45]: privileged instruction
inline constexpr u64 kTrap = u64{1} << 17;       // SRR1[46]: trap instruction
} // namespace srr1

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
    kHvFacilityUnavailable = 0xF80,
    // Not a vector: what the exit path reports for an `sc` whose hcall it has already run
    // (isa/ppc64/hcall_exit.cpp), so that the run loop only does what follows an hcall.
    kHcallAnswered = 0xC01,
};

} // namespace tessera::arch
