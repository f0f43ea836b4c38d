# The ACPI table parser; kernel/printf.c formats its messages.
unit_acpi_SRCS := arch/x86_64/acpi.c arch/x86_64/mptable.c arch/x86_64/bootinfo.c kernel/printf.c
