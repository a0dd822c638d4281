/* TLPAR_LOAD's `how` 3 (docs/management.md): Linux copied into the target. Plain C, shared by
 * the hypervisor and the guest tool (guests/lparctl) like <tessera/lpar_control.h>.
 *
 * TLPAR_LOAD (id, TLPAR_LOAD_STAGED, kernel, kernel_len, initrd, initrd_len): kernel and initrd
 * are logical addresses and lengths in the target, where TLPAR_COPY_IN put a Linux kernel ELF
 * and its initrd (initrd_len 0: none): inside the target, apart, and where no kernel segment
 * goes (else TLPAR_E_BAD_RANGE, or TLPAR_E_LOAD with the reason in STATUS). Created -> Loaded.
 *
 * TODO(bring-up): this belongs in <tessera/lpar_control.h> next to the other `how` values. That
 * header is an input of the pc PV kernel's cache key (guests/linux-ia32/files copies it into the
 * kernel for the driver), so changing it rebuilds the kernel; fold this in with the next change
 * the kernel needs anyway. */
#ifndef TESSERA_LPAR_LOAD_STAGED_H
#define TESSERA_LPAR_LOAD_STAGED_H

#define TLPAR_LOAD_STAGED 3 /* Linux, staged in the target by TLPAR_COPY_IN */

#endif
