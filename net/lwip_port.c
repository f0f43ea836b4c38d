/*
 * lwip_port.c - the few functions lwIP (NO_SYS=1) needs from isle: the time in milliseconds,
 * diagnostics and assertions. Everything else lwIP needs lives in its own per-core globals.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <isle/thread.h>
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/printf.h"

#include "lwip/ip_addr.h"
#include "isle_hooks.h"

u32_t sys_now(void);

/* lwIP's clock: milliseconds since boot (wraps after 49 days, which lwIP handles). */
u32_t sys_now(void)
{
	return (u32_t)(now_ns() / 1000000);
}

void lwip_port_diag(const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_debug("lwip: %s", line);
}

__noreturn void lwip_port_assert(const char *msg, const char *file, int line)
{
	panic("lwIP assertion failed (%s:%d): %s", file, line, msg);
}

/* ---- TCP initial sequence numbers (RFC 6528) ------------------------------------------------ */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3)        \
	do {                            \
		v0 += v1;               \
		v1 = ROTL(v1, 13) ^ v0; \
		v0 = ROTL(v0, 32);      \
		v2 += v3;               \
		v3 = ROTL(v3, 16) ^ v2; \
		v0 += v3;               \
		v3 = ROTL(v3, 21) ^ v0; \
		v2 += v1;               \
		v1 = ROTL(v1, 17) ^ v2; \
		v2 = ROTL(v2, 32);      \
	} while (0)

/* SipHash-2-4 of the 12 bytes (m, tail) under the key (k0, k1). */
static uint64_t siphash12(uint64_t k0, uint64_t k1, uint64_t m, uint32_t tail)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	uint64_t b = (12ull << 56) | tail;
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

PERCORE static uint64_t isn_key[2]; /* [o] this core's secret, drawn on first use */

u32_t isle_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                   u16_t remote_port)
{
	while (!isn_key[0] && !isn_key[1]) {
		isn_key[0] = (uint64_t)rand() << 33 ^ (uint64_t)rand() << 11 ^ (uint64_t)rand();
		isn_key[1] = (uint64_t)rand() << 33 ^ (uint64_t)rand() << 11 ^ (uint64_t)rand();
	}
	uint64_t m = (uint64_t)ip4_addr_get_u32(ip_2_ip4(local_ip)) << 32 |
	             ip4_addr_get_u32(ip_2_ip4(remote_ip));
	uint32_t tail = (uint32_t)local_port << 16 | remote_port;
	return (u32_t)(now_ns() / 4000) + (u32_t)siphash12(isn_key[0], isn_key[1], m, tail);
}
