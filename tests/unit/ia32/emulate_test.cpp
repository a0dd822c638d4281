// Privileged-instruction emulation: the instruction's bytes in the guest's memory at cs:eip,
// carried out on the vcpu's virtual state, or the fault reflected to the guest.
#include "isa/ia32/debug_regs.hpp"
#include "isa/ia32/emulate.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::GuestPaging;
using tessera::arch::test::Kernel;
using tessera::arch::test::Machine;

namespace {

using Words = std::vector<u32>;
constexpr u32 kCode = 0x10000, kGpHandler = 0x1300, kUdHandler = 0x0600, kPfHandler = 0x1400,
              kNpHandler = 0x1100;

// A ring-1 guest with its handlers for #UD, #NP, #GP and #PF (gates through the flat guest
// code selector, so that lgdt does not change them) about to run `bytes` at kCode.
struct Emu {
    Machine m;
    Kernel k{m};
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;

    Emu() {
        k.gate(6, kUdHandler, 0xe, 0, X86_GUEST_KCODE);
        k.gate(11, kNpHandler, 0xe, 0, X86_GUEST_KCODE);
        k.gate(13, kGpHandler, 0xe, 0, X86_GUEST_KCODE);
        k.gate(14, kPfHandler, 0xe, 0, X86_GUEST_KCODE);
    }
    Emulated run(std::initializer_list<u8> bytes) {
        m.poke_bytes(kCode, bytes);
        r.eip = kCode;
        r.esp = 0x9000;
        return emulate_privileged(v);
    }
    // After a reflected fault: the handler runs with [error, eip of the instruction, ...].
    void check_reflected(u32 handler, u32 error) {
        CHECK(r.eip == handler);
        CHECK(r.esp == 0x9000 - 16);
        CHECK(k.stack(r.esp, 2) == Words{error, kCode});
    }
};

// Paging for Emu: code, stack, IDT, TSS and data pages identity-mapped.
void identity_paging(Emu& e, GuestPaging& g, u32 cr4) {
    for (u32 va : {0x3000u, 0x5000u, 0x8000u, kCode, 0x20000u, 0x30000u})
        g.map(va, va, kPteP | kPteW | kPteU | kPteD);
    g.enable(e.v, cr4);
}

} // namespace

TEST_CASE("emulate: mov to cr3 loads the directory and flushes the shadow (not global pages)") {
    Emu e;
    GuestPaging g(e.m);
    identity_paging(e, g, kCr4Pge);
    g.map(0x00400000, 0x200000, kPteP | kPteW | kPteU | kPteG);
    g.map(0x00800000, 0x201000);
    u32 ge;
    REQUIRE(shadow_fill(e.v, 0x00400000, 0, ge) == ShadowFill::Filled);
    REQUIRE(shadow_fill(e.v, 0x00800000, 0, ge) == ShadowFill::Filled);
    const usize tables = shadow_pages_in_use();
    e.r.eax = g.pd; // the same directory again: a TLB flush

    CHECK(e.run({0x0f, 0x22, 0xd8}) == Emulated::Done); // mov %eax, %cr3
    CHECK(e.r.eip == kCode + 3);
    CHECK(e.v.arch.ctl.cr3 == g.pd);
    CHECK(shadow_space(e.v).pt[1] != 0); // global: kept
    CHECK(shadow_space(e.v).pt[2] == 0); // gone
    CHECK(shadow_pages_in_use() == tables - 1);

    // Without PGE everything goes.
    e.v.arch.ctl.cr4 = 0;
    e.r.ebx = g.pd | 0x18;
    CHECK(e.run({0x0f, 0x22, 0xdb}) == Emulated::Done); // mov %ebx, %cr3
    CHECK(e.v.arch.ctl.cr3 == (g.pd | 0x18));
    CHECK(shadow_space(e.v).pt[1] == 0);
    CHECK(shadow_pages_in_use() == tables - 2); // the directory stays

    // mov %cr3, %esi reads it back.
    CHECK(e.run({0x0f, 0x20, 0xde}) == Emulated::Done);
    CHECK(e.r.esi == (g.pd | 0x18));
    CHECK(e.r.eip == kCode + 3);
}

TEST_CASE("emulate: cr0 and cr4 writes, with their checks and flushes") {
    Emu e;
    GuestPaging g(e.m);
    identity_paging(e, g, kCr4Pge);
    g.map(0x00400000, 0x200000, kPteP | kPteW | kPteU | kPteG);
    u32 ge;
    REQUIRE(shadow_fill(e.v, 0x00400000, 0, ge) == ShadowFill::Filled);
    const u32 cr0 = e.v.arch.ctl.cr0;

    // Setting TS changes nothing of the translation: the global table stays.
    e.r.eax = cr0 | kCr0Ts;
    CHECK(e.run({0x0f, 0x22, 0xc0}) == Emulated::Done); // mov %eax, %cr0
    CHECK(e.v.arch.ctl.cr0 == (cr0 | kCr0Ts));
    CHECK(shadow_space(e.v).pt[1] != 0);
    CHECK(e.run({0x0f, 0x06}) == Emulated::Done); // clts
    CHECK(e.v.arch.ctl.cr0 == cr0);
    CHECK(e.r.eip == kCode + 2);
    // ET always reads as 1.
    e.r.eax = cr0 & ~kCr0Et;
    CHECK(e.run({0x0f, 0x22, 0xc0}) == Emulated::Done);
    CHECK(e.v.arch.ctl.cr0 == cr0);
    // Real mode is refused: #GP(0), nothing changed.
    e.r.eax = cr0 & ~kCr0Pe;
    CHECK(e.run({0x0f, 0x22, 0xc0}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0);
    CHECK(e.v.arch.ctl.cr0 == cr0);
    // A CR4 bit that is not allowed (PAE, VME): #GP, nothing changed.
    for (u32 bad : {0x20u, 0x1u, 0x2000u}) {
        e.r.ecx = kCr4Pge | bad;
        CHECK(e.run({0x0f, 0x22, 0xe1}) == Emulated::Reflected); // mov %ecx, %cr4
        e.check_reflected(kGpHandler, 0);
        CHECK(e.v.arch.ctl.cr4 == kCr4Pge);
    }
    CHECK(shadow_space(e.v).pt[1] != 0);
    // Allowed bits that leave paging alone keep the shadow; PSE/PGE changes flush it all.
    e.r.ecx = kCr4Pge | 0x200 | 0x400;
    CHECK(e.run({0x0f, 0x22, 0xe1}) == Emulated::Done);
    CHECK(e.v.arch.ctl.cr4 == (kCr4Pge | 0x600));
    CHECK(shadow_space(e.v).pt[1] != 0);
    e.r.ecx = kCr4Pge | kCr4Pse | 0x600;
    CHECK(e.run({0x0f, 0x22, 0xe1}) == Emulated::Done);
    CHECK(shadow_space(e.v).pt[1] == 0);
    // Paging off (PG changes): the global page's table goes too.
    REQUIRE(shadow_fill(e.v, 0x00400000, 0, ge) == ShadowFill::Filled);
    e.r.eax = cr0 & ~kCr0Pg;
    CHECK(e.run({0x0f, 0x22, 0xc0}) == Emulated::Done);
    CHECK(shadow_space(e.v).pt[1] == 0);
    CHECK(e.v.arch.ctl.cr0 == (cr0 & ~kCr0Pg));
    // cr2 is writable and readable; mov %cr4, %edx.
    e.r.eax = 0xdeadbeef;
    CHECK(e.run({0x0f, 0x22, 0xd0}) == Emulated::Done);
    CHECK(e.v.arch.ctl.cr2 == 0xdeadbeef);
    CHECK(e.run({0x0f, 0x20, 0xe2}) == Emulated::Done);
    CHECK(e.r.edx == (kCr4Pge | kCr4Pse | 0x600));
    // cr1 does not decode: #GP(0) here (the hardware gives #UD).
    CHECK(e.run({0x0f, 0x22, 0xc8}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0);
}

TEST_CASE("emulate: lgdt installs the descriptors with the privilege raised") {
    Emu e;
    constexpr u32 kGdt = 0x20000, kPseudo = 0x30000;
    e.m.poke64(kGdt + 0x08, 0x00cf9a000000ffffull); // kernel code, DPL 0
    e.m.poke64(kGdt + 0x10, 0x00cf92000000ffffull); // kernel data, DPL 0
    e.m.poke64(kGdt + 0x18, 0x00cffa000000ffffull); // user code
    e.m.poke64(kGdt + 0x20, 0x00008b0050000067ull); // a busy TSS
    e.m.poke64(kGdt + 0x28, 0x0000ec0000601000ull); // a call gate
    e.m.poke64(kGdt + 0x30, 0x00cff2000000ffffull); // beyond the limit
    e.m.poke(kPseudo, 0x002f0000);                  // limit 0x2f at kPseudo + 2
    e.m.poke(kPseudo + 4, kGdt);
    for (u64& d : e.v.arch.gdt) d = 0x1111; // whatever was there before

    // lgdt 0x30002 (0f 01 15 disp32)
    CHECK(e.run({0x0f, 0x01, 0x15, 0x02, 0x00, 0x03, 0x00}) == Emulated::Done);
    CHECK(e.r.eip == kCode + 7);
    const u64* gdt = e.v.arch.gdt;
    CHECK(gdt[0] == 0);
    CHECK(gdt[1] == 0x00cfbb000000ffffull);
    CHECK(gdt[2] == 0x00cfb3000000ffffull);
    CHECK(gdt[3] == 0x00cffb000000ffffull);
    CHECK(gdt[4] == 0);
    CHECK(gdt[5] == 0);
    for (unsigned i = 6; i < kGuestGdtEntries; ++i) CHECK(gdt[i] == 0);
    CHECK(e.v.arch.tables.gdt_base == kGdt);
    CHECK(e.v.arch.tables.gdt_limit == 0x2f);

    // With an operand-size prefix only 24 bits of the base count; ds's base is added.
    e.m.poke(kPseudo + 4, 0x12000000 | kGdt);
    e.r.ds = Kernel::kKernelDs;
    e.v.arch.gdt[Kernel::kKernelDs >> 3] = desc::install(0x00cf92010000ffffull); // base 0x10000
    e.r.eax = kPseudo + 2 - 0x10000;
    CHECK(e.run({0x66, 0x0f, 0x01, 0x10}) == Emulated::Done); // lgdtw (%eax)
    CHECK(e.v.arch.tables.gdt_base == kGdt);
    CHECK(e.r.eip == kCode + 4);

    // lidt (%eax), 32-bit.
    e.r.ds = X86_GUEST_KDATA;
    e.m.poke(0x30010, 0x07ff0000);
    e.m.poke(0x30014, 0xc0400000);
    e.r.eax = 0x30012;
    CHECK(e.run({0x0f, 0x01, 0x18}) == Emulated::Done);
    CHECK(e.v.arch.tables.idt_base == 0xc0400000u);
    CHECK(e.v.arch.tables.idt_limit == 0x7ff);
}

TEST_CASE("emulate: lgdt/ltr faults are reflected") {
    Emu e;
    GuestPaging g(e.m);
    identity_paging(e, g, 0);
    // The pseudo-descriptor on a page that is not mapped: #PF with cr2.
    e.r.eax = 0x00400000;
    CHECK(e.run({0x0f, 0x01, 0x10}) == Emulated::Reflected);
    e.check_reflected(kPfHandler, 0);
    CHECK(e.v.arch.ctl.cr2 == 0x00400000);
    // The table itself not mapped: #PF, and nothing of the old GDT changed.
    e.m.poke(0x30000, 0x00ff0000);
    e.m.poke(0x30004, 0x00500000);
    e.v.arch.gdt[1] = 0x1234;
    e.r.eax = 0x30002;
    CHECK(e.run({0x0f, 0x01, 0x10}) == Emulated::Reflected);
    CHECK(e.v.arch.ctl.cr2 == 0x00500008);
    CHECK(e.v.arch.gdt[1] == 0x1234);
    CHECK(e.v.arch.tables.gdt_base == 0);
}

TEST_CASE("emulate: ltr reads the TSS descriptor from the guest's GDT") {
    Emu e;
    constexpr u32 kGdt = 0x20000;
    e.m.poke64(kGdt + 0x08, 0x00cf9a000000ffffull);
    e.m.poke64(kGdt + 0x20, 0xc1008936a0000067ull); // TSS at 0xc136a000
    e.m.poke64(kGdt + 0x28, 0x0000090050000067ull); // a TSS that is not present
    e.m.poke64(kGdt + 0x38, 0x0000890060000067ull); // a TSS beyond the limit
    e.v.arch.tables.gdt_base = kGdt;
    e.v.arch.tables.gdt_limit = 0x37;
    e.v.arch.tables.tr = 0;

    e.r.eax = 0x20;
    CHECK(e.run({0x0f, 0x00, 0xd8}) == Emulated::Done); // ltr %ax
    CHECK(e.v.arch.tables.tr == 0x20);
    CHECK(e.v.arch.tables.tss_base == 0xc136a000u);
    CHECK(e.r.eip == kCode + 3);

    e.r.eax = 0x08; // code: #GP(selector)
    CHECK(e.run({0x0f, 0x00, 0xd8}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0x08);
    e.r.eax = 0x2b; // not present: #NP(selector without RPL)
    CHECK(e.run({0x0f, 0x00, 0xd8}) == Emulated::Reflected);
    e.check_reflected(kNpHandler, 0x28);
    e.r.eax = 0x38; // beyond the limit
    CHECK(e.run({0x0f, 0x00, 0xd8}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0x38);
    CHECK(e.v.arch.tables.tss_base == 0xc136a000u);
    e.r.eax = 0x24; // LDT
    CHECK(e.run({0x0f, 0x00, 0xd8}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0x24);
    CHECK(e.v.arch.tables.tr == 0x20);

    // ltr with a memory operand: ltr 0x30000.
    e.m.poke(0x30000, 0x20);
    e.v.arch.tables.tr = 0;
    CHECK(e.run({0x0f, 0x00, 0x1d, 0x00, 0x00, 0x03, 0x00}) == Emulated::Done);
    CHECK(e.v.arch.tables.tr == 0x20);
}

TEST_CASE("emulate: lldt installs the guest's LDT entries validated, as lgdt does; 0 drops it") {
    Emu e;
    constexpr u32 kGdt = 0x20000, kLdt = 0x21000;
    e.m.poke64(kGdt + 0x08, 0x00cf9a000000ffffull);
    e.m.poke64(kGdt + 0x10, 0x000082021000001full); // LDT at 0x21000, limit 0x1f: 4 entries
    e.m.poke64(kGdt + 0x18, 0x000002021000001full); // the same, not present
    e.m.poke64(kGdt + 0x20, 0x000f82021000ffffull); // limit 0xfffff: more than we take
    e.m.poke64(kGdt + 0x28, 0x0000820210000003ull); // limit 3: no whole entry
    e.m.poke64(kGdt + 0x30, 0x000082400000001full); // entries on a page that is not there
    e.v.arch.tables.gdt_base = kGdt;
    e.v.arch.tables.gdt_limit = 0x37;
    e.m.poke64(kLdt + 0x00, 0x00cff2000000ffffull); // data, DPL 3
    e.m.poke64(kLdt + 0x08, 0x00cf92000000ffffull); // data, DPL 0
    e.m.poke64(kLdt + 0x10, 0x0000ec0001000000ull); // a call gate to the hypervisor's code
    e.m.poke64(kLdt + 0x18, 0x00afbb000000ffffull); // code, DPL 1, L set
    e.m.poke64(kLdt + 0x20, 0x00cff2000000ffffull); // beyond the limit

    e.r.ecx = 0x13; // lldt %cx (RPL ignored)
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Done);
    CHECK(e.r.eip == kCode + 3);
    const GuestLdt& ldt = e.v.arch.ldt;
    CHECK(ldt.selector == 0x13);
    CHECK(ldt.limit == 0x1f);
    CHECK(ldt.entries[0] == 0x00cff3000000ffffull);
    CHECK(ldt.entries[1] == 0x00cfb3000000ffffull);
    CHECK(ldt.entries[2] == 0);
    CHECK(ldt.entries[3] == 0x008fbb000000ffffull);
    for (unsigned i = 4; i < kGuestLdtEntries; ++i) CHECK(ldt.entries[i] == 0);

    e.r.ecx = 0x20; // a huge LDT: its first kGuestLdtEntries entries
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Done);
    CHECK(ldt.limit == kGuestLdtEntries * 8 - 1);
    CHECK(ldt.entries[4] == 0x00cff3000000ffffull);
    e.r.ecx = 0x28; // no whole entry
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Done);
    CHECK(ldt.selector == 0x28);
    CHECK(ldt.limit == 0);
    CHECK(ldt.entries[0] == 0);

    // Refused: not an LDT descriptor, not present, beyond the GDT, TI set; nothing changes.
    e.r.ecx = 0x13;
    REQUIRE(e.run({0x0f, 0x00, 0xd1}) == Emulated::Done);
    e.r.ecx = 0x08;
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0x08);
    e.r.ecx = 0x18;
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Reflected);
    e.check_reflected(kNpHandler, 0x18);
    e.r.ecx = 0x38;
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0x38);
    e.r.ecx = 0x14;
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Reflected);
    e.check_reflected(kGpHandler, 0x14);
    CHECK(ldt.selector == 0x13);
    CHECK(ldt.entries[0] == 0x00cff3000000ffffull);

    e.r.ecx = 3; // null: no LDT
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Done);
    CHECK(ldt.selector == 0);
    CHECK(ldt.entries[0] == 0);

    // The entries on a page that is not mapped: #PF at lldt, the old LDT kept.
    GuestPaging g(e.m);
    identity_paging(e, g, 0);
    e.r.ecx = 0x30;
    CHECK(e.run({0x0f, 0x00, 0xd1}) == Emulated::Reflected);
    e.check_reflected(kPfHandler, 0);
    CHECK(e.v.arch.ctl.cr2 == 0x00400000);
    CHECK(ldt.selector == 0);
}

TEST_CASE("emulate: rdmsr/wrmsr of the known MSRs; anything else is #GP") {
    Emu e;
    fake::tsc = 0x123456789abcull;
    e.r.ecx = 0x10;
    CHECK(e.run({0x0f, 0x32}) == Emulated::Done);
    CHECK(e.r.eax == 0x56789abcu);
    CHECK(e.r.edx == 0x1234u);
    CHECK(e.r.eip == kCode + 2);
    fake::tsc = 0;

    e.r.ecx = 0x174; // SYSENTER_CS
    e.r.eax = 0x60;
    e.r.edx = 0;
    CHECK(e.run({0x0f, 0x30}) == Emulated::Done);
    CHECK(e.v.arch.sysenter_cs == 0x60);
    e.r.eax = e.r.edx = 0xffffffff;
    CHECK(e.run({0x0f, 0x32}) == Emulated::Done);
    CHECK(e.r.eax == 0x60);
    CHECK(e.r.edx == 0);

    e.r.ecx = 0x277; // PAT: all 64 bits
    e.r.eax = 0x01020304;
    e.r.edx = 0x05060700;
    CHECK(e.run({0x0f, 0x30}) == Emulated::Done);
    CHECK(e.v.arch.pat == 0x0506070001020304ull);
    e.r.eax = e.r.edx = 0;
    CHECK(e.run({0x0f, 0x32}) == Emulated::Done);
    CHECK(e.r.edx == 0x05060700u);
    CHECK(e.r.eax == 0x01020304u);

    for (u32 msr : {0x1bu, 0xc0000080u, 0x3au}) {
        e.r.ecx = msr;
        e.r.eax = 0xaaaa;
        e.r.edx = 0xbbbb;
        CHECK(e.run({0x0f, 0x32}) == Emulated::Reflected);
        e.check_reflected(kGpHandler, 0);
        CHECK(e.r.eax == 0xaaaa);
        CHECK(e.r.edx == 0xbbbb);
        CHECK(e.run({0x0f, 0x30}) == Emulated::Reflected);
        e.check_reflected(kGpHandler, 0);
    }
    e.r.ecx = 0x10; // the TSC is read-only here
    CHECK(e.run({0x0f, 0x30}) == Emulated::Reflected);
}

TEST_CASE("emulate: rep insb in rounds of 1024, eip on the instruction until ecx is 0") {
    Emu e;
    constexpr u32 kBuf = 0x40000;
    e.r.ecx = 2500;
    e.r.edi = kBuf;
    e.r.edx = 0x1f0;
    CHECK(e.run({0xf3, 0x6c}) == Emulated::Done);
    CHECK(e.r.eip == kCode);
    CHECK(e.r.ecx == 2500 - 1024);
    CHECK(e.r.edi == kBuf + 1024);
    CHECK(*e.m.host(kBuf) == 0xff);
    CHECK(*e.m.host(kBuf + 1023) == 0xff);
    CHECK(*e.m.host(kBuf + 1024) == 0);
    CHECK(emulate_privileged(e.v) == Emulated::Done);
    CHECK(e.r.eip == kCode);
    CHECK(e.r.ecx == 2500 - 2048);
    CHECK(emulate_privileged(e.v) == Emulated::Done);
    CHECK(e.r.eip == kCode + 2);
    CHECK(e.r.ecx == 0);
    CHECK(e.r.edi == kBuf + 2500);
    CHECK(*e.m.host(kBuf + 2499) == 0xff);
    CHECK(*e.m.host(kBuf + 2500) == 0);
    CHECK(*e.m.host(kBuf - 1) == 0);
    CHECK(e.r.edx == 0x1f0);

    // rep with ecx = 0: nothing, next instruction.
    CHECK(e.run({0xf3, 0x6c}) == Emulated::Done);
    CHECK(e.r.eip == kCode + 2);
    CHECK(e.r.edi == kBuf + 2500);

    // Backwards (DF) by dwords.
    e.r.eflags |= kEflagsDf;
    e.r.ecx = 3;
    e.r.edi = 0x50008;
    CHECK(e.run({0xf3, 0x6d}) == Emulated::Done);
    CHECK(e.r.eip == kCode + 2);
    CHECK(e.r.edi == 0x50008 - 12);
    CHECK(e.m.peek(0x50008) == 0xffffffffu);
    CHECK(e.m.peek(0x50000) == 0xffffffffu);
    CHECK(e.m.peek(0x50004) == 0xffffffffu);
    CHECK(e.m.peek(0x4fffc) == 0);
    CHECK(e.m.peek(0x5000c) == 0);
    e.r.eflags &= ~kEflagsDf;

    // One insw without rep: 2 bytes, ecx untouched.
    e.r.ecx = 77;
    e.r.edi = 0x60000;
    CHECK(e.run({0x66, 0x6d}) == Emulated::Done);
    CHECK(e.r.eip == kCode + 2);
    CHECK(e.r.ecx == 77);
    CHECK(e.r.edi == 0x60002);
    CHECK(e.m.peek(0x60000) == 0xffff);

    // outsb: esi moves, no memory written.
    e.r.ecx = 5;
    e.r.esi = 0x70000;
    CHECK(e.run({0xf3, 0x6e}) == Emulated::Done);
    CHECK(e.r.esi == 0x70005);
    CHECK(e.r.ecx == 0);
    CHECK(e.r.eip == kCode + 2);
}

TEST_CASE("emulate: rep insb into memory that ends: #PF where it stopped, registers so far") {
    Emu e;
    const u32 end = test::kLparSize;
    e.r.ecx = 100;
    e.r.edi = end - 10;
    CHECK(e.run({0xf3, 0x6c}) == Emulated::Reflected);
    e.check_reflected(kPfHandler, kPfP | kPfRsvd | kPfW);
    CHECK(e.v.arch.ctl.cr2 == end);
    CHECK(e.r.ecx == 90);
    CHECK(e.r.edi == end);
    CHECK(*e.m.host(end - 1) == 0xff);
}

TEST_CASE("emulate: in/out see a floating bus") {
    Emu e;
    e.r.eax = 0x12345678;
    CHECK(e.run({0xec}) == Emulated::Done); // in (%dx), %al
    CHECK(e.r.eax == 0x123456ff);
    CHECK(e.r.eip == kCode + 1);
    e.r.eax = 0x12345678;
    CHECK(e.run({0x66, 0xed}) == Emulated::Done); // in (%dx), %ax
    CHECK(e.r.eax == 0x1234ffff);
    e.r.eax = 0x12345678;
    CHECK(e.run({0xe5, 0x60}) == Emulated::Done); // in $0x60, %eax
    CHECK(e.r.eax == 0xffffffffu);
    CHECK(e.r.eip == kCode + 2);
    e.r.eax = 0x12345678;
    CHECK(e.run({0xee}) == Emulated::Done); // out %al, (%dx)
    CHECK(e.r.eax == 0x12345678);
    CHECK(e.run({0xe6, 0x80}) == Emulated::Done); // out %al, $0x80
    CHECK(e.r.eip == kCode + 2);
}

TEST_CASE("emulate: hlt, cli/sti, mov dr, invlpg, and what is not emulated") {
    Emu e;
    CHECK(e.run({0xf4}) == Emulated::Halt);
    CHECK(e.r.eip == kCode + 1);
    set_vif(e.v, true);
    CHECK(e.run({0xfa}) == Emulated::Done);
    CHECK_FALSE(vif(e.v));
    CHECK(e.run({0xfb}) == Emulated::Done);
    CHECK(vif(e.v));
    CHECK(e.r.eip == kCode + 1);
    e.r.eax = 0x1234;
    CHECK(e.run({0x0f, 0x21, 0xf0}) == Emulated::Done); // mov %dr6, %eax
    CHECK(e.r.eax == 0xffff0ff0u);
    CHECK(e.run({0x0f, 0x21, 0xf9}) == Emulated::Done); // mov %dr7, %ecx
    CHECK(e.r.ecx == 0x400u);
    e.r.ecx = 0;
    CHECK(e.run({0x0f, 0x23, 0xf9}) == Emulated::Done); // mov %ecx, %dr7
    CHECK(e.r.eip == kCode + 3);
    CHECK(e.run({0x0f, 0x09}) == Emulated::Done); // wbinvd
    CHECK(e.r.eip == kCode + 2);

    // invlpg (%eax) drops that shadow entry.
    GuestPaging g(e.m);
    identity_paging(e, g, 0);
    g.map(0x00400000, 0x200000);
    g.map(0x00401000, 0x201000);
    u32 ge;
    REQUIRE(shadow_fill(e.v, 0x00400000, 0, ge) == ShadowFill::Filled);
    REQUIRE(shadow_fill(e.v, 0x00401000, 0, ge) == ShadowFill::Filled);
    const u32* pt = fake::shadow_page_at(shadow_page_real(shadow_space(e.v).pt[1] - 1u));
    REQUIRE(pt != nullptr);
    REQUIRE(pt[0] != 0);
    e.r.eax = 0x00400abc;
    CHECK(e.run({0x0f, 0x01, 0x38}) == Emulated::Done);
    CHECK(e.r.eip == kCode + 3);
    CHECK(pt[0] == 0);
    CHECK(pt[1] != 0);

    // Not privileged instructions the emulator is given (int, iret, rdpmc) and garbage: #GP(0).
    for (std::initializer_list<u8> bytes : {std::initializer_list<u8>{0xcd, 0x80},
                                            {0xcf},
                                            {0x0f, 0x33},
                                            {0x0f, 0x0b},
                                            {0xf0, 0xfa}}) {
        CHECK(e.run(bytes) == Emulated::Reflected);
        e.check_reflected(kGpHandler, 0);
    }
}

TEST_CASE("emulate: the instruction's bytes across a page boundary, and a missing page") {
    Emu e;
    GuestPaging g(e.m);
    identity_paging(e, g, 0);
    g.map(kCode + 0x1000, 0x200000);
    // mov %eax, %cr3 split over kCode's last byte and the next page (logical 0x200000).
    e.m.poke_bytes(kCode + 0xfff, {0x0f});
    e.m.poke_bytes(0x200000, {0x22, 0xd8});
    e.r.eip = kCode + 0xfff;
    e.r.eax = g.pd;
    CHECK(emulate_privileged(e.v) == Emulated::Done);
    CHECK(e.r.eip == kCode + 0x1002);
    // The second page gone: the decoder sees one byte and refuses; #GP.
    g.unmap(kCode + 0x1000);
    e.r.eip = kCode + 0xfff;
    CHECK(emulate_privileged(e.v) == Emulated::Reflected);
    CHECK(e.r.eip == kGpHandler);
    // A one-byte instruction at the end of a page does not need the next one.
    e.m.poke_bytes(kCode + 0xfff, {0xf4});
    e.r.eip = kCode + 0xfff;
    CHECK(emulate_privileged(e.v) == Emulated::Halt);
    CHECK(e.r.eip == kCode + 0x1000);
}

TEST_CASE("emulate: a fault with no IDT to take it crashes the LPAR") {
    Machine m;
    Vcpu& v = m.vcpu();
    m.poke_bytes(kCode, {0x0f, 0x32}); // rdmsr
    v.arch.regs.eip = kCode;
    v.arch.regs.ecx = 0xdead;
    CHECK(emulate_privileged(v) == Emulated::Crashed);
    CHECK(m.lpar->state == tessera::LparState::Crashed);
    CHECK(std::string(m.lpar->stop_reason).find("vector 13") != std::string::npos);
}

TEST_CASE("emulate: mov to/from dr0-dr7 keeps the vcpu's debug registers") {
    Emu e;
    e.r.eax = 0x08049000;
    CHECK(e.run({0x0f, 0x23, 0xd8}) == Emulated::Done); // mov %eax, %dr3
    e.r.ecx = 0x000d0040 | 0xd800;                      // DR3 4-byte write, L3, bits 11/12/14/15
    CHECK(e.run({0x0f, 0x23, 0xf9}) == Emulated::Done); // mov %ecx, %dr7
    CHECK(e.v.arch.debug.dr[3] == 0x08049000);
    CHECK(e.run({0x0f, 0x21, 0xda}) == Emulated::Done); // mov %dr3, %edx
    CHECK(e.r.edx == 0x08049000);
    CHECK(e.run({0x0f, 0x21, 0xfa}) == Emulated::Done); // mov %dr7, %edx
    CHECK(e.r.edx == 0x000d0440);                       // reserved bits 0, bit 10 set
    e.r.eax = 0x4001;
    CHECK(e.run({0x0f, 0x23, 0xf0}) == Emulated::Done); // mov %eax, %dr6
    CHECK(e.v.arch.debug.dr6 == 0xffff4ff1);
    // dr4/dr5 are dr6/dr7 without CR4.DE, #UD with it.
    CHECK(e.run({0x0f, 0x21, 0xea}) == Emulated::Done); // mov %dr5, %edx
    CHECK(e.r.edx == 0x000d0440);
    e.v.arch.ctl.cr4 |= kCr4De;
    CHECK(e.run({0x0f, 0x21, 0xe2}) == Emulated::Reflected); // mov %dr4, %edx
    CHECK(e.r.eip == kUdHandler);
    // No DR access changes another vcpu's registers.
    CHECK(e.m.vcpu(1).arch.debug.dr[3] == 0);
    CHECK(e.m.vcpu(1).arch.debug.dr7 == kDr7Fixed);
}

TEST_CASE("emulate: with DR7.GD a mov drN is #DB at the instruction, BD set, GD cleared") {
    Emu e;
    e.k.gate(1, 0x0100, 0xe, 0, X86_GUEST_KCODE);
    e.v.arch.debug.dr7 = kDr7Fixed | kDr7Gd;
    e.r.eax = 0x1234;
    e.r.eflags = 0x202 | kEflagsRf;
    CHECK(e.run({0x0f, 0x23, 0xc0}) == Emulated::Reflected); // mov %eax, %dr0
    CHECK(e.r.eip == 0x0100);
    CHECK(e.k.stack(e.r.esp, 1) == Words{kCode});
    CHECK(e.v.arch.debug.dr[0] == 0);
    CHECK((e.v.arch.debug.dr6 & kDr6Bd) != 0);
    CHECK((e.v.arch.debug.dr7 & kDr7Gd) == 0);
    // GD is off now: the next one is carried out, and RF is clear after it.
    e.r.eflags = 0x202 | kEflagsRf;
    CHECK(e.run({0x0f, 0x23, 0xc0}) == Emulated::Done);
    CHECK(e.v.arch.debug.dr[0] == 0x1234);
    CHECK((e.r.eflags & kEflagsRf) == 0);
}
