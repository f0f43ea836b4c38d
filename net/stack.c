/*
 * stack.c - one lwIP per core, driven by the core's scheduler loop.
 *
 * lwIP is NO_SYS: nothing runs it but us. On every turn of the scheduler loop (and while the
 * core polls before halting) net_poll() lets each driver move packets between its queues and
 * lwIP, delivers what the loopback interface queued, and runs lwIP's due timers. A kernel
 * timer is kept armed at lwIP's next timeout so that a halted core wakes up for it.
 * Every variable here is PERCORE, like all of lwIP's own.
 *
 * It also chooses the local port of outgoing flows (net_bind_steered): one whose replies the
 * NIC's receive-side scaling delivers to this core, the only one whose lwIP knows the flow.
 */
#include <stdlib.h>
#include <isle/errno.h>
#include <isle/thread.h>
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "kernel/core.h"
#include "net/addr.h"
#include "net/stack.h"
#include "net/virtio_net.h"

#define EPHEMERAL_FIRST 49152 /* local ports we choose from: IANA's dynamic range, as lwIP's */
#define EPHEMERAL_COUNT 16384

PERCORE static struct timer lwip_timer; /* [o] lwIP's next timeout */

static void lwip_timer_fired(struct timer *t)
{
	(void)t; /* waking the core is all it takes: net_poll runs lwIP's timers */
}

static bool net_poll_sched(void *arg)
{
	(void)arg; /* one lwIP per core: nothing to tell apart */
	return net_poll();
}

/*
 * lwip_init starts lwIP's cyclic timers on every core: IP reassembly and ARP every second, DHCP
 * every 500 ms and every minute (TCP's runs only while there are connections). A core without
 * a NIC needs none of them, a core that runs no DHCP client none of DHCP's, and each would wake
 * an idle core for nothing: twice a second on every core, some 9% of a host CPU for an idle VM
 * of 255 vCPUs. So each core stops those it does not need, once it knows (after attaching).
 */
static void stop_idle_timers(void)
{
	bool nic = false, dhcp = false;
	struct netif *nif;
	NETIF_FOREACH(nif)
	{
		nic |= (nif->flags & NETIF_FLAG_ETHARP) != 0;
		dhcp |= netif_dhcp_data(nif) != NULL;
	}
	for (int i = 0; i < lwip_num_cyclic_timers; i++) {
		const struct lwip_cyclic_timer *t = &lwip_cyclic_timers[i];
		bool needed = true;
		if (t->handler == etharp_tmr || t->handler == ip_reass_tmr)
			needed = nic;
		else if (t->handler == dhcp_fine_tmr || t->handler == dhcp_coarse_tmr)
			needed = dhcp;
		if (!needed)
			sys_untimeout(lwip_cyclic_timer, (void *)t);
	}
}

void net_init_core(void)
{
	if (core_id() == 0)
		vnet_probe(); /* before the other cores start: device set-up is the boot core's */
	lwip_init();
	timer_init(&lwip_timer, lwip_timer_fired);
	/* the NIC's poll is added first, so in every turn of the loop the frames that arrived reach
	 * lwIP before its timers run (polls run in the order added) */
	vnet_attach_core();
	if (sched_add_poll(net_poll_sched, NULL) < 0)
		panic("net: no poll slot on core %u", core_id());
	stop_idle_timers();
}

bool net_poll(void)
{
	bool did = false;
	struct netif *nif;
	NETIF_FOREACH(nif)
	{
		if (nif->loop_first) { /* packets a thread sent to one of our own addresses */
			netif_poll(nif);
			did = true;
		}
	}
	if (net_tcp_again())
		did = true; /* SYNs that ended a TIME_WAIT, for their listener now */
	sys_check_timeouts();
	if (net_addr_flush())
		did = true; /* a lease still to tell: keep polling until the rings have room */
	uint32_t ms = sys_timeouts_sleeptime();
	if (ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
		uint64_t deadline = now_ns() + (uint64_t)ms * 1000000;
		if (!timer_queued(&lwip_timer) || lwip_timer.deadline > deadline) {
			timer_del(&lwip_timer);
			lwip_timer.deadline = deadline;
			timer_add(&lwip_timer);
		}
	}
	return did;
}

int net_bind_steered(void *pcb, bool udp, uint32_t peer, uint16_t peer_port)
{
	ip4_addr_t dst = { peer };
	struct netif *nif = ip4_route(&dst);
	if (!nif)
		return 0; /* no route: connect or sendto says so */
	/* the local address the flow will have: the socket's own, else the interface's */
	uint32_t local = udp ? ip4_addr_get_u32(ip_2_ip4(&((struct udp_pcb *)pcb)->local_ip)) : 0;
	if (!local)
		local = ip4_addr_get_u32(netif_ip4_addr(nif));
	if (vnet_rx_queue(nif, udp, peer, peer_port, local, EPHEMERAL_FIRST) < 0)
		return 0; /* the device does not steer by port: any port will do */
	/* Try the ports from a random point on (as lwIP would), most of them hash elsewhere. */
	unsigned start = (unsigned)rand() % EPHEMERAL_COUNT;
	for (unsigned i = 0; i < EPHEMERAL_COUNT; i++) {
		uint16_t port = (uint16_t)(EPHEMERAL_FIRST + (start + i) % EPHEMERAL_COUNT);
		if (vnet_rx_queue(nif, udp, peer, peer_port, local, port) != (int)core_id())
			continue;
		err_t e = udp ? udp_bind(pcb, &((struct udp_pcb *)pcb)->local_ip, port)
		              : tcp_bind(pcb, IP4_ADDR_ANY, port);
		if (e == ERR_OK)
			return 0;
	}
	return -EADDRINUSE; /* every port that steers here is taken */
}
