// SPDX-License-Identifier: GPL-2.0
/*
 * Hazard 1, the nil map: map commands with no map behind them. On the bare
 * /dev/hmap fd, on a closed fd, on fds of other files, through a stale id or
 * name of a map whose last reference is gone. Each gets its documented
 * errno, and nothing else changes: another map's content and the count of
 * live maps stay as they were.
 */
#include "kselftest_harness.h"
#include "hmap_util.h"

static const unsigned long map_cmds[] = {
	HMAP_IOC_LOOKUP, HMAP_IOC_UPDATE, HMAP_IOC_DELETE,
	HMAP_IOC_LOOKUP_AND_DELETE, HMAP_IOC_GET_NEXT_KEY, HMAP_IOC_CLEAR,
	HMAP_IOC_INFO, HMAP_IOC_PUBLISH,
};

#define NMAP_CMDS (sizeof(map_cmds) / sizeof(map_cmds[0]))

/* A well-formed argument for any map command, with valid buffers. */
static void *valid_arg(unsigned long cmd, __u64 *key, __u64 *value)
{
	static union {
		struct hmap_elem_op elem;
		struct hmap_get_next_key next;
		struct hmap_clear clear;
		struct hmap_info info;
		struct hmap_publish pub;
	} u;

	memset(&u, 0, sizeof(u));
	switch (cmd) {
	case HMAP_IOC_GET_NEXT_KEY:
		u.next = (struct hmap_get_next_key){ .size = sizeof(u.next),
			.key = (uintptr_t)key, .next_key = (uintptr_t)value };
		break;
	case HMAP_IOC_CLEAR:
		u.clear.size = sizeof(u.clear);
		break;
	case HMAP_IOC_INFO:
		u.info.size = sizeof(u.info);
		break;
	case HMAP_IOC_PUBLISH:
		u.pub.size = sizeof(u.pub);
		u.pub.mode = 0600;
		strcpy(u.pub.name, "nil_test");
		break;
	default:
		u.elem = (struct hmap_elem_op){ .size = sizeof(u.elem),
			.key = (uintptr_t)key,
			.value = cmd == HMAP_IOC_DELETE ? 0 : (uintptr_t)value };
	}
	return &u;
}

FIXTURE(nil) {
	int witness;		/* a map that must not change */
	long long live;
};

FIXTURE_SETUP(nil)
{
	__u64 k;

	self->witness = hmap_create("witness", 8, 8, 16, NULL);
	ASSERT_LE(0, self->witness);
	for (k = 0; k < 10; k++)
		ASSERT_EQ(0, hmap_update(self->witness, &k, &k, 0));
	/* A closed map counts until it is freed: let earlier ones go. */
	settle_frees();
	self->live = stat_num("maps_live");
}

FIXTURE_TEARDOWN(nil)
{
	__u64 k, v;

	/* Whatever the test did, the witness is exactly as it was. */
	for (k = 0; k < 10; k++) {
		EXPECT_EQ(0, hmap_lookup(self->witness, &k, &v));
		EXPECT_EQ(k, v);
	}
	EXPECT_EQ(-ENOENT, hmap_open_by_name("nil_test", 0));
	settle_frees();
	if (self->live >= 0)
		EXPECT_EQ(self->live, stat_num("maps_live"));
	close(self->witness);
}

TEST_F(nil, map_commands_on_the_device_fd)
{
	__u64 k = 1, v = 2;
	unsigned int i;
	int dev = open_dev();

	ASSERT_LE(0, dev);
	for (i = 0; i < NMAP_CMDS; i++)
		EXPECT_EQ(-EBADFD, xioctl(dev, map_cmds[i], valid_arg(map_cmds[i], &k, &v)))
			TH_LOG("cmd %#lx", map_cmds[i]);
	close(dev);
}

TEST_F(nil, map_commands_on_a_closed_fd)
{
	__u64 k = 1, v = 2;
	unsigned int i;
	int fd = hmap_create("closed", 8, 8, 4, NULL);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, &v, 0));
	ASSERT_EQ(0, close(fd));
	for (i = 0; i < NMAP_CMDS; i++)
		EXPECT_EQ(-EBADF, xioctl(fd, map_cmds[i], valid_arg(map_cmds[i], &k, &v)));
	EXPECT_EQ(-EBADF, xioctl(-1, HMAP_IOC_LOOKUP, valid_arg(HMAP_IOC_LOOKUP, &k, &v)));
}

TEST_F(nil, map_commands_on_other_files)
{
	int fds[3], p[2];
	__u64 k = 1, v = 2;
	unsigned int i, j;

	ASSERT_EQ(0, pipe(p));
	fds[0] = p[0];
	fds[1] = open("/dev/null", O_RDWR);
	fds[2] = open("/proc/self/status", O_RDONLY);
	for (j = 0; j < 3; j++) {
		ASSERT_LE(0, fds[j]);
		for (i = 0; i < NMAP_CMDS; i++)
			EXPECT_EQ(-ENOTTY, xioctl(fds[j], map_cmds[i],
						  valid_arg(map_cmds[i], &k, &v)));
	}
	for (j = 0; j < 3; j++)
		close(fds[j]);
	close(p[1]);
}

/* A map whose last reference is gone cannot be reached by id or name. */
TEST_F(nil, stale_id_and_name)
{
	struct hmap_info info;
	__u32 id, next;
	int fd, ret;

	fd = hmap_create("gone", 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	id = info.id;
	ASSERT_EQ(0, hmap_publish(fd, "gone_test", 0600));
	close(fd);
	/* Alive through its name. */
	fd = hmap_open_by_id(id, 0);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, hmap_unpublish("gone_test"));
	/* Now its last reference is gone. */
	EXPECT_EQ(-ENOENT, hmap_open_by_id(id, 0));
	EXPECT_EQ(-ENOENT, hmap_open_by_id(id, HMAP_F_RDONLY));
	EXPECT_EQ(-ENOENT, hmap_open_by_name("gone_test", 0));
	EXPECT_EQ(-ENOENT, hmap_unpublish("gone_test"));
	/* Listing skips it. */
	for (next = 0; !(ret = hmap_get_next_id(next, &next));)
		EXPECT_NE(id, next);
	EXPECT_EQ(-ENOENT, ret);
}

/* A dup of a closed fd still holds the map: not a nil map at all. */
TEST_F(nil, dup_outlives_the_original)
{
	__u64 k = 4, v = 0;
	int fd = hmap_create("dup", 8, 8, 4, NULL), fd2;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, &k, 0));
	fd2 = dup(fd);
	close(fd);
	EXPECT_EQ(0, hmap_lookup(fd2, &k, &v));
	EXPECT_EQ(4, v);
	close(fd2);
}

TEST_HARNESS_MAIN
