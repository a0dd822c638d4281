// The test-LPAR library: what every test program sees, the same on every ISA.
//
// A test LPAR is a freestanding program run by the hypervisor as a guest (docs/test-lpars.md).
// Every logical CPU enters lpar_main() (below) after the ISA stub (tests/lpar/isa/<isa>/) set up
// its stack; when vcpu 0 returns from it, finish() reports and ends the LPAR, when another vcpu
// returns it idles until the LPAR ends. The ISA side of this header is <lpar_isa.hpp>
// (tests/lpar/isa/<isa>/lpar_isa.hpp): the trap frame, timer, interrupt enable, hcall instruction.
//
// Rules for interrupt handlers: they run on the interrupted stack with interrupts disabled; they
// must not print or check (the console lock may be held by the code they interrupted): they
// record what they saw in memory, the program checks it afterwards.
#pragma once

#include <inttypes.h> // PRIu64 & co.: u64 is unsigned long on ppc64, unsigned long long on ia32

#include <stdarg.h>
#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include <lpar_isa.hpp>

namespace lpar {

using tessera::i64;
using tessera::u32;
using tessera::u64;
using tessera::u8;
using tessera::usize;

inline constexpr unsigned kMaxVcpus = 8;

// ---- What the hypervisor hands each vcpu (the guest ABI, docs/test-lpars.md) ---------------
struct Boot {
    unsigned vcpu = 0;       // this vcpu's index = its XICS server number
    u64 memory_size = 0;     // the LPAR's logical memory in bytes, from logical 0
    unsigned vcpu_count = 0; // vcpus of the LPAR
    unsigned htab_log2 = 0;  // ppc64: log2 of the HTAB size in bytes (ibm,pft-size); else 0
    isa::EntryState entry;   // ISA-specific entry state (ppc64: the MSR at entry)
};

// ---- hcalls --------------------------------------------------------------------------------
struct HcallResult {
    i64 status = 0;
    u64 ret[9] = {};
};

inline HcallResult hcall_args(u64 number, const u64 (&args)[9]) {
    HcallResult r;
    r.status = isa::hcall_raw(number, args, r.ret);
    return r;
}
// hcall(H_CPPR, 0xff): up to 9 arguments, unused ones are 0.
template <typename... Args>
HcallResult hcall(u64 number, Args... a) {
    static_assert(sizeof...(Args) <= 9, "an hcall takes at most 9 arguments");
    const u64 args[9] = {static_cast<u64>(a)...};
    return hcall_args(number, args);
}

// An hcall made through the ISA's register probe: every register the hcall ABI preserves is
// loaded with a pattern derived from `seed` before the call and compared after it. `clobbered`
// is an ISA-defined mask of the registers that changed (0 = the ABI held); describe_clobbered
// names them (and shows the first one's values).
struct ProbeResult {
    HcallResult hcall;
    u64 clobbered = 0;
    u64 first_got = 0, first_want = 0; // the first changed register: its value and the pattern
};
ProbeResult hcall_probe(u64 number, const u64 (&args)[9], u64 seed);
void describe_clobbered(const ProbeResult& r, char* buf, usize cap);

const char* status_name(i64 status); // "H_PARAMETER", or "?" for a code Tessera does not define
bool valid_status(i64 status);       // a PAPR return code (tessera/hcall.hpp or another LoPAR one)

// ---- Console (the LPAR's vty) ------------------------------------------------------------
inline constexpr u64 kVtyTermno = 0x30000000;

void print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void vprint(const char* fmt, va_list ap);
void write(const char* s, usize n); // raw bytes, 16 at a time through H_PUT_TERM_CHAR
// Takes up to 16 waiting input bytes (H_GET_TERM_CHAR); returns how many (0 when none).
usize read_some(char* buf, usize cap);
// Reads one line (up to '\r' or '\n', not stored) for at most `timeout_ticks` of timebase,
// idling between polls. Returns false on timeout (what arrived so far is in buf).
bool read_line(char* buf, usize cap, u64 timeout_ticks);
// Like rt::format, for building details: snprintf semantics.
usize format(char* buf, usize cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// ---- Checks --------------------------------------------------------------------------------
// Each check prints one line, `ok - WHAT` or `FAIL - WHAT (DETAILS)`, and is counted. They may be
// made from any vcpu (a lock keeps lines whole), never from an interrupt handler.
class Detail {
  public:
    Detail() = default;
    Detail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    const char* text() const { return buf_; }

  private:
    char buf_[160] = {};
};

bool check(bool ok, const char* what, ...) __attribute__((format(printf, 2, 3)));
bool check(bool ok, const Detail& why, const char* what, ...) __attribute__((format(printf, 3, 4)));
// `got` == `want`, else FAIL with both values.
bool check_eq(u64 got, u64 want, const char* what, ...) __attribute__((format(printf, 3, 4)));
// An hcall status: FAIL names both codes.
bool check_status(i64 got, i64 want, const char* what, ...) __attribute__((format(printf, 3, 4)));
// A comment line: `# ...` (not counted).
void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

unsigned passed();
unsigned failed();
// Prints `N passed, M failed` and ends the LPAR with H_TESSERA_TEST_EXIT (all vcpus). vcpu 0
// first waits (bounded) for the other vcpus to return from lpar_main.
[[noreturn]] void finish();

// ---- vcpus, time, interrupts ----------------------------------------------------------------
// Per-vcpu state the library keeps; this_vcpu() is found through the ISA (ppc64: r13).
struct Vcpu {
    unsigned index = 0;
    Boot boot;
    // Timer (ppc64: decrementer): ticks counts timer interrupts; a non-zero period re-arms it.
    // Fields that handlers change are read with load_acquire() (they are not volatile).
    u64 timer_ticks = 0;
    u64 timer_period = 0;
    // External interrupts (XICS), handled by the library unless a program registers its own:
    // H_XIRR, for an IPI H_IPI(self, 0xff), then H_EOI.
    u64 ext_count = 0;
    u64 ext_spurious = 0; // H_XIRR said nothing was pending
    u64 last_xirr = 0;
    i64 last_xirr_status = 0;
    i64 last_eoi_status = 0;
    u32 done = 0;       // returned from lpar_main
    u32 lock_depth = 0; // console lock nesting on this vcpu
};

Vcpu& this_vcpu();
Vcpu& vcpu(unsigned index);
const Boot& boot(); // this vcpu's

u64 ticks_per_ms();
u64 now(); // timebase ticks

class Deadline {
  public:
    explicit Deadline(u64 ticks) : end_(now() + ticks) {}
    static Deadline ms(u64 ms) { return Deadline(ms * ticks_per_ms()); }
    bool expired() const { return static_cast<i64>(now() - end_) >= 0; }
    u64 remaining() const { return expired() ? 0 : end_ - now(); }

  private:
    u64 end_;
};

// Idles the vcpu (H_CEDE) for at most `ticks` or until an interrupt is delivered; restores the
// interrupt-enable state it found.
void idle(u64 ticks);
// Waits until pred() holds, idling `step_ms` at a time; false on timeout.
template <typename Pred>
bool wait_until(Pred pred, u64 timeout_ms, u64 step_ms = 1) {
    Deadline d = Deadline::ms(timeout_ms);
    while (!pred()) {
        if (d.expired()) return pred();
        idle(step_ms * ticks_per_ms());
    }
    return true;
}
// Busy-waits (no hcall, interrupts as they are) until pred() holds; false on timeout.
template <typename Pred>
bool spin_until(Pred pred, u64 timeout_ms) {
    Deadline d = Deadline::ms(timeout_ms);
    while (!pred()) {
        if (d.expired()) return pred();
        isa::cpu_relax();
    }
    return true;
}

// Trap handlers: vector -> function. Unregistered vectors are reported as a failure and end the
// LPAR. The timer and external vectors have library handlers (see Vcpu); registering replaces.
using TrapHandler = void (*)(isa::TrapFrame& frame);
void set_trap_handler(u64 vector, TrapHandler h);
void default_timer_handler(isa::TrapFrame& frame);
void default_external_handler(isa::TrapFrame& frame);

// ---- Shared-memory helpers -----------------------------------------------------------------
class SpinLock {
  public:
    void lock() {
        while (__atomic_exchange_n(&v_, 1u, __ATOMIC_ACQUIRE) != 0) {
            while (__atomic_load_n(&v_, __ATOMIC_RELAXED) != 0) isa::cpu_relax();
        }
    }
    void unlock() { __atomic_store_n(&v_, 0u, __ATOMIC_RELEASE); }

  private:
    u32 v_ = 0;
};

template <typename T>
T load_acquire(const T& v) {
    return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}
template <typename T>
void store_release(T& v, T x) {
    __atomic_store_n(&v, x, __ATOMIC_RELEASE);
}
template <typename T>
T fetch_add(T& v, T x) {
    return __atomic_fetch_add(&v, x, __ATOMIC_SEQ_CST);
}

// A small deterministic pseudo-random generator (64-bit LCG, Knuth's MMIX constants; the high
// half is returned mixed, the low bits of an LCG being weak).
class Lcg {
  public:
    explicit constexpr Lcg(u64 seed) : s_(seed) {}
    u64 next() {
        s_ = s_ * 6364136223846793005ull + 1442695040888963407ull;
        u64 x = s_;
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        return x ^ (x >> 32);
    }
    u64 below(u64 n) { return n ? next() % n : 0; }

  private:
    u64 s_;
};

// ---- ISA hooks defined out of line by tests/lpar/isa/<isa>/ ---------------------------------
namespace isa {
// Checks this vcpu's entry state against the guest ABI (counted checks).
void check_entry_state(const Boot& boot);
// One line describing a trap for the "unexpected interrupt" report.
void describe_trap(const TrapFrame& frame, char* buf, usize cap);
// Executes something that is not an instruction; the hypervisor must stop the LPAR.
[[noreturn]] void execute_garbage();
// chaos: the ISA's own hcalls worth hammering, a hook run once before (ppc64: notes the HTAB
// entries the hypervisor put there, which random H_REMOVE/H_PROTECT must not hit), and a filter
// that fixes or refuses (false) random arguments that could hurt the caller itself.
extern const u64 kChaosHcalls[];
extern const usize kChaosHcallCount;
void chaos_prepare(const Boot& boot);
bool chaos_sanitize(u64 number, u64 (&args)[9]);
} // namespace isa

} // namespace lpar

// The program: every vcpu enters here (docs/test-lpars.md).
void lpar_main(const lpar::Boot& boot);
