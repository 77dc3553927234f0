// SPDX-License-Identifier: GPL-2.0
/*
 * hmap module entry: parameters, /dev/hmap, debugfs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "hmap_priv.h"

static ushort dev_mode = 0600;
module_param(dev_mode, ushort, 0444);
MODULE_PARM_DESC(dev_mode, "Permission bits of /dev/hmap (default 0600)");

unsigned int hmap_max_maps = 4096;
module_param_named(max_maps, hmap_max_maps, uint, 0644);
MODULE_PARM_DESC(max_maps, "Most maps alive at once; CREATE fails with ENOSPC beyond (default 4096)");

static u64 hmap_max_bytes;
module_param_named(max_bytes, hmap_max_bytes, ullong, 0644);
MODULE_PARM_DESC(max_bytes, "Most bytes all maps' entries and tables may hold; UPDATE fails with ENOMEM beyond (default: a quarter of RAM)");

/* Shared by every map; its limit is the max_bytes parameter. */
struct hmap_budget hmap_budget = {
	.limit = &hmap_max_bytes,
	.err = -ENOMEM,
};

/*
 * Per-user limits keep one user from starving the others: maps outlive
 * their creator once published, and charge the creator whoever writes.
 */
unsigned int hmap_max_maps_per_user = 1024;
module_param_named(max_maps_per_user, hmap_max_maps_per_user, uint, 0644);
MODULE_PARM_DESC(max_maps_per_user, "Most maps one uid may have alive; CREATE fails with EDQUOT beyond (default 1024; CAP_SYS_RESOURCE exempt)");

u64 hmap_max_bytes_per_user;
module_param_named(max_bytes_per_user, hmap_max_bytes_per_user, ullong, 0644);
MODULE_PARM_DESC(max_bytes_per_user, "Most bytes the maps one uid created may hold; UPDATE fails with EDQUOT beyond (default: a quarter of max_bytes; CAP_SYS_RESOURCE exempt)");

u64 hmap_max_watch_bytes_per_user = 64ULL << 20;
module_param_named(max_watch_bytes_per_user, hmap_max_watch_bytes_per_user, ullong, 0644);
MODULE_PARM_DESC(max_watch_bytes_per_user, "Most bytes of watch buffers one uid may hold; WATCH fails with EDQUOT beyond (default 64 MiB; CAP_SYS_RESOURCE exempt)");

unsigned int hmap_max_watches_per_map = 64;
module_param_named(max_watches_per_map, hmap_max_watches_per_map, uint, 0644);
MODULE_PARM_DESC(max_watches_per_map, "Most watches one map may have; each costs its writers an append per change; WATCH fails with ENOSPC beyond (default 64)");

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

	/* Execute bits mean nothing on a device; udev rules give groups. */
	if (dev_mode & ~0666) {
		pr_err("dev_mode %#o has bits outside 0666\n", dev_mode);
		return -EINVAL;
	}
	if (!hmap_max_bytes)
		hmap_max_bytes = (u64)totalram_pages() * PAGE_SIZE / 4;
	if (!hmap_max_bytes_per_user)
		hmap_max_bytes_per_user = hmap_max_bytes / 4;
	ret = hmap_maps_init();
	if (ret)
		return ret;
	hmap_misc.mode = dev_mode;
	ret = misc_register(&hmap_misc);
	if (ret) {
		hmap_maps_exit();
		return ret;
	}
	hmap_debugfs_init();
	pr_info("loaded, /dev/hmap mode %#o\n", dev_mode);
	return 0;
}

static void __exit hmap_exit(void)
{
	hmap_debugfs_exit();
	misc_deregister(&hmap_misc);
	hmap_maps_exit();
	pr_info("unloaded\n");
}

module_init(hmap_init);
module_exit(hmap_exit);

MODULE_DESCRIPTION("Kernel hash maps shared between processes via /dev/hmap");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMAP_VERSION_STRING);
