/*
 * coreset.h - a set of cores, one bit each (MAX_CORES bits): which destinations have queued
 * work, which cores are in some state. Operations cost O(MAX_CORES / 64) = 4 word operations at
 * most, whatever the number of cores running; coreset_first finds the lowest member with one bit
 * scan per word. Plain data: the owner of a set is whoever holds it (a PERCORE set is [o]).
 */
#ifndef ISLE_KERNEL_CORESET_H
#define ISLE_KERNEL_CORESET_H

#include "kernel/compiler.h"
#include "kernel/core.h"

#define CORESET_WORDS (MAX_CORES / 64)

struct coreset {
	uint64_t w[CORESET_WORDS]; /* bit c % 64 of w[c / 64]: core c is a member */
};

static inline void coreset_add(struct coreset *s, unsigned c)
{
	s->w[c / 64] |= 1ull << (c % 64);
}

static inline void coreset_del(struct coreset *s, unsigned c)
{
	s->w[c / 64] &= ~(1ull << (c % 64));
}

static inline bool coreset_has(const struct coreset *s, unsigned c)
{
	return (s->w[c / 64] >> (c % 64)) & 1;
}

static inline bool coreset_empty(const struct coreset *s)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < CORESET_WORDS; i++)
		any |= s->w[i];
	return any == 0;
}

/* The lowest member, or -1 if the set is empty. */
static inline int coreset_first(const struct coreset *s)
{
	for (unsigned i = 0; i < CORESET_WORDS; i++)
		if (s->w[i])
			return (int)(i * 64 + (unsigned)__builtin_ctzll(s->w[i]));
	return -1;
}

/* The lowest member above c, or -1 if there is none. */
static inline int coreset_next(const struct coreset *s, unsigned c)
{
	if (++c >= MAX_CORES)
		return -1;
	uint64_t w = s->w[c / 64] & (~0ull << (c % 64));
	for (unsigned i = c / 64;;) {
		if (w)
			return (int)(i * 64 + (unsigned)__builtin_ctzll(w));
		if (++i == CORESET_WORDS)
			return -1;
		w = s->w[i];
	}
}

#endif
