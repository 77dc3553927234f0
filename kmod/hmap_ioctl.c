// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl layer: one table entry per command, as in
 * drivers/iommu/iommufd/main.c. The dispatcher reads the argument struct
 * with copy_struct_from_user() and checks the kind of fd; handlers copy keys
 * and values through a bounce buffer, so no user copy ever runs under RCU or
 * a spinlock, and no kernel pointer reaches userspace.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hmap_priv.h"
#include "hmap_image.h"
#include "hmap_ucmd.h"

/*
 * Batches work in chunks of at most HMAP_BATCH_CHUNK_MAX entries, whose
 * buffer (keys, values, and what else the command keeps) fits in
 * HMAP_BATCH_CHUNK bytes, and between chunks check for signals and offer
 * the CPU, so that a huge @count is neither unkillable nor a CPU hog. The
 * buffer is allocated for each call, and the allocator clears all of it
 * (init_on_alloc): a few pages hold enough entries to make the cost of a
 * chunk small beside theirs, and a larger buffer costs more to clear, and
 * to allocate, than the chunks it saves.
 */
#define HMAP_BATCH_CHUNK	(16 * 1024)
#define HMAP_BATCH_CHUNK_MAX	1024U

static int hmap_cmd_create(struct hmap_ucmd *ucmd)
{
	struct hmap_create *arg = ucmd->cmd;
	struct hmap_map *map;
	int fd;

	if (arg->flags & ~HMAP_CREATE_FLAGS)
		return -EINVAL;
	map = hmap_map_create(arg);
	if (IS_ERR(map))
		return PTR_ERR(map);
	fd = hmap_map_install_fd(map, arg->flags);
	if (fd < 0)
		hmap_map_put(map);
	return fd;
}

/* Whether the caller's struct has room for @version (it came later). */
static bool hmap_has_version(struct hmap_ucmd *ucmd)
{
	return ucmd->user_size >= offsetofend(struct hmap_elem_op, version);
}

/* Writes @version back into the caller's struct hmap_elem_op. */
static int hmap_put_version(struct hmap_ucmd *ucmd, u64 version)
{
	struct hmap_elem_op __user *u = ucmd->ubuffer;

	return put_user(version, &u->version);
}

static int hmap_cmd_lookup(struct hmap_ucmd *ucmd)
{
	struct hmap_elem_op *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	bool want_version = hmap_has_version(ucmd);
	u64 room[HMAP_BOUNCE_STACK / sizeof(u64)] __uninitialized;
	struct hmap_bounce b = HMAP_BOUNCE_INIT(room);
	u64 version = 0;
	int ret;

	if (arg->__reserved || arg->flags || arg->ttl_ms)
		return -EINVAL;
	ret = hmap_bounce_key(&b, h, arg->key, false, h->value_size);
	if (ret)
		return ret;
	this_cpu_inc(ucmd->map->stats->lookups);
	ret = hmap_htab_lookup_version(h, b.key, b.value,
				       want_version ? &version : NULL);
	if (ret)
		goto out;
	this_cpu_inc(ucmd->map->stats->hits);
	ret = hmap_copy_out(arg->value, b.value, h->value_size);
	if (!ret && want_version)
		ret = hmap_put_version(ucmd, version);
out:
	hmap_bounce_release(&b);
	return ret;
}

static int hmap_cmd_update(struct hmap_ucmd *ucmd)
{
	struct hmap_elem_op *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	bool want_version = hmap_has_version(ucmd);
	struct hmap_write w = {
		.flags = arg->flags,
		.version = arg->version,
	};
	struct mem_cgroup *old_memcg;
	u64 room[HMAP_BOUNCE_STACK / sizeof(u64)] __uninitialized;
	struct hmap_bounce b = HMAP_BOUNCE_INIT(room);
	int ret;

	if (arg->__reserved ||
	    arg->flags & ~HMAP_UPDATE_FLAGS ||
	    (arg->flags & HMAP_NOEXIST &&
	     arg->flags & (HMAP_EXIST | HMAP_IF_VERSION)) ||
	    (arg->flags & HMAP_IF_VERSION && !want_version))
		return -EINVAL;
	ret = hmap_ttl_deadline(h, arg->ttl_ms, &w.deadline);
	if (ret)
		return ret;
	/*
	 * The new version goes back into the caller's struct: check it can,
	 * so that an EFAULT never hides a write that happened.
	 */
	if (want_version && hmap_put_version(ucmd, arg->version))
		return -EFAULT;
	ret = hmap_bounce_key(&b, h, arg->key, false, h->value_size);
	if (ret)
		return ret;
	ret = hmap_copy_in(b.value, arg->value, h->value_size);
	if (ret)
		goto out;
	w.value = b.value;
	old_memcg = hmap_map_memcg_enter(ucmd->map);
	ret = hmap_htab_write(h, b.key, &w);
	hmap_map_memcg_exit(old_memcg);
	if (!ret)
		this_cpu_inc(ucmd->map->stats->updates);
	else if (ret == -ESTALE)
		this_cpu_inc(ucmd->map->stats->conflicts);
	if (!ret && w.deadline)
		hmap_expiry_arm(ucmd->map, w.deadline);
	if (want_version && (!ret || ret == -EEXIST || ret == -ESTALE) &&
	    hmap_put_version(ucmd, w.version) && !ret)
		ret = -EFAULT;
out:
	hmap_bounce_release(&b);
	return ret;
}

static int hmap_cmd_delete(struct hmap_ucmd *ucmd)
{
	struct hmap_elem_op *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	struct mem_cgroup *old_memcg;
	u64 room[HMAP_BOUNCE_STACK / sizeof(u64)] __uninitialized;
	struct hmap_bounce b = HMAP_BOUNCE_INIT(room);
	int ret;

	u64 version = arg->version;

	if (arg->__reserved || arg->flags & ~HMAP_DELETE_FLAGS || arg->value ||
	    arg->ttl_ms ||
	    (arg->flags & HMAP_IF_VERSION && !hmap_has_version(ucmd)))
		return -EINVAL;
	ret = hmap_bounce_key(&b, h, arg->key, false, 0);
	if (ret)
		return ret;
	/* A delete may shrink the table: that allocation is the map's too. */
	old_memcg = hmap_map_memcg_enter(ucmd->map);
	if (arg->flags & HMAP_IF_VERSION)
		ret = hmap_htab_delete_version(h, b.key, &version);
	else
		ret = hmap_htab_delete(h, b.key);
	hmap_map_memcg_exit(old_memcg);
	if (!ret) {
		this_cpu_inc(ucmd->map->stats->deletes);
	} else if (ret == -ESTALE) {
		this_cpu_inc(ucmd->map->stats->conflicts);
		/* Nothing changed: a failed write-back is the caller's loss. */
		hmap_put_version(ucmd, version);
	}
	hmap_bounce_release(&b);
	return ret;
}

/*
 * LOOKUP_AND_DELETE of one key: @key and @value are kernel copies, @ukey
 * (or 0) and @uvalue where the key and the value go. The entry is gone once
 * removed, so it is handed over first and removed only if it still holds
 * the value handed over; if the copy fails, even because another thread
 * unmapped the buffer meanwhile, the map is unchanged. A value replaced
 * meanwhile is handed over again.
 *
 * Return: 0, -ENOENT (absent, or removed by another meanwhile: the user's
 * buffers may have been written), -EFAULT, or -EINTR if a signal arrived
 * while writers kept replacing the value.
 */
static int hmap_take_one(struct hmap_map *map, const void *key, void *value,
			 u64 ukey, u64 uvalue)
{
	struct hmap_htab *h = &map->htab;
	struct mem_cgroup *old_memcg;
	int ret;

	for (;;) {
		ret = hmap_htab_lookup(h, key, value);
		if (ret)
			return ret;
		if ((ukey && copy_to_user(u64_to_user_ptr(ukey), key,
					  h->key_size)) ||
		    hmap_copy_out(uvalue, value, h->value_size))
			return -EFAULT;
		/* A delete may shrink the table: that allocation is the map's. */
		old_memcg = hmap_map_memcg_enter(map);
		ret = hmap_htab_delete_if_value(h, key, value);
		hmap_map_memcg_exit(old_memcg);
		if (ret != -EAGAIN)
			return ret;
		if (signal_pending(current))
			return -EINTR;
		cond_resched();
	}
}

static int hmap_cmd_lookup_and_delete(struct hmap_ucmd *ucmd)
{
	struct hmap_elem_op *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	u64 room[HMAP_BOUNCE_STACK / sizeof(u64)] __uninitialized;
	struct hmap_bounce b = HMAP_BOUNCE_INIT(room);
	int ret;

	if (arg->__reserved || arg->flags || arg->ttl_ms)
		return -EINVAL;
	ret = hmap_bounce_key(&b, h, arg->key, false, h->value_size);
	if (ret)
		return ret;
	ret = hmap_take_one(ucmd->map, b.key, b.value, 0, arg->value);
	if (!ret)
		this_cpu_inc(ucmd->map->stats->deletes);
	hmap_bounce_release(&b);
	return ret;
}

static int hmap_cmd_get_next_key(struct hmap_ucmd *ucmd)
{
	struct hmap_get_next_key *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	u64 room[HMAP_BOUNCE_STACK / sizeof(u64)] __uninitialized;
	struct hmap_bounce b = HMAP_BOUNCE_INIT(room);
	int ret;

	if (arg->flags)
		return -EINVAL;
	/* The second region receives the next key: key_size bytes. */
	ret = hmap_bounce_key(&b, h, arg->key, true, h->key_size);
	if (ret)
		return ret;
	ret = hmap_htab_get_next_key(h, arg->key ? b.key : NULL, b.value);
	if (ret)
		goto out;
	ret = hmap_copy_out(arg->next_key, b.value, h->key_size);
out:
	hmap_bounce_release(&b);
	return ret;
}

static int hmap_cmd_clear(struct hmap_ucmd *ucmd)
{
	struct hmap_clear *arg = ucmd->cmd;

	if (arg->flags)
		return -EINVAL;
	hmap_htab_clear(&ucmd->map->htab);
	return 0;
}

static int hmap_cmd_info(struct hmap_ucmd *ucmd)
{
	struct hmap_info *arg = ucmd->cmd;
	struct hmap_map *map = ucmd->map;
	struct hmap_htab *h = &map->htab;
	struct hmap_map_stats st;

	if (arg->flags)
		return -EINVAL;
	memset(arg, 0, sizeof(*arg));
	arg->size = ucmd->user_size;
	arg->key_size = h->key_size;
	arg->value_size = h->value_size;
	arg->max_entries = h->max_entries;
	arg->capacity_hint = map->capacity_hint;
	arg->count = hmap_htab_count(h);
	arg->map_flags = hmap_map_flags(map, ucmd->filp);
	arg->id = map->id;
	arg->owner_uid = from_kuid_munged(current_user_ns(), map->owner_uid);
	arg->bytes = hmap_htab_mem_bytes(h);
	memcpy(arg->name, map->name, HMAP_NAME_LEN);
	hmap_map_get_pub(map, arg->pub_name, &arg->pub_uid, &arg->pub_gid,
			 &arg->pub_mode);
	arg->buckets = hmap_htab_buckets(h);
	hmap_map_stats_sum(map, &st);
	arg->lookups = st.lookups;
	arg->hits = st.hits;
	arg->updates = st.updates;
	arg->deletes = st.deletes;
	arg->resizes = atomic_long_read(&h->stats.grows) +
		       atomic_long_read(&h->stats.shrinks);
	arg->adds = st.adds;
	arg->cmpxchgs = st.cmpxchgs;
	arg->conflicts = st.conflicts;
	arg->evictions = atomic_long_read(&h->stats.evictions);
	arg->expirations = atomic_long_read(&h->stats.expirations);
	arg->mmap_bytes = h->image ? h->image->bytes : 0;
	return hmap_ucmd_respond(ucmd, sizeof(*arg));
}

static int hmap_cmd_publish(struct hmap_ucmd *ucmd)
{
	struct hmap_publish *arg = ucmd->cmd;

	if (arg->mode & ~0666 || hmap_name_check(arg->name, false) ||
	    arg->flags & ~HMAP_PUBLISH_FLAGS ||
	    (arg->flags & HMAP_PUBLISH_REPLACE && arg->mode) ||
	    (arg->flags & HMAP_PUBLISH_ANY_SIZES &&
	     !(arg->flags & HMAP_PUBLISH_REPLACE)) ||
	    (!(arg->flags & HMAP_PUBLISH_OWNER) && (arg->uid || arg->gid)) ||
	    arg->__reserved)
		return -EINVAL;
	return hmap_map_publish(ucmd->map, arg);
}

static int hmap_cmd_unpublish(struct hmap_ucmd *ucmd)
{
	struct hmap_unpublish *arg = ucmd->cmd;

	if (arg->flags || hmap_name_check(arg->name, false))
		return -EINVAL;
	return hmap_unpublish(arg->name);
}

/* Hands a referenced map to the caller as a new fd. */
static int hmap_open_fd(struct hmap_map *map, u32 flags)
{
	int fd;

	if (IS_ERR(map))
		return PTR_ERR(map);
	fd = hmap_map_install_fd(map, flags);
	if (fd < 0)
		hmap_map_put(map);
	return fd;
}

static int hmap_cmd_open_by_name(struct hmap_ucmd *ucmd)
{
	struct hmap_open_by_name *arg = ucmd->cmd;

	if (arg->flags & ~HMAP_OPEN_FLAGS || hmap_name_check(arg->name, false))
		return -EINVAL;
	return hmap_open_fd(hmap_map_get_by_name(arg->name,
						 !(arg->flags & HMAP_F_RDONLY)),
			    arg->flags);
}

static int hmap_cmd_open_by_id(struct hmap_ucmd *ucmd)
{
	struct hmap_open_by_id *arg = ucmd->cmd;

	if (arg->flags & ~HMAP_OPEN_FLAGS || arg->__reserved)
		return -EINVAL;
	return hmap_open_fd(hmap_map_get_by_id(arg->id), arg->flags);
}

static int hmap_cmd_get_next_id(struct hmap_ucmd *ucmd)
{
	struct hmap_get_next_id *arg = ucmd->cmd;
	int ret;

	if (arg->__reserved)
		return -EINVAL;
	ret = hmap_map_next_id(arg->start_id, &arg->next_id);
	if (ret)
		return ret;
	return hmap_ucmd_respond(ucmd, sizeof(*arg));
}

/*
 * Entries per chunk for @count entries (at least 1) of @entry bytes each,
 * in a buffer with @extra bytes besides: what fits HMAP_BATCH_CHUNK bytes,
 * but at least one entry, and no more than @count asks for.
 */
static u32 hmap_batch_chunk(u32 count, size_t entry, size_t extra)
{
	size_t room = HMAP_BATCH_CHUNK - min_t(size_t, extra, HMAP_BATCH_CHUNK);

	return clamp_t(u32, room / entry, 1, min(count, HMAP_BATCH_CHUNK_MAX));
}

/* Whether a user buffer can be written, checked without writing to it. */
static bool hmap_writable(void __user *p, size_t size)
{
	return access_ok(p, size) && !fault_in_safe_writeable(p, size);
}

/*
 * Removes the @n entries of one LOOKUP_AND_DELETE_BATCH chunk, handing them
 * over at slot *@done and on; *@done counts the entries removed and *@seen
 * the entries of the chunk dealt with (removed, or gone meanwhile). An
 * entry is handed over before it is removed, so a copy that fails removes
 * nothing more. The whole chunk is copied out at once, then each entry is
 * removed if it still holds the value copied; from the first that changed
 * or went, entries are taken one at a time.
 */
static int hmap_batch_take(struct hmap_ucmd *ucmd, u8 *keys, u8 *vals, u32 n,
			   u32 *done, u32 *seen)
{
	struct hmap_batch *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	u32 ks = h->key_size, vs = h->value_size, i;
	struct mem_cgroup *old_memcg;
	int ret = 0;

	*seen = 0;
	if (copy_to_user(u64_to_user_ptr(arg->keys) + (size_t)*done * ks, keys,
			 (size_t)n * ks) ||
	    copy_to_user(u64_to_user_ptr(arg->values) + (size_t)*done * vs, vals,
			 (size_t)n * vs))
		return -EFAULT;
	/* No user copy in this scope: only the map's own allocations. */
	old_memcg = hmap_map_memcg_enter(ucmd->map);
	for (i = 0; i < n; i++)
		if (hmap_htab_delete_if_value(h, keys + (size_t)i * ks,
					      vals + (size_t)i * vs))
			break;
	hmap_map_memcg_exit(old_memcg);
	*done += i;
	for (; i < n; i++) {
		ret = hmap_take_one(ucmd->map, keys + (size_t)i * ks,
				    vals + (size_t)i * vs,
				    arg->keys + (u64)*done * ks,
				    arg->values + (u64)*done * vs);
		if (!ret)
			(*done)++;
		else if (ret != -ENOENT)
			break;
		ret = 0;
	}
	*seen = i;
	return ret;
}

static int hmap_lookup_batch(struct hmap_ucmd *ucmd, bool delete)
{
	struct hmap_batch *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	u8 __user *ukeys = u64_to_user_ptr(arg->keys);
	u8 __user *uvals = u64_to_user_ptr(arg->values);
	bool have_cur = false, end = false;
	u32 chunk, done = 0, n, before, seen;
	u8 *buf, *keys, *vals, *cur;
	int ret = 0;

	if (arg->flags || arg->elem_flags || arg->status || arg->__reserved ||
	    !arg->count)
		return -EINVAL;
	/*
	 * Once entries are removed, @count must reach the caller, and so must
	 * the cursor: check both can be written before removing any.
	 */
	if (delete && (!hmap_writable(ucmd->ubuffer, ucmd->user_size) ||
		       (arg->out_cursor &&
			!hmap_writable(u64_to_user_ptr(arg->out_cursor),
				       h->key_size))))
		return -EFAULT;
	/* After the chunk's keys and values, the cursor. */
	chunk = hmap_batch_chunk(arg->count, h->key_size + h->value_size,
				 h->key_size);
	buf = kvmalloc((size_t)chunk * (h->key_size + h->value_size) +
		       h->key_size, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	keys = buf;
	vals = keys + (size_t)chunk * h->key_size;
	cur = vals + (size_t)chunk * h->value_size;
	if (arg->in_cursor) {
		if (copy_from_user(cur, u64_to_user_ptr(arg->in_cursor),
				   h->key_size)) {
			ret = -EFAULT;
			goto out;
		}
		have_cur = true;
	}
	while (done < arg->count && !end) {
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		n = hmap_htab_lookup_batch(h, have_cur ? cur : NULL, keys, vals,
					   min(chunk, arg->count - done), &end);
		if (!n)
			break;
		seen = n;
		if (delete) {
			before = done;
			ret = hmap_batch_take(ucmd, keys, vals, n, &done, &seen);
			this_cpu_add(ucmd->map->stats->deletes, done - before);
		} else if (copy_to_user(ukeys + (size_t)done * h->key_size, keys,
					(size_t)n * h->key_size) ||
			   copy_to_user(uvals + (size_t)done * h->value_size,
					vals, (size_t)n * h->value_size)) {
			ret = -EFAULT;
			seen = 0;
		} else {
			done += n;
		}
		/*
		 * The walk goes on after the last key dealt with, removed or
		 * not: a caller resuming after EINTR or EFAULT from the
		 * cursor misses nothing.
		 */
		if (seen) {
			memcpy(cur, keys + (size_t)(seen - 1) * h->key_size,
			       h->key_size);
			have_cur = true;
		}
		if (ret)
			break;
	}
	if (have_cur && arg->out_cursor &&
	    copy_to_user(u64_to_user_ptr(arg->out_cursor), cur, h->key_size) &&
	    !ret)
		ret = -EFAULT;
	if (!ret && end)
		ret = -ENOENT;
out:
	kvfree(buf);
	/* However it ended, the caller learns how many entries it got. */
	arg->count = done;
	if (hmap_ucmd_respond(ucmd, sizeof(*arg)) && (!ret || ret == -ENOENT))
		ret = -EFAULT;
	return ret;
}

static int hmap_cmd_lookup_batch(struct hmap_ucmd *ucmd)
{
	return hmap_lookup_batch(ucmd, false);
}

static int hmap_cmd_lookup_and_delete_batch(struct hmap_ucmd *ucmd)
{
	return hmap_lookup_batch(ucmd, true);
}

/*
 * LOOKUP_MULTI: the keys of a chunk come in with one copy, and its values
 * and statuses go out with one copy each, so a call of 64 keys costs one
 * syscall and three user copies, not 64 of each.
 */
static int hmap_cmd_lookup_multi(struct hmap_ucmd *ucmd)
{
	struct hmap_batch *arg = ucmd->cmd;
	struct hmap_map *map = ucmd->map;
	struct hmap_htab *h = &map->htab;
	u8 __user *ukeys = u64_to_user_ptr(arg->keys);
	u8 __user *uvals = u64_to_user_ptr(arg->values);
	s32 __user *ustatus = u64_to_user_ptr(arg->status);
	u32 ks = h->key_size, vs = h->value_size, chunk, done = 0, n, i, hits;
	u8 *buf, *keys, *vals;
	s32 *status;
	int ret = 0;

	if (arg->flags || arg->elem_flags || arg->in_cursor ||
	    arg->out_cursor || !arg->status || arg->__reserved)
		return -EINVAL;
	chunk = hmap_batch_chunk(max(arg->count, 1U), ks + vs + sizeof(s32), 0);
	buf = kvmalloc((size_t)chunk * (ks + vs + sizeof(s32)), GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	keys = buf;
	vals = keys + (size_t)chunk * ks;
	status = (s32 *)(vals + (size_t)chunk * vs);
	while (done < arg->count) {
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		n = min(chunk, arg->count - done);
		if (copy_from_user(keys, ukeys + (size_t)done * ks,
				   (size_t)n * ks)) {
			ret = -EFAULT;
			break;
		}
		for (i = 0, hits = 0; i < n; i++) {
			u8 *v = vals + (size_t)i * vs;

			status[i] = hmap_htab_lookup(h, keys + (size_t)i * ks, v);
			if (status[i])
				memset(v, 0, vs);
			else
				hits++;
		}
		this_cpu_add(map->stats->lookups, n);
		this_cpu_add(map->stats->hits, hits);
		if (copy_to_user(uvals + (size_t)done * vs, vals, (size_t)n * vs) ||
		    copy_to_user(ustatus + done, status, n * sizeof(s32))) {
			ret = -EFAULT;
			break;
		}
		done += n;
	}
	kvfree(buf);
out:
	arg->count = done;
	if (hmap_ucmd_respond(ucmd, sizeof(*arg)) && !ret)
		ret = -EFAULT;
	return ret;
}

static int hmap_change_batch(struct hmap_ucmd *ucmd, bool update)
{
	struct hmap_batch *arg = ucmd->cmd;
	struct hmap_htab *h = &ucmd->map->htab;
	u8 __user *ukeys = u64_to_user_ptr(arg->keys);
	u8 __user *uvals = u64_to_user_ptr(arg->values);
	s32 __user *ustatus = u64_to_user_ptr(arg->status);
	u32 vsize = update ? h->value_size : 0, chunk, done = 0, n, i;
	struct mem_cgroup *old_memcg;
	u8 *buf, *keys, *vals;
	s32 *status;
	int ret = 0, err = 0;

	if (arg->flags & ~HMAP_BATCH_FLAGS || arg->in_cursor ||
	    arg->out_cursor || arg->__reserved ||
	    (!update && (arg->elem_flags || arg->values)) ||
	    (update && (arg->elem_flags & ~HMAP_BATCH_ELEM_FLAGS ||
			arg->elem_flags == (HMAP_NOEXIST | HMAP_EXIST))))
		return -EINVAL;
	chunk = hmap_batch_chunk(max(arg->count, 1U),
				 h->key_size + vsize + sizeof(s32), 0);
	buf = kvmalloc((size_t)chunk * (h->key_size + vsize + sizeof(s32)),
		       GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	keys = buf;
	vals = keys + chunk * h->key_size;
	status = (s32 *)(vals + chunk * vsize);
	while (done < arg->count && !err) {
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		n = min(chunk, arg->count - done);
		if (copy_from_user(keys, ukeys + (size_t)done * h->key_size,
				   n * h->key_size) ||
		    copy_from_user(vals, uvals + (size_t)done * vsize, n * vsize)) {
			ret = -EFAULT;
			break;
		}
		/* No user copy in this scope: only the map's own allocations. */
		old_memcg = hmap_map_memcg_enter(ucmd->map);
		for (i = 0; i < n && !err; i++) {
			u8 *k = keys + i * h->key_size;

			status[i] = update ?
				hmap_htab_update(h, k, vals + i * vsize, arg->elem_flags) :
				hmap_htab_delete(h, k);
			if (!status[i] && update)
				this_cpu_inc(ucmd->map->stats->updates);
			else if (!status[i])
				this_cpu_inc(ucmd->map->stats->deletes);
			else if (!(arg->flags & HMAP_BATCH_CONTINUE))
				err = status[i];
		}
		hmap_map_memcg_exit(old_memcg);
		/* @status need not be aligned: copy_to_user() takes bytes. */
		if (ustatus && copy_to_user(ustatus + done, status, i * sizeof(s32))) {
			ret = -EFAULT;
			done += i;
			break;
		}
		done += i;
	}
	kvfree(buf);
out:
	/* However it ended, the caller learns how many entries were tried. */
	arg->count = done;
	if (hmap_ucmd_respond(ucmd, sizeof(*arg)) && !ret)
		ret = -EFAULT;
	return ret ? ret : err;
}

static int hmap_cmd_update_batch(struct hmap_ucmd *ucmd)
{
	return hmap_change_batch(ucmd, true);
}

static int hmap_cmd_delete_batch(struct hmap_ucmd *ucmd)
{
	return hmap_change_batch(ucmd, false);
}

/*
 * WATCH: the fd is installed only once @seq has reached the caller, so
 * that a failed copy leaves no fd behind.
 */
static int hmap_cmd_watch(struct hmap_ucmd *ucmd)
{
	struct hmap_watch *arg = ucmd->cmd;
	struct file *filp;
	int fd, ret;

	if (arg->__reserved)
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	ret = hmap_watch_open(ucmd->map, arg->flags, arg->buf_bytes, &arg->seq,
			      &filp);
	if (ret) {
		put_unused_fd(fd);
		return ret;
	}
	if (hmap_ucmd_respond(ucmd, sizeof(*arg))) {
		fput(filp);
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, filp);
	return fd;
}

static int hmap_cmd_features(struct hmap_ucmd *ucmd);

/* Every argument struct, so the dispatcher has room for any of them. */
union hmap_ucmd_buffer {
	struct hmap_create create;
	struct hmap_elem_op elem;
	struct hmap_get_next_key next_key;
	struct hmap_clear clear;
	struct hmap_info info;
	struct hmap_publish publish;
	struct hmap_unpublish unpublish;
	struct hmap_open_by_name open_by_name;
	struct hmap_open_by_id open_by_id;
	struct hmap_get_next_id next_id;
	struct hmap_batch batch;
	struct hmap_add add;
	struct hmap_cmpxchg cmpxchg;
	struct hmap_watch watch;
	struct hmap_features features;
};

enum hmap_fd_kind {
	HMAP_FD_DEV,		/* /dev/hmap */
	HMAP_FD_MAP,		/* a map fd, read-only or not */
	HMAP_FD_MAP_WRITE,	/* a map fd opened for writing */
};

/**
 * struct hmap_ioctl_op - one command
 * @size: the kernel's sizeof() of the argument
 * @min_size: the smallest size ever published for it
 * @ioctl_num: the full ioctl number
 * @kind: the fd it must be issued on
 * @execute: the handler; returns >= 0 (an fd for the open commands) or -errno
 */
struct hmap_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	enum hmap_fd_kind kind;
	int (*execute)(struct hmap_ucmd *ucmd);
};

/* Entries stand in the order of the HMAP_CMD_* numbers. */
#define HMAP_IOCTL_OP(_ioctl, _fn, _struct, _last, _kind)			\
	{								\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union hmap_ucmd_buffer) <	\
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = _ioctl,					\
		.kind = _kind,						\
		.execute = _fn,						\
	}

static const struct hmap_ioctl_op hmap_ioctl_ops[] = {
	HMAP_IOCTL_OP(HMAP_IOC_CREATE, hmap_cmd_create, struct hmap_create,
		      name, HMAP_FD_DEV),
	HMAP_IOCTL_OP(HMAP_IOC_LOOKUP, hmap_cmd_lookup, struct hmap_elem_op,
		      value, HMAP_FD_MAP),
	HMAP_IOCTL_OP(HMAP_IOC_UPDATE, hmap_cmd_update, struct hmap_elem_op,
		      value, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_DELETE, hmap_cmd_delete, struct hmap_elem_op,
		      value, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_LOOKUP_AND_DELETE, hmap_cmd_lookup_and_delete,
		      struct hmap_elem_op, value, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_GET_NEXT_KEY, hmap_cmd_get_next_key,
		      struct hmap_get_next_key, next_key, HMAP_FD_MAP),
	HMAP_IOCTL_OP(HMAP_IOC_CLEAR, hmap_cmd_clear, struct hmap_clear, flags,
		      HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_INFO, hmap_cmd_info, struct hmap_info, resizes,
		      HMAP_FD_MAP),
	HMAP_IOCTL_OP(HMAP_IOC_PUBLISH, hmap_cmd_publish, struct hmap_publish,
		      name, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_UNPUBLISH, hmap_cmd_unpublish,
		      struct hmap_unpublish, name, HMAP_FD_DEV),
	HMAP_IOCTL_OP(HMAP_IOC_OPEN_BY_NAME, hmap_cmd_open_by_name,
		      struct hmap_open_by_name, name, HMAP_FD_DEV),
	HMAP_IOCTL_OP(HMAP_IOC_OPEN_BY_ID, hmap_cmd_open_by_id,
		      struct hmap_open_by_id, __reserved, HMAP_FD_DEV),
	HMAP_IOCTL_OP(HMAP_IOC_GET_NEXT_ID, hmap_cmd_get_next_id,
		      struct hmap_get_next_id, __reserved, HMAP_FD_DEV),
	HMAP_IOCTL_OP(HMAP_IOC_LOOKUP_BATCH, hmap_cmd_lookup_batch,
		      struct hmap_batch, __reserved, HMAP_FD_MAP),
	HMAP_IOCTL_OP(HMAP_IOC_LOOKUP_AND_DELETE_BATCH,
		      hmap_cmd_lookup_and_delete_batch, struct hmap_batch,
		      __reserved, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_UPDATE_BATCH, hmap_cmd_update_batch,
		      struct hmap_batch, __reserved, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_DELETE_BATCH, hmap_cmd_delete_batch,
		      struct hmap_batch, __reserved, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_ADD, hmap_cmd_add, struct hmap_add, ttl_ms,
		      HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_CMPXCHG, hmap_cmd_cmpxchg, struct hmap_cmpxchg,
		      version, HMAP_FD_MAP_WRITE),
	HMAP_IOCTL_OP(HMAP_IOC_LOOKUP_MULTI, hmap_cmd_lookup_multi,
		      struct hmap_batch, __reserved, HMAP_FD_MAP),
	HMAP_IOCTL_OP(HMAP_IOC_WATCH, hmap_cmd_watch, struct hmap_watch, seq,
		      HMAP_FD_MAP),
	HMAP_IOCTL_OP(HMAP_IOC_FEATURES, hmap_cmd_features,
		      struct hmap_features, batch_elem_flags, HMAP_FD_DEV),
};

static_assert(ARRAY_SIZE(hmap_ioctl_ops) ==
	      HMAP_CMD_FEATURES - HMAP_CMD_BASE + 1);
static_assert(ARRAY_SIZE(hmap_ioctl_ops) <= 64);

/* Answered from the table above and the flag masks the commands check. */
static int hmap_cmd_features(struct hmap_ucmd *ucmd)
{
	struct hmap_features *arg = ucmd->cmd;

	if (arg->flags || arg->__reserved)
		return -EINVAL;
	arg->version = HMAP_VERSION(HMAP_VERSION_MAJOR, HMAP_VERSION_MINOR,
				    HMAP_VERSION_PATCH);
	arg->commands = GENMASK_ULL(ARRAY_SIZE(hmap_ioctl_ops) - 1, 0);
	arg->create_flags = HMAP_CREATE_FLAGS;
	arg->update_flags = HMAP_UPDATE_FLAGS;
	arg->delete_flags = HMAP_DELETE_FLAGS;
	arg->publish_flags = HMAP_PUBLISH_FLAGS;
	arg->open_flags = HMAP_OPEN_FLAGS;
	arg->batch_flags = HMAP_BATCH_FLAGS;
	arg->batch_elem_flags = HMAP_BATCH_ELEM_FLAGS;
	arg->add_flags = HMAP_ADD_FLAGS;
	arg->watch_flags = HMAP_WATCH_FLAGS;
	return hmap_ucmd_respond(ucmd, sizeof(*arg));
}

static long hmap_ioctl(struct file *filp, unsigned int cmd, unsigned long arg,
		       struct hmap_map *map)
{
	const struct hmap_ioctl_op *op;
	/*
	 * copy_struct_from_user() writes the whole of the command's struct,
	 * and its handler reads no other member: zeroing the union first, as
	 * CONFIG_INIT_STACK_ALL_ZERO would, costs every command for nothing.
	 */
	union hmap_ucmd_buffer buf __uninitialized;
	struct hmap_ucmd ucmd = {
		.filp = filp,
		.map = map,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	unsigned int nr = _IOC_NR(cmd);
	bool dev_op;
	int ret;

	if (_IOC_TYPE(cmd) != HMAP_TYPE || nr < HMAP_CMD_BASE ||
	    nr - HMAP_CMD_BASE >= ARRAY_SIZE(hmap_ioctl_ops))
		return -ENOTTY;
	op = &hmap_ioctl_ops[nr - HMAP_CMD_BASE];
	if (op->ioctl_num != cmd)
		return -ENOTTY;

	/* The kind of fd first: the struct means nothing on the wrong one. */
	dev_op = op->kind == HMAP_FD_DEV;
	if (dev_op == !!map)
		return -EBADFD;
	if (op->kind == HMAP_FD_MAP_WRITE && !(filp->f_mode & FMODE_WRITE))
		return -EPERM;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	/* Checking a huge tail for zeros is work a caller could abuse. */
	if (ucmd.user_size > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}

/**
 * hmap_dev_ioctl() - ioctl on /dev/hmap
 * @filp: the device file
 * @cmd: ioctl number
 * @arg: user pointer to the argument struct
 *
 * Return: >= 0 on success (a new fd for CREATE and the OPEN commands), or a
 * negative errno.
 */
long hmap_dev_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	return hmap_ioctl(filp, cmd, arg, NULL);
}

/**
 * hmap_map_ioctl() - ioctl on a map fd
 * @filp: the map file
 * @cmd: ioctl number
 * @arg: user pointer to the argument struct
 *
 * Return: 0 on success (a new fd for WATCH), or a negative errno.
 */
long hmap_map_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	return hmap_ioctl(filp, cmd, arg, hmap_map_from_file(filp));
}
