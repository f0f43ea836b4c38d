/*
 * printf.c - the formatter behind every kernel message (see printf.h for what it supports).
 *
 * There is one formatting loop, kvcbprintf, which walks the format and hands its output to a
 * callback in pieces: runs of literal text, padding, prefixes and digits. kvsnprintf is only a
 * callback that copies into a buffer and drops what does not fit, so snprintf's truncation rules
 * live in one small function and the formatting rules in one loop.
 *
 * A conversion specification is "%[flags][width][.precision][length]conversion". It is parsed
 * into a struct spec, its argument is fetched with va_arg at the width the length modifier says,
 * and a number is then printed as
 *
 *     [spaces] [prefix] [zeros] [digits] [spaces]
 *
 * where the prefix is a sign or "0x", the zeros come from the precision or the 0 flag, and the
 * spaces fill up to the width on the left, or on the right with the - flag.
 */
#include <stdarg.h>
#include <string.h>
#include <isle/errno.h>

#include "kernel/compiler.h"
#include "kernel/printf.h"

/* One parsed conversion specification. */
struct spec {
	bool left;  /* '-': pad with spaces on the right instead of the left */
	bool zero;  /* '0': pad numbers with zeros after the prefix instead of spaces before it */
	bool plus;  /* '+': print '+' before a non-negative signed number */
	bool space; /* ' ': print ' ' before a non-negative signed number (weaker than '+') */
	bool alt;   /* '#': "0x"/"0X" before non-zero %x/%X, a leading 0 for %o */
	int width;  /* minimum field width; 0 when none was given */
	int prec;   /* precision: minimum digits, or maximum characters for %s; -1 when none */
};

/* Length modifiers: the type of the argument behind a d i u o x X conversion. */
enum length {
	LEN_INT,     /* none: int */
	LEN_CHAR,    /* hh: char, passed as int */
	LEN_SHORT,   /* h: short, passed as int */
	LEN_LONG,    /* l: long */
	LEN_LLONG,   /* ll: long long */
	LEN_SIZE,    /* z: size_t */
	LEN_PTRDIFF, /* t: ptrdiff_t */
	LEN_INTMAX,  /* j: intmax_t */
};

/* Where formatted output goes. */
struct out {
	void (*fn)(void *ctx, const char *s, size_t n); /* receives each piece */
	void *ctx;                                      /* passed back to fn */
	size_t count;                                   /* characters produced so far */
};

static void emit(struct out *o, const char *s, size_t n)
{
	if (n > 0) {
		o->fn(o->ctx, s, n);
		o->count += n;
	}
}

/* Emits n copies of c (a space or '0'), a chunk at a time; nothing if n <= 0. */
static void emit_fill(struct out *o, char c, long n)
{
	static const char spaces[] = "                                ";
	static const char zeros[] = "00000000000000000000000000000000";
	const char *fill = c == '0' ? zeros : spaces;

	while (n > 0) {
		long chunk = MIN(n, (long)sizeof(spaces) - 1);

		emit(o, fill, (size_t)chunk);
		n -= chunk;
	}
}

/* Emits the len characters of s, padded with spaces to the width. */
static void emit_padded(struct out *o, const struct spec *sp, const char *s, size_t len)
{
	int pad = (size_t)sp->width > len ? sp->width - (int)len : 0;

	if (!sp->left)
		emit_fill(o, ' ', pad);
	emit(o, s, len);
	if (sp->left)
		emit_fill(o, ' ', pad);
}

/*
 * Prints one integer conversion: value is the magnitude, negative its sign (only ever true for
 * d and i), conv the conversion character, or 'p' for a non-NULL pointer, which glibc prints
 * like %#lx but keeping the + and space flags ("%+p" is "+0x...").
 */
static void emit_number(struct out *o, const struct spec *sp, uint64_t value, bool negative,
                        char conv)
{
	char digits[24]; /* 2^64 - 1 has 22 octal digits */
	const char *digit_chars = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X' || conv == 'p') ? 16 : 10;
	bool hex_prefix = value != 0 && (conv == 'p' || (sp->alt && (conv == 'x' || conv == 'X')));
	char prefix[3];
	int nprefix = 0, ndigits = 0;
	long nzeros, len; /* long: a precision near INT_MAX plus a prefix must not overflow */

	if (conv == 'd' || conv == 'i' || conv == 'p') {
		if (negative)
			prefix[nprefix++] = '-';
		else if (sp->plus)
			prefix[nprefix++] = '+';
		else if (sp->space)
			prefix[nprefix++] = ' ';
	}
	if (hex_prefix) {
		prefix[nprefix++] = '0';
		prefix[nprefix++] = conv == 'X' ? 'X' : 'x';
	}

	/* Digits, written backwards from the end of the array. Precision 0 prints 0 as nothing. */
	if (!(value == 0 && sp->prec == 0)) {
		do {
			digits[sizeof(digits) - 1 - ndigits++] = digit_chars[value % base];
			value /= base;
		} while (value != 0);
	}

	nzeros = sp->prec > ndigits ? sp->prec - ndigits : 0;
	/* '#' with %o: make the first digit a 0, unless the precision already did. */
	if (conv == 'o' && sp->alt && nzeros == 0 &&
	    (ndigits == 0 || digits[sizeof(digits) - ndigits] != '0'))
		nzeros = 1;

	len = nprefix + nzeros + ndigits;
	/* The 0 flag fills the width with zeros, but only when there is no precision. */
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > len) {
		nzeros += sp->width - len;
		len = sp->width;
	}

	if (!sp->left)
		emit_fill(o, ' ', sp->width - len);
	emit(o, prefix, (size_t)nprefix);
	emit_fill(o, '0', nzeros);
	emit(o, digits + sizeof(digits) - ndigits, (size_t)ndigits);
	if (sp->left)
		emit_fill(o, ' ', sp->width - len);
}

/* Fetches a d or i argument of the given length, as a signed 64-bit value. */
static int64_t fetch_signed(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:
		return (short)va_arg(*ap, int);
	case LEN_LONG:
		return va_arg(*ap, long);
	case LEN_LLONG:
		return va_arg(*ap, long long);
	case LEN_SIZE: /* the signed type of size_t's width, which is ptrdiff_t's here */
	case LEN_PTRDIFF:
		return va_arg(*ap, ptrdiff_t);
	case LEN_INTMAX:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

/* Fetches a u o x X argument of the given length, as an unsigned 64-bit value. */
static uint64_t fetch_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	case LEN_SIZE: /* the unsigned type of ptrdiff_t's width is size_t's here */
	case LEN_PTRDIFF:
		return va_arg(*ap, size_t);
	case LEN_INTMAX:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

/* Reads a decimal number at *p, advancing past it; saturates instead of overflowing int. */
static int parse_decimal(const char **p)
{
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		int digit = *(*p)++ - '0';

		n = n > (__INT_MAX__ - digit) / 10 ? __INT_MAX__ : n * 10 + digit;
	}
	return n;
}

/*
 * Parses the flags, width, precision and length modifier of one specification into *sp and
 * *len. *fmt points just past the '%' and is left at the conversion character; a '*' width or
 * precision is taken from args.
 */
static void parse_spec(const char **fmt, va_list *args, struct spec *sp, enum length *len)
{
	const char *f = *fmt;

	*sp = (struct spec){ .prec = -1 };
	*len = LEN_INT;
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}

	if (*f == '*') {
		int w = va_arg(*args, int);

		f++;
		/* A negative width argument is a '-' flag and a positive width. */
		if (w < 0) {
			sp->left = true;
			w = w == -__INT_MAX__ - 1 ? __INT_MAX__ : -w;
		}
		sp->width = w;
	} else {
		sp->width = parse_decimal(&f);
	}

	if (*f == '.') {
		f++;
		if (*f == '*') {
			f++;
			sp->prec = va_arg(*args, int);
			if (sp->prec < 0) /* a negative precision argument means none */
				sp->prec = -1;
		} else {
			sp->prec = parse_decimal(&f); /* "." alone means 0 */
		}
	}

	switch (*f) {
	case 'h':
		*len = f[1] == 'h' ? LEN_CHAR : LEN_SHORT;
		f += f[1] == 'h' ? 2 : 1;
		break;
	case 'l':
		*len = f[1] == 'l' ? LEN_LLONG : LEN_LONG;
		f += f[1] == 'l' ? 2 : 1;
		break;
	case 'z':
		*len = LEN_SIZE;
		f++;
		break;
	case 't':
		*len = LEN_PTRDIFF;
		f++;
		break;
	case 'j':
		*len = LEN_INTMAX;
		f++;
		break;
	}
	*fmt = f;
}

int kvcbprintf(void (*fn)(void *ctx, const char *s, size_t n), void *ctx, const char *fmt,
               va_list ap)
{
	struct out o = { .fn = fn, .ctx = ctx, .count = 0 };
	va_list args;

	/* A copy, so helpers can take its address (a va_list parameter may be an array). */
	va_copy(args, ap);
	while (*fmt != '\0') {
		const char *start = fmt;
		struct spec sp;
		enum length len;

		/* Literal text up to the next '%' goes out in one piece. */
		while (*fmt != '\0' && *fmt != '%')
			fmt++;
		emit(&o, start, (size_t)(fmt - start));
		if (*fmt == '\0')
			break;
		start = fmt++; /* start is the '%', for printing an unsupported spec literally */

		parse_spec(&fmt, &args, &sp, &len);
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = fetch_signed(&args, len);
			/* Negate in unsigned arithmetic, so INT64_MIN works too. */
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;

			emit_number(&o, &sp, mag, v < 0, *fmt);
			break;
		}
		case 'u':
		case 'o':
		case 'x':
		case 'X':
			emit_number(&o, &sp, fetch_unsigned(&args, len), false, *fmt);
			break;
		case 'p': {
			void *p = va_arg(args, void *);

			if (p != NULL) {
				emit_number(&o, &sp, (uintptr_t)p, false, 'p');
			} else {
				/* glibc prints "(nil)" whole, whatever the precision. */
				emit_padded(&o, &sp, "(nil)", 5);
			}
			break;
		}
		case 'c': {
			char c = (char)va_arg(args, int);

			emit_padded(&o, &sp, &c, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(args, const char *);
			size_t n = 0;

			/* Like glibc: NULL prints "(null)", or nothing if the precision cuts it. */
			if (s == NULL)
				s = sp.prec < 0 || sp.prec >= 6 ? "(null)" : "";
			/* With a precision, s need not be NUL-terminated: never read past it. */
			while ((sp.prec < 0 || n < (size_t)sp.prec) && s[n] != '\0')
				n++;
			emit_padded(&o, &sp, s, n);
			break;
		}
		case '%':
			emit(&o, "%", 1); /* glibc ignores flags and width here */
			break;
		case '\0':
			/* The format ended inside a specification: print what there was. */
			emit(&o, start, (size_t)(fmt - start));
			continue;
		default:
			/* Unsupported (e.g. %f, %n): print the specification, take no argument. */
			emit(&o, start, (size_t)(fmt + 1 - start));
			break;
		}
		fmt++;
	}
	va_end(args);

	return o.count > (size_t)__INT_MAX__ ? -EOVERFLOW : (int)o.count;
}

/* A buffer being filled by kvsnprintf. */
struct sbuf {
	char *buf;   /* the caller's buffer */
	size_t size; /* its size, including room for the NUL */
	size_t len;  /* characters stored so far; stays <= size - 1 */
};

/* kvcbprintf callback: keeps what fits (leaving room for the NUL), drops the rest. */
static void sbuf_put(void *ctx, const char *s, size_t n)
{
	struct sbuf *sb = ctx;
	size_t room;

	if (sb->size == 0)
		return;
	room = sb->size - 1 - sb->len;
	n = MIN(n, room);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sbuf sb = { .buf = buf, .size = size, .len = 0 };
	int ret = kvcbprintf(sbuf_put, &sb, fmt, ap);

	if (size > 0)
		buf[sb.len] = '\0';
	return ret;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return ret;
}
