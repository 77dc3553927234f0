// SPDX-License-Identifier: GPL-2.0
/*
 * Hazard 5, the unchecked type: arguments that do not match what a command
 * expects. Struct sizes smaller, or larger with a non-zero tail; unknown
 * flags; non-zero reserved fields; key and value buffers shorter than the
 * map's sizes; NULL, unmapped and read-only buffers; commands on the wrong
 * kind of fd; unknown ioctl numbers. Each gets its documented errno and the
 * map is unchanged, checked by content.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "hmap_util.h"
#include "map_fixture.h"

/* Every command, with the size of its struct and the fd it belongs on. */
static const struct {
	unsigned long cmd;
	unsigned int size;
	bool on_dev;
	const char *name;
} cmds[] = {
	{ HMAP_IOC_CREATE, sizeof(struct hmap_create), true, "CREATE" },
	{ HMAP_IOC_LOOKUP, sizeof(struct hmap_elem_op), false, "LOOKUP" },
	{ HMAP_IOC_UPDATE, sizeof(struct hmap_elem_op), false, "UPDATE" },
	{ HMAP_IOC_DELETE, sizeof(struct hmap_elem_op), false, "DELETE" },
	{ HMAP_IOC_LOOKUP_AND_DELETE, sizeof(struct hmap_elem_op), false,
	  "LOOKUP_AND_DELETE" },
	{ HMAP_IOC_GET_NEXT_KEY, sizeof(struct hmap_get_next_key), false,
	  "GET_NEXT_KEY" },
	{ HMAP_IOC_CLEAR, sizeof(struct hmap_clear), false, "CLEAR" },
	{ HMAP_IOC_INFO, sizeof(struct hmap_info), false, "INFO" },
	{ HMAP_IOC_PUBLISH, sizeof(struct hmap_publish), false, "PUBLISH" },
	{ HMAP_IOC_UNPUBLISH, sizeof(struct hmap_unpublish), true, "UNPUBLISH" },
	{ HMAP_IOC_OPEN_BY_NAME, sizeof(struct hmap_open_by_name), true,
	  "OPEN_BY_NAME" },
	{ HMAP_IOC_OPEN_BY_ID, sizeof(struct hmap_open_by_id), true,
	  "OPEN_BY_ID" },
	{ HMAP_IOC_GET_NEXT_ID, sizeof(struct hmap_get_next_id), true,
	  "GET_NEXT_ID" },
	{ HMAP_IOC_LOOKUP_BATCH, sizeof(struct hmap_batch), false, "LOOKUP_BATCH" },
	{ HMAP_IOC_LOOKUP_AND_DELETE_BATCH, sizeof(struct hmap_batch), false,
	  "LOOKUP_AND_DELETE_BATCH" },
	{ HMAP_IOC_UPDATE_BATCH, sizeof(struct hmap_batch), false, "UPDATE_BATCH" },
	{ HMAP_IOC_DELETE_BATCH, sizeof(struct hmap_batch), false, "DELETE_BATCH" },
	{ HMAP_IOC_ADD, sizeof(struct hmap_add), false, "ADD" },
	{ HMAP_IOC_CMPXCHG, sizeof(struct hmap_cmpxchg), false, "CMPXCHG" },
	{ HMAP_IOC_LOOKUP_MULTI, sizeof(struct hmap_batch), false, "LOOKUP_MULTI" },
	{ HMAP_IOC_WATCH, sizeof(struct hmap_watch), false, "WATCH" },
};

/* The size each command's struct was first published with. */
static unsigned int first_size(unsigned long cmd, unsigned int size)
{
	switch (cmd) {
	case HMAP_IOC_LOOKUP:
	case HMAP_IOC_UPDATE:
	case HMAP_IOC_DELETE:
	case HMAP_IOC_LOOKUP_AND_DELETE:
		return offsetof(struct hmap_elem_op, version);
	case HMAP_IOC_INFO:
		return offsetof(struct hmap_info, adds);
	case HMAP_IOC_PUBLISH:
		return offsetof(struct hmap_publish, flags);
	default:
		return size;
	}
}

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* Every command, every way of getting the size wrong, and the wrong fd. */
TEST_F(map, struct_size_contract)
{
	char buf[8192];
	unsigned int i;

	fill(_metadata, self->fd, 5);
	for (i = 0; i < NCMDS; i++) {
		int fd = cmds[i].on_dev ? self->dev : self->fd;
		int other = cmds[i].on_dev ? self->fd : self->dev;
		__u32 *size = (__u32 *)buf;

		/* No argument at all. */
		EXPECT_EQ(-EFAULT, xioctl(fd, cmds[i].cmd, NULL)) TH_LOG("%s", cmds[i].name);
		/* Smaller than any published version. */
		memset(buf, 0, sizeof(buf));
		*size = first_size(cmds[i].cmd, cmds[i].size) - 4;
		EXPECT_EQ(-EINVAL, xioctl(fd, cmds[i].cmd, buf)) TH_LOG("%s", cmds[i].name);
		*size = 0;
		EXPECT_EQ(-EINVAL, xioctl(fd, cmds[i].cmd, buf)) TH_LOG("%s", cmds[i].name);
		/* Larger, with a non-zero byte the kernel does not know. */
		*size = cmds[i].size + 8;
		buf[cmds[i].size + 5] = 1;
		EXPECT_EQ(-E2BIG, xioctl(fd, cmds[i].cmd, buf)) TH_LOG("%s", cmds[i].name);
		/* Far larger than any struct will be. */
		memset(buf, 0, sizeof(buf));
		*size = sizeof(buf);
		EXPECT_EQ(-E2BIG, xioctl(fd, cmds[i].cmd, buf)) TH_LOG("%s", cmds[i].name);
		/* The right size on the wrong kind of fd. */
		*size = cmds[i].size;
		EXPECT_EQ(-EBADFD, xioctl(other, cmds[i].cmd, buf)) TH_LOG("%s", cmds[i].name);
	}
	/* Nothing above changed the map. */
	EXPECT_TRUE(holds_exactly(self->fd, 5));
}

/* A newer, larger struct whose extra bytes are zero is read as this one. */
TEST_F(map, larger_struct_with_zero_tail)
{
	struct {
		struct hmap_elem_op op;
		__u64 future[4];
	} big = { { 0 }, { 0 } };
	__u64 k = 5, v = 55, out = 0;

	big.op.size = sizeof(big);
	big.op.key = p64(&k);
	big.op.value = p64(&v);
	EXPECT_EQ(0, xioctl(self->fd, HMAP_IOC_UPDATE, &big));
	big.op.value = p64(&out);
	EXPECT_EQ(0, xioctl(self->fd, HMAP_IOC_LOOKUP, &big));
	EXPECT_EQ(55, out);
}

TEST_F(map, unknown_ioctls)
{
	char buf[64] = { 0 };

	fill(_metadata, self->fd, 5);
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IO(HMAP_TYPE, HMAP_CMD_FEATURES + 1), buf));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IO(HMAP_TYPE, HMAP_CMD_BASE - 1), buf));
	EXPECT_EQ(-ENOTTY, xioctl(self->dev, _IO(HMAP_TYPE, 0xff), buf));
	/* The right number with a size encoded in it is another ioctl. */
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IOW(HMAP_TYPE, HMAP_CMD_LOOKUP, int), buf));
	EXPECT_EQ(-ENOTTY, xioctl(self->fd, _IO(HMAP_TYPE + 1, HMAP_CMD_LOOKUP), buf));
	EXPECT_TRUE(holds_exactly(self->fd, 5));
}

/* Bad user pointers fail with EFAULT and leave the map as it was. */
TEST_F(map, bad_pointers)
{
	long page = sysconf(_SC_PAGESIZE);
	__u64 k = 2, v = 0, *ro, *unmapped;
	struct hmap_get_next_key g = { .size = sizeof(g) };
	void *area;

	fill(_metadata, self->fd, 4);
	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	ro = area;
	*ro = 2;
	/* An INFO argument the kernel can read but not write back to. */
	*(struct hmap_info *)(ro + 8) = (struct hmap_info){ .size = sizeof(struct hmap_info) };
	unmapped = (__u64 *)((char *)area + page);
	ASSERT_EQ(0, mprotect(area, page, PROT_READ));
	ASSERT_EQ(0, munmap(unmapped, page));

	EXPECT_EQ(-EFAULT, hmap_lookup(self->fd, NULL, &v));
	EXPECT_EQ(-EFAULT, hmap_lookup(self->fd, unmapped, &v));
	EXPECT_EQ(-EFAULT, hmap_lookup(self->fd, &k, NULL));
	EXPECT_EQ(-EFAULT, hmap_lookup(self->fd, &k, ro));
	EXPECT_EQ(-EFAULT, hmap_update(self->fd, NULL, &v, 0));
	EXPECT_EQ(-EFAULT, hmap_update(self->fd, &k, unmapped, 0));
	EXPECT_EQ(-EFAULT, hmap_delete(self->fd, unmapped));
	/* The value cannot be handed over: the entry must stay. */
	EXPECT_EQ(-EFAULT, hmap_lookup_and_delete(self->fd, &k, ro));
	EXPECT_EQ(-EFAULT, hmap_lookup_and_delete(self->fd, &k, unmapped));
	EXPECT_EQ(-EFAULT, hmap_lookup_and_delete(self->fd, &k, NULL));
	EXPECT_EQ(-EFAULT, hmap_lookup_and_delete(self->fd, unmapped, &v));
	g.key = p64(unmapped);
	g.next_key = p64(&v);
	EXPECT_EQ(-EFAULT, xioctl(self->fd, HMAP_IOC_GET_NEXT_KEY, &g));
	g.key = 0;
	g.next_key = p64(ro);
	EXPECT_EQ(-EFAULT, xioctl(self->fd, HMAP_IOC_GET_NEXT_KEY, &g));
	EXPECT_EQ(-EFAULT, xioctl(self->fd, HMAP_IOC_INFO, unmapped));
	EXPECT_EQ(-EFAULT, xioctl(self->fd, HMAP_IOC_INFO, ro + 8));
	/* A read-only key is fine: keys are only read. */
	EXPECT_EQ(0, hmap_lookup(self->fd, ro, &v));
	EXPECT_EQ(20, v);
	EXPECT_TRUE(holds_exactly(self->fd, 4));
	munmap(area, page);
}

/* Every element command with an unknown flag or a reserved field set. */
TEST_F(map, unknown_flags_and_reserved_fields)
{
	static const unsigned long elem_cmds[] = {
		HMAP_IOC_LOOKUP, HMAP_IOC_UPDATE, HMAP_IOC_DELETE,
		HMAP_IOC_LOOKUP_AND_DELETE,
	};
	__u64 k = 1, v = 0, bits[] = { 1ULL << 3, 1ULL << 31, 1ULL << 63 };
	struct hmap_elem_op op;
	unsigned int i, j;

	fill(_metadata, self->fd, 5);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 3; j++) {
			op = (struct hmap_elem_op){ .size = sizeof(op),
				.flags = bits[j], .key = p64(&k),
				.value = elem_cmds[i] == HMAP_IOC_DELETE ? 0 : p64(&v) };
			EXPECT_EQ(-EINVAL, xioctl(self->fd, elem_cmds[i], &op));
		}
		op = (struct hmap_elem_op){ .size = sizeof(op), .__reserved = 1,
			.key = p64(&k),
			.value = elem_cmds[i] == HMAP_IOC_DELETE ? 0 : p64(&v) };
		EXPECT_EQ(-EINVAL, xioctl(self->fd, elem_cmds[i], &op));
	}
	EXPECT_TRUE(holds_exactly(self->fd, 5));
}

/*
 * The kernel cannot know how long the caller's buffers are: one shorter than
 * the map's key or value size, ending where its mapping ends, is EFAULT.
 */
TEST_F(map, buffers_shorter_than_the_map_sizes)
{
	long page = sysconf(_SC_PAGESIZE);
	char *area, *end;
	__u64 k = 2, v;
	int big;

	fill(_metadata, self->fd, 5);
	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, munmap(area + page, page));
	end = area + page;
	/* 4 bytes of a u64 key or value before the hole. */
	memcpy(end - 4, &k, 4);
	EXPECT_EQ(-EFAULT, hmap_lookup(self->fd, end - 4, &v));
	EXPECT_EQ(-EFAULT, hmap_update(self->fd, end - 4, &v, 0));
	EXPECT_EQ(-EFAULT, hmap_update(self->fd, &k, end - 4, 0));
	EXPECT_EQ(-EFAULT, hmap_lookup(self->fd, &k, end - 4));
	EXPECT_EQ(-EFAULT, hmap_delete(self->fd, end - 4));
	EXPECT_EQ(-EFAULT, hmap_lookup_and_delete(self->fd, &k, end - 4));
	EXPECT_EQ(-EFAULT, hmap_get_next_key(self->fd, end - 4, &v));
	/* The first key always exists here, so the copy-out is reached. */
	EXPECT_EQ(-EFAULT, hmap_get_next_key(self->fd, NULL, end - 4));
	/* Exactly the right size at the very end is fine. */
	memcpy(end - 8, &k, 8);
	EXPECT_EQ(0, hmap_lookup(self->fd, end - 8, &v));
	EXPECT_EQ(20, v);
	EXPECT_TRUE(holds_exactly(self->fd, 5));

	/* Large values go through a heap bounce buffer: same rules. */
	big = hmap_create("big", 8, 3 * page, 4, NULL);
	ASSERT_LE(0, big);
	EXPECT_EQ(-EFAULT, hmap_update(big, &k, end - page, 0));
	EXPECT_EQ(-ENOENT, hmap_lookup(big, &k, end - page));
	close(big);
	munmap(area, page);
}

/* Map commands on the device and device commands on a map. */
TEST_F(map, wrong_kind_of_fd_changes_nothing)
{
	struct hmap_create c = { .size = sizeof(c), .key_size = 8,
				 .value_size = 8, .max_entries = 4 };
	struct hmap_clear cl = { .size = sizeof(cl) };
	struct hmap_unpublish u = { .size = sizeof(u), .name = "x" };
	long long live = settle_frees() < 0 ? -1 : stat_num("maps_live");

	fill(_metadata, self->fd, 5);
	EXPECT_EQ(-EBADFD, xioctl(self->dev, HMAP_IOC_CLEAR, &cl));
	EXPECT_EQ(-EBADFD, xioctl(self->fd, HMAP_IOC_CREATE, &c));
	EXPECT_EQ(-EBADFD, xioctl(self->fd, HMAP_IOC_UNPUBLISH, &u));
	EXPECT_TRUE(holds_exactly(self->fd, 5));
	settle_frees();
	if (live >= 0)
		EXPECT_EQ(live, stat_num("maps_live"));
}

TEST_HARNESS_MAIN
