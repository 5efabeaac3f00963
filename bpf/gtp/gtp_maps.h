/* SPDX-License-Identifier: Apache-2.0 */
/* Maps of the GTP-U datapath. Sizes are defaults; the loader sets them from configuration
 * (BpfObjectSpec.SetMaxEntries) before load. Key/value layouts: edge5g_abi.h. */
#ifndef EDGE5G_GTP_MAPS_H
#define EDGE5G_GTP_MAPS_H

#include "edge5g_abi.h"

#define GTP_DEFAULT_SESSIONS 65536

/* The fingerprint of edge5g_abi.h of the build that created these maps (see AbiFingerprint in
 * C#): a restarted gateway adopts pinned maps only when it equals its own. The program never
 * reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} abi_stamp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EDGE5G_MAX_IFINDEX);
	__type(key, __u32);
	__type(value, struct edge5g_iface);
} ifaces SEC(".maps");

/* Dense F-TEIDs and UE addresses (see struct edge5g_config) and the match entries they publish. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_teid_slot);
} teid_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_ue4_slot);
} ue4_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4 * GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_match);
} matches SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * GTP_DEFAULT_SESSIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct edge5g_fteid_key);
	__type(value, struct edge5g_match);
} fteids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GTP_DEFAULT_SESSIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct edge5g_match);
} ue4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GTP_DEFAULT_SESSIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct edge5g_ue6_key);
	__type(value, struct edge5g_match);
} ue6 SEC(".maps");

/* Framed routes: the networks behind UEs, longest prefix first (an LPM trie needs NO_PREALLOC). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, GTP_DEFAULT_SESSIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct edge5g_route_key);
	__type(value, struct edge5g_match);
} framed_routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct edge5g_rule_list);
} rule_lists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct edge5g_sdf);
} sdf_filters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	/* Values start on a page (not 56 bytes into a cache line, where a plain array puts
	 * them): each 64-byte PDR, with its FAR, is exactly one line. */
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4 * GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_pdr);
} pdrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4 * GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_counter);
} pdr_stats SEC(".maps");

/* Usage activity (see edge5g_abi.h): the check epoch, and per stats index the epoch of the
 * last packet counted. pdr_seen is mmap-able so that the control side reads it in place. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} usage_epoch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4 * GTP_DEFAULT_SESSIONS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} pdr_seen SEC(".maps");

/* Last downlink-data notification per PDR (ns), to notify at most once a second. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4 * GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, __u64);
} pdr_notified SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_qer);
} qers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_bucket);
} qer_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GTP_DEFAULT_SESSIONS);
	__type(key, __u32);
	__type(value, struct edge5g_qer_stats);
} qer_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct edge5g_nexthop);
} nexthops SEC(".maps");

/* Row = the interface's stats_slot, or EDGE5G_IF_ROW_OTHER for interfaces without a role:
 * packets/bytes received by verdict and by reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EDGE5G_IF_ROWS);
	__type(key, __u32);
	__type(value, struct edge5g_if_stats);
} if_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge5g_config);
} config SEC(".maps");

/* One entry: how many ue6 keys are exact addresses; while 0 the exact lookup is skipped. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ue6_exact SEC(".maps");

/* Shared by all CPUs (an atomic add per Error Indication, on the unknown-TEID path only), so
 * the configured rate is the gateway's, whatever the CPUs the stray G-PDUs land on. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge5g_rate_window);
} error_indications SEC(".maps");

/* The same for ICMP errors sent to the data network. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge5g_rate_window);
} icmp_errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Packets for the control side to send (struct edge5g_slow_packet): about 60 in flight, as
 * many as fragment_rate lets through in 60 ms at its default; the gateway drains it at once. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} slow_packets SEC(".maps");

/* The packets handed to slow_packets in the current one-second window (config fragment_rate). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge5g_rate_window);
} fragment_window SEC(".maps");

/* The same for buffered packets (config buffer_rate). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge5g_rate_window);
} buffer_window SEC(".maps");

#endif /* EDGE5G_GTP_MAPS_H */
