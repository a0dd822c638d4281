// The x86 decoder of privileged instructions: real encodings (assembled with `as --32`, checked
// with objdump), prefixes, ModRM/SIB corner cases, default segments, effective offsets,
// truncation, refused forms, and random byte strings under ASan.
#include "isa/ia32/decode.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

using namespace tessera;
using namespace tessera::arch::x86;

namespace {

using Bytes = std::vector<u8>;

// Decodes `avail` bytes copied into a heap block of exactly that size, so that ASan reports any
// read past the end.
bool dec(const u8* bytes, usize avail, Insn& out) {
    auto buf = std::make_unique<u8[]>(avail);
    if (avail) std::memcpy(buf.get(), bytes, avail);
    return decode(buf.get(), avail, out);
}
bool dec(const Bytes& b, Insn& out) {
    return dec(b.data(), b.size(), out);
}
Insn must(const Bytes& b) {
    Insn i;
    REQUIRE(dec(b, i));
    CHECK(i.length == b.size());
    return i;
}
bool refused(const Bytes& b) {
    Insn i;
    i.op = Op::Hlt; // decode resets it
    const bool ok = dec(b, i);
    CHECK(i.op == Op::Unknown);
    return !ok;
}

struct Enc {
    const char* text;
    Bytes bytes;
    Op op;
};

// One encoding of every supported instruction (bytes from `as --32` / objdump -d).
const Enc kTable[] = {
    {"mov %eax,%cr0", {0x0f, 0x22, 0xc0}, Op::MovToCr},
    {"mov %ebx,%cr3", {0x0f, 0x22, 0xdb}, Op::MovToCr},
    {"mov %esi,%cr4", {0x0f, 0x22, 0xe6}, Op::MovToCr},
    {"mov %cr2,%edx", {0x0f, 0x20, 0xd2}, Op::MovFromCr},
    {"mov %cr4,%edi", {0x0f, 0x20, 0xe7}, Op::MovFromCr},
    {"mov %ecx,%db7", {0x0f, 0x23, 0xf9}, Op::MovToDr},
    {"mov %ebp,%db0", {0x0f, 0x23, 0xc5}, Op::MovToDr},
    {"mov %db6,%eax", {0x0f, 0x21, 0xf0}, Op::MovFromDr},
    {"invlpg (%eax)", {0x0f, 0x01, 0x38}, Op::Invlpg},
    {"invlpg 0x1000(%ebx)", {0x0f, 0x01, 0xbb, 0x00, 0x10, 0x00, 0x00}, Op::Invlpg},
    {"invlpg %fs:8(%esi)", {0x64, 0x0f, 0x01, 0x7e, 0x08}, Op::Invlpg},
    {"invlpg 0x7fffffff", {0x0f, 0x01, 0x3d, 0xff, 0xff, 0xff, 0x7f}, Op::Invlpg},
    {"lgdt 0x10(%eax,%ebx,4)", {0x0f, 0x01, 0x54, 0x98, 0x10}, Op::Lgdt},
    {"lgdt 0x9b", {0x0f, 0x01, 0x15, 0x9b, 0x00, 0x00, 0x00}, Op::Lgdt},
    {"lgdt 0x80(%esp)", {0x0f, 0x01, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00}, Op::Lgdt},
    {"lgdt 0x10(,%ebp,2)", {0x0f, 0x01, 0x14, 0x6d, 0x10, 0x00, 0x00, 0x00}, Op::Lgdt},
    {"lgdtw (%eax)", {0x66, 0x0f, 0x01, 0x10}, Op::Lgdt},
    {"lidt (%esp)", {0x0f, 0x01, 0x1c, 0x24}, Op::Lidt},
    {"lidt -4(%ebp)", {0x0f, 0x01, 0x5d, 0xfc}, Op::Lidt},
    {"lidt 0x12345678(,%ecx,8)", {0x0f, 0x01, 0x1c, 0xcd, 0x78, 0x56, 0x34, 0x12}, Op::Lidt},
    {"ltr %ax", {0x0f, 0x00, 0xd8}, Op::Ltr},
    {"ltr %di", {0x0f, 0x00, 0xdf}, Op::Ltr},
    {"ltr (%ecx)", {0x0f, 0x00, 0x19}, Op::Ltr},
    {"ltr %gs:0x40(%edx)", {0x65, 0x0f, 0x00, 0x5a, 0x40}, Op::Ltr},
    {"lldt %dx", {0x0f, 0x00, 0xd2}, Op::Lldt},
    {"lldt 2(%ebx,%edx)", {0x0f, 0x00, 0x54, 0x13, 0x02}, Op::Lldt},
    {"clts", {0x0f, 0x06}, Op::Clts},
    {"wbinvd", {0x0f, 0x09}, Op::Wbinvd},
    {"invd", {0x0f, 0x08}, Op::Invd},
    {"hlt", {0xf4}, Op::Hlt},
    {"cli", {0xfa}, Op::Cli},
    {"sti", {0xfb}, Op::Sti},
    {"in $0x60,%al", {0xe4, 0x60}, Op::In},
    {"in $0x71,%eax", {0xe5, 0x71}, Op::In},
    {"in $0x71,%ax", {0x66, 0xe5, 0x71}, Op::In},
    {"in (%dx),%al", {0xec}, Op::In},
    {"in (%dx),%eax", {0xed}, Op::In},
    {"in (%dx),%ax", {0x66, 0xed}, Op::In},
    {"out %al,$0x80", {0xe6, 0x80}, Op::Out},
    {"out %eax,$0xcf", {0xe7, 0xcf}, Op::Out},
    {"out %al,(%dx)", {0xee}, Op::Out},
    {"out %eax,(%dx)", {0xef}, Op::Out},
    {"out %ax,(%dx)", {0x66, 0xef}, Op::Out},
    {"insb", {0x6c}, Op::Ins},
    {"insl", {0x6d}, Op::Ins},
    {"insw", {0x66, 0x6d}, Op::Ins},
    {"rep insw", {0x66, 0xf3, 0x6d}, Op::Ins},
    {"outsb", {0x6e}, Op::Outs},
    {"outsl", {0x6f}, Op::Outs},
    {"rep outsl", {0xf3, 0x6f}, Op::Outs},
    {"fs outsb", {0x64, 0x6e}, Op::Outs},
    {"rdmsr", {0x0f, 0x32}, Op::Rdmsr},
    {"wrmsr", {0x0f, 0x30}, Op::Wrmsr},
    {"rdpmc", {0x0f, 0x33}, Op::Rdpmc},
    {"int $0x80", {0xcd, 0x80}, Op::Int},
    {"int3", {0xcc}, Op::Int3},
    {"into", {0xce}, Op::Into},
    {"iret", {0xcf}, Op::Iret},
    {"iretw", {0x66, 0xcf}, Op::Iret},
};

} // namespace

TEST_CASE("every supported instruction decodes to its op and its exact length") {
    for (const Enc& e : kTable) {
        INFO(e.text);
        const Insn i = must(e.bytes);
        CHECK(i.op == e.op);
        // Bytes after the instruction change nothing.
        Bytes more = e.bytes;
        more.insert(more.end(), {0x0f, 0x01, 0x94, 0x24, 0x80, 0x00, 0x00});
        Insn j;
        REQUIRE(dec(more, j));
        CHECK(j.op == e.op);
        CHECK(j.length == e.bytes.size());
    }
}

TEST_CASE("truncated at every length: refused, without reading past the end") {
    for (const Enc& e : kTable) {
        INFO(e.text);
        for (usize n = 0; n < e.bytes.size(); ++n) {
            INFO("n = " << n);
            Insn i;
            CHECK_FALSE(dec(e.bytes.data(), n, i));
            CHECK(i.op == Op::Unknown);
            CHECK(i.length == 0);
        }
    }
}

TEST_CASE("mov to/from control and debug registers") {
    Insn i = must({0x0f, 0x22, 0xdb}); // mov %ebx,%cr3
    CHECK(i.op == Op::MovToCr);
    CHECK(i.ctl == 3);
    CHECK(i.reg == 3);
    CHECK_FALSE(i.is_mem);
    i = must({0x0f, 0x20, 0xe7}); // mov %cr4,%edi
    CHECK(i.op == Op::MovFromCr);
    CHECK(i.ctl == 4);
    CHECK(i.reg == 7);
    i = must({0x0f, 0x20, 0xd2}); // mov %cr2,%edx
    CHECK(i.ctl == 2);
    CHECK(i.reg == 2);
    i = must({0x0f, 0x23, 0xf9}); // mov %ecx,%db7
    CHECK(i.op == Op::MovToDr);
    CHECK(i.ctl == 7);
    CHECK(i.reg == 1);
    i = must({0x0f, 0x21, 0xf0}); // mov %db6,%eax
    CHECK(i.op == Op::MovFromDr);
    CHECK(i.ctl == 6);
    CHECK(i.reg == 0);
    i = must({0x0f, 0x21, 0xe3}); // dr4 (an alias of dr6 unless CR4.DE): left to the caller
    CHECK(i.ctl == 4);
    CHECK(i.reg == 3);

    // The hardware ignores mod: no SIB or displacement follows (objdump: 0f 22 45 is
    // "mov %ebp,%cr0", 3 bytes).
    i = must({0x0f, 0x22, 0x45});
    CHECK(i.op == Op::MovToCr);
    CHECK(i.ctl == 0);
    CHECK(i.reg == 5);
    CHECK_FALSE(i.is_mem);
    i = must({0x0f, 0x20, 0x04}); // rm = 100 would be a SIB byte in a memory operand
    CHECK(i.op == Op::MovFromCr);
    CHECK(i.reg == 4);
    i = must({0x0f, 0x23, 0x3d}); // mod 00 rm 101 would be disp32
    CHECK(i.op == Op::MovToDr);
    CHECK(i.ctl == 7);
    CHECK(i.reg == 5);
    i = must({0x66, 0x0f, 0x22, 0xc0}); // 0x66 is ignored by the hardware here
    CHECK(i.op == Op::MovToCr);
    CHECK(i.size == 2);

    // cr1 and cr5..cr7 are #UD; cr0/2/3/4 are fine both ways.
    for (u8 cr = 0; cr < 8; ++cr) {
        INFO("cr" << int(cr));
        const bool valid = cr == 0 || cr == 2 || cr == 3 || cr == 4;
        const u8 modrm = u8(0xc0 | cr << 3 | 1);
        Insn j;
        CHECK(dec(Bytes{0x0f, 0x22, modrm}, j) == valid);
        CHECK(dec(Bytes{0x0f, 0x20, modrm}, j) == valid);
        CHECK(dec(Bytes{0x0f, 0x23, modrm}, j)); // every dr number decodes
        CHECK(j.ctl == cr);
        CHECK(dec(Bytes{0x0f, 0x21, modrm}, j));
    }
}

TEST_CASE("ltr/lldt: register and memory forms") {
    Insn i = must({0x0f, 0x00, 0xdf}); // ltr %di
    CHECK(i.op == Op::Ltr);
    CHECK(i.reg == 7);
    CHECK_FALSE(i.is_mem);
    i = must({0x0f, 0x00, 0xd2}); // lldt %dx
    CHECK(i.op == Op::Lldt);
    CHECK(i.reg == 2);
    CHECK_FALSE(i.is_mem);
    i = must({0x0f, 0x00, 0x19}); // ltr (%ecx)
    CHECK(i.op == Op::Ltr);
    CHECK(i.is_mem);
    CHECK(i.mem.seg == kDs);
    CHECK(i.mem.base == 1);
    CHECK(i.mem.index == -1);
    CHECK(i.mem.disp == 0);
    i = must({0x0f, 0x00, 0x54, 0x13, 0x02}); // lldt 2(%ebx,%edx,1)
    CHECK(i.op == Op::Lldt);
    CHECK(i.is_mem);
    CHECK(i.mem.base == 3);
    CHECK(i.mem.index == 2);
    CHECK(i.mem.scale == 1);
    CHECK(i.mem.disp == 2);
    i = must({0x65, 0x0f, 0x00, 0x5a, 0x40}); // ltr %gs:0x40(%edx)
    CHECK(i.mem.seg == kGs);
    CHECK(i.mem.base == 2);
    CHECK(i.mem.disp == 0x40);
}

TEST_CASE("lgdt/lidt/invlpg memory operands: ModRM and SIB forms") {
    Insn i = must({0x0f, 0x01, 0x54, 0x98, 0x10}); // lgdt 0x10(%eax,%ebx,4)
    CHECK(i.op == Op::Lgdt);
    CHECK(i.is_mem);
    CHECK(i.size == 4);
    CHECK(i.mem.seg == kDs);
    CHECK(i.mem.base == 0);
    CHECK(i.mem.index == 3);
    CHECK(i.mem.scale == 4);
    CHECK(i.mem.disp == 0x10);

    i = must({0x0f, 0x01, 0x15, 0x9b, 0x00, 0x00, 0x00}); // lgdt 0x9b: mod 00 rm 101, disp32
    CHECK(i.mem.base == -1);
    CHECK(i.mem.index == -1);
    CHECK(i.mem.disp == 0x9b);
    CHECK(i.mem.seg == kDs);

    i = must({0x0f, 0x01, 0x1c, 0xcd, 0x78, 0x56, 0x34, 0x12}); // lidt 0x12345678(,%ecx,8)
    CHECK(i.op == Op::Lidt);
    CHECK(i.mem.base == -1); // SIB base 101 with mod 00: disp32, no base
    CHECK(i.mem.index == 1);
    CHECK(i.mem.scale == 8);
    CHECK(i.mem.disp == 0x12345678);

    i = must({0x0f, 0x01, 0x5c, 0xfc, 0x80}); // lidt -0x80(%esp,%edi,8): disp8 sign-extends
    CHECK(i.mem.base == 4);
    CHECK(i.mem.index == 7);
    CHECK(i.mem.scale == 8);
    CHECK(i.mem.disp == 0xffffff80u);

    i = must({0x0f, 0x01, 0x94, 0x05, 0x44, 0x33, 0x22, 0x11}); // lgdt 0x11223344(%ebp,%eax,1)
    CHECK(i.mem.base == 5);                                     // SIB base 101 with mod 10 is ebp
    CHECK(i.mem.index == 0);
    CHECK(i.mem.disp == 0x11223344);

    i = must({0x0f, 0x01, 0x54, 0x75, 0x00}); // lgdt 0(%ebp,%esi,2): mod 01, disp8 0
    CHECK(i.mem.base == 5);
    CHECK(i.mem.index == 6);
    CHECK(i.mem.scale == 2);
    CHECK(i.mem.disp == 0);

    i = must({0x0f, 0x01, 0x14, 0x24}); // lgdt (%esp): SIB index 100 = none
    CHECK(i.mem.base == 4);
    CHECK(i.mem.index == -1);
    CHECK(i.mem.scale == 1);

    // Index 100 with a non-zero scale (objdump: "0x5(%eax,%eiz,8)"): still no index.
    i = must({0x0f, 0x01, 0x54, 0xe0, 0x05});
    CHECK(i.mem.base == 0);
    CHECK(i.mem.index == -1);
    CHECK(i.mem.scale == 1);
    CHECK(i.mem.disp == 5);

    i = must({0x0f, 0x01, 0x38}); // invlpg (%eax)
    CHECK(i.op == Op::Invlpg);
    CHECK(i.mem.base == 0);
    i = must({0x0f, 0x01, 0xbb, 0x00, 0x10, 0x00, 0x00}); // invlpg 0x1000(%ebx)
    CHECK(i.mem.base == 3);
    CHECK(i.mem.disp == 0x1000);
    i = must({0x0f, 0x01, 0x7d, 0xff}); // invlpg -1(%ebp)
    CHECK(i.mem.base == 5);
    CHECK(i.mem.disp == 0xffffffffu);

    i = must({0x66, 0x0f, 0x01, 0x10}); // lgdtw (%eax): the base is 24 bits
    CHECK(i.op == Op::Lgdt);
    CHECK(i.size == 2);
}

TEST_CASE("default segment: ss for an esp or ebp base, ds otherwise; overrides win") {
    struct Seg1 {
        const char* text;
        Bytes bytes;
        Seg seg;
    };
    const Seg1 cases[] = {
        {"lgdt (%eax)", {0x0f, 0x01, 0x10}, kDs},
        {"lidt (%esp)", {0x0f, 0x01, 0x1c, 0x24}, kSs},
        {"lidt -4(%ebp)", {0x0f, 0x01, 0x5d, 0xfc}, kSs},
        {"lgdt 0x80(%esp)", {0x0f, 0x01, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00}, kSs},
        {"lgdt 0(%ebp,%esi,2)", {0x0f, 0x01, 0x54, 0x75, 0x00}, kSs},
        {"lgdt 0x11223344(%ebp,%eax,1)", {0x0f, 0x01, 0x94, 0x05, 0x44, 0x33, 0x22, 0x11}, kSs},
        {"invlpg 0x40(%ebp,%ebp,1)", {0x0f, 0x01, 0x7c, 0x2d, 0x40}, kSs},
        {"lgdt (%esi,%ebp,1)", {0x0f, 0x01, 0x14, 0x2e}, kDs}, // an ebp index is not a base
        {"lgdt 0x10(,%ebp,2)", {0x0f, 0x01, 0x14, 0x6d, 0x10, 0x00, 0x00, 0x00}, kDs},
        {"invlpg 0x7fffffff", {0x0f, 0x01, 0x3d, 0xff, 0xff, 0xff, 0x7f}, kDs},
        {"lidt %es:0(%ebp)", {0x26, 0x0f, 0x01, 0x5d, 0x00}, kEs},
        {"lgdt %ss:(%eax)", {0x36, 0x0f, 0x01, 0x10}, kSs},
        {"lgdt %cs:(%eax)", {0x2e, 0x0f, 0x01, 0x10}, kCs},
        {"lgdt %ds:(%esp)", {0x3e, 0x0f, 0x01, 0x14, 0x24}, kDs},
        {"invlpg %fs:8(%esi)", {0x64, 0x0f, 0x01, 0x7e, 0x08}, kFs},
        {"ltr %gs:0x40(%edx)", {0x65, 0x0f, 0x00, 0x5a, 0x40}, kGs},
        {"fs gs invlpg (%eax): the last override", {0x64, 0x65, 0x0f, 0x01, 0x38}, kGs},
        {"gs fs invlpg (%eax): the last override", {0x65, 0x64, 0x0f, 0x01, 0x38}, kFs},
    };
    for (const Seg1& c : cases) {
        INFO(c.text);
        CHECK(must(c.bytes).mem.seg == c.seg);
    }
}

TEST_CASE("port I/O: sizes, imm8 and dx ports, string forms") {
    Insn i = must({0xe4, 0x60}); // in $0x60,%al
    CHECK(i.op == Op::In);
    CHECK(i.size == 1);
    CHECK(i.port_imm);
    CHECK(i.port == 0x60);
    i = must({0xe5, 0x71});
    CHECK(i.size == 4);
    CHECK(i.port == 0x71);
    i = must({0x66, 0xe5, 0x71});
    CHECK(i.size == 2);
    i = must({0xed}); // in (%dx),%eax
    CHECK(i.op == Op::In);
    CHECK(i.size == 4);
    CHECK_FALSE(i.port_imm);
    i = must({0x66, 0xed});
    CHECK(i.size == 2);
    CHECK_FALSE(i.port_imm);
    i = must({0xec});
    CHECK(i.size == 1);
    i = must({0xe6, 0x80}); // out %al,$0x80
    CHECK(i.op == Op::Out);
    CHECK(i.size == 1);
    CHECK(i.port_imm);
    CHECK(i.port == 0x80);
    i = must({0xe7, 0xcf});
    CHECK(i.op == Op::Out);
    CHECK(i.size == 4);
    CHECK(i.port == 0xcf);
    i = must({0xee});
    CHECK(i.op == Op::Out);
    CHECK(i.size == 1);
    CHECK_FALSE(i.port_imm);
    i = must({0x66, 0xef});
    CHECK(i.op == Op::Out);
    CHECK(i.size == 2);
    // A 0x66 on a byte form changes nothing.
    CHECK(must({0x66, 0xec}).size == 1);
    // rep is not an I/O prefix outside the string forms, and is not reported there.
    i = must({0xf3, 0xed});
    CHECK(i.op == Op::In);
    CHECK_FALSE(i.rep);

    i = must({0x6c}); // insb: es:[edi], never overridden
    CHECK(i.op == Op::Ins);
    CHECK(i.size == 1);
    CHECK_FALSE(i.rep);
    CHECK(i.is_mem);
    CHECK(i.mem.seg == kEs);
    CHECK(i.mem.base == 7);
    CHECK(i.mem.index == -1);
    CHECK(i.mem.disp == 0);
    CHECK(must({0x64, 0x6c}).mem.seg == kEs);
    i = must({0x66, 0xf3, 0x6d}); // rep insw
    CHECK(i.op == Op::Ins);
    CHECK(i.size == 2);
    CHECK(i.rep);
    CHECK(must({0x6d}).size == 4);
    i = must({0xf2, 0x6d}); // repne: a rep for ins/outs
    CHECK(i.rep);

    i = must({0x6e}); // outsb: ds:[esi]
    CHECK(i.op == Op::Outs);
    CHECK(i.size == 1);
    CHECK(i.is_mem);
    CHECK(i.mem.seg == kDs);
    CHECK(i.mem.base == 6);
    i = must({0xf3, 0x6f}); // rep outsl
    CHECK(i.op == Op::Outs);
    CHECK(i.size == 4);
    CHECK(i.rep);
    i = must({0x64, 0x6e}); // fs outsb
    CHECK(i.mem.seg == kFs);
    CHECK(must({0x36, 0x66, 0xf3, 0x6f}).mem.seg == kSs);
}

TEST_CASE("no-operand instructions, int vectors, iret size") {
    struct Simple {
        Bytes bytes;
        Op op;
    };
    const Simple cases[] = {
        {{0x0f, 0x06}, Op::Clts},  {{0x0f, 0x09}, Op::Wbinvd}, {{0x0f, 0x08}, Op::Invd},
        {{0xf4}, Op::Hlt},         {{0xfa}, Op::Cli},          {{0xfb}, Op::Sti},
        {{0x0f, 0x32}, Op::Rdmsr}, {{0x0f, 0x30}, Op::Wrmsr},  {{0x0f, 0x33}, Op::Rdpmc},
    };
    for (const Simple& c : cases) {
        const Insn i = must(c.bytes);
        CHECK(i.op == c.op);
        CHECK_FALSE(i.is_mem);
        CHECK(i.size == 4);
        CHECK_FALSE(i.rep);
    }
    Insn i = must({0xcd, 0x80});
    CHECK(i.op == Op::Int);
    CHECK(i.vector == 0x80);
    i = must({0xcd, 0x03}); // int $3 is not int3 (different checks on hardware)
    CHECK(i.op == Op::Int);
    CHECK(i.vector == 3);
    i = must({0xcc});
    CHECK(i.op == Op::Int3);
    CHECK(i.vector == 3);
    i = must({0xce});
    CHECK(i.op == Op::Into);
    CHECK(i.vector == 4);
    i = must({0xcf});
    CHECK(i.op == Op::Iret);
    CHECK(i.size == 4);
    i = must({0x66, 0xcf}); // iretw: a 16-bit frame
    CHECK(i.op == Op::Iret);
    CHECK(i.size == 2);
    // F2/F3 on one-byte opcodes other than ins/outs are ignored (as the hardware does).
    i = must({0xf3, 0xf4});
    CHECK(i.op == Op::Hlt);
    CHECK_FALSE(i.rep);
    // Segment overrides on instructions without a memory operand are ignored.
    i = must({0x2e, 0xfa});
    CHECK(i.op == Op::Cli);
    CHECK_FALSE(i.is_mem);
}

TEST_CASE("prefixes: any number up to the 15-byte limit") {
    // lgdt 0x11223344(%ebp,%eax,1) is 8 bytes: 7 prefixes make 15, 8 are too many (the
    // hardware's #GP), however many bytes are readable.
    const Bytes lgdt = {0x0f, 0x01, 0x94, 0x05, 0x44, 0x33, 0x22, 0x11};
    Bytes b(7, 0x3e);
    b.insert(b.end(), lgdt.begin(), lgdt.end());
    Insn i = must(b);
    CHECK(i.op == Op::Lgdt);
    CHECK(i.length == 15);
    b.insert(b.begin(), 0x3e);
    b.push_back(0x90);
    CHECK(refused(b));

    Bytes hlt(14, 0x66);
    hlt.push_back(0xf4);
    CHECK(must(hlt).length == 15);
    hlt.insert(hlt.begin(), 0x66);
    CHECK(refused(hlt));
    CHECK(refused(Bytes(40, 0x26))); // prefixes only

    // Mixed prefixes in any order.
    i = must({0xf3, 0x66, 0x26, 0x6f});
    CHECK(i.op == Op::Outs);
    CHECK(i.size == 2);
    CHECK(i.rep);
    CHECK(i.mem.seg == kEs);
    i = must({0x66, 0x66, 0xcf});
    CHECK(i.size == 2);
}

TEST_CASE("refused forms") {
    // 0x67 (16-bit addressing) and lock, before or between other prefixes.
    CHECK(refused({0x67, 0x0f, 0x01, 0x10}));
    CHECK(refused({0x66, 0x67, 0x0f, 0x01, 0x10}));
    CHECK(refused({0x67, 0x6c}));
    CHECK(refused({0xf0, 0x0f, 0x22, 0xc0})); // AMD's lock mov cr0 = cr8, not in 32-bit mode
    CHECK(refused({0x26, 0xf0, 0xf4}));
    CHECK(refused({0xf0, 0xfa}));
    // mod = 3 in group 7 encodes other instructions (xgetbv, vmrun, swapgs...).
    CHECK(refused({0x0f, 0x01, 0xd0})); // xgetbv (/2)
    CHECK(refused({0x0f, 0x01, 0xd8})); // vmrun (/3)
    CHECK(refused({0x0f, 0x01, 0xf8})); // swapgs (/7)
    CHECK(refused({0x0f, 0x01, 0xf9})); // rdtscp
    // Other members of groups 6 and 7.
    CHECK(refused({0x0f, 0x01, 0x00})); // sgdt (%eax)
    CHECK(refused({0x0f, 0x01, 0x08})); // sidt (%eax)
    CHECK(refused({0x0f, 0x01, 0x20})); // smsw (%eax)
    CHECK(refused({0x0f, 0x01, 0x30})); // lmsw (%eax)
    CHECK(refused({0x0f, 0x00, 0xc0})); // sldt %eax
    CHECK(refused({0x0f, 0x00, 0xc8})); // str %eax
    CHECK(refused({0x0f, 0x00, 0x20})); // verr (%eax)
    // F2/F3 select other instructions in the 0F map.
    CHECK(refused({0xf3, 0x0f, 0x01, 0x38}));
    CHECK(refused({0xf2, 0x0f, 0x22, 0xc0}));
    CHECK(refused({0xf3, 0x0f, 0x06}));
    // Not privileged or not ours.
    CHECK(refused({0x90}));       // nop
    CHECK(refused({0x0f, 0x31})); // rdtsc
    CHECK(refused({0x0f, 0x0b})); // ud2
    CHECK(refused({0x9c}));       // pushf
    CHECK(refused({0xc3}));       // ret
    CHECK(refused({0x0f}));       // truncated escape
    CHECK(refused({}));
}

TEST_CASE("effective_offset: base + index*scale + disp, 32-bit wrap") {
    const u32 gpr[8] = {0x1000,     0x20,       0x300,  0x4000,      // eax ecx edx ebx
                        0x7fff0000, 0xfffffff0, 0x8000, 0x80000000}; // esp ebp esi edi
    CHECK(effective_offset(MemOperand{kDs, 0, 3, 4, 0x10}, gpr) == 0x1000 + 0x4000 * 4 + 0x10);
    CHECK(effective_offset(MemOperand{kDs, -1, -1, 1, 0x9b}, gpr) == 0x9b);
    CHECK(effective_offset(MemOperand{kDs, -1, 1, 8, 0x12345678}, gpr) == 0x12345678 + 0x100);
    CHECK(effective_offset(MemOperand{kSs, 4, -1, 1, 0x80}, gpr) == 0x7fff0080);
    CHECK(effective_offset(MemOperand{kSs, 5, -1, 1, 0x20}, gpr) == 0x10);             // wraps
    CHECK(effective_offset(MemOperand{kSs, 5, -1, 1, 0xfffffffc}, gpr) == 0xffffffec); // -4
    CHECK(effective_offset(MemOperand{kDs, 0, 7, 2, 0}, gpr) == 0x1000); // index*scale wraps
    CHECK(effective_offset(MemOperand{kDs, 7, 7, 1, 0}, gpr) == 0);
    CHECK(effective_offset(MemOperand{kDs, 6, -1, 8, 0}, gpr) == 0x8000); // no index: no scale

    // Through decode: lidt -0x80(%esp,%edi,8) = esp + edi*8 - 0x80.
    const Insn i = must({0x0f, 0x01, 0x5c, 0xfc, 0x80});
    CHECK(effective_offset(i.mem, gpr) == u32(0x7fff0000u + 0x80000000u * 8 - 0x80));
    // lgdt 0x10(%eax,%ebx,4)
    CHECK(effective_offset(must({0x0f, 0x01, 0x54, 0x98, 0x10}).mem, gpr) == 0x11010);
}

TEST_CASE("random byte strings: no read past avail, results consistent") {
    // Random bytes drawn mostly from the ones the decoder cares about, so that deep paths
    // (prefix runs, SIB, displacements, truncation) are hit often.
    static const u8 kInteresting[] = {
        0x0f, 0x0f, 0x0f, 0x01, 0x01, 0x00, 0x20, 0x21, 0x22, 0x23, 0x06, 0x08, 0x09, 0x30,
        0x32, 0x33, 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0xf4,
        0xfa, 0xfb, 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef, 0x6c, 0x6d, 0x6e, 0x6f,
        0xcc, 0xcd, 0xce, 0xcf, 0x04, 0x05, 0x14, 0x24, 0x25, 0x44, 0x45, 0x54, 0x84, 0x94,
        0xbc, 0x3c, 0x7c, 0x1c, 0x5d, 0x9d, 0xd8, 0xc0, 0xff, 0x80};
    u64 state = 0x9e3779b97f4a7c15ull;
    auto rnd = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    usize decoded = 0;
    u8 bytes[20];
    for (int iter = 0; iter < 200000; ++iter) {
        const usize n = rnd() % (sizeof bytes + 1);
        for (usize k = 0; k < n; ++k) {
            const u64 r = rnd();
            bytes[k] = (r & 3) ? kInteresting[(r >> 8) % sizeof kInteresting] : u8(r >> 16);
        }
        Insn i;
        if (!dec(bytes, n, i)) {
            CHECK(i.op == Op::Unknown);
            continue;
        }
        ++decoded;
        REQUIRE(i.op != Op::Unknown);
        REQUIRE(i.length >= 1);
        REQUIRE(i.length <= n);
        REQUIRE(i.length <= kMaxInsnLength);
        REQUIRE((i.size == 1 || i.size == 2 || i.size == 4));
        if (i.is_mem) {
            REQUIRE(i.mem.base >= -1);
            REQUIRE(i.mem.base <= 7);
            REQUIRE(i.mem.index >= -1);
            REQUIRE(i.mem.index <= 7);
            REQUIRE(i.mem.index != 4);
            REQUIRE((i.mem.scale == 1 || i.mem.scale == 2 || i.mem.scale == 4 || i.mem.scale == 8));
            REQUIRE(i.mem.seg <= kGs);
        }
        // The instruction is its first `length` bytes: exactly those decode the same, one
        // fewer does not.
        Insn j;
        REQUIRE(dec(bytes, i.length, j));
        REQUIRE(j.op == i.op);
        REQUIRE(j.length == i.length);
        REQUIRE(std::memcmp(&j.mem, &i.mem, sizeof i.mem) == 0);
        REQUIRE_FALSE(dec(bytes, i.length - 1u, j));
    }
    // The generator must actually reach the decoder's accepting paths.
    CHECK(decoded > 10000);
}

TEST_CASE("soft_int_length: int3, int n and into after any legacy prefix but lock") {
    auto len = [](const Bytes& b, u32 vector) {
        auto buf = std::make_unique<u8[]>(b.size());
        if (!b.empty()) std::memcpy(buf.get(), b.data(), b.size());
        return soft_int_length(buf.get(), b.size(), vector);
    };
    CHECK(len({0xcc}, 3) == 1);
    CHECK(len({0xcd, 0x80}, 0x80) == 2);
    CHECK(len({0xcd, 0x03}, 3) == 2); // int $3, the two-byte form
    CHECK(len({0xce}, 4) == 1);
    CHECK(len({0x2e, 0x2e, 0xcc}, 3) == 3); // cs cs int3
    CHECK(len({0x66, 0xcd, 0x80}, 0x80) == 3);
    CHECK(len({0x67, 0xf3, 0x26, 0x64, 0xcd, 0x81}, 0x81) == 6);
    CHECK(len({0x3e, 0x36, 0x65, 0xf2, 0xce}, 4) == 5);
    // The vector must be the one that faulted.
    CHECK(len({0xcc}, 4) == 0);
    CHECK(len({0xcd, 0x81}, 0x80) == 0);
    CHECK(len({0x66, 0xce}, 3) == 0);
    // Not a software interrupt, lock, truncated, past 15 bytes.
    CHECK(len({0x90, 0xcc}, 3) == 0);
    CHECK(len({0xf0, 0xcc}, 3) == 0);
    CHECK(len({0xcd}, 0x80) == 0);
    CHECK(len({0x66}, 3) == 0);
    CHECK(len({}, 3) == 0);
    Bytes fourteen(14, 0x2e);
    fourteen.push_back(0xcc);
    CHECK(len(fourteen, 3) == 15);
    Bytes fifteen(15, 0x2e);
    fifteen.push_back(0xcc);
    CHECK(len(fifteen, 3) == 0);
    Bytes thirteen(13, 0x66);
    thirteen.insert(thirteen.end(), {0xcd, 0x80});
    CHECK(len(thirteen, 0x80) == 15);
    thirteen.insert(thirteen.begin(), 0x66);
    CHECK(len(thirteen, 0x80) == 0); // int n's immediate would be byte 16
}
