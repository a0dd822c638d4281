/* The LPAR management hcall block (docs/management.md): numbers, arguments, reasons and flags.
 * Plain C so that the hypervisor, the test LPARs, the guest tool (guests/lparctl) and the guest
 * kernel module share one copy. Only LPARs with `control = yes` in the configuration reach the
 * block; every other LPAR gets H_FUNCTION for every number in it.
 *
 * Strings and buffers are (logical address, length) pairs in the caller's own memory; strings
 * need no terminator. On failure the status is a PAPR code and ret[0] holds a TLPAR_E_* reason
 * that says which check refused the call. */
#ifndef TESSERA_LPAR_CONTROL_H
#define TESSERA_LPAR_CONTROL_H

/* clang-format off */
#define TLPAR_HCALL_FIRST          0xF100
/* (name, name_len, memory bytes, vcpus, lans, lans_len) -> ret[0] id. lans: names separated by
 * spaces or commas. */
#define TLPAR_CREATE               0xF100
/* (id, how, kernel, kernel_len, initrd, initrd_len): kernel and initrd name bundle entries
 * (TLPAR_LOAD_LINUX, TLPAR_LOAD_PROGRAM) or nothing (TLPAR_LOAD_COPIED: what COPY_IN put at
 * logical 0 is a test program, every vcpu enters at 0); with TLPAR_LOAD_STAGED they are
 * logical addresses and lengths in the target, where COPY_IN put a Linux kernel ELF and its
 * initrd (initrd_len 0: none): inside the target, apart, and where no kernel segment goes (else
 * TLPAR_E_BAD_RANGE, or TLPAR_E_LOAD with the reason in STATUS). Created -> Loaded. */
#define TLPAR_LOAD                 0xF104
/* (id, target logical address, caller logical address, len <= TLPAR_COPY_MAX): Created only,
 * and only into an LPAR the caller created. */
#define TLPAR_COPY_IN              0xF108
/* (id, cmdline, len < TLPAR_CMDLINE_MAX): Created only; used by a later TLPAR_LOAD_LINUX. */
#define TLPAR_SET_CMDLINE          0xF10C
/* (id): Loaded -> Running. */
#define TLPAR_START                0xF110
/* (id, flags, deadline ms): TLPAR_STOP_FORCE ends it now; otherwise the guest is asked to power
 * off (SysRq through its console) and forced at the deadline (0: TLPAR_STOP_DEFAULT_MS). */
#define TLPAR_STOP                 0xF114
/* (id): any state but the caller's own; unknown ids succeed (idempotent). */
#define TLPAR_DESTROY              0xF118
/* (id, name buffer, its len, reason buffer, its len) -> ret[0] state, ret[1] memory bytes,
 * ret[2] vcpus, ret[3] flags (TLPAR_F_*), ret[4] name length, ret[5] reason length. */
#define TLPAR_STATUS               0xF11C
/* (id) -> ret[0] the next existing LPAR id above id, 0 when none: list with 0, then each. */
#define TLPAR_NEXT                 0xF120
/* (name, name_len) -> ret[0] id. */
#define TLPAR_FIND                 0xF124
/* () -> ret[0] free bytes in the machine's pool, ret[1] bytes it has in all. */
#define TLPAR_FREE_MEMORY          0xF128
/* (id, buffer, len) -> ret[0] bytes copied, ret[1] bytes lost (the history overflowed).
 * The console history keeps an LPAR's output from its start (the newest TLPAR_CONSOLE_HISTORY
 * bytes); reading consumes it. */
#define TLPAR_CONSOLE_READ         0xF12C
/* (id, force) -> ret[0] a token for CONSOLE_WRITE; H_BUSY when someone holds it (force takes
 * it over). */
#define TLPAR_CONSOLE_ATTACH       0xF130
/* (id, token, buffer, len <= TLPAR_CONSOLE_WRITE_MAX) -> ret[0] bytes queued as keyboard input. */
#define TLPAR_CONSOLE_WRITE        0xF134
/* (id, token). */
#define TLPAR_CONSOLE_DETACH       0xF138
#define TLPAR_HCALL_LAST           0xF17C

/* TLPAR_LOAD how */
#define TLPAR_LOAD_LINUX           0
#define TLPAR_LOAD_PROGRAM         1
#define TLPAR_LOAD_COPIED          2
#define TLPAR_LOAD_STAGED          3 /* Linux, staged in the target by TLPAR_COPY_IN */

#define TLPAR_STOP_FORCE           1
#define TLPAR_STOP_DEFAULT_MS      30000

/* TLPAR_STATUS state (the hypervisor's LparState) */
#define TLPAR_STATE_CREATED        0
#define TLPAR_STATE_LOADED         1
#define TLPAR_STATE_RUNNING        2
#define TLPAR_STATE_STOPPED        3
#define TLPAR_STATE_CRASHED        4

/* TLPAR_STATUS flags */
#define TLPAR_F_CONTROL            1 /* may use this block */
#define TLPAR_F_RUNTIME            2 /* created through TLPAR_CREATE */
#define TLPAR_F_STOPPING           4 /* a graceful stop is pending */
#define TLPAR_F_CALLER             8 /* the caller itself */

#define TLPAR_NAME_MAX             31
#define TLPAR_CMDLINE_MAX          1024
#define TLPAR_COPY_MAX             (1024 * 1024)
#define TLPAR_CONSOLE_WRITE_MAX    256
#define TLPAR_CONSOLE_HISTORY      (32 * 1024)

/* ret[0] on failure: which check refused. */
#define TLPAR_E_NONE               0
#define TLPAR_E_NO_LPAR            1  /* no LPAR with that id or name */
#define TLPAR_E_BAD_NAME           2  /* empty, too long, a space or a non-printable character */
#define TLPAR_E_NAME_USED          3
#define TLPAR_E_NO_VCPUS           4
#define TLPAR_E_TOO_MANY_VCPUS     5
#define TLPAR_E_BAD_MEMORY         6  /* 0, not a multiple of 16 MiB, or over 4 GiB */
#define TLPAR_E_NO_MEMORY          7  /* more than the free pool */
#define TLPAR_E_TABLE_FULL         8
#define TLPAR_E_SELF               9  /* the caller cannot stop or destroy itself */
#define TLPAR_E_STATE              10 /* not allowed in the LPAR's state */
#define TLPAR_E_NOT_CREATOR        11 /* copy-in only into an LPAR the caller created */
#define TLPAR_E_BAD_RANGE          12 /* outside the target or the caller, or too long */
#define TLPAR_E_NO_ENTRY           13 /* no such bundle entry, or of the wrong kind */
#define TLPAR_E_LOAD               14 /* the image does not load (the reason is in STATUS) */
#define TLPAR_E_BAD_ARG            15
#define TLPAR_E_BUSY               16 /* the console has another writer */
#define TLPAR_E_BAD_TOKEN          17
#define TLPAR_E_ISA                18 /* the ISA could not set up its translation */
#define TLPAR_E_LAN                19 /* a LAN could not be attached */
/* clang-format on */

#endif
