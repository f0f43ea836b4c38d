/*
 * tcp_hooks.c - where isle's TCP differs from lwIP's: what happens to a segment before lwIP
 * processes it (LWIP_HOOK_TCP_INPACKET_PCB, called with the connection or listener it matched).
 *
 * SYN floods. lwIP keeps a pcb in SYN_RCVD for every SYN a listener answered, counted against
 * its backlog (socket.c asks for HALF_OPEN_MAX), and drops SYNs while the backlog is full: a
 * flood of SYNs from made-up addresses, which never complete, would lock every real client out
 * for as long as lwIP retransmits its SYN-ACKs (a minute). So a SYN that finds the backlog full
 * first evicts the oldest handshake of that listener, without a RST (its peer is most likely
 * made up): a real client's handshake, which completes within a round trip, is evicted only if
 * HALF_OPEN_MAX newer SYNs come in before it does. The walk over the connections happens only
 * while the backlog is full, i.e. under a flood.
 *
 * Ports reused during TIME_WAIT. A server that closes first (httpd after a response with
 * "Connection: close") keeps the connection in TIME_WAIT for 2 MSL; its client kept nothing and
 * may pick the same port again at once (a busy client cycles through its ports within seconds).
 * lwIP answers that new SYN as an old duplicate, with an ACK of the old connection; the client
 * resets it and retries, and the port is locked for up to two minutes. As Linux and the BSDs
 * do (RFC 1122 4.2.2.13), a SYN whose sequence number is beyond the old connection's ends the
 * TIME_WAIT: the hook frees the pcb, keeps a copy of the packet (lwIP is in the middle of its
 * input and frees the original) and net_poll gives the copy to IP again, where the listener
 * finds it. At most AGAIN_MAX copies wait; beyond that the SYN is dropped and the client's
 * retransmission, a second later, finds the port free.
 *
 * Runs inside lwIP's input on the core that owns the connection, like all of lwIP.
 */
#include <string.h>
#include <isle/mem.h>
#include "kernel/core.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "isle_hooks.h"
#include "net/netstats.h"
#include "net/stack.h"

#define AGAIN_MAX 16

struct again {
	struct again *next; /* [o] */
	struct netif *nif;  /* [o] the interface it came in on */
	uint16_t len;       /* [o] bytes of pkt */
	uint8_t pkt[];      /* [o] the IP packet, as it came in */
};

PERCORE static uint64_t syn_evicted;                   /* [o] handshakes evicted so far */
PERCORE static uint64_t tw_reused;                     /* [o] TIME_WAITs a new SYN ended */
PERCORE static struct again *again_head, **again_tail; /* [o] packets for IP again */
PERCORE static unsigned again_count;                   /* [o] */

static void evict_oldest_handshake(struct tcp_pcb_listen *l)
{
	/* The list is newest first and tmr counts 500 ms ticks: the last of the oldest tick is the
	 * oldest handshake. */
	struct tcp_pcb *oldest = NULL;
	for (struct tcp_pcb *q = tcp_active_pcbs; q; q = q->next)
		if (q->state == SYN_RCVD && q->listener == l &&
		    (!oldest || (u32_t)(tcp_ticks - q->tmr) >= (u32_t)(tcp_ticks - oldest->tmr)))
			oldest = q;
	if (oldest) {
		tcp_abandon(oldest, 0);
		syn_evicted++;
	}
}

/* Copies the packet lwIP is reading (its TCP header already in host order) for net_poll. */
static bool keep_for_again(const struct tcp_hdr *hdr, struct pbuf *p)
{
	const struct ip_hdr *ip = ip4_current_header();
	uint16_t iplen = IPH_HL_BYTES(ip), tcplen = TCPH_HDRLEN_BYTES(hdr);
	uint32_t len = (uint32_t)iplen + tcplen + p->tot_len;
	if (again_count >= AGAIN_MAX || len > 0xffff || len != lwip_ntohs(IPH_LEN(ip)))
		return false;
	struct again *a = kmalloc(sizeof(*a) + len);
	if (!a)
		return false;
	a->nif = ip_current_input_netif();
	a->len = (uint16_t)len;
	a->next = NULL;
	memcpy(a->pkt, ip, iplen);
	memcpy(a->pkt + iplen, hdr, tcplen); /* the header with its options, then the data */
	pbuf_copy_partial(p, a->pkt + iplen + tcplen, p->tot_len, 0);
	struct tcp_hdr *t = (struct tcp_hdr *)(a->pkt + iplen); /* back to network order */
	t->src = lwip_htons(hdr->src);
	t->dest = lwip_htons(hdr->dest);
	t->seqno = lwip_htonl(hdr->seqno);
	t->ackno = lwip_htonl(hdr->ackno);
	t->wnd = lwip_htons(hdr->wnd);
	if (!again_tail)
		again_tail = &again_head;
	*again_tail = a;
	again_tail = &a->next;
	again_count++;
	return true;
}

err_t isle_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
                        u8_t *opt2, struct pbuf *p)
{
	(void)optlen, (void)opt1len;
	if ((TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return ERR_OK;
	if (pcb->state == LISTEN) {
		struct tcp_pcb_listen *l = (struct tcp_pcb_listen *)pcb;
		if (l->accepts_pending >= l->backlog)
			evict_oldest_handshake(l);
		return ERR_OK;
	}
	if (pcb->state != TIME_WAIT || !TCP_SEQ_GT(hdr->seqno, pcb->rcv_nxt))
		return ERR_OK; /* an old duplicate: lwIP answers it */
	tcp_pcb_remove(&tcp_tw_pcbs, pcb);
	tcp_free(pcb);
	tw_reused++;
	if (!opt2) /* options split over two buffers: let the retransmission in */
		keep_for_again(hdr, p);
	return ERR_ABRT; /* lwIP drops the original */
}

bool net_tcp_again(void)
{
	struct again *list = again_head;
	if (!list)
		return false;
	again_head = NULL;
	again_tail = &again_head;
	again_count = 0;
	while (list) {
		struct again *a = list;
		list = a->next;
		struct pbuf *p = pbuf_alloc(PBUF_RAW, a->len, PBUF_RAM);
		if (p) {
			pbuf_take(p, a->pkt, a->len);
			ip4_input(p, a->nif); /* takes the pbuf, whatever becomes of it */
		}
		kfree(a);
	}
	return true;
}

uint64_t net_syn_evicted(void)
{
	return syn_evicted;
}

uint64_t net_tw_reused(void)
{
	return tw_reused;
}
