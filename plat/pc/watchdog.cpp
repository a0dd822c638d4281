// The NMI watchdog (plat/pc/include/plat/watchdog.hpp; docs/ia32.md, "Virtual-8086 mode").
//
// The hypervisor preempts a guest with its local APIC's timer, a maskable interrupt: it needs
// the real IF set while a guest runs. Guests cannot clear it, but for one hole in QEMU 7.2: its
// iret enters virtual-8086 mode from ring 3 with the IOPL and IF of the popped EFLAGS, and a
// process there with IOPL 3 runs `cli` on the real IF (`cli; jmp .` would keep the CPU for
// good). An NMI cannot be masked: the switcher's handler (switcher.S, sw_nmi) returns at once
// unless it interrupted a guest with the real IF clear, which it turns into an exit.
//
// Its source is the 8254's channel 0 (the preemption timer is the local APIC's; channel 2
// serves the TSC's calibration), routed by QEMU's I/O APIC to input 2 (ISA IRQ 0 is GSI 2
// there, as the firmware's interrupt source override says), whose redirection entry delivers
// an NMI. Register layouts: the 82093AA I/O APIC datasheet; the 8254's mode 2.
#include "common/log.hpp"

#include <arch/io.hpp>
#include <plat/watchdog.hpp>

namespace tessera::pc {
namespace {

constexpr uptr kIoApicBase = 0xfec00000; // identity-mapped uncached with the local APIC (gdt.cpp)
constexpr u32 kIoRegSel = 0x00, kIoWin = 0x10;
constexpr u32 kRedirLow = 0x10, kRedirHigh = 0x11; // + 2 * input
constexpr u32 kPitInput = 2;
// Redirection entry: delivery mode NMI, logical destination, active high, edge, not masked;
// the vector is ignored for an NMI.
constexpr u32 kDeliverNmi = 4u << 8, kLogicalDest = 1u << 11;

constexpr u16 kPitCh0 = 0x40, kPitCmd = 0x43;
constexpr u8 kPitCh0Mode2 = 0x34; // channel 0, low then high byte, mode 2 (rate generator), binary

void ioapic_write(u32 reg, u32 value) {
    *reinterpret_cast<volatile u32*>(kIoApicBase + kIoRegSel) = reg;
    *reinterpret_cast<volatile u32*>(kIoApicBase + kIoWin) = value;
}

} // namespace

void watchdog_start(u32 cpu_mask) {
    ioapic_write(kRedirHigh + 2 * kPitInput, (cpu_mask & 0xff) << 24);
    ioapic_write(kRedirLow + 2 * kPitInput, kDeliverNmi | kLogicalDest);
    // A count of 0 is 65536: 1,193,182 Hz / 65536, an NMI every 55 ms.
    arch::outb(kPitCmd, kPitCh0Mode2);
    arch::outb(kPitCh0, 0);
    arch::outb(kPitCh0, 0);
    log("pc: NMI watchdog every 55 ms (PIT channel 0, I/O APIC input %u) to CPU mask %#x\n",
        kPitInput, cpu_mask);
}

} // namespace tessera::pc
