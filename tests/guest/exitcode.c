/* exitcode - main's return value becomes the VM's exit status: returns argv[1]. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;
	printf("exitcode: returning %d\n", code);
	return code;
}
