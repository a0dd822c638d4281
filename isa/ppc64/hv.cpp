// ppc64 hypervisor-mode setup: the interrupt vectors at real address 0, the per-CPU area, and
// the report of a fault in the hypervisor itself.
#include "common/log.hpp"
#include "common/rt/panic.hpp"
#include "common/rt/string.hpp"
#include "isa/ppc64/l1d_flush.hpp"
#include "isa/ppc64/pcpu.hpp"
#include "isa/ppc64/smp.hpp"
#include "isa/ppc64/spr.hpp"

#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

extern "C" char hv_vectors_start[], hv_vectors_end[];

namespace tessera::arch {
namespace {

// What every LPAR may use directly (HFSCR): the facilities whose state the vcpu switch keeps per
// vcpu (isa/ppc64/run.cpp): FP/VMX/VSX, DSCR, the PMU, EBB and TAR. Left off, so that using them
// is a Program interrupt (illegal instruction) for the guest, as on KVM-HV: TM (its state is
// not switched; QEMU's TCG has none), BHRB (the buffer is not cleared between LPARs) and MSGP
// (doorbells and DPDES are per physical core, shared with whatever ran there before).
constexpr u64 kGuestFacilities =
    hfscr::FP | hfscr::VECVSX | hfscr::DSCR | hfscr::PM | hfscr::EBB | hfscr::TAR;

// Where a hypervisor fault on each CPU saves its registers and runs its report.
struct FaultArea {
    GuestRegs regs;
    alignas(16) u8 stack[16 * KiB];
};
FaultArea fault_areas[kMaxCpus];

void sync_icache(u8* p, usize n) {
    constexpr usize kLine = 128;
    for (usize off = 0; off < n; off += kLine) asm volatile("dcbst 0, %0" ::"r"(p + off));
    sync();
    for (usize off = 0; off < n; off += kLine) asm volatile("icbi 0, %0" ::"r"(p + off));
    isync();
}

} // namespace

extern "C" {
PcpuBlock ppc64_pcpu_block0 = {0x7e55e7a0c0ffee00ull, {}, {}};

[[noreturn]] void ppc64_hv_fault(u64 vector, const GuestRegs* r) {
    log("\nppc64: hypervisor fault, vector %#llx\n", static_cast<unsigned long long>(vector));
    log("  SRR0 %016llx SRR1 %016llx HSRR0 %016llx HSRR1 %016llx\n",
        static_cast<unsigned long long>(r->srr0), static_cast<unsigned long long>(r->srr1),
        static_cast<unsigned long long>(r->hsrr0), static_cast<unsigned long long>(r->hsrr1));
    log("  LR   %016llx r1   %016llx r2   %016llx r3    %016llx\n",
        static_cast<unsigned long long>(r->lr), static_cast<unsigned long long>(r->gpr[1]),
        static_cast<unsigned long long>(r->gpr[2]), static_cast<unsigned long long>(r->gpr[3]));
    log("  DAR  %016llx DSISR %08llx HDAR %016llx HDSISR %08llx\n",
        static_cast<unsigned long long>(mfspr<Spr::DAR>()),
        static_cast<unsigned long long>(mfspr<Spr::DSISR>()),
        static_cast<unsigned long long>(mfspr<Spr::HDAR>()),
        static_cast<unsigned long long>(mfspr<Spr::HDSISR>()));
    panic("hypervisor fault at vector %#llx", static_cast<unsigned long long>(vector));
}
}

void cpu_init(u32 index) {
    TESSERA_ASSERT(index < kMaxCpus);
    Pcpu& pcpu = this_pcpu();
    FaultArea& fa = fault_areas[index];
    pcpu.index = index;
    pcpu.fault = &fa.regs;
    pcpu.fault_sp = reinterpret_cast<uptr>(fa.stack + sizeof(fa.stack) - 64);
    load_l1d_flush(pcpu);
    mtspr<Spr::HSPRG0>(reinterpret_cast<uptr>(&pcpu));
    mtspr<Spr::HFSCR>(kGuestFacilities);
    // A guest's writes to AMR, IAMR and UAMOR only change the bits AMOR allows (0 drops them
    // silently): the storage keys are all the guest's; the registers are switched per vcpu.
    mtspr<Spr::AMOR>(~u64{0});
}

TESSERA_HOT u32 cpu_index() {
    return this_pcpu().index;
}

void early_init() {
    cpu_init(0);
    // The vectors live where the CPU looks for them in hypervisor real mode (HRMOR = 0).
    auto* dst = reinterpret_cast<u8*>(uptr{0});
    usize size = static_cast<usize>(hv_vectors_end - hv_vectors_start);
    TESSERA_ASSERT(size <= 0x2000);
    // The compiler must not see a store through a null pointer: go through the runtime.
    rt::mem_copy(reinterpret_cast<void*>(reinterpret_cast<uptr>(dst) + 0), hv_vectors_start, size);
    sync_icache(dst, size);
}

u64 timebase() {
    u64 tb;
    asm volatile("mftb %0" : "=r"(tb));
    return tb;
}

} // namespace tessera::arch
