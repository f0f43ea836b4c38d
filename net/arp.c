/*
 * arp.c - keeping ARP floods out of lwIP's small ARP table (ARP_TABLE_SIZE entries per core).
 *
 * lwIP enters the sender of every ARP request or reply aimed at us into its table, evicting the
 * oldest entry when the table is full: a flood of requests from made-up neighbours evicts the
 * gateway and every client within milliseconds, and the core stops answering anybody. So, before
 * lwIP sees an ARP frame (net_arp_input):
 *  - a request for our address from a sender lwIP does not know is answered here, and lwIP's
 *    table is left alone: if that neighbour then talks to us, we ask it once, like any other;
 *  - a reply (or an announcement) goes in only if this core asked for its sender in the last
 *    ASKED_TTL_NS (lwIP's requests are noted on their way out, net_arp_output) or lwIP knows the
 *    sender already;
 *  - everything else goes in: a request from a known neighbour refreshes its entry.
 * With one NIC shared by the cores, ARP replies are copied to every core (route.c): each keeps
 * only those it asked for. Every field read from a frame is bounds-checked first.
 */
#include <string.h>
#include "kernel/core.h"
#include "kernel/sched.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/etharp.h"
#include "lwip/prot/ethernet.h"
#include "net/arp.h"

#define ASKED_MAX 16                     /* addresses this core asked about lately */
#define ASKED_TTL_NS (5 * 1000000000ull) /* how long an answer is awaited */
#define ARP_FRAME (SIZEOF_ETH_HDR + SIZEOF_ETHARP_HDR)

struct asked {
	uint32_t ip;      /* [o] the address asked about (network order), 0 if free */
	uint64_t when_ns; /* [o] when */
};

PERCORE static struct asked asked[ASKED_MAX]; /* [o] */
PERCORE static unsigned asked_next;           /* [o] the slot the next ask takes (round robin) */

static bool read_arp(const uint8_t *frame, uint32_t len, struct etharp_hdr *arp)
{
	if (len < ARP_FRAME)
		return false;
	memcpy(arp, frame + SIZEOF_ETH_HDR, sizeof(*arp));
	return arp->hwtype == PP_HTONS(1) && arp->proto == PP_HTONS(ETHTYPE_IP) &&
	       arp->hwlen == ETH_HWADDR_LEN && arp->protolen == sizeof(ip4_addr_t);
}

void net_arp_output(const uint8_t *frame, uint32_t len)
{
	struct etharp_hdr arp;
	if (!read_arp(frame, len, &arp) || arp.opcode != PP_HTONS(ARP_REQUEST))
		return;
	uint32_t ip;
	memcpy(&ip, &arp.dipaddr, sizeof(ip));
	asked[asked_next] = (struct asked){ ip, now_ns() };
	asked_next = (asked_next + 1) % ASKED_MAX;
}

static bool did_ask(uint32_t ip)
{
	uint64_t now = now_ns();
	for (unsigned i = 0; i < ASKED_MAX; i++)
		if (asked[i].ip == ip && now - asked[i].when_ns < ASKED_TTL_NS)
			return true;
	return false;
}

static bool known(struct netif *nif, uint32_t ip)
{
	ip4_addr_t a = { ip };
	struct eth_addr *eth;
	const ip4_addr_t *ipr;
	return etharp_find_addr(nif, &a, &eth, &ipr) >= 0;
}

/* Answers a request for our address ourselves, as lwIP would, without touching its table. */
static void answer(struct netif *nif, const struct etharp_hdr *req)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, ARP_FRAME, PBUF_RAM);
	if (!p)
		return; /* the asker asks again */
	struct eth_hdr eth;
	struct etharp_hdr arp = *req;
	memcpy(&eth.dest, &req->shwaddr, ETH_HWADDR_LEN);
	memcpy(&eth.src, nif->hwaddr, ETH_HWADDR_LEN);
	eth.type = PP_HTONS(ETHTYPE_ARP);
	arp.opcode = PP_HTONS(ARP_REPLY);
	memcpy(&arp.shwaddr, nif->hwaddr, ETH_HWADDR_LEN);
	memcpy(&arp.sipaddr, netif_ip4_addr(nif), sizeof(arp.sipaddr));
	memcpy(&arp.dhwaddr, &req->shwaddr, ETH_HWADDR_LEN);
	memcpy(&arp.dipaddr, &req->sipaddr, sizeof(arp.dipaddr));
	memcpy(p->payload, &eth, SIZEOF_ETH_HDR);
	memcpy((uint8_t *)p->payload + SIZEOF_ETH_HDR, &arp, SIZEOF_ETHARP_HDR);
	nif->linkoutput(nif, p);
	pbuf_free(p);
}

bool net_arp_input(struct netif *nif, const uint8_t *frame, uint32_t len)
{
	struct etharp_hdr arp;
	uint32_t self = ip4_addr_get_u32(netif_ip4_addr(nif)), sip, dip;
	if (!read_arp(frame, len, &arp) || self == 0)
		return true; /* lwIP judges it; without an address yet, everything goes in */
	memcpy(&sip, &arp.sipaddr, sizeof(sip));
	memcpy(&dip, &arp.dipaddr, sizeof(dip));
	if (known(nif, sip))
		return true; /* refreshes what lwIP has */
	if (arp.opcode == PP_HTONS(ARP_REQUEST) && dip == self && sip != self) {
		answer(nif, &arp);
		return false;
	}
	if (arp.opcode == PP_HTONS(ARP_REPLY) && did_ask(sip))
		return true;
	return false; /* somebody else's business, or not asked for: not in the table */
}
