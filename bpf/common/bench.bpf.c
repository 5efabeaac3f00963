// SPDX-License-Identifier: Apache-2.0
/*
 * Benchmark wrapper for BPF_PROG_TEST_RUN in live-frames mode. Live mode recycles its pages
 * and resets only the data pointers, so a program that rewrote the previous frame (decap,
 * encap) would see its own output. This wrapper writes the original frame back into every
 * frame, then tail-calls the program under test (slot 0 of bench_target). The trivial
 * program it is compared with runs behind the same wrapper, so the wrapper's cost cancels.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BENCH_MAX_FRAME 2048

/* Length of the frame in bench_frame; set by the loader. */
const volatile __u32 frame_len = 64;

struct bench_frame {
	__u8 bytes[BENCH_MAX_FRAME];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_frame);
} bench_frame SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_target SEC(".maps");

SEC("xdp")
int xdp_bench(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bench_frame *frame = bpf_map_lookup_elem(&bench_frame, &key);

	if (!frame || frame_len > BENCH_MAX_FRAME)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, frame->bytes, frame_len))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_target, 0);
	return XDP_ABORTED;
}

/* The baseline: transmit the frame back out, touching nothing. */
SEC("xdp")
int xdp_trivial_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
