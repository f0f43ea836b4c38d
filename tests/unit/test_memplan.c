/*
 * test_memplan.c - host tests of the memory planner and the owner table (kernel/memplan.c).
 *
 * The maps are the ones QEMU gives (q35, pc and microvm with RAM above 4 GiB and the PCI
 * hole), a map of many small entries, a 512 GiB VM with 255 cores, and random maps checked
 * against the planner's promises: spans inside the RAM, disjoint, clear of the shared region,
 * granule aligned, at most MEMPLAN_MAX_SPANS per core, every byte accounted for, and the
 * owner table naming the core of every address.
 */
#include "kernel/memplan.h"

#include <isle/errno.h>
#include <stdint.h>

#include "tests/unit/test.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define MAXC 256

static struct core_share shares[MAXC];

/* The usable RAM of a QEMU VM with `ram` bytes whose low part ends at `low_end`; isle's image
 * ends at 2 MiB. */
static unsigned qemu_map(struct phys_range *r, uint64_t ram, uint64_t low_end)
{
	if (ram <= low_end) {
		r[0] = (struct phys_range){ 2 * MiB, ram - 2 * MiB };
		return 1;
	}
	r[0] = (struct phys_range){ 2 * MiB, low_end - 2 * MiB };
	r[1] = (struct phys_range){ 4 * GiB, ram - low_end };
	return 2;
}

static uint64_t sum(const struct phys_range *r, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += r[i].len;
	return s;
}

/* Every promise of memplan() for a successful plan; returns the number of broken ones. */
static int check_plan(const struct memplan_req *q, const struct memplan *p)
{
	int bad = 0;
	uint64_t total = 0;
	/* The shared region lies in the RAM, below the limit. */
	bool in_ram = false;
	for (unsigned i = 0; i < q->nram; i++)
		if (p->shared_base >= q->ram[i].base &&
		    p->shared_base + q->shared_bytes <= q->ram[i].base + q->ram[i].len)
			in_ram = true;
	bad += !in_ram;
	bad += p->shared_base + q->shared_bytes > q->shared_limit;
	bad += p->shared_base % 4096 != 0;
	for (unsigned c = 0; c < q->ncores; c++) {
		const struct core_share *cs = &p->core[c];
		uint64_t bytes = 0;
		bad += cs->nspans < 1 || cs->nspans > MEMPLAN_MAX_SPANS;
		bad += cs->span[0].len < q->core_min;
		for (unsigned s = 0; s < cs->nspans; s++) {
			const struct phys_range *sp = &cs->span[s];
			bytes += sp->len;
			bad += sp->len == 0 || sp->base % MEMPLAN_GRANULE ||
			       sp->len % MEMPLAN_GRANULE;
			bad += sp->len > cs->span[0].len;
			bad += sp->base + sp->len > p->ram_end;
			/* inside one RAM range, clear of the shared region */
			bool inside = false;
			for (unsigned i = 0; i < q->nram; i++)
				if (sp->base >= q->ram[i].base &&
				    sp->base + sp->len <= q->ram[i].base + q->ram[i].len)
					inside = true;
			bad += !inside;
			bad += sp->base < p->shared_base + q->shared_bytes &&
			       p->shared_base < sp->base + sp->len;
			/* disjoint from every other span of every core */
			for (unsigned d = 0; d <= c; d++)
				for (unsigned t = 0; t < p->core[d].nspans; t++) {
					const struct phys_range *o = &p->core[d].span[t];
					if (d == c && t == s)
						continue;
					bad += o->base < sp->base + sp->len &&
					       sp->base < o->base + o->len;
				}
		}
		bad += bytes != cs->bytes;
		total += bytes;
	}
	bad += total != p->total;
	/* Every usable byte is a core's, unused, shared, or lost to granule rounding (at most two
	 * granules per piece). */
	uint64_t ram = sum(q->ram, q->nram);
	uint64_t accounted = p->total + p->unused + q->shared_bytes;
	bad += accounted > ram;
	bad += ram - accounted > 2 * MEMPLAN_GRANULE * (2 * q->nram);
	if (bad)
		fprintf(stderr, "  plan of %u cores over %u ranges breaks %d promises\n", q->ncores,
		        q->nram, bad);
	return bad;
}

/* The owner table agrees with the spans, address by address at every span edge and hole. */
static int check_owner(const struct memplan *p, unsigned ncores)
{
	size_t n = memplan_owner_entries(p);
	uint16_t *owner = malloc(n * sizeof(*owner) + 1);
	int bad = 0;
	if (!owner)
		exit(1);
	memplan_owner_fill(p, ncores, owner);
	size_t owned = 0;
	for (size_t g = 0; g < n; g++)
		owned += owner[g] != MEMPLAN_NO_OWNER;
	bad += owned * MEMPLAN_GRANULE != p->total;
	for (unsigned c = 0; c < ncores; c++)
		for (unsigned s = 0; s < p->core[c].nspans; s++) {
			const struct phys_range *sp = &p->core[c].span[s];
			bad += memplan_owner(owner, n, sp->base) != (int)c;
			bad += memplan_owner(owner, n, sp->base + sp->len - 1) != (int)c;
			bad += memplan_owner(owner, n, sp->base + sp->len / 2) != (int)c;
		}
	bad += memplan_owner(owner, n, 0) != -1;
	bad += memplan_owner(owner, n, p->shared_base) != -1;
	bad += memplan_owner(owner, n, p->ram_end) != -1;
	bad += memplan_owner(owner, n, UINT64_MAX) != -1;
	free(owner);
	return bad;
}

static int plan(const struct phys_range *ram, unsigned nram, unsigned ncores, struct memplan *p,
                char *err)
{
	struct memplan_req q = { .ram = ram,
		                 .nram = nram,
		                 .ncores = ncores,
		                 .shared_bytes = 8 * MiB + (uint64_t)ncores * ncores * 1216,
		                 .shared_limit = 4 * GiB,
		                 .core_min = 4 * MiB };
	q.shared_bytes = (q.shared_bytes + 4095) & ~4095ull;
	p->core = shares;
	int rc = memplan(&q, p, err, 160);
	if (rc == 0) {
		CHECK_EQ(check_plan(&q, p), 0);
		CHECK_EQ(check_owner(p, ncores), 0);
	}
	return rc;
}

/* q35, pc and microvm at 4, 8 and 16 GiB (and 256 MiB): all RAM goes to the cores, above
 * 4 GiB too, in shares equal to within a few granules. */
TEST(qemu_machines)
{
	const struct {
		const char *name;
		uint64_t low_end; /* where QEMU ends the RAM below the PCI hole */
	} machines[] = { { "q35", 2 * GiB }, { "pc", 3 * GiB }, { "microvm", 3 * GiB } };
	const uint64_t sizes[] = { 256 * MiB, 4 * GiB, 8 * GiB, 16 * GiB };
	const unsigned cores[] = { 1, 2, 3, 4, 7, 64 };
	for (unsigned m = 0; m < 3; m++)
		for (unsigned s = 0; s < 4; s++)
			for (unsigned c = 0; c < 6; c++) {
				struct phys_range ram[2];
				unsigned n = qemu_map(ram, sizes[s], machines[m].low_end);
				struct memplan p;
				char err[160];
				int rc = plan(ram, n, cores[c], &p, err);
				if (sizes[s] == 256 * MiB && cores[c] == 64) {
					CHECK_EQ(rc, -ENOMEM); /* 4 MiB each does not fit */
					continue;
				}
				REQUIRE(rc == 0);
				uint64_t usable = sum(ram, n);
				/* all of it, but for the shared region and a granule per piece */
				CHECK(p.total + 8 * MiB + 4 * MiB * 4 * 1024 >= usable ||
				      p.total >= usable - usable / 50);
				CHECK(p.unused <= 2 * MEMPLAN_GRANULE);
				uint64_t fair = p.total / cores[c];
				for (unsigned k = 0; k + 1 < cores[c]; k++)
					CHECK(shares[k].bytes + MEMPLAN_GRANULE >= fair &&
					      shares[k].bytes <= fair + MEMPLAN_GRANULE);
				if (sizes[s] > machines[m].low_end) /* the high RAM is used */
					CHECK(p.ram_end ==
					      4 * GiB + sizes[s] - machines[m].low_end);
			}
}

/* 4 GiB on q35, 2 cores: core 0 has the RAM below the hole (and a little above), core 1 the
 * rest above, in one span. */
TEST(q35_4g_two_cores)
{
	struct phys_range ram[2];
	unsigned n = qemu_map(ram, 4 * GiB, 2 * GiB);
	struct memplan p;
	char err[160];
	REQUIRE(plan(ram, n, 2, &p, err) == 0);
	CHECK(p.shared_base == 2 * MiB);
	CHECK(shares[0].nspans <= 2);
	CHECK(shares[0].span[0].base + shares[0].span[0].len <= 2 * GiB);
	CHECK_EQ(shares[1].nspans, 1);
	CHECK(shares[1].span[0].base >= 4 * GiB);
	CHECK_EQ(shares[1].span[0].base + shares[1].span[0].len, 6 * GiB);
}

/* A map of 120 small ranges (7 MiB with 1 MiB holes, after a first one of 64 MiB): all used, a
 * core takes up to 8. */
TEST(many_entries)
{
	struct phys_range ram[120];
	ram[0] = (struct phys_range){ 2 * MiB, 64 * MiB };
	for (unsigned i = 1; i < 120; i++)
		ram[i] = (struct phys_range){ 64 * MiB + i * 8 * MiB, 7 * MiB };
	struct memplan p;
	char err[160];
	for (unsigned c = 1; c <= 8; c++) {
		REQUIRE(plan(ram, 120, c, &p, err) == 0);
		for (unsigned k = 0; k < c; k++)
			CHECK(shares[k].nspans <= MEMPLAN_MAX_SPANS);
	}
	/* With 20 cores every core gets its 8 spans' worth at most: the rest is unused and said
	 * so, never lost silently. */
	REQUIRE(plan(ram, 120, 20, &p, err) == 0);
	CHECK(p.total + p.unused + p.total / 100 >= 119 * 6 * MiB);
}

/* 512 GiB with 255 cores (and 256): every core gets about 2 GiB, in one or two spans. */
TEST(big_vm)
{
	struct phys_range ram[2];
	unsigned n = qemu_map(ram, 512 * GiB, 2 * GiB);
	struct memplan p;
	char err[160];
	REQUIRE(plan(ram, n, 255, &p, err) == 0);
	for (unsigned c = 0; c < 255; c++) {
		CHECK(shares[c].bytes >= 2 * GiB - 64 * MiB);
		CHECK(shares[c].nspans <= 2);
	}
	CHECK(p.total >= sum(ram, n) - sum(ram, n) / 100);
	REQUIRE(plan(ram, n, 256, &p, err) == 0);
	CHECK_EQ(p.ram_end, 514 * GiB);
}

/* What cannot be planned is refused with a reason. */
TEST(refusals)
{
	struct phys_range ram[2];
	struct memplan p;
	char err[160];
	/* 128 MiB for 64 cores: less than 4 MiB each. */
	unsigned n = qemu_map(ram, 128 * MiB, 2 * GiB);
	CHECK_EQ(plan(ram, n, 64, &p, err), -ENOMEM);
	CHECK(strstr(err, "not enough RAM for 64 cores") != NULL);
	/* No room for the shared region below 4 GiB: the low RAM is 6 MiB. */
	ram[0] = (struct phys_range){ 2 * MiB, 6 * MiB };
	ram[1] = (struct phys_range){ 4 * GiB, 4 * GiB };
	CHECK_EQ(plan(ram, 2, 2, &p, err), -ENOMEM);
	CHECK(strstr(err, "shared region") != NULL);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random maps (1-128 ranges, odd sizes and holes, up to ~1 TiB) and core counts (1-256):
 * every plan keeps every promise, and every refusal says why. */
TEST(random_maps)
{
	static struct phys_range ram[128];
	unsigned plans = 0, refusals = 0;
	for (int it = 0; it < 3000; it++) {
		unsigned n = 1 + (unsigned)(rng() % 128);
		uint64_t at = 1 * MiB + (rng() % 64) * 4096;
		uint64_t scale = (rng() % 3 == 0) ? GiB : (rng() % 2 ? 64 * MiB : MiB);
		for (unsigned i = 0; i < n; i++) {
			uint64_t len = 4096 + (rng() % 16) * scale + (rng() % 512) * 4096;
			ram[i] = (struct phys_range){ at, len };
			at += len + 4096 + (rng() % 8) * scale;
		}
		unsigned ncores = 1 + (unsigned)(rng() % MAXC);
		struct memplan p;
		char err[160] = "";
		if (plan(ram, n, ncores, &p, err) == 0)
			plans++;
		else {
			refusals++;
			CHECK(err[0] != '\0');
		}
	}
	CHECK(plans > 100);
	CHECK(refusals > 100);
}

int main(void)
{
	RUN(qemu_machines);
	RUN(q35_4g_two_cores);
	RUN(many_entries);
	RUN(big_vm);
	RUN(refusals);
	RUN(random_maps);
	TEST_EXIT();
}
