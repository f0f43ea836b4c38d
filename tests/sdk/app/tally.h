/* tally - a library of the application's own, with plain globals: linked as
 * libtally_percore.a, every core gets its own copy of them (isle/percore.h). */
#ifndef TALLY_H
#define TALLY_H

void tally_add(unsigned n);
const unsigned *tally_address(void); /* the calling core's copy */

#endif
