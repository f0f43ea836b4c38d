/*
 * site.c - the files httpd serves, built into the image.
 *
 * A small page, its style sheet, and a 64 KiB text file for throughput tests. The big file is
 * generated at start-up (so the image stays small) by site_init() on the boot core before any
 * listener exists; from then on every file is immutable and all cores read the same bytes. Its
 * content is deterministic: 1024 lines of exactly 64 bytes, "isle httpd 64 KiB test file, line
 * NNNN of 1024" padded with dots, so a client can check what it received (curl | md5sum).
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "httpd.h"

#define BIG_LINE 64
#define BIG_LINES 1024

static const char index_html[] =
        "<!DOCTYPE html>\n"
        "<html lang=\"en\">\n"
        "<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<title>isle httpd</title>\n"
        "<link rel=\"stylesheet\" href=\"/style.css\">\n"
        "</head>\n"
        "<body>\n"
        "<h1>isle httpd</h1>\n"
        "<p>This page comes from <b>isle</b>, a shared-nothing multicore unikernel. Every core "
        "runs its own TCP/IP stack and its own listener on the same port; a connection lives "
        "on one core from accept to close, served by a thread of its own.</p>\n"
        "<ul>\n"
        "<li><a href=\"/stats\">/stats</a>: per-core counters, gathered by messages</li>\n"
        "<li><a href=\"/64k.txt\">/64k.txt</a>: 64 KiB for throughput tests</li>\n"
        "</ul>\n"
        "</body>\n"
        "</html>\n";

static const char style_css[] =
        "body { font-family: sans-serif; max-width: 40em; margin: 2em auto; "
        "color: #222; background: #fafafa; }\n"
        "h1 { font-weight: normal; border-bottom: 1px solid #ccc; }\n"
        "a { color: #05a; }\n";

static char big[BIG_LINE * BIG_LINES]; /* [I] after site_init() */

static struct site_file files[] = {
	{ "/index.html", NULL, index_html, sizeof(index_html) - 1 },
	{ "/style.css", NULL, style_css, sizeof(style_css) - 1 },
	{ "/64k.txt", NULL, big, sizeof(big) },
};

void site_init(void)
{
	for (unsigned i = 0; i < BIG_LINES; i++) {
		char *line = big + i * BIG_LINE;
		int n = snprintf(line, BIG_LINE, "isle httpd 64 KiB test file, line %04u of %u ",
		                 i + 1, BIG_LINES);
		memset(line + n, '.', BIG_LINE - 1 - (size_t)n);
		line[BIG_LINE - 1] = '\n';
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		files[i].type = http_content_type(files[i].path);
}

const struct site_file *site_find(const char *path)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (strcmp(files[i].path, path) == 0)
			return &files[i];
	}
	return NULL;
}
