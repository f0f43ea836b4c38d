/*
 * crash_text - writing over code must fault (text is mapped read-only) and end the VM with the
 * panic status (100) and a report: "write to kernel text", backtrace naming crash_patch_code.
 */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) int victim(int x)
{
	return x * 3 + 1;
}

/* volatile: the store must really happen. */
static int (*volatile victim_ptr)(int) = victim;

__attribute__((noinline)) void crash_patch_code(void)
{
	volatile unsigned char *code = (volatile unsigned char *)(uintptr_t)victim_ptr;
	code[0] = 0xC3; /* ret */
	printf("crash_text: survived patching code\n");
}

int main(void)
{
	printf("crash_text: writing to the code of victim() at %p\n",
	       (void *)(uintptr_t)victim_ptr);
	crash_patch_code();
	return victim_ptr(1);
}
