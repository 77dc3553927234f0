// SPDX-License-Identifier: GPL-2.0
/*
 * Hazard 2, concurrent reads and writes without a lock, through /dev/hmap:
 * readers look up while writers insert, update, delete and clear and the
 * table grows and shrinks; first as threads of one process, then as
 * separate processes sharing a published map.
 *
 * Each writer owns a set of keys and keeps a shadow of them, so every result
 * it gets is known in advance (no lost or phantom update) and the final map
 * must equal the shadows exactly. Each value carries its key, a version and
 * a checksum, so a torn value is seen. Readers report their slowest lookup
 * beside the writers' slowest update.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define NWRITERS	2
#define NREADERS	2
#define RANGE		1000
#define STABLE		100
#define STABLE_BIT	(1ULL << 62)

struct val {
	__u64 key, ver, chk[4];
};

struct writer_state {
	__u64 ver[RANGE];
	long ops;
	long max_ns;
};

/* Lives in MAP_SHARED memory so that processes can report to the parent. */
struct shared {
	atomic_bool stop;
	bool clears;
	atomic_long errors, reads, hits;
	atomic_long reader_max_ns;
	char first_error[200];
	struct writer_state w[NWRITERS];
};

static __u64 mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	return x ^ (x >> 33);
}

static void make_val(struct val *v, __u64 key, __u64 ver)
{
	int i;

	v->key = key;
	v->ver = ver;
	for (i = 0; i < 4; i++)
		v->chk[i] = mix(key * 31 + ver * 7 + i);
}

static bool val_ok(const struct val *v, __u64 key)
{
	struct val want;

	make_val(&want, key, v->ver);
	return !memcmp(v, &want, sizeof(want));
}

static void fail(struct shared *s, const char *what, __u64 key, long long ret)
{
	if (atomic_fetch_add(&s->errors, 1) == 0)
		snprintf(s->first_error, sizeof(s->first_error),
			 "%s: key %llu ret %lld", what, (unsigned long long)key, ret);
}

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void run_writer(struct shared *s, int fd, int id)
{
	struct writer_state *w = &s->w[id];
	__u64 seed = 88172645463325252ULL + id, next_ver = 1, present = 0;
	bool filling = true;
	struct val v, out;
	int ret;

	while (!atomic_load(&s->stop)) {
		__u64 i = rnd(&seed) % RANGE, k = i * NWRITERS + id;
		unsigned int op = rnd(&seed) % 10;
		long t0 = now_ns(), dt;

		if (filling && present > RANGE * 6 / 10)
			filling = false;
		else if (!filling && present < RANGE / 50)
			filling = true;
		if (filling && op < 6) {
			make_val(&v, k, next_ver);
			ret = hmap_update(fd, &k, &v, w->ver[i] ? HMAP_EXIST : HMAP_NOEXIST);
			if (ret && !s->clears)
				fail(s, "update", k, ret);
			if (!ret) {
				present += !w->ver[i];
				w->ver[i] = next_ver++;
			}
		} else if (op == 6) {
			ret = hmap_lookup(fd, &k, &out);
			if (!ret && !val_ok(&out, k))
				fail(s, "torn value (own key)", k, out.ver);
			if (!s->clears && (ret != (w->ver[i] ? 0 : -ENOENT) ||
					   (!ret && out.ver != w->ver[i])))
				fail(s, "own lookup", k, ret);
		} else {
			ret = op & 1 ? hmap_lookup_and_delete(fd, &k, &out)
				     : hmap_delete(fd, &k);
			if (!s->clears && ret != (w->ver[i] ? 0 : -ENOENT))
				fail(s, "delete", k, ret);
			if (!ret && (op & 1) && (!val_ok(&out, k) ||
						 (!s->clears && out.ver != w->ver[i])))
				fail(s, "lookup_and_delete value", k, out.ver);
			present -= !!w->ver[i];
			w->ver[i] = 0;
		}
		dt = now_ns() - t0;
		if (dt > w->max_ns)
			w->max_ns = dt;
		w->ops++;
	}
}

static void run_reader(struct shared *s, int fd, __u64 seed)
{
	long reads = 0, hits = 0, max_ns = 0;
	struct val out;

	while (!atomic_load(&s->stop)) {
		__u64 r = rnd(&seed);
		bool stable = r & 1;
		__u64 k = stable ? STABLE_BIT | ((r >> 1) % STABLE)
				 : (r >> 1) % (RANGE * NWRITERS);
		long t0 = now_ns(), dt;
		int ret = hmap_lookup(fd, &k, &out);

		dt = now_ns() - t0;
		if (dt > max_ns)
			max_ns = dt;
		reads++;
		if (!ret) {
			hits++;
			if (!val_ok(&out, k))
				fail(s, "torn value", k, out.ver);
		} else if (stable && !s->clears) {
			fail(s, "stable key lost", k, ret);
		}
	}
	atomic_fetch_add(&s->reads, reads);
	atomic_fetch_add(&s->hits, hits);
	if (max_ns > atomic_load(&s->reader_max_ns))
		atomic_store(&s->reader_max_ns, max_ns);
}

static void run_clearer(struct shared *s, int fd)
{
	while (!atomic_load(&s->stop)) {
		usleep(50000);
		hmap_clear(fd);
	}
}

static unsigned int seconds(void)
{
	const char *e = getenv("HMAP_STRESS_SECONDS");

	return e && atoi(e) > 0 ? atoi(e) : 4;
}

static struct shared *setup(struct __test_metadata *_metadata, int *fd,
			    bool clears)
{
	struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct val v;
	__u64 k, key;

	if (s == MAP_FAILED)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->clears = clears;
	*fd = hmap_create("rw", 8, sizeof(struct val),
			  STABLE + NWRITERS * RANGE, NULL);
	if (*fd < 0)
		return NULL;
	for (k = 0; k < STABLE && !clears; k++) {
		key = STABLE_BIT | k;
		make_val(&v, key, 0);
		if (hmap_update(*fd, &key, &v, HMAP_NOEXIST))
			return NULL;
	}
	return s;
}

/* After the run: the map is exactly the stable keys plus the shadows. */
static void check_final(struct __test_metadata *_metadata, struct shared *s,
			int fd)
{
	struct hmap_info info;
	__u64 total = STABLE, k, i;
	long ops = 0, wmax = 0;
	struct val out;
	int n;

	EXPECT_EQ(0, atomic_load(&s->errors)) TH_LOG("first: %s", s->first_error);
	for (n = 0; n < NWRITERS; n++) {
		ops += s->w[n].ops;
		if (s->w[n].max_ns > wmax)
			wmax = s->w[n].max_ns;
		for (i = 0; i < RANGE; i++) {
			k = i * NWRITERS + n;
			if (s->w[n].ver[i]) {
				total++;
				ASSERT_EQ(0, hmap_lookup(fd, &k, &out));
				ASSERT_EQ(s->w[n].ver[i], out.ver);
			} else {
				ASSERT_EQ(-ENOENT, hmap_lookup(fd, &k, &out));
			}
		}
	}
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(total, info.count);
	EXPECT_GT(fdinfo_num(fd, "grows"), 0);
	EXPECT_GT(fdinfo_num(fd, "shrinks"), 0);
	EXPECT_GT(atomic_load(&s->hits), 0);
	TH_LOG("%ld writer ops (slowest %ld us), %ld reads (%ld hits, slowest %ld us), %lld grows, %lld shrinks",
	       ops, wmax / 1000, atomic_load(&s->reads), atomic_load(&s->hits),
	       atomic_load(&s->reader_max_ns) / 1000, fdinfo_num(fd, "grows"),
	       fdinfo_num(fd, "shrinks"));
}

struct targ {
	struct shared *s;
	int fd, id;
};

static void *writer_thread(void *p)
{
	struct targ *a = p;

	run_writer(a->s, a->fd, a->id);
	return NULL;
}

static void *reader_thread(void *p)
{
	struct targ *a = p;

	run_reader(a->s, a->fd, 0x9e3779b97f4a7c15ULL * (a->id + 1));
	return NULL;
}

static void *clearer_thread(void *p)
{
	struct targ *a = p;

	run_clearer(a->s, a->fd);
	return NULL;
}

TEST(threads)
{
	struct targ wa[NWRITERS], ra[NREADERS];
	pthread_t wt[NWRITERS], rt[NREADERS];
	struct shared *s;
	int fd, i;

	s = setup(_metadata, &fd, false);
	ASSERT_NE(NULL, s);
	for (i = 0; i < NWRITERS; i++) {
		wa[i] = (struct targ){ s, fd, i };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer_thread, &wa[i]));
	}
	for (i = 0; i < NREADERS; i++) {
		ra[i] = (struct targ){ s, fd, i };
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, reader_thread, &ra[i]));
	}
	sleep(seconds());
	atomic_store(&s->stop, true);
	for (i = 0; i < NWRITERS; i++)
		pthread_join(wt[i], NULL);
	for (i = 0; i < NREADERS; i++)
		pthread_join(rt[i], NULL);
	check_final(_metadata, s, fd);
	close(fd);
	munmap(s, sizeof(*s));
}

/* The same, each writer and reader a process opening the map by name. */
TEST(processes)
{
	pid_t pids[NWRITERS + NREADERS];
	struct shared *s;
	int fd, i, status, n = 0;

	s = setup(_metadata, &fd, false);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, hmap_publish(fd, "rw_test", 0600));
	for (i = 0; i < NWRITERS + NREADERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int mfd = hmap_open_by_name("rw_test", 0);

			if (mfd < 0)
				_exit(1);
			if (i < NWRITERS)
				run_writer(s, mfd, i);
			else
				run_reader(s, mfd, 12345 + i);
			_exit(0);
		}
		ASSERT_LT(0, pids[i]);
	}
	sleep(seconds());
	atomic_store(&s->stop, true);
	for (i = 0; i < NWRITERS + NREADERS; i++) {
		waitpid(pids[i], &status, 0);
		n += WIFEXITED(status) && !WEXITSTATUS(status);
	}
	EXPECT_EQ(NWRITERS + NREADERS, n);
	EXPECT_EQ(0, hmap_unpublish("rw_test"));
	check_final(_metadata, s, fd);
	close(fd);
	munmap(s, sizeof(*s));
}

/* With clears: results are unpredictable, but values stay whole. */
TEST(threads_with_clears)
{
	struct targ wa[NWRITERS], ra[NREADERS], ca;
	pthread_t wt[NWRITERS], rt[NREADERS], ct;
	struct hmap_info info;
	struct shared *s;
	__u64 cur, next;
	int fd, i, walked = 0, ret;

	s = setup(_metadata, &fd, true);
	ASSERT_NE(NULL, s);
	for (i = 0; i < NWRITERS; i++) {
		wa[i] = (struct targ){ s, fd, i };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer_thread, &wa[i]));
	}
	for (i = 0; i < NREADERS; i++) {
		ra[i] = (struct targ){ s, fd, i };
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, reader_thread, &ra[i]));
	}
	ca = (struct targ){ s, fd, 0 };
	ASSERT_EQ(0, pthread_create(&ct, NULL, clearer_thread, &ca));
	sleep(seconds());
	atomic_store(&s->stop, true);
	for (i = 0; i < NWRITERS; i++)
		pthread_join(wt[i], NULL);
	for (i = 0; i < NREADERS; i++)
		pthread_join(rt[i], NULL);
	pthread_join(ct, NULL);
	EXPECT_EQ(0, atomic_load(&s->errors)) TH_LOG("first: %s", s->first_error);
	/* The count is exact: a full walk agrees with it. */
	for (ret = hmap_get_next_key(fd, NULL, &next); !ret;
	     ret = hmap_get_next_key(fd, &cur, &next)) {
		walked++;
		cur = next;
	}
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(walked, info.count);
	close(fd);
	munmap(s, sizeof(*s));
}

TEST_HARNESS_MAIN
