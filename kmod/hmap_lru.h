/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LRU maps: when an insert takes the map past max_entries, an entry used long
 * ago is evicted instead of the insert failing with -E2BIG (BPF's LRU_HASH
 * semantics, approximate as BPF's are).
 *
 * The clock is the map's version counter, which every write advances: each
 * element keeps in &hmap_elem.atime the low 32 bits of it at its last use. A
 * write stamps the version it takes; a lookup stamps the one the next write
 * will take, so that it ranks after every write that came before it. A
 * lookup that finds an older stamp stores the new one: a read of the counter
 * and at most one store per element per write to the map, with no lock, no
 * list and no cache line that every lookup writes. Eviction samples
 * the entries of a few buckets from a random place and removes the one with
 * the oldest stamp, as Redis's approximated LRU does.
 *
 * Why not BPF's lists: they cost 16 bytes or more per element (the stamp
 * fills padding) and rotate under locks on eviction; sampling costs a few
 * cache misses per eviction and nothing else. Entries used between two
 * writes share a stamp, and a stamp compares across 2^31 writes at most
 * (older ones look new): both only make the choice more approximate.
 */
#ifndef _HMAP_LRU_H
#define _HMAP_LRU_H

#include "hmap_table.h"

/* The stamp of a use now: after the last write, with the next one. */
static inline u32 hmap_lru_now(struct hmap_htab *h)
{
	return (u32)atomic64_read(&h->version) + 1;
}

/**
 * hmap_lru_stamp() - mark an entry as written
 * @h: the map; nothing happens unless it is an LRU map
 * @e: the entry, with its bucket lock held or before it is linked
 * @version: the version the write gave it
 */
static inline void hmap_lru_stamp(struct hmap_htab *h, struct hmap_elem *e,
				  u64 version)
{
	if (h->lru)
		WRITE_ONCE(e->atime, (u32)version);
}

/**
 * hmap_lru_touch() - mark an entry as just used by a lookup
 * @h: the map; nothing happens unless it is an LRU map
 * @e: the entry, under RCU or its bucket lock
 *
 * The store is skipped when the stamp is current, so a hot entry's cache
 * line is written at most once per write to the map.
 */
static inline void hmap_lru_touch(struct hmap_htab *h, struct hmap_elem *e)
{
	u32 now;

	if (!h->lru)
		return;
	now = hmap_lru_now(h);
	if (READ_ONCE(e->atime) != now)
		WRITE_ONCE(e->atime, now);
}

struct hmap_elem *hmap_lru_pick(struct hmap_htab *h, struct hmap_tbl *tbl,
				struct hmap_elem *keep, bool *expired, u64 now);

#endif /* _HMAP_LRU_H */
