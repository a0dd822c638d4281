// The machine's real-time clock through OPAL_RTC_READ (on QEMU powernv: the BMC's clock, which
// skiboot reads over IPMI, so the first calls answer "busy" while the request is in flight).
#include "common/wall_clock.hpp"
#include "plat/powernv/opal.hpp"

#include <tessera/arch.hpp>

namespace tessera {
namespace {

u32 from_bcd(u32 v) {
    return (v >> 4) * 10u + (v & 0xfu);
}

} // namespace

bool plat::rtc_read(u64& seconds) {
    if (!opal::available()) return false;
    // OPAL writes year-month-day as a big-endian u32 of BCD digits YYYYMMDD, and the time as a
    // big-endian u64 whose top bytes are BCD HH, MM, SS.
    const u64 give_up = arch::timebase() + 5 * timebase_hz();
    for (;;) {
        u32 ymd_be = 0;
        u64 hms_be = 0;
        const i64 rc = opal_call(opal::RTC_READ, reinterpret_cast<uptr>(&ymd_be),
                                 reinterpret_cast<uptr>(&hms_be));
        if (rc == opal::SUCCESS) {
            const u32 ymd = __builtin_bswap32(ymd_be);
            const u64 hms = __builtin_bswap64(hms_be);
            Date d{from_bcd(ymd >> 24) * 100 + from_bcd((ymd >> 16) & 0xff),
                   from_bcd((ymd >> 8) & 0xff),
                   from_bcd(ymd & 0xff),
                   from_bcd(static_cast<u32>(hms >> 56) & 0xff),
                   from_bcd(static_cast<u32>(hms >> 48) & 0xff),
                   from_bcd(static_cast<u32>(hms >> 40) & 0xff)};
            if (!valid_date(d)) return false;
            seconds = seconds_of(d);
            return true;
        }
        if ((rc != opal::BUSY && rc != opal::BUSY_EVENT) || arch::timebase() > give_up)
            return false;
        opal_call(opal::POLL_EVENTS, 0);
    }
}

} // namespace tessera
