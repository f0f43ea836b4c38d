/*
 * lwipopts.h - isle's configuration of lwIP (one instance per core).
 *
 * lwIP runs without an OS layer (NO_SYS=1, raw API): each core drives its own instance from its
 * scheduler, so no lwIP call ever races with another core and none needs a lock. All of lwIP's
 * globals (memory pools, PCB lists, netifs, timers) become per-core because the library is
 * linked as liblwip_percore.a (see arch/x86_64/linker.ld); the pool sizes below are per core.
 */
#ifndef ISLE_LWIPOPTS_H
#define ISLE_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* one core, one thread of lwIP at a time: nothing to protect */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_TIMERS 1
/* Only to reach lwip_cyclic_timer (timeouts.c; the one thing LWIP_TESTMODE changes): a core
 * stops the cyclic timers it does not need (net/stack.c, stop_idle_timers). */
#define LWIP_TESTMODE 1

#define MEM_ALIGNMENT 8
/* lwIP's heap (what it sends: PBUF_RAM, segment data) is the core's own heap (malloc = kmalloc),
 * not a fixed arena of its own: a few slow readers with full send buffers (46 KiB each) would
 * otherwise take the whole arena, and every other connection of the core could send nothing. */
#define MEM_LIBC_MALLOC 1
#define MEMP_NUM_PBUF 128
#define MEMP_NUM_TCP_PCB 1024 /* connections per core */
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_TCP_SEG 2048
#define MEMP_NUM_UDP_PCB 8
#define PBUF_POOL_SIZE 512
#define PBUF_POOL_BUFSIZE 1536

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_RAW 0

#define TCP_MSS 1460
#define TCP_WND (32 * TCP_MSS)
#define TCP_SND_BUF (32 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG 1
/* Out-of-order segments wait in pool buffers: at most 8 per connection (and lwIP frees them
 * all when the pool runs dry), so no peer can fill the pool by leaving a gap. */
#define TCP_OOSEQ_MAX_PBUFS 8
#define TCP_OOSEQ_MAX_BYTES TCP_WND
#define LWIP_TCP_KEEPALIVE 1
#define SO_REUSE 1 /* a restarted listener may bind its port again at once */

#define LWIP_NETIF_LOOPBACK 1 /* 127.0.0.1 on every core, for tests without a NIC */
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 256
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1

/* Which checksums lwIP computes and checks is set per interface: the virtio-net driver leaves
 * to the device what it offers to do (net/virtio_net.c). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

#define LWIP_STATS 1       /* per-core counters, read by the statistics code */
#define LWIP_STATS_LARGE 1 /* 32-bit counters: 16 bits wrap within seconds under load */
#define LWIP_STATS_DISPLAY 0

/* TCP initial sequence numbers per RFC 6528 (net/lwip_port.c), not lwIP's counter, which
 * starts at the same value on every core. */
#define LWIP_HOOK_FILENAME "isle_hooks.h"
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) isle_tcp_isn((lip), (lport), (rip), (rport))
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	isle_tcp_inpacket((pcb), (hdr), (optlen), (opt1len), (opt2), (p))

/* lwIP's random numbers (ports) from the per-core generator, seeded differently per core. */
#include <stdlib.h>
#define LWIP_RAND() ((u32_t)rand())

#endif
