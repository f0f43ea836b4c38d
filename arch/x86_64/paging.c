/*
 * paging.c - isle's page tables (see layout.h for the address space).
 *
 *   PML4[0..n)  -> identity PDPTs (shared): [0, 4 GiB) and all RAM, NX, in 1 GiB pages where
 *                the CPU has them and 2 MiB pages otherwise; up to the end of the image 4 KiB
 *                pages, so that page 0 stays unmapped and the image is read-only through this
 *                alias. n covers the CPU's physical address width (at most 64 TiB), so device
 *                memory found later (64-bit PCI BARs) only ever adds directories below these
 *                PDPTs, never a PML4 entry.
 *   PML4[255] -> stacks PDPT (shared): entry c -> core c's stack directory, written only by c.
 *   PML4[511] -> the core's own PDPT: [510] -> kernel image directory (shared; text RX,
 *                rodata R, data RW, 4 KiB pages), [511] -> the core's own window directory.
 * Shared tables are written by the boot core before other cores start and never again, so no
 * core ever invalidates another core's TLB. Stack pages are mapped and unmapped only by the
 * core that owns them, and a slot keeps its pages for life (sched.c): a mapping that other cores
 * may have cached never changes, so no core ever has to invalidate another core's TLB.
 *
 * Bootstrap. boot.S maps only the low 4 GiB, so the boot core builds all tables, shared and
 * per core, in the shared region, which the planner puts below 4 GiB; a core's own memory,
 * wherever it is, is first touched through that core's own tables.
 */
#include <string.h>
#include <isle/errno.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/setup.h"
#include "kernel/core.h"
#include "kernel/mem.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define TABLE (PTE_P | PTE_W)
#define GIB (1ull << 30)
#define PML4_SPAN (512 * GIB)
#define IDENT_PML4S (IDENT_MAX / PML4_SPAN)
#define STACKS_PML4 ((STACKS_VMA >> 39) & 511)

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __image_end[];
extern char __percore_load[], __percore_start[], __percore_data_end[], __percore_end[];

static uint64_t *ident_pdpt[IDENT_PML4S]; /* [I] identity PDPTs, one per 512 GiB */
static unsigned ident_pml4s;              /* [I] how many of them exist */
static uint64_t *kernel_pd;               /* [I] */
static uint64_t *stacks_pdpt;             /* [I] */
static uint64_t *stack_pd[MAX_CORES];     /* [I] pointer; the table itself is [o] of core c */

static uint64_t phys(const void *kernel_va)
{
	return (uint64_t)(uintptr_t)kernel_va - KERNEL_VMA;
}

static uint64_t *table(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR);
}

/* The physical address width and whether 1 GiB pages exist (CPUID 0x80000001/0x80000008). */
static void cpu_paging(unsigned *phys_bits, bool *gib_pages)
{
	uint32_t a, b, c, d;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	uint32_t max = a;
	*gib_pages = false;
	*phys_bits = 36;
	if (max >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		*gib_pages = d & (1u << 26);
	}
	if (max >= 0x80000008) {
		cpuid(0x80000008, 0, &a, &b, &c, &d);
		*phys_bits = a & 0xff;
	}
}

/* The end of what the identity map covers from the start: the low 4 GiB and all RAM. */
static uint64_t ident_top(uint64_t ram_end)
{
	return ALIGN_UP(MAX(ram_end, 4 * GIB), GIB);
}

/* How many identity PDPTs: enough for the physical address width and the RAM. */
static unsigned ident_count(uint64_t ram_end)
{
	unsigned phys_bits;
	bool gib_pages;
	cpu_paging(&phys_bits, &gib_pages);
	uint64_t reach = phys_bits >= 46 ? IDENT_MAX : MAX(1ull << phys_bits, ident_top(ram_end));
	reach = MIN(reach, (uint64_t)IDENT_MAX);
	return (unsigned)((reach + PML4_SPAN - 1) / PML4_SPAN);
}

size_t paging_shared_bytes(uint64_t ram_end)
{
	uint64_t gibs = ident_top(ram_end) / GIB;
	size_t image = (size_t)(phys(__image_end) - phys(__text_start));
	size_t pages = ident_count(ram_end) /* PDPTs */ + gibs /* PDs without 1 GiB pages */ +
	               ALIGN_UP(phys(__image_end), 2u << 20) / (2u << 20) /* low 4 KiB tables */ +
	               1 + image / (2u << 20) + 2 /* kernel directory and tables */ +
	               1 /* stacks */ + 1 /* boot PML4 */ + 64 /* device memory found later */;
	return pages * 4096;
}

void paging_build_shared(uint64_t ram_end, pt_alloc_fn alloc, void *ctx)
{
	unsigned phys_bits;
	bool gib_pages;
	cpu_paging(&phys_bits, &gib_pages);
	ident_pml4s = ident_count(ram_end);
	for (unsigned i = 0; i < ident_pml4s; i++)
		ident_pdpt[i] = alloc(ctx);
	for (uint64_t g = 0; g < ident_top(ram_end) / GIB; g++) {
		uint64_t *pdpt = ident_pdpt[g / 512];
		if (g > 0 && gib_pages) {
			pdpt[g % 512] = g * GIB | PTE_P | PTE_W | PTE_PS | PTE_NX;
			continue;
		}
		uint64_t *pd = alloc(ctx);
		for (unsigned i = 0; i < 512; i++)
			pd[i] = (g * GIB | (uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS | PTE_NX;
		pdpt[g % 512] = (uintptr_t)pd | TABLE;
	}
	/* The low memory up to the end of the image in 4 KiB pages: page 0 stays unmapped, and
	 * the image's physical pages are read-only here, so the identity map is no writable
	 * alias of kernel text or data (they are written through the kernel mapping only). */
	uint64_t img_lo = KERNEL_PHYS, img_hi = phys(__image_end);
	for (uint64_t chunk = 0; chunk < ALIGN_UP(img_hi, 2u << 20); chunk += 2u << 20) {
		uint64_t *pt = alloc(ctx);
		for (unsigned i = 0; i < 512; i++) {
			uint64_t pa = chunk + ((uint64_t)i << 12);
			if (pa == 0)
				continue;
			bool image = pa >= img_lo && pa < img_hi;
			pt[i] = pa | PTE_P | PTE_NX | (image ? 0 : PTE_W);
		}
		table(ident_pdpt[0][chunk >> 30])[(chunk >> 21) & 511] = (uintptr_t)pt | TABLE;
	}

	/* The kernel image, page by page, with permissions by section. */
	kernel_pd = alloc(ctx);
	for (uintptr_t va = (uintptr_t)__text_start; va < (uintptr_t)__image_end; va += 4096) {
		uint64_t pa = phys((void *)va);
		uint64_t flags = PTE_P;
		if (va >= (uintptr_t)__text_end)
			flags |= PTE_NX;
		if (va >= (uintptr_t)__data_start)
			flags |= PTE_W;
		unsigned di = (pa >> 21) & 511;
		if (!kernel_pd[di])
			kernel_pd[di] = (uintptr_t)alloc(ctx) | TABLE;
		table(kernel_pd[di])[(pa >> 12) & 511] = pa | flags;
	}
	stacks_pdpt = alloc(ctx);
}

int paging_map_mmio(uint64_t phys, uint64_t len)
{
	if (phys + len < phys || phys + len > (uint64_t)ident_pml4s * PML4_SPAN)
		return -ERANGE;
	for (uint64_t pa = ALIGN_DOWN(phys, 2u << 20); pa < phys + len; pa += 2u << 20) {
		uint64_t g = pa / GIB;
		uint64_t *pdpt = ident_pdpt[g / 512];
		if (pdpt[g % 512] & PTE_PS)
			continue; /* inside a 1 GiB page of RAM: already mapped */
		if (!pdpt[g % 512]) {
			void *pd = boot_alloc_page();
			if (!pd)
				return -ENOMEM;
			pdpt[g % 512] = (uintptr_t)pd | TABLE;
		}
		uint64_t *pd = table(pdpt[g % 512]);
		unsigned i = (pa >> 21) & 511;
		if (!pd[i]) /* uncached: device registers */
			pd[i] = pa | PTE_P | PTE_W | PTE_PS | PTE_NX | PTE_PCD | PTE_PWT;
	}
	return 0;
}

size_t paging_window_bytes(void)
{
	return (size_t)(__percore_end - __percore_start);
}

uint64_t paging_build_core(unsigned core, uintptr_t window, pt_alloc_fn alloc, void *ctx)
{
	uint64_t *pml4 = alloc(ctx);
	uint64_t *pdpt = alloc(ctx);
	uint64_t *wpd = alloc(ctx);
	for (unsigned i = 0; i < ident_pml4s; i++)
		pml4[i] = (uintptr_t)ident_pdpt[i] | TABLE;
	pml4[STACKS_PML4] = (uintptr_t)stacks_pdpt | TABLE;
	pml4[511] = (uintptr_t)pdpt | TABLE;
	pdpt[510] = (uintptr_t)kernel_pd | TABLE;
	pdpt[511] = (uintptr_t)wpd | TABLE;
	size_t pages = paging_window_bytes() / 4096;
	for (size_t i = 0; i < pages; i++) {
		unsigned di = (unsigned)(i >> 9);
		if (!wpd[di])
			wpd[di] = (uintptr_t)alloc(ctx) | TABLE;
		table(wpd[di])[i & 511] = (window + i * 4096) | PTE_P | PTE_W | PTE_NX;
	}
	stack_pd[core] = alloc(ctx);
	stacks_pdpt[core] = (uintptr_t)stack_pd[core] | TABLE;
	return (uintptr_t)pml4;
}

void paging_window_init(void)
{
	size_t data = (size_t)(__percore_data_end - __percore_start);
	memcpy(__percore_start, __percore_load, data);
	memset(__percore_start + data, 0, (size_t)(__percore_end - __percore_data_end));
}

bool arch_is_percore_addr(const void *p)
{
	return (uintptr_t)p >= WINDOW_VMA;
}

uintptr_t arch_image_base(void)
{
	return KERNEL_VMA;
}

/* ---- thread stacks ------------------------------------------------------------------------ */

uintptr_t arch_stack_slot_top(unsigned core, unsigned slot)
{
	return STACKS_VMA + (uintptr_t)core * STACK_CORE_SIZE +
	       (uintptr_t)(slot + 1) * STACK_SLOT_SIZE;
}

unsigned arch_stack_slots(void)
{
	return STACK_CORE_SIZE / STACK_SLOT_SIZE;
}

int arch_stack_owner(uintptr_t va)
{
	if (va < STACKS_VMA || va >= STACKS_VMA + (uintptr_t)ncores * STACK_CORE_SIZE)
		return -1;
	return (int)((va - STACKS_VMA) / STACK_CORE_SIZE);
}

extern char boot_stack[], boot_stack_top[];

uintptr_t paging_stack_top(uintptr_t sp)
{
	/* A thread stack occupies the top of its slot and holds sp, so [sp, slot end) is mapped. */
	if (arch_stack_owner(sp) == (int)core_id())
		return ALIGN_DOWN(sp, STACK_SLOT_SIZE) + STACK_SLOT_SIZE;
	uintptr_t top = core_desc[core_id()].stack_top;
	if (sp < top && sp >= top - BOOT_STACK_SIZE)
		return top;
	/* The boot core schedules on the image's boot stack (boot.S), not on its carved one. */
	if (sp < (uintptr_t)boot_stack_top && sp >= (uintptr_t)boot_stack)
		return (uintptr_t)boot_stack_top;
	return 0;
}

static uint64_t *stack_pte(uintptr_t va, bool create)
{
	uint64_t *pd = stack_pd[core_id()];
	unsigned di = (va >> 21) & 511;
	if (!pd[di]) {
		if (!create)
			return NULL;
		void *pt = page_alloc(0);
		if (!pt)
			return NULL;
		memset(pt, 0, 4096);
		pd[di] = (uintptr_t)pt | TABLE;
	}
	return &table(pd[di])[(va >> 12) & 511];
}

void arch_stack_unmap(uintptr_t top, size_t len)
{
	for (uintptr_t va = top - len; va < top; va += 4096) {
		uint64_t *pte = stack_pte(va, false);
		if (!pte || !(*pte & PTE_P))
			continue;
		void *page = (void *)(uintptr_t)(*pte & PTE_ADDR);
		*pte = 0;
		/* This core's TLB forgets the page now; other cores' TLBs when the caller asks
		 * them to (kernel/stack.c), before it maps the address again. */
		invlpg((void *)va);
		page_free(page, 0);
	}
}

int arch_stack_map(uintptr_t top, size_t len)
{
	for (uintptr_t va = top - len; va < top; va += 4096) {
		uint64_t *pte = stack_pte(va, true);
		void *page = pte ? page_alloc(0) : NULL;
		if (!page) {
			arch_stack_unmap(va, va - (top - len));
			return -ENOMEM;
		}
		/* Not-present entries are not cached by the TLB: no invalidation needed. */
		*pte = (uintptr_t)page | PTE_P | PTE_W | PTE_NX;
	}
	return 0;
}

void arch_stack_tlb_flush(void)
{
	/* Reloading CR3 drops every TLB entry that is not global, and isle has no global pages
	 * (CR4.PGE stays off). */
	write_cr3(read_cr3());
}
