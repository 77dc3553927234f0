// SPDX-License-Identifier: GPL-2.0
/*
 * LRU maps: the choice of an entry to evict (see hmap_lru.h). The table core
 * removes the entry chosen, as a delete conditional on its version.
 */
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/rculist_nulls.h>
#include <linux/string.h>

#include "hmap_lru.h"

/* Entries compared per choice: Redis finds 10 close to exact LRU. */
#define HMAP_LRU_SAMPLES	16
/* Buckets visited at most per choice, however sparse the table. */
#define HMAP_LRU_BUCKETS	64

/* As the core's test: a deadline of 0 is none. Only a hint here. */
static bool hmap_lru_expired(struct hmap_htab *h, struct hmap_elem *e, u64 now)
{
	u64 d = READ_ONCE(*(u64 *)(e->data + h->exp_off));

	return d && d <= now;
}

/**
 * hmap_lru_pick() - choose the entry to evict from an LRU map
 * @h: the map
 * @key: key_size bytes, written with the key of the entry chosen
 * @version: written with its version, so that the caller removes it only if
 *	nobody wrote it since (a write is a use)
 *
 * Looks at up to HMAP_LRU_SAMPLES entries in up to HMAP_LRU_BUCKETS buckets
 * from a random one, under RCU, and chooses the one whose last use is the
 * oldest. Takes no lock. During a resize a chain may lead into the new
 * table: any entry found is still a fair choice.
 *
 * Return: true if it chose one; false if the buckets it looked at were empty.
 */
bool hmap_lru_pick(struct hmap_htab *h, void *key, u64 *version)
{
	struct hmap_elem *e, *best = NULL;
	struct hlist_nulls_node *n;
	u32 mask, b, i, seen = 0, best_t = 0, t;
	u64 now = h->ttl ? ktime_get_ns() : 0;
	struct hmap_tbl *tbl;

	rcu_read_lock();
	tbl = rcu_dereference(h->tbl);
	if (!tbl)
		goto out;
	mask = tbl->size - 1;
	b = get_random_u32() & mask;
	for (i = 0; i <= mask && i < HMAP_LRU_BUCKETS && seen < HMAP_LRU_SAMPLES;
	     i++, b = (b + 1) & mask) {
		hlist_nulls_for_each_entry_rcu(e, n, &tbl->buckets[b], node) {
			/* An expired entry is gone already: the best choice. */
			if (h->ttl && hmap_lru_expired(h, e, now)) {
				best = e;
				goto found;
			}
			t = READ_ONCE(e->atime);
			if (!best || (s32)(t - best_t) < 0) {
				best = e;
				best_t = t;
			}
			seen++;
		}
	}
found:
	if (best) {
		/* Linked or not, it is not reused before rcu_read_unlock(). */
		memcpy(key, best->data, h->key_size);
		/* Mid-write this is the old version: the remove then fails. */
		*version = READ_ONCE(best->seq) >> 1;
	}
out:
	rcu_read_unlock();
	return best;
}
