/*
 * stack.c - one lwIP per core, driven by the core's scheduler loop.
 *
 * lwIP is NO_SYS: nothing runs it but us. On every turn of the scheduler loop (and while the
 * core polls before halting) net_poll() lets each driver move packets between its queues and
 * lwIP, delivers what the loopback interface queued, and runs lwIP's due timers. A kernel
 * timer is kept armed at lwIP's next timeout so that a halted core wakes up for it.
 * Every variable here is PERCORE, like all of lwIP's own.
 */
#include <isle/thread.h>
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "kernel/core.h"
#include "net/stack.h"
#include "net/virtio_net.h"

#define MAX_POLLS 4

PERCORE static struct net_driver_poll polls[MAX_POLLS]; /* [o] drivers of this core */
PERCORE static unsigned npolls;                         /* [o] */
PERCORE static struct timer lwip_timer;                 /* [o] lwIP's next timeout */

static void lwip_timer_fired(struct timer *t)
{
	(void)t; /* waking the core is all it takes: net_poll runs lwIP's timers */
}

void net_register_poll(bool (*poll)(void *arg), void *arg)
{
	kassert(npolls < MAX_POLLS);
	polls[npolls++] = (struct net_driver_poll){ poll, arg };
}

static bool net_poll_sched(void)
{
	return net_poll();
}

void net_init_core(void)
{
	if (core_id() == 0)
		vnet_probe(); /* before the other cores start: device set-up is the boot core's */
	lwip_init();
	timer_init(&lwip_timer, lwip_timer_fired);
	sched_add_poll(net_poll_sched);
	vnet_attach_core();
}

bool net_poll(void)
{
	bool did = false;
	for (unsigned i = 0; i < npolls; i++)
		did |= polls[i].poll(polls[i].arg);
	struct netif *nif;
	NETIF_FOREACH(nif)
	{
		if (nif->loop_first) { /* packets a thread sent to one of our own addresses */
			netif_poll(nif);
			did = true;
		}
	}
	sys_check_timeouts();
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
