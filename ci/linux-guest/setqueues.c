/*
 * setqueues - `ethtool -L IFNAME combined N` for the Linux guest's initramfs (busybox has no
 * ethtool). N larger than the device's maximum is lowered to it. Prints the result.
 *
 *   setqueues IFNAME N
 */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: setqueues IFNAME N\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&ch;
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		perror("setqueues: ETHTOOL_GCHANNELS");
		return 1;
	}
	unsigned want = (unsigned)atoi(argv[2]);
	if (want > ch.max_combined)
		want = ch.max_combined;
	if (want && want != ch.combined_count) {
		ch.cmd = ETHTOOL_SCHANNELS;
		ch.combined_count = want;
		if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
			perror("setqueues: ETHTOOL_SCHANNELS");
			return 1;
		}
	}
	ch.cmd = ETHTOOL_GCHANNELS;
	ioctl(fd, SIOCETHTOOL, &ifr);
	printf("setqueues: %s combined %u (max %u)\n", argv[1], ch.combined_count, ch.max_combined);
	close(fd);
	return 0;
}
