/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture shared by map_test and unchecked_type_test: a /dev/hmap fd and
 * a u64 -> u64 map of 100 entries, with helpers that fill it with k -> 10k
 * and check that it holds exactly that.
 */
#ifndef _HMAP_MAP_FIXTURE_H
#define _HMAP_MAP_FIXTURE_H

static inline __u64 p64(const void *p)
{
	return (__u64)(uintptr_t)p;
}

FIXTURE(map) {
	int dev;
	int fd;		/* u64 -> u64 map, 100 entries */
	struct hmap_info info;
};

FIXTURE_SETUP(map)
{
	self->dev = open_dev();
	ASSERT_LE(0, self->dev);
	self->fd = hmap_create("fixture", 8, 8, 100, NULL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, hmap_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(map)
{
	close(self->fd);
	close(self->dev);
}

static int put(int fd, __u64 k, __u64 v, __u64 flags)
{
	return hmap_update(fd, &k, &v, flags);
}

static __u64 get(int fd, __u64 k, int *err)
{
	__u64 v = 0;

	*err = hmap_lookup(fd, &k, &v);
	return v;
}

/* The map holds exactly keys 0..n-1, each with value k * 10. */
static bool holds_exactly(int fd, __u64 n)
{
	struct hmap_info info;
	__u64 k;
	int err;

	if (hmap_info(fd, &info) || info.count != n)
		return false;
	for (k = 0; k < n; k++)
		if (get(fd, k, &err) != k * 10 || err)
			return false;
	return true;
}

static void fill(struct __test_metadata *_metadata, int fd, __u64 n)
{
	__u64 k;

	for (k = 0; k < n; k++)
		ASSERT_EQ(0, put(fd, k, k * 10, HMAP_ANY));
}

#endif
