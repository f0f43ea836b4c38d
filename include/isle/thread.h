/*
 * isle/thread.h - threads, sleeping and time.
 *
 * Threads are cooperative and pinned: a thread runs on the core it was created on until it
 * ends, and another thread of that core runs only when it blocks, yields, sleeps or exits.
 * Each core schedules its own threads in FIFO order; there is no migration and no work
 * stealing. Thread stacks have an unmapped guard page below them.
 *
 * Contexts. Thread context is a thread's own code. Handler context is a message handler or
 * msg_call function (they run between threads, in the core's scheduler loop, and must not
 * block). Interrupt handlers may call none of this except now_ns and time_unix.
 *
 * Contract, call by call (errors are negative errno values, <isle/errno.h>):
 *  - thread_create[_stack](core, fn, arg[, stack]): a joinable thread, or NULL (no memory, a
 *    bad core or stack size). Thread context may create on any core: for another core it asks
 *    that core by message and blocks until it answers. Handler context may create only on its
 *    own core (NULL for another: a handler cannot wait for the answer). Never blocks on its
 *    own core; the new thread runs when the caller blocks or yields.
 *  - thread_spawn[_stack]: a detached thread (its memory goes when it ends). 0, -EINVAL (bad
 *    core or fn), -ENOMEM. Thread context waits for another core's answer; handler context
 *    sends the request and returns 0 at once (a failure there is only logged).
 *  - thread_join(t, &ret): blocks until t ends; t is gone afterwards. Thread context only
 *    (-EINVAL from a handler), any core, once per joinable thread: -EDEADLK joining oneself,
 *    -EINVAL for a detached or already joined thread.
 *  - thread_yield: lets the core's other ready threads run first; returns at once in handler
 *    context. thread_exit: ends the calling thread (thread context only) with `ret`, as
 *    returning from its function does.
 *  - thread_block / thread_wake: see below; thread_block is thread context only (it panics
 *    elsewhere), thread_wake thread or handler context, for a thread of the calling core only
 *    (another core's thread: panic; send that core a message instead).
 *  - sleep_ns / sleep_ms: block at least that long (thread context only; panic in a handler).
 *    now_ns, time_unix[_ms]: any context, any core.
 *  - sched_stats: the calling core's counters; thread or handler context.
 */
#ifndef ISLE_THREAD_H
#define ISLE_THREAD_H

#include <stddef.h>
#include <stdint.h>

struct thread;
typedef int (*thread_fn)(void *arg);

#define THREAD_STACK_DEFAULT (32 * 1024)
#define THREAD_STACK_MAX (60 * 1024)
/* A core keeps the stacks of up to this many ended threads mapped for its next threads; the
 * pages of any more go back to the core's memory as they end. */
#define THREAD_STACK_CACHE 16

/* A joinable thread running fn(arg) on `core`, or NULL (no memory, bad core). Creating on
 * another core asks that core by message and waits for its answer. */
struct thread *thread_create(unsigned core, thread_fn fn, void *arg);
struct thread *thread_create_stack(unsigned core, thread_fn fn, void *arg, size_t stack);
/* A detached thread: its resources go away when it ends. 0 or -ENOMEM/-EINVAL. From a thread
 * this waits for the remote core's answer; from a message handler it sends the request and returns at once. */
int thread_spawn(unsigned core, thread_fn fn, void *arg);
int thread_spawn_stack(unsigned core, thread_fn fn, void *arg, size_t stack);
/* Waits for t to end and returns its exit value in *ret (may be NULL); t is gone afterwards.
 * 0, -EDEADLK (joining oneself) or -EINVAL. Any core may join any joinable thread, once. */
int thread_join(struct thread *t, int *ret);

void thread_yield(void);
__attribute__((noreturn)) void thread_exit(int ret);
struct thread *thread_self(void); /* NULL in scheduler/handler context */
unsigned thread_core(const struct thread *t);

/* Blocking and waking, for building waiting primitives. thread_block() puts the calling
 * thread to sleep until thread_wake(); a wake before the block is not remembered, so check
 * the condition in a loop. thread_wake is for threads of the calling core, from thread or
 * handler context (not from interrupt handlers). */
void thread_block(void);
void thread_wake(struct thread *t);

uint64_t now_ns(void); /* ns since boot, monotonic, same clock on every core */
/* Wall-clock seconds since 1970 (UTC): the RTC read at boot plus now_ns(); 0 when the machine
 * has no RTC. Any context, any core. */
int64_t time_unix(void);
int64_t time_unix_ms(void); /* the same in milliseconds */
void sleep_ns(uint64_t ns);
void sleep_ms(uint64_t ms);

/* Per-core scheduler counters. */
struct sched_stats {
	uint64_t threads_created; /* threads started on this core */
	uint64_t threads_exited;
	uint64_t threads_live; /* threads that exist now */
	uint64_t switches;     /* context switches into threads */
	uint64_t idle_ns;      /* time spent halted */
	uint64_t busy_ns;      /* time not halted since the core started */
	uint64_t wakeups;      /* times the core left the halted state */
};
void sched_stats(struct sched_stats *out);
/* Another core's counters, read without disturbing it (each field as that core last wrote it;
 * busy_ns and idle_ns as of now). Zeros for a core that does not run. Any context. */
void sched_stats_of(unsigned core, struct sched_stats *out);

#endif
