// The processors of a PC's MADT (plat/pc/include/plat/acpi.hpp). Layouts from the ACPI
// specification: the RSDP (5.2.5), the common table header (5.2.6), the RSDT and XSDT (5.2.7-8)
// and the MADT with its Processor Local APIC (type 0) and Processor Local x2APIC (type 9)
// entries (5.2.12). All fields are little-endian.
#include <plat/acpi.hpp>

#include <tessera/bytes.hpp>

namespace tessera::pc::acpi {
namespace {

constexpr RealAddr kEbdaSegmentWord{0x40e}; // the BIOS data area's word: the EBDA's segment
constexpr u64 kEbdaScan = 1024;             // the RSDP may be in the EBDA's first KiB
constexpr RealAddr kBiosArea{0xe0000};      // or in the BIOS area up to 1 MiB
constexpr u64 kBiosAreaSize = 0x20000;
constexpr usize kRsdpV1 = 20, kRsdpV2 = 36; // the checksummed lengths before and from ACPI 2.0
constexpr usize kHeader = 36;               // a table's common header
constexpr usize kMadtFixed = kHeader + 8;   // then the local APIC address and the flags
constexpr u32 kMaxTable = 64 * 1024;        // far above any real table: a sanity bound
constexpr u8 kLocalApic = 0, kLocalX2Apic = 9;
constexpr u32 kEnabled = 1u << 0;

bool same(const u8* p, const char* sig, usize n) {
    for (usize i = 0; i < n; ++i)
        if (p[i] != static_cast<u8>(sig[i])) return false;
    return true;
}

// The byte sum of `len` bytes at `at`; ACPI's checksums make it 0. False if unreadable.
bool byte_sum(const RealReader& m, RealAddr at, u64 len, u8& sum) {
    u8 buf[64];
    sum = 0;
    for (u64 done = 0; done < len;) {
        const usize n = len - done < sizeof buf ? static_cast<usize>(len - done) : sizeof buf;
        if (!m(at + done, buf, n)) return false;
        for (usize i = 0; i < n; ++i) sum = static_cast<u8>(sum + buf[i]);
        done += n;
    }
    return true;
}

// An RSDP at `at`: the signature, the ACPI 1.0 checksum and, from revision 2, the extended one.
bool rsdp_at(const RealReader& m, RealAddr at, u8 (&r)[kRsdpV2]) {
    u8 sum = 0;
    if (!m(at, r, 8) || !same(r, "RSD PTR ", 8)) return false;
    if (!byte_sum(m, at, kRsdpV1, sum) || sum != 0 || !m(at, r, kRsdpV1)) return false;
    if (r[15] < 2) return true; // revision 0: ACPI 1.0, 20 bytes
    return m(at, r, kRsdpV2) && load_le32(r + 20) >= kRsdpV2 &&
           byte_sum(m, at, load_le32(r + 20), sum) && sum == 0;
}

bool scan(const RealReader& m, RealAddr from, u64 size, u8 (&r)[kRsdpV2]) {
    for (u64 off = 0; off + kRsdpV1 <= size; off += 16)
        if (rsdp_at(m, from + off, r)) return true;
    return false;
}

bool find_rsdp(const RealReader& m, u8 (&r)[kRsdpV2]) {
    u8 seg[2];
    if (m(kEbdaSegmentWord, seg, sizeof seg)) {
        const u64 ebda = u64{load_le16(seg)} << 4;
        if (ebda != 0 && scan(m, RealAddr(ebda), kEbdaScan, r)) return true;
    }
    return scan(m, kBiosArea, kBiosAreaSize, r);
}

// The table at `at` if its header reads, its length is sane and its checksum holds.
bool table_at(const RealReader& m, RealAddr at, u8 (&h)[kHeader], u32& len) {
    u8 sum = 0;
    if (at.value() == 0 || !m(at, h, kHeader)) return false;
    len = load_le32(h + 4);
    return len >= kHeader && len <= kMaxTable && byte_sum(m, at, len, sum) && sum == 0;
}

// The MADT among the root table's entries (`width`: 4 for the RSDT, 8 for the XSDT).
Status find_madt(const RealReader& m, RealAddr root, u32 width, RealAddr& madt, u32& len) {
    u8 h[kHeader];
    u32 root_len = 0;
    if (!table_at(m, root, h, root_len)) return Status::NoRootTable;
    for (u32 off = kHeader; off + width <= root_len; off += width) {
        u8 e[8];
        if (!m(root + off, e, width)) return Status::NoRootTable;
        const RealAddr at(width == 8 ? load_le64(e) : load_le32(e));
        u8 sig[4];
        if (at.value() == 0 || !m(at, sig, sizeof sig) || !same(sig, "APIC", 4)) continue;
        if (!table_at(m, at, h, len) || len < kMadtFixed) return Status::BadMadt;
        madt = at;
        return Status::Ok;
    }
    return Status::NoMadt;
}

void note(Processors& out, u32 apic_id, u32 flags) {
    if (!(flags & kEnabled)) {
        ++out.disabled;
        return;
    }
    if (out.enabled < kMaxListed) out.apic_ids[out.enabled] = apic_id;
    ++out.enabled;
}

} // namespace

const char* to_string(Status s) {
    switch (s) {
    case Status::Ok:
        return "ok";
    case Status::NoRsdp:
        return "no ACPI RSDP";
    case Status::NoRootTable:
        return "the ACPI RSDT/XSDT is unreadable or fails its checksum";
    case Status::NoMadt:
        return "no ACPI MADT";
    case Status::BadMadt:
        return "the ACPI MADT fails its checksum or is malformed";
    }
    return "?";
}

Status find_processors(const RealReader& m, Processors& out) {
    out = Processors{};
    u8 r[kRsdpV2] = {};
    if (!find_rsdp(m, r)) return Status::NoRsdp;
    RealAddr madt;
    u32 len = 0;
    // The XSDT where there is one (ACPI 2.0: an OS should prefer it), else the RSDT; also the
    // RSDT when the XSDT cannot be read (above the memory the reader reaches).
    Status s = Status::NoRootTable;
    if (r[15] >= 2 && load_le64(r + 24) != 0)
        s = find_madt(m, RealAddr(load_le64(r + 24)), 8, madt, len);
    if (s == Status::NoRootTable) s = find_madt(m, RealAddr(load_le32(r + 16)), 4, madt, len);
    if (s != Status::Ok) return s;
    for (u32 off = kMadtFixed; off < len;) {
        u8 e[16];
        if (len - off < 2 || !m(madt + off, e, 2)) return Status::BadMadt;
        const u32 type = e[0], elen = e[1];
        if (elen < 2 || elen > len - off) return Status::BadMadt;
        if (type == kLocalApic && elen >= 8) {
            if (!m(madt + off, e, 8)) return Status::BadMadt;
            note(out, e[3], load_le32(e + 4));
        } else if (type == kLocalX2Apic && elen >= 16) {
            if (!m(madt + off, e, 16)) return Status::BadMadt;
            note(out, load_le32(e + 4), load_le32(e + 8));
        }
        off += elen;
    }
    return Status::Ok;
}

} // namespace tessera::pc::acpi
