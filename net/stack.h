/*
 * stack.h - running one lwIP instance per core: start-up and the per-core poll that the
 * scheduler loop calls. The socket layer (socket.c) and the drivers (virtio_net.c) build on it.
 */
#ifndef ISLE_NET_STACK_H
#define ISLE_NET_STACK_H

#include "kernel/compiler.h"

/* Initialises this core's lwIP (loopback 127.0.0.1 included) and registers net_poll with the
 * scheduler. Every core, at start-up, before any socket call. */
void net_init_core(void);
/* Runs lwIP's due timers and lets drivers and the loopback interface deliver what arrived.
 * Scheduler context. Returns true if it did anything. */
bool net_poll(void);

/* A driver's per-core hook: called by net_poll; returns true if it did anything. */
struct net_driver_poll {
	bool (*poll)(void *arg); /* [o] */
	void *arg;               /* [o] */
};
void net_register_poll(bool (*poll)(void *arg), void *arg); /* this core */

#endif
