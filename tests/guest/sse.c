/*
 * sse - an application's floating point state survives context switches and interrupts.
 *
 *  sse_values     threads on every core run double (SSE) and long double (x87) arithmetic,
 *                 yielding and sleeping in the middle, with several threads per core
 *                 interleaving; the results equal the ones main computed alone, bit for bit.
 *  sse_interrupts a long loop without calls keeps its values in XMM registers while a timer
 *                 interrupt arrives: each core halts with its one-shot timer armed for a
 *                 sleeper's deadline, a message from another core wakes it early and
 *                 releases a thread that computes past that deadline, so the timer fires in
 *                 the middle of the loop (the kernel never touches vector registers).
 *  sse_control    MXCSR is per thread (its control bits are callee-saved in the SysV ABI and
 *                 saved by ctx_switch): threads with different SSE rounding modes interleave
 *                 and each computes with its own.
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "gtest.h"

#define MAX_NCORES 64
#define THREADS_PER_CORE 4
#define STEPS 2000
#define MXCSR_RC_MASK 0x6000 /* MXCSR rounding control */
#define MXCSR_RC_ZERO 0x6000 /* round toward zero */
#define MXCSR_RC_UP 0x4000   /* round up */

/* Where to pause in the middle of the arithmetic. */
enum pause { PAUSE_NONE, PAUSE_YIELD, PAUSE_SLEEP };

static void pause_now(enum pause p, unsigned step)
{
	if (p == PAUSE_YIELD)
		thread_yield();
	else if (p == PAUSE_SLEEP)
		sleep_ns(step % 3 ? 20000 : 300000);
}

/*
 * The computation: a few running values mixed in ways where any lost or swapped register
 * shows. Values live across the pause as locals (spilled to the stack by the compiler), and
 * across interrupts in registers. noinline: main's reference run is the same machine code.
 */
__attribute__((noinline)) static void compute(unsigned seed, enum pause p, double out[4],
                                              long double *lout)
{
	double a = 1.0 + seed * 0.001, b = 0.5 / (seed + 1), c = seed * 3.25, d = 1e-3;
	long double x = 1.0L + seed / 7.0L;
	for (unsigned i = 0; i < STEPS; i++) {
		a = a * 1.0000001 + b;
		b = b * 0.999 + c * 1e-6;
		c = c / 1.0001 + (double)i * 1e-9;
		d = d + a / (b + 1.0);
		x = x * 1.00000001L + (long double)d * 1e-12L;
		if (i % 97 == 0)
			pause_now(p, i);
	}
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
	*lout = x;
}

/* A long stretch with no calls at all: the values stay in XMM registers while interrupts
 * come and go (the loop runs for many timer ticks under TCG). */
__attribute__((noinline)) static double register_loop(double seed, unsigned iters)
{
	double v0 = seed, v1 = seed * 2, v2 = seed * 3, v3 = seed * 4;
	for (unsigned i = 0; i < iters; i++) {
		v0 = v0 * 0.9999999 + v1 * 1e-7;
		v1 = v1 * 0.9999998 + v2 * 1e-7;
		v2 = v2 * 0.9999997 + v3 * 1e-7;
		v3 = v3 * 0.9999996 + v0 * 1e-7;
	}
	return v0 + v1 * 3 + v2 * 5 + v3 * 7;
}

#define REGISTER_ITERS 3000000

struct job {
	unsigned seed;    /* input */
	enum pause pause; /* how to pause in the middle */
	double out[4];    /* results */
	long double lout;
	double reg; /* register_loop result */
};

static struct job jobs[MAX_NCORES][THREADS_PER_CORE];

static int worker(void *arg)
{
	struct job *j = arg;
	compute(j->seed, j->pause, j->out, &j->lout);
	thread_yield();
	j->reg = register_loop(j->seed * 0.5 + 1, REGISTER_ITERS / THREADS_PER_CORE);
	return 0;
}

static void run_all(thread_fn fn, void *jobs_base, size_t job_size)
{
	unsigned n = core_count();
	struct thread *t[MAX_NCORES][THREADS_PER_CORE];
	for (unsigned c = 0; c < n; c++)
		for (unsigned k = 0; k < THREADS_PER_CORE; k++) {
			void *job = (char *)jobs_base + (c * THREADS_PER_CORE + k) * job_size;
			CHECK((t[c][k] = thread_create(c, fn, job)) != NULL);
		}
	for (unsigned c = 0; c < n; c++)
		for (unsigned k = 0; k < THREADS_PER_CORE; k++)
			if (t[c][k])
				CHECK(thread_join(t[c][k], NULL) == 0);
}

static void test_values(void)
{
	gtest_begin("sse_values");
	unsigned n = core_count();
	for (unsigned c = 0; c < n; c++)
		for (unsigned k = 0; k < THREADS_PER_CORE; k++)
			jobs[c][k] = (struct job){ .seed = c * 10 + k + 1,
				                   .pause = k % 2 ? PAUSE_SLEEP : PAUSE_YIELD };
	run_all(worker, jobs, sizeof(jobs[0][0]));
	unsigned bad = 0;
	for (unsigned c = 0; c < n; c++)
		for (unsigned k = 0; k < THREADS_PER_CORE; k++) {
			struct job *j = &jobs[c][k];
			double ref[4];
			long double lref;
			compute(j->seed, PAUSE_NONE, ref, &lref);
			double rref =
			        register_loop(j->seed * 0.5 + 1, REGISTER_ITERS / THREADS_PER_CORE);
			if (memcmp(ref, j->out, sizeof(ref)) || lref != j->lout || rref != j->reg) {
				bad++;
				printf("sse: core %u thread %u: results differ from the "
				       "reference\n",
				       c, k);
			}
		}
	CHECKF(bad == 0, "%u threads computed wrong results", bad);
	gtest_end();
}

/* ---- interrupts in the middle of a computation ---------------------------------------------- */

#define ALARM_NS 40000000  /* the sleeper's deadline, after the release */
#define RELEASE_NS 1000000 /* when the computing thread is released */
#define INTERRUPT_ITERS 1500000

struct irq_job {
	struct thread *computer; /* the thread waiting to be released */
	int released;            /* set on its own core by release() */
	uint64_t alarm;          /* the sleeper's deadline */
	uint64_t start, end;     /* when the loop ran */
	double result;
} __attribute__((aligned(64)));

static struct irq_job ijobs[MAX_NCORES];

static int alarm_sleeper(void *arg)
{
	struct irq_job *j = arg;
	uint64_t now = now_ns();
	if (j->alarm > now)
		sleep_ns(j->alarm - now);
	return 0;
}

static int computer(void *arg)
{
	struct irq_job *j = arg;
	while (!j->released)
		thread_block();
	j->start = now_ns();
	j->result = register_loop(core_id() + 0.25, INTERRUPT_ITERS);
	j->end = now_ns();
	return 0;
}

/* Runs on the computer's core, woken from its halt by the message's doorbell. */
static void release(void *arg)
{
	struct irq_job *j = arg;
	j->released = 1;
	thread_wake(j->computer);
}

/* On core 1: releases cores 2.. by message. main then releases cores 1 and 0 (a computing
 * thread keeps its core to itself, so nobody on it could release anyone afterwards). */
static int releaser(void *arg)
{
	uint64_t when = *(uint64_t *)arg, now = now_ns();
	if (when > now)
		sleep_ns(when - now);
	for (unsigned c = 2; c < core_count(); c++)
		CHECK(msg_call(c, release, &ijobs[c]) == 0);
	return 0;
}

static void test_interrupts(void)
{
	gtest_begin("sse_interrupts");
	unsigned n = core_count();
	if (n < 2) { /* nobody to wake the core early: nothing more than sse_values */
		gtest_end();
		return;
	}
	struct thread *sl[MAX_NCORES], *rel;
	uint64_t t0 = now_ns();
	for (unsigned c = 0; c < n; c++) {
		struct irq_job *j = &ijobs[c];
		*j = (struct irq_job){ .alarm = t0 + RELEASE_NS + ALARM_NS };
		CHECK((j->computer = thread_create(c, computer, j)) != NULL);
		CHECK((sl[c] = thread_create(c, alarm_sleeper, j)) != NULL);
	}
	/* While main waits here, cores halt with their timers armed for the sleepers. */
	uint64_t when = t0 + RELEASE_NS;
	CHECK((rel = thread_create(1, releaser, &when)) != NULL);
	CHECK(rel && thread_join(rel, NULL) == 0);
	CHECK(msg_call(1, release, &ijobs[1]) == 0);
	release(&ijobs[0]);
	unsigned spanned = 0, bad = 0;
	for (unsigned c = 0; c < n; c++) {
		struct irq_job *j = &ijobs[c];
		if (j->computer)
			CHECK(thread_join(j->computer, NULL) == 0);
		if (sl[c])
			CHECK(thread_join(sl[c], NULL) == 0);
		if (j->result != register_loop(c + 0.25, INTERRUPT_ITERS))
			bad++;
		spanned += j->start < j->alarm && j->end > j->alarm;
	}
	CHECKF(bad == 0, "%u cores computed a wrong result across interrupts", bad);
	printf("sse: the armed timer expired in the middle of the loop on %u of %u cores\n",
	       spanned, n);
	gtest_end();
}

/* ---- control registers ---------------------------------------------------------------------- */

struct rounding_job {
	unsigned mode; /* MXCSR rounding bits this thread uses */
	double third;  /* 1.0 / 3.0 computed under its own mode, after pauses */
	double neg_third;
	long double lthird;
	unsigned mxcsr_seen; /* read back after the pauses */
};

static struct rounding_job rjobs[MAX_NCORES][THREADS_PER_CORE];

__attribute__((noinline)) static void divide(volatile double *num, volatile double *den, double *q,
                                             double *nq)
{
	*q = *num / *den;
	*nq = -*num / *den;
}

__attribute__((noinline)) static long double ldivide(volatile long double *num,
                                                     volatile long double *den)
{
	return *num / *den;
}

static int rounding_worker(void *arg)
{
	struct rounding_job *j = arg;
	unsigned mxcsr = (__builtin_ia32_stmxcsr() & ~MXCSR_RC_MASK) | j->mode;
	__builtin_ia32_ldmxcsr(mxcsr);
	for (int i = 0; i < 5; i++) {
		thread_yield();
		sleep_ns(100000);
	}
	volatile double one = 1.0, three = 3.0;
	volatile long double lone = 1.0L, lthree = 3.0L;
	divide(&one, &three, &j->third, &j->neg_third);
	j->lthird = ldivide(&lone, &lthree);
	j->mxcsr_seen = __builtin_ia32_stmxcsr();
	return 0;
}

static void test_control(void)
{
	gtest_begin("sse_control");
	unsigned n = core_count();
	static const unsigned modes[THREADS_PER_CORE] = { 0, MXCSR_RC_ZERO, MXCSR_RC_UP, 0 };
	for (unsigned c = 0; c < n; c++)
		for (unsigned k = 0; k < THREADS_PER_CORE; k++)
			rjobs[c][k] = (struct rounding_job){ .mode = modes[k] };
	run_all(rounding_worker, rjobs, sizeof(rjobs[0][0]));

	/* References, computed here under each mode. */
	unsigned saved = __builtin_ia32_stmxcsr();
	unsigned bad = 0;
	for (unsigned k = 0; k < THREADS_PER_CORE; k++) {
		volatile double one = 1.0, three = 3.0;
		volatile long double lone = 1.0L, lthree = 3.0L;
		double q, nq;
		__builtin_ia32_ldmxcsr((saved & ~MXCSR_RC_MASK) | modes[k]);
		divide(&one, &three, &q, &nq);
		long double lq = ldivide(&lone, &lthree);
		__builtin_ia32_ldmxcsr(saved);
		for (unsigned c = 0; c < n; c++) {
			struct rounding_job *j = &rjobs[c][k];
			if (j->third != q || j->neg_third != nq || j->lthird != lq ||
			    (j->mxcsr_seen & MXCSR_RC_MASK) != modes[k]) {
				bad++;
				printf("sse: core %u thread %u: mxcsr %#x (want rounding %#x)\n", c,
				       k, j->mxcsr_seen, modes[k]);
			}
		}
	}
	/* The modes really differ, or this test would prove nothing. */
	CHECK(rjobs[0][1].third != rjobs[0][2].third);
	CHECKF(bad == 0, "%u threads lost their rounding mode", bad);
	/* main's own state is untouched by all those threads. */
	CHECK((__builtin_ia32_stmxcsr() & MXCSR_RC_MASK) == 0);
	gtest_end();
}

int main(void)
{
	test_values();
	test_interrupts();
	test_control();
	return gtest_status();
}
