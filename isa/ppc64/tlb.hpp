// The real TLB invalidation for the HTAB (hypervisor image only; host tests give the Htab a
// recording TlbHook instead). Power ISA v2.07 / POWER8, hypervisor state.
//
//   ptesync            HPTE stores (V=0) visible to the table walk before the invalidation
//   tlbie rb,rs        for each translation: RB from tlbie_rb(), RS = the LPAR's LPID
//   eieio; tlbsync     wait until every processor finished the invalidations...
//   ptesync            ...and they are ordered before what follows (reusing the slot, R/C reads)
#pragma once

#if !defined(TESSERA_FREESTANDING) || !defined(__powerpc64__)
#error "isa/ppc64/tlb.hpp is for the ppc64 hypervisor image only"
#endif

#include <tessera/types.hpp>

#include "isa/ppc64/htab.hpp"

namespace tessera::arch {

// One global (broadcast) invalidation sequence for the list (isa/ppc64/lpar.cpp's hook uses it
// when another CPU may hold the translations).
inline void tlbie_invalidate(const TlbInvalidation* list, usize count) {
    asm volatile("ptesync" ::: "memory");
    for (usize i = 0; i < count; ++i) {
        const u64 rb = list[i].rb;
        const u64 rs = list[i].lpid;
        asm volatile("tlbie %0,%1" : : "r"(rb), "r"(rs) : "memory");
    }
    asm volatile("eieio; tlbsync; ptesync" ::: "memory");
}

// The same invalidations in this processor's TLB only (tlbiel: RB as for tlbie, the LPID is
// LPIDR's). For a caller that knows no other processor may hold the translations now.
inline void tlbiel_invalidate(const TlbInvalidation* list, usize count) {
    asm volatile("ptesync" ::: "memory");
    for (usize i = 0; i < count; ++i) asm volatile("tlbiel %0" : : "r"(list[i].rb) : "memory");
    asm volatile("ptesync" ::: "memory");
}

// POWER8 TLB: 512 congruence classes (sets).
inline constexpr u32 kPower8TlbSets = 512;

// Drops every TLB entry of the LPID in LPIDR from THIS processor's TLB (tlbiel IS=0b10, one per
// set). Use when an LPID is given to a new LPAR: run it on every processor that ran the old one,
// with LPIDR set to that LPID, before entering the new guest (as Linux KVM does on POWER8).
inline void tlbiel_flush_current_lpid(u32 sets = kPower8TlbSets) {
    constexpr u64 kIsLpid = u64{2} << 10; // RB IS field (IBM bits 52:53) = 0b10
    asm volatile("ptesync" ::: "memory");
    for (u64 set = 0; set < sets; ++set) {
        const u64 rb = (set << 12) | kIsLpid;
        asm volatile("tlbiel %0" : : "r"(rb) : "memory");
    }
    asm volatile("ptesync" ::: "memory");
}

} // namespace tessera::arch
