#include "hcall/cede.hpp"

#include "common/lpar.hpp"

namespace tessera::hcall {

Ret h_cede(Env& env, Frame&) {
    // An H_PROD that came first, or a pending interrupt, makes the cede return at once.
    bool prodded = env.vcpu.prodded;
    env.vcpu.prodded = false;
    bool pending = prodded || env.lpar.xics.has_pending(env.vcpu.index);
    env.after = pending ? After::Resume : After::Block;
    return H_SUCCESS;
}

} // namespace tessera::hcall
