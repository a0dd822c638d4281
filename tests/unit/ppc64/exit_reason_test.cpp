// The ppc64 exit reasons and their names (isa/ppc64/exit_reason.hpp).
#include "isa/ppc64/exit_reason.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>

using namespace tessera;
using namespace tessera::arch;

TEST_CASE("ppc64 exit reasons: every hcall is counted, the named ones under their own name") {
    CHECK(std::strcmp(kExitNames[hcall_reason(hcall::H_ENTER)], "H_ENTER") == 0);
    CHECK(std::strcmp(kExitNames[hcall_reason(hcall::H_PUT_TERM_CHAR)], "H_PUT_TERM_CHAR") == 0);
    CHECK(std::strcmp(kExitNames[hcall_reason(hcall::H_CEDE)], "H_CEDE") == 0);
    CHECK(hcall_reason(hcall::H_VIOCTL) == static_cast<usize>(Exit::HcallOther));
    CHECK(hcall_reason(0x12345) == static_cast<usize>(Exit::HcallOther));
    CHECK(std::strcmp(kExitNames[static_cast<usize>(Exit::HcallOther)], "hcall") == 0);
    CHECK(std::strcmp(kExitNames[static_cast<usize>(Exit::Hdec)], "hdec") == 0);
    CHECK(std::strcmp(kExitNames[kReasonTlbieBroadcast], "tlbie") == 0);
}

TEST_CASE("ppc64 exit reasons: names are unique and every slot in use has one") {
    std::set<std::string> seen;
    const usize used = kReasonTlbieBroadcast + 1; // the hcalls, then the broadcast tlbies
    for (usize i = 0; i < kExitReasons; ++i) {
        if (i < used) {
            REQUIRE(kExitNames[i] != nullptr);
            CHECK(seen.insert(kExitNames[i]).second);
        } else {
            CHECK(kExitNames[i] == nullptr);
        }
    }
}

TEST_CASE("ppc64 exit reasons: count() adds to the LPAR's table") {
    auto owner = std::make_unique<Lpar>();
    Lpar& lpar = *owner;
    Vcpu& v = lpar.vcpus[0];
    v.lpar = &lpar;
    count(v, Exit::Hdec);
    count(v, hcall_reason(hcall::H_ENTER));
    count(v, hcall_reason(hcall::H_ENTER));
    CHECK(lpar.arch.exits.exits == 3);
    CHECK(lpar.arch.exits.count[static_cast<usize>(Exit::Hdec)] == 1);
    CHECK(lpar.arch.exits.count[hcall_reason(hcall::H_ENTER)] == 2);
}
