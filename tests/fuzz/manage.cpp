// Fuzzes the LPAR management hcalls (hcall/manage.cpp over common/manage.cpp, numbers in
// <tessera/lpar_control.h>) with sequences of calls from a control LPAR on a fake machine: 8
// chunks, the control LPAR "ctl" (1 chunk), two boot-time LPARs "boot1" (not control; it also
// calls the block) and "boot2" (2 vcpus), both running with their memory canary-filled, and 5
// free chunks for run-time LPARs. The input: a flag byte (the fake ISA loads Linux or not), an
// image (a kernel ELF, valid in the seeds) put at kImage in the caller's memory, then steps.
// Each step is a management hcall with arguments biased to the edges (names too long or with a
// NUL or space, memory 0/huge/not whole chunks, vcpus 0/huge, the ids of the caller, the boot
// LPARs, the last created ones, absent and truncated ids, copy-in and staged ranges past the
// ends, wrapping, overlapping, buffers outside the caller, bad flags and tokens) or an event of
// the run loop (vcpus on another CPU and handed back, a guest that powers off or crashes,
// console output, time passing). Waits for vcpus on other CPUs go through a fake leave hook that
// hands them back, gives up (destroy answers H_BUSY and the harness may retry), or destroys the
// same LPAR again meanwhile (must be H_BUSY).
//
// Checked after every step: a non-control caller gets H_FUNCTION, rets 0 and nothing changes;
// numbers of the block without an operation give H_FUNCTION; statuses are PAPR codes; the
// caller stays Running and is never stopped or destroyed by itself; every chunk's owner is an
// LPAR holding it, and free + held = total; a chunk that comes back is all zero, and free chunks
// stay zero; no memory changes but that of a run-time LPAR the caller created, that is still
// Created and that the call copies or loads into, and the caller's own output buffers (compared:
// 4 KiB at each end of every chunk, the caller's first and last kWindow bytes; at the end of the
// input the boot LPARs' canary on every page); a graceful stop is not forced before its
// deadline. At the end of each input every run-time LPAR is destroyed (retrying H_BUSY) and the
// free count is back at its start value.
#include "common/manage.hpp"
#include "common/bundle.hpp"
#include "common/chunks.hpp"
#include "common/hosted/bundle_writer.hpp"
#include "common/lifecycle.hpp"
#include "common/lpar.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fake/arch_fake.hpp"
#include "tests/fake/plat_fake.hpp"
#include "tests/fuzz/fake_lpar.hpp"

#include <tessera/lpar_control.h>

#include <string>

using namespace tessera;
using namespace tessera::hcall;

namespace {

constexpr u64 C = kChunkSize;
constexpr u32 kChunks = 8;
constexpr u64 kRamBase = 1 * GiB;
constexpr u64 kImage = 0x10000, kImageMax = 0x8000; // the input's image in the caller
constexpr u64 kData = 0x20000;                      // console input, initrd bytes
constexpr u64 kWindow = 0x22000; // caller bytes compared exactly at each end of its chunk
constexpr usize kSample = 64;    // canary bytes checked at each end of every 4 KiB page
constexpr u64 kTicksPerMs = 1000;
constexpr u8 kPowerOnByte = 0x3c; // the RAM at power-on (not the canary, not zero)
using fuzz::kEdge;

// Strings in the caller's memory, each at kStrings + i * kStringGap.
constexpr u64 kStrings = 0x1000, kStringGap = 0x800;
const std::string kTexts[] = {
    "a",
    "b",
    "run-time-lpar",
    std::string(31, 'n'), // the longest name
    std::string(32, 'n'), // one too long
    "a b",
    "x\x01y",
    std::string("x\0y", 3),
    "ctl",
    "boot1",
    "",
    "fnet0",
    "fnet0,fnet1",
    " fnet1 ",
    "fnet0 fnet0",
    "-bad",
    std::string(40, 'l'),
    "prog.bin",
    "data",
    "lpars.conf",
    "vmlinux",
    "missing",
    "console=hvc0 quiet",
};
constexpr usize kTextCount = sizeof kTexts / sizeof kTexts[0];
constexpr u64 kLongText = kStrings + kTextCount * kStringGap; // 1024 'c': the cmdline limit

// Registered operations of the block.
constexpr u64 kOps[] = {TLPAR_CREATE,         TLPAR_LOAD,          TLPAR_COPY_IN,
                        TLPAR_SET_CMDLINE,    TLPAR_START,         TLPAR_STOP,
                        TLPAR_DESTROY,        TLPAR_STATUS,        TLPAR_NEXT,
                        TLPAR_FIND,           TLPAR_FREE_MEMORY,   TLPAR_CONSOLE_READ,
                        TLPAR_CONSOLE_ATTACH, TLPAR_CONSOLE_WRITE, TLPAR_CONSOLE_DETACH};

unsigned long long ull(u64 v) {
    return v;
}

bool is_op(u64 n) {
    for (u64 o : kOps)
        if (o == n) return true;
    return false;
}

bool all_zero(const u8* p, usize n) {
    return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

// The fake run loop's answer to "wait until no CPU runs this LPAR's vcpus".
enum class Leave : u8 { HandBack, HandBackReap, GiveUp, Reenter };

struct Harness;
Harness* the_harness = nullptr;
bool leave_hook(Lpar& lpar, const Lpar* waiter, bool wait);
bool start_hook(Lpar& l) {
    return l.start();
}

struct Harness {
    // What the machine's memory held at power-on: not zero (ChunkPool zeroes a chunk before its
    // owner's first use, so none of this may reach an LPAR).
    std::vector<u8> ram = std::vector<u8>(usize{kChunks} * C, kPowerOnByte);
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::unique_ptr<LparTable> lpars = std::make_unique<LparTable>();
    std::unique_ptr<Bundle> bundle = std::make_unique<Bundle>();
    std::vector<u8> bundle_bytes;
    Lpar* ctl = nullptr;
    u32 boot_ids[2] = {};
    Leave leave = Leave::HandBack;
    Ret reentered = H_SUCCESS;
    bool reentering = false;
    // Per graceful stop: the tick from which a forced stop is due (no wrap-around).
    unsigned __int128 due[kMaxLpars + 1] = {};
    u64 created[2] = {}; // the last two ids CREATE gave
    u64 token = 0;       // the last token ATTACH gave

    // Before a step.
    u32 owner[kChunks] = {};
    std::vector<u8> edges = std::vector<u8>(usize{kChunks} * 2 * kEdge);
    std::vector<u8> window = std::vector<u8>(2 * kWindow);

    Harness() {
        const RealRange range{RealAddr(kRamBase), ram.size()};
        const RealWindow w{reinterpret_cast<uptr>(ram.data()), RealAddr(kRamBase), ram.size()};
        FUZZ_CHECK(pool->init(&range, 1, nullptr, 0, w));
        // Zeroed as the hypervisor's arch::scrub does, not by the instrumented rt::mem_set (3/4 of
        // the time); when a chunk is scrubbed is still the pool's decision.
        pool->set_scrubber([](void* host, usize len) { std::memset(host, 0, len); });
        std::vector<u8> prog(64, 0x60), blob(3, 1);
        const std::vector<bundle::WriterEntry> entries = {
            {"lpars.conf", bundle::EntryKind::Config, {'x'}},
            {"prog.bin", bundle::EntryKind::Kernel, prog},
            {"data", bundle::EntryKind::Blob, blob},
            {"vmlinux", bundle::EntryKind::Kernel, prog}, // not an ELF: Linux refuses it
        };
        std::string error;
        FUZZ_CHECK(bundle::write_bundle(entries, bundle_bytes, error));
        InputError ierr;
        FUZZ_CHECK(bundle->open(bundle_bytes.data(), bundle_bytes.size(), ierr));
        ctl = lpars->create("ctl", 1);
        FUZZ_CHECK(ctl && ctl->memory.assign(*pool, ctl->id, C));
        ctl->control = true;
        FUZZ_CHECK(ctl->mark_loaded() && ctl->start());
        the_harness = this;
        manage::machine().init(*lpars, *pool, bundle.get(), &start_hook, kTicksPerMs, &leave_hook);
        for (u32 b = 0; b < 2; ++b) boot_lpar(b);
    }

    u8* chunk_ptr(u32 i) { return ram.data() + usize{i} * C; }
    u8* caller_ptr() { return static_cast<u8*>(ctl->memory.host_ptr(LogicalAddr(0), C)); }

    // A boot-time LPAR as the configuration makes it: running, memory full of the canary.
    void boot_lpar(u32 b) {
        Lpar* l = lpars->create(b == 0 ? "boot1" : "boot2", b + 1);
        FUZZ_CHECK(l && l->memory.assign(*pool, l->id, C));
        // As a guest writes it: through the LPAR's own mapping (which zeroes the chunk first).
        std::memset(l->memory.host_ptr(LogicalAddr(0), C), fuzz::kNeighbourByte, C);
        manage::machine().watch_console(*l);
        FUZZ_CHECK(l->mark_loaded() && l->start());
        boot_ids[b] = l->id;
        due[l->id] = 0;
    }
    // A boot LPAR, or nullptr once destroyed (a run-time LPAR may have its slot then).
    Lpar* boot(u32 b) {
        Lpar* l = lpars->by_id(boot_ids[b]);
        return l && l->creator == 0 ? l : nullptr;
    }
    bool is_boot(const Lpar& l) { return &l == boot(0) || &l == boot(1); }

    // Samples of the canary: the first and last kSample bytes of every page.
    bool canary_intact(const Lpar& l) {
        for (u32 c = 0; c < l.memory.chunk_count(); ++c) {
            const u8* p = chunk_ptr(l.memory.real_chunk(c));
            for (usize page = 0; page < C; page += 4096)
                for (usize i = 0; i < kSample; ++i)
                    if (p[page + i] != fuzz::kNeighbourByte ||
                        p[page + 4096 - 1 - i] != fuzz::kNeighbourByte)
                        return false;
        }
        return true;
    }

    Ret call(Lpar& caller, Frame& f) {
        Env env{caller, caller.vcpus[0]};
        return dispatch(env, f);
    }
    Ret call_ctl(u64 op, u64 a0, u64 a1 = 0) {
        Frame f;
        f.opcode = op;
        f.args[0] = a0;
        f.args[1] = a1;
        return call(*ctl, f);
    }

    // What the run loop does when a CPU hands back the LPAR's vcpus: an ended LPAR is released.
    void hand_back(Lpar& l) {
        for (u32 i = 0; i < l.vcpu_count; ++i) l.vcpus[i].pcpu = kNoPcpu;
        if (l.has_ended()) release_lpar(l, *pool);
    }

    // Destroys `id` from the caller, handing its vcpus back after each H_BUSY: done within 3.
    void destroy_until_done(u64 id) {
        Ret r = H_BUSY;
        for (int tries = 0; tries < 3 && r == H_BUSY; ++tries) {
            leave = Leave::HandBack;
            r = call_ctl(TLPAR_DESTROY, id);
            if (r == H_BUSY)
                if (Lpar* l = lpars->by_id(static_cast<u32>(id))) hand_back(*l);
        }
        FUZZ_CHECK(r == H_SUCCESS);
        FUZZ_CHECK(id > kMaxLpars || lpars->by_id(static_cast<u32>(id)) == nullptr);
    }

    // ---- The checks --------------------------------------------------------------------------

    void snapshot() {
        for (u32 i = 0; i < kChunks; ++i) {
            owner[i] = pool->owner(i);
            std::memcpy(&edges[i * 2 * kEdge], chunk_ptr(i), kEdge);
            std::memcpy(&edges[i * 2 * kEdge + kEdge], chunk_ptr(i) + C - kEdge, kEdge);
        }
        std::memcpy(window.data(), caller_ptr(), kWindow);
        std::memcpy(window.data() + kWindow, caller_ptr() + C - kWindow, kWindow);
    }

    // Output the call may write into the caller's [at, at + len): taken over into the window.
    void allow_caller(u64 at, u64 len) {
        if (at >= C) return;
        const u64 end = len > C - at ? C : at + len;
        if (at < kWindow)
            std::memcpy(&window[at], caller_ptr() + at, (end < kWindow ? end : kWindow) - at);
        const u64 top = at > C - kWindow ? at : C - kWindow;
        if (top < end)
            std::memcpy(&window[kWindow + top - (C - kWindow)], caller_ptr() + top, end - top);
    }

    void check_memory(u32 writable_owner) {
        for (u32 i = 0; i < kChunks; ++i) {
            const u32 now = pool->owner(i);
            const u8* p = chunk_ptr(i);
            // A granule not zeroed since power-on (no owner used it) holds what it held then;
            // any other granule of a free or just handed-out chunk is zero.
            if (now == kChunkFree && owner[i] != kChunkFree) {
                for (u32 g = 0; g < kGranules; ++g) {
                    const u8* q = p + u64{g} * kGranuleSize;
                    if (pool->is_clean(i, g, 1)) { // zeroed when it came back, if it was used
                        FUZZ_CHECK(all_zero(q, kGranuleSize));
                    } else {
                        FUZZ_CHECK(q[0] == kPowerOnByte && q[kGranuleSize - 1] == kPowerOnByte);
                    }
                }
            } else if (now == kChunkFree || owner[i] == kChunkFree) { // free, or just handed out
                // (zero since it came back: only its edges are checked while it is free)
                const u8* last = p + C - kEdge;
                FUZZ_CHECK(!pool->is_clean(i, 0, 1) || all_zero(p, kEdge));
                FUZZ_CHECK(!pool->is_clean(i, kGranules - 1, 1) || all_zero(last, kEdge));
            } else if (now == ctl->id) {
                FUZZ_CHECK(std::memcmp(window.data(), caller_ptr(), kWindow) == 0);
                FUZZ_CHECK(
                    std::memcmp(window.data() + kWindow, caller_ptr() + C - kWindow, kWindow) == 0);
            } else if (now != writable_owner) {
                FUZZ_CHECK(std::memcmp(&edges[i * 2 * kEdge], p, kEdge) == 0);
                FUZZ_CHECK(std::memcmp(&edges[i * 2 * kEdge + kEdge], p + C - kEdge, kEdge) == 0);
            }
        }
    }

    void check_machine() {
        FUZZ_CHECK(lpars->by_id(ctl->id) == ctl);
        FUZZ_CHECK(ctl->is_live() && !ctl->released && ctl->control);
        FUZZ_CHECK(ctl->memory.chunk_count() == 1);
        u32 held[kMaxLpars + 1] = {};
        for (u32 i = 0; i < kChunks; ++i) {
            const u32 o = pool->owner(i);
            if (o == kChunkFree) continue;
            FUZZ_CHECK(o >= 1 && o <= kMaxLpars && lpars->by_id(o) != nullptr);
            ++held[o];
        }
        usize sum = 0;
        for (Lpar& l : *lpars) {
            FUZZ_CHECK(held[l.id] == l.memory.chunk_count());
            if (l.released) FUZZ_CHECK(l.memory.chunk_count() == 0);
            if (l.is_live()) FUZZ_CHECK(!l.released && l.memory.chunk_count() != 0);
            sum += l.memory.chunk_count();
        }
        FUZZ_CHECK(sum + pool->free_count() == pool->total());
    }

    // Everything a call could change that the harness can see (for the non-control caller).
    std::string fingerprint() {
        std::string s = std::to_string(pool->free_count()) + ";";
        for (Lpar& l : *lpars) {
            s += std::to_string(l.id) + "," + std::to_string(static_cast<int>(l.state)) + "," +
                 std::to_string(l.released) + "," + std::to_string(l.memory.chunk_count()) + "," +
                 std::to_string(manage::machine().flags(*ctl, l)) + "," + l.stop_reason + "," +
                 std::to_string(l.vty.pending_input()) + ";";
        }
        return s;
    }
};

bool leave_hook(Lpar& lpar, const Lpar* waiter, bool wait) {
    Harness& h = *the_harness;
    bool on_cpu = false;
    for (u32 i = 0; i < lpar.vcpu_count; ++i) on_cpu |= lpar.vcpus[i].pcpu != kNoPcpu;
    if (!on_cpu) return true;
    if (!wait) return false;
    FUZZ_CHECK(waiter == h.ctl);
    switch (h.leave) {
    case Leave::GiveUp:
        return false;
    case Leave::Reenter: // another CPU destroys it meanwhile: told to retry
        if (!h.reentering) {
            h.reentering = true;
            h.reentered = h.call_ctl(TLPAR_DESTROY, lpar.id);
            h.reentering = false;
            FUZZ_CHECK(h.reentered == H_BUSY);
            FUZZ_CHECK(h.lpars->by_id(lpar.id) == &lpar);
        }
        break;
    case Leave::HandBackReap: // the run loop released it as the last vcpu came back
        for (u32 i = 0; i < lpar.vcpu_count; ++i) lpar.vcpus[i].pcpu = kNoPcpu;
        if (lpar.has_ended()) release_lpar(lpar, *h.pool);
        return true;
    case Leave::HandBack:
        break;
    }
    for (u32 i = 0; i < lpar.vcpu_count; ++i) lpar.vcpus[i].pcpu = kNoPcpu;
    return true;
}

// Steps: the hcalls first (their index is the position in kOps), then the run loop's events.
enum Event : u8 { kRawNumber = 15, kOnCpu, kHandBack, kGuestEnd, kGuestOutput, kTick, kEvents };

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static Harness h;
    fuzz::Input in(data, size);
    fake::console_out.clear();
    fake::linux_loads = (in.byte() & 1) != 0;
    fake::timebase_now = 0; // each input's clock from 0: it never wraps

    // The caller's memory: the input's image, the strings, bytes to type and stage.
    u8* mem = h.caller_ptr();
    std::memset(mem, 0, kWindow);
    const usize image_len = in.u16v() % (kImageMax + 1);
    for (usize i = 0; i < image_len; ++i) mem[kImage + i] = in.byte();
    for (usize i = 0; i < kTextCount; ++i)
        std::memcpy(mem + kStrings + i * kStringGap, kTexts[i].data(), kTexts[i].size());
    std::memset(mem + kLongText, 'c', TLPAR_CMDLINE_MAX);
    for (usize i = 0; i < 0x1000; ++i) mem[kData + i] = static_cast<u8>(i * 7 + 1);
    std::memset(mem + C - kWindow, 0, kWindow);

    const usize start_free = h.pool->free_count();
    usize boot_chunks_start = 0;
    for (u32 b = 0; b < 2; ++b) boot_chunks_start += h.boot(b)->memory.chunk_count();
    h.created[0] = h.created[1] = 0;

    const u64 edges[] = {0,
                         1,
                         8,
                         0x1000,
                         kImage,
                         kData,
                         C - 0x1000,
                         C - 8,
                         C - 1,
                         C,
                         C + 0x1000,
                         2 * C - 1,
                         2 * C,
                         3 * C,
                         5 * C,
                         6 * C,
                         kMaxLparChunks * C,
                         u64{1} << 32,
                         TLPAR_COPY_MAX,
                         TLPAR_COPY_MAX + 1,
                         TLPAR_CONSOLE_WRITE_MAX,
                         TLPAR_CMDLINE_MAX,
                         kMaxVcpusPerLpar,
                         image_len,
                         C - image_len,
                         C - 0x100000,
                         u64{1} << 63,
                         ~u64{0} - 0xfff,
                         ~u64{0}};
    // An LPAR id: the caller, the boot LPARs, the last created, absent or truncated ones.
    auto id = [&]() -> u64 {
        const u8 v = in.byte();
        switch (v % 16) {
        case 0:
            return h.ctl->id;
        case 1:
            return h.boot_ids[0];
        case 2:
            return h.boot_ids[1];
        case 3:
        case 4:
        case 5:
            return h.created[0];
        case 6:
            return h.created[1];
        case 7:
            return 0;
        case 8:
            return kMaxLpars;
        case 9:
            return kMaxLpars + 1;
        case 10:
            return (u64{1} << 32) | h.created[0];
        case 11:
            return ~u64{0};
        default:
            return v % 16 - 11; // 1..4
        }
    };
    // A string of kTexts (its address and length, the length sometimes off by one or huge).
    auto text = [&](u64& at, u64& len) {
        const u8 v = in.byte();
        const usize i = v % kTextCount;
        at = kStrings + i * kStringGap;
        len = kTexts[i].size();
        if (v >= 0xf0)
            len = in.edge(edges);
        else if (v >= 0xe0)
            len += 1;
        else if (v >= 0xd0)
            at = in.edge(edges);
    };

    for (int step = 0; step < 48 && !in.empty(); ++step) {
        const u8 pick = in.byte();
        const u8 kind = pick % kEvents;
        const bool outsider = pick >= 0xf0; // the non-control LPAR makes the call
        h.leave = static_cast<Leave>(in.byte() % 4);
        h.snapshot();
        u32 writable = kChunkFree; // the owner whose memory the step may change

        if (kind >= kOnCpu) { // ---- the run loop --------------------------------------------
            const u64 target = id();
            Lpar* l = target <= kMaxLpars ? h.lpars->by_id(static_cast<u32>(target)) : nullptr;
            if (l == h.ctl) l = nullptr;
            const u8 arg = in.byte();
            if (kind == kTick) {
                const u64 advance[] = {1, 999, 1000, 30'000'000, 30'000'001, u64{1} << 40};
                fake::timebase_now += advance[in.byte() % 6];
                manage::machine().tick(fake::timebase_now);
                for (Lpar& o : *h.lpars) {
                    unsigned __int128& due = h.due[o.id];
                    if (due == 0) continue;
                    if (o.has_ended() && std::strncmp(o.stop_reason, "did not power", 13) == 0)
                        FUZZ_CHECK(due <= fake::timebase_now); // not forced before its deadline
                    if (o.has_ended()) due = 0;
                }
            } else if (l != nullptr && kind == kOnCpu && l->is_live()) {
                for (u32 i = 0; i < l->vcpu_count; ++i)
                    if (arg >> i & 1) l->vcpus[i].pcpu = 1;
            } else if (l != nullptr && kind == kHandBack) {
                h.hand_back(*l);
            } else if (l != nullptr && kind == kGuestEnd && l->is_live()) {
                if (arg & 1)
                    l->stop("power-off");
                else
                    l->crash("crashed");
                bool on_cpu = false;
                for (u32 i = 0; i < l->vcpu_count; ++i) on_cpu |= l->vcpus[i].pcpu != kNoPcpu;
                if (!on_cpu) release_lpar(*l, *h.pool);
            } else if (l != nullptr && kind == kGuestOutput && l->is_live()) {
                u8 line[64];
                for (usize i = 0; i < sizeof line; ++i) line[i] = static_cast<u8>('a' + i % 26);
                const usize times = arg & 0x80 ? (manage::kHistory / 16) + arg : arg;
                for (usize i = 0; i < times; ++i) l->vty.put(l->vty.termno(), line, 16);
            }
            h.check_machine();
            h.check_memory(writable);
            continue;
        }

        // ---- a management hcall ----------------------------------------------------------------
        Frame f;
        f.opcode = kind == kRawNumber ? TLPAR_HCALL_FIRST + in.byte() % 0x80 : kOps[kind];
        u64* a = f.args;
        switch (f.opcode) {
        case TLPAR_CREATE: {
            text(a[0], a[1]);
            const u8 v = in.byte();
            a[2] = v < 0xc0 ? C * (1 + v % 6) : in.edge(edges);
            const u8 n = in.byte();
            a[3] = n < 0xc0 ? 1 + n % kMaxVcpusPerLpar : in.edge(edges);
            if (in.byte() & 1) text(a[4], a[5]);
            break;
        }
        case TLPAR_LOAD: {
            a[0] = id();
            const u8 how = in.byte();
            a[1] = how < 0xf0 ? how % 4 : in.edge(edges);
            if (a[1] == TLPAR_LOAD_STAGED) { // ranges in the target
                a[2] = in.edge(edges);
                a[3] = in.edge(edges);
                a[4] = in.edge(edges);
                a[5] = in.edge(edges);
            } else {
                text(a[2], a[3]);
                if (in.byte() & 1) text(a[4], a[5]);
            }
            break;
        }
        case TLPAR_COPY_IN:
            a[0] = id();
            a[1] = in.edge(edges);
            a[2] = in.byte() & 1 ? kImage : in.edge(edges);
            a[3] = in.byte() & 1 ? image_len : in.edge(edges);
            break;
        case TLPAR_SET_CMDLINE:
            a[0] = id();
            if (in.byte() & 1) {
                a[1] = kLongText;
                a[2] = in.edge(edges);
            } else {
                text(a[1], a[2]);
            }
            break;
        case TLPAR_STOP:
            a[0] = id();
            a[1] = in.byte() % 4;
            a[2] = in.edge(edges);
            break;
        case TLPAR_STATUS:
        case TLPAR_CONSOLE_READ:
        case TLPAR_CONSOLE_WRITE:
        case TLPAR_CONSOLE_ATTACH:
        case TLPAR_CONSOLE_DETACH:
            a[0] = id();
            for (int i = 1; i < 5; ++i) a[i] = in.edge(edges);
            if (f.opcode == TLPAR_CONSOLE_ATTACH) a[1] = in.byte() % 3;
            if (f.opcode == TLPAR_CONSOLE_WRITE || f.opcode == TLPAR_CONSOLE_DETACH) {
                const u8 t = in.byte();
                a[1] = t % 4 == 0 ? t : h.token + (t % 4 == 3);
            }
            break;
        case TLPAR_FIND:
            text(a[0], a[1]);
            break;
        default: // START, DESTROY, NEXT, FREE_MEMORY, numbers without an operation
            a[0] = id();
            for (int i = 1; i < 6; ++i) a[i] = in.edge(edges);
            break;
        }
        Lpar* target = a[0] <= kMaxLpars ? h.lpars->by_id(static_cast<u32>(a[0])) : nullptr;
        if (!outsider && target && target->creator == h.ctl->id &&
            target->state == LparState::Created &&
            (f.opcode == TLPAR_COPY_IN || f.opcode == TLPAR_LOAD))
            writable = target->id;

        if (outsider) { // ---- a non-control LPAR learns nothing and changes nothing -----------
            Lpar* nc = h.boot(0);
            if (nc == nullptr || !nc->is_live()) continue;
            const std::string before = h.fingerprint();
            Frame g = f;
            FUZZ_CHECK(h.call(*nc, g) == H_FUNCTION);
            for (u64 r : g.rets) FUZZ_CHECK(r == 0);
            FUZZ_CHECK(h.fingerprint() == before);
            h.check_memory(kChunkFree);
            continue;
        }

        const bool was_live = target && target->is_live();
        const u64 before = fake::timebase_now; // a graceful stop's deadline counts from later
        const Ret r = h.call(*h.ctl, f);
        fake::console_out.clear();
        static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;
        if (trace)
            std::fprintf(stderr, "%#llx(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx) = %lld [%#llx]\n",
                         ull(f.opcode), ull(a[0]), ull(a[1]), ull(a[2]), ull(a[3]), ull(a[4]),
                         ull(a[5]), static_cast<long long>(r), ull(f.rets[0]));
        FUZZ_CHECK(fuzz::papr_status(r));
        if (!is_op(f.opcode)) FUZZ_CHECK(r == H_FUNCTION);
        if (r != H_SUCCESS && r != H_FUNCTION)
            FUZZ_CHECK(f.rets[0] >= TLPAR_E_NO_LPAR && f.rets[0] <= TLPAR_E_LAN);
        switch (f.opcode) {
        case TLPAR_CREATE:
            if (r == H_SUCCESS) {
                h.created[1] = h.created[0];
                h.created[0] = f.rets[0];
                Lpar* l = h.lpars->by_id(static_cast<u32>(f.rets[0]));
                FUZZ_CHECK(l && l->state == LparState::Created && l->creator == h.ctl->id);
                FUZZ_CHECK(l->memory.size() == a[2] && l->vcpu_count == a[3] && !l->control);
                h.due[l->id] = 0;
            }
            break;
        case TLPAR_STOP:
            if (a[0] == h.ctl->id && a[1] <= TLPAR_STOP_FORCE)
                FUZZ_CHECK(r == H_PARAMETER && f.rets[0] == TLPAR_E_SELF);
            if (r == H_SUCCESS && (a[1] & TLPAR_STOP_FORCE)) FUZZ_CHECK(target->has_ended());
            if (r == H_SUCCESS && !(a[1] & TLPAR_STOP_FORCE) && was_live) {
                const u64 ms = a[2] ? a[2] : TLPAR_STOP_DEFAULT_MS;
                h.due[target->id] = before + static_cast<unsigned __int128>(ms) * kTicksPerMs;
            }
            break;
        case TLPAR_DESTROY:
            if (a[0] == h.ctl->id) FUZZ_CHECK(r == H_PARAMETER && f.rets[0] == TLPAR_E_SELF);
            if (target == nullptr && a[0] != h.ctl->id) FUZZ_CHECK(r == H_SUCCESS); // idempotent
            FUZZ_CHECK(r == H_SUCCESS || r == H_BUSY || a[0] == h.ctl->id);
            if (r == H_SUCCESS && target)
                FUZZ_CHECK(h.lpars->by_id(static_cast<u32>(a[0])) == nullptr);
            if (r == H_BUSY && (in.byte() & 1)) h.destroy_until_done(a[0]); // continue it
            break;
        case TLPAR_COPY_IN:
            if (r == H_SUCCESS) FUZZ_CHECK(writable != kChunkFree); // only into those
            break;
        case TLPAR_LOAD:
            if (r == H_SUCCESS) FUZZ_CHECK(target->state == LparState::Loaded);
            break;
        case TLPAR_START:
            if (r == H_SUCCESS) FUZZ_CHECK(target->is_live());
            break;
        case TLPAR_STATUS:
            h.allow_caller(a[1], a[2]);
            h.allow_caller(a[3], a[4]);
            if (r == H_SUCCESS) {
                FUZZ_CHECK(f.rets[0] == static_cast<u64>(target->state));
                FUZZ_CHECK(f.rets[1] == target->memory.size() && f.rets[4] <= a[2]);
            }
            break;
        case TLPAR_CONSOLE_READ:
            h.allow_caller(a[1], a[2] < 256 ? a[2] : 256);
            if (r == H_SUCCESS) FUZZ_CHECK(f.rets[0] <= a[2] && f.rets[0] <= 256);
            break;
        case TLPAR_CONSOLE_ATTACH:
            if (r == H_SUCCESS) h.token = f.rets[0];
            break;
        case TLPAR_FREE_MEMORY:
            FUZZ_CHECK(r == H_SUCCESS && f.rets[0] == h.pool->free_count() * C &&
                       f.rets[1] == (h.pool->total() - h.pool->hypervisor_count()) * C);
            break;
        case TLPAR_NEXT:
            FUZZ_CHECK(r == H_SUCCESS);
            FUZZ_CHECK(f.rets[0] == 0 ||
                       (f.rets[0] > a[0] && h.lpars->by_id(static_cast<u32>(f.rets[0]))));
            break;
        default:
            break;
        }
        h.check_machine();
        h.check_memory(writable);
    }

    // ---- The end: every run-time LPAR destroyed, the pool back where it started ----------------
    for (u32 i = 1; i <= kMaxLpars; ++i) {
        Lpar* l = h.lpars->by_id(i);
        if (l && l != h.ctl && !h.is_boot(*l)) h.destroy_until_done(i);
    }
    h.check_machine();
    usize boot_chunks = 0;
    for (u32 b = 0; b < 2; ++b)
        if (Lpar* l = h.boot(b)) boot_chunks += l->memory.chunk_count();
    FUZZ_CHECK(h.pool->free_count() == start_free + boot_chunks_start - boot_chunks);
    // The boot LPARs as the next input expects them (again from scratch when touched).
    for (u32 b = 0; b < 2; ++b) {
        Lpar* l = h.boot(b);
        if (l && l->is_live() && !(manage::machine().flags(*h.ctl, *l) & TLPAR_F_STOPPING)) {
            FUZZ_CHECK(h.canary_intact(*l));
            for (Vcpu& v : l->vcpus) v.pcpu = kNoPcpu;
            l->vty.reset();
            continue;
        }
        if (l) h.destroy_until_done(l->id);
    }
    for (u32 b = 0; b < 2; ++b)
        if (h.boot(b) == nullptr) h.boot_lpar(b);
    FUZZ_CHECK(h.pool->free_count() == start_free);
    fake::console_out.clear();
    return 0;
}
