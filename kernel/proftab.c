/*
 * proftab.c - the defensive frame-pointer walk and the stack-counting table of the profiler
 * (the contract is in proftab.h).
 */
#include <string.h>
#include "kernel/proftab.h"

static bool in_text(const struct proftab_bounds *b, uint64_t a)
{
	return a >= b->text_lo && a < b->text_hi;
}

/* The word at the stack pointer, if it is the return address of a direct call to the function
 * that holds rip (see proftab.h), else 0. */
static uint64_t frameless_return(uint64_t rip, const struct proftab_bounds *b)
{
	uint64_t sp = b->stack_lo;
	if (!b->func_of || !in_text(b, rip) || (sp & 7) || sp >= b->stack_hi ||
	    b->stack_hi - sp < 8)
		return 0;
	uint64_t ret = *(const uint64_t *)(uintptr_t)sp;
	if (!in_text(b, ret) || ret - b->text_lo < 5)
		return 0;
	const uint8_t *call = (const uint8_t *)(uintptr_t)(ret - 5);
	if (call[0] != 0xE8) /* call rel32 */
		return 0;
	int32_t rel;
	memcpy(&rel, call + 1, sizeof(rel));
	uint64_t f = b->func_of(rip);
	return f && ret + (uint64_t)(int64_t)rel == f ? ret : 0;
}

unsigned proftab_walk(uint64_t *pc, unsigned max, uint64_t rip, uint64_t rbp,
                      const struct proftab_bounds *b)
{
	if (max == 0)
		return 0;
	unsigned n = 0;
	pc[n++] = in_text(b, rip) ? rip : 0;
	uint64_t leaf = frameless_return(rip, b);
	if (leaf && n < max)
		pc[n++] = leaf;
	while (n < max) {
		/* A frame is 16 bytes at rbp: the caller's rbp, then the return address. It must lie
		 * wholly inside the stack, and every frame lies above the one before. */
		if ((rbp & 7) || rbp < b->stack_lo || rbp >= b->stack_hi || b->stack_hi - rbp < 16)
			break;
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		uint64_t next = frame[0], ret = frame[1];
		if (!in_text(b, ret))
			break;
		if (ret != leaf) /* the same caller twice is one frame */
			pc[n++] = ret;
		leaf = 0;
		if (next <= rbp)
			break;
		rbp = next;
	}
	return n;
}

void proftab_init(struct proftab *t, struct proftab_stack *slots, uint32_t nslots)
{
	t->slot = slots;
	t->nslots = nslots;
	t->used = 0;
	t->lost = 0;
}

static uint64_t hash(const uint64_t *pc, unsigned depth)
{
	uint64_t h = depth * 0x9E3779B97F4A7C15ull;
	for (unsigned i = 0; i < depth; i++) {
		h ^= pc[i];
		h *= 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
	}
	return h;
}

bool proftab_add(struct proftab *t, const uint64_t *pc, unsigned depth)
{
	if (depth == 0 || depth > PROFTAB_DEPTH || t->nslots == 0) {
		t->lost++;
		return false;
	}
	uint32_t mask = t->nslots - 1;
	uint32_t i = (uint32_t)hash(pc, depth) & mask;
	for (unsigned probe = 0; probe < PROFTAB_PROBES && probe < t->nslots; probe++) {
		struct proftab_stack *s = &t->slot[(i + probe) & mask];
		if (s->depth == 0) {
			memcpy(s->pc, pc, depth * sizeof(pc[0]));
			s->depth = depth;
			s->count = 1;
			t->used++;
			return true;
		}
		if (s->depth == depth && memcmp(s->pc, pc, depth * sizeof(pc[0])) == 0) {
			if (s->count != UINT32_MAX)
				s->count++;
			return true;
		}
	}
	t->lost++;
	return false;
}
