#include "common/lpar_config.hpp"

#include <stdarg.h>

#include "common/rt/format.hpp"
#include "common/rt/string.hpp"

namespace tessera {

const char* to_string(LparKind k) {
    switch (k) {
    case LparKind::Linux:
        return "linux";
    case LparKind::Test:
        return "test";
    }
    return "unknown";
}

const LparConfig* Config::find(const char* name) const {
    for (usize i = 0; i < count; ++i)
        if (rt::str_compare(lpars[i].name, name) == 0) return &lpars[i];
    return nullptr;
}

u64 derived_mac(const char* lpar, const char* lan) {
    u64 h = 0xcbf2'9ce4'8422'2325; // FNV-1a, 64 bits
    auto mix = [&h](const char* s) {
        for (; *s; ++s) h = (h ^ static_cast<u8>(*s)) * 0x100'0000'01b3;
        h = (h ^ 0xff) * 0x100'0000'01b3; // a separator no name contains
    };
    mix(lpar);
    mix(lan);
    return u64{0x02} << 40 | (h & 0xff'ffff'ffff); // locally administered, unicast
}

namespace {

constexpr int kEcho = 60; // at most this many characters of a bad value are quoted back

// A piece of the text: not NUL-terminated.
struct Str {
    const char* p = nullptr;
    usize n = 0;

    bool empty() const { return n == 0; }
    // For "%.*s" (bounded, so a long value does not crowd out the rest of a message).
    int echo_len() const { return n > static_cast<usize>(kEcho) ? kEcho : static_cast<int>(n); }
    bool equals(const char* lit) const {
        usize len = rt::str_length(lit);
        return len == n && rt::mem_compare(p, lit, n) == 0;
    }
    Str from(usize i) const { return Str{p + i, n - i}; }
    Str first(usize k) const { return Str{p, k}; }
};

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

Str trim(Str s) {
    while (s.n > 0 && is_space(s.p[0])) s = s.from(1);
    while (s.n > 0 && is_space(s.p[s.n - 1])) --s.n;
    return s;
}

// Everything before the first '#', trimmed.
Str strip_comment(Str s) {
    const void* hash = rt::mem_find(s.p, '#', s.n);
    if (hash != nullptr) s.n = static_cast<usize>(static_cast<const char*>(hash) - s.p);
    return trim(s);
}

// Splits off the first run of non-blank characters; `rest` is what follows, trimmed.
Str take_word(Str s, Str& rest) {
    usize i = 0;
    while (i < s.n && !is_space(s.p[i])) ++i;
    rest = trim(s.from(i));
    return s.first(i);
}

enum class Num : u8 { Ok, Bad, Overflow };

// A decimal or 0x-hexadecimal number at the start of s; `used` is how many characters it took.
Num parse_number(Str s, u64& value, usize& used) {
    u64 base = 10;
    usize i = 0;
    if (s.n >= 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
        base = 16;
        i = 2;
    }
    usize start = i;
    u64 v = 0;
    bool overflow = false;
    for (; i < s.n; ++i) {
        char c = s.p[i];
        u64 d;
        if (c >= '0' && c <= '9')
            d = static_cast<u64>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = static_cast<u64>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = static_cast<u64>(c - 'A' + 10);
        else
            break;
        if (v > (~u64{0} - d) / base)
            overflow = true;
        else
            v = v * base + d;
    }
    used = i;
    if (i == start) return Num::Bad;
    value = v;
    return overflow ? Num::Overflow : Num::Ok;
}

// The whole of s is one number.
Num parse_whole_number(Str s, u64& value) {
    usize used = 0;
    Num r = parse_number(s, value, used);
    if (r == Num::Ok && used != s.n) return Num::Bad;
    if (r == Num::Overflow && used != s.n) return Num::Bad;
    return r;
}

// A size: a number and an optional K, M or G suffix (either case), in bytes.
Num parse_size(Str s, u64& bytes) {
    u64 v = 0;
    usize used = 0;
    Num r = parse_number(s, v, used);
    if (r == Num::Bad) return r;
    u64 unit = 1;
    if (used + 1 == s.n) {
        switch (s.p[used]) {
        case 'K':
        case 'k':
            unit = KiB;
            break;
        case 'M':
        case 'm':
            unit = MiB;
            break;
        case 'G':
        case 'g':
            unit = GiB;
            break;
        default:
            return Num::Bad;
        }
    } else if (used != s.n) {
        return Num::Bad;
    }
    if (r == Num::Overflow || v > ~u64{0} / unit) return Num::Overflow;
    bytes = v * unit;
    return Num::Ok;
}

void vset_at(InputError& err, const char* file, u32 line, const char* fmt, va_list ap) {
    usize n = rt::format(err.text, InputError::kCapacity, "%s:%u: ", file, line);
    if (n < InputError::kCapacity) rt::vformat(err.text + n, InputError::kCapacity - n, fmt, ap);
}

bool fail_at(InputError& err, const char* file, u32 line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool fail_at(InputError& err, const char* file, u32 line, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vset_at(err, file, line, fmt, ap);
    va_end(ap);
    return false;
}

enum Key : u8 {
    kMemory,
    kCpus,
    kKernel,
    kInitrd,
    kCmdline,
    kConsole,
    kVty,
    kKind,
    kExpect,
    kLan,
    kVscsi,
    kVscsiServer,
    kControl,
    kCpuAffinity,
    kKeyCount
};
constexpr const char* kKeyNames[kKeyCount] = {
    "memory", "cpus",   "kernel", "initrd", "cmdline",      "console", "vty",
    "kind",   "expect", "lan",    "vscsi",  "vscsi-server", "control", "cpu-affinity"};

class Parser {
  public:
    Parser(const char* file, Config& out, InputError& err) : file_(file), out_(out), err_(err) {}

    bool run(const char* text, usize len);

  private:
    bool fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    bool check_characters(Str line);
    bool version_line(Str line);
    bool section_line(Str line);
    bool key_line(Str line);
    bool finish_section();
    bool value(Key key, Str raw);
    bool memory_value(Str v);
    bool lan_value(Str v);
    bool check_lans();
    bool device_name(const char* key, Str name);
    bool vscsi_value(Key key, Str v);
    bool check_vscsi();
    bool number_value(const char* key, Str v, u64 max, u64& out);
    bool affinity_value(Str v);
    bool entry_value(const char* key, Str v, char* out);
    bool string_value(const char* key, Str v, char* out, usize cap);

    const char* file_;
    Config& out_;
    InputError& err_;
    u32 line_ = 0;
    bool have_version_ = false;
    LparConfig* cur_ = nullptr;
    u32 key_lines_[kKeyCount] = {};
};

bool Parser::fail(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vset_at(err_, file_, line_, fmt, ap);
    va_end(ap);
    return false;
}

bool Parser::run(const char* text, usize len) {
    usize pos = 0;
    while (pos < len) {
        usize eol = pos;
        while (eol < len && text[eol] != '\n') ++eol;
        Str line{text + pos, eol - pos};
        pos = eol + 1;
        ++line_;
        if (line.n > 0 && line.p[line.n - 1] == '\r') --line.n; // CRLF files
        if (!check_characters(line)) return false;
        Str t = trim(line);
        if (t.empty() || t.p[0] == '#') continue;
        bool ok;
        if (!have_version_)
            ok = version_line(t);
        else if (t.p[0] == '[')
            ok = section_line(t);
        else
            ok = key_line(t);
        if (!ok) return false;
    }
    if (line_ == 0) line_ = 1;
    if (!have_version_)
        return fail("empty configuration: the first line must be 'tessera-config %u'",
                    kConfigVersion);
    if (!finish_section()) return false;
    if (out_.count == 0)
        return fail("no [lpar NAME] section (a configuration describes at least one LPAR)");
    return check_lans() && check_vscsi();
}

bool Parser::check_characters(Str line) {
    for (usize i = 0; i < line.n; ++i) {
        unsigned char c = static_cast<unsigned char>(line.p[i]);
        if (c == 0) return fail("NUL byte in column %zu", i + 1);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail("control character 0x%02x in column %zu", c, i + 1);
    }
    return true;
}

bool Parser::version_line(Str line) {
    Str rest;
    Str word = take_word(strip_comment(line), rest);
    if (!word.equals("tessera-config"))
        return fail("expected 'tessera-config %u' before anything else, found '%.*s'",
                    kConfigVersion, line.echo_len(), line.p);
    if (rest.empty()) return fail("tessera-config: missing version number");
    u64 v = 0;
    Num r = parse_whole_number(rest, v);
    if (r == Num::Bad)
        return fail("tessera-config: '%.*s' is not a version number", rest.echo_len(), rest.p);
    if (r == Num::Overflow || v != kConfigVersion)
        return fail("unsupported config version %.*s (this hypervisor reads version %u)",
                    rest.echo_len(), rest.p, kConfigVersion);
    out_.version = kConfigVersion;
    have_version_ = true;
    return true;
}

bool Parser::section_line(Str line) {
    Str s = strip_comment(line);
    const void* close = rt::mem_find(s.p, ']', s.n);
    if (close == nullptr) return fail("section header without a closing ']'");
    usize at = static_cast<usize>(static_cast<const char*>(close) - s.p);
    Str after = trim(s.from(at + 1));
    if (!after.empty()) return fail("unexpected text after ']': '%.*s'", after.echo_len(), after.p);
    Str inner = trim(Str{s.p + 1, at - 1});
    Str name;
    Str word = take_word(inner, name);
    if (!word.equals("lpar"))
        return fail("unknown section '[%.*s]' (sections are [lpar NAME])", inner.echo_len(),
                    inner.p);
    if (name.empty()) return fail("[lpar] needs a name: [lpar NAME]");
    if (name.n >= kConfigNameMax)
        return fail("lpar name '%.*s' is longer than %zu characters", name.echo_len(), name.p,
                    kConfigNameMax - 1);
    bool good = bundle::is_name_start(name.p[0]);
    for (usize i = 0; good && i < name.n; ++i)
        good = bundle::is_name_char(name.p[i]) && name.p[i] != '+';
    if (!good)
        return fail("lpar name '%.*s': use letters, digits, '.', '_' and '-', starting with a "
                    "letter or digit",
                    name.echo_len(), name.p);

    if (!finish_section()) return false;
    for (usize i = 0; i < out_.count; ++i) {
        const LparConfig& other = out_.lpars[i];
        if (name.equals(other.name))
            return fail("duplicate lpar name '%s' (first on line %u)", other.name, other.line);
    }
    if (out_.count == kConfigMaxLpars) return fail("too many LPARs (at most %zu)", kConfigMaxLpars);
    cur_ = &out_.lpars[out_.count++];
    *cur_ = LparConfig{};
    rt::mem_copy(cur_->name, name.p, name.n);
    cur_->name[name.n] = '\0';
    cur_->line = line_;
    for (u32& l : key_lines_) l = 0;
    return true;
}

// The section that is open is complete: check its required keys.
bool Parser::finish_section() {
    if (cur_ == nullptr) return true;
    const char* missing = nullptr;
    if (cur_->memory_line == 0)
        missing = "memory = SIZE";
    else if (cur_->kernel_line == 0)
        missing = "kernel = ENTRY";
    if (missing != nullptr)
        return fail_at(err_, file_, cur_->line, "lpar %s: missing '%s'", cur_->name, missing);
    cur_ = nullptr;
    return true;
}

bool Parser::key_line(Str line) {
    usize eq = 0;
    while (eq < line.n && line.p[eq] != '=' && line.p[eq] != '#') ++eq;
    if (eq == line.n || line.p[eq] != '=')
        return fail("expected 'key = value' or '[lpar NAME]', found '%.*s'",
                    strip_comment(line).echo_len(), line.p);
    Str key = trim(line.first(eq));
    if (key.empty()) return fail("missing key before '='");
    if (cur_ == nullptr)
        return fail("'%.*s' outside an [lpar NAME] section", key.echo_len(), key.p);
    u8 k = 0;
    while (k < kKeyCount && !key.equals(kKeyNames[k])) ++k;
    if (k == kKeyCount)
        return fail("unknown key '%.*s' (keys: memory, cpus, kernel, initrd, cmdline, console, "
                    "vty, kind, expect, lan, vscsi, vscsi-server, control, cpu-affinity)",
                    key.echo_len(), key.p);
    if (key_lines_[k] != 0 && k != kLan && k != kVscsi && k != kVscsiServer) // repeatable
        return fail("duplicate key '%s' (first set on line %u)", kKeyNames[k], key_lines_[k]);
    key_lines_[k] = line_;
    return value(static_cast<Key>(k), trim(line.from(eq + 1)));
}

bool Parser::value(Key key, Str raw) {
    const char* name = kKeyNames[key];
    if (key == kCmdline) return string_value(name, raw, cur_->cmdline, kConfigCmdlineMax);
    Str v = strip_comment(raw);
    if (v.empty()) return fail("%s: missing value", name);
    u64 n = 0;
    switch (key) {
    case kMemory:
        cur_->memory_line = line_;
        return memory_value(v);
    case kCpus:
        if (!number_value(name, v, kConfigMaxCpus, n)) return false;
        if (n == 0) return fail("cpus: must be at least 1");
        cur_->cpus = static_cast<u32>(n);
        return true;
    case kKernel:
        cur_->kernel_line = line_;
        return entry_value(name, v, cur_->kernel);
    case kInitrd:
        cur_->initrd_line = line_;
        return entry_value(name, v, cur_->initrd);
    case kConsole:
        if (v.equals("yes"))
            cur_->console = true;
        else if (v.equals("no"))
            cur_->console = false;
        else
            return fail("console: '%.*s' is not yes or no", v.echo_len(), v.p);
        return true;
    case kControl:
        if (v.equals("yes"))
            cur_->control = true;
        else if (v.equals("no"))
            cur_->control = false;
        else
            return fail("control: '%.*s' is not yes or no", v.echo_len(), v.p);
        return true;
    case kVty:
        if (!number_value(name, v, 0xffff'ffff, n)) return false;
        cur_->vty = static_cast<u32>(n);
        return true;
    case kKind:
        if (v.equals("linux"))
            cur_->kind = LparKind::Linux;
        else if (v.equals("test"))
            cur_->kind = LparKind::Test;
        else
            return fail("kind: '%.*s' is not linux or test", v.echo_len(), v.p);
        return true;
    case kExpect:
        if (v.equals("exit"))
            cur_->expect = LparExpect::Exit;
        else if (v.equals("crash"))
            cur_->expect = LparExpect::Crash;
        else
            return fail("expect: '%.*s' is not exit or crash", v.echo_len(), v.p);
        return true;
    case kLan:
        return lan_value(v);
    case kCpuAffinity:
        return affinity_value(v);
    case kVscsi:
    case kVscsiServer:
        return vscsi_value(key, v);
    case kCmdline:
    case kKeyCount:
        break;
    }
    return fail("%s: internal error", name);
}

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// xx:xx:xx:xx:xx:xx, two hex digits per byte.
bool parse_mac(Str v, u64& mac) {
    if (v.n != 17) return false;
    mac = 0;
    for (usize i = 0; i < 6; ++i) {
        const int hi = hex_digit(v.p[3 * i]), lo = hex_digit(v.p[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && v.p[3 * i + 2] != ':')) return false;
        mac = mac << 8 | static_cast<u64>(hi << 4 | lo);
    }
    return true;
}

void format_mac(char (&out)[18], u64 mac) {
    rt::format(out, sizeof out, "%02x:%02x:%02x:%02x:%02x:%02x",
               static_cast<unsigned>(mac >> 40 & 0xff), static_cast<unsigned>(mac >> 32 & 0xff),
               static_cast<unsigned>(mac >> 24 & 0xff), static_cast<unsigned>(mac >> 16 & 0xff),
               static_cast<unsigned>(mac >> 8 & 0xff), static_cast<unsigned>(mac & 0xff));
}

} // namespace

// A LAN's or a v-scsi channel's name.
bool Parser::device_name(const char* key, Str name) {
    if (name.empty()) return fail("%s: missing name", key);
    if (name.n >= kConfigLanNameMax)
        return fail("%s: '%.*s' is longer than %zu characters", key, name.echo_len(), name.p,
                    kConfigLanNameMax - 1);
    bool good = bundle::is_name_start(name.p[0]);
    for (usize i = 0; good && i < name.n; ++i)
        good = bundle::is_name_char(name.p[i]) && name.p[i] != '+';
    if (!good)
        return fail("%s: '%.*s': use letters, digits, '.', '_' and '-', starting with a letter "
                    "or digit",
                    key, name.echo_len(), name.p);
    return true;
}

bool Parser::vscsi_value(Key key, Str v) {
    const char* k = kKeyNames[key];
    Str extra;
    Str name = take_word(v, extra);
    if (!device_name(k, name)) return false;
    if (!extra.empty())
        return fail("%s: one name only, found '%.*s' after it", k, extra.echo_len(), extra.p);
    const bool server = key == kVscsiServer;
    VscsiConfig* list = server ? cur_->vscsi_serves : cur_->vscsi;
    usize& count = server ? cur_->vscsi_serve_count : cur_->vscsi_count;
    for (usize i = 0; i < count; ++i) {
        if (name.equals(list[i].name))
            return fail("%s: lpar %s has '%s' already (line %u)", k, cur_->name, list[i].name,
                        list[i].line);
    }
    if (count == kConfigMaxVscsi)
        return fail("%s: too many for one LPAR (at most %zu)", k, kConfigMaxVscsi);
    VscsiConfig& c = list[count++];
    rt::mem_copy(c.name, name.p, name.n);
    c.name[name.n] = '\0';
    c.line = line_;
    return true;
}

// Machine-wide: each channel has one server, each client line a server in another LPAR, the
// device counts within the limits, no v-scsi unit address is the vty's.
bool Parser::check_vscsi() {
    usize pairs = 0;
    for (usize i = 0; i < out_.count; ++i) {
        const LparConfig& l = out_.lpars[i];
        for (usize j = 0; j < l.vscsi_serve_count; ++j) {
            const VscsiConfig& s = l.vscsi_serves[j];
            for (usize pi = 0; pi <= i; ++pi) {
                const LparConfig& p = out_.lpars[pi];
                for (usize pj = 0; pj < p.vscsi_serve_count && (pi < i || pj < j); ++pj) {
                    if (rt::str_compare(p.vscsi_serves[pj].name, s.name) == 0)
                        return fail_at(err_, file_, s.line,
                                       "vscsi-server: '%s' is served by lpar %s already (line %u)",
                                       s.name, p.name, p.vscsi_serves[pj].line);
                }
            }
        }
    }
    for (usize i = 0; i < out_.count; ++i) {
        const LparConfig& l = out_.lpars[i];
        for (usize j = 0; j < l.vscsi_count; ++j) {
            const VscsiConfig& c = l.vscsi[j];
            const LparConfig* server = nullptr;
            for (const LparConfig& p : out_) {
                for (usize pj = 0; pj < p.vscsi_serve_count; ++pj) {
                    if (rt::str_compare(p.vscsi_serves[pj].name, c.name) == 0) server = &p;
                }
            }
            if (server == nullptr)
                return fail_at(err_, file_, c.line,
                               "vscsi: no lpar serves '%s' (add 'vscsi-server = %s' to one)",
                               c.name, c.name);
            if (server == &l)
                return fail_at(err_, file_, c.line,
                               "vscsi: lpar %s serves '%s' itself (a client needs another LPAR)",
                               l.name, c.name);
            if (++pairs > kConfigMaxVscsiPairs)
                return fail_at(err_, file_, c.line,
                               "vscsi: too many clients (at most %zu in the machine)",
                               kConfigMaxVscsiPairs);
        }
    }
    for (const LparConfig& l : out_) {
        VscsiDevice devs[kConfigMaxVscsi];
        const usize n = vscsi_devices(out_, l, devs, kConfigMaxVscsi);
        if (n > kConfigMaxVscsi)
            return fail_at(err_, file_, devs[kConfigMaxVscsi - 1].line,
                           "vscsi: lpar %s would have %zu v-scsi devices (at most %zu, clients "
                           "and served clients together)",
                           l.name, n, kConfigMaxVscsi);
        for (usize k = 0; k < n; ++k) {
            if (l.vty == kConfigVscsiUnitBase + k)
                return fail_at(err_, file_, devs[k].line,
                               "vscsi: lpar %s: the unit address 0x%x of its v-scsi device %zu "
                               "is its vty's (choose another vty)",
                               l.name, static_cast<unsigned>(l.vty), k);
        }
    }
    return true;
}

bool Parser::lan_value(Str v) {
    Str mac_text;
    Str name = take_word(v, mac_text);
    if (!device_name("lan", name)) return false;
    for (usize i = 0; i < cur_->lan_count; ++i) {
        if (name.equals(cur_->lans[i].name))
            return fail("lan: lpar %s is on '%s' already (line %u)", cur_->name, cur_->lans[i].name,
                        cur_->lans[i].line);
    }
    if (cur_->lan_count == kConfigMaxLans)
        return fail("lan: too many LANs for one LPAR (at most %zu)", kConfigMaxLans);
    LanConfig& lan = cur_->lans[cur_->lan_count];
    rt::mem_copy(lan.name, name.p, name.n);
    lan.name[name.n] = '\0';
    lan.line = line_;
    if (!mac_text.empty()) {
        if (!parse_mac(mac_text, lan.mac))
            return fail("lan: '%.*s' is not a MAC address (xx:xx:xx:xx:xx:xx)", mac_text.echo_len(),
                        mac_text.p);
        if (lan.mac >> 40 & 1)
            return fail("lan: %.*s is a multicast address (the first byte must be even)",
                        mac_text.echo_len(), mac_text.p);
        if (lan.mac == 0) return fail("lan: 00:00:00:00:00:00 is not a usable MAC address");
        lan.mac_given = true;
    } else {
        lan.mac = derived_mac(cur_->name, lan.name);
    }
    ++cur_->lan_count;
    return true;
}

// Machine-wide: how many LANs and adapters, and no MAC twice on one LAN.
bool Parser::check_lans() {
    usize adapters = 0, names = 0;
    for (usize i = 0; i < out_.count; ++i) {
        const LparConfig& l = out_.lpars[i];
        for (usize j = 0; j < l.lan_count; ++j) {
            const LanConfig& lan = l.lans[j];
            // The i-th adapter's unit address (vio::kLanUnitBase + i) must not be the vty's.
            if (l.vty == kConfigLanUnitBase + j)
                return fail_at(err_, file_, lan.line,
                               "lan: lpar %s: this adapter's unit address 0x%x is its vty's "
                               "(choose another vty)",
                               l.name, static_cast<unsigned>(l.vty));
            if (++adapters > kConfigMaxAdapters)
                return fail_at(err_, file_, lan.line,
                               "lan: too many LAN adapters (at most %zu in the machine)",
                               kConfigMaxAdapters);
            bool first = true; // the first use of this LAN name
            for (usize pi = 0; pi <= i; ++pi) {
                const LparConfig& p = out_.lpars[pi];
                for (usize pj = 0; pj < p.lan_count && (pi < i || pj < j); ++pj) {
                    if (rt::str_compare(p.lans[pj].name, lan.name) != 0) continue;
                    first = false;
                    if (p.lans[pj].mac == lan.mac) {
                        char mac[18];
                        format_mac(mac, lan.mac);
                        return fail_at(err_, file_, lan.line,
                                       "lan: lpar %s has MAC %s on '%s', as lpar %s (line %u)",
                                       l.name, mac, lan.name, p.name, p.lans[pj].line);
                    }
                }
            }
            if (first && ++names > kConfigMaxLanNames)
                return fail_at(err_, file_, lan.line,
                               "lan: too many LANs (at most %zu in the machine)",
                               kConfigMaxLanNames);
        }
    }
    return true;
}

bool Parser::memory_value(Str v) {
    u64 bytes = 0;
    Num r = parse_size(v, bytes);
    if (r == Num::Bad)
        return fail("memory: '%.*s' is not a size (use K, M or G)", v.echo_len(), v.p);
    if (r == Num::Overflow || bytes > kConfigMaxMemory)
        return fail("memory: '%.*s' is more than the %lluG an LPAR can have", v.echo_len(), v.p,
                    static_cast<unsigned long long>(kConfigMaxMemory / GiB));
    if (bytes == 0) return fail("memory: must be more than 0");
    if (!is_aligned(bytes, kConfigMemoryUnit)) {
        u64 down = align_down(bytes, kConfigMemoryUnit) / MiB;
        u64 up = down + kConfigMemoryUnit / MiB;
        if (down == 0)
            return fail("memory: '%.*s' is not a multiple of 16M (the memory chunk size; use "
                        "%lluM)",
                        v.echo_len(), v.p, static_cast<unsigned long long>(up));
        return fail("memory: '%.*s' is not a multiple of 16M (the memory chunk size; use %lluM or "
                    "%lluM)",
                    v.echo_len(), v.p, static_cast<unsigned long long>(down),
                    static_cast<unsigned long long>(up));
    }
    cur_->memory = bytes;
    return true;
}

bool Parser::number_value(const char* key, Str v, u64 max, u64& out) {
    Num r = parse_whole_number(v, out);
    if (r == Num::Bad) return fail("%s: '%.*s' is not a number", key, v.echo_len(), v.p);
    if (r == Num::Overflow || out > max)
        return fail("%s: '%.*s' is more than %llu (0x%llx)", key, v.echo_len(), v.p,
                    static_cast<unsigned long long>(max), static_cast<unsigned long long>(max));
    return true;
}

// cpu-affinity = LIST: physical CPU numbers and ranges, e.g. `1` or `0,2-3`.
bool Parser::affinity_value(Str v) {
    u32 mask = 0;
    for (bool more = true; more;) {
        usize comma = 0;
        while (comma < v.n && v.p[comma] != ',') ++comma;
        const Str item = trim(v.first(comma));
        more = comma < v.n; // an empty item after a trailing comma is refused below
        if (more) v = v.from(comma + 1);
        usize dash = 0;
        while (dash < item.n && item.p[dash] != '-') ++dash;
        u64 lo = 0, hi = 0;
        const Str first = trim(item.first(dash));
        const Str last = dash < item.n ? trim(item.from(dash + 1)) : first;
        if (first.empty() || last.empty() || parse_whole_number(first, lo) != Num::Ok ||
            parse_whole_number(last, hi) != Num::Ok)
            return fail("cpu-affinity: '%.*s' is not a CPU number or a range like 2-3",
                        item.echo_len(), item.p);
        if (hi >= kConfigMaxPcpus || lo >= kConfigMaxPcpus)
            return fail("cpu-affinity: CPU %llu is past the last a machine may have (%u)",
                        static_cast<unsigned long long>(hi > lo ? hi : lo), kConfigMaxPcpus - 1);
        if (lo > hi)
            return fail("cpu-affinity: the range '%.*s' runs backwards", item.echo_len(), item.p);
        for (u64 c = lo; c <= hi; ++c) mask |= u32{1} << c;
    }
    cur_->cpu_affinity = mask;
    return true;
}

bool Parser::entry_value(const char* key, Str v, char* out) {
    if (v.n >= bundle::kNameSize)
        return fail("%s: '%.*s' is longer than %zu characters (a bundle entry name)", key,
                    v.echo_len(), v.p, bundle::kNameSize - 1);
    if (!bundle::is_valid_name(v.p, v.n))
        return fail("%s: '%.*s' is not a bundle entry name (letters, digits, '.', '_', '-', '+', "
                    "starting with a letter or digit)",
                    key, v.echo_len(), v.p);
    rt::mem_copy(out, v.p, v.n);
    out[v.n] = '\0';
    return true;
}

// A double-quoted string with the escapes \" and \\, then optionally a comment.
bool Parser::string_value(const char* key, Str v, char* out, usize cap) {
    if (v.empty()) return fail("%s: missing value", key);
    if (v.p[0] != '"')
        return fail("%s: expected a quoted string, e.g. %s = \"console=hvc0\"", key, key);
    usize n = 0;
    usize i = 1;
    for (;; ++i) {
        if (i == v.n) return fail("%s: unterminated string (no closing '\"')", key);
        char c = v.p[i];
        if (c == '"') break;
        if (c == '\\') {
            if (i + 1 == v.n) return fail("%s: unterminated string (no closing '\"')", key);
            c = v.p[++i];
            if (c != '"' && c != '\\')
                return fail("%s: unknown escape '\\%c' (only \\\" and \\\\)", key, c);
        }
        if (n + 1 == cap) return fail("%s: longer than %zu characters", key, cap - 1);
        out[n++] = c;
    }
    out[n] = '\0';
    Str rest = trim(v.from(i + 1));
    if (!rest.empty() && rest.p[0] != '#')
        return fail("%s: unexpected text after the closing quote: '%.*s'", key, rest.echo_len(),
                    rest.p);
    return true;
}

} // namespace

bool parse_config(const char* file, const char* text, usize len, Config& out, InputError& err) {
    if (file == nullptr) file = "config";
    err.clear();
    out.count = 0;
    out.version = 0;
    rt::str_copy(out.file, file, kConfigFileMax);
    Parser parser(file, out, err);
    if (text == nullptr) len = 0;
    if (!parser.run(text, len)) {
        out.count = 0;
        return false;
    }
    return true;
}

bool check_config_against_bundle(const Config& config, const Bundle& bundle, InputError& err) {
    err.clear();
    const char* file = config.file;
    for (const LparConfig& l : config) {
        const Bundle::Entry* images[2] = {nullptr, nullptr};
        for (int which = 0; which < 2; ++which) {
            const char* key = which == 0 ? "kernel" : "initrd";
            const char* name = which == 0 ? l.kernel : l.initrd;
            u32 line = which == 0 ? l.kernel_line : l.initrd_line;
            bundle::EntryKind want =
                which == 0 ? bundle::EntryKind::Kernel : bundle::EntryKind::Initrd;
            if (name[0] == '\0') continue;
            const Bundle::Entry* e = bundle.find(name);
            if (e == nullptr)
                return fail_at(err, file, line, "lpar %s: %s: no entry '%s' in the bundle", l.name,
                               key, name);
            if (e->kind != want)
                return fail_at(err, file, line, "lpar %s: %s: entry '%s' has kind %s, not %s",
                               l.name, key, name, bundle::to_string(e->kind), key);
            images[which] = e;
        }
        u64 need = u64{images[0]->size} + (images[1] ? u64{images[1]->size} : 0);
        if (need > l.memory) {
            unsigned long long mib = static_cast<unsigned long long>(l.memory / MiB);
            if (images[1] == nullptr)
                return fail_at(err, file, l.memory_line,
                               "lpar %s: memory: %lluM cannot hold kernel '%s' (%zu bytes)", l.name,
                               mib, l.kernel, images[0]->size);
            return fail_at(err, file, l.memory_line,
                           "lpar %s: memory: %lluM cannot hold kernel '%s' (%zu bytes) and "
                           "initrd '%s' (%zu bytes)",
                           l.name, mib, l.kernel, images[0]->size, l.initrd, images[1]->size);
        }
    }
    return true;
}

usize vscsi_devices(const Config& config, const LparConfig& lpar, VscsiDevice* out, usize cap) {
    usize n = 0;
    auto add = [&](bool server, const char* name, const LparConfig* peer, u32 line) {
        if (n < cap) out[n] = VscsiDevice{server, name, peer, line};
        ++n;
    };
    for (usize i = 0; i < lpar.vscsi_count; ++i) {
        const LparConfig* server = nullptr;
        for (const LparConfig& p : config) {
            for (usize j = 0; j < p.vscsi_serve_count; ++j) {
                if (rt::str_compare(p.vscsi_serves[j].name, lpar.vscsi[i].name) == 0) server = &p;
            }
        }
        add(false, lpar.vscsi[i].name, server, lpar.vscsi[i].line);
    }
    for (usize i = 0; i < lpar.vscsi_serve_count; ++i) {
        const char* name = lpar.vscsi_serves[i].name;
        for (const LparConfig& c : config) {
            if (&c == &lpar) continue;
            for (usize j = 0; j < c.vscsi_count; ++j) {
                if (rt::str_compare(c.vscsi[j].name, name) == 0)
                    add(true, name, &c, c.vscsi[j].line);
            }
        }
    }
    return n;
}

} // namespace tessera
