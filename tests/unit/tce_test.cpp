#include "common/tce.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "common/lib/endian.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fake/memory_lpar.hpp"

using namespace tessera;
using namespace tessera::hcall;
using tce::Fault;
using tce::kRead;
using tce::kWrite;

namespace {

constexpr u64 kLparBytes = 2 * kChunkSize;

// An LPAR with one TCE window, as a virtual device would give it.
struct Guest : test::MemoryLpar {
    std::unique_ptr<tce::DefaultWindow> window = std::make_unique<tce::DefaultWindow>();
    explicit Guest(u32 liobn = 0x30000002, u32 id = 1) : MemoryLpar(1, kLparBytes, id) {
        window->bind(liobn, lpar->memory);
        REQUIRE(lpar->vio.add_window(*window));
        start();
    }
    Ret call(u64 op, u64 a0, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0, u64* ret = nullptr) {
        Env env{*lpar, lpar->vcpus[0]};
        Frame f;
        f.opcode = op;
        f.args[0] = a0;
        f.args[1] = a1;
        f.args[2] = a2;
        f.args[3] = a3;
        Ret r = dispatch(env, f);
        if (ret) *ret = f.rets[0];
        return r;
    }
    u64 get(u64 ioba) {
        u64 v = ~u64{0};
        CHECK(call(H_GET_TCE, window->liobn(), ioba, 0, 0, &v) == H_SUCCESS);
        return v;
    }
    void poke(u64 at, const std::vector<u8>& bytes) {
        REQUIRE(lpar->memory.copy_in(LogicalAddr(at), bytes.data(), bytes.size()));
    }
    std::vector<u8> peek(u64 at, u64 len) {
        std::vector<u8> b(len);
        REQUIRE(lpar->memory.copy_out(b.data(), LogicalAddr(at), len));
        return b;
    }
};

constexpr u64 L = 0x30000002;

} // namespace

TEST_CASE("H_PUT_TCE / H_GET_TCE: a page of the LPAR with its access bits") {
    Guest g;
    CHECK(g.get(0x5000) == 0);
    CHECK(g.call(H_PUT_TCE, L, 0x5000, 0x123000 | kRead | kWrite) == H_SUCCESS);
    CHECK(g.get(0x5000) == (0x123000 | 3));
    CHECK(g.get(0x5fff) == (0x123000 | 3)); // any IOBA in the page
    CHECK(g.get(0x6000) == 0);
    CHECK(g.call(H_PUT_TCE, L, 0x6000, 0x124ff1) == H_SUCCESS); // reserved bits 11..2 dropped
    CHECK(g.get(0x6000) == (0x124000 | kRead));
    CHECK(g.call(H_PUT_TCE, L, 0x5000, 0) == H_SUCCESS); // unmap
    CHECK(g.get(0x5000) == 0);
    CHECK(g.call(H_PUT_TCE, L, tce::kWindowSize - 1, (kLparBytes - 0x1000) | kRead) == H_SUCCESS);
}

TEST_CASE("TCE validation: outside the window, outside the LPAR, another LPAR's LIOBN") {
    Guest a(L, 1);
    Guest b(0x30000003, 2);
    CHECK(a.call(H_PUT_TCE, L, tce::kWindowSize, 0x1000 | kRead) == H_PARAMETER);
    CHECK(a.call(H_PUT_TCE, L, ~u64{0}, 0x1000 | kRead) == H_PARAMETER);
    CHECK(a.call(H_GET_TCE, L, tce::kWindowSize) == H_PARAMETER);
    CHECK(a.call(H_PUT_TCE, L, 0, kLparBytes | kRead) == H_PARAMETER); // just past the LPAR
    CHECK(a.call(H_PUT_TCE, L, 0, ~u64{0xfff} | kWrite) == H_PARAMETER);
    CHECK(a.call(H_PUT_TCE, L, 0, kLparBytes | 0) == H_SUCCESS); // no access: no page named
    // b's window exists, but not in a's LPAR.
    CHECK(a.call(H_PUT_TCE, 0x30000003, 0, 0x1000 | kRead) == H_PARAMETER);
    CHECK(a.call(H_GET_TCE, 0x30000003, 0) == H_PARAMETER);
    CHECK(a.call(H_STUFF_TCE, 0x30000003, 0, 0, 1) == H_PARAMETER);
    CHECK(a.call(H_PUT_TCE, u64{1} << 32 | L, 0, 0x1000 | kRead) == H_PARAMETER);
    CHECK(b.get(0) == 0);
    CHECK(a.get(0) == 0);
}

TEST_CASE("H_STUFF_TCE: counts up to the end of the window, validated first") {
    Guest g;
    CHECK(g.call(H_STUFF_TCE, L, 0x2000, 0x7000 | kRead, 3) == H_SUCCESS);
    CHECK(g.get(0x1000) == 0);
    CHECK(g.get(0x2000) == (0x7000 | kRead));
    CHECK(g.get(0x4000) == (0x7000 | kRead));
    CHECK(g.get(0x5000) == 0);
    // Linux 6.1 clears a whole window in one call.
    CHECK(g.call(H_STUFF_TCE, L, 0, 0, tce::kWindowEntries) == H_SUCCESS);
    CHECK(g.get(0x2000) == 0);
    CHECK(g.call(H_STUFF_TCE, L, 0x1000, 0, tce::kWindowEntries) == H_PARAMETER);
    CHECK(g.call(H_STUFF_TCE, L, 0, kLparBytes | kRead, 1) == H_PARAMETER);
    CHECK(g.call(H_STUFF_TCE, L, 0, 0x1000 | kRead, ~u64{0}) == H_PARAMETER);
}

TEST_CASE("H_PUT_TCE_INDIRECT: a page of big-endian TCEs, all or nothing") {
    Guest g;
    std::vector<u8> list(4096);
    for (u64 i = 0; i < 4; ++i) lib::store_be<u64>(&list[8 * i], (0x10000 + i * 0x1000) | 3);
    g.poke(0x8000, list);
    CHECK(g.call(H_PUT_TCE_INDIRECT, L, 0x3000, 0x8000, 4) == H_SUCCESS);
    CHECK(g.get(0x3000) == (0x10000 | 3));
    CHECK(g.get(0x6000) == (0x13000 | 3));
    CHECK(g.get(0x7000) == 0);
    CHECK(g.call(H_PUT_TCE_INDIRECT, L, 0x3000, 0x8008, 1) == H_PARAMETER); // list unaligned
    CHECK(g.call(H_PUT_TCE_INDIRECT, L, 0x3000, 0x8000, 513) == H_PARAMETER);
    CHECK(g.call(H_PUT_TCE_INDIRECT, L, 0x3000, kLparBytes, 1) == H_PARAMETER);
    CHECK(g.call(H_PUT_TCE_INDIRECT, L, tce::kWindowSize - 0x1000, 0x8000, 2) == H_PARAMETER);
    // One bad TCE in the list: nothing is stored.
    lib::store_be<u64>(&list[0], 0x20000 | 3);
    lib::store_be<u64>(&list[8], kLparBytes | 3);
    g.poke(0x8000, list);
    CHECK(g.call(H_PUT_TCE_INDIRECT, L, 0x3000, 0x8000, 2) == H_PARAMETER);
    CHECK(g.get(0x3000) == (0x10000 | 3));
}

TEST_CASE("DMA helpers check the access bits of every page before moving a byte") {
    Guest g;
    g.poke(0x10000, std::vector<u8>(0x2000, 0xaa));
    REQUIRE(g.call(H_PUT_TCE, L, 0x0000, 0x10000 | kRead) == H_SUCCESS);
    REQUIRE(g.call(H_PUT_TCE, L, 0x1000, 0x11000 | kRead | kWrite) == H_SUCCESS);
    std::vector<u8> buf(0x1800, 0x55);
    CHECK(g.window->read(0x800, buf.data(), 0x1000) == Fault::None);
    CHECK(buf[0] == 0xaa);
    CHECK(g.window->write(0x800, buf.data(), 0x1000) == Fault::NoAccess); // page 0 is read-only
    CHECK(g.peek(0x11000, 1)[0] == 0xaa);                                 // nothing written
    CHECK(g.window->write(0x1000, std::vector<u8>(16, 0x11).data(), 16) == Fault::None);
    CHECK(g.peek(0x11000, 1)[0] == 0x11);
    CHECK(g.window->read(0x1800, buf.data(), 0x1000) == Fault::NoAccess); // page 2 unmapped
    CHECK(g.window->read(tce::kWindowSize - 8, buf.data(), 16) == Fault::OutOfWindow);
    CHECK(g.window->read(~u64{0} - 4, buf.data(), 16) == Fault::OutOfWindow);
    CHECK(g.window->check(0, 0x2000, kRead) == Fault::None);
    CHECK(g.window->check(0, 0x2000, 0) == Fault::NoAccess);
    // The owner's memory is gone (LPAR ended): nothing is reachable any more.
    g.lpar->memory.release(*g.pool);
    CHECK(g.window->read(0x1000, buf.data(), 16) == Fault::Unbacked);
}

TEST_CASE("copy between two LPARs' windows, page by page on both sides") {
    Guest a(L, 1);
    Guest b(0x30000003, 2);
    std::vector<u8> data(0x3000);
    for (usize i = 0; i < data.size(); ++i) data[i] = static_cast<u8>(i * 13 + 7);
    a.poke(0x40000, data);
    REQUIRE(a.call(H_STUFF_TCE, L, 0, 0, 4) == H_SUCCESS);
    for (u64 i = 0; i < 3; ++i)
        REQUIRE(a.call(H_PUT_TCE, L, i * 0x1000, (0x40000 + i * 0x1000) | kRead) == H_SUCCESS);
    // b's pages are scattered and in reverse order.
    for (u64 i = 0; i < 4; ++i)
        REQUIRE(b.call(H_PUT_TCE, 0x30000003, 0x10000 + i * 0x1000,
                       (0x90000 - i * 0x2000) | kWrite) == H_SUCCESS);
    const u64 len = 0x2a00;
    CHECK(tce::copy(*a.window, 0x100, *b.window, 0x10800, len).ok());
    std::vector<u8> got(len);
    CHECK(b.window->check(0x10800, len, kWrite) == Fault::None);
    // Reassemble b's view through its TCEs.
    for (u64 off = 0; off < len;) {
        const u64 ioba = 0x10800 + off;
        const u64 page = ioba >> 12, in = ioba & 0xfff;
        const u64 n = std::min<u64>(0x1000 - in, len - off);
        auto piece = b.peek((0x90000 - (page - 0x10) * 0x2000) + in, n);
        std::copy(piece.begin(), piece.end(), got.begin() + static_cast<long>(off));
        off += n;
    }
    CHECK(std::equal(got.begin(), got.end(), data.begin() + 0x100));
    // The source needs read access, the destination write access.
    auto r = tce::copy(*b.window, 0x10000, *a.window, 0, 16);
    CHECK(r.src == Fault::NoAccess);
    CHECK(r.dst == Fault::NoAccess);
    r = tce::copy(*a.window, 0x2f00, *b.window, 0x10000, 0x200); // past a's third page
    CHECK(r.src == Fault::NoAccess);
    CHECK(r.dst == Fault::None);
}
