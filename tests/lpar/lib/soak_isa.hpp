// The ISA hooks of the soak LPAR (tests/lpar/programs/soak.cpp): a fault on purpose that the
// hypervisor must reflect to this LPAR's own handler, which counts it and resumes after the
// faulting instruction (ppc64: an illegal instruction, Program interrupt 0x700; ia32: ud2, #UD);
// and attacks on the translation structures.
#pragma once

#include "lpar.hpp"

namespace lpar::isa {

void soak_prepare();    // installs the handler
void soak_fault();      // executes the faulting instruction once; returns after it
u64 soak_faults_seen(); // faults the handler counted
const char* soak_fault_name();

// Translation-structure attacks, a few each round for the whole soak (ppc64: HPTEs naming
// memory outside the LPAR, page sizes that do not exist, entries that must read back and
// remove exactly; ia32: GDTs full of call gates, DPL-0 and random descriptors, which must
// never reach the CPU as such). `bad` counts answers the hypervisor must not give.
struct MmuAttacks {
    u64 tries = 0;   // attacks made
    u64 refused = 0; // refused as they must be (H_PARAMETER; a gate or DPL 0 not installed)
    u64 taken = 0;   // legitimate requests honoured and checked (an HPTE entered, read, removed)
    u64 bad = 0;     // a violation: what must be refused was taken, or a check failed
    // The first violation, for the report: which attack and what the hypervisor answered.
    const char* first_bad = nullptr;
    i64 first_bad_status = 0;
    void violation(const char* what, i64 status) {
        if (bad++ == 0) {
            first_bad = what;
            first_bad_status = status;
        }
    }
};
void soak_mmu_round(Lcg& rng, const Boot& b, MmuAttacks& m);
const char* soak_mmu_name();

} // namespace lpar::isa
