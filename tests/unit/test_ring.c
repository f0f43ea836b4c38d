/*
 * test_ring.c - host tests of the single-producer/single-consumer message ring (kernel/ring.c):
 * FIFO order, back-pressure when full, 32-bit index wrap-around, and a two-thread stress in
 * which the consumer checks that every message arrives exactly once, whole and in order.
 * Built with ASan+UBSan (test_ring) and with ThreadSanitizer (test_ring_tsan, see ring.mk).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "kernel/ring.h"
#include "tests/unit/test.h"

#ifdef __SANITIZE_THREAD__
/* Under ThreadSanitizer a data race is a failure of this test: stop at the first report. */
const char *__tsan_default_options(void)
{
	return "halt_on_error=1";
}
#endif

static struct ring *ring_new(unsigned nslots)
{
	size_t bytes = ring_bytes(nslots);
	struct ring *r = bytes ? aligned_alloc(CACHELINE, bytes) : NULL;

	if (r)
		memset(r, 0xa5, bytes); /* garbage, so the test relies on ring_init alone */
	return r;
}

/* A message whose every field is derived from seq, so a torn or stale copy is detected. */
static struct msg msg_make(uint64_t seq)
{
	struct msg m = { .type = 1 + (seq % 0xfffe),
		         .src = (uint16_t)(seq * 7),
		         .arg = (uint32_t)seq };

	for (int i = 0; i < 7; i++)
		m.w[i] = seq * 0x9e3779b97f4a7c15ull + (uint64_t)i;
	return m;
}

static bool msg_is(const struct msg *m, uint64_t seq)
{
	struct msg want = msg_make(seq);

	return memcmp(m, &want, sizeof(want)) == 0;
}

TEST(bytes_rejects_bad_sizes)
{
	CHECK_EQ(ring_bytes(0), 0);
	CHECK_EQ(ring_bytes(1), 0);
	CHECK_EQ(ring_bytes(3), 0);
	CHECK_EQ(ring_bytes(48), 0);
	CHECK_EQ(ring_bytes(0x80000001u), 0);
	CHECK(ring_bytes(2) > 2 * sizeof(struct msg));
	CHECK_EQ(ring_bytes(2) % CACHELINE, 0);
	CHECK_EQ(ring_bytes(1024) - ring_bytes(512), 512 * sizeof(struct msg));
}

TEST(push_pop_order)
{
	struct ring *r = ring_new(8);
	struct msg m;

	REQUIRE(r);
	ring_init(r, 8);
	CHECK(ring_empty(r));
	CHECK(!ring_pop(r, &m));
	for (uint64_t i = 0; i < 5; i++) {
		struct msg in = msg_make(i);
		CHECK(ring_push(r, &in));
	}
	CHECK(!ring_empty(r));
	for (uint64_t i = 0; i < 5; i++) {
		CHECK(ring_pop(r, &m));
		CHECK(msg_is(&m, i));
	}
	CHECK(ring_empty(r));
	CHECK(!ring_pop(r, &m));
	free(r);
}

TEST(full_refuses_then_accepts)
{
	struct ring *r = ring_new(4);
	struct msg m;

	REQUIRE(r);
	ring_init(r, 4);
	CHECK_EQ(ring_free_slots(r), 4);
	for (uint64_t i = 0; i < 4; i++) {
		m = msg_make(i);
		CHECK(ring_push(r, &m));
		CHECK_EQ(ring_free_slots(r), 3 - i);
	}
	m = msg_make(99);
	CHECK(!ring_push(r, &m)); /* full: refused, nothing overwritten */
	CHECK(!ring_push(r, &m));
	CHECK_EQ(ring_free_slots(r), 0);

	CHECK(ring_pop(r, &m));
	CHECK(msg_is(&m, 0));
	CHECK_EQ(ring_free_slots(r), 1);
	m = msg_make(4);
	CHECK(ring_push(r, &m)); /* one slot free again */
	CHECK(!ring_push(r, &m));
	for (uint64_t i = 1; i <= 4; i++) {
		CHECK(ring_pop(r, &m));
		CHECK(msg_is(&m, i));
	}
	CHECK(ring_empty(r));
	CHECK_EQ(ring_free_slots(r), 4);
	free(r);
}

/* Indexes start just below 2^32, so tail, head and tail - head all wrap during the test. */
TEST(index_wraparound)
{
	static const uint32_t starts[] = { UINT32_MAX - 5, UINT32_MAX, UINT32_MAX - 1, 0x7ffffffd };
	struct ring *r = ring_new(4);
	struct msg m;

	REQUIRE(r);
	for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
		uint64_t pushed = 0, popped = 0;

		ring_init_at(r, 4, starts[s]);
		CHECK(ring_empty(r));
		CHECK_EQ(ring_free_slots(r), 4);
		/* Go through 40 messages in bursts of 1..4 so the ring is full across the wrap. */
		for (int round = 0; round < 16; round++) {
			unsigned burst = 1 + round % 4;

			for (unsigned i = 0; i < burst; i++) {
				m = msg_make(pushed);
				CHECK(ring_push(r, &m));
				pushed++;
			}
			if (burst == 4) {
				CHECK(!ring_push(r, &m));
				CHECK_EQ(ring_free_slots(r), 0);
			}
			while (ring_pop(r, &m)) {
				CHECK(msg_is(&m, popped));
				popped++;
			}
			CHECK_EQ(popped, pushed);
			CHECK(ring_empty(r));
			CHECK_EQ(ring_free_slots(r), 4);
		}
	}
	free(r);
}

/* ---- two threads ------------------------------------------------------------------------- */

#define STRESS_MSGS 2000000ull
#define STRESS_SECONDS 30

struct stress {
	struct ring *r;
	struct timespec give_up; /* both threads stop after this (CLOCK_MONOTONIC) */
	uint64_t pushed;         /* written by the producer thread, read after join */
	uint64_t popped;         /* written by the consumer thread, read after join */
	uint64_t bad;            /* consumer: messages that were not the expected one */
	uint64_t full;           /* producer: pushes refused (the ring was full) */
};

static bool past(const struct timespec *limit)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > limit->tv_sec ||
	       (now.tv_sec == limit->tv_sec && now.tv_nsec >= limit->tv_nsec);
}

static void *stress_producer(void *arg)
{
	struct stress *s = arg;

	for (uint64_t seq = 0; seq < STRESS_MSGS; seq++) {
		struct msg m = msg_make(seq);

		while (!ring_push(s->r, &m)) {
			s->full++;
			if ((s->full & 1023) == 0 && past(&s->give_up))
				return NULL;
			sched_yield(); /* let the consumer run even on one CPU */
		}
		s->pushed = seq + 1;
	}
	return NULL;
}

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;
	uint64_t idle = 0;
	struct msg m;

	while (s->popped < STRESS_MSGS) {
		if (!ring_pop(s->r, &m)) {
			idle++;
			if ((idle & 1023) == 0 && past(&s->give_up))
				return NULL;
			sched_yield();
			continue;
		}
		if (!msg_is(&m, s->popped) && s->bad++ < 5)
			fprintf(stderr, "  message %llu: got arg %u\n",
			        (unsigned long long)s->popped, m.arg);
		s->popped++;
	}
	if (ring_pop(s->r, &m)) /* exactly once: nothing may follow the last message */
		s->bad++;
	return NULL;
}

static void stress_run(unsigned nslots, uint32_t start)
{
	struct stress s = { .r = ring_new(nslots) };
	pthread_t prod, cons;

	REQUIRE(s.r);
	ring_init_at(s.r, nslots, start);
	clock_gettime(CLOCK_MONOTONIC, &s.give_up);
	s.give_up.tv_sec += STRESS_SECONDS;
	/* pthread_create publishes the initialised ring and s to both threads. */
	REQUIRE(pthread_create(&cons, NULL, stress_consumer, &s) == 0);
	REQUIRE(pthread_create(&prod, NULL, stress_producer, &s) == 0);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	CHECK_EQ(s.pushed, STRESS_MSGS);
	CHECK_EQ(s.popped, STRESS_MSGS);
	CHECK_EQ(s.bad, 0);
	CHECK(ring_empty(s.r));
	CHECK_EQ(ring_free_slots(s.r), nslots);
	free(s.r);
}

/* A small ring, so the producer keeps running into a full ring and the consumer an empty one. */
TEST(stress_two_threads_small_ring)
{
	stress_run(8, UINT32_MAX - 1000000); /* crosses the 32-bit wrap on the way */
}

TEST(stress_two_threads_large_ring)
{
	stress_run(1024, 0);
}

int main(void)
{
	RUN(bytes_rejects_bad_sizes);
	RUN(push_pop_order);
	RUN(full_refuses_then_accepts);
	RUN(index_wraparound);
	RUN(stress_two_threads_small_ring);
	RUN(stress_two_threads_large_ring);
	TEST_EXIT();
}
