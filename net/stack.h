/*
 * stack.h - running one lwIP instance per core: start-up and the per-core poll that the
 * scheduler loop calls. The socket layer (socket.c) and the drivers (virtio_net.c) build on it.
 */
#ifndef ISLE_NET_STACK_H
#define ISLE_NET_STACK_H

#include <stdint.h>
#include "kernel/compiler.h"

/* Initialises this core's lwIP (loopback 127.0.0.1 included), attaches the core's NIC queue
 * (whose driver adds its own poll with sched_add_poll) and adds net_poll with sched_add_poll.
 * Every core, at start-up, before any socket call. */
void net_init_core(void);
/* Runs lwIP's due timers and lets the loopback interface deliver what threads sent to
 * themselves. Scheduler context. Returns true if it did anything. */
bool net_poll(void);

/* Gives IP again the SYNs that ended a TIME_WAIT (tcp_hooks.c); true if there were any. From
 * net_poll, outside lwIP's input. */
bool net_tcp_again(void);

/*
 * Binds an unbound lwIP pcb (struct tcp_pcb, or struct udp_pcb if udp) to a local port for a
 * flow to peer:peer_port (network byte order; host order) such that the NIC delivers the
 * peer's packets to this core: a free ephemeral port whose RSS hash selects this core's queue.
 * 0 when bound, or when the device does not steer by port (no RSS, or the route is not the
 * NIC) and the pcb is left for lwIP to bind as it likes; -EADDRINUSE when no such port is
 * free. A UDP pcb keeps the address in its local_ip. Thread context, on the pcb's core.
 */
int net_bind_steered(void *pcb, bool udp, uint32_t peer, uint16_t peer_port);

#endif
