// The virtual interrupt controller of one LPAR, with PAPR XICS semantics (the same on every ISA).
//
// ICP (presentation controller): one per server, a server being a logical CPU index. Each has
//   CPPR  current processor priority: only interrupts strictly more favoured (numerically lower)
//         are presented. 0 = most favoured (everything masked), 0xff = least favoured.
//   XISR  the source presented to the processor now (24 bits); 0 = none.
//   MFRR  the IPI request: an IPI (source 2) is presented while MFRR < CPPR. 0xff = no IPI.
//   the priority of the presented interrupt.
//   XIRR = CPPR << 24 | XISR.
// ICS (source controller): sources kFirstSource .. kFirstSource + kSourceCount - 1, each with a
//   server, a priority (0xff = masked), a saved priority (ibm,int-off / ibm,int-on) and a
//   trigger: Edge (message semantics, the default; like PAPR MSIs and QEMU's VIO devices) or
//   Level (LSI: re-presented on EOI while still asserted).
//
// Presentation rule, re-evaluated after every operation: each ICP's XISR holds the most favoured
// interrupt waiting for that server that is strictly more favoured than its CPPR; an incumbent
// is displaced only by a strictly more favoured one (ties keep it; with XISR empty, an IPI goes
// before a source of the same priority, then the lowest source number). A displaced source is
// "rejected": it waits at its source and is re-presented when the ICP has room again (after
// accept + EOI, or when CPPR is made less favoured). A displaced IPI is simply dropped: MFRR
// stays, so it comes back the same way.
//
// Deviations from the hardware / QEMU, chosen for determinism:
// - A presented (not yet accepted) source is withdrawn from its ICP when set_xive/int_off/int_on
//   change it, and presented again according to its new server/priority (masked: it waits).
// - A presented IPI follows MFRR: made less favoured than CPPR, it is withdrawn.
// - H_XIRR with nothing presented changes nothing (as KVM; QEMU would set CPPR to 0xff).
// - EOI needs a source that is in service (accepted, not yet EOI'd) or the IPI; anything else is
//   refused (BadSource / NotInService) and changes nothing, CPPR included.
// - An edge source raised again while in service is queued and re-presented after its EOI.
//
// Waking CPUs: every time something is newly presented to a server, its bit is set in a mask the
// run loop takes with take_presented() after each hcall or device event, to wake ceded vcpus.
#pragma once

#include <tessera/types.hpp>

namespace tessera::xics {

// Must equal tessera::kMaxVcpusPerLpar (common/lpar.hpp; checked in tests/unit/xics_test.cpp).
inline constexpr u32 kMaxServers = 8;
inline constexpr u32 kNoSource = 0; // XISR value "nothing presented" (Linux: XICS_IRQ_SPURIOUS)
inline constexpr u32 kIpiSource = 2;
inline constexpr u32 kXisrMask = 0x00ff'ffff;
inline constexpr u8 kLeastFavoured = 0xff; // CPPR: accept all; source priority: masked; MFRR: none
inline constexpr u32 kFirstSource = 0x1000;
inline constexpr u32 kSourceCount = 64;

using ServerMask = u32; // bit n = server n
static_assert(kMaxServers <= 32);

enum class Trigger : u8 { Edge, Level };

enum class Error : u8 {
    None,
    BadSource,    // not a source of this ICS (or, for eoi, neither a source nor the IPI)
    BadServer,    // server number >= server_count()
    BadPriority,  // priority / CPPR / MFRR > 0xff
    NotInService, // eoi of a source that was not accepted (or already EOI'd)
    WrongKind,    // raise() on a Level source, set_level() on an Edge source
};

enum class SourceState : u8 {
    Idle,      // nothing to deliver
    Pending,   // waiting for presentation: masked, CPPR too favoured, or rejected
    Presented, // in some ICP's XISR, not accepted yet
    InService, // accepted (H_XIRR), waiting for its EOI
};

const char* to_string(Error e);
const char* to_string(SourceState s);

// A copy of one ICP's registers (for tests and diagnostics).
struct IcpRegisters {
    u8 cppr = 0;
    u8 mfrr = kLeastFavoured;
    u8 pending_priority = kLeastFavoured; // of the interrupt in XISR; 0xff when XISR is 0
    u32 xisr = kNoSource;
    constexpr u32 xirr() const { return u32{cppr} << 24 | xisr; }
};

class Controller {
  public:
    // Power-on state: kMaxServers servers, every CPPR 0 (PAPR: all masked until the OS sets
    // it), MFRR 0xff, nothing presented; every source Edge, masked (priority 0xff), server 0.
    constexpr Controller() = default;

    // Back to the power-on state with `server_count` servers (clamped to 1..kMaxServers). The
    // LPAR calls it with its vcpu count; device setup (set_trigger) comes after.
    void reset(u32 server_count);
    u32 server_count() const { return servers_; }
    bool valid_server(u32 server) const { return server < servers_; }
    static constexpr bool is_source(u32 irq) {
        return irq >= kFirstSource && irq - kFirstSource < kSourceCount;
    }

    // ---- ICP: the guest's view (hcalls). Bad server: BadServer, nothing changes. ----------
    // H_XIRR: `xirr` = the XIRR; if something was presented, CPPR := its priority, XISR := 0 and
    // a source becomes InService. Nothing presented: xirr has XISR 0 and nothing changes.
    Error accept(u32 server, u32& xirr);
    // H_IPOLL: the XIRR and MFRR without side effects.
    Error poll(u32 server, u32& xirr, u8& mfrr) const;
    // H_EOI: CPPR := xirr >> 24 and the source in xirr's low 24 bits ends its service (an
    // asserted Level source or a queued Edge source waits for presentation again).
    Error eoi(u32 server, u32 xirr);
    // H_CPPR: a presented interrupt that is no longer more favoured than `cppr` is rejected.
    Error set_cppr(u32 server, u32 cppr);
    // H_IPI: sets the MFRR of `server` (any server of the LPAR, the caller's own included).
    Error set_mfrr(u32 server, u32 mfrr);

    bool has_pending(u32 server) const { return valid_server(server) && icps_[server].xisr != 0; }
    IcpRegisters registers(u32 server) const;
    // Servers to which something was newly presented since the last call; clears the mask.
    ServerMask take_presented();

    // ---- ICS: RTAS (ibm,set-xive, ibm,get-xive, ibm,int-off, ibm,int-on) and devices -------
    // set_xive sets the saved priority too (as QEMU), so a later int_on restores `priority`.
    Error set_xive(u32 irq, u32 server, u32 priority);
    Error get_xive(u32 irq, u32& server, u8& priority) const;
    // int_off saves the priority (unless already masked) and masks; int_on restores it.
    Error int_off(u32 irq);
    Error int_on(u32 irq);
    // Device setup: the source's trigger; clears its asserted level and queued event.
    Error set_trigger(u32 irq, Trigger trigger);
    // An Edge source signals one event. Masked: it waits until unmasked. Events that arrive
    // while one is already waiting or presented merge into it.
    Error raise(u32 irq);
    // A Level source's line. Deasserting withdraws a waiting (not yet presented) interrupt.
    Error set_level(u32 irq, bool asserted);
    SourceState source_state(u32 irq) const;

  private:
    struct Icp {
        u8 cppr = 0;
        u8 mfrr = kLeastFavoured;
        u8 pending_priority = kLeastFavoured;
        u32 xisr = kNoSource;
    };
    struct Source {
        u32 server = 0;
        u8 priority = kLeastFavoured;
        u8 saved_priority = kLeastFavoured;
        Trigger trigger = Trigger::Edge;
        SourceState state = SourceState::Idle;
        bool asserted = false; // Level: the line is high
        bool queued = false;   // Edge: raised again while InService
    };

    Source& source(u32 irq) { return sources_[irq - kFirstSource]; }
    // Every change of a source's state goes through here (it keeps `waiting_`).
    void set_state(u32 irq, SourceState state);
    const Source& source(u32 irq) const { return sources_[irq - kFirstSource]; }
    void reject(Icp& icp);
    void withdraw(u32 irq);
    void update(u32 server);
    void settle();

    Icp icps_[kMaxServers] = {};
    Source sources_[kSourceCount] = {};
    u32 servers_ = kMaxServers;
    ServerMask presented_ = 0;
    u64 waiting_ = 0; // bit n: source kFirstSource + n is Pending
    static_assert(kSourceCount <= 64);
};

} // namespace tessera::xics
