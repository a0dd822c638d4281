// Decoder for the privileged x86 instructions the ia32 backend emulates (decode.hpp).
#include "isa/ia32/decode.hpp"

namespace tessera::arch::x86 {
namespace {

// Reads bytes one at a time, never past `limit` = min(avail, 15).
struct Reader {
    const u8* bytes;
    usize limit;
    usize pos = 0;

    bool next(u8& b) {
        if (pos >= limit) return false;
        b = bytes[pos++];
        return true;
    }
    bool next32(u32& v) {
        v = 0;
        for (unsigned shift = 0; shift < 32; shift += 8) {
            u8 b;
            if (!next(b)) return false;
            v |= u32{b} << shift;
        }
        return true;
    }
};

struct Prefixes {
    bool opsize = false;
    bool rep = false;
    bool has_seg = false;
    Seg seg = kDs;
};

// Folds one byte into `p` if it is a prefix we accept. 0x67 and 0xF0 are not: they end the
// prefixes, and no opcode accepts them.
bool take_prefix(u8 b, Prefixes& p) {
    if (b == 0x66) {
        p.opsize = true;
    } else if (b == 0xF2 || b == 0xF3) {
        p.rep = true;
    } else if ((b & 0xE7) == 0x26) { // 26 2E 36 3E: bits 3..4 are es cs ss ds, the Seg order
        p.seg = Seg((b >> 3) & 3);
        p.has_seg = true;
    } else if (b == 0x64 || b == 0x65) {
        p.seg = b == 0x64 ? kFs : kGs;
        p.has_seg = true;
    } else {
        return false;
    }
    return true;
}

// The memory operand of a ModRM byte whose mod is 0..2 (32-bit addressing), with its SIB and
// displacement bytes.
bool decode_mem(Reader& r, u8 modrm, const Prefixes& p, MemOperand& m) {
    const u8 mod = modrm >> 6, rm = modrm & 7;
    m = MemOperand{kDs, -1, -1, 1, 0};
    bool disp32 = mod == 2;
    if (rm == 4) { // a SIB byte follows
        u8 sib;
        if (!r.next(sib)) return false;
        const u8 index = (sib >> 3) & 7, base = sib & 7;
        if (index != 4) { // index 100 is "none" (esp cannot be an index); its scale is ignored
            m.index = i8(index);
            m.scale = u8(1u << (sib >> 6));
        }
        if (base == 5 && mod == 0)
            disp32 = true; // no base register, disp32 instead
        else
            m.base = i8(base);
    } else if (rm == 5 && mod == 0) {
        disp32 = true; // disp32 alone (ebp needs mod=01 with disp8 0)
    } else {
        m.base = i8(rm);
    }
    if (mod == 1) {
        u8 d;
        if (!r.next(d)) return false;
        m.disp = u32(i32(i8(d)));
    } else if (disp32 && !r.next32(m.disp)) {
        return false;
    }
    // The default segment follows the base register only: [ebp+...] and [esp+...] are ss, an
    // ebp index or a base-less disp32 is ds.
    if (p.has_seg)
        m.seg = p.seg;
    else
        m.seg = (m.base == 4 || m.base == 5) ? kSs : kDs;
    return true;
}

bool decode_one_byte(u8 b, Reader& r, const Prefixes& p, Insn& out) {
    const u8 wide = p.opsize ? 2 : 4;
    switch (b) {
    case 0xF4:
        out.op = Op::Hlt;
        return true;
    case 0xFA:
        out.op = Op::Cli;
        return true;
    case 0xFB:
        out.op = Op::Sti;
        return true;
    case 0xCF:
        out.op = Op::Iret;
        return true;
    case 0xCC:
        out.op = Op::Int3;
        out.vector = 3;
        return true;
    case 0xCE:
        out.op = Op::Into;
        out.vector = 4;
        return true;
    case 0xCD:
        out.op = Op::Int;
        return r.next(out.vector);
    // in/out: bit 0 = wide (eax/ax, else al), bit 1 = out, bit 3 = port in dx (else imm8).
    case 0xE4:
    case 0xE5:
    case 0xE6:
    case 0xE7:
    case 0xEC:
    case 0xED:
    case 0xEE:
    case 0xEF:
        out.op = (b & 2) ? Op::Out : Op::In;
        out.size = (b & 1) ? wide : 1;
        out.port_imm = (b & 8) == 0;
        return !out.port_imm || r.next(out.port);
    // ins es:[edi] (no override), outs ds:[esi] (overridable); bit 0 = wide, bit 1 = outs.
    case 0x6C:
    case 0x6D:
    case 0x6E:
    case 0x6F:
        out.op = (b & 2) ? Op::Outs : Op::Ins;
        out.size = (b & 1) ? wide : 1;
        out.rep = p.rep;
        out.is_mem = true;
        if (out.op == Op::Ins)
            out.mem = MemOperand{kEs, 7, -1, 1, 0};
        else
            out.mem = MemOperand{p.has_seg ? p.seg : kDs, 6, -1, 1, 0};
        return true;
    default:
        return false;
    }
}

bool decode_0f(Reader& r, const Prefixes& p, Insn& out) {
    // F2/F3 are mandatory prefixes in the 0F map: with them these bytes are other instructions.
    if (p.rep) return false;
    u8 b, modrm;
    if (!r.next(b)) return false;
    switch (b) {
    case 0x06:
        out.op = Op::Clts;
        return true;
    case 0x08:
        out.op = Op::Invd;
        return true;
    case 0x09:
        out.op = Op::Wbinvd;
        return true;
    case 0x30:
        out.op = Op::Wrmsr;
        return true;
    case 0x32:
        out.op = Op::Rdmsr;
        return true;
    case 0x33:
        out.op = Op::Rdpmc;
        return true;
    // mov to/from cr/dr: bit 0 = dr, bit 1 = to the control register. The hardware ignores mod
    // (always a register operand, no SIB or displacement follows).
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23: {
        if (!r.next(modrm)) return false;
        const bool dr = b & 1, to = b & 2;
        out.op = dr ? (to ? Op::MovToDr : Op::MovFromDr) : (to ? Op::MovToCr : Op::MovFromCr);
        out.ctl = (modrm >> 3) & 7;
        out.reg = modrm & 7;
        if (!dr && (out.ctl == 1 || out.ctl >= 5)) return false; // cr1, cr5..cr7 are #UD
        return true;
    }
    case 0x00: // group 6: /2 lldt, /3 ltr, r/m16
        if (!r.next(modrm)) return false;
        switch ((modrm >> 3) & 7) {
        case 2:
            out.op = Op::Lldt;
            break;
        case 3:
            out.op = Op::Ltr;
            break;
        default:
            return false;
        }
        if ((modrm >> 6) == 3) {
            out.reg = modrm & 7;
            return true;
        }
        out.is_mem = true;
        return decode_mem(r, modrm, p, out.mem);
    case 0x01: // group 7: /2 lgdt, /3 lidt, /7 invlpg, memory only (mod=3 encodes others)
        if (!r.next(modrm)) return false;
        if ((modrm >> 6) == 3) return false;
        switch ((modrm >> 3) & 7) {
        case 2:
            out.op = Op::Lgdt;
            break;
        case 3:
            out.op = Op::Lidt;
            break;
        case 7:
            out.op = Op::Invlpg;
            break;
        default:
            return false;
        }
        out.is_mem = true;
        return decode_mem(r, modrm, p, out.mem);
    default:
        return false;
    }
}

} // namespace

bool decode(const u8* bytes, usize avail, Insn& out) {
    out = Insn{};
    Reader r{bytes, avail < kMaxInsnLength ? avail : kMaxInsnLength};
    Prefixes p;
    u8 b;
    do {
        if (!r.next(b)) return false; // truncated, or 15 bytes of prefixes
    } while (take_prefix(b, p));
    out.size = p.opsize ? 2 : 4;
    const bool ok = b == 0x0F ? decode_0f(r, p, out) : decode_one_byte(b, r, p, out);
    if (!ok) {
        out = Insn{};
        return false;
    }
    out.length = u8(r.pos);
    return true;
}

usize soft_int_length(const u8* bytes, usize avail, u32 vector) {
    const usize limit = avail < kMaxInsnLength ? avail : kMaxInsnLength;
    usize i = 0;
    // 26 2E 36 3E 64 65 (segments), 66 67 (sizes), F2 F3 (rep); not F0: lock int is #UD.
    auto legacy_prefix = [](u8 b) {
        return (b & 0xE7) == 0x26 || (b >= 0x64 && b <= 0x67) || b == 0xF2 || b == 0xF3;
    };
    while (i < limit && legacy_prefix(bytes[i])) ++i;
    if (i >= limit) return 0;
    switch (bytes[i]) {
    case 0xCC:
        return vector == 3 ? i + 1 : 0;
    case 0xCE:
        return vector == 4 ? i + 1 : 0;
    case 0xCD:
        return i + 1 < limit && bytes[i + 1] == vector ? i + 2 : 0;
    default:
        return 0;
    }
}

u32 effective_offset(const MemOperand& m, const u32 (&gpr)[8]) {
    u32 off = m.disp;
    if (m.base >= 0) off += gpr[m.base & 7];
    if (m.index >= 0) off += gpr[m.index & 7] * m.scale;
    return off;
}

} // namespace tessera::arch::x86
