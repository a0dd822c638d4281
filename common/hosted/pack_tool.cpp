#include "common/hosted/pack_tool.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/bundle.hpp"
#include "common/hosted/bundle_writer.hpp"
#include "common/lpar_config.hpp"

namespace tessera::pack {

namespace {

constexpr const char* kUsage =
    R"(usage: tessera-pack -o OUT --config CONF [NAME=FILE | --kernel NAME=FILE
                    | --initrd NAME=FILE | --blob NAME=FILE]...
       tessera-pack --list BUNDLE
       tessera-pack --help

Packs a Tessera boot bundle OUT: the LPAR configuration CONF (docs/bundle-format.md) and the
images it names. Each NAME=FILE adds FILE as the bundle entry NAME. The entry's kind comes from
how CONF uses NAME (kernel = NAME: kernel; initrd = NAME: initrd; not used: blob, with a note),
or is given with --kernel, --initrd or --blob. CONF itself becomes the entry named after its base
name (so the hypervisor's messages say e.g. "lpars.conf:7: ...").

Before OUT is written, everything is checked with the hypervisor's own parser and reader: CONF's
syntax, the bundle's layout, and that every kernel and initrd CONF names is given with the right
kind and fits in its LPAR's memory. Any problem is printed and nothing is written.

  -o, --output OUT    the bundle to write
  -c, --config CONF   the LPAR configuration
  --kernel NAME=FILE  add FILE as a kernel entry (also --initrd, --blob)
  -l, --list BUNDLE   check BUNDLE and print its entries and LPARs
  -h, --help          this text

Exit status: 0 success, 1 invalid input (the message says what and where), 2 usage error.
)";

struct Image {
    std::string name;
    std::string path;
    bool kind_given = false;
    bundle::EntryKind kind = bundle::EntryKind::Blob;
};

struct Options {
    std::string output;
    std::string config;
    std::string list;
    std::vector<Image> images;
    bool help = false;
};

bool read_file(const std::string& path, std::vector<u8>& data, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read '" + path + "': " + std::strerror(errno);
        return false;
    }
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) {
        error = "cannot read '" + path + "': " + std::strerror(errno);
        return false;
    }
    return true;
}

std::string base_name(const std::string& path) {
    std::string::size_type slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string hex(unsigned long long v, int width = 0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%0*llx", width, v);
    return buf;
}

std::string size_text(u64 bytes) {
    if (bytes % GiB == 0) return std::to_string(bytes / GiB) + "G";
    return std::to_string(bytes / MiB) + "M";
}

// Parses the command line; returns 0 to go on, else an exit status (message in `error`).
int parse_args(const std::vector<std::string>& args, Options& o, std::string& error) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& into) {
            if (i + 1 == args.size()) {
                error = "option " + a + " needs a value";
                return false;
            }
            into = args[++i];
            return true;
        };
        if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "-o" || a == "--output") {
            if (!value(o.output)) return 2;
        } else if (a == "-c" || a == "--config") {
            if (!value(o.config)) return 2;
        } else if (a == "-l" || a == "--list") {
            if (!value(o.list)) return 2;
        } else if (a == "--kernel" || a == "--initrd" || a == "--blob" || a[0] != '-') {
            Image img;
            std::string spec = a;
            if (a[0] == '-') {
                if (!value(spec)) return 2;
                img.kind_given = true;
                img.kind = a == "--kernel"   ? bundle::EntryKind::Kernel
                           : a == "--initrd" ? bundle::EntryKind::Initrd
                                             : bundle::EntryKind::Blob;
            }
            std::string::size_type eq = spec.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
                error = "expected NAME=FILE, got '" + spec + "'";
                return 2;
            }
            img.name = spec.substr(0, eq);
            img.path = spec.substr(eq + 1);
            o.images.push_back(img);
        } else {
            error = "unknown option '" + a + "' (see --help)";
            return 2;
        }
    }
    if (o.help) return 0;
    if (!o.list.empty()) {
        if (!o.output.empty() || !o.config.empty() || !o.images.empty()) {
            error = "--list takes only a bundle";
            return 2;
        }
        return 0;
    }
    if (o.output.empty() || o.config.empty()) {
        error = o.output.empty() ? "no output bundle (-o OUT)" : "no configuration (--config CONF)";
        return 2;
    }
    return 0;
}

void print_lpars(const Config& config, std::ostream& out) {
    out << "config " << config.file << ": " << config.count
        << (config.count == 1 ? " LPAR\n" : " LPARs\n");
    for (const LparConfig& l : config) {
        out << "  " << l.name << ": " << size_text(l.memory) << ", " << l.cpus
            << (l.cpus == 1 ? " cpu" : " cpus") << ", kind " << to_string(l.kind) << ", kernel "
            << l.kernel;
        if (l.has_initrd()) out << ", initrd " << l.initrd;
        out << ", console " << (l.console ? "yes" : "no") << ", vty " << hex(l.vty);
        for (usize i = 0; i < l.lan_count; ++i) {
            char mac[18];
            const u64 m = l.lans[i].mac;
            std::snprintf(
                mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x",
                static_cast<unsigned>(m >> 40 & 0xff), static_cast<unsigned>(m >> 32 & 0xff),
                static_cast<unsigned>(m >> 24 & 0xff), static_cast<unsigned>(m >> 16 & 0xff),
                static_cast<unsigned>(m >> 8 & 0xff), static_cast<unsigned>(m & 0xff));
            out << ", lan " << l.lans[i].name << " " << mac;
        }
        for (usize i = 0; i < l.vscsi_serve_count; ++i)
            out << ", vscsi-server " << l.vscsi_serves[i].name;
        for (usize i = 0; i < l.vscsi_count; ++i) out << ", vscsi " << l.vscsi[i].name;
        if (l.cmdline[0] != '\0') out << ", cmdline \"" << l.cmdline << "\"";
        out << "\n";
    }
}

int list(const std::string& path, std::ostream& out, std::ostream& err) {
    std::vector<u8> data;
    std::string error;
    if (!read_file(path, data, error)) {
        err << "tessera-pack: " << error << "\n";
        return 1;
    }
    auto b = std::make_unique<Bundle>();
    InputError ie;
    if (!b->open(data.data(), data.size(), ie)) {
        err << path << ": " << ie.c_str() << "\n";
        return 1;
    }
    out << path << ": Tessera bundle version " << bundle::kVersion << ", " << b->count()
        << (b->count() == 1 ? " entry, " : " entries, ") << b->total_size() << " bytes\n";
    char line[256]; // names are at most 47 characters: a row fits
    std::snprintf(line, sizeof(line), "  %2s  %-6s  %-10s  %10s  %-10s  %s\n", "#", "kind",
                  "offset", "size", "crc32", "name");
    out << line;
    for (const Bundle::Entry& e : *b) {
        std::snprintf(line, sizeof(line), "  %2u  %-6s  %-10s  %10zu  %-10s  %.47s\n", e.index,
                      bundle::to_string(e.kind), hex(e.offset).c_str(), e.size,
                      hex(e.crc, 8).c_str(), e.name);
        out << line;
    }
    const Bundle::Entry& ce = b->config();
    auto config = std::make_unique<Config>();
    if (!parse_config(ce.name, reinterpret_cast<const char*>(ce.data), ce.size, *config, ie) ||
        !check_config_against_bundle(*config, *b, ie)) {
        err << path << ": " << ie.c_str() << "\n";
        return 1;
    }
    print_lpars(*config, out);
    return 0;
}

int pack(Options& o, std::ostream& out, std::ostream& err) {
    std::vector<u8> text;
    std::string error;
    if (!read_file(o.config, text, error)) {
        err << "tessera-pack: " << error << "\n";
        return 1;
    }
    auto config = std::make_unique<Config>();
    InputError ie;
    if (!parse_config(o.config.c_str(), reinterpret_cast<const char*>(text.data()), text.size(),
                      *config, ie)) {
        err << ie.c_str() << "\n";
        return 1;
    }

    std::vector<bundle::WriterEntry> entries;
    std::string config_name = base_name(o.config);
    if (!bundle::is_valid_name(config_name.data(), config_name.size())) {
        err << "tessera-pack: the configuration's file name '" << config_name
            << "' cannot be a bundle entry name (1 to 47 letters, digits, '.', '_', '-', '+', "
               "starting with a letter or digit): rename the file\n";
        return 1;
    }
    entries.push_back({config_name, bundle::EntryKind::Config, std::move(text)});

    for (Image& img : o.images) {
        if (!img.kind_given) {
            bool as_kernel = false, as_initrd = false;
            for (const LparConfig& l : *config) {
                as_kernel |= img.name == l.kernel;
                as_initrd |= img.name == l.initrd;
            }
            if (as_kernel && as_initrd) {
                err << "tessera-pack: '" << img.name
                    << "' is used both as a kernel and as an initrd by " << o.config << "\n";
                return 1;
            }
            img.kind = as_kernel   ? bundle::EntryKind::Kernel
                       : as_initrd ? bundle::EntryKind::Initrd
                                   : bundle::EntryKind::Blob;
            if (!as_kernel && !as_initrd)
                err << "tessera-pack: note: '" << img.name << "' is not used by " << o.config
                    << "; packed as a blob\n";
        }
        std::vector<u8> data;
        if (!read_file(img.path, data, error)) {
            err << "tessera-pack: " << error << "\n";
            return 1;
        }
        if (data.empty()) {
            err << "tessera-pack: '" << img.path << "' (" << img.name << ") is empty\n";
            return 1;
        }
        entries.push_back({img.name, img.kind, std::move(data)});
    }

    std::vector<u8> bytes;
    if (!bundle::write_bundle(entries, bytes, error)) {
        err << "tessera-pack: " << error << "\n";
        return 1;
    }
    // Check the result exactly as the hypervisor will.
    auto b = std::make_unique<Bundle>();
    if (!b->open(bytes.data(), bytes.size(), ie)) {
        err << "tessera-pack: " << ie.c_str() << "\n";
        return 1;
    }
    if (!check_config_against_bundle(*config, *b, ie)) {
        err << ie.c_str() << "\n";
        return 1;
    }

    std::ofstream file(o.output, std::ios::binary | std::ios::trunc);
    if (file)
        file.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (file) file.close();
    if (!file) {
        err << "tessera-pack: cannot write '" << o.output << "': " << std::strerror(errno) << "\n";
        std::remove(o.output.c_str());
        return 1;
    }
    out << "tessera-pack: wrote " << o.output << ": " << b->count() << " entries, " << bytes.size()
        << " bytes, " << config->count << (config->count == 1 ? " LPAR\n" : " LPARs\n");
    return 0;
}

} // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    Options o;
    std::string error;
    if (args.empty()) {
        err << kUsage;
        return 2;
    }
    if (int status = parse_args(args, o, error); status != 0) {
        err << "tessera-pack: " << error << "\n";
        return status;
    }
    if (o.help) {
        out << kUsage;
        return 0;
    }
    if (!o.list.empty()) return list(o.list, out, err);
    return pack(o, out, err);
}

} // namespace tessera::pack
