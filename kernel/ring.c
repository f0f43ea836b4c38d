/*
 * ring.c - single-producer/single-consumer message ring between two cores.
 *
 * Two free-running 32-bit indexes describe the ring: tail counts messages ever pushed and head
 * counts messages ever popped. They only grow, and wrap around 2^32 by unsigned arithmetic, so
 * tail - head is always the number of full slots (0 ... nslots) and index & mask is the slot.
 * nslots is a power of two no larger than 2^31, so that difference never becomes ambiguous.
 *
 * Only the producer writes tail and only the consumer writes head; neither is ever the target
 * of a read-modify-write. Ordering is one release/acquire pair in each direction:
 *   - the producer writes the slot, then release-stores tail + 1; the consumer acquire-loads
 *     tail before reading the slot, so it sees the whole message, never half of it;
 *   - the consumer reads the slot, then release-stores head + 1; the producer acquire-loads
 *     head before overwriting a slot, so it never writes over a message still being read.
 *
 * Layout: the producer's line (tail, and the last head it saw), the consumer's line (head, and
 * the last tail it saw), a read-only line (nslots, mask), then one cache line per slot. Each side
 * looks at the other's index only when its cached copy says the ring is full (producer) or empty
 * (consumer), so in the common case a push or pop writes only its own line and the slot, and the
 * two cores do not pull a line back and forth for every message.
 */
#include "kernel/ring.h"

struct ring {
	/*
	 * Ownership: [P] written only by the producer, [C] written only by the consumer,
	 * [I] immutable after ring_init. [a] fields are read by the other side with acquire.
	 */

	/* The producer's line. */
	uint32_t ring_tail __cacheline_aligned; /* [P][a] messages ever pushed; consumer reads it */
	uint32_t ring_head_seen;                /* [P] last ring_head loaded; a lower bound of it */

	/* The consumer's line. */
	uint32_t ring_head __cacheline_aligned; /* [C][a] messages ever popped; producer reads it */
	uint32_t ring_tail_seen;                /* [C] last ring_tail loaded; a lower bound of it */

	/* Read by both sides, written by neither after ring_init. */
	uint32_t ring_nslots __cacheline_aligned; /* [I] number of slots, a power of two */
	uint32_t ring_mask;                       /* [I] ring_nslots - 1 */

	struct msg ring_slot[] __cacheline_aligned; /* [P] before tail moves past it, then read by
	                                             * C until head moves past it */
};
_Static_assert(offsetof(struct ring, ring_head) - offsetof(struct ring, ring_tail) >= CACHELINE,
               "producer and consumer indexes must not share a cache line");
_Static_assert(offsetof(struct ring, ring_slot) % CACHELINE == 0, "slots start on a cache line");

static bool ring_nslots_valid(unsigned nslots)
{
	return nslots >= 2 && nslots <= (1u << 31) && (nslots & (nslots - 1)) == 0;
}

size_t ring_bytes(unsigned nslots)
{
	if (!ring_nslots_valid(nslots))
		return 0;
	return sizeof(struct ring) + (size_t)nslots * sizeof(struct msg);
}

void ring_init_at(struct ring *r, unsigned nslots, uint32_t start)
{
	/*
	 * Plain stores: nobody else uses the ring yet, and the caller publishes it (ring.h).
	 * Slots need no clearing, a slot is only read after a push wrote it.
	 */
	r->ring_tail = start;
	r->ring_head_seen = start;
	r->ring_head = start;
	r->ring_tail_seen = start;
	r->ring_nslots = nslots;
	r->ring_mask = nslots - 1;
}

void ring_init(struct ring *r, unsigned nslots)
{
	ring_init_at(r, nslots, 0);
}

bool ring_push(struct ring *r, const struct msg *m)
{
	/* Plain read: only this side ever writes ring_tail. */
	uint32_t tail = r->ring_tail;

	if (unlikely(tail - r->ring_head_seen == r->ring_nslots)) {
		/*
		 * Full as far as we know; look at the consumer's real head. Acquire pairs with the
		 * release store in ring_pop: the consumer's reads of the slots it gave back are
		 * finished before we overwrite them below.
		 */
		r->ring_head_seen = __atomic_load_n(&r->ring_head, __ATOMIC_ACQUIRE);
		if (tail - r->ring_head_seen == r->ring_nslots)
			return false;
	}

	r->ring_slot[tail & r->ring_mask] = *m;
	/*
	 * Release: the slot written above becomes visible to the consumer no later than the new
	 * tail that tells it the slot is full (pairs with the acquire loads in ring_pop/ring_empty).
	 */
	__atomic_store_n(&r->ring_tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

bool ring_pop(struct ring *r, struct msg *out)
{
	/* Plain read: only this side ever writes ring_head. */
	uint32_t head = r->ring_head;

	if (head == r->ring_tail_seen) {
		/*
		 * Empty as far as we know; look at the producer's real tail. Acquire pairs with the
		 * release store in ring_push: every slot below that tail is fully written before we
		 * read it, in this call or in later ones that trust ring_tail_seen.
		 */
		r->ring_tail_seen = __atomic_load_n(&r->ring_tail, __ATOMIC_ACQUIRE);
		if (head == r->ring_tail_seen)
			return false;
	}

	*out = r->ring_slot[head & r->ring_mask];
	/*
	 * Release: our read of the slot is complete before the producer can see it free and
	 * write the next message into it (pairs with the acquire load in ring_push/free_slots).
	 */
	__atomic_store_n(&r->ring_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

bool ring_empty(const struct ring *r)
{
	/*
	 * Acquire pairs with the release store in ring_push, so a "not empty" answer also means the
	 * message is readable. ring_tail_seen is not updated: r is const here, and ring_pop reloads.
	 */
	return r->ring_head == __atomic_load_n(&r->ring_tail, __ATOMIC_ACQUIRE);
}

unsigned ring_free_slots(struct ring *r)
{
	/*
	 * Acquire pairs with the release store in ring_pop, as in ring_push: a slot counted free
	 * here is really done with.
	 */
	r->ring_head_seen = __atomic_load_n(&r->ring_head, __ATOMIC_ACQUIRE);
	return r->ring_nslots - (r->ring_tail - r->ring_head_seen);
}

bool ring_has_room(struct ring *r)
{
	if (r->ring_tail - r->ring_head_seen != r->ring_nslots)
		return true; /* room as far as we know, and head only grows */
	/* Acquire: as in ring_push, the consumer is done with the slots it gave back. */
	r->ring_head_seen = __atomic_load_n(&r->ring_head, __ATOMIC_ACQUIRE);
	return r->ring_tail - r->ring_head_seen != r->ring_nslots;
}
