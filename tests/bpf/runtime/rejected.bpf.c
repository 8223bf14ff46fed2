// SPDX-License-Identifier: GPL-2.0
/* Rejected by the verifier on purpose: reads the packet without checking its length. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
	return *(__u32 *)(long)ctx->data;
}
