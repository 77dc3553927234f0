// SPDX-License-Identifier: GPL-2.0
/*
 * Stress test of the hmap core in userspace: readers, writers, walkers and
 * clears at once while the table grows and shrinks.
 *
 * Each writer owns a disjoint set of keys and keeps a shadow of them, so the
 * result of every one of its operations is known in advance: any surprise is
 * a lost or phantom update. "Stable" keys are inserted first and never
 * touched again: a lookup or walk that misses one has lost a key (the hazard
 * of a resize). Every value encodes its key and version with a checksum, so
 * a torn value cannot go unnoticed.
 *
 * HMAP_STRESS_SECONDS sets the length of each test (default 3).
 */
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "core_common.h"

#define NWRITERS	2
#define NREADERS	2
#define RANGE		12000
#define STABLE		2000
#define STABLE_BIT	(1ULL << 62)

struct val {
	u64 key;
	u64 ver;
	u64 chk[6];
};

struct shared {
	struct hmap_htab h;
	atomic_bool stop;
	bool clears;		/* a clearer runs: stable keys may vanish */
	atomic_long errors;
	atomic_long reads, hits, walks;
	char first_error[256];
	pthread_mutex_t err_lock;
};

static u64 mix(u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void make_val(struct val *v, u64 key, u64 ver)
{
	int i;

	v->key = key;
	v->ver = ver;
	for (i = 0; i < 6; i++)
		v->chk[i] = mix(key * 31 + ver * 7 + i);
}

static bool val_ok(const struct val *v, u64 key)
{
	struct val want;

	make_val(&want, key, v->ver);
	return !memcmp(v, &want, sizeof(want));
}

static void fail(struct shared *s, const char *fmt, unsigned long long a,
		 long long b)
{
	if (atomic_fetch_add(&s->errors, 1) == 0) {
		pthread_mutex_lock(&s->err_lock);
		snprintf(s->first_error, sizeof(s->first_error), fmt, a, b);
		pthread_mutex_unlock(&s->err_lock);
	}
}

static u64 rnd(u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

struct writer {
	struct shared *s;
	int id;
	u64 ver[RANGE];		/* 0: absent, else the version stored */
	u64 ops;
	bool clears;		/* a clearer runs: results are not predictable */
};

static u64 wkey(int id, u64 i)
{
	return i * NWRITERS + id;
}

static void *writer_fn(void *p)
{
	struct writer *w = p;
	struct shared *s = w->s;
	u64 seed = 0x1234567 + w->id * 7919, present = 0, next_ver = 1;
	bool filling = true;
	struct val v, out;
	int ret, want;

	rcu_register_thread();
	while (!atomic_load(&s->stop)) {
		u64 i = rnd(&seed) % RANGE, k = wkey(w->id, i);
		unsigned int op = rnd(&seed) % 10;

		if (filling && present > RANGE * 6 / 10)
			filling = false;
		else if (!filling && present < RANGE / 20)
			filling = true;
		w->ops++;
		if (op == 6) {
			/* A NOEXIST on a present key must change nothing. */
			if (!w->ver[i] || w->clears)
				continue;
			make_val(&v, k, next_ver);
			ret = hmap_htab_update(&s->h, &k, &v, HMAP_NOEXIST);
			if (ret != -EEXIST)
				fail(s, "NOEXIST on present key %llu gave %lld", k, ret);
		} else if (op == 7) {
			ret = hmap_htab_lookup(&s->h, &k, &out);
			if (!ret && !val_ok(&out, k))
				fail(s, "torn value for key %llu ver %lld", k, out.ver);
			if (w->clears)
				continue;
			want = w->ver[i] ? 0 : -ENOENT;
			if (ret != want || (!ret && out.ver != w->ver[i]))
				fail(s, "own lookup of key %llu gave %lld", k, ret);
		} else if (filling && op < 6) {
			/* Insert or replace, with every mode that must succeed. */
			u64 flags = w->ver[i] ? (op & 1 ? HMAP_EXIST : HMAP_ANY)
					      : (op & 1 ? HMAP_NOEXIST : HMAP_ANY);

			make_val(&v, k, next_ver);
			ret = hmap_htab_update(&s->h, &k, &v, flags);
			if (ret && !w->clears)
				fail(s, "update of key %llu failed: %lld", k, ret);
			if (!ret) {
				present += !w->ver[i];
				w->ver[i] = next_ver++;
			}
		} else {
			if (op & 1) {
				ret = hmap_htab_lookup_and_delete(&s->h, &k, &out);
				if (!ret && (!val_ok(&out, k) ||
					     (!w->clears && out.ver != w->ver[i])))
					fail(s, "lookup_and_delete of %llu: bad value version %lld",
					     k, out.ver);
			} else {
				ret = hmap_htab_delete(&s->h, &k);
			}
			want = w->ver[i] ? 0 : -ENOENT;
			if (!w->clears && ret != want)
				fail(s, "delete of key %llu gave %lld", k, ret);
			present -= !!w->ver[i];
			w->ver[i] = 0;
		}
	}
	rcu_unregister_thread();
	return NULL;
}

static void *reader_fn(void *p)
{
	struct shared *s = p;
	u64 seed = (uintptr_t)&seed | 1;
	long reads = 0, hits = 0;
	struct val out;

	rcu_register_thread();
	while (!atomic_load(&s->stop)) {
		u64 r = rnd(&seed);
		bool stable = r & 1;
		u64 k = stable ? (STABLE_BIT | ((r >> 1) % STABLE))
			       : (r >> 1) % (RANGE * NWRITERS);
		int ret = hmap_htab_lookup(&s->h, &k, &out);

		reads++;
		if (ret == 0) {
			hits++;
			if (!val_ok(&out, k))
				fail(s, "torn value for key %llu ver %lld", k, out.ver);
		} else if (stable && !s->clears) {
			fail(s, "stable key %llu lost during lookup: %lld", k, ret);
		}
	}
	atomic_fetch_add(&s->reads, reads);
	atomic_fetch_add(&s->hits, hits);
	rcu_unregister_thread();
	return NULL;
}

/* Full walks: each stable key exactly once, no key twice, always ends. */
static void *walker_fn(void *p)
{
	struct shared *s = p;
	static u8 seen_w[NWRITERS * RANGE];
	static u8 seen_s[STABLE];
	u64 cur, next;
	long steps;
	int ret, i;

	rcu_register_thread();
	while (!atomic_load(&s->stop)) {
		memset(seen_w, 0, sizeof(seen_w));
		memset(seen_s, 0, sizeof(seen_s));
		steps = 0;
		for (ret = hmap_htab_get_next_key(&s->h, NULL, &next); !ret;
		     ret = hmap_htab_get_next_key(&s->h, &cur, &next)) {
			u8 *slot = next & STABLE_BIT ? &seen_s[next & ~STABLE_BIT]
						     : &seen_w[next];
			if (++*slot > 1)
				fail(s, "walk returned key %llu twice (step %lld)",
				     next, steps);
			cur = next;
			if (++steps > 10L * (STABLE + NWRITERS * RANGE)) {
				fail(s, "walk does not end after %llu steps%lld",
				     steps, 0);
				break;
			}
		}
		if (ret != -ENOENT)
			fail(s, "walk ended with %llu%lld", -ret, 0);
		for (i = 0; i < STABLE; i++)
			if (seen_s[i] != 1)
				fail(s, "walk saw stable key %llu %lld times",
				     STABLE_BIT | i, seen_s[i]);
		atomic_fetch_add(&s->walks, 1);
	}
	rcu_unregister_thread();
	return NULL;
}

static unsigned int stress_seconds(void)
{
	const char *e = getenv("HMAP_STRESS_SECONDS");

	return e && atoi(e) > 0 ? atoi(e) : 3;
}

/* The fixture only lifts the harness's 30 s limit for long soaks. */
FIXTURE(stress) {};
FIXTURE_SETUP(stress) {}
FIXTURE_TEARDOWN(stress) {}

/* Each scenario runs with slab elements and with a preallocated pool. */
FIXTURE_VARIANT(stress) {
	bool pool;
};

FIXTURE_VARIANT_ADD(stress, slab) {
	.pool = false,
};

FIXTURE_VARIANT_ADD(stress, pool) {
	.pool = true,
};

static void setup_shared(struct __test_metadata *_metadata, struct shared *s,
			 bool pool)
{
	struct val v;
	u64 k;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->err_lock, NULL);
	NEW_MAP_POOL(&s->h, sizeof(u64), sizeof(struct val), 1 << 17, 0, pool);
	for (k = 0; k < STABLE; k++) {
		u64 key = STABLE_BIT | k;

		make_val(&v, key, 0);
		ASSERT_EQ(0, hmap_htab_update(&s->h, &key, &v, HMAP_NOEXIST));
	}
}

TEST_F_TIMEOUT(stress, readers_writers_walkers_resize, 600)
{
	static struct writer w[NWRITERS];
	pthread_t wt[NWRITERS], rt[NREADERS], it;
	struct shared *s = calloc(1, sizeof(*s));
	u64 total = STABLE, ops = 0, k, i;
	struct val out;
	int n;

	ASSERT_NE(NULL, s);
	setup_shared(_metadata, s, variant->pool);
	for (n = 0; n < NWRITERS; n++) {
		memset(&w[n], 0, sizeof(w[n]));
		w[n].s = s;
		w[n].id = n;
		ASSERT_EQ(0, pthread_create(&wt[n], NULL, writer_fn, &w[n]));
	}
	for (n = 0; n < NREADERS; n++)
		ASSERT_EQ(0, pthread_create(&rt[n], NULL, reader_fn, s));
	ASSERT_EQ(0, pthread_create(&it, NULL, walker_fn, s));
	sleep(stress_seconds());
	atomic_store(&s->stop, true);
	for (n = 0; n < NWRITERS; n++)
		pthread_join(wt[n], NULL);
	for (n = 0; n < NREADERS; n++)
		pthread_join(rt[n], NULL);
	pthread_join(it, NULL);

	EXPECT_EQ(0, atomic_load(&s->errors)) TH_LOG("first: %s", s->first_error);
	/* The final map is exactly the writers' shadows plus the stable keys. */
	for (n = 0; n < NWRITERS; n++) {
		ops += w[n].ops;
		for (i = 0; i < RANGE; i++) {
			k = wkey(n, i);
			if (w[n].ver[i]) {
				total++;
				ASSERT_EQ(0, hmap_htab_lookup(&s->h, &k, &out));
				ASSERT_EQ(w[n].ver[i], out.ver);
			} else {
				ASSERT_EQ(-ENOENT, hmap_htab_lookup(&s->h, &k, &out));
			}
		}
	}
	EXPECT_EQ(total, hmap_htab_count(&s->h));
	if (variant->pool) {
		/* A prealloc map has its full table from the start. */
		EXPECT_EQ(0, atomic_long_read(&s->h.stats.grows));
		EXPECT_EQ(0, atomic_long_read(&s->h.stats.shrinks));
	} else {
		EXPECT_GT(atomic_long_read(&s->h.stats.grows), 2);
		EXPECT_GT(atomic_long_read(&s->h.stats.shrinks), 2);
	}
	EXPECT_GT(atomic_load(&s->walks), 0);
	TH_LOG("%llu writer ops, %ld reads (%ld hits), %ld walks, %ld grows, %ld shrinks",
	       (unsigned long long)ops, atomic_load(&s->reads),
	       atomic_load(&s->hits), atomic_load(&s->walks),
	       atomic_long_read(&s->h.stats.grows),
	       atomic_long_read(&s->h.stats.shrinks));
	DESTROY_AND_CHECK_LEAKS(&s->h);
	free(s);
}

static void *clearer_fn(void *p)
{
	struct shared *s = p;
	int n = 0;

	rcu_register_thread();
	while (!atomic_load(&s->stop)) {
		usleep(20000);
		hmap_htab_clear(&s->h);
		n++;
	}
	rcu_unregister_thread();
	return (void *)(long)n;
}

/* Clears under load: values stay whole and the count matches a walk. */
TEST_F_TIMEOUT(stress, clear_under_load, 600)
{
	static struct writer w[NWRITERS];
	pthread_t wt[NWRITERS], rt[NREADERS], ct;
	struct shared *s = calloc(1, sizeof(*s));
	u64 next, cur;
	void *clears;
	int n, walked = 0, ret;

	ASSERT_NE(NULL, s);
	setup_shared(_metadata, s, variant->pool);
	s->clears = true;
	for (n = 0; n < NWRITERS; n++) {
		memset(&w[n], 0, sizeof(w[n]));
		w[n].s = s;
		w[n].id = n;
		w[n].clears = true;
		ASSERT_EQ(0, pthread_create(&wt[n], NULL, writer_fn, &w[n]));
	}
	for (n = 0; n < NREADERS; n++)
		ASSERT_EQ(0, pthread_create(&rt[n], NULL, reader_fn, s));
	ASSERT_EQ(0, pthread_create(&ct, NULL, clearer_fn, s));
	sleep(stress_seconds());
	atomic_store(&s->stop, true);
	for (n = 0; n < NWRITERS; n++)
		pthread_join(wt[n], NULL);
	for (n = 0; n < NREADERS; n++)
		pthread_join(rt[n], NULL);
	pthread_join(ct, &clears);

	EXPECT_EQ(0, atomic_load(&s->errors)) TH_LOG("first: %s", s->first_error);
	EXPECT_GT((long)clears, 5);
	for (ret = hmap_htab_get_next_key(&s->h, NULL, &next); !ret;
	     ret = hmap_htab_get_next_key(&s->h, &cur, &next)) {
		walked++;
		cur = next;
	}
	EXPECT_EQ(walked, hmap_htab_count(&s->h));
	DESTROY_AND_CHECK_LEAKS(&s->h);
	free(s);
}

TEST_HARNESS_MAIN
