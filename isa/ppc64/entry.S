/*
 * Hypervisor entry from skiboot. The image is run in place: QEMU loads the ELF file raw at
 * 0x20000000 and skiboot jumps to e_entry - p_vaddr + p_offset + 0x20000000, so the image is
 * linked at 0x20000000 + file offset (plat/powernv/image.lds) and needs no relocation.
 * State on entry: MSR = HV|SF (big-endian, real mode, EE=0); r3 = host FDT, r8 = OPAL base,
 * r9 = OPAL entry.
 */
#include <arch/ppc_asm.h>

    .section .text.entry, "ax"
    .globl _start
_start:
    FIXUP_ENDIAN

    LOAD_ADDR(1, boot_stack_top)
    li 0, 0
    stdu 0, -32(1)              /* a terminated back chain and an ELFv2 minimal frame */
    LOAD_ADDR(2, .TOC.)
    LOAD_ADDR(13, ppc64_pcpu_block0)
    addi 13, 13, STACK_GUARD_R13_OFFSET

    /* Clear .bss (QEMU's RAM starts zeroed, real machines' does not). */
    LOAD_ADDR(10, __bss_start)
    LOAD_ADDR(11, __bss_end)
1:  cmpld 10, 11
    bge 2f
    std 0, 0(10)
    addi 10, 10, 8
    b 1b
2:
    mr 4, 8
    mr 5, 9
    bl powernv_main
    nop
3:  b 3b

/*
 * A secondary CPU started by OPAL_START_CPU (plat/powernv/smp.cpp): big-endian, real mode,
 * EE=0, r3 = its PIR, nothing else set. Its r13 and stack were put in ppc64_secondary_boot by
 * the boot CPU, which waits until this CPU has taken them.
 */
    .text
    .balign 4
    .globl ppc64_secondary_start
ppc64_secondary_start:
    FIXUP_ENDIAN
    LOAD_ADDR(11, ppc64_secondary_boot)
    ld 13, 0(11)
    ld 1, 8(11)
    li 0, 0
    stdu 0, -32(1)
    LOAD_ADDR(2, .TOC.)
    bl ppc64_secondary_main
    nop
4:  b 4b

    .section .bss.boot_stack, "aw", @nobits
    .balign 16
    .space 65536
    .globl boot_stack_top
boot_stack_top:
    .section .note.GNU-stack, "", @progbits
