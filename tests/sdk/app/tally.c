/* tally.c - plain globals; per-core only because of the archive's name (lib*_percore.a). */
#include "tally.h"

static unsigned total;

void tally_add(unsigned n)
{
	total += n;
}

const unsigned *tally_address(void)
{
	return &total;
}
