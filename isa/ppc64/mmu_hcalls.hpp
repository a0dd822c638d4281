// The PAPR page-table hcalls (hcall-pft, hcall-bulk) over one LPAR's HTAB:
// H_ENTER, H_REMOVE, H_READ, H_PROTECT, H_BULK_REMOVE, H_CLEAR_REF, H_CLEAR_MOD.
//
// The guest gives LOGICAL page numbers; H_ENTER translates them through the LPAR's chunks and
// stores REAL addresses in the HPTE, so an entry can never reach memory outside the LPAR.
// H_READ / H_REMOVE / H_CLEAR_* return the entry as it is in the table (real RPN), H_READ with
// H_R_XLATE the logical one. Every change to a valid entry is preceded by exactly one TLB
// invalidation (through the Htab's TlbHook). Bad input gets H_PARAMETER (flags, index, page-size
// encoding, segment size, address outside the LPAR, WIMG other than M=1 for memory),
// H_NOT_FOUND (no valid entry matching the AVPN/ANDCOND condition) or H_PTEG_FULL.
//
// Register use (Frame::args = r4.., Frame::rets = r4.. on return):
//   H_ENTER       flags, pte index, pteh, ptel      -> rets[0] = pte index used
//   H_REMOVE      flags, pte index, avpn            -> rets[0..1] = old pteh, ptel (final R/C)
//   H_READ        flags, pte index                  -> rets[0..1], or rets[0..7] with H_READ_4
//   H_PROTECT     flags (new pp0/pp/N/key), pte index, avpn
//   H_BULK_REMOVE 4 x (translation specifier high, low) in args[0..7] -> responses in rets[0..7]
//   H_CLEAR_REF   flags, pte index                  -> rets[0] = ptel before clearing R
//   H_CLEAR_MOD   flags, pte index                  -> rets[0] = ptel before clearing C
#pragma once

#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include "common/chunks.hpp"
#include "hcall/dispatch.hpp"
#include "isa/ppc64/htab.hpp"

namespace tessera::arch {

// PAPR flag bits (IBM bit n of the 64-bit flags register is 1 << (63 - n)).
namespace papr {
constexpr u64 ibm_bit(u32 n) {
    return u64{1} << (63 - n);
}

inline constexpr u64 H_EXACT = ibm_bit(24);   // H_ENTER: use exactly the slot given
inline constexpr u64 H_R_XLATE = ibm_bit(25); // H_READ: logical instead of real RPN
inline constexpr u64 H_READ_4 = ibm_bit(26);  // H_READ: 4 entries from index & ~3
inline constexpr u64 H_AVPN = ibm_bit(32);    // remove/protect only if B||AVPN match
inline constexpr u64 H_ANDCOND = ibm_bit(33); // remove only if (pteh & avpn) == 0
inline constexpr u64 H_LOCAL = ibm_bit(35);   // hint: translation used by this CPU only
inline constexpr u64 H_ICACHE_INVALIDATE = ibm_bit(40);
inline constexpr u64 H_ICACHE_SYNCHRONIZE = ibm_bit(41);
inline constexpr u64 H_COALESCE_CAND = ibm_bit(42);
inline constexpr u64 H_ZERO_PAGE = ibm_bit(48); // H_ENTER: zero the page before mapping it

// H_PROTECT: the new protection bits in the flags register (Linux's plpar_pte_protect).
inline constexpr u64 kProtectPp = 0x3;       // pp1:pp2 -> HPTE bits 0..1
inline constexpr u64 kProtectN = 0x4;        // N -> HPTE bit 2
inline constexpr u64 kProtectPp0 = 0x100;    // pp0 (IBM 55) -> HPTE bit 63
inline constexpr u64 kProtectKeyLo = 0xe00;  // key 2:4 -> HPTE bits 9..11
inline constexpr u64 kProtectKeyHi = 0x3000; // key 0:1 -> HPTE bits 60..61

// H_BULK_REMOVE translation specifier high doubleword.
inline constexpr u64 kBulkType = u64{3} << 62;
inline constexpr u64 kBulkRequest = u64{1} << 62;
inline constexpr u64 kBulkResponse = u64{2} << 62;
inline constexpr u64 kBulkEnd = u64{3} << 62;
inline constexpr u32 kBulkCodeShift = 60;
inline constexpr u64 kBulkCode = u64{3} << kBulkCodeShift;
inline constexpr u64 kBulkSuccess = u64{0} << kBulkCodeShift;
inline constexpr u64 kBulkNotFound = u64{1} << kBulkCodeShift;
inline constexpr u64 kBulkParm = u64{2} << kBulkCodeShift;
inline constexpr u64 kBulkHw = u64{3} << kBulkCodeShift;
inline constexpr u64 kBulkRefBit = u64{1} << 59;    // response: R of the removed entry
inline constexpr u64 kBulkChangeBit = u64{1} << 58; // response: C of the removed entry
inline constexpr u32 kBulkFlagsShift = 56;
inline constexpr u64 kBulkFlags = u64{3} << kBulkFlagsShift;
inline constexpr u64 kBulkAbsolute = u64{0} << kBulkFlagsShift;
inline constexpr u64 kBulkAndcond = u64{1} << kBulkFlagsShift;
inline constexpr u64 kBulkAvpn = u64{2} << kBulkFlagsShift;
inline constexpr u64 kBulkPtex = (u64{1} << 56) - 1;
inline constexpr usize kBulkMax = 4;
} // namespace papr

// What the handlers work on: the LPAR's HTAB (ready) and its logical memory.
struct MmuContext {
    Htab& htab;
    const LogicalMap& memory;
};

hcall::Ret h_enter(MmuContext& m, hcall::Frame& f);
hcall::Ret h_remove(MmuContext& m, hcall::Frame& f);
hcall::Ret h_read(MmuContext& m, hcall::Frame& f);
hcall::Ret h_protect(MmuContext& m, hcall::Frame& f);
hcall::Ret h_bulk_remove(MmuContext& m, hcall::Frame& f);
hcall::Ret h_clear_ref(MmuContext& m, hcall::Frame& f);
hcall::Ret h_clear_mod(MmuContext& m, hcall::Frame& f);

// Runs page-table hcall f.opcode (one of the above; H_FUNCTION otherwise) by direct calls, which
// the compiler inlines with everything they call: the exit path's way to them
// (isa/ppc64/hcall_exit.cpp). The dispatch table's entries (<arch/hcalls.hpp>) are the same
// handlers.
hcall::Ret run_htab_hcall(MmuContext& m, hcall::Frame& f);

// The logical address of real address `real` in the LPAR, if one of its chunks holds it.
Optional<LogicalAddr> real_to_logical(const LogicalMap& memory, RealAddr real);

} // namespace tessera::arch
