/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hlist_nulls for the userspace build: a chain ends not in NULL but in an odd
 * "nulls" value naming the chain, so a lockless reader can tell that a
 * concurrent move carried it into another chain.
 */
#ifndef _HMAP_SHIM_LIST_NULLS_H
#define _HMAP_SHIM_LIST_NULLS_H
#include "../shim.h"

struct hlist_nulls_node {
	struct hlist_nulls_node *next, **pprev;
};

struct hlist_nulls_head {
	struct hlist_nulls_node *first;
};

#define NULLS_MARKER(v)		(1UL | (((long)(v)) << 1))
#define INIT_HLIST_NULLS_HEAD(h, v) \
	((h)->first = (struct hlist_nulls_node *)NULLS_MARKER(v))
#define hlist_nulls_entry(ptr, type, member) container_of(ptr, type, member)

static inline int is_a_nulls(const struct hlist_nulls_node *p)
{
	return (unsigned long)p & 1;
}

static inline unsigned long get_nulls_value(const struct hlist_nulls_node *p)
{
	return (unsigned long)p >> 1;
}

#define hlist_nulls_for_each_entry(tpos, pos, head, member)		\
	for (pos = (head)->first;					\
	     (!is_a_nulls(pos)) &&					\
		({ tpos = hlist_nulls_entry(pos, __typeof__(*tpos), member); 1; }); \
	     pos = pos->next)
#endif
