/*
 * fakemem.h - a fake physical memory for the firmware-parser tests (ACPI, PVH).
 *
 * fake_map() hands out a fresh heap copy of exactly the bytes asked for, so AddressSanitizer
 * catches any read past a range the parser was given; fake_release() frees the copies.
 */
#ifndef ISLE_TEST_FAKEMEM_H
#define ISLE_TEST_FAKEMEM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fakerand.h"

struct copy {
	struct copy *next; /* older copies */
	uint8_t data[];    /* exactly the mapped bytes */
};

static uint8_t *mem;        /* the fake physical memory */
static size_t mem_size;     /* its size; addresses at or above are not accessible */
static struct copy *copies; /* every range handed out by fake_map since the last release */

static const void *fake_map(uint64_t phys, size_t len, void *ctx)
{
	struct copy *c;

	(void)ctx;
	if (phys > mem_size || len > mem_size - phys)
		return NULL;
	c = malloc(sizeof(*c) + (len ? len : 1));
	if (c == NULL)
		abort();
	memcpy(c->data, mem + phys, len);
	c->next = copies;
	copies = c;
	return c->data;
}

static void fake_release(void)
{
	while (copies != NULL) {
		struct copy *c = copies;

		copies = c->next;
		free(c);
	}
}

static void mem_new(size_t size)
{
	free(mem);
	mem = calloc(1, size);
	if (mem == NULL)
		abort();
	mem_size = size;
}

/* Little-endian stores into, and a load from, the fake memory. */
static inline void w8(uint64_t a, uint8_t v)
{
	mem[a] = v;
}

static inline void w16(uint64_t a, uint16_t v)
{
	memcpy(mem + a, &v, sizeof(v));
}

static inline void w32(uint64_t a, uint32_t v)
{
	memcpy(mem + a, &v, sizeof(v));
}

static inline void w64(uint64_t a, uint64_t v)
{
	memcpy(mem + a, &v, sizeof(v));
}

static inline uint32_t r32(uint64_t a)
{
	uint32_t v;

	memcpy(&v, mem + a, sizeof(v));
	return v;
}

/* ---- random mutation -------------------------------------------------------------------- */

/* A range of the fake memory a mutation may hit. */
struct fake_area {
	uint64_t at;  /* first byte */
	uint32_t len; /* bytes */
};

/* Copies pristine (size bytes) into mem and flips 1..6 bytes inside the areas: one bit, or one
 * time in four the whole byte. */
static inline void fake_mutate(const uint8_t *pristine, size_t size, const struct fake_area *areas,
                               unsigned nareas)
{
	unsigned flips = 1 + rnd(6);

	memcpy(mem, pristine, size);
	for (unsigned k = 0; k < flips; k++) {
		unsigned which = rnd(nareas);
		uint64_t a = areas[which].at + rnd(areas[which].len ? areas[which].len : 1);

		if (rnd(4) == 0)
			mem[a] = (uint8_t)rnd(256);
		else
			mem[a] ^= (uint8_t)(1u << rnd(8));
	}
}

#endif
