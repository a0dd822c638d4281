// The LPAR management hcalls (numbers and arguments in <tessera/lpar_control.h>, semantics in
// common/manage.hpp, docs/management.md). Only a control LPAR (`control = yes`) reaches them;
// any other LPAR gets H_FUNCTION, as for a number that does not exist. On failure ret[0] is the
// TLPAR_E_* reason.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

Ret h_lpar_create(Env& env, Frame& frame);
Ret h_lpar_load(Env& env, Frame& frame);
Ret h_lpar_copy_in(Env& env, Frame& frame);
Ret h_lpar_set_cmdline(Env& env, Frame& frame);
Ret h_lpar_start(Env& env, Frame& frame);
Ret h_lpar_stop(Env& env, Frame& frame);
Ret h_lpar_destroy(Env& env, Frame& frame);
Ret h_lpar_status(Env& env, Frame& frame);
Ret h_lpar_next(Env& env, Frame& frame);
Ret h_lpar_find(Env& env, Frame& frame);
Ret h_lpar_free_memory(Env& env, Frame& frame);
Ret h_lpar_console_read(Env& env, Frame& frame);
Ret h_lpar_console_attach(Env& env, Frame& frame);
Ret h_lpar_console_write(Env& env, Frame& frame);
Ret h_lpar_console_detach(Env& env, Frame& frame);

} // namespace tessera::hcall
