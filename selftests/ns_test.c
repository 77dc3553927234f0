// SPDX-License-Identifier: GPL-2.0
/*
 * Containers: published names and map ids belong to an IPC namespace, so
 * that two containers on one host can neither open nor list each other's
 * maps; names go when their namespace ends (unless something still holds
 * it); uids and gids come back in the caller's user namespace; and a
 * container's root has its capabilities over its own maps only. Runs as
 * root: each test makes its namespaces with unshare(2) in children.
 */
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

static int publish(int fd, const char *name, __u32 mode, __u32 flags,
		   __u32 uid, __u32 gid)
{
	struct hmap_publish p = { .size = sizeof(p), .mode = mode,
				  .flags = flags, .uid = uid, .gid = gid };

	strncpy(p.name, name, sizeof(p.name) - 1);
	return xioctl(fd, HMAP_IOC_PUBLISH, &p);
}

static __u32 map_id(int fd)
{
	struct hmap_info info = { .size = sizeof(info) };

	return hmap_info(fd, &info) ? 0 : info.id;
}

/* Whether GET_NEXT_ID lists @id to the caller. */
static bool listed(__u32 id)
{
	__u32 cur = 0, next;

	while (!hmap_get_next_id(cur, &next)) {
		if (next == id)
			return true;
		cur = next;
	}
	return false;
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 255;
	return WEXITSTATUS(st);
}

/* Polls INFO of @fd until its published name is empty; ms waited or -1. */
static int wait_unnamed(int fd, int max_ms)
{
	struct hmap_info info = { .size = sizeof(info) };
	int ms;

	for (ms = 0; ms <= max_ms; ms += 50) {
		if (hmap_info(fd, &info))
			return -1;
		if (!info.pub_name[0])
			return ms;
		usleep(50 * 1000);
	}
	return -1;
}

/*
 * The same name in two IPC namespaces names two maps; each side opens its
 * own, and neither can remove the other's.
 */
TEST(names_are_per_ipc_namespace)
{
	int fd = hmap_create("host", 8, 8, 16, NULL), sv[2], cfd, o;
	__u32 host_id = map_id(fd), child_id;
	pid_t pid;

	ASSERT_LE(0, fd);
	hmap_unpublish("ns_same");
	ASSERT_EQ(0, publish(fd, "ns_same", 0600, 0, 0, 0));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int m;

		if (unshare(CLONE_NEWIPC))
			_exit(1);
		/* The host's name is not here, whoever asks. */
		if (hmap_open_by_name("ns_same", 0) != -ENOENT)
			_exit(2);
		if (hmap_unpublish("ns_same") != -ENOENT)
			_exit(3);
		m = hmap_create("child", 8, 8, 16, NULL);
		if (m < 0 || publish(m, "ns_same", 0600, 0, 0, 0))
			_exit(4);
		o = hmap_open_by_name("ns_same", 0);
		if (o < 0 || map_id(o) != map_id(m))
			_exit(5);
		if (send_fd(sv[1], m))
			_exit(6);
		/* Stay alive, so the name does, until the parent is done. */
		read(sv[1], &o, 1);
		_exit(0);
	}
	close(sv[1]);	/* a child that fails early ends the wait */
	cfd = recv_fd(sv[0]);
	ASSERT_LE(0, cfd);
	child_id = map_id(cfd);
	ASSERT_NE(host_id, child_id);
	o = hmap_open_by_name("ns_same", 0);
	ASSERT_LE(0, o);
	EXPECT_EQ(host_id, map_id(o));
	close(o);
	write(sv[0], "x", 1);
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(0, hmap_unpublish("ns_same"));
	close(cfd);
	close(fd);
	close(sv[0]);
}

/*
 * Ids do not cross namespaces: even root cannot open or list a map of
 * another IPC namespace by id.
 */
TEST(ids_are_per_ipc_namespace)
{
	int fd = hmap_create("host", 8, 8, 16, NULL), sv[2], cfd;
	__u32 host_id = map_id(fd), child_id;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_TRUE(listed(host_id));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int m, c;

		if (unshare(CLONE_NEWIPC))
			_exit(1);
		if (hmap_open_by_id(host_id, 0) != -ENOENT)
			_exit(2);
		if (listed(host_id))
			_exit(3);
		m = hmap_create("child", 8, 8, 16, NULL);
		if (m < 0 || !listed(map_id(m)))
			_exit(4);
		c = hmap_open_by_id(map_id(m), HMAP_F_RDONLY);
		if (c < 0)
			_exit(5);
		if (send_fd(sv[1], m))
			_exit(6);
		read(sv[1], &c, 1);
		_exit(0);
	}
	close(sv[1]);	/* a child that fails early ends the wait */
	cfd = recv_fd(sv[0]);
	ASSERT_LE(0, cfd);
	child_id = map_id(cfd);
	ASSERT_NE(0, child_id);
	/* The map lives (the parent holds an fd), yet is not the host's. */
	EXPECT_EQ(-ENOENT, hmap_open_by_id(child_id, 0));
	EXPECT_FALSE(listed(child_id));
	write(sv[0], "x", 1);
	EXPECT_EQ(0, wait_child(pid));
	close(cfd);
	close(fd);
	close(sv[0]);
}

/* A map is named only in the namespace it was made in: EXDEV elsewhere. */
TEST(publish_elsewhere_is_exdev)
{
	int fd = hmap_create("host", 8, 8, 16, NULL);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWIPC))
			_exit(1);
		if (publish(fd, "ns_exdev", 0600, 0, 0, 0) != -EXDEV)
			_exit(2);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(-ENOENT, hmap_open_by_name("ns_exdev", 0));
	close(fd);
}

/*
 * When the last task of an IPC namespace goes, its names go (within the
 * reaper's second), as its message queues do; maps still open by fd stay
 * until their fds close. While an fd of /proc/PID/ns/ipc holds the
 * namespace, its names stay and setns() finds them.
 */
TEST(names_end_with_their_namespace)
{
	int sv[2], cfd, nsfd, ms;
	char path[64];
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 k = 1, v = 42;
		int m;

		if (unshare(CLONE_NEWIPC))
			_exit(1);
		m = hmap_create("child", 8, 8, 16, NULL);
		if (m < 0 || hmap_update(m, &k, &v, HMAP_ANY) ||
		    publish(m, "ns_gone", 0600, 0, 0, 0) || send_fd(sv[1], m))
			_exit(2);
		read(sv[1], &m, 1);
		_exit(0);
	}
	close(sv[1]);	/* a child that fails early ends the wait */
	cfd = recv_fd(sv[0]);
	ASSERT_LE(0, cfd);
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nsfd);
	write(sv[0], "x", 1);
	ASSERT_EQ(0, wait_child(pid));

	/* Held by nsfd: the name is still there after three reaper turns. */
	usleep(3 * 1000 * 1000);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 k = 1, v = 0;
		int o;

		if (setns(nsfd, CLONE_NEWIPC))
			_exit(1);
		o = hmap_open_by_name("ns_gone", HMAP_F_RDONLY);
		if (o < 0)
			_exit(2);
		if (hmap_lookup(o, &k, &v) || v != 42)
			_exit(3);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(-1, wait_unnamed(cfd, 0));

	/* The last hold on the namespace goes: so does the name. */
	close(nsfd);
	ms = wait_unnamed(cfd, 5000);
	EXPECT_LE(0, ms);
	TH_LOG("the name went %d ms after its namespace", ms);
	/* The map itself lives on through the fd, entries and all. */
	{
		__u64 k = 1, v = 0;

		EXPECT_EQ(0, hmap_lookup(cfd, &k, &v));
		EXPECT_EQ(42, v);
	}
	close(cfd);
	close(sv[0]);
}

/* A child in a new IPC namespace publishing @name; its map's fd comes back. */
static int ns_child(const char *name, bool stay, int *sock, pid_t *pidp)
{
	int sv[2], fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;
		int m;

		close(sv[0]);
		if (unshare(CLONE_NEWIPC))
			_exit(1);
		m = hmap_create("nsc", 8, 8, 4, NULL);
		if (m < 0 || publish(m, name, 0600, 0, 0, 0) || send_fd(sv[1], m))
			_exit(2);
		if (stay)
			read(sv[1], &c, 1);
		_exit(0);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	*sock = sv[0];
	*pidp = pid;
	return fd;
}

/*
 * Dead namespaces whose maps fds still hold are reaped once: however many
 * there are, the next namespace to end loses its names within seconds.
 */
TEST(held_dead_namespaces_do_not_stall_the_reaper)
{
	int old, held[12], sock, osock, i, ms;
	pid_t pid, opid;
	char name[32];

	old = ns_child("ns_old", true, &osock, &opid);
	ASSERT_LE(0, old);
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "ns_held%d", i);
		held[i] = ns_child(name, false, &sock, &pid);
		ASSERT_LE(0, held[i]);
		ASSERT_EQ(0, wait_child(pid));
		close(sock);
	}
	for (i = 0; i < 12; i++)
		ASSERT_LE(0, wait_unnamed(held[i], 5000)) TH_LOG("held %d", i);
	/* The oldest namespace ends last, behind twelve held dead ones. */
	ASSERT_EQ(1, write(osock, "x", 1));
	ASSERT_EQ(0, wait_child(opid));
	ms = wait_unnamed(old, 5000);
	EXPECT_LE(0, ms);
	TH_LOG("the name went %d ms after its namespace", ms);
	for (i = 0; i < 12; i++)
		close(held[i]);
	close(old);
	close(osock);
}

/*
 * In a child that enters the IPC namespace of @nsfd and runs as @uid (0:
 * stays root): creates a map and publishes it 0600 as @name. 0 or a step.
 */
static int publish_in(int nsfd, uid_t uid, const char *name)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return 255;
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWIPC))
			_exit(1);
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(2);
		fd = hmap_create("in_ns", 8, 8, 16, NULL);
		if (fd < 0 || publish(fd, name, 0600, 0, 0, 0))
			_exit(3);
		_exit(0);
	}
	return wait_child(pid);
}

/* Writes "inside outside 1" maps for @pid. */
static int map_ids(pid_t pid, unsigned int inside, unsigned int outside,
		   unsigned int count)
{
	char path[64], line[64];

	snprintf(line, sizeof(line), "%u %u %u\n", inside, outside, count);
	snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
	write_str(path, "deny");
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	if (write_str(path, line))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	return write_str(path, line);
}

/*
 * A container: a user namespace mapping 0..999 to 100000..100999 that owns
 * a new IPC namespace. Its uids come back as the container sees them, and
 * as the host sees them on the host; its root has CAP_DAC_OVERRIDE and
 * CAP_SYS_ADMIN over the maps of its namespace whose owners it maps, not
 * over a map the host put there under a host uid.
 */
TEST(container_uids_and_capabilities)
{
	int go[2], sv[2], cfd, nsfd;
	struct hmap_info info = { .size = sizeof(info) };
	char path[64];
	struct stat st;
	pid_t pid, h;

	/* The container's root is nobody to the host: open the device up. */
	ASSERT_EQ(0, stat(HMAP_DEV_PATH, &st));
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct hmap_info ci = { .size = sizeof(ci) };
		char c;
		int m, o;

		if (unshare(CLONE_NEWUSER | CLONE_NEWIPC))
			_exit(1);
		write(sv[1], "u", 1);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
			_exit(3);
		/* uid 5's map, published 0600 as uid 5, then back to root. */
		o = fork();
		if (o == 0) {
			if (setresgid(5, 5, 5) || setresuid(5, 5, 5))
				_exit(1);
			m = hmap_create("c5", 8, 8, 16, NULL);
			if (m < 0 || publish(m, "ns_c5", 0600, 0, 0, 0))
				_exit(2);
			_exit(0);
		}
		if (wait_child(o))
			_exit(4);
		/* Root of the container: DAC override and its admin rights. */
		o = hmap_open_by_name("ns_c5", 0);
		if (o < 0 || hmap_info(o, &ci))
			_exit(5);
		if (ci.owner_uid != 5 || ci.pub_uid != 5 || ci.pub_gid != 5)
			_exit(6);
		if (hmap_open_by_id(ci.id, 0) < 0 || !listed(ci.id))
			_exit(7);
		/* OWNER: chown to a uid of the container; not to an unmapped one. */
		m = hmap_create("c0", 8, 8, 16, NULL);
		if (m < 0 || publish(m, "ns_c0", 0640, HMAP_PUBLISH_OWNER, 7, 8))
			_exit(8);
		if (hmap_info(m, &ci) || ci.pub_uid != 7 || ci.pub_gid != 8)
			_exit(9);
		if (publish(hmap_create("cx", 8, 8, 16, NULL), "ns_cx", 0600,
			    HMAP_PUBLISH_OWNER, 5000, 5000) != -EINVAL)
			_exit(10);
		if (send_fd(sv[1], m))
			_exit(11);
		/* Wait for the host to put its own map into this namespace. */
		if (read(go[0], &c, 1) != 1)
			_exit(12);
		if (hmap_open_by_name("ns_host", HMAP_F_RDONLY) != -EACCES)
			_exit(13);
		if (hmap_unpublish("ns_host") != -EPERM)
			_exit(14);
		write(sv[1], "d", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	close(sv[1]);	/* a child that fails early ends the wait */
	ASSERT_EQ(1, read(sv[0], path, 1));
	ASSERT_EQ(0, map_ids(pid, 0, 100000, 1000));
	ASSERT_EQ(1, write(go[1], "g", 1));
	cfd = recv_fd(sv[0]);
	ASSERT_LE(0, cfd);
	/* The host sees the container's uids as they are on the host. */
	ASSERT_EQ(0, hmap_info(cfd, &info));
	EXPECT_EQ(100000, info.owner_uid);
	EXPECT_EQ(100007, info.pub_uid);
	EXPECT_EQ(100008, info.pub_gid);

	/* The host's root enters the namespace and names a root-owned map. */
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nsfd);
	ASSERT_EQ(0, publish_in(nsfd, 0, "ns_host"));
	/*
	 * A host agent (uid 1000, unmapped in the container) names a 0600
	 * map there; the host's root, which maps every uid, still opens it.
	 */
	ASSERT_EQ(0, publish_in(nsfd, UNPRIV_UID, "ns_agent"));
	h = fork();
	ASSERT_LE(0, h);
	if (h == 0) {
		if (setns(nsfd, CLONE_NEWIPC))
			_exit(1);
		if (hmap_open_by_name("ns_agent", 0) < 0)
			_exit(2);
		_exit(hmap_unpublish("ns_agent") ? 3 : 0);
	}
	EXPECT_EQ(0, wait_child(h));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(sv[0], path, 1));
	ASSERT_EQ(1, write(go[1], "e", 1));
	EXPECT_EQ(0, wait_child(pid));
	chmod(HMAP_DEV_PATH, st.st_mode & 07777);
	close(nsfd);
	close(cfd);
	close(go[0]);
	close(go[1]);
	close(sv[0]);
}

TEST_HARNESS_MAIN
