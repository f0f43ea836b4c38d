# The inbox bits (kernel/inbox.h) with real threads over message rings (kernel/ring.c);
# test_inbox_tsan is the same program under ThreadSanitizer (which does not model fences, hence
# -Wno-tsan: it checks the messages' data, which the rings order by release/acquire).
unit_inbox_SRCS := kernel/ring.c
unit_inbox_LIBS := -lpthread

inbox_default_goal := $(.DEFAULT_GOAL)

$(BUILD)/unit/test_inbox_tsan: tests/unit/test_inbox.c kernel/ring.c kernel/ring.h kernel/inbox.h \
		kernel/coreset.h tests/unit/test.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(filter-out -fsanitize=%,$(HOST_CFLAGS)) -fsanitize=thread -Wno-tsan -o $@ \
		tests/unit/test_inbox.c kernel/ring.c -lpthread

unit: $(BUILD)/unit/test_inbox_tsan

.DEFAULT_GOAL := $(inbox_default_goal)
