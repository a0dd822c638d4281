#include "common/lpar.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

using namespace tessera;

namespace {

std::unique_ptr<LparTable> make_table() {
    return std::make_unique<LparTable>();
}

Lpar& make(LparTable& t, const char* name, u32 vcpus) {
    LparError err = LparError::TableFull;
    Lpar* l = t.create(name, vcpus, &err);
    REQUIRE(l != nullptr);
    CHECK(err == LparError::None);
    return *l;
}

LparError refusal(LparTable& t, const char* name, u32 vcpus) {
    LparError err = LparError::None;
    CHECK(t.create(name, vcpus, &err) == nullptr);
    return err;
}

} // namespace

TEST_CASE("LparTable::create validates names and vcpu counts") {
    auto t = make_table();
    CHECK(refusal(*t, nullptr, 1) == LparError::EmptyName);
    CHECK(refusal(*t, "", 1) == LparError::EmptyName);
    const std::string longest(kLparNameMax - 1, 'x');
    const std::string too_long(kLparNameMax, 'x');
    CHECK(refusal(*t, too_long.c_str(), 1) == LparError::NameTooLong);
    CHECK(refusal(*t, "has space", 1) == LparError::BadName);
    CHECK(refusal(*t, "tab\there", 1) == LparError::BadName);
    CHECK(refusal(*t, "\x7f", 1) == LparError::BadName);
    CHECK(refusal(*t, "ok", 0) == LparError::NoVcpus);
    CHECK(refusal(*t, "ok", kMaxVcpusPerLpar + 1) == LparError::TooManyVcpus);
    CHECK(t->count() == 0);
    CHECK(t->create("quiet", 0) == nullptr); // the reason is optional

    Lpar& a = make(*t, longest.c_str(), kMaxVcpusPerLpar);
    CHECK(std::string(a.name) == longest);
    CHECK(a.vcpu_count == kMaxVcpusPerLpar);
    Lpar& b = make(*t, "linux-1", 1);
    CHECK(refusal(*t, "linux-1", 1) == LparError::DuplicateName);
    CHECK(t->count() == 2);

    CHECK(a.id == 1);
    CHECK(b.id == 2);
    CHECK(a.state == LparState::Created);
    for (u32 i = 0; i < a.vcpu_count; ++i) {
        CHECK(a.vcpus[i].lpar == &a);
        CHECK(a.vcpus[i].index == i);
        CHECK(a.vcpus[i].state == VcpuState::Offline);
    }
    CHECK(b.vcpus[1].lpar == nullptr); // beyond vcpu_count

    CHECK(std::string(to_string(LparError::DuplicateName)) == "LPAR name already used");
}

TEST_CASE("LparTable fills up, looks up and iterates") {
    auto t = make_table();
    for (usize i = 0; i < kMaxLpars; ++i) make(*t, ("lpar" + std::to_string(i)).c_str(), 1);
    CHECK(refusal(*t, "one-more", 1) == LparError::TableFull);
    CHECK(t->count() == kMaxLpars);

    CHECK(t->by_id(0) == nullptr);
    CHECK(t->by_id(kMaxLpars + 1) == nullptr);
    CHECK(t->by_id(~u32{0}) == nullptr);
    REQUIRE(t->by_id(3) != nullptr);
    CHECK(std::string(t->by_id(3)->name) == "lpar2");
    CHECK(t->by_name("lpar5")->id == 6);
    CHECK(t->by_name("lpar") == nullptr);
    CHECK(t->by_name("lpar55") == nullptr);
    CHECK(t->by_name(nullptr) == nullptr);

    u32 seen = 0;
    for (Lpar& l : *t) {
        ++seen;
        CHECK(l.id == seen);
    }
    CHECK(seen == kMaxLpars);

    auto empty = make_table();
    CHECK(empty->begin() == empty->end());
    CHECK(empty->by_id(1) == nullptr);
}

TEST_CASE("lifecycle: Created -> Loaded -> Running -> Stopped") {
    auto t = make_table();
    Lpar& l = make(*t, "guest", 3);
    CHECK_FALSE(l.start()); // not loaded yet
    CHECK(l.state == LparState::Created);
    CHECK(l.mark_loaded());
    CHECK(l.state == LparState::Loaded);
    CHECK_FALSE(l.mark_loaded());
    CHECK_FALSE(l.start_vcpu(1)); // LPAR not running
    CHECK(l.vcpus[1].state == VcpuState::Offline);

    CHECK(l.start());
    CHECK(l.state == LparState::Running);
    CHECK(l.is_live());
    CHECK(l.vcpus[0].state == VcpuState::Runnable);
    CHECK(l.vcpus[1].state == VcpuState::Offline);
    CHECK_FALSE(l.start());
    CHECK_FALSE(l.mark_loaded());

    CHECK(l.start_vcpu(2));
    CHECK(l.vcpus[2].state == VcpuState::Runnable);
    CHECK_FALSE(l.start_vcpu(2)); // already started
    CHECK_FALSE(l.start_vcpu(0));
    CHECK_FALSE(l.start_vcpu(3)); // beyond vcpu_count
    CHECK_FALSE(l.start_vcpu(~u32{0}));

    CHECK(l.stop("guest powered off"));
    CHECK(l.state == LparState::Stopped);
    CHECK_FALSE(l.is_live());
    CHECK(l.has_ended());
    CHECK(std::string(l.stop_reason) == "guest powered off");
    for (u32 i = 0; i < 3; ++i) CHECK(l.vcpus[i].state == VcpuState::Stopped);

    // Final: nothing else is allowed and the reason stays.
    CHECK_FALSE(l.stop("again"));
    CHECK_FALSE(l.crash("late"));
    CHECK_FALSE(l.start());
    CHECK_FALSE(l.mark_loaded());
    CHECK_FALSE(l.start_vcpu(1));
    CHECK(std::string(l.stop_reason) == "guest powered off");
    CHECK(l.state == LparState::Stopped);
}

TEST_CASE("lifecycle: crash from every non-final state, reason truncated") {
    auto t = make_table();
    Lpar& created = make(*t, "c", 1);
    Lpar& loaded = make(*t, "l", 1);
    Lpar& running = make(*t, "r", 2);
    REQUIRE(loaded.mark_loaded());
    REQUIRE(running.mark_loaded());
    REQUIRE(running.start());

    CHECK(created.crash("bad image"));
    CHECK(created.state == LparState::Crashed);
    CHECK(loaded.stop(nullptr));
    CHECK(loaded.state == LparState::Stopped);
    CHECK(std::string(loaded.stop_reason).empty());

    const std::string reason(500, 'r');
    CHECK(running.crash(reason.c_str()));
    CHECK(running.state == LparState::Crashed);
    CHECK(std::string(running.stop_reason) == reason.substr(0, kStopReasonMax - 1));
    CHECK(running.vcpus[0].state == VcpuState::Stopped);
    CHECK(running.vcpus[1].state == VcpuState::Stopped);
    CHECK_FALSE(running.stop("after crash"));
    CHECK(running.state == LparState::Crashed);
}

TEST_CASE("an LPAR may have more logical CPUs than the machine has physical ones") {
    auto t = make_table();
    Lpar& l = make(*t, "wide", kMaxVcpusPerLpar); // the host tests' machine has one CPU
    REQUIRE(l.mark_loaded());
    REQUIRE(l.start());
    for (u32 i = 1; i < kMaxVcpusPerLpar; ++i) CHECK(l.start_vcpu(i));
}

TEST_CASE("state names") {
    CHECK(std::string(to_string(LparState::Created)) == "created");
    CHECK(std::string(to_string(LparState::Loaded)) == "loaded");
    CHECK(std::string(to_string(LparState::Running)) == "running");
    CHECK(std::string(to_string(LparState::Stopped)) == "stopped");
    CHECK(std::string(to_string(LparState::Crashed)) == "crashed");
    CHECK(std::string(to_string(VcpuState::Offline)) == "offline");
    CHECK(std::string(to_string(VcpuState::Runnable)) == "runnable");
    CHECK(std::string(to_string(VcpuState::Running)) == "running");
    CHECK(std::string(to_string(VcpuState::Ceded)) == "ceded");
    CHECK(std::string(to_string(VcpuState::Stopped)) == "stopped");
    CHECK(std::string(to_string(static_cast<LparState>(99))) == "?");
}
