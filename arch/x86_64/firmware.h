/*
 * firmware.h - what the hypervisor or boot loader tells isle at boot: the PVH start info or the
 * Multiboot2 information, and the ACPI tables.
 *
 * The parsers are pure functions over memory: no globals, no printing, no other arch code, so
 * the same sources are compiled for the kernel and for host unit tests under sanitizers. They
 * never dereference a physical address themselves; every access goes through a caller-supplied
 * struct phys_access. In the kernel physical memory is identity mapped and map() only checks the
 * range; in the tests map() points into a buffer that plays the part of physical memory.
 *
 * Everything is treated as untrusted input. Every length and count is checked before it is
 * used, nothing is read outside a range map() granted, and a malformed structure is reported
 * instead of being guessed around. Everything the caller needs is copied out, so the memory the
 * firmware used may be reused once the parser has returned.
 *
 * Error reporting (every parser): the return value is 0 or -errno. When err is not NULL and
 * errlen > 0, err always receives a NUL-terminated message: on failure, what was wrong; on
 * success, either "" or a one-line warning about the first tolerance that was applied
 * (truncated lists, bad checksums). The caller SHOULD print a non-empty err either way.
 *
 * Context: these functions MAY be called from any context, any number of times; they only
 * write *out and err. They are meant to run once on the boot core.
 */
#ifndef ISLE_ARCH_FIRMWARE_H
#define ISLE_ARCH_FIRMWARE_H

#include "kernel/compiler.h"

/*
 * How a parser reads physical memory. map() MUST return a pointer through which the len bytes
 * at [phys, phys + len) can be read, or NULL if any of them is not accessible (including when
 * phys + len overflows). It MAY be called many times, with small and large ranges. The parsers
 * never write through the pointer.
 */
struct phys_access {
	const void *(*map)(uint64_t phys, size_t len, void *ctx); /* range -> pointer, or NULL */
	void *ctx; /* passed back to map() untouched */
};

/* ---- PVH start info (Xen public arch-x86/hvm/start_info.h) ---------------------------- */

#define PVH_START_MAGIC 0x336ec578u /* hvm_start_info.magic: "xEn3" with 0x80 set in 'E' */

#define BOOT_MAX_MEM 128        /* memory map entries kept, after sorting and merging */
#define BOOT_MAX_MEM_RAW 1024   /* firmware memory map entries accepted; more is an error */
#define BOOT_MAX_MODULES 8      /* modules kept; further ones are dropped and flagged */
#define BOOT_CMDLINE_MAX 4096   /* bytes of command line kept, including the NUL */
#define BOOT_MOD_CMDLINE_MAX 64 /* bytes of a module's command line kept, including the NUL */
#define BOOT_LOADER_MAX 48      /* bytes of the boot loader's name kept, including the NUL */

#define BOOT_MEM_RAM 1  /* boot_mem.type of usable RAM; other values are the E820 types */
#define BOOT_MEM_ACPI 3 /* ACPI tables, reclaimable once they have been parsed */

/* One range of the physical memory map. */
struct boot_mem {
	uint64_t base; /* first byte */
	uint64_t len;  /* bytes, never 0; base + len does not overflow */
	uint32_t type; /* BOOT_MEM_RAM, or the E820 type the firmware gave (2 reserved, ...) */
};

/* One boot module (the initrd is module 0). */
struct boot_module {
	uint64_t base;                      /* physical address of the first byte, never 0 */
	uint64_t len;                       /* bytes; base + len does not overflow */
	char cmdline[BOOT_MOD_CMDLINE_MAX]; /* NUL-terminated; "" if the module has none */
	bool cmdline_truncated; /* the module's command line was longer than cmdline[] */
};

/*
 * What pvh_parse() copies out of hvm_start_info, or mb2_parse() out of the Multiboot2
 * information. Memory map rules:
 *  - sorted by base, no two entries overlap;
 *  - where a RAM entry overlaps a non-RAM entry the non-RAM type wins; where non-RAM entries
 *    overlap each other, ACPI (3) loses to any other type and otherwise the larger type wins,
 *    so the map can only ever under-report RAM;
 *  - adjacent or overlapping entries of the same type are merged; zero-length ones skipped;
 *  - gaps are not RAM;
 *  - if the result needs more than BOOT_MAX_MEM entries the highest ones are dropped and
 *    mem_truncated is set (dropping only loses memory, it never invents any).
 * The struct is about 8 KiB: do not put it on a small stack.
 */
struct boot_info {
	struct boot_mem mem[BOOT_MAX_MEM]; /* the normalised memory map, see above */
	unsigned nmem;                     /* entries used in mem[], at least one of them RAM */
	bool mem_truncated; /* the map did not fit in mem[]; ranges above the last were lost */
	struct boot_module mod[BOOT_MAX_MODULES]; /* the modules, in the firmware's order */
	unsigned nmod;                            /* entries used in mod[] */
	bool mod_truncated;             /* the firmware passed more than BOOT_MAX_MODULES modules */
	char cmdline[BOOT_CMDLINE_MAX]; /* kernel command line, NUL-terminated, "" if none */
	bool cmdline_truncated; /* cut to fit, or it ran into inaccessible memory unterminated */
	uint64_t rsdp;          /* physical address of the ACPI RSDP, 0 if none (Multiboot2: see
	                         * mb2_parse: it points into the loader's information) */
	char loader[BOOT_LOADER_MAX]; /* the boot loader's name (Multiboot2 tag 2), "" if none */
};

/*
 * pvh_parse - validate the hvm_start_info at start_info_phys and copy it into *out.
 * Versions 0 and 1 are known; later versions are read as version 1 (Xen promises they are
 * backwards compatible). Version 0 has no memory map, which isle cannot boot without.
 * Returns 0, or:
 *  -EFAULT  the start info, a list or a string is not accessible through pa
 *  -EINVAL  bad magic; an entry or module that wraps past 2^64; a module at address 0
 *  -ENOENT  no memory map (version 0, or a NULL/empty one), or no RAM in it
 *  -E2BIG   more than BOOT_MAX_MEM_RAW memory map entries
 * On failure *out is all zero.
 */
int pvh_parse(uint64_t start_info_phys, const struct phys_access *pa, struct boot_info *out,
              char *err, size_t errlen);

/* ---- Multiboot2 information (Multiboot2 specification 2.0, section 3.6) ---------------- */

#define MB2_BOOTLOADER_MAGIC 0x36d76289u /* %eax at a Multiboot2 loader's entry */
#define MB2_INFO_MAX (1u << 20)          /* larger total sizes are treated as corrupt */

/*
 * mb2_parse - validate the Multiboot2 information at info_phys (8-byte aligned: u32 total_size,
 * u32 reserved, then tags, each 8-byte aligned, ending with an end tag) and copy it into *out:
 *  - the memory map from tag 6 (entries of entry_size >= 24 bytes, the first 24 read as PVH's),
 *    normalised exactly as pvh_parse() does;
 *  - the command line from tag 1, the boot loader's name from tag 2;
 *  - the modules from the type 3 tags, in order (the initrd is module 0);
 *  - rsdp: the physical address of the RSDP copy inside tag 15 (ACPI 2.0+), else inside tag 14
 *    (ACPI 1.0). It is not copied out: it stays valid only while the information's memory is
 *    untouched, so the caller MUST run acpi_parse() before it reuses any memory. The tag must
 *    hold the whole RSDP its revision calls for (20 bytes; from revision 2, its length field).
 * A string that is not terminated inside its tag is cut at the tag's end and flagged truncated.
 * Other tags are skipped. Returns 0, or:
 *  -EFAULT  the information is not accessible through pa
 *  -EINVAL  not 8-byte aligned; a total size below 16 or above MB2_INFO_MAX; a tag shorter than
 *           its header or its fixed part, or running past the total size; no end tag; a second
 *           tag 1, 2, 6, 14 or 15; a memory map tag that is not a whole number of entries or
 *           whose entries are shorter than 24 bytes; a module at address 0 or ending before it
 *           starts; an entry that wraps past 2^64; an RSDP tag shorter than its RSDP
 *  -ENOENT  no memory map tag, or no RAM in it
 *  -E2BIG   more than BOOT_MAX_MEM_RAW memory map entries
 * On failure *out is all zero.
 */
int mb2_parse(uint64_t info_phys, const struct phys_access *pa, struct boot_info *out, char *err,
              size_t errlen);

/* ---- ACPI (ACPI 6.x: RSDP, RSDT/XSDT, MADT, FADT + DSDT \_S5_, MCFG) ------------------ */

#define ACPI_MAX_CPUS 256          /* processors kept from the MADT (isle's MAX_CORES) */
#define ACPI_TABLE_MAX (16u << 20) /* larger table lengths are treated as corrupt */

#define ACPI_SPACE_MEMORY 0 /* generic address structure: system memory */
#define ACPI_SPACE_IO 1     /* generic address structure: system I/O */

/*
 * What acpi_parse() copies out of the tables. Fields of a table that is absent, or beyond the
 * length of a short table, read as 0 / false.
 */
#define ACPI_MAX_MMIO 32

struct acpi_info {
	/* MADT (required) */
	unsigned ncpus;                  /* entries in apic_id[], at least 1 */
	uint32_t apic_id[ACPI_MAX_CPUS]; /* enabled CPUs (MADT types 0, 9), table order, no dups */
	bool cpus_truncated;   /* more than ACPI_MAX_CPUS enabled CPUs; the first ones were kept */
	unsigned cpus_hotplug; /* online-capable but not enabled CPUs: not present, not listed */
	uint64_t lapic_phys;   /* local APIC base: the MADT field, or its type 5 override */
	uint32_t ioapic_phys;  /* first I/O APIC's MMIO base */
	uint32_t ioapic_gsi_base; /* first GSI that I/O APIC handles */
	bool has_ioapic;          /* the MADT lists at least one I/O APIC */
	bool has_8259;            /* MADT flag PCAT_COMPAT: legacy PICs present (mask them) */

	/* FADT and DSDT (optional): power off and reset */
	bool has_fadt;           /* a FADT was found */
	bool hw_reduced;         /* FADT flag HW_REDUCED_ACPI: no PM1 blocks, use sleep_ctl */
	uint32_t pm1a_cnt;       /* PM1a control block I/O port (<= 0xffff), 0 if absent */
	uint32_t pm1b_cnt;       /* PM1b control block I/O port (<= 0xffff), 0 if absent */
	uint64_t sleep_ctl;      /* SLEEP_CONTROL_REG address (HW-reduced), 0 if absent */
	uint8_t sleep_ctl_space; /* ACPI_SPACE_MEMORY or ACPI_SPACE_IO */
	bool have_s5;            /* the DSDT defines Name(_S5_, Package(){a, b, ...}) */
	uint8_t s5_typa;         /* SLP_TYPa for S5 (0..7) */
	uint8_t s5_typb;         /* SLP_TYPb for S5 (0..7) */
	uint32_t reset_port;     /* FADT RESET_REG I/O port (<= 0xffff), when have_reset */
	uint8_t reset_value;     /* byte to write to reset_port, when have_reset */
	bool have_reset;         /* RESET_REG is supported and in I/O space */

	/* MCFG (optional): PCIe ECAM, first allocation entry */
	bool has_mcfg;          /* the MCFG has at least one entry */
	uint64_t mcfg_base;     /* ECAM base address of that entry */
	uint16_t mcfg_segment;  /* its PCI segment group */
	uint8_t mcfg_bus_start; /* first bus it decodes */
	uint8_t mcfg_bus_end;   /* last bus it decodes, >= mcfg_bus_start */

	unsigned bad_checksums; /* tables other than the RSDP whose checksum failed, used anyway */

	/* virtio-mmio devices declared in the DSDT (_HID "LNRO0005", as QEMU microvm does) */
	unsigned nmmio;
	struct acpi_mmio_dev {
		uint64_t base; /* register block (Memory32Fixed) */
		uint32_t len;  /* its length */
		uint32_t irq;  /* interrupt line (Extended Interrupt descriptor) */
	} mmio[ACPI_MAX_MMIO];
};

/*
 * acpi_parse - find and parse the tables isle needs, starting at the RSDP at rsdp_phys.
 * The RSDP MUST be valid (signature, checksum, extended checksum for revision >= 2); the XSDT
 * is used when present, else the RSDT. The MADT is required and must list an enabled CPU. The
 * FADT, DSDT and MCFG are optional, but a table that is present and malformed (unreachable,
 * wrong signature, shorter than its fixed part, entries overrunning it) is an error. A wrong
 * checksum on any table but the RSDP is only counted in bad_checksums, as seen in the wild.
 * An _S5_ that is not the simple package form leaves have_s5 false; that is not an error.
 * Returns 0, or:
 *  -ENOENT  rsdp_phys is 0, or there is no MADT
 *  -EFAULT  a table is not accessible through pa
 *  -EINVAL  a bad RSDP, or a malformed table
 *  -ENODEV  the MADT lists no enabled CPU
 * On failure *out is all zero.
 */
int acpi_parse(uint64_t rsdp_phys, const struct phys_access *pa, struct acpi_info *out, char *err,
               size_t errlen);

/*
 * acpi_find_rsdp - looks for the RSDP where BIOS-style firmware leaves it when the loader did
 * not pass its address (Firecracker's PVH start info has rsdp_paddr 0): the first KiB of the
 * EBDA, then 0xE0000-0xFFFFF, on 16-byte boundaries. A candidate needs the signature and valid
 * checksums. Returns its physical address, or 0.
 */
uint64_t acpi_find_rsdp(const struct phys_access *pa);

/* ---- MultiProcessor Specification 1.4 tables (machines without ACPI) --------------------- */

/*
 * mptable_parse - finds the MP floating pointer ("_MP_": first KiB of the EBDA, last KiB of base
 * memory, 0xF0000-0xFFFFF), validates it and its configuration table ("PCMP"), and fills in
 * *out what ACPI's MADT would have given: the enabled CPUs (ncpus, apic_id[], cpus_truncated),
 * lapic_phys (0xFEE00000 if the table says 0) and the first enabled I/O APIC (has_ioapic,
 * ioapic_phys). Every other field stays 0. Returns 0, or:
 *  -ENOENT  no floating pointer
 *  -ENOTSUP a default configuration (no table)
 *  -EFAULT  the table is not accessible through pa
 *  -EINVAL  a malformed table (signature, length, checksum, entries)
 *  -ENODEV  no enabled processor
 * Errors and warnings as for the parsers above; on failure *out is all zero.
 */
int mptable_parse(const struct phys_access *pa, struct acpi_info *out, char *err, size_t errlen);

/*
 * fw_scan - the BIOS-memory search both use: tries each 16-byte boundary of the areas asked for,
 * in this order, and returns the first address valid() accepts, or 0. valid() MUST map what it
 * reads through pa.
 */
#define FW_SCAN_EBDA 1u     /* first KiB of the EBDA (segment at 0x40E), if there is one */
#define FW_SCAN_BASE_TOP 2u /* last KiB of base memory: [0x9FC00, 0xA0000) */
#define FW_SCAN_E0000 4u    /* [0xE0000, 0xF0000) */
#define FW_SCAN_F0000 8u    /* [0xF0000, 0x100000), the BIOS ROM */
uint64_t fw_scan(const struct phys_access *pa, unsigned areas,
                 bool (*valid)(const struct phys_access *pa, uint64_t at));

#endif
