/*
 * toeplitz.h - the Toeplitz hash that receive-side scaling (RSS) uses to pick a receive queue.
 *
 * A NIC with RSS hashes some fields of every received packet with a secret key and looks the
 * hash up in an indirection table to choose the queue (here: the core) that gets it. For IPv4
 * TCP and UDP the input is 12 bytes, in the order they appear in the received packet's headers:
 * source address, destination address, source port, destination port (all big-endian); for
 * other IPv4 packets the two addresses alone. So a driver that knows the key and the table can
 * tell in advance on which core the replies of a flow will arrive, and a socket can choose its
 * local port so that they arrive on its own core (net_bind_steered in net/stack.c, which asks
 * the driver's vnet_rx_queue).
 *
 * Every bit of the input that is set XORs the 32 key bits starting at that bit's position into
 * the result: input bit i (counted from the most significant bit of byte 0) takes key bits
 * i..i+31. The key must therefore be at least 4 bytes longer than the input.
 *
 * Header-only and pure, so that the driver and the host unit test (tests/unit/test_toeplitz.c,
 * against Microsoft's published test vectors) share one copy.
 */
#ifndef ISLE_NET_TOEPLITZ_H
#define ISLE_NET_TOEPLITZ_H

#include <stddef.h>
#include <stdint.h>

#define TOEPLITZ_KEY_LEN 40 /* bytes: the RSS key length virtio and NDIS use */

/* The hash of len bytes of input under key, which MUST hold at least len + 4 bytes. */
static inline uint32_t toeplitz_hash(const uint8_t *key, const uint8_t *in, size_t len)
{
	uint32_t hash = 0;
	/* window: the 32 key bits that line up with the next input bit */
	uint32_t window =
	        (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < len; i++) {
		for (int bit = 7; bit >= 0; bit--) {
			if (in[i] >> bit & 1)
				hash ^= window;
			window = window << 1 | (uint32_t)(key[i + 4] >> bit & 1);
		}
	}
	return hash;
}

/*
 * The RSS hash of an IPv4 TCP or UDP packet from src:sport to dst:dport. Addresses are in
 * network byte order (as they sit in the packet), ports in host order.
 */
static inline uint32_t toeplitz_ipv4_ports(const uint8_t *key, uint32_t src, uint32_t dst,
                                           uint16_t sport, uint16_t dport)
{
	const uint8_t *s = (const uint8_t *)&src, *d = (const uint8_t *)&dst;
	uint8_t in[12] = { s[0],
		           s[1],
		           s[2],
		           s[3],
		           d[0],
		           d[1],
		           d[2],
		           d[3],
		           (uint8_t)(sport >> 8),
		           (uint8_t)sport,
		           (uint8_t)(dport >> 8),
		           (uint8_t)dport };
	return toeplitz_hash(key, in, sizeof(in));
}

/* The RSS hash of any other IPv4 packet from src to dst (network byte order). */
static inline uint32_t toeplitz_ipv4(const uint8_t *key, uint32_t src, uint32_t dst)
{
	const uint8_t *s = (const uint8_t *)&src, *d = (const uint8_t *)&dst;
	uint8_t in[8] = { s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3] };
	return toeplitz_hash(key, in, sizeof(in));
}

#endif
