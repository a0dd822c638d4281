// Fuzzes the CRQ devices and H_COPY_RDMA between server and client LPARs, with the TCE hcalls
// on their windows: H_REG_CRQ, H_FREE_CRQ, H_SEND_CRQ, H_ENABLE_CRQ, H_VIO_SIGNAL, H_COPY_RDMA,
// H_PUT_TCE, H_GET_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT through the dispatch table, from three
// one-chunk LPARs: S serves two v-scsi channels, one to client L and one to client C. Between the
// hcalls the guests write their own memory (consumed queue entries, TCE lists, data) and an LPAR
// may crash (its partners get a transport event).
//
// Differential (tests/fuzz/vio_model.hpp): every hcall also runs on a model written from PAPR
// (the TCE reference map; the queues: free entry = first byte 0, body before header, transport
// events over the last entry of a full queue; the remote LIOBN resolving to the client's window
// only while both queues are registered); after every step the status, rets, device state and
// every byte of every page a TCE named must match. So H_COPY_RDMA moves bytes only between
// windows the caller may name, only through TCEs that allow it, and never between L and C
// unless S copies them; a crashed or closed partner's window is out of reach.
#include "common/crq.hpp"
#include "common/vio.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fuzz/vio_model.hpp"

#include <arch/hcalls.hpp>

using namespace tessera;
using namespace tessera::hcall;
using namespace tessera::fuzz::vio_model;

namespace {

constexpr u32 kLpars = 3, kDevices = 4;
constexpr u64 kWin = crq::kWindowSize;

// The configuration: LPAR, role, index on the LPAR's bus, partner device.
struct Slot {
    u32 lpar;
    crq::Role role;
    u32 index, partner;
};
constexpr Slot kSlots[kDevices] = {{0, crq::Role::Server, 0, 2},
                                   {0, crq::Role::Server, 1, 3},
                                   {1, crq::Role::Client, 0, 0},
                                   {2, crq::Role::Client, 0, 1}};

struct Dev {
    Window w;
    u64 ua = 0;
    bool reg = false, signal = false;
    u64 q = 0, qlen = 0, at = 0, last = 0;
};

struct Harness {
    Machine m{kLpars};
    std::unique_ptr<crq::Device> real[kDevices];
    Dev dev[kDevices];
    u64 pages[24];

    Harness() {
        for (auto& d : real) d = std::make_unique<crq::Device>();
        tce_pages(m, pages);
    }

    void reset() {
        m.reset();
        for (u32 i = 0; i < kDevices; ++i) {
            const Slot& s = kSlots[i];
            Lpar& lp = *m.lpars[s.lpar];
            real[i]->init(lp, s.role, vio::kVscsiUnitBase + s.index, vio::kVscsiFirstIrq + s.index);
            FUZZ_CHECK(lp.vio.add_window(real[i]->window()) && lp.vio.add_crq(*real[i]));
            Window w = std::move(dev[i].w);
            dev[i] = Dev{};
            dev[i].w = std::move(w);
            dev[i].ua = vio::kVscsiUnitBase + s.index;
            dev[i].w.reset(s.lpar, dev[i].ua, kWin);
        }
        for (u32 i = 0; i < kDevices; ++i)
            if (kSlots[i].role == crq::Role::Server)
                crq::Device::pair(*real[i], *real[kSlots[i].partner]);
    }

    int find(u32 l, u64 ua) const {
        for (u32 i = 0; i < kDevices; ++i)
            if (kSlots[i].lpar == l && dev[i].ua == ua) return static_cast<int>(i);
        return -1;
    }
    bool connected(u32 i) const { return dev[i].reg && dev[kSlots[i].partner].reg; }

    // ---- The model's queues ------------------------------------------------------------------
    enum class Enq { Ok, Full, Fault };
    Enq enqueue(Dev& d, u64 hi, u64 lo, bool overwrite) {
        if (!d.reg) return Enq::Fault;
        u64 slot = d.q + d.at;
        u8 header = 0;
        if (!m.read(d.w, slot, &header, 1)) return Enq::Fault;
        const bool full = header != 0;
        if (full) {
            if (!overwrite) return Enq::Full;
            slot = d.q + d.last;
        }
        u8 e[16];
        store_be(e, hi, 8);
        store_be(e + 8, lo, 8);
        if (!m.write(d.w, slot + 8, e + 8, 8) || !m.write(d.w, slot, e, 8)) return Enq::Fault;
        if (!full) {
            d.last = d.at;
            d.at = d.at + 16 >= d.qlen ? 0 : d.at + 16;
        }
        return Enq::Ok;
    }
    void close(u32 i, u8 event) {
        Dev& d = dev[i];
        if (!d.reg) return;
        const bool was = connected(i);
        d.reg = d.signal = false;
        if (was)
            enqueue(dev[kSlots[i].partner], u64{crq::kHeaderTransport} << 56 | u64{event} << 48, 0,
                    true);
    }
    Ret reg(u32 i, u64 ioba, u64 len) {
        Dev& d = dev[i];
        if (d.reg) return H_RESOURCE;
        if (ioba % kPage || len == 0 || len % kPage || ioba >= kWin || len > kWin - ioba ||
            m.check(d.w, ioba, len, tce::kRead | tce::kWrite) != tce::Fault::None)
            return H_PARAMETER;
        d.reg = true;
        d.signal = false;
        d.q = ioba;
        d.qlen = len;
        d.at = d.last = 0;
        return dev[kSlots[i].partner].reg ? H_SUCCESS : H_CLOSED;
    }
    Ret send(u32 i, u64 hi, u64 lo) {
        const u8 header = static_cast<u8>(hi >> 56);
        if (!(header & crq::kHeaderValid) || header == crq::kHeaderTransport) return H_PARAMETER;
        if (!connected(i)) return H_CLOSED;
        return enqueue(dev[kSlots[i].partner], hi, lo, false) == Enq::Ok ? H_SUCCESS : H_DROPPED;
    }

    // What a LIOBN names for LPAR l's H_COPY_RDMA: its own window, or a server's remote LIOBN
    // (the client's window while connected).
    const Window* rdma_window(u32 l, u64 liobn) const {
        const int own = find(l, liobn);
        if (own >= 0) return &dev[own].w;
        if (liobn >> 32 || liobn == 0) return nullptr;
        for (u32 i = 0; i < kDevices; ++i)
            if (kSlots[i].lpar == l && kSlots[i].role == crq::Role::Server &&
                (dev[i].ua | crq::kRemoteLiobnBit) == liobn)
                return connected(i) ? &dev[kSlots[i].partner].w : nullptr;
        return nullptr;
    }
    Ret rdma(u32 l, u64 len, u64 sl, u64 si, u64 dl, u64 di) {
        const Window* s = rdma_window(l, sl);
        if (!s) return H_SOURCE_PARM;
        const Window* d = rdma_window(l, dl);
        if (!d) return H_DEST_PARM;
        const Machine::Copy r = m.copy(*s, si, *d, di, len);
        if (r.src == tce::Fault::OutOfWindow) return H_SOURCE_PARM;
        if (r.dst == tce::Fault::OutOfWindow) return H_DEST_PARM;
        return r.src == tce::Fault::None && r.dst == tce::Fault::None ? H_SUCCESS : H_PERMISSION;
    }

    bool state_matches(u32 i) const {
        const crq::Device& r = *real[i];
        return r.registered() == dev[i].reg && r.signal_enabled() == dev[i].signal &&
               r.connected() == connected(i) && (!dev[i].reg || r.queue_offset() == dev[i].at);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static Harness h;
    h.reset();
    Machine& m = h.m;
    fuzz::Input in(data, size);
    constexpr u64 U = vio::kVscsiUnitBase, R = crq::kRemoteLiobnBit;
    const u64 units[] = {U,
                         U + 1,
                         U | R,
                         (U + 1) | R,
                         U + 2,
                         (U + 2) | R,
                         0,
                         R,
                         vio::kLanUnitBase,
                         u64{1} << 32 | U,
                         u64{1} << 32 | U | R};
    const u64 msgs[] = {0x8000'0000'0000'0000,
                        0xc001'0000'0000'0000,
                        0xc002'0000'0000'0000,
                        0xff01'0000'0000'0000,
                        0xff02'0000'0000'0000,
                        0x0100'0000'0000'0000,
                        0x7fff'ffff'ffff'ffff,
                        0x8101'0203'0405'0607,
                        0,
                        ~u64{0}};
    const u64 lens[] = {
        0,        1,    8,        16,      kPage - 1,    kPage, kPage + 1, 2 * kPage, 3 * kPage + 5,
        64 * KiB, kWin, kWin + 1, ~u64{0}, u64{1} << 32, 100,   kPage - 16};
    u64 arena[kArenaLow + 1];
    for (u64 i = 0; i < kArenaLow; ++i) arena[i] = i * kPage;
    arena[kArenaLow] = (kLparPages - 1) * kPage;

    for (int step = 0; step < 96 && !in.empty(); ++step) {
        const u8 op = in.byte() % 16;
        const u32 who = in.byte() % kLpars;
        if (!m.live[who]) continue;
        Lpar& lp = *m.lpars[who];

        if (op >= 12) { // the guest writes its own memory, or crashes
            const u64 addr = (pick(in, arena) % kChunkSize & ~(kPage - 1)) + in.u16v() % kPage;
            const u64 room = kPage - addr % kPage;
            u8 buf[64] = {};
            usize len = 0;
            if (op == 12) {
                len = std::min<u64>(in.byte() % sizeof buf, room);
                for (usize i = 0; i < len; ++i) buf[i] = in.byte();
            } else if (op == 13) { // big-endian TCEs for H_PUT_TCE_INDIRECT, from a page start
                const u64 page = addr & ~(kPage - 1);
                const usize n = in.byte() % 8;
                for (usize i = 0; i < n; ++i) {
                    store_be(buf, tce_value(in, h.pages), 8);
                    m.poke(who, page + 8 * i, buf, 8);
                }
                continue;
            } else if (op == 14) { // a consumed queue entry
                len = std::min<u64>(16, room);
            } else {
                if (in.byte() >= 0xc0) {
                    FUZZ_CHECK(lp.crash("fuzz"));
                    m.live[who] = false;
                    for (u32 i = 0; i < kDevices; ++i)
                        if (kSlots[i].lpar == who) h.close(i, crq::kEventPartnerFailed);
                    for (u32 i = 0; i < kDevices; ++i) FUZZ_CHECK(h.state_matches(i));
                    FUZZ_CHECK(m.memory_as_modelled(false));
                }
                continue;
            }
            m.poke(who, addr, buf, len);
            continue;
        }

        static constexpr u64 kOps[12] = {H_PUT_TCE,    H_GET_TCE,   H_STUFF_TCE, H_PUT_TCE_INDIRECT,
                                         H_REG_CRQ,    H_FREE_CRQ,  H_SEND_CRQ,  H_ENABLE_CRQ,
                                         H_VIO_SIGNAL, H_COPY_RDMA, H_COPY_RDMA, H_SEND_CRQ};
        Frame f;
        f.opcode = kOps[op];
        f.args[0] = pick(in, units);
        const int di = h.find(who, f.args[0]);
        Dev* d = di >= 0 ? &h.dev[di] : nullptr;
        Ret want = H_PARAMETER;
        u64 want_ret = 0;
        bool check_ret = false;
        switch (op) {
        case 0:
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = tce_value(in, h.pages);
            if (d) want = m.put(d->w, f.args[1], f.args[2]);
            break;
        case 1:
            f.args[1] = ioba_value(in, kWin);
            check_ret = true;
            if (d) want = m.get(d->w, f.args[1], want_ret);
            break;
        case 2: {
            static constexpr u64 kCounts[] = {0,      1, 2, 3, 16, 17, 65536, 65535, u64{1} << 32,
                                              ~u64{0}};
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = tce_value(in, h.pages);
            f.args[3] = pick(in, kCounts);
            if (d) want = m.stuff(d->w, f.args[1], f.args[2], f.args[3]);
            break;
        }
        case 3: {
            static constexpr u64 kCounts[] = {0, 1, 2, 3, 7, 8, 511, 512, 513, u64{1} << 32};
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = pick(in, h.pages) + (in.byte() == 0xee ? 8 : 0);
            f.args[3] = pick(in, kCounts);
            if (d) want = m.put_indirect(d->w, f.args[1], f.args[2], f.args[3]);
            break;
        }
        case 4:
            f.args[1] = ioba_value(in, kWin);
            f.args[2] = pick(in, lens);
            if (d) want = h.reg(static_cast<u32>(di), f.args[1], f.args[2]);
            break;
        case 5:
            if (d) {
                h.close(static_cast<u32>(di), crq::kEventPartnerClosed);
                want = H_SUCCESS;
            }
            break;
        case 6:
        case 11:
            f.args[1] = pick(in, msgs);
            f.args[2] = pick(in, msgs);
            if (d) want = h.send(static_cast<u32>(di), f.args[1], f.args[2]);
            break;
        case 7:
            if (d) want = H_SUCCESS;
            break;
        case 8:
            f.args[1] = in.byte() % 4 == 3 ? in.u64v() : in.byte() & 1;
            if (d && !(f.args[1] & ~u64{1})) {
                d->signal = f.args[1] & 1;
                want = H_SUCCESS;
            }
            break;
        default: // H_COPY_RDMA: len, source LIOBN and IOBA, destination LIOBN and IOBA
            f.args[0] = pick(in, lens);
            f.args[1] = pick(in, units);
            f.args[2] = ioba_value(in, kWin) + (in.byte() & 0x1f);
            f.args[3] = pick(in, units);
            f.args[4] = ioba_value(in, kWin) + (in.byte() & 0x1f);
            want = h.rdma(who, f.args[0], f.args[1], f.args[2], f.args[3], f.args[4]);
            break;
        }

        dispatch_and_check(lp, f, step, who, {want, check_ret, want_ret});
        for (u32 i = 0; i < kDevices; ++i) FUZZ_CHECK(h.state_matches(i));
        FUZZ_CHECK(m.memory_as_modelled(false));
    }

    // Every window's table against the model.
    const bool all = whole_tables_this_input();
    for (u32 i = 0; i < kDevices; ++i)
        FUZZ_CHECK(m.same_table(h.real[i]->window(), h.dev[i].w, all));
    FUZZ_CHECK(m.memory_as_modelled(true));
    return 0;
}
