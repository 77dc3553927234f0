// SPDX-License-Identifier: GPL-2.0
/*
 * The hmap core, built in userspace over liburcu (userspace/shim), against
 * liburcu's rculfhash: insert, lookup and delete of the same u64 -> u64
 * entries in the same order, in one thread. Meant to run under
 * valgrind --tool=callgrind: each phase is its own function, so its
 * inclusive instruction count divided by the entries is the cost per op.
 * A benchmark: it judges nothing.
 */
#include <stdio.h>
#include <linux/hmap.h>
#include "hmap_table.h"
#include "ucore.h"

#define ENTRIES	65536UL

static u64 keys[ENTRIES];
static struct hmap_htab h;

static noinline void hmap_inserts(void)
{
	unsigned long i;

	for (i = 0; i < ENTRIES; i++)
		hmap_htab_update(&h, &keys[i], &keys[i], HMAP_NOEXIST);
}

static noinline u64 hmap_lookups(void)
{
	unsigned long i;
	u64 v, sum = 0;

	for (i = 0; i < ENTRIES; i++)
		if (!hmap_htab_lookup(&h, &keys[ENTRIES - 1 - i], &v))
			sum += v;
	return sum;
}

static noinline void hmap_deletes(void)
{
	unsigned long i;

	for (i = 0; i < ENTRIES; i++)
		hmap_htab_delete(&h, &keys[i]);
}

int main(void)
{
	struct hmap_htab_params p = {
		.key_size = 8, .value_size = 8, .max_entries = ENTRIES,
		.capacity_hint = ENTRIES,
	};
	u64 want = ENTRIES * (ENTRIES - 1) / 2, a, b;
	u32 x = 12345;
	unsigned long i, j;

	for (i = 0; i < ENTRIES; i++)
		keys[i] = i;
	for (i = ENTRIES - 1; i > 0; i--) {
		u64 t = keys[i];

		x = x * 1103515245 + 12345;
		j = (x >> 8) % (i + 1);
		keys[i] = keys[j];
		keys[j] = t;
	}
	if (hmap_htab_caches_init() || hmap_htab_init(&h, &p) ||
	    lfht_setup(ENTRIES)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	hmap_inserts();
	lfht_inserts((const uint64_t *)keys, ENTRIES);
	a = hmap_lookups();
	b = lfht_lookups((const uint64_t *)keys, ENTRIES);
	hmap_deletes();
	lfht_deletes((const uint64_t *)keys, ENTRIES);
	printf("entries %lu, lookup sums %s\n", ENTRIES,
	       a == want && b == want ? "right" : "WRONG");
	return a == want && b == want ? 0 : 1;
}
