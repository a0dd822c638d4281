#include "common/image_load.hpp"

#include "common/lpar.hpp"
#include "common/rt/format.hpp"

#include <tessera/arch.hpp>

namespace tessera {

bool load_program(Lpar& lpar, Image program, Image initrd, char* why, usize why_len) {
    if (program.data != nullptr &&
        !lpar.memory.copy_in(LogicalAddr(0), program.data, program.size)) {
        rt::format(why, why_len, "the program does not fit in its memory");
        return false;
    }
    if (initrd.data != nullptr) {
        LogicalAddr at(align_down(lpar.memory.size() - initrd.size, 64 * KiB));
        if (initrd.size > lpar.memory.size() || at.value() < program.size ||
            !lpar.memory.copy_in(at, initrd.data, initrd.size)) {
            rt::format(why, why_len, "the initrd does not fit beside the program");
            return false;
        }
    }
    lpar.boot = BootEntry{LogicalAddr(0), {0, lpar.memory.size(), lpar.vcpu_count, 0}, 3};
    lpar.boot_all_vcpus = true;
    return true;
}

bool load_linux(Lpar& lpar, Image kernel, Image initrd, const char* cmdline, char* why,
                usize why_len) {
    LinuxImages images;
    images.kernel = kernel.data;
    images.kernel_size = kernel.size;
    images.initrd = initrd.data;
    images.initrd_size = initrd.size;
    images.cmdline = cmdline;
    lpar.boot_all_vcpus = false;
    return arch::linux_load(lpar, images, lpar.boot, why, why_len);
}

bool load_linux_staged(Lpar& lpar, LogicalAddr kernel, u64 kernel_size, LogicalAddr initrd,
                       u64 initrd_size, const char* cmdline, char* why, usize why_len) {
    LinuxImages images;
    images.staged = true;
    images.kernel_at = kernel;
    images.kernel_size = static_cast<usize>(kernel_size);
    images.initrd_at = initrd;
    images.initrd_size = static_cast<usize>(initrd_size);
    images.cmdline = cmdline;
    lpar.boot_all_vcpus = false;
    return arch::linux_load(lpar, images, lpar.boot, why, why_len);
}

} // namespace tessera
