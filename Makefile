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

.DEFAULT_GOAL := all
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
# zone (interrupts use the thread's stack), stack protector with a global canary. SDK_CFLAGS is
# also what the installed isle-cc compiles with (make install).
SDK_CFLAGS := -std=gnu11 -ffreestanding -nostdinc -fno-pic -fno-pie -mcmodel=kernel -mno-red-zone \
	-fno-common -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fstack-protector-strong -mstack-protector-guard=global
COMMON_CFLAGS := $(SDK_CFLAGS) -O2 -g -Wall -Wextra -Werror -isystem $(GCC_INC) -Iinclude/libc \
	-Iinclude -I. -MD -MP
# The kernel never touches SSE/x87 registers, so interrupts need not save them.
KERNEL_CFLAGS := $(COMMON_CFLAGS) -mgeneral-regs-only
# Applications may use SSE.
APP_CFLAGS := $(COMMON_CFLAGS)
ASFLAGS := -I. -MD -MP

ARCH_OBJS := boot.o trampoline.o entry.o setup.o paging.o gdt.o trap.o irq.o apic.o tsc.o smp.o \
	serial.o power.o bootinfo.o pvh.o multiboot2.o acpi.o mptable.o pci.o ioapic.o rtc.o timer.o
KERNEL_OBJS := boot.o console.o printf.o string.o cmdline.o panic.o mem.o memplan.o kmem.o heap.o \
	ring.o msg.o timerq.o sched.o stack.o libc.o profile.o proftab.o watchdog.o wdscan.o
KOBJS := $(addprefix $(BUILD)/arch/x86_64/,$(ARCH_OBJS)) $(addprefix $(BUILD)/kernel/,$(KERNEL_OBJS))
# The network (net/) is an archive: an image links it, and lwIP, only if the application uses
# sockets. hello stays small and boots without zeroing lwIP's pools.
NET_OBJS := lwip_port.o stack.o socket.o addr.o arp.o route.o tcp_hooks.o virtio_net.o
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

# Two-pass link (ci/isle-link, which the SDK's isle-cc uses too): the first pass gives the text
# addresses, kernel/mksyms turns them into the symbol table for backtraces, the second pass
# links it in. Then the disassembly, the symbols, and the stripped image to deploy.
define LINK_IMAGE
	@echo "  LD      $@"
	$(Q)LD=$(LD) CC=$(CC) ci/isle-link -T arch/x86_64/linker.ld -s kernel/mksyms \
		-e $(BUILD)/ksyms-empty.o -o $@ $(1)
	$(Q)objdump -d -M intel --no-show-raw-insn $@ > $(@:.elf=.asm)
	$(Q)nm -n $@ > $(@:.elf=.sym)
	$(Q)strip -o $(@:.elf=.img) $@
endef

$(BUILD)/ksyms-empty.o: kernel/mksyms
	@mkdir -p $(dir $@)
	$(Q)kernel/mksyms < /dev/null > $(BUILD)/ksyms-empty.S && $(CC) -c -o $@ $(BUILD)/ksyms-empty.S

app_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard examples/$(1)/*.c))
$(BUILD)/%.elf: $(KOBJS) $$(call app_objs,$$*) $(SYS_LIBS) $(BUILD)/ksyms-empty.o arch/x86_64/linker.ld ci/isle-link
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
.PHONY: deps run debug run-prepare image profile test lint install check-headers soak bench-boot \
	bench-msg bench-net-internal bench-net bench-kv bench-scale-tax
deps:
	$(Q)ci/deps

# APP names an example (examples/APP/) or, with a slash in it, a folder of your own with .c
# files (built into build/ext/<the folder's path>/NAME.elf). Anything else stops with a list of
# the examples.
ifneq ($(findstring /,$(APP)),)
APP_DIR := $(patsubst %/,%,$(APP))
APP_NAME := $(notdir $(APP_DIR))
APP_BUILD := $(BUILD)/ext/$(subst /,_,$(abspath $(APP_DIR)))
APP_ELF := $(APP_BUILD)/$(APP_NAME).elf
APP_SRCS := $(wildcard $(APP_DIR)/*.c)
APP_OBJS := $(APP_SRCS:$(APP_DIR)/%.c=$(APP_BUILD)/%.o)
$(APP_BUILD)/%.o: $(APP_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(APP_CFLAGS) -I$(APP_DIR) -c -o $@ $<
$(APP_ELF): $(KOBJS) $(APP_OBJS) $(SYS_LIBS) $(BUILD)/ksyms-empty.o arch/x86_64/linker.ld ci/isle-link
	$(call LINK_IMAGE,$(KOBJS) $(APP_OBJS) $(SYS_LIBS))
else
APP_NAME := $(APP)
APP_ELF := $(BUILD)/$(APP).elf
APP_SRCS := $(wildcard examples/$(APP)/*.c)
endif
# Stops the run/debug/image targets early when APP has no sources.
check-app = $(if $(APP_SRCS),,$(error APP=$(APP): no such application: examples/ has $(EXAMPLES); \
	or give a folder of your own with a slash, APP=./myapp (or build with the SDK: make install)))

SITE ?= $(if $(filter httpd,$(APP)),examples/httpd/site)
RUN_FILES = $(if $(SITE),-i $(BUILD)/run-site.cpio) $(if $(DISK),-d $(DISK))
# The network of run and debug: its qemu-run options, its kernel arguments and what the banner
# tells the user to try.
ifeq ($(NET),tap)
RUN_NET = -n tap:isle0
RUN_NET_ARGS = ip=10.0.2.15 gw=10.0.2.1
RUN_REACH = 10.0.2.15:$(GUEST_PORT) from this host (a queue pair per core: connections spread over the cores)
else ifeq ($(NET),user)
RUN_NET = -n user -p $(PORT):$(GUEST_PORT)
RUN_REACH = 127.0.0.1:$(PORT) reaches its port $(GUEST_PORT) (user networking: every connection goes to core 0; NET=tap spreads them)
else ifeq ($(NET),none)
RUN_NET =
RUN_REACH = no network
else
$(if $(filter run debug,$(MAKECMDGOALS)),$(error NET=$(NET): use user, tap or none))
endif
RUN_HINT = $(if $(filter kvstore,$(APP)),$(if $(filter user,$(NET)),; try redis-cli -p $(PORT)),$(if $(filter httpd,$(APP)),$(if $(filter user,$(NET)),; try curl http://127.0.0.1:$(PORT)/)))

# make run [APP=httpd|./folder] [CORES=2] [NET=user|tap|none] [PORT=8080] [GUEST_PORT=80]
#          [MACHINE=q35|pc|microvm] [MEM=256M] [SITE=folder] [DISK=image] [ARGS="kernel args -- app args"]
# SITE:     a folder packed into the initrd (ci/mkinitrd), mounted read-only at /; httpd serves
#           it. Default for httpd: examples/httpd/site.
# DISK:     a raw disk image (e.g. from `mke2fs -t ext2 -d folder disk.img 64M`) as virtio-blk;
#           ext2 on it is mounted at /disk (httpd: ARGS="-- root=/disk/www" serves from it).
# NET=user: QEMU user networking, host 127.0.0.1:PORT reaches the guest's GUEST_PORT (defaults:
#           8080 to 80; APP=kvstore: 6379 to 6379). Every connection arrives on core 0.
# NET=tap:  a multiqueue tap `isle0` on the host (10.0.2.1/24; the guest is 10.0.2.15), one
#           queue pair per core, so connections spread over the cores. Needs root; the tap stays
#           until `ip link del isle0`.
run: run-prepare
	@echo "isle: $(APP_NAME) on $(CORES) cores; $(RUN_REACH)$(RUN_HINT) (quit: Ctrl-A X)"
	$(Q)ci/qemu-run -t 0 $(RUN_FILES) -c $(CORES) -m $(MEM) -M $(MACHINE) $(RUN_NET) $(APP_ELF) -- \
		$(RUN_NET_ARGS) $(ARGS)

# make debug: the same as run (APP, NET, PORT, SITE, DISK...), with QEMU halted on a gdb stub.
debug: run-prepare
	@echo "isle: $(APP_NAME) on $(CORES) cores; $(RUN_REACH). QEMU is halted with a gdb stub on :1234."
	@echo "In another terminal:"
	@echo "    gdb -ex 'target remote :1234' -ex 'break boot_main' -ex continue $(APP_ELF)"
	$(Q)ci/qemu-run -t 0 -g $(RUN_FILES) -c $(CORES) -m $(MEM) -M $(MACHINE) $(RUN_NET) $(APP_ELF) -- \
		$(RUN_NET_ARGS) $(ARGS)

# What run and debug need: the packages, the image, the initrd, the tap.
run-prepare: deps
	$(check-app)
	$(Q)$(MAKE) --no-print-directory $(APP_ELF)
ifneq ($(SITE),)
	$(Q)ci/mkinitrd $(SITE) $(BUILD)/run-site.cpio
endif
ifeq ($(NET),tap)
	$(Q)ip link show isle0 >/dev/null 2>&1 || { ip tuntap add dev isle0 mode tap multi_queue && \
		ip addr add 10.0.2.1/24 dev isle0 && ip link set isle0 up; }
endif

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

# make profile [APP=httpd] [CORES=2] [PROFILE_HZ=1000] [SECONDS=10] [LOAD=...] [NET=tap|user|none]
# Boots APP with profile=PROFILE_HZ profile_seconds=SECONDS under load (httpd: wrk, kvstore:
# redis-benchmark, others none; LOAD=none or a command: ci/profile-run), then prints each core's
# top functions; folded stacks and flame graphs go to build/profile-APP/ (docs/profiling.md).
PROFILE_HZ ?= 1000
SECONDS ?= 10
profile: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/$(APP).elf $(if $(filter httpd,$(APP)),$(BUILD)/initrd-httpd.cpio)
	$(Q)ci/profile-run -c $(CORES) -z $(PROFILE_HZ) -s $(SECONDS) -m $(MEM) \
		$(if $(LOAD),-l '$(value LOAD)') $(if $(filter command line,$(origin NET)),-n $(NET)) $(APP)

# Every source file is formatted as .clang-format says.
lint:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')

# Every public header compiles alone, with nothing but the public headers on the path.
check-headers:
	$(Q)for h in $(patsubst include/%,%,$(wildcard include/isle/*.h)); do \
		echo "#include <$$h>" | $(CC) -std=gnu11 -ffreestanding -nostdinc -isystem $(GCC_INC) \
			-Iinclude/libc -Iinclude -Wall -Wextra -Werror -fsyntax-only -x c - || \
			{ echo "$$h does not compile alone" >&2; exit 1; }; \
	done

# make install PREFIX=DIR: the SDK, to build applications outside this tree (docs/writing-an-app.md):
#   DIR/bin/isle-cc        compiles and links an application with the kernel (ci/isle-cc)
#   DIR/bin/isle-run       boots an image in QEMU (ci/qemu-run); isle-mkinitrd packs a folder
#   DIR/include/isle/      the public headers; DIR/include/isle-libc/ isle's C library headers
#   DIR/lib/isle/          the kernel (libisle_kernel.a), files, network, lwIP and virtio archives,
#                          the linker script and the two-pass link (isle-link, mksyms)
#   DIR/lib/pkgconfig/isle.pc
PREFIX ?= /usr/local
SDK_LIBS := $(BUILD)/libisle_kernel.a $(SYS_LIBS)
$(BUILD)/libisle_kernel.a: $(KOBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
install: $(SDK_LIBS) $(BUILD)/ksyms-empty.o
	@echo "  INSTALL $(PREFIX)"
	$(Q)install -d $(PREFIX)/bin $(PREFIX)/include/isle $(PREFIX)/include/isle-libc \
		$(PREFIX)/lib/isle $(PREFIX)/lib/pkgconfig
	$(Q)install -m 644 include/isle/*.h $(PREFIX)/include/isle/
	$(Q)install -m 644 include/libc/*.h $(PREFIX)/include/isle-libc/
	$(Q)install -m 644 $(SDK_LIBS) $(BUILD)/ksyms-empty.o arch/x86_64/linker.ld $(PREFIX)/lib/isle/
	$(Q)install -m 755 kernel/mksyms ci/isle-link $(PREFIX)/lib/isle/
	$(Q)sed 's|@SDK_CFLAGS@|$(SDK_CFLAGS)|' ci/isle-cc > $(PREFIX)/bin/isle-cc && chmod 755 $(PREFIX)/bin/isle-cc
	$(Q)install -m 755 ci/qemu-run $(PREFIX)/bin/isle-run
	$(Q)install -m 755 ci/mkinitrd $(PREFIX)/bin/isle-mkinitrd
	$(Q)printf '%s\n' 'prefix=$(abspath $(PREFIX))' 'includedir=$${prefix}/include' \
		'libdir=$${prefix}/lib/isle' '' 'Name: isle' \
		'Description: shared-nothing multicore unikernel (link with isle-cc)' 'Version: 0.1' \
		'Cflags: $(SDK_CFLAGS) -isystem $(GCC_INC) -isystem $${includedir}/isle-libc -I$${includedir}' \
		'Libs: -nostdlib -static -T $${libdir}/linker.ld --whole-archive $${libdir}/libisle_kernel.a --no-whole-archive $${libdir}/libisle_fs.a $${libdir}/libisle_net.a $${libdir}/liblwip_percore.a $${libdir}/libisle_virtio.a' \
		> $(PREFIX)/lib/pkgconfig/isle.pc

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

# How the kernel itself scales: per-core TCP over per-core loopback (examples/netbench) at 1, 2
# and 4 cores, 5 interleaved runs, only runs whose per-core windows overlap:
# docs/bench/net-internal.json and the README's table.
bench-net-internal: deps
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/netbench.elf
	$(Q)ci/bench-net-internal

# Message latency and throughput between cores: examples/pingpong at 2 and 4 cores, 5
# interleaved runs: docs/bench/msg.json and the README's table.
bench-msg: deps
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/pingpong.elf
	$(Q)ci/bench-msg

# What idle cores cost the busy ones: netbench and pingpong on cores 0 and 1 only, in VMs of 2
# to 255 vCPUs (the others halted): docs/bench/scale-tax.json and the README's table.
bench-scale-tax: deps
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/netbench.elf $(BUILD)/pingpong.elf
	$(Q)ci/bench-scale-tax

# make soak [SOAK_SECS=600] [CORES=2]: mixed load on httpd and kvstore with vanishing clients,
# floods and memory exhaustion, then every core's memory and threads must be back to their
# baseline; one verdict line, the result in docs/bench/soak.json (ci/soak). Not in make test.
SOAK_SECS ?= 600
soak: deps
	$(Q)ci/deps bench
	$(Q)$(MAKE) --no-print-directory -j2 $(BUILD)/httpd.elf $(BUILD)/kvstore.elf $(BUILD)/initrd-httpd.cpio
	$(Q)CORES=$(CORES) ci/soak $(SOAK_SECS)

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
