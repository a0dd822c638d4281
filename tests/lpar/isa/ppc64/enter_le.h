/*
 * ENTER_LITTLE_ENDIAN: the first instructions of a little-endian program that is entered
 * big-endian, as PAPR firmware (QEMU's pseries, PowerVM, Tessera) enters a client and as RTAS
 * start-cpu starts a secondary. Linux's entry does the same (FIXUP_ENDIAN).
 *
 * The first word is chosen so that it means something in both byte orders: stored
 * little-endian it is "tdi 0,0,0x48" (a trap that never fires), read big-endian the same bytes
 * are "b .+8". A CPU that is already little-endian falls through to the branch over the
 * trampoline; a big-endian one jumps into the trampoline, whose words are stored big-endian
 * so that it can run them: it flips MSR[LE] with rfid and lands after itself.
 *
 * Afterwards: little-endian, r11 = the MSR the program was entered with. Clobbers r12, and on
 * the big-endian path LR, SRR0, SRR1 and MSR[EE, RI] (cleared while SRR0/1 are live).
 * r0..r10 are kept (they carry the entry arguments).
 */
#ifndef LPAR_ENTER_LE_H
#define LPAR_ENTER_LE_H

/* One instruction word stored most significant byte first, whatever the assembler's order. */
#define BE_INSN(w) .byte ((w) >> 24) & 0xff, ((w) >> 16) & 0xff, ((w) >> 8) & 0xff, (w) & 0xff

.macro ENTER_LITTLE_ENDIAN
    tdi 0, 0, 0x48               /* big-endian: b .+8 */
    b .Lle_already_\@
    BE_INSN(0x7d6000a6)          /* mfmsr  r11 */
    BE_INSN(0x696b0001)          /* xori   r11, r11, 1        MSR[LE] for the rfid */
    BE_INSN(0x39800000)          /* li     r12, 0 */
    BE_INSN(0x7d810164)          /* mtmsrd r12, 1             EE = RI = 0 */
    BE_INSN(0x429f0005)          /* bcl    20, 31, .+4        LR = the next word */
    BE_INSN(0x7d8802a6)          /* mflr   r12 */
    BE_INSN(0x398c0014)          /* addi   r12, r12, 20       5 words on: .Lle_flipped */
    BE_INSN(0x7d9a03a6)          /* mtsrr0 r12 */
    BE_INSN(0x7d7b03a6)          /* mtsrr1 r11 */
    BE_INSN(0x4c000024)          /* rfid */
.Lle_flipped_\@:
    xori 11, 11, 1               /* the entry MSR: LE as it was */
    b .Lle_done_\@
.Lle_already_\@:
    mfmsr 11
.Lle_done_\@:
.endm

#endif
