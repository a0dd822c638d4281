// What the fake platform (tests/fake/plat_fake.cpp) lets a unit test observe and control.
#pragma once

#include <deque>
#include <string>
#include <tessera/arch.hpp>

namespace tessera::fake {
extern std::string console_out;     // everything written to the machine console
extern std::deque<char> console_in; // bytes the machine console will return, in order
extern bool rtc_present;            // whether plat::rtc_read finds a clock
extern u64 rtc_seconds;             // what it reads then
extern unsigned firmware_services;  // how often plat::service_firmware was called
} // namespace tessera::fake
