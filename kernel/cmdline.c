/*
 * cmdline.c - parses the kernel command line against a table of options (see cmdline.h).
 *
 * The line is consumed left to right by next_token, which cuts one token out of it in place:
 * characters are copied down over the quotes it removes, and the token is ended with a NUL
 * written over the blank that follows it. The write position never passes the read position,
 * so the part of the line not yet read is never disturbed, and every loop stops at the line's
 * own NUL. Each token is then either an application argument (after "--") or an option, looked
 * up by name, whose value is parsed according to its type and stored only if it is valid.
 *
 * Error messages quote what the user typed, cut to ECHO_MAX characters so that a very long
 * token cannot push the useful part of the message (the list of choices) out of err.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <isle/errno.h>

#include "kernel/cmdline.h"
#include "kernel/compiler.h"
#include "kernel/printf.h"

#define ECHO_MAX 40

/* Appends a formatted piece to the error message, truncating at errlen. */
static void err_add(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void err_add(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (errlen == 0)
		return;
	used = strnlen(err, errlen - 1);
	va_start(ap, fmt);
	kvsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* "..." when s is too long to be quoted whole in a message (see ECHO_MAX), else "". */
static const char *cut_mark(const char *s)
{
	return strnlen(s, ECHO_MAX + 1) > ECHO_MAX ? "..." : "";
}

/*
 * Cuts the next token out of *cursor (see the file comment) and advances *cursor past it.
 * Returns 1 with the token in *token, 0 at the end of the line, or -EINVAL when a quote is not
 * closed, with what there was of the token in *token.
 */
static int next_token(char **cursor, char **token)
{
	char *r = *cursor, *w;
	bool quoted = false;

	while (isspace((unsigned char)*r))
		r++;
	if (*r == '\0') {
		*cursor = r;
		return 0;
	}

	*token = w = r;
	for (; *r != '\0'; r++) {
		if (*r == '"')
			quoted = !quoted;
		else if (!quoted && isspace((unsigned char)*r))
			break;
		else
			*w++ = *r;
	}
	/* Step over the blank before w (which may be at r) overwrites it. */
	*cursor = *r == '\0' ? r : r + 1;
	*w = '\0';
	return quoted ? -EINVAL : 1;
}

/*
 * Parses a UINT value: decimal or 0x hex digits, then an optional K, M or G. Returns 0,
 * -EINVAL if s is not such a number, or -ERANGE if it is one but does not fit in 64 bits.
 */
static int parse_uint(const char *s, uint64_t *out)
{
	unsigned base = 10, shift = 0;
	uint64_t value = 0;
	bool overflow = false;
	const char *digits;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (digits = s; base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s);
	     s++) {
		unsigned d = isdigit((unsigned char)*s) ? (unsigned)(*s - '0')
		                                        : (unsigned)(tolower(*s) - 'a' + 10);

		if (value > (UINT64_MAX - d) / base)
			overflow = true; /* keep scanning: "not a number" wins over "too large" */
		else
			value = value * base + d;
	}
	if (s == digits)
		return -EINVAL;

	switch (*s) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	}
	if (shift != 0)
		s++;
	if (*s != '\0')
		return -EINVAL;
	if (overflow || value > UINT64_MAX >> shift)
		return -ERANGE;
	*out = value << shift;
	return 0;
}

/* Parses a BOOL value. Returns 0 or -EINVAL. */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "0", "no", "off", "false" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Appends the names of choices to err, each after the separator sep. */
static void err_add_choices(char *err, size_t errlen, const char *const *choices, const char *sep)
{
	for (size_t i = 0; choices != NULL && choices[i] != NULL; i++)
		err_add(err, errlen, "%s%s", i == 0 ? "" : sep, choices[i]);
}

/* Stores the value of opt, or explains in err why it is not valid. */
static int set_value(const struct cmdline_opt *opt, const char *value, char *err, size_t errlen)
{
	uint64_t n;
	bool b;
	int ret;

	switch (opt->type) {
	case CMDLINE_UINT:
		ret = parse_uint(value, &n);
		if (ret == -EINVAL) {
			err_add(err, errlen, "option '%s': '%.*s%s' is not a number", opt->name,
			        ECHO_MAX, value, cut_mark(value));
			return -EINVAL;
		}
		if (ret == -ERANGE || n < opt->min || n > opt->max) {
			err_add(err, errlen, "option '%s': ", opt->name);
			if (ret == -ERANGE)
				err_add(err, errlen, "'%.*s%s'", ECHO_MAX, value, cut_mark(value));
			else
				err_add(err, errlen, "%llu", (unsigned long long)n);
			err_add(err, errlen, " is out of range %llu..%llu",
			        (unsigned long long)opt->min, (unsigned long long)opt->max);
			return -EINVAL;
		}
		*(uint64_t *)opt->dst = n;
		return 0;

	case CMDLINE_BOOL:
		if (parse_bool(value, &b) < 0) {
			err_add(err, errlen, "option '%s': '%.*s%s' is not a boolean ", opt->name,
			        ECHO_MAX, value, cut_mark(value));
			err_add(err, errlen, "(1/0 yes/no on/off true/false)");
			return -EINVAL;
		}
		*(bool *)opt->dst = b;
		return 0;

	case CMDLINE_STR:
		*(const char **)opt->dst = value;
		return 0;

	case CMDLINE_ENUM:
		for (int i = 0; opt->choices != NULL && opt->choices[i] != NULL; i++) {
			if (strcmp(value, opt->choices[i]) == 0) {
				*(int *)opt->dst = i;
				return 0;
			}
		}
		err_add(err, errlen, "option '%s': '%.*s%s' is not one of ", opt->name, ECHO_MAX,
		        value, cut_mark(value));
		err_add_choices(err, errlen, opt->choices, " ");
		return -EINVAL;

	case CMDLINE_LIST: {
		struct cmdline_list *list = opt->dst;

		if (list->n >= ARRAY_SIZE(list->items)) {
			err_add(err, errlen, "option '%s' given more than %zu times", opt->name,
			        ARRAY_SIZE(list->items));
			return -EINVAL;
		}
		list->items[list->n++] = value;
		return 0;
	}
	}
	err_add(err, errlen, "option '%s' has an invalid type in the kernel's table", opt->name);
	return -EINVAL;
}

/* Handles one option token: name, or name=value. */
static int apply_option(char *token, const struct cmdline_opt *opts, size_t nopts, char *err,
                        size_t errlen)
{
	char *value = strchr(token, '=');
	const struct cmdline_opt *opt = NULL;

	if (value != NULL)
		*value++ = '\0'; /* token is now the name alone */
	for (size_t i = 0; i < nopts && opt == NULL; i++) {
		if (strcmp(opts[i].name, token) == 0)
			opt = &opts[i];
	}

	if (opt == NULL) {
		err_add(err, errlen, "unknown option '%.*s%s' (known:", ECHO_MAX, token,
		        cut_mark(token));
		for (size_t i = 0; i < nopts; i++)
			err_add(err, errlen, " %s", opts[i].name);
		err_add(err, errlen, "%s)", nopts == 0 ? " none" : "");
		return -EINVAL;
	}

	if (value == NULL) {
		if (opt->type == CMDLINE_BOOL) {
			*(bool *)opt->dst = true;
			return 0;
		}
		err_add(err, errlen, "option '%s' needs a value (%s=", opt->name, opt->name);
		if (opt->type == CMDLINE_UINT)
			err_add(err, errlen, "N");
		else if (opt->type == CMDLINE_ENUM)
			err_add_choices(err, errlen, opt->choices, "|");
		else
			err_add(err, errlen, "VALUE");
		err_add(err, errlen, ")");
		return -EINVAL;
	}
	return set_value(opt, value, err, errlen);
}

int cmdline_parse(char *line, const struct cmdline_opt *opts, size_t nopts, int *argc, char **argv,
                  int max_argv, char *err, size_t errlen)
{
	char *cursor = line, *token;
	bool after_dashes = false; /* seen the lone "--": the rest are arguments */
	int nargs = 0, ret;

	if (errlen > 0)
		err[0] = '\0';
	if (argc != NULL)
		*argc = 0;
	if (argv != NULL && max_argv > 0)
		argv[0] = NULL;
	if (line == NULL)
		return 0;

	while ((ret = next_token(&cursor, &token)) > 0) {
		if (after_dashes) {
			/* One slot stays free for the terminating NULL. */
			if (argv == NULL || nargs >= max_argv - 1) {
				err_add(err, errlen, "too many arguments after -- (at most %d)",
				        MAX(max_argv - 1, 0));
				return -EINVAL;
			}
			argv[nargs++] = token;
			argv[nargs] = NULL;
			if (argc != NULL)
				*argc = nargs;
		} else if (strcmp(token, "--") == 0) {
			after_dashes = true;
		} else {
			ret = apply_option(token, opts, nopts, err, errlen);
			if (ret < 0)
				return ret;
		}
	}
	if (ret < 0)
		err_add(err, errlen, "unterminated quote in '%.*s%s'", ECHO_MAX, token,
		        cut_mark(token));
	return ret;
}
