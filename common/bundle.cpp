#include "common/bundle.hpp"

#include "common/rt/format.hpp"
#include "common/rt/panic.hpp"
#include "common/rt/string.hpp"

namespace tessera {

namespace bundle {
namespace {

// Slicing-by-8 (eight bytes per step through eight tables): the hypervisor checks every byte of
// a bundle of tens of MB at boot, in emulated code under QEMU. v[0] is the byte-wise table;
// v[k][i] is the CRC of byte i followed by k zero bytes.
struct CrcTables {
    u32 v[8][256];
};

constexpr CrcTables make_crc_tables() {
    CrcTables t{};
    for (u32 i = 0; i < 256; ++i) {
        u32 c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB8'8320u ^ (c >> 1) : c >> 1;
        t.v[0][i] = c;
    }
    for (u32 i = 0; i < 256; ++i) {
        for (int k = 1; k < 8; ++k) t.v[k][i] = (t.v[k - 1][i] >> 8) ^ t.v[0][t.v[k - 1][i] & 0xff];
    }
    return t;
}

constexpr CrcTables kCrc = make_crc_tables();

} // namespace

u32 crc32(const void* data, usize n, u32 crc) {
    const u8* p = static_cast<const u8*>(data);
    const auto& t = kCrc.v;
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        const u32 lo = load_le32(p) ^ crc, hi = load_le32(p + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
    for (; n > 0; --n, ++p) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
    return ~crc;
}

} // namespace bundle

void InputError::set(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rt::vformat(text, kCapacity, fmt, ap);
    va_end(ap);
}

namespace {

using bundle::EntryRecord;
using bundle::Header;
using bundle::kEntrySize;
using bundle::kHeaderSize;
using bundle::load_le32;
using bundle::load_le64;

unsigned long long ull(u64 v) {
    return static_cast<unsigned long long>(v);
}

bool all_zero(const u8* p, usize n) {
    for (usize i = 0; i < n; ++i)
        if (p[i] != 0) return false;
    return true;
}

// CRC-32 of the header with its table_crc field taken as zero, followed by `count` records.
u32 table_crc(const u8* base, u32 count) {
    static constexpr u8 zero[4] = {};
    constexpr usize at = offsetof(Header, table_crc);
    u32 crc = bundle::crc32(base, at);
    crc = bundle::crc32(zero, sizeof(zero), crc);
    crc = bundle::crc32(base + at + 4, kHeaderSize - at - 4, crc);
    return bundle::crc32(base + kHeaderSize, usize{count} * kEntrySize, crc);
}

} // namespace

bool Bundle::check_header(usize size, InputError& err) {
    const u8* h = base_;
    if (h == nullptr || size < kHeaderSize) {
        err.set("bundle: truncated header (%zu bytes, the header alone is %u)",
                h == nullptr ? usize{0} : size, kHeaderSize);
        return false;
    }
    if (rt::mem_compare(h, bundle::kMagic, sizeof(bundle::kMagic)) != 0) {
        err.set("bundle: bad magic %02x %02x %02x %02x %02x %02x %02x %02x (not a Tessera bundle, "
                "which starts with \"TESSERA\\0\")",
                h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
        return false;
    }
    u32 version = load_le32(h + offsetof(Header, version));
    if (version != bundle::kVersion) {
        err.set("bundle: unsupported bundle version %u (this hypervisor reads version %u)", version,
                bundle::kVersion);
        return false;
    }
    u32 header_size = load_le32(h + offsetof(Header, header_size));
    if (header_size != kHeaderSize) {
        err.set("bundle: header size %u, version 1 has %u", header_size, kHeaderSize);
        return false;
    }
    u32 entry_size = load_le32(h + offsetof(Header, entry_size));
    if (entry_size != kEntrySize) {
        err.set("bundle: entry record size %u, version 1 has %u", entry_size, kEntrySize);
        return false;
    }
    u32 count = load_le32(h + offsetof(Header, entry_count));
    if (count == 0) {
        err.set("bundle: no entries");
        return false;
    }
    if (count > bundle::kMaxEntries) {
        err.set("bundle: too many entries (%u, at most %u)", count, bundle::kMaxEntries);
        return false;
    }
    usize table_end = kHeaderSize + usize{count} * kEntrySize;
    if (size < table_end) {
        err.set("bundle: truncated table (%u entries end at 0x%zx, only 0x%zx bytes present)",
                count, table_end, size);
        return false;
    }
    u64 total = load_le64(h + offsetof(Header, total_size));
    if (total < table_end) {
        err.set("bundle: total size 0x%llx is smaller than its header and table (0x%zx bytes)",
                ull(total), table_end);
        return false;
    }
    if (total > size) {
        err.set("bundle: truncated (the header says 0x%llx bytes, only 0x%zx present)", ull(total),
                size);
        return false;
    }
    u32 stored = load_le32(h + offsetof(Header, table_crc));
    u32 computed = table_crc(h, count);
    if (stored != computed) {
        err.set("bundle: header/table checksum mismatch (stored 0x%08x, computed 0x%08x)", stored,
                computed);
        return false;
    }
    if (!all_zero(h + offsetof(Header, reserved), sizeof(Header::reserved))) {
        err.set("bundle: reserved header bytes are not zero");
        return false;
    }
    pending_ = count;
    total_size_ = total;
    return true;
}

bool Bundle::read_entry(u32 i, InputError& err) {
    const u8* r = base_ + kHeaderSize + usize{i} * kEntrySize;
    Entry& e = entries_[i];
    e = Entry{};
    e.index = i;

    usize len = rt::str_length_max(reinterpret_cast<const char*>(r), bundle::kNameSize);
    if (len == bundle::kNameSize) {
        err.set("bundle: entry %u: name is not NUL-terminated within %zu bytes", i,
                bundle::kNameSize);
        return false;
    }
    if (len == 0) {
        err.set("bundle: entry %u: empty name", i);
        return false;
    }
    for (usize k = 0; k < len; ++k) {
        char c = static_cast<char>(r[k]);
        if (!bundle::is_name_char(c) || (k == 0 && !bundle::is_name_start(c))) {
            err.set("bundle: entry %u: name has a bad character 0x%02x at position %zu (names are "
                    "letters, digits, '.', '_', '-', '+', starting with a letter or digit)",
                    i, r[k], k);
            return false;
        }
    }
    rt::mem_copy(e.name, r, len);
    e.name[len] = '\0';
    if (!all_zero(r + len, bundle::kNameSize - len)) {
        err.set("bundle: entry %u (\"%s\"): bytes after the name's terminator are not zero", i,
                e.name);
        return false;
    }
    for (u32 j = 0; j < i; ++j) {
        if (rt::str_compare(entries_[j].name, e.name) == 0) {
            err.set("bundle: entry %u (\"%s\"): duplicate name (also entry %u)", i, e.name, j);
            return false;
        }
    }

    u32 kind = load_le32(r + offsetof(EntryRecord, kind));
    if (kind < static_cast<u32>(bundle::EntryKind::Config) ||
        kind > static_cast<u32>(bundle::EntryKind::Blob)) {
        err.set("bundle: entry %u (\"%s\"): unknown kind %u", i, e.name, kind);
        return false;
    }
    e.kind = static_cast<bundle::EntryKind>(kind);
    if (load_le32(r + offsetof(EntryRecord, flags)) != 0 ||
        load_le32(r + offsetof(EntryRecord, reserved)) != 0) {
        err.set("bundle: entry %u (\"%s\"): flags/reserved fields are not zero", i, e.name);
        return false;
    }

    u64 offset = load_le64(r + offsetof(EntryRecord, offset));
    u64 size = load_le64(r + offsetof(EntryRecord, size));
    if (size == 0) {
        err.set("bundle: entry %u (\"%s\"): no data (size 0)", i, e.name);
        return false;
    }
    if (!is_aligned(offset, bundle::kAlign)) {
        err.set("bundle: entry %u (\"%s\"): offset 0x%llx is not a multiple of 4 KiB", i, e.name,
                ull(offset));
        return false;
    }
    u64 table_end = kHeaderSize + u64{pending_} * kEntrySize;
    if (offset < table_end) {
        err.set("bundle: entry %u (\"%s\"): data overlaps the header and table (offset 0x%llx)", i,
                e.name, ull(offset));
        return false;
    }
    if (offset > total_size_ || size > total_size_ - offset) {
        err.set("bundle: entry %u (\"%s\"): data extends past the end of the bundle (offset "
                "0x%llx, size 0x%llx, bundle size 0x%llx)",
                i, e.name, ull(offset), ull(size), ull(total_size_));
        return false;
    }
    for (u32 j = 0; j < i; ++j) {
        const Entry& o = entries_[j];
        if (offset < o.offset + o.size && o.offset < offset + size) {
            err.set("bundle: entry %u (\"%s\"): data [0x%llx, 0x%llx) overlaps entry %u (\"%s\") "
                    "[0x%llx, 0x%llx)",
                    i, e.name, ull(offset), ull(offset + size), j, o.name, ull(o.offset),
                    ull(o.offset + o.size));
            return false;
        }
    }
    e.offset = offset;
    e.size = static_cast<usize>(size); // inside the span, so it fits
    e.data = base_ + offset;
    e.crc = load_le32(r + offsetof(EntryRecord, data_crc));
    return true;
}

bool Bundle::check_layout(InputError& err) {
    u32 config = pending_;
    for (u32 i = 0; i < pending_; ++i) {
        const Entry& e = entries_[i];
        if (e.kind != bundle::EntryKind::Config) continue;
        if (config != pending_) {
            err.set("bundle: entry %u (\"%s\"): a second config entry (the first is entry %u "
                    "(\"%s\"))",
                    i, e.name, config, entries_[config].name);
            return false;
        }
        config = i;
    }
    if (config == pending_) {
        err.set("bundle: no config entry (an entry of kind config holds the LPAR configuration)");
        return false;
    }
    config_ = config;
    return true;
}

bool Bundle::check_data(u32 i, InputError& err) const {
    const Entry& e = entries_[i];
    const u32 computed = bundle::crc32(e.data, e.size);
    if (computed == e.crc) return true;
    err.set("bundle: entry %u (\"%s\"): data checksum mismatch (stored 0x%08x, computed 0x%08x)", i,
            e.name, e.crc, computed);
    return false;
}

void Bundle::close() {
    count_ = 0;
    config_ = 0;
    config_checked_ = false;
    total_size_ = 0;
    pending_ = 0;
    base_ = nullptr;
}

bool Bundle::open_config(const u8* data, usize size, InputError& err) {
    close();
    base_ = data;
    err.clear();
    bool ok = check_header(size, err);
    for (u32 i = 0; ok && i < pending_; ++i) ok = read_entry(i, err);
    ok = ok && check_layout(err) && check_data(static_cast<u32>(config_), err);
    if (!ok) {
        close();
        return false;
    }
    config_checked_ = true;
    return true;
}

bool Bundle::verify_rest(InputError& err) {
    TESSERA_ASSERT(config_checked_ && count_ == 0);
    err.clear();
    for (u32 i = 0; i < pending_; ++i) {
        if (i != config_ && !check_data(i, err)) {
            close();
            return false;
        }
    }
    count_ = pending_;
    return true;
}

bool Bundle::open(const u8* data, usize size, InputError& err) {
    return open_config(data, size, err) && verify_rest(err);
}

const Bundle::Entry& Bundle::entry(usize index) const {
    TESSERA_ASSERT(index < count_);
    return entries_[index];
}

const Bundle::Entry* Bundle::find(const char* name) const {
    for (usize i = 0; i < count_; ++i)
        if (rt::str_compare(entries_[i].name, name) == 0) return &entries_[i];
    return nullptr;
}

const Bundle::Entry& Bundle::config() const {
    TESSERA_ASSERT(config_checked_);
    return entries_[config_];
}

} // namespace tessera
