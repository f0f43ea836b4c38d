/*
 * test_toeplitz.c - host tests of the RSS Toeplitz hash (net/toeplitz.h).
 *
 * The expected values are Microsoft's published verification data ("Verifying the RSS Hash
 * Calculation", Windows driver documentation), computed with the key below: every IPv4 row
 * with and without ports, and the IPv6 rows, whose 36-byte input uses the whole 40-byte key.
 * A final test checks what the driver relies on to steer a flow: the hash the device computes
 * for a received packet (source = the peer) is a different function of the ports than the one
 * of the packets we send, so the order of the fields matters.
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "net/toeplitz.h"
#include "tests/unit/test.h"

static const uint8_t ms_key[TOEPLITZ_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

struct vector {
	const char *dst, *src; /* addresses of the received packet */
	uint16_t dport, sport; /* its ports */
	uint32_t ip_only;      /* hash of the addresses */
	uint32_t with_ports;   /* hash of addresses and ports (TCP) */
};

static const struct vector v4[] = {
	{ "161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178 },
	{ "65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea },
	{ "12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a },
	{ "209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f },
	{ "202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2 },
};

static const struct vector v6[] = {
	{ "3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5, 0x40207d3d },
	{ "ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c, 0xdde51bbf },
	{ "fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251,
	  0x4b61e985, 0x02d1feef },
};

/* An IPv4 address in network byte order, as it sits in a packet. */
static uint32_t ip4(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "  bad address %s\n", s);
		abort();
	}
	return a.s_addr;
}

TEST(ipv4_only)
{
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		uint32_t h = toeplitz_ipv4(ms_key, ip4(v4[i].src), ip4(v4[i].dst));
		if (h != v4[i].ip_only)
			fprintf(stderr, "  row %zu: %#x, want %#x\n", i, h, v4[i].ip_only);
		CHECK_EQ(h, v4[i].ip_only);
	}
}

TEST(ipv4_with_ports)
{
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		uint32_t h = toeplitz_ipv4_ports(ms_key, ip4(v4[i].src), ip4(v4[i].dst),
		                                 v4[i].sport, v4[i].dport);
		if (h != v4[i].with_ports)
			fprintf(stderr, "  row %zu: %#x, want %#x\n", i, h, v4[i].with_ports);
		CHECK_EQ(h, v4[i].with_ports);
	}
}

/* The generic function over the IPv6 layouts: 32 (addresses) and 36 bytes (and ports). */
TEST(ipv6_whole_key)
{
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		uint8_t in[36];
		REQUIRE(inet_pton(AF_INET6, v6[i].src, in) == 1);
		REQUIRE(inet_pton(AF_INET6, v6[i].dst, in + 16) == 1);
		in[32] = (uint8_t)(v6[i].sport >> 8);
		in[33] = (uint8_t)v6[i].sport;
		in[34] = (uint8_t)(v6[i].dport >> 8);
		in[35] = (uint8_t)v6[i].dport;
		CHECK_EQ(toeplitz_hash(ms_key, in, 32), v6[i].ip_only);
		CHECK_EQ(toeplitz_hash(ms_key, in, 36), v6[i].with_ports);
	}
}

/* The two directions of a flow hash differently: steering must use the received order. */
TEST(direction_matters)
{
	uint32_t a = ip4("10.0.2.1"), b = ip4("10.0.2.15");
	unsigned differ = 0;
	for (uint16_t port = 49152; port < 49152 + 64; port++)
		differ += toeplitz_ipv4_ports(ms_key, a, b, 80, port) !=
		          toeplitz_ipv4_ports(ms_key, b, a, port, 80);
	CHECK(differ > 60);
	/* and the ports really take part: 64 local ports give many different hashes */
	unsigned low_bits_seen = 0;
	for (uint16_t port = 49152; port < 49152 + 64; port++)
		low_bits_seen |= 1u << (toeplitz_ipv4_ports(ms_key, a, b, 80, port) & 7);
	CHECK_EQ(low_bits_seen, 0xff);
}

int main(void)
{
	RUN(ipv4_only);
	RUN(ipv4_with_ports);
	RUN(ipv6_whole_key);
	RUN(direction_matters);
	TEST_EXIT();
}
