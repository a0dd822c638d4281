// Segment descriptors as the guest hands them to lgdt: decoding (base, limit, type) and the
// ring-compressed copy that goes into the real GDT.
#include "isa/ia32/descriptor.hpp"

#include <doctest/doctest.h>

#include <initializer_list>

using namespace tessera;
using namespace tessera::arch;

namespace {

// A descriptor from its fields (access byte, flags nibble G D/B L AVL).
constexpr u64 make(u32 base, u32 limit, u8 access, u8 flags) {
    return (u64{limit} & 0xffff) | (u64{base & 0xffffff} << 16) | (u64{access} << 40) |
           (u64{(limit >> 16) & 0xf} << 48) | (u64{flags & 0xfu} << 52) | (u64{base >> 24} << 56);
}

constexpr u8 kG = 0x8, kDb = 0x4, kL = 0x2;

} // namespace

TEST_CASE("descriptor: make() matches the encodings Linux and the SDM use") {
    CHECK(make(0, 0xfffff, 0x9a, kG | kDb) == 0x00cf9a000000ffffull); // GDT_ENTRY_KERNEL_CS
    CHECK(make(0, 0xfffff, 0x92, kG | kDb) == 0x00cf92000000ffffull);
    CHECK(make(0, 0xfffff, 0x9a, kG | kL) == 0x00af9a000000ffffull); // a 64-bit code segment
}

TEST_CASE("descriptor: install raises DPL 0 to 1 for code and data, sets accessed, clears L") {
    // Linux's flat kernel segments: execute/read code and read/write data, neither accessed.
    CHECK(desc::install(0x00cf9a000000ffffull) == 0x00cfbb000000ffffull);
    CHECK(desc::install(0x00cf92000000ffffull) == 0x00cfb3000000ffffull);
    // Already accessed: only the DPL changes.
    CHECK(desc::install(0x00cf9b000000ffffull) == 0x00cfbb000000ffffull);
    // DPL 1 and 2 stay as they are (accessed set), DPL 3 (user) too.
    CHECK(desc::install(make(0, 0xfffff, 0xba, kG | kDb)) == make(0, 0xfffff, 0xbb, kG | kDb));
    CHECK(desc::install(make(0, 0xfffff, 0xd2, kG | kDb)) == make(0, 0xfffff, 0xd3, kG | kDb));
    CHECK(desc::install(0x00cffa000000ffffull) == 0x00cffb000000ffffull);
    CHECK(desc::install(0x00cff2000000ffffull) == 0x00cff3000000ffffull);
    // Base, limit, granularity and the type's other bits (conforming, expand-down) are kept.
    const u64 conforming = make(0x12345678, 0xabcde, 0x9e, kG | kDb);
    CHECK(desc::install(conforming) == make(0x12345678, 0xabcde, 0xbf, kG | kDb));
    const u64 expand_down = make(0x00400000, 0x00fff, 0x96, kDb);
    CHECK(desc::install(expand_down) == make(0x00400000, 0x00fff, 0xb7, kDb));
    // L (a 64-bit code segment) is cleared; G and D/B stay.
    CHECK(desc::install(0x00af9a000000ffffull) == 0x008fbb000000ffffull);
    CHECK(desc::install(make(0, 0xfffff, 0xfa, kG | kL | kDb)) == make(0, 0xfffff, 0xfb, kG | kDb));
    // A segment that is not present stays not present (a load of it must still #NP).
    const u64 absent = desc::install(make(0, 0xfffff, 0x1a, kG | kDb));
    CHECK_FALSE(desc::present(absent));
    CHECK(desc::dpl(absent) == 1);
    CHECK(desc::is_code(absent));
    for (u64 d : {0x00cf9a000000ffffull, 0x00cf92000000ffffull, 0x00cffa000000ffffull}) {
        const u64 in = desc::install(d);
        CHECK(desc::dpl(in) >= 1);
        CHECK((desc::access(in) & desc::kAccessed) != 0);
        CHECK(desc::base(in) == desc::base(d));
        CHECK(desc::limit_bytes(in) == desc::limit_bytes(d));
    }
}

TEST_CASE("descriptor: system descriptors never reach the real GDT") {
    CHECK(desc::install(0) == 0);
    CHECK(desc::install(make(0x1000, 0x67, 0x89, 0)) == 0);         // 32-bit TSS, available
    CHECK(desc::install(make(0x1000, 0x67, 0x8b, 0)) == 0);         // 32-bit TSS, busy
    CHECK(desc::install(make(0x1000, 0x2b, 0x81, 0)) == 0);         // 16-bit TSS
    CHECK(desc::install(make(0x2000, 0xfff, 0x82, 0)) == 0);        // LDT
    CHECK(desc::install(make(0x2000, 0xfff, 0xe2, 0)) == 0);        // LDT at DPL 3
    CHECK(desc::install(0x0000ec0000100000ull | 0x1234) == 0);      // call gate, DPL 3
    CHECK(desc::install(0x00008e0000081234ull) == 0);               // interrupt gate
    CHECK(desc::install(0x00008f0000081234ull) == 0);               // trap gate
    CHECK(desc::install(0x0000850000200000ull) == 0);               // task gate
    CHECK(desc::install(make(0xffffffff, 0xfffff, 0x0c, kG)) == 0); // call gate, not present
}

TEST_CASE("descriptor: base and limit with byte and page granularity") {
    const u64 d = make(0x12345678, 0x9abcd, 0x92, kDb);
    CHECK(d == 0x124992345678abcdull);
    CHECK(desc::base(d) == 0x12345678);
    CHECK(desc::limit_bytes(d) == 0x9abcd); // byte granularity: the raw 20 bits
    const u64 g = make(0x12345678, 0x9abcd, 0x92, kG | kDb);
    CHECK(desc::limit_bytes(g) == 0x9abcdfff); // pages: limit * 4096 + 4095
    CHECK(desc::base(g) == 0x12345678);
    CHECK(desc::limit_bytes(0x00cf9a000000ffffull) == 0xffffffffu);
    CHECK(desc::base(0x00cf9a000000ffffull) == 0);
    CHECK(desc::limit_bytes(make(0, 0, 0x92, 0)) == 0);
    CHECK(desc::limit_bytes(make(0, 0, 0x92, kG)) == 0xfff);
    CHECK(desc::base(make(0xff000000, 0, 0x92, 0)) == 0xff000000u);
    CHECK(desc::base(make(0x00ffffff, 0, 0x92, 0)) == 0x00ffffffu);
    CHECK(desc::limit_bytes(make(0, 0xf0000, 0x92, 0)) == 0xf0000u);
    CHECK(desc::limit_bytes(make(0, 0x0ffff, 0x92, 0)) == 0x0ffffu);
}

TEST_CASE("descriptor: type predicates") {
    const u64 code = 0x00cf9a000000ffffull, data = 0x00cf92000000ffffull;
    CHECK(desc::is_code(code));
    CHECK_FALSE(desc::is_data(code));
    CHECK(desc::is_data(data));
    CHECK_FALSE(desc::is_code(data));
    CHECK(desc::present(code));
    CHECK(desc::dpl(0x00cff2000000ffffull) == 3);
    const u64 tss = make(0x5000, 0x67, 0x89, 0);
    CHECK_FALSE(desc::is_code(tss));
    CHECK_FALSE(desc::is_data(tss));
    CHECK(desc::system_type(tss) == 9);
    // is_tss: 16/32-bit, available/busy, never a segment with the same low type bits.
    CHECK(desc::is_tss(make(0x5000, 0x67, 0x89, 0)));
    CHECK(desc::is_tss(make(0x5000, 0x67, 0x8b, 0)));
    CHECK(desc::is_tss(make(0x5000, 0x2b, 0x81, 0)));
    CHECK(desc::is_tss(make(0x5000, 0x2b, 0x83, 0)));
    CHECK(desc::is_tss(make(0x5000, 0x67, 0x09, 0)));       // not present: still a TSS (ltr -> #NP)
    CHECK_FALSE(desc::is_tss(make(0x5000, 0x67, 0x99, 0))); // code, execute-only, accessed
    CHECK_FALSE(desc::is_tss(make(0x5000, 0x67, 0x93, 0))); // data, type 3
    CHECK_FALSE(desc::is_tss(make(0x5000, 0x67, 0x82, 0))); // LDT
    CHECK_FALSE(desc::is_tss(0x00008e0000081234ull));       // interrupt gate
    CHECK_FALSE(desc::is_tss(0x0000850000200000ull));       // task gate
    CHECK_FALSE(desc::is_tss(0));
    // is_ldt: system type 2 only, present or not.
    CHECK(desc::is_ldt(make(0x21000, 0x1f, 0x82, 0)));
    CHECK(desc::is_ldt(make(0x21000, 0x1f, 0x02, 0)));
    CHECK(desc::is_ldt(make(0x21000, 0x1f, 0xe2, 0)));       // DPL 3
    CHECK_FALSE(desc::is_ldt(make(0x21000, 0x1f, 0x92, 0))); // data, type 2
    CHECK_FALSE(desc::is_ldt(make(0x5000, 0x67, 0x89, 0)));  // TSS
    CHECK_FALSE(desc::is_ldt(0x0000ec0001000000ull));        // call gate
    CHECK_FALSE(desc::is_ldt(0));
}
