// The boot bundle: writer/reader round trip and every kind of corruption the reader must refuse.
#include "common/bundle.hpp"
#include "common/hosted/bundle_writer.hpp"

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <doctest/doctest.h>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace tessera;
using bundle::EntryKind;
using bundle::WriterEntry;

namespace {

std::vector<u8> bytes_of(const std::string& s) {
    return std::vector<u8>(s.begin(), s.end());
}

std::vector<u8> pattern(usize n, u32 seed) {
    std::vector<u8> v(n);
    std::mt19937 rng(seed);
    for (u8& b : v) b = static_cast<u8>(rng());
    return v;
}

const char* const kConfigText = "tessera-config 1\n[lpar a]\nmemory = 16M\nkernel = vmlinux\n";

// config, kernel, initrd, blob: entries 0..3.
std::vector<WriterEntry> sample_entries() {
    return {
        {"lpars.conf", EntryKind::Config, bytes_of(kConfigText)},
        {"vmlinux", EntryKind::Kernel, pattern(70000, 1)},
        {"initrd.img", EntryKind::Initrd, pattern(8192, 2)}, // exactly two pages
        {"notes", EntryKind::Blob, pattern(10, 3)},
    };
}

std::vector<u8> build(const std::vector<WriterEntry>& entries) {
    std::vector<u8> out;
    std::string error;
    REQUIRE_MESSAGE(bundle::write_bundle(entries, out, error), error);
    return out;
}

std::vector<u8> sample() {
    return build(sample_entries());
}

// The reader's message for `b` seen through a span of `span` bytes ("" when it opens).
std::string open_error(const std::vector<u8>& b, usize span) {
    auto bundle = std::make_unique<Bundle>();
    InputError err;
    bool ok = bundle->open(b.data(), span, err);
    CHECK(ok == !err.is_set());
    CHECK(bundle->is_open() == ok);
    return ok ? std::string() : std::string(err.c_str());
}
std::string open_error(const std::vector<u8>& b) {
    return open_error(b, b.size());
}

u8* header_field(std::vector<u8>& b, usize offset) {
    return &b[offset];
}
u8* record_field(std::vector<u8>& b, u32 index, usize offset) {
    return &b[bundle::kHeaderSize + usize{index} * bundle::kEntrySize + offset];
}
u64 entry_offset(std::vector<u8>& b, u32 i) {
    return bundle::load_le64(record_field(b, i, offsetof(bundle::EntryRecord, offset)));
}
u64 entry_size(std::vector<u8>& b, u32 i) {
    return bundle::load_le64(record_field(b, i, offsetof(bundle::EntryRecord, size)));
}
void set_entry_name(std::vector<u8>& b, u32 i, const char* name) {
    u8* n = record_field(b, i, 0);
    std::memset(n, 0, bundle::kNameSize);
    std::memcpy(n, name, std::strlen(name));
}

std::string hexs(unsigned long long v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", v);
    return buf;
}

} // namespace

namespace {
u32 crc32_bytewise(const u8* p, usize n, u32 crc) {
    crc = ~crc;
    for (usize i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB8'8320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}
} // namespace

TEST_CASE("crc32 (eight bytes a step) equals the bit-wise CRC-32 at every length and alignment") {
    std::vector<u8> data(300);
    u32 x = 12345;
    for (u8& b : data) b = static_cast<u8>((x = x * 1103515245u + 12345u) >> 16);
    for (usize off = 0; off < 9; ++off) {
        for (usize len = 0; len + off <= data.size(); len += (len < 40 ? 1 : 37)) {
            CHECK(bundle::crc32(data.data() + off, len, 0x1234) ==
                  crc32_bytewise(data.data() + off, len, 0x1234));
        }
    }
}

TEST_CASE("crc32 is the zlib/IEEE CRC-32 and chains") {
    const char* s = "123456789";
    CHECK(bundle::crc32(s, 9) == 0xCBF4'3926u);
    CHECK(bundle::crc32(s, 0) == 0);
    CHECK(bundle::crc32(s + 4, 5, bundle::crc32(s, 4)) == 0xCBF4'3926u);
}

TEST_CASE("a written bundle opens and gives back every entry") {
    std::vector<WriterEntry> in = sample_entries();
    std::vector<u8> b = build(in);
    auto bundle = std::make_unique<Bundle>();
    InputError err;
    REQUIRE_MESSAGE(bundle->open(b.data(), b.size(), err), err.c_str());
    CHECK_FALSE(err.is_set());
    CHECK(bundle->is_open());
    REQUIRE(bundle->count() == 4);
    CHECK(bundle->total_size() == b.size());
    CHECK(bundle->base() == b.data());

    u32 i = 0;
    for (const Bundle::Entry& e : *bundle) {
        CHECK(e.index == i);
        CHECK(std::string(e.name) == in[i].name);
        CHECK(e.kind == in[i].kind);
        REQUIRE(e.size == in[i].data.size());
        CHECK(std::memcmp(e.data, in[i].data.data(), e.size) == 0);
        CHECK(e.data == b.data() + e.offset);
        CHECK(e.offset % bundle::kAlign == 0);
        CHECK(e.crc == bundle::crc32(in[i].data.data(), e.size));
        CHECK(&bundle->entry(i) == &e);
        ++i;
    }
    CHECK(i == 4);
    CHECK(bundle->find("initrd.img") == &bundle->entry(2));
    CHECK(bundle->find("vmlinux")->kind == EntryKind::Kernel);
    CHECK(bundle->find("missing") == nullptr);
    CHECK(bundle->find("") == nullptr);
    CHECK(&bundle->config() == &bundle->entry(0));
}

TEST_CASE("the writer's layout: header, table, data on 4 KiB boundaries, no trailing padding") {
    std::vector<u8> b = sample();
    CHECK(std::memcmp(b.data(), "TESSERA\0", 8) == 0);
    CHECK(bundle::load_le32(&b[8]) == 1);
    CHECK(bundle::load_le32(&b[20]) == 4);
    CHECK(entry_offset(b, 0) == 0x1000);
    CHECK(entry_offset(b, 1) == 0x2000);
    CHECK(entry_offset(b, 2) == 0x2000 + 0x12000); // 70000 bytes round up to 18 pages
    CHECK(entry_offset(b, 3) == entry_offset(b, 2) + 0x2000);
    CHECK(b.size() == entry_offset(b, 3) + 10);
    CHECK(bundle::load_le64(&b[24]) == b.size());
}

TEST_CASE("a bundle inside a larger span opens (the loader may round up)") {
    std::vector<u8> b = sample();
    usize size = b.size();
    b.resize(size + 5000, 0xee);
    auto bundle = std::make_unique<Bundle>();
    InputError err;
    REQUIRE(bundle->open(b.data(), b.size(), err));
    CHECK(bundle->total_size() == size);
}

TEST_CASE("a truncated header is rejected") {
    std::vector<u8> b = sample();
    CHECK(open_error(b, 63) == "bundle: truncated header (63 bytes, the header alone is 64)");
    CHECK(open_error(b, 0) == "bundle: truncated header (0 bytes, the header alone is 64)");
    auto bundle = std::make_unique<Bundle>();
    InputError err;
    CHECK_FALSE(bundle->open(nullptr, 100, err));
    CHECK(std::string(err.c_str()) == "bundle: truncated header (0 bytes, the header alone is 64)");
}

TEST_CASE("bad magic is rejected") {
    std::vector<u8> b = sample();
    b[0] = 0x7f;
    b[1] = 'E';
    CHECK(open_error(b) == "bundle: bad magic 7f 45 53 53 45 52 41 00 (not a Tessera bundle, "
                           "which starts with \"TESSERA\\0\")");
}

TEST_CASE("other versions are rejected before anything else is read") {
    std::vector<u8> b = sample();
    bundle::store_le32(header_field(b, 8), 2);
    b.resize(64); // a v1 reader must not need anything past the fields it shares with v2
    CHECK(open_error(b) ==
          "bundle: unsupported bundle version 2 (this hypervisor reads version 1)");
    bundle::store_le32(header_field(b, 8), 0);
    CHECK(open_error(b) ==
          "bundle: unsupported bundle version 0 (this hypervisor reads version 1)");
}

TEST_CASE("header and record sizes must be version 1's") {
    std::vector<u8> b = sample();
    bundle::store_le32(header_field(b, offsetof(bundle::Header, header_size)), 72);
    CHECK(open_error(b) == "bundle: header size 72, version 1 has 64");
    b = sample();
    bundle::store_le32(header_field(b, offsetof(bundle::Header, entry_size)), 64);
    CHECK(open_error(b) == "bundle: entry record size 64, version 1 has 80");
}

TEST_CASE("zero entries and too many entries are rejected") {
    std::vector<u8> b = sample();
    bundle::store_le32(header_field(b, offsetof(bundle::Header, entry_count)), 0);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: no entries");
    bundle::store_le32(header_field(b, offsetof(bundle::Header, entry_count)), 33);
    CHECK(open_error(b) == "bundle: too many entries (33, at most 32)");
    bundle::store_le32(header_field(b, offsetof(bundle::Header, entry_count)), 0xffff'ffff);
    CHECK(open_error(b) == "bundle: too many entries (4294967295, at most 32)");
}

TEST_CASE("a full table of 32 entries is accepted") {
    std::vector<WriterEntry> in;
    in.push_back({"lpars.conf", EntryKind::Config, bytes_of(kConfigText)});
    for (int i = 1; i < 32; ++i)
        in.push_back({"blob" + std::to_string(i), EntryKind::Blob, pattern(100, u32(i))});
    std::vector<u8> b = build(in);
    CHECK(open_error(b) == "");
    in.push_back({"one-too-many", EntryKind::Blob, pattern(1, 0)});
    std::vector<u8> out;
    std::string error;
    CHECK_FALSE(bundle::write_bundle(in, out, error));
    CHECK(error == "too many entries (33, at most 32)");
}

TEST_CASE("a truncated table or bundle is rejected") {
    std::vector<u8> b = sample();
    CHECK(open_error(b, 64 + 80 * 2) ==
          "bundle: truncated table (4 entries end at 0x180, only 0xe0 bytes present)");
    CHECK(open_error(b, 64 + 80 * 4).rfind("bundle: truncated (the header says", 0) == 0);
    CHECK(open_error(b, b.size() - 1) == "bundle: truncated (the header says " + hexs(b.size()) +
                                             " bytes, only " + hexs(b.size() - 1) + " present)");
    bundle::store_le64(header_field(b, offsetof(bundle::Header, total_size)), 0x100);
    CHECK(open_error(b) ==
          "bundle: total size 0x100 is smaller than its header and table (0x180 bytes)");
}

TEST_CASE("every truncation of a bundle is rejected") {
    std::vector<u8> b = build({{"c", EntryKind::Config, bytes_of(kConfigText)},
                               {"k", EntryKind::Kernel, pattern(300, 9)}});
    for (usize n = 0; n < b.size(); ++n) {
        std::vector<u8> t(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_MESSAGE(open_error(t) != "", "length ", n);
    }
}

TEST_CASE("a corrupt header or table fails the table checksum") {
    std::vector<u8> b = sample();
    b[64 + 1] ^= 0x20; // a letter of the first name changes case: still a valid name
    std::string e = open_error(b);
    CHECK(e.rfind("bundle: header/table checksum mismatch (stored 0x", 0) == 0);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "");
}

TEST_CASE("reserved header bytes must be zero") {
    std::vector<u8> b = sample();
    b[offsetof(bundle::Header, reserved) + 3] = 1;
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: reserved header bytes are not zero");
}

TEST_CASE("entry names: terminated, non-empty, valid characters, zero padded, unique") {
    std::vector<u8> b = sample();
    std::memset(record_field(b, 1, 0), 'a', bundle::kNameSize);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 1: name is not NUL-terminated within 48 bytes");

    b = sample();
    set_entry_name(b, 2, "");
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 2: empty name");

    b = sample();
    set_entry_name(b, 2, "bad name");
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 2: name has a bad character 0x20 at position 3 (names "
                           "are letters, digits, '.', '_', '-', '+', starting with a letter or "
                           "digit)");
    set_entry_name(b, 2, "-initrd");
    bundle::reseal_table(b);
    CHECK(open_error(b).rfind("bundle: entry 2: name has a bad character 0x2d at position 0", 0) ==
          0);

    b = sample();
    record_field(b, 3, 0)[40] = 'x'; // after "notes\0"
    bundle::reseal_table(b);
    CHECK(open_error(b) ==
          "bundle: entry 3 (\"notes\"): bytes after the name's terminator are not zero");

    b = sample();
    set_entry_name(b, 2, "vmlinux");
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 2 (\"vmlinux\"): duplicate name (also entry 1)");

    b = sample();
    set_entry_name(b, 1, std::string(47, 'k').c_str()); // the longest name
    bundle::reseal_table(b);
    CHECK(open_error(b) == "");
}

TEST_CASE("unknown kinds and non-zero flags are rejected") {
    std::vector<u8> b = sample();
    bundle::store_le32(record_field(b, 3, offsetof(bundle::EntryRecord, kind)), 7);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 3 (\"notes\"): unknown kind 7");
    bundle::store_le32(record_field(b, 3, offsetof(bundle::EntryRecord, kind)), 0);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 3 (\"notes\"): unknown kind 0");

    b = sample();
    bundle::store_le32(record_field(b, 1, offsetof(bundle::EntryRecord, flags)), 1);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 1 (\"vmlinux\"): flags/reserved fields are not zero");
    b = sample();
    bundle::store_le32(record_field(b, 1, offsetof(bundle::EntryRecord, reserved)), 1);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 1 (\"vmlinux\"): flags/reserved fields are not zero");
}

TEST_CASE("entry data: non-empty, aligned, after the table, inside the bundle") {
    std::vector<u8> b = sample();
    const usize size_at = offsetof(bundle::EntryRecord, size);
    const usize offset_at = offsetof(bundle::EntryRecord, offset);

    bundle::store_le64(record_field(b, 3, size_at), 0);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 3 (\"notes\"): no data (size 0)");

    b = sample();
    u64 off = entry_offset(b, 1);
    bundle::store_le64(record_field(b, 1, offset_at), off + 8);
    bundle::reseal_table(b);
    CHECK(open_error(b) ==
          "bundle: entry 1 (\"vmlinux\"): offset " + hexs(off + 8) + " is not a multiple of 4 KiB");

    b = sample();
    bundle::store_le64(record_field(b, 0, offset_at), 0);
    bundle::reseal_table(b);
    CHECK(open_error(b) ==
          "bundle: entry 0 (\"lpars.conf\"): data overlaps the header and table (offset 0x0)");

    b = sample();
    u64 last = entry_offset(b, 3);
    bundle::store_le64(record_field(b, 3, size_at), 11);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 3 (\"notes\"): data extends past the end of the bundle "
                           "(offset " +
                               hexs(last) + ", size 0xb, bundle size " + hexs(b.size()) + ")");

    b = sample();
    bundle::store_le64(record_field(b, 1, offset_at), 0xffff'ffff'ffff'f000ull); // would wrap
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 1 (\"vmlinux\"): data extends past the end of the "
                           "bundle (offset 0xfffffffffffff000, size 0x11170, bundle size " +
                               hexs(b.size()) + ")");

    b = sample();
    bundle::store_le64(record_field(b, 1, size_at), ~u64{0});
    bundle::reseal_table(b);
    CHECK(open_error(b).find("data extends past the end of the bundle") != std::string::npos);
}

TEST_CASE("overlapping entries are rejected") {
    std::vector<u8> b = sample();
    u64 k = entry_offset(b, 1), ksize = entry_size(b, 1);
    bundle::store_le64(record_field(b, 2, offsetof(bundle::EntryRecord, offset)), k + 0x1000);
    bundle::reseal_table(b);
    CHECK(open_error(b) == "bundle: entry 2 (\"initrd.img\"): data [" + hexs(k + 0x1000) + ", " +
                               hexs(k + 0x1000 + 8192) + ") overlaps entry 1 (\"vmlinux\") [" +
                               hexs(k) + ", " + hexs(k + ksize) + ")");

    // Two entries sharing the same data are overlapping too.
    b = sample();
    bundle::store_le64(record_field(b, 3, offsetof(bundle::EntryRecord, offset)),
                       entry_offset(b, 0));
    bundle::reseal_table(b);
    CHECK(open_error(b).find("bundle: entry 3 (\"notes\"): data [0x1000, 0x100a) overlaps entry 0 "
                             "(\"lpars.conf\")") == 0);

    // Adjacent is fine: initrd.img is exactly two pages and notes follows it immediately.
    CHECK(entry_offset(b, 2) + entry_size(b, 2) == sample().size() - 10);
}

TEST_CASE("exactly one config entry") {
    std::vector<WriterEntry> in = sample_entries();
    in[0].kind = EntryKind::Blob;
    CHECK(open_error(build(in)) ==
          "bundle: no config entry (an entry of kind config holds the LPAR configuration)");
    in = sample_entries();
    in[3].kind = EntryKind::Config;
    CHECK(open_error(build(in)) == "bundle: entry 3 (\"notes\"): a second config entry (the first "
                                   "is entry 0 (\"lpars.conf\"))");
}

TEST_CASE("corrupt data fails its entry's checksum") {
    std::vector<u8> b = sample();
    u64 at = entry_offset(b, 2) + 100;
    b[at] ^= 0x01;
    u32 stored = bundle::crc32(sample().data() + entry_offset(b, 2), 8192);
    u32 computed = bundle::crc32(b.data() + entry_offset(b, 2), 8192);
    char expect[200];
    std::snprintf(expect, sizeof(expect),
                  "bundle: entry 2 (\"initrd.img\"): data checksum mismatch (stored 0x%08x, "
                  "computed 0x%08x)",
                  stored, computed);
    CHECK(open_error(b) == expect);

    // What the QEMU corrupt-bundle test does: a byte near the end, in the last entry.
    b = sample();
    b[b.size() - 5] ^= 0xa5;
    CHECK(open_error(b).rfind("bundle: entry 3 (\"notes\"): data checksum mismatch", 0) == 0);
}

TEST_CASE("every single-byte change outside the padding is detected") {
    std::vector<u8> good = build({{"c", EntryKind::Config, bytes_of(kConfigText)},
                                  {"k", EntryKind::Kernel, pattern(300, 9)}});
    u64 c_end = entry_offset(good, 0) + entry_size(good, 0);
    u64 table_end = bundle::kHeaderSize + 2 * bundle::kEntrySize;
    for (usize i = 0; i < good.size(); ++i) {
        bool padding = (i >= table_end && i < entry_offset(good, 0)) ||
                       (i >= c_end && i < entry_offset(good, 1));
        std::vector<u8> b = good;
        b[i] ^= 0x40;
        CHECK_MESSAGE((open_error(b) == "") == padding, "byte ", i);
    }
}

TEST_CASE("a failed open leaves the bundle empty, and it can be reopened") {
    std::vector<u8> good = sample();
    std::vector<u8> bad = good;
    bad[bad.size() - 1] ^= 1;
    auto bundle = std::make_unique<Bundle>();
    InputError err;
    REQUIRE(bundle->open(good.data(), good.size(), err));
    CHECK_FALSE(bundle->open(bad.data(), bad.size(), err));
    CHECK_FALSE(bundle->is_open());
    CHECK(bundle->count() == 0);
    CHECK(bundle->begin() == bundle->end());
    CHECK(bundle->find("vmlinux") == nullptr);
    CHECK(bundle->base() == nullptr);
    REQUIRE(bundle->open(good.data(), good.size(), err));
    CHECK_FALSE(err.is_set());
    CHECK(bundle->count() == 4);
}

TEST_CASE("open in two steps: the config first, then the other entries' data") {
    std::vector<u8> good = sample();
    auto bundle = std::make_unique<Bundle>();
    InputError err;
    REQUIRE(bundle->open_config(good.data(), good.size(), err));
    CHECK_FALSE(bundle->is_open()); // only the config may be used yet
    CHECK(std::string(bundle->config().name) == "lpars.conf");
    CHECK(std::memcmp(bundle->config().data, kConfigText, std::strlen(kConfigText)) == 0);
    REQUIRE(bundle->verify_rest(err));
    CHECK(bundle->is_open());
    CHECK(bundle->count() == 4);
    CHECK(bundle->find("initrd.img") != nullptr);

    // A bad image is found by the second step and leaves the bundle empty.
    std::vector<u8> bad = good;
    bad[entry_offset(bad, 1) + 7] ^= 0x10;
    REQUIRE(bundle->open_config(bad.data(), bad.size(), err));
    CHECK_FALSE(bundle->verify_rest(err));
    CHECK(std::string(err.c_str())
              .rfind("bundle: entry 1 (\"vmlinux\"): data checksum mismatch", 0) == 0);
    CHECK_FALSE(bundle->is_open());
    CHECK(bundle->find("vmlinux") == nullptr);
    CHECK(bundle->base() == nullptr);

    // A bad config is found by the first: its data are checked before anything reads them,
    // ahead of the entries before it in the table.
    std::vector<u8> reordered = build({{"k", EntryKind::Kernel, pattern(300, 9)},
                                       {"c", EntryKind::Config, bytes_of(kConfigText)}});
    reordered[entry_offset(reordered, 0) + 1] ^= 1; // the kernel's data, checked later
    reordered[entry_offset(reordered, 1) + 1] ^= 1; // the config's
    CHECK_FALSE(bundle->open_config(reordered.data(), reordered.size(), err));
    CHECK(std::string(err.c_str()).rfind("bundle: entry 1 (\"c\"): data checksum mismatch", 0) ==
          0);
    CHECK(open_error(reordered).rfind("bundle: entry 1 (\"c\")", 0) == 0);
}

TEST_CASE("random damage to the table never crashes the reader") {
    std::vector<u8> good = sample();
    std::mt19937 rng(12345);
    const usize table_end = bundle::kHeaderSize + 4 * bundle::kEntrySize;
    auto bundle = std::make_unique<Bundle>();
    int opened = 0;
    for (int round = 0; round < 3000; ++round) {
        std::vector<u8> b = good;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
            usize at = 8 + rng() % (table_end - 8);
            b[at] =
                (rng() % 2) ? static_cast<u8>(rng()) : static_cast<u8>(b[at] ^ (1u << (rng() % 8)));
        }
        bundle::reseal_table(b);
        usize span = (rng() % 8 == 0) ? rng() % b.size() : b.size();
        InputError err;
        if (bundle->open(b.data(), span, err)) {
            ++opened;
            for (const Bundle::Entry& e : *bundle) {
                CHECK(e.offset + e.size <= bundle->total_size());
                CHECK(bundle->total_size() <= span);
                CHECK(e.offset % bundle::kAlign == 0);
            }
        } else {
            CHECK(std::strncmp(err.c_str(), "bundle: ", 8) == 0);
        }
    }
    CHECK(opened < 3000);
}

TEST_CASE("the writer refuses what no reader accepts") {
    std::vector<u8> out;
    std::string error;
    CHECK_FALSE(bundle::write_bundle({}, out, error));
    CHECK(error == "a bundle needs at least one entry");
    CHECK_FALSE(bundle::write_bundle({{"a b", EntryKind::Blob, {1}}}, out, error));
    CHECK(error.rfind("'a b' is not a bundle entry name", 0) == 0);
    CHECK_FALSE(bundle::write_bundle({{std::string(48, 'n'), EntryKind::Blob, {1}}}, out, error));
    CHECK_FALSE(bundle::write_bundle({{"a", EntryKind::Blob, {1}}, {"a", EntryKind::Blob, {2}}},
                                     out, error));
    CHECK(error == "duplicate entry name 'a'");
    CHECK_FALSE(bundle::write_bundle({{"a", EntryKind::Blob, {}}}, out, error));
    CHECK(error == "entry 'a' is empty");
}
