/*
 * plain.h - an ordinary C library with plain globals, linked into the guest tests as
 * libplain_percore.a. The archive name alone makes its .data/.bss per-core (see
 * arch/x86_64/linker.ld): every core gets its own copy of these globals.
 */
#ifndef ISLE_TEST_PLAIN_H
#define ISLE_TEST_PLAIN_H

#define PLAIN_INIT 12345 /* initial value of the initialized global */
#define PLAIN_ARRAY 64   /* entries in the zero-initialized global array */

void plain_add(int delta);       /* adds delta to the global and to every array entry */
int plain_value(void);           /* the initialized global */
int plain_array_get(unsigned i); /* entry i of the zero global array */
int plain_array_sum(void);       /* sum of the array */
const void *plain_address(void); /* address of the global (the same on every core) */

#endif
