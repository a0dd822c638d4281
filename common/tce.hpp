// TCE windows: the DMA view a virtual I/O device has of its LPAR's memory (PAPR "Translation
// Control Entry Access", LoPAR ch_address_map "TCE Definition").
//
// A window is named by a LIOBN (logical I/O bus number, unique within its LPAR) and covers I/O
// bus addresses (IOBAs) [0, size). Each 4 KiB page of it is translated by one TCE:
//   bits 63..12  the logical address of a 4 KiB page of the owning LPAR
//   bit  1       the device may write that page (kWrite)
//   bit  0       the device may read that page (kRead)
// The page size is 4 KiB for every virtual device, whatever the guest's own page size (Debian's
// ppc64el kernels run 64 KiB pages and still map 4 KiB at a time).
//
// The guest fills its windows with H_PUT_TCE, H_STUFF_TCE and H_PUT_TCE_INDIRECT; a TCE with an
// access bit set may only name a page of the LPAR that owns the window (else H_PARAMETER). The
// hypervisor touches guest memory for a device only through read()/write()/copy() below, which
// check every page's access bit and translate through the owner's LogicalMap, so nothing can
// reach another LPAR's memory or memory the owner has given up.
//
// Storage: a window is a fixed array inside the device that owns it (static storage, no heap);
// its owner's lock guards it (today one CPU runs everything: the run loop's CPU owns it).
#pragma once

#include <tessera/addr.hpp>
#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

namespace tessera {
class LogicalMap;
}

namespace tessera::tce {

inline constexpr u32 kPageShift = 12;
inline constexpr u64 kPageSize = u64{1} << kPageShift;
inline constexpr u64 kRead = 0x1;  // the device may read the page (DMA to the device)
inline constexpr u64 kWrite = 0x2; // the device may write the page (DMA from the device)
inline constexpr u64 kAccessMask = kRead | kWrite;
// A plain Window has this size (QEMU uses 256 MiB; ibmveth's buffers need about 22 MiB of TCEs,
// so 64 MiB leaves room and keeps a window's table at 64 KiB). Devices that need more use
// SizedWindow<N> (virtual SCSI: 256 MiB, common/crq.hpp).
inline constexpr u64 kWindowSize = 64 * MiB;
inline constexpr u32 kWindowEntries = static_cast<u32>(kWindowSize >> kPageShift);
// H_PUT_TCE_INDIRECT: one 4 KiB page of big-endian TCEs at most.
inline constexpr u64 kMaxIndirect = kPageSize / 8;

// Why a DMA through a window failed.
enum class Fault : u8 {
    None,
    OutOfWindow, // the range leaves the window (or overflows)
    NoAccess,    // a page's TCE lacks the access bit (read or write) the transfer needs
    Unbacked,    // the TCE names a page the owner no longer has (its memory was released)
};

const char* to_string(Fault f);

// The table of TCEs lives in the derived SizedWindow; everything else takes a Window&.
class Window {
  public:
    Window(const Window&) = delete; // devices and the LPAR's bus hold pointers to it
    Window& operator=(const Window&) = delete;

    // Gives the window to an LPAR: its LIOBN and the memory its TCEs name. Clears every TCE.
    void bind(u32 liobn, LogicalMap& owner_memory);
    // Clears every TCE and forgets the owner (the device is gone).
    void unbind();
    bool bound() const { return memory_ != nullptr; }
    u32 liobn() const { return liobn_; }
    u64 size() const { return u64{count_} << kPageShift; }

    // ---- The guest's TCE hcalls: PAPR validation, H_SUCCESS or H_PARAMETER ------------------
    // ioba: any address in the page (the low 12 bits are ignored, as in QEMU).
    hcall::Ret put(u64 ioba, u64 tce);
    hcall::Ret get(u64 ioba, u64& tce) const;
    // `count` entries from ioba's page set to `tce`. Large counts are allowed up to the end of
    // the window (Linux 6.1 clears a whole window in one call).
    hcall::Ret stuff(u64 ioba, u64 tce, u64 count);
    // `count` (<= kMaxIndirect) big-endian TCEs from the 4 KiB-aligned logical page `list` of the
    // owner. Every TCE is validated before any is stored: all or nothing.
    hcall::Ret put_indirect(u64 ioba, LogicalAddr list, u64 count);

    // ---- The hypervisor's DMA helpers: every page checked before a byte moves -------------
    // Device reads guest memory [ioba, ioba + len) into dst: needs kRead on every page.
    Fault read(u64 ioba, void* dst, u64 len) const;
    // Device writes src into guest memory [ioba, ioba + len): needs kWrite on every page.
    Fault write(u64 ioba, const void* src, u64 len) const;
    // Checks [ioba, ioba + len) with `access` (kRead and/or kWrite) without moving data.
    Fault check(u64 ioba, u64 len, u64 access) const;
    // Calls fn(host pointer, offset so far, piece length) for each piece of [ioba, ioba + len)
    // that is contiguous in host memory (at most one TCE page), after check(). For devices that
    // move data between two windows (copy()) or parse it in place.
    template <class Fn>
    Fault for_each_piece(u64 ioba, u64 len, u64 access, Fn&& fn) const;

  private:
    // A stored entry: logical page number << 2 | access bits; 0 = no access. Bits 11..2 of a
    // guest's TCE are reserved and not kept.
    bool encode(u64 tce, u32& entry) const; // false: names a page outside the owner
    void* page_ptr(u32 index) const;        // host pointer of a mapped entry's page, or null

  protected:
    constexpr Window() = default;
    // For SizedWindow::bind: where the table lives and how many TCEs it has.
    void attach(u32* entries, u32 count) {
        entries_ = entries;
        count_ = count;
    }

  private:
    u32 liobn_ = 0;
    LogicalMap* memory_ = nullptr;
    u32* entries_ = nullptr;
    u32 count_ = 0; // 0 until bound: an unbound window has no IOBA space
};

// A window of `Entries` TCEs (Entries * 4 KiB of IOBA space). The table is attached at bind(),
// not in a constructor: a pointer into the object itself would make the static device tables
// need dynamic initialization (all of them are zero-initialized .bss).
template <u32 Entries>
class SizedWindow : public Window {
  public:
    constexpr SizedWindow() = default;
    void bind(u32 liobn, LogicalMap& owner_memory) {
        attach(table_, Entries);
        Window::bind(liobn, owner_memory);
    }

  private:
    u32 table_[Entries] = {};
};
using DefaultWindow = SizedWindow<kWindowEntries>; // 64 MiB: the logical LAN's

// Copies len bytes from src's [src_ioba, ...) to dst's [dst_ioba, ...): src needs kRead, dst
// kWrite on every page, both checked before anything is written. The two windows may belong to
// different LPARs (the logical LAN; virtual SCSI's H_COPY_RDMA): only TCEs decide what moves.
// The result says which side refused.
struct CopyResult {
    Fault src = Fault::None;
    Fault dst = Fault::None;
    bool ok() const { return src == Fault::None && dst == Fault::None; }
};
CopyResult copy(const Window& src, u64 src_ioba, const Window& dst, u64 dst_ioba, u64 len);

// ---- template definition -------------------------------------------------------------------

template <class Fn>
Fault Window::for_each_piece(u64 ioba, u64 len, u64 access, Fn&& fn) const {
    if (Fault f = check(ioba, len, access); f != Fault::None) return f;
    u64 done = 0;
    while (done < len) {
        const u64 at = ioba + done;
        const u64 in_page = at & (kPageSize - 1);
        u64 n = kPageSize - in_page;
        if (n > len - done) n = len - done;
        u8* page = static_cast<u8*>(page_ptr(static_cast<u32>(at >> kPageShift)));
        fn(page + in_page, done, n);
        done += n;
    }
    return Fault::None;
}

} // namespace tessera::tce
