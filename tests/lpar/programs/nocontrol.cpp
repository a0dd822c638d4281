// nocontrol (1 vcpu): an LPAR without `control = yes` must not reach the LPAR management block
// (docs/management.md): every number of it answers H_FUNCTION and returns nothing, whatever the
// arguments, even ones that would name real LPARs.
#include "lpar.hpp"

#include <tessera/lpar_control.h>

using namespace lpar;
using namespace tessera::hcall;

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    const char name[] = "nocontrol";
    const u64 at = static_cast<u64>(reinterpret_cast<uintptr_t>(name));
    unsigned refused = 0;
    for (u64 n = TLPAR_HCALL_FIRST; n <= TLPAR_HCALL_LAST; n += 4) {
        // Plausible arguments: LPAR id 1, a real string, a size of 16 MiB, one vcpu.
        HcallResult r = hcall(n, 1, at, sizeof name - 1, 16u << 20, 1, 0, 0);
        bool quiet = true;
        for (u64 v : r.ret) quiet &= v == 0;
        refused += check(r.status == H_FUNCTION && quiet,
                         Detail("%s, ret[0] %#" PRIx64, status_name(r.status), r.ret[0]),
                         "management hcall %#" PRIx64 " is H_FUNCTION for a non-control LPAR", n)
                       ? 1
                       : 0;
    }
    check_eq(refused, (TLPAR_HCALL_LAST - TLPAR_HCALL_FIRST) / 4 + 1,
             "every number of the management block refused");
}
