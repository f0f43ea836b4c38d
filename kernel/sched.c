/*
 * sched.c - the per-core scheduler: threads, the run queue, sleeping, and the loop that runs
 * a core.
 *
 * Each core runs sched_run() on its boot stack (the "scheduler context"). The loop handles
 * incoming messages, fires expired timers, then switches to the first runnable thread; the
 * thread runs until it blocks, yields, sleeps or exits, which switches back to the loop. With
 * nothing to do the core halts with interrupts on; a message doorbell, a timer or a device
 * interrupt wakes it. Interrupt handlers never touch the run queue, so none of this needs
 * interrupts off except the final check before halting.
 *
 * A thread's life: RUNNABLE (in the run queue) -> RUNNING -> BLOCKED/RUNNABLE ... -> ZOMBIE.
 * A zombie's stack goes back (kernel/stack.c) from the loop right after it switched away from
 * it; the struct stays until the joiner collects the exit value (or at once for a detached
 * thread).
 * Threads on other cores are created and joined by message: the asking thread waits on a
 * record on its own stack that the answer (handled on its own core) fills in.
 */
#include <string.h>
#include <isle/errno.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/mem.h"
#include "kernel/msg.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/profile.h"
#include "kernel/sched.h"
#include "kernel/stack.h"
#include "kernel/watchdog.h"

enum thread_state { T_RUNNABLE, T_RUNNING, T_BLOCKED, T_ZOMBIE };

struct thread {
	void *sp;                /* [o] saved stack pointer while not running */
	struct thread *next;     /* [o] run-queue link; for a zombie, the joins_pending link */
	enum thread_state state; /* [o] */
	unsigned core;           /* [I] the core it lives on (read by joiners elsewhere) */
	uint64_t id;             /* [I] its number on its core, from 1 in order of creation */
	unsigned slot;           /* [o] stack slot */
	size_t stack_len;        /* [o] mapped bytes at the top of the slot */
	thread_fn fn;            /* [o] entry */
	void *arg;               /* [o] its argument */
	int ret;                 /* [o] exit value */
	bool detached;           /* [o] free at exit, nobody joins */
	bool joined;             /* [o] a join is pending */
	unsigned joiner_core;    /* [o] core of the joining thread */
	void *joiner;            /* [o] local: struct thread *; remote: the join record there */
	bool woken;              /* [o] sleep: the timer fired */
	struct timer sleep;      /* [o] sleep timer */
};

/* A thread waiting on another core's answer keeps this on its own stack. Its address goes to
 * the other core only to come back in the reply: that core never touches it. */
struct remote_wait {
	struct thread *waiter; /* [o] the waiting thread */
	struct thread *thread; /* [m] create: the new thread (NULL on failure), from the reply */
	int ret;               /* [m] join: the exit value, from the reply */
	int err;               /* [m] join: 0 or -EINVAL (detached or already joined) */
	bool done;             /* [m] the answer arrived (the reply handler, on this core) */
};

/* A poll function and its argument (sched_add_poll). */
struct sched_poll {
	bool (*fn)(void *arg); /* [o] returns true if it did anything */
	void *arg;             /* [o] passed back to fn */
};

struct sched {
	void *sp;                     /* [o] scheduler context's saved stack pointer */
	struct thread *current;       /* [o] running thread, NULL in scheduler context */
	struct thread *head, *tail;   /* [o] run queue, FIFO */
	struct thread *joins_pending; /* [o] ended threads whose remote joiner is not told yet */
	struct timerq timers;         /* [o] */
	uint64_t start_ns;            /* [a] when this core started scheduling (COUNTER_SET) */
	struct sched_poll poll[SCHED_MAX_POLLS]; /* [o] device polls (network, disk), in order */
	unsigned npoll;                          /* [o] entries used in poll[] */
	/* [a] written by this core, read by sched_stats_of on others (COUNTER_ADD/_READ, relaxed),
	 * start_ns too */
	struct sched_stats stats;
	uint64_t halted_at; /* [a] when the halt in progress began, 0 if none: written by the core,
	                     * read by sched_stats_of on others (relaxed: a counter, no order) */
};
PERCORE static struct sched S;

extern void ctx_switch(void **save_sp, void *next_sp);
extern char ctx_thread_entry[];

static void runq_push(struct thread *t)
{
	t->state = T_RUNNABLE;
	t->next = NULL;
	if (S.tail)
		S.tail->next = t;
	else
		S.head = t;
	S.tail = t;
}

static struct thread *runq_pop(void)
{
	struct thread *t = S.head;
	if (t) {
		S.head = t->next;
		if (!S.head)
			S.tail = NULL;
	}
	return t;
}

void sched_init_core(void)
{
	timerq_init(&S.timers);
	stack_init_core();
	COUNTER_SET(S.start_ns, now_ns());
}

uint64_t now_ns(void)
{
	return arch_now_ns();
}

struct thread *thread_self(void)
{
	return S.current;
}

unsigned thread_core(const struct thread *t)
{
	return t->core;
}

void sched_describe_running(char *buf, size_t len)
{
	const struct thread *t = S.current;
	if (t)
		ksnprintf(buf, len, "thread %lu of core %u (started at %s)", t->id, t->core,
		          ksym_name((uintptr_t)t->fn));
	else
		ksnprintf(buf, len,
		          "no thread: the scheduler loop of core %u (a message handler, a "
		          "timer callback or a device poll)",
		          core_id());
}

/* ---- creating threads ------------------------------------------------------------------------- */

static __noreturn void thread_start(struct thread *t)
{
	thread_exit(t->fn(t->arg));
}

static struct thread *create_local(thread_fn fn, void *arg, size_t stack, bool detached)
{
	stack = ALIGN_UP(stack ? stack : THREAD_STACK_DEFAULT, 4096);
	if (stack > THREAD_STACK_MAX)
		return NULL;
	unsigned slot;
	struct thread *t = kzalloc(sizeof(*t));
	uintptr_t top = t ? stack_get(stack, &slot) : 0;
	if (!top) {
		kfree(t);
		return NULL;
	}
	t->core = core_id();
	t->id = S.stats.threads_created + 1;
	t->slot = slot;
	t->stack_len = stack;
	t->fn = fn;
	t->arg = arg;
	t->detached = detached;
	timer_init(&t->sleep, NULL);

	/* The frame ctx_switch pops: x87 control word, MXCSR, r15, r14, r13, r12, rbx, rbp, and
	 * the return address; ctx_thread_entry then calls r13(r12). */
	uint64_t *sp = (uint64_t *)(top - 64);
	sp -= 9;
	sp[0] = 0x037F;
	sp[1] = 0x1F80;
	sp[4] = (uintptr_t)thread_start;
	sp[5] = (uintptr_t)t;
	sp[8] = (uintptr_t)ctx_thread_entry;
	t->sp = sp;

	COUNTER_ADD(S.stats.threads_created, 1);
	COUNTER_ADD(S.stats.threads_live, 1);
	runq_push(t);
	return t;
}

static void on_create(const struct msg *m)
{
	struct thread *t = create_local((thread_fn)(uintptr_t)m->w[0], (void *)(uintptr_t)m->w[1],
	                                m->w[2], m->arg & 1);
	if (!m->w[3]) {
		if (!t)
			log_error("thread_spawn from core %u: out of memory", m->src);
		return;
	}
	struct msg r = { .type = MSG_THREAD_CREATED, .w = { m->w[3], (uintptr_t)t } };
	msg_reply(m->src, &r); /* a request handler's one reply: it fits */
}
MSG_HANDLER(MSG_THREAD_CREATE, on_create);

static void on_created(const struct msg *m)
{
	struct remote_wait *w = (struct remote_wait *)(uintptr_t)m->w[0];
	w->thread = (struct thread *)(uintptr_t)m->w[1];
	w->done = true;
	thread_wake(w->waiter);
}
MSG_HANDLER(MSG_THREAD_CREATED, on_created);

static struct thread *create(unsigned core, thread_fn fn, void *arg, size_t stack, bool detached,
                             bool wait)
{
	if (core >= ncores || !fn)
		return NULL;
	if (core == core_id())
		return create_local(fn, arg, stack, detached);
	struct remote_wait w = { .waiter = S.current };
	struct msg m = { .type = MSG_THREAD_CREATE,
		         .arg = detached,
		         .w = { (uintptr_t)fn, (uintptr_t)arg, stack, wait ? (uintptr_t)&w : 0 } };
	if (msg_send(core, &m) < 0)
		return NULL;
	if (!wait)
		return (struct thread *)1; /* sent; the caller only learns success */
	while (!w.done)
		thread_block();
	return w.thread;
}

struct thread *thread_create_stack(unsigned core, thread_fn fn, void *arg, size_t stack)
{
	if (core != core_id() && !S.current)
		return NULL; /* a handler cannot wait for the answer */
	return create(core, fn, arg, stack, false, true);
}

struct thread *thread_create(unsigned core, thread_fn fn, void *arg)
{
	return thread_create_stack(core, fn, arg, 0);
}

int thread_spawn_stack(unsigned core, thread_fn fn, void *arg, size_t stack)
{
	if (core >= ncores || !fn)
		return -EINVAL;
	bool wait = S.current != NULL || core == core_id();
	return create(core, fn, arg, stack, true, wait) ? 0 : -ENOMEM;
}

int thread_spawn(unsigned core, thread_fn fn, void *arg)
{
	return thread_spawn_stack(core, fn, arg, 0);
}

/* ---- running, blocking, ending ---------------------------------------------------------------- */

static void to_scheduler(void)
{
	struct thread *t = S.current;
	ctx_switch(&t->sp, S.sp);
}

void thread_yield(void)
{
	if (!S.current)
		return;
	runq_push(S.current);
	to_scheduler();
}

void thread_block(void)
{
	kassert(S.current);
	S.current->state = T_BLOCKED;
	to_scheduler();
}

void thread_wake(struct thread *t)
{
	kassert(t->core == core_id());
	if (t->state == T_BLOCKED)
		runq_push(t);
}

__noreturn void thread_exit(int ret)
{
	struct thread *t = S.current;
	kassert(t);
	t->ret = ret;
	t->state = T_ZOMBIE;
	to_scheduler();
	panic("zombie thread resumed");
}

/* Tells a remote joiner that t ended, and frees t; if the reply ring is full (the scheduler
 * loop has no thread to wait), t waits on joins_pending and the loop tries again. */
static void send_joined(struct thread *t)
{
	struct msg m = { .type = MSG_THREAD_JOINED,
		         .w = { (uintptr_t)t->joiner },
		         .arg = (uint32_t)t->ret };
	if (msg_reply(t->joiner_core, &m) < 0) {
		t->next = S.joins_pending;
		S.joins_pending = t;
		return;
	}
	kfree(t);
}

static void flush_joins(void)
{
	struct thread *t = S.joins_pending;
	S.joins_pending = NULL;
	while (t) {
		struct thread *next = t->next;
		send_joined(t); /* puts it back if the ring is still full */
		t = next;
	}
}

/* The scheduler loop runs this after switching away from a thread that ended. */
static void reap(struct thread *t)
{
	stack_put(t->slot);
	COUNTER_ADD(S.stats.threads_exited, 1);
	COUNTER_ADD(S.stats.threads_live, -1);
	if (t->detached) {
		kfree(t);
	} else if (t->joined) {
		if (t->joiner_core == core_id())
			thread_wake(t->joiner);
		else
			send_joined(t);
	}
}

static void on_join(const struct msg *m)
{
	struct thread *t = (struct thread *)(uintptr_t)m->w[0];
	if (t->detached || t->joined) {
		struct msg r = { .type = MSG_THREAD_JOINED, .w = { m->w[1], (uint64_t)-EINVAL } };
		msg_reply(m->src, &r); /* a request handler's one reply: it fits */
		return;
	}
	t->joined = true;
	t->joiner_core = m->src;
	t->joiner = (void *)(uintptr_t)m->w[1];
	if (t->state == T_ZOMBIE)
		send_joined(t);
}
MSG_HANDLER(MSG_THREAD_JOIN, on_join);

static void on_joined(const struct msg *m)
{
	struct remote_wait *w = (struct remote_wait *)(uintptr_t)m->w[0];
	w->ret = (int)m->arg;
	w->err = (int)m->w[1];
	w->done = true;
	thread_wake(w->waiter);
}
MSG_HANDLER(MSG_THREAD_JOINED, on_joined);

int thread_join(struct thread *t, int *ret)
{
	if (!t || !S.current)
		return -EINVAL;
	if (t == S.current)
		return -EDEADLK;
	if (t->core != core_id()) {
		struct remote_wait w = { .waiter = S.current };
		struct msg m = { .type = MSG_THREAD_JOIN, .w = { (uintptr_t)t, (uintptr_t)&w } };
		if (msg_send(t->core, &m) < 0)
			return -EINVAL;
		while (!w.done)
			thread_block();
		if (w.err)
			return w.err;
		if (ret)
			*ret = w.ret;
		return 0;
	}
	if (t->detached || t->joined)
		return -EINVAL;
	if (t->state != T_ZOMBIE) {
		t->joined = true;
		t->joiner_core = core_id();
		t->joiner = S.current;
		while (t->state != T_ZOMBIE)
			thread_block();
	}
	if (ret)
		*ret = t->ret;
	kfree(t);
	return 0;
}

/* ---- time ------------------------------------------------------------------------------------- */

void timer_add(struct timer *t)
{
	timerq_add(&S.timers, t);
}

bool timer_del(struct timer *t)
{
	return timerq_del(&S.timers, t);
}

static void sleep_fired(struct timer *tm)
{
	struct thread *t = container_of(tm, struct thread, sleep);
	t->woken = true;
	thread_wake(t);
}

void sleep_ns(uint64_t ns)
{
	struct thread *t = S.current;
	if (!t)
		panic("sleep in scheduler context");
	t->woken = false;
	t->sleep.deadline = now_ns() + ns;
	t->sleep.fn = sleep_fired;
	timer_add(&t->sleep);
	while (!t->woken)
		thread_block();
}

void sleep_ms(uint64_t ms)
{
	sleep_ns(ms * 1000000);
}

/* Fires the timers expired at now. */
static bool run_timers(uint64_t now)
{
	bool any = false;
	struct timer *t;
	while ((t = timerq_pop_expired(&S.timers, now))) {
		t->fn(t);
		any = true;
	}
	return any;
}

/* ---- the loop ------------------------------------------------------------------------------- */

/* Before halting, a core that just had work polls its rings for this long: a message that
 * arrives meanwhile costs no doorbell interrupt and no wake-up (both are slow, above all
 * under emulation). An idle core still halts within this time. */
#define IDLE_POLL_NS 30000

int sched_add_poll(bool (*poll)(void *arg), void *arg)
{
	if (S.npoll == SCHED_MAX_POLLS)
		return -ENOSPC;
	S.poll[S.npoll++] = (struct sched_poll){ poll, arg };
	return 0;
}

/* Runs every poll function; true if any did something. */
bool sched_threads_waiting(void)
{
	return S.head != NULL;
}

static bool poll_devices(void)
{
	bool any = false;
	for (unsigned i = 0; i < S.npoll; i++)
		any |= S.poll[i].fn(S.poll[i].arg);
	return any;
}

static bool work_waiting(void)
{
	struct timer *first = timerq_first(&S.timers);
	return S.head || S.joins_pending || msg_pending() ||
	       (first && first->deadline <= now_ns()) || poll_devices();
}

static void idle(void)
{
	for (uint64_t end = now_ns() + IDLE_POLL_NS; now_ns() < end;) {
		irq_seen_clear(); /* an interrupt from here on is seen below */
		if (work_waiting())
			return;
		cpu_pause();
	}
	irq_disable();
	msg_set_idle(true);
	/* A device interrupt whose data the last look missed set irq_seen: don't halt then. */
	if (!S.head && !S.joins_pending && !msg_pending() && !irq_seen_since_clear()) {
		struct timer *first = timerq_first(&S.timers);
		uint64_t t0 = now_ns();
		if (!first || first->deadline > t0) {
			arch_timer_arm(first ? first->deadline : 0);
			/* A watchdog or profiling tick ends the halt without setting irq_seen: not a
			 * reason to look for work, so halt again (timer.c). */
			profile_halt(true);
			watchdog_halt(true);
			/* Relaxed: read by sched_stats_of on other cores, a statistic (struct sched). */
			__atomic_store_n(&S.halted_at, t0, __ATOMIC_RELAXED);
			do {
				cpu_idle_wait(); /* returns with interrupts on */
				irq_disable();
			} while (!irq_seen_since_clear());
			watchdog_halt(false);
			profile_halt(false);
			uint64_t t1 = now_ns();
			/* Relaxed, as above: the halt is over for sched_stats_of. */
			__atomic_store_n(&S.halted_at, 0, __ATOMIC_RELAXED);
			COUNTER_ADD(S.stats.idle_ns, t1 - t0);
			COUNTER_ADD(S.stats.wakeups, 1);
		}
	}
	msg_set_idle(false);
	irq_enable();
}

__noreturn void sched_run(void)
{
	/* Interrupts stay on from here on: handlers only end a halt, they never switch threads. */
	irq_enable();
	for (;;) {
		/* One clock read a pass, for the heartbeat and the timers (a timer that expires
		 * during the pass fires on the next one, or stops the idle path from halting). */
		uint64_t now = now_ns();
		watchdog_pass(now);
		msg_poll();
		mem_flush_remote();
		if (S.joins_pending)
			flush_joins();
		run_timers(now);
		poll_devices();
		struct thread *t = runq_pop();
		if (!t) {
			idle();
			continue;
		}
		t->state = T_RUNNING;
		S.current = t;
		COUNTER_ADD(S.stats.switches, 1);
		ctx_switch(&S.sp, t->sp);
		S.current = NULL;
		if (t->state == T_ZOMBIE)
			reap(t);
	}
}

static void stats_of(const struct sched *s, struct sched_stats *out)
{
	*out = (struct sched_stats){
		.threads_created = COUNTER_READ(s->stats.threads_created),
		.threads_exited = COUNTER_READ(s->stats.threads_exited),
		.threads_live = COUNTER_READ(s->stats.threads_live),
		.switches = COUNTER_READ(s->stats.switches),
		.idle_ns = COUNTER_READ(s->stats.idle_ns),
		.wakeups = COUNTER_READ(s->stats.wakeups),
	};
	uint64_t now = now_ns(), up = now - COUNTER_READ(s->start_ns);
	/* Relaxed: s may be another core's, which stores it while we read (struct sched). */
	uint64_t halted = __atomic_load_n(&s->halted_at, __ATOMIC_RELAXED);
	if (halted && halted < now)
		out->idle_ns += now - halted; /* another core, halted right now */
	out->busy_ns = up > out->idle_ns ? up - out->idle_ns : 0;
}

void sched_stats(struct sched_stats *out)
{
	stats_of(&S, out);
}

void sched_stats_of(unsigned core, struct sched_stats *out)
{
	const struct sched *theirs = percore_of(&S, core);
	if (theirs)
		stats_of(theirs, out);
	else
		*out = (struct sched_stats){ 0 };
}
