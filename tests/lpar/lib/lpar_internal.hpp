// Library-internal glue between the test-LPAR library's files and the ISA stub.
#pragma once

#include "lpar.hpp"

namespace lpar {

void console_lock();
void console_unlock();

// Entered once per vcpu by the ISA's start code (after its stack is set up and, on vcpu 0, .bss
// is cleared): runs lpar_main and never returns.
[[noreturn]] void start(const Boot& boot);
// Ends the LPAR now with the current counts (no waiting for other vcpus).
[[noreturn]] void exit_lpar();

} // namespace lpar

// Called by the ISA's vector stubs with the saved context.
extern "C" void lpar_trap(lpar::isa::TrapFrame* frame);
