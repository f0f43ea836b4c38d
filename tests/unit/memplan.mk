# The memory planner (kernel/memplan.c); kernel/printf.c formats its messages.
unit_memplan_SRCS := kernel/memplan.c kernel/printf.c
