/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every command handler shares: the command in flight, and the copies
 * of keys and values between user memory and a kernel bounce buffer.
 */
#ifndef _HMAP_UCMD_H
#define _HMAP_UCMD_H

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hmap_priv.h"

/*
 * Room on the stack for what a command bounces: a 64-byte key and a
 * 256-byte value fit, so that they cost no allocation. A heap bounce costs
 * more than the copies it holds: the kernel zeroes every allocation
 * (init_on_alloc), and checks each copy to or from a slab object against
 * its cache (hardened usercopy).
 */
#define HMAP_BOUNCE_STACK	(64 + 256)
/*
 * CMPXCHG's room: the key and two values, expected and desired. Only it
 * gets this much: its write never allocates an element nor resizes the
 * table, the deep paths under UPDATE, ADD and DELETE, whose frames keep the
 * smaller room.
 */
#define HMAP_BOUNCE_STACK_CAS	(64 + 2 * 256)

/**
 * struct hmap_ucmd - one command in flight
 * @filp: the file it was issued on
 * @map: the map, for a map fd; NULL on /dev/hmap
 * @ubuffer: the user's argument struct
 * @user_size: its size, as the user said
 * @cmd: the kernel's copy of it
 */
struct hmap_ucmd {
	struct file *filp;
	struct hmap_map *map;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/* Copies the kernel's struct back over the user's, as much as fits. */
static inline int hmap_ucmd_respond(struct hmap_ucmd *ucmd, size_t size)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd, min_t(size_t, ucmd->user_size, size)))
		return -EFAULT;
	return 0;
}

/*
 * Keys and values of 4 and 8 bytes, the common case, move with a single
 * get_user() or put_user(): no call, no string copy, and no object-size
 * check of the bounce buffer, which cost more than the copy itself. @dst
 * and @src are bounce buffers, hence 8-byte aligned.
 */
static inline int hmap_copy_in(void *dst, u64 usrc, u32 size)
{
	void __user *src = u64_to_user_ptr(usrc);

	switch (size) {
	case 4:
		return get_user(*(u32 *)dst, (u32 __user *)src);
	case 8:
		return get_user(*(u64 *)dst, (u64 __user *)src);
	default:
		return copy_from_user(dst, src, size) ? -EFAULT : 0;
	}
}

static inline int hmap_copy_out(u64 udst, const void *src, u32 size)
{
	void __user *dst = u64_to_user_ptr(udst);

	switch (size) {
	case 4:
		return put_user(*(const u32 *)src, (u32 __user *)dst);
	case 8:
		return put_user(*(const u64 *)src, (u64 __user *)dst);
	default:
		return copy_to_user(dst, src, size) ? -EFAULT : 0;
	}
}

/**
 * struct hmap_bounce - kernel copies of one key and of what goes with it
 * @key: key_size bytes
 * @value: the second region: value_size bytes, or key_size bytes for the
 *	next key of GET_NEXT_KEY, as the command asked
 * @heap: the allocation behind @key and @value when they do not fit @room
 * @room: the caller's stack buffer, 8-byte aligned
 * @room_size: its size
 */
struct hmap_bounce {
	void *key;
	void *value;
	void *heap;
	void *room;
	size_t room_size;
};

/*
 * A bounce buffer whose room is @r, an array on the caller's stack. Callers
 * declare that array __uninitialized: a kernel built with
 * CONFIG_INIT_STACK_ALL_ZERO (as Debian's is) would otherwise clear all of
 * it on every call, however little of it the command uses. Every byte read
 * from the room was written first, by a copy in or by the table.
 */
#define HMAP_BOUNCE_INIT(r)						\
	{ .room = (r), .room_size = sizeof(r) + __must_be_array(r) }

static inline int hmap_bounce_init(struct hmap_bounce *b,
				   struct hmap_htab *h, u32 second)
{
	size_t koff = round_up(h->key_size, 8);
	size_t need = koff + second;

	b->heap = NULL;
	if (need <= b->room_size) {
		b->key = b->room;
	} else {
		b->heap = kvmalloc(need, GFP_KERNEL);
		if (!b->heap)
			return -ENOMEM;
		b->key = b->heap;
	}
	b->value = (char *)b->key + koff;
	return 0;
}

static inline void hmap_bounce_release(struct hmap_bounce *b)
{
	kvfree(b->heap);
}

/*
 * Sets up the bounce buffer, with @second bytes after the key, and copies
 * the key in; a @ukey of 0 is copied like any pointer (EFAULT) unless
 * @optional. On error nothing is left to release.
 */
static inline int hmap_bounce_key(struct hmap_bounce *b, struct hmap_htab *h,
				  u64 ukey, bool optional, u32 second)
{
	int ret = hmap_bounce_init(b, h, second);

	if (ret)
		return ret;
	if ((ukey || !optional) && hmap_copy_in(b->key, ukey, h->key_size)) {
		hmap_bounce_release(b);
		return -EFAULT;
	}
	return 0;
}

/* hmap_rmw.c: the read-modify-write commands */
int hmap_cmd_add(struct hmap_ucmd *ucmd);
int hmap_cmd_cmpxchg(struct hmap_ucmd *ucmd);

#endif /* _HMAP_UCMD_H */
