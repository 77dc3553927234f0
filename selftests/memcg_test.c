// SPDX-License-Identifier: GPL-2.0
/*
 * Memory accounting: a map's entries are charged to the memory cgroup of the
 * process that created the map, whoever writes them.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define CG	"/sys/fs/cgroup"
#define CG_A	CG "/hmap_a"
#define CG_B	CG "/hmap_b"
#define NVALS	1000
#define VSIZE	4096

static int join(const char *cg)
{
	char path[128], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_str(path, pid);
}

static long long current(const char *cg)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return read_num(path, NULL);
}

/* In cgroup A: create and publish the map, then exit. */
static int creator(void *unused)
{
	int fd;

	if (join(CG_A))
		return 10;
	fd = hmap_create("memcg", 4, VSIZE, NVALS, NULL);
	if (fd < 0)
		return -fd;
	return -hmap_publish(fd, "memcg_test", 0600);
}

/* In cgroup B: fill the map. */
static int writer(void *unused)
{
	static char v[VSIZE];
	int fd, ret;
	__u32 k;

	if (join(CG_B))
		return 10;
	fd = hmap_open_by_name("memcg_test", 0);
	if (fd < 0)
		return -fd;
	for (k = 0; k < NVALS; k++) {
		memset(v, k, sizeof(v));
		ret = hmap_update(fd, &k, v, 0);
		if (ret)
			return -ret;
	}
	return 0;
}

FIXTURE(memcg) {};

FIXTURE_SETUP(memcg)
{
	struct stat st;

	if (geteuid())
		SKIP(return, "needs root for cgroups");
	if (stat(CG "/cgroup.controllers", &st))
		ASSERT_EQ(0, mount("none", CG, "cgroup2", 0, NULL));
	ASSERT_EQ(0, write_str(CG "/cgroup.subtree_control", "+memory"));
	mkdir(CG_A, 0755);
	mkdir(CG_B, 0755);
}

FIXTURE_TEARDOWN(memcg)
{
	if (geteuid())
		return;
	hmap_unpublish("memcg_test");
	rmdir(CG_A);
	rmdir(CG_B);
}

TEST_F(memcg, charged_to_creator_not_writer)
{
	long long a0, b0, a1, b1;

	ASSERT_EQ(0, run_as(0, 0, creator, NULL));
	a0 = current(CG_A);
	b0 = current(CG_B);
	ASSERT_GE(a0, 0);
	ASSERT_GE(b0, 0);
	ASSERT_EQ(0, run_as(0, 0, writer, NULL));
	a1 = current(CG_A);
	b1 = current(CG_B);
	TH_LOG("creator's cgroup %+lld bytes, writer's cgroup %+lld bytes",
	       a1 - a0, b1 - b0);
	/* At least the values themselves went to the creator... */
	EXPECT_GE(a1 - a0, (long long)NVALS * VSIZE);
	/* ...and far less than that to the writer (its own stack, pages). */
	EXPECT_LT(b1 - b0, (long long)NVALS * VSIZE / 4);
}

TEST_HARNESS_MAIN
