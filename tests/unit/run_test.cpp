// The run loop (common/run.cpp) over the fake ISA: scripted guests make real hcalls through the
// dispatch table; the loop schedules, wakes, ends LPARs and adds up the test verdicts.
#include "common/chunks.hpp"
#include "common/lpar.hpp"
#include "common/lpar_config.hpp"
#include "common/run.hpp"
#include "common/vpa.hpp"
#include "tests/fake/arch_fake.hpp"
#include "tests/fake/plat_fake.hpp"

#include <atomic>
#include <cstring>
#include <doctest/doctest.h>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace tessera;

namespace {

// Fake real memory, a config, and the LPARs it describes, created and loaded as boot does.
struct Machine {
    static constexpr u64 kBase = 1 * GiB;
    std::vector<u8> mem = std::vector<u8>(6 * kChunkSize);
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::unique_ptr<LparTable> lpars = std::make_unique<LparTable>();
    std::unique_ptr<Config> config = std::make_unique<Config>();

    // clients_load: LPARs of kind linux are "loaded" as clients entered at 0 on vcpu 0 (the
    // fake ISA has no Linux loader); otherwise they fail to load.
    explicit Machine(const std::string& conf, bool init_ok = true, bool clients_load = false) {
        fake::lpar_init_ok = init_ok;
        RealRange ram{RealAddr(kBase), mem.size()};
        RealWindow w{reinterpret_cast<uptr>(mem.data()), RealAddr(kBase), mem.size()};
        REQUIRE(pool->init(&ram, 1, nullptr, 0, w));
        InputError err;
        std::string text = "tessera-config 1\n" + conf;
        REQUIRE_MESSAGE(parse_config("t.conf", text.data(), text.size(), *config, err),
                        err.c_str());
        for (const LparConfig& lc : *config) {
            Lpar* l = lpars->create(lc.name, lc.cpus);
            REQUIRE(l);
            REQUIRE(l->memory.assign(*pool, l->id, lc.memory));
            // As common/boot.cpp loads them: test programs start every vcpu at 0; Linux
            // cannot be loaded by the fake ISA.
            if (!arch::lpar_init(*l)) {
                l->crash("the ISA could not set up its translation");
            } else if (lc.kind == LparKind::Test) {
                l->boot = BootEntry{LogicalAddr(0), {0, l->memory.size(), lc.cpus, 0}, 3};
                l->boot_all_vcpus = true;
                REQUIRE(l->mark_loaded());
            } else if (clients_load) {
                l->boot = BootEntry{LogicalAddr(0), {0, 0, 0, 0}, 3};
                l->boot_all_vcpus = false;
                REQUIRE(l->mark_loaded());
            } else {
                l->crash("no Linux on the fake ISA");
            }
        }
        fake::console_out.clear();
        fake::lpar_init_ok = true;
    }
    RunSummary run() { return run_lpars(*lpars, *config, *pool); }
    Lpar& lpar(const char* name) { return *lpars->by_name(name); }
};

VcpuExit test_exit(Vcpu& v, u64 passed, u64 failed) {
    VcpuExit e = VcpuExit::Preempted;
    fake::exit_for(fake::hcall(v, hcall::H_TESSERA_TEST_EXIT, passed, failed).after, e);
    return e;
}

} // namespace

TEST_CASE("run: test LPARs report, the summary adds them up, memory is given back") {
    Machine m("[lpar a]\nmemory = 16M\nkernel = k\nkind = test\n"
              "[lpar b]\nmemory = 32M\nkernel = k\nkind = test\n");
    usize free_before = m.pool->free_count();
    fake::guest = [](Vcpu& v) {
        if (v.arch.runs < 3) return VcpuExit::Preempted; // a few slices of "work" first
        return std::strcmp(v.lpar->name, "a") == 0 ? test_exit(v, 10, 0) : test_exit(v, 5, 2);
    };
    RunSummary s = m.run();
    CHECK(s.passed == 15);
    CHECK(s.failed == 2);
    CHECK(m.lpar("a").state == LparState::Stopped);
    CHECK(m.lpar("b").state == LparState::Stopped);
    CHECK(m.pool->free_count() == free_before + 3);
    CHECK_FALSE(m.lpar("a").arch.initialised); // torn down
    CHECK(fake::console_out.find("15 passed, 2 failed") != std::string::npos);
    // Every vcpu starts at logical 0 with (index, memory size, vcpu count).
    CHECK(m.lpar("b").vcpus[0].arch.args[1] == 32 * MiB);
}

TEST_CASE("run: the VPA's yield count is even while the vcpu runs, odd while it does not") {
    Machine m("[lpar a]\nmemory = 16M\nkernel = k\nkind = test\n");
    static std::vector<u32> seen;
    seen.clear();
    constexpr u64 kVpa = 0x10000;
    auto yield_count = [](Vcpu& v) {
        u8 b[4];
        REQUIRE(v.lpar->memory.copy_out(b, LogicalAddr(kVpa + vpa::kYieldCountOffset), 4));
        return u32{b[0]} << 24 | u32{b[1]} << 16 | u32{b[2]} << 8 | b[3];
    };
    fake::guest = [&](Vcpu& v) {
        if (v.arch.runs == 1) {
            // The guest registers a VPA (size 640 at offset 4) with a yield count of 0.
            const u8 size[2] = {0x02, 0x80};
            REQUIRE(v.lpar->memory.fill(LogicalAddr(kVpa), 0, 4096));
            REQUIRE(v.lpar->memory.copy_in(LogicalAddr(kVpa + 4), size, 2));
            CHECK(fake::hcall(v, hcall::H_REGISTER_VPA, u64{1} << 45, 0, kVpa).status ==
                  hcall::H_SUCCESS);
            return VcpuExit::Preempted;
        }
        seen.push_back(yield_count(v));
        return v.arch.runs < 4 ? VcpuExit::Preempted : test_exit(v, 1, 0);
    };
    m.run();
    CHECK(seen == std::vector<u32>{2, 4, 6}); // taken off after registering: 1; on again: 2
}

TEST_CASE("run: the platform's firmware is serviced while LPARs run") {
    Machine m("[lpar a]\nmemory = 16M\nkernel = k\nkind = test\n");
    fake::guest = [](Vcpu& v) {
        return v.arch.runs < 5 ? VcpuExit::Preempted : test_exit(v, 1, 0);
    };
    const unsigned before = fake::firmware_services;
    m.run();
    CHECK(fake::firmware_services - before >= 5); // at least once per slice
}

TEST_CASE("run: time slices alternate between LPARs (round robin)") {
    Machine m("[lpar a]\nmemory = 16M\nkernel = k\nkind = test\n"
              "[lpar b]\nmemory = 16M\nkernel = k\nkind = test\n");
    std::string order;
    fake::guest = [&](Vcpu& v) {
        order += v.lpar->name;
        return v.arch.runs == 4 ? test_exit(v, 1, 0) : VcpuExit::Preempted;
    };
    m.run();
    CHECK(order == "abababab");
}

TEST_CASE("run: an expected crash counts as passed, an unexpected one as failed") {
    Machine m("[lpar good]\nmemory = 16M\nkernel = k\nkind = test\n"
              "[lpar chaos]\nmemory = 16M\nkernel = k\nkind = test\nexpect = crash\n"
              "[lpar bad]\nmemory = 16M\nkernel = k\nkind = test\n");
    fake::guest = [](Vcpu& v) {
        if (std::strcmp(v.lpar->name, "good") == 0) return test_exit(v, 3, 0);
        v.lpar->crash("illegal instruction");
        return VcpuExit::Fault;
    };
    RunSummary s = m.run();
    CHECK(s.passed == 3 + 1);
    CHECK(s.failed == 1);
    CHECK(m.lpar("chaos").state == LparState::Crashed);
    CHECK(fake::console_out.find("lpar bad: crashed: illegal instruction") != std::string::npos);
}

TEST_CASE("run: a ceded vcpu sleeps until an IPI from its sibling wakes it") {
    Machine m("[lpar duo]\nmemory = 16M\ncpus = 2\nkernel = k\nkind = test\n");
    bool woken = false;
    u64 runs_while_ceded = 0;
    fake::guest = [&](Vcpu& v) {
        Lpar& l = *v.lpar;
        if (v.index == 1) {
            if (v.arch.step == 0) { // accept everything, then cede
                fake::hcall(v, hcall::H_CPPR, 0xff);
                v.arch.step = 1;
                VcpuExit e = VcpuExit::Preempted;
                fake::exit_for(fake::hcall(v, hcall::H_CEDE).after, e);
                return e;
            }
            if (v.arch.step == 1) { // back from the cede: the IPI is pending
                woken = l.xics.has_pending(1);
                auto x = fake::hcall(v, hcall::H_XIRR);
                fake::hcall(v, hcall::H_EOI, x.rets[0]);
                v.arch.step = 2;
            }
            return VcpuExit::Preempted;
        }
        // vcpu 0: let vcpu 1 sleep for a while, then IPI it and finish when it has run again
        if (v.arch.runs == 5) {
            runs_while_ceded = l.vcpus[1].arch.runs;
            fake::hcall(v, hcall::H_IPI, 1, 5);
        }
        if (l.vcpus[1].arch.step == 2) return test_exit(v, woken ? 1 : 0, woken ? 0 : 1);
        return VcpuExit::Preempted;
    };
    RunSummary s = m.run();
    CHECK(runs_while_ceded == 1); // it did not run while ceded
    CHECK(woken);
    CHECK(s.passed == 1);
    CHECK(s.failed == 0);
}

TEST_CASE("run: a ceded vcpu wakes when its own timer expires") {
    Machine m("[lpar t]\nmemory = 16M\nkernel = k\nkind = test\n");
    fake::guest = [](Vcpu& v) {
        if (v.arch.step == 0) {
            v.arch.step = 1;
            v.arch.timer = true; // the decrementer will have fired by the next look
            return VcpuExit::Ceded;
        }
        return test_exit(v, 1, 0);
    };
    CHECK(m.run().passed == 1);
}

TEST_CASE("run: LPARs that cannot start are reported and do not stop the others") {
    Machine m("[lpar linux]\nmemory = 16M\nkernel = k\n"
              "[lpar t]\nmemory = 16M\nkernel = k\nkind = test\n");
    fake::guest = [](Vcpu& v) { return test_exit(v, 2, 0); };
    RunSummary s = m.run();
    CHECK(m.lpar("linux").state == LparState::Crashed);
    CHECK(s.passed == 2);
    CHECK(s.failed == 1);

    Machine m2("[lpar t]\nmemory = 16M\nkernel = k\nkind = test\n", false);
    RunSummary s2 = m2.run();
    CHECK(m2.lpar("t").state == LparState::Crashed);
    CHECK(s2.failed == 1);
    CHECK_FALSE(m2.lpar("t").memory.size()); // its memory was given back
}

TEST_CASE("run: H_PROD wakes a ceded sibling") {
    Machine m("[lpar duo]\nmemory = 16M\ncpus = 2\nkernel = k\nkind = test\n");
    u64 prod_at = 0;
    fake::guest = [&](Vcpu& v) {
        Lpar& l = *v.lpar;
        if (v.index == 1) {
            if (v.arch.step++ == 0) { // cede once, with nothing pending
                VcpuExit e = VcpuExit::Preempted;
                fake::exit_for(fake::hcall(v, hcall::H_CEDE).after, e);
                return e;
            }
            return VcpuExit::Preempted;
        }
        if (v.arch.runs == 4) {
            prod_at = l.vcpus[1].arch.runs;
            fake::hcall(v, hcall::H_PROD, 1);
        }
        if (l.vcpus[1].arch.step >= 2) return test_exit(v, 1, 0);
        return VcpuExit::Preempted;
    };
    CHECK(m.run().passed == 1);
    CHECK(prod_at == 1); // asleep until the prod
}

TEST_CASE("run: a client that is not a test program may report; its failures fail the run") {
    Machine m("[lpar c]\nmemory = 16M\nkernel = k\n", true, true);
    fake::guest = [](Vcpu& v) { return test_exit(v, 3, 1); };
    RunSummary s = m.run();
    CHECK(s.passed == 3);
    CHECK(s.failed == 1);
    CHECK(fake::console_out.find("lpar c: 3 passed, 1 failed\n") != std::string::npos);
    CHECK(fake::console_out.find("\n3 passed, 1 failed\n") != std::string::npos); // the summary
}

TEST_CASE("run: a client that could not be loaded ends the run with a failed summary") {
    Machine m("[lpar c]\nmemory = 16M\nkernel = k\n"); // kind linux: the fake cannot load it
    fake::guest = [](Vcpu&) { return VcpuExit::Preempted; };
    RunSummary s = m.run();
    CHECK(s.failed == 1);
    CHECK(fake::console_out.find("lpar c: crashed: no Linux on the fake ISA\n") !=
          std::string::npos);
    CHECK(fake::console_out.find("\n0 passed, 1 failed\n") != std::string::npos);
}

TEST_CASE("run: a client that powers off cleanly adds no summary line") {
    Machine m("[lpar c]\nmemory = 16M\nkernel = k\n", true, true);
    fake::guest = [](Vcpu& v) {
        v.lpar->stop("power-off");
        return VcpuExit::Stopped;
    };
    RunSummary s = m.run();
    CHECK(s.passed == 0);
    CHECK(s.failed == 0);
    CHECK(fake::console_out.find("passed") == std::string::npos);
}

namespace {
// Counts the occurrences of `needle` in the console output.
usize count_in_console(const std::string& needle) {
    usize n = 0;
    for (usize at = fake::console_out.find(needle); at != std::string::npos;
         at = fake::console_out.find(needle, at + 1))
        ++n;
    return n;
}

// Runs the machine with a second thread playing physical CPU 1 (common/run.cpp secondary_main).
RunSummary run_on_two_cpus(Machine& m) {
    fake::machine_cpus = 2;
    fake::secondaries_exit = false;
    std::thread cpu1([] {
        fake::this_cpu = 1;
        secondary_main(1);
    });
    RunSummary s = m.run();
    fake::secondaries_exit = true;
    cpu1.join();
    fake::machine_cpus = 1;
    return s;
}
} // namespace

TEST_CASE("run: two CPUs: vcpus run on both; an IPI wakes a ceded vcpu across CPUs") {
    Machine m("[lpar duo]\nmemory = 16M\ncpus = 2\nkernel = k\nkind = test\n"
              "[lpar solo]\nmemory = 16M\nkernel = k\nkind = test\n");
    std::atomic<u32> ran_on[2] = {};
    std::atomic<bool> v1_ceded{false}, ipi_sent{false}, v1_got_ipi{false};
    fake::guest = [&](Vcpu& v) {
        ++ran_on[arch::cpu_index()];
        const bool duo = std::strcmp(v.lpar->name, "duo") == 0;
        if (!duo) // solo keeps a CPU busy until duo is done
            return v1_got_ipi ? test_exit(v, 1, 0) : VcpuExit::Preempted;
        if (v.index == 1) {
            if (v.arch.step == 0) {
                fake::hcall(v, hcall::H_CPPR, 0xff);
                v.arch.step = 1;
                VcpuExit e = VcpuExit::Preempted;
                fake::exit_for(fake::hcall(v, hcall::H_CEDE).after, e);
                v1_ceded = e == VcpuExit::Ceded;
                return e;
            }
            if (v.arch.step == 1 && ipi_sent) {
                auto x = fake::hcall(v, hcall::H_XIRR);
                fake::hcall(v, hcall::H_IPI, 1, 0xff);
                fake::hcall(v, hcall::H_EOI, x.rets[0]);
                v1_got_ipi = (x.rets[0] & 0xffffff) == 2;
                v.arch.step = 2;
            }
            return VcpuExit::Preempted;
        }
        // vcpu 0: once CPU 1 has run something and vcpu 1 sleeps, IPI it; done when it took it.
        if (!ipi_sent && ran_on[1] > 0 && v1_ceded) {
            fake::hcall(v, hcall::H_IPI, 1, 5);
            ipi_sent = true;
        }
        return v1_got_ipi ? test_exit(v, 1, 0) : VcpuExit::Preempted;
    };
    RunSummary s = run_on_two_cpus(m);
    CHECK(ran_on[0] > 0);
    CHECK(ran_on[1] > 0);
    CHECK(v1_got_ipi);
    CHECK(s.passed == 2);
    CHECK(s.failed == 0);
    CHECK(count_in_console("lpar duo: stopped (") == 1);
    CHECK_FALSE(m.lpar("duo").memory.size());
    CHECK_FALSE(m.lpar("solo").memory.size());
}

TEST_CASE("run: two CPUs: an LPAR that ends while its other vcpu runs elsewhere ends once") {
    Machine m("[lpar duo]\nmemory = 16M\ncpus = 2\nkernel = k\nkind = test\n");
    std::atomic<u32> ran_on[2] = {};
    std::atomic<bool> v1_on_cpu{false};
    fake::guest = [&](Vcpu& v) {
        ++ran_on[arch::cpu_index()];
        if (v.index == 1) { // spins; its LPAR ends under it
            v1_on_cpu = true;
            return VcpuExit::Preempted;
        }
        return v1_on_cpu && ran_on[1] > 0 ? test_exit(v, 1, 0) : VcpuExit::Preempted;
    };
    RunSummary s = run_on_two_cpus(m);
    CHECK(s.passed == 1);
    CHECK(count_in_console("lpar duo: stopped (") == 1);
    CHECK_FALSE(m.lpar("duo").memory.size());
    for (u32 i = 0; i < 2; ++i) CHECK(m.lpar("duo").vcpus[i].pcpu == kNoPcpu);
}
