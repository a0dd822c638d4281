#include "hcall/test.hpp"

#include "common/lpar.hpp"
#include "common/rt/format.hpp"

namespace tessera::hcall {

Ret h_tessera_test_exit(Env& env, Frame& frame) {
    Lpar& lpar = env.lpar;
    lpar.test.reported = true;
    lpar.test.passed = frame.args[0];
    lpar.test.failed = frame.args[1];
    char why[64];
    rt::format(why, sizeof(why), "test exit: %llu passed, %llu failed",
               static_cast<unsigned long long>(frame.args[0]),
               static_cast<unsigned long long>(frame.args[1]));
    lpar.stop(why);
    env.after = After::StopLpar;
    return H_SUCCESS;
}

} // namespace tessera::hcall
