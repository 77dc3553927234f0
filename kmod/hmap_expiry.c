// SPDX-License-Identifier: GPL-2.0
/*
 * Per-entry expiry (HMAP_F_TTL): turning a time to live into a deadline, and
 * the sweep that returns the memory of expired entries no command meets.
 * Expired entries are already invisible (the table core compares deadlines
 * on every access); the sweep only reclaims.
 *
 * One delayed work item per map, never a timer per entry, which would cost
 * a timer's memory and a wakeup for every entry. It sleeps until the
 * earliest deadline it knows of (@next_expiry: lowered by every write that
 * sets a deadline, recomputed by each pass), then makes one pass over the
 * table, a bounded number of buckets per run, and sleeps again. A map whose
 * entries have no deadline costs nothing; one whose deadlines are far off
 * costs a wakeup a day.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/workqueue.h>

#include "hmap_priv.h"

/* Buckets one run looks at: a few hundred microseconds of work at most. */
#define HMAP_SWEEP_BUCKETS	4096
/* Between the runs of one pass. */
#define HMAP_SWEEP_STEP		(HZ / 10)
/* The longest sleep: far deadlines are looked at again once a day. */
#define HMAP_SWEEP_MAX_SLEEP	(24 * 60 * 60 * HZ)
#define HMAP_NO_DEADLINE	U64_MAX

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

/* Jiffies from now until @deadline, at least one. */
static unsigned long hmap_sweep_delay(u64 deadline)
{
	u64 now = ktime_get_ns();

	if (deadline <= now)
		return 1;
	return clamp_t(u64, nsecs_to_jiffies64(deadline - now) + 1, 1,
		       HMAP_SWEEP_MAX_SLEEP);
}

/* Lowers @next_expiry to @deadline. Return: true if it did. */
static bool hmap_expiry_lower(struct hmap_map *map, u64 deadline)
{
	s64 cur = atomic64_read(&map->next_expiry);

	while (deadline < (u64)cur)
		if (atomic64_try_cmpxchg(&map->next_expiry, &cur, deadline))
			return true;
	return false;
}

static void hmap_expiry_sweep(struct work_struct *work)
{
	struct hmap_map *map = container_of(to_delayed_work(work),
					    struct hmap_map, sweep);
	struct hmap_htab *h = &map->htab;
	struct mem_cgroup *old_memcg;
	u64 next;
	u32 step;

	if (!map->sweep_left) {
		next = atomic64_read(&map->next_expiry);
		if (next == HMAP_NO_DEADLINE)
			return;		/* a write that sets one queues this */
		if (next > ktime_get_ns()) {
			queue_delayed_work(system_unbound_wq, &map->sweep,
					   hmap_sweep_delay(next));
			return;
		}
		/*
		 * Something is due: a pass over the whole table, which also
		 * finds the next deadline. Writes during the pass lower
		 * @next_expiry again for their own entries.
		 */
		atomic64_set(&map->next_expiry, HMAP_NO_DEADLINE);
		map->sweep_left = max(hmap_htab_buckets(h), 1U);
		map->pass_next = HMAP_NO_DEADLINE;
	}
	step = min_t(u32, map->sweep_left, HMAP_SWEEP_BUCKETS);
	/* Removing entries may shrink the table: an allocation of the map's. */
	old_memcg = hmap_map_memcg_enter(map);
	hmap_htab_reclaim_expired(h, &map->sweep_cursor, step, &map->pass_next);
	hmap_map_memcg_exit(old_memcg);
	map->sweep_left -= step;
	if (map->sweep_left) {
		queue_delayed_work(system_unbound_wq, &map->sweep,
				   HMAP_SWEEP_STEP);
		return;
	}
	/* The pass is over: sleep until the earliest deadline it kept. */
	hmap_expiry_lower(map, map->pass_next);
	next = atomic64_read(&map->next_expiry);
	if (next != HMAP_NO_DEADLINE)
		queue_delayed_work(system_unbound_wq, &map->sweep,
				   hmap_sweep_delay(next));
}

/**
 * hmap_expiry_init() - set up a map's sweep, not yet armed
 * @map: the map
 */
void hmap_expiry_init(struct hmap_map *map)
{
	INIT_DELAYED_WORK(&map->sweep, hmap_expiry_sweep);
	atomic64_set(&map->next_expiry, HMAP_NO_DEADLINE);
}

/**
 * hmap_expiry_arm() - tell the sweep of a deadline a write just set
 * @map: the map
 * @deadline: the deadline
 *
 * Costs a read of @next_expiry unless @deadline is the earliest the map
 * knows of; then the sweep is moved to it. A sweep that had stopped (no
 * deadline left) is started again here.
 */
void hmap_expiry_arm(struct hmap_map *map, u64 deadline)
{
	if (hmap_expiry_lower(map, deadline))
		mod_delayed_work(system_unbound_wq, &map->sweep,
				 hmap_sweep_delay(deadline));
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
