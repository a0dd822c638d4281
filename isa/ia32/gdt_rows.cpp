#include "isa/ia32/gdt_rows.hpp"

#include "isa/ia32/descriptor.hpp"

namespace tessera::arch {
namespace {

// Stores only what differs: under QEMU a store to these pages costs far more than a load.
template <typename T>
void put(T& slot, const T& value) {
    if (!(slot == value)) slot = value;
}

u64 tls_entry(const TlsRaw& raw, unsigned i) {
    return desc::install(u64{raw.w[2 * i + 1]} << 32 | raw.w[2 * i]);
}

} // namespace

void tls_sets_loaded(TlsSets& sets, u64 window, const TlsRaw& raw) {
    if (window != sets.window) {
        sets = TlsSets{};
        sets.window = window;
    }
    for (unsigned r = 0; r < kGdtRows; ++r)
        if ((sets.valid & (1u << r)) && sets.raw[r] == raw) {
            sets.cur = static_cast<u8>(r);
            return;
        }
    const unsigned r = sets.next;
    sets.raw[r] = raw;
    sets.valid = static_cast<u16>(sets.valid | (1u << r));
    sets.cur = static_cast<u8>(r);
    sets.next = static_cast<u8>((r + 1) % kGdtRows);
}

void gdt_rows_write(const GdtRows& rows, const u64 (&window)[kGuestGdtEntries],
                    const TlsSets& sets) {
    for (unsigned r = 0; r < kGdtRows; ++r) {
        const bool valid = (sets.valid & (1u << r)) != 0;
        const u64 made = valid ? sets.window : 0;
        if (rows.made[r] == made &&
            (!valid || (rows.keys[r].limit != 0 && rows.keys[r].raw == sets.raw[r])))
            continue; // as it is (one new set at a miss rewrites only its own row)
        rows.made[r] = made;
        for (unsigned i = 0; i < kGuestGdtEntries; ++i) {
            u64 d = 0;
            if (valid && i >= kTlsFirst && i < kTlsFirst + kTlsCount)
                d = tls_entry(sets.raw[r], i - kTlsFirst);
            else if (valid)
                d = window[i];
            put(rows.gdt[r][i], d);
        }
        TlsKey key{};
        if (valid) {
            key.raw = sets.raw[r];
            key.limit = static_cast<u16>(kGdtEntries * 8 - 1);
            key.base = rows.row0 + r * kGdtEntries * 8;
        }
        put(rows.keys[r], key);
    }
}

bool gdt_rows_resync(TlsSets& sets, unsigned row, u64 (&window)[kGuestGdtEntries]) {
    if (row == sets.cur || row >= kGdtRows || !(sets.valid & (1u << row))) return false;
    sets.cur = static_cast<u8>(row);
    bool changed = false;
    for (unsigned i = 0; i < kTlsCount; ++i) {
        const u64 d = tls_entry(sets.raw[row], i);
        changed = changed || window[kTlsFirst + i] != d;
        window[kTlsFirst + i] = d;
    }
    return changed;
}

} // namespace tessera::arch
