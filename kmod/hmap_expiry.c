// SPDX-License-Identifier: GPL-2.0
/*
 * Per-entry expiry (HMAP_F_TTL): turning a time to live into a deadline, and
 * the periodic sweep that returns the memory of expired entries no command
 * meets. Expired entries are already invisible (the table core compares
 * deadlines on every access); the sweep only reclaims, a bounded number of
 * buckets per run, from a cursor that goes round the table.
 *
 * One delayed work item per map, armed by a write that sets a deadline and
 * kept armed while the map has entries; never a timer per entry, which
 * would cost a timer's memory and a wakeup for every entry that expires.
 */
#include <linux/ktime.h>
#include <linux/workqueue.h>

#include "hmap_priv.h"

/* Buckets one run looks at: a few hundred microseconds of work at most. */
#define HMAP_SWEEP_BUCKETS	4096
/* Runs while a pass is under way or found entries to remove... */
#define HMAP_SWEEP_FAST		(HZ / 10)
/* ...else, while the map has entries. */
#define HMAP_SWEEP_SLOW		HZ

/**
 * hmap_ttl_deadline() - the deadline of a time to live given to a command
 * @h: the map
 * @ttl_ms: milliseconds, or 0 for none
 * @deadline: written with the ktime_get_ns() time it ends, or 0 for none
 *
 * Return: 0, or -EINVAL if @ttl_ms is given to a map without HMAP_F_TTL or
 * is above HMAP_MAX_TTL_MS.
 */
int hmap_ttl_deadline(struct hmap_htab *h, u64 ttl_ms, u64 *deadline)
{
	*deadline = 0;
	if (!ttl_ms)
		return 0;
	if (!h->ttl || ttl_ms > HMAP_MAX_TTL_MS)
		return -EINVAL;
	/* 2^40 ms in ns is below 2^60: no overflow while uptime is sane. */
	*deadline = ktime_get_ns() + ttl_ms * NSEC_PER_MSEC;
	return 0;
}

static void hmap_expiry_sweep(struct work_struct *work)
{
	struct hmap_map *map = container_of(to_delayed_work(work),
					    struct hmap_map, sweep);
	struct hmap_htab *h = &map->htab;
	struct mem_cgroup *old_memcg;
	u32 n;

	/* Removing entries may shrink the table: an allocation of the map's. */
	old_memcg = hmap_map_memcg_enter(map);
	n = hmap_htab_reclaim_expired(h, &map->sweep_cursor, HMAP_SWEEP_BUCKETS);
	hmap_map_memcg_exit(old_memcg);
	if (hmap_htab_count(h))
		queue_delayed_work(system_unbound_wq, &map->sweep,
				   n || hmap_htab_buckets(h) > HMAP_SWEEP_BUCKETS ?
				   HMAP_SWEEP_FAST : HMAP_SWEEP_SLOW);
}

/**
 * hmap_expiry_init() - set up a map's sweep, not yet armed
 * @map: the map
 */
void hmap_expiry_init(struct hmap_map *map)
{
	INIT_DELAYED_WORK(&map->sweep, hmap_expiry_sweep);
}

/**
 * hmap_expiry_arm() - make sure the sweep runs, after a write set a deadline
 * @map: the map
 *
 * Cheap when it is armed already. A sweep that has just seen an empty map
 * and stopped is armed again here, since this write's entry was counted
 * before this call.
 */
void hmap_expiry_arm(struct hmap_map *map)
{
	if (!delayed_work_pending(&map->sweep))
		queue_delayed_work(system_unbound_wq, &map->sweep,
				   HMAP_SWEEP_SLOW);
}

/**
 * hmap_expiry_stop() - stop a map's sweep for good, before the map is freed
 * @map: the map; nothing can arm its sweep any more
 */
void hmap_expiry_stop(struct hmap_map *map)
{
	/* Also stops a sweep that is running and about to queue itself again. */
	cancel_delayed_work_sync(&map->sweep);
}
