// SPDX-License-Identifier: GPL-2.0
/*
 * HMAP_PUBLISH_REPLACE: a published name moves to another map in one step.
 * Openers of the name get the new map, open fds keep the map they opened,
 * concurrent openers and readers never see an error, the old map is freed
 * once, after its last fd, and its watches are told. Every errno of the
 * extended PUBLISH is triggered here.
 */
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define NAME	"replace_test"

static int new_map(__u32 ks, __u32 vs, __u64 fill)
{
	int fd = hmap_create("rp", ks, vs, 64, NULL);
	__u64 k, v = fill;

	if (fd < 0)
		return fd;
	if (ks == 8 && vs == 8)
		for (k = 0; k < 8; k++)
			if (hmap_update(fd, &k, &v, HMAP_ANY))
				return -EIO;
	return fd;
}

static int publish(int fd, const char *name, __u32 mode, __u32 flags)
{
	struct hmap_publish p = { .size = sizeof(p), .mode = mode,
				  .flags = flags };

	strncpy(p.name, name, sizeof(p.name) - 1);
	return xioctl(fd, HMAP_IOC_PUBLISH, &p);
}

static int replace(int fd, const char *name)
{
	return publish(fd, name, 0, HMAP_PUBLISH_REPLACE);
}

static __u32 map_id(int fd)
{
	struct hmap_info info;

	return hmap_info(fd, &info) ? 0 : info.id;
}

/* The name moves; the fds do not; the old map goes with its last fd. */
TEST(replace_moves_the_name_not_the_fds)
{
	__u64 k = 1, v, freed;
	int a = new_map(8, 8, 100), b = new_map(8, 8, 200), c;
	struct hmap_info info;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, publish(a, NAME, 0640, 0));
	ASSERT_EQ(0, replace(b, NAME));
	c = hmap_open_by_name(NAME, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(map_id(b), map_id(c));
	ASSERT_EQ(0, hmap_lookup(c, &k, &v));
	EXPECT_EQ(200, v);
	/* The old fd still reads and writes the old map. */
	ASSERT_EQ(0, hmap_lookup(a, &k, &v));
	EXPECT_EQ(100, v);
	v = 101;
	ASSERT_EQ(0, hmap_update(a, &k, &v, HMAP_ANY));
	ASSERT_EQ(0, hmap_lookup(c, &k, &v));
	EXPECT_EQ(200, v);
	/* The name kept its mode; the old map has no name any more. */
	ASSERT_EQ(0, hmap_info(c, &info));
	EXPECT_STREQ(NAME, info.pub_name);
	EXPECT_EQ(0640, info.pub_mode);
	EXPECT_EQ(getuid(), info.pub_uid);
	ASSERT_EQ(0, hmap_info(a, &info));
	EXPECT_STREQ("", info.pub_name);
	/* It can be published again, under another name. */
	EXPECT_EQ(0, publish(a, NAME "2", 0600, 0));
	EXPECT_EQ(0, hmap_unpublish(NAME "2"));
	/* Freed once, after its last fd; the new one lives on by its name. */
	freed = settle_frees();
	close(a);
	EXPECT_EQ(freed + 1, settle_frees());
	close(b);
	close(c);
	EXPECT_EQ(freed + 1, settle_frees());
	EXPECT_EQ(0, hmap_unpublish(NAME));
	EXPECT_EQ(freed + 2, settle_frees());
}

/* Every errno the extended PUBLISH documents. */
TEST(replace_errors)
{
	struct hmap_publish p = { .size = sizeof(p) };
	int a = new_map(8, 8, 1), b = new_map(8, 8, 2), odd = new_map(4, 8, 0);
	int ro;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, odd);
	EXPECT_EQ(-ENOENT, replace(b, NAME));
	ASSERT_EQ(0, publish(a, NAME, 0600, 0));
	/* Without REPLACE, a taken name is taken. */
	EXPECT_EQ(-EEXIST, publish(b, NAME, 0600, 0));
	/* Sizes differ: only with ANY_SIZES. */
	EXPECT_EQ(-EINVAL, replace(odd, NAME));
	/* A mode with REPLACE, ANY_SIZES alone, unknown flags, reserved. */
	EXPECT_EQ(-EINVAL, publish(b, NAME, 0600, HMAP_PUBLISH_REPLACE));
	EXPECT_EQ(-EINVAL, publish(b, NAME, 0600, HMAP_PUBLISH_ANY_SIZES));
	EXPECT_EQ(-EINVAL, publish(b, NAME, 0, 1U << 3));
	EXPECT_EQ(-EINVAL, publish(b, NAME, 0, 1U << 31));
	strcpy(p.name, NAME);
	p.flags = HMAP_PUBLISH_REPLACE;
	p.__reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(b, HMAP_IOC_PUBLISH, &p));
	p.__reserved = 0;
	/* A uid or gid without OWNER. */
	p.uid = 5;
	EXPECT_EQ(-EINVAL, xioctl(b, HMAP_IOC_PUBLISH, &p));
	p.uid = 0;
	/* The map replacing must not have a name: not even this one. */
	EXPECT_EQ(-EBUSY, replace(a, NAME));
	EXPECT_EQ(0, replace(b, NAME));
	EXPECT_EQ(-EBUSY, replace(b, NAME));
	/* ANY_SIZES lets other sizes take the name. */
	EXPECT_EQ(0, publish(odd, NAME, 0, HMAP_PUBLISH_REPLACE |
			     HMAP_PUBLISH_ANY_SIZES));
	/* A read-only fd may not publish. */
	ro = hmap_open_by_name(NAME, HMAP_F_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EPERM, replace(ro, NAME));
	close(ro);
	EXPECT_EQ(0, hmap_unpublish(NAME));
	close(a);
	close(b);
	close(odd);
}

struct as_user {
	const char *name;
	int mode;
};

/* As another user: create a map and try to take the name. */
static int replace_as_user(void *p)
{
	struct as_user *u = p;
	int fd = new_map(8, 8, 7), ret;

	if (fd < 0)
		return 100;
	ret = -replace(fd, u->name);
	close(fd);
	return ret;
}

/* As another user: OWNER needs CAP_CHOWN. */
static int owner_as_user(void *p)
{
	struct hmap_publish pub = { .size = sizeof(pub),
				    .flags = HMAP_PUBLISH_OWNER };
	int fd = new_map(8, 8, 7), ret;

	if (fd < 0)
		return 100;
	strcpy(pub.name, "owner_user");
	ret = -xioctl(fd, HMAP_IOC_PUBLISH, &pub);
	close(fd);
	return ret;
}

/* As a user with no capability: replace its own read-only name. */
static int owner_replaces_read_only(void *p)
{
	int a = new_map(8, 8, 1), b = new_map(8, 8, 2), ret;

	if (a < 0 || b < 0)
		return 100;
	if (publish(a, "own_ro", 0444, 0))
		return 101;
	ret = -replace(b, "own_ro");
	if (hmap_unpublish("own_ro"))
		ret = 102;
	close(a);
	close(b);
	return ret;
}

/*
 * Replacing is an operation on the name, as UNPUBLISH is: another user may
 * not, even one the name's mode lets write the map (it would take the name
 * over, and could then remove it); the name's owner may, even when the
 * mode lets nobody write.
 */
TEST(replace_needs_the_right_to_remove_the_name)
{
	struct as_user u = { .name = NAME };
	struct hmap_info info;
	int a = new_map(8, 8, 1), b = new_map(8, 8, 2), c;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	/* The device must be open to the other user for this test. */
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	ASSERT_EQ(0, publish(a, NAME, 0666, 0));
	EXPECT_EQ(EPERM, run_as(UNPRIV_UID, UNPRIV_UID, replace_as_user, &u));
	EXPECT_EQ(EPERM, run_as(UNPRIV_UID, UNPRIV_UID, owner_as_user, NULL));
	EXPECT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, owner_replaces_read_only,
			    NULL));
	ASSERT_EQ(0, hmap_unpublish(NAME));
	/* Read-only for everyone, the owner included: the owner replaces. */
	ASSERT_EQ(0, publish(a, NAME, 0444, 0));
	ASSERT_EQ(0, replace(b, NAME));
	c = hmap_open_by_name(NAME, HMAP_F_RDONLY);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, hmap_info(c, &info));
	EXPECT_EQ(map_id(b), info.id);
	EXPECT_EQ(0, info.pub_uid);
	EXPECT_EQ(0444, info.pub_mode);
	EXPECT_EQ(0, hmap_unpublish(NAME));
	chmod(HMAP_DEV_PATH, 0600);
	close(c);
	close(b);
	close(a);
}

/* OWNER: the name gets the owner and group given, as chown(2) would. */
TEST(publish_with_owner)
{
	struct hmap_publish p = { .size = sizeof(p), .mode = 0640,
				  .flags = HMAP_PUBLISH_OWNER, .uid = 1234,
				  .gid = 4321 };
	struct hmap_info info;
	int a = new_map(8, 8, 1), b = new_map(8, 8, 2);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	strcpy(p.name, NAME);
	p.uid = (__u32)-1;
	EXPECT_EQ(-EINVAL, xioctl(a, HMAP_IOC_PUBLISH, &p));
	p.uid = 1234;
	ASSERT_EQ(0, xioctl(a, HMAP_IOC_PUBLISH, &p));
	ASSERT_EQ(0, hmap_info(a, &info));
	EXPECT_EQ(1234, info.pub_uid);
	EXPECT_EQ(4321, info.pub_gid);
	EXPECT_EQ(0640, info.pub_mode);
	/* REPLACE with OWNER: the name gets the new owner, keeps its mode. */
	p.flags = HMAP_PUBLISH_REPLACE | HMAP_PUBLISH_OWNER;
	p.mode = 0;
	p.uid = 77;
	p.gid = 78;
	ASSERT_EQ(0, xioctl(b, HMAP_IOC_PUBLISH, &p));
	ASSERT_EQ(0, hmap_info(b, &info));
	EXPECT_EQ(77, info.pub_uid);
	EXPECT_EQ(78, info.pub_gid);
	EXPECT_EQ(0640, info.pub_mode);
	EXPECT_EQ(0, hmap_unpublish(NAME));
	close(a);
	close(b);
}

/* A watch of the old map is told which map took the name, and goes on. */
TEST(replace_tells_the_old_maps_watches)
{
	struct hmap_watch w = { .size = sizeof(w) };
	int a = new_map(8, 8, 1), b = new_map(8, 8, 2), wfd;
	union {
		struct hmap_event ev;
		char buf[4096];
	} u;
	__u64 k = 3, v = 4;
	ssize_t n;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, publish(a, NAME, 0600, 0));
	wfd = ioctl(a, HMAP_IOC_WATCH, &w);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, replace(b, NAME));
	n = read(wfd, &u, sizeof(u));
	ASSERT_EQ(sizeof(u.ev), n);
	EXPECT_EQ(HMAP_EVENT_REPLACED, u.ev.op);
	EXPECT_EQ(map_id(b), u.ev.version);
	EXPECT_EQ(w.seq + 1, u.ev.seq);
	EXPECT_EQ(0, u.ev.key_size);
	/* The watch still reports the old map's changes. */
	ASSERT_EQ(0, hmap_update(a, &k, &v, HMAP_ANY));
	n = read(wfd, &u, sizeof(u));
	ASSERT_LT(0, n);
	EXPECT_EQ(HMAP_EVENT_UPDATE, u.ev.op);
	EXPECT_EQ(w.seq + 2, u.ev.seq);
	close(wfd);
	close(a);
	close(b);
	EXPECT_EQ(0, hmap_unpublish(NAME));
}

#define READERS		4
#define GENERATIONS	200

/*
 * Readers open the name and look up a key in a loop while the name moves
 * to a new map GENERATIONS times: every open and lookup succeeds, and the
 * value each sees is one some map held (they never see a torn or missing
 * map), and never goes back in time for one reader.
 */
TEST(replace_under_concurrent_opens)
{
	atomic_int *stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[READERS];
	int fd, i, status, g;
	__u64 freed, k = 5, v;

	ASSERT_NE(MAP_FAILED, stop);
	fd = new_map(8, 8, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, publish(fd, NAME, 0600, 0));
	close(fd);
	for (i = 0; i < READERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			__u64 last = 0, opens = 0;

			while (!atomic_load(stop)) {
				int r = hmap_open_by_name(NAME, HMAP_F_RDONLY);

				if (r < 0)
					_exit(1);
				if (hmap_lookup(r, &k, &v))
					_exit(2);
				if (v < last || v > GENERATIONS)
					_exit(3);
				last = v;
				opens++;
				close(r);
			}
			_exit(opens ? 0 : 4);
		}
	}
	for (g = 1; g <= GENERATIONS; g++) {
		fd = new_map(8, 8, g);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, replace(fd, NAME));
		close(fd);
	}
	atomic_store(stop, 1);
	for (i = 0; i < READERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	fd = hmap_open_by_name(NAME, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(GENERATIONS, v);
	close(fd);
	/* Every replaced map was freed; the last one goes with its name. */
	freed = settle_frees();
	EXPECT_EQ(stat_num("maps_released"), freed);
	EXPECT_EQ(0, hmap_unpublish(NAME));
	EXPECT_EQ(freed + 1, settle_frees());
	munmap(stop, 4096);
}

TEST_HARNESS_MAIN
