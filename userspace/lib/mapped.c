// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The lock-free reader of an HMAP_F_MMAP map's image: see mapped.h, and
 * struct hmap_mmap_header and struct hmap_mmap_slot in <linux/hmap.h> for
 * the writer's side of the protocol.
 *
 * The image is shared memory that the kernel writes while we read it, so
 * nothing read from a slot is believed until the slot's sequence count,
 * loaded again after the reads, shows that no write overlapped them; and
 * nothing read from the image, believed or not, may take the reader
 * outside it or keep it walking: indexes are checked against the slot
 * count before use, and a walk gives up after chain_max slots.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mapped.h"

#include "mapped_walk.h"

__u32 libhmap_jhash(const void *key, __u32 length, __u32 seed)
{
	const unsigned char *k = key;
	__u32 a, b, c;

	a = b = c = LIBHMAP_JHASH_INITVAL + length + seed;
	/* Every block but the last, even a last one of exactly 12 bytes. */
	while (length > 12) {
		a += libhmap_get32(k);
		b += libhmap_get32(k + 4);
		c += libhmap_get32(k + 8);
		libhmap_jhash_mix(a, b, c);
		length -= 12;
		k += 12;
	}
	/*
	 * The last bytes by explicit shifts, as the kernel adds them: the
	 * same as native words on a little-endian machine, not on others.
	 */
	switch (length) {
	case 12:
		c += (__u32)k[11] << 24;
		libhmap_fallthrough;
	case 11:
		c += (__u32)k[10] << 16;
		libhmap_fallthrough;
	case 10:
		c += (__u32)k[9] << 8;
		libhmap_fallthrough;
	case 9:
		c += k[8];
		libhmap_fallthrough;
	case 8:
		b += (__u32)k[7] << 24;
		libhmap_fallthrough;
	case 7:
		b += (__u32)k[6] << 16;
		libhmap_fallthrough;
	case 6:
		b += (__u32)k[5] << 8;
		libhmap_fallthrough;
	case 5:
		b += k[4];
		libhmap_fallthrough;
	case 4:
		a += (__u32)k[3] << 24;
		libhmap_fallthrough;
	case 3:
		a += (__u32)k[2] << 16;
		libhmap_fallthrough;
	case 2:
		a += (__u32)k[1] << 8;
		libhmap_fallthrough;
	case 1:
		a += k[0];
		libhmap_jhash_final(a, b, c);
		break;
	case 0:
		/* Nothing left: lookup3 returns c unmixed. */
		break;
	}
	return c;
}

__u32 libhmap_key_hash(const void *key, __u32 key_size, __u32 seed)
{
	return libhmap_key_hash_inline(key, key_size, seed);
}

/* ---- the image ---- */

int libhmap_view_init(struct libhmap_view *v,
		      const struct hmap_mmap_header *base, __u64 bytes,
		      __u32 key_size, __u32 value_size)
{
	struct hmap_mmap_header h;

	memset(v, 0, sizeof(*v));
	/* 8-aligned: the slots' 64-bit counts are loaded atomically. */
	if (!base || (uintptr_t)base % 8 || bytes < sizeof(h))
		return -EPROTO;
	/*
	 * One copy, and every check and every use from it: the header is
	 * immutable by contract, but a reader that trusted it twice could be
	 * led out of the image by one that changed between the two reads.
	 */
	memcpy(&h, base, sizeof(h));
	if (h.magic != HMAP_MMAP_MAGIC || h.layout != HMAP_MMAP_LAYOUT ||
	    h.hash != HMAP_MMAP_HASH_JHASH || h.header_size < sizeof(h) ||
	    h.header_size > bytes || h.mmap_bytes != bytes)
		return -EPROTO;
	if (!key_size || !value_size || h.key_size != key_size ||
	    h.value_size != value_size)
		return -EPROTO;
	/* The key at data[0], the value after it, both inside the slot. */
	if (h.value_off < h.key_size || h.value_off % 8 || h.slot_size % 8 ||
	    (__u64)h.slot_size < sizeof(struct hmap_mmap_slot) +
				 (__u64)h.value_off + h.value_size)
		return -EPROTO;
	/* A bucket is hash & (buckets - 1), and NULLS | bucket must be one. */
	if (!h.buckets || h.buckets & (h.buckets - 1) ||
	    h.buckets > HMAP_MMAP_NULLS || !h.chain_max ||
	    h.slots > HMAP_MMAP_NULLS)
		return -EPROTO;
	/*
	 * Heads and slots after the header and inside @bytes; each side of
	 * each comparison fits in 64 bits (4 * 2^32, (2^32 - 1)^2). Heads
	 * 4-aligned and slots 8-aligned for the atomic loads of them.
	 */
	if (h.buckets_off % 4 || h.buckets_off < h.header_size ||
	    h.buckets_off > bytes ||
	    4 * (__u64)h.buckets > bytes - h.buckets_off)
		return -EPROTO;
	if (h.slots_off % 8 || h.slots_off < h.header_size ||
	    h.slots_off > bytes ||
	    (__u64)h.slots * h.slot_size > bytes - h.slots_off)
		return -EPROTO;

	v->base = (const unsigned char *)base;
	v->heads = (const __u32 *)(v->base + h.buckets_off);
	v->slots = v->base + h.slots_off;
	v->bytes = bytes;
	v->seed = h.seed;
	v->key_size = h.key_size;
	v->value_size = h.value_size;
	v->value_off = h.value_off;
	v->slot_size = h.slot_size;
	v->chain_max = h.chain_max;
	v->buckets = h.buckets;
	v->nslots = h.slots;
	return 0;
}

int libhmap_view_lookup(const struct libhmap_view *v, const void *key,
			void *value, __u64 *version, struct libhmap_walk *w)
{
	return libhmap_lookup_inline(v, key, value, version, w);
}

int libhmap_view_bucket(const struct libhmap_view *v, __u32 bucket,
			void *keys, void *values, __u64 *versions, __u32 max,
			__u32 *count, struct libhmap_walk *w)
{
	unsigned char *kout = keys, *vout = values;
	unsigned int tries;
	__u32 j;

	w->attempts = w->retries = w->steps = 0;
	if (count)
		*count = 0;
	if (bucket >= v->buckets || !keys || !count)
		return -EINVAL;
	for (tries = 0; tries < HMAP_MAPPED_TRIES; tries++) {
		__u32 idx = __atomic_load_n(&v->heads[bucket],
					    __ATOMIC_ACQUIRE);
		__u32 n = 0;

		w->attempts++;
		while (!(idx & HMAP_MMAP_NULLS)) {
			const struct hmap_mmap_slot *s;
			struct libhmap_visit vis;
			unsigned char *k = NULL;

			if (idx >= v->nslots || n >= v->chain_max)
				goto retry;
			w->steps++;
			s = libhmap_slot(v, idx);
			if (!libhmap_visit_begin(s, &vis))
				goto retry;
			if (n < max) {
				k = kout + (size_t)n * v->key_size;
				memcpy(k, s->data, v->key_size);
				if (vout)
					memcpy(vout + (size_t)n * v->value_size,
					       s->data + v->value_off,
					       v->value_size);
			}
			if (!libhmap_visit_end(v, s, &vis, bucket))
				goto retry;
			/* A believed entry with no room left for it. */
			if (!k)
				return -ENOSPC;
			/*
			 * A key met twice: a slot the walk had passed was
			 * reused at the head of this chain and led it back.
			 * No chain holds a key twice, so start again rather
			 * than copy it out twice.
			 */
			for (j = 0; j < n; j++)
				if (!memcmp(kout + (size_t)j * v->key_size, k,
					    v->key_size))
					goto retry;
			if (versions)
				versions[n] = vis.seq >> 1;
			n++;
			idx = vis.next;
		}
		if (idx == (HMAP_MMAP_NULLS | bucket)) {
			*count = n;
			return 0;
		}
retry:
		w->retries++;
	}
	return -EAGAIN;
}
