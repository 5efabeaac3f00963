// SPDX-License-Identifier: Apache-2.0
/*
 * Per-interface XDP packet and byte counter. Lab peers attach it with verdict XDP_PASS
 * (a veth only receives redirected frames when its peer runs an XDP program), benchmark
 * sinks with XDP_DROP to count what the program under test transmitted. tc_ifcount does the
 * same at a TC hook (ingress or egress) and always lets the packet continue.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "edge5g_abi.h"

/* Verdict returned for every packet; set by the loader before load. */
const volatile __u32 verdict = XDP_PASS;

#define IFCOUNT_MAX_INTERFACES 256

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IFCOUNT_MAX_INTERFACES);
	__type(key, __u32);
	__type(value, struct edge5g_if_counters);
} if_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IFCOUNT_MAX_INTERFACES);
	__type(key, __u32);
	__type(value, struct edge5g_if_counters);
} tc_counters SEC(".maps");

static __always_inline void count(void *map, __u32 ifindex, __u64 len)
{
	struct edge5g_if_counters *c = bpf_map_lookup_elem(map, &ifindex);

	if (!c) {
		/* First packet of this interface: create the entry (an EEXIST because another
		 * CPU created it first is fine) and look it up again. */
		struct edge5g_if_counters zero = {};

		bpf_map_update_elem(map, &ifindex, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(map, &ifindex);
		if (!c)
			return; /* table full: still deliver the packet */
	}
	/* Per-CPU value: no other CPU writes it, plain adds are exact. */
	c->packets++;
	c->bytes += len;
}

SEC("xdp")
int xdp_ifcount(struct xdp_md *ctx)
{
	count(&if_counters, ctx->ingress_ifindex, ctx->data_end - ctx->data);
	return verdict;
}

SEC("tc")
int tc_ifcount(struct __sk_buff *skb)
{
	count(&tc_counters, skb->ifindex, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
