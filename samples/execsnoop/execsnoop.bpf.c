// SPDX-License-Identifier: GPL-2.0
// execsnoop: one event per exec, streamed to user space through a ring buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	int pid;
	int ppid;
	unsigned int uid;
	unsigned int is_thread: 1, truncated: 1, reserved: 30;
	char comm[16];
	char filename[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} execs_per_uid SEC(".maps");

const volatile int target_ppid = 0;  // 0: every process
unsigned long long seen = 0;         // .bss: events produced
unsigned long long dropped = 0;      // .bss: ring buffer full

// Makes 'struct event' part of the object's BTF, so the skeleton gets it as a C# type.
struct event *unused_event __attribute__((unused));

// A BTF-typed raw tracepoint: attaches without tracefs (which this kind of sandbox often lacks), arguments typed.
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	int ppid = BPF_CORE_READ(task, real_parent, tgid);
	if (target_ppid && ppid != target_ppid)
		return 0;
	__sync_fetch_and_add(&seen, 1);
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	u64 id = bpf_get_current_pid_tgid();
	e->pid = id >> 32;
	e->ppid = ppid;
	e->uid = (u32)bpf_get_current_uid_gid();
	e->is_thread = (u32)id != (u32)(id >> 32);
	e->truncated = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	long n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	e->truncated = n == sizeof(e->filename);
	u32 uid = e->uid;
	u64 one = 1, *count = bpf_map_lookup_elem(&execs_per_uid, &uid);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&execs_per_uid, &uid, &one, BPF_NOEXIST);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
