/*
 * test_proftab.c - host tests of the profiler's frame-pointer walk and stack table
 * (kernel/proftab.c): a walk follows a good chain and stops at every kind of bad frame (outside
 * the stack, misaligned, crossing the stack's top, going down, a return address outside text,
 * the depth limit); the caller of a frameless function is found through a direct call to it, and
 * only then; 100,000 walks from random frame pointers through random stack contents read
 * nothing outside the stack (AddressSanitizer watches the exact-size stack buffer); the table
 * counts identical stacks once, tells depths apart, loses what does not fit and says so, and
 * agrees with a reference model on random stacks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/proftab.h"
#include "tests/unit/test.h"

#define TEXT_LO 0x1000u
#define TEXT_HI 0x2000u

/* A fake stack of n words on the heap, so that AddressSanitizer sees any read past it. */
static uint64_t *stack_new(size_t n, struct proftab_bounds *b)
{
	uint64_t *s = calloc(n, sizeof(uint64_t));
	b->stack_lo = (uintptr_t)s;
	b->stack_hi = (uintptr_t)(s + n);
	b->text_lo = TEXT_LO;
	b->text_hi = TEXT_HI;
	b->func_of = NULL;
	return s;
}

/* Puts a frame at word i: saved rbp (the address of word `up`, or a raw value), return address. */
static void frame_at(uint64_t *s, size_t i, uint64_t next, uint64_t ret)
{
	s[i] = next;
	s[i + 1] = ret;
}

static uint64_t addr(uint64_t *s, size_t i)
{
	return (uintptr_t)&s[i];
}

TEST(walk_follows_a_chain)
{
	struct proftab_bounds b;
	uint64_t *s = stack_new(64, &b), pc[PROFTAB_DEPTH];
	frame_at(s, 4, addr(s, 10), 0x1100);
	frame_at(s, 10, addr(s, 20), 0x1200);
	frame_at(s, 20, 0, 0x1300); /* outermost: saved rbp 0 */
	unsigned n = proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 4), &b);
	CHECK_EQ(n, 4);
	CHECK_EQ(pc[0], 0x1010);
	CHECK_EQ(pc[1], 0x1100);
	CHECK_EQ(pc[2], 0x1200);
	CHECK_EQ(pc[3], 0x1300);
	free(s);
}

TEST(walk_stops_at_bad_frames)
{
	struct proftab_bounds b;
	uint64_t *s = stack_new(64, &b), pc[PROFTAB_DEPTH];
	/* rip outside text is kept as 0; rbp outside the stack reads nothing */
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x3000, addr(s, 0) - 16, &b), 1);
	CHECK_EQ(pc[0], 0);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, b.stack_hi, &b), 1);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, 0, &b), 1);
	/* misaligned */
	frame_at(s, 4, addr(s, 10), 0x1100);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 4) + 4, &b), 1);
	/* a frame whose return address would lie past the top */
	s[63] = addr(s, 4);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 63), &b), 1);
	/* return address outside text: the walk ends before it */
	frame_at(s, 10, addr(s, 20), 0x5000);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 4), &b), 2);
	/* a chain that goes down, or loops on itself, ends after the frame that points back */
	frame_at(s, 10, addr(s, 4), 0x1200);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 4), &b), 3);
	frame_at(s, 10, addr(s, 10), 0x1200);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 4), &b), 3);
	/* unknown stack (stack_hi 0): only the sampled address */
	struct proftab_bounds nb = b;
	nb.stack_lo = nb.stack_hi = 0;
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 4), &nb), 1);
	/* a walk never reads below the interrupted stack pointer */
	nb = b;
	nb.stack_lo = addr(s, 8);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 4), &nb), 1);
	free(s);
}

TEST(walk_depth_limit)
{
	struct proftab_bounds b;
	uint64_t *s = stack_new(256, &b), pc[PROFTAB_DEPTH + 4];
	for (size_t i = 0; i + 2 < 256; i += 2)
		frame_at(s, i, addr(s, i + 2), 0x1000 + i);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, 0x1010, addr(s, 0), &b), PROFTAB_DEPTH);
	CHECK_EQ(pc[PROFTAB_DEPTH - 1], 0x1000 + 2 * (PROFTAB_DEPTH - 2));
	CHECK_EQ(proftab_walk(pc, 3, 0x1010, addr(s, 0), &b), 3);
	CHECK_EQ(proftab_walk(pc, 0, 0x1010, addr(s, 0), &b), 0);
	free(s);
}

/* A fake text: function F at offset 0x100 (frameless), called directly at 0x40 (return
 * address 0x45) and at 0x80 by something else; func_of knows where F starts. */
static uint8_t *text;

static uint64_t text_func_of(uint64_t pc)
{
	uint64_t base = (uintptr_t)text;
	return pc >= base + 0x100 && pc < base + 0x140 ? base + 0x100 : 0;
}

static void put_call(size_t at, size_t target)
{
	int32_t rel = (int32_t)target - (int32_t)(at + 5);
	text[at] = 0xE8;
	memcpy(&text[at + 1], &rel, 4);
}

TEST(walk_finds_the_caller_of_a_frameless_function)
{
	struct proftab_bounds b;
	uint64_t *s = stack_new(64, &b), pc[PROFTAB_DEPTH];
	text = calloc(0x200, 1);
	uint64_t base = (uintptr_t)text;
	b.text_lo = base;
	b.text_hi = base + 0x200;
	b.func_of = text_func_of;
	put_call(0x40, 0x100); /* call F */
	put_call(0x80, 0x180); /* call something else */
	/* F interrupted with no frame: [rsp] is its return address, rbp the caller's frame */
	s[0] = base + 0x45;
	frame_at(s, 4, addr(s, 10), base + 0x1A0);
	frame_at(s, 10, 0, base + 0x1B0);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, base + 0x110, addr(s, 4), &b), 4);
	CHECK_EQ(pc[1], base + 0x45);
	CHECK_EQ(pc[2], base + 0x1A0);
	/* a return address after a call of another function is not F's caller */
	s[0] = base + 0x85;
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, base + 0x110, addr(s, 4), &b), 3);
	CHECK_EQ(pc[1], base + 0x1A0);
	/* nor is a text address that follows no call, nor one at the very start of text */
	s[0] = base + 0x30;
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, base + 0x110, addr(s, 4), &b), 3);
	s[0] = base + 0x2;
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, base + 0x110, addr(s, 4), &b), 3);
	/* rip in another function (or func_of unknown): no look at [rsp] */
	s[0] = base + 0x45;
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, base + 0x150, addr(s, 4), &b), 3);
	b.func_of = NULL;
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, base + 0x110, addr(s, 4), &b), 3);
	b.func_of = text_func_of;
	/* the chain's first return address equal to the one found at [rsp] is kept once */
	frame_at(s, 4, addr(s, 10), base + 0x45);
	CHECK_EQ(proftab_walk(pc, PROFTAB_DEPTH, base + 0x110, addr(s, 4), &b), 3);
	CHECK_EQ(pc[1], base + 0x45);
	CHECK_EQ(pc[2], base + 0x1B0);
	/* depth 2: the sampled address and the frameless caller */
	CHECK_EQ(proftab_walk(pc, 2, base + 0x110, addr(s, 4), &b), 2);
	free(text);
	free(s);
}

/* Functions of 64 bytes each in the random text below. */
static uint64_t block_func_of(uint64_t pc)
{
	return (uintptr_t)text + ((pc - (uintptr_t)text) & ~63ull);
}

/* Random stack contents (some words point into the stack, some into text) over random text
 * (with calls now and then) and random starting points: whatever the chain, nothing outside
 * the stack or the text is read (ASan watches both buffers) and the walk returns a sane
 * depth. */
TEST(walk_random_never_reads_outside)
{
	enum { TEXT_SIZE = 0x400 };
	text = malloc(TEXT_SIZE);
	for (size_t i = 0; i < TEXT_SIZE; i++)
		text[i] = test_rng() % 8 ? (uint8_t)test_rng() : 0xE8;
	uint64_t lo = (uintptr_t)text, hi = lo + TEXT_SIZE;
	for (int round = 0; round < 100000; round++) {
		struct proftab_bounds b;
		size_t n = 2 + test_rng() % 40;
		uint64_t *s = stack_new(n, &b), pc[PROFTAB_DEPTH];
		b.text_lo = lo;
		b.text_hi = hi;
		b.func_of = block_func_of;
		for (size_t i = 0; i < n; i++) {
			switch (test_rng() % 4) {
			case 0:
				s[i] = b.stack_lo + test_rng() % (n * 8 + 16) - 8;
				break;
			case 1:
				s[i] = lo + test_rng() % (TEXT_SIZE + 64);
				break;
			case 2:
				s[i] = b.stack_lo + (test_rng() % n) * 8;
				break;
			default:
				s[i] = test_rng();
			}
		}
		uint64_t rbp = b.stack_lo + test_rng() % (n * 8 + 32) - 16;
		uint64_t rip = lo + test_rng() % (TEXT_SIZE + 16);
		if (test_rng() % 2) /* a stack pointer above the stack, or misaligned */
			b.stack_lo += test_rng() % 2 ? n * 8 : 4;
		unsigned d = proftab_walk(pc, PROFTAB_DEPTH, rip, rbp, &b);
		CHECK(d >= 1 && d <= PROFTAB_DEPTH);
		for (unsigned i = 1; i < d; i++)
			CHECK(pc[i] >= lo && pc[i] < hi);
		free(s);
		if (test_failed_)
			break;
	}
	free(text);
}

TEST(table_counts_identical_stacks)
{
	struct proftab t;
	struct proftab_stack slots[16] = { 0 };
	proftab_init(&t, slots, 16);
	uint64_t a[3] = { 0x1010, 0x1100, 0x1200 }, b2[3] = { 0x1010, 0x1100, 0x1300 };
	for (int i = 0; i < 5; i++)
		CHECK(proftab_add(&t, a, 3));
	CHECK(proftab_add(&t, b2, 3));
	CHECK(proftab_add(&t, a, 2)); /* a prefix is another stack */
	CHECK_EQ(t.used, 3);
	CHECK_EQ(t.lost, 0);
	unsigned found = 0;
	for (unsigned i = 0; i < 16; i++) {
		if (slots[i].depth == 3 && slots[i].pc[2] == 0x1200) {
			CHECK_EQ(slots[i].count, 5);
			found++;
		}
		if (slots[i].depth == 2)
			CHECK_EQ(slots[i].count, 1);
	}
	CHECK_EQ(found, 1);
	CHECK(!proftab_add(&t, a, 0));
	CHECK(!proftab_add(&t, a, PROFTAB_DEPTH + 1));
	CHECK_EQ(t.lost, 2);
}

TEST(table_full_loses_and_counts)
{
	struct proftab t;
	struct proftab_stack slots[8] = { 0 };
	proftab_init(&t, slots, 8);
	uint64_t pc[1];
	for (uint64_t i = 0; i < 8; i++) {
		pc[0] = 0x1000 + i;
		CHECK(proftab_add(&t, pc, 1));
	}
	CHECK_EQ(t.used, 8);
	pc[0] = 0x1800;
	CHECK(!proftab_add(&t, pc, 1));
	CHECK(!proftab_add(&t, pc, 1));
	CHECK_EQ(t.lost, 2);
	pc[0] = 0x1003; /* one already there still counts */
	CHECK(proftab_add(&t, pc, 1));
	CHECK_EQ(t.lost, 2);
	/* a count saturates instead of wrapping */
	for (unsigned i = 0; i < 8; i++)
		if (slots[i].pc[0] == 0x1003)
			slots[i].count = UINT32_MAX;
	CHECK(proftab_add(&t, pc, 1));
	for (unsigned i = 0; i < 8; i++)
		if (slots[i].pc[0] == 0x1003)
			CHECK_EQ(slots[i].count, UINT32_MAX);
}

/* 200,000 samples from 3,000 random stacks into 1,024 slots: every sample is either counted in
 * the slot of its stack (as a plain list says) or lost, and the two add up. */
TEST(table_random_against_model)
{
	enum { NSTACKS = 3000, NSLOTS = 1024, NSAMPLES = 200000 };
	static uint64_t stacks[NSTACKS][PROFTAB_DEPTH];
	static unsigned depth[NSTACKS], want[NSTACKS];
	static struct proftab_stack slots[NSLOTS];
	struct proftab t;
	proftab_init(&t, slots, NSLOTS);
	for (unsigned i = 0; i < NSTACKS; i++) {
		depth[i] = 1 + test_rng() % PROFTAB_DEPTH;
		for (unsigned j = 0; j < depth[i]; j++)
			stacks[i][j] = TEXT_LO +
			               test_rng() % 64; /* small alphabet: many shared prefixes */
		stacks[i][0] = TEXT_LO + i;             /* but every stack distinct */
	}
	uint64_t lost = 0;
	for (unsigned k = 0; k < NSAMPLES; k++) {
		unsigned i = (unsigned)(test_rng() % NSTACKS);
		if (proftab_add(&t, stacks[i], depth[i]))
			want[i]++;
		else
			lost++;
	}
	CHECK_EQ(t.lost, lost);
	uint64_t total = 0, used = 0;
	for (unsigned s = 0; s < NSLOTS; s++) {
		if (!slots[s].depth)
			continue;
		used++;
		total += slots[s].count;
		unsigned i = (unsigned)(slots[s].pc[0] - TEXT_LO);
		REQUIRE(i < NSTACKS);
		CHECK_EQ(slots[s].depth, depth[i]);
		CHECK(memcmp(slots[s].pc, stacks[i], depth[i] * sizeof(uint64_t)) == 0);
		CHECK_EQ(slots[s].count, want[i]);
	}
	CHECK_EQ(used, t.used);
	CHECK_EQ(total + lost, NSAMPLES);
	CHECK(used > NSLOTS * 3 / 4); /* the probe limit still lets the table fill up */
}

int main(void)
{
	RUN(walk_follows_a_chain);
	RUN(walk_stops_at_bad_frames);
	RUN(walk_depth_limit);
	RUN(walk_finds_the_caller_of_a_frameless_function);
	RUN(walk_random_never_reads_outside);
	RUN(table_counts_identical_stacks);
	RUN(table_full_loses_and_counts);
	RUN(table_random_against_model);
	TEST_EXIT();
}
