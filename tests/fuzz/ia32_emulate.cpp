// Fuzzes the ia32 privileged-instruction decoder (isa/ia32/decode.cpp) and emulator
// (isa/ia32/emulate.cpp). Each input: the decoder alone on its first 15 bytes (length within
// what was given, stable when exactly that many bytes are given, refused one byte shorter); then
// a ring-1 vcpu with fuzzed registers (biased to the LPAR's edges, the switcher, its own tables),
// control registers and descriptor-table bases, optionally paging through guest page tables the
// input writes, runs up to 8 emulated instructions from the input at eip. Checked: the neighbour's
// memory is intact, the shadow tables map only the LPAR's pages, a crash ends the LPAR.
#include "isa/ia32/decode.hpp"
#include "isa/ia32/emulate.hpp"
#include "tests/fuzz/ia32_machine.hpp"

using namespace tessera;
using namespace tessera::arch;
using namespace tessera::fuzz::ia32;

namespace {

constexpr u32 kCode = 0x10000, kPd = 0x100000, kPt = 0x101000;

void check_decoder(const u8* bytes, usize avail) {
    x86::Insn insn;
    if (!x86::decode(bytes, avail, insn)) return;
    FUZZ_CHECK(insn.length >= 1 && insn.length <= avail && insn.length <= x86::kMaxInsnLength);
    x86::Insn again;
    FUZZ_CHECK(x86::decode(bytes, insn.length, again));
    FUZZ_CHECK(again.op == insn.op && again.length == insn.length);
    FUZZ_CHECK(!x86::decode(bytes, insn.length - 1u, again));
    for (u32 vector : {3u, 4u, 0x80u})
        FUZZ_CHECK(x86::soft_int_length(bytes, avail, vector) <= avail);
}

void poke(fuzz::FakeLpar& m, u32 la, u32 v) {
    m.lpar->memory.copy_in(LogicalAddr(la), &v, 4);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static fuzz::FakeLpar m(kVcpus, 3, 2, 16 * MiB);
    check_decoder(data, size < x86::kMaxInsnLength ? size : x86::kMaxInsnLength);
    reset(m);
    Vcpu& v = m.lpar->vcpus[0];
    GuestFrame& r = v.arch.regs;
    fuzz::Input in(data, size);
    const u64 edges[] = {0,
                         kCode,
                         0x9000,
                         kPd,
                         kLparBytes - 4,
                         kLparBytes,
                         kLparBytes - 2,
                         kChunkSize,
                         kChunkSize - 2,
                         X86_SWITCHER_VA,
                         0xfffffffc,
                         0x3000,
                         0x5000,
                         0x80000000};
    const u8 mode = in.byte();
    u32* gpr[8] = {&r.eax, &r.ecx, &r.edx, &r.ebx, &r.esp, &r.ebp, &r.esi, &r.edi};
    for (u32* g : gpr) *g = static_cast<u32>(in.edge(edges));
    if (!(mode & 1)) r.esp = 0x9000;
    v.arch.tables.idt_base = (mode & 2) ? static_cast<u32>(in.edge(edges)) : 0x3000;
    v.arch.tables.idt_limit = (mode & 4) ? in.u16v() : 256 * 8 - 1;
    v.arch.tables.tr = 0x80;
    v.arch.tables.tss_base = (mode & 8) ? static_cast<u32>(in.edge(edges)) : 0x5000;
    poke(m, 0x5004, 0xa000);
    poke(m, 0x5008, 0x68);
    // IDT gates for the faults the emulator reflects (#UD, #NP, #GP, #PF) and a few more.
    for (u32 vec : {6u, 11u, 13u, 14u, 0x80u}) {
        const u64 gate =
            (mode & 0x10) ? in.u64v() : (0x1300 | u64{X86_GUEST_KCODE} << 16 | u64{0x8e} << 40);
        m.lpar->memory.copy_in(LogicalAddr(0x3000 + vec * 8), &gate, 8);
    }
    if (mode & 0x20) {
        // Paging on: code, stack, IDT, TSS identity-mapped, then fuzzed entries.
        for (u32 i = 0; i < 1024; ++i) poke(m, kPd + 4 * i, 0);
        for (u32 i = 0; i < 1024; ++i) poke(m, kPt + 4 * i, 0);
        poke(m, kPd, kPt | kPteP | kPteW | kPteU);
        for (u32 va : {0x3000u, 0x5000u, 0x8000u, 0x9000u, kCode, kCode + 0x1000})
            poke(m, kPt + (va >> 12) * 4, va | kPteP | kPteW | kPteU | kPteD);
        const u32 extra = in.byte() % 8;
        for (u32 i = 0; i < extra; ++i) {
            const u32 slot = in.below(2048);
            poke(m, slot < 1024 ? kPd + 4 * slot : kPt + 4 * (slot - 1024),
                 static_cast<u32>(in.edge(edges)) | (in.byte() & 0xff));
        }
        v.arch.ctl.cr0 = kCr0Pe | kCr0Et | kCr0Wp | kCr0Pg;
        v.arch.ctl.cr3 = kPd;
        v.arch.ctl.cr4 = (mode & 0x40) ? (kCr4Pse | kCr4Pge) : 0;
    }
    // Data a lgdt/lidt might point at.
    u8 table[64];
    for (u8& b : table) b = in.byte();
    m.lpar->memory.copy_in(LogicalAddr(0x20000), table, sizeof table);
    // The instructions at eip.
    u8 code[120];
    usize n = 0;
    while (n < sizeof code && !in.empty()) code[n++] = in.byte();
    m.lpar->memory.copy_in(LogicalAddr(kCode), code, n);
    m.lpar->memory.fill(LogicalAddr(kCode + n), 0x90, sizeof code - n + 16);
    r.eip = kCode;

    for (int i = 0; i < 8; ++i) {
        const Emulated e = emulate_privileged(v);
        FUZZ_CHECK(m.neighbour_intact());
        check_shadow(m, v);
        if (e == Emulated::Crashed) {
            FUZZ_CHECK(m.lpar->has_ended());
            break;
        }
        if (m.lpar->has_ended()) break;
        if (e == Emulated::Reflected) break; // the guest's handler would run now
    }
    return 0;
}
