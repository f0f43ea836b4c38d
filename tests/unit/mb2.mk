# The Multiboot2 information parser, with the memory map normalisation it shares with PVH
# (bootinfo.c); acpi.c for the check that acpi_parse() reads the RSDP copy it points at;
# kernel/printf.c formats the messages.
unit_mb2_SRCS := arch/x86_64/multiboot2.c arch/x86_64/bootinfo.c arch/x86_64/acpi.c \
	arch/x86_64/mptable.c kernel/printf.c
