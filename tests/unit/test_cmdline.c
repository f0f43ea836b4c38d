/*
 * test_cmdline.c - host tests of the kernel command-line parser (kernel/cmdline.c).
 *
 * One option table of every type is parsed against many lines. Each line is copied into a heap
 * block of exactly its size, so ASan catches any read or write past its NUL; every error
 * message is checked word for word, since the message is the parser's user interface. A
 * random-line run at the end checks that no input makes it crash, overrun or hang.
 */
#include <stdint.h>
#include <isle/errno.h>

#include "kernel/cmdline.h"
#include "tests/unit/test.h"

#define MAX_ARGV 8

static uint64_t cores, mem;
static bool debug;
static const char *name;
static int loglevel;
static struct cmdline_list devices;

static const char *const levels[] = { "error", "warn", "info", "debug", NULL };

static const struct cmdline_opt opts[] = {
	{ .name = "cores",
	  .type = CMDLINE_UINT,
	  .dst = &cores,
	  .min = 1,
	  .max = 64,
	  .help = "number of cores to use (1..64)" },
	{ .name = "mem",
	  .type = CMDLINE_UINT,
	  .dst = &mem,
	  .min = 0,
	  .max = UINT64_MAX,
	  .help = "memory to use" },
	{ .name = "loglevel",
	  .type = CMDLINE_ENUM,
	  .dst = &loglevel,
	  .choices = levels,
	  .help = "messages to print" },
	{ .name = "debug", .type = CMDLINE_BOOL, .dst = &debug, .help = "extra checks" },
	{ .name = "name", .type = CMDLINE_STR, .dst = &name, .help = "instance name" },
	{ .name = "virtio_mmio.device",
	  .type = CMDLINE_LIST,
	  .dst = &devices,
	  .help = "size@base:irq of a virtio-mmio device" },
};

/* The result of the last parse(). */
static char *line;           /* the heap copy that was parsed (values point into it) */
static int argc;             /* arguments after -- */
static char *argv[MAX_ARGV]; /* and the arguments */
static char err[256];        /* error message */

/* Resets every option to a known value and parses a copy of text. */
static int parse_with(const char *text, int max_argv, char *errbuf, size_t errlen)
{
	size_t len = strlen(text);

	cores = 1;
	mem = 0;
	debug = false;
	name = "default";
	loglevel = 2;
	devices.n = 0;
	argc = -1;
	memset(argv, 0xa5, sizeof(argv)); /* garbage, to see what the parser sets */
	if (errbuf != NULL)
		memset(errbuf, 'x', errlen);

	free(line);
	line = malloc(len + 1); /* exactly the size of the text: ASan sees any overrun */
	memcpy(line, text, len + 1);
	return cmdline_parse(line, opts, ARRAY_SIZE(opts), &argc, argv, max_argv, errbuf, errlen);
}

static int parse(const char *text)
{
	return parse_with(text, MAX_ARGV, err, sizeof(err));
}

/* Parsing text fails with exactly this message. */
#define CHECK_ERROR(text, message)              \
	do {                                    \
		CHECK_EQ(parse(text), -EINVAL); \
		CHECK_STR(err, message);        \
	} while (0)

TEST(empty_lines)
{
	static const char *const empties[] = { "", " ", "     ", "\t\n \r\n", " \t " };

	for (size_t i = 0; i < ARRAY_SIZE(empties); i++) {
		CHECK_EQ(parse(empties[i]), 0);
		CHECK_STR(err, "");
		CHECK_EQ(argc, 0);
		CHECK(argv[0] == NULL);
		CHECK_EQ(cores, 1);
	}
	/* No line at all is an empty one. */
	argc = -1;
	CHECK_EQ(cmdline_parse(NULL, opts, ARRAY_SIZE(opts), &argc, argv, MAX_ARGV, err,
	                       sizeof(err)),
	         0);
	CHECK_EQ(argc, 0);
}

TEST(every_type)
{
	CHECK_EQ(parse("cores=4 loglevel=debug debug name=isle mem=16M virtio_mmio.device=a"), 0);
	CHECK_STR(err, "");
	CHECK_EQ(cores, 4);
	CHECK_EQ(loglevel, 3);
	CHECK(debug);
	CHECK_STR(name, "isle");
	CHECK(name > line && name < line + strlen("cores=4 loglevel=debug debug name=isle"));
	CHECK_EQ(mem, 16 << 20);
	CHECK_EQ(devices.n, 1);
	CHECK_STR(devices.items[0], "a");
	CHECK_EQ(argc, 0);
	CHECK(argv[0] == NULL);

	/* Blanks of every kind between tokens, leading and trailing. */
	CHECK_EQ(parse("\t cores=3\n\nloglevel=error\r\n "), 0);
	CHECK_EQ(cores, 3);
	CHECK_EQ(loglevel, 0);
}

TEST(later_overrides_earlier)
{
	CHECK_EQ(parse("cores=2 cores=8 debug debug=off name=a name=b"), 0);
	CHECK_EQ(cores, 8);
	CHECK(!debug);
	CHECK_STR(name, "b");
}

TEST(numbers)
{
	static const struct {
		const char *text; /* as typed */
		uint64_t value;   /* as parsed */
	} cases[] = {
		{ "mem=0", 0 },
		{ "mem=123", 123 },
		{ "mem=007", 7 },
		{ "mem=0x10", 16 },
		{ "mem=0X1f", 31 },
		{ "mem=0xABCdef", 0xabcdef },
		{ "mem=4K", 4096 },
		{ "mem=4k", 4096 },
		{ "mem=2M", 2 << 20 },
		{ "mem=3g", 3ULL << 30 },
		{ "mem=0x10K", 16 << 10 },
		{ "mem=18446744073709551615", UINT64_MAX },
		{ "mem=0xffffffffffffffff", UINT64_MAX },
		{ "mem=17179869183G", 17179869183ULL << 30 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_EQ(parse(cases[i].text), 0);
		CHECK(mem == cases[i].value);
	}

	CHECK_ERROR("cores=abc", "option 'cores': 'abc' is not a number");
	CHECK_ERROR("cores=", "option 'cores': '' is not a number");
	CHECK_ERROR("cores=0x", "option 'cores': '0x' is not a number");
	CHECK_ERROR("cores=12Q", "option 'cores': '12Q' is not a number");
	CHECK_ERROR("cores=4KK", "option 'cores': '4KK' is not a number");
	CHECK_ERROR("cores=-1", "option 'cores': '-1' is not a number");
	CHECK_ERROR("cores=+1", "option 'cores': '+1' is not a number");
	CHECK_ERROR("cores=1.5", "option 'cores': '1.5' is not a number");
	CHECK_ERROR("cores=0x1g", "option 'cores': 1073741824 is out of range 1..64"); /* 1G */
	CHECK_ERROR("cores=0x1h", "option 'cores': '0x1h' is not a number");
	CHECK_ERROR("cores=12ab", "option 'cores': '12ab' is not a number");
	CHECK_ERROR("mem=99999999999999999999x",
	            "option 'mem': '99999999999999999999x' is not a number");
}

TEST(ranges)
{
	CHECK_EQ(parse("cores=1"), 0);
	CHECK_EQ(cores, 1);
	CHECK_EQ(parse("cores=64"), 0);
	CHECK_EQ(cores, 64);
	CHECK_EQ(parse("cores=0x40"), 0);
	CHECK_EQ(cores, 64);

	CHECK_ERROR("cores=99", "option 'cores': 99 is out of range 1..64");
	CHECK_EQ(cores, 1); /* a bad value is not stored */
	CHECK_ERROR("cores=0", "option 'cores': 0 is out of range 1..64");
	CHECK_ERROR("cores=65", "option 'cores': 65 is out of range 1..64");
	CHECK_ERROR("cores=1K", "option 'cores': 1024 is out of range 1..64");
	CHECK_ERROR("mem=18446744073709551616",
	            "option 'mem': '18446744073709551616' is out of range 0..18446744073709551615");
	CHECK_ERROR("mem=0x10000000000000000",
	            "option 'mem': '0x10000000000000000' is out of range 0..18446744073709551615");
	CHECK_ERROR("mem=17179869184G",
	            "option 'mem': '17179869184G' is out of range 0..18446744073709551615");
	CHECK_ERROR("mem=0xffffffffffffffffK",
	            "option 'mem': '0xffffffffffffffffK' is out of range 0..18446744073709551615");
}

TEST(booleans)
{
	static const char *const yes[] = { "debug",      "debug=1",    "debug=yes", "debug=on",
		                           "debug=true", "debug=TRUE", "debug=Yes" };
	static const char *const no[] = { "debug=0", "debug=no", "debug=off", "debug=false",
		                          "debug=OFF" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		CHECK_EQ(parse(yes[i]), 0);
		CHECK(debug);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		CHECK_EQ(parse(no[i]), 0);
		CHECK(!debug);
	}
	CHECK_ERROR("debug=maybe",
	            "option 'debug': 'maybe' is not a boolean (1/0 yes/no on/off true/false)");
	CHECK_ERROR("debug=", "option 'debug': '' is not a boolean (1/0 yes/no on/off true/false)");
	CHECK_ERROR("debug=2",
	            "option 'debug': '2' is not a boolean (1/0 yes/no on/off true/false)");
}

TEST(enums)
{
	CHECK_EQ(parse("loglevel=error"), 0);
	CHECK_EQ(loglevel, 0);
	CHECK_EQ(parse("loglevel=warn"), 0);
	CHECK_EQ(loglevel, 1);
	CHECK_ERROR("loglevel=loud",
	            "option 'loglevel': 'loud' is not one of error warn info debug");
	CHECK_EQ(loglevel, 2); /* unchanged */
	CHECK_ERROR("loglevel=DEBUG",
	            "option 'loglevel': 'DEBUG' is not one of error warn info debug");
	CHECK_ERROR("loglevel=", "option 'loglevel': '' is not one of error warn info debug");
}

TEST(missing_values)
{
	CHECK_ERROR("cores", "option 'cores' needs a value (cores=N)");
	CHECK_ERROR("loglevel", "option 'loglevel' needs a value (loglevel=error|warn|info|debug)");
	CHECK_ERROR("name", "option 'name' needs a value (name=VALUE)");
	CHECK_ERROR("virtio_mmio.device",
	            "option 'virtio_mmio.device' needs a value (virtio_mmio.device=VALUE)");
	/* An empty string is a value. */
	CHECK_EQ(parse("name="), 0);
	CHECK_STR(name, "");
}

TEST(unknown_options)
{
	static const char known[] = "(known: cores mem loglevel debug name virtio_mmio.device)";
	char want[256];

	snprintf(want, sizeof(want), "unknown option 'corse' %s", known);
	CHECK_ERROR("cores=2 corse=4", want);
	CHECK_EQ(cores, 2); /* options before the bad one are stored */
	snprintf(want, sizeof(want), "unknown option 'verbose' %s", known);
	CHECK_ERROR("verbose", want);
	snprintf(want, sizeof(want), "unknown option '' %s", known);
	CHECK_ERROR("=5", want);
	CHECK_ERROR("\"\"", want);
	snprintf(want, sizeof(want), "unknown option 'Cores' %s", known);
	CHECK_ERROR("Cores=1", want); /* names are case-sensitive */

	/* With an empty table every option is unknown. */
	CHECK_EQ(cmdline_parse((char[]){ "x=1" }, opts, 0, NULL, NULL, 0, err, sizeof(err)),
	         -EINVAL);
	CHECK_STR(err, "unknown option 'x' (known: none)");
}

TEST(quoting)
{
	CHECK_EQ(parse("name=\"hello world\" cores=5"), 0);
	CHECK_STR(name, "hello world");
	CHECK_EQ(cores, 5);
	CHECK_EQ(parse("\"name=a  b\""), 0);
	CHECK_STR(name, "a  b");
	CHECK_EQ(parse("name=a\"b c\"d"), 0);
	CHECK_STR(name, "ab cd");
	CHECK_EQ(parse("name=\"\""), 0);
	CHECK_STR(name, "");
	CHECK_EQ(parse("name=\"a=b -- c\""), 0);
	CHECK_STR(name, "a=b -- c");
	CHECK_EQ(parse("name=a=b"), 0); /* only the first '=' separates */
	CHECK_STR(name, "a=b");
	CHECK_EQ(parse("cores=\"7\""), 0);
	CHECK_EQ(cores, 7);
	CHECK_EQ(parse("name=\"\t\n\""), 0);
	CHECK_STR(name, "\t\n");

	CHECK_ERROR("name=\"abc", "unterminated quote in 'name=abc'");
	CHECK_ERROR("cores=2 name=\"abc def", "unterminated quote in 'name=abc def'");
	CHECK_ERROR("\"", "unterminated quote in ''");
	CHECK_ERROR("name=\"a\"\"", "unterminated quote in 'name=a'");
	CHECK_ERROR("-- a \"b", "unterminated quote in 'b'");
}

TEST(lists)
{
	char text[1024] = "";

	CHECK_EQ(parse("virtio_mmio.device=4K@0xd0000000:5 cores=2 "
	               "virtio_mmio.device=4K@0xd0001000:6"),
	         0);
	CHECK_EQ(devices.n, 2);
	CHECK_STR(devices.items[0], "4K@0xd0000000:5");
	CHECK_STR(devices.items[1], "4K@0xd0001000:6");

	for (int i = 0; i < CMDLINE_LIST_MAX; i++) {
		size_t used = strlen(text);

		snprintf(text + used, sizeof(text) - used, "virtio_mmio.device=d%d ", i);
	}
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(devices.n, CMDLINE_LIST_MAX);
	CHECK_STR(devices.items[CMDLINE_LIST_MAX - 1], "d31");

	strcat(text, "virtio_mmio.device=one_too_many");
	CHECK_ERROR(text, "option 'virtio_mmio.device' given more than 32 times");
	CHECK_EQ(devices.n, CMDLINE_LIST_MAX);
}

TEST(arguments)
{
	CHECK_EQ(parse("cores=2 -- hello \"big world\" -- cores=3 \"\""), 0);
	CHECK_EQ(cores, 2); /* options after -- are arguments */
	CHECK_EQ(argc, 5);
	CHECK_STR(argv[0], "hello");
	CHECK_STR(argv[1], "big world");
	CHECK_STR(argv[2], "--");
	CHECK_STR(argv[3], "cores=3");
	CHECK_STR(argv[4], "");
	CHECK(argv[5] == NULL);

	CHECK_EQ(parse("cores=2 --"), 0);
	CHECK_EQ(argc, 0);
	CHECK(argv[0] == NULL);
	CHECK_EQ(parse("--"), 0);
	CHECK_EQ(argc, 0);
	CHECK_EQ(parse("-- x"), 0);
	CHECK_EQ(argc, 1);
	CHECK_STR(argv[0], "x");
	CHECK(argv[1] == NULL);
	CHECK_EQ(parse("--x"), -EINVAL); /* not a lone "--": an unknown option */

	/* MAX_ARGV slots hold MAX_ARGV - 1 arguments and the NULL. */
	CHECK_EQ(parse("-- 1 2 3 4 5 6 7"), 0);
	CHECK_EQ(argc, 7);
	CHECK_STR(argv[6], "7");
	CHECK(argv[7] == NULL);
	CHECK_ERROR("-- 1 2 3 4 5 6 7 8", "too many arguments after -- (at most 7)");

	/* No argv at all. */
	CHECK_EQ(parse_with("cores=3 --", 0, err, sizeof(err)), 0);
	CHECK_EQ(cmdline_parse((char[]){ "-- a" }, opts, ARRAY_SIZE(opts), NULL, NULL, 0, err,
	                       sizeof(err)),
	         -EINVAL);
	CHECK_STR(err, "too many arguments after -- (at most 0)");
}

TEST(long_tokens)
{
	enum { LONG = 5000 };
	char *text = malloc(LONG + 64), want[256];

	/* A long value is fine. */
	strcpy(text, "name=");
	memset(text + 5, 'v', LONG);
	text[5 + LONG] = '\0';
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(strlen(name), LONG);

	/* A long unknown name is quoted in part, and the list of known options still fits. */
	memset(text, 'n', LONG);
	text[LONG] = '\0';
	snprintf(want, sizeof(want),
	         "unknown option '%.40s...' (known: cores mem loglevel debug name "
	         "virtio_mmio.device)",
	         text);
	CHECK_ERROR(text, want);

	/* A long number. */
	strcpy(text, "cores=");
	memset(text + 6, '9', LONG);
	text[6 + LONG] = '\0';
	snprintf(want, sizeof(want), "option 'cores': '%.40s...' is out of range 1..64", text + 6);
	CHECK_ERROR(text, want);
	text[6 + LONG - 1] = 'z';
	snprintf(want, sizeof(want), "option 'cores': '%.40s...' is not a number", text + 6);
	CHECK_ERROR(text, want);
	free(text);
}

TEST(small_error_buffer)
{
	char small[16];

	CHECK_EQ(parse_with("cores=99", MAX_ARGV, small, sizeof(small)), -EINVAL);
	CHECK_STR(small, "option 'cores':");
	memset(small, 'x', sizeof(small));
	CHECK_EQ(parse_with("corse=1", MAX_ARGV, small, 1), -EINVAL);
	CHECK_EQ(small[0], '\0');
	CHECK_EQ(small[1], 'x');
	CHECK_EQ(parse_with("corse=1", MAX_ARGV, NULL, 0), -EINVAL);
	CHECK_EQ(parse_with("name=\"x", MAX_ARGV, NULL, 0), -EINVAL);
}

TEST(random_lines)
{
	/* Characters that matter to the parser, and some that do not. */
	static const char alphabet[] = "   \t\"\"==--cores0x9KGmemnamedebugloglevel.,";
	uint32_t seed = 12345;
	char text[64];

	for (int round = 0; round < 100000; round++) {
		size_t len = round % sizeof(text);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345; /* any cheap generator will do */
			text[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		text[len] = '\0';

		int ret = parse(text);
		CHECK(ret == 0 || ret == -EINVAL);
		CHECK((ret == 0) == (err[0] == '\0'));
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(argc >= 0 && argc < MAX_ARGV && argv[argc] == NULL);
		if (test_failed_) {
			fprintf(stderr, "  line \"%s\"\n", text);
			return;
		}
	}
}

int main(void)
{
	RUN(empty_lines);
	RUN(every_type);
	RUN(later_overrides_earlier);
	RUN(numbers);
	RUN(ranges);
	RUN(booleans);
	RUN(enums);
	RUN(missing_values);
	RUN(unknown_options);
	RUN(quoting);
	RUN(lists);
	RUN(arguments);
	RUN(long_tokens);
	RUN(small_error_buffer);
	RUN(random_lines);
	free(line);
	TEST_EXIT();
}
