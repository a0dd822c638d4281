// The GDT rows of a physical CPU: X86_GDT_ROWS copies of its GDT that differ only in the guest's
// TLS entries (window entries X86_TLS_FIRST.., Linux's TLS slots), so that a guest kernel's
// switch between threads with different TLS is an lgdt the switcher does, not an exit.
//
// A vcpu keeps the TLS sets it loaded (TlsSets: up to X86_GDT_ROWS, for its current window
// besides them). The CPU it runs on has one GDT row per set: its window with that set's TLS
// entries, validated (desc::install), and a key in the switcher's data page: the set as the
// guest wrote it. Rows and keys are read-only for guests. The guest kernel passes the TLS
// entries it wants, as it wrote them, in six registers to int $X86_SWITCH_TLS_VECTOR (DPL 1;
// switcher.S sw_switch_tls); the switcher loads the row keyed with them (eax = 0) or changes
// nothing (eax = 1: the guest loads its GDT, the `tables` exit, and the set gets a row). After
// a trap the hypervisor reads which row the CPU has (gdt_rows_resync): that set's entries are
// the vcpu's, as if its lgdt had loaded them.
//
// Isolation: whenever a CPU's rows are written for a vcpu (its tables changed, or another ran
// there), every row not made from this very window and set is rewritten: its sets' rows, and
// null entries and no key in the others, so no row keeps another vcpu's entries (a window's
// number is never reused, so another vcpu's rows never pass for this one's).
//
// Ownership: a CPU's rows and keys are written only by that CPU; a vcpu's TlsSets by whoever
// runs it (under the core lock).
#pragma once

#include <arch/state.hpp>
#include <arch/x86.hpp>
#include <tessera/types.hpp>

namespace tessera::arch {

inline constexpr unsigned kTlsFirst = X86_TLS_FIRST, kTlsCount = X86_TLS_COUNT;
inline constexpr unsigned kGdtEntries = X86_GDT_ENTRIES;
static_assert(kTlsFirst + kTlsCount <= kGuestGdtEntries && kTlsCount * 2 == 6);
static_assert(kGdtRows * kGdtEntries * 8 <= 4096, "the rows fill one page");
static_assert(kGdtRows <= 16, "TlsSets::valid has a bit per row");

// A row's key in the switcher data page (switcher.S sw_tls_keys): the TLS entries the row was
// made from, as the guest wrote them, and the row's lgdt operand (limit 0: no row).
struct TlsKey {
    TlsRaw raw;
    u16 pad;
    u16 limit;
    u32 base;
    bool operator==(const TlsKey&) const = default;
};
static_assert(sizeof(TlsKey) == X86_TLS_KEY_BYTES && __builtin_offsetof(TlsKey, limit) == 26 &&
              __builtin_offsetof(TlsKey, base) == 28); // switcher.S reads them there

// A CPU's rows as the hypervisor writes them: kGdtRows full GDTs one after the other, their
// keys, what each row's guest entries were made from (the TlsSets::window; 0: null entries),
// and the address the CPU sees row 0 at (lgdt).
struct GdtRows {
    u64 (*gdt)[kGdtEntries];
    TlsKey* keys;
    u64* made;
    u32 row0;
};

// The guest's lgdt: `raw` is the TLS set it loaded, `window` names the rest of its window
// (TlsSets::window: the same number while it stays the same). Its sets are kept only then; the
// set becomes the current one (a new set takes the next place, round robin).
void tls_sets_loaded(TlsSets& sets, u64 window, const TlsRaw& raw);

// Writes the CPU's rows for a vcpu with this window and these sets: row r has set r, the rows of
// no set null guest entries and no key. A row made from the same window (sets.window) with the
// same key is left as it is; else its entries are written where they differ.
void gdt_rows_write(const GdtRows& rows, const u64 (&window)[kGuestGdtEntries],
                    const TlsSets& sets);

// After a trap the CPU has row `row` in GDTR: when it is another set of the vcpu than its
// current one (the switcher loaded it), that set becomes current, and its entries the window's.
// True when the window changed.
bool gdt_rows_resync(TlsSets& sets, unsigned row, u64 (&window)[kGuestGdtEntries]);

} // namespace tessera::arch
