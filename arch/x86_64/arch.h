/*
 * arch.h - the one header through which portable code (kernel/, net/, fs/, include/, the
 * examples and guest tests) reaches the machine. It includes cpu.h (interrupts on/off, idle,
 * TSC, port and device-register access, barriers: one-instruction wrappers) and declares the
 * rest: boot-time shared memory, starting cores, thread stacks, doorbells, the timer, time,
 * console output, firmware facts, PCI devices, device interrupts, and leaving the VM.
 *
 * Nothing else under arch/ is for portable code: apic.h, ioapic.h, trap.h, vectors.h, pci.h,
 * layout.h, firmware.h and the rest are arch/'s own, and `tests/run --only lint` fails if a file
 * outside arch/ includes one (host unit tests of arch code excepted). A new need of portable
 * code becomes a small declaration here that says who may call it and what it returns.
 *
 * Contexts: "boot" is the boot core before other cores start; "any" includes interrupt
 * handlers; a function that names no context is for thread or scheduler context.
 */
#ifndef ISLE_ARCH_H
#define ISLE_ARCH_H

#include "kernel/compiler.h"
#include "arch/x86_64/cpu.h"

/* ---- memory --------------------------------------------------------------------------------- */

/* Zeroed, cache-line aligned memory in the shared region. Boot, never freed. NULL when the
 * shared region is exhausted. */
void *boot_alloc(size_t bytes);
/* The same, not zeroed: for large areas whose user initialises what it needs (message rings). */
void *boot_alloc_raw(size_t bytes);
/* One zeroed 4 KiB-aligned page of it (page tables). */
void *boot_alloc_page(void);

/* Whether p lies in the core window, where every core sees its own PERCORE copies: such an
 * address means a different variable on each core, so it MUST NOT travel in a message. Any. */
bool arch_is_percore_addr(const void *p);
/* Where the kernel image is linked: the profiler prints code addresses relative to it. Any. */
uintptr_t arch_image_base(void);

/* ---- cores ---------------------------------------------------------------------------------- */

/* Starts cores 1..ncores-1; each calls kernel_core_start(core) on its own stack. Boot. */
void arch_start_cores(void);

/* Thread stacks: a core has arch_stack_slots() slots of 64 KiB at fixed addresses; a stack of
 * `len` bytes occupies the top of its slot, the rest stays unmapped as the guard. */
uintptr_t arch_stack_slot_top(unsigned core, unsigned slot); /* the slot's end; any */
unsigned arch_stack_slots(void);                             /* per core; any */
int arch_stack_map(uintptr_t top, size_t len); /* calling core's slots only; 0 or -ENOMEM */
/* Unmaps and frees the pages of [top - len, top) of a slot of the calling core, flushing its
 * own TLB; other cores may still hold translations until they call arch_stack_tlb_flush. */
void arch_stack_unmap(uintptr_t top, size_t len);
/* Drops every translation of thread stacks (every core's) the calling core's TLB holds. */
void arch_stack_tlb_flush(void);
/* Which core's stack area holds va, or -1. Any. */
int arch_stack_owner(uintptr_t va);

/* An interrupt (device, timer, doorbell) arrived on this core since irq_seen_clear(): the idle
 * path checks it with interrupts off, so an interrupt that came after its last look for work
 * (and whose handler therefore woke nothing) does not leave the core halted. */
bool irq_seen_since_clear(void);
void irq_seen_clear(void);

void arch_doorbell(unsigned core); /* IPI that wakes an idle core; any */
void arch_stop_others(void);       /* NMI every other core into a halt (panic); any */
/* An NMI to one core: even with interrupts off it enters trap.c, which halts it if a panic is
 * in progress, else asks the watchdog (watchdog_nmi: the core reports itself if stuck). Any. */
void arch_nmi(unsigned core);
void arch_profile_ipi(unsigned core); /* asks a core to write its profile; any */

/* ---- time ----------------------------------------------------------------------------------- */

uint64_t arch_now_ns(void); /* ns since boot; any */
/* TSC ticks (rdtsc, cpu.h) to ns, at the frequency measured at boot. Any, after boot. */
uint64_t tsc_to_ns(uint64_t ticks);
void arch_timer_arm(uint64_t deadline_ns); /* one-shot at boot-relative time; 0 disarms */
/* The periodic ticks a core's timer carries beside the scheduler's deadline (timer.c). */
enum arch_tick {
	TICK_PROFILE,  /* calls profile_tick (profile=HZ) */
	TICK_WATCHDOG, /* calls watchdog_tick (watchdog=MS) */
	TICK_KINDS
};
/* Starts the tick `kind` on the calling core: the first after period_ns + phase_ns, then every
 * period_ns, from the timer interrupt. Ticks share the core's timer with arch_timer_arm's
 * deadline and never delay it. Any. */
void arch_tick_start(enum arch_tick kind, uint64_t period_ns, uint64_t phase_ns);
void arch_tick_stop(enum arch_tick kind);
/* The wall clock from the RTC: seconds since 1970 (UTC), 0 if unknown. Boot, once. */
int64_t arch_rtc_seconds(void);

/* ---- console and the end of the VM ---------------------------------------------------------- */

/* Writes n bytes to the serial console as they are: no locking (kernel/console.c adds it), so
 * it works in any context, a panic included. */
void arch_console_write(const char *s, size_t n);
/* Ends the VM with `status` (0..126) through QEMU's exit device; without one the status is
 * printed as lost and the VM powers off (power.h). Any. */
__noreturn void arch_exit(int status);
/* Shuts the CPU down with a triple fault, as a broken kernel would: only for the test that
 * proves such a crash is reported as a failure (tests/guest/crash_triple.c). */
__noreturn void arch_triple_fault(void);

/* ---- what the firmware and the boot told us ------------------------------------------------- */

/* Boot stages finished before the console was ready, for the boot log. */
struct boot_stage {
	const char *name; /* what finished */
	uint64_t ns;      /* when: ns since the first instruction of C code */
};
const struct boot_stage *arch_boot_stages(unsigned *n); /* after boot */
const char *arch_describe(void);        /* one line: machine, APIC mode, TSC source */
const char *arch_describe_memory(void); /* one line: how RAM was shared out */

/* The i-th virtio-mmio device the firmware tables declare (microvm with ACPI): its register
 * block and interrupt line. false when there is no i-th. Any, after boot. */
bool arch_virtio_mmio(unsigned i, uint64_t *base, unsigned *irq);
/* How many modules (the initrd first) the hypervisor or boot loader loaded. Any, after boot. */
unsigned arch_module_count(void);
/* Module i, identity mapped and never reused: its bytes, and their number in *len. NULL when
 * there is no module i. Any, after boot. */
const void *arch_module(unsigned i, size_t *len);

/* ---- PCI ------------------------------------------------------------------------------------ */

/* A PCI function, found and set up (BARs mapped, bus mastering on) at boot; read-only after. */
struct pci_dev;
/* The i-th function with this vendor and device id, or NULL (also when there is no PCI bus,
 * as on microvm). The first call scans the buses. Boot. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned i);
/* "pci BB:DD.F", for reports, into buf (len bytes, NUL-terminated). Any. */
void pci_name(const struct pci_dev *d, char *buf, size_t len);
/* Configuration space reads (any) at byte offset off. */
uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
/* Offset of the first capability `id` after `from` (0: from the start), or 0 if none. Any. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);
/* Pointer to [bar + off, + len) of memory BAR `bar`, or NULL if that does not fit inside it.
 * Device memory: volatile, so that every access reaches the device. Any. */
volatile void *pci_bar_ptr(const struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len);
uint64_t pci_bar_size(const struct pci_dev *d, unsigned bar); /* bytes; 0 if none; any */
unsigned pci_msix_entries(const struct pci_dev *d);           /* MSI-X table size; 0 if none; any */

/* ---- device interrupts ---------------------------------------------------------------------- */

/* Which driver an interrupt is for. Each has its own vector (vectors.h), shared by all its
 * queues: the handler registered on a core tells them apart by its arg. */
enum arch_irq {
	IRQ_NET, /* virtio-net (net/virtio_net.c) */
	IRQ_BLK, /* virtio-blk (fs/virtio_blk.c) */
};

/* How many cores, from core 0 on, a device interrupt can reach: an MSI or I/O APIC message has
 * 8 destination bits (0xFF is broadcast) and isle programs no interrupt remapping, so cores
 * from the first with an APIC id above 254 get no device queue. Any, after boot. */
unsigned arch_irq_cores(void);
/*
 * Delivers a device's interrupt to `core` as `irq`. With pci, the source is entry `index` of
 * its MSI-X table (programmed and unmasked, and MSI-X switched on for the function); without,
 * it is the level-triggered interrupt line (GSI) `index`, routed through the I/O APIC. Boot,
 * before the device is told DRIVER_OK. 0; -EINVAL (no such entry, line or core); -ENODEV (no
 * I/O APIC); -ERANGE (the core's APIC id does not fit the destination: see arch_irq_cores).
 */
int arch_irq_route(struct pci_dev *pci, unsigned index, unsigned core, enum arch_irq irq);
/* Runs fn(arg) on the calling core when `irq` arrives there, replacing any earlier handler. It
 * runs in an interrupt handler: interrupts off, short, no blocking, no messages; the interrupt
 * has already ended the core's halt, so most handlers only acknowledge their device. Every core
 * that irq is routed to, once, at attach. */
void arch_irq_handle(enum arch_irq irq, void (*fn)(void *arg), void *arg);

#endif
