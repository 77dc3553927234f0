// SPDX-License-Identifier: GPL-2.0
/*
 * The change stream (HMAP_IOC_WATCH): a watch fd reads one record per
 * change of its map, in the order the map made them, with sequence numbers
 * that account for every change, dropped ones included.
 *
 * Most tests keep a mirror of the map built only from the records (as a
 * cache or a replica would) and compare it with the map itself: values,
 * and versions, since a record of a key must carry the version a lookup
 * reports. The checks of each record's layout (sizes, length, padding,
 * sequence) run on every record any test reads.
 *
 * These tests issue the ioctl and read() themselves rather than use
 * libhmap's wrappers, so that they see exactly what the kernel returns.
 */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"
#include "uffd_trap.h"

#define HDR		((__u32)sizeof(struct hmap_event))
#define NKEYS		64		/* keys of the mirrored maps: 0 .. NKEYS - 1 */
#define STREAM_BUF	(64 * 1024)	/* bytes of one read() */

static __u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/* The length of a record with @ks bytes of key and @vs of value. */
static __u32 rec_len(__u32 ks, __u32 vs)
{
	return (HDR + ks + vs + 7) & ~7U;
}

static int watch_open(int map_fd, __u32 flags, __u32 buf_bytes, __u64 *seq)
{
	struct hmap_watch w = {
		.size = sizeof(w), .flags = flags, .buf_bytes = buf_bytes,
	};
	int fd = ioctl(map_fd, HMAP_IOC_WATCH, &w);

	if (fd < 0)
		return -errno;
	if (seq)
		*seq = w.seq;
	return fd;
}

/* read() returning -errno. */
static ssize_t rd(int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	return n < 0 ? -errno : n;
}

/* Whether poll() reports @fd readable within @ms. */
static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int map8(const char *name, __u32 max, __u32 flags)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .flags = flags };

	return hmap_create(name, 8, 8, max, &o);
}

/* ADD returning the new value and version, which libhmap does not give. */
static int add_ver(int fd, __u64 k, __s64 delta, __u32 flags, __u64 *val,
		   __u64 *ver)
{
	struct hmap_add a = {
		.size = sizeof(a), .flags = flags, .key = (uintptr_t)&k,
		.delta = delta,
	};
	int ret = xioctl(fd, HMAP_IOC_ADD, &a);

	if (!ret) {
		*val = a.new_value;
		*ver = a.version;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Reading and checking records. */

/*
 * A reader of one watch fd. Every record it returns has been checked
 * against the layout the uapi header gives and against the sequence so
 * far; the first violation is kept in @err. Also used from threads and
 * children, hence no harness macros.
 */
struct stream {
	int fd;
	__u32 ks, vs;		/* the map's key and value sizes */
	bool values;		/* opened with HMAP_WATCH_VALUES */
	__u64 next;		/* the seq the next record must have */
	__u64 records;		/* records read, OVERFLOW ones excluded */
	__u64 lost;		/* records the OVERFLOW records say were lost */
	__u64 overflows;
	size_t len, off;	/* bytes the last read() returned, and used */
	char err[256];
	__u64 buf[STREAM_BUF / 8];
};

static struct stream *stream_new(int fd, __u32 ks, __u32 vs, bool values,
				 __u64 seq)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s) {
		s->fd = fd;
		s->ks = ks;
		s->vs = vs;
		s->values = values;
		s->next = seq + 1;
	}
	return s;
}

static void set_err(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

#define s_fail(s, ...)	set_err((s)->err, sizeof((s)->err), __VA_ARGS__)

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		if (*c++)
			return false;
	return true;
}

static void check_record(struct stream *s, const struct hmap_event *ev)
{
	bool entry = ev->op >= HMAP_EVENT_UPDATE && ev->op <= HMAP_EVENT_EXPIRE &&
		     ev->op != HMAP_EVENT_CLEAR;
	__u32 ks = entry ? s->ks : 0, vs = entry && s->values ? s->vs : 0;
	__u64 seq = ev->seq;

	if (ev->op < HMAP_EVENT_UPDATE || ev->op > HMAP_EVENT_REPLACED)
		s_fail(s, "seq %llu: op %u", seq, ev->op);
	else if (ev->key_size != ks || ev->value_size != vs ||
		 ev->len != rec_len(ks, vs))
		s_fail(s, "seq %llu op %u: key_size %u value_size %u len %u, not %u %u %u",
		       seq, ev->op, ev->key_size, ev->value_size, ev->len, ks,
		       vs, rec_len(ks, vs));
	else if (!all_zero((const char *)ev + HDR + ks + vs,
			   ev->len - HDR - ks - vs))
		s_fail(s, "seq %llu op %u: padding not zero", seq, ev->op);
	else if (ev->__reserved)
		s_fail(s, "seq %llu: __reserved %u", seq, ev->__reserved);
	else if ((entry || ev->op == HMAP_EVENT_REPLACED) != (ev->version != 0))
		s_fail(s, "seq %llu op %u: version %llu", seq, ev->op,
		       ev->version);
	else if ((ev->op == HMAP_EVENT_OVERFLOW) != (ev->lost != 0))
		s_fail(s, "seq %llu op %u: lost %llu", seq, ev->op, ev->lost);
	if (seq != s->next)
		s_fail(s, "seq %llu after %llu records (%llu lost): expected %llu",
		       seq, s->records, s->lost, s->next);
	if (ev->op == HMAP_EVENT_OVERFLOW) {
		s->overflows++;
		s->lost += ev->lost;
		s->next = seq + ev->lost;
	} else {
		s->records++;
		s->next = seq + 1;
	}
}

/*
 * The next record: from what the last read() returned, else from a new
 * read() once poll() reports one within @ms (-1: block in read() itself).
 * NULL if none came (or the read failed: then @err says so).
 */
static const struct hmap_event *next_ev(struct stream *s, int ms)
{
	const struct hmap_event *ev;
	ssize_t n;

	if (s->off == s->len) {
		s->off = 0;
		s->len = 0;
		if (ms >= 0 && !readable(s->fd, ms))
			return NULL;
		n = rd(s->fd, s->buf, sizeof(s->buf));
		if (n == -EAGAIN)
			return NULL;
		if (n <= 0) {
			s_fail(s, "read: %zd", n);
			return NULL;
		}
		s->len = n;
	}
	ev = (const void *)((const char *)s->buf + s->off);
	if (s->len - s->off < HDR || ev->len < HDR || ev->len % 8 ||
	    ev->len > s->len - s->off) {
		s_fail(s, "record at byte %zu of %zu: len %u", s->off, s->len,
		       s->len - s->off < HDR ? 0 : ev->len);
		s->off = s->len;
		return NULL;
	}
	s->off += ev->len;
	check_record(s, ev);
	return ev;
}

static __u64 ev_key(const struct hmap_event *ev)
{
	__u64 k = ~0ULL;

	if (ev->key_size == 8)
		memcpy(&k, hmap_event_key(ev), 8);
	return k;
}

static __u64 ev_val(const struct hmap_event *ev)
{
	__u64 v = ~0ULL;

	if (ev->value_size == 8)
		memcpy(&v, hmap_event_value(ev), 8);
	return v;
}

/* ------------------------------------------------------------------ */
/* A mirror of a map of 8-byte keys below NKEYS and 8-byte values. */

struct mirror {
	bool strict;		/* it saw every change: removals must match */
	bool present[NKEYS];
	__u64 value[NKEYS];	/* known only from a watch with values */
	__u64 version[NKEYS];	/* 0: unknown (the entry came from a walk) */
	__u64 ops[HMAP_EVENT_REPLACED + 1];	/* records applied, by op */
	char err[256];
};

#define m_fail(m, ...)	set_err((m)->err, sizeof((m)->err), __VA_ARGS__)

/*
 * Applies one record. Strict: the mirror has seen every change since the
 * map was empty, so a removal must name the entry it holds (version and
 * value), and a key's versions must grow.
 */
static void mirror_apply(struct mirror *m, const struct hmap_event *ev)
{
	bool vals = ev->value_size != 0;
	__u64 k = ev_key(ev), v = ev_val(ev);

	if (ev->op < HMAP_EVENT_UPDATE || ev->op > HMAP_EVENT_REPLACED)
		return;
	m->ops[ev->op]++;
	if (ev->op == HMAP_EVENT_OVERFLOW || ev->op == HMAP_EVENT_REPLACED)
		return;
	if (ev->op == HMAP_EVENT_CLEAR) {
		memset(m->present, 0, sizeof(m->present));
		return;
	}
	if (k >= NKEYS) {
		m_fail(m, "seq %llu: key %llu", ev->seq, k);
		return;
	}
	if (ev->op == HMAP_EVENT_UPDATE) {
		if (m->strict && ev->version <= m->version[k])
			m_fail(m, "seq %llu: key %llu version %llu after %llu",
			       ev->seq, k, ev->version, m->version[k]);
		m->present[k] = true;
		m->version[k] = ev->version;
		if (vals)
			m->value[k] = v;
		return;
	}
	if (m->strict && (!m->present[k] || ev->version != m->version[k] ||
			  (vals && v != m->value[k])))
		m_fail(m, "seq %llu op %u: key %llu v%llu value %llu; mirror: %s v%llu %llu",
		       ev->seq, ev->op, k, ev->version, v,
		       m->present[k] ? "present" : "absent", m->version[k],
		       m->value[k]);
	m->present[k] = false;
}

/* Applies every record waiting (within @ms for the first); returns how many. */
static int drain(struct stream *s, struct mirror *m, int ms)
{
	const struct hmap_event *ev;
	int n = 0;

	while ((ev = next_ev(s, n ? 0 : ms))) {
		mirror_apply(m, ev);
		n++;
	}
	return n;
}

/*
 * Compares the mirror with the map: the same keys, and the same values
 * (@values) and versions (where the mirror knows them). Returns false
 * with the first difference in @why.
 */
static bool mirror_matches(const struct mirror *m, int fd, bool values,
			   char *why, size_t n)
{
	struct hmap_info info = { .size = sizeof(info) };
	__u64 k, v, ver;
	__u32 count = 0;
	int ret;

	why[0] = 0;
	for (k = 0; k < NKEYS; k++) {
		ret = hmap_lookup_version(fd, &k, &v, &ver);
		if (ret && ret != -ENOENT) {
			set_err(why, n, "lookup %llu: %d", k, ret);
			return false;
		}
		if (!ret != m->present[k]) {
			set_err(why, n, "key %llu: %s in the map, %s in the mirror",
				k, ret ? "absent" : "present",
				m->present[k] ? "present" : "absent");
			return false;
		}
		if (ret)
			continue;
		count++;
		if ((values && v != m->value[k]) ||
		    (m->version[k] && ver != m->version[k])) {
			set_err(why, n, "key %llu: map value %llu version %llu, mirror %llu %llu",
				k, v, ver, m->value[k], m->version[k]);
			return false;
		}
	}
	if (hmap_info(fd, &info) || info.count != count) {
		set_err(why, n, "map count %u, %u keys below %u", info.count,
			count, NKEYS);
		return false;
	}
	return true;
}

/*
 * Takes the map anew with LOOKUP_BATCH, as a reader does after an
 * overflow: values known, versions not.
 */
static int mirror_load(struct mirror *m, int fd)
{
	__u64 keys[16], vals[16], cur = 0;
	bool first = true;
	__u32 i, n;
	int ret;

	memset(m->present, 0, sizeof(m->present));
	memset(m->version, 0, sizeof(m->version));
	do {
		n = 16;
		ret = hmap_lookup_batch(fd, first ? NULL : &cur, &cur, keys,
					vals, &n);
		if (ret && ret != -ENOENT)
			return ret;
		for (i = 0; i < n; i++) {
			if (keys[i] >= NKEYS)
				return -ERANGE;
			m->present[keys[i]] = true;
			m->value[keys[i]] = vals[i];
		}
		first = false;
	} while (!ret);
	return 0;
}

#define EXPECT_MIRROR(m, fd, values) do {				\
	const struct mirror *_m = (m);					\
	char _why[256];							\
	EXPECT_STREQ("", _m->err);					\
	EXPECT_TRUE(mirror_matches(_m, fd, values, _why, sizeof(_why)))	\
		TH_LOG("%s", _why);					\
} while (0)

/* ------------------------------------------------------------------ */

FIXTURE(watch) {
	bool root;		/* debugfs counters readable */
	long long released, freed;
};

FIXTURE_SETUP(watch)
{
	self->root = !geteuid() && stat_num("maps_freed") >= 0;
	if (!self->root)
		return;
	/* Maps earlier tests closed must not be counted as ours. */
	settle_frees();
	self->released = stat_num("maps_released");
	self->freed = stat_num("maps_freed");
}

FIXTURE_TEARDOWN(watch)
{
}

/* The argument is checked as every command's, and the fd is close-on-exec. */
TEST_F(watch, arguments)
{
	struct {
		struct hmap_watch w;
		__u64 tail;
	} big = { .w = { .size = sizeof(big) } };
	struct hmap_watch w = { .size = sizeof(w), .__reserved = 1 };
	int fd = map8("args", 16, 0), dev = open_dev(), wfd;
	__u32 min = HMAP_WATCH_MIN_BYTES;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, dev);
	/* A map command, on /dev/hmap itself. */
	EXPECT_EQ(-EBADFD, watch_open(dev, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, watch_open(fd, 1U << 2, 0, NULL));
	EXPECT_EQ(-EINVAL, watch_open(fd, ~0U, 0, NULL));
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_WATCH, &w));
	w = (struct hmap_watch){ .size = 4 };
	EXPECT_EQ(-EINVAL, xioctl(fd, HMAP_IOC_WATCH, &w));
	big.tail = 1;
	EXPECT_EQ(-E2BIG, xioctl(fd, HMAP_IOC_WATCH, &big));
	big.tail = 0;
	wfd = ioctl(fd, HMAP_IOC_WATCH, &big);
	EXPECT_LE(0, wfd);
	close(wfd);
	/* The buffer: a page and twice the largest record, at least. */
	EXPECT_EQ(-EINVAL, watch_open(fd, HMAP_WATCH_VALUES, 1, NULL));
	EXPECT_EQ(-EINVAL, watch_open(fd, HMAP_WATCH_VALUES, min - 8, NULL));
	EXPECT_EQ(-EINVAL, watch_open(fd, 0, HMAP_WATCH_MAX_BYTES + 1, NULL));
	EXPECT_EQ(-EINVAL, watch_open(fd, 0, UINT_MAX, NULL));
	wfd = watch_open(fd, HMAP_WATCH_VALUES, min, NULL);
	EXPECT_LE(0, wfd);
	close(wfd);
	wfd = watch_open(fd, 0, HMAP_WATCH_MAX_BYTES, NULL);
	EXPECT_TRUE(wfd >= 0 || wfd == -ENOMEM || wfd == -EDQUOT)
		TH_LOG("HMAP_WATCH_MAX_BYTES: %d", wfd);
	if (wfd >= 0)
		close(wfd);
	/* 0: the default; flags as asked. */
	wfd = watch_open(fd, 0, 0, NULL);
	ASSERT_LE(0, wfd);
	EXPECT_TRUE(fcntl(wfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_FALSE(fcntl(wfd, F_GETFL) & O_NONBLOCK);
	close(wfd);
	wfd = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, NULL);
	ASSERT_LE(0, wfd);
	EXPECT_TRUE(fcntl(wfd, F_GETFL) & O_NONBLOCK);
	close(wfd);
	close(dev);
	close(fd);
}

struct expect {
	__u16 op;
	__u64 key, value, version;
};

/*
 * Every kind of write, and the failed ones that must leave no record, seen
 * by two watchers at once: one with values, one without.
 */
TEST_F(watch, a_record_for_each_change)
{
	struct expect want[32];
	__u64 k, v, v2, ver, ver2, keys[4], vals[4], cur, seq[2];
	struct stream *s[2];
	__s32 status[4];
	int fd = map8("each", 16, 0), w[2], i, j, n = 0;
	__u32 cnt;

#define WANT(o, kk, vv, vr)	\
	(want[n++] = (struct expect){ .op = (o), .key = (kk), .value = (vv), .version = (vr) })

	ASSERT_LE(0, fd);
	w[0] = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, &seq[0]);
	w[1] = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, &seq[1]);
	ASSERT_LE(0, w[0]);
	ASSERT_LE(0, w[1]);
	/* The numbers start at 1: a new map made no change yet. */
	EXPECT_EQ(0, seq[0]);
	EXPECT_EQ(0, seq[1]);

	k = 1;
	v = 10;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver));
	WANT(HMAP_EVENT_UPDATE, 1, 10, ver);
	EXPECT_EQ(-EEXIST, hmap_update(fd, &k, &v, HMAP_NOEXIST));
	k = 2;
	EXPECT_EQ(-ENOENT, hmap_update(fd, &k, &v, HMAP_EXIST));
	k = 1;
	v = 11;
	ver2 = ver;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_EXIST | HMAP_IF_VERSION,
					 &ver2));
	WANT(HMAP_EVENT_UPDATE, 1, 11, ver2);
	EXPECT_EQ(-ESTALE, hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver));
	ASSERT_EQ(0, add_ver(fd, 1, 5, 0, &v, &ver));
	WANT(HMAP_EVENT_UPDATE, 1, 16, ver);
	EXPECT_EQ(-ENOENT, add_ver(fd, 3, 7, 0, &v, &ver));
	ASSERT_EQ(0, add_ver(fd, 3, 7, HMAP_ADD_CREATE, &v, &ver));
	WANT(HMAP_EVENT_UPDATE, 3, 7, ver);
	v = 16;
	v2 = 20;
	ASSERT_EQ(0, hmap_cmpxchg(fd, &k, &v, &v2, &ver));
	WANT(HMAP_EVENT_UPDATE, 1, 20, ver);
	v = 99;
	EXPECT_EQ(-ESTALE, hmap_cmpxchg(fd, &k, &v, &v2, NULL));
	/* A CMPXCHG to the same value still writes: a new version. */
	v = 20;
	ASSERT_EQ(0, hmap_cmpxchg(fd, &k, &v, &v2, &ver));
	WANT(HMAP_EVENT_UPDATE, 1, 20, ver);
	k = 3;
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &v, &ver));
	ASSERT_EQ(0, hmap_delete(fd, &k));
	WANT(HMAP_EVENT_DELETE, 3, 7, ver);
	EXPECT_EQ(-ENOENT, hmap_delete(fd, &k));
	k = 1;
	ASSERT_EQ(0, hmap_lookup_version(fd, &k, &v, &ver));
	ASSERT_EQ(0, hmap_lookup_and_delete(fd, &k, &v));
	WANT(HMAP_EVENT_DELETE, 1, 20, ver);
	EXPECT_EQ(-ENOENT, hmap_lookup_and_delete(fd, &k, &v));
	v = 30;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver));
	WANT(HMAP_EVENT_UPDATE, 1, 30, ver);
	ver2 = ver - 1;
	EXPECT_EQ(-ESTALE, hmap_delete_version(fd, &k, &ver2));
	ASSERT_EQ(0, hmap_delete_version(fd, &k, &ver));
	WANT(HMAP_EVENT_DELETE, 1, 30, ver);

	/* Batches: one record per entry written or removed. */
	for (i = 0; i < 3; i++) {
		keys[i] = 4 + i;
		vals[i] = 40 + 10 * i;
	}
	cnt = 3;
	ASSERT_EQ(0, hmap_update_batch(fd, keys, vals, NULL, &cnt, HMAP_ANY, 0));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, hmap_lookup_version(fd, &keys[i], &v, &ver));
		WANT(HMAP_EVENT_UPDATE, keys[i], vals[i], ver);
	}
	keys[0] = 4;
	keys[1] = 7;
	keys[2] = 5;
	cnt = 3;
	ASSERT_EQ(0, hmap_delete_batch(fd, keys, status, &cnt,
				       HMAP_BATCH_CONTINUE));
	EXPECT_EQ(-ENOENT, status[1]);
	i = n - 3;	/* the batch's first UPDATE */
	WANT(HMAP_EVENT_DELETE, 4, 40, want[i].version);
	WANT(HMAP_EVENT_DELETE, 5, 50, want[i + 1].version);
	cnt = 4;
	EXPECT_EQ(-ENOENT, hmap_lookup_and_delete_batch(fd, NULL, &cur, keys,
							vals, &cnt));
	EXPECT_EQ(1, cnt);
	WANT(HMAP_EVENT_DELETE, 6, 60, want[i + 2].version);
	/* Reads make no records. */
	k = 8;
	v = 80;
	ASSERT_EQ(0, hmap_update_version(fd, &k, &v, HMAP_ANY, &ver));
	WANT(HMAP_EVENT_UPDATE, 8, 80, ver);
	EXPECT_EQ(0, hmap_lookup(fd, &k, &v));
	EXPECT_EQ(0, hmap_get_next_key(fd, NULL, &k));
	cnt = 4;
	EXPECT_EQ(-ENOENT, hmap_lookup_batch(fd, NULL, &cur, keys, vals, &cnt));
	ASSERT_EQ(0, hmap_clear(fd));
	WANT(HMAP_EVENT_CLEAR, 0, 0, 0);

	for (j = 0; j < 2; j++) {
		const struct hmap_event *ev;

		s[j] = stream_new(w[j], 8, 8, j == 0, seq[j]);
		ASSERT_NE(NULL, s[j]);
		for (i = 0; i < n; i++) {
			ev = next_ev(s[j], 0);
			ASSERT_NE(NULL, ev) TH_LOG("watch %d: record %d of %d missing: %s",
						   j, i, n, s[j]->err);
			EXPECT_EQ(want[i].op, ev->op) TH_LOG("watch %d record %d", j, i);
			EXPECT_EQ(i + 1, ev->seq);
			EXPECT_EQ(want[i].version, ev->version)
				TH_LOG("watch %d record %d", j, i);
			if (want[i].op == HMAP_EVENT_CLEAR)
				continue;
			EXPECT_EQ(want[i].key, ev_key(ev)) TH_LOG("watch %d record %d", j, i);
			if (j == 0)
				EXPECT_EQ(want[i].value, ev_val(ev))
					TH_LOG("record %d", i);
		}
		EXPECT_EQ(NULL, next_ev(s[j], 0));
		EXPECT_STREQ("", s[j]->err);
		EXPECT_EQ(0, s[j]->overflows);
		close(w[j]);
		free(s[j]);
	}
	close(fd);
#undef WANT
}

/*
 * Odd key and value sizes: the record is padded with zeros to a multiple
 * of 8, and carries the key and value bytes as written. The largest
 * record a map can make still fits the default buffer.
 */
TEST_F(watch, record_layout)
{
	static const __u32 sizes[][2] = {
		{ 1, 1 }, { 3, 6 }, { 8, 8 }, { 13, 100 }, { 16, 3 },
		{ HMAP_MAX_KEY_SIZE, HMAP_MAX_VALUE_SIZE },
	};
	unsigned int i, j, ks, vs, len[2], min;
	unsigned char *key, *val, *buf;
	const struct hmap_event *ev;
	size_t room;
	int fd, w[2];

	room = rec_len(HMAP_MAX_KEY_SIZE, HMAP_MAX_VALUE_SIZE) + 64;
	buf = malloc(room);
	key = malloc(HMAP_MAX_KEY_SIZE);
	val = malloc(HMAP_MAX_VALUE_SIZE);
	ASSERT_TRUE(buf && key && val);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ks = sizes[i][0];
		vs = sizes[i][1];
		len[0] = rec_len(ks, vs);
		len[1] = rec_len(ks, 0);
		fd = hmap_create("layout", ks, vs, 4, NULL);
		ASSERT_LE(0, fd);
		/* Below twice the largest record: refused, even with values. */
		min = 2 * len[0] > HMAP_WATCH_MIN_BYTES ? 2 * len[0] :
			HMAP_WATCH_MIN_BYTES;
		EXPECT_EQ(-EINVAL, watch_open(fd, HMAP_WATCH_VALUES, min - 8,
					      NULL));
		w[0] = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK,
				  min, NULL);
		w[1] = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, NULL);
		ASSERT_LE(0, w[0]) TH_LOG("key %u value %u", ks, vs);
		ASSERT_LE(0, w[1]);
		for (j = 0; j < ks; j++)
			key[j] = 0xa0 + j;
		for (j = 0; j < vs; j++)
			val[j] = 0x11 * (j + 1) | 1;
		ASSERT_EQ(0, hmap_update(fd, key, val, HMAP_ANY));
		for (j = 0; j < 2; j++) {
			memset(buf, 0xff, room);
			/* One byte short of the record: EINVAL, and it stays. */
			EXPECT_EQ(-EINVAL, rd(w[j], buf, len[j] - 1));
			ASSERT_EQ(len[j], rd(w[j], buf, room))
				TH_LOG("key %u value %u watch %u", ks, vs, j);
			ev = (const void *)buf;
			EXPECT_EQ(len[j], ev->len);
			EXPECT_EQ(HMAP_EVENT_UPDATE, ev->op);
			EXPECT_EQ(1, ev->seq);
			EXPECT_EQ(0, ev->lost);
			EXPECT_EQ(0, ev->__reserved);
			EXPECT_EQ(ks, ev->key_size);
			EXPECT_EQ(j ? 0 : vs, ev->value_size);
			EXPECT_EQ(0, memcmp(hmap_event_key(ev), key, ks));
			if (!j)
				EXPECT_EQ(0, memcmp(hmap_event_value(ev), val, vs));
			EXPECT_TRUE(all_zero(buf + HDR + ks + ev->value_size,
					     len[j] - HDR - ks - ev->value_size))
				TH_LOG("key %u value %u: padding", ks, vs);
			EXPECT_EQ(-EAGAIN, rd(w[j], buf, room));
		}
		/* A CLEAR record is a header alone, with or without values. */
		ASSERT_EQ(0, hmap_clear(fd));
		for (j = 0; j < 2; j++) {
			ASSERT_EQ(HDR, rd(w[j], buf, room));
			ev = (const void *)buf;
			EXPECT_EQ(HMAP_EVENT_CLEAR, ev->op);
			EXPECT_EQ(2, ev->seq);
			EXPECT_EQ(HDR, ev->len);
			EXPECT_EQ(0, ev->key_size);
			EXPECT_EQ(0, ev->value_size);
			EXPECT_EQ(0, ev->version);
			close(w[j]);
		}
		close(fd);
	}
	free(buf);
	free(key);
	free(val);
}

static void on_signal(int sig)
{
}

static pthread_t main_thread;

/* Sends SIGUSR1 to the main thread after @arg ms. */
static void *kick(void *arg)
{
	usleep((uintptr_t)arg * 1000);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

struct blocked {
	int fd;
	atomic_int done;
	ssize_t n;
	__u64 buf[512];
};

static void *blocked_read(void *arg)
{
	struct blocked *b = arg;

	b->n = rd(b->fd, b->buf, sizeof(b->buf));
	atomic_store(&b->done, 1);
	return NULL;
}

/* Waits up to 10 s for @th; false if it is still running. */
static bool join_within(pthread_t th, int s)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += s;
	return !pthread_timedjoin_np(th, NULL, &t);
}

/*
 * read() as a character device's: whole records only, as many as fit;
 * EINVAL when the next one does not fit; EAGAIN when empty and
 * non-blocking; else it blocks until a write, or a signal (EINTR).
 */
TEST_F(watch, read_semantics)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;
	__u64 buf[64], k, seq = 0;
	struct blocked b = { 0 };
	const struct hmap_event *ev;
	int fd = map8("read", 16, 0), w, fl;
	pthread_t th;

	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, &seq);
	ASSERT_LE(0, w);
	EXPECT_EQ(-EAGAIN, rd(w, buf, sizeof(buf)));
	for (k = 1; k <= 3; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	/* Nothing asked, nothing taken; a stream has no position. */
	EXPECT_EQ(0, rd(w, buf, 0));
	EXPECT_EQ(-1, pread(w, buf, sizeof(buf), 0));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, lseek(w, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-EINVAL, rd(w, buf, HDR + 7));
	/* Room for one and a half: one. */
	ASSERT_EQ(48, rd(w, buf, 48 + 24));
	ev = (const void *)buf;
	EXPECT_EQ(seq + 1, ev->seq);
	EXPECT_EQ(1, ev_key(ev));
	ASSERT_EQ(96, rd(w, buf, sizeof(buf)));
	EXPECT_EQ(seq + 2, ev->seq);
	EXPECT_EQ(2, ev_key(ev));
	ev = (const void *)((char *)buf + 48);
	EXPECT_EQ(seq + 3, ev->seq);
	EXPECT_EQ(3, ev_key(ev));
	EXPECT_EQ(-EAGAIN, rd(w, buf, sizeof(buf)));

	/* Blocking again: a reader waits for the next write. */
	fl = fcntl(w, F_GETFL);
	ASSERT_EQ(0, fcntl(w, F_SETFL, fl & ~O_NONBLOCK));
	b.fd = w;
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_read, &b));
	usleep(200000);
	EXPECT_EQ(0, atomic_load(&b.done));
	k = 4;
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_TRUE(join_within(th, 10)) TH_LOG("the blocked read() never woke");
	ASSERT_EQ(48, b.n);
	ev = (const void *)b.buf;
	EXPECT_EQ(seq + 4, ev->seq);
	EXPECT_EQ(4, ev_key(ev));

	/* A signal with a handler (no SA_RESTART) ends the wait: EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
	main_thread = pthread_self();
	ASSERT_EQ(0, pthread_create(&th, NULL, kick, (void *)(uintptr_t)200));
	EXPECT_EQ(-EINTR, rd(w, buf, sizeof(buf)));
	pthread_join(th, NULL);
	sigaction(SIGUSR1, &old, NULL);

	/* O_NONBLOCK by fcntl() is heeded as the flag is. */
	ASSERT_EQ(0, fcntl(w, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, rd(w, buf, sizeof(buf)));
	close(w);
	close(fd);
}

struct epoller {
	int ep;
	int n;
	__u32 events;
	__u64 woke;
};

static void *epoll_waiter(void *arg)
{
	struct epoller *e = arg;
	struct epoll_event ev;

	e->n = epoll_wait(e->ep, &ev, 1, 10000);
	e->woke = now_ns();
	if (e->n == 1)
		e->events = ev.events;
	return NULL;
}

/* poll() and epoll report EPOLLIN while records wait, and only then. */
TEST_F(watch, poll_and_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct epoller e = { 0 };
	__u64 buf[64], k = 1, wrote;
	int fd = map8("poll", 16, 0), w;
	pthread_t th;

	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, NULL);
	ASSERT_LE(0, w);
	EXPECT_FALSE(readable(w, 0));
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	EXPECT_TRUE(readable(w, 0));
	EXPECT_EQ(48, rd(w, buf, sizeof(buf)));
	EXPECT_FALSE(readable(w, 0));

	/* A thread in epoll_wait() wakes on a write made after it slept. */
	e.ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, e.ep);
	ASSERT_EQ(0, epoll_ctl(e.ep, EPOLL_CTL_ADD, w, &ev));
	ASSERT_EQ(0, pthread_create(&th, NULL, epoll_waiter, &e));
	usleep(200000);
	wrote = now_ns();
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_TRUE(join_within(th, 15));
	EXPECT_EQ(1, e.n);
	EXPECT_TRUE(e.events & EPOLLIN);
	EXPECT_LE(wrote, e.woke);
	EXPECT_EQ(48, rd(w, buf, sizeof(buf)));
	EXPECT_EQ(0, epoll_wait(e.ep, &ev, 1, 0));
	close(e.ep);
	close(w);
	close(fd);
}

/* Watching is reading: a read-only fd may, and writes by others show. */
TEST_F(watch, read_only_fd_may_watch)
{
	static const char name[] = "watch_test_ro";
	const struct hmap_event *ev;
	struct stream *s;
	__u64 k = 5, v = 50, seq = 0;
	int fd = map8("ro", 16, 0), ro, w;

	ASSERT_LE(0, fd);
	hmap_unpublish(name);
	ASSERT_EQ(0, hmap_publish(fd, name, 0600));
	ro = hmap_open_by_name(name, HMAP_F_RDONLY);
	ASSERT_LE(0, ro);
	w = watch_open(ro, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, &seq);
	ASSERT_LE(0, w);
	EXPECT_EQ(-EPERM, hmap_update(ro, &k, &v, HMAP_ANY));
	ASSERT_EQ(0, hmap_update(fd, &k, &v, HMAP_ANY));
	s = stream_new(w, 8, 8, true, seq);
	ASSERT_NE(NULL, s);
	ev = next_ev(s, 1000);
	ASSERT_NE(NULL, ev) TH_LOG("%s", s->err);
	EXPECT_EQ(HMAP_EVENT_UPDATE, ev->op);
	EXPECT_EQ(5, ev_key(ev));
	EXPECT_EQ(50, ev_val(ev));
	EXPECT_EQ(NULL, next_ev(s, 0));
	EXPECT_STREQ("", s->err);
	EXPECT_EQ(0, hmap_unpublish(name));
	free(s);
	close(w);
	close(ro);
	close(fd);
}

/* A watch opened later starts at the current number; each gets every record. */
TEST_F(watch, watchers_each_get_every_record)
{
	struct stream *s[3];
	struct mirror m[3] = { { .strict = true } };
	__u64 k, seq[3];
	int fd = map8("multi", 64, 0), w[3], i;

	ASSERT_LE(0, fd);
	w[0] = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, &seq[0]);
	ASSERT_LE(0, w[0]);
	for (k = 0; k < 5; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	w[1] = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, &seq[1]);
	w[2] = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, &seq[2]);
	ASSERT_LE(0, w[1]);
	ASSERT_LE(0, w[2]);
	EXPECT_EQ(seq[0] + 5, seq[1]);
	EXPECT_EQ(seq[1], seq[2]);
	for (k = 3; k < 8; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	k = 0;
	ASSERT_EQ(0, hmap_delete(fd, &k));
	for (i = 0; i < 3; i++) {
		s[i] = stream_new(w[i], 8, 8, i < 2, seq[i]);
		ASSERT_NE(NULL, s[i]);
		drain(s[i], &m[i], 0);
		EXPECT_STREQ("", s[i]->err);
	}
	EXPECT_EQ(11, s[0]->records);
	EXPECT_EQ(6, s[1]->records);
	EXPECT_EQ(6, s[2]->records);
	EXPECT_MIRROR(&m[0], fd, true);
	for (i = 0; i < 3; i++) {
		free(s[i]);
		close(w[i]);
	}
	close(fd);
}

#define STOPPED_UPDATES	100000

static __u64 time_updates(int fd, int *failed)
{
	__u64 i, k, t0 = now_ns();

	for (i = 0; i < STOPPED_UPDATES; i++) {
		k = i % 1024;
		if (hmap_update(fd, &k, &i, HMAP_ANY))
			(*failed)++;
	}
	return now_ns() - t0;
}

/*
 * A watcher that never reads never holds writers up: its small buffer
 * fills, the writes go on, and the reader finds the records that fit,
 * then one OVERFLOW record counting the rest.
 */
TEST_F_TIMEOUT(watch, stopped_watcher_never_blocks_writers, 180)
{
	const struct hmap_event *ev;
	struct stream *s;
	__u64 plain, watched, seq = 0, k = 7, after = 0;
	int fd = map8("stopped", 1024, 0), w, failed = 0;

	ASSERT_LE(0, fd);
	plain = time_updates(fd, &failed);
	ASSERT_EQ(0, failed);
	w = watch_open(fd, HMAP_WATCH_NONBLOCK, 4096, &seq);
	ASSERT_LE(0, w);
	watched = time_updates(fd, &failed);
	ASSERT_EQ(0, failed);
	ksft_print_msg("%d updates: %llu ms with no watch, %llu ms with a stopped one\n",
		       STOPPED_UPDATES, plain / 1000000, watched / 1000000);
	/* fdinfo tells an operator what the watcher missed, and what waits. */
	EXPECT_EQ(4096, fdinfo_num(w, "buf_bytes"));
	EXPECT_LT(0, fdinfo_num(w, "queued_bytes"));
	EXPECT_GE(4096, fdinfo_num(w, "queued_bytes"));
	EXPECT_LT(STOPPED_UPDATES - 4096 / 48, fdinfo_num(w, "lost"));
	EXPECT_EQ(0, fdinfo_num(w, "values"));
	s = stream_new(w, 8, 8, false, seq);
	ASSERT_NE(NULL, s);
	while ((ev = next_ev(s, 0)))
		if (s->overflows && ev->op != HMAP_EVENT_OVERFLOW)
			after++;
	EXPECT_STREQ("", s->err);
	EXPECT_EQ(1, s->overflows);
	EXPECT_EQ(0, after);
	EXPECT_LE(1, s->records);
	EXPECT_GE(4096 / 48, s->records);
	EXPECT_EQ(STOPPED_UPDATES, s->records + s->lost);
	EXPECT_EQ(s->lost, fdinfo_num(w, "lost"));
	EXPECT_EQ(0, fdinfo_num(w, "queued_bytes"));
	ksft_print_msg("stopped watcher: %llu records delivered, %llu lost\n",
		       s->records, s->lost);
	/* The next record follows the lost ones. */
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ev = next_ev(s, 1000);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(seq + STOPPED_UPDATES + 1, ev->seq);
	EXPECT_EQ(7, ev_key(ev));
	EXPECT_STREQ("", s->err);
	free(s);
	close(w);
	close(fd);
}

static __u64 rng(__u64 *x)
{
	__u64 z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 test_seed(void)
{
	const char *s = getenv("HMAP_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((__u64)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec ^ getpid()) %
	       1000000000000ULL;
}

/*
 * A random write of a key below 48. Returns 1 if it changed the map, 0 if
 * not (a delete of an absent key), -1 if it failed.
 */
static int random_write(int fd, __u64 *x)
{
	__u64 r = rng(x), k = r % 48, v = r >> 32;
	struct hmap_info info = { .size = sizeof(info) };
	int ret;

	/* Clear only a map with entries: an empty one's record is not said. */
	if (r % 100 < 1 && !hmap_info(fd, &info) && info.count)
		return hmap_clear(fd) ? -1 : 1;
	if ((r >> 8) % 3 == 0) {
		ret = hmap_delete(fd, &k);
		return !ret ? 1 : ret == -ENOENT ? 0 : -1;
	}
	return hmap_update(fd, &k, &v, HMAP_ANY) ? -1 : 1;
}

/* @n random writes; adds the changes they made to *@changes. */
static bool random_writes(int fd, __u64 *x, int n, __u64 *changes)
{
	int ret;

	while (n--) {
		ret = random_write(fd, x);
		if (ret < 0)
			return false;
		*changes += ret;
	}
	return true;
}

/*
 * After an overflow the reader takes the map anew with LOOKUP_BATCH and
 * applies the records that follow: its mirror is the map again, even with
 * writes between the overflow and the walk.
 */
TEST_F(watch, resync_after_overflow)
{
	__u64 seed = test_seed(), x = seed, seq = 0, changes = 0;
	struct mirror m = { .strict = true };
	const struct hmap_event *ev;
	struct stream *s;
	int fd = map8("resync", NKEYS, 0), w;

	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 4096, &seq);
	ASSERT_LE(0, w);
	s = stream_new(w, 8, 8, true, seq);
	ASSERT_NE(NULL, s);
	TH_LOG("HMAP_SEED=%llu", seed);
	ASSERT_TRUE(random_writes(fd, &x, 1000, &changes));
	/* Up to the overflow, the mirror follows every change. */
	while ((ev = next_ev(s, 0)) && ev->op != HMAP_EVENT_OVERFLOW)
		mirror_apply(&m, ev);
	ASSERT_NE(NULL, ev) TH_LOG("no overflow: %s", s->err);
	EXPECT_STREQ("", m.err);
	EXPECT_EQ(changes, s->records + s->lost);
	/* Writes before the walk: the walk shows them, and so do records. */
	ASSERT_TRUE(random_writes(fd, &x, 20, &changes));
	m.strict = false;
	ASSERT_EQ(0, mirror_load(&m, fd));
	ASSERT_TRUE(random_writes(fd, &x, 20, &changes));
	drain(s, &m, 0);
	EXPECT_STREQ("", s->err);
	EXPECT_EQ(1, s->overflows);
	EXPECT_EQ(changes, s->records + s->lost);
	EXPECT_MIRROR(&m, fd, true);
	free(s);
	close(w);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Writers and a reader at once. */

#define CW_THREADS	4
#define CW_OPS		2500	/* per writer */
#define CW_KEYS		8	/* every writer writes each of them */
#define CW_SENTINEL	(NKEYS - 1)

struct cw {
	int fd;
	atomic_long adds, deletes, errors;
};

struct cw_writer {
	struct cw *c;
	int idx;
};

static void *cw_write(void *arg)
{
	struct cw_writer *wr = arg;
	struct cw *c = wr->c;
	__u64 k;
	int i, ret;

	for (i = 0; i < CW_OPS; i++) {
		k = (wr->idx * 5 + i * 3) % CW_KEYS;
		if (wr->idx == CW_THREADS - 1 && i % 8 == 7) {
			ret = hmap_delete(c->fd, &k);
			if (!ret)
				atomic_fetch_add(&c->deletes, 1);
			else if (ret != -ENOENT)
				atomic_fetch_add(&c->errors, 1);
			continue;
		}
		if (hmap_add(c->fd, &k, 1, HMAP_ADD_CREATE, NULL, NULL))
			atomic_fetch_add(&c->errors, 1);
		else
			atomic_fetch_add(&c->adds, 1);
	}
	return NULL;
}

struct cw_reader {
	struct stream *s;
	struct mirror m;
	char err[256];
};

/*
 * Applies records until the sentinel's. Each ADD adds 1, so in the order
 * of the records every key's value must go up by exactly 1 from the value
 * before (0 after a delete): a record out of order, lost or doubled shows.
 */
static void *cw_read(void *arg)
{
	struct cw_reader *r = arg;
	const struct hmap_event *ev;
	__u64 k, want;

	for (;;) {
		ev = next_ev(r->s, 20000);
		if (!ev) {
			set_err(r->err, sizeof(r->err), "no record for 20 s");
			return NULL;
		}
		if (ev->op == HMAP_EVENT_OVERFLOW) {
			set_err(r->err, sizeof(r->err), "overflow at %llu",
				ev->seq);
			return NULL;
		}
		k = ev_key(ev);
		if (ev->op == HMAP_EVENT_UPDATE && k < NKEYS) {
			want = (r->m.present[k] ? r->m.value[k] : 0) + 1;
			if (ev_val(ev) != want)
				set_err(r->err, sizeof(r->err),
					"seq %llu: key %llu value %llu, expected %llu",
					ev->seq, k, ev_val(ev), want);
		}
		mirror_apply(&r->m, ev);
		if (ev->op == HMAP_EVENT_UPDATE && k == CW_SENTINEL)
			return NULL;
	}
}

TEST_F_TIMEOUT(watch, order_under_concurrent_writers, 120)
{
	struct cw c = { 0 };
	struct cw_writer wr[CW_THREADS];
	struct cw_reader r = { .m = { .strict = true } };
	pthread_t th[CW_THREADS], rth;
	__u64 seq = 0, k = CW_SENTINEL;
	int w, i;

	c.fd = map8("order", NKEYS, 0);
	ASSERT_LE(0, c.fd);
	w = watch_open(c.fd, HMAP_WATCH_VALUES, 16 << 20, &seq);
	ASSERT_LE(0, w);
	r.s = stream_new(w, 8, 8, true, seq);
	ASSERT_NE(NULL, r.s);
	ASSERT_EQ(0, pthread_create(&rth, NULL, cw_read, &r));
	for (i = 0; i < CW_THREADS; i++) {
		wr[i] = (struct cw_writer){ .c = &c, .idx = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cw_write, &wr[i]));
	}
	for (i = 0; i < CW_THREADS; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(0, hmap_add(c.fd, &k, 1, HMAP_ADD_CREATE, NULL, NULL));
	ASSERT_TRUE(join_within(rth, 60)) TH_LOG("the reader is stuck");
	EXPECT_EQ(0, c.errors);
	EXPECT_STREQ("", r.err);
	EXPECT_STREQ("", r.s->err);
	EXPECT_STREQ("", r.m.err);
	EXPECT_EQ(0, r.s->overflows);
	EXPECT_EQ(c.adds + 1, r.m.ops[HMAP_EVENT_UPDATE]);
	EXPECT_EQ(c.deletes, r.m.ops[HMAP_EVENT_DELETE]);
	EXPECT_EQ(c.adds + c.deletes + 1, r.s->records);
	EXPECT_MIRROR(&r.m, c.fd, true);
	ksft_print_msg("%ld adds and %ld deletes by %d threads, in order\n",
		       (long)c.adds, (long)c.deletes, CW_THREADS);
	free(r.s);
	close(w);
	close(c.fd);
}

/* ------------------------------------------------------------------ */
/* Lifetime. */

/* A forked child reads, from the same watch, what its parent writes. */
TEST_F(watch, survives_fork)
{
	__u64 k, seq = 0;
	int fd = map8("fork", 16, 0), w, status;
	pid_t pid;

	ASSERT_LE(0, fd);
	w = watch_open(fd, 0, 0, &seq);
	ASSERT_LE(0, w);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct stream *s = stream_new(w, 8, 8, false, seq);
		const struct hmap_event *ev;

		close(fd);
		for (k = 1; s && k <= 3; k++) {
			ev = next_ev(s, 10000);
			if (!ev || ev->op != HMAP_EVENT_UPDATE || ev_key(ev) != k)
				_exit(k);
		}
		_exit(!s || s->err[0] ? 10 : 0);
	}
	for (k = 1; k <= 3; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The child took them: one reader position, shared. */
	EXPECT_FALSE(readable(w, 0));
	close(w);
	close(fd);
	if (self->root)
		EXPECT_EQ(self->freed + 1, settle_frees());
}

/*
 * The watch holds the map as a map fd does: the map outlives its fds
 * while a watch is open, and goes when the watch closes.
 */
TEST_F(watch, keeps_the_map_alive)
{
	struct hmap_info info = { .size = sizeof(info) };
	const struct hmap_event *ev;
	struct stream *s;
	__u64 k = 9, seq = 0;
	int fd = map8("alive", 16, 0), fd2, w;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &info));
	fd2 = hmap_open_by_id(info.id, 0);
	ASSERT_LE(0, fd2);
	w = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, &seq);
	ASSERT_LE(0, w);
	close(fd);
	ASSERT_EQ(0, hmap_update(fd2, &k, &k, HMAP_ANY));
	s = stream_new(w, 8, 8, true, seq);
	ASSERT_NE(NULL, s);
	ev = next_ev(s, 1000);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(9, ev_key(ev));
	close(fd2);
	if (self->root)
		EXPECT_EQ(self->released, stat_num("maps_released"));
	EXPECT_EQ(NULL, next_ev(s, 0));
	EXPECT_STREQ("", s->err);
	close(w);
	free(s);
	if (self->root) {
		EXPECT_EQ(self->released + 1, stat_num("maps_released"));
		EXPECT_EQ(self->freed + 1, settle_frees());
	}
}

/*
 * close() of a watch fd while another thread is blocked in read() on it:
 * the read holds the file, so a write still wakes it with the record, and
 * the map goes once both are done.
 */
TEST_F(watch, close_under_a_blocked_reader)
{
	const struct hmap_event *ev;
	struct blocked b = { 0 };
	__u64 k = 5, seq = 0;
	int fd = map8("closer", 16, 0);
	pthread_t th;

	ASSERT_LE(0, fd);
	b.fd = watch_open(fd, 0, 0, &seq);
	ASSERT_LE(0, b.fd);
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_read, &b));
	usleep(200000);
	close(b.fd);
	usleep(100000);
	EXPECT_EQ(0, atomic_load(&b.done));
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_TRUE(join_within(th, 10)) TH_LOG("the blocked read() never woke");
	ASSERT_EQ(48, b.n);
	ev = (const void *)b.buf;
	EXPECT_EQ(HMAP_EVENT_UPDATE, ev->op);
	EXPECT_EQ(seq + 1, ev->seq);
	EXPECT_EQ(5, ev_key(ev));
	close(fd);
	if (self->root) {
		EXPECT_EQ(self->released + 1, stat_num("maps_released"));
		EXPECT_EQ(self->freed + 1, settle_frees());
	}
}

/* ------------------------------------------------------------------ */
/* Removals the map makes itself. */

/* An LRU map of 4 takes 10 keys: 6 EVICT records, each with its value. */
TEST_F(watch, lru_evictions)
{
	struct hmap_info info = { .size = sizeof(info) };
	struct mirror m = { .strict = true };
	struct stream *s;
	__u64 k, v, seq = 0;
	int fd = map8("evict", 4, HMAP_F_LRU), w;

	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, &seq);
	ASSERT_LE(0, w);
	for (k = 0; k < 10; k++) {
		v = k * 10;
		ASSERT_EQ(0, hmap_update(fd, &k, &v, HMAP_ANY));
	}
	s = stream_new(w, 8, 8, true, seq);
	ASSERT_NE(NULL, s);
	drain(s, &m, 0);
	EXPECT_STREQ("", s->err);
	EXPECT_STREQ("", m.err);
	EXPECT_EQ(10, m.ops[HMAP_EVENT_UPDATE]);
	EXPECT_EQ(6, m.ops[HMAP_EVENT_EVICT]);
	EXPECT_EQ(0, m.ops[HMAP_EVENT_DELETE]);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(6, info.evictions);
	EXPECT_EQ(4, info.count);
	EXPECT_MIRROR(&m, fd, true);
	free(s);
	close(w);
	close(fd);
}

/* Applies records until @op has come @count times, for up to 10 s. */
static bool await_ops(struct stream *s, struct mirror *m, int op, __u64 count)
{
	const struct hmap_event *ev;
	__u64 end = now_ns() + 10000000000ULL;

	while (m->ops[op] < count && now_ns() < end) {
		ev = next_ev(s, 100);
		if (ev)
			mirror_apply(m, ev);
	}
	return m->ops[op] >= count;
}

/*
 * A TTL map's entry past its deadline: one EXPIRE record with its value
 * and version, whether the sweep removes it or a command meets it, and
 * never a DELETE.
 */
TEST_F(watch, ttl_expirations)
{
	struct hmap_info info = { .size = sizeof(info) };
	struct mirror m = { .strict = true };
	struct stream *s;
	__u64 k, v, seq = 0, end;
	int fd = map8("expire", 16, HMAP_F_TTL), w;

	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, &seq);
	ASSERT_LE(0, w);
	s = stream_new(w, 8, 8, true, seq);
	ASSERT_NE(NULL, s);
	/* Left alone: the sweep removes it. */
	k = 1;
	v = 11;
	ASSERT_EQ(0, hmap_update_ttl(fd, &k, &v, HMAP_ANY, 200));
	EXPECT_TRUE(await_ops(s, &m, HMAP_EVENT_EXPIRE, 1))
		TH_LOG("no EXPIRE in 10 s: %s", s->err);
	EXPECT_STREQ("", m.err);
	/*
	 * Met by commands once gone: a failed delete, then an update. If the
	 * sweep has not removed them yet, these do: either way one EXPIRE
	 * each, before the new entry's UPDATE.
	 */
	for (k = 2; k <= 3; k++) {
		v = k * 11;
		ASSERT_EQ(0, hmap_update_ttl(fd, &k, &v, HMAP_ANY, 50));
	}
	end = now_ns() + 10000000000ULL;
	k = 3;
	while (!hmap_lookup(fd, &k, &v) && now_ns() < end)
		usleep(2000);
	k = 2;
	EXPECT_EQ(-ENOENT, hmap_delete(fd, &k));
	k = 3;
	v = 333;
	ASSERT_EQ(0, hmap_update(fd, &k, &v, HMAP_ANY));
	EXPECT_TRUE(await_ops(s, &m, HMAP_EVENT_EXPIRE, 3));
	await_ops(s, &m, HMAP_EVENT_UPDATE, 4);
	drain(s, &m, 0);
	EXPECT_STREQ("", s->err);
	EXPECT_STREQ("", m.err);
	EXPECT_EQ(3, m.ops[HMAP_EVENT_EXPIRE]);
	EXPECT_EQ(0, m.ops[HMAP_EVENT_DELETE]);
	EXPECT_EQ(4, m.ops[HMAP_EVENT_UPDATE]);
	ASSERT_EQ(0, hmap_info(fd, &info));
	EXPECT_EQ(3, info.expirations);
	EXPECT_MIRROR(&m, fd, true);
	free(s);
	close(w);
	close(fd);
}

/* ------------------------------------------------------------------ */

#define RANDOM_STEPS	10000
#define RANDOM_KEYS	24

struct model {
	bool present[NKEYS];
	__u64 value[NKEYS];
	__u64 version[NKEYS];	/* 0 when the command did not say */
	__u64 changes;		/* records the commands must have made */
};

static void model_put(struct model *md, __u64 k, __u64 v, __u64 ver)
{
	md->present[k] = true;
	md->value[k] = v;
	md->version[k] = ver;
	md->changes++;
}

/*
 * One random command, checked against the model. Returns "" or what went
 * wrong.
 */
static const char *random_step(int fd, struct model *md, __u64 *x, char *why,
			       size_t n)
{
	__u64 r = rng(x), k = r % RANDOM_KEYS, v = (r >> 40) % 1000;
	__u64 ver = 0, keys[4], vals[4], got;
	__u32 op = (r >> 16) % 100, cnt, i, mode;
	bool had = md->present[k];
	__s32 status[4];
	int ret, want;
	__s64 delta;

	why[0] = 0;
	if (op < 30) {
		mode = (r >> 24) % 3;
		mode = mode == 0 ? HMAP_ANY : mode == 1 ? HMAP_NOEXIST : HMAP_EXIST;
		want = mode == HMAP_NOEXIST && had ? -EEXIST :
		       mode == HMAP_EXIST && !had ? -ENOENT : 0;
		ret = hmap_update_version(fd, &k, &v, mode, &ver);
		if (!ret)
			model_put(md, k, v, ver);
	} else if (op < 40) {
		/* By version: the current one, or a stale one. */
		ver = md->version[k] - ((r >> 24) & 1);
		want = !had ? -ENOENT : ver != md->version[k] ? -ESTALE : 0;
		if (had && !md->version[k]) {
			/* A batch wrote it: ask the map its version. */
			if (hmap_lookup_version(fd, &k, &got, &ver))
				return "lookup_version";
			md->version[k] = ver;
			want = 0;
		}
		ret = hmap_update_version(fd, &k, &v, HMAP_IF_VERSION, &ver);
		if (!ret)
			model_put(md, k, v, ver);
	} else if (op < 52) {
		want = had ? 0 : -ENOENT;
		ret = hmap_delete(fd, &k);
		if (!ret) {
			md->present[k] = false;
			md->changes++;
		}
	} else if (op < 66) {
		mode = (r >> 24) & 1 ? HMAP_ADD_CREATE : 0;
		want = had || mode ? 0 : -ENOENT;
		/* Never 0, which might not count as a write. */
		delta = (__s64)(v % 6) - 2;
		delta += delta >= 0;
		ret = add_ver(fd, k, delta, mode, &got, &ver);
		if (!ret) {
			if (got != (had ? md->value[k] : 0) + delta)
				set_err(why, n, "add %llu: got %llu", k, got);
			model_put(md, k, got, ver);
		}
	} else if (op < 74) {
		got = (r >> 24) & 1 ? md->value[k] : md->value[k] + 1;
		want = !had ? -ENOENT : got != md->value[k] ? -ESTALE : 0;
		ret = hmap_cmpxchg(fd, &k, &got, &v, &ver);
		if (!ret)
			model_put(md, k, v, ver);
	} else if (op < 80) {
		want = had ? 0 : -ENOENT;
		ret = hmap_lookup_and_delete(fd, &k, &got);
		if (!ret) {
			if (got != md->value[k])
				set_err(why, n, "lookup_and_delete %llu: %llu", k, got);
			md->present[k] = false;
			md->changes++;
		}
	} else if (op < 89) {
		cnt = 1 + (r >> 24) % 4;
		mode = (r >> 28) % 3;
		mode = mode == 0 ? HMAP_ANY : mode == 1 ? HMAP_NOEXIST : HMAP_EXIST;
		for (i = 0; i < cnt; i++) {
			keys[i] = rng(x) % RANDOM_KEYS;
			vals[i] = v + i;
		}
		ret = hmap_update_batch(fd, keys, vals, status, &cnt, mode,
					HMAP_BATCH_CONTINUE);
		want = 0;
		for (i = 0; !ret && i < cnt; i++) {
			k = keys[i];
			want = mode == HMAP_NOEXIST && md->present[k] ? -EEXIST :
			       mode == HMAP_EXIST && !md->present[k] ? -ENOENT : 0;
			if (status[i] != want) {
				set_err(why, n, "update_batch %llu: %d, not %d",
					k, status[i], want);
				break;
			}
			if (!want)
				model_put(md, k, vals[i], 0);
		}
		want = 0;
	} else if (op < 97) {
		cnt = 1 + (r >> 24) % 4;
		for (i = 0; i < cnt; i++)
			keys[i] = rng(x) % RANDOM_KEYS;
		ret = hmap_delete_batch(fd, keys, status, &cnt,
					HMAP_BATCH_CONTINUE);
		for (i = 0; !ret && i < cnt; i++) {
			k = keys[i];
			want = md->present[k] ? 0 : -ENOENT;
			if (status[i] != want) {
				set_err(why, n, "delete_batch %llu: %d, not %d",
					k, status[i], want);
				break;
			}
			if (!want) {
				md->present[k] = false;
				md->changes++;
			}
		}
		want = 0;
	} else {
		for (i = 0, cnt = 0; i < NKEYS; i++)
			cnt += md->present[i];
		/* Only a map with entries: whether an empty one's makes a record is not said. */
		if (!cnt)
			return why;
		want = 0;
		ret = hmap_clear(fd);
		if (!ret) {
			memset(md->present, 0, sizeof(md->present));
			md->changes++;
		}
	}
	if (ret != want)
		set_err(why, n, "op %u key %llu: %d, expected %d", op, k, ret, want);
	return why;
}

/* The mirror built from the records against the model, in memory. */
static bool mirror_is_model(const struct mirror *m, const struct model *md,
			    char *why, size_t n)
{
	__u64 k;

	for (k = 0; k < NKEYS; k++) {
		if (m->present[k] != md->present[k] ||
		    (md->present[k] && (m->value[k] != md->value[k] ||
					(md->version[k] &&
					 m->version[k] != md->version[k])))) {
			set_err(why, n, "key %llu: mirror %d %llu v%llu, model %d %llu v%llu",
				k, m->present[k], m->value[k], m->version[k],
				md->present[k], md->value[k], md->version[k]);
			return false;
		}
	}
	return true;
}

/*
 * A long random sequence of writes of a few keys, checked against a model;
 * a reader, catching up now and then, mirrors the map from the records
 * alone. Whenever it has caught up, every command returned has its record
 * read: mirror == model. At the end, mirror == model == map. HMAP_SEED=N
 * replays a run.
 */
TEST_F_TIMEOUT(watch, random_writes_mirrored, 120)
{
	__u64 seed = test_seed(), x = seed, seq = 0;
	struct mirror m = { .strict = true };
	struct model md = { 0 };
	struct stream *s;
	char why[256] = "";
	int fd = map8("random", NKEYS, 0), w, i;

	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 1 << 20, &seq);
	ASSERT_LE(0, w);
	s = stream_new(w, 8, 8, true, seq);
	ASSERT_NE(NULL, s);
	for (i = 0; i < RANDOM_STEPS && !why[0]; i++) {
		random_step(fd, &md, &x, why, sizeof(why));
		if (why[0] || rng(&x) % 16)
			continue;
		drain(s, &m, 0);
		if (s->err[0] || m.err[0])
			break;
		mirror_is_model(&m, &md, why, sizeof(why));
	}
	if (!why[0] && !s->err[0] && !m.err[0]) {
		drain(s, &m, 0);
		mirror_is_model(&m, &md, why, sizeof(why));
	}
	EXPECT_STREQ("", why) TH_LOG("HMAP_SEED=%llu, step %d", seed, i);
	EXPECT_STREQ("", s->err) TH_LOG("HMAP_SEED=%llu, step %d", seed, i);
	EXPECT_STREQ("", m.err) TH_LOG("HMAP_SEED=%llu, step %d", seed, i);
	EXPECT_EQ(0, s->overflows);
	EXPECT_EQ(md.changes, s->records) TH_LOG("HMAP_SEED=%llu", seed);
	EXPECT_MIRROR(&m, fd, true);
	if (!_metadata->passed)
		TH_LOG("replay: HMAP_SEED=%llu ./watch_test", seed);
	free(s);
	close(w);
	close(fd);
}

/*
 * Records leave the buffer only once they reached the reader: a read into
 * a buffer whose second page faults returns what fit in the first, and the
 * rest comes with the next read, with no gap and no overflow record.
 */
TEST_F(watch, a_fault_loses_no_record)
{
	long page = sysconf(_SC_PAGESIZE);
	__u64 k, seq = 0, n, got = 0;
	const struct hmap_event *ev;
	int fd = map8("fault", 1024, 0), w;
	char *buf, *good;
	ssize_t r;

	ASSERT_LE(0, fd);
	buf = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mprotect(buf + page, 2 * page, PROT_NONE));
	good = malloc(1 << 20);
	ASSERT_NE(NULL, good);
	w = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, &seq);
	ASSERT_LE(0, w);
	/* 500 records of 48 bytes: several pages' worth. */
	for (k = 0; k < 500; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	r = rd(w, buf, 3 * page);
	ASSERT_LT(0, r);
	ASSERT_GE(page, r);
	ASSERT_EQ(0, r % 48);
	for (n = 0; n < (__u64)r / 48; n++) {
		ev = (const void *)(buf + n * 48);
		EXPECT_EQ(seq + 1 + got, ev->seq);
		got++;
	}
	/* Nothing fits the faulting page at all: EFAULT, and nothing goes. */
	EXPECT_EQ(-EFAULT, rd(w, buf + page, page));
	r = rd(w, good, 1 << 20);
	ASSERT_EQ((500 - got) * 48, r);
	for (n = 0; n < (__u64)r / 48; n++) {
		ev = (const void *)(good + n * 48);
		EXPECT_EQ(HMAP_EVENT_UPDATE, ev->op);
		EXPECT_EQ(seq + 1 + got, ev->seq);
		EXPECT_EQ(got, ev_key(ev));
		got++;
	}
	EXPECT_EQ(500, got);
	EXPECT_EQ(0, fdinfo_num(w, "lost"));
	close(w);
	close(fd);
	munmap(buf, 3 * page);
	free(good);
}

/*
 * A non-blocking read does not wait behind a blocking one: the blocked
 * reader does not hold the watch while it sleeps.
 */
TEST_F(watch, nonblocking_read_beside_a_blocked_one)
{
	struct blocked b = { 0 };
	int fd = map8("nbb", 16, 0), w;
	__u64 buf[64], k = 9, seq;
	pthread_t th;

	ASSERT_LE(0, fd);
	w = watch_open(fd, 0, 0, &seq);
	ASSERT_LE(0, w);
	b.fd = w;
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_read, &b));
	usleep(200000);
	EXPECT_EQ(0, atomic_load(&b.done));
	/* The blocked reader began blocking: only this read is not. */
	ASSERT_EQ(0, fcntl(w, F_SETFL, fcntl(w, F_GETFL) | O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, rd(w, buf, sizeof(buf)));
	ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_TRUE(join_within(th, 10));
	EXPECT_EQ(48, b.n);
	close(w);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* A read() held inside its copy to the caller. */

/*
 * A userfaultfd trap on the first of @pages pages: a read() into them stays
 * in copy_to_user(), between taking its records from the buffer and
 * taking them out, until the test releases it. The rest are plain memory.
 * Returns 0, or -errno.
 */
static int trap_pages(struct uffd_trap *t, int pages)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	t->psize = sysconf(_SC_PAGESIZE);
	t->page = mmap(NULL, pages * t->psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->page == MAP_FAILED)
		return -errno;
	t->uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (t->uffd < 0)
		return -errno;
	if (ioctl(t->uffd, UFFDIO_API, &api))
		return -errno;
	reg.range.start = (unsigned long)t->page;
	reg.range.len = t->psize;
	return ioctl(t->uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

struct trapped_read {
	int fd;
	void *buf;
	size_t len;
	ssize_t n;
};

static void *trapped_read(void *arg)
{
	struct trapped_read *r = arg;

	r->n = rd(r->fd, r->buf, r->len);
	return NULL;
}

/* Checks the @n bytes of records at @buf as next_ev() checks its reads'. */
static void stream_feed(struct stream *s, const void *buf, size_t n)
{
	const struct hmap_event *ev;
	size_t off;

	for (off = 0; off < n; off += ev->len) {
		ev = (const void *)((const char *)buf + off);
		if (n - off < HDR || ev->len < HDR || ev->len % 8 ||
		    ev->len > n - off) {
			s_fail(s, "record at byte %zu of %zu: len %u", off, n,
			       n - off < HDR ? 0 : ev->len);
			return;
		}
		check_record(s, ev);
	}
}

#define BIG_KEY		64	/* key-only records of 104 bytes */

/*
 * A loss counted in an overflow record while a read() copies that record
 * out, with a CLEAR after it (shorter than the records lost, so it fits
 * where they did not): the reader got the count as it was when copied, so
 * the record stays, and the next read() returns it again for the losses
 * counted since. Every number is accounted for: no gap in the sequence
 * that an overflow record does not fill exactly.
 */
TEST_F(watch, loss_counted_while_a_read_copies_out)
{
	__u32 rec = rec_len(BIG_KEY, 0), fit, room, i;
	struct trapped_read r = { 0 };
	const struct hmap_event *ev;
	unsigned char key[BIG_KEY] = { 0 };
	__u64 v = 1, seq = 0, changes = 0;
	struct uffd_trap t;
	struct stream *s;
	pthread_t th;
	int fd, w;

	if (geteuid())
		SKIP(return, "userfaultfd on kernel copies: needs root");
	ASSERT_EQ(0, trap_pages(&t, 1));
	fd = hmap_create("recount", BIG_KEY, 8, 256, NULL);
	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_NONBLOCK, 4096, &seq);
	ASSERT_LE(0, w);
	s = stream_new(w, BIG_KEY, 8, false, seq);
	ASSERT_NE(NULL, s);
	/*
	 * Records while there is room for one and an overflow record after
	 * it; then one more, lost: an overflow record ends the buffer.
	 */
	fit = (4096 - HDR) / rec;
	for (i = 0; i <= fit; i++, changes++) {
		key[0] = i;
		ASSERT_EQ(0, hmap_update(fd, key, &v, HMAP_ANY));
	}
	ASSERT_EQ(1, fdinfo_num(w, "lost"));
	ASSERT_EQ(fit * rec + HDR, fdinfo_num(w, "queued_bytes"));
	/*
	 * One record out: room for a CLEAR and an overflow record after it,
	 * not for a keyed record and one.
	 */
	ASSERT_EQ(rec, rd(w, s->buf, rec));
	stream_feed(s, s->buf, rec);
	room = 4096 - (fit - 1) * rec - HDR;
	ASSERT_LE(2 * HDR, room);
	ASSERT_GT(rec + HDR, room);

	/* A read() of the rest stops in its copy out, overflow record and all. */
	r = (struct trapped_read){ .fd = w, .buf = t.page, .len = t.psize };
	ASSERT_EQ(0, pthread_create(&th, NULL, trapped_read, &r));
	ASSERT_EQ(0, uffd_trap_wait(&t, 5000));
	/* Meanwhile three more are lost, counted in it; then a CLEAR fits. */
	for (i = 0; i < 3; i++, changes++) {
		key[0] = 100 + i;
		ASSERT_EQ(0, hmap_update(fd, key, &v, HMAP_ANY));
	}
	EXPECT_EQ(4, fdinfo_num(w, "lost"));
	ASSERT_EQ(0, hmap_clear(fd));
	changes++;
	ASSERT_EQ((fit - 1) * rec + 2 * HDR, fdinfo_num(w, "queued_bytes"))
		TH_LOG("the CLEAR did not fit after the overflow record");
	ASSERT_EQ(0, uffd_trap_release(&t, "", 0));
	ASSERT_TRUE(join_within(th, 10));

	/*
	 * It got the overflow record as it was, one lost; then (in this
	 * read() or the next) the same record again for the three lost
	 * since, and the CLEAR: nothing unaccounted for.
	 */
	ASSERT_LE((fit - 1) * rec + HDR, r.n);
	stream_feed(s, t.page, r.n);
	ev = (const void *)((char *)t.page + (fit - 1) * rec);
	EXPECT_EQ(HMAP_EVENT_OVERFLOW, ev->op);
	EXPECT_EQ(1, ev->lost);
	while ((ev = next_ev(s, 0)))
		;
	EXPECT_STREQ("", s->err);
	EXPECT_EQ(2, s->overflows);
	EXPECT_EQ(4, s->lost);
	EXPECT_EQ(changes, s->records + s->lost);
	EXPECT_EQ(seq + changes + 1, s->next);
	EXPECT_EQ(0, fdinfo_num(w, "queued_bytes"));
	free(s);
	close(w);
	close(fd);
	munmap(t.page, t.psize);
	close(t.uffd);
}

/*
 * A read() returns at most what was there when it began, however fast
 * writers append meanwhile: here they append while it copies its first
 * page's worth out, and the records they add wait for the next read().
 */
TEST_F(watch, a_read_ends_at_what_was_there)
{
	struct trapped_read r = { 0 };
	__u64 k, seq = 0, first, more;
	struct uffd_trap t;
	struct stream *s;
	pthread_t th;
	int fd, w;

	if (geteuid())
		SKIP(return, "userfaultfd on kernel copies: needs root");
	ASSERT_EQ(0, trap_pages(&t, 16));
	fd = map8("stop", 1024, 0);
	ASSERT_LE(0, fd);
	w = watch_open(fd, HMAP_WATCH_NONBLOCK, 1 << 20, &seq);
	ASSERT_LE(0, w);
	s = stream_new(w, 8, 8, false, seq);
	ASSERT_NE(NULL, s);
	/* More than one bounce buffer's worth: the read copies out twice. */
	first = 3 * t.psize / 2 / 48;
	more = 4 * t.psize / 48;
	for (k = 0; k < first; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	r = (struct trapped_read){
		.fd = w, .buf = t.page, .len = 16 * t.psize,
	};
	ASSERT_EQ(0, pthread_create(&th, NULL, trapped_read, &r));
	ASSERT_EQ(0, uffd_trap_wait(&t, 5000));
	for (k = first; k < first + more; k++)
		ASSERT_EQ(0, hmap_update(fd, &k, &k, HMAP_ANY));
	ASSERT_EQ(0, uffd_trap_release(&t, "", 0));
	ASSERT_TRUE(join_within(th, 10));
	EXPECT_EQ(first * 48, r.n);
	if (r.n > 0)
		stream_feed(s, t.page, r.n);
	/* The rest, in order, with the next reads. */
	while (next_ev(s, 0))
		;
	EXPECT_STREQ("", s->err);
	EXPECT_EQ(first + more, s->records);
	EXPECT_EQ(0, s->overflows);
	free(s);
	close(w);
	close(fd);
	munmap(t.page, 16 * t.psize);
	close(t.uffd);
}

/*
 * A map takes at most max_watches_per_map watches, whoever asks: each one
 * costs its writers an append per change.
 */
TEST_F(watch, watches_per_map_are_bounded)
{
	int fd = map8("cap", 16, 0), w[4], i;
	long long old = read_num(HMAP_PARAM("max_watches_per_map"), NULL);

	ASSERT_LE(0, fd);
	ASSERT_LT(0, old);
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_watches_per_map"), "3"));
	for (i = 0; i < 3; i++) {
		w[i] = watch_open(fd, 0, 0, NULL);
		EXPECT_LE(0, w[i]);
	}
	EXPECT_EQ(-ENOSPC, watch_open(fd, 0, 0, NULL));
	close(w[0]);
	w[0] = watch_open(fd, 0, 0, NULL);
	EXPECT_LE(0, w[0]);
	for (i = 0; i < 3; i++)
		close(w[i]);
	EXPECT_EQ(0, write_str(HMAP_PARAM("max_watches_per_map"), "64"));
	close(fd);
}

#define COPY_BUDGET	(1 << 20)	/* the module's HMAP_WATCH_COPY_BUDGET */

/*
 * Each change is copied to every watch under one lock: the largest records
 * of a map's watches add up to COPY_BUDGET at most. A map of 64 KiB values
 * takes 15 watches with values, then ENOSPC, and key-only watches still up
 * to max_watches_per_map; a map of small values takes that many with values.
 */
TEST_F(watch, value_copies_per_change_are_bounded)
{
	__u32 big = rec_len(8, HMAP_MAX_VALUE_SIZE), n;
	long long max = read_num(HMAP_PARAM("max_watches_per_map"), NULL);
	int fd = hmap_create("copies", 8, HMAP_MAX_VALUE_SIZE, 4, NULL);
	int small = map8("copies8", 16, 0), *w;
	__u64 k = 1, seq;
	char *v;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, small);
	ASSERT_LT(COPY_BUDGET / big + 1, max);
	w = calloc(max + 1, sizeof(*w));
	v = calloc(1, HMAP_MAX_VALUE_SIZE);
	ASSERT_TRUE(w && v);
	for (n = 0; n <= max; n++) {
		w[n] = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK,
				  0, NULL);
		if (w[n] < 0)
			break;
	}
	EXPECT_EQ(COPY_BUDGET / big, n);
	EXPECT_EQ(-ENOSPC, n <= max ? w[n] : 0);
	/* Without values, a record is a key: up to the count limit. */
	for (; n < max; n++) {
		w[n] = watch_open(fd, HMAP_WATCH_NONBLOCK, 0, NULL);
		ASSERT_LE(0, w[n]) TH_LOG("key-only watch %u: %d", n, w[n]);
	}
	EXPECT_EQ(-ENOSPC, watch_open(fd, HMAP_WATCH_NONBLOCK, 0, NULL));
	/* Each still gets every change. */
	ASSERT_EQ(0, hmap_update(fd, &k, v, HMAP_ANY));
	EXPECT_TRUE(readable(w[0], 0));
	EXPECT_TRUE(readable(w[max - 1], 0));
	/* A watch with values closed makes room for one. */
	close(w[0]);
	w[0] = watch_open(fd, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK, 0, NULL);
	EXPECT_LE(0, w[0]);
	for (n = 0; n < max; n++)
		if (w[n] >= 0)
			close(w[n]);

	/* Small values: the count limit alone. */
	for (n = 0; n < max; n++) {
		w[n] = watch_open(small, HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK,
				  4096, &seq);
		ASSERT_LE(0, w[n]) TH_LOG("watch %u: %d", n, w[n]);
	}
	EXPECT_EQ(-ENOSPC, watch_open(small, HMAP_WATCH_VALUES, 4096, NULL));
	for (n = 0; n < max; n++)
		close(w[n]);
	free(w);
	free(v);
	close(small);
	close(fd);
}

static int watch_max_bytes(void *arg)
{
	int ret = watch_open(*(int *)arg, 0, HMAP_WATCH_MAX_BYTES, NULL);

	return ret < 0 ? -ret : 0;
}

/*
 * A full map refuses a watch before charging its buffer: ENOSPC, not the
 * EDQUOT that charging one of HMAP_WATCH_MAX_BYTES gives a user first.
 */

struct share_arg {
	int go, done;		/* pipe ends: wait for go, report the count */
	__u32 flags;
};

/* As another user: open the map by name, watch until ENOSPC, hold them. */
static int watch_until_full(void *p)
{
	struct share_arg *a = p;
	int fd = hmap_open_by_name("watch_share", HMAP_F_RDONLY), n = 0, w;
	char c;

	if (fd < 0)
		return 1;
	while ((w = watch_open(fd, a->flags | HMAP_WATCH_NONBLOCK, 0, NULL)) >= 0)
		n++;
	if (w != -ENOSPC || write(a->done, &n, sizeof(n)) != sizeof(n))
		return 2;
	read(a->go, &c, 1);	/* keep the watches until the creator is done */
	return 0;
}

/*
 * A user other than the creator, and not exempt, may hold at most half of
 * a map's copy budget and half of its watches: readers of a shared map
 * cannot take every watch from the map's creator.
 */
TEST_F(watch, readers_take_half_the_watches)
{
	__u32 big = rec_len(8, HMAP_MAX_VALUE_SIZE);
	long long max = read_num(HMAP_PARAM("max_watches_per_map"), NULL);
	struct share_arg a = { 0 };
	int fd, go[2], done[2], n, w, mine = 0, ret, st;
	struct hmap_publish p = { .size = sizeof(p), .mode = 0644 };
	int held[256];
	struct stat dst;
	pid_t pid;

	if (!self->root)
		SKIP(return, "runs another user: needs root");
	ASSERT_LT(0, max);
	ASSERT_GE(128, max);
	/* The other user needs the device: open it up for this test. */
	ASSERT_EQ(0, stat(HMAP_DEV_PATH, &dst));
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
	for (int vals = 1; vals >= 0; vals--) {
		fd = vals ? hmap_create("share", 8, HMAP_MAX_VALUE_SIZE, 4, NULL) :
			    map8("share", 4, 0);
		ASSERT_LE(0, fd);
		strcpy(p.name, "watch_share");
		ASSERT_EQ(0, xioctl(fd, HMAP_IOC_PUBLISH, &p));
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, pipe(done));
		a.go = go[0];
		a.done = done[1];
		a.flags = vals ? HMAP_WATCH_VALUES : 0;
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(run_as(UNPRIV_UID, UNPRIV_UID, watch_until_full, &a));
		ASSERT_EQ(sizeof(n), read(done[0], &n, sizeof(n)));
		EXPECT_EQ(vals ? COPY_BUDGET / 2 / big : max / 2, n);
		/* The creator (root: exempt) still gets the other half. */
		for (mine = 0; mine < 2 * max; mine++) {
			w = watch_open(fd, a.flags | HMAP_WATCH_NONBLOCK, 0, NULL);
			if (w < 0)
				break;
			held[mine] = w;
		}
		EXPECT_EQ(-ENOSPC, w);
		EXPECT_EQ(vals ? COPY_BUDGET / big - n : max - n, mine);
		while (mine > 0)
			close(held[--mine]);
		ASSERT_EQ(1, write(go[1], "x", 1));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		EXPECT_EQ(0, WEXITSTATUS(st));
		ret = hmap_unpublish("watch_share");
		EXPECT_EQ(0, ret);
		close(fd);
		close(go[0]);
		close(go[1]);
		close(done[0]);
		close(done[1]);
	}
	chmod(HMAP_DEV_PATH, dst.st_mode & 07777);
}
TEST_F(watch, full_map_refuses_before_charging)
{
	long long old = read_num(HMAP_PARAM("max_watch_bytes_per_user"), NULL);
	int fd, w;

	if (geteuid())
		SKIP(return, "runs as another user: needs root");
	fd = map8("full", 16, 0);
	ASSERT_LE(0, fd);
	ASSERT_LE(HMAP_WATCH_MAX_BYTES, old);
	ASSERT_GT(2LL * HMAP_WATCH_MAX_BYTES, old);
	EXPECT_EQ(EDQUOT, run_as(UNPRIV_UID, UNPRIV_UID, watch_max_bytes, &fd));
	ASSERT_EQ(0, write_str(HMAP_PARAM("max_watches_per_map"), "1"));
	w = watch_open(fd, 0, 0, NULL);
	EXPECT_LE(0, w);
	EXPECT_EQ(ENOSPC, run_as(UNPRIV_UID, UNPRIV_UID, watch_max_bytes, &fd));
	EXPECT_EQ(0, write_str(HMAP_PARAM("max_watches_per_map"), "64"));
	close(w);
	close(fd);
}

TEST_HARNESS_MAIN
