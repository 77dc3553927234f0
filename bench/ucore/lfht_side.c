// SPDX-License-Identifier: GPL-2.0
/*
 * liburcu's rculfhash side of bench/ucore: the same u64 -> u64 entries, the
 * same hash (lookup3's final mix of the key's two words, as the hmap core
 * uses for 8-byte keys), in the same thread. Kept apart from the hmap side
 * because the core's kernel shim and liburcu's headers do not mix.
 */
#define _LGPL_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <urcu.h>
#include <urcu/rculfhash.h>

#include "ucore.h"

struct lf_node {
	uint64_t key;
	uint64_t value;
	struct cds_lfht_node node;
	struct rcu_head rcu;
};

static struct cds_lfht *ht;

#define rol32(w, s)	(((w) << (s)) | ((w) >> (32 - (s))))

static uint32_t lf_hash(uint64_t key)
{
	uint32_t a, b, c, iv = 0x12345678 + 0xdeadbeef + (3 << 2);

	a = (uint32_t)key + iv;
	b = (uint32_t)(key >> 32) + iv;
	c = iv;
	c ^= b; c -= rol32(b, 14);
	a ^= c; a -= rol32(c, 11);
	b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16);
	a ^= c; a -= rol32(c, 4);
	b ^= a; b -= rol32(a, 14);
	c ^= b; c -= rol32(b, 24);
	return c;
}

static int lf_match(struct cds_lfht_node *node, const void *key)
{
	return caa_container_of(node, struct lf_node, node)->key ==
	       *(const uint64_t *)key;
}

static void lf_free(struct rcu_head *head)
{
	free(caa_container_of(head, struct lf_node, rcu));
}

int lfht_setup(unsigned long entries)
{
	ht = cds_lfht_new(entries, entries, 0, CDS_LFHT_AUTO_RESIZE, NULL);
	return ht ? 0 : -1;
}

void lfht_inserts(const uint64_t *keys, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct lf_node *e = malloc(sizeof(*e));

		e->key = keys[i];
		e->value = keys[i];
		cds_lfht_node_init(&e->node);
		rcu_read_lock();
		if (cds_lfht_add_unique(ht, lf_hash(keys[i]), lf_match, &keys[i],
					&e->node) != &e->node)
			free(e);
		rcu_read_unlock();
	}
}

uint64_t lfht_lookups(const uint64_t *keys, unsigned long n)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	uint64_t sum = 0;
	unsigned long i;

	for (i = 0; i < n; i++) {
		rcu_read_lock();
		cds_lfht_lookup(ht, lf_hash(keys[i]), lf_match, &keys[i], &iter);
		node = cds_lfht_iter_get_node(&iter);
		if (node)
			sum += caa_container_of(node, struct lf_node, node)->value;
		rcu_read_unlock();
	}
	return sum;
}

void lfht_deletes(const uint64_t *keys, unsigned long n)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	unsigned long i;

	for (i = 0; i < n; i++) {
		rcu_read_lock();
		cds_lfht_lookup(ht, lf_hash(keys[i]), lf_match, &keys[i], &iter);
		node = cds_lfht_iter_get_node(&iter);
		if (node && !cds_lfht_del(ht, node))
			call_rcu(&caa_container_of(node, struct lf_node, node)->rcu,
				 lf_free);
		rcu_read_unlock();
	}
}
