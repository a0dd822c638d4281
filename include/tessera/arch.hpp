// The arch contract: every hook an ISA backend (isa/<isa>/) or a platform (plat/<plat>/) provides
// to the ISA-neutral core. The core calls these by name; the build links exactly one ISA and one
// platform (CMake preset), so there is no virtual dispatch anywhere on a hot path.
//
// Per-ISA state is embedded by value in the core's objects: each ISA ships <arch/state.hpp>
// (found through the include path: isa/<isa>/include, or tests/fake/include for host tests)
// defining `tessera::arch::VcpuState` and `tessera::arch::LparState`.
//
// Calling context, unless a hook says otherwise: hypervisor context on the current physical CPU,
// external interrupts disabled (ppc64 MSR[EE]=0; ia32 IF=0), hypervisor address space.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/types.hpp>

namespace tessera {

class Lpar;
class Vcpu;

// A range of real memory described by the platform (RAM or a reservation).
struct RealRange {
    RealAddr base;
    u64 size = 0;
    constexpr RealAddr end() const { return base + size; }
};

// Why arch::vcpu_run() came back to the core. hcalls that just resume the guest are handled
// inside vcpu_run (through hcall::dispatch) and never come back here.
enum class VcpuExit : u8 {
    Preempted, // the time slice ended (HDEC / PIT-LAPIC)
    Ceded,     // the guest idles (H_CEDE / hlt) until an interrupt is pending for it
    Yielded,   // the guest gave up the rest of its slice
    Stopped,   // the LPAR ended through an hcall (power-off, test exit): see Lpar::state
    Offline,   // the vcpu stopped itself (RTAS stop-self); a start-cpu brings it back
    Fault,     // the guest did something fatal for its LPAR: it was crashed with the reason
};

// A Linux kernel and what comes with it: from the boot bundle, or staged in the LPAR's own
// memory by its creator (TLPAR_COPY_IN, then TLPAR_LOAD_STAGED): with `staged`, kernel and
// initrd are null and the images are at kernel_at and initrd_at in the LPAR (checked to lie
// inside it). common/linux_images.hpp reads both kinds the same way.
struct LinuxImages {
    const u8* kernel = nullptr; // the vmlinux ELF
    usize kernel_size = 0;
    const u8* initrd = nullptr; // null: none (unless staged)
    usize initrd_size = 0;      // 0: no initrd
    const char* cmdline = "";
    bool staged = false;
    LogicalAddr kernel_at; // staged only
    LogicalAddr initrd_at; // staged only
};
// Where and how a vcpu enters the guest: the core calls vcpu_init with these.
struct BootEntry {
    LogicalAddr entry;
    u64 args[4] = {};
    usize nargs = 0;
};
// What the hypervisor itself occupies in memory, for the line printed once at the end of a run
// (common/footprint.hpp): its image and the translation structures it handed out at run time.
struct Footprint {
    u64 image = 0;     // the image in memory, first byte to last: text, data, .bss
    u64 image_bss = 0; // of which .bss (static tables, stacks, arenas: zeroed at boot)
    // Translation structures handed out for the LPARs at run time (HTABs, page tables), in
    // bytes at their peak; runtime_known false when the ISA does not count them (yet).
    u64 runtime = 0;
    bool runtime_known = false;
    // Bytes of those structures still handed out when the line is printed: after the run every
    // LPAR has ended and given its own back, so anything but 0 is a leak (scripts/soak).
    u64 runtime_held = 0;
    char runtime_note[160] = {}; // what `runtime` is and where it comes from, or why unknown
};

namespace plat {
// ---- Platform hooks (plat/<plat>/) ----------------------------------------------------------

// Write bytes to the machine console (OPAL console / 16550). Never fails; may drop on overflow.
void console_write(const char* s, usize n);
// Read one byte from the machine console, or -1 when none is waiting. Never blocks.
int console_read();
// Power the machine off (QEMU exits with `code` where the platform can express one).
[[noreturn]] void power_off(int code);
// Real RAM of the machine, as ranges; returns how many were written (at most `max`).
usize memory_ranges(RealRange* out, usize max);
// Real memory the hypervisor must not hand out: firmware, its own image, the boot bundle.
usize reserved_ranges(RealRange* out, usize max);
// Where the boot bundle was placed by the loader (ppc64 initrd / multiboot module); size 0 if none.
RealRange boot_bundle();
// Frequency of arch::timebase() in Hz.
u64 timebase_hz();
// The machine's real-time clock in seconds since 1970-01-01T00:00:00Z (UTC); false when the
// platform has none or it cannot be read. Called once at boot (common/wall_clock).
bool rtc_read(u64& seconds);
// Firmware housekeeping the platform owes while the hypervisor runs (powernv: OPAL's pollers,
// which also keep the BMC watchdog that skiboot arms at hand-over from resetting the machine).
// The run loop calls it at least once per time slice; the platform rate-limits itself.
void service_firmware();
// The image's part of the footprint (Footprint::image, image_bss), from the linker script's
// symbols.
void image_footprint(Footprint& out);

// ---- Physical CPUs (common/run.cpp runs its loop on each) ------------------------------------
// How many physical CPUs the platform started, the boot CPU included (>= 1). They are numbered
// 0..cpu_count()-1 in the core (arch::cpu_index), 0 being the boot CPU. The secondaries enter
// the core through tessera::secondary_main (common/run.hpp).
u32 cpu_count();
// A physical IPI to CPU `cpu` (powernv: the ICP's MFRR): a CPU running a guest comes back to
// vcpu_run, which re-checks its vcpu (pending interrupts, a stopped LPAR); an idle one returns
// from idle_cpu(). Any context; never blocks. Sending to the own CPU is allowed.
void kick_cpu(u32 cpu);
// Waits, without spinning where the machine allows it (powernv: nap, pc: hlt), until a
// kick_cpu() for this CPU or until the timebase reaches `until` (0: no limit; a time already
// past returns at once); a kick sent before the call makes it return at once. May return
// spuriously. Not called on the boot CPU when the machine has one CPU.
void idle_cpu(u64 until);
// Takes a kick that interrupted a guest (vcpu_run, after an external interrupt exit).
void ack_kick();
} // namespace plat

namespace arch {
// ---- ISA hooks (isa/<isa>/) ------------------------------------------------------------------

// Early CPU setup: exception vectors / IDT+GDT+TSS, MMU state for the hypervisor itself.
void early_init();
// This physical CPU's number in the core: 0 for the boot CPU, then in the order the platform
// started them (plat::cpu_count()).
u32 cpu_index();
// Free-running time counter of this CPU (ppc64 timebase, ia32 TSC).
u64 timebase();

// Prepare an LPAR's translation structures (ppc64: HTAB, LPID, VRMA; ia32: shadow roots).
// Returns false when the ISA cannot host another LPAR (the core reports it and skips the LPAR).
bool lpar_init(Lpar& lpar);
// True when lpar_init needs all of the LPAR's memory zeroed at once (ppc64: the VRMA maps every
// chunk as the LPAR is created), false when each page is zeroed at its first use (ia32). When
// true the boot has idle CPUs zero what its LPARs will take while it checks the bundle.
bool lpar_init_zeroes_all_memory();
// Put a logical CPU in its architected entry state: start at `entry` with `args` in the
// argument registers (ppc64 r3.., ia32 eax, edx, ecx, ...), at most 4.
void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs);
// Run the vcpu on this physical CPU until it exits; `slice` is the preemption budget in
// timebase ticks. Pending virtual interrupts are delivered by vcpu_run itself when the guest can
// take them (otherwise it arranges to be told when it can: ppc64 LPCR[MER], ia32 the
// shared-page flag); hcalls go to hcall::dispatch from inside it.
// Called with the core lock held (common/core_lock.hpp); it drops the lock only while the guest
// runs and takes it again before it touches anything shared. With more than one physical CPU it
// calls core_events() after every hcall, returns Stopped once the LPAR has ended (another CPU
// may end it), and leaves nothing of the vcpu in the CPU (the next slice may be elsewhere).
VcpuExit vcpu_run(Vcpu& vcpu, u64 slice);
// True when the vcpu's own timer (ppc64 decrementer) has expired: wakes a ceded vcpu. The
// virtual interrupt controller's pending state is the core's and is checked by the core.
bool timer_pending(const Vcpu& vcpu);
// The timebase value at which that timer expires (or expired); 0 when the vcpu has none set.
// For a vcpu that does not run (Ceded): an idle CPU wakes then to wake it (common/run.cpp).
u64 timer_deadline(const Vcpu& vcpu);
// Loads a Linux kernel into the LPAR's memory the way this ISA boots it (ppc64: ELF + device
// tree + RTAS blob, entered kexec-style; ia32: ELF + boot_params at the PV entry) and says how
// the boot vcpu enters it. Runs after lpar_init. False with a reason in `why` on bad images.
// Staged images: no kernel segment may overwrite either staged range, and the initrd is moved
// to where the boot protocol wants it before anything else is written.
bool linux_load(Lpar& lpar, const LinuxImages& images, BootEntry& entry, char* why, usize why_len);
// Makes instruction fetches see what the hypervisor just wrote at `host` (a pointer into an LPAR's
// memory): ppc64 flushes the data cache lines and invalidates the instruction cache lines;
// coherent ISAs (ia32) do nothing.
void sync_icache(void* host, usize len);
// Zeroes memory that passes from one owner to another (ChunkPool's scrubber: whole zeroing
// granules, <arch/memory.hpp>; `host` 4 KiB aligned, `len` a multiple of 4 KiB) the fastest way
// the ISA has: ppc64 dcbz per 128-byte cache line, ia32 rep stosl.
void scrub(void* host, usize len);
// The LPAR has stopped: release its translation state so its chunks can be reused.
void lpar_teardown(Lpar& lpar);
// Fills the run-time part of `out` (runtime, runtime_known, runtime_note) from the ISA's own
// allocators. Any time, any context; meant for the end of a run.
void runtime_footprint(Footprint& out);

} // namespace arch
} // namespace tessera
