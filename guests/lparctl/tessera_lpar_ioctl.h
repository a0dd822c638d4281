/* The interface between lparctl and the guest driver (the pseries module tessera_lpar.ko; the
 * pc PV kernel's built-in driver): one ioctl on /dev/tessera-lpar that makes one hcall of the
 * management block (include/tessera/lpar_control.h, docs/management.md). Up to two user
 * buffers travel through driver-owned kernel memory: the driver puts each buffer's logical
 * address into args[arg] and copies it in (TLPAR_BUF_IN) before and out (TLPAR_BUF_OUT) after
 * the hcall. Only the block's numbers pass; only CAP_SYS_ADMIN may call. */
#ifndef TESSERA_LPAR_IOCTL_H
#define TESSERA_LPAR_IOCTL_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#define TLPAR_DEVICE "/dev/tessera-lpar"
#define TLPAR_NARGS 9
#define TLPAR_NBUFS 2
#define TLPAR_BUF_MAX (1024 * 1024)
#define TLPAR_BUF_IN 1
#define TLPAR_BUF_OUT 2

struct tlpar_buf {
    unsigned long long ptr; /* user address; 0 with len 0: unused */
    unsigned long long len;
    unsigned int arg; /* which args[] slot gets the logical address */
    unsigned int dir; /* TLPAR_BUF_IN | TLPAR_BUF_OUT */
};

struct tlpar_call {
    unsigned long long opcode;
    unsigned long long args[TLPAR_NARGS];
    unsigned long long rets[TLPAR_NARGS];
    long long status;
    struct tlpar_buf bufs[TLPAR_NBUFS];
};

#define TLPAR_IOC_HCALL _IOWR('t', 0x17, struct tlpar_call)

#endif
