/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Minimal intrusive doubly linked list (kernel style), internal to librts.
 */
#ifndef RTS_LIB_LIST_H
#define RTS_LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

struct list_node {
	struct list_node *next, *prev;
};

static inline void list_init(struct list_node *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_node *h)
{
	return h->next == h;
}

static inline void list_add_tail(struct list_node *h, struct list_node *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list_del(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

/* First entry or NULL. */
#define list_first(h, type, member) (list_empty(h) ? NULL : list_entry((h)->next, type, member))

/* Entry after pos or NULL at the end of list h. */
#define list_next(h, pos, member)           \
	((pos)->member.next == (h) ? NULL : \
				     list_entry((pos)->member.next, __typeof__(*(pos)), member))

#define list_for_each(h, pos, member) \
	for (pos = list_first(h, __typeof__(*pos), member); pos; pos = list_next(h, pos, member))

#define list_for_each_safe(h, pos, tmp, member)             \
	for (pos = list_first(h, __typeof__(*pos), member), \
	    tmp = pos ? list_next(h, pos, member) : NULL;   \
	     pos; pos = tmp, tmp = pos ? list_next(h, pos, member) : NULL)

#endif
