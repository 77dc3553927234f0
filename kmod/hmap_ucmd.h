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

/* Keys and values up to this many bytes together bounce on the stack. */
#define HMAP_BOUNCE_STACK	256

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
 * @heap: the allocation behind @key and @value when they do not fit @stack
 * @stack: room for small keys and values
 */
struct hmap_bounce {
	void *key;
	void *value;
	void *heap;
	u64 stack[HMAP_BOUNCE_STACK / sizeof(u64)];
};

static inline int hmap_bounce_init(struct hmap_bounce *b,
				   struct hmap_htab *h, u32 second)
{
	size_t koff = round_up(h->key_size, 8);
	size_t need = koff + second;

	b->heap = NULL;
	if (need <= sizeof(b->stack)) {
		b->key = b->stack;
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
