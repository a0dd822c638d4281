// ppc64 soak hooks (tests/lpar/lib/soak_isa.hpp): an illegal instruction (word 0), which the
// hypervisor reflects as the LPAR's own Program interrupt.
#include "soak_isa.hpp"

namespace lpar::isa {
namespace {

u64 faults = 0;

void on_program(TrapFrame& f) {
    fetch_add(faults, u64{1});
    trap_skip(f);
}

} // namespace

void soak_prepare() {
    set_trap_handler(kVecProgram, on_program);
}

void soak_fault() {
    asm volatile(".long 0" ::: "memory");
}

u64 soak_faults_seen() {
    return load_acquire(faults);
}

const char* soak_fault_name() {
    return "illegal instruction (Program 0x700)";
}

} // namespace lpar::isa
