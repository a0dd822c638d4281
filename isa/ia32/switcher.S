/*
 * The switcher: the only part of the hypervisor mapped while a guest runs (docs/ia32.md). It is
 * mapped at X86_SWITCHER_VA in every address space (the hypervisor's and each LPAR's): its code
 * page(s) and the pages holding the IDT, GDT and TSS read-only, its stack page (TSS esp0)
 * read-write. Code here runs at its switcher address, so it only uses position-independent
 * jumps and SWVA() for its own data; it switches to the hypervisor's cr3 at once and then jumps
 * to the hypervisor proper (identity-mapped).
 */
#include <arch/x86.hpp>

#define SWVA(sym) (X86_SWITCHER_VA + ((sym) - switcher_start))
#define FRAME_SIZE (19 * 4) /* arch::GuestFrame */

    .section .switcher, "awx", @progbits
    .balign 4096
    .globl switcher_start
switcher_start:

/* One 16-byte stub per vector 0..X86_STUB_VECTORS-1: push a zero error code where the CPU
 * pushes none. */
.macro STUB vec
    .balign 16
    .if \vec == 14
    jmp sw_pf /* a process's faults: perhaps the switcher's to reflect */
    .elseif \vec == 2
    jmp sw_nmi
    .elseif \vec == 13
    jmp sw_gp
    .else
    .if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushl $0
    .endif
    pushl $\vec
    jmp sw_common
    .endif
.endm

    .globl sw_stubs
sw_stubs:
    .set vec, 0
    .rept X86_STUB_VECTORS
    STUB vec
    .set vec, vec + 1
    .endr

    .balign 16
    .globl sw_stub_hcall
sw_stub_hcall:
    pushl $0
    pushl $X86_HCALL_VECTOR
    jmp sw_common

    .balign 16
    .globl sw_stub_iret
sw_stub_iret:
    pushl $0
    pushl $X86_IRET_VECTOR
    jmp sw_common

/* The guest kernel's switch to one of its kept shadow spaces (isa/ia32/shadow.hpp, FastSpace):
 * int $X86_SWITCH_MM_VECTOR from ring 1 (the gate's DPL keeps ring 3 out) with eax = its cr3,
 * ebx:ecx = the space's ctx, edx:esi = its generation. The row that has all of them and a root
 * has its root loaded, eax = 0; else nothing changes, eax = 1. No exit: the hypervisor sees the
 * new root in cr3 at the next trap (sw_guest). IF is clear until the iret; only the rows of
 * this CPU's data page (%ss: the hypervisor's flat data) are read. */
    .balign 16
    .globl sw_switch_mm
sw_switch_mm:
    pushl %edi
    pushl %ebp
    movl $SWVA(sw_fast_spaces), %edi
    movl $X86_FAST_SPACES, %ebp
1:  cmpl %ss:(%edi), %eax
    jne 2f
    cmpl %ss:4(%edi), %ebx
    jne 2f
    cmpl %ss:8(%edi), %ecx
    jne 2f
    cmpl %ss:12(%edi), %edx
    jne 2f
    cmpl %ss:16(%edi), %esi
    jne 2f
    movl %ss:20(%edi), %edi
    testl %edi, %edi
    jz 3f
    movl %edi, %cr3
    xorl %eax, %eax
    jmp 4f
2:  addl $X86_FAST_SPACE_BYTES, %edi
    decl %ebp
    jnz 1b
3:  movl $1, %eax
4:  popl %ebp
    popl %edi
    iret

/* Jumps to `to` when the selector at `at` is one of GDT entries X86_TLS_FIRST.. (any RPL; an
 * LDT selector in that range too, which is only stricter). Clobbers ebp. */
.macro JB_TLS_SELECTOR at, to
    movzwl \at, %ebp
    andl $0xfffc, %ebp
    subl $X86_TLS_FIRST * 8, %ebp
    cmpl $X86_TLS_COUNT * 8, %ebp
    jb \to
.endm

/* The guest kernel's change of its TLS entries (isa/ia32/gdt_rows.hpp): int
 * $X86_SWITCH_TLS_VECTOR from ring 1 (the gate's DPL keeps ring 3 out) with the X86_TLS_COUNT
 * descriptors as it wrote them in eax:ebx, ecx:edx, esi:edi (lo:hi). The row keyed with all of
 * them is loaded into GDTR, eax = 0; else nothing changes, eax = 1. No exit: the hypervisor
 * reads GDTR at the next trap. IF is clear until the iret; only this CPU's data page is read
 * (%ss). Segment registers keep what they hold until they are loaded again, as after an lgdt;
 * a caller whose cs or ss is a TLS entry gets eax = 1. */
    .balign 16
    .globl sw_switch_tls
sw_switch_tls:
    pushl %ebp
    /* The caller's cs and ss must not be TLS entries (descriptor.hpp, tls_selector): another
     * row would change them under this iret, which would then fault in ring 0. */
    JB_TLS_SELECTOR 8(%esp), 3f
    JB_TLS_SELECTOR 20(%esp), 3f
    movl $SWVA(sw_tls_keys), %ebp
1:  cmpw $0, %ss:26(%ebp)       /* the key's lgdt limit: 0 is no row */
    je 2f
    cmpl %ss:(%ebp), %eax
    jne 2f
    cmpl %ss:4(%ebp), %ebx
    jne 2f
    cmpl %ss:8(%ebp), %ecx
    jne 2f
    cmpl %ss:12(%ebp), %edx
    jne 2f
    cmpl %ss:16(%ebp), %esi
    jne 2f
    cmpl %ss:20(%ebp), %edi
    jne 2f
    lgdt %ss:26(%ebp)
    xorl %eax, %eax
    popl %ebp
    iret
2:  addl $X86_TLS_KEY_BYTES, %ebp
    cmpl $SWVA(sw_tls_keys) + X86_GDT_ROWS * X86_TLS_KEY_BYTES, %ebp
    jb 1b
3:  movl $1, %eax
    popl %ebp
    iret

/* A process's own faults reflected here without an exit (isa/ia32/fast_reflect.hpp): a #PF
 * (sw_pf) its guest's entries, read now, deny, and a #GP (sw_gp) whose error code names no IDT
 * entry, from ring 3 while this CPU's block is on; from ring 1 such a #PF only. Anything else
 * goes on as vector 14 or 13.
 * IF is clear (interrupt gates). Stack: error code, eip, cs, eflags[, esp, ss]. Only %ss (the
 * hypervisor's flat data, from the TSS) is used for memory. */
#define FR(w) (SWVA(sw_fast_reflect) + 4 * (w))
.macro SAVE_SIX
    pushl %eax
    pushl %ecx
    pushl %edx
    pushl %ebx
    pushl %esi
    pushl %edi
.endm
.macro RESTORE_SIX /* keeps the flags */
    popl %edi
    popl %esi
    popl %ebx
    popl %edx
    popl %ecx
    popl %eax
.endm
#define FR_ON 0
#define FR_ROOT 1
#define FR_FRAME 2
#define FR_SS 3
#define FR_VIRQ 4
#define FR_GATE_PF 5 /* handler, cs, clear_if */
#define FR_GATE_GP 8
#define FR_ROWS (SWVA(sw_fast_reflect) + 4 * X86_FR_WORDS)
    .balign 16
sw_pf:
    testl $3, 8(%esp)
    jnz 1f
    /* From ring 0. A store of sw_reflect to the guest's ring-1 stack faulted (its page is not
     * in the shadow, or read-only there): the process's fault (edi: its vector, ebx: a page
     * fault's address) goes to the hypervisor after all. Else the hypervisor's own fault. */
    cmpl $SWVA(sw_reflect_store), 4(%esp)
    jb sw_pf_exit
    cmpl $SWVA(sw_reflect_store_end), 4(%esp)
    jae sw_pf_exit
    addl $16, %esp /* that fault's error code, eip, cs, eflags */
    cmpl $14, %edi
    jne sw_reflect_slow
    movl %ebx, %cr2
    jmp sw_reflect_slow
1:  SAVE_SIX
    movl $14, %edi
    movl $FR(FR_GATE_PF), %esi
    jmp sw_reflect_check
sw_pf_walk:
    testl $~7, %eax         /* P, W, U only */
    jnz sw_reflect_slow
    movl %cr3, %eax
    cmpl %ss:FR(FR_ROOT), %eax
    jne sw_reflect_slow     /* the switcher moved the vcpu to another kept space */
    movl %cr2, %ebx
    cmpl $X86_SWITCHER_VA, %ebx
    jae sw_reflect_slow
    movl 24(%esp), %eax
    andl $6, %eax           /* eax: the guest's error code, W and U of the access */
    /* Every access of ring 3 is a user access (lpar.cpp, page_fault_error): QEMU's iret and
     * lret make their stack pops as supervisor reads. */
    testl $2, 32(%esp)
    jz 8f
    orl $4, %eax
8:
    /* The directory entry, as it is now. */
    movl %ebx, %ecx
    shrl $22, %ecx
    movl %ss:X86_FR_VA(0)(,%ecx,4), %edx
    testl $1, %edx
    jz 6f                   /* not present */
    andl $~0x20, %edx       /* without A */
    /* The row with this entry names the slot its table is mapped at. */
    movl $FR_ROWS, %esi
2:  cmpl %ss:(%esi), %ecx
    jne 3f
    cmpl %ss:4(%esi), %edx
    je 4f
3:  addl $4 * X86_FR_ROW_WORDS, %esi
    cmpl $FR_ROWS + 4 * X86_FR_ROW_WORDS * X86_FR_TABLES, %esi
    jb 2b
    jmp sw_reflect_slow     /* no table of this entry mapped */
    /* Row i's table is at slot 1 + i: 8 bytes of row, 4096 of slot. */
    .if X86_FR_ROW_WORDS != 2
    .error "sw_pf: a row is not 8 bytes"
    .endif
4:  subl $FR_ROWS, %esi
    shll $9, %esi
    movl %ebx, %ecx
    shrl $12, %ecx
    andl $0x3ff, %ecx
    movl %ss:X86_FR_VA(1)(%esi,%ecx,4), %ecx /* the table entry, as it is now */
    testl $1, %ecx
    jz 6f                   /* not present */
    andl %edx, %ecx         /* U and W of both levels */
    testl $4, %eax
    jz 7f                   /* ring 1's access: any page its R/W allows (CR0.WP) */
    testl $4, %ecx
    jz 5f                   /* a supervisor page */
7:  testl $2, %eax
    jz sw_reflect_slow      /* a read the entries allow: the hypervisor's (a fill) */
    testl $2, %ecx
    jnz sw_reflect_slow     /* a write they allow */
5:  orl $1, %eax            /* present, the access denied */
6:  movl $FR(FR_GATE_PF), %esi
    jmp sw_reflect

/* A #GP from ring 3 whose error code does not name an IDT entry (bit 1: an int n the CPU
 * refused, for the hypervisor to emulate with the guest's rules). */
    .balign 16
sw_gp:
    testl $3, 8(%esp)
    jz sw_gp_exit           /* the hypervisor's own */
    SAVE_SIX
    movl $13, %edi
    movl $FR(FR_GATE_GP), %esi
/* Both: edi the vector, esi its gate in the block. Now 24: error code, 28: eip, 32: cs, 36:
 * eflags, 40: esp, 44: ss. */
sw_reflect_check:
    cmpl $0, %ss:FR(FR_ON)
    je sw_reflect_slow
    testl $X86_EFLAGS_VM, 36(%esp)
    jnz sw_reflect_slow     /* virtual-8086 mode: its cs says nothing of a ring */
    movl 32(%esp), %eax
    andl $3, %eax
    cmpl $3, %eax
    je 1f
    /* Ring 1: only its page faults (its #GPs are the hypervisor's to emulate), on the flat
     * ring-1 stack segment of the block, with a frame of four words under its esp that stays
     * below the switcher. */
    cmpl $1, %eax
    jne sw_reflect_slow
    cmpl $14, %edi
    jne sw_reflect_slow
    movzwl 44(%esp), %eax
    cmpl %ss:FR(FR_SS), %eax
    jne sw_reflect_slow
    movl 40(%esp), %eax
    cmpl $X86_SWITCHER_VA, %eax
    ja sw_reflect_slow
    cmpl $16, %eax
    jb sw_reflect_slow
1:  cmpl $0, %ss:(%esi)
    je sw_reflect_slow      /* no gate for it */
    movl 24(%esp), %eax
    cmpl $14, %edi
    je sw_pf_walk
    testl $2, %eax
    jnz sw_reflect_slow     /* an int n */

/* eax: the error code for the guest, esi: its gate (handler, cs, clear_if), edi: the vector,
 * ebx: a page fault's address. The frame on the ring-1 stack as reflect() writes it: error
 * code, eip, cs, eflags (the guest's bits and RF, IF from the virtual flag), and from ring 3
 * esp, ss; under the TSS's esp0 from ring 3, under the interrupted esp from ring 1 (whose
 * stack segment stays). Then the virtual IF off for an interrupt gate, and a page fault's
 * address in the cr2 word. */
sw_reflect:
    movl %ss:FR(FR_VIRQ), %ecx
    movl %ss:FR(FR_FRAME), %edx
    testl $2, 32(%esp)
    jnz sw_reflect_store    /* from ring 3 */
    movl 40(%esp), %edx
    subl $16, %edx
sw_reflect_store:
    movl %eax, %ss:(%edx)
    movl 28(%esp), %eax
    movl %eax, %ss:4(%edx)
    movl 32(%esp), %eax
    movl %eax, %ss:8(%edx)
    movl 36(%esp), %eax
    andl $(X86_GUEST_EFLAGS | X86_EFLAGS_RF), %eax
    orl $X86_HV_EFLAGS, %eax
    cmpl $0, %ss:(%ecx)
    je 1f
    orl $X86_EFLAGS_IF, %eax
1:  movl %eax, %ss:12(%edx)
    testl $2, 32(%esp)
    jz sw_reflect_store_end /* from ring 1 */
    movl 40(%esp), %eax
    movl %eax, %ss:16(%edx)
    movl 44(%esp), %eax
    movl %eax, %ss:20(%edx)
sw_reflect_store_end:
    cmpl $0, %ss:8(%esi)
    je 2f
    movl $0, %ss:(%ecx)
2:  cmpl $14, %edi
    jne 3f
    movl %ebx, %ss:8(%ecx)
    incl %ss:SWVA(sw_reflected)
    movl %ebx, %ss:SWVA(sw_reflected) + 4
    jmp 4f
3:  incl %ss:SWVA(sw_reflected) + 8
    /* The iret into the handler, in ring 1 on that frame. */
4:  movl 32(%esp), %ecx     /* the interrupted cs */
    movl %ss:(%esi), %eax
    movl %eax, 28(%esp)
    movl %ss:4(%esi), %eax
    movl %eax, 32(%esp)
    andl $~(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF | X86_EFLAGS_VM | X86_EFLAGS_IOPL), 36(%esp)
    movl %edx, 40(%esp)
    testl $2, %ecx
    jz 5f                   /* from ring 1: its stack segment stays */
    movl %ss:FR(FR_SS), %eax
    movl %eax, 44(%esp)
5:  RESTORE_SIX
    addl $4, %esp           /* the error code */
    iret
sw_reflect_slow:
    cmpl $14, %edi          /* the pops keep the flags */
    RESTORE_SIX
    jne sw_gp_exit
sw_pf_exit:
    pushl $14
    jmp sw_common
sw_gp_exit:
    pushl $13
    jmp sw_common

/* Stack here: vector, error code, eip, cs, eflags[, esp, ss when from ring 1/3].
 * First, on every path, the hypervisor's own EFLAGS: the interrupt gate cleared IF, TF, NT and
 * RF but left DF and AC as the interrupted code had them, and any process can trap with DF set
 * (`std; int $0x80`): the C++ code (and the compiler's rep movs/stos) assumes DF = 0. */
sw_common:
    pushl $X86_HV_EFLAGS
    popfl
    /* The guest's breakpoints off before anything but the switcher (which they never cover,
     * debug_regs.hpp) is touched: the hypervisor always runs with DR7 = 0. */
    pushl %eax
    movl %dr7, %eax
    testb $0xff, %al
    jz 1f
    xorl %eax, %eax
    movl %eax, %dr7
1:  popl %eax
    /* A trap from virtual-8086 mode (QEMU's iret enters it from ring 3 when the popped EFLAGS
     * has VM) pushed es, ds, fs, gs above ss: move vector..ss up over them, so the frame is
     * where every other trap leaves it (VM stays set in its eflags: vcpu_run sees it). */
    testl $X86_EFLAGS_VM, 16(%esp)
    jz 2f
    pushl %eax
    pushl %ecx
    movl $7, %ecx
3:  movl 4(%esp,%ecx,4), %eax
    movl %eax, 20(%esp,%ecx,4)
    decl %ecx
    jnz 3b
    popl %ecx
    popl %eax
    addl $16, %esp
    jmp sw_guest
2:  testl $3, 12(%esp)
    jz sw_ring0
sw_guest:
    pushal
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    movl $X86_HV_DATA, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movl $X86_HV_GUARD, %eax
    movw %ax, %gs
    /* The directory the guest ran on (sw_switch_mm may have changed it): ia32_guest_enter's
     * result. */
    movl %cr3, %edx
    movl SWVA(sw_hv_cr3), %eax
    movl %eax, %cr3
    movl SWVA(sw_hv_esp), %esp
    movl %edx, %eax
    movl $ia32_guest_exit, %edx
    jmp *%edx

/* The NMI watchdog's (plat/pc/watchdog.cpp): an exit only when it interrupted a guest (ring 1
 * or 3, or virtual-8086 mode, where cs may have any low bits) with the real IF clear, which a
 * process in QEMU's V86 mode with IOPL 3 can do; anything else returns at once, touching no
 * register (the iret restores the flags the tests change): the hypervisor and the switcher
 * (whose own IF is clear only for a few instructions, or in the idle CPU's hlt, which then
 * just looks again) and guests the local APIC's timer can interrupt. Stack: eip, cs, eflags[,
 * esp, ss[, es, ds, fs, gs]]. */
sw_nmi:
    testl $X86_EFLAGS_VM, 8(%esp)
    jnz 1f
    testl $3, 4(%esp)
    jz 3f
1:  testl $X86_EFLAGS_IF, 8(%esp)
    jnz 2f
    pushl $0
    pushl $2
    jmp sw_common
    /* Ring 0: back under the hypervisor's code selector. In the sysenter trampoline CS holds
     * the guest kernel's selector with a ring-0 cache, whose GDT entry (DPL 1) an iret to ring
     * 0 refuses (#GP); every ring-0 selector is the same flat code. */
3:  movl $X86_HV_CODE, 4(%esp)
    /* An NMI in an sti's one-instruction shadow: the trampoline's `sti; sysexit` or the idle
     * CPU's `sti; hlt` (ring 0 has IF set only right after those). QEMU takes an NMI there, and
     * the iret does not restore the shadow, so an interrupt already pending would come in ring
     * 0 before the sysexit, on the guest's cr3 (sw_ring0_irq's EOI store faults: seen in
     * pc-direct-traps), or before the hlt (the wake-up is lost). Back to the sti with IF clear,
     * so that it runs again. Code bytes through %ss: in the trampoline DS is the caller's. */
    testl $X86_EFLAGS_IF, 8(%esp)
    jz 2f
    pushl %eax
    movl 4(%esp), %eax
    cmpb $X86_STI_OPCODE, %ss:-1(%eax)
    jne 4f
    decl 4(%esp)
    andl $~X86_EFLAGS_IF, 12(%esp)
4:  popl %eax
2:  iret

/* From ring 0: a local APIC interrupt that woke an idle CPU (plat::idle_cpu's `sti; hlt`, with
 * the hypervisor's cr3: the only place the hypervisor enables interrupts) is acknowledged and
 * returns (the spurious vector needs no EOI). Anything else is a fault in the hypervisor
 * itself: no stack switch; report and stop the machine (fault.cpp). A fault in this code may
 * have a guest's cr3 loaded (the switcher is mapped in both). */
sw_ring0:
    /* A single step carried into sw_sysenter by a sysenter (it clears IF, not TF): off for the
     * rest of the trampoline, which hands TF to the guest's entry in the caller's EFLAGS. A
     * step before its first instruction (QEMU's) resumes at sw_sysenter_tf, which puts TF back
     * into the EFLAGS it takes. The trampoline goes on with IF clear: a step that came after
     * its `sti` resumes at that sti (an interrupt here would be taken for an idle CPU's wake-up
     * and dropped: the hypervisor would lose its timer). sw_common cleared DR7: the guest's is
     * re-armed. */
    cmpl $1, (%esp)
    jne sw_ring0_irq
    cmpl $SWVA(sw_sysenter), 8(%esp)
    jne 1f
    movl $SWVA(sw_sysenter_tf), 8(%esp)
    jmp 2f
1:  cmpl $SWVA(sw_sysexit_insn), 8(%esp)
    jne 3f
    movl $SWVA(sw_sysexit_sti), 8(%esp)
    jmp 2f
3:  cmpl $SWVA(sw_sysenter), 8(%esp)
    jb sw_fault
    cmpl $SWVA(sw_sysenter_end), 8(%esp)
    jae sw_fault
2:  andl $~(X86_EFLAGS_TF | X86_EFLAGS_IF), 16(%esp)
    /* Back under the hypervisor's code selector: sysenter left the guest's kernel CS selector
     * in CS (with a ring-0 cache), whose GDT entry (DPL 1) an iret to ring 0 would refuse. */
    movl $X86_HV_CODE, 12(%esp)
    pushl %eax
    movl %ss:SWVA(sw_guest_dr7), %eax
    movl %eax, %dr7
    popl %eax
    addl $8, %esp
    iret
sw_ring0_irq:
    cmpl $X86_LAPIC_TIMER_VECTOR, (%esp)
    jb sw_fault
    cmpl $X86_SPURIOUS_VECTOR, (%esp)
    ja sw_fault
    je 1f
    /* Only the hypervisor's directory maps the local APIC. On a guest's the store would fault,
     * or write to whatever that guest mapped at its address, and the EOI would be lost (the
     * CPU's timer with it): an interrupt here is a fault then. */
    pushl %eax
    movl %cr3, %eax
    cmpl %ss:SWVA(sw_hv_cr3), %eax
    popl %eax
    jne sw_fault
    movl $0, X86_LAPIC_EOI
1:  addl $8, %esp
    iret
sw_fault:
    pushal
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    movl $X86_HV_DATA, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movl $X86_HV_GUARD, %eax     /* arch::cpu_index */
    movw %ax, %gs
    movl %cr3, %edx              /* the directory the fault came on, for the report */
    movl SWVA(sw_hv_cr3), %eax
    movl %eax, %cr3
    movl %esp, %eax
    pushl %edx
    pushl %eax
    movl $ia32_hv_fault, %eax
    call *%eax
1:  cli
    hlt
    jmp 1b

/* A guest's sysenter (isa/ia32/sysenter.hpp): ring 0 with the guest's cr3 loaded, IF clear,
 * every register the caller's; CS/SS are flat ring-0 segments under the guest's kernel
 * selectors (SYSENTER_CS), DS/ES/FS/GS still the caller's (every access here goes through
 * %ss). esp = 8 bytes below the top of this CPU's stack page.
 * - ebp = X86_SYSEXIT_EBP: the guest kernel's return to user mode: sysexit to edx/ecx in ring
 *   3 (the user segments SYSENTER_CS implies) with the EFLAGS the sysenter came with, IF on.
 *   From ring 3 it is a jump in ring 3.
 * - Otherwise a system call: the iret frame for the guest's ring-1 entry is built under the top
 *   of the stack, from the target in the data page (read-only for guests, validated at entry),
 *   with the caller's arithmetic, TF, DF, NT, AC and ID flags and IF on. NT must be off before
 *   this iret (else a task return). */
    .balign 16
    .globl sw_sysenter
sw_sysenter:
    pushfl
sw_sysenter_flags:
    cmpl $X86_SYSEXIT_EBP, %ebp
    je sw_sysexit
    pushl $X86_HV_EFLAGS
    popfl
    andl $X86_GUEST_EFLAGS, (%esp)
    orl $X86_EFLAGS_IF, (%esp)
    pushl %ss:SWVA(sw_sysenter_target) + 8   /* the entry's esp, above the eflags word */
    popl 4(%esp)
    pushl %ss:SWVA(sw_sysenter_target) + 12  /* its ss */
    popl 8(%esp)
    pushl %ss:SWVA(sw_sysenter_target) + 4   /* its cs */
    pushl %ss:SWVA(sw_sysenter_target)       /* its eip */
    iret
sw_sysexit:
    /* The caller's flags as sysenter left them, but never its IOPL (nor IF, which the sti
     * sets): popfl in ring 0 would load it, and sysexit would hand it to ring 3. A process has
     * IOPL 3 in virtual-8086 mode, which QEMU's iret enters from ring 3 with the popped IOPL
     * and IF (a CPU ignores VM there), and sysenter from there comes here. */
    andl $X86_GUEST_EFLAGS, (%esp)
    orl $X86_HV_EFLAGS, (%esp)
    popfl
sw_sysexit_sti:
    sti
sw_sysexit_insn:
    sysexit
sw_sysenter_tf:
    pushfl
    orl $X86_EFLAGS_TF, (%esp)
    jmp sw_sysenter_flags
sw_sysenter_end:

/* From ia32_guest_enter: eax = the guest's cr3, esp = the frame at the top of the stack page. */
sw_resume:
    movl %eax, %cr3
    /* The guest's breakpoints, now that only the switcher of the hypervisor is mapped. */
    movl SWVA(sw_guest_dr7), %eax
    testl %eax, %eax
    jz 1f
    movl %eax, %dr7
1:
    popl %gs
    popl %fs
    popl %es
    popl %ds
    popal
    addl $8, %esp
    iret

    .balign 4096
    .globl sw_data
sw_data:
    .globl sw_hv_cr3, sw_hv_esp, sw_guest_dr7, sw_sysenter_target
sw_hv_cr3: .long 0
sw_hv_esp: .long 0
sw_guest_dr7: .long 0
sw_sysenter_target: .long 0, 0, 0, 0 /* eip, cs, esp, ss (arch::SysenterTarget) */
    .balign 64
    .globl sw_fast_spaces
sw_fast_spaces: .space X86_FAST_SPACES * X86_FAST_SPACE_BYTES /* arch::FastSpace rows */
    .balign 64
    .globl sw_tls_keys
sw_tls_keys: .space X86_GDT_ROWS * X86_TLS_KEY_BYTES /* arch::TlsKey, one per GDT row */
    .balign 64
    .globl sw_fast_reflect
sw_fast_reflect: .space 4 * (X86_FR_WORDS + X86_FR_TABLES * X86_FR_ROW_WORDS) /* arch::FastReflect */
    .balign 64
    .globl sw_tss
sw_tss: .space 104
    .balign 64
    .globl sw_df_tss
sw_df_tss: .space 104
    .balign 64
    .globl sw_idt
sw_idt: .space 256 * 8
    .balign 64
    .globl sw_ldt
sw_ldt: .space 8 * X86_LDT_ENTRIES

    .org sw_data + 4096 /* one page: an error ("moving .org backwards") if the data outgrows it */
/* The GDT rows (isa/ia32/gdt_rows.hpp): X86_GDT_ROWS copies of the CPU's GDT, read-only for
 * guests as the data page is. */
    .globl sw_gdt
sw_gdt:
    .space 8 * X86_GDT_ENTRIES * X86_GDT_ROWS
    .org sw_gdt + 4096
    .globl sw_stack, sw_reflected
sw_stack:
/* arch::fast_reflect_taken: page faults sw_reflect did, the last one's address, #GPs. */
sw_reflected: .long 0, 0, 0
    .space 4096 - FRAME_SIZE - 12
    .globl sw_frame
sw_frame:
    .space FRAME_SIZE
    .globl sw_stack_top
sw_stack_top:
    .globl switcher_end
switcher_end:

    .text
/* u32 ia32_guest_enter(u32 cr3): runs the guest from sw_frame until it traps; the trap's frame
 * is then in sw_frame, and the result is the cr3 the guest had at the trap. Saves the
 * callee-saved registers and esp for ia32_guest_exit. */
    .globl ia32_guest_enter
ia32_guest_enter:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 20(%esp), %eax
    movl %esp, SWVA(sw_hv_esp)   /* this CPU's data page, writable in the hypervisor's view */
    movl $SWVA(sw_frame), %esp
    movl $SWVA(sw_resume), %ecx
    jmp *%ecx

/* The double fault's task (IDT vector 8 is a task gate to X86_DF_TSS, gdt.cpp): entered on its
 * own stack with the hypervisor's cr3, the error code (0) pushed. */
    .globl ia32_df_entry
ia32_df_entry:
    cld
    call ia32_double_fault
1:  cli
    hlt
    jmp 1b

    .globl ia32_guest_exit
ia32_guest_exit:
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .section .note.GNU-stack, "", @progbits
