#include "hcall/cede.hpp"

#include "common/lpar.hpp"

namespace tessera::hcall {

Ret h_cede(Env& env, Frame&) {
    env.after = env.lpar.xics.has_pending(env.vcpu.index) ? After::Resume : After::Block;
    return H_SUCCESS;
}

} // namespace tessera::hcall
