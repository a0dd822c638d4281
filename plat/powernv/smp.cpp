// Starting the secondary CPUs through OPAL, and kicking CPUs through their ICPs.
//
// ICP MMIO (big-endian registers, cache-inhibited accesses in hypervisor real mode):
// +0 XIRR_POLL (4-byte read, no side effect), +4 XIRR (4-byte read = accept, 4-byte write = EOI,
// 1-byte write = CPPR), +12 MFRR (1 byte). The IPI (source 2) is presented while MFRR < CPPR.
// Every CPU keeps CPPR = 1 and a kick sets MFRR = 0, so only kicks reach the hypervisor: a
// firmware source left enabled at another priority stays masked.
#include "plat/powernv/smp.hpp"

#include "common/log.hpp"
#include "common/run.hpp"
#include "isa/ppc64/smp.hpp"
#include "isa/ppc64/spr.hpp"
#include "plat/powernv/opal.hpp"

#include <tessera/arch.hpp>

namespace tessera::powernv {
namespace {

constexpr u64 kXirrPoll = 0, kXirr = 4, kMfrr = 12;
constexpr u8 kKickPriority = 0;
constexpr u8 kCppr = 1;
constexpr u32 kIpiSource = 2;

struct Cpu {
    u32 pir = 0;
    u64 icp = 0; // 0: unknown (only possible for the boot CPU: then nothing else is started)
};
// Written by the boot CPU before each secondary starts; read-only afterwards.
Cpu cpus[arch::kMaxCpus];
u32 cpu_total = 1;
// Set by kick_cpu before the ICP write; idle_cpu does not nap while its flag is set.
u32 kicked[arch::kMaxCpus];
// Set by idle_cpu while it polls `kicked` before napping: a kick then needs no IPI. A CPU
// clears it and then reads `kicked` once more before it naps, and kick_cpu sets `kicked`
// before it reads `polling`, each pair with a sync between: whichever comes second sees the
// other's store (a kick is never lost, and never needs the ICP while the CPU polls).
u32 polling[arch::kMaxCpus];
// Set by kick_cpu when it wrote the CPU's MFRR because the CPU was not polling; cleared by
// ack_kick before it looks at the ICP. Set: an IPI is, or is about to be, pending there.
u32 ipi_sent[arch::kMaxCpus];
// How long an idle CPU polls for a kick before it naps: 200 us (as KVM's halt polling). Under QEMU
// a napping CPU's thread sleeps in the host, and waking it took 20-50 us from the kick (measured:
// 2-vcpu Linux handing a task to its other vcpu), more than the hand-over itself. Linux's own
// snooze and KVM's halt polling do the same for the same reason.
constexpr u64 kPollUs = 200;
u32 starting = 0; // the index the next secondary takes (ppc64_secondary_main)
u32 started = 0;  // set to 1 by that secondary once it runs on its own stack

void stbcix(u64 addr, u8 v) {
    asm volatile("stbcix %0,0,%1" ::"r"(v), "r"(addr) : "memory");
}
void stwcix(u64 addr, u32 v) {
    asm volatile("stwcix %0,0,%1" ::"r"(__builtin_bswap32(v)), "r"(addr) : "memory");
}
u32 lwzcix(u64 addr) {
    u32 v;
    asm volatile("lwzcix %0,0,%1" : "=r"(v) : "r"(addr) : "memory");
    return __builtin_bswap32(v);
}

void icp_init(u64 icp) {
    if (icp == 0) return;
    stbcix(icp + kMfrr, 0xff);
    stbcix(icp + kXirr, kCppr); // reset value 0 masks everything, IPIs included
}

const HostInfo::Core* find_core(const HostInfo& host, u32 pir) {
    for (usize i = 0; i < host.core_count; ++i)
        if (host.cores[i].pir == pir) return &host.cores[i];
    return nullptr;
}

bool start_one(const HostInfo& host, const HostInfo::Core& core) {
    const u32 index = cpu_total;
    if (!arch::prepare_secondary(index)) return false;
    cpus[index] = Cpu{core.pir, core.icp};
    starting = index;
    __atomic_store_n(&started, 0, __ATOMIC_RELEASE);
    const i64 rc =
        opal_call(opal::START_CPU, core.pir, reinterpret_cast<uptr>(&arch::ppc64_secondary_start));
    if (rc != opal::SUCCESS) {
        log("powernv: CPU PIR %#x: OPAL_START_CPU failed (%lld)\n", core.pir,
            static_cast<long long>(rc));
        return false;
    }
    const u64 hz = host.timebase_hz ? host.timebase_hz : 512'000'000;
    const u64 until = arch::timebase() + hz; // a second: it takes microseconds
    while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) == 0) {
        if (static_cast<i64>(arch::timebase() - until) > 0) {
            log("powernv: CPU PIR %#x did not come up\n", core.pir);
            return false;
        }
    }
    ++cpu_total;
    return true;
}

} // namespace

void start_secondaries(const HostInfo& host) {
    const u32 boot_pir = static_cast<u32>(arch::mfspr<arch::Spr::PIR>());
    const HostInfo::Core* boot = find_core(host, boot_pir);
    cpus[0] = Cpu{boot_pir, boot ? boot->icp : 0};
    icp_init(cpus[0].icp);
    if (cpus[0].icp == 0) {
        log("powernv: no ICP for the boot CPU (PIR %#x): running on it alone\n", boot_pir);
        return;
    }
    for (usize i = 0; i < host.core_count && cpu_total < arch::kMaxCpus; ++i) {
        const HostInfo::Core& core = host.cores[i];
        if (core.pir == boot_pir || core.icp == 0) continue;
        start_one(host, core);
    }
    if (host.core_count > arch::kMaxCpus)
        log("powernv: %zu cores, using %u\n", host.core_count, arch::kMaxCpus);
    log("powernv: %u physical CPU(s), boot CPU PIR %#x\n", cpu_total, boot_pir);
}

} // namespace tessera::powernv

// A started secondary, little-endian on its own stack (isa/ppc64/entry.S).
extern "C" [[noreturn]] void ppc64_secondary_main(tessera::u64 /*pir*/) {
    using namespace tessera;
    const u32 index = powernv::starting;
    arch::cpu_init(index);
    powernv::icp_init(powernv::cpus[index].icp);
    __atomic_store_n(&powernv::started, 1, __ATOMIC_RELEASE);
    secondary_main(index);
}

namespace tessera::plat {

u32 cpu_count() {
    return powernv::cpu_total;
}

void kick_cpu(u32 cpu) {
    if (cpu >= powernv::cpu_total || powernv::cpus[cpu].icp == 0) return;
    __atomic_store_n(&powernv::kicked[cpu], 1, __ATOMIC_RELEASE);
    asm volatile("sync" ::: "memory"); // what the kicked CPU is to see comes before the kick
    if (__atomic_load_n(&powernv::polling[cpu], __ATOMIC_RELAXED)) return; // it sees the flag
    __atomic_store_n(&powernv::ipi_sent[cpu], 1, __ATOMIC_RELAXED);
    asm volatile("sync" ::: "memory"); // the flag before the IPI (idle_cpu, ack_kick)
    powernv::stbcix(powernv::cpus[cpu].icp + powernv::kMfrr, powernv::kKickPriority);
}

void ack_kick() {
    const u32 self = arch::cpu_index();
    __atomic_store_n(&powernv::ipi_sent[self], 0, __ATOMIC_RELAXED);
    asm volatile("sync" ::: "memory"); // cleared before the look: a later kick sets it again
    const u64 icp = powernv::cpus[self].icp;
    if (icp == 0 || (powernv::lwzcix(icp + powernv::kXirrPoll) & 0xffffff) == 0) return;
    const u32 xirr = powernv::lwzcix(icp + powernv::kXirr);
    if ((xirr & 0xffffff) == powernv::kIpiSource) powernv::stbcix(icp + powernv::kMfrr, 0xff);
    powernv::stwcix(icp + powernv::kXirr, xirr); // EOI: CPPR back to what it was
}

void idle_cpu(u64 until) {
    using powernv::kicked, powernv::polling, powernv::ipi_sent;
    const u32 self = arch::cpu_index();
    const u64 now = arch::timebase();
    if (until != 0 && until <= now) return;
    // Poll first (the thread at low priority), then nap.
    const u64 hz = timebase_hz() ? timebase_hz() : 512'000'000;
    u64 poll_end = now + hz / 1'000'000 * powernv::kPollUs;
    if (until != 0 && until < poll_end) poll_end = until;
    __atomic_store_n(&polling[self], 1, __ATOMIC_RELAXED);
    asm volatile("sync" ::: "memory");
    asm volatile("or 1,1,1" ::: "memory"); // HMT_low
    while (__atomic_load_n(&kicked[self], __ATOMIC_ACQUIRE) == 0 &&
           static_cast<i64>(arch::timebase() - poll_end) < 0) {
    }
    asm volatile("or 2,2,2" ::: "memory"); // HMT_medium
    __atomic_store_n(&polling[self], 0, __ATOMIC_RELAXED);
    asm volatile("sync" ::: "memory"); // the store above before the load below (kick_cpu)
    bool napped = false;
    if (__atomic_load_n(&kicked[self], __ATOMIC_ACQUIRE) == 0) {
        const u64 t = arch::timebase();
        if (until != 0 && until <= t) return;
        arch::nap(until == 0 ? 0 : until - t); // DEC counts timebase ticks
        napped = true;
    }
    __atomic_store_n(&kicked[self], 0, __ATOMIC_RELAXED);
    // The ICP's IPI, if kick_cpu sent one (this CPU was not polling yet). Even reading the XIRR
    // to see whether one is there is an MMIO access under QEMU (its slow path, 1-2 us), and a
    // kick that finds the CPU polling sends none. After a nap it always looks: a kick racing
    // with an earlier ack_kick may have left an IPI pending with the flag cleared, and that IPI
    // would end every later nap at once.
    if (napped || __atomic_load_n(&ipi_sent[self], __ATOMIC_ACQUIRE)) ack_kick();
}

} // namespace tessera::plat
