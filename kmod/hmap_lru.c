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

/* As the core's test: a deadline of 0 is none. */
static bool hmap_lru_expired(struct hmap_htab *h, struct hmap_elem *e, u64 now)
{
	u64 d = READ_ONCE(*(u64 *)(e->data + h->exp_off));

	return d && d <= now;
}

/**
 * hmap_lru_pick() - choose the entry to evict from an LRU map
 * @h: the map
 * @tbl: its table, held in place by the caller (the rwsem, for read)
 * @keep: an entry not to choose (the one just inserted), or NULL
 * @expired: set if the entry chosen had expired at @now
 * @now: the time deadlines compare with (0 in a map without expiry)
 *
 * Looks at up to HMAP_LRU_SAMPLES entries in up to HMAP_LRU_BUCKETS buckets
 * from a random one, and chooses the one whose last use is the oldest, or
 * the first expired one. Called under rcu_read_lock(), which keeps the entry
 * chosen from being freed or reused; the caller removes it under its bucket
 * lock if it is still linked.
 *
 * Return: the entry, or NULL if the buckets looked at held no other.
 */
struct hmap_elem *hmap_lru_pick(struct hmap_htab *h, struct hmap_tbl *tbl,
				struct hmap_elem *keep, bool *expired, u64 now)
{
	struct hmap_elem *e, *best = NULL;
	struct hlist_nulls_node *n;
	u32 mask = tbl->size - 1, b, i, seen = 0, best_t = 0, t;

	*expired = false;
	b = get_random_u32() & mask;
	for (i = 0; i <= mask && i < HMAP_LRU_BUCKETS && seen < HMAP_LRU_SAMPLES;
	     i++, b = (b + 1) & mask) {
		hlist_nulls_for_each_entry_rcu(e, n, &tbl->buckets[b], node) {
			if (e == keep)
				continue;
			/* An expired entry is gone already: the best choice. */
			if (h->ttl && hmap_lru_expired(h, e, now)) {
				*expired = true;
				return e;
			}
			t = READ_ONCE(e->atime);
			if (!best || (s32)(t - best_t) < 0) {
				best = e;
				best_t = t;
			}
			seen++;
		}
	}
	return best;
}
