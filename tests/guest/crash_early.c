/*
 * crash_early - an exception before the interrupt tables are set up (here: an invalid opcode
 * in the boot hook, right after boot_main loaded the early IDT) must be reported on the serial
 * port and end the VM with the panic status (100), never in a silent triple fault. The
 * backtrace names boot_early_hook. main() never runs.
 */
#include <stdio.h>

void boot_early_hook(void)
{
	__builtin_trap(); /* ud2 */
}

int main(void)
{
	printf("crash_early: main() ran, so the early exception was not taken\n");
	return 0;
}
