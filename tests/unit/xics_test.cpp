#include <doctest/doctest.h>

#include <initializer_list>

#include "common/lpar.hpp"
#include "common/xics.hpp"

using namespace tessera;
using namespace tessera::xics;

static_assert(kMaxServers == kMaxVcpusPerLpar, "one XICS server per logical CPU");

namespace {

constexpr u32 kA = kFirstSource; // sources used by the tests
constexpr u32 kB = kFirstSource + 1;
constexpr u32 kC = kFirstSource + 2;
constexpr u32 kLast = kFirstSource + kSourceCount - 1;

constexpr u32 xirr_of(u8 cppr, u32 xisr) {
    return u32{cppr} << 24 | xisr;
}

// A controller with `servers` servers whose CPPRs are open (0xff), as after the guest's setup.
struct Fixture {
    Controller c;
    explicit Fixture(u32 servers = 2) {
        c.reset(servers);
        for (u32 s = 0; s < servers; ++s) REQUIRE(c.set_cppr(s, 0xff) == Error::None);
        c.take_presented();
    }
    u32 accept(u32 server) {
        u32 xirr = 0xdead;
        REQUIRE(c.accept(server, xirr) == Error::None);
        return xirr;
    }
    u32 xisr(u32 server) const { return c.registers(server).xisr; }
    u8 cppr(u32 server) const { return c.registers(server).cppr; }
};

} // namespace

TEST_CASE("xics: power-on state") {
    Controller c;
    CHECK(c.server_count() == kMaxServers);
    for (u32 s = 0; s < kMaxServers; ++s) {
        IcpRegisters r = c.registers(s);
        CHECK(r.cppr == 0);
        CHECK(r.mfrr == 0xff);
        CHECK(r.xisr == 0);
        CHECK(r.pending_priority == 0xff);
        CHECK_FALSE(c.has_pending(s));
    }
    for (u32 irq = kFirstSource; irq <= kLast; ++irq) {
        u32 server = 99;
        u8 prio = 0;
        CHECK(c.get_xive(irq, server, prio) == Error::None);
        CHECK(server == 0);
        CHECK(prio == 0xff);
        CHECK(c.source_state(irq) == SourceState::Idle);
    }
    CHECK(c.take_presented() == 0);
}

TEST_CASE("xics: CPPR 0 at power-on masks everything until the OS opens it") {
    Controller c;
    c.reset(1);
    REQUIRE(c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(c.raise(kA) == Error::None);
    REQUIRE(c.set_mfrr(0, 0) == Error::None); // even MFRR 0 is not more favoured than CPPR 0
    CHECK_FALSE(c.has_pending(0));
    CHECK(c.source_state(kA) == SourceState::Pending);
    CHECK(c.set_cppr(0, 0xff) == Error::None);
    CHECK(c.has_pending(0));
    CHECK(c.registers(0).xisr == kIpiSource); // MFRR 0 beats priority 5
}

TEST_CASE("xics: reset clamps the server count and restores power-on state") {
    Fixture f(4);
    REQUIRE(f.c.set_xive(kA, 3, 4) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.c.has_pending(3));
    f.c.reset(2);
    CHECK(f.c.server_count() == 2);
    CHECK_FALSE(f.c.has_pending(3));
    CHECK(f.c.source_state(kA) == SourceState::Idle);
    CHECK(f.c.registers(0).cppr == 0);
    f.c.reset(0);
    CHECK(f.c.server_count() == 1);
    f.c.reset(100);
    CHECK(f.c.server_count() == kMaxServers);
}

TEST_CASE("xics: accept / EOI cycle of an edge source") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    CHECK(f.c.take_presented() == 0);
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK(f.c.has_pending(0));
    CHECK_FALSE(f.c.has_pending(1));
    CHECK(f.c.take_presented() == 0b01);
    CHECK(f.c.take_presented() == 0); // the mask is cleared by taking it
    CHECK(f.c.source_state(kA) == SourceState::Presented);
    CHECK(f.c.registers(0).pending_priority == 5);

    // poll has no side effect
    u32 xirr = 0;
    u8 mfrr = 0;
    REQUIRE(f.c.poll(0, xirr, mfrr) == Error::None);
    CHECK(xirr == xirr_of(0xff, kA));
    CHECK(mfrr == 0xff);
    CHECK(f.c.has_pending(0));

    // accept returns the old CPPR with the source, then CPPR := 5 and XISR := 0
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    CHECK(f.cppr(0) == 5);
    CHECK(f.xisr(0) == 0);
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.c.source_state(kA) == SourceState::InService);

    // nothing more: XISR 0 and the CPPR stays
    CHECK(f.accept(0) == xirr_of(5, 0));
    CHECK(f.cppr(0) == 5);

    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.cppr(0) == 0xff);
    CHECK(f.c.source_state(kA) == SourceState::Idle);
    CHECK_FALSE(f.c.has_pending(0));

    // a second EOI of the same source is refused and changes nothing
    CHECK(f.c.eoi(0, xirr_of(0x10, kA)) == Error::NotInService);
    CHECK(f.cppr(0) == 0xff);
}

TEST_CASE("xics: edge events merge while waiting and queue while in service") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None); // merged with the presented one
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));

    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.raise(kA) == Error::None); // in service: queued, not presented
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.c.source_state(kA) == SourceState::InService);
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.xisr(0) == kA); // re-presented after the EOI
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK_FALSE(f.c.has_pending(0)); // the queued event was only one
}

TEST_CASE("xics: CPPR masks interrupts that are not strictly more favoured") {
    Fixture f;
    REQUIRE(f.c.set_cppr(0, 5) == Error::None);
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK_FALSE(f.c.has_pending(0)); // equal priority is masked
    CHECK(f.c.source_state(kA) == SourceState::Pending);
    CHECK(f.c.take_presented() == 0);

    REQUIRE(f.c.set_xive(kB, 0, 4) == Error::None);
    REQUIRE(f.c.raise(kB) == Error::None);
    CHECK(f.xisr(0) == kB); // 4 < 5 gets through

    CHECK(f.accept(0) == xirr_of(5, kB));
    CHECK(f.cppr(0) == 4);
    REQUIRE(f.c.eoi(0, xirr_of(5, kB)) == Error::None);
    CHECK_FALSE(f.c.has_pending(0)); // back to CPPR 5: kA still held
    REQUIRE(f.c.set_cppr(0, 6) == Error::None);
    CHECK(f.xisr(0) == kA);
    CHECK(f.c.take_presented() == 0b01);
}

TEST_CASE("xics: a more favoured source preempts a pending one, which comes back after EOI") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 6) == Error::None);
    REQUIRE(f.c.set_xive(kB, 0, 3) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.xisr(0) == kA);
    REQUIRE(f.c.raise(kB) == Error::None);
    CHECK(f.xisr(0) == kB);
    CHECK(f.c.registers(0).pending_priority == 3);
    CHECK(f.c.source_state(kA) == SourceState::Pending); // rejected back to its source

    CHECK(f.accept(0) == xirr_of(0xff, kB));
    CHECK(f.cppr(0) == 3);
    CHECK_FALSE(f.c.has_pending(0)); // 6 is not more favoured than 3
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kB)) == Error::None);
    CHECK(f.xisr(0) == kA);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    CHECK(f.cppr(0) == 6);
}

TEST_CASE("xics: a less favoured or equal source does not displace the presented one") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 4) == Error::None);
    REQUIRE(f.c.set_xive(kB, 0, 4) == Error::None);
    REQUIRE(f.c.set_xive(kC, 0, 9) == Error::None);
    REQUIRE(f.c.raise(kB) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None); // same priority, lower number: still waits
    REQUIRE(f.c.raise(kC) == Error::None);
    CHECK(f.xisr(0) == kB);
    CHECK(f.c.source_state(kA) == SourceState::Pending);
    CHECK(f.c.source_state(kC) == SourceState::Pending);

    // all three are delivered, most favoured first
    CHECK(f.accept(0) == xirr_of(0xff, kB));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kB)) == Error::None);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.accept(0) == xirr_of(0xff, kC));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kC)) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
}

TEST_CASE("xics: a more favoured interrupt nests while another is in service") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 6) == Error::None);
    REQUIRE(f.c.set_xive(kB, 0, 2) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.raise(kB) == Error::None);
    CHECK(f.xisr(0) == kB);
    CHECK(f.accept(0) == xirr_of(6, kB));
    CHECK(f.cppr(0) == 2);
    REQUIRE(f.c.eoi(0, xirr_of(6, kB)) == Error::None);
    CHECK(f.cppr(0) == 6);
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.cppr(0) == 0xff);
    CHECK_FALSE(f.c.has_pending(0));
}

TEST_CASE("xics: IPI is presented while MFRR is more favoured than CPPR") {
    Fixture f;
    REQUIRE(f.c.set_cppr(1, 5) == Error::None);
    REQUIRE(f.c.set_mfrr(1, 5) == Error::None); // equal: not presented
    CHECK_FALSE(f.c.has_pending(1));
    CHECK(f.c.take_presented() == 0);
    u32 xirr = 0;
    u8 mfrr = 0;
    REQUIRE(f.c.poll(1, xirr, mfrr) == Error::None);
    CHECK(mfrr == 5);

    REQUIRE(f.c.set_mfrr(1, 4) == Error::None);
    CHECK(f.xisr(1) == kIpiSource);
    CHECK(f.c.registers(1).pending_priority == 4);
    CHECK(f.c.take_presented() == 0b10);
    CHECK_FALSE(f.c.has_pending(0));

    CHECK(f.accept(1) == xirr_of(5, kIpiSource));
    CHECK(f.cppr(1) == 4);
    CHECK_FALSE(f.c.has_pending(1)); // MFRR 4 is not more favoured than CPPR 4
    // Linux clears the MFRR in its IPI handler, then EOIs: no second IPI.
    REQUIRE(f.c.set_mfrr(1, 0xff) == Error::None);
    REQUIRE(f.c.eoi(1, xirr_of(5, kIpiSource)) == Error::None);
    CHECK(f.cppr(1) == 5);
    CHECK_FALSE(f.c.has_pending(1));
}

TEST_CASE("xics: an MFRR left set re-presents the IPI after its EOI") {
    Fixture f;
    REQUIRE(f.c.set_mfrr(0, 3) == Error::None);
    CHECK(f.accept(0) == xirr_of(0xff, kIpiSource));
    CHECK_FALSE(f.c.has_pending(0));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kIpiSource)) == Error::None);
    CHECK(f.xisr(0) == kIpiSource);
}

TEST_CASE("xics: IPI and device sources compete by priority") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.c.set_mfrr(0, 5) == Error::None); // not more favoured than the incumbent
    CHECK(f.xisr(0) == kA);
    REQUIRE(f.c.set_mfrr(0, 2) == Error::None); // now it is
    CHECK(f.xisr(0) == kIpiSource);
    CHECK(f.c.source_state(kA) == SourceState::Pending);

    // Made less favoured again, the presented IPI follows the MFRR and loses to the source.
    REQUIRE(f.c.set_mfrr(0, 7) == Error::None);
    CHECK(f.xisr(0) == kA);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    CHECK_FALSE(f.c.has_pending(0)); // MFRR 7 vs CPPR 5
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.xisr(0) == kIpiSource);
    CHECK(f.c.registers(0).pending_priority == 7);
    // cancelling withdraws it
    REQUIRE(f.c.set_mfrr(0, 0xff) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
}

TEST_CASE("xics: with XISR empty an IPI goes before a source of the same priority") {
    Fixture f;
    REQUIRE(f.c.set_cppr(0, 0) == Error::None);
    REQUIRE(f.c.set_xive(kA, 0, 4) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.c.set_mfrr(0, 4) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
    REQUIRE(f.c.set_cppr(0, 0xff) == Error::None);
    CHECK(f.xisr(0) == kIpiSource);
    CHECK(f.accept(0) == xirr_of(0xff, kIpiSource));
    REQUIRE(f.c.set_mfrr(0, 0xff) == Error::None);
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kIpiSource)) == Error::None);
    CHECK(f.xisr(0) == kA);
}

TEST_CASE("xics: set_cppr rejects the presented interrupt, which comes back later") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.c.has_pending(0));
    f.c.take_presented();

    REQUIRE(f.c.set_cppr(0, 6) == Error::None); // 5 still more favoured than 6: stays
    CHECK(f.xisr(0) == kA);
    REQUIRE(f.c.set_cppr(0, 5) == Error::None); // no longer: rejected
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.c.registers(0).pending_priority == 0xff);
    CHECK(f.c.source_state(kA) == SourceState::Pending);
    CHECK(f.accept(0) == xirr_of(5, 0));

    REQUIRE(f.c.set_cppr(0, 0xff) == Error::None);
    CHECK(f.xisr(0) == kA);
    CHECK(f.c.take_presented() == 0b01);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
}

TEST_CASE("xics: set_cppr rejects a presented IPI; MFRR brings it back") {
    Fixture f;
    REQUIRE(f.c.set_mfrr(0, 5) == Error::None);
    REQUIRE(f.xisr(0) == kIpiSource);
    REQUIRE(f.c.set_cppr(0, 0) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
    REQUIRE(f.c.set_cppr(0, 0xff) == Error::None);
    CHECK(f.xisr(0) == kIpiSource);
}

TEST_CASE("xics: set_xive routes a source to its server and priority") {
    Fixture f(3);
    REQUIRE(f.c.set_xive(kA, 2, 7) == Error::None);
    u32 server = 0;
    u8 prio = 0;
    REQUIRE(f.c.get_xive(kA, server, prio) == Error::None);
    CHECK(server == 2);
    CHECK(prio == 7);
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.c.has_pending(2));
    CHECK(f.c.take_presented() == 0b100);
    CHECK(f.c.registers(2).pending_priority == 7);
}

TEST_CASE("xics: set_xive withdraws a presented source and presents it per its new target") {
    Fixture f(2);
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.xisr(0) == kA);
    f.c.take_presented();
    REQUIRE(f.c.set_xive(kA, 1, 3) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.xisr(1) == kA);
    CHECK(f.c.registers(1).pending_priority == 3);
    CHECK(f.c.take_presented() == 0b10);
    // EOI may come from another server than the one that accepted: the source state counts
    CHECK(f.accept(1) == xirr_of(0xff, kA));
    CHECK(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.c.source_state(kA) == SourceState::Idle);
}

TEST_CASE("xics: a masked edge source keeps its event until unmasked") {
    Fixture f;
    REQUIRE(f.c.raise(kA) == Error::None); // priority 0xff at power-on
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.c.source_state(kA) == SourceState::Pending);
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    CHECK(f.xisr(0) == kA);
}

TEST_CASE("xics: int_off masks and int_on restores the priority") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 1, 6) == Error::None);
    REQUIRE(f.c.int_off(kA) == Error::None);
    u32 server = 0;
    u8 prio = 0;
    REQUIRE(f.c.get_xive(kA, server, prio) == Error::None);
    CHECK(server == 1);
    CHECK(prio == 0xff);
    REQUIRE(f.c.int_off(kA) == Error::None); // twice does not lose the saved priority
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK_FALSE(f.c.has_pending(1));
    REQUIRE(f.c.int_on(kA) == Error::None);
    REQUIRE(f.c.get_xive(kA, server, prio) == Error::None);
    CHECK(prio == 6);
    CHECK(f.xisr(1) == kA);

    // int_off of a presented source withdraws it; int_on presents it again
    REQUIRE(f.c.int_off(kA) == Error::None);
    CHECK_FALSE(f.c.has_pending(1));
    CHECK(f.c.source_state(kA) == SourceState::Pending);
    REQUIRE(f.c.int_on(kA) == Error::None);
    CHECK(f.xisr(1) == kA);

    // set_xive also sets the saved priority
    REQUIRE(f.c.set_xive(kB, 0, 0xff) == Error::None);
    REQUIRE(f.c.int_on(kB) == Error::None);
    REQUIRE(f.c.get_xive(kB, server, prio) == Error::None);
    CHECK(prio == 0xff);
}

TEST_CASE("xics: int_off of a presented source lets a hidden one through") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 2) == Error::None);
    REQUIRE(f.c.set_xive(kB, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kB) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.xisr(0) == kA);
    REQUIRE(f.c.int_off(kA) == Error::None);
    CHECK(f.xisr(0) == kB);
}

TEST_CASE("xics: int_off of a source in service still allows its EOI") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.int_off(kA) == Error::None);
    CHECK(f.c.source_state(kA) == SourceState::InService);
    CHECK(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.c.source_state(kA) == SourceState::Idle);
}

TEST_CASE("xics: a level source is re-presented on EOI while still asserted") {
    Fixture f;
    REQUIRE(f.c.set_trigger(kA, Trigger::Level) == Error::None);
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.set_level(kA, true) == Error::None);
    CHECK(f.xisr(0) == kA);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.xisr(0) == kA); // line still high
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.set_level(kA, false) == Error::None); // the handler quietened the device
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.c.source_state(kA) == SourceState::Idle);
}

TEST_CASE("xics: a level source deasserted before presentation is withdrawn") {
    Fixture f;
    REQUIRE(f.c.set_trigger(kA, Trigger::Level) == Error::None);
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.set_cppr(0, 0) == Error::None);
    REQUIRE(f.c.set_level(kA, true) == Error::None);
    CHECK(f.c.source_state(kA) == SourceState::Pending);
    REQUIRE(f.c.set_level(kA, false) == Error::None);
    CHECK(f.c.source_state(kA) == SourceState::Idle);
    REQUIRE(f.c.set_cppr(0, 0xff) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
}

TEST_CASE("xics: a presented level source stays presented when deasserted") {
    Fixture f;
    REQUIRE(f.c.set_trigger(kA, Trigger::Level) == Error::None);
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.set_level(kA, true) == Error::None);
    REQUIRE(f.c.set_level(kA, false) == Error::None);
    CHECK(f.xisr(0) == kA);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK_FALSE(f.c.has_pending(0));
}

TEST_CASE("xics: setting a level line to what it is changes nothing (asserted or not)") {
    Fixture f;
    REQUIRE(f.c.set_trigger(kA, Trigger::Level) == Error::None);
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.set_level(kA, false) == Error::None); // low and idle: stays so
    CHECK(f.c.source_state(kA) == SourceState::Idle);
    CHECK_FALSE(f.c.has_pending(0));
    REQUIRE(f.c.set_cppr(0, 0) == Error::None); // masked: the source waits
    REQUIRE(f.c.set_level(kA, true) == Error::None);
    REQUIRE(f.c.set_level(kA, true) == Error::None);
    CHECK(f.c.source_state(kA) == SourceState::Pending);
    CHECK_FALSE(f.c.has_pending(0));
    REQUIRE(f.c.set_cppr(0, 0xff) == Error::None);
    CHECK(f.xisr(0) == kA);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.set_level(kA, true) == Error::None); // in service: nothing new to present
    CHECK(f.c.source_state(kA) == SourceState::InService);
    CHECK_FALSE(f.c.has_pending(0));
    REQUIRE(f.c.eoi(0, xirr_of(0xff, kA)) == Error::None);
    CHECK(f.xisr(0) == kA); // the line is still high
}

TEST_CASE("xics: raise and set_level are for their own trigger kind") {
    Fixture f;
    CHECK(f.c.set_level(kA, true) == Error::WrongKind); // Edge by default
    REQUIRE(f.c.set_trigger(kA, Trigger::Level) == Error::None);
    CHECK(f.c.raise(kA) == Error::WrongKind);
    CHECK(f.c.source_state(kA) == SourceState::Idle);
}

TEST_CASE("xics: bad sources are refused") {
    Fixture f;
    u32 server = 7;
    u8 prio = 7;
    for (u32 irq : {0u, kIpiSource, kFirstSource - 1, kLast + 1, 0xffff'ffffu}) {
        CAPTURE(irq);
        CHECK(f.c.set_xive(irq, 0, 5) == Error::BadSource);
        CHECK(f.c.get_xive(irq, server, prio) == Error::BadSource);
        CHECK(f.c.int_off(irq) == Error::BadSource);
        CHECK(f.c.int_on(irq) == Error::BadSource);
        CHECK(f.c.raise(irq) == Error::BadSource);
        CHECK(f.c.set_level(irq, true) == Error::BadSource);
        CHECK(f.c.set_trigger(irq, Trigger::Level) == Error::BadSource);
        CHECK(f.c.source_state(irq) == SourceState::Idle);
    }
    CHECK(f.c.set_xive(kLast, 1, 0) == Error::None); // the range ends are valid
    CHECK(f.c.set_xive(kFirstSource, 1, 0) == Error::None);
    for (u32 s = 0; s < 2; ++s) CHECK_FALSE(f.c.has_pending(s));
}

TEST_CASE("xics: bad servers and priorities are refused without changes") {
    Fixture f(2);
    REQUIRE(f.c.set_xive(kA, 1, 5) == Error::None);
    CHECK(f.c.set_xive(kA, 2, 5) == Error::BadServer);
    CHECK(f.c.set_xive(kA, 0, 0x100) == Error::BadPriority);
    u32 server = 0;
    u8 prio = 0;
    REQUIRE(f.c.get_xive(kA, server, prio) == Error::None);
    CHECK(server == 1);
    CHECK(prio == 5);

    u32 xirr = 1;
    u8 mfrr = 1;
    CHECK(f.c.accept(2, xirr) == Error::BadServer);
    CHECK(f.c.accept(0xffff'ffff, xirr) == Error::BadServer);
    CHECK(f.c.poll(2, xirr, mfrr) == Error::BadServer);
    CHECK(f.c.eoi(2, xirr_of(0xff, kIpiSource)) == Error::BadServer);
    CHECK(f.c.set_cppr(2, 0xff) == Error::BadServer);
    CHECK(f.c.set_mfrr(2, 0) == Error::BadServer);
    CHECK(f.c.set_mfrr(kMaxServers, 0) == Error::BadServer);
    CHECK_FALSE(f.c.has_pending(2));
    CHECK_FALSE(f.c.has_pending(0xffff'ffff));
    CHECK(f.c.registers(2).xisr == 0);

    CHECK(f.c.set_cppr(0, 0x100) == Error::BadPriority);
    CHECK(f.c.set_mfrr(0, 0x100) == Error::BadPriority);
    CHECK(f.c.set_mfrr(0, 0xffff'ffff) == Error::BadPriority);
    CHECK(f.cppr(0) == 0xff);
    CHECK(f.c.registers(0).mfrr == 0xff);
    CHECK(f.c.take_presented() == 0);
}

TEST_CASE("xics: EOI of something not in service is refused and keeps CPPR") {
    Fixture f;
    REQUIRE(f.c.set_cppr(0, 0x80) == Error::None);
    CHECK(f.c.eoi(0, xirr_of(0xff, 0)) == Error::BadSource);
    CHECK(f.c.eoi(0, xirr_of(0xff, 1)) == Error::BadSource);
    CHECK(f.c.eoi(0, xirr_of(0xff, kLast + 1)) == Error::BadSource);
    CHECK(f.c.eoi(0, xirr_of(0xff, kA)) == Error::NotInService); // idle
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK(f.c.eoi(0, xirr_of(0xff, kA)) == Error::NotInService); // presented, not accepted
    CHECK(f.cppr(0) == 0x80);
    CHECK(f.xisr(0) == kA);
    // the IPI needs no acceptance: its EOI only sets CPPR
    CHECK(f.c.eoi(0, xirr_of(0x90, kIpiSource)) == Error::None);
    CHECK(f.cppr(0) == 0x90);
}

TEST_CASE("xics: EOI to a more favoured CPPR rejects what it no longer allows") {
    Fixture f;
    REQUIRE(f.c.set_xive(kA, 0, 5) == Error::None);
    REQUIRE(f.c.set_xive(kB, 0, 6) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    CHECK(f.accept(0) == xirr_of(0xff, kA));
    REQUIRE(f.c.set_cppr(0, 0xff) == Error::None); // nothing waiting
    REQUIRE(f.c.raise(kB) == Error::None);
    REQUIRE(f.xisr(0) == kB);
    REQUIRE(f.c.eoi(0, xirr_of(0, kA)) == Error::None);
    CHECK(f.cppr(0) == 0);
    CHECK_FALSE(f.c.has_pending(0));
    CHECK(f.c.source_state(kB) == SourceState::Pending);
}

TEST_CASE("xics: interrupts for one server leave the others alone") {
    Fixture f(4);
    REQUIRE(f.c.set_xive(kA, 1, 5) == Error::None);
    REQUIRE(f.c.set_xive(kB, 3, 5) == Error::None);
    REQUIRE(f.c.raise(kA) == Error::None);
    REQUIRE(f.c.raise(kB) == Error::None);
    REQUIRE(f.c.set_mfrr(2, 1) == Error::None);
    CHECK(f.c.take_presented() == 0b1110);
    CHECK(f.xisr(0) == 0);
    CHECK(f.xisr(1) == kA);
    CHECK(f.xisr(2) == kIpiSource);
    CHECK(f.xisr(3) == kB);
    REQUIRE(f.c.set_cppr(1, 0) == Error::None);
    CHECK_FALSE(f.c.has_pending(1));
    CHECK(f.xisr(3) == kB);
    CHECK(f.xisr(2) == kIpiSource);
}

TEST_CASE("xics: waiting sources anywhere in the range are presented by priority, then number") {
    // Sources at the first, a middle and the last number wait together (CPPR 0 holds them),
    // some of them for the other server; each server then takes its own in order.
    Fixture f;
    constexpr u32 kMid = kFirstSource + 37;
    REQUIRE(f.c.set_cppr(0, 0) == Error::None);
    REQUIRE(f.c.set_cppr(1, 0) == Error::None);
    for (u32 irq : {kLast, kMid, kA, kB}) {
        const u32 server = irq == kB ? 1 : 0;
        const u32 priority = irq == kA ? 6 : 3; // kMid and kLast tie: the lower number first
        REQUIRE(f.c.set_xive(irq, server, priority) == Error::None);
        REQUIRE(f.c.raise(irq) == Error::None);
        CHECK(f.c.source_state(irq) == SourceState::Pending);
    }
    CHECK_FALSE(f.c.has_pending(0));
    REQUIRE(f.c.set_cppr(1, 0xff) == Error::None);
    CHECK(f.accept(1) == xirr_of(0xff, kB));
    CHECK_FALSE(f.c.has_pending(1)); // the others are server 0's
    REQUIRE(f.c.set_cppr(0, 0xff) == Error::None);
    for (u32 irq : {kMid, kLast, kA}) {
        const u32 xirr = f.accept(0);
        CHECK((xirr & kXisrMask) == irq);
        CHECK(f.c.source_state(irq) == SourceState::InService);
        REQUIRE(f.c.eoi(0, xirr_of(0xff, irq)) == Error::None);
        CHECK(f.c.source_state(irq) == SourceState::Idle);
    }
    CHECK_FALSE(f.c.has_pending(0));
}
