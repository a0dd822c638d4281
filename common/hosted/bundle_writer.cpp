#include "common/hosted/bundle_writer.hpp"

#include <cstring>
#include <set>

namespace tessera::bundle {

namespace {

u32 table_crc(const std::vector<u8>& b, u32 count) {
    static constexpr u8 zero[4] = {};
    constexpr usize at = offsetof(Header, table_crc);
    u32 crc = crc32(b.data(), at);
    crc = crc32(zero, sizeof(zero), crc);
    crc = crc32(b.data() + at + 4, kHeaderSize - at - 4, crc);
    return crc32(b.data() + kHeaderSize, usize{count} * kEntrySize, crc);
}

} // namespace

bool write_bundle(const std::vector<WriterEntry>& entries, std::vector<u8>& out,
                  std::string& error) {
    if (entries.empty()) {
        error = "a bundle needs at least one entry";
        return false;
    }
    if (entries.size() > kMaxEntries) {
        error = "too many entries (" + std::to_string(entries.size()) + ", at most " +
                std::to_string(kMaxEntries) + ")";
        return false;
    }
    std::set<std::string> names;
    for (const WriterEntry& e : entries) {
        if (!is_valid_name(e.name.data(), e.name.size()) ||
            e.name.find('\0') != std::string::npos) {
            error = "'" + e.name + "' is not a bundle entry name (1 to " +
                    std::to_string(kNameSize - 1) +
                    " letters, digits, '.', '_', '-', '+', starting with a letter or digit)";
            return false;
        }
        if (!names.insert(e.name).second) {
            error = "duplicate entry name '" + e.name + "'";
            return false;
        }
        if (e.data.empty()) {
            error = "entry '" + e.name + "' is empty";
            return false;
        }
    }

    u32 count = static_cast<u32>(entries.size());
    u64 at = align_up(kHeaderSize + u64{count} * kEntrySize, kAlign);
    std::vector<u64> offsets;
    for (const WriterEntry& e : entries) {
        offsets.push_back(at);
        at = align_up(at + e.data.size(), kAlign);
    }
    u64 total = offsets.back() + entries.back().data.size();

    out.assign(total, 0);
    std::memcpy(out.data(), kMagic, sizeof(kMagic));
    store_le32(&out[offsetof(Header, version)], kVersion);
    store_le32(&out[offsetof(Header, header_size)], kHeaderSize);
    store_le32(&out[offsetof(Header, entry_size)], kEntrySize);
    store_le32(&out[offsetof(Header, entry_count)], count);
    store_le64(&out[offsetof(Header, total_size)], total);
    for (u32 i = 0; i < count; ++i) {
        const WriterEntry& e = entries[i];
        u8* r = &out[kHeaderSize + usize{i} * kEntrySize];
        std::memcpy(r, e.name.data(), e.name.size());
        store_le32(r + offsetof(EntryRecord, kind), static_cast<u32>(e.kind));
        store_le64(r + offsetof(EntryRecord, offset), offsets[i]);
        store_le64(r + offsetof(EntryRecord, size), e.data.size());
        store_le32(r + offsetof(EntryRecord, data_crc), crc32(e.data.data(), e.data.size()));
        std::memcpy(&out[offsets[i]], e.data.data(), e.data.size());
    }
    reseal_table(out);
    return true;
}

void reseal_table(std::vector<u8>& bundle) {
    if (bundle.size() < kHeaderSize) return;
    u32 count = load_le32(&bundle[offsetof(Header, entry_count)]);
    if (count > kMaxEntries || bundle.size() < kHeaderSize + usize{count} * kEntrySize) return;
    store_le32(&bundle[offsetof(Header, table_crc)], table_crc(bundle, count));
}

} // namespace tessera::bundle
