#include "common/boot.hpp"

#include "common/bundle.hpp"
#include "common/chunks.hpp"
#include "common/console.hpp"
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "common/lpar_config.hpp"
#include "common/rt/format.hpp"
#include "common/run.hpp"

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
    log("chunks: %zu of 16 MiB usable (%zu reserved, %llu over capacity)\n", pool.total(),
        pool.reserved_count(), ull(pool.dropped_over_capacity()));
}

bool open_bundle() {
    RealRange where = plat::boot_bundle();
    if (where.size == 0) {
        log("bundle: none\n");
        return false;
    }
    auto* data = static_cast<const u8*>(RealWindow::identity().host_ptr(where.base, where.size));
    if (data == nullptr || !bundle.open(data, static_cast<usize>(where.size), input_error))
        reject("bundle");
    log("bundle: %zu entries, %llu bytes at %#llx\n", bundle.count(), ull(bundle.total_size()),
        ull(where.base.value()));
    const Bundle::Entry& conf = bundle.config();
    if (!parse_config(conf.name, reinterpret_cast<const char*>(conf.data), conf.size, config,
                      input_error))
        reject("configuration");
    if (!check_config_against_bundle(config, bundle, input_error)) reject("configuration");
    return true;
}

// TODO(bring-up): images are copied raw (kernel at logical 0, initrd at the top of the LPAR's
// memory); the per-kind loaders (ELF for Linux, test-LPAR programs) come with guest entry.
bool load_images(Lpar& lpar, const LparConfig& lc) {
    const Bundle::Entry* kernel = bundle.find(lc.kernel);
    if (!kernel || !lpar.memory.copy_in(LogicalAddr(0), kernel->data, kernel->size)) return false;
    if (lc.has_initrd()) {
        const Bundle::Entry* initrd = bundle.find(lc.initrd);
        if (!initrd) return false;
        LogicalAddr at(align_down(lpar.memory.size() - initrd->size, 64 * KiB));
        if (!lpar.memory.copy_in(at, initrd->data, initrd->size)) return false;
    }
    return true;
}

void create_lpar(const LparConfig& lc) {
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
    if (lc.console) console::mux().attach(lpar->name, lpar->vty);
    if (!load_images(*lpar, lc)) {
        log("lpar %s: images do not fit in its memory\n", lc.name);
        lpar->crash("images do not fit");
        return;
    }
    lpar->mark_loaded();
    const Bundle::Entry* kernel = bundle.find(lc.kernel);
    char initrd_note[96] = "";
    if (lc.has_initrd())
        rt::format(initrd_note, sizeof(initrd_note), ", initrd %s (%zu bytes)", lc.initrd,
                   bundle.find(lc.initrd)->size);
    log("lpar %s: %llu MiB, %u logical CPU%s, kernel %s (%zu bytes)%s: %s\n", lc.name,
        ull(lpar->memory.size() / MiB), lpar->vcpu_count, lpar->vcpu_count == 1 ? "" : "s",
        lc.kernel, kernel->size, initrd_note, to_string(lpar->state));
}

} // namespace

void boot_main() {
    log("Tessera hypervisor, target " TESSERA_TARGET_NAME "\n");
    init_chunks();
    if (!open_bundle()) {
        log("no LPAR configured: powering off\n");
        plat::power_off(0);
    }
    for (const LparConfig& lc : config) create_lpar(lc);
    RunSummary sum = run_lpars(lpars, config, pool);
    plat::power_off(sum.failed == 0 ? 0 : 1);
}

} // namespace tessera
