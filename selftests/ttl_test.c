// SPDX-License-Identifier: GPL-2.0
/*
 * HMAP_F_TTL maps: an entry given a time to live is there until its
 * deadline and gone for every command after it, by the clock (these tests
 * read CLOCK_MONOTONIC around each call instead of sleeping fixed times),
 * and the periodic sweep gives its memory back.
 */
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

static __u64 now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ULL + t.tv_nsec / 1000000;
}

static int ttl_map(__u32 max, __u32 flags)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_TTL | flags };

	return hmap_create("ttl", 8, 8, max, &o);
}

/*
 * Puts @k with @ttl ms; *@t0 and *@t1 bracket the call, so the deadline is
 * between *@t0 + @ttl and *@t1 + @ttl.
 */
static int put_ttl(int fd, __u64 k, __u64 ttl, __u64 *t0, __u64 *t1)
{
	int ret;

	*t0 = now_ms();
	ret = hmap_update_ttl(fd, &k, &k, HMAP_ANY, ttl);
	*t1 = now_ms() + 1;
	return ret;
}

/*
 * Polls a lookup of @k: every lookup that ended before @alive_until found
 * it, every one that began after @gone_after did not. Returns once one has
 * missed after @gone_after, or fails after 10 s.
 */
static void expect_expiry(struct __test_metadata *_metadata, int fd, __u64 k,
			  __u64 alive_until, __u64 gone_after)
{
	__u64 s, e, v, end = now_ms() + 10000;
	int r;

	for (;;) {
		s = now_ms();
		r = hmap_lookup(fd, &k, &v);
		e = now_ms();
		if (e < alive_until)
			ASSERT_EQ(0, r);
		if (s > gone_after) {
			ASSERT_EQ(-ENOENT, r);
			return;
		}
		ASSERT_LT(e, end);
		usleep(2000);
	}
}

TEST(entry_vanishes_at_its_deadline)
{
	__u64 t0, t1;
	int fd = ttl_map(16, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put_ttl(fd, 1, 300, &t0, &t1));
	expect_expiry(_metadata, fd, 1, t0 + 300, t1 + 300);
	close(fd);
}

/* Once expired, the entry is absent for every command. */
TEST(expired_is_absent_for_every_command)
{
	struct hmap_batch mb = { .size = sizeof(mb) };
	__u64 k = 1, v = 5, t0, t1, next, ver = 0, keys[4], vals[4], exp = 1;
	struct hmap_info info;
	__s32 status[2];
	__u32 n;
	int fd = ttl_map(16, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &(__u64){ 2 }, &v, HMAP_ANY));
	ASSERT_EQ(0, put_ttl(fd, 1, 100, &t0, &t1));
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &v, &ver));
	expect_expiry(_metadata, fd, 1, t0 + 100, t1 + 100);
	/* Iteration and batches skip it. */
	ASSERT_EQ(0, hmap_get_next_key(fd, NULL, &next));
	EXPECT_EQ(2, next);
	EXPECT_EQ(-ENOENT, hmap_get_next_key(fd, &next, &next));
	n = 4;
	EXPECT_EQ(-ENOENT, hmap_lookup_batch(fd, NULL, &next, keys, vals, &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(2, keys[0]);
	keys[0] = 1;
	keys[1] = 2;
	n = 2;
	EXPECT_EQ(0, hmap_lookup_multi(fd, keys, vals, status, &n));
	EXPECT_EQ(-ENOENT, status[0]);
	EXPECT_EQ(0, status[1]);
	(void)mb;
	/* Writes that need it present find it absent. */
	EXPECT_EQ(-ENOENT, hmap_update(fd, &k, &v, HMAP_EXIST));
	EXPECT_EQ(-ENOENT, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	EXPECT_EQ(-ENOENT, hmap_add(fd, &k, 1, 0, NULL, NULL));
	EXPECT_EQ(-ENOENT, hmap_cmpxchg(fd, &k, &exp, &v, NULL));
	EXPECT_EQ(-ENOENT, hmap_lookup_and_delete(fd, &k, &v));
	/*
	 * None of those removed it; the sweep, woken at the deadline, may
	 * have by now. Else the delete meets it and removes it. Either way
	 * it is counted once, and the count fell.
	 */
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(2 - info.expirations, info.count);
	EXPECT_GE(1, info.expirations);
	EXPECT_EQ(-ENOENT, hmap_delete(fd, &k));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(1, info.expirations);
	EXPECT_EQ(1, fdinfo_num(fd, "expirations"));
	EXPECT_TRUE(info.map_flags & HMAP_F_TTL);
	/* Expired again: NOEXIST creates it anew, with a new version. */
	ASSERT_EQ(0, put_ttl(fd, 1, 50, &t0, &t1));
	expect_expiry(_metadata, fd, 1, t0 + 50, t1 + 50);
	EXPECT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_NOEXIST, &next));
	EXPECT_LT(ver, next);
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	close(fd);
}

/*
 * UPDATE sets the deadline anew (0: none); ADD and CMPXCHG keep the one an
 * entry has; ADD gives its time to live only to an entry it creates.
 */
TEST(which_writes_set_the_deadline)
{
	__u64 k = 1, v, t0, t1, exp;
	int fd = ttl_map(16, 0);

	ASSERT_LE(0, fd);
	/* A replace with no ttl: the entry no longer expires. */
	ASSERT_EQ(0, put_ttl(fd, 1, 50, &t0, &t1));
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	while (now_ms() <= t1 + 60)
		usleep(5000);
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	/* ADD creating with a ttl; then ADD and CMPXCHG keep it. */
	k = 2;
	t0 = now_ms();
	ASSERT_EQ(0, hmap_add_ttl(fd, &k, 1, HMAP_ADD_CREATE, 300, NULL, NULL));
	t1 = now_ms() + 1;
	ASSERT_EQ(0, hmap_add_ttl(fd, &k, 1, HMAP_ADD_CREATE, 100000, NULL, &v));
	EXPECT_EQ(2, v);
	exp = 2;
	v = 3;
	ASSERT_EQ(0, hmap_cmpxchg(fd, &k, &exp, &v, NULL));
	expect_expiry(_metadata, fd, 2, t0 + 300, t1 + 300);
	close(fd);
}

/* A time to live where none can be: EINVAL, and nothing written. */
TEST(ttl_errors)
{
	struct hmap_elem_op op = { .size = sizeof(op) };
	struct hmap_add a = { .size = sizeof(a), .delta = 1,
			      .flags = HMAP_ADD_CREATE };
	__u64 k = 1, v = 1;
	int plain = hmap_create("plain", 8, 8, 4, NULL), fd = ttl_map(4, 0);
	struct hmap_info info;

	ASSERT_LE(0, plain);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, hmap_update_ttl(plain, &k, &v, HMAP_ANY, 1000));
	EXPECT_EQ(-EINVAL, hmap_add_ttl(plain, &k, 1, HMAP_ADD_CREATE, 1000,
					NULL, NULL));
	EXPECT_EQ(-EINVAL, hmap_update_ttl(fd, &k, &v, HMAP_ANY,
					   HMAP_MAX_TTL_MS + 1));
	EXPECT_EQ(0, hmap_update_ttl(fd, &k, &v, HMAP_ANY, HMAP_MAX_TTL_MS));
	op.key = (uintptr_t)&k;
	op.value = (uintptr_t)&v;
	op.ttl_ms = 1000;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP, &op));
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_AND_DELETE, &op));
	op.value = 0;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_DELETE, &op));
	a.key = (uintptr_t)&k;
	a.ttl_ms = HMAP_MAX_TTL_MS + 1;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_ADD, &a));
	ASSERT_EQ(0, hmap_info(plain, &info));
	EXPECT_EQ(0, info.count);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(1, info.count);
	close(plain);
	close(fd);
}

/*
 * Entries no command meets: the sweep removes them (within a second or so
 * of their deadline: at most 10 s here) and their memory comes back. The
 * time to live is long enough for the debug kernel to insert them all
 * before the first one expires.
 */
TEST(sweep_gives_the_memory_back)
{
	struct hmap_info info, full;
	__u64 k, end, gone, t0;
	int fd = ttl_map(4096, 0);

	ASSERT_LE(0, fd);
	t0 = now_ms();
	for (k = 0; k < 3000; k++)
		ASSERT_EQ(0, hmap_update_ttl(fd, &k, &k, HMAP_ANY, 5000));
	k = 9999;
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_EQ(0, hmap_info(fd, &full));
	/* If this fails, inserting took the whole 5 s: a broken kernel. */
	ASSERT_LT(now_ms(), t0 + 5000);
	EXPECT_EQ(3001, full.count);
	EXPECT_EQ(0, full.expirations);
	gone = now_ms() + 5000;
	end = gone + 10000;
	do {
		usleep(50000);
		ASSERT_EQ(0, hmap_info(fd, &info));
	} while (info.count > 1 && now_ms() < end);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(3000, info.expirations);
	EXPECT_LT(info.bytes, full.bytes / 4);
	ksft_print_msg("3000 entries swept %lld ms after their last deadline; bytes %llu -> %llu\n",
		       (long long)(now_ms() - gone),
		       (unsigned long long)full.bytes,
		       (unsigned long long)info.bytes);
	EXPECT_EQ(0, hmap_lookup(fd, &k, &k));
	close(fd);
}

/* A full map whose entries expired: an LRU map evicts those first. */
TEST(lru_takes_the_expired_first)
{
	__u64 k, v, t0, t1;
	struct hmap_info info;
	int fd = ttl_map(8, HMAP_F_LRU);

	ASSERT_LE(0, fd);
	for (k = 0; k < 4; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	t0 = now_ms();
	for (; k < 8; k++)
		ASSERT_EQ(0, hmap_update_ttl(fd, &k, &k, HMAP_ANY, 50));
	t1 = now_ms() + 1;
	expect_expiry(_metadata, fd, 7, t0 + 50, t1 + 50);
	/* The live four were written first, yet they stay. */
	for (k = 100; k < 104; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	for (k = 0; k < 4; k++)
		EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.evictions);
	EXPECT_EQ(4, info.expirations);
	close(fd);
}

TEST_HARNESS_MAIN
