#include "common/linux_images.hpp"

#include "common/chunks.hpp"

namespace tessera::linux_images {

ElfSource kernel(const LogicalMap& memory, const LinuxImages& images) {
    if (images.staged) return ElfSource::staged(memory, images.kernel_at, images.kernel_size);
    return ElfSource::bytes(images.kernel, images.kernel_size);
}

LogicalRange keep(const LinuxImages& images) {
    return images.staged ? LogicalRange{images.initrd_at, images.initrd_size} : LogicalRange{};
}

bool place_initrd(LogicalMap& memory, const LinuxImages& images, LogicalAddr to) {
    if (images.staged) return memory.move(to, images.initrd_at, images.initrd_size);
    return memory.copy_in(to, images.initrd, images.initrd_size);
}

} // namespace tessera::linux_images
