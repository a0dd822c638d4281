// ia32 soak hooks (tests/lpar/lib/soak_isa.hpp): ud2, which the hypervisor reflects through the
// LPAR's own IDT as #UD (vector 6).
#include "soak_isa.hpp"

namespace lpar::isa {
namespace {

constexpr u64 kUd = 6;
u64 faults = 0;

void on_ud(TrapFrame& f) {
    fetch_add(faults, u64{1});
    f.eip += 2; // ud2
}

} // namespace

void soak_prepare() {
    set_trap_handler(kUd, on_ud);
}

void soak_fault() {
    asm volatile("ud2" ::: "memory");
}

u64 soak_faults_seen() {
    return load_acquire(faults);
}

const char* soak_fault_name() {
    return "ud2 (#UD, vector 6)";
}

} // namespace lpar::isa
