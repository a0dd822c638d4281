// hcalls run in the exit path (see hcall_exit.hpp), and the page-table hcalls answered there
// without returning to the run loop.
//
// Linux under PAPR makes an H_ENTER and an H_REMOVE for every page it maps and unmaps for a
// moment (ftrace's 33,690 text pokes at boot, every fork's copy-on-write): under QEMU each
// hcall's round trip through vcpu_run cost about 1.6 µs, of which the `sc` and the return to
// the guest are 0.2 µs and the rest is the hypervisor's own code: saving and loading all 32
// GPRs, the run loop's checks before each entry, the HDEC and the scheduler. The page-table
// hcalls (the first kHtabHcallCount entries of <arch/hcalls.hpp>) change only the caller's
// HTAB and the TLBs: they raise no interrupt, wake no vcpu, never block and never end the
// LPAR, so nothing the run loop checks between two entries can have changed. They are
// answered right where the exit begins (isa/ppc64/vectors.S, hv_exit): the vectors have saved
// only the registers a C++ call may clobber, ppc64_hcall_in_exit runs the hcall under the core
// lock, and the CPU returns to the guest with rfid. KVM-HV does the same for the same hcalls
// (its real-mode handlers). The slice still ends on time (HDEC keeps counting), and anything
// another CPU has for this one arrives as an external interrupt, a full exit.
//
// The interrupt controller's hcalls (is_xics_hcall) are run here too: Linux makes four for each
// IPI (the sender's H_IPI; the receiver's H_XIRR, H_IPI to clear its own MFRR, H_EOI), and a
// vcpu that hands a task to another one sends one. They never block or end the LPAR, but they
// may present an interrupt: after one, the CPUs concerned are woken or kicked here as the run
// loop would (core_events), and the caller resumes at once unless it now has an interrupt of
// its own to take, its LPAR ended, or another vcpu waits for this CPU; then the exit goes on to
// the run loop as kHcallAnswered, the hcall done.
#include "isa/ppc64/hcall_exit.hpp"

#include "common/core_lock.hpp"
#include "common/run.hpp"
#include "isa/ppc64/exit_reason.hpp"
#include "isa/ppc64/mmu_hcalls.hpp"
#include "isa/ppc64/pcpu.hpp"
#include "isa/ppc64/spr.hpp"

#include <arch/hcalls.hpp>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {

namespace {
// The hcall ABI around handle(frame): r3 = number and r4..r12 = arguments in v's saved
// registers; r3 = status and r4..r12 = returns out.
template <class Handle>
TESSERA_HOT void in_registers(GuestRegs& r, Handle&& handle) {
    static_assert(hcall::kMaxArgs == 9); // r4..r12
    hcall::Frame f;
    f.opcode = r.gpr[3];
    for (usize i = 0; i < hcall::kMaxArgs; ++i) f.args[i] = r.gpr[4 + i];
    r.gpr[3] = static_cast<u64>(handle(f));
    for (usize i = 0; i < hcall::kMaxArgs; ++i) r.gpr[4 + i] = f.rets[i];
}
} // namespace

TESSERA_HOT hcall::After run_hcall(Vcpu& v) {
    hcall::Env env{*v.lpar, v};
    in_registers(v.arch.regs, [&](hcall::Frame& f) { return hcall::dispatch(env, f); });
    return env.after;
}

} // namespace tessera::arch

namespace {
// An interrupt controller's hcall (the file's comment). False: on to the run loop, with
// pcpu.vector = kHcallAnswered.
TESSERA_HOT bool xics_in_exit(tessera::arch::Pcpu& pcpu, tessera::Vcpu& v, tessera::u64 opcode) {
    using namespace tessera;
    using namespace tessera::arch;
    core_lock().lock();
    count(v, hcall_reason(opcode));
    run_hcall(v); // these always let their caller resume
    if (plat::cpu_count() > 1) core_events();
    const Lpar& lpar = *v.lpar;
    const bool resume =
        lpar.is_live() && !lpar.xics.has_pending(v.index) && !core_slice_contended();
    core_lock().unlock();
    if (!resume) pcpu.vector = kHcallAnswered;
    return resume;
}
} // namespace

// Called by hv_exit (isa/ppc64/vectors.S) for every `sc` from a guest, with the registers a
// call may clobber (r0-r13, CR, LR, CTR, XER) saved in the running vcpu's GuestRegs, SRR0/SRR1
// still the `sc`'s and the CPU on the hypervisor's stack. True: the hcall is done and its
// results are in the saved registers, so the vectors return to the guest at SRR0. False: the
// exit goes on to the run loop as any other (pcpu.vector kHcallAnswered: with the hcall done).
extern "C" TESSERA_HOT bool ppc64_hcall_in_exit(tessera::arch::Pcpu& pcpu) {
    using namespace tessera;
    using namespace tessera::arch;
    Vcpu& v = *pcpu.running;
    const u64 opcode = v.arch.regs.gpr[3];
    // An hcall from the guest's user mode gets H_PRIVILEGE from the run loop.
    if ((mfspr<Spr::SRR1>() & msr::PR) != 0) return false;
    if (is_xics_hcall(opcode)) return xics_in_exit(pcpu, v, opcode);
    if (!changes_only_htab(opcode)) return false;
    core_lock().lock();
    count(v, hcall_reason(opcode));
    // A page-table hcall always lets its caller resume. Not through run_hcall: the dispatch
    // table's indirect call and the calls behind it cost a lookup each under QEMU after every
    // TLB flush (docs/benchmarks.md, "The page-table hcalls without calls").
    Lpar& lpar = *v.lpar;
    in_registers(v.arch.regs, [&](hcall::Frame& f) {
        // Without an HTAB: H_FUNCTION, as the dispatch table's entries answer (on_htab).
        if (!lpar.arch.htab.ready()) return hcall::Ret{hcall::H_FUNCTION};
        MmuContext m{lpar.arch.htab, lpar.memory};
        return run_htab_hcall(m, f);
    });
    core_lock().unlock();
    return true;
}
