// SPDX-License-Identifier: GPL-2.0
/*
 * The image of an HMAP_F_MMAP map: see hmap_image.h for what it is, and
 * <linux/hmap.h> (struct hmap_mmap_header) for the layout readers rely on.
 *
 * Why a copy, and not the table itself mapped: the table's chains are
 * kernel pointers, which must never reach userspace, and its elements sit
 * beside them. Linking a second set of chains by index costs each write one
 * more copy of its key and value, and keeps the table core, its RCU readers
 * and everything built on it (watches, batches, iteration) exactly as they
 * are for every other map.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include "hmap_image.h"

/* Bucket heads and slot 0 start on their own cache lines. */
#define HMAP_IMAGE_ALIGN	64

/* Whole-image loops offer to reschedule after this many buckets. */
#define HMAP_IMAGE_RESCHED	4096

/* Failures are returned as -ENOMEM to a user who can cause them: no warning. */
#define HMAP_IMAGE_GFP		(GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_ZERO)

static u32 hmap_image_slot_size(u32 key_size, u32 value_size)
{
	return sizeof(struct hmap_mmap_slot) + round_up(key_size, 8) +
	       round_up(value_size, 8);
}

static u64 hmap_image_slots_off(u32 buckets)
{
	u64 heads = round_up(sizeof(struct hmap_mmap_header), HMAP_IMAGE_ALIGN);

	return round_up(heads + (u64)buckets * sizeof(u32), HMAP_IMAGE_ALIGN);
}

/**
 * hmap_image_size() - bytes an image of these dimensions takes
 * @key_size: bytes per key, at most HMAP_MAX_KEY_SIZE
 * @value_size: bytes per value, at most HMAP_MAX_VALUE_SIZE
 * @slots: slots, at most about HMAP_MAX_ENTRIES
 * @buckets: bucket heads, a power of two below HMAP_MMAP_NULLS
 *
 * For the caller to charge before hmap_image_create(). No overflow in 64
 * bits: at most about 2^29 slots (two per entry and spares) of at most
 * 65552 bytes.
 *
 * Return: the size, a multiple of the page size.
 */
u64 hmap_image_size(u32 key_size, u32 value_size, u32 slots, u32 buckets)
{
	return PAGE_ALIGN(hmap_image_slots_off(buckets) +
			  (u64)slots * hmap_image_slot_size(key_size, value_size));
}

static inline struct hmap_mmap_slot *hmap_image_slot(const struct hmap_image *img,
						     u32 idx)
{
	return (struct hmap_mmap_slot *)(img->slots + (size_t)idx * img->slot_size);
}

/**
 * hmap_image_create() - allocate an image with every chain empty
 * @key_size: bytes per key
 * @value_size: bytes per value
 * @slots: slots, one per element of the map's pool
 * @buckets: bucket heads: the table's size, a power of two below
 *	HMAP_MMAP_NULLS, so that a key is in the same bucket in both
 * @seed: the table's hash seed
 *
 * The pages are zeroed (no byte of earlier kernel use reaches a reader) and
 * charged to the caller's memory cgroup. The caller charges any budget of
 * its own, for hmap_image_size(). May sleep.
 *
 * Return: the image, or ERR_PTR(-ENOMEM).
 */
struct hmap_image *hmap_image_create(u32 key_size, u32 value_size, u32 slots,
				     u32 buckets, u32 seed)
{
	u64 bytes = hmap_image_size(key_size, value_size, slots, buckets);
	struct hmap_mmap_header *hdr;
	struct hmap_image *img;
	u32 b;

	if (WARN_ON_ONCE(!is_power_of_2(buckets) || buckets > HMAP_MMAP_NULLS ||
			 slots >= HMAP_MMAP_NULLS))
		return ERR_PTR(-EINVAL);
	img = kzalloc(sizeof(*img), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!img)
		return ERR_PTR(-ENOMEM);
	/* vmalloc, not kvmalloc: every page must be one that can be mapped. */
	hdr = bytes <= ULONG_MAX ? __vmalloc(bytes, HMAP_IMAGE_GFP) : NULL;
	if (!hdr) {
		kfree(img);
		return ERR_PTR(-ENOMEM);
	}
	img->hdr = hdr;
	img->bucket_mask = buckets - 1;
	img->nslots = slots;
	img->slot_size = hmap_image_slot_size(key_size, value_size);
	img->key_size = key_size;
	img->value_size = value_size;
	img->value_off = round_up(key_size, 8);
	img->bytes = bytes;
	img->heads = (u32 *)((u8 *)hdr + round_up(sizeof(*hdr), HMAP_IMAGE_ALIGN));
	img->slots = (u8 *)hdr + hmap_image_slots_off(buckets);

	hdr->magic = HMAP_MMAP_MAGIC;
	hdr->layout = HMAP_MMAP_LAYOUT;
	hdr->header_size = sizeof(*hdr);
	hdr->hash = HMAP_MMAP_HASH_JHASH;
	hdr->seed = seed;
	hdr->key_size = key_size;
	hdr->value_size = value_size;
	hdr->value_off = img->value_off;
	hdr->slot_size = img->slot_size;
	hdr->chain_max = HMAP_IMAGE_CHAIN_MAX;
	hdr->buckets = buckets;
	hdr->slots = slots;
	hdr->buckets_off = (u8 *)img->heads - (u8 *)hdr;
	hdr->slots_off = img->slots - (u8 *)hdr;
	hdr->mmap_bytes = bytes;
	for (b = 0; b < buckets; b++) {
		img->heads[b] = HMAP_MMAP_NULLS | b;
		if (!(b % HMAP_IMAGE_RESCHED))
			cond_resched();
	}
	return img;
}

/**
 * hmap_image_free() - free an image
 * @img: the image, or NULL
 *
 * Only once nothing maps it any more: a mapping holds the map's file, so
 * this runs from the map's destruction.
 */
void hmap_image_free(struct hmap_image *img)
{
	if (!img)
		return;
	vfree(img->hdr);
	kfree(img);
}

/**
 * hmap_image_room() - whether a new key of this hash may join its chain
 * @img: the image
 * @hash: the key's hash
 *
 * Called under the bucket's lock, which keeps the chain as it is. Bounding
 * chains here bounds them in the table too, which has the same buckets.
 *
 * Return: true if the chain holds fewer than HMAP_IMAGE_CHAIN_MAX entries.
 */
bool hmap_image_room(const struct hmap_image *img, u32 hash)
{
	u32 idx = img->heads[hash & img->bucket_mask];
	u32 n;

	for (n = 0; !(idx & HMAP_MMAP_NULLS); n++) {
		if (n >= HMAP_IMAGE_CHAIN_MAX - 1)
			return false;
		idx = hmap_image_slot(img, idx)->next;
	}
	return true;
}

/*
 * A slot's count goes odd before any byte of it changes, and even again,
 * with a value never used before, once all have: whoever read the slot
 * between two equal even counts read no byte of a write.
 */
static inline void hmap_image_write_begin(struct hmap_mmap_slot *s)
{
	WRITE_ONCE(s->seq, s->seq | 1);
	smp_wmb();	/* odd @seq before any byte of the slot changes */
}

static inline void hmap_image_write_end(struct hmap_mmap_slot *s, u64 seq)
{
	smp_wmb();	/* every byte of the slot before the even @seq */
	WRITE_ONCE(s->seq, seq);
}

/**
 * hmap_image_link() - put an entry in slot @idx at the head of its chain
 * @img: the image
 * @idx: the element's index in the map's pool; not in any chain
 * @hash: the key's hash
 * @key: key_size bytes
 * @value: value_size bytes
 * @seq: the entry's &hmap_elem.seq (its version shifted left by one), which
 *	no slot of the map had before
 *
 * Under the bucket's lock. A reader still standing on the slot from its
 * previous life sees its count change and starts again.
 */
void hmap_image_link(struct hmap_image *img, u32 idx, u32 hash,
		     const void *key, const void *value, u64 seq)
{
	struct hmap_mmap_slot *s = hmap_image_slot(img, idx);
	u32 *head = &img->heads[hash & img->bucket_mask];

	hmap_image_write_begin(s);
	WRITE_ONCE(s->hash, hash);
	WRITE_ONCE(s->next, *head);
	memcpy(s->data, key, img->key_size);
	memcpy(s->data + img->value_off, value, img->value_size);
	hmap_image_write_end(s, seq);
	/* A reader that finds the slot from the head finds it whole. */
	smp_store_release(head, idx);
}

/**
 * hmap_image_set_value() - replace the value of a linked slot in place
 * @img: the image
 * @idx: the slot
 * @value: value_size bytes
 * @seq: the entry's new &hmap_elem.seq
 *
 * Under the bucket's lock.
 */
void hmap_image_set_value(struct hmap_image *img, u32 idx, const void *value,
			  u64 seq)
{
	struct hmap_mmap_slot *s = hmap_image_slot(img, idx);

	hmap_image_write_begin(s);
	memcpy(s->data + img->value_off, value, img->value_size);
	hmap_image_write_end(s, seq);
}

/*
 * A slot out of its chain: its key and value wiped, so that nobody who maps
 * the map later reads an entry it no longer has, and its count left odd,
 * so that a reader standing on it starts again. Its @next stays until it
 * is linked again: a reader that already read the slot walks on to the end
 * of a chain.
 */
static void hmap_image_wipe(struct hmap_image *img, struct hmap_mmap_slot *s)
{
	hmap_image_write_begin(s);
	memset(s->data, 0, img->slot_size - sizeof(*s));
}

/**
 * hmap_image_unlink() - take slot @idx out of its chain, and wipe it
 * @img: the image
 * @idx: the slot, linked
 * @hash: its key's hash
 *
 * Under the bucket's lock.
 */
void hmap_image_unlink(struct hmap_image *img, u32 idx, u32 hash)
{
	u32 *link = &img->heads[hash & img->bucket_mask];
	struct hmap_mmap_slot *s = hmap_image_slot(img, idx);
	u32 n;

	for (n = 0; *link != idx; n++) {
		/* The table and the image disagree: a bug, not a user's doing. */
		if (WARN_ON_ONCE((*link & HMAP_MMAP_NULLS) ||
				 n >= HMAP_IMAGE_CHAIN_MAX))
			return;
		link = &hmap_image_slot(img, *link)->next;
	}
	/* Release: as hmap_image_link(), for readers that acquire links. */
	smp_store_release(link, s->next);
	hmap_image_wipe(img, s);
}

/**
 * hmap_image_clear_bucket() - empty one chain, wiping its slots
 * @img: the image
 * @b: the bucket
 *
 * For a clear, with the map's rwsem held for write, bucket by bucket in
 * step with the table (see hmap_tbl_empty()).
 */
void hmap_image_clear_bucket(struct hmap_image *img, u32 b)
{
	u32 idx = img->heads[b], n;

	/* Release: as the other link stores, for readers that acquire. */
	smp_store_release(&img->heads[b], HMAP_MMAP_NULLS | b);
	for (n = 0; !(idx & HMAP_MMAP_NULLS); n++) {
		if (WARN_ON_ONCE(idx >= img->nslots || n >= HMAP_IMAGE_CHAIN_MAX))
			return;
		hmap_image_wipe(img, hmap_image_slot(img, idx));
		idx = hmap_image_slot(img, idx)->next;
	}
}
