/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the userspace tests of the hmap core. */
#ifndef _HMAP_CORE_COMMON_H
#define _HMAP_CORE_COMMON_H

#include <sanitizer/lsan_interface.h>

#include <linux/hmap.h>
#include "hmap_table.h"

/* Creates a map or fails the test. */
#define NEW_MAP(h, ks, vs, max, hint) do {				\
	struct hmap_htab_params __p = {					\
		.key_size = (ks), .value_size = (vs),			\
		.max_entries = (max), .capacity_hint = (hint),		\
	};								\
	ASSERT_EQ(0, hmap_htab_init((h), &__p));			\
} while (0)

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
