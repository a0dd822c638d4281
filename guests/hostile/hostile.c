/* tessera-hostile: hostile user space for the soak (docs/reliability.md, scripts/soak).
 *
 *   tessera-hostile SECONDS [SEED]
 *
 * For SECONDS, forks children one after the other; each child drops to uid/gid 65534 with
 * small limits (no root: a random kill(-1) or reboot must not end the LPAR's own checks) and
 * runs one attack for at most a second (its alarm); every fifth child keeps root instead, for
 * attacks that need it but cannot end the LPAR's own checks (`root`):
 *   code      random instruction streams in mmap'd executable pages (the ISA's own tricks
 *             mixed in: ia32 far calls, int N, sysenter (also with TF and NT set, and with the
 *             PV kernel's sysexit request in ebp), segment loads; ppc64 mfspr/mtspr of
 *             random SPRs, sc 1, mtmsrd); on ia32 first `cli; jmp .` in virtual-8086 mode with
 *             IOPL 3, which QEMU's iret enters from ring 3 (the real IF clear: only pc's NMI
 *             watchdog takes the CPU back, and the process gets a signal)
 *   syscall   system calls with random numbers and arguments (a few that only waste the
 *             child's time are skipped), ia32 with random EFLAGS (DF, TF, AC, NT, IOPL bits)
 *             and segment registers set around the int $0x80
 *   segments  (ia32) modify_ldt with random descriptors (call gates, DPL 0, code, data),
 *             then loads of random GDT/LDT selectors into ds, es, fs, gs, ss and far jumps;
 *             (ppc64) random SPR accesses
 *   sigreturn signal handlers that change their frame at random before returning (ia32:
 *             cs, ss, ds, es, fs, gs, eflags, eip, esp; ppc64: MSR bits, nip), and raw
 *             sigreturn/rt_sigreturn over a stack of random bytes
 *   root      (as root) /dev/mem mapped and read at addresses past the LPAR's memory and at
 *             random ones above its RAM; ia32: iopl(3)/ioperm, then port I/O that would reset
 *             or reprogram the machine (0xfe to port 0x64, 6 to 0xcf9, 1 to 0x92, the PIC, PIT
 *             and CMOS ports, random ports) and cli/hlt; ppc64: the rtas system call with the
 *             firmware's own tokens (those that stop or reboot the LPAR or write to the console
 *             left out) and random
 *             ones, with random arguments. Every port access must fault (SIGSEGV), and the
 *             machine must not reset; the summary counts accesses that went through.
 * Fatal signals in a child are caught on an alternate stack and counted in a page shared with
 * the parent (the child then jumps back and tries again, or just dies). At the end one line:
 *   hostile: N children run (code A, syscall B, segments C, sigreturn D); signals seen:
 *   SEGV s ILL i BUS b TRAP t FPE f other o; children ended by signal K, at their alarm A,
 *   killed after 3 s T; root: M /dev/mem maps (G read through), P port accesses (Q went
 *   through), R rtas calls
 * and on ia32 a second: hostile: v86 cli loops: V tried, W came back, A ended there at their
 * time limit, O otherwise
 * One source for both targets (the ISA parts under __i386__ and __powerpc64__), linked
 * statically by scripts/guest-tools hostile TARGET; never committed as a binary. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if !defined(__i386__) && !defined(__powerpc64__)
#error "tessera-hostile: i386 or powerpc64 only"
#endif

#define NOBODY 65534
#define CHILD_SECONDS 1
#define PAGE 4096
#define CODE_PAGES 4

enum { SIG_SEGV, SIG_ILL, SIG_BUS, SIG_TRAP, SIG_FPE, SIG_OTHER, SIG_KINDS };
enum { MODE_CODE, MODE_SYSCALL, MODE_SEGMENTS, MODE_SIGRETURN, MODE_ROOT, MODES };
static const char* const mode_names[MODES] = {"code", "syscall", "segments", "sigreturn", "root"};

/* Shared with the parent (MAP_SHARED before fork); children only add. */
struct shared {
    volatile unsigned long signals[SIG_KINDS];
    volatile unsigned long devmem_maps, devmem_reads, ports, ports_through, rtas_calls;
    volatile unsigned long v86_tried, v86_back;
    /* Set by the child while it is in its V86 loop (one child at a time): the parent counts a
     * child that ended there by how (its alarm or CPU limit, or else). */
    volatile unsigned long v86_open, v86_alarm, v86_other;
};
static struct shared* shared;

/* ------------------------------------------------------------------ random numbers */
static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static unsigned long rnd_below(unsigned long n) {
    return (unsigned long)(rnd() % n);
}

/* A value biased to edges: small numbers, all-ones, sign bits, page edges, pointers near our
 * own data and stack, and the kernel's half of the address space. */
static unsigned long rnd_arg(void) {
    static char here;
    switch (rnd_below(10)) {
    case 0:
        return rnd_below(16);
    case 1:
        return (unsigned long)-1 - rnd_below(4);
    case 2:
        return 1UL << rnd_below(sizeof(long) * 8);
    case 3:
        return (unsigned long)&here + rnd_below(2 * PAGE) - PAGE;
    case 4:
        return (unsigned long)__builtin_frame_address(0) - rnd_below(PAGE);
    case 5:
        return ((unsigned long)rnd() & ~(unsigned long)(PAGE - 1)) | (PAGE - rnd_below(8));
#ifdef __i386__
    case 6:
        return 0xc0000000UL + (unsigned long)rnd_below(0x40000000UL); /* kernel, switcher */
#else
    case 6:
        return 0xc000000000000000UL + (unsigned long)rnd_below(1UL << 40);
#endif
    default:
        return (unsigned long)rnd();
    }
}

#ifdef __i386__
/* hostile_int80(b): int $0x80 with eax = nr, ebx..ebp = a[0..5], EFLAGS = eflags and es = sel
 * (a bad selector faults before the int); restores the flags, segments and registers. */
struct int80_block {
    long nr;              /* 0 */
    unsigned long a[6];   /* 4 */
    unsigned long eflags; /* 28 */
    unsigned long sel;    /* 32 */
};
long hostile_int80(const struct int80_block* b);
__asm__(".text\n"
        ".globl hostile_int80\n"
        "hostile_int80:\n"
        "    pushfl\n"
        "    pushl %ebp\n"
        "    pushl %ebx\n"
        "    pushl %esi\n"
        "    pushl %edi\n"
        "    pushl %ds\n"
        "    pushl %es\n"
        "    movl 32(%esp), %eax\n" /* b: 7 pushes and the return address */
        "    movl 32(%eax), %ecx\n"
        "    movw %cx, %es\n"
        "    pushl 28(%eax)\n"
        "    movl 4(%eax), %ebx\n"
        "    movl 8(%eax), %ecx\n"
        "    movl 12(%eax), %edx\n"
        "    movl 16(%eax), %esi\n"
        "    movl 20(%eax), %edi\n"
        "    movl 24(%eax), %ebp\n"
        "    movl 0(%eax), %eax\n"
        "    popfl\n"
        "    int $0x80\n"
        "    popl %es\n"
        "    popl %ds\n"
        "    popl %edi\n"
        "    popl %esi\n"
        "    popl %ebx\n"
        "    popl %ebp\n"
        "    popfl\n"
        "    ret\n");
#endif

/* ------------------------------------------------------------------ signals */
static sigjmp_buf retry;
static volatile int can_retry;

/* Random code and frames may change the thread pointer glibc needs (ia32: gs, ppc64: r13):
 * the handlers put it back first. */
#ifdef __i386__
static unsigned short saved_gs;
static void save_tls(void) {
    __asm__ volatile("movw %%gs, %0" : "=m"(saved_gs));
}
#define RESTORE_TLS() __asm__ volatile("movw %0, %%gs\n\tcld" ::"m"(saved_gs))
#else
static unsigned long saved_tp;
static void save_tls(void) {
    __asm__ volatile("mr %0, 13" : "=r"(saved_tp));
}
#define RESTORE_TLS() __asm__ volatile("mr 13, %0" ::"r"(saved_tp))
#endif

static int kind_of(int sig) {
    switch (sig) {
    case SIGSEGV:
        return SIG_SEGV;
    case SIGILL:
        return SIG_ILL;
    case SIGBUS:
        return SIG_BUS;
    case SIGTRAP:
        return SIG_TRAP;
    case SIGFPE:
        return SIG_FPE;
    default:
        return SIG_OTHER;
    }
}

static void on_fault(int sig, siginfo_t* si, void* uc) {
    RESTORE_TLS();
    (void)si;
    (void)uc;
    __atomic_add_fetch(&shared->signals[kind_of(sig)], 1, __ATOMIC_RELAXED);
    if (can_retry) siglongjmp(retry, 1);
    _exit(100 + sig);
}

static void catch_faults(void) {
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    static const int sigs[] = {SIGSEGV, SIGILL,  SIGBUS,  SIGTRAP, SIGFPE, SIGSYS,
                               SIGXFSZ, SIGPIPE, SIGUSR1, SIGUSR2, SIGXCPU};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; ++i) sigaction(sigs[i], &sa, NULL);
}

/* ------------------------------------------------------------------ random code */
static unsigned char* code;

static void flush_code(void) {
    __builtin___clear_cache((char*)code, (char*)code + CODE_PAGES * PAGE);
}

#ifdef __i386__
/* Some instructions random bytes rarely form, written at random places in the page. */
static void plant_isa_tricks(void) {
    for (int n = rnd_below(8); n > 0; --n) {
        unsigned char* p = code + rnd_below(CODE_PAGES * PAGE - 16);
        unsigned long v = rnd_arg();
        switch (rnd_below(11)) {
        case 0: /* lcall $sel, $off */
            p[0] = 0x9a;
            memcpy(p + 1, &v, 4);
            p[5] = (unsigned char)rnd();
            p[6] = (unsigned char)rnd();
            break;
        case 1: /* ljmp $sel, $off */
            p[0] = 0xea;
            memcpy(p + 1, &v, 4);
            p[5] = (unsigned char)rnd();
            p[6] = (unsigned char)rnd();
            break;
        case 2:
            p[0] = 0xcd, p[1] = (unsigned char)rnd();
            break; /* int N */
        case 3:
            p[0] = 0x0f, p[1] = 0x34;
            break; /* sysenter */
        case 4:
            p[0] = 0x0f, p[1] = 0x05;
            break; /* syscall */
        case 5:
            p[0] = 0x8e, p[1] = 0xd8 + (unsigned char)rnd_below(40);
            break; /* mov r, sreg */
        case 6:
            p[0] = 0x9d;
            break; /* popf */
        case 7:
            p[0] = 0xcf;
            break; /* iret */
        case 9: /* mov $0xffc0ffee, %ebp; sysenter: the PV kernel's request for sysexit (pc) */
            p[0] = 0xbd, p[1] = 0xee, p[2] = 0xff, p[3] = 0xc0, p[4] = 0xff;
            p[5] = 0x0f, p[6] = 0x34;
            break;
        case 10: /* pushf; orl $0x4100, (%esp) (TF, NT); popf; sysenter */
            p[0] = 0x9c, p[1] = 0x81, p[2] = 0x0c, p[3] = 0x24;
            p[4] = 0x00, p[5] = 0x41, p[6] = 0x00, p[7] = 0x00, p[8] = 0x9d;
            p[9] = 0x0f, p[10] = 0x34;
            break;
        default:
            p[0] = 0x0f, p[1] = (unsigned char)rnd_below(4), p[2] = (unsigned char)rnd();
            break;
        }
    }
}
#else
static uint32_t spr_field(unsigned spr) {
    return ((spr & 0x1f) << 16) | ((spr >> 5) << 11);
}
static uint32_t mfspr_word(unsigned rt, unsigned spr) {
    return (31u << 26) | (rt << 21) | spr_field(spr) | (339u << 1);
}
static uint32_t mtspr_word(unsigned rs, unsigned spr) {
    return (31u << 26) | (rs << 21) | spr_field(spr) | (467u << 1);
}
static void plant_isa_tricks(void) {
    uint32_t* w = (uint32_t*)code;
    for (int n = rnd_below(16); n > 0; --n) {
        uint32_t* p = w + rnd_below(CODE_PAGES * PAGE / 4);
        switch (rnd_below(7)) {
        case 0:
            *p = mfspr_word(rnd_below(32), rnd_below(1024));
            break;
        case 1:
            *p = mtspr_word(rnd_below(32), rnd_below(1024));
            break;
        case 2:
            *p = 0x44000022;
            break; /* sc 1 */
        case 3:
            *p = 0x44000002;
            break; /* sc */
        case 4:
            *p = 0x7c000164 | (rnd_below(32) << 21);
            break; /* mtmsrd rS */
        case 5:
            *p = 0x4c000024;
            break; /* rfid */
        default:
            *p = 0x4c000224;
            break; /* hrfid */
        }
    }
}
#endif

static void run_random_code(void) {
    for (int rounds = 0; rounds < 200; ++rounds) {
        can_retry = 0;
        const int fill = (int)rnd_below(CODE_PAGES) * PAGE; /* one new page per round */
        for (int i = fill; i < fill + PAGE; i += 8) {
            uint64_t v = rnd();
            memcpy(code + i, &v, 8);
        }
        plant_isa_tricks();
        flush_code();
        if (sigsetjmp(retry, 1) == 0) {
            can_retry = 1;
            unsigned long entry = (unsigned long)code + (rnd_below(CODE_PAGES * PAGE) & ~3UL);
#ifdef __i386__
            /* Random registers and flags on entry; the stack stays ours. */
            unsigned long fl = rnd() & 0x00247fd7UL; /* CF..OF, DF, TF, NT, IOPL, AC, ID */
            __asm__ volatile("pushl %0\n\tpopfl\n\tcall *%1" ::"m"(fl), "m"(entry),
                             "a"((unsigned long)rnd()), "d"((unsigned long)rnd())
                             : "ebx", "ecx", "esi", "edi", "memory", "cc");
#else
            void (*fn)(void) = (void (*)(void))entry;
            fn();
#endif
        }
    }
}

/* ------------------------------------------------------------------ system calls */
static int skip_syscall(long nr) {
    switch (nr) {
#ifdef SYS_pause
    case SYS_pause:
#endif
#ifdef SYS_vfork
    case SYS_vfork:
#endif
#ifdef SYS_exit_group
    case SYS_exit_group:
#endif
    case SYS_exit:
        return 1;
    default:
        return 0;
    }
}

static void run_random_syscalls(void) {
    for (int i = 0; i < 1000; ++i) {
        can_retry = 0;
        long nr = (long)rnd_below(rnd_below(8) == 0 ? 1024 : 460);
        if (skip_syscall(nr)) continue;
        unsigned long a[6];
        for (int k = 0; k < 6; ++k) a[k] = rnd_arg();
        if (sigsetjmp(retry, 1) != 0) continue;
        can_retry = 1;
#ifdef __i386__
        if (rnd_below(2)) {
            /* int $0x80 with random EFLAGS (DF, TF, AC, NT, IOPL attempts) and, half of the
             * time, a random selector in es. */
            struct int80_block b = {nr,
                                    {a[0], a[1], a[2], a[3], a[4], a[5]},
                                    (unsigned long)(rnd() & 0x00247fd7UL) & ~0x100UL,
                                    rnd_below(2) ? 0x7bUL : (unsigned long)rnd_below(0x10000)};
            if (rnd_below(8) == 0) b.eflags |= 0x100; /* TF: a trap after the int */
            hostile_int80(&b);
            continue;
        }
#endif
        syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

/* ------------------------------------------------------------------ segments / SPRs */
#ifdef __i386__
struct raw_desc {
    uint32_t lo, hi;
};

static void run_segments(void) {
    for (int i = 0; i < 1000; ++i) {
        can_retry = 0;
        if (sigsetjmp(retry, 1) != 0) continue;
        can_retry = 1;
        if (rnd_below(3) == 0) {
            /* modify_ldt: func 1/0x11 with a user_desc of random bits, or func 0 reading. */
            unsigned char desc[16];
            for (int k = 0; k < 16; k += 4) {
                uint32_t v = (uint32_t)rnd();
                memcpy(desc + k, &v, 4);
            }
            desc[0] = (unsigned char)rnd_below(16), desc[1] = desc[2] = desc[3] = 0; /* entry */
            static const unsigned long funcs[] = {0, 1, 2, 0x11};
            syscall(SYS_modify_ldt, funcs[rnd_below(4)], desc, rnd_below(4) ? 16 : rnd_arg());
            continue;
        }
        unsigned short sel =
            (unsigned short)(rnd_below(2) ? (rnd_below(32) << 3) | 4 | rnd_below(4) : rnd());
        switch (rnd_below(6)) {
        case 0:
            __asm__ volatile("pushl %%ds\n\tmovw %0, %%ds\n\tpopl %%ds" ::"m"(sel));
            break;
        case 1:
            __asm__ volatile("pushl %%es\n\tmovw %0, %%es\n\tpopl %%es" ::"m"(sel));
            break;
        case 2:
            __asm__ volatile("movw %0, %%fs" ::"m"(sel));
            break;
        case 3: /* gs is glibc's TLS: restore it at once */
            __asm__ volatile("pushl %%gs\n\tmovw %0, %%gs\n\tpopl %%gs" ::"m"(sel));
            break;
        case 4:
            __asm__ volatile("pushl %%ss\n\tmovw %0, %%ss\n\tpopl %%ss" ::"m"(sel));
            break;
        default: { /* far call through a random selector: a call gate, a DPL 0 code segment */
            struct __attribute__((packed)) {
                uint32_t off;
                uint16_t sel;
            } far = {(uint32_t)rnd_arg(), sel};
            __asm__ volatile("lcall *%0" ::"m"(far) : "memory");
            break;
        }
        }
    }
}
#else
static void run_segments(void) { /* ppc64: random SPR reads and writes, one per page */
    uint32_t* w = (uint32_t*)code;
    for (int i = 0; i < 1000; ++i) {
        can_retry = 0;
        unsigned spr = rnd_below(4) == 0 ? rnd_below(1024) : (unsigned)rnd_below(1024);
        w[0] = rnd_below(2) ? mfspr_word(3, spr) : mtspr_word(3, spr);
        w[1] = 0x4e800020; /* blr */
        flush_code();
        if (sigsetjmp(retry, 1) != 0) continue;
        can_retry = 1;
        unsigned long v = rnd_arg();
        __asm__ volatile("mr 3, %0\n\tmr 12, %1\n\tmtctr 12\n\tbctrl" ::"r"(v), "r"(code)
                         : "r3", "r12", "ctr", "lr", "memory", "cc", "r0", "r4", "r5", "r6", "r7",
                           "r8", "r9", "r10", "r11");
    }
}
#endif

/* ------------------------------------------------------------------ sigreturn */
static void mangle_frame(int sig, siginfo_t* si, void* ucv) {
    (void)sig;
    (void)si;
    RESTORE_TLS();
    ucontext_t* uc = ucv;
#ifdef __i386__
    static const int regs[] = {REG_CS, REG_SS,  REG_DS,  REG_ES,  REG_FS,
                               REG_GS, REG_EFL, REG_EIP, REG_ESP, REG_UESP};
    for (int n = 1 + rnd_below(3); n > 0; --n) {
        int r = regs[rnd_below(sizeof regs / sizeof regs[0])];
        unsigned long v = rnd_arg();
        if (r == REG_EFL && rnd_below(2)) v = uc->uc_mcontext.gregs[r] | (rnd() & 0x00247fd7UL);
        if (r != REG_EFL && r != REG_EIP && r != REG_ESP && r != REG_UESP && rnd_below(2))
            v = (rnd_below(32) << 3) | rnd_below(8); /* a small selector: GDT, LDT, any RPL */
        uc->uc_mcontext.gregs[r] = (greg_t)v;
    }
#else
    for (int n = 1 + rnd_below(3); n > 0; --n) {
        switch (rnd_below(4)) {
        case 0:
            uc->uc_mcontext.gp_regs[PT_MSR] ^= 1UL << rnd_below(64);
            break;
        case 1:
            uc->uc_mcontext.gp_regs[PT_MSR] = rnd();
            break;
        case 2:
            uc->uc_mcontext.gp_regs[PT_NIP] = rnd_arg();
            break;
        default:
            uc->uc_mcontext.gp_regs[1 + rnd_below(31)] = rnd_arg();
            break;
        }
    }
#endif
}

static void run_sigreturn(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = mangle_frame;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < 500; ++i) {
        can_retry = 0;
        if (sigsetjmp(retry, 1) != 0) {
            sigaction(SIGUSR1, &sa, NULL);
            continue;
        }
        can_retry = 1;
        if (rnd_below(3)) {
            raise(SIGUSR1); /* the handler returns through a frame it changed */
            continue;
        }
        /* A raw (rt_)sigreturn over a stack of random bytes. */
        unsigned long frame[256];
        for (unsigned k = 0; k < sizeof frame / sizeof frame[0]; ++k) frame[k] = rnd_arg();
#ifdef __i386__
        long nr = rnd_below(2) ? SYS_sigreturn : SYS_rt_sigreturn;
        __asm__ volatile(
            "movl %%esp, %%ebx\n\tmovl %1, %%esp\n\tint $0x80\n\tmovl %%ebx, %%esp" ::"a"(nr),
            "r"(frame + 8)
            : "ebx", "memory", "cc");
#else
        __asm__ volatile("mr 31, 1\n\tmr 1, %0\n\tli 0, %1\n\tsc\n\tmr 1, 31" ::"r"(frame + 64),
                         "i"(SYS_rt_sigreturn)
                         : "r0", "r31", "memory", "cc");
#endif
    }
}

/* ------------------------------------------------------------------ the child */
static void limit(int what, rlim_t n) {
    struct rlimit r = {n, n};
    setrlimit(what, &r);
}

/* ------------------------------------------------------------------ root */
static void count(volatile unsigned long* c) {
    __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

#ifdef __i386__
/* `cli; jmp .` in virtual-8086 mode with IOPL 3 and IF: QEMU enters V86 mode from ring 3's iret
 * and loads the popped IOPL and IF there (a CPU ignores VM at CPL 3 and faults on the selector
 * 0x1000), so the cli clears the real IF. Under Tessera on pc the NMI watchdog takes the CPU
 * back and the process gets #GP (SIGSEGV): it comes back here through the handler. Without the
 * watchdog the CPU would stay in the loop for good. */
static void v86_cli_loop(void) {
    unsigned char* low = mmap((void*)0x10000, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (low == MAP_FAILED) return;
    low[0] = 0xfa, low[1] = 0xeb, low[2] = 0xfe; /* cli; jmp . at linear 0x10000 = 0x1000:0 */
    count(&shared->v86_tried);
    can_retry = 0;
    if (sigsetjmp(retry, 1) == 0) {
        can_retry = 1;
        shared->v86_open = 1;
        __asm__ volatile("pushl $0\n\tpushl $0\n\tpushl $0\n\tpushl $0\n\t" /* gs, fs, ds, es */
                         "pushl $0\n\tpushl $0x100\n\t"  /* ss, sp */
                         "pushl $0x23202\n\t"            /* VM, IOPL 3, IF */
                         "pushl $0x1000\n\tpushl $0\n\t" /* cs, ip */
                         "iret" ::
                             : "memory");
        return; /* not reached */
    }
    can_retry = 0;
    shared->v86_open = 0;
    count(&shared->v86_back);
    munmap(low, PAGE);
}
#endif

/* The end of the LPAR's RAM as /proc/iomem's last "System RAM" line says (0 if unknown). */
static unsigned long long ram_end(void) {
    FILE* f = fopen("/proc/iomem", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long end = 0, a, b;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "System RAM") && sscanf(line, " %llx-%llx", &a, &b) == 2 && b + 1 > end)
            end = b + 1;
    fclose(f);
    return end;
}

/* /dev/mem past the LPAR's memory: a mapping the kernel grants (it is not RAM) must not reach
 * anything; a read that returns counts as "read through" (expected 0: the hypervisor refuses
 * the translation and the access faults). */
static void devmem_attacks(void) {
    int fd = open("/dev/mem", O_RDONLY | O_SYNC);
    if (fd < 0) return;
    const unsigned long long end = ram_end();
    for (int i = 0; i < 16; ++i) {
        unsigned long long off;
        switch (rnd_below(3)) {
        case 0:
            off = end;
            break;
        case 1:
            off = end + (rnd_below(1UL << 20) << 12);
            break;
        default:
            off = (unsigned long long)(rnd() & ((1ULL << 44) - 1)) & ~0xfffULL;
            break;
        }
        if (off < end) continue; /* never its own RAM */
        void* p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)off);
        if (p == MAP_FAILED) continue;
        count(&shared->devmem_maps);
        can_retry = 0;
        if (sigsetjmp(retry, 1) == 0) {
            can_retry = 1;
            volatile unsigned long v = *(volatile unsigned long*)p;
            (void)v;
            can_retry = 0;
            count(&shared->devmem_reads);
        }
        can_retry = 0;
        munmap(p, PAGE);
    }
    close(fd);
}

#ifdef __i386__
/* Port I/O from ring 3 that would reset or reprogram the machine if it reached the hardware. */
static void isa_root_attacks(void) {
    static const struct {
        volatile unsigned short port;
        volatile unsigned char value;
    } dangerous[] = {{0x64, 0xfe}, {0xcf9, 0x06}, {0x92, 0x01}, {0x20, 0x11}, {0x21, 0xff},
                     {0xa0, 0x11}, {0x43, 0x30},  {0x40, 0x00}, {0x70, 0x8f}, {0x71, 0x00}};
    syscall(SYS_iopl, 3);
    syscall(SYS_ioperm, 0UL, 0x10000UL, 1UL);
    for (int i = 0; i < 64; ++i) {
        volatile unsigned short port;
        volatile unsigned char value;
        if (rnd_below(2)) {
            const unsigned k = (unsigned)rnd_below(sizeof dangerous / sizeof dangerous[0]);
            port = dangerous[k].port, value = dangerous[k].value;
        } else {
            port = (unsigned short)rnd_below(0x10000), value = (unsigned char)rnd();
        }
        count(&shared->ports);
        can_retry = 0;
        if (sigsetjmp(retry, 1) != 0) continue;
        can_retry = 1;
        const unsigned short p = port;
        const unsigned char v = value;
        switch (rnd_below(4)) {
        case 0:
            __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p));
            break;
        case 1: {
            unsigned char in;
            __asm__ volatile("inb %1, %0" : "=a"(in) : "Nd"(p));
            break;
        }
        case 2:
            __asm__ volatile("cli; hlt; sti");
            break;
        default:
            __asm__ volatile("outl %0, %1" ::"a"((unsigned)rnd()), "Nd"(p));
            break;
        }
        can_retry = 0;
        count(&shared->ports_through);
    }
}
#else
/* The rtas system call (root only): the firmware's tokens from the device tree, except those
 * that end, stop, reboot or suspend the LPAR, and random tokens, with random arguments. */
struct rtas_block {
    uint32_t token, nargs, nret, args[16];
};

static int rtas_tokens(uint32_t* tokens, int max) {
    static const char* const avoid[] = {"ibm,os-term",          "power-off",
                                        "system-reboot",        "stop-self",
                                        "ibm,suspend-me",       "ibm,power-off-ups",
                                        "ibm,extended-os-term", "start-cpu",
                                        "ibm,nmi-interlock",    "display-character",
                                        "ibm,display-message",  "ibm,update-flash-64-and-reboot",
                                        "ibm,activate-firmware"};
    FILE* ls = popen("ls /proc/device-tree/rtas 2>/dev/null", "r");
    if (!ls) return 0;
    char name[128];
    int n = 0;
    while (n < max && fgets(name, sizeof name, ls)) {
        name[strcspn(name, "\n")] = '\0';
        int skip = 0;
        for (unsigned k = 0; k < sizeof avoid / sizeof avoid[0]; ++k)
            if (strcmp(name, avoid[k]) == 0) skip = 1;
        char path[256];
        snprintf(path, sizeof path, "/proc/device-tree/rtas/%s", name);
        FILE* f = fopen(path, "rb");
        if (!f) continue;
        unsigned char b[8];
        size_t got = fread(b, 1, sizeof b, f);
        fclose(f);
        if (skip || got != 4) continue; /* a token is one 32-bit cell */
        tokens[n++] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    pclose(ls);
    return n;
}

static void isa_root_attacks(void) {
    uint32_t tokens[64];
    const int n = rtas_tokens(tokens, 64);
    for (int i = 0; i < 32; ++i) {
        struct rtas_block b;
        memset(&b, 0, sizeof b);
        b.token =
            n > 0 && rnd_below(4) != 0 ? tokens[rnd_below((unsigned long)n)] : (uint32_t)rnd();
        b.nargs = (uint32_t)rnd_below(17);
        b.nret = (uint32_t)rnd_below(17 - b.nargs);
        for (int k = 0; k < 16; ++k) b.args[k] = (uint32_t)rnd_arg();
        /* The kernel's rtas_args are big-endian. */
        b.token = __builtin_bswap32(b.token), b.nargs = __builtin_bswap32(b.nargs),
        b.nret = __builtin_bswap32(b.nret);
        syscall(SYS_rtas, &b);
        count(&shared->rtas_calls);
    }
}
#endif

static void run_root(void) {
    devmem_attacks();
    isa_root_attacks();
}

static void child(int mode) {
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
        if (fd > 2) close(fd);
    }
    for (int k = 3; k < 64; ++k) close(k);
    if (chdir("/tmp") != 0) _exit(2);
    limit(RLIMIT_AS, 64UL << 20);
    limit(RLIMIT_NPROC, 8);
    limit(RLIMIT_FSIZE, 0);
    limit(RLIMIT_CPU, CHILD_SECONDS);
    limit(RLIMIT_CORE, 0);
    limit(RLIMIT_MEMLOCK, 0);
    limit(RLIMIT_NOFILE, 32);
    if (mode != MODE_ROOT &&
        (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
        _exit(3);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    alarm(CHILD_SECONDS);
    code = mmap(NULL, CODE_PAGES * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) _exit(4);
    save_tls();
    catch_faults();
    switch (mode) {
    case MODE_CODE:
#ifdef __i386__
        v86_cli_loop();
#endif
        run_random_code();
        break;
    case MODE_SYSCALL:
        run_random_syscalls();
        break;
    case MODE_SEGMENTS:
        run_segments();
        break;
    case MODE_ROOT:
        run_root();
        break;
    default:
        run_sigreturn();
        break;
    }
    _exit(0);
}

/* Kills every process of uid NOBODY (children that escaped with setsid or fork): a process of
 * that uid sends SIGKILL to all it may signal, which are exactly those. */
static void reap_nobody(void) {
    pid_t p = fork();
    if (p == 0) {
        if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) _exit(1);
        kill(-1, SIGKILL);
        _exit(0);
    }
    if (p > 0) waitpid(p, NULL, 0);
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: tessera-hostile SECONDS [SEED]\n");
        return 2;
    }
    char* end;
    long seconds = strtol(argv[1], &end, 10);
    if (*end != '\0' || seconds < 1) {
        fprintf(stderr, "tessera-hostile: SECONDS: a whole number, at least 1\n");
        return 2;
    }
    unsigned long long seed =
        argc == 3 ? strtoull(argv[2], NULL, 0) : (unsigned long long)time(NULL);
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("tessera-hostile: mmap");
        return 1;
    }
    /* Beside the LPAR's own checks: they keep the CPU first. */
    if (setpriority(PRIO_PROCESS, 0, 10) != 0) perror("tessera-hostile: setpriority");
    printf("hostile: start, %ld s, seed %llu\n", seconds, seed);
    fflush(stdout);
    unsigned long children = 0, by_mode[MODES] = {0}, killed = 0, timeouts = 0, alarms = 0;
    const double stop = now() + (double)seconds;
    while (now() < stop) {
        int mode = (int)(children % MODES);
        rng_state = seed * 0x9E3779B97F4A7C15ULL + children + 1;
        pid_t pid = fork();
        if (pid < 0) {
            sleep(1);
            continue;
        }
        if (pid == 0) child(mode);
        ++children, ++by_mode[mode];
        const double deadline = now() + CHILD_SECONDS + 2;
        int status = 0;
        pid_t got;
        while ((got = waitpid(pid, &status, WNOHANG)) == 0 && now() < deadline) usleep(20000);
        if (got == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ++timeouts;
        } else if (got == pid && WIFSIGNALED(status)) {
            if (WTERMSIG(status) == SIGALRM)
                ++alarms; /* its time was up (alarm) */
            else
                ++killed;
        }
        if (shared->v86_open) { /* it ended in its V86 loop */
            const int sig = got == pid && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            if (sig == SIGALRM || sig == SIGXCPU)
                ++shared->v86_alarm;
            else
                ++shared->v86_other;
            shared->v86_open = 0;
        }
        reap_nobody();
    }
    printf("hostile: %lu children run (", children);
    for (int m = 0; m < MODES; ++m) printf("%s%s %lu", m ? ", " : "", mode_names[m], by_mode[m]);
    printf(
        "); signals seen: SEGV %lu ILL %lu BUS %lu TRAP %lu FPE %lu other %lu; children ended by "
        "signal %lu, at their alarm %lu, killed after %d s %lu; root: %lu /dev/mem maps (%lu "
        "read through), %lu port accesses (%lu went through), %lu rtas calls\n",
        shared->signals[SIG_SEGV], shared->signals[SIG_ILL], shared->signals[SIG_BUS],
        shared->signals[SIG_TRAP], shared->signals[SIG_FPE], shared->signals[SIG_OTHER], killed,
        alarms, CHILD_SECONDS + 2, timeouts, shared->devmem_maps, shared->devmem_reads,
        shared->ports, shared->ports_through, shared->rtas_calls);
#ifdef __i386__
    printf("hostile: v86 cli loops: %lu tried, %lu came back, %lu ended there at their time "
           "limit, %lu otherwise\n",
           shared->v86_tried, shared->v86_back, shared->v86_alarm, shared->v86_other);
#endif
    return 0;
}
