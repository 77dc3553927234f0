// SPDX-License-Identifier: GPL-2.0
/*
 * hmap module entry: registers /dev/hmap.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "hmap_table.h"

static ushort dev_mode = 0600;
module_param(dev_mode, ushort, 0444);
MODULE_PARM_DESC(dev_mode, "Permission bits of /dev/hmap (default 0600)");

static long hmap_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	return -ENOTTY;
}

static const struct file_operations hmap_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= hmap_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice hmap_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hmap",
	.fops	= &hmap_dev_fops,
};

static int __init hmap_init(void)
{
	int ret;

	if (dev_mode & ~0777) {
		pr_err("dev_mode %#o has bits outside 0777\n", dev_mode);
		return -EINVAL;
	}
	hmap_misc.mode = dev_mode;
	ret = misc_register(&hmap_misc);
	if (ret)
		return ret;
	pr_info("loaded, /dev/hmap mode %#o\n", dev_mode);
	return 0;
}

static void __exit hmap_exit(void)
{
	misc_deregister(&hmap_misc);
	/* Deferred frees of elements and tables must finish before unload. */
	rcu_barrier();
	pr_info("unloaded\n");
}

module_init(hmap_init);
module_exit(hmap_exit);

MODULE_DESCRIPTION("Kernel hash maps shared between processes via /dev/hmap");
MODULE_LICENSE("GPL");
