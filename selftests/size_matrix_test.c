// SPDX-License-Identifier: GPL-2.0
/*
 * Every map command over every key size x value size, not a few hand-picked
 * ones: search, do not sample.
 *
 * Why: GET_NEXT_KEY bounced the next key through the value half of its
 * bounce buffer, so with a key larger than the value it wrote past the end
 * of the buffer and panicked the host (key 200 / value 8, key 300 / value
 * 1). No test found it, because every test used sizes that happened to be
 * safe. Copies in the kernel take different paths by size (4 and 8 bytes
 * with get_user/put_user, a bounce buffer on the stack up to 320 bytes of
 * key and value together and 576 of CMPXCHG's key and two values, on the
 * heap beyond, slab caches up to 512-byte elements, kmalloc beyond), so
 * each boundary is tried from both sides:
 * key sizes 1 3 4 7 8 9 16 31 64 200 255 256 257 300 511 512 times value
 * sizes 1 3 4 8 16 64 255 256 257 4096 65536, with and without
 * HMAP_F_PREALLOC, and with HMAP_F_MMAP (see below).
 *
 * Each size pair gets a fresh small map (4 entries for the large values, 6
 * for the others) and every command, single and batch, each errno on its
 * path (ENOENT, EEXIST, E2BIG, EPERM on a read-only fd, EINVAL, EFAULT for a
 * buffer one byte short), checked against a model (model.h): every return
 * code, every byte of every key and value returned, the count and INFO.
 * Keys and values are distinct non-zero patterns, so a mix-up shows. Every
 * buffer the kernel reads or writes is followed, one command in two, by
 * guard bytes, and in the other by a PROT_NONE page, so a kernel that reads
 * or writes one byte too many fails the check or faults (EFAULT).
 *
 * The commands that came with versions run over the same pairs: UPDATE and
 * DELETE with HMAP_IF_VERSION (right and stale versions, absent keys, the
 * flags and struct sizes that cannot go with it), the version written back
 * by LOOKUP, UPDATE and DELETE, and none by a struct hmap_elem_op of the
 * size before @version (placed so that one byte more faults); CMPXCHG
 * (right, wrong at the first or the last byte, read-only fd, buffers one
 * byte short, the struct or the expected value in read-only memory), whose
 * bounce buffer holds the key and two values, so that with every pair it
 * is on the stack or the heap, at its limit or past it, and KASAN sees any
 * overrun; ADD where the value is 4 or 8 bytes (creation, wrap-around both
 * ways, E2BIG, its outputs in read-only memory: EFAULT with the map as it
 * was), EOPNOTSUPP elsewhere; LOOKUP_MULTI (every key, repeats, absent
 * keys, count 0, no status array, buffers one byte short, cursors).
 *
 * HMAP_F_MMAP (which implies HMAP_F_PREALLOC) runs the whole matrix once
 * more, and after each scenario the map's image is checked against the
 * kernel: mapped by hmap_mmap() through the writable fd and the read-only
 * one, hmap_mapped_lookup() of every key of the universe, present or
 * absent, gives what LOOKUP gives (the errno, every byte of the value, the
 * version) and what the model holds, with no walk disturbed (no writer
 * runs) and no fallback to LOOKUP; and the image is never writable nor
 * executable: mmap() with PROT_WRITE (shared or private) or PROT_EXEC is
 * EPERM, mprotect() of a read-only mapping to writable or executable is
 * EACCES, and mremap() cannot grow it.
 *
 * The test names carry the key size (and _prealloc or _mmap); a failure
 * names the value size and the command. GET_NEXT_KEY is its own fixture,
 * run after every other case, so that on a module that still overruns (see
 * above) every other result is in before it brings the machine down.
 */
#include <time.h>

#include "kselftest_harness.h"
#include "model.h"

static const __u32 value_sizes[] = { 1, 3, 4, 8, 16, 64, 255, 256, 257, 4096, 65536 };

/* A map of @vs byte values: 4 entries for the large values, 6 for the rest. */
static __u32 max_entries_for(__u32 vs)
{
	return vs >= 4096 ? 4 : 6;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sets up the rig for one size pair; false (with rig->err) if it cannot. */
static bool setup(struct rig *r, __u32 ks, __u32 vs, __u32 flags)
{
	__u32 max = max_entries_for(vs);

	/* Room for every key of the universe, and a duplicate or two. */
	if (rig_init(r, ks, vs, max, 0, flags, max + 4, max + 6))
		return false;
	return rig_info(r, false) && rig_learn_order(r) && rig_info(r, false);
}

/* Looks up every key of the universe, on the writable fd or the read-only one. */
static bool lookup_all(struct rig *r, bool ro)
{
	__u32 id;

	for (id = 0; id < r->nkeys; id++)
		if (!rig_lookup(r, id, ro))
			return false;
	return true;
}

/* Fills the map with keys 0..max_entries-1 by single UPDATEs. */
static bool fill(struct rig *r, __u64 tag)
{
	__u32 id;

	for (id = 0; id < r->max_entries; id++)
		if (!rig_update(r, id, tag + id, id & 1 ? HMAP_ANY : HMAP_NOEXIST, false))
			return false;
	return true;
}

/*
 * The keys the kernel holds, by a LOOKUP_BATCH walk outside the model (no
 * counters move), one entry at a time through the single-entry buffers so
 * that the batch buffers keep what the last batch returned: present[id] set
 * for each. False if the walk fails or returns a key outside the universe.
 */
static bool kernel_keys(struct rig *r, __u8 *present)
{
	__u8 *key = gbuf_place(&r->kout, r->ks, false);
	__u8 *val = gbuf_place(&r->vout, r->vs, false);
	__u8 *cur = gbuf_place(&r->cin, r->ks, false);
	bool started = false;
	__u32 count;
	int ret, id;

	memset(present, 0, r->nkeys);
	do {
		count = 1;
		ret = hmap_lookup_batch(r->fd, started ? cur : NULL, cur, key, val, &count);
		started = true;
		if ((ret && ret != -ENOENT) || count > 1)
			return false;
		if (count) {
			id = rig_key_id(r, key);
			if (id < 0)
				return false;
			present[id] = 1;
		}
	} while (!ret);
	return true;
}

/*
 * Buffers one byte short, right before a PROT_NONE page: EFAULT, and the
 * map as it was (for LOOKUP_AND_DELETE, the entry stays: spec item 6).
 * @id is present.
 */
static bool short_single_buffers(struct rig *r, __u32 id)
{
	__u8 *k, *v;
	int ret;

	rig_begin(r, "LOOKUP key %u, value buffer one byte short", id);
	k = gbuf_place(&r->kin, r->ks, false);
	key_fill(k, r->ks, id);
	v = gbuf_place(&r->vout, r->vs - 1, true);
	ret = hmap_lookup(r->fd, k, v);
	if (!rig_ret(r, -EFAULT, ret) || !rig_absorb_lookups(r, 1))
		return false;

	rig_begin(r, "LOOKUP_AND_DELETE key %u, value buffer one byte short", id);
	v = gbuf_place(&r->vout, r->vs - 1, true);
	ret = hmap_lookup_and_delete(r->fd, k, v);
	if (!rig_ret(r, -EFAULT, ret) || !rig_info(r, false) || !rig_lookup(r, id, false))
		return false;

	rig_begin(r, "LOOKUP, key buffer one byte short");
	k = gbuf_place(&r->kin, r->ks - 1, true);
	key_fill(r->exp, r->ks, id);
	memcpy(k, r->exp, r->ks - 1);
	v = gbuf_place(&r->vout, r->vs, false);
	ret = hmap_lookup(r->fd, k, v);
	if (!rig_ret(r, -EFAULT, ret) || !rig_absorb_lookups(r, 0))
		return false;

	rig_begin(r, "UPDATE key %u, value buffer one byte short", id);
	k = gbuf_place(&r->kin, r->ks, false);
	key_fill(k, r->ks, id);
	v = gbuf_place(&r->vin, r->vs - 1, true);
	memset(v, 0x81, r->vs - 1);
	if (!rig_ret(r, -EFAULT, hmap_update(r->fd, k, v, HMAP_ANY)))
		return false;

	rig_begin(r, "UPDATE, key buffer one byte short");
	k = gbuf_place(&r->kin, r->ks - 1, true);
	memcpy(k, r->exp, r->ks - 1);
	v = gbuf_place(&r->vin, r->vs, false);
	memset(v, 0x81, r->vs);
	if (!rig_ret(r, -EFAULT, hmap_update(r->fd, k, v, HMAP_ANY)))
		return false;

	rig_begin(r, "DELETE, key buffer one byte short");
	k = gbuf_place(&r->kin, r->ks - 1, true);
	memcpy(k, r->exp, r->ks - 1);
	if (!rig_ret(r, -EFAULT, hmap_delete(r->fd, k)))
		return false;
	return rig_info(r, false) && rig_check_content(r, r->max_entries);
}

/*
 * Lookup batches with a buffer one byte short. LOOKUP_BATCH: EFAULT.
 * LOOKUP_AND_DELETE_BATCH with short values: EFAULT, and @count says
 * exactly how many entries were removed and returned, which are the first
 * ones, whole, the last of them in @out_cursor; with a short out_cursor:
 * EFAULT, nothing removed (spec item 7). The map must hold at least two
 * entries.
 */
static bool short_batch_buffers(struct rig *r)
{
	__u32 room = r->m.count, count, i, removed = 0;
	__u8 *ks, *vs, *oc, *kernel = malloc(r->nkeys);
	char where[48];
	int id, ret;

	if (!kernel)
		return rig_fail(r, "out of memory");

	rig_begin(r, "LOOKUP_BATCH room %u, values one byte short", room);
	oc = gbuf_place(&r->cout, r->ks, false);
	ks = gbuf_place(&r->bkeys, (size_t)room * r->ks, false);
	vs = gbuf_place(&r->bvals, (size_t)room * r->vs - 1, true);
	count = room;
	ret = hmap_lookup_batch(r->fd, NULL, oc, ks, vs, &count);
	if (!rig_ret(r, -EFAULT, ret))
		goto out;

	rig_begin(r, "LOOKUP_AND_DELETE_BATCH room %u, values one byte short", room);
	oc = gbuf_place(&r->cout, r->ks, false);
	ks = gbuf_place(&r->bkeys, (size_t)room * r->ks, false);
	vs = gbuf_place(&r->bvals, (size_t)room * r->vs - 1, true);
	count = room;
	ret = hmap_lookup_and_delete_batch(r->fd, NULL, oc, ks, vs, &count);
	if (!rig_ret(r, -EFAULT, ret) || !rig_guards(r, &r->bkeys, "the keys") ||
	    !rig_guards(r, &r->cout, "out_cursor"))
		goto out;
	if (!kernel_keys(r, kernel)) {
		rig_fail(r, "cannot walk the map afterwards");
		goto out;
	}
	for (id = 0; id < (int)r->nkeys; id++) {
		if (kernel[id] && !r->m.present[id]) {
			rig_fail(r, "key %d appeared", id);
			goto out;
		}
		removed += r->m.present[id] && !kernel[id];
	}
	/* @count is exactly the number of entries removed and returned. */
	if (removed >= room) {
		rig_fail(r, "all %u entries removed, yet the last value cannot be written", removed);
		goto out;
	}
	if (count != removed) {
		rig_fail(r, "count %u, but %u entries were removed", count, removed);
		goto out;
	}
	for (i = 0, id = -1; i < removed; i++) {
		id = m_next(&r->m, id);
		if (kernel[id]) {
			rig_fail(r, "entry %u removed out of order", i);
			goto out;
		}
		snprintf(where, sizeof(where), "entry %u of %u removed", i, removed);
		if (!rig_key_is(r, ks + (size_t)i * r->ks, id, where) ||
		    !rig_id_val_is(r, vs + (size_t)i * r->vs, id, where))
			goto out;
	}
	/* The cursor is written back however the batch ends. */
	if (removed && !rig_key_is(r, oc, id, "out_cursor"))
		goto out;
	for (id = 0; id < (int)r->nkeys; id++)
		if (r->m.present[id] && !kernel[id])
			m_delete(&r->m, id, NULL);
	room = r->m.count ? r->m.count : 1;
	rig_begin(r, "LOOKUP_AND_DELETE_BATCH room %u, out_cursor one byte short", room);
	oc = gbuf_place(&r->cout, r->ks - 1, true);
	ks = gbuf_place(&r->bkeys, (size_t)room * r->ks, false);
	vs = gbuf_place(&r->bvals, (size_t)room * r->vs, false);
	count = room;
	ret = hmap_lookup_and_delete_batch(r->fd, NULL, oc, ks, vs, &count);
	if (!rig_ret(r, -EFAULT, ret) || !rig_info(r, false) ||
	    !rig_check_content(r, 1))
		goto out;
	free(kernel);
	return rig_info(r, false);
out:
	free(kernel);
	return false;
}

/* Makes a gbuf's whole mapping (but its PROT_NONE page) read-only, or writable. */
static bool protect(struct rig *r, struct gbuf *g, bool ro)
{
	if (!mprotect(g->map, g->end - g->map, ro ? PROT_READ : PROT_READ | PROT_WRITE))
		return true;
	return rig_fail(r, "mprotect: %s", strerror(errno));
}

/*
 * An entry command on key @id with its struct hmap_elem_op (with @version
 * if @with_ver) in read-only memory. Returns the result, or 1 if the
 * memory could not be protected (with rig->err set).
 */
static int elem_ro_struct(struct rig *r, unsigned long cmd, __u32 id, void *value,
			  __u64 flags, bool with_ver, __u64 version)
{
	size_t size = with_ver ? sizeof(struct hmap_elem_op) : ELEM_OP_SIZE_V0;
	struct hmap_elem_op *op;
	__u8 *k = rig_key(r, &r->kin, id);
	int ret;

	op = (struct hmap_elem_op *)gbuf_place(&r->arg, size, true);
	memset(op, 0, size);
	op->size = size;
	op->flags = flags;
	op->key = (uintptr_t)k;
	op->value = (uintptr_t)value;
	if (with_ver)
		op->version = version;
	if (!protect(r, &r->arg, true))
		return 1;
	ret = xioctl(r->fd, cmd, op);
	if (!protect(r, &r->arg, false))
		return 1;
	return ret;
}

/*
 * A CMPXCHG built by hand: key @k, @exp, @des, @flags; the struct in
 * read-only memory if @ro_struct.
 */
static int cmpxchg_raw(struct rig *r, const void *k, void *exp, const void *des,
		       __u32 flags, bool ro_struct)
{
	struct hmap_cmpxchg *c;
	int ret;

	c = (struct hmap_cmpxchg *)gbuf_place(&r->arg, sizeof(*c), true);
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->flags = flags;
	c->key = (uintptr_t)k;
	c->expected = (uintptr_t)exp;
	c->desired = (uintptr_t)des;
	if (ro_struct && !protect(r, &r->arg, true))
		return 1;
	ret = xioctl(r->fd, HMAP_IOC_CMPXCHG, c);
	if (ro_struct && !protect(r, &r->arg, false))
		return 1;
	return ret;
}

/* An ADD built by hand, its struct in read-only memory if @ro_struct. */
static int add_raw(struct rig *r, const void *k, __s64 delta, __u32 flags, bool ro_struct)
{
	struct hmap_add *a;
	int ret;

	a = (struct hmap_add *)gbuf_place(&r->arg, sizeof(*a), true);
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = flags;
	a->key = (uintptr_t)k;
	a->delta = delta;
	if (ro_struct && !protect(r, &r->arg, true))
		return 1;
	ret = xioctl(r->fd, HMAP_IOC_ADD, a);
	if (ro_struct && !protect(r, &r->arg, false))
		return 1;
	return ret;
}

/* INFO.conflicts, taken from the kernel if it moved by at most @max_more. */
static bool absorb_conflicts(struct rig *r, __u64 max_more)
{
	struct hmap_info info;

	if (hmap_info(r->fd, &info))
		return rig_fail(r, "INFO failed");
	if (info.conflicts < r->m.conflicts || info.conflicts > r->m.conflicts + max_more)
		return rig_fail(r, "INFO conflicts %llu, expected %llu plus at most %llu",
				(unsigned long long)info.conflicts,
				(unsigned long long)r->m.conflicts,
				(unsigned long long)max_more);
	r->m.conflicts = info.conflicts;
	return true;
}

/* Removes every entry by one DELETE_BATCH (CLEAR would wait a grace period). */
static bool empty_map(struct rig *r)
{
	__u32 ids[64], id, n = 0;

	for (id = 0; id < r->nkeys; id++)
		if (r->m.present[id])
			ids[n++] = id;
	return rig_delete_batch(r, ids, n, 0, ST_NONE, false);
}

/* UPDATE and DELETE with HMAP_IF_VERSION, and the versions written back. */
static bool if_version_ops(struct rig *r)
{
	struct model *m = &r->m;
	__u32 max = r->max_entries, id;
	struct mval mv = { 0 };
	__u64 v, old;
	int ret;

	if (!empty_map(r) ||
	    /* Absent: ENOENT, whatever the version; also with the map full. */
	    !rig_update_v(r, 0, mtag(30), HMAP_IF_VERSION, 1, true, false) ||
	    !rig_update_v(r, 0, mtag(30), HMAP_EXIST | HMAP_IF_VERSION, 0,
			  true, false) ||
	    !rig_delete_v(r, 0, true, 1, true, false) ||
	    !rig_update(r, 0, 31, HMAP_NOEXIST, false) || !rig_lookup_v(r, 0, true, false))
		return false;
	v = m->ver[0];
	if (!rig_update_v(r, 0, mtag(32), HMAP_IF_VERSION, v, true, false))
		return false;
	old = v;
	v = m->ver[0];
	/* Stale: the version before, one more, one less, 0. */
	if (!rig_update_v(r, 0, mtag(33), HMAP_EXIST | HMAP_IF_VERSION, old,
			  true, false) ||
	    !rig_update_v(r, 0, mtag(33), HMAP_IF_VERSION, v + 1, true, false) ||
	    !rig_update_v(r, 0, mtag(33), HMAP_IF_VERSION, 0, true, false) ||
	    !rig_delete_v(r, 0, true, v - 1, true, false) ||
	    !rig_update_v(r, 0, mtag(34), HMAP_EXIST | HMAP_IF_VERSION, v,
			  true, false))
		return false;
	v = m->ver[0];
	/* What cannot go with it, and a read-only fd. */
	if (!rig_update_v(r, 0, mtag(35), HMAP_NOEXIST | HMAP_IF_VERSION, v,
			  true, false) ||
	    !rig_update_v(r, 0, mtag(35), HMAP_IF_VERSION, v, false, false) ||
	    !rig_update_v(r, 0, mtag(35), HMAP_IF_VERSION, v, true, true) ||
	    !rig_delete_v(r, 0, true, v, false, false) ||
	    !rig_delete_v(r, 0, true, v, true, true) ||
	    /* EEXIST says the current version; lookups of both sizes. */
	    !rig_update_v(r, 0, mtag(36), HMAP_NOEXIST, 0, true, false) ||
	    !rig_lookup_v(r, 0, false, false) || !rig_lookup_v(r, 0, true, true) ||
	    !rig_lookup_v(r, 1, true, false) ||
	    /* Deleted at its version, created again: the old version is stale. */
	    !rig_delete_v(r, 0, true, v, true, false) ||
	    !rig_delete_v(r, 0, true, v, true, false) ||
	    !rig_update_v(r, 0, mtag(37), HMAP_ANY, 0, true, false) ||
	    !rig_update_v(r, 0, mtag(38), HMAP_IF_VERSION, v, true, false) ||
	    !rig_delete_v(r, 0, true, v, true, false) || !rig_info(r, false))
		return false;

	/* With @version in read-only memory it cannot be written back: EFAULT, no write. */
	rig_begin(r, "UPDATE key 0, struct with version in read-only memory");
	memcpy(gbuf_place(&r->vin, r->vs, false), rig_val(r, 39), r->vs);
	ret = elem_ro_struct(r, HMAP_IOC_UPDATE, 0, r->vin.p, HMAP_ANY, true, 0);
	if (!rig_ret(r, -EFAULT, ret) || !rig_lookup_v(r, 0, true, false))
		return false;
	rig_begin(r, "UPDATE key 2, struct with version in read-only memory");
	ret = elem_ro_struct(r, HMAP_IOC_UPDATE, 2, r->vin.p, HMAP_NOEXIST, true, 0);
	if (!rig_ret(r, -EFAULT, ret) || !rig_lookup_v(r, 2, true, false) ||
	    !rig_info(r, false))
		return false;
	/* Without @version nothing is written back: read-only memory is fine. */
	rig_begin(r, "UPDATE key 0, struct without version in read-only memory");
	mv.tag = 39;
	ret = elem_ro_struct(r, HMAP_IOC_UPDATE, 0, r->vin.p, HMAP_ANY, false, 0);
	if (!rig_ret(r, m_update_v(m, 0, mv, HMAP_ANY, 0), ret) ||
	    !rig_lookup_v(r, 0, true, false))
		return false;
	rig_begin(r, "LOOKUP key 0, struct without version in read-only memory");
	ret = elem_ro_struct(r, HMAP_IOC_LOOKUP, 0, gbuf_place(&r->vout, r->vs, false), 0,
			     false, 0);
	if (!rig_ret(r, m_lookup(m, 0, &mv), ret) || !rig_id_val_is(r, r->vout.p, 0, "value"))
		return false;
	rig_begin(r, "LOOKUP key 0, struct with version in read-only memory");
	ret = elem_ro_struct(r, HMAP_IOC_LOOKUP, 0, gbuf_place(&r->vout, r->vs, false), 0,
			     true, 0);
	if (!rig_ret(r, -EFAULT, ret) || !rig_absorb_lookups(r, 1) ||
	    !rig_lookup_v(r, 0, true, false) || !rig_info(r, false))
		return false;

	/* Full: IF_VERSION on an absent key is ENOENT, not E2BIG. */
	for (id = 0; id < max; id++)
		if (!rig_update(r, id, 40 + id, HMAP_ANY, false) || !rig_know_version(r, id))
			return false;
	return rig_update_v(r, max, mtag(50), HMAP_IF_VERSION, m->maxver,
			    true, false) &&
	       rig_update_v(r, max - 1, mtag(51), HMAP_IF_VERSION,
			    m->ver[max - 1], true, false) &&
	       rig_delete_v(r, max + 1, true, m->maxver, true, false) &&
	       rig_info(r, false) && rig_check_content(r, max);
}

/* ADD: counters of 4 and 8 bytes; EOPNOTSUPP on other values. */
static bool add_ops(struct rig *r)
{
	struct model *m = &r->m;
	__u32 max = r->max_entries, id;
	__u8 *k;
	int ret;

	if (!empty_map(r) || !rig_update(r, 0, 60, HMAP_ANY, false))
		return false;
	if (r->vs != 4 && r->vs != 8)
		return rig_add(r, 0, 1, HMAP_ADD_CREATE, false) &&
		       rig_add(r, 1, 1, HMAP_ADD_CREATE, false) &&
		       rig_add(r, 1, 1, 0, false) &&
		       rig_add(r, 0, 1, 2, false) &&
		       rig_add(r, 0, 1, HMAP_ADD_CREATE, true) &&
		       rig_lookup_v(r, 0, true, false) && rig_info(r, false);
	if (!rig_add(r, 1, 5, 0, false) ||
	    !rig_add(r, 1, 5, HMAP_ADD_CREATE, false) ||
	    !rig_add(r, 1, -7, 0, false) ||			/* below 0: wraps */
	    !rig_add(r, 1, 2, HMAP_ADD_CREATE, false) ||	/* back to 0 */
	    !rig_add(r, 1, INT64_MIN, 0, false) ||
	    !rig_add(r, 1, 0x100000000LL, 0, false) ||	/* nothing in 4 bytes */
	    !rig_add(r, 1, 0, 0, false) ||			/* a write all the same */
	    !rig_add(r, 1, -1, 0, false) ||
	    !rig_add(r, 0, 1, 0, false) ||			/* bytes of an UPDATE */
	    !rig_add(r, 2, -3, HMAP_ADD_CREATE, false) ||
	    !rig_lookup_v(r, 1, true, false) || !rig_lookup_v(r, 2, false, false) ||
	    !rig_add(r, 1, 1, 2, false) || !rig_add(r, 1, 1, ~0U, false) ||
	    !rig_add(r, 1, 1, HMAP_ADD_CREATE, true) || !rig_info(r, false))
		return false;
	/* The outputs cannot be written: EFAULT, and nothing added. */
	for (id = 1; id <= 3; id++) {
		rig_begin(r, "ADD%s key %u, struct in read-only memory",
			  id == 3 ? " CREATE" : "", id);
		k = rig_key(r, &r->kin, id);
		ret = add_raw(r, k, 1, id == 3 ? HMAP_ADD_CREATE : 0, true);
		if (!rig_ret(r, -EFAULT, ret) || !rig_info(r, false) ||
		    !rig_lookup_v(r, id, true, false))
			return false;
	}
	rig_begin(r, "ADD, key buffer one byte short");
	k = gbuf_place(&r->kin, r->ks - 1, true);
	key_fill(r->exp, r->ks, 1);
	memcpy(k, r->exp, r->ks - 1);
	if (!rig_ret(r, -EFAULT, add_raw(r, k, 1, HMAP_ADD_CREATE, false)) ||
	    !rig_lookup_v(r, 1, true, false))
		return false;
	/* Counters until full, then E2BIG. */
	for (id = 0; m->count < max; id++)
		if (!rig_add(r, id, id, HMAP_ADD_CREATE, false))
			return false;
	return rig_add(r, max, 1, HMAP_ADD_CREATE, false) && rig_add(r, max, 1, 0, false) &&
	       rig_info(r, false) && rig_check_content(r, max);
}

/*
 * Places the buffers of a hand-built CMPXCHG of key 0 from its value to the
 * value of tag 73, each @*short bytes short and then before a PROT_NONE
 * page (else guard bytes follow).
 */
static void cx_bufs(struct rig *r, __u8 **k, __u8 **e, __u8 **d, size_t kshort,
		    size_t eshort, size_t dshort)
{
	key_fill(r->exp, r->ks, 0);
	*k = gbuf_place(&r->kin, r->ks - kshort, kshort);
	memcpy(*k, r->exp, r->ks - kshort);
	*e = gbuf_place(&r->vout, r->vs - eshort, eshort);
	memcpy(*e, rig_id_val(r, 0), r->vs - eshort);
	*d = gbuf_place(&r->vin, r->vs - dshort, dshort);
	memcpy(*d, rig_val(r, 73), r->vs - dshort);
}

/*
 * CMPXCHG: each outcome, buffers one byte short (EFAULT, nothing changed),
 * the struct or the expected value in read-only memory.
 */
static bool cmpxchg_ops(struct rig *r)
{
	struct mval t70 = { .tag = 70 }, t71 = { .tag = 71 }, t72 = { .tag = 72 };
	struct model *m = &r->m;
	__u8 *k, *e, *d;
	int ret, want;

	if (!empty_map(r) || !rig_update(r, 0, 70, HMAP_ANY, false) ||
	    !rig_cmpxchg(r, 1, CX_RIGHT, t70, t71, false) ||
	    !rig_cmpxchg(r, 0, CX_RIGHT, t70, t71, false) ||
	    !rig_cmpxchg(r, 0, CX_FIRST, t70, t72, false) ||
	    !rig_cmpxchg(r, 0, CX_LAST, t70, t72, false) ||
	    !rig_cmpxchg(r, 0, CX_OTHER, t70, t72, false) ||
	    !rig_cmpxchg(r, 0, CX_RIGHT, t70, t72, true) ||
	    !rig_cmpxchg(r, 0, CX_RIGHT, t70, t71, false) ||	/* the same value */
	    !rig_cmpxchg(r, 0, CX_RIGHT, t70, t72, false) ||
	    !rig_lookup_v(r, 0, true, false) || !rig_info(r, false))
		return false;
	if (r->vs == 4 || r->vs == 8) {
		struct mval n5 = { .tag = 5, .num = true };

		if (!rig_cmpxchg(r, 0, CX_RIGHT, t70, n5, false) ||
		    !rig_add(r, 0, 1, 0, false) ||
		    !rig_cmpxchg(r, 0, CX_OTHER, n5, t70, false) ||
		    !rig_cmpxchg(r, 0, CX_RIGHT, n5, t70, false))
			return false;
	}

	rig_begin(r, "CMPXCHG, bad flags");
	cx_bufs(r, &k, &e, &d, 0, 0, 0);
	if (!rig_ret(r, -EINVAL, cmpxchg_raw(r, k, e, d, 1, false)))
		return false;
	/* Each buffer one byte short: EFAULT, the entry as it was. */
	rig_begin(r, "CMPXCHG, expected one byte short");
	cx_bufs(r, &k, &e, &d, 0, 1, 0);
	if (!rig_ret(r, -EFAULT, cmpxchg_raw(r, k, e, d, 0, false)) ||
	    !rig_lookup_v(r, 0, true, false))
		return false;
	rig_begin(r, "CMPXCHG, desired one byte short");
	cx_bufs(r, &k, &e, &d, 0, 0, 1);
	if (!rig_ret(r, -EFAULT, cmpxchg_raw(r, k, e, d, 0, false)) ||
	    !rig_lookup_v(r, 0, true, false))
		return false;
	rig_begin(r, "CMPXCHG, key one byte short");
	cx_bufs(r, &k, &e, &d, 1, 0, 0);
	if (!rig_ret(r, -EFAULT, cmpxchg_raw(r, k, e, d, 0, false)) ||
	    !rig_lookup_v(r, 0, true, false))
		return false;
	/* The version cannot be written back: EFAULT before anything changes. */
	rig_begin(r, "CMPXCHG, struct in read-only memory");
	cx_bufs(r, &k, &e, &d, 0, 0, 0);
	if (!rig_ret(r, -EFAULT, cmpxchg_raw(r, k, e, d, 0, true)) ||
	    !rig_lookup_v(r, 0, true, false) || !rig_info(r, false))
		return false;
	/* Expected in read-only memory: read, so fine, unless it differs. */
	rig_begin(r, "CMPXCHG, expected (right) in read-only memory");
	cx_bufs(r, &k, &e, &d, 0, 0, 0);
	if (!protect(r, &r->vout, true))
		return false;
	ret = cmpxchg_raw(r, k, e, d, 0, false);
	want = m_cmpxchg(m, 0, true, mtag(73));
	if (!protect(r, &r->vout, false) || !rig_ret(r, want, ret) ||
	    !rig_new_version(r, 0, ((struct hmap_cmpxchg *)r->arg.p)->version, "new version") ||
	    !rig_lookup_v(r, 0, true, false))
		return false;
	rig_begin(r, "CMPXCHG, expected (wrong) in read-only memory");
	cx_bufs(r, &k, &e, &d, 0, 0, 0);
	e[0] ^= 1;
	if (!protect(r, &r->vout, true))
		return false;
	ret = cmpxchg_raw(r, k, e, d, 0, false);
	if (!protect(r, &r->vout, false) || !rig_ret(r, -EFAULT, ret) ||
	    !absorb_conflicts(r, 1) || !rig_lookup_v(r, 0, true, false) ||
	    !rig_info(r, false))
		return false;
	return rig_check_content(r, 2);
}

/* The commands that came with versions, on one size pair. */
static bool versioned_ops(struct rig *r)
{
	return if_version_ops(r) && add_ops(r) && cmpxchg_ops(r) && rig_info(r, false);
}

/* The single-entry commands, every errno on their paths, INFO. */
static bool single_ops(struct rig *r)
{
	__u32 max = r->max_entries, id;

	if (!lookup_all(r, false) ||
	    /* An empty map: EXIST is ENOENT (spec item 4), nothing to delete. */
	    !rig_update(r, 0, 1, HMAP_EXIST, false) || !rig_delete(r, 0, false) ||
	    !rig_lookup_and_delete(r, 0, false) || !rig_info(r, false) ||
	    /* Each mode on a present and an absent key. */
	    !rig_update(r, 0, 2, HMAP_NOEXIST, false) ||
	    !rig_update(r, 0, 3, HMAP_NOEXIST, false) ||
	    !rig_lookup(r, 0, false) ||
	    !rig_update(r, 0, 4, HMAP_EXIST, false) || !rig_lookup(r, 0, false) ||
	    !rig_update(r, 0, 5, HMAP_ANY, false) || !rig_lookup(r, 0, true) ||
	    !rig_update(r, 1, 6, HMAP_ANY, false) || !rig_info(r, false) ||
	    /* Full: a new key is E2BIG whatever the mode, a present one is fine. */
	    !fill(r, 100) || !rig_info(r, false) ||
	    !rig_update(r, max, 7, HMAP_ANY, false) ||
	    !rig_update(r, max + 1, 8, HMAP_NOEXIST, false) ||
	    !rig_update(r, max + 2, 9, HMAP_EXIST, false) ||
	    !rig_update(r, max - 1, 10, HMAP_EXIST, false) ||
	    !rig_update(r, 0, 11, HMAP_NOEXIST, false) ||
	    !rig_update(r, 0, 12, HMAP_ANY, false) ||
	    !lookup_all(r, false) || !lookup_all(r, true) || !rig_info(r, false) ||
	    /* A read-only fd looks but does not change. */
	    !rig_update(r, 0, 13, HMAP_ANY, true) ||
	    !rig_update(r, max, 14, HMAP_ANY, true) ||
	    !rig_delete(r, 0, true) || !rig_lookup_and_delete(r, 0, true) ||
	    !rig_clear(r, true) || !rig_info(r, true) || !lookup_all(r, false))
		return false;
	/* Deletes make room again. */
	if (!rig_delete(r, 1, false) || !rig_delete(r, 1, false) ||
	    !rig_lookup_and_delete(r, 2, false) || !rig_lookup_and_delete(r, 2, false) ||
	    !rig_lookup(r, 2, false) ||
	    !rig_update(r, max, 15, HMAP_NOEXIST, false) ||
	    !rig_update(r, max + 1, 16, HMAP_ANY, false) ||
	    !rig_update(r, max + 2, 17, HMAP_ANY, false) ||
	    !rig_info(r, false) || !lookup_all(r, false) ||
	    !short_single_buffers(r, max) || !rig_check_content(r, 3))
		return false;
	/* CLEAR, twice, and the map works as new. */
	if (!rig_clear(r, false) || !rig_info(r, false) || !lookup_all(r, false) ||
	    !rig_clear(r, false) || !rig_info(r, false) ||
	    !rig_update(r, 3, 18, HMAP_EXIST, false) ||
	    !rig_update(r, 3, 19, HMAP_NOEXIST, false) ||
	    !rig_lookup(r, 3, false) || !rig_lookup_and_delete(r, 3, false) ||
	    !rig_info(r, false))
		return false;
	for (id = 0; id < 4; id++)
		if (!rig_update(r, id, 20 + id, HMAP_ANY, false) ||
		    !rig_lookup_and_delete(r, id, false))
			return false;
	return rig_info(r, false) && rig_check_content(r, 1) && versioned_ops(r);
}

/* A LOOKUP_MULTI built by hand, for what the library does not pass. */
static int lookup_multi_raw(struct rig *r, const void *keys, void *vals, void *status,
			    __u32 count, __u32 flags, const void *cursor)
{
	struct hmap_batch *b;

	b = (struct hmap_batch *)gbuf_place(&r->arg, sizeof(*b), true);
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->flags = flags;
	b->in_cursor = (uintptr_t)cursor;
	b->keys = (uintptr_t)keys;
	b->values = (uintptr_t)vals;
	b->status = (uintptr_t)status;
	b->count = count;
	return xioctl(r->fd, HMAP_IOC_LOOKUP_MULTI, b);
}

/*
 * LOOKUP_MULTI: every key of the universe (present or not), repeats, no
 * key, no status array, a read-only fd; then buffers one byte short
 * (EFAULT) and what it does not take (EINVAL).
 */
static bool multi_ops(struct rig *r)
{
	__u32 n = r->nkeys, ids[64], i, count;
	__u8 *ks, *vs, *sb;
	int ret;

	for (i = 0; i < n; i++)
		ids[i] = (i * 5 + 1) % n;	/* every key once */
	ids[n] = ids[0];
	ids[n + 1] = ids[0];
	if (!rig_lookup_multi(r, ids, n + 2, ST_ALIGNED, false) ||
	    !rig_lookup_multi(r, ids + 1, n - 1, ST_UNALIGNED, true) ||
	    !rig_lookup_multi(r, ids + n, 2, ST_ALIGNED, false) ||
	    !rig_lookup_multi(r, ids, 1, ST_UNALIGNED, false) ||
	    !rig_lookup_multi(r, ids, 0, ST_ALIGNED, false) ||
	    !rig_lookup_multi(r, ids, 3, ST_NONE, false) || !rig_info(r, false))
		return false;

	rig_begin(r, "LOOKUP_MULTI of %u, values one byte short", n);
	ks = gbuf_place(&r->bkeys, (size_t)n * r->ks, false);
	for (i = 0; i < n; i++)
		key_fill(ks + (size_t)i * r->ks, r->ks, ids[i]);
	vs = gbuf_place(&r->bvals, (size_t)n * r->vs - 1, true);
	sb = gbuf_place(&r->bstat, n * sizeof(__s32), false);
	count = n;
	ret = hmap_lookup_multi(r->fd, ks, vs, (__s32 *)sb, &count);
	if (!rig_ret(r, -EFAULT, ret) || !rig_absorb_lookups(r, n))
		return false;
	rig_begin(r, "LOOKUP_MULTI of %u, status one byte short", n);
	vs = gbuf_place(&r->bvals, (size_t)n * r->vs, false);
	sb = gbuf_place(&r->bstat, n * sizeof(__s32) - 1, true);
	count = n;
	ret = hmap_lookup_multi(r->fd, ks, vs, (__s32 *)sb, &count);
	if (!rig_ret(r, -EFAULT, ret) || !rig_absorb_lookups(r, n))
		return false;
	rig_begin(r, "LOOKUP_MULTI of %u, keys one byte short", n);
	ks = gbuf_place(&r->bkeys, (size_t)n * r->ks - 1, true);
	for (i = 0; i + 1 < n; i++)
		key_fill(ks + (size_t)i * r->ks, r->ks, ids[i]);
	key_fill(r->exp, r->ks, ids[n - 1]);
	memcpy(ks + (size_t)(n - 1) * r->ks, r->exp, r->ks - 1);
	sb = gbuf_place(&r->bstat, n * sizeof(__s32), false);
	count = n;
	ret = hmap_lookup_multi(r->fd, ks, vs, (__s32 *)sb, &count);
	if (!rig_ret(r, -EFAULT, ret) || !rig_absorb_lookups(r, n))
		return false;
	ks = gbuf_place(&r->bkeys, (size_t)n * r->ks, false);
	for (i = 0; i < n; i++)
		key_fill(ks + (size_t)i * r->ks, r->ks, ids[i]);
	rig_begin(r, "LOOKUP_MULTI with an in_cursor");
	if (!rig_ret(r, -EINVAL, lookup_multi_raw(r, ks, vs, sb, n, 0, ks)))
		return false;
	rig_begin(r, "LOOKUP_MULTI with HMAP_BATCH_CONTINUE");
	if (!rig_ret(r, -EINVAL, lookup_multi_raw(r, ks, vs, sb, n, HMAP_BATCH_CONTINUE, NULL)))
		return false;
	return rig_info(r, false);
}

/* All four batch commands, with cursors, status, stop and continue. */
static bool batches(struct rig *r)
{
	__u32 max = r->max_entries, n = r->nkeys, ids[64], i, room;
	__u64 tags[64];
	int last;

	for (i = 0; i < n; i++) {
		ids[i] = (i * 7 + 3) % n;	/* every key once: 7 is prime to n */
		tags[i] = 1000 + i;
	}
	/* An empty map ends every walk at once. */
	if (!rig_lookup_batch(r, false, -1, 1, false, false, NULL) ||
	    !rig_lookup_batch(r, false, 2, 3, false, false, NULL) ||
	    !rig_lookup_batch(r, true, -1, 2, false, false, NULL) ||
	    !rig_lookup_batch(r, false, -1, 0, false, false, NULL) ||
	    !rig_update_batch(r, ids, tags, 0, HMAP_ANY, 0, ST_ALIGNED, false) ||
	    !rig_update_batch(r, ids, tags, 3, HMAP_EXIST, HMAP_BATCH_CONTINUE,
			      ST_UNALIGNED, false) ||
	    !rig_delete_batch(r, ids, 3, 0, ST_ALIGNED, false) ||
	    !rig_info(r, false) || !rig_lookup_multi(r, ids, n, ST_ALIGNED, false))
		return false;
	/* Every key at once: max_entries go in, the rest are E2BIG. */
	if (!rig_update_batch(r, ids, tags, n, HMAP_ANY, HMAP_BATCH_CONTINUE,
			      ST_ALIGNED, false) || !rig_info(r, false) || !multi_ops(r))
		return false;
	for (room = 1; room <= max + 1; room++)
		if (!rig_check_content(r, room))
			return false;
	/* NOEXIST stops at the first present key; EXIST goes on past absent ones. */
	for (i = 0; i < n; i++)
		tags[i] = 2000 + i;
	if (!rig_update_batch(r, ids, tags, n, HMAP_NOEXIST, 0, ST_UNALIGNED, false) ||
	    !rig_update_batch(r, ids, tags, n, HMAP_EXIST, HMAP_BATCH_CONTINUE,
			      ST_NONE, false) ||
	    !rig_update_batch(r, ids + 1, tags + 1, n - 1, HMAP_EXIST, 0,
			      ST_ALIGNED, false) ||
	    !rig_info(r, false) || !rig_check_content(r, max))
		return false;
	/* The same key twice in one batch: the later value wins. */
	ids[n] = ids[0];
	tags[n] = 3000;
	ids[n + 1] = ids[0];
	tags[n + 1] = 3001;
	if (!rig_update_batch(r, ids + n, tags + n, 2, HMAP_ANY, 0, ST_ALIGNED, false) ||
	    !rig_update_batch(r, ids + n, tags + n, 2, HMAP_NOEXIST, HMAP_BATCH_CONTINUE,
			      ST_ALIGNED, false) ||
	    !rig_check_content(r, 2))
		return false;
	/* Cursors: absent keys, one buffer for both, walks in steps. */
	for (i = 0; i < n; i++)
		if (!rig_lookup_batch(r, false, i, 2, i & 1, false, NULL) ||
		    !rig_lookup_batch(r, false, i, max, false, true, NULL))
			return false;
	/* A read-only fd may walk, not change. */
	if (!rig_lookup_batch(r, true, -1, 2, false, true, NULL) ||
	    !rig_update_batch(r, ids, tags, 2, HMAP_ANY, 0, ST_ALIGNED, true) ||
	    !rig_delete_batch(r, ids, 2, 0, ST_ALIGNED, true) ||
	    !rig_info(r, true))
		return false;
	/* DELETE_BATCH: stop at the first absent key, or go on. */
	if (!rig_delete_batch(r, ids + 1, 4, 0, ST_ALIGNED, false) ||
	    !rig_delete_batch(r, ids, n, 0, ST_UNALIGNED, false) ||
	    !rig_info(r, false) ||
	    !rig_update_batch(r, ids, tags, n, HMAP_ANY, HMAP_BATCH_CONTINUE,
			      ST_NONE, false) ||
	    !rig_delete_batch(r, ids + 2, n - 2, HMAP_BATCH_CONTINUE, ST_UNALIGNED,
			      false) ||
	    !rig_info(r, false) || !rig_check_content(r, 1) ||
	    !rig_delete_batch(r, ids, n, HMAP_BATCH_CONTINUE, ST_NONE, false) ||
	    !rig_info(r, false))
		return false;
	/* LOOKUP_AND_DELETE_BATCH: walks that empty the map, a key or all at a time. */
	for (room = 1; room <= max + 1; room += max) {
		if (!rig_update_batch(r, ids, tags, n, HMAP_ANY, HMAP_BATCH_CONTINUE,
				      ST_ALIGNED, false))
			return false;
		/* From the middle first, then from the start. */
		last = r->m.by_rank[n / 2];
		do {
			if (!rig_lookup_batch(r, true, last, room, room & 1, false, &last))
				return false;
		} while (m_next(&r->m, last) >= 0);
		last = -1;
		do {
			if (!rig_lookup_batch(r, true, last, room, false, false, &last))
				return false;
		} while (r->m.count);
		if (!rig_lookup_batch(r, true, last, room, false, false, &last) ||
		    !rig_info(r, false))
			return false;
	}
	/* Buffers one byte short. */
	return rig_update_batch(r, ids, tags, n, HMAP_ANY, HMAP_BATCH_CONTINUE,
				ST_NONE, false) &&
	       short_batch_buffers(r) && rig_info(r, false);
}

/* GET_NEXT_KEY from the start and from every key, present or not. */
static bool next_keys(struct rig *r)
{
	__u32 max = r->max_entries, id;
	__u8 *k, *nk;
	int ret;

	for (id = 0; id < r->nkeys; id++)
		if (!rig_get_next_key(r, id, false))
			return false;
	if (!rig_walk(r, false) || !rig_update(r, 2, 1, HMAP_ANY, false) ||
	    !rig_walk(r, false) || !rig_walk(r, true) || !fill(r, 10) ||
	    !rig_walk(r, false) || !rig_walk(r, true))
		return false;
	/* Twice, so that each call meets each buffer placement. */
	for (id = 0; id < 2 * r->nkeys; id++)
		if (!rig_get_next_key(r, id % r->nkeys, id >= r->nkeys))
			return false;
	/* A walk goes on past the key it stands on when that key goes. */
	if (!rig_delete(r, r->m.by_rank[0], false) ||
	    !rig_get_next_key(r, r->m.by_rank[0], false) ||
	    !rig_delete(r, max / 2, false) ||
	    !rig_get_next_key(r, max / 2, false) || !rig_walk(r, false))
		return false;

	rig_begin(r, "GET_NEXT_KEY, next_key buffer one byte short");
	nk = gbuf_place(&r->kout, r->ks - 1, true);
	ret = hmap_get_next_key(r->fd, NULL, nk);
	if (!rig_ret(r, -EFAULT, ret))
		return false;
	rig_begin(r, "GET_NEXT_KEY, key buffer one byte short");
	k = gbuf_place(&r->kin, r->ks - 1, true);
	key_fill(r->exp, r->ks, 0);
	memcpy(k, r->exp, r->ks - 1);
	nk = gbuf_place(&r->kout, r->ks, false);
	ret = hmap_get_next_key(r->fd, k, nk);
	if (!rig_ret(r, -EFAULT, ret))
		return false;

	if (!rig_clear(r, false) || !rig_get_next_key(r, -1, false) ||
	    !rig_get_next_key(r, 0, true) || !rig_info(r, false))
		return false;
	return true;
}

/* ---- HMAP_F_MMAP: the image against the kernel ---- */

/*
 * Every key of the universe, present or absent, looked up through mapping
 * @m (made of the read-only fd if @ro) and by LOOKUP: the same errno, the
 * same value bytes, the same version, and what the model holds. Nothing
 * writes meanwhile, so no walk may be disturbed: one walk per lookup, none
 * given up for LOOKUP, and none longer than the map has entries.
 */
static bool image_lookups(struct rig *r, struct hmap_mapping *m, bool ro)
{
	const char *how = ro ? " (mapped through the read-only fd)" : "";
	struct hmap_mapped_stats st;
	struct mval mv = { 0 };
	__u64 kver, iver;
	__u8 *k, *kv, *iv;
	int want, kret, iret;
	__u32 id;

	for (id = 0; id < r->nkeys; id++) {
		rig_begin(r, "image%s: hmap_mapped_lookup and LOOKUP of key %u", how, id);
		k = rig_key(r, &r->kin, id);
		kv = gbuf_place(&r->vout, r->vs, r->page_end);
		iv = gbuf_place(&r->vin, r->vs, !r->page_end);
		memset(iv, GB_POISON, r->vs);
		kver = iver = VER_POISON;
		want = m_lookup(&r->m, id, &mv);
		kret = hmap_lookup_version(r->fd, k, kv, &kver);
		iret = hmap_mapped_lookup(m, k, iv, &iver);
		if (!rig_ret(r, want, kret))
			return false;
		if (iret != kret)
			return rig_fail(r, "hmap_mapped_lookup returned %s (%d), LOOKUP %s",
					errname(iret), iret, errname(kret));
		if (!rig_guards(r, &r->kin, "the key") ||
		    !rig_guards(r, &r->vout, "LOOKUP's value") ||
		    !rig_guards(r, &r->vin, "hmap_mapped_lookup's value"))
			return false;
		if (kret)
			continue;
		if (!rig_mval_is(r, kv, mv, "LOOKUP's value") ||
		    !rig_mval_is(r, iv, mv, "hmap_mapped_lookup's value") ||
		    !rig_cur_version(r, id, kver, "LOOKUP's version"))
			return false;
		if (iver != kver)
			return rig_fail(r, "hmap_mapped_lookup's version %llu, LOOKUP's %llu%s",
					(unsigned long long)iver, (unsigned long long)kver,
					iver == VER_POISON ? " (never written)" : "");
	}
	rig_begin(r, "image%s: hmap_mapped_stats after %u lookups", how, r->nkeys);
	hmap_mapped_stats(m, &st);
	if (st.lookups != r->nkeys || st.attempts != r->nkeys || st.retries ||
	    st.fallbacks || st.max_steps > r->m.count ||
	    st.steps > (__u64)r->nkeys * r->m.count)
		return rig_fail(r, "lookups %llu, attempts %llu, retries %llu, fallbacks %llu, steps %llu, max_steps %llu; expected %u lookups of one walk each, no retry nor fallback, at most %u steps a walk",
				(unsigned long long)st.lookups, (unsigned long long)st.attempts,
				(unsigned long long)st.retries, (unsigned long long)st.fallbacks,
				(unsigned long long)st.steps, (unsigned long long)st.max_steps,
				r->nkeys, r->m.count);
	return true;
}

/* mmap() of map fd @fd, which must fail with @err. */
static bool image_refused(struct rig *r, int fd, size_t len, int prot, int flags,
			  int err, const char *what)
{
	void *p;

	rig_begin(r, "image: mmap(%s)", what);
	p = mmap(NULL, len, prot, flags, fd, 0);
	if (p != MAP_FAILED) {
		munmap(p, len);
		return rig_fail(r, "it mapped; expected %s", errname(-err));
	}
	return rig_ret(r, -err, -errno);
}

/*
 * A mapping that mmap() allows (PROT_READ) shows the header INFO agrees
 * with, and stays read-only: mprotect() to writable or executable is
 * EACCES, mremap() cannot grow it past the image.
 */
static bool image_stays_readonly(struct rig *r, size_t len)
{
	const struct hmap_mmap_header *h;
	void *p, *q;
	bool ok;

	rig_begin(r, "image: mmap(PROT_READ, MAP_SHARED) of the whole image");
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED)
		return rig_fail(r, "%s", strerror(errno));
	h = p;
	ok = h->magic == HMAP_MMAP_MAGIC && h->key_size == r->ks &&
	     h->value_size == r->vs && h->mmap_bytes == len;
	if (!ok)
		rig_fail(r, "header: magic %#x, key_size %u, value_size %u, mmap_bytes %llu; expected %#x, %u, %u, %zu",
			 h->magic, h->key_size, h->value_size,
			 (unsigned long long)h->mmap_bytes, HMAP_MMAP_MAGIC, r->ks, r->vs, len);
	if (ok) {
		rig_begin(r, "image: mprotect(PROT_READ | PROT_WRITE) of a read-only mapping");
		ok = rig_ret(r, -EACCES, mprotect(p, len, PROT_READ | PROT_WRITE) ? -errno : 0);
	}
	if (ok) {
		rig_begin(r, "image: mprotect(PROT_READ | PROT_EXEC) of a read-only mapping");
		ok = rig_ret(r, -EACCES, mprotect(p, len, PROT_READ | PROT_EXEC) ? -errno : 0);
	}
	if (ok) {
		rig_begin(r, "image: mremap() one page larger (MREMAP_MAYMOVE)");
		q = mremap(p, len, len + page_size(), MREMAP_MAYMOVE);
		if (q != MAP_FAILED) {
			p = q;
			len += page_size();
			ok = rig_fail(r, "it grew the mapping past the image");
		}
	}
	munmap(p, len);
	return ok;
}

/*
 * After the scenario, on an HMAP_F_MMAP map: the image, through hmap_mmap()
 * of either fd, agrees with LOOKUP, and cannot be mapped or made writable.
 */
static bool check_image(struct rig *r)
{
	size_t page = page_size(), len;
	struct hmap_mapping *m;
	struct hmap_info info;
	bool ok;
	int ro;

	rig_begin(r, "image: INFO");
	if (!rig_ret(r, 0, hmap_info(r->fd, &info)))
		return false;
	len = info.mmap_bytes;
	if (!len || len % page)
		return rig_fail(r, "INFO.mmap_bytes %zu: expected a non-zero multiple of the page size",
				len);
	for (ro = 0; ro < 2; ro++) {
		rig_begin(r, "image: hmap_mmap() of the %s fd", ro ? "read-only" : "writable");
		if (!rig_ret(r, 0, hmap_mmap(ro ? r->rofd : r->fd, &m)))
			return false;
		ok = image_lookups(r, m, ro);
		hmap_munmap(m);
		if (!ok)
			return false;
	}
	return image_refused(r, r->fd, len, PROT_READ | PROT_WRITE, MAP_SHARED, EPERM,
			     "PROT_READ | PROT_WRITE, MAP_SHARED") &&
	       image_refused(r, r->fd, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, EPERM,
			     "PROT_READ | PROT_WRITE, MAP_PRIVATE") &&
	       image_refused(r, r->fd, page, PROT_WRITE, MAP_SHARED, EPERM,
			     "PROT_WRITE, MAP_SHARED, one page") &&
	       image_refused(r, r->fd, len, PROT_READ | PROT_EXEC, MAP_SHARED, EPERM,
			     "PROT_READ | PROT_EXEC, MAP_SHARED") &&
	       image_refused(r, r->rofd, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, EPERM,
			     "PROT_READ | PROT_WRITE, MAP_PRIVATE, read-only fd") &&
	       image_refused(r, r->fd, len + page, PROT_READ, MAP_SHARED, EINVAL,
			     "PROT_READ, MAP_SHARED, one page past the image") &&
	       image_stays_readonly(r, len);
}

/* The map flags of a variant, for messages. */
static const char *flags_name(__u32 flags)
{
	return flags & HMAP_F_MMAP ? " HMAP_F_MMAP" :
	       flags & HMAP_F_PREALLOC ? " HMAP_F_PREALLOC" : "";
}

/*
 * Runs @scenario for each value size with key size @ks, then, on an
 * HMAP_F_MMAP map, check_image(). Every size pair is tried, whatever failed
 * before; each failure is logged with its sizes.
 */
static void run_matrix(struct __test_metadata *_metadata, __u32 ks, __u32 flags,
		       bool (*scenario)(struct rig *r))
{
	double t0 = now();
	unsigned int i, failed = 0;
	struct rig r;

	/* The largest buffers first, so that they are mapped only once. */
	ASSERT_EQ(0, rig_reserve(ks, HMAP_MAX_VALUE_SIZE, max_entries_for(1) + 6));
	for (i = 0; i < ARRAY_SIZE(value_sizes); i++) {
		__u32 vs = value_sizes[i];

		if (!setup(&r, ks, vs, flags) || !scenario(&r) ||
		    (flags & HMAP_F_MMAP && !check_image(&r)) || r.note[0]) {
			TH_LOG("key_size %u value_size %u%s: %s%s%s", ks, vs,
			       flags_name(flags), r.err[0] ? r.err : r.note,
			       r.err[0] && r.note[0] ? "; and before that, " : "",
			       r.err[0] && r.note[0] ? r.note : "");
			failed++;
		}
		rig_fini(&r);
	}
	TH_LOG("key_size %u%s: %u value sizes, %u failed, %.2f s", ks, flags_name(flags),
	       (unsigned int)ARRAY_SIZE(value_sizes), failed, now() - t0);
	EXPECT_EQ(0, failed);
}

FIXTURE(sizes) {
	int unused;
};

FIXTURE_VARIANT(sizes) {
	__u32 key_size;
	__u32 flags;
};

FIXTURE_SETUP(sizes)
{
}

FIXTURE_TEARDOWN(sizes)
{
}

#define SIZES(f, ks)							\
	FIXTURE_VARIANT_ADD(f, k##ks) { .key_size = ks };		\
	FIXTURE_VARIANT_ADD(f, k##ks##_prealloc) {			\
		.key_size = ks, .flags = HMAP_F_PREALLOC,		\
	};								\
	FIXTURE_VARIANT_ADD(f, k##ks##_mmap) {				\
		.key_size = ks, .flags = HMAP_F_MMAP,			\
	}

#define ALL_KEY_SIZES(f)						\
	SIZES(f, 1); SIZES(f, 3); SIZES(f, 4); SIZES(f, 7);		\
	SIZES(f, 8); SIZES(f, 9); SIZES(f, 16); SIZES(f, 31);		\
	SIZES(f, 64); SIZES(f, 200); SIZES(f, 255); SIZES(f, 256);	\
	SIZES(f, 257); SIZES(f, 300); SIZES(f, 511); SIZES(f, 512)

ALL_KEY_SIZES(sizes);

TEST_F_TIMEOUT(sizes, single_ops, 900)
{
	run_matrix(_metadata, variant->key_size, variant->flags, single_ops);
}

TEST_F_TIMEOUT(sizes, batches, 900)
{
	run_matrix(_metadata, variant->key_size, variant->flags, batches);
}

/* Last: on a module that overruns in GET_NEXT_KEY, everything else is in. */
FIXTURE(next_key) {
	int unused;
};

FIXTURE_VARIANT(next_key) {
	__u32 key_size;
	__u32 flags;
};

FIXTURE_SETUP(next_key)
{
}

FIXTURE_TEARDOWN(next_key)
{
}

ALL_KEY_SIZES(next_key);

TEST_F_TIMEOUT(next_key, get_next_key, 900)
{
	run_matrix(_metadata, variant->key_size, variant->flags, next_keys);
}

TEST_HARNESS_MAIN
