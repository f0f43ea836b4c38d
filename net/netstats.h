/*
 * netstats.h - the per-core network counters behind net_stats() (include/isle/net.h).
 *
 * The counters live in socket.c as PERCORE variables: each core counts its own traffic and a
 * reader sums the cores. Drivers call these from the core that owns the queue, in thread or
 * scheduler context (net_poll), never from an interrupt handler: a counter is a plain per-core
 * increment, not an atomic one.
 */
#ifndef ISLE_NET_NETSTATS_H
#define ISLE_NET_NETSTATS_H

#include <stddef.h>
#include <stdint.h>

void net_count_rx(size_t bytes); /* one frame of `bytes` received from the NIC */
void net_count_tx(size_t bytes); /* one frame of `bytes` handed to the NIC */
void net_count_drop(void);       /* one frame lost: malformed, no buffer, device error */
void net_count_tx_drop(void);    /* one frame not sent: the transmit ring was full */
uint64_t net_syn_evicted(void);  /* handshakes a SYN evicted from a full backlog (tcp_hooks.c) */
uint64_t net_tw_reused(void);    /* TIME_WAITs a new SYN for the same ports ended (tcp_hooks.c) */
void net_set_queue(unsigned queue); /* this core's NIC queue pair (-1u: none, the default) */

#endif
