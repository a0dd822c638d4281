// OPAL (skiboot's runtime firmware interface) as the powernv platform uses it.
#pragma once

#include <tessera/types.hpp>

namespace tessera::opal {

// OPAL call tokens (skiboot include/opal-api.h numbering).
enum Token : u64 {
    CONSOLE_WRITE = 1,
    CONSOLE_READ = 2,
    RTC_READ = 3,
    CEC_POWER_DOWN = 5,
    CEC_REBOOT = 6,
    POLL_EVENTS = 10,
    START_CPU = 41,
    QUERY_CPU_STATUS = 42,
    REINIT_CPUS = 70,
};

// OPAL_REINIT_CPUS flags.
inline constexpr u64 kReinitHileLe = 2; // hypervisor interrupts little-endian

enum Status : i64 {
    SUCCESS = 0,
    PARAMETER = -1,
    BUSY = -2,
    HARDWARE = -6,
    INTERNAL_ERROR = -11,
    BUSY_EVENT = -12,
    WRONG_STATE = -14,
};

void init(u64 base, u64 entry);
bool available();

} // namespace tessera::opal

extern "C" tessera::i64 opal_call(tessera::u64 token, tessera::u64 a0 = 0, tessera::u64 a1 = 0,
                                  tessera::u64 a2 = 0, tessera::u64 a3 = 0, tessera::u64 a4 = 0,
                                  tessera::u64 a5 = 0);
