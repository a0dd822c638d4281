// The per-LPAR exit counts' report line (common/exit_counts.hpp).
#include <doctest/doctest.h>

#include <string>

#include "common/exit_counts.hpp"
#include "tests/fake/plat_fake.hpp"

using namespace tessera;

namespace {

const char* const kNames[kExitReasons] = {"irq", nullptr, "hcall", "fill"};

} // namespace

TEST_CASE("exit counts: one line, named reasons with a count, in order") {
    ExitCounts c;
    c.exits = 12;
    c.add(3);
    c.add(3);
    c.add(0);
    c.add(1);                // no name: counted, not shown
    c.add(kExitReasons);     // out of range: ignored
    c.add(kExitReasons + 5); // likewise
    CHECK(c.count[3] == 2);
    CHECK(c.count[1] == 1);
    fake::console_out.clear();
    log_exit_counts("linux", c, kNames);
    CHECK(fake::console_out == "lpar linux: exits 12: irq 1 fill 2\n");
}

TEST_CASE("exit counts: nothing for an LPAR that never ran") {
    ExitCounts c;
    fake::console_out.clear();
    log_exit_counts("idle", c, kNames);
    CHECK(fake::console_out.empty());
}
