// SPDX-License-Identifier: GPL-2.0
/*
 * tessera_lpar: /dev/tessera-lpar for lparctl in a Tessera control LPAR (docs/management.md).
 * Passes only the management block's hcall numbers, for CAP_SYS_ADMIN. One source for both
 * targets:
 * - pseries: an out-of-tree module for Debian's stock kernel (scripts/guest-tools); it loads
 *   only where the device tree has /tessera-lpar-control;
 * - pc: built into the PV kernel (CONFIG_TESSERA_LPAR_CONTROL, guests/linux-ia32/files); it
 *   registers only where the block answers (TLPAR_FREE_MEMORY is not H_FUNCTION). Hcalls go
 *   through the PV kernel's plpar_hcall9() (asm/hvcall.h of its VIO patch): 64-bit arguments,
 *   results as unsigned long (32 bits, which every result of the block fits in on pc but a
 *   4 GiB memory size).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#ifdef CONFIG_OF
#include <linux/of.h>
#endif
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/hvcall.h>
#include <asm/page.h>

#include "lpar_control.h"
#include "tessera_lpar_ioctl.h"

static DEFINE_MUTEX(tlpar_lock);

static long tlpar_hcall(struct tlpar_call *c)
{
	unsigned long rets[PLPAR_HCALL9_BUFSIZE] = { 0 };
	void *kbuf[TLPAR_NBUFS] = { NULL };
	long rc = 0;
	int i;

	if (c->opcode < TLPAR_HCALL_FIRST || c->opcode > TLPAR_HCALL_LAST)
		return -EINVAL;
	for (i = 0; i < TLPAR_NBUFS; i++) {
		struct tlpar_buf *b = &c->bufs[i];

		if (b->len == 0)
			continue;
		if (b->len > TLPAR_BUF_MAX || b->arg >= TLPAR_NARGS) {
			rc = -EINVAL;
			goto out;
		}
		kbuf[i] = kzalloc(b->len, GFP_KERNEL);
		if (!kbuf[i]) {
			rc = -ENOMEM;
			goto out;
		}
		if ((b->dir & TLPAR_BUF_IN) &&
		    copy_from_user(kbuf[i], u64_to_user_ptr(b->ptr), b->len)) {
			rc = -EFAULT;
			goto out;
		}
		c->args[b->arg] = __pa(kbuf[i]);
	}
	mutex_lock(&tlpar_lock);
	c->status = plpar_hcall9(c->opcode, rets, c->args[0], c->args[1], c->args[2], c->args[3],
				 c->args[4], c->args[5], c->args[6], c->args[7], c->args[8]);
	mutex_unlock(&tlpar_lock);
	for (i = 0; i < TLPAR_NARGS; i++)
		c->rets[i] = rets[i];
	for (i = 0; i < TLPAR_NBUFS; i++) {
		struct tlpar_buf *b = &c->bufs[i];

		if (kbuf[i] && (b->dir & TLPAR_BUF_OUT) &&
		    copy_to_user(u64_to_user_ptr(b->ptr), kbuf[i], b->len)) {
			rc = -EFAULT;
			goto out;
		}
	}
out:
	for (i = 0; i < TLPAR_NBUFS; i++)
		kfree(kbuf[i]);
	return rc;
}

static long tlpar_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct tlpar_call c;
	long rc;

	if (cmd != TLPAR_IOC_HCALL)
		return -ENOTTY;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&c, (void __user *)arg, sizeof(c)))
		return -EFAULT;
	rc = tlpar_hcall(&c);
	if (rc)
		return rc;
	if (copy_to_user((void __user *)arg, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static const struct file_operations tlpar_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = tlpar_ioctl,
};

static struct miscdevice tlpar_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "tessera-lpar",
	.fops = &tlpar_fops,
	.mode = 0600,
};

/* Whether this LPAR may use the block (any other LPAR gets H_FUNCTION for all of it). */
static bool tlpar_is_control(void)
{
#ifdef CONFIG_OF
	struct device_node *np = of_find_compatible_node(NULL, NULL, "tessera,lpar-control");

	of_node_put(np);
	return np != NULL;
#else
	unsigned long rets[PLPAR_HCALL9_BUFSIZE] = { 0 };

	return plpar_hcall9(TLPAR_FREE_MEMORY, rets, 0) != H_FUNCTION;
#endif
}

static int __init tlpar_init(void)
{
	if (!tlpar_is_control()) {
		pr_info("tessera_lpar: not a Tessera control LPAR\n");
		return -ENODEV;
	}
	return misc_register(&tlpar_dev);
}

static void __exit tlpar_exit(void)
{
	misc_deregister(&tlpar_dev);
}

module_init(tlpar_init);
module_exit(tlpar_exit);
MODULE_DESCRIPTION("Tessera LPAR management hcalls for lparctl");
MODULE_LICENSE("GPL");
