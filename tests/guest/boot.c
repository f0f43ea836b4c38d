/*
 * boot - every core is up: core_count() equals the count the runner booted with (argv[1]),
 * and a thread created on every core runs there (it returns its core_id(), main joins all).
 */
#include <stdlib.h>
#include <isle/core.h>
#include <isle/thread.h>
#include "gtest.h"

static int report_core(void *arg)
{
	(void)arg;
	return (int)core_id();
}

int main(int argc, char **argv)
{
	gtest_begin("boot_cores");
	CHECK(argc == 2);
	unsigned want = argc == 2 ? (unsigned)atoi(argv[1]) : 0;
	CHECKF(core_count() == want, "core_count() = %u, booted with %u", core_count(), want);
	CHECK(core_id() == 0); /* main runs on the boot core */
	gtest_end();

	gtest_begin("boot_thread_per_core");
	unsigned n = core_count();
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++) {
		t[c] = thread_create(c, report_core, NULL);
		CHECK(t[c] != NULL);
		if (t[c])
			CHECK(thread_core(t[c]) == c);
	}
	for (unsigned c = 0; c < n; c++) {
		int ret = -1;
		if (!t[c])
			continue;
		CHECK(thread_join(t[c], &ret) == 0);
		CHECKF(ret == (int)c, "thread created on core %u ran on core %d", c, ret);
	}
	CHECK(thread_create(n, report_core, NULL) == NULL); /* no such core */
	gtest_end();
	return gtest_status();
}
