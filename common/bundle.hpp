// The boot bundle reader: validates a bundle the loader handed over (format in
// <tessera/bundle_format.hpp> and docs/bundle-format.md) completely before anything uses it, then
// gives access to its entries by name or in table order.
#pragma once

#include <tessera/bundle_format.hpp>
#include <tessera/types.hpp>

namespace tessera {

// A message about bad input (a bundle, a configuration), for the console or the packer. Each
// message names the place: "bundle: entry 3 (\"vmlinux\"): ..." or "lpars.conf:7: ...".
struct InputError {
    static constexpr usize kCapacity = 256;
    char text[kCapacity] = {};

    void set(const char* fmt, ...) __attribute__((format(printf, 2, 3))); // truncates
    void clear() { text[0] = '\0'; }
    bool is_set() const { return text[0] != '\0'; }
    const char* c_str() const { return text; }
};

class Bundle {
  public:
    struct Entry {
        char name[bundle::kNameSize] = {}; // a copy, NUL-terminated
        bundle::EntryKind kind = bundle::EntryKind::Blob;
        u32 index = 0;  // position in the table
        u64 offset = 0; // from the start of the bundle
        usize size = 0; // bytes at `data`, at least 1
        u32 crc = 0;    // CRC-32 of the data (checked)
        const u8* data = nullptr;
    };

    // Validates the bundle at [data, data + size) - size is what the loader provides; the bundle
    // may be shorter (its total_size) but not longer. Checks, in this order: the header (size,
    // magic, version, sizes, counts), the header/table checksum, every entry record (name, kind,
    // alignment, bounds, no overlaps, unique names), exactly one config entry, then every entry's
    // data checksum. On success the bundle is open and refers to `data` (which must stay valid);
    // on failure it returns false with the first problem in `err` and the bundle is empty.
    bool open(const u8* data, usize size, InputError& err);
    // open() in two steps, so that the boot can act on the configuration while the images are
    // checked (common/boot.cpp: idle CPUs start zeroing the configured LPARs' memory):
    // open_config() makes every check above but the data checksums of the entries other than
    // the config entry, whose checksum it checks; after it only config() may be used.
    // verify_rest() checks the other entries' data and opens the bundle. The first failure
    // leaves the bundle empty, as open()'s does.
    bool open_config(const u8* data, usize size, InputError& err);
    bool verify_rest(InputError& err);

    bool is_open() const { return count_ != 0; }
    usize count() const { return count_; }
    u64 total_size() const { return total_size_; }
    const u8* base() const { return base_; }

    const Entry& entry(usize index) const; // index < count()
    const Entry* find(const char* name) const;
    const Entry& config() const; // the one config entry (once open_config() succeeded)

    // for (const Bundle::Entry& e : bundle): in table order.
    const Entry* begin() const { return entries_; }
    const Entry* end() const { return entries_ + count_; }

  private:
    bool check_header(usize size, InputError& err);
    bool read_entry(u32 index, InputError& err);
    bool check_layout(InputError& err);
    bool check_data(u32 index, InputError& err) const;
    void close();

    Entry entries_[bundle::kMaxEntries];
    usize count_ = 0; // 0 until open() succeeded
    usize config_ = 0;
    u64 total_size_ = 0;
    const u8* base_ = nullptr;
    u32 pending_ = 0;             // entries being validated by open()
    bool config_checked_ = false; // open_config() succeeded: config_ names the checked entry
};

} // namespace tessera
