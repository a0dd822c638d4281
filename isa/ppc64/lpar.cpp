// ppc64 per-LPAR setup: LPID, the hashed page table with the VRMA, the guest LPCR, and each
// vcpu's entry state.
#include "common/lpar.hpp"
#include "common/chunk_arena.hpp"
#include "common/log.hpp"
#include "common/rt/panic.hpp"
#include "isa/ppc64/dec.hpp"
#include "isa/ppc64/exit_reason.hpp"
#include "isa/ppc64/footprint.hpp"
#include "isa/ppc64/pcpu.hpp"
#include "isa/ppc64/spr.hpp"
#include "isa/ppc64/tlb.hpp"

#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

// HTABs are carved from chunks the hypervisor takes from the machine's pool as LPARs need them
// (common/chunk_arena.hpp): a table of 2^shift bytes, aligned to its size as HTABORG wants,
// and given back at teardown; a chunk with no table left in it goes back to the pool. One
// chunk holds 64 of the smallest (256 KiB) tables. The core lock.
ChunkArena htab_arena;

// The LPAR's TLB invalidations (its Htab's hook; ctx = the Lpar; called under the core lock from
// its hcalls). When no other CPU runs one of its vcpus and LPIDR names it, no other TLB can be
// using its translations now: tlbiel here, and every other CPU that ran the LPAR drops the LPID
// before it runs it again (vcpu_run). Otherwise the broadcast tlbie. Under QEMU a tlbie queues
// a TLB flush on every other vCPU and kicks it, an idle one too: with two machine CPUs that
// was one wake-up of the idle CPU per H_REMOVE.
TESSERA_HOT void invalidate_for_lpar(void* ctx, const TlbInvalidation* list, usize count) {
    Lpar& lpar = *static_cast<Lpar*>(ctx);
    const u32 self = cpu_index();
    bool elsewhere = false;
    for (u32 i = 0; i < lpar.vcpu_count; ++i) {
        const u32 cpu = lpar.vcpus[i].pcpu;
        elsewhere |= cpu != kNoPcpu && cpu != self;
    }
    if (elsewhere || mfspr<Spr::LPIDR>() != lpar.arch.lpid) {
        tlbie_invalidate(list, count);
        lpar.arch.exits.add(kReasonTlbieBroadcast);
        return;
    }
    tlbiel_invalidate(list, count);
    lpar.arch.flush_on_entry |= lpar.arch.ran_on & ~(u64{1} << self);
}

// Drops the LPID's translations from this CPU's TLB, so that the next LPAR with this LPID (ids
// are reused with their table slot) starts with none of them; the other CPUs drop it before
// they first run the next LPAR (lpar_init sets flush_on_entry).
void flush_lpid(u32 lpid) {
    mtspr<Spr::LPIDR>(lpid);
    isync();
    tlbiel_flush_current_lpid();
    mtspr<Spr::LPIDR>(0);
    isync();
}

} // namespace

const ChunkArena::Use& htab_arena_use() {
    return htab_arena.use();
}

bool lpar_init_zeroes_all_memory() {
    return true; // the VRMA: lpar_init below
}

bool lpar_init(Lpar& lpar) {
    LparState& a = lpar.arch;
    // 1/128 of the memory, at most one chunk (16 MiB): an LPAR above 2 GiB gets a smaller
    // ratio, which PAPR allows (ibm,pft-size tells the guest).
    u32 shift = Htab::shift_for_memory(lpar.memory.size());
    if (shift > kChunkShift) shift = kChunkShift;
    ChunkPool* pool = machine_pool();
    RealAddr real;
    void* table = pool ? htab_arena.allocate(*pool, shift, &real) : nullptr;
    if (table == nullptr) {
        log("ppc64: no chunk for a %llu KiB HTAB for LPAR %s\n",
            static_cast<unsigned long long>((u64{1} << shift) / KiB), lpar.name);
        return false;
    }
    a.lpid = lpar.id; // LPID 0 is the hypervisor's own
    // An LPID is reused with its table slot: every CPU drops it before its first run of this LPAR.
    a.ran_on = 0;
    a.flush_on_entry = ~u64{0};
    if (!a.htab.init(table, real, shift, a.lpid, TlbHook{&invalidate_for_lpar, &lpar})) {
        htab_arena.free(*pool, real, shift);
        log("ppc64: HTAB setup failed for LPAR %s\n", lpar.name);
        return false;
    }
    // The whole of the LPAR's memory is its real-mode area, mapped by 16 MiB VRMA pages: all of
    // it must be zeroed now, by every CPU that can help.
    lpar.memory.ready_all();
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
    ChunkPool* pool = machine_pool();
    const bool freed = pool != nullptr && htab_arena.free(*pool, htab.real_base(), htab.shift());
    TESSERA_ASSERT(freed); // every ready HTAB came from the arena
    htab.reset();
}

void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    VcpuState& s = vcpu.arch;
    s = VcpuState{};
    // What a CPU still holds of this vcpu (SLB, FP/VMX/VSX, SPRs, DEC) belongs to its previous
    // life: load the new state at its next entry, do not save the old one over it. This CPU
    // forgets it; another CPU's copy no longer matches (saved_seq is 0 now).
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
    // The vcpu running on this CPU (an hcall of its own) is read live; any other vcpu's expiry
    // was saved when its vcpu_run returned (a CPU that still holds its DEC may have napped
    // with another timeout since). DEC always counts: there is always a deadline.
    const u64 expiry = this_pcpu().running == &vcpu ? dec_expiry_now() : vcpu.arch.dec_expiry;
    return expiry != 0 ? expiry : 1;
}

bool timer_pending(const Vcpu& vcpu) {
    return static_cast<i64>(timebase() - timer_deadline(vcpu)) >= 0;
}

} // namespace tessera::arch
