// tessera-pack, run in-process on files in a temporary directory.
#include "common/hosted/pack_tool.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Run {
    int status;
    std::string out;
    std::string err;
};

Run pack(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    int status = tessera::pack::run(args, out, err);
    return {status, out.str(), err.str()};
}

class TempDir {
  public:
    TempDir() {
        path_ = fs::temp_directory_path() / ("tessera-pack-test-" + std::to_string(::getpid()));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    std::string file(const std::string& name, const std::string& content) const {
        std::string p = (path_ / name).string();
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
    std::string path(const std::string& name) const { return (path_ / name).string(); }

  private:
    fs::path path_;
};

const char* const kConf = R"(tessera-config 1
[lpar alpha]
memory = 64M
cpus = 2
kernel = kernel-a
initrd = initrd-a
cmdline = "console=hvc0 quiet"

[lpar beta]
memory = 16M
kernel = kernel-b
kind = test
console = no
)";

} // namespace

TEST_CASE("tessera-pack: help and usage errors") {
    Run r = pack({"--help"});
    CHECK(r.status == 0);
    CHECK(r.out.find("usage: tessera-pack -o OUT --config CONF") == 0);
    CHECK(pack({}).status == 2);
    r = pack({"-o"});
    CHECK(r.status == 2);
    CHECK(r.err == "tessera-pack: option -o needs a value\n");
    r = pack({"--frobnicate"});
    CHECK(r.status == 2);
    CHECK(r.err == "tessera-pack: unknown option '--frobnicate' (see --help)\n");
    r = pack({"-o", "x", "--config", "c", "kernel"});
    CHECK(r.status == 2);
    CHECK(r.err == "tessera-pack: expected NAME=FILE, got 'kernel'\n");
    CHECK(pack({"-o", "x", "--config", "c", "=f"}).status == 2);
    CHECK(pack({"-o", "x", "--config", "c", "--kernel", "k="}).status == 2);
    r = pack({"--config", "c"});
    CHECK(r.err == "tessera-pack: no output bundle (-o OUT)\n");
    r = pack({"-o", "x"});
    CHECK(r.err == "tessera-pack: no configuration (--config CONF)\n");
    r = pack({"--list", "b", "-o", "x"});
    CHECK(r.status == 2);
    CHECK(r.err == "tessera-pack: --list takes only a bundle\n");
}

TEST_CASE("tessera-pack: packs, deduces kinds, and lists") {
    TempDir dir;
    std::string conf = dir.file("lpars.conf", kConf);
    std::string out = dir.path("out.bundle");
    Run r =
        pack({"-o", out, "--config", conf, "kernel-a=" + dir.file("ka", std::string(70000, 'a')),
              "kernel-b=" + dir.file("kb", std::string(5000, 'b')),
              "initrd-a=" + dir.file("ia", std::string(300000, 'i')),
              "readme=" + dir.file("readme", "hello")});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.err == "tessera-pack: note: 'readme' is not used by " + conf + "; packed as a blob\n");
    CHECK(r.out.find("tessera-pack: wrote " + out + ": 5 entries, ") == 0);
    CHECK(fs::exists(out));

    r = pack({"--list", out});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.out.find(out + ": Tessera bundle version 1, 5 entries, ") == 0);
    CHECK(r.out.find("config  0x1000") != std::string::npos);
    CHECK(r.out.find("lpars.conf\n") != std::string::npos);
    CHECK(r.out.find("kernel  0x2000           70000") != std::string::npos);
    CHECK(r.out.find("initrd") != std::string::npos);
    CHECK(r.out.find("blob") != std::string::npos);
    CHECK(r.out.find("config lpars.conf: 2 LPARs\n") != std::string::npos);
    CHECK(r.out.find("  alpha: 64M, 2 cpus, kind linux, kernel kernel-a, initrd initrd-a, console "
                     "yes, vty 0x30000000, cmdline \"console=hvc0 quiet\"\n") != std::string::npos);
    CHECK(r.out.find("  beta: 16M, 1 cpu, kind test, kernel kernel-b, console no, vty "
                     "0x30000000\n") != std::string::npos);
}

TEST_CASE("tessera-pack: explicit kinds") {
    TempDir dir;
    std::string conf =
        dir.file("my.conf", "tessera-config 1\n[lpar a]\nmemory = 16M\nkernel = k\n");
    std::string out = dir.path("b");
    Run r = pack({"-o", out, "-c", conf, "--kernel", "k=" + dir.file("k", "K"), "--blob",
                  "x=" + dir.file("x", "X")});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.err == ""); // a blob given as such is not noted
    r = pack({"--list", out});
    CHECK(r.out.find("config my.conf: 1 LPAR\n") != std::string::npos);

    // A kind that contradicts the configuration is caught by the cross-check.
    fs::remove(out);
    r = pack({"-o", out, "-c", conf, "--initrd", "k=" + dir.file("k", "K")});
    CHECK(r.status == 1);
    CHECK(r.err == conf + ":4: lpar a: kernel: entry 'k' has kind initrd, not kernel\n");
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("tessera-pack: refuses bad input and writes nothing") {
    TempDir dir;
    std::string out = dir.path("out.bundle");
    std::string k = dir.file("k", std::string(100, 'k'));

    std::string bad = dir.file("bad.conf", "tessera-config 1\n[lpar a]\nmemory = 12Q\n");
    Run r = pack({"-o", out, "--config", bad, "k=" + k});
    CHECK(r.status == 1);
    CHECK(r.err == bad + ":3: memory: '12Q' is not a size (use K, M or G)\n");

    std::string conf = dir.file("lpars.conf", kConf);
    r = pack({"-o", out, "--config", conf, "kernel-a=" + k, "initrd-a=" + k});
    CHECK(r.status == 1);
    CHECK(r.err == conf + ":11: lpar beta: kernel: no entry 'kernel-b' in the bundle\n");

    r = pack({"-o", out, "--config", conf, "kernel-a=" + dir.path("missing")});
    CHECK(r.status == 1);
    CHECK(r.err.find("tessera-pack: cannot read '" + dir.path("missing") + "': ") == 0);

    r = pack({"-o", out, "--config", dir.path("nope.conf"), "kernel-a=" + k});
    CHECK(r.status == 1);
    CHECK(r.err.find("tessera-pack: cannot read '" + dir.path("nope.conf") + "'") == 0);

    r = pack({"-o", out, "--config", conf, "kernel-a=" + dir.file("empty", "")});
    CHECK(r.status == 1);
    CHECK(r.err == "tessera-pack: '" + dir.path("empty") + "' (kernel-a) is empty\n");

    r = pack({"-o", out, "--config", conf, "bad name=" + k});
    CHECK(r.status == 1);
    CHECK(r.err.find("tessera-pack: 'bad name' is not a bundle entry name") != std::string::npos);

    r = pack({"-o", out, "--config", conf, "lpars.conf=" + k});
    CHECK(r.status == 1);
    CHECK(r.err.find("tessera-pack: duplicate entry name 'lpars.conf'") != std::string::npos);

    std::string both =
        dir.file("both.conf", "tessera-config 1\n[lpar a]\nmemory = 16M\nkernel = x\n"
                              "[lpar b]\nmemory = 16M\nkernel = k\ninitrd = x\n");
    r = pack({"-o", out, "--config", both, "x=" + k, "k=" + k});
    CHECK(r.status == 1);
    CHECK(r.err == "tessera-pack: 'x' is used both as a kernel and as an initrd by " + both + "\n");

    std::string spaced = dir.file("my lpars.conf", kConf);
    r = pack({"-o", out, "--config", spaced, "kernel-a=" + k});
    CHECK(r.status == 1);
    CHECK(r.err.find("tessera-pack: the configuration's file name 'my lpars.conf' cannot be a "
                     "bundle entry name") == 0);

    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("tessera-pack --list rejects a corrupt bundle with the reader's message") {
    TempDir dir;
    std::string conf = dir.file("c.conf", "tessera-config 1\n[lpar a]\nmemory = 16M\nkernel = k\n");
    std::string out = dir.path("b");
    REQUIRE(pack({"-o", out, "-c", conf, "k=" + dir.file("k", std::string(3000, 'k'))}).status ==
            0);
    {
        std::fstream f(out, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(-100, std::ios::end);
        f.put('\xA5');
    }
    Run r = pack({"--list", out});
    CHECK(r.status == 1);
    CHECK(r.err.find(out + ": bundle: entry 1 (\"k\"): data checksum mismatch (stored 0x") == 0);

    r = pack({"--list", dir.path("absent")});
    CHECK(r.status == 1);
    CHECK(r.err.find("tessera-pack: cannot read") == 0);

    std::string text = dir.file("text", std::string(200, 'x'));
    r = pack({"--list", text});
    CHECK(r.status == 1);
    CHECK(r.err.find(text + ": bundle: bad magic 78 78 78") == 0);
    r = pack({"--list", conf});
    CHECK(r.status == 1);
    CHECK(r.err == conf + ": bundle: truncated header (50 bytes, the header alone is 64)\n");
}
