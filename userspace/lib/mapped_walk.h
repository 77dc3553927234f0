/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The inline half of the mapped reader (see mapped.h): the hash and the
 * walk of one lookup, with the key and value sizes as arguments that the
 * callers make constants for the common shapes. In a header so that
 * hmap_mapped_lookup() in libhmap.c expands the walk in place for those:
 * a mapped lookup costs a couple of hundred instructions, and a call, a
 * dispatch on the sizes and a struct written through a pointer were a
 * fifth of them.
 */
#ifndef _LIBHMAP_MAPPED_WALK_H
#define _LIBHMAP_MAPPED_WALK_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "mapped.h"

/* ---- the hash: Bob Jenkins' lookup3 (public domain), as jhash() ---- */

#define LIBHMAP_JHASH_INITVAL	0xdeadbeefU

#if defined(__GNUC__) && __GNUC__ >= 7 || defined(__clang__)
#define libhmap_fallthrough	__attribute__((__fallthrough__))
#else
#define libhmap_fallthrough	do {} while (0)
#endif

static inline __u32 libhmap_rol32(__u32 w, unsigned int s)
{
	return w << s | w >> (32 - s);
}

/* lookup3's mix(): the state after each whole 12-byte block. */
#define libhmap_jhash_mix(a, b, c) do {					\
	a -= c; a ^= libhmap_rol32(c, 4);  c += b;			\
	b -= a; b ^= libhmap_rol32(a, 6);  a += c;			\
	c -= b; c ^= libhmap_rol32(b, 8);  b += a;			\
	a -= c; a ^= libhmap_rol32(c, 16); c += b;			\
	b -= a; b ^= libhmap_rol32(a, 19); a += c;			\
	c -= b; c ^= libhmap_rol32(b, 4);  b += a;			\
} while (0)

/* lookup3's final(): folds the state into c. */
#define libhmap_jhash_final(a, b, c) do {				\
	c ^= b; c -= libhmap_rol32(b, 14);				\
	a ^= c; a -= libhmap_rol32(c, 11);				\
	b ^= a; b -= libhmap_rol32(a, 25);				\
	c ^= b; c -= libhmap_rol32(b, 16);				\
	a ^= c; a -= libhmap_rol32(c, 4);				\
	b ^= a; b -= libhmap_rol32(a, 14);				\
	c ^= b; c -= libhmap_rol32(b, 24);				\
} while (0)

/* A native-endian word from any address, as the kernel's get_unaligned(). */
static inline __u32 libhmap_get32(const unsigned char *p)
{
	__u32 w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* The kernel's __jhash_nwords(): jhash_1word() and jhash_2words() below. */
static inline __u32 libhmap_jhash_nwords(__u32 a, __u32 b, __u32 c,
					 __u32 initval)
{
	a += initval;
	b += initval;
	c += initval;
	libhmap_jhash_final(a, b, c);
	return c;
}

/* Inline, so that a constant @key_size leaves only its own case. */
static inline __attribute__((always_inline)) __u32
libhmap_key_hash_inline(const void *key, __u32 key_size, __u32 seed)
{
	const unsigned char *k = key;

	/* The kernel's words carry the length in bytes: 1 << 2, 2 << 2. */
	switch (key_size) {
	case 4:
		return libhmap_jhash_nwords(libhmap_get32(k), 0, 0,
					    seed + LIBHMAP_JHASH_INITVAL + 4);
	case 8:
		return libhmap_jhash_nwords(libhmap_get32(k),
					    libhmap_get32(k + 4), 0,
					    seed + LIBHMAP_JHASH_INITVAL + 8);
	default:
		return libhmap_jhash(key, key_size, seed);
	}
}

/* ---- the walk ---- */

/* Slot @idx, which the caller checked is below v->nslots. */
static inline const struct hmap_mmap_slot *
libhmap_slot(const struct libhmap_view *v, __u32 idx)
{
	return (const struct hmap_mmap_slot *)(v->slots +
					       (size_t)idx * v->slot_size);
}

/*
 * What one visit of a slot read, if the slot's count says it can be
 * believed: its version, hash and next link.
 */
struct libhmap_visit {
	__u64 seq;
	__u32 hash;
	__u32 next;
};

/*
 * Loads the count of slot @s before the reader reads the slot: acquire,
 * so that none of the reads after it can see bytes older than it. Odd:
 * being written. 0: never written, so no chain can have led here.
 */
static inline bool libhmap_visit_begin(const struct hmap_mmap_slot *s,
				       struct libhmap_visit *vis)
{
	vis->seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if (!vis->seq || vis->seq & 1)
		return false;
	/*
	 * Links change without the count (unlink): loaded once, atomically,
	 * and with acquire, as the heads, so that the slot a link names is
	 * read as it was when it was linked, not only on machines that order
	 * dependent loads.
	 */
	vis->hash = __atomic_load_n(&s->hash, __ATOMIC_RELAXED);
	vis->next = __atomic_load_n(&s->next, __ATOMIC_ACQUIRE);
	return true;
}

/*
 * After the reader read what it wanted of slot @s: the count again. The
 * fence keeps the reads of the slot (plain ones too: GCC and Clang treat
 * the fence as a barrier for every access) before this load, so an equal
 * even count means that no write of the slot overlapped any of them. A
 * slot that passes but hashes to another bucket was reused by another
 * chain while the reader walked towards it: the walk left its chain.
 */
static inline bool libhmap_visit_end(const struct libhmap_view *v,
				     const struct hmap_mmap_slot *s,
				     const struct libhmap_visit *vis,
				     __u32 bucket)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != vis->seq)
		return false;
	return (vis->hash & (v->buckets - 1)) == bucket;
}

/*
 * The walk of libhmap_view_lookup(), with the key and value sizes as
 * arguments that are constants where the common sizes call it: the key
 * compare and the value copy then take a register or two, not a call, and
 * the hash is the kernel's one- or two-word jhash inline. The counters
 * stay in registers until the end.
 */
static inline __attribute__((always_inline)) int
libhmap_lookup_sized(const struct libhmap_view *v, const void *key,
		     void *value, __u64 *version, struct libhmap_walk *w,
		     __u32 ks, __u32 vs)
{
	__u32 hash = libhmap_key_hash_inline(key, ks, v->seed);
	__u32 bucket = hash & (v->buckets - 1);
	__u64 steps = 0;
	unsigned int tries;
	int ret = -EAGAIN;

	for (tries = 0; tries < HMAP_MAPPED_TRIES; tries++) {
		/* Acquire: the slot it names was whole before it was linked. */
		__u32 idx = __atomic_load_n(&v->heads[bucket],
					    __ATOMIC_ACQUIRE);
		__u32 n = 0;

		while (!(idx & HMAP_MMAP_NULLS)) {
			const struct hmap_mmap_slot *s;
			__u64 seq;
			__u32 next;
			bool match;

			/*
			 * No chain is longer than chain_max: a longer walk
			 * was carried along by writers, or into a cycle.
			 */
			if (idx >= v->nslots || n >= v->chain_max)
				goto retry;
			n++;
			steps++;
			s = libhmap_slot(v, idx);
			/*
			 * Another hash, in either of the slot's lives if a
			 * writer is changing it: not our key, whatever the
			 * count says, and the link is one the slot had. As
			 * the kernel's RCU lists: a link followed out of its
			 * chain ends at another chain's end, or runs past
			 * chain_max, and the walk starts again.
			 */
			if (__atomic_load_n(&s->hash, __ATOMIC_RELAXED) != hash) {
				idx = __atomic_load_n(&s->next, __ATOMIC_ACQUIRE);
				continue;
			}
			/*
			 * Our hash: the count must bracket the key compare
			 * and the copy. A key that matches under an even,
			 * unchanged count is ours, so its hash and bucket
			 * are too: they need no second look.
			 */
			seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
			if (!seq || seq & 1)
				goto retry;
			next = __atomic_load_n(&s->next, __ATOMIC_ACQUIRE);
			match = !memcmp(s->data, key, ks);
			/* Copied before the check, which covers it too. */
			if (match)
				memcpy(value, s->data + v->value_off, vs);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq)
				goto retry;
			if (match) {
				if (version)
					*version = seq >> 1;
				ret = 0;
				goto out;
			}
			idx = next;
		}
		/*
		 * Our own chain's end: the key was in none of the slots the
		 * walk went through while each was in the chain. Another
		 * chain's end: a slot was moved to that chain under us.
		 */
		if (idx == (HMAP_MMAP_NULLS | bucket)) {
			ret = -ENOENT;
			goto out;
		}
retry:
		;
	}
out:
	/* Each try but the one that ended the walk was a retry. */
	w->attempts = ret == -EAGAIN ? tries : tries + 1;
	w->retries = tries;
	w->steps = steps;
	return ret;
}

/*
 * libhmap_view_lookup(), inline: the shapes worth a copy of their own
 * (word-sized keys and values) get one, the others share the generic walk.
 * hmap_mapped_lookup() expands it in place, so that a lookup makes no call.
 */
static inline __attribute__((always_inline)) int
libhmap_lookup_inline(const struct libhmap_view *v, const void *key,
		      void *value, __u64 *version, struct libhmap_walk *w)
{
	if (v->key_size == 8 && v->value_size == 8)
		return libhmap_lookup_sized(v, key, value, version, w, 8, 8);
	if (v->key_size == 4 && v->value_size == 8)
		return libhmap_lookup_sized(v, key, value, version, w, 4, 8);
	if (v->key_size == 4 && v->value_size == 4)
		return libhmap_lookup_sized(v, key, value, version, w, 4, 4);
	if (v->key_size == 8 && v->value_size == 4)
		return libhmap_lookup_sized(v, key, value, version, w, 8, 4);
	return libhmap_lookup_sized(v, key, value, version, w, v->key_size,
				    v->value_size);
}

#endif /* _LIBHMAP_MAPPED_WALK_H */
