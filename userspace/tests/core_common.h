/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the userspace tests of the hmap core. */
#ifndef _HMAP_CORE_COMMON_H
#define _HMAP_CORE_COMMON_H

#include <sanitizer/lsan_interface.h>

#include <linux/hmap.h>
#include "hmap_table.h"

/* The module creates the element caches at load; so does every test program. */
__attribute__((constructor)) static void core_caches_init(void)
{
	if (hmap_htab_caches_init())
		abort();
}

/* Creates a map, its elements from a pool if @pool, or fails the test. */
#define NEW_MAP_POOL(h, ks, vs, max, hint, pool) do {			\
	struct hmap_htab_params __p = {					\
		.key_size = (ks), .value_size = (vs),			\
		.max_entries = (max), .capacity_hint = (hint),		\
		.prealloc = (pool),					\
	};								\
	ASSERT_EQ(0, hmap_htab_init((h), &__p));			\
} while (0)

/* Creates a map whose elements come from the slab, or fails the test. */
#define NEW_MAP(h, ks, vs, max, hint) NEW_MAP_POOL(h, ks, vs, max, hint, false)

/*
 * Destroys the map, waits for deferred frees, and fails the test if any
 * allocation is unreachable: the harness ends test children with _exit(),
 * which skips LeakSanitizer's own exit-time check.
 */
#define DESTROY_AND_CHECK_LEAKS(h) do {					\
	hmap_htab_destroy(h);						\
	rcu_barrier();							\
	ASSERT_EQ(0, __lsan_do_recoverable_leak_check());		\
} while (0)

#endif
