// Logical partitions and logical CPUs: the objects every other part of the core hangs off.
//
// Lifecycle of an LPAR:   Created --load--> Loaded --start--> Running --> Stopped | Crashed
// (Created/Loaded may also go straight to Stopped/Crashed when loading fails.) Stopped and
// Crashed are final. An LPAR may have more logical CPUs than the machine has physical ones: the
// scheduler (common/sched.hpp) time-slices them.
// An LPAR owns its logical memory (chunks), its logical CPUs, its virtual interrupt controller
// and its logical devices (vty). ISA state is embedded by value (arch::LparState/VcpuState).
#pragma once

#include <arch/state.hpp>
#include <tessera/addr.hpp>
#include <tessera/arch.hpp>
#include <tessera/types.hpp>

#include "common/chunks.hpp"
#include "common/vio.hpp"
#include "common/vty.hpp"
#include "common/xics.hpp"

namespace tessera {

inline constexpr usize kMaxLpars = 16;
inline constexpr usize kMaxVcpusPerLpar = 8; // also the number of XICS servers per LPAR
inline constexpr usize kLparNameMax = 32;    // including the terminator
inline constexpr usize kStopReasonMax = 96;  // including the terminator
inline constexpr u32 kNoPcpu = 0xffff'ffff;  // Vcpu::pcpu when not on a physical CPU
// The vty's interrupt: a level-triggered XICS source, asserted while keyboard input waits.
// Masked at power-on like every source; a guest that wants it unmasks it (RTAS ibm,set-xive).
inline constexpr u32 kVtyIrq = xics::kFirstSource;

enum class LparState : u8 { Created, Loaded, Running, Stopped, Crashed };
enum class VcpuState : u8 {
    Offline,  // not started yet (secondary CPUs wait for the guest to start them)
    Runnable, // wants a physical CPU
    Running,  // on a physical CPU now
    Ceded,    // idle until an interrupt is pending for it (H_CEDE / hlt)
    Stopped,  // its LPAR ended
};

// Why LparTable::create refused.
enum class LparError : u8 {
    None,
    EmptyName,
    NameTooLong, // kLparNameMax - 1 characters at most
    BadName,     // only printable ASCII without spaces (it appears in logs and device trees)
    DuplicateName,
    NoVcpus,
    TooManyVcpus, // more than kMaxVcpusPerLpar
    TableFull,    // kMaxLpars LPARs exist already
};

const char* to_string(LparState s);
const char* to_string(VcpuState s);
const char* to_string(LparError e);

class Lpar;

class Vcpu {
  public:
    Lpar* lpar = nullptr;
    u32 index = 0; // logical CPU number within its LPAR = its XICS server number
    VcpuState state = VcpuState::Offline;
    u64 slices = 0; // how many time slices it was given
    // Its cedes while the machine had several CPUs, and those that cede polling ended by running
    // it again (common/run.cpp, cede_poll; for the report). Lock: the core lock.
    u64 cedes = 0, cedes_polled = 0;
    // Scheduler bookkeeping (common/sched.hpp).
    u32 pcpu = kNoPcpu;        // the physical CPU it is on, while picked
    u32 last_pcpu = kNoPcpu;   // the physical CPU of its last slice (where its state is warm)
    u32 claimed_by = kNoPcpu;  // an idle CPU kicked to run it (claim_idle); the others leave it
    u64 ready_seq = 0;         // when it last became Runnable; lowest runs first
    bool wake_pending = false; // woken while Running: a cede does not put it to sleep
    u32 ran_on = 0;            // bit n: it had a slice on physical CPU n (for the report)
    // Processor hcalls (hcall/processor.cpp): areas the guest registered (logical addresses,
    // 0 = none) and a pending H_PROD.
    u64 vpa = 0, slb_shadow = 0, dtl = 0;
    bool prodded = false;
    arch::VcpuState arch{};
};

class Lpar {
  public:
    u32 id = 0; // 1-based; 0 is "no LPAR" (free chunks)
    char name[kLparNameMax] = {};
    LparState state = LparState::Created;
    char stop_reason[kStopReasonMax] = {}; // why it stopped or crashed (truncated), for the report

    LogicalMap memory;
    Vcpu vcpus[kMaxVcpusPerLpar];
    u32 vcpu_count = 0;
    xics::Controller xics;
    vty::Terminal vty;
    vio::Bus vio; // TCE windows and virtual I/O devices (pointers into static device tables)
    arch::LparState arch{};

    // How its vcpus enter the guest once it starts (filled while loading): only vcpu 0 (Linux,
    // which starts the others itself), or every vcpu with its index replacing args[0] (test
    // LPARs).
    BootEntry boot;
    bool boot_all_vcpus = false;

    // Physical CPUs its vcpus may run on (`cpu-affinity`), bit n = CPU n; 0 = any. The scheduler
    // (common/sched.hpp) honours it; run_lpars stops an LPAR whose mask names no CPU it has.
    u32 cpu_affinity = 0;
    bool may_run_on(u32 pcpu) const {
        return cpu_affinity == 0 || (pcpu < 32 && ((cpu_affinity >> pcpu) & 1));
    }

    // The LPAR's time of day minus the machine's (RTAS set-time-of-day), in nanoseconds.
    i64 tod_offset_ns = 0;

    // Management (common/manage.hpp): a control LPAR (`control = yes`) may use the management
    // hcalls; `creator` is the id of the control LPAR that created this one at run time (0: the
    // configuration made it). `released` is set once its chunks and translation structures went
    // back to the machine (common/lifecycle.hpp).
    bool control = false;
    u32 creator = 0;
    bool released = false;
    // Set by LparTable::remove for a slot whose LPAR had virtual I/O devices: those live in
    // static tables and still name this Lpar (a LAN still lists its adapter, a CRQ partner its
    // device), so the slot is never given to another LPAR, which would receive their traffic.
    bool retired = false;

    // A test LPAR's own verdict, from H_TESSERA_TEST_EXIT (hcall/test.cpp).
    struct TestReport {
        bool reported = false;
        u64 passed = 0;
        u64 failed = 0;
    } test;

    // Lifecycle transitions; each returns false (and changes nothing) when not allowed from the
    // current state.
    bool mark_loaded();             // Created -> Loaded
    bool start();                   // Loaded -> Running, boot vcpu 0 becomes Runnable
    bool stop(const char* reason);  // orderly end (guest power-off)
    bool crash(const char* reason); // guest misbehaviour: ends this LPAR only
    bool is_live() const { return state == LparState::Running; }
    bool has_ended() const { return state == LparState::Stopped || state == LparState::Crashed; }
    // stop/crash mark every vcpu Stopped. A vcpu that is on another physical CPU at that moment
    // keeps its `pcpu` until that CPU hands it back (Scheduler::put_back), which removes it.

    // A secondary logical CPU started by the guest (RTAS start-cpu / SIPI): Offline -> Runnable.
    // False when the LPAR is not Running, the index is out of range or the vcpu is not Offline.
    bool start_vcpu(u32 index);

    // Sets the vty's interrupt line (kVtyIrq) from whether input is waiting: after keyboard
    // input arrived (the run loop) and after the guest took some (H_GET_TERM_CHAR).
    void sync_vty_irq();

  private:
    bool finish(LparState final_state, const char* reason);
};

// The LPARs of the machine, in static slots. Ids are slot + 1, so 1..kMaxLpars.
class LparTable {
  public:
    // A new LPAR in state Created with `vcpu_count` Offline vcpus, or nullptr (reason in *error
    // when error is not null).
    Lpar* create(const char* name, u32 vcpu_count, LparError* error = nullptr);

    // Frees the LPAR's slot: every field back to its initial value (its resources must have been
    // released already, common/lifecycle.hpp). The slot is reused unless the LPAR had virtual
    // I/O devices (Lpar::retired). Nothing for an LPAR not in the table.
    void remove(Lpar& lpar);

    Lpar* by_id(u32 id);
    Lpar* by_name(const char* name);
    usize count() const;

    // Iterates over the LPARs that exist (any state; check is_live() for Running ones).
    class Iterator {
      public:
        Iterator(Lpar* at, Lpar* end) : at_(at), end_(end) { skip(); }
        Lpar& operator*() const { return *at_; }
        Iterator& operator++() {
            ++at_;
            skip();
            return *this;
        }
        bool operator==(const Iterator& o) const { return at_ == o.at_; }

      private:
        void skip() {
            while (at_ != end_ && at_->id == 0) ++at_;
        }
        Lpar* at_;
        Lpar* end_;
    };
    Iterator begin() { return Iterator(slots_, slots_ + kMaxLpars); }
    Iterator end() { return Iterator(slots_ + kMaxLpars, slots_ + kMaxLpars); }

  private:
    Lpar slots_[kMaxLpars]; // id 0 = free slot
};

} // namespace tessera
