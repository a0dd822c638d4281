// Fuzzes the ppc64 page-table hcalls (isa/ppc64/mmu_hcalls.cpp, isa/ppc64/htab.cpp) over a
// 256 KiB HTAB and a 3-chunk LPAR with a neighbour's chunk behind it, checked differentially
// against a reference map of what the guest entered: index -> (first doubleword, logical page).
// Sequences of H_ENTER / H_REMOVE / H_READ / H_PROTECT / H_BULK_REMOVE / H_CLEAR_REF /
// H_CLEAR_MOD with flags, indices (recent ones, group edges, the table's end, huge) and HPTEs
// (page sizes, segment sizes, WIMG, logical addresses at chunk edges, the LPAR's end, real
// addresses) biased to the edges. After each call every entry the model knows or the call named
// must be valid exactly when the model says so, with the same AVPN/B/L/H and a real page that is
// the LPAR's translation of the logical page entered; a removal must find what the model has.
#include "isa/ppc64/mmu_hcalls.hpp"
#include "tests/fuzz/fake_lpar.hpp"

#include <iterator>
#include <map>
#include <set>

using namespace tessera;
using namespace tessera::arch;
using namespace tessera::hcall;

namespace {

constexpr u64 C = kChunkSize, kLparBytes = 3 * C;
constexpr u64 kKeepV = hpte::kCompareMask | hpte::kLarge | hpte::kSecondary | hpte::kValid;

struct Entered {
    u64 v;       // as entered (kKeepV bits compared)
    u64 logical; // the logical page
    u64 page;    // its size
};

usize tlb_calls = 0;
void count_tlb(void*, const TlbInvalidation*, usize) {
    ++tlb_calls;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static fuzz::FakeLpar m(1, 4, 3);
    static std::vector<u64> htab_mem((u64{1} << Htab::kMinShift) / 8);
    static Htab htab;
    FUZZ_CHECK(htab.init(htab_mem.data(), RealAddr(0x8000'0000), Htab::kMinShift, 7,
                         TlbHook{&count_tlb, nullptr}));
    MmuContext ctx{htab, m.lpar->memory};
    const u64 n = htab.entry_count();
    std::map<u64, Entered> model;
    std::vector<u64> recent{0, 8, n - 8};

    const u64 rpns[] = {0,
                        0x1000,
                        C - 0x1000,
                        C,
                        C + 0x10000,
                        2 * C,
                        kLparBytes - 0x1000,
                        kLparBytes,
                        kLparBytes + C,
                        m.ram_base,
                        m.neighbour_real(),
                        u64{1} << 40,
                        hpte::kRpn};
    const u64 flag_bits[] = {0,
                             papr::H_EXACT,
                             papr::H_ZERO_PAGE,
                             papr::H_R_XLATE,
                             papr::H_READ_4,
                             papr::H_AVPN,
                             papr::H_ANDCOND,
                             papr::H_AVPN | papr::H_ANDCOND,
                             papr::H_LOCAL,
                             papr::H_ICACHE_INVALIDATE | papr::H_COALESCE_CAND,
                             papr::kProtectPp | papr::kProtectN | papr::kProtectPp0,
                             papr::kProtectKeyLo | papr::kProtectKeyHi,
                             u64{1}};

    fuzz::Input in(data, size);
    for (int step = 0; step < 32 && !in.empty(); ++step) {
        const u8 op = in.byte();
        // Mostly the flags of the conditional calls, else anything from the edges.
        const u64 conditional[] = {0, papr::H_AVPN, papr::H_ANDCOND};
        const u64 flags = (op & 0x80) ? conditional[in.byte() % 3] : in.edge(flag_bits);
        u64 ptex;
        switch (in.byte() % 4) {
        case 0: // an entry the model holds (a recent index when it holds none)
            if (model.empty()) {
                ptex = recent[in.byte() % recent.size()];
            } else {
                auto it = model.begin();
                std::advance(it, in.byte() % model.size());
                ptex = it->first;
            }
            break;
        case 1:
            ptex = (in.below(static_cast<u32>(n / 8)) * 8) + in.byte() % 8;
            break;
        default: {
            const u64 edges[] = {0, 7, 8, n - 1, n, n + 7, ~u64{0}, u64{1} << 32};
            ptex = in.edge(edges);
        }
        }
        std::set<u64> touched;
        const auto touch = [&](u64 i) {
            if (i < n)
                for (u64 j = i & ~u64{7}; j < (i & ~u64{7}) + 8; ++j) touched.insert(j);
        };
        touch(ptex);
        Frame f;
        for (u64& r : f.rets) r = 0xdead'beef'dead'beef;
        f.args[0] = flags;
        f.args[1] = ptex;
        const usize tlb_before = tlb_calls;
        Ret r;
        switch (op % 7) {
        case 0: { // H_ENTER
            const u8 shape = in.byte();
            u64 v = (in.u64v() & hpte::kAvpn) | hpte::kValid;
            if (shape & 1) v |= hpte::kLarge;
            if (shape & 2) v |= hpte::kSecondary;
            if (shape & 4) v |= hpte::kBolted;
            v |= u64{(shape >> 3) & 3u} << hpte::kSegmentShift;
            u64 rr = in.edge(rpns) & hpte::kRpn;
            if (shape & 0x20) rr |= u64{in.byte()} << hpte::kRpnShift; // LP bits
            rr |= (shape & 0x40) ? (in.byte() & hpte::kWimg) : hpte::kM;
            rr |= in.byte() & (hpte::kPp | hpte::kNoExec | hpte::kRef | hpte::kChange);
            if (shape & 0x80) rr |= in.u64v() & hpte::kProtection;
            f.args[2] = v;
            f.args[3] = rr;
            r = h_enter(ctx, f);
            if (r == H_SUCCESS) {
                const u64 idx = f.rets[0];
                FUZZ_CHECK(idx < n && idx / 8 == ptex / 8);
                if (flags & papr::H_EXACT) FUZZ_CHECK(idx == ptex);
                FUZZ_CHECK(model.count(idx) == 0); // a slot the model says is free
                const Optional<PageEncoding> enc = decode_page_size(v, rr);
                FUZZ_CHECK(enc.has_value());
                const u64 page = enc->page_size();
                const u64 la = rr & hpte::kRpn & ~(page - 1);
                FUZZ_CHECK(la + page <= kLparBytes);
                model[idx] = Entered{v, la, page};
                recent.push_back(idx);
                if (recent.size() > 16) recent.erase(recent.begin() + 3);
            } else {
                FUZZ_CHECK(r == H_PARAMETER || r == H_PTEG_FULL);
                if (r == H_PTEG_FULL && !(flags & papr::H_EXACT)) {
                    // Full: the model must know 8 entries in that group.
                    usize known = 0;
                    for (u64 j = ptex & ~u64{7}; j < (ptex & ~u64{7}) + 8; ++j)
                        known += model.count(j);
                    FUZZ_CHECK(known == 8);
                }
            }
            break;
        }
        case 1:   // H_REMOVE
        case 3: { // H_PROTECT
            const bool remove = op % 7 == 1;
            const auto it = model.find(ptex);
            const u64 avpn = (in.byte() & 1) && it != model.end()
                                 ? (it->second.v & hpte::kCompareMask)
                                 : in.u64v();
            f.args[2] = avpn;
            const Hpte before = ptex < n ? htab.load(ptex) : Hpte{};
            r = remove ? h_remove(ctx, f) : h_protect(ctx, f);
            const Hpte after = ptex < n ? htab.load(ptex) : Hpte{};
            if (r == H_SUCCESS) {
                FUZZ_CHECK(it != model.end());
                if (flags & papr::H_AVPN) FUZZ_CHECK((it->second.v & hpte::kCompareMask) == avpn);
                if (flags & papr::H_ANDCOND) FUZZ_CHECK((it->second.v & avpn) == 0);
                // A valid entry changes only after its translation was invalidated; H_PROTECT
                // changes nothing but the protection bits.
                if (remove || (before.r & hpte::kProtection) != (after.r & hpte::kProtection))
                    FUZZ_CHECK(tlb_calls == tlb_before + 1);
                if (!remove) {
                    FUZZ_CHECK(after.v == before.v);
                    FUZZ_CHECK((after.r & ~hpte::kProtection) == (before.r & ~hpte::kProtection));
                }
                if (remove) {
                    FUZZ_CHECK((f.rets[0] & kKeepV) == (it->second.v & kKeepV));
                    model.erase(it);
                }
            } else if (r == H_NOT_FOUND) {
                const bool cond_failed =
                    it != model.end() &&
                    (((flags & papr::H_AVPN) && avpn != (it->second.v & hpte::kCompareMask)) ||
                     (remove && (flags & papr::H_ANDCOND) && (it->second.v & avpn) != 0));
                FUZZ_CHECK(it == model.end() || cond_failed);
            } else {
                FUZZ_CHECK(r == H_PARAMETER);
            }
            break;
        }
        case 2: { // H_READ
            r = h_read(ctx, f);
            if (r == H_SUCCESS) {
                const bool four = flags & papr::H_READ_4;
                const u64 first = four ? ptex & ~u64{3} : ptex;
                for (u64 k = 0; k < (four ? 4u : 1u); ++k) {
                    const auto it = model.find(first + k);
                    FUZZ_CHECK(((f.rets[2 * k] & hpte::kValid) != 0) == (it != model.end()));
                    if (it == model.end()) continue;
                    FUZZ_CHECK((f.rets[2 * k] & kKeepV) == (it->second.v & kKeepV));
                    if (flags & papr::H_R_XLATE)
                        FUZZ_CHECK((f.rets[2 * k + 1] & hpte::kRpn & ~(it->second.page - 1)) ==
                                   it->second.logical);
                }
            } else {
                FUZZ_CHECK(r == H_PARAMETER);
            }
            break;
        }
        case 4: { // H_BULK_REMOVE: up to four (high, low) translation specifiers
            u64 req[4];
            for (u64 k = 0; k < 4; ++k) {
                const u8 shape = in.byte();
                u64 x = (shape & 0x80) ? recent[shape % recent.size()] : ptex + k;
                if (shape & 0x40) x = in.u64v() & papr::kBulkPtex;
                const u64 type = (shape & 0x30) == 0x30 ? papr::kBulkEnd : papr::kBulkRequest;
                const u64 fl = u64{(shape >> 2) & 3u} << papr::kBulkFlagsShift;
                req[k] = x & papr::kBulkPtex;
                f.args[2 * k] = type | fl | req[k];
                const auto it = model.find(req[k]);
                f.args[2 * k + 1] = (shape & 2) && it != model.end()
                                        ? (it->second.v & hpte::kCompareMask)
                                        : in.u64v();
                touch(req[k]);
            }
            r = h_bulk_remove(ctx, f);
            FUZZ_CHECK(r == H_SUCCESS || r == H_PARAMETER);
            for (u64 k = 0; k < 4; ++k) {
                const u64 resp = f.rets[2 * k];
                if ((resp & papr::kBulkType) != papr::kBulkResponse) continue;
                if ((resp & papr::kBulkCode) == papr::kBulkSuccess) {
                    const u64 x = resp & papr::kBulkPtex;
                    const auto it = model.find(x);
                    FUZZ_CHECK(it != model.end());
                    const u64 how = f.args[2 * k] & papr::kBulkFlags, avpn = f.args[2 * k + 1];
                    if (how == papr::kBulkAvpn)
                        FUZZ_CHECK((it->second.v & hpte::kCompareMask) == avpn);
                    if (how == papr::kBulkAndcond) FUZZ_CHECK((it->second.v & avpn) == 0);
                    model.erase(it);
                }
            }
            break;
        }
        case 5:
            r = h_clear_ref(ctx, f);
            FUZZ_CHECK(r == H_SUCCESS || r == H_PARAMETER || r == H_NOT_FOUND);
            if (r == H_SUCCESS) FUZZ_CHECK(model.count(ptex) == 1);
            break;
        default:
            r = h_clear_mod(ctx, f);
            FUZZ_CHECK(r == H_SUCCESS || r == H_PARAMETER || r == H_NOT_FOUND);
            if (r == H_SUCCESS) FUZZ_CHECK(model.count(ptex) == 1);
            break;
        }

        // The table against the model.
        for (const auto& [idx, e] : model) touched.insert(idx);
        for (u64 idx : touched) {
            const Hpte h = htab.load(idx);
            const auto it = model.find(idx);
            FUZZ_CHECK(h.valid() == (it != model.end()));
            if (!h.valid()) continue;
            FUZZ_CHECK((h.v & kKeepV) == (it->second.v & kKeepV));
            const u64 real = h.r & hpte::kRpn & ~(it->second.page - 1);
            const auto expect = m.lpar->memory.translate(LogicalAddr(it->second.logical), 1);
            FUZZ_CHECK(expect && expect->value() == real);
        }
        FUZZ_CHECK(m.neighbour_intact());
    }
    // Back to an empty table for the next input (the memory is reused).
    for (const auto& [idx, e] : model) htab.clear(idx);
    return 0;
}
