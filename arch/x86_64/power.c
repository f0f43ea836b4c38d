/*
 * power.c - exit status and power-off.
 *
 * isa-debug-exit (QEMU, port 0xf4) carries a status out of the VM. Without it the status can
 * only be printed, and the VM ends the best way it has: ACPI power-off with the values the
 * firmware tables give (SLP_TYP from \_S5_ written with SLP_EN to PM1a/PM1b control on pc and
 * q35, the sleep control register on hardware-reduced ACPI: microvm, Cloud Hypervisor), else the
 * ACPI reset register, else the i8042 reset (Firecracker).
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/firmware.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/serial.h"
#include "kernel/printf.h"

#define DEBUG_EXIT_PORT 0xf4
#define I8042_CMD 0x64   /* keyboard controller command port */
#define I8042_RESET 0xFE /* command: pulse the reset line */

static struct acpi_info power_acpi; /* [I] copy of what power-off needs */
static bool power_have_acpi;        /* [I] */

void power_init(const struct acpi_info *acpi)
{
	if (!acpi)
		return;
	power_acpi = *acpi;
	power_have_acpi = true;
}

static void wait_ticks(uint64_t ticks)
{
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < ticks;)
		cpu_pause();
}

static void acpi_poweroff(void)
{
	const struct acpi_info *a = &power_acpi;
	if (!power_have_acpi)
		return;
	if (a->hw_reduced && a->sleep_ctl) {
		uint8_t v = (uint8_t)(((a->have_s5 ? a->s5_typa : 5) & 7) << 2 | (1 << 5));
		if (a->sleep_ctl_space == 1)
			outb((uint16_t)a->sleep_ctl, v);
		else
			*(volatile uint8_t *)(uintptr_t)a->sleep_ctl = v; /* device register */
		return;
	}
	if (a->pm1a_cnt) {
		uint16_t typa = a->have_s5 ? a->s5_typa : 0;
		uint16_t typb = a->have_s5 ? a->s5_typb : 0;
		outw((uint16_t)a->pm1a_cnt, (uint16_t)((typa << 10) | (1 << 13)));
		if (a->pm1b_cnt)
			outw((uint16_t)a->pm1b_cnt, (uint16_t)((typb << 10) | (1 << 13)));
	}
}

__noreturn void power_exit(int status)
{
	irq_disable();
	/* isa-debug-exit: QEMU exits with (value << 1) | 1 = 2 * status + 3, never 0 (the guest
	 * powered off or reset without a status) nor 1 (QEMU's own failure). */
	outl(DEBUG_EXIT_PORT, (uint32_t)status + 1);
	/* Still here: no isa-debug-exit device, so the hypervisor will not see the status. */
	const struct acpi_info *a = &power_acpi;
	bool can_acpi = power_have_acpi && ((a->hw_reduced && a->sleep_ctl) || a->pm1a_cnt);
	char line[200];
	ksnprintf(line, sizeof(line),
	          "isle: exit status %d is lost: no isa-debug-exit device; leaving through %s\n",
	          status,
	          can_acpi ? "ACPI power-off"
	                   : (power_have_acpi && a->have_reset ? "the ACPI reset register"
	                                                       : "the i8042 reset"));
	serial_puts(line);
	acpi_poweroff();
	/* The hypervisor acts on the write asynchronously: give it time before trying more. */
	wait_ticks(2000000000ull);
	if (power_have_acpi && a->have_reset) {
		outb((uint16_t)a->reset_port, a->reset_value);
		wait_ticks(1000000000ull);
	}
	/* Pulse the CPU reset line through the keyboard controller: how a guest leaves
	 * Firecracker, which has neither ACPI power-off nor isa-debug-exit. */
	outb(I8042_CMD, I8042_RESET);
	wait_ticks(1000000000ull);
	serial_puts("isle: power-off and reset failed; halting\n");
	cpu_halt_forever();
}
