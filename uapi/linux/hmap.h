/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hmap: kernel-resident hash maps shared between processes through /dev/hmap.
 *
 * This header is the whole contract between the module and userspace. Every
 * type has a fixed width, every pointer travels as a __u64, and every padding
 * byte is named so that it can be required to be zero. Fields never change
 * once they have shipped; new ones are only ever appended.
 */
#ifndef _UAPI_LINUX_HMAP_H
#define _UAPI_LINUX_HMAP_H

#include <linux/const.h>
#include <linux/types.h>

/**
 * define HMAP_MAX_KEY_SIZE - largest key, in bytes, a map may be created with
 *
 * Keys are hashed and compared on every operation and are bounced through
 * the kernel stack, so they are kept small, as BPF does (MAX_BPF_STACK).
 */
#define HMAP_MAX_KEY_SIZE	512

/**
 * define HMAP_MAX_VALUE_SIZE - largest value, in bytes, a map may be created with
 */
#define HMAP_MAX_VALUE_SIZE	65536

/**
 * define HMAP_NAME_LEN - size of the name buffer, including the terminating NUL
 */
#define HMAP_NAME_LEN		32

/*
 * Update modes, in the flags of an update. Exactly one may be given; ANY is
 * the absence of the other two.
 */

/** define HMAP_ANY - create the entry or replace its value */
#define HMAP_ANY		0
/** define HMAP_NOEXIST - create the entry only if the key is absent, else -EEXIST */
#define HMAP_NOEXIST		_BITULL(0)
/** define HMAP_EXIST - replace the value only if the key is present, else -ENOENT */
#define HMAP_EXIST		_BITULL(1)

#endif /* _UAPI_LINUX_HMAP_H */
