/*
 * paging.h - page tables. The boot core builds the shared tables (identity map of physical
 * memory, kernel image, stack directory) and one set per core (own top level, own core window,
 * own stack directory). At run time a core changes only its own stack mappings.
 */
#ifndef ISLE_ARCH_PAGING_H
#define ISLE_ARCH_PAGING_H

#include "kernel/compiler.h"

/* Allocates one zeroed page-table page; the boot core passes its bump allocator. */
typedef void *(*pt_alloc_fn)(void *ctx);

/* Upper bound of the shared page-table bytes for RAM ending at ram_end (the planner reserves it
 * in the shared region). */
size_t paging_shared_bytes(uint64_t ram_end);
/* Builds the shared tables: identity map of [0, 4 GiB) and all RAM below ram_end, kernel image,
 * stack directory. Their pages come from alloc, which MUST return memory below 4 GiB (it is
 * written through boot.S's bootstrap map). */
void paging_build_shared(uint64_t ram_end, pt_alloc_fn alloc, void *ctx);

/* Builds core `core`'s tables with pages from alloc (below 4 GiB, like paging_build_shared's);
 * its window occupies `window` (physical, window_bytes long). Returns the physical address of
 * its top-level table. */
uint64_t paging_build_core(unsigned core, uintptr_t window, pt_alloc_fn alloc, void *ctx);
size_t paging_window_bytes(void);
/* Adds [phys, phys+len) to the identity map, uncached (device memory above 4 GiB). Boot core,
 * before other cores start (the identity map is shared). 0, -ERANGE beyond the CPU's physical
 * address width (or 64 TiB), -ENOMEM with no shared memory left for a directory. */
int paging_map_mmio(uint64_t phys, uint64_t len);
/* The top of the calling core's stack that holds sp (a thread's stack slot, or the core's
 * boot/scheduler stack), or 0 if sp is in none of them: everything in [sp, top) is mapped.
 * Any context. */
uintptr_t paging_stack_top(uintptr_t sp);
/* Copies the pristine core-window image into the calling core's window and zeroes its bss. */
void paging_window_init(void);

#endif
