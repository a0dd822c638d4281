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
    u32 index; // in the program header table, for messages
    u64 offset, paddr, vaddr, filesz, memsz, align;
};

class Loader {
  public:
    Loader(LogicalMap& m, const ElfSource& image, LogicalRange keep, char* why, usize why_len)
        : memory_(m), image_(image), keep_(keep), size_(image.size()), why_(why),
          why_len_(why_len) {}

    bool run(u16 machine, LogicalAddr dyn_base, ElfLoaded& out);

  private:
    bool fail(const char* fmt, unsigned long long a = 0, unsigned long long b = 0) {
        rt::format(why_, why_len_, fmt, a, b);
        return false;
    }
    bool header(u16 machine, ElfLoaded& out);
    // The same fields from either ELF class, widened to 64 bits.
    template <class Ehdr>
    bool read_header(ElfLoaded& out) {
        Ehdr h;
        if (!image_.read(0, &h, sizeof h)) return fail("truncated ELF header");
        if (h.e_type != ET_EXEC && h.e_type != ET_DYN)
            return fail("ELF type %llu is neither an executable (2) nor position-independent (3)",
                        h.e_type);
        if (h.e_version != EV_CURRENT) return fail("ELF version %llu (want 1)", h.e_version);
        if (h.e_ehsize != sizeof(Ehdr))
            return fail("ELF header size %llu (want %llu)", h.e_ehsize, sizeof(Ehdr));
        dyn_ = h.e_type == ET_DYN;
        out.machine = h.e_machine;
        phoff_ = h.e_phoff;
        phnum_ = h.e_phnum;
        phentsize_ = h.e_phentsize;
        entry_ = h.e_entry;
        return true;
    }
    template <class Phdr>
    bool read_segment(u64 at, Segment& s, u32& type) {
        Phdr ph;
        if (!image_.read(at, &ph, sizeof ph)) return false;
        type = ph.p_type;
        s.offset = ph.p_offset;
        s.paddr = ph.p_paddr;
        s.vaddr = ph.p_vaddr;
        s.filesz = ph.p_filesz;
        s.memsz = ph.p_memsz;
        s.align = ph.p_align;
        return true;
    }
    bool segment(u32 index, Segment& s, bool& is_load);
    bool place(Segment* segs, u32 n, LogicalAddr dyn_base, ElfLoaded& out);
    bool spares_staging(const Segment& s);
    bool find_entry(const Segment* segs, u32 n, ElfLoaded& out);
    // Where a segment goes: its physical address, or its link address moved by the bias.
    u64 dest(const Segment& s) const { return dyn_ ? s.vaddr + bias_ : s.paddr; }

    LogicalMap& memory_;
    const ElfSource& image_;
    LogicalRange keep_;
    u64 size_;
    char* why_;
    usize why_len_;
    bool is64_ = false, dyn_ = false;
    u64 phoff_ = 0, entry_ = 0, bias_ = 0;
    u32 phnum_ = 0, phentsize_ = 0;
};

bool Loader::header(u16 machine, ElfLoaded& out) {
    u8 ident[EI_NIDENT];
    if (size_ < EI_NIDENT || !image_.read(0, ident, sizeof ident) ||
        rt::mem_compare(ident, ELFMAG, SELFMAG) != 0)
        return fail("not an ELF file");
    if (ident[EI_DATA] != ELFDATA2LSB) return fail("not a little-endian ELF file");
    is64_ = ident[EI_CLASS] == ELFCLASS64;
    if (!is64_ && ident[EI_CLASS] != ELFCLASS32) return fail("unknown ELF class");
    if (ident[EI_VERSION] != EV_CURRENT)
        return fail("ELF identification version %llu (want 1)", ident[EI_VERSION]);
    usize ehsize = is64_ ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (size_ < ehsize) return fail("truncated ELF header");
    if (is64_ ? !read_header<Elf64_Ehdr>(out) : !read_header<Elf32_Ehdr>(out)) return false;
    out.is64 = is64_;
    out.position_independent = dyn_;
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
    const u64 at = phoff_ + u64{index} * phentsize_;
    u32 type = 0;
    if (!(is64_ ? read_segment<Elf64_Phdr>(at, s, type) : read_segment<Elf32_Phdr>(at, s, type)))
        return fail("program header %llu cannot be read", index);
    s.index = index;
    // Nobody here could run a dynamic linker: a PIE must be static (and relocate itself).
    if (type == PT_INTERP)
        return fail("segment %llu asks for an interpreter (link it static)", index);
    is_load = type == PT_LOAD;
    if (!is_load) return true;
    if (s.filesz > s.memsz) return fail("segment %llu: file size above memory size", index);
    if (s.offset > size_ || s.filesz > size_ - s.offset)
        return fail("segment %llu: data past the end of the file", index);
    if (!dyn_) return true;
    // Moving the image must keep what its code assumes about the alignment of its segments.
    if (s.align > 1 && !is_pow2(s.align))
        return fail("segment %llu: alignment %#llx is not a power of two", index, s.align);
    if (s.align > 1 && (s.vaddr & (s.align - 1)) != (s.offset & (s.align - 1)))
        return fail("segment %llu: address and file offset disagree modulo the alignment", index);
    if (s.memsz > ~u64{0} - s.vaddr)
        return fail("segment %llu wraps around the address space", index);
    return true;
}

// ET_DYN: the lowest link address, rounded down to the largest segment alignment, goes to
// dyn_base. ET_EXEC: nothing to choose. Then every segment must fit in the LPAR.
bool Loader::place(Segment* segs, u32 n, LogicalAddr dyn_base, ElfLoaded& out) {
    if (dyn_) {
        u64 link_low = ~u64{0}, align = 1;
        for (u32 i = 0; i < n; ++i) {
            link_low = segs[i].vaddr < link_low ? segs[i].vaddr : link_low;
            align = segs[i].align > align ? segs[i].align : align;
        }
        if (!is_aligned(dyn_base.value(), align))
            return fail("load base %#llx is not aligned to the segments' %#llx", dyn_base.value(),
                        align);
        bias_ = dyn_base.value() - align_down(link_low, align); // modulo 2^64
        out.bias = bias_;
    }
    u64 low = ~u64{0}, high = 0;
    for (u32 i = 0; i < n; ++i) {
        const Segment& s = segs[i];
        u64 at = dest(s);
        if (!memory_.contains(LogicalAddr(at), s.memsz))
            return fail("segment %llu does not fit in the LPAR's %llu MiB", s.index,
                        memory_.size() / MiB);
        if (!spares_staging(s)) return false;
        low = at < low ? at : low;
        high = at + s.memsz > high ? at + s.memsz : high;
    }
    out.low = LogicalAddr(low);
    out.high = LogicalAddr(high);
    return true;
}

// A segment (bss included) must not land on the staged image it is read from, nor on what the
// caller keeps (a staged initrd): the staging area is the control LPAR's choice, checked here.
bool Loader::spares_staging(const Segment& s) {
    const LogicalRange to{LogicalAddr(dest(s)), s.memsz};
    const LogicalRange image = image_.staged_range();
    if (to.overlaps(image))
        return fail("segment %llu would overwrite the staged kernel at %#llx", s.index,
                    image.at.value());
    if (to.overlaps(keep_))
        return fail("segment %llu would overwrite the staged initrd at %#llx", s.index,
                    keep_.at.value());
    return true;
}

bool Loader::find_entry(const Segment* segs, u32 n, ElfLoaded& out) {
    for (u32 i = 0; i < n; ++i) {
        const Segment& s = segs[i];
        // e_entry is a virtual address (ppc64's vmlinux, any PIE) or already the physical one
        // (i386's vmlinux enters at phys_startup_32, with paging off).
        if (entry_ >= s.vaddr && entry_ - s.vaddr < s.memsz) {
            out.entry = LogicalAddr(dest(s) + (entry_ - s.vaddr));
            return true;
        }
        if (!dyn_ && entry_ >= s.paddr && entry_ - s.paddr < s.memsz) {
            out.entry = LogicalAddr(entry_);
            return true;
        }
    }
    return fail("entry point %#llx is in no loaded segment", entry_);
}

bool Loader::run(u16 machine, LogicalAddr dyn_base, ElfLoaded& out) {
    const LogicalRange staged = image_.staged_range();
    if (image_.staged_in() != nullptr && image_.staged_in() != &memory_)
        return fail("a staged kernel loads only into the LPAR it is staged in");
    if (image_.staged_in() != nullptr && !memory_.contains(staged.at, staged.size))
        return fail("the staged kernel at %#llx (%llu bytes) is outside the LPAR",
                    staged.at.value(), staged.size);
    if (!memory_.contains(keep_.at, keep_.size))
        return fail("the staged initrd at %#llx (%llu bytes) is outside the LPAR", keep_.at.value(),
                    keep_.size);
    if (!header(machine, out)) return false;
    Segment segs[kMaxSegments];
    u32 n = 0;
    for (u32 i = 0; i < phnum_; ++i) {
        Segment s;
        bool is_load = false;
        if (!segment(i, s, is_load)) return false;
        if (is_load && s.memsz != 0) segs[n++] = s;
    }
    if (n == 0) return fail("no loadable segment");
    if (!place(segs, n, dyn_base, out) || !find_entry(segs, n, out)) return false;
    for (u32 i = 0; i < n; ++i) {
        const Segment& s = segs[i];
        LogicalAddr at(dest(s));
        if (!image_.copy_to(memory_, at, s.offset, s.filesz) ||
            !memory_.fill(at + s.filesz, 0, s.memsz - s.filesz))
            return fail("segment %llu could not be written", s.index);
    }
    return true;
}

} // namespace

ElfSource ElfSource::bytes(const u8* data, usize size) {
    ElfSource s;
    s.data_ = data;
    s.size_ = data != nullptr ? size : 0;
    return s;
}

ElfSource ElfSource::staged(const LogicalMap& memory, LogicalAddr at, u64 size) {
    ElfSource s;
    s.memory_ = &memory;
    s.at_ = at;
    s.size_ = size;
    return s;
}

bool ElfSource::read(u64 offset, void* out, u64 len) const {
    if (offset > size_ || len > size_ - offset) return false;
    if (memory_ != nullptr) return memory_->copy_out(out, at_ + offset, len);
    rt::mem_copy(out, data_ + offset, static_cast<usize>(len)); // images need not be aligned
    return true;
}

bool ElfSource::copy_to(LogicalMap& memory, LogicalAddr dst, u64 offset, u64 len) const {
    if (offset > size_ || len > size_ - offset) return false;
    if (memory_ != nullptr) return memory_ == &memory && memory.move(dst, at_ + offset, len);
    return memory.copy_in(dst, data_ + offset, len);
}

bool load_elf(LogicalMap& memory, const ElfSource& image, u16 expected_machine, ElfLoaded& out,
              char* why, usize why_len, LogicalAddr dyn_base, LogicalRange keep) {
    out = ElfLoaded{};
    return Loader(memory, image, keep, why, why_len).run(expected_machine, dyn_base, out);
}

bool load_elf(LogicalMap& memory, const u8* image, usize size, u16 expected_machine, ElfLoaded& out,
              char* why, usize why_len, LogicalAddr dyn_base) {
    return load_elf(memory, ElfSource::bytes(image, size), expected_machine, out, why, why_len,
                    dyn_base);
}

} // namespace tessera
