/*
 * test_route.c - net_route_frame (net/route.c): ARP replies and announcements go to every core,
 * ARP requests stay where they arrived (one answer per question), DHCP replies go to core 0
 * while core 0 runs DHCP, and nothing else leaves its core; short, odd and fragmented frames
 * never make it read past the frame (ASan).
 */
#include "net/route.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"

static uint8_t frame[128];

/* An Ethernet header of the given type at the start of frame. */
static void eth(uint16_t type)
{
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	frame[12] = (uint8_t)(type >> 8);
	frame[13] = (uint8_t)type;
}

static void make_arp(uint16_t op, const uint8_t sip[4], const uint8_t tip[4])
{
	eth(0x0806);
	uint8_t *a = frame + 14;
	a[0] = 0, a[1] = 1;       /* Ethernet */
	a[2] = 0x08, a[3] = 0x00; /* IPv4 */
	a[4] = 6, a[5] = 4;
	a[6] = 0, a[7] = (uint8_t)op;
	memcpy(a + 14, sip, 4);
	memcpy(a + 24, tip, 4);
}

/* A UDP datagram to port dport, IP header of ihl bytes, fragment offset field frag. */
static void udp(uint16_t dport, unsigned ihl, uint16_t frag)
{
	eth(0x0800);
	uint8_t *ip = frame + 14;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[9] = 17;
	uint8_t *u = ip + ihl;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
}

/* The route of the first len bytes of frame, from a heap copy of exactly len bytes (ASan). */
static enum frame_route route(uint32_t len, unsigned self, bool dhcp)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, frame, len);
	enum frame_route r = net_route_frame(copy, len, self, dhcp);
	free(copy);
	return r;
}

TEST(arp_frames)
{
	const uint8_t a[4] = { 10, 0, 2, 1 }, b[4] = { 10, 0, 2, 15 };
	make_arp(2, a, b); /* reply */
	CHECK_EQ(route(42, 0, true), ROUTE_HERE_AND_ALL);
	CHECK_EQ(route(60, 3, false), ROUTE_HERE_AND_ALL);
	make_arp(1, a, b); /* request: answered where it arrived */
	CHECK_EQ(route(42, 0, true), ROUTE_HERE);
	CHECK_EQ(route(42, 2, true), ROUTE_HERE);
	make_arp(1, a, a); /* gratuitous announcement */
	CHECK_EQ(route(42, 0, true), ROUTE_HERE_AND_ALL);
	make_arp(2, a, b);
	CHECK_EQ(route(41, 0, true), ROUTE_HERE); /* cut short: lwIP drops it */
	CHECK_EQ(route(14, 0, true), ROUTE_HERE);
	CHECK_EQ(route(13, 0, true), ROUTE_HERE);
	CHECK_EQ(route(0, 0, true), ROUTE_HERE);
}

TEST(dhcp_replies)
{
	udp(68, 20, 0);
	CHECK_EQ(route(42, 1, true), ROUTE_CORE0);
	CHECK_EQ(route(42, 0, true), ROUTE_HERE);  /* core 0 is where it goes */
	CHECK_EQ(route(42, 1, false), ROUTE_HERE); /* static address: nobody runs DHCP */
	udp(67, 20, 0);
	CHECK_EQ(route(42, 1, true), ROUTE_HERE);
	udp(68, 24, 0); /* IP options */
	CHECK_EQ(route(46, 1, true), ROUTE_CORE0);
	CHECK_EQ(route(45, 1, true), ROUTE_HERE); /* the UDP header is cut off */
	udp(68, 20, 0x0010);                      /* a later fragment: no UDP header */
	CHECK_EQ(route(42, 1, true), ROUTE_HERE);
	udp(68, 20, 0x2000); /* the first fragment (more fragments): has the header */
	CHECK_EQ(route(42, 1, true), ROUTE_CORE0);
	udp(68, 12, 0); /* a header length below the minimum */
	CHECK_EQ(route(42, 1, true), ROUTE_HERE);
	eth(0x86dd); /* IPv6 */
	CHECK_EQ(route(60, 1, true), ROUTE_HERE);
}

/* Random bytes of every length: no read past the frame, any answer is a valid route. */
TEST(random_frames)
{
	uint64_t x = 12345;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint32_t len = (uint32_t)(x % sizeof(frame));
		for (uint32_t k = 0; k < sizeof(frame); k++)
			frame[k] = (uint8_t)(x >> (k % 56));
		if (x & 1) { /* often a type that gets parsed */
			frame[12] = 0x08;
			frame[13] = (x & 2) ? 0x06 : 0x00;
		}
		enum frame_route r = route(len, (unsigned)(x >> 60), x & 4);
		CHECK(r == ROUTE_HERE || r == ROUTE_HERE_AND_ALL || r == ROUTE_CORE0);
	}
}

int main(void)
{
	RUN(arp_frames);
	RUN(dhcp_replies);
	RUN(random_frames);
	TEST_EXIT();
}
