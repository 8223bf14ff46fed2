// SPDX-License-Identifier: MIT
/*
 * btf_oracle: libbpf's view of a BTF file, used by tests/BtfBindings.Tests/Btf/LibbpfOracleTests.cs
 * as independent truth for Btf.ResolveSize / Btf.AlignOf / Btf.PointerSize.
 *
 * Build: gcc -O2 -o btf_oracle btf_oracle.c -lbpf
 * Usage: btf_oracle FILE [BASE]
 *
 * FILE (and BASE) may be raw BTF or an ELF file with a .BTF section (libbpf's btf__parse).
 * With BASE, FILE is parsed as split BTF over it (btf__parse_split) and only FILE's own
 * types are listed.
 *
 * Output (text, one record per line):
 *   count N            btf__type_cnt (all ids including void and base types)
 *   first N            first id listed (1, or the base's type count)
 *   ptr N              btf__pointer_size (0 when libbpf cannot tell)
 *   ID SIZE ALIGN      per type: SIZE is btf__resolve_size, or E<errno> when it fails;
 *                      ALIGN is btf__align_of, or E<errno> when it returns <= 0
 * then "end".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	struct btf *base = NULL, *btf;
	unsigned int first = 1, cnt, id;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s FILE [BASE]\n", argv[0]);
		return 2;
	}
	libbpf_set_print(quiet_print);

	if (argc == 3) {
		base = btf__parse(argv[2], NULL);
		if (!base) {
			fprintf(stderr, "cannot parse base %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		btf = btf__parse_split(argv[1], base);
		first = btf__type_cnt(base);
	} else {
		btf = btf__parse(argv[1], NULL);
	}
	if (!btf) {
		fprintf(stderr, "cannot parse %s: %s\n", argv[1], strerror(errno));
		return 1;
	}

	cnt = btf__type_cnt(btf);
	printf("count %u\nfirst %u\nptr %zu\n", cnt, first, btf__pointer_size(btf));
	for (id = first; id < cnt; id++) {
		long long size;
		int align;

		errno = 0;
		size = btf__resolve_size(btf, id);
		if (size < 0)
			printf("%u E%lld", id, -size);
		else
			printf("%u %lld", id, size);

		errno = 0;
		align = btf__align_of(btf, id);
		if (align <= 0)
			printf(" E%d\n", align < 0 ? -align : (errno ? errno : EINVAL));
		else
			printf(" %d\n", align);
	}
	printf("end\n");

	btf__free(btf);
	btf__free(base);
	return 0;
}
