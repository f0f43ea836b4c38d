/*
 * msg.c - message rings between cores, handler dispatch, doorbells, barriers.
 *
 * Requests and replies (include/isle/msg.h has the contract). Every ordered pair of cores has
 * two rings: requests (msg_send, msg_call), whose handlers may send, and replies (msg_reply,
 * msg_call_reply), whose handlers never do. A core always takes the replies waiting for it, and
 * takes a request from a core only while its own reply ring to that core has room: the one
 * reply a request handler may send to the request's source then always fits. So nothing that
 * runs without a thread ever has to wait for room or allocate a queue (a send that finds its
 * ring full returns -EAGAIN and the caller keeps the work), and two cores can never each wait
 * for the other: replies, which need nothing, always drain.
 *
 * Layout in the shared region: two arrays of ncores x ncores rings, ring (src, dst) at index
 * src * ncores + dst (the owner of a ring is arithmetic, not a lookup), of 64-byte messages
 * (kernel/ring.c), and one cache line per core for its "idle" flag and one for its inbox. Ring
 * memory grows with the square of the cores, so rings get fewer slots as cores are added:
 * requests 64 up to 64 cores, 32 up to 128, 16 beyond; replies half that, at least 8 (255 cores:
 * 122 MiB in all). The only stores another core ever sees from us are to rings where we are the
 * producer (tail, slots) or consumer (head), to our bits in other cores' inboxes, and to our own
 * idle flag.
 *
 * Which rings to look at (kernel/inbox.h). Every core has an inbox in the shared region with one
 * bit per sender: a sender marks its bit after a push (request or reply), and the receiver looks
 * only at the rings its inbox names (plus those it left messages in), so a pass costs the same
 * whatever the number of cores.
 *
 * Doorbell protocol (no lost wake-ups). The sender pushes, then fences, then marks its bit in
 * the destination's inbox, then reads the destination's idle flag and sends an IPI if it is set.
 * The destination, with interrupts off, sets its idle flag, fences, then looks at its inbox once
 * more before it halts. Either the sender sees idle = 1 (and the IPI ends the halt), or the
 * destination sees the bit. A send that finds the ring full rings the doorbell too, so a halted
 * destination wakes and makes room.
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
#include "kernel/ring.h"
#include "kernel/panic.h"
#include "kernel/sched.h"

#define MSG_RING_SLOTS_MAX 64 /* request slots per ring up to 64 cores */
#define MSG_RING_SLOTS_MIN 16 /* and never fewer than this */
#define MSG_REPLY_SLOTS_MIN 8 /* reply rings have half the slots, at least this many */
#define POLL_BUDGET 32 /* messages per ring per poll, so one busy sender cannot starve others */

enum { REQ, REP }; /* the two rings of a pair */

struct core_flag {
	uint32_t idle; /* [a] written by the owner core, read by senders; see the protocol above */
} __cacheline_aligned;

static char *rings[2];                /* [I] the ring arrays; each ring's lines are [a] (ring.c) */
static size_t ring_stride[2];         /* [I] bytes per ring */
static struct core_flag *flags;       /* [I] pointer to ncores flags */
static struct inbox *inboxes;         /* [I] pointer to ncores inboxes; their bits are [a] */
static msg_fn handlers[MSG_TYPE_MAX]; /* [I] filled from the .msg_handlers section at boot */

/* [a] written by this core, read by msg_stats_of on others (COUNTER_ADD/_READ, relaxed) */
PERCORE static struct msg_stats stats;
PERCORE static struct coreset carry;          /* [o] sources left with messages to take */
PERCORE static bool in_reply;                 /* [o] a reply handler runs (it may not send) */
PERCORE static uint32_t barrier_arrived[2];   /* [o] by generation parity */
PERCORE static uint32_t barrier_gen;          /* [o] barriers entered so far */
PERCORE static struct thread *barrier_waiter; /* [o] thread waiting in core_barrier */
PERCORE static unsigned barrier_members;      /* [o] cores of the barrier it waits in */

extern const struct msg_handler __msg_handlers_start[], __msg_handlers_end[];

static struct ring *ring_of(unsigned src, unsigned dst, int kind)
{
	return (struct ring *)(rings[kind] + (size_t)(src * ncores + dst) * ring_stride[kind]);
}

/* Request slots per ring with n cores: a power of two, halved as the cores double past 64. */
static unsigned msg_slots(unsigned n)
{
	unsigned slots = MSG_RING_SLOTS_MAX;
	while (slots > MSG_RING_SLOTS_MIN && (size_t)slots * n > 64 * MSG_RING_SLOTS_MAX)
		slots /= 2;
	return slots;
}

static unsigned reply_slots(unsigned n)
{
	return MAX(msg_slots(n) / 2, MSG_REPLY_SLOTS_MIN);
}

size_t msg_shared_bytes(unsigned n)
{
	return (size_t)n * n * (ring_bytes(msg_slots(n)) + ring_bytes(reply_slots(n))) +
	       (size_t)n * (sizeof(struct core_flag) + sizeof(struct inbox)) + 4 * CACHELINE;
}

void msg_init(void)
{
	unsigned n = ncores, slots[2] = { msg_slots(n), reply_slots(n) };
	for (int k = REQ; k <= REP; k++) {
		ring_stride[k] = ring_bytes(slots[k]);
		/* Not zeroed: ring_init writes all a ring needs (its slots need no initial value). */
		rings[k] = boot_alloc_raw((size_t)n * n * ring_stride[k]);
	}
	flags = boot_alloc(sizeof(*flags) * n);
	inboxes = boot_alloc(sizeof(*inboxes) * n);
	if (!rings[REQ] || !rings[REP] || !flags || !inboxes)
		boot_fail("no shared memory for %u x %u message rings", n, n);
	for (unsigned src = 0; src < n; src++)
		for (unsigned dst = 0; dst < n; dst++)
			if (src != dst) /* no ring from a core to itself */
				for (int k = REQ; k <= REP; k++)
					ring_init(ring_of(src, dst, k), slots[k]);
	log_info("msg: %u rings of %u request and %u reply slots, %zu KiB in all", n * (n - 1),
	         slots[REQ], slots[REP],
	         ((size_t)n * n * (ring_stride[REQ] + ring_stride[REP])) >> 10);
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
	/* Relaxed: the fence above orders it after our push; msg_set_idle stores it. */
	if (__atomic_load_n(&flags[dst].idle, __ATOMIC_RELAXED)) {
		COUNTER_ADD(stats.doorbells, 1);
		arch_doorbell(dst);
	}
}

/* Pushes m into ring (self, dst, kind). A thread waits for room; anything else gets -EAGAIN. */
static int push(unsigned dst, struct msg *m, int kind)
{
	if (dst >= ncores || dst == core_id() || m->type == MSG_NONE || m->type >= MSG_TYPE_MAX)
		return -EINVAL;
	if (in_reply) {
		static bool
		        said; /* once per image: a broken handler would say it at every message */
		if (!said) {
			said = true;
			log_error("msg: a reply handler (type %u) tried to send type %u: refused",
			          m->type, m->type);
		}
		return -EPERM;
	}
	m->src = (uint16_t)core_id();
	struct ring *r = ring_of(core_id(), dst, kind);
	if (ring_push(r, m)) {
		COUNTER_ADD(stats.sent, 1);
		doorbell(dst);
		return 0;
	}
	COUNTER_ADD(stats.full_waits, 1);
	if (!thread_self()) {
		doorbell(dst); /* a halted destination wakes and makes room */
		return -EAGAIN;
	}
	/* Back-pressure: wait until the destination has made room. */
	do {
		doorbell(dst);
		thread_yield();
	} while (!ring_push(r, m));
	COUNTER_ADD(stats.sent, 1);
	doorbell(dst);
	return 0;
}

int msg_send(unsigned dst, struct msg *m)
{
	return push(dst, m, REQ);
}

int msg_reply(unsigned dst, struct msg *m)
{
	return push(dst, m, REP);
}

int msg_broadcast(struct msg *m)
{
	int err = 0;
	for (unsigned c = 0; c < ncores; c++) {
		if (c == core_id())
			continue;
		struct msg copy = *m;
		int e = msg_send(c, &copy);
		if (e && !err)
			err = e;
	}
	return err;
}

static void dispatch(const struct msg *m)
{
	COUNTER_ADD(stats.received, 1);
	msg_fn fn = m->type < MSG_TYPE_MAX ? handlers[m->type] : NULL;
	if (!fn)
		panic("message of unknown type %u from core %u", m->type, m->src);
	fn(m);
}

/* Takes what ring (src, self) of this kind holds, up to the budget; true if it left some. For
 * requests, only while the reply ring back to src has room. */
static bool take(unsigned src, int kind, bool *any)
{
	unsigned self = core_id();
	struct ring *r = ring_of(src, self, kind);
	struct ring *back = ring_of(self, src, REP);
	struct msg m;
	for (unsigned i = 0; i < POLL_BUDGET; i++) {
		if (kind == REQ && !ring_has_room(back))
			return !ring_empty(r); /* no room for a reply: leave the requests there */
		if (!ring_pop(r, &m))
			return false;
		*any = true;
		in_reply = kind == REP;
		dispatch(&m);
		in_reply = false;
	}
	return !ring_empty(r);
}

bool msg_poll(void)
{
	bool any = false;
	unsigned self = core_id();
	struct coreset set = carry;
	memset(&carry, 0, sizeof(carry));
	inbox_take(&inboxes[self], &set);
	for (int s; (s = coreset_first(&set)) >= 0;) {
		unsigned src = (unsigned)s;
		coreset_del(&set, src);
		if (src >= ncores || src == self)
			continue; /* no such ring: a stray bit costs nothing more */
		/* Replies first: they need nothing, and they make room for our own requests' replies
		 * on the other side. */
		bool left = take(src, REP, &any);
		left |= take(src, REQ, &any);
		if (left)
			coreset_add(&carry, src); /* more there: next pass, without a new mark */
	}
	return any;
}

bool msg_pending(void)
{
	return mem_remote_pending() || !coreset_empty(&carry) || inbox_any(&inboxes[core_id()]);
}

void msg_set_idle(bool idle)
{
	/* Relaxed: read by senders in doorbell(); the fence below orders it when going idle. */
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

void msg_stats_of(unsigned core, struct msg_stats *out)
{
	const struct msg_stats *theirs = percore_of(&stats, core);
	*out = (struct msg_stats){ 0 };
	if (theirs) {
		out->sent = COUNTER_READ(theirs->sent);
		out->received = COUNTER_READ(theirs->received);
		out->doorbells = COUNTER_READ(theirs->doorbells);
		out->full_waits = COUNTER_READ(theirs->full_waits);
	}
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

int msg_call_reply(unsigned dst, void (*fn)(void *arg), void *arg)
{
	struct msg m = { .type = MSG_CALL, .w = { (uintptr_t)fn, (uintptr_t)arg } };
	return msg_reply(dst, &m);
}

static void on_barrier(const struct msg *m)
{
	barrier_arrived[m->arg & 1]++;
	if (barrier_waiter && barrier_arrived[barrier_gen & 1] == barrier_members - 1)
		thread_wake(barrier_waiter);
}
MSG_HANDLER(MSG_BARRIER, on_barrier);

void core_barrier_of(unsigned n)
{
	if (n > ncores)
		n = ncores;
	if (n <= 1 || core_id() >= n)
		return;
	/* Generation g's arrivals count in slot g & 1: a core can be at most one barrier ahead
	 * of us, because it cannot leave barrier g before we arrive at it. */
	uint32_t gen = ++barrier_gen;
	barrier_members = n;
	for (unsigned c = 0; c < n; c++) {
		struct msg m = { .type = MSG_BARRIER, .arg = gen };
		if (c != core_id())
			msg_send(c, &m);
	}
	while (barrier_arrived[gen & 1] < n - 1) {
		barrier_waiter = thread_self();
		thread_block();
		barrier_waiter = NULL;
	}
	barrier_arrived[gen & 1] = 0;
}

void core_barrier(void)
{
	core_barrier_of(ncores);
}
