/*
 * ctype.h - character classes of the C locale (plain ASCII), as static inline functions.
 *
 * As in C, the argument MUST be EOF (-1) or a value of unsigned char; anything else, including
 * a negative plain char, simply belongs to no class (there is no table to index out of).
 * Characters 128..255 belong to no class either. Any context.
 */
#ifndef ISLE_LIBC_CTYPE_H
#define ISLE_LIBC_CTYPE_H

#ifndef EOF
#define EOF (-1)
#endif

static inline int isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int isupper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static inline int islower(int c)
{
	return c >= 'a' && c <= 'z';
}

static inline int isalpha(int c)
{
	return isupper(c) || islower(c);
}

static inline int isalnum(int c)
{
	return isalpha(c) || isdigit(c);
}

static inline int isxdigit(int c)
{
	return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* ' ', '\t', '\n', '\v', '\f', '\r' */
static inline int isspace(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Everything from ' ' to '~', including the space. */
static inline int isprint(int c)
{
	return c >= ' ' && c <= '~';
}

/* Printable, not a space, not a letter or digit. */
static inline int ispunct(int c)
{
	return isprint(c) && c != ' ' && !isalnum(c);
}

static inline int toupper(int c)
{
	return islower(c) ? c - 'a' + 'A' : c;
}

static inline int tolower(int c)
{
	return isupper(c) ? c - 'A' + 'a' : c;
}

#endif
