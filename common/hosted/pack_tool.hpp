// The tessera-pack command (scripts/pack/main.cpp is its entry point), here so that unit tests
// can run it. Hosted only.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tessera::pack {

// Runs tessera-pack with `args` (without the program name); normal output goes to `out`,
// messages to `err`. Returns the exit status: 0 success, 1 bad input, 2 usage error.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace tessera::pack
