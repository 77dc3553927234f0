// SPDX-License-Identifier: GPL-2.0
/*
 * Change streams (HMAP_IOC_WATCH): a watch is an fd with a buffer of its
 * own that every change of its map is appended to, as a numbered record,
 * and that read() empties. See &struct hmap_watch in the uapi for why it is
 * a separate fd.
 *
 * Writers never wait for a reader. A change is numbered and appended to
 * every watch under the map's watch lock, taken inside the entry's bucket
 * lock by the table core's notify callback, so the records of one entry
 * come in the order of its changes and the numbers in the order of the
 * records. A record that does not fit is dropped, and counted in an
 * overflow record that takes its place: each buffer keeps room for one, so
 * that a loss is always reported where it happened.
 *
 * A map nobody watches has a NULL notify callback and pays one load per
 * write. The first watch sets it, the last one clears it (under
 * &hmap_watches.mutex, so that the two never cross).
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "hmap_priv.h"

#define HMAP_EVENT_HDR		sizeof(struct hmap_event)

/* Reads copy out through a bounce buffer of at least this many bytes. */
#define HMAP_WATCH_BOUNCE	PAGE_SIZE

/*
 * The most bytes one change of a map may copy, summed over its watches:
 * each copies its largest record (with the value, for HMAP_WATCH_VALUES),
 * all under the map's watch lock inside the entry's bucket lock, and any
 * reader may add watches. max_watches_per_map alone lets 64 watches of 64
 * KiB values copy 4 MiB under a spinlock per write; this lets 15 of them,
 * and still max_watches_per_map of keys or small values.
 */
#define HMAP_WATCH_COPY_BUDGET	(1024 * 1024)

/**
 * struct hmap_watcher - one watch of one map
 * @node: in the map's &hmap_watches.list.
 * @map: the map; the watch holds a reference, as a map fd does.
 * @user: charged for @size bytes against max_watch_bytes_per_user, or NULL
 *	(CAP_SYS_RESOURCE).
 * @ring: @size bytes (a power of two) of records; a record may wrap.
 * @size: bytes of @ring.
 * @head: bytes ever appended; the next record goes at @head % @size.
 * @tail: bytes ever read; @head - @tail bytes of records wait.
 * @ovf: @head where the last record appended began if it is an overflow
 *	record, which a further loss then counts in; U64_MAX otherwise.
 * @lost: records dropped since the watch began, for fdinfo.
 *	@ring's content, @head, @tail, @ovf and @lost are guarded by the
 *	map's &hmap_watches.lock.
 * @peek_ovf: where the last overflow record among those the last
 *	hmap_watch_peek() copied began, U64_MAX if none: a writer may count
 *	more losses in it before hmap_watch_commit(). Under @read_mutex.
 * @values: records carry values (HMAP_WATCH_VALUES). Immutable.
 * @rec_max: bytes of its largest record, against HMAP_WATCH_COPY_BUDGET.
 *	Immutable.
 * @wq: readers and pollers wait here for @head to move.
 * @read_mutex: one read() at a time, so records come out in order.
 * @bounce: @bounce_size bytes that records are copied to, under the lock,
 *	before they go to user memory, with no lock held. Under @read_mutex.
 * @bounce_size: at least the largest record.
 */
struct hmap_watcher {
	struct list_head node;
	struct hmap_map *map;
	struct hmap_user *user;
	u8 *ring;
	u32 size;
	u64 head;
	u64 tail;
	u64 ovf;
	u64 lost;
	u64 peek_ovf;
	bool values;
	u32 rec_max;
	wait_queue_head_t wq;
	struct mutex read_mutex;	/* see @read_mutex above */
	u8 *bounce;
	u32 bounce_size;
};

/**
 * hmap_watch_init() - set up a new map's (empty) list of watches
 * @map: the map
 */
void hmap_watch_init(struct hmap_map *map)
{
	mutex_init(&map->watch.mutex);
	spin_lock_init(&map->watch.lock);
	INIT_LIST_HEAD(&map->watch.list);
}

/* The largest record of @h, with its key and value. */
static u32 hmap_event_max(struct hmap_htab *h)
{
	return round_up(HMAP_EVENT_HDR + h->key_size + h->value_size, 8);
}

/* Copies @len bytes into the ring at stream position @pos, wrapping. */
static void hmap_ring_put(struct hmap_watcher *w, u64 pos, const void *src,
			  u32 len)
{
	u32 off = pos & (w->size - 1), first = min(len, w->size - off);

	memcpy(w->ring + off, src, first);
	memcpy(w->ring, src + first, len - first);
}

static void hmap_ring_zero(struct hmap_watcher *w, u64 pos, u32 len)
{
	u32 off = pos & (w->size - 1), first = min(len, w->size - off);

	memset(w->ring + off, 0, first);
	memset(w->ring, 0, len - first);
}

static void hmap_ring_get(struct hmap_watcher *w, u64 pos, void *dst, u32 len)
{
	u32 off = pos & (w->size - 1), first = min(len, w->size - off);

	memcpy(dst, w->ring + off, first);
	memcpy(dst + first, w->ring, len - first);
}

/*
 * Appends one record to @w, or accounts for it as lost. Under the map's
 * watch lock. Return: true if a reader has something new.
 */
static bool hmap_watch_append(struct hmap_watcher *w, struct hmap_event *ev,
			      const void *key, const void *value)
{
	u64 room = w->size - (w->head - w->tail);
	struct hmap_event ovf;

	if (room < ev->len + HMAP_EVENT_HDR)
		w->lost++;

	/* Room for it and, after it, for an overflow record. */
	if (room >= ev->len + HMAP_EVENT_HDR) {
		hmap_ring_put(w, w->head, ev, HMAP_EVENT_HDR);
		hmap_ring_put(w, w->head + HMAP_EVENT_HDR, key, ev->key_size);
		hmap_ring_put(w, w->head + HMAP_EVENT_HDR + ev->key_size,
			      value, ev->value_size);
		hmap_ring_zero(w, w->head + HMAP_EVENT_HDR + ev->key_size +
			       ev->value_size, ev->len - HMAP_EVENT_HDR -
			       ev->key_size - ev->value_size);
		WRITE_ONCE(w->head, w->head + ev->len);
		w->ovf = U64_MAX;
		return true;
	}
	/* The last record is an overflow record nobody read yet: count in it. */
	if (w->ovf != U64_MAX && w->ovf >= w->tail) {
		hmap_ring_get(w, w->ovf, &ovf, HMAP_EVENT_HDR);
		ovf.lost++;
		hmap_ring_put(w, w->ovf, &ovf, HMAP_EVENT_HDR);
		return false;
	}
	/* The room kept by every append above. */
	ovf = (struct hmap_event){
		.seq = ev->seq,
		.lost = 1,
		.len = HMAP_EVENT_HDR,
		.op = HMAP_EVENT_OVERFLOW,
	};
	hmap_ring_put(w, w->head, &ovf, HMAP_EVENT_HDR);
	w->ovf = w->head;
	WRITE_ONCE(w->head, w->head + HMAP_EVENT_HDR);
	return true;
}

/*
 * The table core's notify callback (hmap_notify_fn): numbers the change
 * and appends it to every watch of the map. Under the entry's bucket lock,
 * the rwsem held for write (a clear), or hmap_names_lock (a replace).
 */
static void hmap_watch_notify(struct hmap_htab *h, u32 op, const void *key,
			      const void *value, u64 version)
{
	struct hmap_map *map = container_of(h, struct hmap_map, htab);
	struct hmap_event ev = {
		.version = version,
		.op = op,
		.key_size = key ? h->key_size : 0,
	};
	struct hmap_watcher *w;

	spin_lock(&map->watch.lock);
	/* The last watch may be going: nothing to number then. */
	if (list_empty(&map->watch.list))
		goto unlock;
	ev.seq = ++map->watch.seq;
	list_for_each_entry(w, &map->watch.list, node) {
		ev.value_size = w->values && value ? h->value_size : 0;
		ev.len = round_up(HMAP_EVENT_HDR + ev.key_size + ev.value_size,
				  8);
		if (hmap_watch_append(w, &ev, key, value) &&
		    wq_has_sleeper(&w->wq))
			wake_up_interruptible_poll(&w->wq, EPOLLIN | EPOLLRDNORM);
	}
unlock:
	spin_unlock(&map->watch.lock);
}

/**
 * hmap_watch_event() - tell a map's watches of an event of the whole map
 * @map: the map
 * @op: an &enum hmap_event_op with no key (HMAP_EVENT_REPLACED)
 * @arg: what &hmap_event.version says for @op
 */
void hmap_watch_event(struct hmap_map *map, u32 op, u64 arg)
{
	hmap_watch_notify(&map->htab, op, NULL, NULL, arg);
}

static bool hmap_watch_ready(struct hmap_watcher *w)
{
	return READ_ONCE(w->head) != READ_ONCE(w->tail);
}

/*
 * Copies whole records, as many as fit in @max bytes and the bounce buffer,
 * up to stream position @stop (a record boundary no further than @head),
 * from the ring into the bounce buffer, without taking them out: they go
 * only once they reached the caller (hmap_watch_commit()), so that a fault
 * loses none. Return: their bytes; 0 if none waits, or -EINVAL if the first
 * does not fit in @max.
 */
static ssize_t hmap_watch_peek(struct hmap_watcher *w, size_t max, u64 stop)
{
	struct hmap_watches *ws = &w->map->watch;
	size_t limit = min_t(size_t, max, w->bounce_size);
	struct hmap_event ev;
	ssize_t n = 0;
	u64 pos;

	w->peek_ovf = U64_MAX;
	spin_lock(&ws->lock);
	for (pos = w->tail; pos != stop; pos += ev.len) {
		hmap_ring_get(w, pos, &ev, HMAP_EVENT_HDR);
		if (n + ev.len > limit) {
			if (!n && ev.len > max)
				n = -EINVAL;
			break;
		}
		hmap_ring_get(w, pos, w->bounce + n, ev.len);
		if (ev.op == HMAP_EVENT_OVERFLOW)
			w->peek_ovf = pos;
		n += ev.len;
	}
	spin_unlock(&ws->lock);
	return n;
}

/*
 * Takes out the @n bytes of records hmap_watch_peek() copied, which reached
 * the caller. Writers only append meanwhile, but one may have counted a
 * loss in the overflow record that ends them: the caller got the count as
 * it was, so the record stays, for the losses counted since, from the
 * first of them; the next peek returns it with those. Whatever @ovf says
 * now: a record shorter than the ones lost (a CLEAR, a REPLACED) may have
 * fitted after it since, which ends the counting in it, not what the
 * caller has yet to learn of. Nothing else rewrites the ring below @head
 * while @tail stays, so the header at @peek_ovf is still that record's.
 */
static void hmap_watch_commit(struct hmap_watcher *w, u32 n)
{
	struct hmap_watches *ws = &w->map->watch;
	const struct hmap_event *seen;
	struct hmap_event ovf;
	u64 end = w->tail + n;

	spin_lock(&ws->lock);
	if (w->peek_ovf != U64_MAX) {
		seen = (const struct hmap_event *)(w->bounce +
						   (w->peek_ovf - w->tail));
		hmap_ring_get(w, w->peek_ovf, &ovf, HMAP_EVENT_HDR);
		if (ovf.lost != seen->lost) {
			ovf.seq += seen->lost;
			ovf.lost -= seen->lost;
			hmap_ring_put(w, w->peek_ovf, &ovf, HMAP_EVENT_HDR);
			end = w->peek_ovf;
		}
	}
	WRITE_ONCE(w->tail, end);
	spin_unlock(&ws->lock);
}

static ssize_t hmap_watch_read(struct file *filp, char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct hmap_watcher *w = filp->private_data;
	bool nonblock = filp->f_flags & O_NONBLOCK;
	ssize_t done = 0, n;
	u64 stop;
	int ret;

	if (!count)
		return 0;
	for (;;) {
		/* Not held while waiting: another reader may be non-blocking. */
		if (nonblock ? !mutex_trylock(&w->read_mutex) :
		    mutex_lock_interruptible(&w->read_mutex))
			return nonblock ? -EAGAIN : -ERESTARTSYS;
		if (READ_ONCE(w->head) != READ_ONCE(w->tail))
			break;
		mutex_unlock(&w->read_mutex);
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(w->wq, hmap_watch_ready(w));
		if (ret)
			return ret;
	}
	/*
	 * What was there when the read began: writers may append forever.
	 * Peeks end there, so @tail reaches @stop and goes no further.
	 */
	stop = READ_ONCE(w->head);
	ret = 0;
	while (done < count && READ_ONCE(w->tail) != stop) {
		n = hmap_watch_peek(w, count - done, stop);
		if (n <= 0) {
			ret = n;
			break;
		}
		if (copy_to_user(buf + done, w->bounce, n)) {
			ret = -EFAULT;
			break;
		}
		hmap_watch_commit(w, n);
		done += n;
		if (signal_pending(current))
			break;
		cond_resched();
	}
	mutex_unlock(&w->read_mutex);
	/* What was read before an error still counts. */
	return done ?: ret;
}

static __poll_t hmap_watch_poll(struct file *filp, poll_table *pt)
{
	struct hmap_watcher *w = filp->private_data;

	poll_wait(filp, &w->wq, pt);
	return hmap_watch_ready(w) ? EPOLLIN | EPOLLRDNORM : 0;
}

/*
 * Whether @ws takes one more watch whose largest record is @rec_max bytes,
 * for @user (NULL: exempt, or not known yet): every change costs an
 * append per watch, and a copy of its record, under the lock that orders
 * the map's writers, so the number of watches and the bytes of their
 * records are what bound the writers' cost. A user other than the map's
 * creator may hold at most half of either, so that readers of a shared
 * map cannot take every watch from its creator. Under @ws->mutex, which
 * keeps @ws->list still.
 */
static bool hmap_watch_room(struct hmap_watches *ws, u32 rec_max,
			    const struct hmap_user *user,
			    const struct hmap_user *creator)
{
	u32 max = READ_ONCE(hmap_max_watches_per_map), mine = 1;
	u64 bytes = rec_max, my_bytes = rec_max;
	struct hmap_watcher *w;

	lockdep_assert_held(&ws->mutex);
	if (ws->count >= max)
		return false;
	list_for_each_entry(w, &ws->list, node) {
		bytes += w->rec_max;
		if (user && w->user == user) {
			my_bytes += w->rec_max;
			mine++;
		}
	}
	if (bytes > HMAP_WATCH_COPY_BUDGET)
		return false;
	return !user || user == creator ||
	       (my_bytes <= HMAP_WATCH_COPY_BUDGET / 2 &&
		mine <= max_t(u32, max / 2, 1));
}

/*
 * Joins @w to its map's watches; the first one turns notification on.
 * Return: 0, or -ENOSPC if the map has max_watches_per_map watches, or
 * their records with @w's would exceed HMAP_WATCH_COPY_BUDGET.
 */
static int hmap_watch_attach(struct hmap_watcher *w, u64 *seq)
{
	struct hmap_watches *ws = &w->map->watch;
	bool first;

	mutex_lock(&ws->mutex);
	if (!hmap_watch_room(ws, w->rec_max, w->user, w->map->user)) {
		mutex_unlock(&ws->mutex);
		return -ENOSPC;
	}
	ws->count++;
	spin_lock(&ws->lock);
	first = list_empty(&ws->list);
	list_add_tail(&w->node, &ws->list);
	/* Every change numbered from here on reaches @w. */
	*seq = ws->seq;
	spin_unlock(&ws->lock);
	if (first)
		hmap_htab_set_notify(&w->map->htab, hmap_watch_notify);
	mutex_unlock(&ws->mutex);
	return 0;
}

/*
 * The last watch turns notification off, with no barrier: a writer that
 * still calls the callback finds no watch and appends nothing.
 */
static void hmap_watch_detach(struct hmap_watcher *w)
{
	struct hmap_watches *ws = &w->map->watch;
	bool last;

	mutex_lock(&ws->mutex);
	ws->count--;
	spin_lock(&ws->lock);
	list_del(&w->node);
	last = list_empty(&ws->list);
	spin_unlock(&ws->lock);
	if (last)
		hmap_htab_set_notify(&w->map->htab, NULL);
	mutex_unlock(&ws->mutex);
}

/* What a watch costs its user: ring, bounce buffer and the watch itself. */
static u64 hmap_watch_bytes(struct hmap_watcher *w)
{
	return (u64)w->size + w->bounce_size + sizeof(*w);
}

static void hmap_watcher_free(struct hmap_watcher *w)
{
	if (w->user)
		atomic64_sub(hmap_watch_bytes(w), &w->user->watch_bytes);
	hmap_user_unhold(w->user);
	kvfree(w->bounce);
	kvfree(w->ring);
	hmap_map_put(w->map);
	kfree(w);
}

static int hmap_watch_release(struct inode *inode, struct file *filp)
{
	struct hmap_watcher *w = filp->private_data;

	hmap_watch_detach(w);
	hmap_watcher_free(w);
	return 0;
}

/* For an operator asking why a watcher misses changes: lost and queued. */
static void hmap_watch_show_fdinfo(struct seq_file *m, struct file *filp)
{
	struct hmap_watcher *w = filp->private_data;
	struct hmap_watches *ws = &w->map->watch;
	u64 queued, lost;

	spin_lock(&ws->lock);
	queued = w->head - w->tail;
	lost = w->lost;
	spin_unlock(&ws->lock);
	seq_printf(m, "map_id:\t%u\nbuf_bytes:\t%u\nqueued_bytes:\t%llu\nlost:\t%llu\nvalues:\t%d\n",
		   w->map->id, w->size, queued, lost, w->values);
}

static const struct file_operations hmap_watch_fops = {
	.owner		= THIS_MODULE,
	.read		= hmap_watch_read,
	.poll		= hmap_watch_poll,
	.release	= hmap_watch_release,
	.llseek		= noop_llseek,
	.show_fdinfo	= hmap_watch_show_fdinfo,
};

/* Charges @bytes to @u's watch buffers. Return: 0 or -EDQUOT. */
static int hmap_watch_charge(struct hmap_user *u, u64 bytes)
{
	if (!u)
		return 0;
	if (atomic64_add_return(bytes, &u->watch_bytes) >
	    READ_ONCE(hmap_max_watch_bytes_per_user)) {
		atomic64_sub(bytes, &u->watch_bytes);
		return -EDQUOT;
	}
	return 0;
}

/**
 * hmap_watch_open() - open a change stream of a map
 * @map: the map; the watch takes a reference of its own
 * @flags: HMAP_WATCH_VALUES, HMAP_WATCH_NONBLOCK
 * @buf_bytes: the buffer asked for, 0 for the default
 * @seq: written with the number of the last change before the watch
 * @filep: written with the watch's file, not yet in the fd table
 *
 * The buffer is allocated in the caller's context, so charged to its memory
 * cgroup, and to the caller's max_watch_bytes_per_user.
 *
 * Return: 0, or -EINVAL (bad flags or size), -EDQUOT, -ENOSPC (the map
 * has max_watches_per_map watches, or no room left in
 * HMAP_WATCH_COPY_BUDGET), -ENOMEM.
 */
int hmap_watch_open(struct hmap_map *map, u32 flags, u32 buf_bytes, u64 *seq,
		    struct file **filep)
{
	u32 max_rec = hmap_event_max(&map->htab), rec_max;
	struct hmap_watcher *w;
	struct file *filp;
	bool room;
	int ret;

	if (flags & ~HMAP_WATCH_FLAGS)
		return -EINVAL;
	if (!buf_bytes)
		buf_bytes = max_t(u32, HMAP_WATCH_DEFAULT_BYTES,
				  roundup_pow_of_two(2 * max_rec));
	if (buf_bytes < max_t(u32, 2 * max_rec, HMAP_WATCH_MIN_BYTES) ||
	    buf_bytes > HMAP_WATCH_MAX_BYTES)
		return -EINVAL;
	rec_max = flags & HMAP_WATCH_VALUES ? max_rec :
		  round_up(HMAP_EVENT_HDR + map->htab.key_size, 8);
	/*
	 * Before charging the caller and allocating up to 64 MiB for a watch
	 * a full map would refuse anyway; hmap_watch_attach() checks again.
	 */
	mutex_lock(&map->watch.mutex);
	room = hmap_watch_room(&map->watch, rec_max, NULL, NULL);
	mutex_unlock(&map->watch.mutex);
	if (!room)
		return -ENOSPC;
	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	/* A power of two, so that positions wrap with a mask. */
	w->size = roundup_pow_of_two(buf_bytes);
	w->values = flags & HMAP_WATCH_VALUES;
	w->rec_max = rec_max;
	w->ovf = U64_MAX;
	w->peek_ovf = U64_MAX;
	w->bounce_size = max_t(u32, max_rec, HMAP_WATCH_BOUNCE);
	init_waitqueue_head(&w->wq);
	mutex_init(&w->read_mutex);
	w->user = hmap_user_hold();
	if (IS_ERR(w->user)) {
		ret = PTR_ERR(w->user);
		w->user = NULL;
		goto free_w;
	}
	ret = hmap_watch_charge(w->user, hmap_watch_bytes(w));
	if (ret)
		goto unhold;
	ret = -ENOMEM;
	w->ring = kvmalloc(w->size, GFP_KERNEL_ACCOUNT);
	w->bounce = kvmalloc(w->bounce_size, GFP_KERNEL_ACCOUNT);
	if (!w->ring || !w->bounce)
		goto uncharge;
	w->map = map;
	ret = hmap_watch_attach(w, seq);
	if (ret)
		goto uncharge;
	kref_get(&map->ref);
	filp = anon_inode_getfile("[hmap-watch]", &hmap_watch_fops, w,
				  O_RDONLY | (flags & HMAP_WATCH_NONBLOCK ?
					      O_NONBLOCK : 0));
	if (IS_ERR(filp)) {
		ret = PTR_ERR(filp);
		hmap_watch_detach(w);
		hmap_map_put(map);
		goto uncharge;
	}
	/* A stream: no position, so pread() and lseek() are refused. */
	filp->f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
	filp->f_mode |= FMODE_STREAM;
	*filep = filp;
	return 0;

uncharge:
	kvfree(w->bounce);
	kvfree(w->ring);
	if (w->user)
		atomic64_sub(hmap_watch_bytes(w), &w->user->watch_bytes);
unhold:
	hmap_user_unhold(w->user);
free_w:
	kfree(w);
	return ret;
}
