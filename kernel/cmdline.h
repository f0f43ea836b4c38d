/*
 * cmdline.h - the one parser of the kernel command line.
 *
 * A subsystem that takes options describes them in a table of struct cmdline_opt; boot code
 * hands the line and the table to cmdline_parse once, on the boot core, before anything reads
 * the option variables. The grammar:
 *
 *     line  := blank* (token blank+)* token? blank*
 *     token := name | name=value | "--"
 *
 * A double quote anywhere in a token starts or ends a quoted part, in which blanks do not end
 * the token; the quotes themselves are removed ("name=a b" and name="a b" are the same). A bare
 * name is only allowed for BOOL options and means true. Every token after the first lone "--"
 * is an argument for the application (argv), not an option; those may be quoted too.
 *
 * Values by type:
 *   UINT  decimal or 0x hex, optionally followed by K, M or G (x1024, x1024^2, x1024^3; upper
 *         or lower case), inside [min, max]. There is no "no limit": use max = UINT64_MAX.
 *   BOOL  1/0, yes/no, on/off, true/false (any case); a bare name is true.
 *   STR   anything, including the empty string; dst gets a pointer into the line.
 *   ENUM  one of choices, exactly; dst gets its index.
 *   LIST  like STR, but each occurrence appends (e.g. virtio_mmio.device= given once per device).
 * A later occurrence of a non-LIST option overrides an earlier one.
 */
#ifndef ISLE_KERNEL_CMDLINE_H
#define ISLE_KERNEL_CMDLINE_H

#include "kernel/compiler.h"

enum cmdline_type { CMDLINE_UINT, CMDLINE_BOOL, CMDLINE_STR, CMDLINE_ENUM, CMDLINE_LIST };

#define CMDLINE_LIST_MAX 32

/* The values of an option that may repeat, in command-line order. */
struct cmdline_list {
	const char *items[CMDLINE_LIST_MAX]; /* items[0..n-1] point into the parsed line */
	unsigned n;                          /* how many items are in use; start it at 0 */
};

/* One option the kernel understands. */
struct cmdline_opt {
	const char *name;           /* as typed on the line, e.g. "cores" */
	enum cmdline_type type;     /* how the value is parsed, and what dst points to */
	void *dst;                  /* uint64_t*, bool*, const char**, int* (ENUM index) or
	                               struct cmdline_list*, by type; set only to a valid value */
	uint64_t min, max;          /* UINT: the accepted range, both inclusive */
	const char *const *choices; /* ENUM: the accepted names, NULL-terminated */
	const char *help;           /* one line for usage text, e.g. "number of cores (1..64)" */
};

/*
 * Parses line in place against the nopts options in opts. Tokens are cut out of line and
 * NUL-terminated inside it, so STR and LIST values and argv entries point into line, which MUST
 * stay alive (and unchanged) as long as they are used.
 *
 * Arguments after "--" are stored in argv[0..*argc-1] followed by argv[*argc] = NULL, so argv
 * MUST have room for max_argv pointers and at most max_argv - 1 arguments fit. argc and argv MAY
 * be NULL (with max_argv 0) when no arguments are expected. The error message is written to
 * err (errlen bytes, truncated to fit; err MAY be NULL when errlen is 0).
 *
 * Returns 0, or -EINVAL with a one-line message in err, for example
 *   unknown option 'corse' (known: cores loglevel ...)
 *   option 'cores' needs a value (cores=N)
 *   option 'cores': 'abc' is not a number
 *   option 'cores': 99 is out of range 1..64
 *   option 'loglevel': 'loud' is not one of error warn info debug
 *   option 'debug': 'maybe' is not a boolean (1/0 yes/no on/off true/false)
 *   option 'virtio_mmio.device' given more than 16 times
 *   unterminated quote in 'name=abc'
 *   too many arguments after -- (at most 7)
 * On error, options before the bad token may already have been stored. Boot context, boot core.
 */
int cmdline_parse(char *line, const struct cmdline_opt *opts, size_t nopts, int *argc, char **argv,
                  int max_argv, char *err, size_t errlen);

/*
 * An option that belongs to a subsystem outside kernel/ (net/addr.c: ip=, gw=, mask=), declared
 * next to the code that reads it:
 *
 *     CMDLINE_OPTION(ip, { "ip", CMDLINE_STR, &cfg.ip, 0, 0, NULL, "IPv4 address" });
 *
 * The entry goes to the .cmdline_opts section, and the boot core parses the line against the
 * kernel's own options and every entry there. So an image accepts an option only if the code
 * that uses it is linked in: hello, which has no network, says "unknown option 'ip'".
 * At most CMDLINE_EXTRA_MAX entries in an image (boot fails, saying so, past that).
 */
#define CMDLINE_EXTRA_MAX 16
#define CMDLINE_OPTION(id_, ...)                          \
	static const struct cmdline_opt cmdline_opt_##id_ \
	        __attribute__((used, section(".cmdline_opts"), aligned(8))) = __VA_ARGS__

#endif
