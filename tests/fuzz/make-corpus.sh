#!/usr/bin/env bash
# Regenerates the fuzzing seed corpora (tests/fuzz/corpus/<harness>/) and the fixed CO-RE input
# (tests/fuzz/fixed/core-local.btf) from tests/fixtures, with the project's own `btfgen minimize/extract`
# and the system's gzip, xz, lz4 and tar. Every seed is <= 64 KiB; the whole corpus stays well under 2 MiB.
#
#   bash tests/fuzz/make-corpus.sh
#
# Needs: dotnet, python3, gzip, xz-utils, lz4, tar (apt-get install -y xz-utils lz4).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixtures=$root/tests/fixtures
corpus=$here/corpus
for tool in python3 gzip xz lz4 tar; do
  command -v "$tool" >/dev/null || { echo "make-corpus.sh: $tool is missing (apt-get install -y xz-utils lz4)" >&2; exit 1; }
done

dotnet build "$root/src/BtfBindings.Cli" -c Release -v q -nologo >/dev/null
btfgen() { dotnet "$root/src/BtfBindings.Cli/bin/Release/net10.0/btfgen.dll" "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for k in x86_64-6.12 x86_64-5.10 s390x-6.12 i686-6.1; do gunzip -c "$fixtures/$k.btf.gz" > "$k.btf"; done
for f in bpf-features bpf-features-eb elf32be-ppc; do gunzip -c "$fixtures/$f.o.gz" > "$f.o"; done
gunzip -c "$fixtures/x86_64-6.12-ip_vs.ko.gz" > ip_vs.ko
for f in local target-i386; do gunzip -c "$fixtures/core/$f.o.gz" > "core-$f.o"; done

min() { local src=$1 out=$2; shift 2; btfgen minimize --btf "$src" -o "$out" "$@" >/dev/null 2>&1; }
core_types=(iphdr tcphdr sk_buff pageflags bpf_attr)
min x86_64-6.12.btf small.btf iphdr tcphdr pageflags
min x86_64-6.12.btf task_struct.btf task_struct
min x86_64-6.12.btf core-x86_64-6.12.btf "${core_types[@]}"
min x86_64-5.10.btf core-x86_64-5.10.btf "${core_types[@]}"
min s390x-6.12.btf core-s390x-6.12.btf "${core_types[@]}"
min i686-6.1.btf core-i686-6.1.btf "${core_types[@]}"
btfgen extract bpf-features.o -o bpf-features.btf >/dev/null 2>&1
btfgen extract bpf-features-eb.o -o bpf-features-eb.btf >/dev/null 2>&1
btfgen extract elf32be-ppc.o -o elf32be-ppc.btf >/dev/null 2>&1
btfgen extract ip_vs.ko -o ip_vs.split.btf >/dev/null 2>&1
touch -d @0 ./*

# The made seeds are replaced; the AFL queue entries grow-corpus.sh added (q-*) stay.
find "$corpus" -type f ! -name 'q-*' -delete 2>/dev/null
mkdir -p "$corpus"/{btf,split,elf,gzip,xz,lzma,tar,lz4,kernel,core,scan}

# Raw BTF: little/big-endian, 32/64-bit, vmlinux-like and clang-made (DATASEC, VAR, DECL_TAG, TYPE_TAG, FLOAT, FUNC).
cp small.btf "$corpus/btf/iphdr-tcphdr-pageflags.btf"
cp task_struct.btf "$corpus/btf/task_struct.btf"
cp core-s390x-6.12.btf "$corpus/btf/s390x-bigendian.btf"
cp core-i686-6.1.btf "$corpus/btf/i686-32bit.btf"
cp bpf-features.btf "$corpus/btf/bpf-features.btf"
cp bpf-features-eb.btf "$corpus/btf/bpf-features-eb.btf"
cp elf32be-ppc.btf "$corpus/btf/elf32be-ppc.btf"

# Split BTF over the fixed base (the harness loads tests/fixtures/x86_64-6.12.btf.gz): ip_vs.ko's .BTF.
cp ip_vs.split.btf "$corpus/split/ip_vs.split.btf"

# ELF: ELF64 LE/BE, ELF32 LE/BE, a kernel module (split .BTF), clang BPF objects.
cp bpf-features.o "$corpus/elf/bpf-features.o"
cp bpf-features-eb.o "$corpus/elf/bpf-features-eb.o"
cp elf32be-ppc.o "$corpus/elf/elf32be-ppc.o"
cp core-local.o "$corpus/elf/core-local.o"
cp core-target-i386.o "$corpus/elf/core-target-i386-elf32.o"
cp ip_vs.ko "$corpus/elf/ip_vs.ko"

# gzip: plain (-n), with FNAME (+ mtime), and every optional header field (FEXTRA, FNAME, FCOMMENT, FHCRC).
gzip -9nc small.btf > "$corpus/gzip/small.btf.gz"
touch -d @1000000000 elf32be-ppc.o && gzip -9c elf32be-ppc.o > "$corpus/gzip/elf32be-ppc.o.gz"
python3 - "$corpus/gzip/all-header-fields.btf.gz" small.btf <<'EOF'
import sys, zlib, struct
out, src = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
hdr = bytes([0x1f, 0x8b, 8, 2 | 4 | 8 | 16]) + struct.pack('<I', 0) + bytes([2, 3])
hdr += struct.pack('<H', 6) + b'AB\x02\x00xy'          # FEXTRA: one subfield
hdr += b'small.btf\x00' + b'a comment\x00'            # FNAME, FCOMMENT
hdr += struct.pack('<H', zlib.crc32(hdr) & 0xffff)      # FHCRC
c = zlib.compressobj(9, zlib.DEFLATED, -15)
body = c.compress(data) + c.flush()
open(out, 'wb').write(hdr + body + struct.pack('<II', zlib.crc32(data) & 0xffffffff, len(data)))
EOF

# xz: every check type, BCJ and delta filters, concatenated streams with padding, and a BTFHub .btf.tar.xz.
xz -9 -c small.btf > "$corpus/xz/crc64.btf.xz"
xz -9 -C crc32 -c small.btf > "$corpus/xz/crc32.btf.xz"
xz -9 -C sha256 -c small.btf > "$corpus/xz/sha256.btf.xz"
xz -9 -C none -c small.btf > "$corpus/xz/nocheck.btf.xz"
xz --x86 --lzma2=preset=6 -c elf32be-ppc.o > "$corpus/xz/bcj-x86.o.xz"
xz --delta=dist=4 --lzma2=preset=6 -c small.btf > "$corpus/xz/delta.btf.xz"
{ xz -C crc32 -c small.btf; head -c 8 /dev/zero; xz -C crc32 -c elf32be-ppc.btf; } > "$corpus/xz/two-streams-padded.xz"
mkdir -p hub && cp small.btf hub/5.10.0-1-amd64.btf && touch -d @0 hub/5.10.0-1-amd64.btf
tar -b 1 --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner -C hub -cf - 5.10.0-1-amd64.btf | xz -9 -C crc64 > "$corpus/xz/btfhub.btf.tar.xz"

# lzma: raw LZMA2 (xz --format=raw) behind a selector byte (filter chain) and the dictionary-size byte, which the
# harness wraps in a valid xz container (BtfBindings.Fuzz/XzWrap.cs). Uncompressed chunks from incompressible data too.
lzma_seed() { local name=$1 sel=$2 src=$3; shift 3
  { printf "\\x$(printf %02x "$sel")\\x10"; xz --format=raw "$@" --lzma2=preset=6,dict=1MiB -c "$src"; } > "$corpus/lzma/$name"; }
lzma_seed lzma2.bin 0 small.btf
lzma_seed delta4.bin $((1 | (3 << 4))) small.btf --delta=dist=4
lzma_seed x86.bin 2 elf32be-ppc.o --x86
lzma_seed powerpc.bin 3 elf32be-ppc.o --powerpc
lzma_seed ia64.bin 4 small.btf --ia64
lzma_seed arm.bin 5 small.btf --arm
lzma_seed armthumb.bin 6 small.btf --armthumb
lzma_seed sparc.bin 7 small.btf --sparc
lzma_seed arm64.bin 8 small.btf --arm64
python3 -c 'import sys; x = 12345; sys.stdout.buffer.write(bytes(((x := (x * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff for _ in range(3000)))' > noise.bin
lzma_seed stored-chunks.bin 0 noise.bin

# tar: ustar, GNU (long name), pax (long name, extended header), two members, a non-.btf member holding BTF.
longname=$(printf 'd%.0s' $(seq 1 60))/$(printf 'k%.0s' $(seq 1 60)).btf
mkdir -p "hub/$(dirname "$longname")" && cp small.btf "hub/$longname" && touch -d @0 "hub/$longname"
tarc() { tar -b 1 --mtime=@0 --owner=0 --group=0 --numeric-owner -C hub "$@"; }
tarc --format=ustar -cf "$corpus/tar/ustar.btf.tar" 5.10.0-1-amd64.btf
tarc --format=gnu -cf "$corpus/tar/gnu-longname.btf.tar" "$longname"
tarc --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$corpus/tar/pax-longname.btf.tar" "$longname"
cp elf32be-ppc.btf hub/readme && touch -d @0 hub/readme
tarc --format=ustar -cf "$corpus/tar/two-members.tar" readme 5.10.0-1-amd64.btf
cp small.btf hub/vmlinux && touch -d @0 hub/vmlinux
tarc --format=ustar -cf "$corpus/tar/unnamed-btf-member.tar" vmlinux

# LZ4 legacy frames (lz4 -l, what CONFIG_KERNEL_LZ4 uses): BTF, an ELF, and the kernel's trailing size word.
lz4 -l -9 -q -c small.btf > "$corpus/lz4/small.btf.lz4"
lz4 -l -9 -q -c elf32be-ppc.o > "$corpus/lz4/elf32be-ppc.o.lz4"
{ cat "$corpus/lz4/small.btf.lz4"; python3 -c 'import sys,struct,os; sys.stdout.buffer.write(struct.pack("<I", os.path.getsize("small.btf")))'; } > "$corpus/lz4/with-size-trailer.lz4"

# Kernel images: tiny bzImage (gzip, xz and lz4 payloads), EFI zboot, Image.gz, and a raw image with BTF inside.
gzip -9nc small.btf > payload.gz
xz -9 -C crc32 -c small.btf > payload.xz
lz4 -l -9 -q -c small.btf > payload.lz4
python3 - "$corpus/kernel" small.btf payload.gz payload.xz payload.lz4 <<'EOF'
import sys, struct, gzip, os
out, btf = sys.argv[1], open(sys.argv[2], 'rb').read()
payloads = {'gzip': open(sys.argv[3], 'rb').read(), 'xz': open(sys.argv[4], 'rb').read(), 'lz4': open(sys.argv[5], 'rb').read()}
def bzimage(payload):
    setup_sects = 1
    img = bytearray((setup_sects + 1) * 512)
    img[0x1f1] = setup_sects
    img[0x1fe:0x200] = b'\x55\xaa'
    img[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', img, 0x206, 0x20f)            # boot protocol 2.15
    struct.pack_into('<I', img, 0x248, 16)              # payload_offset (from the protected-mode code)
    struct.pack_into('<I', img, 0x24c, len(payload))    # payload_length
    img += b'\x90' * 16 + payload + struct.pack('<I', len(btf))
    return bytes(img)
for name, p in payloads.items():
    open(os.path.join(out, 'bzImage-' + name), 'wb').write(bzimage(p))
z = bytearray(64)
z[0:2] = b'MZ'; z[4:8] = b'zimg'
struct.pack_into('<II', z, 8, 64, len(payloads['gzip']))
z[24:28] = b'gzip'
open(os.path.join(out, 'efi-zboot-gzip'), 'wb').write(bytes(z) + payloads['gzip'])
image = b'\x00' * 0x40 + b'ARM\x64' + b'\xaa' * 0x1bc + btf + b'\x00' * 64      # arm64 Image-like: BTF at 0x200
open(os.path.join(out, 'Image.gz'), 'wb').write(gzip.compress(image, 9, mtime=0))
open(os.path.join(out, 'raw-image'), 'wb').write(image)
junk = bytes((i * 7) & 0xff for i in range(300))
open(os.path.join(out, 'embedded-gzip-payload'), 'wb').write(junk + payloads['gzip'] + junk)  # found by the payload scan
EOF

# CO-RE targets: the same five types from four kernels (x86_64 6.12 = the build-time side, 5.10, s390x big-endian, i686).
for k in x86_64-6.12 x86_64-5.10 s390x-6.12 i686-6.1; do cp "core-$k.btf" "$corpus/core/$k.btf"; done
mkdir -p "$here/fixed"
cp core-x86_64-6.12.btf "$here/fixed/core-local.btf"

# Compiled assemblies for the scanner (a probe built with the generator; its own script, runnable alone).
bash "$here/make-scan-corpus.sh" >/dev/null

big=$(find "$corpus" -type f -size +64k)
[ -z "$big" ] || { echo "make-corpus.sh: seeds over 64 KiB: $big" >&2; exit 1; }
total=$(du -cb $(find "$corpus" -type f) | tail -1 | cut -f1)
echo "corpus: $(find "$corpus" -type f | wc -l) files, $total bytes"
[ "$total" -le $((2 << 20)) ] || { echo "make-corpus.sh: corpus over 2 MiB" >&2; exit 1; }
