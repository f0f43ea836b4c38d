# Per-core timer queue (kernel/timerq.c).
unit_timerq_SRCS := kernel/timerq.c
