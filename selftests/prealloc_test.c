// SPDX-License-Identifier: GPL-2.0
/*
 * HMAP_F_PREALLOC: the whole pool and the bucket array are taken and
 * charged at creation and kept through CLEAR, inserts then never allocate,
 * a full map still replaces in place, deleted elements come back after their
 * grace period however hard the map churns, and a pool beyond max_bytes is
 * refused at creation.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

/* Header, 8-byte key, 8-byte value: see HMAP_F_PREALLOC. */
#define ELEM_8_8	48

static int put(int fd, __u64 k, __u64 v, __u64 flags)
{
	return hmap_update(fd, &k, &v, flags);
}

/* Whether /proc/self/fdinfo/FD has @line, exactly. */
static bool fdinfo_says(int fd, const char *line)
{
	char path[64], buf[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(buf, sizeof(buf), f))
		found = !strcmp(buf, line);
	fclose(f);
	return found;
}

static int prealloc_map(__u32 max)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_PREALLOC };

	return hmap_create("pool", 8, 8, max, &o);
}

TEST(pool_is_taken_at_creation)
{
	struct hmap_info info;
	int fd = prealloc_map(1000);
	__u64 k, bytes;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(HMAP_F_PREALLOC, info.map_flags);
	EXPECT_TRUE(fdinfo_says(fd, "map_flags:\t0x2\n"));
	EXPECT_EQ(0, info.count);
	/* 1000 entries and at least as many spares, before any insert... */
	EXPECT_GE(info.bytes, 2000 * ELEM_8_8);
	/* ...and the bucket array for all of them, which it keeps. */
	EXPECT_EQ(1024, info.buckets);
	EXPECT_EQ(1, fdinfo_num(fd, "tables_installed"));
	bytes = info.bytes;
	for (k = 0; k < 1000; k++)
		ASSERT_EQ(0, put(fd, k, k * 10, HMAP_NOEXIST));
	ASSERT_EQ(0, hmap_info(fd, &info));
	/* Inserts took nothing more; a clear gives nothing back. */
	EXPECT_EQ(bytes, info.bytes);
	EXPECT_EQ(1024, info.buckets);
	EXPECT_EQ(0, hmap_clear(fd));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(bytes, info.bytes);
	EXPECT_EQ(1024, info.buckets);
	EXPECT_EQ(0, info.count);
	for (k = 0; k < 1000; k++)
		ASSERT_EQ(0, put(fd, k, k * 10, HMAP_NOEXIST));
	EXPECT_EQ(1, fdinfo_num(fd, "tables_installed"));
	EXPECT_EQ(0, fdinfo_num(fd, "resizes"));
	close(fd);
}

TEST(full_pool_map)
{
	struct hmap_info info;
	int fd = prealloc_map(100);
	__u64 k, v;

	ASSERT_LE(0, fd);
	for (k = 0; k < 100; k++)
		ASSERT_EQ(0, put(fd, k, k * 10, HMAP_ANY));
	EXPECT_EQ(-E2BIG, put(fd, 100, 1, HMAP_ANY));
	/* Replacing needs no element: a full map takes it. */
	for (k = 0; k < 100; k++)
		ASSERT_EQ(0, put(fd, k, k * 20, HMAP_EXIST));
	for (k = 0; k < 100; k++) {
		ASSERT_EQ(0, hmap_lookup(fd, &k, &v));
		ASSERT_EQ(k * 20, v);
	}
	k = 7;
	ASSERT_EQ(0, hmap_delete(fd, &k));
	EXPECT_EQ(0, put(fd, 100, 1, HMAP_NOEXIST));
	EXPECT_EQ(-E2BIG, put(fd, 101, 1, HMAP_NOEXIST));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(100, info.count);
	close(fd);
}

/*
 * A small map of small elements still has 64 KiB of spares: an insert that
 * finds none waits a grace period, and a one-entry LRU map evicts on every
 * insert. With one spare per CPU it took 6 ms per insert on the debug
 * kernel, and the fuzzer's batches of 1000 inserts looked like a hang.
 */
TEST(small_maps_have_spares)
{
	struct hmap_create_opts o = {
		.sz = sizeof(o), .flags = HMAP_F_PREALLOC | HMAP_F_LRU,
	};
	struct hmap_info info;
	__u64 k, v;
	int fd = hmap_create("pool", 8, 8, 1, &o);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_GE(info.bytes, (1 + 1024) * ELEM_8_8);
	for (k = 0; k < 3000; k++)
		ASSERT_EQ(0, put(fd, k, k, HMAP_NOEXIST));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(2999, info.evictions);
	k = 2999;
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(2999, v);
	close(fd);
	/* Large elements: the spares stay few. */
	fd = hmap_create("pool", 8, 65536, 1, &o);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_GT(info.bytes, 2 * 65536);
	EXPECT_LT(info.bytes, 1024 * 65536);
	close(fd);
}

/*
 * Far more deletes and inserts than the pool has spares, faster than grace
 * periods end: the inserts wait for deleted elements to come back, and never
 * fail or hand out an element a reader could still see.
 */
TEST(churn_beyond_the_spares)
{
	int fd = prealloc_map(64);
	__u64 k, v, round;

	ASSERT_LE(0, fd);
	for (round = 0; round < 100; round++) {
		for (k = 0; k < 64; k++)
			ASSERT_EQ(0, put(fd, round * 64 + k, k, HMAP_NOEXIST));
		for (k = 0; k < 64; k++) {
			__u64 key = round * 64 + k;

			ASSERT_EQ(0, hmap_lookup_and_delete(fd, &key, &v));
			ASSERT_EQ(k, v);
		}
	}
	close(fd);
}

struct churn {
	int fd;
	atomic_bool stop;
	atomic_long torn;
	long reads;
};

/* Every key k holds k * 1000 + n: a torn value would not. */
static void *reader(void *p)
{
	struct churn *c = p;
	__u64 k = 0, v;

	while (!atomic_load(&c->stop)) {
		k = (k + 7) % 64;
		if (!hmap_lookup(c->fd, &k, &v) && v / 1000 != k)
			atomic_fetch_add(&c->torn, 1);
		c->reads++;
	}
	return NULL;
}

/* In-place replaces and pool recycling under a concurrent reader. */
TEST(readers_see_whole_values)
{
	struct churn c = { .fd = prealloc_map(64) };
	pthread_t th;
	__u64 k, n;

	ASSERT_LE(0, c.fd);
	for (k = 0; k < 64; k++)
		ASSERT_EQ(0, put(c.fd, k, k * 1000, HMAP_NOEXIST));
	ASSERT_EQ(0, pthread_create(&th, NULL, reader, &c));
	for (n = 0; n < 20000; n++) {
		k = n % 64;
		if (n % 3) {
			ASSERT_EQ(0, put(c.fd, k, k * 1000 + n % 1000, HMAP_EXIST));
		} else {
			ASSERT_EQ(0, hmap_delete(c.fd, &k));
			ASSERT_EQ(0, put(c.fd, k, k * 1000 + n % 1000, HMAP_NOEXIST));
		}
	}
	atomic_store(&c.stop, true);
	pthread_join(th, NULL);
	EXPECT_EQ(0, atomic_load(&c.torn));
	EXPECT_GT(c.reads, 0);
	close(c.fd);
}

/* The pool is charged at once: one that exceeds max_bytes is ENOMEM. */
TEST(pool_beyond_max_bytes_is_enomem)
{
	long long used, old;
	char num[32];
	int fd;

	if (geteuid())
		SKIP(return, "needs root to set module parameters");
	/* Maps of earlier tests must not free their bytes under the limit. */
	settle_frees();
	old = read_num(HMAP_PARAM("max_bytes"), NULL);
	used = stat_num("bytes_used");
	snprintf(num, sizeof(num), "%lld", used + 100000);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_bytes"), num));
	/* 10000 entries need 400000 bytes and more. */
	EXPECT_EQ(-ENOMEM, prealloc_map(10000));
	/* Without the flag the same map is made; its inserts meet the limit. */
	fd = hmap_create("slab", 8, 8, 10000, NULL);
	EXPECT_LE(0, fd);
	snprintf(num, sizeof(num), "%lld", old);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_bytes"), num));
	close(fd);
	fd = prealloc_map(10000);
	EXPECT_LE(0, fd);
	close(fd);
}

TEST_HARNESS_MAIN
