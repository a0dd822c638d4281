#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "common/lpar.hpp"
#include "hcall/dispatch.hpp"
#include "hcall/vty.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {

struct Guest {
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();
    Env env{*lpar, lpar->vcpus[0]};

    Ret put(u64 termno, u64 len, u64 hi, u64 lo) {
        Frame f;
        f.opcode = H_PUT_TERM_CHAR;
        f.args[0] = termno;
        f.args[1] = len;
        f.args[2] = hi;
        f.args[3] = lo;
        return h_put_term_char(env, f);
    }
    Frame get(u64 termno, Ret& r) {
        Frame f;
        f.opcode = H_GET_TERM_CHAR;
        f.args[0] = termno;
        f.rets[0] = f.rets[1] = f.rets[2] = 0xDEAD; // must be overwritten
        r = h_get_term_char(env, f);
        return f;
    }
    std::string output() {
        std::string s;
        u8 buf[64];
        while (usize n = lpar->vty.take_output(buf, sizeof(buf)))
            s.append(reinterpret_cast<char*>(buf), n);
        return s;
    }
    void feed(const std::string& s) {
        lpar->vty.feed(reinterpret_cast<const u8*>(s.data()), s.size());
    }
};

constexpr u64 kTerm = vty::kDefaultTermno;

} // namespace

TEST_CASE("hcall vty: put 1 byte takes bits 63..56 of hi") {
    Guest g;
    CHECK(g.put(kTerm, 1, 0x41'42'43'44'45'46'47'48, 0x49) == H_SUCCESS);
    CHECK(g.output() == "A");
}

TEST_CASE("hcall vty: put 8 bytes is all of hi, most significant first") {
    Guest g;
    CHECK(g.put(kTerm, 8, 0x41'42'43'44'45'46'47'48, 0x5A'5A'5A'5A'5A'5A'5A'5A) == H_SUCCESS);
    CHECK(g.output() == "ABCDEFGH");
}

TEST_CASE("hcall vty: put 9 bytes takes byte 8 from bits 63..56 of lo") {
    Guest g;
    CHECK(g.put(kTerm, 9, 0x41'42'43'44'45'46'47'48, 0x49'5A'5A'5A'5A'5A'5A'5A) == H_SUCCESS);
    CHECK(g.output() == "ABCDEFGHI");
}

TEST_CASE("hcall vty: put 16 bytes") {
    Guest g;
    CHECK(g.put(kTerm, 16, 0x30'31'32'33'34'35'36'37, 0x38'39'61'62'63'64'65'66) == H_SUCCESS);
    CHECK(g.output() == "0123456789abcdef");
}

TEST_CASE("hcall vty: put 0 bytes succeeds with no output") {
    Guest g;
    CHECK(g.put(kTerm, 0, ~u64{0}, ~u64{0}) == H_SUCCESS);
    CHECK(g.output().empty());
}

TEST_CASE("hcall vty: put with a bad length or terminal is H_PARAMETER and writes nothing") {
    Guest g;
    CHECK(g.put(kTerm, 17, 0x41, 0x41) == H_PARAMETER);
    CHECK(g.put(kTerm, ~u64{0}, 0x41, 0x41) == H_PARAMETER);
    CHECK(g.put(kTerm, u64{1} << 63, 0x41, 0x41) == H_PARAMETER);
    CHECK(g.put(kTerm, 0x100000010, 0x41, 0x41) == H_PARAMETER); // 16 in the low word only
    CHECK(g.put(kTerm + 1, 1, 0x41ull << 56, 0) == H_PARAMETER);
    CHECK(g.put(kTerm | (u64{1} << 32), 1, 0x41ull << 56, 0) == H_PARAMETER);
    CHECK(g.put(~u64{0}, 1, 0x41ull << 56, 0) == H_PARAMETER);
    CHECK(g.output().empty());
}

TEST_CASE("hcall vty: put honours a configured terminal number") {
    Guest g;
    g.lpar->vty.set_termno(0x71000000);
    CHECK(g.put(kTerm, 1, 0x41ull << 56, 0) == H_PARAMETER);
    CHECK(g.put(0x71000000, 1, 0x41ull << 56, 0) == H_SUCCESS);
    CHECK(g.output() == "A");
}

TEST_CASE("hcall vty: termno 0 is the LPAR's first vty, whatever its unit address") {
    for (u64 unit : {kTerm, u64{0x71000000}, u64{0}}) {
        CAPTURE(unit);
        Guest g;
        g.lpar->vty.set_termno(unit);
        CHECK(g.put(0, 2, 0x4142ull << 48, 0) == H_SUCCESS);
        CHECK(g.put(unit, 1, 0x43ull << 56, 0) == H_SUCCESS);
        CHECK(g.output() == "ABC");
        CHECK(g.put(0, 17, 0, 0) == H_PARAMETER); // the length is still checked
        CHECK(g.put(1, 1, 0x41ull << 56, 0) == H_PARAMETER);
        g.feed("xy");
        Ret r;
        Frame f = g.get(0, r);
        CHECK(r == H_SUCCESS);
        CHECK(f.rets[0] == 2);
        CHECK(f.rets[1] == 0x78'79'00'00'00'00'00'00);
    }
}

TEST_CASE("hcall vty: get with no input returns count 0, zero bytes, H_SUCCESS") {
    Guest g;
    Ret r;
    Frame f = g.get(kTerm, r);
    CHECK(r == H_SUCCESS);
    CHECK(f.rets[0] == 0);
    CHECK(f.rets[1] == 0);
    CHECK(f.rets[2] == 0);
}

TEST_CASE("hcall vty: get packs 1, 8, 9 and 16 bytes most significant first") {
    Guest g;
    Ret r;
    g.feed("A");
    Frame f = g.get(kTerm, r);
    CHECK(r == H_SUCCESS);
    CHECK(f.rets[0] == 1);
    CHECK(f.rets[1] == 0x41'00'00'00'00'00'00'00);
    CHECK(f.rets[2] == 0);

    g.feed("ABCDEFGH");
    f = g.get(kTerm, r);
    CHECK(f.rets[0] == 8);
    CHECK(f.rets[1] == 0x41'42'43'44'45'46'47'48);
    CHECK(f.rets[2] == 0);

    g.feed("ABCDEFGHI");
    f = g.get(kTerm, r);
    CHECK(f.rets[0] == 9);
    CHECK(f.rets[1] == 0x41'42'43'44'45'46'47'48);
    CHECK(f.rets[2] == 0x49'00'00'00'00'00'00'00);

    g.feed("0123456789abcdefXY"); // 18 waiting: 16, then 2
    f = g.get(kTerm, r);
    CHECK(f.rets[0] == 16);
    CHECK(f.rets[1] == 0x30'31'32'33'34'35'36'37);
    CHECK(f.rets[2] == 0x38'39'61'62'63'64'65'66);
    f = g.get(kTerm, r);
    CHECK(f.rets[0] == 2);
    CHECK(f.rets[1] == 0x58'59'00'00'00'00'00'00);
    f = g.get(kTerm, r);
    CHECK(f.rets[0] == 0);
}

TEST_CASE("hcall vty: get on a wrong terminal is H_PARAMETER, count 0, input kept") {
    Guest g;
    g.feed("keep");
    for (u64 bad : {u64{1}, kTerm + 4, kTerm | (u64{1} << 40), ~u64{0}}) {
        Ret r;
        Frame f = g.get(bad, r);
        CHECK(r == H_PARAMETER);
        CHECK(f.rets[0] == 0);
        CHECK(f.rets[1] == 0);
        CHECK(f.rets[2] == 0);
    }
    CHECK(g.lpar->vty.pending_input() == 4);
}

TEST_CASE("hcall vty: bytes with the top bit set survive the packing") {
    Guest g;
    CHECK(g.put(kTerm, 3, 0xFF'80'7F'00'00'00'00'00, 0) == H_SUCCESS);
    CHECK(g.output() == std::string("\xFF\x80\x7F", 3));
    g.feed(std::string("\xFF\x80", 2));
    Ret r;
    Frame f = g.get(kTerm, r);
    CHECK(f.rets[1] == 0xFF'80'00'00'00'00'00'00);
}

TEST_CASE("hcall vty: pack and unpack are inverse") {
    u8 in[16], out[16] = {};
    for (u8 i = 0; i < 16; ++i) in[i] = static_cast<u8>(0xF0 - i * 7);
    for (usize len = 0; len <= 16; ++len) {
        u64 hi = 1, lo = 1;
        pack_term_bytes(in, len, hi, lo);
        unpack_term_bytes(hi, lo, out, len);
        for (usize i = 0; i < len; ++i) CHECK(out[i] == in[i]);
        if (len <= 8) CHECK(lo == 0);
    }
}

TEST_CASE("hcall vty: the vty interrupt is a level source: up while input waits, down once taken") {
    Guest g;
    xics::Controller& x = g.lpar->xics;
    x.reset(1);
    REQUIRE(x.set_trigger(kVtyIrq, xics::Trigger::Level) == xics::Error::None);
    REQUIRE(x.set_xive(kVtyIrq, 0, 5) == xics::Error::None);
    REQUIRE(x.set_cppr(0, 0xff) == xics::Error::None);
    g.lpar->sync_vty_irq();
    CHECK_FALSE(x.has_pending(0));

    g.feed(std::string(20, 'k')); // more than one H_GET_TERM_CHAR takes
    g.lpar->sync_vty_irq();       // what the run loop does after console input
    CHECK(x.has_pending(0));
    u32 xirr = 0;
    REQUIRE(x.accept(0, xirr) == xics::Error::None);
    CHECK((xirr & xics::kXisrMask) == kVtyIrq);

    Ret r;
    g.get(kTerm, r); // 16 of 20: still asserted, so the EOI presents it again
    REQUIRE(x.eoi(0, xirr) == xics::Error::None);
    CHECK(x.has_pending(0));
    REQUIRE(x.accept(0, xirr) == xics::Error::None);
    Frame f = g.get(kTerm, r); // the last 4: the line drops
    CHECK(f.rets[0] == 4);
    REQUIRE(x.eoi(0, xirr) == xics::Error::None);
    CHECK_FALSE(x.has_pending(0));
    CHECK(x.source_state(kVtyIrq) == xics::SourceState::Idle);
}

TEST_CASE("hcall vty: a masked vty interrupt (power-on, pseries) is never presented") {
    Guest g;
    xics::Controller& x = g.lpar->xics;
    x.reset(1);
    REQUIRE(x.set_trigger(kVtyIrq, xics::Trigger::Level) == xics::Error::None);
    REQUIRE(x.set_cppr(0, 0xff) == xics::Error::None);
    g.feed("abc");
    g.lpar->sync_vty_irq();
    CHECK_FALSE(x.has_pending(0));
    CHECK(x.source_state(kVtyIrq) == xics::SourceState::Pending);
}
