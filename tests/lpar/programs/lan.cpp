// lan (1 vcpu, two LPARs lan1 and lan2 with `lan = net0`): the TCE and logical LAN hcalls from
// the guest's side, with good and bad arguments, then frames exchanged with the other LPAR on the
// LAN through the virtual switch: a broadcast handshake and one unicast frame each way, never a
// frame of its own back, while lanflood floods the same LAN. ISA-neutral: logical addresses are
// the program's own pointers.
#include "common/rt/string.hpp"
#include "lpar.hpp"

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr u64 kUa = 0x30000002; // the first l-lan adapter; its LIOBN is the same number
constexpr u64 kLiobn = kUa;
constexpr u64 kWindow = 64 * tessera::MiB;
constexpr u64 kPage = 4096;
constexpr u64 kRW = 3, kRead = 1, kWrite = 2;
// IOBAs of what the adapter uses (window page i = page i of `area`).
constexpr u64 kBufList = 0x0000, kRxq = 0x1000, kFilter = 0x2000, kBufs = 0x4000, kTx = 0x8000;
constexpr u64 kRxqBytes = 4096; // 256 entries
constexpr u64 kBufSize = 512, kBufCount = 32;
constexpr u64 kValid = u64{0x80} << 56;
constexpr u64 kEtherType = 0x88b5; // IEEE local experimental
constexpr u64 kBroadcast = 0xffff'ffff'ffff;

alignas(4096) u8 area[12 * 4096];
alignas(4096) u8 tce_list[4096]; // H_PUT_TCE_INDIRECT's list (a logical page, not in the window)

u64 la(const void* p) {
    return static_cast<u64>(reinterpret_cast<uintptr_t>(p));
}
u64 page_of(u64 ioba) {
    return la(area) + ioba; // the logical page behind an IOBA of ours
}
u64 desc(u64 ioba, u64 len) {
    return kValid | len << 32 | ioba;
}
u64 load_be(const volatile u8* p, int n) {
    u64 v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}
void store_be(u8* p, u64 v, int n) {
    for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<u8>(v);
}

void check_tces(const Boot& b) {
    const HcallResult fresh = hcall(H_GET_TCE, kLiobn, 0x10000);
    check(fresh.status == H_SUCCESS && fresh.ret[0] == 0, "H_GET_TCE of an unmapped page -> 0");
    check_status(hcall(H_PUT_TCE, kLiobn, 0x10000, page_of(0) | kRW).status, H_SUCCESS,
                 "H_PUT_TCE of one of our pages");
    check_eq(hcall(H_GET_TCE, kLiobn, 0x10abc).ret[0], page_of(0) | kRW,
             "H_GET_TCE returns it (any IOBA in the page)");
    check_status(hcall(H_PUT_TCE, kLiobn, 0x10000, b.memory_size | kRead).status, H_PARAMETER,
                 "H_PUT_TCE naming the page past our memory -> H_PARAMETER");
    check_status(hcall(H_PUT_TCE, kLiobn, 0x10000, (u64{1} << 40) | kWrite).status, H_PARAMETER,
                 "H_PUT_TCE naming a page at 1 TiB -> H_PARAMETER");
    check_eq(hcall(H_GET_TCE, kLiobn, 0x10000).ret[0], page_of(0) | kRW,
             "a refused H_PUT_TCE changes nothing");
    check_status(hcall(H_PUT_TCE, kLiobn, kWindow, page_of(0) | kRW).status, H_PARAMETER,
                 "H_PUT_TCE past the window -> H_PARAMETER");
    check_status(hcall(H_GET_TCE, kLiobn, kWindow).status, H_PARAMETER,
                 "H_GET_TCE past the window -> H_PARAMETER");
    check_status(hcall(H_PUT_TCE, kLiobn + 7, 0, page_of(0) | kRW).status, H_PARAMETER,
                 "H_PUT_TCE with a LIOBN we do not have -> H_PARAMETER");
    check_status(hcall(H_PUT_TCE, (u64{1} << 32) | kLiobn, 0, page_of(0) | kRW).status, H_PARAMETER,
                 "H_PUT_TCE with LIOBN bits above 32 -> H_PARAMETER");
    check_status(hcall(H_STUFF_TCE, kLiobn, 0x20000, page_of(0) | kRead, 4).status, H_SUCCESS,
                 "H_STUFF_TCE of 4 entries");
    check_eq(hcall(H_GET_TCE, kLiobn, 0x23000).ret[0], page_of(0) | kRead,
             "H_STUFF_TCE filled the 4th entry");
    check_eq(hcall(H_GET_TCE, kLiobn, 0x24000).ret[0], 0, "... and not the 5th");
    check_status(hcall(H_STUFF_TCE, kLiobn, 0, 0, kWindow / kPage).status, H_SUCCESS,
                 "H_STUFF_TCE clearing the whole window in one call (Linux 6.1)");
    check_status(hcall(H_STUFF_TCE, kLiobn, kPage, 0, kWindow / kPage).status, H_PARAMETER,
                 "H_STUFF_TCE past the window's end -> H_PARAMETER");
    for (u64 i = 0; i < 9; ++i) store_be(tce_list + 8 * i, page_of(i * kPage) | kRW, 8);
    check_status(hcall(H_PUT_TCE_INDIRECT, kLiobn, 0, la(tce_list), 9).status, H_SUCCESS,
                 "H_PUT_TCE_INDIRECT maps our 9 pages");
    check_eq(hcall(H_GET_TCE, kLiobn, kTx).ret[0], page_of(kTx) | kRW,
             "H_PUT_TCE_INDIRECT's 9th entry");
    check_status(hcall(H_PUT_TCE_INDIRECT, kLiobn, 0, la(tce_list) + 8, 1).status, H_PARAMETER,
                 "H_PUT_TCE_INDIRECT with an unaligned list -> H_PARAMETER");
    check_status(hcall(H_PUT_TCE_INDIRECT, kLiobn, 0, la(tce_list), 513).status, H_PARAMETER,
                 "H_PUT_TCE_INDIRECT with 513 entries -> H_PARAMETER");
    check_status(hcall(H_PUT_TCE_INDIRECT, kLiobn, 0, b.memory_size, 1).status, H_PARAMETER,
                 "H_PUT_TCE_INDIRECT with a list outside our memory -> H_PARAMETER");
    store_be(tce_list + 8, b.memory_size | kRW, 8);
    check_status(hcall(H_PUT_TCE_INDIRECT, kLiobn, 0x30000, la(tce_list), 2).status, H_PARAMETER,
                 "H_PUT_TCE_INDIRECT with one bad TCE -> H_PARAMETER");
    check_eq(hcall(H_GET_TCE, kLiobn, 0x30000).ret[0], 0, "... and nothing of it is stored");
}

void check_lan_calls() {
    check_status(hcall(H_VIO_SIGNAL, kUa, 0).status, H_SUCCESS, "H_VIO_SIGNAL disable");
    check_status(hcall(H_VIO_SIGNAL, kUa, 2).status, H_PARAMETER,
                 "H_VIO_SIGNAL with an unknown mode bit -> H_PARAMETER");
    check_status(hcall(H_VIO_SIGNAL, kUa + 9, 1).status, H_PARAMETER,
                 "H_VIO_SIGNAL for a unit address we do not have -> H_PARAMETER");
    check_status(hcall(H_FREE_LOGICAL_LAN, kUa).status, H_RESOURCE,
                 "H_FREE_LOGICAL_LAN before registering -> H_RESOURCE");
    check_status(hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, desc(kBufs, kBufSize)).status, H_RESOURCE,
                 "H_ADD_LOGICAL_LAN_BUFFER before registering -> H_RESOURCE");
    check_status(hcall(H_SEND_LOGICAL_LAN, kUa, desc(kTx, 64)).status, H_DROPPED,
                 "H_SEND_LOGICAL_LAN before registering -> H_DROPPED");
    check_status(
        hcall(H_REGISTER_LOGICAL_LAN, kUa, kBufList + 8, desc(kRxq, kRxqBytes), kFilter, 0).status,
        H_PARAMETER, "H_REGISTER_LOGICAL_LAN with an unaligned buffer list -> H_PARAMETER");
    check_status(
        hcall(H_REGISTER_LOGICAL_LAN, kUa, kBufList, desc(0x100000, kRxqBytes), kFilter, 0).status,
        H_PARAMETER, "H_REGISTER_LOGICAL_LAN with an unmapped queue -> H_PARAMETER");
    check_status(hcall(H_REGISTER_LOGICAL_LAN, kUa, kBufList, desc(kRxq, 100), kFilter, 0).status,
                 H_PARAMETER, "H_REGISTER_LOGICAL_LAN with a 100-byte queue -> H_PARAMETER");
    check_status(
        hcall(H_REGISTER_LOGICAL_LAN, kUa + 1, kBufList, desc(kRxq, kRxqBytes), kFilter, 0).status,
        H_PARAMETER, "H_REGISTER_LOGICAL_LAN for another unit address -> H_PARAMETER");
    check_status(hcall(H_ILLAN_ATTRIBUTES, kUa, 0, 0).status, H_FUNCTION,
                 "H_ILLAN_ATTRIBUTES -> H_FUNCTION (no offloads)");
}

// ---- the receive side -----------------------------------------------------------------------
struct Rx {
    u64 next = 0;   // entry index
    u64 toggle = 1; // the toggle of valid entries on this pass
};
Rx rx;
u64 my_mac = 0;

u8* buffer(u64 i) {
    return area + kBufs + i * kBufSize;
}
bool post(u64 i) {
    // The correlator (first 8 bytes, read back verbatim) is the buffer's index.
    __builtin_memcpy(buffer(i), &i, 8);
    return hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, desc(kBufs + i * kBufSize, kBufSize)).status ==
           H_SUCCESS;
}

struct Frame {
    u64 src = 0, dst = 0;
    u8 kind = 0, ack = 0;
    bool ok = false; // ours: our ethertype and magic
};

// Takes the next frame off the queue (false if none), gives its buffer back.
bool receive(Frame& f) {
    const volatile u8* e = area + kRxq + 16 * rx.next;
    const u64 flags = load_be(e, 4);
    if ((flags >> 31) != rx.toggle) return false;
    const u64 len = load_be(e + 4, 4);
    u64 corr = 0;
    for (int i = 0; i < 8; ++i) reinterpret_cast<u8*>(&corr)[i] = e[8 + i];
    if (++rx.next == kRxqBytes / 16) {
        rx.next = 0;
        rx.toggle ^= 1;
    }
    f = Frame{};
    if (!(flags & 0x4000'0000) || corr >= kBufCount) return true; // not ours to read
    const u8* p = buffer(corr) + (flags & 0xffff);
    f.dst = load_be(p, 6);
    f.src = load_be(p + 6, 6);
    f.ok = len >= 24 && load_be(p + 12, 2) == kEtherType &&
           __builtin_memcmp(p + 14, "TESSERA", 7) == 0;
    f.kind = p[21];
    f.ack = p[22];
    post(corr);
    return true;
}

i64 send(u64 dst, u8 kind, u8 ack) {
    u8* p = area + kTx;
    store_be(p, dst, 6);
    store_be(p + 6, my_mac, 6);
    store_be(p + 12, kEtherType, 2);
    __builtin_memcpy(p + 14, "TESSERA", 7);
    p[21] = kind;
    p[22] = ack;
    __builtin_memset(p + 23, 0x5a, 60 - 23);
    return hcall(H_SEND_LOGICAL_LAN, kUa, desc(kTx, 60)).status;
}

void exchange(const Boot& b) {
    // Our MAC: a test program has no device tree, so it registers its own, made from its
    // memory size (lan1 and lan2 have different sizes in the selftest configurations).
    my_mac = 0x02'00'00'00'00'00 | (b.memory_size >> 20);
    check_status(
        hcall(H_REGISTER_LOGICAL_LAN, kUa, kBufList, desc(kRxq, kRxqBytes), kFilter, my_mac).status,
        H_SUCCESS, "H_REGISTER_LOGICAL_LAN");
    check_status(
        hcall(H_REGISTER_LOGICAL_LAN, kUa, kBufList, desc(kRxq, kRxqBytes), kFilter, my_mac).status,
        H_RESOURCE, "H_REGISTER_LOGICAL_LAN again -> H_RESOURCE");
    check_status(hcall(H_CHANGE_LOGICAL_LAN_MAC, kUa, my_mac).status, H_SUCCESS,
                 "H_CHANGE_LOGICAL_LAN_MAC");
    check_status(hcall(H_CHANGE_LOGICAL_LAN_MAC, kUa, u64{1} << 48).status, H_PARAMETER,
                 "H_CHANGE_LOGICAL_LAN_MAC with more than 48 bits -> H_PARAMETER");
    const HcallResult mc = hcall(H_MULTICAST_CTRL, kUa, 0x20000 | 0x40000 | 0x80000, 0);
    check(mc.status == H_SUCCESS && mc.ret[0] == 0, "H_MULTICAST_CTRL: receive all, no filter");
    check_status(hcall(H_MULTICAST_CTRL, kUa, u64{1} << 40, 0).status, H_PARAMETER,
                 "H_MULTICAST_CTRL with an unknown flag -> H_PARAMETER");
    check_status(hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, desc(kBufs, 8)).status, H_PARAMETER,
                 "H_ADD_LOGICAL_LAN_BUFFER of 8 bytes -> H_PARAMETER");
    check_status(hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, desc(kBufs + 2, kBufSize)).status,
                 H_PARAMETER, "H_ADD_LOGICAL_LAN_BUFFER unaligned -> H_PARAMETER");
    check_status(hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, desc(kWindow - 256, kBufSize)).status,
                 H_PARAMETER, "H_ADD_LOGICAL_LAN_BUFFER past the window -> H_PARAMETER");
    check_status(hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, kBufSize << 32 | kBufs).status, H_PARAMETER,
                 "H_ADD_LOGICAL_LAN_BUFFER without the valid bit -> H_PARAMETER");
    bool posted = true;
    for (u64 i = 0; i < kBufCount; ++i) posted &= post(i);
    check(posted, "H_ADD_LOGICAL_LAN_BUFFER of %u buffers of %u bytes", unsigned(kBufCount),
          unsigned(kBufSize));
    check_status(hcall(H_SEND_LOGICAL_LAN, kUa, desc(kWindow - 16, 64)).status, H_PARAMETER,
                 "H_SEND_LOGICAL_LAN of a buffer past the window -> H_PARAMETER");
    check_status(hcall(H_SEND_LOGICAL_LAN, kUa, desc(0x100000, 64)).status, H_PERMISSION,
                 "H_SEND_LOGICAL_LAN of an unmapped buffer -> H_PERMISSION");
    check_status(hcall(H_SEND_LOGICAL_LAN, kUa, desc(kTx, 64), 0, 0, 0, 0, 0, 1).status,
                 H_PARAMETER, "H_SEND_LOGICAL_LAN with a continuation token -> H_PARAMETER");
    check_status(hcall(H_SEND_LOGICAL_LAN, kUa, desc(kTx, 8)).status, H_PARAMETER,
                 "H_SEND_LOGICAL_LAN of 8 bytes (no Ethernet header) -> H_PARAMETER");

    // Handshake: broadcast HELLO (ack = whether we have heard the peer) until the peer's ack.
    u64 peer = 0;
    bool heard = false, acked = false, own = false, bad_status = false, unicast = false;
    Deadline d = Deadline::ms(60000);
    while (!acked && !d.expired()) {
        const i64 s = send(kBroadcast, 'H', heard);
        bad_status |= s != H_SUCCESS && s != H_DROPPED;
        Frame f;
        while (receive(f)) {
            if (!f.ok) continue;
            own |= f.src == my_mac;
            unicast |= f.kind == 'U' && f.dst == my_mac && f.src == peer && peer != 0;
            if (f.src == my_mac || f.kind != 'H') continue;
            peer = f.src;
            heard = true;
            acked |= f.ack != 0;
        }
        idle(5 * ticks_per_ms());
    }
    check(heard, "a broadcast frame from the other LPAR on the LAN arrived");
    check(acked, "the other LPAR heard ours");
    check(!own, "our own frames never came back");
    check(!bad_status, "H_SEND_LOGICAL_LAN -> H_SUCCESS or H_DROPPED");
    // Unicast: one frame to the peer's MAC; wait for its unicast to ours.
    // The peer's buffers may be full (lanflood floods the LAN): H_DROPPED, try again, draining
    // our own queue meanwhile (the peer does the same, or neither would ever have room), until
    // a deadline rather than a count: on a busy host the flood outlasts any fixed count.
    i64 us = H_DROPPED;
    d = Deadline::ms(60000);
    while (us == H_DROPPED && !d.expired()) {
        us = send(peer, 'U', 1);
        Frame f;
        while (receive(f)) unicast |= f.ok && f.kind == 'U' && f.dst == my_mac && f.src == peer;
        if (us == H_DROPPED) idle(ticks_per_ms());
    }
    check_status(us, H_SUCCESS, "H_SEND_LOGICAL_LAN unicast to the peer");
    // Until the peer's unicast comes, keep telling it that we heard it (our HELLOs may have
    // been dropped while its buffers were full).
    d = Deadline::ms(60000);
    while (!unicast && !d.expired()) {
        Frame f;
        while (receive(f)) unicast |= f.ok && f.kind == 'U' && f.dst == my_mac && f.src == peer;
        if (!unicast) {
            send(kBroadcast, 'H', 1);
            idle(5 * ticks_per_ms());
        }
    }
    check(unicast, "the peer's unicast frame arrived, addressed to us");
    // Let the peer finish before our adapter goes away.
    for (int i = 0; i < 20; ++i) idle(5 * ticks_per_ms());
    check_status(hcall(H_FREE_LOGICAL_LAN, kUa).status, H_SUCCESS, "H_FREE_LOGICAL_LAN");
    check_status(hcall(H_SEND_LOGICAL_LAN, kUa, desc(kTx, 60)).status, H_DROPPED,
                 "H_SEND_LOGICAL_LAN after freeing -> H_DROPPED");
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    check_tces(b);
    check_lan_calls();
    exchange(b);
}
