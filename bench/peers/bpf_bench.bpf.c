// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF side of the ring-buffer and map benchmarks, shared by the C peer (libbpf_ringbuf.c) and the C# bench
 * (BpfBench.cs): "produce" (XDP, run through BPF_PROG_TEST_RUN with repeat = N) reserves and submits one 32-byte record
 * (24 + the 8-byte header) per run into a 16 MiB ring; "values" is the hash map of the lookup+update benchmark.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u64 seq;
	__u32 cpu;
	__u32 magic;
	__u64 payload;
};

struct value {
	__u64 count;
	__u64 bytes;
	__u32 pid;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct value);
} values SEC(".maps");

__u64 seq;
__u64 dropped;

SEC("xdp")
int produce(struct xdp_md *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return XDP_PASS;
	}
	e->seq = seq++;
	e->cpu = bpf_get_smp_processor_id();
	e->magic = 0x52494e47;
	e->payload = e->seq * 3;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
