// Host stand-in for the ISA hooks of include/tessera/arch.hpp, driven by unit tests.
#include "tests/fake/arch_fake.hpp"

#include "common/core_lock.hpp"
#include "common/elf_loader.hpp"
#include "common/linux_images.hpp"
#include "common/lpar.hpp"
#include "common/rt/format.hpp"
#include "common/run.hpp"
#include "tests/fake/plat_fake.hpp"

#include <elf.h>

namespace tessera::fake {

std::function<VcpuExit(Vcpu&)> guest;
bool lpar_init_ok = true;
bool linux_loads = false;
u64 timebase_now = 0;
void* icache_synced_at = nullptr;
usize icache_synced_len = 0;
unsigned icache_syncs = 0;

thread_local u32 this_cpu = 0;

HcallResult hcall(Vcpu& v, u64 opcode, u64 a0, u64 a1, u64 a2) {
    // As the real ISA glue: an hcall is hypervisor context, under the core lock (vcpu_run
    // dropped it while the scripted guest ran), followed by core_events() with several CPUs.
    LockGuard guard(core_lock());
    hcall::Frame f;
    f.opcode = opcode;
    f.args[0] = a0;
    f.args[1] = a1;
    f.args[2] = a2;
    hcall::Env env{*v.lpar, v};
    HcallResult r{};
    r.status = hcall::dispatch(env, f);
    r.after = env.after;
    for (usize i = 0; i < hcall::kMaxArgs; ++i) r.rets[i] = f.rets[i];
    if (plat::cpu_count() > 1) core_events();
    return r;
}

bool exit_for(hcall::After after, VcpuExit& exit) {
    switch (after) {
    case hcall::After::Resume:
        return false;
    case hcall::After::Block:
        exit = VcpuExit::Ceded;
        return true;
    case hcall::After::Yield:
        exit = VcpuExit::Yielded;
        return true;
    case hcall::After::StopLpar:
        exit = VcpuExit::Stopped;
        return true;
    case hcall::After::Offline:
        exit = VcpuExit::Offline;
        return true;
    }
    return false;
}

} // namespace tessera::fake

namespace tessera::arch {

void early_init() {}
u32 cpu_index() {
    return fake::this_cpu;
}
u64 timebase() {
    return fake::timebase_now += 1000;
}

bool lpar_init(Lpar& lpar) {
    lpar.arch.initialised = fake::lpar_init_ok;
    return fake::lpar_init_ok;
}

void lpar_teardown(Lpar& lpar) {
    lpar.arch.initialised = false;
}

void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    vcpu.arch = VcpuState{};
    vcpu.arch.pc = entry.value();
    for (usize i = 0; i < nargs && i < 4; ++i) vcpu.arch.args[i] = args[i];
}

VcpuExit vcpu_run(Vcpu& vcpu, u64) {
    ++vcpu.arch.runs;
    if (vcpu.arch.runs > 100000) { // a broken test script must not hang the test binary
        vcpu.lpar->crash("fake guest ran away");
        return VcpuExit::Fault;
    }
    // The guest runs without the core lock, as on the real ISAs (its hcalls take it).
    core_lock().unlock();
    VcpuExit exit = fake::guest ? fake::guest(vcpu) : VcpuExit::Preempted;
    core_lock().lock();
    return exit;
}

bool timer_pending(const Vcpu& vcpu) {
    return vcpu.arch.timer;
}

u64 timer_deadline(const Vcpu& vcpu) {
    return vcpu.arch.timer_at;
}

void sync_icache(void* host, usize len) {
    fake::icache_synced_at = host;
    fake::icache_synced_len = len;
    ++fake::icache_syncs;
}

} // namespace tessera::arch

namespace tessera::arch {
bool linux_load(Lpar& lpar, const LinuxImages& images, BootEntry& entry, char* why, usize why_len) {
    if (why_len) why[0] = '\0';
    if (!fake::linux_loads) return false;
    ElfLoaded elf;
    if (!load_elf(lpar.memory, linux_images::kernel(lpar.memory, images), EM_PPC64, elf, why,
                  why_len, LogicalAddr(0), linux_images::keep(images)))
        return false;
    const LogicalAddr initrd(align_up(elf.high.value(), 1 * MiB));
    if (images.initrd_size != 0 && !linux_images::place_initrd(lpar.memory, images, initrd)) {
        rt::format(why, why_len, "the initrd does not fit above the kernel");
        return false;
    }
    entry = BootEntry{elf.entry, {initrd.value(), images.initrd_size, 0, 0}, 2};
    return true;
}
} // namespace tessera::arch
