/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hmap hash-table core: fixed-size keys and values, RCU lockless lookups,
 * per-bucket writer locks, and automatic grow/shrink under a per-map rwsem.
 *
 * This unit knows nothing about files, ioctls or user memory: it takes kernel
 * buffers only, so the very same source also builds in userspace against
 * liburcu (userspace/shim) for fast unit and stress testing.
 */
#ifndef _HMAP_TABLE_H
#define _HMAP_TABLE_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/list_nulls.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

/**
 * struct hmap_elem - one entry: header, then key, then value, in one allocation
 * @node: bucket chain link. Writers change it under the bucket lock (or with
 *	the map's rwsem held for write during a resize); readers walk it under
 *	RCU. An element is reused or freed only after a grace period.
 * @live_next: @node.next, which readers may still follow after the element
 *	is unlinked, so it is left alone until the grace period ends.
 * @free_next: reuses @node.pprev, which no reader looks at, to chain the
 *	element on its map's retire and free lists once it is unlinked.
 * @hash: full 32-bit hash of the key, cached so that most mismatches skip the
 *	key compare and so that a resize never rehashes.
 * @atime: LRU maps: when the entry was last used, on the map's write clock
 *	(see hmap_lru.h); written by lockless lookups, so only ever read as a
 *	hint. It fills what would be padding: LRU costs no byte per entry.
 *	Mapped maps (never LRU): the element's index in the pool, which is
 *	its slot in the image. Set at the pool's creation.
 * @seq: the entry's version, shifted left by one; the low bit is set while
 *	a writer holding the bucket lock replaces the value in place. A
 *	lockless reader copies the value again if @seq changed meanwhile, so
 *	it never returns a torn value, and the version it reads with the
 *	value is the value's. One word serves as both seqcount and version:
 *	the version costs no byte of its own.
 * @data: the key at offset 0 (immutable while the element is linked), then
 *	the value at an 8-byte aligned offset; in a map whose entries may
 *	expire, then the deadline (see &hmap_htab.exp_off).
 *
 * The header is 32 bytes (24 before versions: the 64-bit count took the
 * 32-bit one's place and 4 bytes of padding), so an 8-byte key with an
 * 8-byte value takes 48, and 56 with its bucket head.
 */
struct hmap_elem {
	union {
		struct hlist_nulls_node node;
		struct {
			struct hlist_nulls_node *live_next;
			struct hmap_elem *free_next;
		};
	};
	u32 hash;
	u32 atime;
	u64 seq;
	u8 data[] __aligned(8);
};

/**
 * struct hmap_retire_batch - unlinked elements waiting out one grace period
 * @work: releases them in process context once the grace period is over, so
 *	that a batch of millions (a clear) can reschedule as it goes instead
 *	of running for seconds in softirq.
 * @h: their map.
 * @first: the elements, chained by &hmap_elem.free_next.
 * @last: the last of them, so a pool map splices the batch back in O(1).
 * @n: how many.
 */
struct hmap_retire_batch {
	struct rcu_work work;
	struct hmap_htab *h;
	struct hmap_elem *first;
	struct hmap_elem *last;
	u32 n;
};

/* Grace periods a map waits on at once; elements retired meanwhile queue. */
#define HMAP_RETIRE_SLOTS	4

/**
 * struct hmap_reclaim - how a map gets and gives back element memory
 * @lock: protects every field below but @cache and @pool. Taken in
 *	process context only: retire batches end in work items.
 * @free: pool maps only: elements no reader can see, ready for use.
 * @open: unlinked elements not yet handed to a grace period.
 * @open_last: the last element of @open.
 * @open_n: elements in @open.
 * @busy: bit i set while @slots[i] waits for its grace period or runs.
 * @slots: the batches in flight.
 * @free_wq: an insert into a pool map with no free element waits here for
 *	a batch to come back.
 * @cache: slab cache of exactly the element size, or NULL for kmalloc
 *	(large elements) and for pool maps.
 * @pool: pool maps only: the single allocation holding every element.
 * @pool_elems: elements in @pool.
 */
struct hmap_reclaim {
	spinlock_t lock;	/* see @lock above */
	struct hmap_elem *free;
	struct hmap_elem *open;
	struct hmap_elem *open_last;
	u32 open_n;
	unsigned long busy;
	struct hmap_retire_batch slots[HMAP_RETIRE_SLOTS];
	wait_queue_head_t free_wq;
	struct kmem_cache *cache;
	void *pool;
	u32 pool_elems;
};

/**
 * struct hmap_tbl - a bucket array, with its writer locks, in one allocation
 * @future: while a resize moves elements out of this table, the table they
 *	move to. Set once, under the map's rwsem held for write, before the
 *	first element moves; read by lockless lookups, which must look there
 *	after a miss here.
 * @size: number of buckets, a power of two.
 * @shift: log2(@size).
 * @nulls_base: base of the nulls values that end each chain, unique to this
 *	table so that a reader diverted into another table's chain by a
 *	concurrent move notices and restarts.
 * @lock_mask: number of @locks minus one; bucket b is guarded by
 *	locks[b & lock_mask].
 * @locks: bucket locks, taken by single-entry writers that hold the map's
 *	rwsem for read. Never nested.
 * @h: the map, for the deferred free to uncharge its budget.
 * @rcu: frees the table a grace period after it is replaced.
 * @buckets: chain heads.
 */
struct hmap_tbl {
	struct hmap_tbl __rcu *future;
	u32 size;
	u32 shift;
	unsigned long nulls_base;
	u32 lock_mask;
	spinlock_t *locks;	/* see @locks above */
	struct hmap_htab *h;
	struct rcu_head rcu;
	struct hlist_nulls_head buckets[];
};

/**
 * struct hmap_budget - a memory limit shared by several maps
 * @used: bytes charged now, by elements and bucket arrays, from allocation
 *	until the memory is really freed (after its grace period, if any)
 * @limit: a charge that would take @used above *@limit fails. Points at a
 *	module parameter, so that it may be changed at any time.
 * @parent: a wider budget that every charge to this one is also charged
 *	to (a user's budget inside the module's), or NULL.
 * @err: what a charge refused by this budget returns (-ENOMEM, -EDQUOT).
 */
struct hmap_budget {
	atomic64_t used;
	const u64 *limit;
	struct hmap_budget *parent;
	int err;
};

/**
 * struct hmap_htab_params - what a map is created with
 * @key_size: bytes per key, 1 to HMAP_MAX_KEY_SIZE.
 * @value_size: bytes per value, 1 to HMAP_MAX_VALUE_SIZE.
 * @max_entries: most entries the map holds at once, 1 to HMAP_MAX_ENTRIES.
 * @capacity_hint: entries the map should hold without ever resizing, at most
 *	@max_entries; 0 for the smallest table.
 * @prealloc: allocate every element and the bucket array up front; inserts
 *	then never allocate, and the table never resizes.
 * @budget: memory limit to charge, or NULL for none. Must outlive the map.
 * @lru: when full, an insert evicts an entry used long ago (approximately
 *	the least recently used) instead of failing with -E2BIG.
 * @ttl: entries may be given a deadline (&hmap_write.deadline), after
 *	which they are gone; each element is 8 bytes larger for it.
 * @mmap: also keep an image of the entries that readers may map (see
 *	hmap_image.h); implies @prealloc, and excludes @lru and @ttl.
 */
struct hmap_htab_params {
	u32 key_size;
	u32 value_size;
	u32 max_entries;
	u32 capacity_hint;
	bool prealloc;
	struct hmap_budget *budget;
	bool lru;
	bool ttl;
	bool mmap;
};

/**
 * struct hmap_htab_stats - counters of whole-table events, for observability
 * @grows: resizes to a larger table.
 * @shrinks: resizes to a smaller table.
 * @tbl_installs: bucket arrays installed by a first insert (lazy init); once
 *	per map lifetime plus once per insert after each clear. A prealloc
 *	map installs its one table at creation.
 * @resize_lookups: lookups that started while a resize was moving entries:
 *	proof that lookups do not wait for resizes.
 * @locked_reads: value reads that gave up retrying around a writer and
 *	took the bucket lock.
 * @evictions: entries an LRU map removed to make room.
 * @expirations: expired entries removed (met by a command or a sweep).
 */
struct hmap_htab_stats {
	atomic_long_t grows;
	atomic_long_t shrinks;
	atomic_long_t tbl_installs;
	atomic_long_t resize_lookups;
	atomic_long_t locked_reads;
	atomic_long_t evictions;
	atomic_long_t expirations;
};

struct hmap_htab;
struct hmap_image;

/**
 * typedef hmap_notify_fn - told of each change of a watched map
 * @h: the map
 * @op: HMAP_EVENT_UPDATE, _DELETE, _CLEAR, _EVICT or _EXPIRE
 * @key: key_size bytes; NULL for a clear
 * @value: value_size bytes, the new value or the one removed; NULL for a
 *	clear
 * @version: the entry's new version, or the version of the one removed; 0
 *	for a clear
 *
 * Called with the entry's bucket lock held (a clear: with the rwsem held
 * for write), so calls for one entry come in the order of its changes; the
 * callee must not sleep and must not call into the map.
 */
typedef void (*hmap_notify_fn)(struct hmap_htab *h, u32 op, const void *key,
			       const void *value, u64 version);

/**
 * struct hmap_htab - one hash map
 * @tbl: current bucket array; NULL until the first insert and after a clear,
 *	except in a prealloc map, which has one from creation to destroy.
 *	Readers load it under RCU. A resize or a clear replaces it with @rwsem
 *	held for write; the first insert installs it with cmpxchg() under
 *	@rwsem held for read.
 * @rwsem: held for read by every single-entry writer and by iteration, for
 *	write by resize and clear. Lookups take it only when writers keep
 *	them from copying a value locklessly.
 * @count: entries linked in @tbl, changed under a bucket lock.
 * @tbl_gen: generation of the last table allocated, folded into nulls values.
 * @tbl_pending: tables replaced by a resize whose RCU callback has not yet
 *	freed them; hmap_htab_destroy() waits for none to remain.
 * @key_size: bytes per key.
 * @value_size: bytes per value.
 * @value_off: offset of the value in &hmap_elem.data.
 * @elem_size: bytes per element allocation.
 * @max_entries: limit on @count.
 * @min_size: buckets the table never shrinks below (from the capacity hint).
 * @max_size: buckets the table never grows beyond (from @max_entries).
 * @seed: random per-map hash seed, so that keys cannot be chosen to collide.
 * @version: the last version given to a write. Every create or change of an
 *	entry takes the next one, so a version is never seen twice in a map's
 *	life: a key deleted and created again does not get its old version
 *	back, and a compare-and-swap by version cannot be fooled (no ABA).
 * @budget: memory limit charged for elements and tables, or NULL.
 * @lru: an LRU map (see &hmap_htab_params.lru). Immutable.
 * @ttl: entries may expire (see &hmap_htab_params.ttl). Immutable.
 * @exp_off: with @ttl, offset in &hmap_elem.data of the entry's deadline:
 *	a u64 of ktime_get_ns() (CLOCK_MONOTONIC), 0 for none. Written under
 *	the bucket lock after the value it goes with; read by lockless
 *	readers before the value.
 * @stats: whole-table event counters.
 * @rc: element allocation and deferred release.
 * @image: an HMAP_F_MMAP map's image, which every change of an entry
 *	updates under the same lock as the table; NULL for other maps, which
 *	then pay one load of it per change. Immutable.
 * @notify: while the map is watched, told of every change (see
 *	hmap_notify_fn); NULL otherwise, and then a write costs one load of
 *	it. Changed only by hmap_htab_set_notify(), whose callers serialise
 *	its calls (the watch code makes them under the map's watch mutex),
 *	with a plain WRITE_ONCE() under no lock of the map. Every change
 *	reads it once, with READ_ONCE(), under its bucket lock (a clear:
 *	under @rwsem held for write), so it calls either the old callback or
 *	the new one. Setting it then takes each bucket lock once, with
 *	@rwsem held for read (so that no resize swaps the locks meanwhile,
 *	and a clear in flight is waited for): on return, a change either was
 *	over before or calls the new callback. Clearing it waits for nothing:
 *	a change that still calls the old callback finds no watch and does
 *	nothing.
 */
struct hmap_htab {
	struct hmap_tbl __rcu *tbl;
	struct rw_semaphore rwsem;
	atomic_t count;
	atomic_t tbl_gen;
	atomic_t tbl_pending;
	u32 key_size;
	u32 value_size;
	u32 value_off;
	u32 elem_size;
	u32 max_entries;
	u32 min_size;
	u32 max_size;
	u32 seed;
	atomic64_t version;
	struct hmap_budget *budget;
	bool lru;
	bool ttl;
	u32 exp_off;
	struct hmap_htab_stats stats;
	struct hmap_reclaim rc;
	struct hmap_image *image;
	hmap_notify_fn notify;
};

int hmap_htab_caches_init(void);
void hmap_htab_caches_exit(void);
int hmap_htab_init(struct hmap_htab *h, const struct hmap_htab_params *p);
void hmap_htab_destroy(struct hmap_htab *h);
/**
 * struct hmap_write - one write of one entry, possibly conditional
 * @flags: in: HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST, and HMAP_IF_VERSION
 *	(the entry must exist with version @version; not with HMAP_NOEXIST)
 * @version: in: with HMAP_IF_VERSION, the version the entry must have.
 *	Out: the entry's version after the call: the new one on success, the
 *	current one when the entry was left alone (-EEXIST, -ESTALE, or an
 *	error of @modify), unchanged when there is no entry.
 * @value: in: value_size bytes to create the entry with, and to replace
 *	a present entry's value with unless @modify points it elsewhere
 * @deadline: in: with &hmap_htab.ttl, when the entry expires (ktime_get_ns()
 *	time, 0 for never), set on a create and on a plain replace; a write
 *	with @modify keeps the entry's deadline. Must be 0 otherwise.
 * @modify: NULL, or called with the bucket lock held, so it must not sleep,
 *	when the entry is present (and its version is right), with its current
 *	value, which no writer changes meanwhile. Returns 0 to write @value
 *	(which it may point at a buffer of its own), or a negative errno to
 *	leave the entry alone and end the call with that errno.
 * @ctx: for @modify.
 *
 * Read-modify-write commands (atomic add, compare-and-swap) are writes
 * whose new value is decided under the lock that orders writers, so none
 * of them is lost to another.
 */
struct hmap_write {
	u64 flags;
	u64 version;
	u64 deadline;
	const void *value;
	int (*modify)(struct hmap_write *w, const void *cur);
	void *ctx;
};

int hmap_htab_lookup_version(struct hmap_htab *h, const void *key,
			     void *value, u64 *version);
int hmap_htab_write(struct hmap_htab *h, const void *key, struct hmap_write *w);
int hmap_htab_update(struct hmap_htab *h, const void *key, const void *value,
		     u64 flags);
int hmap_htab_delete(struct hmap_htab *h, const void *key);
int hmap_htab_delete_version(struct hmap_htab *h, const void *key,
			     u64 *version);
int hmap_htab_lookup_and_delete(struct hmap_htab *h, const void *key,
				void *value);
int hmap_htab_delete_if_value(struct hmap_htab *h, const void *key,
			      const void *value);
int hmap_htab_get_next_key(struct hmap_htab *h, const void *key,
			   void *next_key);
u32 hmap_htab_lookup_batch(struct hmap_htab *h, const void *cursor,
			   void *keys, void *values, u32 max, bool *end);
void hmap_htab_clear(struct hmap_htab *h);
u32 hmap_htab_reclaim_expired(struct hmap_htab *h, u32 *cursor, u32 budget,
			      u64 *next);
u32 hmap_htab_buckets(struct hmap_htab *h);
void hmap_htab_set_notify(struct hmap_htab *h, hmap_notify_fn fn);
u64 hmap_htab_mem_bytes(struct hmap_htab *h);

/**
 * hmap_htab_lookup() - copy out the value of a key
 * @h: the map
 * @key: key_size bytes
 * @value: value_size bytes of room; may be written even on failure
 *
 * See hmap_htab_lookup_version().
 *
 * Return: 0, or -ENOENT if the key is absent.
 */
static inline int hmap_htab_lookup(struct hmap_htab *h, const void *key,
				   void *value)
{
	return hmap_htab_lookup_version(h, key, value, NULL);
}

/**
 * hmap_htab_count() - number of entries in the map
 * @h: the map
 *
 * Exact at any instant no writer is running; a snapshot otherwise.
 *
 * Return: the number of entries.
 */
static inline u32 hmap_htab_count(struct hmap_htab *h)
{
	return atomic_read(&h->count);
}

/**
 * hmap_htab_prealloc() - whether the map's elements come from its own pool
 * @h: the map
 *
 * Return: true for a map created with &hmap_htab_params.prealloc.
 */
static inline bool hmap_htab_prealloc(struct hmap_htab *h)
{
	return h->rc.pool;
}

#endif /* _HMAP_TABLE_H */
