// Faults on purpose in ring 1 (the ia32 LPAR's checks, the soak's page-table attacks): a
// probe stores where to resume in g_recover before the instruction that may fault; the
// program's trap handler calls `recover`, which sends the faulting ring-1 code there.
// `try_read`/`try_write` say whether the access went through.
#pragma once

#include <lpar_isa.hpp>

namespace lpar::isa {

inline u32 g_recover = 0;   // resume here after a fault in ring 1 (0: a fault is unexpected)
inline u32 g_recovered = 0; // faults `recover` resumed from

// In a trap handler: resumes at g_recover if a probe set it; false if none did.
inline bool recover(TrapFrame& f) {
    if (g_recover == 0) return false;
    f.eip = g_recover;
    g_recover = 0;
    g_recovered = g_recovered + 1;
    return true;
}

inline bool try_read(u32 va, u32& value) {
    const u32 before = g_recovered;
    u32 v = 0xdeadbeef;
    asm volatile("movl $1f, %[rec]\n\t"
                 "movl (%[a]), %[v]\n"
                 "1:\n\t"
                 "movl $0, %[rec]"
                 : [v] "+r"(v), [rec] "=m"(g_recover)
                 : [a] "r"(va)
                 : "memory");
    value = v;
    return __atomic_load_n(&g_recovered, __ATOMIC_RELAXED) == before;
}

inline bool try_write(u32 va, u32 value) {
    const u32 before = g_recovered;
    asm volatile("movl $1f, %[rec]\n\t"
                 "movl %[v], (%[a])\n"
                 "1:\n\t"
                 "movl $0, %[rec]"
                 : [rec] "=m"(g_recover)
                 : [a] "r"(va), [v] "r"(value)
                 : "memory");
    return __atomic_load_n(&g_recovered, __ATOMIC_RELAXED) == before;
}

inline u32 read_cr2() {
    u32 v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

} // namespace lpar::isa
