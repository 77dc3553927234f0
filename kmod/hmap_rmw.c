// SPDX-License-Identifier: GPL-2.0
/*
 * The read-modify-write commands: ADD (atomic counters) and CMPXCHG
 * (compare-and-swap by value). Each is a hmap_htab_write() whose new value
 * is decided by a callback under the bucket lock that orders every write of
 * the entry, so two processes adding to one counter at once never lose an
 * increment, and no reader ever sees a value half-written. UPDATE and
 * DELETE with HMAP_IF_VERSION, the compare-and-swap by version, need no
 * callback: the table compares versions itself.
 */
#include <linux/uaccess.h>

#include "hmap_ucmd.h"

/**
 * struct hmap_add_ctx - one ADD, as its callback sees it
 * @delta: what to add
 * @size: value_size: 4 or 8
 * @found: set if the entry was there (else the write created it)
 * @old: the value before
 * @new: the value after
 * @out: the new value, in the value's own width, for the table to write
 * @init: the value of an entry the ADD creates: @delta in the value's width
 */
struct hmap_add_ctx {
	s64 delta;
	u32 size;
	bool found;
	u64 old;
	u64 new;
	union {
		u32 v32;
		u64 v64;
	} out, init;
};

/* Under the bucket lock: the sum, modulo 2^32 or 2^64 as documented. */
static int hmap_add_modify(struct hmap_write *w, const void *cur)
{
	struct hmap_add_ctx *c = w->ctx;

	c->found = true;
	if (c->size == 4) {
		c->old = *(const u32 *)cur;
		c->out.v32 = (u32)c->old + (u32)c->delta;
		c->new = c->out.v32;
	} else {
		c->old = *(const u64 *)cur;
		c->out.v64 = c->old + (u64)c->delta;
		c->new = c->out.v64;
	}
	w->value = &c->out;
	return 0;
}

/**
 * hmap_cmd_add() - HMAP_IOC_ADD
 * @ucmd: the command
 *
 * Return: 0 or a negative errno, as documented at &struct hmap_add.
 */
int hmap_cmd_add(struct hmap_ucmd *ucmd)
{
	struct hmap_add *arg = ucmd->cmd;
	struct hmap_add __user *u = ucmd->ubuffer;
	struct hmap_htab *h = &ucmd->map->htab;
	struct hmap_add_ctx c = { .delta = arg->delta, .size = h->value_size };
	struct hmap_write w = {
		.flags = arg->flags & HMAP_ADD_CREATE ? HMAP_ANY : HMAP_EXIST,
		.value = &c.init,
		.modify = hmap_add_modify,
		.ctx = &c,
	};
	struct mem_cgroup *old_memcg;
	u64 room[HMAP_BOUNCE_STACK / sizeof(u64)] __uninitialized;
	struct hmap_bounce b = HMAP_BOUNCE_INIT(room);
	int ret;

	if (arg->flags & ~HMAP_ADD_FLAGS)
		return -EINVAL;
	if (h->value_size != 4 && h->value_size != 8)
		return -EOPNOTSUPP;
	/* Only an entry the ADD creates takes it: one that exists keeps its own. */
	ret = hmap_ttl_deadline(h, arg->ttl_ms, &w.deadline);
	if (ret)
		return ret;
	/*
	 * An add cannot be taken back: check that its results can reach the
	 * caller (first and last output field, so every page of them) before
	 * it is made. They are rewritten, whatever the outcome.
	 */
	if (put_user(0ULL, &u->old_value) || put_user(0ULL, &u->version))
		return -EFAULT;
	if (c.size == 4)
		c.init.v32 = (u32)c.delta;
	else
		c.init.v64 = (u64)c.delta;
	ret = hmap_bounce_key(&b, h, arg->key, false, 0);
	if (ret)
		return ret;
	old_memcg = hmap_map_memcg_enter(ucmd->map);
	ret = hmap_htab_write(h, b.key, &w);
	hmap_map_memcg_exit(old_memcg);
	hmap_bounce_release(&b);
	if (ret)
		return ret;
	this_cpu_inc(ucmd->map->stats->adds);
	if (w.deadline && !c.found)
		hmap_expiry_arm(ucmd->map, w.deadline);
	if (!c.found)
		c.new = c.size == 4 ? c.init.v32 : c.init.v64;
	arg->old_value = c.found ? c.old : 0;
	arg->new_value = c.new;
	arg->version = w.version;
	/* The output fields only: @ttl_ms after them is the caller's input. */
	if (copy_to_user(&u->old_value, &arg->old_value,
			 offsetofend(struct hmap_add, version) -
			 offsetof(struct hmap_add, old_value)))
		return -EFAULT;
	return 0;
}

/**
 * struct hmap_cas_ctx - one CMPXCHG, as its callback sees it
 * @expected: value_size bytes; overwritten with the current value when it
 *	differs
 * @desired: value_size bytes
 * @size: value_size
 */
struct hmap_cas_ctx {
	void *expected;
	const void *desired;
	u32 size;
};

/* Under the bucket lock, which every writer of the entry holds. */
static int hmap_cas_modify(struct hmap_write *w, const void *cur)
{
	struct hmap_cas_ctx *c = w->ctx;

	if (memcmp(cur, c->expected, c->size)) {
		memcpy(c->expected, cur, c->size);
		return -ESTALE;
	}
	w->value = c->desired;
	return 0;
}

/**
 * hmap_cmd_cmpxchg() - HMAP_IOC_CMPXCHG
 * @ucmd: the command
 *
 * Return: 0 or a negative errno, as documented at &struct hmap_cmpxchg.
 */
int hmap_cmd_cmpxchg(struct hmap_ucmd *ucmd)
{
	struct hmap_cmpxchg *arg = ucmd->cmd;
	struct hmap_cmpxchg __user *u = ucmd->ubuffer;
	struct hmap_htab *h = &ucmd->map->htab;
	u32 vs = h->value_size, voff = round_up(vs, 8);
	struct hmap_cas_ctx c = { .size = vs };
	struct hmap_write w = {
		.flags = HMAP_EXIST,
		.modify = hmap_cas_modify,
		.ctx = &c,
	};
	u64 room[HMAP_BOUNCE_STACK_CAS / sizeof(u64)] __uninitialized;
	struct hmap_bounce b = HMAP_BOUNCE_INIT(room);
	int ret;

	if (arg->flags)
		return -EINVAL;
	/* The new version must be able to reach the caller: check first. */
	if (put_user(arg->version, &u->version))
		return -EFAULT;
	/* Room after the key for the expected value, then the desired one. */
	ret = hmap_bounce_key(&b, h, arg->key, false, voff + vs);
	if (ret)
		return ret;
	c.expected = b.value;
	c.desired = (u8 *)b.value + voff;
	w.value = c.desired;
	if (hmap_copy_in(c.expected, arg->expected, vs) ||
	    hmap_copy_in((void *)c.desired, arg->desired, vs)) {
		ret = -EFAULT;
		goto out;
	}
	/* It never creates an entry, so it allocates nothing to charge. */
	ret = hmap_htab_write(h, b.key, &w);
	if (!ret) {
		this_cpu_inc(ucmd->map->stats->cmpxchgs);
	} else if (ret == -ESTALE) {
		/* As C11: the value found goes back, ready for the next try. */
		if (hmap_copy_out(arg->expected, c.expected, vs))
			ret = -EFAULT;
		else
			this_cpu_inc(ucmd->map->stats->conflicts);
	}
	if ((!ret || ret == -ESTALE) && put_user(w.version, &u->version) &&
	    !ret)
		ret = -EFAULT;
out:
	hmap_bounce_release(&b);
	return ret;
}
