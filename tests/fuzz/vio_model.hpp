// The reference model the virtual-I/O harnesses (llan, crq_rdma) check the hypervisor against:
// several one-chunk LPARs over fake real memory (a neighbour chunk behind them that nobody owns
// in the model), a shadow of every LPAR page a TCE has named, and a reference map of every TCE
// window. The harness applies each hcall to the real code and to the model and compares the
// status, the rets, the device state and every shadowed page after every step, so a byte the
// hypervisor moves that the model did not (another LPAR's, a page without access, a stale
// mapping) is caught where it lands. The model is written from the PAPR rules in
// common/tce.hpp, common/llan.hpp and common/crq.hpp, not from their code.
//
// Memory: the pages an input can name start from a pattern per LPAR (each 16-byte slot's first
// byte 0, so a queue starts empty) (pages 0..15 and the last
// one, the "arena", are reset for every input; any other page a TCE names gets its shadow when
// it is first named); pages kGuardLow and kGuardHigh must keep the pattern unless named.
#pragma once

#include "common/chunks.hpp"
#include "common/lpar.hpp"
#include "common/tce.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

namespace tessera::fuzz::vio_model {

inline constexpr u64 kPage = tce::kPageSize;
inline constexpr u64 kLparPages = kChunkSize / kPage;
inline constexpr u64 kArenaLow = 16; // logical pages 0..15, and the last page
inline constexpr u64 kGuardLow = kArenaLow, kGuardHigh = kLparPages - 2;
inline constexpr u8 kNeighbourByte = 0xa5;
inline constexpr u64 kEdge = 64 * KiB; // neighbour bytes checked at each end

// A value from `v`: the input's byte indexes it (< 0xe0, so seeds can name an entry), or it is
// an entry plus a small signed offset (0xe0..0xef), or a raw 64-bit value (0xf0..0xff).
template <usize N>
u64 pick(Input& in, const u64 (&v)[N]) {
    const u8 b = in.byte();
    if (b < 0xe0) return v[b % N];
    if (b < 0xf0) {
        const u64 base = v[in.byte() % N];
        return base + static_cast<u64>(static_cast<i64>(static_cast<i8>(in.byte())) / 8);
    }
    return in.u64v();
}

inline void store_be(u8* p, u64 v, usize n) {
    for (usize i = 0; i < n; ++i) p[i] = static_cast<u8>(v >> 8 * (n - 1 - i));
}
inline u64 load_be(const u8* p, usize n) {
    u64 v = 0;
    for (usize i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}

// A TCE window in the model: per 4 KiB page the TCE the guest would read back (page | access).
// Entries [lo, hi) are the only ones ever set since the last reset.
struct Window {
    u32 lpar = 0;
    u64 liobn = 0;
    std::vector<u64> e;
    u64 lo = 0, hi = 0;
    u64 size() const { return u64{e.size()} * kPage; }
    void reset(u32 owner, u64 id, u64 bytes) {
        lpar = owner;
        liobn = id;
        if (e.size() != bytes / kPage) e.assign(bytes / kPage, 0);
        std::fill(e.begin() + static_cast<long>(lo), e.begin() + static_cast<long>(hi), 0);
        lo = hi = 0;
    }
    void set(u64 i, u64 entry) {
        e[i] = entry;
        if (lo == hi) {
            lo = i;
            hi = i + 1;
        }
        lo = std::min(lo, i);
        hi = std::max(hi, i + 1);
    }
};

struct Machine {
    static constexpr u64 kRamBase = 1 * GiB;
    u32 n;
    std::vector<u8> ram; // n LPAR chunks, then the neighbour's
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::vector<LogicalMap> maps;
    LogicalMap neighbour;
    std::vector<std::unique_ptr<Lpar>> lpars;
    std::vector<u8*> base; // host address of each LPAR's logical 0
    std::vector<std::map<u64, std::array<u8, kPage>>> shadow; // by logical page number
    std::vector<bool> live;
    std::vector<std::array<u8, kPage>> tmpl;  // each LPAR's page pattern
    std::vector<std::pair<u32, u64>> touched; // (LPAR, page) the model wrote since the last check

    explicit Machine(u32 lpar_count)
        : n(lpar_count), ram(usize{lpar_count + 1} * kChunkSize), maps(lpar_count),
          lpars(lpar_count), base(lpar_count), shadow(lpar_count), live(lpar_count),
          tmpl(lpar_count) {
        for (u32 l = 0; l < n; ++l)
            for (u64 i = 0; i < kPage; ++i) // 16-byte queue entries start free (first byte 0)
                tmpl[l][i] = i % 16 ? static_cast<u8>(0x40 * (l + 1) ^ (i * 131 >> 5)) : 0;
        const RealRange range{RealAddr(kRamBase), ram.size()};
        const RealWindow w{reinterpret_cast<uptr>(ram.data()), RealAddr(kRamBase), ram.size()};
        FUZZ_CHECK(pool->init(&range, 1, nullptr, 0, w));
        for (u32 i = 0; i < n; ++i) {
            FUZZ_CHECK(maps[i].assign(*pool, i + 1, kChunkSize));
            base[i] = static_cast<u8*>(maps[i].host_ptr(LogicalAddr(0), kChunkSize));
            FUZZ_CHECK(base[i] != nullptr && base[i] >= ram.data() &&
                       base[i] + kChunkSize <= ram.data() + ram.size());
            for (u64 p = 0; p < kLparPages; ++p) fill_page(i, p);
        }
        FUZZ_CHECK(neighbour.assign(*pool, 99, kChunkSize));
        std::memset(neighbour_ptr(), kNeighbourByte, kChunkSize);
    }

    u8* neighbour_ptr() const {
        return static_cast<u8*>(neighbour.host_ptr(LogicalAddr(0), kChunkSize));
    }
    u64 neighbour_real() const { return neighbour.translate(LogicalAddr(0), 1)->value(); }

    // The pattern: the LPAR's template with the page number in bytes 8..15.
    void pattern_page(u32 l, u64 page, u8* out) const {
        std::memcpy(out, tmpl[l].data(), kPage);
        store_be(out + 8, page, 8);
    }
    void fill_page(u32 l, u64 page) { pattern_page(l, page, base[l] + page * kPage); }

    // Fresh LPARs (Running, vcpu 0 on a CPU) over the same memory; the pages the last input
    // could name get their pattern back, and the arena its shadow.
    void reset() {
        for (u32 l = 0; l < n; ++l) {
            for (auto& [page, copy] : shadow[l]) fill_page(l, page);
            shadow[l].clear();
            for (u64 p : {kGuardLow, kGuardHigh}) fill_page(l, p);
            for (u64 p = 0; p < kArenaLow; ++p) shadow_page(l, p);
            shadow_page(l, kLparPages - 1);
            lpars[l] = std::make_unique<Lpar>();
            Lpar& lp = *lpars[l];
            lp.id = l + 1;
            lp.memory = maps[l];
            lp.vcpu_count = 1;
            for (u32 i = 0; i < kMaxVcpusPerLpar; ++i) {
                lp.vcpus[i].index = i;
                lp.vcpus[i].lpar = &lp;
            }
            lp.xics.reset(1);
            FUZZ_CHECK(lp.mark_loaded() && lp.start());
            lp.vcpus[0].state = VcpuState::Running;
            live[l] = true;
        }
    }

    // The shadow of logical page `page` of LPAR l (made from memory when first named).
    u8* shadow_page(u32 l, u64 page) {
        FUZZ_CHECK(page < kLparPages);
        auto it = shadow[l].find(page);
        if (it == shadow[l].end()) {
            it = shadow[l].emplace(page, std::array<u8, kPage>{}).first;
            std::memcpy(it->second.data(), base[l] + page * kPage, kPage);
        }
        return it->second.data();
    }

    bool page_as_modelled(u32 l, u64 page, const u8* copy) const {
        if (std::memcmp(copy, base[l] + page * kPage, kPage) == 0) return true;
        std::fprintf(stderr, "lpar %u logical page %#llx differs from the model\n", l,
                     static_cast<unsigned long long>(page));
        return false;
    }

    // After a step (full = false): the pages the model wrote in it equal memory. At the end of an
    // input (full): every shadowed page equals memory (so a byte the hypervisor wrote where the
    // model did not is found here), unnamed guard pages keep the pattern, the neighbour is
    // untouched.
    bool memory_as_modelled(bool full) {
        if (!full) {
            for (const auto& [l, page] : touched)
                if (!page_as_modelled(l, page, shadow_page(l, page))) return false;
            touched.clear();
            return true;
        }
        touched.clear();
        for (u32 l = 0; l < n; ++l) {
            for (auto& [page, copy] : shadow[l])
                if (!page_as_modelled(l, page, copy.data())) return false;
            for (u64 p : {kGuardLow, kGuardHigh}) {
                u8 want[kPage];
                pattern_page(l, p, want);
                if (!shadow[l].count(p) && std::memcmp(want, base[l] + p * kPage, kPage) != 0)
                    return false;
            }
        }
        // The neighbour's edges (where an off-by-one past an LPAR's end or a window lands).
        static const std::vector<u8> kClean(kEdge, kNeighbourByte);
        const u8* nb = neighbour_ptr();
        return std::memcmp(nb, kClean.data(), kEdge) == 0 &&
               std::memcmp(nb + kChunkSize - kEdge, kClean.data(), kEdge) == 0;
    }

    // The harness writes into an LPAR's memory as its guest would (memory and shadow).
    void poke(u32 l, u64 logical, const u8* src, u64 len) {
        for (u64 i = 0; i < len; ++i) {
            const u64 a = logical + i;
            shadow_page(l, a / kPage)[a % kPage] = src[i];
            base[l][a] = src[i];
        }
    }

    // ---- The TCE hcalls on a model window ---------------------------------------------------
    // A TCE the window may hold: no access (the address does not matter) or a page of the owner.
    bool encode(const Window& w, u64 tce, u64& entry) {
        if ((tce & tce::kAccessMask) == 0) {
            entry = 0;
            return true;
        }
        const u64 page = tce & ~(kPage - 1);
        if (page >= kLparPages * kPage) return false;
        shadow_page(w.lpar, page / kPage); // nameable from now on
        entry = page | (tce & tce::kAccessMask);
        return true;
    }
    hcall::Ret put(Window& w, u64 ioba, u64 tce) {
        u64 entry = 0;
        if (ioba >= w.size() || !encode(w, tce, entry)) return hcall::H_PARAMETER;
        w.set(ioba / kPage, entry);
        return hcall::H_SUCCESS;
    }
    hcall::Ret get(const Window& w, u64 ioba, u64& tce) const {
        tce = ioba < w.size() ? w.e[ioba / kPage] : 0;
        return ioba < w.size() ? hcall::H_SUCCESS : hcall::H_PARAMETER;
    }
    hcall::Ret stuff(Window& w, u64 ioba, u64 tce, u64 count) {
        u64 entry = 0;
        if (ioba >= w.size() || !encode(w, tce, entry) || count > w.e.size() - ioba / kPage)
            return hcall::H_PARAMETER;
        for (u64 i = 0; i < count; ++i) w.set(ioba / kPage + i, entry);
        return hcall::H_SUCCESS;
    }
    hcall::Ret put_indirect(Window& w, u64 ioba, u64 list, u64 count) {
        if (ioba >= w.size() || count > kPage / 8 || list % kPage != 0 ||
            list >= kLparPages * kPage || count > w.e.size() - ioba / kPage)
            return hcall::H_PARAMETER;
        const u8* tces = shadow_page(w.lpar, list / kPage);
        std::vector<u64> entries(count);
        for (u64 i = 0; i < count; ++i)
            if (!encode(w, load_be(tces + 8 * i, 8), entries[i])) return hcall::H_PARAMETER;
        for (u64 i = 0; i < count; ++i) w.set(ioba / kPage + i, entries[i]);
        return hcall::H_SUCCESS;
    }

    // ---- DMA through a model window ---------------------------------------------------------
    tce::Fault check(const Window& w, u64 ioba, u64 len, u64 access) const {
        if (ioba > w.size() || len > w.size() - ioba) return tce::Fault::OutOfWindow;
        if (len == 0) return tce::Fault::None;
        for (u64 p = ioba / kPage; p <= (ioba + len - 1) / kPage; ++p)
            if ((w.e[p] & access) != access) return tce::Fault::NoAccess;
        return tce::Fault::None;
    }
    u8* at(const Window& w, u64 ioba) {
        const u64 entry = w.e[ioba / kPage];
        return shadow_page(w.lpar, entry / kPage) + ioba % kPage;
    }
    bool read(const Window& w, u64 ioba, u8* dst, u64 len) {
        if (check(w, ioba, len, tce::kRead) != tce::Fault::None) return false;
        for (u64 i = 0; i < len; ++i) dst[i] = *at(w, ioba + i);
        return true;
    }
    // The destination's pieces in order, each a memmove (the source may be in the same LPAR).
    bool write(const Window& w, u64 ioba, const u8* src, u64 len) {
        if (check(w, ioba, len, tce::kWrite) != tce::Fault::None) return false;
        for (u64 done = 0; done < len;) {
            const u64 k = std::min(kPage - (ioba + done) % kPage, len - done);
            std::memmove(at(w, ioba + done), src + done, k);
            touched.emplace_back(w.lpar, w.e[(ioba + done) / kPage] / kPage);
            done += k;
        }
        return true;
    }
    // tce::copy: both sides checked first, then the source page by page into the destination.
    struct Copy {
        tce::Fault src, dst;
    };
    Copy copy(const Window& s, u64 s_ioba, const Window& d, u64 d_ioba, u64 len) {
        const Copy r{check(s, s_ioba, len, tce::kRead), check(d, d_ioba, len, tce::kWrite)};
        if (r.src != tce::Fault::None || r.dst != tce::Fault::None) return r;
        for (u64 done = 0; done < len;) {
            const u64 k = std::min(kPage - (s_ioba + done) % kPage, len - done);
            write(d, d_ioba + done, at(s, s_ioba + done), k);
            done += k;
        }
        return r;
    }

    // The entries of a real window read back as the model's: all of them when `all`, else the
    // ones the model set and 16 on each side (a whole 256 MiB window is slow to compare).
    bool same_table(const tce::Window& real, const Window& w, bool all) const {
        if (real.size() != w.size()) return false;
        const u64 from = all || w.lo < 16 ? 0 : w.lo - 16;
        const u64 to = all ? w.e.size() : std::min<u64>(w.e.size(), w.hi + 16);
        for (u64 i = from; i < to; ++i) {
            u64 t = ~u64{0};
            if (real.get(i * kPage, t) != hcall::H_SUCCESS || t != w.e[i]) return false;
        }
        return true;
    }
};

// The values the harnesses aim at: logical addresses for TCEs (the arena's pages, the LPAR's
// end, the neighbour's real address used as a logical one, huge ones).
inline void tce_pages(const Machine& m, u64 (&out)[24]) {
    for (u64 i = 0; i < kArenaLow; ++i) out[i] = i * kPage;
    out[16] = (kLparPages - 1) * kPage;
    out[17] = kChunkSize;
    out[18] = kChunkSize + kPage;
    out[19] = m.neighbour_real();
    out[20] = Machine::kRamBase;
    out[21] = u64{1} << 63;
    out[22] = ~u64{0} & ~(kPage - 1);
    out[23] = u64{1} << 32;
}

// A TCE: one of the pages, access bits from the input, sometimes reserved bits 11..2 set.
inline u64 tce_value(Input& in, const u64 (&pages)[24]) {
    const u64 page = pick(in, pages) & ~(kPage - 1);
    const u8 bits = in.byte();
    return page | (bits & tce::kAccessMask) | ((bits & 0x80) ? 0xffc : 0);
}

// An IOBA in or around a window of `size` bytes.
inline u64 ioba_value(Input& in, u64 size) {
    const u64 v[] = {0,         kPage,     2 * kPage,      3 * kPage,    4 * kPage,
                     5 * kPage, 6 * kPage, 7 * kPage,      8 * kPage,    size - kPage,
                     size - 16, size,      size + kPage,   u64{1} << 32, ~u64{0},
                     0x10,      kPage - 8, 2 * kPage - 16, 0x7f0,        15 * kPage};
    return pick(in, v);
}

// What the model expects of one hcall: its status, and r4 when the model knows it.
struct Expect {
    hcall::Ret status = hcall::H_PARAMETER;
    bool check_ret = false;
    u64 ret = 0;
};

// One step of a harness: the hcall in `f` from `lp`'s first vcpu through the dispatch table,
// compared with the model (FUZZ_TRACE=1 prints every step; a mismatch prints before it aborts).
// The call must resume its caller: no virtual-I/O hcall blocks or ends the LPAR.
inline void dispatch_and_check(Lpar& lp, hcall::Frame& f, int step, u32 who, const Expect& want) {
    hcall::Env env{lp, lp.vcpus[0]};
    const hcall::Ret got = hcall::dispatch(env, f);
    static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;
    const auto op = static_cast<unsigned long long>(f.opcode);
    if (trace)
        std::fprintf(stderr, "step %d: hcall %#llx from lpar %u: %lld\n", step, op, who,
                     static_cast<long long>(got));
    if (got != want.status)
        std::fprintf(stderr, "step %d: hcall %#llx from lpar %u: got %lld, model %lld\n", step, op,
                     who, static_cast<long long>(got), static_cast<long long>(want.status));
    FUZZ_CHECK(got == want.status);
    if (want.check_ret) FUZZ_CHECK(f.rets[0] == want.ret);
    FUZZ_CHECK(env.after == hcall::After::Resume);
}

// Whether this input compares every window's whole table (every 8th input, the first
// included, so a replayed crash gets the full check) or only the entries it set.
inline bool whole_tables_this_input() {
    static u64 runs = 0;
    return runs++ % 8 == 0;
}

} // namespace tessera::fuzz::vio_model
