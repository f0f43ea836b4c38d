/* power.h - leaving the VM with a status. */
#ifndef ISLE_ARCH_POWER_H
#define ISLE_ARCH_POWER_H

#include "kernel/compiler.h"

struct acpi_info;
void power_init(const struct acpi_info *acpi); /* boot core, once */
/*
 * Ends the VM with status (0..126). The status + 1 is written to the isa-debug-exit device,
 * which makes QEMU exit with 2 * status + 3; ci/qemu-run maps that back to `status`, and takes
 * QEMU's exit 0 (a power-off or reset without a status, e.g. a triple fault) as a failure.
 * Without that device the status is printed as lost, and the VM powers off (ACPI) or resets
 * (ACPI reset register, then i8042).
 */
__noreturn void power_exit(int status);

#endif
