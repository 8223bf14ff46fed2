// SPDX-License-Identifier: MIT
/*
 * libbpf_parse - peer benchmark for BtfBindings.
 *
 * Measures how long libbpf (the reference C implementation) takes to parse a
 * BTF file and touch the name of every type in it.  One timed iteration is:
 *
 *     btf = btf__parse(FILE, NULL)            (or btf__parse_split(FILE, base))
 *     for id in first..btf__type_cnt(btf)-1:
 *         t = btf__type_by_id(btf, id)
 *         name = btf__name_by_offset(btf, t->name_off)
 *         checksum += strlen(name) (+ kind/vlen, so every type is touched)
 *     btf__free(btf)
 *
 * Usage: libbpf_parse [--split BASE] FILE [ITERATIONS]
 *
 *   ITERATIONS defaults to 50; 3 untimed warm-up iterations run first.
 *   With --split, BASE (e.g. vmlinux BTF) is parsed ONCE, outside the timed
 *   loop, and each timed iteration parses FILE as split BTF on top of it and
 *   touches only the split file's own types (ids btf__type_cnt(base)..).
 *   The one-off base parse time is reported separately as base_parse_ms.
 *
 * Output: exactly one JSON line on stdout, e.g.
 *   {"tool":"libbpf","libbpf_version":"1.1","mode":"raw","file":"/tmp/vmlinux.btf",
 *    "iterations":50,"warmup":3,"types":123456,"checksum":...,"median_ms":...,
 *    "min_ms":...,"mean_ms":...,"max_ms":...,"stddev_ms":...,"max_rss_kb":...,
 *    "start_rss_kb":...}
 *
 *   max_rss_kb   = getrusage(RUSAGE_SELF).ru_maxrss at the end (peak of the run)
 *   start_rss_kb = the same, taken before any BTF is parsed (process baseline)
 *   checksum     = deterministic digest of the touched names/infos; identical
 *                  across iterations (checked) and across runs on the same file
 *
 * Exit status: 0 on success, 1 on parse failure, 2 on usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define DEFAULT_ITERATIONS 50
#define WARMUP_ITERATIONS 3

/* Written after every iteration so the compiler cannot drop the work. */
static volatile uint64_t g_sink;

static double now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--split BASE] FILE [ITERATIONS]\n"
		"  Parses FILE with libbpf ITERATIONS times (default %d, after %d warm-up runs),\n"
		"  touching every type's name, and prints one JSON line of timings.\n"
		"  --split BASE  parse FILE as split BTF on top of BASE (base parsed once, untimed)\n",
		prog, DEFAULT_ITERATIONS, WARMUP_ITERATIONS);
}

/* Only warnings and errors from libbpf go to stderr; stdout stays pure JSON. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

struct run_result {
	uint64_t checksum;
	uint32_t types; /* number of types touched */
};

/*
 * One iteration: parse, touch every type's name, free.
 * Returns 0 on success, negative errno on failure.
 */
static int run_once(const char *file, struct btf *base, struct run_result *res)
{
	struct btf *btf;
	uint32_t first, cnt, id;
	uint64_t sum = 0;
	long err;

	if (base)
		btf = btf__parse_split(file, base);
	else
		btf = btf__parse(file, NULL);
	err = libbpf_get_error(btf);
	if (err || !btf)
		return err ? (int)err : -EINVAL;

	cnt = btf__type_cnt(btf);
	first = base ? btf__type_cnt(base) : 1;
	for (id = first; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;

		if (!t) {
			btf__free(btf);
			return -EINVAL;
		}
		name = btf__name_by_offset(btf, t->name_off);
		/* Anonymous types have name_off 0 -> "" ; NULL only on corrupt data. */
		if (name)
			sum += strlen(name);
		sum = sum * 31 + t->info;
	}
	btf__free(btf);

	res->checksum = sum;
	res->types = cnt > first ? cnt - first : 0;
	g_sink += sum;
	return 0;
}

int main(int argc, char **argv)
{
	const char *base_path = NULL, *file = NULL;
	long iterations = DEFAULT_ITERATIONS;
	struct btf *base = NULL;
	double base_parse_ms = 0.0;
	struct run_result first_res = {0}, res;
	double *times, sum = 0.0, mean, var = 0.0, median;
	struct rusage ru;
	long start_rss_kb;
	int argi = 1, err;
	long i;

	if (argi < argc && (!strcmp(argv[argi], "-h") || !strcmp(argv[argi], "--help"))) {
		usage(argv[0]);
		return 0;
	}
	if (argi < argc && !strcmp(argv[argi], "--split")) {
		if (argi + 1 >= argc) {
			usage(argv[0]);
			return 2;
		}
		base_path = argv[argi + 1];
		argi += 2;
	}
	if (argi >= argc) {
		usage(argv[0]);
		return 2;
	}
	file = argv[argi++];
	if (argi < argc) {
		char *end;

		errno = 0;
		iterations = strtol(argv[argi], &end, 10);
		if (errno || *end || end == argv[argi] || iterations < 1 || iterations > 1000000) {
			fprintf(stderr, "libbpf_parse: invalid ITERATIONS '%s'\n", argv[argi]);
			return 2;
		}
		argi++;
	}
	if (argi != argc) {
		usage(argv[0]);
		return 2;
	}

	libbpf_set_print(libbpf_log);

	/* Peak RSS before any BTF is loaded: process + libc + libbpf baseline. */
	if (getrusage(RUSAGE_SELF, &ru) != 0) {
		perror("getrusage");
		return 1;
	}
	start_rss_kb = ru.ru_maxrss;

	if (base_path) {
		double t0 = now_ms();

		base = btf__parse(base_path, NULL);
		base_parse_ms = now_ms() - t0;
		err = (int)libbpf_get_error(base);
		if (err || !base) {
			fprintf(stderr, "libbpf_parse: failed to parse base BTF '%s': %s\n",
				base_path, strerror(err ? -err : EINVAL));
			return 1;
		}
	}

	times = calloc((size_t)iterations, sizeof(*times));
	if (!times) {
		perror("calloc");
		return 1;
	}

	for (i = 0; i < WARMUP_ITERATIONS; i++) {
		err = run_once(file, base, i == 0 ? &first_res : &res);
		if (err) {
			fprintf(stderr, "libbpf_parse: failed to parse BTF '%s': %s\n",
				file, strerror(-err));
			return 1;
		}
	}

	for (i = 0; i < iterations; i++) {
		double t0 = now_ms();

		err = run_once(file, base, &res);
		times[i] = now_ms() - t0;
		if (err) {
			fprintf(stderr, "libbpf_parse: failed to parse BTF '%s': %s\n",
				file, strerror(-err));
			return 1;
		}
		if (res.checksum != first_res.checksum || res.types != first_res.types) {
			fprintf(stderr, "libbpf_parse: non-deterministic result at iteration %ld\n", i);
			return 1;
		}
	}

	if (getrusage(RUSAGE_SELF, &ru) != 0) {
		perror("getrusage");
		return 1;
	}

	for (i = 0; i < iterations; i++)
		sum += times[i];
	mean = sum / (double)iterations;
	for (i = 0; i < iterations; i++)
		var += (times[i] - mean) * (times[i] - mean);
	var = iterations > 1 ? var / (double)(iterations - 1) : 0.0;

	qsort(times, (size_t)iterations, sizeof(*times), cmp_double);
	if (iterations % 2)
		median = times[iterations / 2];
	else
		median = (times[iterations / 2 - 1] + times[iterations / 2]) / 2.0;

	printf("{\"tool\":\"libbpf\",\"libbpf_version\":\"%u.%u\",\"mode\":\"%s\",\"file\":",
	       libbpf_major_version(), libbpf_minor_version(), base ? "split" : "raw");
	json_string(stdout, file);
	if (base) {
		printf(",\"base\":");
		json_string(stdout, base_path);
		printf(",\"base_parse_ms\":%.3f", base_parse_ms);
	}
	printf(",\"iterations\":%ld,\"warmup\":%d,\"types\":%u,\"checksum\":%llu"
	       ",\"median_ms\":%.3f,\"min_ms\":%.3f,\"mean_ms\":%.3f,\"max_ms\":%.3f"
	       ",\"stddev_ms\":%.3f,\"max_rss_kb\":%ld,\"start_rss_kb\":%ld}\n",
	       iterations, WARMUP_ITERATIONS, first_res.types,
	       (unsigned long long)first_res.checksum,
	       median, times[0], mean, times[iterations - 1], sqrt(var), ru.ru_maxrss,
	       start_rss_kb);

	free(times);
	btf__free(base);
	return 0;
}
