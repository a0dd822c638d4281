// The ELF loader over fake real memory: good images land at their physical addresses (ET_EXEC)
// or at the chosen base (ET_DYN), bad ones are refused with a message before anything is written.
#include "common/chunks.hpp"
#include "common/elf_loader.hpp"

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
// A little-endian ppc64 ELF header of `type` with `phnum` program headers right after it.
Elf64_Ehdr header64(u16 type, u64 entry, u16 phnum) {
    Elf64_Ehdr h{};
    std::memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    h.e_type = type;
    h.e_machine = EM_PPC64;
    h.e_version = EV_CURRENT;
    h.e_ehsize = sizeof(h);
    h.e_entry = entry;
    h.e_phoff = sizeof(h);
    h.e_phentsize = sizeof(Elf64_Phdr);
    h.e_phnum = phnum;
    return h;
}

std::vector<u8> elf64(u64 entry = 0xc000000000010010ull) {
    std::vector<u8> f(0x3000, 0);
    const Elf64_Ehdr h = header64(ET_EXEC, entry, 3);
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
    const Elf64_Ehdr h = header64(ET_DYN, link + 0x1010, kPiePhdrs);
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
