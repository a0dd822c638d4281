// The ISA hooks of the soak LPAR (tests/lpar/programs/soak.cpp): a fault on purpose that the
// hypervisor must reflect to this LPAR's own handler, which counts it and resumes after the
// faulting instruction (ppc64: an illegal instruction, Program interrupt 0x700; ia32: ud2, #UD).
#pragma once

#include "lpar.hpp"

namespace lpar::isa {

void soak_prepare();    // installs the handler
void soak_fault();      // executes the faulting instruction once; returns after it
u64 soak_faults_seen(); // faults the handler counted
const char* soak_fault_name();

} // namespace lpar::isa
