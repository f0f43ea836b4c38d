/*
 * addr.h - every core's IPv4 address. Each core's interface on the NIC gets its address here,
 * the same way whichever driver made the interface:
 *   - static, from ip=, gw=, mask= on the command line; with one NIC per core, entry `nic` of a
 *     comma-separated list (a list of one address is every core's);
 *   - or DHCP: with one NIC shared by queue pairs, core 0 runs the client and sends the lease
 *     to every other core by message when it binds (MSG_NET_ADDR); with one NIC per core, every
 *     core runs its own client on its own link.
 * Thread or start-up context on the interface's core.
 */
#ifndef ISLE_NET_ADDR_H
#define ISLE_NET_ADDR_H

#include "kernel/compiler.h"

struct netif;

/* Whether addresses come from DHCP (no ip= on the command line). Any context. */
bool net_addr_dhcp(void);
/* Configures nif, this core's interface on NIC `nic`; shared: one NIC for all cores. Call once
 * per core, after netif_add and netif_set_up. */
void net_addr_start(struct netif *nif, unsigned nic, bool shared);
/* Sends a new lease to the cores not told yet (net_poll calls it; the DHCP callback may run
 * inside a message handler, which may not send). True while some are left. */
bool net_addr_flush(void);

#endif
