/*
 * msg.c - message rings between cores, handler dispatch, doorbells, barriers.
 *
 * Layout in the shared region: one array of ncores x ncores rings, ring (src, dst) at index
 * src * ncores + dst (the owner of a ring is arithmetic, not a lookup), each of msg_slots
 * 64-byte messages (kernel/ring.c), and one cache line per core holding its "idle" flag. Ring
 * memory grows with the square of the cores, so rings get fewer slots as cores are added:
 * 64 up to 64 cores, 32 up to 128, 16 beyond; what one core receives stays about 270-310 KiB
 * (at 255 cores the rings take 77 MiB in all).
 * The only stores another core ever sees from us are to rings where we are the producer
 * (tail, slots) or consumer (head), and to our own idle flag.
 *
 * Which rings to look at (kernel/inbox.h). Every core has an inbox in the shared region with one
 * bit per sender: a sender marks its bit after a push, and the receiver looks only at the rings
 * its inbox names (plus those its poll budget left messages in), so a pass costs the same
 * whatever the number of cores.
 *
 * Doorbell protocol (no lost wake-ups). The sender pushes, then fences, then marks its bit in
 * the destination's inbox, then reads the destination's idle flag and sends an IPI if it is set.
 * The destination, with interrupts off, sets its idle flag, fences, then looks at its inbox once
 * more before it halts. Either the sender sees idle = 1 (and the IPI ends the halt), or the
 * destination sees the bit.
 */
#include <string.h>
#include <isle/errno.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/coreset.h"
#include "kernel/inbox.h"
#include "kernel/mem.h"
#include "kernel/msg.h"
#include "kernel/panic.h"
#include "kernel/sched.h"

#define MSG_RING_SLOTS_MAX 64 /* slots per ring up to 64 cores */
#define MSG_RING_SLOTS_MIN 16 /* and never fewer than this */
#define POLL_BUDGET 32 /* messages per ring per poll, so one busy sender cannot starve others */

struct core_flag {
	uint32_t idle; /* [a] written by the owner core, read by senders; see the protocol above */
} __cacheline_aligned;

/* A message that found its ring full while we were in handler context. */
struct overflow {
	struct overflow *next; /* [o] */
	struct msg m;          /* [o] */
};

struct overflow_queue {
	struct overflow *head, *tail; /* [o] FIFO per destination */
};

static char *rings;                   /* [I] the ring array; each ring's lines are [a] (ring.c) */
static size_t ring_stride;            /* [I] bytes per ring */
static struct core_flag *flags;       /* [I] pointer to ncores flags */
static struct inbox *inboxes;         /* [I] pointer to ncores inboxes; their bits are [a] */
static msg_fn handlers[MSG_TYPE_MAX]; /* [I] filled from the .msg_handlers section at boot */

PERCORE static struct overflow_queue overflow[MAX_CORES]; /* [o] by destination */
PERCORE static struct coreset overflow_pending;           /* [o] c: overflow[c] non-empty */
PERCORE static struct msg_stats stats;                    /* [o] */
PERCORE static struct coreset carry;          /* [o] rings the poll budget left messages in */
PERCORE static uint32_t barrier_arrived[2];   /* [o] by generation parity */
PERCORE static uint32_t barrier_gen;          /* [o] barriers entered so far */
PERCORE static struct thread *barrier_waiter; /* [o] thread waiting in core_barrier */

extern const struct msg_handler __msg_handlers_start[], __msg_handlers_end[];

static struct ring *ring_of(unsigned src, unsigned dst)
{
	return (struct ring *)(rings + (size_t)(src * ncores + dst) * ring_stride);
}

/* Slots per ring with n cores: a power of two, halved as the cores double past 64. */
static unsigned msg_slots(unsigned n)
{
	unsigned slots = MSG_RING_SLOTS_MAX;
	while (slots > MSG_RING_SLOTS_MIN && (size_t)slots * n > 64 * MSG_RING_SLOTS_MAX)
		slots /= 2;
	return slots;
}

size_t msg_shared_bytes(unsigned n)
{
	return (size_t)n * n * ring_bytes(msg_slots(n)) + (size_t)n * sizeof(struct core_flag) +
	       (size_t)n * sizeof(struct inbox) + 3 * CACHELINE;
}

void msg_init(void)
{
	unsigned n = ncores, slots = msg_slots(n);
	ring_stride = ring_bytes(slots);
	/* Not zeroed: ring_init writes all a ring needs (its slots need no initial value). */
	rings = boot_alloc_raw((size_t)n * n * ring_stride);
	flags = boot_alloc(sizeof(*flags) * n);
	inboxes = boot_alloc(sizeof(*inboxes) * n);
	if (!rings || !flags || !inboxes)
		boot_fail("no shared memory for %u x %u message rings", n, n);
	for (unsigned src = 0; src < n; src++)
		for (unsigned dst = 0; dst < n; dst++)
			if (src != dst) /* no ring from a core to itself */
				ring_init(ring_of(src, dst), slots);
	log_info("msg: %u rings of %u slots, %zu KiB in all", n * (n - 1), slots,
	         ((size_t)n * n * ring_stride) >> 10);
	for (const struct msg_handler *h = __msg_handlers_start; h < __msg_handlers_end; h++) {
		kassert(h->type > MSG_NONE && h->type < MSG_TYPE_MAX && !handlers[h->type]);
		handlers[h->type] = h->fn;
	}
	/* Other cores start after this and the start itself orders these stores before them. */
}

static void doorbell(unsigned dst)
{
	/* Full fence: our push (tail store) must be globally visible before we look at our bit
	 * in dst's inbox (inbox.h) and at its idle flag, or we could miss a core that took the bit
	 * or went idle after looking at its inbox. Pairs with the fence in inbox_take and the one
	 * in msg_set_idle. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	inbox_mark(&inboxes[dst], core_id());
	if (__atomic_load_n(&flags[dst].idle, __ATOMIC_RELAXED)) {
		stats.doorbells++;
		arch_doorbell(dst);
	}
}

static void overflow_add(unsigned dst, const struct msg *m)
{
	struct overflow *o = kmalloc(sizeof(*o));
	if (!o)
		panic("out of memory queueing a message for core %u", dst);
	o->next = NULL;
	o->m = *m;
	struct overflow_queue *q = &overflow[dst];
	if (q->tail)
		q->tail->next = o;
	else
		q->head = o;
	q->tail = o;
	coreset_add(&overflow_pending, dst);
}

/* Moves queued overflow messages into their rings while there is room. */
static void overflow_flush(void)
{
	struct coreset pending = overflow_pending;
	for (int d; (d = coreset_first(&pending)) >= 0;) {
		unsigned dst = (unsigned)d;
		coreset_del(&pending, dst);
		struct overflow_queue *q = &overflow[dst];
		bool pushed = false;
		while (q->head && ring_push(ring_of(core_id(), dst), &q->head->m)) {
			struct overflow *o = q->head;
			q->head = o->next;
			kfree(o);
			pushed = true;
		}
		if (!q->head) {
			q->tail = NULL;
			coreset_del(&overflow_pending, dst);
		}
		if (pushed)
			doorbell(dst);
	}
}

int msg_send(unsigned dst, struct msg *m)
{
	if (dst >= ncores || dst == core_id() || m->type == MSG_NONE || m->type >= MSG_TYPE_MAX)
		return -EINVAL;
	m->src = (uint16_t)core_id();
	stats.sent++;
	struct ring *r = ring_of(core_id(), dst);
	if (!coreset_has(&overflow_pending, dst) && ring_push(r, m)) {
		doorbell(dst);
		return 0;
	}
	stats.full_waits++;
	if (!thread_self()) {
		overflow_add(dst, m); /* handler context: may not block */
		return 0;
	}
	/* Back-pressure: wait until the destination has made room, keeping order with any
	 * messages already queued in overflow. */
	while (coreset_has(&overflow_pending, dst) || !ring_push(r, m)) {
		doorbell(dst);
		thread_yield();
	}
	doorbell(dst);
	return 0;
}

int msg_broadcast(struct msg *m)
{
	for (unsigned c = 0; c < ncores; c++) {
		if (c == core_id())
			continue;
		struct msg copy = *m;
		int err = msg_send(c, &copy);
		if (err)
			return err;
	}
	return 0;
}

bool msg_poll(void)
{
	bool any = false;
	unsigned self = core_id();
	if (!coreset_empty(&overflow_pending))
		overflow_flush();
	struct coreset set = carry;
	memset(&carry, 0, sizeof(carry));
	inbox_take(&inboxes[self], &set);
	for (int s; (s = coreset_first(&set)) >= 0;) {
		unsigned src = (unsigned)s;
		coreset_del(&set, src);
		if (src >= ncores || src == self)
			continue; /* no such ring: a stray bit costs nothing more */
		struct ring *r = ring_of(src, self);
		struct msg m;
		unsigned i;
		for (i = 0; i < POLL_BUDGET && ring_pop(r, &m); i++) {
			any = true;
			stats.received++;
			msg_fn fn = m.type < MSG_TYPE_MAX ? handlers[m.type] : NULL;
			if (!fn)
				panic("message of unknown type %u from core %u", m.type, m.src);
			fn(&m);
		}
		if (i == POLL_BUDGET && !ring_empty(r))
			coreset_add(&carry, src); /* more there: next pass, without a new mark */
	}
	return any;
}

bool msg_pending(void)
{
	return !coreset_empty(&overflow_pending) || mem_remote_pending() ||
	       !coreset_empty(&carry) || inbox_any(&inboxes[core_id()]);
}

void msg_set_idle(bool idle)
{
	__atomic_store_n(&flags[core_id()].idle, idle, __ATOMIC_RELAXED);
	/* Full fence: the idle flag must be visible before we look at the rings one last time
	 * (pairs with the fence in doorbell()). Not needed when waking up. */
	if (idle)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void msg_stats(struct msg_stats *out)
{
	*out = stats;
}

/* ---- calls and barriers ------------------------------------------------------------------------ */

static void on_call(const struct msg *m)
{
	void (*fn)(void *) = (void (*)(void *))(uintptr_t)m->w[0];
	fn((void *)(uintptr_t)m->w[1]);
}
MSG_HANDLER(MSG_CALL, on_call);

int msg_call(unsigned dst, void (*fn)(void *arg), void *arg)
{
	struct msg m = { .type = MSG_CALL, .w = { (uintptr_t)fn, (uintptr_t)arg } };
	return msg_send(dst, &m);
}

static void on_barrier(const struct msg *m)
{
	barrier_arrived[m->arg & 1]++;
	if (barrier_waiter && barrier_arrived[barrier_gen & 1] == ncores - 1)
		thread_wake(barrier_waiter);
}
MSG_HANDLER(MSG_BARRIER, on_barrier);

void core_barrier(void)
{
	/* Generation g's arrivals count in slot g & 1: a core can be at most one barrier ahead
	 * of us, because it cannot leave barrier g before we arrive at it. */
	uint32_t gen = ++barrier_gen;
	struct msg m = { .type = MSG_BARRIER, .arg = gen };
	msg_broadcast(&m);
	while (barrier_arrived[gen & 1] < ncores - 1) {
		barrier_waiter = thread_self();
		thread_block();
		barrier_waiter = NULL;
	}
	barrier_arrived[gen & 1] = 0;
}
