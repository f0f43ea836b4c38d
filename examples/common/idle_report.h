/*
 * idle_report.h - what the cores that took no part in a benchmark did (examples/netbench and
 * examples/pingpong print it after their run; ci/bench-scale-tax records it).
 */
#ifndef EXAMPLES_IDLE_REPORT_H
#define EXAMPLES_IDLE_REPORT_H

#include <stdio.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>

/*
 * After the run, every core's scheduler and message counters, read without asking the cores
 * (sched_stats_of, msg_stats_of): the cores that did not take part should have done nothing
 * since boot. ci/bench-scale-tax records it.
 */
static inline void report_idle(const char *app, unsigned from)
{
	unsigned n = core_count();
	uint64_t wakeups = 0, most = 0, received = 0, busy_ns = 0;
	for (unsigned c = from; c < n; c++) {
		struct sched_stats s;
		struct msg_stats m;
		sched_stats_of(c, &s);
		msg_stats_of(c, &m);
		wakeups += s.wakeups;
		most = s.wakeups > most ? s.wakeups : most;
		received += m.received;
		busy_ns += s.busy_ns;
	}
	if (from < n)
		printf("%s: idle cores %u..%u since boot: %lu wake-ups (at most %lu per core), %lu "
		       "messages handled, busy %lu us in all (read without waking them)\n",
		       app, from, n - 1, wakeups, most, received, busy_ns / 1000);
}

#endif
