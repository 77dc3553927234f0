// SPDX-License-Identifier: GPL-2.0
/*
 * HMAP_F_LRU maps: inserts into a full map evict instead of failing, from
 * one process or many at once, and on a skewed trace the map keeps the hot
 * keys about as well as an exact LRU cache of the same size would.
 */
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "hmap_util.h"
#include "lru_sim.h"

static int lru_map(__u32 max, __u32 flags)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_LRU | flags };

	return hmap_create("lru", 8, 8, max, &o);
}

/* A full LRU map takes every insert, evicting one entry for each. */
TEST(full_map_evicts_instead_of_e2big)
{
	struct hmap_info info;
	__u64 k, v;
	int fd = lru_map(1000, 0), plain;

	ASSERT_LE(0, fd);
	for (k = 0; k < 20000; k++) {
		v = k * 3;
		ASSERT_EQ(0, hmap_update(fd, &k, &v, HMAP_ANY));
	}
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(1000, info.count);
	EXPECT_EQ(19000, info.evictions);
	EXPECT_TRUE(info.map_flags & HMAP_F_LRU);
	EXPECT_EQ(19000, fdinfo_num(fd, "evictions"));
	/* The last key inserted is there: it was just used. */
	k = 19999;
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(19999 * 3, v);
	/* ADD with create evicts too; a plain map refuses the same insert. */
	k = 50000;
	EXPECT_EQ(0, hmap_add(fd, &k, 5, HMAP_ADD_CREATE, NULL, &v));
	EXPECT_EQ(5, v);
	plain = hmap_create("plain", 8, 8, 1, NULL);
	ASSERT_LE(0, plain);
	EXPECT_EQ(0, hmap_update(plain, &k, &v, HMAP_ANY));
	k++;
	EXPECT_EQ(-E2BIG, hmap_update(plain, &k, &v, HMAP_ANY));
	close(plain);
	close(fd);
}

/* Unknown flags are still refused beside HMAP_F_LRU. */
TEST(create_flags)
{
	struct hmap_create c = {
		.size = sizeof(c), .key_size = 8, .value_size = 8,
		.max_entries = 4, .flags = HMAP_F_LRU | 0x80000000,
	};
	int dev = open_dev();

	ASSERT_LE(0, dev);
	EXPECT_EQ(-EINVAL, xioctl(dev, HMAP_IOC_CREATE, &c));
	c.flags = HMAP_F_LRU | HMAP_F_PREALLOC;
	c.size = sizeof(c);
	EXPECT_EQ(0, xioctl(dev, HMAP_IOC_CREATE, &c) < 0);
	close(dev);
}

/*
 * Four processes insert distinct keys into one full prealloc LRU map at
 * once: none ever sees E2BIG, and the count ends at the limit or a few
 * entries below it (racing evictions).
 */
TEST(racing_processes_never_see_e2big)
{
	struct hmap_info info;
	int fd = lru_map(256, HMAP_F_PREALLOC), p, status, bad = 0;
	pid_t pid[4];

	ASSERT_LE(0, fd);
	for (p = 0; p < 4; p++) {
		pid[p] = fork();
		ASSERT_LE(0, pid[p]);
		if (!pid[p]) {
			__u64 k, v = 1;
			int err;

			for (k = 0; k < 3000; k++) {
				__u64 key = ((__u64)p << 32) | k;

				err = hmap_update(fd, &key, &v, HMAP_ANY);
				if (err)
					_exit(-err);
			}
			_exit(0);
		}
	}
	for (p = 0; p < 4; p++) {
		ASSERT_EQ(pid[p], waitpid(pid[p], &status, 0));
		bad += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_LE(info.count, 256);
	EXPECT_GE(info.count, 250);
	EXPECT_EQ(12000 - info.count, info.evictions);
	close(fd);
}

#define TRACE_KEYS	10000
#define TRACE_LEN	40000
#define CACHE		1000

/*
 * A cache in front of a slow store, on a Zipf(0.99) trace: look the key up,
 * insert it on a miss. The hit rate is reported beside an exact LRU cache
 * of the same size on the same trace, and must be close to it: far above
 * what a policy that ignored use would keep.
 */
TEST(hit_rate_near_exact_lru)
{
	uint32_t *trace = malloc(TRACE_LEN * sizeof(*trace));
	uint32_t i, hits = 0, exact;
	struct hmap_info info;
	int fd = lru_map(CACHE, 0);
	double rate, exact_rate;
	__u64 k, v;

	ASSERT_NE(NULL, trace);
	ASSERT_LE(0, fd);
	sim_zipf_trace(trace, TRACE_LEN, TRACE_KEYS, 0.99, 42);
	for (i = 0; i < TRACE_LEN; i++) {
		k = trace[i];
		if (!hmap_lookup(fd, &k, &v)) {
			hits++;
			continue;
		}
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	}
	exact = sim_exact_lru_hits(trace, TRACE_LEN, TRACE_KEYS, CACHE);
	rate = (double)hits / TRACE_LEN;
	exact_rate = (double)exact / TRACE_LEN;
	ASSERT_EQ(0, hmap_info(fd, &info));
	ksft_print_msg("LRU hit rate, Zipf 0.99, %u keys, cache %u, %u accesses: hmap %.3f, exact LRU %.3f (%.1f%%), %llu evictions\n",
		       TRACE_KEYS, CACHE, TRACE_LEN, rate, exact_rate,
		       100.0 * rate / exact_rate,
		       (unsigned long long)info.evictions);
	EXPECT_GE(rate, 0.95 * exact_rate);
	EXPECT_EQ(CACHE, info.count);
	free(trace);
	close(fd);
}

TEST_HARNESS_MAIN
