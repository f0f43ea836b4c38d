/* virtio_net.h - the virtio-net driver (one queue pair per core). */
#ifndef ISLE_NET_VIRTIO_NET_H
#define ISLE_NET_VIRTIO_NET_H

#include <stdint.h>
#include "kernel/compiler.h"

struct netif;

void vnet_probe(void);       /* boot core, before other cores start */
void vnet_attach_core(void); /* every core, after its lwIP is initialised */

/*
 * RSS steering: the queue pair, which is also the core, that the device delivers the packets
 * of an IPv4 TCP (udp false) or UDP flow to when they come from peer:peer_port to
 * local:local_port through interface nif. Addresses in network byte order, ports in host
 * order. -1 when the device does not steer such flows by port (no RSS; or nif is not this
 * core's interface on the NIC, e.g. loopback): then the choice of local port does not matter
 * to where the replies arrive. Any context on the core that owns nif.
 */
int vnet_rx_queue(const struct netif *nif, bool udp, uint32_t peer, uint16_t peer_port,
                  uint32_t local, uint16_t local_port);

#endif
