/*
 * mem.c - per-core memory: the glue between the page allocator (kmem.c), the heap (heap.c)
 * and the message rings.
 *
 * Each core keeps its struct mem_core at the start of its own memory (core_mem[c].span[0]), and
 * its page allocator manages all its spans. Any core finds the owner of a pointer in O(1) from
 * the immutable owner table (core_of_addr), and only the owner ever writes its mem_core.
 *
 * Remote frees. kfree() of another core's block links the block into a per-owner chain through
 * its own first word (a freed block is ours until it is home: no memory is allocated to free
 * memory). A chain travels home as one MSG_FREE reply carrying its head and length, sent when it
 * reaches FREE_BATCH blocks or when the scheduler loop comes around (mem_flush_remote); the
 * owner walks it and frees each block. A chain that finds its ring full (possible only without a
 * thread: a handler, the scheduler loop) simply stays and goes with the next try.
 */
#include <string.h>
#include <isle/errno.h>
#include "kernel/core.h"
#include "kernel/coreset.h"
#include "kernel/heap.h"
#include "kernel/kmem.h"
#include "kernel/mem.h"
#include "kernel/msg.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/stack.h"

#define FREE_BATCH 64 /* blocks a chain collects before it goes home on its own */

struct mem_core {
	struct kmem km;           /* [o] page allocator */
	struct heap heap;         /* [o] size-class heap */
	uint64_t remote_sent;     /* [o] blocks sent home to other cores */
	uint64_t remote_received; /* [o] blocks other cores sent home to us */
} __cacheline_aligned;

/* A freed block on its way home, linked through its first word. */
struct free_link {
	struct free_link
	        *next; /* [o] of the freeing core until the chain is sent, then the owner's */
};

struct free_chain {
	struct free_link *head; /* [o] blocks owned by one other core, most recent first */
	uint32_t n;             /* [o] how many */
};

PERCORE static struct mem_core *self_mem;           /* [o] this core's mem_core */
PERCORE static struct free_chain chains[MAX_CORES]; /* [o] by owner core */
PERCORE static struct coreset chains_pending;       /* [o] c: chains[c] non-empty */

const uint16_t *mem_owner; /* [I] */
size_t mem_owner_entries;  /* [I] */

static struct mem_core *mem_of(unsigned core)
{
	return (struct mem_core *)(uintptr_t)core_mem[core].span[0].base;
}

void mem_init_core(void)
{
	unsigned c = core_id();
	const struct core_share *cs = &core_mem[c];
	struct mem_core *m = mem_of(c);
	size_t hdr = ALIGN_UP(sizeof(*m), PAGE_SIZE);
	memset(m, 0, sizeof(*m));
	if (kmem_init(&m->km, (uintptr_t)cs->span[0].base + hdr, cs->span[0].len - hdr) < 0)
		boot_fail("core %u: memory of %lu bytes is too small", c, cs->span[0].len);
	for (unsigned s = 1; s < cs->nspans; s++)
		if (kmem_add_span(&m->km, (uintptr_t)cs->span[s].base, cs->span[s].len) < 0)
			boot_fail("core %u: cannot add %lu MiB at %#lx", c, cs->span[s].len >> 20,
			          cs->span[s].base);
	heap_init(&m->heap, &m->km);
	self_mem = m;
}

void *page_alloc(unsigned order)
{
	void *p = kmem_alloc(&self_mem->km, order);
	if (!p) {
		heap_trim(&self_mem->heap);
		p = kmem_alloc(&self_mem->km, order);
	}
	return p;
}

void page_free(void *p, unsigned order)
{
	struct kmem_page *pg = kmem_page_of(&self_mem->km, p);
	if (pg && pg->heap_class)
		panic("page_free(%p): that is a heap block; use kfree", p);
	if (kmem_free(&self_mem->km, p, order) < 0)
		panic("page_free(%p, %u): not a live block of core %u", p, order, core_id());
}

void *kmalloc(size_t size)
{
	return heap_alloc(&self_mem->heap, size);
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

/* Sends the chain for dst home; a full ring (without a thread) leaves it for the next try. */
static void send_chain(unsigned dst)
{
	struct free_chain *ch = &chains[dst];
	struct msg m = { .type = MSG_FREE, .arg = ch->n, .w = { (uintptr_t)ch->head } };
	/* A reply: on_free sends nothing. The ring's release orders our link stores before it. */
	if (msg_reply(dst, &m) < 0)
		return;
	self_mem->remote_sent += ch->n;
	*ch = (struct free_chain){ NULL, 0 };
	coreset_del(&chains_pending, dst);
}

void kfree(void *p)
{
	if (!p)
		return;
	int owner = core_of_addr(p);
	if (owner < 0)
		panic("kfree(%p): not a heap block of any core", p);
	if ((unsigned)owner == core_id()) {
		if (heap_free(&self_mem->heap, p) < 0)
			panic("kfree(%p): not a live heap block (double free?)", p);
		return;
	}
	struct free_chain *ch = &chains[owner];
	struct free_link *l = p;
	l->next = ch->head;
	ch->head = l;
	if (ch->n++ == 0)
		coreset_add(&chains_pending, (unsigned)owner);
	if (ch->n >= FREE_BATCH)
		send_chain((unsigned)owner);
}

bool mem_remote_pending(void)
{
	return !coreset_empty(&chains_pending);
}

void mem_flush_remote(void)
{
	struct coreset todo = chains_pending;
	for (int c; (c = coreset_first(&todo)) >= 0;) {
		coreset_del(&todo, (unsigned)c);
		send_chain((unsigned)c);
	}
}

static void on_free(const struct msg *m)
{
	struct free_link *l = (struct free_link *)(uintptr_t)m->w[0];
	for (uint32_t i = 0; i < m->arg; i++) {
		if (!l)
			panic("MSG_FREE from core %u: a chain of %u blocks ends after %u", m->src,
			      m->arg, i);
		struct free_link *next = l->next; /* read before the block is free again */
		if (heap_free(&self_mem->heap, l) < 0)
			panic("remote free of %p from core %u: not a live block of core %u",
			      (void *)l, m->src, core_id());
		l = next;
	}
	self_mem->remote_received += m->arg;
}
MSG_HANDLER(MSG_FREE, on_free);

size_t kmalloc_usable_size(const void *p)
{
	int owner = core_of_addr(p);
	if (owner < 0)
		return 0;
	/* A live block's size class never changes while it is live, so reading the owner's
	 * page metadata for it is safe from any core. */
	return heap_usable_size(&mem_of((unsigned)owner)->heap, p);
}

void mem_stats(struct mem_stats *out)
{
	struct heap_stats hs;
	heap_stats(&self_mem->heap, &hs);
	*out = (struct mem_stats){
		.heap_bytes = hs.bytes_in_use,
		.heap_blocks = hs.blocks_in_use,
		.free_pages = kmem_free_pages(&self_mem->km),
		.stack_pages = stack_pages_held(),
		.total_pages = kmem_total_pages(&self_mem->km),
		.allocs = hs.allocs,
		.frees = hs.frees,
		.failed = hs.failed,
		.remote_frees_sent = self_mem->remote_sent,
		.remote_frees_received = self_mem->remote_received,
	};
}

/* ---- the C library's names, for applications ------------------------------------------------ */

void *malloc(size_t size)
{
	return kmalloc(size);
}

void free(void *p)
{
	kfree(p);
}

void *calloc(size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	return kzalloc(total);
}

void *realloc(void *p, size_t size)
{
	if (!p)
		return kmalloc(size);
	if (size == 0) {
		kfree(p);
		return NULL;
	}
	size_t old = kmalloc_usable_size(p);
	if (size <= old && core_of_addr(p) == (int)core_id())
		return p;
	void *q = kmalloc(size);
	if (!q)
		return NULL;
	memcpy(q, p, MIN(old, size));
	kfree(p);
	return q;
}

void *aligned_alloc(size_t align, size_t size)
{
	return heap_alloc_aligned(&self_mem->heap, size, align);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)) || align > PAGE_SIZE)
		return EINVAL;
	void *p = heap_alloc_aligned(&self_mem->heap, size, align);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
