// ia32 LPAR hooks of the arch contract: ring compression (the guest kernel in ring 1), the
// LPAR's address space, the switcher round trip, the stack-passed hcall gate (docs/ia32.md).
#include "common/lpar.hpp"
#include "common/core_lock.hpp"
#include "common/log.hpp"
#include "common/run.hpp"
#include "hcall/dispatch.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/cr.hpp"
#include "isa/ia32/debug_regs.hpp"
#include "isa/ia32/direct_gate.hpp"
#include "isa/ia32/emulate.hpp"
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/fast_reflect.hpp"
#include "isa/ia32/gdt_rows.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include "isa/ia32/pcpu.hpp"
#include "isa/ia32/shadow.hpp"
#include "isa/ia32/sysenter.hpp"
#include "isa/ia32/vtimer.hpp"

#include <arch/hcalls.hpp>
#include <arch/x86.hpp>
#include <plat/timer.hpp>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

extern "C" {
tessera::u32 ia32_guest_enter(tessera::u32 cr3);
extern tessera::arch::GuestFrame sw_frame;
extern char sw_stack[];
}

namespace tessera::arch {
namespace {

constexpr u32 kLargePage = 4 * MiB;

// Page directories of the LPARs for while their guests run with paging off (real addresses =
// their identity addresses).
constexpr usize kMaxPageDirs = 16;
alignas(4096) u32 page_dirs[kMaxPageDirs][1024];
bool page_dir_used[kMaxPageDirs];
usize page_dirs_in_use = 0, page_dirs_most = 0;

// The real GDT's window must hold this vcpu's descriptors: reloaded when another vcpu's (or
// an older lgdt's) are there. The CPU's tag says whose tables it holds (tables_gen is unique in
// the machine, and set by vcpu_init: never 0 for a vcpu that runs).
void load_gdt_window(const Vcpu& v) {
    u64& tag = this_pcpu().gdt_window_gen;
    if (tag == v.arch.tables_gen && tag != 0) return;
    gdt_load_guest_window(v.arch.gdt, v.arch.tls);
    tag = v.arch.tables_gen;
}

// After a trap: the switcher may have loaded another of the CPU's GDT rows (the guest's change
// of its TLS entries, isa/ia32/gdt_rows.hpp). Its entries are then the vcpu's, as if an lgdt
// had loaded them: new tables (the selector checks and gates depending on them are redone),
// which the CPU holds already.
void resync_gdt_window(Vcpu& v) {
    if (!gdt_resync_tls(v.arch.tls, v.arch.gdt)) return;
    descriptor_tables_changed(v);
    this_pcpu().gdt_window_gen = v.arch.tables_gen;
    count(v, Exit::TlsRow);
}

// The kind an hcall is counted under (exit_reason.hpp); H_IA32_SWITCH_MM counts itself.
void count_hcall(Vcpu& v, u64 opcode) {
    using namespace hcall;
    switch (opcode) {
    case H_IA32_SWITCH_MM:
        return;
    case H_IA32_SET_TIMER:
        return count(v, Exit::HcTimer);
    case H_IA32_INVALIDATE:
        return count(v, Exit::HcInvalidate);
    case H_IA32_PROTECT:
        return count(v, Exit::HcProtect);
    case H_IA32_FORK_MM:
        return count(v, Exit::HcFork);
    case H_IA32_REFILL:
        return count(v, Exit::HcRefill);
    case H_IA32_MOVE:
        return count(v, Exit::HcMove);
    case H_CEDE:
        return count(v, Exit::HcCede);
    case H_XIRR:
    case H_XIRR_X:
    case H_EOI:
    case H_CPPR:
    case H_IPI:
    case H_IPOLL:
        return count(v, Exit::HcXics);
    case H_PUT_TCE:
    case H_GET_TCE:
    case H_STUFF_TCE:
    case H_PUT_TCE_INDIRECT:
    case H_REGISTER_LOGICAL_LAN:
    case H_FREE_LOGICAL_LAN:
    case H_ADD_LOGICAL_LAN_BUFFER:
    case H_SEND_LOGICAL_LAN:
    case H_MULTICAST_CTRL:
    case H_REG_CRQ:
    case H_FREE_CRQ:
    case H_SEND_CRQ:
    case H_VIO_SIGNAL:
    case H_COPY_RDMA:
        return count(v, Exit::HcVio);
    case H_PUT_TERM_CHAR:
    case H_GET_TERM_CHAR:
        return count(v, Exit::HcVty);
    default:
        return count(v, Exit::HcOther);
    }
}

// int $0x82: [esp] = hcall number, [esp+8+8*i] = argument i (64-bit slots, little-endian);
// eax = status, rets written back over the argument slots. Every other register is preserved.
bool handle_hcall(Vcpu& v, VcpuExit& exit) {
    GuestFrame& r = v.arch.regs;
    Lpar& lpar = *v.lpar;
    u64 block[1 + hcall::kMaxArgs];
    // Read through the guest's own translation (a software walk: a bad esp cannot fault us).
    if (!guest_read(v, r.esp, block, sizeof(block))) {
        r.eax = static_cast<u32>(hcall::H_PARAMETER);
        return true;
    }
    hcall::Frame f;
    f.opcode = block[0];
    count_hcall(v, f.opcode);
    for (usize i = 0; i < hcall::kMaxArgs; ++i) f.args[i] = block[1 + i];
    hcall::Env env{lpar, v};
    hcall::Ret ret = hcall::dispatch(env, f);
    r.eax = static_cast<u32>(ret);
    if (!guest_write(v, r.esp + 8, f.rets, sizeof(f.rets)))
        r.eax = static_cast<u32>(hcall::H_PARAMETER);
    // H_CEDE returns with interrupts enabled (as MSR[EE] = 1 on pseries): a pending one is
    // taken right after it, at re-entry.
    if (f.opcode == hcall::H_CEDE && ret == hcall::H_SUCCESS) set_vif(v, true);
    return hcall::continues_after(env, exit);
}

// A paging-off directory entry: 4 MiB of the LPAR at real `ra`.
u32 nopg_pde(RealAddr ra) {
    return static_cast<u32>(ra.value()) | kPteP | kPteW | kPteU | kPtePs;
}

// Paging off, a page fault at va: when va is in a 4 MiB page of the LPAR that its paging-off
// directory does not map yet (memory is zeroed at its first use, ChunkPool::ready), zero it, map
// it in the LPAR's directory and in this CPU's copy, and let the guest retry. False: va is
// outside the LPAR's memory, or mapped already (the end of its memory, the hypervisor's hole).
bool nopg_fault(Vcpu& v, u32 va) {
    Lpar& lpar = *v.lpar;
    if (va >= lpar.memory.size() || lpar.arch.page_dir == 0) return false;
    const u32 index = va / kLargePage;
    const Optional<RealAddr> base =
        lpar.memory.translate(LogicalAddr(u64{index} * kLargePage), kLargePage);
    if (!base) return false;
    auto* pd = reinterpret_cast<u32*>(lpar.arch.page_dir);
    const u32 pde = nopg_pde(*base);
    bool changed = false;
    if (__atomic_load_n(&pd[index], __ATOMIC_RELAXED) != pde) {
        __atomic_store_n(&pd[index], pde, __ATOMIC_RELAXED); // another vcpu's CPU may copy it
        changed = true;
    }
    changed |= nopg_update(lpar, index, pde);
    return changed;
}

} // namespace

bool lpar_init_zeroes_all_memory() {
    return false; // a page at its first use (shadow fills, the paging-off directory's faults)
}

// The LPAR's paging-off address space: its whole logical memory at guest-virtual = logical in
// 4 MiB pages (user-accessible: with paging off, ring 3 sees what ring 1 sees, as on a CPU),
// plus, in the copy each CPU runs (nopg_dir_for), that CPU's switcher in the last 4 MiB. With
// paging on, each vcpu runs on its shadow tables.

bool lpar_init(Lpar& lpar) {
    const u64 size = lpar.memory.size();
    if (size == 0 || size > u64{X86_SWITCHER_VA}) {
        log("ia32: LPAR %s: %llu MiB of memory does not fit below the switcher\n", lpar.name,
            static_cast<unsigned long long>(size / MiB));
        return false;
    }
    usize slot = kMaxPageDirs;
    for (usize i = 0; i < kMaxPageDirs; ++i) {
        if (!page_dir_used[i]) {
            slot = i;
            break;
        }
    }
    if (slot == kMaxPageDirs) {
        log("ia32: LPAR %s: no page directory left (at most %zu LPARs)\n", lpar.name, kMaxPageDirs);
        return false;
    }
    u32* pd = page_dirs[slot];
    for (u32 i = 0; i < 1024; ++i) pd[i] = 0;
    for (u64 la = 0; la < size; la += kLargePage) {
        const Optional<RealAddr> ra = lpar.memory.chunk_real(static_cast<u32>(la >> kChunkShift));
        if (!ra || ra->value() % kLargePage != 0 || ra->value() >= X86_SWITCHER_VA) {
            log("ia32: LPAR %s: logical %#llx has no 4 MiB-aligned real page\n", lpar.name,
                static_cast<unsigned long long>(la));
            return false;
        }
        // A 4 MiB page not zeroed yet is mapped at its first fault (nopg_fault).
        if (lpar.memory.is_ready(LogicalAddr(la), kLargePage))
            pd[la / kLargePage] = nopg_pde(*ra + (la & (kChunkSize - 1)));
    }
    pd[1023] = 0; // each CPU runs a copy with its own switcher (nopg_dir_for)
    page_dir_used[slot] = true;
    if (++page_dirs_in_use > page_dirs_most) page_dirs_most = page_dirs_in_use;
    lpar.arch.pd_slot = static_cast<int>(slot);
    lpar.arch.page_dir = static_cast<u32>(reinterpret_cast<uptr>(pd));
    return true;
}

void lpar_teardown(Lpar& lpar) {
    log_exit_counts(lpar.name, lpar.arch.exits, kExitNames);
    for (u32 i = 0; i < lpar.vcpu_count; ++i) {
        shadow_release(lpar.vcpus[i]);
        fpu_forget(lpar.vcpus[i]);
    }
    nopg_forget(lpar);
    if (lpar.arch.pd_slot >= 0) {
        page_dir_used[lpar.arch.pd_slot] = false;
        --page_dirs_in_use;
    }
    lpar.arch.pd_slot = -1;
    lpar.arch.page_dir = 0;
}

usize page_dirs_peak() {
    return page_dirs_most;
}
usize page_dirs_held() {
    return page_dirs_in_use;
}

// Entry state: ring 1 (CS = X86_GUEST_KCODE, SS/DS/ES/FS/GS = X86_GUEST_KDATA), paging off, no
// GDT/IDT/TSS of its own yet, virtual IF clear; eip = entry, eax/edx/ecx = args 0..2 (test
// LPARs: vcpu index, memory size, vcpu count), esi = arg 3 (Linux: its boot_params), ebx = the
// TSC frequency in kHz, esp = 0.
void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    shadow_release(vcpu);
    fpu_forget(vcpu);
    VcpuState& s = vcpu.arch;
    s.fpu_valid = false;
    s.ctl = GuestControl{};
    s.tables = GuestTables{};
    for (auto& d : s.gdt) d = 0;
    s.tls = TlsSets{};
    s.ldt = GuestLdt{};
    descriptor_tables_changed(vcpu);
    tls_sets_loaded(s.tls, s.tables_gen, TlsRaw{});
    s.debug = GuestDebug{};
    GuestFrame& r = s.regs;
    r = GuestFrame{};
    r.gs = r.fs = r.es = r.ds = X86_GUEST_KDATA;
    r.ss = X86_GUEST_KDATA;
    r.cs = X86_GUEST_KCODE;
    r.eflags = kEflagsFixed | kEflagsIf;
    r.eip = static_cast<u32>(entry.value());
    r.eax = nargs > 0 ? static_cast<u32>(args[0]) : 0;
    r.edx = nargs > 1 ? static_cast<u32>(args[1]) : 0;
    r.ecx = nargs > 2 ? static_cast<u32>(args[2]) : 0;
    r.esi = nargs > 3 ? static_cast<u32>(args[3]) : 0; // Linux: boot_params
    r.ebx = static_cast<u32>(pc::tsc_hz() / 1000);
    s.timer_deadline = 0;
    for (u64& b : s.timer_behind) b = 0;
    s.timer_owed = false;
    virq_forget(s);
    fast_reflect_forget(s);
    s.vif = false;
    s.sti_shadow = false;
    s.timer_vector = kVirqTimer;
    s.external_vector = kVirqExternal;
    s.gates = DirectGates{};
    s.sysenter_entry = 0;
    s.sysenter_cs = s.sysenter_esp = s.sysenter_eip = 0; // as after a CPU reset
    s.window_start = s.window_end = 0;
    s.sysexit_start = s.sysexit_end = 0;
}

namespace {

// A #GP: an int n the IDT's DPL refused (error = vector * 8 + 2: reflected through the guest's
// IDT as the software interrupt it was, prefixes and all), a privileged instruction in ring 1
// (error 0: emulated), anything else reflected as is. False: the LPAR crashed; *halt for hlt.
bool handle_gp(Vcpu& v, bool& halt) {
    GuestFrame& r = v.arch.regs;
    if ((r.error & 3) == 2) {
        const u32 vector = r.error >> 3;
        const u32 length = software_int_at_eip(v, vector);
        if (length != 0) {
            count(v, vector == 0x80 ? Exit::Int80 : Exit::SoftInt);
            r.eip += length;
            return reflect(v, vector, Event::Software, false, 0);
        }
    }
    if (r.error == 0 && (r.cs & 3) == 1) {
        switch (emulate_privileged(v)) {
        case Emulated::Done:
        case Emulated::Reflected:
            return true;
        case Emulated::Halt:
            halt = true;
            return true;
        case Emulated::Crashed:
            return false;
        }
    }
    count_reflected(v, 13);
    return reflect(v, 13, Event::Exception, true, r.error);
}

// A page fault's error code as the CPU should have given it: every access of ring 3 (or of
// virtual-8086 mode) is a user access, U set. QEMU 7.2's iret and lret make their stack pops
// as supervisor reads even from ring 3 (U clear), and a Linux guest takes a fault from user
// mode without U for its own kernel's bug (an oops). Nothing of the hypervisor below
// X86_SWITCHER_VA is read implicitly (the GDT, LDT, IDT and TSS are the switcher's), so no
// ring-3 fault there is a supervisor access. The switcher does the same (switcher.S sw_pf_walk).
u32 page_fault_error(const GuestFrame& r) {
    const bool ring3 = (r.cs & 3) == 3 || (r.eflags & kEflagsVm);
    return ring3 ? r.error | kPfU : r.error;
}

bool handle_page_fault(Vcpu& v) {
    const u32 va = cr::read2();
    const u32 error = page_fault_error(v.arch.regs);
    u32 guest_error = 0;
    if (v.arch.ctl.cr0 & kCr0Pg) {
        if (shadow_fill(v, va, error, guest_error) == ShadowFill::Filled) {
            count(v, Exit::ShadowFill);
            return true;
        }
    } else {
        if (nopg_fault(v, va)) {
            count(v, Exit::ShadowFill);
            return true;
        }
        // Paging off: everything of the LPAR is mapped, so this is the end of its memory or the
        // hypervisor's hole.
        guest_error = guest_translate(*v.lpar, v.arch.ctl, va, error & (kPfW | kPfU), true).error;
    }
    count_reflected(v, 14);
    const bool vm86 = v.arch.regs.eflags & kEflagsVm;
    if (!reflect_page_fault(v, va, guest_error)) return false;
    // The switcher may take the next fault of this table itself, from ring 3 or ring 1
    // (isa/ia32/fast_reflect.hpp).
    if (!vm86 && (v.arch.ctl.cr0 & kCr0Pg)) fast_reflect_note(v, va);
    return true;
}

// A virtual interrupt is due (whether or not the virtual IF lets it in).
bool interrupt_due(const Vcpu& v) {
    return v.lpar->xics.has_pending(v.index) || timer_pending(v);
}

// The first instruction of a handler the guest's direct trap gates lead to (int $0x80, the
// exceptions of direct_gate.hpp) or of its sysenter entry, in ring 1: entered with the virtual
// IF as the interrupted code had it, it gets one instruction before an interrupt, as after
// sti, to disable them as an interrupt gate (or sysenter) would have.
bool at_direct_entry(const Vcpu& v) {
    const GuestFrame& r = v.arch.regs;
    if ((r.cs & 3) != 1) return false;
    if (v.arch.sysenter_entry != 0 && r.eip == v.arch.sysenter_entry) return true;
    bool hit = false;
#pragma GCC unroll 16
    for (const u32 e : v.arch.gates.handler) hit |= e != 0 && r.eip == e;
    return hit;
}

// A trap from virtual-8086 mode, which QEMU's iret enters from ring 3 when the popped EFLAGS
// has VM (the CPU ignores VM there): the process gets #GP(0) at its eip, as a ring-3 process
// with the flat user segments (the switcher dropped its real-mode es/ds/fs/gs). A host
// interrupt that came there is acknowledged first, as any other: without the local APIC's EOI
// its in-service bit would block the timer and the kicks of this CPU for good (a process in V86
// mode with IF set, in the soak). False: the LPAR crashed.
bool leave_vm86(Vcpu& v) {
    GuestFrame& r = v.arch.regs;
    if (pc::host_interrupt(r.vector)) count(v, Exit::HostIrq);
    if (r.vector == 1) debug_take_dr6();
    r.eflags &= ~(kEflagsVm | kEflagsTf | kEflagsRf);
    r.cs = X86_GUEST_UCODE;
    r.ss = r.ds = r.es = r.fs = r.gs = X86_GUEST_UDATA;
    count_reflected(v, 13);
    return reflect(v, 13, Event::Exception, true, 0);
}

// A host interrupt's vector (the PICs', all masked, or the local APIC's).
bool host_vector(u32 vector) {
    return (vector >= X86_IRQ_BASE && vector < X86_IRQ_BASE + 16) ||
           (vector >= X86_LAPIC_TIMER_VECTOR && vector <= X86_SPURIOUS_VECTOR);
}

// Exceptions that are the machine's, not the guest's.
bool host_exception(u32 vector) {
    return vector == 2 || vector == 8 || vector == 18 || vector >= 32;
}

TESSERA_HOT VcpuExit run(Vcpu& v, u64 slice) {
    GuestFrame& r = v.arch.regs;
    GuestFrame& frame = *reinterpret_cast<GuestFrame*>(switcher_va(&sw_frame)); // this CPU's
    // The stack page is writable from ring 1 (the CPU pushes the trap frame there, and paging
    // cannot tell ring 1 from ring 0): what the last guest on this CPU left below the frame is
    // cleared, so that no LPAR passes anything to the next one through it. The frame itself is
    // always the running vcpu's (copied in before every entry, pushed at every trap).
    __builtin_memset(this_pcpu().stack, 0,
                     reinterpret_cast<uptr>(&sw_frame) - reinterpret_cast<uptr>(sw_stack));
    const bool smp = plat::cpu_count() > 1;
    const u64 deadline = timebase() + slice;
    for (;;) {
        if (!v.lpar->is_live()) return VcpuExit::Stopped; // ended from another CPU
        const u64 now = timebase();
        if (now >= deadline) return VcpuExit::Preempted;
        // Direct system calls and traps: the guest's int $0x80 and exception gates, where
        // allowed, are the CPU's while it runs (isa/ia32/direct_gate.hpp).
        const DirectGates& gates = direct_gates_for(v);
        // And its sysenter entry, through the switcher's trampoline (isa/ia32/sysenter.hpp).
        const SysenterTarget sysenter = sysenter_for(v);
        v.arch.sysenter_entry = sysenter.cs != 0 ? sysenter.eip : 0;
        // In an sti's shadow (or at the first instruction of a direct trap-gate handler) the next
        // instruction runs first, single-stepped (TF) so that the #DB brings us back to deliver
        // right after it (unless it exits by itself, as hlt does).
        const bool shadow = v.arch.sti_shadow || (at_direct_entry(v) && interrupt_due(v));
        v.arch.sti_shadow = false;
        // In the guest's return window an interrupt is taken where the window returns to.
        if (!shadow && interrupt_due(v) && (complete_window_iret(v) || complete_window_sysexit(v)))
            count(v, Exit::ExitWindow);
        if (!shadow && !deliver_virq(v)) return VcpuExit::Fault;
        // The timer also brings us back when the guest's timer expires, to deliver it (or to set
        // the pending flag while its interrupts are disabled).
        const u64 timer = v.arch.timer_deadline;
        pc::preempt_by(timer > now && timer < deadline ? timer : deadline);
        // What the guest may not choose: its ring (1 or 3, selectors it may use there), IOPL 0
        // and IF 1. RF stays: it only masks the guest's own instruction breakpoints.
        r.eflags = (r.eflags & (kEflagsGuest | kEflagsRf)) | kEflagsFixed | kEflagsIf;
        const bool step = shadow && !(r.eflags & kEflagsTf);
        const u32 shadow_eip = r.eip;
        if (step) r.eflags |= kEflagsTf;
        load_gdt_window(v);
        ldt_load(v.arch.ldt);
        sanitize_selectors(v);
        fpu_enter(v);
        u32 cr3;
        const bool paging = (v.arch.ctl.cr0 & kCr0Pg) != 0;
        if (paging) {
            cr3 = shadow_root(v);
            if (cr3 == 0) {
                crash(v, "no shadow page table left");
                return VcpuExit::Fault;
            }
            // The vcpu's directory maps the switcher of the CPU it runs on.
            reinterpret_cast<u32*>(static_cast<uptr>(cr3))[1023] = switcher_pde();
        } else {
            cr3 = nopg_dir_for(*v.lpar, reinterpret_cast<const u32*>(v.lpar->arch.page_dir));
        }
        // The kept spaces the switcher may move the vcpu to without an exit (shadow.hpp): the
        // rows and their directories' switcher slots are rewritten unless this CPU wrote them
        // for this very state of the vcpu's spaces (VcpuState::fast_seq, never reused).
        Pcpu& here = this_pcpu();
        const u32 self = cpu_index();
        if (v.arch.fast_seq == 0 || v.arch.fast_cpu != self || here.fast_seq != v.arch.fast_seq) {
            FastSpace rows[kShadowRoots];
            shadow_fast_rows(v, rows);
            fast_spaces_load(rows);
            v.arch.fast_cpu = self;
            here.fast_seq = v.arch.fast_seq;
        }
        // A single step of ours must come back: an exception of the stepped instruction
        // through a direct gate would clear TF, so then every vector is the hypervisor's.
        static constexpr DirectGates kNone{};
        idt_load_direct(step ? kNone : gates);
        sysenter_load(sysenter);
        debug_enter(v);
        // A process's own faults, reflected by the switcher (isa/ia32/fast_reflect.hpp).
        fast_reflect_install(fast_reflect_image(v, paging ? cr3 : 0, step));
        frame = r;
        // Guests run in parallel; everything shared is touched under the core lock. The
        // spaces' tables stay while the CPU may walk them (shadow.hpp, `pinned`): any of them,
        // as the switcher may move the vcpu between them.
        if (smp) {
            if (paging) shadow_pin(v, true);
            core_lock().unlock();
        }
        const u32 loaded = ia32_guest_enter(cr3);
        if (smp) {
            core_lock().lock();
            if (paging) shadow_pin(v, false);
        }
        r = frame;
        ++v.lpar->arch.exits.exits;
        if (const FastReflected fr = fast_reflect_taken(); fr.page_faults | fr.gp_faults) {
            if (fr.page_faults != 0) v.arch.ctl.cr2 = fr.last_va;
            u64* counts = v.lpar->arch.exits.count;
            counts[static_cast<usize>(Exit::SwitcherPf)] += fr.page_faults;
            counts[static_cast<usize>(Exit::SwitcherGp)] += fr.gp_faults;
        }
        if (paging && loaded != cr3 && !shadow_resync(v, loaded)) {
            crash(v, "ran on directory %#x, none of its shadow spaces", loaded);
            return VcpuExit::Fault;
        }
        resync_gdt_window(v);
        timer_sync_owed(v);
        timer_sync_want(v);
        if (r.vector == 2) count(v, Exit::Watchdog); // the real IF was clear (switcher.S sw_nmi)
        if (r.eflags & kEflagsVm) {
            if (!leave_vm86(v)) return VcpuExit::Fault;
            continue;
        }
        // Outside V86 mode no guest can clear the real IF (ring 1 and 3 run with IOPL 0): were
        // it clear, the loop's checks run again, the slice's end among them.
        if (r.vector == 2) continue;

        const u32 vector = r.vector;
        // A #DB: what the CPU says happened (DR6, then cleared), for the guest's DR6; B0-B3
        // only of the breakpoints it ran with (the CPU may set them for disabled ones too).
        u32 dr6 = 0;
        if (vector == 1) dr6 = debug_take_dr6() & debug_dr6_mask(v.arch.debug);
        if (step) {
            r.eflags &= ~kEflagsTf;
            if (vector == 1 && !(dr6 & kDr6Hits)) { // our single step: the instruction ran
                count(v, Exit::Step);
                continue;
            }
            dr6 &= ~kDr6Bs; // the guest's breakpoint hit too: our step is not its
            // A host interrupt before the instruction ran: the shadow still holds. (A fault or
            // trap of the instruction itself ends it, as on the CPU.)
            v.arch.sti_shadow = host_vector(vector) && r.eip == shadow_eip;
        }
        bool ok = true, halt = false;
        if (pc::host_interrupt(vector)) {
            count(v, Exit::HostIrq);
            // The deadline decides (the timer only serves to get control back); after a kick
            // the loop re-checks the LPAR and the vcpu's interrupts, or hands the CPU back when
            // it was kicked out of an extended slice (common/run.cpp tickle).
            if (core_slice_contended()) return VcpuExit::Preempted;
            continue;
        }
        if (vector == X86_HCALL_VECTOR) {
            count(v, Exit::Hcall);
            VcpuExit exit = VcpuExit::Preempted;
            const bool resume = handle_hcall(v, exit);
            // Another CPU may have to take what this hcall raised (an IPI, a prod, a device
            // interrupt for a vcpu it runs or should run). An extended slice ends as soon as
            // another vcpu waits for this CPU (common/slice.hpp).
            if (smp) core_events();
            if (resume && core_slice_contended()) return VcpuExit::Preempted;
            if (!resume) return exit;
            continue;
        }
        if (vector == X86_IRET_VECTOR) {
            count(v, Exit::IretGate);
            ok = handle_iret(v);
        } else if (vector == 14) {
            ok = handle_page_fault(v);
        } else if (vector == 13) {
            ok = handle_gp(v, halt);
        } else if (!host_exception(vector)) {
            if (vector == 1) v.arch.debug.dr6 |= dr6;
            const bool err = has_error_code(vector);
            count_reflected(v, vector);
            ok = reflect(v, vector, Event::Exception, err, err ? r.error : 0);
        } else {
            crash(v, "%s (vector %u) at eip %#x (cs %#x)", exception_name(vector), vector, r.eip,
                  r.cs);
            ok = false;
        }
        if (!ok) {
            log("ia32: %s: eax %08x ebx %08x ecx %08x edx %08x esi %08x edi %08x ebp %08x "
                "esp %08x eip %08x eflags %08x\n",
                v.lpar->name, r.eax, r.ebx, r.ecx, r.edx, r.esi, r.edi, r.ebp, r.esp, r.eip,
                r.eflags);
            return VcpuExit::Fault;
        }
        if (halt && !v.lpar->xics.has_pending(v.index) && !timer_pending(v)) return VcpuExit::Ceded;
    }
}

} // namespace

// With several CPUs nothing of the vcpu stays in this one: its next slice may be on another
// (the GDT and LDT windows, DR0-DR3 and the syscall gate are reloaded at every entry anyway).
VcpuExit vcpu_run(Vcpu& v, u64 slice) {
    const VcpuExit exit = run(v, slice);
    if (plat::cpu_count() > 1) fpu_put_away(v);
    return exit;
}

} // namespace tessera::arch

namespace tessera::arch {

hcall::Ret h_ia32_set_exit_window(hcall::Env& env, hcall::Frame& frame) {
    const u64 start = frame.args[0], end = frame.args[1];
    if (end < start || end > 0xffffffffull || end - start > 4096) return hcall::H_PARAMETER;
    env.vcpu.arch.window_start = static_cast<u32>(start);
    env.vcpu.arch.window_end = static_cast<u32>(end);
    return hcall::H_SUCCESS;
}

hcall::Ret h_ia32_set_sysexit_window(hcall::Env& env, hcall::Frame& frame) {
    const u64 start = frame.args[0], end = frame.args[1];
    const bool none = start == 0 && end == 0;
    if (!none && (end < start + 2 || end > 0xffffffffull || end - start > 4096))
        return hcall::H_PARAMETER;
    env.vcpu.arch.sysexit_start = static_cast<u32>(start);
    env.vcpu.arch.sysexit_end = static_cast<u32>(end);
    return hcall::H_SUCCESS;
}

hcall::Ret h_ia32_exit_counts(hcall::Env& env, hcall::Frame& frame) {
    const ExitCounts& c = env.lpar.arch.exits;
    frame.rets[0] = c.exits;
    frame.rets[1] = c.count[static_cast<usize>(Exit::Int80)];
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
