// Writes boot bundles (format in <tessera/bundle_format.hpp>). Hosted only: built for the host
// (the packer, unit tests), never into a hypervisor image.
#pragma once

#include <string>
#include <tessera/bundle_format.hpp>
#include <tessera/types.hpp>
#include <vector>

namespace tessera::bundle {

struct WriterEntry {
    std::string name;
    EntryKind kind = EntryKind::Blob;
    std::vector<u8> data;
};

// Lays out `entries` in order - the header, the table, then each entry's data at the next 4 KiB
// boundary, the bundle ending with the last entry's data - and returns the bytes in `out`.
// Refuses what no reader would accept (no entries, more than kMaxEntries, a bad or duplicate
// name, empty data) with a message in `error`. It does not require a config entry, so that tests
// can build bundles without one.
bool write_bundle(const std::vector<WriterEntry>& entries, std::vector<u8>& out,
                  std::string& error);

// Recomputes the header's table_crc after the header or table were edited (for tests that build
// deliberately broken bundles).
void reseal_table(std::vector<u8>& bundle);

} // namespace tessera::bundle
