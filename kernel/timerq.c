/*
 * timerq.c - per-core timer queue as an intrusive pairing heap.
 *
 * A pairing heap is a tree in which every timer fires no earlier than its parent, so the root is
 * the earliest. Each timer keeps a pointer to its first child, to its next sibling and to its
 * previous sibling, or to its parent when it is the first child (the root's is NULL); that back
 * pointer is what lets any timer be unlinked in O(1). The order is by (deadline, tq_seq), and
 * tq_seq grows with every add, so the order is total and equal deadlines fire first-in first-out.
 *
 *   - add: meld the new one-node tree with the root (one comparison, O(1));
 *   - pop the root: pair its children left to right, then meld the pairs right to left
 *     (the "two-pass" merge; O(log n) amortized);
 *   - delete another timer: cut its subtree out, two-pass merge its children, meld the result
 *     back with the root.
 * Everything is iterative, so a degenerate heap costs time once, never stack.
 */
#include "kernel/timerq.h"

/* True if a must fire before b: earlier deadline, or the same deadline and added first. */
static bool timer_before(const struct timer *a, const struct timer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->tq_seq < b->tq_seq;
}

/* Melds two trees whose roots have no siblings and no parent; returns the new root. */
static struct timer *tq_meld(struct timer *a, struct timer *b)
{
	if (timer_before(b, a)) {
		struct timer *tmp = a;
		a = b;
		b = tmp;
	}
	/* b becomes a's first child. */
	b->tq_prev = a;
	b->tq_next = a->tq_child;
	if (a->tq_child)
		a->tq_child->tq_prev = b;
	a->tq_child = b;
	return a;
}

/*
 * Two-pass merge of a sibling list into one tree, whose root is returned with tq_prev and
 * tq_next NULL. First pass: meld neighbours pairwise, left to right, pushing each pair's winner
 * on a stack threaded through tq_next. Second pass: pop the stack (right to left) melding into
 * one tree.
 */
static struct timer *tq_merge_pairs(struct timer *first)
{
	struct timer *stack = NULL;

	while (first) {
		struct timer *a = first;
		struct timer *b = a->tq_next;

		a->tq_prev = a->tq_next = NULL;
		if (b) {
			first = b->tq_next;
			b->tq_prev = b->tq_next = NULL;
			a = tq_meld(a, b);
		} else {
			first = NULL;
		}
		a->tq_next = stack;
		stack = a;
	}

	struct timer *root = NULL;
	while (stack) {
		struct timer *t = stack;

		stack = t->tq_next;
		t->tq_next = NULL;
		root = root ? tq_meld(root, t) : t;
	}
	return root;
}

/* Leaves t as an unqueued, unlinked timer. */
static void tq_clear(struct timer *t)
{
	t->tq_child = t->tq_next = t->tq_prev = NULL;
	t->tq_seq = 0;
}

void timerq_init(struct timerq *q)
{
	q->tq_root = NULL;
	q->tq_next_seq = 1;
	q->tq_count = 0;
}

void timer_init(struct timer *t, void (*fn)(struct timer *t))
{
	t->deadline = 0;
	t->fn = fn;
	tq_clear(t);
}

void timerq_add(struct timerq *q, struct timer *t)
{
	t->tq_child = t->tq_next = t->tq_prev = NULL;
	t->tq_seq = q->tq_next_seq++;
	q->tq_root = q->tq_root ? tq_meld(q->tq_root, t) : t;
	q->tq_count++;
}

/* Removes the root, which must exist. */
static struct timer *tq_pop_root(struct timerq *q)
{
	struct timer *t = q->tq_root;

	q->tq_root = tq_merge_pairs(t->tq_child);
	q->tq_count--;
	tq_clear(t);
	return t;
}

bool timerq_del(struct timerq *q, struct timer *t)
{
	if (!timer_queued(t))
		return false;
	if (t == q->tq_root) {
		tq_pop_root(q);
		return true;
	}

	/* Cut t and its subtree out of its parent's child list. */
	struct timer *prev = t->tq_prev;
	if (prev->tq_child == t)
		prev->tq_child = t->tq_next; /* prev is the parent */
	else
		prev->tq_next = t->tq_next; /* prev is the previous sibling */
	if (t->tq_next)
		t->tq_next->tq_prev = prev;

	/* Its children, merged into one tree, go back under the root. */
	struct timer *sub = tq_merge_pairs(t->tq_child);
	if (sub)
		q->tq_root = tq_meld(q->tq_root, sub);
	q->tq_count--;
	tq_clear(t);
	return true;
}

bool timer_queued(const struct timer *t)
{
	return t->tq_seq != 0;
}

struct timer *timerq_first(const struct timerq *q)
{
	return q->tq_root;
}

struct timer *timerq_pop_expired(struct timerq *q, uint64_t now)
{
	if (!q->tq_root || q->tq_root->deadline > now)
		return NULL;
	return tq_pop_root(q);
}

unsigned timerq_count(const struct timerq *q)
{
	return q->tq_count;
}
