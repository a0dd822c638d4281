// RTAS (run-time abstraction services) for pseries LPARs, provided by the hypervisor through the
// H_RTAS hcall (0xF000), as QEMU and KVM do.
//
// The guest's "RTAS firmware" is a five-instruction blob (rtas_blob()) at /rtas linux,rtas-base:
//   mr r4,r3 ; lis r3,0 ; ori r3,r3,0xf000 ; sc 1 ; blr
// Linux enters it in real mode, 32-bit, big-endian (enter_rtas clears MSR[LE] and MSR[SF]), with
// r3 = the real (= logical) address of its rtas_args block, so the blob is stored big-endian and
// H_RTAS gets that address in args[0] (r4). The block is big-endian 32-bit cells:
//   token, nargs, nret, args[nargs], rets[nret]          nargs + nret <= 16
// rets[0] is the RTAS status. H_RTAS returns H_PARAMETER (and writes nothing) when the block is not
// entirely inside the LPAR or nargs + nret > 16; for an unknown token it writes rets[0] = -3 and
// returns H_PARAMETER (as QEMU); otherwise H_SUCCESS, with the service's status in rets[0]. A
// service called with other nargs/nret than it takes gets status -3 and does nothing.
//
// The services (one table in rtas.cpp; tokens() hands the same table to common/guest_fdt, so the
// device tree and the dispatcher cannot disagree):
//   display-character(c)                 the byte to the LPAR's vty
//   get-time-of-day() -> y, m, d, h, min, s, ns   the machine's clock plus the LPAR's offset
//   set-time-of-day(y, m, d, h, min, s, ns)       moves the LPAR's offset (bad date: -3)
//   event-scan(mask, critical, buf, len) status 1: no event (Tessera logs none)
//   power-off(a, b) / system-reboot()    the LPAR stops (reason "power-off" / "system-reboot";
//                                        Tessera does not restart LPARs)
//   ibm,os-term(msg)                     the LPAR crashes, reason "os-term: <msg>" (msg read from
//                                        the guest, at most kOsTermMessageMax bytes, sanitised)
//   ibm,nmi-register(sreset, mce), ibm,nmi-interlock()   accepted; Tessera raises no machine
//                                        checks or system resets in a guest
//   ibm,get-system-parameter(p, buf, len)  status -3: no parameter is supported
//   ibm,set-xive(irq, server, prio), ibm,get-xive(irq) -> server, prio, ibm,int-on(irq),
//   ibm,int-off(irq)                     the LPAR's ICS (common/xics.hpp); bad irq/server/prio: -3
//   query-cpu-stopped-state(cpu) -> state   0 stopped (Offline, Stopped), 2 running
//   start-cpu(cpu, pc, r3)               an Offline vcpu starts at pc with r3 (-1 if not Offline)
//   stop-self() -> status                the caller goes Offline (PAPR: 0 args, 1 ret)
// After a set-xive / int-on the run loop must look at lpar.xics.take_presented(), as after the
// XICS hcalls; after power-off, system-reboot and os-term env.after is StopLpar.
#pragma once

#include <tessera/types.hpp>

#include "common/guest_fdt.hpp"
#include "common/wall_clock.hpp"
#include "hcall/dispatch.hpp"

namespace tessera::hcall {

// H_RTAS(args): args[0] = logical address of the rtas_args block.
Ret h_rtas(Env& env, Frame& frame);

// The RTAS blob for /rtas linux,rtas-base, big-endian instructions; writes kRtasBlobSize bytes
// and returns that, or 0 (nothing written) when max is smaller.
inline constexpr usize kRtasBlobSize = 20;
usize rtas_blob(u8* out, usize max);

namespace rtas {

inline constexpr u32 kMaxCells = 16;        // nargs + nret (Linux's struct rtas_args has 16)
inline constexpr u32 kRegionSize = 4 * KiB; // suggested rtas-size: one page, reserved in the FDT
inline constexpr usize kOsTermMessageMax = 256;

// RTAS status values (rets[0]).
inline constexpr i32 kSuccess = 0;
inline constexpr i32 kHardwareError = -1;
inline constexpr i32 kParameterError = -3; // also "not supported"
inline constexpr i32 kNoEvent = 1;         // event-scan: nothing to report

// Token values (QEMU's numbering style); their names are in the table in rtas.cpp.
enum Token : u32 {
    kDisplayCharacter = 0x2001,
    kGetTimeOfDay = 0x2002,
    kEventScan = 0x2003,
    kPowerOff = 0x2004,
    kSystemReboot = 0x2005,
    kOsTerm = 0x2006,
    kNmiRegister = 0x2007,
    kNmiInterlock = 0x2008,
    kGetSystemParameter = 0x2009,
    kSetXive = 0x200A,
    kGetXive = 0x200B,
    kIntOn = 0x200C,
    kIntOff = 0x200D,
    kQueryCpuStoppedState = 0x200E,
    kStartCpu = 0x200F,
    kStopSelf = 0x2010,
    kSetTimeOfDay = 0x2011,
};

// Every service as (name, token), for /rtas in the guest device tree.
guest_fdt::RtasTokens tokens();

// ---- Wall clock for get-time-of-day / set-time-of-day ------------------------------------------
// The machine's clock is common/wall_clock (the platform RTC carried by the timebase); each LPAR
// sees it plus its own Lpar::tod_offset_ns, which set-time-of-day moves.
using tessera::Date;
using tessera::date_of;
using tessera::kDefaultEpoch;
using tessera::WallClock;
using WallClockFn = WallClock (*)();
// A test may install another machine clock; null restores wall_clock::now(). machine_time() is what
// is installed.
void set_wall_clock(WallClockFn fn);
WallClock machine_time();

} // namespace rtas
} // namespace tessera::hcall
