// SPDX-License-Identifier: GPL-2.0
/*
 * Pattern: lock-free reads beside locked writes. While a writer holds the
 * map's rwsem for a long whole-table operation (a resize moving tens of
 * thousands of entries), lookups on another CPU keep completing.
 *
 * The verdict does not depend on the host's speed: the kernel counts, in
 * fdinfo's resize_lookups, the lookups that started on a table whose
 * entries a resize was moving, which only happens while the resize holds
 * the rwsem for write. A lookup that took the rwsem could never be one of
 * them. Resizes are repeated until one such lookup is seen (a vCPU
 * descheduled for a whole resize can miss one, not all of them).
 *
 * For information, the time the rwsem is held for write is also seen from
 * a probe: a thread that keeps deleting an absent key, which takes the
 * rwsem for read and so stalls exactly while the writer holds it; the test
 * reports how many lookups completed inside the probe's stalled call. A
 * clear holds the lock only to swap the table out and frees outside it:
 * lookups must keep completing during the whole CLEAR call.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define BUCKETS	131072
#define FILL	BUCKETS		/* one more insert grows the table */
#define MAXLOG	(1 << 20)

struct reader {
	int fd;
	atomic_bool stop;
	long n;
	long (*log)[2];		/* start and end of each lookup, ns */
	long hits;
	bool probe;		/* deletes an absent key instead */
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
		if (r->probe) {
			v = 1ULL << 40;
			hmap_delete(r->fd, &v);
		} else {
			r->hits += !hmap_lookup(r->fd, &k, &v);
		}
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

/* The probe's longest call that overlaps [t0, t1]: the write-locked span. */
static void stall(struct reader *p, long t0, long t1, long *s, long *e)
{
	long i, best = -1;

	for (i = 0; i < p->n; i++) {
		if (p->log[i][1] < t0 || p->log[i][0] > t1)
			continue;
		if (best < 0 || p->log[i][1] - p->log[i][0] >
				p->log[best][1] - p->log[best][0])
			best = i;
	}
	*s = best < 0 ? 0 : p->log[best][0];
	*e = best < 0 ? 0 : p->log[best][1];
}

#define MAX_RESIZES	10

/*
 * One resize (or clear) under a reader and a probe. Returns the lookups
 * that started while the resize was moving entries (0 for a clear).
 */
static long long run(struct __test_metadata *_metadata, bool clear,
		     int attempt)
{
	struct reader r = { 0 }, p = { 0 };
	struct hmap_info info;
	long t0, t1, n, s, e, rate;
	long long during = 0;
	pthread_t th, ph;
	__u64 k = FILL;

	r.log = malloc(sizeof(*r.log) * MAXLOG);
	p.log = malloc(sizeof(*p.log) * MAXLOG);
	if (!r.log || !p.log)
		return -1;
	r.fd = filled_map();
	if (r.fd < 0)
		return -1;
	p.fd = r.fd;
	p.probe = true;
	ASSERT_EQ(0, hmap_info(r.fd, &info));
	ASSERT_EQ(BUCKETS, info.buckets);
	ASSERT_EQ(0, pthread_create(&th, NULL, reader, &r));
	ASSERT_EQ(0, pthread_create(&ph, NULL, reader, &p));
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
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);
	pthread_join(ph, NULL);
	ASSERT_EQ(0, hmap_info(r.fd, &info));
	/* The reader's usual rate, lookups per ms, outside the writer's call. */
	rate = (r.n - inside(&r, t0, t1)) * 1000000L /
	       (r.log[r.n - 1][1] - r.log[0][0] - (t1 - t0) + 1);
	if (clear) {
		n = inside(&r, t0, t1);
		TH_LOG("clear took %ld us; %ld lookups completed inside it (usual rate %ld/ms)",
		       (t1 - t0) / 1000, n, rate);
		EXPECT_GT(n, 0);
	} else {
		EXPECT_EQ(2 * BUCKETS, info.buckets);
		stall(&p, t0, t1, &s, &e);
		n = inside(&r, s, e);
		during = fdinfo_num(r.fd, "resize_lookups");
		TH_LOG("resize %d: call took %ld us, rwsem held for write about %ld us; %lld lookups started during the move, %ld completed in the span (usual rate %ld/ms, %ld hits of %ld)",
		       attempt, (t1 - t0) / 1000, (e - s) / 1000, during, n,
		       rate, r.hits, r.n);
		/* Lookups never missed: every key stayed in the map. */
		EXPECT_EQ(r.n, r.hits);
	}
	close(r.fd);
	free(r.log);
	free(p.log);
	return during;
}

/* Filling the map is slow on the debug kernel: lift the 30 s limit. */
FIXTURE(lockfree) {};
FIXTURE_SETUP(lockfree) {}
FIXTURE_TEARDOWN(lockfree) {}

/* Lookups start while a resize holds the rwsem for write, and never miss. */
TEST_F_TIMEOUT(lockfree, lookups_progress_during_a_resize, 600)
{
	long long during = 0;
	int i;

	for (i = 1; i <= MAX_RESIZES && !during; i++)
		during = run(_metadata, false, i);
	EXPECT_LT(0, during);
}

TEST_F_TIMEOUT(lockfree, lookups_progress_during_a_clear, 600)
{
	ASSERT_EQ(0, run(_metadata, true, 0));
}

TEST_HARNESS_MAIN
