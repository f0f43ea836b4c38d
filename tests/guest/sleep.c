/*
 * sleep - time and sleeping.
 *
 *  sleep_accuracy    on every core at once, sleep_ms and sleep_ns of 1, 5, 20 and 50 ms take
 *                    at least as long as asked; the median lateness of a core's sleeps is at
 *                    most TOLERANCE_MS, and none is later than STALL_MS. (A timer that fires
 *                    late makes most sleeps late; a host with fewer CPUs than the VM stops
 *                    every vCPU now and then for tens of milliseconds, which hits one sleep.)
 *  now_monotonic     now_ns never goes backwards over many reads on every core, and the
 *                    clock agrees across cores: a time read on one core before a message is
 *                    never later than a time read on the receiving core after it.
 *  sleep_order       on every core, many threads sleeping until different deadlines (created
 *                    in a shuffled order) wake in deadline order and never early.
 */
#include <stdio.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "gtest.h"

#define MAX_NCORES 64
#define TOLERANCE_MS 30
#define STALL_MS 1000
#define SLEEPERS 40           /* per core, for sleep_order */
#define ORDER_STEP_NS 1000000 /* deadlines 1 ms apart */
#define MS 1000000ull

static struct thread *t[MAX_NCORES];

static void run_everywhere(thread_fn fn, void *arg)
{
	for (unsigned c = 0; c < core_count(); c++)
		CHECK((t[c] = thread_create(c, fn, arg)) != NULL);
	for (unsigned c = 0; c < core_count(); c++) {
		int ret = -1;
		if (t[c]) {
			CHECK(thread_join(t[c], &ret) == 0);
			CHECK(ret == 0);
		}
	}
}

/* ---- accuracy ------------------------------------------------------------------------------- */

static uint64_t worst_late_ns[MAX_NCORES];

/* Returns how late the sleep was, in ns. */
static uint64_t check_sleep(uint64_t ms, int use_ns)
{
	uint64_t t0 = now_ns();
	if (use_ns)
		sleep_ns(ms * MS);
	else
		sleep_ms(ms);
	uint64_t took = now_ns() - t0;
	CHECKF(took >= ms * MS, "core %u: sleep_%s(%lu ms) returned after %lu us", core_id(),
	       use_ns ? "ns" : "ms", ms, took / 1000);
	CHECKF(took <= (ms + STALL_MS) * MS, "core %u: sleep_%s(%lu ms) took %lu us", core_id(),
	       use_ns ? "ns" : "ms", ms, took / 1000);
	uint64_t late = took > ms * MS ? took - ms * MS : 0;
	if (late > worst_late_ns[core_id()])
		worst_late_ns[core_id()] = late;
	return late;
}

static int accuracy(void *arg)
{
	(void)arg;
	static const uint64_t ms[] = { 1, 5, 20, 50 };
	enum { N = 2 * sizeof(ms) / sizeof(ms[0]) };
	uint64_t late[N];
	core_barrier(); /* all cores sleep at the same time */
	for (unsigned i = 0; i < N / 2; i++) {
		late[2 * i] = check_sleep(ms[i], 0);
		late[2 * i + 1] = check_sleep(ms[i], 1);
	}
	for (unsigned i = 1; i < N; i++) /* insertion sort, for the median */
		for (unsigned j = i; j > 0 && late[j - 1] > late[j]; j--) {
			uint64_t x = late[j];
			late[j] = late[j - 1];
			late[j - 1] = x;
		}
	CHECKF(late[N / 2] <= TOLERANCE_MS * MS, "core %u: sleeps %lu us late (median)", core_id(),
	       late[N / 2] / 1000);
	uint64_t t0 = now_ns();
	sleep_ns(0);
	sleep_ns(1);
	CHECK(now_ns() - t0 <= STALL_MS * MS);
	return 0;
}

/* ---- monotonic clock ------------------------------------------------------------------------ */

static int monotonic(void *arg)
{
	(void)arg;
	uint64_t prev = now_ns(), backwards = 0;
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t now = now_ns();
		if (now < prev)
			backwards++;
		prev = now;
		if (i % 10000 == 0)
			thread_yield();
	}
	CHECKF(backwards == 0, "core %u: now_ns went backwards %lu times", core_id(), backwards);
	return 0;
}

struct stamp {
	uint64_t remote; /* now_ns on the remote core, in the handler */
	int done;        /* [a] set (release) by the handler after remote */
};

static void take_stamp(void *arg)
{
	struct stamp *s = arg;
	s->remote = now_ns();
	/* Release: remote is visible before done. */
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

static void cross_core_clock(void)
{
	for (unsigned c = 1; c < core_count(); c++) {
		for (int k = 0; k < 50; k++) {
			struct stamp s = { 0, 0 };
			uint64_t before = now_ns();
			CHECK(msg_call(c, take_stamp, &s) == 0);
			uint64_t t0 = now_ns();
			/* Acquire: pairs with the handler's release of done. */
			while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) &&
			       now_ns() - t0 < 1000 * MS)
				thread_yield();
			CHECK(s.done);
			uint64_t after = now_ns();
			CHECKF(before <= s.remote && s.remote <= after,
			       "core 0 %lu, core %u %lu, core 0 again %lu", before, c, s.remote,
			       after);
		}
	}
}

/* ---- wake order ------------------------------------------------------------------------------ */

struct order_core {
	uint64_t base;           /* deadline of rank 0 */
	unsigned woken;          /* sleepers woken so far */
	unsigned rank[SLEEPERS]; /* rank of the n-th sleeper to wake */
	unsigned early;          /* sleepers that woke before their deadline */
} __attribute__((aligned(64)));
static struct order_core oc[MAX_NCORES];

static int order_sleeper(void *arg)
{
	unsigned rank = (unsigned)(uintptr_t)arg;
	struct order_core *o = &oc[core_id()];
	uint64_t deadline = o->base + (uint64_t)rank * ORDER_STEP_NS, now = now_ns();
	if (deadline > now)
		sleep_ns(deadline - now);
	if (now_ns() < deadline)
		o->early++;
	o->rank[o->woken++] = rank;
	return 0;
}

static int order(void *arg)
{
	(void)arg;
	struct order_core *o = &oc[core_id()];
	struct thread *s[SLEEPERS];
	o->base = now_ns() + 30 * MS;
	o->woken = 0;
	for (unsigned j = 0; j < SLEEPERS; j++) {
		unsigned rank = (j * 17 + 5) % SLEEPERS; /* 17 is prime to 40: a permutation */
		CHECK((s[j] = thread_create(core_id(), order_sleeper, (void *)(uintptr_t)rank)) !=
		      NULL);
	}
	for (unsigned j = 0; j < SLEEPERS; j++)
		if (s[j])
			CHECK(thread_join(s[j], NULL) == 0);
	CHECK(o->woken == SLEEPERS);
	CHECKF(o->early == 0, "core %u: %u sleepers woke early", core_id(), o->early);
	unsigned disorder = 0;
	for (unsigned k = 0; k < o->woken; k++)
		if (o->rank[k] != k)
			disorder++;
	CHECKF(disorder == 0, "core %u: %u sleepers woke out of deadline order", core_id(),
	       disorder);
	return 0;
}

int main(void)
{
	gtest_begin("sleep_accuracy");
	run_everywhere(accuracy, NULL);
	uint64_t worst = 0;
	for (unsigned c = 0; c < core_count(); c++)
		worst = worst_late_ns[c] > worst ? worst_late_ns[c] : worst;
	printf("sleep: worst lateness %lu us on %u cores\n", worst / 1000, core_count());
	gtest_end();

	gtest_begin("now_monotonic");
	run_everywhere(monotonic, NULL);
	cross_core_clock();
	gtest_end();

	gtest_begin("sleep_order");
	run_everywhere(order, NULL);
	gtest_end();
	return gtest_status();
}
