// SPDX-License-Identifier: GPL-2.0
/*
 * Pattern: lifetime managed by references, with a finalizer. A map's release
 * runs exactly once, after the last of its fds, its published name and any
 * operation in flight on it is gone; its memory is freed once, a grace
 * period later. Seen through the module's counters in debugfs.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "hmap_util.h"
#include "uffd_trap.h"

struct inflight {
	int fd;
	void *key;
	int ret;
};

/* An UPDATE whose key sits on the trap page: it stays inside the ioctl. */
static void *update_thread(void *p)
{
	struct inflight *a = p;
	__u64 v = 99;

	a->ret = hmap_update(a->fd, a->key, &v, 0);
	return NULL;
}

FIXTURE(fin) {
	struct uffd_trap trap;
	long long created, released, freed;
};

FIXTURE_SETUP(fin)
{
	int ret;

	if (geteuid())
		SKIP(return, "reads debugfs and uses userfaultfd: needs root");
	ret = uffd_trap_init(&self->trap);
	ASSERT_EQ(0, ret);
	settle_frees();
	self->created = stat_num("maps_created");
	self->released = stat_num("maps_released");
	self->freed = stat_num("maps_freed");
	ASSERT_LE(0, self->released);
}

FIXTURE_TEARDOWN(fin)
{
	if (!geteuid())
		uffd_trap_destroy(&self->trap);
}

/* Last to go: the operation in flight, after both fds and the name. */
TEST_F(fin, inflight_op_is_last)
{
	struct inflight a = { .key = self->trap.page };
	__u64 key = 5, v;
	pthread_t th;
	int fd, fd2;

	fd = hmap_create("fin", 8, 8, 16, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->created + 1, stat_num("maps_created"));
	ASSERT_EQ(0, hmap_publish(fd, "fin_test", 0600));
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	a.fd = fd2;
	ASSERT_EQ(0, pthread_create(&th, NULL, update_thread, &a));
	ASSERT_EQ(0, uffd_trap_wait(&self->trap, 5000));

	close(fd);
	EXPECT_EQ(self->released, stat_num("maps_released"));
	close(fd2);
	EXPECT_EQ(self->released, stat_num("maps_released"));
	EXPECT_EQ(0, hmap_unpublish("fin_test"));
	usleep(100000);
	/* Nothing refers to the map but the UPDATE still inside it. */
	EXPECT_EQ(self->released, stat_num("maps_released"));
	EXPECT_EQ(self->freed, settle_frees());

	ASSERT_EQ(0, uffd_trap_release(&self->trap, &key, sizeof(key)));
	pthread_join(th, NULL);
	/* The UPDATE finished, on a map that was still whole. */
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(self->released + 1, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 1, settle_frees());
	EXPECT_EQ(self->created + 1, stat_num("maps_created"));
	EXPECT_EQ(-ENOENT, hmap_open_by_name("fin_test", 0));
	(void)v;
}

/* Last to go: the name, after the fds and the operation in flight. */
TEST_F(fin, name_is_last)
{
	struct inflight a = { .key = self->trap.page };
	__u64 key = 6, v = 0;
	pthread_t th;
	int fd;

	fd = hmap_create("fin", 8, 8, 16, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_publish(fd, "fin_test", 0600));
	a.fd = fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, update_thread, &a));
	ASSERT_EQ(0, uffd_trap_wait(&self->trap, 5000));
	close(fd);
	ASSERT_EQ(0, uffd_trap_release(&self->trap, &key, sizeof(key)));
	pthread_join(th, NULL);
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(self->released, stat_num("maps_released"));

	/* The name alone kept the map, and what the UPDATE wrote. */
	fd = hmap_open_by_name("fin_test", HMAP_F_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, hmap_lookup(fd, &key, &v));
	EXPECT_EQ(99, v);
	close(fd);
	EXPECT_EQ(self->released, stat_num("maps_released"));
	EXPECT_EQ(0, hmap_unpublish("fin_test"));
	EXPECT_EQ(self->released + 1, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 1, settle_frees());
}

/* Many maps, many references each: one release and one free per map. */
TEST_F(fin, once_per_map)
{
	int fds[20][3], i, j;

	for (i = 0; i < 20; i++) {
		fds[i][0] = hmap_create(NULL, 4, 4, 4, NULL);
		ASSERT_LE(0, fds[i][0]);
		fds[i][1] = dup(fds[i][0]);
		fds[i][2] = dup(fds[i][0]);
	}
	for (j = 0; j < 3; j++) {
		for (i = 0; i < 20; i++)
			close(fds[i][j]);
		if (j < 2)
			EXPECT_EQ(self->released, stat_num("maps_released"));
	}
	EXPECT_EQ(self->released + 20, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 20, settle_frees());
	EXPECT_EQ(self->created + 20, stat_num("maps_created"));
}

TEST_HARNESS_MAIN
