/*
 * Ring 3 and odd-stack helpers for the ia32 checks (programs/ia32.cpp).
 *
 * u32 lpar_run_user(u32 eip, u32 esp, u32 eflags, u32 ebx, u32 ecx): runs eip in ring 3 (flat
 * user selectors) on stack esp with the given eflags, ebx and ecx until a trap handler sends it back to lpar_user_return (in ring 1, through the
 * iret gate); returns the eax the handler left in the frame. The trap that ends it arrives on
 * the ring-1 stack of the guest's TSS (esp0), not this one.
 *
 * i32 lpar_hcall_at(u32 esp): int $0x82 with esp = the given value (a bad hcall stack); the
 * hypervisor must answer with an error in eax, not fault. Interrupts must be disabled.
 */
#define KDATA 0x129
#define UCODE 0x133
#define UDATA 0x13b
#define IRET_VECTOR 0x83

    .text
    .globl lpar_run_user
lpar_run_user:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, user_saved_esp
    movl 20(%esp), %eax     /* eip */
    movl 24(%esp), %esi     /* esp */
    movl 28(%esp), %edx     /* eflags */
    movl 32(%esp), %ebx     /* the user code's ebx */
    movl 36(%esp), %ecx     /* and ecx */
    pushl $UDATA
    pushl %esi
    pushl %edx
    pushl $UCODE
    pushl %eax
    movl $UDATA, %eax
    movw %ax, %ds
    movw %ax, %es
    int $IRET_VECTOR

/* u32 lpar_run_user_as(u32 eip, u32 esp, u32 eflags, u32 cs, u32 ss): the same with the iret
 * frame's cs and ss given (a bad one faults at lpar_run_user_as_iret, in ring 1). */
    .globl lpar_run_user_as
lpar_run_user_as:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, user_saved_esp
    movl 20(%esp), %eax     /* eip */
    movl 24(%esp), %esi     /* esp */
    movl 28(%esp), %edx     /* eflags */
    movl 32(%esp), %ebx     /* cs */
    movl 36(%esp), %ecx     /* ss */
    pushl %ecx
    pushl %esi
    pushl %edx
    pushl %ebx
    pushl %eax
    .globl lpar_run_user_as_iret
lpar_run_user_as_iret:
    int $IRET_VECTOR
    ud2

    .globl lpar_user_return
lpar_user_return:
    cld
    movl $KDATA, %ecx
    movw %cx, %ds
    movw %cx, %es
    movl user_saved_esp, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

/* u32 lpar_sysexit_to(u32 eip, u32 esp, u32 tf): the kernel's way back to ring 3 through the
 * hypervisor's sysenter trampoline: sysenter with ebp = 0xffc0ffee (X86_SYSEXIT_EBP), edx = eip,
 * ecx = esp, user data segments loaded, TF set by popfl just before when tf != 0; back from
 * ring 3 as for lpar_run_user. */
    .globl lpar_sysexit_to
lpar_sysexit_to:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, user_saved_esp
    movl 20(%esp), %edx
    movl 24(%esp), %ecx
    movl 28(%esp), %ebx
    movl $UDATA, %eax
    movw %ax, %ds
    movw %ax, %es
    movl $0xffc0ffee, %ebp
    pushfl
    testl %ebx, %ebx
    jz 1f
    orl $0x100, (%esp)
1:  popfl
    sysenter
    ud2

    .globl lpar_hcall_at
lpar_hcall_at:
    movl 4(%esp), %eax
    movl %esp, hcall_saved_esp
    movl %eax, %esp
    int $0x82
    movl hcall_saved_esp, %esp
    ret

/* User code for the checks (these pages are user-accessible). */
    .globl lpar_user_ret42        /* int $0x80 with eax = 42 */
lpar_user_ret42:
    movl $42, %eax
    int $0x80
    ud2

    .globl lpar_user_std_int80    /* int $0x80 with DF set and eax = 5 */
lpar_user_std_int80:
    std
    movl $5, %eax
    int $0x80
    ud2

    .globl lpar_user_prefixed_int /* cs cs int3, then int $0x81 with an operand-size prefix */
lpar_user_prefixed_int:
    .byte 0x2e, 0x2e, 0xcc
    .globl lpar_user_prefixed_int3_end
lpar_user_prefixed_int3_end:
    .byte 0x66, 0xcd, 0x81
    .globl lpar_user_prefixed_int81_end
lpar_user_prefixed_int81_end:
    int $0x80
    ud2

    .globl lpar_user_nt           /* sets NT, int $0x81 and back, eax = eflags, int $0x80 */
lpar_user_nt:
    pushfl
    orl $0x4000, (%esp)
    popfl
    int $0x81
    pushfl
    popl %eax
    int $0x80
    ud2

    .globl lpar_user_nt_iret      /* sets NT, then iret (a task return), then int $0x80 */
lpar_user_nt_iret:
    pushfl
    orl $0x4000, (%esp)
    popfl
    pushfl
    pushl %cs
    pushl $1f
    iret
1:  int $0x80
    ud2

    .globl lpar_user_hcall        /* an hcall from ring 3: must not reach the hypervisor */
lpar_user_hcall:
    pushl $0
    pushl $0
    pushl $0x04             /* H_SET_DABR's neighbour: any number; it must not be dispatched */
    int $0x82
    ud2

    .globl lpar_user_fast_switch  /* the switcher's switch from ring 3: #GP, nothing loaded */
lpar_user_fast_switch:
    xorl %eax, %eax
    int $0x84
    ud2

    .globl lpar_user_fast_tls     /* the switcher's TLS change from ring 3: #GP, nothing loaded */
lpar_user_fast_tls:
    xorl %eax, %eax
    int $0x85
    ud2

    .globl lpar_user_cli          /* a privileged instruction in ring 3: #GP, not emulated */
lpar_user_cli:
    cli
    ud2

    .globl lpar_user_iret_vm86    /* iret with VM set in the popped EFLAGS to cs:ebx */
lpar_user_iret_vm86:              /* (ebx: code that sets eax = 7 and does int $0x80, where V86 */
    pushl $0                      /* mode's cs * 16 + ebx holds a hlt: ia32.cpp) */
    pushl $0                      /* gs, fs, ds, es, ss, esp: what a return to V86 would pop */
    pushl $0
    pushl $0
    pushl $0
    pushl $0x100
    pushl $0x20202                /* VM, IF */
    pushl %cs
    pushl %ebx
    iret                          /* at CPL 3 the CPU ignores VM; QEMU enters V86 mode */

/* iret to V86 mode at cs:ip = ebx:0 with null es, ds, fs, gs and the given ss, esp, eflags. */
.macro IRET_V86 ss, esp, eflags
    pushl $0
    pushl $0
    pushl $0
    pushl $0
    pushl \ss
    pushl \esp
    pushl \eflags
    pushl %ebx
    pushl $0
    iret
.endm

    .globl lpar_user_iret_vm86_k  /* the same to cs:ip = ebx:0 with ss:esp = KDATA:ecx, where */
lpar_user_iret_vm86_k:            /* the low bits of ebx and KDATA are ring 1's (ia32.cpp) */
    IRET_V86 $KDATA, %ecx, $0x20202

    .globl lpar_user_vm86_sysexit /* iret to V86 mode at cs:ip = ebx:0 with IOPL 3 (QEMU */
lpar_user_vm86_sysexit:           /* loads it from ring 3), whose code asks sysenter for */
    movl $1f, %edx                /* sysexit to edx on ecx: there, eax = eflags, int $0x80 */
    movl %esp, %ecx
    IRET_V86 $0, $0x100, $0x23202 /* VM, IOPL 3, IF */
1:  pushfl
    popl %eax
    int $0x80

    .globl lpar_user_vm86_iopl3   /* iret to V86 mode at cs:ip = ebx:0 with IOPL 3 and IF */
lpar_user_vm86_iopl3:             /* (QEMU loads both from ring 3) */
    IRET_V86 $0, $0x100, $0x23202

    .globl lpar_user_read         /* eax = [ebx], then int $0x80 */
lpar_user_read:
    movl (%ebx), %eax
    int $0x80
    ud2

    .globl lpar_user_iret_stack   /* iret with esp = ebx: its pops fault (a user read) */
lpar_user_iret_stack:
    movl %ebx, %esp
    .globl lpar_user_iret_stack_insn
lpar_user_iret_stack_insn:
    iret
    ud2

    .globl lpar_user_lret_stack   /* lret with esp = ebx: its pops fault (a user read) */
lpar_user_lret_stack:
    movl %ebx, %esp
    .globl lpar_user_lret_stack_insn
lpar_user_lret_stack_insn:
    lret
    ud2

    .globl lpar_user_spin         /* until [ebx] != ecx (an interrupt changed it): int $0x80 */
lpar_user_spin:
    movl $200000000, %esi
1:  cmpl (%ebx), %ecx
    jne 2f
    decl %esi
    jnz 1b
2:  movl (%ebx), %eax
    int $0x80
    ud2

    .globl lpar_user_load_es      /* es = bx, then int $0x80 with eax = 7 (a #GP skips it) */
lpar_user_load_es:
    movw %bx, %es
    movl $7, %eax
    int $0x80
    ud2

    .globl lpar_user_probe_sel    /* eax bits 0..3 = ZF of lar, lsl, verr, verw of selector bx */
lpar_user_probe_sel:
    call lpar_probe_sel
    int $0x80
    ud2

    .globl lpar_user_far_call     /* lcall *(%ebx) with eax = 0, then int $0x80 */
lpar_user_far_call:
    xorl %eax, %eax
    lcall *(%ebx)
    int $0x80
    ud2

    .globl lpar_user_sysenter     /* eax = 0x5e, ebp = esp, sysenter (never returns here) */
lpar_user_sysenter:
    movl $0x5e, %eax
    movl %esp, %ebp
    .globl lpar_user_sysenter_insn
lpar_user_sysenter_insn:
    sysenter
    ud2

    .globl lpar_user_sysenter_tf  /* the same with TF set by popfl just before the sysenter */
lpar_user_sysenter_tf:
    movl $0x5e, %eax
    movl %esp, %ebp
    pushfl
    orl $0x100, (%esp)
    popfl
    sysenter
    ud2

/* The ring-1 sysenter entry of the checks: notes esp, eflags, cs, ss and ebp in
 * lpar_sysenter_seen, drops TF and NT, and goes back to lpar_run_user's caller with the
 * process's eax. DS is still the process's: every store goes through %ss. */
    .globl lpar_sysenter_entry, lpar_sysenter_entry_step
lpar_sysenter_entry:
    movl %esp, %ss:lpar_sysenter_seen
lpar_sysenter_entry_step:
    pushfl
    popl %ss:lpar_sysenter_seen + 4
    movw %cs, %ss:lpar_sysenter_seen + 8
    movw %ss, %ss:lpar_sysenter_seen + 12
    movl %ebp, %ss:lpar_sysenter_seen + 16
    pushl $2
    popfl
    jmp lpar_user_return

/* u32 lpar_probe_sel(u32 sel in ebx): bits 0..3 = ZF after lar, lsl, verr, verw (1: the CPU
 * found a descriptor it calls valid). Any ring; clobbers ecx. */
    .globl lpar_probe_sel
lpar_probe_sel:
    xorl %eax, %eax
    larl %ebx, %ecx
    jnz 1f
    orl $1, %eax
1:  lsll %ebx, %ecx
    jnz 2f
    orl $2, %eax
2:  verr %bx
    jnz 3f
    orl $4, %eax
3:  verw %bx
    jnz 4f
    orl $8, %eax
4:  ret

/* The target of the forged call gates of the LDT checks: must never run (it would run in ring
 * 0). eax = "RIN0", then back to the caller's ring. */
    .globl lpar_ring0_probe
lpar_ring0_probe:
    movl $0x304e4952, %eax
    lret

    .data
    .balign 4
user_saved_esp: .long 0
    .globl lpar_sysenter_seen
lpar_sysenter_seen: .long 0, 0, 0, 0, 0
hcall_saved_esp: .long 0

    .section .note.GNU-stack, "", @progbits
