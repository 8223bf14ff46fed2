/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types samples/ps/task_dump.bpf.c uses, standing in for bpftool's vmlinux.h when tests/bpf/build.sh
 * compiles it for the live-kernel test: no kernel BTF needed to build. Each is preserve_access_index, so every field
 * offset and sizeof(struct task_struct) is a CO-RE relocation libbpf resolves against the running kernel at load.
 */
#ifndef TESTS_BPF_VMLINUX_H
#define TESTS_BPF_VMLINUX_H

#include <linux/types.h>
#include <linux/bpf.h>

struct seq_file; /* opaque; only passed to bpf_seq_write() */

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

#endif
