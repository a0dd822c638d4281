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
    switch (env.after) {
    case hcall::After::Resume:
        return true;
    case hcall::After::Block:
        if (timer_pending(v)) return true;
        exit = VcpuExit::Ceded;
        return false;
    case hcall::After::Yield:
        exit = VcpuExit::Yielded;
        return false;
    case hcall::After::StopLpar:
        exit = VcpuExit::Stopped;
        return false;
    case hcall::After::Offline:
        exit = VcpuExit::Offline;
        return false;
    }
    return true;
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
}

VcpuExit vcpu_run(Vcpu& v, u64 slice) {
    GuestFrame& r = v.arch.regs;
    const u64 deadline = timebase() + slice;
    for (;;) {
        const u64 now = timebase();
        if (now >= deadline) return VcpuExit::Preempted;
        pc::preempt_after(deadline - now);
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
        // TODO(bring-up): no trap reflection (bounce frames) yet: any guest exception ends
        // the LPAR.
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

} // namespace tessera::arch

namespace tessera::arch {
// TODO(bring-up): the ia32 Linux boot (ELF + boot_params, PV entry) arrives with issue 6.
bool linux_load(Lpar&, const LinuxImages&, BootEntry&, char* why, usize why_len) {
    rt::format(why, why_len, "Linux guests are not supported on this target yet");
    return false;
}
} // namespace tessera::arch
