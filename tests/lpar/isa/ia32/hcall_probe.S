/*
 * void lpar_hcall_probe(const u64 block[10], ProbeDump* dump, const u32 pattern[6]): loads
 * ebx, ecx, edx, esi, edi, ebp with the pattern, makes the hcall with the block on the stack,
 * stores what those registers hold afterwards, esp before and after, eax and the results.
 * ProbeDump (isa.cpp): u32 regs[6], esp_before, esp_after, eax; u64 rets[9].
 */
    .text
    .globl lpar_hcall_probe
lpar_hcall_probe:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 24(%esp), %eax
    movl %eax, probe_dump
    movl 28(%esp), %eax
    movl 20(%esp), %esi
    subl $80, %esp
    movl %esp, %edi
    movl $20, %ecx
    cld
    rep movsl
    movl 0(%eax), %ebx
    movl 4(%eax), %ecx
    movl 8(%eax), %edx
    movl 12(%eax), %esi
    movl 16(%eax), %edi
    movl 20(%eax), %ebp
    movl %esp, probe_esp
    int $0x82
    movl %eax, probe_eax
    movl probe_dump, %eax
    movl %ebx, 0(%eax)
    movl %ecx, 4(%eax)
    movl %edx, 8(%eax)
    movl %esi, 12(%eax)
    movl %edi, 16(%eax)
    movl %ebp, 20(%eax)
    movl probe_esp, %ecx
    movl %ecx, 24(%eax)
    movl %esp, 28(%eax)
    movl probe_eax, %ecx
    movl %ecx, 32(%eax)
    leal 36(%eax), %edi
    leal 8(%esp), %esi
    movl $18, %ecx
    rep movsl
    addl $80, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .bss
    .balign 4
probe_dump: .long 0
probe_esp: .long 0
probe_eax: .long 0

    .section .note.GNU-stack, "", @progbits
