# The local-APIC driver (arch/x86_64/apic.c) against the fake CPU behind arch/x86_64/cpu.h
# (tests/unit/fakecpu.c); arch/x86_64/tsc.c gives it the TSC frequency (fake CPUID 0x40000010).
unit_apic_SRCS := arch/x86_64/apic.c arch/x86_64/tsc.c tests/unit/fakecpu.c
$(BUILD)/unit/test_apic: arch/x86_64/apic.h arch/x86_64/cpu.h tests/unit/fakecpu.h
