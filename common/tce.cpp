#include "common/tce.hpp"

#include "common/chunks.hpp"
#include "common/lib/endian.hpp"
#include "common/rt/string.hpp"

namespace tessera::tce {

const char* to_string(Fault f) {
    switch (f) {
    case Fault::None:
        return "none";
    case Fault::OutOfWindow:
        return "outside the window";
    case Fault::NoAccess:
        return "no access";
    case Fault::Unbacked:
        return "page not backed";
    }
    return "?";
}

void Window::bind(u32 liobn, LogicalMap& owner_memory) {
    liobn_ = liobn;
    memory_ = &owner_memory;
    rt::mem_set(entries_, 0, sizeof(u32) * count_);
}

void Window::unbind() {
    memory_ = nullptr;
    rt::mem_set(entries_, 0, sizeof(u32) * count_);
}

bool Window::encode(u64 tce, u32& entry) const {
    const u64 access = tce & kAccessMask;
    if (access == 0) {
        entry = 0; // no access: the page address does not matter
        return true;
    }
    const LogicalAddr page(tce & ~(kPageSize - 1));
    if (memory_ == nullptr || !memory_->contains(page, kPageSize)) return false;
    entry = static_cast<u32>(page.value() >> kPageShift << 2 | access);
    return true;
}

hcall::Ret Window::put(u64 ioba, u64 tce) {
    u32 entry = 0;
    if (ioba >= size() || !encode(tce, entry)) return hcall::H_PARAMETER;
    entries_[ioba >> kPageShift] = entry;
    return hcall::H_SUCCESS;
}

hcall::Ret Window::get(u64 ioba, u64& tce) const {
    tce = 0;
    if (ioba >= size()) return hcall::H_PARAMETER;
    const u32 e = entries_[ioba >> kPageShift];
    tce = u64{e >> 2} << kPageShift | (e & kAccessMask);
    return hcall::H_SUCCESS;
}

hcall::Ret Window::stuff(u64 ioba, u64 tce, u64 count) {
    u32 entry = 0;
    if (ioba >= size() || !encode(tce, entry)) return hcall::H_PARAMETER;
    const u64 first = ioba >> kPageShift;
    if (count > count_ - first) return hcall::H_PARAMETER;
    for (u64 i = 0; i < count; ++i) entries_[first + i] = entry;
    return hcall::H_SUCCESS;
}

hcall::Ret Window::put_indirect(u64 ioba, LogicalAddr list, u64 count) {
    if (memory_ == nullptr || ioba >= size() || count > kMaxIndirect || !list.is_aligned(kPageSize))
        return hcall::H_PARAMETER;
    const u64 first = ioba >> kPageShift;
    if (count > count_ - first) return hcall::H_PARAMETER;
    const u8* tces = static_cast<const u8*>(memory_->host_ptr(list, kPageSize));
    if (tces == nullptr) return hcall::H_PARAMETER;
    u32 entries[kMaxIndirect];
    for (u64 i = 0; i < count; ++i) {
        if (!encode(lib::load_be<u64>(tces + 8 * i), entries[i])) return hcall::H_PARAMETER;
    }
    for (u64 i = 0; i < count; ++i) entries_[first + i] = entries[i];
    return hcall::H_SUCCESS;
}

void* Window::page_ptr(u32 index) const {
    const u32 e = entries_[index];
    if (memory_ == nullptr || (e & kAccessMask) == 0) return nullptr;
    return memory_->host_ptr(LogicalAddr(u64{e >> 2} << kPageShift), kPageSize);
}

Fault Window::check(u64 ioba, u64 len, u64 access) const {
    if (ioba > size() || len > size() - ioba) return Fault::OutOfWindow;
    if (len == 0) return Fault::None;
    if ((access & kAccessMask) == 0) return Fault::NoAccess;
    const u64 last = (ioba + len - 1) >> kPageShift;
    for (u64 i = ioba >> kPageShift; i <= last; ++i) {
        if ((entries_[i] & access) != access) return Fault::NoAccess;
        if (page_ptr(static_cast<u32>(i)) == nullptr) return Fault::Unbacked;
    }
    return Fault::None;
}

Fault Window::read(u64 ioba, void* dst, u64 len) const {
    u8* out = static_cast<u8*>(dst);
    return for_each_piece(ioba, len, kRead,
                          [&](u8* p, u64 done, u64 n) { rt::mem_copy(out + done, p, n); });
}

Fault Window::write(u64 ioba, const void* src, u64 len) const {
    const u8* in = static_cast<const u8*>(src);
    return for_each_piece(ioba, len, kWrite,
                          [&](u8* p, u64 done, u64 n) { rt::mem_move(p, in + done, n); });
}

CopyResult copy(const Window& src, u64 src_ioba, const Window& dst, u64 dst_ioba, u64 len) {
    CopyResult r;
    r.src = src.check(src_ioba, len, kRead);
    r.dst = dst.check(dst_ioba, len, kWrite);
    if (!r.ok()) return r;
    // Walk the source page by page; each source piece may straddle two destination pages.
    src.for_each_piece(src_ioba, len, kRead,
                       [&](u8* from, u64 done, u64 n) { dst.write(dst_ioba + done, from, n); });
    return r;
}

} // namespace tessera::tce
