/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The image of an HMAP_F_MMAP map: a copy of its entries in the layout of
 * <linux/hmap.h> (struct hmap_mmap_header), in pages that readers map
 * read-only and search with no system call.
 *
 * The table core owns the entries and calls in here under the lock that
 * orders the change (a bucket lock, or the map's rwsem held for write), so
 * the image always holds exactly the table's entries, in the same buckets,
 * and a slot always holds the element of the same index in the map's pool.
 * The image has no lock of its own and holds no kernel address: chains are
 * linked by slot index.
 *
 * Readers take no lock and hold nothing that writers wait for: each slot's
 * sequence count tells them when a copy is not to be trusted (see struct
 * hmap_mmap_slot). A slot is reused only for an element of the same map,
 * and the pages are freed only with the map, after its last mapping.
 *
 * Like the table core, this unit knows nothing of files: the map's file
 * code maps the pages (hmap_image_vaddr()), and the userspace build of the
 * core builds this file too.
 */
#ifndef _HMAP_IMAGE_H
#define _HMAP_IMAGE_H

#include <linux/types.h>
#include <linux/hmap.h>

/* Entries a chain of a mapped map may hold: see HMAP_F_MMAP. */
#define HMAP_IMAGE_CHAIN_MAX	16

/**
 * struct hmap_image - a map's image and where things are in it
 * @hdr: the image, @bytes of page-backed memory (vmalloc) starting with
 *	its header. Immutable but for the bucket heads and slots, which only
 *	the table core's writers change, under the bucket's lock.
 * @heads: the bucket heads, inside the image.
 * @slots: slot 0, inside the image.
 * @bucket_mask: number of buckets minus one.
 * @nslots: number of slots.
 * @slot_size: bytes per slot.
 * @key_size: bytes per key.
 * @value_size: bytes per value.
 * @value_off: offset of the value in a slot's data.
 * @bytes: size of the image, page aligned.
 */
struct hmap_image {
	struct hmap_mmap_header *hdr;
	u32 *heads;
	u8 *slots;
	u32 bucket_mask;
	u32 nslots;
	u32 slot_size;
	u32 key_size;
	u32 value_size;
	u32 value_off;
	u64 bytes;
};

u64 hmap_image_size(u32 key_size, u32 value_size, u32 slots, u32 buckets);
struct hmap_image *hmap_image_create(u32 key_size, u32 value_size, u32 slots,
				     u32 buckets, u32 seed);
void hmap_image_free(struct hmap_image *img);
bool hmap_image_room(const struct hmap_image *img, u32 hash);
void hmap_image_link(struct hmap_image *img, u32 idx, u32 hash,
		     const void *key, const void *value, u64 seq);
void hmap_image_set_value(struct hmap_image *img, u32 idx, const void *value,
			  u64 seq);
void hmap_image_unlink(struct hmap_image *img, u32 idx, u32 hash);
void hmap_image_clear_bucket(struct hmap_image *img, u32 b);

/**
 * hmap_image_vaddr() - where the image starts, for mapping it
 * @img: the image
 *
 * Return: the start of @img->bytes of vmalloc memory; the pages are the
 * map's for its whole life.
 */
static inline void *hmap_image_vaddr(const struct hmap_image *img)
{
	return img->hdr;
}

#endif /* _HMAP_IMAGE_H */
