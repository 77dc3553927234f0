/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the kernel interfaces the hmap core uses, so that
 * kmod/hmap_table.c compiles unmodified into test programs (the pattern of
 * the kernel's tools/testing/radix-tree). RCU is liburcu's memb flavour;
 * spinlocks and rwsems are pthread locks.
 *
 * Allocations can be made to fail on purpose (shim_fail_nth) so that the
 * core's error paths are exercised without a VM.
 */
#ifndef _HMAP_SHIM_H
#define _HMAP_SHIM_H

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#define RCU_MEMBARRIER
#include <urcu.h>
#include <linux/types.h>

/* ---- compiler ---- */
#define __rcu
#define __force
#define __init
#define __exit
#define __must_check		__attribute__((warn_unused_result))
#ifndef __aligned
#define __aligned(x)		__attribute__((aligned(x)))
#endif
#ifndef noinline
#define noinline		__attribute__((__noinline__))
#endif
#ifndef __always_inline
#define __always_inline		inline __attribute__((always_inline))
#endif
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define EXPORT_SYMBOL_GPL(sym)	extern int __shim_export_##sym
#define EXPORT_SYMBOL(sym)	extern int __shim_export_##sym
#define EXPORT_SYMBOL_NS_GPL(sym, ns)	extern int __shim_export_##sym
#define BITS_PER_LONG		(8 * (int)sizeof(long))
#define BIT(n)			(1UL << (n))
#define barrier()		__asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define cmpxchg(p, o, n) ({						\
	__typeof__(*(p)) __old = (o);					\
	__atomic_compare_exchange_n((p), &__old, (n), false,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);\
	__old;								\
})
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define WARN_ON_ONCE(c)		shim_warn(!!(c), #c, __FILE__, __LINE__)
#define WARN_ON(c)		WARN_ON_ONCE(c)
#define might_sleep()		do { } while (0)
#define cpu_relax()		caa_cpu_relax()
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#define GENMASK(h, l)		((~0UL >> (BITS_PER_LONG - 1 - (h))) & (~0UL << (l)))
#define ffz(x)			((unsigned long)__builtin_ctzl(~(x)))
#define cond_resched()		do { } while (0)
#define lockdep_is_held(l)	1
/* ThreadSanitizer is not used on the core; the marking needs no effect. */
#define data_race(expr)		(expr)

/* ---- error pointers ---- */
#define MAX_ERRNO		4095
#define IS_ERR_VALUE(x)		((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE((unsigned long)ptr);
}

int shim_warn(int cond, const char *what, const char *file, int line);

/* ---- arithmetic ---- */
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define min_t(t, a, b)		((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)		((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define clamp_t(t, v, lo, hi)	min_t(t, max_t(t, v, lo), hi)
#define ALIGN(x, a)		(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define round_up(x, y)		ALIGN(x, y)
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define struct_size(p, member, n) \
	size_add(sizeof(*(p)), size_mul((n), sizeof(*(p)->member)))

static inline u64 div_u64(u64 n, u32 d)
{
	return n / d;
}

static inline size_t size_mul(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline size_t size_add(size_t a, size_t b)
{
	size_t r;

	return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	return n <= 1 ? 1 : 1UL << (BITS_PER_LONG - __builtin_clzl(n - 1));
}

#define ilog2(n)		(BITS_PER_LONG - 1 - __builtin_clzl(n))
#define is_power_of_2(n)	((n) != 0 && (((n) & ((n) - 1)) == 0))

static inline u32 bitrev32(u32 x)
{
	x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
	x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
	x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
	return __builtin_bswap32(x);
}

u32 jhash(const void *key, u32 length, u32 initval);
static inline u32 rol32(u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* lookup3's final mix, as the kernel's __jhash_final(). */
#define __jhash_final(a, b, c) do {					\
	c ^= b; c -= rol32(b, 14);					\
	a ^= c; a -= rol32(c, 11);					\
	b ^= a; b -= rol32(a, 25);					\
	c ^= b; c -= rol32(b, 16);					\
	a ^= c; a -= rol32(c, 4);					\
	b ^= a; b -= rol32(a, 14);					\
	c ^= b; c -= rol32(b, 24);					\
} while (0)

/*
 * The kernel's __jhash_nwords() and its users, inline as there: each seeds
 * with its own length in bytes, so jhash_1word() and jhash_2words() hash a
 * 4- or 8-byte key as jhash() does on a little-endian machine (which a
 * mapped map's readers rely on: see HMAP_MMAP_HASH_JHASH).
 */
static inline u32 __jhash_nwords(u32 a, u32 b, u32 c, u32 initval)
{
	a += initval;
	b += initval;
	c += initval;
	__jhash_final(a, b, c);
	return c;
}

static inline u32 jhash_3words(u32 a, u32 b, u32 c, u32 initval)
{
	return __jhash_nwords(a, b, c, initval + 0xdeadbeef + (3 << 2));
}

static inline u32 jhash_2words(u32 a, u32 b, u32 initval)
{
	return __jhash_nwords(a, b, 0, initval + 0xdeadbeef + (2 << 2));
}

static inline u32 jhash_1word(u32 a, u32 initval)
{
	return __jhash_nwords(a, 0, 0, initval + 0xdeadbeef + (1 << 2));
}

#define get_unaligned(p) ({						\
	__typeof__(*(p) + 0) __v;						\
	memcpy(&__v, (p), sizeof(__v));					\
	__v;								\
})
u32 get_random_u32(void);

/* CLOCK_MONOTONIC in ns, as the kernel's ktime_get_ns(). */
static inline u64 ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
unsigned int num_possible_cpus(void);

/* ---- atomics ---- */
typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;

#define atomic_read(v)		__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic_set(v, i)	__atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define atomic_inc(v)		((void)__atomic_add_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST))
#define atomic_dec(v)		((void)__atomic_sub_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST))
#define atomic_inc_return(v)	__atomic_add_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_dec_return(v)	__atomic_sub_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_dec_and_test(v)	(atomic_dec_return(v) == 0)
typedef struct { long long counter; } atomic64_t;
#define atomic64_read(v)		atomic_read(v)
#define atomic64_set(v, i)		atomic_set(v, i)
#define atomic64_add_return(i, v)	__atomic_add_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic64_inc_return(v)		atomic64_add_return(1, v)
#define atomic64_sub(i, v)		((void)__atomic_sub_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST))
#define atomic_long_read(v)	atomic_read(v)
#define atomic_long_inc(v)	atomic_inc(v)
#define atomic_long_add(i, v)	((void)__atomic_add_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST))

/* ---- locks ---- */
typedef pthread_mutex_t spinlock_t;
#define spin_lock_init(l)	pthread_mutex_init((l), NULL)
#define spin_lock(l)		pthread_mutex_lock(l)
#define spin_unlock(l)		pthread_mutex_unlock(l)
#define spin_lock_irqsave(l, f)	((void)(f), pthread_mutex_lock(l))
#define spin_unlock_irqrestore(l, f) ((void)(f), pthread_mutex_unlock(l))

/*
 * Wait queues: waiters poll, which is enough for tests where a wait lasts
 * a grace period at most.
 */
typedef struct { int unused; } wait_queue_head_t;
#define init_waitqueue_head(w)	((void)(w))
#define wake_up_all(w)		((void)(w))
#define wait_event(w, cond)	do { while (!(cond)) sched_yield(); } while (0)
/* No signals in the core tests: the wait always ends with @cond true. */
#define wait_event_killable(w, cond) ({ wait_event(w, cond); 0; })
#define wait_var_event(var, cond)	wait_event(var, cond)
#define wake_up_var(var)		((void)(var))
#define current				((void *)0)
#define fatal_signal_pending(task)	((void)(task), 0)

struct rw_semaphore {
	pthread_rwlock_t lock;
};

void init_rwsem(struct rw_semaphore *sem);
#define down_read(s)		pthread_rwlock_rdlock(&(s)->lock)
#define up_read(s)		pthread_rwlock_unlock(&(s)->lock)
#define down_write(s)		pthread_rwlock_wrlock(&(s)->lock)
#define up_write(s)		pthread_rwlock_unlock(&(s)->lock)

/* ---- memory ---- */
typedef unsigned int gfp_t;
#define GFP_KERNEL		0x1u
#define GFP_KERNEL_ACCOUNT	0x3u
#define __GFP_NOWARN		0x4u
#define __GFP_ZERO		0x8u

/*
 * Fault injection, in the manner of /proc/self/fail-nth: when set to N > 0,
 * the Nth allocation from now fails and the counter stops. shim_alloc_count
 * counts every allocation attempt.
 */
extern __thread int shim_fail_nth;
extern __thread long shim_alloc_count;

void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);
void *kvmalloc(size_t size, gfp_t gfp);
void kfree(const void *p);
void kvfree(const void *p);

/* Page-backed memory, as the kernel's vmalloc gives: what a map's image uses. */
#define PAGE_SIZE		4096UL
#define PAGE_ALIGN(x)		(((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
void *__vmalloc(unsigned long size, gfp_t gfp);
void vfree(const void *p);

/* Slab caches: malloc underneath, failing like kmalloc under shim_fail_nth. */
#define SLAB_ACCOUNT		0x1u
struct kmem_cache {
	size_t size;
};

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
				     unsigned int align, unsigned int flags,
				     void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *c);
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *c, void *p);

/* ---- RCU: liburcu provides read locks, pointers, call_rcu, barriers ---- */
#define RCU_INIT_POINTER(p, v)		((p) = (v))
#define rcu_dereference_raw(p)		rcu_dereference(p)
#define rcu_access_pointer(p)		READ_ONCE(p)
#define rcu_dereference_check(p, c)	rcu_dereference(p)
#define rcu_dereference_protected(p, c)	(p)

void shim_free_rcu(void *p);
#define kvfree_rcu(ptr, rhf)		shim_free_rcu(ptr)
#define kvfree_rcu_mightsleep(ptr)	shim_free_rcu(ptr)
#define kfree_rcu(ptr, rhf)		shim_free_rcu(ptr)

/*
 * Work after a grace period: the kernel runs it on a workqueue once the
 * grace period ends; here it runs in liburcu's call_rcu thread, which is
 * also a context that may block. Flushing waits for every callback queued
 * so far, so it also waits for the work.
 */
struct work_struct {
	void (*func)(struct work_struct *work);
};

struct rcu_work {
	struct work_struct work;
	struct rcu_head rcu;
};

struct workqueue_struct;
#define system_unbound_wq	((struct workqueue_struct *)NULL)
#define to_rcu_work(w)		container_of((w), struct rcu_work, work)
#define INIT_RCU_WORK(rw, f)	((rw)->work.func = (f))
bool queue_rcu_work(struct workqueue_struct *wq, struct rcu_work *rwork);
bool flush_rcu_work(struct rcu_work *rwork);

#endif /* _HMAP_SHIM_H */
