/*
 * core.h - who am I, how many of us are there, and what each core owns.
 * Filled by the boot core before other cores start; read-only afterwards ([I]).
 */
#ifndef ISLE_KERNEL_CORE_H
#define ISLE_KERNEL_CORE_H

#include <isle/core.h> /* core_id(), core_count(), ncores, core_self */
#include "kernel/compiler.h"
#include "kernel/memplan.h"

/* Most cores isle runs on (a multiple of 64). APIC ids above 254 need x2APIC. */
#define MAX_CORES ISLE_MAX_CORES

/*
 * A core's private memory: the spans of its share of RAM (kernel/memplan.h), span[0] starting
 * after the core's boot structures (page tables, window, boot stacks), which arch/ took from its
 * start. The page allocator of the core manages all of it.
 */
extern struct core_share core_mem[MAX_CORES]; /* [I] private memory of each core */
/* Where each core's window (its PERCORE copies) lies in the identity map; arch/ fills it
 * before other cores start (percore_ptr). */
extern uintptr_t core_window[MAX_CORES]; /* [I] */

/* Which core owns each 2 MiB of RAM (memplan.h); filled by arch/ before other cores start. */
extern const uint16_t *mem_owner; /* [I] */
extern size_t mem_owner_entries;  /* [I] */

/* The core whose private memory holds p, or -1 (image, shared region, not RAM). O(1): one
 * look in the owner table. Any context. */
static inline int core_of_addr(const void *p)
{
	return memplan_owner(mem_owner, mem_owner_entries, (uint64_t)(uintptr_t)p);
}

/* Bytes of shared memory the portable kernel needs for ncores cores (message rings, device
 * queues, boot data); arch/ adds its own page tables and sizes the shared region with it. */
size_t kernel_shared_bytes(unsigned ncores);

/* Entry points of the portable kernel, called by arch/ setup. */
__noreturn void kernel_main(void);                /* boot core, once its window is live */
__noreturn void kernel_core_start(unsigned core); /* every other core */
/* Parses the command line into kconfig; 0 or -EINVAL with a message in err. Boot core, early. */
int kernel_parse_cmdline(char *line, char *err, size_t errlen);

/* Exit statuses of the VM that the kernel itself uses (an application's main returns 0..127). */
#define EXIT_USAGE 2       /* bad command line */
#define EXIT_BOOT_FAILED 3 /* the machine could not be set up */
#define EXIT_PANIC 100     /* panic or exception on some core */

/* Ends the boot with a message and EXIT_BOOT_FAILED (boot core, before main()). */
__noreturn void boot_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

enum { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Options from the command line ([I] after boot). */
enum { KCONFIG_ACPI_ON, KCONFIG_ACPI_OFF };
enum { KCONFIG_APIC_AUTO, KCONFIG_APIC_XAPIC };
enum { KCONFIG_TIMER_AUTO, KCONFIG_TIMER_ONESHOT };
enum { KCONFIG_WATCHDOG_LOG, KCONFIG_WATCHDOG_PANIC };

/* [I]: set by cmdline parsing on the boot core before the others start. */
struct kconfig {
	uint64_t cores; /* cores= : use at most this many cores (0 = all) */
	int acpi;       /* acpi= : KCONFIG_ACPI_ON, or _OFF to ignore the ACPI tables */
	int apic;       /* apic= : KCONFIG_APIC_AUTO (x2APIC if the CPU has it), or _XAPIC */
	int timer;      /* timer= : KCONFIG_TIMER_AUTO (TSC-deadline if offered), or _ONESHOT */
	int loglevel;   /* loglevel= : LOG_ERROR..LOG_DEBUG */
	uint64_t profile_hz;      /* profile= : samples per second on every core (0 = off) */
	uint64_t profile_seconds; /* profile_seconds= : end the run this long after boot (0 = no) */
	uint64_t watchdog_ms;     /* watchdog= : report a core so long out of its loop (0 = off) */
	int watchdog_action;      /* watchdog_action= : KCONFIG_WATCHDOG_LOG, or _PANIC */
	int argc;                 /* arguments after "--", for main() */
	char *argv[32];           /* their strings (in the command line copy) */
};
extern struct kconfig kconfig;

/* virtio_mmio.device= options (QEMU microvm adds one per device). */
struct cmdline_list;
const struct cmdline_list *kernel_mmio_devices(void);

#endif
