#!/usr/bin/env python3
"""Writes the hand-made regression inputs (the fuzzer's own finds are committed as they were minimized).

    python3 tests/fuzz/regressions/make-regressions.py

Each file is named after the bug it hits; README.md in tests/fuzz lists them with their status.
"""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


class Strings:
    def __init__(self):
        self.data = b'\0'
        self.offsets = {'': 0}

    def __call__(self, s):
        if s not in self.offsets:
            self.offsets[s] = len(self.data)
            self.data += s.encode() + b'\0'
        return self.offsets[s]


def rec(name, kind, vlen, size_or_type, *extra, kflag=0):
    """One BTF type record: name offset, info (kind, vlen, kind_flag), size/type, then the kind's extra words."""
    head = struct.pack('<III', name, (kind << 24) | vlen | (kflag << 31), size_or_type)
    return head + b''.join(struct.pack('<I', e) for e in extra)


def btf(types, strings):
    t = b''.join(types)
    return struct.pack('<HBBIIIII', 0xeb9f, 1, 0, 24, 0, len(t), len(t), len(strings)) + t + strings


def write(rel, data):
    path = os.path.join(here, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


INT, STRUCT, UNION = 1, 4, 5

# LayoutPlanner: an anonymous struct that contains itself by value (Shape -> BuildComposite -> Flatten -> MakeField ->
# Shape, the depth starting again at 0 each time): stack overflow.
s = Strings()
write('btf/planner-anon-struct-contains-itself.btf', btf([
    rec(s('int'), INT, 0, 4, 0x01000020),        # [1] int
    rec(0, STRUCT, 1, 4, s('a'), 2, 0),          # [2] struct { <this struct> a; }
    rec(s('outer'), STRUCT, 1, 4, s('x'), 2, 0), # [3] struct outer { struct (anon) x; }
], s.data))

# LayoutPlanner: the same recursion through an anonymous member (flattened into its parent): struct s { union { struct s; } f; }.
s = Strings()
write('btf/planner-struct-flattened-into-its-own-member.btf', btf([
    rec(s('int'), INT, 0, 4, 0x01000020),        # [1] int
    rec(s('s'), STRUCT, 1, 4, s('f'), 3, 0),     # [2] struct s { union (anon) f; }
    rec(0, UNION, 1, 4, 0, 2, 0),                # [3] union { struct s; }  (an anonymous member)
], s.data))

# KernelImage.Gunzip: the payload scan found 1f 8b 08 in the last bytes and read the flags byte past the end.
write('kernel/kernelimage-gunzip-magic-at-end.bin', b'no BTF here, just a gzip magic at the very end:\x1f\x8b\x08')
# ... and a gzip header whose FNAME has no terminating NUL (was an IndexOutOfRangeException caught and rethrown).
write('kernel/kernelimage-gunzip-fname-without-nul.bin', b'xx\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\x03abcdefghijklmnop')

# XzDecoder: an index that declares 60 MiB for a block of 1 byte; the decoder allocated min(declared, max(64 MiB,
# 64 x input)) before decoding, so this 56-byte file cost 60 MiB per call (then it is rejected). Fixed: the output grows
# from what the input can back; the xz harness's allocation budget (Contract.Budget) fails it otherwise.
import lzma
import zlib


def xz_lying_index(declared):
    data = lzma.compress(b'A', format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE)
    footer = data[-12:]
    bsize = (struct.unpack('<I', footer[4:8])[0] + 1) * 4
    index = data[-12 - bsize:-12]

    def vli(n):
        out = b''
        while True:
            b, n = n & 0x7f, n >> 7
            if not n:
                return out + bytes([b])
            out += bytes([b | 0x80])

    def readvli(b, p):
        n = s = 0
        while True:
            x = b[p]
            p += 1
            n |= (x & 0x7f) << s
            s += 7
            if not x & 0x80:
                return n, p

    count, p = readvli(index, 1)
    unpadded, p = readvli(index, p)
    body = b'\x00' + vli(count) + vli(unpadded) + vli(declared)
    body += b'\x00' * (-len(body) % 4)
    index = body + struct.pack('<I', zlib.crc32(body))
    back = struct.pack('<I', len(index) // 4 - 1)
    flags = footer[8:10]
    return data[:-12 - bsize] + index + struct.pack('<I', zlib.crc32(back + flags)) + back + flags + b'YZ'


write('xz/xzdecoder-index-declares-60MiB-allocated-up-front.xz', xz_lying_index(60 << 20))

# Lz4LegacyDecoder: a frame of one 6-byte block (5 literals) reserved one block's maximum, 8 MiB, before decoding it,
# whatever the output cap. Fixed: at most 255 bytes per input byte (LZ4's largest ratio); the lz4 budget fails it otherwise.
write('lz4/lz4-reserved-8MiB-before-a-6-byte-block.lz4', struct.pack('<II', 0x184C2102, 6) + b'\x50hello')
