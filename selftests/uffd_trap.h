/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A userfaultfd trap: a page whose first touch, by the kernel copying a
 * key in during an ioctl, blocks the toucher until the test releases it. It
 * holds a thread inside an ioctl for exactly as long as the test wants.
 */
#ifndef _HMAP_UFFD_TRAP_H
#define _HMAP_UFFD_TRAP_H

#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>

struct uffd_trap {
	int uffd;
	char *page;
	long psize;
};

/* Returns 0, or -errno (e.g. -ENOSYS without CONFIG_USERFAULTFD). */
static inline int uffd_trap_init(struct uffd_trap *t)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	t->psize = sysconf(_SC_PAGESIZE);
	t->uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (t->uffd < 0)
		return -errno;
	if (ioctl(t->uffd, UFFDIO_API, &api))
		return -errno;
	t->page = mmap(NULL, t->psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->page == MAP_FAILED)
		return -errno;
	reg.range.start = (unsigned long)t->page;
	reg.range.len = t->psize;
	if (ioctl(t->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

/* Waits until a thread is blocked on the page; 0, or -1 after @ms. */
static inline int uffd_trap_wait(struct uffd_trap *t, int ms)
{
	struct pollfd p = { .fd = t->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&p, 1, ms) != 1)
		return -1;
	return read(t->uffd, &msg, sizeof(msg)) == sizeof(msg) ? 0 : -1;
}

/* Fills the page with @fill bytes, waking whoever is blocked on it. */
static inline int uffd_trap_release(struct uffd_trap *t, const void *fill,
				    size_t len)
{
	char *src = calloc(1, t->psize);
	struct uffdio_copy c = {
		.dst = (unsigned long)t->page,
		.len = t->psize,
	};
	int ret;

	if (!src)
		return -ENOMEM;
	memcpy(src, fill, len);
	c.src = (unsigned long)src;
	ret = ioctl(t->uffd, UFFDIO_COPY, &c) ? -errno : 0;
	free(src);
	return ret;
}

static inline void uffd_trap_destroy(struct uffd_trap *t)
{
	munmap(t->page, t->psize);
	close(t->uffd);
}

#endif
