/*
 * arg_num.h - the "name=N" arguments of the benchmark examples (netbench, pingpong).
 */
#ifndef EXAMPLES_ARG_NUM_H
#define EXAMPLES_ARG_NUM_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * If a is "name=N": N must be a decimal number in min..max, stored in *out, and the answer is
 * true; a bad N ends the program with a message naming app. Any other a: false.
 */
static inline bool arg_num(const char *app, const char *a, const char *name, unsigned long min,
                           unsigned long max, unsigned long *out)
{
	size_t len = strlen(name);
	if (strncmp(a, name, len) != 0 || a[len] != '=')
		return false;
	char *end;
	unsigned long v = strtoul(a + len + 1, &end, 10);
	if (*end || end == a + len + 1 || v < min || v > max) {
		printf("%s: bad value in '%s' (%lu..%lu)\n", app, a, min, max);
		exit(EXIT_FAILURE);
	}
	*out = v;
	return true;
}

#endif
