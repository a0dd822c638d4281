// The console multiplexer: one machine console (plat::console_write / console_read) shared by
// the hypervisor's own messages and every LPAR's vty.
//
// Output. Each source writes through the multiplexer. Once a second LPAR is attached, every
// LPAR line starts with the LPAR's name, `[lpar-a] `, for the rest of the run (hypervisor lines
// carry no prefix), so that a reader or a script can tell the LPARs apart. LPAR output is held
// until its line is complete (or kLineMax long), alone or not: lines of concurrent LPARs do not
// interleave mid-line, and a line costs one write to the machine console however the guest
// writes it (Linux's early console makes one H_PUT_TERM_CHAR per character, and one console
// write through OPAL costs about as much as a whole line); the focused LPAR's
// partial line (a prompt, typed echo) is also written by poll_input() once it has waited
// kPartialLineHoldMs (a line the guest writes in several 16-byte hcalls stays whole). A partial
// line is prefixed once, at its start; if another source writes before it is finished, the
// multiplexer ends it with "\r\n" first and the rest of it, when it comes, is prefixed again.
//
// Input. Bytes typed on the machine console go to the vty of the LPAR that has the focus (at
// first the first one attached). Ctrl-] (0x1d, as in `xl console` and `virsh console`) starts a
// command; QEMU keeps its own Ctrl-A keys (Ctrl-A x leaves it):
//   Ctrl-] 1..9     focus the LPAR attached in that position (as listed by Ctrl-] ?; n/p
//                   reach the ones after the ninth)
//   Ctrl-] n / p    focus the next / previous attached LPAR
//   Ctrl-] Ctrl-]   send one Ctrl-] to the focused LPAR
//   Ctrl-] ?        list the LPARs and these keys
// Any other byte after Ctrl-], or a digit with no LPAR at that position, is discarded and
// answered with a one-line hint. A focus change is announced on the console with the
// position and name of the LPAR that now gets the input.
// Input with no LPAR attached, or past a full vty input buffer, is dropped and counted.
//
// Not reentrant: callers serialise (the hypervisor runs its core on one CPU at a time).
#pragma once

#include <tessera/types.hpp>

#include "common/vty.hpp"

namespace tessera::console {

inline constexpr usize kMaxTerminals = 16;    // >= kMaxLpars (checked in tests/unit/console_test)
inline constexpr usize kNameMax = 32;         // including the terminator; longer names are cut
inline constexpr u8 kEscape = 0x1d;           // Ctrl-]
inline constexpr usize kPollBudget = 256;     // bytes poll_input() takes per call at most
inline constexpr u64 kPartialLineHoldMs = 50; // the focused LPAR's partial line waits this long
// An LPAR line is held whole up to this many bytes; a longer one goes out in pieces, and another
// source writing between them breaks it. 256 holds the test LPARs' longest line (a 200-byte note
// and its "# ") and any kernel message line.
inline constexpr usize kLineMax = 256;

class Multiplexer {
  public:
    constexpr Multiplexer() = default;
    Multiplexer(const Multiplexer&) = delete; // terminals hold pointers into it
    Multiplexer& operator=(const Multiplexer&) = delete;

    // Registers an LPAR's terminal under `name` and connects its output; pending early output
    // is written at once. Returns its position (0-based; Ctrl-] position+1 focuses it), or -1
    // when all positions are taken or the terminal is already attached.
    int attach(const char* name, vty::Terminal& term);
    // Disconnects the terminal (its LPAR ended); the focus moves on if it had it.
    void detach(vty::Terminal& term);

    // Says which LPAR gets the keyboard and how to change it, when more than one LPAR is
    // attached (boot calls it once every LPAR is); nothing with one.
    void greet();

    // The hypervisor's own output (the log).
    void write_hypervisor(const char* s, usize n);

    // Writes the focused LPAR's held partial line once it has waited kPartialLineHoldMs of
    // timebase, then drains plat::console_read() (at most kPollBudget bytes) and routes each
    // byte. The core (the boot CPU) calls it between vcpu slices and when idle.
    void poll_input();
    // Routes one input byte (escape handling, then the focused LPAR's vty).
    void input(u8 byte);

    int focus() const { return focus_; }        // position, or -1 when nothing is attached
    bool set_focus(int position);               // false (no change) for an unused position
    bool prefixing() const { return several_; } // a second LPAR has been attached
    u64 dropped_input() const { return dropped_input_; }

  private:
    static constexpr int kNoSource = -2;
    static constexpr int kHypervisor = -1;

    // Output is held until its line is complete (or kLineMax long); the focused LPAR's partial
    // line also goes out from poll_input() once it has waited kPartialLineHoldMs.
    struct Slot {
        Multiplexer* mux = nullptr;
        vty::Terminal* term = nullptr; // null: position unused
        char name[kNameMax] = {};
        char line[kLineMax] = {};
        usize line_len = 0;
        u64 held_since = 0; // timebase when the held line's first byte came
    };

    void hold_or_emit(int source, const char* s, usize n);
    void flush_line(int source);

    static void on_output(void* ctx, vty::Terminal& term);
    void emit(int source, const char* s, usize n);
    void write_raw(const char* s, usize n);
    void command(u8 key);
    int step_focus(int direction) const;
    void announce_focus();
    void help();

    Slot slots_[kMaxTerminals];
    int focus_ = -1;
    int last_source_ = kNoSource; // who wrote the last byte
    bool at_line_start_ = true;   // the last byte written was '\n' (or nothing was written)
    bool escape_ = false;         // Ctrl-] seen, waiting for the command key
    bool several_ = false;        // more than one LPAR has been attached: prefix every line
    u64 dropped_input_ = 0;
};

// The machine console's multiplexer. Lock: the core lock (common/core_lock.hpp); only the boot
// CPU polls the input.
Multiplexer& mux();

} // namespace tessera::console
