// Fuzzes the logical LAN and its TCE windows across LPARs joined by virtual switches: the TCE
// hcalls (H_PUT_TCE, H_GET_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT) and the l-lan hcalls
// (H_REGISTER_LOGICAL_LAN, H_FREE_LOGICAL_LAN, H_ADD_LOGICAL_LAN_BUFFER, H_SEND_LOGICAL_LAN,
// H_MULTICAST_CTRL, H_CHANGE_LOGICAL_LAN_MAC, H_VIO_SIGNAL) through the dispatch table, from
// three one-chunk LPARs: A has an adapter on LAN net0 and one on net1, B is on net0, C on net1
// (so B and C share no LAN). Between the hcalls the guests write their own memory (frames, MACs,
// TCE lists, consumed queue entries) and an LPAR may crash.
//
// Differential (tests/fuzz/vio_model.hpp): every hcall also runs on a model written from PAPR
// (the TCE reference map, the receive-buffer pools, the receive queue, the switch's rule); after
// every step the status, rets, adapter state and every byte of every page a TCE named must match
// the model. So a frame's bytes arrive only where the receiver's TCEs allow, only from a sender on
// the receiver's LAN, and only from pages the sender let its device read; nothing else changes.
// At the end of each input: every window's table, the pages nobody named and the neighbour chunk.
#include "common/llan.hpp"
#include "common/vio.hpp"
#include "common/vswitch.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fuzz/vio_model.hpp"

#include <arch/hcalls.hpp>

using namespace tessera;
using namespace tessera::hcall;
using namespace tessera::fuzz::vio_model;

namespace {

constexpr u32 kLpars = 3, kAdapters = 4, kLans = 2;
constexpr u64 kWin = tce::kWindowSize;

// The configuration: LPAR, LAN, index on the LPAR's bus, MAC.
struct Slot {
    u32 lpar, lan, index;
    u64 mac;
};
constexpr Slot kSlots[kAdapters] = {{0, 0, 0, 0x0200'0000'00a0},
                                    {0, 1, 1, 0x0200'0000'00a1},
                                    {1, 0, 0, 0x0200'0000'00b0},
                                    {2, 1, 0, 0x0200'0000'00c1}};

// The model of one adapter (PAPR ILLAN as common/llan.hpp documents it).
struct Model {
    Window w;
    u32 ua = 0;
    bool reg = false, signal = false, toggle = true;
    u64 mac = 0;
    u64 buffer_list = 0, rxq = 0, rxq_len = 0, at = 0, dropped = 0;
    std::map<u32, std::vector<u64>> pools; // size -> descriptors, last posted on top
    usize held = 0;
    void clear_pools() {
        pools.clear();
        held = 0;
    }
};

struct Harness {
    Machine m{kLpars};
    std::unique_ptr<llan::Adapter> real[kAdapters];
    std::unique_ptr<llan::Lan> lans[kLans];
    Model model[kAdapters];
    u64 pages[24];

    Harness() {
        for (auto& a : real) a = std::make_unique<llan::Adapter>();
        for (auto& l : lans) l = std::make_unique<llan::Lan>();
        tce_pages(m, pages);
    }

    void reset() {
        m.reset();
        lans[0]->init("net0");
        lans[1]->init("net1");
        for (u32 i = 0; i < kAdapters; ++i) {
            const Slot& s = kSlots[i];
            Lpar& lp = *m.lpars[s.lpar];
            llan::Adapter& a = *real[i];
            a.init(lp, vio::kLanUnitBase + s.index, vio::kLanFirstIrq + s.index, s.mac);
            FUZZ_CHECK(lp.vio.add_window(a.window()) && lp.vio.add_lan(a) && lans[s.lan]->join(a));
            Model& md = model[i];
            Window w = std::move(md.w);
            md = Model{};
            md.w = std::move(w);
            md.w.reset(s.lpar, vio::kLanUnitBase + s.index, kWin);
            md.ua = vio::kLanUnitBase + s.index;
            md.mac = s.mac;
        }
    }

    // The adapter of LPAR l whose unit address (= LIOBN) is `ua`, or -1.
    int find(u32 l, u64 ua) const {
        for (u32 i = 0; i < kAdapters; ++i)
            if (kSlots[i].lpar == l && model[i].ua == ua) return static_cast<int>(i);
        return -1;
    }

    // ---- The model's l-lan hcalls -----------------------------------------------------------
    static u32 d_len(u64 d) { return static_cast<u32>(d >> 32) & 0xff'ffff; }
    static u32 d_ioba(u64 d) { return static_cast<u32>(d); }
    static bool d_valid(u64 d) { return (d >> 63) != 0; }

    Ret reg(Model& a, u64 bl, u64 rxq, u64 filter, u64 mac) {
        if (a.reg) return H_RESOURCE;
        const u64 q = d_ioba(rxq), qlen = d_len(rxq);
        if (bl % kPage || filter % kPage || !d_valid(rxq) || qlen == 0 || qlen % 16 || q % 16)
            return H_PARAMETER;
        if (bl >= kWin || m.check(a.w, bl, kPage, tce::kRead | tce::kWrite) != tce::Fault::None ||
            q >= kWin || m.check(a.w, q, qlen, tce::kWrite) != tce::Fault::None || filter >= kWin ||
            m.check(a.w, filter, kPage, tce::kRead) != tce::Fault::None)
            return H_PARAMETER;
        a.reg = true;
        a.buffer_list = bl;
        a.rxq = q;
        a.rxq_len = qlen;
        a.at = 0;
        a.toggle = true;
        a.signal = false;
        a.mac = mac & llan::kMacMask;
        a.clear_pools();
        const std::vector<u8> zero(qlen, 0);
        FUZZ_CHECK(m.write(a.w, q, zero.data(), qlen));
        return H_SUCCESS;
    }

    Ret add_buffer(Model& a, u64 d) {
        if (!a.reg) return H_RESOURCE;
        if (!d_valid(d) || d_len(d) < 16 || d_ioba(d) % 4 || u64{d_ioba(d)} + d_len(d) > kWin)
            return H_PARAMETER;
        const u32 size = d_len(d);
        if (a.held == llan::kMaxRxBuffers ||
            (!a.pools.count(size) && a.pools.size() == llan::kMaxRxPools))
            return H_RESOURCE;
        a.pools[size].push_back(d);
        ++a.held;
        return H_SUCCESS;
    }

    bool take(Model& a, u64 need, u64& d) {
        for (auto it = a.pools.begin(); it != a.pools.end(); ++it) {
            if (it->first < need) continue;
            d = it->second.back();
            it->second.pop_back();
            --a.held;
            if (it->second.empty()) a.pools.erase(it);
            return true;
        }
        return false;
    }

    struct Piece {
        u64 ioba, len;
    };

    // Delivery into adapter r: false when the frame was dropped (no buffer, or r's own TCEs).
    bool receive(Model& r, const Model& from, const std::vector<Piece>& pieces, u64 len) {
        u64 d = 0;
        if (!take(r, len + llan::kRxOffset, d)) {
            ++r.dropped;
            u8 c[8];
            const u64 at = r.buffer_list + kPage - 8;
            if (m.read(r.w, at, c, 8)) {
                store_be(c, load_be(c, 8) + 1, 8);
                m.write(r.w, at, c, 8);
            }
            return false;
        }
        const u64 buf = d_ioba(d);
        u8 entry[16];
        const u64 slot = r.rxq + r.at;
        if (!m.read(r.w, buf, entry + 8, 8) ||
            m.check(r.w, buf + llan::kRxOffset, len, tce::kWrite) != tce::Fault::None ||
            m.check(r.w, slot, 16, tce::kWrite) != tce::Fault::None)
            return false;
        u64 done = 0;
        for (const Piece& p : pieces) {
            m.copy(from.w, p.ioba, r.w, buf + llan::kRxOffset + done, p.len);
            done += p.len;
        }
        store_be(entry, (r.toggle ? llan::kRxToggle : 0) | llan::kRxValid | llan::kRxOffset, 4);
        store_be(entry + 4, len, 4);
        m.write(r.w, slot + 4, entry + 4, 12);
        m.write(r.w, slot, entry, 4);
        r.at += 16;
        if (r.at + 16 > r.rxq_len) {
            r.at = 0;
            r.toggle = !r.toggle;
        }
        return true;
    }

    Ret send(u32 ai, const u64* descs, u64 token) {
        Model& a = model[ai];
        if (!a.reg) return H_DROPPED;
        if (token != 0) return H_PARAMETER;
        std::vector<Piece> pieces;
        u64 len = 0;
        for (usize i = 0; i < llan::kMaxSendDescs; ++i) {
            const u64 d = descs[i];
            if (!d_valid(d) || d_len(d) == 0) break;
            if (u64{d_ioba(d)} + d_len(d) > kWin) return H_PARAMETER;
            if (m.check(a.w, d_ioba(d), d_len(d), tce::kRead) != tce::Fault::None)
                return H_PERMISSION;
            pieces.push_back({d_ioba(d), d_len(d)});
            len += d_len(d);
        }
        if (len < llan::kMinFrame || len > llan::kMaxFrame) return H_PARAMETER;
        u8 head[6];
        usize got = 0;
        for (const Piece& p : pieces)
            for (u64 i = 0; i < p.len && got < 6; ++i)
                FUZZ_CHECK(m.read(a.w, p.ioba + i, &head[got++], 1));
        const u64 dst = load_be(head, 6);
        bool dropped = false;
        for (u32 i = 0; i < kAdapters; ++i) {
            Model& r = model[i];
            if (i == ai || kSlots[i].lan != kSlots[ai].lan || !m.live[kSlots[i].lpar]) continue;
            if (!llan::is_group_mac(dst) && dst != r.mac) continue;
            if (!r.reg) continue;
            dropped |= !receive(r, a, pieces, len);
        }
        return dropped ? H_DROPPED : H_SUCCESS;
    }

    bool state_matches(u32 i) const {
        const llan::Adapter& a = *real[i];
        const Model& md = model[i];
        if (std::getenv("FUZZ_TRACE"))
            std::fprintf(stderr,
                         "  adapter %u: reg %d/%d signal %d/%d dropped %llu/%llu held %zu/%zu "
                         "pools %zu/%zu at %llu/%llu\n",
                         i, a.registered(), md.reg, a.signal_enabled(), md.signal,
                         static_cast<unsigned long long>(a.dropped()),
                         static_cast<unsigned long long>(md.dropped), a.pools().count(), md.held,
                         a.pools().pool_count(), md.pools.size(),
                         static_cast<unsigned long long>(a.rx_queue_offset()),
                         static_cast<unsigned long long>(md.at));
        return a.registered() == md.reg && a.signal_enabled() == md.signal && a.mac() == md.mac &&
               a.dropped() == md.dropped && a.pools().count() == md.held &&
               a.pools().pool_count() == md.pools.size() &&
               (!md.reg || (a.rx_queue_offset() == md.at && a.toggle() == md.toggle));
    }
};

u64 desc_value(fuzz::Input& in) {
    static constexpr u64 kLens[] = {0,    8,    14,   16,   60,    64,    512,      1514,
                                    2048, 4080, 4096, 8192, 65536, 65544, 0xffffff, 24};
    const u8 ctl = in.byte();
    const u64 len = pick(in, kLens) & 0xff'ffff;
    const u64 ioba = ioba_value(in, kWin) & 0xffff'ffff;
    return u64{ctl < 0xf0 ? 0x80u : ctl} << 56 | len << 32 | ioba;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static Harness h;
    h.reset();
    Machine& m = h.m;
    fuzz::Input in(data, size);
    const u64 units[] = {vio::kLanUnitBase,
                         vio::kLanUnitBase + 1,
                         vio::kLanUnitBase + 2,
                         vio::kLanUnitBase + 4,
                         0x3000'0000,
                         0,
                         u64{1} << 32 | vio::kLanUnitBase,
                         vio::kVscsiUnitBase};
    const u64 macs[] = {kSlots[0].mac,    kSlots[1].mac,    kSlots[2].mac,    kSlots[3].mac,
                        0xffff'ffff'ffff, 0x0100'5e00'0001, 0x0200'0000'0000, u64{1} << 48};
    u64 arena[kArenaLow + 1];
    for (u64 i = 0; i < kArenaLow; ++i) arena[i] = i * kPage;
    arena[kArenaLow] = (kLparPages - 1) * kPage;

    for (int step = 0; step < 96 && !in.empty(); ++step) {
        const u8 op = in.byte() % 16;
        const u32 who = in.byte() % kLpars;
        if (!m.live[who]) continue; // the run loop runs no vcpu of an ended LPAR
        Lpar& lp = *m.lpars[who];

        if (op >= 12) { // the guest writes its own memory, or crashes
            const u64 addr = (pick(in, arena) % kChunkSize & ~(kPage - 1)) + in.u16v() % kPage;
            const u64 room = kPage - addr % kPage;
            u8 buf[64] = {};
            usize len = 0;
            if (op == 12) { // bytes (a frame's contents)
                len = std::min<u64>(in.byte() % sizeof buf, room);
                for (usize i = 0; i < len; ++i) buf[i] = in.byte();
            } else if (op == 13) { // a MAC (a frame's destination)
                len = std::min<u64>(6, room);
                store_be(buf, pick(in, macs), 6);
            } else if (op == 14) { // big-endian TCEs for H_PUT_TCE_INDIRECT, from a page start
                const u64 page = addr & ~(kPage - 1);
                const usize n = in.byte() % 8;
                for (usize i = 0; i < n; ++i) {
                    store_be(buf, tce_value(in, h.pages), 8);
                    m.poke(who, page + 8 * i, buf, 8);
                }
                continue;
            } else { // a crash (a quarter of the time), else a consumed queue entry (zeros)
                if (in.byte() >= 0xc0) {
                    FUZZ_CHECK(lp.crash("fuzz"));
                    m.live[who] = false;
                    continue;
                }
                len = std::min<u64>(16, room);
            }
            m.poke(who, addr, buf, len);
            continue;
        }

        static constexpr u64 kOps[12] = {H_PUT_TCE,
                                         H_GET_TCE,
                                         H_STUFF_TCE,
                                         H_PUT_TCE_INDIRECT,
                                         H_REGISTER_LOGICAL_LAN,
                                         H_FREE_LOGICAL_LAN,
                                         H_ADD_LOGICAL_LAN_BUFFER,
                                         H_SEND_LOGICAL_LAN,
                                         H_MULTICAST_CTRL,
                                         H_CHANGE_LOGICAL_LAN_MAC,
                                         H_VIO_SIGNAL,
                                         H_ADD_LOGICAL_LAN_BUFFER};
        Frame f;
        f.opcode = kOps[op];
        f.args[0] = pick(in, units);
        const int ai = h.find(who, f.args[0]);
        Model* a = ai >= 0 ? &h.model[ai] : nullptr;
        Ret want = H_PARAMETER;
        u64 want_ret = 0;
        bool check_ret = false;
        switch (op) {
        case 0:
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = tce_value(in, h.pages);
            if (a) want = m.put(a->w, f.args[1], f.args[2]);
            break;
        case 1:
            f.args[1] = ioba_value(in, kWin);
            check_ret = true;
            if (a) want = m.get(a->w, f.args[1], want_ret);
            break;
        case 2: {
            static constexpr u64 kCounts[] = {
                0, 1, 2, 3, 16, 17, 16384, 16383, 65536, u64{1} << 32, ~u64{0}, 4096};
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = tce_value(in, h.pages);
            f.args[3] = pick(in, kCounts);
            if (a) want = m.stuff(a->w, f.args[1], f.args[2], f.args[3]);
            break;
        }
        case 3: {
            static constexpr u64 kCounts[] = {0, 1, 2, 3, 7, 8, 511, 512, 513, u64{1} << 32};
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = pick(in, h.pages) + (in.byte() == 0xee ? 8 : 0);
            f.args[3] = pick(in, kCounts);
            if (a) want = m.put_indirect(a->w, f.args[1], f.args[2], f.args[3]);
            break;
        }
        case 4:
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = desc_value(in);
            f.args[3] = ioba_value(in, kWin);
            f.args[4] = pick(in, macs);
            if (a) want = h.reg(*a, f.args[1], f.args[2], f.args[3], f.args[4]);
            break;
        case 5:
            if (a && !a->reg) want = H_RESOURCE;
            if (a && a->reg) {
                want = H_SUCCESS;
                a->reg = a->signal = false;
                a->clear_pools();
            }
            break;
        case 6:
        case 11:
            f.args[1] = desc_value(in);
            if (a) want = h.add_buffer(*a, f.args[1]);
            break;
        case 7: {
            const usize n = in.byte() % (llan::kMaxSendDescs + 1);
            for (usize i = 0; i < n; ++i) f.args[1 + i] = desc_value(in);
            f.args[7] = in.byte() == 0xff ? 1 : 0;
            f.args[8] = in.u16v();
            check_ret = true;
            if (a) want = h.send(static_cast<u32>(ai), &f.args[1], f.args[7]);
            break;
        }
        case 8: {
            static constexpr u64 kFlags[] = {0, 0x80000, 0x40000, 0x20000, 0x10000,
                                             1, 2,       3,       0x4,     u64{1} << 40};
            f.args[1] = pick(in, kFlags) | pick(in, kFlags);
            f.args[2] = pick(in, macs);
            check_ret = true;
            if (a)
                want = (f.args[1] & ~llan::kMcastKnownFlags) || (f.args[2] & ~llan::kMacMask)
                           ? H_PARAMETER
                           : H_SUCCESS;
            break;
        }
        case 9:
            f.args[1] = pick(in, macs);
            if (a && !(f.args[1] & ~llan::kMacMask)) {
                a->mac = f.args[1];
                want = H_SUCCESS;
            }
            break;
        default: // H_VIO_SIGNAL
            f.args[1] = in.byte() % 4 == 3 ? in.u64v() : in.byte() & 1;
            if (a && !(f.args[1] & ~u64{1})) {
                a->signal = f.args[1] & 1;
                want = H_SUCCESS;
            }
            break;
        }

        dispatch_and_check(lp, f, step, who, {want, check_ret, want_ret});
        for (u32 i = 0; i < kAdapters; ++i) FUZZ_CHECK(h.state_matches(i));
        FUZZ_CHECK(m.memory_as_modelled(false));
    }

    // Every window's table against the model.
    const bool all = whole_tables_this_input();
    for (u32 i = 0; i < kAdapters; ++i)
        FUZZ_CHECK(m.same_table(h.real[i]->window(), h.model[i].w, all));
    FUZZ_CHECK(m.memory_as_modelled(true));
    return 0;
}
