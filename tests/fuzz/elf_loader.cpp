// Fuzzes the ELF loader (common/elf_loader.cpp): ELF32/ELF64 images loaded into a 2-chunk LPAR
// whose neighbour's memory follows it. Input: a byte choosing the expected machine and whether
// to load position-independent images at a fuzzed base, 8 bytes of that base, then the image.
// A load that succeeds must report an entry and a range inside the LPAR; no load may touch the
// neighbour's memory.
#include "common/elf_loader.hpp"
#include "tests/fuzz/fake_lpar.hpp"

using namespace tessera;

namespace {
constexpr u64 kLparBytes = 2 * kChunkSize;
constexpr u64 kBases[] = {0,       kChunkSize,     kLparBytes,  kLparBytes - 4096,
                          0x10000, ~u64{0} - 4095, u64{1} << 63};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static fuzz::FakeLpar m(1, 3, 2);
    fuzz::Input in(data, size);
    const u8 how = in.byte();
    const u16 machine = (how & 1) ? 21 /* EM_PPC64 */ : 3 /* EM_386 */;
    const u64 base = (how & 2) ? in.edge(kBases) : 0;
    usize len;
    const u8* image = in.rest(len);
    std::vector<u8> exact(image, image + len); // exactly `len` bytes: overreads are seen

    ElfLoaded out;
    char why[128];
    std::memset(why, 0x7f, sizeof why);
    const bool ok = load_elf(m.lpar->memory, exact.data(), exact.size(), machine, out, why,
                             sizeof why, LogicalAddr(base));
    FUZZ_CHECK(m.neighbour_intact());
    if (!ok) {
        FUZZ_CHECK(std::memchr(why, 0, sizeof why) != nullptr && why[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(out.machine == machine);
    FUZZ_CHECK(out.low.value() <= out.high.value() && out.high.value() <= kLparBytes);
    FUZZ_CHECK(out.entry.value() >= out.low.value() && out.entry.value() < out.high.value());
    return 0;
}
