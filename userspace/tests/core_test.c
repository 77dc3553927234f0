// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the hmap core, built in userspace against liburcu.
 */
#include <stdint.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "core_common.h"

static u64 val_of(u64 k)
{
	return k * 0x9e3779b97f4a7c15ULL + 1;
}

static int put(struct hmap_htab *h, u64 k, u64 flags)
{
	u64 v = val_of(k);

	return hmap_htab_update(h, &k, &v, flags);
}

/* Waits until every retired element and replaced table of @h is freed. */
static void settle(struct hmap_htab *h)
{
	int i;

	rcu_barrier();
	for (i = 0; i < 100 && (READ_ONCE(h->rc.busy) || READ_ONCE(h->rc.open)); i++)
		rcu_barrier();
}

/* The element holding @key, found by walking the table as a writer would. */
static struct hmap_elem *find_elem(struct hmap_htab *h, const void *key)
{
	struct hmap_tbl *tbl = h->tbl;
	struct hlist_nulls_node *n;
	struct hmap_elem *e;
	u32 b;

	for (b = 0; tbl && b < tbl->size; b++)
		hlist_nulls_for_each_entry(e, n, &tbl->buckets[b], node)
			if (!memcmp(e->data, key, h->key_size))
				return e;
	return NULL;
}

TEST(init_rejects_bad_params)
{
	struct hmap_htab_params bad[] = {
		{ .key_size = 0, .value_size = 8, .max_entries = 10 },
		{ .key_size = HMAP_MAX_KEY_SIZE + 1, .value_size = 8, .max_entries = 10 },
		{ .key_size = 8, .value_size = 0, .max_entries = 10 },
		{ .key_size = 8, .value_size = HMAP_MAX_VALUE_SIZE + 1, .max_entries = 10 },
		{ .key_size = 8, .value_size = 8, .max_entries = 0 },
		{ .key_size = 8, .value_size = 8, .max_entries = HMAP_MAX_ENTRIES + 1 },
		{ .key_size = 8, .value_size = 8, .max_entries = 10, .capacity_hint = 11 },
	};
	struct hmap_htab h;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(-EINVAL, hmap_htab_init(&h, &bad[i])) TH_LOG("case %u", i);
	NEW_MAP(&h, HMAP_MAX_KEY_SIZE, HMAP_MAX_VALUE_SIZE, HMAP_MAX_ENTRIES,
		0);
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(update_lookup_delete)
{
	struct hmap_htab h;
	u64 k, v;

	NEW_MAP(&h, 8, 8, 100, 0);
	EXPECT_EQ(0, hmap_htab_buckets(&h));
	k = 7;
	EXPECT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(-ENOENT, hmap_htab_delete(&h, &k));
	for (k = 0; k < 50; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	EXPECT_EQ(50, hmap_htab_count(&h));
	for (k = 0; k < 50; k++) {
		v = 0;
		ASSERT_EQ(0, hmap_htab_lookup(&h, &k, &v));
		ASSERT_EQ(val_of(k), v);
	}
	k = 3;
	v = 1234;
	EXPECT_EQ(0, hmap_htab_update(&h, &k, &v, HMAP_ANY));
	v = 0;
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(1234, v);
	EXPECT_EQ(50, hmap_htab_count(&h));
	for (k = 0; k < 50; k += 2)
		ASSERT_EQ(0, hmap_htab_delete(&h, &k));
	EXPECT_EQ(25, hmap_htab_count(&h));
	for (k = 0; k < 50; k++)
		ASSERT_EQ(k % 2 ? 0 : -ENOENT, hmap_htab_lookup(&h, &k, &v));
	EXPECT_GT(hmap_htab_mem_bytes(&h), 25 * 8 * 2);
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(update_flags)
{
	struct hmap_htab h;
	u64 k = 1, v;

	NEW_MAP(&h, 8, 8, 10, 0);
	EXPECT_EQ(-ENOENT, put(&h, k, HMAP_EXIST));
	EXPECT_EQ(0, hmap_htab_count(&h));
	EXPECT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(0, put(&h, k, HMAP_NOEXIST));
	v = 99;
	EXPECT_EQ(-EEXIST, hmap_htab_update(&h, &k, &v, HMAP_NOEXIST));
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(val_of(k), v);
	v = 99;
	EXPECT_EQ(0, hmap_htab_update(&h, &k, &v, HMAP_EXIST));
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(99, v);
	EXPECT_EQ(-EINVAL, put(&h, k, HMAP_EXIST | HMAP_NOEXIST));
	EXPECT_EQ(-EINVAL, put(&h, 2, 1ULL << 2));
	EXPECT_EQ(-EINVAL, put(&h, 2, 1ULL << 63));
	EXPECT_EQ(1, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(max_entries_is_enforced)
{
	struct hmap_htab h;
	u64 k, v;

	NEW_MAP(&h, 8, 8, 20, 0);
	for (k = 0; k < 20; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	EXPECT_EQ(-E2BIG, put(&h, 100, HMAP_ANY));
	EXPECT_EQ(-E2BIG, put(&h, 100, HMAP_NOEXIST));
	EXPECT_EQ(20, hmap_htab_count(&h));
	k = 100;
	EXPECT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	/* Replacing at the limit needs no new slot. */
	EXPECT_EQ(0, put(&h, 5, HMAP_ANY));
	EXPECT_EQ(0, put(&h, 5, HMAP_EXIST));
	k = 0;
	EXPECT_EQ(0, hmap_htab_delete(&h, &k));
	EXPECT_EQ(0, put(&h, 100, HMAP_NOEXIST));
	EXPECT_EQ(20, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(lookup_and_delete)
{
	struct hmap_htab h;
	u64 k = 42, v = 0;

	NEW_MAP(&h, 8, 8, 10, 0);
	EXPECT_EQ(-ENOENT, hmap_htab_lookup_and_delete(&h, &k, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	EXPECT_EQ(0, hmap_htab_lookup_and_delete(&h, &k, &v));
	EXPECT_EQ(val_of(k), v);
	EXPECT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(0, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(odd_sizes)
{
	static const u32 ks[] = { 1, 3, 13, 64, 511, 512 };
	static const u32 vs[] = { 1, 5, 8, 100, 4097 };
	u8 key[512], val[4097], out[4098];
	unsigned int i, j, n;

	for (i = 0; i < 6; i++) {
		for (j = 0; j < 5; j++) {
			struct hmap_htab h;

			NEW_MAP(&h, ks[i], vs[j], 300, 0);
			for (n = 0; n < 200; n++) {
				memset(key, 0, sizeof(key));
				memcpy(key, &n, ks[i] < 4 ? ks[i] : 4);
				memset(val, n & 0xff, vs[j]);
				ASSERT_EQ(0, hmap_htab_update(&h, key, val, 0));
			}
			for (n = 0; n < 200; n++) {
				memset(key, 0, sizeof(key));
				memcpy(key, &n, ks[i] < 4 ? ks[i] : 4);
				memset(val, n & 0xff, vs[j]);
				/* Unaligned buffers are fine. */
				ASSERT_EQ(0, hmap_htab_lookup(&h, key, out + (n & 1)));
				ASSERT_EQ(0, memcmp(out + (n & 1), val, vs[j]));
			}
			EXPECT_EQ(200, hmap_htab_count(&h));
			DESTROY_AND_CHECK_LEAKS(&h);
		}
	}
}

TEST(grows_and_shrinks)
{
	struct hmap_htab h;
	u32 peak;
	u64 k, v;

	NEW_MAP(&h, 8, 8, 100000, 0);
	for (k = 0; k < 20000; k++) {
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
		/* Never above one entry per bucket once the insert returns. */
		ASSERT_LE(hmap_htab_count(&h), hmap_htab_buckets(&h));
	}
	peak = hmap_htab_buckets(&h);
	EXPECT_GE(peak, 20000);
	EXPECT_GT(atomic_long_read(&h.stats.grows), 5);
	for (k = 0; k < 20000; k++)
		ASSERT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	for (k = 0; k < 19990; k++)
		ASSERT_EQ(0, hmap_htab_delete(&h, &k));
	EXPECT_GT(atomic_long_read(&h.stats.shrinks), 5);
	EXPECT_LT(hmap_htab_buckets(&h), 64);
	for (; k < 20000; k++) {
		ASSERT_EQ(0, hmap_htab_lookup(&h, &k, &v));
		ASSERT_EQ(val_of(k), v);
	}
	EXPECT_EQ(10, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(capacity_hint_prevents_resize)
{
	struct hmap_htab h;
	u32 size;
	u64 k;

	NEW_MAP(&h, 8, 8, 5000, 3000);
	ASSERT_EQ(0, put(&h, 0, HMAP_ANY));
	size = hmap_htab_buckets(&h);
	EXPECT_GE(size, 4000);
	for (k = 1; k < 3000; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	for (k = 0; k < 3000; k++)
		ASSERT_EQ(0, hmap_htab_delete(&h, &k));
	EXPECT_EQ(size, hmap_htab_buckets(&h));
	EXPECT_EQ(0, atomic_long_read(&h.stats.grows));
	EXPECT_EQ(0, atomic_long_read(&h.stats.shrinks));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* Walks the whole map; counts visits per key into @seen (indexed by key). */
static int walk(struct hmap_htab *h, u8 *seen, u64 nkeys)
{
	u64 cur, next;
	int n = 0, ret;

	for (ret = hmap_htab_get_next_key(h, NULL, &next); !ret;
	     ret = hmap_htab_get_next_key(h, &cur, &next)) {
		if (next < nkeys)
			seen[next]++;
		cur = next;
		if (++n > 10 * (int)nkeys)
			return -ELOOP;
	}
	return ret == -ENOENT ? n : ret;
}

TEST(get_next_key_full_walk)
{
	static u8 seen[5000];
	struct hmap_htab h;
	u64 k, next;

	NEW_MAP(&h, 8, 8, 5000, 0);
	EXPECT_EQ(-ENOENT, hmap_htab_get_next_key(&h, NULL, &next));
	for (k = 0; k < 5000; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	EXPECT_EQ(5000, walk(&h, seen, 5000));
	for (k = 0; k < 5000; k++)
		ASSERT_EQ(1, seen[k]) TH_LOG("key %llu", (unsigned long long)k);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* Deleting the key a walk stands on does not restart the walk. */
TEST(get_next_key_after_delete_continues)
{
	static u8 seen[2000];
	struct hmap_htab h;
	u64 cur, next, k;
	int steps = 0, ret;

	NEW_MAP(&h, 8, 8, 2000, 0);
	for (k = 0; k < 2000; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_get_next_key(&h, NULL, &cur));
	seen[cur]++;
	for (;;) {
		/* Delete three keys in four right after visiting them. */
		if (steps++ % 4)
			ASSERT_EQ(0, hmap_htab_delete(&h, &cur));
		ret = hmap_htab_get_next_key(&h, &cur, &next);
		if (ret)
			break;
		ASSERT_LT(next, 2000);
		ASSERT_EQ(0, seen[next]) TH_LOG("key %llu twice", (unsigned long long)next);
		seen[next]++;
		cur = next;
	}
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_EQ(2000, steps);
	/* The shrinks the deletes caused did not disturb the walk either. */
	EXPECT_GT(atomic_long_read(&h.stats.shrinks), 0);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* Keys present for a whole walk are visited once, even across grows. */
TEST(get_next_key_across_resize)
{
	static u8 seen[200000];
	struct hmap_htab h;
	u64 cur, next, k, extra = 1000;
	int ret;

	NEW_MAP(&h, 8, 8, 200000, 0);
	for (k = 0; k < 1000; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_get_next_key(&h, NULL, &cur));
	seen[cur]++;
	while (!(ret = hmap_htab_get_next_key(&h, &cur, &next))) {
		ASSERT_LT(next, 200000);
		seen[next]++;
		cur = next;
		for (k = 0; k < 50 && extra < 200000; k++, extra++)
			ASSERT_EQ(0, put(&h, extra, HMAP_ANY));
	}
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_GT(atomic_long_read(&h.stats.grows), 5);
	for (k = 0; k < 1000; k++)
		ASSERT_EQ(1, seen[k]) TH_LOG("key %llu", (unsigned long long)k);
	for (k = 1000; k < 200000; k++)
		ASSERT_LE(seen[k], 1);
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(clear_then_reuse)
{
	struct hmap_htab h;
	u64 k, v;

	NEW_MAP(&h, 8, 8, 1000, 0);
	hmap_htab_clear(&h);
	for (k = 0; k < 500; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	EXPECT_EQ(1, atomic_long_read(&h.stats.tbl_installs));
	hmap_htab_clear(&h);
	EXPECT_EQ(0, hmap_htab_count(&h));
	EXPECT_EQ(0, hmap_htab_buckets(&h));
	for (k = 0; k < 500; k++)
		ASSERT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	ASSERT_EQ(0, put(&h, 7, HMAP_NOEXIST));
	EXPECT_EQ(2, atomic_long_read(&h.stats.tbl_installs));
	EXPECT_EQ(1, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/*
 * Every allocation an update makes can fail: each failure must return
 * -ENOMEM and leave the map exactly as it was. A failed resize allocation
 * is not an error: the insert stands and the table keeps its size.
 */
TEST(update_alloc_failures)
{
	struct hmap_htab h;
	int nth, ret, failures = 0;
	u64 k, v;

	NEW_MAP(&h, 8, 8, 100, 0);
	for (nth = 1;; nth++) {
		shim_fail_nth = nth;
		ret = put(&h, 1, HMAP_ANY);
		shim_fail_nth = 0;
		if (!ret)
			break;
		ASSERT_EQ(-ENOMEM, ret);
		failures++;
		ASSERT_EQ(0, hmap_htab_count(&h));
		k = 1;
		ASSERT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	}
	/* The element, then the first table. */
	EXPECT_EQ(2, failures);
	for (k = 2; k <= 8; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	/* The 9th key needs a grow from 8 buckets: make its table fail. */
	EXPECT_EQ(8, hmap_htab_buckets(&h));
	shim_fail_nth = 2;
	EXPECT_EQ(0, put(&h, 9, HMAP_ANY));
	shim_fail_nth = 0;
	EXPECT_EQ(8, hmap_htab_buckets(&h));
	EXPECT_EQ(9, hmap_htab_count(&h));
	/* The next insert grows the table after all. */
	EXPECT_EQ(0, put(&h, 10, HMAP_ANY));
	EXPECT_EQ(16, hmap_htab_buckets(&h));
	for (k = 1; k <= 10; k++) {
		ASSERT_EQ(0, hmap_htab_lookup(&h, &k, &v));
		ASSERT_EQ(val_of(k), v);
	}
	/* A replace allocates nothing, so an allocation failure cannot stop it. */
	shim_fail_nth = 1;
	v = 5;
	k = 3;
	EXPECT_EQ(0, hmap_htab_update(&h, &k, &v, HMAP_ANY));
	EXPECT_EQ(1, shim_fail_nth);
	shim_fail_nth = 0;
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(5, v);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* A budget caps elements and tables, and every charge is given back. */
TEST(budget_limits_memory)
{
	u64 limit = 8192;
	struct hmap_budget budget = { .limit = &limit };
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 100000,
		.budget = &budget,
	};
	struct hmap_htab h, h2;
	u64 k, v, n;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	ASSERT_EQ(0, hmap_htab_init(&h2, &p));
	/*
	 * Tables replaced by the grows stay charged until they are freed, so
	 * the map is full once an insert fails even after they are.
	 */
	for (k = 0; put(&h, k, HMAP_ANY) == 0 ||
		    (settle(&h), put(&h, k, HMAP_ANY) == 0); k++)
		ASSERT_LT(k, 1000);
	n = k;
	EXPECT_EQ(-ENOMEM, put(&h, k, HMAP_ANY));
	EXPECT_LE(atomic64_read(&budget.used), limit);
	EXPECT_EQ(hmap_htab_mem_bytes(&h), atomic64_read(&budget.used));
	EXPECT_EQ(n, hmap_htab_count(&h));
	/* The budget is shared: the second map cannot even get a table. */
	EXPECT_EQ(-ENOMEM, put(&h2, 1, HMAP_ANY));
	k = 0;
	ASSERT_EQ(0, hmap_htab_lookup_and_delete(&h, &k, &v));
	EXPECT_EQ(val_of(0), v);
	/* The deleted element stays charged until its grace period ends. */
	EXPECT_EQ(hmap_htab_mem_bytes(&h) + h.elem_size,
		  atomic64_read(&budget.used));
	settle(&h);
	EXPECT_EQ(hmap_htab_mem_bytes(&h), atomic64_read(&budget.used));
	limit = 1 << 20;
	for (k = 0; k < 3000; k++)
		ASSERT_EQ(0, put(&h2, k, HMAP_ANY));
	settle(&h2);
	EXPECT_EQ(hmap_htab_mem_bytes(&h) + hmap_htab_mem_bytes(&h2),
		  atomic64_read(&budget.used));
	hmap_htab_clear(&h2);
	settle(&h2);
	EXPECT_EQ(hmap_htab_mem_bytes(&h), atomic64_read(&budget.used));
	hmap_htab_destroy(&h2);
	DESTROY_AND_CHECK_LEAKS(&h);
	EXPECT_EQ(0, atomic64_read(&budget.used));
}

struct race_arg {
	struct hmap_htab *h;
	pthread_barrier_t *go;
	u64 base;
	int err;
};

static void *first_insert(void *p)
{
	struct race_arg *a = p;
	u64 k;

	rcu_register_thread();
	pthread_barrier_wait(a->go);
	for (k = a->base; k < a->base + 3; k++)
		if (put(a->h, k, HMAP_NOEXIST))
			a->err++;
	rcu_unregister_thread();
	return NULL;
}

/* Threads racing the first insert install exactly one bucket array. */
TEST(lazy_init_race)
{
	struct race_arg args[8];
	pthread_t th[8];
	pthread_barrier_t go;
	struct hmap_htab h;
	int round, i;

	for (round = 0; round < 50; round++) {
		NEW_MAP(&h, 8, 8, 100, 60);
		pthread_barrier_init(&go, NULL, 8);
		for (i = 0; i < 8; i++) {
			args[i] = (struct race_arg){ &h, &go, i * 10, 0 };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, first_insert,
						    &args[i]));
		}
		for (i = 0; i < 8; i++) {
			pthread_join(th[i], NULL);
			EXPECT_EQ(0, args[i].err);
		}
		pthread_barrier_destroy(&go);
		EXPECT_EQ(1, atomic_long_read(&h.stats.tbl_installs));
		EXPECT_EQ(24, hmap_htab_count(&h));
		DESTROY_AND_CHECK_LEAKS(&h);
	}
}

/* A pool map allocates nothing after its creation, not even after a clear. */
TEST(pool_inserts_never_allocate)
{
	struct hmap_htab h;
	u64 k, v;
	long before;

	NEW_MAP_POOL(&h, 8, 8, 1000, 0, true);
	EXPECT_EQ(1024, hmap_htab_buckets(&h));
	EXPECT_EQ(1, atomic_long_read(&h.stats.tbl_installs));
	before = shim_alloc_count;
	shim_fail_nth = 1;
	for (k = 0; k < 500; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_NOEXIST));
	hmap_htab_clear(&h);
	EXPECT_EQ(0, hmap_htab_count(&h));
	EXPECT_EQ(1024, hmap_htab_buckets(&h));
	for (k = 0; k < 500; k++)
		ASSERT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	for (k = 0; k < 1000; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_NOEXIST));
	EXPECT_EQ(1, shim_fail_nth);
	shim_fail_nth = 0;
	EXPECT_EQ(before, shim_alloc_count);
	/* Full: a new key is refused, a present one is still replaced. */
	k = 1000;
	EXPECT_EQ(-E2BIG, put(&h, k, HMAP_ANY));
	k = 5;
	v = 77;
	EXPECT_EQ(0, hmap_htab_update(&h, &k, &v, HMAP_EXIST));
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(77, v);
	EXPECT_EQ(1000, hmap_htab_count(&h));
	EXPECT_EQ(1024, hmap_htab_buckets(&h));
	EXPECT_EQ(0, atomic_long_read(&h.stats.grows));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* A prealloc map whose table cannot be had is not created, and leaks nothing. */
TEST(pool_table_failure)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 100,
		.prealloc = true,
	};
	struct hmap_htab h;

	shim_fail_nth = 2;
	EXPECT_EQ(-ENOMEM, hmap_htab_init(&h, &p));
	shim_fail_nth = 0;
	EXPECT_EQ(0, __lsan_do_recoverable_leak_check());
}

/*
 * A table whose grow cannot be allocated takes no more than two entries per
 * bucket: past that, inserts fail with the grow's error instead of
 * lengthening chains that are walked under bucket locks and in RCU read
 * sections. Here the budget has room for many more elements, not for a
 * larger table.
 */
TEST(failed_grow_caps_the_load)
{
	u64 limit = 1 << 20;
	struct hmap_budget budget = { .limit = &limit };
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 100000,
		.budget = &budget,
	};
	struct hmap_htab h;
	u64 k, one;
	int ret;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	ASSERT_EQ(0, put(&h, 0, HMAP_ANY));
	EXPECT_EQ(8, hmap_htab_buckets(&h));
	one = atomic64_read(&budget.used);
	/*
	 * Room for the 15 more elements that make two per bucket, never for
	 * a 16-bucket table, which is about twice the 8-bucket one
	 * (one - elem_size).
	 */
	limit = one + 15 * h.elem_size;
	ASSERT_LT(15 * h.elem_size, 2 * (one - h.elem_size) - 128);
	for (k = 1; !(ret = put(&h, k, HMAP_ANY)); k++)
		ASSERT_LT(k, 1000);
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_EQ(16, hmap_htab_count(&h));
	EXPECT_EQ(8, hmap_htab_buckets(&h));
	/* Room again: the next insert grows the table first. */
	limit = 1 << 20;
	EXPECT_EQ(0, put(&h, k, HMAP_ANY));
	EXPECT_EQ(32, hmap_htab_buckets(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* Every write takes a version never used before in the map; 0 is none. */
TEST(versions_never_repeat)
{
	struct hmap_htab h;
	u64 k = 7, v = 1, got, v1, v2, v3, v4;

	NEW_MAP(&h, 8, 8, 16, 0);
	ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &v1));
	EXPECT_LT(0, v1);
	ASSERT_EQ(0, hmap_htab_update(&h, &k, &v, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &v2));
	EXPECT_EQ(1, got);
	EXPECT_LT(v1, v2);
	/* Deleted and created again: a new version, never the old one. */
	ASSERT_EQ(0, hmap_htab_delete(&h, &k));
	ASSERT_EQ(0, hmap_htab_update(&h, &k, &v, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &v3));
	EXPECT_LT(v2, v3);
	/* Other keys' writes move the map's counter, not this key's version. */
	ASSERT_EQ(0, put(&h, 8, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &v4));
	EXPECT_EQ(v3, v4);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* Writes and deletes conditional on a version: the compare-and-swap by version. */
TEST(if_version_writes)
{
	struct hmap_write w = { .flags = HMAP_IF_VERSION };
	struct hmap_htab h;
	u64 k = 3, v = 30, got, ver, stale;

	NEW_MAP(&h, 8, 8, 16, 0);
	w.value = &v;
	/* Absent: ENOENT, and nothing created. */
	w.version = 1;
	EXPECT_EQ(-ENOENT, hmap_htab_write(&h, &k, &w));
	EXPECT_EQ(0, hmap_htab_count(&h));
	ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &ver));
	/* A stale version: ESTALE, the current one back, the value unchanged. */
	w.version = ver + 100;
	EXPECT_EQ(-ESTALE, hmap_htab_write(&h, &k, &w));
	EXPECT_EQ(ver, w.version);
	ASSERT_EQ(0, hmap_htab_lookup(&h, &k, &got));
	EXPECT_EQ(val_of(k), got);
	/* The right one: written, with a new version returned. */
	w.version = ver;
	EXPECT_EQ(0, hmap_htab_write(&h, &k, &w));
	EXPECT_LT(ver, w.version);
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &stale));
	EXPECT_EQ(30, got);
	EXPECT_EQ(w.version, stale);
	/* The version read before that write is stale now, for a delete too. */
	stale = ver;
	EXPECT_EQ(-ESTALE, hmap_htab_delete_version(&h, &k, &stale));
	EXPECT_EQ(w.version, stale);
	EXPECT_EQ(1, hmap_htab_count(&h));
	EXPECT_EQ(0, hmap_htab_delete_version(&h, &k, &stale));
	EXPECT_EQ(-ENOENT, hmap_htab_delete_version(&h, &k, &stale));
	/* NOEXIST cannot be conditional on a version; update() takes none. */
	w.flags = HMAP_IF_VERSION | HMAP_NOEXIST;
	EXPECT_EQ(-EINVAL, hmap_htab_write(&h, &k, &w));
	EXPECT_EQ(-EINVAL, hmap_htab_update(&h, &k, &v, HMAP_IF_VERSION));
	/* NOEXIST on a present key reports the version it found. */
	ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &ver));
	w.flags = HMAP_NOEXIST;
	w.version = 0;
	EXPECT_EQ(-EEXIST, hmap_htab_write(&h, &k, &w));
	EXPECT_EQ(ver, w.version);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* A callback that adds *ctx to an 8-byte counter, as the ADD command does. */
static int add_modify(struct hmap_write *w, const void *cur)
{
	static __thread u64 sum;

	sum = *(const u64 *)cur + *(u64 *)w->ctx;
	w->value = &sum;
	return 0;
}

/* A callback that refuses, leaving the entry alone. */
static int refuse_modify(struct hmap_write *w, const void *cur)
{
	return -ESTALE;
}

struct adder {
	struct hmap_htab *h;
	u64 n, delta;
};

static void *adder_fn(void *p)
{
	struct adder *a = p;
	u64 k, i;

	rcu_register_thread();
	for (i = 0; i < a->n; i++) {
		struct hmap_write w = {
			.value = &a->delta, .modify = add_modify, .ctx = &a->delta,
		};

		k = i % 4;
		if (hmap_htab_write(a->h, &k, &w))
			abort();
	}
	rcu_unregister_thread();
	return NULL;
}

/*
 * Read-modify-writes decided under the bucket lock lose nothing to each
 * other: four threads adding to four counters end with the exact sums, and
 * a refused modify changes neither value nor version.
 */
TEST(concurrent_modify_is_exact)
{
	struct hmap_write refuse = { .value = &refuse, .modify = refuse_modify };
	struct adder a[4];
	pthread_t t[4];
	struct hmap_htab h;
	u64 k, got, ver, ver2, total = 0;
	int i;

	NEW_MAP(&h, 8, 8, 16, 0);
	for (i = 0; i < 4; i++) {
		a[i] = (struct adder){ .h = &h, .n = 40000, .delta = i + 1 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, adder_fn, &a[i]));
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (k = 0; k < 4; k++) {
		ASSERT_EQ(0, hmap_htab_lookup(&h, &k, &got));
		total += got;
		/* Each thread added its delta n/4 times to each counter. */
		EXPECT_EQ((1 + 2 + 3 + 4) * 10000, got);
	}
	EXPECT_EQ(10 * 40000, total);
	k = 0;
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &ver));
	EXPECT_EQ(-ESTALE, hmap_htab_write(&h, &k, &refuse));
	EXPECT_EQ(ver, refuse.version);
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &got, &ver2));
	EXPECT_EQ(ver, ver2);
	EXPECT_EQ(100000, got);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/*
 * An LRU map never refuses an insert for want of room: it evicts an entry
 * used long ago. Keys looked up between inserts stay; the count stays at
 * the limit; every eviction is counted.
 */
static void lru_churn(struct __test_metadata *_metadata, bool pool)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 100,
		.prealloc = pool, .lru = true,
	};
	struct hmap_htab h;
	u64 k, hot, v;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	for (k = 0; k < 2000; k++) {
		ASSERT_EQ(0, put(&h, k + 1000, HMAP_ANY));
		for (hot = 0; hot < 10 && k >= 10; hot++)
			ASSERT_EQ(0, hmap_htab_lookup(&h, &hot, &v));
		if (k < 10)
			ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	}
	EXPECT_EQ(100, hmap_htab_count(&h));
	EXPECT_EQ(2010 - 100, atomic_long_read(&h.stats.evictions));
	for (hot = 0; hot < 10; hot++)
		EXPECT_EQ(0, hmap_htab_lookup(&h, &hot, &v));
	/* NOEXIST still refuses a present key; nothing is evicted for it. */
	hot = 0;
	EXPECT_EQ(-EEXIST, put(&h, hot, HMAP_NOEXIST));
	EXPECT_EQ(2010 - 100, atomic_long_read(&h.stats.evictions));
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(lru_evicts_the_cold)
{
	lru_churn(_metadata, false);
}

TEST(lru_prealloc_evicts_the_cold)
{
	lru_churn(_metadata, true);
}

struct lru_writer {
	struct hmap_htab *h;
	u64 base;
	int err;
};

static void *lru_writer_fn(void *p)
{
	struct lru_writer *w = p;
	u64 k;

	rcu_register_thread();
	for (k = 0; k < 20000 && !w->err; k++)
		w->err = put(w->h, w->base + k, HMAP_ANY);
	rcu_unregister_thread();
	return NULL;
}

/* Inserts racing on a full LRU map: none fails, the count comes back. */
TEST(lru_racing_inserts_never_fail)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 500,
		.prealloc = true, .lru = true,
	};
	struct lru_writer w[4];
	pthread_t t[4];
	struct hmap_htab h;
	int i;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	for (i = 0; i < 4; i++) {
		w[i] = (struct lru_writer){ .h = &h, .base = (u64)i << 32 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, lru_writer_fn, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].err);
	}
	/* Each insert past the limit evicted, unless a racer had already. */
	EXPECT_LE(hmap_htab_count(&h), 500);
	EXPECT_GE(hmap_htab_count(&h), 496);
	EXPECT_EQ(80000 - hmap_htab_count(&h),
		  atomic_long_read(&h.stats.evictions));
	DESTROY_AND_CHECK_LEAKS(&h);
}

static int put_ttl(struct hmap_htab *h, u64 k, u64 flags, u64 deadline)
{
	u64 v = val_of(k);
	struct hmap_write w = { .flags = flags, .value = &v, .deadline = deadline };

	return hmap_htab_write(h, &k, &w);
}

/*
 * An entry past its deadline is gone for every command at once, and its
 * element goes when a command meets it or a sweep does.
 */
TEST(expired_entries_vanish)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 1000, .ttl = true,
	};
	struct hmap_write add = { .value = &add, .modify = add_modify };
	u64 k, v, next, one = 1, d, ver;
	struct hmap_htab h;
	u32 cursor = 0, i;
	u64 due = ~0ULL;
	bool end;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	/* Alive until the deadline, read off the clock. */
	d = ktime_get_ns() + 30 * 1000 * 1000;
	ASSERT_EQ(0, put_ttl(&h, 1, HMAP_ANY, d));
	ASSERT_EQ(0, put_ttl(&h, 2, HMAP_ANY, 0));
	k = 1;
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	/* A read-modify-write keeps the deadline. */
	add.ctx = &one;
	EXPECT_EQ(0, hmap_htab_write(&h, &k, &add));
	while (ktime_get_ns() <= d)
		usleep(1000);
	EXPECT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(-ENOENT, put_ttl(&h, 1, HMAP_EXIST, 0));
	add.flags = HMAP_EXIST;
	EXPECT_EQ(-ENOENT, hmap_htab_write(&h, &k, &add));
	/* The walk sees only key 2. */
	EXPECT_EQ(1, hmap_htab_lookup_batch(&h, NULL, &next, NULL, 10, &end));
	EXPECT_EQ(2, next);
	/* NOEXIST creates it anew, with a new version, in its old element. */
	EXPECT_EQ(0, hmap_htab_lookup_version(&h, &next, &v, &ver));
	EXPECT_EQ(0, put_ttl(&h, 1, HMAP_NOEXIST, 0));
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(val_of(1), v);
	EXPECT_EQ(1, atomic_long_read(&h.stats.expirations));
	EXPECT_EQ(2, hmap_htab_count(&h));
	/* Already past: a delete finds nothing, and removes the element. */
	ASSERT_EQ(0, put_ttl(&h, 1, HMAP_ANY, 1));
	EXPECT_EQ(-ENOENT, hmap_htab_delete(&h, &k));
	EXPECT_EQ(1, hmap_htab_count(&h));
	EXPECT_EQ(2, atomic_long_read(&h.stats.expirations));
	/* A sweep takes what no command meets, a bounded step at a time. */
	for (k = 100; k < 600; k++)
		ASSERT_EQ(0, put_ttl(&h, k, HMAP_ANY, 1));
	EXPECT_EQ(501, hmap_htab_count(&h));
	EXPECT_GE(hmap_htab_reclaim_expired(&h, &cursor, 8, &due), 0);
	EXPECT_EQ(8, cursor);
	/* Shrinks move buckets under the cursor: a pass or two suffices. */
	for (i = 0; i < 2 * 1024 / 8 && hmap_htab_count(&h) > 1; i++)
		hmap_htab_reclaim_expired(&h, &cursor, 8, &due);
	EXPECT_EQ(8 * (i + 1), cursor);
	EXPECT_EQ(1, hmap_htab_count(&h));
	EXPECT_EQ(502, atomic_long_read(&h.stats.expirations));
	k = 2;
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	/* A pass reports the earliest deadline of the entries it kept. */
	d = ktime_get_ns() + 1000 * 1000 * 1000;
	ASSERT_EQ(0, put_ttl(&h, 3, HMAP_ANY, d + 5));
	ASSERT_EQ(0, put_ttl(&h, 4, HMAP_ANY, d));
	due = ~0ULL;
	hmap_htab_reclaim_expired(&h, &cursor, hmap_htab_buckets(&h), &due);
	EXPECT_EQ(d, due);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* An LRU map with expiring entries evicts an expired one first. */
TEST(lru_evicts_the_expired_first)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 4, .ttl = true,
		.lru = true,
	};
	struct hmap_htab h;
	u64 k, v;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	ASSERT_EQ(0, put_ttl(&h, 0, HMAP_ANY, 0));
	ASSERT_EQ(0, put_ttl(&h, 1, HMAP_ANY, 0));
	ASSERT_EQ(0, put_ttl(&h, 2, HMAP_ANY, 0));
	/* The newest write, but expired. */
	ASSERT_EQ(0, put_ttl(&h, 3, HMAP_ANY, 1));
	ASSERT_EQ(0, put_ttl(&h, 4, HMAP_ANY, 0));
	for (k = 0; k < 5; k++)
		EXPECT_EQ(k == 3 ? -ENOENT : 0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(4, hmap_htab_count(&h));
	EXPECT_EQ(0, atomic_long_read(&h.stats.evictions));
	EXPECT_EQ(1, atomic_long_read(&h.stats.expirations));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/*
 * Many inserts racing for a tiny LRU map, where every evictor samples the
 * whole table and most lose: the count may run over for a moment, but the
 * next insert brings it back to the limit, so it cannot creep up.
 */
TEST(lru_count_does_not_creep)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 4, .lru = true,
	};
	struct lru_writer w[16];
	pthread_t t[16];
	struct hmap_htab h;
	int i;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	for (i = 0; i < 16; i++) {
		w[i] = (struct lru_writer){ .h = &h, .base = (u64)i << 32 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, lru_writer_fn, &w[i]));
	}
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].err);
	}
	TH_LOG("count %u after the race", hmap_htab_count(&h));
	EXPECT_EQ(0, put(&h, 1ULL << 40, HMAP_ANY));
	EXPECT_EQ(4, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* What a watch would have been told: op, key, value, version. */
struct seen {
	u32 op;
	u64 key, value, version;
};

static struct seen seen[64];
static u32 nseen;

static void record_change(struct hmap_htab *h, u32 op, const void *key,
			  const void *value, u64 version)
{
	struct seen *s = &seen[nseen++ % 64];

	s->op = op;
	s->key = key ? *(const u64 *)key : ~0ULL;
	s->value = value ? *(const u64 *)value : ~0ULL;
	s->version = version;
}

static bool saw(u32 i, u32 op, u64 key, u64 value)
{
	return i < nseen && seen[i].op == op && seen[i].key == key &&
	       seen[i].value == value;
}

/*
 * Every path that changes an entry tells the watcher, once, with the value
 * it wrote or removed and the entry's version; failed writes, lookups and
 * an unwatched map tell nothing.
 */
TEST(notify_sees_every_change)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 2, .ttl = true,
		.lru = true,
	};
	struct hmap_write add = { .value = &add, .modify = add_modify };
	u64 k = 1, v, ver, one = 1, due = ~0ULL;
	struct hmap_htab h;
	u32 cursor = 0;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	nseen = 0;
	ASSERT_EQ(0, put(&h, 9, HMAP_ANY));
	hmap_htab_set_notify(&h, record_change);
	ASSERT_EQ(0, put(&h, 1, HMAP_ANY));
	ASSERT_TRUE(saw(0, HMAP_EVENT_UPDATE, 1, val_of(1)));
	ASSERT_EQ(0, hmap_htab_lookup_version(&h, &k, &v, &ver));
	EXPECT_EQ(ver, seen[0].version);
	/* A replace in place, then a read-modify-write. */
	ASSERT_EQ(0, put(&h, 1, HMAP_EXIST));
	EXPECT_TRUE(saw(1, HMAP_EVENT_UPDATE, 1, val_of(1)));
	EXPECT_LT(ver, seen[1].version);
	add.ctx = &one;
	ASSERT_EQ(0, hmap_htab_write(&h, &k, &add));
	EXPECT_TRUE(saw(2, HMAP_EVENT_UPDATE, 1, val_of(1) + 1));
	/* Failures and lookups: nothing. */
	EXPECT_EQ(-EEXIST, put(&h, 1, HMAP_NOEXIST));
	k = 5;
	EXPECT_EQ(-ENOENT, hmap_htab_delete(&h, &k));
	EXPECT_EQ(-ENOENT, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(3, nseen);
	/* A full LRU map: the insert, then the eviction of key 9. */
	ASSERT_EQ(0, put(&h, 2, HMAP_ANY));
	EXPECT_TRUE(saw(3, HMAP_EVENT_UPDATE, 2, val_of(2)));
	EXPECT_TRUE(saw(4, HMAP_EVENT_EVICT, 9, val_of(9)));
	/* A delete carries the value removed. */
	k = 2;
	ASSERT_EQ(0, hmap_htab_delete(&h, &k));
	EXPECT_TRUE(saw(5, HMAP_EVENT_DELETE, 2, val_of(2)));
	/* Expired: met by a delete, taken over by a write, or swept. */
	ASSERT_EQ(0, put_ttl(&h, 3, HMAP_ANY, 1));
	k = 3;
	EXPECT_EQ(-ENOENT, hmap_htab_delete(&h, &k));
	EXPECT_TRUE(saw(7, HMAP_EVENT_EXPIRE, 3, val_of(3)));
	ASSERT_EQ(0, put_ttl(&h, 3, HMAP_ANY, 1));
	ASSERT_EQ(0, put_ttl(&h, 3, HMAP_NOEXIST, 0));
	EXPECT_TRUE(saw(9, HMAP_EVENT_EXPIRE, 3, val_of(3)));
	EXPECT_TRUE(saw(10, HMAP_EVENT_UPDATE, 3, val_of(3)));
	ASSERT_EQ(0, put_ttl(&h, 3, HMAP_ANY, 1));
	EXPECT_EQ(1, hmap_htab_reclaim_expired(&h, &cursor,
					       hmap_htab_buckets(&h), &due));
	EXPECT_TRUE(saw(12, HMAP_EVENT_EXPIRE, 3, val_of(3)));
	hmap_htab_clear(&h);
	EXPECT_TRUE(saw(13, HMAP_EVENT_CLEAR, ~0ULL, ~0ULL));
	EXPECT_EQ(14, nseen);
	/* Unwatched again: nothing more. */
	hmap_htab_set_notify(&h, NULL);
	ASSERT_EQ(0, put(&h, 4, HMAP_ANY));
	EXPECT_EQ(14, nseen);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* UPDATE with EXIST on an empty map: ENOENT, without allocating anything. */
TEST(exist_on_empty_map_allocates_nothing)
{
	struct hmap_htab h;

	NEW_MAP(&h, 8, 8, 100, 0);
	shim_fail_nth = 1;
	EXPECT_EQ(-ENOENT, put(&h, 1, HMAP_EXIST));
	EXPECT_EQ(1, shim_fail_nth);
	shim_fail_nth = 0;
	EXPECT_EQ(0, hmap_htab_buckets(&h));
	hmap_htab_clear(&h);
	EXPECT_EQ(-ENOENT, put(&h, 1, HMAP_EXIST));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/*
 * A writer stopped in the middle of replacing a value (preempted, on
 * PREEMPT_RT, with the element's count odd) must not keep a reader spinning:
 * the reader gives up its lockless copies and copies under the bucket lock,
 * which the stopped writer would hold. Before the fix this test never ended.
 */
TEST(reader_does_not_spin_on_a_stopped_writer)
{
	struct hmap_htab h;
	u64 k = 3, v = 0, keys[4], vals[4];
	struct hmap_elem *e;
	bool end;

	NEW_MAP(&h, 8, 8, 100, 0);
	ASSERT_EQ(0, put(&h, 3, HMAP_ANY));
	e = find_elem(&h, &k);
	ASSERT_NE(NULL, e);
	WRITE_ONCE(e->seq, e->seq + 1);
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(val_of(3), v);
	EXPECT_EQ(1, atomic_long_read(&h.stats.locked_reads));
	EXPECT_EQ(1, hmap_htab_lookup_batch(&h, NULL, keys, vals, 4, &end));
	EXPECT_EQ(val_of(3), vals[0]);
	EXPECT_EQ(2, atomic_long_read(&h.stats.locked_reads));
	WRITE_ONCE(e->seq, e->seq + 1);
	EXPECT_EQ(0, hmap_htab_lookup(&h, &k, &v));
	EXPECT_EQ(2, atomic_long_read(&h.stats.locked_reads));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* delete_if_value removes an entry only while it holds the value given. */
TEST(delete_if_value)
{
	struct hmap_htab h;
	u64 k = 5, v;

	NEW_MAP(&h, 8, 8, 100, 0);
	v = val_of(5);
	EXPECT_EQ(-ENOENT, hmap_htab_delete_if_value(&h, &k, &v));
	ASSERT_EQ(0, put(&h, 5, HMAP_ANY));
	v = 1;
	EXPECT_EQ(-EAGAIN, hmap_htab_delete_if_value(&h, &k, &v));
	EXPECT_EQ(1, hmap_htab_count(&h));
	v = val_of(5);
	EXPECT_EQ(0, hmap_htab_delete_if_value(&h, &k, &v));
	EXPECT_EQ(0, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/*
 * A user's budget inside the module's: a charge over either limit fails
 * with that budget's error and leaves both as they were.
 */
TEST(nested_budgets)
{
	u64 outer_limit = 1 << 20, inner_limit = 4096;
	struct hmap_budget outer = { .limit = &outer_limit, .err = -ENOMEM };
	struct hmap_budget inner = {
		.limit = &inner_limit, .parent = &outer, .err = -EDQUOT,
	};
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 100000,
		.budget = &inner,
	};
	struct hmap_htab h;
	u64 k;
	int ret;

	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	for (k = 0; !(ret = put(&h, k, HMAP_ANY)); k++)
		ASSERT_LT(k, 1000);
	EXPECT_EQ(-EDQUOT, ret);
	EXPECT_EQ(atomic64_read(&inner.used), atomic64_read(&outer.used));
	EXPECT_LE(atomic64_read(&inner.used), inner_limit);
	inner_limit = 1 << 30;
	outer_limit = atomic64_read(&outer.used);
	EXPECT_EQ(-ENOMEM, put(&h, k, HMAP_ANY));
	EXPECT_EQ(atomic64_read(&inner.used), atomic64_read(&outer.used));
	DESTROY_AND_CHECK_LEAKS(&h);
	EXPECT_EQ(0, atomic64_read(&inner.used));
	EXPECT_EQ(0, atomic64_read(&outer.used));
}

/*
 * Churn on a full pool map far beyond its spares: deleted elements come back
 * after their grace period, and inserts wait for them rather than fail.
 */
TEST(pool_recycles_after_grace_period)
{
	struct hmap_htab h;
	u64 k, v, round;

	NEW_MAP_POOL(&h, 8, 8, 64, 0, true);
	for (round = 0; round < 200; round++) {
		for (k = 0; k < 64; k++)
			ASSERT_EQ(0, put(&h, k + round, HMAP_NOEXIST));
		EXPECT_EQ(64, hmap_htab_count(&h));
		for (k = 0; k < 64; k++) {
			u64 key = k + round;

			ASSERT_EQ(0, hmap_htab_lookup(&h, &key, &v));
			ASSERT_EQ(val_of(key), v);
			ASSERT_EQ(0, hmap_htab_delete(&h, &key));
		}
		if (round % 50 == 49)
			hmap_htab_clear(&h);
	}
	EXPECT_EQ(0, hmap_htab_count(&h));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* Deletes in a burst share grace periods: the slab is refilled all the same. */
TEST(retired_elements_are_freed)
{
	struct hmap_htab h;
	u64 k;

	NEW_MAP(&h, 8, 8, 100000, 0);
	for (k = 0; k < 50000; k++)
		ASSERT_EQ(0, put(&h, k, HMAP_ANY));
	for (k = 0; k < 50000; k++)
		ASSERT_EQ(0, hmap_htab_delete(&h, &k));
	/* Every batch ends within a few grace periods, leaving nothing queued. */
	settle(&h);
	EXPECT_EQ(0, READ_ONCE(h.rc.busy));
	EXPECT_EQ(NULL, READ_ONCE(h.rc.open));
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST_HARNESS_MAIN
