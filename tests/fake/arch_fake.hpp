// What the fake ISA (tests/fake/arch_fake.cpp) lets a unit test control: each vcpu_run calls
// `guest`, a scripted stand-in for guest code that makes hcalls through fake::hcall().
#pragma once

#include "hcall/dispatch.hpp"

#include <functional>
#include <tessera/arch.hpp>

namespace tessera::fake {

extern std::function<VcpuExit(Vcpu&)> guest;
extern bool lpar_init_ok;
// When set, arch::linux_load loads as a small ISA would: the kernel (an EM_PPC64 ELF, from the
// bundle or staged) through common/linux_images at its physical addresses, the initrd moved or
// copied to the next MiB above it; the boot entry gets (initrd address, initrd size). When
// clear (the default) it refuses every kernel with an empty reason.
extern bool linux_loads;
extern u64 timebase_now;
// What arch::sync_icache was last asked for, and how often.
extern void* icache_synced_at;
extern usize icache_synced_len;
extern unsigned icache_syncs;
// What arch::cpu_index returns on this thread (a test thread that plays a secondary CPU sets it).
extern thread_local u32 this_cpu;

struct HcallResult {
    hcall::Ret status;
    hcall::After after;
    u64 rets[hcall::kMaxArgs];
};
// An hcall from `v` as the ISA glue makes it (dispatch with an Env for v's LPAR).
HcallResult hcall(Vcpu& v, u64 opcode, u64 a0 = 0, u64 a1 = 0, u64 a2 = 0);
// The VcpuExit the ISA glue turns an hcall's `after` into (nullopt-like: Resume -> false).
bool exit_for(hcall::After after, VcpuExit& exit);

} // namespace tessera::fake
