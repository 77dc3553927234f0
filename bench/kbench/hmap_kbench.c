// SPDX-License-Identifier: GPL-2.0
/*
 * The hmap core against the kernel's rhashtable, in the kernel, with the
 * same keys in the same order: lookup, insert and delete of u64 -> u64
 * entries. Runs once at load and prints one line per figure; a benchmark,
 * so it judges nothing. Unload it to run it again. Under qemu -icount the clock counts instructions.
 */
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/hmap.h>

#include "../../kmod/hmap_table.h"

static unsigned int entries = 65536;
module_param(entries, uint, 0444);
MODULE_PARM_DESC(entries, "entries in each table");

struct kb_obj {
	u64 key;
	u64 value;
	struct rhash_head node;
	struct rcu_head rcu;
};

static const struct rhashtable_params kb_params = {
	.key_len = sizeof(u64),
	.key_offset = offsetof(struct kb_obj, key),
	.head_offset = offsetof(struct kb_obj, node),
};

/* A fixed permutation of 0..n-1, so both tables see the same key order. */
static u64 *kb_order(u32 n)
{
	u64 *o = vmalloc(array_size(n, sizeof(*o)));
	u32 i, j, x = 12345;

	if (!o)
		return NULL;
	for (i = 0; i < n; i++)
		o[i] = i;
	for (i = n - 1; i > 0; i--) {
		x = x * 1103515245 + 12345;
		j = (x >> 8) % (i + 1);
		swap(o[i], o[j]);
	}
	return o;
}

static void kb_report(const char *op, u64 hmap_ns, u64 rht_ns, u32 n)
{
	pr_info("KBENCH %-8s hmap %6llu  rhashtable %6llu  per op\n", op,
		div_u64(hmap_ns, n), div_u64(rht_ns, n));
}

static int kb_run(void)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = entries,
		.capacity_hint = entries,
	};
	struct rhashtable_params rp = kb_params;
	u64 t0, th[3], tr[3], v, sum = 0;
	struct hmap_htab *h;
	struct rhashtable ht;
	struct kb_obj *o;
	u64 *order;
	int ret = -ENOMEM;
	u32 i;

	order = kb_order(entries);
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!order || !h)
		goto out;
	rp.nelem_hint = entries;
	ret = hmap_htab_init(h, &p);
	if (ret)
		goto out;
	ret = rhashtable_init(&ht, &rp);
	if (ret)
		goto out_h;

	/* Inserts: the element allocation is part of the cost for both. */
	t0 = ktime_get_ns();
	for (i = 0; i < entries && !ret; i++)
		ret = hmap_htab_update(h, &order[i], &order[i], HMAP_NOEXIST);
	th[0] = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < entries && !ret; i++) {
		o = kmalloc(sizeof(*o), GFP_KERNEL);
		if (!o) {
			ret = -ENOMEM;
			break;
		}
		o->key = order[i];
		o->value = order[i];
		ret = rhashtable_insert_fast(&ht, &o->node, kb_params);
		if (ret)
			kfree(o);
	}
	tr[0] = ktime_get_ns() - t0;
	if (ret)
		goto out_ht;

	/* Lookups, each copying the value out as a caller would. */
	t0 = ktime_get_ns();
	for (i = 0; i < entries; i++) {
		hmap_htab_lookup(h, &order[entries - 1 - i], &v);
		sum += v;
	}
	th[1] = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < entries; i++) {
		rcu_read_lock();
		o = rhashtable_lookup(&ht, &order[entries - 1 - i], kb_params);
		if (o)
			v = o->value;
		rcu_read_unlock();
		sum += v;
	}
	tr[1] = ktime_get_ns() - t0;

	/* Deletes, each element freed after a grace period. */
	t0 = ktime_get_ns();
	for (i = 0; i < entries; i++)
		hmap_htab_delete(h, &order[i]);
	th[2] = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < entries; i++) {
		rcu_read_lock();
		o = rhashtable_lookup(&ht, &order[i], kb_params);
		rcu_read_unlock();
		if (o && !rhashtable_remove_fast(&ht, &o->node, kb_params))
			kfree_rcu(o, rcu);
	}
	tr[2] = ktime_get_ns() - t0;

	kb_report("insert", th[0], tr[0], entries);
	kb_report("lookup", th[1], tr[1], entries);
	kb_report("delete", th[2], tr[2], entries);
	pr_info("KBENCH checksum %llu (both tables gave %s values)\n", sum,
		sum == 2 * ((u64)entries * (entries - 1) / 2) ? "the right" : "WRONG");
out_ht:
	rhashtable_free_and_destroy(&ht, NULL, NULL);
out_h:
	synchronize_rcu();
	hmap_htab_destroy(h);
out:
	kfree(h);
	vfree(order);
	return ret;
}

static int __init kb_init(void)
{
	return kb_run();
}

static void __exit kb_exit(void)
{
}

module_init(kb_init);
module_exit(kb_exit);

MODULE_DESCRIPTION("hmap core against rhashtable, in-kernel benchmark");
MODULE_LICENSE("GPL");
/* The core exports its functions only to this namespace: to this bench. */
MODULE_IMPORT_NS(HMAP_CORE);
