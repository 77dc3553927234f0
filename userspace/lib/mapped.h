/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The lock-free reader of an HMAP_F_MMAP map's image (struct
 * hmap_mmap_header in <linux/hmap.h>): libhmap's internals, not its API.
 *
 * It takes the image's address and nothing else: no fd, no errno, no
 * allocation, no state of its own. libhmap's hmap_mapped_*() wrap it around
 * a mapping; the userspace build of the kernel core calls it directly on
 * the image the real writer keeps, so that the reader is tested against
 * the writer without a kernel. Hence only <linux/hmap.h> here, and gnu11.
 *
 * Nothing here is exported from libhmap.so: the names are not hmap_*
 * (which libhmap.map exports) and they are hidden.
 */
#ifndef _LIBHMAP_MAPPED_H
#define _LIBHMAP_MAPPED_H

#include <linux/types.h>
#include <linux/hmap.h>

/*
 * Walks of a chain a lookup makes before it gives up and asks the kernel;
 * the same number as libhmap.h publishes (an identical redefinition, so a
 * difference between the two fails the build of libhmap.c).
 */
#define HMAP_MAPPED_TRIES	8

#if defined(__GNUC__) || defined(__clang__)
#define LIBHMAP_INTERNAL	__attribute__((visibility("hidden")))
#else
#define LIBHMAP_INTERNAL
#endif

/**
 * struct libhmap_view - where things are in one image, checked once
 * @base: the image: the header at offset 0
 * @heads: the bucket heads, inside the image
 * @slots: slot 0, inside the image
 * @bytes: bytes of the image the reader may read, from @base
 * @seed: the map's hash seed
 * @key_size: bytes per key
 * @value_size: bytes per value
 * @value_off: offset of the value in a slot's data
 * @slot_size: bytes per slot
 * @chain_max: most entries a chain holds
 * @buckets: number of bucket heads, a power of two
 * @nslots: number of slots
 *
 * A private copy of the header, made and checked by libhmap_view_init():
 * the walks never read the image's header again, so nothing the image
 * holds later can make them read outside @bytes.
 */
struct libhmap_view {
	const unsigned char *base;
	const __u32 *heads;
	const unsigned char *slots;
	__u64 bytes;
	__u32 seed;
	__u32 key_size;
	__u32 value_size;
	__u32 value_off;
	__u32 slot_size;
	__u32 chain_max;
	__u32 buckets;
	__u32 nslots;
};

/**
 * struct libhmap_walk - what one call did, for the caller's statistics
 * @attempts: walks of the chain started
 * @retries: walks abandoned: a slot changed under the reader, or the walk
 *	was carried out of its chain
 * @steps: slots visited, over all the walks; at most HMAP_MAPPED_TRIES *
 *	chain_max, since a walk visits at most chain_max slots
 */
struct libhmap_walk {
	__u64 attempts;
	__u64 retries;
	__u64 steps;
};

/*
 * libhmap_view_init() - check an image's header and describe it in @v
 * @base: the image; @bytes of it readable
 * @key_size, @value_size: the map's, as HMAP_IOC_INFO reports them
 *
 * Every offset, count and size the walks use is checked against @bytes
 * here, in 64 bits, with the alignment their atomic loads need.
 *
 * Return: 0, or -EPROTO if the header is not one of a layout this reader
 * knows, or does not fit in @bytes.
 */
LIBHMAP_INTERNAL int libhmap_view_init(struct libhmap_view *v,
				       const struct hmap_mmap_header *base,
				       __u64 bytes, __u32 key_size,
				       __u32 value_size);

/* The kernel's jhash(): lookup3 as include/linux/jhash.h has it. */
LIBHMAP_INTERNAL __u32 libhmap_jhash(const void *key, __u32 length,
				     __u32 seed);

/*
 * The kernel's hash of a key (hmap_hash() in kmod/hmap_table.c): 4- and
 * 8-byte keys as one or two native-endian words (jhash_1word(),
 * jhash_2words()), others by libhmap_jhash().
 */
LIBHMAP_INTERNAL __u32 libhmap_key_hash(const void *key, __u32 key_size,
					__u32 seed);

/*
 * libhmap_view_lookup() - look up a key in the image
 * @value: value_size bytes; may be written even when the call fails
 * @version: written with the entry's version on success; may be NULL
 * @w: filled with what the call did
 *
 * Return: 0; -ENOENT (absent); or -EAGAIN after HMAP_MAPPED_TRIES walks
 * that writers kept from completing: ask the kernel instead.
 */
LIBHMAP_INTERNAL int libhmap_view_lookup(const struct libhmap_view *v,
					 const void *key, void *value,
					 __u64 *version,
					 struct libhmap_walk *w);

/*
 * libhmap_view_bucket() - copy out one chain, every slot checked
 * @bucket: below @v->buckets
 * @keys: room for @max keys
 * @values: room for @max values, or NULL
 * @versions: room for @max versions, or NULL
 * @count: written with the entries copied on success, else 0
 * @w: filled with what the call did
 *
 * Return: 0; -EINVAL (@bucket out of range, @keys or @count NULL);
 * -ENOSPC (the chain held more than @max entries); or -EAGAIN after
 * HMAP_MAPPED_TRIES walks that writers kept from completing.
 */
LIBHMAP_INTERNAL int libhmap_view_bucket(const struct libhmap_view *v,
					 __u32 bucket, void *keys,
					 void *values, __u64 *versions,
					 __u32 max, __u32 *count,
					 struct libhmap_walk *w);

#endif /* _LIBHMAP_MAPPED_H */
