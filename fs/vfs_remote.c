/*
 * vfs_remote.c - runs a filesystem's functions on the mount's owner core, one call at a time.
 *
 * A writable filesystem (ext2) is not reentrant and its calls block on the disk, so the
 * ownership model (isle/fs.h) gives each mount an owner core and runs every call on it, one at a
 * time. Two mechanisms on the owner make that true; both are per-core state of the owner, used
 * only by the owner's threads and message handlers, so nothing is locked:
 *
 *  - The gate of a mount (gates[], indexed by the mount's slot): busy while a call on that
 *    mount runs on this core. A thread that finds it busy queues itself (FIFO, on its own stack)
 *    and blocks; the thread that leaves hands the gate to the oldest waiter. Local callers on the
 *    owner and the server thread (below) both go through it, so a local call cannot slip into
 *    the middle of a remote call that blocked on the disk, nor the other way round.
 *
 *  - The server (srv): a FIFO of calls from other cores and one thread that runs them. A
 *    caller on another core sends its struct vfs_call (on its own stack) with msg_call; the
 *    handler (on_request) appends it to the queue and wakes the server thread, or starts it the
 *    first time. The server runs the calls in order, each through its mount's gate, and sends the
 *    result back with msg_call_reply to the caller's core, where on_reply marks the call done and wakes
 *    the caller (thread_wake only works on the calling core's threads: that is why the reply is
 *    a message). The caller blocks in a loop until its call is done.
 *
 *   caller core                          owner core
 *   vfs_call_run ── msg_call ──────────> on_request: append, wake server
 *     thread_block ...                   server: gate_enter, c->fn(c), gate_leave
 *   on_reply <────────── msg_call_reply ─┘
 *     done = true, thread_wake(caller)
 *
 * Visibility: the caller writes the struct before msg_call; the message ring's release/acquire
 * publishes it to the owner. The owner writes c->ret before its msg_call_reply; the same ordering
 * publishes it to the caller. After sending the reply the owner never touches the struct again
 * (the caller's stack frame may be gone by then).
 */
#include <string.h>
#include <isle/errno.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "fs/vfs_priv.h"
#include "kernel/core.h"
#ifndef ISLE_HOST
#include "arch/x86_64/arch.h"
#endif

/* One mount's gate on this core (used only on the mount's owner). All fields [o]. */
struct vfs_gate {
	bool busy;                    /* a call on the mount is running here */
	struct vfs_call *head, *tail; /* calls waiting for it (c->next), oldest first */
};

/* This core's server for calls from other cores. All fields [o]. */
struct vfs_server {
	struct vfs_call *head, *tail; /* calls received and not yet run, oldest first */
	struct thread *thread;        /* the server thread, once it runs */
	bool started;                 /* the thread was created */
	bool idle;                    /* the thread is blocked waiting for a call */
};

PERCORE static struct vfs_gate gates[VFS_MOUNT_MAX]; /* [o] */
PERCORE static struct vfs_server srv;                /* [o] */

static struct vfs_gate *gate_of(const struct vfs_mount *m)
{
	return &gates[m->slot];
}

/* Waits until c may run. c (on the stack of the thread that runs it) waits in the queue. */
static void gate_enter(struct vfs_gate *g, struct vfs_call *c)
{
	if (!g->busy) {
		g->busy = true;
		return;
	}
	c->next = NULL;
	c->gate_thread = thread_self();
	c->granted = false;
	if (g->tail)
		g->tail->next = c;
	else
		g->head = c;
	g->tail = c;
	while (!c->granted)
		thread_block(); /* gate_leave wakes us */
}

static void gate_leave(struct vfs_gate *g)
{
	struct vfs_call *w = g->head;
	if (!w) {
		g->busy = false;
		return;
	}
	g->head = w->next;
	if (!g->head)
		g->tail = NULL;
	w->granted = true; /* the gate stays busy: it passes to w */
	thread_wake(w->gate_thread);
}

/* Runs c on this core, the mount's owner, in its turn. */
static int64_t run_owned(struct vfs_call *c)
{
	struct vfs_gate *g = gate_of(c->m);
	gate_enter(g, c);
	int64_t ret = c->fn(c);
	gate_leave(g);
	return ret;
}

static void on_reply(void *arg)
{
	struct vfs_call *c = arg;
	c->done = true;
	thread_wake(c->waiter);
}

static int serve(void *arg)
{
	(void)arg;
	srv.thread = thread_self();
	for (;;) {
		struct vfs_call *c = srv.head;
		if (!c) {
			srv.idle = true;
			thread_block(); /* on_request wakes us */
			srv.idle = false;
			continue;
		}
		srv.head = c->next;
		if (!srv.head)
			srv.tail = NULL;
		c->ret = run_owned(c);
		vfs_stats.served_calls++;
		msg_call_reply(c->from, on_reply, c); /* c is the caller's again */
		/* A backlog of calls that need no disk would keep this core from its other work
		 * (its network queue, its messages) for their sum: one scheduler pass between. */
		if (srv.head)
			thread_yield();
	}
	return 0;
}

static void on_request(void *arg)
{
	struct vfs_call *c = arg;
	c->next = NULL;
	if (srv.tail)
		srv.tail->next = c;
	else
		srv.head = c;
	srv.tail = c;
	if (srv.thread) {
		/* Only when it waits for work: blocked anywhere else (the disk, a gate) it must not
		 * be woken by us, and it looks at the queue before it waits again. */
		if (srv.idle)
			thread_wake(srv.thread);
		return;
	}
	if (srv.started)
		return; /* created, not yet run: it finds the queue when it starts */
	srv.started = true;
	if (thread_spawn_stack(core_id(), serve, NULL, THREAD_STACK_MAX) == 0)
		return;
	srv.started = false;
	srv.head = srv.tail = NULL; /* c was alone: the queue was empty and had no server */
	c->ret = -ENOMEM;
	msg_call_reply(c->from, on_reply, c); /* a request handler's one reply: it fits */
}

/* A PERCORE address means something else on the owner core. */
static bool per_core_address(const void *p)
{
#ifdef ISLE_HOST
	(void)p;
	return false;
#else
	return p && arch_is_percore_addr(p);
#endif
}

int64_t vfs_call_run(struct vfs_call *c)
{
	unsigned owner = c->m->owner;
	if (owner == VFS_ANY_CORE)
		return c->fn(c);
	if (!thread_self())
		return -EINVAL; /* only a thread can wait */
	if (owner == core_id())
		return run_owned(c);
	if (per_core_address(c->buf) || per_core_address(c->name) || per_core_address(c->name2))
		return -EFAULT;
	c->waiter = thread_self();
	c->from = core_id();
	c->done = false;
	vfs_stats.remote_calls++;
	int rc = msg_call(owner, on_request, c);
	if (rc < 0)
		return rc;
	while (!c->done)
		thread_block(); /* on_reply wakes us */
	return c->ret;
}
