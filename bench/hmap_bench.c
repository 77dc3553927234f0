// SPDX-License-Identifier: GPL-2.0
/*
 * hmap against BPF hash maps, from userspace, in one boot.
 *
 *   hmap_bench cost         per-op cost; under qemu -icount the guest clock
 *                           counts instructions, so ns here are instructions
 *   hmap_bench throughput   ops/s ratios with several CPUs
 *
 * A benchmark, not a test: it reports figures and judges nothing. Output is
 * a table on stdout and JSON lines prefixed "JSON " for scripts/bench.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libhmap.h"
#include "lru_sim.h"

#define ENTRIES	65536
#define OPS	16384

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int bpf_create(__u32 ks, __u32 vs, __u32 flags)
{
	union bpf_attr a = { 0 };

	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = ENTRIES;
	a.map_flags = flags;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static int bpf_elem(int cmd, int fd, void *k, void *v, __u64 flags)
{
	union bpf_attr a = { 0 };

	a.map_fd = fd;
	a.key = (uintptr_t)k;
	a.value = (uintptr_t)v;
	a.flags = flags;
	return sys_bpf(cmd, &a);
}

struct sizes {
	__u32 ks, vs;
	const char *name;
};

static unsigned char *key_of(unsigned char *buf, __u32 ks, __u32 i)
{
	unsigned char *k = buf;

	memset(k, 0, ks);
	memcpy(k, &i, sizeof(i));
	return k;
}

static __u32 order[OPS];

static void json_num(const char *what, const char *size, double v)
{
	printf("JSON {\"metric\":\"%s\",\"size\":\"%s\",\"value\":%.1f}\n", what, size, v);
}

static void row(const char *size, const char *op, double hm, double bpf)
{
	char n1[64], n2[64];

	printf("  %-7s %-20s %10.0f %10.0f %8.2fx\n", size, op, hm, bpf, bpf / hm);
	snprintf(n1, sizeof(n1), "hmap_%s", op);
	snprintf(n2, sizeof(n2), "bpf_%s", op);
	json_num(n1, size, hm);
	json_num(n2, size, bpf);
}

#define TIME(expr) ({						\
	long __t0 = now_ns();					\
	for (__u32 __i = 0; __i < OPS; __i++) {			\
		__u32 i = order[__i];				\
		(void)i;					\
		expr;						\
	}							\
	(double)(now_ns() - __t0) / OPS;			\
})

#define CG	"/sys/fs/cgroup"
#define CG_FP	CG "/hmap_bench"

/*
 * Moves this process into a memory cgroup of its own, so that its
 * memory.current counts what the maps it creates take: hmap and BPF both
 * charge their memory to the creator's cgroup. Returns false if it cannot.
 */
static bool cg_enter(void)
{
	char pid[32];
	FILE *f;

	if (access(CG "/cgroup.controllers", F_OK) &&
	    mount("none", CG, "cgroup2", 0, NULL))
		return false;
	f = fopen(CG "/cgroup.subtree_control", "w");
	if (!f || fputs("+memory", f) < 0 || fclose(f))
		return false;
	if (mkdir(CG_FP, 0755) && errno != EEXIST)
		return false;
	f = fopen(CG_FP "/cgroup.procs", "w");
	snprintf(pid, sizeof(pid), "%d", getpid());
	return f && fputs(pid, f) >= 0 && !fclose(f);
}

static long cg_bytes(void)
{
	long v = -1;
	FILE *f = fopen(CG_FP "/memory.current", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * The same lookups with no system call, through a mapped map's image
 * (HMAP_F_MMAP), next to LOOKUP on that map and BPF's lookup (@bl).
 */
static void mapped(const struct sizes *s, double bl)
{
	static unsigned char k[512], v[512];
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_MMAP };
	struct hmap_mapped_stats st;
	struct hmap_mapping *m;
	double e;
	__u32 i;
	int fd;

	fd = hmap_create("bench_mmap", s->ks, s->vs, ENTRIES, &o);
	if (fd < 0 || hmap_mmap(fd, &m)) {
		printf("  %s: cannot create or map a mapped map (%d)\n", s->name, fd);
		if (fd >= 0)
			close(fd);
		return;
	}
	for (i = 0; i < ENTRIES; i++) {
		memset(v, i, s->vs);
		hmap_update(fd, key_of(k, s->ks, i), v, 0);
	}
	/* Touch every page once: the first touch of a page is a fault. */
	for (i = 0; i < ENTRIES; i++)
		hmap_mapped_lookup(m, key_of(k, s->ks, i), v, NULL);
	/* What every row pays for its loop and key, the empty ioctl's too. */
	e = TIME(key_of(k, s->ks, i));
	printf("  %-7s %-20s %10.0f\n", s->name, "loop and key only", e);
	json_num("loop_and_key", s->name, e);
	e = TIME(hmap_lookup(fd, key_of(k, s->ks, i), v));
	row(s->name, "lookup, mapped map", e, bl);
	e = TIME(hmap_mapped_lookup(m, key_of(k, s->ks, i), v, NULL));
	row(s->name, "mapped lookup", e, bl);
	e = TIME(hmap_mapped_lookup(m, key_of(k, s->ks, i + ENTRIES), v, NULL));
	row(s->name, "mapped lookup, miss", e, bl);
	hmap_mapped_stats(m, &st);
	/* Nobody writes here: every lookup should have been one walk. */
	if (st.fallbacks || st.retries)
		printf("  %-7s mapped lookups: %llu retries, %llu fell back to LOOKUP\n",
		       s->name, (unsigned long long)st.retries,
		       (unsigned long long)st.fallbacks);
	hmap_munmap(m);
	close(fd);
}

static void cost(const struct sizes *s)
{
	static unsigned char k[512], v[512], keys[1024 * 64], vals[1024 * 256];
	static unsigned char mkeys[OPS * 64], mvals[64 * 256];
	static __s32 mstatus[64];
	/* Preallocated, as BPF hash maps are by default. */
	struct hmap_create_opts o = { .sz = sizeof(o), .capacity_hint = ENTRIES,
				      .flags = HMAP_F_PREALLOC };
	struct hmap_elem_op op;
	double hl, bl, bu, bk, e;
	__u64 ver = 0;
	int hfd, bfd, dev = open(HMAP_DEV_PATH, O_RDWR);
	union bpf_attr a;
	__u32 i, n;
	long t0, cnt;
	int ret;
	char cur[64];
	__u64 batch_out;

	hfd = hmap_create("bench", s->ks, s->vs, ENTRIES, &o);
	bfd = bpf_create(s->ks, s->vs, 0);
	if (hfd < 0 || bfd < 0) {
		printf("  %s: cannot create maps (hmap %d, bpf %d)\n", s->name, hfd, bfd);
		return;
	}
	for (i = 0; i < ENTRIES; i++) {
		memset(v, i, s->vs);
		hmap_update(hfd, key_of(k, s->ks, i), v, 0);
		bpf_elem(BPF_MAP_UPDATE_ELEM, bfd, key_of(k, s->ks, i), v, BPF_ANY);
	}
	e = TIME(ioctl(dev, _IO(HMAP_TYPE, 0x7f), 0));
	printf("  %-7s %-20s %10.0f\n", s->name, "empty ioctl", e);
	json_num("empty_ioctl", s->name, e);
	e = TIME(syscall(SYS_getppid));
	printf("  %-7s %-20s %10.0f\n", s->name, "getppid", e);
	json_num("getppid", s->name, e);

	/*
	 * Where a lookup's cost goes, step by step: the ioctl up to the
	 * argument copy (a bad flag is refused right after it), then a miss
	 * (key copy, hash, chain walk), then a hit (value copy out).
	 */
	op = (struct hmap_elem_op){ .size = sizeof(op), .flags = 1 };
	e = TIME(ioctl(hfd, HMAP_IOC_LOOKUP, &op));
	printf("  %-7s %-20s %10.0f\n", s->name, "lookup, arg copied", e);
	json_num("hmap_lookup_arg_copied", s->name, e);
	e = TIME(hmap_lookup(hfd, key_of(k, s->ks, i + ENTRIES), v));
	printf("  %-7s %-20s %10.0f\n", s->name, "lookup, miss", e);
	json_num("hmap_lookup_miss", s->name, e);

	hl = TIME(hmap_lookup(hfd, key_of(k, s->ks, i), v));
	bl = TIME(bpf_elem(BPF_MAP_LOOKUP_ELEM, bfd, key_of(k, s->ks, i), v, 0));
	row(s->name, "lookup", hl, bl);
	bk = bl;
	mapped(s, bl);
	hl = TIME(hmap_update(hfd, key_of(k, s->ks, i), v, 0));
	bl = TIME(bpf_elem(BPF_MAP_UPDATE_ELEM, bfd, key_of(k, s->ks, i), v, BPF_ANY));
	row(s->name, "update", hl, bl);
	bu = bl;
	/*
	 * The change stream: an update with one watch (values included, a
	 * buffer big enough that no record is dropped), and again once the
	 * watch is closed, when the map is back to a single load per write.
	 */
	{
		struct hmap_watch w = { .size = sizeof(w),
					.flags = HMAP_WATCH_VALUES,
					.buf_bytes = HMAP_WATCH_MAX_BYTES };
		int wfd = ioctl(hfd, HMAP_IOC_WATCH, &w);

		if (wfd >= 0) {
			e = TIME(hmap_update(hfd, key_of(k, s->ks, i), v, 0));
			row(s->name, "update, 1 watch", e, bl);
			close(wfd);
			e = TIME(hmap_update(hfd, key_of(k, s->ks, i), v, 0));
			row(s->name, "update, watch closed", e, bl);
		}
	}
	/*
	 * The read-modify-writes BPF has no command for, against the UPDATE a
	 * BPF user would do instead (racy without a lock of its own). Every
	 * key now holds @v, so each CMPXCHG succeeds.
	 */
	if (s->vs == 8) {
		hl = TIME(hmap_add(hfd, key_of(k, s->ks, i), 1, 0, NULL, NULL));
		row(s->name, "add (vs bpf update)", hl, bu);
		hl = TIME(hmap_add(hfd, key_of(k, s->ks, i), -1, 0, NULL, NULL));
	}
	hl = TIME(hmap_cmpxchg(hfd, key_of(k, s->ks, i), v, v, NULL));
	row(s->name, "cas (vs bpf update)", hl, bu);
	/* memcached's gets + cas: read the version, write if unchanged. */
	hl = TIME(hmap_lookup_version(hfd, key_of(k, s->ks, i), v, &ver);
		  hmap_update_version(hfd, key_of(k, s->ks, i), v,
				      HMAP_IF_VERSION, &ver));
	bl = TIME(bpf_elem(BPF_MAP_LOOKUP_ELEM, bfd, key_of(k, s->ks, i), v, 0);
		  bpf_elem(BPF_MAP_UPDATE_ELEM, bfd, key_of(k, s->ks, i), v, BPF_ANY));
	row(s->name, "gets+cas (vs lk+upd)", hl, bl);
	/* Multi-get of 64 keys per call, per key, against BPF's lookup. */
	for (i = 0; i < OPS; i++)
		memcpy(mkeys + (size_t)i * s->ks, key_of(k, s->ks, order[i]), s->ks);
	t0 = now_ns();
	for (i = 0; i < OPS; i += 64) {
		n = 64;
		hmap_lookup_multi(hfd, mkeys + (size_t)i * s->ks, mvals, mstatus, &n);
	}
	hl = (double)(now_ns() - t0) / OPS;
	row(s->name, "mget per key (64)", hl, bk);
	hl = TIME(hmap_delete(hfd, key_of(k, s->ks, i)));
	bl = TIME(bpf_elem(BPF_MAP_DELETE_ELEM, bfd, key_of(k, s->ks, i), NULL, 0));
	row(s->name, "delete", hl, bl);
	/* Put them back, then take them out again with their values. */
	for (i = 0; i < OPS; i++) {
		hmap_update(hfd, key_of(k, s->ks, order[i]), v, 0);
		bpf_elem(BPF_MAP_UPDATE_ELEM, bfd, key_of(k, s->ks, order[i]), v, BPF_ANY);
	}
	hl = TIME(hmap_lookup_and_delete(hfd, key_of(k, s->ks, i), v));
	bl = TIME(bpf_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, bfd, key_of(k, s->ks, i), v, 0));
	row(s->name, "lookup_and_delete", hl, bl);
	for (i = 0; i < OPS; i++) {
		hmap_update(hfd, key_of(k, s->ks, order[i]), v, 0);
		bpf_elem(BPF_MAP_UPDATE_ELEM, bfd, key_of(k, s->ks, order[i]), v, BPF_ANY);
	}

	/* Full-map dump, per entry, 1024 entries per call (fewer if large). */
	n = sizeof(vals) / s->vs < 1024 ? sizeof(vals) / s->vs : 1024;
	t0 = now_ns();
	cnt = 0;
	for (ret = 0, i = 0; !ret; i++) {
		__u32 got = n;

		ret = hmap_lookup_batch(hfd, i ? cur : NULL, cur, keys, vals, &got);
		cnt += got;
	}
	hl = (double)(now_ns() - t0) / (cnt ? cnt : 1);
	t0 = now_ns();
	cnt = 0;
	for (ret = 0, i = 0; !ret; i++) {
		memset(&a, 0, sizeof(a));
		a.batch.map_fd = bfd;
		a.batch.in_batch = i ? (uintptr_t)&batch_out : 0;
		a.batch.out_batch = (uintptr_t)&batch_out;
		a.batch.keys = (uintptr_t)keys;
		a.batch.values = (uintptr_t)vals;
		a.batch.count = n;
		ret = sys_bpf(BPF_MAP_LOOKUP_BATCH, &a);
		cnt += a.batch.count;
		if (ret && errno != ENOENT)
			break;
	}
	bl = (double)(now_ns() - t0) / (cnt ? cnt : 1);
	row(s->name, "dump per entry", hl, bl);

	close(hfd);
	close(bfd);
	close(dev);
}

/* Bytes of memory one entry costs: memory.current before creation and after a fill. */
static double footprint(const struct sizes *s, bool bpf, bool prealloc)
{
	static unsigned char k[512], v[512];
	struct hmap_create_opts o = { .sz = sizeof(o),
				      .flags = prealloc ? HMAP_F_PREALLOC : 0 };
	long before = cg_bytes(), after;
	int fd;
	__u32 i;

	fd = bpf ? bpf_create(s->ks, s->vs, prealloc ? 0 : BPF_F_NO_PREALLOC) :
		   hmap_create("fp", s->ks, s->vs, ENTRIES, &o);
	if (fd < 0)
		return -1;
	for (i = 0; i < ENTRIES; i++) {
		if (bpf)
			bpf_elem(BPF_MAP_UPDATE_ELEM, fd, key_of(k, s->ks, i), v, BPF_ANY);
		else
			hmap_update(fd, key_of(k, s->ks, i), v, 0);
	}
	/* Resizes free the old bucket arrays a grace period later. */
	usleep(300000);
	after = cg_bytes();
	close(fd);
	/* Let the deferred frees run so the next figure starts clean. */
	usleep(300000);
	return (double)(after - before) / ENTRIES;
}

static void footprints(const struct sizes *s)
{
	double hs = footprint(s, false, false), hp = footprint(s, false, true);
	double bp = footprint(s, true, true), bs = footprint(s, true, false);

	printf("  %-7s %-20s %10.1f %10.1f   (memcg bytes / entries; hmap prealloc %.1f, bpf no-prealloc %.1f)\n",
	       s->name, "bytes per entry", hs, bp, hp, bs);
	json_num("hmap_bytes_per_entry", s->name, hs);
	json_num("hmap_prealloc_bytes_per_entry", s->name, hp);
	json_num("bpf_bytes_per_entry", s->name, bp);
	json_num("bpf_no_prealloc_bytes_per_entry", s->name, bs);
}

#define LRU_KEYS	100000
#define LRU_LEN		200000
#define LRU_CACHE	10000

/*
 * A cache in front of a slow store on a Zipf(0.99) trace (look up; insert on
 * a miss): the hit rate of an HMAP_F_LRU map, of a BPF LRU_HASH map and of
 * an exact LRU cache of the same size.
 */
static void lru_hitrate(void)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_LRU };
	static uint32_t trace[LRU_LEN];
	uint32_t i, hh = 0, bh = 0, exact;
	union bpf_attr a = { 0 };
	int hfd, bfd;
	__u64 k, v;

	a.map_type = BPF_MAP_TYPE_LRU_HASH;
	a.key_size = 8;
	a.value_size = 8;
	a.max_entries = LRU_CACHE;
	hfd = hmap_create("lru", 8, 8, LRU_CACHE, &o);
	bfd = sys_bpf(BPF_MAP_CREATE, &a);
	if (hfd < 0 || bfd < 0) {
		printf("  LRU: cannot create maps (hmap %d, bpf %d)\n", hfd, bfd);
		return;
	}
	sim_zipf_trace(trace, LRU_LEN, LRU_KEYS, 0.99, 42);
	for (i = 0; i < LRU_LEN; i++) {
		k = trace[i];
		if (!hmap_lookup(hfd, &k, &v))
			hh++;
		else
			hmap_update(hfd, &k, &k, 0);
		if (!bpf_elem(BPF_MAP_LOOKUP_ELEM, bfd, &k, &v, 0))
			bh++;
		else
			bpf_elem(BPF_MAP_UPDATE_ELEM, bfd, &k, &k, BPF_ANY);
	}
	exact = sim_exact_lru_hits(trace, LRU_LEN, LRU_KEYS, LRU_CACHE);
	printf("LRU hit rate, Zipf 0.99 over %d keys, %d entries, %d accesses:\n",
	       LRU_KEYS, LRU_CACHE, LRU_LEN);
	printf("  hmap LRU %.4f   bpf LRU_HASH %.4f   exact LRU %.4f\n",
	       (double)hh / LRU_LEN, (double)bh / LRU_LEN,
	       (double)exact / LRU_LEN);
	json_num("hmap_lru_hit_rate", "8/8", (double)hh / LRU_LEN);
	json_num("bpf_lru_hit_rate", "8/8", (double)bh / LRU_LEN);
	json_num("exact_lru_hit_rate", "8/8", (double)exact / LRU_LEN);
	close(hfd);
	close(bfd);
}

/*
 * One per thread, each on cache lines of its own: counters of two readers
 * on one line would make each count a miss for the other, and the figure
 * that of the line, not of the lookups.
 */
struct thr {
	int fd, bpf;
	bool writer;
	atomic_bool *stop;
	long ops;
	struct hmap_mapping *m;
	long pace_ns;
} __attribute__((aligned(128)));

static void *worker(void *p)
{
	struct thr *t = p;
	__u64 k = (uintptr_t)p, v = 0;
	struct timespec ts = { 0, t->pace_ns };

	while (!atomic_load(t->stop)) {
		k = (k * 6364136223846793005ULL + 1) % ENTRIES;
		if (t->writer) {
			hmap_update(t->fd, &k, &v, 0);
			if (t->pace_ns)
				nanosleep(&ts, NULL);
		} else if (t->m) {
			hmap_mapped_lookup(t->m, &k, &v, NULL);
		} else {
			hmap_lookup(t->fd, &k, &v);
		}
		t->ops++;
	}
	return NULL;
}

/*
 * Lookups per second by @readers threads (through their own mapping of
 * the map if @mapped), beside @writers writer threads, which write
 * without a pause, or one write every @pace_ns.
 */
static double rate_of(int fd, int readers, int writers, bool mapped,
		      long pace_ns)
{
	struct thr t[8];
	pthread_t th[8];
	atomic_bool stop = false;
	long sum = 0;
	int i, n = readers + writers;

	for (i = 0; i < n; i++) {
		t[i] = (struct thr){ .fd = fd, .writer = i >= readers, .stop = &stop,
				     .pace_ns = pace_ns };
		if (mapped && i < readers && hmap_mmap(fd, &t[i].m))
			return 0;
		pthread_create(&th[i], NULL, worker, &t[i]);
	}
	usleep(1500000);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (i < readers)
			sum += t[i].ops;
		hmap_munmap(t[i].m);
	}
	return sum / 1.5;
}

static double rate(int fd, int readers, int writers)
{
	return rate_of(fd, readers, writers, false, 0);
}

/*
 * Mapped readers, alone and beside a writer that updates 10,000 times a
 * second (a configuration or routing table: read by every request,
 * changed now and then). A writer without a pause would take a vCPU of
 * the two from the readers it is compared with.
 */
static void throughput_mapped(void)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_MMAP };
	int fd = hmap_create("tput_mmap", 8, 8, ENTRIES, &o);
	double r1, r2, w1, w2;
	__u64 k;

	if (fd < 0) {
		printf("  mapped: cannot create (%d)\n", fd);
		return;
	}
	for (k = 0; k < ENTRIES; k++)
		hmap_update(fd, &k, &k, 0);
	r1 = rate_of(fd, 1, 0, true, 0);
	r2 = rate_of(fd, 2, 0, true, 0);
	w1 = rate_of(fd, 1, 1, true, 100000);
	w2 = rate_of(fd, 2, 1, true, 100000);
	printf("  mapped, 1 reader    %12.0f lookups/s   %.1fx the ioctl reader\n", r1,
	       r1 / rate(fd, 1, 0));
	printf("  mapped, 2 readers   %12.0f lookups/s   %.2fx one reader\n", r2, r2 / r1);
	printf("  mapped, 1 reader + 1 writer (10k updates/s) %12.0f lookups/s\n", w1);
	printf("  mapped, 2 readers + 1 writer (10k updates/s) %11.0f lookups/s   %.2fx one reader\n",
	       w2, w2 / w1);
	json_num("mapped_readers2_vs_1", "8/8", r2 / r1);
	json_num("mapped_readers2_vs_1_with_writer", "8/8", w2 / w1);
	close(fd);
}

static void throughput(void)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .capacity_hint = ENTRIES,
				      .flags = HMAP_F_PREALLOC };
	int fd = hmap_create("tput", 8, 8, ENTRIES, &o);
	double r1, r2, rw;
	__u64 k;

	for (k = 0; k < ENTRIES; k++)
		hmap_update(fd, &k, &k, 0);
	r1 = rate(fd, 1, 0);
	r2 = rate(fd, 2, 0);
	rw = rate(fd, 1, 1);
	printf("  1 reader            %12.0f lookups/s\n", r1);
	printf("  2 readers           %12.0f lookups/s   %.2fx one reader\n", r2, r2 / r1);
	printf("  1 reader + 1 writer %12.0f lookups/s   %.2fx the reader alone\n", rw, rw / r1);
	json_num("readers2_vs_1", "8/8", r2 / r1);
	json_num("reader_with_writer_vs_alone", "8/8", rw / r1);
	close(fd);
	throughput_mapped();
}

int main(int argc, char **argv)
{
	static const struct sizes sizes[] = {
		{ 8, 8, "8/8" },
		{ 64, 256, "64/256" },
	};
	__u32 i, x = 12345;

	for (i = 0; i < OPS; i++) {
		x = x * 1103515245 + 12345;
		order[i] = i;
	}
	/* A fixed shuffle of distinct keys: deletes never repeat a key. */
	for (i = OPS - 1; i > 0; i--) {
		__u32 j, t;

		x = x * 1103515245 + 12345;
		j = (x >> 8) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < OPS; i++)
		order[i] = order[i] * (ENTRIES / OPS);

	if (argc > 1 && !strcmp(argv[1], "throughput")) {
		printf("Throughput, 8-byte keys and values, %d entries:\n", ENTRIES);
		throughput();
		return 0;
	}
	printf("Cost per operation (ns; instructions under -icount), %d entries, %d ops each:\n",
	       ENTRIES, OPS);
	printf("  %-7s %-20s %10s %10s %9s\n", "size", "op", "hmap", "bpf", "bpf/hmap");
	for (i = 0; i < 2; i++)
		cost(&sizes[i]);
	lru_hitrate();
	usleep(300000);
	if (!cg_enter()) {
		printf("  bytes per entry: no memory cgroup (%s)\n", strerror(errno));
		return 0;
	}
	for (i = 0; i < 2; i++)
		footprints(&sizes[i]);
	return 0;
}
