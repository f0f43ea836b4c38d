/* isle/core.h - which core am I on, and how many are there. Any context. */
#ifndef ISLE_CORE_H
#define ISLE_CORE_H

#include "kernel/core.h"

/* The most cores isle runs on: size per-core arrays with it. */
#define ISLE_MAX_CORES MAX_CORES

/* core_id() (0..core_count()-1) comes from kernel/core.h. */
static inline unsigned core_count(void)
{
	return ncores;
}

#endif
