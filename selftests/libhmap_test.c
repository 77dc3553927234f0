// SPDX-License-Identifier: GPL-2.0
/*
 * libhmap's own behaviour: return conventions, errno, argument handling
 * that happens before the kernel is asked; the module's features and what
 * a missing device returns.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

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

/* The loaded module is 0.1.0 and has every command and flag of the header. */
TEST(features_of_the_loaded_module)
{
	struct hmap_features f;

	memset(&f, 0xff, sizeof(f));
	ASSERT_EQ(0, hmap_features(&f));
	EXPECT_EQ(sizeof(f), f.size);
	EXPECT_EQ(HMAP_VERSION(0, 1, 0), f.version);
	EXPECT_EQ((1ULL << (HMAP_CMD_FEATURES - HMAP_CMD_BASE + 1)) - 1,
		  f.commands);
	EXPECT_EQ(HMAP_F_RDONLY | HMAP_F_PREALLOC | HMAP_F_LRU | HMAP_F_TTL |
		  HMAP_F_MMAP, f.create_flags);
	EXPECT_EQ(HMAP_NOEXIST | HMAP_EXIST | HMAP_IF_VERSION, f.update_flags);
	EXPECT_EQ(HMAP_IF_VERSION, f.delete_flags);
	EXPECT_EQ(HMAP_PUBLISH_REPLACE | HMAP_PUBLISH_ANY_SIZES |
		  HMAP_PUBLISH_OWNER, f.publish_flags);
	EXPECT_EQ(HMAP_F_RDONLY, f.open_flags);
	EXPECT_EQ(HMAP_BATCH_CONTINUE, f.batch_flags);
	EXPECT_EQ(HMAP_ADD_CREATE, f.add_flags);
	EXPECT_EQ(HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, f.watch_flags);
	EXPECT_EQ(HMAP_NOEXIST | HMAP_EXIST, f.batch_elem_flags);
}

TEST(check_feature_says_what_is_missing)
{
	struct hmap_features f, old;
	char why[128];

	ASSERT_EQ(0, hmap_features(&f));
	/* Asking the module itself (f NULL), by command or ioctl number. */
	EXPECT_EQ(0, hmap_check_feature(NULL, HMAP_CMD_CREATE, HMAP_F_TTL |
					HMAP_F_LRU, why, sizeof(why)));
	EXPECT_STREQ("", why);
	EXPECT_EQ(0, hmap_check_feature(NULL, HMAP_IOC_WATCH,
					HMAP_WATCH_VALUES, why, sizeof(why)));
	EXPECT_EQ(0, hmap_check_feature(&f, HMAP_IOC_FEATURES, 0, NULL, 0));
	errno = 0;
	EXPECT_EQ(-EOPNOTSUPP, hmap_check_feature(NULL, HMAP_CMD_CREATE,
						  1ULL << 40, why, sizeof(why)));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_STREQ("the loaded hmap module (0.1.0) does not support flag 0x10000000000 of HMAP_IOC_CREATE",
		     why);
	/* Commands without flags: any flag is missing. */
	EXPECT_EQ(-EOPNOTSUPP, hmap_check_feature(&f, HMAP_IOC_LOOKUP, 1, why,
						  sizeof(why)));
	EXPECT_STREQ("the loaded hmap module (0.1.0) does not support flag 0x1 of HMAP_IOC_LOOKUP",
		     why);
	/* A command past the last one the module knows. */
	EXPECT_EQ(-EOPNOTSUPP, hmap_check_feature(&f, HMAP_CMD_FEATURES + 1, 0,
						  why, sizeof(why)));
	EXPECT_STREQ("the loaded hmap module (0.1.0) does not support command 0x96",
		     why);
	errno = 0;
	EXPECT_EQ(-EINVAL, hmap_check_feature(&f, 0x7f, 0, why, sizeof(why)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, hmap_check_feature(&f, _IO(0x42, HMAP_CMD_CREATE), 0,
					      why, sizeof(why)));

	/* A module that lacks a flag: named. */
	old = f;
	old.version = HMAP_VERSION(0, 1, 7);
	old.create_flags &= ~HMAP_F_TTL;
	EXPECT_EQ(-EOPNOTSUPP, hmap_check_feature(&old, HMAP_CMD_CREATE,
						  HMAP_F_LRU | HMAP_F_TTL, why,
						  sizeof(why)));
	EXPECT_STREQ("the loaded hmap module (0.1.7) does not support HMAP_F_TTL", why);
	old.publish_flags = 0;
	EXPECT_EQ(-EOPNOTSUPP, hmap_check_feature(&old, HMAP_IOC_PUBLISH,
						  HMAP_PUBLISH_REPLACE |
						  HMAP_PUBLISH_OWNER, why,
						  sizeof(why)));
	EXPECT_STREQ("the loaded hmap module (0.1.7) does not support HMAP_PUBLISH_REPLACE",
		     why);
	/* One older than FEATURES (version 0): a command it lacks. */
	old.version = 0;
	old.commands = (1ULL << (HMAP_CMD_WATCH - HMAP_CMD_BASE + 1)) - 1;
	EXPECT_EQ(0, hmap_check_feature(&old, HMAP_CMD_WATCH, 0, why, sizeof(why)));
	EXPECT_EQ(-EOPNOTSUPP, hmap_check_feature(&old, HMAP_CMD_FEATURES, 0,
						  why, sizeof(why)));
	EXPECT_STREQ("the loaded hmap module (older than 0.1.0) does not support HMAP_IOC_FEATURES",
		     why);
	/* Cut to fit, NUL-terminated. */
	memset(why, 'x', sizeof(why));
	EXPECT_EQ(-EOPNOTSUPP, hmap_check_feature(&old, HMAP_CMD_FEATURES, 0,
						  why, 12));
	EXPECT_STREQ("the loaded ", why);
	EXPECT_EQ('x', why[12]);
}

TEST(version_string)
{
	unsigned int major, minor, patch;
	char end;

	ASSERT_NE(NULL, hmap_version());
	EXPECT_EQ(3, sscanf(hmap_version(), "%u.%u.%u%c", &major, &minor,
			    &patch, &end)) TH_LOG("%s", hmap_version());
}

/*
 * In a child with a /dev of its own (a tmpfs in a new mount namespace):
 * without /dev/hmap, and with a /dev/hmap no driver answers (ENXIO), every
 * function that opens the device returns -ENODEV, never -ENOENT.
 */
static int no_device_child(void)
{
	struct hmap_features f;
	char why[128];
	__u32 id;
	int pass;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/dev", "tmpfs", 0, NULL))
		return 100;
	for (pass = 0; pass < 2; pass++) {
		/* Second pass: a char device of a major for local use only. */
		if (pass && mknod(HMAP_DEV_PATH, S_IFCHR | 0666, makedev(60, 7)))
			return 101;
#define NODEV(call, n) do { \
			errno = 0; \
			if ((call) != -ENODEV || errno != ENODEV) \
				return n + 10 * pass; \
		} while (0)
		NODEV(hmap_open_by_name("x", 0), 1);
		NODEV(hmap_open_by_id(1, 0), 2);
		NODEV(hmap_get_next_id(0, &id), 3);
		NODEV(hmap_create("x", 8, 8, 16, NULL), 4);
		NODEV(hmap_unpublish("x"), 5);
		NODEV(hmap_features(&f), 6);
		NODEV(hmap_check_feature(NULL, HMAP_CMD_CREATE, 0, why,
					 sizeof(why)), 7);
		if (strcmp(why, "/dev/hmap: no such device: is the hmap module loaded?"))
			return 8 + 10 * pass;
#undef NODEV
	}
	return 0;
}

/*
 * A /dev/hmap that answers every ioctl with ENOTTY (/dev/null), as a module
 * older than HMAP_IOC_FEATURES answers it: hmap_features() succeeds with
 * version 0 and the commands and flags up to WATCH.
 */
static int older_module_child(void)
{
	struct hmap_features f;
	char why[128];

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/dev", "tmpfs", 0, NULL) ||
	    mknod(HMAP_DEV_PATH, S_IFCHR | 0666, makedev(1, 3)))
		return 100;
	memset(&f, 0xff, sizeof(f));
	errno = 0;
	if (hmap_features(&f) || errno)
		return 1;
	if (f.size != sizeof(f) || f.version || f.flags || f.__reserved ||
	    f.commands != (1ULL << (HMAP_CMD_WATCH - HMAP_CMD_BASE + 1)) - 1)
		return 2;
	if (f.create_flags != (HMAP_F_RDONLY | HMAP_F_PREALLOC | HMAP_F_LRU |
			       HMAP_F_TTL) ||
	    f.update_flags != (HMAP_NOEXIST | HMAP_EXIST | HMAP_IF_VERSION) ||
	    f.delete_flags != HMAP_IF_VERSION ||
	    f.publish_flags != (HMAP_PUBLISH_REPLACE | HMAP_PUBLISH_ANY_SIZES |
				HMAP_PUBLISH_OWNER) ||
	    f.open_flags != HMAP_F_RDONLY ||
	    f.batch_flags != HMAP_BATCH_CONTINUE ||
	    f.add_flags != HMAP_ADD_CREATE ||
	    f.watch_flags != (HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK) ||
	    f.batch_elem_flags != (HMAP_NOEXIST | HMAP_EXIST))
		return 3;
	if (hmap_check_feature(NULL, HMAP_CMD_WATCH, HMAP_WATCH_VALUES, why,
			       sizeof(why)))
		return 4;
	if (hmap_check_feature(NULL, HMAP_IOC_FEATURES, 0, why, sizeof(why)) !=
	    -EOPNOTSUPP ||
	    strcmp(why, "the loaded hmap module (older than 0.1.0) does not support HMAP_IOC_FEATURES"))
		return 5;
	/* The commands themselves: the kernel's ENOTTY, as it is. */
	if (hmap_open_by_name("x", 0) != -ENOTTY)
		return 6;
	return 0;
}

static void run_child(struct __test_metadata *_metadata, int (*fn)(void))
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(fn());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* This process's /dev is as it was. */
	EXPECT_EQ(0, access(HMAP_DEV_PATH, F_OK));
}

TEST(older_module_features_baseline)
{
	if (geteuid())
		SKIP(return, "mounts a /dev of its own: needs root");
	run_child(_metadata, older_module_child);
}

TEST(no_device_is_enodev)
{
	if (geteuid())
		SKIP(return, "mounts a /dev of its own: needs root");
	run_child(_metadata, no_device_child);
}

TEST_HARNESS_MAIN
