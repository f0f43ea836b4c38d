/*
 * site.c - the files httpd serves: one folder of the file tree (isle/fs.h), the document root.
 *
 * The root is "/" by default: the initrd, a read-only file system that every core reads
 * without messages (`make run SITE=folder` packs a folder into it; the default site is
 * examples/httpd/site/). `root=/disk/www` on httpd's command line serves from the ext2 disk
 * instead, whose calls travel to the disk's owner core by message. A request's path has been
 * decoded and normalized by http.c (no "." or ".." segments), so it cannot leave the root; a
 * directory is served by its index.html.
 */
#include <stdio.h>
#include <string.h>
#include <isle/errno.h>
#include <isle/fs.h>

#include "http.h"
#include "httpd.h"

static char root[256]; /* [I] after site_init: the root without its trailing '/' ("" for "/") */

int site_init(const char *dir)
{
	struct fs_stat st;
	size_t n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (n >= sizeof(root) || dir[0] != '/')
		return -EINVAL;
	memcpy(root, dir, n);
	root[n] = '\0';
	int err = fs_stat(n ? root : "/", &st);
	if (err < 0)
		return err;
	return S_ISDIR(st.mode) ? 0 : -ENOTDIR;
}

/* Opens full, a file; fills f. */
static int open_file(const char *full, struct site_file *f)
{
	struct fs_stat st;
	int fd = fs_open(full, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	int err = fs_fstat(fd, &st);
	if (err < 0 || !S_ISREG(st.mode)) {
		fs_close(fd);
		return err < 0 ? err : -EISDIR;
	}
	f->fd = fd;
	f->size = st.size;
	f->type = http_content_type(full);
	return 0;
}

int site_open(const char *path, struct site_file *f)
{
	char full[FS_PATH_MAX];
	int n = snprintf(full, sizeof(full), "%s%s", root, path);
	if (n < 0 || (size_t)n >= sizeof(full) - sizeof("/index.html"))
		return -ENAMETOOLONG;
	int err = open_file(full, f);
	if (err == -EISDIR) {
		/* a directory: its index.html ("/" ends with '/' already) */
		snprintf(full + n, sizeof(full) - (size_t)n, "%sindex.html",
		         full[n - 1] == '/' ? "" : "/");
		err = open_file(full, f);
	}
	return err;
}

void site_close(struct site_file *f)
{
	fs_close(f->fd);
}
