// The pc's ACPI processor count (plat/pc/acpi.cpp) over tables built here in fake real memory.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include <plat/acpi.hpp>

using namespace tessera;
using namespace tessera::pc;

namespace {

// 2 MiB of real memory starting at 0: the BIOS area and the tables' place above 1 MiB.
class FakeMemory {
  public:
    FakeMemory() : bytes_(2 * MiB, 0) {}
    acpi::RealReader reader() const { return {&read, this}; }
    u8* at(u64 a) { return &bytes_.at(a); }
    void put(u64 a, const void* p, usize n) { std::memcpy(at(a), p, n); }
    void put16(u64 a, u16 v) { put(a, &v, 2); }
    void put32(u64 a, u32 v) { put(a, &v, 4); }
    void put64(u64 a, u64 v) { put(a, &v, 8); }
    // Makes the `len` bytes at `a` sum to 0 through the byte at `a + field`.
    void fix_sum(u64 a, usize len, usize field) {
        *at(a + field) = 0;
        u8 s = 0;
        for (usize i = 0; i < len; ++i) s = static_cast<u8>(s + *at(a + i));
        *at(a + field) = static_cast<u8>(-s);
    }

  private:
    static bool read(const void* ctx, RealAddr a, void* out, usize n) {
        const auto& m = *static_cast<const FakeMemory*>(ctx);
        if (a.value() > m.bytes_.size() || n > m.bytes_.size() - a.value()) return false;
        std::memcpy(out, m.bytes_.data() + a.value(), n);
        return true;
    }
    std::vector<u8> bytes_;
};

constexpr u64 kRsdp = 0xe0010, kRsdt = 0x100000, kXsdt = 0x100800, kFacp = 0x101000,
              kMadt = 0x102000;

void rsdp(FakeMemory& m, u64 a, u8 revision, u32 rsdt, u64 xsdt = 0) {
    m.put(a, "RSD PTR ", 8);
    m.put(a + 9, "TESTER", 6);
    *m.at(a + 15) = revision;
    m.put32(a + 16, rsdt);
    m.fix_sum(a, 20, 8); // the ACPI 1.0 part first: the extended checksum covers it
    if (revision >= 2) {
        m.put32(a + 20, 36);
        m.put64(a + 24, xsdt);
        m.fix_sum(a, 36, 32);
    }
}

// A table header of `len` bytes; its checksum is fixed once the body is written (seal).
void header(FakeMemory& m, u64 a, const char* sig, u32 len) {
    m.put(a, sig, 4);
    m.put32(a + 4, len);
    *m.at(a + 8) = 1;
    m.put(a + 10, "TESTER", 6);
}
void seal(FakeMemory& m, u64 a) {
    u32 len;
    std::memcpy(&len, m.at(a + 4), 4);
    m.fix_sum(a, len, 9);
}

void root(FakeMemory& m, u64 a, const char* sig, const std::vector<u64>& tables, usize width) {
    header(m, a, sig, static_cast<u32>(36 + tables.size() * width));
    for (usize i = 0; i < tables.size(); ++i) {
        if (width == 8)
            m.put64(a + 36 + i * 8, tables[i]);
        else
            m.put32(a + 36 + i * 4, static_cast<u32>(tables[i]));
    }
    seal(m, a);
}

struct Entry {
    u8 type;
    u32 apic_id, flags;
};

// A MADT with these processor entries (type 0: 8 bytes, type 9: 16 bytes) and one I/O APIC.
void madt(FakeMemory& m, u64 a, const std::vector<Entry>& entries) {
    u32 off = 44;
    m.put32(a + 36, 0xfee00000); // the local APIC's address
    m.put32(a + 40, 1);          // PC-AT compatible
    for (const Entry& e : entries) {
        *m.at(a + off) = e.type;
        if (e.type == 0) {
            *m.at(a + off + 1) = 8;
            *m.at(a + off + 2) = static_cast<u8>(off); // ACPI processor id: any
            *m.at(a + off + 3) = static_cast<u8>(e.apic_id);
            m.put32(a + off + 4, e.flags);
            off += 8;
        } else {
            *m.at(a + off + 1) = 16;
            m.put32(a + off + 4, e.apic_id);
            m.put32(a + off + 8, e.flags);
            off += 16;
        }
    }
    *m.at(a + off) = 1; // an I/O APIC entry, which is not a processor
    *m.at(a + off + 1) = 12;
    off += 12;
    header(m, a, "APIC", off);
    seal(m, a);
}

// QEMU's shape: an ACPI 1.0 RSDP in the BIOS area, an RSDT with a FACP and the MADT.
void qemu_like(FakeMemory& m, const std::vector<Entry>& cpus) {
    rsdp(m, kRsdp, 0, kRsdt);
    header(m, kFacp, "FACP", 36);
    seal(m, kFacp);
    root(m, kRsdt, "RSDT", {kFacp, kMadt}, 4);
    madt(m, kMadt, cpus);
}

} // namespace

TEST_CASE("acpi: the enabled processors of a QEMU-like MADT, hot-pluggable ones apart") {
    FakeMemory m;
    qemu_like(m, {{0, 0, 1}, {0, 1, 1}, {0, 2, 0}, {0, 3, 0}});
    acpi::Processors p;
    REQUIRE(acpi::find_processors(m.reader(), p) == acpi::Status::Ok);
    CHECK(p.enabled == 2);
    CHECK(p.disabled == 2);
    CHECK(p.apic_ids[0] == 0);
    CHECK(p.apic_ids[1] == 1);
}

TEST_CASE("acpi: x2APIC entries count too, with their 32-bit IDs") {
    FakeMemory m;
    qemu_like(m, {{0, 4, 1}, {9, 300, 1}, {9, 301, 0}});
    acpi::Processors p;
    REQUIRE(acpi::find_processors(m.reader(), p) == acpi::Status::Ok);
    CHECK(p.enabled == 2);
    CHECK(p.disabled == 1);
    CHECK(p.apic_ids[0] == 4);
    CHECK(p.apic_ids[1] == 300);
}

TEST_CASE("acpi: more processors than are listed are still counted") {
    FakeMemory m;
    std::vector<Entry> cpus;
    for (u32 i = 0; i < acpi::kMaxListed + 6; ++i) cpus.push_back({9, i, 1});
    qemu_like(m, cpus);
    acpi::Processors p;
    REQUIRE(acpi::find_processors(m.reader(), p) == acpi::Status::Ok);
    CHECK(p.enabled == acpi::kMaxListed + 6);
    CHECK(p.apic_ids[acpi::kMaxListed - 1] == acpi::kMaxListed - 1);
}

TEST_CASE("acpi: the RSDP in the EBDA's first KiB") {
    FakeMemory m;
    qemu_like(m, {{0, 0, 1}, {0, 1, 1}, {0, 2, 1}});
    std::memset(m.at(kRsdp), 0, 20); // none in the BIOS area
    m.put16(0x40e, 0x9fc0);          // EBDA at 0x9fc00
    rsdp(m, 0x9fc00 + 0x30, 0, kRsdt);
    acpi::Processors p;
    REQUIRE(acpi::find_processors(m.reader(), p) == acpi::Status::Ok);
    CHECK(p.enabled == 3);
}

TEST_CASE("acpi: a signature with a bad checksum is not the RSDP") {
    FakeMemory m;
    qemu_like(m, {{0, 0, 1}});
    m.put(0xe0000, "RSD PTR ", 8); // earlier in the scan, checksum wrong
    *m.at(0xe0000 + 8) = 0x5a;
    acpi::Processors p;
    CHECK(acpi::find_processors(m.reader(), p) == acpi::Status::Ok);
    CHECK(p.enabled == 1);

    FakeMemory none;
    none.put(0xe0000, "RSD PTR ", 8);
    *none.at(0xe0000 + 8) = 0x5a;
    CHECK(acpi::find_processors(none.reader(), p) == acpi::Status::NoRsdp);
    CHECK(p.enabled == 0);
}

TEST_CASE("acpi: ACPI 2.0 prefers the XSDT, and falls back to the RSDT it cannot read") {
    FakeMemory m;
    header(m, kFacp, "FACP", 36);
    seal(m, kFacp);
    madt(m, kMadt, {{0, 0, 1}, {0, 1, 1}});
    root(m, kRsdt, "RSDT", {kFacp}, 4); // the MADT only through the XSDT
    root(m, kXsdt, "XSDT", {kFacp, kMadt}, 8);
    rsdp(m, kRsdp, 2, kRsdt, kXsdt);
    acpi::Processors p;
    REQUIRE(acpi::find_processors(m.reader(), p) == acpi::Status::Ok);
    CHECK(p.enabled == 2);

    FakeMemory high;
    qemu_like(high, {{0, 0, 1}, {0, 1, 1}, {0, 2, 1}});
    rsdp(high, kRsdp, 2, kRsdt, u64{1} << 40); // an XSDT the reader cannot reach
    REQUIRE(acpi::find_processors(high.reader(), p) == acpi::Status::Ok);
    CHECK(p.enabled == 3);
}

TEST_CASE("acpi: broken tables are reported, not read past") {
    acpi::Processors p;
    SUBCASE("no MADT") {
        FakeMemory m;
        rsdp(m, kRsdp, 0, kRsdt);
        header(m, kFacp, "FACP", 36);
        seal(m, kFacp);
        root(m, kRsdt, "RSDT", {kFacp}, 4);
        CHECK(acpi::find_processors(m.reader(), p) == acpi::Status::NoMadt);
    }
    SUBCASE("the RSDT's checksum") {
        FakeMemory m;
        qemu_like(m, {{0, 0, 1}});
        *m.at(kRsdt + 20) ^= 1;
        CHECK(acpi::find_processors(m.reader(), p) == acpi::Status::NoRootTable);
    }
    SUBCASE("the MADT's checksum") {
        FakeMemory m;
        qemu_like(m, {{0, 0, 1}});
        *m.at(kMadt + 47) ^= 1;
        CHECK(acpi::find_processors(m.reader(), p) == acpi::Status::BadMadt);
    }
    SUBCASE("an entry of length 0") {
        FakeMemory m;
        qemu_like(m, {{0, 0, 1}, {0, 1, 1}});
        *m.at(kMadt + 44 + 8 + 1) = 0;
        seal(m, kMadt);
        CHECK(acpi::find_processors(m.reader(), p) == acpi::Status::BadMadt);
    }
    SUBCASE("an entry past the table's end") {
        FakeMemory m;
        qemu_like(m, {{0, 0, 1}, {0, 1, 1}});
        *m.at(kMadt + 44 + 16 + 1) = 200; // the I/O APIC entry, last
        seal(m, kMadt);
        CHECK(acpi::find_processors(m.reader(), p) == acpi::Status::BadMadt);
    }
    SUBCASE("a wrong length") {
        FakeMemory m;
        qemu_like(m, {{0, 0, 1}});
        m.put32(kMadt + 4, 60000); // within the sanity bound: the checksum no longer holds
        CHECK(acpi::find_processors(m.reader(), p) == acpi::Status::BadMadt);
    }
}
