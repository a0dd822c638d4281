// The guest's own paging, read by the hypervisor: a software walk of its 2-level (non-PAE)
// page tables in logical memory that checks permissions and sets Accessed/Dirty as the CPU
// would, and copies through guest-virtual addresses that fail cleanly instead of faulting
// (hcall blocks, bounce frames, instruction bytes, descriptor tables).
#pragma once

#include "common/lpar.hpp"

#include <arch/state.hpp>

namespace tessera::arch {

// Page-table entry bits (both levels) and page-fault error-code bits.
inline constexpr u32 kPteP = 1u << 0, kPteW = 1u << 1, kPteU = 1u << 2, kPteA = 1u << 5,
                     kPteD = 1u << 6, kPtePs = 1u << 7, kPteG = 1u << 8;
inline constexpr u32 kPteFrame = 0xfffff000u, kPdeLargeFrame = 0xffc00000u;
inline constexpr u32 kPfP = 1u << 0, kPfW = 1u << 1, kPfU = 1u << 2, kPfRsvd = 1u << 3;

struct Translation {
    bool ok = false;
    u32 logical = 0; // the logical address va maps to (ok)
    u32 error = 0;   // the page-fault error code the guest must see (!ok)
    bool writable = false, user = false, global = false, large = false, dirty = false;
};

// Translates va for an access described by error-code bits (kPfW: write, kPfU: from ring 3).
// Paging off: logical = va. Faults: not present (P = 0) or a permission the guest's entries do
// not grant (P = 1), both with the access bits; and P | RSVD where the guest's tables or the
// page itself are outside the LPAR's logical memory, or va lies in the hypervisor's last 4 MiB
// (X86_SWITCHER_VA): what exists of the machine for the guest ends there. Sets A in both levels
// and, for writes, D in the last one, unless `probe` (no side effects).
Translation guest_translate(Lpar& lpar, const GuestControl& ctl, u32 va, u32 access,
                            bool probe = false);

// Sets Accessed in the guest's page-table entry at logical address `la`, read as `entry`, as a
// CPU does when it caches a translation, speculative ones included (a TLB may hold the
// translation of any page the tables map, and sets A before it does). False when the entry
// changed since it was read (another vcpu wrote it): nothing written.
bool guest_mark_accessed(Lpar& lpar, u32 la, u32 entry);

// The logical address the vcpu reaches at `logical`, a frame its (paging-on) tables name: the
// same, except on the page of its H_IA32_SET_VIRQ alias, which it sees as its flags' own page.
// Applied by shadow fills and guest_read/guest_write, so the vcpu and the hypervisor agree.
u32 vcpu_logical(const Vcpu& v, u32 logical);

struct GuestFault {
    u32 va = 0;
    u32 error = 0;
};
// Copies through the vcpu's current translation at supervisor privilege (user = false) or as
// ring 3 would (user = true). False (and *fault, when given, says where) at the first page that
// does not translate; a failed write may have written the pages before it.
bool guest_read(Vcpu& v, u32 va, void* dst, usize len, GuestFault* fault = nullptr,
                bool user = false);
bool guest_write(Vcpu& v, u32 va, const void* src, usize len, GuestFault* fault = nullptr,
                 bool user = false);
// Where the hypervisor can read `len` bytes at va in place, as guest_read would at supervisor
// privilege, when they lie in one page that translates; else nullptr (use guest_read). Valid
// until the hypervisor next changes the LPAR's memory or the vcpu's shadow; another vcpu may
// write there meanwhile (read each value once and check it as it was read).
const u8* guest_read_ptr(Vcpu& v, u32 va, usize len);

} // namespace tessera::arch
