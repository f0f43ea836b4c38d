/*
 * isle/mem.h - memory of the calling core.
 *
 * Every core has its own page allocator and heap; allocation never takes a lock and never
 * touches another core. Freeing a block that another core allocated is allowed from any
 * core: the block is sent home over the message ring (a remote free) and its owner frees it.
 *
 * Context: thread or message-handler context. Interrupt handlers MUST NOT allocate or free.
 * Allocation MAY fail and returns NULL; exhaustion is never a panic.
 */
#ifndef ISLE_MEM_H
#define ISLE_MEM_H

#include <stddef.h>
#include <stdint.h>

void *kmalloc(size_t size); /* 16-byte aligned, or NULL */
void *kzalloc(size_t size); /* zeroed */
void kfree(void *p);        /* any core's block; NULL is a no-op */
size_t kmalloc_usable_size(const void *p);

/* Whole pages (2^order of them, aligned to their size) from the calling core's allocator. */
void *page_alloc(unsigned order);
void page_free(void *p, unsigned order); /* the calling core's pages only */

/* Per-core memory statistics (the reader sums cores for totals). */
struct mem_stats {
	size_t heap_bytes;              /* bytes in live heap blocks */
	size_t heap_blocks;             /* live heap blocks */
	size_t free_pages;              /* pages free in the page allocator */
	size_t stack_pages;             /* pages of live threads' stacks and of the stack cache */
	size_t total_pages;             /* pages the allocator manages */
	uint64_t allocs, frees;         /* heap operations so far */
	uint64_t failed;                /* allocations that returned NULL */
	uint64_t remote_frees_sent;     /* blocks this core sent home to other cores */
	uint64_t remote_frees_received; /* blocks other cores sent home to this core */
};
void mem_stats(struct mem_stats *out); /* the calling core's */

#endif
