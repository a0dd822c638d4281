// The guest's view of the POWER8 hashed page table, written from the Power ISA and PAPR (not
// from the hypervisor's isa/ppc64/htab.hpp, so that the two are checked against each other):
// HPTE bits, the page-size encodings Tessera accepts, the hash, SLB entries, PAPR flags, and
// accesses made with data relocation on.
#pragma once

#include <tessera/types.hpp>

#include <lpar_isa.hpp>

namespace lpar::mmu {

using tessera::u32;
using tessera::u64;

constexpr u64 ibm_bit(u32 n) {
    return u64{1} << (63 - n);
}

// ---- HPTE doubleword 0 ("pteh", "v") ------------------------------------------------------
inline constexpr u64 kHpteValid = 1;
inline constexpr u64 kHpteSecondary = 2;         // H: in its secondary group
inline constexpr u64 kHpteLarge = 4;             // L
inline constexpr u64 kHpteAvpnMask = ~u64{0x7f}; // B + AVPN: what H_AVPN compares
inline constexpr unsigned kHpteAvpnShift = 7;
// ---- doubleword 1 ("ptel", "r") -------------------------------------------------------------
inline constexpr u64 kHpteRpn = 0x0ffffffffffff000;
inline constexpr u64 kHpteRef = 0x100;
inline constexpr u64 kHpteChange = 0x80;
inline constexpr u64 kHpteM = 0x10; // memory coherence: WIMG = 0010 for ordinary memory
inline constexpr u64 kHpteI = 0x20;
inline constexpr u64 kHpteG = 0x08;
inline constexpr u64 kHpteNoExec = 0x4;
inline constexpr u64 kHptePp = 0x3; // pp1:pp2 (pp0 = 0): 00 read/write, 11 read-only
inline constexpr u64 kHptePpReadOnly = 0x3;
inline constexpr u64 kLp64K = 0x1000;      // 64K page in a 64K segment: LP = 0001 in bits 12..15
inline constexpr u64 kLp16MIn64K = 0x8000; // 16M page in a 64K segment (MPSS): LP = 0x08

// ---- Pages and segments ---------------------------------------------------------------------
struct PageSize {
    unsigned shift;
    bool large;  // HPTE L bit
    u64 lp;      // LP bits in ptel
    u64 slb_llp; // SLB L||LP flags of a segment with this base page size
};
inline constexpr PageSize kPage4K{12, false, 0, 0x000};
inline constexpr PageSize kPage64K{16, true, kLp64K, 0x110};
inline constexpr PageSize kPage16M{24, true, 0, 0x100};

inline constexpr unsigned kSegmentShift = 28; // 256 MB segments only
inline constexpr u64 kSegmentOffset = (u64{1} << kSegmentShift) - 1;

// The virtual address of `ea` in the 256M segment `vsid`, and the HPTE fields derived from it.
constexpr u64 va(u64 vsid, u64 ea) {
    return vsid << kSegmentShift | (ea & kSegmentOffset);
}
constexpr u64 hash(u64 vsid, u64 ea, const PageSize& p) {
    return (vsid ^ ((ea & kSegmentOffset) >> p.shift)) & ((u64{1} << 39) - 1);
}
// pteh for a page of size p at ea (B = 256M, V set; AVPN = VA >> 23, without the page-offset
// bits for pages of 16M and more).
constexpr u64 pteh(u64 vsid, u64 ea, const PageSize& p, bool secondary = false) {
    u64 avpn = va(vsid, ea) >> 23;
    if (p.shift > 23) avpn &= ~((u64{1} << (p.shift - 23)) - 1);
    return avpn << kHpteAvpnShift | (p.large ? kHpteLarge : 0) | (secondary ? kHpteSecondary : 0) |
           kHpteValid;
}
// ptel for logical address `la` (page aligned) with protection `pp`, WIMG = M.
constexpr u64 ptel(u64 la, const PageSize& p, u64 pp = 0) {
    return (la & kHpteRpn) | p.lp | kHpteM | pp;
}

// SLB entry operands (slbmte RS, RB) for a 256M segment.
constexpr u64 slb_esid(u64 ea, unsigned slot) {
    return (ea & ~kSegmentOffset) | 0x08000000 /* V */ | slot;
}
constexpr u64 slb_vsid(u64 vsid, const PageSize& p) {
    return vsid << 12 | p.slb_llp; // Ks = Kp = 0, N = 0, C = 0
}

// ---- PAPR hcall flags -------------------------------------------------------------------------
inline constexpr u64 kEnterExact = ibm_bit(24);    // H_EXACT
inline constexpr u64 kReadLogical = ibm_bit(25);   // H_R_XLATE
inline constexpr u64 kReadFour = ibm_bit(26);      // H_READ_4
inline constexpr u64 kAvpn = ibm_bit(32);          // H_AVPN
inline constexpr u64 kAndCond = ibm_bit(33);       // H_ANDCOND
inline constexpr u64 kEnterZeroPage = ibm_bit(48); // H_ZERO_PAGE
// H_PROTECT's new pp1:pp2 in the flags (as Linux's plpar_pte_protect).
inline constexpr u64 kProtectPp = 0x3;
// H_BULK_REMOVE translation specifiers.
inline constexpr u64 kBulkType = u64{3} << 62;
inline constexpr u64 kBulkRequest = u64{1} << 62;
inline constexpr u64 kBulkResponse = u64{2} << 62;
inline constexpr u64 kBulkEnd = u64{3} << 62;
inline constexpr u64 kBulkCode = u64{3} << 60;
inline constexpr u64 kBulkSuccess = u64{0} << 60;
inline constexpr u64 kBulkNotFound = u64{1} << 60;
inline constexpr u64 kBulkParam = u64{2} << 60;
inline constexpr u64 kBulkRef = u64{1} << 59;
inline constexpr u64 kBulkChange = u64{1} << 58;
inline constexpr u64 kBulkAbsolute = u64{0} << 56;
inline constexpr u64 kBulkAndCond = u64{1} << 56;
inline constexpr u64 kBulkAvpnMode = u64{2} << 56;
inline constexpr u64 kBulkPtex = (u64{1} << 56) - 1;

// ---- SLB -------------------------------------------------------------------------------------
inline void slbia() {
    asm volatile("slbia; isync" ::: "memory");
}
inline void slbmte(u64 vsid_data, u64 esid_data) {
    asm volatile("slbmte %0, %1; isync" ::"r"(vsid_data), "r"(esid_data) : "memory");
}
inline u64 slbmfee(u64 slot) {
    u64 v;
    asm volatile("slbmfee %0, %1" : "=r"(v) : "r"(slot));
    return v;
}

// ---- Accesses with MSR[DR] = 1 (instruction fetch stays in real mode) -----------------------
// The access is a single instruction between the two mtmsrd: a DSI/DSegI handler may skip it
// (srr0 += 4); the value loaded is then `poison`.
inline u64 load_virtual(u64 ea, u64 poison = 0xdeaddeaddeaddeadull) {
    u64 old, dr, v = poison;
    asm volatile("mfmsr %0\n\t"
                 "ori %1, %0, 0x10\n\t"
                 "mtmsrd %1\n\t"
                 "isync\n\t"
                 "ld %2, 0(%3)\n\t"
                 "mtmsrd %0\n\t"
                 "isync"
                 : "=&r"(old), "=&r"(dr), "+&r"(v)
                 : "b"(ea)
                 : "memory");
    return v;
}
inline void store_virtual(u64 ea, u64 value) {
    u64 old, dr;
    asm volatile("mfmsr %0\n\t"
                 "ori %1, %0, 0x10\n\t"
                 "mtmsrd %1\n\t"
                 "isync\n\t"
                 "std %2, 0(%3)\n\t"
                 "mtmsrd %0\n\t"
                 "isync"
                 : "=&r"(old), "=&r"(dr)
                 : "r"(value), "b"(ea)
                 : "memory");
}
// Real-mode (logical) accesses that a handler may skip the same way.
inline u64 load_real(u64 la, u64 poison = 0xdeaddeaddeaddeadull) {
    u64 v = poison;
    asm volatile("ld %0, 0(%1)" : "+r"(v) : "b"(la) : "memory");
    return v;
}
inline void store_real(u64 la, u64 value) {
    asm volatile("std %0, 0(%1)" ::"r"(value), "b"(la) : "memory");
}

} // namespace lpar::mmu
