// Running a vcpu on POWER8 in hypervisor mode: partition registers, the vcpu's supervisor SPRs
// and SLB, interrupt delivery, and the handling of every exit (hcall, HDEC, HDSI/HISI, HEAI, HFU).
#include "common/run.hpp"
#include "common/core_lock.hpp"
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "common/rt/format.hpp"
#include "hcall/dispatch.hpp"
#include "isa/ppc64/dec.hpp"
#include "isa/ppc64/exit_reason.hpp"
#include "isa/ppc64/guest_interrupt.hpp"
#include "isa/ppc64/hcall_exit.hpp"
#include "isa/ppc64/mer.hpp"
#include "isa/ppc64/pcpu.hpp"
#include "isa/ppc64/spr.hpp"
#include "isa/ppc64/tlb.hpp"

#include <arch/hcalls.hpp>
#include <tessera/arch.hpp>

extern "C" tessera::u64 guest_enter(tessera::arch::GuestRegs* regs);
extern "C" void vector_state_save(tessera::arch::VectorState* v);
extern "C" void vector_state_load(const tessera::arch::VectorState* v);

namespace tessera::arch {
namespace {

constexpr u64 kSlbValid = u64{1} << 27; // V in slbmfee's result / slbmte's RB
// SRR1 gets the interrupted MSR except bits 33:36 and 42:47, which carry interrupt details.
constexpr u64 kSrr1MsrBits = ~u64{0x783f0000};
constexpr u64 kDsisrNoTranslation = 0x40000000;

void save_slb(VcpuState& s) {
    for (u64 i = 0; i < kSlbEntries; ++i) {
        asm volatile("slbmfee %0, %1" : "=r"(s.slb_esid[i]) : "r"(i));
        asm volatile("slbmfev %0, %1" : "=r"(s.slb_vsid[i]) : "r"(i));
    }
}

void load_slb(const VcpuState& s) {
    asm volatile("slbmte %0, %0; isync; slbia; isync" ::"r"(u64{0}) : "memory");
    for (u64 i = 0; i < kSlbEntries; ++i) {
        if (s.slb_esid[i] & kSlbValid)
            asm volatile("slbmte %0, %1" ::"r"(s.slb_vsid[i]), "r"(s.slb_esid[i] | i) : "memory");
    }
    isync();
}

// The guest-owned SPRs that only need swapping when another vcpu takes the CPU.
void save_owned_sprs(SprState& r) {
    r.amr = mfspr<Spr::AMR>();
    r.iamr = mfspr<Spr::IAMR>();
    r.uamor = mfspr<Spr::UAMOR>();
    r.dscr = mfspr<Spr::DSCR>();
    r.tar = mfspr<Spr::TAR>();
    r.fscr = mfspr<Spr::FSCR>();
    r.pspb = mfspr<Spr::PSPB>();
    r.ctrl = mfspr<Spr::CTRL_READ>();
    r.ebbhr = mfspr<Spr::EBBHR>();
    r.ebbrr = mfspr<Spr::EBBRR>();
    r.bescr = mfspr<Spr::BESCR>();
    r.mmcr0 = mfspr<Spr::MMCR0>();
    r.mmcr1 = mfspr<Spr::MMCR1>();
    r.mmcr2 = mfspr<Spr::MMCR2>();
    r.mmcra = mfspr<Spr::MMCRA>();
    r.pmc[0] = mfspr<Spr::PMC1>();
    r.pmc[1] = mfspr<Spr::PMC2>();
    r.pmc[2] = mfspr<Spr::PMC3>();
    r.pmc[3] = mfspr<Spr::PMC4>();
    r.pmc[4] = mfspr<Spr::PMC5>();
    r.pmc[5] = mfspr<Spr::PMC6>();
    r.siar = mfspr<Spr::SIAR>();
    r.sdar = mfspr<Spr::SDAR>();
    r.sier = mfspr<Spr::SIER>();
}

void load_owned_sprs(const SprState& r) {
    mtspr<Spr::AMR>(r.amr);
    mtspr<Spr::IAMR>(r.iamr);
    mtspr<Spr::UAMOR>(r.uamor);
    mtspr<Spr::DSCR>(r.dscr);
    mtspr<Spr::TAR>(r.tar);
    mtspr<Spr::FSCR>(r.fscr);
    mtspr<Spr::PSPB>(r.pspb);
    mtspr<Spr::CTRL_WRITE>(r.ctrl);
    mtspr<Spr::EBBHR>(r.ebbhr);
    mtspr<Spr::EBBRR>(r.ebbrr);
    mtspr<Spr::BESCR>(r.bescr);
    mtspr<Spr::MMCR0>(r.mmcr0);
    mtspr<Spr::MMCR1>(r.mmcr1);
    mtspr<Spr::MMCR2>(r.mmcr2);
    mtspr<Spr::MMCRA>(r.mmcra);
    mtspr<Spr::PMC1>(r.pmc[0]);
    mtspr<Spr::PMC2>(r.pmc[1]);
    mtspr<Spr::PMC3>(r.pmc[2]);
    mtspr<Spr::PMC4>(r.pmc[3]);
    mtspr<Spr::PMC5>(r.pmc[4]);
    mtspr<Spr::PMC6>(r.pmc[5]);
    mtspr<Spr::SIAR>(r.siar);
    mtspr<Spr::SDAR>(r.sdar);
    mtspr<Spr::SIER>(r.sier);
}

void load_sprs(const VcpuState& s) {
    mtspr<Spr::SRR0>(s.srr0);
    mtspr<Spr::SRR1>(s.srr1);
    mtspr<Spr::DAR>(s.dar);
    mtspr<Spr::DSISR>(s.dsisr);
    mtspr<Spr::SPRG0>(s.sprg[0]);
    mtspr<Spr::SPRG1>(s.sprg[1]);
    mtspr<Spr::SPRG2>(s.sprg[2]);
    mtspr<Spr::SPRG3>(s.sprg[3]);
}

void save_sprs(VcpuState& s) {
    s.srr0 = mfspr<Spr::SRR0>();
    s.srr1 = mfspr<Spr::SRR1>();
    s.dar = mfspr<Spr::DAR>();
    s.dsisr = mfspr<Spr::DSISR>();
    s.sprg[0] = mfspr<Spr::SPRG0>();
    s.sprg[1] = mfspr<Spr::SPRG1>();
    s.sprg[2] = mfspr<Spr::SPRG2>();
    s.sprg[3] = mfspr<Spr::SPRG3>();
}

// Deliver an interrupt to the guest's own vector (guest_interrupt.hpp: real mode, or
// relocation-on under AIL 3).
void deliver(Vcpu& v, u64 vector, u64 pc, u64 msr_at, u64 srr1_flags) {
    GuestRegs& r = v.arch.regs;
    mtspr<Spr::SRR0>(pc);
    mtspr<Spr::SRR1>((msr_at & kSrr1MsrBits) | srr1_flags);
    const GuestInterrupt to = guest_interrupt(v.lpar->arch.lpcr, vector, msr_at);
    r.pc = to.pc;
    r.msr = to.msr;
}

void fatal(Vcpu& v, const char* fmt, unsigned long long a, unsigned long long b) {
    char why[96];
    rt::format(why, sizeof(why), fmt, a, b);
    v.lpar->crash(why);
}

// An instruction the LPAR may not execute reaches us as Hypervisor Emulation Assistance (illegal
// instructions, undefined or hypervisor SPRs) or Hypervisor Facility Unavailable. Tessera
// emulates no instruction: the guest gets its own Program interrupt, illegal instruction, at
// the instruction (as KVM-HV does), so Linux sends SIGILL to one process. Privileged
// instructions in problem state never come here: the CPU gives those to the guest directly.
// Returns false only for a guest that can never make progress again.
bool reflect_illegal(Vcpu& v, VcpuExit& exit) {
    GuestRegs& r = v.arch.regs;
    const u64 msr_at = r.hsrr1 & kSrr1MsrBits;
    const GuestInterrupt to = guest_interrupt(v.lpar->arch.lpcr, kProgram, msr_at);
    if (r.hsrr0 == to.pc && msr_at == to.msr) {
        // The guest's own Program vector is not an instruction: delivering would resume it in
        // exactly this state forever.
        u32 word = 0;
        v.lpar->memory.copy_out(&word, LogicalAddr(r.hsrr0), 4);
        fatal(v, "illegal instruction %08llx in its own program interrupt vector %#llx", word,
              r.hsrr0);
        exit = VcpuExit::Fault;
        return false;
    }
    deliver(v, kProgram, r.hsrr0, r.hsrr1, srr1::kIllegal);
    return true;
}

// sc 1 (hcall_exit.hpp). The page-table hcalls from the guest kernel never come here: the exit
// path answers them (hcall_exit.cpp). Returns true when the guest just continues.
bool handle_hcall(Vcpu& v, VcpuExit& exit) {
    GuestRegs& r = v.arch.regs;
    r.pc = r.srr0;
    r.msr = r.srr1;
    if (r.msr & msr::PR) { // hcalls are for the guest kernel only
        r.gpr[3] = static_cast<u64>(hcall::H_PRIVILEGE);
        return true;
    }
    const u64 opcode = r.gpr[3];
    hcall::Env env{*v.lpar, v};
    env.after = run_hcall(v);
    // H_CEDE returns with interrupts enabled, so a pending one is taken right away: also when
    // it returns at once because one is already pending (as KVM's kvmppc_h_cede). With several
    // CPUs that happens whenever another vcpu's IPI lands between the guest disabling
    // interrupts and its cede; returning with MSR[EE] = 0 then left the guest ceding in a loop
    // without ever taking the interrupt.
    if (env.after == hcall::After::Block || opcode == hcall::H_CEDE) r.msr |= msr::EE;
    return hcall::continues_after(env, exit);
}

// The hypervisor decrementer fires within `ticks`. Under QEMU every HDEC write re-arms a host
// timer, which wakes QEMU's main loop (an eventfd write) whenever it becomes the earliest one:
// that was one wake-up per hcall. So HDEC is written only when the one counting down would fire
// too late, or has fired; an earlier HDEC is a spurious exit that re-arms it (the loop looks
// at the slice's deadline again).
// (A tick or two later than asked is no matter: QEMU derives the timebase and HDEC from its
// clock with different rounding, so a HDEC armed for the same deadline may read one more.)
void arm_hdec(u64 ticks) {
    constexpr u64 kSlack = 64;                               // timebase ticks: 125 ns at 512 MHz
    const auto armed = static_cast<i32>(mfspr<Spr::HDEC>()); // 32 bits on POWER8
    if (armed > 0 && static_cast<u64>(armed) <= ticks + kSlack) return;
    mtspr<Spr::HDEC>(ticks);
}

// Returns true when the guest just continues; otherwise `exit` says why not.
// `mer_poll`: this entry's HDEC was capped for an interrupt waiting on MSR[EE] (mer.hpp).
bool handle_exit(Vcpu& v, u64 vector, bool mer_poll, VcpuExit& exit) {
    GuestRegs& r = v.arch.regs;
    switch (vector) {
    case kSystemCall: {
        const u64 opcode = r.gpr[3];
        count(v, hcall_reason(opcode));
        const bool resume = handle_hcall(v, exit);
        // Another CPU may have to take what this hcall raised (an IPI, a prod, a device
        // interrupt for a vcpu it runs or should run). An extended slice ends as soon as
        // another vcpu waits for this CPU (common/slice.hpp).
        if (plat::cpu_count() > 1 && !changes_only_htab(opcode)) core_events();
        if (resume && core_slice_contended()) {
            exit = VcpuExit::Preempted;
            return false;
        }
        return resume;
    }
    case kHcallAnswered: // the exit path ran it (hcall_exit.cpp) and woke what it raised
        r.pc = r.srr0;
        r.msr = r.srr1;
        if (core_slice_contended()) {
            exit = VcpuExit::Preempted;
            return false;
        }
        return true; // the loop delivers the caller's own interrupt, or sees its LPAR ended
    case kHvDecrementer:
        count(v, mer_poll ? Exit::MerPoll : Exit::Hdec);
        r.pc = r.hsrr0;
        r.msr = r.hsrr1;
        return true; // the caller checks the slice
    case kExternal:  // LPCR[MER]: the guest enabled interrupts with one pending, or a kick
        count(v, Exit::External);
        plat::ack_kick();
        r.pc = r.hsrr0;
        r.msr = r.hsrr1;
        if (core_slice_contended()) { // kicked out of an extended slice (common/run.cpp tickle)
            exit = VcpuExit::Preempted;
            return false;
        }
        return true;
    case kHvMaintenance:
        count(v, Exit::Maintenance);
        r.pc = r.hsrr0;
        r.msr = r.hsrr1;
        return true;
    case kHvDataStorage: {
        // A real-mode access outside the VRMA (outside the LPAR): a DSI for the guest.
        count(v, Exit::Hdsi);
        u64 hdar = mfspr<Spr::HDAR>();
        u64 hdsisr = mfspr<Spr::HDSISR>();
        deliver(v, kDataStorage, r.hsrr0, r.hsrr1, 0);
        mtspr<Spr::DAR>(hdar);
        mtspr<Spr::DSISR>((hdsisr & ~u64{0x40000000}) | kDsisrNoTranslation);
        return true;
    }
    case kHvInstStorage:
        count(v, Exit::Hisi);
        deliver(v, kInstStorage, r.hsrr0, r.hsrr1, r.hsrr1 & 0x58000000);
        return true;
    case kHvEmulation:           // an illegal instruction, or an SPR the guest may not use
    case kHvFacilityUnavailable: // a facility HFSCR keeps off (hv.cpp): DPDES, msgsndp, TM...
        count(v, vector == kHvEmulation ? Exit::Emulation : Exit::Facility);
        return reflect_illegal(v, exit);
    default:
        count(v, Exit::Other);
        fatal(v, "unexpected interrupt %#llx at %#llx", vector, r.hsrr0);
        exit = VcpuExit::Fault;
        return false;
    }
}

// Numbers the copies put_away saves (VcpuState::saved_seq). Lock: the core lock.
u64 saved_copies = 0;

// With several CPUs a vcpu's next slice may be on another CPU: its state goes to memory. The
// CPU keeps it in its registers too, numbered, so that the vcpu's next slice here need not
// load it again if nothing else ran here and the vcpu ran nowhere else (vcpu_run).
void put_away(Pcpu& pcpu, Vcpu& v) {
    save_slb(v.arch);
    vector_state_save(&v.arch.vector);
    save_owned_sprs(v.arch.spr);
    v.arch.saved_seq = ++saved_copies;
    pcpu.held_seq = v.arch.saved_seq;
    pcpu.state_saved = true;
}

} // namespace

VcpuExit vcpu_run(Vcpu& v, u64 slice) {
    Pcpu& pcpu = this_pcpu();
    Lpar& lpar = *v.lpar;
    VcpuState& s = v.arch;
    // The CPU may still hold this vcpu's segments, FP/VMX/VSX and owned SPRs: with one CPU as
    // long as no other vcpu took it; with several, as the copy put_away saved last, unless the
    // vcpu ran elsewhere since (a newer copy) or was started again (vcpu_init: none). Loading
    // them costs more than their instructions under QEMU: slbia empties its software TLB, which
    // the guest then refills page by page.
    const bool held = pcpu.last_vcpu == &v && (!pcpu.state_saved || pcpu.held_seq == s.saved_seq);
    if (!held) {
        // The previous vcpu's state must neither leak to this vcpu (another LPAR, perhaps) nor
        // be lost.
        if (Vcpu* prev = pcpu.last_vcpu; prev != nullptr && !pcpu.state_saved) {
            save_slb(prev->arch);
            vector_state_save(&prev->arch.vector);
            save_owned_sprs(prev->arch.spr);
        }
        load_slb(s);
        vector_state_load(&s.vector);
        load_owned_sprs(s.spr);
        pcpu.last_vcpu = &v;
    }
    pcpu.state_saved = false;
    // DEC: the previous vcpu's expiry was saved when its vcpu_run returned. One held here is
    // still counting, unless the CPU napped with a timeout meanwhile (dec_load writes only a
    // DEC that differs).
    dec_load(s.dec_expiry);
    load_sprs(s);
    // Written only when they change: under QEMU every LPIDR write flushes the whole software
    // TLB (an SDR1 write one that changes it), which the guest then refills page by page.
    if (mfspr<Spr::LPIDR>() != lpar.arch.lpid) mtspr<Spr::LPIDR>(lpar.arch.lpid);
    const u64 me = u64{1} << pcpu.index;
    if (lpar.arch.flush_on_entry & me) { // its TLB may hold stale translations of this LPID
        isync();
        tlbiel_flush_current_lpid();
        lpar.arch.flush_on_entry &= ~me;
    }
    lpar.arch.ran_on |= me;
    if (mfspr<Spr::SDR1>() != lpar.arch.htab.sdr1()) mtspr<Spr::SDR1>(lpar.arch.htab.sdr1());
    isync();

    const u64 deadline = timebase() + slice;
    VcpuExit exit = VcpuExit::Preempted;
    pcpu.running = &v; // for the hcalls answered in the exit path (hcall_exit.cpp)
    for (;;) {
        if (!lpar.is_live()) { // ended from another CPU (or by the last hcall's side effects)
            exit = VcpuExit::Stopped;
            break;
        }
        u64 lpcr_value = lpar.arch.lpcr;
        bool mer_wait = false;
        if (lpar.xics.has_pending(v.index)) {
            if (s.regs.msr & msr::EE) {
                deliver(v, kExternal, s.regs.pc, s.regs.msr, 0);
            } else {
                // Tell us when the guest enables interrupts. QEMU's TCG ignores MER: HDEC is
                // capped below so that the loop looks again soon (mer.hpp).
                lpcr_value |= lpcr::MER;
                mer_wait = true;
            }
        }
        if (mfspr<Spr::LPCR>() != lpcr_value) {
            mtspr<Spr::LPCR>(lpcr_value);
            isync();
        }
        i64 left = static_cast<i64>(deadline - timebase());
        if (left <= 0) break;
        bool mer_poll = false;
        arm_hdec(hdec_ticks(static_cast<u64>(left), static_cast<u64>(kDecMax), mer_wait,
                            mer_poll_ticks(plat::timebase_hz()), mer_poll));

        // Guests run in parallel; everything shared is touched under the core lock.
        core_lock().unlock();
        u64 vector = guest_enter(&s.regs);
        core_lock().lock();

        if (!handle_exit(v, vector, mer_poll, exit)) break;
    }
    pcpu.running = nullptr;
    save_sprs(s);
    // DEC stays in the CPU and counts on; the expiry is for the core (timer_pending) and for
    // loading DEC again after another vcpu had the CPU.
    s.dec_expiry = dec_expiry_now();
    if (plat::cpu_count() > 1) put_away(pcpu, v);
    return exit;
}

} // namespace tessera::arch
