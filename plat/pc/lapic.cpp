// The local APIC (plat/pc/include/plat/lapic.hpp). Register offsets and ICR bits from the
// Intel SDM vol. 3, chapter 10 (xAPIC); QEMU's TCG has no x2APIC (../shared/notes/smp.md §4).
#include "common/log.hpp"

#include <arch/x86.hpp>
#include <plat/lapic.hpp>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera::pc {
namespace {

constexpr u32 kId = 0x20, kTpr = 0x80, kEoi = 0xb0, kLdr = 0xd0, kDfr = 0xe0, kSvr = 0xf0,
              kIcrLow = 0x300, kIcrHigh = 0x310, kLvtTimer = 0x320, kLvtLint0 = 0x350,
              kLvtError = 0x370, kTimerInitial = 0x380, kTimerCurrent = 0x390, kTimerDivide = 0x3e0;
constexpr u32 kSvrEnable = 1u << 8, kLvtMasked = 1u << 16, kDivideBy1 = 0xb, kDfrFlat = ~0u;
constexpr u32 kIcrBusy = 1u << 12, kIcrAssert = 1u << 14, kIcrInit = 5u << 8, kIcrStartup = 6u << 8,
              kIcrAllButSelf = 3u << 18;

u64 g_tsc_hz = 0, g_lapic_hz = 0;
u64 g_ratio_q16 = 1u << 16; // timer ticks per TSC tick, 16.16 fixed point

u32 read(u32 reg) {
    return *reinterpret_cast<volatile u32*>(X86_LAPIC_BASE + reg);
}
void write(u32 reg, u32 v) {
    *reinterpret_cast<volatile u32*>(X86_LAPIC_BASE + reg) = v;
}

void send(u32 high, u32 low) {
    for (u32 i = 0; i < 1'000'000 && (read(kIcrLow) & kIcrBusy); ++i) asm volatile("pause");
    write(kIcrHigh, high);
    write(kIcrLow, low);
}

void delay_us(u64 us) {
    const u64 end = arch::timebase() + g_tsc_hz / 1'000'000 * us;
    while (arch::timebase() < end) asm volatile("pause");
}

} // namespace

void lapic_init_cpu(u32 index) {
    // Logical destination: bit `index` of the flat model's 8 (the watchdog's NMIs name the CPUs
    // in use so; a processor that never finished its setup keeps LDR 0 and is never named).
    write(kDfr, kDfrFlat);
    write(kLdr, (index < 8 ? 1u << index : 0u) << 24);
    write(kSvr, kSvrEnable | X86_SPURIOUS_VECTOR);
    write(kTpr, 0);
    write(kLvtLint0, kLvtMasked);
    write(kLvtError, kLvtMasked);
    write(kTimerDivide, kDivideBy1);
    write(kTimerInitial, 0);
    write(kLvtTimer, X86_LAPIC_TIMER_VECTOR); // one-shot, unmasked (initial count 0: stopped)
    write(kEoi, 0);
}

void lapic_calibrate(u64 tsc_hz) {
    g_tsc_hz = tsc_hz;
    write(kLvtTimer, kLvtMasked | X86_LAPIC_TIMER_VECTOR);
    write(kTimerInitial, 0xffffffffu);
    const u64 t0 = arch::timebase();
    const u64 span = tsc_hz ? tsc_hz / 100 : 10'000'000; // 10 ms
    while (arch::timebase() - t0 < span) asm volatile("pause");
    const u32 left = read(kTimerCurrent);
    const u64 t1 = arch::timebase();
    write(kTimerInitial, 0);
    write(kLvtTimer, X86_LAPIC_TIMER_VECTOR);
    const u64 ticks = 0xffffffffu - left;
    if (t1 > t0 && ticks > 0) {
        g_lapic_hz = tsc_hz ? ticks * tsc_hz / (t1 - t0) : 0;
        g_ratio_q16 = (ticks << 16) / (t1 - t0);
        if (g_ratio_q16 == 0) g_ratio_q16 = 1;
    }
    log("pc: local APIC timer %llu kHz (calibrated against the TSC)\n",
        static_cast<unsigned long long>(g_lapic_hz / 1000));
}

u32 lapic_id() {
    return read(kId) >> 24;
}

TESSERA_HOT void lapic_eoi() {
    write(kEoi, 0);
}

TESSERA_HOT void lapic_oneshot(u64 tsc_ticks) {
    constexpr u64 kMaxTsc = u64{1} << 40; // keeps the product below 2^64
    if (tsc_ticks > kMaxTsc) tsc_ticks = kMaxTsc;
    u64 count = (tsc_ticks * g_ratio_q16) >> 16;
    if (count < 1) count = 1;
    if (count > 0xffffffffu) count = 0xffffffffu;
    write(kTimerInitial, static_cast<u32>(count));
}

bool lapic_oneshot_running() {
    return read(kTimerCurrent) != 0;
}

void lapic_ipi(u32 apic_id, u8 vector) {
    send(apic_id << 24, kIcrAssert | vector);
}

void lapic_start_others(u8 page) {
    // The SDM's sequence: INIT, 10 ms, SIPI, 200 us, SIPI (QEMU acts at once; a second SIPI to
    // a started processor is ignored).
    send(0, kIcrAllButSelf | kIcrAssert | kIcrInit);
    delay_us(10'000);
    send(0, kIcrAllButSelf | kIcrAssert | kIcrStartup | page);
    delay_us(200);
    send(0, kIcrAllButSelf | kIcrAssert | kIcrStartup | page);
}

} // namespace tessera::pc
