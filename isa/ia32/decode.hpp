// Decoder for the privileged x86 instructions that #GP (or #UD) when a ring-1 guest kernel runs
// them and that the ia32 backend emulates (docs/ia32.md). Pure logic, host-tested in
// tests/unit/ia32/decode_test.cpp: it reads nothing but the bytes it is given.
//
// 32-bit protected mode only: 32-bit addressing (0x67 is refused), operand size 32 unless 0x66.
// Prefixes: 0x66, the segment overrides 26/2E/36/3E/64/65 (the last one wins), F2/F3 (rep; only
// on one-byte opcodes: in the 0F map they select other instructions), any number of them within
// the 15-byte limit. 0xF0 (lock) is refused: it is #UD on every instruction here.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch::x86 {

enum class Op : u8 {
    Unknown,
    MovToCr,   // 0F 22 /r  mov crN, r32
    MovFromCr, // 0F 20 /r  mov r32, crN
    MovToDr,   // 0F 23 /r  mov drN, r32
    MovFromDr, // 0F 21 /r  mov r32, drN
    Invlpg,    // 0F 01 /7  m
    Lgdt,      // 0F 01 /2  m
    Lidt,      // 0F 01 /3  m
    Ltr,       // 0F 00 /3  r/m16
    Lldt,      // 0F 00 /2  r/m16
    Clts,      // 0F 06
    Wbinvd,    // 0F 09
    Invd,      // 0F 08
    Hlt,       // F4
    Cli,       // FA
    Sti,       // FB
    In,        // E4/E5 imm8, EC/ED dx
    Out,       // E6/E7 imm8, EE/EF dx
    Ins,       // 6C/6D
    Outs,      // 6E/6F
    Rdmsr,     // 0F 32
    Wrmsr,     // 0F 30
    Rdpmc,     // 0F 33
    Int,       // CD ib
    Int3,      // CC
    Into,      // CE
    Iret,      // CF
};

enum Seg : u8 { kEs, kCs, kSs, kDs, kFs, kGs };

// GPR numbers as ModRM encodes them: 0 eax 1 ecx 2 edx 3 ebx 4 esp 5 ebp 6 esi 7 edi.
struct MemOperand {
    Seg seg;  // the override prefix, else ds (ss when the base register is esp or ebp)
    i8 base;  // -1: none
    i8 index; // -1: none
    u8 scale; // 1, 2, 4, 8 (1 when there is no index)
    u32 disp; // sign-extended disp8 or disp32, 0 without a displacement
};

struct Insn {
    Op op = Op::Unknown;
    u8 length = 0; // bytes incl. prefixes
    u8 ctl = 0;    // cr/dr number for mov cr/dr (cr0/2/3/4; dr0..7, dr4/5 as encoded)
    u8 reg = 0;    // the GPR: mov cr/dr's general register; ltr/lldt register form
    // Operand in memory: lgdt/lidt/invlpg always, ltr/lldt m16 form. Also set for ins/outs,
    // whose string operand is described in `mem`: ins es:[edi] (es cannot be overridden), outs
    // ds:[esi] or the override.
    bool is_mem = false;
    MemOperand mem{};
    // Operand size: 4, or 2 with 0x66 (every instruction; it matters for iret (iretw pops a 16-bit
    // frame), lgdt/lidt (only 24 bits of the base are loaded) and in/out/ins/outs); 1 for the
    // byte forms of in/out/ins/outs.
    u8 size = 4;
    bool port_imm = false; // in/out imm8 form; otherwise the port is dx
    u8 port = 0;
    bool rep = false; // F3/F2 prefix (ins/outs; accepted and ignored on other one-byte opcodes)
    u8 vector = 0;    // int imm8 (int3 -> 3, into -> 4)
};

inline constexpr usize kMaxInsnLength = 15;

// Decodes one instruction from `bytes` (avail = how many bytes are readable, at most 15 used).
// Returns false when the bytes are not one of the supported instructions, are truncated, or use
// forms we refuse: 16-bit addressing (0x67), lock, mod=3 for lgdt/lidt/invlpg (#UD on hardware;
// those encodings are other instructions), mov cr with cr1/cr5..7 (#UD), F2/F3 on a 0F opcode,
// longer than 15 bytes. The caller then reflects #UD/#GP. `out` is reset first.
bool decode(const u8* bytes, usize avail, Insn& out);

// The length of the software interrupt at `bytes` that raised `vector`: int3 (CC), int n (CD n)
// or into (CE) after any legacy prefixes but lock, which the CPU ignores there (`cs cs int3` and
// `66 cd 80` are the same interrupts as without them); 0 if the bytes are not that interrupt.
usize soft_int_length(const u8* bytes, usize avail, u32 vector);

// The linear offset of a memory operand (before adding the segment base): base + index*scale +
// disp, 32-bit wrap-around. gpr[] in ModRM order above.
u32 effective_offset(const MemOperand& m, const u32 (&gpr)[8]);

} // namespace tessera::arch::x86
