#include "common/llan.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "common/lib/endian.hpp"
#include "common/vswitch.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fake/memory_lpar.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {

constexpr u32 kUa = vio::kLanUnitBase;
constexpr u64 kBufList = 0x1000, kRxq = 0x2000, kFilter = 0x3000, kTx = 0x80000;
constexpr u64 kMapped = 2 * MiB; // IOBA x -> logical x, read and write

// An LPAR with one l-lan adapter on `lan`, its window identity-mapped over its first 2 MiB.
struct Node : test::MemoryLpar {
    std::unique_ptr<llan::Adapter> a = std::make_unique<llan::Adapter>();
    u64 mac;
    Node(u32 id, llan::Lan& lan) : MemoryLpar(1, kChunkSize, id), mac(0x020000000000 + id) {
        a->init(*lpar, kUa, vio::kLanFirstIrq, mac);
        REQUIRE(lpar->vio.add_window(a->window()));
        REQUIRE(lpar->vio.add_lan(*a));
        REQUIRE(lan.join(*a));
        start();
        for (u64 p = 0; p < kMapped; p += tce::kPageSize)
            REQUIRE(a->window().put(p, p | tce::kRead | tce::kWrite) == H_SUCCESS);
    }
    Ret call(u64 op, std::initializer_list<u64> args, u64* ret = nullptr) {
        Env env{*lpar, lpar->vcpus[0]};
        Frame f;
        f.opcode = op;
        usize i = 0;
        for (u64 v : args) f.args[i++] = v;
        Ret r = dispatch(env, f);
        if (ret) *ret = f.rets[0];
        return r;
    }
    static u64 desc(u64 ioba, u64 len) { return llan::kDescValid | len << 32 | ioba; }
    Ret open(u64 rxq_entries = 64) {
        return call(H_REGISTER_LOGICAL_LAN,
                    {kUa, kBufList, desc(kRxq, rxq_entries * 16), kFilter, mac});
    }
    // A buffer whose first 8 bytes are the correlator `tag`.
    Ret post(u64 ioba, u64 len, u64 tag) {
        u8 t[8];
        lib::store_be<u64>(t, tag);
        REQUIRE(lpar->memory.copy_in(LogicalAddr(ioba), t, 8));
        return call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, desc(ioba, len)});
    }
    Ret send(u64 dst, u64 len, u8 fill = 0x5a) {
        std::vector<u8> f(len, fill);
        for (int i = 0; i < 6; ++i) f[i] = static_cast<u8>(dst >> (40 - 8 * i));
        for (int i = 0; i < 6; ++i) f[6 + i] = static_cast<u8>(mac >> (40 - 8 * i));
        REQUIRE(lpar->memory.copy_in(LogicalAddr(kTx), f.data(), len));
        return call(H_SEND_LOGICAL_LAN, {kUa, desc(kTx, len), 0, 0, 0, 0, 0, 0, 0xdead});
    }
    std::vector<u8> peek(u64 at, u64 len) {
        std::vector<u8> b(len);
        REQUIRE(lpar->memory.copy_out(b.data(), LogicalAddr(at), len));
        return b;
    }
    struct Entry {
        u32 flags_off, length;
        u64 correlator;
    };
    Entry entry(u64 i) {
        auto b = peek(kRxq + 16 * i, 16);
        return {lib::load_be<u32>(&b[0]), lib::load_be<u32>(&b[4]), lib::load_be<u64>(&b[8])};
    }
    u64 dropped_counter() { return lib::load_be<u64>(peek(kBufList + 4088, 8).data()); }
    bool irq_raised() {
        return lpar->xics.source_state(vio::kLanFirstIrq) != xics::SourceState::Idle;
    }
};

struct Net {
    std::unique_ptr<llan::Lan> lan = std::make_unique<llan::Lan>();
    std::unique_ptr<Node> a, b, c;
    Net() {
        lan->init("net0");
        a = std::make_unique<Node>(1, *lan);
        b = std::make_unique<Node>(2, *lan);
        c = std::make_unique<Node>(3, *lan);
        for (Node* n : {a.get(), b.get(), c.get()}) REQUIRE(n->open() == H_SUCCESS);
    }
};

constexpr u64 kBroadcast = 0xffffffffffff;

} // namespace

TEST_CASE("vswitch: a unicast frame reaches only the LPAR it names, with its queue entry") {
    Net n;
    for (Node* x : {n.a.get(), n.b.get(), n.c.get()}) REQUIRE(x->post(0x10000, 2048, 0x1111) == 0);
    REQUIRE(n.b->call(H_VIO_SIGNAL, {kUa, 1}) == H_SUCCESS);
    CHECK(n.a->send(n.b->mac, 100) == H_SUCCESS);
    const Node::Entry e = n.b->entry(0);
    CHECK(e.flags_off == (llan::kRxToggle | llan::kRxValid | 8));
    CHECK(e.length == 100);
    CHECK(e.correlator == 0x1111);
    auto frame = n.b->peek(0x10000 + 8, 100);
    CHECK(frame == n.a->peek(kTx, 100));
    CHECK(n.b->peek(0x10000 + 108, 1)[0] == 0); // nothing past the frame
    CHECK(n.b->irq_raised());
    CHECK(n.c->entry(0).flags_off == 0); // not named: nothing
    CHECK(n.a->entry(0).flags_off == 0); // never back to the sender
    CHECK(n.c->a->pools().count() == 1);
    CHECK(n.a->send(0x02aabbccddee, 100) == H_SUCCESS); // nobody: dropped silently
    CHECK(n.c->a->pools().count() == 1);
}

TEST_CASE("vswitch: broadcast and multicast go to every other member, not the sender") {
    Net n;
    for (Node* x : {n.a.get(), n.b.get(), n.c.get()}) REQUIRE(x->post(0x10000, 2048, 7) == 0);
    CHECK(n.a->send(kBroadcast, 60) == H_SUCCESS);
    CHECK(n.b->entry(0).length == 60);
    CHECK(n.c->entry(0).length == 60);
    CHECK(n.a->entry(0).flags_off == 0);
    CHECK(!n.b->irq_raised()); // H_VIO_SIGNAL not enabled
    REQUIRE(n.a->post(0x20000, 2048, 8) == 0);
    CHECK(n.c->send(0x01005e000001, 60) == H_DROPPED); // b has no buffer left
    CHECK(n.a->entry(0).length == 60);
    CHECK(n.b->dropped_counter() == 1);
}

TEST_CASE("vswitch: a frame never enters an LPAR that is not running or not registered") {
    Net n;
    REQUIRE(n.b->post(0x10000, 2048, 1) == 0);
    REQUIRE(n.c->call(H_FREE_LOGICAL_LAN, {kUa}) == H_SUCCESS);
    n.b->lpar->stop("test");
    CHECK(n.a->send(kBroadcast, 60) == H_SUCCESS);
    CHECK(n.b->entry(0).flags_off == 0);
    CHECK(n.c->entry(0).flags_off == 0);
}

TEST_CASE("receive pools: the smallest buffer that holds frame + 8 bytes") {
    Net n;
    Node& b = *n.b;
    REQUIRE(b.post(0x40000, 65536, 0x64) == 0);
    REQUIRE(b.post(0x10000, 512, 0x5) == 0);
    REQUIRE(b.post(0x20000, 2048, 0x2) == 0);
    REQUIRE(b.post(0x10200, 512, 0x6) == 0);
    CHECK(b.a->pools().pool_count() == 3);
    CHECK(b.a->pools().pool_size(0) == 512);
    CHECK(n.a->send(b.mac, 504) == H_SUCCESS); // exactly fills a 512-byte buffer
    CHECK(b.entry(0).correlator == 0x6);       // the last posted of that size
    CHECK(n.a->send(b.mac, 505) == H_SUCCESS);
    CHECK(b.entry(1).correlator == 0x2);
    CHECK(n.a->send(b.mac, 60) == H_SUCCESS);
    CHECK(b.entry(2).correlator == 0x5);
    CHECK(n.a->send(b.mac, 60) == H_SUCCESS); // small pools empty: the 64 KiB buffer
    CHECK(b.entry(3).correlator == 0x64);
    CHECK(b.a->pools().count() == 0);
    CHECK(n.a->send(b.mac, 60) == H_DROPPED);
    CHECK(b.dropped_counter() == 1);
    CHECK(b.a->dropped() == 1);
    CHECK(n.a->send(b.mac, 60) == H_DROPPED);
    CHECK(b.dropped_counter() == 2);
}

TEST_CASE("receive pools: room for ibmveth's 1,536 buffers, H_RESOURCE beyond") {
    Net n;
    Node& b = *n.b;
    u64 at = 0x100000;
    for (int i = 0; i < 2048; ++i)
        REQUIRE(b.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(at + 16 * i, 16)}) == 0);
    CHECK(b.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(at, 16)}) == H_RESOURCE);
    // Eight sizes at most.
    Node& c = *n.c;
    for (u64 s = 1; s <= 8; ++s)
        REQUIRE(c.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(at, 16 * s)}) == 0);
    CHECK(c.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(at, 16 * 9)}) == H_RESOURCE);
    CHECK(c.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(at, 16 * 3)}) == H_SUCCESS);
}

TEST_CASE("receive queue: wraps and flips the toggle") {
    Net n;
    Node& b = *n.b;
    REQUIRE(b.call(H_FREE_LOGICAL_LAN, {kUa}) == H_SUCCESS);
    REQUIRE(b.open(3) == H_SUCCESS);
    for (u64 i = 0; i < 7; ++i) REQUIRE(b.post(0x10000 + i * 0x1000, 2048, i) == 0);
    for (u64 i = 0; i < 7; ++i) REQUIRE(n.a->send(b.mac, 60 + i) == H_SUCCESS);
    // Frames 0..2 fill entries 0..2 (toggle 1), 3..5 overwrite them (toggle 0), 6 is entry 0
    // again (toggle 1).
    CHECK(b.entry(0).flags_off == (llan::kRxToggle | llan::kRxValid | 8));
    CHECK(b.entry(0).length == 66);
    CHECK(b.entry(1).flags_off == (llan::kRxValid | 8));
    CHECK(b.entry(1).length == 64);
    CHECK(b.entry(2).length == 65);
    CHECK(b.a->rx_queue_offset() == 16);
    CHECK(b.a->toggle());
    // Registering again starts over: first pass, offset 0, a clean queue.
    REQUIRE(b.call(H_FREE_LOGICAL_LAN, {kUa}) == H_SUCCESS);
    REQUIRE(b.open(3) == H_SUCCESS);
    CHECK(b.entry(0).flags_off == 0);
    CHECK(b.a->rx_queue_offset() == 0);
}

TEST_CASE("logical LAN hcalls refuse bad arguments with PAPR codes") {
    Net n;
    Node& a = *n.a;
    CHECK(a.open() == H_RESOURCE); // registered already
    REQUIRE(a.call(H_FREE_LOGICAL_LAN, {kUa}) == H_SUCCESS);
    CHECK(a.call(H_FREE_LOGICAL_LAN, {kUa}) == H_RESOURCE);
    CHECK(a.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(0x10000, 512)}) == H_RESOURCE);
    CHECK(a.send(n.b->mac, 60) == H_DROPPED); // not registered
    auto reg = [&](u64 bl, u64 rxq, u64 fl) {
        return a.call(H_REGISTER_LOGICAL_LAN, {kUa, bl, rxq, fl, a.mac});
    };
    CHECK(reg(0x1008, Node::desc(kRxq, 256), kFilter) == H_PARAMETER);
    CHECK(reg(kBufList, Node::desc(kRxq, 250), kFilter) == H_PARAMETER);
    CHECK(reg(kBufList, Node::desc(kRxq + 8, 256), kFilter) == H_PARAMETER);
    CHECK(reg(kBufList, (256ull << 32) | kRxq, kFilter) == H_PARAMETER); // not valid
    CHECK(reg(kBufList, Node::desc(kRxq, 0), kFilter) == H_PARAMETER);
    CHECK(reg(kBufList, Node::desc(kRxq, 256), kMapped) == H_PARAMETER); // unmapped
    CHECK(reg(kBufList, Node::desc(tce::kWindowSize - 16, 32), kFilter) == H_PARAMETER);
    CHECK(reg(tce::kWindowSize, Node::desc(kRxq, 256), kFilter) == H_PARAMETER);
    REQUIRE(a.a->window().put(kRxq, kRxq | tce::kRead) == H_SUCCESS); // queue read-only
    CHECK(reg(kBufList, Node::desc(kRxq, 256), kFilter) == H_PARAMETER);
    REQUIRE(a.a->window().put(kRxq, kRxq | 3) == H_SUCCESS);
    CHECK(a.call(H_REGISTER_LOGICAL_LAN, {kUa + 1, kBufList, Node::desc(kRxq, 256), kFilter, 0}) ==
          H_PARAMETER); // no such unit address
    REQUIRE(a.open() == H_SUCCESS);
    CHECK(a.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, 512ull << 32 | 0x10000}) == H_PARAMETER);
    CHECK(a.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(0x10002, 512)}) == H_PARAMETER);
    CHECK(a.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(0x10000, 8)}) == H_PARAMETER);
    CHECK(a.call(H_ADD_LOGICAL_LAN_BUFFER, {kUa, Node::desc(tce::kWindowSize - 256, 512)}) ==
          H_PARAMETER);
    auto send = [&](std::initializer_list<u64> args) { return a.call(H_SEND_LOGICAL_LAN, args); };
    CHECK(send({kUa, Node::desc(tce::kWindowSize - 16, 64)}) == H_PARAMETER);
    CHECK(send({kUa, Node::desc(kMapped, 64)}) == H_PERMISSION);              // unmapped
    CHECK(send({kUa, Node::desc(kTx, 64), 0, 0, 0, 0, 0, 1}) == H_PARAMETER); // token
    CHECK(send({kUa, Node::desc(kTx, 13)}) == H_PARAMETER);                   // too short
    CHECK(send({kUa, Node::desc(kTx, 65537)}) == H_PARAMETER);                // too long
    CHECK(send({kUa, 0}) == H_PARAMETER);                                     // nothing
    CHECK(a.call(H_VIO_SIGNAL, {kUa, 2}) == H_PARAMETER);
    CHECK(a.call(H_VIO_SIGNAL, {kUa, 0}) == H_SUCCESS);
    CHECK(a.call(H_VIO_SIGNAL, {0x30000000, 1}) == H_PARAMETER); // the vty has no VIO signal here
    CHECK(a.call(H_CHANGE_LOGICAL_LAN_MAC, {kUa, 1ull << 48}) == H_PARAMETER);
    CHECK(a.call(H_MULTICAST_CTRL, {kUa, 0x100000, 0}) == H_PARAMETER);
    u64 r = 1;
    CHECK(a.call(H_MULTICAST_CTRL, {kUa, 0x20000 | 0x40000 | 0x80000, 0}, &r) == H_SUCCESS);
    CHECK(r == 0);
    CHECK(a.call(H_ILLAN_ATTRIBUTES, {kUa, 0, 0}) == H_FUNCTION);
}

TEST_CASE("a frame is gathered from several descriptors; H_CHANGE_LOGICAL_LAN_MAC re-routes") {
    Net n;
    Node& b = *n.b;
    REQUIRE(b.post(0x10000, 2048, 1) == 0);
    REQUIRE(b.post(0x20000, 2048, 2) == 0);
    std::vector<u8> f(100);
    for (usize i = 0; i < f.size(); ++i) f[i] = static_cast<u8>(i);
    for (int i = 0; i < 6; ++i) f[i] = static_cast<u8>(b.mac >> (40 - 8 * i));
    // Three pieces, the first shorter than a MAC, the last across a page boundary.
    REQUIRE(n.a->lpar->memory.copy_in(LogicalAddr(0x50000), f.data(), 4));
    REQUIRE(n.a->lpar->memory.copy_in(LogicalAddr(0x60000), f.data() + 4, 40));
    REQUIRE(n.a->lpar->memory.copy_in(LogicalAddr(0x70fe0), f.data() + 44, 56));
    CHECK(n.a->call(H_SEND_LOGICAL_LAN, {kUa, Node::desc(0x50000, 4), Node::desc(0x60000, 40),
                                         Node::desc(0x70fe0, 56), 0}) == H_SUCCESS);
    CHECK(b.entry(0).length == 100);
    CHECK(b.peek(0x20000 + 8, 100) == f);
    REQUIRE(b.call(H_CHANGE_LOGICAL_LAN_MAC, {kUa, 0x02123456789a}) == H_SUCCESS);
    CHECK(n.a->send(b.mac, 60) == H_SUCCESS); // the old MAC: nobody
    CHECK(b.entry(1).flags_off == 0);
    CHECK(n.a->send(0x02123456789a, 60) == H_SUCCESS);
    CHECK(b.entry(1).length == 60);
}

TEST_CASE("a receiver whose own TCEs refuse the write gets nothing; the sender's data is safe") {
    Net n;
    Node& b = *n.b;
    REQUIRE(b.post(0x10000, 2048, 1) == 0);
    REQUIRE(b.a->window().put(0x10000, 0x10000 | tce::kRead) == H_SUCCESS); // no write
    CHECK(n.a->send(b.mac, 100, 0x77) == H_DROPPED);
    CHECK(b.peek(0x10008, 1)[0] == 0);
    CHECK(b.entry(0).flags_off == 0);
    // A sender whose buffer is write-only (no read access) cannot send it.
    REQUIRE(n.a->a->window().put(kTx, kTx | tce::kWrite) == H_SUCCESS);
    CHECK(n.a->send(b.mac, 100) == H_PERMISSION);
}
