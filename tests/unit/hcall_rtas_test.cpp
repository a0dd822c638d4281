#include "hcall/rtas.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/chunks.hpp"
#include "common/lpar.hpp"
#include "common/xics.hpp"
#include "tests/fake/memory_lpar.hpp"

using namespace tessera;
using namespace tessera::hcall;
using namespace tessera::hcall::rtas;

namespace {

constexpr u64 kLparBytes = 2 * kChunkSize; // two chunks: blocks can straddle a chunk boundary
constexpr u64 kBlock = 0x10000;            // where the tests put their rtas_args block
constexpr u32 kSrc = xics::kFirstSource;

u32 be32(const u8* p) {
    return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | u32{p[3]};
}

// A running LPAR with `vcpus` logical CPUs (vcpu 0 on a CPU, the others Offline) over fake real
// memory, as the hypervisor sees it through a RealWindow.
struct Guest : test::MemoryLpar {
    After after = After::Resume;
    u64 block = kBlock; // where the last call's block is
    u32 nargs = 0;

    explicit Guest(u32 vcpus = 2) : MemoryLpar(vcpus, kLparBytes) {
        start();
        lpar->vcpus[0].state = VcpuState::Running;
    }

    void poke32(u64 at, u32 v) {
        const u8 b[4] = {static_cast<u8>(v >> 24), static_cast<u8>(v >> 16),
                         static_cast<u8>(v >> 8), static_cast<u8>(v)};
        REQUIRE(lpar->memory.copy_in(LogicalAddr(at), b, 4));
    }
    u32 peek32(u64 at) const {
        u8 b[4];
        REQUIRE(lpar->memory.copy_out(b, LogicalAddr(at), 4));
        return be32(b);
    }
    void poke_string(u64 at, const std::string& s) {
        REQUIRE(lpar->memory.copy_in(LogicalAddr(at), s.data(), s.size()));
    }

    // Writes an rtas_args block at `at` (rets pre-filled with 0xdeadbeef) and makes the H_RTAS
    // hcall as vcpu `cpu`.
    Ret call_at(u64 at, u32 token, const std::vector<u32>& args, u32 nret, u32 cpu = 0) {
        block = at;
        nargs = static_cast<u32>(args.size());
        poke32(at, token);
        poke32(at + 4, nargs);
        poke32(at + 8, nret);
        for (u32 i = 0; i < nargs; ++i) poke32(at + 12 + 4 * i, args[i]);
        for (u32 i = 0; i < nret; ++i) poke32(at + 12 + 4 * (nargs + i), 0xdead'beef);
        return raw(at, cpu);
    }
    Ret call(u32 token, const std::vector<u32>& args, u32 nret, u32 cpu = 0) {
        return call_at(kBlock, token, args, nret, cpu);
    }
    // H_RTAS on whatever is at `at`.
    Ret raw(u64 at, u32 cpu = 0) {
        Env env{*lpar, lpar->vcpus[cpu]};
        Frame f;
        f.opcode = H_RTAS;
        f.args[0] = at;
        Ret r = h_rtas(env, f);
        after = env.after;
        return r;
    }
    // rets[i] of the last call, as the guest reads it.
    u32 ret(u32 i) const { return peek32(block + 12 + 4 * (nargs + i)); }
    i32 status() const { return static_cast<i32>(ret(0)); }

    std::string output() {
        std::string s;
        u8 buf[64];
        while (usize n = lpar->vty.take_output(buf, sizeof buf))
            s.append(reinterpret_cast<char*>(buf), n);
        return s;
    }
};

WallClock fixed_clock() {
    // 2026-01-02T01:02:03.000000005Z
    return WallClock{kDefaultEpoch + 86400 + 3723, 5};
}

struct ClockGuard {
    explicit ClockGuard(WallClockFn fn) { set_wall_clock(fn); }
    ~ClockGuard() { set_wall_clock(nullptr); }
};

} // namespace

// ---- The blob and the token table -------------------------------------------------------------

TEST_CASE("rtas: the blob is five big-endian instructions calling H_RTAS with r4 = r3") {
    u8 out[32];
    std::memset(out, 0xEE, sizeof out);
    REQUIRE(rtas_blob(out, sizeof out) == kRtasBlobSize);
    const u8 expect[kRtasBlobSize] = {
        0x7c, 0x64, 0x1b, 0x78, // mr r4,r3
        0x3c, 0x60, 0x00, 0x00, // lis r3,0
        0x60, 0x63, 0xf0, 0x00, // ori r3,r3,0xf000
        0x44, 0x00, 0x00, 0x22, // sc 1
        0x4e, 0x80, 0x00, 0x20, // blr
    };
    CHECK(std::memcmp(out, expect, kRtasBlobSize) == 0);
    CHECK(out[kRtasBlobSize] == 0xEE);
    CHECK(kRtasBlobSize <= kRegionSize);

    u8 small[kRtasBlobSize - 1];
    std::memset(small, 0xEE, sizeof small);
    CHECK(rtas_blob(small, sizeof small) == 0);
    for (u8 b : small) CHECK(b == 0xEE);
    CHECK(rtas_blob(nullptr, 64) == 0);
}

TEST_CASE("rtas: the token table names every service once, with its token") {
    const guest_fdt::RtasTokens t = tokens();
    REQUIRE(t.count == 17);
    std::set<std::string> names;
    std::set<u32> values;
    for (usize i = 0; i < t.count; ++i) {
        names.insert(t.entries[i].name);
        values.insert(t.entries[i].token);
        CHECK(t.entries[i].token != 0xffff'ffff);
    }
    CHECK(names.size() == t.count);
    CHECK(values.size() == t.count);
    const std::set<std::string> expect = {"display-character",
                                          "get-time-of-day",
                                          "set-time-of-day",
                                          "event-scan",
                                          "power-off",
                                          "system-reboot",
                                          "ibm,os-term",
                                          "ibm,nmi-register",
                                          "ibm,nmi-interlock",
                                          "ibm,get-system-parameter",
                                          "ibm,set-xive",
                                          "ibm,get-xive",
                                          "ibm,int-on",
                                          "ibm,int-off",
                                          "query-cpu-stopped-state",
                                          "start-cpu",
                                          "stop-self"};
    CHECK(names == expect);
    for (usize i = 0; i < t.count; ++i) {
        if (std::string(t.entries[i].name) == "ibm,set-xive") CHECK(t.entries[i].token == kSetXive);
        if (std::string(t.entries[i].name) == "power-off") CHECK(t.entries[i].token == kPowerOff);
    }
}

// ---- Services ----------------------------------------------------------------------------------

TEST_CASE("rtas: display-character writes one byte to the vty") {
    Guest g;
    CHECK(g.call(kDisplayCharacter, {'L'}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.call(kDisplayCharacter, {0x100 | '!'}, 1) == H_SUCCESS); // only the low byte
    CHECK(g.output() == "L!");
    CHECK(g.after == After::Resume);
}

TEST_CASE("rtas: get-time-of-day reports the installed wall clock") {
    Guest g;
    ClockGuard clock(&fixed_clock);
    CHECK(g.call(kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.ret(1) == 2026);
    CHECK(g.ret(2) == 1);
    CHECK(g.ret(3) == 2);
    CHECK(g.ret(4) == 1);
    CHECK(g.ret(5) == 2);
    CHECK(g.ret(6) == 3);
    CHECK(g.ret(7) == 5);
}

TEST_CASE("rtas: without a clock the time is 2026-01-01 plus the time since boot") {
    Guest g;
    set_wall_clock(nullptr);
    const WallClock now = machine_time();
    CHECK(now.seconds >= kDefaultEpoch);
    CHECK(now.seconds < kDefaultEpoch + 3600); // the fake timebase has barely moved
    CHECK(now.nanoseconds < 1'000'000'000);
    CHECK(g.call(kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.ret(1) == 2026);
    CHECK(g.ret(2) == 1);
    CHECK(g.ret(3) == 1);
    CHECK(g.ret(4) == 0);
}

TEST_CASE("rtas: set-time-of-day moves this LPAR's clock only, and it keeps running") {
    Guest g, other;
    ClockGuard clock(&fixed_clock); // 2026-01-02T01:02:03.000000005Z
    CHECK(g.call(kSetTimeOfDay, {2030, 6, 15, 12, 30, 45, 500}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.call(kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(g.ret(1) == 2030);
    CHECK(g.ret(2) == 6);
    CHECK(g.ret(3) == 15);
    CHECK(g.ret(4) == 12);
    CHECK(g.ret(5) == 30);
    CHECK(g.ret(6) == 45);
    CHECK(g.ret(7) == 500);
    // Another LPAR still sees the machine's time.
    CHECK(other.call(kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(other.ret(1) == 2026);
    CHECK(other.ret(6) == 3);
    // Setting an earlier time works too.
    CHECK(g.call(kSetTimeOfDay, {1999, 12, 31, 23, 59, 59, 0}, 1) == H_SUCCESS);
    CHECK(g.call(kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(g.ret(1) == 1999);
    CHECK(g.ret(6) == 59);
}

TEST_CASE("rtas: set-time-of-day refuses what is not a date and keeps the clock") {
    Guest g;
    ClockGuard clock(&fixed_clock);
    const std::vector<std::vector<u32>> bad = {
        {2026, 2, 29, 0, 0, 0, 0},       {2026, 13, 1, 0, 0, 0, 0},
        {2026, 1, 0, 0, 0, 0, 0},        {2026, 1, 1, 24, 0, 0, 0},
        {2026, 1, 1, 0, 60, 0, 0},       {2026, 1, 1, 0, 0, 60, 0},
        {1969, 1, 1, 0, 0, 0, 0},        {2026, 1, 1, 0, 0, 0, 1'000'000'000},
        {0xffff'ffff, 1, 1, 0, 0, 0, 0},
    };
    for (const auto& args : bad) {
        CAPTURE(args[0]);
        CAPTURE(args[1]);
        CAPTURE(args[2]);
        CHECK(g.call(kSetTimeOfDay, args, 1) == H_SUCCESS);
        CHECK(g.status() == kParameterError);
    }
    CHECK(g.lpar->tod_offset_ns == 0);
    CHECK(g.call(kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(g.ret(1) == 2026);
    CHECK(g.ret(3) == 2);
}

TEST_CASE("rtas: calendar dates") {
    struct {
        u64 seconds;
        Date date;
    } const cases[] = {
        {0, {1970, 1, 1, 0, 0, 0}},
        {86399, {1970, 1, 1, 23, 59, 59}},
        {951'782'400, {2000, 2, 29, 0, 0, 0}},
        {951'868'800, {2000, 3, 1, 0, 0, 0}},
        {1'709'164'800, {2024, 2, 29, 0, 0, 0}},
        {kDefaultEpoch, {2026, 1, 1, 0, 0, 0}},
        {kDefaultEpoch - 1, {2025, 12, 31, 23, 59, 59}},
        {4'102'444'799, {2099, 12, 31, 23, 59, 59}},
        {4'107'542'400, {2100, 3, 1, 0, 0, 0}}, // 2100 is not a leap year
    };
    for (const auto& c : cases) {
        CAPTURE(c.seconds);
        const Date d = date_of(c.seconds);
        CHECK(d.year == c.date.year);
        CHECK(d.month == c.date.month);
        CHECK(d.day == c.date.day);
        CHECK(d.hour == c.date.hour);
        CHECK(d.minute == c.date.minute);
        CHECK(d.second == c.date.second);
    }
}

TEST_CASE("rtas: event-scan finds no event") {
    Guest g;
    CHECK(g.call(kEventScan, {0xffff'ffff, 0, 0x20000, 2048}, 1) == H_SUCCESS);
    CHECK(g.status() == kNoEvent);
    CHECK(g.peek32(0x20000) == 0); // the log buffer is not written
}

TEST_CASE("rtas: power-off stops the LPAR") {
    Guest g;
    CHECK(g.call(kPowerOff, {0xffff'ffff, 0xffff'ffff}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.after == After::StopLpar);
    CHECK(g.lpar->state == LparState::Stopped);
    CHECK(std::string(g.lpar->stop_reason) == "power-off");
}

TEST_CASE("rtas: system-reboot stops the LPAR (no restart yet)") {
    Guest g;
    CHECK(g.call(kSystemReboot, {}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.after == After::StopLpar);
    CHECK(g.lpar->state == LparState::Stopped);
    CHECK(std::string(g.lpar->stop_reason) == "system-reboot");
}

TEST_CASE("rtas: ibm,os-term crashes the LPAR with the guest's message") {
    Guest g;
    g.poke_string(0x30000, std::string("OS panic: Attempted to kill init!\n\0", 35));
    CHECK(g.call(kOsTerm, {0x30000}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.after == After::StopLpar);
    CHECK(g.lpar->state == LparState::Crashed);
    CHECK(std::string(g.lpar->stop_reason) == "os-term: OS panic: Attempted to kill init!");
}

TEST_CASE("rtas: ibm,os-term reads a bounded, sanitised message") {
    SUBCASE("no terminator: cut at the stop reason's size") {
        Guest g;
        g.poke_string(0x30000, std::string(5000, 'A'));
        CHECK(g.call(kOsTerm, {0x30000}, 1) == H_SUCCESS);
        CHECK(g.lpar->state == LparState::Crashed);
        const std::string reason = g.lpar->stop_reason;
        CHECK(reason.size() == kStopReasonMax - 1);
        CHECK(reason == "os-term: " + std::string(kStopReasonMax - 1 - 9, 'A'));
    }
    SUBCASE("the message runs to the end of the LPAR") {
        Guest g;
        g.poke_string(kLparBytes - 3, "xyz");
        CHECK(g.call(kOsTerm, {static_cast<u32>(kLparBytes - 3)}, 1) == H_SUCCESS);
        CHECK(std::string(g.lpar->stop_reason) == "os-term: xyz");
    }
    SUBCASE("the message is outside the LPAR") {
        Guest g;
        CHECK(g.call(kOsTerm, {static_cast<u32>(kLparBytes)}, 1) == H_SUCCESS);
        CHECK(g.lpar->state == LparState::Crashed);
        CHECK(std::string(g.lpar->stop_reason) == "os-term: (no message)");
    }
    SUBCASE("control characters cannot reach the console") {
        Guest g;
        g.poke_string(0x30000, std::string("a\x1b[2Jb\tc\xff\0", 10));
        CHECK(g.call(kOsTerm, {0x30000}, 1) == H_SUCCESS);
        CHECK(std::string(g.lpar->stop_reason) == "os-term: a?[2Jb c?");
    }
}

TEST_CASE("rtas: ibm,nmi-register and ibm,nmi-interlock are accepted") {
    Guest g;
    CHECK(g.call(kNmiRegister, {0x100, 0x200}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.call(kNmiInterlock, {}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.lpar->is_live());
}

TEST_CASE("rtas: ibm,get-system-parameter supports no parameter") {
    Guest g;
    g.poke32(0x20000, 0x1234'5678);
    CHECK(g.call(kGetSystemParameter, {44, 0x20000, 4002}, 1) == H_SUCCESS); // CMO, as Linux asks
    CHECK(g.status() == kParameterError);
    CHECK(g.peek32(0x20000) == 0x1234'5678);
}

TEST_CASE("rtas: ibm,set-xive / get-xive / int-off / int-on drive the LPAR's ICS") {
    Guest g;
    CHECK(g.call(kSetXive, {kSrc, 1, 5}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.call(kGetXive, {kSrc}, 3) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.ret(1) == 1);
    CHECK(g.ret(2) == 5);

    CHECK(g.call(kIntOff, {kSrc}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.call(kGetXive, {kSrc}, 3) == H_SUCCESS);
    CHECK(g.ret(2) == 0xff);
    // An event while masked waits at the source.
    REQUIRE(g.lpar->xics.raise(kSrc) == xics::Error::None);
    g.lpar->xics.take_presented();
    CHECK_FALSE(g.lpar->xics.has_pending(1));

    CHECK(g.call(kIntOn, {kSrc}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.call(kGetXive, {kSrc}, 3) == H_SUCCESS);
    CHECK(g.ret(2) == 5);
    // ... and is presented to server 1 once unmasked (CPPR is 0 until the guest opens it).
    REQUIRE(g.lpar->xics.set_cppr(1, 0xff) == xics::Error::None);
    CHECK(g.lpar->xics.take_presented() == 0b10);
    CHECK(g.lpar->xics.has_pending(1));

    // Masking through set-xive with priority 0xff, as Linux's ics_rtas_mask_real_irq does.
    CHECK(g.call(kSetXive, {kSrc + 1, 0, 0xff}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
}

TEST_CASE("rtas: bad interrupt sources, servers and priorities are parameter errors") {
    Guest g(2);
    struct {
        u32 token;
        std::vector<u32> args;
        u32 nret;
    } const cases[] = {
        {kSetXive, {xics::kIpiSource, 0, 5}, 1},
        {kSetXive, {kSrc - 1, 0, 5}, 1},
        {kSetXive, {kSrc + xics::kSourceCount, 0, 5}, 1},
        {kSetXive, {kSrc, 2, 5}, 1}, // the LPAR has servers 0 and 1
        {kSetXive, {kSrc, 0xffff'ffff, 5}, 1},
        {kSetXive, {kSrc, 0, 0x100}, 1},
        {kGetXive, {0}, 3},
        {kGetXive, {kSrc + xics::kSourceCount}, 3},
        {kIntOn, {xics::kIpiSource}, 1},
        {kIntOff, {0xffff'ffff}, 1},
    };
    for (const auto& c : cases) {
        CAPTURE(c.token);
        CAPTURE(c.args[0]);
        CHECK(g.call(c.token, c.args, c.nret) == H_SUCCESS);
        CHECK(g.status() == kParameterError);
        if (c.nret == 3) CHECK(g.ret(1) == 0xdead'beef); // nothing else is written
    }
    u32 server = 9;
    u8 priority = 0;
    REQUIRE(g.lpar->xics.get_xive(kSrc, server, priority) == xics::Error::None);
    CHECK(server == 0);
    CHECK(priority == 0xff); // unchanged
}

TEST_CASE("rtas: query-cpu-stopped-state reports each vcpu") {
    Guest g(3);
    CHECK(g.call(kQueryCpuStoppedState, {0}, 2) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.ret(1) == 2); // running (the caller)
    CHECK(g.call(kQueryCpuStoppedState, {1}, 2) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.ret(1) == 0); // stopped: never started
    g.lpar->vcpus[2].state = VcpuState::Ceded;
    CHECK(g.call(kQueryCpuStoppedState, {2}, 2) == H_SUCCESS);
    CHECK(g.ret(1) == 2);
    CHECK(g.call(kQueryCpuStoppedState, {3}, 2) == H_SUCCESS);
    CHECK(g.status() == kParameterError);
    CHECK(g.ret(1) == 0xdead'beef);
}

TEST_CASE("rtas: start-cpu starts an Offline vcpu at (pc, r3); stop-self takes the caller off") {
    Guest g(3);
    CHECK(g.call(kStartCpu, {1, 0x6000, 0x77}, 1) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.lpar->vcpus[1].state == VcpuState::Runnable);
    CHECK(g.lpar->vcpus[1].arch.pc == 0x6000); // the fake ISA's record of vcpu_init
    CHECK(g.lpar->vcpus[1].arch.args[0] == 0x77);
    CHECK(g.call(kStartCpu, {1, 0x6000, 0}, 1) == H_SUCCESS);
    CHECK(g.status() == kHardwareError); // already started
    CHECK(g.call(kStartCpu, {3, 0x6000, 0}, 1) == H_SUCCESS);
    CHECK(g.status() == kParameterError); // no such cpu
    // stop-self takes PAPR's (and Linux's) 0 arguments and 1 return; the caller goes offline.
    CHECK(g.call(kStopSelf, {}, 1) == H_SUCCESS);
    CHECK(g.after == After::Offline);
}

TEST_CASE("rtas: stop-self with another calling convention is refused and the cpu runs on") {
    Guest g(2);
    CHECK(g.call(kStopSelf, {}, 0) == H_SUCCESS);
    CHECK(g.after == After::Resume);
    CHECK(g.call(kStopSelf, {1}, 1) == H_SUCCESS);
    CHECK(g.status() == kParameterError);
    CHECK(g.after == After::Resume);
}

// ---- The args block and the dispatcher ---------------------------------------------------------

TEST_CASE("rtas: an unknown token is a parameter error, reported in rets[0] and r3") {
    Guest g;
    for (u32 token : {0u, 0xau, 0x2000u, 0x2012u, 0xffff'ffffu}) {
        CAPTURE(token);
        CHECK(g.call(token, {1, 2}, 2) == H_PARAMETER);
        CHECK(g.status() == kParameterError);
        CHECK(g.ret(1) == 0xdead'beef);
    }
    g.poke32(kBlock + 12, 0x5555'5555);
    CHECK(g.call(0x1234, {}, 0) == H_PARAMETER); // no rets: nothing written
    CHECK(g.peek32(kBlock + 12) == 0x5555'5555);
    CHECK(g.lpar->is_live());
}

TEST_CASE("rtas: a service called with the wrong nargs or nret does nothing") {
    Guest g;
    CHECK(g.call(kPowerOff, {}, 1) == H_SUCCESS);
    CHECK(g.status() == kParameterError);
    CHECK(g.lpar->is_live());
    CHECK(g.after == After::Resume);

    CHECK(g.call(kGetTimeOfDay, {}, 7) == H_SUCCESS);
    CHECK(g.status() == kParameterError);
    CHECK(g.ret(1) == 0xdead'beef);

    CHECK(g.call(kDisplayCharacter, {'x', 'y'}, 1) == H_SUCCESS);
    CHECK(g.status() == kParameterError);
    CHECK(g.output().empty());

    CHECK(g.call(kSetXive, {kSrc, 0, 5}, 0) == H_SUCCESS); // nowhere to report: still refused
    u32 server = 0;
    u8 priority = 0;
    REQUIRE(g.lpar->xics.get_xive(kSrc, server, priority) == xics::Error::None);
    CHECK(priority == 0xff);
}

TEST_CASE("rtas: more than 16 cells is refused before anything runs") {
    Guest g;
    struct {
        u32 nargs;
        u32 nret;
    } const cases[] = {{17, 0},
                       {0, 17},
                       {16, 1},
                       {10, 7},
                       {0xffff'ffff, 1},
                       {1, 0xffff'ffff},
                       {0x8000'0000, 0x8000'0000}};
    for (const auto& c : cases) {
        CAPTURE(c.nargs);
        CAPTURE(c.nret);
        g.poke32(kBlock, kPowerOff);
        g.poke32(kBlock + 4, c.nargs);
        g.poke32(kBlock + 8, c.nret);
        g.poke32(kBlock + 12, 0x5555'5555);
        CHECK(g.raw(kBlock) == H_PARAMETER);
        CHECK(g.peek32(kBlock + 12) == 0x5555'5555);
        CHECK(g.lpar->is_live());
    }
    // 16 cells exactly is fine (the service then rejects the arity).
    CHECK(g.call(kEventScan, std::vector<u32>(15, 0), 1) == H_SUCCESS);
    CHECK(g.status() == kParameterError);
}

TEST_CASE("rtas: a block outside the LPAR is refused and nothing runs") {
    Guest g;
    // The rets would end past the LPAR: power-off must not happen.
    const u64 at = kLparBytes - 12 - 4 * 2; // header + args fit, the one ret does not
    g.poke32(at, kPowerOff);
    g.poke32(at + 4, 2);
    g.poke32(at + 8, 1);
    CHECK(g.raw(at) == H_PARAMETER);
    CHECK(g.lpar->is_live());
    CHECK(g.after == After::Resume);

    for (u64 bad :
         {kLparBytes - 8, kLparBytes, kLparBytes + 4096, u64{1} << 40, ~u64{0} - 3, ~u64{0}}) {
        CAPTURE(bad);
        CHECK(g.raw(bad) == H_PARAMETER);
    }
    CHECK(g.lpar->is_live());
}

TEST_CASE("rtas: a block may be unaligned and straddle a chunk boundary") {
    Guest g;
    ClockGuard clock(&fixed_clock);
    const u64 at = kChunkSize - 13; // header in chunk 0, cells across into chunk 1
    CHECK(g.call_at(at, kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(g.status() == kSuccess);
    CHECK(g.ret(1) == 2026);
    CHECK(g.ret(7) == 5);
    // The very end of the LPAR: a block that just fits.
    const u64 end = kLparBytes - 12 - 4 * 8;
    CHECK(g.call_at(end, kGetTimeOfDay, {}, 8) == H_SUCCESS);
    CHECK(g.ret(6) == 3);
}

TEST_CASE("rtas: a call from a secondary vcpu uses that vcpu's LPAR state") {
    Guest g(2);
    g.lpar->vcpus[1].state = VcpuState::Running;
    CHECK(g.call(kQueryCpuStoppedState, {1}, 2, 1) == H_SUCCESS);
    CHECK(g.ret(1) == 2);
    CHECK(g.call(kDisplayCharacter, {'2'}, 1, 1) == H_SUCCESS);
    CHECK(g.output() == "2");
}
