// SPDX-License-Identifier: MIT
/*
 * core_oracle: what libbpf ITSELF relocates a CO-RE object to, for a given target kernel BTF.
 *
 *   gcc -O2 -o core_oracle core_oracle.c -lbpf
 *   core_oracle OBJECT.o TARGET.btf
 *
 * OBJECT.o holds programs in SEC("oracle"), each "return <one CO-RE relocated value>;" (r0 = imm; exit), as
 * clang -target bpf -g -O2 compiles bpf_core_field_offset(...) & co. The object is opened with
 * opts.btf_custom_path = TARGET.btf and loaded with bpf_object__load, which performs libbpf's CO-RE relocation
 * (bpf_object__relocate -> bpf_core_resolve_relo/bpf_core_patch_insn, relo_core.c). Before each program goes to
 * the kernel, libbpf calls our SEC("oracle") handler's prog_prepare_load_fn: it reads the relocated instructions
 * (bpf_program__insns) and decodes the immediate, then swaps the program for "r0 = 0; ...; exit" (same length, so
 * func_info stays valid) so that poisoned relocations (a missing field: call 0xbad2310) never fail the load.
 *
 * A relocation libbpf refuses outright (ambiguous candidates, a value that does not fit the insn) fails the whole
 * bpf_object__load; its program is then reported as "error" (with libbpf's message), not autoloaded, and the object
 * is opened and loaded again.
 *
 * Output, one line per program, in ELF order:  NAME value N | NAME poison | NAME error MESSAGE
 * Exit 0 on success, 3 when bpf() is unavailable (message on stderr: the test skips), 1/2 on other errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_PROGS 65536
#define POISON_IMM 0xbad2310

struct result {
	char *name;
	int state; /* 0 = not seen, 1 = value, 2 = poison, 3 = error */
	unsigned long long value;
	char *error;
};

static struct result results[MAX_PROGS];
static int nresults;
static char last_failed[256];
static char last_message[1024];
static char probe_message[1024];
static int verbose;

static struct result *lookup(const char *name, int create)
{
	/* the generated programs are r0, r1, ...: direct index */
	if (name[0] == 'r' && name[1] >= '0' && name[1] <= '9') {
		char *end;
		long i = strtol(name + 1, &end, 10);
		if (*end == 0 && i >= 0 && i < MAX_PROGS) {
			if (!results[i].name) {
				if (!create)
					return NULL;
				results[i].name = strdup(name);
				if (i >= nresults)
					nresults = (int)i + 1;
			}
			return &results[i];
		}
	}
	for (int i = 0; i < nresults; i++)
		if (results[i].name && strcmp(results[i].name, name) == 0)
			return &results[i];
	if (!create || nresults >= MAX_PROGS)
		return NULL;
	while (nresults < MAX_PROGS && results[nresults].name)
		nresults++;
	if (nresults >= MAX_PROGS)
		return NULL;
	results[nresults].name = strdup(name);
	return &results[nresults++];
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024], *buf = line;
	const char *p, *q;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (verbose)
		fputs(line, stderr);
	if (strncmp(buf, "libbpf: ", 8) == 0)
		buf += 8;
	/* "prog 'NAME': relo #N: <why>" precedes "prog 'NAME': relo #N: failed to relocate: -22" */
	if (strncmp(buf, "prog '", 6) == 0 && (p = strchr(buf + 6, '\'')) != NULL && strstr(p, "relo")) {
		size_t n = (size_t)(p - (buf + 6));
		if (n >= sizeof(last_failed))
			n = sizeof(last_failed) - 1;
		if (strstr(p, "failed to relocate") || strstr(p, "failed to patch")) {
			memcpy(last_failed, buf + 6, n);
			last_failed[n] = 0;
		} else {
			q = strstr(p, "relo #");
			q = q ? strchr(q, ':') : NULL;
			snprintf(last_message, sizeof(last_message), "%s", q ? q + 2 : p + 3);
			last_message[strcspn(last_message, "\n")] = 0;
		}
	}
	if (strstr(buf, "probe_loading") || strstr(buf, "Couldn't load trivial BPF program")) {
		snprintf(probe_message, sizeof(probe_message), "%s", buf);
		probe_message[strcspn(probe_message, "\n")] = 0;
	}
	return 0;
}

static int prepare(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	const struct bpf_insn *insn = bpf_program__insns(prog);
	size_t cnt = bpf_program__insn_cnt(prog);
	struct result *r = lookup(bpf_program__name(prog), 1);
	struct bpf_insn repl[16];

	(void)cookie;
	if (!r || cnt == 0 || cnt > 16)
		return -EINVAL;
	if (insn[0].code == (BPF_JMP | BPF_CALL) && insn[0].imm == POISON_IMM) {
		r->state = 2;
	} else if (insn[0].code == (BPF_LD | BPF_IMM | BPF_DW) && cnt >= 2) {
		r->state = 1;
		r->value = (unsigned long long)(unsigned int)insn[0].imm | ((unsigned long long)(unsigned int)insn[1].imm << 32);
	} else if (insn[0].code == (BPF_ALU64 | BPF_MOV | BPF_K)) {
		r->state = 1;
		r->value = (unsigned long long)(long long)insn[0].imm;
	} else if (insn[0].code == (BPF_ALU | BPF_MOV | BPF_K)) {
		r->state = 1;
		r->value = (unsigned int)insn[0].imm;
	} else {
		fprintf(stderr, "prog '%s': unexpected first insn code 0x%02x\n", bpf_program__name(prog), insn[0].code);
		return -EINVAL;
	}
	/* the kernel gets a harmless program of the same length: r0 = 0; ...; exit */
	memset(repl, 0, sizeof(repl));
	for (size_t i = 0; i + 1 < cnt; i++)
		repl[i].code = BPF_ALU64 | BPF_MOV | BPF_K;
	repl[cnt - 1].code = BPF_JMP | BPF_EXIT;
	opts->line_info = NULL;
	opts->line_info_cnt = 0;
	opts->line_info_rec_size = 0;
	return bpf_program__set_insns(prog, repl, cnt);
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(libbpf_prog_handler_opts, hopts, .prog_prepare_load_fn = prepare);
	struct rlimit rl;
	int attempts = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJECT.o TARGET.btf [-v]\n", argv[0]);
		return 2;
	}
	verbose = argc > 3 && strcmp(argv[3], "-v") == 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	libbpf_set_print(print_fn);
	if (libbpf_register_prog_handler("oracle", BPF_PROG_TYPE_SOCKET_FILTER, 0, &hopts) < 0) {
		fprintf(stderr, "libbpf_register_prog_handler failed\n");
		return 2;
	}

	for (;;) {
		LIBBPF_OPTS(bpf_object_open_opts, oopts, .btf_custom_path = argv[2]);
		struct bpf_object *obj;
		struct bpf_program *prog;
		int err;

		if (++attempts > 2000) {
			fprintf(stderr, "too many failing relocations\n");
			return 2;
		}
		obj = bpf_object__open_file(argv[1], &oopts);
		if (!obj) {
			fprintf(stderr, "bpf_object__open_file(%s): %s\n", argv[1], strerror(errno));
			return 2;
		}
		bpf_object__for_each_program(prog, obj) {
			struct result *r = lookup(bpf_program__name(prog), 1);
			if (r && r->state == 3)
				bpf_program__set_autoload(prog, false);
			else if (r)
				r->state = 0;
		}
		last_failed[0] = 0;
		last_message[0] = 0;
		err = bpf_object__load(obj);
		if (err == 0) {
			bpf_object__close(obj);
			break;
		}
		bpf_object__close(obj);
		if (last_failed[0]) {
			struct result *r = lookup(last_failed, 0);
			if (r && r->state != 3) {
				r->state = 3;
				r->error = strdup(last_message[0] ? last_message : "failed to relocate");
				continue;
			}
		}
		if (probe_message[0] || err == -EPERM) {
			fprintf(stderr, "bpf() unavailable: %s (%s)\n", probe_message[0] ? probe_message : "", strerror(-err));
			return 3;
		}
		fprintf(stderr, "bpf_object__load failed: %s\n", strerror(-err));
		return 1;
	}

	for (int i = 0; i < nresults; i++) {
		struct result *r = &results[i];
		if (!r->name)
			continue;
		switch (r->state) {
		case 1: printf("%s value %llu\n", r->name, r->value); break;
		case 2: printf("%s poison\n", r->name); break;
		case 3: printf("%s error %s\n", r->name, r->error); break;
		default: printf("%s unseen\n", r->name); break;
		}
	}
	fprintf(stderr, "%d programs, %d load attempt(s)\n", nresults, attempts);
	return 0;
}
