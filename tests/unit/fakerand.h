/*
 * fakerand.h - the fixed pseudo-random sequence the host tests draw from (every run the same,
 * so a failure can be repeated): the fake-memory mutations (fakemem.h) and the misbehaving
 * virtio device (test_virtq.c).
 */
#ifndef ISLE_TEST_FAKERAND_H
#define ISLE_TEST_FAKERAND_H

#include <stdint.h>

static uint64_t fake_rng = 0x2545f4914f6cdd1dull; /* xorshift64 state; a test may reseed it */

/* A pseudo-random number below n. */
static inline uint32_t rnd(uint32_t n)
{
	fake_rng ^= fake_rng << 13;
	fake_rng ^= fake_rng >> 7;
	fake_rng ^= fake_rng << 17;
	return (uint32_t)(fake_rng % n);
}

#endif
