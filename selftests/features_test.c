// SPDX-License-Identifier: GPL-2.0
/*
 * HMAP_IOC_FEATURES tells the truth: the version is the module's, every
 * command it lists is known and every number it does not list is ENOTTY,
 * and for each command, every single flag bit it lists is accepted and
 * every bit it does not list is EINVAL.
 */
#include <stddef.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

static int features(struct hmap_features *f)
{
	int dev = open_dev(), ret;

	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	ret = xioctl(dev, HMAP_IOC_FEATURES, f);
	close(dev);
	return ret;
}

TEST(version_is_the_modules)
{
	struct hmap_features f;
	unsigned int a, b, c;
	FILE *v = fopen("/sys/module/hmap/version", "r");

	ASSERT_NE(NULL, v);
	ASSERT_EQ(3, fscanf(v, "%u.%u.%u", &a, &b, &c));
	fclose(v);
	ASSERT_EQ(0, features(&f));
	EXPECT_EQ(HMAP_VERSION(a, b, c), f.version);
	EXPECT_EQ(0, f.__reserved);
}

TEST(errors)
{
	struct hmap_features f = { .size = sizeof(f) };
	char big[sizeof(f) + 8] = { 0 };
	int dev = open_dev(), map = hmap_create("f", 8, 8, 4, NULL);

	ASSERT_LE(0, dev);
	ASSERT_LE(0, map);
	EXPECT_EQ(-EBADFD, xioctl(map, HMAP_IOC_FEATURES, &f));
	f.flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(dev, HMAP_IOC_FEATURES, &f));
	f.flags = 0;
	f.__reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(dev, HMAP_IOC_FEATURES, &f));
	f.__reserved = 0;
	f.size = offsetof(struct hmap_features, batch_elem_flags);
	EXPECT_EQ(-EINVAL, xioctl(dev, HMAP_IOC_FEATURES, &f));
	/* A newer, larger struct: its zero tail is left alone. */
	*(__u32 *)big = sizeof(big);
	EXPECT_EQ(0, xioctl(dev, HMAP_IOC_FEATURES, big));
	EXPECT_EQ(0, big[sizeof(f)]);
	big[sizeof(f) + 3] = 1;
	EXPECT_EQ(-E2BIG, xioctl(dev, HMAP_IOC_FEATURES, big));
	EXPECT_EQ(-EFAULT, xioctl(dev, HMAP_IOC_FEATURES, NULL));
	close(map);
	close(dev);
}

/* Listed commands are known (any error but ENOTTY); the rest are ENOTTY. */
TEST(commands_listed_are_the_known_ones)
{
	struct hmap_features f;
	__u32 zero[64] = { 0 };
	int dev = open_dev(), nr, known = 0;

	ASSERT_EQ(0, features(&f));
	ASSERT_LE(0, dev);
	for (nr = 0; nr < 64; nr++) {
		int ret = xioctl(dev, _IO(HMAP_TYPE, HMAP_CMD_BASE + nr), zero);
		bool listed = f.commands & (1ULL << nr);

		/* size 0 is below every struct's first version: EINVAL. */
		if (listed) {
			EXPECT_NE(-ENOTTY, ret) TH_LOG("command %#x", HMAP_CMD_BASE + nr);
			known++;
		} else {
			EXPECT_EQ(-ENOTTY, ret) TH_LOG("command %#x", HMAP_CMD_BASE + nr);
		}
	}
	EXPECT_EQ(HMAP_CMD_FEATURES - HMAP_CMD_BASE + 1, known);
	close(dev);
}

/* CREATE: each listed bit alone makes a map; any other bit is EINVAL. */
TEST(create_flags)
{
	struct hmap_features f;
	int bit;

	ASSERT_EQ(0, features(&f));
	for (bit = 0; bit < 32; bit++) {
		struct hmap_create_opts o = { .sz = sizeof(o),
					       .flags = 1U << bit };
		int fd = hmap_create("f", 8, 8, 4, &o);

		if (f.create_flags & (1ULL << bit)) {
			EXPECT_LE(0, fd) TH_LOG("bit %d: %d", bit, fd);
		} else {
			EXPECT_EQ(-EINVAL, fd) TH_LOG("bit %d", bit);
		}
		if (fd >= 0)
			close(fd);
	}
	EXPECT_EQ(0, f.create_flags >> 32);
}

/*
 * UPDATE, DELETE, ADD, the batches, OPEN_BY_ID and WATCH: a bit outside the
 * list is EINVAL; a listed bit alone is not.
 */
TEST(command_flags)
{
	struct hmap_features f;
	int map = hmap_create("f", 8, 8, 16, NULL), bit;
	__u64 k = 1, v = 2;
	__s32 st[1];

	ASSERT_EQ(0, features(&f));
	ASSERT_LE(0, map);
	for (bit = 0; bit < 64; bit++) {
		__u64 b = 1ULL << bit;
		struct hmap_elem_op e = { .size = sizeof(e), .key = (__u64)&k,
					  .value = (__u64)&v, .flags = b };
		struct hmap_add a = { .size = sizeof(a), .key = (__u64)&k,
				      .delta = 1, .flags = b };
		struct hmap_batch bt = { .size = sizeof(bt), .keys = (__u64)&k,
					 .values = (__u64)&v,
					 .status = (__u64)st, .count = 1,
					 .flags = b };
		struct hmap_watch w = { .size = sizeof(w), .flags = b };
		struct hmap_open_by_id o = { .size = sizeof(o), .flags = b,
					     .id = 0 };
		int ret, dev;

		ret = xioctl(map, HMAP_IOC_UPDATE, &e);
		EXPECT_EQ(!(f.update_flags & b), ret == -EINVAL) TH_LOG("update bit %d: %d", bit, ret);
		e.value = 0;
		ret = xioctl(map, HMAP_IOC_DELETE, &e);
		EXPECT_EQ(!(f.delete_flags & b), ret == -EINVAL) TH_LOG("delete bit %d: %d", bit, ret);
		if (bit < 32) {
			ret = xioctl(map, HMAP_IOC_ADD, &a);
			EXPECT_EQ(!(f.add_flags & b), ret == -EINVAL) TH_LOG("add bit %d: %d", bit, ret);
			ret = xioctl(map, HMAP_IOC_UPDATE_BATCH, &bt);
			EXPECT_EQ(!(f.batch_flags & b), ret == -EINVAL) TH_LOG("batch bit %d: %d", bit, ret);
			bt.flags = 0;
			bt.elem_flags = b;
			ret = xioctl(map, HMAP_IOC_UPDATE_BATCH, &bt);
			EXPECT_EQ(!(f.batch_elem_flags & b), ret == -EINVAL) TH_LOG("elem bit %d: %d", bit, ret);
			/* The lookup batches take no flag at all. */
			bt.elem_flags = 0;
			bt.values = (__u64)&v;
			bt.status = 0;
			bt.flags = b;
			EXPECT_EQ(-EINVAL, xioctl(map, HMAP_IOC_LOOKUP_BATCH, &bt)) TH_LOG("lookup batch bit %d", bit);
			EXPECT_EQ(-EINVAL, xioctl(map, HMAP_IOC_LOOKUP_MULTI, &bt)) TH_LOG("multi bit %d", bit);
			ret = xioctl(map, HMAP_IOC_WATCH, &w);
			EXPECT_EQ(!(f.watch_flags & b), ret == -EINVAL) TH_LOG("watch bit %d: %d", bit, ret);
			if (ret >= 0)
				close(ret);
			o.id = 0;
			dev = open_dev();
			ret = xioctl(dev, HMAP_IOC_OPEN_BY_ID, &o);
			/* id 0 never exists: ENOENT when the flags pass. */
			EXPECT_EQ(!(f.open_flags & b), ret == -EINVAL) TH_LOG("open bit %d: %d", bit, ret);
			close(dev);
		}
	}
	/* PUBLISH: bits outside the list are EINVAL whatever else is set. */
	for (bit = 0; bit < 32; bit++) {
		struct hmap_publish p = { .size = sizeof(p), .mode = 0600,
					  .flags = 1U << bit };

		strcpy(p.name, "features_test");
		if (f.publish_flags & (1ULL << bit))
			continue;
		EXPECT_EQ(-EINVAL, xioctl(map, HMAP_IOC_PUBLISH, &p)) TH_LOG("bit %d", bit);
	}
	close(map);
}

TEST_HARNESS_MAIN
