/*
 * plain.c - deliberately ordinary C: an initialized global and a zero global array, nothing
 * isle-specific. Linked as libplain_percore.a, it becomes one private instance per core.
 */
#include "plain.h"

int plain_global = PLAIN_INIT;
int plain_zeroes[PLAIN_ARRAY];

void plain_add(int delta)
{
	plain_global += delta;
	for (unsigned i = 0; i < PLAIN_ARRAY; i++)
		plain_zeroes[i] += delta * (int)(i + 1);
}

int plain_value(void)
{
	return plain_global;
}

int plain_array_get(unsigned i)
{
	return i < PLAIN_ARRAY ? plain_zeroes[i] : 0;
}

int plain_array_sum(void)
{
	int s = 0;
	for (unsigned i = 0; i < PLAIN_ARRAY; i++)
		s += plain_zeroes[i];
	return s;
}

const void *plain_address(void)
{
	return &plain_global;
}
