// SPDX-License-Identifier: GPL-2.0
/*
 * Hazard 4, a stale deferred reference: an fd closed while other threads
 * are inside ioctls on it; a process exiting with ioctls in flight; rmmod
 * while maps exist. Nothing may crash, leak, or free a map early.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "hmap_util.h"
#include "uffd_trap.h"

struct hammer {
	int fd;
	atomic_bool stop;
	atomic_long ops;
	int last_err;
};

/* Issues every kind of ioctl on one fd until it stops being a map fd. */
static void *hammer_thread(void *p)
{
	struct hammer *h = p;
	__u64 k = 0, v = 0, next;
	int ret = 0;

	while (!atomic_load(&h->stop)) {
		k = (k + 1) % 64;
		switch (k % 4) {
		case 0:
			ret = hmap_update(h->fd, &k, &k, 0);
			break;
		case 1:
			ret = hmap_lookup(h->fd, &k, &v);
			break;
		case 2:
			ret = hmap_get_next_key(h->fd, &k, &next);
			break;
		case 3:
			ret = hmap_delete(h->fd, &k);
			break;
		}
		if (ret == -EBADF)
			break;
		atomic_fetch_add(&h->ops, 1);
	}
	h->last_err = ret;
	return NULL;
}

struct trapped {
	int fd;
	void *key;
	int ret;
};

static void *trapped_update(void *p)
{
	struct trapped *t = p;
	__u64 v = 1234;

	t->ret = hmap_update(t->fd, t->key, &v, 0);
	return NULL;
}

TEST(close_while_threads_are_inside_ioctls)
{
	struct hammer h = { 0 };
	struct trapped t = { 0 };
	struct uffd_trap trap = { 0 };
	long long released;
	pthread_t th[3], tt;
	__u64 key = 7;
	int i;

	if (geteuid())
		SKIP(return, "uses debugfs and userfaultfd: needs root");
	ASSERT_EQ(0, uffd_trap_init(&trap));
	settle_frees();
	released = stat_num("maps_released");
	h.fd = hmap_create("stale", 8, 8, 64, NULL);
	ASSERT_LE(0, h.fd);
	t.fd = h.fd;
	t.key = trap.page;
	/* One thread certainly inside an ioctl, three hammering. */
	ASSERT_EQ(0, pthread_create(&tt, NULL, trapped_update, &t));
	ASSERT_EQ(0, uffd_trap_wait(&trap, 5000));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, hammer_thread, &h));
	usleep(100000);
	/* No new file may take the fd number while the threads run. */
	ASSERT_EQ(0, close(h.fd));
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(-EBADF, h.last_err);
	EXPECT_GT(atomic_load(&h.ops), 0);
	/* The trapped UPDATE still holds the map. */
	EXPECT_EQ(released, stat_num("maps_released"));
	ASSERT_EQ(0, uffd_trap_release(&trap, &key, sizeof(key)));
	pthread_join(tt, NULL);
	EXPECT_EQ(0, t.ret);
	EXPECT_EQ(released + 1, stat_num("maps_released"));
	EXPECT_EQ(stat_num("maps_released"), settle_frees());
	uffd_trap_destroy(&trap);
	TH_LOG("%ld ioctls by the hammering threads", atomic_load(&h.ops));
}

/* Child: map, hammering threads, one thread stuck in an ioctl; then exit. */
static int exit_in_flight(void *arg)
{
	static struct hammer h;
	struct trapped t = { 0 };
	struct uffd_trap trap = { 0 };
	pthread_t th;
	int i;

	if (uffd_trap_init(&trap))
		return 10;
	h.fd = hmap_create("exiting", 8, 8, 64, NULL);
	if (h.fd < 0)
		return 11;
	if (arg && hmap_publish(h.fd, "exit_test", 0600))
		return 12;
	t.fd = h.fd;
	t.key = trap.page;
	if (pthread_create(&th, NULL, trapped_update, &t))
		return 13;
	if (uffd_trap_wait(&trap, 5000))
		return 14;
	for (i = 0; i < 3; i++)
		if (pthread_create(&th, NULL, hammer_thread, &h))
			return 15;
	usleep(50000);
	/* exit_group() with four threads inside or between ioctls. */
	_exit(0);
}

TEST(exit_with_ioctls_in_flight)
{
	long long released, created;
	__u64 k = 1, v;
	int fd, i;

	if (geteuid())
		SKIP(return, "uses debugfs and userfaultfd: needs root");
	for (i = 0; i < 5; i++) {
		settle_frees();
		released = stat_num("maps_released");
		created = stat_num("maps_created");
		ASSERT_EQ(0, run_as(0, 0, exit_in_flight, NULL));
		EXPECT_EQ(created + 1, stat_num("maps_created"));
		EXPECT_EQ(released + 1, stat_num("maps_released"));
		EXPECT_EQ(stat_num("maps_released"), settle_frees());
	}
	/* A published map survives its creator dying mid-ioctl, intact. */
	released = stat_num("maps_released");
	ASSERT_EQ(0, run_as(0, 0, exit_in_flight, "publish"));
	EXPECT_EQ(released, stat_num("maps_released"));
	fd = hmap_open_by_name("exit_test", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, &k, 0));
	ASSERT_EQ(0, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(1, v);
	close(fd);
	EXPECT_EQ(0, hmap_unpublish("exit_test"));
	EXPECT_EQ(released + 1, stat_num("maps_released"));
	EXPECT_EQ(stat_num("maps_released"), settle_frees());
}

static int delete_module(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/*
 * Every live map holds the module. The kernel refuses the unload of a module
 * in use with EWOULDBLOCK (EAGAIN), the errno rmmod reports.
 */
TEST(rmmod_while_maps_exist)
{
	__u64 k = 3, v;
	int fd;

	if (geteuid())
		SKIP(return, "needs CAP_SYS_MODULE");
	fd = hmap_create("pin", 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, &k, 0));
	EXPECT_EQ(-EWOULDBLOCK, delete_module("hmap"));
	/* The map and the device still work. */
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(3, v);
	/* A published map with no fd holds the module just the same. */
	ASSERT_EQ(0, hmap_publish(fd, "pin_test", 0600));
	close(fd);
	EXPECT_EQ(-EWOULDBLOCK, delete_module("hmap"));
	fd = hmap_open_by_name("pin_test", 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	close(fd);
	EXPECT_EQ(0, hmap_unpublish("pin_test"));
}

TEST_HARNESS_MAIN
