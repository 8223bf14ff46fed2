// SPDX-License-Identifier: GPL-2.0
/*
 * BtfBindings.Bpf runtime tests: maps, globals, ring and perf buffers, an iterator.
 * Every program is XDP (run through BPF_PROG_TEST_RUN, which needs no attachment) except the task iterator.
 * The C# tests hold the other half: tests/BtfBindings.Tests/Bpf/.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* A value with bitfields (one signed), a union and tail padding: the C# side writes it, the BPF side reads each field
 * through the compiler's own bitfield code and writes them back as plain fields, and the other way round. */
struct sample {
	__u32 id;
	__u32 kind : 3;
	__u32 flags : 5;
	__s32 delta : 12;
	__u32 wide : 12;
	union {
		__u64 u64;
		__u32 u32[2];
		__u8 bytes[8];
	} payload;
	__u8 tag;
	__s16 small;
};

/* The same fields, unpacked. */
struct sample_fields {
	__u32 id;
	__u32 kind;
	__u32 flags;
	__s32 delta;
	__u32 wide;
	__u32 lo32;
	__u32 hi32;
	__u64 u64;
	__u8 byte0;
	__u8 byte7;
	__u8 tag;
	__u8 pad;
	__s32 small;
};

/* 6 bytes: per-CPU slots are 8, so the C# side goes through its staging path. */
struct small_value {
	__u16 a;
	__u16 b;
	__u16 c;
};

struct event {
	__u64 seq;
	__u32 cpu;
	__u32 magic;
	__u64 payload;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sample);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sample);
} composed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sample_fields);
} fields_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sample_fields);
} fields_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} percpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct small_value);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* .rodata: set by the C# side before Load. */
const volatile __u64 rodata_magic = 0;
const volatile __u32 rodata_factor = 1;

/* .data: initialised, counted up by every run. */
__u64 data_runs = 7;

/* .bss: the key a run works on (written by C# through the mmap'd map after Load) and what the runs report. */
__u32 bss_key;
__u64 bss_seen_magic;
__u64 bss_scaled;
__u64 bss_seq;
__u64 bss_dropped;
__u32 bss_cpu;
__u32 bss_small_a;
__u32 bss_small_b;
__u32 bss_small_c;
__u64 bss_percpu;
struct event last_event;   /* the last ring buffer record (also puts struct event into the object's BTF) */

SEC("xdp")
int echo(struct xdp_md *ctx)
{
	__u32 key = bss_key;
	struct sample *s = bpf_map_lookup_elem(&values, &key);
	struct sample_fields *in = bpf_map_lookup_elem(&fields_in, &key);
	struct sample_fields out = {};
	struct sample c;

	__sync_fetch_and_add(&data_runs, 1);
	bss_seen_magic = rodata_magic;
	bss_scaled = (__u64)key * rodata_factor;
	if (s) {
		out.id = s->id;
		out.kind = s->kind;
		out.flags = s->flags;
		out.delta = s->delta;
		out.wide = s->wide;
		out.lo32 = s->payload.u32[0];
		out.hi32 = s->payload.u32[1];
		out.u64 = s->payload.u64;
		out.byte0 = s->payload.bytes[0];
		out.byte7 = s->payload.bytes[7];
		out.tag = s->tag;
		out.small = s->small;
		bpf_map_update_elem(&fields_out, &key, &out, BPF_ANY);
	}
	if (in) {
		__builtin_memset(&c, 0, sizeof(c));
		c.id = in->id;
		c.kind = in->kind;
		c.flags = in->flags;
		c.delta = in->delta;
		c.wide = in->wide;
		c.payload.u32[0] = in->lo32;
		c.payload.u32[1] = in->hi32;
		c.tag = in->tag;
		c.small = in->small;
		bpf_map_update_elem(&composed, &key, &c, BPF_ANY);
	}
	return XDP_PASS;
}

/* Reads this CPU's slot of both per-CPU maps. */
SEC("xdp")
int percpu(struct xdp_md *ctx)
{
	__u32 key = bss_key;
	__u64 *a = bpf_map_lookup_elem(&percpu_array, &key);
	struct small_value *h = bpf_map_lookup_elem(&percpu_hash, &key);

	bss_cpu = bpf_get_smp_processor_id();
	bss_percpu = a ? *a : ~0ULL;
	bss_small_a = h ? h->a : ~0U;
	bss_small_b = h ? h->b : ~0U;
	bss_small_c = h ? h->c : ~0U;
	return XDP_PASS;
}

/* One ring buffer record per run, numbered; a full ring is counted, not hidden. */
SEC("xdp")
int produce(struct xdp_md *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&bss_dropped, 1);
		return XDP_PASS;
	}
	e->seq = __sync_fetch_and_add(&bss_seq, 1);
	e->cpu = bpf_get_smp_processor_id();
	e->magic = 0x52494e47; /* "RING" */
	e->payload = e->seq * rodata_factor;
	last_event = *e;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

/* The same record through the perf buffer. */
SEC("xdp")
int produce_perf(struct xdp_md *ctx)
{
	struct event e = {};
	e.seq = __sync_fetch_and_add(&bss_seq, 1);
	e.cpu = bpf_get_smp_processor_id();
	e.magic = 0x50455246; /* "PERF" */
	e.payload = e.seq * rodata_factor;
	if (bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e)))
		__sync_fetch_and_add(&bss_dropped, 1);
	return XDP_PASS;
}

/* Task iterator: the pid and tgid of every task, 8 bytes each. */
struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

SEC("iter/task")
int tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	__s32 ids[2];

	if (!t)
		return 0;
	ids[0] = t->pid;
	ids[1] = t->tgid;
	bpf_seq_write(ctx->meta->seq, ids, sizeof(ids));
	return 0;
}
