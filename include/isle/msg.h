/*
 * isle/msg.h - messages between cores.
 *
 * Every ordered pair of cores (src, dst) has one single-producer/single-consumer ring of
 * 64-byte messages in shared memory; nothing else is shared between cores. A message names a
 * type; the destination core runs the handler registered for that type with MSG_HANDLER.
 *
 * Contract:
 *  - Handlers run on the destination core in scheduler context (between threads), one at a
 *    time, in the order each sender sent. A handler MUST NOT block (no sleep, join, recv); it
 *    MAY send messages, wake threads, allocate and free.
 *  - msg_send never loses a message. From a thread, a full ring makes the sender yield until
 *    the destination catches up (back-pressure). From a handler, the message waits in a private
 *    overflow queue and goes out in order when there is room.
 *  - Pointers in a message MAY point to heap or stack memory (both are mapped on every core),
 *    never to a PERCORE variable. Whoever receives a heap block in a message owns it; freeing it
 *    on any core is fine (a remote free sends it home).
 *  - A sending core wakes an idle destination with an interrupt only when it is halted.
 *  - Interrupt handlers MUST NOT send messages (they would block or reorder); they wake a
 *    thread, which sends.
 */
#ifndef ISLE_MSG_H
#define ISLE_MSG_H

#include <stdint.h>
#include "kernel/ring.h" /* struct msg: type, src, arg, w[7] */

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
	MSG_FREE,          /* remote free: arg blocks in w[] */
	MSG_CALL,          /* run w[0](w[1]) on the destination */
	MSG_THREAD_CREATE, /* create a thread here, reply MSG_THREAD_CREATED */
	MSG_THREAD_CREATED,
	MSG_THREAD_JOIN, /* tell the joiner when the thread ends */
	MSG_THREAD_JOINED,
	MSG_BARRIER,    /* arrived at barrier generation arg */
	MSG_NET_FRAME,  /* net/virtio_net.c: a copy of a received frame, w[0] (arg bytes) */
	MSG_NET_ADDR,   /* net/addr.c: the DHCP lease of a shared NIC, w[0..2] address/mask/gw */
	MSG_BLK_SUBMIT, /* fs/virtio_blk.c: a disk request for the core that owns the queue */
	MSG_BLK_DONE,   /* fs/virtio_blk.c: that request completed */
	MSG_USER = 128,
	MSG_TYPE_MAX = 256,
};

/* Sends m (type and payload set by the caller; src is filled in) to core dst. 0, or -EINVAL
 * for a bad core or type. */
int msg_send(unsigned dst, struct msg *m);
/* Sends a copy of m to every other core. */
int msg_broadcast(struct msg *m);
/* Runs fn(arg) on core dst, asynchronously (fire and forget). */
int msg_call(unsigned dst, void (*fn)(void *arg), void *arg);
/* Waits until every core has called core_barrier() the same number of times. Thread context;
 * every core must take part. */
void core_barrier(void);

/* Per-core message counters. */
struct msg_stats {
	uint64_t sent;       /* messages this core sent */
	uint64_t received;   /* messages this core handled */
	uint64_t doorbells;  /* interrupts this core sent to wake idle cores */
	uint64_t full_waits; /* times a sender found a ring full */
};
void msg_stats(struct msg_stats *out);

#endif
