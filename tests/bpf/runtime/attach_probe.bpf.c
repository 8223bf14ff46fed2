// SPDX-License-Identifier: GPL-2.0
/*
 * What attaches on this machine: one program per attach kind, each counting its runs in hits[N].
 * AttachProbeTests loads them one at a time (AutoLoad off for the rest), attaches or test-runs each, triggers it
 * (getpid for the syscall tracepoints, opening a file for do_sys_openat2, starting /bin/true for sched_process_exec)
 * and reports which ones ran.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__u64 hits[16];

#define HIT(n) __sync_fetch_and_add(&hits[n], 1)

SEC("tracepoint/syscalls/sys_enter_getpid")
int tracepoint_getpid(void *ctx) { HIT(0); return 0; }

SEC("raw_tp/sys_enter")
int raw_tp_sys_enter(void *ctx) { HIT(1); return 0; }

SEC("tp_btf/sys_enter")
int tp_btf_sys_enter(void *ctx) { HIT(2); return 0; }

SEC("kprobe/do_sys_openat2")
int kprobe_openat2(void *ctx) { HIT(3); return 0; }

SEC("kretprobe/do_sys_openat2")
int kretprobe_openat2(void *ctx) { HIT(4); return 0; }

SEC("fentry/do_sys_openat2")
int fentry_openat2(void *ctx) { HIT(5); return 0; }

SEC("iter/task")
int iter_task(void *ctx) { HIT(6); return 0; }

SEC("xdp")
int test_run_xdp(struct xdp_md *ctx) { HIT(7); return XDP_PASS; }

SEC("socket")
int test_run_socket(struct __sk_buff *skb) { HIT(8); return 0; }

SEC("tc")
int test_run_tc(struct __sk_buff *skb) { HIT(9); return 0; }

SEC("syscall")
int test_run_syscall(void *ctx) { HIT(10); return 0; }

SEC("tp_btf/sched_process_exec")
int tp_btf_exec(void *ctx) { HIT(12); return 0; }

SEC("raw_tp/sys_exit")
int test_run_raw_tp(void *ctx) { HIT(11); return 0; }
