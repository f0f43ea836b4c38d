/*
 * setup.c - the boot core's machine setup, from boot.S to kernel_main().
 *
 * Order: serial console; the loader's information (memory map, command line, modules): PVH's
 * hvm_start_info or the Multiboot2 information, as boot.S's magic says; ACPI (CPUs,
 * power-off); the command line; the memory split; page tables for every core; then the boot
 * core switches to its own tables, fills its core window and enters the portable kernel.
 * Nothing here may touch a PERCORE variable before paging_window_init() on this core.
 * The loader's information may lie in RAM that the memory split hands out (Multiboot2: it
 * can, and the RSDP is read in place there), so everything that reads it, ACPI included,
 * runs before split_memory().
 *
 * Memory split (kernel/memplan.c): a shared region below 4 GiB (page tables, every core's boot
 * stacks, message rings, boot data: boot_alloc), then all the other RAM shared out to the
 * cores in up to 8 spans each. A core's memory begins with its window pages; the rest goes to
 * its page allocator.
 */
#include <string.h>
#include <isle/errno.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/firmware.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/setup.h"
#include "arch/x86_64/tsc.h"
#include "kernel/core.h"
#include "kernel/printf.h"

static struct boot_info boot;           /* [I] what the hypervisor or boot loader told us */
static const char *boot_protocol;       /* [I] "pvh" or "multiboot2" */
static struct acpi_info acpi;           /* [I] */
struct core_desc core_desc[MAX_CORES];  /* [I] */
static const char *tsc_source;          /* [I] */
static const char *cpu_source = "MADT"; /* [I] where the CPU list came from */

/* Boot stages as they finish, timed by the TSC before its frequency is known. */
struct stage {
	const char *name; /* what finished */
	uint64_t tsc;     /* when */
};
static struct stage stages[16]; /* [I] after boot */
static unsigned nstages;        /* [I] entries of stages[] used */

/* Shared-region bump allocator: boot core only, before other cores start. */
static uintptr_t shared_cur, shared_end;

extern char __image_end[];
extern uint64_t __stack_chk_guard;
/* Defined only by a test image (tests/guest/crash_early.c): runs right after the early IDT is
 * loaded, to prove that an exception that early is reported and ends the VM with a failure. */
extern void boot_early_hook(void) __weak;

static void stage(const char *name)
{
	if (nstages < ARRAY_SIZE(stages))
		stages[nstages++] = (struct stage){ name, rdtsc() };
}

const struct boot_stage *arch_boot_stages(unsigned *n)
{
	static struct boot_stage out[ARRAY_SIZE(stages)]; /* [I] boot core, once the TSC is known */
	for (unsigned i = 0; i < nstages; i++)
		out[i] = (struct boot_stage){ .name = stages[i].name,
			                      .ns = tsc_to_ns(stages[i].tsc - tsc_boot()) };
	*n = nstages;
	return out;
}

static __noreturn void early_fail(const char *what, const char *why)
{
	serial_puts("isle: boot failed: ");
	serial_puts(what);
	serial_puts(": ");
	serial_puts(why);
	serial_puts("\n");
	power_exit(EXIT_BOOT_FAILED);
}

static void warn_early(const char *what, const char *msg)
{
	serial_puts("isle: warning: ");
	serial_puts(what);
	serial_puts(": ");
	serial_puts(msg);
	serial_puts("\n");
}

static const void *phys_map(uint64_t pa, size_t len, void *ctx)
{
	(void)ctx;
	/* The bootstrap tables map the low 4 GiB; page 0 is never valid firmware data. */
	if (pa == 0 || pa >= (4ull << 30) || len > (4ull << 30) - pa)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

void *boot_alloc_raw(size_t bytes)
{
	uintptr_t p = ALIGN_UP(shared_cur, CACHELINE);
	if (bytes > shared_end - p)
		return NULL;
	shared_cur = p + bytes;
	return (void *)p;
}

void *boot_alloc(size_t bytes)
{
	void *p = boot_alloc_raw(bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

void *boot_alloc_page(void)
{
	shared_cur = ALIGN_UP(shared_cur, 4096);
	return boot_alloc(4096);
}

static void *shared_page(void *ctx)
{
	(void)ctx;
	void *p = boot_alloc_page();
	if (!p)
		early_fail("memory", "shared region too small for page tables");
	return p;
}

/*
 * The RAM isle may use: the firmware's RAM ranges above the image (everything below it is
 * left alone: real-mode memory, the trampoline page, the image itself), minus the modules.
 * Sorted, since boot.mem is.
 */
static unsigned usable_ram(struct phys_range *out, unsigned cap)
{
	uint64_t lo = ALIGN_UP((uintptr_t)__image_end - KERNEL_VMA, 4096);
	unsigned n = 0;
	for (unsigned i = 0; i < boot.nmem && n < cap; i++) {
		const struct boot_mem *m = &boot.mem[i];
		if (m->type != BOOT_MEM_RAM)
			continue;
		uint64_t s = MAX(m->base, lo), e = m->base + m->len;
		while (s < e && n < cap) {
			/* the lowest module that overlaps [s, e) cuts it */
			uint64_t ms = e, me = e;
			for (unsigned j = 0; j < boot.nmod; j++) {
				uint64_t b = boot.mod[j].base & ~4095ull;
				uint64_t t = ALIGN_UP(boot.mod[j].base + boot.mod[j].len, 4096);
				if (t > s && b < e && b < ms) {
					ms = MAX(b, s);
					me = t;
				}
			}
			if (ms > s)
				out[n++] = (struct phys_range){ s, ms - s };
			s = me;
		}
	}
	return n;
}

static struct phys_range ram[BOOT_MAX_MEM + BOOT_MAX_MODULES]; /* [I] usable RAM */
static unsigned nram;                                          /* [I] */
static uint16_t *owner_table;                                  /* [I] see memplan.h */
static struct memplan plan = { .core = core_mem };             /* [I] who got which RAM */
static size_t shared_size;                                     /* [I] bytes */
static char module_moved[96]; /* [I] "" or what free_trampoline_page() moved, for the log */

/* Bytes a core needs in one piece of its own memory: its window, its allocator's header, and
 * 2 MiB to allocate from. */
static uint64_t core_min_bytes(void)
{
	return ALIGN_UP(paging_window_bytes() + 8192, 4096) + (2u << 20);
}

/*
 * Bytes of the shared region one core's boot structures take: its page tables (top level, its
 * PDPT, the window's directory and tables, its stack directory), its boot stack and interrupt
 * stacks. They are in the shared region, not in the core's own memory, so that the boot core
 * writes one contiguous area: a hypervisor backing guest memory with huge pages pays a fault
 * for the first touch of every 2 MiB, and the boot core would otherwise take one per core, one
 * after the other (about 1.5-3 ms each with QEMU's transparent huge pages: 0.2-0.4 s at 64
 * cores). Each core then takes the faults for its own memory itself, all cores at once.
 */
static size_t core_boot_bytes(void)
{
	size_t tables = (4 + paging_window_bytes() / (2u << 20) + 1) * 4096;
	return tables + BOOT_STACK_SIZE + 3 * IST_STACK_SIZE;
}

/* Page-aligned memory of the shared region, not zeroed (stacks). */
static uintptr_t shared_stack(size_t bytes)
{
	shared_cur = ALIGN_UP(shared_cur, 4096);
	void *p = boot_alloc_raw(bytes);
	if (!p)
		early_fail("memory", "shared region too small for the boot stacks");
	return (uintptr_t)p + bytes;
}

static void split_memory(void)
{
	nram = usable_ram(ram, ARRAY_SIZE(ram));
	if (nram == 0)
		early_fail("memory", "no usable RAM above the image");
	uint64_t ram_end = ram[nram - 1].base + ram[nram - 1].len;
	/* The shared region: page tables, the owner table, rings and boot data. */
	size_t owner_bytes = ALIGN_UP((size_t)(ram_end >> MEMPLAN_GRANULE_SHIFT) * 2 + 2, 4096);
	size_t shared = ALIGN_UP(paging_shared_bytes(ram_end) + owner_bytes +
	                                 kernel_shared_bytes(ncores) + ncores * core_boot_bytes(),
	                         4096);
	struct memplan_req req = { .ram = ram,
		                   .nram = nram,
		                   .ncores = ncores,
		                   .shared_bytes = shared,
		                   .shared_limit = 4ull << 30, /* boot.S maps the low 4 GiB */
		                   .core_min = core_min_bytes() };
	char err[200];
	if (memplan(&req, &plan, err, sizeof(err)) < 0) {
		char why[240];
		ksnprintf(why, sizeof(why),
		          "%s (give the VM more memory, or use fewer cores with "
		          "cores=N)",
		          err);
		early_fail("memory", why);
	}
	shared_cur = plan.shared_base;
	shared_end = plan.shared_base + shared;
	shared_size = shared;

	/* Every table and stack goes into the shared region, which the planner put below 4 GiB,
	 * where boot.S's bootstrap tables reach: the boot core touches no other memory before it
	 * runs on its own tables, which map all RAM. */
	paging_build_shared(plan.ram_end, shared_page, NULL);
	owner_table = boot_alloc(owner_bytes);
	memplan_owner_fill(&plan, ncores, owner_table);
	mem_owner = owner_table;
	mem_owner_entries = memplan_owner_entries(&plan);

	size_t window = paging_window_bytes();
	for (unsigned c = 0; c < ncores; c++) {
		struct phys_range *home = &core_mem[c].span[0];
		struct core_desc *cd = &core_desc[c];
		/* The window opens the core's own memory; the rest goes to its allocator. */
		cd->cr3 = paging_build_core(c, (uintptr_t)home->base, shared_page, NULL);
		core_window[c] = (uintptr_t)home->base; /* identity-mapped */
		cd->stack_top = shared_stack(BOOT_STACK_SIZE);
		cd->ist_df = shared_stack(IST_STACK_SIZE);
		cd->ist_nmi = shared_stack(IST_STACK_SIZE);
		cd->ist_pf = shared_stack(IST_STACK_SIZE);
		uint64_t taken = ALIGN_UP(window, 4096);
		home->base += taken;
		home->len -= taken;
		core_mem[c].bytes -= taken;
	}
}

/*
 * The legacy 8259 PICs still deliver the firmware's timer (IRQ 0) at vector 8 unless told
 * otherwise, which would look like a double fault. Move them to vectors 0x20-0x2f and mask
 * every line: isle uses only the local APIC (and MSI-X for devices).
 */
static void pic_disable(void)
{
	outb(0x20, 0x11); /* ICW1: init, ICW4 follows */
	outb(0xA0, 0x11);
	outb(0x21, 0x20); /* ICW2: vector bases */
	outb(0xA1, 0x28);
	outb(0x21, 0x04); /* ICW3: cascade on IRQ 2 */
	outb(0xA1, 0x02);
	outb(0x21, 0x01); /* ICW4: 8086 mode */
	outb(0xA1, 0x01);
	outb(0x21, 0xff); /* mask all */
	outb(0xA1, 0xff);
}

/*
 * The CPUs, interrupt controllers and power-off registers: from ACPI when there is any (the
 * RSDP from the loader, or found by scanning BIOS memory: Firecracker passes none), else from
 * the MP table, else just the boot CPU. acpi=off on the command line skips ACPI. A malformed
 * ACPI table stops the boot; a malformed MP table only costs the other CPUs, with a warning.
 */
static void firmware_tables(const struct phys_access *pa)
{
	char err[256]; /* room for the list of known options */
	uint64_t rsdp = 0;
	if (kconfig.acpi == KCONFIG_ACPI_ON) {
		rsdp = boot.rsdp;
		if (!rsdp && (rsdp = acpi_find_rsdp(pa)) != 0)
			cpu_source = "MADT (RSDP found in BIOS memory)";
	}
	if (rsdp) {
		if (acpi_parse(rsdp, pa, &acpi, err, sizeof(err)) < 0)
			early_fail("acpi", err);
		if (err[0])
			warn_early("acpi", err);
		power_init(&acpi);
	} else {
		int rc = mptable_parse(pa, &acpi, err, sizeof(err));
		if (rc < 0) {
			if (rc != -ENOENT)
				warn_early("mptable", err);
			warn_early(kconfig.acpi == KCONFIG_ACPI_ON
			                   ? "no ACPI tables and no MP table"
			                   : "acpi=off and no MP table",
			           "running on the boot CPU only");
			acpi.lapic_phys = 0xFEE00000;
			cpu_source = "none: boot CPU only";
		} else {
			if (err[0])
				warn_early("mptable", err);
			cpu_source = "MP table";
		}
		/* Devices on interrupt lines (virtio-mmio) need the I/O APIC, which every PC-like
		 * machine has at the standard address when no table names it. */
		if (!acpi.has_ioapic && ioapic_present(0xFEC00000)) {
			acpi.has_ioapic = true;
			acpi.ioapic_phys = 0xFEC00000;
		}
		power_init(NULL);
	}
	if (acpi.has_ioapic)
		ioapic_init(acpi.ioapic_phys);
}

/*
 * The cores: the boot core is core 0 whatever its place in the CPU list, the others follow in
 * list order. A CPU whose APIC id the APIC mode cannot address (an xAPIC reaches ids 0..254
 * only) is left out with a warning: an IPI to it would reach another CPU.
 */
static void core_list(void)
{
	uint32_t self = apic_id();
	unsigned unreachable = 0;
	ncores = 0;
	core_desc[ncores++].apic_id = self;
	for (unsigned i = 0; i < acpi.ncpus && ncores < MAX_CORES; i++) {
		uint32_t id = acpi.apic_id[i];
		if (id == self)
			continue;
		if (apic_addressable(id))
			core_desc[ncores++].apic_id = id;
		else
			unreachable++;
	}
	if (unreachable) {
		char msg[120];
		ksnprintf(msg, sizeof(msg), "%u cpus left out: APIC id above 254 in xAPIC mode",
		          unreachable);
		warn_early("apic", msg);
	}
}

/*
 * The memory map, command line and modules from the loader: boot.S passes the information's
 * address and a magic that says which entry the loader used. PVH_START_MAGIC is boot.S's own
 * mark for the PVH entry; at the Multiboot2 entry a Multiboot2 loader puts its magic in %eax,
 * and anything else there means a loader we do not know.
 */
static void read_boot_info(uint32_t info, uint32_t magic, const struct phys_access *pa)
{
	char err[256]; /* room for the list of known options */
	int rc;

	if (magic == PVH_START_MAGIC) {
		boot_protocol = "pvh";
		rc = pvh_parse(info, pa, &boot, err, sizeof(err));
	} else if (magic == MB2_BOOTLOADER_MAGIC) {
		boot_protocol = "multiboot2";
		rc = mb2_parse(info, pa, &boot, err, sizeof(err));
	} else {
		ksnprintf(err, sizeof(err), "eax is 0x%x at the Multiboot2 entry, not 0x%x", magic,
		          MB2_BOOTLOADER_MAGIC);
		early_fail("boot", err);
	}
	if (rc < 0)
		early_fail(boot_protocol, err);
	stage(magic == PVH_START_MAGIC ? "pvh" : "mb2");
	if (err[0])
		warn_early(boot_protocol, err);
}

/* True if [base, base + len) overlaps a module (page-rounded); *mod_base is that module's base. */
static bool module_overlaps(uint64_t base, uint64_t len, uint64_t *mod_base)
{
	for (unsigned i = 0; i < boot.nmod; i++) {
		uint64_t b = boot.mod[i].base & ~4095ull;
		uint64_t t = ALIGN_UP(boot.mod[i].base + boot.mod[i].len, 4096);
		if (b < base + len && t > base) {
			*mod_base = b;
			return true;
		}
	}
	return false;
}

/*
 * Moves module i out of low memory: to the top of the highest RAM range above the image and
 * below 4 GiB (what the bootstrap tables map) that has room for it beside every module, itself
 * included, so the copy never overlaps its source. The memory split then keeps off it as off
 * any module. Returns false if no range has room.
 */
static bool move_module(unsigned i)
{
	struct boot_module *mod = &boot.mod[i];
	uint64_t lo = ALIGN_UP((uintptr_t)__image_end - KERNEL_VMA, 4096);
	uint64_t len = ALIGN_UP(mod->len, 4096), other;

	for (unsigned r = boot.nmem; r-- > 0;) {
		const struct boot_mem *m = &boot.mem[r];
		uint64_t base = MAX(m->base, lo), top = MIN(m->base + m->len, 4ull << 30);
		if (m->type != BOOT_MEM_RAM)
			continue;
		top = ALIGN_DOWN(top, 4096);
		while (top > base && top - base >= len) {
			uint64_t dst = top - len;
			if (!module_overlaps(dst, len, &other)) {
				memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)mod->base,
				        mod->len);
				ksnprintf(module_moved, sizeof(module_moved),
				          ", module %u moved from %#lx to %#lx", i, mod->base, dst);
				mod->base = dst;
				return true;
			}
			top = other;
		}
	}
	return false;
}

/*
 * Application cores start in real mode on the page at TRAMPOLINE_PHYS, which smp.c overwrites
 * with the trampoline. A PVH hypervisor leaves low memory alone, but firmware may not report
 * that page as RAM, and a Multiboot2 loader may put a module anywhere in low memory (GRUB's
 * UEFI build puts the initrd at 0x1000): such a module is moved out of the way. Its own
 * information may be there too, but it has been read by now (ACPI included).
 */
static void free_trampoline_page(void)
{
	const uint64_t lo = TRAMPOLINE_PHYS, hi = TRAMPOLINE_PHYS + 4096;
	bool ram = false;

	for (unsigned i = 0; i < boot.nmem; i++) {
		const struct boot_mem *m = &boot.mem[i];
		if (m->type == BOOT_MEM_RAM && m->base <= lo && m->base + m->len >= hi)
			ram = true;
	}
	if (!ram)
		early_fail("smp", "the page at 0x8000, where the other cores start, is not RAM "
		                  "(cores=1 boots on the boot CPU alone)");
	for (unsigned i = 0; i < boot.nmod; i++) {
		const struct boot_module *mod = &boot.mod[i];
		if (mod->base < hi && mod->base + mod->len > lo && !move_module(i)) {
			char why[200];
			ksnprintf(
			        why, sizeof(why),
			        "module %u [%#lx, %#lx) covers the page at 0x8000, where the other "
			        "cores start, and there is no room to move it (cores=1 boots on "
			        "the "
			        "boot CPU alone)",
			        i, mod->base, mod->base + mod->len);
			early_fail("smp", why);
		}
	}
}

/* Everything a core does to itself before it may use PERCORE variables and call the kernel. */
void setup_core_self(unsigned core)
{
	paging_window_init();
	core_self = core;
	const struct core_desc *cd = &core_desc[core];
	gdt_init_core(cd->ist_df, cd->ist_nmi, cd->ist_pf);
	apic_init_core();
}

/* From boot.S: info is the physical address of the loader's information, magic says whose. */
__attribute__((no_stack_protector)) __noreturn void boot_main(uint32_t info, uint32_t magic)
{
	tsc_set_boot(rdtsc());
	/* Seed the stack-protector canary before any protected function returns. This function
	 * never returns, so its own frame never checks the old value. */
	__stack_chk_guard = cpu_random() ^ (rdtsc() * 0x9E3779B97F4A7C15ull);
	serial_init();
	idt_load_early();
	if (boot_early_hook)
		boot_early_hook();
	pic_disable();

	char err[256]; /* room for the list of known options */
	const struct phys_access pa = { phys_map, NULL };
	read_boot_info(info, magic, &pa);
	if (kernel_parse_cmdline(boot.cmdline, err, sizeof(err)) < 0) {
		serial_puts("isle: bad command line: ");
		serial_puts(err);
		serial_puts("\n");
		power_exit(EXIT_USAGE);
	}
	firmware_tables(&pa);
	stage("acpi");

	unsigned apic_flags = 0;
	if (kconfig.apic == KCONFIG_APIC_XAPIC)
		apic_flags |= APIC_NO_X2APIC;
	if (kconfig.timer == KCONFIG_TIMER_ONESHOT)
		apic_flags |= APIC_NO_DEADLINE;
	apic_init(acpi.lapic_phys, apic_flags);
	core_list();
	if (kconfig.cores && kconfig.cores < ncores)
		ncores = (unsigned)kconfig.cores;
	if (ncores > 1)
		free_trampoline_page();
	split_memory();
	stage("memory");

	write_cr3(core_desc[0].cr3);
	setup_core_self(0);
	stage("paging");
	tsc_source = tsc_calibrate();
	apic_timer_calibrate();
	stage("timer");
	kernel_main();
}

const char *arch_describe(void)
{
	static char line[256];
	ksnprintf(line, sizeof(line),
	          "%u cpus (%s), %s%s, %s timer%s, tsc %lu kHz (%s), %s%s, %s%s%s%s",
	          MAX(acpi.ncpus, 1u), cpu_source, apic_is_x2() ? "x2apic" : "xapic",
	          kconfig.apic == KCONFIG_APIC_XAPIC ? " (apic=xapic)" : "",
	          apic_timer_is_deadline() ? "tsc-deadline" : "one-shot",
	          kconfig.timer == KCONFIG_TIMER_ONESHOT ? " (timer=oneshot)" : "", tsc_hz() / 1000,
	          tsc_source,
	          !acpi.has_fadt    ? "no acpi power-off"
	          : acpi.hw_reduced ? "acpi hw-reduced"
	                            : "acpi pm1",
	          acpi.have_s5 ? " s5" : "", boot_protocol, boot.loader[0] ? " (" : "", boot.loader,
	          boot.loader[0] ? ")" : "");
	return line;
}

const char *arch_describe_memory(void)
{
	static char line[296];
	ksnprintf(line, sizeof(line),
	          "%lu MiB to %u core%s (%lu MiB each), shared region %zu KiB at %#lx, %lu MiB "
	          "unused%s",
	          plan.total >> 20, ncores, ncores > 1 ? "s" : "", (plan.total / ncores) >> 20,
	          shared_size >> 10, plan.shared_base, plan.unused >> 20, module_moved);
	return line;
}

bool arch_virtio_mmio(unsigned i, uint64_t *base, unsigned *irq)
{
	if (i >= acpi.nmmio)
		return false;
	*base = acpi.mmio[i].base;
	*irq = acpi.mmio[i].irq;
	return true;
}

unsigned arch_module_count(void)
{
	return boot.nmod;
}

const void *arch_module(unsigned i, size_t *len)
{
	if (i >= boot.nmod)
		return NULL;
	*len = boot.mod[i].len;
	return (const void *)(uintptr_t)boot.mod[i].base; /* RAM is identity mapped */
}

__noreturn void arch_exit(int status)
{
	power_exit(status);
}
