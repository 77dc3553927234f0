// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/hmap commands: every command, flag and documented errno, the
 * struct-size contract, read-only fds, published names and their
 * permissions, ids, lifetime, fdinfo and debugfs.
 *
 * Runs as root and again as an unprivileged user; tests that need root to
 * set up (module parameters, other uids) skip in the second run.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#include "map_fixture.h"

TEST_F(map, create_validates)
{
	struct hmap_create c;
	struct {
		__u32 ks, vs, max, hint;
		const char *name;
		__u32 flags;
	} bad[] = {
		{ 0, 8, 10, 0, "", 0 },
		{ HMAP_MAX_KEY_SIZE + 1, 8, 10, 0, "", 0 },
		{ 8, 0, 10, 0, "", 0 },
		{ 8, HMAP_MAX_VALUE_SIZE + 1, 10, 0, "", 0 },
		{ 8, 8, 0, 0, "", 0 },
		{ 8, 8, HMAP_MAX_ENTRIES + 1, 0, "", 0 },
		{ 8, 8, 10, 11, "", 0 },
		{ 8, 8, 10, 0, "bad name", 0 },
		{ 8, 8, 10, 0, "slash/", 0 },
		{ 8, 8, 10, 0, "", 0x20 },
		{ 8, 8, 10, 0, "", 1U << 31 },
	};
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.key_size = bad[i].ks;
		c.value_size = bad[i].vs;
		c.max_entries = bad[i].max;
		c.capacity_hint = bad[i].hint;
		c.flags = bad[i].flags;
		strcpy(c.name, bad[i].name);
		EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_CREATE, &c)) TH_LOG("case %u", i);
	}
	/* A label must be NUL-terminated, with zeros after the NUL. */
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.key_size = c.value_size = c.max_entries = 8;
	memset(c.name, 'a', sizeof(c.name));
	EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_CREATE, &c));
	memset(c.name, 0, sizeof(c.name));
	c.name[0] = 'a';
	c.name[5] = 'b';
	EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_CREATE, &c));
	/* Largest sizes are fine, and the new fd is close-on-exec. */
	fd = hmap_create("big-ok_1.x", HMAP_MAX_KEY_SIZE, HMAP_MAX_VALUE_SIZE,
			 HMAP_MAX_ENTRIES, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_F(map, lookup_update_delete)
{
	__u64 k = 1, v, bad_flags[] = { HMAP_NOEXIST | HMAP_EXIST, 4, 1ULL << 63 };
	struct hmap_elem_op op = { .size = sizeof(op) };
	unsigned int i;
	int err;

	EXPECT_EQ(-ENOENT, hmap_lookup(self->fd, &k, &v));
	EXPECT_EQ(-ENOENT, put(self->fd, 1, 10, HMAP_EXIST));
	EXPECT_EQ(0, put(self->fd, 1, 10, HMAP_NOEXIST));
	EXPECT_EQ(-EEXIST, put(self->fd, 1, 11, HMAP_NOEXIST));
	EXPECT_EQ(10, get(self->fd, 1, &err));
	EXPECT_EQ(0, put(self->fd, 1, 12, HMAP_EXIST));
	EXPECT_EQ(12, get(self->fd, 1, &err));
	EXPECT_EQ(0, put(self->fd, 1, 10, HMAP_ANY));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-EINVAL, put(self->fd, 2, 20, bad_flags[i]));
	EXPECT_TRUE(holds_exactly(self->fd, 2) == false);
	EXPECT_EQ(0, put(self->fd, 0, 0, HMAP_ANY));
	EXPECT_TRUE(holds_exactly(self->fd, 2));

	/* Reserved fields and flags the command does not take. */
	op.key = p64(&k);
	op.value = p64(&v);
	op.__reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_LOOKUP, &op));
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_UPDATE, &op));
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_DELETE, &op));
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_LOOKUP_AND_DELETE, &op));
	op.__reserved = 0;
	op.flags = HMAP_NOEXIST;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_LOOKUP, &op));
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_LOOKUP_AND_DELETE, &op));
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_DELETE, &op));
	/* DELETE takes no value pointer. */
	op.flags = 0;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_DELETE, &op));
	EXPECT_TRUE(holds_exactly(self->fd, 2));

	k = 1;
	EXPECT_EQ(0, hmap_delete(self->fd, &k));
	EXPECT_EQ(-ENOENT, hmap_delete(self->fd, &k));
	EXPECT_EQ(-ENOENT, hmap_lookup(self->fd, &k, &v));
	EXPECT_TRUE(holds_exactly(self->fd, 1));
}

TEST_F(map, lookup_and_delete)
{
	__u64 k = 3, v = 0;

	fill(_metadata, self->fd, 5);
	EXPECT_EQ(0, hmap_lookup_and_delete(self->fd, &k, &v));
	EXPECT_EQ(30, v);
	EXPECT_EQ(-ENOENT, hmap_lookup_and_delete(self->fd, &k, &v));
	EXPECT_EQ(-ENOENT, hmap_lookup(self->fd, &k, &v));
	ASSERT_EQ(0, put(self->fd, 3, 30, HMAP_ANY));
	EXPECT_TRUE(holds_exactly(self->fd, 5));
}

TEST_F(map, full_map_is_e2big)
{
	__u64 k;

	fill(_metadata, self->fd, 100);
	EXPECT_EQ(-E2BIG, put(self->fd, 100, 1000, HMAP_ANY));
	EXPECT_EQ(-E2BIG, put(self->fd, 100, 1000, HMAP_NOEXIST));
	/* Replacing needs no room. */
	EXPECT_EQ(0, put(self->fd, 7, 70, HMAP_EXIST));
	EXPECT_TRUE(holds_exactly(self->fd, 100));
	k = 99;
	ASSERT_EQ(0, hmap_delete(self->fd, &k));
	EXPECT_EQ(0, put(self->fd, 99, 990, HMAP_NOEXIST));
	EXPECT_TRUE(holds_exactly(self->fd, 100));
}

/* A full walk visits each key once; deleting the cursor does not restart it. */
TEST_F(map, get_next_key)
{
	struct hmap_get_next_key g = { .size = sizeof(g), .flags = 1 };
	__u64 cur, next, seen[100] = { 0 };
	int n = 0, ret;

	EXPECT_EQ(-ENOENT, hmap_get_next_key(self->fd, NULL, &next));
	fill(_metadata, self->fd, 100);
	g.next_key = p64(&next);
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_GET_NEXT_KEY, &g));
	for (ret = hmap_get_next_key(self->fd, NULL, &cur); !ret;
	     ret = hmap_get_next_key(self->fd, &cur, &next), cur = next) {
		ASSERT_LT(cur, 100);
		seen[cur]++;
		/* Delete every third key we stand on. */
		if (n++ % 3 == 0)
			ASSERT_EQ(0, hmap_delete(self->fd, &cur));
		ASSERT_LT(n, 101);
	}
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_EQ(100, n);
	for (n = 0; n < 100; n++)
		EXPECT_EQ(1, seen[n]);
	/* A key never in the map still has a successor, or ENOENT. */
	cur = 12345;
	ret = hmap_get_next_key(self->fd, &cur, &next);
	EXPECT_TRUE(ret == 0 || ret == -ENOENT);
}

TEST_F(map, clear)
{
	struct hmap_clear c = { .size = sizeof(c), .flags = 1 };

	fill(_metadata, self->fd, 50);
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_CLEAR, &c));
	EXPECT_TRUE(holds_exactly(self->fd, 50));
	EXPECT_EQ(0, hmap_clear(self->fd));
	EXPECT_TRUE(holds_exactly(self->fd, 0));
	fill(_metadata, self->fd, 10);
	EXPECT_TRUE(holds_exactly(self->fd, 10));
}

TEST_F(map, info)
{
	struct hmap_info info;
	__u64 k = 1, v;

	fill(_metadata, self->fd, 10);
	ASSERT_EQ(0, hmap_lookup(self->fd, &k, &v));
	k = 1000;
	ASSERT_EQ(-ENOENT, hmap_lookup(self->fd, &k, &v));
	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_EQ(8, info.key_size);
	EXPECT_EQ(8, info.value_size);
	EXPECT_EQ(100, info.max_entries);
	EXPECT_EQ(10, info.count);
	EXPECT_EQ(0, info.map_flags);
	EXPECT_NE(0, info.id);
	EXPECT_EQ(geteuid(), info.owner_uid);
	EXPECT_STREQ("fixture", info.name);
	EXPECT_STREQ("", info.pub_name);
	EXPECT_GE(info.bytes, 10 * 16);
	EXPECT_GE(info.buckets, 8);
	EXPECT_EQ(2, info.lookups);
	EXPECT_EQ(1, info.hits);
	EXPECT_EQ(10, info.updates);
	EXPECT_EQ(0, info.deletes);
	info.size = sizeof(info);
	info.flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_INFO, &info));
}

TEST_F(map, fdinfo)
{
	char path[64], text[2048], want[64];
	ssize_t n;
	int f;

	fill(_metadata, self->fd, 7);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", self->fd);
	f = open(path, O_RDONLY);
	ASSERT_LE(0, f);
	n = read(f, text, sizeof(text) - 1);
	close(f);
	ASSERT_GT(n, 0);
	text[n] = 0;
	snprintf(want, sizeof(want), "hmap_id:\t%u\n", self->info.id);
	EXPECT_NE(NULL, strstr(text, want)) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "name:\tfixture\n"));
	EXPECT_NE(NULL, strstr(text, "key_size:\t8\n"));
	EXPECT_NE(NULL, strstr(text, "value_size:\t8\n"));
	EXPECT_NE(NULL, strstr(text, "max_entries:\t100\n"));
	EXPECT_NE(NULL, strstr(text, "count:\t7\n"));
	EXPECT_NE(NULL, strstr(text, "updates:\t7\n"));
	EXPECT_NE(NULL, strstr(text, "lookups:\t"));
	EXPECT_NE(NULL, strstr(text, "resizes:\t"));
	EXPECT_NE(NULL, strstr(text, "bytes:\t"));
}

TEST_F(map, read_only_fd)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_RDONLY };
	struct hmap_info info;
	__u64 k = 0, v;
	int ro, rw;

	fill(_metadata, self->fd, 3);
	ASSERT_EQ(0, hmap_publish(self->fd, "ro_test", 0600));
	ro = hmap_open_by_name("ro_test", HMAP_F_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(0, hmap_lookup(ro, &k, &v));
	EXPECT_EQ(-EPERM, put(ro, 5, 50, HMAP_ANY));
	EXPECT_EQ(-EPERM, hmap_delete(ro, &k));
	EXPECT_EQ(-EPERM, hmap_lookup_and_delete(ro, &k, &v));
	EXPECT_EQ(-EPERM, hmap_clear(ro));
	EXPECT_EQ(-EPERM, hmap_publish(ro, "ro_test2", 0600));
	ASSERT_EQ(0, hmap_info(ro, &info));
	EXPECT_EQ(HMAP_F_RDONLY, info.map_flags);
	EXPECT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, hmap_get_next_key(ro, NULL, &v));
	EXPECT_TRUE(holds_exactly(self->fd, 3));
	close(ro);
	/* A map can be created read-only: useful only once it is published. */
	rw = hmap_create("rdonly", 4, 4, 4, &o);
	ASSERT_LE(0, rw);
	EXPECT_EQ(-EPERM, hmap_update(rw, &k, &k, 0));
	close(rw);
	EXPECT_EQ(0, hmap_unpublish("ro_test"));
}

TEST_F(map, publish_open_unpublish)
{
	struct hmap_publish p = { .size = sizeof(p), .mode = 0600 };
	struct hmap_open_by_name o = { .size = sizeof(o) };
	struct hmap_unpublish u = { .size = sizeof(u) };
	struct hmap_info info;
	int fd2, other;
	__u64 k = 4, v;

	fill(_metadata, self->fd, 5);
	EXPECT_EQ(-EINVAL, hmap_publish(self->fd, "", 0600));
	EXPECT_EQ(-EINVAL, hmap_publish(self->fd, "a b", 0600));
	EXPECT_EQ(-EINVAL, hmap_publish(self->fd, "abc", 0700));
	EXPECT_EQ(-EINVAL, hmap_publish(self->fd, "abc", 01600));
	strcpy(p.name, "abc");
	p.name[10] = 'x';
	EXPECT_EQ(-EINVAL, xioctl(self->fd, HMAP_IOC_PUBLISH, &p));
	EXPECT_EQ(0, hmap_publish(self->fd, "pub_test", 0640));
	EXPECT_EQ(-EBUSY, hmap_publish(self->fd, "pub_test2", 0600));
	other = hmap_create(NULL, 4, 4, 4, NULL);
	ASSERT_LE(0, other);
	EXPECT_EQ(-EEXIST, hmap_publish(other, "pub_test", 0600));
	close(other);

	ASSERT_EQ(0, hmap_info(self->fd, &info));
	EXPECT_STREQ("pub_test", info.pub_name);
	EXPECT_EQ(0640, info.pub_mode);
	EXPECT_EQ(geteuid(), info.pub_uid);
	EXPECT_EQ(getegid(), info.pub_gid);

	fd2 = hmap_open_by_name("pub_test", 0);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, hmap_lookup(fd2, &k, &v));
	EXPECT_EQ(40, v);
	/* Both fds reach the same map. */
	EXPECT_EQ(0, put(fd2, 5, 50, HMAP_NOEXIST));
	EXPECT_TRUE(holds_exactly(self->fd, 6));
	close(fd2);

	EXPECT_EQ(-ENOENT, hmap_open_by_name("nope", 0));
	EXPECT_EQ(-EINVAL, hmap_open_by_name("", 0));
	EXPECT_EQ(-EINVAL, hmap_open_by_name("a/b", 0));
	strcpy(o.name, "pub_test");
	o.flags = 2;
	EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_OPEN_BY_NAME, &o));
	strcpy(u.name, "pub_test");
	u.flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_UNPUBLISH, &u));
	EXPECT_EQ(-EINVAL, hmap_unpublish("bad name"));
	EXPECT_EQ(-ENOENT, hmap_unpublish("nope"));
	EXPECT_EQ(0, hmap_unpublish("pub_test"));
	EXPECT_EQ(-ENOENT, hmap_unpublish("pub_test"));
	EXPECT_EQ(-ENOENT, hmap_open_by_name("pub_test", 0));
	/* The name is free again, and the map may take another. */
	EXPECT_EQ(0, hmap_publish(self->fd, "pub_test3", 0600));
	EXPECT_EQ(0, hmap_unpublish("pub_test3"));
}

/* A published map outlives its creator; an id never keeps one alive. */
TEST_F(map, lifetime)
{
	struct hmap_info info;
	__u64 k = 1, v = 11;
	int fd, fd2;
	__u32 id;

	fd = hmap_create("life", 8, 8, 10, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, &v, 0));
	ASSERT_EQ(0, hmap_info(fd, &info));
	id = info.id;
	ASSERT_EQ(0, hmap_publish(fd, "life_test", 0600));
	close(fd);

	fd = hmap_open_by_id(id, 0);
	ASSERT_LE(0, fd);
	v = 0;
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(11, v);
	close(fd);
	fd = hmap_open_by_name("life_test", HMAP_F_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, hmap_unpublish("life_test"));
	/* Still alive through fd. */
	fd2 = hmap_open_by_id(id, 0);
	ASSERT_LE(0, fd2);
	close(fd2);
	close(fd);
	/* Now nothing refers to it: the id is dead at once. */
	EXPECT_EQ(-ENOENT, hmap_open_by_id(id, 0));
	EXPECT_EQ(-ENOENT, hmap_open_by_id(0, 0));
	EXPECT_EQ(-ENOENT, hmap_open_by_id(0xffffffffu, 0));
}

TEST_F(map, open_by_id_and_next_id)
{
	struct hmap_open_by_id o = { .size = sizeof(o), .id = self->info.id };
	struct hmap_get_next_id g = { .size = sizeof(g) };
	__u32 id = 0, found = 0;
	int fd, ret;

	fd = hmap_open_by_id(self->info.id, HMAP_F_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
	o.flags = 4;
	EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_OPEN_BY_ID, &o));
	o.flags = 0;
	o.__reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_OPEN_BY_ID, &o));
	g.__reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->dev, HMAP_IOC_GET_NEXT_ID, &g));

	while (!(ret = hmap_get_next_id(id, &id)))
		found += id == self->info.id;
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_EQ(1, found);
	EXPECT_EQ(-ENOENT, hmap_get_next_id(0x7fffffff, &id));
}

/* What another user may do with a published map depends on its mode. */
struct perm_arg {
	const char *name;
	__u32 id;
	__u32 flags;
};

static int try_open_name(void *p)
{
	struct perm_arg *a = p;
	int fd = hmap_open_by_name(a->name, a->flags);
	__u64 k = 0, v = 0;

	if (fd < 0)
		return -fd;
	/* Opened: a read must work; a write only on a writable fd. */
	if (hmap_lookup(fd, &k, &v) && errno != ENOENT)
		return 200;
	if (!(a->flags & HMAP_F_RDONLY) && hmap_update(fd, &k, &v, 0))
		return 201;
	close(fd);
	return 0;
}

static int try_open_id(void *p)
{
	struct perm_arg *a = p;
	int fd = hmap_open_by_id(a->id, a->flags);

	if (fd < 0)
		return -fd;
	close(fd);
	return 0;
}

static int try_unpublish(void *p)
{
	return -hmap_unpublish(((struct perm_arg *)p)->name);
}

TEST_F(map, permissions_across_users)
{
	struct perm_arg a = { .name = "perm_test", .id = self->info.id };

	if (geteuid())
		SKIP(return, "needs root to act as other users");
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	/* Owner root:UNPRIV_UID group, mode 0640. */
	ASSERT_EQ(0, setegid(UNPRIV_UID));
	ASSERT_EQ(0, hmap_publish(self->fd, "perm_test", 0640));
	ASSERT_EQ(0, setegid(0));

	/* Group members may read, not write; others may do nothing. */
	a.flags = HMAP_F_RDONLY;
	EXPECT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, try_open_name, &a));
	a.flags = 0;
	EXPECT_EQ(EACCES, run_as(UNPRIV_UID, UNPRIV_UID, try_open_name, &a));
	a.flags = HMAP_F_RDONLY;
	EXPECT_EQ(EACCES, run_as(OTHER_UID, OTHER_UID, try_open_name, &a));
	/* The owner's bits apply to the owner (root here, who may anyway). */
	a.flags = 0;
	EXPECT_EQ(0, try_open_name(&a));
	/* Ids: only the creator or CAP_SYS_ADMIN; others learn nothing. */
	EXPECT_EQ(ENOENT, run_as(UNPRIV_UID, UNPRIV_UID, try_open_id, &a));
	EXPECT_EQ(0, try_open_id(&a));
	/* Only the name's owner or CAP_SYS_ADMIN may unpublish it. */
	EXPECT_EQ(EPERM, run_as(UNPRIV_UID, UNPRIV_UID, try_unpublish, &a));
	EXPECT_EQ(0, hmap_unpublish("perm_test"));

	/* Mode 0606: others may write; the group bits (none) bind the group. */
	ASSERT_EQ(0, hmap_publish(self->fd, "perm_test", 0606));
	a.flags = 0;
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, try_open_name, &a));
	EXPECT_EQ(0, hmap_unpublish("perm_test"));
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0600));
}

/* A map created by another user, seen by this one (the unprivileged run). */
static int create_and_publish(void *p)
{
	int fd = hmap_create("theirs", 8, 8, 4, NULL);
	__u64 k = 1, v = 2;

	if (fd < 0)
		return -fd;
	if (hmap_update(fd, &k, &v, 0) || hmap_publish(fd, "theirs", 0644))
		return errno;
	return 0;
}

/* Reads back what create_and_publish() wrote: 0 only if it is there. */
static int read_theirs(void *p)
{
	int fd = hmap_open_by_name("theirs", HMAP_F_RDONLY);
	__u64 k = 1, v = 0;

	if (fd < 0)
		return -fd;
	if (hmap_lookup(fd, &k, &v))
		return errno;
	close(fd);
	return v == 2 ? 0 : 100;
}

TEST_F(map, unprivileged_user_limits)
{
	struct perm_arg a = { .name = "theirs" };
	struct hmap_info info;
	int fd;

	if (geteuid())
		SKIP(return, "needs root to act as other users");
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	ASSERT_EQ(0, run_as(OTHER_UID, OTHER_UID, create_and_publish, NULL));
	fd = hmap_open_by_name("theirs", HMAP_F_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(OTHER_UID, info.owner_uid);
	EXPECT_EQ(OTHER_UID, info.pub_uid);
	a.id = info.id;
	close(fd);
	/* Mode 0644: another user reads what the owner wrote... */
	EXPECT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, read_theirs, NULL));
	/* ...but cannot write, open by id or unpublish. */
	a.flags = HMAP_F_RDONLY;
	EXPECT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, try_open_name, &a));
	a.flags = 0;
	EXPECT_EQ(EACCES, run_as(UNPRIV_UID, UNPRIV_UID, try_open_name, &a));
	EXPECT_EQ(ENOENT, run_as(UNPRIV_UID, UNPRIV_UID, try_open_id, &a));
	EXPECT_EQ(EPERM, run_as(UNPRIV_UID, UNPRIV_UID, try_unpublish, &a));
	/* Its owner may do all three. */
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, try_open_name, &a));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, try_open_id, &a));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, try_unpublish, &a));
	EXPECT_EQ(-ENOENT, hmap_open_by_name("theirs", 0));
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0600));
}

static int create_one(void *p)
{
	int fd = hmap_create(NULL, 4, 4, 4, NULL);

	return fd < 0 ? -fd : 0;
}

TEST_F(map, max_maps_is_enospc)
{
	long long live, old;
	char num[32];
	int fd;

	if (geteuid())
		SKIP(return, "needs root to set module parameters");
	old = read_num(HMAP_PARAM("max_maps"), NULL);
	/* Closed maps count until freed: let earlier tests' maps go. */
	settle_frees();
	live = read_num(HMAP_STATS, "maps_live");
	ASSERT_GT(live, 0);
	snprintf(num, sizeof(num), "%lld", live);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_maps"), num));
	EXPECT_EQ(-ENOSPC, hmap_create(NULL, 4, 4, 4, NULL));
	EXPECT_EQ(live, read_num(HMAP_STATS, "maps_live"));
	snprintf(num, sizeof(num), "%lld", live + 1);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_maps"), num));
	fd = hmap_create(NULL, 4, 4, 4, NULL);
	EXPECT_LE(0, fd);
	EXPECT_EQ(ENOSPC, create_one(NULL));
	close(fd);
	snprintf(num, sizeof(num), "%lld", old);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_maps"), num));
}

TEST_F(map, max_bytes_is_enomem)
{
	long long used, old;
	char num[32];
	__u64 k;
	int ret = 0;

	if (geteuid())
		SKIP(return, "needs root to set module parameters");
	/* Maps of earlier tests must not free their bytes under the limit. */
	settle_frees();
	fill(_metadata, self->fd, 10);
	old = read_num(HMAP_PARAM("max_bytes"), NULL);
	used = read_num(HMAP_STATS, "bytes_used");
	ASSERT_GT(used, 0);
	snprintf(num, sizeof(num), "%lld", used + 4096);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_bytes"), num));
	for (k = 10; k < 100 && !(ret = put(self->fd, k, k * 10, HMAP_ANY)); k++)
		;
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_LT(k, 100);
	/* The failed insert left nothing behind. */
	EXPECT_TRUE(holds_exactly(self->fd, k));
	snprintf(num, sizeof(num), "%lld", old);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_bytes"), num));
	EXPECT_EQ(0, put(self->fd, k, k * 10, HMAP_ANY));
}

static int fill_fds_then(void *p)
{
	struct rlimit r = { 16, 16 };
	int (*what)(void) = p;
	int ret;

	if (setrlimit(RLIMIT_NOFILE, &r))
		return 254;
	while (dup(0) >= 0)
		;
	ret = what();
	return ret < 0 ? -ret : 0;
}

static int do_create(void)
{
	return hmap_create(NULL, 4, 4, 4, NULL);
}

static int do_open_name(void)
{
	return hmap_open_by_name("emfile_test", 0);
}

static __u32 emfile_id;

static int do_open_id(void)
{
	return hmap_open_by_id(emfile_id, 0);
}

/* Out of fds: EMFILE, and nothing leaks (the map of a failed CREATE dies). */
TEST_F(map, no_fd_left_is_emfile)
{
	long long live = read_num(HMAP_STATS, "maps_live");

	ASSERT_EQ(0, hmap_publish(self->fd, "emfile_test", 0666));
	/* The device fd itself needs one: leave none for the new map. */
	EXPECT_EQ(EMFILE, run_as(geteuid(), getegid(), fill_fds_then, do_create));
	EXPECT_EQ(EMFILE, run_as(geteuid(), getegid(), fill_fds_then, do_open_name));
	emfile_id = self->info.id;
	EXPECT_EQ(EMFILE, run_as(geteuid(), getegid(), fill_fds_then, do_open_id));
	EXPECT_EQ(0, hmap_unpublish("emfile_test"));
	/*
	 * No map left behind by the failures (others may have gone
	 * meanwhile). A failed CREATE's map counts until its grace period
	 * ends, slow on a debug kernel with offloaded callbacks: wait for it.
	 */
	settle_frees();
	if (live >= 0)
		EXPECT_LE(read_num(HMAP_STATS, "maps_live"), live);
}

/*
 * With the system's file table full, an unprivileged CREATE or OPEN fails
 * with ENFILE (root is exempt from file-max, hence the uid switch).
 */
static int enfile_child(void *unused)
{
	int dev = open_dev(), ret = 0, i;
	struct hmap_create c = {
		.size = sizeof(c), .key_size = 4, .value_size = 4, .max_entries = 4,
	};
	struct hmap_open_by_name o = { .size = sizeof(o), .name = "enfile_test" };

	/*
	 * The kernel compares file-max with a per-CPU counter read without
	 * summing first: hold enough files that its global part is above 1.
	 */
	for (i = 0; i < 200; i++)
		if (open("/dev/null", O_RDONLY) < 0)
			return 249;
	if (dev < 0 || write_str("/proc/sys/fs/file-max", "1"))
		return 250;
	if (setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
	    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
		ret = 251;
	else if ((ret = -xioctl(dev, HMAP_IOC_CREATE, &c)) == ENFILE)
		ret = -xioctl(dev, HMAP_IOC_OPEN_BY_NAME, &o);
	/* ENFILE from both is success; otherwise the errno that came instead. */
	return ret == ENFILE ? 0 : ret ? ret : 252;
}

TEST_F(map, no_file_left_is_enfile)
{
	char old[64] = "";
	long long live = read_num(HMAP_STATS, "maps_live");
	FILE *f;

	if (geteuid())
		SKIP(return, "needs root to set fs.file-max");
	f = fopen("/proc/sys/fs/file-max", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(old, sizeof(old), f));
	fclose(f);
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	ASSERT_EQ(0, hmap_publish(self->fd, "enfile_test", 0666));
	EXPECT_EQ(0, run_as(0, 0, enfile_child, NULL));
	ASSERT_EQ(0, write_str("/proc/sys/fs/file-max", old));
	EXPECT_EQ(0, hmap_unpublish("enfile_test"));
	EXPECT_EQ(0, chmod(HMAP_DEV_PATH, 0600));
	/* No map left behind by the failures, once freed (see above). */
	settle_frees();
	EXPECT_LE(read_num(HMAP_STATS, "maps_live"), live);
}

TEST_F(map, debugfs_lists_maps)
{
	char line[512], want[64];
	bool found = false;
	FILE *f;

	if (geteuid())
		SKIP(return, "debugfs is root-only");
	f = fopen("/sys/kernel/debug/hmap/maps", "r");
	ASSERT_NE(NULL, f);
	snprintf(want, sizeof(want), "%u\tfixture\t8\t8\t100\t", self->info.id);
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, want, strlen(want));
	fclose(f);
	EXPECT_TRUE(found);
	EXPECT_GE(read_num(HMAP_STATS, "maps_created"),
		  read_num(HMAP_STATS, "maps_released") + 1);
}

TEST_HARNESS_MAIN
