// Fuzzes the guest device-tree builder (common/guest_fdt.cpp) with descriptions made from fuzzed
// LPAR configurations: 16 bytes of knobs (buffer capacity, CPU count override, initrd and RTAS
// placement biased to the edges of the LPAR), then configuration text. Each LPAR of a config
// that parses is described as the loader would (its name, memory, CPUs, command line, vty);
// otherwise the text itself becomes the bootargs. The builder must never write outside an
// exactly-sized buffer, must refuse what check() refuses, and a tree it builds must be valid and
// say what the description said.
#include "common/guest_fdt.hpp"
#include "common/lpar_config.hpp"
#include "hcall/rtas.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>
#include <vector>

extern "C" {
#include <libfdt.h>
}

using namespace tessera;
using namespace tessera::guest_fdt;

namespace {

constexpr u32 kPftSize[] = {0, 24};
constexpr u32 kSegmentSizes[] = {28, 40, 0xffff'ffff, 0xffff'ffff};
const CellsProperty kCpuProps[] = {{"ibm,pft-size", kPftSize, 2},
                                   {"ibm,processor-segment-sizes", kSegmentSizes, 4},
                                   {"ibm,flag", nullptr, 0}};
const char* const kHypertas[] = {"hcall-pft", "hcall-bulk"};

IsaFacts isa() {
    IsaFacts f;
    f.cpu_name = "PowerPC,POWER8";
    f.timebase_hz = 512'000'000;
    f.clock_hz = 3'425'000'000;
    f.dcache = Cache{0x10000, 128, 128, 0};
    f.icache = Cache{0x8000, 128, 128, 32};
    f.cpu_props = kCpuProps;
    f.cpu_prop_count = 3;
    f.hypertas = kHypertas;
    f.hypertas_count = 2;
    return f;
}

u32 be32(const void* p) {
    return fdt32_to_cpu(*static_cast<const fdt32_t*>(p));
}

struct Knobs {
    u32 capacity; // bytes of buffer
    u32 cpus;     // 0: the config's
    u64 initrd_start, initrd_size, rtas_base;
};

void build_one(const Description& d, const Knobs& k) {
    // An exactly-sized, 8-byte aligned heap buffer: ASan sees any write past `capacity`.
    const usize cap = k.capacity & ~usize{7};
    u8* exact = static_cast<u8*>(::operator new (cap ? cap : 8, std::align_val_t{8}));
    const Result r = build(d, exact, cap);
    if (r.error != Error::None) {
        ::operator delete (exact, std::align_val_t{8});
        FUZZ_CHECK(r.error != Error::Libfdt); // libfdt failing is a bug of the builder
        return;
    }
    FUZZ_CHECK(fdt_check_header(exact) == 0);
    FUZZ_CHECK(fdt_totalsize(exact) == r.size && r.size <= cap);
    int len = 0;
    const int chosen = fdt_path_offset(exact, "/chosen");
    FUZZ_CHECK(chosen >= 0);
    const void* args = fdt_getprop(exact, chosen, "bootargs", &len);
    if (d.bootargs) {
        FUZZ_CHECK(args != nullptr && std::strcmp(static_cast<const char*>(args), d.bootargs) == 0);
    }
    const int mem = fdt_path_offset(exact, "/memory@0");
    FUZZ_CHECK(mem >= 0);
    const void* reg = fdt_getprop(exact, mem, "reg", &len);
    FUZZ_CHECK(reg != nullptr && len == 16);
    const u64 size =
        u64{be32(static_cast<const u8*>(reg) + 8)} << 32 | be32(static_cast<const u8*>(reg) + 12);
    FUZZ_CHECK(size == d.memory_size);
    const int cpus = fdt_path_offset(exact, "/cpus");
    FUZZ_CHECK(cpus >= 0);
    u32 count = 0;
    for (int n = fdt_first_subnode(exact, cpus); n >= 0; n = fdt_next_subnode(exact, n)) ++count;
    FUZZ_CHECK(count == d.cpu_count);
    // Every node and property is reachable and well-formed.
    for (int n = 0; n >= 0; n = fdt_next_node(exact, n, nullptr)) {
        for (int p = fdt_first_property_offset(exact, n); p >= 0;
             p = fdt_next_property_offset(exact, p)) {
            const char* name = nullptr;
            FUZZ_CHECK(fdt_getprop_by_offset(exact, p, &name, &len) != nullptr && name != nullptr);
        }
    }
    ::operator delete (exact, std::align_val_t{8});
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static const IsaFacts facts = isa();
    static Config config;
    fuzz::Input in(data, size);
    Knobs k;
    k.capacity = in.below(kMaxSize + 64);
    if (in.byte() & 1) k.capacity = kMaxSize; // mostly big enough
    k.cpus = in.byte() % 70;
    const u64 mem_edges[] = {0,       16 * MiB,          16 * MiB - 4 * KiB,
                             4 * GiB, 4 * GiB - 4 * KiB, ~u64{0} - 4095};
    k.initrd_start = in.edge(mem_edges);
    k.initrd_size = in.edge(mem_edges) & ((in.byte() & 1) ? ~u64{0} : 0xffff);
    k.rtas_base = in.edge(mem_edges);
    usize len;
    const u8* text = in.rest(len);
    const std::string s(reinterpret_cast<const char*>(text), len);

    Description d;
    d.isa = &facts;
    d.rtas_tokens = hcall::rtas::tokens();
    d.rtas_size = hcall::rtas::kRegionSize;
    d.initrd_start = LogicalAddr(k.initrd_start);
    d.initrd_size = k.initrd_size;
    InputError err;
    if (parse_config("fuzz.conf", s.data(), s.size(), config, err)) {
        for (const LparConfig& l : config) {
            d.partition_name = l.name;
            d.cpu_count = k.cpus ? k.cpus : l.cpus;
            d.memory_size = l.memory;
            d.bootargs = l.cmdline[0] ? l.cmdline : nullptr;
            d.vty_termno = l.vty;
            d.rtas_base = LogicalAddr(k.rtas_base % (l.memory + 1));
            build_one(d, k);
        }
        return 0;
    }
    d.partition_name = "fuzz";
    d.cpu_count = k.cpus;
    d.memory_size = 256 * MiB;
    d.bootargs = s.c_str(); // may hold NULs: the builder sees what is before the first
    d.rtas_base = LogicalAddr(k.rtas_base);
    build_one(d, k);
    return 0;
}
