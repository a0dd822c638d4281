// The footprint line the hypervisor prints at the end of a run (scripts/compare parses it).
#include "common/footprint.hpp"

#include <cstring>
#include <doctest/doctest.h>
#include <string>

using namespace tessera;

namespace {
std::string line(const Footprint& f) {
    char buf[384];
    usize n = format_footprint(buf, sizeof(buf), f);
    REQUIRE(n < sizeof(buf));
    CHECK(std::strlen(buf) == n);
    return std::string(buf, n);
}
} // namespace

TEST_CASE("footprint line: image split into text+data and .bss, runtime with its note") {
    Footprint f;
    f.image = 33536 * KiB;
    f.image_bss = 33025 * KiB;
    f.runtime = 512 * KiB;
    f.runtime_known = true;
    std::strcpy(f.runtime_note, "2 HTABs");
    CHECK(line(f) == "tessera: footprint image 33536 KiB, runtime 512 KiB (image: 511 KiB "
                     "text+data+alignment, 33025 KiB .bss; runtime: 2 HTABs)");
}

TEST_CASE("held line: the bytes still handed out after the run, with the note, or n/a") {
    Footprint f;
    char buf[256];
    usize n = format_held(buf, sizeof(buf), f);
    CHECK(std::string(buf, n) == "tessera: translation structures held after the run: n/a");
    f.runtime_known = true;
    f.runtime = 512 * KiB;
    f.runtime_held = 0;
    std::strcpy(f.runtime_note, "2 HTABs");
    n = format_held(buf, sizeof(buf), f);
    CHECK(std::string(buf, n) ==
          "tessera: translation structures held after the run: 0 bytes (2 HTABs)");
    f.runtime_held = 4096 + 1; // bytes, not rounded: one leaked page shows
    n = format_held(buf, sizeof(buf), f);
    CHECK(std::string(buf, n).find("run: 4097 bytes (") != std::string::npos);
}

TEST_CASE("footprint line: sizes round up to whole KiB") {
    Footprint f;
    f.image = 300 * KiB + 1;
    f.image_bss = 100 * KiB + 1;
    f.runtime = 1;
    f.runtime_known = true;
    CHECK(line(f) == "tessera: footprint image 301 KiB, runtime 1 KiB (image: 200 KiB "
                     "text+data+alignment, 101 KiB .bss; runtime: nothing noted)");
    f.runtime = 0;
    CHECK(line(f).find("runtime 0 KiB (") != std::string::npos);
}

TEST_CASE("footprint line: runtime n/a when the ISA does not count it") {
    Footprint f;
    f.image = 4 * KiB;
    f.image_bss = 8 * KiB; // more .bss than image: clamped, never negative
    f.runtime = 12345;     // ignored when not known
    std::strcpy(f.runtime_note, "not counted yet");
    CHECK(line(f) == "tessera: footprint image 4 KiB, runtime n/a (image: 0 KiB "
                     "text+data+alignment, 4 KiB .bss; runtime: not counted yet)");
}

TEST_CASE("footprint line: a short buffer is cut and terminated, the full length returned") {
    Footprint f;
    f.image = KiB;
    char buf[16];
    usize n = format_footprint(buf, sizeof(buf), f);
    CHECK(n > sizeof(buf));
    CHECK(std::string(buf) == "tessera: footpr");
}
