// hcall dispatch: one const table keyed by hcall number; unknown numbers get H_FUNCTION.
// The ISA's trap glue fills a Frame from the guest's registers (ppc64: r3 = opcode, r4..r12 =
// args) or from the caller's stack (ia32), calls dispatch(), and writes the status and rets back.
#pragma once

#include <tessera/arch.hpp>
#include <tessera/hcall.hpp>
#include <tessera/lpar_control.h>
#include <tessera/types.hpp>

namespace tessera {
class Lpar;
class Vcpu;
} // namespace tessera

namespace tessera::hcall {

inline constexpr usize kMaxArgs = 9; // r4..r12 on ppc64

struct Frame {
    u64 opcode;
    u64 args[kMaxArgs]; // inputs
    u64 rets[kMaxArgs]; // outputs, returned in r4.. (ppc64) / the documented slots (ia32)

    // All zero, by plain stores: zero-initialised arrays (`= {}`) of this size become a call to
    // memset, and the page-table hcalls' exit path (isa/ppc64/hcall_exit.cpp) builds a Frame for
    // every H_ENTER and H_REMOVE.
    Frame() : opcode(0) {
        for (usize i = 0; i < kMaxArgs; ++i) {
            args[i] = 0;
            rets[i] = 0;
        }
    }
};

// What the scheduler must do after the hcall returned to the guest's frame.
enum class After : u8 {
    Resume,   // run the caller again
    Block,    // the caller ceded: it waits until an interrupt is pending for it
    Yield,    // give up the rest of the time slice
    StopLpar, // the LPAR ended (power-off, os-term); the reason is in Lpar::stop_reason
    Offline,  // the caller stopped itself (RTAS stop-self) until a start-cpu
};

struct Env {
    Lpar& lpar;
    Vcpu& vcpu;
    After after = After::Resume;
};

using Handler = Ret (*)(Env& env, Frame& frame);

// One registration: the ISA-neutral list lives in hcall/dispatch.cpp, each ISA's own list in its
// <arch/hcalls.hpp> as `inline constexpr hcall::Entry tessera::arch::kIsaHcalls[]`.
struct Entry {
    u64 number;
    Handler handler;
};

// A list given as pointer + count: lets an ISA with no hcalls of its own yet say so
// (`inline constexpr hcall::EntryList kIsaHcalls{};`), since C++ has no empty arrays.
struct EntryList {
    const Entry* entries = nullptr;
    usize count = 0;
};

// The numbers a handler can be registered for: the architected range (multiples of 4 up to
// H_MAX_ARCHITECTED), every number of the implementation range H_IMPL_FIRST..H_IMPL_LAST, and
// the multiples of 4 of the management block TLPAR_HCALL_FIRST..TLPAR_HCALL_LAST
// (<tessera/lpar_control.h>).
inline constexpr usize kArchitectedSlots = H_MAX_ARCHITECTED / 4 + 1;
inline constexpr usize kImplSlots = H_IMPL_LAST - H_IMPL_FIRST + 1;
inline constexpr usize kManageSlots = (TLPAR_HCALL_LAST - TLPAR_HCALL_FIRST) / 4 + 1;

// Handlers by number; built at compile time in hcall/dispatch.cpp (a duplicate or out-of-range
// registration fails the build there). Occupancy is kept apart from the handler pointers:
// GCC 12 with -fsanitize=null cannot compare a function's address in a constant expression.
class Table {
  public:
    enum class Added : u8 { Ok, OutOfRange, Duplicate };

    constexpr Added add(const Entry& e) {
        usize i = slot(e.number);
        if (i == kNoSlot) return Added::OutOfRange;
        if (used_[i]) return Added::Duplicate;
        used_[i] = true;
        handlers_[i] = e.handler;
        return Added::Ok;
    }
    // Adds the entries in order; stops at (and returns) the first that is not Ok.
    template <usize N>
    constexpr Added add(const Entry (&list)[N]) {
        for (const Entry& e : list) {
            if (Added r = add(e); r != Added::Ok) return r;
        }
        return Added::Ok;
    }
    constexpr Added add(EntryList list) {
        for (usize i = 0; i < list.count; ++i) {
            if (Added r = add(list.entries[i]); r != Added::Ok) return r;
        }
        return Added::Ok;
    }
    // The handler for any 64-bit value; null for a number without one.
    constexpr Handler lookup(u64 number) const {
        usize i = slot(number);
        return i == kNoSlot ? nullptr : handlers_[i];
    }

  private:
    static constexpr usize kSlots = kArchitectedSlots + kImplSlots + kManageSlots;
    static constexpr usize kNoSlot = kSlots;
    static constexpr usize slot(u64 number) {
        if (number <= H_MAX_ARCHITECTED) return number % 4 == 0 ? number / 4 : kNoSlot;
        if (number >= H_IMPL_FIRST && number <= H_IMPL_LAST)
            return kArchitectedSlots + (number - H_IMPL_FIRST);
        if (number >= TLPAR_HCALL_FIRST && number <= TLPAR_HCALL_LAST)
            return number % 4 == 0
                       ? kArchitectedSlots + kImplSlots + (number - TLPAR_HCALL_FIRST) / 4
                       : kNoSlot;
        return kNoSlot;
    }

    Handler handlers_[kSlots] = {};
    bool used_[kSlots] = {};
};

// How an ISA's trap glue ends an hcall after dispatch(): true when the guest just continues;
// otherwise `exit` tells the core's run loop why vcpu_run returns. A cede whose vcpu's own timer
// has already expired continues (the ISA delivers the timer interrupt at once).
bool continues_after(const Env& env, VcpuExit& exit);

// Looks the opcode up and runs its handler. Never fails: numbers outside the table, not
// multiples of 4, or without a handler return H_FUNCTION.
Ret dispatch(Env& env, Frame& frame);

} // namespace tessera::hcall
