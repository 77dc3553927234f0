// SPDX-License-Identifier: GPL-2.0
/*
 * Pattern: lock-free reads beside locked writes. While a writer holds the
 * map's rwsem for a long whole-table operation (a resize moving tens of
 * thousands of entries, a clear of as many), lookups on another CPU keep
 * completing. The test reports how many finished entirely inside the
 * writer's operation, and requires that some did.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define BUCKETS	32768
#define FILL	(BUCKETS / 4 * 3)	/* one more insert grows the table */
#define MAXLOG	(1 << 20)

struct reader {
	int fd;
	atomic_bool stop;
	long n;
	long (*log)[2];		/* start and end of each lookup, ns */
	long hits;
};

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *reader(void *p)
{
	struct reader *r = p;
	__u64 k = 0, v;

	while (!atomic_load(&r->stop) && r->n < MAXLOG) {
		k = (k * 2654435761u + 1) % FILL;
		r->log[r->n][0] = now_ns();
		r->hits += !hmap_lookup(r->fd, &k, &v);
		r->log[r->n][1] = now_ns();
		r->n++;
	}
	return NULL;
}

static long inside(struct reader *r, long t0, long t1)
{
	long i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->log[i][0] >= t0 && r->log[i][1] <= t1;
	return n;
}

static int filled_map(void)
{
	int fd = hmap_create("lockfree", 8, 8, 4 * BUCKETS, NULL);
	__u64 k;

	for (k = 0; fd >= 0 && k < FILL; k++)
		if (hmap_update(fd, &k, &k, 0))
			return -1;
	return fd;
}

static void run(struct __test_metadata *_metadata, bool clear)
{
	struct reader r = { 0 };
	struct hmap_info info;
	pthread_t th;
	long t0, t1, n;
	__u64 k = FILL;

	r.log = malloc(sizeof(*r.log) * MAXLOG);
	ASSERT_NE(NULL, r.log);
	r.fd = filled_map();
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, hmap_info(r.fd, &info));
	ASSERT_EQ(BUCKETS, info.buckets);
	ASSERT_EQ(0, pthread_create(&th, NULL, reader, &r));
	usleep(200000);
	t0 = now_ns();
	if (clear) {
		ASSERT_EQ(0, hmap_clear(r.fd));
	} else {
		ASSERT_EQ(0, hmap_update(r.fd, &k, &k, 0));
	}
	t1 = now_ns();
	usleep(100000);
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	ASSERT_EQ(0, hmap_info(r.fd, &info));
	if (!clear)
		EXPECT_EQ(2 * BUCKETS, info.buckets);
	n = inside(&r, t0, t1);
	TH_LOG("%s took %ld us; %ld of %ld lookups ran entirely inside it (%ld hits in all)",
	       clear ? "clear" : "resize", (t1 - t0) / 1000, n, r.n, r.hits);
	EXPECT_GT(n, 0);
	/* Lookups during a resize never miss: every key stayed in the map. */
	if (!clear)
		EXPECT_EQ(r.n, r.hits);
	close(r.fd);
	free(r.log);
}

TEST(lookups_progress_during_a_resize)
{
	run(_metadata, false);
}

TEST(lookups_progress_during_a_clear)
{
	run(_metadata, true);
}

TEST_HARNESS_MAIN
