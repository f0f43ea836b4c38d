/* isle_hooks.h - lwIP hooks isle provides (included by lwIP through LWIP_HOOK_FILENAME). */
#ifndef ISLE_LWIP_HOOKS_H
#define ISLE_LWIP_HOOKS_H

#include "lwip/err.h"
#include "lwip/ip_addr.h"

/* RFC 6528 initial sequence numbers: a 4 us clock plus a keyed hash of the connection. */
u32_t isle_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                   u16_t remote_port);

/* Before lwIP processes a segment (net/tcp_hooks.c): a SYN for a listener whose handshakes in
 * progress fill its backlog evicts the oldest of them, and a new SYN ends a TIME_WAIT on the
 * same ports. */
struct tcp_pcb;
struct tcp_hdr;
struct pbuf;
err_t isle_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
                        u8_t *opt2, struct pbuf *p);

#endif
