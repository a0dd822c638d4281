// Hypervisor call numbers and return codes: PAPR numbering, one table for every ISA.
// On ppc64 the number is in r3 at `sc 1`; on ia32 it is the first word on the caller's stack.
#pragma once

#include <tessera/types.hpp>

namespace tessera::hcall {

// clang-format off
enum Number : u64 {
    // Page table (HTAB) management: ppc64 only, behind the ISA contract.
    H_REMOVE                  = 0x04,
    H_ENTER                   = 0x08,
    H_READ                    = 0x0C,
    H_CLEAR_MOD               = 0x10,
    H_CLEAR_REF               = 0x14,
    H_PROTECT                 = 0x18,
    H_GET_TCE                 = 0x1C,
    H_PUT_TCE                 = 0x20,
    H_SET_SPRG0               = 0x24,
    H_SET_DABR                = 0x28,
    H_PAGE_INIT               = 0x2C,
    H_LOGICAL_CI_LOAD         = 0x3C,
    H_LOGICAL_CI_STORE        = 0x40,
    // Virtual terminal (vty).
    H_GET_TERM_CHAR           = 0x54,
    H_PUT_TERM_CHAR           = 0x58,
    H_REAL_TO_LOGICAL         = 0x5C,
    // Interrupt presentation (XICS semantics).
    H_EOI                     = 0x64,
    H_CPPR                    = 0x68,
    H_IPI                     = 0x6C,
    H_IPOLL                   = 0x70,
    H_XIRR                    = 0x74,
    // Processor and partition services.
    H_REGISTER_VPA            = 0xDC,
    H_CEDE                    = 0xE0,
    H_CONFER                  = 0xE4,
    H_PROD                    = 0xE8,
    H_GET_PPP                 = 0xEC,
    H_PURR                    = 0xF4,
    // Virtual I/O: the logical LAN (PAPR ILLAN) and VIO interrupts.
    H_REG_CRQ                 = 0xFC,
    H_FREE_CRQ                = 0x100,
    H_VIO_SIGNAL              = 0x104,
    H_SEND_CRQ                = 0x108,
    H_COPY_RDMA               = 0x110,
    H_REGISTER_LOGICAL_LAN    = 0x114,
    H_FREE_LOGICAL_LAN        = 0x118,
    H_ADD_LOGICAL_LAN_BUFFER  = 0x11C,
    H_SEND_LOGICAL_LAN        = 0x120,
    H_BULK_REMOVE             = 0x124,
    H_MULTICAST_CTRL          = 0x130,
    H_PUT_TCE_INDIRECT        = 0x13C,
    H_STUFF_TCE               = 0x138,
    H_CHANGE_LOGICAL_LAN_MAC  = 0x14C,
    H_VTERM_PARTNER_INFO      = 0x150,
    H_GET_CPU_CHARACTERISTICS = 0x1C8,
    H_ILLAN_ATTRIBUTES        = 0x244,
    H_VIOCTL                  = 0x2A8,
    H_ENABLE_CRQ              = 0x2B0,
    H_XIRR_X                  = 0x2FC,
    H_RANDOM                  = 0x300,
    H_SET_MODE                = 0x31C,
    H_REGISTER_PROC_TBL       = 0x37C,
    H_SIGNAL_SYS_RESET        = 0x380,
    // Last number of the architected range; every architected number is a multiple of 4.
    H_MAX_ARCHITECTED         = 0x450,
    // Implementation-defined range (as in QEMU): RTAS through an hcall.
    H_RTAS                    = 0xF000,
    H_IMPL_FIRST              = 0xF000,
    // Tessera's own: the guest powers off, restarts or panics (args: how, message, length).
    H_TESSERA_SHUTDOWN        = 0xF004,
    // Tessera's own: a test LPAR ends and reports its checks (args: passed, failed).
    H_TESSERA_TEST_EXIT       = 0xF00E,
    H_IMPL_LAST               = 0xF00F,
};

// Return codes (r3 on ppc64; the documented return register on ia32).
enum Status : i64 {
    H_SUCCESS          = 0,
    H_BUSY             = 1,
    H_CLOSED           = 2,
    H_NOT_AVAILABLE    = 3,
    H_CONSTRAINED      = 4,
    H_PARTIAL          = 5,
    H_IN_PROGRESS      = 14,
    H_PAGE_REGISTERED  = 15,
    H_PARTIAL_STORE    = 16,
    H_PENDING          = 17,
    H_CONTINUE         = 18,
    H_HARDWARE         = -1,
    H_FUNCTION         = -2,   // unknown or unimplemented hcall
    H_PRIVILEGE        = -3,   // caller not privileged (e.g. from guest user mode)
    H_PARAMETER        = -4,   // a parameter is invalid
    H_BAD_MODE         = -5,
    H_PTEG_FULL        = -6,   // no free slot in the page-table entry group
    H_NOT_FOUND        = -7,   // no matching entry (e.g. AVPN mismatch)
    H_RESERVED_DABR    = -8,
    H_NO_MEM           = -9,
    H_AUTHORITY        = -10,
    H_PERMISSION       = -11,
    H_DROPPED          = -12,
    H_SOURCE_PARM      = -13,
    H_DEST_PARM        = -14,
    H_REMOTE_PARM      = -15,
    H_RESOURCE         = -16,
    H_P2               = -55,  // parameter 2 (counting from 1) is invalid
    H_P3               = -56,
    H_P4               = -57,
    H_TOO_BIG          = -64,
    H_OVERLAP          = -68,
    H_INTERRUPT        = -69,
    H_BAD_DATA         = -70,
    H_NOT_ACTIVE       = -71,
    H_UNSUPPORTED_FLAG = -256,
};
// clang-format on

// Values returned by the handlers are one of Status; the raw type is what goes back in a register.
using Ret = i64;

} // namespace tessera::hcall
