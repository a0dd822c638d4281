// What the fake platform (tests/fake/plat_fake.cpp) lets a unit test observe and control.
#pragma once

#include <deque>
#include <string>
#include <tessera/arch.hpp>

namespace tessera::fake {
extern std::string console_out;     // everything written to the machine console
extern std::deque<char> console_in; // bytes the machine console will return, in order
} // namespace tessera::fake
