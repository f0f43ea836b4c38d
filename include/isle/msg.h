/*
 * isle/msg.h - messages between cores.
 *
 * Every ordered pair of cores (src, dst) has two single-producer/single-consumer rings of 64-byte
 * messages in shared memory, one for requests and one for replies; nothing else is shared
 * between cores. A message names a type; the destination core runs the handler registered for
 * that type with MSG_HANDLER.
 *
 * Requests and replies. A request (msg_send, msg_call, msg_broadcast) is a message whose handler
 * MAY send: one reply (msg_reply, msg_call_reply) back to the request's source, and requests of
 * its own. A reply is a message whose handler MUST NOT send anything: it wakes a thread, stores
 * a result, frees memory. A core always takes the replies waiting for it, and takes a request
 * from a core only while its own reply ring to that core has room, so a request handler's first
 * reply to m->src never finds its ring full; no send allocates memory, and two busy cores can
 * never each wait for the other to make room.
 *
 * Contract:
 *  - Handlers run on the destination core in scheduler context (between threads), one at a
 *    time, in the order each sender sent on each of the two rings (a core's requests arrive in
 *    order, and so do its replies; a request and a reply are not ordered with each other). A
 *    handler MUST NOT block (no sleep, join, recv); it MAY wake threads, allocate and free.
 *  - From a thread, a send never fails for a full ring: the sender yields until the destination
 *    catches up (back-pressure), and nothing is lost.
 *  - Without a thread (a handler, the scheduler loop, a driver's poll), a send that finds its
 *    ring full returns -EAGAIN and sends nothing: the caller keeps the work and tries again
 *    later. The one exception is a request handler's first reply to m->src, which always fits.
 *  - A reply handler that sends gets -EPERM (and the log says so once).
 *  - Pointers in a message MAY point to heap or stack memory (both are mapped on every core),
 *    never to a PERCORE variable. Whoever receives a heap block in a message owns it; freeing it
 *    on any core is fine (a remote free sends it home).
 *  - A sending core wakes an idle destination with an interrupt only when it is halted.
 *  - Interrupt handlers MUST NOT send messages; they wake a thread, which sends.
 */
#ifndef ISLE_MSG_H
#define ISLE_MSG_H

#include <stdint.h>

/* One message: one cache line, copied by value into and out of the rings. */
struct msg {
	uint16_t type; /* what the message means; 0 is invalid (a zeroed slot never looks sent) */
	uint16_t src;  /* sending core */
	uint32_t arg;  /* small argument */
	uint64_t w[7]; /* payload words; their meaning depends on type */
};
_Static_assert(sizeof(struct msg) == 64, "struct msg must be exactly one cache line");

typedef void (*msg_fn)(const struct msg *m);

struct msg_handler {
	uint16_t type; /* message type it handles */
	msg_fn fn;     /* the handler */
};

/* Registers fn for messages of `type` at link time. */
#define MSG_HANDLER(type_, fn_)                           \
	static const struct msg_handler msg_handler_##fn_ \
	        __attribute__((used, section(".msg_handlers"), aligned(8))) = { (type_), (fn_) }

/* Message types: every type the kernel uses is here, below MSG_USER; applications use
 * MSG_USER..MSG_TYPE_MAX-1. */
enum {
	MSG_NONE = 0,
	MSG_FREE,          /* reply: remote free of a chain of arg blocks from w[0] (mem.c) */
	MSG_CALL,          /* run w[0](w[1]) on the destination */
	MSG_THREAD_CREATE, /* create a thread here, reply MSG_THREAD_CREATED */
	MSG_THREAD_CREATED,
	MSG_THREAD_JOIN, /* tell the joiner when the thread ends */
	MSG_THREAD_JOINED,
	MSG_STACK_FLUSH, /* flush your TLB of my stack slots, reply MSG_STACK_FLUSHED (stack.c) */
	MSG_STACK_FLUSHED,
	MSG_BARRIER,    /* arrived at barrier generation arg */
	MSG_NET_FRAME,  /* net/virtio_net.c: a copy of a received frame, w[0] (arg bytes) */
	MSG_NET_ADDR,   /* net/addr.c: the DHCP lease of a shared NIC, w[0..2] address/mask/gw */
	MSG_BLK_SUBMIT, /* fs/virtio_blk.c: a disk request for the core that owns the queue */
	MSG_BLK_DONE,   /* fs/virtio_blk.c: that request completed */
	MSG_USER = 128,
	MSG_TYPE_MAX = 256,
};

/* Sends the request m (type and payload set by the caller; src is filled in) to core dst. 0;
 * -EINVAL for a bad core or type; -EAGAIN without a thread when the ring is full; -EPERM from a
 * reply handler. Any context but interrupts. */
int msg_send(unsigned dst, struct msg *m);
/* Sends the reply m to core dst: the handler of its type MUST NOT send. Errors as msg_send;
 * from a request handler, the first reply to m->src always succeeds. */
int msg_reply(unsigned dst, struct msg *m);
/* Sends a copy of the request m to every other core; the first error, after trying them all. */
int msg_broadcast(struct msg *m);
/* Runs fn(arg) on core dst, asynchronously (fire and forget), as a request: fn MAY send. */
int msg_call(unsigned dst, void (*fn)(void *arg), void *arg);
/* The same as a reply: fn MUST NOT send (e.g. it delivers a result and wakes a thread). */
int msg_call_reply(unsigned dst, void (*fn)(void *arg), void *arg);
/* Waits until every core has called core_barrier() the same number of times. Thread context;
 * every core must take part. */
void core_barrier(void);
/* The same for cores 0..n-1 only (the others are not involved, and stay idle): each of them
 * calls core_barrier_of(n) with the same n. Returns at once on a core >= n. */
void core_barrier_of(unsigned n);

/* Per-core message counters. */
struct msg_stats {
	uint64_t sent;       /* messages this core sent */
	uint64_t received;   /* messages this core handled */
	uint64_t doorbells;  /* interrupts this core sent to wake idle cores */
	uint64_t full_waits; /* times a sender found a ring full (and waited, or got -EAGAIN) */
};
void msg_stats(struct msg_stats *out);
/* Another core's counters, read without disturbing it (each field as that core last wrote it;
 * the fields may be from slightly different moments). Zeros for a core that does not run. */
void msg_stats_of(unsigned core, struct msg_stats *out);

#endif
