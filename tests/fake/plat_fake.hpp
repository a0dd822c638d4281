// What the fake platform (tests/fake/plat_fake.cpp) lets a unit test observe and control.
#pragma once

#include <atomic>
#include <deque>
#include <string>
#include <tessera/arch.hpp>
#include <vector>

namespace tessera::fake {
extern std::string console_out;     // everything written to the machine console
extern u64 console_writes;          // plat::console_write calls
extern std::deque<char> console_in; // bytes the machine console will return, in order
extern bool rtc_present;            // whether plat::rtc_read finds a clock
extern u64 rtc_seconds;             // what it reads then
extern unsigned firmware_services;  // how often plat::service_firmware was called
extern u32 machine_cpus;            // what plat::cpu_count returns (1 unless a test changes it)
extern std::vector<u32> kicks;      // the CPUs plat::kick_cpu was called for, in order
// plat::idle_cpu ends the calling thread once this is set (threads that play secondary CPUs in
// secondary_main, which never returns).
extern std::atomic<bool> secondaries_exit;
} // namespace tessera::fake
