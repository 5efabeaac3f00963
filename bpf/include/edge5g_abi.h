/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ABI between the BPF programs and the C# gateway: every map key and value struct and
 * every enum both sides share. Fixed-width types only, padding written out, no bool.
 * The C# mirrors (gateway/Datapath/Abi) are checked against this file by a test that
 * compiles _Static_assert(sizeof/offsetof) lines derived from the C# structs.
 */
#ifndef EDGE5G_ABI_H
#define EDGE5G_ABI_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */

/* ---- interface counters (common/ifcount.bpf.c) ---- */

/* Value of the per-CPU map if_counters, keyed by ingress ifindex (__u32). */
struct edge5g_if_counters {
	__u64 packets;
	__u64 bytes;
};

/* ---- GTP-U datapath (gtp/gtp.bpf.c) ----
 * The control side (gateway/Datapath) compiles sessions (PDRs, FARs, QERs) into these flat
 * entries; the program only looks them up. Index fields refer to slots of array maps; a slot
 * is written before any entry that points at it is published, and unpublished before reuse.
 */

/* An absent index (no QER, no rule list, no next hop...). */
#define EDGE5G_NONE 0xffffffffu

/* Bounds the program and the compiler agree on. */
#define EDGE5G_RULES_PER_LIST 16 /* PDR/filter pairs tried per F-TEID or UE address */
#define EDGE5G_MAX_INTERFACES 64 /* interfaces with roles, each with its row of if_stats */
#define EDGE5G_IF_ROW_OTHER EDGE5G_MAX_INTERFACES /* if_stats row of interfaces without a role */
#define EDGE5G_IF_ROWS (EDGE5G_MAX_INTERFACES + 1)
#define EDGE5G_XDP_ACTIONS 5     /* XDP_ABORTED..XDP_REDIRECT */
#define EDGE5G_MAX_IFINDEX 4096  /* ifaces is an array indexed by ifindex: no hashing per packet */

/* Roles of an interface the program is attached to (bit set). */
enum edge5g_role {
	EDGE5G_ROLE_ACCESS = 1, /* N3: GTP-U from gNBs */
	EDGE5G_ROLE_CORE = 2,   /* N6: plain IP from the data network */
	EDGE5G_ROLE_N9 = 4,     /* N9: GTP-U from/to other UPFs */
};

/* Value of array map ifaces, indexed by ifindex; roles 0 = not ours to touch. */
struct edge5g_iface {
	__u32 roles;      /* enum edge5g_role bits */
	__u32 stats_slot; /* row of this interface in if_stats (< EDGE5G_MAX_INTERFACES) */
};

/* Key of map fteids: a local F-TEID. IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d). */
struct edge5g_fteid_key {
	__u32 teid;    /* network byte order, as on the wire */
	__u8 addr[16]; /* local (destination) address of the tunnel */
};

/* Key of map ue6: a UE's /64 prefix with a zero interface identifier (one prefix per PDU
 * session, TS 23.501 5.8.2.2), held by the first session of that /64; or, for a later session
 * whose SMF assigned an address in the same /64 (Open5GS hands out ::2, ::3, ... of one /64),
 * its exact address. Downlink looks up the exact destination first, then its /64. */
struct edge5g_ue6_key {
	__u8 addr[16];
};

/* Key of framed_routes (an LPM trie): a network behind a UE (Framed-Route, Framed-IPv6-Route;
 * TS 29.244 5.2.1A). IPv4 networks are IPv4-mapped (::ffff:0:0/96), prefixlen 96 + their
 * length, so one trie serves both families. Downlink looks here when the destination is no
 * UE's own address. */
struct edge5g_route_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Flags of struct edge5g_match. */
enum edge5g_match_flag {
	EDGE5G_MATCH_UE_V4 = 1, /* the inner source must be ue_ipv4 (uplink anti-spoofing) */
	EDGE5G_MATCH_UE_V6 = 2, /* the inner source must be in ue_ipv6_prefix */
};

/* Value of array map matches (published through teid_slots and ue4_slots: a changed match
 * is written to a new slot and the slot index switched with one aligned 4-byte store) and of
 * the hash maps fteids, ue4 (key: UE IPv4 __be32) and ue6: which PDR handles the packet.
 * With one catch-all PDR, pdr names it and rule_list is EDGE5G_NONE; otherwise rule_list
 * names a list of (PDR, filter, QFI) rules in precedence order and pdr is EDGE5G_NONE. */
struct edge5g_match {
	__u32 pdr;
	__u32 rule_list;
	__u32 flags; /* enum edge5g_match_flag */
	__u32 ue_ipv4;          /* network byte order */
	__u8 ue_ipv6_prefix[8];
	__u8 qfi;               /* the only PDR's QFI, 0 = any (a QFI alone needs no rule list) */
	__u8 pad[3];
};

/* One rule of a list: the PDR matches when the QFI and the SDF filter match. */
struct edge5g_rule {
	__u32 pdr;
	__u32 sdf; /* index in sdf_filters, EDGE5G_NONE = any packet */
	__u8 qfi;  /* 0 = any QFI */
	__u8 pad[3];
};

/* Value of array map rule_lists. */
struct edge5g_rule_list {
	__u32 count;
	struct edge5g_rule rules[EDGE5G_RULES_PER_LIST];
};

/* Value of array map sdf_filters: an SDF filter resolved for the direction of its PDR, in
 * terms of the packet's own source and destination. Addresses and masks are in network
 * byte order (IPv4 in the first 4 bytes); ports in host order, inclusive ranges. */
struct edge5g_sdf {
	__u8 family;   /* 4, 6, or 0 = either */
	__u8 protocol; /* IP protocol, 0 = any */
	__u8 tos;      /* IPv4 TOS / IPv6 traffic class, compared under tos_mask */
	__u8 tos_mask;
	__u16 src_port_min;
	__u16 src_port_max;
	__u16 dst_port_min;
	__u16 dst_port_max;
	__u8 src[16];
	__u8 src_mask[16];
	__u8 dst[16];
	__u8 dst_mask[16];
};

/* Direction of a PDR (from its source interface). */
enum edge5g_direction {
	EDGE5G_DIR_UPLINK = 0,
	EDGE5G_DIR_DOWNLINK = 1,
};

/* Outer header removal of a PDR. */
enum edge5g_ohr {
	EDGE5G_OHR_NONE = 0,
	EDGE5G_OHR_GTPU = 1, /* remove GTP-U/UDP/IPv4 or IPv6 */
};

/*
 * Usage activity. Map usage_epoch holds one __u64, the epoch the control side's usage check
 * last started (it advances it before reading any counter); map pdr_seen holds, per stats
 * index, the epoch in which the PDR last counted a packet (a __u64 each, which is also the
 * stride of the mmap-able array the control side reads in place). A PDR whose seen epoch is
 * older than its session's last check (less one, for a packet counted while the epoch moved)
 * has counted nothing since: its counters need no reading.
 */

/* Flags of a PDR. */
enum edge5g_pdr_flags {
	/* A volume quota of one of its URRs is used up and the SMF named no FAR for the quota
	 * action: drop, counted as DROP_QUOTA and not as usage (TS 29.244 5.2.2.2.1). */
	EDGE5G_PDR_QUOTA_EXHAUSTED = 1,
	/* Its QER's gate is closed in the PDR's direction: drop, counted as DROP_GATE_CLOSED. */
	EDGE5G_PDR_GATE_CLOSED = 2,
	/* Its QER has an MBR in the PDR's direction: the packet takes from the QER's token bucket.
	 * Without it (and without GATE_CLOSED) the program reads nothing of the QER. */
	EDGE5G_PDR_MBR = 4,
};

/* Apply Action bits, numbered as in PFCP (TS 29.244 8.2.26, octet 5). */
enum edge5g_far_action {
	EDGE5G_FAR_DROP = 1,
	EDGE5G_FAR_FORW = 2,
	EDGE5G_FAR_BUFF = 4,
	EDGE5G_FAR_NOCP = 8,
};

/* Outer header creation of a FAR. */
enum edge5g_ohc {
	EDGE5G_OHC_NONE = 0,
	EDGE5G_OHC_GTPU_IPV4 = 1,
	EDGE5G_OHC_GTPU_IPV6 = 2,
};

/* Destination interface, numbered as in PFCP (TS 29.244 8.2.24). Decides the type of PDU
 * Session Container pushed: DL PDU SESSION INFORMATION towards access, UL towards core (N9). */
enum edge5g_interface {
	EDGE5G_IF_ACCESS = 0,
	EDGE5G_IF_CORE = 1,
	EDGE5G_IF_SGI_LAN = 2,
	EDGE5G_IF_CP_FUNCTION = 3,
};

/* A FAR, as its PDRs carry it (edge5g_pdr.fwd). */
struct edge5g_far {
	__u16 action;          /* enum edge5g_far_action bits */
	__u8 ohc;              /* enum edge5g_ohc */
	__u8 dest_interface;   /* enum edge5g_interface */
	__u32 teid;            /* outer TEID, network byte order */
	__u32 nexthop;         /* index in nexthops, EDGE5G_NONE = bpf_fib_lookup */
	__u8 tos;              /* outer IPv4 TOS / IPv6 traffic class (transport level marking) */
	__u8 pad[3];
	__u8 peer[16];         /* outer destination (IPv4 in the first 4 bytes) */
	__u8 local[16];        /* outer source */
};

/* Value of array map pdrs. A changed PDR is written to a new slot and the match entry is
 * switched over; its counters keep their own index (stats) so they survive the change. What
 * the program needs of the PDR's QER for its direction (gate, MBR or not, QFI) is copied in
 * too: every modification writes every PDR afresh, so the copy never goes stale. */
struct edge5g_pdr {
	__u32 far;   /* the FAR's slot: PDRs with the same value share a FAR (the compiler's bookkeeping) */
	__u32 qer;   /* index in qers, EDGE5G_NONE = no QoS enforcement */
	__u32 stats; /* index in pdr_stats, pdr_notified and pdr_seen, stable for the PDR's lifetime */
	__u8 direction;            /* enum edge5g_direction */
	__u8 outer_header_removal; /* enum edge5g_ohr */
	__u8 flags;                /* enum edge5g_pdr_flags bits */
	__u8 qfi;                  /* the QER's QFI for pushed PDU Session Containers, 0 = keep the packet's */
	/* The FAR, written with the PDR (a changed FAR gets its PDRs written to new slots too,
	 * so no copy goes stale): a packet reads its PDR and FAR in one entry, one cache line. */
	struct edge5g_far fwd;
	__u8 pad2[4]; /* 64 bytes */
};

/* Gate status, numbered as in PFCP (TS 29.244 8.2.7). */
enum edge5g_gate {
	EDGE5G_GATE_OPEN = 0,
	EDGE5G_GATE_CLOSED = 1,
};

/* Value of array map qers. MBR 0 = no limit. */
struct edge5g_qer {
	__u8 gate[2]; /* per enum edge5g_direction */
	__u8 qfi;     /* QFI written into pushed PDU Session Containers, 0 = keep the packet's */
	__u8 pad[5];
	__u64 mbr[2];   /* bytes per second, per direction */
	__u64 burst[2]; /* token bucket depth in bytes, per direction */
};

/* Token bucket of one QER direction, value of array map qer_buckets (index qer*2+direction).
 * Shared by all CPUs, so the rate holds whatever CPU a packet lands on. */
struct edge5g_bucket {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 tokens;  /* bytes */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last refill */
};

/* Per-CPU drops of one QER (map qer_stats, same index as qers). */
struct edge5g_qer_stats {
	__u64 gate_drops;
	__u64 mbr_drops;
};

/* Value of array map nexthops: where to send a packet without asking the FIB. */
struct edge5g_nexthop {
	__u32 ifindex;   /* where to transmit: for a VLAN egress device, its parent */
	__u16 mtu;       /* L3 MTU of the egress interface */
	__u8 valid;      /* 0 = unresolved: use bpf_fib_lookup */
	__u8 vlan;       /* 1 = the egress is a VLAN device: push vlan_proto/vlan_tci */
	__u8 dmac[6];
	__u8 smac[6];
	__be16 vlan_proto; /* 802.1Q or 802.1ad, network order */
	__be16 vlan_tci;   /* VLAN id (priority 0), network order */
};

/* Per-CPU packet/byte pair (pdr_stats, and the cells of if_stats). */
struct edge5g_counter {
	__u64 packets;
	__u64 bytes;
};

/* Why a packet went where it went: index of edge5g_if_stats.reason. PASS_* go to the
 * kernel stack, DROP_* are dropped, the rest are handled in the datapath. */
enum edge5g_stat {
	EDGE5G_STAT_FORWARD_UPLINK = 0,   /* decapsulated towards the data network */
	EDGE5G_STAT_FORWARD_DOWNLINK = 1, /* encapsulated towards a gNB */
	EDGE5G_STAT_FORWARD_N9 = 2,       /* re-encapsulated towards another UPF */
	EDGE5G_STAT_ECHO_REPLIED = 3,
	EDGE5G_STAT_END_MARKER = 4,       /* End Marker forwarded or, at a decapsulating FAR, consumed */
	EDGE5G_STAT_ERROR_INDICATION = 5, /* handed to the control side, dropped */
	EDGE5G_STAT_PASS_NOT_OURS = 6,    /* not GTP-U to us nor to a UE: the stack's business */
	EDGE5G_STAT_PASS_FRAGMENT = 7,    /* outer fragment of GTP-U: the stack reassembles */
	EDGE5G_STAT_PASS_NO_ROUTE = 8,    /* no next hop and the FIB had none */
	EDGE5G_STAT_PASS_TTL = 9,         /* inner TTL/hop limit expires: the stack answers */
	EDGE5G_STAT_PASS_SIGNALLING = 10, /* GTP-U echo response etc.: for the control side */
	EDGE5G_STAT_DROP_MALFORMED = 11,
	EDGE5G_STAT_DROP_NO_SESSION = 12, /* unknown TEID on one of our addresses */
	EDGE5G_STAT_DROP_NO_RULE = 13,    /* no PDR's filters matched */
	EDGE5G_STAT_DROP_FAR = 14,        /* FAR apply action DROP */
	EDGE5G_STAT_DROP_BUFFERED = 15,   /* FAR NOCP without BUFF, or BUFF beyond buffer_rate / a full ring: dropped (NOCP notified) */
	EDGE5G_STAT_DROP_GATE_CLOSED = 16,
	EDGE5G_STAT_DROP_MBR = 17,
	EDGE5G_STAT_DROP_MTU = 18,        /* encapsulated packet would exceed the egress MTU */
	EDGE5G_STAT_DROP_UNSUPPORTED = 19,/* GTP-U message or extension the datapath cannot handle */
	EDGE5G_STAT_ERROR_INDICATION_SENT = 20, /* unknown TEID answered with an Error Indication */
	EDGE5G_STAT_ROUTER_SOLICITATION = 21,   /* a UE's ICMPv6 RS no PDR takes: the control side answers */
	EDGE5G_STAT_DROP_QUOTA = 22,      /* the PDR's usage quota is used up */
	EDGE5G_STAT_ICMP_TOO_BIG_SENT = 23, /* too big to encapsulate: ICMP Fragmentation Needed / Packet Too Big sent back */
	EDGE5G_STAT_FRAGMENTED = 24,      /* IPv4 without DF too big once encapsulated: handed to the control side, which fragments it */
	EDGE5G_STAT_BUFFERED = 25,        /* FAR BUFF: handed to the control side, which holds it until the tunnel is known */
	EDGE5G_STAT_COUNT = 26,
};

/*
 * Value of per-CPU array if_stats: what one interface received, by XDP verdict and by reason
 * (row = its stats_slot; EDGE5G_IF_ROW_OTHER for interfaces without a role). Both in one
 * value so that a packet costs one lookup, made at entry; the totals per reason are the sums
 * over the rows.
 */
struct edge5g_if_stats {
	struct edge5g_counter verdict[EDGE5G_XDP_ACTIONS]; /* index: XDP action */
	struct edge5g_counter reason[EDGE5G_STAT_COUNT];   /* index: enum edge5g_stat */
};

#define EDGE5G_MAX_LOCAL_ADDRS 4 /* our GTP-U addresses per family */

/* Settings of the GTP-U program (value 0 of array map config). The dense ranges let the
 * common lookups index arrays instead of hashing: TEIDs we allocate fall in
 * [teid_base, teid_base + teid_count), UE IPv4 addresses of the configured pool in
 * [ue4_base, ue4_base + ue4_count); keys outside them go to the hash maps. */
struct edge5g_config {
	__u8 recovery; /* restart counter sent in the Recovery IE of Echo Responses */
	__u8 pad;
	__u16 error_indication_rate; /* Error Indications sent per second at most; 0 = none */
	__u32 teid_base;  /* host order */
	__u32 teid_count;
	__u32 ue4_base;   /* host order */
	__u32 ue4_count;
	__u32 local4_count;
	__u32 local6_count;
	__u32 local4[EDGE5G_MAX_LOCAL_ADDRS];       /* our GTP-U IPv4 addresses, network order */
	__u8 local6[EDGE5G_MAX_LOCAL_ADDRS][16]; /* our GTP-U IPv6 addresses */
	/* ICMP errors to the data network (a downlink packet too big to encapsulate): sent from
	 * these addresses, at most icmp_rate per second; an unset address or rate 0 = dropped. */
	__u16 icmp_rate;
	/* IPv4 packets without DF too big to encapsulate, handed to the control side per second
	 * at most (ring buffer slow_packets); beyond it, or 0, they are dropped (DROP_MTU). */
	__u16 fragment_rate;
	__u32 icmp4_src;    /* network order; 0 = none */
	__u8 icmp6_src[16]; /* :: = none */
	/* Packets of FARs with BUFF handed to the control side to hold per second at most;
	 * beyond it, or 0, they are dropped (DROP_BUFFERED). */
	__u16 buffer_rate;
	__u16 pad3;
};

/* Value of array map teid_slots (index teid - teid_base): a dense F-TEID entry. */
struct edge5g_teid_slot {
	__u32 teid;    /* network order; 0 = empty */
	__u32 match;   /* index in matches */
	__u8 addr[16]; /* local address, IPv4-mapped */
};

/* Value of array map ue4_slots (index ue - ue4_base). */
struct edge5g_ue4_slot {
	__u32 ue;    /* network order; 0 = empty */
	__u32 match; /* index in matches */
};

/* Value of the one-entry array maps error_indications and icmp_errors: the replies sent in
 * the current one-second window (shared by all CPUs). */
struct edge5g_rate_window {
	__u64 start_ns; /* bpf_ktime_get_ns() at the window's start */
	__u64 sent;
};

/* Events for the control side (ring buffer map events). */
enum edge5g_event_kind {
	EDGE5G_EVENT_DOWNLINK_DATA = 1,     /* packet hit a BUFF/NOCP FAR: report it (PFCP DLDR) */
	EDGE5G_EVENT_ERROR_INDICATION = 2,  /* a peer says it has no context for our TEID */
	EDGE5G_EVENT_ROUTER_SOLICITATION = 3, /* a UE asks for its IPv6 prefix: send a Router Advertisement */
};

struct edge5g_event {
	__u32 kind;  /* enum edge5g_event_kind */
	__u32 index; /* PDR stats index (downlink data, router solicitation: any PDR of the session) */
	__u32 teid;  /* TEID Data I of the Error Indication, network byte order */
	__u8 qfi;
	__u8 pad[3];
	__u8 peer[16]; /* GTP-U peer address of the Error Indication (IPv4-mapped or IPv6) */
};

/*
 * Records of ring buffer map slow_packets: packets the control side sends for the datapath.
 * EDGE5G_SLOW_FRAGMENT: an IPv4 packet without DF (from the data network, or the inner packet
 * of a G-PDU re-encapsulated towards N9 or the gNB), too big once encapsulated, with what its
 * FAR says; the control side fragments it (RFC 791: the far end reassembles) and sends each
 * fragment down the tunnel; the datapath has already counted it on the PDR and applied its
 * QER. EDGE5G_SLOW_BUFFER: a packet of a PDR whose FAR buffers (the UE is being paged); the
 * control side holds it and sends it once the FAR forwards. Longer packets are dropped.
 */
#define EDGE5G_SLOW_PACKET_MAX 4096
enum edge5g_slow_kind {
	EDGE5G_SLOW_FRAGMENT = 0, /* too big: fragment and send down the FAR's tunnel */
	EDGE5G_SLOW_BUFFER = 1,   /* FAR BUFF: hold until the PDR's FAR forwards (only kind, stats, len, packet are set) */
};
struct edge5g_slow_packet {
	__u32 kind;     /* enum edge5g_slow_kind */
	__u32 stats;    /* the PDR's stats slot: which PDR of which session */
	__u32 teid;     /* outer TEID, network byte order */
	__u16 mtu;      /* the largest IP packet that fits once encapsulated */
	__u16 len;      /* bytes of packet */
	__u8 ohc;       /* enum edge5g_ohc: outer IPv4 or IPv6 */
	__u8 qfi;       /* for the PDU Session Container; 0 = none */
	__u8 tos;       /* outer TOS / traffic class */
	__u8 pdu_type;  /* of the PDU Session Container: 0 DL (towards the gNB), 1 UL (N9) */
	__u8 peer[16];  /* outer destination (IPv4 in the first 4 bytes), as in edge5g_far */
	__u8 local[16]; /* outer source, as in edge5g_far */
	__u8 packet[EDGE5G_SLOW_PACKET_MAX]; /* the IP packet as received (TTL not decremented) */
};

#endif /* EDGE5G_ABI_H */
