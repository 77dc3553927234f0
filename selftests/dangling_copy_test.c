// SPDX-License-Identifier: GPL-2.0
/*
 * Hazard 3, the dangling copy: copies of a map reference made by dup(),
 * fork(), SCM_RIGHTS and OPEN_BY_ID while the last fd closes elsewhere, and
 * lookups racing deletes of the same keys. The map is freed exactly once and
 * only after its last reference; the debug lane's KASAN sees any read of
 * freed memory.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

FIXTURE(copy) {
	long long released, freed;
};

FIXTURE_SETUP(copy)
{
	if (geteuid())
		return;
	settle_frees();
	self->released = stat_num("maps_released");
	self->freed = stat_num("maps_freed");
}

FIXTURE_TEARDOWN(copy)
{
}

static bool holds(int fd, __u64 n)
{
	__u64 k, v;

	for (k = 0; k < n; k++)
		if (hmap_lookup(fd, &k, &v) || v != k * 3)
			return false;
	return true;
}

static int make_map(__u64 n)
{
	int fd = hmap_create("copy", 8, 8, 64, NULL);
	__u64 k, v;

	for (k = 0; fd >= 0 && k < n; k++) {
		v = k * 3;
		if (hmap_update(fd, &k, &v, 0))
			return -1;
	}
	return fd;
}

TEST_F(copy, dup)
{
	int fd, d1, d2;

	if (geteuid())
		SKIP(return, "reads debugfs: needs root");
	fd = make_map(10);
	ASSERT_LE(0, fd);
	d1 = dup(fd);
	d2 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	close(fd);
	EXPECT_TRUE(holds(d1, 10));
	close(d1);
	EXPECT_TRUE(holds(d2, 10));
	EXPECT_EQ(self->released, stat_num("maps_released"));
	close(d2);
	EXPECT_EQ(self->released + 1, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 1, settle_frees());
}

TEST_F(copy, fork)
{
	int fd, status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "reads debugfs: needs root");
	fd = make_map(10);
	ASSERT_LE(0, fd);
	pid = fork();
	if (pid == 0) {
		__u64 k = 10, v = 30;

		/* The parent closes its fd meanwhile; ours holds the map. */
		usleep(100000);
		_exit(!holds(fd, 10) || hmap_update(fd, &k, &v, 0) ? 1 : 0);
	}
	ASSERT_LT(0, pid);
	close(fd);
	EXPECT_EQ(self->released, stat_num("maps_released"));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(self->released + 1, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 1, settle_frees());
}

/* The only reference travels through a socket, in flight for a while. */
TEST_F(copy, scm_rights)
{
	int sv[2], fd, status;
	char ok;
	pid_t pid;

	if (geteuid())
		SKIP(return, "reads debugfs: needs root");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* The child exists before the map: it can only get it by message. */
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		usleep(200000);
		fd = recv_fd(sv[1]);
		ok = fd >= 0 && holds(fd, 10);
		if (write(sv[1], &ok, 1) != 1)
			_exit(2);
		close(fd);
		_exit(ok ? 0 : 1);
	}
	ASSERT_LT(0, pid);
	close(sv[1]);
	fd = make_map(10);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_fd(sv[0], fd));
	close(fd);
	/* Only the message in the socket refers to the map now. */
	EXPECT_EQ(self->released, stat_num("maps_released"));
	ASSERT_EQ(1, read(sv[0], &ok, 1));
	EXPECT_TRUE(ok);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(self->released + 1, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 1, settle_frees());
	close(sv[0]);

	/* A message never received: closing the socket drops the map. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	fd = make_map(1);
	ASSERT_EQ(0, send_fd(sv[0], fd));
	close(fd);
	EXPECT_EQ(self->released + 1, stat_num("maps_released"));
	close(sv[0]);
	close(sv[1]);
	/* Unix sockets release in-flight fds asynchronously: wait for it. */
	for (status = 0; status < 200 &&
	     stat_num("maps_released") != self->released + 2; status++)
		usleep(10000);
	EXPECT_EQ(self->released + 2, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 2, settle_frees());
}

struct race {
	__u32 id;
	int fd;
	atomic_int opened;
	atomic_bool go;
};

static void *open_by_id_loop(void *p)
{
	struct race *r = p;
	struct hmap_info info;
	int fd;

	while (!atomic_load(&r->go))
		;
	for (;;) {
		fd = hmap_open_by_id(r->id, HMAP_F_RDONLY);
		if (fd < 0)
			break;
		/* Whatever we got is the same live map. */
		if (hmap_info(fd, &info) || info.id != r->id)
			atomic_store(&r->opened, -1000000);
		atomic_fetch_add(&r->opened, 1);
		close(fd);
	}
	return (void *)(long)fd;
}

/* OPEN_BY_ID racing the last close: a live map, or ENOENT; one free. */
TEST_F(copy, open_by_id_races_last_close)
{
	struct hmap_info info;
	long total = 0;
	pthread_t th[2];
	void *ret;
	int round, i;

	if (geteuid())
		SKIP(return, "reads debugfs: needs root");
	for (round = 0; round < 40; round++) {
		struct race r = { 0 };

		r.fd = make_map(2);
		ASSERT_LE(0, r.fd);
		ASSERT_EQ(0, hmap_info(r.fd, &info));
		r.id = info.id;
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_create(&th[i], NULL, open_by_id_loop, &r));
		atomic_store(&r.go, true);
		usleep(round * 250);
		close(r.fd);
		for (i = 0; i < 2; i++) {
			pthread_join(th[i], &ret);
			EXPECT_EQ(-ENOENT, (long)ret);
		}
		EXPECT_LE(0, atomic_load(&r.opened));
		total += atomic_load(&r.opened);
	}
	EXPECT_EQ(self->released + 40, stat_num("maps_released"));
	EXPECT_EQ(self->freed + 40, settle_frees());
	TH_LOG("%ld opens by id raced the last close", total);
}

struct churn {
	int fd;
	atomic_bool stop;
	atomic_long bad, hits, misses;
};

/* Deletes and re-inserts keys 0..15 with values 3k, as fast as it can. */
static void *deleter(void *p)
{
	struct churn *c = p;
	__u64 k = 0, v;

	while (!atomic_load(&c->stop)) {
		k = (k + 1) % 16;
		v = k * 3;
		hmap_delete(c->fd, &k);
		hmap_update(c->fd, &k, &v, 0);
	}
	return NULL;
}

static void *looker(void *p)
{
	struct churn *c = p;
	__u64 k = 0, v;

	while (!atomic_load(&c->stop)) {
		k = (k + 7) % 16;
		v = 0;
		if (!hmap_lookup(c->fd, &k, &v)) {
			atomic_fetch_add(&c->hits, 1);
			if (v != k * 3)
				atomic_fetch_add(&c->bad, 1);
		} else {
			atomic_fetch_add(&c->misses, 1);
		}
	}
	return NULL;
}

TEST_F(copy, lookups_race_deletes_of_the_same_keys)
{
	struct churn c = { 0 };
	pthread_t th[3];
	int i;

	c.fd = make_map(16);
	ASSERT_LE(0, c.fd);
	ASSERT_EQ(0, pthread_create(&th[0], NULL, deleter, &c));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, looker, &c));
	ASSERT_EQ(0, pthread_create(&th[2], NULL, looker, &c));
	sleep(2);
	atomic_store(&c.stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, atomic_load(&c.bad));
	EXPECT_GT(atomic_load(&c.hits), 0);
	TH_LOG("%ld hits, %ld misses", atomic_load(&c.hits), atomic_load(&c.misses));
	close(c.fd);
}

TEST_HARNESS_MAIN
