// SPDX-License-Identifier: GPL-2.0
/*
 * The worst callers: what each does to the kernel's locks, RCU sections and
 * waits, and to other users. Each test provokes one defect that a user could
 * once reach with valid, documented arguments:
 *
 * - GET_NEXT_KEY on a map whose key is larger than its value overran its
 *   bounce buffer (a stack smash on the stock kernel, a usercopy BUG with
 *   larger keys);
 * - writers replacing one 64 KiB value back to back could keep readers
 *   retrying inside an RCU read section;
 * - the last batch of retired elements could still run while its map was
 *   freed (delete, then close, on pool maps);
 * - batches with a huge count ignored signals: minutes of unkillable ioctl;
 * - LOOKUP_AND_DELETE_BATCH removed entries, then failed to hand over the
 *   cursor or the count; LOOKUP_AND_DELETE removed an entry, then failed to
 *   copy its value out when another thread unmapped the buffer;
 * - one user could take every map and byte of the module; GET_NEXT_ID told
 *   every user about every map; names took Latin-1 letters.
 *
 * The debug kernel turns what does not crash into a report: KASAN for the
 * overruns and use-after-free, a 10 s RCU stall timeout and the hung task
 * detector for the waits.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

/* Only lifts the harness's 30 s limit for the long tests. */
FIXTURE(worst) {};
FIXTURE_SETUP(worst) {}
FIXTURE_TEARDOWN(worst) {}

static unsigned int seconds(void)
{
	const char *e = getenv("HMAP_STRESS_SECONDS");

	return e && atoi(e) > 0 ? atoi(e) : 2;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static __u64 p64(const void *p)
{
	return (__u64)(uintptr_t)p;
}

/*
 * Defect 1: the next key was written into the value half of the bounce
 * buffer, value_size bytes long. Key larger than value, both kinds of map,
 * both the stack and the heap bounce buffer, and the next key lands right
 * before an unmapped page so that one byte too many faults.
 */
TEST(get_next_key_with_key_larger_than_value)
{
	static const __u32 sizes[][2] = {
		{ 200, 8 }, { 300, 1 }, { 512, 1 }, { 257, 256 }, { 9, 8 },
		{ 16, 1 }, { 248, 8 }, { 512, 65536 },
	};
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *area, *next, key[512], val[65536];
	unsigned int i, pre;

	area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, mprotect(area + pg, pg, PROT_NONE));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (pre = 0; pre < 2; pre++) {
			struct hmap_create_opts o = {
				.sz = sizeof(o),
				.flags = pre ? HMAP_F_PREALLOC : 0,
			};
			__u32 ks = sizes[i][0], vs = sizes[i][1];
			int fd = hmap_create("nextkey", ks, vs, 4, &o);

			ASSERT_LE(0, fd) TH_LOG("key %u value %u", ks, vs);
			memset(key, 0xa5, ks);
			memset(val, 0x5a, vs);
			ASSERT_EQ(0, hmap_update(fd, key, val, HMAP_ANY));
			next = area + pg - ks;
			memset(next, 0, ks);
			EXPECT_EQ(0, hmap_get_next_key(fd, NULL, next))
				TH_LOG("key %u value %u prealloc %u", ks, vs, pre);
			EXPECT_EQ(0, memcmp(next, key, ks));
			EXPECT_EQ(-ENOENT, hmap_get_next_key(fd, key, next));
			close(fd);
		}
	}
	munmap(area, 2 * pg);
}

#define BIG	65536

struct hammer {
	int fd;
	int id;
	atomic_bool *stop;
	long ops;
	long torn;
	long max_ms;
};

/* Writers: replace the one value back to back, each with its own byte. */
static void *hammer_writer(void *p)
{
	struct hammer *w = p;
	unsigned char *v = malloc(BIG);
	__u64 k = 1;

	memset(v, 0x10 + w->id, BIG);
	while (!atomic_load(w->stop)) {
		if (hmap_update(w->fd, &k, v, HMAP_EXIST))
			w->torn++;
		w->ops++;
	}
	free(v);
	return NULL;
}

static bool whole(const unsigned char *v)
{
	size_t i;

	for (i = 1; i < BIG; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

/* Readers: LOOKUP (id 0) or LOOKUP_BATCH (id 1), each value whole. */
static void *hammer_reader(void *p)
{
	struct hammer *r = p;
	unsigned char *v = malloc(BIG);
	__u64 k = 1, key, cur;
	__u32 n;
	long t;

	while (!atomic_load(r->stop)) {
		t = now_ms();
		if (r->id == 0) {
			if (hmap_lookup(r->fd, &k, v))
				r->torn++;
		} else {
			/* One entry, room for one: 0, more may follow. */
			n = 1;
			if (hmap_lookup_batch(r->fd, NULL, &cur, &key, v, &n) ||
			    n != 1)
				r->torn++;
		}
		if (!whole(v))
			r->torn++;
		t = now_ms() - t;
		if (t > r->max_ms)
			r->max_ms = t;
		r->ops++;
	}
	free(v);
	return NULL;
}

/*
 * Defect 2: two writers replacing one 64 KiB value back to back, and
 * readers of it. Readers must make progress and see whole values; the
 * debug kernel's 10 s RCU stall timeout fails the run if a reader holds
 * its read section. Reports how often readers fell back to the lock.
 */
TEST_F_TIMEOUT(worst, writers_hammer_one_large_value, 120)
{
	struct hammer w[2], r[2];
	pthread_t wt[2], rt[2];
	atomic_bool stop = false;
	unsigned char *v = calloc(1, BIG);
	__u64 k = 1;
	int fd, i;

	fd = hmap_create("hammer", 8, BIG, 4, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, v, HMAP_ANY));
	for (i = 0; i < 2; i++) {
		w[i] = (struct hammer){ .fd = fd, .id = i, .stop = &stop };
		r[i] = (struct hammer){ .fd = fd, .id = i, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, hammer_writer, &w[i]));
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, hammer_reader, &r[i]));
	}
	sleep(seconds());
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++) {
		pthread_join(wt[i], NULL);
		pthread_join(rt[i], NULL);
	}
	TH_LOG("writes %ld+%ld, lookups %ld (longest %ld ms), batch lookups %ld (longest %ld ms), locked reads %lld",
	       w[0].ops, w[1].ops, r[0].ops, r[0].max_ms, r[1].ops,
	       r[1].max_ms, fdinfo_num(fd, "locked_reads"));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, w[i].torn);
		EXPECT_EQ(0, r[i].torn);
		EXPECT_LT(0, r[i].ops);
	}
	close(fd);
	free(v);
}

struct churn {
	int rounds;
	int err;
};

/*
 * Defect 3: delete, then close at once, on pool maps: the map is freed
 * while the batch of its last deletes may still be ending. On the debug
 * kernel KASAN reports any access to a freed map.
 */
static void *churn_fn(void *p)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_PREALLOC };
	struct churn *c = p;
	__u64 k, keys[64];
	__u32 n;
	int fd, i;

	for (i = 0; i < c->rounds && !c->err; i++) {
		fd = hmap_create("churn", 8, 8, 64, i % 2 ? &o : NULL);
		if (fd < 0) {
			c->err = fd;
			break;
		}
		for (k = 0; k < 64; k++) {
			keys[k] = k;
			if (hmap_update(fd, &k, &k, HMAP_ANY))
				c->err = -EIO;
		}
		switch (i % 3) {
		case 0:
			for (k = 0; k < 64; k++)
				hmap_delete(fd, &k);
			break;
		case 1:
			n = 64;
			hmap_delete_batch(fd, keys, NULL, &n, 0);
			break;
		default:
			hmap_clear(fd);
		}
		close(fd);
	}
	return NULL;
}

TEST_F_TIMEOUT(worst, delete_then_close_churn, 300)
{
	struct churn c[4];
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++) {
		c[i] = (struct churn){ .rounds = 100 * seconds() / 2 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn_fn, &c[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, c[i].err);
	}
	/* Every map freed, every byte back. */
	settle_frees();
	EXPECT_EQ(stat_num("maps_released"), stat_num("maps_freed"));
}

static void on_usr1(int sig)
{
}

/*
 * A batch of 2^28 entries of a 1-byte key and value, all the same key:
 * minutes of work for one ioctl. The buffers are untouched anonymous
 * memory, so reading them costs no memory.
 */
#define HUGE_COUNT	(1U << 28)

static int huge_batch(int fd, bool update, __u32 *count)
{
	static unsigned char *keys, *vals;
	struct hmap_batch b = { .size = sizeof(b) };
	int ret;

	if (!keys) {
		keys = mmap(NULL, HUGE_COUNT, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		vals = mmap(NULL, HUGE_COUNT, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (keys == MAP_FAILED || vals == MAP_FAILED)
			return -ENOMEM;
	}
	b.flags = HMAP_BATCH_CONTINUE;
	b.keys = p64(keys);
	b.values = update ? p64(vals) : 0;
	b.count = HUGE_COUNT;
	ret = xioctl(fd, update ? HMAP_IOC_UPDATE_BATCH : HMAP_IOC_DELETE_BATCH,
		     &b);
	*count = b.count;
	return ret;
}

struct sig_arg {
	pthread_t target;
	int delay_ms;
};

static void *send_usr1(void *p)
{
	struct sig_arg *a = p;

	usleep(a->delay_ms * 1000);
	pthread_kill(a->target, SIGUSR1);
	return NULL;
}

/*
 * Defect 4: a huge batch stops at a signal with EINTR, having written back
 * how far it got, and a killed batch lets its task die at once.
 */
TEST_F_TIMEOUT(worst, huge_batch_stops_at_a_signal, 120)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct sig_arg a = { .target = pthread_self(), .delay_ms = 300 };
	int fd, status, update;
	pthread_t t;
	__u32 count;
	long t0;
	pid_t pid;

	/* No SA_RESTART: the handler returns and the ioctl gives EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	fd = hmap_create("huge", 1, 1, 4, NULL);
	ASSERT_LE(0, fd);
	for (update = 1; update >= 0; update--) {
		ASSERT_EQ(0, pthread_create(&t, NULL, send_usr1, &a));
		t0 = now_ms();
		EXPECT_EQ(-EINTR, huge_batch(fd, update, &count));
		TH_LOG("%s batch: EINTR after %ld ms with %u of %u entries done",
		       update ? "update" : "delete", now_ms() - t0, count,
		       HUGE_COUNT);
		EXPECT_LT(0, count);
		EXPECT_GT(HUGE_COUNT, count);
		pthread_join(t, NULL);
	}

	/* SIGKILL: the task is gone within seconds, not minutes. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		huge_batch(fd, true, &count);
		_exit(0);
	}
	usleep(300000);
	t0 = now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	TH_LOG("killed batch gone %ld ms after SIGKILL", now_ms() - t0);
	EXPECT_GT(10000, now_ms() - t0);
	close(fd);
}

struct pester {
	pthread_t target;
	atomic_bool stop;
};

static void *pester_fn(void *p)
{
	struct pester *a = p;

	while (!atomic_load(&a->stop)) {
		usleep(20000);
		pthread_kill(a->target, SIGUSR1);
	}
	return NULL;
}

#define RESUME_N	100000

/*
 * A LOOKUP_AND_DELETE_BATCH interrupted by a signal every 20 ms: each EINTR
 * writes back @count and @out_cursor, and resuming from the cursor hands
 * every entry over exactly once.
 */
TEST_F_TIMEOUT(worst, batch_resumes_after_eintr, 300)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct pester a = { .target = pthread_self() };
	/* One spare slot: the call that finds the end needs room for one. */
	static __u32 keys[RESUME_N + 1], seen[RESUME_N];
	static unsigned char vals[RESUME_N + 1];
	__u32 k, cur, n, got = 0, eintr = 0, calls = 0;
	bool started = false;
	pthread_t t;
	int fd, ret;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	fd = hmap_create("resume", 4, 1, RESUME_N, NULL);
	ASSERT_LE(0, fd);
	for (k = 0; k < RESUME_N; k++) {
		keys[k] = k;
		vals[k] = k & 0xff;
	}
	n = RESUME_N;
	ASSERT_EQ(0, hmap_update_batch(fd, keys, vals, NULL, &n, HMAP_ANY, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, pester_fn, &a));
	do {
		n = RESUME_N + 1 - got;
		ret = hmap_lookup_and_delete_batch(fd, started ? &cur : NULL,
						   &cur, keys + got, vals + got,
						   &n);
		calls++;
		eintr += ret == -EINTR;
		ASSERT_TRUE(!ret || ret == -EINTR || ret == -ENOENT)
			TH_LOG("ret %d", ret);
		started |= n > 0;
		got += n;
	} while (ret != -ENOENT && calls < 100000);
	atomic_store(&a.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%u entries in %u calls, %u of them ended by EINTR", got,
	       calls, eintr);
	EXPECT_EQ(RESUME_N, got);
	for (k = 0; k < got; k++) {
		ASSERT_GT(RESUME_N, keys[k]);
		EXPECT_EQ(keys[k] & 0xff, vals[k]);
		seen[keys[k]]++;
	}
	for (k = 0; k < RESUME_N; k++)
		ASSERT_EQ(1, seen[k]) TH_LOG("key %u", k);
	EXPECT_LT(0, eintr);
	close(fd);
}

/* Fills @fd with keys 0..n-1, values k * 10. */
static void fill(struct __test_metadata *_metadata, int fd, __u64 n)
{
	__u64 k, v;

	for (k = 0; k < n; k++) {
		v = k * 10;
		ASSERT_EQ(0, hmap_update(fd, &k, &v, HMAP_ANY));
	}
}

/*
 * Defect 5: LOOKUP_AND_DELETE_BATCH must be able to hand over the cursor
 * and the count before it removes anything: a read-only cursor or argument
 * struct is EFAULT with every entry still in the map.
 */
TEST(lookup_and_delete_batch_checks_before_removing)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct hmap_batch *ro_arg, b;
	__u64 keys[16], vals[16], *ro;
	struct hmap_info info;
	int fd;

	ro = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	fd = hmap_create("ladb", 8, 8, 64, NULL);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, 16);

	b = (struct hmap_batch){
		.size = sizeof(b), .keys = p64(keys), .values = p64(vals),
		.out_cursor = p64(ro), .count = 16,
	};
	ASSERT_EQ(0, mprotect(ro, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_LOOKUP_AND_DELETE_BATCH, &b));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(16, info.count);

	/* The argument struct itself read-only: count could not come back. */
	ASSERT_EQ(0, mprotect(ro, pg, PROT_READ | PROT_WRITE));
	ro_arg = (struct hmap_batch *)ro;
	*ro_arg = (struct hmap_batch){
		.size = sizeof(b), .keys = p64(keys), .values = p64(vals),
		.count = 16,
	};
	ASSERT_EQ(0, mprotect(ro, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_LOOKUP_AND_DELETE_BATCH, ro_arg));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(16, info.count);

	close(fd);
	munmap(ro, pg);
}

/*
 * Defect 5: values that fault part-way through a LOOKUP_AND_DELETE_BATCH:
 * EFAULT, and @count says exactly how many entries were removed, each of
 * them handed over whole; the others are still in the map.
 */
TEST(lookup_and_delete_batch_efault_counts_what_was_removed)
{
	long pg = sysconf(_SC_PAGESIZE);
	__u64 keys[3000], *vals, k, v, got;
	struct hmap_batch b;
	struct hmap_info info;
	unsigned char *area;
	int fd, i;

	/* Room for 1500 values before an unmapped page: the 2nd chunk faults. */
	area = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, mprotect(area + 8 * pg, 8 * pg, PROT_NONE));
	vals = (__u64 *)(area + 8 * pg - 1500 * 8);
	fd = hmap_create("ladb", 8, 8, 4096, NULL);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, 3000);
	b = (struct hmap_batch){
		.size = sizeof(b), .keys = p64(keys), .values = p64(vals),
		.count = 3000,
	};
	EXPECT_EQ(-EFAULT, xioctl(fd, HMAP_IOC_LOOKUP_AND_DELETE_BATCH, &b));
	ASSERT_EQ(0, hmap_info(fd, &info));
	TH_LOG("%u entries handed over and removed, %u left", b.count,
	       info.count);
	EXPECT_GT(1500, b.count);
	EXPECT_EQ(3000, b.count + info.count);
	for (i = 0; i < (int)b.count; i++) {
		EXPECT_EQ(keys[i] * 10, vals[i]);
		EXPECT_EQ(-ENOENT, hmap_lookup(fd, &keys[i], &got));
	}
	for (k = 0, i = 0; k < 3000; k++)
		i += !hmap_lookup(fd, &k, &v);
	EXPECT_EQ(info.count, i);
	close(fd);
	munmap(area, 16 * pg);
}

struct unmapper {
	int fd;
	bool batch;
	atomic_bool stop;
	unsigned char *page;
	long pg;
	long inserted, taken, efault, other;
};

/* Toggles the value buffer between mapped and unmapped. */
static void *unmap_fn(void *p)
{
	struct unmapper *u = p;

	while (!atomic_load(&u->stop)) {
		munmap(u->page, u->pg);
		sched_yield();
		mmap(u->page, u->pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		sched_yield();
	}
	return NULL;
}

static void *insert_fn(void *p)
{
	struct unmapper *u = p;
	__u64 k = 7, v = 70;

	while (!atomic_load(&u->stop))
		if (!hmap_update(u->fd, &k, &v, HMAP_NOEXIST))
			u->inserted++;
	return NULL;
}

/*
 * Defect 5: a LOOKUP_AND_DELETE (single, or a batch of one) whose value
 * buffer another thread keeps unmapping. An entry is either handed over or
 * left in the map: every insert is matched by a take or by the entry
 * still there at the end.
 */
static void take_while_unmapping(struct __test_metadata *_metadata, bool batch)
{
	struct unmapper u = { .batch = batch, .pg = sysconf(_SC_PAGESIZE) };
	struct hmap_info info;
	pthread_t ut, it;
	__u64 k = 7, key, cur;
	long t0;
	__u32 n;
	int ret;

	u.fd = hmap_create("unmap", 8, 8, 4, NULL);
	ASSERT_LE(0, u.fd);
	u.page = mmap(NULL, u.pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, u.page);
	ASSERT_EQ(0, pthread_create(&ut, NULL, unmap_fn, &u));
	ASSERT_EQ(0, pthread_create(&it, NULL, insert_fn, &u));
	/* The value straddles nothing: it sits at the end of the page. */
	t0 = now_ms();
	while (now_ms() - t0 < 1000L * seconds()) {
		if (batch) {
			n = 1;
			ret = hmap_lookup_and_delete_batch(u.fd, NULL, &cur, &key,
							   u.page + u.pg - 8, &n);
			if (ret == -ENOENT && n == 1)
				ret = 0;
			else if (!ret && n != 1)
				ret = -EIO;
		} else {
			ret = hmap_lookup_and_delete(u.fd, &k, u.page + u.pg - 8);
		}
		if (!ret)
			u.taken++;
		else if (ret == -EFAULT)
			u.efault++;
		else if (ret != -ENOENT)
			u.other++;
	}
	atomic_store(&u.stop, true);
	pthread_join(ut, NULL);
	pthread_join(it, NULL);
	ASSERT_EQ(0, hmap_info(u.fd, &info));
	TH_LOG("%s: %ld inserted, %ld taken, %ld EFAULT, %u left",
	       batch ? "batch" : "single", u.inserted, u.taken, u.efault,
	       info.count);
	EXPECT_EQ(0, u.other);
	EXPECT_EQ(u.inserted, u.taken + info.count);
	close(u.fd);
}

TEST_F_TIMEOUT(worst, lookup_and_delete_while_the_buffer_is_unmapped, 60)
{
	take_while_unmapping(_metadata, false);
}

TEST_F_TIMEOUT(worst, lookup_and_delete_batch_while_the_buffer_is_unmapped, 60)
{
	take_while_unmapping(_metadata, true);
}

struct id_race {
	atomic_bool stop;
	long opened, wrong;
};

static void *create_loop(void *p)
{
	struct id_race *r = p;
	int fd;

	while (!atomic_load(&r->stop)) {
		fd = hmap_create("idrace", 8, 8, 4, NULL);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/*
 * Defect 5: a map was in the id table before its id was set, so a racing
 * OPEN_BY_ID could open a map whose INFO said id 0. Openers chase the
 * newest ids while another thread creates and closes maps.
 */
TEST_F_TIMEOUT(worst, open_by_id_never_sees_id_zero, 60)
{
	struct id_race r = { 0 };
	struct hmap_info info;
	__u32 id, last = 0;
	pthread_t t;
	long t0;
	int fd;

	ASSERT_EQ(0, pthread_create(&t, NULL, create_loop, &r));
	t0 = now_ms();
	while (now_ms() - t0 < 1000L * seconds()) {
		for (id = last; !hmap_get_next_id(id, &id);) {
			last = id;
			fd = hmap_open_by_id(id, HMAP_F_RDONLY);
			if (fd < 0)
				continue;
			r.opened++;
			if (hmap_info(fd, &info) || info.id != id)
				r.wrong++;
			close(fd);
		}
		/* Ids grow: go back a little, never to the start. */
		last = last > 8 ? last - 8 : 0;
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%ld maps opened by id while being created", r.opened);
	EXPECT_EQ(0, r.wrong);
	EXPECT_LT(0, r.opened);
}

/* Names: ASCII letters, digits and _.- only; no Latin-1 "letters". */
TEST(names_are_ascii)
{
	static const unsigned char bad[] = { 0x80, 0xaa, 0xb5, 0xc0, 0xc9, 0xdf,
					     0xe9, 0xff, ' ', '/', ':' };
	struct hmap_create c = { .size = sizeof(c), .key_size = 8,
				 .value_size = 8, .max_entries = 4 };
	struct hmap_publish p = { .size = sizeof(p), .mode = 0600 };
	struct hmap_open_by_name o = { .size = sizeof(o) };
	int dev = open_dev(), fd, ret;
	unsigned int i;

	ASSERT_LE(0, dev);
	fd = hmap_create("ascii", 8, 8, 4, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(bad); i++) {
		memcpy(c.name, "ab", 3);
		c.name[1] = bad[i];
		EXPECT_EQ(-EINVAL, xioctl(dev, HMAP_IOC_CREATE, &c))
			TH_LOG("byte %#x", bad[i]);
		memcpy(p.name, c.name, sizeof(p.name));
		EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_PUBLISH, &p));
		memcpy(o.name, c.name, sizeof(o.name));
		EXPECT_EQ(-EINVAL, xioctl(dev, HMAP_IOC_OPEN_BY_NAME, &o));
	}
	memcpy(c.name, "Az09_.-", 8);
	ret = ioctl(dev, HMAP_IOC_CREATE, &c);
	EXPECT_LE(0, ret);
	close(ret);
	close(fd);
	close(dev);
}

/* Module parameters the per-user tests change, restored afterwards. */
FIXTURE(limits) {
	char maps[32], bytes[32];
	mode_t dev_mode;
};

FIXTURE_SETUP(limits)
{
	struct stat st;
	FILE *f;

	f = fopen(HMAP_PARAM("max_maps_per_user"), "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(self->maps, sizeof(self->maps), f));
	fclose(f);
	f = fopen(HMAP_PARAM("max_bytes_per_user"), "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(self->bytes, sizeof(self->bytes), f));
	fclose(f);
	ASSERT_EQ(0, stat(HMAP_DEV_PATH, &st));
	self->dev_mode = st.st_mode & 07777;
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	settle_frees();
}

FIXTURE_TEARDOWN(limits)
{
	write_str(HMAP_PARAM("max_maps_per_user"), self->maps);
	write_str(HMAP_PARAM("max_bytes_per_user"), self->bytes);
	chmod(HMAP_DEV_PATH, self->dev_mode);
}

/* As a user: creates up to 10 maps, keeps them; returns how many before EDQUOT. */
static int create_until_full(void *unused)
{
	int n, fd;

	for (n = 0; n < 10; n++) {
		fd = hmap_create("quota", 8, 8, 4, NULL);
		if (fd == -EDQUOT)
			return n;
		if (fd < 0)
			return 100 + -fd;
	}
	return n;
}

/*
 * As a user: closing one map gives its slot back once the map is freed (a
 * grace period later): a closed map counts until its memory is gone.
 */
static int close_gives_back(void *unused)
{
	int fd[4], n, ret;

	for (n = 0; n < 4; n++)
		if ((fd[n] = hmap_create("quota", 8, 8, 4, NULL)) < 0)
			return 1;
	if (hmap_create("quota", 8, 8, 4, NULL) != -EDQUOT)
		return 2;
	close(fd[0]);
	for (n = 0; n < 500; n++) {
		ret = hmap_create("quota", 8, 8, 4, NULL);
		if (ret >= 0)
			return 0;
		if (ret != -EDQUOT)
			return 3;
		usleep(10000);
	}
	return 4;
}

/*
 * Defect 6: one user at its map limit; another user still creates maps;
 * root is exempt (CAP_SYS_RESOURCE).
 */
TEST_F(limits, max_maps_per_user)
{
	int fd[8], n;

	ASSERT_EQ(0, write_str(HMAP_PARAM("max_maps_per_user"), "4"));
	EXPECT_EQ(4, run_as(UNPRIV_UID, UNPRIV_UID, create_until_full, NULL));
	EXPECT_EQ(4, run_as(OTHER_UID, OTHER_UID, create_until_full, NULL));
	/* The maps of the first child count until they are freed. */
	settle_frees();
	EXPECT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, close_gives_back, NULL));
	for (n = 0; n < 8; n++) {
		fd[n] = hmap_create("root", 8, 8, 4, NULL);
		EXPECT_LE(0, fd[n]);
	}
	for (n = 0; n < 8; n++)
		close(fd[n]);
}

#define BYTES_LIMIT	(256 * 1024)

/*
 * As a user: fills a published map until EDQUOT, even once the tables its
 * grows replaced are freed (a grace period later); returns 0 if it did.
 */
static int fill_until_quota(void *name)
{
	int fd = hmap_create(name, 8, 8, 1 << 20, NULL);
	int ret, full = 0;
	__u64 k = 0;

	if (fd < 0)
		return 1;
	while (full < 3) {
		ret = hmap_update(fd, &k, &k, HMAP_ANY);
		if (!ret) {
			k++;
			full = 0;
		} else if (ret == -EDQUOT) {
			full++;
			usleep(200000);
		} else {
			return 4;
		}
	}
	if (k < 1000)
		return 2;
	if (hmap_publish(fd, name, 0666))
		return 3;
	return 0;
}

/* As another user: writes into the first user's map: charged to its owner. */
static int write_into_full(void *name)
{
	int fd = hmap_open_by_name(name, 0);
	__u64 k = 1ULL << 40;

	if (fd < 0)
		return 1;
	return hmap_update(fd, &k, &k, HMAP_ANY) == -EDQUOT ? 0 : 2;
}

/* As a user: a prealloc map beyond the quota is refused at creation. */
static int prealloc_beyond(void *unused)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_PREALLOC };

	return hmap_create("pre", 8, 8, 1 << 16, &o) == -EDQUOT ? 0 : 1;
}

/* As a user under the quota: 1000 entries fit. */
static int fill_some(void *unused)
{
	int fd = hmap_create("other", 8, 8, 4096, NULL);
	__u64 k;

	if (fd < 0)
		return 1;
	for (k = 0; k < 1000; k++)
		if (hmap_update(fd, &k, &k, HMAP_ANY))
			return 2;
	return 0;
}

/*
 * Defect 6: one user fills maps to its byte limit; its published map stays
 * charged to it whoever writes; another user still creates and fills
 * maps; root is exempt. debugfs shows each user's bytes within the limit.
 */
TEST_F(limits, max_bytes_per_user)
{
	char num[32];
	int fd;
	__u64 k;

	snprintf(num, sizeof(num), "%d", BYTES_LIMIT);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_bytes_per_user"), num));
	EXPECT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, fill_until_quota, "quota1000"));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, write_into_full, "quota1000"));
	EXPECT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, prealloc_beyond, NULL));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, fill_some, NULL));
	fd = hmap_create("root", 8, 8, 1 << 20, NULL);
	ASSERT_LE(0, fd);
	for (k = 0; k < 20000; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	close(fd);
	EXPECT_EQ(0, hmap_unpublish("quota1000"));
}

/*
 * In the namespace: as ns uid @uid, creates maps until EDQUOT and publishes
 * each (as ns<uid>_<n>), so that they outlive this process.
 */
static int ns_create(uid_t uid)
{
	char name[HMAP_NAME_LEN];
	int status, n, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		if (setresgid(0, 0, 0) || setresuid(uid, uid, uid))
			_exit(255);
		for (n = 0; n < 20; n++) {
			fd = hmap_create("ns", 8, 8, 4, NULL);
			if (fd < 0)
				break;
			snprintf(name, sizeof(name), "ns%u_%d", uid, n);
			if (hmap_publish(fd, name, 0600))
				_exit(254);
		}
		_exit(n);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * As uid 1000 in a new user namespace, into which the parent maps ten uids
 * (as newuidmap does with a user's subordinate range): each uid there
 * creates maps until EDQUOT. They all share the namespace owner's quota.
 */
static int userns_owner(int go_r, int done_w)
{
	int total = 0, n;
	char c;
	uid_t u;

	if (setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
	    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
		return 250;
	/* No user namespaces in this kernel (the debug lane's tinyconfig). */
	if (unshare(CLONE_NEWUSER))
		return 249;
	if (write(done_w, "u", 1) != 1 || read(go_r, &c, 1) != 1)
		return 251;
	for (u = 0; u < 10; u++) {
		n = ns_create(u);
		if (n < 0)
			return 252;
		total += n;
	}
	return total;
}

/*
 * Defect 6: subordinate uids must not multiply a user's limits. A user
 * namespace owned by uid 1000 maps ten uids; together they get the
 * owner's four maps, not four each.
 */
TEST_F(limits, userns_uids_share_the_owners_quota)
{
	int go[2], done[2], status;
	char path[64], c;
	pid_t pid;

	ASSERT_EQ(0, write_str(HMAP_PARAM("max_maps_per_user"), "4"));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(userns_owner(go[0], done[1]));
	/* Only the child's ends: a child that gives up is seen as EOF. */
	close(go[0]);
	close(done[1]);
	if (read(done[0], &c, 1) != 1) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(249, WEXITSTATUS(status));
		SKIP(return, "no user namespaces in this kernel");
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	ASSERT_EQ(0, write_str(path, "0 200000 10"));
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	ASSERT_EQ(0, write_str(path, "0 200000 10"));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(4, WEXITSTATUS(status));
	for (pid = 0; pid < 10; pid++) {
		for (status = 0; status < 20; status++) {
			snprintf(path, sizeof(path), "ns%d_%d", pid, status);
			hmap_unpublish(path);
		}
	}
}

struct ids {
	__u32 id;
	int seen;
};

/* As a user: is @a->id among the ids GET_NEXT_ID lists? */
static int sees_id(void *p)
{
	struct ids *a = p;
	__u32 id = 0;

	while (!hmap_get_next_id(id, &id))
		if (id == a->id)
			return 1;
	return 0;
}

static int create_published(void *name)
{
	int fd = hmap_create("mine", 8, 8, 4, NULL);

	return fd < 0 || hmap_publish(fd, name, 0666) ? 1 : 0;
}

static int create_published(void *name);

/* As another user, with a writable fd: publishing the map is refused. */
static int publish_theirs(void *name)
{
	int fd = hmap_open_by_name(name, 0);

	if (fd < 0)
		return 1;
	return hmap_publish(fd, "pinned", 0600) == -EPERM ? 0 : 2;
}

/*
 * Defect 6: a name keeps a map alive against its creator's limits, so only
 * the creator may publish it: a user given a writable fd cannot pin it.
 */
TEST_F(limits, only_the_creator_publishes)
{
	ASSERT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, create_published, "pub1000"));
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, publish_theirs, "pub1000"));
	EXPECT_EQ(-ENOENT, hmap_open_by_name("pinned", HMAP_F_RDONLY));
	EXPECT_EQ(0, hmap_unpublish("pub1000"));
}

/* Defect 6: GET_NEXT_ID lists only maps the caller could open by id. */
TEST_F(limits, get_next_id_lists_only_openable_maps)
{
	struct hmap_info info;
	struct ids a = { 0 };
	int fd;

	ASSERT_EQ(0, run_as(UNPRIV_UID, UNPRIV_UID, create_published, "ids1000"));
	fd = hmap_open_by_name("ids1000", HMAP_F_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	close(fd);
	a.id = info.id;
	EXPECT_EQ(1, run_as(UNPRIV_UID, UNPRIV_UID, sees_id, &a));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, sees_id, &a));
	EXPECT_EQ(1, sees_id(&a));
	EXPECT_EQ(0, hmap_unpublish("ids1000"));
}

/*
 * Defect 4: a huge sparse table (a capacity hint of 2^22 buckets) walked by
 * GET_NEXT_KEY and LOOKUP_BATCH: the walk leaves RCU and offers the CPU
 * as it goes. Reports how long a whole-table scan takes.
 */
TEST_F_TIMEOUT(worst, walk_a_huge_sparse_table, 300)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .capacity_hint = 1 << 22 };
	__u64 k = 12345, next, keys[4], vals[4], cur;
	struct hmap_info info;
	long t0;
	__u32 n = 4;
	int fd;

	fd = hmap_create("sparse", 8, 8, 1 << 22, &o);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(1 << 22, info.buckets);
	t0 = now_ms();
	EXPECT_EQ(0, hmap_get_next_key(fd, NULL, &next));
	EXPECT_EQ(k, next);
	EXPECT_EQ(-ENOENT, hmap_get_next_key(fd, &next, &next));
	EXPECT_EQ(-ENOENT, hmap_lookup_batch(fd, NULL, &cur, keys, vals, &n));
	EXPECT_EQ(1, n);
	TH_LOG("three scans of %u buckets: %ld ms", info.buckets, now_ms() - t0);
	close(fd);
}

TEST_HARNESS_MAIN
