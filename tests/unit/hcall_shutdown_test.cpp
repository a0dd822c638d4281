// H_TESSERA_SHUTDOWN: power off / restart stop the LPAR in order, a panic crashes it with the
// guest's message (bounded, printable), bad arguments change nothing.
#include "common/chunks.hpp"
#include "common/lpar.hpp"
#include "hcall/shutdown.hpp"
#include "tests/fake/memory_lpar.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::hcall;

namespace {

struct Guest : test::MemoryLpar {
    After after = After::Resume;

    Guest() : MemoryLpar(1) { start(); }
    Ret shutdown(u64 how, u64 message = 0, u64 length = 0) {
        Frame f;
        f.opcode = H_TESSERA_SHUTDOWN;
        f.args[0] = how;
        f.args[1] = message;
        f.args[2] = length;
        Env env{*lpar, lpar->vcpus[0]};
        const Ret r = h_tessera_shutdown(env, f);
        after = env.after;
        return r;
    }
};

} // namespace

TEST_CASE("shutdown: power off stops the LPAR in order") {
    Guest g;
    CHECK(g.shutdown(kShutdownPowerOff) == H_SUCCESS);
    CHECK(g.lpar->state == LparState::Stopped);
    CHECK(std::string(g.lpar->stop_reason) == "power-off");
    CHECK(g.after == After::StopLpar);
}

TEST_CASE("shutdown: restart stops it too, saying so") {
    Guest g;
    CHECK(g.shutdown(kShutdownRestart) == H_SUCCESS);
    CHECK(g.lpar->state == LparState::Stopped);
    CHECK(std::string(g.lpar->stop_reason).rfind("restart", 0) == 0);
}

TEST_CASE("shutdown: a panic crashes the LPAR with the guest's message") {
    Guest g;
    const char msg[] = "Attempted to kill init!\n";
    REQUIRE(g.lpar->memory.copy_in(LogicalAddr(0x1000), msg, sizeof(msg) - 1));
    CHECK(g.shutdown(kShutdownPanic, 0x1000, sizeof(msg) - 1) == H_SUCCESS);
    CHECK(g.lpar->state == LparState::Crashed);
    CHECK(std::string(g.lpar->stop_reason) == "panic: Attempted to kill init!?");
}

TEST_CASE("shutdown: a panic message is cut at 64 bytes; none at all is said") {
    Guest g;
    std::vector<char> big(200, 'x');
    REQUIRE(g.lpar->memory.copy_in(LogicalAddr(0x2000), big.data(), big.size()));
    CHECK(g.shutdown(kShutdownPanic, 0x2000, big.size()) == H_SUCCESS);
    CHECK(std::string(g.lpar->stop_reason) == "panic: " + std::string(kShutdownMessageMax, 'x'));
    Guest h;
    CHECK(h.shutdown(kShutdownPanic) == H_SUCCESS);
    CHECK(std::string(h.lpar->stop_reason) == "panic: (no message)");
}

TEST_CASE("shutdown: unknown kinds and messages outside the LPAR are refused") {
    Guest g;
    CHECK(g.shutdown(3) == H_PARAMETER);
    CHECK(g.shutdown(kShutdownPanic, kChunkSize - 8, 64) == H_PARAMETER);
    CHECK(g.lpar->state == LparState::Running);
    CHECK(g.after == After::Resume);
}
