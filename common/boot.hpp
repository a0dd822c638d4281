// The ISA-neutral boot flow, entered by the platform once the CPU and console are usable.
#pragma once

namespace tessera {

[[noreturn]] void boot_main();

} // namespace tessera
