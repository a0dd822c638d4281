/*
 * ia32 test-LPAR start code, at logical 0, entered in ring 1 with eax = vcpu index, edx = memory
 * size, ecx = vcpu count, ebx = TSC kHz (docs/ia32.md). Each vcpu takes its 32 KiB stack slot;
 * vcpu 0 clears .bss while the others wait; then lpar_isa_start(index, memory, vcpus, cs, ss,
 * eflags, tsc_khz).
 */
#define MAX_VCPUS 8
#define STACK_SHIFT 15
#define H_TESSERA_TEST_EXIT 0xF00E
#define IRET_VECTOR 0x83

    .section .text.entry, "ax"
    .globl _start
_start:
    cmpl $MAX_VCPUS, %eax
    jae bad_vcpu
    movl %eax, %ebp
    incl %ebp
    shll $STACK_SHIFT, %ebp
    leal lpar_stacks(%ebp), %esp
    xorl %ebp, %ebp
    pushl %ebx              /* tsc_khz */
    pushfl                  /* eflags */
    movl %ss, %ebx
    pushl %ebx
    movl %cs, %ebx
    pushl %ebx
    pushl %ecx
    pushl %edx
    pushl %eax
    cld
    testl %eax, %eax
    jnz 2f
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $1, lpar_bss_ready
    jmp 3f
2:  pause
    cmpl $0, lpar_bss_ready
    je 2b
3:  call lpar_isa_start
4:  jmp 4b

bad_vcpu:                       /* no stack for this vcpu: end the LPAR with one failure */
    movl $bad_block, %esp
    int $0x82
    jmp bad_vcpu

/* i32 lpar_hcall_block(u64 block[10]): the block goes on the stack for int $0x82, the results
 * (slots 1..9) are copied back into it. */
    .text
    .globl lpar_hcall_block
lpar_hcall_block:
    pushl %esi
    pushl %edi
    movl 12(%esp), %esi
    subl $80, %esp
    movl %esp, %edi
    movl $20, %ecx
    cld
    rep movsl
    int $0x82
    movl 80+12(%esp), %edi
    leal 8(%esp), %esi
    addl $8, %edi
    movl $18, %ecx
    rep movsl
    addl $80, %esp
    popl %edi
    popl %esi
    ret

/*
 * The IDT's entries (isa.cpp fills the table): one 16-byte stub per vector. The hypervisor
 * delivers exceptions and virtual interrupts as the CPU would through an interrupt gate on the
 * ring-1 stack: [error code,] eip, cs, eflags (with the virtual IF), and esp, ss when ring 3
 * was interrupted; the stub pushes a zero error code where there is none and the vector, so
 * that pushal completes a lpar::isa::TrapFrame. lpar_trap(frame) runs on a 16-byte aligned
 * stack; the return is the iret gate (int $0x83), which pops eip, cs, eflags (esp, ss) and sets
 * the virtual IF from the popped EFLAGS.IF.
 */
.macro STUB vec
    .balign 16
    .if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17)
    .else
    pushl $0
    .endif
    pushl $\vec
    jmp lpar_trap_entry
.endm

    .balign 16
    .globl lpar_idt_stubs
lpar_idt_stubs:
    .set vec, 0
    .rept 256
    STUB vec
    .set vec, vec + 1
    .endr

lpar_trap_entry:
    pushal
    cld
    movl %esp, %ebx
    movl %esp, %eax
    andl $-16, %esp
    subl $12, %esp
    pushl %eax
    call lpar_trap
    movl %ebx, %esp
    popal
    addl $8, %esp           /* vector, error code */
    int $IRET_VECTOR

/* void lpar_irq_sync(): an iret gate to the next instruction with the real EFLAGS (IF is 1
 * there): the hypervisor sets the virtual IF and delivers what is pending before returning. */
    .globl lpar_irq_sync
lpar_irq_sync:
    pushfl
    pushl %cs
    pushl $1f
    int $IRET_VECTOR
1:  ret

    .data
    .balign 8
bad_block:
    .long H_TESSERA_TEST_EXIT, 0, 0, 0, 1, 0
    .space 56
bad_block_end:
    .balign 4
lpar_bss_ready:                 /* in .data: it must be 0 before .bss is cleared */
    .long 0

    .section .lpar_stacks, "aw", @nobits
    .balign 4096
    .globl lpar_stacks
lpar_stacks:
    .space MAX_VCPUS << STACK_SHIFT

    .section .note.GNU-stack, "", @progbits
