// SPDX-License-Identifier: GPL-2.0
/*
 * tessera_lpar: /dev/tessera-lpar for lparctl on a pseries Linux in a Tessera control LPAR
 * (docs/management.md). Loads only where the device tree has /tessera-lpar-control; passes only
 * the management block's hcall numbers, for CAP_SYS_ADMIN.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
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

static int __init tlpar_init(void)
{
	struct device_node *np = of_find_compatible_node(NULL, NULL, "tessera,lpar-control");

	if (!np) {
		pr_info("tessera_lpar: not a Tessera control LPAR\n");
		return -ENODEV;
	}
	of_node_put(np);
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
