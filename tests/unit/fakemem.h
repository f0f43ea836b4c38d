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

#endif
