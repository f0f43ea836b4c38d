/*
 * isle/core.h - which core am I on, and how many are there. Any context.
 *
 * Cores are numbered 0..core_count()-1; core 0 runs main(). The count is fixed at boot.
 */
#ifndef ISLE_CORE_H
#define ISLE_CORE_H

#include <isle/percore.h>

/* The most cores isle runs on: size per-core arrays with it (or use PERCORE variables). */
#define ISLE_MAX_CORES 256

extern unsigned ncores;            /* [I] cores running: read it through core_count() */
extern PERCORE unsigned core_self; /* this core's id: read it through core_id() */

static inline unsigned core_id(void)
{
	return core_self;
}

static inline unsigned core_count(void)
{
	return ncores;
}

#endif
