#include "common/lpar.hpp"

#include "common/rt/string.hpp"

namespace tessera {

const char* to_string(LparState s) {
    switch (s) {
    case LparState::Created:
        return "created";
    case LparState::Loaded:
        return "loaded";
    case LparState::Running:
        return "running";
    case LparState::Stopped:
        return "stopped";
    case LparState::Crashed:
        return "crashed";
    }
    return "?";
}

const char* to_string(VcpuState s) {
    switch (s) {
    case VcpuState::Offline:
        return "offline";
    case VcpuState::Runnable:
        return "runnable";
    case VcpuState::Running:
        return "running";
    case VcpuState::Ceded:
        return "ceded";
    case VcpuState::Stopped:
        return "stopped";
    }
    return "?";
}

const char* to_string(LparError e) {
    switch (e) {
    case LparError::None:
        return "ok";
    case LparError::EmptyName:
        return "empty LPAR name";
    case LparError::NameTooLong:
        return "LPAR name too long";
    case LparError::BadName:
        return "LPAR name has a space or non-printable character";
    case LparError::DuplicateName:
        return "LPAR name already used";
    case LparError::NoVcpus:
        return "LPAR needs at least one vcpu";
    case LparError::TooManyVcpus:
        return "too many vcpus for one LPAR";
    case LparError::TableFull:
        return "too many LPARs";
    }
    return "?";
}

// ---- Lpar --------------------------------------------------------------------------------------

bool Lpar::mark_loaded() {
    if (state != LparState::Created) return false;
    state = LparState::Loaded;
    return true;
}

bool Lpar::start() {
    if (state != LparState::Loaded || vcpu_count == 0) return false;
    state = LparState::Running;
    vcpus[0].state = VcpuState::Runnable;
    vcpus[0].ready_seq = 0; // a just-started CPU gets its first slice promptly
    return true;
}

bool Lpar::start_vcpu(u32 index) {
    if (state != LparState::Running || index >= vcpu_count) return false;
    Vcpu& v = vcpus[index];
    if (v.state != VcpuState::Offline) return false;
    v.state = VcpuState::Runnable;
    v.ready_seq = 0;
    return true;
}

bool Lpar::stop(const char* reason) {
    return finish(LparState::Stopped, reason);
}
bool Lpar::crash(const char* reason) {
    return finish(LparState::Crashed, reason);
}

bool Lpar::finish(LparState final_state, const char* reason) {
    if (has_ended()) return false;
    state = final_state;
    rt::str_copy(stop_reason, reason != nullptr ? reason : "", sizeof stop_reason);
    for (u32 i = 0; i < vcpu_count; ++i) vcpus[i].state = VcpuState::Stopped;
    vio.owner_ended(); // CRQ partners learn that this LPAR is gone
    return true;
}

// ---- LparTable ---------------------------------------------------------------------------------

namespace {

LparError check_name(const char* name) {
    if (name == nullptr || name[0] == '\0') return LparError::EmptyName;
    const usize len = rt::str_length_max(name, kLparNameMax);
    if (len >= kLparNameMax) return LparError::NameTooLong;
    for (usize i = 0; i < len; ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        if (c <= ' ' || c > '~') return LparError::BadName;
    }
    return LparError::None;
}

} // namespace

Lpar* LparTable::create(const char* name, u32 vcpu_count, LparError* error) {
    LparError why = check_name(name);
    if (why == LparError::None && by_name(name) != nullptr) why = LparError::DuplicateName;
    if (why == LparError::None && vcpu_count == 0) why = LparError::NoVcpus;
    if (why == LparError::None && vcpu_count > kMaxVcpusPerLpar) why = LparError::TooManyVcpus;
    Lpar* slot = nullptr;
    for (usize i = 0; why == LparError::None && i < kMaxLpars && slot == nullptr; ++i) {
        if (slots_[i].id == 0 && !slots_[i].retired) slot = &slots_[i];
    }
    if (why == LparError::None && slot == nullptr) why = LparError::TableFull;
    if (error != nullptr) *error = why;
    if (why != LparError::None) return nullptr;

    slot->id = static_cast<u32>(slot - slots_) + 1;
    rt::str_copy(slot->name, name, sizeof slot->name);
    slot->vcpu_count = vcpu_count;
    slot->tod_offset_ns = 0;
    slot->cpu_affinity = 0;
    slot->vio.clear();
    for (u32 i = 0; i < vcpu_count; ++i) {
        slot->vcpus[i].lpar = slot;
        slot->vcpus[i].index = i;
    }
    slot->xics.reset(vcpu_count); // one interrupt server per logical CPU
    slot->xics.set_trigger(kVtyIrq, xics::Trigger::Level);
    return slot;
}

void Lpar::sync_vty_irq() {
    xics.set_level(kVtyIrq, vty.pending_input() != 0);
}

void LparTable::remove(Lpar& l) {
    if (&l < slots_ || &l >= slots_ + kMaxLpars || l.id == 0) return;
    bool had_devices = false;
    for (usize i = 0; i < vio::kMaxLansPerLpar; ++i) had_devices |= l.vio.lan_at(i) != nullptr;
    for (usize i = 0; i < vio::kMaxVscsiPerLpar; ++i) had_devices |= l.vio.crq_at(i) != nullptr;
    l.id = 0;
    l.name[0] = '\0';
    l.state = LparState::Created;
    l.stop_reason[0] = '\0';
    l.memory = LogicalMap{};
    for (Vcpu& v : l.vcpus) v = Vcpu{};
    l.vcpu_count = 0;
    l.xics.reset(0);
    l.vty.disconnect();
    l.vty.reset();
    l.vty.set_termno(vty::kDefaultTermno);
    l.vio.clear();
    l.arch = arch::LparState{};
    l.boot = BootEntry{};
    l.boot_all_vcpus = false;
    l.tod_offset_ns = 0;
    l.test = Lpar::TestReport{};
    l.control = false;
    l.creator = 0;
    l.released = false;
    l.retired = had_devices;
}

Lpar* LparTable::by_id(u32 id) {
    if (id == 0 || id > kMaxLpars) return nullptr;
    Lpar& l = slots_[id - 1];
    return l.id == id ? &l : nullptr;
}

Lpar* LparTable::by_name(const char* name) {
    if (name == nullptr) return nullptr;
    for (Lpar& l : *this) {
        if (rt::str_compare_n(l.name, name, kLparNameMax) == 0) return &l;
    }
    return nullptr;
}

usize LparTable::count() const {
    usize n = 0;
    for (const Lpar& l : slots_) n += l.id != 0 ? 1 : 0;
    return n;
}

} // namespace tessera
