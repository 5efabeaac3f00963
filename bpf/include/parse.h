/* SPDX-License-Identifier: Apache-2.0 */
/* Bounds-checked header access shared by the programs. Every read goes through a check
 * against data_end that the verifier can follow; offsets are masked to named bounds. */
#ifndef EDGE5G_PARSE_H
#define EDGE5G_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88A8)
#define ETH_P_IP_BE bpf_htons(ETH_P_IP)
#define ETH_P_IPV6_BE bpf_htons(ETH_P_IPV6)

/* Largest header stack the parsers walk into (outer L2..GTP-U extensions..inner L4). */
#define PARSE_MAX_OFFSET 2048

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* Pointer to len bytes at offset off of the packet, or NULL if the packet is shorter. */
static __always_inline void *pkt_at(void *data, void *data_end, __u32 off, __u32 len)
{
	void *p;

	if (off > PARSE_MAX_OFFSET)
		return NULL;
	p = data + off;
	if (p + len > data_end)
		return NULL;
	return p;
}

/* Ones' complement helpers. */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline __u32 csum_add32(__u32 sum, __u32 add)
{
	sum += add;
	return sum + (sum < add);
}

/* IPv4 header checksum of a 20-byte header (no options), written into iph->check. */
/*
 * Writes an IPv4 header without options, its checksum summed from the values in registers:
 * reading the header back would load 16-bit words over the byte stores just made (version and
 * TOS, TTL and protocol), which store-to-load forwarding cannot serve and which stall. The
 * ones' complement sum is the same in either byte order, so the network-order words are summed
 * as they are stored.
 */
static __always_inline void ipv4_write(struct iphdr *iph, __u8 tos, __u16 tot_len, __be16 id, __be16 frag_off, __u8 ttl,
				       __u8 protocol, __be32 saddr, __be32 daddr)
{
	__u16 *w = (__u16 *)iph;
	__be16 version_tos = bpf_htons(0x4500 | tos);
	__be16 length = bpf_htons(tot_len);
	__be16 ttl_protocol = bpf_htons(((__u16)ttl << 8) | protocol);
	__u32 sum = (__u32)version_tos + length + id + frag_off + ttl_protocol + (saddr & 0xffff) + (saddr >> 16) +
		    (daddr & 0xffff) + (daddr >> 16);

	w[0] = version_tos;
	w[1] = length;
	w[2] = id;
	w[3] = frag_off;
	w[4] = ttl_protocol;
	w[5] = csum_fold32(sum);
	iph->saddr = saddr;
	iph->daddr = daddr;
}

/* RFC 1624 incremental update for a TTL decrement. */
static __always_inline void ipv4_decrement_ttl(struct iphdr *iph)
{
	__u32 check = (__u32)iph->check;

	check += (__u32)bpf_htons(0x0100);
	iph->check = (__u16)(check + (check >= 0xFFFF));
	iph->ttl--;
}

/* Copies 16 bytes (addresses) as four 32-bit words: memcpy of data the compiler cannot
 * prove aligned becomes sixteen byte loads and stores. Both sides must be 4-byte aligned
 * when on the stack (the verifier is strict there); packet data may be unaligned on x86. */
static __always_inline void copy16(void *dst, const void *src)
{
	__u32 *d = dst;
	const __u32 *s = src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
	d[3] = s[3];
}

/* Copies a MAC address as three 16-bit words (2-byte aligned on the stack). */
static __always_inline void copy6(void *dst, const void *src)
{
	__u16 *d = dst;
	const __u16 *s = src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
}

/* IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d), the form F-TEID keys use. */
static __always_inline void ipv4_mapped(__u8 out[16], __be32 addr)
{
	__u32 *w = (__u32 *)out;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr;
}

#endif /* EDGE5G_PARSE_H */
