// Faults in the hypervisor itself (docs/ia32.md, "Faults in the hypervisor"): a fault in ring 0
// (switcher.S sw_ring0) and the double fault (a task of its own, set up in gdt.cpp). Both print
// what they know on the console and power the machine off with a failure status; never a
// reboot, never a silent hang.
#include "common/log.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/cr.hpp"

#include <arch/x86.hpp>
#include <tessera/arch.hpp>

extern "C" char sw_tss[], sw_stack[], sw_stack_top[];

namespace tessera::arch {
namespace {

constexpr int kFaultStatus = 3; // the power-off status of a hypervisor fault

// Set while a fault is being reported: a fault in the report itself powers off at once.
bool reporting = false;

[[noreturn]] void stop_machine() {
    plat::power_off(kFaultStatus);
}

} // namespace
} // namespace tessera::arch

// A fault in ring 0 (no stack switch; the frame is on the faulting stack). fault_cr3: the
// directory loaded when it happened (sw_fault then loads the hypervisor's).
extern "C" [[noreturn]] void ia32_hv_fault(const tessera::arch::GuestFrame* f,
                                           tessera::u32 fault_cr3) {
    using namespace tessera;
    using namespace tessera::arch;
    if (reporting) stop_machine();
    reporting = true;
    const u32 cr2 = cr::read2();
    log("ia32: hypervisor fault: vector %u (%s), error %#x\n", f->vector, exception_name(f->vector),
        has_error_code(f->vector) ? f->error : 0);
    log("  eip %08x cs %04x eflags %08x cr2 %08x cr3 %08x%s\n", f->eip, f->cs, f->eflags, cr2,
        fault_cr3, fault_cr3 == hypervisor_cr3() ? " (the hypervisor's)" : "");
    log("  cr0 %08x cr4 %08x, cpu %u\n", cr::read0(), cr::read4(), cpu_index());
    // A guest's directory maps the switcher of the CPU it runs on in its last slot: another
    // CPU's there would put two CPUs on one switcher stack.
    if (fault_cr3 != hypervisor_cr3() && fault_cr3 % 4096 == 0 && fault_cr3 < X86_SWITCHER_VA) {
        const u32 slot = reinterpret_cast<const volatile u32*>(static_cast<uptr>(fault_cr3))[1023];
        constexpr u32 kAccessedDirty = 0x60; // the CPU sets A in the directory entry it used
        log("  its switcher slot %08x, this CPU's switcher %08x%s\n", slot, switcher_pde(),
            (slot & ~kAccessedDirty) == switcher_pde() ? "" : " (another CPU's!)");
    }
    log("  eax %08x ebx %08x ecx %08x edx %08x\n", f->eax, f->ebx, f->ecx, f->edx);
    log("  esi %08x edi %08x ebp %08x esp %08x\n", f->esi, f->edi, f->ebp, f->esp_pushal + 20);
    log("  ds %04x es %04x fs %04x gs %04x\n", f->ds, f->es, f->fs, f->gs);
    // What the faulting code had on the switcher's stack, up to its top: for a fault in
    // sw_ring0_irq, the frame of the interrupt it took (vector, error, eip, cs, eflags and, from
    // ring 1, 3 or virtual-8086 mode, what the CPU pushed above).
    const u32 esp = f->esp_pushal + 20;
    const u32 top = switcher_va(sw_stack_top);
    if (esp >= switcher_va(sw_stack) && esp < top && esp % 4 == 0) {
        log("  stack from esp to the switcher stack's top:");
        for (u32 a = esp, n = 0; a < top && n < 12; a += 4, ++n)
            log(" %08x", *reinterpret_cast<const volatile u32*>(a));
        log("\n");
    }
    // An exception whose IDT entry was a guest's direct gate (isa/ia32/direct_gate.hpp: #DE,
    // #BP, #OF, #BR, #UD, #MF, #AC, #XM stay the last guest's after its exit) cannot enter its
    // ring-1 code from ring 0: the CPU raises #GP(its selector, EXT) at the same eip instead.
    if (f->vector == 13 && (f->error & 1))
        log("  (#GP while delivering another exception: if its IDT entry was a guest's direct "
            "gate, that exception happened at this eip)\n");
    plat::power_off(kFaultStatus);
}

// The double fault: a fault while the CPU delivered another one (a broken ring-0 stack, a bad
// IDT or GDT entry). Runs as the task of X86_DF_TSS; the CPU saved the interrupted context in
// the main TSS.
extern "C" [[noreturn]] void ia32_double_fault() {
    using namespace tessera;
    using namespace tessera::arch;
    if (reporting) stop_machine();
    reporting = true;
    // This CPU's TSS, at its switcher address (the task runs on this CPU's hypervisor cr3).
    const Tss& t = *reinterpret_cast<const Tss*>(switcher_va(sw_tss));
    log("ia32: hypervisor fault: vector 8 (#DF double fault), a fault while delivering a fault\n");
    log("  eip %08x cs %04x eflags %08x esp %08x ss %04x cr2 %08x\n", t.eip, t.cs, t.eflags, t.esp,
        t.ss, cr::read2());
    log("  eax %08x ebx %08x ecx %08x edx %08x\n", t.eax, t.ebx, t.ecx, t.edx);
    log("  esi %08x edi %08x ebp %08x\n", t.esi, t.edi, t.ebp);
    log("  ds %04x es %04x fs %04x gs %04x\n", t.ds, t.es, t.fs, t.gs);
    plat::power_off(kFaultStatus);
}
