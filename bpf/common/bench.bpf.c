// SPDX-License-Identifier: Apache-2.0
/*
 * Benchmark wrapper for BPF_PROG_TEST_RUN in live-frames mode. Live mode recycles its pages
 * and resets only the data pointers, so a program that rewrote the previous frame (decap,
 * encap) would see its own output. This wrapper writes the original frame back into every
 * frame, then tail-calls the program under test (slot 0 of bench_target). The trivial
 * program it is compared with runs behind the same wrapper, so the wrapper's cost cancels.
 *
 * Spread mode (spread_count > 0): frame i of the run also gets entry i % spread_count of
 * bench_spread copied over it at spread_off: the TEID or UE address of another session and
 * the checksums that change with it, all computed by the loader. The loader shuffles the
 * entries, so consecutive frames reach sessions far apart in the maps, as traffic from many
 * UEs does.
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

/* Spread mode: entries in bench_spread, and the bytes of the frame each one covers. */
#define BENCH_PATCH_MAX 64
const volatile __u32 spread_count = 0;
const volatile __u32 spread_off = 0;
const volatile __u32 spread_len = 1;

struct bench_patch {
	__u8 bytes[BENCH_PATCH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* spread_count, set by the loader */
	__type(key, __u32);
	__type(value, struct bench_patch);
} bench_spread SEC(".maps");

/* The next entry of bench_spread (live mode runs on one CPU). */
__u32 spread_next = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_target SEC(".maps");

static __always_inline int spread(struct xdp_md *ctx)
{
	__u32 i = spread_next;
	struct bench_patch *p;

	spread_next = i + 1 >= spread_count ? 0 : i + 1;
	p = bpf_map_lookup_elem(&bench_spread, &i);
	if (!p || spread_len > BENCH_PATCH_MAX || spread_len == 0)
		return -1;
	return bpf_xdp_store_bytes(ctx, spread_off, p->bytes, spread_len);
}

SEC("xdp")
int xdp_bench(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bench_frame *frame = bpf_map_lookup_elem(&bench_frame, &key);

	if (!frame || frame_len > BENCH_MAX_FRAME)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, frame->bytes, frame_len))
		return XDP_ABORTED;
	if (spread_count && spread(ctx))
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
