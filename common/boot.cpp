#include "common/boot.hpp"

#include "common/bundle.hpp"
#include "common/chunks.hpp"
#include "common/console.hpp"
#include "common/footprint.hpp"
#include "common/image_load.hpp"
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "common/lpar_config.hpp"
#include "common/manage.hpp"
#include "common/rt/format.hpp"
#include "common/run.hpp"
#include "common/vio_devices.hpp"
#include "common/wall_clock.hpp"

#include <tessera/arch.hpp>

#ifndef TESSERA_TARGET_NAME
#define TESSERA_TARGET_NAME "host"
#endif

namespace tessera {
namespace {

constexpr usize kMaxRanges = 32;
constinit ChunkPool pool;
constinit Bundle bundle;
constinit Config config;
constinit LparTable lpars;
constinit InputError input_error;

unsigned long long ull(u64 v) {
    return static_cast<unsigned long long>(v);
}

// Bad input (bundle or configuration) is reported and ends the boot with a failure status;
// it never reaches a panic.
[[noreturn]] void reject(const char* what) {
    log("%s\n", input_error.c_str()); // the message names the bundle entry or the file:line
    log("boot stopped: fix the %s and try again\n", what);
    plat::power_off(2);
}

void init_chunks() {
    RealRange ram[kMaxRanges], reserved[kMaxRanges];
    usize nram = plat::memory_ranges(ram, kMaxRanges);
    usize nres = plat::reserved_ranges(reserved, kMaxRanges);
    u64 total = 0;
    for (usize i = 0; i < nram; ++i) total += ram[i].size;
    log("memory: %llu MiB in %zu range(s), %zu reservation(s)\n", ull(total / MiB), nram, nres);
    if (!pool.init(ram, nram, reserved, nres)) {
        log("memory: the platform's memory map is unusable\n");
        plat::power_off(1);
    }
    pool.set_scrubber(&arch::scrub);
    set_machine_pool(&pool); // from now on idle CPUs zero the chunks of unknown content
    log("chunks: %zu of 16 MiB usable (%zu reserved, %llu over capacity)\n", pool.total(),
        pool.reserved_count(), ull(pool.dropped_over_capacity()));
}

void init_clock() {
    wall_clock::init();
    const Date d = date_of(wall_clock::now().seconds);
    log("clock: %04u-%02u-%02u %02u:%02u:%02u UTC (%s)\n", d.year, d.month, d.day, d.hour, d.minute,
        d.second, wall_clock::from_rtc() ? "from the RTC" : "no RTC: a fixed epoch");
}

// When the ISA zeroes an LPAR's memory all at once as it creates it (ppc64), the idle CPUs
// start on the memory the configured LPARs will take while the boot CPU checks the images:
// under QEMU a chunk's first zeroing is mostly the host backing it (docs/benchmarks.md,
// "Scale"), and the other CPUs have nothing else to do yet.
void zero_ahead(const Config& lpar_configs) {
    if (!arch::lpar_init_zeroes_all_memory()) return;
    usize chunks = 0;
    for (const LparConfig& lc : lpar_configs) chunks += (lc.memory + kChunkSize - 1) >> kChunkShift;
    if (pool.want_free(chunks) != 0) kick_scrubbers();
}

// The configuration is read as soon as its own entry is checked, and its LPARs' memory zeroed
// ahead (zero_ahead) while the other entries' checksums are computed.
bool open_bundle() {
    RealRange where = plat::boot_bundle();
    if (where.size == 0) {
        log("bundle: none\n");
        return false;
    }
    auto* data = static_cast<const u8*>(RealWindow::identity().host_ptr(where.base, where.size));
    if (data == nullptr || !bundle.open_config(data, static_cast<usize>(where.size), input_error))
        reject("bundle");
    const Bundle::Entry& conf = bundle.config();
    if (!parse_config(conf.name, reinterpret_cast<const char*>(conf.data), conf.size, config,
                      input_error))
        reject("configuration");
    zero_ahead(config);
    if (!bundle.verify_rest(input_error)) reject("bundle");
    log("bundle: %zu entries, %llu bytes at %#llx\n", bundle.count(), ull(bundle.total_size()),
        ull(where.base.value()));
    if (!check_config_against_bundle(config, bundle, input_error)) reject("configuration");
    return true;
}

const Bundle* boot_bundle() {
    return &bundle;
}

Image entry_image(const char* name) {
    const Bundle::Entry* e = name[0] ? bundle.find(name) : nullptr;
    return e ? Image{e->data, e->size} : Image{};
}

// "12.345 ms" for a span of timebase ticks ("? ms" when the platform does not know its rate).
void format_ms(char (&out)[24], u64 ticks) {
    const u64 per_us = plat::timebase_hz() / 1'000'000;
    if (per_us == 0) {
        rt::format(out, sizeof out, "? ms");
        return;
    }
    const u64 us = ticks / per_us;
    rt::format(out, sizeof out, "%llu.%03llu ms", ull(us / 1000), ull(us % 1000));
}

void create_lpar(const LparConfig& lc) {
    const u64 t0 = arch::timebase(); // creation, memory, devices, translation, images
    const u64 zeroed0 = pool.zeroed_bytes();
    LparError why = LparError::None;
    Lpar* lpar = lpars.create(lc.name, lc.cpus, &why);
    if (!lpar) {
        log("lpar %s: not created: %s\n", lc.name, to_string(why));
        return;
    }
    if (!lpar->memory.assign(pool, lpar->id, lc.memory)) {
        log("lpar %s: not enough memory for %llu MiB (%zu free chunks)\n", lc.name,
            ull(lc.memory / MiB), pool.free_count());
        lpar->crash("not enough memory");
        return;
    }
    lpar->vty.set_termno(lc.vty);
    lpar->control = lc.control;
    lpar->cpu_affinity = lc.cpu_affinity;
    if (lc.console) console::mux().attach(lpar->name, lpar->vty);
    manage::machine().watch_console(*lpar); // an LPAR not on the machine console keeps a history
    char reason[96] = "";
    if (!vio::attach_lans(*lpar, lc, reason, sizeof(reason)) ||
        !vio::attach_vscsi(*lpar, config, lc, reason, sizeof(reason))) {
        // reason says which device
    } else if (!arch::lpar_init(*lpar)) {
        rt::format(reason, sizeof(reason), "the ISA could not set up its translation");
    } else if (lc.kind == LparKind::Test) {
        load_program(*lpar, entry_image(lc.kernel), entry_image(lc.initrd), reason, sizeof(reason));
    } else {
        load_linux(*lpar, entry_image(lc.kernel), entry_image(lc.initrd), lc.cmdline, reason,
                   sizeof(reason));
    }
    if (reason[0]) {
        log("lpar %s: not loaded: %s\n", lc.name, reason);
        lpar->crash(reason);
        return;
    }
    lpar->mark_loaded();
    const Bundle::Entry* kernel = bundle.find(lc.kernel);
    char initrd_note[96] = "";
    if (lc.has_initrd())
        rt::format(initrd_note, sizeof(initrd_note), ", initrd %s (%zu bytes)", lc.initrd,
                   bundle.find(lc.initrd)->size);
    char took[24];
    format_ms(took, arch::timebase() - t0);
    // Memory of unknown content (never used since the machine started) is zeroed at its first
    // use, not here (ChunkPool::ready); the figure is what loading the LPAR touched first, and
    // on ppc64 all of its memory (docs/benchmarks.md, "Scale").
    log("lpar %s: %llu MiB, %u logical CPU%s, kernel %s (%zu bytes)%s: %s in %s (%llu KiB "
        "zeroed first)\n",
        lc.name, ull(lpar->memory.size() / MiB), lpar->vcpu_count, lpar->vcpu_count == 1 ? "" : "s",
        lc.kernel, kernel->size, initrd_note, to_string(lpar->state), took,
        ull((pool.zeroed_bytes() - zeroed0) / KiB));
}

} // namespace

void boot_main() {
    log("Tessera hypervisor, target " TESSERA_TARGET_NAME "\n");
    init_clock();
    init_chunks();
    if (!open_bundle()) {
        log("no LPAR configured: powering off\n");
        plat::power_off(0);
    }
    const u64 hz = plat::timebase_hz();
    manage::machine().init(lpars, pool, boot_bundle(), &start_lpar, hz ? hz / 1000 : 10'000,
                           &leave_cpus);
    for (const LparConfig& lc : config) create_lpar(lc);
    console::mux().greet();
    RunSummary sum = run_lpars(lpars, config, pool);
    Footprint fp;
    plat::image_footprint(fp);
    arch::runtime_footprint(fp);
    char line[384];
    format_footprint(line, sizeof(line), fp);
    log("%s\n", line);
    format_held(line, sizeof(line), fp);
    log("%s\n", line);
    plat::power_off(sum.failed == 0 ? 0 : 1);
}

} // namespace tessera
