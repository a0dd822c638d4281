// Processor-related hcalls of a dedicated-processor LPAR: the virtual processor areas Linux
// registers (H_REGISTER_VPA), waking a ceding sibling (H_PROD) and giving up the CPU (H_CONFER).
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

// H_REGISTER_VPA(flags, proc, addr): the subfunction is flags >> 45 & 7 (1 VPA, 2 DTL, 3 SLB
// shadow; 5, 6, 7 deregister them). Validated as PAPR/QEMU do: addr inside the LPAR, the VPA
// cache-line aligned with its big-endian u16 size (offset 4) >= 640, every area inside one 4K
// page; DTL and SLB shadow need a VPA first (H_RESOURCE), the VPA cannot go while they are
// there. Tessera records the areas and writes nothing into them: the LPAR is dedicated.
Ret h_register_vpa(Env& env, Frame& frame);
// H_PROD(proc): a ceded (or about to cede) vcpu of the caller's LPAR resumes.
Ret h_prod(Env& env, Frame& frame);
// H_CONFER(proc, dispatch): the caller gives up the rest of its time slice.
Ret h_confer(Env& env, Frame& frame);

} // namespace tessera::hcall
