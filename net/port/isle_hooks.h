/* isle_hooks.h - lwIP hooks isle provides (included by lwIP through LWIP_HOOK_FILENAME). */
#ifndef ISLE_LWIP_HOOKS_H
#define ISLE_LWIP_HOOKS_H

#include "lwip/ip_addr.h"

/* RFC 6528 initial sequence numbers: a 4 us clock plus a keyed hash of the connection. */
u32_t isle_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                   u16_t remote_port);

#endif
