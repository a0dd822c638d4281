// The boot bundle's on-disk format, version 1 (docs/bundle-format.md), shared by the hypervisor's
// reader (common/bundle.cpp) and the host packer's writer (common/hosted/bundle_writer.cpp).
//
//   offset 0                 Header (64 bytes)
//   offset 64                Entry records (80 bytes each, entry_count of them, at most 32)
//   next 4 KiB boundary      entry data, each entry at a 4 KiB-aligned offset, no overlaps
//   total_size               end of the bundle (the end of the last entry's data)
//
// Every multi-byte field is little-endian. The structs below document the layout and give the
// field offsets (offsetof); code never casts bundle memory to them (the bundle may be unaligned
// and the hosts may differ in endianness): it reads and writes fields with the load/store helpers.
#pragma once

#include <stddef.h>
#include <tessera/bytes.hpp>
#include <tessera/types.hpp>

namespace tessera::bundle {

inline constexpr u8 kMagic[8] = {'T', 'E', 'S', 'S', 'E', 'R', 'A', '\0'};
inline constexpr u32 kVersion = 1;
inline constexpr u32 kHeaderSize = 64;
inline constexpr u32 kEntrySize = 80;
inline constexpr u32 kMaxEntries = 32;
inline constexpr usize kNameSize = 48; // a name is 1..47 characters, NUL-padded to 48 bytes
// Entry data alignment: the smallest page size of both ISAs, so an entry could be mapped in place
// with base pages, while small test-LPAR programs waste at most 4 KiB of padding each.
inline constexpr u64 kAlign = 4 * KiB;

enum class EntryKind : u32 {
    Config = 1, // the LPAR configuration text (exactly one per bundle)
    Kernel = 2, // a guest kernel or test-LPAR program
    Initrd = 3, // an initial ramdisk
    Blob = 4,   // anything else, carried along
};

struct Header {
    u8 magic[8];     // kMagic
    u32 version;     // kVersion
    u32 header_size; // kHeaderSize
    u32 entry_size;  // kEntrySize
    u32 entry_count; // 1..kMaxEntries
    u64 total_size;  // bytes from the start of the header to the end of the last entry's data
    u32 table_crc;   // CRC-32 of the header (with this field as zero) followed by the records
    u8 reserved[28]; // zero
};

struct EntryRecord {
    char name[kNameSize]; // NUL-terminated, zero-padded; see is_name_char()
    u32 kind;             // EntryKind
    u32 flags;            // zero
    u64 offset;           // from the start of the bundle, a multiple of kAlign
    u64 size;             // bytes of data, at least 1
    u32 data_crc;         // CRC-32 of the data
    u32 reserved;         // zero
};

static_assert(sizeof(Header) == kHeaderSize);
static_assert(offsetof(Header, version) == 8 && offsetof(Header, header_size) == 12);
static_assert(offsetof(Header, entry_size) == 16 && offsetof(Header, entry_count) == 20);
static_assert(offsetof(Header, total_size) == 24 && offsetof(Header, table_crc) == 32);
static_assert(offsetof(Header, reserved) == 36);
static_assert(sizeof(EntryRecord) == kEntrySize);
static_assert(offsetof(EntryRecord, kind) == 48 && offsetof(EntryRecord, flags) == 52);
static_assert(offsetof(EntryRecord, offset) == 56 && offsetof(EntryRecord, size) == 64);
static_assert(offsetof(EntryRecord, data_crc) == 72 && offsetof(EntryRecord, reserved) == 76);
// The header and a full table fit in the first 4 KiB, before the first entry's data.
static_assert(kHeaderSize + kMaxEntries * kEntrySize <= kAlign);

// Entry names (and the names the LPAR configuration refers to): letters, digits, '.', '_', '-'
// and '+'; the first character is a letter or a digit.
constexpr bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '+';
}
constexpr bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
// True for a valid entry name of `len` characters (no terminator needed).
constexpr bool is_valid_name(const char* s, usize len) {
    if (len == 0 || len >= kNameSize || !is_name_start(s[0])) return false;
    for (usize i = 0; i < len; ++i)
        if (!is_name_char(s[i])) return false;
    return true;
}

constexpr const char* to_string(EntryKind k) {
    switch (k) {
    case EntryKind::Config:
        return "config";
    case EntryKind::Kernel:
        return "kernel";
    case EntryKind::Initrd:
        return "initrd";
    case EntryKind::Blob:
        return "blob";
    }
    return "unknown";
}

// The load/store helpers (<tessera/bytes.hpp>), also by these names.
using tessera::load_le32;
using tessera::load_le64;
using tessera::store_le32;
using tessera::store_le64;

// CRC-32 as in zlib, gzip and PNG (reflected polynomial 0xEDB88320, initial and final inversion):
// crc32(data, n) of a whole buffer, or chained: crc32(b, nb, crc32(a, na)) == crc32(a || b).
u32 crc32(const void* data, usize n, u32 crc = 0);

} // namespace tessera::bundle
