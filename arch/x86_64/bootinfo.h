/*
 * bootinfo.h - what the boot-protocol parsers share (pvh.c, multiboot2.c; code in bootinfo.c).
 *
 * Both protocols hand isle the same things in different wrappers: a raw memory map in the E820
 * style, a command line and modules. The parsers read their wrapper and fill struct boot_info
 * (firmware.h); the memory map normalisation, the error messages and the closing warnings are
 * here so that both give exactly the same result for the same input. The error messages and the
 * entry-point wrapper (fw_parse) serve the ACPI and MP table parsers too. Internal to the
 * parsers: nothing else includes this.
 */
#ifndef ISLE_ARCH_BOOTINFO_H
#define ISLE_ARCH_BOOTINFO_H

#include "arch/x86_64/firmware.h"

/* Where a parser's messages go: the caller's err buffer (see firmware.h, error reporting). */
struct fw_msg {
	char *buf;  /* caller's buffer, NULL if it wants no message */
	size_t len; /* its size in bytes */
};

/* Starts a message buffer: err[0] = '\0' when there is room. */
struct fw_msg fw_msg_init(char *err, size_t errlen);

/* Records why parsing failed (replacing any warning) and returns rc, a -errno. */
__attribute__((format(printf, 3, 4))) int fw_fail(struct fw_msg *m, int rc, const char *fmt, ...);

/* Records a warning unless an earlier one is already there. */
__attribute__((format(printf, 2, 3))) void fw_warn(struct fw_msg *m, const char *fmt, ...);

/*
 * What every parser's entry point does around its work: starts the message, refuses a NULL out
 * or pa, zeroes *out (out_size bytes), calls parse(arg, pa, out, m), and zeroes *out again if
 * that failed. Returns parse's result (or -EINVAL).
 */
int fw_parse(uint64_t arg, const struct phys_access *pa, void *out, size_t out_size, char *err,
             size_t errlen,
             int (*parse)(uint64_t arg, const struct phys_access *pa, void *out, struct fw_msg *m));

/*
 * The raw entry both protocols use: { u64 addr, u64 size, u32 type, u32 reserved }, 24 bytes,
 * little endian (PVH hvm_memmap_table_entry, Multiboot2 memory map entry version 0).
 */
#define BOOTINFO_MEM_ENTRY_SIZE 24

/*
 * bootinfo_mem - normalises the n raw entries at raw, stride bytes apart (stride >=
 * BOOTINFO_MEM_ENTRY_SIZE; only the first 24 bytes of each are read, so the caller MUST have
 * mapped n * stride bytes), into out->mem following the rules of struct boot_info. out->mem must
 * be empty. Returns 0, -EINVAL (an entry wraps past 2^64) or -ENOENT (no non-empty entry, no
 * RAM), with the message in m.
 */
int bootinfo_mem(const uint8_t *raw, unsigned n, size_t stride, struct boot_info *out,
                 struct fw_msg *m);

/*
 * bootinfo_warnings - after a successful parse: the warning for the first tolerance applied
 * (memory map, modules, command lines cut), unless one is recorded already. nmod_given is the
 * number of modules the loader passed.
 */
void bootinfo_warnings(const struct boot_info *out, unsigned nmod_given, struct fw_msg *m);

#endif
