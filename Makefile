# isle - the one Makefile. `make` builds every example; `make test` runs every test.
# Quiet by default; `make V=1` shows full commands.

V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

BUILD := build
HOSTCC ?= cc

.SECONDEXPANSION:
.SECONDARY:


CC := gcc
LD := ld
OBJCOPY := objcopy
CORES ?= 2
APP ?= httpd
NET ?= user
# make run NET=user: host 127.0.0.1:PORT reaches the guest's GUEST_PORT (kvstore: 6379, else 80).
PORT ?= $(if $(filter kvstore,$(APP)),6379,8080)
GUEST_PORT ?= $(if $(filter kvstore,$(APP)),6379,80)
MEM ?= 256M
MACHINE ?= q35

GCC_INC := $(shell $(CC) -print-file-name=include)
LIBGCC := $(shell $(CC) -print-libgcc-file-name)

# Everything in the image: freestanding, kernel code model (linked in the top 2 GiB), no red
# zone (interrupts use the thread's stack), stack protector with a global canary.
COMMON_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdinc \
	-isystem $(GCC_INC) -Iinclude/libc -Iinclude -I. \
	-fno-pic -fno-pie -mcmodel=kernel -mno-red-zone -fno-common \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fstack-protector-strong -mstack-protector-guard=global -MD -MP
# The kernel never touches SSE/x87 registers, so interrupts need not save them.
KERNEL_CFLAGS := $(COMMON_CFLAGS) -mgeneral-regs-only
# Applications may use SSE.
APP_CFLAGS := $(COMMON_CFLAGS)
ASFLAGS := -I. -MD -MP
LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
	-T arch/x86_64/linker.ld

ARCH_OBJS := boot.o trampoline.o entry.o setup.o paging.o gdt.o trap.o apic.o tsc.o smp.o \
	serial.o power.o bootinfo.o pvh.o multiboot2.o acpi.o mptable.o pci.o ioapic.o rtc.o
KERNEL_OBJS := boot.o console.o printf.o string.o cmdline.o panic.o mem.o memplan.o kmem.o heap.o \
	ring.o msg.o timerq.o sched.o libc.o
KOBJS := $(addprefix $(BUILD)/arch/x86_64/,$(ARCH_OBJS)) $(addprefix $(BUILD)/kernel/,$(KERNEL_OBJS))
# The network (net/) is an archive: an image links it, and lwIP, only if the application uses
# sockets. hello stays small and boots without zeroing lwIP's pools.
NET_OBJS := lwip_port.o stack.o socket.o addr.o route.o virtio_net.o
# The virtio transports (kernel/virtio/) are shared by virtio-net and virtio-blk.
VIRTIO_OBJS := virtq.o virtio.o virtio_pci.o virtio_mmio.o
VIRTIO_LIB := $(BUILD)/kernel/libisle_virtio.a
NET_LIBS := $(BUILD)/net/libisle_net.a $(BUILD)/net/liblwip_percore.a $(VIRTIO_LIB)
# Files (fs/): an archive too, linked only if the application uses files or disks.
FS_OBJS := virtio_blk.o vfs.o vfs_file.o vfs_remote.o cpio.o ramfs.o initrd.o disk.o \
	ext2.o ext2_alloc.o ext2_cache.o ext2_dir.o ext2_inode.o
FS_LIB := $(BUILD)/fs/libisle_fs.a
# What every image links; the linker takes from the archives only what is referenced.
SYS_LIBS := $(FS_LIB) $(NET_LIBS)

# ---- lwIP ---------------------------------------------------------------------------------------
# Debian's source package, fetched by net/fetch-lwip into third_party/lwip (never committed),
# built with our configuration (net/lwipopts.h, net/port/) into liblwip_percore.a: the archive
# name makes all of lwIP's globals per-core at link time, one TCP/IP stack per core.
LWIP := third_party/lwip/src
LWIP_SRCS := $(addprefix core/,init.c def.c inet_chksum.c ip.c mem.c memp.c netif.c pbuf.c \
	raw.c stats.c sys.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
	$(addprefix core/ipv4/,dhcp.c etharp.c icmp.c ip4.c ip4_addr.c ip4_frag.c) netif/ethernet.c
LWIP_OBJS := $(LWIP_SRCS:%.c=$(BUILD)/lwip/%.o)
LWIP_INC := -isystem $(LWIP)/include -Inet -Inet/port -isystem $(BUILD)/uapi

# virtio definitions come from the Linux uapi headers (linux-libc-dev); only linux/ and asm/
# are made visible, so nothing else of the host's C library can leak into the image.
$(BUILD)/uapi/linux:
	@mkdir -p $(BUILD)/uapi
	$(Q)ln -sfn /usr/include/linux $(BUILD)/uapi/linux
	$(Q)ln -sfn /usr/include/x86_64-linux-gnu/asm $(BUILD)/uapi/asm
	$(Q)ln -sfn /usr/include/asm-generic $(BUILD)/uapi/asm-generic
LWIP_CFLAGS := $(KERNEL_CFLAGS) $(LWIP_INC)

# The sources exist only after the fetch: every target that needs them waits for the stamp, and
# the object rule is a static pattern rule so that make plans it before the files are there.
LWIP_STAMP := third_party/lwip/.fetched
$(LWIP_STAMP):
	$(Q)net/fetch-lwip && touch $@
$(addprefix $(LWIP)/,$(LWIP_SRCS)): $(LWIP_STAMP)
$(LWIP_OBJS): $(BUILD)/lwip/%.o: $(LWIP)/%.c net/lwipopts.h net/port/arch/cc.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(LWIP_CFLAGS) -c -o $@ $<
$(BUILD)/net/liblwip_percore.a: $(LWIP_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/net/libisle_net.a: $(addprefix $(BUILD)/net/,$(NET_OBJS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(VIRTIO_LIB): $(addprefix $(BUILD)/kernel/virtio/,$(VIRTIO_OBJS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/kernel/virtio/%.o: kernel/virtio/%.c | $(BUILD)/uapi/linux
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(KERNEL_CFLAGS) -isystem $(BUILD)/uapi -c -o $@ $<
$(FS_LIB): $(addprefix $(BUILD)/fs/,$(FS_OBJS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/fs/%.o: fs/%.c | $(BUILD)/uapi/linux
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(KERNEL_CFLAGS) -isystem $(BUILD)/uapi -c -o $@ $<
$(BUILD)/net/%.o: net/%.c | $(LWIP_STAMP) $(BUILD)/uapi/linux
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(KERNEL_CFLAGS) $(LWIP_INC) -c -o $@ $<


EXAMPLES := hello pingpong threads httpd netbench kvstore
GUEST_TESTS := $(patsubst tests/guest/%.c,%,$(wildcard tests/guest/*.c))

# `make` (all) builds every example: build/<app>.elf (with symbols, for gdb), build/<app>.img
# (stripped, what you deploy), build/<app>.asm (disassembly) and build/<app>.sym (symbols).
.PHONY: all examples guest-tests clean
all: examples
examples: $(EXAMPLES:%=$(BUILD)/%.elf)
guest-tests: $(GUEST_TESTS:%=$(BUILD)/test-%.elf) $(BUILD)/initrd-fs.cpio
examples: $(BUILD)/initrd-httpd.cpio

# httpd's default site (examples/httpd/site/), as the initrd the tests and benchmarks boot.
$(BUILD)/initrd-httpd.cpio: ci/mkinitrd $(wildcard examples/httpd/site/*)
	@echo "  CPIO    $@"
	$(Q)ci/mkinitrd examples/httpd/site $@

$(BUILD)/arch/%.o: arch/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(KERNEL_CFLAGS) -c -o $@ $<
$(BUILD)/arch/%.o: arch/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	$(Q)$(CC) $(ASFLAGS) -c -o $@ $<
$(BUILD)/kernel/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(KERNEL_CFLAGS) -c -o $@ $<
$(BUILD)/examples/%.o: examples/%.c | $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(APP_CFLAGS) $(LWIP_INC) -c -o $@ $<
$(BUILD)/tests/guest/%.o: tests/guest/%.c | $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(APP_CFLAGS) $(LWIP_INC) -c -o $@ $<

# The guest test of per-core globals: an ordinary C file with plain globals, made per-core at
# link time only by its archive name (lib*_percore.a, see arch/x86_64/linker.ld).
$(BUILD)/tests/guest/libplain_percore.a: $(BUILD)/tests/guest/lib/plain.o
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/tests/guest/lib/%.o: tests/guest/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(APP_CFLAGS) -c -o $@ $<

# Two-pass link: the first pass gives the text addresses, kernel/mksyms turns them into the
# symbol table for backtraces, the second pass links it in. Text does not move between the
# passes (the table sits after .data); the check below proves it.
define LINK_IMAGE
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -o $@.pass1 --start-group $(1) --end-group $(BUILD)/ksyms-empty.o $(LIBGCC)
	$(Q)nm -n --defined-only $@.pass1 | kernel/mksyms > $@.ksyms.S
	$(Q)$(CC) -c -o $@.ksyms.o $@.ksyms.S
	$(Q)$(LD) $(LDFLAGS) -o $@ --start-group $(1) --end-group $@.ksyms.o $(LIBGCC)
	$(Q)nm -n $@.pass1 | grep -i ' t ' > $@.t1; nm -n $@ | grep -i ' t ' > $@.t2; \
		cmp -s $@.t1 $@.t2 || { echo "text moved between link passes" >&2; exit 1; }
	$(Q)rm -f $@.t1 $@.t2 $@.pass1
	$(Q)objdump -d -M intel --no-show-raw-insn $@ > $(@:.elf=.asm)
	$(Q)nm -n $@ > $(@:.elf=.sym)
	$(Q)strip -o $(@:.elf=.img) $@
endef

$(BUILD)/ksyms-empty.o: kernel/mksyms
	@mkdir -p $(dir $@)
	$(Q)kernel/mksyms < /dev/null > $(BUILD)/ksyms-empty.S && $(CC) -c -o $@ $(BUILD)/ksyms-empty.S

app_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard examples/$(1)/*.c))
$(BUILD)/%.elf: $(KOBJS) $$(call app_objs,$$*) $(SYS_LIBS) $(BUILD)/ksyms-empty.o arch/x86_64/linker.ld
	$(call LINK_IMAGE,$(KOBJS) $(call app_objs,$*) $(SYS_LIBS))

# Guest tests link the per-core libraries: the plain test library and lwIP.
GUEST_LIBS := $(BUILD)/tests/guest/libplain_percore.a $(SYS_LIBS)
$(GUEST_TESTS:%=$(BUILD)/test-%.elf): $(BUILD)/test-%.elf: $(KOBJS) $(BUILD)/tests/guest/%.o $(GUEST_LIBS) $(BUILD)/ksyms-empty.o arch/x86_64/linker.ld
	$(call LINK_IMAGE,$(KOBJS) $(BUILD)/tests/guest/$*.o $(GUEST_LIBS))

# An initrd (cpio newc, ci/mkinitrd) from a folder: build/initrd-<name>.cpio from
# tests/guest/<name>-initrd/. Boot one with ci/qemu-run -i.
$(BUILD)/initrd-%.cpio: ci/mkinitrd $$(shell find tests/guest/$$*-initrd 2>/dev/null)
	@echo "  CPIO    $@"
	$(Q)ci/mkinitrd tests/guest/$*-initrd $@
# tests/guest/fs.c's initrd: tests/guest/fs-initrd/ plus what git cannot hold or should not:
# a 100 KiB binary file, a symlink, an empty directory, a name of FS_NAME_MAX bytes, and
# sums.txt, the cksum of every regular file, which the test checks every file against.
$(BUILD)/initrd-fs.cpio: ci/mkinitrd $(shell find tests/guest/fs-initrd 2>/dev/null)
	@echo "  CPIO    $@"
	$(Q)rm -rf $(BUILD)/fs-initrd && mkdir -p $(BUILD) && cp -r tests/guest/fs-initrd $(BUILD)/fs-initrd
	$(Q)cd $(BUILD)/fs-initrd && mkdir -p emptydir && ln -s hello.txt link && \
		python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 131 + (i >> 9)) & 255 for i in range(102407)))' >data/big.bin && \
		echo long >$$(printf 'n%.0s' $$(seq 255)) && \
		find . -type f | LC_ALL=C sort | xargs cksum >../fs-initrd.sums && mv ../fs-initrd.sums sums.txt
	$(Q)ci/mkinitrd $(BUILD)/fs-initrd $@

# QEMU's floor for ci/bench-boot: a PVH kernel that exits at once.
$(BUILD)/floor.elf: ci/floor/empty.S ci/floor/empty.ld
	@mkdir -p $(dir $@)
	$(Q)$(CC) -c -o $(BUILD)/floor.o ci/floor/empty.S
	$(Q)$(LD) -nostdlib -T ci/floor/empty.ld -o $@ $(BUILD)/floor.o

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- running ---------------------------------------------------------------------------------
.PHONY: deps run debug image test lint bench-boot bench-msg bench-net-internal bench-net bench-kv
deps:
	$(Q)ci/deps

SITE ?= $(if $(filter httpd,$(APP)),examples/httpd/site)
RUN_FILES = $(if $(SITE),-i $(BUILD)/run-site.cpio) $(if $(DISK),-d $(DISK))

# make run [APP=httpd] [CORES=2] [NET=user|tap|none] [MACHINE=q35|pc|microvm] [MEM=256M]
#          [SITE=folder] [DISK=image] [ARGS="kernel args -- app args"]
# SITE:     a folder packed into the initrd (ci/mkinitrd), mounted read-only at /; httpd serves
#           it. Default for httpd: examples/httpd/site.
# DISK:     a raw disk image (e.g. from `mke2fs -t ext2 -d folder disk.img 64M`) as virtio-blk;
#           ext2 on it is mounted at /disk (httpd: ARGS="-- root=/disk/www" serves from it).
# NET=user: QEMU user networking, http://127.0.0.1:8080/ reaches the guest's port 80
#           (APP=kvstore: 127.0.0.1:6379 the guest's 6379; PORT= and GUEST_PORT= change them).
# NET=tap:  a multiqueue tap `isle0` on the host (10.0.2.1/24; the guest is 10.0.2.15), one
#           queue pair per core. Needs root; the tap stays until `ip link del isle0`.
run: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/$(APP).elf
ifneq ($(SITE),)
	$(Q)ci/mkinitrd $(SITE) $(BUILD)/run-site.cpio
endif
ifeq ($(NET),tap)
	$(Q)ip link show isle0 >/dev/null 2>&1 || { ip tuntap add dev isle0 mode tap multi_queue && \
		ip addr add 10.0.2.1/24 dev isle0 && ip link set isle0 up; }
	@echo "isle: $(APP) on $(CORES) cores, http://10.0.2.15/ (quit: Ctrl-A X)"
	$(Q)ci/qemu-run -t 0 $(RUN_FILES) -c $(CORES) -m $(MEM) -M $(MACHINE) -n tap:isle0 $(BUILD)/$(APP).elf -- \
		ip=10.0.2.15 gw=10.0.2.1 $(ARGS)
else ifeq ($(NET),user)
	@echo "isle: $(APP) on $(CORES) cores, $(if $(filter kvstore,$(APP)),redis-cli -p $(PORT),http://127.0.0.1:$(PORT)/) (quit: Ctrl-A X)"
	$(Q)ci/qemu-run -t 0 $(RUN_FILES) -c $(CORES) -m $(MEM) -M $(MACHINE) -n user -p $(PORT):$(GUEST_PORT) $(BUILD)/$(APP).elf -- $(ARGS)
else
	$(Q)ci/qemu-run -t 0 $(RUN_FILES) -c $(CORES) -m $(MEM) -M $(MACHINE) $(BUILD)/$(APP).elf -- $(ARGS)
endif

debug: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/$(APP).elf
	@echo "QEMU is halted with a gdb stub on :1234. In another terminal:"
	@echo "    gdb -ex 'target remote :1234' -ex 'break boot_main' -ex continue $(BUILD)/$(APP).elf"
	$(Q)ci/qemu-run -t 0 -g -c $(CORES) -m $(MEM) -M $(MACHINE) $(BUILD)/$(APP).elf -- $(ARGS)

# make image [APP=httpd] [ARGS="kernel args -- app args"] [SITE=folder] [IMAGE_SIZE=64M]
# A disk image to boot without -kernel, on BIOS and UEFI machines, in QEMU or a cloud:
# build/<app>-disk.img (raw) and build/<app>-disk.qcow2. GRUB (ci/mkimage) loads build/<app>.img
# through Multiboot2 with the initrd: build/initrd-httpd.cpio for httpd's default site, SITE
# packed by ci/mkinitrd otherwise, none for other applications. ARGS is the kernel command line
# in grub.cfg (default empty: DHCP). See docs/platforms.md.
IMAGE_SIZE ?= 64M
IMAGE_INITRD = $(if $(filter examples/httpd/site,$(SITE)),$(BUILD)/initrd-httpd.cpio,$(if $(SITE),$(BUILD)/$(APP)-site.cpio))
image: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/$(APP).elf $(filter $(BUILD)/initrd-httpd.cpio,$(IMAGE_INITRD))
ifneq ($(filter-out examples/httpd/site,$(SITE)),)
	$(Q)ci/mkinitrd $(SITE) $(BUILD)/$(APP)-site.cpio
endif
	@echo "  IMAGE   $(BUILD)/$(APP)-disk.img $(BUILD)/$(APP)-disk.qcow2"
	$(Q)ci/mkimage $(if $(IMAGE_INITRD),-i $(IMAGE_INITRD)) -a "$(ARGS)" -s $(IMAGE_SIZE) \
		-q $(BUILD)/$(APP)-disk.qcow2 $(BUILD)/$(APP).img $(BUILD)/$(APP)-disk.img
	@echo "BIOS: ci/qemu-run -t 0 -n user -D $(BUILD)/$(APP)-disk.img   UEFI: add -u  (docs/platforms.md)"

# Every source file is formatted as .clang-format says.
lint:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')

# make test: everything, from a clean checkout (installs what it needs).
test: deps
	$(Q)$(MAKE) --no-print-directory -j2 all guest-tests unit fuzz
	$(Q)tests/run $(TESTFLAGS)

bench-boot: deps
	$(Q)$(MAKE) --no-print-directory -j2 all $(BUILD)/floor.elf $(BUILD)/test-idle.elf
	$(Q)ci/bench-boot

# wrk against examples/httpd and against a tuned Linux guest (same QEMU, same vCPUs, multiqueue
# tap), 1/2/4 cores, 5 interleaved runs, then the single-vCPU spread study: raw results in
# docs/bench/net.json, the README's tables and docs/img/bench-net.png from them (ci/bench-report).
bench-net: deps
	$(Q)ci/deps bench
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/httpd.elf $(BUILD)/initrd-httpd.cpio
	$(Q)ci/linux-guest/build
	$(Q)ci/bench-net

# redis-benchmark SET/GET, with and without pipelining, against examples/kvstore and against
# Debian's redis-server in the tuned Linux guest, one process and one per vCPU (same QEMU, same
# vCPUs, multiqueue tap), 1/2/4 cores, 5 interleaved runs: docs/bench/kv.json and the README's table.
bench-kv: deps
	$(Q)ci/deps bench
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/kvstore.elf
	$(Q)ci/linux-guest/build
	$(Q)ci/bench-kv

# How the kernel itself scales: per-core TCP over per-core loopback (examples/netbench).
bench-net-internal: deps
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/netbench.elf
	$(Q)ci/bench-net-internal

# Message latency and throughput between cores: examples/pingpong at 2 and 4 cores.
bench-msg: deps
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/pingpong.elf
	$(Q)for c in 2 4; do echo "## pingpong, $$c cores"; \
		ci/qemu-run -c $$c -t 120 $(BUILD)/pingpong.img | tr -d '\r' | grep -v '^\[' | grep -v 'SeaBIOS\|Booting'; done

clean:
	rm -rf $(BUILD)

# ---- host unit tests ------------------------------------------------------------------------
# tests/unit/test_<name>.c is one test program; tests/unit/<name>.mk says which portable
# sources it links: unit_<name>_SRCS := kernel/foo.c ...
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all -DISLE_HOST -Iinclude -I.
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
-include $(wildcard tests/unit/*.mk)

$(BUILD)/unit/test_%: tests/unit/test_%.c $$(unit_$$*_SRCS) tests/unit/test.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) $(unit_$*_CFLAGS) -o $@ $< $(unit_$*_SRCS) $(unit_$*_LIBS)

.PHONY: unit
unit: $(UNIT_TESTS:%=$(BUILD)/unit/test_%)

# ---- fuzz targets (libFuzzer, host) ------------------------------------------------------------
# tests/fuzz/fuzz_<name>.c with tests/fuzz/<name>.mk: fuzz_<name>_SRCS := portable sources.
# `make fuzz` builds them; tests/run runs each for a bounded time.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
-include $(wildcard tests/fuzz/*.mk)
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -DISLE_HOST -Iinclude -I.
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_$$*_SRCS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) $(fuzz_$*_CFLAGS) -o $@ $< $(fuzz_$*_SRCS)
.PHONY: fuzz
fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
