/*
 * arp.h - keeping ARP floods out of lwIP's small ARP table. A driver passes every received ARP
 * frame through net_arp_input() before lwIP sees it, and every ARP frame it sends through
 * net_arp_output() (see arp.c). Scheduler or thread context on the interface's core.
 */
#ifndef ISLE_NET_ARP_H
#define ISLE_NET_ARP_H

#include <stdint.h>
#include "kernel/compiler.h"

struct netif;

/* Whether lwIP should get this received ARP frame (false: it was answered here, or dropped). */
bool net_arp_input(struct netif *nif, const uint8_t *frame, uint32_t len);
/* Notes an ARP frame this core sends (the requests it makes). */
void net_arp_output(const uint8_t *frame, uint32_t len);

#endif
