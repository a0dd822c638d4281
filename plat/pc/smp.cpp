// Starting the application processors with INIT-SIPI-SIPI, and kicking CPUs with local APIC
// IPIs (docs/ia32.md, "Several physical CPUs"; ../shared/notes/smp.md §4).
//
// The boot CPU copies the real-mode start code below 1 MiB (isa/ia32/ap_boot.S), broadcasts
// INIT and two startup IPIs to every other CPU, and counts the processors that take an index
// until as many as the firmware reports have arrived or a second has passed; then it closes the
// count (a late processor parks itself) and waits for each counted one to finish its setup.
// The firmware's count is the enabled processors of the ACPI MADT (plat/pc/acpi.cpp), as on any
// PC; without a usable MADT, QEMU's CMOS byte 0x5f (the CPU count - 1, which SeaBIOS reads
// too). The MP table cannot say it: SeaBIOS lists one processor per package, so `-smp 2` with
// two cores shows one. APIC IDs are whatever each processor reads from its own local APIC.
#include "isa/ia32/smp.hpp"
#include "common/log.hpp"
#include "common/run.hpp"
#include "isa/ia32/pcpu.hpp"

#include <arch/io.hpp>
#include <arch/x86.hpp>
#include <plat/acpi.hpp>
#include <plat/lapic.hpp>
#include <plat/smp.hpp>
#include <plat/timer.hpp>
#include <tessera/arch.hpp>

namespace tessera::pc {
namespace {

constexpr u16 kCmosIndex = 0x70, kCmosData = 0x71;
constexpr u8 kNmiDisable = 0x80;
constexpr u8 kCmosCpusMinus1 = 0x5f; // QEMU: smp_cpus - 1

// Written by the boot CPU before the processors start, read-only afterwards (apic_ids[i] by
// CPU i itself before it reports ready).
u32 cpu_total = 1;
u32 apic_ids[arch::kMaxCpus];
u32 ready[arch::kMaxCpus];
// Set by the boot CPU once cpu_total is final. A processor it counted out (one that got ready
// after the boot CPU had given up on it or on one with a lower index) parks instead of joining
// the scheduler, whose CPUs are 0 .. cpu_total - 1.
u32 counted;
// Set by kick_cpu before the IPI; idle_cpu does not halt while its flag is set.
u32 kicked[arch::kMaxCpus];

u8 cmos(u8 reg) {
    arch::outb(kCmosIndex, kNmiDisable | reg);
    return arch::inb(kCmosData);
}

// Real memory through the hypervisor's identity map (the low 4 GiB but the switcher's 4 MiB:
// the BIOS area and the ACPI tables, which firmware puts below 4 GiB).
bool read_real(const void*, RealAddr at, void* out, usize len) {
    if (at.value() >= X86_SWITCHER_VA || len > X86_SWITCHER_VA - at.value()) return false;
    const auto* from = reinterpret_cast<const volatile u8*>(static_cast<uptr>(at.value()));
    auto* to = static_cast<u8*>(out);
    for (usize i = 0; i < len; ++i) to[i] = from[i];
    return true;
}

// How many processors the firmware reports: the MADT's enabled ones, else QEMU's CMOS count.
u32 firmware_cpu_count() {
    acpi::Processors cpus;
    const acpi::Status found = acpi::find_processors({&read_real, nullptr}, cpus);
    if (found == acpi::Status::Ok && cpus.enabled > 0) {
        log("pc: ACPI MADT: %u processor(s) enabled, %u not\n", cpus.enabled, cpus.disabled);
        return cpus.enabled;
    }
    const u32 cmos_count = static_cast<u32>(cmos(kCmosCpusMinus1)) + 1;
    log("pc: %s: %u processor(s) by QEMU's CMOS\n",
        found == acpi::Status::Ok ? "an ACPI MADT without enabled processors" : to_string(found),
        cmos_count);
    return cmos_count;
}

bool wait_until(u64 until, auto done) {
    while (!done()) {
        if (arch::timebase() >= until) return false;
        asm volatile("pause");
    }
    return true;
}

} // namespace

void start_secondaries() {
    apic_ids[0] = lapic_id();
    const u32 expected = firmware_cpu_count();
    if (expected <= 1) {
        log("pc: 1 physical CPU\n");
        return;
    }
    const u32 want = expected < arch::kMaxCpus ? expected : arch::kMaxCpus;
    if (!arch::install_trampoline(want - 1)) {
        log("pc: the processors' start code does not fit its page: running on CPU 0 alone\n");
        return;
    }
    lapic_start_others(X86_AP_TRAMPOLINE >> 12);
    const u64 second = tsc_hz() ? tsc_hz() : 1'000'000'000;
    wait_until(arch::timebase() + second, [&] { return arch::trampoline_arrivals() >= want - 1; });
    u32 arrived = arch::close_trampoline();
    if (arrived > want - 1) arrived = want - 1;
    u32 up = 1;
    for (u32 i = 1; i <= arrived; ++i) {
        if (!wait_until(arch::timebase() + second,
                        [&] { return __atomic_load_n(&ready[i], __ATOMIC_ACQUIRE) != 0; })) {
            // CPU indices are dense (per-CPU tables, the scheduler's CPUs): the ones after a
            // processor that never got ready park with it (pc_secondary_main).
            log("pc: CPU %u did not finish its setup: using CPUs 0-%u\n", i, i - 1);
            break;
        }
        up = i + 1;
    }
    cpu_total = up;
    __atomic_store_n(&counted, 1, __ATOMIC_RELEASE);
    if (expected > arch::kMaxCpus) log("pc: %u CPUs, using %u\n", expected, arch::kMaxCpus);
    log("pc: %u physical CPU(s) (local APIC IDs", cpu_total);
    for (u32 i = 0; i < cpu_total; ++i) log(" %u", apic_ids[i]);
    log(")\n");
}

} // namespace tessera::pc

// An application processor with its tables loaded and paging on (isa/ia32/smp.cpp).
extern "C" [[noreturn]] void pc_secondary_main(tessera::u32 index) {
    using namespace tessera;
    pc::lapic_init_cpu(index);
    pc::apic_ids[index] = pc::lapic_id();
    __atomic_store_n(&pc::ready[index], 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&pc::counted, __ATOMIC_ACQUIRE)) asm volatile("pause");
    if (index >= pc::cpu_total)
        for (;;) asm volatile("cli; hlt"); // counted out: see start_secondaries
    secondary_main(index);
}

namespace tessera::plat {

u32 cpu_count() {
    return pc::cpu_total;
}

void kick_cpu(u32 cpu) {
    if (cpu >= pc::cpu_total) return;
    __atomic_store_n(&pc::kicked[cpu], 1, __ATOMIC_RELEASE);
    // The IPI's MMIO write is ordered after the flag and what the kicked CPU is to see (x86
    // keeps stores in order; the fence is for the compiler and uncached-memory ordering).
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    pc::lapic_ipi(pc::apic_ids[cpu], X86_KICK_VECTOR);
}

// `sti; hlt` cannot lose a kick: a kick that arrives after the flag was read is held by the
// local APIC while interrupts are off, and sti's one-instruction shadow makes it interrupt the
// hlt itself (an NMI in that shadow returns to the sti: switcher.S, sw_nmi). The interrupt is
// acknowledged by the switcher's ring-0 path (switcher.S). Other wake-ups halt again: a one-shot
// left armed by an earlier slice (the deadline is armed again) and the NMI watchdog's ticks
// (plat/pc/watchdog.cpp), which would otherwise send an idle CPU through the scheduler every 55 ms.
void idle_cpu(u64 until) {
    const u32 self = arch::cpu_index();
    while (__atomic_load_n(&pc::kicked[self], __ATOMIC_ACQUIRE) == 0) {
        if (until != 0 && until <= arch::timebase()) return;
        if (until != 0) pc::preempt_by(until);
        asm volatile("sti; hlt; cli" ::: "memory");
    }
    __atomic_store_n(&pc::kicked[self], 0, __ATOMIC_RELAXED);
}

// A kick that interrupted a guest was acknowledged with the exit (pc::host_interrupt).
void ack_kick() {}

} // namespace tessera::plat
