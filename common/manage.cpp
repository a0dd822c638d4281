#include "common/manage.hpp"

#include "common/bundle.hpp"
#include "common/chunks.hpp"
#include "common/elf_loader.hpp"
#include "common/image_load.hpp"
#include "common/lifecycle.hpp"
#include "common/log.hpp"
#include "common/rt/format.hpp"
#include "common/rt/string.hpp"
#include "common/vio_devices.hpp"

#include <tessera/arch.hpp>

namespace tessera::manage {
namespace {

using namespace hcall;

constinit Manager the_manager;

Outcome fail(Ret status, u64 reason) {
    return Outcome{status, reason};
}

u64 create_reason(LparError e) {
    switch (e) {
    case LparError::None:
        return TLPAR_E_NONE;
    case LparError::EmptyName:
    case LparError::NameTooLong:
    case LparError::BadName:
        return TLPAR_E_BAD_NAME;
    case LparError::DuplicateName:
        return TLPAR_E_NAME_USED;
    case LparError::NoVcpus:
        return TLPAR_E_NO_VCPUS;
    case LparError::TooManyVcpus:
        return TLPAR_E_TOO_MANY_VCPUS;
    case LparError::TableFull:
        return TLPAR_E_TABLE_FULL;
    }
    return TLPAR_E_BAD_ARG;
}

bool is_blank(const char* s) {
    for (; s != nullptr && *s; ++s)
        if (*s != ' ' && *s != ',') return false;
    return true;
}

} // namespace

Manager& machine() {
    return the_manager;
}

// ---- History ---------------------------------------------------------------------------------

void History::clear() {
    head_ = size_ = 0;
    lost_ = 0;
}

void History::push(const u8* bytes, usize n) {
    for (usize i = 0; i < n; ++i) {
        if (size_ == kHistory) { // drop the oldest byte
            head_ = (head_ + 1) % kHistory;
            --size_;
            ++lost_;
        }
        buf_[(head_ + size_) % kHistory] = bytes[i];
        ++size_;
    }
}

usize History::take(u8* out, usize max) {
    usize n = 0;
    while (n < max && size_ != 0) {
        out[n++] = buf_[head_];
        head_ = (head_ + 1) % kHistory;
        --size_;
    }
    return n;
}

// ---- Manager ---------------------------------------------------------------------------------

void Manager::Record::reset() {
    cmdline[0] = '\0';
    stopping = false;
    leaving = false;
    deadline = 0;
    console_held = false;
    console_token = 0;
    history.clear();
}

void Manager::init(LparTable& lpars, ChunkPool& pool, const Bundle* bundle, StartHook start_hook,
                   u64 ticks_per_ms, LeaveHook leave_hook) {
    lpars_ = &lpars;
    pool_ = &pool;
    bundle_ = bundle;
    start_ = start_hook;
    leave_ = leave_hook;
    ticks_per_ms_ = ticks_per_ms ? ticks_per_ms : 1;
}

u64 Manager::free_bytes() const {
    return u64{pool_->free_count()} << kChunkShift;
}

u64 Manager::total_bytes() const { // what LPARs hold and what is free: not the ISA's tables
    return u64{pool_->total() - pool_->hypervisor_count()} << kChunkShift;
}

void Manager::history_sink(void* ctx, vty::Terminal& term) {
    auto* h = static_cast<History*>(ctx);
    u8 buf[64];
    for (usize n; (n = term.take_output(buf, sizeof buf)) != 0;) h->push(buf, n);
}

void Manager::watch_console(Lpar& lpar) {
    if (lpar.vty.connected()) return; // on the machine console
    Record& r = record(lpar);
    lpar.vty.connect(&history_sink, &r.history);
}

Lpar* Manager::find(u64 id, Outcome& out) {
    Lpar* l = id <= kMaxLpars ? lpars_->by_id(static_cast<u32>(id)) : nullptr;
    out = l ? Outcome{} : fail(H_PARAMETER, TLPAR_E_NO_LPAR);
    return l;
}

Outcome Manager::target(Lpar& caller, u64 id, Lpar*& out) {
    Outcome o;
    out = find(id, o);
    if (out == &caller) {
        out = nullptr;
        return fail(H_PARAMETER, TLPAR_E_SELF);
    }
    return o;
}

u32 Manager::next_id(u64 after) {
    if (after >= kMaxLpars) return 0; // none above (and after + 1 would wrap for ~0)
    for (u64 id = after + 1; id <= kMaxLpars; ++id)
        if (lpars_->by_id(static_cast<u32>(id))) return static_cast<u32>(id);
    return 0;
}

u32 Manager::flags(const Lpar& caller, const Lpar& lpar) const {
    u32 f = 0;
    if (lpar.control) f |= TLPAR_F_CONTROL;
    if (lpar.creator != 0) f |= TLPAR_F_RUNTIME;
    if (records_[lpar.id - 1].stopping) f |= TLPAR_F_STOPPING;
    if (&lpar == &caller) f |= TLPAR_F_CALLER;
    return f;
}

Outcome Manager::create(Lpar& caller, const char* name, u64 memory, u64 vcpus, const char* lans,
                        u32& id) {
    id = 0;
    if (memory == 0 || memory % kChunkSize != 0 || memory > kMaxLparChunks * kChunkSize)
        return fail(H_P3, TLPAR_E_BAD_MEMORY);
    if (vcpus == 0) return fail(H_P4, TLPAR_E_NO_VCPUS);
    if (vcpus > kMaxVcpusPerLpar) return fail(H_P4, TLPAR_E_TOO_MANY_VCPUS);
    if ((memory >> kChunkShift) > pool_->free_count()) return fail(H_NO_MEM, TLPAR_E_NO_MEMORY);
    LparError why = LparError::None;
    Lpar* l = lpars_->create(name, static_cast<u32>(vcpus), &why);
    if (l == nullptr)
        return fail(why == LparError::TableFull ? H_RESOURCE : H_PARAMETER, create_reason(why));
    record(*l).reset();
    l->creator = caller.id;
    if (!l->memory.assign(*pool_, l->id, memory)) {
        lpars_->remove(*l);
        return fail(H_NO_MEM, TLPAR_E_NO_MEMORY);
    }
    if (!arch::lpar_init(*l)) {
        release_lpar(*l, *pool_);
        lpars_->remove(*l);
        return fail(H_RESOURCE, TLPAR_E_ISA);
    }
    // Its l-lan adapters, as a configured LPAR's `lan =` lines would give them.
    char lan_why[96] = "";
    if (!is_blank(lans) && !vio::attach_lan_list(*l, lans, lan_why, sizeof lan_why)) {
        log("lpar %s: not created: %s\n", l->name, lan_why);
        release_lpar(*l, *pool_);
        lpars_->remove(*l);
        return fail(H_PARAMETER, TLPAR_E_LAN);
    }
    watch_console(*l);
    id = l->id;
    log("lpar %s: created by %s: %llu MiB, %u logical CPU%s\n", l->name, caller.name,
        static_cast<unsigned long long>(memory / MiB), l->vcpu_count,
        l->vcpu_count == 1 ? "" : "s");
    return {};
}

Outcome Manager::set_cmdline(Lpar& caller, u64 id, const char* text, usize len) {
    Lpar* l = nullptr;
    if (Outcome o = target(caller, id, l); !o.ok()) return o;
    if (l->state != LparState::Created) return fail(H_PARAMETER, TLPAR_E_STATE);
    if (len >= kCmdlineMax) return fail(H_P3, TLPAR_E_BAD_ARG);
    Record& r = record(*l);
    for (usize i = 0; i < len; ++i) r.cmdline[i] = text[i];
    r.cmdline[len] = '\0';
    return {};
}

Outcome Manager::copy_in(Lpar& caller, u64 id, LogicalAddr dst, LogicalAddr src, u64 len) {
    Lpar* l = nullptr;
    if (Outcome o = target(caller, id, l); !o.ok()) return o;
    if (l->creator != caller.id) return fail(H_PERMISSION, TLPAR_E_NOT_CREATOR);
    if (l->state != LparState::Created) return fail(H_PARAMETER, TLPAR_E_STATE);
    if (len > TLPAR_COPY_MAX || !l->memory.contains(dst, len) || !caller.memory.contains(src, len))
        return fail(H_PARAMETER, TLPAR_E_BAD_RANGE);
    u8 bounce[1024];
    for (u64 done = 0; done < len;) {
        const u64 n = len - done < sizeof bounce ? len - done : sizeof bounce;
        if (!caller.memory.copy_out(bounce, src + done, n) ||
            !l->memory.copy_in(dst + done, bounce, n))
            return fail(H_PARAMETER, TLPAR_E_BAD_RANGE); // checked above: cannot happen
        done += n;
    }
    return {};
}

Outcome Manager::load(Lpar& caller, u64 id, u64 how, const char* kernel, const char* initrd) {
    Lpar* l = nullptr;
    if (Outcome o = target(caller, id, l); !o.ok()) return o;
    if (l->state != LparState::Created) return fail(H_PARAMETER, TLPAR_E_STATE);
    if (how > TLPAR_LOAD_COPIED) return fail(H_P2, TLPAR_E_BAD_ARG); // STAGED: load_staged
    Image k, i;
    if (how != TLPAR_LOAD_COPIED) {
        const Bundle::Entry* ke = bundle_ ? bundle_->find(kernel) : nullptr;
        const Bundle::Entry* ie = initrd[0] && bundle_ ? bundle_->find(initrd) : nullptr;
        if (ke == nullptr || ke->kind == bundle::EntryKind::Config || (initrd[0] && ie == nullptr))
            return fail(H_PARAMETER, TLPAR_E_NO_ENTRY);
        k = Image{ke->data, ke->size};
        if (ie) i = Image{ie->data, ie->size};
    }
    char why[kStopReasonMax] = "";
    const bool ok = how == TLPAR_LOAD_LINUX
                        ? load_linux(*l, k, i, record(*l).cmdline, why, sizeof why)
                        : load_program(*l, k, i, why, sizeof why);
    return loaded(*l, ok, why);
}

Outcome Manager::loaded(Lpar& lpar, bool ok, const char* why) {
    if (!ok) {
        // The LPAR stays Created (it may be loaded again); the reason is in its status.
        rt::str_copy(lpar.stop_reason, why, sizeof lpar.stop_reason);
        return fail(H_PARAMETER, TLPAR_E_LOAD);
    }
    lpar.stop_reason[0] = '\0';
    lpar.mark_loaded();
    return {};
}

Outcome Manager::load_staged(Lpar& caller, u64 id, LogicalAddr kernel, u64 kernel_len,
                             LogicalAddr initrd, u64 initrd_len) {
    Lpar* l = nullptr;
    if (Outcome o = target(caller, id, l); !o.ok()) return o;
    if (l->state != LparState::Created) return fail(H_PARAMETER, TLPAR_E_STATE);
    // Both inside the target, apart. Together below its size (at most 4 GiB), so that each
    // length fits a 32-bit usize too.
    const LogicalRange k{kernel, kernel_len}, i{initrd, initrd_len};
    if (kernel_len == 0 || !l->memory.contains(kernel, kernel_len) ||
        !l->memory.contains(initrd, initrd_len) || kernel_len == l->memory.size() || k.overlaps(i))
        return fail(H_PARAMETER, TLPAR_E_BAD_RANGE);
    char why[kStopReasonMax] = "";
    const bool ok = load_linux_staged(*l, kernel, kernel_len, initrd_len ? initrd : LogicalAddr(0),
                                      initrd_len, record(*l).cmdline, why, sizeof why);
    return loaded(*l, ok, why);
}

Outcome Manager::start(Lpar& caller, u64 id) {
    Lpar* l = nullptr;
    if (Outcome o = target(caller, id, l); !o.ok()) return o;
    if (l->state != LparState::Loaded) return fail(H_PARAMETER, TLPAR_E_STATE);
    if (start_ == nullptr || !start_(*l)) return fail(H_RESOURCE, TLPAR_E_STATE);
    log("lpar %s: started by %s\n", l->name, caller.name);
    return {};
}

bool Manager::off_cpus(Lpar& lpar, const Lpar* waiter, bool wait) {
    if (leave_ != nullptr) return leave_(lpar, waiter, wait);
    for (u32 i = 0; i < lpar.vcpu_count; ++i)
        if (lpar.vcpus[i].pcpu != kNoPcpu) return false;
    return true;
}

void Manager::force_stop(Lpar& lpar, const char* why, const Lpar* waiter, bool wait) {
    lpar.stop(why);
    record(lpar).stopping = false;
    // Its memory must not go back under a vcpu that still runs on another CPU. While this CPU
    // waits (core lock dropped), `leaving` keeps a destroy from removing the slot.
    Record& r = record(lpar);
    r.leaving = true;
    const bool off = off_cpus(lpar, waiter, wait);
    r.leaving = false;
    if (!off) return;          // the run loop releases it when its last vcpu is handed back
    if (lpar.released) return; // it did so (and said so) while this CPU waited
    log("lpar %s: %s (%s)\n", lpar.name, to_string(lpar.state), lpar.stop_reason);
    release_lpar(lpar, *pool_);
}

Outcome Manager::stop(Lpar& caller, u64 id, bool force, u64 deadline_ms, u64 now) {
    Lpar* l = nullptr;
    if (Outcome o = target(caller, id, l); !o.ok()) return o;
    if (l->has_ended()) return {}; // already stopped: nothing to do
    if (!l->is_live()) return fail(H_PARAMETER, TLPAR_E_STATE);
    char why[kStopReasonMax];
    if (force) {
        rt::format(why, sizeof why, "stopped by %s", caller.name);
        force_stop(*l, why, &caller, true);
        return {};
    }
    Record& r = record(*l);
    r.stopping = true;
    // A deadline too far to count in ticks (past 2^62 of them: centuries) is capped there: tick()
    // compares signed, so one 2^63 ticks ahead or a product that wrapped would be due at once.
    constexpr u64 kMaxDelay = u64{1} << 62;
    const u64 ms = deadline_ms ? deadline_ms : TLPAR_STOP_DEFAULT_MS;
    r.deadline = now + (ms > kMaxDelay / ticks_per_ms_ ? kMaxDelay : ms * ticks_per_ms_);
    l->vty.feed(reinterpret_cast<const u8*>(kGracefulStopKeys), sizeof kGracefulStopKeys - 1);
    l->sync_vty_irq();
    return {};
}

void Manager::tick(u64 now) {
    if (!ready()) return;
    for (Lpar& l : *lpars_) {
        Record& r = record(l);
        if (!r.stopping) continue;
        if (l.has_ended()) {
            r.stopping = false;
        } else if (static_cast<i64>(now - r.deadline) >= 0) {
            // The boot CPU's loop: no waiting there (the run loop releases it later if a
            // vcpu of it is still on another CPU).
            force_stop(l, "did not power off by the deadline: stopped", nullptr, false);
        }
    }
}

Outcome Manager::destroy(Lpar& caller, u64 id) {
    if (id == caller.id) return fail(H_PARAMETER, TLPAR_E_SELF);
    Outcome o;
    Lpar* l = find(id, o);
    if (l == nullptr) return {}; // gone already: destroy is idempotent
    Record& r = record(*l);
    if (r.leaving) return fail(H_BUSY, TLPAR_E_STATE); // another CPU waits for its vcpus
    if (!l->has_ended()) {
        char why[kStopReasonMax];
        rt::format(why, sizeof why, "destroyed by %s", caller.name);
        l->stop(why);
    }
    // Its vcpus leave the other CPUs before its memory and slot go: with the core lock dropped
    // meanwhile, `leaving` keeps a second destroy of it from removing the slot under us.
    r.leaving = true;
    const bool off = off_cpus(*l, &caller, true);
    r.leaving = false;
    if (!off) return fail(H_BUSY, TLPAR_E_STATE); // the caller was stopped meanwhile
    release_lpar(*l, *pool_);
    vio::release(*l); // its devices leave the tables, so the slot can be reused
    log("lpar %s: destroyed by %s\n", l->name, caller.name);
    record(*l).reset();
    lpars_->remove(*l);
    return {};
}

Outcome Manager::console_read(u64 id, u8* out, usize max, usize& n, u64& lost) {
    n = 0;
    lost = 0;
    Outcome o;
    Lpar* l = find(id, o);
    if (l == nullptr) return o;
    History& h = record(*l).history;
    n = h.take(out, max);
    lost = h.lost();
    return {};
}

Outcome Manager::console_attach(u64 id, bool force, u64& token) {
    token = 0;
    Outcome o;
    Lpar* l = find(id, o);
    if (l == nullptr) return o;
    Record& r = record(*l);
    if (r.console_held && !force) return fail(H_BUSY, TLPAR_E_BUSY);
    r.console_held = true;
    r.console_token = token = next_token_++;
    return {};
}

Outcome Manager::console_write(u64 id, u64 token, const u8* in, usize len, usize& n) {
    n = 0;
    Outcome o;
    Lpar* l = find(id, o);
    if (l == nullptr) return o;
    Record& r = record(*l);
    if (!r.console_held || r.console_token != token) return fail(H_PARAMETER, TLPAR_E_BAD_TOKEN);
    if (!l->is_live()) return fail(H_PARAMETER, TLPAR_E_STATE);
    n = l->vty.feed(in, len);
    l->sync_vty_irq();
    return {};
}

Outcome Manager::console_detach(u64 id, u64 token) {
    Outcome o;
    Lpar* l = find(id, o);
    if (l == nullptr) return o;
    Record& r = record(*l);
    if (!r.console_held || r.console_token != token) return fail(H_PARAMETER, TLPAR_E_BAD_TOKEN);
    r.console_held = false;
    r.console_token = 0;
    return {};
}

} // namespace tessera::manage
