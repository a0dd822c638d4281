#include "isa/ia32/emulate.hpp"

#include "isa/ia32/cpu.hpp"
#include "isa/ia32/debug_regs.hpp"
#include "isa/ia32/decode.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/gdt_rows.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include "isa/ia32/shadow.hpp"

#include <tessera/arch.hpp>

namespace tessera::arch {
namespace {

using x86::Insn;
using x86::Op;

// ModRM register numbers: eax ecx edx ebx esp ebp esi edi.
u32& gpr(GuestFrame& r, unsigned n) {
    u32* const regs[8] = {&r.eax, &r.ecx, &r.edx, &r.ebx, &r.esp, &r.ebp, &r.esi, &r.edi};
    return *regs[n & 7];
}

// MSRs a guest may use; anything else is #GP (so Linux's rdmsr_safe/wrmsr_safe see "absent").
constexpr u32 kMsrTsc = 0x10, kMsrBiosSignId = 0x8b, kMsrSysenterCs = 0x174,
              kMsrSysenterEsp = 0x175, kMsrSysenterEip = 0x176, kMsrPat = 0x277;
// CR4 bits a guest may set: PSE, PGE and ones that only affect what it runs itself (TSD, DE,
// PCE, OSFXSR, OSXMMEXCPT). PAE and VME would change what the hypervisor emulates: #GP.
constexpr u32 kCr4Allowed = kCr4Pse | kCr4Pge | 0x4 | kCr4De | 0x100 | 0x200 | 0x400;

// The instruction faults for the guest: Reflected, or Crashed when that delivery failed.
Emulated outcome(bool delivered) {
    return delivered ? Emulated::Reflected : Emulated::Crashed;
}
Emulated gp(Vcpu& v, u32 error) {
    return outcome(reflect(v, 13, Event::Exception, true, error));
}

struct Emu {
    Vcpu& v;
    GuestFrame& r;
    Insn in;

    Emulated gp(u32 error = 0) { return arch::gp(v, error); }
    Emulated ud() { return outcome(reflect(v, 6, Event::Exception, false, 0)); }
    Emulated np(u32 error) { return outcome(reflect(v, 11, Event::Exception, true, error)); }
    Emulated page_fault(const GuestFault& f) {
        return outcome(reflect_page_fault(v, f.va, f.error));
    }
    Emulated done() {
        r.eip += in.length;
        r.eflags &= ~kEflagsRf; // the instruction completed
        return Emulated::Done;
    }

    u32 linear(const x86::MemOperand& m) {
        static constexpr u32 GuestFrame::*kSegs[6] = {&GuestFrame::es, &GuestFrame::cs,
                                                      &GuestFrame::ss, &GuestFrame::ds,
                                                      &GuestFrame::fs, &GuestFrame::gs};
        const u32 regs[8] = {r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi};
        return segment_base(v, r.*kSegs[m.seg]) + x86::effective_offset(m, regs);
    }

    Emulated write_cr(unsigned n, u32 value) {
        GuestControl& c = v.arch.ctl;
        switch (n) {
        case 0: {
            value |= kCr0Et;
            if (!(value & kCr0Pe)) return gp(); // no real mode
            const u32 changed = c.cr0 ^ value;
            c.cr0 = value;
            if (changed & (kCr0Pg | kCr0Wp)) shadow_flush_all(v);
            return done();
        }
        case 2:
            c.cr2 = value;
            return done();
        case 3:
            c.cr3 = value;
            shadow_flush(v, (c.cr4 & kCr4Pge) != 0);
            return done();
        case 4: {
            if (value & ~kCr4Allowed) return gp();
            const u32 changed = c.cr4 ^ value;
            c.cr4 = value;
            if (changed & (kCr4Pse | kCr4Pge)) shadow_flush_all(v);
            return done();
        }
        default:
            return ud();
        }
    }

    Emulated read_cr(unsigned n, u32& out) {
        const GuestControl& c = v.arch.ctl;
        switch (n) {
        case 0:
            out = c.cr0;
            return Emulated::Done;
        case 2:
            out = c.cr2;
            return Emulated::Done;
        case 3:
            out = c.cr3;
            return Emulated::Done;
        case 4:
            out = c.cr4;
            return Emulated::Done;
        default:
            return ud();
        }
    }

    // lgdt: every descriptor within the new limit (and inside the guest's window) is read now,
    // validated and kept per vcpu; entries beyond it are null.
    Emulated load_gdt(u32 base, u16 limit) {
        // Entries 1.. that lie wholly within the limit, read at once (a Linux thread switch to
        // a TLS set without a GDT row comes here).
        u64 raw[kGuestGdtEntries] = {};
        const unsigned count =
            (limit + 1u) / 8 < kGuestGdtEntries ? (limit + 1u) / 8 : kGuestGdtEntries;
        GuestFault f;
        if (count > 1 && !guest_read(v, base + 8, &raw[1], (count - 1) * 8, &f))
            return page_fault(f);
        u64 table[kGuestGdtEntries] = {};
        for (unsigned i = 1; i < count; ++i) table[i] = desc::install(raw[i]);
        TlsRaw tls{}; // the TLS entries as written: the key of their GDT row (gdt_rows.hpp)
        for (unsigned i = 0; i < kTlsCount; ++i) {
            tls.w[2 * i] = static_cast<u32>(raw[kTlsFirst + i]);
            tls.w[2 * i + 1] = static_cast<u32>(raw[kTlsFirst + i] >> 32);
        }
        bool same_window = true; // besides the TLS entries: the vcpu's TLS sets stay
        for (unsigned i = 0; i < kGuestGdtEntries; ++i) {
            if (i < kTlsFirst || i >= kTlsFirst + kTlsCount)
                same_window = same_window && v.arch.gdt[i] == table[i];
            v.arch.gdt[i] = table[i];
        }
        descriptor_tables_changed(v);
        tls_sets_loaded(v.arch.tls, same_window ? v.arch.tls.window : v.arch.tables_gen, tls);
        v.arch.tables.gdt_base = base;
        v.arch.tables.gdt_limit = limit;
        return done();
    }

    Emulated load_table(bool gdt) {
        struct [[gnu::packed]] {
            u16 limit;
            u32 base;
        } p;
        GuestFault f;
        if (!guest_read(v, linear(in.mem), &p, sizeof(p), &f)) return page_fault(f);
        const u32 base = in.size == 2 ? p.base & 0xffffff : p.base;
        if (gdt) return load_gdt(base, p.limit);
        v.arch.tables.idt_base = base;
        v.arch.tables.idt_limit = p.limit;
        return done();
    }

    bool selector_operand(u16& sel, GuestFault& f) {
        if (!in.is_mem) {
            sel = static_cast<u16>(gpr(r, in.reg));
            return true;
        }
        return guest_read(v, linear(in.mem), &sel, sizeof(sel), &f);
    }

    // ltr: the guest's TSS stays in its memory; the hypervisor only notes where (esp0/ss0 are
    // read from it when ring 3 is interrupted). The CPU's busy bit is not emulated.
    Emulated load_tr() {
        u16 sel;
        GuestFault f;
        if (!selector_operand(sel, f)) return page_fault(f);
        const GuestTables& t = v.arch.tables;
        const unsigned index = sel >> 3;
        if ((sel & 4) || index == 0 || index * 8 + 7 > t.gdt_limit) return gp(sel & ~3u);
        u64 raw;
        if (!guest_read(v, t.gdt_base + index * 8, &raw, sizeof(raw), &f)) return page_fault(f);
        if (!desc::is_tss(raw)) return gp(sel & ~3u);
        if (!desc::present(raw)) return np(sel & ~3u);
        v.arch.tables.tr = sel;
        v.arch.tables.tss_base = desc::base(raw);
        return done();
    }

    // lldt: the null selector is "no LDT"; anything else must name a present LDT descriptor in
    // the guest's GDT. Its entries (the first kGuestLdtEntries) are read now, validated like the
    // GDT's, and are the CPU's LDT while the vcpu runs (ldt_load); a later change of the guest's
    // LDT takes effect at its next lldt, as a GDT change does at lgdt.
    Emulated load_ldt() {
        u16 sel;
        GuestFault f;
        if (!selector_operand(sel, f)) return page_fault(f);
        if ((sel & ~3u) == 0) {
            v.arch.ldt = GuestLdt{};
            descriptor_tables_changed(v);
            return done();
        }
        const GuestTables& t = v.arch.tables;
        const unsigned index = sel >> 3;
        if ((sel & 4) || index * 8 + 7 > t.gdt_limit) return gp(sel & ~3u);
        u64 raw;
        if (!guest_read(v, t.gdt_base + index * 8, &raw, sizeof(raw), &f)) return page_fault(f);
        if (!desc::is_ldt(raw)) return gp(sel & ~3u);
        if (!desc::present(raw)) return np(sel & ~3u);
        GuestLdt ldt;
        ldt.selector = sel;
        const u32 limit = desc::limit_bytes(raw), base = desc::base(raw);
        const u32 whole = limit < 7 ? 0 : (limit - 7) / 8 + 1; // entries within the limit
        const u32 count = whole < kGuestLdtEntries ? whole : kGuestLdtEntries;
        for (u32 i = 0; i < count; ++i) {
            if (!guest_read(v, base + i * 8, &raw, sizeof(raw), &f)) return page_fault(f);
            ldt.entries[i] = desc::install(raw);
        }
        ldt.limit = static_cast<u16>(count * 8 - (count ? 1 : 0));
        v.arch.ldt = ldt;
        descriptor_tables_changed(v);
        return done();
    }

    // Port I/O reaches no device: reads see all ones (a floating ISA bus), writes vanish.
    Emulated port_io() {
        const u32 ones = in.size == 4 ? 0xffffffffu : (1u << (in.size * 8)) - 1;
        if (in.op == Op::In) r.eax = (r.eax & ~ones) | ones;
        if (in.op != Op::Ins && in.op != Op::Outs) return done();
        // A long rep string is done in rounds, as the CPU takes interrupts inside it: eip stays
        // on the instruction until ecx reaches 0, so no guest can hold the hypervisor here.
        constexpr u32 kRound = 1024;
        const u32 step = (r.eflags & kEflagsDf) ? 0u - in.size : in.size;
        u32& index = in.op == Op::Ins ? r.edi : r.esi;
        u32 count = in.rep ? (r.ecx < kRound ? r.ecx : kRound) : 1;
        for (; count > 0; --count) {
            if (in.op == Op::Ins) {
                GuestFault f;
                if (!guest_write(v, linear(in.mem), &ones, in.size, &f)) return page_fault(f);
            }
            index += step;
            if (in.rep) --r.ecx;
        }
        return in.rep && r.ecx != 0 ? Emulated::Done : done();
    }

    Emulated rdmsr() {
        u64 value;
        switch (r.ecx) {
        case kMsrTsc:
            value = timebase();
            break;
        case kMsrBiosSignId:
            value = 0;
            break;
        case kMsrSysenterCs:
            value = v.arch.sysenter_cs;
            break;
        case kMsrSysenterEsp:
            value = v.arch.sysenter_esp;
            break;
        case kMsrSysenterEip:
            value = v.arch.sysenter_eip;
            break;
        case kMsrPat:
            value = v.arch.pat;
            break;
        default:
            return gp();
        }
        r.eax = static_cast<u32>(value);
        r.edx = static_cast<u32>(value >> 32);
        return done();
    }

    Emulated wrmsr() {
        const u64 value = (u64{r.edx} << 32) | r.eax;
        switch (r.ecx) {
        case kMsrBiosSignId:
            break;
        case kMsrSysenterCs:
            v.arch.sysenter_cs = r.eax;
            break;
        case kMsrSysenterEsp:
            v.arch.sysenter_esp = r.eax;
            break;
        case kMsrSysenterEip:
            v.arch.sysenter_eip = r.eax;
            break;
        case kMsrPat:
            v.arch.pat = value;
            break;
        default:
            return gp();
        }
        return done();
    }

    // mov to/from drN on the vcpu's debug registers (isa/ia32/debug_regs.hpp): with DR7.GD
    // set, #DB (BD) at the instruction, GD cleared; dr4/dr5 are #UD with CR4.DE, else dr6/dr7.
    Emulated move_dr() {
        GuestDebug& d = v.arch.debug;
        if (d.dr7 & kDr7Gd) {
            d.dr7 &= ~kDr7Gd;
            d.dr6 = (d.dr6 & ~kDr6Status) | kDr6Bd;
            return outcome(reflect(v, 1, Event::Exception, false, 0));
        }
        if ((in.ctl == 4 || in.ctl == 5) && (v.arch.ctl.cr4 & kCr4De)) return ud();
        if (in.op == Op::MovToDr)
            debug_write(d, in.ctl, gpr(r, in.reg));
        else
            gpr(r, in.reg) = debug_read(d, in.ctl);
        return done();
    }

    // What kind of instruction, for the exit counts.
    static Exit kind(Op op) {
        switch (op) {
        case Op::MovToCr:
        case Op::MovFromCr:
        case Op::Clts:
            return Exit::EmuCr;
        case Op::MovToDr:
        case Op::MovFromDr:
            return Exit::EmuDr;
        case Op::Invlpg:
            return Exit::EmuInvlpg;
        case Op::Lgdt:
        case Op::Lidt:
        case Op::Ltr:
        case Op::Lldt:
            return Exit::EmuTables;
        case Op::Cli:
        case Op::Sti:
            return Exit::EmuCliSti;
        case Op::Hlt:
            return Exit::EmuHlt;
        case Op::In:
        case Op::Out:
        case Op::Ins:
        case Op::Outs:
            return Exit::EmuIo;
        case Op::Rdmsr:
        case Op::Wrmsr:
            return Exit::EmuMsr;
        default:
            return Exit::EmuOther;
        }
    }

    Emulated run() {
        count(v, kind(in.op));
        switch (in.op) {
        case Op::MovToCr:
            return write_cr(in.ctl, gpr(r, in.reg));
        case Op::MovFromCr: {
            u32 value = 0;
            const Emulated e = read_cr(in.ctl, value);
            if (e != Emulated::Done) return e;
            gpr(r, in.reg) = value;
            return done();
        }
        case Op::MovToDr:
        case Op::MovFromDr:
            return move_dr();
        case Op::Invlpg:
            shadow_invlpg(v, linear(in.mem));
            return done();
        case Op::Lgdt:
            return load_table(true);
        case Op::Lidt:
            return load_table(false);
        case Op::Ltr:
            return load_tr();
        case Op::Lldt:
            return load_ldt();
        case Op::Clts:
            v.arch.ctl.cr0 &= ~kCr0Ts;
            return done();
        case Op::Wbinvd:
        case Op::Invd:
            return done();
        case Op::Hlt:
            r.eip += in.length;
            return Emulated::Halt;
        case Op::Cli:
            set_vif(v, false);
            return done();
        case Op::Sti:
            v.arch.sti_shadow = !vif(v);
            set_vif(v, true);
            return done();
        case Op::In:
        case Op::Out:
        case Op::Ins:
        case Op::Outs:
            return port_io();
        case Op::Rdmsr:
            return rdmsr();
        case Op::Wrmsr:
            return wrmsr();
        default:
            return gp(); // rdpmc, and what #GP'd for its own reasons (iret, int)
        }
    }
};

} // namespace

Emulated emulate_privileged(Vcpu& v) {
    GuestFrame& r = v.arch.regs;
    u8 bytes[x86::kMaxInsnLength];
    const usize avail = fetch_instruction(v, bytes);
    Emu e{v, r, Insn{}};
    if (!x86::decode(bytes, avail, e.in)) return gp(v, 0);
    return e.run();
}

} // namespace tessera::arch
