// The hcall table: the ISA-neutral handlers below plus the ISA's own list (<arch/hcalls.hpp>),
// merged at compile time. Registering a number twice, or outside the table's range, fails the
// build here.
#include "hcall/dispatch.hpp"

#include <arch/hcalls.hpp>

#include "hcall/cede.hpp"
#include "hcall/crq.hpp"
#include "hcall/llan.hpp"
#include "hcall/manage.hpp"
#include "hcall/page.hpp"
#include "hcall/processor.hpp"
#include "hcall/rtas.hpp"
#include "hcall/shutdown.hpp"
#include "hcall/tce.hpp"
#include "hcall/test.hpp"
#include "hcall/vty.hpp"
#include "hcall/xics.hpp"
#include <tessera/hot.hpp>

namespace tessera::hcall {

namespace {

// clang-format off
constexpr Entry kCommonHcalls[] = {
    {H_GET_TERM_CHAR, &h_get_term_char},
    {H_PUT_TERM_CHAR, &h_put_term_char},
    {H_EOI,           &h_eoi},
    {H_CPPR,          &h_cppr},
    {H_IPI,           &h_ipi},
    {H_IPOLL,         &h_ipoll},
    {H_XIRR,          &h_xirr},
    {H_XIRR_X,        &h_xirr_x},
    {H_CEDE,          &h_cede},
    {H_PAGE_INIT,     &h_page_init},
    {H_REGISTER_VPA,  &h_register_vpa},
    {H_PROD,          &h_prod},
    {H_CONFER,        &h_confer},
    {H_GET_TCE,          &h_get_tce},
    {H_PUT_TCE,          &h_put_tce},
    {H_STUFF_TCE,        &h_stuff_tce},
    {H_PUT_TCE_INDIRECT, &h_put_tce_indirect},
    {H_REGISTER_LOGICAL_LAN,   &h_register_logical_lan},
    {H_FREE_LOGICAL_LAN,       &h_free_logical_lan},
    {H_ADD_LOGICAL_LAN_BUFFER, &h_add_logical_lan_buffer},
    {H_SEND_LOGICAL_LAN,       &h_send_logical_lan},
    {H_MULTICAST_CTRL,         &h_multicast_ctrl},
    {H_CHANGE_LOGICAL_LAN_MAC, &h_change_logical_lan_mac},
    {H_VIO_SIGNAL,             &h_vio_signal},
    {H_REG_CRQ,                &h_reg_crq},
    {H_FREE_CRQ,               &h_free_crq},
    {H_SEND_CRQ,               &h_send_crq},
    {H_ENABLE_CRQ,             &h_enable_crq},
    {H_COPY_RDMA,              &h_copy_rdma},
    {H_RTAS,          &h_rtas},
    {H_TESSERA_SHUTDOWN,  &h_tessera_shutdown},
    {H_TESSERA_TEST_EXIT, &h_tessera_test_exit},
    // LPAR management (control LPARs only; hcall/manage.hpp).
    {TLPAR_CREATE,          &h_lpar_create},
    {TLPAR_LOAD,            &h_lpar_load},
    {TLPAR_COPY_IN,         &h_lpar_copy_in},
    {TLPAR_SET_CMDLINE,     &h_lpar_set_cmdline},
    {TLPAR_START,           &h_lpar_start},
    {TLPAR_STOP,            &h_lpar_stop},
    {TLPAR_DESTROY,         &h_lpar_destroy},
    {TLPAR_STATUS,          &h_lpar_status},
    {TLPAR_NEXT,            &h_lpar_next},
    {TLPAR_FIND,            &h_lpar_find},
    {TLPAR_FREE_MEMORY,     &h_lpar_free_memory},
    {TLPAR_CONSOLE_READ,    &h_lpar_console_read},
    {TLPAR_CONSOLE_ATTACH,  &h_lpar_console_attach},
    {TLPAR_CONSOLE_WRITE,   &h_lpar_console_write},
    {TLPAR_CONSOLE_DETACH,  &h_lpar_console_detach},
};
// clang-format on

struct Built {
    Table table;
    Table::Added common;
    Table::Added isa;
};

consteval Built build() {
    Built b{};
    b.common = b.table.add(kCommonHcalls);
    b.isa = b.table.add(arch::kIsaHcalls);
    return b;
}

constexpr Built kBuilt = build();
using enum Table::Added;
static_assert(kBuilt.common != Duplicate, "kCommonHcalls registers an hcall number twice");
static_assert(kBuilt.common != OutOfRange, "kCommonHcalls has an hcall number outside the table");
static_assert(kBuilt.isa != Duplicate,
              "<arch/hcalls.hpp> registers an hcall number that is already registered");
static_assert(kBuilt.isa != OutOfRange,
              "<arch/hcalls.hpp> registers an hcall number outside the table");

} // namespace

TESSERA_HOT Ret dispatch(Env& env, Frame& frame) {
    Handler h = kBuilt.table.lookup(frame.opcode);
    if (h == nullptr) return H_FUNCTION;
    return h(env, frame);
}

bool continues_after(const Env& env, VcpuExit& exit) {
    switch (env.after) {
    case After::Resume:
        return true;
    case After::Block:
        if (arch::timer_pending(env.vcpu)) return true;
        exit = VcpuExit::Ceded;
        return false;
    case After::Yield:
        exit = VcpuExit::Yielded;
        return false;
    case After::StopLpar:
        exit = VcpuExit::Stopped;
        return false;
    case After::Offline:
        exit = VcpuExit::Offline;
        return false;
    }
    return true;
}

} // namespace tessera::hcall
