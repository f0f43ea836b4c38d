/*
 * crash_triple - a triple fault (the CPU shuts down; QEMU sees a reset and, with -no-reboot,
 * exits 0) must be reported as a failure: ci/qemu-run exits 126 and says that the VM ended
 * without an exit status. Before isle wrote status + 1 to isa-debug-exit, QEMU's exit 0 meant
 * both "powered off with status 0" and "triple fault", and this crash looked like success.
 */
#include <stdio.h>
#include "arch/x86_64/arch.h"

int main(void)
{
	printf("crash_triple: shutting the CPU down with a triple fault\n");
	arch_triple_fault();
}
