/*
 * route.c - which cores a received frame is for (see route.h), read from the frame with lwIP's
 * own protocol header layouts (lwip/prot/) rather than byte offsets.
 */
#include <string.h>
#include "lwip/def.h"
#include "lwip/prot/etharp.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/udp.h"
#include "net/route.h"

#define DHCP_CLIENT_PORT 68

/* ARP: replies and announcements (a request for the sender's own address) go everywhere. */
static enum frame_route route_arp(const uint8_t *frame, uint32_t len)
{
	struct etharp_hdr arp;
	if (len < SIZEOF_ETH_HDR + SIZEOF_ETHARP_HDR)
		return ROUTE_HERE; /* lwIP drops it */
	memcpy(&arp, frame + SIZEOF_ETH_HDR, sizeof(arp));
	if (arp.opcode == PP_HTONS(ARP_REPLY))
		return ROUTE_HERE_AND_ALL;
	if (arp.opcode == PP_HTONS(ARP_REQUEST) &&
	    memcmp(&arp.sipaddr, &arp.dipaddr, sizeof(arp.sipaddr)) == 0)
		return ROUTE_HERE_AND_ALL; /* gratuitous: an announcement, nobody answers it */
	return ROUTE_HERE;
}

/* IPv4: a UDP datagram to the DHCP client port belongs to core 0. */
static enum frame_route route_ip4(const uint8_t *frame, uint32_t len)
{
	struct ip_hdr ip;
	struct udp_hdr udp;
	if (len < SIZEOF_ETH_HDR + IP_HLEN)
		return ROUTE_HERE;
	memcpy(&ip, frame + SIZEOF_ETH_HDR, IP_HLEN);
	unsigned ihl = IPH_HL_BYTES(&ip);
	if (IPH_PROTO(&ip) != IP_PROTO_UDP || ihl < IP_HLEN ||
	    len < SIZEOF_ETH_HDR + ihl + UDP_HLEN || (IPH_OFFSET(&ip) & PP_HTONS(IP_OFFMASK)))
		return ROUTE_HERE; /* a later fragment has no UDP header */
	memcpy(&udp, frame + SIZEOF_ETH_HDR + ihl, UDP_HLEN);
	return udp.dest == PP_HTONS(DHCP_CLIENT_PORT) ? ROUTE_CORE0 : ROUTE_HERE;
}

enum frame_route net_route_frame(const uint8_t *frame, uint32_t len, unsigned self, bool dhcp)
{
	struct eth_hdr eth;
	if (len < SIZEOF_ETH_HDR)
		return ROUTE_HERE;
	memcpy(&eth, frame, SIZEOF_ETH_HDR);
	if (eth.type == PP_HTONS(ETHTYPE_ARP))
		return route_arp(frame, len);
	if (eth.type == PP_HTONS(ETHTYPE_IP) && self != 0 && dhcp)
		return route_ip4(frame, len);
	return ROUTE_HERE;
}
