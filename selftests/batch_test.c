// SPDX-License-Identifier: GPL-2.0
/*
 * The batch commands: LOOKUP_BATCH and LOOKUP_AND_DELETE_BATCH with their
 * cursor, UPDATE_BATCH and DELETE_BATCH with per-entry status, every errno,
 * and walks that concurrent deletes can neither restart nor loop.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define N 1000

FIXTURE(batch) {
	int fd;
	__u64 keys[N + 8], vals[N + 8];
};

FIXTURE_SETUP(batch)
{
	__u64 k, v;

	self->fd = hmap_create("batch", 8, 8, 2 * N, NULL);
	ASSERT_LE(0, self->fd);
	for (k = 0; k < N; k++) {
		v = k * 7;
		ASSERT_EQ(0, hmap_update(self->fd, &k, &v, 0));
	}
}

FIXTURE_TEARDOWN(batch)
{
	close(self->fd);
}

/* Walks the whole map in batches of @room; counts visits per key. */
static int walk(int fd, __u32 room, __u8 *seen, long *calls)
{
	__u64 keys[64], vals[64], cur;
	bool started = false;
	__u32 got, i;
	int ret;

	do {
		got = room;
		ret = hmap_lookup_batch(fd, started ? &cur : NULL, &cur, keys,
					vals, &got);
		started = true;
		for (i = 0; i < got; i++) {
			if (keys[i] >= N || vals[i] != keys[i] * 7)
				return -1000;
			seen[keys[i]]++;
		}
		if (++*calls > 10 * N)
			return -ELOOP;
	} while (!ret);
	return ret;
}

TEST_F(batch, lookup_batch_walks_every_key_once)
{
	static const __u32 rooms[] = { 1, 2, 3, 7, 64 };
	__u8 seen[N];
	unsigned int r, k;
	long calls;

	for (r = 0; r < 5; r++) {
		memset(seen, 0, sizeof(seen));
		calls = 0;
		EXPECT_EQ(-ENOENT, walk(self->fd, rooms[r], seen, &calls));
		for (k = 0; k < N; k++)
			ASSERT_EQ(1, seen[k]) TH_LOG("room %u key %u", rooms[r], k);
		/* Full batches until the last: no short reads in the middle. */
		EXPECT_LE(calls, N / rooms[r] + 1);
	}
}

TEST_F(batch, cursor_edge_cases)
{
	__u64 keys[N + 8], vals[N + 8], cur, first, second;
	__u32 got;

	/* Room for everything: one call, ENOENT, all entries. */
	got = N + 8;
	EXPECT_EQ(-ENOENT, hmap_lookup_batch(self->fd, NULL, &cur, keys, vals, &got));
	EXPECT_EQ(N, got);
	EXPECT_EQ(keys[N - 1], cur);
	/* Exactly the room needed: the end shows on the next call, empty. */
	got = N;
	EXPECT_EQ(0, hmap_lookup_batch(self->fd, NULL, &cur, keys, vals, &got));
	EXPECT_EQ(N, got);
	got = 4;
	EXPECT_EQ(-ENOENT, hmap_lookup_batch(self->fd, &cur, &cur, keys, vals, &got));
	EXPECT_EQ(0, got);
	/* A cursor that was deleted: the walk goes on after it. */
	got = 2;
	ASSERT_EQ(0, hmap_lookup_batch(self->fd, NULL, &cur, keys, vals, &got));
	first = keys[0];
	second = keys[1];
	ASSERT_EQ(0, hmap_delete(self->fd, &first));
	got = 1;
	ASSERT_EQ(0, hmap_lookup_batch(self->fd, &first, &cur, keys, vals, &got));
	EXPECT_EQ(second, keys[0]);
	/* A cursor never in the map is fine too. */
	cur = 123456789;
	got = 1;
	EXPECT_GE(0, hmap_lookup_batch(self->fd, &cur, &cur, keys, vals, &got));
	/* An empty map ends at once. */
	ASSERT_EQ(0, hmap_clear(self->fd));
	got = 8;
	EXPECT_EQ(-ENOENT, hmap_lookup_batch(self->fd, NULL, &cur, keys, vals, &got));
	EXPECT_EQ(0, got);
}

struct deleter {
	int fd;
	atomic_bool stop;
	atomic_long deleted;
};

/* Deletes odd keys, one at a time, while the walk runs. */
static void *delete_odd(void *p)
{
	struct deleter *d = p;
	__u64 k;

	for (k = 1; k < N && !atomic_load(&d->stop); k += 2)
		if (!hmap_delete(d->fd, &k))
			atomic_fetch_add(&d->deleted, 1);
	return NULL;
}

TEST_F(batch, concurrent_deletes_never_restart_the_walk)
{
	struct deleter d = { .fd = self->fd };
	__u8 seen[N] = { 0 };
	pthread_t th;
	long calls = 0;
	unsigned int k;

	ASSERT_EQ(0, pthread_create(&th, NULL, delete_odd, &d));
	EXPECT_EQ(-ENOENT, walk(self->fd, 3, seen, &calls));
	atomic_store(&d.stop, true);
	pthread_join(th, NULL);
	/* Keys present throughout (even ones) once; none twice. */
	for (k = 0; k < N; k++)
		ASSERT_EQ(k % 2 ? seen[k] <= 1 : seen[k] == 1, 1) TH_LOG("key %u", k);
	TH_LOG("%ld deletes during a walk of %ld calls", atomic_load(&d.deleted), calls);
}

TEST_F(batch, lookup_and_delete_batch)
{
	__u64 keys[64], vals[64], cur;
	__u8 seen[N] = { 0 };
	struct hmap_info info;
	bool started = false;
	__u32 got, i, total = 0;
	int ret;

	do {
		got = 64;
		ret = hmap_lookup_and_delete_batch(self->fd, started ? &cur : NULL,
						   &cur, keys, vals, &got);
		started = true;
		for (i = 0; i < got; i++) {
			ASSERT_EQ(keys[i] * 7, vals[i]);
			seen[keys[i]]++;
		}
		total += got;
	} while (!ret);
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_EQ(N, total);
	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(N, info.deletes);
	for (i = 0; i < N; i++)
		EXPECT_EQ(1, seen[i]);
}

TEST_F(batch, update_and_delete_batches)
{
	__u64 keys[8] = { 2000, 2001, 5, 2002, 2003 }, vals[8] = { 1, 2, 3, 4, 5 };
	__s32 status[8];
	struct hmap_info info;
	__u32 count;

	/* Stop at the first failure: key 5 exists. */
	count = 5;
	memset(status, 0x7f, sizeof(status));
	EXPECT_EQ(-EEXIST, hmap_update_batch(self->fd, keys, vals, status, &count,
					     HMAP_NOEXIST, 0));
	EXPECT_EQ(3, count);
	EXPECT_EQ(0, status[0]);
	EXPECT_EQ(0, status[1]);
	EXPECT_EQ(-EEXIST, status[2]);
	EXPECT_EQ(0x7f7f7f7f, status[3]);
	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_EQ(N + 2, info.count);
	/* Go on past it. */
	count = 5;
	EXPECT_EQ(0, hmap_update_batch(self->fd, keys, vals, status, &count,
				       HMAP_NOEXIST, HMAP_BATCH_CONTINUE));
	EXPECT_EQ(5, count);
	EXPECT_EQ(-EEXIST, status[0]);
	EXPECT_EQ(-EEXIST, status[2]);
	EXPECT_EQ(0, status[3]);
	EXPECT_EQ(0, status[4]);
	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_EQ(N + 4, info.count);
	/* EXIST replaces every one; no status array is fine. */
	count = 5;
	EXPECT_EQ(0, hmap_update_batch(self->fd, keys, vals, NULL, &count, HMAP_EXIST, 0));
	/* Deletes: 9999 is absent. */
	keys[2] = 9999;
	count = 5;
	EXPECT_EQ(-ENOENT, hmap_delete_batch(self->fd, keys, status, &count, 0));
	EXPECT_EQ(3, count);
	EXPECT_EQ(-ENOENT, status[2]);
	count = 5;
	EXPECT_EQ(0, hmap_delete_batch(self->fd, keys, status, &count,
				       HMAP_BATCH_CONTINUE));
	EXPECT_EQ(-ENOENT, status[0]);
	EXPECT_EQ(0, status[3]);
	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_EQ(N, info.count);
}

/* A full map: E2BIG for the entries past max_entries. */
TEST_F(batch, update_batch_into_a_full_map)
{
	static __u64 many[N + 8], mv[N + 8];
	static __s32 st[N + 8];
	__u32 count;

	for (count = 0; count < N + 8; count++)
		many[count] = 100000 + count;
	count = N + 8;
	EXPECT_EQ(0, hmap_update_batch(self->fd, many, mv, st, &count, 0,
				       HMAP_BATCH_CONTINUE));
	EXPECT_EQ(N + 8, count);
	EXPECT_EQ(0, st[N - 1]);
	EXPECT_EQ(-E2BIG, st[N]);
	EXPECT_EQ(-E2BIG, st[N + 7]);
}

TEST_F(batch, errors)
{
	struct hmap_batch b = { .size = sizeof(b) };
	__u64 keys[4], vals[4], cur = 1;
	long page = sysconf(_SC_PAGESIZE);
	struct hmap_info info;
	__u32 count;
	void *ro;
	int rofd;

	/* Room for nothing. */
	count = 0;
	EXPECT_EQ(-EINVAL, hmap_lookup_batch(self->fd, NULL, &cur, keys, vals, &count));
	/* Fields a command does not take. */
	b.count = 4;
	b.keys = (uintptr_t)keys;
	b.values = (uintptr_t)vals;
	b.status = (uintptr_t)keys;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_LOOKUP_BATCH, &b));
	b.status = 0;
	b.flags = HMAP_BATCH_CONTINUE;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_LOOKUP_BATCH, &b));
	b.flags = 2;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_UPDATE_BATCH, &b));
	b.flags = 0;
	b.elem_flags = HMAP_EXIST | HMAP_NOEXIST;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_UPDATE_BATCH, &b));
	b.elem_flags = HMAP_NOEXIST;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_DELETE_BATCH, &b));
	b.elem_flags = 0;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_DELETE_BATCH, &b)); /* values */
	b.values = 0;
	b.in_cursor = (uintptr_t)&cur;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_DELETE_BATCH, &b));
	b.in_cursor = 0;
	b.__reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_DELETE_BATCH, &b));
	/* Bad pointers. */
	count = 4;
	EXPECT_EQ(-EFAULT, hmap_lookup_batch(self->fd, NULL, &cur, NULL, vals, &count));
	count = 4;
	EXPECT_EQ(-EFAULT, hmap_lookup_batch(self->fd, (void *)8, &cur, keys, vals, &count));
	count = 4;
	EXPECT_EQ(-EFAULT, hmap_update_batch(self->fd, NULL, vals, NULL, &count, 0, 0));
	count = 4;
	EXPECT_EQ(-EFAULT, hmap_delete_batch(self->fd, NULL, NULL, &count, 0));
	/* Nothing is removed that cannot be handed over. */
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	count = 4;
	EXPECT_EQ(-EFAULT, hmap_lookup_and_delete_batch(self->fd, NULL, &cur, keys, ro, &count));
	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_EQ(N, info.count);
	munmap(ro, page);
	/* Read-only fds may look, not change. */
	ASSERT_EQ(0, hmap_publish(self->fd, "batch_test", 0600));
	rofd = hmap_open_by_name("batch_test", HMAP_F_RDONLY);
	ASSERT_LE(0, rofd);
	count = 4;
	EXPECT_EQ(0, hmap_lookup_batch(rofd, NULL, &cur, keys, vals, &count));
	count = 4;
	EXPECT_EQ(-EPERM, hmap_lookup_and_delete_batch(rofd, NULL, &cur, keys, vals, &count));
	count = 1;
	EXPECT_EQ(-EPERM, hmap_update_batch(rofd, keys, vals, NULL, &count, 0, 0));
	count = 1;
	EXPECT_EQ(-EPERM, hmap_delete_batch(rofd, keys, NULL, &count, 0));
	close(rofd);
	EXPECT_EQ(0, hmap_unpublish("batch_test"));
	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_EQ(N, info.count);
}

TEST_HARNESS_MAIN
