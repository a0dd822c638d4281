#include "isa/ia32/fast_reflect.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/debug_regs.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

constexpr u32 kFrameBytes = 6 * 4; // ss, esp, eflags, cs, eip, error code
constexpr u32 kSlotRo = kPteP, kSlotRw = kPteP | kPteW;

// The real address of the guest's page at logical `page`, when it is one of the LPAR's.
u32 real_page(const Lpar& lpar, u32 page) {
    const auto ra = lpar.memory.translate_aligned(LogicalAddr(page), 4096);
    return ra ? static_cast<u32>(ra->value()) : 0;
}

} // namespace

TESSERA_HOT FastReflectImage fast_reflect_image(Vcpu& v, u32 root, bool step) {
    FastReflectImage image;
    const VcpuState& s = v.arch;
    const DirectGates& g = s.gates;
    if (root == 0 || step || !(s.ctl.cr0 & kCr0Pg) || debug_dr7_for_cpu(s.debug) != 0) return image;
    // The flag words up to cr2 in one page, in place.
    const u32 flag_end = (s.virq_area & 0xfff) + 4 * (kVirqCr2 + 1);
    if (!s.virq_on || !s.virq_cr2 || s.virq_host == nullptr || flag_end > 4096) return image;
    // The ring-1 stack as the direct gates have it (its segment flat from 0 up to esp1).
    if (g.ss1 == 0 || g.esp1 < kFrameBytes || g.esp1 > X86_SWITCHER_VA) return image;
    const u64 ss = descriptor_of(v, g.ss1);
    if (desc::base(ss) != 0 || desc::limit_bytes(ss) < g.esp1 - 1) return image;
    const u32 dir = real_page(*v.lpar, s.ctl.cr3 & kPteFrame);
    if (dir == 0) return image;
    FastReflect& b = image.block;
    bool any = false;
    for (usize i = 0; i < kReflectVectorCount; ++i) {
        if (g.reflect_handler[i] == 0) continue;
        b.gates[i] = FastReflect::Gate{g.reflect_handler[i], g.reflect_cs[i],
                                       g.reflect_interrupt[i] ? 1u : 0u};
        any = true;
    }
    if (!any) return FastReflectImage{};
    image.slots[0] = dir | kSlotRo;
    for (usize i = 0; i < X86_FR_TABLES; ++i) {
        const VcpuState::PfTableRow& row = s.pf_rows[i];
        const u32 table = row.index < 1024 ? real_page(*v.lpar, row.pde & kPteFrame) : 0;
        if (table == 0) continue;
        image.slots[1 + i] = table | kSlotRo;
        b.rows[i] = FastReflect::Row{row.index, row.pde};
    }
    // virq_host is the area's real address (the hypervisor's identity map).
    const u32 offset = s.virq_area & 0xfff;
    const u32 flags = static_cast<u32>(reinterpret_cast<uptr>(s.virq_host)) - offset;
    image.slots[1 + X86_FR_TABLES] = (flags & kPteFrame) | kSlotRw;
    b.virq = X86_FR_VA(1 + X86_FR_TABLES) + offset;
    b.root = root;
    b.frame = g.esp1 - kFrameBytes;
    b.ss = g.ss1;
    b.on = 1;
    return image;
}

namespace {

// Remembers the table of directory entry pde (present, not a 4 MiB page) at index for space:
// its row if it has one, else an empty one, else the oldest row of the space that ran least
// recently (a process's rows outlive its children's: a fork's child brings new tables, and the
// parent's rows are still good when it runs again).
void note_row(VcpuState& s, u32 index, u32 pde, u8 space) {
    pde &= ~kPteA;
    VcpuState::PfTableRow* row = nullptr;
    const auto age = [&s](const VcpuState::PfTableRow& r) {
        return r.index == ~0u ? 0ull : (u64{s.shadows[r.space].used} << 32) | r.noted;
    };
    for (auto& r : s.pf_rows) {
        if (r.index == index && r.pde == pde) {
            row = &r;
            break;
        }
        if (row == nullptr || age(r) < age(*row)) row = &r;
    }
    *row = VcpuState::PfTableRow{index, pde, ++s.pf_clock, space};
}

// The guest's directory entry at index of the directory at logical address cr3, when it is
// present and names a table (0 otherwise).
u32 table_entry(const Vcpu& v, u32 cr3, u32 index) {
    u32 pde = 0;
    const LogicalAddr at((cr3 & kPteFrame) + index * 4);
    if (!v.lpar->memory.copy_out(&pde, at, sizeof(pde))) return 0;
    return (pde & kPteP) && !(pde & kPtePs) ? pde : 0;
}

} // namespace

void fast_reflect_note(Vcpu& v, u32 va) {
    VcpuState& s = v.arch;
    const u32 index = va >> 22;
    const u32 pde = table_entry(v, s.ctl.cr3, index);
    if (pde != 0) note_row(s, index, pde, s.shadow_cur);
}

void fast_reflect_fork(Vcpu& v, u32 child_cr3, u64 ctx) {
    VcpuState& s = v.arch;
    unsigned child = kShadowRoots;
    for (unsigned i = 0; i < kShadowRoots; ++i) {
        if (i != s.shadow_cur && s.shadows[i].ctx == ctx && s.shadows[i].cr3 == child_cr3)
            child = i;
    }
    if (child == kShadowRoots) return;
    // The parent's rows, the most recently noted first, at most half of them.
    VcpuState::PfTableRow seeds[X86_FR_TABLES];
    unsigned n = 0;
    for (const auto& r : s.pf_rows) {
        if (r.index == ~0u || r.space != s.shadow_cur) continue;
        unsigned at = n++;
        for (; at > 0 && seeds[at - 1].noted < r.noted; --at) seeds[at] = seeds[at - 1];
        seeds[at] = r;
    }
    for (unsigned i = 0; i < n && i < X86_FR_TABLES / 2; ++i) {
        const u32 pde = table_entry(v, child_cr3, seeds[i].index);
        if (pde != 0) note_row(s, seeds[i].index, pde, static_cast<u8>(child));
    }
}

void fast_reflect_forget(VcpuState& s) {
    for (auto& r : s.pf_rows) r = VcpuState::PfTableRow{};
    s.pf_clock = 0;
}

TESSERA_HOT FastReflected fast_reflected_take(u32 (&words)[3]) {
    FastReflected r;
    if ((words[0] | words[2]) == 0) return r;
    r.page_faults = words[0] < kFastReflectedMax ? words[0] : kFastReflectedMax;
    r.last_va = words[1];
    r.gp_faults = words[2] < kFastReflectedMax ? words[2] : kFastReflectedMax;
    words[0] = words[2] = 0;
    return r;
}

} // namespace tessera::arch
