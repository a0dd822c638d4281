// The LPAR management hcalls (hcall/manage.cpp over common/manage.cpp): authority, every
// operation's validation, the state machine, memory back to the pool after create/destroy
// cycles, the console history and its one writer, graceful and forced stops.
#include "common/bundle.hpp"
#include "common/chunks.hpp"
#include "common/hosted/bundle_writer.hpp"
#include "common/llan.hpp"
#include "common/lpar.hpp"
#include "common/lpar_config.hpp"
#include "common/manage.hpp"
#include "common/vio.hpp"
#include "common/vio_devices.hpp"
#include "common/vswitch.hpp"
#include "hcall/dispatch.hpp"
#include "tests/fake/arch_fake.hpp"
#include "tests/unit/elf_headers.hpp"

#include <algorithm>
#include <cstring>
#include <doctest/doctest.h>
#include <elf.h>
#include <memory>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::hcall;

namespace {

bool fake_start(Lpar& l) {
    return l.start();
}

// A machine of 6 chunks with one control LPAR ("ctl", 1 chunk) and the manager over it; a
// bundle with a test program "prog.bin" and a blob "data".
struct Machine {
    static constexpr u64 kBase = 1 * GiB;
    static constexpr u64 kStrings = 0x1000; // where the caller's strings go
    std::vector<u8> mem = std::vector<u8>(6 * kChunkSize);
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::unique_ptr<LparTable> lpars = std::make_unique<LparTable>();
    std::unique_ptr<Bundle> bundle = std::make_unique<Bundle>();
    std::vector<u8> bundle_bytes;
    Lpar* ctl = nullptr;
    u64 next_string = kStrings;

    explicit Machine(bool control = true) {
        fake::lpar_init_ok = true;
        fake::linux_loads = false;
        RealRange ram{RealAddr(kBase), mem.size()};
        RealWindow w{reinterpret_cast<uptr>(mem.data()), RealAddr(kBase), mem.size()};
        REQUIRE(pool->init(&ram, 1, nullptr, 0, w));
        std::vector<bundle::WriterEntry> entries = {
            {"lpars.conf", bundle::EntryKind::Config, {'x'}},
            {"prog.bin", bundle::EntryKind::Kernel, {0x11, 0x22, 0x33, 0x44}},
            {"data", bundle::EntryKind::Blob, {1, 2, 3}},
        };
        std::string error;
        REQUIRE_MESSAGE(bundle::write_bundle(entries, bundle_bytes, error), error);
        InputError ierr;
        REQUIRE_MESSAGE(bundle->open(bundle_bytes.data(), bundle_bytes.size(), ierr), ierr.c_str());
        ctl = lpars->create("ctl", 1);
        REQUIRE(ctl);
        REQUIRE(ctl->memory.assign(*pool, ctl->id, kChunkSize));
        ctl->control = control;
        REQUIRE(ctl->mark_loaded());
        REQUIRE(ctl->start());
        manage::machine().init(*lpars, *pool, bundle.get(), &fake_start, 1);
    }
    ~Machine() { manage::machine().shutdown(); }
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    // A string in the caller's memory: its logical address.
    u64 str(const std::string& s) {
        const u64 at = next_string;
        REQUIRE(ctl->memory.copy_in(LogicalAddr(at), s.data(), s.size()));
        next_string += s.size() + 8;
        return at;
    }
    struct Result {
        Ret status;
        u64 rets[kMaxArgs];
    };
    Result call(u64 opcode, std::vector<u64> args) {
        Frame f;
        f.opcode = opcode;
        for (usize i = 0; i < args.size() && i < kMaxArgs; ++i) f.args[i] = args[i];
        Env env{*ctl, ctl->vcpus[0]};
        Result r{dispatch(env, f), {}};
        std::memcpy(r.rets, f.rets, sizeof r.rets);
        return r;
    }
    Result create(const std::string& name, u64 memory, u64 vcpus, const std::string& lans = "") {
        return call(TLPAR_CREATE, {str(name), name.size(), memory, vcpus, str(lans), lans.size()});
    }
    u64 create_ok(const std::string& name, u64 memory = kChunkSize, u64 vcpus = 1) {
        Result r = create(name, memory, vcpus);
        REQUIRE(r.status == H_SUCCESS);
        return r.rets[0];
    }
    Result load(u64 id, u64 how, const std::string& kernel = "", const std::string& initrd = "") {
        return call(TLPAR_LOAD, {id, how, str(kernel), kernel.size(), str(initrd), initrd.size()});
    }
    // A run-time LPAR running the test program: its id.
    u64 started(const std::string& name, u64 memory = kChunkSize) {
        const u64 id = create_ok(name, memory);
        REQUIRE(load(id, TLPAR_LOAD_PROGRAM, "prog.bin").status == H_SUCCESS);
        REQUIRE(call(TLPAR_START, {id}).status == H_SUCCESS);
        return id;
    }
};

// status and reason of a failed call
void check_refused(const Machine::Result& r, Ret status, u64 reason) {
    CHECK(r.status == status);
    CHECK(r.rets[0] == reason);
}

} // namespace

TEST_CASE("manage: a non-control LPAR gets H_FUNCTION for every number of the block") {
    Machine m(false);
    const u64 id = 1; // itself: even harmless queries answer nothing
    for (u64 n = TLPAR_HCALL_FIRST; n <= TLPAR_HCALL_LAST; n += 4) {
        Machine::Result r = m.call(n, {id, 0, 0, 0});
        CHECK_MESSAGE(r.status == H_FUNCTION, "hcall ", n);
        CHECK(r.rets[0] == 0);
    }
    CHECK(m.lpars->count() == 1);
}

TEST_CASE("manage: numbers of the block without an operation are H_FUNCTION for a control LPAR") {
    Machine m;
    CHECK(m.call(TLPAR_CONSOLE_DETACH + 4, {}).status == H_FUNCTION);
    CHECK(m.call(TLPAR_HCALL_LAST, {}).status == H_FUNCTION);
    CHECK(m.call(TLPAR_HCALL_FIRST + 2, {}).status == H_FUNCTION); // not a multiple of 4
}

TEST_CASE("manage: create validates name, memory and vcpus before it changes anything") {
    Machine m;
    const usize free = m.pool->free_count();
    check_refused(m.create("", kChunkSize, 1), H_PARAMETER, TLPAR_E_BAD_NAME);
    check_refused(m.create("a b", kChunkSize, 1), H_PARAMETER, TLPAR_E_BAD_NAME);
    check_refused(m.create(std::string(40, 'x'), kChunkSize, 1), H_P2, TLPAR_E_BAD_NAME);
    check_refused(m.create("ctl", kChunkSize, 1), H_PARAMETER, TLPAR_E_NAME_USED);
    check_refused(m.create("a", 0, 1), H_P3, TLPAR_E_BAD_MEMORY);
    check_refused(m.create("a", kChunkSize + 4096, 1), H_P3, TLPAR_E_BAD_MEMORY);
    check_refused(m.create("a", 6 * kChunkSize, 1), H_NO_MEM, TLPAR_E_NO_MEMORY);
    check_refused(m.create("a", kChunkSize, 0), H_P4, TLPAR_E_NO_VCPUS);
    check_refused(m.create("a", kChunkSize, kMaxVcpusPerLpar + 1), H_P4, TLPAR_E_TOO_MANY_VCPUS);
    check_refused(m.create("a", kChunkSize, 1, "-net0"), H_PARAMETER, TLPAR_E_LAN);
    CHECK(m.pool->free_count() == free);
    CHECK(m.lpars->count() == 1);

    const u64 id = m.create_ok("a", 5 * kChunkSize, 8); // all the free memory
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    REQUIRE(a);
    CHECK(a->state == LparState::Created);
    CHECK(a->creator == m.ctl->id);
    CHECK(!a->control);
    CHECK(a->vcpu_count == 8);
    CHECK(m.pool->free_count() == 0);
    check_refused(m.create("b", kChunkSize, 1), H_NO_MEM, TLPAR_E_NO_MEMORY);
}

TEST_CASE("manage: an ISA that cannot host the LPAR gives everything back") {
    Machine m;
    const usize free = m.pool->free_count();
    fake::lpar_init_ok = false;
    check_refused(m.create("a", kChunkSize, 1), H_RESOURCE, TLPAR_E_ISA);
    fake::lpar_init_ok = true;
    CHECK(m.pool->free_count() == free);
    CHECK(m.lpars->count() == 1);
}

TEST_CASE("manage: unknown LPARs and the caller itself") {
    Machine m;
    for (u64 op : {TLPAR_LOAD, TLPAR_COPY_IN, TLPAR_SET_CMDLINE, TLPAR_START, TLPAR_STOP,
                   TLPAR_STATUS, TLPAR_CONSOLE_READ, TLPAR_CONSOLE_ATTACH}) {
        CAPTURE(op);
        check_refused(m.call(op, {9, 0, 0, 0}), H_PARAMETER, TLPAR_E_NO_LPAR);
        check_refused(m.call(op, {0, 0, 0, 0}), H_PARAMETER, TLPAR_E_NO_LPAR);
    }
    check_refused(m.call(TLPAR_FIND, {m.str("nobody"), 6}), H_NOT_FOUND, TLPAR_E_NO_LPAR);
    // Destroy and stop never reach the caller.
    check_refused(m.call(TLPAR_DESTROY, {m.ctl->id}), H_PARAMETER, TLPAR_E_SELF);
    check_refused(m.call(TLPAR_STOP, {m.ctl->id, TLPAR_STOP_FORCE}), H_PARAMETER, TLPAR_E_SELF);
    check_refused(m.call(TLPAR_STOP, {m.ctl->id, 0}), H_PARAMETER, TLPAR_E_SELF);
    CHECK(m.ctl->state == LparState::Running);
    // Destroy of an id that does not exist succeeds: it is idempotent.
    CHECK(m.call(TLPAR_DESTROY, {9}).status == H_SUCCESS);
    CHECK(m.call(TLPAR_DESTROY, {12345}).status == H_SUCCESS);
}

TEST_CASE("manage: copy-in only into the caller's own new LPAR, inside both, before load") {
    Machine m;
    const u64 id = m.create_ok("a");
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    const char text[] = "hello";
    REQUIRE(m.ctl->memory.copy_in(LogicalAddr(0x8000), text, sizeof text));
    CHECK(m.call(TLPAR_COPY_IN, {id, 0x100, 0x8000, sizeof text}).status == H_SUCCESS);
    char got[sizeof text] = {};
    REQUIRE(a->memory.copy_out(got, LogicalAddr(0x100), sizeof got));
    CHECK(std::string(got) == "hello");
    // Outside the target, outside the caller, too long, wrapping.
    check_refused(m.call(TLPAR_COPY_IN, {id, kChunkSize - 2, 0x8000, 4}), H_PARAMETER,
                  TLPAR_E_BAD_RANGE);
    check_refused(m.call(TLPAR_COPY_IN, {id, 0, kChunkSize - 2, 4}), H_PARAMETER,
                  TLPAR_E_BAD_RANGE);
    check_refused(m.call(TLPAR_COPY_IN, {id, 0, 0, TLPAR_COPY_MAX + 1}), H_PARAMETER,
                  TLPAR_E_BAD_RANGE);
    check_refused(m.call(TLPAR_COPY_IN, {id, ~u64{0} - 1, 0, 4}), H_PARAMETER, TLPAR_E_BAD_RANGE);
    // Not into an LPAR another one created (here: the boot-time one, made by the config).
    Lpar* other = m.lpars->create("boot", 1);
    REQUIRE(other);
    REQUIRE(other->memory.assign(*m.pool, other->id, kChunkSize));
    check_refused(m.call(TLPAR_COPY_IN, {other->id, 0, 0x8000, 4}), H_PERMISSION,
                  TLPAR_E_NOT_CREATOR);
    // Not after it was loaded or started.
    CHECK(m.load(id, TLPAR_LOAD_COPIED).status == H_SUCCESS);
    check_refused(m.call(TLPAR_COPY_IN, {id, 0, 0x8000, 4}), H_PARAMETER, TLPAR_E_STATE);
    CHECK(m.call(TLPAR_START, {id}).status == H_SUCCESS);
    check_refused(m.call(TLPAR_COPY_IN, {id, 0, 0x8000, 4}), H_PARAMETER, TLPAR_E_STATE);
}

TEST_CASE("manage: load by bundle entry, set the command line first, start once") {
    Machine m;
    const u64 id = m.create_ok("a");
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    check_refused(m.call(TLPAR_START, {id}), H_PARAMETER, TLPAR_E_STATE); // not loaded
    check_refused(m.load(id, TLPAR_LOAD_PROGRAM, "missing"), H_PARAMETER, TLPAR_E_NO_ENTRY);
    check_refused(m.load(id, TLPAR_LOAD_PROGRAM, "lpars.conf"), H_PARAMETER, TLPAR_E_NO_ENTRY);
    check_refused(m.load(id, TLPAR_LOAD_PROGRAM, "prog.bin", "missing"), H_PARAMETER,
                  TLPAR_E_NO_ENTRY);
    check_refused(m.load(id, 7, "prog.bin"), H_P2, TLPAR_E_BAD_ARG);
    const std::string cmd = "console=hvc0";
    CHECK(m.call(TLPAR_SET_CMDLINE, {id, m.str(cmd), cmd.size()}).status == H_SUCCESS);
    check_refused(m.call(TLPAR_SET_CMDLINE, {id, m.str(cmd), TLPAR_CMDLINE_MAX}), H_P3,
                  TLPAR_E_BAD_ARG);
    // The fake ISA loads no Linux: the reason is kept and the LPAR stays Created.
    check_refused(m.load(id, TLPAR_LOAD_LINUX, "prog.bin"), H_PARAMETER, TLPAR_E_LOAD);
    CHECK(a->state == LparState::Created);
    CHECK(m.load(id, TLPAR_LOAD_PROGRAM, "prog.bin", "data").status == H_SUCCESS);
    CHECK(a->state == LparState::Loaded);
    u8 first[4] = {};
    REQUIRE(a->memory.copy_out(first, LogicalAddr(0), 4));
    CHECK(first[0] == 0x11);
    CHECK(first[3] == 0x44);
    CHECK(a->boot_all_vcpus);
    check_refused(m.load(id, TLPAR_LOAD_PROGRAM, "prog.bin"), H_PARAMETER, TLPAR_E_STATE);
    check_refused(m.call(TLPAR_SET_CMDLINE, {id, m.str(cmd), cmd.size()}), H_PARAMETER,
                  TLPAR_E_STATE);
    CHECK(m.call(TLPAR_START, {id}).status == H_SUCCESS);
    CHECK(a->state == LparState::Running);
    check_refused(m.call(TLPAR_START, {id}), H_PARAMETER, TLPAR_E_STATE);
}

namespace {

// A tiny EM_PPC64 executable: one segment at 0x10000 (0x100 bytes of 0x11, 0x100 of bss), the
// entry at 0x10010.
std::vector<u8> tiny_kernel() {
    std::vector<u8> f(0x1100, 0);
    const Elf64_Ehdr h = test::header64(ET_EXEC, 0x10010, 1);
    const Elf64_Phdr p{PT_LOAD, 5, 0x1000, 0x10000, 0x10000, 0x100, 0x200, 0x10000};
    std::memcpy(f.data(), &h, sizeof h);
    std::memcpy(f.data() + sizeof h, &p, sizeof p);
    std::memset(f.data() + 0x1000, 0x11, 0x100);
    return f;
}

} // namespace

TEST_CASE("manage: Linux staged in the target by copy-in loads from there, ranges checked first") {
    Machine m;
    fake::linux_loads = true; // the fake ISA loads the ELF and moves the initrd 1 MiB up
    const u64 id = m.create_ok("a");
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    const auto kernel = tiny_kernel();
    const std::vector<u8> initrd(0x3000, 0x5a);
    const u64 k_at = kChunkSize - 0x100000, k_len = kernel.size();
    const u64 i_at = kChunkSize - 0x10000, i_len = initrd.size();
    // Staged as lparctl does: copied in from the caller's memory, near the target's top.
    REQUIRE(m.ctl->memory.copy_in(LogicalAddr(0x100000), kernel.data(), k_len));
    REQUIRE(m.call(TLPAR_COPY_IN, {id, k_at, 0x100000, k_len}).status == H_SUCCESS);
    REQUIRE(m.ctl->memory.copy_in(LogicalAddr(0x200000), initrd.data(), i_len));
    REQUIRE(m.call(TLPAR_COPY_IN, {id, i_at, 0x200000, i_len}).status == H_SUCCESS);
    auto staged = [&](u64 ka, u64 kl, u64 ia, u64 il, u64 to = 0) {
        return m.call(TLPAR_LOAD, {to ? to : id, TLPAR_LOAD_STAGED, ka, kl, ia, il});
    };
    // Ranges: no kernel, outside the target, wrapping, overlapping, the whole LPAR.
    check_refused(staged(k_at, 0, i_at, i_len), H_PARAMETER, TLPAR_E_BAD_RANGE);
    check_refused(staged(kChunkSize - 0x800, k_len, 0, 0), H_PARAMETER, TLPAR_E_BAD_RANGE);
    check_refused(staged(~u64{0} - 0x100, k_len, 0, 0), H_PARAMETER, TLPAR_E_BAD_RANGE);
    check_refused(staged(k_at, k_len, kChunkSize - 0x100, 0x200), H_PARAMETER, TLPAR_E_BAD_RANGE);
    check_refused(staged(k_at, k_len, ~u64{0}, 2), H_PARAMETER, TLPAR_E_BAD_RANGE);
    check_refused(staged(k_at, k_len, k_at + 0x800, 0x1000), H_PARAMETER, TLPAR_E_BAD_RANGE);
    check_refused(staged(0, kChunkSize, 0, 0), H_PARAMETER, TLPAR_E_BAD_RANGE);
    check_refused(staged(k_at, k_len, 0, 0, 99), H_PARAMETER, TLPAR_E_NO_LPAR);
    check_refused(staged(k_at, k_len, 0, 0, m.ctl->id), H_PARAMETER, TLPAR_E_SELF);
    CHECK(a->stop_reason[0] == '\0'); // none of these got as far as the loader
    // No ELF where it points; a segment where the initrd is staged: the reason is in its status
    // and it stays Created, nothing written.
    check_refused(staged(i_at, i_len, 0, 0), H_PARAMETER, TLPAR_E_LOAD);
    CHECK(std::string(a->stop_reason) == "not an ELF file");
    check_refused(staged(k_at, k_len, 0x10100, 0x100), H_PARAMETER, TLPAR_E_LOAD);
    CHECK(std::string(a->stop_reason) == "segment 0 would overwrite the staged initrd at 0x10100");
    CHECK(a->state == LparState::Created);
    u8 b = 0;
    REQUIRE(a->memory.copy_out(&b, LogicalAddr(0x10000), 1));
    CHECK(b == 0);

    const std::string cmd = "console=hvc0";
    CHECK(m.call(TLPAR_SET_CMDLINE, {id, m.str(cmd), cmd.size()}).status == H_SUCCESS);
    CHECK(staged(k_at, k_len, i_at, i_len).status == H_SUCCESS);
    CHECK(a->state == LparState::Loaded);
    CHECK(a->stop_reason[0] == '\0');
    CHECK(a->boot.entry == LogicalAddr(0x10010));
    CHECK_FALSE(a->boot_all_vcpus);
    u8 seg[0x200];
    REQUIRE(a->memory.copy_out(seg, LogicalAddr(0x10000), sizeof seg));
    CHECK(seg[0] == 0x11);
    CHECK(seg[0xff] == 0x11);
    CHECK(seg[0x100] == 0); // bss
    // The initrd moved from its staging to where the (fake) boot protocol wants it.
    CHECK(a->boot.args[0] == 0x100000);
    CHECK(a->boot.args[1] == i_len);
    std::vector<u8> moved(i_len);
    REQUIRE(a->memory.copy_out(moved.data(), LogicalAddr(0x100000), i_len));
    CHECK(moved == initrd);
    // Once loaded: no second load, no copy-in; it starts.
    check_refused(staged(k_at, k_len, i_at, i_len), H_PARAMETER, TLPAR_E_STATE);
    check_refused(m.call(TLPAR_COPY_IN, {id, k_at, 0x100000, 16}), H_PARAMETER, TLPAR_E_STATE);
    CHECK(m.call(TLPAR_START, {id}).status == H_SUCCESS);
    // Without an initrd, and an unknown `how` next to it.
    const u64 id2 = m.create_ok("b");
    REQUIRE(m.ctl->memory.copy_in(LogicalAddr(0x100000), kernel.data(), k_len));
    REQUIRE(m.call(TLPAR_COPY_IN, {id2, k_at, 0x100000, k_len}).status == H_SUCCESS);
    check_refused(m.call(TLPAR_LOAD, {id2, TLPAR_LOAD_STAGED + 1, k_at, k_len, 0, 0}), H_P2,
                  TLPAR_E_BAD_ARG);
    CHECK(staged(k_at, k_len, 0, 0, id2).status == H_SUCCESS);
    CHECK(m.lpars->by_id(static_cast<u32>(id2))->boot.args[1] == 0);
    fake::linux_loads = false;
}

TEST_CASE("manage: list, find and status come from the table") {
    Machine m;
    const u64 a = m.create_ok("alpha", 2 * kChunkSize, 2);
    const u64 b = m.create_ok("beta");
    CHECK(m.call(TLPAR_NEXT, {0}).rets[0] == m.ctl->id);
    CHECK(m.call(TLPAR_NEXT, {m.ctl->id}).rets[0] == a);
    CHECK(m.call(TLPAR_NEXT, {a}).rets[0] == b);
    CHECK(m.call(TLPAR_NEXT, {b}).rets[0] == 0);
    CHECK(m.call(TLPAR_NEXT, {~u64{0}}).rets[0] == 0); // no wrap to the first id
    CHECK(m.call(TLPAR_FIND, {m.str("beta"), 4}).rets[0] == b);
    const u64 name = 0x9000, reason = 0x9100;
    Machine::Result r = m.call(TLPAR_STATUS, {a, name, 32, reason, 64});
    REQUIRE(r.status == H_SUCCESS);
    CHECK(r.rets[0] == TLPAR_STATE_CREATED);
    CHECK(r.rets[1] == 2 * kChunkSize);
    CHECK(r.rets[2] == 2);
    CHECK(r.rets[3] == TLPAR_F_RUNTIME);
    CHECK(r.rets[4] == 5);
    char got[8] = {};
    REQUIRE(m.ctl->memory.copy_out(got, LogicalAddr(name), 5));
    CHECK(std::string(got) == "alpha");
    r = m.call(TLPAR_STATUS, {m.ctl->id, name, 32, reason, 64});
    CHECK(r.rets[3] == (TLPAR_F_CONTROL | TLPAR_F_CALLER));
    // A buffer outside the caller: H_PARAMETER, nothing written elsewhere.
    check_refused(m.call(TLPAR_STATUS, {a, kChunkSize - 2, 32, reason, 64}), H_PARAMETER,
                  TLPAR_E_BAD_RANGE);
    r = m.call(TLPAR_FREE_MEMORY, {});
    CHECK(r.rets[0] == 2 * kChunkSize);
    CHECK(r.rets[1] == 6 * kChunkSize);
}

TEST_CASE("manage: 50 create/destroy cycles give every chunk back, zeroed") {
    Machine m;
    const usize free = m.pool->free_count();
    for (int i = 0; i < 50; ++i) {
        CAPTURE(i);
        const u64 id = m.create_ok("cycle", 3 * kChunkSize, 2);
        Lpar* l = m.lpars->by_id(static_cast<u32>(id));
        REQUIRE(l);
        // Leave something behind that the next owner must not see.
        u8 secret = static_cast<u8>(0xa0 + i % 16);
        REQUIRE(l->memory.fill(LogicalAddr(0), secret, 3 * kChunkSize));
        if (i % 3 == 1) {
            REQUIRE(m.load(id, TLPAR_LOAD_PROGRAM, "prog.bin").status == H_SUCCESS);
        } else if (i % 3 == 2) {
            REQUIRE(m.load(id, TLPAR_LOAD_PROGRAM, "prog.bin").status == H_SUCCESS);
            REQUIRE(m.call(TLPAR_START, {id}).status == H_SUCCESS);
        }
        CHECK(m.pool->free_count() == free - 3);
        CHECK(m.call(TLPAR_DESTROY, {id}).status == H_SUCCESS);
        CHECK(m.call(TLPAR_DESTROY, {id}).status == H_SUCCESS); // idempotent
        CHECK(m.pool->free_count() == free);
        CHECK(m.lpars->count() == 1);
        CHECK(m.lpars->by_name("cycle") == nullptr);
        CHECK(!l->arch.initialised); // the fake ISA's teardown ran
    }
    // The next owner of those chunks sees zeros.
    const u64 id = m.create_ok("after", 5 * kChunkSize);
    Lpar* l = m.lpars->by_id(static_cast<u32>(id));
    std::vector<u8> seen(5 * kChunkSize, 1);
    REQUIRE(l->memory.copy_out(seen.data(), LogicalAddr(0), seen.size()));
    CHECK(std::count(seen.begin(), seen.end(), u8{0}) == static_cast<long>(seen.size()));
}

TEST_CASE("manage: forced stop ends the LPAR now and releases its memory; stop is repeatable") {
    Machine m;
    const usize free = m.pool->free_count();
    const u64 id = m.create_ok("a", 2 * kChunkSize);
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    check_refused(m.call(TLPAR_STOP, {id, TLPAR_STOP_FORCE}), H_PARAMETER, TLPAR_E_STATE);
    REQUIRE(m.load(id, TLPAR_LOAD_PROGRAM, "prog.bin").status == H_SUCCESS);
    REQUIRE(m.call(TLPAR_START, {id}).status == H_SUCCESS);
    check_refused(m.call(TLPAR_STOP, {id, 2}), H_P2, TLPAR_E_BAD_ARG);
    CHECK(m.call(TLPAR_STOP, {id, TLPAR_STOP_FORCE}).status == H_SUCCESS);
    CHECK(a->state == LparState::Stopped);
    CHECK(std::string(a->stop_reason) == "stopped by ctl");
    CHECK(a->released);
    CHECK(m.pool->free_count() == free);
    CHECK(m.call(TLPAR_STOP, {id, TLPAR_STOP_FORCE}).status == H_SUCCESS);
    Machine::Result r = m.call(TLPAR_STATUS, {id, 0x9000, 32, 0x9100, 64});
    CHECK(r.rets[0] == TLPAR_STATE_STOPPED);
    CHECK(r.rets[1] == 0); // no memory any more
    CHECK(m.call(TLPAR_DESTROY, {id}).status == H_SUCCESS);
    CHECK(m.pool->free_count() == free);
}

TEST_CASE("manage: graceful stop types SysRq power-off on the console, forced at the deadline") {
    Machine m;
    const u64 id = m.started("a");
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    CHECK(m.call(TLPAR_STOP, {id, 0, 100}).status == H_SUCCESS); // 100 ms = 100 ticks here
    CHECK(a->is_live());
    CHECK((m.call(TLPAR_STATUS, {id, 0x9000, 0, 0x9100, 0}).rets[3] & TLPAR_F_STOPPING) != 0);
    u8 keys[8];
    usize n = 0;
    CHECK(a->vty.get(a->vty.termno(), keys, sizeof keys, n) == H_SUCCESS);
    CHECK(std::string(reinterpret_cast<char*>(keys), n) == "\x0fs\x0fo");
    manage::machine().tick(fake::timebase_now + 50);
    CHECK(a->is_live());
    manage::machine().tick(fake::timebase_now + 200);
    CHECK(a->state == LparState::Stopped);
    CHECK(std::string(a->stop_reason).find("deadline") != std::string::npos);
    CHECK(a->released);
}

TEST_CASE("manage: a graceful stop with a huge deadline is not forced at once") {
    Machine m;
    const u64 id = m.started("a");
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    // ~0 ms: now + ms * ticks wrapped to just before now (found by tests/fuzz/manage.cpp).
    for (u64 ms : {~u64{0}, u64{1} << 63, (u64{1} << 62) + 1}) {
        CAPTURE(ms);
        CHECK(m.call(TLPAR_STOP, {id, 0, ms}).status == H_SUCCESS);
        manage::machine().tick(fake::timebase_now + 1000);
        manage::machine().tick(fake::timebase_now + (u64{1} << 40));
        CHECK(a->is_live());
    }
}

TEST_CASE("manage: a graceful stop the guest honours leaves no deadline behind") {
    Machine m;
    const u64 id = m.started("a");
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    CHECK(m.call(TLPAR_STOP, {id, 0, 100}).status == H_SUCCESS);
    a->stop("power-off"); // the guest powered off
    manage::machine().tick(fake::timebase_now + 1000);
    CHECK(std::string(a->stop_reason) == "power-off");
    CHECK((m.call(TLPAR_STATUS, {id, 0x9000, 0, 0x9100, 0}).rets[3] & TLPAR_F_STOPPING) == 0);
}

TEST_CASE("manage: the console keeps output from the start; one writer at a time") {
    Machine m;
    const u64 id = m.started("a");
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    const u8 hello[] = {'h', 'i', '\n'};
    CHECK(a->vty.put(a->vty.termno(), hello, 3) == H_SUCCESS); // printed before anyone reads
    Machine::Result r = m.call(TLPAR_CONSOLE_READ, {id, 0xa000, 64});
    REQUIRE(r.status == H_SUCCESS);
    CHECK(r.rets[0] == 3);
    CHECK(r.rets[1] == 0);
    char got[4] = {};
    REQUIRE(m.ctl->memory.copy_out(got, LogicalAddr(0xa000), 3));
    CHECK(std::string(got) == "hi\n");
    CHECK(m.call(TLPAR_CONSOLE_READ, {id, 0xa000, 64}).rets[0] == 0); // consumed
    check_refused(m.call(TLPAR_CONSOLE_READ, {id, kChunkSize - 1, 64}), H_PARAMETER,
                  TLPAR_E_BAD_RANGE);

    // More than the history holds: the oldest bytes go, and are counted.
    std::vector<u8> lots(manage::kHistory + 100, 'x');
    for (usize i = 0; i < lots.size(); i += 16)
        a->vty.put(a->vty.termno(), lots.data() + i, std::min<usize>(16, lots.size() - i));
    r = m.call(TLPAR_CONSOLE_READ, {id, 0xa000, 64});
    CHECK(r.rets[0] == 64);
    CHECK(r.rets[1] == 100);

    // Input: one writer holds the token; a second attach is refused unless it forces.
    const Machine::Result first = m.call(TLPAR_CONSOLE_ATTACH, {id, 0});
    REQUIRE(first.status == H_SUCCESS);
    const u64 token = first.rets[0];
    check_refused(m.call(TLPAR_CONSOLE_ATTACH, {id, 0}), H_BUSY, TLPAR_E_BUSY);
    const u64 in = m.str("ls\r");
    check_refused(m.call(TLPAR_CONSOLE_WRITE, {id, token + 1, in, 3}), H_PARAMETER,
                  TLPAR_E_BAD_TOKEN);
    check_refused(m.call(TLPAR_CONSOLE_WRITE, {id, token, in, TLPAR_CONSOLE_WRITE_MAX + 1}), H_P4,
                  TLPAR_E_BAD_RANGE);
    r = m.call(TLPAR_CONSOLE_WRITE, {id, token, in, 3});
    CHECK(r.status == H_SUCCESS);
    CHECK(r.rets[0] == 3);
    CHECK(a->vty.pending_input() == 3);
    const Machine::Result taken = m.call(TLPAR_CONSOLE_ATTACH, {id, 1});
    REQUIRE(taken.status == H_SUCCESS);
    check_refused(m.call(TLPAR_CONSOLE_WRITE, {id, token, in, 3}), H_PARAMETER, TLPAR_E_BAD_TOKEN);
    check_refused(m.call(TLPAR_CONSOLE_DETACH, {id, token}), H_PARAMETER, TLPAR_E_BAD_TOKEN);
    CHECK(m.call(TLPAR_CONSOLE_DETACH, {id, taken.rets[0]}).status == H_SUCCESS);
    CHECK(m.call(TLPAR_CONSOLE_ATTACH, {id, 0}).status == H_SUCCESS);
}

TEST_CASE("manage: a destroyed LPAR's slot starts clean for the next one") {
    Machine m;
    const u64 id = m.create_ok("a", kChunkSize, 2);
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    const u8 out[] = {'z'};
    a->vty.put(a->vty.termno(), out, 1);
    const std::string cmd = "secret";
    REQUIRE(m.call(TLPAR_SET_CMDLINE, {id, m.str(cmd), cmd.size()}).status == H_SUCCESS);
    REQUIRE(m.call(TLPAR_DESTROY, {id}).status == H_SUCCESS);
    const u64 again = m.create_ok("b");
    CHECK(again == id); // the same slot
    CHECK(a->vcpu_count == 1);
    CHECK(a->state == LparState::Created);
    CHECK(a->stop_reason[0] == '\0');
    CHECK(m.call(TLPAR_CONSOLE_READ, {again, 0xa000, 64}).rets[0] == 0); // no old output
}

TEST_CASE("manage: a destroyed LPAR's devices leave the tables and its slot is reused") {
    Machine m;
    Lpar* boot = m.lpars->create("lan1", 1); // as the configuration made it, on a LAN
    REQUIRE(boot);
    REQUIRE(boot->memory.assign(*m.pool, boot->id, kChunkSize));
    auto adapter = std::make_unique<llan::Adapter>();
    adapter->init(*boot, vio::kLanUnitBase, vio::kLanFirstIrq, 0x020000000001);
    REQUIRE(boot->vio.add_lan(*adapter));
    const u32 old_id = boot->id;
    CHECK(m.call(TLPAR_DESTROY, {old_id}).status == H_SUCCESS);
    CHECK(m.lpars->by_id(old_id) == nullptr);
    CHECK(adapter->lpar() == nullptr); // released: nothing names the old LPAR any more
    CHECK(!adapter->window().bound());
    CHECK(boot->vio.lan_at(0) == nullptr);
    const u64 id = m.create_ok("new");
    CHECK(id == old_id);
}

TEST_CASE("manage: create puts a run-time LPAR on its LANs; destroy takes it off them") {
    Machine m;
    const usize free = m.pool->free_count();
    // Bad lists are refused and change nothing.
    check_refused(m.create("a", kChunkSize, 1, "mnet0,mnet0"), H_PARAMETER, TLPAR_E_LAN);
    check_refused(m.create("a", kChunkSize, 1, "m1 m2 m3 m4 m5"), H_PARAMETER, TLPAR_E_LAN);
    check_refused(m.create("a", kChunkSize, 1, std::string(40, 'n')), H_PARAMETER, TLPAR_E_LAN);
    check_refused(m.create("a", kChunkSize, 1, "m+1"), H_PARAMETER, TLPAR_E_LAN);
    CHECK(m.pool->free_count() == free);
    CHECK(m.lpars->count() == 1);

    Machine::Result ra = m.create("a", kChunkSize, 1, " mnet0, mnet1");
    REQUIRE(ra.status == H_SUCCESS);
    Lpar* a = m.lpars->by_id(static_cast<u32>(ra.rets[0]));
    REQUIRE(a);
    llan::Adapter* a0 = a->vio.lan(vio::kLanUnitBase);
    llan::Adapter* a1 = a->vio.lan(vio::kLanUnitBase + 1);
    REQUIRE((a0 && a1));
    REQUIRE((a0->lan() && a1->lan()));
    CHECK(std::string(a0->lan()->name()) == "mnet0");
    CHECK(std::string(a1->lan()->name()) == "mnet1");
    CHECK(a0->mac() == derived_mac("a", "mnet0")); // as a `lan =` line without a MAC
    CHECK(a1->irq() == vio::kLanFirstIrq + 1);
    CHECK(a->vio.window(vio::kLanUnitBase) == &a0->window());
    CHECK(a0->lan()->member_count() == 1);

    Machine::Result rb = m.create("b", kChunkSize, 1, "mnet0");
    REQUIRE(rb.status == H_SUCCESS);
    Lpar* b = m.lpars->by_id(static_cast<u32>(rb.rets[0]));
    llan::Adapter* b0 = b->vio.lan(vio::kLanUnitBase);
    REQUIRE(b0);
    llan::Lan* lan = b0->lan();
    CHECK(lan == a0->lan()); // the same switch
    CHECK(lan->member_count() == 2);

    REQUIRE(m.call(TLPAR_DESTROY, {ra.rets[0]}).status == H_SUCCESS);
    CHECK(lan->member_count() == 1);
    CHECK(b0->lan() == lan);
    CHECK(a0->lpar() == nullptr);
    CHECK(!a0->window().bound());
    CHECK(m.call(TLPAR_DESTROY, {rb.rets[0]}).status == H_SUCCESS);
    CHECK(lan->member_count() == 0);

    // The entries come back: more create/destroy cycles than the machine has adapters and LANs.
    for (usize i = 0; i < 2 * vio::kMaxLanAdapters; ++i) {
        CAPTURE(i);
        const std::string name = "cnet" + std::to_string(i);
        Machine::Result r = m.create("c", kChunkSize, 1, name + ",mnet0");
        REQUIRE(r.status == H_SUCCESS);
        CHECK(r.rets[0] == ra.rets[0]); // the same slot every time
        REQUIRE(m.call(TLPAR_DESTROY, {r.rets[0]}).status == H_SUCCESS);
    }
    CHECK(m.pool->free_count() == free);
}

namespace {

// A stand-in for the run loop's leave_cpus: vcpus "on another CPU" have pcpu != kNoPcpu; a
// waiting call sees them handed back (unless `caller_stops`), and notes what it saw then.
struct LeaveFake {
    int calls = 0;
    bool waited = false;
    const Lpar* waiter = nullptr;
    bool released_before = false; // the LPAR's memory was gone before its vcpus left
    bool caller_stops = false;    // the waiting caller is stopped meanwhile: give up
    Machine* reenter = nullptr;   // destroy the same LPAR again from "another CPU" meanwhile
    u64 reenter_id = 0;
    Ret reentered = H_SUCCESS;
};
LeaveFake leave_fake;

bool fake_leave(Lpar& lpar, const Lpar* waiter, bool wait) {
    LeaveFake& f = leave_fake;
    ++f.calls;
    f.waited |= wait;
    f.waiter = waiter;
    f.released_before |= lpar.released;
    bool on_cpu = false;
    for (u32 i = 0; i < lpar.vcpu_count; ++i) on_cpu |= lpar.vcpus[i].pcpu != kNoPcpu;
    if (!on_cpu) return true;
    if (!wait || f.caller_stops) return false;
    if (f.reenter) f.reentered = f.reenter->call(TLPAR_DESTROY, {f.reenter_id}).status;
    for (u32 i = 0; i < lpar.vcpu_count; ++i) lpar.vcpus[i].pcpu = kNoPcpu; // handed back
    return true;
}

// A started LPAR "a" whose vcpu 0 runs on physical CPU 1, with the fake hook installed.
u64 running_elsewhere(Machine& m) {
    leave_fake = LeaveFake{};
    manage::machine().init(*m.lpars, *m.pool, m.bundle.get(), &fake_start, 1, &fake_leave);
    const u64 id = m.started("a", 2 * kChunkSize);
    m.lpars->by_id(static_cast<u32>(id))->vcpus[0].pcpu = 1;
    return id;
}

} // namespace

TEST_CASE("manage: destroy waits until the LPAR's vcpus have left the other CPUs") {
    Machine m;
    const usize free = m.pool->free_count();
    const u64 id = running_elsewhere(m);
    CHECK(m.call(TLPAR_DESTROY, {id}).status == H_SUCCESS);
    CHECK(leave_fake.waited);
    CHECK(leave_fake.waiter == m.ctl);
    CHECK_FALSE(leave_fake.released_before);
    CHECK(m.lpars->by_id(static_cast<u32>(id)) == nullptr);
    CHECK(m.pool->free_count() == free);
}

TEST_CASE("manage: a forced stop waits for the vcpus on other CPUs before the memory goes") {
    Machine m;
    const usize free = m.pool->free_count();
    const u64 id = running_elsewhere(m);
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    CHECK(m.call(TLPAR_STOP, {id, TLPAR_STOP_FORCE}).status == H_SUCCESS);
    CHECK(leave_fake.waited);
    CHECK_FALSE(leave_fake.released_before);
    CHECK(a->state == LparState::Stopped);
    CHECK(a->released);
    CHECK(m.pool->free_count() == free);
}

TEST_CASE("manage: a caller stopped while it waits gives up; the LPAR stays until destroyed") {
    Machine m;
    const usize free = m.pool->free_count();
    const u64 id = running_elsewhere(m);
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    leave_fake.caller_stops = true;
    check_refused(m.call(TLPAR_DESTROY, {id}), H_BUSY, TLPAR_E_STATE);
    CHECK(a->state == LparState::Stopped);
    CHECK_FALSE(a->released); // its vcpu is still on CPU 1: the memory stays
    CHECK(m.pool->free_count() == free - 2);
    // The run loop hands the vcpu back (and releases the LPAR); destroy then finishes.
    a->vcpus[0].pcpu = kNoPcpu;
    leave_fake.caller_stops = false;
    CHECK(m.call(TLPAR_DESTROY, {id}).status == H_SUCCESS);
    CHECK(m.lpars->by_id(static_cast<u32>(id)) == nullptr);
    CHECK(m.pool->free_count() == free);
}

TEST_CASE("manage: a second destroy while the first waits for the vcpus is told to retry") {
    Machine m;
    const usize free = m.pool->free_count();
    const u64 id = running_elsewhere(m);
    leave_fake.reenter = &m;
    leave_fake.reenter_id = id;
    CHECK(m.call(TLPAR_DESTROY, {id}).status == H_SUCCESS);
    CHECK(leave_fake.reentered == H_BUSY); // it did not remove the slot under the first
    CHECK(m.lpars->by_id(static_cast<u32>(id)) == nullptr);
    CHECK(m.pool->free_count() == free);
}

TEST_CASE("manage: a graceful stop past its deadline does not release under a running vcpu") {
    Machine m;
    const usize free = m.pool->free_count();
    const u64 id = running_elsewhere(m);
    Lpar* a = m.lpars->by_id(static_cast<u32>(id));
    CHECK(m.call(TLPAR_STOP, {id, 0, 100}).status == H_SUCCESS);
    manage::machine().tick(fake::timebase_now + 200); // the boot CPU's loop: no waiting
    CHECK(a->state == LparState::Stopped);
    CHECK_FALSE(leave_fake.waited);
    CHECK_FALSE(a->released); // the run loop releases it when CPU 1 hands the vcpu back
    CHECK(m.pool->free_count() == free - 2);
}
