// Fuzzes the hcall dispatch table and every ISA-neutral handler (vty, XICS, cede/prod/confer,
// VPA registration, page init, RTAS, shutdown, test exit) with sequences of hcalls from the
// vcpus of a running 4-vcpu LPAR over fake memory (2 chunks, a neighbour's chunk behind them).
// Each step: a byte for the opcode (mostly a registered one), a byte for the calling vcpu, then
// nine arguments biased to the edges: chunk boundaries, the end of the LPAR, the neighbour's and
// this LPAR's real addresses used as logical ones, huge counts, misaligned values, flag bits.
// Checked: unregistered numbers give H_FUNCTION, every status is a PAPR code, the neighbour's
// memory is untouched, vcpus beyond the LPAR's count never move, and an ended LPAR stays ended.
#include "common/lpar.hpp"
#include "hcall/dispatch.hpp"
#include "hcall/page.hpp"
#include "hcall/rtas.hpp"
#include "tests/fake/plat_fake.hpp"
#include "tests/fuzz/fake_lpar.hpp"

#include <arch/hcalls.hpp>

using namespace tessera;
using namespace tessera::hcall;

namespace {

constexpr u64 kRegistered[] = {H_GET_TERM_CHAR,
                               H_PUT_TERM_CHAR,
                               H_EOI,
                               H_CPPR,
                               H_IPI,
                               H_IPOLL,
                               H_XIRR,
                               H_XIRR_X,
                               H_CEDE,
                               H_PAGE_INIT,
                               H_PROD,
                               H_CONFER,
                               H_REGISTER_VPA,
                               H_GET_TCE,
                               H_PUT_TCE,
                               H_STUFF_TCE,
                               H_PUT_TCE_INDIRECT,
                               H_REGISTER_LOGICAL_LAN,
                               H_FREE_LOGICAL_LAN,
                               H_ADD_LOGICAL_LAN_BUFFER,
                               H_SEND_LOGICAL_LAN,
                               H_MULTICAST_CTRL,
                               H_CHANGE_LOGICAL_LAN_MAC,
                               H_VIO_SIGNAL,
                               H_REG_CRQ,
                               H_FREE_CRQ,
                               H_SEND_CRQ,
                               H_ENABLE_CRQ,
                               H_COPY_RDMA,
                               H_RTAS,
                               H_ENTER,
                               H_TESSERA_SHUTDOWN,
                               H_TESSERA_TEST_EXIT};
constexpr u32 kVcpus = 4;
constexpr u64 C = kChunkSize, kEnd = 2 * C;

bool registered(u64 op) {
    for (u64 r : kRegistered)
        if (r == op) return true;
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static fuzz::FakeLpar m(kVcpus, 3, 2);
    m.reset(kVcpus);
    m.start();
    m.lpar->vty.reset();
    fake::console_out.clear();
    const u64 edges[] = {0,
                         8,
                         4096,
                         C - 4096,
                         C - 8,
                         C - 1,
                         C,
                         kEnd - 4096,
                         kEnd - 8,
                         kEnd,
                         kEnd + 4096,
                         m.neighbour_real(),
                         m.ram_base,
                         0xffff'ffff,
                         u64{1} << 32,
                         u64{1} << 63,
                         ~u64{0},
                         ~u64{0} - 4095,
                         0x1000,               // XICS: first source
                         0xff,                 // priorities
                         page_init::kZeroPage, // page-init flags
                         page_init::kCopyPage, //
                         page_init::kCopyPage | page_init::kIcacheSynchronize,
                         u64{1} << 45, // H_REGISTER_VPA subfunctions
                         u64{2} << 45, //
                         u64{3} << 45, //
                         u64{5} << 45, //
                         u64{6} << 45, //
                         u64{7} << 45, //
                         2,            // shutdown: panic
                         640,          // VPA size
                         0x3000'0000}; // vty unit address

    fuzz::Input in(data, size);
    // Keyboard input waiting for the LPAR's vty.
    u8 keys[32];
    const usize nkeys = in.byte() % sizeof keys;
    for (usize i = 0; i < nkeys; ++i) keys[i] = in.byte();
    m.lpar->vty.feed(keys, nkeys);

    for (int step = 0; step < 64 && !in.empty(); ++step) {
        const u8 pick = in.byte();
        u64 op = pick < 0xf0 ? kRegistered[pick % (sizeof kRegistered / 8)] : in.u32v() & 0xffff;
        if (pick == 0xff) op = in.u64v();
        // The caller: a vcpu the run loop could be running (not Offline, not Stopped), the
        // first such from the one the input names.
        const u32 first = in.byte() % kVcpus;
        Vcpu* caller = nullptr;
        for (u32 k = 0; k < kVcpus && caller == nullptr; ++k) {
            Vcpu& c = m.lpar->vcpus[(first + k) % kVcpus];
            if (c.state != VcpuState::Offline && c.state != VcpuState::Stopped) caller = &c;
        }
        if (caller == nullptr) break; // every vcpu stopped itself
        Vcpu& v = *caller;
        for (Vcpu& o : m.lpar->vcpus)
            if (o.state == VcpuState::Running) o.state = VcpuState::Runnable;
        v.state = VcpuState::Running;

        Frame f;
        f.opcode = op;
        const u8 nargs = in.byte() % (kMaxArgs + 1);
        for (u8 i = 0; i < nargs; ++i) f.args[i] = in.edge(edges);
        Env env{*m.lpar, v};
        const bool ended_before = m.lpar->has_ended();
        const Ret r = dispatch(env, f);

        if (!registered(op)) FUZZ_CHECK(r == H_FUNCTION);
        FUZZ_CHECK(fuzz::papr_status(r));
        FUZZ_CHECK(m.neighbour_intact());
        for (u32 i = kVcpus; i < kMaxVcpusPerLpar; ++i)
            FUZZ_CHECK(m.lpar->vcpus[i].state == VcpuState::Offline);
        if (ended_before) FUZZ_CHECK(m.lpar->has_ended());
        if (env.after == After::StopLpar) FUZZ_CHECK(m.lpar->has_ended());
        if (m.lpar->has_ended()) break; // the run loop runs no vcpu of an ended LPAR
        // What the scheduler does with the caller afterwards.
        if (env.after == After::Offline) v.state = VcpuState::Offline;
        if (env.after == After::Block) v.state = VcpuState::Ceded;
        m.lpar->xics.take_presented();
    }
    u8 out[256];
    while (m.lpar->vty.take_output(out, sizeof out) != 0) {
    }
    return 0;
}
