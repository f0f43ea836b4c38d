/*
 * memplan.h - who gets which RAM: the shared region and every core's share.
 *
 * The boot core hands the planner the RAM isle may use (the firmware's map minus the image,
 * the modules and low memory) and gets back: one shared region below a limit (the bootstrap
 * page tables reach only the low 4 GiB), and for every core up to MEMPLAN_MAX_SPANS spans of
 * RAM, in 2 MiB granules, together as close to an equal share as the map allows. All RAM is
 * used: above 4 GiB, across the PCI hole, over a map of many entries; only granule fragments
 * and what a full span list cannot take stay unused, and the plan says how much that is.
 *
 * The owner table answers "which core owns this address" with one load: one entry per 2 MiB
 * granule of physical memory up to the end of the highest span (2 bytes per 2 MiB: 512 KiB for
 * 512 GiB). This is how kfree() tells a remote free from a local one, in O(1) whatever the
 * number of cores.
 *
 * Pure functions over their arguments: no globals, no printing, so they are also built on the
 * host for unit tests. Boot core, once, before other cores start.
 */
#ifndef ISLE_KERNEL_MEMPLAN_H
#define ISLE_KERNEL_MEMPLAN_H

#include "kernel/compiler.h"

#define MEMPLAN_GRANULE_SHIFT 21 /* cores own RAM in 2 MiB granules */
#define MEMPLAN_GRANULE ((uint64_t)1 << MEMPLAN_GRANULE_SHIFT)
#define MEMPLAN_MAX_SPANS 8     /* pieces of RAM one core may own (kmem's KMEM_MAX_SPANS) */
#define MEMPLAN_NO_OWNER 0xFFFF /* owner table entry of a granule no core owns */

/* A range of physical memory. */
struct phys_range {
	uint64_t base; /* first byte */
	uint64_t len;  /* bytes */
};

/* One core's share. [I]: planned on the boot core, then read by all (core_mem[]). */
struct core_share {
	unsigned nspans;                           /* spans used, at least 1 */
	struct phys_range span[MEMPLAN_MAX_SPANS]; /* granule aligned; span[0] is the largest */
	uint64_t bytes;                            /* sum of the spans */
};

/* What the planner is asked for. */
struct memplan_req {
	const struct phys_range *ram; /* usable RAM, sorted by base, not overlapping */
	unsigned nram;                /* entries in ram[] */
	unsigned ncores;              /* cores to share it among, >= 1 */
	uint64_t shared_bytes;        /* size of the shared region (page multiple) */
	uint64_t shared_limit;        /* the shared region must end at or below this address */
	uint64_t core_min;            /* bytes every core needs in one piece (its span[0]) */
};

/* The plan. [I] once made (setup.c keeps it). */
struct memplan {
	uint64_t shared_base; /* the shared region: [shared_base, + shared_bytes), 4 KiB aligned */
	uint64_t ram_end;     /* end of the highest span: the owner table covers [0, ram_end) */
	uint64_t total;       /* bytes handed to cores */
	uint64_t unused;      /* usable bytes handed to nobody (fragments, full span lists) */
	struct core_share *core; /* [ncores], supplied by the caller */
};

/*
 * Plans memory as described above into *out (out->core MUST point to req->ncores entries).
 * Returns 0, or -ENOMEM with a message in err: no place for the shared region below the limit,
 * or not core_min bytes in one piece for some core. Any context; boot core in practice.
 */
int memplan(const struct memplan_req *req, struct memplan *out, char *err, size_t errlen);

/* Entries of the owner table for a plan: one per granule below ram_end. */
static inline size_t memplan_owner_entries(const struct memplan *p)
{
	return (size_t)(p->ram_end >> MEMPLAN_GRANULE_SHIFT);
}

/* Fills the owner table (memplan_owner_entries(p) entries) from the plan. */
void memplan_owner_fill(const struct memplan *p, unsigned ncores, uint16_t *owner);

/* The core that owns physical address pa, or -1: one bounds check and one load. */
static inline int memplan_owner(const uint16_t *owner, size_t entries, uint64_t pa)
{
	uint64_t g = pa >> MEMPLAN_GRANULE_SHIFT;

	if (g >= entries || owner[g] == MEMPLAN_NO_OWNER)
		return -1;
	return owner[g];
}

#endif
