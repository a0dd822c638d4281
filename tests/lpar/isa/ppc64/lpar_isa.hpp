// The ppc64 side of the test-LPAR library (included by lib/lpar.hpp): a PAPR guest in
// supervisor state, little-endian, real mode unless a test sets MSR[DR] itself.
#pragma once

#include <tessera/types.hpp>

namespace lpar::isa {

using tessera::i64;
using tessera::u32;
using tessera::u64;
using tessera::usize;

inline constexpr const char* kName = "ppc64";
// POWER8's timebase (QEMU powernv8 too). The guest ABI does not pass it (docs/test-lpars.md).
inline constexpr u64 kTimebaseHz = 512'000'000;

// ---- MSR (LSB-0 bit numbers) --------------------------------------------------------------
namespace msr {
inline constexpr u64 kSf = u64{1} << 63; // 64-bit mode
inline constexpr u64 kHv = u64{1} << 60; // hypervisor state (reads 0 in a guest)
inline constexpr u64 kVec = u64{1} << 25;
inline constexpr u64 kVsx = u64{1} << 23;
inline constexpr u64 kEe = u64{1} << 15; // external/decrementer interrupts enabled
inline constexpr u64 kPr = u64{1} << 14; // problem state
inline constexpr u64 kFp = u64{1} << 13;
inline constexpr u64 kMe = u64{1} << 12; // machine check enable
inline constexpr u64 kIr = u64{1} << 5;  // instruction relocation
inline constexpr u64 kDr = u64{1} << 4;  // data relocation
inline constexpr u64 kRi = u64{1} << 1;  // recoverable interrupt
inline constexpr u64 kLe = u64{1} << 0;  // little-endian
} // namespace msr

// ---- Interrupt vectors (real-mode offsets in logical memory) ------------------------------
inline constexpr u64 kVecSystemReset = 0x100;
inline constexpr u64 kVecMachineCheck = 0x200;
inline constexpr u64 kVecDsi = 0x300;
inline constexpr u64 kVecDsegi = 0x380;
inline constexpr u64 kVecIsi = 0x400;
inline constexpr u64 kVecIsegi = 0x480;
inline constexpr u64 kVecExternal = 0x500;
inline constexpr u64 kVecAlignment = 0x600;
inline constexpr u64 kVecProgram = 0x700;
inline constexpr u64 kVecFpUnavailable = 0x800;
inline constexpr u64 kVecDecrementer = 0x900;
inline constexpr u64 kVecSyscall = 0xC00;
inline constexpr u64 kVecTrace = 0xD00;
inline constexpr u64 kTimerVector = kVecDecrementer;
inline constexpr u64 kExternalVector = kVecExternal;

// DSISR bits (LSB-0 numbering of the 32-bit register).
namespace dsisr {
inline constexpr u64 kNoTranslation = 0x40000000; // no HPTE (or no SLB entry) for the address
inline constexpr u64 kProtection = 0x08000000;    // the page protection forbids the access
inline constexpr u64 kStore = 0x02000000;         // the access was a store
} // namespace dsisr

// What the vector stub saved (isa/ppc64/entry.S, INT_* offsets): the interrupted context. A
// handler may change it (e.g. srr0 to skip an instruction); the stub restores it and rfid's.
struct TrapFrame {
    u64 gpr[13]; // r0..r12 (gpr[1] unused: r1 is the frame's own back chain)
    u64 cr;
    u64 lr;
    u64 ctr;
    u64 xer;
    u64 srr0; // interrupted pc
    u64 srr1; // interrupted MSR (+ interrupt-specific bits)
    u64 vector;
};
static_assert(sizeof(TrapFrame) == 20 * 8, "keep in step with INT_FRAME_* in entry.S");

struct EntryState {
    u64 msr = 0; // MSR as the first instruction saw it
};

inline constexpr unsigned kTrapSlots = 128; // vectors 0x000..0xFE0 in steps of 0x20
inline unsigned trap_slot(u64 vector) {
    return static_cast<unsigned>(vector >> 5) & (kTrapSlots - 1);
}
inline u64 trap_pc(const TrapFrame& f) {
    return f.srr0;
}
inline void trap_skip(TrapFrame& f) {
    f.srr0 += 4;
}

// ---- SPRs -----------------------------------------------------------------------------------
inline constexpr int kSprDsisr = 18;
inline constexpr int kSprDar = 19;
inline constexpr int kSprDec = 22;
inline constexpr int kSprSrr0 = 26;
inline constexpr int kSprSrr1 = 27;
inline constexpr int kSprSprg2 = 274;
inline constexpr int kSprTb = 268;

template <int Spr>
inline u64 mfspr() {
    u64 v;
    asm volatile("mfspr %0, %1" : "=r"(v) : "i"(Spr));
    return v;
}
template <int Spr>
inline void mtspr(u64 v) {
    asm volatile("mtspr %0, %1" ::"i"(Spr), "r"(v) : "memory");
}

inline u64 mfmsr() {
    u64 v;
    asm volatile("mfmsr %0" : "=r"(v));
    return v;
}
// mtmsrd with L=0: the whole MSR (what a guest may change of it).
inline void mtmsrd(u64 v) {
    asm volatile("mtmsrd %0; isync" ::"r"(v) : "memory");
}
// mtmsrd with L=1: only EE and RI.
inline void mtmsrd_ee_ri(u64 v) {
    asm volatile("mtmsrd %0, 1" ::"r"(v) : "memory");
}
inline void irq_enable() {
    mtmsrd_ee_ri(msr::kEe | msr::kRi);
}
inline void irq_disable() {
    mtmsrd_ee_ri(msr::kRi);
}
inline bool irq_enabled() {
    return (mfmsr() & msr::kEe) != 0;
}

inline u64 timebase() {
    u64 v;
    asm volatile("mftb %0" : "=r"(v));
    return v;
}

// The decrementer: 32 bits, an interrupt at 0x900 once it is negative and MSR[EE] = 1.
inline constexpr u64 kTimerMax = 0x7fffffff;
inline void timer_set(u64 ticks) {
    if (ticks > kTimerMax) ticks = kTimerMax;
    mtspr<kSprDec>(ticks);
}
inline i64 timer_get() {
    return static_cast<tessera::i32>(mfspr<kSprDec>());
}

inline void cpu_relax() {
    asm volatile("or 1,1,1; or 2,2,2" ::: "memory"); // low priority, then back to medium
}
inline void sync() {
    asm volatile("sync" ::: "memory");
}
inline void isync() {
    asm volatile("isync" ::: "memory");
}

// The per-vcpu pointer lives in r13 (the ELFv2 thread pointer, never allocated by the compiler).
inline void* this_cpu_ptr() {
    void* p;
    asm volatile("mr %0, 13" : "=r"(p));
    return p;
}
inline void set_this_cpu_ptr(void* p) {
    asm volatile("mr 13, %0" ::"r"(p) : "memory");
}

// ---- Problem state -------------------------------------------------------------------------
// Runs `pc` in problem state (MSR[PR] = 1) with r3 = arg on a stack of its own and returns its
// r3. PR = 1 turns translation and EE on with it (the architecture), so the first call maps the
// first 16M of logical memory at the same effective addresses (one 16M page in segment 0, which
// needs an LPAR of at least 16M); the code and data of the image are reachable there. Interrupts
// from the user code reach the trap handlers as usual (srr1 has PR); it returns through `sc`, the
// guest's own system call vector, which run_user takes over.
u64 run_user(u64 pc, u64 arg);
// The MSR the user code runs with.
inline constexpr u64 kUserMsr =
    msr::kSf | msr::kEe | msr::kPr | msr::kMe | msr::kIr | msr::kDr | msr::kRi | msr::kLe;

// ---- The hcall: sc 1, r3 = number, r4..r12 = arguments; r3 = status, r4..r12 = results. ----
// The ABI preserves everything else; r0, CR and XER are still declared clobbered to be safe.
inline i64 hcall_raw(u64 number, const u64 (&a)[9], u64 (&ret)[9]) {
    register u64 r3 asm("r3") = number;
    register u64 r4 asm("r4") = a[0];
    register u64 r5 asm("r5") = a[1];
    register u64 r6 asm("r6") = a[2];
    register u64 r7 asm("r7") = a[3];
    register u64 r8 asm("r8") = a[4];
    register u64 r9 asm("r9") = a[5];
    register u64 r10 asm("r10") = a[6];
    register u64 r11 asm("r11") = a[7];
    register u64 r12 asm("r12") = a[8];
    asm volatile("sc 1"
                 : "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7), "+r"(r8), "+r"(r9), "+r"(r10),
                   "+r"(r11), "+r"(r12)
                 :
                 : "r0", "cr0", "cr1", "cr2", "cr3", "cr4", "cr5", "cr6", "cr7", "xer", "memory");
    ret[0] = r4;
    ret[1] = r5;
    ret[2] = r6;
    ret[3] = r7;
    ret[4] = r8;
    ret[5] = r9;
    ret[6] = r10;
    ret[7] = r11;
    ret[8] = r12;
    return static_cast<i64>(r3);
}

} // namespace lpar::isa
