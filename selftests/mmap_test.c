// SPDX-License-Identifier: GPL-2.0
/*
 * HMAP_F_MMAP: a map's image mapped read-only, searched by libhmap with no
 * system call.
 *
 * - The layout is what <linux/hmap.h> says, for every key and value size
 *   around every boundary: this file walks the image with its own reader
 *   and its own lookup3, not libhmap's, and holds nothing but the map's
 *   data (no kernel address, zeroed pages).
 * - Writers replacing, deleting and re-inserting the same keys at full
 *   speed (slot reuse) never show a reader a torn value, every key present
 *   for a whole lookup is found, and each lookup visits a bounded number of
 *   slots (counted, not timed).
 * - mmap() refuses every way to write or execute the image; a mapping keeps
 *   its map alive after close(), across fork(), and until munmap() in any
 *   thread; the image is charged to the creator's memory cgroup.
 * - Chains are bounded (EMLINK), since the hash seed is mapped.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "hmap_util.h"

#define PAGE		4096UL

/* ---- an independent reader of the uapi layout ---- */

static __u32 rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define MIX(a, b, c) do {						\
	a -= c; a ^= rol32(c, 4); c += b;				\
	b -= a; b ^= rol32(a, 6); a += c;				\
	c -= b; c ^= rol32(b, 8); b += a;				\
	a -= c; a ^= rol32(c, 16); c += b;				\
	b -= a; b ^= rol32(a, 19); a += c;				\
	c -= b; c ^= rol32(b, 4); b += a;				\
} while (0)

#define FINAL(a, b, c) do {						\
	c ^= b; c -= rol32(b, 14);					\
	a ^= c; a -= rol32(c, 11);					\
	b ^= a; b -= rol32(a, 25);					\
	c ^= b; c -= rol32(b, 16);					\
	a ^= c; a -= rol32(c, 4);					\
	b ^= a; b -= rol32(a, 14);					\
	c ^= b; c -= rol32(b, 24);					\
} while (0)

/* lookup3 as HMAP_MMAP_HASH_JHASH describes it, written from the uapi. */
static __u32 test_jhash(const void *key, __u32 len, __u32 seed)
{
	const __u8 *k = key;
	__u32 a, b, c, w[3];

	a = b = c = 0xdeadbeef + len + seed;
	while (len > 12) {
		memcpy(w, k, 12);
		a += w[0];
		b += w[1];
		c += w[2];
		MIX(a, b, c);
		len -= 12;
		k += 12;
	}
	switch (len) {
	case 12: c += (__u32)k[11] << 24; /* fall through */
	case 11: c += (__u32)k[10] << 16; /* fall through */
	case 10: c += (__u32)k[9] << 8; /* fall through */
	case 9: c += k[8]; /* fall through */
	case 8: b += (__u32)k[7] << 24; /* fall through */
	case 7: b += (__u32)k[6] << 16; /* fall through */
	case 6: b += (__u32)k[5] << 8; /* fall through */
	case 5: b += k[4]; /* fall through */
	case 4: a += (__u32)k[3] << 24; /* fall through */
	case 3: a += (__u32)k[2] << 16; /* fall through */
	case 2: a += (__u32)k[1] << 8; /* fall through */
	case 1:
		a += k[0];
		FINAL(a, b, c);
		break;
	case 0:
		break;
	}
	return c;
}

static const struct hmap_mmap_slot *slot_at(const void *img, __u32 i)
{
	const struct hmap_mmap_header *h = img;

	return (const void *)((const char *)img + h->slots_off +
			      (size_t)i * h->slot_size);
}

static const __u32 *heads_of(const void *img)
{
	const struct hmap_mmap_header *h = img;

	return (const void *)((const char *)img + h->buckets_off);
}

/*
 * Finds @key in a quiescent image, checking each step against the layout.
 * Returns the slot, or NULL; -1 in *@bad if the image broke a rule.
 */
static const struct hmap_mmap_slot *raw_find(const void *img, const void *key,
					     int *bad)
{
	const struct hmap_mmap_header *h = img;
	__u32 hash = test_jhash(key, h->key_size, h->seed);
	__u32 b = hash & (h->buckets - 1), idx, n = 0;
	const struct hmap_mmap_slot *s;

	for (idx = heads_of(img)[b]; !(idx & HMAP_MMAP_NULLS); idx = s->next) {
		if (idx >= h->slots || ++n > h->chain_max) {
			*bad = -1;
			return NULL;
		}
		s = slot_at(img, idx);
		if (!s->seq || (s->seq & 1) || (s->hash & (h->buckets - 1)) != b) {
			*bad = -1;
			return NULL;
		}
		if (s->hash == hash && !memcmp(s->data, key, h->key_size))
			return s;
	}
	if (idx != (HMAP_MMAP_NULLS | b))
		*bad = -1;
	return NULL;
}

static int mmap_map(__u32 ks, __u32 vs, __u32 max, __u32 flags)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = HMAP_F_MMAP | flags };

	return hmap_create("mapped", ks, vs, max, &o);
}

static void *map_image(int fd, size_t *len)
{
	struct hmap_info info;
	void *p;

	if (hmap_info(fd, &info) || !info.mmap_bytes)
		return NULL;
	*len = info.mmap_bytes;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void fill(void *buf, __u32 len, __u64 seed)
{
	__u8 *p = buf;
	__u32 i;

	for (i = 0; i < len; i++)
		p[i] = (__u8)((seed * 0x9e3779b97f4a7c15ULL >> (8 * (i % 8))) + i / 8);
}

/* ---- creation ---- */

TEST(flags_and_info)
{
	struct hmap_info info;
	int fd;

	fd = mmap_map(8, 8, 100, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	/* The image needs every element allocated up front. */
	EXPECT_EQ(HMAP_F_MMAP | HMAP_F_PREALLOC, info.map_flags);
	EXPECT_NE(0, info.mmap_bytes);
	EXPECT_EQ(0, info.mmap_bytes % PAGE);
	EXPECT_EQ((long long)info.mmap_bytes, fdinfo_num(fd, "mmap_bytes"));
	/* The image is part of the map's memory. */
	EXPECT_GE(info.bytes, info.mmap_bytes);
	close(fd);

	/* A lookup through the mapping can neither mark a use nor a deadline. */
	EXPECT_EQ(-EINVAL, mmap_map(8, 8, 100, HMAP_F_LRU));
	EXPECT_EQ(-EINVAL, mmap_map(8, 8, 100, HMAP_F_TTL));
	fd = mmap_map(8, 8, 100, HMAP_F_PREALLOC | HMAP_F_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);

	fd = hmap_create("plain", 8, 8, 100, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(0, info.mmap_bytes);
	EXPECT_EQ(0, fdinfo_num(fd, "mmap_bytes"));
	close(fd);
}

/*
 * Every size around every boundary: the header describes the image, every
 * entry is where the layout says with the version LOOKUP gives, nothing in
 * the image looks like a kernel address, and the pages came zeroed.
 */
TEST(layout_over_sizes)
{
	static const __u32 ks[] = { 1, 3, 4, 7, 8, 12, 13, 16, 63, 64, 255,
				    256, 257, 511, 512 };
	static const __u32 vs[] = { 1, 4, 8, 9, 255, 256, 257, 4096, 65536 };
	static __u8 key[512], val[65536], out[65536];
	unsigned int i, j, n, checked = 0;

	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		for (j = 0; j < sizeof(vs) / sizeof(vs[0]); j++) {
			__u32 max = vs[j] > 4096 ? 8 : 40;
			const struct hmap_mmap_header *h;
			const struct hmap_mmap_slot *s;
			struct hmap_info info;
			size_t len, off;
			__u64 ver;
			int fd, bad = 0;
			void *img;

			fd = mmap_map(ks[i], vs[j], max, 0);
			ASSERT_LE(0, fd);
			img = map_image(fd, &len);
			ASSERT_NE(NULL, img);
			ASSERT_EQ(0, hmap_info(fd, &info));
			h = img;
			ASSERT_EQ(HMAP_MMAP_MAGIC, h->magic);
			ASSERT_EQ(HMAP_MMAP_LAYOUT, h->layout);
			ASSERT_LE(sizeof(*h), h->header_size);
			ASSERT_EQ(HMAP_MMAP_HASH_JHASH, h->hash);
			ASSERT_EQ(ks[i], h->key_size);
			ASSERT_EQ(vs[j], h->value_size);
			ASSERT_LE(ks[i], h->value_off);
			ASSERT_EQ(0, h->value_off % 8);
			ASSERT_EQ(0, h->slot_size % 8);
			ASSERT_LE(sizeof(*s) + h->value_off + vs[j], h->slot_size);
			ASSERT_EQ(info.buckets, h->buckets);
			ASSERT_EQ(0, h->buckets & (h->buckets - 1));
			ASSERT_LE(max, h->slots);
			ASSERT_LE(1, h->chain_max);
			ASSERT_EQ(len, h->mmap_bytes);
			ASSERT_LE(h->buckets_off + 4ULL * h->buckets, h->slots_off);
			ASSERT_LE(h->slots_off + (__u64)h->slots * h->slot_size, len);
			/* Empty: every chain ends at once, every slot unused. */
			for (n = 0; n < h->buckets; n++)
				ASSERT_EQ(HMAP_MMAP_NULLS | n, heads_of(img)[n]);
			for (off = h->slots_off; off < len; off++)
				ASSERT_EQ(0, ((__u8 *)img)[off]);

			for (n = 0; n < max; n++) {
				fill(key, ks[i], n);
				fill(val, vs[j], n + 1000);
				/* Keys of one byte: only 256 of them, all distinct here. */
				ASSERT_EQ(0, hmap_update(fd, key, val, HMAP_NOEXIST));
			}
			for (n = 0; n < max; n++) {
				fill(key, ks[i], n);
				fill(val, vs[j], n + 1000);
				s = raw_find(img, key, &bad);
				ASSERT_EQ(0, bad);
				ASSERT_NE(NULL, s);
				ASSERT_EQ(0, memcmp(s->data + h->value_off, val, vs[j]));
				ASSERT_EQ(s->hash, test_jhash(key, ks[i], h->seed));
				ASSERT_EQ(0, hmap_lookup_version(fd, key, out, &ver));
				ASSERT_EQ(ver, s->seq >> 1);
				checked++;
			}
			/*
			 * Data only: every slot holds a small version and
			 * zero padding, and nothing follows the last slot.
			 */
			for (n = 0; n < h->slots; n++) {
				s = slot_at(img, n);
				ASSERT_GT(1ULL << 40, s->seq);
				for (off = ks[i]; off < h->value_off; off++)
					ASSERT_EQ(0, s->data[off]);
				for (off = h->value_off + vs[j];
				     off < h->slot_size - sizeof(*s); off++)
					ASSERT_EQ(0, s->data[off]);
			}
			for (off = h->slots_off + (size_t)h->slots * h->slot_size;
			     off < len; off++)
				ASSERT_EQ(0, ((__u8 *)img)[off]);
			/* A delete takes the key out; the others stay found. */
			fill(key, ks[i], 0);
			ASSERT_EQ(0, hmap_delete(fd, key));
			ASSERT_EQ(NULL, raw_find(img, key, &bad));
			fill(key, ks[i], 1);
			ASSERT_NE(NULL, raw_find(img, key, &bad));
			/* Its bytes are gone from the image too. */
			fill(val, vs[j], 1000);
			for (n = 0; vs[j] >= 8 && n < h->slots; n++)
				ASSERT_NE(0, memcmp(slot_at(img, n)->data + h->value_off,
						    val, vs[j]));
			ASSERT_EQ(0, hmap_clear(fd));
			ASSERT_EQ(NULL, raw_find(img, key, &bad));
			ASSERT_EQ(0, bad);
			/*
			 * After a clear no slot holds a key or value: a
			 * process that maps the map now reads none of them.
			 */
			for (n = 0; n < h->slots; n++)
				for (off = 0; off < h->slot_size - sizeof(*s); off++)
					ASSERT_EQ(0, slot_at(img, n)->data[off]);
			munmap(img, len);
			close(fd);
		}
	}
	TH_LOG("%u entries checked in %zu shapes", checked,
	       sizeof(ks) / sizeof(ks[0]) * sizeof(vs) / sizeof(vs[0]));
}

/* ---- what mmap() refuses ---- */

TEST(refusals)
{
	size_t len;
	void *p, *img;
	int fd, ro, plain, mem;
	__u64 k = 1, v = 2, w = 3;

	fd = mmap_map(8, 8, 100, 0);
	ASSERT_LE(0, fd);
	img = map_image(fd, &len);
	ASSERT_NE(NULL, img);
	ASSERT_EQ(0, hmap_update(fd, &k, &v, 0));

	/* Writable, shared or private, and executable: EPERM. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len, PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	/* Not later either. */
	EXPECT_EQ(-1, mprotect(img, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(img, PAGE, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	/* Nor grown past the image. */
	EXPECT_EQ(MAP_FAILED, mremap(img, len, len + PAGE, MREMAP_MAYMOVE));
	/* Nor written through /proc/self/mem, which may force a write. */
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	EXPECT_EQ(-1, pwrite(mem, &w, sizeof(w), (off_t)(unsigned long)img));
	close(mem);
	EXPECT_EQ(HMAP_MMAP_MAGIC, ((struct hmap_mmap_header *)img)->magic);

	/* Beyond the image: EINVAL. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len + PAGE, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, len));
	EXPECT_EQ(EINVAL, errno);
	/* A part of it, at an offset, is fine. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, len - PAGE);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, PAGE);

	/* A map without the flag has no image. */
	plain = hmap_create("plain", 8, 8, 100, NULL);
	ASSERT_LE(0, plain);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, plain, 0));
	EXPECT_EQ(ENODEV, errno);
	close(plain);

	/* A read-only fd maps it, shared or private, and sees every write. */
	ASSERT_EQ(0, hmap_publish(fd, "mmap_ro", 0644));
	ro = hmap_open_by_name("mmap_ro", HMAP_F_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, hmap_unpublish("mmap_ro"));
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, hmap_update(fd, &k, &w, 0));
	{
		int bad = 0;
		const struct hmap_mmap_slot *s = raw_find(p, &k, &bad);

		ASSERT_NE(NULL, s);
		EXPECT_EQ(0, memcmp(s->data + 8, &w, 8));
	}
	EXPECT_EQ(-1, mprotect(p, PAGE, PROT_READ | PROT_WRITE));
	/*
	 * A page given back comes back on the next touch (a kernel without
	 * CONFIG_ADVISE_SYSCALLS, as the debug lane's, has no madvise()).
	 */
	if (madvise(p, len, MADV_DONTNEED)) {
		ASSERT_EQ(ENOSYS, errno);
		TH_LOG("no madvise() in this kernel");
	}
	EXPECT_EQ(HMAP_MMAP_MAGIC, ((struct hmap_mmap_header *)p)->magic);
	munmap(p, len);
	close(ro);
	munmap(img, len);
	close(fd);
}

/* ---- lifetime ---- */

static void *unmap_thread(void *arg)
{
	void **m = arg;

	return (void *)(long)munmap(m[0], (size_t)(unsigned long)m[1]);
}

TEST(mapping_keeps_map_alive)
{
	long long freed0, live0;
	struct hmap_mapping *m;
	__u64 k = 7, v = 42, out = 0;
	pthread_t t;
	void *arg[2], *img;
	size_t len;
	int fd, status, bad = 0;
	pid_t pid;

	settle_frees();
	freed0 = stat_num("maps_freed");
	live0 = stat_num("maps_live");
	fd = mmap_map(8, 8, 100, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_update(fd, &k, &v, 0));
	img = map_image(fd, &len);
	ASSERT_NE(NULL, img);
	ASSERT_EQ(0, hmap_mmap(fd, &m));

	/* Closing every fd leaves the map to its mappings. */
	close(fd);
	settle_frees();
	EXPECT_EQ(live0 + 1, stat_num("maps_live"));
	EXPECT_EQ(0, hmap_mapped_lookup(m, &k, &out, NULL));
	EXPECT_EQ(42, out);
	EXPECT_NE(NULL, raw_find(img, &k, &bad));

	/* A child reads through the mapping it inherited, after we close ours. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const struct hmap_mmap_slot *s;

		usleep(100000);
		s = raw_find(img, &k, &bad);
		_exit(!s || memcmp(s->data + 8, &v, 8) ? 1 : 0);
	}
	hmap_munmap(m);
	/* munmap in another thread, the last mapping in this process. */
	arg[0] = img;
	arg[1] = (void *)(unsigned long)len;
	ASSERT_EQ(0, pthread_create(&t, NULL, unmap_thread, arg));
	pthread_join(t, NULL);
	/* The child's copy of the mapping still holds the map. */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Now nothing does: it is freed, once. */
	EXPECT_EQ(freed0 + 1, settle_frees());
	EXPECT_EQ(live0, stat_num("maps_live"));
}

/* ---- readers against writers ---- */

#define STABLE		8
#define CHURN		8
/* chain_max of layout 1, checked against a map's header in chain_limit. */
#define HMAP_IMAGE_CHAIN_MAX_TEST	16
#define WORDS_MAX	512

struct race {
	int fd;
	__u32 vsize;
	atomic_int stop;
	atomic_long writes;
	long torn, missing, found, absent;
	struct hmap_mapped_stats st;
	const struct hmap_mmap_header *hdr;
};

/* A value every word of which says which key and which write it is. */
static void stamp(__u64 *v, __u32 words, __u64 key, __u64 gen)
{
	__u32 i;

	for (i = 0; i < words; i++)
		v[i] = key << 40 | gen << 8 | i;
}

static bool whole(const __u64 *v, __u32 words, __u64 key)
{
	__u64 gen = (v[0] >> 8) & 0xffffffffULL;
	__u32 i;

	for (i = 0; i < words; i++)
		if (v[i] != (key << 40 | gen << 8 | i))
			return false;
	return true;
}

/* Replaces, deletes and re-inserts the churn keys; replaces the stable ones. */
static void *race_writer(void *arg)
{
	struct race *r = arg;
	__u32 words = r->vsize / 8;
	__u64 v[WORDS_MAX], gen = 1, k;
	unsigned int x = 1;

	while (!atomic_load(&r->stop)) {
		x = x * 1103515245 + 12345;
		k = (x >> 8) % (STABLE + CHURN);
		stamp(v, words, k, gen++ & 0xffffffff);
		if (k < STABLE || (x >> 20) % 3 == 0)
			hmap_update(r->fd, &k, v, 0);
		else if ((x >> 20) % 3 == 1)
			hmap_delete(r->fd, &k);
		else
			hmap_update(r->fd, &k, v, HMAP_NOEXIST);
		atomic_fetch_add(&r->writes, 1);
	}
	return NULL;
}

static void race_read(struct race *r, long lookups)
{
	__u32 words = r->vsize / 8;
	struct hmap_mapping *m;
	__u64 v[WORDS_MAX], k, ver;
	long i;
	int ret;

	if (hmap_mmap(r->fd, &m))
		return;
	/* At least @lookups, and on until the writer did 20,000 writes. */
	for (i = 0; i < 50 * lookups &&
	     (i < lookups || atomic_load(&r->writes) < 20000); i++) {
		k = i % (STABLE + CHURN);
		ret = hmap_mapped_lookup(m, &k, v, &ver);
		if (ret == 0) {
			r->found++;
			if (!whole(v, words, k) || !ver)
				r->torn++;
		} else if (k < STABLE || ret != -ENOENT) {
			/* A stable key is present for every whole lookup. */
			r->missing++;
		} else {
			r->absent++;
		}
	}
	hmap_mapped_stats(m, &r->st);
	hmap_munmap(m);
}

static void race(struct __test_metadata *_metadata, __u32 vsize)
{
	__u64 v[WORDS_MAX], k;
	struct race r = { .vsize = vsize };
	long lookups = 200000;
	__u64 bound;
	pthread_t w;

	/* Few buckets for the keys: chains of several, slots reused at once. */
	r.fd = mmap_map(8, vsize, 16, 0);
	ASSERT_LE(0, r.fd);
	for (k = 0; k < STABLE + CHURN; k++) {
		stamp(v, vsize / 8, k, 0);
		ASSERT_EQ(0, hmap_update(r.fd, &k, v, 0));
	}
	ASSERT_EQ(0, pthread_create(&w, NULL, race_writer, &r));
	race_read(&r, lookups);
	atomic_store(&r.stop, 1);
	pthread_join(w, NULL);

	TH_LOG("%u-byte values: %ld lookups against %ld writes: %ld found, %ld absent; "
	       "%llu walks, %llu retries, %llu ioctl fallbacks, most slots in one lookup %llu",
	       vsize, (long)r.st.lookups, atomic_load(&r.writes), r.found, r.absent,
	       (unsigned long long)r.st.attempts, (unsigned long long)r.st.retries,
	       (unsigned long long)r.st.fallbacks, (unsigned long long)r.st.max_steps);
	EXPECT_EQ(r.found + r.absent + r.missing, (long)r.st.lookups);
	EXPECT_EQ(0, r.torn);
	EXPECT_EQ(0, r.missing);
	/* The writer really ran beside the reads, and the reads mostly mapped. */
	EXPECT_LT(1000, atomic_load(&r.writes));
	EXPECT_LT(r.st.fallbacks, r.st.lookups / 2);
	/* Bounded work per lookup, whatever the writer did. */
	bound = (__u64)HMAP_MAPPED_TRIES * (HMAP_IMAGE_CHAIN_MAX_TEST + 1);
	EXPECT_GE(bound, r.st.max_steps);
	close(r.fd);
}

TEST(no_tearing_8)
{
	race(_metadata, 8);
}

TEST(no_tearing_256)
{
	race(_metadata, 256);
}

/* A value long enough that a copy without the count's check would tear. */
TEST(no_tearing_4096)
{
	race(_metadata, 4096);
}

/*
 * One thread reading through LOOKUP and through the mapping in turn never
 * sees an older state after a newer one. The writer only raises key 1's
 * value, and deletes it only at values v with v % 7 == 6, re-creating it
 * higher; it also churns keys of the same bucket, so that slots are reused.
 */
struct mono {
	int fd;
	atomic_int stop;
	atomic_long writes;
};

static void *mono_writer(void *arg)
{
	struct mono *m = arg;
	__u64 k = 1, val = 1, other;

	while (!atomic_load(&m->stop)) {
		val++;
		if (val % 7 == 0) {
			hmap_delete(m->fd, &k);
			val++;
		}
		hmap_update(m->fd, &k, &val, 0);
		other = 2 + val % 3;
		hmap_update(m->fd, &other, &val, 0);
		hmap_delete(m->fd, &other);
		atomic_fetch_add(&m->writes, 1);
	}
	return NULL;
}

static bool mono_ok(int ret, __u64 v, __u64 *last, __u64 *floor)
{
	if (ret == -ENOENT) {
		*floor = *last + (6 + 7 - *last % 7) % 7;
		return true;
	}
	if (ret || v < *last || (*floor && v <= *floor))
		return false;
	*last = v;
	return true;
}

TEST(lookup_and_mapping_in_order)
{
	struct mono m = { 0 };
	__u64 k = 1, v = 1, last = 0, floor = 0, backwards = 0, i;
	struct hmap_mapping *mp;
	pthread_t t;
	int ret;

	m.fd = mmap_map(8, 8, 4, 0);
	ASSERT_LE(0, m.fd);
	ASSERT_EQ(0, hmap_update(m.fd, &k, &v, 0));
	ASSERT_EQ(0, hmap_mmap(m.fd, &mp));
	ASSERT_EQ(0, pthread_create(&t, NULL, mono_writer, &m));
	for (i = 0; i < 400000 || atomic_load(&m.writes) < 20000; i++) {
		if (i >= 20000000)
			break;
		if (i % 2)
			ret = hmap_mapped_lookup(mp, &k, &v, NULL);
		else
			ret = hmap_lookup(m.fd, &k, &v);
		if (!mono_ok(ret, v, &last, &floor))
			backwards++;
	}
	atomic_store(&m.stop, 1);
	pthread_join(t, NULL);
	TH_LOG("%llu lookups in turn against %ld writes, up to value %llu",
	       (unsigned long long)i, atomic_load(&m.writes),
	       (unsigned long long)last);
	EXPECT_EQ(0, backwards);
	hmap_munmap(mp);
	close(m.fd);
}

/* ---- bounded chains ---- */

TEST(chain_limit)
{
	const struct hmap_mmap_header *h;
	__u32 keys[64], n = 0, b0, k, i;
	struct hmap_info info;
	__s32 status[2];
	__u32 cnt;
	__u64 v = 1;
	size_t len;
	void *img;
	int fd;

	fd = mmap_map(4, 8, 1024, 0);
	ASSERT_LE(0, fd);
	img = map_image(fd, &len);
	ASSERT_NE(NULL, img);
	h = img;
	ASSERT_EQ(HMAP_IMAGE_CHAIN_MAX_TEST, h->chain_max);
	/* Whoever can read the seed can aim at one chain. */
	b0 = test_jhash(&n, 4, h->seed) & (h->buckets - 1);
	for (k = 0; n < h->chain_max + 2; k++)
		if ((test_jhash(&k, 4, h->seed) & (h->buckets - 1)) == b0)
			keys[n++] = k;
	for (i = 0; i < h->chain_max; i++)
		ASSERT_EQ(0, hmap_update(fd, &keys[i], &v, 0));
	/* The chain is full: a new key of it is refused, the map unchanged. */
	EXPECT_EQ(-EMLINK, hmap_update(fd, &keys[i], &v, 0));
	EXPECT_EQ(-EMLINK, hmap_add(fd, &keys[i], 1, HMAP_ADD_CREATE, NULL, NULL));
	cnt = 1;
	EXPECT_EQ(-EMLINK, hmap_update_batch(fd, &keys[i], &v, status, &cnt, 0, 0));
	EXPECT_EQ(-EMLINK, status[0]);
	EXPECT_EQ(-ENOENT, hmap_lookup(fd, &keys[i], &v));
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(h->chain_max, info.count);
	/* Keys already in it still change in place; other chains take keys. */
	v = 5;
	EXPECT_EQ(0, hmap_update(fd, &keys[0], &v, HMAP_EXIST));
	k = keys[0] + 1;
	while ((test_jhash(&k, 4, h->seed) & (h->buckets - 1)) == b0)
		k++;
	EXPECT_EQ(0, hmap_update(fd, &k, &v, 0));
	/* Room again after a delete. */
	ASSERT_EQ(0, hmap_delete(fd, &keys[1]));
	EXPECT_EQ(0, hmap_update(fd, &keys[i], &v, 0));
	EXPECT_EQ(-EMLINK, hmap_update(fd, &keys[i + 1], &v, 0));
	munmap(img, len);
	close(fd);
}

/* ---- memory cgroup ---- */

#define CG	"/sys/fs/cgroup"
#define CG_M	CG "/hmap_mmap"

static long long cg_current(void)
{
	return read_num(CG_M "/memory.current", NULL);
}

static int create_in_cg(void *arg)
{
	char pid[32];
	int fd;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_str(CG_M "/cgroup.procs", pid))
		return 10;
	fd = mmap_map(64, 256, 20000, 0);
	if (fd < 0)
		return -fd;
	return -hmap_publish(fd, "mmap_memcg", 0600);
}

TEST(memcg_charged)
{
	struct hmap_info info;
	long long before, after;
	struct stat st;
	int fd;

	if (geteuid())
		SKIP(return, "needs root for cgroups");
	if (stat(CG "/cgroup.controllers", &st))
		ASSERT_EQ(0, mount("none", CG, "cgroup2", 0, NULL));
	ASSERT_EQ(0, write_str(CG "/cgroup.subtree_control", "+memory"));
	mkdir(CG_M, 0755);
	before = cg_current();
	ASSERT_LE(0, before);
	ASSERT_EQ(0, run_as(0, 0, create_in_cg, NULL));
	after = cg_current();
	fd = hmap_open_by_name("mmap_memcg", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	TH_LOG("image %llu bytes, cgroup %+lld bytes", (unsigned long long)info.mmap_bytes,
	       after - before);
	/* The pool, the table and the image: the image alone is over 5 MB. */
	EXPECT_GE(after - before, (long long)info.mmap_bytes);
	hmap_unpublish("mmap_memcg");
	close(fd);
	settle_frees();
	rmdir(CG_M);
}

TEST_HARNESS_MAIN
