// Tessera's own hcall for test LPARs (tests/lpar): report the checks and end the LPAR.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

// H_TESSERA_TEST_EXIT(passed, failed): records the counts in Lpar::test and stops the LPAR.
Ret h_tessera_test_exit(Env& env, Frame& frame);

} // namespace tessera::hcall
