/*
 * proftab.h - the profiler's two portable pieces: a frame-pointer walk that cannot fault, and a
 * table that counts identical stacks.
 *
 * kernel/profile.c uses both from a core's timer interrupt, on that core's own stack and its own
 * table; tests/unit/test_proftab.c runs them on the host against fake stacks.
 *
 * The walk reads memory only inside the stack bounds it is given, only at 8-byte aligned
 * addresses, only upwards (every frame above the last), at most `max` frames deep, and keeps
 * only return addresses that lie in the text bounds: a corrupt or foreign frame pointer ends
 * the walk, it never makes it fault. Code it reads only inside the text bounds.
 *
 * Frameless functions. gcc leaves the frame out of a leaf function that needs no stack, even
 * with -fno-omit-frame-pointer, and a function interrupted in its prologue or epilogue has no
 * frame linked either: the chain from rbp then starts at the caller's frame and misses the
 * caller. Its return address is the word at the stack pointer, which the walk takes when it
 * follows a direct call (e8 rel32) to the very function that holds the sampled address
 * (func_of, e.g. a symbol-table look-up): a local that merely looks like code is not taken.
 *
 * The table is open addressing with linear probing over a caller-provided array (a power of two
 * long): adding never allocates, takes at most PROFTAB_PROBES probes, and a stack that finds no
 * slot within them is counted as lost. Identical stacks (same depth, same addresses) share one
 * slot and a count.
 *
 * Context: any, interrupt handlers included; a table belongs to one core.
 */
#ifndef ISLE_KERNEL_PROFTAB_H
#define ISLE_KERNEL_PROFTAB_H

#include "kernel/compiler.h"

#define PROFTAB_DEPTH 12  /* addresses per stack: the sampled one and up to 11 callers */
#define PROFTAB_PROBES 32 /* slots looked at before a sample counts as lost */

/* One distinct stack. A slot with depth 0 is free. */
struct proftab_stack {
	uint64_t pc[PROFTAB_DEPTH]; /* [o] pc[0] the sampled instruction, then return addresses,
	                               innermost first; 0 stands for an address outside text */
	uint32_t depth;             /* [o] entries of pc[] in use, 1..PROFTAB_DEPTH; 0: free */
	uint32_t count;             /* [o] samples with exactly this stack (saturates) */
};

struct proftab {
	struct proftab_stack *slot; /* [o] nslots slots, zeroed by the caller */
	uint32_t nslots;            /* [o] a power of two */
	uint32_t used;              /* [o] slots in use */
	uint64_t lost;              /* [o] samples that found no slot within PROFTAB_PROBES */
};

/* What the walk may read and what counts as code: [lo, hi) each. */
struct proftab_bounds {
	uint64_t stack_lo, stack_hi; /* the interrupted stack: its stack pointer to its top;
	                                stack_hi 0: unknown, no caller is read */
	uint64_t text_lo, text_hi;   /* the image's text, readable */
	/* the start of the function holding a text address, 0 if unknown; NULL: no look-up, so
	 * no frameless caller is found */
	uint64_t (*func_of)(uint64_t pc);
};

/*
 * Fills pc[0..n) with rip (0 if outside text), the return address at the stack pointer if rip's
 * function has no frame linked (above), and the return addresses found by following the
 * frame-pointer chain from rbp; returns n (1..max, 0 only if max is 0).
 */
unsigned proftab_walk(uint64_t *pc, unsigned max, uint64_t rip, uint64_t rbp,
                      const struct proftab_bounds *b);

/* slots: nslots zeroed entries, nslots a power of two. */
void proftab_init(struct proftab *t, struct proftab_stack *slots, uint32_t nslots);
/* Counts one sample of the stack pc[0..depth) (depth 1..PROFTAB_DEPTH); false if it was lost. */
bool proftab_add(struct proftab *t, const uint64_t *pc, unsigned depth);

#endif
