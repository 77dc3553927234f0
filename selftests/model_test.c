// SPDX-License-Identifier: GPL-2.0
/*
 * Model-based random testing: long seeded random sequences of every map
 * command, each compared with a reference model kept in the test (model.h).
 *
 * What it proves: whatever order commands come in, on maps of different
 * shapes (small keys and values, a key larger than its value, a value larger
 * than its key, HMAP_F_PREALLOC or not, max_entries down to 1), each command
 * returns exactly the errno the uapi documents, every key and value it
 * returns is byte for byte the one the model holds, and INFO (count, sizes,
 * max_entries, map_flags, the lookups/hits/updates/deletes counters) agrees
 * with the model after every command. Commands: LOOKUP, UPDATE in each mode,
 * DELETE, LOOKUP_AND_DELETE, GET_NEXT_KEY (from the start, from any key,
 * and walks that other commands interleave with), CLEAR, INFO, the four
 * batches with random counts, cursors and status arrays, bursts that fill
 * the map to max_entries (E2BIG), and the writing commands on a read-only
 * fd (EPERM). And the commands that came with versions: ADD (with and
 * without HMAP_ADD_CREATE, deltas that wrap either way, EOPNOTSUPP on maps
 * whose values are not 4 or 8 bytes), CMPXCHG (the expected value right,
 * one byte off at either end, or another; on ESTALE the value written
 * back must be the model's), UPDATE and DELETE with HMAP_IF_VERSION (the
 * right version, and stale ones: the key's version before its last write
 * or before it was deleted and created again, one more or one less,
 * another key's), LOOKUP_MULTI (random keys, repeated and absent), with the
 * version of every entry checked as model.h describes, and INFO's adds,
 * cmpxchgs and conflicts counters.
 *
 * Why: hand-written tests check the sequences their authors thought of; the
 * GET_NEXT_KEY overrun with a key larger than the value went unseen because
 * no test paired those sizes with that command. A model finds such
 * combinations by itself and says exactly which command diverged.
 *
 * Replay: the seed is HMAP_SEED if set, else taken from the clock, and is
 * printed at the start and in every failure, with the last commands before
 * it: HMAP_SEED=N ./model_test runs the same sequences. (The iteration order
 * depends on each map's random hash seed, so commands that continue a walk
 * may pick other keys in a replay; everything else repeats.) HMAP_MODEL_OPS
 * sets the number of random steps per map shape.
 */
#include <time.h>

#include "kselftest_harness.h"
#include "model.h"

/* Sized for about 25 s on Debian's kernel in the VM (software emulation). */
#define DEFAULT_OPS	8000

static __u64 seed;
static unsigned long nops;

static void __attribute__((constructor)) pick_seed(void)
{
	const char *s = getenv("HMAP_SEED"), *o = getenv("HMAP_MODEL_OPS");
	struct timespec ts;

	if (s && *s) {
		seed = strtoull(s, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (__u64)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec ^ getpid();
		seed %= 1000000000000ULL;
	}
	nops = o && *o ? strtoul(o, NULL, 0) : DEFAULT_OPS;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(model) {
	struct rig r;
	__u64 rs;		/* the PRNG state of this shape */
	int walk;		/* GET_NEXT_KEY walk: the key it stands on; -1 start */
	int bcur;		/* lookup batch walk: the cursor; -1 start */
	char recent[8][160];	/* the last commands, for failure messages */
	unsigned int nrecent;
};

FIXTURE_VARIANT(model) {
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 capacity_hint;
	__u32 flags;
	__u32 stream;		/* mixed into the seed: each shape its own sequence */
};

FIXTURE_VARIANT_ADD(model, small) {
	.key_size = 4, .value_size = 8, .max_entries = 48, .stream = 1,
};

FIXTURE_VARIANT_ADD(model, small_prealloc) {
	.key_size = 8, .value_size = 8, .max_entries = 32, .capacity_hint = 16,
	.flags = HMAP_F_PREALLOC, .stream = 2,
};

FIXTURE_VARIANT_ADD(model, value_larger) {
	.key_size = 3, .value_size = 1000, .max_entries = 16, .stream = 3,
};

FIXTURE_VARIANT_ADD(model, tiny) {
	.key_size = 16, .value_size = 16, .max_entries = 1, .stream = 4,
};

FIXTURE_VARIANT_ADD(model, tiny_prealloc) {
	.key_size = 7, .value_size = 3, .max_entries = 3,
	.flags = HMAP_F_PREALLOC, .stream = 5,
};

FIXTURE_VARIANT_ADD(model, big_value_prealloc) {
	.key_size = 64, .value_size = 4096, .max_entries = 6, .capacity_hint = 6,
	.flags = HMAP_F_PREALLOC, .stream = 6,
};

/* 4-byte counters, for ADD (small and small_prealloc have 8-byte ones). */
FIXTURE_VARIANT_ADD(model, counter32) {
	.key_size = 12, .value_size = 4, .max_entries = 20, .stream = 9,
};

/*
 * Last: the shapes where GET_NEXT_KEY used to overrun its bounce buffer, so
 * that on such a module the other shapes have reported before the machine
 * goes down.
 */
FIXTURE_VARIANT_ADD(model, key_larger) {
	.key_size = 200, .value_size = 8, .max_entries = 12, .stream = 7,
};

FIXTURE_VARIANT_ADD(model, key_larger_prealloc) {
	.key_size = 300, .value_size = 1, .max_entries = 8, .capacity_hint = 4,
	.flags = HMAP_F_PREALLOC, .stream = 8,
};

FIXTURE_SETUP(model)
{
	__u32 max = variant->max_entries;
	__u32 room = 2 * max + 4 < 64 ? 2 * max + 4 : 64;
	__u64 s = seed ^ (variant->stream * 0x9e3779b97f4a7c15ULL);

	self->rs = splitmix64(&s);
	self->walk = -1;
	self->bcur = -1;
	TH_LOG("HMAP_SEED=%llu: key %u, value %u, max_entries %u, capacity_hint %u%s, %lu steps",
	       (unsigned long long)seed, variant->key_size, variant->value_size, max,
	       variant->capacity_hint,
	       variant->flags & HMAP_F_PREALLOC ? ", HMAP_F_PREALLOC" : "", nops);
	/* Half again as many keys as fit, so that the map fills up now and then. */
	if (rig_init(&self->r, variant->key_size, variant->value_size, max,
		     variant->capacity_hint, variant->flags, max + max / 2 + 3, room) ||
	    !rig_info(&self->r, false) || !rig_learn_order(&self->r))
		ASSERT_TRUE(false) TH_LOG("setup: %s", self->r.err);
}

FIXTURE_TEARDOWN(model)
{
	rig_fini(&self->r);
}

static __u32 rnd(FIXTURE_DATA(model) *self, __u32 n)
{
	return rnd_below(&self->rs, n);
}

/* A key: half the time one that is present (if any), else any key. */
static __u32 pick_key(FIXTURE_DATA(model) *self)
{
	struct model *m = &self->r.m;
	__u32 id, k;

	if (!m->count || rnd(self, 2))
		return rnd(self, m->nkeys);
	k = rnd(self, m->count);
	for (id = 0; id < m->nkeys; id++)
		if (m->present[id] && !k--)
			break;
	return id;
}

/* A key that is absent, or -1 if the universe is full. */
static int pick_absent(FIXTURE_DATA(model) *self)
{
	struct model *m = &self->r.m;
	__u32 start = rnd(self, m->nkeys), i;

	for (i = 0; i < m->nkeys; i++)
		if (!m->present[(start + i) % m->nkeys])
			return (start + i) % m->nkeys;
	return -1;
}

static __u64 pick_mode(FIXTURE_DATA(model) *self)
{
	static const __u64 modes[] = { HMAP_ANY, HMAP_NOEXIST, HMAP_EXIST };

	return modes[rnd(self, 3)];
}

/* A delta for ADD: small, around a wrap, to zero, or anything. */
static __s64 pick_delta(FIXTURE_DATA(model) *self, __u32 id)
{
	static const __s64 d[] = {
		1, -1, 0, 2, -2, 0x7fffffff, 0x80000000LL, 0xffffffffLL,
		0x100000000LL, -0x100000000LL, INT64_MAX, INT64_MIN,
	};
	struct model *m = &self->r.m;
	__u64 cur = m->present[id] ? m_number(m, id) : 0;
	__u64 top = m->vs == 4 ? 0xffffffffULL : ~0ULL;

	switch (rnd(self, 6)) {
	case 0:
		return d[rnd(self, ARRAY_SIZE(d))];
	case 1:
		return (__s64)splitmix64(&self->rs);
	case 2:		/* to 0, to the top, or just past it: wraps */
		return (__s64)((rnd(self, 2) ? top : 0) - cur) + (__s64)rnd(self, 3) - 1;
	default:
		return (__s64)rnd(self, 200) - 100;
	}
}

/* A value for CMPXCHG: a tag, or a number on maps of 4 and 8 bytes. */
static struct mval pick_mval(FIXTURE_DATA(model) *self)
{
	struct model *m = &self->r.m;
	struct mval v = { .tag = splitmix64(&self->rs) };

	if ((m->vs == 4 || m->vs == 8) && rnd(self, 2)) {
		v.num = true;
		v.tag = rnd(self, 4) ? rnd(self, 16) : v.tag;
		if (m->vs == 4)
			v.tag &= 0xffffffffULL;
	}
	return v;
}

/*
 * A version for HMAP_IF_VERSION on @id, whose version the model knows if
 * present: the right one half the time, else a stale one.
 */
static __u64 pick_version(FIXTURE_DATA(model) *self, __u32 id)
{
	struct model *m = &self->r.m;
	__u64 v = m->ver[id];
	__u32 j;

	if (rnd(self, 2))
		return v;
	switch (rnd(self, 7)) {
	case 0:		/* before the last write, or before a delete */
		if (m->ver_old[id])
			return m->ver_old[id];
		return v + 1;
	case 1:
		return v + 1;
	case 2:
		return v - 1;
	case 3:
		return m->maxver + 1;
	case 4:		/* another entry's */
		for (j = 0; j < m->nkeys; j++)
			if (j != id && m->present[j] && m->ver[j])
				return m->ver[j];
		return ~0ULL;
	case 5:
		return 0;
	default:
		return splitmix64(&self->rs);
	}
}

/* One of the commands that came with versions. */
static bool step_versioned(FIXTURE_DATA(model) *self, __u32 w, bool ro)
{
	struct rig *r = &self->r;
	struct model *m = &r->m;
	bool counters = m->vs == 4 || m->vs == 8;
	__u32 ids[64], n, i, id, flags;
	__u64 mode;

	if (w < 6 && (counters || !rnd(self, 4))) {
		/* ADD: mostly with CREATE, now and then a bad flag. */
		id = pick_key(self);
		flags = rnd(self, 3) ? HMAP_ADD_CREATE : 0;
		if (!rnd(self, 32))
			flags = 2;
		return rig_add(r, id, pick_delta(self, id), flags, ro);
	}
	if (w < 11) {
		int how = rnd(self, 2) ? CX_RIGHT : rnd(self, CX_NKINDS);
		struct mval other, desired;

		id = pick_key(self);
		other = pick_mval(self);
		desired = pick_mval(self);
		return rig_cmpxchg(r, id, how, other, desired, ro);
	}
	if (w < 16) {
		/* UPDATE or DELETE at a version, right or stale. */
		bool with_ver = rnd(self, 16);
		struct mval v;
		__u64 version;

		id = pick_key(self);
		if (!rig_know_version(r, id))
			return false;
		version = pick_version(self, id);
		if (rnd(self, 2))
			return rig_delete_v(r, id, true, version, with_ver, ro);
		mode = rnd(self, 2) ? HMAP_ANY : HMAP_EXIST;
		if (!rnd(self, 16))
			mode = HMAP_NOEXIST;
		v.tag = splitmix64(&self->rs);
		v.num = false;
		return rig_update_v(r, id, v, mode | HMAP_IF_VERSION, version, with_ver, ro);
	}
	/* LOOKUP_MULTI: random keys, some repeated, some absent; few, mostly. */
	n = rnd(self, 4) ? rnd(self, (r->room_max < 8 ? r->room_max : 8) + 1) :
	    rnd(self, r->room_max + 1);
	for (i = 0; i < n; i++)
		ids[i] = i && !rnd(self, 4) ? ids[rnd(self, i)] : pick_key(self);
	return rig_lookup_multi(r, ids, n, rnd(self, 16) ? ST_ALIGNED + rnd(self, 2) : ST_NONE,
				ro);
}

/* How many keys a lookup batch of @room after @from finds (up to @room). */
static __u32 left_after(const struct model *m, int from, __u32 room)
{
	__u32 n = 0;

	while (n < room && (from = m_next(m, from)) >= 0)
		n++;
	return n;
}

/* One random step: one command, or a short burst; then INFO. */
static bool step(FIXTURE_DATA(model) *self)
{
	struct rig *r = &self->r;
	struct model *m = &r->m;
	__u32 max = r->max_entries, ids[64], n, i, room, w;
	bool ro = !rnd(self, 8), same;
	__u64 tags[64];
	int from, last, id;

	w = rnd(self, 121);
	if (w >= 100)
		return step_versioned(self, w - 100, ro);
	if (w < 16)
		return rig_lookup(r, pick_key(self), ro);
	if (w < 36)
		return rig_update(r, pick_key(self), splitmix64(&self->rs),
				  pick_mode(self), ro);
	if (w < 44)
		return rig_delete(r, pick_key(self), ro);
	if (w < 50)
		return rig_lookup_and_delete(r, pick_key(self), ro);
	if (w < 54) {
		/* One step of a walk that other commands interleave with. */
		from = self->walk;
		self->walk = m_next(m, from);
		return rig_get_next_key(r, from, ro);
	}
	if (w < 57)
		return rig_get_next_key(r, rnd(self, 4) ? (int)pick_key(self) : -1, ro);
	if (w < 58)
		return rig_walk(r, ro);
	if (w < 59) {
		/* Rare: a clear waits for a grace period. */
		return rig_clear(r, ro);
	}
	if (w < 69) {
		/* A lookup batch: from the start, a random key, or its walk. */
		bool del = w >= 65;

		room = rnd(self, 16) ? 1 + rnd(self, max + 2 < r->room_max ?
						       max + 2 : r->room_max) : 0;
		same = !rnd(self, 4);
		switch (rnd(self, 3)) {
		case 0:
			from = -1;
			break;
		case 1:
			from = pick_key(self);
			break;
		default:
			from = self->bcur;
			break;
		}
		/* Where the walk goes next: after the last key, or back to the start. */
		if (!room || (del && ro) || left_after(m, from, room) < room) {
			if (!rig_lookup_batch(r, del, from, room, same, ro, &last))
				return false;
			if (room && !(del && ro))
				self->bcur = -1;
			return true;
		}
		if (!rig_lookup_batch(r, del, from, room, same, ro, &last))
			return false;
		self->bcur = last;
		return true;
	}
	if (w < 80) {
		/* A change batch: random keys (repeats too), count, mode, status. */
		bool upd = w < 75;
		__u32 flags = rnd(self, 2) ? HMAP_BATCH_CONTINUE : 0;
		int st = rnd(self, 3);

		n = rnd(self, r->room_max + 1);
		for (i = 0; i < n; i++) {
			ids[i] = pick_key(self);
			tags[i] = splitmix64(&self->rs);
		}
		if (upd)
			return rig_update_batch(r, ids, tags, n, pick_mode(self), flags,
						st, ro);
		return rig_delete_batch(r, ids, n, flags, st, ro);
	}
	if (w < 82) {
		/* Fill the map up, then one more: E2BIG. */
		while (m->count < max) {
			id = pick_absent(self);
			if (!rig_update(r, id, splitmix64(&self->rs),
					rnd(self, 2) ? HMAP_ANY : HMAP_NOEXIST, false) ||
			    !rig_info(r, false))
				return false;
		}
		id = pick_absent(self);
		return rig_update(r, id, splitmix64(&self->rs), rnd(self, 2) ?
				  HMAP_ANY : HMAP_NOEXIST, false);
	}
	if (w < 84)
		return rig_check_content(r, 1 + rnd(self, max + 1 < r->room_max ?
							max + 1 : r->room_max));
	if (w < 86) {
		/* Empty the map by single deletes in iteration order. */
		for (id = m_next(m, -1); id >= 0; id = m_next(m, id))
			if (!(rnd(self, 2) ? rig_delete(r, id, false) :
			      rig_lookup_and_delete(r, id, false)) ||
			    !rig_info(r, false))
				return false;
		return true;
	}
	return rig_info(r, ro);
}

static void remember(FIXTURE_DATA(model) *self)
{
	memcpy(self->recent[self->nrecent++ % 8], self->r.what, sizeof(self->recent[0]));
}

TEST_F_TIMEOUT(model, random_commands, 1800)
{
	struct rig *r = &self->r;
	double t0 = now();
	unsigned long i;
	unsigned int j;
	bool ok = true;

	for (i = 0; i < nops && ok; i++) {
		ok = step(self);
		if (ok)
			remember(self);
		ok = ok && rig_info(r, !rnd(self, 4));
		if (ok)
			remember(self);
		if (ok && i % 64 == 63)
			ok = rig_check_content(r, 1 + rnd(self, r->room_max));
	}
	ok = ok && rig_check_content(r, r->room_max) && rig_walk(r, false) &&
	     rig_info(r, false);
	if (!ok) {
		for (j = self->nrecent > 8 ? self->nrecent - 8 : 0; j < self->nrecent; j++)
			TH_LOG("  before it: %s", self->recent[j % 8]);
		TH_LOG("step %lu of %lu: %s", i, nops, r->err);
		TH_LOG("replay: HMAP_SEED=%llu ./model_test", (unsigned long long)seed);
	}
	if (r->note[0]) {
		TH_LOG("%s", r->note);
		TH_LOG("replay: HMAP_SEED=%llu ./model_test", (unsigned long long)seed);
		ok = false;
	}
	TH_LOG("%lu steps, %lu commands, %u entries at the end, %.2f s", i, r->ops,
	       r->m.count, now() - t0);
	EXPECT_TRUE(ok);
}

TEST_HARNESS_MAIN
