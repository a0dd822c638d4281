// The GDT rows of a CPU (isa/ia32/gdt_rows.hpp): a vcpu's TLS sets, the rows and keys written
// for them (validated, nothing of another vcpu left), and the switcher's move between them as
// the hypervisor takes it after a trap.
#include "isa/ia32/gdt_rows.hpp"

#include "isa/ia32/descriptor.hpp"

#include <doctest/doctest.h>

using namespace tessera;
using namespace tessera::arch;

namespace {

constexpr u32 kRow0 = 0xffc02000;
constexpr u64 kWindow = 7; // a TlsSets::window

// A CPU's rows page and keys, filled with garbage as another vcpu might have left them.
struct Cpu {
    u64 gdt[kGdtRows][kGdtEntries];
    TlsKey keys[kGdtRows];
    u64 made[kGdtRows] = {};
    Cpu() {
        for (u64& m : made) m = 99; // made from another vcpu's window
        for (auto& row : gdt)
            for (u64& d : row) d = 0x00cff3000000ffffull; // a DPL-3 data segment everywhere
        for (auto& k : keys) {
            k = TlsKey{};
            k.raw.w[0] = 0x1234;
            k.limit = 7;
        }
        for (unsigned r = 0; r < kGdtRows; ++r)
            for (unsigned i = kGuestGdtEntries; i < kGdtEntries; ++i) gdt[r][i] = 0x5000 + i;
    }
    GdtRows rows() { return GdtRows{gdt, keys, made, kRow0}; }
};

// A TLS set whose first entry is a user data segment at `base` (as a guest writes it: DPL 3,
// not accessed); the others null.
TlsRaw set_at(u32 base) {
    const u64 d = (u64{0xffff}) | (u64{base & 0xffffff} << 16) | (u64{0xf2} << 40) |
                  (u64{0xc} << 52) | (u64{0xf} << 48) | (u64{base >> 24} << 56);
    TlsRaw raw{};
    raw.w[0] = static_cast<u32>(d);
    raw.w[1] = static_cast<u32>(d >> 32);
    return raw;
}

u64 first(const TlsRaw& raw) {
    return u64{raw.w[1]} << 32 | raw.w[0];
}

// A window: Linux-like kernel segments at 12 and 13, a per-CPU segment at 27.
void window_of(u64 (&w)[kGuestGdtEntries], u32 percpu) {
    for (u64& d : w) d = 0;
    w[12] = desc::install(0x00cf9a000000ffffull);
    w[13] = desc::install(0x00cf92000000ffffull);
    w[27] = desc::install(0x00c0920000000000ull | (u64{percpu & 0xffffff} << 16));
}

// A vcpu that loaded two sets (at 0x1000, then 0x2000: the current one) with window_of's window.
TlsSets two_sets(u64 (&window)[kGuestGdtEntries]) {
    window_of(window, 0x00400000);
    TlsSets sets{};
    tls_sets_loaded(sets, kWindow, set_at(0x1000));
    tls_sets_loaded(sets, kWindow, set_at(0x2000));
    window[kTlsFirst] = desc::install(first(set_at(0x2000)));
    return sets;
}

} // namespace

TEST_CASE("gdt rows: a vcpu's TLS sets, one per lgdt of a new set, kept while the window is") {
    TlsSets sets{};
    tls_sets_loaded(sets, kWindow, set_at(0x1000));
    tls_sets_loaded(sets, kWindow, set_at(0x2000));
    CHECK(sets.valid == 0b11);
    CHECK(sets.cur == 1);
    tls_sets_loaded(sets, kWindow, set_at(0x1000)); // known: no new place
    CHECK(sets.valid == 0b11);
    CHECK(sets.cur == 0);
    tls_sets_loaded(sets, kWindow + 1, set_at(0x3000)); // another window: the old sets go
    CHECK(sets.valid == 0b1);
    CHECK(sets.cur == 0);
    CHECK(sets.raw[0] == set_at(0x3000));
    // More sets than rows: round robin, the newest always current.
    for (u32 i = 1; i <= 2 * kGdtRows; ++i) {
        tls_sets_loaded(sets, kWindow + 1, set_at(0x3000 + 0x1000 * i));
        CHECK(sets.raw[sets.cur] == set_at(0x3000 + 0x1000 * i));
    }
    CHECK(sets.valid == (1u << kGdtRows) - 1);
}

TEST_CASE("gdt rows: each set's row is the window with that set, validated; the rest null") {
    Cpu cpu;
    u64 window[kGuestGdtEntries];
    TlsSets sets = two_sets(window);
    gdt_rows_write(cpu.rows(), window, sets);
    for (unsigned r = 0; r < 2; ++r) {
        const TlsRaw want = set_at(r == 0 ? 0x1000 : 0x2000);
        CHECK(cpu.keys[r].raw == want);
        CHECK(cpu.keys[r].limit == kGdtEntries * 8 - 1);
        CHECK(cpu.keys[r].base == kRow0 + r * kGdtEntries * 8);
        CHECK(cpu.gdt[r][kTlsFirst] == desc::install(first(want)));
        CHECK(desc::access(cpu.gdt[r][kTlsFirst]) == 0xf3); // installed: accessed
        CHECK(cpu.gdt[r][kTlsFirst + 1] == 0);
        CHECK(cpu.gdt[r][12] == window[12]);
        CHECK(cpu.gdt[r][27] == window[27]);
        CHECK(cpu.gdt[r][5] == 0);
    }
    // Rows of no set: no key (the switcher never loads them) and no guest entry left.
    for (unsigned r = 2; r < kGdtRows; ++r) {
        CHECK(cpu.keys[r] == TlsKey{});
        for (unsigned i = 0; i < kGuestGdtEntries; ++i) CHECK(cpu.gdt[r][i] == 0);
    }
    // The hypervisor's entries are never touched.
    for (unsigned r = 0; r < kGdtRows; ++r)
        for (unsigned i = kGuestGdtEntries; i < kGdtEntries; ++i)
            CHECK(cpu.gdt[r][i] == 0x5000 + i);
}

TEST_CASE("gdt rows: another vcpu on the CPU finds only its own entries and keys") {
    Cpu cpu;
    u64 w1[kGuestGdtEntries], w2[kGuestGdtEntries];
    window_of(w1, 0x00400000);
    window_of(w2, 0x00800000);
    TlsSets one{}, two{};
    for (u32 i = 0; i < 5; ++i) tls_sets_loaded(one, kWindow, set_at(0x1000 * (i + 1)));
    tls_sets_loaded(two, kWindow + 1, set_at(0x9000));
    gdt_rows_write(cpu.rows(), w1, one);
    gdt_rows_write(cpu.rows(), w2, two);
    CHECK(cpu.keys[0].raw == set_at(0x9000));
    CHECK(cpu.gdt[0][27] == w2[27]);
    for (unsigned r = 1; r < kGdtRows; ++r) {
        CHECK(cpu.keys[r] == TlsKey{});
        for (unsigned i = 0; i < kGuestGdtEntries; ++i) CHECK(cpu.gdt[r][i] == 0);
    }
}

TEST_CASE("gdt rows: the switcher's row becomes the vcpu's current set after a trap") {
    u64 window[kGuestGdtEntries];
    TlsSets sets = two_sets(window);
    // The row the vcpu already has, a row beyond the rows, a row of no set: nothing changes.
    CHECK_FALSE(gdt_rows_resync(sets, 1, window));
    CHECK_FALSE(gdt_rows_resync(sets, kGdtRows, window));
    CHECK_FALSE(gdt_rows_resync(sets, 5, window));
    CHECK(sets.cur == 1);
    CHECK(window[kTlsFirst] == desc::install(first(set_at(0x2000))));
    // Row 0: its set is current, its entries (validated) the window's.
    CHECK(gdt_rows_resync(sets, 0, window));
    CHECK(sets.cur == 0);
    CHECK(window[kTlsFirst] == desc::install(first(set_at(0x1000))));
    CHECK(window[12] == desc::install(0x00cf9a000000ffffull));
    // The same set in two places (not made by tls_sets_loaded, but harmless): a move, no change.
    sets.raw[1] = sets.raw[0];
    CHECK_FALSE(gdt_rows_resync(sets, 1, window));
    CHECK(sets.cur == 1);
}

TEST_CASE("gdt rows: a set the guest wrote as a system descriptor installs as null") {
    Cpu cpu;
    u64 window[kGuestGdtEntries];
    window_of(window, 0x00400000);
    TlsRaw gate{};
    gate.w[0] = 0x00010000; // a call gate to 0x100:0 (the hypervisor's code), DPL 3
    gate.w[1] = 0x0000ec00;
    TlsSets sets{};
    tls_sets_loaded(sets, kWindow, gate);
    gdt_rows_write(cpu.rows(), window, sets);
    CHECK(cpu.keys[0].raw == gate);
    CHECK(cpu.gdt[0][kTlsFirst] == 0);
}

TEST_CASE("gdt rows: a new set rewrites its own row only; a new window or vcpu all of them") {
    Cpu cpu;
    u64 window[kGuestGdtEntries];
    TlsSets sets = two_sets(window);
    gdt_rows_write(cpu.rows(), window, sets);
    // Mark rows 0 and 1 as a later write would find them if it skipped them (a write that
    // touched them would put the window's entry back).
    cpu.gdt[0][20] = 0x1111;
    cpu.gdt[1][20] = 0x2222;
    tls_sets_loaded(sets, kWindow, set_at(0x3000)); // a miss: the set takes row 2
    gdt_rows_write(cpu.rows(), window, sets);
    CHECK(cpu.gdt[0][20] == 0x1111);
    CHECK(cpu.gdt[1][20] == 0x2222);
    CHECK(cpu.keys[2].raw == set_at(0x3000));
    CHECK(cpu.gdt[2][kTlsFirst] == desc::install(first(set_at(0x3000))));
    CHECK(cpu.gdt[2][12] == window[12]);
    // The same window under another number (another lgdt that changed it, or another vcpu):
    // every row is written again.
    sets.window = kWindow + 5;
    gdt_rows_write(cpu.rows(), window, sets);
    CHECK(cpu.gdt[0][20] == window[20]);
    CHECK(cpu.gdt[1][20] == window[20]);
}
