using System;
using System.Buffers.Binary;

namespace BtfBindings
{
    public sealed partial class Btf
    {
        /// <summary>Validating parser: header, byte order, section bounds, then every type record, the rules of libbpf's <c>btf_parse</c> + <c>btf_sanity_check</c>.</summary>
        private sealed class Parser
        {
            private readonly byte[] _d;
            private readonly string _src;
            private readonly Btf? _base;
            private readonly long _srcOff;
            private int _typeStart, _typeEnd, _strStart, _strLen, _hdrLen;
            private byte[]? _layout;
            private bool _bigEndian;

            private readonly int _givenPointerSize;

            public Parser(byte[] data, string source, Btf? baseBtf, long sourceOffset, int pointerSize)
            {
                _d = data; _src = source; _base = baseBtf; _srcOff = sourceOffset; _givenPointerSize = pointerSize;
            }

            private BtfException Err(string msg, long offset, int? typeId = null)
                => new BtfException(msg, _src, _srcOff + offset, typeId);

            private uint U32(int off) => BinaryPrimitives.ReadUInt32LittleEndian(_d.AsSpan(off, 4));

            public Btf Run()
            {
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("BtfBindings reads BTF on little-endian hosts only");
                ParseHeader();
                if (_base != null && _base.IsBigEndian != _bigEndian)
                    throw Err($"split BTF is {(_bigEndian ? "big" : "little")}-endian but its base '{_base.SourceName}' is not", 0);
                if (_bigEndian) SwapToLittleEndian();
                ValidateStrings();

                int firstId = _base?.TypeCount ?? 1;
                // One pass over the records: offsets, kinds, string checks, the largest referenced id and the
                // name index. Referenced ids are checked against the final count afterwards (they may point forward).
                var pool = System.Buffers.ArrayPool<int>.Shared;
                int maxRecords = (_typeEnd - _typeStart) / TypeHeaderSize + 1;
                var tmp = pool.Rent(maxRecords);
                var kindsTmp = System.Buffers.ArrayPool<byte>.Shared.Rent(maxRecords);
                var hashTmp = System.Buffers.ArrayPool<uint>.Shared.Rent(maxRecords);
                int[] offsets;
                byte[] kinds;
                NameIndex index;
                int ptrSize;
                try
                {
                    int count = WalkRecords(tmp, kindsTmp, firstId);
                    var (maxRef, ptr, named) = ValidateAll(tmp, kindsTmp, hashTmp, count, firstId);
                    ptrSize = ptr;
                    if ((long)firstId + count > 0x7FFFFFF0) throw Err($"too many types ({count})", 0);
                    offsets = new int[count];
                    Array.Copy(tmp, offsets, count);
                    kinds = new byte[count];
                    Array.Copy(kindsTmp, kinds, count);
                    if (maxRef >= (uint)(firstId + count)) LocateBadId(offsets, firstId);
                    CheckFuncs(offsets, kinds, firstId);
                    index = NameIndex.FromHashes(hashTmp, count, named, firstId);
                }
                finally
                {
                    pool.Return(tmp);
                    System.Buffers.ArrayPool<byte>.Shared.Return(kindsTmp);
                    System.Buffers.ArrayPool<uint>.Shared.Return(hashTmp);
                }

                if (_givenPointerSize != 0) ptrSize = _givenPointerSize;
                bool known = ptrSize != 0;
                if (!known) ptrSize = 8;
                if (!known && _base != null && _base.PointerSizeKnown) { ptrSize = _base.PointerSize; known = true; }
                return new Btf(_d, _strStart, _strLen, offsets, kinds, index, _layout, _base, _src, _bigEndian, _hdrLen, ptrSize, known);
            }

            // Per kind (index = kind, 0..19): bytes after the 12-byte header, and bytes per vlen element; -1 = not a known kind.
            private static readonly sbyte[] FixedExtra = { -1, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 4, 0, 0 };
            private static readonly byte[] ElemSize = { 0, 0, 0, 0, 12, 12, 8, 0, 0, 0, 0, 0, 0, 8, 0, 12, 0, 0, 0, 12 };

            /// <summary>Pass 1 (sequential by nature: each record's size gives the next one's offset): offsets and kinds.</summary>
            private unsafe int WalkRecords(int[] offs, byte[] kinds, int firstId)
            {
                int n = 0;
                int off = _typeStart, end = _typeEnd;
                fixed (byte* p = _d)
                {
                    while (off < end)
                    {
                        if (end - off < TypeHeaderSize)
                            throw Err($"type record truncated: {end - off} bytes left in the type section, need 12", off, firstId + n);
                        uint info = *(uint*)(p + off + 4);
                        int kind = (int)((info >> 24) & 0x7f);
                        int vlen = (int)(info & 0xffffff);
                        long size;
                        if (kind < 20 && FixedExtra[kind] >= 0) size = TypeHeaderSize + FixedExtra[kind] + (long)vlen * ElemSize[kind];
                        else size = UnknownKindSize(kind, vlen, off, firstId + n);
                        if (size > end - off)
                            throw Err($"{KindName(kind)} record with vlen {vlen} needs {size} bytes but only {end - off} remain in the type section", off, firstId + n);
                        offs[n] = off;
                        kinds[n] = (byte)kind;
                        n++;
                        off += (int)size;
                    }
                }
                return n;
            }

            /// <summary>
            /// Pass 2: string offsets, the largest referenced id, the pointer size and every name's hash. Records are
            /// independent here, so large inputs are split across two threads; the first error in id order wins.
            /// </summary>
            private (uint maxRef, int ptrSize, int named) ValidateAll(int[] offs, byte[] kinds, uint[] hashes, int count, int firstId)
            {
                if (count < 32768 || Environment.ProcessorCount < 2)
                {
                    var r = ValidateRange(offs, kinds, hashes, 0, count, firstId);
                    return (r.maxRef, r.ptrSize, r.named);
                }
                int mid = count / 2;
                // A plain Task (not Task<tuple>): no generic instantiation over a value type for the runtime to compile at start-up.
                (uint maxRef, int ptrSize, int named) b = default;
                var second = System.Threading.Tasks.Task.Run(() => { b = ValidateRange(offs, kinds, hashes, mid, count, firstId); });
                (uint maxRef, int ptrSize, int named) a;
                try { a = ValidateRange(offs, kinds, hashes, 0, mid, firstId); }
                catch (BtfException) { try { second.Wait(); } catch (AggregateException) { } throw; }
                second.GetAwaiter().GetResult();
                return (Math.Max(a.maxRef, b.maxRef), a.ptrSize != 0 ? a.ptrSize : b.ptrSize, a.named + b.named);
            }

            private unsafe (uint maxRef, int ptrSize, int named) ValidateRange(int[] offs, byte[] kinds, uint[] hashes, int from, int to, int firstId)
            {
                int named = 0, ptrSize = 0;
                uint strEnd = (uint)((_base?.StringsEnd ?? 0) + _strLen);
                uint baseStrEnd = (uint)(_base?.StringsEnd ?? 0);
                uint mref = 0;
                fixed (byte* p = _d)
                {
                    byte* strs = p + _strStart - baseStrEnd; // strs + nameOff addresses local strings
                    byte* strLimit = p + _strStart + _strLen;
                    for (int n = from; n < to; n++)
                    {
                        int id = firstId + n;
                        int off = offs[n];
                        uint* w = (uint*)(p + off);
                        int vlen = (int)(w[1] & 0xffffff);
                        uint nameOff = w[0];
                        if (nameOff != 0)
                        {
                            if (nameOff >= strEnd) BadStr("type name", nameOff, strEnd, off, id);
                            hashes[n] = nameOff >= baseStrEnd ? NameIndex.HashZ(strs + nameOff, strLimit) : NameIndex.Hash(_base!.StringBytes(nameOff));
                            named++;
                        }
                        else hashes[n] = 0;
                        uint t = w[2];
                        switch ((BtfKind)kinds[n])
                        {
                            case BtfKind.Int:
                                if (ptrSize == 0 && (t == 4 || t == 8) && nameOff != 0 && IsLongName(nameOff)) ptrSize = (int)t;
                                break;
                            case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict:
                            case BtfKind.Var: case BtfKind.DeclTag: case BtfKind.TypeTag: case BtfKind.Func:
                                if (t > mref) mref = t;
                                break;
                            case BtfKind.Array:
                                if (w[3] > mref) mref = w[3];
                                if (w[4] > mref) mref = w[4];
                                break;
                            case BtfKind.Struct: case BtfKind.Union:
                                for (int m = 0; m < vlen; m++)
                                {
                                    uint* mw = w + 3 + m * 3;
                                    if (mw[0] >= strEnd) BadStr("member name", mw[0], strEnd, off + 12 + m * 12, id);
                                    if (mw[1] > mref) mref = mw[1];
                                }
                                break;
                            case BtfKind.Enum:
                                for (int m = 0; m < vlen; m++)
                                    if (w[3 + m * 2] >= strEnd) BadStr("enumerator name", w[3 + m * 2], strEnd, off + 12 + m * 8, id);
                                break;
                            case BtfKind.Enum64:
                                for (int m = 0; m < vlen; m++)
                                    if (w[3 + m * 3] >= strEnd) BadStr("enumerator name", w[3 + m * 3], strEnd, off + 12 + m * 12, id);
                                break;
                            case BtfKind.FuncProto:
                                if (t > mref) mref = t;
                                for (int m = 0; m < vlen; m++)
                                {
                                    uint* mw = w + 3 + m * 2;
                                    if (mw[0] >= strEnd) BadStr("parameter name", mw[0], strEnd, off + 12 + m * 8, id);
                                    if (mw[1] > mref) mref = mw[1];
                                }
                                break;
                            case BtfKind.DataSec:
                                for (int m = 0; m < vlen; m++)
                                    if (w[3 + m * 3] > mref) mref = w[3 + m * 3];
                                break;
                        }
                    }
                }
                return (mref, ptrSize, named);
            }

            /// <summary>Slow path after the walk found an out-of-range reference: find the first one for the message.</summary>
            private void LocateBadId(int[] offsets, int firstId)
            {
                var tmp = new Btf(_d, _strStart, _strLen, offsets, new byte[offsets.Length], null, _layout, null, _src, _bigEndian, _hdrLen, 8, false);
                uint total = (uint)(firstId + offsets.Length);
                for (int i = 0; i < offsets.Length; i++)
                {
                    int off = offsets[i];
                    uint info = U32(off + 4);
                    var kind = (BtfKind)((info >> 24) & 0x7f);
                    int vlen = (int)(info & 0xffffff);
                    void Check(int at) { uint r = U32(at); if (r >= total) BadId(r, total, at, firstId + i); }
                    switch (kind)
                    {
                        case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict:
                        case BtfKind.Var: case BtfKind.DeclTag: case BtfKind.TypeTag: case BtfKind.Func: case BtfKind.FuncProto:
                            Check(off + 8);
                            if (kind == BtfKind.FuncProto) for (int m = 0; m < vlen; m++) Check(off + 16 + m * 8);
                            break;
                        case BtfKind.Array: Check(off + 12); Check(off + 16); break;
                        case BtfKind.Struct: case BtfKind.Union: for (int m = 0; m < vlen; m++) Check(off + 16 + m * 12); break;
                        case BtfKind.DataSec: for (int m = 0; m < vlen; m++) Check(off + 12 + m * 12); break;
                    }
                }
                GC.KeepAlive(tmp);
                throw Err("refers to a type id out of range", 0);
            }

            private void CheckFuncs(int[] offsets, byte[] kinds, int firstId)
            {
                for (int i = 0; i < kinds.Length; i++)
                {
                    if (kinds[i] != (byte)BtfKind.Func) continue;
                    int t = (int)U32(offsets[i] + 8);
                    BtfKind k = t == 0 ? BtfKind.Void : t < firstId ? _base![t].Kind : (BtfKind)kinds[t - firstId];
                    if (k != BtfKind.FuncProto)
                        throw Err($"FUNC refers to type [{t}] which is {KindName((int)k)}, not FUNC_PROTO", offsets[i] + 8, firstId + i);
                }
            }

            private void ParseHeader()
            {
                if (_d.Length < 24) throw Err($"truncated: {_d.Length} bytes is shorter than the 24-byte BTF header", 0);
                ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(_d);
                if (magic == BtfMagic) _bigEndian = false;
                else if (magic == 0x9FEB) _bigEndian = true;
                else throw Err($"bad magic 0x{magic:x4} (expected 0xeb9f in either byte order)", 0);

                uint Hdr(int o) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_d.AsSpan(o, 4)) : BinaryPrimitives.ReadUInt32LittleEndian(_d.AsSpan(o, 4));
                if (_d[2] != 1) throw Err($"unsupported BTF version {_d[2]} (expected 1)", 2);
                if (_d[3] != 0) throw Err($"unsupported BTF header flags 0x{_d[3]:x2}", 3);
                uint hdrLen = Hdr(4);
                if (hdrLen < 24) throw Err($"header length {hdrLen} is smaller than 24", 4);
                if (hdrLen > (uint)_d.Length) throw Err($"header length {hdrLen} exceeds the data size {_d.Length}", 4);
                _hdrLen = (int)hdrLen;
                uint typeOff = Hdr(8), typeLen = Hdr(12), strOff = Hdr(16), strLen = Hdr(20);
                uint layoutOff = 0, layoutLen = 0;
                if (hdrLen >= 32) { layoutOff = Hdr(24); layoutLen = Hdr(28); }

                long metaLeft = _d.Length - (long)hdrLen;
                if ((long)strOff + strLen > metaLeft)
                    throw Err($"string section [{strOff}, +{strLen}) runs past the end of the data ({metaLeft} bytes after the header)", 16);
                if ((long)typeOff + typeLen > strOff)
                    throw Err($"type section [{typeOff}, +{typeLen}) overlaps the string section at {strOff}", 8);
                if (typeOff % 4 != 0) throw Err($"type section offset {typeOff} is not 4-byte aligned", 8);
                if (typeLen % 4 != 0) throw Err($"type section length {typeLen} is not a multiple of 4", 12);
                if (layoutLen != 0)
                {
                    if (layoutOff % 4 != 0) throw Err($"kind layout section offset {layoutOff} is not 4-byte aligned", 24);
                    if (layoutOff < (long)typeOff + typeLen) throw Err($"kind layout section at {layoutOff} overlaps the type section", 24);
                    if ((long)layoutOff + layoutLen > strOff) throw Err($"kind layout section [{layoutOff}, +{layoutLen}) overlaps the string section at {strOff}", 24);
                    if (layoutLen % 4 != 0) throw Err($"kind layout section length {layoutLen} is not a multiple of 4", 28);
                    _layout = new byte[layoutLen];
                    Buffer.BlockCopy(_d, (int)(hdrLen + layoutOff), _layout, 0, (int)layoutLen);
                    if (_bigEndian)
                        for (int i = 0; i < _layout.Length; i += 4) { var t = _layout[i + 2]; _layout[i + 2] = _layout[i + 3]; _layout[i + 3] = t; }
                }
                _typeStart = (int)(hdrLen + typeOff);
                _typeEnd = _typeStart + (int)typeLen;
                _strStart = (int)(hdrLen + strOff);
                _strLen = (int)strLen;
            }

            private void SwapToLittleEndian()
            {
                // Every BTF type record is made of 32-bit words, so swapping word by word is exact.
                for (int o = _typeStart; o < _typeEnd; o += 4)
                {
                    var t = _d[o]; _d[o] = _d[o + 3]; _d[o + 3] = t;
                    t = _d[o + 1]; _d[o + 1] = _d[o + 2]; _d[o + 2] = t;
                }
            }

            private void ValidateStrings()
            {
                if (_base != null && _strLen == 0) return;
                if (_strLen == 0) throw Err("empty string section", _strStart);
                if (_strLen - 1 > 0x7FFFFFFF - 1) throw Err("string section too large", _strStart);
                if (_d[_strStart + _strLen - 1] != 0) throw Err("string section is not NUL-terminated", _strStart + _strLen - 1);
                if (_base == null && _d[_strStart] != 0)
                    throw Err("string section does not start with an empty string; is this split BTF that needs its base (--base)?", _strStart);
            }

            private long UnknownKindSize(int kind, long vlen, int off, int id)
            {
                var layout = _layout ?? _base?._kindLayout;
                if (layout == null || (kind + 1) * 4 > layout.Length)
                    throw Err($"unknown BTF kind {kind} and no kind layout section describes it", off, id);
                int infoSz = layout[kind * 4], elemSz = layout[kind * 4 + 1];
                if (infoSz % 4 != 0 || elemSz % 4 != 0)
                    throw Err($"kind layout for kind {kind} has unaligned sizes (info {infoSz}, element {elemSz})", off, id);
                return TypeHeaderSize + infoSz + vlen * elemSz;
            }

            [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
            private void BadStr(string what, uint strOff, uint strEnd, int at, int id)
                => throw Err($"{what} string offset {strOff} is outside the string section (length {strEnd})", at, id);

            [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
            private void BadId(uint refId, uint total, int at, int id)
                => throw Err($"refers to type id {refId}, but the BTF has only {total} ids", at, id);

            private BtfKind KindOf(int id, int[] offsets, int firstId)
            {
                if (id == 0) return BtfKind.Void;
                if (id < firstId) return _base![id].Kind;
                return (BtfKind)((U32(offsets[id - firstId] + 4) >> 24) & 0x7f);
            }

            private static readonly string[] LongAliases =
            {
                "long", "long int", "int long", "unsigned long", "long unsigned", "unsigned long int",
                "unsigned int long", "long unsigned int", "long int unsigned", "int unsigned long", "int long unsigned",
            };

            private bool IsLongName(uint nameOff)
            {
                if (nameOff == 0) return false;
                var b = StringAt(nameOff);
                if (b.Length < 4 || b.Length > 17) return false;
                foreach (var a in LongAliases)
                {
                    if (a.Length != b.Length) continue;
                    bool eq = true;
                    for (int i = 0; i < a.Length && eq; i++) eq = a[i] == b[i];
                    if (eq) return true;
                }
                return false;
            }

            private ReadOnlySpan<byte> StringAt(uint off)
            {
                int baseEnd = _base?.StringsEnd ?? 0;
                if (off < (uint)baseEnd) return _base!.StringBytes(off);
                int local = (int)(off - (uint)baseEnd);
                var span = _d.AsSpan(_strStart + local, _strLen - local);
                int nul = span.IndexOf((byte)0);
                return nul < 0 ? span : span.Slice(0, nul);
            }
        }

        internal static string KindName(int kind) => kind switch
        {
            0 => "UNKNOWN", 1 => "INT", 2 => "PTR", 3 => "ARRAY", 4 => "STRUCT", 5 => "UNION", 6 => "ENUM", 7 => "FWD",
            8 => "TYPEDEF", 9 => "VOLATILE", 10 => "CONST", 11 => "RESTRICT", 12 => "FUNC", 13 => "FUNC_PROTO",
            14 => "VAR", 15 => "DATASEC", 16 => "FLOAT", 17 => "DECL_TAG", 18 => "TYPE_TAG", 19 => "ENUM64",
            _ => "UNKNOWN",
        };
    }
}
