/*
 * addr.c - every core's IPv4 address (see addr.h).
 */
#include <string.h>
#include <isle/msg.h>
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/coreset.h"
#include "lwip/dhcp.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "net/addr.h"

/* The network options, as typed (NULL when absent: DHCP); net/ owns them, the kernel's parser
 * fills them at boot (kernel/cmdline.h, CMDLINE_OPTION). */
static struct {
	const char *ip;   /* this VM's IPv4 address, or one per NIC: ip=A,B,... */
	const char *gw;   /* default gateway (the same, per NIC) */
	const char *mask; /* netmask (default 255.255.255.0) */
} cfg;                    /* [I] */
CMDLINE_OPTION(ip, { "ip", CMDLINE_STR, &cfg.ip, 0, 0, NULL,
                     "IPv4 address, e.g. ip=10.0.2.15, or one per NIC (default: DHCP)" });
CMDLINE_OPTION(gw, { "gw", CMDLINE_STR, &cfg.gw, 0, 0, NULL, "default gateway, e.g. gw=10.0.2.2" });
CMDLINE_OPTION(mask, { "mask", CMDLINE_STR, &cfg.mask, 0, 0, NULL,
                       "netmask, e.g. mask=255.255.255.0 (the default)" });

PERCORE static struct netif *own;     /* [o] this core's interface on the NIC, or NULL */
PERCORE static bool shared_nic;       /* [o] the NIC is shared: core 0 speaks for all */
PERCORE static struct msg lease;      /* [o] core 0: the last lease, as sent to the others */
PERCORE static struct coreset untold; /* [o] core 0: cores not told the last lease yet */

bool net_addr_dhcp(void)
{
	return cfg.ip == NULL;
}

/*
 * Item i of a comma-separated list of addresses: NIC i takes the i-th; a list of one address
 * is everyone's. False if the list is absent or has no item i.
 */
static bool list_item(const char *list, unsigned i, char *out, size_t len)
{
	if (!list)
		return false;
	if (!strchr(list, ','))
		i = 0;
	for (const char *p = list;; p++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (i-- == 0) {
			if (n == 0 || n >= len)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		if (!end)
			return false;
		p = end;
	}
}

/* NIC nic's static address from ip=, gw=, mask=; false, said in the log, if it has none. */
static bool static_address(unsigned nic, ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw)
{
	char s[20];
	if (!list_item(cfg.ip, nic, s, sizeof(s))) {
		log_error("net: ip=%s names no address for NIC %u; no address", cfg.ip, nic);
		return false;
	}
	if (!ip4addr_aton(s, ip)) {
		log_error("net: ip=%s: '%s' is not an IPv4 address; no address", cfg.ip, s);
		return false;
	}
	if (!list_item(cfg.mask, nic, s, sizeof(s)) || !ip4addr_aton(s, mask))
		IP4_ADDR(mask, 255, 255, 255, 0);
	if (!list_item(cfg.gw, nic, s, sizeof(s)) || !ip4addr_aton(s, gw))
		ip4_addr_set_zero(gw);
	return true;
}

/* A shared NIC's lease, from core 0. */
static void on_addr(const struct msg *m)
{
	if (!own)
		return; /* a core without a NIC queue */
	ip4_addr_t ip = { (u32_t)m->w[0] }, mask = { (u32_t)m->w[1] }, gw = { (u32_t)m->w[2] };
	netif_set_addr(own, &ip, &mask, &gw);
	log_info("net: %s", ip4addr_ntoa(&ip));
}
MSG_HANDLER(MSG_NET_ADDR, on_addr);

/* When DHCP binds (or the address changes). On a shared NIC (core 0): every other core takes
 * the same address. */
static void status_changed(struct netif *nif)
{
	if (ip4_addr_isany_val(*netif_ip4_addr(nif)))
		return;
	char ip[16], gw[16];
	ip4addr_ntoa_r(netif_ip4_addr(nif), ip, sizeof(ip));
	ip4addr_ntoa_r(netif_ip4_gw(nif), gw, sizeof(gw));
	log_info("net: address %s (dhcp), gateway %s", ip, gw);
	if (!shared_nic)
		return;
	/* Told from net_addr_flush, not from here: this may run inside a message handler. */
	lease = (struct msg){ .type = MSG_NET_ADDR,
		              .w = { ip4_addr_get_u32(netif_ip4_addr(nif)),
		                     ip4_addr_get_u32(netif_ip4_netmask(nif)),
		                     ip4_addr_get_u32(netif_ip4_gw(nif)) } };
	for (unsigned c = 0; c < ncores; c++)
		if (c != core_id())
			coreset_add(&untold, c);
}

bool net_addr_flush(void)
{
	for (int c; (c = coreset_first(&untold)) >= 0;) {
		struct msg m = lease;
		/* A reply: on_addr sends nothing. A full ring: the next poll tries again. */
		if (msg_reply((unsigned)c, &m) < 0)
			return true;
		coreset_del(&untold, (unsigned)c);
	}
	return false;
}

void net_addr_start(struct netif *nif, unsigned nic, bool shared)
{
	own = nif;
	shared_nic = shared;
	ip4_addr_t ip, mask, gw;
	if (!net_addr_dhcp()) {
		if (!static_address(nic, &ip, &mask, &gw))
			return;
		netif_set_addr(nif, &ip, &mask, &gw);
		if (core_id() == 0 || !shared)
			log_info("net: address %s (ip= on the command line)%s", ip4addr_ntoa(&ip),
			         shared ? "" : " on this core's NIC");
		return;
	}
	if (core_id() == 0 || !shared) {
		netif_set_status_callback(nif, status_changed);
		dhcp_start(nif);
	}
}
