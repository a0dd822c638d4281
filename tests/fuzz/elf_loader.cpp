// Fuzzes the ELF loader (common/elf_loader.cpp): ELF32/ELF64 images loaded into a 2-chunk LPAR
// whose neighbour's memory follows it. Input: a byte choosing the expected machine, whether to
// load position-independent images at a fuzzed base, whether to read the image from the LPAR's
// own memory (staged at a fuzzed address, as TLPAR_LOAD_STAGED does) and whether to keep a fuzzed
// range (a staged initrd); then 8 bytes of that base, the staging address and the kept range
// when chosen, then the image. A load that succeeds must report an entry and a range inside the
// LPAR; no load may touch the neighbour's memory, the staged image or the kept range.
#include "common/elf_loader.hpp"
#include "tests/fuzz/fake_lpar.hpp"

using namespace tessera;

namespace {
constexpr u64 kLparBytes = 2 * kChunkSize;
constexpr u64 kBases[] = {0,       kChunkSize,     kLparBytes,  kLparBytes - 4096,
                          0x10000, ~u64{0} - 4095, u64{1} << 63};
constexpr u64 kStages[] = {0,          0x10000,        kChunkSize - 0x800, kLparBytes - 0x10000,
                           kLparBytes, ~u64{0} - 0xfff};
constexpr u64 kKeepMax = 64 * KiB; // kept ranges are compared byte for byte: keep them short

std::vector<u8> snapshot(const LogicalMap& m, LogicalRange r) {
    std::vector<u8> v(r.size);
    if (!m.copy_out(v.data(), r.at, r.size)) v.clear();
    return v;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static fuzz::FakeLpar m(1, 3, 2);
    fuzz::Input in(data, size);
    const u8 how = in.byte();
    const u16 machine = (how & 1) ? 21 /* EM_PPC64 */ : 3 /* EM_386 */;
    const u64 base = (how & 2) ? in.edge(kBases) : 0;
    const bool staged = (how & 4) != 0;
    const u64 stage_at = staged ? in.edge(kStages) : 0;
    LogicalRange keep{};
    if (how & 8) {
        keep.at = LogicalAddr(in.edge(kStages));
        keep.size = in.u32v() % (kKeepMax + 1);
    }
    usize len;
    const u8* image = in.rest(len);
    std::vector<u8> exact(image, image + len); // exactly `len` bytes: overreads are seen

    LogicalMap& mem = m.lpar->memory;
    ElfSource src = ElfSource::bytes(exact.data(), exact.size());
    if (staged) {
        // Staged where it fits; elsewhere the loader must refuse the range without reading it.
        mem.copy_in(LogicalAddr(stage_at), exact.data(), exact.size());
        src = ElfSource::staged(mem, LogicalAddr(stage_at), exact.size());
    }
    const std::vector<u8> kept = snapshot(mem, keep);
    const std::vector<u8> stage = snapshot(mem, src.staged_range());

    ElfLoaded out;
    char why[128];
    std::memset(why, 0x7f, sizeof why);
    const bool ok = load_elf(mem, src, machine, out, why, sizeof why, LogicalAddr(base), keep);
    FUZZ_CHECK(m.neighbour_intact());
    FUZZ_CHECK(snapshot(mem, keep) == kept);
    FUZZ_CHECK(snapshot(mem, src.staged_range()) == stage);
    if (!ok) {
        FUZZ_CHECK(std::memchr(why, 0, sizeof why) != nullptr && why[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(out.machine == machine);
    FUZZ_CHECK(out.low.value() <= out.high.value() && out.high.value() <= kLparBytes);
    FUZZ_CHECK(out.entry.value() >= out.low.value() && out.entry.value() < out.high.value());
    return 0;
}
