// The stack-protector guard that Debian's libfdt (built -fstack-protector-strong) reads at
// -0x7010(r13); isa/ppc64/entry.S points r13 here before any C++ runs.
#include <tessera/types.hpp>

extern "C" {
tessera::u64 ppc64_stack_guard = 0x7e55e7a0c0ffee00ull;
}
