/*
 * ring.h - single-producer/single-consumer ring of 64-byte messages between two cores.
 *
 * There is one ring per ordered pair of cores (channel[src][dst]) in the shared region. Exactly
 * one execution context pushes (the producer) and exactly one pops (the consumer); nothing else
 * is shared between cores, so there is no lock and no atomic read-modify-write: only release
 * stores and acquire loads of two free-running indexes. See ring.c for the layout and ordering.
 *
 * "Producer only" means one context at a time: if a thread and an interrupt handler on the same
 * core could both push into the same ring, the caller MUST keep them from interleaving (for
 * example push only from threads, or with interrupts off). The same holds for the consumer.
 */
#ifndef ISLE_KERNEL_RING_H
#define ISLE_KERNEL_RING_H

#include <isle/msg.h> /* struct msg */
#include "kernel/compiler.h"

/* One message (struct msg, one cache line) is copied by value into and out of the ring. */

/*
 * Opaque: a producer-owned cache line (tail + cached head), a consumer-owned cache line (head +
 * cached tail), an immutable line (nslots, mask), then the slots. Allocate ring_bytes(nslots)
 * bytes, cache-line aligned, in memory both cores can reach.
 */
struct ring;

/*
 * Bytes a ring of nslots messages needs (a multiple of CACHELINE), or 0 if nslots is not a power
 * of two in [2, 2^31]. Any context.
 */
size_t ring_bytes(unsigned nslots);

/*
 * Makes r an empty ring of nslots slots. r MUST point to ring_bytes(nslots) > 0 bytes aligned to
 * CACHELINE. Boot or setup context, before either side uses the ring; the caller MUST publish the
 * initialised ring to the other core with a release/acquire pair of its own (or by starting that
 * core afterwards).
 */
void ring_init(struct ring *r, unsigned nslots);

/*
 * ring_init, but both indexes start at start instead of 0. Behaviour is identical for any start;
 * it exists so unit tests can put the 32-bit indexes right before their wrap-around.
 */
void ring_init_at(struct ring *r, unsigned nslots, uint32_t start);

/*
 * Copies *m into the next slot and publishes it. Returns false, changing nothing, when the ring
 * is full: the caller keeps the message and retries later (back-pressure; nothing is lost).
 * Producer only. Does not ring any doorbell: a sender that must wake an idle consumer MUST
 * put a full barrier (__atomic_thread_fence(__ATOMIC_SEQ_CST)) between this push and its read of
 * the consumer's "going idle" flag, matched by one on the consumer between setting that flag and
 * its last ring_empty() check; release/acquire alone does not order a store before a later load.
 */
bool ring_push(struct ring *r, const struct msg *m);

/* Copies the oldest message into *out and frees its slot. False when empty. Consumer only. */
bool ring_pop(struct ring *r, struct msg *out);

/* True if there is nothing to pop, judged by a fresh read of the producer's index. Consumer only. */
bool ring_empty(const struct ring *r);

/*
 * How many pushes would succeed right now, judged by a fresh read of the consumer's index.
 * Producer only; more may become free at any moment, never fewer.
 */
unsigned ring_free_slots(struct ring *r);

/*
 * Whether a push would succeed right now: the producer's cached view first, a fresh read of the
 * consumer's index only when that view says full. Producer only; the answer stays true until
 * this side pushes (the consumer only ever makes room).
 */
bool ring_has_room(struct ring *r);

#endif
