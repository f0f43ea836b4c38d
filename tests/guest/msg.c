/*
 * msg - message rings: order, back-pressure, barriers, calls.
 *
 *  msg_order       every core sends N sequence-numbered messages of its own type (MSG_SEQ)
 *                  to every other core at the same time. The rings hold 64 messages, so
 *                  senders must wait for room (back-pressure). Each receiver checks, in its
 *                  handler, that every sender's messages arrive complete and in order, and
 *                  acknowledges every ACK_EVERY-th one with a reply sent from the handler
 *                  (which may not block, and need not: a request handler's one reply always
 *                  fits; msg_reply must return 0). Totals are checked after two barriers,
 *                  and the acknowledgements (replies, not ordered with the barrier's
 *                  requests) once they have all arrived. msg_stats full_waits is reported (it
 *                  is expected to be positive with two or more cores, but TCG timing is not a
 *                  contract).
 *  msg_broadcast   one broadcast reaches every other core exactly once.
 *  msg_barrier     many core_barrier() calls in a row: nobody leaves barrier r before every
 *                  core has reached it, and nobody gets more than one barrier ahead.
 *  msg_call        msg_call runs a function on the chosen core; bad destinations are refused.
 *
 * Usage: test-msg.elf [-- N]  (messages per ordered pair of cores; default below)
 */
#include <stdio.h>
#include <stdlib.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "kernel/compiler.h"
#include "gtest.h"

#define MAX_NCORES 64
#define DEFAULT_N 20000 /* per ordered pair at 2 cores; scaled down for more cores */
#define MIN_N 2000      /* never fewer per pair: far more than a ring holds */
#define ACK_EVERY 100
#define BARRIERS 25

enum { MSG_SEQ = MSG_USER + 1, MSG_ACK, MSG_HELLO };

static unsigned n_per_pair;

/* Receive-side state of each core (handlers run on it one at a time). */
PERCORE static uint64_t next_seq[MAX_NCORES]; /* next sequence number expected from core c */
PERCORE static uint64_t next_ack[MAX_NCORES]; /* next acknowledgement expected from core c */
PERCORE static uint64_t out_of_order, bad_payload, acks_out_of_order, hellos, ack_errors;

static uint64_t payload(uint64_t seq, unsigned src)
{
	return seq * 0x9E3779B97F4A7C15ull ^ src;
}

static void on_seq(const struct msg *m)
{
	uint64_t seq = m->w[0];
	if (seq != next_seq[m->src])
		out_of_order++;
	next_seq[m->src] = seq + 1;
	if (m->w[1] != payload(seq, m->src) || m->w[6] != ~seq)
		bad_payload++;
	if ((seq + 1) % ACK_EVERY == 0) {
		struct msg ack = { .type = MSG_ACK, .w = { seq } };
		if (msg_reply(m->src, &ack) != 0) /* the request's one reply: it always fits */
			ack_errors++;
	}
}
MSG_HANDLER(MSG_SEQ, on_seq);

static void on_ack(const struct msg *m)
{
	if (m->w[0] != next_ack[m->src] * ACK_EVERY + ACK_EVERY - 1)
		acks_out_of_order++;
	next_ack[m->src]++;
}
MSG_HANDLER(MSG_ACK, on_ack);

static void on_hello(const struct msg *m)
{
	if (m->arg == 0xC0FFEE && m->src == 0)
		hellos++;
}
MSG_HANDLER(MSG_HELLO, on_hello);

/* What each core found, copied out of its PERCORE state for main. */
struct core_report {
	uint64_t received[MAX_NCORES]; /* messages handled from core c */
	uint64_t acks[MAX_NCORES];     /* acknowledgements handled from core c */
	uint64_t out_of_order, bad_payload, acks_out_of_order, hellos, ack_errors;
	struct msg_stats stats;
	int send_errors;
} __attribute__((aligned(64)));
static struct core_report reports[MAX_NCORES];

static int order_worker(void *arg)
{
	(void)arg;
	unsigned self = core_id(), n = core_count();
	struct core_report *r = &reports[self];
	core_barrier(); /* start together */
	if (self == 0) {
		struct msg hello = { .type = MSG_HELLO, .arg = 0xC0FFEE };
		r->send_errors += msg_broadcast(&hello) != 0;
	}
	for (uint64_t seq = 0; seq < n_per_pair; seq++) {
		for (unsigned k = 1; k < n; k++) {
			unsigned dst = (self + k) % n;
			struct msg m = { .type = MSG_SEQ, .w = { seq, payload(seq, self) } };
			m.w[6] = ~seq;
			if (msg_send(dst, &m) != 0)
				r->send_errors++;
		}
	}
	/* Barrier 1: everything sent to us is handled (rings are FIFO and the barrier message
	 * comes last). Barrier 2: so are the acknowledgements those handlers sent back. */
	core_barrier();
	core_barrier();
	/* The acknowledgements are replies: they come on their own rings, so wait for them (at
	 * most 10 s). */
	for (uint64_t end = now_ns() + 10000000000ull; now_ns() < end;) {
		bool all = true;
		for (unsigned c = 0; c < n; c++)
			if (c != self && next_ack[c] < n_per_pair / ACK_EVERY)
				all = false;
		if (all)
			break;
		sleep_ms(1);
	}
	for (unsigned c = 0; c < n; c++) {
		r->received[c] = next_seq[c];
		r->acks[c] = next_ack[c];
	}
	r->out_of_order = out_of_order;
	r->bad_payload = bad_payload;
	r->acks_out_of_order = acks_out_of_order;
	r->hellos = hellos;
	r->ack_errors = ack_errors;
	msg_stats(&r->stats);
	return 0;
}

static void test_order(void)
{
	unsigned n = core_count();
	gtest_begin("msg_order");
	uint64_t t0 = now_ns();
	struct thread *t[MAX_NCORES];
	for (unsigned c = 0; c < n; c++)
		CHECK((t[c] = thread_create(c, order_worker, NULL)) != NULL);
	for (unsigned c = 0; c < n; c++)
		if (t[c])
			CHECK(thread_join(t[c], NULL) == 0);
	uint64_t full_waits = 0, sent = 0, received = 0, doorbells = 0;
	for (unsigned c = 0; c < n; c++) {
		const struct core_report *r = &reports[c];
		CHECKF(r->out_of_order == 0, "core %u: %lu messages out of order", c,
		       r->out_of_order);
		CHECKF(r->bad_payload == 0, "core %u: %lu messages corrupted", c, r->bad_payload);
		CHECKF(r->acks_out_of_order == 0, "core %u: %lu acks out of order", c,
		       r->acks_out_of_order);
		CHECK(r->send_errors == 0);
		CHECKF(r->ack_errors == 0, "core %u: %lu replies failed", c, r->ack_errors);
		for (unsigned s = 0; s < n; s++) {
			if (s == c)
				continue;
			CHECKF(r->received[s] == n_per_pair,
			       "core %u got %lu of %u messages from %u", c, r->received[s],
			       n_per_pair, s);
			CHECKF(r->acks[s] == n_per_pair / ACK_EVERY,
			       "core %u got %lu of %u acks from %u", c, r->acks[s],
			       n_per_pair / ACK_EVERY, s);
		}
		full_waits += r->stats.full_waits;
		sent += r->stats.sent;
		received += r->stats.received;
		doorbells += r->stats.doorbells;
	}
	if (n > 1)
		CHECK(sent >= (uint64_t)n * (n - 1) * n_per_pair);
	printf("msg: %u cores, %u messages per pair, %lu sent, %lu received, %lu full waits, %lu "
	       "doorbells, %lu ms\n",
	       n, n_per_pair, sent, received, full_waits, doorbells, (now_ns() - t0) / 1000000);
	if (n > 1 && full_waits == 0)
		printf("msg: note: no sender ever found a ring full\n");
	gtest_end();

	gtest_begin("msg_broadcast");
	for (unsigned c = 1; c < n; c++)
		CHECKF(reports[c].hellos == 1, "core %u got %lu broadcasts", c, reports[c].hellos);
	CHECK(reports[0].hellos == 0);
	gtest_end();
}

/* ---- barriers ------------------------------------------------------------------------------- */

static uint32_t phase[MAX_NCORES]; /* [a] barrier round each core is in */
static unsigned barrier_errors[MAX_NCORES];

static int barrier_worker(void *arg)
{
	(void)arg;
	unsigned self = core_id(), n = core_count();
	for (uint32_t r = 0; r < BARRIERS; r++) {
		/* Relaxed is enough: the barrier's messages (release/acquire rings) order it. */
		__atomic_store_n(&phase[self], r, __ATOMIC_RELAXED);
		if (r % 5 == 3)
			sleep_ms(1 + self % 3); /* someone is late */
		core_barrier();
		for (unsigned c = 0; c < n; c++) {
			uint32_t p = __atomic_load_n(&phase[c], __ATOMIC_RELAXED);
			if (p < r || p > r + 1)
				barrier_errors[self]++;
		}
	}
	return 0;
}

static void test_barrier(void)
{
	gtest_begin("msg_barrier");
	struct thread *t[MAX_NCORES];
	for (unsigned c = 0; c < core_count(); c++)
		CHECK((t[c] = thread_create(c, barrier_worker, NULL)) != NULL);
	for (unsigned c = 0; c < core_count(); c++)
		if (t[c])
			CHECK(thread_join(t[c], NULL) == 0);
	for (unsigned c = 0; c < core_count(); c++)
		CHECKF(barrier_errors[c] == 0, "core %u saw %u cores in the wrong barrier round", c,
		       barrier_errors[c]);
	gtest_end();
}

/* ---- msg_call --------------------------------------------------------------------------------- */

static unsigned called_on[MAX_NCORES]; /* [a] 1 + the core that ran the call */

static void record_core(void *arg)
{
	unsigned *slot = arg;
	/* Release: pairs with main's acquire load. */
	__atomic_store_n(slot, core_id() + 1, __ATOMIC_RELEASE);
}

static void test_call(void)
{
	unsigned n = core_count();
	gtest_begin("msg_call");
	for (unsigned c = 1; c < n; c++)
		CHECK(msg_call(c, record_core, &called_on[c]) == 0);
	uint64_t t0 = now_ns();
	for (unsigned c = 1; c < n; c++) {
		while (!__atomic_load_n(&called_on[c], __ATOMIC_ACQUIRE) &&
		       now_ns() - t0 < 2000000000ull)
			sleep_ms(1);
		CHECKF(__atomic_load_n(&called_on[c], __ATOMIC_ACQUIRE) == c + 1,
		       "call for core %u ran on %u", c, called_on[c] - 1);
	}
	CHECK(msg_call(core_id(), record_core, &called_on[0]) == -EINVAL); /* not to oneself */
	CHECK(msg_call(n, record_core, &called_on[0]) == -EINVAL);
	struct msg bad = { .type = MSG_NONE };
	CHECK(msg_send(n > 1 ? 1 : 0, &bad) == -EINVAL);
	bad.type = MSG_TYPE_MAX;
	CHECK(msg_send(n > 1 ? 1 : 0, &bad) == -EINVAL);
	gtest_end();
}

int main(int argc, char **argv)
{
	unsigned n = core_count();
	n_per_pair = n > 1 ? DEFAULT_N / (n - 1) : 0;
	if (n_per_pair < MIN_N && n > 1)
		n_per_pair = MIN_N;
	if (argc > 1)
		n_per_pair = (unsigned)atoi(argv[1]);
	n_per_pair -= n_per_pair % ACK_EVERY;
	test_order();
	test_barrier();
	test_call();
	return gtest_status();
}
