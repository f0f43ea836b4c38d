/*
 * paging.c - isle's page tables (see layout.h for the address space).
 *
 *   PML4[0]   -> identity PDPT (shared): all RAM and the low 4 GiB, 2 MiB pages, NX; up to the
 *                end of the image 4 KiB pages, so that page 0 stays unmapped and the image is
 *                read-only through this alias.
 *   PML4[1]   -> stacks PDPT (shared): entry c -> core c's stack directory, written only by c.
 *   PML4[511] -> the core's own PDPT: [510] -> kernel image directory (shared; text RX,
 *                rodata R, data RW, 4 KiB pages), [511] -> the core's own window directory.
 * Shared tables are written by the boot core before other cores start and never again, so no
 * core ever invalidates another core's TLB. Stack pages are mapped and unmapped only by the
 * core that owns them, and a slot keeps its pages for life (sched.c): a mapping that other cores
 * may have cached never changes, so no core ever has to invalidate another core's TLB.
 */
#include <string.h>
#include <isle/errno.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "kernel/core.h"
#include "kernel/mem.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define TABLE (PTE_P | PTE_W)

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __image_end[];
extern char __percore_load[], __percore_start[], __percore_data_end[], __percore_end[];

static uint64_t *ident_pdpt;          /* [I] */
static uint64_t *kernel_pd;           /* [I] */
static uint64_t *stacks_pdpt;         /* [I] */
static uint64_t *stack_pd[MAX_CORES]; /* [I] pointer; the table itself is [o] of core c */

static uint64_t phys(const void *kernel_va)
{
	return (uint64_t)(uintptr_t)kernel_va - KERNEL_VMA;
}

static uint64_t *table(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR);
}

void paging_build_shared(uint64_t max_phys, pt_alloc_fn alloc, void *ctx)
{
	if (max_phys < (4ull << 30))
		max_phys = 4ull << 30; /* MMIO: LAPIC, IOAPIC, PCI windows */
	unsigned gib = (unsigned)MIN((max_phys + (1ull << 30) - 1) >> 30, 512);

	ident_pdpt = alloc(ctx);
	for (unsigned g = 0; g < gib; g++) {
		uint64_t *pd = alloc(ctx);
		for (unsigned i = 0; i < 512; i++)
			pd[i] = ((uint64_t)g << 30 | (uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS |
			        PTE_NX;
		ident_pdpt[g] = (uintptr_t)pd | TABLE;
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
		table(ident_pdpt[chunk >> 30])[(chunk >> 21) & 511] = (uintptr_t)pt | TABLE;
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

void paging_map_mmio(uint64_t phys, uint64_t len)
{
	for (uint64_t pa = ALIGN_DOWN(phys, 2u << 20); pa < phys + len; pa += 2u << 20) {
		unsigned g = (unsigned)(pa >> 30);
		if (g >= 512)
			return;
		if (!ident_pdpt[g]) {
			void *pd = boot_alloc(4096 + 4096);
			if (!pd)
				return;
			pd = (void *)ALIGN_UP((uintptr_t)pd, 4096);
			ident_pdpt[g] = (uintptr_t)pd | TABLE;
		}
		uint64_t *pd = table(ident_pdpt[g]);
		unsigned i = (pa >> 21) & 511;
		if (!pd[i])
			pd[i] = pa | PTE_P | PTE_W | PTE_PS | PTE_NX | 0x18; /* PCD|PWT: uncached */
	}
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
	pml4[0] = (uintptr_t)ident_pdpt | TABLE;
	pml4[1] = (uintptr_t)stacks_pdpt | TABLE;
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

/* ---- thread stacks ------------------------------------------------------------------------ */

uintptr_t arch_stack_slot(unsigned core, unsigned slot)
{
	return STACKS_VMA + (uintptr_t)core * STACK_CORE_SIZE + (uintptr_t)slot * STACK_SLOT_SIZE;
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
		/* Only for pages just mapped by a failed arch_stack_map: no other core can have
		 * used them yet. */
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
