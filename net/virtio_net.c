/*
 * virtio_net.c - virtio-net with one queue pair per core, and each core's lwIP interface.
 *
 * Boot core, before the other cores start (vnet_probe): find the device, negotiate
 * VERSION_1, MAC, STATUS, CTRL_VQ, MQ and, when offered, the checksum offloads (CSUM,
 * GUEST_CSUM) and RSS; set up min(device pairs, cores) queue pairs with the receive queue of
 * pair i signalling core i through MSI-X entry i, and tell the device how many pairs to use
 * (with RSS: the RSS configuration, below). Queue memory comes from the shared region; from
 * then on pair i belongs to core i alone. Cores beyond the device's pairs run without a NIC
 * queue (the boot log says so).
 *
 * Every core (vnet_attach_core): fill its receive queue, add its lwIP netif (same MAC and IP on
 * every core: one NIC), and register its poll. The poll receives in batches with device
 * interrupts off and turns them back on only when the queue is empty, so an idle core sleeps
 * until a packet comes and a busy core takes no interrupts.
 *
 * Checksums. lwIP 2.1 cannot be told per packet that a checksum was verified already, only per
 * interface (LWIP_CHECKSUM_CTRL_PER_NETIF). Since a frame goes through lwIP synchronously
 * inside netif->input, per interface is per frame here: with GUEST_CSUM the interface rests
 * with lwIP's TCP/UDP/ICMP checks off, and a frame the device did not vouch for (neither
 * DATA_VALID nor NEEDS_CSUM, or an IP fragment, whose datagram lwIP may complete and deliver
 * during this very call) goes in with them switched on, so lwIP verifies it exactly as it
 * would without the offload; bad ones are dropped and counted (net_stats: rx_csum_bad). The
 * IPv4 header checksum is always checked. With CSUM as well, lwIP leaves the TCP and UDP
 * checksums to the device: linkoutput puts the pseudo-header sum in the checksum field and
 * sets NEEDS_CSUM. Only together: lwIP loops packets to our own address back through this
 * interface without the device, with a zero checksum that must then not be checked.
 *
 * RSS. With VIRTIO_NET_F_RSS the device hashes each received IPv4 packet (Toeplitz, over
 * addresses and TCP/UDP ports, net/toeplitz.h) with our key and delivers it to the queue the
 * indirection table names. Incoming connections spread over the cores by that hash; for an
 * outgoing one, net_bind_steered (net/stack.c) asks vnet_rx_queue() which local port brings the replies back
 * to its own core. Without RSS the host's own steering decides (a multiqueue tap follows the
 * queue the guest last transmitted a flow on, and forgets after a few idle seconds).
 *
 * Packets other cores need go to them by message; which ones is net/route.c's decision (ARP
 * replies to every core, DHCP replies to core 0), and each core's address is net/addr.c's.
 * This file only moves frames.
 *
 * One NIC per core. Where the hypervisor has no multiqueue (Firecracker, microvm: one
 * interrupt line per virtio-mmio device), the same shape comes from several devices: with N
 * virtio-net devices, device i belongs to core i (its interrupt line or MSI-X vector routed to
 * core i), with one queue pair, its own MAC and its own link. Nothing is shared then: each core
 * answers ARP on its own link and runs DHCP on it (or takes the i-th address of an ip= list),
 * and the host spreads connections over the devices (docs/networking.md shows nftables numgen
 * DNAT over one address per device). Cores beyond the devices have no NIC.
 */
#include <string.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/sched.h"
#include "lwip/etharp.h"
#include "lwip/prot/ip.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"
#include "net/addr.h"
#include "net/arp.h"
#include "net/netstats.h"
#include "net/route.h"
#include "net/stack.h"
#include "net/virtio_net.h"
#include "kernel/cmdline.h"
#include "kernel/virtio/virtio.h"
#include "net/toeplitz.h"

#define QUEUE_SIZE 256
#define BUF_SIZE 2048
#define HDR_LEN sizeof(struct virtio_net_hdr_v1)
#define RX_BUDGET 64
#define ETH_HLEN 14
#define RSS_TABLE_MAX 128 /* indirection table entries we use at most (QEMU's maximum) */
#define RSS_TYPES                                                         \
	(VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv4 | \
	 VIRTIO_NET_RSS_HASH_TYPE_UDPv4)
#define FEATURE(f) (1ull << VIRTIO_NET_F_##f)

/* lwIP's checksum work on our interface (see the top of the file). */
#define CSUM_GEN_SW (NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_ICMP)
#define CSUM_GEN_L4 (NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_GEN_UDP)
#define CSUM_CHECK_L4 \
	(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_ICMP)

struct vnet;

/* One queue pair: set up by the boot core, then owned by one core alone. */
struct vnet_pair {
	struct vnet *dev;      /* [I] the device it belongs to */
	struct virtq rx, tx;   /* [o] */
	void **tx_free;        /* [o] free transmit buffers */
	unsigned tx_nfree;     /* [o] */
	struct netif netif;    /* [o] this core's interface on this pair */
	unsigned tx_unkicked;  /* [o] frames queued since the last kick */
	uint64_t tx_first_ns;  /* [o] when the first of them was queued */
	unsigned rx_wakes;     /* [o] watchdog ticks left after a possible starvation (RSS only) */
	struct timer watchdog; /* [o] rx_watchdog, queued for a while after one (RSS only) */
} __cacheline_aligned;

struct vnet {
	struct virtio_dev vd;   /* [I] the transport (PCI or MMIO) */
	unsigned first_core;    /* [I] pair i belongs to core first_core + i */
	unsigned pairs;         /* [I] queue pairs in use */
	uint8_t mac[6];         /* [I] */
	bool msix;              /* [I] interrupts routed per core */
	struct vnet_pair *pair; /* [I] array of `pairs`; pair[i] is [o] of core i */
	bool rx_csum;           /* [I] GUEST_CSUM: the device may vouch for received checksums */
	bool tx_csum;           /* [I] CSUM (with GUEST_CSUM): the device fills TCP/UDP checksums */
	bool rss;               /* [I] the device steers by our RSS configuration */
	uint32_t rss_types;     /* [I] VIRTIO_NET_RSS_HASH_TYPE_* in use */
	unsigned rss_len;       /* [I] indirection table entries (a power of two) */
	uint16_t rss_table[RSS_TABLE_MAX]; /* [I] hash & (rss_len - 1) -> queue pair */
	uint8_t rss_key[TOEPLITZ_KEY_LEN]; /* [I] the Toeplitz key, drawn at boot */
};

#define VNET_MAX_DEVS 32 /* devices used at most (one per core when there are several) */

static struct vnet devs[VNET_MAX_DEVS];        /* [I] after vnet_probe */
static unsigned ndevs;                         /* [I] devices set up */
static bool per_nic;                           /* [I] several devices: one per core */
static struct vnet_pair *core_pair[MAX_CORES]; /* [I] core c's queue pair, or NULL */

PERCORE static struct vnet_pair *mine; /* [o] this core's pair, or NULL */

/* ---- boot: probe and set up ---------------------------------------------------------------- */

static int setup_queue(struct vnet *dv, struct virtq *q, const char *fmt, unsigned i,
                       uint16_t index, uint16_t msix)
{
	char name[32];
	ksnprintf(name, sizeof(name), fmt, (unsigned)(dv - devs), i);
	return virtio_setup_queue(&dv->vd, q, index, QUEUE_SIZE, msix, name);
}

/* Sends one control command at boot and waits for the device's answer. */
static int ctrl_command(struct virtq *cq, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
	/* Identity-mapped memory, so that the addresses are physical ones for the device. */
	struct ctrl {
		struct virtio_net_ctrl_hdr hdr;
		uint8_t payload[512]; /* the largest command: RSS, 307 bytes with a full table */
		uint8_t ack;
	} *c = boot_alloc(sizeof(*c));
	if (!c || len > sizeof(c->payload))
		return -ENOMEM;
	c->hdr.class = cls;
	c->hdr.cmd = cmd;
	memcpy(c->payload, data, len);
	c->ack = 0xff;
	struct virtq_buf b[3] = { { &c->hdr, sizeof(c->hdr), false },
		                  { c->payload, len, false },
		                  { &c->ack, 1, true } };
	if (virtq_add(cq, b, 3, c) < 0)
		return -EIO;
	virtq_kick(cq);
	uint32_t n;
	for (uint64_t end = now_ns() + 1000000000; now_ns() < end;)
		if (virtq_get(cq, &n)) /* the ack byte written, and the used length says so */
			return n >= 1 && c->ack == VIRTIO_NET_OK ? 0 : -EIO;
	return -ETIMEDOUT;
}

/* Whether a transport at this MMIO base was taken already (the command line and the DSDT may
 * both list a device). */
static bool mmio_taken(uint64_t base)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i].vd.mmio && (uint64_t)(uintptr_t)devs[i].vd.mmio == base)
			return true;
	return false;
}

static void add_mmio(uint64_t base, unsigned irq)
{
	if (ndevs < VNET_MAX_DEVS && !mmio_taken(base) &&
	    virtio_mmio_open(base, irq, VIRTIO_ID_NET, &devs[ndevs].vd) == 0)
		ndevs++;
}

/* Every virtio-net device, at most VNET_MAX_DEVS and one per core: PCI (pc, q35), then MMIO
 * from the command line and from the DSDT (microvm, Firecracker). */
static void find_devices(void)
{
	unsigned limit = MIN(arch_irq_cores(), VNET_MAX_DEVS);
	for (unsigned i = 0; ndevs < limit; i++) {
		struct pci_dev *d = pci_find(0x1af4, 0x1041, i);
		if (!d)
			break;
		if (virtio_pci_open(d, &devs[ndevs].vd) == 0)
			ndevs++;
	}
	for (unsigned i = 0; ndevs < limit; i++) {
		struct pci_dev *d = pci_find(0x1af4, 0x1000, i); /* transitional id */
		if (!d)
			break;
		if (virtio_pci_open(d, &devs[ndevs].vd) == 0)
			ndevs++;
	}
	uint64_t base;
	unsigned irq;
	const struct cmdline_list *mmio = kernel_mmio_devices();
	for (unsigned i = 0; i < mmio->n && ndevs < limit; i++)
		if (virtio_mmio_parse(mmio->items[i], &base, &irq) == 0)
			add_mmio(base, irq);
	for (unsigned i = 0; ndevs < limit && arch_virtio_mmio(i, &base, &irq); i++)
		add_mmio(base, irq);
}

/* Queue pair i: receive queue 2i (interrupts to core first_core + i), transmit queue 2i + 1
 * (none). */
static int setup_pairs(struct vnet *dv)
{
	struct pci_dev *d = dv->vd.pci;
	dv->msix = d && pci_msix_entries(d) >= dv->pairs;
	if (dv->vd.mmio && arch_irq_route(NULL, dv->vd.irq, dv->first_core, IRQ_NET) < 0) {
		log_error("virtio-net %u: cannot route interrupt line %u to core %u",
		          (unsigned)(dv - devs), dv->vd.irq, dv->first_core);
		return -EIO;
	}
	for (unsigned i = 0; i < dv->pairs; i++) {
		uint16_t msix = dv->msix ? (uint16_t)i : VIRTIO_NO_VECTOR;
		dv->pair[i].dev = dv;
		if (dv->msix && arch_irq_route(d, i, dv->first_core + i, IRQ_NET) < 0)
			return -EIO;
		if (setup_queue(dv, &dv->pair[i].rx, "virtio-net%u rx%u", i, (uint16_t)(2 * i),
		                msix) < 0)
			return -EIO;
		if (setup_queue(dv, &dv->pair[i].tx, "virtio-net%u tx%u", i, (uint16_t)(2 * i + 1),
		                VIRTIO_NO_VECTOR) < 0)
			return -EIO;
	}
	return 0;
}

/*
 * Configures RSS (which also sets the number of queue pairs, like VQ_PAIRS_SET): hash IPv4
 * with TCP and UDP ports, a random key, an indirection table that deals the queue pairs out
 * in turn, and queue 0 for what the device cannot hash (ARP). 0, or -EIO if the device lacks
 * what steering needs or refused the configuration (then the caller sets the pairs alone).
 */
static int rss_setup(struct vnet *dv, struct virtq *cq, volatile struct virtio_net_config *cfg)
{
	uint32_t types = cfg->supported_hash_types & RSS_TYPES;
	unsigned max_len = cfg->rss_max_indirection_table_length;
	if (!(types & VIRTIO_NET_RSS_HASH_TYPE_TCPv4) || cfg->rss_max_key_size < TOEPLITZ_KEY_LEN ||
	    !max_len)
		return -EIO;
	unsigned len = RSS_TABLE_MAX;
	while (len > max_len)
		len /= 2;
	for (unsigned i = 0; i < TOEPLITZ_KEY_LEN; i++)
		dv->rss_key[i] = (uint8_t)(rand() >> 7);
	for (unsigned i = 0; i < len; i++)
		dv->rss_table[i] = (uint16_t)(i % dv->pairs);
	/* struct virtio_net_rss_config, whose table has a length of our choosing: little-endian
	 * fields, laid out by hand */
	uint8_t cmd[4 + 2 + 2 + 2 * RSS_TABLE_MAX + 2 + 1 + TOEPLITZ_KEY_LEN], *c = cmd;
	uint16_t mask = (uint16_t)(len - 1), unclassified = 0, pairs = (uint16_t)dv->pairs;
	memcpy(c, &types, 4);
	memcpy(c + 4, &mask, 2);
	memcpy(c + 6, &unclassified, 2);
	memcpy(c + 8, dv->rss_table, 2 * len);
	c += 8 + 2 * len;
	memcpy(c, &pairs, 2);
	c[2] = TOEPLITZ_KEY_LEN;
	memcpy(c + 3, dv->rss_key, TOEPLITZ_KEY_LEN);
	c += 3 + TOEPLITZ_KEY_LEN;
	if (ctrl_command(cq, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, cmd,
	                 (uint32_t)(c - cmd)) < 0)
		return -EIO;
	dv->rss = true;
	dv->rss_types = types;
	dv->rss_len = len;
	return 0;
}

/* The boot line's list of what the device does for us. */
static const char *offloads(const struct vnet *dv)
{
	static char s[80];
	ksnprintf(s, sizeof(s), "checksums: rx %s, tx %s; %s", dv->rx_csum ? "device" : "software",
	          dv->tx_csum ? "device" : "software", dv->rss ? "RSS steering" : "host steering");
	return s;
}

/* Sets device dv up with at most `pairs` queue pairs, the first for core dv->first_core. */
static int probe_device(struct vnet *dv, unsigned pairs)
{
	const struct virtio_ops *ops = dv->vd.ops;
	uint64_t have = ops->features(&dv->vd);
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | FEATURE(MAC) | FEATURE(STATUS) |
	                FEATURE(CTRL_VQ) | FEATURE(MQ) | FEATURE(CSUM) | FEATURE(GUEST_CSUM) |
	                FEATURE(RSS);
	uint64_t f = have & want;
	if (!(f & FEATURE(CTRL_VQ)))
		f &= ~(FEATURE(MQ) | FEATURE(RSS)); /* both need the control queue (spec 5.1.3.1) */
	/* transmit offload only together with receive offload: see the top of the file */
	if (!(f & FEATURE(GUEST_CSUM)))
		f &= ~FEATURE(CSUM);
	if (pairs == 1) /* one pair: no steering to configure */
		f &= ~(FEATURE(MQ) | FEATURE(RSS));
	/* only what the device's configuration registers hold is read */
	size_t cfg_len = dv->vd.device_cfg_len;
	if (cfg_len < sizeof(struct virtio_net_config))
		f &= ~FEATURE(RSS);
	if (cfg_len < offsetof(struct virtio_net_config, max_virtqueue_pairs) + 2)
		f &= ~FEATURE(MQ);
	if (cfg_len < sizeof(dv->mac))
		f &= ~FEATURE(MAC);
	if (!(f & (1ull << VIRTIO_F_VERSION_1)) || ops->set_features(&dv->vd, f) < 0) {
		log_error("virtio-net %s: device refused the features (offered %#lx)", dv->vd.where,
		          have);
		ops->fail(&dv->vd);
		return -EIO;
	}
	/* device configuration registers: volatile, read from the device each time */
	volatile struct virtio_net_config *cfg = (volatile void *)dv->vd.device_cfg;
	for (int i = 0; i < 6; i++)
		dv->mac[i] = (f & (1ull << VIRTIO_NET_F_MAC)) ? cfg->mac[i] : (uint8_t)(0x52 + i);
	unsigned max_pairs = (f & (FEATURE(MQ) | FEATURE(RSS))) ? cfg->max_virtqueue_pairs : 1;
	dv->rx_csum = f & FEATURE(GUEST_CSUM);
	dv->tx_csum = f & FEATURE(CSUM);
	/* An MMIO device has one interrupt line: one queue pair. */
	dv->pairs = dv->vd.mmio ? 1 : MIN(max_pairs, pairs);
	dv->pair = boot_alloc(sizeof(struct vnet_pair) * dv->pairs);
	struct virtq *cq = NULL;
	if (!dv->pair || setup_pairs(dv) < 0)
		goto fail;
	if (f & FEATURE(CTRL_VQ)) {
		cq = boot_alloc(sizeof(*cq));
		if (!cq || setup_queue(dv, cq, "virtio-net%u ctrl%u", 0, (uint16_t)(2 * max_pairs),
		                       VIRTIO_NO_VECTOR) < 0)
			goto fail;
	}
	if (dv->vd.common)
		dv->vd.common->msix_config =
		        VIRTIO_NO_VECTOR; /* device register: no config interrupts */
	ops->driver_ok(&dv->vd);
	if (dv->pairs > 1) {
		uint16_t n = (uint16_t)dv->pairs;
		if (cq && (f & FEATURE(RSS)) && rss_setup(dv, cq, cfg) < 0)
			log_warn("virtio-net: the device refused our RSS configuration");
		if (!dv->rss && (!cq || ctrl_command(cq, VIRTIO_NET_CTRL_MQ,
		                                     VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &n, 2) < 0)) {
			log_warn("virtio-net: could not enable %u queue pairs; using 1", dv->pairs);
			dv->pairs = 1;
		}
	}
	for (unsigned i = 0; i < dv->pairs; i++)
		core_pair[dv->first_core + i] = &dv->pair[i];
	char cores[24];
	if (dv->pairs > 1)
		ksnprintf(cores, sizeof(cores), "cores %u..%u", dv->first_core,
		          dv->first_core + dv->pairs - 1);
	else
		ksnprintf(cores, sizeof(cores), "core %u", dv->first_core);
	log_info("virtio-net %s: mac %02x:%02x:%02x:%02x:%02x:%02x, %u queue pair%s (device has "
	         "%u) for %s, %s; %s",
	         dv->vd.where, dv->mac[0], dv->mac[1], dv->mac[2], dv->mac[3], dv->mac[4],
	         dv->mac[5], dv->pairs, dv->pairs > 1 ? "s" : "", max_pairs, cores,
	         dv->msix      ? "MSI-X per core"
	         : dv->vd.mmio ? "interrupt line"
	                       : "polling",
	         offloads(dv));
	return 0;
fail:
	log_error("virtio-net %s: set-up failed", dv->vd.where);
	ops->fail(&dv->vd);
	return -EIO;
}

void vnet_probe(void)
{
	find_devices();
	if (ndevs == 0)
		return;
	/* One device: a queue pair per core. Several: one device per core. */
	per_nic = ndevs > 1;
	unsigned ok = 0;
	for (unsigned i = 0; i < ndevs; i++) {
		devs[i].first_core = per_nic ? i : 0;
		if (probe_device(&devs[i], per_nic ? 1 : arch_irq_cores()) == 0)
			ok++;
	}
	unsigned with = 0;
	for (unsigned c = 0; c < ncores; c++)
		with += core_pair[c] != NULL;
	if (per_nic)
		log_info("virtio-net: %u of %u devices set up, one per core", ok, ndevs);
	if (ok && with < ncores)
		log_info("virtio-net: %u of %u cores have no NIC queue (%s)", ncores - with, ncores,
		         per_nic ? "more cores than devices" : "the device has fewer queue pairs");
	if (!ok)
		log_error("virtio-net: no device could be set up; no network");
}

/* ---- checksums ----------------------------------------------------------------------------- */

/* Adds len bytes to a ones' complement sum of big-endian 16-bit words. */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The IPv4 packet in an Ethernet frame: its header length, total length and protocol, or
 * false if the frame holds none (or a broken one; lwIP then drops it). *frag tells whether it
 * is a fragment (more fragments, or an offset).
 */
static bool ipv4_parse(const uint8_t *f, uint32_t len, unsigned *ihl, unsigned *total,
                       uint8_t *proto, bool *frag)
{
	const uint8_t *ip = f + ETH_HLEN;
	if (len < ETH_HLEN + 20 || f[12] != 0x08 || f[13] != 0x00 || ip[0] >> 4 != 4)
		return false;
	*ihl = (ip[0] & 15) * 4u;
	*total = (unsigned)ip[2] << 8 | ip[3];
	*proto = ip[9];
	*frag = (ip[6] & 0x3f) || ip[7]; /* MF, or a fragment offset */
	return *ihl >= 20 && *total >= *ihl && ETH_HLEN + *total <= len;
}

/*
 * Transmit offload: a whole TCP or UDP packet leaves its checksum to the device. The field
 * gets the pseudo-header sum (lwIP left 0 there) and the header says where the device starts
 * summing and where it puts the result (virtio 1.2, 5.1.6.2). Fragments keep what lwIP wrote:
 * the checksum of a fragmented datagram covers all of its fragments (socket.c makes lwIP
 * compute it for a datagram that will be fragmented).
 */
static void tx_csum_offload(struct virtio_net_hdr_v1 *h, uint8_t *f, uint32_t len)
{
	unsigned ihl, total, at;
	uint8_t proto;
	bool frag;
	if (!ipv4_parse(f, len, &ihl, &total, &proto, &frag) || frag)
		return;
	if (proto == IP_PROTO_TCP)
		at = 16;
	else if (proto == IP_PROTO_UDP)
		at = 6;
	else
		return;
	unsigned l4 = ETH_HLEN + ihl, l4len = total - ihl;
	if (l4len < at + 2)
		return;
	uint16_t pseudo = csum_fold(csum_add(proto + l4len, f + ETH_HLEN + 12, 8));
	f[l4 + at] = (uint8_t)(pseudo >> 8);
	f[l4 + at + 1] = (uint8_t)pseudo;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l4;
	h->csum_offset = (uint16_t)at;
}

/*
 * Receive offload: whether the device vouches for the checksums of this frame. DATA_VALID
 * means it checked them; NEEDS_CSUM means the packet comes from a local sender and its
 * checksum was never computed (the field holds the pseudo-header sum), so its data is as good
 * as checked. lwIP ignores a TCP or UDP checksum it is not asked to check; anything else with
 * NEEDS_CSUM (ICMP) gets its checksum completed here, since lwIP's echo reply adjusts the
 * request's checksum rather than computing its own.
 */
static bool rx_csum_vouched(const struct vnet *dv, const struct virtio_net_hdr_v1 *h, uint8_t *f,
                            uint32_t len)
{
	unsigned ihl, total;
	uint8_t proto;
	bool frag;
	if (!dv->rx_csum ||
	    !(h->flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM)))
		return false;
	if (!ipv4_parse(f, len, &ihl, &total, &proto, &frag))
		return true; /* not IPv4: lwIP checks nothing anyway */
	if (frag)
		return false; /* lwIP may complete a datagram of unchecked fragments with it */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || proto == IP_PROTO_TCP ||
	    proto == IP_PROTO_UDP)
		return true;
	uint32_t start = h->csum_start, at = start + h->csum_offset;
	if (start < ETH_HLEN + ihl || at + 2 > ETH_HLEN + total)
		return false; /* nonsense offsets: let lwIP judge the packet as it is */
	uint16_t sum = (uint16_t)~csum_fold(csum_add(0, f + start, ETH_HLEN + total - start));
	f[at] = (uint8_t)(sum >> 8);
	f[at + 1] = (uint8_t)sum;
	return true;
}

/* ---- every core: its queue pair and interface ------------------------------------------------ */

/* What lwIP checks and computes on our interface between frames (see the top of the file). */
static u16_t csum_resting(const struct vnet *dv)
{
	return CSUM_GEN_SW | NETIF_CHECKSUM_CHECK_IP | (dv->tx_csum ? 0 : CSUM_GEN_L4) |
	       (dv->rx_csum ? 0 : CSUM_CHECK_L4);
}

/*
 * Whether the device ran out of receive buffers on q: it then asks to be notified of new ones
 * (clears VRING_USED_F_NO_NOTIFY), which it does not while it has some.
 */
static bool rx_starved(const struct virtq *q)
{
	/* Relaxed: a hint the device writes; read after the refill's kick, whose full fence
	 * already ordered our buffers before it. A stale value costs one doorbell more or less. */
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY);
}

/*
 * Works around a stall of QEMU's software RSS (hw/net/virtio-net.c, 7.2): a frame read from
 * tap queue i and steered to our queue j while j has no buffers is held back on queue i, and
 * QEMU stops reading tap queue i until it retries, which it does only when queue i (not j) is
 * notified, and it suppresses notifications of a queue that has buffers. So the core of a
 * starved queue, having given it buffers again, rings every receive queue's doorbell; so does
 * every core once it has filled its queue at boot, RSS being on before that. This
 * writes device registers only (their addresses are [I]); no other core's state is touched.
 */
static void rx_wake_all(const struct vnet *dv)
{
	for (unsigned i = 0; i < dv->pairs; i++)
		virtq_notify(&dv->pair[i].rx);
}

/*
 * The used-ring flag can miss a hold: it is cleared when the device finds the queue empty, and
 * set again as soon as it finds buffers there, which may be after our refill and before we
 * look. So a core also counts: if a poll took as many frames as the device held buffers when
 * the poll began, the device may have found the queue empty. Either sign rings every receive
 * queue (rx_wake_all), and a backstop timer does it again RX_WATCHDOG_TICKS times, every
 * RX_WATCHDOG_NS: a held frame waits at most that long. This costs N doorbells per starvation
 * event, and nothing while queues have buffers: a core that just receives rings nobody (an
 * earlier version rang every queue every 20 ms while receiving: N^2 doorbells at N cores).
 */
#define RX_WATCHDOG_NS (20 * 1000000ull)
#define RX_WATCHDOG_TICKS 3

static void rx_watchdog(struct timer *t)
{
	struct vnet_pair *p = container_of(t, struct vnet_pair, watchdog);
	rx_wake_all(p->dev);
	if (p->rx_wakes > 0) {
		p->rx_wakes--;
		t->deadline = now_ns() + RX_WATCHDOG_NS;
		timer_add(t);
	}
}

/* The queue may have starved: ring every receive queue now, and a few times more. */
static void rx_starvation(struct vnet_pair *p)
{
	rx_wake_all(p->dev);
	p->rx_wakes = RX_WATCHDOG_TICKS - 1;
	if (!timer_queued(&p->watchdog)) {
		p->watchdog.deadline = now_ns() + RX_WATCHDOG_NS;
		timer_add(&p->watchdog);
	}
}

static void refill_rx(struct vnet_pair *p)
{
	bool added = false;
	while (p->rx.num_free) {
		void *buf = kmalloc(BUF_SIZE);
		struct virtq_buf b = { buf, BUF_SIZE, true };
		if (!buf || virtq_add(&p->rx, &b, 1, buf) < 0) {
			kfree(buf);
			break;
		}
		added = true;
	}
	if (added)
		virtq_kick(&p->rx);
}

static void reclaim_tx(struct vnet_pair *p)
{
	uint32_t len;
	void *buf;
	while ((buf = virtq_get(&p->tx, &len)))
		p->tx_free[p->tx_nfree++] = buf;
}

static err_t vnet_linkoutput(struct netif *nif, struct pbuf *pb)
{
	struct vnet_pair *p = nif->state;
	reclaim_tx(p);
	if (!p->tx_nfree && p->tx_unkicked) { /* the ring is full of frames not yet kicked */
		p->tx_unkicked = 0;
		virtq_kick(&p->tx);
		reclaim_tx(p);
	}
	if (pb->tot_len > BUF_SIZE - HDR_LEN || !p->tx_nfree) {
		net_count_tx_drop();
		return ERR_MEM; /* lwIP retransmits TCP; a dropped frame is not lost data */
	}
	uint8_t *buf = p->tx_free[--p->tx_nfree];
	memset(buf, 0, HDR_LEN);
	pbuf_copy_partial(pb, buf + HDR_LEN, pb->tot_len, 0);
	if (pb->tot_len >= ETH_HLEN && buf[HDR_LEN + 12] == 0x08 && buf[HDR_LEN + 13] == 0x06)
		net_arp_output(buf + HDR_LEN, pb->tot_len); /* notes what we ask about */
	if (p->dev->tx_csum)
		tx_csum_offload((struct virtio_net_hdr_v1 *)buf, buf + HDR_LEN, pb->tot_len);
	struct virtq_buf b = { buf, (uint32_t)(HDR_LEN + pb->tot_len), false };
	if (virtq_add(&p->tx, &b, 1, buf) < 0) {
		p->tx_free[p->tx_nfree++] = buf;
		net_count_tx_drop();
		return ERR_IF;
	}
	if (!p->tx_unkicked++) /* kicked by the poll (tx_kick_due): a notification is a VM exit */
		p->tx_first_ns = now_ns();
	net_count_tx(pb->tot_len);
	return ERR_OK;
}

static err_t vnet_netif_init(struct netif *nif)
{
	nif->name[0] = 'e';
	nif->name[1] = 'n';
	nif->hwaddr_len = 6;
	const struct vnet_pair *p = nif->state;
	memcpy(nif->hwaddr, p->dev->mac, 6);
	nif->mtu = 1500;
	nif->flags =
	        NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	nif->output = etharp_output;
	nif->linkoutput = vnet_linkoutput;
	NETIF_SET_CHECKSUM_CTRL(nif, csum_resting(p->dev));
	return ERR_OK;
}

/* Gives a copy of a frame to another core (ARP to every core, DHCP to core 0). A reply (on_frame
 * sends nothing); from the poll, with no thread to wait, a full ring drops the copy, counted:
 * like a frame the wire lost, never a stall. */
static void forward_frame(unsigned dst, const uint8_t *frame, uint32_t len, bool vouched)
{
	if (dst >= ncores || !core_pair[dst] || dst == core_id())
		return;
	void *copy = kmalloc(len);
	if (!copy) {
		net_count_drop();
		return;
	}
	memcpy(copy, frame, len);
	struct msg m = { .type = MSG_NET_FRAME, .arg = len, .w = { (uintptr_t)copy, vouched } };
	if (msg_reply(dst, &m) < 0) {
		kfree(copy);
		net_count_drop();
	}
}

/* Hands a frame to lwIP; it checks the checksums unless the device vouched for them. ARP goes
 * through net/arp.c first, which keeps floods out of lwIP's ARP table. */
static void input_frame(struct vnet_pair *p, const uint8_t *frame, uint32_t len, bool vouched)
{
	if (len >= ETH_HLEN && frame[12] == 0x08 && frame[13] == 0x06 &&
	    !net_arp_input(&p->netif, frame, len))
		return;
	struct pbuf *pb = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (!pb) {
		net_count_drop();
		return;
	}
	pbuf_take(pb, frame, (u16_t)len);
	bool check = p->dev->rx_csum && !vouched; /* without rx_csum lwIP always checks */
	if (check)
		NETIF_SET_CHECKSUM_CTRL(&p->netif, csum_resting(p->dev) | CSUM_CHECK_L4);
	if (p->netif.input(pb, &p->netif) != ERR_OK) {
		pbuf_free(pb);
		net_count_drop();
	}
	if (check)
		NETIF_SET_CHECKSUM_CTRL(&p->netif, csum_resting(p->dev));
}

static void on_frame(const struct msg *m)
{
	void *frame = (void *)(uintptr_t)m->w[0];
	if (mine)
		input_frame(mine, frame, m->arg, m->w[1]);
	kfree(frame); /* a remote free: the copy goes home */
}
MSG_HANDLER(MSG_NET_FRAME, on_frame);

/* Hands a received frame to lwIP, and to the other cores that need it (net/route.c): with one
 * NIC per core every frame stays here, each core having its own link. */
static void receive(struct vnet_pair *p, const struct virtio_net_hdr_v1 *h, uint8_t *f,
                    uint32_t len)
{
	if (len < 14 || len > 1514) {
		net_count_drop();
		return;
	}
	bool vouched = rx_csum_vouched(p->dev, h, f, len);
	switch (per_nic ? ROUTE_HERE : net_route_frame(f, len, core_id(), net_addr_dhcp())) {
	case ROUTE_HERE:
		break;
	case ROUTE_HERE_AND_ALL: /* a rare event: an ARP reply or announcement */
		for (unsigned c = 0; c < ncores; c++)
			forward_frame(c, f, len, vouched);
		break;
	case ROUTE_CORE0:
		forward_frame(0, f, len, vouched);
		return;
	}
	net_count_rx(len);
	input_frame(p, f, len, vouched);
}

/*
 * Whether the poll kicks the transmit queue now. A kick is a VM exit and, when the device has
 * notifications on, a wake-up of the host's I/O thread: the most expensive step of sending
 * (13% of a core under wrk in a profile, when the poll kicked after every thread). While other
 * threads of this core wait to run, they are about to queue more frames (replies), so the kick
 * waits for them: up to TX_KICK_BATCH frames, or TX_KICK_DELAY_NS after the first (a thread
 * that only yields keeps the queue busy for ever). The pass that finds no thread waiting, which
 * comes before any halt, kicks.
 */
#define TX_KICK_BATCH 32
#define TX_KICK_DELAY_NS 200000
static bool tx_kick_due(const struct vnet_pair *p)
{
	if (!p->tx_unkicked)
		return false;
	return p->tx_unkicked >= TX_KICK_BATCH || !sched_threads_waiting() ||
	       now_ns() - p->tx_first_ns >= TX_KICK_DELAY_NS;
}

static bool vnet_poll(void *arg)
{
	struct vnet_pair *p = arg;
	bool did = false;
	for (;;) {
		virtq_intr_off(&p->rx);
		uint32_t len;
		uint8_t *buf;
		unsigned held = p->rx.size - p->rx.num_free, got = 0; /* the device's buffers */
		for (int n = 0; n < RX_BUDGET && (buf = virtq_get(&p->rx, &len)); n++) {
			did = true;
			got++;
			if (len >= HDR_LEN)
				receive(p, (const struct virtio_net_hdr_v1 *)buf, buf + HDR_LEN,
				        len - HDR_LEN);
			else
				net_count_drop();
			struct virtq_buf b = { buf, BUF_SIZE, true };
			if (virtq_add(&p->rx, &b, 1, buf) < 0)
				kfree(buf);
		}
		if (did) {
			/* before, during and after the kick: the device may starve meanwhile, or
			 * take note of the new buffers at once */
			bool starved = rx_starved(&p->rx);
			bool asked = virtq_kick(&p->rx);
			if (p->dev->rss && (starved || asked || got >= held || rx_starved(&p->rx)))
				rx_starvation(p);
		}
		if (p->rx.num_free > p->rx.size / 2)
			refill_rx(p); /* buffers lost to kmalloc failures come back here */
		if (!virtq_intr_on(&p->rx))
			break;
		if (did)
			break; /* more is waiting: the scheduler calls us again soon */
	}
	if (tx_kick_due(p)) {
		p->tx_unkicked = 0;
		virtq_kick(&p->tx);
	}
	reclaim_tx(p);
	return did;
}

static void on_irq(void *arg)
{
	/* ending the halt is enough: the scheduler loop polls the queue */
	struct vnet_pair *p = arg;
	if (p->dev->vd.mmio)
		virtio_mmio_ack(&p->dev->vd); /* lower the (level-triggered) line */
}

/* ---- steering ------------------------------------------------------------------------------ */

int vnet_rx_queue(const struct netif *nif, bool udp, uint32_t peer, uint16_t peer_port,
                  uint32_t local, uint16_t local_port)
{
	if (!mine || nif != &mine->netif || !mine->dev->rss)
		return -1;
	const struct vnet *dv = mine->dev;
	if (!(dv->rss_types &
	      (udp ? VIRTIO_NET_RSS_HASH_TYPE_UDPv4 : VIRTIO_NET_RSS_HASH_TYPE_TCPv4)))
		return -1; /* hashed by addresses alone: no port steers the flow */
	/* as the device hashes a packet it receives: the peer is its source */
	uint32_t hash = toeplitz_ipv4_ports(dv->rss_key, peer, local, peer_port, local_port);
	return dv->first_core + dv->rss_table[hash & (dv->rss_len - 1)];
}

void vnet_attach_core(void)
{
	struct vnet_pair *p = core_pair[core_id()];
	if (!p)
		return;
	p->tx_free = kmalloc(sizeof(void *) * p->tx.size);
	if (!p->tx_free)
		panic("virtio-net: no memory for queue pair %u", core_id());
	for (unsigned i = 0; i < p->tx.size; i++) {
		void *b = kmalloc(BUF_SIZE);
		if (b)
			p->tx_free[p->tx_nfree++] = b;
	}
	timer_init(&p->watchdog, rx_watchdog);
	refill_rx(p);
	ip4_addr_t any = { 0 };
	if (!netif_add(&p->netif, &any, &any, &any, p, vnet_netif_init, ethernet_input))
		panic("virtio-net: netif_add failed on core %u", core_id());
	netif_set_default(&p->netif);
	netif_set_up(&p->netif);
	mine = p;
	net_set_queue(core_id());
	if (p->dev->msix || p->dev->vd.mmio)
		arch_irq_handle(IRQ_NET, on_irq, p);
	if (sched_add_poll(vnet_poll, p) < 0)
		panic("virtio-net: no poll slot on core %u", core_id());
	/* RSS was switched on (boot core, vnet_probe) before this core gave its queue buffers: a
	 * frame steered here meanwhile holds up its source queue (rx_wake_all), until now */
	if (p->dev->rss)
		rx_wake_all(p->dev);
	net_addr_start(&p->netif, per_nic ? core_id() : 0, !per_nic);
}
