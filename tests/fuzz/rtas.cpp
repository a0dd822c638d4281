// Fuzzes RTAS argument blocks (hcall/rtas.cpp) through H_RTAS from a running 4-vcpu LPAR over
// fake memory. Each step writes a block (token mostly a real one, nargs/nret around the limits,
// arguments biased to XICS sources, servers, CPUs and the LPAR's edges) at an address biased to
// chunk boundaries and the LPAR's end, or calls on whatever is there. Checked: the status is
// H_SUCCESS or H_PARAMETER; the hypervisor writes nothing but the block's rets (nothing at all
// when it returns H_PARAMETER for a block it cannot read), and never the neighbour's memory.
#include "hcall/rtas.hpp"
#include "common/lpar.hpp"
#include "tests/fake/plat_fake.hpp"
#include "tests/fuzz/fake_lpar.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {

constexpr u32 kVcpus = 4;
constexpr u64 C = kChunkSize, kEnd = 2 * C;
constexpr u64 kSlack = 16; // bytes checked on each side of the block

u32 be32(const u8* p) {
    return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | p[3];
}

void put_be32(u8* p, u32 v) {
    p[0] = static_cast<u8>(v >> 24);
    p[1] = static_cast<u8>(v >> 16);
    p[2] = static_cast<u8>(v >> 8);
    p[3] = static_cast<u8>(v);
}

// The LPAR's bytes in [at, at + len) clipped to the LPAR, for before/after comparisons.
std::vector<u8> snapshot(const LogicalMap& mem, u64 at, u64 len) {
    std::vector<u8> out;
    for (u64 a = at; a < at + len && a >= at; ++a) {
        u8 b = 0;
        if (mem.copy_out(&b, LogicalAddr(a), 1)) out.push_back(b);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static fuzz::FakeLpar m(kVcpus, 3, 2);
    m.reset(kVcpus);
    m.start();
    m.lpar->vty.reset();
    fake::console_out.clear();
    const u64 where[] = {0,           0x10000,   C - 12,   C - 16, C - 4,        C - 76,
                         kEnd - 12,   kEnd - 76, kEnd - 4, kEnd,   ~u64{0} - 11, m.neighbour_real(),
                         u64{1} << 32};
    const u64 cells[] = {0x1000, 0x1001,      0x1fff,      0,    1,  3,  4,  7,  8,  0xff,
                         5,      0xffff'ffff, 0x8000'0000, 2026, 12, 31, 23, 59, 60, 1'000'000'000};

    fuzz::Input in(data, size);
    for (int step = 0; step < 16 && !in.empty(); ++step) {
        const u64 at = in.edge(where);
        const u8 how = in.byte();
        u32 nargs = in.byte() % 20, nret = in.byte() % 20;
        if (how & 0x80) nargs = in.u32v(); // past the limit, and overflowing nargs + nret
        u8 block[12 + 4 * 40];
        const u32 token = (how & 0x40) ? in.u32v() : rtas::kDisplayCharacter + how % 0x12;
        put_be32(block, token);
        put_be32(block + 4, nargs);
        put_be32(block + 8, nret);
        for (u32 i = 0; i < 40; ++i) put_be32(block + 12 + 4 * i, static_cast<u32>(in.edge(cells)));
        const u64 written = 12 + 4 * ((u64{nargs} + nret) < 40 ? u64{nargs} + nret : 40);
        if (!(how & 0x20)) {
            // Write what fits of the block (a block straddling the LPAR's end is partly there).
            for (u64 i = 0; i < written; ++i)
                m.lpar->memory.copy_in(LogicalAddr(at + i), block + i, 1);
        }
        // What the hypervisor will find there (the block just written, or what was there).
        u8 header[12];
        bool inside = m.lpar->memory.copy_out(header, LogicalAddr(at), 12);
        if (inside) {
            nargs = be32(header + 4);
            nret = be32(header + 8);
        }
        const u64 cells_total = u64{nargs} + nret;
        const u64 len = 12 + 4 * (cells_total < 40 ? cells_total : 40);
        inside = inside && cells_total <= rtas::kMaxCells &&
                 m.lpar->memory.contains(LogicalAddr(at), 12 + 4 * cells_total);
        const u64 rets_at = at + 12 + 4 * u64{nargs};
        const auto before = snapshot(m.lpar->memory, at - kSlack, kSlack + len + kSlack);
        const auto head = inside ? snapshot(m.lpar->memory, at, rets_at - at) : std::vector<u8>{};
        const u64 end = at + 12 + 4 * cells_total;
        const auto tail = snapshot(m.lpar->memory, end, kSlack);
        const auto pre = snapshot(m.lpar->memory, at - kSlack, kSlack);

        Vcpu& v = m.lpar->vcpus[0];
        Env env{*m.lpar, v};
        Frame f;
        f.opcode = H_RTAS;
        f.args[0] = at;
        const Ret r = h_rtas(env, f);
        FUZZ_CHECK(r == H_SUCCESS || r == H_PARAMETER);
        FUZZ_CHECK(m.neighbour_intact());
        if (!inside) {
            FUZZ_CHECK(r == H_PARAMETER);
            FUZZ_CHECK(snapshot(m.lpar->memory, at - kSlack, kSlack + len + kSlack) == before);
        } else {
            // Header and args as they were; nothing before the block or after its rets changed.
            FUZZ_CHECK(snapshot(m.lpar->memory, at, rets_at - at) == head);
            FUZZ_CHECK(snapshot(m.lpar->memory, at - kSlack, kSlack) == pre);
            FUZZ_CHECK(snapshot(m.lpar->memory, end, kSlack) == tail);
        }
        if (m.lpar->has_ended()) break;
        if (v.state != VcpuState::Running) break; // stop-self: vcpu 0 is no longer running
        m.lpar->xics.take_presented();
    }
    return 0;
}
