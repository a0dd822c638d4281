// Segment descriptors as ia32 test LPARs build them (the ia32 LPAR's own GDT, the soak's
// GDT attacks), and `lar`, which shows what the CPU has for a selector: the check that a
// descriptor handed to the hypervisor with lgdt reached the real GDT, raised or not at all.
#pragma once

#include <lpar_isa.hpp>

namespace lpar::isa {

using tessera::u8;

// A code/data or system descriptor: base, 20-bit limit, access byte, flags nibble (G, D/B).
constexpr u64 descriptor(u32 base, u32 limit, u8 access, u8 flags) {
    return (limit & 0xffff) | (u64{base & 0xffffff} << 16) | (u64{access} << 40) |
           (u64{(limit >> 16) & 0xf} << 48) | (u64{flags} << 52) | (u64{base >> 24} << 56);
}

// lar from ring 1: the access-rights bytes of the selector's descriptor as the CPU has it, or
// false (ZF clear: no descriptor lar may look at).
inline bool lar(u32 sel, u32& rights) {
    u32 r = 0;
    u8 ok = 0;
    asm volatile("lar %2, %0\n\tsetz %1" : "=r"(r), "=q"(ok) : "r"(sel) : "cc");
    rights = r;
    return ok != 0;
}

// The switcher's change of the TLS entries (int $0x85, isa/ia32/gdt_rows.hpp), the three
// descriptors of GDT entries 6-8 as written: 0 when it loaded a GDT row with them, 1 when it
// changed nothing.
inline u32 switcher_tls(const u64 (&tls)[3]) {
    u32 status = static_cast<u32>(tls[0]);
    asm volatile("int $0x85"
                 : "+a"(status)
                 : "b"(static_cast<u32>(tls[0] >> 32)), "c"(static_cast<u32>(tls[1])),
                   "d"(static_cast<u32>(tls[1] >> 32)), "S"(static_cast<u32>(tls[2])),
                   "D"(static_cast<u32>(tls[2] >> 32))
                 : "memory");
    return status;
}

} // namespace lpar::isa
