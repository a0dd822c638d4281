/* Assembler helpers for the ppc64 (little-endian, HV mode) hypervisor. */
#pragma once

/*
 * FIXUP_ENDIAN: skiboot enters its payload big-endian, and OPAL returns to us big-endian.
 * The first word reads as `b .+8` when fetched big-endian and as a no-op `tdi` little-endian.
 * Big-endian, the branch lands on a trampoline stored byte-swapped (so it decodes correctly
 * big-endian): it flips MSR[LE] and hrfid's to the first instruction after the macro.
 * Little-endian, the second word skips the trampoline. Clobbers r10, r11 (and HSRR0/1).
 */
#define FIXUP_ENDIAN                                                                           \
    tdi 0, 0, 0x48;       /* big-endian: b .+8 */                                            \
    b 191f;               /* already little-endian: skip the trampoline */                   \
    .long 0xa600607d;     /* mfmsr r11 */                                                      \
    .long 0x01006b69;     /* xori r11,r11,1 (MSR[LE]) */                                       \
    .long 0x05009f42;     /* bcl 20,31,$+4 */                                                  \
    .long 0xa602487d;     /* mflr r10 */                                                       \
    .long 0x14004a39;     /* addi r10,r10,20 -> label 191 */                                   \
    .long 0xa64b5a7d;     /* mthsrr0 r10 */                                                    \
    .long 0xa64b7b7d;     /* mthsrr1 r11 */                                                    \
    .long 0x2402004c;     /* hrfid */                                                          \
191:

/* Load a 32-bit-reachable absolute address (the image is linked below 2 GiB). */
#define LOAD_ADDR(reg, sym) \
    lis reg, (sym)@ha;      \
    addi reg, reg, (sym)@l

#define SPRN_HSRR0 314
#define SPRN_HSRR1 315

/* The glibc ABI puts the stack-protector guard at -0x7010(r13); Debian's libfdt expects it. */
#define STACK_GUARD_R13_OFFSET 0x7010
