/*
 * timerq.h - a per-core queue of timers ordered by deadline.
 *
 * The timer is intrusive: the caller owns the struct timer (usually inside a thread or a
 * connection) and the queue only links it, so adding never allocates and never fails, and the
 * queue works before the heap exists. Timers with equal deadlines fire in the order they were
 * added. A queue and its timers belong to one core; no function here may be called from another
 * core, and the caller MUST keep thread and interrupt context from using one queue at once.
 */
#ifndef ISLE_KERNEL_TIMERQ_H
#define ISLE_KERNEL_TIMERQ_H

#include "kernel/compiler.h"

/*
 * One timer. Ownership: [o] owned by the core whose queue it is on; [q] private to timerq.c,
 * MUST NOT be touched by callers. A timer MUST start zeroed (static storage, = { 0 }, a zeroing
 * allocator) or go through timer_init() before its first use.
 */
struct timer {
	uint64_t deadline; /* [o] when it fires, ns since boot; set before timerq_add, MUST
	                                NOT change while queued */
	void (*fn)(struct timer
	                   *t); /* [o] called by the owner when it fires (timerq never calls it) */
	struct timer *tq_child; /* [q] first child in the pairing heap, or NULL */
	struct timer *tq_next;  /* [q] next sibling, or NULL */
	struct timer *tq_prev;  /* [q] previous sibling, or the parent if first child; NULL at
	                                the root */
	uint64_t tq_seq;        /* [q] insertion number that orders equal deadlines; 0 while not
	                                queued */
};

/* A queue. Ownership: [o] for every field, it belongs to one core. */
struct timerq {
	struct timer *tq_root; /* [o] the earliest timer, root of the pairing heap, or NULL */
	uint64_t tq_next_seq;  /* [o] tq_seq for the next timer added; starts at 1, never wraps */
	unsigned tq_count;     /* [o] number of timers queued */
};

/* Makes q empty. Any context on the owning core. */
void timerq_init(struct timerq *q);

/* Makes t an unqueued timer calling fn (deadline 0). Needed only for memory that is not zeroed. */
void timer_init(struct timer *t, void (*fn)(struct timer *t));

/* Queues t. t->deadline and t->fn MUST be set and t MUST NOT be queued. O(1). */
void timerq_add(struct timerq *q, struct timer *t);

/*
 * Removes t from q. Returns true if it was queued, false (doing nothing) if it was not, so a
 * timer that already fired can be cancelled safely. t MUST NOT be on another queue.
 * O(log n) amortized.
 */
bool timerq_del(struct timerq *q, struct timer *t);

/* True while t is on a queue. */
bool timer_queued(const struct timer *t);

/* The timer with the earliest deadline (first added among equals), or NULL. O(1). */
struct timer *timerq_first(const struct timerq *q);

/*
 * Removes and returns the earliest timer if its deadline is <= now, else NULL. Call it until it
 * returns NULL, then call each returned timer's fn; timers come out earliest first.
 * O(log n) amortized.
 */
struct timer *timerq_pop_expired(struct timerq *q, uint64_t now);

/* Number of queued timers. */
unsigned timerq_count(const struct timerq *q);

#endif
