# The TSC frequency sources (arch/x86_64/tsc.c: CPUID 0x15, 0x40000010, kvmclock, the PIT)
# against the fake CPU behind arch/x86_64/cpu.h (tests/unit/fakecpu.c).
unit_tsc_SRCS := arch/x86_64/tsc.c tests/unit/fakecpu.c
$(BUILD)/unit/test_tsc: arch/x86_64/tsc.h arch/x86_64/cpu.h tests/unit/fakecpu.h
