// The ELF loader over fake real memory: good images land at their physical addresses (ET_EXEC)
// or at the chosen base (ET_DYN), bad ones are refused with a message before anything is written.
#include "common/chunks.hpp"
#include "common/elf_loader.hpp"
#include "tests/unit/elf_headers.hpp"

#include <cstring>
#include <doctest/doctest.h>
#include <elf.h>
#include <memory>
#include <string>
#include <vector>

using namespace tessera;

namespace {

struct Memory {
    static constexpr u64 kBase = 1 * GiB;
    std::vector<u8> ram = std::vector<u8>(3 * kChunkSize, 0xEE);
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    LogicalMap map;
    Memory() {
        RealRange r{RealAddr(kBase), ram.size()};
        REQUIRE(pool->init(
            &r, 1, nullptr, 0,
            RealWindow{reinterpret_cast<uptr>(ram.data()), RealAddr(kBase), ram.size()}));
        REQUIRE(map.assign(*pool, 1, 2 * kChunkSize));
        REQUIRE(map.fill(LogicalAddr(0), 0xEE, map.size())); // to see what the loader wrote
    }
    u8 at(u64 logical) {
        u8 b = 0;
        REQUIRE(map.copy_out(&b, LogicalAddr(logical), 1));
        return b;
    }
};

// A small ELF64 ppc64 executable: segment 0 = text at paddr 0x10000 (vaddr 0xc000...10000),
// segment 1 = data + bss crossing the first chunk boundary.
std::vector<u8> elf64(u64 entry = 0xc000000000010010ull) {
    std::vector<u8> f(0x3000, 0);
    const Elf64_Ehdr h = test::header64(ET_EXEC, entry, 3);
    std::memcpy(f.data(), &h, sizeof(h));
    Elf64_Phdr p[3]{};
    p[0] = {PT_LOAD, 5, 0x1000, 0xc000000000010000ull, 0x10000, 0x100, 0x100, 0x10000};
    p[1] = {PT_NOTE, 4, 0x1100, 0, 0, 0x10, 0x10, 4};
    p[2] = {PT_LOAD, 6, 0x2000, 0xc000000000fff000ull, kChunkSize - 0x1000, 0x800, 0x3000, 0x10000};
    std::memcpy(f.data() + sizeof(h), p, sizeof(p));
    std::memset(f.data() + 0x1000, 0x11, 0x100);
    std::memset(f.data() + 0x2000, 0x22, 0x800);
    return f;
}

// A small static PIE as `ld -pie` lays one out (linked at `link`, 64K-aligned segments): text at
// link + 0 (file 0x1000, 0x100 bytes), a PT_DYNAMIC, data at link + 0x20000 (0x80 bytes, then
// 0x1000 of bss). Entry at link + 0x1010.
constexpr usize kPiePhdrs = 3;
std::vector<u8> pie(u64 link = 0) {
    std::vector<u8> f(0x3000, 0);
    const Elf64_Ehdr h = test::header64(ET_DYN, link + 0x1010, kPiePhdrs);
    std::memcpy(f.data(), &h, sizeof(h));
    Elf64_Phdr p[kPiePhdrs]{};
    p[0] = {PT_LOAD, 5, 0x1000, link + 0x1000, link + 0x1000, 0x100, 0x100, 0x10000};
    p[1] = {PT_DYNAMIC, 6, 0x2000, link + 0x22000, link + 0x22000, 0x10, 0x10, 8};
    p[2] = {PT_LOAD, 6, 0x2000, link + 0x22000, link + 0x22000, 0x80, 0x1080, 0x10000};
    std::memcpy(f.data() + sizeof(h), p, sizeof(p));
    std::memset(f.data() + 0x1000, 0x11, 0x100);
    std::memset(f.data() + 0x2000, 0x22, 0x80);
    return f;
}

// Reads, changes and writes back program header i of a 64-bit image.
template <class Fn>
std::vector<u8> with_phdr(std::vector<u8> f, usize i, Fn fn) {
    Elf64_Phdr ph;
    std::memcpy(&ph, f.data() + sizeof(Elf64_Ehdr) + i * sizeof(ph), sizeof(ph));
    fn(ph);
    std::memcpy(f.data() + sizeof(Elf64_Ehdr) + i * sizeof(ph), &ph, sizeof(ph));
    return f;
}
template <class Fn>
std::vector<u8> with_ehdr(std::vector<u8> f, Fn fn) {
    Elf64_Ehdr h;
    std::memcpy(&h, f.data(), sizeof(h));
    fn(h);
    std::memcpy(f.data(), &h, sizeof(h));
    return f;
}

std::string load(Memory& m, const std::vector<u8>& f, ElfLoaded& out, u16 machine = EM_PPC64,
                 u64 dyn_base = 0) {
    char why[128] = "";
    bool ok =
        load_elf(m.map, f.data(), f.size(), machine, out, why, sizeof(why), LogicalAddr(dyn_base));
    return ok ? "ok" : why;
}

} // namespace

TEST_CASE("elf: segments land at their physical addresses, bss is zeroed across chunks") {
    Memory m;
    ElfLoaded out;
    REQUIRE(load(m, elf64(), out) == "ok");
    CHECK(out.is64);
    CHECK(out.machine == EM_PPC64);
    CHECK(out.entry == LogicalAddr(0x10010));
    CHECK(out.low == LogicalAddr(0x10000));
    CHECK(out.high == LogicalAddr(kChunkSize - 0x1000 + 0x3000));
    CHECK(m.at(0x10000) == 0x11);
    CHECK(m.at(0x100ff) == 0x11);
    CHECK(m.at(0x10100) == 0xEE); // beyond the segment: untouched
    CHECK(m.at(kChunkSize - 0x1000) == 0x22);
    CHECK(m.at(kChunkSize - 0x1000 + 0x7ff) == 0x22);
    CHECK(m.at(kChunkSize - 0x1000 + 0x800) == 0); // bss, in the first chunk
    CHECK(m.at(kChunkSize + 0x1fff) == 0);         // bss, in the second chunk
}

TEST_CASE("elf: an entry point given as a physical address is taken as it is (i386 vmlinux)") {
    Memory m;
    ElfLoaded out;
    REQUIRE(load(m, elf64(0x10020), out) == "ok");
    CHECK(out.entry == LogicalAddr(0x10020));
    CHECK(load(m, elf64(0x10000 + 0x10000), out) == "entry point 0x20000 is in no loaded segment");
}

TEST_CASE("elf: a position-independent image goes at the chosen base, entry moved with it") {
    Memory m;
    ElfLoaded out;
    REQUIRE(load(m, pie(), out, EM_PPC64, 0x100000) == "ok");
    CHECK(out.position_independent);
    CHECK(out.bias == 0x100000);
    CHECK(out.entry == LogicalAddr(0x101010));
    CHECK(out.low == LogicalAddr(0x101000));
    CHECK(out.high == LogicalAddr(0x122000 + 0x1080));
    CHECK(m.at(0x1000) == 0xEE); // not at its link addresses
    CHECK(m.at(0x101000) == 0x11);
    CHECK(m.at(0x1010ff) == 0x11);
    CHECK(m.at(0x101100) == 0xEE);
    CHECK(m.at(0x122000) == 0x22);
    CHECK(m.at(0x12207f) == 0x22);
    CHECK(m.at(0x122080) == 0);    // bss
    CHECK(m.at(0x12307f) == 0);    // its last byte
    CHECK(m.at(0x123080) == 0xEE); // past it
}

TEST_CASE("elf: a position-independent image linked high moves down (QEMU's spapr: base 0)") {
    Memory m;
    ElfLoaded out;
    REQUIRE(load(m, pie(0x10000000), out) == "ok");
    CHECK(out.bias == u64{0} - 0x10000000);
    CHECK(out.entry == LogicalAddr(0x1010));
    CHECK(out.low == LogicalAddr(0x1000));
    CHECK(m.at(0x1000) == 0x11);
    CHECK(m.at(0x22000) == 0x22);
    // An executable is never moved: the same image as ET_EXEC wants its link addresses.
    auto exec = with_ehdr(pie(0x10000000), [](Elf64_Ehdr& h) { h.e_type = ET_EXEC; });
    CHECK(load(m, exec, out) == "segment 0 does not fit in the LPAR's 32 MiB");
}

TEST_CASE("elf: bad position-independent images are refused and nothing is written") {
    Memory m;
    ElfLoaded out;
    const auto f = pie();
    // a dynamic linker nobody can provide
    auto bad = with_phdr(f, 1, [](Elf64_Phdr& p) { p.p_type = PT_INTERP; });
    CHECK(load(m, bad, out) == "segment 1 asks for an interpreter (link it static)");
    bad = with_phdr(f, 0, [](Elf64_Phdr& p) { p.p_align = 0x3000; });
    CHECK(load(m, bad, out) == "segment 0: alignment 0x3000 is not a power of two");
    bad = with_phdr(f, 2, [](Elf64_Phdr& p) { p.p_vaddr += 0x100; });
    CHECK(load(m, bad, out) == "segment 2: address and file offset disagree modulo the alignment");
    CHECK(load(m, f, out, EM_PPC64, 0x1000) ==
          "load base 0x1000 is not aligned to the segments' 0x10000");
    bad = with_phdr(f, 2, [](Elf64_Phdr& p) {
        p.p_vaddr = ~u64{0} - 0xffff + 0x2000;
        p.p_memsz = 0x20000;
    });
    CHECK(load(m, bad, out) == "segment 2 wraps around the address space");
    // the chosen base leaves no room for the image
    CHECK(load(m, f, out, EM_PPC64, 2 * kChunkSize - 0x10000) ==
          "segment 2 does not fit in the LPAR's 32 MiB");
    CHECK(load(m, f, out, EM_PPC64, ~u64{0} & ~u64{0xffff}) ==
          "segment 0 does not fit in the LPAR's 32 MiB");
    // an entry outside the image (a physical-address entry means nothing for a PIE)
    bad = with_ehdr(f, [](Elf64_Ehdr& h) { h.e_entry = 0x10000; });
    CHECK(load(m, bad, out) == "entry point 0x10000 is in no loaded segment");
    // neither an executable nor position-independent
    for (u16 type : {u16{ET_NONE}, u16{ET_REL}, u16{ET_CORE}, u16{0xffff}}) {
        bad = with_ehdr(f, [type](Elf64_Ehdr& h) { h.e_type = type; });
        CHECK(load(m, bad, out) ==
              "ELF type " + std::to_string(type) +
                  " is neither an executable (2) nor position-independent (3)");
    }
    bad = with_ehdr(f, [](Elf64_Ehdr& h) { h.e_version = 2; });
    CHECK(load(m, bad, out) == "ELF version 2 (want 1)");
    bad = with_ehdr(f, [](Elf64_Ehdr& h) { h.e_ehsize = 52; });
    CHECK(load(m, bad, out) == "ELF header size 52 (want 64)");
    bad = f;
    bad[EI_VERSION] = 0;
    CHECK(load(m, bad, out) == "ELF identification version 0 (want 1)");
    bad = with_ehdr(f, [](Elf64_Ehdr& h) { h.e_phentsize = sizeof(Elf32_Phdr); });
    CHECK(load(m, bad, out) == "program header size 32");
    // every byte of a truncated image is refused cleanly
    for (usize n = 0; n < 0x2000 + 0x80; n += 7)
        CHECK(load(m, std::vector<u8>(f.begin(), f.begin() + n), out) != "ok");
    for (u64 a : {u64{0}, u64{0x1000}, u64{0x22000}, u64{0x100000}, u64{0x122000}})
        CHECK(m.at(a) == 0xEE); // nothing was written by any of these
}

TEST_CASE("elf: bad images are refused with a message and nothing is written") {
    Memory m;
    ElfLoaded out;
    auto f = elf64();
    CHECK(load(m, std::vector<u8>(f.begin(), f.begin() + 10), out) == "not an ELF file");
    CHECK(load(m, std::vector<u8>(f.begin(), f.begin() + 20), out) == "truncated ELF header");
    auto bad = f;
    bad[0] = 'X';
    CHECK(load(m, bad, out) == "not an ELF file");
    bad = f;
    bad[EI_DATA] = ELFDATA2MSB;
    CHECK(load(m, bad, out) == "not a little-endian ELF file");
    CHECK(load(m, f, out, EM_386) == "ELF machine 21, this target runs machine 3");
    CHECK(load(m, elf64(0xc000000000500000ull), out) ==
          "entry point 0xc000000000500000 is in no loaded segment");
    // a segment beyond the LPAR's 32 MiB
    bad = f;
    Elf64_Phdr ph;
    std::memcpy(&ph, bad.data() + sizeof(Elf64_Ehdr), sizeof(ph));
    ph.p_paddr = 2 * kChunkSize - 0x80;
    std::memcpy(bad.data() + sizeof(Elf64_Ehdr), &ph, sizeof(ph));
    CHECK(load(m, bad, out) == "segment 0 does not fit in the LPAR's 32 MiB");
    // data past the end of the file, and overflowing offsets
    bad = f;
    ph.p_paddr = 0x10000;
    ph.p_offset = ~u64{0} - 4;
    std::memcpy(bad.data() + sizeof(Elf64_Ehdr), &ph, sizeof(ph));
    CHECK(load(m, bad, out) == "segment 0: data past the end of the file");
    bad = f;
    Elf64_Ehdr h;
    std::memcpy(&h, bad.data(), sizeof(h));
    h.e_phnum = 5000;
    std::memcpy(bad.data(), &h, sizeof(h));
    CHECK(load(m, bad, out) == "5000 program headers");
    h.e_phnum = 3;
    h.e_phoff = ~u64{0} - 8;
    std::memcpy(bad.data(), &h, sizeof(h));
    CHECK(load(m, bad, out) == "program headers past the end of the file");
    CHECK(m.at(0x10000) == 0xEE); // nothing was written by any of these
}

namespace {

// The image staged in the LPAR's own memory at `at` (as TLPAR_COPY_IN leaves it), loaded from
// there; `keep` is a staged initrd the segments must spare.
std::string load_staged(Memory& m, const std::vector<u8>& f, u64 at, ElfLoaded& out,
                        LogicalRange keep = {}, u64 size = ~u64{0}) {
    REQUIRE(m.map.copy_in(LogicalAddr(at), f.data(), f.size()));
    char why[128] = "";
    const ElfSource src =
        ElfSource::staged(m.map, LogicalAddr(at), size == ~u64{0} ? f.size() : size);
    const bool ok = load_elf(m.map, src, EM_PPC64, out, why, sizeof why, LogicalAddr(0), keep);
    return ok ? "ok" : why;
}

} // namespace

TEST_CASE("elf: an image staged in the LPAR's memory loads as from bytes, the staging kept") {
    Memory m;
    ElfLoaded out;
    const auto f = elf64();
    const u64 at = 2 * kChunkSize - 0x10000; // near the top, as lparctl stages it
    REQUIRE(load_staged(m, f, at, out) == "ok");
    CHECK(out.entry == LogicalAddr(0x10010));
    CHECK(out.high == LogicalAddr(kChunkSize - 0x1000 + 0x3000));
    CHECK(m.at(0x10000) == 0x11);
    CHECK(m.at(0x100ff) == 0x11);
    CHECK(m.at(0x10100) == 0xEE);
    CHECK(m.at(kChunkSize - 0x1000) == 0x22); // the data segment crosses the chunk boundary
    CHECK(m.at(kChunkSize + 0x1fff) == 0);    // bss
    std::vector<u8> staged(f.size());
    REQUIRE(m.map.copy_out(staged.data(), LogicalAddr(at), staged.size()));
    CHECK(staged == f); // nothing written over the staging

    // Staged across a chunk boundary (the pieces are not contiguous in real memory), PIE too.
    Memory m2;
    REQUIRE(load_staged(m2, pie(), kChunkSize - 0x1800, out) == "ok");
    CHECK(out.entry == LogicalAddr(0x1010));
    CHECK(m2.at(0x1000) == 0x11);
    CHECK(m2.at(0x22000) == 0x22);
    CHECK(m2.at(0x23000) == 0);
}

TEST_CASE("elf: a staged image with truncated headers is refused") {
    Memory m;
    ElfLoaded out;
    const auto f = elf64();
    const u64 at = 0x1000000 + 0x100000;
    CHECK(load_staged(m, f, at, out, {}, 10) == "not an ELF file");
    CHECK(load_staged(m, f, at, out, {}, 20) == "truncated ELF header");
    CHECK(load_staged(m, f, at, out, {}, sizeof(Elf64_Ehdr) + 10) ==
          "program headers past the end of the file");
    CHECK(load_staged(m, f, at, out, {}, 0x1080) == "segment 0: data past the end of the file");
    CHECK(load_staged(m, f, at, out, {}, 0x2400) == "segment 2: data past the end of the file");
    CHECK(load_staged(m, f, at, out, {}, 0) == "not an ELF file");
    for (usize n = 0; n < 0x2800; n += 13) CHECK(load_staged(m, f, at, out, {}, n) != "ok");
    CHECK(m.at(0x10000) == 0xEE); // nothing was written by any of these
    CHECK(m.at(kChunkSize - 0x1000) == 0xEE);
}

TEST_CASE("elf: no segment may land on the staged kernel or the staged initrd") {
    Memory m;
    ElfLoaded out;
    const auto f = elf64();
    // Staged where segment 0 goes (0x10000..0x10100), and where segment 2's bss goes.
    CHECK(load_staged(m, f, 0xf000, out) ==
          "segment 0 would overwrite the staged kernel at 0xf000");
    Memory m2;
    CHECK(load_staged(m2, f, kChunkSize + 0x1000, out) ==
          "segment 2 would overwrite the staged kernel at 0x1001000");
    CHECK(m2.at(0x10000) == 0xEE); // refused before anything was written
    // The initrd staged where a segment (its bss included) goes.
    Memory m3;
    const u64 at = 0x1800000;
    CHECK(load_staged(m3, f, at, out, {LogicalAddr(0x10080), 0x10}) ==
          "segment 0 would overwrite the staged initrd at 0x10080");
    CHECK(load_staged(m3, f, at, out, {LogicalAddr(kChunkSize + 0x1fff), 0x1000}) ==
          "segment 2 would overwrite the staged initrd at 0x1001fff");
    CHECK(m3.at(0x10000) == 0xEE);
    // Right next to the segments is fine.
    CHECK(load_staged(m3, f, at, out, {LogicalAddr(kChunkSize + 0x2000), 0x1000}) == "ok");
    // A position-independent image moved onto its own staging.
    Memory m4;
    char why[128] = "";
    const auto p = pie();
    REQUIRE(m4.map.copy_in(LogicalAddr(0x121000), p.data(), p.size()));
    CHECK_FALSE(load_elf(m4.map, ElfSource::staged(m4.map, LogicalAddr(0x121000), p.size()),
                         EM_PPC64, out, why, sizeof why, LogicalAddr(0x100000)));
    CHECK(std::string(why) == "segment 2 would overwrite the staged kernel at 0x121000");
}

TEST_CASE("elf: staging outside the LPAR, or in another LPAR, is refused") {
    Memory m;
    ElfLoaded out;
    const auto f = elf64();
    char why[128] = "";
    const u64 top = 2 * kChunkSize;
    CHECK_FALSE(load_elf(m.map, ElfSource::staged(m.map, LogicalAddr(top - 0x1000), 0x3000),
                         EM_PPC64, out, why, sizeof why));
    CHECK(std::string(why) == "the staged kernel at 0x1fff000 (12288 bytes) is outside the LPAR");
    CHECK_FALSE(load_elf(m.map, ElfSource::staged(m.map, LogicalAddr(~u64{0} - 4), 0x3000),
                         EM_PPC64, out, why, sizeof why));
    CHECK(std::string(why).find("is outside the LPAR") != std::string::npos);
    REQUIRE(m.map.copy_in(LogicalAddr(0x1800000), f.data(), f.size()));
    const ElfSource good = ElfSource::staged(m.map, LogicalAddr(0x1800000), f.size());
    CHECK_FALSE(load_elf(m.map, good, EM_PPC64, out, why, sizeof why, LogicalAddr(0),
                         LogicalRange{LogicalAddr(top - 8), 16}));
    CHECK(std::string(why) == "the staged initrd at 0x1fffff8 (16 bytes) is outside the LPAR");
    Memory other;
    CHECK_FALSE(load_elf(other.map, good, EM_PPC64, out, why, sizeof why));
    CHECK(std::string(why) == "a staged kernel loads only into the LPAR it is staged in");
    CHECK(m.at(0x10000) == 0xEE);
    CHECK(other.at(0x10000) == 0xEE);
}
