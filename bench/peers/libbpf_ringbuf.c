// SPDX-License-Identifier: MIT
/*
 * libbpf_ringbuf: the C peer of the BtfBindings.Bpf benchmarks (bench/run.sh section 6), over bpf_bench.bpf.o.
 *
 *   libbpf_ringbuf OBJ ring ROUNDS RECORDS   per round: fill the ring with RECORDS records (test runs of "produce",
 *                                            untimed), then time draining it with ring_buffer__poll(rb, 0) and a
 *                                            callback that reads each record; prints the median events/s
 *   libbpf_ringbuf OBJ maps ROUNDS OPS       per round: OPS x (bpf_map_lookup_elem + bpf_map_update_elem) on 1024 keys of
 *                                            "values"; prints the median ops/s
 * One JSON line on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

struct event { unsigned long long seq; unsigned int cpu, magic; unsigned long long payload; };
struct value { unsigned long long count, bytes; unsigned int pid, flags; };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *xs, int n) { qsort(xs, n, sizeof(*xs), cmp); return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2; }

static unsigned long long sum, expect, bad;

static int on_record(void *ctx, void *data, size_t size)
{
	const struct event *e = data;
	(void)ctx; (void)size;
	if (e->seq != expect) bad++;
	expect = e->seq + 1;
	sum += e->payload;
	return 0;
}

static void fill(int prog_fd, int records)
{
	char pkt[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = records);
	if (bpf_prog_test_run_opts(prog_fd, &opts)) { perror("test_run"); exit(1); }
}

int main(int argc, char **argv)
{
	if (argc != 5) { fprintf(stderr, "usage: %s OBJ ring|maps ROUNDS N\n", argv[0]); return 2; }
	int rounds = atoi(argv[3]), n = atoi(argv[4]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
	double *rates = calloc(rounds, sizeof(double));

	if (strcmp(argv[2], "ring") == 0) {
		int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "produce"));
		struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "events")), on_record, NULL, NULL);
		if (!rb) { perror("ring_buffer__new"); return 1; }
		fill(prog, 1000);
		while (ring_buffer__poll(rb, 0) > 0) {}
		for (int r = 0; r < rounds; r++) {
			fill(prog, n);
			double t0 = now();
			long got = 0;
			while (got < n) { int k = ring_buffer__poll(rb, 0); if (k < 0) { perror("poll"); return 1; } got += k; }
			rates[r] = n / (now() - t0);
		}
		printf("{\"peer\":\"libbpf ring_buffer__poll\",\"events_per_s\":%.0f,\"rounds\":%d,\"records\":%d,\"out_of_order\":%llu,\"check\":%llu}\n",
		       median(rates, rounds), rounds, n, bad, sum);
		ring_buffer__free(rb);
	} else {
		int fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "values"));
		struct value v = {0};
		for (unsigned int k = 0; k < 1024; k++) bpf_map_update_elem(fd, &k, &v, BPF_ANY);
		for (int r = 0; r < rounds; r++) {
			double t0 = now();
			for (int i = 0; i < n; i++) {
				unsigned int k = i & 1023;
				if (bpf_map_lookup_elem(fd, &k, &v)) { perror("lookup"); return 1; }
				v.count++;
				v.bytes += k;
				if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) { perror("update"); return 1; }
			}
			rates[r] = n / (now() - t0);
		}
		printf("{\"peer\":\"libbpf bpf_map_lookup_elem+update\",\"ops_per_s\":%.0f,\"rounds\":%d,\"ops\":%d}\n", median(rates, rounds), rounds, n);
	}
	bpf_object__close(obj);
	return 0;
}
