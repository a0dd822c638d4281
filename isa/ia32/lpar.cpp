// ia32 LPAR hooks of the arch contract: not built yet.
#include "common/lpar.hpp"
#include "common/log.hpp"
#include "common/rt/format.hpp"

#include <tessera/arch.hpp>

namespace tessera::arch {

// TODO(bring-up): ring compression, shadow paging and the hcall gate arrive with the pc bring-up
// (issue 5); until then no LPAR can run on this target and each is reported as such.
bool lpar_init(Lpar& lpar) {
    log("ia32: running LPARs is not implemented yet (LPAR %s)\n", lpar.name);
    return false;
}

void lpar_teardown(Lpar&) {}

void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    vcpu.arch.eip = static_cast<u32>(entry.value());
    vcpu.arch.arg = nargs ? static_cast<u32>(args[0]) : 0;
}

VcpuExit vcpu_run(Vcpu& vcpu, u64) {
    vcpu.lpar->crash("ia32 guest entry is not implemented yet");
    return VcpuExit::Fault;
}

bool timer_pending(const Vcpu&) {
    return false;
}

} // namespace tessera::arch

namespace tessera::arch {
// TODO(bring-up): the ia32 Linux boot (ELF + boot_params, PV entry) arrives with issue 6.
bool linux_load(Lpar&, const LinuxImages&, BootEntry&, char* why, usize why_len) {
    rt::format(why, why_len, "Linux guests are not supported on this target yet");
    return false;
}
} // namespace tessera::arch
