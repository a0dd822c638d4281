// The PC's CMOS real-time clock (MC146818 registers through ports 0x70/0x71), read once at boot.
#include "common/wall_clock.hpp"

#include <arch/io.hpp>
#include <tessera/arch.hpp>

namespace tessera {
namespace {

constexpr u16 kIndexPort = 0x70, kDataPort = 0x71;
constexpr u8 kNmiDisable = 0x80; // keep NMIs masked while the index is set
enum Reg : u8 {
    kSeconds = 0x00,
    kMinutes = 0x02,
    kHours = 0x04,
    kDay = 0x07,
    kMonth = 0x08,
    kYear = 0x09,
    kStatusA = 0x0a,
    kStatusB = 0x0b,
    kCentury = 0x32, // where QEMU and PC firmware keep it
};
constexpr u8 kUpdateInProgress = 0x80; // status A
constexpr u8 kBinaryMode = 0x04;       // status B: values are binary, not BCD
constexpr u8 kHours24 = 0x02;          // status B: 24-hour clock
constexpr u8 kPm = 0x80;               // the hours register in 12-hour mode

u8 cmos(u8 reg) {
    arch::outb(kIndexPort, kNmiDisable | reg);
    return arch::inb(kDataPort);
}

struct Raw {
    u8 sec, min, hour, day, month, year, century;
    bool operator==(const Raw&) const = default;
};

Raw read_raw() {
    // Wait out an update (at most ~2 ms on real hardware; bounded here).
    for (int i = 0; i < 100000 && (cmos(kStatusA) & kUpdateInProgress); ++i) {
    }
    return Raw{cmos(kSeconds), cmos(kMinutes), cmos(kHours),  cmos(kDay),
               cmos(kMonth),   cmos(kYear),    cmos(kCentury)};
}

u32 from_bcd(u8 v) {
    return (v >> 4) * 10u + (v & 0xfu);
}

} // namespace

bool plat::rtc_read(u64& seconds) {
    // Read until two readings agree, so that none straddles an update.
    Raw a = read_raw(), b = read_raw();
    for (int i = 0; i < 10 && !(a == b); ++i) {
        a = b;
        b = read_raw();
    }
    if (!(a == b)) return false;
    const u8 status_b = cmos(kStatusB);
    const bool bcd = !(status_b & kBinaryMode);
    auto value = [bcd](u8 v) { return bcd ? from_bcd(v) : u32{v}; };
    u32 hour = value(static_cast<u8>(a.hour & ~kPm));
    if (!(status_b & kHours24)) hour = hour % 12 + ((a.hour & kPm) ? 12 : 0);
    const u32 century = a.century != 0 ? value(a.century) : 20;
    Date d{century * 100 + value(a.year),
           value(a.month),
           value(a.day),
           hour,
           value(a.min),
           value(a.sec)};
    if (!valid_date(d)) return false;
    seconds = seconds_of(d);
    return true;
}

void plat::service_firmware() {} // no firmware runs beside the hypervisor on pc

} // namespace tessera
