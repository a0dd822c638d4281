/* lparctl: manage Tessera LPARs from a control LPAR (docs/management.md).
 *
 *   lparctl list
 *   lparctl create NAME --memory SIZE [--cpus N] [--lan NAME] --kernel ENTRY|FILE
 *                  [--initrd ENTRY|FILE] [--cmdline "..."] [--start]
 *   lparctl start NAME
 *   lparctl stop [--force] [--timeout SECONDS] NAME
 *   lparctl destroy NAME
 *   lparctl console [--force] [--send TEXT] [--until TEXT] [--timeout SECONDS] NAME
 *
 * One source for every target, linked statically. It talks to the guest driver through
 * /dev/tessera-lpar (guests/lparctl/tessera_lpar_ioctl.h); when the device is missing it loads
 * /lib/tessera/tessera_lpar.ko first. Errors are one line on stderr and a non-zero status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lpar_control.h"
#include "tessera_lpar_ioctl.h"

#define MODULE_PATH "/lib/tessera/tessera_lpar.ko"
#define DETACH_HELP "~. at the start of a line detaches"

typedef unsigned long long u64;

static int dev = -1;
static const char *op = "lparctl";
static u64 half_made; /* an LPAR create made but could not load: die() destroys it */

static void destroy_half_made(void);

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lparctl: %s: ", op);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    destroy_half_made(); /* nothing half-made stays behind */
    exit(1);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: lparctl list\n"
            "       lparctl create NAME --memory SIZE [--cpus N] [--lan NAME] --kernel ENTRY|FILE\n"
            "                      [--initrd ENTRY|FILE] [--cmdline \"...\"] [--start]\n"
            "       lparctl start NAME\n"
            "       lparctl stop [--force] [--timeout SECONDS] NAME\n"
            "       lparctl destroy NAME\n"
            "       lparctl console [--force] [--send TEXT] [--until TEXT] [--timeout SECONDS] NAME\n"
            "SIZE: bytes or with K, M, G. ENTRY: a boot bundle entry. FILE: a file of this LPAR,\n"
            "copied in: a Linux kernel ELF (with an initrd FILE) or a flat program entered at 0.\n"
            "console: " DETACH_HELP ".\n");
    exit(2);
}

static const char *reason_text(u64 r)
{
    static const char *const text[] = {
        [TLPAR_E_NONE] = "refused",
        [TLPAR_E_NO_LPAR] = "no such LPAR",
        [TLPAR_E_BAD_NAME] = "bad name (1-31 printable characters, no spaces)",
        [TLPAR_E_NAME_USED] = "name already used",
        [TLPAR_E_NO_VCPUS] = "at least one CPU is needed",
        [TLPAR_E_TOO_MANY_VCPUS] = "too many CPUs (at most 8)",
        [TLPAR_E_BAD_MEMORY] = "memory must be a non-zero multiple of 16M, at most 4G",
        [TLPAR_E_NO_MEMORY] = "not enough free memory in the machine",
        [TLPAR_E_TABLE_FULL] = "too many LPARs",
        [TLPAR_E_SELF] = "not allowed on this LPAR itself",
        [TLPAR_E_STATE] = "not allowed in the LPAR's state",
        [TLPAR_E_NOT_CREATOR] = "only into an LPAR this one created",
        [TLPAR_E_BAD_RANGE] = "address range outside the LPAR",
        [TLPAR_E_NO_ENTRY] = "no such boot bundle entry",
        [TLPAR_E_LOAD] = "the image does not load",
        [TLPAR_E_BAD_ARG] = "bad argument",
        [TLPAR_E_BUSY] = "the console has another writer (--force takes it over)",
        [TLPAR_E_BAD_TOKEN] = "the console was taken over",
        [TLPAR_E_ISA] = "the hypervisor cannot host another LPAR",
        [TLPAR_E_LAN] = "a LAN could not be attached (a bad or repeated name, or no room)",
    };
    return r < sizeof text / sizeof text[0] && text[r] ? text[r] : "refused";
}

static const char *status_text(long long s)
{
    switch (s) {
    case 1: return "H_BUSY";
    case -2: return "H_FUNCTION";
    case -4: return "H_PARAMETER";
    case -7: return "H_NOT_FOUND";
    case -9: return "H_NO_MEM";
    case -11: return "H_PERMISSION";
    case -16: return "H_RESOURCE";
    case -55: return "H_P2";
    case -56: return "H_P3";
    case -57: return "H_P4";
    default: return "H_?";
    }
}

static void open_device(void)
{
    dev = open(TLPAR_DEVICE, O_RDWR);
    if (dev < 0 && errno == ENOENT && access(MODULE_PATH, R_OK) == 0) {
        if (system("insmod " MODULE_PATH " 2>/dev/null") == 0) {
            for (int i = 0; i < 50 && dev < 0; i++) { /* devtmpfs makes the node */
                dev = open(TLPAR_DEVICE, O_RDWR);
                if (dev < 0) usleep(20000);
            }
        }
    }
    if (dev < 0)
        die("%s: %s (not a Tessera control LPAR, or the driver is missing)", TLPAR_DEVICE,
            strerror(errno));
}

/* One hcall; buffers: up to two (ptr, len, arg slot, direction). */
static struct tlpar_call call(u64 opcode, const u64 *args, int nargs, const struct tlpar_buf *bufs,
                              int nbufs)
{
    struct tlpar_call c;
    memset(&c, 0, sizeof c);
    c.opcode = opcode;
    for (int i = 0; i < nargs; i++) c.args[i] = args[i];
    for (int i = 0; i < nbufs; i++) c.bufs[i] = bufs[i];
    if (dev < 0) open_device();
    if (ioctl(dev, TLPAR_IOC_HCALL, &c) != 0) die("%s: %s", TLPAR_DEVICE, strerror(errno));
    return c;
}

static struct tlpar_buf in_buf(const void *p, size_t len, unsigned arg)
{
    struct tlpar_buf b = {(u64)(unsigned long)p, len, arg, TLPAR_BUF_IN};
    return b;
}
static struct tlpar_buf out_buf(void *p, size_t len, unsigned arg)
{
    struct tlpar_buf b = {(u64)(unsigned long)p, len, arg, TLPAR_BUF_OUT};
    return b;
}

static void check(const struct tlpar_call *c, const char *what)
{
    if (c->status == 0) return;
    die("%s: %s (%s)", what, reason_text(c->rets[0]), status_text(c->status));
}

/* A string argument: its buffer in slot `arg`, its length in slot arg + 1. */
static struct tlpar_call call_str(u64 opcode, u64 *args, int nargs, const char *s, unsigned arg)
{
    args[arg + 1] = strlen(s);
    struct tlpar_buf b = in_buf(s, strlen(s), arg);
    return call(opcode, args, nargs, &b, strlen(s) ? 1 : 0);
}

static u64 find(const char *name)
{
    u64 args[2] = {0, 0};
    struct tlpar_call c = call_str(TLPAR_FIND, args, 2, name, 0);
    if (c.status != 0) die("%s: no LPAR named '%s'", name, name);
    return c.rets[0];
}

struct status {
    u64 state, memory, cpus, flags;
    char name[TLPAR_NAME_MAX + 1];
    char reason[128];
    int ok;
};

static struct status status_of(u64 id)
{
    struct status s;
    memset(&s, 0, sizeof s);
    u64 args[5] = {id, 0, sizeof s.name - 1, 0, sizeof s.reason - 1};
    struct tlpar_buf b[2] = {out_buf(s.name, sizeof s.name - 1, 1),
                             out_buf(s.reason, sizeof s.reason - 1, 3)};
    struct tlpar_call c = call(TLPAR_STATUS, args, 5, b, 2);
    s.ok = c.status == 0;
    s.state = c.rets[0];
    s.memory = c.rets[1];
    s.cpus = c.rets[2];
    s.flags = c.rets[3];
    s.name[c.rets[4] < sizeof s.name ? c.rets[4] : sizeof s.name - 1] = '\0';
    s.reason[c.rets[5] < sizeof s.reason ? c.rets[5] : sizeof s.reason - 1] = '\0';
    return s;
}

static const char *state_text(u64 s)
{
    static const char *const text[] = {"created", "loaded", "running", "stopped", "crashed"};
    return s < 5 ? text[s] : "?";
}

static int cmd_list(void)
{
    u64 args[1] = {0};
    printf("%-4s %-20s %-8s %8s %4s  %s\n", "ID", "NAME", "STATE", "MEMORY", "CPUS", "NOTES");
    for (u64 id = call(TLPAR_NEXT, args, 1, NULL, 0).rets[0]; id != 0;) {
        struct status s = status_of(id);
        if (s.ok) {
            char notes[256] = "";
            if (s.flags & TLPAR_F_CALLER) strcat(notes, "this LPAR, ");
            if (s.flags & TLPAR_F_CONTROL) strcat(notes, "control, ");
            if (s.flags & TLPAR_F_RUNTIME) strcat(notes, "created at run time, ");
            if (s.flags & TLPAR_F_STOPPING) strcat(notes, "stopping, ");
            if (s.reason[0]) {
                strncat(notes, s.reason, sizeof notes - strlen(notes) - 3);
                strcat(notes, ", ");
            }
            if (notes[0]) notes[strlen(notes) - 2] = '\0';
            printf("%-4llu %-20s %-8s %7lluM %4llu  %s\n", id, s.name, state_text(s.state),
                   s.memory >> 20, s.cpus, notes);
        }
        args[0] = id;
        id = call(TLPAR_NEXT, args, 1, NULL, 0).rets[0];
    }
    return 0;
}

static u64 parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s) die("'%s' is not a size", s);
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    }
    if (*end) die("'%s' is not a size (bytes, or a number with K, M or G)", s);
    return v;
}

static void destroy_half_made(void)
{
    if (!half_made) return;
    u64 args[1] = {half_made};
    half_made = 0;
    call(TLPAR_DESTROY, args, 1, NULL, 0);
}

/* A regular file's size, or -1 when PATH is not one (then it names a bundle entry). */
static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
}

/* Does FILE start like an ELF image (a Linux kernel) rather than a flat program? */
static int is_elf(const char *path)
{
    unsigned char magic[4] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("%s: %s", path, strerror(errno));
    ssize_t n = read(fd, magic, sizeof magic);
    close(fd);
    return n == 4 && !memcmp(magic, "\177ELF", 4);
}

/* Copies the first `size` bytes of FILE (its size when it was staged) into the new LPAR at
 * logical `at`, TLPAR_COPY_MAX at a time. */
static void copy_file(u64 id, const char *path, u64 at, u64 size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("%s: %s", path, strerror(errno));
    static char buf[TLPAR_COPY_MAX];
    for (u64 done = 0; done < size;) {
        const size_t want = size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;
        ssize_t n = read(fd, buf, want);
        if (n < 0) die("%s: %s", path, strerror(errno));
        if (n == 0) die("%s: shorter than %llu bytes (changed while being copied)", path, size);
        u64 args[4] = {id, at + done, 0, (u64)n};
        struct tlpar_buf b = in_buf(buf, (size_t)n, 2);
        struct tlpar_call c = call(TLPAR_COPY_IN, args, 4, &b, 1);
        if (c.status != 0)
            die("copy-in of %s: %s (%s)", path, reason_text(c.rets[0]), status_text(c.status));
        done += (u64)n;
    }
    close(fd);
}

static int cmd_create(int argc, char **argv)
{
    const char *name = NULL, *kernel = NULL, *initrd = "", *cmdline = NULL, *lan = "";
    u64 memory = 0, cpus = 1;
    int start = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--memory") && v) memory = parse_size(v), i++;
        else if (!strcmp(a, "--cpus") && v) cpus = strtoull(v, NULL, 0), i++;
        else if (!strcmp(a, "--lan") && v) lan = v, i++;
        else if (!strcmp(a, "--kernel") && v) kernel = v, i++;
        else if (!strcmp(a, "--initrd") && v) initrd = v, i++;
        else if (!strcmp(a, "--cmdline") && v) cmdline = v, i++;
        else if (!strcmp(a, "--start")) start = 1;
        else if (a[0] != '-' && !name) name = a;
        else usage();
    }
    if (!name || !memory || !kernel) usage();
    op = name;
    /* A kernel FILE is copied in: an ELF is Linux, staged near the top of the new LPAR's memory
     * with its initrd FILE above it (64K-aligned, the initrd topmost), and loaded from there
     * (TLPAR_LOAD_STAGED: the hypervisor moves the initrd where the boot protocol wants it);
     * anything else is a flat program at 0. A kernel ENTRY names bundle entries. */
    const long long kernel_size = file_size(kernel);
    const long long initrd_size = initrd[0] ? file_size(initrd) : -1;
    const int from_file = kernel_size >= 0, linux_file = from_file && is_elf(kernel);
    u64 kernel_at = 0, initrd_at = 0;
    if (from_file && !linux_file && initrd[0])
        die("--initrd goes with a Linux kernel (an ELF file or a bundle entry), not a flat program");
    if (linux_file && initrd[0] && initrd_size < 0)
        die("%s: no such file (a kernel FILE takes an initrd FILE)", initrd);
    if (!from_file && initrd_size >= 0)
        die("%s is a file: give the kernel as a FILE too (or both as bundle entries)", initrd);
    if (linux_file) {
        const u64 align = 64 * 1024;
        u64 top = memory;
        if (initrd_size > 0) {
            if ((u64)initrd_size >= top) die("%s does not fit in %lluM", initrd, memory >> 20);
            initrd_at = (top - (u64)initrd_size) & ~(align - 1);
            top = initrd_at;
        }
        if (kernel_size == 0 || (u64)kernel_size >= top)
            die("%s (%lld bytes) does not fit in %lluM%s", kernel, kernel_size, memory >> 20,
                initrd_size > 0 ? " with the initrd" : "");
        kernel_at = (top - (u64)kernel_size) & ~(align - 1);
    }
    u64 args[6] = {0, 0, memory, cpus, 0, 0};
    args[1] = strlen(name);
    args[5] = strlen(lan);
    struct tlpar_buf b[2] = {in_buf(name, strlen(name), 0), in_buf(lan, strlen(lan), 4)};
    struct tlpar_call c = call(TLPAR_CREATE, args, 6, b, lan[0] ? 2 : 1);
    check(&c, "create");
    const u64 id = c.rets[0];
    half_made = id;
    if (cmdline) {
        u64 cargs[3] = {id, 0, 0};
        c = call_str(TLPAR_SET_CMDLINE, cargs, 3, cmdline, 1);
        check(&c, "command line");
    }
    if (linux_file) {
        copy_file(id, kernel, kernel_at, (u64)kernel_size);
        if (initrd_size > 0) copy_file(id, initrd, initrd_at, (u64)initrd_size);
        u64 largs[6] = {id, TLPAR_LOAD_STAGED, kernel_at, (u64)kernel_size, initrd_at,
                        initrd_size > 0 ? (u64)initrd_size : 0};
        c = call(TLPAR_LOAD, largs, 6, NULL, 0);
    } else if (from_file) {
        copy_file(id, kernel, 0, (u64)kernel_size);
        u64 largs[6] = {id, TLPAR_LOAD_COPIED, 0, 0, 0, 0};
        c = call(TLPAR_LOAD, largs, 6, NULL, 0);
    } else {
        u64 largs[6] = {id, TLPAR_LOAD_LINUX, 0, strlen(kernel), 0, strlen(initrd)};
        struct tlpar_buf lb[2] = {in_buf(kernel, strlen(kernel), 2),
                                  in_buf(initrd, strlen(initrd), 4)};
        c = call(TLPAR_LOAD, largs, 6, lb, initrd[0] ? 2 : 1);
    }
    if (c.status != 0) {
        struct status s = status_of(id);
        die("load %s: %s%s%s (%s)", kernel, reason_text(c.rets[0]), s.reason[0] ? ": " : "",
            s.reason, status_text(c.status));
    }
    half_made = 0;
    printf("%s: created (id %llu, %lluM, %llu CPU%s), loaded\n", name, id, memory >> 20, cpus,
           cpus == 1 ? "" : "s");
    if (start) {
        u64 sargs[1] = {id};
        c = call(TLPAR_START, sargs, 1, NULL, 0);
        check(&c, "start");
        printf("%s: started\n", name);
    }
    return 0;
}

static int cmd_simple(u64 opcode, const char *verb, int argc, char **argv)
{
    if (argc != 1) usage();
    op = argv[0];
    if (opcode == TLPAR_DESTROY) { /* idempotent: a name that is gone is destroyed already */
        u64 fargs[2] = {0, 0};
        if (call_str(TLPAR_FIND, fargs, 2, argv[0], 0).status != 0) {
            printf("%s: no such LPAR: nothing to destroy\n", argv[0]);
            return 0;
        }
    }
    u64 args[1] = {find(argv[0])};
    struct tlpar_call c = call(opcode, args, 1, NULL, 0);
    check(&c, verb);
    printf("%s: %s\n", argv[0], opcode == TLPAR_START ? "started" : "destroyed");
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmd_stop(int argc, char **argv)
{
    int force = 0;
    double timeout = 60;
    const char *name = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = 1;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atof(argv[++i]);
        else if (argv[i][0] != '-' && !name) name = argv[i];
        else usage();
    }
    if (!name) usage();
    op = name;
    u64 id = find(name);
    u64 args[3] = {id, force ? TLPAR_STOP_FORCE : 0, (u64)(timeout * 1000)};
    struct tlpar_call c = call(TLPAR_STOP, args, 3, NULL, 0);
    check(&c, "stop");
    /* Graceful: wait for the guest's own power-off (the hypervisor forces it at the deadline). */
    const double end = now_s() + timeout + 5;
    struct status s = status_of(id);
    while (s.ok && s.state != TLPAR_STATE_STOPPED && s.state != TLPAR_STATE_CRASHED && now_s() < end) {
        usleep(100000);
        s = status_of(id);
    }
    if (!s.ok || (s.state != TLPAR_STATE_STOPPED && s.state != TLPAR_STATE_CRASHED))
        die("did not stop within %.0f s", timeout + 5);
    printf("%s: %s (%s)\n", name, state_text(s.state), s.reason);
    return 0;
}

/* Copies console output to stdout; returns 1 when `until` was seen. */
static int pump_output(u64 id, const char *until, char *tail, size_t tail_cap)
{
    char buf[256];
    u64 args[3] = {id, 0, sizeof buf};
    struct tlpar_buf b = out_buf(buf, sizeof buf, 1);
    int seen = 0;
    for (;;) {
        struct tlpar_call c = call(TLPAR_CONSOLE_READ, args, 3, &b, 1);
        check(&c, "console");
        if (c.rets[0] == 0) break;
        fwrite(buf, 1, c.rets[0], stdout);
        if (until) {
            size_t have = strlen(tail);
            for (u64 i = 0; i < c.rets[0]; i++) {
                if (have + 1 >= tail_cap) {
                    memmove(tail, tail + have / 2, have - have / 2 + 1);
                    have -= have / 2;
                }
                tail[have++] = buf[i] ? buf[i] : '.';
                tail[have] = '\0';
            }
            if (strstr(tail, until)) seen = 1;
        }
    }
    fflush(stdout);
    return seen;
}

static int cmd_console(int argc, char **argv)
{
    int force = 0;
    const char *send = NULL, *until = NULL, *name = NULL;
    double timeout = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = 1;
        else if (!strcmp(argv[i], "--send") && i + 1 < argc) send = argv[++i];
        else if (!strcmp(argv[i], "--until") && i + 1 < argc) until = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atof(argv[++i]);
        else if (argv[i][0] != '-' && !name) name = argv[i];
        else usage();
    }
    if (!name) usage();
    op = name;
    const u64 id = find(name);
    u64 aargs[2] = {id, (u64)force};
    struct tlpar_call c = call(TLPAR_CONSOLE_ATTACH, aargs, 2, NULL, 0);
    check(&c, "console");
    const u64 token = c.rets[0];
    int interactive = !send && !until && isatty(0);
    struct termios saved;
    if (interactive) {
        struct termios raw;
        tcgetattr(0, &saved);
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
        fprintf(stderr, "[lparctl: console of %s; %s]\r\n", name, DETACH_HELP);
    }
    if (send) {
        /* \r and \n written as such; \\n in the text becomes Enter. */
        char text[TLPAR_CONSOLE_WRITE_MAX];
        size_t n = 0;
        for (const char *p = send; *p && n < sizeof text; p++) {
            if (p[0] == '\\' && p[1] == 'n') text[n++] = '\r', p++;
            else text[n++] = *p;
        }
        u64 args[4] = {id, token, 0, n};
        struct tlpar_buf b = in_buf(text, n, 2);
        c = call(TLPAR_CONSOLE_WRITE, args, 4, &b, 1);
        check(&c, "console input");
    }
    char tail[512] = "";
    int seen = 0, at_line_start = 1, tilde = 0;
    const double end = timeout > 0 ? now_s() + timeout : 0;
    for (;;) {
        seen |= pump_output(id, until, tail, sizeof tail);
        if (until && seen) break;
        if (!until && send) break;
        if (end && now_s() > end) break;
        struct status s = status_of(id);
        if (!s.ok || s.state >= TLPAR_STATE_STOPPED) {
            pump_output(id, until, tail, sizeof tail);
            break;
        }
        struct pollfd pfd = {0, POLLIN, 0};
        if (interactive && poll(&pfd, 1, 20) > 0) {
            char in[64];
            ssize_t n = read(0, in, sizeof in);
            if (n <= 0) break;
            char out[64];
            size_t m = 0;
            int detach = 0;
            for (ssize_t i = 0; i < n; i++) {
                if (tilde && in[i] == '.') { detach = 1; break; }
                if (tilde) out[m++] = '~';
                tilde = at_line_start && in[i] == '~';
                if (!tilde) out[m++] = in[i];
                at_line_start = in[i] == '\r' || in[i] == '\n';
            }
            if (m) {
                u64 args[4] = {id, token, 0, m};
                struct tlpar_buf b = in_buf(out, m, 2);
                c = call(TLPAR_CONSOLE_WRITE, args, 4, &b, 1);
                if (c.status != 0) break; /* taken over, or it ended */
            }
            if (detach) break;
        } else if (!interactive) {
            usleep(50000);
        }
    }
    u64 dargs[2] = {id, token};
    call(TLPAR_CONSOLE_DETACH, dargs, 2, NULL, 0);
    if (interactive) {
        tcsetattr(0, TCSANOW, &saved);
        fprintf(stderr, "\n[lparctl: detached from %s]\n", name);
    }
    if (until && !seen) die("'%s' did not appear on the console", until);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;
    if (!strcmp(cmd, "list")) return cmd_list();
    if (!strcmp(cmd, "create")) return cmd_create(argc, argv);
    if (!strcmp(cmd, "start")) return cmd_simple(TLPAR_START, "start", argc, argv);
    if (!strcmp(cmd, "stop")) return cmd_stop(argc, argv);
    if (!strcmp(cmd, "destroy")) return cmd_simple(TLPAR_DESTROY, "destroy", argc, argv);
    if (!strcmp(cmd, "console")) return cmd_console(argc, argv);
    usage();
}
