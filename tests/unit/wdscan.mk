# The watchdog's decision: which cores a tick asks for a report (kernel/wdscan.c).
unit_wdscan_SRCS := kernel/wdscan.c
