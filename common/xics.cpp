#include "common/xics.hpp"

namespace tessera::xics {

const char* to_string(Error e) {
    switch (e) {
    case Error::None:
        return "none";
    case Error::BadSource:
        return "bad source";
    case Error::BadServer:
        return "bad server";
    case Error::BadPriority:
        return "bad priority";
    case Error::NotInService:
        return "source not in service";
    case Error::WrongKind:
        return "wrong trigger kind";
    }
    return "?";
}

const char* to_string(SourceState s) {
    switch (s) {
    case SourceState::Idle:
        return "idle";
    case SourceState::Pending:
        return "pending";
    case SourceState::Presented:
        return "presented";
    case SourceState::InService:
        return "in service";
    }
    return "?";
}

void Controller::reset(u32 server_count) {
    for (Icp& icp : icps_) icp = Icp{};
    for (Source& s : sources_) s = Source{};
    if (server_count == 0) server_count = 1;
    servers_ = server_count < kMaxServers ? server_count : kMaxServers;
    presented_ = 0;
    waiting_ = 0;
}

void Controller::set_state(u32 irq, SourceState state) {
    const u32 i = irq - kFirstSource;
    sources_[i].state = state;
    if (state == SourceState::Pending)
        waiting_ |= u64{1} << i;
    else
        waiting_ &= ~(u64{1} << i);
}

// ---- Presentation ------------------------------------------------------------------------------

// Empties the ICP's XISR; a source that was there waits at its source again.
void Controller::reject(Icp& icp) {
    if (is_source(icp.xisr)) set_state(icp.xisr, SourceState::Pending);
    icp.xisr = kNoSource;
    icp.pending_priority = kLeastFavoured;
}

// Takes a presented source back from its ICP (its server/priority are about to change).
void Controller::withdraw(u32 irq) {
    Source& s = source(irq);
    if (s.state != SourceState::Presented) return;
    for (u32 i = 0; i < servers_; ++i) {
        if (icps_[i].xisr == irq) reject(icps_[i]);
    }
    set_state(irq, SourceState::Pending); // also if (broken invariant) no ICP held it
}

// Applies the presentation rule (see the header) to one server.
void Controller::update(u32 server) {
    Icp& icp = icps_[server];

    // The incumbent must still be more favoured than CPPR; a presented IPI follows MFRR.
    if (icp.xisr == kIpiSource) icp.pending_priority = icp.mfrr;
    if (icp.xisr != kNoSource && icp.pending_priority >= icp.cppr) reject(icp);

    // A candidate must beat CPPR and the incumbent, strictly.
    u8 best = icp.cppr;
    if (icp.xisr != kNoSource && icp.pending_priority < best) best = icp.pending_priority;
    u32 best_irq = kNoSource;
    if (icp.xisr != kIpiSource && icp.mfrr < best) {
        best = icp.mfrr;
        best_irq = kIpiSource;
    }
    // Only the waiting sources (usually none), not all 64 for each server on every operation.
    for (u64 m = waiting_; m != 0; m &= m - 1) {
        const u32 i = static_cast<u32>(__builtin_ctzll(m));
        const Source& s = sources_[i];
        if (s.server == server && s.priority < best) {
            best = s.priority;
            best_irq = kFirstSource + i;
        }
    }
    if (best_irq == kNoSource) return;

    if (icp.xisr != kNoSource) reject(icp);
    icp.xisr = best_irq;
    icp.pending_priority = best;
    if (is_source(best_irq)) set_state(best_irq, SourceState::Presented);
    presented_ |= ServerMask{1} << server;
}

// Every rejection inside update() is of a source targeting that same server (withdraw() keeps
// a presented source's server fixed), so one pass over the servers reaches the fixed point.
void Controller::settle() {
    for (u32 i = 0; i < servers_; ++i) update(i);
}

// ---- ICP ---------------------------------------------------------------------------------------

Error Controller::accept(u32 server, u32& xirr) {
    xirr = 0;
    if (!valid_server(server)) return Error::BadServer;
    Icp& icp = icps_[server];
    xirr = u32{icp.cppr} << 24 | icp.xisr;
    if (icp.xisr == kNoSource) return Error::None;
    if (is_source(icp.xisr)) set_state(icp.xisr, SourceState::InService);
    icp.cppr = icp.pending_priority;
    icp.xisr = kNoSource;
    icp.pending_priority = kLeastFavoured;
    settle(); // a no-op while the presentation rule holds; keeps it if it ever did not
    return Error::None;
}

Error Controller::poll(u32 server, u32& xirr, u8& mfrr) const {
    xirr = 0;
    mfrr = kLeastFavoured;
    if (!valid_server(server)) return Error::BadServer;
    const Icp& icp = icps_[server];
    xirr = u32{icp.cppr} << 24 | icp.xisr;
    mfrr = icp.mfrr;
    return Error::None;
}

Error Controller::eoi(u32 server, u32 xirr) {
    if (!valid_server(server)) return Error::BadServer;
    u32 irq = xirr & kXisrMask;
    if (irq != kIpiSource) {
        if (!is_source(irq)) return Error::BadSource;
        if (source(irq).state != SourceState::InService) return Error::NotInService;
    }
    icps_[server].cppr = static_cast<u8>(xirr >> 24);
    if (is_source(irq)) {
        Source& s = source(irq);
        bool again = s.trigger == Trigger::Level ? s.asserted : s.queued;
        s.queued = false;
        set_state(irq, again ? SourceState::Pending : SourceState::Idle);
    }
    settle();
    return Error::None;
}

Error Controller::set_cppr(u32 server, u32 cppr) {
    if (!valid_server(server)) return Error::BadServer;
    if (cppr > kLeastFavoured) return Error::BadPriority;
    icps_[server].cppr = static_cast<u8>(cppr);
    settle();
    return Error::None;
}

Error Controller::set_mfrr(u32 server, u32 mfrr) {
    if (!valid_server(server)) return Error::BadServer;
    if (mfrr > kLeastFavoured) return Error::BadPriority;
    icps_[server].mfrr = static_cast<u8>(mfrr);
    settle();
    return Error::None;
}

IcpRegisters Controller::registers(u32 server) const {
    if (!valid_server(server)) return {};
    const Icp& icp = icps_[server];
    return {icp.cppr, icp.mfrr, icp.pending_priority, icp.xisr};
}

ServerMask Controller::take_presented() {
    ServerMask m = presented_;
    presented_ = 0;
    return m;
}

// ---- ICS ---------------------------------------------------------------------------------------

Error Controller::set_xive(u32 irq, u32 server, u32 priority) {
    if (!is_source(irq)) return Error::BadSource;
    if (!valid_server(server)) return Error::BadServer;
    if (priority > kLeastFavoured) return Error::BadPriority;
    withdraw(irq);
    Source& s = source(irq);
    s.server = server;
    s.priority = static_cast<u8>(priority);
    s.saved_priority = s.priority;
    settle();
    return Error::None;
}

Error Controller::get_xive(u32 irq, u32& server, u8& priority) const {
    server = 0;
    priority = kLeastFavoured;
    if (!is_source(irq)) return Error::BadSource;
    server = source(irq).server;
    priority = source(irq).priority;
    return Error::None;
}

Error Controller::int_off(u32 irq) {
    if (!is_source(irq)) return Error::BadSource;
    withdraw(irq);
    Source& s = source(irq);
    if (s.priority != kLeastFavoured) s.saved_priority = s.priority;
    s.priority = kLeastFavoured;
    settle(); // the withdrawn source may have hidden another one
    return Error::None;
}

Error Controller::int_on(u32 irq) {
    if (!is_source(irq)) return Error::BadSource;
    withdraw(irq);
    Source& s = source(irq);
    s.priority = s.saved_priority;
    settle();
    return Error::None;
}

Error Controller::set_trigger(u32 irq, Trigger trigger) {
    if (!is_source(irq)) return Error::BadSource;
    Source& s = source(irq);
    s.trigger = trigger;
    s.asserted = false;
    s.queued = false;
    return Error::None;
}

Error Controller::raise(u32 irq) {
    if (!is_source(irq)) return Error::BadSource;
    Source& s = source(irq);
    if (s.trigger != Trigger::Edge) return Error::WrongKind;
    switch (s.state) {
    case SourceState::Idle:
        set_state(irq, SourceState::Pending);
        break;
    case SourceState::Pending:
    case SourceState::Presented:
        break; // merges with the event already on its way
    case SourceState::InService:
        s.queued = true;
        break;
    }
    settle();
    return Error::None;
}

Error Controller::set_level(u32 irq, bool asserted) {
    if (!is_source(irq)) return Error::BadSource;
    Source& s = source(irq);
    if (s.trigger != Trigger::Level) return Error::WrongKind;
    s.asserted = asserted;
    const SourceState before = s.state;
    // A presented or in-service interrupt stays: the guest sees it and its EOI re-checks the line.
    if (asserted && s.state == SourceState::Idle) set_state(irq, SourceState::Pending);
    if (!asserted && s.state == SourceState::Pending) set_state(irq, SourceState::Idle);
    // Presentation depends on the sources' states, not on their lines, and every operation
    // leaves the controller settled: with the state unchanged there is nothing to redo. (The
    // run loop sets the vty's line at every hcall on a machine with several CPUs.)
    if (s.state != before) settle();
    return Error::None;
}

SourceState Controller::source_state(u32 irq) const {
    return is_source(irq) ? source(irq).state : SourceState::Idle;
}

} // namespace tessera::xics
