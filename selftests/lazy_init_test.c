// SPDX-License-Identifier: GPL-2.0
/*
 * Pattern: once-only lazy initialisation. A map gets its bucket array on its
 * first insert, not before; threads racing that first insert install exactly
 * one array, and the losers' arrays are freed (the module's byte count comes
 * back to where it was).
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

TEST(nothing_before_the_first_insert)
{
	struct hmap_info info;
	__u64 k = 1, v;
	int fd = hmap_create("lazy", 8, 8, 1000, NULL);

	ASSERT_LE(0, fd);
	/* Reads, deletes and clears of an empty map allocate nothing. */
	EXPECT_EQ(-ENOENT, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(-ENOENT, hmap_delete(fd, &k));
	EXPECT_EQ(-ENOENT, hmap_lookup_and_delete(fd, &k, &v));
	EXPECT_EQ(-ENOENT, hmap_get_next_key(fd, NULL, &v));
	EXPECT_EQ(0, hmap_clear(fd));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.buckets);
	EXPECT_EQ(0, info.bytes);
	EXPECT_EQ(0, fdinfo_num(fd, "tables_installed"));
	/*
	 * EXIST on an empty map has nothing to replace: ENOENT, and nothing
	 * allocated for it (it once installed a table, and could fail with
	 * ENOMEM instead of ENOENT).
	 */
	EXPECT_EQ(-ENOENT, hmap_update(fd, &k, &k, HMAP_EXIST));
	EXPECT_EQ(0, fdinfo_num(fd, "tables_installed"));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.bytes);
	/* The first insert installs one, once. */
	EXPECT_EQ(0, hmap_update(fd, &k, &k, 0));
	EXPECT_EQ(1, fdinfo_num(fd, "tables_installed"));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(8, info.buckets);
	/* A clear drops the array; the next insert installs a new one. */
	EXPECT_EQ(0, hmap_clear(fd));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.buckets);
	EXPECT_EQ(0, hmap_update(fd, &k, &k, 0));
	EXPECT_EQ(2, fdinfo_num(fd, "tables_installed"));
	close(fd);
}

#define NTHREADS 8
#define PER_THREAD 4

struct racer {
	int fd, id, err;
	pthread_barrier_t *go;
};

static void *first_insert(void *p)
{
	struct racer *r = p;
	__u64 k, v;

	pthread_barrier_wait(r->go);
	for (k = r->id * PER_THREAD; k < (r->id + 1) * PER_THREAD; k++) {
		v = k + 100;
		if (hmap_update(r->fd, &k, &v, HMAP_NOEXIST))
			r->err++;
	}
	return NULL;
}

TEST(racing_first_inserts_install_one_table)
{
	struct racer r[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_t go;
	struct hmap_info info;
	long long bytes0;
	int round, i;
	__u64 k, v;

	/* Earlier tests' maps may still be waiting for their grace period. */
	settle_frees();
	bytes0 = stat_num("bytes_used");
	for (round = 0; round < 30; round++) {
		int fd = hmap_create("race", 8, 8, 64, NULL);

		ASSERT_LE(0, fd);
		pthread_barrier_init(&go, NULL, NTHREADS);
		for (i = 0; i < NTHREADS; i++) {
			r[i] = (struct racer){ fd, i, 0, &go };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, first_insert, &r[i]));
		}
		for (i = 0; i < NTHREADS; i++) {
			pthread_join(th[i], NULL);
			EXPECT_EQ(0, r[i].err);
		}
		pthread_barrier_destroy(&go);
		EXPECT_EQ(1, fdinfo_num(fd, "tables_installed"));
		ASSERT_EQ(0, hmap_info(fd, &info));
		EXPECT_EQ(NTHREADS * PER_THREAD, info.count);
		for (k = 0; k < NTHREADS * PER_THREAD; k++) {
			ASSERT_EQ(0, hmap_lookup(fd, &k, &v));
			ASSERT_EQ(k + 100, v);
		}
		close(fd);
	}
	/* Every table, installed or lost in the race, was given back. */
	if (bytes0 >= 0) {
		settle_frees();
		EXPECT_EQ(bytes0, stat_num("bytes_used"));
	}
}

TEST_HARNESS_MAIN
