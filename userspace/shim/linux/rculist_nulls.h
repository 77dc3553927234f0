/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HMAP_SHIM_RCULIST_NULLS_H
#define _HMAP_SHIM_RCULIST_NULLS_H
#include "list_nulls.h"

#define hlist_nulls_first_rcu(head) \
	(*((struct hlist_nulls_node **)&(head)->first))
#define hlist_nulls_next_rcu(node) \
	(*((struct hlist_nulls_node **)&(node)->next))

/* Unlinks @n; its ->next stays valid for readers standing on it. */
static inline void hlist_nulls_del_rcu(struct hlist_nulls_node *n)
{
	struct hlist_nulls_node *next = n->next, **pprev = n->pprev;

	WRITE_ONCE(*pprev, next);
	if (!is_a_nulls(next))
		WRITE_ONCE(next->pprev, pprev);
	WRITE_ONCE(n->pprev, (struct hlist_nulls_node **)0x122);
}

/* Publishes @n, already initialised, at the head of @h. */
static inline void hlist_nulls_add_head_rcu(struct hlist_nulls_node *n,
					    struct hlist_nulls_head *h)
{
	struct hlist_nulls_node *first = h->first;

	n->next = first;
	WRITE_ONCE(n->pprev, &h->first);
	rcu_assign_pointer(hlist_nulls_first_rcu(h), n);
	if (!is_a_nulls(first))
		WRITE_ONCE(first->pprev, &n->next);
}

#define hlist_nulls_for_each_entry_rcu(tpos, pos, head, member)	\
	for (({ barrier(); }),						\
	     pos = rcu_dereference(hlist_nulls_first_rcu(head));	\
	     (!is_a_nulls(pos)) &&					\
		({ tpos = hlist_nulls_entry(pos, __typeof__(*tpos), member); 1; }); \
	     pos = rcu_dereference(hlist_nulls_next_rcu(pos)))
#endif
