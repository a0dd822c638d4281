// LPAR management at run time (docs/management.md): what a control LPAR asks for through the
// management hcalls (hcall/manage.cpp, numbers in <tessera/lpar_control.h>). Every operation
// validates its arguments completely before it changes anything and answers with a PAPR status
// plus a TLPAR_E_* reason.
//
// State machine (common/lpar.hpp): create -> Created --load--> Loaded --start--> Running
// --stop/guest power-off/crash--> Stopped|Crashed; destroy from any state (not the caller's
// own) frees the slot. Memory comes from the machine's free chunks; destroy (and the end of an
// LPAR) gives every chunk and translation structure back (common/lifecycle.hpp).
//
// Authority: the hcall layer lets only `control = yes` LPARs in. Copy-in reaches only an LPAR
// the caller created and has not loaded yet.
//
// Console: every LPAR that is not on the machine console keeps its output in a history (the
// newest kHistory bytes, from its start); reading consumes it. One writer holds a token.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/hcall.hpp>
#include <tessera/lpar_control.h>
#include <tessera/types.hpp>

#include "common/lpar.hpp"

namespace tessera {
class Bundle;
class ChunkPool;
} // namespace tessera

namespace tessera::manage {

inline constexpr usize kHistory = TLPAR_CONSOLE_HISTORY;
inline constexpr usize kCmdlineMax = TLPAR_CMDLINE_MAX;
// What a graceful stop types on the guest's console: SysRq (Ctrl-O on a pseries hvc console)
// s (sync) then o (power off). Linux's hvc driver takes it from the console it prints to.
inline constexpr char kGracefulStopKeys[] = "\x0fs\x0fo";

struct Outcome {
    hcall::Ret status = hcall::H_SUCCESS;
    u64 reason = TLPAR_E_NONE;
    bool ok() const { return status == hcall::H_SUCCESS; }
};

// An LPAR's console output, oldest bytes dropped first when full.
class History {
  public:
    void clear();
    void push(const u8* bytes, usize n);
    usize take(u8* out, usize max); // oldest first
    usize size() const { return size_; }
    u64 lost() const { return lost_; }

  private:
    u8 buf_[kHistory] = {};
    usize head_ = 0; // index of the oldest byte
    usize size_ = 0;
    u64 lost_ = 0;
};

class Manager {
  public:
    // Enters a Loaded LPAR's vcpus and hands them to the scheduler (the run loop's).
    using StartHook = bool (*)(Lpar& lpar);
    // For an LPAR that is no longer Running: kicks the physical CPUs that still run one of its
    // vcpus and, with `wait`, waits (the core lock dropped) until each has handed it back. True
    // once no CPU runs one of its vcpus; false without `wait` while one does, or as soon as
    // `waiter` (the LPAR whose hcall waits) is no longer Running: its own CPU may be the one
    // another CPU waits for. The run loop's leave_cpus (common/run.hpp); without it (host tests)
    // a vcpu is on a CPU when its `pcpu` says so.
    using LeaveHook = bool (*)(Lpar& lpar, const Lpar* waiter, bool wait);

    void init(LparTable& lpars, ChunkPool& pool, const Bundle* bundle, StartHook start_hook,
              u64 ticks_per_ms, LeaveHook leave_hook = nullptr);
    bool ready() const { return lpars_ != nullptr; }
    void shutdown() { lpars_ = nullptr; } // unready again (host tests end their machine)

    Outcome create(Lpar& caller, const char* name, u64 memory, u64 vcpus, const char* lans,
                   u32& id);
    Outcome load(Lpar& caller, u64 id, u64 how, const char* kernel, const char* initrd);
    // TLPAR_LOAD_STAGED: Linux from a kernel ELF (and an initrd, initrd_len 0: none) that the
    // caller copied into the target's memory; both ranges inside the target, not overlapping.
    Outcome load_staged(Lpar& caller, u64 id, LogicalAddr kernel, u64 kernel_len,
                        LogicalAddr initrd, u64 initrd_len);
    Outcome copy_in(Lpar& caller, u64 id, LogicalAddr dst, LogicalAddr src, u64 len);
    Outcome set_cmdline(Lpar& caller, u64 id, const char* text, usize len);
    Outcome start(Lpar& caller, u64 id);
    Outcome stop(Lpar& caller, u64 id, bool force, u64 deadline_ms, u64 now);
    Outcome destroy(Lpar& caller, u64 id);
    // The LPAR for a status query (any state), or nullptr with the outcome set.
    Lpar* find(u64 id, Outcome& out);
    u32 next_id(u64 after);
    u32 flags(const Lpar& caller, const Lpar& lpar) const; // TLPAR_F_*

    Outcome console_read(u64 id, u8* out, usize max, usize& n, u64& lost);
    Outcome console_attach(u64 id, bool force, u64& token);
    Outcome console_write(u64 id, u64 token, const u8* in, usize len, usize& n);
    Outcome console_detach(u64 id, u64 token);

    // Keeps the LPAR's console output in its history (an LPAR not on the machine console).
    void watch_console(Lpar& lpar);
    // Graceful stops whose deadline passed become forced stops. The run loop calls it.
    void tick(u64 now);

    u64 free_bytes() const;
    u64 total_bytes() const;

  private:
    struct Record {
        char cmdline[kCmdlineMax] = {};
        bool stopping = false;
        bool leaving = false; // a stop or destroy waits for its vcpus to leave their CPUs
        u64 deadline = 0;
        bool console_held = false;
        u64 console_token = 0;
        History history;
        void reset(); // in place: a Record is too large for a hypervisor stack
    };
    Record& record(const Lpar& lpar) { return records_[lpar.id - 1]; }
    Outcome target(Lpar& caller, u64 id, Lpar*& out);
    // Keeps a failed load's reason in the LPAR's status (it stays Created) or marks it Loaded.
    Outcome loaded(Lpar& lpar, bool ok, const char* why);
    // Stops the LPAR now. Its chunks go back at once when none of its vcpus is on a CPU (after
    // waiting for them with `wait`); otherwise the run loop gives them back when the last one
    // is handed back (common/run.cpp reap_if_ended).
    void force_stop(Lpar& lpar, const char* why, const Lpar* waiter, bool wait);
    bool off_cpus(Lpar& lpar, const Lpar* waiter, bool wait);
    static void history_sink(void* ctx, vty::Terminal& term);

    LparTable* lpars_ = nullptr;
    ChunkPool* pool_ = nullptr;
    const Bundle* bundle_ = nullptr;
    StartHook start_ = nullptr;
    LeaveHook leave_ = nullptr;
    u64 ticks_per_ms_ = 1;
    u64 next_token_ = 1;
    Record records_[kMaxLpars];
};

// The machine's manager (boot sets it up; unset in a build that has no bundle).
Manager& machine();

} // namespace tessera::manage
