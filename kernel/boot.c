/*
 * boot.c - the portable boot sequence, after arch/ has set up the boot core.
 *
 *   boot core:   kernel_main: log the boot stages, memory, scheduler, message rings, start the
 *                other cores, wait until all are ready, start main() as a thread, schedule.
 *   other cores: kernel_core_start: memory, scheduler, "ready", schedule.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <isle/errno.h>
#include <isle/msg.h>
#include "arch/x86_64/arch.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/mem.h"
#include "kernel/msg.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/profile.h"
#include "kernel/sched.h"
#include "kernel/watchdog.h"

unsigned ncores = 1;                   /* [I] */
struct core_share core_mem[MAX_CORES]; /* [I] */
PERCORE unsigned core_self;            /* [o] */
uintptr_t core_window[MAX_CORES];      /* [I] */
/* [I] */
struct kconfig kconfig = { .loglevel = LOG_INFO, .watchdog_ms = WATCHDOG_MS_DEFAULT };

static struct cmdline_list mmio_devices;         /* [I] virtio_mmio.device= (for the drivers) */
static uint32_t cores_ready __cacheline_aligned; /* [a] cores that finished start-up */

/* Another core's copy of a PERCORE object: the same offset in that core's window, which the
 * identity map reaches (isle/percore.h). */
void *percore_ptr(const void *own, unsigned core)
{
	extern char __percore_start[], __percore_end[]; /* the window (arch/x86_64/linker.ld) */
	uintptr_t p = (uintptr_t)own, start = (uintptr_t)__percore_start;
	if (p < start || p >= (uintptr_t)__percore_end || core >= ncores)
		return NULL;
	return (void *)(core_window[core] + (p - start));
}

extern int main(int argc, char **argv);
/* The network stack, when the application links it (net/stack.c). */
extern void net_init_core(void) __weak;
/* Files, when the application uses them (fs/initrd.c): mounts the initrd at / (and the disk). */
extern void fs_init(void) __weak;
/* Disks, when the application links the file system (fs/virtio_blk.c). */
extern void blk_init_core(void) __weak;

static const char *const loglevels[] = { "error", "warn", "info", "debug", NULL };
static const char *const acpi_modes[] = { "on", "off", NULL };
static const char *const apic_modes[] = { "auto", "xapic", NULL };
static const char *const timer_modes[] = { "auto", "oneshot", NULL };
static const char *const watchdog_actions[] = { "log", "panic", NULL };

/* The options declared outside kernel/ with CMDLINE_OPTION (linker.ld collects them). */
extern const struct cmdline_opt __cmdline_opts_start[], __cmdline_opts_end[];

int kernel_parse_cmdline(char *line, char *err, size_t errlen)
{
	const struct cmdline_opt opts[] = {
		{ "cores", CMDLINE_UINT, &kconfig.cores, 1, MAX_CORES, NULL,
		  "use at most this many cores (default: all)" },
		{ "loglevel", CMDLINE_ENUM, &kconfig.loglevel, 0, 0, loglevels,
		  "kernel log level: error, warn, info (default), debug" },
		{ "acpi", CMDLINE_ENUM, &kconfig.acpi, 0, 0, acpi_modes,
		  "on (default); off: ignore the ACPI tables, take the CPUs from the MP table" },
		{ "apic", CMDLINE_ENUM, &kconfig.apic, 0, 0, apic_modes,
		  "auto (default: x2APIC if the CPU has it); xapic: the xAPIC (MMIO) even so" },
		{ "timer", CMDLINE_ENUM, &kconfig.timer, 0, 0, timer_modes,
		  "auto (default: TSC-deadline if offered); oneshot: the LAPIC one-shot timer" },
		{ "virtio_mmio.device", CMDLINE_LIST, &mmio_devices, 0, 0, NULL,
		  "a virtio-mmio device, size@base:irq (added by QEMU microvm)" },
		{ "profile", CMDLINE_UINT, &kconfig.profile_hz, 0, PROFILE_HZ_MAX, NULL,
		  "samples per second on every core (default 0: off), docs/profiling.md" },
		{ "profile_seconds", CMDLINE_UINT, &kconfig.profile_seconds, 0, PROFILE_SECONDS_MAX,
		  NULL, "with profile=: write the profile, exit 0, this long after boot" },
		{ "watchdog", CMDLINE_UINT, &kconfig.watchdog_ms, 0, WATCHDOG_MS_MAX, NULL,
		  "report a core this many ms out of its scheduler (default 1000; 0: off)" },
		{ "watchdog_action", CMDLINE_ENUM, &kconfig.watchdog_action, 0, 0, watchdog_actions,
		  "what a stuck core's report does: log (default) or panic (status 100)" },
	};
	/* The kernel's options, then those of the subsystems linked into this image. */
	size_t extra = (size_t)(__cmdline_opts_end - __cmdline_opts_start);
	struct cmdline_opt all[ARRAY_SIZE(opts) + CMDLINE_EXTRA_MAX];
	if (extra > CMDLINE_EXTRA_MAX) {
		ksnprintf(err, errlen, "the image declares %zu options of its own (at most %u)",
		          extra, CMDLINE_EXTRA_MAX);
		return -EINVAL;
	}
	memcpy(all, opts, sizeof(opts));
	memcpy(all + ARRAY_SIZE(opts), __cmdline_opts_start, extra * sizeof(*all));
	kconfig.argv[0] = "isle";
	int argc = 0;
	int err_code = cmdline_parse(line, all, ARRAY_SIZE(opts) + extra, &argc, kconfig.argv + 1,
	                             (int)ARRAY_SIZE(kconfig.argv) - 2, err, errlen);
	kconfig.argc = argc + 1;
	if (err_code)
		return err_code;
	if (kconfig.profile_seconds && !kconfig.profile_hz) {
		ksnprintf(err, errlen, "option 'profile_seconds' needs profile=HZ");
		return -EINVAL;
	}
	if (kconfig.watchdog_ms && kconfig.watchdog_ms < WATCHDOG_MS_MIN) {
		ksnprintf(err, errlen,
		          "option 'watchdog': %lu is out of range 0 (off) or %u..%u (ms)",
		          kconfig.watchdog_ms, WATCHDOG_MS_MIN, WATCHDOG_MS_MAX);
		return -EINVAL;
	}
	if (!kconfig.watchdog_ms && kconfig.watchdog_action == KCONFIG_WATCHDOG_PANIC) {
		ksnprintf(err, errlen, "option 'watchdog_action=panic' needs the watchdog (not 0)");
		return -EINVAL;
	}
	return 0;
}

static uint64_t boot_wall_ns; /* [I] wall clock (ns since 1970) when now_ns() was 0; 0: unknown */

int64_t time_unix(void)
{
	return boot_wall_ns ? (int64_t)((boot_wall_ns + now_ns()) / 1000000000) : 0;
}

int64_t time_unix_ms(void)
{
	return boot_wall_ns ? (int64_t)((boot_wall_ns + now_ns()) / 1000000) : 0;
}

/* Reads the RTC once and says what time the VM thinks it is. */
static void start_clock(void)
{
	int64_t s = arch_rtc_seconds();
	if (s <= 0) {
		log_info("clock: no real-time clock; file times are 0");
		return;
	}
	boot_wall_ns = (uint64_t)s * 1000000000 - now_ns();
	/* days since 1970 to a date, after H. Hinnant's civil_from_days (s > 0 here) */
	int64_t z = s / 86400 + 719468, rem = s % 86400;
	int64_t era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = yoe + era * 400 + (month <= 2);
	log_info("clock: %04ld-%02ld-%02ld %02ld:%02ld:%02ld UTC (RTC)", year, month, day,
	         rem / 3600, rem / 60 % 60, rem % 60);
}

static void log_boot(void)
{
	unsigned n;
	const struct boot_stage *st = arch_boot_stages(&n);
	log_info("isle: %u core%s, %s", ncores, ncores > 1 ? "s" : "", arch_describe());
	log_info("memory: %s", arch_describe_memory());
	uint64_t prev = 0;
	for (unsigned i = 0; i < n; i++) {
		log_info("boot: %-8s done at %6lu us (+%lu us)", st[i].name, st[i].ns / 1000,
		         (st[i].ns - prev) / 1000);
		prev = st[i].ns;
	}
	for (unsigned i = 0; i < mmio_devices.n; i++)
		log_debug("virtio_mmio.device=%s", mmio_devices.items[i]);
	for (unsigned c = 0; c < ncores; c++) {
		const struct core_share *cs = &core_mem[c];
		for (unsigned s = 0; s < cs->nspans; s++)
			log_debug("core %u: %lu MiB private memory at %#lx", c,
			          cs->span[s].len >> 20, cs->span[s].base);
	}
}

/* Shared memory for the message rings, plus 64 KiB per core and 4 MiB for boot data (device
 * queues and their bookkeeping, taken with boot_alloc). */
size_t kernel_shared_bytes(unsigned n)
{
	return msg_shared_bytes(n) + (size_t)n * (64u << 10) + (4u << 20);
}

__noreturn void boot_fail(const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("boot failed: %s", msg);
	arch_exit(EXIT_BOOT_FAILED);
}

/* Every core's rand() (and so lwIP's ports and other random choices) starts differently. */
static void seed_core(void)
{
	srand((unsigned)(cpu_random() ^ rdtsc() ^ (uint64_t)core_id() * 0x9E3779B97F4A7C15ull));
}

static int main_thread(void *arg)
{
	(void)arg;
	if (fs_init)
		fs_init(); /* in a thread: mounting a disk may block */
	int ret = main(kconfig.argc, kconfig.argv);
	exit(ret);
}

__noreturn void kernel_main(void)
{
	log_boot();
	start_clock();
	seed_core();
	mem_init_core();
	sched_init_core();
	msg_init();
	if (net_init_core)
		net_init_core(); /* on the boot core: also finds and sets up the NIC */
	if (blk_init_core)
		blk_init_core(); /* on the boot core: also finds and sets up the disks */
	profile_init();
	watchdog_init();
	uint64_t t0 = now_ns();
	arch_start_cores();
	/* Acquire: every core's start-up (allocator, scheduler) is done before we go on. */
	while (__atomic_load_n(&cores_ready, __ATOMIC_ACQUIRE) != ncores - 1)
		cpu_pause();
	log_info("boot: %u core%s up in %lu us, main() at %lu us", ncores, ncores > 1 ? "s" : "",
	         (now_ns() - t0) / 1000, now_ns() / 1000);
	if (thread_spawn(0, main_thread, NULL) < 0)
		panic("cannot start main()");
	profile_init_core();
	watchdog_init_core();
	sched_run();
}

__noreturn void kernel_core_start(unsigned core)
{
	(void)core;
	seed_core();
	mem_init_core();
	sched_init_core();
	if (net_init_core)
		net_init_core();
	if (blk_init_core)
		blk_init_core();
	profile_init_core();
	watchdog_init_core();
	/* Release: this core's start-up happens before the boot core reads the count. */
	__atomic_fetch_add(&cores_ready, 1, __ATOMIC_RELEASE);
	sched_run();
}

const struct cmdline_list *kernel_mmio_devices(void)
{
	return &mmio_devices;
}
