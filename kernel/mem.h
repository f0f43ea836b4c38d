/* mem.h - the kernel side of per-core memory (see include/isle/mem.h for the API). */
#ifndef ISLE_KERNEL_MEM_H
#define ISLE_KERNEL_MEM_H

#include <isle/mem.h>
#include "kernel/compiler.h"

void mem_init_core(void);    /* on every core at start-up, before anything allocates */
void mem_flush_remote(void); /* sends batched remote frees home (scheduler loop) */
bool mem_remote_pending(void);

#endif
