/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reference model of one hmap map, and a rig that issues every map command
 * against the real map and compares each answer with the model: the errno,
 * every byte returned, the count and the INFO fields. Used by
 * size_matrix_test (every command over a matrix of key and value sizes) and
 * model_test (long seeded random sequences).
 *
 * Keys are drawn from a small universe of ids 0..nkeys-1. Every key byte is
 * in 0x01..0x7f and every value byte in 0x80..0xff, both pseudo-random, so a
 * key where a value should be (or the reverse), a zero fill or a shifted
 * copy never passes for the right content.
 *
 * Every buffer the kernel reads or writes is placed, one command in two,
 * right before a PROT_NONE page, so that reading or writing one byte too
 * many faults (EFAULT) instead of passing; the other commands put guard
 * bytes after it. Guard bytes before it are always there, and all of them
 * are checked after every command.
 *
 * The iteration order is fixed by a per-map random hash seed, so the model
 * cannot compute it: rig_learn_order() learns it once per map with
 * LOOKUP_BATCH, as a rank for each id, and every walk (GET_NEXT_KEY, the
 * lookup batches) is then checked against those ranks.
 *
 * Versions: the kernel numbers every write of an entry with a version of its
 * own choosing, so the model cannot predict them; it checks what the uapi
 * fixes instead. A write that returns a version returns one above every
 * version seen before in the map (so never 0 and never reused, even for a
 * key deleted and created again); a command that returns an entry's
 * current version returns the one its last write returned, or, if no
 * command told that one (UPDATE_BATCH, or a struct hmap_elem_op too short
 * for @version), one above every version seen before that write, and
 * different from the version of every other entry. Versions the model
 * knows are then used for HMAP_IF_VERSION, right and stale.
 *
 * Values of maps of 4 and 8 bytes may be numbers (HMAP_IOC_ADD, and
 * CMPXCHG to a number): the model then holds the number, and ADD on a
 * value written by UPDATE adds to the number its bytes make.
 *
 * Nothing here uses the harness: a check that fails writes what it expected
 * and what it got to rig->err and returns false, and the test reports it.
 */
#ifndef _HMAP_MODEL_H
#define _HMAP_MODEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>

#include "hmap_util.h"

/* splitmix64: a small, fast, seedable PRNG; the same seed, the same run. */
static inline __u64 splitmix64(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n), n > 0. */
static inline __u32 rnd_below(__u64 *s, __u32 n)
{
	return (__u32)(((splitmix64(s) >> 32) * n) >> 32);
}

/* Key @id: bytes 0 and 1 tell the id, the rest a pattern of it; 0x01..0x7f. */
static inline void key_fill(__u8 *p, __u32 ks, __u32 id)
{
	__u64 s = 0x6b6579ULL + id * 0x100000001b3ULL, x = 0;
	__u32 i;

	p[0] = 1 + id % 126;
	if (ks > 1)
		p[1] = 1 + id / 126 % 126;
	for (i = 2; i < ks; i++) {
		if (i == 2 || !(i & 7))
			x = splitmix64(&s);
		p[i] = 1 | (x & 0x7f);
		x >>= 8;
	}
}

/*
 * A value from @tag: 0x80..0xff. Each 8 bytes are a bijection of a counter
 * that starts at a hash of the tag, so no two words of one value are alike
 * and values of different tags differ (cheap: values go up to 64 KiB).
 */
static inline void val_fill(__u8 *p, __u32 vs, __u64 tag)
{
	__u64 s = tag, x = splitmix64(&s), y;
	__u32 i;

	for (i = 0; i < vs; i += 8) {
		x += 0x9e3779b97f4a7c15ULL;
		y = (x ^ (x >> 29)) | 0x8080808080808080ULL;
		memcpy(p + i, &y, vs - i < 8 ? vs - i : 8);
	}
}

/*
 * A buffer of up to @cap bytes that ends either right before a PROT_NONE
 * page or GB_GUARD guard bytes before it; GB_GUARD guard bytes always
 * precede it.
 */
#define GB_GUARD	64
#define GB_CANARY	0x3c
#define GB_POISON	0xe7

struct gbuf {
	__u8 *map;		/* the whole mapping */
	size_t maplen;
	__u8 *end;		/* start of the PROT_NONE page */
	__u8 *p;		/* the buffer as placed */
	size_t len;
	bool page_end;
};

static inline size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static inline int gbuf_init(struct gbuf *g, size_t cap)
{
	size_t pg = page_size();
	size_t data = (cap + 2 * GB_GUARD + pg - 1) / pg * pg;

	memset(g, 0, sizeof(*g));
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		return -errno;
	}
	g->end = g->map + data;
	if (mprotect(g->end, pg, PROT_NONE))
		return -errno;
	return 0;
}

static inline void gbuf_fini(struct gbuf *g)
{
	if (g->map)
		munmap(g->map, g->maplen);
	g->map = NULL;
}

/* Places a @len byte buffer, filled with GB_POISON, with its guards. */
static inline __u8 *gbuf_place(struct gbuf *g, size_t len, bool page_end)
{
	g->len = len;
	g->page_end = page_end;
	g->p = g->end - len - (page_end ? 0 : GB_GUARD);
	memset(g->p - GB_GUARD, GB_CANARY, GB_GUARD);
	memset(g->p, GB_POISON, len);
	if (!page_end)
		memset(g->p + len, GB_CANARY, GB_GUARD);
	return g->p;
}

/* Whether the guard bytes around the buffer are intact. */
static inline bool gbuf_guards_ok(const struct gbuf *g)
{
	size_t i;

	for (i = 0; i < GB_GUARD; i++)
		if (g->p[-1 - (long)i] != GB_CANARY ||
		    (!g->page_end && g->p[g->len + i] != GB_CANARY))
			return false;
	return true;
}

/*
 * The reference model: which ids are present, the value of each (the tag
 * its bytes are made from, or with num[] set, a number: see the top) and
 * what is known of its version.
 */
struct model {
	__u32 ks, vs, max_entries, nkeys;
	__u8 *present;
	__u64 *tag;
	__u8 *num;		/* tag[] is the value as a number (vs 4 or 8) */
	__u64 *ver;		/* the entry's version; 0: not known */
	__u64 *ver_lo;		/* not known: it is above this */
	__u64 *ver_old;		/* a version the key had before, or 0 */
	__u64 maxver;		/* the highest version seen in the map */
	__u32 *rank;		/* iteration position of each id */
	__u32 *by_rank;		/* the id at each position */
	bool ordered;		/* rank is known */
	__u32 count;
	__u64 lookups, hits, updates, deletes, adds, cmpxchgs, conflicts;
};

/* A value as the model holds it: a tag, or a number. */
struct mval {
	__u64 tag;
	bool num;
};

/* The value of @tag. */
static inline struct mval mtag(__u64 tag)
{
	return (struct mval){ .tag = tag };
}

static inline struct mval m_val(const struct model *m, __u32 id)
{
	return (struct mval){ .tag = m->tag[id], .num = m->num[id] };
}

/* The entry was written, by a command that did not say its new version. */
static inline void m_written(struct model *m, __u32 id)
{
	if (m->ver[id])
		m->ver_old[id] = m->ver[id];
	m->ver[id] = 0;
	m->ver_lo[id] = m->maxver;
}

/* The entry went: its version is kept as an old one, for stale versions. */
static inline void m_gone(struct model *m, __u32 id)
{
	if (m->ver[id])
		m->ver_old[id] = m->ver[id];
	m->ver[id] = 0;
	m->present[id] = 0;
}

static inline int m_lookup(struct model *m, __u32 id, struct mval *v)
{
	m->lookups++;
	if (!m->present[id])
		return -ENOENT;
	m->hits++;
	*v = m_val(m, id);
	return 0;
}

/*
 * UPDATE of @id to @v; with HMAP_IF_VERSION the entry's version must be
 * @version, and must be known to the model (the caller sees to that).
 */
static inline int m_update_v(struct model *m, __u32 id, struct mval v, __u64 flags,
			     __u64 version)
{
	__u64 mode = flags & (HMAP_NOEXIST | HMAP_EXIST);

	if (flags & ~(HMAP_NOEXIST | HMAP_EXIST | HMAP_IF_VERSION) ||
	    mode == (HMAP_NOEXIST | HMAP_EXIST) ||
	    (flags & HMAP_IF_VERSION && mode == HMAP_NOEXIST))
		return -EINVAL;
	if (mode == HMAP_NOEXIST && m->present[id])
		return -EEXIST;
	if ((mode == HMAP_EXIST || flags & HMAP_IF_VERSION) && !m->present[id])
		return -ENOENT;
	if (flags & HMAP_IF_VERSION && m->ver[id] != version) {
		m->conflicts++;
		return -ESTALE;
	}
	if (!m->present[id]) {
		if (m->count >= m->max_entries)
			return -E2BIG;
		m->present[id] = 1;
		m->count++;
	}
	m->tag[id] = v.tag;
	m->num[id] = v.num;
	m_written(m, id);
	m->updates++;
	return 0;
}

static inline int m_update(struct model *m, __u32 id, __u64 tag, __u64 flags)
{
	return m_update_v(m, id, (struct mval){ .tag = tag }, flags, 0);
}

/* DELETE (LOOKUP_AND_DELETE if @v), maybe only if at version @version. */
static inline int m_delete_v(struct model *m, __u32 id, struct mval *v,
			     bool if_version, __u64 version)
{
	if (!m->present[id])
		return -ENOENT;
	if (if_version && m->ver[id] != version) {
		m->conflicts++;
		return -ESTALE;
	}
	if (v)
		*v = m_val(m, id);
	m_gone(m, id);
	m->count--;
	m->deletes++;
	return 0;
}

static inline int m_delete(struct model *m, __u32 id, struct mval *v)
{
	return m_delete_v(m, id, v, false, 0);
}

static inline void m_clear(struct model *m)
{
	__u32 id;

	for (id = 0; id < m->nkeys; id++)
		m_gone(m, id);
	m->count = 0;
}

/* The model's value of @id as the number a 4- or 8-byte value holds. */
static inline __u64 m_number(const struct model *m, __u32 id)
{
	__u8 b[8] = { 0 };
	__u32 v32;
	__u64 v64;

	if (m->num[id])
		return m->tag[id];
	if (m->vs != 4 && m->vs != 8)
		return 0;
	val_fill(b, m->vs, m->tag[id]);
	if (m->vs == 4) {
		memcpy(&v32, b, 4);
		return v32;
	}
	memcpy(&v64, b, 8);
	return v64;
}

/* ADD: *@old and *@new are the value before and after, zero-extended. */
static inline int m_add(struct model *m, __u32 id, __s64 delta, __u32 flags,
			__u64 *old, __u64 *new)
{
	__u64 mask = m->vs == 4 ? 0xffffffffULL : ~0ULL;

	if (flags & ~HMAP_ADD_CREATE)
		return -EINVAL;
	if (m->vs != 4 && m->vs != 8)
		return -EOPNOTSUPP;
	if (!m->present[id]) {
		if (!(flags & HMAP_ADD_CREATE))
			return -ENOENT;
		if (m->count >= m->max_entries)
			return -E2BIG;
		m->present[id] = 1;
		m->count++;
		*old = 0;
	} else {
		*old = m_number(m, id);
	}
	*new = (*old + (__u64)delta) & mask;
	m->tag[id] = *new;
	m->num[id] = 1;
	m_written(m, id);
	m->adds++;
	return 0;
}

/* CMPXCHG, @equal telling whether the expected bytes are the entry's. */
static inline int m_cmpxchg(struct model *m, __u32 id, bool equal, struct mval desired)
{
	if (!m->present[id])
		return -ENOENT;
	if (!equal) {
		m->conflicts++;
		return -ESTALE;
	}
	m->tag[id] = desired.tag;
	m->num[id] = desired.num;
	m_written(m, id);
	m->cmpxchgs++;
	return 0;
}

/* The first present id after @from in iteration order (-1: from the start); -1 if none. */
static inline int m_next(const struct model *m, int from)
{
	__u32 pos = from < 0 ? 0 : m->rank[from] + 1;

	for (; pos < m->nkeys; pos++)
		if (m->present[m->by_rank[pos]])
			return m->by_rank[pos];
	return -1;
}

/* How the status array of a change batch is passed. */
enum {
	ST_NONE,		/* no status array */
	ST_ALIGNED,
	ST_UNALIGNED,		/* at an odd address (spec: need not be aligned) */
};

#define RIG_VCACHE	16

/*
 * The buffers, mapped once per process and reused by every rig: mapping
 * and unmapping them for each map costs more than the map's commands under
 * emulation (each munmap is a TLB shootdown).
 */
struct rig_bufs {
	size_t kcap, vcap, room;
	struct gbuf kin, vin, vout, kout, cin, cout, bkeys, bvals, bstat, arg;
	__u8 *exp, *vcache, *sent;
};

/* Room for any argument struct the rig builds itself. */
#define RIG_ARG_CAP	128

/* What a version field holds where the kernel must not write one. */
#define VER_POISON	0x5eed5eed5eed5eedULL

/* The size of struct hmap_elem_op before @version. */
#define ELEM_OP_SIZE_V0	offsetof(struct hmap_elem_op, version)

static struct rig_bufs rig_bufs;

static inline void rig_bufs_release(void)
{
	struct rig_bufs *b = &rig_bufs;

	gbuf_fini(&b->kin);
	gbuf_fini(&b->vin);
	gbuf_fini(&b->vout);
	gbuf_fini(&b->kout);
	gbuf_fini(&b->cin);
	gbuf_fini(&b->cout);
	gbuf_fini(&b->bkeys);
	gbuf_fini(&b->bvals);
	gbuf_fini(&b->bstat);
	gbuf_fini(&b->arg);
	free(b->exp);
	free(b->vcache);
	free(b->sent);
	memset(b, 0, sizeof(*b));
}

/*
 * Makes the buffers big enough for keys of @ks bytes, values of @vs bytes
 * and batches of @room entries. Call it with the largest sizes first to map
 * them only once. Returns 0 or -errno.
 */
static inline int rig_reserve(__u32 ks, __u32 vs, __u32 room)
{
	struct rig_bufs *b = &rig_bufs;
	size_t kcap, vcap;
	int ret;

	if (b->exp && ks <= b->kcap && vs <= b->vcap && room <= b->room)
		return 0;
	kcap = ks > b->kcap ? ks : b->kcap;
	vcap = vs > b->vcap ? vs : b->vcap;
	room = room > b->room ? room : b->room;
	rig_bufs_release();
	b->kcap = kcap;
	b->vcap = vcap;
	b->room = room;
	ret = gbuf_init(&b->kin, kcap);
	ret = ret ?: gbuf_init(&b->vin, vcap);
	ret = ret ?: gbuf_init(&b->vout, vcap);
	ret = ret ?: gbuf_init(&b->kout, kcap);
	ret = ret ?: gbuf_init(&b->cin, kcap);
	ret = ret ?: gbuf_init(&b->cout, kcap);
	ret = ret ?: gbuf_init(&b->bkeys, room * kcap);
	ret = ret ?: gbuf_init(&b->bvals, room * vcap);
	ret = ret ?: gbuf_init(&b->bstat, room * sizeof(__s32) + 1);
	ret = ret ?: gbuf_init(&b->arg, RIG_ARG_CAP);
	if (!ret) {
		b->exp = malloc(kcap > vcap ? kcap : vcap);
		b->vcache = malloc(RIG_VCACHE * vcap);
		b->sent = malloc(vcap);
		if (!b->exp || !b->vcache || !b->sent)
			ret = -ENOMEM;
	}
	if (ret)
		rig_bufs_release();
	return ret;
}

struct rig {
	int fd, rofd;
	__u32 ks, vs, max_entries, hint, map_flags, nkeys, room_max;
	struct model m;
	struct gbuf kin, vin, vout, kout, cin, cout, bkeys, bvals, bstat; /* rig_bufs' */
	struct gbuf arg;	/* argument structs the rig builds (rig_bufs') */
	__u8 *exp;		/* room for one key or value, expected bytes */
	__u8 *sent;		/* room for one value: what a command was given */
	__u8 *vcache;		/* RIG_VCACHE values, expanded from their tags */
	__u8 numval[8];		/* a number value, as bytes */
	__u64 vtag[RIG_VCACHE];
	bool vvalid[RIG_VCACHE];
	__u32 id;		/* INFO.id at creation */
	__u32 buckets0;		/* INFO.buckets at creation */
	__u64 bytes0;		/* INFO.bytes at creation */
	unsigned long ops;	/* commands issued */
	bool page_end;		/* placement of this command's buffers */
	char what[160];		/* the command being checked */
	char last[160];		/* the last command other than INFO */
	char err[768];		/* the first mismatch */
	char note[768];		/* the first deferred mismatch, see rig_note() */
};

static inline bool rig_fail(struct rig *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes "command #N WHAT: " and the message into @buf, if still empty. */
static inline void rig_vmsg(struct rig *r, char *buf, size_t size,
			    const char *fmt, va_list ap)
{
	int n;

	if (buf[0])
		return;
	n = snprintf(buf, size, "command #%lu %s: ", r->ops, r->what);
	if (n < 0 || n >= (int)size)
		return;
	vsnprintf(buf + n, size - n, fmt, ap);
}

static inline bool rig_fail(struct rig *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rig_vmsg(r, r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return false;
}

/* Starts a command: alternates the placement, names it for messages. */
static inline void rig_begin(struct rig *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void rig_begin(struct rig *r, const char *fmt, ...)
{
	va_list ap;

	r->ops++;
	r->page_end = r->ops & 1;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	if (strncmp(r->what, "INFO", 4))
		memcpy(r->last, r->what, sizeof(r->last));
}

/*
 * Records a mismatch that does not make the model diverge (an INFO field
 * the spec fixes but nothing else depends on), so that the run goes on and
 * finds what else differs. The test fails on it at the end.
 */
static inline void rig_note(struct rig *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void rig_note(struct rig *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rig_vmsg(r, r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

static inline const char *errname(int err)
{
	switch (-err) {
	case 0: return "0";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case E2BIG: return "E2BIG";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EINTR: return "EINTR";
	case EBADFD: return "EBADFD";
	case ESTALE: return "ESTALE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return strerror(-err);
	}
}

static inline bool rig_ret(struct rig *r, int want, int got)
{
	if (want == got)
		return true;
	return rig_fail(r, "returned %s (%d), expected %s", errname(got), got,
			errname(want));
}

/* Which universe id @p holds, or -1. For messages. */
static inline int rig_key_id(struct rig *r, const __u8 *p)
{
	__u32 id;

	for (id = 0; id < r->nkeys; id++) {
		key_fill(r->exp, r->ks, id);
		if (!memcmp(r->exp, p, r->ks))
			return id;
	}
	return -1;
}

/* @p holds key @id. */
static inline bool rig_key_is(struct rig *r, const __u8 *p, int id, const char *where)
{
	__u32 i;

	key_fill(r->exp, r->ks, id);
	if (!memcmp(r->exp, p, r->ks))
		return true;
	for (i = 0; i < r->ks && p[i] == r->exp[i]; i++)
		;
	return rig_fail(r, "%s: expected key %d, got key %d (first bad byte %u: 0x%02x, expected 0x%02x)",
			where, id, rig_key_id(r, p), i, p[i], r->exp[i]);
}

/* The value of @tag, expanded once and kept while it is in use. */
static inline const __u8 *rig_val(struct rig *r, __u64 tag)
{
	unsigned int slot = (tag ^ tag >> 32) % RIG_VCACHE;
	__u8 *v = r->vcache + (size_t)slot * r->vs;

	if (!r->vvalid[slot] || r->vtag[slot] != tag) {
		val_fill(v, r->vs, tag);
		r->vtag[slot] = tag;
		r->vvalid[slot] = true;
	}
	return v;
}

/* The bytes of model value @v. */
static inline const __u8 *rig_mval(struct rig *r, struct mval v)
{
	__u32 v32 = v.tag;

	if (!v.num)
		return rig_val(r, v.tag);
	if (r->vs == 4)
		memcpy(r->numval, &v32, 4);
	else
		memcpy(r->numval, &v.tag, 8);
	return r->numval;
}

/* The bytes of the model's value of @id. */
static inline const __u8 *rig_id_val(struct rig *r, __u32 id)
{
	return rig_mval(r, m_val(&r->m, id));
}

/* @p holds the value bytes @exp. */
static inline bool rig_bytes_are(struct rig *r, const __u8 *p, const __u8 *exp,
				 const char *where)
{
	__u32 i;

	if (!memcmp(exp, p, r->vs))
		return true;
	for (i = 0; i < r->vs && p[i] == exp[i]; i++)
		;
	return rig_fail(r, "%s: value wrong from byte %u of %u: 0x%02x, expected 0x%02x%s",
			where, i, r->vs, p[i], exp[i],
			p[i] == GB_POISON ? " (never written)" :
			p[i] < 0x80 ? " (a key byte?)" : "");
}

/* @p holds the value of @tag. */
static inline bool rig_val_is(struct rig *r, const __u8 *p, __u64 tag, const char *where)
{
	return rig_bytes_are(r, p, rig_val(r, tag), where);
}

/* @p holds model value @v. */
static inline bool rig_mval_is(struct rig *r, const __u8 *p, struct mval v,
			       const char *where)
{
	return rig_bytes_are(r, p, rig_mval(r, v), where);
}

/* @p holds the model's value of @id. */
static inline bool rig_id_val_is(struct rig *r, const __u8 *p, __u32 id, const char *where)
{
	return rig_mval_is(r, p, m_val(&r->m, id), where);
}

/*
 * A write of @id returned version @v: it must be above every version seen
 * before in the map. The model knows it from now on.
 */
static inline bool rig_new_version(struct rig *r, __u32 id, __u64 v, const char *where)
{
	struct model *m = &r->m;

	if (v <= m->maxver)
		return rig_fail(r, "%s: new version %llu, not above %llu, the highest seen before",
				where, (unsigned long long)v, (unsigned long long)m->maxver);
	m->ver[id] = v;
	m->maxver = v;
	return true;
}

/*
 * A command returned @v as the current version of present entry @id: the
 * one its last write returned, or if that was not told, one above every
 * version seen before that write and unlike any other entry's.
 */
static inline bool rig_cur_version(struct rig *r, __u32 id, __u64 v, const char *where)
{
	struct model *m = &r->m;
	__u32 j;

	if (m->ver[id]) {
		if (v == m->ver[id])
			return true;
		return rig_fail(r, "%s: version %llu, expected %llu (no write since)%s",
				where, (unsigned long long)v,
				(unsigned long long)m->ver[id],
				v == VER_POISON ? " (never written)" : "");
	}
	if (v <= m->ver_lo[id])
		return rig_fail(r, "%s: version %llu, not above %llu, the highest seen before the entry's last write",
				where, (unsigned long long)v,
				(unsigned long long)m->ver_lo[id]);
	for (j = 0; j < m->nkeys; j++)
		if (j != id && m->present[j] && m->ver[j] == v)
			return rig_fail(r, "%s: version %llu, the version of key %u too",
					where, (unsigned long long)v, j);
	m->ver[id] = v;
	if (v > m->maxver)
		m->maxver = v;
	return true;
}

static inline bool rig_guards(struct rig *r, const struct gbuf *g, const char *name)
{
	if (gbuf_guards_ok(g))
		return true;
	return rig_fail(r, "the bytes around %s (%zu bytes) were overwritten",
			name, g->len);
}

static inline void *rig_key(struct rig *r, struct gbuf *g, __u32 id)
{
	__u8 *p = gbuf_place(g, r->ks, r->page_end);

	key_fill(p, r->ks, id);
	return p;
}

static inline void rig_fini(struct rig *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->rofd >= 0)
		close(r->rofd);
	free(r->m.present);
	free(r->m.tag);
	free(r->m.num);
	free(r->m.ver);
	free(r->m.ver_lo);
	free(r->m.ver_old);
	free(r->m.rank);
	free(r->m.by_rank);
	r->fd = -1;
	r->rofd = -1;
	r->exp = NULL;
	r->sent = NULL;
	r->vcache = NULL;
	r->m.present = NULL;
	r->m.tag = NULL;
	r->m.num = NULL;
	r->m.ver = NULL;
	r->m.ver_lo = NULL;
	r->m.ver_old = NULL;
	r->m.rank = NULL;
	r->m.by_rank = NULL;
}

/*
 * Creates the map (and a read-only fd to it) and the buffers. @room_max is
 * the most entries a batch command will be given. Returns 0 or -errno,
 * with rig->err saying what failed.
 */
static inline int rig_init(struct rig *r, __u32 ks, __u32 vs, __u32 max_entries,
			   __u32 hint, __u32 map_flags, __u32 nkeys, __u32 room_max)
{
	struct hmap_create_opts o = {
		.sz = sizeof(o), .capacity_hint = hint, .flags = map_flags,
	};
	struct hmap_info info;
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->rofd = -1;
	r->ks = ks;
	r->vs = vs;
	r->max_entries = max_entries;
	r->hint = hint;
	r->map_flags = map_flags;
	r->nkeys = nkeys;
	r->m.ks = ks;
	r->m.vs = vs;
	r->m.max_entries = max_entries;
	r->m.nkeys = nkeys;
	r->room_max = room_max;
	r->m.present = calloc(nkeys, 1);
	r->m.tag = calloc(nkeys, sizeof(*r->m.tag));
	r->m.num = calloc(nkeys, 1);
	r->m.ver = calloc(nkeys, sizeof(*r->m.ver));
	r->m.ver_lo = calloc(nkeys, sizeof(*r->m.ver_lo));
	r->m.ver_old = calloc(nkeys, sizeof(*r->m.ver_old));
	r->m.rank = calloc(nkeys, sizeof(*r->m.rank));
	r->m.by_rank = calloc(nkeys, sizeof(*r->m.by_rank));
	if (!r->m.present || !r->m.tag || !r->m.num || !r->m.ver || !r->m.ver_lo ||
	    !r->m.ver_old || !r->m.rank || !r->m.by_rank) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -ENOMEM;
	}
	ret = rig_reserve(ks, vs, room_max);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "buffers: %s", strerror(-ret));
		return ret;
	}
	r->kin = rig_bufs.kin;
	r->vin = rig_bufs.vin;
	r->vout = rig_bufs.vout;
	r->kout = rig_bufs.kout;
	r->cin = rig_bufs.cin;
	r->cout = rig_bufs.cout;
	r->bkeys = rig_bufs.bkeys;
	r->bvals = rig_bufs.bvals;
	r->bstat = rig_bufs.bstat;
	r->arg = rig_bufs.arg;
	r->exp = rig_bufs.exp;
	r->sent = rig_bufs.sent;
	r->vcache = rig_bufs.vcache;
	r->fd = hmap_create("model", ks, vs, max_entries, &o);
	if (r->fd < 0) {
		snprintf(r->err, sizeof(r->err), "CREATE: %s", errname(r->fd));
		return r->fd;
	}
	ret = hmap_info(r->fd, &info);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "INFO: %s", errname(ret));
		return ret;
	}
	r->id = info.id;
	r->buckets0 = info.buckets;
	r->bytes0 = info.bytes;
	r->rofd = hmap_open_by_id(info.id, HMAP_F_RDONLY);
	if (r->rofd < 0) {
		snprintf(r->err, sizeof(r->err), "OPEN_BY_ID rdonly: %s", errname(r->rofd));
		return r->rofd;
	}
	/* Before anything is inserted: no bucket array, unless preallocated. */
	rig_begin(r, "INFO of the new map");
	if (map_flags & (HMAP_F_PREALLOC | HMAP_F_MMAP) ? !info.buckets : info.buckets)
		rig_note(r, "INFO.buckets is %u (a new map%s)", info.buckets,
			 map_flags & (HMAP_F_PREALLOC | HMAP_F_MMAP) ?
			 " with HMAP_F_PREALLOC has its bucket array from creation: spec item 5" :
			 " has no bucket array before its first insert");
	return 0;
}

/* Element bytes, as documented at HMAP_F_PREALLOC. */
static inline __u64 rig_elem_size(const struct rig *r)
{
	return 32 + (r->ks + 7) / 8 * 8 + (r->vs + 7) / 8 * 8;
}

static inline bool rig_info_eq(struct rig *r, const char *field, __u64 got, __u64 want)
{
	if (got == want)
		return true;
	return rig_fail(r, "INFO.%s is %llu, expected %llu", field,
			(unsigned long long)got, (unsigned long long)want);
}

#define INFO_EQ(field, want)	rig_info_eq(r, #field, info.field, want)

/* INFO, on the writable fd or the read-only one, against the model. */
static inline bool rig_info(struct rig *r, bool ro)
{
	/* HMAP_F_MMAP implies HMAP_F_PREALLOC, and INFO says both. */
	bool prealloc = r->map_flags & (HMAP_F_PREALLOC | HMAP_F_MMAP);
	struct hmap_info info;
	int ret;

	rig_begin(r, "INFO%s after %s", ro ? " (read-only fd)" : "", r->last);
	memset(&info, 0xa5, sizeof(info));
	ret = hmap_info(ro ? r->rofd : r->fd, &info);
	if (!rig_ret(r, 0, ret))
		return false;
	if (!INFO_EQ(count, r->m.count) || !INFO_EQ(key_size, r->ks) ||
	    !INFO_EQ(value_size, r->vs) || !INFO_EQ(max_entries, r->max_entries) ||
	    !INFO_EQ(capacity_hint, r->hint) ||
	    !INFO_EQ(map_flags, (ro ? HMAP_F_RDONLY : 0) | (prealloc ? HMAP_F_PREALLOC : 0) |
		     (r->map_flags & HMAP_F_MMAP)) ||
	    !INFO_EQ(id, r->id) || !INFO_EQ(lookups, r->m.lookups) ||
	    !INFO_EQ(hits, r->m.hits) || !INFO_EQ(updates, r->m.updates) ||
	    !INFO_EQ(deletes, r->m.deletes) || !INFO_EQ(adds, r->m.adds) ||
	    !INFO_EQ(cmpxchgs, r->m.cmpxchgs) || !INFO_EQ(conflicts, r->m.conflicts))
		return false;
	if (strcmp(info.name, "model"))
		return rig_fail(r, "INFO.name is \"%.32s\", expected \"model\"", info.name);
	if (prealloc && (info.buckets != r->buckets0 || info.resizes ||
			 info.bytes != r->bytes0)) {
		/* Spec item 5: sized for max_entries at creation, never resized, kept by CLEAR. */
		rig_note(r, "HMAP_F_PREALLOC map: INFO.buckets %u, resizes %llu, bytes %llu; at creation %u, 0, %llu (spec item 5: the bucket array is there from creation, never resized, kept by CLEAR)",
			 info.buckets, (unsigned long long)info.resizes,
			 (unsigned long long)info.bytes, r->buckets0,
			 (unsigned long long)r->bytes0);
	}
	if (r->m.count && !info.buckets)
		return rig_fail(r, "INFO.buckets is 0 with %u entries", r->m.count);
	if (info.bytes < r->m.count * rig_elem_size(r) + 8ULL * info.buckets)
		return rig_fail(r, "INFO.bytes %llu is less than %u entries of %llu bytes and %u buckets of 8",
				(unsigned long long)info.bytes, r->m.count,
				(unsigned long long)rig_elem_size(r), info.buckets);
	return true;
}

/*
 * Takes the lookup and hit counts from INFO after a command the spec lets
 * count either way (a LOOKUP that found its key but could not copy it out),
 * provided they moved by at most what that command could add.
 */
static inline bool rig_absorb_lookups(struct rig *r, __u64 max_more)
{
	struct hmap_info info;

	if (hmap_info(r->fd, &info))
		return rig_fail(r, "INFO failed");
	if (info.lookups < r->m.lookups || info.lookups > r->m.lookups + max_more ||
	    info.hits < r->m.hits || info.hits > r->m.hits + max_more)
		return rig_fail(r, "INFO lookups/hits %llu/%llu, expected %llu/%llu plus at most %llu",
				(unsigned long long)info.lookups,
				(unsigned long long)info.hits,
				(unsigned long long)r->m.lookups,
				(unsigned long long)r->m.hits,
				(unsigned long long)max_more);
	r->m.lookups = info.lookups;
	r->m.hits = info.hits;
	return true;
}

/*
 * Whether this command passes a struct hmap_elem_op with @version: two
 * commands in three do; the third passes the struct as it was before
 * @version, and the kernel must neither read nor write a version.
 */
static inline bool rig_with_version(const struct rig *r)
{
	return (r->ops >> 1) % 3 != 0;
}

/*
 * One entry command through a struct hmap_elem_op the rig places itself,
 * like the buffers (before a PROT_NONE page or guard bytes): of the older
 * size without @version, the kernel writing one faults or hits the guards.
 * *@version goes in, and comes back as the struct holds it.
 */
static inline int rig_elem_ioctl(struct rig *r, int fd, unsigned long cmd,
				 const void *key, void *value, __u64 flags,
				 bool with_version, __u64 *version)
{
	size_t size = with_version ? sizeof(struct hmap_elem_op) : ELEM_OP_SIZE_V0;
	struct hmap_elem_op *op;
	int ret;

	op = (struct hmap_elem_op *)gbuf_place(&r->arg, size, r->page_end);
	memset(op, 0, size);
	op->size = size;
	op->flags = flags;
	op->key = (uintptr_t)key;
	op->value = (uintptr_t)value;
	if (with_version)
		op->version = *version;
	ret = xioctl(fd, cmd, op);
	if (with_version)
		*version = op->version;
	return ret;
}

/* A version the kernel was not to write is as it was given. */
static inline bool rig_ver_kept(struct rig *r, __u64 got, __u64 given)
{
	if (got == given)
		return true;
	return rig_fail(r, "version written (%llu, was %llu) where the command writes none",
			(unsigned long long)got, (unsigned long long)given);
}

/* LOOKUP of @id, through a struct with @version if @with_ver. */
static inline bool rig_lookup_v(struct rig *r, __u32 id, bool with_ver, bool ro)
{
	__u64 version = VER_POISON;
	struct mval mv = { 0 };
	__u8 *k, *v;
	int want, ret;

	rig_begin(r, "LOOKUP key %u%s%s", id, with_ver ? "" : " (struct without version)",
		  ro ? " (read-only fd)" : "");
	k = rig_key(r, &r->kin, id);
	v = gbuf_place(&r->vout, r->vs, r->page_end);
	want = m_lookup(&r->m, id, &mv);
	ret = rig_elem_ioctl(r, ro ? r->rofd : r->fd, HMAP_IOC_LOOKUP, k, v, 0,
			     with_ver, &version);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->kin, "the key") ||
	    !rig_guards(r, &r->vout, "the value") ||
	    !rig_guards(r, &r->arg, "the argument struct"))
		return false;
	if (ret)
		return rig_ver_kept(r, version, VER_POISON);
	return rig_mval_is(r, v, mv, "value") &&
	       (!with_ver || rig_cur_version(r, id, version, "version"));
}

/* The placement and the struct size follow the command number. */
static inline bool rig_next_with_version(const struct rig *r)
{
	return ((r->ops + 1) >> 1) % 3 != 0;
}

static inline bool rig_lookup(struct rig *r, __u32 id, bool ro)
{
	return rig_lookup_v(r, id, rig_next_with_version(r), ro);
}

/* Makes sure the model knows the version of @id, if present, by a LOOKUP. */
static inline bool rig_know_version(struct rig *r, __u32 id)
{
	if (!r->m.present[id] || r->m.ver[id])
		return true;
	return rig_lookup_v(r, id, true, false);
}

static const char *const update_mode[] = { "ANY", "NOEXIST", "EXIST", "NOEXIST|EXIST" };

/*
 * UPDATE of @id to @v, in mode @flags (maybe with HMAP_IF_VERSION and
 * then @version; else @version is ignored), through a struct with
 * @version if @with_ver.
 */
static inline bool rig_update_v(struct rig *r, __u32 id, struct mval mv, __u64 flags,
				__u64 version, bool with_ver, bool ro)
{
	__u64 given = flags & HMAP_IF_VERSION ? version : VER_POISON, got = given;
	__u8 *k, *v;
	int want, ret;

	rig_begin(r, "UPDATE %s%s key %u%s%s%s", update_mode[flags & 3],
		  flags & HMAP_IF_VERSION ? "|IF_VERSION" : "", id,
		  with_ver ? "" : " (struct without version)",
		  flags & HMAP_IF_VERSION ? r->m.present[id] && version == r->m.ver[id] ?
		  " (right version)" : " (stale version)" : "",
		  ro ? " (read-only fd)" : "");
	k = rig_key(r, &r->kin, id);
	v = gbuf_place(&r->vin, r->vs, r->page_end);
	memcpy(v, rig_mval(r, mv), r->vs);
	if (ro)
		want = -EPERM;
	else if (flags & HMAP_IF_VERSION && !with_ver)
		want = -EINVAL;
	else
		want = m_update_v(&r->m, id, mv, flags, version);
	ret = rig_elem_ioctl(r, ro ? r->rofd : r->fd, HMAP_IOC_UPDATE, k, v, flags,
			     with_ver, &got);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->kin, "the key") ||
	    !rig_guards(r, &r->vin, "the value") ||
	    !rig_guards(r, &r->arg, "the argument struct"))
		return false;
	if (!with_ver)
		return true;
	if (!ret)
		return rig_new_version(r, id, got, "new version");
	if (ret == -EEXIST || ret == -ESTALE)
		return rig_cur_version(r, id, got, "current version");
	return rig_ver_kept(r, got, given);
}

static inline bool rig_update(struct rig *r, __u32 id, __u64 tag, __u64 flags, bool ro)
{
	struct mval mv = { .tag = tag };

	return rig_update_v(r, id, mv, flags, 0, rig_next_with_version(r), ro);
}

/* DELETE of @id; with @if_ver only at @version, through a struct with @version. */
static inline bool rig_delete_v(struct rig *r, __u32 id, bool if_ver, __u64 version,
				bool with_ver, bool ro)
{
	__u64 given = if_ver ? version : VER_POISON, got = given;
	__u8 *k;
	int want, ret;

	rig_begin(r, "DELETE%s key %u%s%s%s", if_ver ? " IF_VERSION" : "", id,
		  with_ver ? "" : " (struct without version)",
		  if_ver ? r->m.present[id] && version == r->m.ver[id] ?
		  " (right version)" : " (stale version)" : "",
		  ro ? " (read-only fd)" : "");
	k = rig_key(r, &r->kin, id);
	if (ro)
		want = -EPERM;
	else if (if_ver && !with_ver)
		want = -EINVAL;
	else
		want = m_delete_v(&r->m, id, NULL, if_ver, version);
	ret = rig_elem_ioctl(r, ro ? r->rofd : r->fd, HMAP_IOC_DELETE, k, NULL,
			     if_ver ? HMAP_IF_VERSION : 0, with_ver, &got);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->kin, "the key") ||
	    !rig_guards(r, &r->arg, "the argument struct"))
		return false;
	if (!with_ver)
		return true;
	if (ret == -ESTALE)
		return rig_cur_version(r, id, got, "current version");
	return rig_ver_kept(r, got, given);
}

static inline bool rig_delete(struct rig *r, __u32 id, bool ro)
{
	return rig_delete_v(r, id, false, 0, rig_next_with_version(r), ro);
}

static inline bool rig_lookup_and_delete(struct rig *r, __u32 id, bool ro)
{
	__u64 version = VER_POISON;
	struct mval mv = { 0 };
	bool with_ver;
	__u8 *k, *v;
	int want, ret;

	rig_begin(r, "LOOKUP_AND_DELETE key %u%s", id, ro ? " (read-only fd)" : "");
	with_ver = rig_with_version(r);
	k = rig_key(r, &r->kin, id);
	v = gbuf_place(&r->vout, r->vs, r->page_end);
	want = ro ? -EPERM : m_delete(&r->m, id, &mv);
	ret = rig_elem_ioctl(r, ro ? r->rofd : r->fd, HMAP_IOC_LOOKUP_AND_DELETE, k, v,
			     0, with_ver, &version);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->kin, "the key") ||
	    !rig_guards(r, &r->vout, "the value") ||
	    !rig_guards(r, &r->arg, "the argument struct") ||
	    !rig_ver_kept(r, version, VER_POISON))
		return false;
	return ret || rig_mval_is(r, v, mv, "value");
}

/*
 * ADD of @delta to @id. The output fields hold poison going in: the kernel
 * ignores them.
 */
static inline bool rig_add(struct rig *r, __u32 id, __s64 delta, __u32 flags, bool ro)
{
	__u64 old = 0, new = 0;
	struct hmap_add *a;
	__u8 *k;
	int want, ret;

	rig_begin(r, "ADD%s key %u delta %lld (%#llx)%s",
		  flags == HMAP_ADD_CREATE ? " CREATE" : flags ? " bad flags" : "",
		  id, (long long)delta, (unsigned long long)delta,
		  ro ? " (read-only fd)" : "");
	k = rig_key(r, &r->kin, id);
	a = (struct hmap_add *)gbuf_place(&r->arg, sizeof(*a), r->page_end);
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = flags;
	a->key = (uintptr_t)k;
	a->delta = delta;
	a->old_value = a->new_value = a->version = VER_POISON;
	want = ro ? -EPERM : m_add(&r->m, id, delta, flags, &old, &new);
	ret = xioctl(ro ? r->rofd : r->fd, HMAP_IOC_ADD, a);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->kin, "the key") ||
	    !rig_guards(r, &r->arg, "the argument struct"))
		return false;
	if (ret)
		return true;
	if (a->old_value != old || a->new_value != new)
		return rig_fail(r, "old_value %#llx new_value %#llx, expected %#llx %#llx",
				(unsigned long long)a->old_value,
				(unsigned long long)a->new_value,
				(unsigned long long)old, (unsigned long long)new);
	return rig_new_version(r, id, a->version, "new version");
}

/* How CMPXCHG's expected value relates to the entry's. */
enum {
	CX_RIGHT,	/* the entry's value */
	CX_FIRST,	/* the entry's, its first byte changed */
	CX_LAST,	/* the entry's, its last byte changed */
	CX_OTHER,	/* another value (which may happen to be the same) */
	CX_NKINDS
};

static const char *const cx_names[] = { "right", "first byte wrong", "last byte wrong",
					"another value" };

/*
 * CMPXCHG of @id from an expected value made as @how says (from @other for
 * CX_OTHER) to @desired. The expected value is in r->vout, since it is
 * written back; the desired one in r->vin.
 */
static inline bool rig_cmpxchg(struct rig *r, __u32 id, int how, struct mval other,
			       struct mval desired, bool ro)
{
	struct hmap_cmpxchg *c;
	__u8 *k, *e, *d;
	bool equal;
	int want, ret;

	rig_begin(r, "CMPXCHG key %u (%s), expected %s%s", id,
		  r->m.present[id] ? "present" : "absent", cx_names[how],
		  ro ? " (read-only fd)" : "");
	k = rig_key(r, &r->kin, id);
	e = gbuf_place(&r->vout, r->vs, r->page_end);
	d = gbuf_place(&r->vin, r->vs, r->page_end);
	memcpy(e, rig_mval(r, how == CX_OTHER || !r->m.present[id] ? other :
			   m_val(&r->m, id)), r->vs);
	if (how == CX_FIRST)
		e[0] ^= 0x01;
	else if (how == CX_LAST)
		e[r->vs - 1] ^= 0x40;
	memcpy(r->sent, e, r->vs);
	memcpy(d, rig_mval(r, desired), r->vs);
	equal = r->m.present[id] && !memcmp(e, rig_mval(r, m_val(&r->m, id)), r->vs);
	c = (struct hmap_cmpxchg *)gbuf_place(&r->arg, sizeof(*c), r->page_end);
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->key = (uintptr_t)k;
	c->expected = (uintptr_t)e;
	c->desired = (uintptr_t)d;
	c->version = VER_POISON;
	want = ro ? -EPERM : m_cmpxchg(&r->m, id, equal, desired);
	ret = xioctl(ro ? r->rofd : r->fd, HMAP_IOC_CMPXCHG, c);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->kin, "the key") ||
	    !rig_guards(r, &r->vout, "expected") || !rig_guards(r, &r->vin, "desired") ||
	    !rig_guards(r, &r->arg, "the argument struct") ||
	    !rig_mval_is(r, d, desired, "desired (read only)"))
		return false;
	if (ret == -ESTALE)
		return rig_id_val_is(r, e, id, "expected, on ESTALE") &&
		       rig_cur_version(r, id, c->version, "current version");
	if (!rig_bytes_are(r, e, r->sent, "expected (written, not on ESTALE)"))
		return false;
	if (ret)
		return rig_ver_kept(r, c->version, VER_POISON);
	return rig_new_version(r, id, c->version, "new version");
}

/*
 * LOOKUP_MULTI of @n keys @ids (repeats allowed). @st_mode ST_NONE passes
 * no status array: EINVAL.
 */
static inline bool rig_lookup_multi(struct rig *r, const __u32 *ids, __u32 n, int st_mode,
				    bool ro)
{
	__u8 *ks, *vs, *sb = NULL;
	__u32 count = n, i, j;
	struct mval mv;
	char where[48];
	int want, ret;
	__s32 st;

	rig_begin(r, "LOOKUP_MULTI of %u, status %s%s", n,
		  st_mode == ST_NONE ? "none" : st_mode == ST_ALIGNED ? "aligned" : "unaligned",
		  ro ? " (read-only fd)" : "");
	if (n > r->room_max || n > 64)
		return rig_fail(r, "%u keys beyond the test's buffers", n);
	ks = gbuf_place(&r->bkeys, (size_t)n * r->ks, r->page_end);
	vs = gbuf_place(&r->bvals, (size_t)n * r->vs, r->page_end);
	for (i = 0; i < n; i++)
		key_fill(ks + (size_t)i * r->ks, r->ks, ids[i]);
	if (st_mode != ST_NONE)
		sb = gbuf_place(&r->bstat, n * sizeof(__s32) + (st_mode == ST_UNALIGNED),
				r->page_end) + (st_mode == ST_UNALIGNED);
	want = st_mode == ST_NONE ? -EINVAL : 0;
	ret = hmap_lookup_multi(ro ? r->rofd : r->fd, ks, vs, (__s32 *)sb, &count);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->bkeys, "the keys") ||
	    !rig_guards(r, &r->bvals, "the values") ||
	    (sb && !rig_guards(r, &r->bstat, "the status array")))
		return false;
	if (ret)
		return true;
	if (count != n)
		return rig_fail(r, "count %u, expected %u", count, n);
	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "key %u of %u (key %u)", i, n, ids[i]);
		memcpy(&st, sb + i * sizeof(st), sizeof(st));
		want = m_lookup(&r->m, ids[i], &mv);
		if (st != want)
			return rig_fail(r, "%s: status %s (%d), expected %s", where,
					errname(st), st, errname(want));
		if (!want && !rig_mval_is(r, vs + (size_t)i * r->vs, mv, where))
			return false;
		for (j = 0; want && j < r->vs; j++)
			if (vs[(size_t)i * r->vs + j])
				return rig_fail(r, "%s: absent, yet byte %u of its value is 0x%02x, not 0",
						where, j, vs[(size_t)i * r->vs + j]);
	}
	return true;
}

/* GET_NEXT_KEY from key @from, or from the start if @from < 0. */
static inline bool rig_get_next_key(struct rig *r, int from, bool ro)
{
	__u8 *k = NULL, *nk;
	int want, ret;

	if (from < 0)
		rig_begin(r, "GET_NEXT_KEY from the start%s", ro ? " (read-only fd)" : "");
	else
		rig_begin(r, "GET_NEXT_KEY after key %d (%s)%s", from,
			  r->m.present[from] ? "present" : "absent",
			  ro ? " (read-only fd)" : "");
	if (from >= 0)
		k = rig_key(r, &r->kin, from);
	nk = gbuf_place(&r->kout, r->ks, r->page_end);
	want = m_next(&r->m, from);
	ret = hmap_get_next_key(ro ? r->rofd : r->fd, k, nk);
	if (!rig_ret(r, want < 0 ? -ENOENT : 0, ret) ||
	    (k && !rig_guards(r, &r->kin, "the key")) ||
	    !rig_guards(r, &r->kout, "next_key"))
		return false;
	return ret || rig_key_is(r, nk, want, "next_key");
}

/* A whole GET_NEXT_KEY walk: every key once, in order, then ENOENT. */
static inline bool rig_walk(struct rig *r, bool ro)
{
	int id = -1;
	__u32 n = 0;

	do {
		if (!rig_get_next_key(r, id, ro))
			return false;
		id = m_next(&r->m, id);
		if (++n > r->m.count + 1)
			return rig_fail(r, "walk longer than the map");
	} while (id >= 0);
	return true;
}

static inline bool rig_clear(struct rig *r, bool ro)
{
	int ret;

	rig_begin(r, "CLEAR%s", ro ? " (read-only fd)" : "");
	ret = hmap_clear(ro ? r->rofd : r->fd);
	if (!ro)
		m_clear(&r->m);
	return rig_ret(r, ro ? -EPERM : 0, ret);
}

/*
 * LOOKUP_BATCH, or LOOKUP_AND_DELETE_BATCH if @del, of @room entries after
 * key @from (from the start if @from < 0). @same passes the cursor in the
 * out_cursor buffer. Sets *@last to the last key returned, or @from if none.
 */
static inline bool rig_lookup_batch(struct rig *r, bool del, int from, __u32 room,
				    bool same, bool ro, int *last)
{
	__u8 *ic = NULL, *oc, *ks, *vs;
	__u32 count = room, n = 0, i;
	int ids[64], id = from, want, ret;
	char where[48];

	rig_begin(r, "%s room %u after %s%d%s%s", del ? "LOOKUP_AND_DELETE_BATCH" :
		  "LOOKUP_BATCH", room, from < 0 ? "the start " : "key ",
		  from, same ? " (one cursor buffer)" : "",
		  ro ? " (read-only fd)" : "");
	if (room > r->room_max || room > 64)
		return rig_fail(r, "room %u beyond the test's buffers", room);
	oc = gbuf_place(&r->cout, r->ks, r->page_end);
	if (from >= 0) {
		if (same) {
			ic = oc;
			key_fill(ic, r->ks, from);
		} else {
			ic = rig_key(r, &r->cin, from);
		}
	}
	ks = gbuf_place(&r->bkeys, (size_t)room * r->ks, r->page_end);
	vs = gbuf_place(&r->bvals, (size_t)room * r->vs, r->page_end);

	/* The model: the next @room keys after @from, if that many remain. */
	while (n < room && (id = m_next(&r->m, id)) >= 0)
		ids[n++] = id;
	if (del && ro)
		want = -EPERM;
	else if (!room)
		want = -EINVAL;
	else
		want = n < room ? -ENOENT : 0;

	ret = (del ? hmap_lookup_and_delete_batch : hmap_lookup_batch)
		(ro ? r->rofd : r->fd, ic, oc, ks, vs, &count);
	/* Both wrong: the uapi does not say which error comes first. */
	if (want == -EPERM && !room && ret == -EINVAL)
		want = -EINVAL;
	if (!rig_ret(r, want, ret))
		return false;
	if (!rig_guards(r, &r->cout, "out_cursor") ||
	    (ic && !same && !rig_guards(r, &r->cin, "in_cursor")) ||
	    !rig_guards(r, &r->bkeys, "the keys") ||
	    !rig_guards(r, &r->bvals, "the values"))
		return false;
	if (want && want != -ENOENT)
		return true;
	if (count != n)
		return rig_fail(r, "count %u, expected %u", count, n);
	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "entry %u of %u", i, n);
		if (!rig_key_is(r, ks + (size_t)i * r->ks, ids[i], where))
			return false;
		if (!rig_id_val_is(r, vs + (size_t)i * r->vs, ids[i], where))
			return false;
		if (del)
			m_delete(&r->m, ids[i], NULL);
	}
	if (n) {
		if (!rig_key_is(r, oc, ids[n - 1], "out_cursor"))
			return false;
	} else if (from >= 0 && !same) {
		/* Nothing returned: out_cursor untouched or the in_cursor. */
		key_fill(r->exp, r->ks, from);
		for (i = 0; i < r->ks && oc[i] == GB_POISON; i++)
			;
		if (i < r->ks && memcmp(oc, r->exp, r->ks))
			return rig_fail(r, "nothing returned, yet out_cursor holds key %d",
					rig_key_id(r, oc));
	}
	if (last)
		*last = n ? ids[n - 1] : from;
	return true;
}

/*
 * A change batch's @count and @status (@sb, may be NULL): the entries tried
 * and the result of each, nothing written past them (0xe7 fill).
 */
static inline bool rig_batch_status(struct rig *r, const __u8 *sb, __u32 n,
				    __u32 count, __u32 tried,
				    const __s32 *want_st)
{
	__s32 st;
	__u32 i;

	if (count != tried)
		return rig_fail(r, "count %u, expected %u", count, tried);
	for (i = 0; sb && i < n; i++) {
		memcpy(&st, sb + i * sizeof(st), sizeof(st));
		if (i < tried && st != want_st[i])
			return rig_fail(r, "status[%u] %s (%d), expected %s", i,
					errname(st), st, errname(want_st[i]));
		if (i >= tried && st != (__s32)0xe7e7e7e7)
			return rig_fail(r, "status[%u] written (%d) past the entries tried", i, st);
	}
	return true;
}

/* UPDATE_BATCH of @n keys @ids with values @tags. */
static inline bool rig_update_batch(struct rig *r, const __u32 *ids, const __u64 *tags,
				    __u32 n, __u64 elem_flags, __u32 flags, int st_mode,
				    bool ro)
{
	__u8 *ks, *vs, *sb = NULL;
	__u32 count = n, i, tried = n;
	__s32 want_st[64];
	int want = 0, ret;

	rig_begin(r, "UPDATE_BATCH %s of %u%s, status %s%s", update_mode[elem_flags], n,
		  flags & HMAP_BATCH_CONTINUE ? " CONTINUE" : "",
		  st_mode == ST_NONE ? "none" : st_mode == ST_ALIGNED ? "aligned" : "unaligned",
		  ro ? " (read-only fd)" : "");
	if (n > r->room_max || n > 64)
		return rig_fail(r, "%u entries beyond the test's buffers", n);
	ks = gbuf_place(&r->bkeys, (size_t)n * r->ks, r->page_end);
	vs = gbuf_place(&r->bvals, (size_t)n * r->vs, r->page_end);
	for (i = 0; i < n; i++) {
		key_fill(ks + (size_t)i * r->ks, r->ks, ids[i]);
		memcpy(vs + (size_t)i * r->vs, rig_val(r, tags[i]), r->vs);
	}
	if (st_mode != ST_NONE)
		sb = gbuf_place(&r->bstat, n * sizeof(__s32) + (st_mode == ST_UNALIGNED),
				r->page_end) + (st_mode == ST_UNALIGNED);
	if (ro) {
		want = -EPERM;
	} else {
		for (i = 0; i < n; i++) {
			want_st[i] = m_update(&r->m, ids[i], tags[i], elem_flags);
			if (want_st[i] && !(flags & HMAP_BATCH_CONTINUE)) {
				want = want_st[i];
				tried = i + 1;
				break;
			}
		}
	}
	ret = hmap_update_batch(ro ? r->rofd : r->fd, ks, vs, (__s32 *)sb, &count,
				elem_flags, flags);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->bkeys, "the keys") ||
	    !rig_guards(r, &r->bvals, "the values") ||
	    (sb && !rig_guards(r, &r->bstat, "the status array")))
		return false;
	if (ro)
		return true;
	return rig_batch_status(r, sb, n, count, tried, want_st);
}

/* DELETE_BATCH of @n keys @ids. */
static inline bool rig_delete_batch(struct rig *r, const __u32 *ids, __u32 n,
				    __u32 flags, int st_mode, bool ro)
{
	__u32 count = n, i, tried = n;
	__u8 *ks, *sb = NULL;
	__s32 want_st[64];
	int want = 0, ret;

	rig_begin(r, "DELETE_BATCH of %u%s, status %s%s", n,
		  flags & HMAP_BATCH_CONTINUE ? " CONTINUE" : "",
		  st_mode == ST_NONE ? "none" : st_mode == ST_ALIGNED ? "aligned" : "unaligned",
		  ro ? " (read-only fd)" : "");
	if (n > r->room_max || n > 64)
		return rig_fail(r, "%u entries beyond the test's buffers", n);
	ks = gbuf_place(&r->bkeys, (size_t)n * r->ks, r->page_end);
	for (i = 0; i < n; i++)
		key_fill(ks + (size_t)i * r->ks, r->ks, ids[i]);
	if (st_mode != ST_NONE)
		sb = gbuf_place(&r->bstat, n * sizeof(__s32) + (st_mode == ST_UNALIGNED),
				r->page_end) + (st_mode == ST_UNALIGNED);
	if (ro) {
		want = -EPERM;
	} else {
		for (i = 0; i < n; i++) {
			want_st[i] = m_delete(&r->m, ids[i], NULL);
			if (want_st[i] && !(flags & HMAP_BATCH_CONTINUE)) {
				want = want_st[i];
				tried = i + 1;
				break;
			}
		}
	}
	ret = hmap_delete_batch(ro ? r->rofd : r->fd, ks, (__s32 *)sb, &count, flags);
	if (!rig_ret(r, want, ret) || !rig_guards(r, &r->bkeys, "the keys") ||
	    (sb && !rig_guards(r, &r->bstat, "the status array")))
		return false;
	if (ro)
		return true;
	return rig_batch_status(r, sb, n, count, tried, want_st);
}

/*
 * The whole content, by LOOKUP_BATCH walks of @room: every key present,
 * once, in order, with its value; nothing else.
 */
static inline bool rig_check_content(struct rig *r, __u32 room)
{
	int last = -1, id;
	__u32 left;

	for (;;) {
		/* The call that finds fewer than @room keys left is the last. */
		for (id = last, left = 0; left < room && (id = m_next(&r->m, id)) >= 0;)
			left++;
		if (!rig_lookup_batch(r, false, last, room, false, false, &last))
			return false;
		if (left < room)
			return true;
	}
}

/*
 * Learns the iteration order of the whole key universe with LOOKUP_BATCH:
 * insert up to max_entries keys, walk them for their relative order, then
 * ask, for every other key, how many of them come after it. A key's rank
 * is the number of keys before it over all groups. The ranks must form a
 * permutation, or the order is not a total order of the keys. Leaves the
 * map empty (by DELETE_BATCH, not CLEAR, which waits for a grace period).
 */
static inline bool rig_learn_order(struct rig *r)
{
	__u32 *before = calloc(r->nkeys, sizeof(*before));
	__u32 *ids = calloc(r->nkeys, sizeof(*ids));
	__u64 *tags = calloc(r->nkeys, sizeof(*tags));
	__u8 *keys, *vals, *cur, *seen = calloc(r->nkeys, 1);
	__u32 g0, gn, i, j, count;
	bool ok = false;
	size_t cap;
	int ret;

	cap = r->max_entries < 64 ? r->max_entries : 64;
	if (cap > r->room_max)
		cap = r->room_max;
	if (!before || !ids || !tags || !seen) {
		rig_fail(r, "out of memory");
		goto out;
	}
	for (g0 = 0; g0 < r->nkeys; g0 += gn) {
		gn = r->nkeys - g0 < cap ? r->nkeys - g0 : cap;
		for (i = 0; i < gn; i++) {
			ids[i] = g0 + i;
			tags[i] = 0x1234 + g0 + i;
		}
		if (!rig_update_batch(r, ids, tags, gn, HMAP_NOEXIST, 0, ST_ALIGNED, false))
			goto out;
		/* Their relative order. */
		rig_begin(r, "LOOKUP_BATCH learning the order of keys %u..%u", g0, g0 + gn - 1);
		keys = gbuf_place(&r->bkeys, cap * r->ks, false);
		vals = gbuf_place(&r->bvals, cap * r->vs, false);
		cur = gbuf_place(&r->cout, r->ks, false);
		count = gn;
		ret = hmap_lookup_batch(r->fd, NULL, cur, keys, vals, &count);
		if (ret || count != gn) {
			rig_fail(r, "returned %s with %u of %u keys", errname(ret), count, gn);
			goto out;
		}
		for (i = 0; i < gn; i++) {
			int id = rig_key_id(r, keys + (size_t)i * r->ks);

			if (id < (int)g0 || id >= (int)(g0 + gn) || seen[id]) {
				rig_fail(r, "entry %u is key %d", i, id);
				goto out;
			}
			seen[id] = 1;
			before[id] += i;
		}
		/* Where each other key falls among them. */
		for (j = 0; j < r->nkeys; j++) {
			if (j >= g0 && j < g0 + gn)
				continue;
			key_fill(cur, r->ks, j);
			count = gn;
			ret = hmap_lookup_batch(r->fd, cur, cur, keys, vals, &count);
			if ((ret && ret != -ENOENT) || count > gn ||
			    (ret == -ENOENT) != (count < gn)) {
				rig_fail(r, "after key %u: returned %s with %u of %u keys",
					 j, errname(ret), count, gn);
				goto out;
			}
			before[j] += gn - count;
		}
		if (!rig_delete_batch(r, ids, gn, 0, ST_NONE, false))
			goto out;
	}
	memset(seen, 0, r->nkeys);
	for (i = 0; i < r->nkeys; i++) {
		if (before[i] >= r->nkeys || seen[before[i]]) {
			rig_fail(r, "the iteration order is not a total order (key %u at %u)",
				 i, before[i]);
			goto out;
		}
		seen[before[i]] = 1;
		r->m.rank[i] = before[i];
		r->m.by_rank[before[i]] = i;
	}
	r->m.ordered = true;
	ok = true;
out:
	free(before);
	free(ids);
	free(tags);
	free(seen);
	return ok;
}

#endif
