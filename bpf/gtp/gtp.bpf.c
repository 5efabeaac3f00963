// SPDX-License-Identifier: Apache-2.0
/*
 * GTP-U user plane in XDP (3GPP TS 29.281, rules of TS 29.244).
 *
 * Attached to N3 (access), N6 (core) and N9 interfaces; the roles of the ingress interface
 * decide what a packet can be:
 *   - GTP-U (UDP 2152) to one of our addresses on an access/N9 interface: G-PDUs are matched
 *     by local F-TEID, then by PDR precedence among rules whose QFI and SDF filter match the
 *     inner packet; the FAR decapsulates (to N6), re-encapsulates (N9 / N3), drops, or
 *     notifies (NOCP) and hands the packet to the control side to hold (BUFF). Echo Requests
 *     are answered here; Error Indications go to the control side; End Markers follow the FAR.
 *     Packets too big once encapsulated: ICMP back (DF / IPv6 from N6), or handed to the
 *     control side to fragment (IPv4 without DF), or dropped.
 *   - plain IP to a UE address on a core interface: matched by UE IPv4 or IPv6 /64 prefix,
 *     encapsulated towards the gNB with a DL PDU Session Container.
 * Frames may carry up to two VLAN tags (802.1Q, 802.1ad, or QinQ); replies to signalling
 * keep them, forwarded packets get the next hop's Ethernet header (with its tag when the
 * next hop is on a VLAN device).
 * Everything else goes to the kernel stack. Every verdict is counted by reason, on the
 * ingress interface's row of if_stats.
 * The control side computes all entries; this program only looks them up.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "edge5g_abi.h"
#include "parse.h"
#include "gtpu.h"
#include "gtp_maps.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define NSEC_PER_SEC 1000000000ULL
/* Refill window cap: keeps elapsed * rate inside 64 bits up to ~1.8 Tbit/s. */
#define BUCKET_MAX_ELAPSED_NS 100000000ULL
#define NOTIFY_INTERVAL_NS NSEC_PER_SEC

/* VLAN tags parsed on ingress, and the Ethernet header lengths they give. Replies to
 * signalling keep the request's tags, a next hop on a VLAN device gets one; each length is
 * a constant at its call site. */
#define MAX_VLAN_TAGS 2
#define L2_UNTAGGED (sizeof(struct ethhdr))
#define L2_ONE_TAG (sizeof(struct ethhdr) + sizeof(struct vlan_hdr))
#define L2_TWO_TAGS (sizeof(struct ethhdr) + 2 * sizeof(struct vlan_hdr))
#define OUTER_TTL 64
#define ETH_MIN_FRAME 60 /* without FCS: what a NIC pads short frames to */

/*
 * Global (non-static, never inlined) functions are verified once on their own, with their
 * arguments as declared; without them the verifier walks every path of every caller and
 * the program exceeds its instruction budget. Pointer arguments may be NULL to the verifier.
 */
#define GLOBAL __attribute__((noinline))

/* What the parser learnt about one packet. */
struct packet {
	struct edge5g_if_stats *ctrs; /* the ingress interface's row of if_stats (see count()) */
	__u32 len;      /* frame length at entry */
	__u32 row;      /* the index of that row */
	__u32 l3_off;   /* outer (or only) IP header */
	__u32 l4_off;   /* transport header after the outer IP header */
	__u8 family;    /* 4 or 6 */
	__u8 ip_proto;
	__u32 l3_len;   /* IP total length of the outer (or only) packet */
	/* GTP-U */
	__u32 gtp_off;
	__u32 inner_off; /* start of the IP packet to forward */
	__u32 gtp_end;  /* offset just past the G-PDU payload */
	__be32 teid;
	__be16 seq;
	__u8 gtp_type;
	__u8 gtp_flags;
	__u8 qfi;       /* from an uplink/downlink PDU Session Container, 0 if none */
	__u8 plain;     /* 1: plain IP from the data network, 0: the inner packet of a G-PDU */
	__u8 pad[2];
	__u32 pdr;      /* the PDR the packet matched (set before forwarding) */
	__u8 local[16]; /* outer destination, IPv4-mapped */
	__u8 peer[16];  /* outer source, IPv4-mapped */
};

/* Inner packet fields SDF filters look at. */
struct flow {
	__u8 family;
	__u8 proto;
	__u8 tos;
	__u8 ttl;
	__u32 l3_len; /* IP total length (IPv6: payload + 40, no 16-bit wrap) */
	__u16 sport;  /* host order */
	__u16 dport;
	__u32 src[4];
	__u32 dst[4];
};

/* ---------- counters ---------- */

/*
 * Counts the packet on its interface's row of if_stats, looked up once at entry (pkt->ctrs):
 * one per-CPU lookup per packet serves both the reason and the verdict.
 */
static __always_inline int count(struct packet *pkt, enum edge5g_stat stat, int action)
{
	__u32 i = stat;
	struct edge5g_counter *c;

	/* One register for the check and the index: with a copy checked and another used, the
	 * verifier would see an unbounded index. */
	barrier_var(i);
	if (i >= EDGE5G_STAT_COUNT)
		return action;
	c = &pkt->ctrs->reason[i];
	c->packets++;
	c->bytes += pkt->len;
	return action;
}

/*
 * count() for GLOBAL functions, and after a call to one that took the packet: the verifier
 * treats memory passed to a global function as rewritten (pkt->ctrs is no longer a pointer to
 * it), so these look the row up again. Only slow paths (signalling, ICMP errors) take them.
 */
static __always_inline int count_by_row(struct packet *pkt, enum edge5g_stat stat, int action)
{
	__u32 row = pkt->row;
	__u32 i = stat;
	struct edge5g_if_stats *s = bpf_map_lookup_elem(&if_stats, &row);

	barrier_var(i);
	if (!s || i >= EDGE5G_STAT_COUNT)
		return action;
	s->reason[i].packets++;
	s->reason[i].bytes += pkt->len;
	return action;
}

static __always_inline void count_verdict(struct edge5g_if_stats *s, __u32 len, int action)
{
	__u32 i = action;

	barrier_var(i); /* as in count() */
	if (i >= EDGE5G_XDP_ACTIONS)
		return;
	s->verdict[i].packets++;
	s->verdict[i].bytes += len;
}

static __always_inline void count_pdr(__u32 pdr, __u32 bytes)
{
	struct edge5g_counter *c = bpf_map_lookup_elem(&pdr_stats, &pdr);
	__u32 zero = 0;
	__u64 *epoch = bpf_map_lookup_elem(&usage_epoch, &zero);
	__u64 *seen = bpf_map_lookup_elem(&pdr_seen, &pdr);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
	/* Marks the PDR active in this usage-check epoch: a store once per PDR per check, so
	 * the control side reads the counters of active PDRs only. */
	if (epoch && seen && *seen != *epoch)
		*seen = *epoch;
}

/* ---------- parsing ---------- */

/* Reads the inner IP packet at off (its first byte decides the family) into f.
 * Returns 0, or -1 when the inner header is not a well-formed IPv4/IPv6 header that fits. */
static __always_inline int parse_flow(void *data, void *data_end, __u32 off, __u32 avail, struct flow *f)
{
	__u8 *first = pkt_at(data, data_end, off, 1);
	__u32 l4;

	/* Every field is read by the SDF match: zero here, where a packet first needs them. */
	__builtin_memset(f, 0, sizeof(*f));

	if (!first)
		return -1;
	if ((*first >> 4) == 4) {
		struct iphdr *iph = pkt_at(data, data_end, off, sizeof(*iph));

		if (!iph || iph->ihl < 5)
			return -1;
		/* A total length shorter than the header cannot be forwarded as a packet. */
		if (bpf_ntohs(iph->tot_len) < iph->ihl * 4)
			return -1;
		f->family = 4;
		f->proto = iph->protocol;
		f->tos = iph->tos;
		f->ttl = iph->ttl;
		f->l3_len = bpf_ntohs(iph->tot_len);
		f->src[0] = iph->saddr;
		f->dst[0] = iph->daddr;
		l4 = off + iph->ihl * 4;
		/* Ports only of the first fragment. */
		if (iph->frag_off & bpf_htons(0x1fff))
			return f->l3_len > avail ? -1 : 0;
	} else if ((*first >> 4) == 6) {
		struct ipv6hdr *ip6 = pkt_at(data, data_end, off, sizeof(*ip6));

		if (!ip6)
			return -1;
		f->family = 6;
		f->proto = ip6->nexthdr;
		f->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
		f->ttl = ip6->hop_limit;
		f->l3_len = (__u32)bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(f->src, &ip6->saddr, 16);
		__builtin_memcpy(f->dst, &ip6->daddr, 16);
		l4 = off + sizeof(*ip6);
	} else {
		return -1;
	}
	if (f->l3_len > avail)
		return -1;
	if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP || f->proto == IPPROTO_SCTP) {
		__be16 *ports = pkt_at(data, data_end, l4, 4);

		if (ports) {
			f->sport = bpf_ntohs(ports[0]);
			f->dport = bpf_ntohs(ports[1]);
		}
	}
	return 0;
}

static __always_inline int masked_equal(const __u32 *addr, const __u8 *want, const __u8 *mask)
{
	const __u32 *w = (const __u32 *)want;
	const __u32 *m = (const __u32 *)mask;

	return ((addr[0] & m[0]) == w[0]) && ((addr[1] & m[1]) == w[1]) &&
	       ((addr[2] & m[2]) == w[2]) && ((addr[3] & m[3]) == w[3]);
}

static __always_inline int sdf_matches(const struct edge5g_sdf *s, const struct flow *f)
{
	if (s->family && s->family != f->family)
		return 0;
	if (s->protocol && s->protocol != f->proto)
		return 0;
	if ((f->tos & s->tos_mask) != s->tos)
		return 0;
	if (f->sport < s->src_port_min || f->sport > s->src_port_max)
		return 0;
	if (f->dport < s->dst_port_min || f->dport > s->dst_port_max)
		return 0;
	return masked_equal(f->src, s->src, s->src_mask) && masked_equal(f->dst, s->dst, s->dst_mask);
}

static __always_inline int ue_source_ok(const struct edge5g_match *m, const struct flow *f)
{
	if (!(m->flags & (EDGE5G_MATCH_UE_V4 | EDGE5G_MATCH_UE_V6)))
		return 1;
	if (f->family == 4)
		return (m->flags & EDGE5G_MATCH_UE_V4) && f->src[0] == m->ue_ipv4;
	return (m->flags & EDGE5G_MATCH_UE_V6) && f->src[0] == ((const __u32 *)m->ue_ipv6_prefix)[0] &&
	       f->src[1] == ((const __u32 *)m->ue_ipv6_prefix)[1];
}

/* First rule of the list, in precedence order, whose QFI and SDF filter match. */
GLOBAL __u32 select_rule(__u32 list_index, const struct flow *f, __u8 qfi)
{
	struct edge5g_rule_list *list;

	if (!f)
		return EDGE5G_NONE;
	list = bpf_map_lookup_elem(&rule_lists, &list_index);
	if (!list)
		return EDGE5G_NONE;
	for (int i = 0; i < EDGE5G_RULES_PER_LIST; i++) {
		struct edge5g_rule *r;
		struct edge5g_sdf *s;
		__u32 sdf;

		if (i >= list->count)
			break;
		r = &list->rules[i];
		if (r->qfi && r->qfi != qfi)
			continue;
		sdf = r->sdf;
		if (sdf != EDGE5G_NONE) {
			s = bpf_map_lookup_elem(&sdf_filters, &sdf);
			if (!s || !sdf_matches(s, f))
				continue;
		}
		return r->pdr;
	}
	return EDGE5G_NONE;
}

/* The PDR for this packet: the only one, or the first matching rule. EDGE5G_NONE when
 * nothing matches. */
static __always_inline __u32 select_pdr(const struct edge5g_match *m, const struct flow *f, __u8 qfi)
{
	if (m->rule_list == EDGE5G_NONE)
		return ue_source_ok(m, f) && (!m->qfi || m->qfi == qfi) ? m->pdr : EDGE5G_NONE;
	return select_rule(m->rule_list, f, qfi);
}

/* ---------- QoS ---------- */

/* Takes len bytes from a shared token bucket; 1 if the packet conforms. */
static __always_inline int bucket_take(struct edge5g_bucket *b, __u64 rate, __u64 burst, __u32 len)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 elapsed, tokens;
	int ok;

	bpf_spin_lock(&b->lock);
	if (b->last_ns == 0) {
		tokens = burst;
	} else {
		elapsed = now > b->last_ns ? now - b->last_ns : 0;
		if (elapsed > BUCKET_MAX_ELAPSED_NS)
			elapsed = BUCKET_MAX_ELAPSED_NS;
		tokens = b->tokens + elapsed * rate / NSEC_PER_SEC;
	}
	if (tokens > burst)
		tokens = burst;
	ok = tokens >= len;
	if (ok)
		tokens -= len;
	b->tokens = tokens;
	b->last_ns = now;
	bpf_spin_unlock(&b->lock);
	return ok;
}

/* Gate and MBR of the PDR's QER, from what the compiler copied into the PDR: the QER's own
 * entry is read only for an MBR (its rate and burst). Returns 0 to go on, or the drop stat.
 * *qfi becomes the QER's QFI when it sets one. */
static __always_inline int apply_qer(const struct edge5g_pdr *pdr, __u32 len, __u8 *qfi)
{
	__u32 index = pdr->qer;
	__u32 dir = pdr->direction & 1;
	struct edge5g_qer_stats *qs;

	if (pdr->flags & EDGE5G_PDR_GATE_CLOSED) {
		qs = bpf_map_lookup_elem(&qer_stats, &index);
		if (qs)
			qs->gate_drops++;
		return EDGE5G_STAT_DROP_GATE_CLOSED;
	}
	if (pdr->flags & EDGE5G_PDR_MBR) {
		struct edge5g_qer *q = bpf_map_lookup_elem(&qers, &index);
		__u32 bucket_index = index * 2 + dir;
		struct edge5g_bucket *b = bpf_map_lookup_elem(&qer_buckets, &bucket_index);

		if (q && b && !bucket_take(b, q->mbr[dir], q->burst[dir], len)) {
			qs = bpf_map_lookup_elem(&qer_stats, &index);
			if (qs)
				qs->mbr_drops++;
			return EDGE5G_STAT_DROP_MBR;
		}
	}
	if (pdr->qfi)
		*qfi = pdr->qfi;
	return 0;
}

/* ---------- next hops ---------- */

/* The FIB's next hop for dst (IPv4 in the first 4 bytes), written to out. Returns 0 or the
 * stat explaining the failure. Global: the lookup's 64-byte parameter block lives in its own
 * frame, off the main program's stack, on the path only unresolved next hops take. */
/* Sixteen address bytes, sized for the verifier (a global function's pointer argument
 * may only be used over the size of its pointee type). */
struct addr16 {
	__u8 b[16];
};

GLOBAL int fib_nexthop(struct xdp_md *ctx, __u32 family, const struct addr16 *dst, __u32 l3_len, struct edge5g_nexthop *out)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	if (!dst || !out)
		return EDGE5G_STAT_PASS_NO_ROUTE;
	fib.ifindex = ctx->ingress_ifindex;
	fib.tot_len = l3_len;
	if (family == 4) {
		fib.family = AF_INET;
		__builtin_memcpy(&fib.ipv4_dst, dst->b, 4);
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, dst->b, 16);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		out->mtu = fib.mtu_result; /* for the ICMP error; the rest is not used */
		return EDGE5G_STAT_DROP_MTU;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return EDGE5G_STAT_PASS_NO_ROUTE;
	out->ifindex = fib.ifindex;
	out->mtu = fib.mtu_result;
	out->valid = 1;
	out->vlan = 0; /* the FIB gives the device itself: no tag to push */
	copy6(out->dmac, fib.dmac);
	copy6(out->smac, fib.smac);
	out->vlan_proto = 0;
	out->vlan_tci = 0;
	return 0;
}

/* Where the packet goes: the FAR's resolved next hop (*out points into the map, nothing is
 * copied), else the FIB's answer written to fib (*out = fib). l3_len is the length the packet
 * will have, for the MTU check. Returns 0, or the stat explaining the failure. */
static __always_inline int find_nexthop(struct xdp_md *ctx, const struct edge5g_far *far, __u8 family,
					const void *dst, __u32 l3_len, struct edge5g_nexthop *fib,
					const struct edge5g_nexthop **out)
{
	__u32 index = far->nexthop;

	if (index != EDGE5G_NONE) {
		struct edge5g_nexthop *nh = bpf_map_lookup_elem(&nexthops, &index);

		if (nh && nh->valid) {
			*out = nh;
			if (nh->mtu && l3_len > nh->mtu)
				return EDGE5G_STAT_DROP_MTU; /* *out says the MTU */
			return 0;
		}
	}
	*out = fib;
	return fib_nexthop(ctx, family, (const struct addr16 *)dst, l3_len, fib);
}

static __always_inline int transmit(struct xdp_md *ctx, const struct edge5g_nexthop *nh)
{
	if (nh->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
}

/* ---------- rewriting ---------- */

/* Sum of the 16-bit words of [p, p+len) for l4_checksum(); len < 2048. */
static __always_inline __u32 sum_words(void *data, void *data_end, __u32 off, __u32 len)
{
	__u32 sum = 0;
	__u32 done = 0;

	/* 256-byte chunks through the helper, then words, then a last odd byte. */
	for (int i = 0; i < 8; i++) {
		void *p = pkt_at(data, data_end, off + done, 256);

		if (done + 256 > len || !p)
			break;
		sum = (__u32)bpf_csum_diff(NULL, 0, p, 256, sum);
		done += 256;
	}
	for (int i = 0; i < 128; i++) {
		__u16 *w = pkt_at(data, data_end, off + done, 2);

		if (done + 2 > len || !w)
			break;
		sum = csum_add32(sum, *w);
		done += 2;
	}
	if (done < len) {
		__u8 *b = pkt_at(data, data_end, off + done, 1);

		if (b)
			sum = csum_add32(sum, bpf_htons((__u16)*b << 8));
	}
	return sum;
}

/* Internet checksum of the len octets at l4_off for upper-layer protocol proto, with the
 * pseudo-header of the IPv6 header at ip6_off (RFC 8200 8.1: mandatory for UDP, ICMPv6 the
 * same), or none for ICMPv4 (ip6_off unused). A sum of zero is sent as 0xffff (the other zero
 * of ones' complement, which UDP requires). Global: its loops are verified once, not at
 * every caller (there is verifier budget for one copy only). */
GLOBAL __u16 l4_checksum(struct xdp_md *ctx, __u32 ip6_off, __u32 l4_off, __u16 len, __u8 proto)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 sum = 0;
	__u16 folded;

	if (proto != IPPROTO_ICMP) {
		struct ipv6hdr *ip6 = pkt_at(data, data_end, ip6_off, sizeof(*ip6));
		__u32 *s, *d;

		if (!ip6)
			return 0;
		s = (__u32 *)&ip6->saddr;
		d = (__u32 *)&ip6->daddr;
#pragma unroll
		for (int i = 0; i < 4; i++) {
			sum = csum_add32(sum, s[i]);
			sum = csum_add32(sum, d[i]);
		}
		sum = csum_add32(sum, bpf_htonl((__u32)len));
		sum = csum_add32(sum, bpf_htonl((__u32)proto));
	}
	sum = csum_add32(sum, sum_words(data, data_end, l4_off, len));
	folded = csum_fold32(sum);
	return folded ? folded : 0xffff;
}

/* Length of the GTP-U header we push: 8, or 16 with a PDU Session Container. */
static __always_inline __u32 gtp_push_len(__u8 qfi)
{
	return qfi ? sizeof(struct gtp1_psc_hdr) : sizeof(struct gtp1_hdr);
}

/* Writes GTP-U over payload_len bytes of T-PDU (0 for an End Marker). */
static __always_inline void write_gtp(void *gtp, __u8 type, __be32 teid, __u8 qfi, __u8 pdu_type, __u32 payload_len)
{
	struct gtp1_hdr *h = gtp;

	if (qfi) {
		struct gtp1_psc_hdr *p = gtp;

		p->h.flags = GTP1_VERSION_1 | GTP1_FLAG_PT | GTP1_FLAG_E;
		p->h.type = type;
		p->h.length = bpf_htons(payload_len + 8);
		p->h.teid = teid;
		p->o.seq = 0;
		p->o.npdu = 0;
		p->o.next_ext = GTP_EXT_PDU_SESSION_CONTAINER;
		p->psc_len = 1;
		p->psc_type = pdu_type << 4;
		p->psc_qfi = qfi & 0x3f;
		p->psc_next = GTP_EXT_NONE;
	} else {
		h->flags = GTP1_VERSION_1 | GTP1_FLAG_PT;
		h->type = type;
		h->length = bpf_htons(payload_len);
		h->teid = teid;
	}
}

/*
 * Rebuilds the frame as [Ethernet (+ the next hop's VLAN tag)][outer IP/UDP/GTP-U if the FAR
 * creates one][kept], where kept is keep_len bytes starting at keep_off of the current frame
 * (the IP packet to forward, or nothing for an End Marker). L2 is the Ethernet header's length,
 * a constant at each call site (rebuild_for picks it). Returns 0, or -1 if the frame cannot be
 * resized.
 */
static __always_inline int rebuild(struct xdp_md *ctx, const struct edge5g_nexthop *nh, const struct edge5g_far *far,
				   __u32 keep_off, __u32 keep_len, __u32 frame_len, __u8 gtp_type, __u8 qfi, __u8 pdu_type,
				   __u16 inner_proto, const __u32 L2)
{
	__u32 outer_ip = far->ohc == EDGE5G_OHC_GTPU_IPV6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 push = L2;
	__u32 gtp_len = gtp_push_len(qfi);
	void *data, *data_end;
	struct ethhdr *eth;
	__be16 *proto;
	int delta;

	if (far->ohc != EDGE5G_OHC_NONE)
		push += outer_ip + sizeof(struct udphdr) + gtp_len;
	/* Trailing bytes beyond the packet (Ethernet padding) go first. */
	if (frame_len > keep_off + keep_len) {
		if (bpf_xdp_adjust_tail(ctx, -(int)(frame_len - keep_off - keep_len)))
			return -1;
	}
	delta = (int)keep_off - (int)push;
	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return -1;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = pkt_at(data, data_end, 0, L2);
	if (!eth)
		return -1;
	copy6(eth->h_dest, nh->dmac);
	copy6(eth->h_source, nh->smac);
	proto = (void *)eth + 2 * ETH_ALEN; /* h_proto: ethhdr is packed, no member address */
	if (L2 == L2_ONE_TAG) {
		struct vlan_hdr *tag = (void *)(eth + 1);

		eth->h_proto = nh->vlan_proto;
		tag->tci = nh->vlan_tci;
		proto = &tag->proto; /* the type of what follows goes after the tag */
	}

	if (far->ohc == EDGE5G_OHC_NONE) {
		*proto = inner_proto;
		return 0;
	}
	if (far->ohc == EDGE5G_OHC_GTPU_IPV4) {
		struct iphdr *iph = pkt_at(data, data_end, L2, sizeof(*iph) + sizeof(struct udphdr) + sizeof(struct gtp1_hdr));
		struct udphdr *udp;

		if (!iph)
			return -1;
		/* An End Marker has no payload: only a pushed container needs the longer header. */
		if (qfi && !pkt_at(data, data_end, L2, sizeof(*iph) + sizeof(struct udphdr) + sizeof(struct gtp1_psc_hdr)))
			return -1;
		udp = (void *)(iph + 1);
		*proto = ETH_P_IP_BE;
		/* DF: oversized packets are dropped, not fragmented. */
		ipv4_write(iph, far->tos, sizeof(*iph) + sizeof(*udp) + gtp_len + keep_len, 0, bpf_htons(0x4000), OUTER_TTL,
			   IPPROTO_UDP, *(const __be32 *)far->local, *(const __be32 *)far->peer);
		udp->source = bpf_htons(GTPU_PORT);
		udp->dest = bpf_htons(GTPU_PORT);
		udp->len = bpf_htons(sizeof(*udp) + gtp_len + keep_len);
		udp->check = 0; /* optional over IPv4, and zero as most GTP-U peers send it */
		write_gtp(udp + 1, gtp_type, far->teid, qfi, pdu_type, keep_len);
		return 0;
	} else {
		struct ipv6hdr *ip6 = pkt_at(data, data_end, L2, sizeof(*ip6) + sizeof(struct udphdr) + sizeof(struct gtp1_hdr));
		struct udphdr *udp;
		__u16 udp_len = sizeof(*udp) + gtp_len + keep_len;

		if (!ip6)
			return -1;
		if (qfi && !pkt_at(data, data_end, L2, sizeof(*ip6) + sizeof(struct udphdr) + sizeof(struct gtp1_psc_hdr)))
			return -1;
		udp = (void *)(ip6 + 1);
		*proto = ETH_P_IPV6_BE;
		ip6->version = 6;
		ip6->priority = far->tos >> 4;
		ip6->flow_lbl[0] = (far->tos & 0x0f) << 4;
		ip6->flow_lbl[1] = 0;
		ip6->flow_lbl[2] = 0;
		ip6->payload_len = bpf_htons(udp_len);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = OUTER_TTL;
		copy16(&ip6->saddr, far->local);
		copy16(&ip6->daddr, far->peer);
		udp->source = bpf_htons(GTPU_PORT);
		udp->dest = bpf_htons(GTPU_PORT);
		udp->len = bpf_htons(udp_len);
		udp->check = 0;
		write_gtp(udp + 1, gtp_type, far->teid, qfi, pdu_type, keep_len);
		udp->check = l4_checksum(ctx, L2, L2 + sizeof(*ip6), udp_len, IPPROTO_UDP);
		return 0;
	}
}

/* rebuild() with the Ethernet header the next hop needs: plain, or tagged for a VLAN device. */
static __always_inline int rebuild_for(struct xdp_md *ctx, const struct edge5g_nexthop *nh, const struct edge5g_far *far,
				       __u32 keep_off, __u32 keep_len, __u32 frame_len, __u8 gtp_type, __u8 qfi, __u8 pdu_type,
				       __u16 inner_proto)
{
	if (nh->vlan)
		return rebuild(ctx, nh, far, keep_off, keep_len, frame_len, gtp_type, qfi, pdu_type, inner_proto, L2_ONE_TAG);
	return rebuild(ctx, nh, far, keep_off, keep_len, frame_len, gtp_type, qfi, pdu_type, inner_proto, L2_UNTAGGED);
}

/* ---------- forwarding a matched packet ---------- */

/* An event about a PDR for the control side, at most one per PDR per NOTIFY_INTERVAL_NS. */
static __always_inline void notify_pdr(__u32 kind, __u32 stats_index, __u8 qfi)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&pdr_notified, &stats_index);
	struct edge5g_event *ev;

	if (!last || (*last && now - *last < NOTIFY_INTERVAL_NS))
		return;
	*last = now;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->index = stats_index;
	ev->qfi = qfi;
	bpf_ringbuf_submit(ev, 0);
}

GLOBAL int packet_too_big(struct xdp_md *ctx, struct packet *pkt, __u32 mtu);
GLOBAL int hand_to_fragmenter(struct xdp_md *ctx, struct packet *pkt, __u32 pdr_index, __u32 qfi_type, __u32 mtu);
GLOBAL int hand_to_buffer(struct xdp_md *ctx, struct packet *pkt, __u32 pdr_index);

/*
 * Applies PDR pkt->pdr to the packet whose IP part to forward starts at pkt->inner_off
 * (the inner packet of a G-PDU, or the packet itself from N6); f describes that IP packet.
 * Inlined at its one call site: on this hardware every call and return costs (SRSO).
 */
static __always_inline int forward(struct xdp_md *ctx, struct packet *pkt, struct flow *f)
{
	struct edge5g_nexthop fib;
	const struct edge5g_nexthop *nh;
	struct edge5g_pdr *pdr;
	struct edge5g_far *far;
	__u32 new_l3_len, keep_len = f->l3_len;
	__u8 pdu_type;
	const void *route_dst;
	__u8 route_family;
	int rc;

	__u32 keep_off, pdr_index = pkt->pdr;
	__u8 qfi;

	keep_off = pkt->inner_off;
	qfi = pkt->qfi;
	if (pdr_index == EDGE5G_NONE)
		return count(pkt, EDGE5G_STAT_DROP_NO_RULE, XDP_DROP);
	pdr = bpf_map_lookup_elem(&pdrs, &pdr_index);
	if (!pdr)
		return count(pkt, EDGE5G_STAT_DROP_NO_RULE, XDP_DROP);
	if (pdr->flags & EDGE5G_PDR_QUOTA_EXHAUSTED)
		return count(pkt, EDGE5G_STAT_DROP_QUOTA, XDP_DROP);
	far = &pdr->fwd; /* the FAR, copied into the PDR's entry */

	rc = apply_qer(pdr, keep_len, &qfi);
	if (rc)
		return count(pkt, rc, XDP_DROP);

	if (!(far->action & EDGE5G_FAR_FORW)) {
		if (far->action & (EDGE5G_FAR_BUFF | EDGE5G_FAR_NOCP)) {
			if (far->action & EDGE5G_FAR_NOCP)
				notify_pdr(EDGE5G_EVENT_DOWNLINK_DATA, pdr->stats, qfi);
			/* pkt->ctrs is unusable after the call (see count_by_row). */
			if ((far->action & EDGE5G_FAR_BUFF) && hand_to_buffer(ctx, pkt, pdr_index) == 0)
				return count_by_row(pkt, EDGE5G_STAT_BUFFERED, XDP_DROP);
			return count_by_row(pkt, EDGE5G_STAT_DROP_BUFFERED, XDP_DROP);
		}
		return count(pkt, EDGE5G_STAT_DROP_FAR, XDP_DROP);
	}

	/* The inner packet is routed: an expiring TTL is the stack's to answer. */
	if (f->ttl <= 1)
		return count(pkt, EDGE5G_STAT_PASS_TTL, XDP_PASS);

	if (far->ohc != EDGE5G_OHC_NONE) {
		route_family = far->ohc == EDGE5G_OHC_GTPU_IPV6 ? 6 : 4;
		route_dst = far->peer;
		new_l3_len = (route_family == 6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
			     sizeof(struct udphdr) + gtp_push_len(qfi) + keep_len;
	} else {
		route_family = f->family;
		route_dst = f->dst;
		new_l3_len = keep_len;
	}
	rc = find_nexthop(ctx, far, route_family, route_dst, new_l3_len, &fib, &nh);
	/* Too big once encapsulated: the data network's sender is told the size that fits
	 * (path MTU discovery), or the packet is dropped; never sent broken. */
	if (rc == EDGE5G_STAT_DROP_MTU && far->ohc != EDGE5G_OHC_NONE && nh->mtu > new_l3_len - keep_len) {
		__u32 fits = nh->mtu - (new_l3_len - keep_len);
		int verdict = pkt->plain ? packet_too_big(ctx, pkt, fits) : -1;

		/* pkt->ctrs is unusable after the calls (see count_by_row). */
		if (verdict >= 0)
			return count_by_row(pkt, EDGE5G_STAT_ICMP_TOO_BIG_SENT, verdict);
		/* IPv4 without DF may be fragmented (from N6, or re-encapsulated towards N9 or the
		 * gNB): the control side does it. */
		pdu_type = far->dest_interface == EDGE5G_IF_ACCESS ? PSC_DL_PDU_SESSION_INFORMATION : PSC_UL_PDU_SESSION_INFORMATION;
		if (hand_to_fragmenter(ctx, pkt, pdr_index, qfi | (__u32)pdu_type << 8, fits) == 0)
			return count_by_row(pkt, EDGE5G_STAT_FRAGMENTED, XDP_DROP);
		return count_by_row(pkt, EDGE5G_STAT_DROP_MTU, XDP_DROP);
	}
	if (rc)
		return count(pkt, rc, rc == EDGE5G_STAT_PASS_NO_ROUTE ? XDP_PASS : XDP_DROP);

	/* Decrement TTL / hop limit of the forwarded IP packet in place. */
	{
		void *data = (void *)(long)ctx->data;
		void *data_end = (void *)(long)ctx->data_end;

		if (f->family == 4) {
			struct iphdr *iph = pkt_at(data, data_end, keep_off, sizeof(*iph));

			if (!iph)
				return count(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
			ipv4_decrement_ttl(iph);
		} else {
			struct ipv6hdr *ip6 = pkt_at(data, data_end, keep_off, sizeof(*ip6));

			if (!ip6)
				return count(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
			ip6->hop_limit--;
		}
	}

	pdu_type = far->dest_interface == EDGE5G_IF_ACCESS ? PSC_DL_PDU_SESSION_INFORMATION : PSC_UL_PDU_SESSION_INFORMATION;
	if (rebuild_for(ctx, nh, far, keep_off, keep_len, pkt->len, GTP_TPDU, far->ohc != EDGE5G_OHC_NONE ? qfi : 0, pdu_type,
		    f->family == 4 ? ETH_P_IP_BE : ETH_P_IPV6_BE))
		return count(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);

	count_pdr(pdr->stats, keep_len);
	if (far->ohc == EDGE5G_OHC_NONE)
		return count(pkt, EDGE5G_STAT_FORWARD_UPLINK, transmit(ctx, nh));
	if (far->dest_interface == EDGE5G_IF_ACCESS)
		return count(pkt, EDGE5G_STAT_FORWARD_DOWNLINK, transmit(ctx, nh));
	return count(pkt, EDGE5G_STAT_FORWARD_N9, transmit(ctx, nh));
}

/* ---------- GTP-U signalling ---------- */

/* Octets of padding a minimum-size frame can hold beyond the shortest reply. */
#define REPLY_PAD_MAX 16

/*
 * Turns the frame in hand into GTP-U signalling back to its sender, in place: Ethernet
 * addresses swapped (a VLAN tag kept), outer IP from pkt->local to pkt->peer, UDP from 2152 to
 * dport, a GTP-U header with the S flag (TS 29.281 5.1) and room for ie_len octets of IEs,
 * whose start is returned (NULL: the frame could not be resized). L2 and ie_len are
 * constants at each call site; over IPv6 the caller finishes with reply_udp6_checksum.
 */
static __always_inline __u8 *reply_frame(struct xdp_md *ctx, struct packet *pkt, const __u32 L2, __u8 type, __be32 teid,
					 __be16 seq, __be16 dport, const __u32 ie_len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = pkt_at(data, data_end, 0, L2);
	const __u32 l4_len = sizeof(struct udphdr) + 12 + ie_len;
	__u8 mac[6] __attribute__((aligned(4)));
	__u32 reply_len;
	struct udphdr *udp;
	__u8 *gtp;

	if (!eth)
		return NULL;
	copy6(mac, eth->h_source);
	reply_len = L2 + (pkt->family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) + l4_len;
	/* A frame padded to the minimum size holds the reply: keep it, zero the padding, and
	 * save the helper call. Otherwise resize to the reply. */
	if (pkt->len >= reply_len && pkt->len <= ETH_MIN_FRAME) {
		__u32 *pad = pkt_at(data, data_end, reply_len, 4);

		if (pkt->len == reply_len + 4 && pad) {
			*pad = 0; /* a 60-byte IPv4 Echo Request: the padding is one word */
		} else {
			for (__u32 i = 0; i < REPLY_PAD_MAX; i++) {
				__u8 *b = pkt_at(data, data_end, reply_len + i, 1);

				if (!b || reply_len + i >= pkt->len)
					break;
				*b = 0;
			}
		}
	} else if (bpf_xdp_adjust_tail(ctx, (int)reply_len - (int)pkt->len)) {
		return NULL;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = pkt_at(data, data_end, 0, L2);
	if (!eth)
		return NULL;
	copy6(eth->h_source, eth->h_dest);
	copy6(eth->h_dest, mac);

	if (pkt->family == 4) {
		struct iphdr *iph = pkt_at(data, data_end, L2, sizeof(*iph) + l4_len);

		if (!iph)
			return NULL;
		udp = (void *)(iph + 1);
		/* The request's TOS and identification stay. */
		ipv4_write(iph, iph->tos, sizeof(*iph) + l4_len, iph->id, 0, OUTER_TTL, IPPROTO_UDP,
			   *(const __be32 *)&pkt->local[12], *(const __be32 *)&pkt->peer[12]);
	} else {
		struct ipv6hdr *ip6 = pkt_at(data, data_end, L2, sizeof(*ip6) + l4_len);

		if (!ip6)
			return NULL;
		udp = (void *)(ip6 + 1);
		ip6->payload_len = bpf_htons(l4_len);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = OUTER_TTL;
		copy16(&ip6->saddr, pkt->local);
		copy16(&ip6->daddr, pkt->peer);
	}
	gtp = (void *)(udp + 1);
	udp->source = bpf_htons(GTPU_PORT);
	udp->dest = dport;
	udp->len = bpf_htons(l4_len);
	udp->check = 0;
	gtp[0] = GTP1_VERSION_1 | GTP1_FLAG_PT | GTP1_FLAG_S;
	gtp[1] = type;
	*(__be16 *)&gtp[2] = bpf_htons(4 + ie_len);
	*(__be32 *)&gtp[4] = teid;
	*(__be16 *)&gtp[8] = seq;
	gtp[10] = 0;
	gtp[11] = GTP_EXT_NONE;
	return gtp + 12;
}

/* The UDP checksum of a reply over IPv6 (mandatory there), once its IEs are written. */
static __always_inline void reply_udp6_checksum(struct xdp_md *ctx, const __u32 L2, const __u32 ie_len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct udphdr *udp = pkt_at(data, data_end, L2 + sizeof(struct ipv6hdr), sizeof(*udp));
	const __u32 l4_len = sizeof(struct udphdr) + 12 + ie_len;

	if (udp)
		udp->check = l4_checksum(ctx, L2, L2 + sizeof(struct ipv6hdr), l4_len, IPPROTO_UDP);
}

/* Echo Request -> Echo Response in place: sequence number kept, one Recovery IE (TS 29.281
 * 7.2.2), back to the request's source port, on the same VLAN when it was tagged. */
static __always_inline int echo_write(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt,
				      const __u32 L2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct udphdr *udp = pkt_at(data, data_end, pkt->l4_off, sizeof(*udp));
	__u8 *ie;

	if (!udp)
		return count(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
	ie = reply_frame(ctx, pkt, L2, GTP_ECHO_RESPONSE, 0, pkt->seq, udp->source, 2);
	if (!ie)
		return count(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
	ie[0] = GTP_IE_RECOVERY;
	ie[1] = cfg->recovery;
	if (pkt->family == 6)
		reply_udp6_checksum(ctx, L2, 2);
	return count(pkt, EDGE5G_STAT_ECHO_REPLIED, XDP_TX);
}

/* One more Error Indication within the configured rate: a stray G-PDU flood must not become
 * a flood of replies towards whatever source address it claims. */
static __always_inline int within_rate(struct edge5g_rate_window *w, __u32 rate)
{
	__u64 now;

	if (!w || !rate)
		return 0;
	now = bpf_ktime_get_ns();
	if (now - w->start_ns >= NSEC_PER_SEC) {
		/* Racing CPUs may both restart the window: the rate holds within a few packets. */
		w->start_ns = now;
		w->sent = 0;
	}
	return __sync_fetch_and_add(&w->sent, 1) < rate;
}

static __always_inline int error_indication_allowed(const struct edge5g_config *cfg)
{
	__u32 key = 0;

	return within_rate(bpf_map_lookup_elem(&error_indications, &key), cfg->error_indication_rate);
}

/* Error Indication (TS 29.281 7.3.1) for a G-PDU to our address whose TEID we do not know:
 * TEID Data I = that TEID, GTP-U Peer Address = our address (addr_len octets: 4 or 16, a
 * constant at each call site), to UDP 2152 of the sender. */
static __always_inline int error_indication_write(struct xdp_md *ctx, struct packet *pkt, const __u32 L2, const __u32 addr_len)
{
	__u8 *ie = reply_frame(ctx, pkt, L2, GTP_ERROR_INDICATION, 0, 0, bpf_htons(GTPU_PORT), 5 + 3 + addr_len);

	if (!ie)
		return count(pkt, EDGE5G_STAT_DROP_NO_SESSION, XDP_DROP);
	ie[0] = GTP_IE_TEID_DATA_I;
	__builtin_memcpy(&ie[1], &pkt->teid, 4);
	ie[5] = GTP_IE_PEER_ADDRESS;
	ie[6] = 0;
	ie[7] = addr_len;
	__builtin_memcpy(&ie[8], &pkt->local[16 - addr_len], addr_len);
	if (addr_len == 16)
		reply_udp6_checksum(ctx, L2, 5 + 3 + addr_len);
	return count(pkt, EDGE5G_STAT_ERROR_INDICATION_SENT, XDP_TX);
}

/* A G-PDU (not signalling, not TEID 0) to one of our addresses with an unknown TEID: answered
 * with an Error Indication within the rate, else dropped; counted either way. */
static __always_inline int no_session(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt)
{
	if (pkt->gtp_type != GTP_TPDU || !pkt->teid || !error_indication_allowed(cfg))
		return count(pkt, EDGE5G_STAT_DROP_NO_SESSION, XDP_DROP);
	if (pkt->l3_off == L2_UNTAGGED)
		return pkt->family == 4 ? error_indication_write(ctx, pkt, L2_UNTAGGED, 4)
					: error_indication_write(ctx, pkt, L2_UNTAGGED, 16);
	if (pkt->l3_off == L2_ONE_TAG)
		return pkt->family == 4 ? error_indication_write(ctx, pkt, L2_ONE_TAG, 4)
					: error_indication_write(ctx, pkt, L2_ONE_TAG, 16);
	return pkt->family == 4 ? error_indication_write(ctx, pkt, L2_TWO_TAGS, 4)
				: error_indication_write(ctx, pkt, L2_TWO_TAGS, 16);
}

static __always_inline int echo_reply(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt)
{
	/* The outer IP header may carry options: the reply has none, so only L2 is kept. */
	if (pkt->l3_off == L2_UNTAGGED)
		return echo_write(ctx, cfg, pkt, L2_UNTAGGED);
	if (pkt->l3_off == L2_ONE_TAG)
		return echo_write(ctx, cfg, pkt, L2_ONE_TAG);
	return echo_write(ctx, cfg, pkt, L2_TWO_TAGS);
}

/* ---------- ICMP errors to the data network ---------- */

/* An ICMP error quotes as much of the offending packet as fits in these totals (RFC 1812
 * 4.3.2.3 for IPv4, RFC 4443 2.4(c) for IPv6: the minimum MTU). */
#define ICMP4_ERROR_MAX 576
#define ICMP6_ERROR_MAX 1280
#define ICMP4_HEADERS (sizeof(struct iphdr) + 8)
#define ICMP6_HEADERS (sizeof(struct ipv6hdr) + 8)
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMPV6_PACKET_TOO_BIG 2
#define ICMPV6_INFO_MIN 128 /* ICMPv6 types below are errors */
#define ICMP_ERROR_TOS 0xc0 /* internetwork control, as routers send their ICMP */

static __always_inline int addr16_is_zero(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return (w[0] | w[1] | w[2] | w[3]) == 0;
}

/* No ICMP error about an ICMP error (RFC 1812 4.3.2.7): IPv4 queries and replies only. */
static __always_inline int icmp4_is_query(__u8 type)
{
	return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/*
 * Turns the frame into the ICMP error back to the sender of the IP packet at L2 (a constant
 * at each call site; VLAN tags kept), out of the interface it came in on: the Ethernet
 * addresses swapped, [ICMP4|ICMP6]_HEADERS pushed before the packet and the packet cut to
 * quote octets. Returns the IP header, or NULL when the frame cannot be resized.
 */
static __always_inline void *icmp_reframe(struct xdp_md *ctx, struct packet *pkt, const __u32 L2, const __u32 push, __u32 quote)
{
	void *data, *data_end;
	__u8 *eth;

	if (pkt->len > L2 + quote && bpf_xdp_adjust_tail(ctx, (int)(L2 + quote) - (int)pkt->len))
		return NULL;
	if (bpf_xdp_adjust_head(ctx, -(int)push))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = pkt_at(data, data_end, 0, push + L2);
	if (!eth)
		return NULL;
	copy6(eth, eth + push + ETH_ALEN);       /* to the sender's next hop */
	copy6(eth + ETH_ALEN, eth + push);        /* from the address it reached */
	for (__u32 i = 2 * ETH_ALEN; i < L2; i += 2) /* EtherType, tags */
		*(__u16 *)(eth + i) = *(__u16 *)(eth + push + i);
	return pkt_at(data, data_end, L2, push);
}

/* Fragmentation Needed (RFC 1191) for an IPv4 packet with DF. Returns the verdict or -1. */
static __always_inline int too_big4(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt, __u32 mtu, const __u32 L2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *iph = pkt_at(data, data_end, L2, sizeof(*iph));
	__u32 key = 0, quote;
	__be32 sender;
	__u8 *first, *icmp;

	if (!iph || !cfg->icmp4_src || !(iph->frag_off & bpf_htons(0x4000)) || (iph->frag_off & bpf_htons(0x1fff)))
		return -1; /* without DF the sender cannot learn from it; a later fragment is no sender's */
	sender = iph->saddr;
	first = (__u8 *)&iph->saddr;
	if (first[0] == 0 || first[0] == 127 || first[0] >= 224)
		return -1; /* not a unicast sender */
	if (iph->protocol == IPPROTO_ICMP) {
		__u8 *type = pkt_at(data, data_end, L2 + iph->ihl * 4, 1);

		if (!type || !icmp4_is_query(*type))
			return -1;
	}
	quote = bpf_ntohs(iph->tot_len);
	if (quote > ICMP4_ERROR_MAX - ICMP4_HEADERS)
		quote = ICMP4_ERROR_MAX - ICMP4_HEADERS;
	if (!within_rate(bpf_map_lookup_elem(&icmp_errors, &key), cfg->icmp_rate))
		return -1;
	iph = icmp_reframe(ctx, pkt, L2, ICMP4_HEADERS, quote);
	if (!iph)
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	icmp = pkt_at(data, data_end, L2 + sizeof(*iph), 8);
	if (!icmp)
		return -1;
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	*(__u16 *)&icmp[2] = 0;
	*(__u16 *)&icmp[4] = 0;
	*(__be16 *)&icmp[6] = bpf_htons(mtu > 0xffff ? 0xffff : mtu); /* next-hop MTU */
	*(__u16 *)&icmp[2] = l4_checksum(ctx, 0, L2 + sizeof(*iph), 8 + quote, IPPROTO_ICMP);
	ipv4_write(iph, ICMP_ERROR_TOS, ICMP4_HEADERS + quote, 0, 0, OUTER_TTL, IPPROTO_ICMP, cfg->icmp4_src, sender);
	return XDP_TX;
}

/* Packet Too Big (RFC 4443 3.2) for an IPv6 packet. Returns the verdict or -1. */
static __always_inline int too_big6(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt, __u32 mtu, const __u32 L2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = pkt_at(data, data_end, L2, sizeof(*ip6));
	__u32 key = 0, quote, sender[4];
	__u8 *icmp;

	if (!ip6 || addr16_is_zero(cfg->icmp6_src))
		return -1;
	copy16(sender, &ip6->saddr);
	if (((__u8 *)sender)[0] == 0xff || addr16_is_zero((const __u8 *)sender))
		return -1; /* not a unicast sender */
	if (ip6->nexthdr == IPPROTO_ICMPV6) {
		__u8 *type = pkt_at(data, data_end, L2 + sizeof(*ip6), 1);

		if (!type || *type < ICMPV6_INFO_MIN)
			return -1;
	}
	quote = (__u32)bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	if (quote > ICMP6_ERROR_MAX - ICMP6_HEADERS)
		quote = ICMP6_ERROR_MAX - ICMP6_HEADERS;
	if (!within_rate(bpf_map_lookup_elem(&icmp_errors, &key), cfg->icmp_rate))
		return -1;
	ip6 = icmp_reframe(ctx, pkt, L2, ICMP6_HEADERS, quote);
	if (!ip6)
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	icmp = pkt_at(data, data_end, L2 + sizeof(*ip6), 8);
	if (!icmp)
		return -1;
	*(__be32 *)ip6 = bpf_htonl(0x60000000 | ((__u32)ICMP_ERROR_TOS << 20));
	ip6->payload_len = bpf_htons(8 + quote);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = OUTER_TTL;
	copy16(&ip6->saddr, cfg->icmp6_src);
	copy16(&ip6->daddr, sender);
	icmp[0] = ICMPV6_PACKET_TOO_BIG;
	icmp[1] = 0;
	*(__u16 *)&icmp[2] = 0;
	*(__be32 *)&icmp[4] = bpf_htonl(mtu);
	*(__u16 *)&icmp[2] = l4_checksum(ctx, L2, L2 + sizeof(*ip6), 8 + quote, IPPROTO_ICMPV6);
	return XDP_TX;
}

/* The ICMP error for a plain packet from the data network that would exceed the egress MTU
 * once encapsulated; mtu is the largest packet that fits. Returns the verdict, or -1 when no
 * error is due (not unicast, an ICMP error itself, IPv4 without DF, over the rate, no source
 * address configured): the caller drops. */
GLOBAL int packet_too_big(struct xdp_md *ctx, struct packet *pkt, __u32 mtu)
{
	__u32 key = 0;
	struct edge5g_config *cfg = bpf_map_lookup_elem(&config, &key);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *first;

	if (!pkt || !cfg)
		return -1;
	first = pkt_at(data, data_end, pkt->l3_off, 1);
	if (!first)
		return -1;
	if ((*first >> 4) == 4) {
		if (pkt->l3_off == L2_UNTAGGED)
			return too_big4(ctx, cfg, pkt, mtu, L2_UNTAGGED);
		if (pkt->l3_off == L2_ONE_TAG)
			return too_big4(ctx, cfg, pkt, mtu, L2_ONE_TAG);
		return pkt->l3_off == L2_TWO_TAGS ? too_big4(ctx, cfg, pkt, mtu, L2_TWO_TAGS) : -1;
	}
	if (pkt->l3_off == L2_UNTAGGED)
		return too_big6(ctx, cfg, pkt, mtu, L2_UNTAGGED);
	if (pkt->l3_off == L2_ONE_TAG)
		return too_big6(ctx, cfg, pkt, mtu, L2_ONE_TAG);
	return pkt->l3_off == L2_TWO_TAGS ? too_big6(ctx, cfg, pkt, mtu, L2_TWO_TAGS) : -1;
}

/* A slow_packets record holding len octets of the frame at off, within the rate of window
 * (NULL: over the rate, the ring full, or the copy failed). The verifier sees the length's
 * bounds only when they are checked one at a time on the register the copy gets (the compiler
 * would fold both checks into one unsigned subtraction it cannot follow). */
static __always_inline struct edge5g_slow_packet *slow_packet(struct xdp_md *ctx, __u32 off, __u32 len, void *window, __u16 rate)
{
	struct edge5g_slow_packet *rec;
	__u64 copy = len; /* 64 bits: checked and passed in the same register */
	__u32 key = 0;

	if (!within_rate(bpf_map_lookup_elem(window, &key), rate))
		return NULL;
	rec = bpf_ringbuf_reserve(&slow_packets, sizeof(*rec), 0);
	if (!rec)
		return NULL;
	barrier_var(copy);
	if (copy > EDGE5G_SLOW_PACKET_MAX)
		copy = EDGE5G_SLOW_PACKET_MAX;
	barrier_var(copy);
	if (copy < sizeof(struct iphdr) || bpf_xdp_load_bytes(ctx, off, rec->packet, copy)) {
		bpf_ringbuf_discard(rec, 0);
		return NULL;
	}
	return rec;
}

/* An IPv4 packet without DF (plain, or the inner packet of a G-PDU) too big once
 * encapsulated (mtu: the largest that fits), matched to PDR pdr_index whose FAR encapsulates:
 * copied with the FAR's tunnel into slow_packets for the control side to fragment and send,
 * and counted on the PDR (it is forwarded, in pieces). qfi_type: the QFI in the low octet, the
 * PDU Session Container's PDU type above it. Returns 0 when handed over, -1 when it is to be
 * dropped: DF set, a packet longer than EDGE5G_SLOW_PACKET_MAX, over fragment_rate, or the
 * ring full. */
GLOBAL int hand_to_fragmenter(struct xdp_md *ctx, struct packet *pkt, __u32 pdr_index, __u32 qfi_type, __u32 mtu)
{
	__u32 key = 0;
	struct edge5g_config *cfg = bpf_map_lookup_elem(&config, &key);
	struct edge5g_pdr *pdr = bpf_map_lookup_elem(&pdrs, &pdr_index);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct edge5g_slow_packet *rec;
	struct iphdr *iph;
	__u32 len, off;

	if (!pkt || !cfg || !pdr || pdr->fwd.ohc == EDGE5G_OHC_NONE)
		return -1;
	off = pkt->inner_off;
	iph = pkt_at(data, data_end, off, sizeof(*iph));
	if (!iph || iph->version != 4 || (iph->frag_off & bpf_htons(0x4000)))
		return -1;
	len = bpf_ntohs(iph->tot_len);
	/* A fragment carries the header and at least 8 octets of data. */
	if (len < sizeof(*iph) || len > EDGE5G_SLOW_PACKET_MAX || off + len > pkt->len || mtu < iph->ihl * 4 + 8 || mtu > 0xffff)
		return -1;
	rec = slow_packet(ctx, off, len, &fragment_window, cfg->fragment_rate);
	if (!rec)
		return -1;
	rec->kind = EDGE5G_SLOW_FRAGMENT;
	rec->stats = pdr->stats;
	rec->teid = pdr->fwd.teid;
	rec->mtu = mtu;
	rec->len = len;
	rec->ohc = pdr->fwd.ohc;
	rec->qfi = qfi_type & 0x3f;
	rec->tos = pdr->fwd.tos;
	rec->pdu_type = qfi_type >> 8;
	copy16(rec->peer, pdr->fwd.peer);
	copy16(rec->local, pdr->fwd.local);
	count_pdr(pdr->stats, len);
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* A packet of PDR pdr_index, whose FAR buffers: copied into slow_packets for the control side
 * to hold until the FAR forwards (the UE is being paged). Not counted on the PDR: the control
 * side counts what it sends. Returns 0 when handed over, -1 when it is to be dropped: not IP,
 * longer than EDGE5G_SLOW_PACKET_MAX, over buffer_rate, or the ring full. */
GLOBAL int hand_to_buffer(struct xdp_md *ctx, struct packet *pkt, __u32 pdr_index)
{
	__u32 key = 0;
	struct edge5g_config *cfg = bpf_map_lookup_elem(&config, &key);
	struct edge5g_pdr *pdr = bpf_map_lookup_elem(&pdrs, &pdr_index);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct edge5g_slow_packet *rec;
	__u8 *first;
	__u32 len, off;

	if (!pkt || !cfg || !pdr)
		return -1;
	off = pkt->inner_off;
	first = pkt_at(data, data_end, off, sizeof(struct ipv6hdr));
	if (!first)
		first = pkt_at(data, data_end, off, sizeof(struct iphdr));
	if (!first)
		return -1;
	if ((*first >> 4) == 4)
		len = ((__u32)first[2] << 8) | first[3];
	else if ((*first >> 4) == 6 && pkt_at(data, data_end, off, sizeof(struct ipv6hdr)))
		len = sizeof(struct ipv6hdr) + (((__u32)first[4] << 8) | first[5]);
	else
		return -1;
	if (len > EDGE5G_SLOW_PACKET_MAX || off + len > pkt->len)
		return -1;
	rec = slow_packet(ctx, off, len, &buffer_window, cfg->buffer_rate);
	if (!rec)
		return -1;
	__builtin_memset(rec, 0, __builtin_offsetof(struct edge5g_slow_packet, packet));
	rec->kind = EDGE5G_SLOW_BUFFER;
	rec->stats = pdr->stats;
	rec->len = len;
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* Error Indication: the peer has no context for one of our TEIDs. Hand the TEID and the
 * peer address to the control side, which reports it to the SMF. */
GLOBAL int error_indication(struct xdp_md *ctx, struct packet *pkt, __u32 ie_off)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *teid_ie = pkt_at(data, data_end, ie_off, 5);
	__u8 *peer_ie = pkt_at(data, data_end, ie_off + 5, 3);
	struct edge5g_event *ev;
	__u16 peer_len;

	if (!pkt)
		return XDP_ABORTED;
	if (!teid_ie || teid_ie[0] != GTP_IE_TEID_DATA_I || !peer_ie || peer_ie[0] != GTP_IE_PEER_ADDRESS)
		return count_by_row(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
	peer_len = ((__u16)peer_ie[1] << 8) | peer_ie[2];
	/* Both IEs must lie inside the message, not merely inside the frame. */
	if ((peer_len != 4 && peer_len != 16) || ie_off + 8 + peer_len > pkt->gtp_end)
		return count_by_row(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		__u8 *addr;

		__builtin_memset(ev, 0, sizeof(*ev));
		ev->kind = EDGE5G_EVENT_ERROR_INDICATION;
		__builtin_memcpy(&ev->teid, &teid_ie[1], 4);
		if (peer_len == 4) {
			addr = pkt_at(data, data_end, ie_off + 8, 4);
			if (addr)
				ipv4_mapped(ev->peer, *(__be32 *)addr);
		} else {
			addr = pkt_at(data, data_end, ie_off + 8, 16);
			if (addr)
				copy16(ev->peer, addr);
		}
		bpf_ringbuf_submit(ev, 0);
	}
	return count_by_row(pkt, EDGE5G_STAT_ERROR_INDICATION, XDP_DROP);
}

/* End Marker on one of our tunnels: follows the FAR of the tunnel's PDR (re-encapsulated
 * with the FAR's TEID), or ends here when that FAR decapsulates. */
GLOBAL int end_marker(struct xdp_md *ctx, struct packet *pkt, __u32 pdr_index, __u32 list_index)
{
	struct edge5g_nexthop fib;
	const struct edge5g_nexthop *nh;
	struct edge5g_pdr *pdr;
	struct edge5g_far *far;
	__u32 l3_len;

	if (!pkt)
		return XDP_ABORTED;
	if (pdr_index == EDGE5G_NONE) {
		struct edge5g_rule_list *list = bpf_map_lookup_elem(&rule_lists, &list_index);

		if (!list || list->count == 0)
			return count_by_row(pkt, EDGE5G_STAT_DROP_NO_RULE, XDP_DROP);
		pdr_index = list->rules[0].pdr;
	}
	pdr = bpf_map_lookup_elem(&pdrs, &pdr_index);
	if (!pdr)
		return count_by_row(pkt, EDGE5G_STAT_DROP_NO_RULE, XDP_DROP);
	/* A used-up quota stops user data, not the End Marker: the path switch still completes. */
	far = &pdr->fwd;
	if (!(far->action & EDGE5G_FAR_FORW) || far->ohc == EDGE5G_OHC_NONE)
		return count_by_row(pkt, EDGE5G_STAT_END_MARKER, XDP_DROP);
	l3_len = (far->ohc == EDGE5G_OHC_GTPU_IPV6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
		 sizeof(struct udphdr) + sizeof(struct gtp1_hdr);
	if (find_nexthop(ctx, far, far->ohc == EDGE5G_OHC_GTPU_IPV6 ? 6 : 4, far->peer, l3_len, &fib, &nh))
		return count_by_row(pkt, EDGE5G_STAT_PASS_NO_ROUTE, XDP_PASS);
	if (rebuild_for(ctx, nh, far, pkt->gtp_end, 0, pkt->len, GTP_END_MARKER, 0, 0, 0))
		return count_by_row(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
	return count_by_row(pkt, EDGE5G_STAT_END_MARKER, transmit(ctx, nh));
}

/* ---------- GTP-U ingress ---------- */

static __always_inline int addr16_equal(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Is addr one of our GTP-U IPv4 addresses? */
static __always_inline int is_local4(const struct edge5g_config *cfg, __be32 addr)
{
	for (__u32 i = 0; i < EDGE5G_MAX_LOCAL_ADDRS; i++)
		if (i < cfg->local4_count && cfg->local4[i] == addr)
			return 1;
	return 0;
}

/* Is addr (IPv4-mapped or IPv6) one of our GTP-U addresses? A few compares on the config
 * value, no hashing. */
static __always_inline int is_local(const struct edge5g_config *cfg, const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;

	if (w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff))
		return is_local4(cfg, w[3]);
	for (__u32 i = 0; i < EDGE5G_MAX_LOCAL_ADDRS; i++)
		if (i < cfg->local6_count && addr16_equal(cfg->local6[i], addr))
			return 1;
	return 0;
}

/* A GTP-U packet the datapath refuses: dropped and counted when it was for one of our
 * addresses, otherwise none of our business (to the stack). */
static __always_inline int refuse(const struct edge5g_config *cfg, struct packet *pkt, enum edge5g_stat stat)
{
	if (!is_local(cfg, pkt->local))
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
	return count(pkt, stat, XDP_DROP);
}

/* The match entry of the packet's F-TEID: the dense array for TEIDs we allocated, the hash
 * map for the others. */
static __always_inline struct edge5g_match *lookup_fteid(const struct edge5g_config *cfg, struct packet *pkt)
{
	struct edge5g_fteid_key key = {};
	__u32 index = bpf_ntohl(pkt->teid) - cfg->teid_base;

	if (index < cfg->teid_count) {
		struct edge5g_teid_slot *slot = bpf_map_lookup_elem(&teid_slots, &index);

		if (slot && slot->teid == pkt->teid && addr16_equal(slot->addr, pkt->local)) {
			__u32 m = slot->match;

			return bpf_map_lookup_elem(&matches, &m);
		}
	}
	key.teid = pkt->teid;
	copy16(key.addr, pkt->local);
	return bpf_map_lookup_elem(&fteids, &key);
}

/* The match entry of a UE IPv4 address: dense array for the configured pool, else hash. */
static __always_inline struct edge5g_match *lookup_ue4(const struct edge5g_config *cfg, __be32 *ue)
{
	__u32 index = bpf_ntohl(*ue) - cfg->ue4_base;

	if (index < cfg->ue4_count) {
		struct edge5g_ue4_slot *slot = bpf_map_lookup_elem(&ue4_slots, &index);

		if (slot && slot->ue == *ue) {
			__u32 m = slot->match;

			return bpf_map_lookup_elem(&matches, &m);
		}
	}
	return bpf_map_lookup_elem(&ue4, ue);
}

/* Marks "matched: forward with pkt->pdr" as the result of the ingress paths. */
#define DO_FORWARD -1

/*
 * The verdict of a GLOBAL function that took the packet. To the verifier it may be any int,
 * DO_FORWARD too, and forward() after it would read the packet the call is taken to have
 * rewritten (pkt->ctrs no longer a pointer); they return XDP verdicts only.
 */
static __always_inline int global_verdict(int verdict)
{
	return verdict < 0 ? XDP_ABORTED : verdict;
}

#define ICMPV6_ROUTER_SOLICITATION 133

/*
 * A G-PDU that no PDR takes may be the UE's ICMPv6 Router Solicitation (RFC 4861 6.3.7: hop
 * limit 255, sent from its link-local address, which no UE-address filter matches). The UE
 * needs the Router Advertisement to configure its address from the session's /64 (TS 23.501
 * 5.8.2.2.3). An SMF that wants the RS installs a PDR for it (forward to the CP function) and
 * that PDR wins; otherwise the control side is told (one event per PDR per second) and
 * answers down the session's tunnel. Returns the verdict, or DO_FORWARD for anything else.
 */
static __always_inline int router_solicitation(struct xdp_md *ctx, struct packet *pkt, const struct flow *f,
					       const struct edge5g_match *m)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 pdr_index = m->pdr;
	struct edge5g_pdr *pdr;
	__u8 *type;

	if (f->family != 6 || f->proto != IPPROTO_ICMPV6 || f->ttl != 255)
		return DO_FORWARD;
	type = pkt_at(data, data_end, pkt->inner_off + sizeof(struct ipv6hdr), 1);
	if (!type || *type != ICMPV6_ROUTER_SOLICITATION)
		return DO_FORWARD;
	if (m->rule_list != EDGE5G_NONE) {
		__u32 list_index = m->rule_list;
		struct edge5g_rule_list *list = bpf_map_lookup_elem(&rule_lists, &list_index);

		pdr_index = list && list->count ? list->rules[0].pdr : EDGE5G_NONE;
	}
	pdr = bpf_map_lookup_elem(&pdrs, &pdr_index);
	if (!pdr)
		return DO_FORWARD;
	notify_pdr(EDGE5G_EVENT_ROUTER_SOLICITATION, pdr->stats, pkt->qfi);
	return count(pkt, EDGE5G_STAT_ROUTER_SOLICITATION, XDP_DROP);
}

/* The PDR of a G-PDU matched to m, or the answer to a Router Solicitation none takes. */
static __always_inline int match_gpdu(struct xdp_md *ctx, struct packet *pkt, const struct flow *f, const struct edge5g_match *m)
{
	pkt->plain = 0;
	pkt->pdr = select_pdr(m, f, pkt->qfi);
	if (pkt->pdr == EDGE5G_NONE)
		return router_solicitation(ctx, pkt, f, m);
	return DO_FORWARD;
}

/* GTP-U to us: G-PDUs are matched to a PDR (DO_FORWARD); signalling is answered or handed on. */
static __always_inline int gtp_ingress(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt, struct flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct edge5g_match *m;
	struct udphdr *udp;
	struct gtp1_hdr *gtp;
	__u32 udp_len, off, gtp_len;
	__u8 next = GTP_EXT_NONE;

	udp = pkt_at(data, data_end, pkt->l4_off, sizeof(*udp));
	if (!udp)
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);

	udp_len = bpf_ntohs(udp->len);
	pkt->gtp_off = pkt->l4_off + sizeof(*udp);
	gtp = pkt_at(data, data_end, pkt->gtp_off, sizeof(*gtp));
	/* The UDP datagram must fit in the IP packet, and the IP packet in the frame. */
	if (!gtp || udp_len < sizeof(*udp) + sizeof(*gtp) || pkt->l4_off - pkt->l3_off + udp_len > pkt->l3_len ||
	    pkt->l3_off + pkt->l3_len > pkt->len)
		return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
	if ((gtp->flags & GTP1_VERSION_MASK) != GTP1_VERSION_1 || !(gtp->flags & GTP1_FLAG_PT))
		return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
	gtp_len = bpf_ntohs(gtp->length);
	if (gtp_len + sizeof(*gtp) + sizeof(*udp) != udp_len)
		return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
	pkt->gtp_flags = gtp->flags;
	pkt->gtp_type = gtp->type;
	pkt->teid = gtp->teid;
	pkt->gtp_end = pkt->gtp_off + sizeof(*gtp) + gtp_len;
	off = pkt->gtp_off + sizeof(*gtp);

	if (gtp->flags & GTP1_FLAGS_OPT) {
		struct gtp1_opt *opt = pkt_at(data, data_end, off, sizeof(*opt));

		if (!opt || gtp_len < sizeof(*opt))
			return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
		if (gtp->flags & GTP1_FLAG_S)
			pkt->seq = opt->seq;
		if (gtp->flags & GTP1_FLAG_E)
			next = opt->next_ext;
		off += sizeof(*opt);
	}

	/* Extension header chain: length in 4-octet units, next type in the last octet. */
	for (int i = 0; i < GTP_MAX_EXT_HEADERS; i++) {
		__u8 *ext;
		__u32 ext_len;
		__u8 *last;

		if (next == GTP_EXT_NONE)
			break;
		ext = pkt_at(data, data_end, off, 4);
		if (!ext || ext[0] == 0)
			return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
		ext_len = (__u32)ext[0] * 4;
		if (off + ext_len > pkt->gtp_end)
			return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
		last = pkt_at(data, data_end, off + ext_len - 1, 1);
		if (!last)
			return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
		switch (next) {
		case GTP_EXT_PDU_SESSION_CONTAINER:
			pkt->qfi = ext[2] & 0x3f;
			break;
		case GTP_EXT_SERVICE_CLASS:
		case GTP_EXT_UDP_PORT:
		case GTP_EXT_RAN_CONTAINER:
		case GTP_EXT_LONG_PDCP_PDU:
		case GTP_EXT_XW_RAN_CONTAINER:
		case GTP_EXT_NR_RAN_CONTAINER:
		case GTP_EXT_PDCP_PDU_NUMBER:
			break;
		default:
			if (next & GTP_EXT_COMPREHENSION_REQUIRED)
				return refuse(cfg, pkt, EDGE5G_STAT_DROP_UNSUPPORTED);
		}
		next = *last;
		off += ext_len;
	}
	if (next != GTP_EXT_NONE)
		return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED); /* chain longer than the bound */
	if (off > pkt->gtp_end)
		return refuse(cfg, pkt, EDGE5G_STAT_DROP_MALFORMED);
	pkt->inner_off = off;

	/* Only our addresses: GTP-U routed through this host is the stack's business. A G-PDU
	 * or End Marker hitting an F-TEID (keyed with our address) needs no separate check. */
	m = (pkt->gtp_type == GTP_TPDU || pkt->gtp_type == GTP_END_MARKER) ? lookup_fteid(cfg, pkt) : NULL;
	if (!m && !is_local(cfg, pkt->local))
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);

	switch (pkt->gtp_type) {
	case GTP_TPDU:
		break;
	case GTP_ECHO_REQUEST:
		return echo_reply(ctx, cfg, pkt);
	case GTP_ERROR_INDICATION:
		return global_verdict(error_indication(ctx, pkt, off));
	case GTP_ECHO_RESPONSE:
	case GTP_SUPPORTED_EXT_NOTIFICATION:
		return count(pkt, EDGE5G_STAT_PASS_SIGNALLING, XDP_PASS);
	case GTP_END_MARKER:
		break;
	default:
		return count(pkt, EDGE5G_STAT_DROP_UNSUPPORTED, XDP_DROP);
	}

	if (!m)
		return no_session(ctx, cfg, pkt);
	if (pkt->gtp_type == GTP_END_MARKER)
		return global_verdict(end_marker(ctx, pkt, m->pdr, m->rule_list));

	if (parse_flow(data, data_end, off, pkt->gtp_end - off, f))
		return count(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
	return match_gpdu(ctx, pkt, f, m);
}

/* ---------- fast path: the shapes a gNB sends ---------- */

/* Not a shape the fast path takes: the general parser decides. */
#define FAST_MISS -2

/* Outer headers of an untagged IPv4 GTP-U frame without IP options. */
#define FAST4_IP 14
#define FAST4_UDP (FAST4_IP + 20)
#define FAST4_GTP (FAST4_UDP + 8)
#define FAST4_OPT (FAST4_GTP + 8)
#define FAST4_PSC (FAST4_OPT + 4)

/*
 * The Echo Response to an untagged IPv4 Echo Request (no options, S flag only) padded to the
 * minimum frame, as a NIC delivers it: the bytes echo_write() would produce, written over the
 * request with only the fields that change (the request's checks fixed the rest).
 */
static __always_inline int fast_echo4(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + FAST4_IP;
	struct udphdr *udp = data + FAST4_UDP;
	__u8 *gtp = data + FAST4_GTP;
	__u8 mac[6] __attribute__((aligned(4)));

	if (data + ETH_MIN_FRAME > data_end)
		return FAST_MISS;
	if (!is_local4(cfg, iph->daddr))
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
	copy6(mac, eth->h_source);
	copy6(eth->h_source, eth->h_dest);
	copy6(eth->h_dest, mac);
	ipv4_write(iph, iph->tos, sizeof(*iph) + sizeof(*udp) + 12 + 2, iph->id, 0, OUTER_TTL, IPPROTO_UDP, iph->daddr,
		   iph->saddr);
	udp->dest = udp->source;
	udp->source = bpf_htons(GTPU_PORT);
	udp->len = bpf_htons(sizeof(*udp) + 12 + 2);
	udp->check = 0;
	gtp[1] = GTP_ECHO_RESPONSE;
	*(__be16 *)&gtp[2] = bpf_htons(4 + 2);
	*(__be32 *)&gtp[4] = 0;
	gtp[10] = 0;
	gtp[11] = GTP_EXT_NONE;
	gtp[12] = GTP_IE_RECOVERY;
	gtp[13] = cfg->recovery;
	*(__u32 *)&gtp[14] = 0; /* the padding after the 56-byte reply */
	return count(pkt, EDGE5G_STAT_ECHO_REPLIED, XDP_TX);
}

/*
 * Untagged IPv4 (no options, not a fragment) to UDP 2152 carrying a G-PDU with no optional
 * fields, a G-PDU with one PDU Session Container, or an Echo Request with a sequence
 * number: what gNBs send nearly always. Constant offsets and one bounds check replace the
 * general walk; every length the general parser checks is checked here too, and anything
 * else (including every malformed variant) is a FAST_MISS that the general parser judges.
 */
static __always_inline int fast_gtp4(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt, struct flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + FAST4_IP;
	struct udphdr *udp = data + FAST4_UDP;
	struct gtp1_hdr *gtp = data + FAST4_GTP;
	struct edge5g_match *m;
	__u32 ip_len, udp_len, gtp_len, inner;
	__u8 qfi = 0;

	if (data + FAST4_OPT > data_end)
		return FAST_MISS;
	if (eth->h_proto != ETH_P_IP_BE || *(__u8 *)iph != 0x45 || iph->protocol != IPPROTO_UDP ||
	    (iph->frag_off & bpf_htons(0x3fff)) || udp->dest != bpf_htons(GTPU_PORT))
		return FAST_MISS;
	ip_len = bpf_ntohs(iph->tot_len);
	udp_len = bpf_ntohs(udp->len);
	gtp_len = bpf_ntohs(gtp->length);
	if (FAST4_IP + ip_len > pkt->len || 20 + udp_len > ip_len || udp_len != gtp_len + 16)
		return FAST_MISS;

	if (gtp->type == GTP_TPDU && gtp->flags == (GTP1_VERSION_1 | GTP1_FLAG_PT)) {
		inner = FAST4_OPT;
	} else if (gtp->type == GTP_TPDU && gtp->flags == (GTP1_VERSION_1 | GTP1_FLAG_PT | GTP1_FLAG_E)) {
		struct gtp1_psc_hdr *h = (void *)gtp;

		if ((void *)(h + 1) > data_end || gtp_len < 8 || h->o.next_ext != GTP_EXT_PDU_SESSION_CONTAINER ||
		    h->psc_len != 1 || h->psc_next != GTP_EXT_NONE)
			return FAST_MISS;
		qfi = h->psc_qfi & 0x3f;
		inner = FAST4_PSC + 4;
	} else if (gtp->type == GTP_ECHO_REQUEST && gtp->flags == (GTP1_VERSION_1 | GTP1_FLAG_PT | GTP1_FLAG_S) && gtp_len >= 4) {
		struct gtp1_opt *opt = data + FAST4_OPT;

		if ((void *)(opt + 1) > data_end)
			return FAST_MISS;
		if (pkt->len == ETH_MIN_FRAME)
			return fast_echo4(ctx, cfg, pkt);
		ipv4_mapped(pkt->local, iph->daddr);
		if (!is_local(cfg, pkt->local))
			return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
		ipv4_mapped(pkt->peer, iph->saddr);
		pkt->family = 4;
		pkt->l3_off = FAST4_IP;
		pkt->l4_off = FAST4_UDP;
		pkt->seq = opt->seq;
		return echo_write(ctx, cfg, pkt, sizeof(struct ethhdr));
	} else {
		return FAST_MISS;
	}

	pkt->teid = gtp->teid;
	ipv4_mapped(pkt->local, iph->daddr);
	m = lookup_fteid(cfg, pkt);
	if (!m)
		return FAST_MISS; /* not ours, or an unknown TEID: the general path answers it */
	if (parse_flow(data, data_end, inner, FAST4_OPT + gtp_len - inner, f))
		return count(pkt, EDGE5G_STAT_DROP_MALFORMED, XDP_DROP);
	pkt->inner_off = inner;
	pkt->qfi = qfi;
	return match_gpdu(ctx, pkt, f, m);
}

/* ---------- plain IP from the data network ---------- */

static __always_inline int downlink(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt, struct flow *f);

/*
 * Untagged IPv4 without options and not a fragment on a core interface, that is not GTP-U
 * for an access/N9 role (gtp_role): what the data network sends nearly always. Skips the
 * general walk, which would end in downlink() for it too; anything else is a FAST_MISS.
 */
static __always_inline int fast_downlink4(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt,
					  struct flow *f, int gtp_role)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + FAST4_IP;
	struct udphdr *udp = data + FAST4_UDP;

	if (data + FAST4_UDP + sizeof(*udp) > data_end)
		return FAST_MISS;
	if (eth->h_proto != ETH_P_IP_BE || *(__u8 *)iph != 0x45 || (iph->frag_off & bpf_htons(0x3fff)))
		return FAST_MISS;
	if (gtp_role && iph->protocol == IPPROTO_UDP && udp->dest == bpf_htons(GTPU_PORT))
		return FAST_MISS;
	pkt->l3_off = FAST4_IP;
	return downlink(ctx, cfg, pkt, f);
}

/* The session whose framed routes hold the destination (longest prefix), when it is no UE's
 * own address: one trie lookup, only for packets that missed the UE tables. */
static __always_inline struct edge5g_match *lookup_framed_route(const struct flow *f)
{
	struct edge5g_route_key key __attribute__((aligned(4)));

	key.prefixlen = 128;
	if (f->family == 4)
		ipv4_mapped(key.addr, f->dst[0]);
	else
		copy16(key.addr, f->dst);
	return bpf_map_lookup_elem(&framed_routes, &key);
}

/* Plain IP from the data network to a UE address, or into a UE's framed routes: matched to a
 * PDR (DO_FORWARD). */
static __always_inline int downlink(struct xdp_md *ctx, const struct edge5g_config *cfg, struct packet *pkt, struct flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct edge5g_match *m;

	if (parse_flow(data, data_end, pkt->l3_off, pkt->len - pkt->l3_off, f))
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
	if (f->family == 4) {
		m = lookup_ue4(cfg, &f->dst[0]);
	} else {
		struct edge5g_ue6_key key __attribute__((aligned(4)));
		__u32 zero = 0;
		__u32 *exact = bpf_map_lookup_elem(&ue6_exact, &zero);

		/* The exact address first, only while sessions share a /64 (some are keyed by
		 * address), then the /64. */
		copy16(key.addr, f->dst);
		m = exact && *exact ? bpf_map_lookup_elem(&ue6, &key) : NULL;
		if (!m) {
			__builtin_memset(&key.addr[8], 0, 8);
			m = bpf_map_lookup_elem(&ue6, &key);
		}
	}
	if (!m)
		m = lookup_framed_route(f);
	if (!m)
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
	pkt->inner_off = pkt->l3_off;
	pkt->qfi = 0;
	pkt->plain = 1;
	pkt->pdr = select_pdr(m, f, 0);
	return DO_FORWARD;
}

/* ---------- entry ---------- */

/* Extension headers walked to find an IPv6 Fragment header. */
#define IPV6_MAX_EXT_HEADERS 4

/* True when a Fragment header follows, directly or behind Hop-by-Hop, Routing or
 * Destination Options headers (RFC 8200 4.1 order). */
static __always_inline int ipv6_is_fragment(void *data, void *data_end, __u32 off, __u8 next)
{
	for (int i = 0; i < IPV6_MAX_EXT_HEADERS; i++) {
		__u8 *h;

		if (next == IPPROTO_FRAGMENT)
			return 1;
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS)
			return 0;
		h = pkt_at(data, data_end, off, 2);
		if (!h)
			return 0;
		next = h[0];
		off += ((__u32)h[1] + 1) * 8;
	}
	return next == IPPROTO_FRAGMENT;
}

static __always_inline int process(struct xdp_md *ctx, const struct edge5g_iface *iface, const struct edge5g_config *cfg,
				   struct packet *pkt, struct flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = pkt_at(data, data_end, 0, sizeof(*eth));
	__be16 proto;
	int gtp_role = iface->roles & (EDGE5G_ROLE_ACCESS | EDGE5G_ROLE_N9);

	if (!eth)
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
	if (gtp_role) {
		int rc = fast_gtp4(ctx, cfg, pkt, f);

		if (rc != FAST_MISS)
			return rc;
	}
	if (iface->roles & EDGE5G_ROLE_CORE) {
		int rc = fast_downlink4(ctx, cfg, pkt, f, gtp_role);

		if (rc != FAST_MISS)
			return rc;
	}
	/* The general walk starts from a clean slate (the fast paths set only what they use). */
	{
		struct edge5g_if_stats *ctrs = pkt->ctrs;
		__u32 len = pkt->len, row = pkt->row;

		__builtin_memset(pkt, 0, sizeof(*pkt));
		pkt->ctrs = ctrs;
		pkt->len = len;
		pkt->row = row;
	}
	proto = eth->h_proto;
	pkt->l3_off = sizeof(*eth);
	/* One 802.1Q or 802.1ad tag, or two (QinQ: a service tag, then a customer tag). */
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vlan;

		if (proto != ETH_P_8021Q_BE && proto != ETH_P_8021AD_BE)
			break;
		vlan = pkt_at(data, data_end, pkt->l3_off, sizeof(*vlan));
		if (!vlan)
			return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
		proto = vlan->proto;
		pkt->l3_off += sizeof(*vlan);
	}

	if (proto == ETH_P_IP_BE) {
		struct iphdr *iph = pkt_at(data, data_end, pkt->l3_off, sizeof(*iph));

		if (!iph || iph->version != 4 || iph->ihl < 5)
			return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
		pkt->family = 4;
		pkt->ip_proto = iph->protocol;
		pkt->l3_len = bpf_ntohs(iph->tot_len);
		pkt->l4_off = pkt->l3_off + iph->ihl * 4;
		if (gtp_role && iph->protocol == IPPROTO_UDP) {
			struct udphdr *udp = pkt_at(data, data_end, pkt->l4_off, sizeof(*udp));

			if (iph->frag_off & bpf_htons(0x3fff)) {
				/* Any fragment of UDP to one of our addresses: only the stack can reassemble. */
				__u8 dst[16];

				ipv4_mapped(dst, iph->daddr);
				if (is_local(cfg, dst))
					return count(pkt, EDGE5G_STAT_PASS_FRAGMENT, XDP_PASS);
			} else if (udp && udp->dest == bpf_htons(GTPU_PORT)) {
				ipv4_mapped(pkt->local, iph->daddr);
				ipv4_mapped(pkt->peer, iph->saddr);
				return gtp_ingress(ctx, cfg, pkt, f);
			}
		}
	} else if (proto == ETH_P_IPV6_BE) {
		struct ipv6hdr *ip6 = pkt_at(data, data_end, pkt->l3_off, sizeof(*ip6));

		if (!ip6 || ip6->version != 6)
			return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
		pkt->family = 6;
		pkt->ip_proto = ip6->nexthdr;
		pkt->l3_len = (__u32)bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		pkt->l4_off = pkt->l3_off + sizeof(*ip6);
		if (gtp_role && ip6->nexthdr != IPPROTO_UDP && ipv6_is_fragment(data, data_end, pkt->l4_off, ip6->nexthdr)) {
			if (is_local(cfg, (const __u8 *)&ip6->daddr))
				return count(pkt, EDGE5G_STAT_PASS_FRAGMENT, XDP_PASS);
		} else if (gtp_role && ip6->nexthdr == IPPROTO_UDP) {
			struct udphdr *udp = pkt_at(data, data_end, pkt->l4_off, sizeof(*udp));

			if (udp && udp->dest == bpf_htons(GTPU_PORT)) {
				copy16(pkt->local, &ip6->daddr);
				copy16(pkt->peer, &ip6->saddr);
				return gtp_ingress(ctx, cfg, pkt, f);
			}
		}
	} else {
		return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
	}

	if (iface->roles & EDGE5G_ROLE_CORE)
		return downlink(ctx, cfg, pkt, f);
	return count(pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
}

SEC("xdp")
int xdp_gtp(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	struct edge5g_iface *iface = bpf_map_lookup_elem(&ifaces, &ifindex);
	__u32 zero = 0;
	struct edge5g_config *cfg = bpf_map_lookup_elem(&config, &zero);
	__u32 row = EDGE5G_IF_ROW_OTHER;
	struct edge5g_if_stats *ctrs;
	/* Not zeroed here: each path writes what it reads (parse_flow zeroes the flow, the
	 * general walk the packet), which keeps the stores off the fast paths. */
	struct packet pkt;
	struct flow f;
	int action;

	pkt.len = ctx->data_end - ctx->data;
	if (iface && iface->roles && iface->stats_slot < EDGE5G_MAX_INTERFACES)
		row = iface->stats_slot;
	pkt.row = row;
	/* Kept here too: pkt->ctrs does not survive the calls that take the packet (count_by_row). */
	ctrs = bpf_map_lookup_elem(&if_stats, &row);
	if (!ctrs)
		return XDP_PASS; /* the row is always in the map: not reached */
	pkt.ctrs = ctrs;
	/* Interfaces without a role are not ours to touch (counted on the row of the rest). */
	if (!iface || !iface->roles || !cfg)
		action = count(&pkt, EDGE5G_STAT_PASS_NOT_OURS, XDP_PASS);
	else
		action = process(ctx, iface, cfg, &pkt, &f);
	if (action == DO_FORWARD)
		action = forward(ctx, &pkt, &f);
	count_verdict(ctrs, pkt.len, action);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
