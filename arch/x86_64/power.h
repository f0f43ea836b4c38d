/* power.h - leaving the VM with a status. */
#ifndef ISLE_ARCH_POWER_H
#define ISLE_ARCH_POWER_H

#include "kernel/compiler.h"

struct acpi_info;
void power_init(const struct acpi_info *acpi); /* boot core, once */
/*
 * Ends the VM. Status 0 powers off through ACPI (QEMU exits 0). Any other status is written to
 * the isa-debug-exit device, which makes QEMU exit with (status << 1) | 1; ci/qemu-run maps that
 * back to `status`. Without that device a non-zero status is printed, then the VM powers off.
 */
__noreturn void power_exit(int status);

#endif
