#include "common/elf_loader.hpp"

#include "common/chunks.hpp"
#include "common/rt/format.hpp"
#include "common/rt/string.hpp"

#include <elf.h>

namespace tessera {
namespace {

constexpr u32 kMaxSegments = 64;

// One PT_LOAD, widened to 64 bits whatever the class.
struct Segment {
    u64 offset, paddr, vaddr, filesz, memsz;
};

template <class T>
T read(const u8* p) {
    T v;
    rt::mem_copy(&v, p, sizeof(v)); // images need not be aligned
    return v;
}

class Loader {
  public:
    Loader(LogicalMap& m, const u8* image, usize size, char* why, usize why_len)
        : memory_(m), image_(image), size_(size), why_(why), why_len_(why_len) {}

    bool run(u16 machine, ElfLoaded& out);

  private:
    bool fail(const char* fmt, unsigned long long a = 0, unsigned long long b = 0) {
        rt::format(why_, why_len_, fmt, a, b);
        return false;
    }
    bool header(u16 machine, ElfLoaded& out);
    // The same fields from either ELF class, widened to 64 bits.
    template <class Ehdr>
    bool read_header(ElfLoaded& out) {
        auto h = read<Ehdr>(image_);
        if (h.e_type != ET_EXEC) return fail("ELF type %llu is not an executable", h.e_type);
        out.machine = h.e_machine;
        phoff_ = h.e_phoff;
        phnum_ = h.e_phnum;
        phentsize_ = h.e_phentsize;
        entry_ = h.e_entry;
        return true;
    }
    template <class Phdr>
    static bool read_segment(const u8* p, Segment& s) {
        auto ph = read<Phdr>(p);
        s = {ph.p_offset, ph.p_paddr, ph.p_vaddr, ph.p_filesz, ph.p_memsz};
        return ph.p_type == PT_LOAD;
    }
    bool segment(u32 index, Segment& s, bool& is_load);

    LogicalMap& memory_;
    const u8* image_;
    usize size_;
    char* why_;
    usize why_len_;
    bool is64_ = false;
    u64 phoff_ = 0, entry_ = 0;
    u32 phnum_ = 0, phentsize_ = 0;
};

bool Loader::header(u16 machine, ElfLoaded& out) {
    if (size_ < EI_NIDENT || rt::mem_compare(image_, ELFMAG, SELFMAG) != 0)
        return fail("not an ELF file");
    if (image_[EI_DATA] != ELFDATA2LSB) return fail("not a little-endian ELF file");
    is64_ = image_[EI_CLASS] == ELFCLASS64;
    if (!is64_ && image_[EI_CLASS] != ELFCLASS32) return fail("unknown ELF class");
    usize ehsize = is64_ ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (size_ < ehsize) return fail("truncated ELF header");
    if (is64_ ? !read_header<Elf64_Ehdr>(out) : !read_header<Elf32_Ehdr>(out)) return false;
    out.is64 = is64_;
    if (out.machine != machine)
        return fail("ELF machine %llu, this target runs machine %llu", out.machine, machine);
    usize want = is64_ ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (phnum_ == 0 || phnum_ > kMaxSegments) return fail("%llu program headers", phnum_);
    if (phentsize_ != want) return fail("program header size %llu", phentsize_);
    if (phoff_ > size_ || u64{phnum_} * phentsize_ > size_ - phoff_)
        return fail("program headers past the end of the file");
    return true;
}

bool Loader::segment(u32 index, Segment& s, bool& is_load) {
    const u8* p = image_ + phoff_ + u64{index} * phentsize_;
    is_load = is64_ ? read_segment<Elf64_Phdr>(p, s) : read_segment<Elf32_Phdr>(p, s);
    if (!is_load) return true;
    if (s.filesz > s.memsz) return fail("segment %llu: file size above memory size", index);
    if (s.offset > size_ || s.filesz > size_ - s.offset)
        return fail("segment %llu: data past the end of the file", index);
    if (s.memsz == 0) return true;
    if (!memory_.contains(LogicalAddr(s.paddr), s.memsz))
        return fail("segment %llu does not fit in the LPAR's %llu MiB", index,
                    memory_.size() / MiB);
    return true;
}

bool Loader::run(u16 machine, ElfLoaded& out) {
    if (!header(machine, out)) return false;
    Segment segs[kMaxSegments];
    u32 n = 0;
    bool entry_found = false;
    u64 low = ~u64{0}, high = 0;
    for (u32 i = 0; i < phnum_; ++i) {
        Segment s;
        bool is_load = false;
        if (!segment(i, s, is_load)) return false;
        if (!is_load || s.memsz == 0) continue;
        // e_entry is a virtual address (ppc64's vmlinux) or already the physical one (i386's
        // vmlinux enters at phys_startup_32, with paging off).
        if (!entry_found && entry_ >= s.vaddr && entry_ - s.vaddr < s.memsz) {
            out.entry = LogicalAddr(s.paddr + (entry_ - s.vaddr));
            entry_found = true;
        }
        if (!entry_found && entry_ >= s.paddr && entry_ - s.paddr < s.memsz) {
            out.entry = LogicalAddr(entry_);
            entry_found = true;
        }
        low = s.paddr < low ? s.paddr : low;
        high = s.paddr + s.memsz > high ? s.paddr + s.memsz : high;
        segs[n++] = s;
    }
    if (n == 0) return fail("no loadable segment");
    if (!entry_found) return fail("entry point %#llx is in no loaded segment", entry_);
    for (u32 i = 0; i < n; ++i) {
        const Segment& s = segs[i];
        LogicalAddr at(s.paddr);
        if (!memory_.copy_in(at, image_ + s.offset, s.filesz) ||
            !memory_.fill(at + s.filesz, 0, s.memsz - s.filesz))
            return fail("segment %llu could not be written", i);
    }
    out.low = LogicalAddr(low);
    out.high = LogicalAddr(high);
    return true;
}

} // namespace

bool load_elf(LogicalMap& memory, const u8* image, usize size, u16 expected_machine, ElfLoaded& out,
              char* why, usize why_len) {
    out = ElfLoaded{};
    return Loader(memory, image, size, why, why_len).run(expected_machine, out);
}

} // namespace tessera
