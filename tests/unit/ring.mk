# Message ring (kernel/ring.c). test_ring runs under ASan+UBSan like every unit test;
# test_ring_tsan is the same program under ThreadSanitizer, which checks the two-thread stress
# for data races (the two sanitizers cannot be linked into one binary).
unit_ring_SRCS := kernel/ring.c
unit_ring_LIBS := -lpthread

# Keep whatever default goal the Makefile has (or will have): this file is included before it.
ring_default_goal := $(.DEFAULT_GOAL)

$(BUILD)/unit/test_ring_tsan: tests/unit/test_ring.c kernel/ring.c kernel/ring.h tests/unit/test.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(filter-out -fsanitize=%,$(HOST_CFLAGS)) -fsanitize=thread -o $@ \
		tests/unit/test_ring.c kernel/ring.c -lpthread

unit: $(BUILD)/unit/test_ring_tsan

.DEFAULT_GOAL := $(ring_default_goal)
