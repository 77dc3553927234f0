// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace implementations behind shim.h.
 */
#include <sys/random.h>
#include <unistd.h>

#include "shim.h"

__thread int shim_fail_nth;
__thread long shim_alloc_count;

int shim_warn(int cond, const char *what, const char *file, int line)
{
	if (cond) {
		fprintf(stderr, "WARNING: %s at %s:%d\n", what, file, line);
		abort();
	}
	return cond;
}

/* Bob Jenkins' lookup3 hash, the algorithm behind the kernel's jhash(). */
u32 jhash(const void *key, u32 length, u32 initval)
{
	const u8 *k = key;
	u32 a, b, c, w[3];

	a = b = c = 0xdeadbeef + length + initval;
	while (length > 12) {
		memcpy(w, k, 12);
		a += w[0];
		b += w[1];
		c += w[2];
		a -= c; a ^= rol32(c, 4);  c += b;
		b -= a; b ^= rol32(a, 6);  a += c;
		c -= b; c ^= rol32(b, 8);  b += a;
		a -= c; a ^= rol32(c, 16); c += b;
		b -= a; b ^= rol32(a, 19); a += c;
		c -= b; c ^= rol32(b, 4);  b += a;
		length -= 12;
		k += 12;
	}
	if (!length)
		return c;
	w[0] = w[1] = w[2] = 0;
	memcpy(w, k, length);
	a += w[0];
	b += w[1];
	c += w[2];
	__jhash_final(a, b, c);
	return c;
}

u32 get_random_u32(void)
{
	u32 v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		abort();
	return v;
}

unsigned int num_possible_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? n : 1;
}

void init_rwsem(struct rw_semaphore *sem)
{
	pthread_rwlockattr_t attr;

	/* Like a kernel rwsem, a waiting writer holds off new readers. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&sem->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

static bool shim_should_fail(void)
{
	shim_alloc_count++;
	if (shim_fail_nth > 0 && --shim_fail_nth == 0)
		return true;
	return false;
}

void *kmalloc(size_t size, gfp_t gfp)
{
	if (shim_should_fail())
		return NULL;
	return (gfp & __GFP_ZERO) ? calloc(1, size) : malloc(size);
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp | __GFP_ZERO);
}

void *kvmalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp);
}

void kfree(const void *p)
{
	free((void *)p);
}

void kvfree(const void *p)
{
	free((void *)p);
}

void *__vmalloc(unsigned long size, gfp_t gfp)
{
	void *p;

	if (shim_should_fail())
		return NULL;
	p = aligned_alloc(PAGE_SIZE, PAGE_ALIGN(size));
	if (p && (gfp & __GFP_ZERO))
		memset(p, 0, PAGE_ALIGN(size));
	return p;
}

void vfree(const void *p)
{
	free((void *)p);
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
				     unsigned int align, unsigned int flags,
				     void (*ctor)(void *))
{
	struct kmem_cache *c = malloc(sizeof(*c));

	if (c)
		c->size = size;
	return c;
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	free(c);
}

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	return kmalloc(c->size, gfp);
}

void kmem_cache_free(struct kmem_cache *c, void *p)
{
	free(p);
}

struct shim_rcu_free {
	struct rcu_head rcu;
	void *p;
};

static void shim_free_rcu_cb(struct rcu_head *head)
{
	struct shim_rcu_free *f = caa_container_of(head, struct shim_rcu_free, rcu);

	free(f->p);
	free(f);
}

/*
 * Headless deferred free: the kernel packs such pointers into pages; here a
 * small carrier is allocated, and when even that fails, the caller waits for
 * a grace period itself, as kvfree_rcu_mightsleep() does.
 */
void shim_free_rcu(void *p)
{
	struct shim_rcu_free *f = malloc(sizeof(*f));

	if (!f) {
		synchronize_rcu();
		free(p);
		return;
	}
	f->p = p;
	call_rcu(&f->rcu, shim_free_rcu_cb);
}

static void shim_rcu_work_cb(struct rcu_head *head)
{
	struct rcu_work *rwork = caa_container_of(head, struct rcu_work, rcu);

	rwork->work.func(&rwork->work);
}

bool queue_rcu_work(struct workqueue_struct *wq, struct rcu_work *rwork)
{
	call_rcu(&rwork->rcu, shim_rcu_work_cb);
	return true;
}

bool flush_rcu_work(struct rcu_work *rwork)
{
	rcu_barrier();
	return true;
}

__attribute__((constructor)) static void shim_register_main_thread(void)
{
	rcu_register_thread();
}
