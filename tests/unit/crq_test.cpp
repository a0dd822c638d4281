#include "common/crq.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "common/lib/endian.hpp"
#include "common/rdma.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fake/memory_lpar.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {

constexpr u32 kUa = vio::kVscsiUnitBase;
constexpr u64 kQueue = 0x10000, kQueueLen = 0x1000; // 256 entries
constexpr u64 kMapped = 2 * MiB;                    // IOBA x -> logical x, read and write

// An LPAR with one CRQ device, its window identity-mapped over its first 2 MiB.
struct Side : test::MemoryLpar {
    std::unique_ptr<crq::Device> d = std::make_unique<crq::Device>();
    Side(u32 id, crq::Role role) : MemoryLpar(1, kChunkSize, id) {
        d->init(*lpar, role, kUa, vio::kVscsiFirstIrq);
        REQUIRE(lpar->vio.add_window(d->window()));
        REQUIRE(lpar->vio.add_crq(*d));
        start();
        for (u64 p = 0; p < kMapped; p += tce::kPageSize)
            REQUIRE(d->window().put(p, p | tce::kRead | tce::kWrite) == H_SUCCESS);
    }
    Ret call(u64 op, std::initializer_list<u64> args) {
        Env env{*lpar, lpar->vcpus[0]};
        Frame f;
        f.opcode = op;
        usize i = 0;
        for (u64 v : args) f.args[i++] = v;
        return dispatch(env, f);
    }
    Ret reg() { return call(H_REG_CRQ, {kUa, kQueue, kQueueLen}); }
    std::vector<u8> peek(u64 at, u64 len) {
        std::vector<u8> v(len);
        REQUIRE(lpar->memory.copy_out(v.data(), LogicalAddr(at), len));
        return v;
    }
    void poke(u64 at, const std::vector<u8>& v) {
        REQUIRE(lpar->memory.copy_in(LogicalAddr(at), v.data(), v.size()));
    }
    std::pair<u64, u64> entry(u64 i) {
        auto b = peek(kQueue + 16 * i, 16);
        return {lib::load_be<u64>(&b[0]), lib::load_be<u64>(&b[8])};
    }
    void consume(u64 i) { poke(kQueue + 16 * i, {0}); }
    bool irq_raised() {
        return lpar->xics.source_state(vio::kVscsiFirstIrq) != xics::SourceState::Idle;
    }
};

struct Pair {
    Side server{1, crq::Role::Server};
    Side client{2, crq::Role::Client};
    Pair() { crq::Device::pair(*server.d, *client.d); }
    u64 remote() const { return server.d->remote_liobn(); }
};

constexpr u64 kInit = 0xC001'0000'0000'0000;

} // namespace

TEST_CASE("crq: H_REG_CRQ says whether the partner is there; validation per PAPR") {
    Pair p;
    CHECK(p.client.call(H_REG_CRQ, {kUa + 1, kQueue, kQueueLen}) == H_PARAMETER); // no such UA
    CHECK(p.client.call(H_REG_CRQ, {kUa, kQueue + 8, kQueueLen}) == H_PARAMETER); // unaligned
    CHECK(p.client.call(H_REG_CRQ, {kUa, kQueue, 0x800}) == H_PARAMETER);         // not 4K
    CHECK(p.client.call(H_REG_CRQ, {kUa, kQueue, 0}) == H_PARAMETER);
    CHECK(p.client.call(H_REG_CRQ, {kUa, crq::kWindowSize - 0x1000, 0x2000}) == H_PARAMETER);
    CHECK(p.client.call(H_REG_CRQ, {kUa, ~u64{0xfff}, 0x1000}) == H_PARAMETER);
    CHECK(p.client.call(H_REG_CRQ, {kUa, kMapped, 0x1000}) == H_PARAMETER); // no TCE there
    REQUIRE(p.client.d->window().put(kQueue, kQueue | tce::kRead) == H_SUCCESS);
    CHECK(p.client.reg() == H_PARAMETER); // read-only queue page
    REQUIRE(p.client.d->window().put(kQueue, kQueue | tce::kRead | tce::kWrite) == H_SUCCESS);
    CHECK(p.client.reg() == H_CLOSED); // the server is not there yet
    CHECK(p.client.reg() == H_RESOURCE);
    CHECK(!p.client.d->connected());
    CHECK(p.server.reg() == H_SUCCESS);
    CHECK(p.client.d->connected());
    CHECK(p.server.d->connected());
    CHECK(p.client.call(H_ENABLE_CRQ, {kUa}) == H_SUCCESS);
    CHECK(p.client.call(H_ENABLE_CRQ, {kUa + 1}) == H_PARAMETER);
    crq::Device lone;
    lone.init(*p.client.lpar, crq::Role::Client, kUa + 1, vio::kVscsiFirstIrq + 1);
    CHECK(lone.reg(kQueue, kQueueLen) == H_NOT_FOUND); // no partner configured
}

TEST_CASE("crq: H_SEND_CRQ puts the message big-endian into the partner's next free entry") {
    Pair p;
    REQUIRE(p.client.reg() == H_CLOSED);
    CHECK(p.client.call(H_SEND_CRQ, {kUa, kInit, 0}) == H_CLOSED); // not connected
    REQUIRE(p.server.reg() == H_SUCCESS);
    CHECK(p.client.call(H_SEND_CRQ, {kUa, 0x7f00'0000'0000'0000, 0}) == H_PARAMETER);
    CHECK(p.client.call(H_SEND_CRQ, {kUa, 0xFF01'0000'0000'0000, 0}) == H_PARAMETER);
    CHECK(p.client.call(H_SEND_CRQ, {kUa, 0, 0}) == H_PARAMETER);
    CHECK(p.client.call(H_SEND_CRQ, {kUa + 4, kInit, 0}) == H_PARAMETER);
    REQUIRE(p.server.call(H_VIO_SIGNAL, {kUa, 1}) == H_SUCCESS);
    CHECK(p.client.call(H_SEND_CRQ, {kUa, kInit, 0x1122'3344'5566'7788}) == H_SUCCESS);
    CHECK(p.server.entry(0) == std::pair<u64, u64>{kInit, 0x1122'3344'5566'7788});
    CHECK(p.server.peek(kQueue, 2) == std::vector<u8>{0xC0, 0x01});
    CHECK(p.server.irq_raised());
    CHECK(!p.client.irq_raised());
    CHECK(p.server.call(H_SEND_CRQ, {kUa, 0xC002'0000'0000'0000, 0}) == H_SUCCESS);
    CHECK(p.client.entry(0).first == 0xC002'0000'0000'0000);
    CHECK(!p.client.irq_raised()); // the client did not enable its interrupt
    CHECK(p.server.call(H_VIO_SIGNAL, {kUa, 2}) == H_PARAMETER);
}

TEST_CASE("crq: a full queue drops; a consumed entry is used again; the queue wraps") {
    Pair p;
    REQUIRE(p.client.reg() == H_CLOSED);
    REQUIRE(p.server.reg() == H_SUCCESS);
    const u64 n = kQueueLen / 16;
    for (u64 i = 0; i < n; ++i)
        REQUIRE(p.client.call(H_SEND_CRQ, {kUa, 0x8000'0000'0000'0000 | i, i}) == H_SUCCESS);
    CHECK(p.client.call(H_SEND_CRQ, {kUa, 0x8100'0000'0000'0000, 0}) == H_DROPPED);
    p.server.consume(1); // the next slot is 0: still full
    CHECK(p.client.call(H_SEND_CRQ, {kUa, 0x8100'0000'0000'0000, 0}) == H_DROPPED);
    p.server.consume(0);
    CHECK(p.client.call(H_SEND_CRQ, {kUa, 0x8200'0000'0000'0000, 7}) == H_SUCCESS);
    CHECK(p.server.entry(0) == std::pair<u64, u64>{0x8200'0000'0000'0000, 7});
    CHECK(p.client.call(H_SEND_CRQ, {kUa, 0x8300'0000'0000'0000, 8}) == H_SUCCESS);
    CHECK(p.server.entry(1) == std::pair<u64, u64>{0x8300'0000'0000'0000, 8});
}

TEST_CASE("crq: H_FREE_CRQ posts 0xFF02 to the partner, which stays registered") {
    Pair p;
    REQUIRE(p.client.reg() == H_CLOSED);
    REQUIRE(p.server.reg() == H_SUCCESS);
    CHECK(p.client.call(H_FREE_CRQ, {kUa}) == H_SUCCESS);
    CHECK(p.server.entry(0).first == 0xFF02'0000'0000'0000);
    CHECK(p.server.d->registered());
    CHECK(!p.server.d->connected());
    CHECK(p.server.call(H_SEND_CRQ, {kUa, kInit, 0}) == H_CLOSED);
    CHECK(p.client.call(H_FREE_CRQ, {kUa}) == H_SUCCESS); // freeing twice is harmless
    CHECK(p.server.entry(1).first == 0);                  // and posts nothing
    CHECK(p.client.call(H_FREE_CRQ, {kUa + 1}) == H_PARAMETER);
    // Registering again reconnects: the client's queue starts over at entry 0.
    p.client.poke(kQueue, std::vector<u8>(kQueueLen, 0));
    CHECK(p.client.reg() == H_SUCCESS);
    CHECK(p.server.call(H_SEND_CRQ, {kUa, kInit, 0}) == H_SUCCESS);
    CHECK(p.client.entry(0).first == kInit);
}

TEST_CASE("crq: a partner LPAR that crashes or stops posts 0xFF01; a full queue's last entry") {
    SUBCASE("crash") {
        Pair p;
        REQUIRE(p.client.reg() == H_CLOSED);
        REQUIRE(p.server.reg() == H_SUCCESS);
        REQUIRE(p.client.call(H_VIO_SIGNAL, {kUa, 1}) == H_SUCCESS);
        REQUIRE(p.server.lpar->crash("test"));
        CHECK(p.client.entry(0).first == 0xFF01'0000'0000'0000);
        CHECK(p.client.irq_raised());
        CHECK(p.client.call(H_SEND_CRQ, {kUa, kInit, 0}) == H_CLOSED);
        CHECK(rdma::window(p.server.lpar->vio, p.remote()) == nullptr);
    }
    SUBCASE("stop with the partner's queue full") {
        Pair p;
        REQUIRE(p.client.reg() == H_CLOSED);
        REQUIRE(p.server.reg() == H_SUCCESS);
        const u64 n = kQueueLen / 16;
        for (u64 i = 0; i < n; ++i)
            REQUIRE(p.server.call(H_SEND_CRQ, {kUa, 0x8000'0000'0000'0000, i}) == H_SUCCESS);
        REQUIRE(p.server.lpar->stop("poweroff"));
        CHECK(p.client.entry(n - 1).first == 0xFF01'0000'0000'0000);
        CHECK(p.client.entry(n - 2).second == n - 2);
    }
    SUBCASE("an unconnected partner learns nothing") {
        Pair p;
        REQUIRE(p.client.reg() == H_CLOSED);
        REQUIRE(p.server.lpar->crash("test"));
        CHECK(p.client.entry(0).first == 0);
    }
}

TEST_CASE("rdma: the remote window is the client's while connected, and every error") {
    Pair p;
    const u64 local = kUa, remote = p.remote();
    auto copy = [&](u64 len, u64 sl, u64 si, u64 dl, u64 di) {
        return p.server.call(H_COPY_RDMA, {len, sl, si, dl, di});
    };
    std::vector<u8> data(10000);
    for (usize i = 0; i < data.size(); ++i) data[i] = static_cast<u8>(i * 7 + 1);
    p.client.poke(0x20000 + 100, data);
    // Not connected: the remote LIOBN resolves to nothing.
    CHECK(copy(16, remote, 0x20000, local, 0x40000) == H_SOURCE_PARM);
    REQUIRE(p.client.reg() == H_CLOSED);
    CHECK(copy(16, remote, 0x20000, local, 0x40000) == H_SOURCE_PARM);
    REQUIRE(p.server.reg() == H_SUCCESS);
    // Remote -> local across pages (an IU fetch), then local -> remote (a response).
    CHECK(copy(data.size(), remote, 0x20000 + 100, local, 0x40000 + 3000) == H_SUCCESS);
    CHECK(p.server.peek(0x40000 + 3000, data.size()) == data);
    CHECK(copy(data.size(), local, 0x40000 + 3000, remote, 0x60000 + 5) == H_SUCCESS);
    CHECK(p.client.peek(0x60000 + 5, data.size()) == data);
    CHECK(copy(0, remote, 0, local, 0) == H_SUCCESS);
    // Unknown LIOBNs: another LPAR's (the client's own LIOBN is the server's local one here, so
    // use one nobody has), bits above 32, the client asking for the server's remote LIOBN.
    CHECK(copy(16, 0x7777, 0, local, 0) == H_SOURCE_PARM);
    CHECK(copy(16, local, 0, 0x7777, 0) == H_DEST_PARM);
    CHECK(copy(16, u64{1} << 32 | local, 0, local, 0x1000) == H_SOURCE_PARM);
    CHECK(p.client.call(H_COPY_RDMA, {16, remote, 0, kUa, 0}) == H_SOURCE_PARM);
    CHECK(p.client.call(H_COPY_RDMA, {16, kUa, 0, remote, 0}) == H_DEST_PARM);
    // Lengths past either window, overflowing ranges.
    CHECK(copy(0x2000, remote, crq::kWindowSize - 0x1000, local, 0) == H_SOURCE_PARM);
    CHECK(copy(0x2000, local, 0, remote, crq::kWindowSize - 0x1000) == H_DEST_PARM);
    CHECK(copy(~u64{0}, local, 0x1000, remote, 0) == H_SOURCE_PARM);
    CHECK(copy(16, local, ~u64{0} - 4, remote, 0) == H_SOURCE_PARM);
    // Unmapped pages (no access bits) and one-way pages.
    CHECK(copy(16, remote, kMapped, local, 0) == H_PERMISSION);
    CHECK(copy(16, local, 0, remote, kMapped) == H_PERMISSION);
    REQUIRE(p.client.d->window().put(0x70000, 0x70000 | tce::kWrite) == H_SUCCESS);
    REQUIRE(p.server.d->window().put(0x50000, 0x50000 | tce::kRead) == H_SUCCESS);
    const auto before = p.server.peek(0x50000, 16);
    CHECK(copy(16, remote, 0x70000, local, 0x40000) == H_PERMISSION); // write-only source
    CHECK(copy(16, remote, 0x20000, local, 0x50000) == H_PERMISSION); // read-only destination
    CHECK(p.server.peek(0x50000, 16) == before);
    // A copy that would end in an unmapped page writes nothing at all.
    const auto dst_before = p.client.peek(kMapped - 0x1000, 0x1000);
    CHECK(copy(0x1800, local, 0x40000, remote, kMapped - 0x1000) == H_PERMISSION);
    CHECK(p.client.peek(kMapped - 0x1000, 0x1000) == dst_before);
    // The remote LIOBN is not on the server's bus: the TCE hcalls cannot touch it.
    CHECK(p.server.call(H_PUT_TCE, {remote, 0, 0x1000 | tce::kRead}) == H_PARAMETER);
    CHECK(p.server.call(H_GET_TCE, {remote, 0}) == H_PARAMETER);
    // The client frees its queue: the window is gone for the server.
    REQUIRE(p.client.call(H_FREE_CRQ, {kUa}) == H_SUCCESS);
    CHECK(copy(16, local, 0x40000, remote, 0x60000) == H_DEST_PARM);
    CHECK(p.server.call(H_VIOCTL, {kUa, 8, 0}) == H_FUNCTION);
}
