// Loading an ELF image (ELF64 or ELF32, little-endian) into an LPAR's logical memory: how both
// ISAs load a Linux vmlinux, and how pseries loads any other client program.
//
// An executable (ET_EXEC) goes at its segments' physical addresses (p_paddr). A
// position-independent one (ET_DYN: a PIE or a relocatable kernel) has no fixed address: it goes
// at `dyn_base`, the caller's choice, moved as one block (every p_vaddr and e_entry plus the same
// bias, so the distances between segments are kept), and relocates itself when it runs.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/types.hpp>

namespace tessera {

class LogicalMap;

// A range of an LPAR's logical memory (size 0: none).
struct LogicalRange {
    LogicalAddr at;
    u64 size = 0;
    bool overlaps(LogicalRange o) const {
        return size != 0 && o.size != 0 && at.value() < o.at.value() + o.size &&
               o.at.value() < at.value() + size;
    }
};

// Where an ELF image is read from: bytes in the hypervisor (a bundle entry), or a range of the
// LPAR's own logical memory that its creator staged there with TLPAR_COPY_IN (TLPAR_LOAD_STAGED,
// docs/management.md). The loader reads headers with read() and copies segments with copy_to().
class ElfSource {
  public:
    static ElfSource bytes(const u8* data, usize size);
    // [at, at + size) of `memory`, which must be the map the image is loaded into.
    static ElfSource staged(const LogicalMap& memory, LogicalAddr at, u64 size);

    u64 size() const { return size_; }
    // A staged image's range (size 0 for bytes): no segment may be written over it.
    LogicalRange staged_range() const {
        return memory_ ? LogicalRange{at_, size_} : LogicalRange{};
    }
    const LogicalMap* staged_in() const { return memory_; } // null: bytes
    // Bytes [offset, offset + len) of the image into out; false when outside the image or (staged)
    // outside the LPAR.
    bool read(u64 offset, void* out, u64 len) const;
    // Bytes [offset, offset + len) of the image to `dst` in `memory`; false when outside either.
    // A staged image copies only inside its own map (logical to logical).
    bool copy_to(LogicalMap& memory, LogicalAddr dst, u64 offset, u64 len) const;

  private:
    const u8* data_ = nullptr;
    const LogicalMap* memory_ = nullptr;
    LogicalAddr at_;
    u64 size_ = 0;
};

struct ElfLoaded {
    LogicalAddr entry; // e_entry as a physical (logical) address (translated if it was virtual)
    LogicalAddr low;   // lowest loaded logical address
    LogicalAddr high;  // one past the highest loaded byte (bss included)
    u16 machine = 0;   // e_machine (EM_PPC64, EM_386, ...)
    bool is64 = false;
    bool position_independent = false; // ET_DYN, loaded at dyn_base
    u64 bias = 0; // ET_DYN: what was added to every link address (modulo 2^64); 0 for ET_EXEC
};

// Validates the image completely before writing anything: identification, header sizes,
// program headers inside the file, segments inside the file and inside the LPAR's memory,
// the entry inside a loaded segment; for ET_DYN also no interpreter, power-of-two segment
// alignments that `dyn_base` keeps, and no segment that wraps around; no segment (bss included)
// over a staged image's own range or over `keep` (a staged initrd). Copies each PT_LOAD and
// zeroes its bss. On failure returns false with a message in `why` (e.g. "segment 2 does not
// fit in the LPAR's 256 MiB").
bool load_elf(LogicalMap& memory, const ElfSource& image, u16 expected_machine, ElfLoaded& out,
              char* why, usize why_len, LogicalAddr dyn_base = LogicalAddr(0),
              LogicalRange keep = {});
// The same for an image in hypervisor memory.
bool load_elf(LogicalMap& memory, const u8* image, usize size, u16 expected_machine, ElfLoaded& out,
              char* why, usize why_len, LogicalAddr dyn_base = LogicalAddr(0));

} // namespace tessera
