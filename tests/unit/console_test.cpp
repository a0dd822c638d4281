#include <doctest/doctest.h>

#include <string>

#include "common/console.hpp"
#include "common/lpar.hpp"
#include "tests/fake/arch_fake.hpp"
#include "tests/fake/plat_fake.hpp"

using namespace tessera;

static_assert(console::kMaxTerminals >= kMaxLpars, "every LPAR needs a console position");

namespace {

// Lets `ms` milliseconds of the fake timebase pass.
void wait_ms(u64 ms) {
    fake::timebase_now += plat::timebase_hz() / 1000 * ms;
}

const u8* bytes(const char* s) {
    return reinterpret_cast<const u8*>(s);
}

void put(vty::Terminal& t, const std::string& s) {
    for (usize i = 0; i < s.size(); i += vty::kMaxTransfer) {
        usize n = s.size() - i < vty::kMaxTransfer ? s.size() - i : vty::kMaxTransfer;
        REQUIRE(t.put(t.termno(), bytes(s.c_str() + i), n) == hcall::H_SUCCESS);
    }
}

std::string input_of(vty::Terminal& t) {
    std::string s;
    u8 buf[16];
    usize n = 0;
    while (t.get(t.termno(), buf, sizeof(buf), n) == hcall::H_SUCCESS && n > 0)
        s.append(reinterpret_cast<char*>(buf), n);
    return s;
}

void type(const std::string& s) {
    for (char c : s) fake::console_in.push_back(c);
}

struct Fixture {
    console::Multiplexer mux;
    vty::Terminal a, b, c;
    Fixture() {
        fake::console_out.clear();
        fake::console_in.clear();
    }
    ~Fixture() {
        mux.detach(a);
        mux.detach(b);
        mux.detach(c);
    }
};

} // namespace

TEST_CASE_FIXTURE(Fixture, "console: attach positions, duplicates and capacity") {
    CHECK(mux.focus() == -1);
    CHECK(mux.attach("lpar-a", a) == 0);
    CHECK(mux.attach("lpar-a", a) == -1); // already attached
    CHECK(mux.attach("lpar-b", b) == 1);
    CHECK(mux.focus() == 0); // the first attached has the focus
    vty::Terminal more[console::kMaxTerminals];
    int ok = 0;
    for (auto& t : more) ok += mux.attach("x", t) >= 0;
    CHECK(ok == console::kMaxTerminals - 2);
    for (auto& t : more) mux.detach(t);
    mux.detach(more[0]);                // not attached: no effect
    CHECK(mux.attach(nullptr, c) == 2); // nameless is allowed
}

TEST_CASE_FIXTURE(Fixture, "console: one LPAR alone is not prefixed") {
    mux.attach("lpar-a", a);
    put(a, "hello\nworld\n");
    mux.write_hypervisor("hv says\n", 8);
    put(a, "guest again\n");
    CHECK(fake::console_out == "hello\nworld\nhv says\nguest again\n");
    CHECK_FALSE(mux.prefixing());
}

TEST_CASE_FIXTURE(Fixture, "console: alone, a line written a byte per hcall is one console write") {
    mux.attach("lpar-a", a);
    const std::string line = "hash-mmu: Page sizes from device-tree:\n";
    fake::console_writes = 0;
    for (char ch : line) put(a, std::string(1, ch)); // Linux's early udbg console
    CHECK(fake::console_out == line);
    CHECK(fake::console_writes == 1);
    fake::console_out.clear();
    put(a, "/ # "); // a prompt: shown once it has waited, as with several LPARs
    mux.poll_input();
    CHECK(fake::console_out.empty());
    wait_ms(console::kPartialLineHoldMs);
    mux.poll_input();
    CHECK(fake::console_out == "/ # ");
}

TEST_CASE_FIXTURE(Fixture, "console: with two LPARs every LPAR line is prefixed") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    CHECK(mux.prefixing());
    put(a, "a1\n");
    put(b, "b1\n");
    put(b, "b2\n");
    put(a, "a2\na3\n");
    CHECK(fake::console_out == "[lpar-a] a1\n[lpar-b] b1\n[lpar-b] b2\n[lpar-a] a2\n[lpar-a] a3\n");
}

TEST_CASE_FIXTURE(Fixture, "console: prefixes stay on when the second LPAR ends") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    mux.detach(b);
    put(a, "still named\n");
    CHECK(fake::console_out == "[lpar-a] still named\n");
}

TEST_CASE_FIXTURE(Fixture, "console: partial lines are prefixed once, broken by another source") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    put(a, "/ # ");
    put(a, "l");
    put(a, "s\r\n");
    CHECK(fake::console_out == "[lpar-a] / # ls\r\n");
    fake::console_out.clear();
    put(a, "half");
    wait_ms(console::kPartialLineHoldMs);
    mux.poll_input(); // lpar-a's line stayed unfinished for a while: shown
    put(b, "other\n");
    put(a, " rest\n");
    // lpar-b's line breaks lpar-a's "half"; its rest is named again
    CHECK(fake::console_out == "[lpar-a] half\r\n[lpar-b] other\n[lpar-a]  rest\n");
}

TEST_CASE_FIXTURE(Fixture, "console: the focused LPAR's line written in pieces stays whole") {
    mux.attach("lpar-a", a); // has the focus
    mux.attach("lpar-b", b);
    put(a, "VSCSI server: ex"); // hvc writes 16 bytes per hcall
    put(b, "other\n");
    put(a, "ported\n");
    CHECK(fake::console_out == "[lpar-b] other\n[lpar-a] VSCSI server: exported\n");
    fake::console_out.clear();
    put(a, "/ # ");
    mux.poll_input(); // the core polls between slices: too soon
    CHECK(fake::console_out.empty());
    wait_ms(console::kPartialLineHoldMs);
    mux.poll_input(); // a prompt: it shows once it has waited
    CHECK(fake::console_out == "[lpar-a] / # ");
}

TEST_CASE_FIXTURE(Fixture, "console: hypervisor lines are not prefixed but break LPAR lines") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    put(a, "guest\n");
    mux.write_hypervisor("hv says\n", 8);
    put(a, "guest again\n");
    mux.write_hypervisor("hv ", 3);
    put(a, "x\n");
    CHECK(fake::console_out ==
          "[lpar-a] guest\nhv says\n[lpar-a] guest again\nhv \r\n[lpar-a] x\n");
}

TEST_CASE_FIXTURE(Fixture, "console: output written before attach comes out on attach") {
    put(a, "early\n");
    CHECK(fake::console_out.empty());
    mux.attach("lpar-a", a);
    CHECK(fake::console_out == "early\n");
}

TEST_CASE_FIXTURE(Fixture, "console: long names are cut, not overflowed") {
    std::string name(100, 'n');
    mux.attach(name.c_str(), a);
    mux.attach("other", b);
    put(a, "x\n");
    CHECK(fake::console_out == "[" + std::string(console::kNameMax - 1, 'n') + "] x\n");
}

TEST_CASE_FIXTURE(Fixture, "console: input goes to the focused LPAR") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    type("ls\r");
    mux.poll_input();
    CHECK(input_of(a) == "ls\r");
    CHECK(input_of(b).empty());
    CHECK(fake::console_in.empty());
}

TEST_CASE_FIXTURE(Fixture, "console: input with nothing attached is dropped and counted") {
    type("abc");
    mux.poll_input();
    CHECK(mux.dropped_input() == 3);
    CHECK(fake::console_in.empty());
}

TEST_CASE_FIXTURE(Fixture, "console: Ctrl-] digit switches focus and announces it") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    type("x\x1d"
         "2y");
    mux.poll_input();
    CHECK(mux.focus() == 1);
    CHECK(input_of(a) == "x");
    CHECK(input_of(b) == "y");
    CHECK(fake::console_out.find("console input now goes to 2 lpar-b") != std::string::npos);
    type("\x1d"
         "1z");
    mux.poll_input();
    CHECK(mux.focus() == 0);
    CHECK(input_of(a) == "z");
}

TEST_CASE_FIXTURE(Fixture,
                  "console: Ctrl-] to an unused position or unknown key changes nothing, says so") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    type("\x1d"
         "5a\x1d"
         "9b\x1d"
         "0c\x1d"
         "xd");
    mux.poll_input();
    CHECK(mux.focus() == 0);
    CHECK(input_of(a) == "abcd"); // the command keys themselves are swallowed
    CHECK(fake::console_out.find("-- no LPAR at 5 now") != std::string::npos);
    CHECK(fake::console_out.find("-- Ctrl-] 0x78 is not a console key") != std::string::npos);
    CHECK(fake::console_out.find("goes to") == std::string::npos); // no focus change announced
}

TEST_CASE_FIXTURE(Fixture, "console: Ctrl-] Ctrl-] sends one literal Ctrl-]") {
    mux.attach("lpar-a", a);
    type("\x1d\x1d"
         "q\x1d\x1d\x1d\x1d");
    mux.poll_input();
    CHECK(input_of(a) == "\x1dq\x1d\x1d");
}

TEST_CASE_FIXTURE(Fixture, "console: Ctrl-] n / p cycle through attached LPARs, wrapping") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    mux.attach("lpar-c", c);
    mux.detach(b); // a hole at position 1
    type("\x1dn");
    mux.poll_input();
    CHECK(mux.focus() == 2);
    type("\x1dn");
    mux.poll_input();
    CHECK(mux.focus() == 0);
    type("\x1dp");
    mux.poll_input();
    CHECK(mux.focus() == 2);
    type("\x1dp");
    mux.poll_input();
    CHECK(mux.focus() == 0);
}

TEST_CASE_FIXTURE(Fixture, "console: the escape state survives between polls") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    type("\x1d");
    mux.poll_input();
    type("2k");
    mux.poll_input();
    CHECK(mux.focus() == 1);
    CHECK(input_of(b) == "k");
}

TEST_CASE_FIXTURE(Fixture, "console: detaching the focused LPAR moves the focus on") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    mux.detach(a);
    CHECK(mux.focus() == 1);
    CHECK_FALSE(a.connected());
    put(a, "gone\n"); // no longer reaches the console
    CHECK(fake::console_out.find("gone") == std::string::npos);
    mux.detach(b);
    CHECK(mux.focus() == -1);
    type("z");
    mux.poll_input();
    CHECK(mux.dropped_input() == 1);
    CHECK(mux.attach("lpar-c", c) == 0); // positions are reused; focus returns
    CHECK(mux.focus() == 0);
    CHECK_FALSE(mux.set_focus(1));
    CHECK_FALSE(mux.set_focus(-1));
    CHECK_FALSE(mux.set_focus(1000));
}

TEST_CASE_FIXTURE(Fixture, "console: greet names the LPAR with the keyboard, only when several") {
    mux.attach("lpar-a", a);
    mux.greet();
    CHECK(fake::console_out.empty());
    mux.attach("lpar-b", b);
    mux.greet();
    CHECK(fake::console_out == "-- console input now goes to 1 lpar-a (Ctrl-] ? for help)\n");
}

TEST_CASE_FIXTURE(Fixture, "console: help lists the LPARs and the keys") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    type("\x1d?");
    mux.poll_input();
    CHECK(fake::console_out.find("Ctrl-] 1..9") != std::string::npos);
    CHECK(fake::console_out.find("1 lpar-a (input)") != std::string::npos);
    CHECK(fake::console_out.find("2 lpar-b\n") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "console: a full vty input buffer drops and counts") {
    mux.attach("lpar-a", a);
    for (usize i = 0; i < vty::kInputCapacity + 3; ++i) mux.input('k');
    CHECK(a.pending_input() == vty::kInputCapacity);
    CHECK(mux.dropped_input() == 3);
}

TEST_CASE_FIXTURE(Fixture, "console: poll_input takes a bounded number of bytes per call") {
    mux.attach("lpar-a", a);
    type(std::string(console::kPollBudget + 5, 'w'));
    mux.poll_input();
    CHECK(fake::console_in.size() == 5);
    mux.poll_input();
    CHECK(fake::console_in.empty());
    CHECK(input_of(a).size() == console::kPollBudget + 5);
}

TEST_CASE("console: the machine multiplexer is one object") {
    CHECK(&console::mux() == &console::mux());
}

TEST_CASE_FIXTURE(Fixture, "console: an LPAR without the focus is held until its line ends") {
    mux.attach("lpar-a", a); // has the focus
    mux.attach("lpar-b", b);
    put(b, "ok - H_PUT_");
    CHECK(fake::console_out.empty()); // held: lpar-b has no focus
    put(a, "prompt # ");
    wait_ms(console::kPartialLineHoldMs);
    mux.poll_input();
    put(b, "TERM_CHAR\n");
    CHECK(fake::console_out == "[lpar-a] prompt # \r\n[lpar-b] ok - H_PUT_TERM_CHAR\n");
    fake::console_out.clear();
    put(b, "tail without newline");
    mux.detach(b); // an ending LPAR's last partial line is not lost
    CHECK(fake::console_out == "[lpar-b] tail without newline");
    fake::console_out.clear();
    mux.attach("lpar-c", c);
    put(c, "$ ");
    CHECK(fake::console_out.empty());
    CHECK(mux.set_focus(1)); // c took b's position; focusing shows its held prompt
    CHECK(fake::console_out == "\r\n[lpar-c] $ ");
}

TEST_CASE_FIXTURE(Fixture,
                  "console: a line up to kLineMax stays whole between other LPARs' lines") {
    mux.attach("lpar-a", a);
    mux.attach("lpar-b", b);
    // A test LPAR's longest note: a 200-byte text after "# ", written 16 bytes per hcall.
    const std::string note = "# " + std::string(200, 'n') + "\n";
    REQUIRE(note.size() <= console::kLineMax);
    for (usize i = 0; i < note.size(); i += 16) {
        put(b, note.substr(i, 16));
        put(a, "a\n"); // another LPAR between every piece
    }
    std::string want;
    for (usize i = 0; i < note.size(); i += 16) want += "[lpar-a] a\n";
    CHECK(fake::console_out ==
          want.substr(0, want.size() - 11) + "[lpar-b] " + note + "[lpar-a] a\n");
    fake::console_out.clear();
    // Longer than kLineMax: it goes out in pieces, and a line between them breaks it.
    put(b, std::string(console::kLineMax, 'x'));
    put(a, "a\n");
    put(b, "yz\n");
    CHECK(fake::console_out ==
          "[lpar-b] " + std::string(console::kLineMax, 'x') + "\r\n[lpar-a] a\n[lpar-b] yz\n");
}
