# Thread-stack slots (kernel/stack.c, which the test includes to reach its message handlers)
# against fake page tables and rings; the real timer queue (kernel/timerq.c).
unit_stack_SRCS := kernel/timerq.c
$(BUILD)/unit/test_stack: kernel/stack.c kernel/stack.h
