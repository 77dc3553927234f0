// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures at every point, in the manner of the kernel's
 * tools/testing/selftests/iommu/iommufd_fail_nth.c: for each command, fail
 * its 1st, 2nd, ... slab allocation through /proc/self/task/TID/fail-nth
 * until it runs with no failure injected. Every injected failure must give a
 * clean errno and leave everything as it was: the map's content, the
 * module's byte count, the number of live maps, the caller's fds and the
 * map's references, and the version of every entry (a failed write takes
 * none). A failure the command tolerates (a resize that could not
 * allocate) must leave the same content as a clean run.
 *
 * The commands that came with versions are swept where they allocate: ADD
 * creating the first entry of a map (its element and bucket array), CMPXCHG
 * whose bounce buffer (the key and two values) is on the heap while
 * UPDATE's (the key and one) still fits the stack, and with a large value,
 * UPDATE with HMAP_IF_VERSION on the heap bounce, DELETE with it shrinking
 * the table, and LOOKUP_MULTI, which allocates its buffer.
 *
 * WATCH has a sweep of its own, with and without HMAP_WATCH_VALUES, with the
 * default buffer and a small one, and charged to the caller (no
 * CAP_SYS_RESOURCE): a failure must give ENOMEM (or EDQUOT) and leave no
 * fd behind (/proc/self/fd counted before and after) and everything else as
 * it was; a failure the call absorbed (a kvmalloc() that fell back to
 * vmalloc) must leave a watch that works: an update of the map is then one
 * record to read, numbered after the @seq WATCH gave.
 *
 * HMAP_F_MMAP maps are swept as well. CREATE of one, whose image is a
 * __vmalloc() charged to the caller's memory cgroup and a kzalloc() of its
 * struct hmap_image: a failure of either, or of anything else, must leave
 * no map, no byte charged, no fd. The commands that change entries, on
 * such a map (the image is written under the same lock as the table): after
 * every run, failed or not, the image, mapped with hmap_mmap(), must give
 * what LOOKUP gives for every key present and a few absent ones (value
 * bytes and version). And the mapping itself under injection: mmap() of
 * the image, shared, private or populated, at an address alone in its page
 * tables (so that the touch allocates them, a ptlock from a slab with
 * lockdep), then a touch of every page; and hmap_mmap() with lookups
 * through it. A failed mmap() must give ENOMEM and leave no mapping
 * (/proc/self/maps) and no fd; a touch that faults (SIGBUS, caught) counts
 * as a failure only when one was injected. Every mapping is undone after
 * injection, and the map must then go away with its fd.
 *
 * Needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB: runs on the debug
 * kernel, skips on Debian's.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define FAILSLAB "/sys/kernel/debug/failslab/"

struct ctx {
	int dev;
	int fd;
	__u32 id;
	__u64 key, next;
	char value[16384];	/* room for the big-value map */
	char desired[16384];	/* CMPXCHG's second value */
	__u64 version;		/* of key 2, for HMAP_IF_VERSION */
	union {
		struct hmap_create create;
		struct hmap_elem_op elem;
		struct hmap_get_next_key gnk;
		struct hmap_clear clear;
		struct hmap_info info;
		struct hmap_publish pub;
		struct hmap_unpublish unpub;
		struct hmap_open_by_name obn;
		struct hmap_open_by_id obi;
		struct hmap_get_next_id gni;
		struct hmap_batch batch;
		struct hmap_add add;
		struct hmap_cmpxchg cas;
	} arg;
	__u64 bkeys[8], bvals[8];
	__s32 bstatus[8];
	bool mapped;		/* the map is HMAP_F_MMAP: its image is checked */
	__u64 mmap_bytes;	/* INFO.mmap_bytes of the map */
	void *maddr;		/* a raw mapping of the image, undone after injection */
	size_t mlen;
	struct hmap_mapping *mapping;	/* hmap_mmap()'s, undone after injection */
	bool sigbus;		/* a touch of the image took SIGBUS */
};

/* Everything a failed command must leave as it was. */
struct state {
	__u64 digest;		/* over the map's keys and values */
	__u64 vdigest;		/* over the versions of its entries */
	__u32 count;
	long long bytes, live;
	int free_fd;		/* lowest unused fd */
	long long refs;		/* the map's references, from debugfs */
	int mappings;		/* of any map, in /proc/self/maps */
	int image_bad;		/* HMAP_F_MMAP: keys the image disagrees on */
};

/* What the last image check that disagreed saw. */
static char image_why[256];

static __u64 mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	return x ^ (x >> 33);
}

static long long map_refs(__u32 id)
{
	char line[256];
	long long refs = -1;
	unsigned int mid, kref;
	FILE *f = fopen("/sys/kernel/debug/hmap/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u\t%*s\t%*u\t%*u\t%*u\t%*u\t%*u\t%u", &mid, &kref) == 2 &&
		    mid == id)
			refs = kref;
	fclose(f);
	return refs;
}

/* Mappings of hmap map fds ("anon_inode:[hmap]") in /proc/self/maps. */
static int count_mappings(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "anon_inode:[hmap]");
	fclose(f);
	return n;
}

/*
 * Key @k looked up through mapping @m and by LOOKUP: 0 if both agree (the
 * errno, the value bytes, the version), else 1 with image_why saying how.
 */
static int image_key(struct ctx *c, struct hmap_mapping *m, __u64 k, __u32 vsize)
{
	static char kv[16384], iv[16384];
	__u64 kver = 0, iver = 0;
	int kret, iret;

	kret = hmap_lookup_version(c->fd, &k, kv, &kver);
	iret = hmap_mapped_lookup(m, &k, iv, &iver);
	if (kret == iret && (kret || (!memcmp(kv, iv, vsize) && kver == iver)))
		return 0;
	snprintf(image_why, sizeof(image_why),
		 "key %llu: LOOKUP %d version %llu, hmap_mapped_lookup %d version %llu%s",
		 (unsigned long long)k, kret, (unsigned long long)kver, iret,
		 (unsigned long long)iver,
		 !kret && !iret && memcmp(kv, iv, vsize) ? ", values differ" : "");
	return 1;
}

/*
 * The keys on which the image of @c's map (mapped by hmap_mmap(), outside
 * injection) disagrees with LOOKUP: every present key, and keys 0-9, 50
 * and 100-107 (what the commands here touch) present or not.
 */
static int image_check(struct ctx *c, __u32 vsize)
{
	struct hmap_mapped_stats st;
	struct hmap_mapping *m;
	__u64 cur, next, k;
	int ret, bad = 0;

	ret = hmap_mmap(c->fd, &m);
	if (ret) {
		snprintf(image_why, sizeof(image_why), "hmap_mmap: %s", strerror(-ret));
		return 1;
	}
	for (ret = hmap_get_next_key(c->fd, NULL, &next); !ret;
	     ret = hmap_get_next_key(c->fd, &cur, &next)) {
		bad += image_key(c, m, next, vsize);
		cur = next;
	}
	for (k = 0; k < 10; k++)
		bad += image_key(c, m, k, vsize);
	bad += image_key(c, m, 50, vsize);
	for (k = 100; k < 108; k++)
		bad += image_key(c, m, k, vsize);
	/* Nothing writes meanwhile: no walk is disturbed, none falls back. */
	hmap_mapped_stats(m, &st);
	if (st.retries || st.fallbacks) {
		snprintf(image_why, sizeof(image_why),
			 "%llu retries, %llu fallbacks with no writer",
			 (unsigned long long)st.retries, (unsigned long long)st.fallbacks);
		bad++;
	}
	hmap_munmap(m);
	return bad;
}

static void snapshot(struct ctx *c, struct state *s)
{
	struct hmap_info info;
	__u64 cur, next, ver;
	char v[16384];
	int ret;

	memset(s, 0, sizeof(*s));
	if (c->fd >= 0 && !hmap_info(c->fd, &info)) {
		s->count = info.count;
		for (ret = hmap_get_next_key(c->fd, NULL, &next); !ret;
		     ret = hmap_get_next_key(c->fd, &cur, &next)) {
			if (!hmap_lookup_version(c->fd, &next, v, &ver)) {
				s->digest += mix(next * 1000003 + v[0] + (v[1] << 8) +
						 ((__u64)(__u8)v[info.value_size - 1] << 16));
				s->vdigest += mix(next * 1000003 + ver);
			}
			cur = next;
		}
		s->refs = map_refs(info.id);
		if (c->mapped)
			s->image_bad = image_check(c, info.value_size);
	}
	s->mappings = count_mappings();
	settle_frees();
	s->bytes = stat_num("bytes_used");
	s->live = stat_num("maps_live");
	s->free_fd = dup(0);
	close(s->free_fd);
}

static int nth_fd(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return open(path, O_RDWR);
}

static int arm(int nfd, int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", nth);

	return pwrite(nfd, buf, len, 0) == len ? 0 : -1;
}

/* Disarms; returns true if a failure was injected since arm(). */
static bool disarm(int nfd)
{
	char buf[16] = "";
	bool injected;

	if (pread(nfd, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	injected = atoi(buf) == 0;
	pwrite(nfd, "0", 1, 0);
	return injected;
}

/*
 * Fills a map of @flags with keys 0..n-1 -> value byte k, outside
 * injection.
 */
static int new_map_flags(struct ctx *c, __u32 vsize, __u32 max, __u32 n, __u32 flags)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = flags };
	struct hmap_info info;
	__u64 k;

	c->fd = hmap_create("nth", 8, vsize, max, &o);
	if (c->fd < 0)
		return c->fd;
	c->mapped = flags & HMAP_F_MMAP;
	if (c->mapped && (hmap_info(c->fd, &info) || !info.mmap_bytes))
		return -1;
	c->mmap_bytes = c->mapped ? info.mmap_bytes : 0;
	for (k = 0; k < n; k++) {
		memset(c->value, (int)k, vsize);
		if (hmap_update(c->fd, &k, c->value, 0))
			return -1;
	}
	return 0;
}

static int new_map(struct ctx *c, __u32 vsize, __u32 max, __u32 n)
{
	return new_map_flags(c, vsize, max, n, 0);
}

static int elem(struct ctx *c, unsigned long cmd, __u64 key, __u64 flags)
{
	c->key = key;
	memset(c->value, 0x5a, sizeof(c->value));
	c->arg.elem = (struct hmap_elem_op){ .size = sizeof(c->arg.elem),
		.flags = flags, .key = (uintptr_t)&c->key,
		.value = cmd == HMAP_IOC_DELETE ? 0 : (uintptr_t)c->value };
	return xioctl(c->fd, cmd, &c->arg);
}

/* Each command: how to build its starting point, and the command itself. */
struct op {
	const char *name;
	int (*prepare)(struct ctx *c);
	int (*run)(struct ctx *c);	/* >= 0 on success (an fd for opens) */
	/*
	 * For the batches, which are not atomic: how many entries the map
	 * gained per entry the command reports done (+1 UPDATE_BATCH, -1
	 * LOOKUP_AND_DELETE_BATCH), 0 for the rest.
	 */
	int per_done;
};

/* The new fd of a command that opens one, for the caller to close. */
static int fd_or_errno(int ret)
{
	return ret < 0 ? -errno : ret;
}

static int prep_none(struct ctx *c) { c->fd = -1; return 0; }
static int prep_small(struct ctx *c) { return new_map(c, 8, 64, 5); }
static int prep_empty(struct ctx *c) { return new_map(c, 8, 64, 0); }
/* 8 entries in 8 buckets: the 9th insert grows the table. */
static int prep_at_grow(struct ctx *c) { return new_map(c, 8, 64, 8); }
static int prep_big_values(struct ctx *c) { return new_map(c, 12000, 8, 3); }
/*
 * 8-byte keys, 300-byte values: CMPXCHG's 8 + 304 + 300 bytes bounce on the
 * heap, UPDATE's 8 + 300 on the stack.
 */
static int prep_mid_values(struct ctx *c) { return new_map(c, 300, 8, 3); }

/* With the version of key 2, for HMAP_IF_VERSION. */
static int with_version(struct ctx *c, int ret)
{
	__u64 k = 2;

	return ret ?: hmap_lookup_version(c->fd, &k, c->value, &c->version);
}

static int prep_big_values_ver(struct ctx *c) { return with_version(c, prep_big_values(c)); }

/*
 * 40 entries in 64 buckets, then down to 18: the next delete takes the count
 * below 3/10 of the buckets and shrinks the table.
 */
static int prep_at_shrink(struct ctx *c)
{
	struct hmap_info info;
	__u64 k;

	if (new_map(c, 8, 64, 40) || hmap_info(c->fd, &info) || info.buckets != 64)
		return -1;
	for (k = 39; k >= 18; k--)
		if (hmap_delete(c->fd, &k))
			return -1;
	return 0;
}

/* As prep_at_shrink(), with key 2's version. */
static int prep_at_shrink_ver(struct ctx *c)
{
	return with_version(c, prep_at_shrink(c));
}

static int prep_published(struct ctx *c)
{
	struct hmap_info info;

	if (new_map(c, 8, 64, 5) || hmap_publish(c->fd, "nth_test", 0600) ||
	    hmap_info(c->fd, &info))
		return -1;
	c->id = info.id;
	return 0;
}

static int run_create(struct ctx *c)
{
	c->arg.create = (struct hmap_create){ .size = sizeof(c->arg.create),
		.key_size = 8, .value_size = 8, .max_entries = 64, .name = "new" };
	return fd_or_errno(ioctl(c->dev, HMAP_IOC_CREATE, &c->arg));
}

static int run_lookup(struct ctx *c) { return elem(c, HMAP_IOC_LOOKUP, 2, 0); }
static int run_insert(struct ctx *c) { return elem(c, HMAP_IOC_UPDATE, 50, HMAP_NOEXIST); }
static int run_replace(struct ctx *c) { return elem(c, HMAP_IOC_UPDATE, 2, HMAP_EXIST); }
static int run_delete(struct ctx *c) { return elem(c, HMAP_IOC_DELETE, 2, 0); }
static int run_lad(struct ctx *c) { return elem(c, HMAP_IOC_LOOKUP_AND_DELETE, 2, 0); }

/* UPDATE or DELETE of key 2 at the version prepare() read. */
static int elem_at_version(struct ctx *c, unsigned long cmd)
{
	c->key = 2;
	memset(c->value, 0x5b, sizeof(c->value));
	c->arg.elem = (struct hmap_elem_op){ .size = sizeof(c->arg.elem),
		.flags = HMAP_IF_VERSION, .key = (uintptr_t)&c->key,
		.value = cmd == HMAP_IOC_DELETE ? 0 : (uintptr_t)c->value,
		.version = c->version };
	return xioctl(c->fd, cmd, &c->arg);
}

static int run_replace_ver(struct ctx *c) { return elem_at_version(c, HMAP_IOC_UPDATE); }
static int run_delete_ver(struct ctx *c) { return elem_at_version(c, HMAP_IOC_DELETE); }

/* ADD creating key 50, as if it held 0. */
static int run_add_create(struct ctx *c)
{
	c->key = 50;
	c->arg.add = (struct hmap_add){ .size = sizeof(c->arg.add),
		.flags = HMAP_ADD_CREATE, .key = (uintptr_t)&c->key, .delta = -3 };
	return xioctl(c->fd, HMAP_IOC_ADD, &c->arg);
}

/* CMPXCHG of key 2 from the value new_map() gave it (every byte 2). */
static int run_cmpxchg(struct ctx *c)
{
	c->key = 2;
	memset(c->value, 2, sizeof(c->value));
	memset(c->desired, 0x6c, sizeof(c->desired));
	c->arg.cas = (struct hmap_cmpxchg){ .size = sizeof(c->arg.cas),
		.key = (uintptr_t)&c->key, .expected = (uintptr_t)c->value,
		.desired = (uintptr_t)c->desired };
	return xioctl(c->fd, HMAP_IOC_CMPXCHG, &c->arg);
}

static int run_lookup_multi(struct ctx *c)
{
	int i;

	for (i = 0; i < 8; i++)
		c->bkeys[i] = i * 3 % 10;	/* present and absent, 0 twice */
	c->arg.batch = (struct hmap_batch){ .size = sizeof(c->arg.batch),
		.keys = (uintptr_t)c->bkeys, .values = (uintptr_t)c->bvals,
		.status = (uintptr_t)c->bstatus, .count = 8 };
	return xioctl(c->fd, HMAP_IOC_LOOKUP_MULTI, &c->arg);
}

static int run_next_key(struct ctx *c)
{
	/* From the start: a successor always exists, whatever the order. */
	c->arg.gnk = (struct hmap_get_next_key){ .size = sizeof(c->arg.gnk),
		.next_key = (uintptr_t)&c->next };
	return xioctl(c->fd, HMAP_IOC_GET_NEXT_KEY, &c->arg);
}

static int run_clear(struct ctx *c)
{
	c->arg.clear = (struct hmap_clear){ .size = sizeof(c->arg.clear) };
	return xioctl(c->fd, HMAP_IOC_CLEAR, &c->arg);
}

static int run_info(struct ctx *c)
{
	c->arg.info = (struct hmap_info){ .size = sizeof(c->arg.info) };
	return xioctl(c->fd, HMAP_IOC_INFO, &c->arg);
}

static int run_publish(struct ctx *c)
{
	c->arg.pub = (struct hmap_publish){ .size = sizeof(c->arg.pub),
		.mode = 0600, .name = "nth_pub" };
	return xioctl(c->fd, HMAP_IOC_PUBLISH, &c->arg);
}

static int run_unpublish(struct ctx *c)
{
	c->arg.unpub = (struct hmap_unpublish){ .size = sizeof(c->arg.unpub),
		.name = "nth_test" };
	return xioctl(c->dev, HMAP_IOC_UNPUBLISH, &c->arg);
}

static int run_open_name(struct ctx *c)
{
	c->arg.obn = (struct hmap_open_by_name){ .size = sizeof(c->arg.obn),
		.name = "nth_test" };
	return fd_or_errno(ioctl(c->dev, HMAP_IOC_OPEN_BY_NAME, &c->arg));
}

static int run_open_id(struct ctx *c)
{
	c->arg.obi = (struct hmap_open_by_id){ .size = sizeof(c->arg.obi),
		.id = c->id };
	return fd_or_errno(ioctl(c->dev, HMAP_IOC_OPEN_BY_ID, &c->arg));
}

static int run_next_id(struct ctx *c)
{
	c->arg.gni = (struct hmap_get_next_id){ .size = sizeof(c->arg.gni) };
	return xioctl(c->dev, HMAP_IOC_GET_NEXT_ID, &c->arg);
}

/* ---- HMAP_F_MMAP maps, and mappings of them ---- */

/* As the maps above, with an image. */
static int prep_mmap_small(struct ctx *c) { return new_map_flags(c, 8, 64, 5, HMAP_F_MMAP); }
static int prep_mmap_empty(struct ctx *c) { return new_map_flags(c, 8, 64, 0, HMAP_F_MMAP); }
static int prep_mmap_small_ver(struct ctx *c) { return with_version(c, prep_mmap_small(c)); }
/* 1024-byte values: the bounce of UPDATE (8 + 1024 bytes) from a slab. */
static int prep_mmap_heap(struct ctx *c) { return new_map_flags(c, 1024, 8, 3, HMAP_F_MMAP); }
static int prep_mmap_heap_ver(struct ctx *c) { return with_version(c, prep_mmap_heap(c)); }
/* 128-byte values: CMPXCHG's bounce (8 + 128 + 128 bytes) on the heap. */
static int prep_mmap_mid(struct ctx *c) { return new_map_flags(c, 128, 8, 3, HMAP_F_MMAP); }

static int create_mmap(struct ctx *c, __u32 vsize)
{
	c->arg.create = (struct hmap_create){ .size = sizeof(c->arg.create),
		.flags = HMAP_F_MMAP, .key_size = 8, .value_size = vsize,
		.max_entries = 64, .name = "new" };
	return fd_or_errno(ioctl(c->dev, HMAP_IOC_CREATE, &c->arg));
}

static int run_create_mmap(struct ctx *c) { return create_mmap(c, 8); }
/* About 2 MiB of image: the array of its pages is a vmalloc of its own. */
static int run_create_mmap_big(struct ctx *c) { return create_mmap(c, 16384); }

/*
 * Where the image is mapped for a touch: alone in its 512 GiB of address
 * space, so that each touch allocates its page tables anew.
 */
#define TOUCH_AT	((void *)0x200000000000UL)

static sigjmp_buf touch_env;
static volatile sig_atomic_t touching, touch_sig;
static volatile unsigned int touch_sum;	/* what the reads of a touch saw */

/* SIGBUS or SIGSEGV: back to guarded() if it is reading the image. */
static void touch_fault(int sig)
{
	if (!touching) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	touch_sig = sig;
	siglongjmp(touch_env, 1);
}

/*
 * Runs @fn, which reads the image, catching the signal a read may take:
 * what @fn returns, or -EFAULT after SIGBUS (c->sigbus set), -EIO after
 * SIGSEGV (never right: the mapping is readable).
 */
static int guarded(struct ctx *c, int (*fn)(struct ctx *c))
{
	int ret;

	if (sigsetjmp(touch_env, 1)) {
		touching = 0;
		c->sigbus = touch_sig == SIGBUS;
		return c->sigbus ? -EFAULT : -EIO;
	}
	touching = 1;
	ret = fn(c);
	touching = 0;
	return ret;
}

/* Reads a byte of every page of c->maddr, then checks the header. */
static int touch_pages(struct ctx *c)
{
	const volatile __u8 *p = c->maddr;
	const struct hmap_mmap_header *h = c->maddr;
	unsigned int sum = 0;
	size_t off;

	for (off = 0; off < c->mlen; off += 4096)
		sum += p[off];
	touch_sum = sum;
	if (h->magic != HMAP_MMAP_MAGIC || h->mmap_bytes != c->mmap_bytes ||
	    h->key_size != 8)
		return -EBADMSG;
	return 0;
}

/* mmap() of the whole image, PROT_READ and @flags, then a touch of each page. */
static int mmap_touch(struct ctx *c, int flags)
{
	void *p = mmap(TOUCH_AT, c->mmap_bytes, PROT_READ, flags | MAP_FIXED_NOREPLACE,
		       c->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	c->maddr = p;
	c->mlen = c->mmap_bytes;
	return guarded(c, touch_pages);
}

static int run_mmap_shared(struct ctx *c) { return mmap_touch(c, MAP_SHARED); }
static int run_mmap_private(struct ctx *c) { return mmap_touch(c, MAP_PRIVATE); }
static int run_mmap_populate(struct ctx *c) { return mmap_touch(c, MAP_SHARED | MAP_POPULATE); }

/* Keys 0-7 through the mapping: 0-4 hold bytes k (new_map()), 5-7 are absent. */
static int mapped_lookups(struct ctx *c)
{
	__u64 k, v, ver;
	int ret;

	for (k = 0; k < 8; k++) {
		v = ver = 0;
		ret = hmap_mapped_lookup(c->mapping, &k, &v, &ver);
		if (k < 5 ? ret || v != 0x0101010101010101ULL * k || !ver : ret != -ENOENT)
			return -EBADMSG;
	}
	return 0;
}

/* hmap_mmap(), and lookups through the mapping. */
static int run_hmap_mmap(struct ctx *c)
{
	int ret = hmap_mmap(c->fd, &c->mapping);

	return ret ?: guarded(c, mapped_lookups);
}

/*
 * Undoes the mappings a run made, once injection is over (munmap() may
 * allocate); 0, or munmap()'s errno.
 */
static int unmap_all(struct ctx *c)
{
	int ret = 0;

	if (c->maddr && munmap(c->maddr, c->mlen))
		ret = errno;
	c->maddr = NULL;
	hmap_munmap(c->mapping);
	c->mapping = NULL;
	return ret;
}

static int run_lookup_batch(struct ctx *c)
{
	c->arg.batch = (struct hmap_batch){ .size = sizeof(c->arg.batch),
		.out_cursor = (uintptr_t)&c->next, .keys = (uintptr_t)c->bkeys,
		.values = (uintptr_t)c->bvals, .count = 8 };
	return ioctl(c->fd, HMAP_IOC_LOOKUP_BATCH, &c->arg) < 0 && errno != ENOENT ?
	       -errno : 0;
}

static int run_lad_batch(struct ctx *c)
{
	c->arg.batch = (struct hmap_batch){ .size = sizeof(c->arg.batch),
		.out_cursor = (uintptr_t)&c->next, .keys = (uintptr_t)c->bkeys,
		.values = (uintptr_t)c->bvals, .count = 2 };
	return xioctl(c->fd, HMAP_IOC_LOOKUP_AND_DELETE_BATCH, &c->arg);
}

static int run_update_batch(struct ctx *c)
{
	int i;

	for (i = 0; i < 8; i++)
		c->bkeys[i] = c->bvals[i] = 100 + i;
	c->arg.batch = (struct hmap_batch){ .size = sizeof(c->arg.batch),
		.keys = (uintptr_t)c->bkeys, .values = (uintptr_t)c->bvals,
		.count = 8 };
	return xioctl(c->fd, HMAP_IOC_UPDATE_BATCH, &c->arg);
}

static int run_delete_batch(struct ctx *c)
{
	c->bkeys[0] = 1;
	c->bkeys[1] = 2;
	c->arg.batch = (struct hmap_batch){ .size = sizeof(c->arg.batch),
		.keys = (uintptr_t)c->bkeys, .count = 2 };
	return xioctl(c->fd, HMAP_IOC_DELETE_BATCH, &c->arg);
}

static const struct op ops[] = {
	{ "CREATE", prep_none, run_create, 0 },
	{ "LOOKUP", prep_small, run_lookup, 0 },
	{ "LOOKUP (heap bounce)", prep_big_values, run_lookup, 0 },
	{ "UPDATE (first insert)", prep_empty, run_insert, 0 },
	{ "UPDATE (insert, grows)", prep_at_grow, run_insert, 0 },
	{ "UPDATE (replace)", prep_small, run_replace, 0 },
	{ "UPDATE (heap bounce)", prep_big_values, run_replace, 0 },
	{ "DELETE", prep_small, run_delete, 0 },
	{ "DELETE (shrinks)", prep_at_shrink, run_delete, 0 },
	{ "LOOKUP_AND_DELETE", prep_small, run_lad, 0 },
	{ "GET_NEXT_KEY", prep_small, run_next_key, 0 },
	{ "CLEAR", prep_small, run_clear, 0 },
	{ "INFO", prep_small, run_info, 0 },
	{ "PUBLISH", prep_small, run_publish, 0 },
	{ "UNPUBLISH", prep_published, run_unpublish, 0 },
	{ "OPEN_BY_NAME", prep_published, run_open_name, 0 },
	{ "OPEN_BY_ID", prep_published, run_open_id, 0 },
	{ "GET_NEXT_ID", prep_small, run_next_id, 0 },
	{ "LOOKUP_BATCH", prep_small, run_lookup_batch, 0 },
	{ "LOOKUP_AND_DELETE_BATCH", prep_small, run_lad_batch, -1 },
	{ "UPDATE_BATCH (grows)", prep_small, run_update_batch, +1 },
	{ "DELETE_BATCH", prep_small, run_delete_batch, 0 },
	/*
	 * The commands that came with versions, where they allocate (on a
	 * stack bounce buffer, a present ADD and a CMPXCHG allocate nothing).
	 */
	{ "UPDATE IF_VERSION (heap)", prep_big_values_ver, run_replace_ver, 0 },
	{ "DELETE IF_VERSION (shrinks)", prep_at_shrink_ver, run_delete_ver, 0 },
	{ "ADD CREATE (first insert)", prep_empty, run_add_create, 0 },
	{ "CMPXCHG (heap, 8+300+300)", prep_mid_values, run_cmpxchg, 0 },
	{ "CMPXCHG (heap, big values)", prep_big_values, run_cmpxchg, 0 },
	{ "LOOKUP_MULTI", prep_small, run_lookup_multi, 0 },
	/*
	 * HMAP_F_MMAP: creation (the image's kzalloc() and __vmalloc()), the
	 * commands that write the image (snapshot() checks it against LOOKUP
	 * after every run), and the mapping of it.
	 */
	{ "CREATE MMAP", prep_none, run_create_mmap, 0 },
	{ "CREATE MMAP (2 MiB image)", prep_none, run_create_mmap_big, 0 },
	{ "MMAP UPDATE (first insert)", prep_mmap_empty, run_insert, 0 },
	{ "MMAP UPDATE (insert)", prep_mmap_small, run_insert, 0 },
	{ "MMAP UPDATE (insert, heap)", prep_mmap_heap, run_insert, 0 },
	{ "MMAP UPDATE (replace, heap)", prep_mmap_heap, run_replace, 0 },
	{ "MMAP UPDATE IF_VERSION (heap)", prep_mmap_heap_ver, run_replace_ver, 0 },
	{ "MMAP DELETE", prep_mmap_small, run_delete, 0 },
	{ "MMAP DELETE IF_VERSION", prep_mmap_small_ver, run_delete_ver, 0 },
	{ "MMAP LOOKUP_AND_DELETE (heap)", prep_mmap_heap, run_lad, 0 },
	{ "MMAP ADD CREATE", prep_mmap_empty, run_add_create, 0 },
	{ "MMAP CMPXCHG (heap)", prep_mmap_mid, run_cmpxchg, 0 },
	{ "MMAP UPDATE_BATCH", prep_mmap_small, run_update_batch, +1 },
	{ "MMAP LOOKUP_AND_DELETE_BATCH", prep_mmap_small, run_lad_batch, -1 },
	{ "MMAP DELETE_BATCH", prep_mmap_small, run_delete_batch, 0 },
	{ "MMAP CLEAR", prep_mmap_small, run_clear, 0 },
	{ "mmap + touch (shared)", prep_mmap_small, run_mmap_shared, 0 },
	{ "mmap + touch (private)", prep_mmap_small, run_mmap_private, 0 },
	{ "mmap MAP_POPULATE + touch", prep_mmap_small, run_mmap_populate, 0 },
	{ "hmap_mmap + lookups", prep_mmap_small, run_hmap_mmap, 0 },
};

static void cleanup(struct ctx *c)
{
	hmap_unpublish("nth_test");
	hmap_unpublish("nth_pub");
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->mapped = false;
	c->sigbus = false;
}

static bool same(const struct state *a, const struct state *b)
{
	return a->digest == b->digest && a->vdigest == b->vdigest && a->count == b->count &&
	       a->bytes == b->bytes && a->live == b->live &&
	       a->free_fd == b->free_fd && a->refs == b->refs &&
	       a->mappings == b->mappings;
}

TEST(every_command_at_every_failure_point)
{
	struct sigaction sa = { .sa_handler = touch_fault };
	static struct ctx c;
	struct state pre, post, clean;
	int nfd, nth, ret, total = 0;
	unsigned int i;

	nfd = nth_fd();
	if (nfd < 0)
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	/* Fail sleeping allocations too, and quietly: no stack dumps. */
	ASSERT_EQ(0, write_str(FAILSLAB "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_str(FAILSLAB "verbose", "0"));
	/* A touch of an image that faults: see guarded(). */
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	c.dev = open_dev();
	ASSERT_LE(0, c.dev);
	c.fd = -1;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct state tol[64];
		int points = 0, ntol = 0, nbus = 0, t;

		for (nth = 1; nth < 1000; nth++) {
			bool injected, mapped, sigbus;
			long long live0;

			settle_frees();
			live0 = stat_num("maps_live");
			ASSERT_EQ(0, ops[i].prepare(&c)) TH_LOG("%s", ops[i].name);
			snapshot(&c, &pre);
			EXPECT_EQ(0, pre.image_bad) TH_LOG("%s, before failure %d: the image: %s",
							   ops[i].name, nth, image_why);
			ASSERT_EQ(0, arm(nfd, nth));
			ret = ops[i].run(&c);
			injected = disarm(nfd);
			EXPECT_EQ(0, unmap_all(&c)) TH_LOG("%s, failure %d: munmap", ops[i].name, nth);
			if (ret > 0)
				close(ret);	/* a new fd from CREATE or an OPEN */
			snapshot(&c, &post);
			mapped = c.mapped;
			sigbus = c.sigbus;
			cleanup(&c);
			/* Whatever happened, the image is the table's. */
			EXPECT_EQ(0, post.image_bad) TH_LOG("%s, failure %d%s: the image: %s",
							    ops[i].name, nth,
							    injected ? "" : " (none injected)",
							    image_why);
			if (mapped) {
				/* No mapping, nor anything else, holds the map any more. */
				settle_frees();
				EXPECT_EQ(live0, stat_num("maps_live"))
					TH_LOG("%s, failure %d: the map outlived its fd", ops[i].name, nth);
			}
			if (!injected) {
				EXPECT_LE(0, ret) TH_LOG("%s ran clean but failed", ops[i].name);
				clean = post;
				break;
			}
			points++;
			if (ops[i].per_done) {
				/*
				 * A batch keeps what it did before the failure and
				 * says how far it got: the entries it reports, less
				 * the failed one for UPDATE_BATCH.
				 */
				int done = c.arg.batch.count;

				/* A failed entry counts as tried, not as done. */
				if (ret < 0 && ops[i].per_done > 0 && done > 0)
					done--;
				if (ret < 0)
					EXPECT_EQ(-ENOMEM, ret) TH_LOG("%s, failure %d", ops[i].name, nth);
				EXPECT_EQ((long long)pre.count + ops[i].per_done * done,
					  (long long)post.count) TH_LOG("%s, failure %d", ops[i].name, nth);
				EXPECT_EQ(pre.live, post.live);
				EXPECT_EQ(pre.free_fd, post.free_fd);
				ntol += ret >= 0;
				continue;
			}
			if (ret >= 0) {
				/* A failure the command absorbed: checked below. */
				if (ntol < 64)
					tol[ntol++] = post;
				continue;
			}
			if (ret == -EFAULT && sigbus)
				nbus++;	/* a touch took SIGBUS: only with a failure injected */
			else
				EXPECT_EQ(-ENOMEM, ret) TH_LOG("%s, failure %d", ops[i].name, nth);
			EXPECT_TRUE(same(&pre, &post))
				TH_LOG("%s, failure %d:%s%s count %u->%u bytes %lld->%lld live %lld->%lld fd %d->%d refs %lld->%lld mappings %d->%d",
				       ops[i].name, nth,
				       pre.digest != post.digest ? " content changed," : "",
				       pre.vdigest != post.vdigest ? " versions changed," : "",
				       pre.count, post.count,
				       pre.bytes, post.bytes, pre.live, post.live,
				       pre.free_fd, post.free_fd, pre.refs, post.refs,
				       pre.mappings, post.mappings);
		}
		ASSERT_LT(nth, 1000) TH_LOG("%s never ran clean", ops[i].name);
		/* Same entries as the clean run; only the table size may differ. */
		for (t = 0; t < ntol && !ops[i].per_done; t++) {
			EXPECT_EQ(clean.digest, tol[t].digest) TH_LOG("%s", ops[i].name);
			EXPECT_EQ(clean.count, tol[t].count) TH_LOG("%s", ops[i].name);
			EXPECT_EQ(clean.live, tol[t].live) TH_LOG("%s", ops[i].name);
		}
		if (nbus)
			TH_LOG("%-30s %2d failure points (%d absorbed, %d as SIGBUS on a touch)",
			       ops[i].name, points, ntol, nbus);
		else
			TH_LOG("%-30s %2d failure points (%d absorbed)", ops[i].name,
			       points, ntol);
		total += points;
	}
	TH_LOG("fail-nth: %d failure points exercised over %zu commands", total,
	       sizeof(ops) / sizeof(ops[0]));
	EXPECT_GT(total, 0);
	write_str(FAILSLAB "ignore-gfp-wait", "Y");
	close(c.dev);
	close(nfd);
}

/* Open fds of this process, from /proc/self/fd. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Raises or drops CAP_SYS_RESOURCE, which exempts from per-user limits. */
static int cap_resource(bool on)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	__u32 bit = 1U << (CAP_SYS_RESOURCE % 32);

	if (syscall(SYS_capget, &hdr, d))
		return -1;
	if (on)
		d[CAP_SYS_RESOURCE / 32].effective |= bit;
	else
		d[CAP_SYS_RESOURCE / 32].effective &= ~bit;
	return syscall(SYS_capset, &hdr, d);
}

struct watch_case {
	const char *name;
	__u32 flags;
	__u32 buf_bytes;
	bool charged;		/* without CAP_SYS_RESOURCE */
};

static const struct watch_case watch_cases[] = {
	{ "WATCH", 0, 0, false },
	{ "WATCH VALUES", HMAP_WATCH_VALUES, 0, false },
	{ "WATCH (4 KiB buffer)", 0, 4096, false },
	{ "WATCH VALUES|NONBLOCK (4K)", HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 4096, false },
	{ "WATCH VALUES (charged)", HMAP_WATCH_VALUES, 0, true },
};

/*
 * Whether watch @wfd that @arg made on @c's map works: its fd flags, then
 * an update of key 2 is one record, and only one. NULL if it does, else
 * what is wrong.
 */
static const char *watch_works(struct ctx *c, int wfd, const struct hmap_watch *arg)
{
	bool values = arg->flags & HMAP_WATCH_VALUES;
	__u64 key = 2, value = 0x3c3c3c3c3c3c3c3cULL, got;
	struct hmap_event ev;
	char buf[4096];
	ssize_t n;
	int fl;

	fl = fcntl(wfd, F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK) != !(arg->flags & HMAP_WATCH_NONBLOCK))
		return "O_NONBLOCK is not as HMAP_WATCH_NONBLOCK says";
	if (!(fcntl(wfd, F_GETFD) & FD_CLOEXEC))
		return "not close-on-exec";
	/* Never wait: a missing record must fail the test, not hang it. */
	if (!(fl & O_NONBLOCK) && fcntl(wfd, F_SETFL, fl | O_NONBLOCK))
		return "fcntl(O_NONBLOCK) failed";
	if (read(wfd, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		return "a record before any change";
	if (hmap_update(c->fd, &key, &value, HMAP_EXIST))
		return "the update failed";
	n = read(wfd, buf, sizeof(buf));
	if (n != (ssize_t)(sizeof(ev) + 8 + (values ? 8 : 0)))
		return "not one record of the expected size";
	memcpy(&ev, buf, sizeof(ev));
	if (ev.seq != arg->seq + 1 || ev.op != HMAP_EVENT_UPDATE || ev.len != n ||
	    ev.key_size != 8 || ev.value_size != (values ? 8 : 0) || ev.lost)
		return "the record's header is wrong";
	memcpy(&got, buf + sizeof(ev), 8);
	if (got != key)
		return "the record's key is wrong";
	memcpy(&got, buf + sizeof(ev) + 8, 8);
	if (values && got != value)
		return "the record's value is wrong";
	if (read(wfd, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		return "more than one record";
	return NULL;
}

TEST(watch_at_every_failure_point)
{
	static struct ctx c;
	struct state pre, post;
	int nfd, nth, ret, fds, total = 0;
	unsigned int i;

	nfd = nth_fd();
	if (nfd < 0)
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	ASSERT_EQ(0, write_str(FAILSLAB "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_str(FAILSLAB "verbose", "0"));
	c.dev = open_dev();
	ASSERT_LE(0, c.dev);
	c.fd = -1;

	for (i = 0; i < ARRAY_SIZE(watch_cases); i++) {
		const struct watch_case *w = &watch_cases[i];
		const char *nm = w->name;
		int points = 0, absorbed = 0;

		for (nth = 1; nth < 1000; nth++) {
			struct hmap_watch arg = { .size = sizeof(arg), .flags = w->flags,
						  .buf_bytes = w->buf_bytes };
			const char *why = NULL;
			bool injected;

			ASSERT_EQ(0, prep_small(&c)) TH_LOG("%s", nm);
			snapshot(&c, &pre);
			fds = count_fds();
			if (w->charged)
				ASSERT_EQ(0, cap_resource(false));
			ASSERT_EQ(0, arm(nfd, nth));
			ret = fd_or_errno(ioctl(c.fd, HMAP_IOC_WATCH, &arg));
			injected = disarm(nfd);
			if (w->charged)
				ASSERT_EQ(0, cap_resource(true));
			if (ret >= 0) {
				why = watch_works(&c, ret, &arg);
				close(ret);
			}
			EXPECT_EQ(NULL, why) TH_LOG("%s, failure %d: the watch: %s", nm, nth, why);
			/* No fd left behind, by a failure or by the close. */
			EXPECT_EQ(fds, count_fds()) TH_LOG("%s, failure %d", nm, nth);
			snapshot(&c, &post);
			cleanup(&c);
			if (!injected) {
				EXPECT_LE(0, ret) TH_LOG("%s ran clean but failed", nm);
				break;
			}
			points++;
			if (ret >= 0) {
				absorbed++;
			} else {
				EXPECT_TRUE(ret == -ENOMEM || ret == -EDQUOT)
					TH_LOG("%s, failure %d: %s", nm, nth, strerror(-ret));
				/* Only the update of a watch that works changes them. */
				EXPECT_TRUE(pre.digest == post.digest &&
					    pre.vdigest == post.vdigest)
					TH_LOG("%s, failure %d: content changed", nm, nth);
				/* (A replaced element may not be freed yet.) */
				EXPECT_EQ(pre.bytes, post.bytes) TH_LOG("%s, failure %d", nm, nth);
			}
			EXPECT_EQ(pre.count, post.count) TH_LOG("%s, failure %d", nm, nth);
			EXPECT_EQ(pre.live, post.live) TH_LOG("%s, failure %d", nm, nth);
			EXPECT_EQ(pre.free_fd, post.free_fd) TH_LOG("%s, failure %d", nm, nth);
			EXPECT_EQ(pre.refs, post.refs) TH_LOG("%s, failure %d", nm, nth);
		}
		ASSERT_LT(nth, 1000) TH_LOG("%s never ran clean", nm);
		TH_LOG("%-30s %2d failure points (%d absorbed)", nm, points, absorbed);
		total += points;
	}
	TH_LOG("fail-nth: %d failure points exercised over %zu WATCH variants", total,
	       ARRAY_SIZE(watch_cases));
	EXPECT_GT(total, 0);
	write_str(FAILSLAB "ignore-gfp-wait", "Y");
	close(c.dev);
	close(nfd);
}

TEST_HARNESS_MAIN
