// SPDX-License-Identifier: GPL-2.0
/*
 * A cache shared by many processes: atomic counters (HMAP_IOC_ADD),
 * compare-and-swap by value (HMAP_IOC_CMPXCHG) and by version
 * (HMAP_IF_VERSION on UPDATE and DELETE), multi-get (HMAP_IOC_LOOKUP_MULTI),
 * and the counters INFO and fdinfo keep of them.
 *
 * The concurrent tests run processes (each with its own fd, opened by id)
 * of several threads, and check more than the final sum: every increment
 * must have seen a different value before it, so a lost or doubled update
 * shows even when the errors happen to cancel out. Workers never use the
 * harness macros; they report through memory shared with the test.
 */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define NPROC		4
#define NTHR		4
#define NOPS		500	/* per thread, per key, for ADD */
#define TOTAL		(NPROC * NTHR * NOPS)
#define NCAS		200	/* successful CAS per thread */
#define CAS_TOTAL	(NPROC * NTHR * NCAS)

/* An ADD delta of 2^32 + 1: +1 modulo 2^32, more modulo 2^64. */
#define D_WIDE		((__s64)0x100000001LL)

/* The size of struct hmap_elem_op before @version was appended. */
#define ELEM_OP_SIZE_V0	offsetof(struct hmap_elem_op, version)

static __u64 p64(const void *p)
{
	return (__u64)(uintptr_t)p;
}

/* ------------------------------------------------------------------ */
/* Raw commands, for what libhmap hides (versions, outputs, sizes). */

static int raw_add(int fd, __u64 key, __s64 delta, __u32 flags,
		   struct hmap_add *a)
{
	static __thread __u64 k;

	k = key;
	*a = (struct hmap_add){
		.size = sizeof(*a), .flags = flags, .key = p64(&k),
		.delta = delta,
	};
	return xioctl(fd, HMAP_IOC_ADD, a);
}

static int put64(int fd, __u64 k, __u64 v)
{
	return hmap_update(fd, &k, &v, HMAP_ANY);
}

static int put32(int fd, __u64 k, __u32 v)
{
	return hmap_update(fd, &k, &v, HMAP_ANY);
}

/* The value of an 8-byte (or 4-byte, zero-extended) counter; ~0 if absent. */
static __u64 get_ctr(int fd, __u64 k, int vsize, __u64 *version)
{
	__u64 v64 = 0, ver = 0;
	__u32 v32 = 0;
	int ret;

	if (vsize == 4)
		ret = hmap_lookup_version(fd, &k, &v32, &ver);
	else
		ret = hmap_lookup_version(fd, &k, &v64, &ver);
	if (version)
		*version = ret ? 0 : ver;
	if (ret)
		return ~0ULL;
	return vsize == 4 ? v32 : v64;
}

static __u32 map_count(int fd)
{
	struct hmap_info info;

	if (hmap_info(fd, &info))
		return ~0U;
	return info.count;
}

/* For maps of value_size 64 at most. */
static bool present(int fd, __u64 k)
{
	__u8 v[64];

	return hmap_lookup(fd, &k, v) == 0;
}

/* ------------------------------------------------------------------ */
/* Processes of threads, reporting through shared memory. */

struct shared {
	atomic_int ready;	/* workers at the start line */
	int total;		/* workers in all */
	__u32 id;		/* the map, for the children to open */
	int vsize;
	__u64 start;		/* key 0's value before the workers */
	atomic_long errors;
	atomic_long stale;	/* ESTALE results the workers saw */
	atomic_long lookups;	/* LOOKUP commands the workers issued */
	char msg[200];		/* the first error */
	atomic_uchar seen[TOTAL + CAS_TOTAL + 1];
};

static void fail(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&sh->errors, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(sh->msg, sizeof(sh->msg), fmt, ap);
	va_end(ap);
}

static struct shared *shared_new(void)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return sh == MAP_FAILED ? NULL : sh;
}

struct worker;
typedef void (*work_fn)(struct worker *w);

struct worker {
	struct shared *sh;
	int fd;
	int idx;		/* 0 .. total - 1 */
	work_fn fn;
};

/*
 * Waits until every worker is ready, so that they all run at once. Not a
 * sleep: if one never comes (it failed to start, and says so), the others
 * go after 10 s rather than hang.
 */
static void start_line(struct shared *sh)
{
	struct timespec t0, t;

	atomic_fetch_add(&sh->ready, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&sh->ready) < sh->total) {
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			break;
	}
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	start_line(w->sh);
	w->fn(w);
	return NULL;
}

static int run_threads(struct shared *sh, int fd, int base, int nthr,
		       work_fn fn)
{
	struct worker w[NTHR];
	pthread_t th[NTHR];
	int i, n;

	for (n = 0; n < nthr; n++) {
		w[n] = (struct worker){ .sh = sh, .fd = fd, .idx = base + n,
					.fn = fn };
		if (pthread_create(&th[n], NULL, thread_main, &w[n])) {
			fail(sh, "pthread_create failed");
			break;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return n == nthr ? 0 : -1;
}

/*
 * Runs @fn in @nthr threads in each of @nproc child processes, each process
 * on its own fd of map sh->id. Returns the number of children that did not
 * exit cleanly.
 */
static int run_procs(struct shared *sh, int nproc, int nthr, work_fn fn)
{
	pid_t pids[NPROC];
	int i, status, bad = 0;

	sh->total = nproc * nthr;
	atomic_store(&sh->ready, 0);
	for (i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			fail(sh, "fork: %s", strerror(errno));
			bad++;
		}
		if (pids[i] == 0) {
			int fd = hmap_open_by_id(sh->id, 0);

			if (fd < 0) {
				fail(sh, "open_by_id: %d", fd);
				_exit(1);
			}
			_exit(run_threads(sh, fd, i * nthr, nthr, fn) ? 1 : 0);
		}
	}
	for (i = 0; i < nproc; i++) {
		if (pids[i] <= 0)
			continue;
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	return bad;
}

/* Each of 1 .. n seen exactly once. */
static long count_unseen(struct shared *sh, long n)
{
	long i, bad = 0;

	for (i = 1; i <= n; i++)
		bad += atomic_load(&sh->seen[i]) != 1;
	return bad;
}

/* ------------------------------------------------------------------ */
/* 1. ADD: exact counters. */

/*
 * Key 0: +1, and every new value must be new (no two adds saw the same
 * value before them). Key 1: -3, below zero. Key 2: +(2^32 + 1).
 */
static void add_work(struct worker *w)
{
	struct shared *sh = w->sh;
	__u64 mask = sh->vsize == 4 ? 0xffffffffULL : ~0ULL;
	static const __s64 delta[3] = { 1, -3, D_WIDE };
	__u64 k, old, new, idx;
	int i, ret;

	for (i = 0; i < NOPS; i++) {
		for (k = 0; k < 3; k++) {
			old = 0xdeadbeefdeadbeefULL;
			new = old;
			ret = hmap_add(w->fd, &k, delta[k], 0, &old, &new);
			if (ret) {
				fail(sh, "add key %llu: %d", k, ret);
				return;
			}
			if ((old | new) & ~mask ||
			    new != ((old + (__u64)delta[k]) & mask)) {
				fail(sh, "add key %llu of %lld: old %#llx new %#llx",
				     k, (long long)delta[k], old, new);
				return;
			}
			if (k)
				continue;
			idx = (new - sh->start) & mask;
			if (!idx || idx > TOTAL ||
			    atomic_fetch_add(&sh->seen[idx], 1)) {
				fail(sh, "add key 0: new value %#llx twice or out of range",
				     new);
				return;
			}
		}
	}
}

static void add_exact(struct __test_metadata *_metadata, int vsize)
{
	__u64 mask = vsize == 4 ? 0xffffffffULL : ~0ULL;
	__u64 start = mask - TOTAL / 2;	/* wraps around half-way */
	struct shared *sh = shared_new();
	struct hmap_info info;
	int fd;

	ASSERT_NE(NULL, sh);
	fd = hmap_create("sc_add", 8, vsize, 16, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	if (vsize == 4) {
		ASSERT_EQ(0, put32(fd, 0, start));
		ASSERT_EQ(0, put32(fd, 1, 0));
		ASSERT_EQ(0, put32(fd, 2, 0));
	} else {
		ASSERT_EQ(0, put64(fd, 0, start));
		ASSERT_EQ(0, put64(fd, 1, 0));
		ASSERT_EQ(0, put64(fd, 2, 0));
	}
	sh->id = info.id;
	sh->vsize = vsize;
	sh->start = start;

	EXPECT_EQ(0, run_procs(sh, NPROC, NTHR, add_work));
	EXPECT_EQ(0, atomic_load(&sh->errors)) TH_LOG("%s", sh->msg);
	EXPECT_EQ(0, count_unseen(sh, TOTAL));
	EXPECT_EQ((start + TOTAL) & mask, get_ctr(fd, 0, vsize, NULL));
	EXPECT_EQ((-3ULL * TOTAL) & mask, get_ctr(fd, 1, vsize, NULL));
	EXPECT_EQ(((__u64)D_WIDE * TOTAL) & mask, get_ctr(fd, 2, vsize, NULL));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(3 * TOTAL, info.adds);
	EXPECT_EQ(3, info.updates);	/* the three UPDATEs, not the adds */
	EXPECT_EQ(3, info.count);
	close(fd);
	munmap(sh, sizeof(*sh));
}

TEST(add_exact_u64_procs_threads)
{
	add_exact(_metadata, 8);
}

TEST(add_exact_u32_procs_threads)
{
	add_exact(_metadata, 4);
}

/* Wrap-around at 2^64 and 2^32, negative deltas, outputs zero-extended. */
TEST(add_wraps_and_goes_negative)
{
	struct hmap_add a;
	__u64 ver;
	int fd;

	fd = hmap_create("sc_wrap64", 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put64(fd, 1, ~0ULL));
	ASSERT_EQ(0, raw_add(fd, 1, 1, 0, &a));
	EXPECT_EQ(~0ULL, a.old_value);
	EXPECT_EQ(0, a.new_value);
	EXPECT_EQ(0, get_ctr(fd, 1, 8, &ver));
	EXPECT_EQ(ver, a.version);
	EXPECT_NE(0, a.version);
	ASSERT_EQ(0, raw_add(fd, 1, -1, 0, &a));
	EXPECT_EQ(0, a.old_value);
	EXPECT_EQ(~0ULL, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 1, -5, 0, &a));
	EXPECT_EQ(~0ULL - 5, a.new_value);
	EXPECT_EQ(-6LL, (__s64)get_ctr(fd, 1, 8, NULL));
	/* Round the whole circle: INT64_MIN twice is zero. */
	ASSERT_EQ(0, put64(fd, 2, 0));
	ASSERT_EQ(0, raw_add(fd, 2, INT64_MIN, 0, &a));
	EXPECT_EQ(0x8000000000000000ULL, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 2, INT64_MIN, 0, &a));
	EXPECT_EQ(0x8000000000000000ULL, a.old_value);
	EXPECT_EQ(0, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 2, INT64_MAX, 0, &a));
	ASSERT_EQ(0, raw_add(fd, 2, INT64_MAX, 0, &a));
	EXPECT_EQ(~0ULL - 1, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 2, D_WIDE, 0, &a));
	EXPECT_EQ(0xffffffffULL, a.new_value);
	EXPECT_EQ(0xffffffffULL, get_ctr(fd, 2, 8, NULL));
	close(fd);

	fd = hmap_create("sc_wrap32", 8, 4, 4, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put32(fd, 1, 0xffffffffU));
	ASSERT_EQ(0, raw_add(fd, 1, 1, 0, &a));
	EXPECT_EQ(0xffffffffULL, a.old_value);
	EXPECT_EQ(0, a.new_value);
	EXPECT_EQ(0, get_ctr(fd, 1, 4, NULL));
	/* Below zero: 2^32 - 1, zero-extended, not sign-extended. */
	ASSERT_EQ(0, raw_add(fd, 1, -1, 0, &a));
	EXPECT_EQ(0, a.old_value);
	EXPECT_EQ(0xffffffffULL, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 1, -0x10, 0, &a));
	EXPECT_EQ(0xffffffefULL, a.new_value);
	EXPECT_EQ(0xffffffefULL, get_ctr(fd, 1, 4, NULL));
	/* The delta counts modulo 2^32 too. */
	ASSERT_EQ(0, put32(fd, 2, 7));
	ASSERT_EQ(0, raw_add(fd, 2, D_WIDE, 0, &a));
	EXPECT_EQ(7, a.old_value);
	EXPECT_EQ(8, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 2, 0x100000000LL, 0, &a));
	EXPECT_EQ(8, a.old_value);
	EXPECT_EQ(8, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 2, INT64_MIN, 0, &a));
	EXPECT_EQ(8, a.new_value);
	ASSERT_EQ(0, raw_add(fd, 2, -0x100000009LL, 0, &a));
	EXPECT_EQ(0xffffffffULL, a.new_value);
	EXPECT_EQ(0xffffffffULL, get_ctr(fd, 2, 4, NULL));
	close(fd);
}

TEST(add_create)
{
	static const int sizes[] = { 8, 4 };
	struct hmap_add a;
	__u64 ver, mask;
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		mask = sizes[i] == 4 ? 0xffffffffULL : ~0ULL;
		fd = hmap_create("sc_create", 8, sizes[i], 8, NULL);
		ASSERT_LE(0, fd);
		/* Absent, in an empty map, then in one with a table. */
		EXPECT_EQ(-ENOENT, raw_add(fd, 5, 1, 0, &a));
		EXPECT_EQ(0, map_count(fd));
		ASSERT_EQ(0, sizes[i] == 4 ? put32(fd, 9, 0) : put64(fd, 9, 0));
		EXPECT_EQ(-ENOENT, raw_add(fd, 5, 1, 0, &a));
		EXPECT_FALSE(present(fd, 5));
		EXPECT_EQ(1, map_count(fd));

		ASSERT_EQ(0, raw_add(fd, 5, -7, HMAP_ADD_CREATE, &a));
		EXPECT_EQ(0, a.old_value);
		EXPECT_EQ(-7ULL & mask, a.new_value);
		EXPECT_EQ(-7ULL & mask, get_ctr(fd, 5, sizes[i], &ver));
		EXPECT_EQ(ver, a.version);
		EXPECT_NE(0, a.version);
		EXPECT_EQ(2, map_count(fd));
		/* Present: CREATE adds as usual. */
		ASSERT_EQ(0, raw_add(fd, 5, 10, HMAP_ADD_CREATE, &a));
		EXPECT_EQ(-7ULL & mask, a.old_value);
		EXPECT_EQ(3, a.new_value);
		EXPECT_NE(ver, a.version);
		EXPECT_EQ(3, get_ctr(fd, 5, sizes[i], NULL));
		/* Creating with 0 makes a zero counter. */
		ASSERT_EQ(0, raw_add(fd, 6, 0, HMAP_ADD_CREATE, &a));
		EXPECT_EQ(0, a.old_value);
		EXPECT_EQ(0, a.new_value);
		EXPECT_EQ(0, get_ctr(fd, 6, sizes[i], NULL));
		EXPECT_EQ(3, map_count(fd));
		close(fd);
	}
}

/* Only 4- and 8-byte values add, and that is checked before the key. */
TEST(add_value_size_checked_first)
{
	static const int sizes[] = { 1, 2, 3, 5, 7, 16 };
	__u8 val[16], back[16];
	struct hmap_add a;
	unsigned int i;
	__u64 k = 1;
	int fd;

	memset(val, 0x5a, sizeof(val));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		fd = hmap_create("sc_size", 8, sizes[i], 8, NULL);
		ASSERT_LE(0, fd);
		EXPECT_EQ(-EOPNOTSUPP, raw_add(fd, 1, 1, 0, &a))
			TH_LOG("value_size %d, empty map", sizes[i]);
		EXPECT_EQ(-EOPNOTSUPP, raw_add(fd, 1, 1, HMAP_ADD_CREATE, &a))
			TH_LOG("value_size %d, empty map, CREATE", sizes[i]);
		EXPECT_EQ(0, map_count(fd));
		ASSERT_EQ(0, hmap_update(fd, &k, val, HMAP_ANY));
		EXPECT_EQ(-EOPNOTSUPP, raw_add(fd, 2, 1, 0, &a));
		EXPECT_EQ(-EOPNOTSUPP, raw_add(fd, 2, 1, HMAP_ADD_CREATE, &a));
		EXPECT_EQ(-EOPNOTSUPP, raw_add(fd, 1, 1, 0, &a));
		EXPECT_EQ(1, map_count(fd));
		memset(back, 0, sizeof(back));
		ASSERT_EQ(0, hmap_lookup(fd, &k, back));
		EXPECT_EQ(0, memcmp(val, back, sizes[i]));
		EXPECT_EQ(-EOPNOTSUPP, hmap_add(fd, &k, 1, 0, NULL, NULL));
		close(fd);
	}
}

TEST(add_bad_flags_and_sizes)
{
	static const __u32 bad[] = { 2, 3, 0x80000000U, ~0U };
	struct { struct hmap_add a; __u64 tail; } big;
	struct hmap_add a;
	unsigned int i;
	__u64 k = 1;
	int fd;

	fd = hmap_create("sc_flags", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put64(fd, 1, 100));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, raw_add(fd, 1, 1, bad[i], &a));
		EXPECT_EQ(-EINVAL, raw_add(fd, 2, 1, bad[i], &a));
	}
	/* A struct too small to hold the outputs. */
	a = (struct hmap_add){ .size = offsetof(struct hmap_add, version),
			       .key = p64(&k), .delta = 1 };
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_ADD, &a));
	/* A larger one: zeros after it are fine, anything else is not. */
	memset(&big, 0, sizeof(big));
	big.a = (struct hmap_add){ .size = sizeof(big), .key = p64(&k),
				   .delta = 1 };
	big.tail = 1;
	EXPECT_EQ(-E2BIG, xioctl(fd, HMAP_IOC_ADD, &big));
	EXPECT_EQ(100, get_ctr(fd, 1, 8, NULL));
	EXPECT_FALSE(present(fd, 2));
	big.tail = 0;
	EXPECT_EQ(0, xioctl(fd, HMAP_IOC_ADD, &big));
	EXPECT_EQ(100, big.a.old_value);
	EXPECT_EQ(101, big.a.new_value);
	EXPECT_EQ(101, get_ctr(fd, 1, 8, NULL));
	/* Nothing to add to: no key. */
	EXPECT_EQ(-EFAULT, hmap_add(fd, NULL, 1, 0, NULL, NULL));
	EXPECT_EQ(-EFAULT, hmap_add(fd, NULL, 1, HMAP_ADD_CREATE, NULL, NULL));
	EXPECT_EQ(101, get_ctr(fd, 1, 8, NULL));
	EXPECT_EQ(1, map_count(fd));
	close(fd);
}

/* ADD and CMPXCHG change a map: a read-only fd may not. */
TEST(rmw_read_only_fd)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_RDONLY };
	__u64 k = 1, exp = 100, des = 200, v;
	struct hmap_info info;
	struct hmap_add a;
	int fd, ro;

	fd = hmap_create("sc_rdonly", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put64(fd, 1, 100));
	ASSERT_EQ(0, hmap_info(fd, &info));
	ro = hmap_open_by_id(info.id, HMAP_F_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EPERM, raw_add(ro, 1, 1, 0, &a));
	EXPECT_EQ(-EPERM, raw_add(ro, 2, 1, HMAP_ADD_CREATE, &a));
	EXPECT_EQ(-EPERM, hmap_cmpxchg(ro, &k, &exp, &des, NULL));
	EXPECT_EQ(100, exp);
	v = 0;
	EXPECT_EQ(0, hmap_lookup(ro, &k, &v));
	EXPECT_EQ(100, v);
	EXPECT_EQ(1, map_count(fd));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.adds);
	EXPECT_EQ(0, info.cmpxchgs);
	close(ro);
	close(fd);

	/* Created read-only: nothing can ever be added. */
	fd = hmap_create("sc_rdonly2", 8, 8, 8, &o);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EPERM, raw_add(fd, 1, 1, HMAP_ADD_CREATE, &a));
	EXPECT_EQ(-EPERM, hmap_cmpxchg(fd, &k, &exp, &des, NULL));
	EXPECT_EQ(0, map_count(fd));
	close(fd);
}

/*
 * The outputs of ADD are checked for writing before the add: with any of
 * them on a read-only page it is EFAULT, and the counter is as it was.
 */
TEST(add_efault_leaves_counter)
{
	long pg = sysconf(_SC_PAGESIZE);
	__u64 k1 = 1, k2 = 2, ver, ver2;
	struct hmap_add *a;
	char *area;
	int fd;

	fd = hmap_create("sc_efault", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put64(fd, 1, 40));
	EXPECT_EQ(40, get_ctr(fd, 1, 8, &ver));
	area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);

	/* The whole struct read-only (but readable, and valid). */
	a = (struct hmap_add *)area;
	*a = (struct hmap_add){ .size = sizeof(*a), .key = p64(&k1),
				.delta = 2 };
	ASSERT_EQ(0, mprotect(area, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_ADD, a));
	EXPECT_EQ(40, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver, ver2);
	/* Nor does it create. */
	ASSERT_EQ(0, mprotect(area, pg, PROT_READ | PROT_WRITE));
	*a = (struct hmap_add){ .size = sizeof(*a), .key = p64(&k2),
				.delta = 2, .flags = HMAP_ADD_CREATE };
	ASSERT_EQ(0, mprotect(area, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_ADD, a));
	EXPECT_FALSE(present(fd, 2));
	EXPECT_EQ(1, map_count(fd));

	/* Only @version, the last output, on the read-only page. */
	ASSERT_EQ(0, mprotect(area, 2 * pg, PROT_READ | PROT_WRITE));
	a = (struct hmap_add *)(area + pg - offsetof(struct hmap_add, version));
	*a = (struct hmap_add){ .size = sizeof(*a), .key = p64(&k1),
				.delta = 2 };
	ASSERT_EQ(0, mprotect(area + pg, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_ADD, a));
	EXPECT_EQ(40, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver, ver2);

	/* Only @old_value, the first output, on the read-only page. */
	ASSERT_EQ(0, mprotect(area, 2 * pg, PROT_READ | PROT_WRITE));
	a = (struct hmap_add *)(area + pg - offsetof(struct hmap_add, new_value));
	*a = (struct hmap_add){ .size = sizeof(*a), .key = p64(&k1),
				.delta = 2 };
	ASSERT_EQ(0, mprotect(area, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_ADD, a));
	EXPECT_EQ(40, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver, ver2);

	/* Writable again: the same struct adds. */
	ASSERT_EQ(0, mprotect(area, 2 * pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, xioctl(fd, HMAP_IOC_ADD, a));
	EXPECT_EQ(40, a->old_value);
	EXPECT_EQ(42, a->new_value);
	EXPECT_EQ(42, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver2, a->version);
	munmap(area, 2 * pg);
	close(fd);
}

TEST(add_create_full_map)
{
	struct hmap_add a;
	__u64 k;
	int fd;

	fd = hmap_create("sc_full", 8, 8, 3, NULL);
	ASSERT_LE(0, fd);
	for (k = 0; k < 3; k++) {
		ASSERT_EQ(0, raw_add(fd, k, 1, HMAP_ADD_CREATE, &a));
	}
	EXPECT_EQ(-E2BIG, raw_add(fd, 3, 1, HMAP_ADD_CREATE, &a));
	EXPECT_EQ(-ENOENT, raw_add(fd, 3, 1, 0, &a));
	EXPECT_FALSE(present(fd, 3));
	EXPECT_EQ(3, map_count(fd));
	/* A full map still counts with the keys it has. */
	for (k = 0; k < 3; k++) {
		ASSERT_EQ(0, raw_add(fd, k, 5, HMAP_ADD_CREATE, &a));
		EXPECT_EQ(6, a.new_value);
	}
	k = 0;
	ASSERT_EQ(0, hmap_delete(fd, &k));
	EXPECT_EQ(0, raw_add(fd, 3, 1, HMAP_ADD_CREATE, &a));
	EXPECT_EQ(1, get_ctr(fd, 3, 8, NULL));
	EXPECT_EQ(3, map_count(fd));
	close(fd);
}

/* ------------------------------------------------------------------ */
/* 2. CMPXCHG: compare-and-swap by value. */

/*
 * The C11 loop: guess, and on ESTALE take the value the kernel wrote back.
 * Every success must have started from a different value.
 */
static void cas_work(struct worker *w)
{
	struct shared *sh = w->sh;
	__u64 k = 0, expected = 0, desired, prev, ver;
	long stale = 0;
	int i, ret;

	for (i = 0; i < NCAS; i++) {
		for (;;) {
			prev = expected;
			desired = expected + 1;
			ver = 0;
			ret = hmap_cmpxchg(w->fd, &k, &expected, &desired, &ver);
			if (!ret)
				break;
			if (ret != -ESTALE) {
				fail(sh, "cmpxchg: %d", ret);
				goto out;
			}
			if (expected == prev || !ver) {
				fail(sh, "ESTALE but expected %llu kept, version %llu",
				     expected, ver);
				goto out;
			}
			stale++;
		}
		if (expected != prev || !ver) {
			fail(sh, "success wrote expected %llu (was %llu) or no version",
			     expected, prev);
			goto out;
		}
		if (prev >= CAS_TOTAL || atomic_fetch_add(&sh->seen[prev + 1], 1)) {
			fail(sh, "cmpxchg from %llu twice or out of range", prev);
			goto out;
		}
		expected = desired;
	}
out:
	atomic_fetch_add(&sh->stale, stale);
}

TEST(cas_value_procs_threads_exact)
{
	struct shared *sh = shared_new();
	struct hmap_info info;
	int fd;

	ASSERT_NE(NULL, sh);
	fd = hmap_create("sc_cas", 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put64(fd, 0, 0));
	ASSERT_EQ(0, hmap_info(fd, &info));
	sh->id = info.id;
	EXPECT_EQ(0, run_procs(sh, NPROC, NTHR, cas_work));
	EXPECT_EQ(0, atomic_load(&sh->errors)) TH_LOG("%s", sh->msg);
	EXPECT_EQ(0, count_unseen(sh, CAS_TOTAL));
	EXPECT_EQ(CAS_TOTAL, get_ctr(fd, 0, 8, NULL));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(CAS_TOTAL, info.cmpxchgs);
	/* Every ESTALE a worker saw, and no other, is a conflict. */
	EXPECT_EQ(atomic_load(&sh->stale), info.conflicts);
	EXPECT_EQ(1, info.updates);
	TH_LOG("%d swaps, %ld conflicts", CAS_TOTAL, atomic_load(&sh->stale));
	close(fd);
	munmap(sh, sizeof(*sh));
}

/* Values of any size are compared whole, down to their last byte. */
TEST(cas_value_sizes)
{
	static const int sizes[] = { 1, 3, 8, 64, 4096 };
	__u8 *a, *b, *c, *exp, *back;
	__u64 k = 7, ver, cur, before;
	unsigned int i;
	int fd, vs, j;

	a = malloc(4096);
	b = malloc(4096);
	c = malloc(4096);
	exp = malloc(4096);
	back = malloc(4096);
	ASSERT_TRUE(a && b && c && exp && back);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		vs = sizes[i];
		for (j = 0; j < vs; j++) {
			a[j] = 0x11 + j * 7;
			c[j] = 0x99 ^ j;
		}
		fd = hmap_create("sc_cas_size", 8, vs, 4, NULL);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, hmap_update_version(fd, &k, a, HMAP_ANY, &before));

		/* Differs in the last byte only, then in the first only. */
		for (j = 0; j < 2; j++) {
			memcpy(b, a, vs);
			b[j ? 0 : vs - 1] ^= 0x40;
			memcpy(exp, b, vs);
			ver = 0;
			EXPECT_EQ(-ESTALE, hmap_cmpxchg(fd, &k, exp, c, &ver))
				TH_LOG("value_size %d", vs);
			EXPECT_EQ(0, memcmp(exp, a, vs)) TH_LOG("value_size %d", vs);
			EXPECT_EQ(before, ver);
			ASSERT_EQ(0, hmap_lookup_version(fd, &k, back, &cur));
			EXPECT_EQ(0, memcmp(back, a, vs));
			EXPECT_EQ(before, cur);
		}

		/* @expected as written back is right: the swap happens. */
		ver = 0;
		EXPECT_EQ(0, hmap_cmpxchg(fd, &k, exp, c, &ver))
			TH_LOG("value_size %d", vs);
		EXPECT_EQ(0, memcmp(exp, a, vs));	/* untouched */
		EXPECT_GT(ver, before);
		ASSERT_EQ(0, hmap_lookup_version(fd, &k, back, &cur));
		EXPECT_EQ(0, memcmp(back, c, vs));
		EXPECT_EQ(ver, cur);
		/* The same swap again is stale now. */
		EXPECT_EQ(-ESTALE, hmap_cmpxchg(fd, &k, exp, a, &ver));
		EXPECT_EQ(0, memcmp(exp, c, vs));
		EXPECT_EQ(cur, ver);
		close(fd);
	}
	free(a);
	free(b);
	free(c);
	free(exp);
	free(back);
}

TEST(cas_errors)
{
	long pg = sysconf(_SC_PAGESIZE);
	__u64 k = 1, k2 = 2, exp, des, ver, ver2;
	struct hmap_cmpxchg c, *rc;
	char *area;
	__u64 *ro;
	int fd;

	fd = hmap_create("sc_cas_err", 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	/* Absent in an empty map, then in one with a table. */
	exp = 0;
	des = 1;
	EXPECT_EQ(-ENOENT, hmap_cmpxchg(fd, &k, &exp, &des, NULL));
	EXPECT_EQ(0, map_count(fd));
	ASSERT_EQ(0, put64(fd, 1, 10));
	EXPECT_EQ(-ENOENT, hmap_cmpxchg(fd, &k2, &exp, &des, NULL));
	EXPECT_EQ(0, exp);
	EXPECT_FALSE(present(fd, 2));
	EXPECT_EQ(10, get_ctr(fd, 1, 8, &ver));

	/* Flags. */
	exp = 10;
	c = (struct hmap_cmpxchg){ .size = sizeof(c), .flags = 1,
				   .key = p64(&k), .expected = p64(&exp),
				   .desired = p64(&des) };
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_CMPXCHG, &c));
	c.flags = 0x80000000U;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_CMPXCHG, &c));
	c.flags = 0;
	c.size = offsetof(struct hmap_cmpxchg, version);
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_CMPXCHG, &c));
	EXPECT_EQ(10, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver, ver2);

	/* Bad pointers. */
	EXPECT_EQ(-EFAULT, hmap_cmpxchg(fd, NULL, &exp, &des, NULL));
	EXPECT_EQ(-EFAULT, hmap_cmpxchg(fd, &k, NULL, &des, NULL));
	EXPECT_EQ(-EFAULT, hmap_cmpxchg(fd, &k, &exp, NULL, NULL));
	EXPECT_EQ(10, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver, ver2);

	area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	/* @version on a read-only page: nothing changes. */
	rc = (struct hmap_cmpxchg *)(area + pg -
				     offsetof(struct hmap_cmpxchg, version));
	*rc = (struct hmap_cmpxchg){ .size = sizeof(*rc), .key = p64(&k),
				     .expected = p64(&exp),
				     .desired = p64(&des) };
	exp = 10;
	des = 11;
	ASSERT_EQ(0, mprotect(area + pg, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_CMPXCHG, rc));
	EXPECT_EQ(10, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver, ver2);

	/* @expected read-only: fine when it matches (it is not written)... */
	ro = (__u64 *)(area + pg);
	ASSERT_EQ(0, mprotect(area, 2 * pg, PROT_READ | PROT_WRITE));
	*ro = 10;
	ASSERT_EQ(0, mprotect(area + pg, pg, PROT_READ));
	des = 11;
	EXPECT_EQ(0, hmap_cmpxchg(fd, &k, ro, &des, &ver2));
	EXPECT_EQ(11, get_ctr(fd, 1, 8, &ver));
	EXPECT_EQ(ver, ver2);
	/* ...EFAULT when the value found cannot be written back. */
	des = 12;
	EXPECT_EQ(-EFAULT, hmap_cmpxchg(fd, &k, ro, &des, NULL));
	EXPECT_EQ(10, *ro);
	EXPECT_EQ(11, get_ctr(fd, 1, 8, &ver2));
	EXPECT_EQ(ver, ver2);
	munmap(area, 2 * pg);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* 3. Compare-and-swap by version. */

static int raw_elem(int fd, unsigned long cmd, __u32 size, __u64 flags,
		    const void *key, const void *value, __u64 version)
{
	struct hmap_elem_op op = {
		.size = size, .flags = flags, .key = p64(key),
		.value = p64(value), .version = version,
	};

	return xioctl(fd, cmd, &op);
}

TEST(version_cas)
{
	__u64 k = 3, v, back, ver1, ver2, ver3, ver, cur;
	int fd;

	fd = hmap_create("sc_version", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	/* Absent, in an empty map. */
	v = 1;
	ver = 1;
	EXPECT_EQ(-ENOENT, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	ver = 1;
	EXPECT_EQ(-ENOENT, hmap_delete_version(fd, &k, &ver));
	EXPECT_EQ(0, map_count(fd));

	/* UPDATE and LOOKUP give the version. */
	v = 100;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver1));
	EXPECT_NE(0, ver1);
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &back, &cur));
	EXPECT_EQ(100, back);
	EXPECT_EQ(ver1, cur);
	/* NOEXIST on a present key: EEXIST, and the current version. */
	v = 1;
	ver = 0;
	EXPECT_EQ(-EEXIST, hmap_update_version(fd, &k, &v, HMAP_NOEXIST, &ver));
	EXPECT_EQ(ver1, ver);

	/* A stale version changes nothing, and learns the current one. */
	v = 200;
	ver = ver1 + 1000;
	EXPECT_EQ(-ESTALE, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	EXPECT_EQ(ver1, ver);
	ver = 0;
	EXPECT_EQ(-ESTALE, hmap_update_version(fd, &k, &v,
					       HMAP_IF_VERSION | HMAP_EXIST, &ver));
	EXPECT_EQ(ver1, ver);
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &back, &cur));
	EXPECT_EQ(100, back);
	EXPECT_EQ(ver1, cur);

	/* The right one succeeds, with a greater version. */
	ver2 = ver1;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver2));
	EXPECT_GT(ver2, ver1);
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &back, &cur));
	EXPECT_EQ(200, back);
	EXPECT_EQ(ver2, cur);
	v = 300;
	ver3 = ver2;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v,
					 HMAP_IF_VERSION | HMAP_EXIST, &ver3));
	EXPECT_GT(ver3, ver2);
	/* The old version is stale now. */
	ver = ver2;
	EXPECT_EQ(-ESTALE, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	EXPECT_EQ(ver3, ver);

	/* DELETE: stale, then right. */
	ver = ver1;
	EXPECT_EQ(-ESTALE, hmap_delete_version(fd, &k, &ver));
	EXPECT_EQ(ver3, ver);
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &back, &cur));
	EXPECT_EQ(300, back);
	EXPECT_EQ(ver3, cur);
	ver = ver3;
	EXPECT_EQ(0, hmap_delete_version(fd, &k, &ver));
	EXPECT_FALSE(present(fd, k));
	/* Absent, in a map with a table. */
	ver = ver3;
	EXPECT_EQ(-ENOENT, hmap_delete_version(fd, &k, &ver));
	EXPECT_EQ(-ENOENT, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	EXPECT_FALSE(present(fd, k));
	close(fd);
}

TEST(version_bad_combinations)
{
	__u64 k = 3, v = 5, back, ver, cur;
	int fd;

	fd = hmap_create("sc_version_inval", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver));
	v = 6;
	/* NOEXIST cannot be conditional on a version. */
	EXPECT_EQ(-EINVAL, raw_elem(fd, HMAP_IOC_UPDATE, sizeof(struct hmap_elem_op),
				    HMAP_IF_VERSION | HMAP_NOEXIST, &k, &v, ver));
	EXPECT_EQ(-EINVAL, raw_elem(fd, HMAP_IOC_UPDATE, sizeof(struct hmap_elem_op),
				    HMAP_IF_VERSION | HMAP_NOEXIST | HMAP_EXIST,
				    &k, &v, ver));
	/* A struct without @version cannot carry one. */
	EXPECT_EQ(-EINVAL, raw_elem(fd, HMAP_IOC_UPDATE, ELEM_OP_SIZE_V0,
				    HMAP_IF_VERSION, &k, &v, 0));
	EXPECT_EQ(-EINVAL, raw_elem(fd, HMAP_IOC_DELETE, ELEM_OP_SIZE_V0,
				    HMAP_IF_VERSION, &k, NULL, 0));
	/* Not for LOOKUP. */
	EXPECT_EQ(-EINVAL, raw_elem(fd, HMAP_IOC_LOOKUP, sizeof(struct hmap_elem_op),
				    HMAP_IF_VERSION, &k, &back, ver));
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &back, &cur));
	EXPECT_EQ(5, back);
	EXPECT_EQ(ver, cur);
	/* The same with a right version and a good struct works. */
	EXPECT_EQ(0, raw_elem(fd, HMAP_IOC_UPDATE, sizeof(struct hmap_elem_op),
			      HMAP_IF_VERSION, &k, &v, ver));
	ASSERT_EQ(0, hmap_lookup(fd, &k, &back));
	EXPECT_EQ(6, back);
	close(fd);
}

/* A version is never given twice: not after a delete, not after CLEAR. */
TEST(version_never_repeats)
{
	enum { ROUNDS = 40 };
	__u64 vers[4 * ROUNDS + 4], k = 9, v = 1, ver, old, back;
	int fd, n = 0, i, j;

	fd = hmap_create("sc_version_aba", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < ROUNDS; i++) {
		/* Same key, same value, every time. */
		ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_NOEXIST, &ver));
		vers[n++] = ver;
		ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_EXIST, &ver));
		vers[n++] = ver;
		ASSERT_EQ(0, hmap_lookup_version(fd, &k, &back, &old));
		EXPECT_EQ(ver, old);
		if (i % 4 == 3) {
			ASSERT_EQ(0, hmap_clear(fd));
		} else {
			ver = old;
			ASSERT_EQ(0, hmap_delete_version(fd, &k, &ver));
		}
		/* Recreated with the same value: the old version is stale. */
		ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver));
		vers[n++] = ver;
		ver = old;
		EXPECT_EQ(-ESTALE, hmap_update_version(fd, &k, &v,
						       HMAP_IF_VERSION, &ver));
		EXPECT_EQ(vers[n - 1], ver);
		ver = old;
		EXPECT_EQ(-ESTALE, hmap_delete_version(fd, &k, &ver));
		ASSERT_EQ(0, hmap_delete(fd, &k));
	}
	for (i = 0; i < n; i++) {
		EXPECT_NE(0, vers[i]);
		for (j = 0; j < i; j++) {
			ASSERT_NE(vers[j], vers[i]) TH_LOG("versions %d and %d", j, i);
		}
	}
	close(fd);
}

/*
 * The version-CAS loop: read value and version, write value + 1 only if
 * the version is still the one read.
 */
static void version_work(struct worker *w)
{
	struct shared *sh = w->sh;
	__u64 flags = HMAP_IF_VERSION | (w->idx & 1 ? HMAP_EXIST : 0);
	__u64 k = 0, v, nv, ver, read_ver;
	long stale = 0, lookups = 0;
	int i, ret;

	for (i = 0; i < NCAS; i++) {
		for (;;) {
			lookups++;
			ret = hmap_lookup_version(w->fd, &k, &v, &ver);
			if (ret || !ver) {
				fail(sh, "lookup_version: %d, version %llu",
				     ret, ver);
				goto out;
			}
			read_ver = ver;
			nv = v + 1;
			ret = hmap_update_version(w->fd, &k, &nv, flags, &ver);
			if (!ret)
				break;
			if (ret != -ESTALE || ver == read_ver) {
				fail(sh, "update_version: %d, version %llu after %llu",
				     ret, ver, read_ver);
				goto out;
			}
			stale++;
		}
		if (ver == read_ver || !ver) {
			fail(sh, "update kept version %llu", ver);
			goto out;
		}
		if (v >= CAS_TOTAL || atomic_fetch_add(&sh->seen[v + 1], 1)) {
			fail(sh, "update from %llu twice or out of range", v);
			goto out;
		}
	}
out:
	atomic_fetch_add(&sh->stale, stale);
	atomic_fetch_add(&sh->lookups, lookups);
}

TEST(version_cas_procs_threads_exact)
{
	struct shared *sh = shared_new();
	struct hmap_info info;
	int fd;

	ASSERT_NE(NULL, sh);
	fd = hmap_create("sc_vcas", 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put64(fd, 0, 0));
	ASSERT_EQ(0, hmap_info(fd, &info));
	sh->id = info.id;
	EXPECT_EQ(0, run_procs(sh, NPROC, NTHR, version_work));
	EXPECT_EQ(0, atomic_load(&sh->errors)) TH_LOG("%s", sh->msg);
	EXPECT_EQ(0, count_unseen(sh, CAS_TOTAL));
	EXPECT_EQ(CAS_TOTAL, get_ctr(fd, 0, 8, NULL));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(CAS_TOTAL + 1, info.updates);
	EXPECT_EQ(atomic_load(&sh->stale), info.conflicts);
	/* The workers' lookups, and the one just above. */
	EXPECT_EQ(atomic_load(&sh->lookups) + 1, info.lookups);
	EXPECT_EQ(info.lookups, info.hits);
	EXPECT_EQ(0, info.cmpxchgs);
	TH_LOG("%d updates, %ld conflicts", CAS_TOTAL, atomic_load(&sh->stale));
	close(fd);
	munmap(sh, sizeof(*sh));
}

/* A caller built before @version: nothing is written past its struct. */
TEST(version_old_struct_not_overrun)
{
	union {
		struct hmap_elem_op op;
		__u8 bytes[64];
	} u;
	/* LOOKUP, UPDATE (also EEXIST), DELETE with the 32-byte struct. */
	static const struct {
		unsigned long cmd;
		__u64 flags;
		int ret;
	} cmds[] = {
		{ HMAP_IOC_LOOKUP, 0, 0 },
		{ HMAP_IOC_UPDATE, HMAP_ANY, 0 },
		{ HMAP_IOC_UPDATE, HMAP_NOEXIST, -EEXIST },
		{ HMAP_IOC_DELETE, 0, 0 },
	};
	__u64 k = 4, v = 44, back = 0, ver, cur;
	int fd, i, j;

	fd = hmap_create("sc_v0", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver));

	for (i = 0; i < (int)ARRAY_SIZE(cmds); i++) {
		memset(u.bytes, 0xa5, sizeof(u.bytes));
		u.op = (struct hmap_elem_op){
			.size = ELEM_OP_SIZE_V0, .flags = cmds[i].flags,
			.key = p64(&k),
			.value = cmds[i].cmd == HMAP_IOC_DELETE ? 0 :
				 cmds[i].cmd == HMAP_IOC_LOOKUP ? p64(&back) :
				 p64(&v),
		};
		memset(u.bytes + ELEM_OP_SIZE_V0, 0xa5,
		       sizeof(u.bytes) - ELEM_OP_SIZE_V0);
		EXPECT_EQ(cmds[i].ret, xioctl(fd, cmds[i].cmd, &u))
			TH_LOG("command %d", i);
		for (j = ELEM_OP_SIZE_V0; j < (int)sizeof(u.bytes); j++) {
			ASSERT_EQ(0xa5, u.bytes[j])
				TH_LOG("command %d wrote byte %d", i, j);
		}
	}
	EXPECT_EQ(44, back);
	EXPECT_FALSE(present(fd, k));

	/* The full struct gets the version back, and nothing past it either. */
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver));
	memset(u.bytes, 0xa5, sizeof(u.bytes));
	u.op = (struct hmap_elem_op){ .size = sizeof(u.op), .key = p64(&k),
				      .value = p64(&back) };
	memset(u.bytes + sizeof(u.op), 0xa5, sizeof(u.bytes) - sizeof(u.op));
	EXPECT_EQ(0, xioctl(fd, HMAP_IOC_LOOKUP, &u));
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &back, &cur));
	EXPECT_EQ(cur, u.op.version);
	EXPECT_EQ(ver, u.op.version);
	for (i = sizeof(u.op); i < (int)sizeof(u.bytes); i++) {
		ASSERT_EQ(0xa5, u.bytes[i]);
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* 4. LOOKUP_MULTI. */

static int multi(int fd, const void *keys, void *vals, void *status,
		 __u32 *count)
{
	struct hmap_batch b = {
		.size = sizeof(b), .keys = p64(keys), .values = p64(vals),
		.status = p64(status), .count = *count,
	};
	int ret = xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b);

	*count = b.count;
	return ret;
}

static __u64 mval(__u64 k)
{
	return k * 3 + 1;
}

/* Even keys 0 .. 2(n-1) hold mval(k). */
static int fill_even(int fd, __u32 n)
{
	__u64 *keys = malloc(n * sizeof(__u64)), *vals = malloc(n * sizeof(__u64));
	__u32 i, count = n;
	int ret;

	if (!keys || !vals)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		keys[i] = 2 * i;
		vals[i] = mval(2 * i);
	}
	ret = hmap_update_batch(fd, keys, vals, NULL, &count, HMAP_ANY, 0);
	if (!ret && count != n)
		ret = -EIO;
	free(keys);
	free(vals);
	return ret;
}

/* Checks a multi-get of keys[0..n): @status read byte-wise (unaligned). */
static long check_multi(const __u64 *keys, const __u64 *vals,
			const void *status, __u32 n, __u32 nfill, long *hits)
{
	long bad = 0;
	__u32 i;
	__s32 st;

	*hits = 0;
	for (i = 0; i < n; i++) {
		bool in = !(keys[i] & 1) && keys[i] < 2ULL * nfill;

		memcpy(&st, (const char *)status + i * sizeof(st), sizeof(st));
		if (st != (in ? 0 : -ENOENT) || vals[i] != (in ? mval(keys[i]) : 0))
			bad++;
		*hits += in;
	}
	return bad;
}

TEST(multi_counts_and_chunks)
{
	static const __u32 counts[] = { 1, 2, 64, 1000, 1023, 1024, 1025, 2049, 5000 };
	enum { MAX = 5000, FILL = 3000 };
	__u64 *keys, *vals;
	struct hmap_info before, after;
	__s32 *status;
	unsigned int c;
	long hits;
	__u32 n, i;
	int fd;

	keys = malloc(MAX * sizeof(*keys));
	vals = malloc(MAX * sizeof(*vals));
	status = malloc(MAX * sizeof(*status));
	ASSERT_TRUE(keys && vals && status);
	fd = hmap_create("sc_multi", 8, 8, 8192, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fill_even(fd, FILL));
	for (i = 0; i < MAX; i++)
		keys[i] = i;

	for (c = 0; c < ARRAY_SIZE(counts); c++) {
		n = counts[c];
		memset(vals, 0xab, MAX * sizeof(*vals));
		memset(status, 0x7f, MAX * sizeof(*status));
		ASSERT_EQ(0, hmap_info(fd, &before));
		ASSERT_EQ(0, hmap_lookup_multi(fd, keys, vals, status, &n))
			TH_LOG("count %u", counts[c]);
		EXPECT_EQ(counts[c], n);
		EXPECT_EQ(0, check_multi(keys, vals, status, counts[c], FILL, &hits))
			TH_LOG("count %u", counts[c]);
		/* Nothing written past @count. */
		if (counts[c] < MAX) {
			EXPECT_EQ(0xababababababababULL, vals[counts[c]]);
			EXPECT_EQ(0x7f7f7f7f, status[counts[c]]);
		}
		ASSERT_EQ(0, hmap_info(fd, &after));
		EXPECT_EQ(before.lookups + counts[c], after.lookups);
		EXPECT_EQ(before.hits + hits, after.hits);
	}

	/* Count 0: nothing read, nothing written, nothing counted. */
	n = 0;
	vals[0] = 0xab;
	status[0] = 0x7f;
	ASSERT_EQ(0, hmap_info(fd, &before));
	EXPECT_EQ(0, hmap_lookup_multi(fd, keys, vals, status, &n));
	EXPECT_EQ(0, n);
	EXPECT_EQ(0xab, vals[0]);
	EXPECT_EQ(0x7f, status[0]);
	n = 0;
	EXPECT_EQ(0, multi(fd, NULL, NULL, status, &n));
	ASSERT_EQ(0, hmap_info(fd, &after));
	EXPECT_EQ(before.lookups, after.lookups);
	close(fd);
	free(keys);
	free(vals);
	free(status);
}

TEST(multi_duplicates_and_order)
{
	__u64 keys[] = { 4, 4, 5, 0, 4, 9999, 2, 5, 0, 4 };
	enum { N = ARRAY_SIZE(keys) };
	__u64 vals[N];
	__s32 status[N];
	struct hmap_info info;
	__u32 n = N;
	long hits;
	int fd;

	fd = hmap_create("sc_multi_dup", 8, 8, 64, NULL);
	ASSERT_LE(0, fd);
	/* Nothing present: all absent, zeroed. */
	memset(vals, 0xee, sizeof(vals));
	ASSERT_EQ(0, hmap_lookup_multi(fd, keys, vals, status, &n));
	EXPECT_EQ(N, n);
	EXPECT_EQ(0, check_multi(keys, vals, status, N, 0, &hits));
	ASSERT_EQ(0, fill_even(fd, 8));
	memset(vals, 0xee, sizeof(vals));
	n = N;
	ASSERT_EQ(0, hmap_lookup_multi(fd, keys, vals, status, &n));
	EXPECT_EQ(N, n);
	EXPECT_EQ(0, check_multi(keys, vals, status, N, 8, &hits));
	EXPECT_EQ(7, hits);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(2 * N, info.lookups);
	EXPECT_EQ(7, info.hits);
	close(fd);
}

/* Keys and values of odd sizes lie one after the other, unpadded. */
TEST(multi_odd_and_large_sizes)
{
	enum { LN = 200, LVS = 4096, LFILL = 100 };
	__u8 keys[7 * 3], vals[7 * 5], kv[5];
	__u8 *lvals, *lkeys;
	__s32 status[LN];
	__u32 n, i, j;
	int fd;

	fd = hmap_create("sc_multi_odd", 3, 5, 16, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < 7; i++) {
		for (j = 0; j < 3; j++)
			keys[i * 3 + j] = i * 16 + j;
		for (j = 0; j < 5; j++)
			kv[j] = i * 32 + j + 1;
		if (i % 3 != 1) {
			ASSERT_EQ(0, hmap_update(fd, &keys[i * 3], kv, HMAP_ANY));
		}
	}
	memset(vals, 0xee, sizeof(vals));
	n = 7;
	ASSERT_EQ(0, hmap_lookup_multi(fd, keys, vals, status, &n));
	EXPECT_EQ(7, n);
	for (i = 0; i < 7; i++) {
		EXPECT_EQ(i % 3 != 1 ? 0 : -ENOENT, status[i]);
		for (j = 0; j < 5; j++) {
			EXPECT_EQ(i % 3 != 1 ? i * 32 + j + 1 : 0, vals[i * 5 + j])
				TH_LOG("key %u byte %u", i, j);
		}
	}
	close(fd);

	/* 4 KiB values: many chunks of a few dozen entries. */
	lvals = malloc(LN * LVS);
	lkeys = malloc(LN * 8);
	ASSERT_TRUE(lvals && lkeys);
	fd = hmap_create("sc_multi_big", 8, LVS, LN, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < LN; i++) {
		__u64 k = i;

		memcpy(lkeys + i * 8, &k, 8);
		if (i < LFILL) {
			memset(lvals, i + 1, LVS);
			lvals[LVS - 1] = ~i;
			ASSERT_EQ(0, hmap_update(fd, &k, lvals, HMAP_ANY));
		}
	}
	memset(lvals, 0xee, LN * LVS);
	n = LN;
	ASSERT_EQ(0, hmap_lookup_multi(fd, lkeys, lvals, status, &n));
	EXPECT_EQ(LN, n);
	for (i = 0; i < LN; i++) {
		__u8 *v = lvals + i * LVS;
		bool ok = true;

		EXPECT_EQ(i < LFILL ? 0 : -ENOENT, status[i]);
		for (j = 0; j < LVS - 1; j++)
			ok &= v[j] == (i < LFILL ? (__u8)(i + 1) : 0);
		ok &= v[LVS - 1] == (i < LFILL ? (__u8)~i : 0);
		EXPECT_TRUE(ok) TH_LOG("value %u", i);
	}
	close(fd);
	free(lvals);
	free(lkeys);
}

TEST(multi_bad_arguments)
{
	__u64 keys[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, vals[8];
	struct hmap_batch b, base;
	struct hmap_info info;
	__s32 status[8];
	int fd, dev;

	fd = hmap_create("sc_multi_inval", 8, 8, 64, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fill_even(fd, 4));
	base = (struct hmap_batch){
		.size = sizeof(b), .keys = p64(keys), .values = p64(vals),
		.status = p64(status), .count = 8,
	};
	b = base;
	EXPECT_EQ(0, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	EXPECT_EQ(8, b.count);

	b = base;
	b.status = 0;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	b = base;
	b.status = 0;
	b.count = 0;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	b = base;
	b.in_cursor = p64(keys);
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	b = base;
	b.out_cursor = p64(keys);
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	b = base;
	b.flags = HMAP_BATCH_CONTINUE;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	b = base;
	b.elem_flags = HMAP_EXIST;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	b = base;
	b.__reserved = 1;
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	b = base;
	b.size = offsetof(struct hmap_batch, count);
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	/* A map command, not a device one. */
	dev = open_dev();
	ASSERT_LE(0, dev);
	b = base;
	EXPECT_EQ(-EBADFD, xioctl(dev, HMAP_IOC_LOOKUP_MULTI, &b));
	close(dev);

	/* Bad pointers: nothing looked up, and @count says so. */
	b = base;
	b.keys = 0;
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	EXPECT_EQ(0, b.count);
	b = base;
	b.values = 0;
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	EXPECT_EQ(0, b.count);
	b = base;
	b.status = 8;
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_LOOKUP_MULTI, &b));
	EXPECT_EQ(0, b.count);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(4, info.count);
	close(fd);
}

/* Unmapped keys and read-only outputs fail cleanly, part-way or at once. */
TEST(multi_efault)
{
	enum { N = 2000, VALID = 1536 };	/* keys past VALID unmapped */
	long pg = sysconf(_SC_PAGESIZE);
	size_t klen = ((N * 8 + pg - 1) / pg) * pg;
	__u64 *keys, *vals, *ro;
	__s32 *status;
	__u32 n, i;
	long hits;
	int fd;

	ASSERT_EQ(0, (VALID * 8) % pg);
	keys = mmap(NULL, klen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, keys);
	vals = malloc(N * sizeof(*vals));
	status = malloc(N * sizeof(*status));
	ASSERT_TRUE(vals && status);
	for (i = 0; i < N; i++)
		keys[i] = i;
	fd = hmap_create("sc_multi_efault", 8, 8, 4096, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fill_even(fd, 1000));

	/* Keys unmapped from VALID on: what was done is done, and right. */
	ASSERT_EQ(0, munmap((char *)keys + VALID * 8, klen - VALID * 8));
	n = N;
	EXPECT_EQ(-EFAULT, multi(fd, keys, vals, status, &n));
	EXPECT_LE(n, VALID);
	EXPECT_EQ(0, check_multi(keys, vals, status, n, 1000, &hits));
	/* All of them unmapped. */
	n = 10;
	EXPECT_EQ(-EFAULT, multi(fd, (char *)keys + VALID * 8, vals, status, &n));
	EXPECT_EQ(0, n);
	/* Those that are mapped are fine. */
	n = VALID;
	EXPECT_EQ(0, multi(fd, keys, vals, status, &n));
	EXPECT_EQ(VALID, n);
	EXPECT_EQ(0, check_multi(keys, vals, status, n, 1000, &hits));

	/* Values, or statuses, read-only: no entry can be delivered. */
	ro = mmap(NULL, 4 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	n = 64;
	EXPECT_EQ(-EFAULT, multi(fd, keys, ro, status, &n));
	EXPECT_EQ(0, n);
	n = 64;
	EXPECT_EQ(-EFAULT, multi(fd, keys, vals, ro, &n));
	EXPECT_EQ(0, n);
	munmap(ro, 4 * pg);
	EXPECT_EQ(1000, map_count(fd));
	close(fd);
	munmap(keys, VALID * 8);
	free(vals);
	free(status);
}

/* @status need not be aligned; a read-only fd may multi-get. */
TEST(multi_unaligned_status_read_only_fd)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_RDONLY };
	__u64 keys[16], vals[16];
	struct hmap_info info;
	char sbuf[16 * 4 + 8];
	__u32 n, i;
	long hits;
	int fd, ro;

	for (i = 0; i < 16; i++)
		keys[i] = 15 - i;
	fd = hmap_create("sc_multi_ro", 8, 8, 64, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fill_even(fd, 5));
	ASSERT_EQ(0, hmap_info(fd, &info));
	ro = hmap_open_by_id(info.id, HMAP_F_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, hmap_info(ro, &info));
	EXPECT_EQ(HMAP_F_RDONLY, info.map_flags & HMAP_F_RDONLY);
	memset(sbuf, 0x7f, sizeof(sbuf));
	n = 16;
	ASSERT_EQ(0, hmap_lookup_multi(ro, keys, vals, (__s32 *)(sbuf + 1), &n));
	EXPECT_EQ(16, n);
	EXPECT_EQ(0, check_multi(keys, vals, sbuf + 1, 16, 5, &hits));
	EXPECT_EQ(5, hits);
	EXPECT_EQ(0x7f, sbuf[0]);
	EXPECT_EQ(0x7f, sbuf[16 * 4 + 1]);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(16, info.lookups);
	EXPECT_EQ(5, info.hits);
	close(ro);
	close(fd);

	/* A map created read-only: multi-get of an empty map. */
	fd = hmap_create("sc_multi_ro2", 8, 8, 64, &o);
	ASSERT_LE(0, fd);
	memset(vals, 0xee, sizeof(vals));
	n = 16;
	ASSERT_EQ(0, hmap_lookup_multi(fd, keys, vals, (__s32 *)(sbuf + 3), &n));
	EXPECT_EQ(16, n);
	EXPECT_EQ(0, check_multi(keys, vals, sbuf + 3, 16, 0, &hits));
	close(fd);
}

/* ------------------------------------------------------------------ */
/* 5. The counters: INFO and fdinfo. */

struct ctrs {
	__u64 adds, cmpxchgs, conflicts, updates, deletes;
};

static void expect_ctrs(struct __test_metadata *_metadata, int fd,
			const struct ctrs *want, int line)
{
	struct hmap_info info;

	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(want->adds, info.adds) TH_LOG("line %d", line);
	EXPECT_EQ(want->cmpxchgs, info.cmpxchgs) TH_LOG("line %d", line);
	EXPECT_EQ(want->conflicts, info.conflicts) TH_LOG("line %d", line);
	EXPECT_EQ(want->updates, info.updates) TH_LOG("line %d", line);
	EXPECT_EQ(want->deletes, info.deletes) TH_LOG("line %d", line);
	EXPECT_EQ(want->adds, fdinfo_num(fd, "adds")) TH_LOG("line %d", line);
	EXPECT_EQ(want->cmpxchgs, fdinfo_num(fd, "cmpxchgs"))
		TH_LOG("line %d", line);
	EXPECT_EQ(want->conflicts, fdinfo_num(fd, "conflicts"))
		TH_LOG("line %d", line);
	EXPECT_EQ(want->updates, fdinfo_num(fd, "updates"))
		TH_LOG("line %d", line);
}

#define EXPECT_CTRS(fd, w) expect_ctrs(_metadata, fd, &(w), __LINE__)

TEST(info_and_fdinfo_counters)
{
	struct ctrs w = { 0 };
	__u64 k = 1, k2 = 2, v, exp, des, ver, old;
	struct hmap_info info;
	struct hmap_add a;
	int fd, fd2;

	fd = hmap_create("sc_ctrs", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	fd2 = hmap_open_by_id(info.id, 0);
	ASSERT_LE(0, fd2);
	EXPECT_CTRS(fd, w);

	/* ADD: successes count, failures do not; never as updates. */
	ASSERT_EQ(0, raw_add(fd, 1, 5, HMAP_ADD_CREATE, &a));
	ASSERT_EQ(0, raw_add(fd, 1, 5, 0, &a));
	ASSERT_EQ(0, raw_add(fd2, 1, -2, 0, &a));
	w.adds = 3;
	EXPECT_CTRS(fd, w);
	EXPECT_EQ(-ENOENT, raw_add(fd, 2, 1, 0, &a));
	EXPECT_EQ(-EINVAL, raw_add(fd, 1, 1, 4, &a));
	EXPECT_EQ(-EFAULT, hmap_add(fd, NULL, 1, 0, NULL, NULL));
	EXPECT_CTRS(fd, w);

	/* CMPXCHG: swaps and conflicts. */
	exp = 8;
	des = 9;
	ASSERT_EQ(0, hmap_cmpxchg(fd, &k, &exp, &des, NULL));
	exp = 9;
	des = 10;
	ASSERT_EQ(0, hmap_cmpxchg(fd2, &k, &exp, &des, NULL));
	w.cmpxchgs = 2;
	EXPECT_CTRS(fd, w);
	exp = 0;
	EXPECT_EQ(-ESTALE, hmap_cmpxchg(fd, &k, &exp, &des, NULL));
	EXPECT_EQ(10, exp);
	w.conflicts = 1;
	EXPECT_CTRS(fd, w);
	EXPECT_EQ(-ENOENT, hmap_cmpxchg(fd, &k2, &exp, &des, NULL));
	EXPECT_CTRS(fd, w);

	/* Version conditions: ESTALE is a conflict, ENOENT and EINVAL not. */
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &v, &ver));
	old = ver;
	ver = old + 1;
	v = 11;
	EXPECT_EQ(-ESTALE, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	ver = old + 1;
	EXPECT_EQ(-ESTALE, hmap_delete_version(fd2, &k, &ver));
	w.conflicts = 3;
	EXPECT_CTRS(fd, w);
	ver = old;
	EXPECT_EQ(-ENOENT, hmap_update_version(fd, &k2, &v, HMAP_IF_VERSION, &ver));
	EXPECT_EQ(-ENOENT, hmap_delete_version(fd, &k2, &ver));
	EXPECT_EQ(-EINVAL, raw_elem(fd, HMAP_IOC_UPDATE, sizeof(struct hmap_elem_op),
				    HMAP_IF_VERSION | HMAP_NOEXIST, &k, &v, old));
	EXPECT_CTRS(fd, w);
	ver = old;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	w.updates = 1;
	EXPECT_CTRS(fd, w);
	ASSERT_EQ(0, hmap_delete_version(fd, &k, &ver));
	w.deletes = 1;
	EXPECT_CTRS(fd, w);
	/* The counters are the map's: the other fd shows the same. */
	EXPECT_CTRS(fd2, w);
	close(fd2);
	close(fd);
}

/* An INFO struct from before the new counters is filled up to its size. */
TEST(info_old_struct_not_overrun)
{
	union {
		struct hmap_info info;
		__u8 bytes[sizeof(struct hmap_info) + 16];
	} u;
	size_t old = offsetof(struct hmap_info, adds), i;
	struct hmap_add a;
	int fd;

	fd = hmap_create("sc_info_v0", 8, 8, 8, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, raw_add(fd, 1, 1, HMAP_ADD_CREATE, &a));
	memset(u.bytes, 0xa5, sizeof(u.bytes));
	memset(&u.info, 0, old);
	u.info.size = old;
	ASSERT_EQ(0, xioctl(fd, HMAP_IOC_INFO, &u));
	EXPECT_EQ(1, u.info.count);
	EXPECT_EQ(8, u.info.value_size);
	for (i = old; i < sizeof(u.bytes); i++) {
		ASSERT_EQ(0xa5, u.bytes[i]) TH_LOG("byte %zu", i);
	}
	close(fd);
}

TEST_HARNESS_MAIN
