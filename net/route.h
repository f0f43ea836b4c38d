/*
 * route.h - which cores a received frame is for, when the cores share one NIC (one queue pair
 * each). A driver asks net_route_frame() for every frame and delivers it accordingly; how it
 * gets a copy to another core (a message) is the driver's business, which cores is this one's.
 *
 *   ROUTE_HERE         the core whose queue received the frame handles it alone (everything
 *                      but what follows: the device steered the flow here)
 *   ROUTE_HERE_AND_ALL an ARP reply or announcement: this core handles it, and every other
 *                      core with a queue gets a copy, so each ARP cache learns the neighbour
 *                      (whichever core asked, the device delivers ARP, which it cannot hash,
 *                      to queue 0). An ARP request is answered by the receiving core alone:
 *                      one answer per question, however many cores there are.
 *   ROUTE_CORE0        a DHCP reply (UDP to port 68) on another core, while DHCP runs on core 0
 *                      (no static address); with a static address it is nobody's business
 *
 * Any context; a pure function of the frame's bytes, every length checked.
 */
#ifndef ISLE_NET_ROUTE_H
#define ISLE_NET_ROUTE_H

#include <stdint.h>
#include "kernel/compiler.h"

enum frame_route { ROUTE_HERE, ROUTE_HERE_AND_ALL, ROUTE_CORE0 };

/* The route of an Ethernet frame of len bytes received on core `self`; dhcp: core 0 runs a DHCP
 * client for every core. */
enum frame_route net_route_frame(const uint8_t *frame, uint32_t len, unsigned self, bool dhcp);

#endif
