// ia32 LPAR hooks of the arch contract: ring compression (the guest kernel in ring 1), the
// LPAR's address space, the switcher round trip, the stack-passed hcall gate (docs/ia32.md).
#include "common/lpar.hpp"
#include "common/log.hpp"
#include "common/rt/format.hpp"
#include "hcall/dispatch.hpp"
#include "isa/ia32/cpu.hpp"

#include <arch/hcalls.hpp>
#include <arch/x86.hpp>
#include <plat/timer.hpp>
#include <tessera/arch.hpp>

extern "C" {
void ia32_guest_enter(tessera::u32 cr3);
extern tessera::arch::GuestFrame sw_frame;
}

namespace tessera::arch {
namespace {

constexpr u32 kPresent = 1, kWrite = 2, kUser = 4, kLarge = 0x80;
constexpr u32 kLargePage = 4 * MiB;
constexpr u32 kEflagsIf = 0x200, kEflagsFixed = 0x2;
// What the guest may keep of EFLAGS: CF PF AF ZF SF TF DF OF AC ID (never IOPL, NT, VM, RF).
constexpr u32 kEflagsGuest = 0x00244dd5;

// Page directories of the running LPARs (real addresses = their identity addresses).
constexpr usize kMaxPageDirs = 16;
alignas(4096) u32 page_dirs[kMaxPageDirs][1024];
bool page_dir_used[kMaxPageDirs];

void fatal(Vcpu& v, const char* fmt, unsigned a, unsigned b, unsigned c, unsigned d) {
    char why[128];
    rt::format(why, sizeof(why), fmt, a, b, c, d);
    v.lpar->crash(why);
}

// ---- Virtual interrupts (docs/ia32.md, "Virtual interrupts") --------------------------------
// The vcpu's shared flags in guest memory: enabled is the guest's virtual EFLAGS.IF, pending
// tells it (while enabled is 0) that it must trap to us once it sets enabled again.
struct VirqArea {
    u32 enabled;
    u32 pending;
};
constexpr u32 kEflagsTf = 0x100;

bool virq_read(const Vcpu& v, VirqArea& a) {
    return v.lpar->memory.copy_out(&a, LogicalAddr(v.arch.virq_area), sizeof(a));
}
bool virq_write(Vcpu& v, const VirqArea& a) {
    if (v.lpar->memory.copy_in(LogicalAddr(v.arch.virq_area), &a, sizeof(a))) return true;
    fatal(v, "virtual interrupt flags at %#x outside the LPAR", v.arch.virq_area, 0, 0, 0);
    return false;
}
// Sets the virtual IF (H_CEDE, the iret gate); false if the area is no longer writable.
bool virq_set_enabled(Vcpu& v, bool on) {
    if (!v.arch.virq_on) return true;
    const u32 value = on ? 1 : 0;
    return v.lpar->memory.copy_in(LogicalAddr(v.arch.virq_area), &value, sizeof(value));
}

// Before each entry: delivers the virtual external interrupt (the XICS presents something to
// this vcpu) or else the timer (its deadline passed) when the guest's virtual IF is set, by
// building a bounce frame on its ring-1 stack as an interrupt gate would; otherwise sets the
// pending flag so that the guest traps (iret gate) once it sets enabled. False: the LPAR crashed.
bool deliver_virq(Vcpu& v) {
    if (!v.arch.virq_on) return true;
    GuestFrame& r = v.arch.regs;
    const bool external = v.lpar->xics.has_pending(v.index);
    const bool timer = timer_pending(v);
    VirqArea a;
    if (!virq_read(v, a)) {
        fatal(v, "virtual interrupt flags at %#x outside the LPAR", v.arch.virq_area, 0, 0, 0);
        return false;
    }
    const u32 want_pending = (external || timer) ? 1 : 0;
    // TODO(bring-up): no delivery while the guest runs in ring 3 (that needs the guest kernel's
    // ring-1 stack, tss.sp0): held until it is back in ring 1.
    if (!want_pending || !a.enabled || (r.cs & 3) == 3) {
        if (a.pending != want_pending) {
            a.pending = want_pending;
            if (!virq_write(v, a)) return false;
        }
        return true;
    }
    const u32 vector = external ? kVirqExternal : kVirqTimer;
    // Lowest address first: vector, error code (0), eip, cs, eflags (IF = the virtual IF, 1).
    const u32 eflags = (r.eflags & kEflagsGuest) | kEflagsFixed | kEflagsIf;
    const u32 frame[5] = {vector, 0, r.eip, r.cs, eflags};
    const u32 sp = r.esp - sizeof(frame);
    if (r.esp < sizeof(frame) || !v.lpar->memory.copy_in(LogicalAddr(sp), frame, sizeof(frame))) {
        fatal(v, "cannot deliver virtual interrupt %#x: guest stack %#x outside the LPAR", vector,
              r.esp, 0, 0);
        return false;
    }
    if (!external) v.arch.timer_deadline = 0; // the one-shot timer fired
    a.enabled = 0;
    a.pending = (external && timer) ? 1 : 0;
    if (!virq_write(v, a)) return false;
    r.esp = sp;
    r.eip = v.arch.virq_entry;
    r.cs = X86_GUEST_KCODE;
    r.ss = X86_GUEST_KDATA;
    r.eflags &= ~kEflagsTf;
    return true;
}

// int $0x83 (the iret gate): pops eip, cs, eflags (and esp, ss when cs is a ring-3 selector)
// from the guest's stack as iret would, and sets the virtual IF from the popped EFLAGS.IF.
// Re-entry then delivers whatever is pending. False: the LPAR crashed.
bool handle_iret(Vcpu& v) {
    GuestFrame& r = v.arch.regs;
    u32 f[5];
    if (!v.lpar->memory.copy_out(f, LogicalAddr(r.esp), 3 * sizeof(u32))) {
        fatal(v, "iret gate: guest stack %#x outside the LPAR (eip %#x)", r.esp, r.eip, 0, 0);
        return false;
    }
    u32 esp = r.esp + 3 * sizeof(u32);
    if ((f[1] & 3) == 3) {
        if (!v.lpar->memory.copy_out(f + 3, LogicalAddr(esp), 2 * sizeof(u32))) {
            fatal(v, "iret gate: guest stack %#x outside the LPAR (eip %#x)", r.esp, r.eip, 0, 0);
            return false;
        }
        esp = f[3]; // ss is the ring-3 data selector in any case (vcpu_run)
    }
    r.eip = f[0];
    r.cs = f[1];
    r.eflags = f[2];
    r.esp = esp;
    if (!virq_set_enabled(v, (f[2] & kEflagsIf) != 0)) {
        fatal(v, "virtual interrupt flags at %#x outside the LPAR", v.arch.virq_area, 0, 0, 0);
        return false;
    }
    return true;
}

// int $0x82: [esp] = hcall number, [esp+8+8*i] = argument i (64-bit slots, little-endian);
// eax = status, rets written back over the argument slots. Every other register is preserved.
bool handle_hcall(Vcpu& v, VcpuExit& exit) {
    GuestFrame& r = v.arch.regs;
    Lpar& lpar = *v.lpar;
    u64 block[1 + hcall::kMaxArgs];
    // TODO(bring-up): guest-virtual = logical while there is no shadow paging, so the block is
    // read through the LPAR's logical map (bounds-checked, cannot fault); with shadow paging this
    // walks the guest's page tables.
    if (!lpar.memory.copy_out(block, LogicalAddr(r.esp), sizeof(block))) {
        r.eax = static_cast<u32>(hcall::H_PARAMETER);
        return true;
    }
    hcall::Frame f;
    f.opcode = block[0];
    for (usize i = 0; i < hcall::kMaxArgs; ++i) f.args[i] = block[1 + i];
    hcall::Env env{lpar, v};
    hcall::Ret ret = hcall::dispatch(env, f);
    r.eax = static_cast<u32>(ret);
    if (!lpar.memory.copy_in(LogicalAddr(u64{r.esp} + 8), f.rets, sizeof(f.rets)))
        r.eax = static_cast<u32>(hcall::H_PARAMETER);
    // H_CEDE returns with interrupts enabled (as MSR[EE] = 1 on pseries): a pending one is
    // taken right after it, at re-entry.
    if (f.opcode == hcall::H_CEDE && ret == hcall::H_SUCCESS && !virq_set_enabled(v, true)) {
        fatal(v, "virtual interrupt flags at %#x outside the LPAR", v.arch.virq_area, 0, 0, 0);
        exit = VcpuExit::Fault;
        return false;
    }
    return hcall::continues_after(env, exit);
}

} // namespace

// TODO(bring-up): no shadow paging yet: the LPAR's address space maps guest-virtual = logical
// over its whole logical memory in 4 MiB pages (user-accessible, so ring 3 could run too), plus
// the switcher in the last 4 MiB. Guests cannot have page tables of their own yet.
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
        Optional<RealAddr> ra = lpar.memory.translate_aligned(LogicalAddr(la), kLargePage);
        if (!ra || ra->value() % kLargePage != 0 || ra->value() >= X86_SWITCHER_VA) {
            log("ia32: LPAR %s: logical %#llx has no 4 MiB-aligned real page\n", lpar.name,
                static_cast<unsigned long long>(la));
            return false;
        }
        pd[la / kLargePage] = static_cast<u32>(ra->value()) | kPresent | kWrite | kUser | kLarge;
    }
    pd[1023] = switcher_pde();
    page_dir_used[slot] = true;
    lpar.arch.pd_slot = static_cast<int>(slot);
    lpar.arch.page_dir = static_cast<u32>(reinterpret_cast<uptr>(pd));
    return true;
}

void lpar_teardown(Lpar& lpar) {
    if (lpar.arch.pd_slot >= 0) page_dir_used[lpar.arch.pd_slot] = false;
    lpar.arch.pd_slot = -1;
    lpar.arch.page_dir = 0;
}

// Entry state: ring 1 (CS = X86_GUEST_KCODE, SS/DS/ES/FS/GS = X86_GUEST_KDATA), EFLAGS.IF set
// (the real one: the guest cannot clear it), eip = entry, eax/edx/ecx = args 0..2 (test LPARs:
// vcpu index, memory size, vcpu count), ebx = the TSC frequency in kHz, esp = 0.
void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    GuestFrame& r = vcpu.arch.regs;
    r = GuestFrame{};
    r.gs = r.fs = r.es = r.ds = X86_GUEST_KDATA;
    r.ss = X86_GUEST_KDATA;
    r.cs = X86_GUEST_KCODE;
    r.eflags = kEflagsFixed | kEflagsIf;
    r.eip = static_cast<u32>(entry.value());
    r.eax = nargs > 0 ? static_cast<u32>(args[0]) : 0;
    r.edx = nargs > 1 ? static_cast<u32>(args[1]) : 0;
    r.ecx = nargs > 2 ? static_cast<u32>(args[2]) : 0;
    r.ebx = static_cast<u32>(pc::tsc_hz() / 1000);
    vcpu.arch.timer_deadline = 0;
    vcpu.arch.virq_on = false;
    vcpu.arch.virq_area = vcpu.arch.virq_entry = 0;
}

VcpuExit vcpu_run(Vcpu& v, u64 slice) {
    GuestFrame& r = v.arch.regs;
    const u64 deadline = timebase() + slice;
    for (;;) {
        const u64 now = timebase();
        if (now >= deadline) return VcpuExit::Preempted;
        if (!deliver_virq(v)) return VcpuExit::Fault;
        // The PIT also brings us back when the guest's timer expires, to deliver it (or to set
        // the pending flag while its interrupts are disabled).
        u64 left = deadline - now;
        const u64 timer = v.arch.timer_deadline;
        if (v.arch.virq_on && timer > now && timer - now < left) left = timer - now;
        pc::preempt_after(left);
        // What the guest may not choose: its ring (CS/SS are ring 1 or 3 only as the CPU left
        // them), IOPL 0 and IF 1.
        r.eflags = (r.eflags & kEflagsGuest) | kEflagsFixed | kEflagsIf;
        if ((r.cs & 3) != 3) {
            r.cs = X86_GUEST_KCODE;
            r.ss = X86_GUEST_KDATA;
        } else {
            r.cs = X86_GUEST_UCODE;
            r.ss = X86_GUEST_UDATA;
        }
        sw_frame = r;
        ia32_guest_enter(v.lpar->arch.page_dir);
        r = sw_frame;

        const u32 vector = r.vector;
        if (vector >= X86_IRQ_BASE && vector < X86_IRQ_BASE + 16) {
            pc::pic_eoi(vector - X86_IRQ_BASE);
            continue; // the deadline decides (the PIT only serves to get control back)
        }
        if (vector == X86_HCALL_VECTOR) {
            VcpuExit exit = VcpuExit::Preempted;
            if (handle_hcall(v, exit)) continue;
            return exit;
        }
        if (vector == X86_IRET_VECTOR) {
            if (handle_iret(v)) continue;
            return VcpuExit::Fault;
        }
        // TODO(bring-up): exceptions are not reflected yet (only virtual interrupts get bounce
        // frames): any guest exception ends the LPAR.
        u32 cr2 = 0;
        asm volatile("mov %%cr2, %0" : "=r"(cr2));
        if (vector == 14)
            fatal(v, "page fault at eip %#x, address %#x, error %#x (cs %#x)", r.eip, cr2, r.error,
                  r.cs);
        else
            fatal(v, "exception %u at eip %#x, error %#x (cs %#x)", vector, r.eip, r.error, r.cs);
        log("ia32: %s: %s; eax %08x ebx %08x ecx %08x edx %08x esi %08x edi %08x ebp %08x "
            "esp %08x eflags %08x\n",
            v.lpar->name, exception_name(vector), r.eax, r.ebx, r.ecx, r.edx, r.esi, r.edi, r.ebp,
            r.esp, r.eflags);
        return VcpuExit::Fault;
    }
}

bool timer_pending(const Vcpu& vcpu) {
    return vcpu.arch.timer_deadline != 0 && timebase() >= vcpu.arch.timer_deadline;
}

hcall::Ret h_ia32_set_timer(hcall::Env& env, hcall::Frame& frame) {
    env.vcpu.arch.timer_deadline = frame.args[0];
    return hcall::H_SUCCESS;
}

hcall::Ret h_ia32_set_virq(hcall::Env& env, hcall::Frame& frame) {
    auto& s = env.vcpu.arch;
    const u64 area = frame.args[0], entry = frame.args[1];
    if (area == 0 && entry == 0) {
        s.virq_on = false;
        s.virq_area = s.virq_entry = 0;
        return hcall::H_SUCCESS;
    }
    const u64 size = env.lpar.memory.size();
    if (area % 4 != 0 || area >= size || size - area < sizeof(VirqArea) || entry >= size)
        return hcall::H_PARAMETER;
    s.virq_on = true;
    s.virq_area = static_cast<u32>(area);
    s.virq_entry = static_cast<u32>(entry);
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch

namespace tessera::arch {
// TODO(bring-up): the ia32 Linux boot (ELF + boot_params, PV entry) arrives with issue 6.
bool linux_load(Lpar&, const LinuxImages&, BootEntry&, char* why, usize why_len) {
    rt::format(why, why_len, "Linux guests are not supported on this target yet");
    return false;
}
} // namespace tessera::arch
