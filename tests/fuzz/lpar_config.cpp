// Fuzzes the LPAR configuration parser (common/lpar_config.cpp) with configuration text, then
// checks a print -> parse round trip: a configuration that parsed is printed back in the
// language (by this harness: the hypervisor has no printer) and must parse to the same LPARs.
// A failure must leave an empty result and a "FILE:LINE: message" error.
#include "common/lpar_config.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

using namespace tessera;

namespace {

void print(const Config& c, std::string& out) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "tessera-config %u\n", c.version);
    out = buf;
    for (const LparConfig& l : c) {
        out += "[lpar ";
        out += l.name;
        out += "]\n";
        std::snprintf(buf, sizeof buf, "memory = %lluM\ncpus = %u\n",
                      static_cast<unsigned long long>(l.memory / MiB), l.cpus);
        out += buf;
        out += "kernel = ";
        out += l.kernel;
        out += "\n";
        if (l.has_initrd()) out += std::string("initrd = ") + l.initrd + "\n";
        out += "cmdline = \"";
        for (const char* p = l.cmdline; *p; ++p) {
            if (*p == '"' || *p == '\\') out += '\\';
            out += *p;
        }
        out += "\"\n";
        out += l.console ? "console = yes\n" : "console = no\n";
        std::snprintf(buf, sizeof buf, "vty = 0x%x\n", l.vty);
        out += buf;
        out += std::string("kind = ") + to_string(l.kind) + "\n";
        out += l.expect == LparExpect::Crash ? "expect = crash\n" : "expect = exit\n";
        out += l.control ? "control = yes\n" : "control = no\n";
        if (l.cpu_affinity != 0) {
            out += "cpu-affinity = ";
            for (u32 cpu = 0; cpu < kConfigMaxPcpus; ++cpu) {
                if (!((l.cpu_affinity >> cpu) & 1)) continue;
                if (out.back() != ' ') out += ',';
                out += std::to_string(cpu);
            }
            out += "\n";
        }
    }
}

bool same(const LparConfig& a, const LparConfig& b) {
    return std::strcmp(a.name, b.name) == 0 && a.memory == b.memory && a.cpus == b.cpus &&
           std::strcmp(a.kernel, b.kernel) == 0 && std::strcmp(a.initrd, b.initrd) == 0 &&
           std::strcmp(a.cmdline, b.cmdline) == 0 && a.console == b.console && a.vty == b.vty &&
           a.kind == b.kind && a.expect == b.expect && a.control == b.control &&
           a.cpu_affinity == b.cpu_affinity;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static Config config, again; // ~10 KiB each: static, as in the hypervisor
    InputError err;
    // The text is not NUL-terminated: a copy of exactly `size` bytes lets ASan see an overread.
    std::string text(reinterpret_cast<const char*>(data), size);
    auto* exact = new char[size ? size : 1];
    std::memcpy(exact, text.data(), size);
    const bool ok = parse_config("fuzz.conf", exact, size, config, err);
    delete[] exact;
    if (!ok) {
        FUZZ_CHECK(config.count == 0 && err.is_set());
        FUZZ_CHECK(std::strncmp(err.c_str(), "fuzz.conf:", 10) == 0);
        return 0;
    }
    FUZZ_CHECK(config.count >= 1 && config.count <= kConfigMaxLpars);
    for (const LparConfig& l : config) {
        FUZZ_CHECK(l.memory > 0 && l.memory % kConfigMemoryUnit == 0 &&
                   l.memory <= kConfigMaxMemory);
        FUZZ_CHECK(l.cpus >= 1 && l.cpus <= kConfigMaxCpus);
        FUZZ_CHECK(bundle::is_valid_name(l.kernel, std::strlen(l.kernel)));
        FUZZ_CHECK(!l.has_initrd() || bundle::is_valid_name(l.initrd, std::strlen(l.initrd)));
        FUZZ_CHECK(config.find(l.name) == &l);
    }
    std::string printed;
    print(config, printed);
    InputError err2;
    if (!parse_config("printed.conf", printed.data(), printed.size(), again, err2)) {
        std::fprintf(stderr, "printed config does not parse: %s\n%s", err2.c_str(),
                     printed.c_str());
        std::abort();
    }
    FUZZ_CHECK(again.count == config.count && again.version == config.version);
    for (usize i = 0; i < config.count; ++i) FUZZ_CHECK(same(config.lpars[i], again.lpars[i]));
    return 0;
}
