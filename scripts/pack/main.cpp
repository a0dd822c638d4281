// tessera-pack: packs and lists Tessera boot bundles (see --help and docs/bundle-format.md).
#include <iostream>
#include <string>
#include <vector>

#include "common/hosted/pack_tool.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return tessera::pack::run(args, std::cout, std::cerr);
}
