// The LPAR configuration language: good inputs, every bad input with its exact message and line,
// and the cross-check against a bundle.
#include "common/chunks.hpp"
#include "common/hosted/bundle_writer.hpp"
#include "common/lpar.hpp"
#include "common/lpar_config.hpp"

#include <cstring>
#include <doctest/doctest.h>
#include <memory>
#include <string>
#include <vector>

using namespace tessera;

// The configuration's limits are the core's.
static_assert(kConfigMaxLpars == kMaxLpars);
static_assert(kConfigMaxCpus == kMaxVcpusPerLpar);
static_assert(kConfigNameMax == kLparNameMax);
static_assert(kConfigMemoryUnit == kChunkSize);
static_assert(kConfigMaxMemory == kMaxLparChunks * kChunkSize);

namespace {

struct Parsed {
    std::unique_ptr<Config> config = std::make_unique<Config>();
    std::string error; // "" when it parsed
};

Parsed parse(const std::string& text, const char* file = "lpars.conf") {
    Parsed p;
    InputError err;
    bool ok = parse_config(file, text.data(), text.size(), *p.config, err);
    CHECK(ok == !err.is_set());
    if (!ok) {
        p.error = err.c_str();
        CHECK(p.config->count == 0);
    }
    return p;
}

// The error for `body` placed after a version line (so body line N is file line N + 1).
std::string error_of(const std::string& text) {
    return parse(text).error;
}

const std::string kHead = "tessera-config 1\n";
const std::string kMinimal = "[lpar a]\nmemory = 16M\nkernel = k\n";

} // namespace

TEST_CASE("a full configuration") {
    Parsed p = parse(R"(# Two LPARs
tessera-config 1   # version

[lpar alpha]
memory = 256M
cpus = 2
kernel = vmlinux
initrd = initrd.img
cmdline = "console=hvc0 root=/dev/ram0 # not a comment"   # a comment
console = yes
vty = 0x30000001
kind = linux

[lpar beta-2]
	memory	=	1G
kernel = test.elf
kind = test
console = no
)");
    REQUIRE(p.error == "");
    const Config& c = *p.config;
    CHECK(c.version == 1);
    CHECK(std::string(c.file) == "lpars.conf");
    REQUIRE(c.count == 2);
    const LparConfig& a = c.lpars[0];
    CHECK(std::string(a.name) == "alpha");
    CHECK(a.memory == 256 * MiB);
    CHECK(a.cpus == 2);
    CHECK(std::string(a.kernel) == "vmlinux");
    CHECK(std::string(a.initrd) == "initrd.img");
    CHECK(a.has_initrd());
    CHECK(std::string(a.cmdline) == "console=hvc0 root=/dev/ram0 # not a comment");
    CHECK(a.console);
    CHECK(a.vty == 0x3000'0001);
    CHECK(a.kind == LparKind::Linux);
    CHECK(a.line == 4);
    CHECK(a.memory_line == 5);
    CHECK(a.kernel_line == 7);
    CHECK(a.initrd_line == 8);

    const LparConfig& b = c.lpars[1];
    CHECK(std::string(b.name) == "beta-2");
    CHECK(b.memory == GiB);
    CHECK(b.cpus == 1);
    CHECK_FALSE(b.has_initrd());
    CHECK(b.cmdline[0] == '\0');
    CHECK_FALSE(b.console);
    CHECK(b.vty == kConfigDefaultVty);
    CHECK(b.kind == LparKind::Test);
    CHECK(b.line == 14);

    CHECK(c.find("beta-2") == &c.lpars[1]);
    CHECK(c.find("gamma") == nullptr);
    int n = 0;
    for (const LparConfig& l : c) n += l.line > 0;
    CHECK(n == 2);
}

TEST_CASE("defaults") {
    Parsed p = parse(kHead + kMinimal);
    REQUIRE(p.error == "");
    const LparConfig& l = p.config->lpars[0];
    CHECK(l.cpus == 1);
    CHECK(l.console);
    CHECK(l.vty == 0x3000'0000);
    CHECK(l.kind == LparKind::Linux);
    CHECK_FALSE(l.has_initrd());
    CHECK(l.cmdline[0] == '\0');
    CHECK(to_string(LparKind::Linux) == std::string("linux"));
    CHECK(to_string(LparKind::Test) == std::string("test"));
}

TEST_CASE("memory sizes") {
    auto memory = [](const std::string& v) {
        Parsed p = parse(kHead + "[lpar a]\nkernel = k\nmemory = " + v + "\n");
        return p.error.empty() ? p.config->lpars[0].memory : 0;
    };
    CHECK(memory("16M") == 16 * MiB);
    CHECK(memory("32m") == 32 * MiB);
    CHECK(memory("16384K") == 16 * MiB);
    CHECK(memory("16384k") == 16 * MiB);
    CHECK(memory("4G") == 4 * GiB);
    CHECK(memory("2g") == 2 * GiB);
    CHECK(memory("16777216") == 16 * MiB);
    CHECK(memory("0x1000000") == 16 * MiB);
    CHECK(memory("0x10M") == 16 * MiB);
    CHECK(memory("0016M") == 16 * MiB); // leading zeros are decimal, not octal
    CHECK(memory("4096M") == 4 * GiB);
}

TEST_CASE("line endings, blank lines, comments and spacing") {
    Parsed p =
        parse("\r\n# c\r\n  \t\r\ntessera-config 1\r\n[ lpar   x.y_z ]  # c\r\nmemory=16M\r\n"
              "kernel=k # c\r\ncmdline=\"\"\r\n");
    REQUIRE(p.error == "");
    CHECK(std::string(p.config->lpars[0].name) == "x.y_z");
    CHECK(std::string(p.config->lpars[0].kernel) == "k");
    // No newline at the end of the file, and text that is not NUL-terminated.
    std::string text = kHead + "[lpar a]\nmemory = 16M\nkernel = k";
    std::string buf = text + "XYZ"; // must not be read
    auto c = std::make_unique<Config>();
    InputError err;
    CHECK(parse_config("f", buf.data(), text.size(), *c, err));
    CHECK(std::string(c->lpars[0].kernel) == "k");
}

TEST_CASE("cmdline strings and escapes") {
    auto cmdline = [](const std::string& v) {
        Parsed p = parse(kHead + kMinimal + "cmdline = " + v + "\n");
        REQUIRE_MESSAGE(p.error == "", p.error);
        return std::string(p.config->lpars[0].cmdline);
    };
    CHECK(cmdline(R"("a \"b\" c\\d")") == R"(a "b" c\d)");
    CHECK(cmdline(R"("")") == "");
    CHECK(cmdline("\"x=1 y\"   # trailing") == "x=1 y");
    CHECK(cmdline("\"tab\there\"") == "tab\there");
    CHECK(cmdline("\"" + std::string(1023, 'c') + "\"") == std::string(1023, 'c'));
}

TEST_CASE("sixteen LPARs fit, a seventeenth does not") {
    std::string text = kHead;
    for (int i = 0; i < 16; ++i)
        text += "[lpar l" + std::to_string(i) + "]\nmemory = 16M\nkernel = k\n";
    Parsed p = parse(text);
    REQUIRE(p.error == "");
    CHECK(p.config->count == 16);
    CHECK(std::string(p.config->lpars[15].name) == "l15");
    CHECK(error_of(text + "[lpar l16]\nmemory = 16M\nkernel = k\n") ==
          "lpars.conf:50: too many LPARs (at most 16)");
}

TEST_CASE("the version line") {
    CHECK(error_of("") == "lpars.conf:1: empty configuration: the first line must be "
                          "'tessera-config 1'");
    CHECK(error_of("# only\n\n# comments\n") == "lpars.conf:3: empty configuration: the first "
                                                "line must be 'tessera-config 1'");
    CHECK(error_of("[lpar a]\nmemory = 16M\n") ==
          "lpars.conf:1: expected 'tessera-config 1' before anything else, found '[lpar a]'");
    CHECK(error_of("# c\nmemory = 16M\n") == "lpars.conf:2: expected 'tessera-config 1' before "
                                             "anything else, found 'memory = 16M'");
    CHECK(error_of("tessera-config 2\n" + kMinimal) ==
          "lpars.conf:1: unsupported config version 2 (this hypervisor reads version 1)");
    CHECK(error_of("tessera-config 99999999999999999999999\n") ==
          "lpars.conf:1: unsupported config version 99999999999999999999999 (this hypervisor "
          "reads version 1)");
    CHECK(error_of("tessera-config\n") == "lpars.conf:1: tessera-config: missing version number");
    CHECK(error_of("tessera-config one\n") ==
          "lpars.conf:1: tessera-config: 'one' is not a version number");
    CHECK(error_of("tessera-config 1 2\n") ==
          "lpars.conf:1: tessera-config: '1 2' is not a version number");
    CHECK(error_of("tessera-config 1\n") ==
          "lpars.conf:1: no [lpar NAME] section (a configuration describes at least one LPAR)");
    CHECK(error_of("tessera-config 1\n# nothing\n\n") ==
          "lpars.conf:3: no [lpar NAME] section (a configuration describes at least one LPAR)");
}

TEST_CASE("sections") {
    CHECK(error_of(kHead + "[lpar a\n") == "lpars.conf:2: section header without a closing ']'");
    CHECK(error_of(kHead + "[lpar a] x\n") == "lpars.conf:2: unexpected text after ']': 'x'");
    CHECK(error_of(kHead + "[vm a]\n") ==
          "lpars.conf:2: unknown section '[vm a]' (sections are [lpar NAME])");
    CHECK(error_of(kHead + "[]\n") ==
          "lpars.conf:2: unknown section '[]' (sections are [lpar NAME])");
    CHECK(error_of(kHead + "[lpar]\n") == "lpars.conf:2: [lpar] needs a name: [lpar NAME]");
    CHECK(error_of(kHead + "[lpar a b]\n") ==
          "lpars.conf:2: lpar name 'a b': use letters, digits, '.', '_' and '-', starting with a "
          "letter or digit");
    CHECK(error_of(kHead + "[lpar -a]\n") ==
          "lpars.conf:2: lpar name '-a': use letters, digits, '.', '_' and '-', starting with a "
          "letter or digit");
    CHECK(error_of(kHead + "[lpar a+b]\n").find("lpar name 'a+b': use letters") !=
          std::string::npos);
    CHECK(error_of(kHead + "[lpar " + std::string(32, 'n') + "]\n") ==
          "lpars.conf:2: lpar name '" + std::string(32, 'n') + "' is longer than 31 characters");
    CHECK(parse(kHead + "[lpar " + std::string(31, 'n') + "]\nmemory = 16M\nkernel = k\n").error ==
          "");
    CHECK(error_of(kHead + kMinimal + "\n[lpar a]\n") ==
          "lpars.conf:6: duplicate lpar name 'a' (first on line 2)");
}

TEST_CASE("keys") {
    CHECK(error_of(kHead + "memory = 16M\n") ==
          "lpars.conf:2: 'memory' outside an [lpar NAME] section");
    CHECK(error_of(kHead + "[lpar a]\nmemroy = 16M\n") ==
          "lpars.conf:3: unknown key 'memroy' (keys: memory, cpus, kernel, initrd, cmdline, "
          "console, vty, kind, expect, lan, vscsi, vscsi-server, control, cpu-affinity)");
    CHECK(error_of(kHead + "[lpar a]\nmemory 16M\n") ==
          "lpars.conf:3: expected 'key = value' or '[lpar NAME]', found 'memory 16M'");
    CHECK(error_of(kHead + "[lpar a]\nmemory # = 16M\n") ==
          "lpars.conf:3: expected 'key = value' or '[lpar NAME]', found 'memory'");
    CHECK(error_of(kHead + "[lpar a]\n= 16M\n") == "lpars.conf:3: missing key before '='");
    CHECK(error_of(kHead + kMinimal + "memory = 32M\n") ==
          "lpars.conf:5: duplicate key 'memory' (first set on line 3)");
    CHECK(error_of(kHead + "[lpar a]\nmemory =\n") == "lpars.conf:3: memory: missing value");
    CHECK(error_of(kHead + "[lpar a]\nkernel = # none\n") == "lpars.conf:3: kernel: missing value");
    CHECK(error_of(kHead + "[lpar a]\ncmdline =\n") == "lpars.conf:3: cmdline: missing value");
}

TEST_CASE("control: yes or no, default no") {
    Parsed p = parse(kHead + kMinimal);
    REQUIRE(p.error == "");
    CHECK(!p.config->lpars[0].control);
    p = parse(kHead + kMinimal + "control = yes\n");
    REQUIRE(p.error == "");
    CHECK(p.config->lpars[0].control);
    CHECK(error_of(kHead + kMinimal + "control = maybe\n") ==
          "lpars.conf:5: control: 'maybe' is not yes or no");
    CHECK(error_of(kHead + kMinimal + "control = no\ncontrol = yes\n") ==
          "lpars.conf:6: duplicate key 'control' (first set on line 5)");
}

TEST_CASE("required keys are reported at their section's line") {
    CHECK(error_of(kHead + "[lpar a]\nmemory = 16M\n\n[lpar b]\n") ==
          "lpars.conf:2: lpar a: missing 'kernel = ENTRY'");
    CHECK(error_of(kHead + kMinimal + "# b\n[lpar b]\nkernel = k\n") ==
          "lpars.conf:6: lpar b: missing 'memory = SIZE'");
}

TEST_CASE("bad memory values") {
    auto err = [](const std::string& v) {
        return error_of(kHead + "[lpar a]\nkernel = k\nmemory = " + v + "\n");
    };
    CHECK(err("12Q") == "lpars.conf:4: memory: '12Q' is not a size (use K, M or G)");
    CHECK(err("M") == "lpars.conf:4: memory: 'M' is not a size (use K, M or G)");
    CHECK(err("16 M") == "lpars.conf:4: memory: '16 M' is not a size (use K, M or G)");
    CHECK(err("16MB") == "lpars.conf:4: memory: '16MB' is not a size (use K, M or G)");
    CHECK(err("-16M") == "lpars.conf:4: memory: '-16M' is not a size (use K, M or G)");
    CHECK(err("0x") == "lpars.conf:4: memory: '0x' is not a size (use K, M or G)");
    CHECK(err("0") == "lpars.conf:4: memory: must be more than 0");
    CHECK(err("0G") == "lpars.conf:4: memory: must be more than 0");
    CHECK(err("100M") == "lpars.conf:4: memory: '100M' is not a multiple of 16M (the memory "
                         "chunk size; use 96M or 112M)");
    CHECK(err("1M") == "lpars.conf:4: memory: '1M' is not a multiple of 16M (the memory chunk "
                       "size; use 16M)");
    CHECK(err("8G") == "lpars.conf:4: memory: '8G' is more than the 4G an LPAR can have");
    CHECK(err("4112M") == "lpars.conf:4: memory: '4112M' is more than the 4G an LPAR can have");
    CHECK(err("99999999999999999999G") ==
          "lpars.conf:4: memory: '99999999999999999999G' is more than the 4G an LPAR can have");
    CHECK(err("20000000000G") == // fits in 64 bits, overflows once multiplied
          "lpars.conf:4: memory: '20000000000G' is more than the 4G an LPAR can have");
    CHECK(err("0xffffffffffffffffff") ==
          "lpars.conf:4: memory: '0xffffffffffffffffff' is more than the 4G an LPAR can have");
}

TEST_CASE("bad cpus, vty, console and kind values") {
    auto err = [](const std::string& kv) { return error_of(kHead + kMinimal + kv + "\n"); };
    CHECK(err("cpus = 0") == "lpars.conf:5: cpus: must be at least 1");
    CHECK(err("cpus = 9") == "lpars.conf:5: cpus: '9' is more than 8 (0x8)");
    CHECK(err("cpus = 99999999999999999999999") ==
          "lpars.conf:5: cpus: '99999999999999999999999' is more than 8 (0x8)");
    CHECK(err("cpus = two") == "lpars.conf:5: cpus: 'two' is not a number");
    CHECK(err("cpus = 2x") == "lpars.conf:5: cpus: '2x' is not a number");
    CHECK(err("cpus = -1") == "lpars.conf:5: cpus: '-1' is not a number");
    CHECK(parse(kHead + kMinimal + "cpus = 8\n").config->lpars[0].cpus == 8);
    CHECK(err("vty = 0x100000000") ==
          "lpars.conf:5: vty: '0x100000000' is more than 4294967295 (0xffffffff)");
    CHECK(err("vty = terminal") == "lpars.conf:5: vty: 'terminal' is not a number");
    CHECK(parse(kHead + kMinimal + "vty = 0xffffffff\n").config->lpars[0].vty == 0xffff'ffff);
    CHECK(err("console = maybe") == "lpars.conf:5: console: 'maybe' is not yes or no");
    CHECK(err("console = YES") == "lpars.conf:5: console: 'YES' is not yes or no");
    CHECK(err("kind = bsd") == "lpars.conf:5: kind: 'bsd' is not linux or test");
}

TEST_CASE("cpu-affinity: lists and ranges of physical CPUs; bad ones refused with their line") {
    auto affinity = [](const std::string& v) {
        Parsed p = parse(kHead + kMinimal + "cpu-affinity = " + v + "\n");
        REQUIRE(p.error == "");
        return p.config->lpars[0].cpu_affinity;
    };
    CHECK(parse(kHead + kMinimal).config->lpars[0].cpu_affinity == 0); // any CPU
    CHECK(affinity("1") == 0b10u);
    CHECK(affinity("0,2-3") == 0b1101u);
    CHECK(affinity(" 3 - 5 , 0 # comment") == 0b111001u);
    CHECK(affinity("0x1f") == 1u << 31); // numbers as everywhere: decimal or 0x
    CHECK(affinity("0-31") == 0xffff'ffffu);
    auto err = [](const std::string& kv) { return error_of(kHead + kMinimal + kv + "\n"); };
    CHECK(err("cpu-affinity = 32") ==
          "lpars.conf:5: cpu-affinity: CPU 32 is past the last a machine may have (31)");
    CHECK(err("cpu-affinity = 0-40") ==
          "lpars.conf:5: cpu-affinity: CPU 40 is past the last a machine may have (31)");
    CHECK(err("cpu-affinity = 3-1") ==
          "lpars.conf:5: cpu-affinity: the range '3-1' runs backwards");
    CHECK(err("cpu-affinity = 1,") ==
          "lpars.conf:5: cpu-affinity: '' is not a CPU number or a range like 2-3");
    CHECK(err("cpu-affinity = one") ==
          "lpars.conf:5: cpu-affinity: 'one' is not a CPU number or a range like 2-3");
    CHECK(err("cpu-affinity = 1--2") ==
          "lpars.conf:5: cpu-affinity: '1--2' is not a CPU number or a range like 2-3");
    CHECK(err("cpu-affinity = -2") ==
          "lpars.conf:5: cpu-affinity: '-2' is not a CPU number or a range like 2-3");
    CHECK(err("cpu-affinity =") == "lpars.conf:5: cpu-affinity: missing value");
    CHECK(error_of(kHead + kMinimal + "cpu-affinity = 1\ncpu-affinity = 2\n") ==
          "lpars.conf:6: duplicate key 'cpu-affinity' (first set on line 5)");
}

TEST_CASE("bad entry names") {
    auto err = [](const std::string& v) {
        return error_of(kHead + "[lpar a]\nmemory = 16M\nkernel = " + v + "\n");
    };
    CHECK(err("my kernel") == "lpars.conf:4: kernel: 'my kernel' is not a bundle entry name "
                              "(letters, digits, '.', '_', '-', '+', starting with a letter or "
                              "digit)");
    CHECK(err("\"vmlinux\"").find("kernel: '\"vmlinux\"' is not a bundle entry name") !=
          std::string::npos);
    CHECK(err(".hidden").find("kernel: '.hidden' is not a bundle entry name") != std::string::npos);
    CHECK(err(std::string(48, 'k')) == "lpars.conf:4: kernel: '" + std::string(48, 'k') +
                                           "' is longer than 47 characters (a bundle entry name)");
    CHECK(parse(kHead + "[lpar a]\nmemory = 16M\nkernel = " + std::string(47, 'k') + "\n").error ==
          "");
    CHECK(error_of(kHead + kMinimal + "initrd = a/b\n") ==
          "lpars.conf:5: initrd: 'a/b' is not a bundle entry name (letters, digits, '.', '_', "
          "'-', '+', starting with a letter or digit)");
}

TEST_CASE("bad strings") {
    auto err = [](const std::string& v) { return error_of(kHead + kMinimal + "cmdline = " + v); };
    CHECK(err("\"console=hvc0") == "lpars.conf:5: cmdline: unterminated string (no closing '\"')");
    CHECK(err("\"ends in a backslash\\") ==
          "lpars.conf:5: cmdline: unterminated string (no closing '\"')");
    CHECK(err("\"a\\nb\"") == "lpars.conf:5: cmdline: unknown escape '\\n' (only \\\" and \\\\)");
    CHECK(err("\"a\" b") == "lpars.conf:5: cmdline: unexpected text after the closing quote: 'b'");
    CHECK(err("console=hvc0") ==
          "lpars.conf:5: cmdline: expected a quoted string, e.g. cmdline = \"console=hvc0\"");
    CHECK(err("\"" + std::string(1024, 'c') + "\"") ==
          "lpars.conf:5: cmdline: longer than 1023 characters");
    // A string does not continue onto the next line.
    CHECK(error_of(kHead + kMinimal + "cmdline = \"a\nb\"\n") ==
          "lpars.conf:5: cmdline: unterminated string (no closing '\"')");
}

TEST_CASE("control characters and NUL bytes") {
    CHECK(error_of(kHead + "[lpar a]\nmemory = 16M\x01\n") ==
          "lpars.conf:3: control character 0x01 in column 13");
    CHECK(error_of(kHead + "# \x7f\n") == "lpars.conf:2: control character 0x7f in column 3");
    CHECK(error_of(kHead + std::string("ab\0c\n", 5)) == "lpars.conf:2: NUL byte in column 3");
    CHECK(error_of(kHead + "[lpar a]\rmemory = 16M\n") ==
          "lpars.conf:2: control character 0x0d in column 9");
}

TEST_CASE("the file name in messages, and long values are cut short") {
    CHECK(parse("tessera-config 3\n", "conf/two.conf").error ==
          "conf/two.conf:1: unsupported config version 3 (this hypervisor reads version 1)");
    auto c = std::make_unique<Config>();
    InputError err;
    CHECK_FALSE(parse_config(nullptr, nullptr, 0, *c, err));
    CHECK(std::string(err.c_str()) ==
          "config:1: empty configuration: the first line must be 'tessera-config 1'");
    std::string e = error_of(kHead + "[lpar a]\nkernel = k\nmemory = " + std::string(500, '9'));
    CHECK(e == "lpars.conf:4: memory: '" + std::string(60, '9') +
                   "' is more than the 4G an LPAR can have");
    CHECK(e.size() < InputError::kCapacity);
}

TEST_CASE("a failed parse empties a previously filled Config") {
    auto c = std::make_unique<Config>();
    InputError err;
    std::string good = kHead + kMinimal;
    REQUIRE(parse_config("f", good.data(), good.size(), *c, err));
    CHECK(c->count == 1);
    std::string bad = kHead + "[lpar a]\n";
    CHECK_FALSE(parse_config("f", bad.data(), bad.size(), *c, err));
    CHECK(c->count == 0);
    CHECK(c->find("a") == nullptr);
}

namespace {

struct Checked {
    std::vector<u8> bytes;
    std::unique_ptr<Bundle> bundle = std::make_unique<Bundle>();
};

void open_bundle(Checked& c, std::vector<bundle::WriterEntry> entries) {
    std::string error;
    REQUIRE(bundle::write_bundle(entries, c.bytes, error));
    InputError err;
    REQUIRE_MESSAGE(c.bundle->open(c.bytes.data(), c.bytes.size(), err), err.c_str());
}

std::string cross_check(const std::string& text, std::vector<bundle::WriterEntry> images) {
    Parsed p = parse(text);
    REQUIRE_MESSAGE(p.error == "", p.error);
    images.insert(images.begin(), {"lpars.conf", bundle::EntryKind::Config,
                                   std::vector<u8>(text.begin(), text.end())});
    Checked c;
    open_bundle(c, images);
    InputError err;
    bool ok = check_config_against_bundle(*p.config, *c.bundle, err);
    CHECK(ok == !err.is_set());
    return err.c_str();
}

} // namespace

TEST_CASE("cross-checks against the bundle") {
    using K = bundle::EntryKind;
    const std::string text = kHead + "[lpar a]\nmemory = 16M\nkernel = vmlinux\n" +
                             "initrd = rd\n\n[lpar b]\nmemory = 32M\nkernel = vmlinux\n";
    std::vector<u8> small(5000, 1);
    CHECK(cross_check(text, {{"vmlinux", K::Kernel, small}, {"rd", K::Initrd, small}}) == "");
    CHECK(cross_check(text, {{"vmlinux", K::Kernel, small},
                             {"rd", K::Initrd, small},
                             {"extra", K::Blob, small}}) == "");
    CHECK(cross_check(text, {{"vmlinux", K::Kernel, small}}) ==
          "lpars.conf:5: lpar a: initrd: no entry 'rd' in the bundle");
    CHECK(cross_check(text, {{"rd", K::Initrd, small}}) ==
          "lpars.conf:4: lpar a: kernel: no entry 'vmlinux' in the bundle");
    CHECK(cross_check(text, {{"vmlinux", K::Blob, small}, {"rd", K::Initrd, small}}) ==
          "lpars.conf:4: lpar a: kernel: entry 'vmlinux' has kind blob, not kernel");
    CHECK(cross_check(text, {{"vmlinux", K::Kernel, small}, {"rd", K::Kernel, small}}) ==
          "lpars.conf:5: lpar a: initrd: entry 'rd' has kind kernel, not initrd");

    std::vector<u8> big(16 * MiB - 4000, 2);
    CHECK(cross_check(text, {{"vmlinux", K::Kernel, small}, {"rd", K::Initrd, big}}) ==
          "lpars.conf:3: lpar a: memory: 16M cannot hold kernel 'vmlinux' (5000 bytes) and "
          "initrd 'rd' (16773216 bytes)");
    std::vector<u8> huge(16 * MiB + 1, 3);
    const std::string one = kHead + "[lpar b]\nmemory = 16M\nkernel = vmlinux\n";
    CHECK(cross_check(one, {{"vmlinux", K::Kernel, huge}}) ==
          "lpars.conf:3: lpar b: memory: 16M cannot hold kernel 'vmlinux' (16777217 bytes)");
}

TEST_CASE("config: expect = exit | crash") {
    const char* text = "tessera-config 1\n[lpar a]\nmemory = 16M\nkernel = k\nexpect = crash\n"
                       "[lpar b]\nmemory = 16M\nkernel = k\n";
    tessera::Config c;
    tessera::InputError err;
    REQUIRE(tessera::parse_config("t.conf", text, std::strlen(text), c, err));
    CHECK(c.find("a")->expect == tessera::LparExpect::Crash);
    CHECK(c.find("b")->expect == tessera::LparExpect::Exit);
    const char* bad = "tessera-config 1\n[lpar a]\nmemory = 16M\nkernel = k\nexpect = maybe\n";
    CHECK_FALSE(tessera::parse_config("t.conf", bad, std::strlen(bad), c, err));
    CHECK(std::string(err.c_str()) == "t.conf:5: expect: 'maybe' is not exit or crash");
}

static_assert(kConfigMaxLans == vio::kMaxLansPerLpar);
static_assert(kConfigLanUnitBase == vio::kLanUnitBase);

TEST_CASE("lan = NAME [MAC]: repeatable, derived MACs stable and locally administered") {
    Parsed p = parse(kHead + R"([lpar a]
memory = 16M
kernel = k
lan = net0
lan = net1 02:00:00:00:00:01   # given
[lpar b]
memory = 16M
kernel = k
lan = net0
)");
    REQUIRE(p.error == "");
    const LparConfig& a = p.config->lpars[0];
    REQUIRE(a.lan_count == 2);
    CHECK(std::string(a.lans[0].name) == "net0");
    CHECK(!a.lans[0].mac_given);
    CHECK(a.lans[0].mac == derived_mac("a", "net0"));
    CHECK((a.lans[0].mac >> 40) == 0x02);
    CHECK(a.lans[0].line == 5);
    CHECK(a.lans[1].mac == 0x020000000001);
    CHECK(a.lans[1].mac_given);
    CHECK(p.config->lpars[1].lans[0].mac == derived_mac("b", "net0"));
    CHECK(derived_mac("a", "net0") != derived_mac("b", "net0"));
    CHECK(derived_mac("a", "net0") != derived_mac("a", "net1"));
    CHECK(derived_mac("ab", "c") != derived_mac("a", "bc"));
}

TEST_CASE("lan: bad values are refused with their line") {
    auto err = [](const std::string& lans) { return error_of(kHead + kMinimal + lans); };
    CHECK(err("lan =\n") == "lpars.conf:5: lan: missing value");
    CHECK(err("lan = my*lan\n") ==
          "lpars.conf:5: lan: 'my*lan': use letters, digits, '.', '_' and '-', starting with a "
          "letter or digit");
    CHECK(err("lan = net0 02:00:00:00:00\n") ==
          "lpars.conf:5: lan: '02:00:00:00:00' is not a MAC address (xx:xx:xx:xx:xx:xx)");
    CHECK(err("lan = net0 0g:00:00:00:00:00\n") ==
          "lpars.conf:5: lan: '0g:00:00:00:00:00' is not a MAC address (xx:xx:xx:xx:xx:xx)");
    CHECK(err("lan = net0 01:00:5e:00:00:01\n") ==
          "lpars.conf:5: lan: 01:00:5e:00:00:01 is a multicast address (the first byte must be "
          "even)");
    CHECK(err("lan = net0 00:00:00:00:00:00\n") ==
          "lpars.conf:5: lan: 00:00:00:00:00:00 is not a usable MAC address");
    CHECK(err("lan = net0\nlan = net0\n") ==
          "lpars.conf:6: lan: lpar a is on 'net0' already (line 5)");
    CHECK(err("lan = a\nlan = b\nlan = c\nlan = d\nlan = e\n") ==
          "lpars.conf:9: lan: too many LANs for one LPAR (at most 4)");
    CHECK(err("lan = " + std::string(32, 'n') + "\n") ==
          "lpars.conf:5: lan: '" + std::string(32, 'n') + "' is longer than 31 characters");
    CHECK(error_of(kHead + kMinimal +
                   "lan = net0 02:00:00:00:00:01\n[lpar b]\nmemory = 16M\n"
                   "kernel = k\nlan = net0 02:00:00:00:00:01\n") ==
          "lpars.conf:9: lan: lpar b has MAC 02:00:00:00:00:01 on 'net0', as lpar a (line 5)");
    CHECK(error_of(kHead + "[lpar a]\nmemory = 16M\nkernel = k\nvty = 0x30000003\nlan = n0\n"
                           "lan = n1\n") ==
          "lpars.conf:7: lan: lpar a: this adapter's unit address 0x30000003 is its vty's (choose "
          "another vty)");
    // The same MAC on different LANs is fine.
    CHECK(error_of(kHead + kMinimal +
                   "lan = net0 02:00:00:00:00:01\n[lpar b]\nmemory = 16M\n"
                   "kernel = k\nlan = net1 02:00:00:00:00:01\n") == "");
    std::string many;
    for (int i = 0; i < 5; ++i) {
        many += "[lpar l" + std::to_string(i) + "]\nmemory = 16M\nkernel = k\n";
        for (int j = 0; j < 4; ++j) many += "lan = n" + std::to_string(j) + "\n";
    }
    CHECK(error_of(kHead + many) == "lpars.conf:" + std::to_string(2 + 4 * 7 + 3) +
                                        ": lan: too many LAN adapters (at most 16 in the machine)");
    std::string names =
        "[lpar a]\nmemory = 16M\nkernel = k\nlan = a0\nlan = a1\nlan = a2\nlan = a3\n"
        "[lpar b]\nmemory = 16M\nkernel = k\nlan = b0\nlan = b1\nlan = b2\nlan = b3\n"
        "[lpar c]\nmemory = 16M\nkernel = k\nlan = c0\n";
    CHECK(error_of(kHead + names) ==
          "lpars.conf:19: lan: too many LANs (at most 8 in the machine)");
}

TEST_CASE("vscsi-server = NAME, vscsi = NAME: one server device per client, in file order") {
    Parsed p = parse(kHead + R"([lpar srv]
memory = 16M
kernel = k
vscsi-server = disks
vscsi-server = spare   # no client: no device
[lpar c1]
memory = 16M
kernel = k
vscsi = disks
[lpar c2]
memory = 16M
kernel = k
vscsi = disks
)");
    REQUIRE(p.error == "");
    const Config& c = *p.config;
    REQUIRE(c.lpars[0].vscsi_serve_count == 2);
    CHECK(std::string(c.lpars[0].vscsi_serves[0].name) == "disks");
    CHECK(c.lpars[0].vscsi_serves[0].line == 5);
    REQUIRE(c.lpars[1].vscsi_count == 1);
    VscsiDevice d[kConfigMaxVscsi];
    REQUIRE(vscsi_devices(c, c.lpars[0], d, kConfigMaxVscsi) == 2);
    CHECK(d[0].server);
    CHECK(d[0].peer == &c.lpars[1]);
    CHECK(d[0].line == 10);
    CHECK(d[1].peer == &c.lpars[2]);
    REQUIRE(vscsi_devices(c, c.lpars[2], d, kConfigMaxVscsi) == 1);
    CHECK(!d[0].server);
    CHECK(d[0].peer == &c.lpars[0]);
    CHECK(std::string(d[0].name) == "disks");
}

TEST_CASE("vscsi: bad values are refused with their line") {
    const std::string b = "[lpar b]\nmemory = 16M\nkernel = k\n";
    auto err = [](const std::string& text) { return error_of(kHead + kMinimal + text); };
    CHECK(err("vscsi = d*\n") == "lpars.conf:5: vscsi: 'd*': use letters, digits, '.', '_' and "
                                 "'-', starting with a letter or digit");
    CHECK(err("vscsi-server = d e\n") ==
          "lpars.conf:5: vscsi-server: one name only, found 'e' after it");
    CHECK(err("vscsi = d\n") ==
          "lpars.conf:5: vscsi: no lpar serves 'd' (add 'vscsi-server = d' to one)");
    CHECK(err("vscsi-server = d\nvscsi = d\n") ==
          "lpars.conf:6: vscsi: lpar a serves 'd' itself (a client needs another LPAR)");
    CHECK(err("vscsi-server = d\nvscsi-server = d\n") ==
          "lpars.conf:6: vscsi-server: lpar a has 'd' already (line 5)");
    CHECK(err("vscsi-server = d\n" + b + "vscsi-server = d\n") ==
          "lpars.conf:9: vscsi-server: 'd' is served by lpar a already (line 5)");
    CHECK(err("vscsi-server = d\n" + b + "vscsi = d\nvscsi = d\n") ==
          "lpars.conf:10: vscsi: lpar b has 'd' already (line 9)");
    std::string many = "vscsi-server = d\n";
    for (int i = 0; i < 9; ++i)
        many += "[lpar c" + std::to_string(i) + "]\nmemory = 16M\nkernel = k\nvscsi = d\n";
    CHECK(err(many) == "lpars.conf:41: vscsi: too many clients (at most 8 in the machine)");
    std::string nine = "[lpar b]\nmemory = 16M\nkernel = k\n";
    for (int i = 0; i < 9; ++i) nine += "vscsi-server = s" + std::to_string(i) + "\n";
    CHECK(err(nine) == "lpars.conf:16: vscsi-server: too many for one LPAR (at most 8)");
    CHECK(error_of(kHead +
                   "[lpar a]\nmemory = 16M\nkernel = k\nvty = 0x30000011\n"
                   "vscsi-server = d\nvscsi-server = e\n" +
                   b + "vscsi = d\nvscsi = e\n") ==
          "lpars.conf:12: vscsi: lpar a: the unit address 0x30000011 of its v-scsi device 1 is "
          "its vty's (choose another vty)");
}
