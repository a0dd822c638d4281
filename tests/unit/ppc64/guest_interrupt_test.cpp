// Where an interrupt Tessera delivers to an LPAR starts (isa/ppc64/guest_interrupt.hpp).
#include "isa/ppc64/guest_interrupt.hpp"

#include <doctest/doctest.h>
#include <initializer_list>

using namespace tessera;
using namespace tessera::arch;

namespace {
constexpr u64 kVirtual = msr::SF | msr::IR | msr::DR | msr::EE | msr::ME | msr::RI | msr::LE;
constexpr u64 kUser = kVirtual | msr::PR;
constexpr u64 kBase = lpcr::VPM0 | lpcr::LPES1 | lpcr::HDICE | lpcr::ILE;
} // namespace

TEST_CASE("ppc64 guest interrupt without AIL: real mode at the vector") {
    const GuestInterrupt to = guest_interrupt(kBase, kExternal, kUser);
    CHECK(to.pc == 0x500);
    CHECK(to.msr == (msr::SF | msr::ME | msr::LE));
    // Big-endian interrupts until the guest asks (LPCR[ILE] clear); ME only when it was set.
    CHECK(guest_interrupt(kBase & ~lpcr::ILE, kProgram, kVirtual & ~msr::ME).msr == msr::SF);
}

TEST_CASE("ppc64 guest interrupt with AIL 3: relocation-on at 0xc000000000004000 + vector") {
    const u64 lpcr = kBase | lpcr::AIL_3;
    for (u64 vector : {u64{kDataStorage}, u64{kInstStorage}, u64{kExternal}, u64{kProgram}}) {
        CAPTURE(vector);
        const GuestInterrupt to = guest_interrupt(lpcr, vector, kUser);
        CHECK(to.pc == 0xc000000000004000 + vector);
        CHECK(to.msr == (msr::SF | msr::ME | msr::LE | msr::IR | msr::DR));
        CHECK((to.msr & (msr::PR | msr::EE)) == 0);
    }
}

TEST_CASE("ppc64 guest interrupt with AIL 3 stays in real mode where the CPU's would") {
    const u64 lpcr = kBase | lpcr::AIL_3;
    // Only when the interrupted code had both IR and DR on.
    for (u64 at : {kVirtual & ~msr::IR, kVirtual & ~msr::DR, kVirtual & ~(msr::IR | msr::DR)}) {
        CAPTURE(at);
        const GuestInterrupt to = guest_interrupt(lpcr, kDataStorage, at);
        CHECK(to.pc == 0x300);
        CHECK((to.msr & (msr::IR | msr::DR)) == 0);
    }
    // Never for system reset and machine check.
    CHECK(guest_interrupt(lpcr, kSystemReset, kVirtual).pc == 0x100);
    CHECK(guest_interrupt(lpcr, kMachineCheck, kVirtual).pc == 0x200);
    // AIL 1 and 2 are never set by H_SET_MODE; an LPCR with them delivers in real mode.
    CHECK(guest_interrupt(kBase | (u64{1} << 23), kExternal, kVirtual).pc == 0x500);
    CHECK(guest_interrupt(kBase | (u64{2} << 23), kExternal, kVirtual).pc == 0x500);
}
