/*
 * inbox.h - which of a core's incoming rings hold messages: one bit per sending core, set by
 * the sender, taken by the receiver. The receiver looks only at the rings the bits name, so a
 * pass over its messages costs the same with 2 cores or 256 (MAX_CORES / 64 word loads when
 * nothing came), instead of a look at every one of its ncores - 1 rings.
 *
 * Protocol (senders: any core; receiver: the inbox's core):
 *   sender    push the message into ring (src, dst); full fence; inbox_mark(dst's inbox, src)
 *   receiver  inbox_take(&set); then drain every ring in set (what it leaves behind, it keeps
 *             in a private set of its own for the next pass)
 * No message is ever stranded: the receiver clears a bit before it drains the ring, and a
 * sender's fence orders its push before its look at the bit. So either the sender finds the
 * bit clear and sets it (the receiver takes it next pass), or it finds it still set, which
 * means the receiver has not yet cleared it and will then see the push when it drains. The
 * same fence orders the mark before the sender's look at the receiver's idle flag, which pairs
 * with the fence the receiver puts between setting that flag and its last inbox_any().
 *
 * A sender sets a bit with an atomic OR only when it finds it clear: while messages stream,
 * the bit stays set and a push costs one plain load of the inbox line. The receiver clears only
 * the bits it saw, with an atomic AND. Pure functions over the inbox (no globals), so they are
 * also built on the host and tested with threads under ThreadSanitizer (tests/unit/test_inbox.c).
 */
#ifndef ISLE_KERNEL_INBOX_H
#define ISLE_KERNEL_INBOX_H

#include "kernel/coreset.h"

/* One core's inbox: written by every sender, read and cleared by its owner. [a] */
struct inbox {
	uint64_t from[CORESET_WORDS]; /* [a] bit src: ring (src, owner) may hold messages */
} __cacheline_aligned;

/* Sender: ring (src, owner) has a message. The caller MUST have put a full fence between its
 * push and this call (see above). */
static inline void inbox_mark(struct inbox *ib, unsigned src)
{
	uint64_t bit = 1ull << (src % 64), *w = &ib->from[src / 64];
	/* Relaxed load: a hint; if the bit looks set, the receiver has not cleared it yet and will
	 * drain the ring after it does (the fence before this call orders our push first). */
	if (!(__atomic_load_n(w, __ATOMIC_RELAXED) & bit))
		/* Release: our push is visible to whoever takes the bit (the fence already made it
		 * so; release documents it). */
		__atomic_fetch_or(w, bit, __ATOMIC_RELEASE);
}

/* Receiver: moves the bits set so far into *out (adding to what it holds) and clears them in
 * the inbox. Returns whether any were set. */
static inline bool inbox_take(struct inbox *ib, struct coreset *out)
{
	bool any = false;
	for (unsigned i = 0; i < CORESET_WORDS; i++) {
		/* Relaxed: most words are 0; a set bit is confirmed by the AND below. */
		uint64_t v = __atomic_load_n(&ib->from[i], __ATOMIC_RELAXED);
		if (!v)
			continue;
		/* The clear happens before we read the rings, so a push we miss finds the bit
		 * clear and sets it again. */
		__atomic_fetch_and(&ib->from[i], ~v, __ATOMIC_SEQ_CST);
		out->w[i] |= v;
		any = true;
	}
	/* Full fence: pairs with the sender's fence between its push and its look at the bit;
	 * our reads of the rings come after our clears in the single total order. */
	if (any)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return any;
}

/* Receiver: whether any bit is set (without taking them), e.g. as the last look before
 * halting. */
static inline bool inbox_any(const struct inbox *ib)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < CORESET_WORDS; i++)
		/* Relaxed: the caller's fence orders this after its idle flag store. */
		any |= __atomic_load_n(&ib->from[i], __ATOMIC_RELAXED);
	return any != 0;
}

#endif
