// Trap reflection (docs/ia32.md, "Trap reflection"): exceptions, software interrupts and virtual
// interrupts delivered to the guest's own IDT handlers on its ring-1 stack, the virtual
// interrupt flag, the iret gate, and the selector checks that keep the switcher's iret safe.
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "common/rt/format.hpp"

#include "hcall/dispatch.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/decode.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include "isa/ia32/shadow.hpp"
#include "isa/ia32/sysenter.hpp"
#include "isa/ia32/vtimer.hpp"

#include <arch/hcalls.hpp>
#include <arch/x86.hpp>
#include <stdarg.h>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {

void crash(Vcpu& v, const char* fmt, ...) {
    char why[kStopReasonMax];
    va_list ap;
    va_start(ap, fmt);
    rt::vformat(why, sizeof(why), fmt, ap);
    va_end(ap);
    v.lpar->crash(why);
}

// ---- Selectors ----------------------------------------------------------------------------
namespace {

constexpr u32 kSelTi = 4;

// The descriptor a selector names in the real GDT or LDT as this vcpu sees it (0: none).
TESSERA_HOT u64 lookup(const Vcpu& v, u32 sel) {
    const unsigned index = (sel & 0xffff) >> 3;
    if (sel & kSelTi) {
        const GuestLdt& ldt = v.arch.ldt;
        if (ldt.selector == 0 || index * 8 + 7 > ldt.limit) return 0;
        return ldt.entries[index];
    }
    if (index == 0) return 0;
    if (index < kGuestGdtEntries) return v.arch.gdt[index];
    return gdt_descriptor(index);
}

bool code_for_ring(u64 d, unsigned ring) {
    return desc::present(d) && desc::is_code(d) && desc::dpl(d) == ring;
}
// May code running in `ring` load sel into ds/es/fs/gs?
bool data_for_ring(const Vcpu& v, u32 sel, unsigned ring) {
    const u64 d = lookup(v, sel);
    if (!desc::present(d) || !desc::is_segment(d)) return false;
    if (desc::is_code(d) && !(desc::access(d) & desc::kWritable)) return false; // execute-only
    const bool conforming_code = desc::is_code(d) && (desc::access(d) & 0x04);
    const unsigned rpl = sel & 3, need = ring > rpl ? ring : rpl;
    return conforming_code || desc::dpl(d) >= need;
}

} // namespace

void descriptor_tables_changed(Vcpu& v) {
    static u64 last = 0; // under the core lock (lgdt and lldt are emulated holding it)
    v.arch.tables_gen = ++last;
}

TESSERA_HOT void sanitize_selectors(Vcpu& v) {
    GuestFrame& r = v.arch.regs;
    VcpuState& s = v.arch;
    u32* const all[6] = {&r.cs, &r.ss, &r.ds, &r.es, &r.fs, &r.gs};
    bool same = s.tables_gen == s.sanitized_gen;
    for (unsigned i = 0; same && i < 6; ++i) same = *all[i] == s.sanitized[i];
    if (same) return;
    const unsigned ring = (r.cs & 3) == 3 ? 3 : 1;
    const u32 cs = (r.cs & ~3u) | ring, ss = (r.ss & ~3u) | ring;
    r.cs =
        code_for_ring(lookup(v, cs), ring) ? cs : (ring == 3 ? X86_GUEST_UCODE : X86_GUEST_KCODE);
    r.ss = desc::stack_for_ring(lookup(v, ss), ring)
               ? ss
               : (ring == 3 ? X86_GUEST_UDATA : X86_GUEST_KDATA);
    u32* const data[4] = {&r.ds, &r.es, &r.fs, &r.gs};
    for (u32* seg : data) {
        *seg &= 0xffff;
        if ((*seg & ~3u) != 0 && !data_for_ring(v, *seg, ring)) *seg = 0;
    }
    for (unsigned i = 0; i < 6; ++i) s.sanitized[i] = *all[i];
    s.sanitized_gen = s.tables_gen;
}

u64 descriptor_of(const Vcpu& v, u32 selector) {
    return lookup(v, selector);
}

u32 segment_base(const Vcpu& v, u32 selector) {
    const u64 d = lookup(v, selector);
    return desc::present(d) ? desc::base(d) : 0;
}

TESSERA_HOT usize fetch_instruction(Vcpu& v, u8 (&bytes)[15]) {
    static_assert(sizeof(bytes) == x86::kMaxInsnLength);
    const u32 at = segment_base(v, v.arch.regs.cs) + v.arch.regs.eip;
    // The instruction may end before a page that is not mapped.
    const usize first = 4096 - (at & 0xfff) < sizeof(bytes) ? 4096 - (at & 0xfff) : sizeof(bytes);
    if (!guest_read(v, at, bytes, first)) return 0;
    if (first < sizeof(bytes) &&
        guest_read(v, at + static_cast<u32>(first), bytes + first, sizeof(bytes) - first))
        return sizeof(bytes);
    return first;
}

u32 software_int_at_eip(Vcpu& v, u32 vector) {
    u8 bytes[x86::kMaxInsnLength];
    const usize avail = fetch_instruction(v, bytes);
    return static_cast<u32>(x86::soft_int_length(bytes, avail, vector));
}

// ---- The virtual interrupt flag -----------------------------------------------------------
u32 virq_area_bytes(u64 flags) {
    if (flags & kVirqFlagTimer) return 4 * (kVirqSlack + 1);
    return 4 * ((flags & kVirqFlagCr2) ? kVirqCr2 + 1 : kVirqPending + 1);
}

// H_IA32_SET_VIRQ checked that the area lies in the LPAR; in place through virq_host, else (an
// area across a chunk boundary) through the LPAR's copies.
TESSERA_HOT u32 virq_load(const Vcpu& v, VirqWord w) {
    if (v.arch.virq_host) return __atomic_load_n(&v.arch.virq_host[w], __ATOMIC_RELAXED);
    u32 value = 0;
    v.lpar->memory.copy_out(&value, LogicalAddr(v.arch.virq_area + 4 * w), sizeof(value));
    return value;
}

TESSERA_HOT bool virq_store(Vcpu& v, VirqWord w, u32 value) {
    if (v.arch.virq_host) {
        __atomic_store_n(&v.arch.virq_host[w], value, __ATOMIC_RELAXED);
        return true;
    }
    return v.lpar->memory.copy_in(LogicalAddr(v.arch.virq_area + 4 * w), &value, sizeof(value));
}

bool vif(const Vcpu& v) {
    return v.arch.virq_on ? virq_load(v, kVirqEnabled) != 0 : v.arch.vif;
}

void set_vif(Vcpu& v, bool on) {
    v.arch.vif = on;
    if (v.arch.virq_on) virq_store(v, kVirqEnabled, on ? 1 : 0);
}

// ---- Reflection ---------------------------------------------------------------------------
namespace {

constexpr u8 kGateInterrupt32 = 0xe, kGateTrap32 = 0xf;

// Interrupt, trap (16 or 32-bit) and task gates: what an IDT entry may be (S = 0).
constexpr bool gate_type_valid(u8 type) {
    return type == 0x5 || type == 0x6 || type == 0x7 || type == kGateInterrupt32 ||
           type == kGateTrap32;
}

struct Failure {
    u32 vector = 0;
    bool has_error = true;
    u32 error = 0;
    u32 cr2 = 0;
    const char* what = "";
};

// One delivery attempt; on failure says which exception the attempt raised.
TESSERA_HOT bool deliver(Vcpu& v, u32 vector, Event kind, bool has_error, u32 error,
                         Failure& fail) {
    GuestFrame& r = v.arch.regs;
    const GuestTables& t = v.arch.tables;
    const u32 ext = kind == Event::External ? 1 : 0;
    const u32 idt_error = vector * 8 + 2 + ext;
    auto fault = [&](u32 vec, u32 err, const char* what) {
        fail = Failure{vec, true, err, 0, what};
        return false;
    };
    if (t.idt_limit == 0 && t.idt_base == 0) return fault(13, idt_error, "no IDT loaded (lidt)");
    if (vector * 8 + 7 > t.idt_limit) return fault(13, idt_error, "vector beyond the IDT limit");
    u64 gate = 0;
    GuestFault pf;
    if (!guest_read(v, t.idt_base + vector * 8, &gate, sizeof(gate), &pf)) {
        fail = Failure{14, true, pf.error, pf.va, "IDT not mapped"};
        return false;
    }
    const u8 access = static_cast<u8>(gate >> 40);
    const u8 type = access & 0xf;
    const unsigned gate_dpl = (access >> 5) & 3;
    const bool from_user = (r.cs & 3) == 3;
    // The CPU's order (SDM, INT n/INTO/INT3/INT1): the gate's type, then for int n its DPL,
    // then present. A task gate is a valid type, so ring 3's `int $8` through Linux's DPL-0
    // #DF task gate is #GP(0x42), as natively.
    if ((access & 0x10) || !gate_type_valid(type))
        return fault(13, idt_error, "IDT gate is not an interrupt, trap or task gate");
    if (kind == Event::Software && from_user && gate_dpl < 3)
        return fault(13, idt_error, "IDT gate's DPL forbids int from ring 3");
    if (!(access & 0x80)) return fault(11, idt_error, "IDT gate not present");
    // TODO(bring-up): no task switches (Linux's #DF is a task gate): the LPAR stops with this.
    if (type == 0x5) return fault(13, idt_error, "IDT gate is a task gate (not emulated)");
    if (type != kGateInterrupt32 && type != kGateTrap32)
        return fault(13, idt_error, "IDT gate is a 16-bit gate (not emulated)");
    const u32 sel = static_cast<u32>(gate >> 16) & 0xffff;
    const u32 handler = static_cast<u32>((gate & 0xffff) | ((gate >> 32) & 0xffff0000u));
    if (!code_for_ring(lookup(v, sel | 1), 1))
        return fault(13, (sel & ~3u) | ext, "IDT gate selector is not ring-1 code");

    u32 frame[6];
    unsigned n = 0;
    u32 esp = r.esp, ss = r.ss;
    if (from_user) {
        u32 stack[2]; // esp0, ss0
        if (t.tr == 0) return fault(10, ext, "ring 3 interrupted but no TSS loaded (ltr)");
        if (!guest_read(v, t.tss_base + 4, stack, sizeof(stack), &pf)) {
            fail = Failure{14, true, pf.error, pf.va, "TSS not mapped"};
            return false;
        }
        ss = (stack[1] & 0xfffc) | 1;
        esp = stack[0];
        if (!desc::stack_for_ring(lookup(v, ss), 1))
            return fault(10, (t.tr & ~3u) | ext, "TSS ss0 is not a ring-1 stack segment");
        frame[n++] = r.ss;
        frame[n++] = r.esp;
    }
    // RF as the CPU left it for a fault (so the guest's iret does not hit its own instruction
    // breakpoint again), never for an int n or an interrupt.
    const u32 keep = kEflagsGuest | (kind == Event::Exception ? kEflagsRf : 0);
    const u32 eflags = (r.eflags & keep) | kEflagsFixed | (vif(v) ? kEflagsIf : 0);
    frame[n++] = eflags;
    frame[n++] = r.cs;
    frame[n++] = r.eip;
    if (has_error) frame[n++] = error;
    // The frame in memory, lowest address first: reverse the push order.
    u32 image[6];
    for (unsigned i = 0; i < n; ++i) image[i] = frame[n - 1 - i];
    const u32 top = esp - n * 4;
    if (!guest_write(v, top, image, n * 4, &pf)) {
        fail = Failure{14, true, pf.error, pf.va, "ring-1 stack not writable"};
        return false;
    }
    r.ss = ss;
    r.esp = top;
    r.cs = (sel & ~3u) | 1;
    r.eip = handler;
    r.eflags &= ~(kEflagsTf | kEflagsNt | kEflagsRf | kEflagsVm);
    if (type == kGateInterrupt32) set_vif(v, false);
    return true;
}

} // namespace

namespace {

// A page fault was delivered: its address goes to the shared area too when the guest asked
// (H_IA32_SET_VIRQ's kVirqFlagCr2), where its handler reads it instead of trapping on mov %cr2.
bool publish_cr2(Vcpu& v) {
    if (!v.arch.virq_on || !v.arch.virq_cr2 || virq_store(v, kVirqCr2, v.arch.ctl.cr2)) return true;
    crash(v, "page-fault address slot at %#x outside the LPAR", v.arch.virq_area + 8);
    return false;
}

} // namespace

TESSERA_HOT bool reflect(Vcpu& v, u32 vector, Event kind, bool has_error, u32 error) {
    Failure fail;
    if (deliver(v, vector, kind, has_error, error, fail))
        return vector != 14 || kind != Event::Exception || publish_cr2(v);
    const GuestFrame& r = v.arch.regs;
    // A double fault that cannot be delivered is the triple fault; `int $8` is no double fault.
    if (vector == 8 && kind != Event::Software) {
        crash(v, "triple fault: vector 8: %s (eip %#x)", fail.what, r.eip);
        return false;
    }
    // The exception raised while delivering (as the CPU raises it), then the double fault.
    const Failure first = fail;
    if (first.vector == 14) v.arch.ctl.cr2 = first.cr2;
    if (deliver(v, first.vector, Event::Exception, true, first.error, fail))
        return first.vector != 14 || publish_cr2(v);
    // Delivering that failed too: said before the double fault, which the guest may not survive.
    log("ia32: %s: vector %u (error %#x) not delivered: %s (eip %#x cs %#x esp %#x); then vector "
        "%u (error %#x): %s; double fault\n",
        v.lpar->name, vector, has_error ? error : 0, first.what, r.eip, r.cs, r.esp, first.vector,
        first.error, fail.what);
    if (deliver(v, 8, Event::Exception, true, 0, fail)) return true;
    log("ia32: %s: vector 8 not delivered: %s\n", v.lpar->name, fail.what);
    crash(v, "triple fault: vector %u: %s (eip %#x)", vector, first.what, r.eip);
    return false;
}

bool reflect_page_fault(Vcpu& v, u32 va, u32 error) {
    v.arch.ctl.cr2 = va;
    return reflect(v, 14, Event::Exception, true, error);
}

// ---- Virtual interrupts -------------------------------------------------------------------
TESSERA_HOT bool deliver_virq(Vcpu& v) {
    const bool external = v.lpar->xics.has_pending(v.index);
    const bool timer = timer_pending(v);
    const bool enabled = vif(v);
    if ((external || timer) && enabled) {
        // The one-shot timer fired: off, or the next tick armed ahead (isa/ia32/vtimer.hpp),
        // unless that was done when it was offered (owed); an owed one and an expired deadline
        // are one interrupt, as in an APIC's IRR.
        if (!external) {
            v.arch.timer_owed = false;
            if (timer_expired(v) && !timer_delivered(v)) return false;
        }
        count(v, external ? Exit::VirqExternal : Exit::VirqTimer);
        if (!reflect(v, external ? v.arch.external_vector : v.arch.timer_vector, Event::External,
                     false, 0))
            return false;
    }
    if (!v.arch.virq_on) return true;
    // pending: what is still held back now (the other source, or both while disabled). The
    // timer alone is offered to a guest that takes it itself (kVirqFlagSelf), with its
    // delivery's bookkeeping done now, as when we deliver it: by the time the guest's handler
    // sets its next deadline, the next tick is armed ahead.
    const bool still_external = v.lpar->xics.has_pending(v.index);
    if (!vif(v) && !still_external && v.arch.virq_self && timer_expired(v)) {
        if (!timer_delivered(v)) return false;
        v.arch.timer_owed = true;
    }
    u32 pending = 0;
    if (!vif(v) && (still_external || timer_pending(v)))
        pending = v.arch.timer_owed && !still_external ? kVirqPendingTimer : 1;
    if (pending) count(v, Exit::VirqHeld);
    if (virq_store(v, kVirqPending, pending)) return true;
    crash(v, "virtual interrupt flags at %#x outside the LPAR", v.arch.virq_area);
    return false;
}

void virq_forget(VcpuState& s) {
    s.virq_on = false;
    s.virq_area = 0;
    s.virq_cr2 = false;
    s.virq_timer = false;
    s.virq_self = false;
    s.virq_raise = false;
    s.virq_later = false;
    s.tick = TickStream{};
    s.virq_host = nullptr;
    s.virq_alias_on = false;
    s.virq_alias = 0;
}

// H_IA32_SET_VIRQ(area, timer vector, external vector, flags, alias): where the vcpu's virtual
// IF lives from now on (0: in the hypervisor, changed by cli/sti only; the current virtual IF
// moves with it), and the IDT vectors of its virtual interrupts (0: keep them; 0x20 and 0x21 at
// first). kVirqFlagAlias: the vcpu sees the area's page wherever its tables map logical page
// `alias` (an SMP guest's per-vcpu flags behind one kernel symbol); its shadow is dropped so no
// entry made before keeps the old page.
hcall::Ret h_ia32_set_virq(hcall::Env& env, hcall::Frame& frame) {
    auto& s = env.vcpu.arch;
    const u64 area = frame.args[0], timer = frame.args[1], external = frame.args[2];
    const u64 flags = frame.args[3], alias = frame.args[4];
    const u64 size = env.lpar.memory.size();
    if (timer > 0xff || external > 0xff || (timer != 0 && timer < 0x20) ||
        (external != 0 && external < 0x20) || (timer != 0 && timer == external) ||
        (flags & ~(kVirqFlagCr2 | kVirqFlagAlias | kVirqFlagTimer | kVirqFlagSelf | kVirqFlagRaise |
                   kVirqFlagLater)) != 0 ||
        ((flags & kVirqFlagRaise) && !(flags & kVirqFlagSelf)) ||
        ((flags & kVirqFlagLater) && !(flags & kVirqFlagTimer)))
        return hcall::H_PARAMETER;
    const bool aliased = (flags & kVirqFlagAlias) != 0;
    if (aliased && (area == 0 || alias % 4096 != 0 || alias >= size)) return hcall::H_PARAMETER;
    if (timer != 0) s.timer_vector = static_cast<u8>(timer);
    if (external != 0) s.external_vector = static_cast<u8>(external);
    const bool on = vif(env.vcpu);
    const bool was_aliased = s.virq_alias_on;
    if (area == 0) {
        virq_forget(s);
        if (was_aliased) shadow_flush_all(env.vcpu);
        set_vif(env.vcpu, on);
        return hcall::H_SUCCESS;
    }
    const u64 bytes = virq_area_bytes(flags);
    if (area % 4 != 0 || area >= size || size - area < bytes) return hcall::H_PARAMETER;
    s.virq_on = true;
    s.virq_area = static_cast<u32>(area);
    s.virq_cr2 = (flags & kVirqFlagCr2) != 0;
    s.virq_timer = (flags & kVirqFlagTimer) != 0;
    s.virq_self = (flags & kVirqFlagSelf) != 0;
    s.virq_raise = (flags & kVirqFlagRaise) != 0;
    s.virq_later = (flags & kVirqFlagLater) != 0;
    s.tick = TickStream{};
    s.virq_host = static_cast<u32*>(env.lpar.memory.host_ptr(LogicalAddr(area), bytes));
    s.virq_alias_on = aliased;
    s.virq_alias = aliased ? static_cast<u32>(alias) : 0;
    if (aliased || was_aliased) shadow_flush_all(env.vcpu);
    set_vif(env.vcpu, on);
    timer_publish(env.vcpu); // cannot fail: the area lies in the LPAR (checked above)
    return hcall::H_SUCCESS;
}

namespace {

// iret's checks of the return selectors (SDM, IRET in protected mode) for a guest whose ring 0
// is ring 1: 0 if the CPU would take them, else the exception (error code in `error`). A
// return to ring 2 is refused too: ring compression has no ring 2.
u32 iret_refusal(const Vcpu& v, u32 cs, u32 ss, bool outer, u32& error) {
    const unsigned ring = (cs & 3) == 3 ? 3 : 1;
    error = cs & 0xfffc;
    if (error == 0) return 13;
    const u64 code = lookup(v, cs);
    if ((cs & 3) == 2 || !desc::is_code(code)) return 13;
    const bool conforming = (desc::access(code) & 0x04) != 0;
    if (conforming ? desc::dpl(code) > ring : desc::dpl(code) != ring) return 13;
    if (!desc::present(code)) return 11;
    if (!outer) return 0;
    error = ss & 0xfffc;
    const u64 stack = lookup(v, ss);
    if (error == 0 || (ss & 3) != ring || !desc::is_data(stack) ||
        !(desc::access(stack) & desc::kWritable) || desc::dpl(stack) != ring)
        return 13;
    if (!desc::present(stack)) return 12;
    return 0;
}

// The iret gate faults as iret would: at the instruction (int $0x83, 2 bytes), nothing popped.
bool iret_fault(Vcpu& v, u32 vector, u32 error, const GuestFault* pf = nullptr) {
    v.arch.regs.eip -= 2;
    if (pf) return reflect_page_fault(v, pf->va, pf->error);
    return reflect(v, vector, Event::Exception, true, error);
}

} // namespace

namespace {

// Pops the iret frame at the guest's esp as iret would: 0, or the exception it raises (its
// error code in `error`; for #PF the fault in `pf`).
TESSERA_HOT u32 pop_iret(Vcpu& v, u32& error, GuestFault& pf) {
    GuestFrame& r = v.arch.regs;
    u32 f[5];
    if (!guest_read(v, r.esp, f, 3 * sizeof(u32), &pf)) return 14;
    u32 esp = r.esp + 3 * sizeof(u32), ss = r.ss;
    const bool outer = (f[1] & 3) == 3;
    if (outer) {
        if (!guest_read(v, esp, f + 3, 2 * sizeof(u32), &pf)) return 14;
        esp = f[3];
        ss = f[4];
    }
    if (const u32 vector = iret_refusal(v, f[1], ss, outer, error)) return vector;
    r.eip = f[0];
    r.cs = f[1];
    r.eflags = f[2];
    r.esp = esp;
    r.ss = ss;
    set_vif(v, (f[2] & kEflagsIf) != 0);
    return 0;
}

} // namespace

bool handle_iret(Vcpu& v) {
    u32 error = 0;
    GuestFault pf;
    const u32 vector = pop_iret(v, error, pf);
    if (vector == 14) return iret_fault(v, 14, 0, &pf);
    if (vector != 0) return iret_fault(v, vector, error);
    return true;
}

bool complete_window_iret(Vcpu& v) {
    const GuestFrame& r = v.arch.regs;
    if ((r.cs & 3) != 1 || r.eip < v.arch.window_start || r.eip >= v.arch.window_end) return false;
    u32 error = 0;
    GuestFault pf;
    return pop_iret(v, error, pf) == 0; // changes nothing when it would fault
}

bool complete_window_sysexit(Vcpu& v) {
    GuestFrame& r = v.arch.regs;
    if ((r.cs & 3) != 1 || r.eip < v.arch.sysexit_start || r.eip >= v.arch.sysexit_end)
        return false;
    const SysenterTarget t = sysenter_for(v);
    if (t.cs == 0) return false;
    u32 esp = r.ecx; // at the sysenter (the window's last 2 bytes): popped into ecx already
    if (r.eip != v.arch.sysexit_end - 2 && !guest_read(v, r.esp, &esp, sizeof(esp))) return false;
    r.eip = r.edx;
    r.esp = esp;
    r.cs = sysexit_cs(t);
    r.ss = sysexit_ss(t);
    set_vif(v, true);
    return true;
}

} // namespace tessera::arch
