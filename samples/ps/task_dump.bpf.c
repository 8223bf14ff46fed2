// SPDX-License-Identifier: GPL-2.0
/*
 * ps's task iterator: one record per task, a header then the raw bytes of its task_struct, written to the iterator's
 * seq_file. Compiled by the build against the vmlinux.h written from the project's BtfFile (x86_64-6.12); CO-RE relocates
 * every task_struct access and bpf_core_type_size() to the running kernel at load. The C# side reads the header through
 * the generated task_dump_hdr and the bytes through Kernel.task_struct.View. tests/bpf/build.sh compiles this same file
 * for the live-kernel test, against tests/bpf/vmlinux.h (the few kernel types used) instead.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define TASK_DUMP_MAGIC 0x4B534154u /* "TASK" little-endian */
#define TASK_DUMP_F_TRUNCATED 0x1
#define TASK_DUMP_F_READ_FAILED 0x2
#ifndef TASK_DUMP_MAX_DATA /* tests/bpf's BPF_CFLAGS may lower it to exercise truncation */
#define TASK_DUMP_MAX_DATA (24 * 1024) /* per-CPU map value (32 KiB) and seq_file record limits */
#endif

struct task_dump_hdr {
	__u32 magic;
	__u32 record_len;  /* header_len + data_len */
	__u32 task_size;   /* the running kernel's sizeof(struct task_struct) */
	__u16 header_len;
	__u16 flags;
	__u64 task_addr;
	__s32 pid;
	__s32 tgid;
	__u32 pid_off;
	__u32 tgid_off;
	__u32 comm_off;
	__u32 data_len;
};

_Static_assert(sizeof(struct task_dump_hdr) == 48, "header layout (tests/bpf/README.md)");

struct task_dump_rec {
	struct task_dump_hdr hdr;
	__u8 data[TASK_DUMP_MAX_DATA];
};

/* Scratch: task_struct is far larger than the BPF stack. Its value type puts task_dump_hdr in the object's BTF. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_dump_rec);
} task_dump_buf SEC(".maps");

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	__u32 zero = 0, size, n;
	__u16 flags = 0;

	if (!task) /* the final call */
		return 0;
	struct task_dump_rec *rec = bpf_map_lookup_elem(&task_dump_buf, &zero);
	if (!rec)
		return 0;
	size = bpf_core_type_size(struct task_struct);
	n = size;
	if (n > TASK_DUMP_MAX_DATA) {
		n = TASK_DUMP_MAX_DATA;
		flags |= TASK_DUMP_F_TRUNCATED;
	}
	if (bpf_probe_read_kernel(rec->data, n, task)) {
		flags |= TASK_DUMP_F_READ_FAILED;
		n = 0;
	}
	rec->hdr.magic = TASK_DUMP_MAGIC;
	rec->hdr.record_len = sizeof(rec->hdr) + n;
	rec->hdr.task_size = size;
	rec->hdr.header_len = sizeof(rec->hdr);
	rec->hdr.flags = flags;
	rec->hdr.task_addr = (__u64)(unsigned long)task;
	rec->hdr.pid = task->pid;
	rec->hdr.tgid = task->tgid;
	rec->hdr.pid_off = bpf_core_field_offset(task->pid);
	rec->hdr.tgid_off = bpf_core_field_offset(task->tgid);
	rec->hdr.comm_off = bpf_core_field_offset(task->comm);
	rec->hdr.data_len = n;
	bpf_seq_write(seq, rec, sizeof(rec->hdr) + n);
	return 0;
}
