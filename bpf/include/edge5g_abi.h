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

/* ---- interface counters (common/ifcount.bpf.c) ---- */

/* Value of the per-CPU map if_counters, keyed by ingress ifindex (__u32). */
struct edge5g_if_counters {
	__u64 packets;
	__u64 bytes;
};

#endif /* EDGE5G_ABI_H */
