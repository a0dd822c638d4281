#include "common/console.hpp"

#include <tessera/arch.hpp>

#include "common/rt/format.hpp"
#include "common/rt/string.hpp"

namespace tessera::console {

namespace {
constinit Multiplexer g_mux;
}

Multiplexer& mux() {
    return g_mux;
}

int Multiplexer::attach(const char* name, vty::Terminal& term) {
    int free_slot = -1;
    for (usize i = 0; i < kMaxTerminals; ++i) {
        if (slots_[i].term == &term) return -1;
        if (slots_[i].term == nullptr && free_slot < 0) free_slot = static_cast<int>(i);
    }
    if (free_slot < 0) return -1;
    Slot& slot = slots_[free_slot];
    slot.mux = this;
    slot.term = &term;
    rt::str_copy(slot.name, name != nullptr ? name : "?", sizeof(slot.name));
    if (focus_ < 0) focus_ = free_slot;
    for (usize i = 0; i < kMaxTerminals; ++i)
        if (slots_[i].term != nullptr && static_cast<int>(i) != free_slot) several_ = true;
    term.connect(&Multiplexer::on_output, &slot);
    return free_slot;
}

void Multiplexer::detach(vty::Terminal& term) {
    for (usize i = 0; i < kMaxTerminals; ++i) {
        if (slots_[i].term != &term) continue;
        flush_line(static_cast<int>(i));
        term.disconnect();
        // Whoever takes this position next is a new speaker and gets named.
        if (last_source_ == static_cast<int>(i)) last_source_ = kNoSource;
        slots_[i] = Slot{};
        if (focus_ == static_cast<int>(i)) {
            focus_ = step_focus(+1); // i itself is unused now: the next one, or -1
            if (focus_ >= 0) announce_focus();
        }
        return;
    }
}

void Multiplexer::on_output(void* ctx, vty::Terminal& term) {
    Slot& slot = *static_cast<Slot*>(ctx);
    u8 buf[128];
    while (usize n = term.take_output(buf, sizeof(buf))) {
        slot.mux->hold_or_emit(static_cast<int>(&slot - slot.mux->slots_),
                               reinterpret_cast<const char*>(buf), n);
    }
}

void Multiplexer::flush_line(int source) {
    Slot& slot = slots_[source];
    if (slot.line_len == 0) return;
    usize n = slot.line_len;
    slot.line_len = 0;
    emit(source, slot.line, n);
}

void Multiplexer::hold_or_emit(int source, const char* s, usize n) {
    Slot& slot = slots_[source];
    for (usize i = 0; i < n; ++i) {
        if (slot.line_len == 0) slot.held_since = arch::timebase();
        slot.line[slot.line_len++] = s[i];
        if (s[i] == '\n' || slot.line_len == kLineMax) flush_line(source);
    }
}

void Multiplexer::greet() {
    if (several_ && focus_ >= 0) announce_focus();
}

void Multiplexer::write_hypervisor(const char* s, usize n) {
    emit(kHypervisor, s, n);
}

void Multiplexer::write_raw(const char* s, usize n) {
    plat::console_write(s, n);
}

void Multiplexer::emit(int source, const char* s, usize n) {
    if (n == 0) return;
    if (source != last_source_) {
        if (!at_line_start_) write_raw("\r\n", 2);
        at_line_start_ = true;
        last_source_ = source;
    }
    while (n > 0) {
        if (at_line_start_ && source >= 0 && several_) {
            char prefix[kNameMax + 4];
            usize len = rt::format(prefix, sizeof(prefix), "[%s] ", slots_[source].name);
            write_raw(prefix, len < sizeof(prefix) ? len : sizeof(prefix) - 1);
        }
        const void* nl = rt::mem_find(s, '\n', n);
        usize line = nl != nullptr ? static_cast<usize>(static_cast<const char*>(nl) - s) + 1 : n;
        write_raw(s, line);
        at_line_start_ = s[line - 1] == '\n';
        s += line;
        n -= line;
    }
}

void Multiplexer::poll_input() {
    // The focused LPAR's unfinished line (a prompt, the echo of what was typed) is shown once it
    // has waited a little: a line written in several hcalls, perhaps across a time slice of
    // another LPAR, stays whole.
    if (focus_ >= 0 && slots_[focus_].line_len != 0) {
        const u64 hold = plat::timebase_hz() / 1000 * kPartialLineHoldMs;
        if (arch::timebase() - slots_[focus_].held_since >= hold) flush_line(focus_);
    }
    for (usize i = 0; i < kPollBudget; ++i) {
        int c = plat::console_read();
        if (c < 0) return;
        input(static_cast<u8>(c));
    }
}

void Multiplexer::input(u8 byte) {
    if (escape_) {
        escape_ = false;
        if (byte != kEscape) {
            command(byte);
            return;
        }
    } else if (byte == kEscape) {
        escape_ = true;
        return;
    }
    if (focus_ < 0 || slots_[focus_].term->feed(&byte, 1) != 1) ++dropped_input_;
}

void Multiplexer::command(u8 key) {
    char line[80];
    usize len = 0;
    if (key >= '1' && key <= '9' && static_cast<usize>(key - '1') < kMaxTerminals) {
        if (set_focus(key - '1')) {
            announce_focus();
            return;
        }
        len = rt::format(line, sizeof(line), "-- no LPAR at %c now (Ctrl-] ? lists them)\n", key);
    } else if (key == 'n' || key == 'p') {
        int next = step_focus(key == 'n' ? +1 : -1);
        if (next >= 0 && set_focus(next)) announce_focus();
        return;
    } else if (key == '?') {
        help();
        return;
    } else {
        len = rt::format(line, sizeof(line),
                         "-- Ctrl-] 0x%02x is not a console key (Ctrl-] ? lists them)\n", key);
    }
    write_hypervisor(line, len < sizeof(line) ? len : sizeof(line) - 1);
}

bool Multiplexer::set_focus(int position) {
    if (position < 0 || position >= static_cast<int>(kMaxTerminals)) return false;
    if (slots_[position].term == nullptr) return false;
    focus_ = position;
    flush_line(position); // a held partial line (a prompt) is what the user wants to see now
    return true;
}

// The attached position after (direction +1) or before (-1) the focus, wrapping around; the
// focus itself when it is the only one; -1 when nothing is attached.
int Multiplexer::step_focus(int direction) const {
    constexpr int n = static_cast<int>(kMaxTerminals);
    int from = focus_ < 0 ? (direction > 0 ? n - 1 : 0) : focus_;
    for (int k = 1; k <= n; ++k) {
        int i = ((from + direction * k) % n + n) % n;
        if (slots_[i].term != nullptr) return i;
    }
    return -1;
}

void Multiplexer::announce_focus() {
    char line[kNameMax + 64];
    usize len =
        rt::format(line, sizeof(line), "-- console input now goes to %d %s (Ctrl-] ? for help)\n",
                   focus_ + 1, slots_[focus_].name);
    write_hypervisor(line, len < sizeof(line) ? len : sizeof(line) - 1);
}

void Multiplexer::help() {
    static_assert(kMaxTerminals >= 9, "the help text names the digit keys 1..9");
    static constexpr char kKeys[] =
        "-- Tessera console keys: Ctrl-] 1..9: focus that LPAR, Ctrl-] n/p: next/previous,"
        " Ctrl-] Ctrl-]: send Ctrl-], Ctrl-] ?: this help\n"
        "-- QEMU's keys stay on Ctrl-A (Ctrl-A x: leave QEMU, Ctrl-A h: its help)\n";
    write_hypervisor(kKeys, sizeof(kKeys) - 1);
    for (usize i = 0; i < kMaxTerminals; ++i) {
        if (slots_[i].term == nullptr) continue;
        char line[kNameMax + 32];
        usize len = rt::format(line, sizeof(line), "--   %zu %s%s\n", i + 1, slots_[i].name,
                               static_cast<int>(i) == focus_ ? " (input)" : "");
        write_hypervisor(line, len < sizeof(line) ? len : sizeof(line) - 1);
    }
}

} // namespace tessera::console
