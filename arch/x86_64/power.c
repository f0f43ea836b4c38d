/*
 * power.c - exit status and power-off.
 *
 * isa-debug-exit (QEMU, port 0xf4) carries a status out of the VM. ACPI power-off uses the
 * values the firmware tables give: SLP_TYP from \_S5_ written with SLP_EN to PM1a/PM1b control
 * (pc, q35), or the sleep control register on hardware-reduced ACPI (microvm).
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/firmware.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/serial.h"

#define DEBUG_EXIT_PORT 0xf4

static struct acpi_info power_acpi; /* [I] copy of what power-off needs */
static bool power_have_acpi;        /* [I] */

void power_init(const struct acpi_info *acpi)
{
	if (!acpi)
		return;
	power_acpi = *acpi;
	power_have_acpi = true;
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
	if (status != 0) {
		outl(DEBUG_EXIT_PORT, (uint32_t)status);
		/* Still here: no isa-debug-exit device. */
		serial_puts("isle: no isa-debug-exit device; exit status lost, powering off\n");
	}
	acpi_poweroff();
	/* The hypervisor acts on the write asynchronously: give it time before calling it failed. */
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < 2000000000ull;)
		cpu_pause();
	if (power_have_acpi && power_acpi.have_reset)
		outb((uint16_t)power_acpi.reset_port, power_acpi.reset_value);
	serial_puts("isle: power-off failed; halting\n");
	cpu_halt_forever();
}
