/*
 * isle/net.h - blocking sockets for cooperative threads, one TCP/IP stack per core.
 *
 * Every core runs its own lwIP instance with its own NIC queue pair, so a socket lives on the
 * core that created it and MUST only be used by threads of that core. A server calls
 * sock_listen() on every core with the same port (the NIC steers each connection to one core's
 * queue) and accepts there; nothing about a connection ever touches another core. For
 * sock_connect(), and a UDP socket bound to port 0, the local port is chosen so that the NIC
 * steers the peer's replies to the calling core (with RSS; see docs/networking.md for what
 * happens without it); a port-0 UDP socket gets its port at its first sock_sendto() and
 * receives nothing before. Replies from a peer other than the first may arrive on another
 * core.
 *
 * Contract:
 *  - Thread context only; the calling thread blocks (others on its core run) until the call can
 *    complete or its timeout passes. timeout_ns == 0 means wait forever.
 *  - Errors are negative errno values, among them: -ETIMEDOUT, -ECONNRESET (peer reset or
 *    connection lost), -ECONNREFUSED, -ECONNABORTED (the socket was closed while a call waited
 *    on it), -EHOSTUNREACH, -ENOTCONN, -EADDRINUSE, -ENOMEM, -EBUSY (another thread already
 *    waits in the same call on this socket), -EMSGSIZE (a datagram too large), -EINVAL (a
 *    socket of another core, wrong kind), -EPIPE (send after the peer closed or after
 *    sock_shutdown).
 *  - sock_send() copies the data into the stack and returns only when all of it is queued; a
 *    slow peer blocks the sender (back-pressure). A time-out after part of it was queued returns
 *    that part's length (less than len): check for == len, not >= 0. sock_recv() returns what has arrived (at least
 *    one byte), or 0 once the peer has closed and everything was read.
 *  - sock_close() frees the socket on any path; after it the pointer is invalid.
 */
#ifndef ISLE_NET_H
#define ISLE_NET_H

#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;
struct sock;

/* IPv4 address in network byte order, e.g. SOCK_IP(10, 0, 0, 2). */
typedef uint32_t ip4_t;
#define SOCK_IP(a, b, c, d) ((ip4_t)(a) | (ip4_t)(b) << 8 | (ip4_t)(c) << 16 | (ip4_t)(d) << 24)
#define SOCK_ANY 0

/* TCP */
int sock_listen(ip4_t addr, uint16_t port, int backlog, struct sock **out);
int sock_accept(struct sock *listener, struct sock **out, uint64_t timeout_ns);
int sock_connect(ip4_t addr, uint16_t port, struct sock **out, uint64_t timeout_ns);
ssize_t sock_recv(struct sock *s, void *buf, size_t len, uint64_t timeout_ns);
ssize_t sock_send(struct sock *s, const void *buf, size_t len, uint64_t timeout_ns);
int sock_shutdown(struct sock *s); /* no more sends (FIN); receiving goes on */
int sock_close(struct sock *s);
int sock_peer(struct sock *s, ip4_t *addr, uint16_t *port);

/* UDP */
int sock_udp_bind(ip4_t addr, uint16_t port, struct sock **out);
ssize_t sock_sendto(struct sock *s, const void *buf, size_t len, ip4_t addr, uint16_t port);
ssize_t sock_recvfrom(struct sock *s, void *buf, size_t len, ip4_t *addr, uint16_t *port,
                      uint64_t timeout_ns);

/* This core's address (0 until configured: ip= on the command line, or DHCP). */
ip4_t net_addr(void);
/* Waits until this core's interface has an address (DHCP); 0 or -ETIMEDOUT. */
int net_wait_up(uint64_t timeout_ns);

/* Per-core network counters (the reader sums cores). */
struct net_stats {
	uint64_t rx_packets, tx_packets;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_dropped;   /* malformed frames, bad checksums, no buffer, device errors */
	uint64_t rx_csum_bad;  /* frames dropped for a bad checksum (also in rx_dropped) */
	uint64_t tx_dropped;   /* frames not sent: transmit ring full (TCP sends them again) */
	uint64_t tcp_accepted; /* connections accepted on this core */
	uint64_t tcp_active;   /* connections open now */
	uint64_t syn_evicted;  /* handshakes evicted by newer SYNs: a full backlog (a SYN flood) */
	uint64_t tw_reused;    /* connections in TIME_WAIT ended by a new one on the same ports */
	unsigned queue;        /* this core's NIC queue pair, or -1u: none */
};
void net_stats(struct net_stats *out);

#endif
