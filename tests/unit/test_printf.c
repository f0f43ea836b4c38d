/*
 * test_printf.c - host tests of the kernel formatter (kernel/printf.c).
 *
 * Most checks compare ksnprintf with glibc's snprintf on the same format and argument: every
 * combination of flags, widths, precisions, length modifiers and conversions over a table of
 * edge values (INT_MIN, LLONG_MIN, ULLONG_MAX, ...), each also into a buffer too small for it
 * and into a buffer of size 0. The rest checks what glibc cannot be asked about: unsupported
 * conversions printed literally, the callback interface, and -EOVERFLOW.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>

#include <isle/errno.h>

#include "kernel/printf.h"
#include "tests/unit/test.h"

#define BUF 256

static int mismatches_shown; /* stop printing after a few, the count is what matters */

/* Reports a difference between our output and glibc's, for the current test. */
static void mismatch(const char *fmt, size_t size, const char *ours, int our_ret,
                     const char *theirs, int their_ret)
{
	test_failed_++;
	if (mismatches_shown++ < 20)
		fprintf(stderr, "  format \"%s\" size %zu: ours \"%s\" (%d), glibc \"%s\" (%d)\n",
		        fmt, size, ours, our_ret, theirs, their_ret);
}

/*
 * Formats with both implementations into buffers of the given size (filled with '#' first so
 * stray writes show) and compares the return value and every byte up to the NUL.
 */
static void compare_size(size_t size, const char *fmt, ...)
{
	char ours[BUF], theirs[BUF];
	va_list ap, ap2;
	int our_ret, their_ret;

	memset(ours, '#', sizeof(ours));
	memset(theirs, '#', sizeof(theirs));
	va_start(ap, fmt);
	va_copy(ap2, ap);
	our_ret = kvsnprintf(size ? ours : NULL, size, fmt, ap);
	their_ret = vsnprintf(size ? theirs : NULL, size, fmt, ap2);
	va_end(ap2);
	va_end(ap);

	if (our_ret != their_ret || memcmp(ours, theirs, sizeof(ours)) != 0)
		mismatch(fmt, size, size ? ours : "", our_ret, size ? theirs : "", their_ret);
}

/* Compares a one-argument format at full size, at half the length, and at size 0. */
#define COMPARE(fmt, arg)                                     \
	do {                                                  \
		int len_ = snprintf(NULL, 0, fmt, arg);       \
		compare_size(BUF, fmt, arg);                  \
		compare_size((size_t)len_ / 2 + 1, fmt, arg); \
		compare_size(0, fmt, arg);                    \
	} while (0)

/* Formats through ksnprintf a format gcc must not check: it would reject
 * formats that are wrong on purpose here (unsupported conversions, NULL for %s, overflows). */
static int format_unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return ret;
}

static const long long values[] = {
	0,
	1,
	-1,
	7,
	8,
	9,
	10,
	42,
	-42,
	127,
	128,
	255,
	256,
	-128,
	-129,
	4095,
	65535,
	65536,
	INT_MAX,
	INT_MIN,
	UINT_MAX,
	(long long)UINT_MAX + 1,
	1234567890123LL,
	-1234567890123LL,
	LLONG_MAX,
	LLONG_MIN,
	(long long)ULLONG_MAX,
	(long long)0x8000000000000001ULL,
};

static const char *const flag_sets[] = {
	"", "-", "0", "+", " ", "#", "-0", "+ ", "-+", "0+", "0 ", "#0", "-#", "0#+", "-0+ #",
};
static const char *const widths[] = { "", "1", "2", "8", "25" };
static const char *const precisions[] = { "", ".", ".0", ".1", ".2", ".8", ".25" };
static const char *const lengths[] = { "hh", "h", "", "l", "ll", "z", "t", "j" };
static const char integer_convs[] = "diouxX";

/* Formats one value through one integer format, passing it at the width the length says. */
static void compare_integer(const char *fmt, const char *length, char conv, long long v)
{
	bool is_signed = conv == 'd' || conv == 'i';

	if (strcmp(length, "hh") == 0 || strcmp(length, "h") == 0 || length[0] == '\0') {
		if (is_signed)
			COMPARE(fmt, (int)v);
		else
			COMPARE(fmt, (unsigned int)v);
	} else {
		/* l ll z t j are all 64 bits on x86_64, passed the same way. */
		if (is_signed)
			COMPARE(fmt, v);
		else
			COMPARE(fmt, (unsigned long long)v);
	}
}

TEST(integers_against_glibc)
{
	char fmt[64];

	for (size_t f = 0; f < ARRAY_SIZE(flag_sets); f++)
		for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
			for (size_t p = 0; p < ARRAY_SIZE(precisions); p++)
				for (size_t l = 0; l < ARRAY_SIZE(lengths); l++)
					for (const char *c = integer_convs; *c; c++) {
						snprintf(fmt, sizeof(fmt), "[%%%s%s%s%s%c]",
						         flag_sets[f], widths[w], precisions[p],
						         lengths[l], *c);
						for (size_t v = 0; v < ARRAY_SIZE(values); v++)
							compare_integer(fmt, lengths[l], *c,
							                values[v]);
					}
}

TEST(strings_and_chars_against_glibc)
{
	static const char *const strings[] = { "", "a", "hello", "hello, world; longer", NULL };
	static const int chars[] = { 'a', 'Z', ' ', 0, 0xff, 0x80 };
	char fmt[64];

	for (size_t f = 0; f < ARRAY_SIZE(flag_sets); f++)
		for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
			for (size_t p = 0; p < ARRAY_SIZE(precisions); p++) {
				snprintf(fmt, sizeof(fmt), "<%%%s%s%ss>", flag_sets[f], widths[w],
				         precisions[p]);
				for (size_t s = 0; s < ARRAY_SIZE(strings); s++)
					COMPARE(fmt, strings[s]);
				snprintf(fmt, sizeof(fmt), "<%%%s%sc>", flag_sets[f], widths[w]);
				for (size_t c = 0; c < ARRAY_SIZE(chars); c++)
					COMPARE(fmt, chars[c]);
			}
}

TEST(pointers_against_glibc)
{
	static void *const pointers[] = { NULL,
		                          (void *)1,
		                          (void *)0x1234,
		                          (void *)0xdeadbeef,
		                          (void *)UINTPTR_MAX,
		                          (void *)0xffffffff80000000 };
	char fmt[64];

	for (size_t f = 0; f < ARRAY_SIZE(flag_sets); f++)
		for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
			for (size_t p = 0; p < ARRAY_SIZE(precisions); p++) {
				snprintf(fmt, sizeof(fmt), "(%%%s%s%sp)", flag_sets[f], widths[w],
				         precisions[p]);
				for (size_t i = 0; i < ARRAY_SIZE(pointers); i++)
					COMPARE(fmt, pointers[i]);
			}
}

TEST(percent_and_literals_against_glibc)
{
	static const char *const formats[] = {
		"", "plain text", "%%", "100%%", "%%d", "a%%b%%c", "%%%%", "%% %d",
	};
	char buf[16];

	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		for (size_t size = 0; size < 16; size++)
			compare_size(size, formats[i], 7);

	/* Like glibc, flags and width on %% are ignored (ASan's glibc hook would warn on these). */
	CHECK_EQ(format_unchecked(buf, sizeof(buf), "[%5%|%-5%|%05%]"), 7);
	CHECK_STR(buf, "[%|%|%]");
}

TEST(star_width_and_precision)
{
	static const int stars[] = { -30, -5, -1, 0, 1, 3, 12, 30 };

	for (size_t i = 0; i < ARRAY_SIZE(stars); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(stars); j++) {
			int a = stars[i], b = stars[j];

			compare_size(BUF, "[%*d]", a, -42);
			compare_size(BUF, "[%-*d]", a, 42);
			compare_size(BUF, "[%0*d]", a, -42);
			compare_size(BUF, "[%.*d]", a, 42);
			compare_size(BUF, "[%*.*d]", a, b, INT_MIN);
			compare_size(BUF, "[%*.*llx]", a, b, ULLONG_MAX);
			compare_size(BUF, "[%*.*s]", a, b, "abcdefghij");
			compare_size(BUF, "[%-*.*s]", a, b, "abc");
			compare_size(BUF, "[%*c]", a, 'x');
			compare_size(BUF, "[%*p]", a, (void *)0xabc);
			compare_size(7, "[%*.*d|%s]", a, b, 12345, "tail");
		}
	}
}

TEST(several_arguments)
{
	for (size_t size = 0; size < 80; size++) {
		compare_size(size, "%d %u %x %s %c %p %lld %llu %zu %jd %td %hhu %hd %%", -1, 2u,
		             0xabcu, "str", 'c', (void *)0x10, LLONG_MIN, ULLONG_MAX,
		             (size_t)SIZE_MAX, (intmax_t)INTMAX_MIN, (ptrdiff_t)PTRDIFF_MIN, 300,
		             70000);
		compare_size(size, "cores=%d mem=%lluK name='%-8s' ok=%s", 64, 1ULL << 40, "isle",
		             (const char *)NULL);
	}
}

TEST(edge_values)
{
	/* The famous ones, spelled out, so a failure names them. */
	char buf[64];

	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%d", INT_MIN), 11);
	CHECK_STR(buf, "-2147483648");
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%lld", LLONG_MIN), 20);
	CHECK_STR(buf, "-9223372036854775808");
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%llu", ULLONG_MAX), 20);
	CHECK_STR(buf, "18446744073709551615");
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%llo", ULLONG_MAX), 22);
	CHECK_STR(buf, "1777777777777777777777");
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%#llX", ULLONG_MAX), 18);
	CHECK_STR(buf, "0XFFFFFFFFFFFFFFFF");
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%p|%p", NULL, (void *)0xff), 10);
	CHECK_STR(buf, "(nil)|0xff");
	CHECK_EQ(format_unchecked(buf, sizeof(buf), "%s|%.3s|%.6s", NULL, NULL, NULL), 14);
	CHECK_STR(buf, "(null)||(null)");
}

TEST(truncation)
{
	char buf[8];

	/* size 0: nothing written, not even the NUL, and buf may be NULL. */
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(ksnprintf(buf, 0, "hello"), 5);
	CHECK_EQ(buf[0], 'x');
	CHECK_EQ(ksnprintf(NULL, 0, "%d-%s", 12345, "abc"), 9);

	/* size 1: only the NUL. */
	CHECK_EQ(ksnprintf(buf, 1, "hello"), 5);
	CHECK_EQ(buf[0], '\0');
	CHECK_EQ(buf[1], 'x');

	/* Exactly full, and one short. */
	CHECK_EQ(ksnprintf(buf, 6, "hello"), 5);
	CHECK_STR(buf, "hello");
	CHECK_EQ(ksnprintf(buf, 5, "hello"), 5);
	CHECK_STR(buf, "hell");
	CHECK_EQ(buf[5], '\0'); /* left over from the previous call, untouched */
	CHECK_EQ(buf[6], 'x');

	/* Every size for a format mixing everything. */
	for (size_t size = 0; size <= sizeof(buf); size++)
		compare_size(size, "%-6d|%06x|%s", -12, 0xab, "tail");
}

TEST(unsupported_conversions_are_literal)
{
	static const char *const formats[] = { "%f",  "a%5.2fb", "%e%g%a", "%Lf",     "%n",
		                               "%hn", "%y",      "%q",     "%-08.3lF" };
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		int n = format_unchecked(buf, sizeof(buf), formats[i]);

		CHECK_STR(buf, formats[i]);
		CHECK_EQ(n, (int)strlen(formats[i]));
	}

	/* A format ending inside a specification prints what there was. */
	CHECK_EQ(format_unchecked(buf, sizeof(buf), "abc%"), 4);
	CHECK_STR(buf, "abc%");
	CHECK_EQ(format_unchecked(buf, sizeof(buf), "abc%-5.3l"), 9);
	CHECK_STR(buf, "abc%-5.3l");
}

TEST(unsupported_then_supported)
{
	/* An unsupported conversion takes no argument: %d still gets 5 and %s gets "x". */
	static const char fmt[] = "%f %d|%n %s";
	char buf[64];

	CHECK_EQ(format_unchecked(buf, sizeof(buf), fmt, 5, "x"), 9);
	CHECK_STR(buf, "%f 5|%n x");
}

/* Collects the pieces kvcbprintf hands out. */
struct collect {
	char text[BUF]; /* the pieces, concatenated */
	size_t len;     /* bytes in text */
	int pieces;     /* calls of the callback */
	bool empty;     /* a piece of length 0 was seen (it should never be) */
};

static void collect_put(void *ctx, const char *s, size_t n)
{
	struct collect *c = ctx;

	c->empty |= n == 0;
	if (c->len + n <= sizeof(c->text)) {
		memcpy(c->text + c->len, s, n);
		c->len += n;
	}
	c->pieces++;
}

static int cbprintf(struct collect *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cbprintf(struct collect *c, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvcbprintf(collect_put, c, fmt, ap);
	va_end(ap);
	return ret;
}

TEST(callback)
{
	struct collect c = { .len = 0 };

	CHECK_EQ(cbprintf(&c, "literal text, then %-40s|%+.3d and %c", "a string", 7, '\0'), 70);
	CHECK_EQ(c.len, 70);
	CHECK(memcmp(c.text, "literal text, then a string", 27) == 0);
	CHECK(memcmp(c.text + 59, "|+007 and \0", 11) == 0);
	CHECK(!c.empty);
	/* Literal runs go out whole, not a character at a time. */
	CHECK(c.pieces < 15);

	/* No NUL is added, and an empty format produces nothing. */
	c = (struct collect){ .len = 0 };
	CHECK_EQ(cbprintf(&c, "%s", ""), 0);
	CHECK_EQ(c.pieces, 0);
}

/* Counts without storing: the outputs here are 2 GiB long. */
static void count_put(void *ctx, const char *s, size_t n)
{
	(void)s;
	*(size_t *)ctx += n;
}

/* Counts what kvcbprintf produces; no format attribute, like format_unchecked. */
static int count_printf(size_t *count, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvcbprintf(count_put, count, fmt, ap);
	va_end(ap);
	return ret;
}

TEST(overflow)
{
	size_t count = 0;

	/* Just fits in an int, then one more character does not. */
	CHECK_EQ(count_printf(&count, "%*d", INT_MAX, 1), INT_MAX);
	count = 0;
	CHECK_EQ(count_printf(&count, "%*d!", INT_MAX, 1), -EOVERFLOW);
	CHECK_EQ(count, (size_t)INT_MAX + 1);
	count = 0;
	CHECK_EQ(count_printf(&count, "%+.*d", INT_MAX, 1), -EOVERFLOW); /* sign + INT_MAX digits */
	CHECK_EQ(count, (size_t)INT_MAX + 1);
	/* A width too large for an int saturates instead of wrapping. */
	CHECK_EQ(format_unchecked(NULL, 0, "%99999999999999999999d", 1), INT_MAX);
	CHECK_EQ(format_unchecked(NULL, 0, "%*d", INT_MIN, 1), INT_MAX);
}

int main(void)
{
	RUN(integers_against_glibc);
	RUN(strings_and_chars_against_glibc);
	RUN(pointers_against_glibc);
	RUN(percent_and_literals_against_glibc);
	RUN(star_width_and_precision);
	RUN(several_arguments);
	RUN(edge_values);
	RUN(truncation);
	RUN(unsupported_conversions_are_literal);
	RUN(unsupported_then_supported);
	RUN(callback);
	RUN(overflow);
	TEST_EXIT();
}
