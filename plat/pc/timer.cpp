// The 8259 PIC pair, the 8254 PIT and the preemption timer (plat/pc/include/plat/timer.hpp).
#include "common/log.hpp"
#include "isa/ia32/pcpu.hpp"

#include <arch/io.hpp>
#include <arch/x86.hpp>
#include <plat/lapic.hpp>
#include <plat/pit_calibration.hpp>
#include <plat/timer.hpp>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera::pc {
namespace {

constexpr u16 kPic1Cmd = 0x20, kPic1Data = 0x21, kPic2Cmd = 0xa0, kPic2Data = 0xa1;
constexpr u8 kIcw1Init = 0x11, kIcw4_8086 = 0x01, kEoi = 0x20;
constexpr u16 kPitCh2 = 0x42, kPitCmd = 0x43, kPort61 = 0x61;
// Channel 2, lobyte/hibyte access, mode 0 (interrupt on terminal count), binary.
constexpr u8 kPitCh2Mode0 = 0xb0;
// Channel 2, counter latch command.
constexpr u8 kPitCh2Latch = 0x80;
// 30 ms of PIT ticks: the brackets' microsecond or so is then some 30 ppm of it.
constexpr u32 kCalibrationTicks = static_cast<u32>(pit::kHz * 30 / 1000);

u64 g_tsc_hz = 0;

// When each CPU's one-shot was armed to fire (TSC), 0 once its interrupt ended a guest's run:
// that CPU's own (only it arms its timer and takes its interrupt).
u64 g_armed[arch::kMaxCpus];

// Channel 2, its gate on (port 0x61 bit 0, the speaker off), counting down from 0xffff in
// mode 0: 55 ms before it wraps, longer than the measurement.
pit::Result calibrate() {
    const u8 p61 = arch::inb(kPort61);
    arch::outb(kPort61, static_cast<u8>((p61 & ~0x02) | 0x01));
    arch::outb(kPitCmd, kPitCh2Mode0);
    arch::outb(kPitCh2, 0xff);
    arch::outb(kPitCh2, 0xff);
    const pit::Channel ch{[](void*) { return arch::timebase(); },
                          [](void*) { arch::outb(kPitCmd, kPitCh2Latch); },
                          [](void*) {
                              const u8 lo = arch::inb(kPitCh2);
                              return static_cast<u16>(lo | arch::inb(kPitCh2) << 8);
                          },
                          nullptr};
    const pit::Result r = pit::measure(ch, kCalibrationTicks, 10'000'000);
    arch::outb(kPort61, p61);
    return r;
}

} // namespace

void timer_init() {
    // ICW1..ICW4: edge triggered, cascaded, vector bases 0x20/0x28, slave on IRQ 2, 8086 mode.
    arch::outb(kPic1Cmd, kIcw1Init);
    arch::outb(kPic2Cmd, kIcw1Init);
    arch::outb(kPic1Data, X86_IRQ_BASE);
    arch::outb(kPic2Data, X86_IRQ_BASE + 8);
    arch::outb(kPic1Data, 0x04);
    arch::outb(kPic2Data, 0x02);
    arch::outb(kPic1Data, kIcw4_8086);
    arch::outb(kPic2Data, kIcw4_8086);
    // Every IRQ masked: the local APICs' timers preempt, and the PIC's output reaches no CPU
    // (LINT0 masked everywhere, plat/pc/lapic.cpp).
    arch::outb(kPic1Data, 0xff);
    arch::outb(kPic2Data, 0xff);
    const pit::Result r = calibrate();
    if (r.tsc_hz == 0) {
        log("pc: the PIT's channel 2 does not count: no rate for the TSC\n");
        plat::power_off(1);
    }
    g_tsc_hz = r.tsc_hz;
    log("pc: TSC %llu kHz (calibrated against the PIT, within %llu ppm), PIC masked at vectors "
        "%#x..%#x\n",
        static_cast<unsigned long long>(g_tsc_hz / 1000),
        static_cast<unsigned long long>(r.uncertainty), X86_IRQ_BASE, X86_IRQ_BASE + 15);
    lapic_init_cpu(0);
    lapic_calibrate(g_tsc_hz);
}

TESSERA_HOT void preempt_by(u64 deadline) {
    // Each write of the initial count is an MMIO exit of the emulator and re-arms its host timer
    // (under QEMU a wake-up of its main loop), so a timer that fires in time is left alone: at
    // worst it fires early and the exit it causes arms the later deadline.
    // `armed` alone cannot say the timer is still counting: the local APIC, calibrated against
    // the TSC, may fire a little before the TSC reaches `armed`, and a wake-up from idle's hlt
    // is acknowledged by the switcher without telling anyone. Trusting it there left an idle
    // CPU asleep with no timer armed until something kicked it (a lost vcpu timer; the boot CPU
    // deaf, the machine never powering off). So the count is read, as ppc64 reads its HDEC.
    const u64 now = arch::timebase();
    u64& armed = g_armed[arch::cpu_index()];
    if (armed > now && armed <= deadline && lapic_oneshot_running()) return;
    armed = deadline > now ? deadline : now;
    lapic_oneshot(armed - now);
}

TESSERA_HOT bool host_interrupt(u32 vector) {
    if (vector >= X86_IRQ_BASE && vector < X86_IRQ_BASE + 16) {
        pic_eoi(vector - X86_IRQ_BASE); // spurious: every IRQ is masked
        return true;
    }
    if (vector >= X86_LAPIC_TIMER_VECTOR && vector <= X86_SPURIOUS_VECTOR) {
        if (vector == X86_LAPIC_TIMER_VECTOR) g_armed[arch::cpu_index()] = 0;
        if (vector != X86_SPURIOUS_VECTOR) lapic_eoi();
        return true;
    }
    return false;
}

void pic_eoi(u32 irq) {
    if (irq >= 8) arch::outb(kPic2Cmd, kEoi);
    arch::outb(kPic1Cmd, kEoi);
}

u64 tsc_hz() {
    return g_tsc_hz;
}

} // namespace tessera::pc
