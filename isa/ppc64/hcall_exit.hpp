// Running one hcall for a vcpu whose `sc 1` just brought the CPU back: the ABI is r3 = number,
// r4..r12 = arguments in its saved registers; r3 = status, r4..r12 = returns. Shared by the run
// loop (isa/ppc64/run.cpp) and the page-table hcalls answered inside the exit path
// (isa/ppc64/hcall_exit.cpp). Lock: the core lock.
#pragma once

#include "common/lpar.hpp"
#include "hcall/dispatch.hpp"

namespace tessera::arch {

// Runs the hcall in v's saved registers and writes its results there; returns what the
// scheduler must do after it (hcall::Env::after).
hcall::After run_hcall(Vcpu& v);

} // namespace tessera::arch
