// Fuzzes the boot bundle reader (common/bundle.cpp) with whole bundles. The first byte chooses
// whether the harness reseals the checksums (table CRC and every in-bounds entry's data CRC) so
// that mutations reach the layout checks behind them. An opened bundle must describe only bytes
// inside what it was given, with valid unique names and exactly one config entry.
#include "common/bundle.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <vector>

using namespace tessera;
using namespace tessera::bundle;

namespace {

void reseal(std::vector<u8>& b) {
    if (b.size() < kHeaderSize) return;
    const u32 count = load_le32(&b[20]);
    usize records = count < kMaxEntries ? count : kMaxEntries;
    if (kHeaderSize + records * kEntrySize > b.size())
        records = (b.size() - kHeaderSize) / kEntrySize;
    for (usize i = 0; i < records; ++i) {
        u8* r = &b[kHeaderSize + i * kEntrySize];
        const u64 off = load_le64(r + 56), size = load_le64(r + 64);
        if (off <= b.size() && size <= b.size() - off) store_le32(r + 72, crc32(&b[off], size));
    }
    store_le32(&b[32], 0);
    store_le32(&b[32], crc32(b.data(), kHeaderSize + records * kEntrySize));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    if (size == 0) return 0;
    const bool fix = data[0] & 1;
    std::vector<u8> b(data + 1, data + size);
    if (fix) reseal(b);

    static Bundle bundle; // large (32 entries): static, as in the hypervisor
    InputError err;
    if (!bundle.open(b.data(), b.size(), err)) {
        FUZZ_CHECK(err.is_set() && !bundle.is_open());
        FUZZ_CHECK(std::strlen(err.c_str()) < InputError::kCapacity);
        return 0;
    }
    FUZZ_CHECK(bundle.count() >= 1 && bundle.count() <= kMaxEntries);
    FUZZ_CHECK(bundle.total_size() <= b.size());
    usize configs = 0;
    for (const Bundle::Entry& e : bundle) {
        const usize len = std::strlen(e.name);
        FUZZ_CHECK(is_valid_name(e.name, len));
        FUZZ_CHECK(e.size >= 1 && e.offset % kAlign == 0);
        FUZZ_CHECK(e.offset >= kHeaderSize + bundle.count() * kEntrySize);
        FUZZ_CHECK(e.offset <= bundle.total_size() && e.size <= bundle.total_size() - e.offset);
        FUZZ_CHECK(e.data == b.data() + e.offset);
        FUZZ_CHECK(crc32(e.data, e.size) == e.crc);
        FUZZ_CHECK(bundle.find(e.name) == &e);
        for (const Bundle::Entry& o : bundle) {
            if (&o == &e) continue;
            FUZZ_CHECK(o.offset >= e.offset + e.size || e.offset >= o.offset + o.size);
        }
        if (e.kind == EntryKind::Config) ++configs;
    }
    FUZZ_CHECK(configs == 1 && bundle.config().kind == EntryKind::Config);
    return 0;
}
