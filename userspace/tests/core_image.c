// SPDX-License-Identifier: GPL-2.0
/*
 * The image of an HMAP_F_MMAP map, in userspace: the real table core and
 * hmap_image.c writing, libhmap's own lock-free reader (userspace/lib/
 * mapped.c) reading, under ASan and UBSan. The same pair the VM's
 * mmap_test runs through the module, without a kernel, in seconds:
 *
 * - after every step of a seeded random run the image agrees with a model
 *   and with the table (value and version of every key);
 * - readers against writers that replace, delete and re-insert the same
 *   keys never see a torn value, always find the keys that stay, and visit
 *   a bounded number of slots per lookup;
 * - a reader over an image of random bytes (a valid header, any content)
 *   never reads outside it and never loops: ASan and the step count tell;
 * - chains are bounded (EMLINK), and every failed allocation of a mapped
 *   map's creation leaves nothing behind.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "core_common.h"
#include "hmap_image.h"
#include "../lib/mapped.h"

static u64 rnd(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static u64 seed_from_env(void)
{
	const char *e = getenv("HMAP_SEED");

	return e ? strtoull(e, NULL, 0) : 0x5eed1234abcdULL;
}

static void new_mapped(struct __test_metadata *_metadata, struct hmap_htab *h,
		       u32 ks, u32 vs, u32 max)
{
	struct hmap_htab_params p = {
		.key_size = ks, .value_size = vs, .max_entries = max,
		.mmap = true,
	};

	ASSERT_EQ(0, hmap_htab_init(h, &p));
	ASSERT_NE(NULL, h->image);
}

static void view_of(struct __test_metadata *_metadata, struct hmap_htab *h,
		    struct libhmap_view *v)
{
	ASSERT_EQ(0, libhmap_view_init(v, hmap_image_vaddr(h->image),
				       h->image->bytes, h->key_size,
				       h->value_size));
}

TEST(flags)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = 8, .mmap = true,
	};
	struct hmap_htab h;

	p.lru = true;
	EXPECT_EQ(-EINVAL, hmap_htab_init(&h, &p));
	p.lru = false;
	p.ttl = true;
	EXPECT_EQ(-EINVAL, hmap_htab_init(&h, &p));
	p.ttl = false;
	ASSERT_EQ(0, hmap_htab_init(&h, &p));
	EXPECT_TRUE(hmap_htab_prealloc(&h));
	EXPECT_GE(hmap_htab_mem_bytes(&h), h.image->bytes);
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* A seeded random run, the image checked against a model after each step. */
static void model_run(struct __test_metadata *_metadata, u32 ks, u32 vs)
{
	enum { NKEYS = 96, STEPS = 4000 };
	static u8 model[NKEYS][1024], key[512], val[1024], out[1024];
	static bool present[NKEYS];
	u64 s = seed_from_env(), ver, ver2;
	struct libhmap_walk w;
	struct libhmap_view v;
	struct hmap_htab h;
	u32 i, k, j;
	int ret;

	memset(present, 0, sizeof(present));
	new_mapped(_metadata, &h, ks, vs, NKEYS);
	view_of(_metadata, &h, &v);
	for (i = 0; i < STEPS; i++) {
		k = rnd(&s) % NKEYS;
		memset(key, 0, ks);
		memcpy(key, &k, ks < 4 ? ks : 4);
		if (ks < 4 && k >= 1U << (8 * ks))
			continue;
		for (j = 0; j < vs; j++)
			val[j] = (u8)rnd(&s);
		switch (rnd(&s) % 4) {
		case 0:
		case 1:
			ret = hmap_htab_update(&h, key, val, HMAP_ANY);
			ASSERT_EQ(0, ret) TH_LOG("seed %#llx step %u", (unsigned long long)seed_from_env(), i);
			memcpy(model[k], val, vs);
			present[k] = true;
			break;
		case 2:
			ret = hmap_htab_delete(&h, key);
			ASSERT_EQ(present[k] ? 0 : -ENOENT, ret);
			present[k] = false;
			break;
		default:
			if (!(rnd(&s) % 64)) {
				hmap_htab_clear(&h);
				memset(present, 0, sizeof(present));
			}
			break;
		}
		/* Every key: the image says what the model and the table say. */
		for (k = 0; k < NKEYS; k++) {
			if (ks < 4 && k >= 1U << (8 * ks))
				break;
			memset(key, 0, ks);
			memcpy(key, &k, ks < 4 ? ks : 4);
			memset(&w, 0, sizeof(w));
			ret = libhmap_view_lookup(&v, key, out, &ver, &w);
			ASSERT_EQ(present[k] ? 0 : -ENOENT, ret)
				TH_LOG("seed %#llx step %u key %u",
				       (unsigned long long)seed_from_env(), i, k);
			/* Nobody writes meanwhile: one walk, no retry. */
			ASSERT_EQ(1, w.attempts);
			ASSERT_EQ(0, w.retries);
			if (!present[k])
				continue;
			ASSERT_EQ(0, memcmp(out, model[k], vs));
			ASSERT_EQ(0, hmap_htab_lookup_version(&h, key, val, &ver2));
			ASSERT_EQ(ver2, ver);
		}
	}
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST(model_8_8)
{
	model_run(_metadata, 8, 8);
}

TEST(model_1_1)
{
	model_run(_metadata, 1, 1);
}

TEST(model_13_300)
{
	model_run(_metadata, 13, 300);
}

TEST(model_4_1024)
{
	model_run(_metadata, 4, 1024);
}

/* ---- readers against writers ---- */

#define STABLE	6
#define CHURN	10
#define VWORDS	512

struct race {
	struct hmap_htab h;
	struct libhmap_view v;
	atomic_int stop;
	atomic_long torn, missing, lookups, writes, max_steps, retries;
};

static void stamp(u64 *val, u64 key, u64 gen)
{
	int i;

	for (i = 0; i < VWORDS; i++)
		val[i] = key << 40 | gen << 8 | i;
}

static bool whole(const u64 *val, u64 key)
{
	u64 gen = (val[0] >> 8) & 0xffffffffULL;
	int i;

	for (i = 0; i < VWORDS; i++)
		if (val[i] != (key << 40 | gen << 8 | i))
			return false;
	return true;
}

static void *writer(void *arg)
{
	struct race *r = arg;
	u64 s = seed_from_env() | 1, val[VWORDS], k, gen = 1;

	while (!atomic_load(&r->stop)) {
		k = rnd(&s) % (STABLE + CHURN);
		stamp(val, k, gen++ & 0xffffffff);
		if (k < STABLE || rnd(&s) % 3 == 0)
			hmap_htab_update(&r->h, &k, val, HMAP_ANY);
		else if (rnd(&s) % 2)
			hmap_htab_delete(&r->h, &k);
		else
			hmap_htab_update(&r->h, &k, val, HMAP_NOEXIST);
		atomic_fetch_add(&r->writes, 1);
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	struct libhmap_walk w;
	u64 val[VWORDS], k, ver, i;
	int ret;

	/* Until the writers have done enough, within a bound of lookups. */
	for (i = 0; i < 4000000 &&
	     (i < 300000 || atomic_load(&r->writes) < 100000); i++) {
		k = i % (STABLE + CHURN);
		memset(&w, 0, sizeof(w));
		ret = libhmap_view_lookup(&r->v, &k, val, &ver, &w);
		if (ret == -EAGAIN) {
			/* libhmap asks the kernel then: so does this test. */
			ret = hmap_htab_lookup_version(&r->h, &k, val, &ver);
		}
		if (!ret && (!whole(val, k) || !ver))
			atomic_fetch_add(&r->torn, 1);
		if (ret && k < STABLE)
			atomic_fetch_add(&r->missing, 1);
		atomic_fetch_add(&r->retries, w.retries);
		if ((long)w.steps > atomic_load(&r->max_steps))
			atomic_store(&r->max_steps, w.steps);
		atomic_fetch_add(&r->lookups, 1);
	}
	return NULL;
}

TEST(readers_against_slot_reuse)
{
	struct race *r = calloc(1, sizeof(*r));
	pthread_t wt[2], rt[2];
	u64 val[VWORDS], k;
	int i;

	ASSERT_NE(NULL, r);
	/* 16 entries in 16 buckets: long chains, slots reused at once. */
	new_mapped(_metadata, &r->h, 8, sizeof(val), 16);
	view_of(_metadata, &r->h, &r->v);
	for (k = 0; k < STABLE + CHURN; k++) {
		stamp(val, k, 0);
		ASSERT_EQ(0, hmap_htab_update(&r->h, &k, val, HMAP_ANY));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer, r));
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, reader, r));
	}
	for (i = 0; i < 2; i++)
		pthread_join(rt[i], NULL);
	atomic_store(&r->stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(wt[i], NULL);
	TH_LOG("%ld lookups against %ld writes; %ld walks retried; most slots in one lookup %ld",
	       atomic_load(&r->lookups), atomic_load(&r->writes),
	       atomic_load(&r->retries), atomic_load(&r->max_steps));
	EXPECT_EQ(0, atomic_load(&r->torn));
	EXPECT_EQ(0, atomic_load(&r->missing));
	EXPECT_GE((long)HMAP_MAPPED_TRIES * (HMAP_IMAGE_CHAIN_MAX + 1),
		  atomic_load(&r->max_steps));
	DESTROY_AND_CHECK_LEAKS(&r->h);
	free(r);
}

/*
 * One thread reading through both the table (LOOKUP) and the image never
 * sees an older state after a newer one, in either order: the writer only
 * ever raises the value, and deletes and re-inserts it higher.
 */
struct mono {
	struct hmap_htab h;
	struct libhmap_view v;
	atomic_int stop;
};

static void *mono_writer(void *arg)
{
	struct mono *m = arg;
	u64 k = 1, val = 1, other;

	while (!atomic_load(&m->stop)) {
		val++;
		/* Deletes the value val - 1, which is 6 modulo 7. */
		if (val % 7 == 0) {
			hmap_htab_delete(&m->h, &k);
			val++;
		}
		hmap_htab_update(&m->h, &k, &val, HMAP_ANY);
		/* Slot reuse under the reader, in the same bucket too. */
		other = 2 + val % 3;
		hmap_htab_update(&m->h, &other, &val, HMAP_ANY);
		hmap_htab_delete(&m->h, &other);
	}
	return NULL;
}

/*
 * Checks one observation of key 1 against what the thread saw before: the
 * writer stores rising values and deletes only values v with v % 7 == 6
 * (see mono_writer()), so once the key was seen absent, none of the
 * values up to the first such one at or above the last seen may come back.
 */
static bool mono_ok(int ret, u64 v, u64 *last, u64 *floor)
{
	if (ret == -ENOENT) {
		*floor = *last + (6 + 7 - *last % 7) % 7;
		return true;
	}
	if (v < *last || (*floor && v <= *floor))
		return false;
	*last = v;
	return true;
}

TEST(table_and_image_in_order)
{
	struct mono *m = calloc(1, sizeof(*m));
	u64 k = 1, v, last = 0, floor = 0, seen = 0, backwards = 0, i;
	struct libhmap_walk w;
	pthread_t t;
	int ret;

	ASSERT_NE(NULL, m);
	new_mapped(_metadata, &m->h, 8, 8, 4);
	view_of(_metadata, &m->h, &m->v);
	v = 1;
	ASSERT_EQ(0, hmap_htab_update(&m->h, &k, &v, HMAP_ANY));
	ASSERT_EQ(0, pthread_create(&t, NULL, mono_writer, m));
	/* Table and image in turn: each order, a million times. */
	for (i = 0; i < 2000000; i++) {
		if (i % 2) {
			ret = libhmap_view_lookup(&m->v, &k, &v, NULL, &w);
			if (ret == -EAGAIN)
				continue;
		} else {
			ret = hmap_htab_lookup(&m->h, &k, &v);
		}
		seen += !ret;
		if (!mono_ok(ret, v, &last, &floor))
			backwards++;
	}
	atomic_store(&m->stop, 1);
	pthread_join(t, NULL);
	TH_LOG("%llu lookups found the key, up to value %llu",
	       (unsigned long long)seen, (unsigned long long)last);
	EXPECT_EQ(0, backwards);
	DESTROY_AND_CHECK_LEAKS(&m->h);
	free(m);
}

/*
 * Whatever the image holds, a lookup stays inside it and ends: an image of
 * random bytes behind a valid header, in an allocation of exactly its size
 * so that ASan sees a read one byte past it.
 */
TEST(random_image_bounded)
{
	u32 ks = 8, vs = 24, buckets = 64, slots = 200;
	u64 s = seed_from_env(), bytes, key, ver, n;
	struct hmap_mmap_header hdr = { 0 };
	struct libhmap_walk w;
	struct libhmap_view v;
	u8 out[24], *img;
	u32 i, round;
	int ret;

	bytes = hmap_image_size(ks, vs, slots, buckets);
	img = malloc(bytes);
	ASSERT_NE(NULL, img);
	for (round = 0; round < 200; round++) {
		for (n = 0; n < bytes; n += 8) {
			u64 r = rnd(&s);

			/* Small indices half the time, so that chains go on. */
			if (r & 1)
				r = (r >> 8) % (slots + 4) | ((r >> 40) % 3 ? 0 : 1ULL << 31);
			memcpy(img + n, &r, 8);
		}
		/* The header of the real layout, taken from a real image. */
		{
			struct hmap_image *real = hmap_image_create(ks, vs, slots,
								   buckets, 7);

			ASSERT_FALSE(IS_ERR(real));
			memcpy(&hdr, real->hdr, sizeof(hdr));
			hmap_image_free(real);
		}
		ASSERT_EQ(bytes, hdr.mmap_bytes);
		memcpy(img, &hdr, sizeof(hdr));
		ASSERT_EQ(0, libhmap_view_init(&v, (void *)img, bytes, ks, vs));
		for (i = 0; i < 500; i++) {
			key = rnd(&s) % 64;
			memset(&w, 0, sizeof(w));
			ret = libhmap_view_lookup(&v, &key, out, &ver, &w);
			ASSERT_TRUE(ret == 0 || ret == -ENOENT || ret == -EAGAIN);
			ASSERT_GE((u64)HMAP_MAPPED_TRIES * (HMAP_IMAGE_CHAIN_MAX + 1),
				  w.steps);
		}
	}
	/* A header that lies about sizes is refused before any walk. */
	hdr.slots = 1U << 30;
	memcpy(img, &hdr, sizeof(hdr));
	EXPECT_EQ(-EPROTO, libhmap_view_init(&v, (void *)img, bytes, ks, vs));
	free(img);
}

TEST(chain_limit)
{
	struct hmap_htab h;
	u32 keys[HMAP_IMAGE_CHAIN_MAX + 1], n = 0, k, b0;
	u64 val = 1;

	new_mapped(_metadata, &h, 4, 8, 4096);
	k = 0;
	b0 = libhmap_key_hash(&k, 4, h.seed) & h.image->bucket_mask;
	for (k = 0; n < HMAP_IMAGE_CHAIN_MAX + 1; k++)
		if ((libhmap_key_hash(&k, 4, h.seed) & h.image->bucket_mask) == b0)
			keys[n++] = k;
	for (n = 0; n < HMAP_IMAGE_CHAIN_MAX; n++)
		ASSERT_EQ(0, hmap_htab_update(&h, &keys[n], &val, HMAP_ANY));
	EXPECT_EQ(-EMLINK, hmap_htab_update(&h, &keys[n], &val, HMAP_ANY));
	EXPECT_EQ(HMAP_IMAGE_CHAIN_MAX, hmap_htab_count(&h));
	EXPECT_EQ(-ENOENT, hmap_htab_lookup(&h, &keys[n], &val));
	ASSERT_EQ(0, hmap_htab_delete(&h, &keys[0]));
	EXPECT_EQ(0, hmap_htab_update(&h, &keys[n], &val, HMAP_ANY));
	DESTROY_AND_CHECK_LEAKS(&h);
}

/* Every allocation of a mapped map's creation, failed in turn: no leak. */
TEST(fail_nth_create)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 64, .max_entries = 100, .mmap = true,
	};
	struct hmap_htab h;
	int n, ret;

	for (n = 1; n < 64; n++) {
		shim_fail_nth = n;
		ret = hmap_htab_init(&h, &p);
		shim_fail_nth = 0;
		if (!ret)
			break;
		ASSERT_EQ(-ENOMEM, ret);
		ASSERT_EQ(0, __lsan_do_recoverable_leak_check());
	}
	ASSERT_EQ(0, ret);
	TH_LOG("creation fails cleanly at each of its %d allocations", n - 1);
	EXPECT_LE(3, n - 1);
	DESTROY_AND_CHECK_LEAKS(&h);
}

TEST_HARNESS_MAIN
