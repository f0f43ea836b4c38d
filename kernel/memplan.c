/*
 * memplan.c - sharing out RAM: the shared region, then every core's share (see memplan.h).
 *
 * The walk. The shared region is taken from the first RAM range that has room for it below
 * the limit. What is left of the RAM becomes a list of "pieces": each range, cut around the
 * shared region, shrunk inward to 2 MiB granules. The cores then take the pieces in address
 * order, core 0 first, each as much as an equal share of what is still unassigned
 * (remaining / cores left, rounded down to a granule; the last core takes everything left), in
 * up to MEMPLAN_MAX_SPANS spans. A core's first span must hold its boot structures
 * (core_min); a tail of a piece too small for that, met when a core starts, is skipped and
 * counted as unused. Cost: O(ranges + cores).
 */
#include <isle/errno.h>
#include <string.h>
#include "kernel/memplan.h"
#include "kernel/printf.h"

/* Piece k of the RAM: range k / 2, below (k even) or above (k odd) the shared region, in
 * whole granules. An empty piece has len 0. */
static struct phys_range piece(const struct memplan_req *req, uint64_t shared_base, unsigned k)
{
	const struct phys_range *r = &req->ram[k / 2];
	uint64_t lo = r->base, hi = r->base + r->len;
	uint64_t s_lo = shared_base, s_hi = shared_base + req->shared_bytes;
	bool cut = s_lo < hi && s_hi > lo;

	if (k % 2 == 0) {
		if (cut)
			hi = s_lo;
	} else {
		if (!cut)
			return (struct phys_range){ 0, 0 };
		lo = s_hi;
	}
	lo = ALIGN_UP(lo, MEMPLAN_GRANULE);
	hi = ALIGN_DOWN(hi, MEMPLAN_GRANULE);
	if (hi <= lo)
		return (struct phys_range){ lo, 0 };
	return (struct phys_range){ lo, hi - lo };
}

static int find_shared(const struct memplan_req *req, uint64_t *base)
{
	for (unsigned i = 0; i < req->nram; i++) {
		const struct phys_range *r = &req->ram[i];
		uint64_t s = ALIGN_UP(r->base, (uint64_t)4096);
		uint64_t e = MIN(r->base + r->len, req->shared_limit);
		if (s < e && e - s >= req->shared_bytes) {
			*base = s;
			return 0;
		}
	}
	return -ENOMEM;
}

/* Appends [base, base + len) to a core's share, joining it to the last span if they touch. */
static void share_add(struct core_share *cs, uint64_t base, uint64_t len)
{
	struct phys_range *last = cs->nspans ? &cs->span[cs->nspans - 1] : NULL;
	if (last && last->base + last->len == base)
		last->len += len;
	else
		cs->span[cs->nspans++] = (struct phys_range){ base, len };
	cs->bytes += len;
}

int memplan(const struct memplan_req *req, struct memplan *out, char *err, size_t errlen)
{
	struct core_share *core = out->core;
	unsigned npieces = 2 * req->nram, k = 0;
	uint64_t off = 0, remaining = 0;

	memset(out, 0, sizeof(*out));
	out->core = core;
	memset(core, 0, sizeof(*core) * req->ncores);
	if (err && errlen)
		err[0] = '\0';
	if (find_shared(req, &out->shared_base) < 0) {
		ksnprintf(err, errlen, "no room for the %lu KiB shared region below %#lx",
		          req->shared_bytes >> 10, req->shared_limit);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < npieces; i++)
		remaining += piece(req, out->shared_base, i).len;

	for (unsigned c = 0; c < req->ncores; c++) {
		struct core_share *cs = &core[c];
		uint64_t want = c == req->ncores - 1 ? remaining
		                                     : ALIGN_DOWN(remaining / (req->ncores - c),
		                                                  MEMPLAN_GRANULE);
		while (want > 0 && cs->nspans < MEMPLAN_MAX_SPANS && k < npieces) {
			struct phys_range p = piece(req, out->shared_base, k);
			if (off >= p.len) {
				k++;
				off = 0;
				continue;
			}
			uint64_t avail = p.len - off;
			if (cs->nspans == 0 && avail < req->core_min) {
				out->unused += avail; /* too small to start a core in */
				remaining -= avail;
				k++;
				off = 0;
				continue;
			}
			uint64_t take = MIN(avail, want);
			share_add(cs, p.base + off, take);
			off += take;
			want -= take;
			remaining -= take;
		}
		/* The largest span first: the core's boot structures go there. */
		unsigned big = 0;
		for (unsigned s = 1; s < cs->nspans; s++)
			if (cs->span[s].len > cs->span[big].len)
				big = s;
		if (cs->nspans == 0 || cs->span[big].len < req->core_min) {
			ksnprintf(
			        err, errlen,
			        "not enough RAM for %u cores: core %u gets %lu MiB, needs at least "
			        "%lu MiB in one piece",
			        req->ncores, c, cs->bytes >> 20,
			        (req->core_min + MEMPLAN_GRANULE - 1) >> 20);
			return -ENOMEM;
		}
		struct phys_range t = cs->span[0];
		cs->span[0] = cs->span[big];
		cs->span[big] = t;
		out->total += cs->bytes;
		for (unsigned s = 0; s < cs->nspans; s++)
			out->ram_end = MAX(out->ram_end, cs->span[s].base + cs->span[s].len);
	}
	out->unused += remaining;
	return 0;
}

void memplan_owner_fill(const struct memplan *p, unsigned ncores, uint16_t *owner)
{
	size_t n = memplan_owner_entries(p);
	for (size_t g = 0; g < n; g++)
		owner[g] = MEMPLAN_NO_OWNER;
	for (unsigned c = 0; c < ncores; c++) {
		const struct core_share *cs = &p->core[c];
		for (unsigned s = 0; s < cs->nspans; s++) {
			uint64_t g = cs->span[s].base >> MEMPLAN_GRANULE_SHIFT;
			uint64_t end =
			        (cs->span[s].base + cs->span[s].len) >> MEMPLAN_GRANULE_SHIFT;
			for (; g < end; g++)
				owner[g] = (uint16_t)c;
		}
	}
}
