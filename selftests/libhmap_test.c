// SPDX-License-Identifier: GPL-2.0
/*
 * libhmap's own behaviour: return conventions, errno, argument handling
 * that happens before the kernel is asked.
 */
#include "kselftest_harness.h"
#include "hmap_util.h"

TEST(errors_are_negative_errno_with_errno_set)
{
	__u64 k = 1, v;
	int fd = hmap_create("lib", 8, 8, 4, NULL), p[2];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(p));
	errno = 0;
	EXPECT_EQ(-ENOENT, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(-EBADF, hmap_lookup(-1, &k, &v));
	EXPECT_EQ(EBADF, errno);
	/* Not a map fd: the kernel's answer, passed through. */
	EXPECT_EQ(-ENOTTY, hmap_lookup(p[0], &k, &v));
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-EINVAL, hmap_create(NULL, 0, 8, 4, NULL));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(names_that_cannot_fit_are_einval)
{
	char long_name[HMAP_NAME_LEN + 8];
	int fd;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	errno = 0;
	EXPECT_EQ(-EINVAL, hmap_create(long_name, 8, 8, 4, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, hmap_open_by_name(long_name, 0));
	EXPECT_EQ(-EINVAL, hmap_unpublish(long_name));
	fd = hmap_create(NULL, 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, hmap_publish(fd, long_name, 0600));
	/* 31 characters is the longest name. */
	long_name[HMAP_NAME_LEN - 1] = 0;
	EXPECT_EQ(0, hmap_publish(fd, long_name, 0600));
	EXPECT_EQ(0, hmap_unpublish(long_name));
	close(fd);
}

TEST(create_opts)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .capacity_hint = 300,
				      .flags = HMAP_F_RDONLY };
	struct hmap_create_opts old = { .sz = 1, .capacity_hint = 300 };
	struct hmap_info info;
	int fd;

	fd = hmap_create("opts", 8, 8, 1000, &o);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(300, info.capacity_hint);
	EXPECT_EQ(HMAP_F_RDONLY, info.map_flags);
	EXPECT_STREQ("opts", info.name);
	close(fd);
	/* An opts struct too small to hold a field is ignored, not misread. */
	fd = hmap_create(NULL, 8, 8, 1000, &old);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.capacity_hint);
	EXPECT_EQ(0, info.map_flags);
	close(fd);
}

TEST(every_function_round_trip)
{
	__u64 k = 7, v = 70, out = 0, next;
	struct hmap_info info;
	__u32 id, found = 0;
	int fd, fd2;

	fd = hmap_create("round", 8, 8, 16, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, hmap_update(fd, &k, &v, HMAP_NOEXIST));
	EXPECT_EQ(0, hmap_lookup(fd, &k, &out));
	EXPECT_EQ(70, out);
	EXPECT_EQ(0, hmap_get_next_key(fd, NULL, &next));
	EXPECT_EQ(7, next);
	EXPECT_EQ(-ENOENT, hmap_get_next_key(fd, &next, &next));
	EXPECT_EQ(0, hmap_lookup_and_delete(fd, &k, &out));
	EXPECT_EQ(0, hmap_update(fd, &k, &v, 0));
	EXPECT_EQ(0, hmap_delete(fd, &k));
	EXPECT_EQ(0, hmap_update(fd, &k, &v, 0));
	EXPECT_EQ(0, hmap_clear(fd));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(0, hmap_publish(fd, "round_trip", 0600));
	fd2 = hmap_open_by_name("round_trip", 0);
	EXPECT_LE(0, fd2);
	close(fd2);
	fd2 = hmap_open_by_id(info.id, 0);
	EXPECT_LE(0, fd2);
	close(fd2);
	for (id = 0; !hmap_get_next_id(id, &id);)
		found += id == info.id;
	EXPECT_EQ(1, found);
	EXPECT_EQ(0, hmap_unpublish("round_trip"));
	close(fd);
}

TEST_HARNESS_MAIN
