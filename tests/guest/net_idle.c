/*
 * net_idle - an image with the network stack (one lwIP per core) lets its idle cores sleep.
 * Booted with a single-queue NIC (tests/run: -n user, static address), so core 0 drives the
 * NIC and the other cores have none: lwIP's cyclic timers (IP reassembly and ARP every second,
 * DHCP every 500 ms) must not wake them. A thread on each other core sleeps IDLE_MS and counts
 * how often its core left the halted state meanwhile: its own timer, and nothing else (a
 * message or two at most). Before the fix every core woke 5 times in 2 s.
 *
 *  net_idle_no_wakeups  cores without a NIC wake at most MAX_WAKEUPS times in IDLE_MS
 */
#include <stdio.h>
#include <isle/core.h>
#include <isle/net.h>
#include <isle/thread.h>
#include "gtest.h"

#define IDLE_MS 2000
#define MAX_WAKEUPS 2

static int sleeper(void *arg)
{
	(void)arg;
	struct sched_stats s0, s1;
	sleep_ms(200); /* past the start-up's messages */
	sched_stats(&s0);
	sleep_ms(IDLE_MS);
	sched_stats(&s1);
	return (int)(s1.wakeups - s0.wakeups);
}

int main(void)
{
	gtest_begin("net_idle_no_wakeups");
	struct net_stats st;
	net_stats(&st);       /* links the network: every core runs its lwIP */
	CHECK(st.queue == 0); /* core 0 drives the NIC */
	unsigned n = core_count();
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 1; c < n; c++)
		CHECK((t[c] = thread_create(c, sleeper, NULL)) != NULL);
	for (unsigned c = 1; c < n; c++) {
		int woke = -1;
		if (t[c])
			CHECK(thread_join(t[c], &woke) == 0);
		printf("net_idle: core %u woke %d times in %d ms\n", c, woke, IDLE_MS);
		CHECKF(woke >= 1 && woke <= MAX_WAKEUPS, "core %u woke %d times in %d ms", c, woke,
		       IDLE_MS);
	}
	gtest_end();
	return gtest_status();
}
