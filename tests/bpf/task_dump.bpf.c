// SPDX-License-Identifier: GPL-2.0
/*
 * task_dump: BPF task iterator that emits the raw bytes of every task's
 * struct task_struct, for the BtfBindings live-kernel test.
 *
 * One record per task (see README.md for the exact layout):
 *
 *   struct task_dump_hdr (48 bytes, host byte order)
 *   u8 data[data_len]     raw task_struct bytes, bpf_probe_read_kernel'd
 *
 * No vmlinux.h: the only kernel types used are declared below with
 * preserve_access_index, so every field access / size is a CO-RE relocation
 * that libbpf resolves against the running kernel's BTF at load time.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

/* ---- minimal kernel type declarations (CO-RE relocatable) -------------- */

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

/* ---- record format ----------------------------------------------------- */

#define TASK_DUMP_MAGIC 0x4B534154u /* bytes "TASK" when little-endian */
#define TASK_DUMP_VERSION 1

/* Flags. */
#define TASK_DUMP_F_TRUNCATED 0x1 /* task_size > TASK_DUMP_MAX_DATA; data cut */
#define TASK_DUMP_F_READ_FAILED 0x2 /* bpf_probe_read_kernel failed; no data */

/*
 * Upper bound on copied task_struct bytes. Constraints:
 *  - per-CPU map values are limited to 32 KiB (PCPU_MIN_UNIT_SIZE),
 *  - a single record must fit the bpf_iter seq_file buffer (8 pages =
 *    32 KiB on 4 KiB-page systems, and seq_file needs count < size),
 *  - real task_struct sizes are ~3-14 KiB depending on config.
 */
#ifndef TASK_DUMP_MAX_DATA
#define TASK_DUMP_MAX_DATA (24 * 1024)
#endif

struct task_dump_hdr {
	__u32 magic;       /*  0: TASK_DUMP_MAGIC */
	__u32 record_len;  /*  4: header_len + data_len */
	__u32 task_size;   /*  8: bpf_core_type_size(struct task_struct) */
	__u16 header_len;  /* 12: sizeof(struct task_dump_hdr) == 48 */
	__u16 flags;       /* 14: TASK_DUMP_F_* */
	__u64 task_addr;   /* 16: kernel address of the task_struct */
	__s32 pid;         /* 24: task->pid, read by BPF via CO-RE */
	__s32 tgid;        /* 28: task->tgid, read by BPF via CO-RE */
	__u32 pid_off;     /* 32: bpf_core_field_offset(task->pid) */
	__u32 tgid_off;    /* 36: bpf_core_field_offset(task->tgid) */
	__u32 comm_off;    /* 40: bpf_core_field_offset(task->comm) */
	__u32 data_len;    /* 44: bytes of task_struct that follow */
};

_Static_assert(sizeof(struct task_dump_hdr) == 48, "header layout");

struct task_dump_rec {
	struct task_dump_hdr hdr;
	__u8 data[TASK_DUMP_MAX_DATA];
};

/*
 * Scratch buffer: task_struct is far larger than the 512-byte BPF stack.
 * Per-CPU so concurrent readers on different CPUs don't share it.
 */
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
	struct task_dump_rec *rec;
	__u32 zero = 0;
	__u32 size, n;
	__u16 flags = 0;

	/* Called one final time with task == NULL at the end of iteration. */
	if (!task)
		return 0;

	rec = bpf_map_lookup_elem(&task_dump_buf, &zero);
	if (!rec)
		return 0;

	/* Relocated to a load-time constant: the running kernel's sizeof. */
	size = bpf_core_type_size(struct task_struct);
	n = size;
	if (n > TASK_DUMP_MAX_DATA) {
		n = TASK_DUMP_MAX_DATA;
		flags |= TASK_DUMP_F_TRUNCATED;
	}

	/*
	 * task is a trusted PTR_TO_BTF_ID. The verifier allows direct loads of
	 * individual fields through it, but passing it to a helper as a memory
	 * region is checked against the BTF member at that offset, so e.g.
	 * bpf_seq_write(seq, task, size) is rejected with "access beyond
	 * struct thread_info at off 0 size 3264". Hence the probe-read copy.
	 */
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
	/* Direct (BTF-checked) loads; these are CO-RE relocated too. */
	rec->hdr.pid = task->pid;
	rec->hdr.tgid = task->tgid;
	rec->hdr.pid_off = bpf_core_field_offset(task->pid);
	rec->hdr.tgid_off = bpf_core_field_offset(task->tgid);
	rec->hdr.comm_off = bpf_core_field_offset(task->comm);
	rec->hdr.data_len = n;

	bpf_seq_write(seq, rec, sizeof(rec->hdr) + n);
	return 0;
}
