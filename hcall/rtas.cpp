#include "hcall/rtas.hpp"

#include <tessera/arch.hpp>

#include "common/lpar.hpp"
#include "common/rt/format.hpp"
#include "common/rt/string.hpp"
#include "common/xics.hpp"

namespace tessera::hcall {

namespace rtas {
namespace {

// One decoded call: the guest's cells, args first, then rets.
struct Call {
    u32 token = 0;
    u32 nargs = 0;
    u32 nret = 0;
    u32 cells[kMaxCells] = {};

    u32 arg(u32 i) const { return i < nargs ? cells[i] : 0; }
    void ret(u32 i, u32 value) {
        if (i < nret) cells[nargs + i] = value;
    }
    void status(i32 s) { ret(0, static_cast<u32>(s)); }
};

using ServiceFn = void (*)(Env& env, Call& call);

struct Service {
    const char* name;
    u32 token;
    u32 nargs;
    u32 nret;
    ServiceFn fn;
};

// ---- Services ----------------------------------------------------------------------------------

void display_character(Env& env, Call& call) {
    const u8 c = static_cast<u8>(call.arg(0));
    env.lpar.vty.put(env.lpar.vty.termno(), &c, 1);
    call.status(kSuccess);
}

void get_time_of_day(Env& env, Call& call) {
    const WallClock now = wall_clock::shifted(machine_time(), env.lpar.tod_offset_ns);
    const Date d = date_of(now.seconds);
    call.status(kSuccess);
    call.ret(1, d.year);
    call.ret(2, d.month);
    call.ret(3, d.day);
    call.ret(4, d.hour);
    call.ret(5, d.minute);
    call.ret(6, d.second);
    call.ret(7, now.nanoseconds);
}

// The LPAR's clock only: its offset from the machine's clock becomes the difference.
void set_time_of_day(Env& env, Call& call) {
    Date d;
    d.year = call.arg(0);
    d.month = call.arg(1);
    d.day = call.arg(2);
    d.hour = call.arg(3);
    d.minute = call.arg(4);
    d.second = call.arg(5);
    const u32 ns = call.arg(6);
    if (!valid_date(d) || ns >= 1'000'000'000) {
        call.status(kParameterError);
        return;
    }
    const WallClock wanted{seconds_of(d), ns};
    env.lpar.tod_offset_ns = wall_clock::difference_ns(machine_time(), wanted);
    call.status(kSuccess);
}

void event_scan(Env&, Call& call) {
    call.status(kNoEvent);
}

void power_off(Env& env, Call& call) {
    call.status(kSuccess);
    env.lpar.stop("power-off");
    env.after = After::StopLpar;
}

void system_reboot(Env& env, Call& call) {
    call.status(kSuccess);
    env.lpar.stop("system-reboot");
    env.after = After::StopLpar;
}

// The guest's message, read at most kOsTermMessageMax bytes (less at the end of the LPAR), cut at
// its terminator; anything but printable ASCII becomes a space or '?' so it cannot drive the
// machine console.
void read_message(const Lpar& lpar, u64 addr, char* out, usize cap) {
    out[0] = '\0';
    const u64 size = lpar.memory.size();
    if (addr >= size) return;
    u64 n = size - addr;
    if (n > cap - 1) n = cap - 1;
    if (!lpar.memory.copy_out(out, LogicalAddr(addr), n)) return;
    out[n] = '\0';
    usize len = 0;
    for (; out[len] != '\0'; ++len) {
        const unsigned char c = static_cast<unsigned char>(out[len]);
        if (c == '\n' || c == '\r' || c == '\t')
            out[len] = ' ';
        else if (c < ' ' || c > '~')
            out[len] = '?';
    }
    while (len > 0 && out[len - 1] == ' ') out[--len] = '\0';
}

void os_term(Env& env, Call& call) {
    char message[kOsTermMessageMax];
    read_message(env.lpar, call.arg(0), message, sizeof message);
    char reason[kStopReasonMax];
    rt::format(reason, sizeof reason, "os-term: %s", message[0] != '\0' ? message : "(no message)");
    call.status(kSuccess);
    env.lpar.crash(reason);
    env.after = After::StopLpar;
}

void accept(Env&, Call& call) {
    call.status(kSuccess);
}

void not_supported(Env&, Call& call) {
    call.status(kParameterError);
}

bool valid_server(const Env& env, u32 server) {
    return server < env.lpar.vcpu_count && env.lpar.xics.valid_server(server);
}

void set_xive(Env& env, Call& call) {
    const u32 irq = call.arg(0), server = call.arg(1), priority = call.arg(2);
    const bool ok = valid_server(env, server) &&
                    env.lpar.xics.set_xive(irq, server, priority) == xics::Error::None;
    call.status(ok ? kSuccess : kParameterError);
}

void get_xive(Env& env, Call& call) {
    u32 server = 0;
    u8 priority = 0;
    if (env.lpar.xics.get_xive(call.arg(0), server, priority) != xics::Error::None) {
        call.status(kParameterError);
        return;
    }
    call.status(kSuccess);
    call.ret(1, server);
    call.ret(2, priority);
}

void int_on(Env& env, Call& call) {
    const bool ok = env.lpar.xics.int_on(call.arg(0)) == xics::Error::None;
    call.status(ok ? kSuccess : kParameterError);
}

void int_off(Env& env, Call& call) {
    const bool ok = env.lpar.xics.int_off(call.arg(0)) == xics::Error::None;
    call.status(ok ? kSuccess : kParameterError);
}

void query_cpu_stopped_state(Env& env, Call& call) {
    const u32 cpu = call.arg(0);
    if (cpu >= env.lpar.vcpu_count) {
        call.status(kParameterError);
        return;
    }
    const VcpuState s = env.lpar.vcpus[cpu].state;
    call.status(kSuccess);
    call.ret(1, s == VcpuState::Offline || s == VcpuState::Stopped ? 0 : 2);
}

// start-cpu(cpu, pc, r3): an Offline vcpu starts in real mode at `pc` with r3 (the ISA's entry
// state); -1 (hardware error) when it is not Offline, -3 for a cpu that does not exist.
void start_cpu(Env& env, Call& call) {
    const u32 cpu = call.arg(0);
    if (cpu >= env.lpar.vcpu_count) {
        call.status(kParameterError);
        return;
    }
    Vcpu& v = env.lpar.vcpus[cpu];
    if (v.state != VcpuState::Offline) {
        call.status(kHardwareError);
        return;
    }
    const u64 r3 = call.arg(2);
    arch::vcpu_init(v, LogicalAddr(call.arg(1)), &r3, 1);
    call.status(env.lpar.start_vcpu(cpu) ? kSuccess : kHardwareError);
}

// stop-self() -> status: the caller goes Offline and never returns from the call (PAPR gives it
// one return cell, for a failure status it never needs); the run loop stops scheduling it.
void stop_self(Env& env, Call&) {
    env.after = After::Offline;
}

// clang-format off
constexpr Service kServices[] = {
    {"display-character",        kDisplayCharacter,     1, 1, &display_character},
    {"get-time-of-day",          kGetTimeOfDay,         0, 8, &get_time_of_day},
    {"set-time-of-day",          kSetTimeOfDay,         7, 1, &set_time_of_day},
    {"event-scan",               kEventScan,            4, 1, &event_scan},
    {"power-off",                kPowerOff,             2, 1, &power_off},
    {"system-reboot",            kSystemReboot,         0, 1, &system_reboot},
    {"ibm,os-term",              kOsTerm,               1, 1, &os_term},
    {"ibm,nmi-register",         kNmiRegister,          2, 1, &accept},
    {"ibm,nmi-interlock",        kNmiInterlock,         0, 1, &accept},
    {"ibm,get-system-parameter", kGetSystemParameter,   3, 1, &not_supported},
    {"ibm,set-xive",             kSetXive,              3, 1, &set_xive},
    {"ibm,get-xive",             kGetXive,              1, 3, &get_xive},
    {"ibm,int-on",               kIntOn,                1, 1, &int_on},
    {"ibm,int-off",              kIntOff,               1, 1, &int_off},
    {"query-cpu-stopped-state",  kQueryCpuStoppedState, 1, 2, &query_cpu_stopped_state},
    {"start-cpu",                kStartCpu,             3, 1, &start_cpu},
    {"stop-self",                kStopSelf,             0, 1, &stop_self},
};
// clang-format on
constexpr usize kServiceCount = sizeof kServices / sizeof kServices[0];

consteval bool services_are_sound() {
    for (usize i = 0; i < kServiceCount; ++i) {
        const Service& s = kServices[i];
        // 0xffffffff is Linux's RTAS_UNKNOWN_SERVICE; every call must fit Linux's rtas_args.
        if (s.token == 0xffff'ffff || s.nargs + s.nret > kMaxCells) return false;
        for (usize j = 0; j < i; ++j) {
            if (kServices[j].token == s.token) return false;
            const char *a = kServices[j].name, *b = s.name;
            while (*a != '\0' && *a == *b) ++a, ++b;
            if (*a == *b) return false;
        }
    }
    return true;
}
static_assert(services_are_sound(), "RTAS services: duplicate token or name, or too many cells");

struct TokenTable {
    guest_fdt::RtasToken entries[kServiceCount];
};
constexpr TokenTable make_token_table() {
    TokenTable t{};
    for (usize i = 0; i < kServiceCount; ++i)
        t.entries[i] = {kServices[i].name, kServices[i].token};
    return t;
}
constexpr TokenTable kTokenTable = make_token_table();

const Service* find(u32 token) {
    for (const Service& s : kServices) {
        if (s.token == token) return &s;
    }
    return nullptr;
}

// ---- The args block -----------------------------------------------------------------------------

constexpr u64 kHeaderBytes = 12; // token, nargs, nret

u32 load_be32(const u8* p) {
    return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | u32{p[3]};
}
void store_be32(u8* p, u32 v) {
    p[0] = static_cast<u8>(v >> 24);
    p[1] = static_cast<u8>(v >> 16);
    p[2] = static_cast<u8>(v >> 8);
    p[3] = static_cast<u8>(v);
}

WallClockFn g_wall_clock = nullptr;

} // namespace

guest_fdt::RtasTokens tokens() {
    return guest_fdt::RtasTokens{kTokenTable.entries, kServiceCount};
}

void set_wall_clock(WallClockFn fn) {
    g_wall_clock = fn;
}

WallClock machine_time() {
    return g_wall_clock != nullptr ? g_wall_clock() : wall_clock::now();
}

} // namespace rtas

Ret h_rtas(Env& env, Frame& frame) {
    using namespace rtas;
    const LogicalAddr block(frame.args[0]);
    u8 raw[kHeaderBytes + 4 * kMaxCells];
    if (!env.lpar.memory.copy_out(raw, block, kHeaderBytes)) return H_PARAMETER;
    Call call;
    call.token = load_be32(raw);
    call.nargs = load_be32(raw + 4);
    call.nret = load_be32(raw + 8);
    if (call.nargs > kMaxCells || call.nret > kMaxCells - call.nargs) return H_PARAMETER;
    const u64 cell_bytes = 4 * u64{call.nargs + call.nret};
    // The whole block, rets included, must be inside the LPAR before anything runs.
    if (!env.lpar.memory.contains(block, kHeaderBytes + cell_bytes)) return H_PARAMETER;
    if (!env.lpar.memory.copy_out(raw + kHeaderBytes, block + kHeaderBytes, cell_bytes))
        return H_PARAMETER;
    for (u32 i = 0; i < call.nargs + call.nret; ++i)
        call.cells[i] = load_be32(raw + kHeaderBytes + 4 * i);

    Ret result = H_SUCCESS;
    const Service* s = find(call.token);
    if (s == nullptr) {
        call.status(kParameterError);
        result = H_PARAMETER;
    } else if (call.nargs != s->nargs || call.nret != s->nret) {
        call.status(kParameterError);
    } else {
        s->fn(env, call);
    }

    u8 rets[4 * kMaxCells];
    for (u32 i = 0; i < call.nret; ++i) store_be32(rets + 4 * i, call.cells[call.nargs + i]);
    if (!env.lpar.memory.copy_in(block + kHeaderBytes + 4 * u64{call.nargs}, rets,
                                 4 * u64{call.nret}))
        return H_PARAMETER; // cannot happen: checked above
    return result;
}

usize rtas_blob(u8* out, usize max) {
    static constexpr u32 kCode[] = {
        0x7c64'1b78, // mr   r4,r3        (or r4,r3,r3)
        0x3c60'0000, // lis  r3,0         (H_RTAS >> 16)
        0x6063'f000, // ori  r3,r3,0xf000 (H_RTAS & 0xffff)
        0x4400'0022, // sc   1
        0x4e80'0020, // blr
    };
    static_assert(sizeof kCode == kRtasBlobSize);
    static_assert(H_RTAS == 0xF000, "the blob loads H_RTAS with lis/ori");
    if (out == nullptr || max < kRtasBlobSize) return 0;
    for (usize i = 0; i < sizeof kCode / sizeof kCode[0]; ++i)
        rtas::store_be32(out + 4 * i, kCode[i]);
    return kRtasBlobSize;
}

} // namespace tessera::hcall
