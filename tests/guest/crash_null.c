/*
 * crash_null - a NULL pointer write in application code must end the VM with the panic status
 * (100) and a report: "NULL pointer" diagnosis and a backtrace naming crash_null_write.
 */
#include <stdio.h>

/* volatile: the compiler cannot know the pointer is NULL, so it emits a real store. */
static int *volatile target;

__attribute__((noinline)) void crash_null_write(int v)
{
	*target = v;
	printf("crash_null: survived a NULL pointer write\n");
}

int main(void)
{
	printf("crash_null: writing through a NULL pointer\n");
	crash_null_write(42);
	return 0;
}
