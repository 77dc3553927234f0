// SPDX-License-Identifier: GPL-2.0
/*
 * The hmap hash-table core.
 *
 * Readers (lookup) take rcu_read_lock() and nothing else, unless writers
 * keep replacing the very value they copy: then, after a few tries, they
 * copy under the bucket lock (see hmap_elem_read_value()). Single-entry
 * writers take the map's rwsem for read and then one bucket lock, so writers
 * of different buckets run in parallel. Whole-table operations (resize,
 * clear) take the rwsem for write, which excludes every writer but no reader.
 *
 * A resize moves elements one at a time from the old table to the new one,
 * in the manner of lib/rhashtable.c: the old table's @future pointer is set
 * first, each element is linked into the new chain before it is unlinked from
 * the old one, and the tail of each old chain moves first. A reader that was
 * on a moved element follows it into the new chain, reaches a nulls value
 * that is not its bucket's and restarts; a reader that misses a key in the old
 * table looks again in @future. So a lookup never waits for a resize and
 * never misses a key that is in the map for the whole lookup.
 *
 * Iteration (get_next_key) walks keys in the order of their bit-reversed
 * hash, then key bytes. That order does not depend on the table size, so the
 * walk can resume from any key, present or deleted, across resizes, and
 * every key present for the whole walk is returned exactly once.
 *
 * The exported functions are exported only to the HMAP_CORE symbol
 * namespace: the in-kernel bench (bench/kbench) imports it to measure the
 * core beside rhashtable; nothing else should call the core directly.
 */

#include <linux/bitrev.h>
#include <linux/errno.h>
#include <linux/jhash.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/rculist_nulls.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <linux/hmap.h>
#include <asm/unaligned.h>
#include "hmap_image.h"

#include "hmap_table.h"
#include "hmap_lru.h"

/* Smallest bucket array: a few cache lines of heads. */
#define HMAP_MIN_SIZE		8U
/* Bucket locks per possible CPU: enough that writers rarely share one. */
#define HMAP_LOCKS_PER_CPU	64U
/*
 * Largest table is 1 << HMAP_MAX_SHIFT buckets. The bits above those of the
 * bucket index hold the table generation in each nulls value.
 */
#define HMAP_MAX_SHIFT		(BITS_PER_LONG == 64 ? 30 : 20)

/*
 * Elements up to this size come from a slab cache of exactly their size;
 * larger ones from kmalloc, whose rounding then costs proportionally little.
 */
#define HMAP_CACHE_MAX		512U
#define HMAP_CACHE_MIN		(sizeof(struct hmap_elem) + 16)

/*
 * A pool map holds this many elements beyond max_entries, so that inserts
 * right after deletes seldom wait for the deleted ones' grace period: an
 * insert that finds no spare waits a whole one, so the spares bound the
 * rate of inserts after deletes (and of LRU inserts, each of which evicts)
 * to about this many per grace period. As many as the map holds, up to
 * 1024, and at least 64 KiB of elements, up to 1024: a one-entry LRU map
 * of small values would else wait a grace period every few inserts.
 */
#define HMAP_POOL_SPARE_BYTES	SZ_64K
#define HMAP_POOL_SPARE(max, esize)					\
	(min_t(u32, max_t(u32, (max), HMAP_POOL_SPARE_BYTES / (esize)), 1024U) + \
	 num_possible_cpus())

/* Whole-table loops offer to reschedule after this many buckets. */
#define HMAP_RESCHED_BUCKETS	256
/* Loops over elements (pool set-up, deferred frees) after this many. */
#define HMAP_RESCHED_ELEMS	1024

/*
 * Lockless copies a reader makes of a value that writers keep replacing
 * before it takes the bucket lock instead (see hmap_elem_read_value()).
 */
#define HMAP_READ_TRIES		4

/*
 * An iteration leaves its RCU read section at a bucket boundary once it has
 * copied this many bytes or visited HMAP_RESCHED_BUCKETS buckets, so that no
 * caller holds up grace periods for long, whatever the table or value size.
 */
#define HMAP_RCU_COPY_MAX	(64 * 1024)

/*
 * Failures of these allocations are returned to the caller as -ENOMEM; a
 * user can cause them, so they must not warn.
 */
#define HMAP_GFP		(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)

static inline void *hmap_elem_key(struct hmap_elem *e)
{
	return e->data;
}

static inline void *hmap_elem_value(const struct hmap_htab *h,
				    struct hmap_elem *e)
{
	return e->data + h->value_off;
}

static inline u64 *hmap_elem_deadline(const struct hmap_htab *h,
				      struct hmap_elem *e)
{
	return (u64 *)(e->data + h->exp_off);
}

/* The time deadlines compare with; 0 in a map whose entries never expire. */
static inline u64 hmap_now(const struct hmap_htab *h)
{
	return h->ttl ? ktime_get_ns() : 0;
}

/*
 * Whether an entry is past its deadline at @now: gone for every command
 * from that instant, though its element stays linked until a command meets
 * it or a sweep does (hmap_htab_reclaim_expired()). A lockless reader that
 * finds it alive reads the value after (see hmap_elem_set_deadline()).
 */
static inline bool hmap_elem_expired(const struct hmap_htab *h,
				     struct hmap_elem *e, u64 now)
{
	u64 d;

	if (!h->ttl)
		return false;
	d = READ_ONCE(*hmap_elem_deadline(h, e));
	smp_rmb();	/* the deadline before the value it goes with */
	return d && d <= now;
}

/*
 * Sets the deadline of an entry whose value was just written, under its
 * bucket lock. After the value: a reader that sees the new deadline sees
 * the new value, so an expired value never comes back to life.
 */
static inline void hmap_elem_set_deadline(const struct hmap_htab *h,
					  struct hmap_elem *e, u64 deadline)
{
	if (!h->ttl)
		return;
	smp_wmb();	/* the value before its deadline */
	WRITE_ONCE(*hmap_elem_deadline(h, e), deadline);
}

/*
 * Keys of 4 and 8 bytes, the common case, hash as whole words: the same
 * lookup3 mix as jhash() without its byte loop.
 */
static inline u32 hmap_hash(const struct hmap_htab *h, const void *key)
{
	switch (h->key_size) {
	case 4:
		return jhash_1word(get_unaligned((const u32 *)key), h->seed);
	case 8:
		return jhash_2words(get_unaligned((const u32 *)key),
				    get_unaligned((const u32 *)key + 1), h->seed);
	default:
		return jhash(key, h->key_size, h->seed);
	}
}

/* Constant sizes let the compiler compare in registers, with no call. */
static inline bool hmap_key_eq(const struct hmap_htab *h, const void *a,
			       const void *b)
{
	switch (h->key_size) {
	case 4:
		return !memcmp(a, b, 4);
	case 8:
		return !memcmp(a, b, 8);
	case 16:
		return !memcmp(a, b, 16);
	default:
		return !memcmp(a, b, h->key_size);
	}
}

static inline void *hmap_value_copy(const struct hmap_htab *h, void *dst,
				    const void *src)
{
	switch (h->value_size) {
	case 4:
		return memcpy(dst, src, 4);
	case 8:
		return memcpy(dst, src, 8);
	case 16:
		return memcpy(dst, src, 16);
	default:
		return memcpy(dst, src, h->value_size);
	}
}

/*
 * An element's seqcount and version are one u64, and its deadline another,
 * read with READ_ONCE() by lockless readers: single accesses only on a
 * 64-bit kernel, where this module is built.
 */
static_assert(sizeof(unsigned long) == sizeof(u64),
	      "hmap needs 64-bit loads and stores of versions and deadlines");

/* The next version of the map: the first is 1, so 0 is never one. */
static inline u64 hmap_next_version(struct hmap_htab *h)
{
	return atomic64_inc_return(&h->version);
}

/* The version of an element whose value no writer is changing. */
static inline u64 hmap_elem_version(const struct hmap_elem *e)
{
	return e->seq >> 1;
}

/*
 * Tells a watched map's watchers of a change of @e, under its bucket lock.
 * An unwatched map pays this one load.
 */
static inline void hmap_notify(struct hmap_htab *h, u32 op,
			       struct hmap_elem *e)
{
	hmap_notify_fn fn = READ_ONCE(h->notify);

	if (unlikely(fn))
		fn(h, op, e->data, hmap_elem_value(h, e), hmap_elem_version(e));
}

/*
 * A mapped map's element's slot in the image: its index in the pool, kept
 * in @atime since such a map is never an LRU map (no divide per write).
 */
static inline u32 hmap_elem_index(const struct hmap_elem *e)
{
	return e->atime;
}

/*
 * Takes a linked element out of its chain, and out of the image if any.
 *
 * A mapped map's readers are of two kinds, the table's (LOOKUP) and the
 * image's (a mapping), and one thread may use both: neither may see an
 * entry the other has already seen gone. So the element's count goes odd
 * first, sending the table's lockless readers to the bucket lock (see
 * hmap_elem_read_value()), which this writer holds until both are done;
 * then the image forgets the entry, then the table. The count stays odd:
 * the element is reused only with a new one.
 */
static inline void hmap_elem_unlink(struct hmap_htab *h, struct hmap_elem *e)
{
	if (unlikely(h->image)) {
		WRITE_ONCE(e->seq, e->seq | 1);
		smp_wmb();	/* odd @seq before the image forgets it */
		hmap_image_unlink(h->image, hmap_elem_index(e), e->hash);
	}
	hlist_nulls_del_rcu(&e->node);
}

/*
 * Replaces the value of a linked element in place, with a new version.
 * Under its bucket lock, so writers of one element are serialised; lockless
 * readers retry around it. The new @seq differs from the old (versions only
 * grow), so a reader cannot mistake a whole write for none.
 */
static void hmap_elem_write_value(struct hmap_htab *h, struct hmap_elem *e,
				  const void *value)
{
	u64 seq = hmap_next_version(h) << 1;

	WRITE_ONCE(e->seq, e->seq | 1);
	smp_wmb();	/* odd @seq before any byte of the value changes */
	hmap_value_copy(h, hmap_elem_value(h, e), value);
	/* Inside the odd window: see hmap_elem_unlink(). */
	if (unlikely(h->image))
		hmap_image_set_value(h->image, hmap_elem_index(e), value, seq);
	smp_wmb();	/* the whole value before the even @seq */
	WRITE_ONCE(e->seq, seq);
}

/*
 * Copies out the value of an element that a writer may be replacing, with no
 * lock: the read side of a seqcount, with the count in the element (a
 * lockdep map per element would cost more than the element).
 *
 * It gives up after HMAP_READ_TRIES attempts that a write overlapped, and
 * the caller then copies under the bucket lock, which the writers hold
 * (read_seqbegin_or_lock()'s idea). Retrying without bound would let two
 * writers replacing one 64 KiB value back to back keep a reader inside its
 * RCU read section, holding up grace periods for the whole system; and on
 * PREEMPT_RT a reader must not spin on a writer that was preempted with an
 * odd count: the lock it falls back to boosts that writer instead.
 *
 * Return: true if @value holds a whole value, and *@seqp (if not NULL) the
 * @seq it was read at; false if @value holds garbage.
 */
static __always_inline bool hmap_elem_read_value(struct hmap_htab *h,
						 struct hmap_elem *e,
						 void *value, u64 *seqp)
{
	u64 seq;
	u32 tries;

	for (tries = 0; tries < HMAP_READ_TRIES; tries++) {
		seq = READ_ONCE(e->seq);
		if (seq & 1) {
			cpu_relax();
			continue;
		}
		smp_rmb();	/* @seq before the value */
		/* Meant to race with an in-place write: @seq tells. */
		(void)data_race(hmap_value_copy(h, value, hmap_elem_value(h, e)));
		smp_rmb();	/* the value before @seq again */
		if (READ_ONCE(e->seq) == seq) {
			if (seqp)
				*seqp = seq;
			return true;
		}
	}
	return false;
}

/* Slab caches by element size in 8-byte steps, from HMAP_CACHE_MIN up. */
static struct kmem_cache *hmap_caches[(HMAP_CACHE_MAX - HMAP_CACHE_MIN) / 8 + 1];
static char hmap_cache_names[ARRAY_SIZE(hmap_caches)][16];

/**
 * hmap_htab_caches_init() - create the element slab caches
 *
 * Done once, before any map exists: creating a cache per map would give
 * every map its own slabs, and creating them on demand would make the first
 * map of a size fail in a way later ones do not.
 *
 * Return: 0, or -ENOMEM.
 */
int hmap_htab_caches_init(void)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(hmap_caches); i++) {
		snprintf(hmap_cache_names[i], sizeof(hmap_cache_names[i]),
			 "hmap-%u", (u32)(HMAP_CACHE_MIN + i * 8));
		hmap_caches[i] = kmem_cache_create(hmap_cache_names[i],
						   HMAP_CACHE_MIN + i * 8, 8,
						   SLAB_ACCOUNT, NULL);
		if (!hmap_caches[i]) {
			hmap_htab_caches_exit();
			return -ENOMEM;
		}
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_caches_init, HMAP_CORE);

/**
 * hmap_htab_caches_exit() - destroy the element slab caches
 *
 * Every map must be destroyed and every RCU callback done (rcu_barrier()).
 */
void hmap_htab_caches_exit(void)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(hmap_caches); i++) {
		kmem_cache_destroy(hmap_caches[i]);
		hmap_caches[i] = NULL;
	}
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_caches_exit, HMAP_CORE);

static inline unsigned long hmap_nulls(const struct hmap_tbl *tbl, u32 b)
{
	return tbl->nulls_base | b;
}

static inline spinlock_t *hmap_bucket_lock(struct hmap_tbl *tbl, u32 b)
{
	return &tbl->locks[b & tbl->lock_mask];
}

/* Bucket count that holds @count entries at no more than 3/4 load. */
static u32 hmap_size_for(const struct hmap_htab *h, u32 count)
{
	u64 want = div_u64((u64)count * 4, 3) + 1;

	if (want >= h->max_size)
		return h->max_size;
	return clamp_t(u32, roundup_pow_of_two((unsigned long)want),
		       h->min_size, h->max_size);
}

/*
 * Grow above one entry per bucket, shrink below 3/10: the gap keeps resizes
 * rare. With the hash cached in each element a chain of one or two costs
 * little more than an empty one, and a bucket head is 8 bytes per entry.
 */
static bool hmap_needs_grow(const struct hmap_htab *h, u32 size, u32 count)
{
	return size < h->max_size && count > size;
}

static bool hmap_needs_shrink(const struct hmap_htab *h, u32 size, u32 count)
{
	return size > h->min_size && count < size / 10 * 3;
}

/*
 * Past two entries per bucket a table that could grow must grow before it
 * takes another key: a grow that failed to allocate (out of memory or
 * budget) must not let chains, walked under a bucket lock and in RCU read
 * sections, lengthen without bound. The insert fails with the grow's error.
 */
static bool hmap_overloaded(const struct hmap_htab *h, u32 size, u32 count)
{
	return size < h->max_size && count >= 2 * size;
}

/*
 * Charges @bytes to the map's budget and every budget above it (a user's,
 * then the module's). Return: 0, or the error of the first budget that the
 * charge would take over its limit, with nothing charged.
 */
static int hmap_charge(struct hmap_htab *h, u64 bytes)
{
	struct hmap_budget *b, *undo;

	for (b = h->budget; b; b = b->parent) {
		if ((u64)atomic64_add_return(bytes, &b->used) <= READ_ONCE(*b->limit))
			continue;
		atomic64_sub(bytes, &b->used);
		for (undo = h->budget; undo != b; undo = undo->parent)
			atomic64_sub(bytes, &undo->used);
		return b->err ? b->err : -ENOMEM;
	}
	return 0;
}

static void hmap_uncharge(struct hmap_htab *h, u64 bytes)
{
	struct hmap_budget *b;

	for (b = h->budget; b; b = b->parent)
		atomic64_sub(bytes, &b->used);
}

static u32 hmap_nlocks(u32 size)
{
	return min_t(u32, size,
		     roundup_pow_of_two(num_possible_cpus() * HMAP_LOCKS_PER_CPU));
}

static size_t hmap_locks_off(u32 size)
{
	return ALIGN(struct_size((struct hmap_tbl *)NULL, buckets, size),
		     __alignof__(spinlock_t));
}

static size_t hmap_tbl_bytes(u32 size)
{
	return size_add(hmap_locks_off(size),
			size_mul(hmap_nlocks(size), sizeof(spinlock_t)));
}

/* A new empty table, or ERR_PTR(-ENOMEM / a budget's error). May sleep. */
static struct hmap_tbl *hmap_tbl_alloc(struct hmap_htab *h, u32 size)
{
	u32 nlocks = hmap_nlocks(size);
	struct hmap_tbl *tbl;
	unsigned long gen;
	int ret;
	u32 i;

	ret = hmap_charge(h, hmap_tbl_bytes(size));
	if (ret)
		return ERR_PTR(ret);
	tbl = kvmalloc(hmap_tbl_bytes(size), HMAP_GFP);
	if (!tbl) {
		hmap_uncharge(h, hmap_tbl_bytes(size));
		return ERR_PTR(-ENOMEM);
	}

	RCU_INIT_POINTER(tbl->future, NULL);
	tbl->size = size;
	tbl->shift = ilog2(size);
	gen = (unsigned int)atomic_inc_return(&h->tbl_gen);
	tbl->nulls_base = (gen << HMAP_MAX_SHIFT) & (ULONG_MAX >> 1);
	tbl->lock_mask = nlocks - 1;
	tbl->locks = (spinlock_t *)((char *)tbl + hmap_locks_off(size));
	tbl->h = h;
	for (i = 0; i < size; i++) {
		INIT_HLIST_NULLS_HEAD(&tbl->buckets[i], hmap_nulls(tbl, i));
		/* Up to 2^30 buckets: do not hold the CPU for seconds. */
		if (!(i % (HMAP_RESCHED_BUCKETS * 64)))
			cond_resched();
	}
	for (i = 0; i < nlocks; i++)
		spin_lock_init(&tbl->locks[i]);
	return tbl;
}

static void hmap_tbl_free(struct hmap_htab *h, struct hmap_tbl *tbl)
{
	hmap_uncharge(h, hmap_tbl_bytes(tbl->size));
	kvfree(tbl);
}

/*
 * Frees a replaced table once no reader can be on it. The budget stays
 * charged until then, so that resizing back and forth cannot hold more
 * than the limit. hmap_htab_destroy() waits for this (rcu_barrier()).
 */
static void hmap_tbl_free_rcu(struct rcu_head *head)
{
	struct hmap_tbl *tbl = container_of(head, struct hmap_tbl, rcu);
	struct hmap_htab *h = tbl->h;

	hmap_tbl_free(h, tbl);
	/* The last access to @h: wake_up_var() only hashes its address. */
	if (atomic_dec_and_test(&h->tbl_pending))
		wake_up_var(&h->tbl_pending);
}

/*
 * Element memory. A pool map takes elements from its free list and gives
 * them back there; other maps use their slab cache (or kmalloc). Either way
 * an unlinked element is released only a grace period later, and elements
 * unlinked close together share one grace period: they queue on @rc.open
 * while HMAP_RETIRE_SLOTS batches are in flight, and the first batch to end
 * sends the whole queue on as one. So a burst of deletes, a batch command or
 * a clear costs a handful of grace periods, not one per element.
 *
 * A batch ends in a work item (queue_rcu_work()), not in an RCU callback:
 * a clear can retire millions of elements at once, and freeing those in
 * softirq would hold the CPU for seconds; a work item reschedules.
 */

/* Gives back an element no reader can see. May sleep in a pool map. */
static void hmap_elem_release(struct hmap_htab *h, struct hmap_elem *e)
{
	struct hmap_reclaim *rc = &h->rc;

	if (!rc->pool) {
		if (rc->cache)
			kmem_cache_free(rc->cache, e);
		else
			kfree(e);
		return;
	}
	spin_lock(&rc->lock);
	e->free_next = rc->free;
	WRITE_ONCE(rc->free, e);
	spin_unlock(&rc->lock);
}

/* Hands @rc.open to a grace period if a slot is free. Under @rc.lock. */
static void hmap_retire_start(struct hmap_htab *h)
{
	struct hmap_reclaim *rc = &h->rc;
	struct hmap_retire_batch *b;
	unsigned long i;

	if (!rc->open || rc->busy == GENMASK(HMAP_RETIRE_SLOTS - 1, 0))
		return;
	i = ffz(rc->busy);
	rc->busy |= BIT(i);
	b = &rc->slots[i];
	b->first = rc->open;
	b->last = rc->open_last;
	b->n = rc->open_n;
	rc->open = NULL;
	rc->open_last = NULL;
	rc->open_n = 0;
	queue_rcu_work(system_unbound_wq, &b->work);
}

/* The end of a batch's grace period, in process context. */
static void hmap_retire_work(struct work_struct *work)
{
	struct hmap_retire_batch *b = container_of(to_rcu_work(work),
						   struct hmap_retire_batch,
						   work);
	struct hmap_htab *h = b->h;
	struct hmap_reclaim *rc = &h->rc;
	struct hmap_elem *e, *next;
	u32 i = 0;

	if (!rc->pool) {
		for (e = b->first; e; e = next) {
			next = e->free_next;
			hmap_elem_release(h, e);
			if (!(++i % HMAP_RESCHED_ELEMS))
				cond_resched();
		}
		/* In use until now: max_bytes counts them until here. */
		hmap_uncharge(h, (u64)b->n * h->elem_size);
	}
	spin_lock(&rc->lock);
	if (rc->pool) {
		b->last->free_next = rc->free;
		WRITE_ONCE(rc->free, b->first);
	}
	rc->busy &= ~BIT(b - rc->slots);
	/* What queued while this batch waited goes on now, as one batch. */
	hmap_retire_start(h);
	spin_unlock(&rc->lock);
	/* hmap_htab_destroy() flushes this work, so @h is still there. */
	if (rc->pool)
		wake_up_all(&rc->free_wq);
}

/*
 * Releases unlinked elements @first..@last (@n of them, chained by
 * free_next) after a grace period. The caller must not hold a bucket lock.
 */
static void hmap_retire_list(struct hmap_htab *h, struct hmap_elem *first,
			     struct hmap_elem *last, u32 n)
{
	struct hmap_reclaim *rc = &h->rc;

	spin_lock(&rc->lock);
	last->free_next = rc->open;
	if (!rc->open)
		rc->open_last = last;
	rc->open = first;
	rc->open_n += n;
	hmap_retire_start(h);
	spin_unlock(&rc->lock);
}

static void hmap_elem_retire(struct hmap_htab *h, struct hmap_elem *e)
{
	hmap_retire_list(h, e, e, 1);
}

/*
 * Takes an element from a pool map's free list, waiting for one if need be.
 * Return: the element, or ERR_PTR(-EINTR) if a fatal signal ended the wait.
 */
static struct hmap_elem *hmap_pool_get(struct hmap_htab *h)
{
	struct hmap_reclaim *rc = &h->rc;
	struct hmap_elem *e;

	for (;;) {
		spin_lock(&rc->lock);
		e = rc->free;
		if (e)
			WRITE_ONCE(rc->free, e->free_next);
		spin_unlock(&rc->lock);
		if (e)
			return e;
		/*
		 * At most max_entries elements are linked, so the spares are
		 * free, in a batch that a grace period will end, or held for
		 * a moment by another writer: one of them comes back soon.
		 * Killable, so that a stalled grace period never leaves an
		 * unkillable task behind.
		 */
		if (wait_event_killable(rc->free_wq, READ_ONCE(rc->free)))
			return ERR_PTR(-EINTR);
	}
}

/* Sets up element memory: a pool, a slab cache, or kmalloc. */
static int hmap_reclaim_init(struct hmap_htab *h, bool prealloc)
{
	struct hmap_reclaim *rc = &h->rc;
	struct hmap_elem *e;
	size_t bytes;
	int ret;
	u32 i;

	spin_lock_init(&rc->lock);
	init_waitqueue_head(&rc->free_wq);
	for (i = 0; i < HMAP_RETIRE_SLOTS; i++) {
		INIT_RCU_WORK(&rc->slots[i].work, hmap_retire_work);
		rc->slots[i].h = h;
	}
	if (!prealloc) {
		if (h->elem_size <= HMAP_CACHE_MAX)
			rc->cache = hmap_caches[(h->elem_size - HMAP_CACHE_MIN) / 8];
		return 0;
	}
	rc->pool_elems = h->max_entries +
			HMAP_POOL_SPARE(h->max_entries, h->elem_size);
	bytes = size_mul(rc->pool_elems, h->elem_size);
	ret = hmap_charge(h, bytes);
	if (ret)
		return ret;
	rc->pool = kvmalloc(bytes, HMAP_GFP);
	if (!rc->pool) {
		hmap_uncharge(h, bytes);
		return -ENOMEM;
	}
	/* Chained in address order, so that a fresh map fills memory in order. */
	for (i = rc->pool_elems; i-- > 0;) {
		e = (struct hmap_elem *)((u8 *)rc->pool + (size_t)i * h->elem_size);
		e->seq = 0;
		/* A mapped map's slot (hmap_elem_index()); an LRU map stamps it. */
		e->atime = i;
		e->free_next = rc->free;
		rc->free = e;
		/* Up to 2^28 elements: do not hold the CPU for seconds. */
		if (!(i % HMAP_RESCHED_ELEMS))
			cond_resched();
	}
	return 0;
}

/* Frees a prealloc map's pool; every element must be back in it or gone. */
static void hmap_pool_free(struct hmap_htab *h)
{
	struct hmap_reclaim *rc = &h->rc;

	hmap_uncharge(h, (u64)rc->pool_elems * h->elem_size);
	kvfree(rc->pool);
	rc->pool = NULL;
	rc->free = NULL;
}

/* Frees every element still linked in @tbl, then @tbl: no reader may remain. */
static void hmap_tbl_free_all(struct hmap_htab *h, struct hmap_tbl *tbl)
{
	struct hlist_nulls_node *n, *next;
	u64 freed = 0;
	u32 i;

	for (i = 0; i < tbl->size; i++) {
		for (n = tbl->buckets[i].first; !is_a_nulls(n); n = next) {
			next = n->next;
			hmap_elem_release(h, container_of(n, struct hmap_elem, node));
			freed++;
		}
		/* A table of millions must not hold the CPU for seconds. */
		if (!(i % HMAP_RESCHED_BUCKETS))
			cond_resched();
	}
	if (!h->rc.pool)
		hmap_uncharge(h, freed * h->elem_size);
	hmap_tbl_free(h, tbl);
}

/*
 * An HMAP_F_MMAP map's image: a slot per pool element and the table's
 * buckets, charged to the map's budget like the pool.
 */
static int hmap_htab_image_init(struct hmap_htab *h)
{
	u32 buckets = h->max_size;
	struct hmap_image *img;
	u64 bytes;
	int ret;

	bytes = hmap_image_size(h->key_size, h->value_size, h->rc.pool_elems,
				buckets);
	ret = hmap_charge(h, bytes);
	if (ret)
		return ret;
	img = hmap_image_create(h->key_size, h->value_size, h->rc.pool_elems,
				buckets, h->seed);
	if (IS_ERR(img)) {
		hmap_uncharge(h, bytes);
		return PTR_ERR(img);
	}
	h->image = img;
	return 0;
}

/**
 * hmap_htab_init() - set up an empty map
 * @h: the map, zeroed or not
 * @p: sizes and limits
 *
 * Without @p->prealloc no bucket array is allocated here: the first insert
 * installs one, so an unused map costs only its header. With it, the element
 * pool and a bucket array for max_entries are allocated now and kept until
 * hmap_htab_destroy(), so that inserts never allocate. On error nothing is
 * left to destroy.
 *
 * Return: 0, -EINVAL if a size or limit is out of range, or -ENOMEM (or a
 * budget's error) if the pool or the table cannot be allocated.
 */
int hmap_htab_init(struct hmap_htab *h, const struct hmap_htab_params *p)
{
	struct hmap_tbl *tbl;
	u64 max_want;
	int ret;

	if (!p->key_size || p->key_size > HMAP_MAX_KEY_SIZE ||
	    !p->value_size || p->value_size > HMAP_MAX_VALUE_SIZE ||
	    !p->max_entries || p->max_entries > HMAP_MAX_ENTRIES ||
	    p->capacity_hint > p->max_entries ||
	    (p->mmap && (p->lru || p->ttl)))
		return -EINVAL;

	memset(h, 0, sizeof(*h));
	RCU_INIT_POINTER(h->tbl, NULL);
	init_rwsem(&h->rwsem);
	h->key_size = p->key_size;
	h->value_size = p->value_size;
	h->value_off = round_up(p->key_size, 8);
	h->elem_size = sizeof(struct hmap_elem) + h->value_off +
		       round_up(p->value_size, 8);
	h->ttl = p->ttl;
	if (p->ttl) {
		h->exp_off = h->elem_size - sizeof(struct hmap_elem);
		h->elem_size += sizeof(u64);
	}
	h->max_entries = p->max_entries;

	/* At most one entry per bucket on average: see hmap_needs_grow(). */
	h->min_size = HMAP_MIN_SIZE;
	if (p->capacity_hint)
		h->min_size = max_t(u32, h->min_size,
				    roundup_pow_of_two(p->capacity_hint));
	max_want = p->max_entries;
	/*
	 * A mapped map's chains are also walked by readers in userspace,
	 * and bounded (see hmap_image_room()): half an entry per bucket at
	 * most, for shorter walks and a full chain once in 10^18 buckets.
	 */
	if (p->mmap)
		max_want *= 2;
	h->max_size = min_t(u64, roundup_pow_of_two(max_want),
			    1UL << HMAP_MAX_SHIFT);
	h->min_size = min(h->min_size, 1U << HMAP_MAX_SHIFT);
	h->max_size = max(h->max_size, h->min_size);
	/* A prealloc table is full-sized from the start and never resizes. */
	if (p->prealloc || p->mmap)
		h->min_size = h->max_size;
	h->seed = get_random_u32();
	h->budget = p->budget;
	h->lru = p->lru;
	ret = hmap_reclaim_init(h, p->prealloc || p->mmap);
	if (ret || !(p->prealloc || p->mmap))
		return ret;
	tbl = hmap_tbl_alloc(h, h->max_size);
	if (IS_ERR(tbl)) {
		ret = PTR_ERR(tbl);
		goto free_pool;
	}
	if (p->mmap) {
		ret = hmap_htab_image_init(h);
		if (ret)
			goto free_tbl;
	}
	RCU_INIT_POINTER(h->tbl, tbl);
	atomic_long_inc(&h->stats.tbl_installs);
	return 0;

free_tbl:
	hmap_tbl_free(h, tbl);
free_pool:
	hmap_pool_free(h);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_init, HMAP_CORE);

/**
 * hmap_htab_destroy() - free every entry and the bucket array
 * @h: the map
 *
 * The caller guarantees that nothing can reach @h any more and that every
 * RCU reader that could have reached it is done (a grace period has passed).
 * Waits for every deferred free of @h to finish, its last access to @h
 * included, whatever state they are in. May sleep.
 */
void hmap_htab_destroy(struct hmap_htab *h)
{
	struct hmap_tbl *tbl = rcu_dereference_protected(h->tbl, 1);
	struct hmap_reclaim *rc = &h->rc;
	struct hmap_elem *e, *next;
	u64 n = 0;
	u32 i;

	/*
	 * Nothing retires any more. Take the queue, so that no batch that
	 * ends sends it on; then wait for every batch in flight to end,
	 * including one that a batch ending just before started: its work
	 * was queued before the queue was taken, so the flush sees it.
	 */
	spin_lock(&rc->lock);
	e = rc->open;
	rc->open = NULL;
	rc->open_last = NULL;
	rc->open_n = 0;
	spin_unlock(&rc->lock);
	for (i = 0; i < HMAP_RETIRE_SLOTS; i++)
		flush_rcu_work(&rc->slots[i].work);
	/*
	 * Tables replaced by resizes: their callbacks uncharge @h's budget.
	 * Waiting for these, not for every callback (rcu_barrier()), keeps
	 * the free of a map that never resized cheap.
	 */
	wait_var_event(&h->tbl_pending, !atomic_read(&h->tbl_pending));
	/* Unlinked before the caller's grace period: no reader can see them. */
	for (; e; e = next) {
		next = e->free_next;
		hmap_elem_release(h, e);
		n++;
	}
	if (!rc->pool)
		hmap_uncharge(h, n * h->elem_size);
	if (tbl)
		hmap_tbl_free_all(h, tbl);
	RCU_INIT_POINTER(h->tbl, NULL);
	atomic_set(&h->count, 0);
	if (rc->pool)
		hmap_pool_free(h);
	if (h->image) {
		hmap_uncharge(h, h->image->bytes);
		hmap_image_free(h->image);
		h->image = NULL;
	}
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_destroy, HMAP_CORE);

/* Finds @key in one bucket chain; called under its bucket lock. */
static struct hmap_elem *hmap_bucket_find(struct hmap_htab *h,
					  struct hlist_nulls_head *head,
					  u32 hash, const void *key)
{
	struct hlist_nulls_node *n;
	struct hmap_elem *e;

	hlist_nulls_for_each_entry(e, n, head, node)
		if (e->hash == hash && hmap_key_eq(h, hmap_elem_key(e), key))
			return e;
	return NULL;
}

/* Finds @key under rcu_read_lock(), following a resize in progress. */
static struct hmap_elem *hmap_lookup_rcu(struct hmap_htab *h, const void *key,
					 u32 hash)
{
	struct hmap_tbl *tbl = rcu_dereference(h->tbl);
	struct hlist_nulls_node *n;
	struct hmap_elem *e;
	u32 b;

	if (tbl && unlikely(rcu_access_pointer(tbl->future)))
		atomic_long_inc(&h->stats.resize_lookups);
	while (tbl) {
		b = hash & (tbl->size - 1);
restart:
		hlist_nulls_for_each_entry_rcu(e, n, &tbl->buckets[b], node)
			if (e->hash == hash && hmap_key_eq(h, hmap_elem_key(e), key))
				return e;
		/* A concurrent move carried us into another chain. */
		if (get_nulls_value(n) != hmap_nulls(tbl, b))
			goto restart;
		/*
		 * The miss may be because the key moved on: seeing it unlinked
		 * here must imply seeing @future, set before the move began.
		 */
		smp_rmb();
		tbl = rcu_dereference(tbl->future);
	}
	return NULL;
}

/*
 * The end of a lookup whose lockless copies kept overlapping writes: copy
 * under the bucket lock, which those writers hold, so the wait is for the
 * writers queued ahead at most. The key may have gone meanwhile.
 */
static int hmap_lookup_locked(struct hmap_htab *h, const void *key, u32 hash,
			      void *value, u64 *version, u64 now)
{
	struct hmap_elem *e = NULL;
	struct hmap_tbl *tbl;
	spinlock_t *lock;	/* guards bucket b of tbl */
	u32 b;

	atomic_long_inc(&h->stats.locked_reads);
	down_read(&h->rwsem);
	tbl = rcu_dereference_check(h->tbl, lockdep_is_held(&h->rwsem));
	if (tbl) {
		b = hash & (tbl->size - 1);
		lock = hmap_bucket_lock(tbl, b);
		spin_lock(lock);
		e = hmap_bucket_find(h, &tbl->buckets[b], hash, key);
		if (e && hmap_elem_expired(h, e, now))
			e = NULL;
		if (e) {
			hmap_value_copy(h, value, hmap_elem_value(h, e));
			if (version)
				*version = hmap_elem_version(e);
			hmap_lru_touch(h, e);
		}
		spin_unlock(lock);
	}
	up_read(&h->rwsem);
	return e ? 0 : -ENOENT;
}

/**
 * hmap_htab_lookup_version() - copy out the value of a key, and its version
 * @h: the map
 * @key: key_size bytes
 * @value: value_size bytes of room; may be written even on failure
 * @version: written with the version of the value returned, or NULL
 *
 * Takes no lock and never waits, even for a resize in progress, unless
 * writers keep replacing this very value: after a few copies that a write
 * overlapped it copies under the bucket lock (see hmap_elem_read_value()).
 * The value returned is whole, never a mix of two writes, and the version
 * is the one that write gave it. May sleep.
 *
 * Return: 0, or -ENOENT if the key is absent.
 */
int hmap_htab_lookup_version(struct hmap_htab *h, const void *key,
			     void *value, u64 *version)
{
	u32 hash = hmap_hash(h, key);
	u64 seq = 0, now = hmap_now(h);
	struct hmap_elem *e;
	int ret = -ENOENT;

	rcu_read_lock();
	e = hmap_lookup_rcu(h, key, hash);
	if (e && unlikely(hmap_elem_expired(h, e, now)))
		e = NULL;
	if (e) {
		ret = hmap_elem_read_value(h, e, value, &seq) ? 0 : -EAGAIN;
		hmap_lru_touch(h, e);
	}
	rcu_read_unlock();
	if (unlikely(ret == -EAGAIN))
		return hmap_lookup_locked(h, key, hash, value, version, now);
	if (!ret && version)
		*version = seq >> 1;
	return ret;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_lookup_version, HMAP_CORE);

/*
 * Installs the first table of an empty map, for a writer holding the rwsem
 * for read. Return: the current table, or an ERR_PTR.
 */
static struct hmap_tbl *hmap_tbl_install(struct hmap_htab *h)
{
	struct hmap_tbl *tbl, *old;

	/* A mapped map's image has the table's buckets, for good. */
	if (WARN_ON_ONCE(h->image))
		return ERR_PTR(-EINVAL);
	tbl = hmap_tbl_alloc(h, h->min_size);
	if (IS_ERR(tbl))
		return tbl;
	/*
	 * Racing first inserts each built a table; exactly one is installed
	 * and the others are freed. cmpxchg() orders the table's
	 * initialisation before its publication, as rcu_assign_pointer() would.
	 */
	old = cmpxchg((struct hmap_tbl __force **)&h->tbl, NULL, tbl);
	if (old) {
		/*
		 * A failed cmpxchg() orders nothing: order the winner's table
		 * before the notify callback this insert reads, as the
		 * winner's own cmpxchg() does (see hmap_htab_set_notify()).
		 */
		smp_mb();
		hmap_tbl_free(h, tbl);
		return old;
	}
	atomic_long_inc(&h->stats.tbl_installs);
	return tbl;
}

/*
 * Moves every element of old bucket @b into @new, tail first. Called with the
 * rwsem held for write, so no writer changes either table meanwhile; readers
 * may be anywhere.
 */
static void hmap_move_bucket(struct hmap_tbl *old, u32 b, struct hmap_tbl *new)
{
	struct hlist_nulls_head *oh = &old->buckets[b];
	struct hlist_nulls_node *n, *last, *first, **pprev;
	struct hlist_nulls_head *nh;
	struct hmap_elem *e;

	for (;;) {
		last = NULL;
		for (n = oh->first; !is_a_nulls(n); n = n->next)
			last = n;
		if (!last)
			return;
		e = container_of(last, struct hmap_elem, node);
		nh = &new->buckets[e->hash & (new->size - 1)];

		/* Link into the new chain first: a reader on it restarts. */
		first = nh->first;
		WRITE_ONCE(last->next, first);
		if (!is_a_nulls(first))
			WRITE_ONCE(first->pprev, &last->next);
		pprev = last->pprev;
		WRITE_ONCE(last->pprev, &nh->first);
		rcu_assign_pointer(hlist_nulls_first_rcu(nh), last);

		/* Then end the old chain before it, after the new link shows. */
		smp_store_release(pprev, (struct hlist_nulls_node *)
				  NULLS_MARKER(hmap_nulls(old, b)));
	}
}

/*
 * Resizes the table if its load still calls for it once writers are held
 * off. A failure to allocate leaves the table as it is: slower, still right,
 * and hmap_overloaded() keeps it from getting much slower.
 * Return: 0, or the allocation's error.
 */
static int hmap_htab_resize(struct hmap_htab *h)
{
	struct hmap_tbl *old, *new;
	u32 count, size, b;
	int ret = 0;

	if (WARN_ON_ONCE(h->image))
		return 0;
	down_write(&h->rwsem);
	old = rcu_dereference_protected(h->tbl, lockdep_is_held(&h->rwsem));
	if (!old)
		goto out;
	count = atomic_read(&h->count);
	if (!hmap_needs_grow(h, old->size, count) &&
	    !hmap_needs_shrink(h, old->size, count))
		goto out;
	size = hmap_size_for(h, count);
	if (size == old->size)
		goto out;
	new = hmap_tbl_alloc(h, size);
	if (IS_ERR(new)) {
		ret = PTR_ERR(new);
		goto out;
	}

	rcu_assign_pointer(old->future, new);
	for (b = 0; b < old->size; b++) {
		hmap_move_bucket(old, b, new);
		/* Holding the rwsem, not a spinlock: other tasks may run. */
		if (!(b % HMAP_RESCHED_BUCKETS))
			cond_resched();
	}
	rcu_assign_pointer(h->tbl, new);
	atomic_long_inc(size > old->size ? &h->stats.grows : &h->stats.shrinks);
	/* Last use of @old: this task is no RCU reader, it may go any time. */
	atomic_inc(&h->tbl_pending);
	call_rcu(&old->rcu, hmap_tbl_free_rcu);
out:
	up_write(&h->rwsem);
	return ret;
}

/*
 * A new element for @key and @value, not yet visible to anyone, or an
 * ERR_PTR: -ENOMEM, a budget's error, or -EINTR from a pool wait. May sleep.
 */
static struct hmap_elem *hmap_elem_alloc(struct hmap_htab *h, const void *key,
					 const void *value, u32 hash)
{
	struct hmap_elem *e;
	int ret;

	if (h->rc.pool) {
		e = hmap_pool_get(h);
		if (IS_ERR(e))
			return e;
	} else {
		ret = hmap_charge(h, h->elem_size);
		if (ret)
			return ERR_PTR(ret);
		if (h->rc.cache)
			e = kmem_cache_alloc(h->rc.cache, HMAP_GFP);
		else
			e = kmalloc(h->elem_size, HMAP_GFP);
		if (!e) {
			hmap_uncharge(h, h->elem_size);
			return ERR_PTR(-ENOMEM);
		}
		e->seq = 0;
	}
	e->hash = hash;
	memcpy(hmap_elem_key(e), key, h->key_size);
	memset(e->data + h->key_size, 0, h->value_off - h->key_size);
	memcpy(hmap_elem_value(h, e), value, h->value_size);
	if (h->ttl)
		*hmap_elem_deadline(h, e) = 0;
	return e;
}

/* Gives back an element no reader can have seen. */
static void hmap_elem_free(struct hmap_htab *h, struct hmap_elem *e)
{
	if (!h->rc.pool)
		hmap_uncharge(h, h->elem_size);
	hmap_elem_release(h, e);
	if (h->rc.pool)
		wake_up_all(&h->rc.free_wq);
}

/*
 * Evictions an LRU insert tries before it leaves the rest to the next
 * insert: each that fails lost a race with another writer.
 */
#define HMAP_LRU_TRIES		16

/*
 * Removes one entry of an LRU map, the least recently used of a sample
 * (hmap_lru_pick()) but never @keep, the entry just inserted. The entry is
 * removed by identity: still linked in its bucket, found under the bucket
 * lock, with the rwsem held so that no resize moves it meanwhile.
 * Return: true if it removed one.
 */
static bool hmap_lru_evict_one(struct hmap_htab *h, struct hmap_elem *keep)
{
	struct hmap_elem *e = NULL, *pos;
	struct hlist_nulls_node *n;
	struct hmap_tbl *tbl;
	spinlock_t *lock;	/* guards bucket b of tbl */
	bool expired, found = false;
	u64 now;
	u32 b;

	down_read(&h->rwsem);
	tbl = rcu_dereference_check(h->tbl, lockdep_is_held(&h->rwsem));
	now = hmap_now(h);
	rcu_read_lock();
	if (tbl)
		e = hmap_lru_pick(h, tbl, keep, &expired, now);
	if (e) {
		b = e->hash & (tbl->size - 1);
		lock = hmap_bucket_lock(tbl, b);
		spin_lock(lock);
		hlist_nulls_for_each_entry(pos, n, &tbl->buckets[b], node)
			if (pos == e)
				found = true;
		/* Chosen as expired, but a write took it over since: keep it. */
		if (found && expired && !hmap_elem_expired(h, e, now))
			found = false;
		if (found) {
			hmap_elem_unlink(h, e);
			atomic_dec(&h->count);
			hmap_notify(h, expired ? HMAP_EVENT_EXPIRE :
				    HMAP_EVENT_EVICT, e);
		}
		spin_unlock(lock);
	}
	rcu_read_unlock();
	up_read(&h->rwsem);
	if (!found)
		return false;
	atomic_long_inc(expired ? &h->stats.expirations : &h->stats.evictions);
	hmap_elem_retire(h, e);
	return true;
}

/*
 * Brings an LRU map that inserts took past max_entries back to it. Every
 * insert into a full map calls this, so the count exceeds the limit only
 * by the inserts between their link and this, and by what an insert that
 * lost HMAP_LRU_TRIES races left to the next one: an insert never fails
 * for want of room. No shrink: an LRU map at its limit stays full.
 */
static noinline void hmap_lru_evict(struct hmap_htab *h, struct hmap_elem *keep)
{
	int tries = 0;

	while ((u32)atomic_read(&h->count) > h->max_entries &&
	       tries < HMAP_LRU_TRIES)
		if (!hmap_lru_evict_one(h, keep))
			tries++;
}

/*
 * Decides, under the bucket lock, what a write does to a present entry
 * @old. Return: 0 to write @w->value, or the errno that ends the call.
 */
static int hmap_write_present(struct hmap_htab *h, struct hmap_elem *old,
			      struct hmap_write *w)
{
	int ret = 0;

	if ((w->flags & (HMAP_NOEXIST | HMAP_EXIST)) == HMAP_NOEXIST)
		ret = -EEXIST;
	else if (w->flags & HMAP_IF_VERSION &&
		 hmap_elem_version(old) != w->version)
		ret = -ESTALE;
	else if (w->modify)
		ret = w->modify(w, hmap_elem_value(h, old));
	if (ret)
		w->version = hmap_elem_version(old);
	return ret;
}

/**
 * hmap_htab_write() - create an entry or change its value, maybe conditionally
 * @h: the map
 * @key: key_size bytes
 * @w: what to write, and on what condition; see &struct hmap_write
 *
 * A present key has its value replaced in place, under its bucket lock and
 * with no allocation, and gets a new version; a concurrent lookup finds the
 * old value or the new one, never a mix and never nothing (see
 * hmap_elem_read_value()). A new key gets an element that is complete
 * before it is linked. May sleep.
 *
 * Return: 0; -EINVAL for bad flags; -EEXIST (NOEXIST, key present);
 * -ENOENT (EXIST or IF_VERSION, key absent); -ESTALE (IF_VERSION, another
 * version); an error of @w->modify; -E2BIG if a new key would exceed
 * max_entries; -ENOMEM if an allocation failed or the budget is spent, or
 * the error of the budget that refused (-EDQUOT for a user's); -EINTR if
 * a fatal signal ended the wait for a pool element. On error the map is
 * unchanged. A prealloc map never returns -ENOMEM.
 */
int hmap_htab_write(struct hmap_htab *h, const void *key, struct hmap_write *w)
{
	u64 mode = w->flags & (HMAP_NOEXIST | HMAP_EXIST);
	bool must_exist = mode == HMAP_EXIST || w->flags & HMAP_IF_VERSION;
	struct hmap_elem *new = NULL, *old;
	u32 hash = hmap_hash(h, key);
	bool grow = false, evict = false;
	struct hmap_elem *linked = NULL;
	u64 now;
	struct hmap_tbl *tbl;
	spinlock_t *lock;	/* guards bucket b of tbl */
	int ret;
	u32 b;

	if (w->flags & ~(HMAP_NOEXIST | HMAP_EXIST | HMAP_IF_VERSION) ||
	    mode == (HMAP_NOEXIST | HMAP_EXIST) ||
	    (w->flags & HMAP_IF_VERSION && mode == HMAP_NOEXIST))
		return -EINVAL;

	/*
	 * Into an empty map, allocate the element before the bucket array, so
	 * that failing to get either leaves no array behind.
	 */
	if (!rcu_access_pointer(h->tbl) && !must_exist) {
		new = hmap_elem_alloc(h, key, w->value, hash);
		if (IS_ERR(new))
			return PTR_ERR(new);
	}
again:
	ret = 0;
	down_read(&h->rwsem);
	tbl = rcu_dereference_check(h->tbl, lockdep_is_held(&h->rwsem));
	/* Read after any wait for the rwsem: an entry may expire meanwhile. */
	now = hmap_now(h);
	if (!tbl) {
		/* Empty: nothing to replace, and nothing to allocate for it. */
		if (must_exist)
			ret = -ENOENT;
		else if (!new)
			ret = -EAGAIN;
		else
			tbl = hmap_tbl_install(h);
		if (IS_ERR(tbl))
			ret = PTR_ERR(tbl);
		if (ret)
			goto unlock_rwsem;
	}
	b = hash & (tbl->size - 1);
	lock = hmap_bucket_lock(tbl, b);
	spin_lock(lock);
	old = hmap_bucket_find(h, &tbl->buckets[b], hash, key);
	if (old && unlikely(hmap_elem_expired(h, old, now))) {
		/*
		 * Gone, as if absent; but rather than unlink it and link a new
		 * element, the write takes it over, with a new version.
		 */
		if (must_exist) {
			ret = -ENOENT;
		} else {
			hmap_notify(h, HMAP_EVENT_EXPIRE, old);
			hmap_elem_write_value(h, old, w->value);
			hmap_elem_set_deadline(h, old, w->deadline);
			w->version = hmap_elem_version(old);
			hmap_lru_stamp(h, old, w->version);
			atomic_long_inc(&h->stats.expirations);
			hmap_notify(h, HMAP_EVENT_UPDATE, old);
		}
	} else if (old) {
		ret = hmap_write_present(h, old, w);
		if (!ret) {
			hmap_elem_write_value(h, old, w->value);
			if (!w->modify)
				hmap_elem_set_deadline(h, old, w->deadline);
			w->version = hmap_elem_version(old);
			hmap_lru_stamp(h, old, w->version);
			hmap_notify(h, HMAP_EVENT_UPDATE, old);
		}
	} else if (must_exist) {
		ret = -ENOENT;
	} else if (!h->lru && (u32)atomic_read(&h->count) >= h->max_entries) {
		ret = -E2BIG;
	} else if (unlikely(h->image) && !hmap_image_room(h->image, hash)) {
		/* The hash seed is mapped: a chain is bounded, not likely short. */
		ret = -EMLINK;
	} else if (hmap_overloaded(h, tbl->size, atomic_read(&h->count))) {
		/* Grow first, with no lock held, then look again. */
		ret = -EXFULL;
	} else if (!new) {
		/* Allocate with no lock held, then look again. */
		ret = -EAGAIN;
	} else if ((u32)atomic_inc_return(&h->count) > h->max_entries &&
		   !h->lru) {
		atomic_dec(&h->count);
		ret = -E2BIG;
	} else {
		/* An LRU map past its limit: this insert makes room after. */
		evict = h->lru &&
			(u32)atomic_read(&h->count) > h->max_entries;
		w->version = hmap_next_version(h);
		new->seq = w->version << 1;
		hmap_lru_stamp(h, new, w->version);
		if (h->ttl)
			*hmap_elem_deadline(h, new) = w->deadline;
		/*
		 * A mapped map: linked busy (odd), so that LOOKUP waits for
		 * the image to have it too (see hmap_elem_unlink()).
		 */
		if (unlikely(h->image))
			new->seq |= 1;
		hlist_nulls_add_head_rcu(&new->node, &tbl->buckets[b]);
		if (unlikely(h->image)) {
			hmap_image_link(h->image, hmap_elem_index(new), hash,
					hmap_elem_key(new), hmap_elem_value(h, new),
					w->version << 1);
			smp_wmb();	/* in the image before the even @seq */
			WRITE_ONCE(new->seq, w->version << 1);
		}
		hmap_notify(h, HMAP_EVENT_UPDATE, new);
		grow = hmap_needs_grow(h, tbl->size, atomic_read(&h->count));
		linked = new;
		new = NULL;
	}
	spin_unlock(lock);
unlock_rwsem:
	up_read(&h->rwsem);

	if (ret == -EXFULL) {
		ret = hmap_htab_resize(h);
		if (!ret)
			goto again;
	}
	if (ret == -EAGAIN) {
		new = hmap_elem_alloc(h, key, w->value, hash);
		if (IS_ERR(new))
			return PTR_ERR(new);
		goto again;
	}
	if (new)
		hmap_elem_free(h, new);
	/* @linked may be gone already: only its address is compared. */
	if (evict)
		hmap_lru_evict(h, linked);
	if (grow)
		hmap_htab_resize(h);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_write, HMAP_CORE);

/**
 * hmap_htab_update() - create an entry or replace its value
 * @h: the map
 * @key: key_size bytes
 * @value: value_size bytes
 * @flags: HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST
 *
 * hmap_htab_write() without a condition on the version.
 *
 * Return: as hmap_htab_write().
 */
int hmap_htab_update(struct hmap_htab *h, const void *key, const void *value,
		     u64 flags)
{
	struct hmap_write w = { .flags = flags, .value = value };

	if (flags & HMAP_IF_VERSION)
		return -EINVAL;
	return hmap_htab_write(h, key, &w);
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_update, HMAP_CORE);

/*
 * Removes @key, copying its value to @value if not NULL; with @expect, only
 * if its value is still @expect; with @version, only if its version is
 * still *@version (else *@version is set to the current one). The element
 * goes after a grace period.
 * Return: 0, -ENOENT if absent (an expired entry is removed all the same),
 * -EAGAIN if its value is not @expect, -ESTALE if its version is not
 * *@version.
 */
static int hmap_remove(struct hmap_htab *h, const void *key, void *value,
		       const void *expect, u64 *version)
{
	u32 hash = hmap_hash(h, key);
	struct hmap_elem *e = NULL;
	bool shrink = false;
	struct hmap_tbl *tbl;
	spinlock_t *lock;	/* guards bucket b of tbl */
	int ret = -ENOENT;
	u64 now;
	u32 b;

	down_read(&h->rwsem);
	tbl = rcu_dereference_check(h->tbl, lockdep_is_held(&h->rwsem));
	/* Read after any wait for the rwsem: an entry may expire meanwhile. */
	now = hmap_now(h);
	if (!tbl)
		goto unlock_rwsem;
	b = hash & (tbl->size - 1);
	lock = hmap_bucket_lock(tbl, b);
	spin_lock(lock);
	e = hmap_bucket_find(h, &tbl->buckets[b], hash, key);
	if (e && unlikely(hmap_elem_expired(h, e, now))) {
		/* Absent for the caller; its element goes now all the same. */
		hmap_elem_unlink(h, e);
		shrink = hmap_needs_shrink(h, tbl->size,
					   atomic_dec_return(&h->count));
		atomic_long_inc(&h->stats.expirations);
		hmap_notify(h, HMAP_EVENT_EXPIRE, e);
		ret = -ENOENT;
	} else if (e && expect &&
		   /* Writers hold this lock: the value cannot change under us. */
		   memcmp(hmap_elem_value(h, e), expect, h->value_size)) {
		e = NULL;
		ret = -EAGAIN;
	} else if (e && version && hmap_elem_version(e) != *version) {
		*version = hmap_elem_version(e);
		e = NULL;
		ret = -ESTALE;
	} else if (e) {
		if (value)
			hmap_value_copy(h, value, hmap_elem_value(h, e));
		hmap_elem_unlink(h, e);
		shrink = hmap_needs_shrink(h, tbl->size,
					   atomic_dec_return(&h->count));
		hmap_notify(h, HMAP_EVENT_DELETE, e);
		ret = 0;
	}
	spin_unlock(lock);
unlock_rwsem:
	up_read(&h->rwsem);
	if (!e)
		return ret;
	hmap_elem_retire(h, e);
	if (shrink)
		hmap_htab_resize(h);
	return ret;
}

/**
 * hmap_htab_lookup_and_delete() - remove an entry, returning its value
 * @h: the map
 * @key: key_size bytes
 * @value: value_size bytes of room, or NULL; written only on success
 *
 * The value returned is the one the entry held when it was unlinked: no
 * concurrent update can slip between the read and the delete. May sleep.
 *
 * Return: 0, or -ENOENT if the key is absent.
 */
int hmap_htab_lookup_and_delete(struct hmap_htab *h, const void *key,
				void *value)
{
	return hmap_remove(h, key, value, NULL, NULL);
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_lookup_and_delete, HMAP_CORE);

/**
 * hmap_htab_delete_if_value() - remove an entry if it still holds a value
 * @h: the map
 * @key: key_size bytes
 * @value: value_size bytes: the value the entry must hold
 *
 * Lets a caller hand a value over before it removes the entry: look it up,
 * copy it out, then remove the entry only if the value is still the one
 * handed over. If the copy fails, nothing was removed. May sleep.
 *
 * Return: 0, -ENOENT if the key is absent, or -EAGAIN if its value differs.
 */
int hmap_htab_delete_if_value(struct hmap_htab *h, const void *key,
			      const void *value)
{
	return hmap_remove(h, key, NULL, value, NULL);
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_delete_if_value, HMAP_CORE);

/**
 * hmap_htab_delete() - remove an entry
 * @h: the map
 * @key: key_size bytes
 *
 * May sleep.
 *
 * Return: 0, or -ENOENT if the key is absent.
 */
int hmap_htab_delete(struct hmap_htab *h, const void *key)
{
	return hmap_remove(h, key, NULL, NULL, NULL);
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_delete, HMAP_CORE);

/**
 * hmap_htab_delete_version() - remove an entry if it still has a version
 * @h: the map
 * @key: key_size bytes
 * @version: in: the version the entry must have; out, on -ESTALE: the
 *	version it has
 *
 * The delete half of a compare-and-swap by version: remove what the caller
 * last read, not what another wrote since. May sleep.
 *
 * Return: 0, -ENOENT if the key is absent, or -ESTALE.
 */
int hmap_htab_delete_version(struct hmap_htab *h, const void *key,
			     u64 *version)
{
	return hmap_remove(h, key, NULL, NULL, version);
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_delete_version, HMAP_CORE);

/* Position of bucket-order slot @pos: bit reversal within @shift bits. */
static inline u32 hmap_rev(u32 x, u32 shift)
{
	return bitrev32(x) >> (32 - shift);
}

/* Orders elements by bit-reversed hash, then key bytes. */
static int hmap_iter_cmp(struct hmap_htab *h, u32 rev_a, const void *key_a,
			 u32 rev_b, const void *key_b)
{
	if (rev_a != rev_b)
		return rev_a < rev_b ? -1 : 1;
	return memcmp(key_a, key_b, h->key_size);
}

/**
 * hmap_htab_lookup_batch() - copy out entries in iteration order
 * @h: the map
 * @cursor: key_size bytes: the walk continues after this key (which need
 *	not be in the map), or NULL to start from the first key
 * @keys: room for @max keys, key_size bytes each
 * @values: room for @max values, value_size bytes each, or NULL
 * @max: entries wanted, at least 1
 * @end: set to true if the walk reached the last key
 *
 * The order does not depend on the table's size, so a walk resumed from any
 * key, present or deleted, across resizes, returns every key present for
 * the whole walk exactly once. A bucket with more entries than @max is split
 * between calls. Waits for a resize in progress. The RCU read section is
 * left and the CPU offered at bucket boundaries (see HMAP_RCU_COPY_MAX), so
 * a huge sparse table or large values never hold up grace periods. May
 * sleep.
 *
 * Return: the number of entries copied, 0 to @max.
 */
u32 hmap_htab_lookup_batch(struct hmap_htab *h, const void *cursor,
			   void *keys, void *values, u32 max, bool *end)
{
	u32 cur_rev = 0, last_rev = 0, rev, pos, b, n = 0, visited = 0;
	const void *last = cursor;
	u64 now = hmap_now(h);
	struct hmap_elem *e, *best;
	struct hmap_tbl *tbl;
	struct hlist_nulls_node *nn;
	size_t copied = 0;
	spinlock_t *lock;	/* guards bucket b of tbl */
	void *v;

	*end = true;
	if (cursor)
		cur_rev = bitrev32(hmap_hash(h, cursor));
	last_rev = cur_rev;

	/* Held for read, the rwsem keeps @tbl, and its elements in place. */
	down_read(&h->rwsem);
	rcu_read_lock();
	tbl = rcu_dereference_protected(h->tbl, lockdep_is_held(&h->rwsem));
	if (!tbl)
		goto out;
	for (pos = cursor ? cur_rev >> (32 - tbl->shift) : 0; pos < tbl->size;
	     pos++, last = NULL) {
		/*
		 * No element is held across buckets (@last is a copy), and
		 * the rwsem keeps @tbl, so the walk may leave RCU here.
		 */
		if (copied >= HMAP_RCU_COPY_MAX ||
		    !(++visited % HMAP_RESCHED_BUCKETS)) {
			rcu_read_unlock();
			/* A dying caller has no use for the rest of the walk. */
			if (fatal_signal_pending(current)) {
				rcu_read_lock();
				*end = false;
				goto out;
			}
			cond_resched();
			rcu_read_lock();
			copied = 0;
		}
		b = hmap_rev(pos, tbl->shift);
		/* Emit the bucket's entries after @last, smallest first. */
		for (;;) {
			best = NULL;
			hlist_nulls_for_each_entry_rcu(e, nn, &tbl->buckets[b], node) {
				/* Chains are short, but count them too. */
				copied += sizeof(*e);
				if (unlikely(hmap_elem_expired(h, e, now)))
					continue;
				rev = bitrev32(e->hash);
				if (last && hmap_iter_cmp(h, rev, hmap_elem_key(e),
							  last_rev, last) <= 0)
					continue;
				if (!best ||
				    hmap_iter_cmp(h, rev, hmap_elem_key(e),
						  bitrev32(best->hash),
						  hmap_elem_key(best)) < 0)
					best = e;
			}
			if (!best)
				break;
			memcpy((u8 *)keys + (size_t)n * h->key_size,
			       hmap_elem_key(best), h->key_size);
			copied += h->key_size;
			v = values ? (u8 *)values + (size_t)n * h->value_size : NULL;
			if (v && !hmap_elem_read_value(h, best, v, NULL)) {
				/* Writers keep replacing it: wait for them. */
				atomic_long_inc(&h->stats.locked_reads);
				lock = hmap_bucket_lock(tbl, b);
				spin_lock(lock);
				hmap_value_copy(h, v, hmap_elem_value(h, best));
				spin_unlock(lock);
			}
			if (v)
				copied += h->value_size;
			last = (u8 *)keys + (size_t)n * h->key_size;
			last_rev = bitrev32(best->hash);
			if (++n == max) {
				/* More may follow, in this bucket or later. */
				*end = false;
				goto out;
			}
		}
	}
out:
	rcu_read_unlock();
	up_read(&h->rwsem);
	return n;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_lookup_batch, HMAP_CORE);

/**
 * hmap_htab_get_next_key() - the key that follows another in iteration order
 * @h: the map
 * @key: key_size bytes, or NULL for the first key
 * @next_key: key_size bytes of room, written only on success
 *
 * As hmap_htab_lookup_batch() for one key: @key need not be in the map, and
 * deleting the key a walk stands on does not send the walk back to the
 * start.
 *
 * Return: 0, or -ENOENT after the last key.
 */
int hmap_htab_get_next_key(struct hmap_htab *h, const void *key,
			   void *next_key)
{
	bool end;

	return hmap_htab_lookup_batch(h, key, next_key, NULL, 1, &end) ? 0 : -ENOENT;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_get_next_key, HMAP_CORE);

/*
 * Empties a prealloc map's table in place, with the rwsem held for write:
 * each chain head becomes its bucket's end at once, readers already on a
 * chain follow it to that same end, and the elements go back to the pool
 * after one grace period, as one batch.
 */
static void hmap_tbl_empty(struct hmap_htab *h, struct hmap_tbl *tbl)
{
	struct hmap_elem *e, *first = NULL, *last = NULL;
	struct hlist_nulls_node *n;
	u32 i, count = 0;

	for (i = 0; i < tbl->size; i++) {
		n = tbl->buckets[i].first;
		/*
		 * A mapped map: the bucket's elements busy, then the image's
		 * chain emptied, then the table's (see hmap_elem_unlink());
		 * a table reader sent to the lock waits for the whole clear.
		 */
		if (h->image) {
			for (; !is_a_nulls(n); n = n->next) {
				e = container_of(n, struct hmap_elem, node);
				WRITE_ONCE(e->seq, e->seq | 1);
			}
			smp_wmb();	/* odd counts before the image forgets */
			hmap_image_clear_bucket(h->image, i);
			n = tbl->buckets[i].first;
		}
		if (!is_a_nulls(n))
			rcu_assign_pointer(hlist_nulls_first_rcu(&tbl->buckets[i]),
					   (struct hlist_nulls_node *)
					   NULLS_MARKER(hmap_nulls(tbl, i)));
		/* @free_next is @pprev, which readers never follow. */
		for (; !is_a_nulls(n); n = n->next, count++) {
			e = container_of(n, struct hmap_elem, node);
			e->free_next = first;
			first = e;
			if (!last)
				last = e;
		}
		if (!(i % HMAP_RESCHED_BUCKETS))
			cond_resched();
	}
	atomic_set(&h->count, 0);
	if (first)
		hmap_retire_list(h, first, last, count);
}

/**
 * hmap_htab_clear() - remove every entry
 * @h: the map
 *
 * Lookups running meanwhile see either the old content or an empty map.
 * A map without a pool detaches its whole table at once and frees it after
 * one grace period, instead of one per element; a prealloc map keeps its
 * table, so that its inserts still never allocate. May sleep for a grace
 * period.
 */
void hmap_htab_clear(struct hmap_htab *h)
{
	struct hmap_tbl *tbl;
	hmap_notify_fn fn;

	down_write(&h->rwsem);
	tbl = rcu_dereference_protected(h->tbl, lockdep_is_held(&h->rwsem));
	fn = READ_ONCE(h->notify);
	if (fn)
		fn(h, HMAP_EVENT_CLEAR, NULL, NULL, 0);
	if (h->rc.pool) {
		hmap_tbl_empty(h, tbl);
		up_write(&h->rwsem);
		return;
	}
	RCU_INIT_POINTER(h->tbl, NULL);
	atomic_set(&h->count, 0);
	up_write(&h->rwsem);

	if (!tbl)
		return;
	synchronize_rcu();
	hmap_tbl_free_all(h, tbl);
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_clear, HMAP_CORE);

/**
 * hmap_htab_reclaim_expired() - remove the expired entries of some buckets
 * @h: the map
 * @cursor: in: the bucket to start at (taken modulo the table's size, so it
 *	may simply keep growing across calls and resizes); out: the next one
 * @budget: buckets to visit, at most
 * @next: lowered to the earliest deadline of the entries it keeps (left
 *	alone if none has one), so that the sweep knows when to come back
 *
 * The bounded step of a periodic sweep: expired entries are already gone
 * for every command, and their elements also go when a command meets them;
 * this returns the memory of those no command meets. Takes each bucket's
 * lock in turn with the rwsem held for read, and offers the CPU every
 * HMAP_RESCHED_BUCKETS buckets. May sleep.
 *
 * Return: the number of entries removed.
 */
u32 hmap_htab_reclaim_expired(struct hmap_htab *h, u32 *cursor, u32 budget,
			      u64 *next)
{
	struct hmap_elem *e, *first = NULL, *last = NULL;
	struct hlist_nulls_node *n, *nn;
	bool shrink = false;
	struct hmap_tbl *tbl;
	spinlock_t *lock;	/* guards bucket b of tbl */
	u32 i, b, count = 0;
	u64 now, d;

	if (!h->ttl)
		return 0;
	down_read(&h->rwsem);
	tbl = rcu_dereference_check(h->tbl, lockdep_is_held(&h->rwsem));
	now = ktime_get_ns();
	for (i = 0; tbl && i < min(budget, tbl->size); i++, (*cursor)++) {
		b = *cursor & (tbl->size - 1);
		lock = hmap_bucket_lock(tbl, b);
		spin_lock(lock);
		for (n = tbl->buckets[b].first; !is_a_nulls(n); n = nn) {
			nn = n->next;
			e = container_of(n, struct hmap_elem, node);
			if (!hmap_elem_expired(h, e, now)) {
				d = *hmap_elem_deadline(h, e);
				if (d && d < *next)
					*next = d;
				continue;
			}
			hmap_elem_unlink(h, e);
			hmap_notify(h, HMAP_EVENT_EXPIRE, e);
			/* @free_next is @pprev, which readers never follow. */
			e->free_next = first;
			first = e;
			if (!last)
				last = e;
			count++;
			shrink = hmap_needs_shrink(h, tbl->size,
						   atomic_dec_return(&h->count));
		}
		spin_unlock(lock);
		if (!(i % HMAP_RESCHED_BUCKETS))
			cond_resched();
	}
	up_read(&h->rwsem);
	if (!first)
		return 0;
	atomic_long_add(count, &h->stats.expirations);
	hmap_retire_list(h, first, last, count);
	if (shrink)
		hmap_htab_resize(h);
	return count;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_reclaim_expired, HMAP_CORE);

/**
 * hmap_htab_set_notify() - start or stop telling a watcher of every change
 * @h: the map
 * @fn: the callback, or NULL to stop
 *
 * Starting waits for the changes in flight: on return every change that
 * does not call @fn is over, and its effect is there for a walk of the map
 * started after. A change reads the callback under its bucket lock, so
 * taking each bucket lock once after setting it is enough; with @rwsem held
 * for read, so that no resize brings other locks meanwhile, and without
 * holding back writers as taking @rwsem for write would (a read-only
 * watcher opening and closing watches in a loop must not stall the map's
 * writers). Stopping needs no wait: a change that still calls @fn must
 * find that it has nothing to do. May sleep.
 */
void hmap_htab_set_notify(struct hmap_htab *h, hmap_notify_fn fn)
{
	struct hmap_tbl *tbl;
	u32 i;

	WRITE_ONCE(h->notify, fn);
	if (!fn)
		return;
	/*
	 * Against a first insert installing a table (a full barrier too):
	 * either it is seen here, or that insert sees @fn.
	 */
	smp_mb();
	down_read(&h->rwsem);
	tbl = rcu_dereference_check(h->tbl, lockdep_is_held(&h->rwsem));
	for (i = 0; tbl && i <= tbl->lock_mask; i++) {
		spin_lock(&tbl->locks[i]);
		spin_unlock(&tbl->locks[i]);
		if (!(i % HMAP_RESCHED_BUCKETS))
			cond_resched();
	}
	up_read(&h->rwsem);
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_set_notify, HMAP_CORE);

/**
 * hmap_htab_buckets() - size of the current bucket array
 * @h: the map
 *
 * Return: the number of buckets, 0 before the first insert.
 */
u32 hmap_htab_buckets(struct hmap_htab *h)
{
	struct hmap_tbl *tbl;
	u32 size;

	rcu_read_lock();
	tbl = rcu_dereference(h->tbl);
	size = tbl ? tbl->size : 0;
	rcu_read_unlock();
	return size;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_buckets, HMAP_CORE);

/**
 * hmap_htab_mem_bytes() - memory the map holds for its entries and buckets
 * @h: the map
 *
 * Counts the entries' elements (a pool map: its whole pool), the bucket
 * array and a mapped map's image, not allocator rounding nor the map's own header. Elements waiting
 * for a grace period after a delete are not counted.
 *
 * Return: bytes.
 */
u64 hmap_htab_mem_bytes(struct hmap_htab *h)
{
	u64 bytes = (u64)hmap_htab_count(h) * h->elem_size;
	u32 size = hmap_htab_buckets(h);

	if (h->rc.pool)
		bytes = (u64)h->rc.pool_elems * h->elem_size;
	if (size)
		bytes += hmap_tbl_bytes(size);
	if (h->image)
		bytes += h->image->bytes;
	return bytes;
}
EXPORT_SYMBOL_NS_GPL(hmap_htab_mem_bytes, HMAP_CORE);
