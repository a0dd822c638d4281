#include "hcall/tce.hpp"

#include "common/lpar.hpp"
#include "common/tce.hpp"

namespace tessera::hcall {

Ret h_put_tce(Env& env, Frame& frame) {
    tce::Window* w = env.lpar.vio.window(frame.args[0]);
    return w ? w->put(frame.args[1], frame.args[2]) : H_PARAMETER;
}

Ret h_get_tce(Env& env, Frame& frame) {
    frame.rets[0] = 0;
    const tce::Window* w = env.lpar.vio.window(frame.args[0]);
    return w ? w->get(frame.args[1], frame.rets[0]) : H_PARAMETER;
}

Ret h_stuff_tce(Env& env, Frame& frame) {
    tce::Window* w = env.lpar.vio.window(frame.args[0]);
    return w ? w->stuff(frame.args[1], frame.args[2], frame.args[3]) : H_PARAMETER;
}

Ret h_put_tce_indirect(Env& env, Frame& frame) {
    tce::Window* w = env.lpar.vio.window(frame.args[0]);
    return w ? w->put_indirect(frame.args[1], LogicalAddr(frame.args[2]), frame.args[3])
             : H_PARAMETER;
}

} // namespace tessera::hcall
