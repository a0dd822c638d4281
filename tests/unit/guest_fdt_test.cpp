#include "common/guest_fdt.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "hcall/rtas.hpp"

extern "C" {
#include <libfdt.h>
}

using namespace tessera;
using namespace tessera::guest_fdt;

namespace {

// What the ppc64 ISA fills for POWER8 with a 16 MiB HTAB: the page sizes are exactly those its
// H_ENTER accepts (isa/ppc64/htab.hpp).
constexpr u32 kPftSize[] = {0, 24};
constexpr u32 kSlbSize[] = {32};
constexpr u32 kSegmentSizes[] = {28, 40, 0xffff'ffff, 0xffff'ffff};
constexpr u32 kPageSizes[] = {0x0c, 0x000, 1, 0x0c, 0x00,             // 4K
                              0x10, 0x110, 2, 0x10, 0x01, 0x18, 0x08, // 64K
                              0x18, 0x100, 1, 0x18, 0x00};            // 16M
constexpr u32 kVmx[] = {2};
const CellsProperty kCpuProps[] = {
    {"ibm,pft-size", kPftSize, 2},
    {"ibm,slb-size", kSlbSize, 1},
    {"ibm,processor-segment-sizes", kSegmentSizes, 4},
    {"ibm,segment-page-sizes", kPageSizes, sizeof kPageSizes / 4},
    {"ibm,vmx", kVmx, 1},
};
const char* const kHypertas[] = {"hcall-pft", "hcall-bulk"};

IsaFacts power8() {
    IsaFacts isa;
    isa.cpu_name = "PowerPC,POWER8";
    isa.timebase_hz = 512'000'000;
    isa.clock_hz = 3'425'000'000;
    isa.dcache = Cache{0x10000, 128, 128, 0};
    isa.icache = Cache{0x8000, 128, 128, 32};
    isa.cpu_props = kCpuProps;
    isa.cpu_prop_count = sizeof kCpuProps / sizeof kCpuProps[0];
    isa.hypertas = kHypertas;
    isa.hypertas_count = 2;
    return isa;
}

constexpr u64 kMemory = 256 * MiB;
constexpr u64 kRtasBase = kMemory - 4 * KiB;
constexpr u64 kInitrd = 64 * MiB;
constexpr u64 kInitrdSize = 3 * MiB + 5;

struct Fixture {
    IsaFacts isa = power8();
    Description d;
    std::vector<u64> storage = std::vector<u64>(kMaxSize / 8); // 8-byte aligned
    Result result;

    explicit Fixture(u32 cpus = 1) {
        d.partition_name = "linux1";
        d.cpu_count = cpus;
        d.memory_size = kMemory;
        d.bootargs = "console=hvc0 root=/dev/ram0";
        d.initrd_start = LogicalAddr(kInitrd);
        d.initrd_size = kInitrdSize;
        d.rtas_base = LogicalAddr(kRtasBase);
        d.rtas_size = 4 * KiB;
        d.rtas_tokens = hcall::rtas::tokens();
        d.isa = &isa;
    }
    void* buf() { return storage.data(); }
    Result build(usize capacity = kMaxSize) {
        return result = guest_fdt::build(d, buf(), capacity);
    }

    int node(const char* path) const { return fdt_path_offset(storage.data(), path); }
    bool has(const char* path, const char* prop) const {
        int n = node(path);
        return n >= 0 && fdt_getprop(storage.data(), n, prop, nullptr) != nullptr;
    }
    std::string bytes(const char* path, const char* prop) const {
        int n = node(path);
        REQUIRE_MESSAGE(n >= 0, path);
        int len = 0;
        auto* p = static_cast<const char*>(fdt_getprop(storage.data(), n, prop, &len));
        REQUIRE_MESSAGE(p != nullptr, path, " ", prop);
        return std::string(p, static_cast<usize>(len));
    }
    // A string property, without its terminator (which must be there).
    std::string str(const char* path, const char* prop) const {
        std::string s = bytes(path, prop);
        REQUIRE(!s.empty());
        CHECK(s.back() == '\0');
        s.pop_back();
        return s;
    }
    std::vector<u32> cells(const char* path, const char* prop) const {
        std::string s = bytes(path, prop);
        REQUIRE(s.size() % 4 == 0);
        std::vector<u32> v;
        for (usize i = 0; i < s.size(); i += 4) {
            fdt32_t be;
            std::memcpy(&be, s.data() + i, 4);
            v.push_back(fdt32_to_cpu(be));
        }
        return v;
    }
    u32 cell(const char* path, const char* prop) const {
        std::vector<u32> v = cells(path, prop);
        REQUIRE(v.size() == 1);
        return v[0];
    }
    u64 cell64(const char* path, const char* prop) const {
        std::vector<u32> v = cells(path, prop);
        REQUIRE(v.size() == 2);
        return u64{v[0]} << 32 | v[1];
    }
};

using Cells = std::vector<u32>;

void check_cpu(const Fixture& f, u32 cpu) {
    std::string path = "/cpus/PowerPC,POWER8@" + std::to_string(cpu); // < 10: same in hex
    const char* p = path.c_str();
    CAPTURE(path);
    CHECK(f.str(p, "device_type") == "cpu");
    CHECK(f.cell(p, "reg") == cpu);
    CHECK(f.cell(p, "ibm,ppc-interrupt-server#s") == cpu);
    CHECK(f.cell(p, "timebase-frequency") == 512'000'000);
    CHECK(f.cell(p, "clock-frequency") == 3'425'000'000u);
    CHECK(f.cells(p, "ibm,pft-size") == Cells{0, 24});
    CHECK(f.cell(p, "ibm,slb-size") == 32);
    CHECK(f.cells(p, "ibm,processor-segment-sizes") == Cells{28, 40, 0xffff'ffff, 0xffff'ffff});
    CHECK(f.cells(p, "ibm,segment-page-sizes") == Cells{0x0c, 0x000, 1, 0x0c, 0x00, 0x10, 0x110, 2,
                                                        0x10, 0x01, 0x18, 0x08, 0x18, 0x100, 1,
                                                        0x18, 0x00});
    CHECK(f.cell(p, "ibm,vmx") == 2);
    CHECK(f.cell(p, "d-cache-size") == 0x10000);
    CHECK(f.cell(p, "d-cache-line-size") == 128);
    CHECK(f.cell(p, "d-cache-block-size") == 128);
    CHECK_FALSE(f.has(p, "d-cache-sets"));
    CHECK(f.cell(p, "i-cache-size") == 0x8000);
    CHECK(f.cell(p, "i-cache-line-size") == 128);
    CHECK(f.cell(p, "i-cache-block-size") == 128);
    CHECK(f.cell(p, "i-cache-sets") == 32);
    CHECK(f.str(p, "status") == "okay");
}

void check_tree(Fixture& f, u32 cpus) {
    const void* fdt = f.storage.data();
    REQUIRE(f.result.error == Error::None);
    REQUIRE(fdt_check_header(fdt) == 0);
    CHECK(fdt_totalsize(fdt) == f.result.size);
    CHECK(f.result.size < kMaxSize);
    CHECK(fdt_boot_cpuid_phys(fdt) == 0);

    // reserve map: the RTAS region only
    REQUIRE(fdt_num_mem_rsv(fdt) == 1);
    uint64_t base = 0, size = 0;
    REQUIRE(fdt_get_mem_rsv(fdt, 0, &base, &size) == 0);
    CHECK(base == kRtasBase);
    CHECK(size == 4 * KiB);

    CHECK(f.str("/", "device_type") == "chrp");
    CHECK(f.str("/", "model") == "Tessera,pSeries-LPAR");
    CHECK(f.str("/", "compatible") == "tessera,pseries");
    CHECK(f.str("/", "ibm,partition-name") == "linux1");
    CHECK(f.cell("/", "#address-cells") == 2);
    CHECK(f.cell("/", "#size-cells") == 2);

    CHECK(f.str("/chosen", "bootargs") == "console=hvc0 root=/dev/ram0");
    CHECK(f.cell64("/chosen", "linux,initrd-start") == kInitrd);
    CHECK(f.cell64("/chosen", "linux,initrd-end") == kInitrd + kInitrdSize);
    CHECK(f.str("/chosen", "linux,stdout-path") == "/vdevice/vty@30000000");
    CHECK(f.str("/chosen", "stdout-path") == "/vdevice/vty@30000000");
    CHECK(f.node("/vdevice/vty@30000000") >= 0); // stdout-path resolves
    CHECK_FALSE(f.has("/chosen", "ibm,architecture-vec-5"));
    CHECK_FALSE(f.has("/rtas", "ibm,architecture-vec-5"));

    CHECK(f.cell("/cpus", "#address-cells") == 1);
    CHECK(f.cell("/cpus", "#size-cells") == 0);
    int count = 0, child = 0;
    fdt_for_each_subnode(child, fdt, f.node("/cpus"))++ count;
    CHECK(count == static_cast<int>(cpus));
    for (u32 cpu = 0; cpu < cpus; ++cpu) check_cpu(f, cpu);

    CHECK(f.str("/memory@0", "device_type") == "memory");
    CHECK(f.cells("/memory@0", "reg") == Cells{0, 0, 0, static_cast<u32>(kMemory)});

    CHECK(f.bytes("/rtas", "ibm,hypertas-functions") ==
          std::string("hcall-term\0hcall-interrupt\0hcall-tce\0hcall-multi-tce\0hcall-lLAN\0"
                      "hcall-vio\0hcall-crq\0hcall-rdma\0hcall-pft\0hcall-bulk\0",
                      116));
    CHECK(f.cell("/rtas", "linux,rtas-base") == kRtasBase);
    CHECK(f.cell("/rtas", "linux,rtas-entry") == kRtasBase);
    CHECK(f.cell("/rtas", "rtas-size") == 4 * KiB);
    CHECK(f.cell("/rtas", "rtas-error-log-max") == 2048);
    CHECK(f.cell("/rtas", "rtas-event-scan-rate") == 1);
    CHECK(f.bytes("/rtas", "ibm,extended-os-term").empty());
    const RtasTokens tokens = hcall::rtas::tokens();
    REQUIRE(tokens.count == 17);
    for (usize i = 0; i < tokens.count; ++i) {
        CAPTURE(tokens.entries[i].name);
        CHECK(f.cell("/rtas", tokens.entries[i].name) == tokens.entries[i].token);
    }
    CHECK(f.cell("/rtas", "ibm,set-xive") == hcall::rtas::kSetXive);
    CHECK(f.cell("/rtas", "ibm,os-term") == hcall::rtas::kOsTerm);

    const char* ic = "/interrupt-controller";
    CHECK(f.str(ic, "device_type") == "PowerPC-External-Interrupt-Presentation");
    CHECK(f.str(ic, "compatible") == "IBM,ppc-xicp");
    CHECK(f.bytes(ic, "interrupt-controller").empty());
    CHECK(f.cell(ic, "#address-cells") == 0);
    CHECK(f.cell(ic, "#interrupt-cells") == 2);
    CHECK(f.cells(ic, "ibm,interrupt-server-ranges") == Cells{0, cpus});
    // Linux finds the ICP by compatible, as icp_hv_init does (case-insensitively there).
    CHECK(fdt_node_offset_by_compatible(fdt, -1, "IBM,ppc-xicp") == f.node(ic));

    CHECK(f.str("/vdevice", "device_type") == "vdevice");
    CHECK(f.str("/vdevice", "compatible") == "IBM,vdevice");
    CHECK(f.cell("/vdevice", "#address-cells") == 1);
    CHECK(f.cell("/vdevice", "#size-cells") == 0);
    // Children's interrupts (l-lan) resolve to /vdevice, which the XICS domain accepts.
    CHECK(f.bytes("/vdevice", "interrupt-controller").empty());
    CHECK(f.cell("/vdevice", "#interrupt-cells") == 2);
    const char* vty = "/vdevice/vty@30000000";
    CHECK(f.str(vty, "device_type") == "serial");
    CHECK(f.str(vty, "compatible") == "hvterm1");
    CHECK(f.cell(vty, "reg") == 0x30000000);
    CHECK_FALSE(f.has(vty, "interrupts"));
}

} // namespace

TEST_CASE("guest fdt: one CPU, every property Linux's pseries boot reads") {
    Fixture f(1);
    REQUIRE(f.build().error == Error::None);
    check_tree(f, 1);
}

TEST_CASE("guest fdt: four CPUs, one node and one interrupt server each") {
    Fixture f(4);
    REQUIRE(f.build().error == Error::None);
    check_tree(f, 4);
    CHECK(f.node("/cpus/PowerPC,POWER8@4") < 0);
}

TEST_CASE("guest fdt: CPU unit addresses are hexadecimal") {
    Fixture f(17);
    REQUIRE(f.build().error == Error::None);
    CHECK(f.cell("/cpus/PowerPC,POWER8@10", "reg") == 16);
    CHECK(f.cell("/cpus/PowerPC,POWER8@10", "ibm,ppc-interrupt-server#s") == 16);
    CHECK(f.cells("/interrupt-controller", "ibm,interrupt-server-ranges") == Cells{0, 17});
}

TEST_CASE("guest fdt: optional properties are left out") {
    Fixture f;
    f.d.bootargs = nullptr;
    f.d.initrd_size = 0;
    f.d.partition_name = nullptr;
    f.isa.dcache = Cache{};
    f.isa.hypertas = nullptr;
    f.isa.hypertas_count = 0;
    f.isa.cpu_props = nullptr;
    f.isa.cpu_prop_count = 0;
    f.d.rtas_tokens = RtasTokens{};
    REQUIRE(f.build().error == Error::None);
    CHECK_FALSE(f.has("/chosen", "bootargs"));
    CHECK_FALSE(f.has("/chosen", "linux,initrd-start"));
    CHECK_FALSE(f.has("/chosen", "linux,initrd-end"));
    CHECK_FALSE(f.has("/", "ibm,partition-name"));
    CHECK_FALSE(f.has("/cpus/PowerPC,POWER8@0", "d-cache-size"));
    CHECK_FALSE(f.has("/cpus/PowerPC,POWER8@0", "ibm,pft-size"));
    CHECK(f.has("/cpus/PowerPC,POWER8@0", "i-cache-size"));
    CHECK(f.bytes("/rtas", "ibm,hypertas-functions") ==
          std::string("hcall-term\0hcall-interrupt\0hcall-tce\0hcall-multi-tce\0hcall-lLAN\0"
                      "hcall-vio\0hcall-crq\0hcall-rdma\0",
                      95));
    CHECK_FALSE(f.has("/rtas", "ibm,set-xive"));
    CHECK(f.has("/rtas", "linux,rtas-base"));
    CHECK(f.str("/chosen", "stdout-path") == "/vdevice/vty@30000000");
}

TEST_CASE("guest fdt: without an RTAS region (pc: RTAS by H_RTAS) /rtas keeps the tokens only") {
    Fixture f;
    f.d.rtas_size = 0;
    f.d.rtas_base = LogicalAddr(0);
    REQUIRE(f.build().error == Error::None);
    CHECK(fdt_num_mem_rsv(f.buf()) == 0);
    CHECK_FALSE(f.has("/rtas", "linux,rtas-base"));
    CHECK_FALSE(f.has("/rtas", "linux,rtas-entry"));
    CHECK_FALSE(f.has("/rtas", "rtas-size"));
    CHECK(f.cell("/rtas", "ibm,set-xive") == hcall::rtas::kSetXive);
    CHECK(f.has("/rtas", "ibm,hypertas-functions"));
    // With a region, it is the one reserve map entry.
    Fixture g;
    REQUIRE(g.build().error == Error::None);
    CHECK(fdt_num_mem_rsv(g.buf()) == 1);
}

TEST_CASE("guest fdt: another vty unit address moves stdout-path with it") {
    Fixture f;
    f.d.vty_termno = 0x71000000;
    REQUIRE(f.build().error == Error::None);
    CHECK(f.str("/chosen", "stdout-path") == "/vdevice/vty@71000000");
    CHECK(f.cell("/vdevice/vty@71000000", "reg") == 0x71000000);
}

TEST_CASE("guest fdt: only a control LPAR gets the lpar-control node") {
    Fixture f;
    REQUIRE(f.build().error == Error::None);
    CHECK(f.node("/tessera-lpar-control") < 0);
    f.d.control = true;
    REQUIRE(f.build().error == Error::None);
    CHECK(f.str("/tessera-lpar-control", "compatible") == "tessera,lpar-control");
    CHECK(f.cells("/tessera-lpar-control", "tessera,hcall-range") ==
          std::vector<u32>{0xF100, 0xF17C});
}

TEST_CASE("guest fdt: the largest description fits kMaxSize") {
    Fixture f(kMaxCpus);
    std::string args(kMaxBootargs - 1, 'x');
    f.d.bootargs = args.c_str();
    f.d.partition_name = "a-name-of-thirty-one-characters";
    f.d.control = true;
    REQUIRE(f.build().error == Error::None);
    CHECK(f.result.size <= kMaxSize);
    CHECK(f.str("/chosen", "bootargs") == args);
    CHECK(f.cell("/cpus/PowerPC,POWER8@3f", "reg") == 63);
}

TEST_CASE("guest fdt: a buffer of exactly the tree's size is enough, any smaller one is not") {
    Fixture f(4);
    REQUIRE(f.build().error == Error::None);
    const usize need = f.result.size;
    std::vector<u8> reference(static_cast<const u8*>(f.buf()),
                              static_cast<const u8*>(f.buf()) + need);

    for (usize cap : {usize{0}, usize{1}, usize{4}, usize{39}, usize{40}, usize{100}, need / 2,
                      need - 8, need - 1}) {
        CAPTURE(cap);
        // Exactly `cap` bytes of heap (8-byte aligned): ASan catches any write past them.
        std::vector<u64> small((cap + 7) / 8 + (cap == 0 ? 1 : 0));
        Result r = build(f.d, small.data(), cap);
        CHECK(r.error == Error::NoSpace);
        CHECK(r.size == 0);
        if (cap >= 4) CHECK(fdt_check_header(small.data()) != 0);
    }
    std::vector<u64> exact((need + 7) / 8);
    Result r = build(f.d, exact.data(), need);
    REQUIRE(r.error == Error::None);
    CHECK(r.size == need);
    CHECK(std::memcmp(exact.data(), reference.data(), need) == 0);
}

TEST_CASE("guest fdt: the buffer must be 8-byte aligned and not null") {
    Fixture f;
    CHECK(build(f.d, nullptr, kMaxSize).error == Error::BadBuffer);
    auto* odd = reinterpret_cast<u8*>(f.buf()) + 4;
    CHECK(build(f.d, odd, kMaxSize - 8).error == Error::BadBuffer);
}

TEST_CASE("guest fdt: invalid descriptions are refused") {
    const u32 one[] = {1};
    const CellsProperty unnamed[] = {{nullptr, one, 1}};
    const CellsProperty no_cells[] = {{"ibm,slb-size", nullptr, 1}};
    const char* const null_entry[] = {"hcall-pft", nullptr};
    const RtasToken unnamed_token[] = {{nullptr, hcall::rtas::kEventScan}};
    const std::string long_name(48, 'P');
    const std::string long_args(kMaxBootargs, 'x');

    // Each case breaks one thing in an otherwise good description.
    struct Case {
        const char* what;
        std::function<void(Fixture&)> apply;
    };
    const Case cases[] = {
        {"no ISA facts", [](Fixture& f) { f.d.isa = nullptr; }},
        {"no CPU name", [](Fixture& f) { f.isa.cpu_name = nullptr; }},
        {"empty CPU name", [](Fixture& f) { f.isa.cpu_name = ""; }},
        {"CPU name too long", [&](Fixture& f) { f.isa.cpu_name = long_name.c_str(); }},
        {"timebase 0", [](Fixture& f) { f.isa.timebase_hz = 0; }},
        {"timebase over 32 bits", [](Fixture& f) { f.isa.timebase_hz = u64{1} << 32; }},
        {"clock 0", [](Fixture& f) { f.isa.clock_hz = 0; }},
        {"clock over 32 bits", [](Fixture& f) { f.isa.clock_hz = 5'000'000'000; }},
        {"properties without array", [](Fixture& f) { f.isa.cpu_props = nullptr; }},
        {"property without name",
         [&](Fixture& f) {
             f.isa.cpu_props = unnamed;
             f.isa.cpu_prop_count = 1;
         }},
        {"property without cells",
         [&](Fixture& f) {
             f.isa.cpu_props = no_cells;
             f.isa.cpu_prop_count = 1;
         }},
        {"hypertas without array", [](Fixture& f) { f.isa.hypertas = nullptr; }},
        {"null hypertas entry", [&](Fixture& f) { f.isa.hypertas = null_entry; }},
        {"no CPUs", [](Fixture& f) { f.d.cpu_count = 0; }},
        {"too many CPUs", [](Fixture& f) { f.d.cpu_count = kMaxCpus + 1; }},
        {"no memory", [](Fixture& f) { f.d.memory_size = 0; }},
        {"no model", [](Fixture& f) { f.d.model = nullptr; }},
        {"no compatible", [](Fixture& f) { f.d.compatible = nullptr; }},
        {"empty partition name", [](Fixture& f) { f.d.partition_name = ""; }},
        {"bootargs too long", [&](Fixture& f) { f.d.bootargs = long_args.c_str(); }},
        {"initrd beyond memory", [](Fixture& f) { f.d.initrd_start = LogicalAddr(kMemory - 4); }},
        {"initrd start beyond memory",
         [](Fixture& f) {
             f.d.initrd_start = LogicalAddr(kMemory + 1);
             f.d.initrd_size = 1;
         }},
        {"initrd size wraps", [](Fixture& f) { f.d.initrd_size = ~u64{0} - kInitrd + 2; }},
        {"RTAS beyond memory", [](Fixture& f) { f.d.rtas_base = LogicalAddr(kMemory - 1024); }},
        {"RTAS above 4 GiB",
         [](Fixture& f) {
             f.d.memory_size = 8 * GiB;
             f.d.rtas_base = LogicalAddr(4 * GiB);
         }},
        {"RTAS base wraps", [](Fixture& f) { f.d.rtas_base = LogicalAddr(~u64{0} - 100); }},
        {"tokens without array", [](Fixture& f) { f.d.rtas_tokens.entries = nullptr; }},
        {"token without name",
         [&](Fixture& f) {
             f.d.rtas_tokens = RtasTokens{unnamed_token, 1};
         }},
    };
    for (const Case& c : cases) {
        CAPTURE(c.what);
        Fixture f;
        c.apply(f);
        Result r = f.build();
        CHECK(r.error == Error::BadDescription);
        CHECK(fdt_check_header(f.buf()) != 0);
    }
    // The edges that are still fine.
    Fixture f;
    f.d.initrd_start = LogicalAddr(kMemory - 4);
    f.d.initrd_size = 4;
    f.d.rtas_base = LogicalAddr(kMemory - 4 * KiB);
    CHECK(f.build().error == Error::None);
    f.d.memory_size = 8 * GiB;
    f.d.rtas_base = LogicalAddr(4 * GiB - 4 * KiB);
    CHECK(f.build().error == Error::None);
    CHECK(f.cells("/memory@0", "reg") == Cells{0, 0, 2, 0});
}

TEST_CASE("guest fdt: error names") {
    CHECK(std::string(to_string(Error::None)) == "ok");
    CHECK(std::string(to_string(Error::NoSpace)) == "FDT buffer too small");
    CHECK(std::string(to_string(Error::BadDescription)) == "invalid guest description");
}

TEST_CASE("guest fdt: an l-lan node per logical LAN adapter, as ibmveth probes it") {
    Fixture f(1);
    f.d.lans[0] = {0x30000002, 0x1001, 0x020000000001, 64 * MiB};
    f.d.lans[1] = {0x30000003, 0x1002, 0x02a1b2c3d4e5, u64{1} << 32};
    f.d.lan_count = 2;
    REQUIRE(f.build().error == Error::None);
    const char* lan = "/vdevice/l-lan@30000002";
    CHECK(f.str(lan, "device_type") == "network");
    CHECK(f.str(lan, "compatible") == "IBM,l-lan");
    CHECK(f.cell(lan, "reg") == 0x30000002);
    CHECK(f.cells(lan, "interrupts") == Cells{0x1001, 0});
    CHECK(f.cell(lan, "ibm,#dma-address-cells") == 2);
    CHECK(f.cell(lan, "ibm,#dma-size-cells") == 2);
    CHECK(f.cells(lan, "ibm,my-dma-window") == Cells{0x30000002, 0, 0, 0, 64 * MiB});
    CHECK(f.bytes(lan, "local-mac-address") == std::string("\x02\0\0\0\0\x01", 6));
    CHECK(f.bytes(lan, "mac-address") == std::string("\x02\0\0\0\0\x01", 6));
    CHECK(f.cell(lan, "ibm,mac-address-filters") == 0);
    CHECK_FALSE(f.has(lan, "ibm,illan-options"));
    const char* lan2 = "/vdevice/l-lan@30000003";
    CHECK(f.cells(lan2, "ibm,my-dma-window") == Cells{0x30000003, 0, 0, 1, 0});
    CHECK(f.bytes(lan2, "local-mac-address") == "\x02\xa1\xb2\xc3\xd4\xe5");
    f.d.lan_count = kMaxLans + 1;
    CHECK(f.build().error == Error::BadDescription);
}

TEST_CASE("guest fdt: v-scsi and v-scsi-host nodes, as ibmvscsi and ibmvscsis probe them") {
    Fixture f(1);
    f.d.vscsi[0] = {false, 0x30000010, 0x1005, 0, 64 * MiB};
    f.d.vscsi[1] = {true, 0x30000011, 0x1006, 0x31000011, 64 * MiB};
    f.d.vscsi_count = 2;
    f.d.partition_no = 3;
    REQUIRE(f.build().error == Error::None);
    CHECK(f.cell("/", "ibm,partition-no") == 3);
    const char* c = "/vdevice/v-scsi@30000010";
    CHECK(f.str(c, "device_type") == "vscsi");
    CHECK(f.str(c, "compatible") == "IBM,v-scsi");
    CHECK(f.cell(c, "reg") == 0x30000010);
    CHECK(f.cells(c, "interrupts") == Cells{0x1005, 0});
    CHECK(f.cell(c, "ibm,#dma-address-cells") == 2);
    CHECK(f.cell(c, "ibm,#dma-size-cells") == 2);
    CHECK(f.cells(c, "ibm,my-dma-window") == Cells{0x30000010, 0, 0, 0, 64 * MiB});
    CHECK_FALSE(f.has(c, "ibm,vserver"));
    const char* s = "/vdevice/v-scsi-host@30000011";
    CHECK(f.str(s, "device_type") == "v-scsi-host");
    CHECK(f.str(s, "compatible") == "IBM,v-scsi-host");
    CHECK(f.has(s, "ibm,vserver"));
    CHECK(f.cells(s, "ibm,my-dma-window") ==
          Cells{0x30000011, 0, 0, 0, 64 * MiB, 0x31000011, 0, 0, 0, 64 * MiB});
    CHECK_FALSE(f.has("/vdevice", "ibm,max-virtual-dma-size"));
    f.d.vscsi_count = kMaxVscsi + 1;
    CHECK(f.build().error == Error::BadDescription);
}
