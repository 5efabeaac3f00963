// SPDX-License-Identifier: Apache-2.0
/*
 * Per-interface XDP packet and byte counter. Lab peers attach it with verdict XDP_PASS
 * (a veth only receives redirected frames when its peer runs an XDP program), benchmark
 * sinks with XDP_DROP to count what the program under test transmitted.
 */
#include <linux/bpf.h>
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

SEC("xdp")
int xdp_ifcount(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	__u64 len = ctx->data_end - ctx->data;
	struct edge5g_if_counters *c = bpf_map_lookup_elem(&if_counters, &ifindex);

	if (!c) {
		/* First packet of this interface: create the entry (an EEXIST because another
		 * CPU created it first is fine) and look it up again. */
		struct edge5g_if_counters zero = {};

		bpf_map_update_elem(&if_counters, &ifindex, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&if_counters, &ifindex);
		if (!c)
			return verdict; /* table full: still deliver the packet */
	}
	/* Per-CPU value: no other CPU writes it, plain adds are exact. */
	c->packets++;
	c->bytes += len;
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
