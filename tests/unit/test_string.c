/*
 * test_string.c - host tests of kernel/string.c and include/libc/ctype.h.
 *
 * string.c is built here with -DISLE_HOST_STRING_TEST (see string.mk), which renames its
 * functions isle_memcpy, isle_strlen, ...; they are declared below and compared with glibc's,
 * which the test harness has already included. The word-at-a-time copies are tried at every
 * alignment of source and destination and for overlapping moves in both directions, with guard
 * bytes around the destination. The character classes have no glibc counterpart here (both
 * would claim the same names), so they are checked against the C standard's lists.
 */
#include <limits.h>
#include <errno.h>
#include <stdint.h>

#include "kernel/compiler.h"
#include "libc/ctype.h"
#include "tests/unit/test.h"

/* kernel/string.c under its test names; the signatures are those of include/libc/string.h. */
void *isle_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *isle_memmove(void *dst, const void *src, size_t n);
void *isle_memset(void *dst, int c, size_t n);
int isle_memcmp(const void *a, const void *b, size_t n);
void *isle_memchr(const void *s, int c, size_t n);
size_t isle_strlen(const char *s);
size_t isle_strnlen(const char *s, size_t maxlen);
int isle_strcmp(const char *a, const char *b);
int isle_strncmp(const char *a, const char *b, size_t n);
int isle_strcasecmp(const char *a, const char *b);
int isle_strncasecmp(const char *a, const char *b, size_t n);
char *isle_strchr(const char *s, int c);
char *isle_strrchr(const char *s, int c);
char *isle_strstr(const char *haystack, const char *needle);
char *isle_strcpy(char *restrict dst, const char *restrict src);
char *isle_strncpy(char *restrict dst, const char *restrict src, size_t n);
size_t isle_strlcpy(char *restrict dst, const char *restrict src, size_t size);
char *isle_strcat(char *restrict dst, const char *restrict src);
unsigned long isle_strtoul(const char *restrict s, char **restrict endptr, int base);
unsigned long long isle_strtoull(const char *restrict s, char **restrict endptr, int base);
long isle_strtol(const char *restrict s, char **restrict endptr, int base);
long long isle_strtoll(const char *restrict s, char **restrict endptr, int base);
int isle_atoi(const char *s);
const char *isle_strerror(int errnum);

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

/* A recognisable byte for position i, never 0. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 1) | 1;
}

TEST(memcpy_every_alignment)
{
	unsigned char src[128], dst[128], want[128];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = pattern(i);
	for (size_t so = 0; so < 16; so++)
		for (size_t d_o = 0; d_o < 16; d_o++)
			for (size_t n = 0; n <= 90; n++) {
				memset(dst, 0xee, sizeof(dst));
				memset(want, 0xee, sizeof(want));
				memcpy(want + d_o, src + so, n);
				REQUIRE(isle_memcpy(dst + d_o, src + so, n) == dst + d_o);
				REQUIRE(memcmp(dst, want, sizeof(dst)) == 0);
			}
}

TEST(memmove_overlapping)
{
	unsigned char buf[160], want[160];

	/* Source and destination inside one buffer: every shift either way, every alignment. */
	for (size_t so = 0; so < 40; so++)
		for (size_t d_o = 0; d_o < 40; d_o++)
			for (size_t n = 0; n <= 100; n += (n < 20 ? 1 : 7)) {
				for (size_t i = 0; i < sizeof(buf); i++)
					buf[i] = want[i] = pattern(i);
				memmove(want + d_o, want + so, n);
				REQUIRE(isle_memmove(buf + d_o, buf + so, n) == buf + d_o);
				REQUIRE(memcmp(buf, want, sizeof(buf)) == 0);
			}
}

TEST(memset_every_alignment)
{
	static const int values[] = { 0, 0x5a, 0xff, 0x1ab, -1 }; /* only the low byte counts */
	unsigned char buf[128], want[128];

	for (size_t v = 0; v < ARRAY_SIZE(values); v++)
		for (size_t off = 0; off < 16; off++)
			for (size_t n = 0; n <= 100; n++) {
				memset(buf, 0xee, sizeof(buf));
				memset(want, 0xee, sizeof(want));
				memset(want + off, values[v], n);
				REQUIRE(isle_memset(buf + off, values[v], n) == buf + off);
				REQUIRE(memcmp(buf, want, sizeof(buf)) == 0);
			}
}

TEST(memcmp_and_memchr)
{
	static const struct {
		const char *a, *b; /* compared */
		size_t n;          /* bytes both hold, with their NUL */
	} pairs[] = {
		{ "", "", 1 },         { "a", "a", 2 },       { "a", "b", 2 },
		{ "b", "a", 2 },       { "abc", "abd", 4 },   { "\x01", "\xff", 2 },
		{ "\xff", "\x01", 2 }, { "\x80", "\x7f", 2 }, { "same\0x", "same\0y", 7 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++)
		for (size_t n = 0; n <= pairs[i].n; n++)
			CHECK_EQ(sign(isle_memcmp(pairs[i].a, pairs[i].b, n)),
			         sign(memcmp(pairs[i].a, pairs[i].b, n)));

	const char s[] = "hello\0world\xff";
	CHECK(isle_memchr(s, 'l', sizeof(s)) == s + 2);
	CHECK(isle_memchr(s, 'w', sizeof(s)) == s + 6); /* past an embedded NUL */
	CHECK(isle_memchr(s, 'w', 6) == NULL);          /* but not past n */
	CHECK(isle_memchr(s, '\0', sizeof(s)) == s + 5);
	CHECK(isle_memchr(s, 0x1ff, sizeof(s)) == s + 11); /* c is converted to unsigned char */
	CHECK(isle_memchr(s, 'z', sizeof(s)) == NULL);
	CHECK(isle_memchr(NULL, 'z', 0) == NULL);
}

TEST(lengths)
{
	CHECK_EQ(isle_strlen(""), 0);
	CHECK_EQ(isle_strlen("a"), 1);
	CHECK_EQ(isle_strlen("hello, world"), 12);
	CHECK_EQ(isle_strnlen("hello", 0), 0);
	CHECK_EQ(isle_strnlen("hello", 3), 3);
	CHECK_EQ(isle_strnlen("hello", 5), 5);
	CHECK_EQ(isle_strnlen("hello", 99), 5);

	/* strnlen must not read past maxlen: this array has no NUL. */
	char raw[4] = { 'a', 'b', 'c', 'd' };
	CHECK_EQ(isle_strnlen(raw, sizeof(raw)), 4);
}

TEST(comparisons_match_glibc)
{
	static const char *const strings[] = {
		"",      "a",    "A",     "b",     "ab",     "aB",   "AB",   "abc",
		"abd",   "abcd", "Hello", "hello", "HELLO!", "\xff", "\x80", "\x7f",
		"a\xff", "[",    "_",     "`",     "@",      "Z",    "z",
	};

	for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
		for (size_t j = 0; j < ARRAY_SIZE(strings); j++) {
			const char *a = strings[i], *b = strings[j];

			CHECK_EQ(sign(isle_strcmp(a, b)), sign(strcmp(a, b)));
			CHECK_EQ(sign(isle_strcasecmp(a, b)), sign(strcasecmp(a, b)));
			for (size_t n = 0; n < 6; n++) {
				CHECK_EQ(sign(isle_strncmp(a, b, n)), sign(strncmp(a, b, n)));
				CHECK_EQ(sign(isle_strncasecmp(a, b, n)),
				         sign(strncasecmp(a, b, n)));
			}
		}
}

TEST(searching)
{
	const char *s = "one two three";

	CHECK(isle_strchr(s, 'o') == s);
	CHECK(isle_strchr(s, 't') == s + 4);
	CHECK(isle_strchr(s, 'x') == NULL);
	CHECK(isle_strchr(s, '\0') == s + 13);
	CHECK(isle_strrchr(s, 'o') == s + 6);
	CHECK(isle_strrchr(s, 'e') == s + 12);
	CHECK(isle_strrchr(s, 'x') == NULL);
	CHECK(isle_strrchr(s, '\0') == s + 13);
	CHECK(isle_strchr("\xff", 0xff) != NULL); /* c is converted to char */

	static const char *const hay[] = { "", "a", "abc", "aaab", "abababc", "hello world" };
	static const char *const needles[] = { "",    "a",     "b",     "ab",     "abc",
		                               "aab", "ababc", "world", "worlds", "x" };
	for (size_t i = 0; i < ARRAY_SIZE(hay); i++)
		for (size_t j = 0; j < ARRAY_SIZE(needles); j++)
			CHECK(isle_strstr(hay[i], needles[j]) == strstr(hay[i], needles[j]));
}

TEST(copies)
{
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	CHECK(isle_strcpy(buf, "hello") == buf);
	CHECK_STR(buf, "hello");
	CHECK_EQ(buf[6], 'x');
	CHECK(isle_strcat(buf, ", you") == buf);
	CHECK_STR(buf, "hello, you");
	CHECK(isle_strcat(buf, "") == buf);
	CHECK_STR(buf, "hello, you");

	/* strncpy pads with NULs to n, and leaves dst unterminated when src is too long. */
	memset(buf, 'x', sizeof(buf));
	CHECK(isle_strncpy(buf, "ab", 5) == buf);
	CHECK(memcmp(buf, "ab\0\0\0x", 6) == 0);
	memset(buf, 'x', sizeof(buf));
	isle_strncpy(buf, "abcdef", 3);
	CHECK(memcmp(buf, "abcx", 4) == 0);
	isle_strncpy(buf, "abc", 0);
	CHECK_EQ(buf[0], 'a');

	/* strlcpy truncates, always terminates when size > 0, and returns strlen(src). */
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(isle_strlcpy(buf, "hello", sizeof(buf)), 5);
	CHECK_STR(buf, "hello");
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(isle_strlcpy(buf, "hello", 3), 5);
	CHECK(memcmp(buf, "he\0x", 4) == 0);
	CHECK_EQ(isle_strlcpy(buf, "hello", 1), 5);
	CHECK_EQ(buf[0], '\0');
	buf[0] = 'q';
	CHECK_EQ(isle_strlcpy(buf, "hello", 0), 5);
	CHECK_EQ(buf[0], 'q');
	CHECK_EQ(isle_strlcpy(NULL, "", 0), 0);
}

/* Inputs for the strto* family: prefixes, signs, blanks, every kind of overflow. */
static const char *const numbers[] = {
	"",
	" ",
	"-",
	"+",
	"+-1",
	"- 1",
	"0",
	"00",
	"000x",
	"7",
	"-7",
	"+42",
	"  \t\n\v\f\r-17xyz",
	"0x",
	"0X",
	"0x1g",
	"0xg",
	"0Xff",
	"-0x10",
	"0x-1",
	"0777",
	"0778",
	"089",
	"0b101",
	"1e5",
	"z",
	"Zz",
	"ffff",
	"FFFF",
	"1234567890",
	"2147483647",
	"2147483648",
	"-2147483649",
	"4294967295",
	"4294967296",
	"9223372036854775807",
	"9223372036854775808",
	"-9223372036854775808",
	"-9223372036854775809",
	"18446744073709551615",
	"18446744073709551616",
	"-18446744073709551615",
	"-18446744073709551616",
	"99999999999999999999999999xyz",
	"0x7fffffffffffffff",
	"0xffffffffffffffff",
	"0x10000000000000000",
	"-0x8000000000000000",
	"-0x8000000000000001",
	"1777777777777777777777",
	"2000000000000000000000",
	"zzzzzzzzzzzzz",
	"zzzzzzzzzzzzzzz",
};

TEST(strto_match_glibc)
{
	static const int bases[] = { 0, 2, 8, 10, 16, 36 };

	for (size_t i = 0; i < ARRAY_SIZE(numbers); i++)
		for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
			const char *s = numbers[i];
			int base = bases[b];
			char *ours, *theirs;

			CHECK(isle_strtoul(s, &ours, base) == strtoul(s, &theirs, base));
			CHECK(ours == theirs);
			CHECK(isle_strtoull(s, &ours, base) == strtoull(s, &theirs, base));
			CHECK(ours == theirs);
			CHECK(isle_strtol(s, &ours, base) == strtol(s, &theirs, base));
			CHECK(ours == theirs);
			CHECK(isle_strtoll(s, &ours, base) == strtoll(s, &theirs, base));
			CHECK(ours == theirs);
			/* endptr may be NULL */
			CHECK(isle_strtoll(s, NULL, base) == strtoll(s, NULL, base));
			if (test_failed_) {
				fprintf(stderr, "  input \"%s\" base %d\n", s, base);
				return;
			}
		}
}

TEST(strto_invalid_base)
{
	static const int bases[] = { -1, 1, 37, 100 };
	const char *s = "123";

	for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
		char *end = NULL;

		CHECK_EQ(isle_strtoul(s, &end, bases[b]), 0);
		CHECK(end == s);
		CHECK_EQ(isle_strtol(s, &end, bases[b]), 0);
		CHECK(end == s);
	}
}

TEST(atoi_matches_glibc)
{
	static const char *const inputs[] = { "0",          "42",          "-42",   "  +7",
		                              "2147483647", "-2147483648", "12abc", "abc",
		                              "",           "0x10",        "010" };

	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++)
		CHECK_EQ(isle_atoi(inputs[i]), atoi(inputs[i]));
}

/* Every error number isle defines has glibc's text; others are "Unknown error". */
TEST(strerror_matches_glibc)
{
	for (int e = 1; e < 120; e++) {
		const char *ours = isle_strerror(e);
		if (strcmp(ours, "Unknown error") != 0)
			CHECK(strcmp(ours, strerror(e)) == 0);
	}
	CHECK(strcmp(isle_strerror(ENOENT), "No such file or directory") == 0);
	CHECK(strcmp(isle_strerror(EUCLEAN), "Structure needs cleaning") == 0);
	CHECK(strcmp(isle_strerror(0), "Unknown error") == 0);
	CHECK(strcmp(isle_strerror(-2), "Unknown error") == 0);
	CHECK(strcmp(isle_strerror(100000), "Unknown error") == 0);
}

/* True when c (EOF or an unsigned char value) is one of the characters in set. */
static bool in(int c, const char *set)
{
	return c > 0 && strchr(set, c) != NULL;
}

TEST(ctype_c_locale)
{
	const char *digits = "0123456789";
	const char *upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	const char *lower = "abcdefghijklmnopqrstuvwxyz";
	const char *xletters = "abcdefABCDEF";
	const char *spaces = " \t\n\v\f\r";
	const char *punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

	for (int c = EOF; c <= UCHAR_MAX; c++) {
		bool is_digit = in(c, digits), is_upper = in(c, upper), is_lower = in(c, lower);
		bool is_punct = in(c, punct);

		CHECK_EQ(!!isdigit(c), is_digit);
		CHECK_EQ(!!isxdigit(c), is_digit || in(c, xletters));
		CHECK_EQ(!!isspace(c), in(c, spaces));
		CHECK_EQ(!!isupper(c), is_upper);
		CHECK_EQ(!!islower(c), is_lower);
		CHECK_EQ(!!isalpha(c), is_upper || is_lower);
		CHECK_EQ(!!isalnum(c), is_upper || is_lower || is_digit);
		CHECK_EQ(!!ispunct(c), is_punct);
		CHECK_EQ(!!isprint(c), is_upper || is_lower || is_digit || is_punct || c == ' ');
		CHECK_EQ(toupper(c), is_lower ? upper[strchr(lower, c) - lower] : c);
		CHECK_EQ(tolower(c), is_upper ? lower[strchr(upper, c) - upper] : c);
		if (test_failed_) {
			fprintf(stderr, "  character %d\n", c);
			return;
		}
	}
}

int main(void)
{
	RUN(memcpy_every_alignment);
	RUN(memmove_overlapping);
	RUN(memset_every_alignment);
	RUN(memcmp_and_memchr);
	RUN(lengths);
	RUN(comparisons_match_glibc);
	RUN(searching);
	RUN(copies);
	RUN(strto_match_glibc);
	RUN(strto_invalid_base);
	RUN(atoi_matches_glibc);
	RUN(ctype_c_locale);
	RUN(strerror_matches_glibc);
	TEST_EXIT();
}
