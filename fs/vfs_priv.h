/*
 * vfs_priv.h - what the parts of the VFS share: fs/vfs.c (mounts, paths, the tree),
 * fs/vfs_file.c (descriptors) and fs/vfs_remote.c (running a call where it must run). Private to
 * those three files.
 *
 * The VFS packs every filesystem call into a struct vfs_call: the function to run (one of vfs.c's
 * x_* functions, which call the filesystem's fs_ops and may combine a few of them so that, for
 * example, "look up, create if missing, truncate" is one step on the owner) and its arguments.
 * vfs_call_run() runs it:
 *  - mount owner VFS_ANY_CORE: right here, now;
 *  - mount owned by this core: here, once the mount's gate lets it in (one call at a time per
 *    mount on its owner, see vfs_remote.c);
 *  - another core's mount: on the owner, in its server thread, while the caller blocks.
 * The struct lives on the caller's stack; buffers and names it points to must be readable and
 * writable from the owner core (stack or heap; never a PERCORE variable: -EFAULT).
 */
#ifndef ISLE_FS_VFS_PRIV_H
#define ISLE_FS_VFS_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <isle/fs.h>
#include "fs/vfs.h"
#include "kernel/compiler.h"

struct thread;

struct vfs_call {
	int64_t (*fn)(struct vfs_call *c); /* what to run on the owner: 0, a count or -errno */
	struct vfs_mount *m;               /* the mount it runs on */
	/* Arguments and results; what each means is up to fn. */
	uint64_t ino;      /* the inode (file, or the directory holding name) */
	uint64_t ino2;     /* second directory (rename), or the inode found (lookup, open) */
	uint64_t off;      /* file offset, size (truncate), readdir cookie */
	const char *name;  /* a path component (not NUL-terminated) */
	size_t len;        /* its bytes */
	const char *name2; /* rename: the new name */
	size_t len2;       /* its bytes */
	void *buf;         /* read/write buffer, or readdir's struct fs_dirent */
	size_t count;      /* bytes to read or write */
	uint32_t mode;     /* permission bits for create/mkdir */
	int flags;         /* fs_open flags */
	bool slash;        /* the path ended in '/': name must be a directory */
	struct fs_stat st; /* stat result */
	/* Routing (vfs_remote.c). */
	int64_t ret;                /* [m] fn's result, written on the owner before the reply */
	struct vfs_call *next;      /* [o] of the owner: next in its server's or a gate's queue */
	struct thread *waiter;      /* the calling thread */
	struct thread *gate_thread; /* [o] of the owner: the thread waiting at a gate with it */
	unsigned from;              /* the calling core */
	bool done;                  /* [o] of the caller: the reply has arrived */
	bool granted;               /* [o] of the owner: the gate was handed to it */
};

/* Runs c->fn(c) where c->m says (see above); returns its result. Thread context, unless the
 * mount is VFS_ANY_CORE. -EINVAL from a message handler for a mount that needs a thread,
 * -EFAULT for a PERCORE buffer or name sent to another core. */
int64_t vfs_call_run(struct vfs_call *c);

/* This core's counters (vfs.c); vfs_remote.c counts served_calls and remote_calls. */
extern PERCORE struct fs_stats vfs_stats;

/* A place in the tree. */
struct vfs_pos {
	struct vfs_mount *m; /* the mount */
	uint64_t ino;        /* an inode of that mount */
};

/* A path, resolved up to its last component (vfs_walk). */
struct vfs_path {
	struct vfs_pos dir;  /* the directory holding name */
	const char *name;    /* the last component (in the caller's path), NULL if the path ends
	                      * at "/", "." or ".." */
	size_t len;          /* bytes of name */
	struct vfs_pos node; /* what the path names when have_node */
	bool have_node;      /* name is NULL, or names a mount point */
	bool slash;          /* a '/' follows the last component: it must be a directory */
	int dots;            /* the path ends in "." (1) or ".." (2) */
};

/* vfs.c */
int vfs_walk(const char *path, struct vfs_path *p); /* 0 or -errno (see vfs.c) */
/* Sets c's function and place and runs it (vfs_call_run). */
int64_t vfs_run(struct vfs_call *c, int64_t (*fn)(struct vfs_call *), struct vfs_pos at);
int64_t vfs_x_lookup(struct vfs_call *c);     /* name in directory ino -> ino2 */
int64_t vfs_x_stat(struct vfs_call *c);       /* ino -> st */
int vfs_not_dir_error(uint32_t mode);         /* -ELOOP for a symlink, else -ENOTDIR */
unsigned vfs_mount_count(void);               /* mounts so far (acquire) */
struct vfs_mount *vfs_mount_slot(unsigned i); /* mount i < vfs_mount_count() */

#endif
