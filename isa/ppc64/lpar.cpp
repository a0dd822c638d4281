// ppc64 per-LPAR setup: LPID, the hashed page table with the VRMA, the guest LPCR, and each
// vcpu's entry state.
#include "common/lpar.hpp"
#include "common/log.hpp"
#include "isa/ppc64/dec.hpp"
#include "isa/ppc64/exit_reason.hpp"
#include "isa/ppc64/footprint.hpp"
#include "isa/ppc64/pcpu.hpp"
#include "isa/ppc64/spr.hpp"
#include "isa/ppc64/tlb.hpp"

#include <tessera/arch.hpp>

namespace tessera::arch {
namespace {

// HTABs come from one arena in the image's .bss: 32 MiB is one 1/128 table for 4 GiB of LPARs.
// It is kept in blocks of the smallest HTAB (256 KiB); a table of 2^shift bytes takes an aligned
// run of blocks (the hardware wants HTABORG aligned to the size) and gives it back at teardown.
constexpr u64 kArenaSize = 32 * MiB;
constexpr u64 kBlock = u64{1} << Htab::kMinShift;
constexpr usize kBlocks = kArenaSize / kBlock;
alignas(1 << Htab::kMinShift) u8 htab_arena[kArenaSize];
bool block_used[kBlocks];
constinit HtabArenaUse arena_use; // HTABs handed out, and the peak of bytes in use
u64 arena_in_use = 0;

u8* allocate_htab(u32 shift) {
    const u64 size = u64{1} << shift;
    if (size > kArenaSize) return nullptr;
    const usize run = static_cast<usize>(size / kBlock);
    // The table must be aligned to its size in real memory (the arena only to 256 KiB).
    const auto base = reinterpret_cast<uptr>(htab_arena);
    const usize start = static_cast<usize>((align_up(base, size) - base) / kBlock);
    for (usize first = start; first + run <= kBlocks; first += run) {
        bool free = true;
        for (usize i = first; i < first + run && free; ++i) free = !block_used[i];
        if (!free) continue;
        for (usize i = first; i < first + run; ++i) block_used[i] = true;
        arena_use.htabs += 1;
        arena_in_use += size;
        if (arena_in_use > arena_use.htab_bytes) arena_use.htab_bytes = arena_in_use;
        return htab_arena + first * kBlock;
    }
    return nullptr;
}

void free_htab(RealAddr real, u32 shift) {
    const auto base = reinterpret_cast<uptr>(htab_arena);
    const u64 size = u64{1} << shift;
    if (real.value() < base || real.value() + size > base + kArenaSize) return;
    const usize first = static_cast<usize>((real.value() - base) / kBlock);
    for (usize i = first; i < first + size / kBlock; ++i) block_used[i] = false;
    arena_in_use -= size;
}

// Drops the LPID's translations from this CPU's TLB, so that the next LPAR with this LPID (ids
// are reused with their table slot) starts with none of them. One CPU runs guests today.
void flush_lpid(u32 lpid) {
    mtspr<Spr::LPIDR>(lpid);
    isync();
    tlbiel_flush_current_lpid();
    mtspr<Spr::LPIDR>(0);
    isync();
}

} // namespace

HtabArenaUse htab_arena_use() {
    HtabArenaUse u = arena_use;
    u.arena_bytes = kArenaSize;
    u.held_bytes = arena_in_use;
    return u;
}

bool lpar_init(Lpar& lpar) {
    LparState& a = lpar.arch;
    u32 shift = Htab::shift_for_memory(lpar.memory.size());
    u8* table = allocate_htab(shift);
    if (table == nullptr) {
        log("ppc64: no room for a %llu KiB HTAB for LPAR %s\n",
            static_cast<unsigned long long>((u64{1} << shift) / KiB), lpar.name);
        return false;
    }
    a.lpid = lpar.id; // LPID 0 is the hypervisor's own
    if (!a.htab.init(table, RealAddr(reinterpret_cast<uptr>(table)), shift, a.lpid, kTlbieHook)) {
        log("ppc64: HTAB setup failed for LPAR %s\n", lpar.name);
        return false;
    }
    // The whole of the LPAR's memory is its real-mode area, mapped by 16 MiB VRMA pages.
    if (!a.htab.map_vrma(lpar.memory, lpar.memory.chunk_count())) {
        log("ppc64: VRMA setup failed for LPAR %s\n", lpar.name);
        return false;
    }
    // ILE clear: a PAPR partition takes its interrupts big-endian until the client asks for
    // little-endian ones with H_SET_MODE (as on QEMU's pseries and PowerVM; a LE Linux does
    // it first thing, "our calling convention makes us always enter in BE").
    a.lpcr = lpcr::VPM0 | lpcr::DPFD_4 | (Htab::kVrmaSd << lpcr::VRMASD_SHIFT) | lpcr::ONL |
             lpcr::LPES1 | lpcr::HDICE;
    return true;
}

void lpar_teardown(Lpar& lpar) {
    Htab& htab = lpar.arch.htab;
    if (!htab.ready()) return; // never set up, or torn down already
    log_exit_counts(lpar.name, lpar.arch.exits, kExitNames);
    // The CPU's SLB, FP/VMX/VSX and SPRs of a vcpu of this LPAR are not saved any more.
    Pcpu& pcpu = this_pcpu();
    if (pcpu.last_vcpu != nullptr && pcpu.last_vcpu->lpar == &lpar) pcpu.last_vcpu = nullptr;
    flush_lpid(lpar.arch.lpid);
    free_htab(htab.real_base(), htab.shift());
    htab.reset();
}

void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    VcpuState& s = vcpu.arch;
    s = VcpuState{};
    // What the CPU still holds of this vcpu (SLB, FP/VMX/VSX, SPRs, DEC) belongs to its previous
    // life: load the new state at its next entry, do not save the old one over it.
    Pcpu& pcpu = this_pcpu();
    if (pcpu.last_vcpu == &vcpu) pcpu.last_vcpu = nullptr;
    s.regs.pc = entry.value();
    // Big-endian, 64-bit, real mode, EE=0: how PAPR firmware enters a client and how RTAS
    // start-cpu starts a secondary (QEMU: MSR = SF|ME for both). A little-endian client begins
    // with a stub that flips MSR[LE] (Linux's FIXUP_ENDIAN); LPCR[ILE] is the LPAR's, so a
    // secondary takes interrupts as the caller asked.
    s.regs.msr = msr::SF | msr::ME;
    for (usize i = 0; i < nargs && i < 4; ++i) s.regs.gpr[3 + i] = args[i];
    // The HTAB size for a guest that has no device tree to read ibm,pft-size from.
    s.regs.gpr[3 + (nargs < 4 ? nargs : 4)] = vcpu.lpar->arch.htab.shift();
    s.dec_expiry = timebase() + 0x7fffffff;
}

u64 timer_deadline(const Vcpu& vcpu) {
    // The vcpu whose DEC is in the CPU (running, or the last one that ran) is read live. DEC
    // always counts: there is always a deadline.
    const u64 expiry = this_pcpu().last_vcpu == &vcpu ? dec_expiry_now() : vcpu.arch.dec_expiry;
    return expiry != 0 ? expiry : 1;
}

bool timer_pending(const Vcpu& vcpu) {
    return static_cast<i64>(timebase() - timer_deadline(vcpu)) >= 0;
}

} // namespace tessera::arch
