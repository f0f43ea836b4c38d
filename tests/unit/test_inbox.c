/*
 * test_inbox.c - the inbox bits (kernel/inbox.h) with real threads: several senders, each with
 * its own SPSC ring (kernel/ring.c) to one receiver, exactly as msg.c uses them, including the
 * idle flag and the doorbell. The receiver drains only the rings its inbox names, keeps what
 * its budget leaves behind, and "halts" (waits on a condition variable) when nothing is marked.
 * A lost message or a lost wake-up shows as a halt with messages still in some ring: the halt
 * waits at most 2 s, and a wait that times out with work left is a failure. Also built under
 * ThreadSanitizer (test_inbox_tsan) for data races.
 */
#include "kernel/inbox.h"
#include "kernel/ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "tests/unit/test.h"

#define MAX_SENDERS 8
#define SLOTS 8
#define BUDGET 3

struct world {
	unsigned senders, per_sender;
	struct ring *ring[MAX_SENDERS];
	struct inbox inbox;
	unsigned idle;        /* the receiver's idle flag, as in msg.c (atomic) */
	pthread_mutex_t lock; /* the "halt": a condition variable standing in for hlt + IPI */
	pthread_cond_t wake;
	unsigned doorbells;              /* IPIs sent (under lock) */
	unsigned long received;          /* receiver only */
	unsigned long next[MAX_SENDERS]; /* receiver only: the sequence number expected next */
	int lost_wakeups; /* receiver only: halts that timed out with messages pending */
	int bad_order;    /* receiver only */
};

struct sender_arg {
	struct world *w;
	unsigned id;
};

static void doorbell(struct world *w)
{
	pthread_mutex_lock(&w->lock);
	w->doorbells++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

static void *sender(void *arg)
{
	struct sender_arg *a = arg;
	struct world *w = a->w;
	for (unsigned long i = 0; i < w->per_sender; i++) {
		struct msg m = { .type = 1, .src = (uint16_t)a->id, .w = { i } };
		while (!ring_push(w->ring[a->id], &m)) {
			/* full: make sure the receiver knows, then retry (msg.c yields here) */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			inbox_mark(&w->inbox, a->id);
			if (__atomic_load_n(&w->idle, __ATOMIC_RELAXED))
				doorbell(w);
			sched_yield();
		}
		/* msg.c's order: push, full fence, mark, look at the idle flag */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		inbox_mark(&w->inbox, a->id);
		if (__atomic_load_n(&w->idle, __ATOMIC_RELAXED))
			doorbell(w);
		if (i % 64 == 0)
			sched_yield();
	}
	return NULL;
}

static void *receiver(void *arg)
{
	struct world *w = arg;
	struct coreset carry = { { 0 } }; /* rings the budget left messages in */
	unsigned long total = (unsigned long)w->senders * w->per_sender;
	while (w->received < total) {
		struct coreset set = carry;
		memset(&carry, 0, sizeof(carry));
		inbox_take(&w->inbox, &set);
		bool did = false;
		for (int s; (s = coreset_first(&set)) >= 0;) {
			coreset_del(&set, (unsigned)s);
			struct msg m;
			unsigned n = 0;
			while (n < BUDGET && ring_pop(w->ring[s], &m)) {
				if (m.w[0] != w->next[s])
					w->bad_order++;
				w->next[s] = m.w[0] + 1;
				w->received++;
				n++;
				did = true;
			}
			if (n == BUDGET && !ring_empty(w->ring[s]))
				coreset_add(&carry, (unsigned)s);
		}
		if (did || !coreset_empty(&carry))
			continue;
		/* Going idle, as sched.c does: flag, fence, last look, halt. */
		__atomic_store_n(&w->idle, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!inbox_any(&w->inbox)) {
			pthread_mutex_lock(&w->lock);
			unsigned seen = w->doorbells;
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 2;
			int rc = 0;
			while (w->doorbells == seen && rc == 0)
				rc = pthread_cond_timedwait(&w->wake, &w->lock, &until);
			pthread_mutex_unlock(&w->lock);
			if (rc != 0) { /* no doorbell for 2 s: was anything left? */
				bool left = false;
				for (unsigned s = 0; s < w->senders; s++)
					left |= !ring_empty(w->ring[s]);
				if (left) {
					w->lost_wakeups++;
					break; /* a message nobody will ever be told about */
				}
			}
		}
		__atomic_store_n(&w->idle, 0, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&w->idle, 0, __ATOMIC_RELAXED);
	return NULL;
}

static void run(unsigned senders, unsigned per_sender)
{
	static struct world w;
	pthread_t rx, tx[MAX_SENDERS];
	struct sender_arg args[MAX_SENDERS];
	memset(&w, 0, sizeof(w));
	w.senders = senders;
	w.per_sender = per_sender;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.wake, NULL);
	for (unsigned s = 0; s < senders; s++) {
		w.ring[s] = aligned_alloc(CACHELINE, ring_bytes(SLOTS));
		REQUIRE(w.ring[s] != NULL);
		ring_init(w.ring[s], SLOTS);
	}
	/* pthread_create publishes the initialised rings to the threads. */
	REQUIRE(pthread_create(&rx, NULL, receiver, &w) == 0);
	for (unsigned s = 0; s < senders; s++) {
		args[s] = (struct sender_arg){ &w, s };
		REQUIRE(pthread_create(&tx[s], NULL, sender, &args[s]) == 0);
	}
	for (unsigned s = 0; s < senders; s++)
		pthread_join(tx[s], NULL);
	pthread_join(rx, NULL);
	CHECK_EQ(w.received, (unsigned long)senders * per_sender);
	CHECK_EQ(w.lost_wakeups, 0);
	CHECK_EQ(w.bad_order, 0);
	CHECK(!inbox_any(&w.inbox) || w.received == (unsigned long)senders * per_sender);
	for (unsigned s = 0; s < senders; s++) {
		CHECK(ring_empty(w.ring[s]));
		free(w.ring[s]);
	}
}

/* Single-threaded: marks, takes, words beyond the first, a bit marked twice. */
TEST(marks_and_takes)
{
	static struct inbox ib;
	struct coreset set = { { 0 } };
	memset(&ib, 0, sizeof(ib));
	CHECK(!inbox_any(&ib));
	CHECK(!inbox_take(&ib, &set));
	CHECK(coreset_empty(&set));
	inbox_mark(&ib, 3);
	inbox_mark(&ib, 3);
	inbox_mark(&ib, 64);
	inbox_mark(&ib, MAX_CORES - 1);
	CHECK(inbox_any(&ib));
	CHECK(inbox_take(&ib, &set));
	CHECK(!inbox_any(&ib));
	CHECK(coreset_has(&set, 3) && coreset_has(&set, 64) && coreset_has(&set, MAX_CORES - 1));
	CHECK(!coreset_has(&set, 4) && !coreset_has(&set, 0));
	CHECK_EQ(coreset_first(&set), 3);
	coreset_del(&set, 3);
	CHECK_EQ(coreset_first(&set), 64);
	coreset_del(&set, 64);
	CHECK_EQ(coreset_first(&set), MAX_CORES - 1);
	coreset_del(&set, MAX_CORES - 1);
	CHECK(coreset_empty(&set));
	CHECK_EQ(coreset_first(&set), -1);
}

/* coreset_next walks the members in order, within a word and across words. */
TEST(coreset_walk)
{
	static const unsigned members[] = { 0, 1, 63, 64, 130, MAX_CORES - 1 };
	struct coreset set = { { 0 } };
	CHECK_EQ(coreset_next(&set, 0), -1);
	for (unsigned i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		coreset_add(&set, members[i]);
	unsigned n = 0;
	for (int c = coreset_first(&set); c >= 0; c = coreset_next(&set, (unsigned)c)) {
		REQUIRE(n < sizeof(members) / sizeof(members[0]));
		CHECK_EQ(c, (int)members[n]);
		n++;
	}
	CHECK_EQ(n, sizeof(members) / sizeof(members[0]));
	CHECK_EQ(coreset_next(&set, MAX_CORES - 1), -1);
	CHECK_EQ(coreset_next(&set, 64), 130);
}

TEST(one_sender)
{
	run(1, 20000);
}

TEST(many_senders_small_rings)
{
	run(MAX_SENDERS, 20000);
}

int main(void)
{
	RUN(marks_and_takes);
	RUN(coreset_walk);
	RUN(one_sender);
	RUN(many_senders_small_rings);
	TEST_EXIT();
}
