#include "isa/ppc64/mmu_hcalls.hpp"

#include "common/rt/string.hpp"
#include <tessera/hot.hpp>

namespace tessera::arch {

using namespace hcall;

namespace {

constexpr u64 kEnterFlags = papr::H_EXACT | papr::H_ZERO_PAGE | papr::H_ICACHE_INVALIDATE |
                            papr::H_ICACHE_SYNCHRONIZE | papr::H_COALESCE_CAND;
constexpr u64 kRemoveFlags = papr::H_AVPN | papr::H_ANDCOND | papr::H_LOCAL;
constexpr u64 kReadFlags = papr::H_READ_4 | papr::H_R_XLATE;
constexpr u64 kProtectBits = papr::kProtectPp | papr::kProtectN | papr::kProtectPp0 |
                             papr::kProtectKeyLo | papr::kProtectKeyHi;
constexpr u64 kProtectFlags = kProtectBits | papr::H_AVPN | papr::H_LOCAL;
// The bits of ptel H_ENTER keeps besides the RPN/LP: protection, R, C, WIMG.
constexpr u64 kEnterKeep = hpte::kProtection | hpte::kRef | hpte::kChange | hpte::kWimg;

bool avpn_matches(const Hpte& e, u64 avpn) {
    return (e.v & hpte::kCompareMask) == avpn;
}

// H_CLEAR_REF / H_CLEAR_MOD: clears `bit` (R or C) of a valid entry, returns the old ptel.
TESSERA_HOT Ret clear_bit(MmuContext& m, Frame& f, u64 bit) {
    const u64 flags = f.args[0];
    const u64 ptex = f.args[1];
    if (flags != 0 || ptex >= m.htab.entry_count()) return H_PARAMETER;
    Htab::Guard g(m.htab);
    Hpte e = m.htab.load(ptex);
    if (!e.valid()) return H_NOT_FOUND;
    if (Htab::is_vrma(e)) return H_PARAMETER; // the hypervisor's, not the guest's
    if ((e.r & bit) != 0) {
        // Take the entry out of the hardware's view first: R/C are final after the tlbie, and
        // the hardware sets the bit again on the next access through a fresh translation.
        e = m.htab.invalidate(ptex);
        m.htab.store_new(ptex, Hpte{e.v, e.r & ~bit});
    }
    f.rets[0] = e.r;
    return H_SUCCESS;
}

} // namespace

Optional<LogicalAddr> real_to_logical(const LogicalMap& memory, RealAddr real) {
    for (u32 i = 0; i < memory.chunk_count(); ++i) {
        const LogicalAddr chunk(u64{i} << kChunkShift);
        const Optional<RealAddr> base = memory.chunk_real(i); // a lookup: nothing is zeroed
        if (base && real >= *base && real - *base < kChunkSize) return chunk + (real - *base);
    }
    return {};
}

TESSERA_HOT Ret h_enter(MmuContext& m, Frame& f) {
    const u64 flags = f.args[0];
    const u64 ptex = f.args[1];
    const u64 pteh = f.args[2];
    const u64 ptel = f.args[3];

    if ((flags & ~kEnterFlags) != 0 || ptex >= m.htab.entry_count()) return H_PARAMETER;
    const Optional<PageEncoding> enc = decode_page_size(pteh, ptel);
    if (!enc) return H_PARAMETER;
    const u64 segment = (pteh & hpte::kSegment) >> hpte::kSegmentShift;
    if (segment > 1 || (ptel & hpte::kReserved1) != 0) return H_PARAMETER;
    // Logical memory is ordinary coherent memory: WIMG must be 0010 (no I/O in an LPAR, and a
    // cache-inhibited alias of cacheable memory is not allowed on POWER).
    if ((ptel & hpte::kWimg) != hpte::kM) return H_PARAMETER;

    const u64 page = enc->page_size();
    const LogicalAddr la(ptel & hpte::kRpn & ~(page - 1));
    const Optional<RealAddr> real = m.memory.translate_aligned(la, page);
    if (!real) return H_PARAMETER;

    Hpte e;
    e.v = pteh | hpte::kValid;
    e.r = (ptel & kEnterKeep) | real->value() | enc->lp_bits();
    if (Htab::is_vrma(e)) return H_PARAMETER; // would alias the hypervisor's VRMA mapping

    Htab::Guard g(m.htab);
    u64 index = ptex;
    if ((flags & papr::H_EXACT) == 0) {
        const int slot = m.htab.find_free_slot(ptex >> 3);
        if (slot < 0) return H_PTEG_FULL;
        index = (ptex & ~u64{7}) + static_cast<u64>(slot);
    } else if (m.htab.load(index).valid()) {
        return H_PTEG_FULL;
    }
    if ((flags & papr::H_ZERO_PAGE) != 0) {
        void* p = m.memory.host_ptr(la, page);
        if (p == nullptr) return H_PARAMETER; // translated above, so only if not visible
        rt::mem_set(p, 0, static_cast<usize>(page));
    }
    // H_ICACHE_*: POWER8 keeps the instruction cache coherent with stores (Linux's
    // CPU_FTR_COHERENT_ICACHE), so there is nothing to do. H_COALESCE_CAND is a hint.
    m.htab.store_new(index, e);
    f.rets[0] = index;
    return H_SUCCESS;
}

TESSERA_HOT Ret h_remove(MmuContext& m, Frame& f) {
    const u64 flags = f.args[0];
    const u64 ptex = f.args[1];
    const u64 avpn = f.args[2];
    if ((flags & ~kRemoveFlags) != 0 || ptex >= m.htab.entry_count()) return H_PARAMETER;
    if ((flags & papr::H_AVPN) != 0 && (flags & papr::H_ANDCOND) != 0) return H_PARAMETER;

    Htab::Guard g(m.htab);
    const Hpte e = m.htab.load(ptex);
    if (!e.valid() || ((flags & papr::H_AVPN) != 0 && !avpn_matches(e, avpn)) ||
        ((flags & papr::H_ANDCOND) != 0 && (e.v & avpn) != 0))
        return H_NOT_FOUND;
    if (Htab::is_vrma(e)) return H_PARAMETER;
    const Hpte old = m.htab.invalidate(ptex);
    m.htab.clear(ptex);
    f.rets[0] = old.v;
    f.rets[1] = old.r;
    return H_SUCCESS;
}

TESSERA_HOT Ret h_read(MmuContext& m, Frame& f) {
    const u64 flags = f.args[0];
    u64 ptex = f.args[1];
    if ((flags & ~kReadFlags) != 0 || ptex >= m.htab.entry_count()) return H_PARAMETER;
    usize n = 1;
    if ((flags & papr::H_READ_4) != 0) {
        ptex &= ~u64{3}; // entry_count() is a multiple of 8: all four exist
        n = 4;
    }
    Htab::Guard g(m.htab);
    for (usize i = 0; i < n; ++i) {
        Hpte e = m.htab.load(ptex + i);
        if ((flags & papr::H_R_XLATE) != 0 && e.valid()) {
            const PageEncoding enc = decode_page_size(e.v, e.r).value_or(kPage4K);
            const RealAddr real(e.r & hpte::kRpn & ~(enc.page_size() - 1));
            if (const Optional<LogicalAddr> la = real_to_logical(m.memory, real))
                e.r = (e.r & ~(hpte::kRpn & ~(enc.page_size() - 1))) | la->value();
        }
        f.rets[2 * i] = e.v;
        f.rets[2 * i + 1] = e.r;
    }
    return H_SUCCESS;
}

TESSERA_HOT Ret h_protect(MmuContext& m, Frame& f) {
    const u64 flags = f.args[0];
    const u64 ptex = f.args[1];
    const u64 avpn = f.args[2];
    if ((flags & ~kProtectFlags) != 0 || ptex >= m.htab.entry_count()) return H_PARAMETER;

    u64 bits = flags & (papr::kProtectPp | papr::kProtectN | papr::kProtectKeyLo);
    if ((flags & papr::kProtectPp0) != 0) bits |= hpte::kPp0;
    bits |= (flags & papr::kProtectKeyHi) << 48;

    Htab::Guard g(m.htab);
    Hpte e = m.htab.load(ptex);
    if (!e.valid() || ((flags & papr::H_AVPN) != 0 && !avpn_matches(e, avpn))) return H_NOT_FOUND;
    if (Htab::is_vrma(e)) return H_PARAMETER;
    if ((e.r & hpte::kProtection) == bits) return H_SUCCESS; // nothing changes
    e = m.htab.invalidate(ptex);
    m.htab.store_new(ptex, Hpte{e.v, (e.r & ~hpte::kProtection) | bits});
    return H_SUCCESS;
}

TESSERA_HOT Ret h_bulk_remove(MmuContext& m, Frame& f) {
    static_assert(2 * papr::kBulkMax <= kMaxArgs);
    // The specifiers are updated in place: what is not answered goes back unchanged.
    for (usize i = 0; i < 2 * papr::kBulkMax; ++i) f.rets[i] = f.args[i];

    Ret status = H_SUCCESS;
    TlbInvalidation inv[papr::kBulkMax];
    usize removed[papr::kBulkMax]; // request numbers of the retired entries
    usize n = 0;

    Htab::Guard g(m.htab);
    for (usize i = 0; i < papr::kBulkMax; ++i) {
        const u64 tsh = f.args[2 * i];
        const u64 tsl = f.args[2 * i + 1];
        const u64 type = tsh & papr::kBulkType;
        if (type == papr::kBulkEnd) break;
        const u64 mode = tsh & papr::kBulkFlags;
        const u64 ptex = tsh & papr::kBulkPtex;
        const u64 answer = papr::kBulkResponse | mode | ptex;
        if (type != papr::kBulkRequest || mode == papr::kBulkFlags ||
            ptex >= m.htab.entry_count()) {
            f.rets[2 * i] = answer | papr::kBulkParm;
            status = H_PARAMETER;
            break;
        }
        const Hpte e = m.htab.load(ptex);
        bool found = e.valid();
        if (found && mode == papr::kBulkAndcond) found = (e.v & tsl) == 0;
        if (found && mode == papr::kBulkAvpn) found = avpn_matches(e, tsl);
        if (found && Htab::is_vrma(e)) {
            f.rets[2 * i] = answer | papr::kBulkParm;
            status = H_PARAMETER;
            break;
        }
        if (!found) {
            f.rets[2 * i] = answer | papr::kBulkNotFound;
            continue;
        }
        // Out of the hardware's view now (a repeated index in this batch is then not found);
        // one synchronisation sequence for the whole batch below.
        inv[n] = m.htab.retire(ptex);
        removed[n++] = i;
        f.rets[2 * i] = answer | papr::kBulkSuccess;
    }
    m.htab.flush_tlb(inv, n);
    for (usize k = 0; k < n; ++k) {
        const usize i = removed[k];
        const u64 ptex = f.rets[2 * i] & papr::kBulkPtex;
        const Hpte e = m.htab.load(ptex); // final R/C
        if ((e.r & hpte::kRef) != 0) f.rets[2 * i] |= papr::kBulkRefBit;
        if ((e.r & hpte::kChange) != 0) f.rets[2 * i] |= papr::kBulkChangeBit;
        m.htab.clear(ptex);
    }
    return status;
}

TESSERA_HOT Ret h_clear_ref(MmuContext& m, Frame& f) {
    return clear_bit(m, f, hpte::kRef);
}
TESSERA_HOT Ret h_clear_mod(MmuContext& m, Frame& f) {
    return clear_bit(m, f, hpte::kChange);
}

namespace {
// The other five, out of line: with them in one chain of compares the compiler makes a jump
// table, an indirect branch, for H_REMOVE too.
[[gnu::flatten, gnu::noinline]] Ret run_other_htab_hcall(MmuContext& m, Frame& f) {
    switch (f.opcode) {
    case H_PROTECT:
        return h_protect(m, f);
    case H_BULK_REMOVE:
        return h_bulk_remove(m, f);
    case H_READ:
        return h_read(m, f);
    case H_CLEAR_REF:
        return h_clear_ref(m, f);
    case H_CLEAR_MOD:
        return h_clear_mod(m, f);
    default:
        return H_FUNCTION;
    }
}
} // namespace

// flatten: every call in it is inlined, down to the HTAB's and the chunk map's inline helpers,
// so an H_ENTER or H_REMOVE makes no call but the TLB hook's (docs/benchmarks.md, "The
// page-table hcalls without calls").
[[gnu::flatten]] TESSERA_HOT Ret run_htab_hcall(MmuContext& m, Frame& f) {
    if (f.opcode == H_ENTER) return h_enter(m, f);
    if (f.opcode == H_REMOVE) return h_remove(m, f);
    return run_other_htab_hcall(m, f);
}

} // namespace tessera::arch
